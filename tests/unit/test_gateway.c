/* test_gateway.c - gateway files (docs/gateway.md): the statements, the
 * policies they name (relative to the gateway's directory, shared by
 * real path), every error at FILE:LINE:COL, and the userspace judge of a
 * forwarded packet by its protected ends. No root. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "policy/gateway.h"
#include "policy/gwjudge.h"

static struct pw_gateway gw;
static struct pw_diag diag;
static char dir[] = "/tmp/pw-test-gw-XXXXXX";
static char path[256];

static void write_file(const char *name, const char *text)
{
	char p[300];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	if (!f) {
		perror(p);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

/* Two small policies in a directory of the test's own (once). */
static void setup(void)
{
	static int done;

	if (done++)
		return;
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	write_file("web.policy", "policy \"web\"\ndefault out drop\nallow in tcp port 443\n"
		   "allow out udp port 53\n");
	write_file("db.policy", "default out allow\nallow in tcp port 5432 from 198.51.100.0/24\n");
	write_file("bad.policy", "allow in tcp port 99999\n");
	snprintf(path, sizeof(path), "%s/t.gateway", dir);
}

static int parse(const char *text)
{
	setup();
	pw_gateway_free(&gw);
	pw_diag_free(&diag);
	return pw_gateway_parse_text(path, text, strlen(text), NULL, &gw, &diag);
}

/* The first error without the directory: "t.gateway:3:9: error: ...". */
static const char *first_error(void)
{
	const char *e = diag.error;
	size_t n = strlen(dir);

	return strncmp(e, dir, n) == 0 && e[n] == '/' ? e + n + 1 : e;
}

static const char *ip(const char *s, uint8_t *fam, uint8_t a[16])
{
	if (!pw_addr_parse(s, fam, a))
		FAILF("bad address %s", s);
	return s;
}

TEST(statements_and_shared_policies)
{
	REQUIRE(parse("# a comment\n"
		      "gateway \"dmz\"   # named\n"
		      "default forward drop\n"
		      "protect 198.51.100.10, 2001:db8:5::10,\n"
		      "        198.51.100.11 with \"web.policy\"\n"
		      "protect 198.51.100.20 with \"db.policy\"\n"
		      "protect 198.51.100.12 with \"./web.policy\"\n") == 0);
	CHECK_EQ_STR(gw.name, "dmz");
	CHECK_EQ_INT(gw.forward, PW_DROP);
	CHECK_EQ_INT(gw.forward_line, 3);
	CHECK_EQ_INT(gw.nhosts, 5);
	CHECK_EQ_INT(gw.npolicies, 2);	/* web.policy and ./web.policy are one file */
	CHECK_EQ_INT(gw.policies[0].nhosts, 4);
	CHECK_EQ_INT(gw.policies[1].nhosts, 1);
	CHECK_EQ_STR(gw.policies[0].pol.name, "web");
	CHECK_EQ_INT(gw.policies[0].c.nrules, 2);
	CHECK_EQ_INT(gw.policies[0].line, 5);	/* where its file is named */
	uint8_t fam, a[16];
	ip("198.51.100.11", &fam, a);
	const struct pw_gw_host *h = pw_gateway_find(&gw, fam, a);
	REQUIRE(h);
	CHECK_EQ_INT(h->policy, 0);
	CHECK_EQ_INT(h->line, 5);	/* the line of the address, not of protect */
	CHECK_EQ_INT(h->col, 9);
	ip("2001:db8:5::10", &fam, a);
	CHECK(pw_gateway_find(&gw, fam, a) != NULL);
	ip("198.51.100.20", &fam, a);
	h = pw_gateway_find(&gw, fam, a);
	REQUIRE(h);
	CHECK_EQ_INT(h->policy, 1);
	ip("198.51.100.99", &fam, a);
	CHECK(pw_gateway_find(&gw, fam, a) == NULL);
}

TEST(name_defaults_to_the_file)
{
	REQUIRE(parse("default forward allow\nprotect 192.0.2.1 with \"web.policy\"\n") == 0);
	CHECK_EQ_STR(gw.name, "t.gateway");
	CHECK_EQ_INT(gw.forward, PW_PASS);
}

