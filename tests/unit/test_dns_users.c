/* test_dns_users.c - `dns-users`, whose DNS queries teach the policy's
 * host names (docs/dns.md, "Whose queries teach"): the statement's
 * grammar and errors, the default, the compiled uids, the hash, and what
 * check's analysis and explain say of them. Users are looked up on this
 * host: root (0) and nobody (65534) exist on Debian; no-such-user-pw does
 * not. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/sha256.h"
#include "harness.h"
#include "policy/analyze.h"
#include "policy/compile.h"
#include "policy/explain.h"

#define BUILT_FILE "u.policy"
#define BUILT_SAY 0
#include "built.h"

#define NAMED "resolver 192.0.2.53\nallow out tcp port 443 to login.microsoftonline.com\n"

static const char *error_of(const char *text)
{
	static char e[sizeof(diag.error)];

	if (build(text) == 0)
		return "(parsed)";
	snprintf(e, sizeof(e), "%s", diag.error);
	return e;
}

/* the compiled policy's hash in hex, as status prints it */
static void hash_hex(char out[65])
{
	pw_hex(comp.hash, sizeof(comp.hash), out);
}

/* the warnings of check's analysis that name dns-users */
static size_t dns_warnings(const char **first)
{
	size_t n = 0;

	unsetenv("SSH_CONNECTION");
	pw_diag_free(&diag);
	if (pw_analyze(&pol, &comp, &diag))
		return (size_t)-1;
	for (size_t i = 0; i < diag.nwarn; i++)
		if (strstr(diag.warn[i].msg, "dns-users")) {
			if (!n && first)
				*first = diag.warn[i].msg;
			n++;
		}
	return n;
}

/* ---- the statement -------------------------------------------------------- */

TEST(names_and_uids_resolved_merged_in_order)
{
	REQUIRE(build("dns-users root, nobody, 1000\ndns-users 0, 4294967294\n" NAMED) == 0);
	REQUIRE(pol.ndns_users == 4);	/* 0 is root's uid: merged */
	CHECK_EQ_INT(pol.dns_users[0].uid, 0);
	CHECK_EQ_STR(pol.dns_users[0].name, "root");
	CHECK_EQ_INT(pol.dns_users[1].uid, 65534);
	CHECK_EQ_STR(pol.dns_users[1].name, "nobody");
	CHECK_EQ_INT(pol.dns_users[2].uid, 1000);
	CHECK(pol.dns_users[3].uid == 4294967294u);
	CHECK_EQ_INT(pol.dns_users[0].line, 1);
	CHECK_EQ_INT(pol.dns_users[3].line, 2);
	CHECK_EQ_INT(pol.dns_users_line, 1);
	CHECK(!pol.dns_any);
	/* a list may go on over lines */
	REQUIRE(build("dns-users root,\n  nobody\n" NAMED) == 0);
	CHECK_EQ_INT(pol.ndns_users, 2);
}

TEST(errors_name_file_line_and_what_to_do)
{
	CHECK_EQ_STR(error_of("default out drop\ndns-users root, no-such-user-pw\n"),
		     "u.policy:2:17: error: no user \"no-such-user-pw\" on this host (getpwnam): create it, write "
		     "its uid, or leave it out of dns-users");
	CHECK_EQ_STR(error_of("dns-users\n"),
		     "u.policy:1:10: error: expected a user name or uid, as in dns-users root, systemd-resolve at "
		     "end of line");
	CHECK_EQ_STR(error_of("dns-users 4294967295\n"),
		     "u.policy:1:11: error: \"4294967295\" is no uid: a uid is a number 0-4294967294");
	CHECK_EQ_STR(error_of("dns-users -root\n"),
		     "u.policy:1:11: error: expected a user name (letters, digits, _ . -; at most 32) or a uid, "
		     "got \"-root\"");
	CHECK_EQ_STR(error_of("dns-users \"root\"\n"),
		     "u.policy:1:11: error: expected a user name or a uid, got \"root\"");
	CHECK_EQ_STR(error_of("dns-users root nobody\n"),
		     "u.policy:1:16: error: expected \",\" or end of line, got \"nobody\"");
	CHECK_EQ_STR(error_of("dns-users root,\n"),
		     "u.policy:1:16: error: expected a user name or uid after \",\" at end of line");
}

