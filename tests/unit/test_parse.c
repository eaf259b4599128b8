/* test_parse.c - the policy parser: every statement, every error with its
 * exact message and position, includes and cycles. No root needed. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "policy/policy.h"
#include "portwall.h"

static struct pw_policy pol;
static struct pw_diag diag;

static int parse(const char *text)
{
	pw_policy_free(&pol);
	pw_diag_free(&diag);
	return pw_policy_parse_text("t.policy", text, strlen(text), &pol, &diag);
}

/* The error text for a policy that must not parse. */
static const char *error_of(const char *text)
{
	if (parse(text) == 0)
		return "(parsed without error)";
	return diag.error;
}

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
}

static int parse_path(const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	pw_policy_free(&pol);
	pw_diag_free(&diag);
	return pw_policy_parse_file(path, &pol, &diag);
}

static void rm_tmpdir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

static void make_tmpdir(void)
{
	if (tmpdir[0])
		return;
	strcpy(tmpdir, "/tmp/pw-parse-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		exit(2);
	}
	atexit(rm_tmpdir);
}

/* ---- statements ----------------------------------------------------------- */

TEST(defaults_when_empty)
{
	REQUIRE(parse("# nothing but a comment\n\n") == 0);
	CHECK_EQ_STR(pol.name, "t.policy");
	CHECK_EQ_INT(pol.dflt[PW_DIR_IN], PW_DROP);
	CHECK_EQ_INT(pol.dflt[PW_DIR_OUT], PW_PASS);
	CHECK_EQ_INT(pol.mode, PW_MODE_ENFORCE);
	CHECK_EQ_INT(pol.nrules, 0);
}

TEST(policy_default_mode)
{
	REQUIRE(parse("policy \"Cisco Finesse\"\ndefault in allow\ndefault out drop\nmode monitor\n") == 0);
	CHECK_EQ_STR(pol.name, "Cisco Finesse");
	CHECK_EQ_INT(pol.dflt[PW_DIR_IN], PW_PASS);
	CHECK_EQ_INT(pol.dflt[PW_DIR_OUT], PW_DROP);
	CHECK_EQ_INT(pol.mode, PW_MODE_MONITOR);
	CHECK_EQ_INT(diag.nwarn, 0);
}

TEST(default_changed_warns)
{
	REQUIRE(parse("default in drop\ndefault in allow\n") == 0);
	CHECK_EQ_INT(pol.dflt[PW_DIR_IN], PW_PASS);
	REQUIRE(diag.nwarn == 1);
	CHECK_EQ_INT(diag.warn[0].line, 2);
	CHECK_EQ_STR(diag.warn[0].msg,
		     "default in changes from drop (set at t.policy:1) to allow; the later line applies");
	REQUIRE(parse("default in drop\ndefault in drop\n") == 0);
	CHECK_EQ_INT(diag.nwarn, 0);
}

TEST(rule_full)
{
	REQUIRE(parse("set mr_pg = 198.51.100.10/32, 2001:db8:5::10/128\n"
		      "allow in  tcp port 38001 from @mr_pg comment \"media routing\"  # trailing\n") == 0);
	REQUIRE(pol.nrules == 1);
	const struct pw_rule *r = &pol.rules[0];
	CHECK_EQ_INT(r->id, 1);
	CHECK_EQ_INT(r->action, PW_PASS);
	CHECK_EQ_INT(r->dirs, 1 << PW_DIR_IN);
	CHECK_EQ_INT(r->protos, PW_P_TCP);
	REQUIRE(r->nranges == 1);
	CHECK_EQ_INT(r->ranges[0].lo, 38001);
	CHECK_EQ_INT(r->ranges[0].hi, 38001);
	CHECK(r->restricted);
	REQUIRE(r->npeers == 2);
	CHECK_EQ_INT(r->peers[0].fam, PW_FAM_V4);
	CHECK_EQ_INT(r->peers[0].len, 32);
	CHECK_EQ_INT(r->peers[1].fam, PW_FAM_V6);
	CHECK_EQ_INT(r->peers[1].len, 128);
	CHECK_EQ_STR(r->comment, "media routing");
	CHECK_EQ_STR(r->peers_text, "@mr_pg");
	CHECK_EQ_STR(r->ports_text, "38001");
	CHECK_EQ_STR(r->text, "allow in  tcp port 38001 from @mr_pg comment \"media routing\"");
	CHECK_EQ_INT(r->line, 2);
	CHECK_EQ_STR(r->file, "t.policy");
}

TEST(ports_sorted_merged)
{
	REQUIRE(parse("deny in tcp,udp port 443, 80,81-90, 1-1023 ,65535\n") == 0);
	const struct pw_rule *r = &pol.rules[0];
	CHECK_EQ_INT(r->action, PW_DROP);
	CHECK_EQ_INT(r->protos, PW_P_TCP | PW_P_UDP);
	REQUIRE(r->nranges == 2);
	CHECK_EQ_INT(r->ranges[0].lo, 1);
	CHECK_EQ_INT(r->ranges[0].hi, 1023);
	CHECK_EQ_INT(r->ranges[1].lo, 65535);
	CHECK_EQ_INT(r->ranges[1].hi, 65535);
	CHECK(!r->restricted);
}

TEST(list_continues_after_trailing_comma)
{
	REQUIRE(parse("set big = 192.0.2.0/25,\n  192.0.2.128/25,   # more below\n\n  2001:db8::/32\n"
		      "allow in tcp port 22 from @big\n") == 0);
	REQUIRE(pol.nsets == 1);
	CHECK_EQ_INT(pol.sets[0].n, 3);
	CHECK_EQ_INT(pol.sets[0].line, 1);
	CHECK_EQ_INT(pol.rules[0].line, 5);
}

/* "set big = " and then n items, ten a line, item k from item(k); the
 * items are written on one line when one_line (a list the parser does
 * not take in as it comes). Returns the malloc'd text. */
static char *long_set(unsigned n, bool one_line, const char *(*item)(unsigned, char *), const char *tail)
{
	size_t cap = 64 * (size_t)n + strlen(tail) + 64, o = 0;
	char *t = malloc(cap), buf[64];

	if (!t)
		exit(2);
	o += (size_t)snprintf(t + o, cap - o, "set small = 192.0.2.0/24, h.example.com\nset big = ");
	for (unsigned k = 0; k < n; k++)
		o += (size_t)snprintf(t + o, cap - o, "%s%s", item(k, buf),
				      k + 1 == n ? "\n" : one_line || k % 10 != 9 ? ", " : ",\n  ");
	snprintf(t + o, cap - o, "%s", tail);
	return t;
}

static const char *plain_item(unsigned k, char *buf)
{
	if (k == 7)
		return "@small";
	if (k == 1500)
		return "*.example.org";
	if (k % 3 == 0)
		snprintf(buf, 64, "2001:db8:%x::/48", k % 1000);	/* repeats */
	else
		snprintf(buf, 64, "10.%u.%u.0/24", k >> 8, k & 0xff);
	return buf;
}

static const char *mixed_item(unsigned k, char *buf)
{
	return k == 2222 ? "any" : plain_item(k, buf);
}

static const char *bad_item(unsigned k, char *buf)
{
	return k == 2500 ? "10.1.2.3/40" : mixed_item(k, buf);
}

/* A list of thousands of items over many lines is taken in as it is
 * read (set_flush): the same set as on one line, the same messages. */
