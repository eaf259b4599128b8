/* cmd_counters.c - `portwall counters --reset [RULE...]`: the per-rule
 * counters of the policy in force start again from zero (as
 * `nft reset counters`); the metrics keep counting (docs/operations.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmds.h"
#include "datapath/loader.h"
#include "datapath/state.h"
#include "datapath/status.h"

static void usage(FILE *f)
{
	fputs("usage: portwall counters --reset [RULE...] [--pin-root DIR]\n"
	      "  Reset the packet and byte counters of the rules RULE (ids as `status`\n"
	      "  shows them, 0 the default), of every rule without one, of the policy in\n"
	      "  force: status shows them from zero. The reason and per-port drop\n"
	      "  counters belong to no rule and are not reset. The metrics\n"
	      "  (portwall_rule_*_total) do not go down: they keep what was reset.\n", f);
}

/* The rule ids of argv[optind..]; -1 on a word that is none (said). */
static int rule_ids(int argc, char **argv, uint32_t nrules, uint32_t *ids)
{
	for (int i = optind; i < argc; i++) {
		unsigned long v;
		char *end;
		errno = 0;
		v = strtoul(argv[i], &end, 10);
		if (errno || end == argv[i] || *end || argv[i][0] == '-' || v > nrules) {
			fprintf(stderr, "portwall counters: \"%s\" is no rule of the policy in force (0 the default, "
				"1-%u: see `portwall status`)\n", argv[i], nrules);
			return -1;
		}
		ids[i - optind] = (uint32_t)v;
	}
	return 0;
}

/* 0 with *root set; 1 after --help; -1 usage. */
static int parse(int argc, char **argv, const char **root)
{
	static const struct option lo[] = {
		{ "reset", no_argument, NULL, 'r' }, { "pin-root", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};
	bool reset = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "rp:h", lo, NULL)) != -1) {
		if (c == 'r') {
			reset = true;
		} else if (c == 'p') {
			*root = optarg;
		} else if (c == 'h') {
			usage(stdout);
			return 1;
		} else {
			usage(stderr);
			return -1;
		}
	}
	if (!reset) {
		fprintf(stderr, "portwall counters: say --reset (the counters themselves: `portwall status`)\n");
		usage(stderr);
		return -1;
	}
	return 0;
}

/* Under the pin root's lock: the ids checked against the policy in force, reset. */
static int reset_locked(struct pw_dp *dp, int argc, char **argv)
{
	struct pw_applied a;
	int rc = pw_applied_read(dp, &a);

	if (rc) {
		fprintf(stderr, "portwall counters: reading the policy in force failed: %s\n", strerror(-rc));
		return PW_EXIT_FAIL;
	}
	if (!a.have_rules || !a.same) {
		/* its rule ids would not be the tables' */
		fprintf(stderr, "portwall counters: %s %s since it was applied: the ids of the rules in force are "
			"not known; `portwall reload` it first\n", a.meta.cur.path[0] ? a.meta.cur.path : "the policy",
			a.have_rules ? "changed" : "does not compile");
		pw_applied_free(&a);
		return PW_EXIT_FAIL;
	}
	uint32_t nrules = pw_applied_nrules(&a), *ids = calloc((size_t)argc + 1, sizeof(*ids));
	size_t n = (size_t)(argc - optind);
	int exit = PW_EXIT_OK;
	if (!ids || rule_ids(argc, argv, nrules, ids)) {
		exit = ids ? PW_EXIT_USAGE : PW_EXIT_FAIL;
	} else if ((rc = pw_dp_counters_reset(dp, ids, n, nrules))) {
		fprintf(stderr, "portwall counters: resetting failed: %s (the rules before it are reset)\n",
			strerror(-rc));
		exit = PW_EXIT_FAIL;
	} else {
		size_t k = n ? n : (size_t)nrules + 1;
		printf("reset the counters of %zu rule%s of generation %u (policy \"%s\"); the metrics keep "
		       "counting\n", k, k == 1 ? "" : "s", a.meta.cur.generation, a.meta.cur.name);
	}
	free(ids);
	pw_applied_free(&a);
	return exit;
}

int cmd_counters(int argc, char **argv)
{
	const char *root = PW_PIN_ROOT;
	int p = parse(argc, argv, &root);
	char err[600];

	if (p)
		return p > 0 ? PW_EXIT_OK : PW_EXIT_USAGE;
	if (pw_need_root("counters"))
		return PW_EXIT_FAIL;
	/* a reload between the read and the write would carry half a reset */
	int lock = pw_lock(root, err, sizeof(err));
	if (lock < 0) {
		fprintf(stderr, "portwall counters: %s\n", err);
		return PW_EXIT_FAIL;
	}
	struct pw_dp dp;
	if (pw_dp_open_pinned(&dp, root, err, sizeof(err))) {
		fprintf(stderr, "portwall counters: %s\n", err);
		close(lock);
		return PW_EXIT_FAIL;
	}
	int rc = reset_locked(&dp, argc, argv);
	pw_dp_close(&dp);
	close(lock);
	return rc;
}
