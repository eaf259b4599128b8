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
#include "datapath/events.h"
#include "datapath/metrics.h"

struct run {
	struct pw_apply_opts o;
	struct pw_dp dp;
	struct pw_applied a;
	bool open;
	int ino;		/* inotify fd */
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
	pw_event_format(e, ifname, e->rule ? loc : NULL, line, sizeof(line));
	printf("%s\n", line);
	return 0;
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
	if (pw_applied_read(&r->dp, &r->a))
		return -1;
	/* watch the directories of every file the policy reads: editors
	 * replace files by renaming, which a watch on the file would miss */
	for (size_t i = 0; r->a.have_rules && i < r->a.pol.nfiles; i++) {
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s", r->a.pol.files[i]);
		char *slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		else
			snprintf(dir, sizeof(dir), ".");
		inotify_add_watch(r->ino, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE);
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
			for (size_t i = 0; ev->len && r->a.have_rules && i < r->a.pol.nfiles; i++) {
				const char *base = strrchr(r->a.pol.files[i], '/');
				base = base ? base + 1 : r->a.pol.files[i];
				hit |= strcmp(base, ev->name) == 0;
			}
			p += sizeof(*ev) + ev->len;
		}
	}
	return hit;
}

int cmd_run(int argc, char **argv)
{
	struct run r = { .ino = -1 };
	int rc = pw_apply_parse(argc, argv, &r.o, true);

	if (rc)
		return rc > 0 ? PW_EXIT_OK : PW_EXIT_USAGE;
	if (!r.o.ifaces) {
		fprintf(stderr, "portwall run: which interfaces? give --iface IF[,IF...]\n");
		return PW_EXIT_USAGE;
	}
	if (pw_need_root("run"))
		return PW_EXIT_FAIL;
	setvbuf(stdout, NULL, _IOLBF, 0);	/* one log line at a time (journald) */
	if (pw_apply(r.o) != PW_EXIT_OK)
		return PW_EXIT_FAIL;
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	r.ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (sfd < 0 || r.ino < 0 || refresh(&r)) {
		fprintf(stderr, "portwall run: setting up failed: %s\n", strerror(errno));
		return PW_EXIT_FAIL;
	}
	int holder, evlock = pw_events_lock(r.o.root, &holder);
	if (evlock < 0)
		fprintf(stderr, "portwall run: the drop events are being read by process %d: run logs none "
			"(stop that reader and restart run to log them)\n", holder);
	struct ring_buffer *rb = evlock >= 0 ? ring_buffer__new(r.dp.events_fd, on_event, &r, NULL) : NULL;
	if (evlock >= 0 && !rb) {
		fprintf(stderr, "portwall run: reading drop events failed: %s\n", strerror(errno));
		return PW_EXIT_FAIL;
	}
	printf("running: reload with SIGHUP or by saving the policy; SIGTERM stops (%s)\n",
	       r.o.unload_on_exit ? "and unloads" : "enforcement stays");
	bool stop = false;
	time_t next_metrics = 0;
	while (!stop) {
		if (r.o.metrics_file && time(NULL) >= next_metrics) {
			int mrc = pw_metrics_write(&r.dp, &r.a, r.o.metrics_file);
			if (mrc)
				fprintf(stderr, "portwall run: writing %s failed: %s\n", r.o.metrics_file, strerror(-mrc));
			next_metrics = time(NULL) + 5;
		}
		struct pollfd p[3] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = r.ino, .events = POLLIN },
			{ .fd = rb ? ring_buffer__epoll_fd(rb) : -1, .events = POLLIN },
		};
		if (poll(p, 3, 1000) < 0 && errno != EINTR)
			break;
		bool reload = false;
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP)
					reload = true;
				else
					stop = true;
			}
		}
		if (p[1].revents & POLLIN && touches_policy(&r)) {
			usleep(200000);	/* let an editor finish writing */
			while (touches_policy(&r))
				;
			reload = true;
		}
		if (rb && p[2].revents & POLLIN)
			ring_buffer__consume(rb);
		if (reload && !stop) {
			printf("reloading %s\n", r.o.policy);
			if (pw_apply(r.o) == PW_EXIT_OK) {
				ring_buffer__free(rb);
				rb = NULL;
				if (refresh(&r) == 0 && evlock >= 0)
					rb = ring_buffer__new(r.dp.events_fd, on_event, &r, NULL);
				if (evlock >= 0 && !rb) {
					fprintf(stderr, "portwall run: reopening the maps failed\n");
					break;
				}
			} else {
				printf("the policy in force is unchanged\n");
			}
		}
	}
	if (rb) {
		ring_buffer__consume(rb);
		ring_buffer__free(rb);
	}
	if (r.open) {
		pw_applied_free(&r.a);
		pw_dp_close(&r.dp);
	}
	close(r.ino);
	close(sfd);
	if (evlock >= 0)
		close(evlock);
	if (r.o.unload_on_exit) {
		char *args[] = { "unload", "--pin-root", (char *)r.o.root, NULL };
		return cmd_unload(3, args);
	}
	printf("stopped; enforcement stays (portwall unload to remove it)\n");
	return PW_EXIT_OK;
}
