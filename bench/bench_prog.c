/* bench_prog.c - ns/packet of the XDP program by BPF_PROG_TEST_RUN, each
 * case as a ratio to an empty XDP_DROP program measured in the same run.
 * A benchmark, never a test: it prints numbers and passes judgement on
 * nothing. Needs root. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "empty.skel.h"
#include "datapath/exc.h"
#include "datapath/loader.h"
#include "policy/packet.h"
#include "scale_policy.h"
#include "bench_stats.h"

static unsigned repeat = 1000000, rounds = 5;

static const char *const small_policy =
	"policy \"bench: 10 rules\"\n"
	"default in drop\n"
	"set mr = 198.51.100.10, 2001:db8:5::10\n"
	"allow in tcp port 22\n"
	"allow in tcp port 80,443\n"
	"allow in tcp port 5222,7071,7443\n"
	"allow in tcp port 38001 from @mr\n"
	"allow out tcp port 25,465,587,993\n"
	"allow out udp,tcp port 53\n"
	"allow in icmp type echo-request\n"
	"deny in tcp port 1-1023 from 203.0.113.0/24\n"
	"allow in udp port 5060\n"
	"allow in tcp port 8442\n";

struct bcase {
	const char *name;
	const char *setup;	/* an outbound packet sent once first (conntrack), or NULL */
	const char *small;	/* the packet under the 10-rule policy */
	const char *large;	/* under the 65,535-port / 100,000-prefix policy */
};

static const struct bcase cases[] = {
	{ "allowed port (array only)", NULL,
	  "in tcp 198.51.100.7:40000 192.0.2.2:5222 syn",
	  "in tcp 198.51.100.7:40000 192.0.2.2:1025 syn" },
	{ "denied port, TCP SYN (default drop)", NULL,
	  "in tcp 198.51.100.7:40000 192.0.2.2:9 syn",
	  "in tcp 198.51.100.7:40000 192.0.2.2:0 syn" },
	{ "denied port, UDP (default drop)", NULL,
	  "in udp 198.51.100.7:40000 192.0.2.2:9",
	  "in udp 198.51.100.7:40000 192.0.2.2:9" },
	{ "restricted port, allowed peer (trie)", NULL,
	  "in tcp 198.51.100.10:40000 192.0.2.2:38001 syn",
	  "in tcp 192.0.208.7:40000 192.0.2.2:2000 syn" },
	{ "restricted port, denied peer (trie)", NULL,
	  "in tcp 203.0.113.9:40000 192.0.2.2:22 syn",
	  "in tcp 10.0.0.1:40000 192.0.2.2:22 syn" },
	/* the same lookups taken apart (bench/RESULTS.md, 2026-12-03 flat):
	 * a peer in no set of the port's classes, dropped by the default; a
	 * peer the deny set misses and the allow class lets in; an IPv6 peer
	 * of the deny set (the trie: no flat lookup for IPv6) */
	{ "restricted port, peer in no set (default)", NULL,
	  "in tcp 198.51.100.7:40000 192.0.2.2:38001 syn",
	  "in tcp 10.0.0.1:40000 192.0.2.2:2000 syn" },
	{ "restricted port, deny set missed, allowed", NULL,
	  "in tcp 198.51.100.7:40000 192.0.2.2:22 syn",
	  "in tcp 192.0.22.7:40000 192.0.2.2:22 syn" },
	{ "restricted port, IPv6 peer (trie)", NULL,
	  "in tcp [2001:db8::7]:40000 [2001:db8::2]:22 syn",
	  "in tcp [2001:db8:0:4::1]:40000 [2001:db8::2]:22 syn" },
	{ "tracked reply (conntrack)", "out",
	  "in udp 198.51.100.25:53 192.0.2.2:40000",
	  "in udp 198.51.100.25:53 192.0.2.2:40000" },
	{ "IPv6 + hop-by-hop, dst options", NULL,
	  "in tcp [2001:db8::7]:40000 [2001:db8::2]:5222 syn ext hbh,dst",
	  "in tcp [2001:db8::7]:40000 [2001:db8::2]:1025 syn ext hbh,dst" },
};

/* the outbound packets that open the flows the reply cases answer: the
 * same flow under both policies (an allow rule in one, the default out
 * allow in the other), and the same path for its reply (no in rule for
 * UDP 40000 in either: the slot says drop, conntrack says reply) */
static const char *const setup_small = "out udp 192.0.2.2:40000 198.51.100.25:53";
static const char *const setup_large = "out udp 192.0.2.2:40000 198.51.100.25:53";