TEST(sniff_by_the_first_statement)
{
	CHECK(pw_gateway_sniff("gateway \"x\"\n", 12));
	CHECK(pw_gateway_sniff("\xef\xbb\xbf# c\n\n  protect 192.0.2.1 with \"a\"\n", 33));
	CHECK(pw_gateway_sniff("default forward drop\n", 21));
	CHECK(pw_gateway_sniff("default\tforward", 15));
	CHECK(pw_gateway_sniff("default\fforward drop\n", 21));	/* every blank the tokenizer skips */
	CHECK(!pw_gateway_sniff("default in drop\nprotect 192.0.2.1\n", 34));
	CHECK(!pw_gateway_sniff("default forwarded drop\n", 23));
	CHECK(!pw_gateway_sniff("policy \"x\"\nprotect\n", 19));
	CHECK(!pw_gateway_sniff("# only a comment", 16));
	CHECK(!pw_gateway_sniff("", 0));
	CHECK(!pw_gateway_sniff("protection 1\n", 13));
}

struct bad {
	const char *text;
	const char *error;
};

static const struct bad bads[] = {
	{ "default forward drop\nprotect 198.51.100.10 with \"web.policy\"\nprotect 198.51.100.10 with \"db.policy\"\n",
	  "t.gateway:3:9: error: 198.51.100.10 is already protected at line 2 (by " },
	{ "default forward drop\nprotect 198.51.100.10, 198.51.100.10 with \"web.policy\"\n",
	  "t.gateway:2:24: error: 198.51.100.10 is listed twice on this line; drop one" },
	{ "default forward drop\nprotect with \"web.policy\"\n",
	  "t.gateway:2:9: error: expected an IPv4 or IPv6 address after protect" },
	{ "default forward drop\nprotect 192.0.2.1, with \"web.policy\"\n",
	  "t.gateway:2:20: error: expected an IPv4 or IPv6 address after \",\"" },
	{ "default forward drop\nprotect 192.0.2.1 with \"nope.policy\"\n", "t.gateway:2:24: error: cannot read policy " },
	{ "default forward drop\nprotect 192.0.2.1 with \"web.polcy\"\n", "; did you mean \"web.policy\"?" },
	{ "default forward drop\nprotect 198.51.100.0/24 with \"web.policy\"\n",
	  "t.gateway:2:9: error: protect names hosts, not networks: \"198.51.100.0/24\" is a prefix" },
	{ "default forward drop\nprotect app.example.com with \"web.policy\"\n",
	  "t.gateway:2:9: error: protect takes addresses, not host names" },
	{ "default forward drop\nprotect 192.0.2.300 with \"web.policy\"\n",
	  "t.gateway:2:9: error: expected an IPv4 or IPv6 address, got \"192.0.2.300\"" },
	{ "default forward drop\nprotect 127.0.0.1 with \"web.policy\"\n",
	  "t.gateway:2:9: error: 127.0.0.1 is a loopback address (never forwarded)" },
	{ "default forward drop\nprotect 224.0.0.5 with \"web.policy\"\n", "is a multicast group, not a host" },
	{ "default forward drop\nprotect ::ffff:192.0.2.1 with \"web.policy\"\n", "is an IPv4-mapped address" },
	{ "default forward drop\nprotect 0.0.0.0 with \"web.policy\"\n", "is the unspecified address" },
	{ "default forward drop\nprotect 192.0.2.1 wiht \"web.policy\"\n",
	  "t.gateway:2:19: error: expected with \"FILE\" or \",\" after 192.0.2.1, got \"wiht\"; did you mean \"with\"?" },
	{ "default forward drop\nprotect 192.0.2.1\n", "t.gateway:2:9: error: expected with \"FILE\" after the addresses" },
	{ "default forward drop\nprotect 192.0.2.1 with web.policy\n",
	  "t.gateway:2:24: error: expected a quoted policy file after with" },
	{ "default forward drop\nprotect 192.0.2.1 with \"web.policy\" extra\n",
	  "t.gateway:2:37: error: unexpected \"extra\" after the policy file" },
	{ "default forward drp\nprotect 192.0.2.1 with \"web.policy\"\n",
	  "t.gateway:1:17: error: expected allow or drop, got \"drp\"; did you mean \"drop\"?" },
	{ "default in drop\nprotect 192.0.2.1 with \"web.policy\"\n",
	  "t.gateway:1:9: error: default in belongs in a policy" },
	{ "default forward drop\ndefault forward allow\nprotect 192.0.2.1 with \"web.policy\"\n",
	  "t.gateway:2:1: error: default forward is already set at line 1; keep one" },
	{ "protect 192.0.2.1 with \"web.policy\"\n",
	  "t.gateway: error: no \"default forward allow|drop\" line" },
	{ "default forward drop\n", "t.gateway: error: no protect line" },
	{ "default forward drop\nprotekt 192.0.2.1 with \"web.policy\"\n",
	  "t.gateway:2:1: error: unknown statement \"protekt\"; did you mean \"protect\"?" },
	{ "default forward drop\ninclude \"other.gateway\"\n", "t.gateway:2:1: error: a gateway file has no includes" },
	{ "default forward drop\nallow in tcp port 22\n", "t.gateway:2:1: error: rules belong in the policy" },
	{ "gateway \"a\"\ngateway \"b\"\n", "t.gateway:2:1: error: the gateway is already named at line 1" },
	{ "gateway \"a\ndefault forward drop\n", "t.gateway:1:9: error: unterminated string" },
	{ "default forward drop\x1b\n", "t.gateway:1:21: error: a control character (U+001B)" },
	{ "default forward drop\nprotect 192.0.2.1 with \"bad.policy\"\n", "bad.policy:1:19: error: port \"99999\"" },
};

