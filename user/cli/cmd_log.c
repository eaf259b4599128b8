/* cmd_log.c - `portwall log [--follow] [--json] [--since WHEN]`: drop
 * events, one line each (JSON Lines with --json). From the ring buffer
 * when nobody reads it; while another process (portwall run) holds it,
 * from the events file run writes (rotated files too, --follow across
 * rotation). */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "datapath/state.h"
#include "cli/cmds.h"
#include "datapath/events.h"
#include "datapath/evlog.h"
#include "policy/evrec.h"

struct logctx {
	struct pw_applied a;
	bool json;
	unsigned long n;
	int64_t since_ms;
};

static void print_event(struct logctx *l, const struct pw_event *e, int64_t ms, const char *ifname,
			const char *file, int lineno)
{
	char line[800], loc[300];

	if (l->json) {
		char *j = pw_event_json(e, ms, ifname, file, lineno);
		if (!j) {
			fprintf(stderr, "portwall log: out of memory writing an event as JSON\n");
			return;
		}
		printf("%s\n", j);
		free(j);
		l->n++;
		return;
	} else {
		if (file)
			snprintf(loc, sizeof(loc), "%s:%d", file, lineno);
		else
			snprintf(loc, sizeof(loc), "rule=%u", e->rule);
		pw_event_format(e, ms, ifname, e->rule ? loc : NULL, line, sizeof(line));
	}
	printf("%s\n", line);
	l->n++;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct logctx *l = ctx;
	const struct pw_event *e = data;
	const char *ifname = NULL, *file = NULL;
	int lineno = 0;

	if (size < sizeof(*e))
		return 0;
	for (int i = 0; i < l->a.meta.niface; i++)
		if (l->a.meta.iface[i].ifindex == e->ifindex)
			ifname = l->a.meta.iface[i].name;
	if (e->rule && l->a.have_rules && l->a.same && e->rule <= l->a.c.nrules) {
		file = l->a.pol.rules[e->rule - 1].file;
		lineno = l->a.pol.rules[e->rule - 1].line;
	}
	int64_t ms = pw_event_real_ms(e->ts_ns);
	if (ms >= l->since_ms)
		print_event(l, e, ms, ifname, file, lineno);
	return 0;
}

/* An event the file recorded, printed as one from the ring buffer. */
static void on_record(const struct pw_evrec *r, void *ctx)
{
	struct pw_event e;

	pw_evrec_event(r, &e);
	for (uint8_t i = 0; i < PW_R_COUNT; i++)
		if (strcmp(r->reason, pw_reason_names[i]) == 0)
			e.reason = i;
	print_event(ctx, &e, r->ms, r->iface[0] ? r->iface : NULL, r->rule_file[0] ? r->rule_file : NULL,
		    r->rule_line);
}

/* SIGINT and SIGTERM as a file descriptor, for --follow. */
static int stop_fd(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	return signalfd(-1, &mask, SFD_CLOEXEC);
}

/* --follow on the file: its new lines every 200 ms, across rotations;
 * from its start with --since (the rotated files were read), else from
 * its end. */
static void follow_file(struct logctx *l, const char *path)
{
	struct pw_evtail t;
	char err[600];
	int sfd = stop_fd();

	if (pw_evtail_open(&t, path, l->since_ms == INT64_MIN, err, sizeof(err))) {
		fprintf(stderr, "portwall log: %s\n", err);
		close(sfd);
		return;
	}
	for (;;) {
		struct pollfd p = { .fd = sfd, .events = POLLIN };
		if (poll(&p, 1, 200) < 0 && errno != EINTR)
			break;
		pw_evtail_poll(&t, l->since_ms, on_record, l);
		if (p.revents)
			break;
	}
	pw_evtail_close(&t);
	close(sfd);
}

/* The events of the files: all of them (FILE.N ... FILE), or with
 * --follow the rotated ones only when --since asks for the past (the
 * current one is followed from its start). 0, or -1 having said why. */
static int read_past(struct logctx *l, const char *path, bool follow)
{
	char err[4600], one[4200];
	long bad = 0, n = 0;

	if (follow && l->since_ms == INT64_MIN)
		return 0;
	if (!follow) {
		n = pw_evfiles_read(path, l->since_ms, on_record, l, &bad, err, sizeof(err));
	} else {
		/* FILE.i has no FILE.i.1: reading it as a base reads it alone */
		for (int i = pw_evfiles_rotated(path); i >= 1 && n >= 0; i--) {
			long b = 0;
			snprintf(one, sizeof(one), "%s.%d", path, i);
			n = pw_evfiles_read(one, l->since_ms, on_record, l, &b, err, sizeof(err));
			bad += b;
		}
	}
	if (n < 0) {
		fprintf(stderr, "portwall log: %s%s\n", err,
			errno == ENOENT ? " (does run write another file? give it with --events-file)" : "");
		return -1;
	}
	if (bad)
		fprintf(stderr, "portwall log: %ld line%s of %s are not drop events (skipped)\n", bad,
			bad == 1 ? "" : "s", path);
	return 0;
}

