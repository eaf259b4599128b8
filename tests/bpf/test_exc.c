/* test_exc.c - timed exceptions in the kernel (BPF_PROG_TEST_RUN on
 * private maps, root): an exception opens exactly its protocol, port(s),
 * peer and direction, and its replies; nothing after its expiry; the fast
 * path's bare-SYN drop leaves the packet to the slow path only while an
 * exception exists; a reload keeps them; removing one closes it. The
 * answers pass only on the flows the exception let open (tracked: an out
 * exception's by the host, an in exception's datagrams by the peer), so a
 * spoofed packet from the peer's port reaches no other local port. */
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
#define SIP_IN "in udp 198.51.100.7:5000 192.0.2.2:5060"
#define SIP_OUT "out udp 192.0.2.2:5060 198.51.100.7:5000"

static void ct_udp_2s(struct pw_config *cfg)
{
	cfg->ct_udp = 2;
}

static const char *const POLICY =
	"allow in tcp port 22\n"		/* rule 1 */
	"deny in tcp port 9000\n"		/* rule 2 */
	"default out drop\n";

static void no_events(struct pw_config *cfg)
{
	cfg->ev_rate = 0;	/* no drop event ever due: the fast path drops bare SYNs */
	cfg->ev_burst = 0;
}

static uint32_t state_exceptions(void)
{
	struct pw_state st;
	return pw_dp_read_state(&E.dp, &st) ? 9999 : st.exceptions;
}


TEST(exception_opens_exactly_its_port_peer_proto_direction)
{
	REQUIRE(up_with("t.policy", POLICY, 0, NULL) == 0);
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:8443 syn"), D, DEF, 0);
	CHECK(state_exceptions() == 0);
	REQUIRE(add("in tcp port 8443 from 198.51.100.7", 3600, false) == 1);
	CHECK(state_exceptions() == 1);
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:8443 syn"), P, EXC, 0);
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:8443 ack,psh len 100"), P, EXC, 0);
	/* the host's answer from the port, never its own bare SYN */
	EXPECT_PKT(pkt("out tcp 192.0.2.2:8443 198.51.100.7:40000 syn,ack"), P, EXC, 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:8443 198.51.100.7:40000 ack"), P, EXC, 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:8443 198.51.100.7:40000 syn"), D, DEF, 0);
	/* another peer, port, protocol, direction */
	EXPECT_PKT(pkt("in tcp 198.51.100.8:40000 192.0.2.2:8443 syn"), D, DEF, 0);
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:8444 syn"), D, DEF, 0);
	EXPECT_PKT(pkt("in udp 198.51.100.7:40000 192.0.2.2:8443"), D, DEF, 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40000 198.51.100.7:8443 syn"), D, DEF, 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:8444 198.51.100.7:40000 syn,ack"), D, DEF, 0);
	EXPECT_PKT(pkt("in tcp [2001:db8::7]:40000 [2001:db8::2]:8443 syn"), D, DEF, 0);
	/* the policy's own verdicts are unchanged */
	EXPECT_PKT(pkt("in tcp 198.51.100.8:40000 192.0.2.2:22 syn"), P, PW_R_ALLOW_RULE, 1);
	EXPECT_PKT(pkt("in tcp 198.51.100.8:40000 192.0.2.2:9000 syn"), D, PW_R_DROP_DENY, 2);
}

TEST(exception_prefix_range_ipv6)
{
	REQUIRE(up_with("t.policy", POLICY, 0, NULL) == 0);
	add("in tcp port 8443-8445 from 198.51.100.0/24", 3600, false);
	EXPECT_PKT(pkt("in tcp 198.51.100.9:40000 192.0.2.2:8445 syn"), P, EXC, 0);
	EXPECT_PKT(pkt("in tcp 198.51.100.9:40000 192.0.2.2:8443 syn"), P, EXC, 0);
	EXPECT_PKT(pkt("in tcp 198.51.100.9:40000 192.0.2.2:8446 syn"), D, DEF, 0);
	EXPECT_PKT(pkt("in tcp 203.0.113.9:40000 192.0.2.2:8444 syn"), D, DEF, 0);
	CHECK(state_exceptions() == 3);
	add("in udp port 5060 from 2001:db8:1::/48", 3600, false);
	EXPECT_PKT(pkt("in udp [2001:db8:1::5]:5000 [2001:db8::2]:5060"), P, EXC, 0);
	EXPECT_PKT(pkt("out udp [2001:db8::2]:5060 [2001:db8:1::5]:5000"), P, EXC, 0);
	EXPECT_PKT(pkt("in udp [2001:db8:2::5]:5000 [2001:db8::2]:5060"), D, DEF, 0);
	/* out exceptions are refused (portwall allow says why): their
	 * answers would reach every local port */
}

TEST(exception_ignored_after_its_expiry)
{
	REQUIRE(up_with("t.policy", POLICY, 0, NULL) == 0);
	uint32_t id = add("in tcp port 8443 from 198.51.100.7", 3600, false);
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:8443 syn"), P, EXC, 0);
	set_expiry(id, pw_exc_now_ns() - 1000000000ull);	/* a second ago */
	/* the entry is still there (no agent), it passes nothing either way */
	CHECK(state_exceptions() == 1);
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:8443 syn"), D, DEF, 0);
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:8443 ack"), D, DEF, 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:8443 198.51.100.7:40000 ack"), D, DEF, 0);
	/* near future: passes until then, not after (the clock moves on) */
	set_expiry(id, pw_exc_now_ns() + 1500000000ull);
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:8443 syn"), P, EXC, 0);
	usleep(1600000);
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:8443 syn"), D, DEF, 0);
	/* the agent's cleanup deletes it and the count */
	CHECK(pw_exc_expire(&E.dp) == 1);
	CHECK(state_exceptions() == 0);
}

