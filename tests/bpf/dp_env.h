/* dp_env.h - one private datapath loaded with a policy, for the
 * BPF_PROG_TEST_RUN tests (test_datapath, test_evasion, test_dns, test_exc):
 * parse, compile, load both programs on fresh maps, write half 0 and put it
 * in force; pkt() runs a packet described in words, EXPECT_PKT checks its
 * verdict, reason and rule. */
#ifndef PW_TEST_DP_ENV_H
#define PW_TEST_DP_ENV_H

#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "policy/compile.h"
#include "lib/diag.h"
#include "datapath/loader.h"
#include "dp_reset.h"
#include "policy/packet.h"
#include "policy/policy.h"
#include "harness.h"

struct env {
	struct pw_policy pol;
	struct pw_compiled c;
	struct pw_dp dp;
	struct pw_config cfg;
	bool up;
	bool loaded;		/* dp holds programs loaded with opts */
	struct pw_dp_opts opts;	/* the shape of dp's maps */
	int loads;		/* pw_dp_load()s this run, for the suite's last lines */
	bool want_l3;	/* the next up_with loads the L3 programs too (a test
			 * that runs "link l3" frames sets it; dp_main clears it) */
};

static struct env E;

/* The test's policy freed; the loaded programs stay for the next test
 * with maps of the same shape (dp_reset.h), dp_unload() closes them. */
static void down(void)
{
	if (!E.up)
		return;
	pw_compiled_free(&E.c);
	pw_policy_free(&E.pol);
	E.up = false;
}

static void dp_unload(void)
{
	down();
	if (E.loaded)
		pw_dp_close(&E.dp);
	E.loaded = false;
}

/* The rule capacity a test loads with: a power of two of at least 256, so
 * that most policies share one shape of maps (and one verification). */
static inline uint32_t dp_rule_capacity(uint32_t nrules)
{
	uint32_t cap = 256;

	while (cap < nrules + 1)
		cap *= 2;
	return cap;
}

/* Would o load maps of the shape of a (the fields, not padding bytes)? */
static bool dp_same_shape(const struct pw_dp_opts *a, const struct pw_dp_opts *o)
{
	return a->rule_capacity == o->rule_capacity && a->class_words == o->class_words &&
	       a->flat4_chunks == o->flat4_chunks && a->ct_capacity == o->ct_capacity && a->no_l3 == o->no_l3;
}

/* dp loaded with o: the programs already loaded with maps of that shape,
 * reset to how a fresh load leaves them, or loaded anew. 0 or -1 (a reset
 * that fails fails the test: a fresh load would hide the map it missed). */
static int dp_ready(const struct pw_dp_opts *o, char *err, size_t n)
{
	if (E.loaded && dp_same_shape(&E.opts, o)) {
		if (dp_reset_maps(&E.dp) == 0)
			return 0;
		snprintf(err, n, "the maps of the last test could not be reset (above)");
		return -1;
	}
	dp_unload();
	if (pw_dp_load(&E.dp, o, err, n))
		return -1;
	E.loaded = true;
	E.loads++;
	E.opts = *o;
	return 0;
}

/* Load a policy (text, or the file path when text is NULL) into a fresh
 * datapath with room for ct_capacity flows (0: the default); tweak may
 * change the config before it is written. Returns 0, or -1 after saying
 * why on stderr. */
static int up_with(const char *path, const char *text, uint32_t ct_capacity,
		   void (*tweak)(struct pw_config *cfg))
{
	struct pw_diag d = { 0 };
	char err[512];

	down();
	int rc = text ? pw_policy_parse_text(path, text, strlen(text), &E.pol, &d)
		      : pw_policy_parse_file(path, &E.pol, &d);
	if (rc || pw_compile(&E.pol, &E.c, &d)) {
		fprintf(stderr, "    %s: %s\n", path, d.error[0] ? d.error : "does not compile");
		pw_diag_free(&d);
		pw_policy_free(&E.pol);
		return -1;
	}
	pw_diag_free(&d);
	uint32_t cap = dp_rule_capacity(E.c.nrules);
	struct pw_dp_opts o = { .rule_capacity = cap, .ct_capacity = ct_capacity,
				 .class_words = pw_dp_class_words_for(cap, E.c.nclass_words),
				 .flat4_chunks = pw_dp_flat4_chunks_for(E.c.nflat4),
				 .no_l3 = !E.want_l3 };	/* a load is mostly the verifier's time */
	if (dp_ready(&o, err, sizeof(err))) {
		fprintf(stderr, "    load: %s\n", err);
		pw_compiled_free(&E.c);
		pw_policy_free(&E.pol);
		return -1;
	}
	pw_config_default(&E.cfg, E.c.mode, E.dp.ncpus);
	if (tweak)
		tweak(&E.cfg);
	E.up = true;
	if (pw_dp_write_half(&E.dp, 0, &E.c, &E.cfg, err, sizeof(err)) || pw_dp_activate(&E.dp, 0, 1)) {
		fprintf(stderr, "    write: %s\n", err);
		down();
		return -1;
	}
	return 0;
}

