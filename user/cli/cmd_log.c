/* cmd_log.c - `portwall log [--follow] [--json]`: drop events from the
 * ring buffer, one line each (JSON Lines with --json). The ring buffer has
 * one reader: a second is refused with who holds it. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "datapath/state.h"
#include "cli/cmds.h"
#include "datapath/events.h"

struct logctx {
	struct pw_applied a;
	bool json;
	unsigned long n;
};

static int on_event(void *ctx, void *data, size_t size)
{
	struct logctx *l = ctx;
	const struct pw_event *e = data;
	const char *ifname = NULL, *file = NULL;
	char line[800], loc[300];
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
	if (l->json) {
		char *j = pw_event_json(e, ifname, file, lineno);
		if (!j) {
			fprintf(stderr, "portwall log: out of memory writing an event as JSON\n");
			return 0;
		}
		printf("%s\n", j);
		free(j);
		l->n++;
		return 0;
	} else {
		if (file)
			snprintf(loc, sizeof(loc), "%s:%d", file, lineno);
		else
			snprintf(loc, sizeof(loc), "rule=%u", e->rule);
		pw_event_format(e, ifname, e->rule ? loc : NULL, line, sizeof(line));
	}
	printf("%s\n", line);
	l->n++;
	return 0;
}

int cmd_log(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "follow", no_argument, NULL, 'f' }, { "json", no_argument, NULL, 'j' },
		{ "pin-root", required_argument, NULL, 'p' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	const char *root = PW_PIN_ROOT;
	bool follow = false;
	struct logctx l = { 0 };
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "fjh", lo, NULL)) != -1) {
		switch (c) {
		case 'f': follow = true; break;
		case 'j': l.json = true; break;
		case 'p': root = optarg; break;
		case 'h':
			printf("usage: portwall log [--follow] [--json] [--pin-root DIR]\n"
			       "  Drop events waiting in the ring buffer (with --follow: and every new\n"
			       "  one until interrupted), one line each; --json: JSON Lines.\n");
			return PW_EXIT_OK;
		default:
			fprintf(stderr, "usage: portwall log [--follow] [--json] [--pin-root DIR]\n");
			return PW_EXIT_USAGE;
		}
	}
	if (pw_need_root("log"))
		return PW_EXIT_FAIL;
	int holder, lock = pw_events_lock(root, &holder);
	if (lock < 0) {
		fprintf(stderr, "portwall log: the drop events are being read by process %d (portwall run?): a "
			"second reader would take events from it; see that reader's output "
			"(journalctl -u portwall)\n", holder);
		return PW_EXIT_FAIL;
	}
	struct pw_dp dp;
	char err[600];
	if (pw_dp_open_pinned(&dp, root, err, sizeof(err))) {
		fprintf(stderr, "portwall log: %s\n", err);
		close(lock);
		return PW_EXIT_FAIL;
	}
	pw_applied_read(&dp, &l.a);
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct ring_buffer *rb = ring_buffer__new(dp.events_fd, on_event, &l, NULL);
	int rc = PW_EXIT_OK;
	if (!rb) {
		fprintf(stderr, "portwall log: reading the ring buffer failed: %s\n", strerror(errno));
		rc = PW_EXIT_FAIL;
	} else if (!follow) {
		ring_buffer__consume(rb);
	} else {
		sigset_t mask;
		sigemptyset(&mask);
		sigaddset(&mask, SIGINT);
		sigaddset(&mask, SIGTERM);
		sigprocmask(SIG_BLOCK, &mask, NULL);
		int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
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
	pw_applied_free(&l.a);
	pw_dp_close(&dp);
	close(lock);
	return rc;
}
