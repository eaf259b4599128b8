/* test_monitor.c - monitor mode, then enforce (BPF_PROG_TEST_RUN on private
 * maps, root). Monitor mode passes what the policy would drop; the flows it
 * lets through keep their origin, as if allowed (a peer's datagrams noted
 * in pw_ct_in, the host's would-be-dropped packets tracked as its own), so
 * that the reload to enforce judges each by the rules of its origin: a
 * session the enforced policy refuses ends there, however long it ran and
 * whatever the peer sent meanwhile, and the host's own flows the policy
 * allows go on. Found by attacks (atk25 F2, F2b, F3): the host's answer
 * under default out allow opened a flow of its own that outlived the
 * switch; noting the answer to the host's own query as a peer's flow
 * revoked a flow the enforced policy allows. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "dp_env.h"
#include "harness.h"
#include "policy/packet.h"

#define P PW_PASS
#define D PW_DROP
#define DEF PW_R_DROP_DEFAULT
#define REV PW_R_DROP_REVOKED
#define PIN "in udp 198.51.100.7:5000 192.0.2.2:5060"
#define POUT "out udp 192.0.2.2:5060 198.51.100.7:5000"

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

static const char *const OUT_ALLOW = "allow in tcp port 22\ndefault out allow\n";

/* A peer's session on a port the policy refuses, under default out allow,
 * older than the UDP timeout (2 s): monitor mode reports each of the
 * peer's datagrams as a drop (not as replies to a flow of the host's),
 * passes the host's answers as replies, and the reload to enforce ends
 * the session both ways. */
TEST(monitor_session_ends_at_the_switch_to_enforce)
{
	REQUIRE(up_with("t.policy", OUT_ALLOW, 0, monitor_2s) == 0);
	EXPECT_PKT(pkt(PIN), P, DEF, 0);
	EXPECT_PKT(pkt(POUT), P, PW_R_REPLY, 0);
	for (int i = 0; i < 3; i++) {	/* an active session, 3.3 s */
		usleep(1100000);
		EXPECT_PKT(pkt(PIN), P, DEF, 0);
		EXPECT_PKT(pkt(POUT), P, PW_R_REPLY, 0);
	}
	REQUIRE(reload_with(OUT_ALLOW, enforce_cfg) == 0);
	EXPECT_PKT(pkt(PIN), D, DEF, 0);
	EXPECT_PKT(pkt(POUT), D, REV, 0);
	EXPECT_PKT(pkt(PIN), D, DEF, 0);
}

/* The same after the peer's own 3,072 datagrams from other source ports
 * (no spoofing) pushed its session's note out of pw_ct_in (1,024 entries
 * at ct capacity 4,096): the mark of the host's side ends it. */
TEST(monitor_session_ends_at_the_switch_though_its_note_was_evicted)
{
	char w[120];

	REQUIRE(up_with("t.policy", OUT_ALLOW, 4096, monitor_cfg) == 0);
	EXPECT_PKT(pkt(PIN), P, DEF, 0);
	EXPECT_PKT(pkt(POUT), P, PW_R_REPLY, 0);
	EXPECT_PKT(pkt(PIN), P, DEF, 0);
	for (int i = 0; i < 3072; i++) {
		snprintf(w, sizeof(w), "in udp 198.51.100.7:%d 192.0.2.2:7000", 10000 + i);
		pkt(w);
	}
	REQUIRE(reload_with(OUT_ALLOW, enforce_cfg) == 0);
	EXPECT_PKT(pkt(PIN), D, DEF, 0);
	EXPECT_PKT(pkt(POUT), D, REV, 0);
	EXPECT_PKT(pkt(PIN), D, DEF, 0);
}

/* The host's own query the monitored policy's out rules refuse is tracked
 * as the host's, so its answer is a reply, not a peer's flow; the reload
 * to enforce a policy that allows the query keeps it going. */
TEST(monitor_hosts_own_flow_goes_on_under_the_fixed_policy)
{
	static const char *const mon = "allow in tcp port 22\ndeny in tcp port 9000\ndefault out drop\n";
	static const char *const fixed =
		"allow in tcp port 22\n"
		"allow out udp port 123 to 203.0.113.10\n"	/* rule 2 */
		"default out drop\n";

	REQUIRE(up_with("t.policy", mon, 0, monitor_cfg) == 0);
	EXPECT_PKT(pkt("out udp 192.0.2.2:123 203.0.113.10:123"), P, DEF, 0);
	EXPECT_PKT(pkt("in udp 203.0.113.10:123 192.0.2.2:123"), P, PW_R_REPLY, 0);
	REQUIRE(reload_with(fixed, enforce_cfg) == 0);
	EXPECT_PKT(pkt("out udp 192.0.2.2:123 203.0.113.10:123"), P, PW_R_ALLOW_RULE, 2);
	EXPECT_PKT(pkt("in udp 203.0.113.10:123 192.0.2.2:123"), P, PW_R_REPLY, 0);
	EXPECT_PKT(pkt("out udp 192.0.2.2:123 203.0.113.10:123"), P, PW_R_ALLOW_RULE, 2);
	EXPECT_PKT(pkt("in udp 203.0.113.10:123 192.0.2.2:123"), P, PW_R_REPLY, 0);
}