TEST(fast_path_drops_only_without_exceptions)
{
	struct pw_stats st[2];

	REQUIRE(up_with("t.policy", POLICY, 0, no_events) == 0);
	/* the fast path drops it (no event due): it counts no suppressed
	 * event twice, and the slow path would say the same verdict */
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:8443 syn"), D, DEF, 0);
	uint32_t id = add("in tcp port 8443 from 198.51.100.7", 3600, false);
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:8443 syn"), P, EXC, 0);
	EXPECT_PKT(pkt("in tcp 198.51.100.8:40000 192.0.2.2:8443 syn"), D, DEF, 0);
	/* the fast path also drops datagrams and segments that are no reply
	 * (no event due): those wait for the slow path too */
	EXPECT_PKT(pkt("in udp 198.51.100.7:40000 192.0.2.2:5060"), D, DEF, 0);
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:8443 ack"), P, EXC, 0);
	uint32_t uid = add("in udp port 5060 from 198.51.100.7", 3600, false);
	EXPECT_PKT(pkt("in udp 198.51.100.7:40000 192.0.2.2:5060"), P, EXC, 0);
	EXPECT_PKT(pkt("in udp 198.51.100.8:40000 192.0.2.2:5060"), D, DEF, 0);
	char err[200];
	REQUIRE(pw_exc_remove(&E.dp, uid, err, sizeof(err)) == 0);
	REQUIRE(pw_exc_remove(&E.dp, id, err, sizeof(err)) == 0);
	CHECK(state_exceptions() == 0);
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:8443 syn"), D, DEF, 0);
	CHECK(pw_exc_remove(&E.dp, id, err, sizeof(err)) == -ENOENT);
	(void)st;
}

TEST(exception_kept_across_a_reload_and_refused_twice)
{
	char err[400];

	REQUIRE(up_with("t.policy", POLICY, 0, NULL) == 0);
	add("in tcp port 8443 from 198.51.100.7", 3600, false);
	/* a reload: the other half written and put in force */
	REQUIRE(pw_dp_write_half(&E.dp, 1, &E.c, &E.cfg, err, sizeof(err)) == 0);
	REQUIRE(pw_dp_activate(&E.dp, 1, 2) == 0);
	CHECK(state_exceptions() == 1);
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:8443 syn"), P, EXC, 0);
	/* a rollback to half 0 */
	REQUIRE(pw_dp_activate(&E.dp, 0, 1) == 0);
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:8443 syn"), P, EXC, 0);
	/* the same port to the same peer again: refused, the first one kept */
	struct pw_exc_spec sp = { .secs = 60 };
	char *argv[] = { "in", "tcp", "port", "8443", "from", "198.51.100.7" };
	uint32_t id = 0;
	REQUIRE(pw_exc_parse(6, argv, false, &sp, err, sizeof(err)) == 0);
	CHECK(pw_exc_add(&E.dp, &sp, &id, err, sizeof(err)) == -EEXIST);
	CHECK(strstr(err, "exception 1 already opens port 8443") != NULL);
	CHECK(state_exceptions() == 1);
	struct pw_exc_row rows[4];
	int n = 0;
	REQUIRE(pw_exc_list(&E.dp, rows, 4, &n) == 0);
	CHECK(n == 1 && rows[0].id == 1 && rows[0].left_s > 3590 && rows[0].left_s <= 3600);
}

static const char *const OUT_ALLOW =
	"allow in tcp port 22\n"
	"default out allow\n";

/* Under default out allow the host's answers pass the out rules and would
 * open a flow of the host's, through which the peer's packets would go on
 * after the exception's expiry: the exception carries them instead, its
 * flow marked as a revoked one is, and at the expiry that flow ends both
 * ways, also once the agent has deleted the entry. */
