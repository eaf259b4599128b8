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
#include "cli/table.h"
#include "datapath/events.h"
#include "datapath/evlog.h"
#include "policy/evrec.h"
#include "datapath/status.h"
#include "lib/sha256.h"
#include "datapath/stats.h"

#define TOPN 8
#define NSRC 64
#define NPORTS 256	/* dropped slots compared from one second to the next */

struct src {
	uint8_t fam, addr[16];
	uint64_t n;
};

/* One run of top: what it opened, and the counters of a second ago. */
struct top {
	const char *root;
	long count;		/* screens, -1: until q or a signal */
	struct pw_dp dp;
	struct pw_applied a;
	struct pw_counts prev;
	struct pw_drops_cache drops;	/* the most dropped ports, between screens */
	bool tty;
	struct termios saved;	/* the terminal as it was */
	int evlock, holder;	/* the events lock, or who holds it */
	struct ring_buffer *rb;	/* NULL: somebody else reads the events */
	const char *events_file;	/* --events-file, NULL: the pin root's */
	char evpath[4096];
	struct pw_evtail tail;	/* the file run writes, while it holds the ring */
	bool tailing;
	size_t width;		/* of the screen, this one; 0: none (sized to the content) */
	struct src src[NSRC];	/* this second's dropped sources */
	int nsrc;
};

static void count_source(struct top *t, uint8_t fam, const uint8_t *a)
{
	for (int i = 0; i < t->nsrc; i++)
		if (t->src[i].fam == fam && memcmp(t->src[i].addr, a, 16) == 0) {
			t->src[i].n++;
			return;
		}
	if (t->nsrc < NSRC) {
		t->src[t->nsrc].fam = fam;
		memcpy(t->src[t->nsrc].addr, a, 16);
		t->src[t->nsrc++].n = 1;
	}
}

static int on_event(void *ctx, void *data, size_t size)
{
	const struct pw_event *e = data;

	if (size >= sizeof(*e))
		count_source(ctx, e->fam, e->dir == PW_DIR_IN ? e->src : e->dst);
	return 0;
}

static void on_record(const struct pw_evrec *r, void *ctx)
{
	count_source(ctx, r->fam, r->dir == PW_DIR_IN ? r->src : r->dst);
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

/* -1 to go on, or the exit code (--help, a bad option). */
static int top_options(int argc, char **argv, struct top *t)
{
	static const struct option lo[] = {
		{ "pin-root", required_argument, NULL, 'p' }, { "count", required_argument, NULL, 'n' },
		{ "events-file", required_argument, NULL, 'e' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	int c;

	t->root = PW_PIN_ROOT;
	t->count = -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "n:h", lo, NULL)) != -1) {
		switch (c) {
		case 'p': t->root = optarg; break;
		case 'n': t->count = strtol(optarg, NULL, 10); break;
		case 'e': t->events_file = optarg; break;
		case 'h':
			printf("usage: portwall top [--pin-root DIR] [--count N] [--events-file PATH]\n"
			       "  Rates every second: rules, dropped ports, drops by reason, dropped\n"
			       "  sources (from the events file while portwall run reads the drop events).\n"
			       "  q quits; not on a terminal, plain text (N screens with --count).\n");
			return PW_EXIT_OK;
		default:
			fprintf(stderr, "usage: portwall top [--pin-root DIR] [--count N] [--events-file PATH]\n");
			return PW_EXIT_USAGE;
		}
	}
	return -1;
}

/* Open the pins, the policy record and the first counters, then the
 * terminal and the drop events. 0, or -1 with a message. */
static int top_open(struct top *t)
{
	char err[600];

	if (pw_dp_open_pinned(&t->dp, t->root, err, sizeof(err))) {
		fprintf(stderr, "portwall top: %s\n", err);
		return -1;
	}
	int rc = pw_applied_read(&t->dp, &t->a);
	if (!rc)
		rc = pw_counts_read(&t->dp, &t->a, NPORTS, &t->drops, &t->prev);
	if (rc) {
		fprintf(stderr, "portwall top: reading the maps under %s failed: %s\n", t->root, strerror(-rc));
		pw_applied_free(&t->a);
		pw_dp_close(&t->dp);
		return -1;
	}
	t->tty = isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);
	if (t->tty) {
		struct termios raw;
		tcgetattr(STDIN_FILENO, &t->saved);
		raw = t->saved;
		raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		printf("\033[?25l");	/* hide the cursor */
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* the sources come from drop events: only while nobody else reads them */
	t->evlock = pw_events_lock(t->root, &t->holder);
	t->rb = t->evlock >= 0 ? ring_buffer__new(t->dp.events_fd, on_event, t, NULL) : NULL;
	if (t->evlock < 0) {
		/* run holds them: the file it writes, from its end on */
		if (t->events_file)
			snprintf(t->evpath, sizeof(t->evpath), "%s", t->events_file);
		else
			pw_evlog_default_path(t->root, t->evpath, sizeof(t->evpath));
		t->tailing = pw_evtail_open(&t->tail, t->evpath, true, err, sizeof(err)) == 0;
	}
	return 0;
}