static size_t build(const char *words, uint8_t *frame, size_t size, uint32_t *dir)
{
	char err[256];
	struct pw_pktspec s;

	if (pw_pkt_parse_line(words, &s, err, sizeof(err))) {
		fprintf(stderr, "bench: bad packet \"%s\": %s\n", words, err);
		exit(1);
	}
	*dir = s.dir;
	return pw_pkt_build(&s, frame, size);
}

/* ns per run of prog on frame, repeat times in the kernel */
static double time_prog(int fd, const uint8_t *frame, size_t len)
{
	uint8_t out[PW_PKT_OUT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &o)) {
		fprintf(stderr, "bench: BPF_PROG_TEST_RUN failed: %s\n", strerror(errno));
		exit(1);
	}
	return (double)o.duration;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

struct loaded {
	struct pw_policy pol;
	struct pw_compiled c;
	struct pw_dp dp;
};

static void load(struct loaded *l, const char *name, const char *text, size_t len)
{
	struct pw_diag d = { 0 };
	char err[512];
	struct pw_config cfg;

	if (pw_policy_parse_text(name, text, len, &l->pol, &d) || pw_compile(&l->pol, &l->c, &d)) {
		fprintf(stderr, "bench: %s\n", d.error);
		exit(1);
	}
	pw_diag_free(&d);
	struct pw_dp_opts o = { .rule_capacity = l->c.nrules + 1,
				 .class_words = pw_dp_class_words_for(l->c.nrules + 1, l->c.nclass_words),
				 .flat4_chunks = pw_dp_flat4_chunks_for(l->c.nflat4) };
	if (pw_dp_load(&l->dp, &o, err, sizeof(err))) {
		fprintf(stderr, "bench: %s\n", err);
		exit(1);
	}
	pw_config_default(&cfg, PW_MODE_ENFORCE, l->dp.ncpus);
	if (pw_dp_write_half(&l->dp, 0, &l->c, &cfg, err, sizeof(err)) || pw_dp_activate(&l->dp, 0, 1)) {
		fprintf(stderr, "bench: %s\n", err);
		exit(1);
	}
	/* BENCH_EXC=1: one timed exception exists (a port and peer no case
	 * sends to), so every drop looks in pw_exc and the fast path leaves
	 * bare-SYN drops to the slow path: what an exception costs */
	if (getenv("BENCH_EXC")) {
		char *w[] = { "in", "tcp", "port", "8443", "from", "203.0.113.99" };
		struct pw_exc_spec sp = { .secs = 3600 };
		uint32_t id;
		if (pw_exc_parse(6, w, false, &sp, err, sizeof(err)) || pw_exc_add(&l->dp, &sp, &id, err, sizeof(err))) {
			fprintf(stderr, "bench: %s\n", err);
			exit(1);
		}
	}
}

static double median_of(double *v, unsigned n)
{
	qsort(v, n, sizeof(double), cmp_d);
	return v[n / 2];
}

/* New outbound flows: the egress program tracks a flow on its first packet
 * and only looks it up after that. One long flow (the same packet, repeat x
 * rounds times) must create exactly one conntrack entry, and cost per
 * packet what a tracked reply costs on ingress (both: one lookup). */
static void long_flow(struct loaded *l, struct empty_bpf *empty)
{
	static const char *const flow = "out udp 192.0.2.2:41000 198.51.100.25:53";
	static const char *const reply = "in udp 198.51.100.25:53 192.0.2.2:41000";
	uint8_t f[PW_PKT_OUT_MAX], rf[PW_PKT_OUT_MAX];
	uint32_t dir;
	struct pw_stats before, after;
	double eg[64], in[64], tfl[64], xfl[64];
	size_t n = build(flow, f, sizeof(f), &dir), rn = build(reply, rf, sizeof(rf), &dir);

	if (pw_dp_stats(&l->dp, &before)) {
		fprintf(stderr, "bench: reading the counters failed\n");
		exit(1);
	}
	for (unsigned r = 0; r < rounds; r++) {
		tfl[r] = time_prog(bpf_program__fd(empty->progs.tc_pass_all), f, n);
		eg[r] = time_prog(l->dp.prog_fd[PW_DIR_OUT], f, n);
		xfl[r] = time_prog(bpf_program__fd(empty->progs.xdp_drop_all), rf, rn);
		in[r] = time_prog(l->dp.prog_fd[PW_DIR_IN], rf, rn);
	}
	pw_dp_stats(&l->dp, &after);
	double t = median_of(tfl, rounds), e = median_of(eg, rounds);
	double x = median_of(xfl, rounds), i = median_of(in, rounds);
	printf("\n# a long outbound flow: %u packets of one UDP flow through the tc egress program\n",
	       repeat * rounds);
	printf("%-38s %9.1f %9.2f   (x the empty tc program, %.1f ns)\n", "long flow, egress (conntrack lookup)",
	       e, e / t, t);
	printf("%-38s %9.1f %9.2f   (x the empty XDP program, %.1f ns)\n", "its replies, ingress (conntrack lookup)",
	       i, i / x, x);
	printf("conntrack entries created: %llu for %u packets (once per flow)\n",
	       (unsigned long long)(after.ct_dgram_created - before.ct_dgram_created), repeat * rounds);	/* UDP */
}