TEST(errors_name_file_line_col)
{
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		if (parse(bads[i].text) == 0) {
			FAILF("case %zu parsed: %s", i, bads[i].text);
			continue;
		}
		if (!strstr(first_error(), bads[i].error) && !strstr(diag.error, bads[i].error))
			FAILF("case %zu: error is\n      %s\n      expected it to hold\n      %s", i, first_error(),
			      bads[i].error);
		CHECK_EQ_INT(gw.nhosts, 0);	/* freed on error */
		CHECK(gw.policies == NULL);
	}
}

TEST(a_bad_policy_is_named_at_the_protect_line_once)
{
	REQUIRE(parse("default forward drop\n"
		      "protect 192.0.2.1 with \"bad.policy\"\n"
		      "protect 192.0.2.2 with \"bad.policy\"\n") != 0);
	CHECK_EQ_INT(diag.nerr, 2);	/* the policy's error, then who named it; not again at line 3 */
	REQUIRE(diag.nerr == 2);
	CHECK(strstr(diag.errs[0].text, "bad.policy:1:19: error: port \"99999\" is out of range") != NULL);
	CHECK_EQ_INT(diag.errs[1].line, 2);
	CHECK_EQ_INT(diag.errs[1].col, 24);
	CHECK(strstr(diag.errs[1].msg, "bad.policy named here is not valid (1 error above)") != NULL);
}

TEST(every_error_of_the_file)
{
	REQUIRE(parse("default forward drp\n"
		      "protect 10.0.0.0/8 with \"web.policy\"\n"
		      "protect 192.0.2.1 with \"web.policy\"\n"
		      "protekt 192.0.2.2 with \"web.policy\"\n") != 0);
	CHECK_EQ_INT(diag.nerr, 3);	/* not "no default forward" too: its line was wrong */
	REQUIRE(diag.nerr == 3);
	CHECK_EQ_INT(diag.errs[0].line, 1);
	CHECK_EQ_INT(diag.errs[1].line, 2);
	CHECK_EQ_INT(diag.errs[2].line, 4);
	REQUIRE(parse("protect 192.0.2.1 with \"web.policy\"\n") != 0);
	CHECK_EQ_INT(diag.nerr, 1);
	CHECK(strstr(diag.error, "no \"default forward") != NULL);
}

static void spec(struct pw_pktspec *s, const char *words)
{
	char buf[256], *argv[16], err[256];
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", words);
	for (char *w = strtok(buf, " "); w && argc < 16; w = strtok(NULL, " "))
		argv[argc++] = w;
	if (pw_pkt_parse(argc, argv, s, err, sizeof(err)))
		FAILF("packet %s: %s", words, err);
}

/* The verdict and reason of the deciding end ("forward-default" for none). */
static const char *judged(const char *words)
{
	static char out[400];
	struct pw_pktspec s;
	struct pw_gw_verdict v;
	char err[256];

	spec(&s, words);
	if (pw_gw_judge(&gw, &s, &v, err, sizeof(err)))
		return snprintf(out, sizeof(out), "error: %s", err), out;
	snprintf(out, sizeof(out), "%s %s%s", v.action == PW_PASS ? "PASS" : "DROP",
		 v.nends ? v.end[v.decider].reason : "forward-default",
		 v.nends && v.end[v.decider].listener ? " listener" : "");
	return out;
}

