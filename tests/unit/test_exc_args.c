/* test_exc_args.c - the words of `portwall allow` (policy/exc.h): what an
 * exception opens, and every way it would open more than typed refused
 * with a message that says what to type. No kernel. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "policy/exc.h"

/* Parse "WORDS"; 0 or -1, err filled. */
static int parse(const char *words, bool wide, struct pw_exc_spec *sp, char *err, size_t n)
{
	static char buf[256];
	char *argv[12];
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", words);
	for (char *t = strtok(buf, " "); t && argc < 12; t = strtok(NULL, " "))
		argv[argc++] = t;
	memset(sp, 0, sizeof(*sp));
	err[0] = 0;
	return pw_exc_parse(argc, argv, wide, sp, err, n);
}

/* WORDS is refused with a message containing WANT. */
static void refused(const char *words, bool wide, const char *want)
{
	struct pw_exc_spec sp;
	char err[400];

	if (parse(words, wide, &sp, err, sizeof(err)) == 0)
		FAILF("\"%s\" was accepted", words);
	else if (!strstr(err, want))
		FAILF("\"%s\": message \"%s\" lacks \"%s\"", words, err, want);
}

TEST(an_exception_is_what_was_typed)
{
	struct pw_exc_spec sp;
	char err[400], buf[160];

	REQUIRE(parse("in tcp port 8443 from 198.51.100.7", false, &sp, err, sizeof(err)) == 0);
	CHECK(sp.dir == PW_DIR_IN && sp.proto == 6 && sp.port_lo == 8443 && sp.port_hi == 8443);
	CHECK(sp.peer.fam == PW_FAM_V4 && sp.peer.len == 32);
	pw_exc_format(sp.dir, sp.proto, sp.port_lo, sp.port_hi, &sp.peer, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "in tcp port 8443 from 198.51.100.7");
	REQUIRE(parse("in udp port 5060-5062 from 2001:db8:1::/48", false, &sp, err, sizeof(err)) == 0);
	CHECK(sp.dir == PW_DIR_IN && sp.proto == 17 && sp.port_lo == 5060 && sp.port_hi == 5062);
	pw_exc_format(sp.dir, sp.proto, sp.port_lo, sp.port_hi, &sp.peer, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "in udp port 5060-5062 from 2001:db8:1::/48");
	struct pw_exc_key k[PW_EXC_PORTS];
	CHECK_EQ_INT(pw_exc_keys(&sp, k), 3);
	CHECK(k[2].port_be == htons(5062) && k[2].prefixlen == PW_EXC_KEY_BITS + 48 && k[2].dir == PW_DIR_IN);
	/* out: the peer's port (its answers pass only on the host's flows) */
	REQUIRE(parse("out udp port 53 to 203.0.113.10", false, &sp, err, sizeof(err)) == 0);
	CHECK(sp.dir == PW_DIR_OUT && sp.proto == 17 && sp.port_lo == 53 && sp.port_hi == 53);
	pw_exc_format(sp.dir, sp.proto, sp.port_lo, sp.port_hi, &sp.peer, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "out udp port 53 to 203.0.113.10");
	REQUIRE(parse("out tcp port 8443-8445 to 2001:db8:1::/48", false, &sp, err, sizeof(err)) == 0);
	pw_exc_format(sp.dir, sp.proto, sp.port_lo, sp.port_hi, &sp.peer, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "out tcp port 8443-8445 to 2001:db8:1::/48");
	CHECK_EQ_INT(pw_exc_keys(&sp, k), 3);
	CHECK(k[2].port_be == htons(8445) && k[2].prefixlen == PW_EXC_KEY_BITS + 48 && k[2].dir == PW_DIR_OUT);
	CHECK(k[0].fam == PW_FAM_V6 && k[0].proto == 6 && k[0].addr[3] == 0xb8);
	/* the widest allowed without --wide-peer, and wider with it */
	CHECK(parse("in tcp port 22 from 198.51.0.0/16", false, &sp, err, sizeof(err)) == 0);
	CHECK(parse("in tcp port 22 from 198.0.0.0/8", true, &sp, err, sizeof(err)) == 0);
	CHECK(parse("in tcp port 1-16 from 192.0.2.1", false, &sp, err, sizeof(err)) == 0);
}

