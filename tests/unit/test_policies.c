/* test_policies.c - `explain` on every shipped policy: every port of its
 * vendor table in the direction the table gives passes, by the rule that
 * carries that row's comment; the same ports the other way and ports not
 * in the table drop. Run from the repository root. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "explain.h"
#include "harness.h"

struct row {
	const char *dir, *proto, *peer, *port;
	const char *verdict;	/* "PASS" / "DROP" */
	const char *by;		/* the deciding rule's comment, "default" or "always" */
};

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
	if (pw_analyze(&pol, &c, &d) || d.nwarn)
		FAILF("%s: %zu warnings (first: %s)", path, d.nwarn, d.nwarn ? d.warn[0].msg : d.error);
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

#define RUN(path, rows) run_rows(path, rows, sizeof(rows) / sizeof(rows[0]))

static const char *const WEB = "UI, APIs, chat and callback requests (HTTP/HTTPS)";
static const char *const FEEDS = "fetching social contacts and feeds (HTTP/HTTPS)";
static const char *const BOSH = "eventing and chat over BOSH (7071) and secure BOSH (7443)";
static const char *const MR = "media routing from the CCE MR PG";

/* base.policy rows, true for every policy that includes it */
#define BASE_ROWS                                                                       \
	{ "in", "tcp", "198.51.100.7", "22", "PASS", "SSH administration" },            \
	{ "in", "tcp", "2001:db8::7", "22", "PASS", "SSH administration" },             \
	{ "out", "udp", "192.0.2.53", "53", "PASS", "DNS queries" },                    \
	{ "out", "tcp", "2001:db8::53", "53", "PASS", "DNS queries" },                  \
	{ "out", "udp", "192.0.2.123", "123", "PASS", "NTP" },                          \
	{ "in", "udp", "192.0.2.53", "53", "DROP", "default" },                         \
	{ "in", "udp", "192.0.2.123", "123", "DROP", "default" },                       \
	{ "in", "icmp", "198.51.100.7", "echo-request", "PASS", "ping" },               \
	{ "in", "icmp", "198.51.100.7", "echo-reply", "DROP", "default" },              \
	{ "in", "icmp", "198.51.100.7", "destination-unreachable", "PASS", "ICMP errors" }, \
	{ "in", "icmp", "198.51.100.7", "redirect", "DROP", "default" },                 \
	{ "in", "icmpv6", "2001:db8::7", "echo-request", "PASS", "ping6" },             \
	{ "in", "icmpv6", "2001:db8::7", "packet-too-big", "PASS", "IPv6 path-MTU discovery" }, \
	{ "in", "icmpv6", "2001:db8::7", "time-exceeded", "PASS", "ICMPv6 errors" },    \
	{ "in", "icmpv6", "2001:db8::7", "neighbor-solicitation", "PASS", "always" },   \
	{ "in", "icmpv6", "fe80::1", "router-advertisement", "PASS", "always" },        \
	{ "in", "icmpv6", "2001:db8::7", "redirect", "DROP", "default" },               \
	{ "in", "udp", "192.0.2.67", "68", "DROP", "default" }

/* ports in none of the tables: every direction of them inbound drops */
#define UNLISTED_IN_ROWS                                                                \
	{ "in", "tcp", "198.51.100.7", "1", "DROP", "default" },                        \
	{ "in", "tcp", "198.51.100.7", "21", "DROP", "default" },                       \
	{ "in", "tcp", "198.51.100.7", "23", "DROP", "default" },                       \
	{ "in", "tcp", "198.51.100.7", "3389", "DROP", "default" },                     \
	{ "in", "tcp", "198.51.100.7", "8080", "DROP", "default" },                     \
	{ "in", "tcp", "2001:db8::7", "8443", "DROP", "default" },                      \
	{ "in", "tcp", "198.51.100.7", "65535", "DROP", "default" },                    \
	{ "in", "tcp", "198.51.100.7", "0", "DROP", "default" },                        \
	{ "in", "udp", "198.51.100.7", "161", "DROP", "default" },                      \
	{ "in", "udp", "198.51.100.7", "5060", "DROP", "default" },                     \
	{ "in", "gre", "198.51.100.7", NULL, "DROP", "default" },                       \
	{ "in", "esp", "2001:db8::7", NULL, "DROP", "default" }

