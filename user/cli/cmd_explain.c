/* cmd_explain.c - `portwall explain POLICY DIR PROTO PEER [PORT]`: the verdict
 * for one packet, read from the compiled tables the kernel will use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cmds.h"
#include "datapath/stats.h"
#include "policy/explain.h"
#include "policy/gateway.h"

static void usage(FILE *f)
{
	fputs("usage: portwall explain [--json] POLICY in|out PROTO PEER [PORT|TYPE]\n"
	      "       portwall explain [--json] GATEWAY in|out PROTO SRC DST [PORT|TYPE]\n"
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
	      "if the address were learned for one of them. A GATEWAY file judges the\n"
	      "packet by the policy of the protected host it goes to (in) or comes\n"
	      "from (out), or by its default forward (docs/gateway.md). Exit 0 when\n"
	      "explained, 1 on an invalid policy, 2 usage.\n"
	      "--json: one object: the query, \"verdict\" (pass/drop), \"decided_by\"\n"
	      "(rule, default, always), \"rule\" (id, file, line, text, comment; null\n"
	      "unless a rule), \"slot\", \"trie_lookups\" and \"explanation\" (the lines\n"
	      "above).\n", f);
}

/* The deciding rule as an object, null for the default. */
static json_t *rule_json(const struct pw_policy *pol, const struct pw_verdict *v)
{
	if (v->rule == PW_RULE_DEFAULT || v->rule > pol->nrules)
		return json_null();
	const struct pw_rule *r = &pol->rules[v->rule - 1];
	return json_pack("{s:I,s:s,s:i,s:s,s:s?}", "id", (json_int_t)v->rule, "file", r->file, "line", r->line,
			 "text", r->text, "comment", r->comment);
}

/* explain --json: what the line says, as fields (jansson). */
static int print_json(char **argv, int argc, const struct pw_policy *pol, const struct pw_verdict *v,
		      const char *line)
{
	char slot[64];
	/* "PASS  always  ..." where the datapath decides whatever the tables say */
	const char *by = !strncmp(line + 4, "  always  ", 10) ? "always" : v->rule ? "rule" : "default";

	pw_slot_name(v->slot, slot, sizeof(slot));
	json_t *o = json_pack("{s:s,s:{s:s,s:s,s:s,s:s?},s:s,s:s,s:o,s:s,s:i,s:s}", "policy", argv[1], "query",
			      "dir", argv[2], "proto", argv[3], "peer", argv[4], "port", argc == 6 ? argv[5] : NULL,
			      "verdict", v->action == PW_PASS ? "pass" : "drop", "decided_by", by, "rule",
			      rule_json(pol, v), "slot", slot, "trie_lookups", (int)v->trie_lookups, "explanation",
			      line);
	if (!o || json_dumpf(o, stdout, JSON_COMPACT) || putchar('\n') == EOF) {
		json_decref(o);
		fprintf(stderr, "portwall explain: writing the JSON failed (out of memory, or stdout closed)\n");
		return PW_EXIT_FAIL;
	}
	json_decref(o);
	return PW_EXIT_OK;
}

/* Take --json out of argv (anywhere); true when it was there. */
static bool take_json(int *argc, char **argv)
{
	bool json = false;
	int n = 1;

	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else
			argv[n++] = argv[i];
	}
	*argc = n;
	return json;
}

int cmd_explain(int argc, char **argv)
{
	bool json = take_json(&argc, argv);

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return PW_EXIT_OK;
	}
	if (argc >= 2 && pw_gateway_sniff_file(argv[1]) == 1)
		return pw_gateway_explain(argc - 1, argv + 1, json);
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
	int rc = PW_EXIT_OK;
	if (json)
		rc = print_json(argv, argc, &pol, &v, line);
	else
		printf("%s\n", line);
	pw_compiled_free(&c);
	pw_policy_free(&pol);
	pw_diag_free(&d);
	return rc;
}