/* Time one packet through prog and an empty program of the same hook,
 * alternating, over the rounds: the medians of both. */
static void pair(int prog, int empty, const char *words, double *ns, double *floor)
{
	uint8_t f[PW_PKT_OUT_MAX];
	uint32_t dir;
	double a[64], b[64];
	size_t n = build(words, f, sizeof(f), &dir);

	for (unsigned r = 0; r < rounds; r++) {
		b[r] = time_prog(empty, f, n);
		a[r] = time_prog(prog, f, n);
	}
	*ns = median_of(a, rounds);
	*floor = median_of(b, rounds);
}

/* Flows a peer started: what connection tracking by origin costs. The
 * host's UDP answer looks up pw_ct_in on egress; an allowed inbound
 * datagram refreshes its pw_ct_in entry (a lookup, a write once a second);
 * a TCP listener's segment is judged by the in rules of its port, no
 * lookup in a flow table. */
static void server_flows(struct loaded *l, struct empty_bpf *empty)
{
	static const struct { const char *name, *words; int dir; } c[] = {
		{ "server's UDP answer, egress (pw_ct_in)", "out udp 192.0.2.2:5060 198.51.100.7:40000", PW_DIR_OUT },
		{ "server's TCP segment, egress (in rules)", "out tcp 192.0.2.2:5222 198.51.100.7:40000 ack", PW_DIR_OUT },
		{ "allowed UDP in, ingress (pw_ct_in refresh)", "in udp 198.51.100.7:40000 192.0.2.2:5060", PW_DIR_IN },
	};
	uint8_t f[PW_PKT_OUT_MAX];
	uint32_t dir;
	int verdict;
	size_t n = build("in udp 198.51.100.7:40000 192.0.2.2:5060", f, sizeof(f), &dir);

	pw_dp_run(&l->dp, dir, f, n, &verdict);	/* the peer starts the flow */
	printf("\n# flows a peer started (small policy)\n");
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		double ns, fl;
		int e = c[i].dir == PW_DIR_OUT ? bpf_program__fd(empty->progs.tc_pass_all)
					       : bpf_program__fd(empty->progs.xdp_drop_all);
		pair(l->dp.prog_fd[c[i].dir], e, c[i].words, &ns, &fl);
		printf("%-44s %9.1f %9.2f   (x the empty %s program, %.1f ns)\n", c[i].name, ns, ns / fl,
		       c[i].dir == PW_DIR_OUT ? "tc" : "XDP", fl);
	}
}