static void top_close(struct top *t)
{
	if (t->tty) {
		printf("\033[?25h");
		tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
	}
	if (t->rb)
		ring_buffer__free(t->rb);
	if (t->tailing)
		pw_evtail_close(&t->tail);
	if (t->evlock >= 0)
		close(t->evlock);
	pw_counts_free(&t->prev);
	pw_applied_free(&t->a);
	pw_dp_close(&t->dp);
}

/* Until the next second begins, or q: read the drop events meanwhile. */
static void wait_second(struct top *t)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	long end = (long)time(NULL) + 1;

	while (!stop && (long)time(NULL) < end) {
		if (t->rb)
			ring_buffer__consume(t->rb);
		else if (t->tailing)
			pw_evtail_poll(&t->tail, INT64_MIN, on_record, t);
		if (t->tty && poll(&p, 1, 100) == 1) {
			char k;
			if (read(STDIN_FILENO, &k, 1) == 1 && (k == 'q' || k == 'Q'))
				stop = 1;
		} else if (!t->tty) {
			usleep(100000);
		}
	}
}

static uint64_t dpackets(const struct pw_counter *now, const struct pw_counter *before)
{
	/* lower: `counters --reset` zeroed it since; the count is all new */
	return now->packets >= before->packets ? now->packets - before->packets : now->packets;
}

#define INDENT "  "

/* A table of the columns given, as wide as the screen (less the indent)
 * or, not on a terminal and without COLUMNS, as its content. */
static struct libscols_table *screen_table(const struct top *t, const struct pw_col *cols, size_t n)
{
	size_t w = t->width;

	return pw_table_new(cols, n, w > sizeof(INDENT) ? w - (sizeof(INDENT) - 1) : w);
}

/* Print tb under its title (NULL: printed already), "  none" when it has
 * no row; then free it. rc: what filling it gave. 0 or -errno. */
static int print_section(const char *title, struct libscols_table *tb, int rc)
{
	if (title)
		printf("\n%s\n", title);
	if (!rc && !scols_table_get_nlines(tb)) {
		scols_unref_table(tb);
		printf(INDENT "none\n");
		return 0;
	}
	if (rc) {
		scols_unref_table(tb);
		return rc;
	}
	return pw_table_print(tb, INDENT);
}

static int count_row(struct libscols_table *tb, const char *what, uint64_t a, uint64_t b, bool two)
{
	char x[24], y[24];

	snprintf(x, sizeof(x), "%llu", (unsigned long long)a);
	snprintf(y, sizeof(y), "%llu", (unsigned long long)b);
	const char *cells[] = { what, x, y };
	return pw_table_row(tb, cells, two ? 3 : 2);
}

/* The policy, packets passed and dropped, drops by reason. 0 or -errno. */
static int show_reasons(const struct top *t, const struct pw_counts *now)
{
	static const struct pw_col cols[] = { { "REASON", 0 }, { "IN", SCOLS_FL_RIGHT }, { "OUT", SCOLS_FL_RIGHT } };
	const struct pw_counter *was = t->prev.reason, *is = now->reason;
	char hex[65];

	pw_hex(t->a.meta.cur.hash, sizeof(t->a.meta.cur.hash), hex);
	pw_print_cut(t->width, "portwall top - \"%s\" generation %u (sha256:%.12s) %s%s", t->a.meta.cur.name,
	       t->a.meta.cur.generation, hex, t->a.meta.cur.mode == PW_MODE_MONITOR ? "MONITOR" : "enforce",
	       t->tty ? "   [q quits]" : "");
	uint64_t pass = 0, drop = 0;
	for (int k = 0; k < PW_DIR_COUNT * PW_R_COUNT; k++) {
		if (k % PW_R_COUNT >= PW_R_FIRST_DROP)
			drop += dpackets(&is[k], &was[k]);
		else
			pass += dpackets(&is[k], &was[k]);
	}
	pw_print_cut(t->width, "packets/s: %llu passed, %llu dropped", (unsigned long long)pass,
		     (unsigned long long)drop);
	struct libscols_table *tb = screen_table(t, cols, 3);
	int rc = tb ? 0 : -ENOMEM;
	for (int r = PW_R_FIRST_DROP; r < PW_R_COUNT && !rc; r++)
		rc = count_row(tb, pw_reason_names[r], dpackets(&is[r], &was[r]),
			       dpackets(&is[PW_R_COUNT + r], &was[PW_R_COUNT + r]), true);
	return print_section("DROPS/S BY REASON", tb, rc);
}

/* The rules that moved this second: id, text, rates, comment; the text
 * and the comment cut to the screen's width, never wrapped. */