TEST(long_set_lists_read_as_they_come)
{
	const char *rules = "allow in tcp port 22 from @big\nallow in tcp port 23 from @big, 198.51.100.1\n";
	char *many = long_set(3000, false, mixed_item, rules), *one = long_set(3000, true, mixed_item, rules);
	struct pw_policy a;

	REQUIRE(parse(one) == 0);
	a = pol;
	memset(&pol, 0, sizeof(pol));
	REQUIRE(parse(many) == 0);
	REQUIRE(pol.nsets == 2 && a.nsets == 2);
	CHECK_EQ_INT(pol.sets[1].n, a.sets[1].n);
	CHECK(pol.sets[1].n == a.sets[1].n &&
	      memcmp(pol.sets[1].pfx, a.sets[1].pfx, a.sets[1].n * sizeof(*a.sets[1].pfx)) == 0);
	CHECK_EQ_INT(pol.sets[1].nnames, 2);
	CHECK_EQ_INT(pol.sets[1].line, 2);
	pw_policy_free(&a);
	free(many);
	free(one);

	/* a rule naming one set shares its prefixes; one naming more has its own */
	many = long_set(3000, false, plain_item, rules);
	REQUIRE(parse(many) == 0);
	REQUIRE(pol.nrules == 2);
	CHECK(pol.rules[0].peers_shared && pol.rules[0].peers == pol.sets[1].pfx);
	CHECK(!pol.rules[1].peers_shared && pol.rules[1].npeers == pol.sets[1].n + 1);
	CHECK_EQ_INT(pol.rules[1].line, 2 + 301);
	free(many);

	/* an error late in the list: item 2500 is the first of line 2 + 250 */
	many = long_set(3000, false, bad_item, rules);
	CHECK_EQ_STR(error_of(many), "t.policy:252:3: error: bad prefix length in \"10.1.2.3/40\": IPv4 "
		     "takes /0 to /32, IPv6 /0 to /128");
	free(many);
	/* a list that ends in "," at the end of the file */
	many = long_set(3000, false, mixed_item, "");
	many[strlen(many) - 1] = ',';
	CHECK_EQ_STR(error_of(many), "t.policy:301:171: error: expected an address, CIDR, @set or "
		     "\"any\" after \",\" at end of line");
	free(many);
}

static int cmp_pfx(const void *a, const void *b)
{
	return pw_prefix_cmp(a, b);
}

/* The in-place sort of a set's prefixes orders as qsort does: random,
 * sorted, reversed and all-equal inputs with many repeats. */
TEST(prefix_sort_matches_qsort)
{
	static struct pw_prefix a[3000], b[3000];
	uint64_t r = 88172645463325252ull;

	for (unsigned round = 0; round < 60; round++) {
		size_t n = round < 4 ? round : (size_t)(r % 3000);
		for (size_t i = 0; i < n; i++) {
			r ^= r << 13, r ^= r >> 7, r ^= r << 17;
			memset(&a[i], 0, sizeof(a[i]));
			a[i].fam = r & 1;
			a[i].len = (uint8_t)((r >> 8) % (a[i].fam ? 129 : 33));
			a[i].addr[0] = round % 5 == 4 ? 7 : (uint8_t)(r >> 16) % 4;
			a[i].addr[a[i].fam ? 15 : 3] = (uint8_t)(r >> 24) % 3;
		}
		if (round % 5 == 2 || round % 5 == 3)
			qsort(a, n, sizeof(*a), cmp_pfx);	/* sorted already */
		if (round % 5 == 3)
			for (size_t i = 0; i < n / 2; i++) {	/* reversed */
				struct pw_prefix t = a[i];
				a[i] = a[n - 1 - i];
				a[n - 1 - i] = t;
			}
		memcpy(b, a, n * sizeof(*a));
		qsort(b, n, sizeof(*b), cmp_pfx);
		pw_prefix_sort(a, n);
		if (memcmp(a, b, n * sizeof(*a)) != 0)
			FAILF("round %u: %zu prefixes sort differently from qsort", round, n);
	}
}

TEST(no_port_means_every_port)
{
	REQUIRE(parse("allow out udp\n") == 0);
	CHECK_EQ_INT(pol.rules[0].nranges, 0);
	CHECK(pol.rules[0].ports_text == NULL);
}

TEST(directions_and_peers)
{
	REQUIRE(parse("allow out tcp port 1433 to 198.51.100.20\n"
		      "allow both udp port 123 peer 192.0.2.0/24, 2001:db8::/48\n"
		      "allow in tcp port 22 from any\n"
		      "allow in tcp port 23 from 0.0.0.0/0, ::/0\n"
		      "allow in tcp port 24 from 0.0.0.0/0\n") == 0);
	CHECK_EQ_INT(pol.rules[0].dirs, 1 << PW_DIR_OUT);
	CHECK(pol.rules[0].restricted);
	CHECK_EQ_INT(pol.rules[1].dirs, (1 << PW_DIR_IN) | (1 << PW_DIR_OUT));
	CHECK_EQ_INT(pol.rules[1].npeers, 2);
	CHECK(!pol.rules[2].restricted);	/* any */
	CHECK(!pol.rules[3].restricted);	/* both families whole */
	CHECK(pol.rules[4].restricted);		/* IPv4 only */
}

TEST(icmp_types)
{
	REQUIRE(parse("allow in icmp type echo-request, 3, 11-12\n"
		      "allow in icmpv6 type packet-too-big,echo-request\n"
		      "allow out icmp\n") == 0);
	const struct pw_rule *r = &pol.rules[0];
	CHECK_EQ_INT(r->protos, PW_P_ICMP);
	REQUIRE(r->nranges == 3);
	CHECK_EQ_INT(r->ranges[0].lo, 3);
	CHECK_EQ_INT(r->ranges[1].lo, 8);
	CHECK_EQ_INT(r->ranges[2].lo, 11);
	CHECK_EQ_INT(r->ranges[2].hi, 12);
	r = &pol.rules[1];
	CHECK_EQ_INT(r->protos, PW_P_ICMPV6);
	REQUIRE(r->nranges == 2);
	CHECK_EQ_INT(r->ranges[0].lo, 2);
	CHECK_EQ_INT(r->ranges[1].lo, 128);
	CHECK_EQ_INT(pol.rules[2].nranges, 0);
}

TEST(proto_names_and_numbers)
{
	REQUIRE(parse("allow in proto vrrp\nallow in proto 47\nallow in proto tcp\nallow in proto 58\n") == 0);
	CHECK_EQ_INT(pol.rules[0].protos, PW_P_OTHER);
	CHECK_EQ_INT(pol.rules[0].ip_proto, 112);
	CHECK_EQ_INT(pol.rules[1].ip_proto, 47);
	CHECK_EQ_INT(pol.rules[2].protos, PW_P_TCP);
	CHECK_EQ_INT(pol.rules[3].protos, PW_P_ICMPV6);
}

TEST(sets_reference_sets)
{
	REQUIRE(parse("set a = 192.0.2.1, 192.0.2.1/32\nset b = @a, 2001:db8::1\n"
		      "deny in tcp from @b\n") == 0);
	CHECK_EQ_INT(pol.sets[0].n, 1);	/* duplicates folded */
	CHECK_EQ_INT(pol.sets[1].n, 2);
	CHECK_EQ_INT(pol.rules[0].npeers, 2);
}

/* ---- host names and resolvers --------------------------------------------- */

TEST(host_names_as_peers)
{
	REQUIRE(parse("allow out tcp port 443,5222 to *.MyContactCenter.net, 192.0.2.0/24,\n"
		      "  pop1-ccans.mycontactcenter.net., POP1-ccans.mycontactcenter.net, _sip._tcp.example.com\n"
		      "allow out tcp port 80 to pop0-ccaws.mycontactcenter.net\n") == 0);
	const struct pw_rule *r = &pol.rules[0];
	CHECK(r->restricted);
	CHECK_EQ_INT(r->npeers, 1);
	REQUIRE(r->nnames == 3);	/* lowercased, trailing dot dropped, repeats folded, sorted */
	CHECK_EQ_STR(r->names[0], "*.mycontactcenter.net");
	CHECK_EQ_STR(r->names[1], "_sip._tcp.example.com");
	CHECK_EQ_STR(r->names[2], "pop1-ccans.mycontactcenter.net");
	CHECK_EQ_STR(r->peers_text, "*.MyContactCenter.net, 192.0.2.0/24, pop1-ccans.mycontactcenter.net., "
		     "POP1-ccans.mycontactcenter.net, _sip._tcp.example.com");
	/* names alone restrict the rule, with no address peer */
	r = &pol.rules[1];
	CHECK(r->restricted);
	CHECK_EQ_INT(r->npeers, 0);
	REQUIRE(r->nnames == 1);
	CHECK_EQ_STR(r->names[0], "pop0-ccaws.mycontactcenter.net");
	/* a name beside "any" adds nothing: every peer */
	REQUIRE(parse("allow out tcp to any, a.example.com\n") == 0);
	CHECK(!pol.rules[0].restricted);
	CHECK_EQ_INT(pol.rules[0].nnames, 0);
	/* the longest name: 253 characters, labels of 63 */
	char text[400], name[260];
	snprintf(name, sizeof(name), "%.63s.%.63s.%.63s.%.61s", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
		 "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
		 "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd");
	REQUIRE(strlen(name) == 253);
	snprintf(text, sizeof(text), "allow out tcp to %s\n", name);
	REQUIRE(parse(text) == 0);
	CHECK_EQ_STR(pol.rules[0].names[0], name);
}

