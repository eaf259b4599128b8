/* test_exc.c - timed exceptions in the kernel (BPF_PROG_TEST_RUN on
 * private maps, root): an exception opens exactly its protocol, port(s),
 * peer and direction, and its replies; nothing after its expiry; the fast
 * path's bare-SYN drop leaves the packet to the slow path only while an
 * exception exists; a reload keeps them; removing one closes it. */
#define _GNU_SOURCE
#include <errno.h>

#include <bpf/bpf.h>

#include "dp_env.h"
#include "datapath/exc.h"
#include "harness.h"
#include "policy/packet.h"

#define P PW_PASS
#define D PW_DROP
#define EXC PW_R_EXCEPTION
#define DEF PW_R_DROP_DEFAULT

static const char *const POLICY =
	"allow in tcp port 22\n"		/* rule 1 */
	"deny in tcp port 9000\n"		/* rule 2 */
	"default out drop\n";

static void no_events(struct pw_config *cfg)
{
	cfg->ev_rate = 0;	/* no drop event ever due: the fast path drops bare SYNs */
	cfg->ev_burst = 0;
}

/* Add "WORDS" (the rule words of `portwall allow`) for secs; its id. */
static uint32_t add(const char *words, uint64_t secs, bool wide)
{
	char buf[200], err[400], *argv[8];
	int argc = 0;
	struct pw_exc_spec sp = { .secs = secs };
	uint32_t id = 0;

	snprintf(buf, sizeof(buf), "%s", words);
	for (char *t = strtok(buf, " "); t && argc < 8; t = strtok(NULL, " "))
		argv[argc++] = t;
	if (pw_exc_parse(argc, argv, wide, &sp, err, sizeof(err)) || pw_exc_add(&E.dp, &sp, &id, err, sizeof(err)))
		FAILF("adding \"%s\": %s", words, err);
	return id;
}

static uint32_t state_exceptions(void)
{
	struct pw_state st;
	return pw_dp_read_state(&E.dp, &st) ? 9999 : st.exceptions;
}

/* Every key of exception id gets expires_ns = at. */
static void set_expiry(uint32_t id, uint64_t at)
{
	struct pw_exc_key k, next;
	struct pw_exc_val v;
	int rc;

	for (rc = bpf_map_get_next_key(E.dp.exc_fd, NULL, &next); rc == 0;
	     rc = bpf_map_get_next_key(E.dp.exc_fd, &k, &next)) {
		k = next;
		if (bpf_map_lookup_elem(E.dp.exc_fd, &k, &v) == 0 && v.id == id) {
			v.expires_ns = at;
			REQUIRE(bpf_map_update_elem(E.dp.exc_fd, &k, &v, BPF_EXIST) == 0);
		}
	}
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

struct pw_test pw_tests[PW_MAX_TESTS];
int pw_ntests, pw_test_failed;

int main(int argc, char **argv)
{
	return dp_main("test_exc", argc, argv);
}
