/* cmd_run.c - `portwall run POLICY --iface ...`: the foreground agent for
 * systemd. Applies, reloads on SIGHUP and when the policy file (or a file
 * it includes) changes, prints drop events as log lines, and on SIGTERM
 * exits leaving enforcement in place (--unload-on-exit to detach). */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "datapath/state.h"
#include "datapath/apply.h"
#include "cli/cmds.h"
#include "datapath/exc.h"
#include "datapath/events.h"
#include "datapath/evlog.h"
#include "datapath/metrics.h"
#include "cli/metrics_http.h"
#include <systemd/sd-daemon.h>
#include "datapath/resolve.h"

struct run {
	struct pw_apply_opts o;
	struct pw_dp dp;
	struct pw_applied a;
	bool open;
	int ino;		/* inotify fd */
	int sfd;		/* signalfd: SIGHUP, SIGTERM, SIGINT */
	int evlock;		/* the drop events' lock; -1: another process reads them */
	int agent;		/* the lock of the one run per pin root */
	struct ring_buffer *rb;	/* the drop events, NULL when not ours */
	time_t next_metrics;	/* when to write the metrics file next */
	struct pw_drops_cache drops;	/* the most dropped ports, between writes */
	struct pw_metrics_ctx mctx;	/* the pin root and the reloads' outcome, for the metrics */
	struct pw_http *http;		/* --metrics-listen, NULL without */
	struct pw_names_timer names;	/* the agent's own queries about the host names */
	unsigned names_failed;		/* names the last round did not learn, as said */
	uint32_t generation;		/* in force when what is applied was read last */
	struct pw_evlog evlog;		/* the drop events, durable (evlog.h) */
};

static int on_event(void *ctx, void *data, size_t size)
{
	struct run *r = ctx;
	const struct pw_event *e = data;
	const char *ifname = NULL;
	char loc[300], line[600];

	if (size < sizeof(*e))
		return 0;
	for (int i = 0; i < r->a.meta.niface; i++)
		if (r->a.meta.iface[i].ifindex == e->ifindex)
			ifname = r->a.meta.iface[i].name;
	bool named = e->rule && r->a.have_rules && r->a.same && e->rule <= r->a.c.nrules;
	if (named)
		snprintf(loc, sizeof(loc), "%s:%d", r->a.pol.rules[e->rule - 1].file,
			 r->a.pol.rules[e->rule - 1].line);
	else if (e->rule)
		snprintf(loc, sizeof(loc), "rule=%u", e->rule);
	pw_event_format(e, pw_event_real_ms(e->ts_ns), ifname, e->rule ? loc : NULL, line, sizeof(line));
	pw_evlog_write(&r->evlog, e, &r->a, ifname, line);
	if (!r->evlog.journal)
		printf("%s\n", line);	/* else the journal has it, with its fields */
	return 0;
}

/* The events file: the one given, or the pin root's. Before applying:
 * one given that cannot be opened fails run; the default only warns. */
static int open_events(struct run *r)
{
	char path[4096], err[4600];
	const char *given = r->o.events_file;

	if (given && !*given)
		return 0;	/* --events-file "": none */
	if (given)
		snprintf(path, sizeof(path), "%s", given);
	else
		pw_evlog_default_path(r->o.root, path, sizeof(path));
	uint64_t max = r->o.events_max_size ? r->o.events_max_size : PW_EVENTS_MAX_SIZE;
	int keep = r->o.events_keep >= 0 ? r->o.events_keep : PW_EVENTS_KEEP;
	if (pw_evlog_open(&r->evlog, path, max, keep, err, sizeof(err)) == 0) {
		printf("drop events to %s (rotated at %llu bytes, %d kept)%s\n", path, (unsigned long long)max, keep,
		       r->evlog.journal ? " and to the journal" : "");
		return 0;
	}
	fprintf(stderr, "portwall run: the drop events' file: %s%s\n", err,
		given ? "; nothing was changed" : "; run goes on, events to stdout only (give --events-file)");
	return given ? -1 : 0;
}