TEST(base_policy)
{
	static const struct row rows[] = { BASE_ROWS, UNLISTED_IN_ROWS,
		{ "in", "tcp", "198.51.100.7", "443", "DROP", "default" },
	};
	RUN("policies/base.policy", rows);
}

TEST(ccp_policy)
{
	static const struct row rows[] = {
		BASE_ROWS, UNLISTED_IN_ROWS,
		/* the vendor tables, in the directions they give */
		{ "in", "tcp", "198.51.100.7", "80", "PASS", WEB },
		{ "in", "tcp", "2001:db8::7", "443", "PASS", WEB },
		{ "out", "tcp", "203.0.113.80", "80", "PASS", FEEDS },
		{ "out", "tcp", "203.0.113.80", "443", "PASS", FEEDS },
		{ "in", "tcp", "198.51.100.7", "5222", "PASS", "Notification Service (XMPP) from Unified CCX" },
		{ "out", "tcp", "203.0.113.52", "5222", "PASS", "XMPP IM notifications to the XMPP server" },
		{ "in", "tcp", "198.51.100.7", "7071", "PASS", BOSH },
		{ "in", "tcp", "198.51.100.7", "7443", "PASS", BOSH },
		{ "in", "tcp", "198.51.100.7", "8442", "PASS", "browser access through the VPN-less reverse proxy" },
		{ "in", "tcp", "203.0.113.9", "10443", "PASS", "Chat Gateway webhook, inward from the internet" },
		{ "in", "tcp", "198.51.100.10", "38001", "PASS", MR },
		{ "in", "tcp", "2001:db8:5::10", "38001", "PASS", MR },
		{ "out", "tcp", "198.51.100.25", "25", "PASS", "email notifications (SMTP, SMTP over TLS)" },
		{ "out", "tcp", "198.51.100.25", "465", "PASS", "email notifications (SMTP, SMTP over TLS)" },
		{ "out", "tcp", "2001:db8:5::25", "587", "PASS", "Email Reply API (SMTP submission)" },
		{ "out", "tcp", "198.51.100.25", "993", "PASS", "email feeds and drafts (IMAPS)" },
		/* peer restrictions */
		{ "in", "tcp", "198.51.100.11", "38001", "DROP", "default" },
		{ "in", "tcp", "2001:db8:5::11", "38001", "DROP", "default" },
		{ "out", "tcp", "203.0.113.25", "25", "PASS", "default" },	/* default out allow */
		/* the same ports the other way */
		{ "in", "tcp", "198.51.100.25", "25", "DROP", "default" },
		{ "in", "tcp", "198.51.100.25", "465", "DROP", "default" },
		{ "in", "tcp", "198.51.100.25", "587", "DROP", "default" },
		{ "in", "tcp", "198.51.100.25", "993", "DROP", "default" },
		{ "in", "udp", "198.51.100.7", "443", "DROP", "default" },
		{ "in", "udp", "198.51.100.7", "5222", "DROP", "default" },
		/* neighbours of listed ports */
		{ "in", "tcp", "198.51.100.7", "79", "DROP", "default" },
		{ "in", "tcp", "198.51.100.7", "81", "DROP", "default" },
		{ "in", "tcp", "198.51.100.7", "5223", "DROP", "default" },
		{ "in", "tcp", "198.51.100.10", "38002", "DROP", "default" },
		{ "in", "tcp", "198.51.100.7", "10444", "DROP", "default" },
	};
	RUN("policies/ccp.policy", rows);
}

