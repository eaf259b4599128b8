/* test_atk25.c - attacks on 14ae4d1/dcc9a5b (in exceptions' UDP sessions
 * at expiry, monitor mode's pw_ct_in notes, the partial walk). Each
 * TEST expects the verdict that SHOULD be; a FAIL is a finding. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>

#include <bpf/bpf.h>

#include "exc_env.h"
#include "harness.h"
#include "policy/packet.h"

#define P PW_PASS
#define D PW_DROP
#define EXC PW_R_EXCEPTION
#define DEF PW_R_DROP_DEFAULT
#define REV PW_R_DROP_REVOKED

static void monitor_cfg(struct pw_config *cfg)
{
	cfg->mode = PW_MODE_MONITOR;
}

static void monitor_2s(struct pw_config *cfg)
{
	cfg->mode = PW_MODE_MONITOR;
	cfg->ct_udp = 2;
}

static void enforce_cfg(struct pw_config *cfg)
{
	cfg->mode = PW_MODE_ENFORCE;
}

static const char *const OUT_ALLOW =
	"allow in tcp port 22\n"
	"default out allow\n";
static const char *const OUT_ALLOW_5060 =
	"allow in udp port 5060\n"
	"default out allow\n";

#define PIN "in udp 198.51.100.7:5000 192.0.2.2:5060"
#define POUT "out udp 192.0.2.2:5060 198.51.100.7:5000"
#define PIN6 "in udp [2001:db8:1::7]:5000 [2001:db8::2]:5060"
#define POUT6 "out udp [2001:db8::2]:5060 [2001:db8:1::7]:5000"

/* F1: the mark of the host's answers is a revoked flow's mark without
 * PW_CT_EXC (written by revoke_dgram when the port was closed while the
 * exception lived): pw_exc_mark reuses it as is, the detour's flush drops
 * it (allowed again), and the session outlives the exception (H1 again). */
TEST(atk_f1_nonexc_mark_dropped_by_detour_session_outlives_expiry)
{
	REQUIRE(up_with("t.policy", OUT_ALLOW_5060, 0, NULL) == 0);
	uint32_t id = add("in udp port 5060 from 198.51.100.7", 3600, false);
	EXPECT_PKT(pkt(PIN), P, PW_R_ALLOW_RULE, 1);
	EXPECT_PKT(pkt(POUT), P, PW_R_REPLY, 0);
	/* the port is closed: the peer's flow (no EXC) revoked, marked w/o EXC */
	REQUIRE(reload(OUT_ALLOW) == 0);
	CHECK_EQ_STR(ct_state(17, 5060, 5000), "revoked");
	EXPECT_PKT(pkt(PIN), P, EXC, 0);
	EXPECT_PKT(pkt(POUT), P, EXC, 0);	/* carried by the old mark */
	/* detour and back while the exception lives */
	REQUIRE(reload(OUT_ALLOW_5060) == 0);
	EXPECT_PKT(pkt(PIN), P, PW_R_ALLOW_RULE, 1);
	EXPECT_PKT(pkt(POUT), P, PW_R_REPLY, 0);
	REQUIRE(reload(OUT_ALLOW) == 0);
	EXPECT_PKT(pkt(PIN), P, EXC, 0);
	expire(id);
	EXPECT_PKT(pkt(POUT), D, REV, 0);
	EXPECT_PKT(pkt(PIN), D, DEF, 0);
	EXPECT_PKT(pkt(POUT), D, REV, 0);
	EXPECT_PKT(pkt(PIN), D, DEF, 0);
}

/* F1b: the same with IPv6 and the route via an exception re-added after
 * an expiry: the reload after the first expiry overwrites the EXC mark
 * with revoke_dgram's (no EXC); the re-added exception's session then
 * goes on that mark. */