TEST(sets_hold_host_names)
{
	REQUIRE(parse("set engage = *.mycontactcenter.net, 203.0.113.0/24, *.MYCONTACTCENTER.NET\n"
		      "set more = @engage, outlook.office365.com\n"
		      "allow out tcp port 443 to @more, smtp.office365.com\n") == 0);
	REQUIRE(pol.nsets == 2);
	CHECK_EQ_INT(pol.sets[0].n, 1);
	REQUIRE(pol.sets[0].nnames == 1);
	CHECK_EQ_STR(pol.sets[0].names[0], "*.mycontactcenter.net");
	REQUIRE(pol.sets[1].nnames == 2);
	CHECK_EQ_STR(pol.sets[1].names[1], "outlook.office365.com");
	const struct pw_rule *r = &pol.rules[0];
	CHECK_EQ_INT(r->npeers, 1);
	REQUIRE(r->nnames == 3);
	CHECK_EQ_STR(r->names[0], "*.mycontactcenter.net");
	CHECK_EQ_STR(r->names[1], "outlook.office365.com");
	CHECK_EQ_STR(r->names[2], "smtp.office365.com");
	/* a set of names alone */
	REQUIRE(parse("set o365 = outlook.office365.com, login.microsoftonline.com\n"
		      "allow out tcp port 443 to @o365\n") == 0);
	CHECK_EQ_INT(pol.sets[0].n, 0);
	CHECK(pol.rules[0].restricted);
	CHECK_EQ_INT(pol.rules[0].nnames, 2);
}

TEST(resolver_statement)
{
	REQUIRE(parse("resolver 192.0.2.53, 2001:db8::53\nresolver 192.0.2.53\n"
		      "resolver 198.51.100.53\n") == 0);
	REQUIRE(pol.nresolvers == 3);	/* the repeat merged */
	CHECK_EQ_INT(pol.resolvers[0].ip.fam, PW_FAM_V4);
	CHECK_EQ_INT(pol.resolvers[0].ip.addr[3], 53);
	CHECK_EQ_INT(pol.resolvers[1].ip.fam, PW_FAM_V6);
	CHECK_EQ_INT(pol.resolvers[2].line, 3);
	CHECK_EQ_STR(pol.resolvers[2].file, "t.policy");
	/* none: valid, the apply layer reads /etc/resolv.conf */
	REQUIRE(parse("allow out tcp port 443 to a.example.com\n") == 0);
	CHECK_EQ_INT(pol.nresolvers, 0);
	/* eight in all is the most, across lines */
	REQUIRE(parse("resolver 192.0.2.1, 192.0.2.2, 192.0.2.3, 192.0.2.4\n"
		      "resolver 192.0.2.5, 192.0.2.6, 192.0.2.7, 192.0.2.8, 192.0.2.1\n") == 0);
	CHECK_EQ_INT(pol.nresolvers, PW_RESOLVERS_MAX);
}

TEST(resolvers_across_includes)
{
	make_tmpdir();
	write_file("dns.policy", "resolver 192.0.2.53\n");
	write_file("main.policy", "include \"dns.policy\"\nresolver 192.0.2.53, 192.0.2.54\n");
	REQUIRE(parse_path("main.policy") == 0);
	REQUIRE(pol.nresolvers == 2);
	CHECK(strstr(pol.resolvers[0].file, "dns.policy") != NULL);
	CHECK_EQ_INT(pol.resolvers[1].line, 2);
}

TEST(default_lines_are_kept)
{
	REQUIRE(parse("allow in tcp\ndefault out drop\n") == 0);
	CHECK_EQ_STR(pol.dflt_file[PW_DIR_OUT], "t.policy");
	CHECK_EQ_INT(pol.dflt_line[PW_DIR_OUT], 2);
	CHECK(pol.dflt_file[PW_DIR_IN] == NULL);
}

TEST(clauses_any_order)
{
	REQUIRE(parse("allow in comment \"x\" tcp port 1\n") != 0);
	REQUIRE(parse("allow in tcp comment \"c\" from 192.0.2.1 port 8443\n") == 0);
	CHECK_EQ_INT(pol.rules[0].ranges[0].lo, 8443);
	CHECK_EQ_STR(pol.rules[0].comment, "c");
}

TEST(quoted_strings)
{
	REQUIRE(parse("policy \"a # not a comment \\\"quoted\\\" \\\\ b\"\n") == 0);
	CHECK_EQ_STR(pol.name, "a # not a comment \"quoted\" \\ b");
}

TEST(crlf_lines)
{
	REQUIRE(parse("policy \"w\"\r\nallow in tcp port 22\r\n") == 0);
	CHECK_EQ_INT(pol.nrules, 1);
	CHECK_EQ_STR(pol.rules[0].text, "allow in tcp port 22");
}

/* ---- errors: exact message and position --------------------------------- */

struct err_case {
	const char *text;
	const char *error;
};