/* Watch the directory holding path for files written whole: closed after
 * writing, or renamed into place. Not a file's creation: a slow writer's
 * half-written policy is never applied. */
static void watch_dir_of(struct run *r, const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		dir[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	inotify_add_watch(r->ino, dir, IN_CLOSE_WRITE | IN_MOVED_TO);
}

/* Is name the last part of one of the policy's files, by the name given
 * or by the file it resolves to? */
static bool policy_file_named(const struct run *r, const char *name)
{
	char real[PATH_MAX];

	for (size_t i = 0; r->a.have_rules && i < r->a.pol.nfiles; i++) {
		const char *f = r->a.pol.files[i], *base = strrchr(f, '/');
		if (strcmp(base ? base + 1 : f, name) == 0)
			return true;
		if (realpath(f, real) && strcmp(strrchr(real, '/') + 1, name) == 0)
			return true;
	}
	return false;
}

/* (Re)open the pins and what is applied, and watch the policy's files. */
static int refresh(struct run *r)
{
	char err[600];

	if (r->open) {
		pw_applied_free(&r->a);
		pw_dp_close(&r->dp);
		r->open = false;
	}
	if (pw_dp_open_pinned(&r->dp, r->o.root, err, sizeof(err))) {
		fprintf(stderr, "portwall run: %s\n", err);
		return -1;
	}
	r->open = true;
	struct pw_state st;
	r->generation = pw_dp_read_state(&r->dp, &st) ? 0 : st.generation;
	if (pw_applied_read(&r->dp, &r->a))
		return -1;
	/* watch the directories of every file the policy reads, by the name
	 * the policy gives and by the file it resolves to: editors replace
	 * files by renaming (a watch on the file would miss it), and a
	 * symlink switched to another file is a rename too */
	for (size_t i = 0; r->a.have_rules && i < r->a.pol.nfiles; i++) {
		char real[PATH_MAX];
		watch_dir_of(r, r->a.pol.files[i]);
		if (realpath(r->a.pol.files[i], real))
			watch_dir_of(r, real);
	}
	return 0;
}

/* Did an inotify event name one of the policy's files? */
static bool touches_policy(struct run *r)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool hit = false;
	ssize_t n;

	while ((n = read(r->ino, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			hit |= ev->len && policy_file_named(r, ev->name);
			p += sizeof(*ev) + ev->len;
		}
	}
	return hit;
}

/* Signals, the policy's files and the drop events, watched. Returns 0, or
 * PW_EXIT_FAIL when it has told why. */
static int start(struct run *r)
{
	sigset_t mask;
	int holder;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	r->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (r->sfd < 0 || r->ino < 0 || refresh(r)) {
		fprintf(stderr, "portwall run: setting up failed: %s\n", strerror(errno));
		return PW_EXIT_FAIL;
	}
	r->evlock = pw_events_lock(r->o.root, &holder);
	if (r->evlock < 0)
		fprintf(stderr, "portwall run: the drop events are being read by process %d: run logs none "
			"(stop that reader and restart run to log them)\n", holder);
	r->rb = r->evlock >= 0 ? ring_buffer__new(r->dp.events_fd, on_event, r, NULL) : NULL;
	if (r->evlock >= 0 && !r->rb) {
		fprintf(stderr, "portwall run: reading drop events failed: %s\n", strerror(errno));
		return PW_EXIT_FAIL;
	}
	return 0;
}

/* The metrics, every 5 seconds: rendered once, into the file and to the
 * HTTP server, which serves the same text until the next. */
static void write_metrics(struct run *r)
{
	if ((!r->o.metrics_file && !r->http) || time(NULL) < r->next_metrics)
		return;
	char err[4400], *text;
	size_t len;
	int mrc = pw_metrics_render(&r->dp, &r->a, &r->mctx, &r->drops, &text, &len, err, sizeof(err));
	if (!mrc && r->http)
		pw_http_publish(r->http, text, len);
	if (!mrc && r->o.metrics_file)
		mrc = pw_metrics_write_text(text, len, r->o.metrics_file, err, sizeof(err));
	if (mrc)
		fprintf(stderr, "portwall run: metrics: %s\n", err);
	free(text);
	r->next_metrics = time(NULL) + 5;
}

/* What the metrics say of the last reload (or the start). */
static void note_reload(struct run *r, bool ok, bool first)
{
	if (!first)
		(*(ok ? &r->mctx.reloads_ok : &r->mctx.reloads_failed))++;
	r->mctx.last_ok = ok;
	r->mctx.last_unix = time(NULL);
	r->next_metrics = 0;	/* said at once */
}

/* SIGHUP asks for a reload, SIGTERM and SIGINT for a stop. */
static void read_signals(struct run *r, bool *reload, bool *stop)
{
	struct signalfd_siginfo si;

	while (read(r->sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			*reload = true;
		else
			*stop = true;
	}
}

/* Reopen the pins and what is applied, and the drop events' ring; the
 * policy's names are due now. Returns -1 when the maps cannot be reopened. */
static int reopen(struct run *r)
{
	ring_buffer__free(r->rb);
	r->rb = NULL;
	pw_names_timer_reset(&r->names);
	if (refresh(r) == 0 && r->evlock >= 0)
		r->rb = ring_buffer__new(r->dp.events_fd, on_event, r, NULL);
	if (r->evlock >= 0 && !r->rb) {
		fprintf(stderr, "portwall run: reopening the maps failed\n");
		return -1;
	}
	return 0;
}

/* Apply the policy again and, when that put it in force, reopen what is
 * applied. Returns -1 when the maps cannot be reopened: run stops. */
static int reload_policy(struct run *r)
{
	printf("reloading %s\n", r->o.policy);
	r->o.follow_records = true;	/* as reload: the interfaces applied, by ifindex */
	if (pw_apply(r->o) != PW_EXIT_OK) {
		note_reload(r, false, false);
		printf("the policy in force is unchanged\n");
		return 0;
	}
	note_reload(r, true, false);
	return reopen(r);
}

/* Another apply, a reload or a rollback from outside put another
 * generation in force: what run knows of the policy (its names, what a
 * learned address reverts to) is read again. Returns -1 as reopen. */
static int follow_generation(struct run *r)
{
	struct pw_state st;

	if (pw_dp_read_state(&r->dp, &st) || st.generation == r->generation)
		return 0;
	printf("generation %u is in force now (applied or rolled back by another command): following it\n",
	       st.generation);
	return reopen(r);
}

/* The addresses host names learned whose lifetime has ended leave the
 * trie (docs/dns.md), once a second. Only while the policy file is the one
 * in force: its compiled tables say what an address reverts to. */
static void expire_names(struct run *r, const struct pw_state *st)
{
	if (!r->a.have_rules || !r->a.same || !r->a.c.nnames)
		return;
	uint32_t half = st->active & 1;
	int n = pw_dp_dns_expire(&r->dp, half, &r->a.c, pw_mono_ns(), st->cfg[half].dns_name_max, NULL);
	if (n < 0)
		fprintf(stderr, "portwall run: removing expired addresses of host names failed: %s\n", strerror(-n));
}

/* Timed exceptions past their expiry leave pw_exc (the datapath already
 * ignores them), under the pin root's lock; said once each. */
static void expire_exceptions(struct run *r)
{
	int n = pw_exc_expire(&r->dp);

	if (n < 0)
		fprintf(stderr, "portwall run: removing expired timed exceptions failed: %s\n", strerror(-n));
	else if (n > 0)
		printf("timed exceptions: %d expired port%s removed\n", n, n == 1 ? "" : "s");
}

/* The names whose time has come are asked again (resolve_timer.c). Said:
 * the first round after an apply, and when the failures change. */
static void resolve_names(struct run *r)
{
	struct pw_resolve_report rep;
	char err[600];
	bool first = r->names.applied;
	int n = pw_names_timer_turn(&r->names, &r->dp, &r->a, &rep, err, sizeof(err));

	if (n < 0) {
		fprintf(stderr, "portwall run: %s\n", err);
		return;
	}
	if (!n)
		return;
	size_t addrs = rep.learned + rep.refreshed;
	if (first)
		printf("host names: asked the resolvers about %zu, %zu answered: %zu address%s\n", rep.asked,
		       rep.answered, addrs, addrs == 1 ? "" : "es");
	if (rep.failed && (first || rep.failed != r->names_failed))
		fprintf(stderr, "portwall run: %zu host name%s not learned now: %s (the datapath still learns from "
			"the host's own answers; asked again in 30 s)\n", rep.failed, rep.failed == 1 ? "" : "s",
			rep.first_failure);
	else if (!rep.failed && r->names_failed)
		printf("host names: every name asked is answered again\n");
	r->names_failed = (unsigned)rep.failed;
}

/* The host names' upkeep changes the tries an apply or a rollback copies
 * learned addresses into: it runs under the pin root's lock, and only
 * while what run read is the policy in force (else the next turn follows
 * the new one first). Skipped for a turn while another command holds the
 * lock. Expired timed exceptions go under the same lock, whatever policy
 * is in force (they belong to none). */
static void names_upkeep(struct run *r)
{
	char err[600];
	struct pw_state st;
	int lock = pw_lock_try(r->o.root, err, sizeof(err));

	if (lock < 0) {
		if (lock != -EWOULDBLOCK)
			fprintf(stderr, "portwall run: %s\n", err);
		return;
	}
	if (pw_dp_read_state(&r->dp, &st) == 0 && st.generation == r->generation) {
		expire_names(r, &st);
		resolve_names(r);
	}
	expire_exceptions(r);
	close(lock);
}

/* One turn: wait up to a second for a signal, a change to the policy's
 * files or drop events, and act on them. Returns false to stop. */
static bool turn(struct run *r)
{
	bool reload = false, stop = false;
	struct pollfd p[3] = {
		{ .fd = r->sfd, .events = POLLIN },
		{ .fd = r->ino, .events = POLLIN },
		{ .fd = r->rb ? ring_buffer__epoll_fd(r->rb) : -1, .events = POLLIN },
	};

	if (follow_generation(r))
		return false;
	write_metrics(r);
	names_upkeep(r);
	if (poll(p, 3, 1000) < 0 && errno != EINTR)
		return false;
	if (p[0].revents & POLLIN)
		read_signals(r, &reload, &stop);
	if (p[1].revents & POLLIN && touches_policy(r)) {
		usleep(200000);	/* an editor's next steps (a backup, a rename) */
		while (touches_policy(r))
			;
		reload = true;
	}
	if (r->rb && p[2].revents & POLLIN)
		ring_buffer__consume(r->rb);
	pw_evlog_flush(&r->evlog);
	if (reload && !stop && reload_policy(r))
		return false;
	return !stop;
}

/* Log the last drop events and close everything run opened. */
static void finish(struct run *r)
{
	if (r->rb) {
		ring_buffer__consume(r->rb);
		ring_buffer__free(r->rb);
	}
	pw_evlog_close(&r->evlog);
	if (r->open) {
		pw_applied_free(&r->a);
		pw_dp_close(&r->dp);
	}
	pw_names_timer_reset(&r->names);
	pw_http_stop(r->http);
	close(r->ino);
	close(r->sfd);
	if (r->evlock >= 0)
		close(r->evlock);
}

/* One run per pin root: a second would apply its own policy over the
 * first one's on every reload. 0, or -1 having said who owns it. */
static int own_root(struct run *r)
{
	int holder;

	r->agent = pw_owner_lock(r->o.root, "agent", &holder);
	if (r->agent >= 0)
		return 0;
	if (holder > 0 || errno == EWOULDBLOCK)
		fprintf(stderr, "portwall run: another portwall run (pid %d) owns pin root %s: stop it first, or "
			"give this one another --pin-root; nothing was changed\n", holder, r->o.root);
	else
		fprintf(stderr, "portwall run: taking the agent lock of pin root %s in %s failed: %s; nothing was "
			"changed\n", r->o.root, PW_LOCK_DIR, strerror(errno));
	return -1;
}

/* --metrics-listen: listening before the first apply, so that an address
 * refused or in use changes nothing. 0, or -1 having said why. */
static int listen_metrics(struct run *r)
{
	char err[600];

	r->mctx.pin_root = r->o.root;
	if (!r->o.metrics_listen)
		return 0;
	r->http = pw_http_start(r->o.metrics_listen, err, sizeof(err));
	if (r->http)
		return 0;
	fprintf(stderr, "portwall run: --metrics-listen: %s; nothing was changed\n", err);
	return -1;
}

int cmd_run(int argc, char **argv)
{
	struct run r = { .ino = -1, .sfd = -1, .evlock = -1, .agent = -1 };
	int rc = pw_apply_parse(argc, argv, &r.o, true);

	if (rc)
		return rc > 0 ? PW_EXIT_OK : PW_EXIT_USAGE;
	if (pw_gateway_refuse("run", r.o.policy))
		return PW_EXIT_FAIL;
	r.o.cmd = "run";
	if (!r.o.ifaces) {
		fprintf(stderr, "portwall run: which interfaces? give --iface IF[,IF...]\n");
		return PW_EXIT_USAGE;
	}
	struct sockaddr_storage ss;
	char aerr[300];
	if (r.o.metrics_listen && pw_http_addr_parse(r.o.metrics_listen, &ss, aerr, sizeof(aerr))) {
		fprintf(stderr, "portwall run: --metrics-listen: %s\n", aerr);
		return PW_EXIT_USAGE;
	}
	if (pw_need_root("run"))
		return PW_EXIT_FAIL;
	setvbuf(stdout, NULL, _IOLBF, 0);	/* one log line at a time (journald) */
	if (own_root(&r) || open_events(&r))
		return PW_EXIT_FAIL;
	/* the names are asked by the timer, the first time right after apply */
	r.names.ms = r.o.resolve_ms < 0 ? PW_RESOLVE_MS_DEFAULT : r.o.resolve_ms;
	r.names.applied = true;
	r.o.resolve_ms = 0;
	if (listen_metrics(&r))
		return PW_EXIT_FAIL;
	if (pw_apply(r.o) != PW_EXIT_OK || start(&r)) {
		pw_http_stop(r.http);
		return PW_EXIT_FAIL;	/* the lock goes with the process */
	}
	note_reload(&r, true, true);
	printf("running: reload with SIGHUP or by saving the policy; SIGTERM stops (%s)\n",
	       r.o.unload_on_exit ? "and unloads" : "enforcement stays");
	/* under systemd (Type=notify) the unit is up once the policy is in
	 * force; without NOTIFY_SOCKET (not under systemd) this does nothing */
	sd_notify(0, "READY=1\nSTATUS=enforcing");
	while (turn(&r))
		;
	sd_notify(0, "STOPPING=1");
	finish(&r);
	if (r.o.unload_on_exit) {
		char *args[] = { "unload", "--pin-root", (char *)r.o.root, NULL };
		rc = cmd_unload(3, args);
		/* the unload leaves the agent's lock file to its holder, this
		 * process: nothing is left to guard once the pins are gone */
		if (rc == PW_EXIT_OK && access(r.o.root, F_OK) != 0)
			pw_lock_remove(r.o.root, "agent", true);
		return rc;
	}
	printf("stopped; enforcement stays (portwall unload to remove it)\n");
	return PW_EXIT_OK;
}