TEST(finesse_policy)
{
	static const char *const HTTPS = "HTTPS: admin console, agent/supervisor desktop, gadgets, IP Phone Agent";
	static const char *const CTI = "CTI (GED-188) to the Agent PG, side A 42027 / side B 43027";
	static const struct row rows[] = {
		BASE_ROWS, UNLISTED_IN_ROWS,
		{ "in", "tcp", "198.51.100.7", "80", "PASS", "HTTP: desktops and admin, redirected to HTTPS" },
		{ "in", "tcp", "198.51.100.7", "8082", "PASS", "HTTP: desktops and admin, redirected to HTTPS" },
		{ "in", "tcp", "198.51.100.7", "443", "PASS", HTTPS },
		{ "in", "tcp", "2001:db8::7", "8445", "PASS", HTTPS },
		{ "in", "tcp", "198.51.100.7", "5222", "PASS", "XMPP: the other Finesse node, and desktops of older releases" },
		{ "in", "tcp", "198.51.100.7", "5223", "PASS", "secure XMPP for third-party applications" },
		{ "in", "tcp", "198.51.100.7", "7071", "PASS", "BOSH (7071, off from 12.5(1)) and secure BOSH (7443) to desktops" },
		{ "in", "tcp", "198.51.100.7", "7443", "PASS", "BOSH (7071, off from 12.5(1)) and secure BOSH (7443) to desktops" },
		{ "out", "tcp", "198.51.100.8", "5222", "PASS", "XMPP to the other Finesse node" },
		{ "out", "tcp", "198.51.100.30", "1433", "PASS", "JDBC: agent and supervisor authentication against the AWDB" },
		{ "out", "tcp", "198.51.100.40", "42027", "PASS", CTI },
		{ "out", "tcp", "198.51.100.41", "43027", "PASS", CTI },
		{ "out", "tcp", "198.51.100.31", "1433", "PASS", "default" },
		/* the other way */
		{ "in", "tcp", "198.51.100.30", "1433", "DROP", "default" },
		{ "in", "tcp", "198.51.100.40", "42027", "DROP", "default" },
		{ "in", "tcp", "198.51.100.41", "43027", "DROP", "default" },
		{ "in", "tcp", "198.51.100.7", "8081", "DROP", "default" },
		{ "in", "tcp", "198.51.100.7", "8444", "DROP", "default" },
		{ "in", "tcp", "198.51.100.7", "38001", "DROP", "default" },
	};
	RUN("policies/finesse.policy", rows);
}

TEST(socialminer_policy)
{
	static const struct row rows[] = {
		BASE_ROWS, UNLISTED_IN_ROWS,
		{ "in", "tcp", "198.51.100.7", "80", "PASS", WEB },
		{ "in", "tcp", "198.51.100.7", "443", "PASS", WEB },
		{ "out", "tcp", "203.0.113.80", "443", "PASS", FEEDS },
		{ "out", "tcp", "203.0.113.52", "5222", "PASS", "XMPP notifications to the XMPP server" },
		{ "in", "tcp", "198.51.100.7", "7071", "PASS", BOSH },
		{ "in", "tcp", "198.51.100.7", "7443", "PASS", BOSH },
		{ "in", "tcp", "198.51.100.10", "38001", "PASS", MR },
		{ "in", "tcp", "198.51.100.12", "38001", "DROP", "default" },
		{ "in", "tcp", "198.51.100.7", "5222", "DROP", "default" },	/* 5222 is outbound only */
		{ "in", "tcp", "198.51.100.7", "8442", "DROP", "default" },
		{ "in", "tcp", "198.51.100.7", "10443", "DROP", "default" },
	};
	RUN("policies/socialminer.policy", rows);
}

TEST(engage_client_policy)
{
	static const char *const WEBOUT = "sign-on/off, call status events, server event link";
	static const struct row rows[] = {
		UNLISTED_IN_ROWS,
		{ "out", "tcp", "203.0.113.10", "80", "PASS", WEBOUT },
		{ "out", "tcp", "203.0.113.10", "443", "PASS", WEBOUT },
		{ "out", "tcp", "2001:db8:e::10", "443", "PASS", WEBOUT },
		{ "out", "tcp", "203.0.113.10", "5222", "PASS", "XMPP presence" },
		{ "out", "udp", "192.0.2.53", "53", "PASS", "DNS queries" },
		{ "out", "tcp", "198.51.100.80", "443", "PASS", "default" },	/* other sites: default out */
		/* nothing inbound at all, SSH included */
		{ "in", "tcp", "203.0.113.10", "80", "DROP", "default" },
		{ "in", "tcp", "203.0.113.10", "443", "DROP", "default" },
		{ "in", "tcp", "203.0.113.10", "5222", "DROP", "default" },
		{ "in", "tcp", "198.51.100.7", "22", "DROP", "default" },
		{ "in", "icmp", "198.51.100.7", "echo-request", "DROP", "default" },
		{ "in", "icmpv6", "fe80::1", "neighbor-advertisement", "PASS", "always" },
	};
	RUN("policies/engage-client.policy", rows);
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
	CHECK_EQ_STR(line, "PASS  default  default out allow");
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
	CHECK_EQ_STR(err, "peer must be an IPv4 or IPv6 address, got \"192.0.2.256\"");
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