static const struct err_case err_cases[] = {
	{ "alow in tcp\n",
	  "t.policy:1:1: error: expected a statement (policy, include, default, mode, set, resolver, dns-users, allow or deny), got \"alow\"; did you mean \"allow\"?" },
	{ "\n  , x\n",
	  "t.policy:2:3: error: expected a statement (policy, include, default, mode, set, resolver, dns-users, allow or deny), got \",\"" },
	{ "policy\n", "t.policy:1:7: error: expected a quoted name, as in policy \"Cisco Finesse\" at end of line" },
	{ "policy name\n", "t.policy:1:8: error: expected a quoted name, got \"name\"" },
	{ "policy \"a\" b\n", "t.policy:1:12: error: unexpected \"b\" after the policy name" },
	{ "policy \"a\"\npolicy \"b\"\n",
	  "t.policy:2:1: error: the policy is already named \"a\"; keep one policy line" },
	{ "policy \"open\n", "t.policy:1:8: error: unterminated string: close it with \" on the same line" },
	{ "include base.policy\n", "t.policy:1:9: error: expected a quoted file name, got \"base.policy\"" },
	{ "default\n", "t.policy:1:8: error: expected in or out, as in default in drop at end of line" },
	{ "default both drop\n", "t.policy:1:9: error: expected in or out, got \"both\"" },
	{ "default in\n", "t.policy:1:11: error: expected drop or allow at end of line" },
	{ "default in reject\n", "t.policy:1:12: error: expected drop or allow, got \"reject\"" },
	{ "default in drop now\n", "t.policy:1:17: error: unexpected \"now\" after default in drop" },
	{ "mode learn\n", "t.policy:1:6: error: expected enforce or monitor, got \"learn\"" },
	{ "set 1x = 192.0.2.1\n",
	  "t.policy:1:5: error: expected a set name (letters, digits, _ - .; starting with a letter or _), got \"1x\"" },
	{ "set a 192.0.2.1\n", "t.policy:1:7: error: expected \"=\", got \"192.0.2.1\"" },
	{ "set a =\n", "t.policy:1:8: error: expected an address, CIDR, @set or \"any\" at end of line" },
	{ "set a = 192.0.2.1\nset a = 192.0.2.2\n",
	  "t.policy:2:5: error: set \"a\" is already defined at t.policy:1" },
	{ "set a = 192.0.2.1 192.0.2.2\n", "t.policy:1:19: error: expected \",\" or end of line, got \"192.0.2.2\"" },
	{ "set a = @b\n",
	  "t.policy:1:9: error: unknown set \"@b\"; define it with \"set b = ...\" before this line" },
	{ "allow\n", "t.policy:1:6: error: expected a direction: in, out or both at end of line" },
	{ "allow inbound tcp\n", "t.policy:1:7: error: expected a direction: in, out or both, got \"inbound\"" },
	{ "allow in\n",
	  "t.policy:1:9: error: expected a protocol: tcp, udp, tcp,udp, icmp, icmpv6 or proto NAME|NUMBER at end of line" },
	{ "allow in http\n",
	  "t.policy:1:10: error: expected a protocol: tcp, udp, tcp,udp, icmp, icmpv6 or proto NAME|NUMBER, got \"http\"" },
	{ "allow in tcp,icmp\n",
	  "t.policy:1:14: error: \"icmp\" cannot share a rule with tcp or udp; write a separate rule for it" },
	{ "allow in tcp,udp,icmpv6\n",
	  "t.policy:1:18: error: \"icmpv6\" cannot share a rule with tcp or udp; write a separate rule for it" },
	{ "allow in icmp,tcp\n",
	  "t.policy:1:15: error: \"tcp\" cannot share a rule with icmp; write a separate rule for it" },
	{ "allow in icmpv6, icmp\n",
	  "t.policy:1:18: error: \"icmp\" cannot share a rule with icmpv6; write a separate rule for it" },
	{ "allow in tcp,tcp\n", "t.policy:1:14: error: \"tcp\" is listed twice" },
	{ "allow in udp, tcp, udp port 53\n", "t.policy:1:20: error: \"udp\" is listed twice" },
	{ "allow in tcp,\n", "t.policy:1:14: error: expected tcp or udp after \",\" at end of line" },
	{ "allow in proto bogus\n",
	  "t.policy:1:16: error: expected an IP protocol name (gre, esp, ah, vrrp, ospf, sctp, ...) or number 0-255, got \"bogus\"" },
	{ "allow in proto 256\n",
	  "t.policy:1:16: error: expected an IP protocol name (gre, esp, ah, vrrp, ospf, sctp, ...) or number 0-255, got \"256\"" },
	{ "allow in proto gre port 1\n",
	  "t.policy:1:20: error: \"port\" goes with tcp or udp; proto rules match the whole protocol" },
	{ "allow in icmp port 1\n", "t.policy:1:15: error: \"port\" goes with tcp or udp; icmp rules take \"type\"" },
	{ "allow in tcp type 8\n", "t.policy:1:14: error: \"type\" goes with icmp or icmpv6; tcp/udp rules take \"port\"" },
	{ "allow in tcp port\n", "t.policy:1:18: error: expected a port or range at end of line" },
	{ "allow in tcp port 0\n", "t.policy:1:19: error: port \"0\" is out of range 1-65535" },
	{ "allow in tcp port 65536\n", "t.policy:1:19: error: port \"65536\" is out of range 1-65535" },
	{ "allow in tcp port 1-65536\n", "t.policy:1:19: error: port \"1-65536\" is out of range 1-65535" },
	{ "allow in tcp port 443-80\n", "t.policy:1:19: error: range \"443-80\" is backwards; write 80-443" },
	{ "allow in tcp port 80-\n", "t.policy:1:19: error: expected a port (1-65535) or a range N-M, got \"80-\"" },
	{ "allow in tcp port https\n", "t.policy:1:19: error: expected a port (1-65535) or a range N-M, got \"https\"" },
	{ "allow in tcp port 80,\n", "t.policy:1:22: error: expected a port after \",\" at end of line" },
	{ "allow in tcp port 80 port 81\n",
	  "t.policy:1:22: error: \"port\" is given twice; put every item in one comma list" },
	{ "allow in icmp type 8 type 0\n",
	  "t.policy:1:22: error: \"type\" is given twice; put every item in one comma list" },
	/* which keyword fits the protocol is said before that it is repeated */
	{ "allow in icmp type 8 port 80\n",
	  "t.policy:1:22: error: \"port\" goes with tcp or udp; icmp rules take \"type\"" },
	{ "allow in tcp port 80 type 8\n",
	  "t.policy:1:22: error: \"type\" goes with icmp or icmpv6; tcp/udp rules take \"port\"" },
	{ "allow in icmp type 256\n", "t.policy:1:20: error: ICMP type \"256\" is out of range 0-255" },
	{ "allow in icmpv6 type 128-300\n", "t.policy:1:22: error: ICMP type \"128-300\" is out of range 0-255" },
	{ "allow in icmp type 11-3\n", "t.policy:1:20: error: range \"11-3\" is backwards; write 3-11" },
	{ "allow in icmp type packet-too-big\n",
	  "t.policy:1:20: error: \"packet-too-big\" is an ICMPv6 type; for IPv4 use destination-unreachable (it carries \"fragmentation needed\")" },
	{ "allow in icmp type neighbor-solicitation\n",
	  "t.policy:1:20: error: \"neighbor-solicitation\" is not an ICMP type; did you mean icmpv6?" },
	{ "allow in icmpv6 type timestamp-request\n",
	  "t.policy:1:22: error: \"timestamp-request\" is not an ICMPv6 type; did you mean icmp?" },
	{ "allow in icmp type ping\n", "t.policy:1:20: error: expected an ICMP type (0-255 or a name), got \"ping\"" },
	{ "allow out tcp from 192.0.2.1\n",
	  "t.policy:1:15: error: \"from\" names the source of inbound packets and goes with \"in\"; use \"to\" or \"peer\"" },
	{ "allow in tcp to 192.0.2.1\n",
	  "t.policy:1:14: error: \"to\" names the destination of outbound packets and goes with \"out\"; use \"from\" or \"peer\"" },
	{ "allow both tcp from 192.0.2.1\n",
	  "t.policy:1:16: error: \"from\" names the source of inbound packets and goes with \"in\"; use \"peer\"" },
	{ "allow in tcp from\n", "t.policy:1:18: error: expected an address, CIDR, @set or \"any\" at end of line" },
	{ "allow in tcp from 192.0.2.300\n",
	  "t.policy:1:19: error: expected an address, CIDR, @set or \"any\", got \"192.0.2.300\"" },
	{ "allow in tcp from 192.0.2.0/33\n",
	  "t.policy:1:19: error: bad prefix length in \"192.0.2.0/33\": IPv4 takes /0 to /32, IPv6 /0 to /128" },
	{ "allow in tcp from 2001:db8::/129\n",
	  "t.policy:1:19: error: bad prefix length in \"2001:db8::/129\": IPv4 takes /0 to /32, IPv6 /0 to /128" },
	{ "allow in tcp from 198.51.100.10/24\n",
	  "t.policy:1:19: error: \"198.51.100.10/24\" has host bits set after /24; write 198.51.100.0/24 for the network or 198.51.100.10 for the host" },
	{ "allow in tcp from 2001:db8::1/64\n",
	  "t.policy:1:19: error: \"2001:db8::1/64\" has host bits set after /64; write 2001:db8::/64 for the network or 2001:db8::1 for the host" },
	{ "allow in tcp from 192.0.2.1 from 192.0.2.2\n",
	  "t.policy:1:29: error: peers are given twice; put every peer in one comma list" },
	{ "allow in tcp from 192.0.2.1 peer 192.0.2.2\n",
	  "t.policy:1:29: error: peers are given twice; put every peer in one comma list" },
	/* the direction is checked before the repetition */
	{ "allow in tcp port 1 from 192.0.2.1 to 192.0.2.2\n",
	  "t.policy:1:36: error: \"to\" names the destination of outbound packets and goes with \"out\"; use \"from\" or \"peer\"" },
	{ "allow out tcp to 192.0.2.1 from 192.0.2.2\n",
	  "t.policy:1:28: error: \"from\" names the source of inbound packets and goes with \"in\"; use \"to\" or \"peer\"" },
	{ "allow in tcp comment\n", "t.policy:1:21: error: expected a quoted comment at end of line" },
	{ "allow in tcp comment x\n", "t.policy:1:22: error: expected a quoted comment, got \"x\"" },
	{ "allow in tcp comment \"a\" comment \"b\"\n", "t.policy:1:26: error: \"comment\" is given twice" },
	{ "allow in tcp port 22 = 1\n",
	  "t.policy:1:22: error: expected port, type, from, to, peer or comment, got \"=\"" },
	{ "allow in tcp\nallow in udp port 99999\n", "t.policy:2:19: error: port \"99999\" is out of range 1-65535" },
	/* columns count characters, not bytes: "é" is two bytes, one column */
	{ "allow in tcp comment \"h\xc3\xa9llo\" port 0\n",
	  "t.policy:1:35: error: port \"0\" is out of range 1-65535" },
	{ "allow in tcp comment \"\xe2\x82\xac \\\" \xf0\x9f\x94\xa5\" port\n",
	  "t.policy:1:35: error: expected a port or range at end of line" },
	{ "set caf\xc3\xa9 = 192.0.2.1\n",
	  "t.policy:1:5: error: expected a set name (letters, digits, _ - .; starting with a letter or _), got \"caf\xc3\xa9\"" },
	{ "allow in tcp from @caf\xc3\xa9, 192.0.2.1/33\n",
	  "t.policy:1:19: error: unknown set \"@caf\xc3\xa9\"; define it with \"set caf\xc3\xa9 = ...\" before this line" },
	{ "allow in tcp comment \"\xc3\xa9\" from 192.0.2.1/33\n",
	  "t.policy:1:31: error: bad prefix length in \"192.0.2.1/33\": IPv4 takes /0 to /32, IPv6 /0 to /128" },
	/* a UTF-8 byte order mark at the start of the file is no column */
	{ "\xef\xbb\xbf" "allow in tcp port 0\n", "t.policy:1:19: error: port \"0\" is out of range 1-65535" },
	/* host names: each error at the label it is about */
	{ "allow out tcp to *.com\n",
	  "t.policy:1:18: error: \"*.com\" would trust every name in a top-level domain: a wildcard needs at least two labels after \"*.\", as in *.example.com" },
	{ "allow out tcp to *.com.\n",
	  "t.policy:1:18: error: \"*.com.\" would trust every name in a top-level domain: a wildcard needs at least two labels after \"*.\", as in *.example.com" },
	{ "allow out tcp to *\n",
	  "t.policy:1:18: error: a wildcard is \"*.\" and then a domain of two or more labels, as in *.example.com" },
	{ "allow out tcp to *.\n",
	  "t.policy:1:18: error: a wildcard is \"*.\" and then a domain of two or more labels, as in *.example.com" },
	{ "allow out tcp to a.*.example.com\n",
	  "t.policy:1:20: error: \"*\" stands only as the whole first label, as in *.example.com" },
	{ "allow out tcp to *pop.example.com\n",
	  "t.policy:1:18: error: \"*\" stands only as the whole first label, as in *.example.com" },
	{ "allow out tcp to *.*.example.com\n",
	  "t.policy:1:20: error: \"*\" stands only as the whole first label, as in *.example.com" },
	{ "allow out tcp to pop1..example.com\n",
	  "t.policy:1:23: error: an empty label (two dots, or a dot first): remove the extra \".\"" },
	{ "allow out tcp to .example.com\n",
	  "t.policy:1:18: error: an empty label (two dots, or a dot first): remove the extra \".\"" },
	{ "allow out tcp to pop1.example.com..\n",
	  "t.policy:1:35: error: an empty label (two dots, or a dot first): remove the extra \".\"" },
	{ "allow out tcp to -pop.example.com\n",
	  "t.policy:1:18: error: the label \"-pop\" starts or ends with \"-\"; a label starts and ends with a letter, digit or \"_\"" },
	{ "allow out tcp to pop.example-.com\n",
	  "t.policy:1:22: error: the label \"example-\" starts or ends with \"-\"; a label starts and ends with a letter, digit or \"_\"" },
	{ "allow out tcp to pop!.example.com\n",
	  "t.policy:1:21: error: a host name takes letters, digits, \"-\" and \"_\", not \"!\"" },
	{ "allow out tcp to b\xc3\xbc" "cher.example\n",
	  "t.policy:1:19: error: a host name is ASCII: write an international name in its xn-- (IDNA) form, as the DNS carries it" },
	{ "allow out tcp comment \"\xc3\xa9\" to a.b\xc3\xa9\n",
	  "t.policy:1:33: error: a host name is ASCII: write an international name in its xn-- (IDNA) form, as the DNS carries it" },
	{ "allow out tcp to a.example.123\n",
	  "t.policy:1:28: error: the last label \"123\" starts with a digit, which no top-level domain does: is it a mistyped address?" },
	{ "allow out tcp to localhost.\n",
	  "t.policy:1:18: error: a host name needs at least two labels, as in host.example.com; \"localhost.\" has one" },
	{ "allow out tcp to aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com\n",
	  "t.policy:1:18: error: the label \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" is longer than 63 characters, the most a label takes" },
	{ "set s = ok.example.com, bad..example.com\n",
	  "t.policy:1:29: error: an empty label (two dots, or a dot first): remove the extra \".\"" },
	/* neither an address nor a name: the address message stays */
	{ "allow out tcp to 10.0.0.300\n", "t.policy:1:18: error: expected an address, CIDR, @set or \"any\", got \"10.0.0.300\"" },
	{ "allow out tcp to 10.0.0.1.\n", "t.policy:1:18: error: expected an address, CIDR, @set or \"any\", got \"10.0.0.1.\"" },
	{ "allow out tcp to 192.0.2.1a\n", "t.policy:1:18: error: expected an address, CIDR, @set or \"any\", got \"192.0.2.1a\"" },
	{ "allow out tcp to mailhost\n", "t.policy:1:18: error: expected an address, CIDR, @set or \"any\", got \"mailhost\"" },
	{ "allow out tcp to 2001:db8::g\n", "t.policy:1:18: error: expected an address, CIDR, @set or \"any\", got \"2001:db8::g\"" },
	{ "allow out tcp to a.example.com/24\n",
	  "t.policy:1:18: error: expected an address, CIDR, @set or \"any\", got \"a.example.com/24\"" },
	/* resolver */
	{ "resolver\n", "t.policy:1:9: error: expected the address of a DNS server, as in resolver 192.0.2.53 at end of line" },
	{ "resolver 192.0.2.53,\n", "t.policy:1:21: error: expected a DNS server's address after \",\" at end of line" },
	{ "resolver 192.0.2.53 192.0.2.54\n", "t.policy:1:21: error: expected \",\" or end of line, got \"192.0.2.54\"" },
	{ "resolver dns.example.com\n",
	  "t.policy:1:10: error: expected the IPv4 or IPv6 address of a DNS server, got \"dns.example.com\"" },
	{ "resolver \"192.0.2.53\"\n",
	  "t.policy:1:10: error: expected the IPv4 or IPv6 address of a DNS server, got \"192.0.2.53\"" },
	{ "resolver 192.0.2.0/24\n", "t.policy:1:10: error: a resolver is one address, not a prefix: drop the \"/24\"" },
	{ "resolver fe80::1%eth0\n",
	  "t.policy:1:10: error: \"fe80::1%eth0\" has a zone: a resolver is known by its address alone; write it without \"%eth0\"" },
	{ "resolver 192.0.2.53, 127.0.0.53\n",
	  "t.policy:1:22: error: 127.0.0.53 is a loopback address: its answers never cross an interface; name the servers the local resolver forwards to (resolvectl status lists them)" },
	{ "resolver ::1\n",
	  "t.policy:1:10: error: ::1 is a loopback address: its answers never cross an interface; name the servers the local resolver forwards to (resolvectl status lists them)" },
	{ "resolver 0.0.0.0\n", "t.policy:1:10: error: 0.0.0.0 is no server's address; give the DNS server's address" },
	{ "resolver ::ffff:192.0.2.53\n",
	  "t.policy:1:10: error: \"::ffff:192.0.2.53\" is an IPv4-mapped address, never on the wire; write 192.0.2.53" },
	{ "resolver 192.0.2.1, 192.0.2.2, 192.0.2.3, 192.0.2.4, 192.0.2.5\n"
	  "resolver 192.0.2.6, 192.0.2.7, 192.0.2.8, 192.0.2.9\n",
	  "t.policy:2:43: error: more than 8 resolvers (the first at t.policy:1): a policy takes at most 8, its includes too; remove one" },
	/* at most one policy line per file */
	{ "policy \"a\"\nallow in tcp\npolicy \"a\"\n",
	  "t.policy:3:1: error: the policy is already named \"a\"; keep one policy line" },
};

TEST(error_messages_and_positions)
{
	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const char *got = error_of(err_cases[i].text);
		if (strcmp(got, err_cases[i].error) != 0)
			FAILF("case %zu: %s\n      got      %s\n      expected %s", i, err_cases[i].text, got,
			      err_cases[i].error);
	}
}