/* The same through a monitor-to-monitor reload first (the fixed policy
 * tried in monitor mode), IPv6, default out allow in the fixed policy;
 * and, enforced unfixed, the host's flow the out rules refuse ends. */
TEST(monitor_fix_then_enforce_v6)
{
	static const char *const mon = "allow in tcp port 22\ndefault out drop\n";
	static const char *const fixed = "allow in tcp port 22\ndefault out allow\n";

	REQUIRE(up_with("t.policy", mon, 0, monitor_cfg) == 0);
	EXPECT_PKT(pkt("out udp [2001:db8::2]:51820 [2001:db8:9::1]:51820"), P, DEF, 0);
	EXPECT_PKT(pkt("in udp [2001:db8:9::1]:51820 [2001:db8::2]:51820"), P, PW_R_REPLY, 0);
	REQUIRE(reload_with(fixed, monitor_cfg) == 0);
	REQUIRE(reload_with(fixed, enforce_cfg) == 0);
	EXPECT_PKT(pkt("out udp [2001:db8::2]:51820 [2001:db8:9::1]:51820"), P, PW_R_ALLOW_DEFAULT, 0);
	EXPECT_PKT(pkt("in udp [2001:db8:9::1]:51820 [2001:db8::2]:51820"), P, PW_R_REPLY, 0);
	REQUIRE(reload_with(mon, enforce_cfg) == 0);
	EXPECT_PKT(pkt("in udp [2001:db8:9::1]:51820 [2001:db8::2]:51820"), D, DEF, 0);
	EXPECT_PKT(pkt("out udp [2001:db8::2]:51820 [2001:db8:9::1]:51820"), D, DEF, 0);
}

/* TCP: a peer's connection to a port the policy refuses, let through by
 * monitor mode under default out allow, ends at the switch: its segments
 * are the in rules' to drop there (no flow of the host's grew from its
 * answers). */
TEST(monitor_tcp_connection_ends_at_the_switch)
{
	REQUIRE(up_with("t.policy", OUT_ALLOW, 0, monitor_cfg) == 0);
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:8443 syn"), P, DEF, 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:8443 198.51.100.7:40000 syn,ack"), P, PW_R_ALLOW_DEFAULT, 0);
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:8443 ack"), P, DEF, 0);
	REQUIRE(reload_with(OUT_ALLOW, enforce_cfg) == 0);
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:8443 ack,psh len 100"), D, DEF, 0);
}

/* Spoofed pings in monitor mode (any source, any id): the host's echo
 * replies write nothing into pw_ct_dgram, where they could push out the
 * marks that end monitor mode's sessions at the switch (found by the
 * review of 92f6c8b: every echo reply wrote a mark there). A datagram
 * session's answer does write its mark. */
TEST(monitor_echo_replies_write_no_marks)
{
	char w[160];
	struct pw_ct_row *rows;
	size_t n, dgram = 0;

	REQUIRE(up_with("t.policy", OUT_ALLOW, 0, monitor_cfg) == 0);
	for (int i = 0; i < 64; i++) {
		snprintf(w, sizeof(w), "in icmp 198.51.100.%d 192.0.2.2 icmp-type echo-request icmp-id %d", 1 + i, 100 + i);
		EXPECT_PKT(pkt(w), P, DEF, 0);
		snprintf(w, sizeof(w), "out icmp 192.0.2.2 198.51.100.%d icmp-type echo-reply icmp-id %d", 1 + i, 100 + i);
		pkt(w);
	}
	EXPECT_PKT(pkt(PIN), P, DEF, 0);
	EXPECT_PKT(pkt(POUT), P, PW_R_REPLY, 0);
	REQUIRE(pw_dp_ct_list(&E.dp, &rows, &n) == 0);
	for (size_t i = 0; i < n; i++)
		dgram += rows[i].table == PW_CT_TABLE_DGRAM;
	free(rows);
	CHECK_EQ_INT(dgram, 1);	/* the session's mark alone */
}

struct pw_test pw_tests[PW_MAX_TESTS];
int pw_ntests, pw_test_failed;

int main(int argc, char **argv)
{
	return dp_main("test_monitor", argc, argv);
}
