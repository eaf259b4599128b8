/* test_suggest.c - `portwall suggest` (policy/suggest.c) on a recorded
 * events file and its rotated one (tests/unit/events/suggest.jsonl{,.1}):
 * the exact rules, ranked by packets, with a /24 and a /64 made of
 * several peers, single hosts, a scan kept out of the rules, a deny-rule
 * drop left out, --min-count and --since; and the lines parse as policy. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "policy/evrec.h"
#include "policy/policy.h"
#include "policy/suggest.h"

#define EVENTS "tests/unit/events/suggest.jsonl"
#define T0 1796112000000ll	/* 2026-12-01T08:00:00Z */

static void add(const struct pw_evrec *r, void *ctx)
{
	pw_suggest_add(ctx, r);
}

/* The suggestions as "RULE NOTE" lines, then the scans, one string. */
static long suggest(int64_t since_ms, uint64_t min_count, char *out, size_t size, long *bad)
{
	struct pw_suggest s;
	char err[600], rule[200], note[300];
	size_t o = 0;

	pw_suggest_init(&s);
	long n = pw_evfiles_read(EVENTS, since_ms, add, &s, bad, err, sizeof(err));
	if (n < 0 || pw_suggest_finish(&s, min_count))
		return -1;
	out[0] = '\0';
	for (size_t i = 0; i < s.nsugg; i++) {
		pw_suggestion_rule(&s.sugg[i], rule, sizeof(rule));
		pw_suggestion_note(&s.sugg[i], note, sizeof(note));
		o += (size_t)snprintf(out + o, size - o, "%s %s\n", rule, note);
	}
	for (size_t i = 0; i < s.nscan; i++) {
		pw_scan_line(&s.scan[i], note, sizeof(note));
		o += (size_t)snprintf(out + o, size - o, "%s\n", note);
	}
	if (s.skipped != 1)
		n = -2;	/* the deny-rule drop, and only it */
	pw_suggest_free(&s);
	return n;
}

static const char *const last_hour =
	"allow in tcp port 8443 peer 198.51.100.0/24 # 5 packets, 3 peers, first 2026-12-01T08:00:01Z, "
	"last 2026-12-01T08:01:05Z, e.g. 198.51.100.7\n"
	"allow in udp port 5060 peer 192.0.2.10 # 4 packets, 1 peer, first 2026-12-01T08:00:07Z, "
	"last 2026-12-01T08:00:10Z, e.g. 192.0.2.10\n"
	"allow in tcp port 8443 peer 203.0.113.50 # 2 packets, 1 peer, first 2026-12-01T08:00:05Z, "
	"last 2026-12-01T08:00:06Z, e.g. 203.0.113.50\n"
	"allow out tcp port 443 peer 2001:db8:1::/64 # 2 packets, 2 peers, first 2026-12-01T08:00:12Z, "
	"last 2026-12-01T08:00:13Z, e.g. 2001:db8:1::5\n"
	"allow in icmp type echo-request peer 192.0.2.20 # 1 packet, 1 peer, first 2026-12-01T08:00:31Z, "
	"last 2026-12-01T08:00:31Z, e.g. 192.0.2.20\n"
	"# scan: 203.0.113.9 in, 12 ports (tcp/udp ports 20-31), 12 packets, first 2026-12-01T08:00:20Z, "
	"last 2026-12-01T08:00:21Z: not turned into rules\n";

TEST(since_an_hour_back)
{
	char out[4096];
	long bad;
	int64_t since;

	REQUIRE(pw_since_parse("2h", T0 + 3600000, &since) == 0);
	CHECK_EQ_INT(since, T0 - 3600000);
	CHECK_EQ_INT(suggest(since, 1, out, sizeof(out), &bad), 27);
	CHECK_EQ_INT(bad, 1);
	CHECK_EQ_STR(out, last_hour);
}

TEST(everything_and_the_older_file)
{
	char out[4096];
	long bad;

	CHECK_EQ_INT(suggest(INT64_MIN, 1, out, sizeof(out), &bad), 28);
	/* the event 2 h before, in the rotated file, ranks last of the 1-packet ones (icmp before tcp) */
	const char *tail = "allow in tcp port 9000 peer 192.0.2.77 # 1 packet, 1 peer, first 2026-12-01T06:00:00Z, "
			   "last 2026-12-01T06:00:00Z, e.g. 192.0.2.77\n# scan:";
	CHECK(strstr(out, tail) != NULL);
	CHECK(strstr(out, "echo-request peer 192.0.2.20 # 1 packet") < strstr(out, "port 9000"));
}

TEST(min_count)
{
	char out[4096];
	long bad;
	int64_t since;

	REQUIRE(pw_since_parse("2026-12-01T07:00:00Z", 0, &since) == 0);
	CHECK_EQ_INT(since, T0 - 3600000);
	CHECK_EQ_INT(suggest(since, 3, out, sizeof(out), &bad), 27);
	const char *want = "allow in tcp port 8443 peer 198.51.100.0/24 # 5 packets, 3 peers, first "
			   "2026-12-01T08:00:01Z, last 2026-12-01T08:01:05Z, e.g. 198.51.100.7\n"
			   "allow in udp port 5060 peer 192.0.2.10 # 4 packets, 1 peer, first 2026-12-01T08:00:07Z, "
			   "last 2026-12-01T08:00:10Z, e.g. 192.0.2.10\n"
			   "# scan: 203.0.113.9 in, 12 ports (tcp/udp ports 20-31), 12 packets, first "
			   "2026-12-01T08:00:20Z, last 2026-12-01T08:00:21Z: not turned into rules\n";
	CHECK_EQ_STR(out, want);
}

TEST(since_forms)
{
	int64_t s;

	CHECK(pw_since_parse("90s", 100000, &s) == 0 && s == 10000);
	CHECK(pw_since_parse("15m", 1000000, &s) == 0 && s == 100000);
	CHECK(pw_since_parse("1w", 0, &s) == 0 && s == -604800000);
	CHECK(pw_since_parse("2026-12-01 08:00", 0, &s) == 0 && s == T0);
	CHECK(pw_since_parse("2026-12-01", 0, &s) == 0 && s == T0 - 8 * 3600000);
	CHECK(pw_since_parse("5x", 0, &s) == -1);
	CHECK(pw_since_parse("", 0, &s) == -1);
	CHECK(pw_since_parse("yesterday", 0, &s) == -1);
}

/* What suggest prints is a policy one can paste: every line parses. */
TEST(lines_parse_as_policy)
{
	char text[4200];
	struct pw_policy pol;
	struct pw_diag d = { 0 };

	snprintf(text, sizeof(text), "policy \"pasted\"\n%s", last_hour);
	CHECK_EQ_INT(pw_policy_parse_text("pasted.policy", text, strlen(text), &pol, &d), 0);
	if (d.error[0])
		FAILF("%s", d.error);
	CHECK_EQ_INT(pol.nrules, 5);
	pw_policy_free(&pol);
	pw_diag_free(&d);
}

PW_TEST_MAIN()