TEST(any_stands_alone)
{
	REQUIRE(build("dns-users any\n" NAMED) == 0);
	CHECK(pol.dns_any);
	CHECK_EQ_INT(pol.ndns_users, 0);
	CHECK_EQ_STR(error_of("dns-users root, any\n"),
		     "u.policy:1:17: error: \"any\" stands alone, as in dns-users any (every user's queries teach); "
		     "remove it or the users beside it");
	CHECK_EQ_STR(error_of("dns-users any, root\n"),
		     "u.policy:1:14: error: \"any\" stands alone, as in dns-users any; remove what follows it");
	CHECK_EQ_STR(error_of("dns-users root\ndns-users any\n"),
		     "u.policy:2:11: error: dns-users any would trust every user's queries, but u.policy:1 lists "
		     "the users to trust; keep that line or this one, not both");
	CHECK_EQ_STR(error_of("dns-users any\ndns-users root\n"),
		     "u.policy:2:11: error: dns-users any at u.policy:1 trusts every user's queries already; keep "
		     "that line or the users, not both");
}

TEST(at_most_64_users)
{
	char text[2048];
	size_t at = (size_t)snprintf(text, sizeof(text), "dns-users 1");

	for (int i = 2; i <= PW_DNS_USERS_MAX; i++)
		at += (size_t)snprintf(text + at, sizeof(text) - at, ", %d", i);
	snprintf(text + at, sizeof(text) - at, "\n");
	REQUIRE(build(text) == 0);
	CHECK_EQ_INT(pol.ndns_users, PW_DNS_USERS_MAX);
	snprintf(text + at, sizeof(text) - at, "\ndns-users 1, 65\n");
	CHECK_EQ_STR(error_of(text), "u.policy:2:14: error: more than 64 dns-users (the first at u.policy:1): a "
		     "policy takes at most 64, its includes too; remove one");
}

/* ---- compiled --------------------------------------------------------------- */

TEST(default_is_root_and_systemd_resolve_where_it_exists)
{
	const struct passwd *pw = getpwnam(PW_DNS_DEFAULT_USER);

	REQUIRE(build(NAMED) == 0);
	CHECK_EQ_INT(comp.dns_trust, PW_DNS_TRUST_DEFAULT);
	REQUIRE(comp.ndns_users == (pw && pw->pw_uid ? 2u : 1u));
	CHECK_EQ_INT(comp.dns_users[0].uid, 0);
	CHECK_EQ_STR(comp.dns_users[0].name, "root");
	if (pw && pw->pw_uid) {
		CHECK_EQ_INT(comp.dns_users[1].uid, pw->pw_uid);
		CHECK_EQ_STR(comp.dns_users[1].name, PW_DNS_DEFAULT_USER);
	}
}

TEST(listed_users_compiled_by_uid_any_has_none)
{
	char text[64];

	REQUIRE(build("dns-users nobody, 1000, root\n" NAMED) == 0);
	CHECK_EQ_INT(comp.dns_trust, PW_DNS_TRUST_LISTED);
	REQUIRE(comp.ndns_users == 3);
	CHECK_EQ_INT(comp.dns_users[0].uid, 0);
	CHECK_EQ_INT(comp.dns_users[1].uid, 1000);
	CHECK_EQ_INT(comp.dns_users[2].uid, 65534);
	pw_dns_users_text(&comp, text, sizeof(text));
	CHECK_EQ_STR(text, "root (0), uid 1000, nobody (65534)");
	/* only the users written: not root */
	REQUIRE(build("dns-users nobody\n" NAMED) == 0);
	REQUIRE(comp.ndns_users == 1);
	CHECK_EQ_INT(comp.dns_users[0].uid, 65534);
	REQUIRE(build("dns-users any\n" NAMED) == 0);
	CHECK_EQ_INT(comp.dns_trust, PW_DNS_TRUST_ANY);
	CHECK_EQ_INT(comp.ndns_users, 0);
	pw_dns_users_text(&comp, text, sizeof(text));
	CHECK_EQ_STR(text, "any sender (dns-users any)");
}