TEST(exception_flow_ends_at_expiry_under_default_out_allow)
{
	REQUIRE(up_with("t.policy", OUT_ALLOW, 0, NULL) == 0);
	uint32_t id = add("in tcp port 8443 from 198.51.100.7", 3600, false);
	uint32_t uid = add("in udp port 5060 from 198.51.100.7", 3600, false);
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:8443 syn"), P, EXC, 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:8443 198.51.100.7:40000 syn,ack"), P, EXC, 0);
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:8443 ack"), P, EXC, 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:8443 198.51.100.7:40000 ack,psh len 100"), P, EXC, 0);
	EXPECT_PKT(pkt("in udp 198.51.100.7:5000 192.0.2.2:5060"), P, EXC, 0);
	EXPECT_PKT(pkt("out udp 192.0.2.2:5060 198.51.100.7:5000"), P, EXC, 0);
	/* the host's datagram to another port of the peer: no answer, its own
	 * flow (the out rules let it), not marked */
	EXPECT_PKT(pkt("out udp 192.0.2.2:5060 198.51.100.7:161"), P, PW_R_ALLOW_DEFAULT, 0);
	CHECK_EQ_STR(ct_state(17, 5060, 161), "unreplied");
	/* the host's own new connection from that port is the out rules' */
	EXPECT_PKT(pkt("out tcp 192.0.2.2:8443 198.51.100.7:40001 syn"), P, PW_R_ALLOW_DEFAULT, 0);
	/* and its flows to others are tracked as ever */
	EXPECT_PKT(pkt("out tcp 192.0.2.2:41000 203.0.113.9:443 syn"), P, PW_R_ALLOW_DEFAULT, 0);
	EXPECT_PKT(pkt("in tcp 203.0.113.9:443 192.0.2.2:41000 syn,ack"), P, PW_R_REPLY, 0);
	set_expiry(id, pw_exc_now_ns() - 1000000000ull);
	set_expiry(uid, pw_exc_now_ns() - 1000000000ull);
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:8443 ack"), D, DEF, 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:8443 198.51.100.7:40000 ack,psh len 100"), D, PW_R_DROP_REVOKED, 0);
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:8443 ack"), D, DEF, 0);
	EXPECT_PKT(pkt("out udp 192.0.2.2:5060 198.51.100.7:5000"), D, PW_R_DROP_REVOKED, 0);
	EXPECT_PKT(pkt("in udp 198.51.100.7:5000 192.0.2.2:5060"), D, DEF, 0);
	/* the agent deletes the entries: the flows stay ended */
	CHECK(pw_exc_expire(&E.dp) == 2);
	CHECK(state_exceptions() == 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:8443 198.51.100.7:40000 ack"), D, PW_R_DROP_REVOKED, 0);
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:8443 ack"), D, DEF, 0);
	EXPECT_PKT(pkt("out udp 192.0.2.2:5060 198.51.100.7:5000"), D, PW_R_DROP_REVOKED, 0);
	EXPECT_PKT(pkt("in udp 198.51.100.7:5000 192.0.2.2:5060"), D, DEF, 0);
	EXPECT_PKT(pkt("in tcp 203.0.113.9:443 192.0.2.2:41000 ack"), P, PW_R_REPLY, 0);
}

/* rule numbers as the datapath counts them */
static const char *const OUT_POLICY =
	"allow in tcp port 22\n"			/* rule 1 */
	"deny in udp port 161\n"			/* rule 2: SNMP, closed */
	"deny in tcp port 9000\n"			/* rule 3 */
	"allow out udp port 123 to 203.0.113.10\n"	/* rule 4 */
	"default out drop\n";
/* the same with the host's queries to 203.0.113.10 allowed by rule 4 */
static const char *const OUT_POLICY_53 =
	"allow in tcp port 22\n"
	"deny in udp port 161\n"
	"deny in tcp port 9000\n"
	"allow out udp port 53 to 203.0.113.10\n"
	"default out drop\n";

#define Q "out udp 192.0.2.2:40000 203.0.113.10:53"
#define A "in udp 203.0.113.10:53 192.0.2.2:40000"
#define UNREACH "in icmp 203.0.113.10 192.0.2.2 icmp-type destination-unreachable icmp-code 3 quote udp "

/* The attack that had out exceptions refused: a datagram from the peer's
 * port 53 to any local port passed. Now only the answers of the host's own
 * queries pass: the 5-tuple of a flow the exception let out. */