TEST(error_fields_for_json)
{
	REQUIRE(parse("allow in tcp port 0\n") != 0);
	CHECK_EQ_STR(diag.err_file, "t.policy");
	CHECK_EQ_INT(diag.err_line, 1);
	CHECK_EQ_INT(diag.err_col, 19);
	CHECK_EQ_STR(diag.err_msg, "port \"0\" is out of range 1-65535");
	CHECK(pol.rules == NULL && pol.nrules == 0);	/* freed on error */
}

TEST(nul_byte_rejected)
{
	pw_policy_free(&pol);
	pw_diag_free(&diag);
	CHECK(pw_policy_parse_text("t.policy", "allow in tcp\0x\n", 15, &pol, &diag) != 0);
	CHECK_EQ_STR(diag.error, "t.policy:1:13: error: NUL byte in the file; is it a text file?");
	CHECK_EQ_INT(diag.err_col, 13);
	pw_policy_free(&pol);
	pw_diag_free(&diag);
	CHECK(pw_policy_parse_text("t.policy", "allow in tcp\n\n\xc3\xa9\xc3\xa9\0\n", 19, &pol, &diag) != 0);
	CHECK_EQ_STR(diag.error, "t.policy:3:3: error: NUL byte in the file; is it a text file?");
}

TEST(utf8_bom_skipped)
{
	REQUIRE(parse("\xef\xbb\xbfpolicy \"with a BOM\"\nallow in tcp port 22\n") == 0);
	CHECK_EQ_STR(pol.name, "with a BOM");
	CHECK_EQ_INT(pol.nrules, 1);
	CHECK_EQ_INT(pol.rules[0].line, 2);
	/* only at the very start */
	CHECK_EQ_STR(error_of("allow in tcp\n\xef\xbb\xbfpolicy \"x\"\n"),
		     "t.policy:2:1: error: expected a statement (policy, include, default, mode, set, "
		     "resolver, dns-users, allow or deny), got \"\xef\xbb\xbfpolicy\"");
}

