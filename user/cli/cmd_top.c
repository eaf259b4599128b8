/* cmd_top.c - `portwall top`: rates refreshed every second - per rule, per
 * dropped port, drops by reason, the busiest dropped sources (from the
 * drop events). Full screen on a terminal (q quits); plain periodic text
 * otherwise. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "datapath/state.h"
#include "cli/cmds.h"
#include "datapath/events.h"
#include "lib/sha256.h"
#include "datapath/stats.h"

#define TOPN 8
#define NSRC 64

struct src {
	uint8_t fam, addr[16];
	uint64_t n;
};

struct topctx {
	struct src src[NSRC];
	int nsrc;
};

static int on_event(void *ctx, void *data, size_t size)
{
	struct topctx *t = ctx;
	const struct pw_event *e = data;

	if (size < sizeof(*e))
		return 0;
	const uint8_t *a = e->dir == PW_DIR_IN ? e->src : e->dst;
	for (int i = 0; i < t->nsrc; i++)
		if (t->src[i].fam == e->fam && memcmp(t->src[i].addr, a, 16) == 0) {
			t->src[i].n++;
			return 0;
		}
	if (t->nsrc < NSRC) {
		t->src[t->nsrc].fam = e->fam;
		memcpy(t->src[t->nsrc].addr, a, 16);
		t->src[t->nsrc++].n = 1;
	}
	return 0;
}

static int cmp_src(const void *a, const void *b)
{
	const struct src *x = a, *y = b;
	return (x->n < y->n) - (x->n > y->n);
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int cmd_top(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "pin-root", required_argument, NULL, 'p' }, { "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};
	const char *root = PW_PIN_ROOT;
	long count = -1;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "n:h", lo, NULL)) != -1) {
		switch (c) {
		case 'p': root = optarg; break;
		case 'n': count = strtol(optarg, NULL, 10); break;
		case 'h':
			printf("usage: portwall top [--pin-root DIR] [--count N]\n"
			       "  Rates every second: rules, dropped ports, drops by reason, dropped\n"
			       "  sources. q quits; not on a terminal, plain text (N screens with --count).\n");
			return PW_EXIT_OK;
		default:
			fprintf(stderr, "usage: portwall top [--pin-root DIR] [--count N]\n");
			return PW_EXIT_USAGE;
		}
	}
	if (pw_need_root("top"))
		return PW_EXIT_FAIL;
	struct pw_dp dp;
	struct pw_applied a;
	char err[600];
	if (pw_dp_open_pinned(&dp, root, err, sizeof(err))) {
		fprintf(stderr, "portwall top: %s\n", err);
		return PW_EXIT_FAIL;
	}
	pw_applied_read(&dp, &a);
	bool tty = isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);
	struct termios saved;
	if (tty) {
		struct termios raw;
		tcgetattr(STDIN_FILENO, &saved);
		raw = saved;
		raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		printf("\033[?25l");	/* hide the cursor */
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* the sources come from drop events: only while nobody else reads them */
	struct topctx t = { 0 };
	int holder, evlock = pw_events_lock(root, &holder);
	struct ring_buffer *rb = evlock >= 0 ? ring_buffer__new(dp.events_fd, on_event, &t, NULL) : NULL;
	uint32_t nr = a.have_rules && a.same ? a.c.nrules : 0;
	struct pw_counter *prev = calloc((size_t)(nr + 1) * 2, sizeof(*prev));
	struct pw_counter rprev[PW_DIR_COUNT * PW_R_COUNT], rnow[PW_DIR_COUNT * PW_R_COUNT];
	struct pw_port_drop dprev[256];
	int ndprev = pw_top_drops(&dp, dprev, 256);
	pw_dp_reason_counts(&dp, rprev);
	for (uint32_t id = 0; prev && id <= nr; id++)
		for (uint32_t d = 0; d < 2; d++)
			pw_dp_rule_count(&dp, id, d, &prev[id * 2 + d]);
	for (long screen = 0; !stop && (count < 0 || screen < count); screen++) {
		/* wait a second, or for q */
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
		long end = (long)time(NULL) + 1;
		while (!stop && (long)time(NULL) < end) {
			if (rb)
				ring_buffer__consume(rb);
			if (tty && poll(&p, 1, 100) == 1) {
				char k;
				if (read(STDIN_FILENO, &k, 1) == 1 && (k == 'q' || k == 'Q'))
					stop = 1;
			} else if (!tty) {
				usleep(100000);
			}
		}
		if (stop)
			break;
		pw_dp_reason_counts(&dp, rnow);
		if (tty)
			printf("\033[H\033[2J");
		char hex[65];
		pw_hex(a.meta.cur.hash, sizeof(a.meta.cur.hash), hex);
		printf("portwall top - \"%s\" generation %u (sha256:%.12s) %s%s\n", a.meta.cur.name,
		       a.meta.cur.generation, hex, a.meta.cur.mode == PW_MODE_MONITOR ? "MONITOR" : "enforce",
		       tty ? "   [q quits]" : "");
		uint64_t pass = 0, drop = 0;
		for (int d = 0; d < PW_DIR_COUNT; d++)
			for (int r = 0; r < PW_R_COUNT; r++) {
				uint64_t dv = rnow[d * PW_R_COUNT + r].packets - rprev[d * PW_R_COUNT + r].packets;
				if (r >= PW_R_FIRST_DROP)
					drop += dv;
				else
					pass += dv;
			}
		printf("packets/s: %llu passed, %llu dropped\n\n", (unsigned long long)pass, (unsigned long long)drop);
		printf("DROPS/S BY REASON     IN      OUT\n");
		for (int r = PW_R_FIRST_DROP; r < PW_R_COUNT; r++)
			printf("  %-16s %7llu %8llu\n", pw_reason_names[r],
			       (unsigned long long)(rnow[r].packets - rprev[r].packets),
			       (unsigned long long)(rnow[PW_R_COUNT + r].packets - rprev[PW_R_COUNT + r].packets));
		memcpy(rprev, rnow, sizeof(rprev));
		printf("\nRULES (packets/s)        IN      OUT  COMMENT\n");
		for (uint32_t id = 0; prev && id <= nr; id++) {
			struct pw_counter in, out;
			pw_dp_rule_count(&dp, id, 0, &in);
			pw_dp_rule_count(&dp, id, 1, &out);
			uint64_t di = in.packets - prev[id * 2].packets, dout = out.packets - prev[id * 2 + 1].packets;
			prev[id * 2] = in;
			prev[id * 2 + 1] = out;
			if (!di && !dout)
				continue;
			const struct pw_rule *r = id ? &a.pol.rules[id - 1] : NULL;
			printf("  %-18s %7llu %8llu  %s\n", r ? r->text : "default", (unsigned long long)di,
			       (unsigned long long)dout, r && r->comment ? r->comment : "");
		}
		struct pw_port_drop dnow[256];
		int ndnow = pw_top_drops(&dp, dnow, 256);
		printf("\nDROPPED PORTS (packets/s)\n");
		int shown = 0;
		for (int i = 0; i < ndnow && shown < TOPN; i++) {
			uint64_t before = 0;
			for (int k = 0; k < ndprev; k++)
				if (dprev[k].slot == dnow[i].slot)
					before = dprev[k].packets;
			if (dnow[i].packets == before)
				continue;
			char sn[64];
			pw_slot_name(dnow[i].slot, sn, sizeof(sn));
			printf("  %-24s %8llu\n", sn, (unsigned long long)(dnow[i].packets - before));
			shown++;
		}
		if (!shown)
			printf("  none\n");
		memcpy(dprev, dnow, sizeof(dnow));
		ndprev = ndnow;
		printf("\nDROPPED SOURCES (events this second)\n");
		if (!rb)
			printf("  (the drop events are read by process %d)\n", holder);
		qsort(t.src, (size_t)t.nsrc, sizeof(t.src[0]), cmp_src);
		for (int i = 0; i < t.nsrc && i < TOPN; i++) {
			char s[INET6_ADDRSTRLEN];
			inet_ntop(t.src[i].fam == PW_FAM_V6 ? AF_INET6 : AF_INET, t.src[i].addr, s, sizeof(s));
			printf("  %-40s %8llu\n", s, (unsigned long long)t.src[i].n);
		}
		if (rb && !t.nsrc)
			printf("  none\n");
		t.nsrc = 0;
		if (!tty)
			printf("\n");
		fflush(stdout);
	}
	if (tty) {
		printf("\033[?25h");
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	}
	if (rb)
		ring_buffer__free(rb);
	if (evlock >= 0)
		close(evlock);
	free(prev);
	pw_applied_free(&a);
	pw_dp_close(&dp);
	return PW_EXIT_OK;
}