TEST(out_exception_lets_in_only_the_answers_of_its_flows)
{
	REQUIRE(up_with("t.policy", OUT_POLICY, 0, NULL) == 0);
	EXPECT_PKT(pkt(Q), D, DEF, 0);
	REQUIRE(add("out udp port 53 to 203.0.113.10", 3600, false) == 1);
	/* before the host asked anything: no flow, no way in */
	EXPECT_PKT(pkt(A), D, DEF, 0);
	EXPECT_PKT(pkt(Q), P, EXC, 0);
	CHECK_EQ_STR(ct_state(17, 40000, 53), "exception,unreplied");
	EXPECT_PKT(pkt(A), P, EXC, 0);
	CHECK_EQ_STR(ct_state(17, 40000, 53), "exception,replied");
	/* the attack: from the peer's port 53 to other local ports, tagged,
	 * as a first fragment, to the ports deny rules close */
	EXPECT_PKT(pkt("in udp 203.0.113.10:53 192.0.2.2:161"), D, PW_R_DROP_DENY, 2);
	EXPECT_PKT(pkt("in udp 203.0.113.10:53 192.0.2.2:40001"), D, DEF, 0);
	EXPECT_PKT(pkt("in udp 203.0.113.10:53 192.0.2.2:161 vlan 7"), D, PW_R_DROP_DENY, 2);
	EXPECT_PKT(pkt("in udp 203.0.113.10:53 192.0.2.2:40001 vlan 7"), D, DEF, 0);
	EXPECT_PKT(pkt("in udp 203.0.113.10:53 192.0.2.2:161 frag first frag-id 9 len 1400"), D, PW_R_DROP_DENY, 2);
	EXPECT_PKT(pkt("in udp 203.0.113.10:53 192.0.2.2:161 frag later frag-id 9"), D, PW_R_DROP_FRAGMENT, 0);
	EXPECT_PKT(pkt("in udp 203.0.113.10:53 192.0.2.2:40001 frag first frag-id 11 len 1400"), D, DEF, 0);
	EXPECT_PKT(pkt("in tcp 203.0.113.10:53 192.0.2.2:9000 ack"), D, PW_R_DROP_DENY, 3);
	EXPECT_PKT(pkt("in tcp 203.0.113.10:53 192.0.2.2:40000 ack"), D, DEF, 0);
	/* another peer, another port of the peer */
	EXPECT_PKT(pkt("in udp 203.0.113.11:53 192.0.2.2:40000"), D, DEF, 0);
	EXPECT_PKT(pkt("in udp 203.0.113.10:54 192.0.2.2:40000"), D, DEF, 0);
	/* the answer tagged or fragmented passes as any tracked flow's does */
	EXPECT_PKT(pkt(A " vlan 7"), P, EXC, 0);
	EXPECT_PKT(pkt(A " frag first frag-id 10 len 1400"), P, EXC, 0);
	EXPECT_PKT(pkt(A " frag later frag-id 10"), P, PW_R_FRAGMENT_OK, 0);
	/* what it lets out: the peer's port 53, no other port, peer or protocol */
	EXPECT_PKT(pkt("out udp 192.0.2.2:40000 203.0.113.10:54"), D, DEF, 0);
	EXPECT_PKT(pkt("out udp 192.0.2.2:40000 203.0.113.11:53"), D, DEF, 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40000 203.0.113.10:53 syn"), D, DEF, 0);
	/* the peer's port unreachable about the query; not about another */
	EXPECT_PKT(pkt(UNREACH "192.0.2.2:40000 203.0.113.10:53"), P, EXC, 0);
	EXPECT_PKT(pkt(UNREACH "192.0.2.2:40001 203.0.113.10:53"), D, DEF, 0);
	/* IPv6 alike */
	add("out udp port 53 to 2001:db8:53::10", 3600, false);
	EXPECT_PKT(pkt("in udp [2001:db8:53::10]:53 [2001:db8::2]:40000"), D, DEF, 0);
	EXPECT_PKT(pkt("out udp [2001:db8::2]:40000 [2001:db8:53::10]:53"), P, EXC, 0);
	EXPECT_PKT(pkt("in udp [2001:db8:53::10]:53 [2001:db8::2]:40000"), P, EXC, 0);
	EXPECT_PKT(pkt("in udp [2001:db8:53::10]:53 [2001:db8::2]:40001"), D, DEF, 0);
}

#define SYN "out tcp 192.0.2.2:41000 203.0.113.10:443 syn"
#define SYNACK "in tcp 203.0.113.10:443 192.0.2.2:41000 syn,ack"
#define PMTU "in icmp 198.51.100.1 192.0.2.2 icmp-type destination-unreachable icmp-code 4 " \
	     "quote tcp 192.0.2.2:41000 203.0.113.10:443"

/* A connection an out exception lets out: tracked by the host's own
 * segments as any flow of the host's (the fast path drops without an
 * event where it may: no_events), ended both ways at the expiry. */
TEST(out_exception_connection_tracked_and_ended_at_expiry)
{
	struct pw_stats st[2];

	REQUIRE(up_with("t.policy", OUT_POLICY, 0, no_events) == 0);
	uint32_t id = add("out tcp port 443 to 203.0.113.10", 3600, false);
	EXPECT_PKT(pkt(SYNACK), D, DEF, 0);	/* before the host's SYN */
	EXPECT_PKT(pkt(SYN), P, EXC, 0);
	CHECK_EQ_STR(ct_state(6, 41000, 443), "exception,syn-sent");
	EXPECT_PKT(pkt(SYNACK), P, EXC, 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:41000 203.0.113.10:443 ack"), P, EXC, 0);
	CHECK_EQ_STR(ct_state(6, 41000, 443), "exception,established");
	EXPECT_PKT(pkt("in tcp 203.0.113.10:443 192.0.2.2:41000 ack,psh len 1000"), P, EXC, 0);
	/* a bare SYN is never an answer; other local ports have no flow */
	EXPECT_PKT(pkt("in tcp 203.0.113.10:443 192.0.2.2:41000 syn"), D, DEF, 0);
	EXPECT_PKT(pkt("in tcp 203.0.113.10:443 192.0.2.2:41001 ack"), D, DEF, 0);
	EXPECT_PKT(pkt("in tcp 203.0.113.10:443 192.0.2.2:9000 ack"), D, PW_R_DROP_DENY, 3);
	EXPECT_PKT(pkt("in udp 203.0.113.10:443 192.0.2.2:41000"), D, DEF, 0);
	/* the peer's RST changes no state (only the host's segments do), as
	 * for every tracked flow: counted as ignored */
	REQUIRE(pw_dp_stats(&E.dp, &st[0]) == 0);
	EXPECT_PKT(pkt("in tcp 203.0.113.10:443 192.0.2.2:41000 rst"), P, EXC, 0);
	REQUIRE(pw_dp_stats(&E.dp, &st[1]) == 0);
	CHECK(st[1].ct_ignored == st[0].ct_ignored + 1);
	CHECK_EQ_STR(ct_state(6, 41000, 443), "exception,established");
	/* PMTU: a router's error quoting the host's segment */
	EXPECT_PKT(pkt(PMTU), P, EXC, 0);
	/* the host's FIN: half-closed, the peer may still answer */
	EXPECT_PKT(pkt("out tcp 192.0.2.2:41000 203.0.113.10:443 fin,ack"), P, EXC, 0);
	CHECK_EQ_STR(ct_state(6, 41000, 443), "exception,fin-sent");
	EXPECT_PKT(pkt("in tcp 203.0.113.10:443 192.0.2.2:41000 fin,ack"), P, EXC, 0);
	/* a new connection from the port again: a fresh flow */
	EXPECT_PKT(pkt(SYN), P, EXC, 0);
	CHECK_EQ_STR(ct_state(6, 41000, 443), "exception,syn-sent");
	EXPECT_PKT(pkt("out tcp 192.0.2.2:41000 203.0.113.10:443 ack"), P, EXC, 0);
	/* at expiry the flow ends both ways, its entry still there */
	set_expiry(id, pw_exc_now_ns() - 1000000000ull);
	EXPECT_PKT(pkt("in tcp 203.0.113.10:443 192.0.2.2:41000 ack"), D, DEF, 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:41000 203.0.113.10:443 ack"), D, DEF, 0);
	EXPECT_PKT(pkt(PMTU), D, DEF, 0);
	EXPECT_PKT(pkt(SYN), D, DEF, 0);
	/* and after the agent deleted the exception (the fast path drops) */
	CHECK(pw_exc_expire(&E.dp) == 1);
	CHECK(state_exceptions() == 0);
	EXPECT_PKT(pkt("in tcp 203.0.113.10:443 192.0.2.2:41000 ack"), D, DEF, 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:41000 203.0.113.10:443 ack"), D, DEF, 0);
}

/* A reload keeps an exception's flows (its flush drops only what the
 * policy refuses, and an exception's flow is the exception's); --remove
 * ends them at once; a policy that lets the host's packet out makes the
 * flow the host's own, which the exception's end leaves alone. */
TEST(out_exception_flows_kept_by_reload_ended_by_remove)
{
	char err[200];

	REQUIRE(up_with("t.policy", OUT_POLICY, 0, NULL) == 0);
	uint32_t id = add("out udp port 53 to 203.0.113.10", 3600, false);
	uint32_t tid = add("out tcp port 443 to 203.0.113.10", 3600, false);
	EXPECT_PKT(pkt(Q), P, EXC, 0);
	EXPECT_PKT(pkt(SYN), P, EXC, 0);
	EXPECT_PKT(pkt(SYNACK), P, EXC, 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:41000 203.0.113.10:443 ack"), P, EXC, 0);
	REQUIRE(reload(OUT_POLICY) == 0);
	CHECK_EQ_STR(ct_state(6, 41000, 443), "exception,established");
	EXPECT_PKT(pkt(A), P, EXC, 0);
	EXPECT_PKT(pkt("in tcp 203.0.113.10:443 192.0.2.2:41000 ack"), P, EXC, 0);
	REQUIRE(pw_exc_remove(&E.dp, tid, err, sizeof(err)) == 0);
	EXPECT_PKT(pkt("in tcp 203.0.113.10:443 192.0.2.2:41000 ack"), D, DEF, 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:41000 203.0.113.10:443 ack"), D, DEF, 0);
	EXPECT_PKT(pkt(A), P, EXC, 0);	/* the other exception's flow goes on */
	/* rule 4 now lets the queries out: the host's next one makes the
	 * flow its own */
	REQUIRE(reload(OUT_POLICY_53) == 0);
	EXPECT_PKT(pkt(Q), P, PW_R_ALLOW_RULE, 4);
	CHECK_EQ_STR(ct_state(17, 40000, 53), "replied");
	REQUIRE(pw_exc_remove(&E.dp, id, err, sizeof(err)) == 0);
	EXPECT_PKT(pkt(A), P, PW_R_REPLY, 0);
	EXPECT_PKT(pkt("in udp 203.0.113.10:53 192.0.2.2:40001"), D, DEF, 0);
}

/* An in exception's datagrams: the host's answers pass only on a flow the
 * peer started (pw_ct_in), not from the port to any port of that peer as
 * they did when judged statelessly. Its TCP answers are judged as a
 * listener's segments are (never a bare SYN). */
TEST(in_exception_answers_only_on_the_peers_flow)
{
	REQUIRE(up_with("t.policy", POLICY, 0, NULL) == 0);
	uint32_t id = add("in udp port 5060 from 198.51.100.7", 3600, false);
	/* before the peer sent anything (this passed, stateless) */
	EXPECT_PKT(pkt("out udp 192.0.2.2:5060 198.51.100.7:5000"), D, DEF, 0);
	EXPECT_PKT(pkt("in udp 198.51.100.7:5000 192.0.2.2:5060"), P, EXC, 0);
	CHECK_EQ_STR(ct_state(17, 5060, 5000), "exception,answers exception,seen");
	EXPECT_PKT(pkt("out udp 192.0.2.2:5060 198.51.100.7:5000"), P, EXC, 0);
	/* to another port of the peer (this passed too) */
	EXPECT_PKT(pkt("out udp 192.0.2.2:5060 198.51.100.7:161"), D, DEF, 0);
	EXPECT_PKT(pkt("out udp 192.0.2.2:5061 198.51.100.7:5000"), D, DEF, 0);
	add("in tcp port 8443 from 198.51.100.7", 3600, false);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:8443 198.51.100.7:40000 ack"), P, EXC, 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:8443 198.51.100.7:40000 syn"), D, DEF, 0);
	/* a reload keeps the peer's flow */
	REQUIRE(reload(POLICY) == 0);
	CHECK_EQ_STR(ct_state(17, 5060, 5000), "exception,answers exception,seen");
	EXPECT_PKT(pkt("out udp 192.0.2.2:5060 198.51.100.7:5000"), P, EXC, 0);
	set_expiry(id, pw_exc_now_ns() - 1000000000ull);
	EXPECT_PKT(pkt("out udp 192.0.2.2:5060 198.51.100.7:5000"), D, DEF, 0);
	EXPECT_PKT(pkt("in udp 198.51.100.7:5000 192.0.2.2:5060"), D, DEF, 0);
}

/* The host's own flow with the 5-tuple of an in exception's answer (it
 * connected from that port, the out rules let it): its segments pass as
 * its own and are tracked, not overwritten with a revoked flow's mark
 * (which ended the host's own connection at the exception's expiry). */
TEST(in_exception_leaves_the_hosts_own_flow_alone)
{
	REQUIRE(up_with("t.policy", OUT_ALLOW, 0, NULL) == 0);
	uint32_t id = add("in tcp port 8443 from 198.51.100.7", 3600, false);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:8443 198.51.100.7:40000 syn"), P, PW_R_ALLOW_DEFAULT, 0);
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:8443 syn,ack"), P, PW_R_REPLY, 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:8443 198.51.100.7:40000 ack"), P, PW_R_ALLOW_DEFAULT, 0);
	CHECK_EQ_STR(ct_state(6, 8443, 40000), "established");
	EXPECT_PKT(pkt("out tcp 192.0.2.2:8443 198.51.100.7:40000 ack,psh len 100"), P, PW_R_ALLOW_DEFAULT, 0);
	set_expiry(id, pw_exc_now_ns() - 1000000000ull);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:8443 198.51.100.7:40000 ack"), P, PW_R_ALLOW_DEFAULT, 0);
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:8443 ack"), P, PW_R_REPLY, 0);
}

static const char *const OUT_ALLOW_5060 =	/* a rule as OUT_ALLOW: the rule capacity */
	"allow in udp port 5060\n"
	"default out allow\n";

/* An in exception's UDP session through a reload to a policy that allows
 * its port and back: it goes on by the exception, and still ends at the
 * expiry. The detour's reload dropped the mark of the host's answers (a
 * revoked flow's mark when the policy allows the service again): after
 * the expiry the host's next datagram opened a flow of its own, through
 * which the peer's went on passing. */
TEST(in_exception_session_ends_at_expiry_after_a_detour_reload)
{
	REQUIRE(up_with("t.policy", OUT_ALLOW, 0, NULL) == 0);
	uint32_t id = add("in udp port 5060 from 198.51.100.7", 3600, false);
	EXPECT_PKT(pkt("in udp 198.51.100.7:5000 192.0.2.2:5060"), P, EXC, 0);
	EXPECT_PKT(pkt("out udp 192.0.2.2:5060 198.51.100.7:5000"), P, EXC, 0);
	REQUIRE(reload(OUT_ALLOW_5060) == 0);
	EXPECT_PKT(pkt("in udp 198.51.100.7:5000 192.0.2.2:5060"), P, PW_R_ALLOW_RULE, 1);
	EXPECT_PKT(pkt("out udp 192.0.2.2:5060 198.51.100.7:5000"), P, PW_R_REPLY, 0);
	REQUIRE(reload(OUT_ALLOW) == 0);
	EXPECT_PKT(pkt("in udp 198.51.100.7:5000 192.0.2.2:5060"), P, EXC, 0);
	set_expiry(id, pw_exc_now_ns() - 1000000000ull);
	EXPECT_PKT(pkt("out udp 192.0.2.2:5060 198.51.100.7:5000"), D, PW_R_DROP_REVOKED, 0);
	EXPECT_PKT(pkt("in udp 198.51.100.7:5000 192.0.2.2:5060"), D, DEF, 0);
	EXPECT_PKT(pkt("out udp 192.0.2.2:5060 198.51.100.7:5000"), D, PW_R_DROP_REVOKED, 0);
}

/* The exception expires during the detour, whose policy carries the
 * session on by its rule, long enough for the mark to time out (the
 * host's answers pass as replies there, and refresh only the peer's
 * flow). The reload back ends the session as a revoked service's: the
 * peer's flow is no longer the exception's to keep. */
TEST(in_exception_session_ended_by_the_reload_after_its_expiry)
{
	REQUIRE(up_with("t.policy", OUT_ALLOW, 0, NULL) == 0);
	uint32_t id = add("in udp port 5060 from 198.51.100.7", 3600, false);
	EXPECT_PKT(pkt("in udp 198.51.100.7:5000 192.0.2.2:5060"), P, EXC, 0);
	EXPECT_PKT(pkt("out udp 192.0.2.2:5060 198.51.100.7:5000"), P, EXC, 0);
	REQUIRE(reload(OUT_ALLOW_5060) == 0);
	set_expiry(id, pw_exc_now_ns() - 1000000000ull);
	age_table(PW_CT_TABLE_DGRAM);
	EXPECT_PKT(pkt("in udp 198.51.100.7:5000 192.0.2.2:5060"), P, PW_R_ALLOW_RULE, 1);
	EXPECT_PKT(pkt("out udp 192.0.2.2:5060 198.51.100.7:5000"), P, PW_R_REPLY, 0);
	/* a reload while it lives on by the rule keeps it */
	REQUIRE(reload(OUT_ALLOW_5060) == 0);
	EXPECT_PKT(pkt("out udp 192.0.2.2:5060 198.51.100.7:5000"), P, PW_R_REPLY, 0);
	REQUIRE(reload(OUT_ALLOW) == 0);
	CHECK_EQ_STR(ct_state(17, 5060, 5000), "revoked");
	EXPECT_PKT(pkt("out udp 192.0.2.2:5060 198.51.100.7:5000"), D, PW_R_DROP_REVOKED, 0);
	EXPECT_PKT(pkt("in udp 198.51.100.7:5000 192.0.2.2:5060"), D, DEF, 0);
}

/* The session an in rule let in before the exception: the reload that
 * closed the port marked it (revoke_dgram, a reload's mark), and the
 * exception carries it on that mark, which becomes the exception's; a
 * detour through the port's policy and back then keeps it, and the expiry
 * ends the session. Found by an attack (atk25 F1): the detour dropped the
 * reload's mark and the host's next answer after the expiry opened a flow
 * of its own. */
TEST(in_exception_carrying_a_reloads_mark_ends_at_expiry_after_a_detour)
{
	REQUIRE(up_with("t.policy", OUT_ALLOW_5060, 0, NULL) == 0);
	uint32_t id = add("in udp port 5060 from 198.51.100.7", 3600, false);
	EXPECT_PKT(pkt("in udp 198.51.100.7:5000 192.0.2.2:5060"), P, PW_R_ALLOW_RULE, 1);
	EXPECT_PKT(pkt("out udp 192.0.2.2:5060 198.51.100.7:5000"), P, PW_R_REPLY, 0);
	REQUIRE(reload(OUT_ALLOW) == 0);
	CHECK_EQ_STR(ct_state(17, 5060, 5000), "revoked");
	EXPECT_PKT(pkt("in udp 198.51.100.7:5000 192.0.2.2:5060"), P, EXC, 0);
	EXPECT_PKT(pkt("out udp 192.0.2.2:5060 198.51.100.7:5000"), P, EXC, 0);
	REQUIRE(reload(OUT_ALLOW_5060) == 0);
	REQUIRE(reload(OUT_ALLOW) == 0);
	EXPECT_PKT(pkt("in udp 198.51.100.7:5000 192.0.2.2:5060"), P, EXC, 0);
	set_expiry(id, pw_exc_now_ns() - 1000000000ull);
	EXPECT_PKT(pkt("out udp 192.0.2.2:5060 198.51.100.7:5000"), D, PW_R_DROP_REVOKED, 0);
	EXPECT_PKT(pkt("in udp 198.51.100.7:5000 192.0.2.2:5060"), D, DEF, 0);
}

/* The same mark by way of an exception re-added after its expiry (IPv6,
 * ended by removal): the reload after the expiry revoked the session, the
 * new exception carries it on, a detour and back keeps the mark, and the
 * removal ends it (atk25 F1b). */
TEST(in_exception_readded_v6_session_ends_at_removal_after_a_detour)
{
	char err[200];

	REQUIRE(up_with("t.policy", OUT_ALLOW, 0, NULL) == 0);
	uint32_t id = add("in udp port 5060 from 2001:db8:1::/48", 3600, false);
	EXPECT_PKT(pkt("in udp [2001:db8:1::7]:5000 [2001:db8::2]:5060"), P, EXC, 0);
	EXPECT_PKT(pkt("out udp [2001:db8::2]:5060 [2001:db8:1::7]:5000"), P, EXC, 0);
	set_expiry(id, pw_exc_now_ns() - 1000000000ull);
	REQUIRE(reload(OUT_ALLOW) == 0);
	EXPECT_PKT(pkt("out udp [2001:db8::2]:5060 [2001:db8:1::7]:5000"), D, PW_R_DROP_REVOKED, 0);
	CHECK(pw_exc_expire(&E.dp) == 1);
	uint32_t id2 = add("in udp port 5060 from 2001:db8:1::/48", 3600, false);
	EXPECT_PKT(pkt("in udp [2001:db8:1::7]:5000 [2001:db8::2]:5060"), P, EXC, 0);
	EXPECT_PKT(pkt("out udp [2001:db8::2]:5060 [2001:db8:1::7]:5000"), P, EXC, 0);
	REQUIRE(reload(OUT_ALLOW_5060) == 0);
	REQUIRE(reload(OUT_ALLOW) == 0);
	EXPECT_PKT(pkt("in udp [2001:db8:1::7]:5000 [2001:db8::2]:5060"), P, EXC, 0);
	REQUIRE(pw_exc_remove(&E.dp, id2, err, sizeof(err)) == 0);
	EXPECT_PKT(pkt("out udp [2001:db8::2]:5060 [2001:db8:1::7]:5000"), D, PW_R_DROP_REVOKED, 0);
	EXPECT_PKT(pkt("in udp [2001:db8:1::7]:5000 [2001:db8::2]:5060"), D, DEF, 0);
}

/* The peer streams and the host answers less often than the UDP timeout
 * (2 s here): the mark of the host's side is kept alive by the peer's
 * datagrams the exception lets in, so at expiry the host's next answer
 * ends the session (revoked) instead of opening a flow of its own whose
 * replies the peer's datagrams would then be. Found by an attack (atk25
 * F4): only the host's answers refreshed the mark. */
TEST(in_exception_session_of_a_peer_alone_ends_at_expiry)
{
	REQUIRE(up_with("t.policy", OUT_ALLOW, 0, ct_udp_2s) == 0);
	uint32_t id = add("in udp port 5060 from 198.51.100.7", 3600, false);
	EXPECT_PKT(pkt(SIP_IN), P, EXC, 0);
	EXPECT_PKT(pkt(SIP_OUT), P, EXC, 0);
	for (int i = 0; i < 3; i++) {	/* 3.3 s of the peer alone */
		usleep(1100000);
		EXPECT_PKT(pkt(SIP_IN), P, EXC, 0);
	}
	CHECK_EQ_STR(ct_state(17, 5060, 5000), "exception,answers exception,seen");
	expire(id);
	EXPECT_PKT(pkt(SIP_OUT), D, PW_R_DROP_REVOKED, 0);
	EXPECT_PKT(pkt(SIP_IN), D, DEF, 0);
	EXPECT_PKT(pkt(SIP_IN), D, DEF, 0);
}

/* The peer evicts its own note in pw_ct_in (3,072 datagrams to a port the
 * policy lets in to all, a pw_ct_in of 4,096 entries) before the host's
 * first answer: the mark its first datagram wrote carries the answer, and
 * the session ends at expiry. Found by an attack (atk25 F6): the answer
 * found no note and opened a flow of the host's that outlived the
 * exception, and every reload after. */
TEST(in_exception_session_ends_though_the_peer_evicted_its_note)
{
	static const char *const pol = "allow in udp port 53\ndefault out allow\n";
	char w[120];

	REQUIRE(up_with("t.policy", pol, 4096, NULL) == 0);
	uint32_t id = add("in udp port 5060 from 198.51.100.7", 3600, false);
	EXPECT_PKT(pkt(SIP_IN), P, EXC, 0);
	for (int i = 0; i < 3072; i++) {
		snprintf(w, sizeof(w), "in udp 198.51.100.7:%d 192.0.2.2:53", 10000 + i);
		pkt(w);
	}
	CHECK_EQ_STR(ct_state(17, 5060, 5000), "exception,answers");
	EXPECT_PKT(pkt(SIP_OUT), P, EXC, 0);
	EXPECT_PKT(pkt(SIP_IN), P, EXC, 0);
	expire(id);
	REQUIRE(reload(pol) == 0);
	EXPECT_PKT(pkt(SIP_IN), D, DEF, 0);
	EXPECT_PKT(pkt(SIP_OUT), D, PW_R_DROP_REVOKED, 0);
	EXPECT_PKT(pkt(SIP_IN), D, DEF, 0);
}

/* Nested exceptions on one port: a /24 for an hour, a /28 and a /32 inside
 * it for less. Once the narrower ones expire (the agent not by to delete
 * them) the /24 still lets its peers in, their flows go on, and a reload
 * keeps them (pw_exc_covers_in looks through as the datapath does). Found
 * by an attack (atk25 F5): the expired /32, the trie's narrowest match,
 * hid the live /24, so its peer was refused and a reload revoked its
 * session. */
TEST(expired_narrow_exceptions_do_not_hide_a_live_wide_one)
{
	REQUIRE(up_with("t.policy", OUT_ALLOW, 0, NULL) == 0);
	add("in udp port 5060 from 198.51.100.0/24", 3600, false);
	uint32_t b = add("in udp port 5060 from 198.51.100.0/28", 600, false);
	uint32_t c = add("in udp port 5060 from 198.51.100.7", 600, false);
	EXPECT_PKT(pkt(SIP_IN), P, EXC, 0);
	EXPECT_PKT(pkt(SIP_OUT), P, EXC, 0);
	expire(b);
	expire(c);
	/* the reload's flush asks pw_exc_covers_in */
	struct pw_ct_key k = { .lport_be = htons(5060), .rport_be = htons(5000), .proto = 17, .fam = PW_FAM_V4 };
	inet_pton(AF_INET, "198.51.100.7", k.remote);
	CHECK(pw_exc_covers_in(&E.dp, &k, pw_exc_now_ns()));
	inet_pton(AF_INET, "198.51.101.7", k.remote);
	CHECK(!pw_exc_covers_in(&E.dp, &k, pw_exc_now_ns()));
	EXPECT_PKT(pkt(SIP_IN), P, EXC, 0);
	EXPECT_PKT(pkt(SIP_OUT), P, EXC, 0);
	REQUIRE(reload(OUT_ALLOW) == 0);
	CHECK_EQ_STR(ct_state(17, 5060, 5000), "exception,answers exception,seen");
	EXPECT_PKT(pkt(SIP_IN), P, EXC, 0);
	EXPECT_PKT(pkt(SIP_OUT), P, EXC, 0);
	EXPECT_PKT(pkt("in udp 198.51.100.8:5000 192.0.2.2:5060"), P, EXC, 0);
	EXPECT_PKT(pkt("in udp 198.51.101.7:5000 192.0.2.2:5060"), D, DEF, 0);
}

struct pw_test pw_tests[PW_MAX_TESTS];
int pw_ntests, pw_test_failed;

int main(int argc, char **argv)
{
	return dp_main("test_exc", argc, argv);
}