/* ---- files and includes -------------------------------------------------- */

TEST(missing_file)
{
	make_tmpdir();
	REQUIRE(parse_path("nope.policy") != 0);
	char want[256];
	snprintf(want, sizeof(want), "%s/nope.policy: error: cannot read the policy: No such file or directory",
		 tmpdir);
	CHECK_EQ_STR(diag.error, want);
}

TEST(directory_is_not_a_policy)
{
	make_tmpdir();
	char dir[128], want[384];
	snprintf(dir, sizeof(dir), "%s/a-dir", tmpdir);
	mkdir(dir, 0755);
	REQUIRE(parse_path("a-dir") != 0);
	snprintf(want, sizeof(want), "%s/a-dir: error: cannot read the policy: Is a directory", tmpdir);
	CHECK_EQ_STR(diag.error, want);
	write_file("inc-dir.policy", "allow in tcp port 22\ninclude \"a-dir\"\n");
	REQUIRE(parse_path("inc-dir.policy") != 0);
	snprintf(want, sizeof(want), "%s/inc-dir.policy:2:9: error: cannot read included file "
		 "%s/a-dir: Is a directory", tmpdir, tmpdir);
	CHECK_EQ_STR(diag.error, want);
}

/* a pipe has no real path, but it can be read */
TEST(policy_from_a_pipe)
{
	static const char text[] = "policy \"piped\"\nallow in tcp port 22\n";
	int fds[2];
	char path[64];

	REQUIRE(pipe(fds) == 0);
	REQUIRE(write(fds[1], text, sizeof(text) - 1) == (ssize_t)(sizeof(text) - 1));
	close(fds[1]);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[0]);
	pw_policy_free(&pol);
	pw_diag_free(&diag);
	/* only when the caller says the file named may be a stream */
	const struct pw_parse_opts po = { .streams = true };
	int rc = pw_policy_parse_file_opts(path, &po, &pol, &diag);
	close(fds[0]);
	if (rc)
		FAILF("%s", diag.error);
	REQUIRE(rc == 0);
	CHECK_EQ_STR(pol.name, "piped");
	CHECK_EQ_INT(pol.nrules, 1);
	CHECK_EQ_STR(pol.files[0], path);
}

TEST(include_relative_to_including_file)
{
	make_tmpdir();
	char sub[128];
	snprintf(sub, sizeof(sub), "%s/sub", tmpdir);
	mkdir(sub, 0755);
	write_file("sub/base.policy", "policy \"base\"\ndefault in drop\nallow in tcp port 22\n");
	write_file("main.policy", "policy \"main\"\ninclude \"sub/base.policy\"\nallow in tcp port 443\n");
	REQUIRE(parse_path("main.policy") == 0);
	CHECK_EQ_STR(pol.name, "main");	/* the included file's name does not rename it */
	REQUIRE(pol.nrules == 2);
	CHECK_EQ_INT(pol.rules[0].ranges[0].lo, 22);	/* included rules stand where included */
	CHECK_EQ_INT(pol.rules[0].id, 1);
	CHECK_EQ_INT(pol.rules[1].ranges[0].lo, 443);
	CHECK(strstr(pol.rules[0].file, "sub/base.policy") != NULL);
	CHECK_EQ_INT(pol.rules[0].line, 3);
	CHECK_EQ_INT(pol.nfiles, 2);
}

TEST(include_missing_names_the_line)
{
	make_tmpdir();
	write_file("inc-missing.policy", "\ninclude \"gone.policy\"\n");
	REQUIRE(parse_path("inc-missing.policy") != 0);
	char want[384];
	snprintf(want, sizeof(want), "%s/inc-missing.policy:2:9: error: cannot read included file "
		 "%s/gone.policy: No such file or directory", tmpdir, tmpdir);
	CHECK_EQ_STR(diag.error, want);
}

TEST(include_error_inside_included_file)
{
	make_tmpdir();
	write_file("bad-inner.policy", "allow in tcp\nallow in tcp port 0\n");
	write_file("outer.policy", "include \"bad-inner.policy\"\n");
	REQUIRE(parse_path("outer.policy") != 0);
	char want[384];
	snprintf(want, sizeof(want), "%s/bad-inner.policy:2:19: error: port \"0\" is out of range 1-65535", tmpdir);
	CHECK_EQ_STR(diag.error, want);
}

TEST(include_cycle)
{
	make_tmpdir();
	write_file("cyc-a.policy", "include \"cyc-b.policy\"\n");
	write_file("cyc-b.policy", "allow in tcp port 1\ninclude \"cyc-a.policy\"\n");
	REQUIRE(parse_path("cyc-a.policy") != 0);
	char want[384];
	snprintf(want, sizeof(want), "%s/cyc-b.policy:2:9: error: include cycle: \"%s/cyc-a.policy\" is "
		 "already being read (it includes this file); remove one of the includes", tmpdir, tmpdir);
	CHECK_EQ_STR(diag.error, want);
	write_file("self.policy", "include \"self.policy\"\n");
	CHECK(parse_path("self.policy") != 0);
	CHECK(strstr(diag.error, "include cycle") != NULL);
}

TEST(included_file_has_one_policy_line)
{
	make_tmpdir();
	write_file("two-names.policy", "policy \"first\"\nallow in tcp port 22\npolicy \"second\"\n");
	write_file("inc-two-names.policy", "policy \"top\"\ninclude \"two-names.policy\"\n");
	REQUIRE(parse_path("inc-two-names.policy") != 0);
	char want[384];
	snprintf(want, sizeof(want), "%s/two-names.policy:3:1: error: this file is already named "
		 "\"first\"; keep one policy line", tmpdir);
	CHECK_EQ_STR(diag.error, want);
	/* one each is fine, and the included name does not rename the policy */
	write_file("one-name.policy", "policy \"inner\"\nallow in tcp port 22\n");
	write_file("inc-one-name.policy", "include \"one-name.policy\"\npolicy \"outer\"\n");
	REQUIRE(parse_path("inc-one-name.policy") == 0);
	CHECK_EQ_STR(pol.name, "outer");
}

TEST(include_once_diamond)
{
	make_tmpdir();
	write_file("d-base.policy", "set admins = 192.0.2.0/28\nallow in tcp port 22 from @admins\n");
	write_file("d-left.policy", "include \"d-base.policy\"\n");
	write_file("d-right.policy", "include \"d-base.policy\"\n");
	write_file("d-top.policy", "include \"d-left.policy\"\ninclude \"d-right.policy\"\n");
	REQUIRE(parse_path("d-top.policy") == 0);
	CHECK_EQ_INT(pol.nrules, 1);
	CHECK_EQ_INT(pol.nsets, 1);
}