static int show_rules(const struct top *t, const struct pw_counts *now)
{
	static const struct pw_col cols[] = {
		{ "RULE", SCOLS_FL_RIGHT }, { "TEXT", SCOLS_FL_TRUNC }, { "IN", SCOLS_FL_RIGHT },
		{ "OUT", SCOLS_FL_RIGHT }, { "COMMENT", SCOLS_FL_TRUNC },
	};
	struct libscols_table *tb = screen_table(t, cols, 5);
	int rc = tb ? 0 : -ENOMEM;

	for (uint32_t id = 0; id <= now->nrules && !rc; id++) {
		uint64_t di = dpackets(&now->rule[id][PW_DIR_IN], &t->prev.rule[id][PW_DIR_IN]);
		uint64_t dout = dpackets(&now->rule[id][PW_DIR_OUT], &t->prev.rule[id][PW_DIR_OUT]);
		if (!di && !dout)
			continue;
		const struct pw_rule *r = pw_applied_rule(&t->a, id);
		char num[3][24];
		snprintf(num[0], sizeof(num[0]), "%u", id);
		snprintf(num[1], sizeof(num[1]), "%llu", (unsigned long long)di);
		snprintf(num[2], sizeof(num[2]), "%llu", (unsigned long long)dout);
		const char *cells[] = { num[0], r ? r->text : "default", num[1], num[2], r ? r->comment : NULL };
		rc = pw_table_row(tb, cells, 5);
	}
	return print_section("RULES (packets/s)", tb, rc);
}

/* The ports with new drops this second, the most dropped first. */
static int show_ports(const struct top *t, const struct pw_counts *now)
{
	static const struct pw_col cols[] = { { "PORT", 0 }, { "PACKETS", SCOLS_FL_RIGHT } };
	struct libscols_table *tb = screen_table(t, cols, 2);
	int rc = tb ? 0 : -ENOMEM, shown = 0;

	for (int i = 0; i < now->ntop && shown < TOPN && !rc; i++) {
		uint64_t before = 0;
		for (int k = 0; k < t->prev.ntop; k++)
			if (t->prev.top[k].slot == now->top[i].slot)
				before = t->prev.top[k].packets;
		if (now->top[i].packets == before)
			continue;
		char sn[64];
		pw_slot_name(now->top[i].slot, sn, sizeof(sn));
		rc = count_row(tb, sn, now->top[i].packets - before, 0, false);
		shown++;
	}
	return print_section("DROPPED PORTS (packets/s)", tb, rc);
}

/* This second's busiest dropped sources; then start counting afresh. */
static int show_sources(struct top *t)
{
	static const struct pw_col cols[] = { { "SOURCE", 0 }, { "EVENTS", SCOLS_FL_RIGHT } };
	struct libscols_table *tb = screen_table(t, cols, 2);
	int rc = tb ? 0 : -ENOMEM;

	qsort(t->src, (size_t)t->nsrc, sizeof(t->src[0]), cmp_src);
	for (int i = 0; i < t->nsrc && i < TOPN && !rc; i++) {
		char s[INET6_ADDRSTRLEN];
		inet_ntop(t->src[i].fam == PW_FAM_V6 ? AF_INET6 : AF_INET, t->src[i].addr, s, sizeof(s));
		rc = count_row(tb, s, t->src[i].n, 0, false);
	}
	t->nsrc = 0;
	printf("\nDROPPED SOURCES (events this second)\n");
	if (!t->rb && t->tailing)
		pw_print_cut(t->width, INDENT "(from %s: process %d reads the drop events)", t->evpath, t->holder);
	else if (!t->rb)
		pw_print_cut(t->width, INDENT "(the drop events are read by process %d)", t->holder);
	if (!t->rb && !t->tailing) {
		scols_unref_table(tb);
		return rc;
	}
	return print_section(NULL, tb, rc);
}

/* One screen: the counters now against a second ago. 0 or -errno. */
static int show_screen(struct top *t)
{
	struct pw_counts now;
	int rc = pw_counts_read(&t->dp, &t->a, NPORTS, &t->drops, &now);

	if (rc)
		return rc;
	t->width = pw_term_width(STDOUT_FILENO);	/* the terminal may have been resized */
	if (t->tty)
		printf("\033[H\033[2J");
	rc = show_reasons(t, &now);
	if (!rc)
		rc = show_rules(t, &now);
	if (!rc)
		rc = show_ports(t, &now);
	if (!rc)
		rc = show_sources(t);
	if (!t->tty)
		printf("\n");
	fflush(stdout);
	pw_counts_free(&t->prev);
	t->prev = now;
	return rc;
}

int cmd_top(int argc, char **argv)
{
	struct top t = { .evlock = -1 };
	int rc = top_options(argc, argv, &t);

	if (rc >= 0)
		return rc;
	if (pw_need_root("top"))
		return PW_EXIT_FAIL;
	if (top_open(&t))
		return PW_EXIT_FAIL;
	rc = 0;
	for (long screen = 0; !stop && (t.count < 0 || screen < t.count) && !rc; screen++) {
		wait_second(&t);
		if (!stop)
			rc = show_screen(&t);
	}
	top_close(&t);
	if (rc) {
		fprintf(stderr, "portwall top: reading the counters under %s or printing them failed: %s (is portwall still loaded? "
			"see portwall status)\n", t.root, strerror(-rc));
		return PW_EXIT_FAIL;
	}
	return PW_EXIT_OK;
}