TEST(judge_by_the_protected_end)
{
	REQUIRE(parse("default forward drop\n"
		      "protect 198.51.100.10, 2001:db8:5::10 with \"web.policy\"\n"
		      "protect 198.51.100.20 with \"db.policy\"\n") == 0);
	CHECK_EQ_STR(judged("in tcp 203.0.113.7:51000 198.51.100.10:443 syn"), "PASS allow-rule");
	CHECK_EQ_STR(judged("in tcp [2001:db8::7]:51000 [2001:db8:5::10]:443 syn"), "PASS allow-rule");
	CHECK_EQ_STR(judged("in tcp 203.0.113.7:51000 198.51.100.10:22 syn"), "DROP default");
	/* out: the remote port, by the out rules */
	CHECK_EQ_STR(judged("out udp 198.51.100.10:40000 192.0.2.53:53"), "PASS allow-rule");
	CHECK_EQ_STR(judged("out tcp 198.51.100.10:40000 192.0.2.80:80 syn"), "DROP default");
	/* the listener's SYN-ACK passes by the in rule of its port */
	CHECK_EQ_STR(judged("out tcp 198.51.100.10:443 203.0.113.7:51000 syn,ack"), "PASS allow-rule listener");
	/* a peer restriction: db.policy lets 198.51.100.0/24 in only */
	CHECK_EQ_STR(judged("in tcp 198.51.100.7:50000 198.51.100.20:5432 syn"), "PASS allow-rule");
	CHECK_EQ_STR(judged("in tcp 203.0.113.7:50000 198.51.100.20:5432 syn"), "DROP default");
	/* db.policy: default out allow */
	CHECK_EQ_STR(judged("out tcp 198.51.100.20:50000 203.0.113.9:8080 syn"), "PASS allow-default");
	/* between two protected hosts: both policies, web's out drops it */
	CHECK_EQ_STR(judged("in tcp 198.51.100.10:50000 198.51.100.20:5432 syn"), "DROP default");
	CHECK_EQ_STR(judged("out tcp 198.51.100.20:50000 198.51.100.10:443 syn"), "PASS allow-rule");
	/* neither end protected: default forward, whatever the direction */
	CHECK_EQ_STR(judged("in tcp 203.0.113.7:1 203.0.113.8:2 syn"), "DROP forward-default");
	CHECK_EQ_STR(judged("out udp 203.0.113.7:1 203.0.113.8:2"), "DROP forward-default");
	/* ICMPv6 neighbor discovery passes whatever the policy */
	CHECK_EQ_STR(judged("in icmpv6 2001:db8::7 2001:db8:5::10 icmp-type neighbor-solicitation"),
		     "PASS neighbor-discovery");
	/* a direction that contradicts the addresses is a usage error */
	CHECK(strstr(judged("in tcp 198.51.100.10:443 203.0.113.7:51000 syn,ack"),
		     "error: in means towards a protected host") != NULL);
	CHECK(strstr(judged("out tcp 203.0.113.7:51000 198.51.100.10:443 syn"),
		     "error: out means away from a protected host") != NULL);
}

TEST(default_forward_allow)
{
	REQUIRE(parse("default forward allow\nprotect 198.51.100.10 with \"web.policy\"\n") == 0);
	CHECK_EQ_STR(judged("in tcp 203.0.113.7:1 203.0.113.8:2 syn"), "PASS forward-default");
	CHECK_EQ_STR(judged("in tcp 203.0.113.7:51000 198.51.100.10:22 syn"), "DROP default");
}

/* protect lines of n addresses 10.X.Y.Z, each line at most 200 */
static char *many_hosts(size_t n)
{
	char *t = malloc(n * 24 + 64 + n / 200 * 40), *o = t;

	if (!t)
		return NULL;
	o += sprintf(o, "default forward drop\n");
	for (size_t i = 0; i < n; i++) {
		bool first = i % 200 == 0, last = i % 200 == 199 || i + 1 == n;
		o += sprintf(o, "%s10.%zu.%zu.%zu%s", first ? "protect " : "", i >> 16 & 255, i >> 8 & 255, i & 255,
			     last ? " with \"web.policy\"\n" : ", ");
	}
	return t;
}

TEST(limits)
{
	char *t = many_hosts(PW_GW_HOSTS_MAX);

	REQUIRE(t);
	CHECK(parse(t) == 0);
	CHECK_EQ_INT(gw.nhosts, PW_GW_HOSTS_MAX);
	CHECK_EQ_INT(gw.npolicies, 1);
	uint8_t fam, a[16];
	ip("10.0.15.255", &fam, a);
	CHECK(pw_gateway_find(&gw, fam, a) != NULL);
	free(t);
	t = many_hosts(PW_GW_HOSTS_MAX + 1);
	REQUIRE(t);
	CHECK(parse(t) != 0);
	CHECK(strstr(diag.error, "more than 4096 protected addresses; split the gateway") != NULL);
	free(t);
}

TEST(zz_cleanup)
{
	const char *names[] = { "web.policy", "db.policy", "bad.policy" };
	char p[300];

	pw_gateway_free(&gw);
	pw_diag_free(&diag);
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	CHECK(rmdir(dir) == 0);
}

PW_TEST_MAIN()