TEST(an_exception_that_would_open_more_is_refused)
{
	refused("in tcp port 8443 from any", false, "never opens a port to any peer");
	refused("in tcp port 8443 from 0.0.0.0/0", false, "every address");
	refused("in tcp port 8443 from 0.0.0.0/0", true, "every address");
	refused("in tcp port 8443 from ::/0", true, "every address");
	refused("in tcp port 8443 from 198.0.0.0/8", false, "--wide-peer");
	refused("in tcp port 8443 from 2001:db8::/32", false, "wider than /48");
	refused("in tcp port 8443 from 198.51.100.7/24", false, "peer 198.51.100.7/24");
	refused("in tcp port 1-17 from 198.51.100.7", false, "at most 16");
	refused("in tcp port 0 from 198.51.100.7", false, "1-65535");
	refused("in tcp port 70000 from 198.51.100.7", false, "1-65535");
	refused("in tcp port 9-3 from 198.51.100.7", false, "range LO-HI");
	refused("in tcp port http from 198.51.100.7", false, "give one port");
	refused("in icmp port 1 from 198.51.100.7", false, "tcp or udp");
	refused("in any port 1 from 198.51.100.7", false, "tcp or udp");
	refused("both tcp port 1 from 198.51.100.7", false, "direction both");
	refused("in tcp 8443 from 198.51.100.7", false, "too few");
	refused("in tcp ports 8443 from 198.51.100.7", false, "\"port N\"");
	refused("in tcp port 8443 to 198.51.100.7", false, "\"from PEER\"");
	refused("out tcp port 8443 from 198.51.100.7", false, "\"to PEER\"");
	refused("out udp port 53 to any", false, "never opens a port to any peer");
	refused("out udp port 53 to 0.0.0.0/0", true, "every address");
	refused("in tcp port 8443 from host.example", false, "peer host.example");
	refused("in tcp port 8443 from 198.51.100.7 extra", false, "too many");
}

TEST(durations_have_a_unit_and_a_cap)
{
	uint64_t s = 0;
	char err[200];

	CHECK(pw_exc_duration("30m", &s, err, sizeof(err)) == 0 && s == 1800);
	CHECK(pw_exc_duration("2h", &s, err, sizeof(err)) == 0 && s == 7200);
	CHECK(pw_exc_duration("1d", &s, err, sizeof(err)) == 0 && s == 86400);
	CHECK(pw_exc_duration("3s", &s, err, sizeof(err)) == 0 && s == 3);
	CHECK(pw_exc_duration("7d", &s, err, sizeof(err)) == 0 && s == 7 * 86400);
	CHECK(pw_exc_duration("8d", &s, err, sizeof(err)) == -1 && strstr(err, "1s to 7d"));
	CHECK(pw_exc_duration("169h", &s, err, sizeof(err)) == -1 && strstr(err, "1s to 7d"));
	CHECK(pw_exc_duration("0m", &s, err, sizeof(err)) == -1 && strstr(err, "1s to 7d"));
	CHECK(pw_exc_duration("2", &s, err, sizeof(err)) == -1 && strstr(err, "e.g. 90s"));
	CHECK(pw_exc_duration("2hours", &s, err, sizeof(err)) == -1 && strstr(err, "not a duration"));
	CHECK(pw_exc_duration("-1h", &s, err, sizeof(err)) == -1);
	CHECK(pw_exc_duration("1w", &s, err, sizeof(err)) == -1);
	CHECK(pw_exc_duration("99999999999999999999d", &s, err, sizeof(err)) == -1);
}

TEST(time_left_reads)
{
	char b[24];

	pw_exc_left(0, b, sizeof(b));
	CHECK_EQ_STR(b, "expired");
	pw_exc_left(42, b, sizeof(b));
	CHECK_EQ_STR(b, "42s");
	pw_exc_left(250, b, sizeof(b));
	CHECK_EQ_STR(b, "4m10s");
	pw_exc_left(7199, b, sizeof(b));
	CHECK_EQ_STR(b, "1h59m");
	pw_exc_left(90000, b, sizeof(b));
	CHECK_EQ_STR(b, "1d1h");
}

PW_TEST_MAIN()