TEST(atk_f1b_readded_exception_v6_session_outlives_expiry)
{
	REQUIRE(up_with("t.policy", OUT_ALLOW, 0, NULL) == 0);
	uint32_t id = add("in udp port 5060 from 2001:db8:1::/48", 3600, false);
	EXPECT_PKT(pkt(PIN6), P, EXC, 0);
	EXPECT_PKT(pkt(POUT6), P, EXC, 0);
	expire(id);
	REQUIRE(reload(OUT_ALLOW) == 0);	/* peer's flow revoked: mark rewritten without EXC */
	EXPECT_PKT(pkt(POUT6), D, REV, 0);
	CHECK(pw_exc_expire(&E.dp) == 1);
	uint32_t id2 = add("in udp port 5060 from 2001:db8:1::/48", 3600, false);
	EXPECT_PKT(pkt(PIN6), P, EXC, 0);
	EXPECT_PKT(pkt(POUT6), P, EXC, 0);
	REQUIRE(reload(OUT_ALLOW_5060) == 0);
	EXPECT_PKT(pkt(PIN6), P, PW_R_ALLOW_RULE, 1);
	REQUIRE(reload(OUT_ALLOW) == 0);
	EXPECT_PKT(pkt(PIN6), P, EXC, 0);
	char err[200];
	REQUIRE(pw_exc_remove(&E.dp, id2, err, sizeof(err)) == 0);	/* removed, not expired */
	EXPECT_PKT(pkt(POUT6), D, REV, 0);
	EXPECT_PKT(pkt(PIN6), D, DEF, 0);
	EXPECT_PKT(pkt(PIN6), D, DEF, 0);
}

/* Control: the same sequence as F1 from a session the exception started
 * (mark with EXC) holds. */
TEST(atk_ctrl_exc_mark_detour_holds)
{
	REQUIRE(up_with("t.policy", OUT_ALLOW, 0, NULL) == 0);
	uint32_t id = add("in udp port 5060 from 198.51.100.7", 3600, false);
	EXPECT_PKT(pkt(PIN), P, EXC, 0);
	EXPECT_PKT(pkt(POUT), P, EXC, 0);
	REQUIRE(reload(OUT_ALLOW_5060) == 0);
	EXPECT_PKT(pkt(PIN), P, PW_R_ALLOW_RULE, 1);
	REQUIRE(reload(OUT_ALLOW) == 0);
	REQUIRE(reload(OUT_ALLOW_5060) == 0);
	REQUIRE(reload(OUT_ALLOW) == 0);
	EXPECT_PKT(pkt(PIN), P, EXC, 0);
	char err[200];
	REQUIRE(pw_exc_remove(&E.dp, id, err, sizeof(err)) == 0);
	EXPECT_PKT(pkt(POUT), D, REV, 0);
	EXPECT_PKT(pkt(PIN), D, DEF, 0);
	/* reloads after the removal keep it ended */
	REQUIRE(reload(OUT_ALLOW) == 0);
	EXPECT_PKT(pkt(POUT), D, REV, 0);
	EXPECT_PKT(pkt(PIN), D, DEF, 0);
}

/* F2: a session monitor mode let in, older than ct_udp: its pw_ct_in note
 * is never refreshed (the host's answers opened a flow of the host's and
 * the peer's datagrams pass as its replies, which note nothing), so the
 * reload to enforce finds it timed out and revokes nothing; the session
 * goes on under enforce. ct_udp 2 s for the test. */
TEST(atk_f2_monitor_session_older_than_ct_udp_survives_enforce)
{
	static const char *const pol = "allow in tcp port 22\ndefault out allow\n";

	REQUIRE(up_with("t.policy", pol, 0, monitor_2s) == 0);
	EXPECT_PKT(pkt(PIN), P, DEF, 0);
	EXPECT_PKT(pkt(POUT), P, PW_R_ALLOW_DEFAULT, 0);
	for (int i = 0; i < 3; i++) {	/* an active session, 3.3 s */
		usleep(1100000);
		EXPECT_PKT(pkt(PIN), P, PW_R_REPLY, 0);
		EXPECT_PKT(pkt(POUT), P, PW_R_ALLOW_DEFAULT, 0);
	}
	REQUIRE(reload_with(pol, enforce_cfg) == 0);
	EXPECT_PKT(pkt(PIN), D, DEF, 0);
	EXPECT_PKT(pkt(POUT), D, REV, 0);
	EXPECT_PKT(pkt(PIN), D, DEF, 0);
}

/* F3: monitor mode notes, in pw_ct_in, the answer to the host's own
 * datagram the monitor policy's out rules refuse (untracked); the reload
 * to enforce with a policy that allows the host's flow revokes it (a
 * revoked mark in pw_ct_dgram), and the host's own NTP queries drop for
 * as long as it keeps sending (each refreshes the mark). */