TEST(users_in_the_hash_as_written)
{
	char dflt[65], root[65], two[65], swapped[65], any[65], bare[65];

	REQUIRE(build(NAMED) == 0);
	hash_hex(dflt);
	REQUIRE(build("dns-users root\n" NAMED) == 0);
	hash_hex(root);
	REQUIRE(build("dns-users root, 1000\n" NAMED) == 0);
	hash_hex(two);
	REQUIRE(build("dns-users 1000\ndns-users 0\n" NAMED) == 0);
	hash_hex(swapped);
	REQUIRE(build("dns-users any\n" NAMED) == 0);
	hash_hex(any);
	CHECK(strcmp(dflt, root) != 0);
	CHECK(strcmp(root, two) != 0);
	CHECK(strcmp(dflt, any) != 0 && strcmp(root, any) != 0);
	CHECK_EQ_STR(two, swapped);	/* a set: order and spelling do not count */
	/* a policy without names keeps its hash, dns-users or not */
	REQUIRE(build("allow out tcp port 443\n") == 0);
	hash_hex(bare);
	REQUIRE(build("dns-users root\nallow out tcp port 443\n") == 0);
	hash_hex(dflt);
	CHECK_EQ_STR(dflt, bare);
}

/* ---- what check and explain say ------------------------------------------------ */

TEST(check_warns_of_any_and_of_users_without_names)
{
	const char *w = NULL;

	REQUIRE(build("dns-users root\n" NAMED) == 0);
	CHECK_EQ_INT(dns_warnings(NULL), 0);
	REQUIRE(build(NAMED) == 0);
	CHECK_EQ_INT(dns_warnings(NULL), 0);
	REQUIRE(build("default out drop\ndns-users any\n" NAMED) == 0);
	CHECK_EQ_INT(dns_warnings(&w), 1);
	CHECK(w && strstr(w, "an accomplice off the path forges the answer"));
	CHECK(w && strstr(w, "dns-users root, systemd-resolve"));
	CHECK_EQ_INT(diag.warn[0].line, 2);
	REQUIRE(build("dns-users root\nallow out tcp port 443 to 203.0.113.0/24\n") == 0);
	CHECK_EQ_INT(dns_warnings(&w), 1);
	CHECK(w && strstr(w, "dns-users has no effect: the policy names no host"));
}

static const char *explain(const char *peer)
{
	static char line[4096];
	struct pw_query q;
	struct pw_verdict v;
	char err[512];

	if (pw_query_parse("out", "tcp", peer, "443", &q, err, sizeof(err))) {
		snprintf(line, sizeof(line), "query error: %s", err);
		return line;
	}
	pw_explain(&pol, &comp, &q, &v, line, sizeof(line));
	return line;
}

TEST(explain_says_whose_queries_teach)
{
	REQUIRE(build("default out drop\ndns-users root, 1000\n" NAMED) == 0);
	CHECK_EQ_STR(explain("203.0.113.9"),
		     "DROP  default  default out drop\n"
		     "      rule 1 (u.policy:4) allows it if 203.0.113.9 is an address of login.microsoftonline.com, "
		     "learned from DNS (asked by root (0), uid 1000)");
	CHECK_EQ_STR(explain("login.microsoftonline.com"),
		     "PASS  u.policy:4  allow out tcp port 443 to login.microsoftonline.com\n"
		     "      for an address learned from DNS for login.microsoftonline.com, which the policy names as "
		     "login.microsoftonline.com (asked by root (0), uid 1000); where a rule's prefix covers that "
		     "address too, explain the address");
	/* the default says nothing more (check lists it) */
	REQUIRE(build("default out drop\n" NAMED) == 0);
	CHECK_EQ_STR(explain("203.0.113.9"),
		     "DROP  default  default out drop\n"
		     "      rule 1 (u.policy:3) allows it if 203.0.113.9 is an address of login.microsoftonline.com, "
		     "learned from DNS");
}

PW_TEST_MAIN()