/* The ring buffer is another's: the file run writes. An exit code. */
static int from_file(struct logctx *l, const char *path, int holder, bool follow)
{
	fprintf(stderr, "portwall log: the drop events are read by process %d (portwall run?): reading the "
		"events file it writes, %s\n", holder, path);
	if (read_past(l, path, follow))
		return PW_EXIT_FAIL;
	fflush(stdout);
	if (follow)
		follow_file(l, path);
	return PW_EXIT_OK;
}

/* The ring buffer, ours: what waits in it, and with --follow what comes. */
static int from_ring(struct logctx *l, const char *root, bool follow)
{
	struct pw_dp dp;
	char err[600];

	if (pw_dp_open_pinned(&dp, root, err, sizeof(err))) {
		fprintf(stderr, "portwall log: %s\n", err);
		return PW_EXIT_FAIL;
	}
	pw_applied_read(&dp, &l->a);
	struct ring_buffer *rb = ring_buffer__new(dp.events_fd, on_event, l, NULL);
	int rc = PW_EXIT_OK;
	if (!rb) {
		fprintf(stderr, "portwall log: reading the ring buffer failed: %s\n", strerror(errno));
		rc = PW_EXIT_FAIL;
	} else if (!follow) {
		ring_buffer__consume(rb);
	} else {
		int sfd = stop_fd();
		for (;;) {
			struct pollfd p[2] = { { .fd = sfd, .events = POLLIN },
					       { .fd = ring_buffer__epoll_fd(rb), .events = POLLIN } };
			if (poll(p, 2, 1000) < 0 && errno != EINTR)
				break;
			if (p[1].revents)
				ring_buffer__consume(rb);
			if (p[0].revents)
				break;
		}
		ring_buffer__consume(rb);
		close(sfd);
	}
	if (rb)
		ring_buffer__free(rb);
	pw_applied_free(&l->a);
	pw_dp_close(&dp);
	return rc;
}

#define LOG_USAGE "usage: portwall log [--follow] [--json] [--since WHEN] [--pin-root DIR] [--events-file PATH]\n"

int cmd_log(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "follow", no_argument, NULL, 'f' }, { "json", no_argument, NULL, 'j' },
		{ "pin-root", required_argument, NULL, 'p' }, { "since", required_argument, NULL, 's' },
		{ "events-file", required_argument, NULL, 'e' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	const char *root = PW_PIN_ROOT, *file = NULL;
	bool follow = false;
	struct logctx l = { .since_ms = INT64_MIN };
	char path[4096];
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "fjh", lo, NULL)) != -1) {
		switch (c) {
		case 'f': follow = true; break;
		case 'j': l.json = true; break;
		case 'p': root = optarg; break;
		case 'e': file = optarg; break;
		case 's':
			if (pw_since_parse(optarg, (int64_t)time(NULL) * 1000, &l.since_ms)) {
				fprintf(stderr, "portwall log: --since takes a duration (90s, 15m, 2h, 7d, 1w) or a UTC "
					"time (2026-12-02T19:00:00Z, 2026-12-02 19:00), got \"%s\"\n", optarg);
				return PW_EXIT_USAGE;
			}
			break;
		case 'h':
			printf(LOG_USAGE
			       "  Drop events waiting in the ring buffer (with --follow: and every new\n"
			       "  one until interrupted), one line each; --json: JSON Lines. While\n"
			       "  portwall run reads the ring buffer: from the events file it writes\n"
			       "  (rotated ones too). --since: only events from then on.\n");
			return PW_EXIT_OK;
		default:
			fprintf(stderr, LOG_USAGE);
			return PW_EXIT_USAGE;
		}
	}
	if (pw_need_root("log"))
		return PW_EXIT_FAIL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	int holder, lock = pw_events_lock(root, &holder);
	if (lock < 0) {
		if (!file)
			pw_evlog_default_path(root, path, sizeof(path));
		return from_file(&l, file ? file : path, holder, follow);
	}
	int rc = from_ring(&l, root, follow);
	close(lock);
	return rc;
}