TEST(atk_f3_monitor_note_revokes_hosts_own_flow_the_enforce_policy_allows)
{
	static const char *const mon = "allow in tcp port 22\ndeny in tcp port 9000\ndefault out drop\n";
	static const char *const fixed =
		"allow in tcp port 22\n"
		"allow out udp port 123 to 203.0.113.10\n"	/* rule 2 */
		"default out drop\n";

	REQUIRE(up_with("t.policy", mon, 0, monitor_cfg) == 0);
	EXPECT_PKT(pkt("out udp 192.0.2.2:123 203.0.113.10:123"), P, DEF, 0);
	EXPECT_PKT(pkt("in udp 203.0.113.10:123 192.0.2.2:123"), P, DEF, 0);
	REQUIRE(reload_with(fixed, enforce_cfg) == 0);
	EXPECT_PKT(pkt("out udp 192.0.2.2:123 203.0.113.10:123"), P, PW_R_ALLOW_RULE, 2);
	EXPECT_PKT(pkt("in udp 203.0.113.10:123 192.0.2.2:123"), P, PW_R_REPLY, 0);
	EXPECT_PKT(pkt("out udp 192.0.2.2:123 203.0.113.10:123"), P, PW_R_ALLOW_RULE, 2);
	EXPECT_PKT(pkt("in udp 203.0.113.10:123 192.0.2.2:123"), P, PW_R_REPLY, 0);
}

/* F3 with a monitor->monitor reload first (the fixed policy tried in
 * monitor mode), IPv6, default out allow in the fixed policy. */
TEST(atk_f3b_monitor_fix_then_enforce_v6)
{
	static const char *const mon = "allow in tcp port 22\ndefault out drop\n";
	static const char *const fixed = "allow in tcp port 22\ndefault out allow\n";

	REQUIRE(up_with("t.policy", mon, 0, monitor_cfg) == 0);
	EXPECT_PKT(pkt("out udp [2001:db8::2]:51820 [2001:db8:9::1]:51820"), P, DEF, 0);
	EXPECT_PKT(pkt("in udp [2001:db8:9::1]:51820 [2001:db8::2]:51820"), P, DEF, 0);
	REQUIRE(reload_with(fixed, monitor_cfg) == 0);
	REQUIRE(reload_with(fixed, enforce_cfg) == 0);
	EXPECT_PKT(pkt("out udp [2001:db8::2]:51820 [2001:db8:9::1]:51820"), P, PW_R_ALLOW_DEFAULT, 0);
	EXPECT_PKT(pkt("in udp [2001:db8:9::1]:51820 [2001:db8::2]:51820"), P, PW_R_REPLY, 0);
}


/* F2b: the same without waiting: monitor mode notes every datagram it
 * lets in on a refused port, so the peer's own 3072 datagrams from other
 * source ports (no spoofing) evict its session's note from pw_ct_in
 * (1024 entries at ct capacity 4096) while the session goes on by the
 * host's flow; the reload to enforce revokes nothing. */
TEST(atk_f2b_monitor_note_evicted_by_peers_own_datagrams_survives_enforce)
{
	static const char *const pol = "allow in tcp port 22\ndefault out allow\n";
	char w[120];

	REQUIRE(up_with("t.policy", pol, 4096, monitor_cfg) == 0);
	EXPECT_PKT(pkt(PIN), P, DEF, 0);
	EXPECT_PKT(pkt(POUT), P, PW_R_ALLOW_DEFAULT, 0);
	EXPECT_PKT(pkt(PIN), P, PW_R_REPLY, 0);
	for (int i = 0; i < 3072; i++) {
		snprintf(w, sizeof(w), "in udp 198.51.100.7:%d 192.0.2.2:7000", 10000 + i);
		pkt(w);
	}
	REQUIRE(reload_with(pol, enforce_cfg) == 0);
	EXPECT_PKT(pkt(PIN), D, DEF, 0);
	EXPECT_PKT(pkt(POUT), D, REV, 0);
	EXPECT_PKT(pkt(PIN), D, DEF, 0);
}

/* F5 (pre-existing LPM, now also in the flush): a /24 exception and a
 * shorter /32 one inside it on the same port; once the /32 expires (the
 * agent not yet by) its peer is refused though the /24 covers it, and a
 * reload revokes its session. */
TEST(atk_f5_expired_narrow_exception_shadows_live_wide_one)
{
	REQUIRE(up_with("t.policy", OUT_ALLOW, 0, NULL) == 0);
	add("in udp port 5060 from 198.51.100.0/24", 3600, false);
	uint32_t b = add("in udp port 5060 from 198.51.100.7", 600, false);
	EXPECT_PKT(pkt(PIN), P, EXC, 0);
	EXPECT_PKT(pkt(POUT), P, EXC, 0);
	expire(b);
	EXPECT_PKT(pkt(PIN), P, EXC, 0);
	EXPECT_PKT(pkt(POUT), P, EXC, 0);
	REQUIRE(reload(OUT_ALLOW) == 0);
	EXPECT_PKT(pkt(PIN), P, EXC, 0);
	EXPECT_PKT(pkt(POUT), P, EXC, 0);
	EXPECT_PKT(pkt("in udp 198.51.100.8:5000 192.0.2.2:5060"), P, EXC, 0);
}