TEST(include_depth_limit)
{
	make_tmpdir();
	char name[32], text[64];
	/* chain of 10 files: lvl0 includes lvl1 ... lvl8 includes lvl9 */
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "lvl%d.policy", i);
		if (i < 9)
			snprintf(text, sizeof(text), "include \"lvl%d.policy\"\n", i + 1);
		else
			snprintf(text, sizeof(text), "allow in tcp port 9\n");
		write_file(name, text);
	}
	/* lvl1 as root: 8 levels of includes below it -> fine */
	REQUIRE(parse_path("lvl1.policy") == 0);
	CHECK_EQ_INT(pol.nrules, 1);
	/* lvl0 as root: lvl9 sits 9 levels down -> error at lvl8's include */
	REQUIRE(parse_path("lvl0.policy") != 0);
	char want[256];
	snprintf(want, sizeof(want), "%s/lvl8.policy:1:9: error: includes nest deeper than 8 files; flatten them",
		 tmpdir);
	CHECK_EQ_STR(diag.error, want);
}

TEST(sets_are_global_across_includes)
{
	make_tmpdir();
	write_file("g-sets.policy", "set mail = 198.51.100.25\n");
	write_file("g-main.policy", "include \"g-sets.policy\"\nallow out tcp port 25 to @mail\n"
		   "set mail = 198.51.100.26\n");
	REQUIRE(parse_path("g-main.policy") != 0);
	CHECK(strstr(diag.error, "g-main.policy:3:5: error: set \"mail\" is already defined at ") != NULL);
	CHECK(strstr(diag.error, "g-sets.policy:1") != NULL);
}

/* ---- StrictModes: who could have written the files ---------------------- */

static int file_safe(mode_t mode, uid_t owner, bool dir, uid_t uid, char *msg, size_t n)
{
	struct stat sb;

	memset(&sb, 0, sizeof(sb));
	sb.st_mode = mode;
	sb.st_uid = owner;
	msg[0] = '\0';
	return pw_policy_file_safe("/etc/p/x.policy", &sb, dir, uid, msg, n);
}

TEST(strict_modes_check_function)
{
	char m[512];

	CHECK_EQ_INT(file_safe(S_IFREG | 0644, 0, false, 0, m, sizeof(m)), 0);
	CHECK_EQ_INT(file_safe(S_IFREG | 0600, 0, false, 0, m, sizeof(m)), 0);
	CHECK_EQ_INT(file_safe(S_IFREG | 0444, 0, false, 0, m, sizeof(m)), 0);
	CHECK_EQ_INT(file_safe(S_IFREG | 0664, 0, false, 0, m, sizeof(m)), -EPERM);
	CHECK_EQ_STR(m, "the file is group-writable (mode 0664): the group's members could change what "
		     "portwall enforces; fix: chmod go-w /etc/p/x.policy");
	CHECK_EQ_INT(file_safe(S_IFREG | 0646, 0, false, 0, m, sizeof(m)), -EPERM);
	CHECK(strstr(m, "the file is world-writable (mode 0646): any user could change") == m);
	CHECK_EQ_INT(file_safe(S_IFREG | 0666, 0, false, 0, m, sizeof(m)), -EPERM);
	CHECK(strstr(m, "the file is group- and world-writable (mode 0666)") == m);
	CHECK_EQ_INT(file_safe(S_IFREG | 02666, 0, false, 0, m, sizeof(m)), -EPERM);
	CHECK(strstr(m, "(mode 2666)") != NULL);
	/* the owner: root or the user running portwall */
	CHECK_EQ_INT(file_safe(S_IFREG | 0644, 1000, false, 0, m, sizeof(m)), -EPERM);
	CHECK_EQ_STR(m, "the file is owned by uid 1000, not root: that user could change what portwall "
		     "enforces; fix: chown root /etc/p/x.policy");
	CHECK_EQ_INT(file_safe(S_IFREG | 0644, 1000, false, 1000, m, sizeof(m)), 0);
	CHECK_EQ_INT(file_safe(S_IFREG | 0644, 0, false, 1000, m, sizeof(m)), 0);
	CHECK_EQ_INT(file_safe(S_IFREG | 0644, 1001, false, 1000, m, sizeof(m)), -EPERM);
	/* directories: writable by the owner only, or sticky (/tmp) */
	CHECK_EQ_INT(file_safe(S_IFDIR | 0755, 0, true, 0, m, sizeof(m)), 0);
	CHECK_EQ_INT(file_safe(S_IFDIR | 0700, 0, true, 0, m, sizeof(m)), 0);
	CHECK_EQ_INT(file_safe(S_IFDIR | 01777, 0, true, 0, m, sizeof(m)), 0);
	CHECK_EQ_INT(file_safe(S_IFDIR | 0775, 0, true, 0, m, sizeof(m)), -EPERM);
	CHECK(strstr(m, "its directory is group-writable (mode 0775): the group's members could replace "
		     "files in it") == m);
	CHECK_EQ_INT(file_safe(S_IFDIR | 0755, 1000, true, 0, m, sizeof(m)), -EPERM);
	CHECK(strstr(m, "its directory is owned by uid 1000, not root") == m);
	/* what is neither (a pipe, /dev/stdin) is not judged */
	CHECK_EQ_INT(file_safe(S_IFIFO | 0666, 1000, false, 0, m, sizeof(m)), 0);
	CHECK_EQ_INT(file_safe(S_IFCHR | 0666, 0, false, 0, m, sizeof(m)), 0);
}

static int parse_path_opts_streams(const char *name, enum pw_file_check files, bool streams)
{
	char path[256];
	struct pw_parse_opts o = { .files = files, .streams = streams };

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	pw_policy_free(&pol);
	pw_diag_free(&diag);
	return pw_policy_parse_file_opts(path, &o, &pol, &diag);
}

static int parse_path_opts(const char *name, enum pw_file_check files)
{
	char path[256];
	struct pw_parse_opts o = { .files = files };

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	pw_policy_free(&pol);
	pw_diag_free(&diag);
	return pw_policy_parse_file_opts(path, &o, &pol, &diag);
}

static void chmod_file(const char *name, mode_t mode)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if (chmod(path, mode))
		perror(path);
}

