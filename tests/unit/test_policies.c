/* test_policies.c - `explain` on every shipped policy: every port of its
 * vendor table in the direction the table gives passes, by the rule that
 * carries that row's comment; the same ports the other way and ports not
 * in the table drop. Run from the repository root. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/analyze.h"
#include "policy/explain.h"
#include "harness.h"
#include "vendor_rows.h"

static void run_rows(const char *path, const struct row *rows, size_t n)
{
	struct pw_policy pol;
	struct pw_compiled c;
	struct pw_diag d = { 0 };

	if (pw_policy_parse_file(path, &pol, &d) || pw_compile(&pol, &c, &d)) {
		FAILF("%s: %s", path, d.error);
		pw_diag_free(&d);
		return;
	}
	unsetenv("SSH_CONNECTION");
	if (pw_analyze(&pol, &c, &d))
		FAILF("%s: %s", path, d.error);
	/* the product policies enforce their outbound rows: no warning; base
	 * (a building block) and the permissive ENGAGE variant are default out
	 * allow, and their one warning says their allow-out rules only count */
	bool out_allow = pol.dflt[PW_DIR_OUT] == PW_PASS;
	if (out_allow != (strstr(path, "base.policy") || strstr(path, "-permissive.policy")))
		FAILF("%s: default out %s", path, out_allow ? "allow" : "drop");
	CHECK_EQ_INT(d.nwarn, out_allow ? 1 : 0);
	for (size_t i = 0; i < d.nwarn; i++)
		if (!strstr(d.warn[i].msg, "change nothing under default out allow; to enforce them, write default out drop"))
			FAILF("%s: a warning: %s", path, d.warn[i].msg);
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		struct pw_query q;
		struct pw_verdict v;
		char err[256], line[1024];
		if (pw_query_parse(r->dir, r->proto, r->peer, r->port, &q, err, sizeof(err))) {
			FAILF("%s row %zu: %s", path, i, err);
			continue;
		}
		pw_explain(&pol, &c, &q, &v, line, sizeof(line));
		const char *by = strncmp(line + 6, "always", 6) == 0 ? "always" :
				 v.rule == PW_RULE_DEFAULT ? "default" :
				 pol.rules[v.rule - 1].comment ? pol.rules[v.rule - 1].comment : "(no comment)";
		if (strncmp(line, r->verdict, 4) != 0 || strcmp(by, r->by) != 0)
			FAILF("%s: %s %s %s %s\n      got      %s (by \"%s\")\n      expected %s by \"%s\"",
			      path, r->dir, r->proto, r->peer, r->port ? r->port : "", line, by, r->verdict, r->by);
	}
	pw_compiled_free(&c);
	pw_policy_free(&pol);
	pw_diag_free(&d);
}

TEST(every_vendor_table)
{
	for (size_t i = 0; i < sizeof(vendor_tables) / sizeof(vendor_tables[0]); i++)
		run_rows(vendor_tables[i].policy, vendor_tables[i].rows, vendor_tables[i].n);
}

TEST(explain_line_format)
{
	struct pw_policy pol;
	struct pw_compiled c;
	struct pw_diag d = { 0 };
	struct pw_query q;
	struct pw_verdict v;
	char err[128], line[1024];

	REQUIRE(pw_policy_parse_file("policies/ccp.policy", &pol, &d) == 0);
	REQUIRE(pw_compile(&pol, &c, &d) == 0);
	REQUIRE(pw_query_parse("in", "tcp", "198.51.100.10", "38001", &q, err, sizeof(err)) == 0);
	pw_explain(&pol, &c, &q, &v, line, sizeof(line));
	const struct pw_rule *r = &pol.rules[v.rule - 1];
	char want[1024];
	snprintf(want, sizeof(want), "PASS  policies/ccp.policy:%d  %s", r->line, r->text);
	CHECK_EQ_STR(line, want);
	CHECK(strstr(r->text, "allow in  tcp port 38001 from @mr_pg") == r->text);
	REQUIRE(pw_query_parse("out", "udp", "2001:db8::9", "9", &q, err, sizeof(err)) == 0);
	pw_explain(&pol, &c, &q, &v, line, sizeof(line));
	CHECK_EQ_STR(line, "DROP  default  default out drop");
	REQUIRE(pw_query_parse("in", "udp", "2001:db8::9", "9", &q, err, sizeof(err)) == 0);
	pw_explain(&pol, &c, &q, &v, line, sizeof(line));
	CHECK_EQ_STR(line, "DROP  default  default in drop");
	pw_compiled_free(&c);
	pw_policy_free(&pol);
	pw_diag_free(&d);
}

TEST(query_errors)
{
	struct pw_query q;
	char err[256];

	CHECK(pw_query_parse("sideways", "tcp", "192.0.2.1", "1", &q, err, sizeof(err)) != 0);
	CHECK_EQ_STR(err, "direction must be in or out, got \"sideways\"");
	CHECK(pw_query_parse("in", "http", "192.0.2.1", "1", &q, err, sizeof(err)) != 0);
	CHECK_EQ_STR(err, "unknown protocol \"http\": use tcp, udp, icmp, icmpv6, or an IP protocol name or number");
	CHECK(pw_query_parse("in", "tcp", "192.0.2.256", "1", &q, err, sizeof(err)) != 0);
	CHECK_EQ_STR(err, "peer must be an IPv4 or IPv6 address or a host name, got \"192.0.2.256\"");
	CHECK(pw_query_parse("in", "tcp", "192.0.2.1", "65536", &q, err, sizeof(err)) != 0);
	CHECK_EQ_STR(err, "port must be 0-65535, got \"65536\"");
	CHECK(pw_query_parse("in", "tcp", "192.0.2.1", NULL, &q, err, sizeof(err)) != 0);
	CHECK_EQ_STR(err, "tcp needs a PORT");
	CHECK(pw_query_parse("in", "icmp", "2001:db8::1", "8", &q, err, sizeof(err)) != 0);
	CHECK_EQ_STR(err, "icmp is IPv4; for the IPv6 peer 2001:db8::1 use icmpv6");
	CHECK(pw_query_parse("in", "gre", "192.0.2.1", "1", &q, err, sizeof(err)) != 0);
	CHECK_EQ_STR(err, "protocol gre has no ports; drop the last argument");
	CHECK(pw_query_parse("in", "47", "192.0.2.1", NULL, &q, err, sizeof(err)) == 0);
	CHECK_EQ_INT(q.proto, 47);
}

PW_TEST_MAIN()
