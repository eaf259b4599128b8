/* cmd_explain.c - `portwall explain POLICY DIR PROTO PEER [PORT]`: the verdict
 * for one packet, read from the compiled tables the kernel will use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmds.h"
#include "policy/explain.h"

static void usage(FILE *f)
{
	fputs("usage: portwall explain POLICY in|out PROTO PEER [PORT|TYPE]\n"
	      "  The verdict of POLICY for a new packet (replies of tracked flows, and\n"
	      "  ICMP errors related to them or to what the in rules let in, aside):\n"
	      "  PROTO is tcp, udp, icmp, icmpv6, or an IP protocol name or number;\n"
	      "  PEER the remote address (the source inbound, the destination outbound),\n"
	      "  or a host name: the verdict for an address learned for it from DNS;\n"
	      "  PORT the local listening port inbound, the remote port outbound;\n"
	      "  TYPE an ICMP type name or number.\n"
	      "  e.g. portwall explain policies/ccp.policy in tcp 198.51.100.7 443\n"
	      "       portwall explain engage.policy out tcp pop1-ccans.mycontactcenter.net 443\n"
	      "Prints PASS or DROP, then the deciding rule (file:line and its text) or\n"
	      "the default, then the rules with host names that would decide otherwise\n"
	      "if the address were learned for one of them. Exit 0 when explained, 1 on\n"
	      "an invalid policy, 2 usage.\n", f);
}

int cmd_explain(int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return PW_EXIT_OK;
	}
	if (argc < 5 || argc > 6) {
		fprintf(stderr, "portwall explain: expected POLICY DIR PROTO PEER [PORT], got %d argument%s\n",
			argc - 1, argc == 2 ? "" : "s");
		usage(stderr);
		return PW_EXIT_USAGE;
	}
	struct pw_query q;
	char err[256];

	if (pw_query_parse(argv[2], argv[3], argv[4], argc == 6 ? argv[5] : NULL, &q, err, sizeof(err))) {
		fprintf(stderr, "portwall explain: %s\n", err);
		return PW_EXIT_USAGE;
	}
	struct pw_policy pol;
	struct pw_compiled c;
	struct pw_diag d = { 0 };

	if (pw_load_policy(argv[1], &pol, &c, &d)) {
		pw_diag_free(&d);
		return PW_EXIT_FAIL;
	}
	char line[8192];
	struct pw_verdict v;
	pw_explain(&pol, &c, &q, &v, line, sizeof(line));
	printf("%s\n", line);
	pw_compiled_free(&c);
	pw_policy_free(&pol);
	pw_diag_free(&d);
	return PW_EXIT_OK;
}