/* D1: a read that fails after its first batch: the flush returns -1 with
 * errno, still flushes what it read; the next walk, the fault gone, is whole. */
TEST(atk_d1_partial_walk_flushes_what_it_read_and_says_so)
{
	REQUIRE(up_with("t.policy", OUT_ALLOW_5060, 0, NULL) == 0);
	EXPECT_PKT(pkt(PIN), P, PW_R_ALLOW_RULE, 1);
	struct pw_state st;
	char err[300];
	struct pw_policy pol;
	struct pw_compiled c;
	struct pw_diag d = { 0 };
	REQUIRE(pw_policy_parse_text("r.policy", OUT_ALLOW, strlen(OUT_ALLOW), &pol, &d) == 0 && pw_compile(&pol, &c, &d) == 0);
	REQUIRE(pw_dp_read_state(&E.dp, &st) == 0);
	REQUIRE(pw_dp_write_half(&E.dp, st.active ^ 1, &c, &E.cfg, err, sizeof(err)) == 0);
	REQUIRE(pw_dp_activate(&E.dp, st.active ^ 1, st.generation + 1) == 0);
	struct pw_revoke rev = { 0 };
	setenv("PORTWALL_FAULT", "ct-read", 1);
	errno = 0;
	int rc = pw_dp_flush_ct(&E.dp, st.active ^ 1, NULL, &rev);
	int e = errno;
	unsetenv("PORTWALL_FAULT");
	CHECK(rc == -1 && e == EIO);
	CHECK(rev.total == 1);
	EXPECT_PKT(pkt(POUT), D, REV, 0);
	CHECK(pw_dp_flush_ct(&E.dp, st.active ^ 1, NULL, &rev) >= 0);
	pw_compiled_free(&c);
	pw_policy_free(&pol);
	pw_diag_free(&d);
}


/* Control, TCP: an in exception's connection under default out allow
 * through a detour reload and back, then removed: ends both ways. */
TEST(atk_ctrl_tcp_detour_then_remove_holds)
{
	static const char *const OUT_ALLOW_8443 = "allow in tcp port 8443\ndefault out allow\n";
	char err[200];

	REQUIRE(up_with("t.policy", OUT_ALLOW, 0, NULL) == 0);
	uint32_t id = add("in tcp port 8443 from 2001:db8:1::7", 3600, false);
	EXPECT_PKT(pkt("in tcp [2001:db8:1::7]:40000 [2001:db8::2]:8443 syn"), P, EXC, 0);
	EXPECT_PKT(pkt("out tcp [2001:db8::2]:8443 [2001:db8:1::7]:40000 syn,ack"), P, EXC, 0);
	EXPECT_PKT(pkt("in tcp [2001:db8:1::7]:40000 [2001:db8::2]:8443 ack"), P, EXC, 0);
	REQUIRE(reload(OUT_ALLOW_8443) == 0);
	EXPECT_PKT(pkt("out tcp [2001:db8::2]:8443 [2001:db8:1::7]:40000 ack"), P, PW_R_ALLOW_RULE, 1);
	REQUIRE(reload(OUT_ALLOW) == 0);
	REQUIRE(pw_exc_remove(&E.dp, id, err, sizeof(err)) == 0);
	EXPECT_PKT(pkt("out tcp [2001:db8::2]:8443 [2001:db8:1::7]:40000 ack"), D, REV, 0);
	EXPECT_PKT(pkt("in tcp [2001:db8:1::7]:40000 [2001:db8::2]:8443 ack"), D, DEF, 0);
	REQUIRE(reload(OUT_ALLOW) == 0);
	EXPECT_PKT(pkt("out tcp [2001:db8::2]:8443 [2001:db8:1::7]:40000 ack"), D, REV, 0);
	EXPECT_PKT(pkt("in tcp [2001:db8:1::7]:40000 [2001:db8::2]:8443 ack"), D, DEF, 0);
}

struct pw_test pw_tests[PW_MAX_TESTS];
int pw_ntests, pw_test_failed;

int main(int argc, char **argv)
{
	return dp_main("test_atk25", argc, argv);
}