int main(int argc, char **argv)
{
	if (geteuid() != 0) {
		fprintf(stderr, "bench: needs root (BPF_PROG_TEST_RUN)\n");
		return 1;
	}
	if (argc > 1)
		repeat = (unsigned)strtoul(argv[1], NULL, 10);
	if (argc > 2)
		rounds = (unsigned)strtoul(argv[2], NULL, 10);
	if (repeat < 100000 || rounds < 1 || rounds > 50) {
		fprintf(stderr, "usage: bench_prog [REPEAT >= 100000 [ROUNDS 1-50]]\n");
		return 2;
	}
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
	pw_bench_stats_off();

	struct empty_bpf *empty = empty_bpf__open_and_load();
	if (!empty) {
		fprintf(stderr, "bench: loading the empty program failed: %s\n", strerror(errno));
		return 1;
	}
	static struct loaded small, large;
	size_t llen = 0;
	char *ltext = pw_scale_policy(&llen);
	if (!ltext) {
		fprintf(stderr, "bench: out of memory\n");
		return 1;
	}
	struct timespec t0, t1;
	load(&small, "small", small_policy, strlen(small_policy));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	load(&large, "scale", ltext, llen);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	free(ltext);
	printf("# portwall XDP program, BPF_PROG_TEST_RUN: median of %u rounds x %u repeats, ns/packet\n",
	       rounds, repeat);
	printf("# small: %u rules; large: %u rules, %zu trie entries (loaded in %.0f ms)\n", small.c.nrules,
	       large.c.nrules, large.c.npeers,
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);

	uint8_t f[PW_PKT_OUT_MAX];
	uint32_t dir;
	int verdict;
	size_t n = build(setup_small, f, sizeof(f), &dir);
	pw_dp_run(&small.dp, dir, f, n, &verdict);
	n = build(setup_large, f, sizeof(f), &dir);
	pw_dp_run(&large.dp, dir, f, n, &verdict);

	size_t nc = sizeof(cases) / sizeof(cases[0]);
	/* per round and case: small and large ns, and each as a ratio to the
	 * floor measured right before and after it (this machine's speed
	 * drifts within a round; a ratio of neighbours does not) */
	double (*sm)[16] = calloc(rounds, sizeof(*sm)), (*lg)[16] = calloc(rounds, sizeof(*lg));
	double (*rs)[16] = calloc(rounds, sizeof(*rs)), (*rl)[16] = calloc(rounds, sizeof(*rl));
	double *floors = calloc(rounds * (nc + 1), sizeof(double));
	uint8_t fs[16][PW_PKT_OUT_MAX / 8], fl[16][PW_PKT_OUT_MAX / 8];
	size_t ns[16], nl[16], nf = 0;
	int empty_fd = bpf_program__fd(empty->progs.xdp_drop_all);
	if (!sm || !lg || !rs || !rl || !floors) {
		fprintf(stderr, "bench: out of memory\n");
		return 1;
	}
	for (size_t c = 0; c < nc; c++) {
		ns[c] = build(cases[c].small, fs[c], sizeof(fs[c]), &dir);
		nl[c] = build(cases[c].large, fl[c], sizeof(fl[c]), &dir);
	}
	for (unsigned r = 0; r < rounds; r++) {
		double before = time_prog(empty_fd, fs[0], ns[0]);
		floors[nf++] = before;
		for (size_t c = 0; c < nc; c++) {
			sm[r][c] = time_prog(small.dp.prog_fd[PW_DIR_IN], fs[c], ns[c]);
			lg[r][c] = time_prog(large.dp.prog_fd[PW_DIR_IN], fl[c], nl[c]);
			double after = time_prog(empty_fd, fs[0], ns[0]);
			floors[nf++] = after;
			rs[r][c] = sm[r][c] * 2 / (before + after);
			rl[r][c] = lg[r][c] * 2 / (before + after);
			before = after;
		}
	}
	double tmp[64], tmp2[64];
	printf("\n%-38s %9s %9s %9s %9s %11s\n", "case", "small ns", "x floor", "large ns", "x floor",
	       "large/small");
	for (size_t c = 0; c < nc; c++) {
		double s, l, xs, xl, ls;
		for (unsigned r = 0; r < rounds; r++)
			tmp[r] = sm[r][c];
		s = median_of(tmp, rounds);
		for (unsigned r = 0; r < rounds; r++)
			tmp[r] = lg[r][c];
		l = median_of(tmp, rounds);
		for (unsigned r = 0; r < rounds; r++)
			tmp[r] = rs[r][c], tmp2[r] = rl[r][c];
		xs = median_of(tmp, rounds);
		xl = median_of(tmp2, rounds);
		for (unsigned r = 0; r < rounds; r++)
			tmp[r] = lg[r][c] / sm[r][c];
		ls = median_of(tmp, rounds);
		printf("%-38s %9.1f %9.2f %9.1f %9.2f %11.2f\n", cases[c].name, s, xs, l, xl, ls);
	}
	qsort(floors, nf, sizeof(double), cmp_d);
	printf("\nfloor (empty XDP_DROP, measured between cases): median %.1f ns, min-max %.1f-%.1f ns\n",
	       floors[nf / 2], floors[0], floors[nf - 1]);
	printf("x floor: median over rounds of the case against the mean of the floors just before and after it\n");
	long_flow(&small, empty);
	server_flows(&small, empty);
	free(floors);
	free(sm);
	free(lg);
	free(rs);
	free(rl);
	pw_dp_close(&small.dp);
	pw_dp_close(&large.dp);
	empty_bpf__destroy(empty);
	return 0;
}
