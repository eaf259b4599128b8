/* dp_env.h - one private datapath loaded with a policy, for the
 * BPF_PROG_TEST_RUN tests (test_datapath, test_evasion, test_dns): parse, compile,
 * load both programs on fresh maps, write half 0 and put it in force. */
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
#include "policy/policy.h"
#include "harness.h"

struct env {
	struct pw_policy pol;
	struct pw_compiled c;
	struct pw_dp dp;
	struct pw_config cfg;
	bool up;
};

static struct env E;

static void down(void)
{
	if (!E.up)
		return;
	pw_dp_close(&E.dp);
	pw_compiled_free(&E.c);
	pw_policy_free(&E.pol);
	E.up = false;
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
	struct pw_dp_opts o = { .rule_capacity = E.c.nrules + 1, .ct_capacity = ct_capacity,
				 .class_words = pw_dp_class_words_for(E.c.nrules + 1, E.c.nclass_words),
				 .flat4_chunks = pw_dp_flat4_chunks_for(E.c.nflat4) };
	if (pw_dp_load(&E.dp, &o, err, sizeof(err))) {
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
 * tests whose name holds it. */
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
		pw_tests[i].fn();
		down();
		printf("%s %s\n", pw_test_failed ? "FAIL" : "ok  ", pw_tests[i].name);
		fflush(stdout);
		pw_test_failed ? failed++ : passed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

#endif