TEST(strict_modes_in_the_parser)
{
	char want[512];

	make_tmpdir();	/* 0700, ours */
	write_file("sm-ww.policy", "policy \"ww\"\nallow in tcp port 22\n");
	chmod_file("sm-ww.policy", 0666);
	write_file("sm-main.policy", "include \"sm-inc.policy\"\nallow in tcp port 443\n");
	chmod_file("sm-main.policy", 0644);
	write_file("sm-inc.policy", "allow in tcp port 22\n");
	chmod_file("sm-inc.policy", 0664);

	/* strict: refused, naming the file, the mode and the fix */
	REQUIRE(parse_path_opts("sm-ww.policy", PW_FILES_STRICT) != 0);
	snprintf(want, sizeof(want), "%s/sm-ww.policy: error: refused: the file is group- and world-writable "
		 "(mode 0666): any user could change what portwall enforces; fix: chmod go-w %s/sm-ww.policy",
		 tmpdir, tmpdir);
	CHECK_EQ_STR(diag.error, want);
	CHECK_EQ_INT(pol.nrules, 0);
	/* an included file: the error is at the include */
	REQUIRE(parse_path_opts("sm-main.policy", PW_FILES_STRICT) != 0);
	snprintf(want, sizeof(want), "%s/sm-main.policy:1:9: error: refused: included file %s/sm-inc.policy: "
		 "the file is group-writable (mode 0664)", tmpdir, tmpdir);
	CHECK(strncmp(diag.error, want, strlen(want)) == 0);
	CHECK(strstr(diag.error, "fix: chmod go-w ") != NULL);

	/* warn: parsed, one warning per unsafe file */
	REQUIRE(parse_path_opts("sm-main.policy", PW_FILES_WARN) == 0);
	CHECK_EQ_INT(pol.nrules, 2);
	REQUIRE(diag.nwarn == 1);
	CHECK(strstr(diag.warn[0].file, "sm-inc.policy") != NULL);
	CHECK_EQ_INT(diag.warn[0].line, 0);
	CHECK(strstr(diag.warn[0].msg, "group-writable (mode 0664)") != NULL);
	CHECK(strstr(diag.warn[0].msg, "(apply, reload and run refuse it)") != NULL);

	/* the default: files are not judged */
	REQUIRE(parse_path("sm-main.policy") == 0);
	CHECK_EQ_INT(diag.nwarn, 0);

	/* fixed: accepted */
	chmod_file("sm-inc.policy", 0644);
	chmod_file("sm-ww.policy", 0600);
	CHECK_EQ_INT(parse_path_opts("sm-main.policy", PW_FILES_STRICT), 0);
	CHECK_EQ_INT(parse_path_opts("sm-ww.policy", PW_FILES_STRICT), 0);
	CHECK_EQ_INT(diag.nwarn, 0);

	/* the directory holding a file */
	char sub[128];
	snprintf(sub, sizeof(sub), "%s/sm-sub", tmpdir);
	REQUIRE(mkdir(sub, 0700) == 0);
	write_file("sm-sub/p.policy", "allow in tcp port 22\n");
	chmod_file("sm-sub/p.policy", 0644);
	REQUIRE(chmod(sub, 0770) == 0);
	REQUIRE(parse_path_opts("sm-sub/p.policy", PW_FILES_STRICT) != 0);
	snprintf(want, sizeof(want), "its directory is group-writable (mode 0770): the group's members could "
		 "replace files in it and so change what portwall enforces; fix: chmod go-w %s", sub);
	CHECK(strstr(diag.error, want) != NULL);
	REQUIRE(chmod(sub, 01777) == 0);	/* sticky, as /tmp */
	CHECK_EQ_INT(parse_path_opts("sm-sub/p.policy", PW_FILES_STRICT), 0);
}

/* A policy is UTF-8 text without control characters (but tab): what is
 * not would reach terminals raw from check, status, top or the metrics
 * file (a CR overprints a rule line with a fake one), and check --json
 * would print invalid JSON. CRLF line ends are fine. */
TEST(utf8_and_control_characters)
{
	CHECK_EQ_STR(error_of("allow in tcp port 22 # caf\xe9\n"),
		     "t.policy:1:27: error: invalid UTF-8 (byte 0xe9): a policy is UTF-8 text; save it as UTF-8");
	CHECK_EQ_STR(error_of("allow in tcp port 22\nallow in tcp port 25 # \xc3\xa9t\xc3\n"),
		     "t.policy:2:26: error: invalid UTF-8 (byte 0xc3): a policy is UTF-8 text; save it as UTF-8");
	/* overlong "/", a surrogate, past U+10FFFF */
	CHECK(strstr(error_of("allow in tcp port 22 # \xc0\xaf\n"), "invalid UTF-8 (byte 0xc0)") != NULL);
	CHECK(strstr(error_of("allow in tcp port 22 # \xed\xa0\x80\n"), "invalid UTF-8 (byte 0xed)") != NULL);
	CHECK(strstr(error_of("allow in tcp port 22 # \xf4\x90\x80\x80\n"), "invalid UTF-8 (byte 0xf4)") != NULL);
	CHECK_EQ_STR(error_of("policy \"a\x1b[31mred\"\n"),
		     "t.policy:1:10: error: a control character (U+001B) in the text: it would reach terminals raw; "
		     "remove it");
	CHECK(strstr(error_of("allow in tcp port 22 # \x07\n"), "1:24: error: a control character (U+0007)") != NULL);
	CHECK(strstr(error_of("allow in tcp port 22 # x\rdeny in tcp port 22\n"), "(U+000D)") != NULL);
	CHECK(strstr(error_of("allow in tcp port 22 # \xc2\x9b" "31m\n"), "(U+009B)") != NULL);
	/* fine: tabs, CRLF, UTF-8 in comments and names */
	CHECK_EQ_INT(parse("policy \"caf\xc3\xa9 \xe2\x9c\x93\"\r\nallow\tin tcp port 22 # \xf0\x9f\x94\x92\r\n"), 0);
	CHECK_EQ_INT(pol.nrules, 1);
	CHECK_EQ_STR(pol.name, "caf\xc3\xa9 \xe2\x9c\x93");
}

/* A FIFO would block the root agent in open() or read() (and whoever
 * writes it chooses the policy): refused at once, as the file given and as
 * an include; alarm() turns a hang of the old code into a failure. */
TEST(fifos_refused_without_blocking)
{
	char fifo[128], want[400];

	make_tmpdir();
	snprintf(fifo, sizeof(fifo), "%s/fifo.policy", tmpdir);
	REQUIRE(mkfifo(fifo, 0600) == 0);
	write_file("inc-fifo.policy", "allow in tcp port 22\ninclude \"fifo.policy\"\n");
	alarm(10);
	REQUIRE(parse_path("fifo.policy") != 0);
	snprintf(want, sizeof(want), "%s: error: cannot read the policy: %s is a FIFO: policies are read from "
		 "regular files only", fifo, fifo);
	CHECK(strncmp(diag.error, want, strlen(want)) == 0);
	REQUIRE(parse_path_opts_streams("fifo.policy", PW_FILES_STRICT, false) != 0);
	/* an include is a regular file even where the file named may be a pipe */
	REQUIRE(parse_path_opts_streams("inc-fifo.policy", PW_FILES_ANY, true) != 0);
	snprintf(want, sizeof(want), "%s/inc-fifo.policy:2:9: error: cannot read included file %s: %s is a FIFO",
		 tmpdir, fifo, fifo);
	CHECK(strncmp(diag.error, want, strlen(want)) == 0);
	alarm(0);
	unlink(fifo);
}

/* Every directory up to / is judged, for the name given and for what it
 * resolves to: whoever may write one of them can rename what is below it,
 * or plant a symlink at the policy's name (sshd's secure_filename). */
TEST(strict_modes_every_directory_up_to_root)
{
	char d[128], want[600];

	make_tmpdir();
	snprintf(d, sizeof(d), "%s/anc", tmpdir);
	REQUIRE(mkdir(d, 0755) == 0);
	snprintf(d, sizeof(d), "%s/anc/fw", tmpdir);
	REQUIRE(mkdir(d, 0755) == 0);
	write_file("anc/fw/p.policy", "allow in tcp port 22\n");
	chmod_file("anc/fw/p.policy", 0644);
	CHECK_EQ_INT(parse_path_opts("anc/fw/p.policy", PW_FILES_STRICT), 0);
	snprintf(d, sizeof(d), "%s/anc", tmpdir);
	REQUIRE(chmod(d, 0777) == 0);	/* anyone may rename fw/ away */
	REQUIRE(parse_path_opts("anc/fw/p.policy", PW_FILES_STRICT) != 0);
	snprintf(want, sizeof(want), "refused: the directory %s above it is group- and world-writable (mode 0777)",
		 d);
	CHECK(strstr(diag.error, want) != NULL);
	CHECK(strstr(diag.error, "fix: chmod go-w ") != NULL);
	REQUIRE(parse_path_opts("anc/fw/p.policy", PW_FILES_WARN) == 0);
	CHECK_EQ_INT(diag.nwarn, 1);
	REQUIRE(chmod(d, 0755) == 0);

	/* a symlink at the name, in a directory anyone may write, to a file
	 * whose own directories are all safe */
	snprintf(d, sizeof(d), "%s/open", tmpdir);
	REQUIRE(mkdir(d, 0700) == 0);
	REQUIRE(chmod(d, 0777) == 0);
	char target[160], link[160];
	snprintf(target, sizeof(target), "%s/anc/fw/p.policy", tmpdir);
	snprintf(link, sizeof(link), "%s/open/p.policy", tmpdir);
	REQUIRE(symlink(target, link) == 0);
	REQUIRE(parse_path_opts("open/p.policy", PW_FILES_STRICT) != 0);
	CHECK(strstr(diag.error, "its directory is group- and world-writable (mode 0777)") != NULL);
	REQUIRE(chmod(d, 0755) == 0);
	CHECK_EQ_INT(parse_path_opts("open/p.policy", PW_FILES_STRICT), 0);
}

PW_TEST_MAIN()
