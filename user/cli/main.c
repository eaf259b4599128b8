/* main.c - build/portwall: one binary, subcommands from a table. */
#include <stdio.h>
#include <string.h>

#include "cli/cmds.h"

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct cmd cmds[] = {
	{ "check", cmd_check, "parse and compile a policy; show rules, map sizes, warnings, hash" },
	{ "explain", cmd_explain, "the verdict of a policy for one packet, and the rule that decides" },
	{ "import", cmd_import, "a vendor port table (tsv, PDF text, HTML, csv, prose) into a draft policy" },
	{ "test", cmd_test, "run packets through the real XDP/tc programs (BPF_PROG_TEST_RUN)" },
	{ "apply", cmd_apply, "attach a policy to interfaces, or hot-reload the one in force" },
	{ "status", cmd_status, "what is applied where, per-rule counters, drops, conntrack" },
	{ "audit", cmd_audit, "the host against a policy: unallowed listeners, idle rules, default-out flows" },
	{ "run", cmd_run, "the foreground agent: apply, reload on SIGHUP or file change, log drops" },
	{ "allow", cmd_allow, "a timed exception: one port to one peer --for a while, beside the policy" },
	{ "conntrack", cmd_conntrack, "the flows the datapath tracks: addresses, ports, origin, state, timers" },
	{ "counters", cmd_counters, "--reset [RULE...]: rule counters of the policy in force from zero" },
	{ "top", cmd_top, "rates every second: rules, dropped ports and sources (q quits)" },
	{ "log", cmd_log, "drop events, one line each (--follow, --json, --since)" },
	{ "suggest", cmd_suggest, "the allow rules the recorded drops ask for, ranked by packets; scans apart" },
	{ "reload", cmd_reload, "apply the policy file in force again (after editing it)" },
	{ "rollback", cmd_rollback, "go back to the previous policy at once, or to a kept GENERATION" },
	{ "history", cmd_history, "the generations kept: when, hash, who or what applied each" },
	{ "show", cmd_show, "the files of the policy in force (or of a GENERATION) as compiled" },
	{ "diff", cmd_diff, "rule by rule: a generation against another or the file on disk" },
	{ "confirm", cmd_confirm, "keep what `apply --confirm` put in force" },
	{ "unload", cmd_unload, "detach and remove everything portwall pinned" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: portwall COMMAND [ARGS]   (portwall COMMAND --help for more)\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "  %-10s %s\n", "version", "this build, libbpf, and what the kernel offers");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return PW_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		usage(stdout);
		return PW_EXIT_OK;
	}
	if (strcmp(name, "version") == 0 || strcmp(name, "--version") == 0)
		return cmd_version(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(name, cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	if (strcmp(name, "_watchdog") == 0)	/* started by apply --confirm */
		return cmd_watchdog(argc - 1, argv + 1);
	fprintf(stderr, "portwall: unknown command \"%s\"\n", name);
	usage(stderr);
	return PW_EXIT_USAGE;
}