/* A reload to text (tweak, when given, changes the config first): the
 * half not in force written, put in force, and the flows it refuses
 * flushed and revoked, as apply does. 0 or -1, the failure said (FAILF). */
static inline int reload_with(const char *text, void (*tweak)(struct pw_config *cfg))
{
	struct pw_policy pol;
	struct pw_compiled c;
	struct pw_diag d = { 0 };
	struct pw_state st;
	struct pw_revoke rev = { 0 };	/* as apply's: revoked flows marked */
	char err[400];
	int rc = -1;

	if (pw_policy_parse_text("r.policy", text, strlen(text), &pol, &d) || pw_compile(&pol, &c, &d)) {
		FAILF("reload: %s", d.error[0] ? d.error : "does not compile");
		pw_diag_free(&d);
		return -1;
	}
	pw_diag_free(&d);
	if (tweak)
		tweak(&E.cfg);
	err[0] = '\0';
	if (pw_dp_read_state(&E.dp, &st) == 0 && pw_dp_write_half(&E.dp, st.active ^ 1, &c, &E.cfg, err, sizeof(err)) == 0 &&
	    pw_dp_activate(&E.dp, st.active ^ 1, st.generation + 1) == 0 &&
	    pw_dp_flush_ct(&E.dp, st.active ^ 1, NULL, &rev) >= 0)
		rc = 0;
	else
		FAILF("reload: %s", err[0] ? err : "the half, its activation or the flush failed");
	pw_compiled_free(&c);
	pw_policy_free(&pol);
	return rc;
}

/* Per-CPU buckets, counters and LRU lists: keep every run on one CPU. */
static inline void dp_pin_cpu(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* The main of a suite of TEST()s on this datapath (harness.h): root only,
 * on one CPU, each test's datapath closed after it; argv[1] picks the
 * tests whose name holds it. The L3 programs are loaded for a test that
 * sets E.want_l3 before its up_with. */
static inline int dp_main(const char *suite, int argc, char **argv)
{
	int passed = 0, failed = 0;

	if (geteuid() != 0) {
		printf("%s needs root (BPF_PROG_TEST_RUN): skipped\n0 passed, 0 failed\n", suite);
		return 0;
	}
	dp_pin_cpu();
	for (int i = 0; i < pw_ntests; i++) {
		if (argc > 1 && !strstr(pw_tests[i].name, argv[1]))
			continue;
		pw_test_failed = 0;
		E.want_l3 = false;
		pw_tests[i].fn();
		down();
		printf("%s %s\n", pw_test_failed ? "FAIL" : "ok  ", pw_tests[i].name);
		fflush(stdout);
		pw_test_failed ? failed++ : passed++;
	}
	dp_unload();
	printf("    the programs were loaded (and verified) %d times for %d tests\n", E.loads, passed + failed);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

/* A packet's outcome: verdict, reason, deciding rule, the frame's length. */
struct dp_out {
	int verdict, reason;
	uint32_t rule;
	size_t len;
};

/* Run a packet described in words (the packet language of `portwall
 * test`) through the program of its direction. */
static inline struct dp_out pkt(const char *words)
{
	char err[256];
	struct pw_pktspec s;
	uint8_t frame[PW_PKT_OUT_MAX];
	struct dp_out o = { -1, -1, 0, 0 };
	struct pw_dp_result r;

	if (pw_pkt_parse_line(words, &s, err, sizeof(err))) {
		FAILF("bad packet \"%s\": %s", words, err);
		return o;
	}
	o.len = pw_pkt_build(&s, frame, sizeof(frame));
	if (pw_dp_judge_link(&E.dp, E.c.nrules, s.l3 ? PW_LINK_L3 : PW_LINK_ETHER, s.dir, frame, o.len, &r)) {
		FAILF("running \"%s\" failed", words);
		return o;
	}
	o.verdict = r.verdict;
	o.reason = r.reason;
	o.rule = r.rule;
	return o;
}

static inline const char *dp_vname(int v)
{
	return v == PW_PASS ? "PASS" : v == PW_DROP ? "DROP" : "?";
}

static inline const char *dp_rname(int r)
{
	return r >= 0 && r < PW_R_COUNT ? pw_reason_names[r] : "none";
}

/* The outcome o (a struct dp_out, e.g. pkt("...")) is verdict verd, reason
 * why and rule rul, or the test fails saying what it got. */
#define EXPECT_PKT(o, verd, why, rul)                                                       \
	do {                                                                                \
		struct dp_out _o = (o);                                                     \
		if (_o.verdict != (verd) || _o.reason != (why) || _o.rule != (uint32_t)(rul)) \
			FAILF("%s: got %s/%s/rule %u, expected %s/%s/rule %u", #o,           \
			      dp_vname(_o.verdict), dp_rname(_o.reason), _o.rule, dp_vname(verd), \
			      dp_rname(why), (unsigned)(rul));                                \
	} while (0)

#endif
