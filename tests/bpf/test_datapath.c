/* test_datapath.c - the XDP and tc programs, packet by packet, with
 * BPF_PROG_TEST_RUN on private maps (root): the vendor tables of every
 * shipped policy (the kernel's verdict and rule equal explain's), their
 * outbound side under default out drop with the replies it keeps, what
 * always passes (non-IP, neighbor discovery), the fragment counter,
 * connection tracking, deny-wins, monitor mode, and the counters and drop
 * events after each case. Malformed and evasive packets (VLAN tags, IPv4
 * options and lengths, IPv6 extension headers, fragments, TCP/UDP header
 * fields, ICMP echo and errors, mapped addresses, port 0) are the evasion
 * corpus's: tests/evasion/, run by test_evasion.c. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "dp_env.h"
#include "policy/explain.h"
#include "harness.h"
#include "datapath/loader.h"
#include "datapath/status.h"
#include "policy/packet.h"
#include "vendor_rows.h"

/* ---- a datapath loaded with a policy ------------------------------------- */

static int up(const char *text)
{
	return up_with("t.policy", text, 0, NULL);
}

/* Run a packet for its effect on state only: no counters read before and
 * after (pkt() reads them all, about a hundred map reads a packet, which
 * makes a flood of tens of thousands of packets take half a minute under
 * valgrind). The verdict is returned, -1 when it could not run. */
static int run_only(const char *words)
{
	char err[256];
	struct pw_pktspec s;
	uint8_t frame[PW_PKT_OUT_MAX];
	int verdict;

	if (pw_pkt_parse_line(words, &s, err, sizeof(err))) {
		FAILF("bad packet \"%s\": %s", words, err);
		return -1;
	}
	size_t len = pw_pkt_build(&s, frame, sizeof(frame));
	if (pw_dp_run_link(&E.dp, s.l3 ? PW_LINK_L3 : PW_LINK_ETHER, s.dir, frame, len, &verdict))
		return -1;
	return verdict;
}

/* Run raw bytes (for malformed frames) */
static struct dp_out raw(uint32_t dir, const uint8_t *frame, size_t len)
{
	struct dp_out o = { -1, -1, 0, len };
	struct pw_dp_result r;

	if (pw_dp_judge(&E.dp, E.c.nrules, dir, frame, len, &r)) {
		FAILF("running a raw frame failed");
		return o;
	}
	o.verdict = r.verdict;
	o.reason = r.reason;
	o.rule = r.rule;
	return o;
}

#define P PW_PASS
#define D PW_DROP

static uint64_t reason_count(uint32_t dir, int reason)
{
	struct pw_counter c[PW_DIR_COUNT * PW_R_COUNT];
	if (pw_dp_reason_counts(&E.dp, c))
		return (uint64_t)-1;
	return c[dir * PW_R_COUNT + reason].packets;
}

/* ---- vendor tables: the kernel agrees with explain ---------------------- */

static void row_packet(const struct row *r, char *buf, size_t n)
{
	bool v6 = strchr(r->peer, ':') != NULL;
	const char *local = v6 ? "[2001:db8::2]" : "192.0.2.2";
	const char *local_a = v6 ? "2001:db8::2" : "192.0.2.2";
	bool in = strcmp(r->dir, "in") == 0;
	char peer[80];

	if (v6)
		snprintf(peer, sizeof(peer), "[%s]", r->peer);
	else
		snprintf(peer, sizeof(peer), "%s", r->peer);
	if (strcmp(r->proto, "tcp") == 0 || strcmp(r->proto, "udp") == 0) {
		if (in)
			snprintf(buf, n, "in %s %s:40000 %s:%s%s", r->proto, peer, local, r->port,
				 r->proto[0] == 't' ? " syn" : "");
		else
			snprintf(buf, n, "out %s %s:40000 %s:%s%s", r->proto, local, peer, r->port,
				 r->proto[0] == 't' ? " syn" : "");
	} else if (strncmp(r->proto, "icmp", 4) == 0) {
		if (in)
			snprintf(buf, n, "in %s %s %s icmp-type %s", r->proto, r->peer, local_a, r->port);
		else
			snprintf(buf, n, "out %s %s %s icmp-type %s", r->proto, local_a, r->peer, r->port);
	} else {
		if (in)
			snprintf(buf, n, "in %s %s %s", r->proto, r->peer, local_a);
		else
			snprintf(buf, n, "out %s %s %s", r->proto, local_a, r->peer);
	}
}

/* A row whose peer is a host name is explain's verdict for an address
 * learned for it: the kernel learns only from DNS answers (test_dns.c). */
static bool row_is_name(const struct row *r)
{
	uint8_t a[16];

	return inet_pton(AF_INET, r->peer, a) != 1 && inet_pton(AF_INET6, r->peer, a) != 1;
}

TEST(vendor_tables_kernel_equals_explain)
{
	unsigned n = 0, names = 0;

	for (size_t t = 0; t < sizeof(vendor_tables) / sizeof(vendor_tables[0]); t++) {
		const struct vendor_table *vt = &vendor_tables[t];
		if (up_with(vt->policy, NULL, 0, NULL)) {
			FAILF("%s did not load", vt->policy);
			continue;
		}
		for (size_t i = 0; i < vt->n; i++) {
			const struct row *r = &vt->rows[i];
			struct pw_query q;
			struct pw_verdict v;
			char err[256], line[1024], words[256];
			if (row_is_name(r)) {
				names++;
				continue;
			}
			if (pw_query_parse(r->dir, r->proto, r->peer, r->port, &q, err, sizeof(err))) {
				FAILF("%s: %s", vt->policy, err);
				continue;
			}
			pw_explain(&E.pol, &E.c, &q, &v, line, sizeof(line));
			row_packet(r, words, sizeof(words));
			struct dp_out o = pkt(words);
			int want = strcmp(r->verdict, "PASS") == 0 ? P : D;
			bool always = strcmp(r->by, "always") == 0;
			int reason = always ? PW_R_NEIGHBOR : v.rule ? (want == P ? PW_R_ALLOW_RULE : PW_R_DROP_DENY)
							 : (want == P ? PW_R_ALLOW_DEFAULT : PW_R_DROP_DEFAULT);
			n++;
			if (o.verdict != want || v.action != want || o.reason != reason ||
			    (!always && o.rule != v.rule))
				FAILF("%s: %s\n      kernel %s/%s/rule %u, explain: %s", vt->policy, words,
				      dp_vname(o.verdict), dp_rname(o.reason), o.rule, line);
		}
	}
	printf("    %u vendor-table packets, kernel and explain compared (%u rows of host names: explain's)\n",
	       n, names);
	CHECK(n > 300);
	down();
}

/* ---- the shipped policies' outbound side, with their state ---------------- */

/* The id of the loaded policy's rule with this comment (0: none). */
static uint32_t rule_of(const char *comment)
{
	for (size_t i = 0; i < E.pol.nrules; i++)
		if (E.pol.rules[i].comment && strcmp(E.pol.rules[i].comment, comment) == 0)
			return (uint32_t)(i + 1);
	FAILF("no rule says \"%s\"", comment);
	return 0;
}

/* ccp.policy is default out drop: the replies of what its in rules let in
 * still go out, what it opens by its out rules gets its replies, the rest
 * of what the host sends drops. */
TEST(shipped_ccp_out_drop_keeps_replies)
{
	REQUIRE(up_with("policies/ccp.policy", NULL, 0, NULL) == 0);
	REQUIRE(E.pol.dflt[PW_DIR_OUT] == PW_DROP);
	uint32_t web = rule_of("UI, APIs, chat and callback requests (HTTP/HTTPS)");
	uint32_t mr = rule_of("media routing from the CCE MR PG");
	uint32_t reply_api = rule_of("Email Reply API (SMTP submission)");
	/* a browser's connection to 443: its replies leave by the in rule */
	EXPECT_PKT(pkt("in tcp 198.51.100.7:51000 192.0.2.2:443 syn"), P, PW_R_ALLOW_RULE, web);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:443 198.51.100.7:51000 syn,ack"), P, PW_R_ALLOW_RULE, web);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:443 198.51.100.7:51000 ack,psh len 1400"), P, PW_R_ALLOW_RULE, web);
	EXPECT_PKT(pkt("out tcp [2001:db8::2]:443 [2001:db8::7]:51000 fin,ack"), P, PW_R_ALLOW_RULE, web);
	/* 38001 answers the MR PG only; a bare SYN from 443 is new, and drops */
	EXPECT_PKT(pkt("out tcp 192.0.2.2:38001 198.51.100.10:40000 syn,ack"), P, PW_R_ALLOW_RULE, mr);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:38001 198.51.100.7:40000 syn,ack"), D, PW_R_DROP_DEFAULT, 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:443 198.51.100.7:8080 syn"), D, PW_R_DROP_DEFAULT, 0);
	/* ping: the reply to the request base.policy lets in, nothing else */
	EXPECT_PKT(pkt("in icmp 198.51.100.7 192.0.2.2 icmp-type echo-request icmp-id 9"), P, PW_R_ALLOW_RULE,
		   rule_of("ping"));
	EXPECT_PKT(pkt("out icmp 192.0.2.2 198.51.100.7 icmp-type echo-reply icmp-id 9"), P, PW_R_REPLY, 0);
	EXPECT_PKT(pkt("out icmp 192.0.2.2 198.51.100.8 icmp-type echo-reply icmp-id 9"), D, PW_R_DROP_DEFAULT, 0);
	EXPECT_PKT(pkt("out icmp 192.0.2.2 198.51.100.7 icmp-type echo-request icmp-id 10"), D, PW_R_DROP_DEFAULT, 0);
	/* a port the vendor lists, to the peer it names: out, and the replies in */
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40000 198.51.100.25:587 syn"), P, PW_R_ALLOW_RULE, reply_api);
	EXPECT_PKT(pkt("in tcp 198.51.100.25:587 192.0.2.2:40000 syn,ack"), P, PW_R_REPLY, 0);
	/* another port, or another peer: dropped, and no reply gets in */
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40001 198.51.100.25:2525 syn"), D, PW_R_DROP_DEFAULT, 0);
	EXPECT_PKT(pkt("in tcp 198.51.100.25:2525 192.0.2.2:40001 syn,ack"), D, PW_R_DROP_DEFAULT, 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40002 203.0.113.99:587 syn"), D, PW_R_DROP_DEFAULT, 0);
	/* an address no DNS answer gave for outlook.office365.com */
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40003 203.0.113.99:993 syn"), D, PW_R_DROP_DEFAULT, 0);
	/* MLD reports as the stack sends them (hop-by-hop router alert) */
	EXPECT_PKT(pkt("out icmpv6 fe80::2 ff02::16 ext hbh icmp-type mld2-listener-report"), P, PW_R_ALLOW_RULE,
		   rule_of("MLD reports"));
	EXPECT_PKT(pkt("out icmpv6 fe80::2 ff02::1 ext hbh icmp-type mld-listener-query"), D, PW_R_DROP_DEFAULT, 0);
	/* DNS (base.policy) and its answer */
	EXPECT_PKT(pkt("out udp 192.0.2.2:40004 192.0.2.53:53"), P, PW_R_ALLOW_RULE, rule_of("DNS queries"));
	EXPECT_PKT(pkt("in udp 192.0.2.53:53 192.0.2.2:40004"), P, PW_R_REPLY, 0);
	/* the host's own errors pass as related about what the in rules let
	 * in, not about what they dropped */
	EXPECT_PKT(pkt("in udp 198.51.100.7:40000 192.0.2.2:9999"), D, PW_R_DROP_DEFAULT, 0);
	EXPECT_PKT(pkt("out icmp 192.0.2.2 198.51.100.7 icmp-type destination-unreachable icmp-code 3 "
		       "quote udp 198.51.100.7:40000 192.0.2.2:9999"), D, PW_R_DROP_DEFAULT, 0);
	EXPECT_PKT(pkt("out icmp 192.0.2.2 198.51.100.7 icmp-type destination-unreachable icmp-code 3 "
		       "quote tcp 198.51.100.7:51000 192.0.2.2:443"), P, PW_R_RELATED, 0);
	down();
}

/* engage-client.policy (kiosk-strict): nothing in, out only to what DNS
 * answered for the guide's names, DNS, NTP, DHCP. */
TEST(shipped_engage_client_strict)
{
	REQUIRE(up_with("policies/engage-client.policy", NULL, 0, NULL) == 0);
	/* never answered for any name: dropped, on every port the guide gives */
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40000 203.0.113.10:443 syn"), D, PW_R_DROP_DEFAULT, 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40001 203.0.113.10:80 syn"), D, PW_R_DROP_DEFAULT, 0);
	EXPECT_PKT(pkt("out tcp [2001:db8::2]:40002 [2001:db8:e::10]:5222 syn"), D, PW_R_DROP_DEFAULT, 0);
	EXPECT_PKT(pkt("in tcp 203.0.113.10:443 192.0.2.2:40000 syn,ack"), D, PW_R_DROP_DEFAULT, 0);
	/* DNS, NTP and DHCP renewals, each with its reply */
	EXPECT_PKT(pkt("out udp 192.0.2.2:40003 192.0.2.53:53"), P, PW_R_ALLOW_RULE, rule_of("DNS queries"));
	EXPECT_PKT(pkt("in udp 192.0.2.53:53 192.0.2.2:40003"), P, PW_R_REPLY, 0);
	EXPECT_PKT(pkt("out udp 192.0.2.2:123 192.0.2.123:123"), P, PW_R_ALLOW_RULE, rule_of("NTP"));
	EXPECT_PKT(pkt("in udp 192.0.2.123:123 192.0.2.2:123"), P, PW_R_REPLY, 0);
	EXPECT_PKT(pkt("out udp 192.0.2.2:68 192.0.2.67:67"), P, PW_R_ALLOW_RULE, rule_of("DHCP client requests"));
	EXPECT_PKT(pkt("in udp 192.0.2.67:67 192.0.2.2:68"), P, PW_R_REPLY, 0);
	EXPECT_PKT(pkt("in udp 192.0.2.1:67 192.0.2.2:68"), D, PW_R_DROP_DEFAULT, 0);
	/* nothing inbound: no SSH, no ping, and so no echo reply goes out */
	EXPECT_PKT(pkt("in tcp 198.51.100.7:50000 192.0.2.2:22 syn"), D, PW_R_DROP_DEFAULT, 0);
	EXPECT_PKT(pkt("in icmp 198.51.100.7 192.0.2.2 icmp-type echo-request icmp-id 4"), D, PW_R_DROP_DEFAULT, 0);
	EXPECT_PKT(pkt("out icmp 192.0.2.2 198.51.100.7 icmp-type echo-reply icmp-id 4"), D, PW_R_DROP_DEFAULT, 0);
	down();
}

static const char *const WEB_POLICY =
	"allow in tcp port 443\n"			/* rule 1 */
	"allow in udp port 53\n"			/* rule 2 */
	"deny in tcp port 443 from 203.0.113.0/24\n"	/* rule 3 */
	"allow in tcp port 443 from 203.0.113.7\n"	/* rule 4: never wins */
	"allow in icmpv6 type echo-request\n";		/* rule 5 */

/* ---- what always passes -------------------------------------------------- */

TEST(non_ip_and_neighbor_discovery_always_pass)
{
	uint8_t f[64] = { 0 };

	REQUIRE(up("default in drop\ndefault out drop\ndeny in icmpv6\ndeny out icmpv6\n") == 0);
	f[12] = 0x08;
	f[13] = 0x06;	/* ARP */
	EXPECT_PKT(raw(PW_DIR_IN, f, 60), P, PW_R_NON_IP, 0);
	EXPECT_PKT(raw(PW_DIR_OUT, f, 60), P, PW_R_NON_IP, 0);
	f[12] = 0x88;
	f[13] = 0xcc;	/* LLDP */
	EXPECT_PKT(raw(PW_DIR_IN, f, 60), P, PW_R_NON_IP, 0);
	static const char *const nd[] = { "router-solicitation", "router-advertisement",
					  "neighbor-solicitation", "neighbor-advertisement" };
	char w[160];
	for (int i = 0; i < 4; i++) {
		snprintf(w, sizeof(w), "in icmpv6 fe80::1 fe80::2 icmp-type %s", nd[i]);
		EXPECT_PKT(pkt(w), P, PW_R_NEIGHBOR, 0);
		snprintf(w, sizeof(w), "out icmpv6 fe80::2 fe80::1 icmp-type %s", nd[i]);
		EXPECT_PKT(pkt(w), P, PW_R_NEIGHBOR, 0);
	}
	EXPECT_PKT(pkt("in icmpv6 fe80::1 fe80::2 icmp-type echo-request"), D, PW_R_DROP_DENY, 1);
	CHECK_EQ_INT(reason_count(PW_DIR_IN, PW_R_NEIGHBOR), 4);
	CHECK_EQ_INT(reason_count(PW_DIR_IN, PW_R_NON_IP), 2);
	down();
}

/* ---- fragments ---------------------------------------------------------- */

TEST(fragments_tracked_counter)
{
	/* the verdicts are the evasion corpus's (tests/evasion/); here only
	 * the count: first fragments that pass are remembered, nothing else */
	REQUIRE(up(WEB_POLICY) == 0);
	pkt("in udp 198.51.100.7:40000 192.0.2.2:53 frag first frag-id 100 len 1400");
	pkt("in udp 198.51.100.7:40000 192.0.2.2:53 frag later frag-id 100");
	pkt("in udp 198.51.100.7:40000 192.0.2.2:54 frag first frag-id 200");
	pkt("in udp 198.51.100.7:40000 192.0.2.2:54 frag later frag-id 200");
	pkt("in tcp [2001:db8::7]:40000 [2001:db8::2]:443 syn frag first frag-id 300");
	pkt("in tcp [2001:db8::7]:40000 [2001:db8::2]:443 syn frag later frag-id 300");
	pkt("in tcp [2001:db8::7]:40000 [2001:db8::2]:443 syn ext dst frag first frag-id 301");
	struct pw_stats st;
	REQUIRE(pw_dp_stats(&E.dp, &st) == 0);
	CHECK_EQ_INT(st.frags_tracked, 3);
	CHECK_EQ_INT(reason_count(PW_DIR_IN, PW_R_FRAGMENT_OK), 2);
	CHECK_EQ_INT(reason_count(PW_DIR_IN, PW_R_DROP_FRAGMENT), 1);
	down();
}

/* ---- connection tracking ----------------------------------------------- */

static const char *const CLIENT_POLICY =
	"default in drop\ndefault out drop\n"
	"allow out tcp port 587 to 198.51.100.25\n"	/* rule 1 */
	"allow out udp port 53\n"			/* rule 2 */
	"allow in tcp port 443\n"			/* rule 3 */
	"allow out icmp type echo-request\n"		/* rule 4 */
	"allow out icmpv6 type echo-request\n"		/* rule 5 */
	"deny in tcp port 40000-40010 from 203.0.113.0/24\n";	/* rule 6 */

TEST(conntrack_replies)
{
	REQUIRE(up(CLIENT_POLICY) == 0);
	/* no flow yet: the reply drops */
	EXPECT_PKT(pkt("in tcp 198.51.100.25:587 192.0.2.2:40000 syn,ack"), D, PW_R_DROP_DEFAULT, 0);
	/* the host opens it; the reply gets in, whichever way the rules say */
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40000 198.51.100.25:587 syn"), P, PW_R_ALLOW_RULE, 1);
	EXPECT_PKT(pkt("in tcp 198.51.100.25:587 192.0.2.2:40000 syn,ack"), P, PW_R_REPLY, 0);
	EXPECT_PKT(pkt("in tcp 198.51.100.25:587 192.0.2.2:40000 ack len 1000"), P, PW_R_REPLY, 0);
	/* another remote port, another local port, another remote: no */
	EXPECT_PKT(pkt("in tcp 198.51.100.25:588 192.0.2.2:40000 ack"), D, PW_R_DROP_DEFAULT, 0);
	EXPECT_PKT(pkt("in tcp 198.51.100.25:587 192.0.2.2:40001 ack"), D, PW_R_DROP_DEFAULT, 0);
	EXPECT_PKT(pkt("in tcp 198.51.100.26:587 192.0.2.2:40000 ack"), D, PW_R_DROP_DEFAULT, 0);
	/* a UDP flow (IPv6) */
	EXPECT_PKT(pkt("out udp [2001:db8::2]:50000 [2001:db8::53]:53"), P, PW_R_ALLOW_RULE, 2);
	EXPECT_PKT(pkt("in udp [2001:db8::53]:53 [2001:db8::2]:50000"), P, PW_R_REPLY, 0);
	/* replies pass even where a deny rule covers them (the host opened it) */
	EXPECT_PKT(pkt("out udp 192.0.2.2:40005 203.0.113.53:53"), P, PW_R_ALLOW_RULE, 2);
	EXPECT_PKT(pkt("in udp 203.0.113.53:53 192.0.2.2:40005"), P, PW_R_REPLY, 0);
	/* what out rules do not allow opens nothing */
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40002 198.51.100.25:25 syn"), D, PW_R_DROP_DEFAULT, 0);
	EXPECT_PKT(pkt("in tcp 198.51.100.25:25 192.0.2.2:40002 syn,ack"), D, PW_R_DROP_DEFAULT, 0);
	/* a local listener's reply passes by its in rule, and opens nothing */
	EXPECT_PKT(pkt("out tcp 192.0.2.2:443 198.51.100.7:51000 syn,ack"), P, PW_R_ALLOW_RULE, 3);
	EXPECT_PKT(pkt("in tcp 198.51.100.7:51000 192.0.2.2:443 ack"), P, PW_R_ALLOW_RULE, 3);
	struct pw_stats st;
	REQUIRE(pw_dp_stats(&E.dp, &st) == 0);
	CHECK_EQ_INT(st.ct_created, 1);		/* TCP, in pw_ct */
	CHECK_EQ_INT(st.ct_dgram_created, 2);	/* the UDP flows, in pw_ct_dgram */
	down();
}

/* Age every flow of the table fd by `secs` seconds. */
static int age_table(int fd, unsigned secs)
{
	struct pw_ct_key k, next;
	struct pw_ct_val v;
	void *prev = NULL;
	int n = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &v))
			continue;
		v.last_ns -= (uint64_t)secs * 1000000000ull;
		if (bpf_map_update_elem(fd, &k, &v, BPF_EXIST) == 0)
			n++;
	}
	return n;
}

/* Age every flow the host opened (both its tables) by `secs` seconds. */
static int age_flows(unsigned secs)
{
	return age_table(E.dp.ct_fd, secs) + age_table(E.dp.ct_dgram_fd, secs);
}

/* The entries of conntrack table fd. */
static int count_flows(int fd)
{
	struct pw_ct_key k, next;
	void *prev = NULL;
	int n = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

TEST(conntrack_expiry_and_fin)
{
	REQUIRE(up(CLIENT_POLICY) == 0);
	/* TCP without a reply: 120 s */
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40000 198.51.100.25:587 syn"), P, PW_R_ALLOW_RULE, 1);
	REQUIRE(age_flows(PW_CT_TCP_SYN_S - 5) == 1);
	EXPECT_PKT(pkt("in tcp 198.51.100.25:587 192.0.2.2:40000 syn,ack"), P, PW_R_REPLY, 0);
	/* established by the host's own ACK (an answer from outside alone
	 * proves nothing): 5 days; a day later still fine */
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40000 198.51.100.25:587 ack"), P, PW_R_ALLOW_RULE, 1);
	REQUIRE(age_flows(86400) == 1);
	EXPECT_PKT(pkt("in tcp 198.51.100.25:587 192.0.2.2:40000 ack"), P, PW_R_REPLY, 0);
	/* a FIN or RST from outside changes nothing (a blind one is easy to
	 * forge); they pass to the host's stack, which judges them */
	EXPECT_PKT(pkt("in tcp 198.51.100.25:587 192.0.2.2:40000 fin,ack"), P, PW_R_REPLY, 0);
	EXPECT_PKT(pkt("in tcp 198.51.100.25:587 192.0.2.2:40000 rst"), P, PW_R_REPLY, 0);
	REQUIRE(age_flows(PW_CT_TCP_CLOSE_S + 1) == 1);
	EXPECT_PKT(pkt("in tcp 198.51.100.25:587 192.0.2.2:40000 ack"), P, PW_R_REPLY, 0);
	/* the host's FIN half-closes: the peer's answer may take a while
	 * (shutdown(SHUT_WR), then wait), 120 s from then on */
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40000 198.51.100.25:587 fin,ack"), P, PW_R_ALLOW_RULE, 1);
	REQUIRE(age_flows(PW_CT_TCP_CLOSE_S + 5) == 1);
	EXPECT_PKT(pkt("in tcp 198.51.100.25:587 192.0.2.2:40000 ack len 100"), P, PW_R_REPLY, 0);
	REQUIRE(age_flows(PW_CT_TCP_SYN_S + 1) == 1);
	EXPECT_PKT(pkt("in tcp 198.51.100.25:587 192.0.2.2:40000 ack"), D, PW_R_DROP_DEFAULT, 0);
	CHECK_EQ_INT(count_flows(E.dp.ct_fd), 0);	/* the expired entry is deleted */
	/* UDP: 120 s */
	EXPECT_PKT(pkt("out udp 192.0.2.2:50000 192.0.2.53:53"), P, PW_R_ALLOW_RULE, 2);
	REQUIRE(age_flows(PW_CT_UDP_S + 1) == 1);
	EXPECT_PKT(pkt("in udp 192.0.2.53:53 192.0.2.2:50000"), D, PW_R_DROP_DEFAULT, 0);
	/* the host's RST closes an established flow: 10 s */
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40001 198.51.100.25:587 syn"), P, PW_R_ALLOW_RULE, 1);
	EXPECT_PKT(pkt("in tcp 198.51.100.25:587 192.0.2.2:40001 syn,ack"), P, PW_R_REPLY, 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40001 198.51.100.25:587 ack"), P, PW_R_ALLOW_RULE, 1);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40001 198.51.100.25:587 rst"), P, PW_R_ALLOW_RULE, 1);
	REQUIRE(age_flows(PW_CT_TCP_CLOSE_S + 1) == 1);
	EXPECT_PKT(pkt("in tcp 198.51.100.25:587 192.0.2.2:40001 ack"), D, PW_R_DROP_DEFAULT, 0);
	struct pw_stats st;
	REQUIRE(pw_dp_stats(&E.dp, &st) == 0);
	CHECK_EQ_INT(st.ct_created, 2);		/* the TCP flows */
	CHECK_EQ_INT(st.ct_removed, 2);
	CHECK_EQ_INT(st.ct_dgram_created, 1);	/* the UDP flow */
	CHECK_EQ_INT(st.ct_dgram_removed, 1);
	CHECK_EQ_INT(st.ct_ignored, 2);	/* the inbound FIN and RST */
	down();
}

/* The host half-closed a flow and the peer went quiet past the FIN
 * timeout: a keepalive ACK of the host restarts the entry half-closed
 * (120 s), not established (5 days); a SYN starts it over. */
TEST(conntrack_expired_half_close_stays_closing)
{
	REQUIRE(up(CLIENT_POLICY) == 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40000 198.51.100.25:587 syn"), P, PW_R_ALLOW_RULE, 1);
	EXPECT_PKT(pkt("in tcp 198.51.100.25:587 192.0.2.2:40000 syn,ack"), P, PW_R_REPLY, 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40000 198.51.100.25:587 fin,ack"), P, PW_R_ALLOW_RULE, 1);
	REQUIRE(age_flows(PW_CT_TCP_SYN_S + 1) == 1);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40000 198.51.100.25:587 ack"), P, PW_R_ALLOW_RULE, 1);
	EXPECT_PKT(pkt("in tcp 198.51.100.25:587 192.0.2.2:40000 ack"), P, PW_R_REPLY, 0);
	REQUIRE(age_flows(PW_CT_TCP_SYN_S + 1) == 1);
	EXPECT_PKT(pkt("in tcp 198.51.100.25:587 192.0.2.2:40000 ack"), D, PW_R_DROP_DEFAULT, 0);
	/* the same ports opened again: a new flow, established by its ACK */
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40000 198.51.100.25:587 syn"), P, PW_R_ALLOW_RULE, 1);
	EXPECT_PKT(pkt("in tcp 198.51.100.25:587 192.0.2.2:40000 syn,ack"), P, PW_R_REPLY, 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40000 198.51.100.25:587 ack"), P, PW_R_ALLOW_RULE, 1);
	REQUIRE(age_flows(PW_CT_TCP_SYN_S + 1) == 1);
	EXPECT_PKT(pkt("in tcp 198.51.100.25:587 192.0.2.2:40000 ack"), P, PW_R_REPLY, 0);
	down();
}

TEST(conntrack_refresh_is_not_per_packet)
{
	REQUIRE(up(CLIENT_POLICY) == 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40000 198.51.100.25:587 syn"), P, PW_R_ALLOW_RULE, 1);
	/* the host's first ACK changes the state (established), which
	 * writes last_ns whenever it comes: read the entry after it */
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40000 198.51.100.25:587 ack"), P, PW_R_ALLOW_RULE, 1);
	struct pw_ct_key k, next;
	struct pw_ct_val v1, v2;
	REQUIRE(bpf_map_get_next_key(E.dp.ct_fd, NULL, &next) == 0);
	k = next;
	REQUIRE(bpf_map_lookup_elem(E.dp.ct_fd, &k, &v1) == 0);
	CHECK(v1.flags & PW_CT_REPLIED);
	/* packets within the same second and state leave last_ns alone */
	for (int i = 0; i < 5; i++)
		EXPECT_PKT(pkt("out tcp 192.0.2.2:40000 198.51.100.25:587 ack"), P, PW_R_ALLOW_RULE, 1);
	REQUIRE(bpf_map_lookup_elem(E.dp.ct_fd, &k, &v2) == 0);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (now - v1.last_ns < 900000000ull)	/* the 5 packets ran within the second */
		CHECK(v2.last_ns == v1.last_ns);
	/* a second later one packet refreshes it */
	REQUIRE(age_flows(2) == 1);
	REQUIRE(bpf_map_lookup_elem(E.dp.ct_fd, &k, &v1) == 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40000 198.51.100.25:587 ack"), P, PW_R_ALLOW_RULE, 1);
	REQUIRE(bpf_map_lookup_elem(E.dp.ct_fd, &k, &v2) == 0);
	CHECK(v2.last_ns > v1.last_ns);
	struct pw_stats st;
	REQUIRE(pw_dp_stats(&E.dp, &st) == 0);
	CHECK_EQ_INT(st.ct_created, 1);
	down();
}

TEST(conntrack_full_table_evicts)
{
	char w[128];

	/* UDP flows go to pw_ct_dgram, sized from --ct-capacity: 64 entries */
	REQUIRE(up_with("t.policy", CLIENT_POLICY, 64 * PW_CT_DGRAM_SHARE, NULL) == 0);
	for (int i = 0; i < 200; i++) {
		snprintf(w, sizeof(w), "out udp 192.0.2.2:%d 192.0.2.53:53", 20000 + i);
		EXPECT_PKT(pkt(w), P, PW_R_ALLOW_RULE, 2);
	}
	struct pw_stats st;
	REQUIRE(pw_dp_stats(&E.dp, &st) == 0);
	CHECK_EQ_INT(st.ct_dgram_created, 200);
	int live = count_flows(E.dp.ct_dgram_fd);
	CHECK(live > 0 && live <= 64);
	printf("    200 flows into a 64-entry table: %d live, %llu evicted (created - removed - live)\n", live,
	       (unsigned long long)(st.ct_dgram_created - st.ct_dgram_removed - (uint64_t)live));
	/* the newest flow is still tracked */
	EXPECT_PKT(pkt("in udp 192.0.2.53:53 192.0.2.2:20199"), P, PW_R_REPLY, 0);
	down();
}

/* An outside attack found it: a local user's UDP to more destinations
 * than the table holds, two datagrams each (so the LRU takes every flow
 * for a busy one), flushed the host's idle TCP connection out of the one
 * table of flows the host opened, and its reply dropped under default in
 * drop. The host's other flows have a table of their own (pw_ct_dgram):
 * the flood evicts datagram flows alone, and the counters, the status's
 * among them, say from which table. */
#define DGRAM_FLOOD 512

TEST(conntrack_datagram_flood_evicts_no_tcp_flow)
{
	char w[128];

	/* pw_ct 64 entries, pw_ct_dgram 32 */
	REQUIRE(up_with("t.policy", CLIENT_POLICY, 64, NULL) == 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40000 198.51.100.25:587 syn"), P, PW_R_ALLOW_RULE, 1);
	EXPECT_PKT(pkt("in tcp 198.51.100.25:587 192.0.2.2:40000 syn,ack"), P, PW_R_REPLY, 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40000 198.51.100.25:587 ack"), P, PW_R_ALLOW_RULE, 1);
	for (int i = 0; i < DGRAM_FLOOD; i++) {
		snprintf(w, sizeof(w), "out udp 192.0.2.2:%d 203.0.113.%d:53", 20000 + i, i % 250 + 1);
		EXPECT_PKT(pkt(w), P, PW_R_ALLOW_RULE, 2);
		EXPECT_PKT(pkt(w), P, PW_R_ALLOW_RULE, 2);
	}
	/* the idle connection's data still gets in */
	EXPECT_PKT(pkt("in tcp 198.51.100.25:587 192.0.2.2:40000 ack len 100"), P, PW_R_REPLY, 0);
	/* and the newest datagram flow is tracked: its table is full, not broken */
	snprintf(w, sizeof(w), "in udp 203.0.113.%d:53 192.0.2.2:%d", (DGRAM_FLOOD - 1) % 250 + 1,
		 20000 + DGRAM_FLOOD - 1);
	EXPECT_PKT(pkt(w), P, PW_R_REPLY, 0);

	struct pw_stats st;
	REQUIRE(pw_dp_stats(&E.dp, &st) == 0);
	int tcp = count_flows(E.dp.ct_fd), dgram = count_flows(E.dp.ct_dgram_fd);
	CHECK_EQ_INT(st.ct_created, 1);
	CHECK_EQ_INT(tcp, 1);
	CHECK_EQ_INT(st.ct_dgram_created, DGRAM_FLOOD);
	CHECK(dgram > 0 && dgram <= 32);
	/* what status makes of the counters: every eviction was a datagram flow's */
	struct pw_applied a = { 0 };
	struct pw_status s;
	REQUIRE(pw_status_read(&E.dp, &a, 1, NULL, &s) == 0);
	CHECK_EQ_INT(s.ct[PW_CT_TABLE_TCP].evicted, 0);
	CHECK_EQ_INT(s.ct[PW_CT_TABLE_DGRAM].evicted, DGRAM_FLOOD - dgram);
	CHECK_EQ_INT(s.ct[PW_CT_TABLE_IN].evicted, 0);
	CHECK_EQ_INT(s.ct_evicted, DGRAM_FLOOD - dgram);
	CHECK_EQ_INT(s.ct_entries, 1 + dgram);
	CHECK_EQ_INT(s.ct[PW_CT_TABLE_TCP].capacity, 64);
	CHECK_EQ_INT(s.ct[PW_CT_TABLE_DGRAM].capacity, 64 / PW_CT_DGRAM_SHARE);
	printf("    %d UDP flows, two datagrams each, beside an idle TCP connection: %d datagram flows live, "
	       "%llu evicted; TCP %d live, %llu evicted, its reply passed\n", DGRAM_FLOOD, dgram,
	       (unsigned long long)s.ct[PW_CT_TABLE_DGRAM].evicted, tcp,
	       (unsigned long long)s.ct[PW_CT_TABLE_TCP].evicted);
	pw_status_free(&s);
	down();
}

/* A TCP flow evicted from pw_ct (its entry deleted here, as the LRU would)
 * is tracked again by the host's next segment the out rules allow: an
 * ACK re-creates it established, and the peer's packets pass again
 * (docs/datapath.md, "What a flood evicts"). */
TEST(conntrack_evicted_tcp_flow_comes_back)
{
	struct pw_ct_key k;

	REQUIRE(up(CLIENT_POLICY) == 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40000 198.51.100.25:587 syn"), P, PW_R_ALLOW_RULE, 1);
	EXPECT_PKT(pkt("in tcp 198.51.100.25:587 192.0.2.2:40000 syn,ack"), P, PW_R_REPLY, 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40000 198.51.100.25:587 ack"), P, PW_R_ALLOW_RULE, 1);
	REQUIRE(bpf_map_get_next_key(E.dp.ct_fd, NULL, &k) == 0);
	REQUIRE(bpf_map_delete_elem(E.dp.ct_fd, &k) == 0);
	EXPECT_PKT(pkt("in tcp 198.51.100.25:587 192.0.2.2:40000 ack len 100"), D, PW_R_DROP_DEFAULT, 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40000 198.51.100.25:587 ack"), P, PW_R_ALLOW_RULE, 1);
	struct pw_ct_val v;
	REQUIRE(bpf_map_lookup_elem(E.dp.ct_fd, &k, &v) == 0);
	CHECK(v.flags == PW_CT_REPLIED);	/* established: 5 days, not SYN-SENT's 120 s */
	EXPECT_PKT(pkt("in tcp 198.51.100.25:587 192.0.2.2:40000 ack len 100"), P, PW_R_REPLY, 0);
	down();
}

/* A revoked flow's mark (what a reload writes for a peer's flow on a
 * service it no longer allows, docs/reliability.md): the host's packets of
 * it drop as `revoked` and open no flow, the peer's are no reply; a mark
 * timed out is gone, and the host's next packet is a flow of its own. */
static struct pw_ct_key v4_key(uint8_t proto, const char *local, uint16_t lport, const char *remote,
			       uint16_t rport)
{
	struct pw_ct_key k = { .proto = proto, .fam = PW_FAM_V4, .kind = PW_CT_FLOW,
			       .lport_be = htons(lport), .rport_be = htons(rport) };

	inet_pton(AF_INET, local, k.local);
	inet_pton(AF_INET, remote, k.remote);
	return k;
}

TEST(conntrack_revoked_mark_ends_both_ways)
{
	static const char *const B = "default in drop\ndefault out allow\nallow in tcp port 443\n";
	struct pw_ct_key t = v4_key(6, "192.0.2.2", 8443, "198.51.100.7", 51000);
	struct pw_ct_key u = v4_key(17, "192.0.2.2", 5353, "198.51.100.7", 51001);
	struct pw_ct_val tv = { .last_ns = pw_mono_ns(), .flags = PW_CT_REVOKED | PW_CT_REPLIED, .dir = PW_DIR_IN };
	struct pw_ct_val uv = { .last_ns = pw_mono_ns(), .flags = PW_CT_REVOKED, .dir = PW_DIR_IN };
	struct pw_stats st;

	REQUIRE(up(B) == 0);
	REQUIRE(bpf_map_update_elem(E.dp.ct_fd, &t, &tv, BPF_NOEXIST) == 0);
	REQUIRE(bpf_map_update_elem(E.dp.ct_dgram_fd, &u, &uv, BPF_NOEXIST) == 0);
	/* the host's segment and datagram, which the out default would pass */
	EXPECT_PKT(pkt("out tcp 192.0.2.2:8443 198.51.100.7:51000 ack len 100"), D, PW_R_DROP_REVOKED, 0);
	EXPECT_PKT(pkt("out udp 192.0.2.2:5353 198.51.100.7:51001 len 100"), D, PW_R_DROP_REVOKED, 0);
	/* the peer's: no reply of a flow, the in default drops them */
	EXPECT_PKT(pkt("in tcp 198.51.100.7:51000 192.0.2.2:8443 ack len 100"), D, PW_R_DROP_DEFAULT, 0);
	EXPECT_PKT(pkt("in udp 198.51.100.7:51001 192.0.2.2:5353 len 100"), D, PW_R_DROP_DEFAULT, 0);
	REQUIRE(pw_dp_stats(&E.dp, &st) == 0);
	CHECK_EQ_INT(st.ct_created + st.ct_dgram_created, 0);	/* nothing opened */
	struct pw_ct_val v;
	REQUIRE(bpf_map_lookup_elem(E.dp.ct_fd, &t, &v) == 0);
	CHECK(v.flags == (PW_CT_REVOKED | PW_CT_REPLIED) && v.dir == PW_DIR_IN);	/* unchanged */
	/* a flow on a port still allowed is untouched */
	EXPECT_PKT(pkt("in tcp 198.51.100.7:51002 192.0.2.2:443 ack len 100"), P, PW_R_ALLOW_RULE, 1);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:443 198.51.100.7:51002 ack len 100"), P, PW_R_ALLOW_RULE, 1);
	/* the datagram's mark timed out (120 s): the host's next datagram is
	 * a new flow of its own, by the out default */
	REQUIRE(age_table(E.dp.ct_dgram_fd, 121) == 1);
	EXPECT_PKT(pkt("out udp 192.0.2.2:5353 198.51.100.7:51001 len 100"), P, PW_R_ALLOW_DEFAULT, 0);
	REQUIRE(bpf_map_lookup_elem(E.dp.ct_dgram_fd, &u, &v) == 0);
	CHECK(v.flags == 0 && v.dir == PW_DIR_OUT);
	down();
}

/* ---- policy semantics in the kernel ------------------------------------ */

/* ---- the host's own ICMP errors (egress "related") ------------------------ */

/* A server and a client under default drop both ways, and no out rule for
 * ICMP: the host's errors about what it received pass only as related. */
static const char *const ERROR_POLICY =
	"default in drop\ndefault out drop\n"
	"allow in udp port 53\n"				/* rule 1 */
	"allow out tcp port 587 to 198.51.100.25, 2001:db8::25\n"	/* rule 2 */
	"allow out udp port 123\n";				/* rule 3 */

/* Every entry of a conntrack map, keys and values, in map order. */
static size_t ct_dump(int fd, uint8_t *buf, size_t cap)
{
	struct pw_ct_key k, next;
	struct pw_ct_val v;
	void *prev = NULL;
	size_t n = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0 && n + sizeof(k) + sizeof(v) <= cap) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &v))
			continue;
		memcpy(buf + n, &k, sizeof(k));
		memcpy(buf + n + sizeof(k), &v, sizeof(v));
		n += sizeof(k) + sizeof(v);
	}
	return n;
}

/* Port unreachable about a datagram the in rules let in goes back to its
 * sender; about one they do not let in, from another address of the
 * host's, about a packet to another host, or to anyone but the sender, it
 * is dropped. */
TEST(icmp_error_out_port_unreachable_related)
{
	REQUIRE(up(ERROR_POLICY) == 0);
	uint64_t before = reason_count(PW_DIR_OUT, PW_R_RELATED);
	EXPECT_PKT(pkt("in udp 198.51.100.7:40000 192.0.2.2:53"), P, PW_R_ALLOW_RULE, 1);
	EXPECT_PKT(pkt("out icmp 192.0.2.2 198.51.100.7 icmp-type destination-unreachable icmp-code 3 "
		       "quote udp 198.51.100.7:40000 192.0.2.2:53"), P, PW_R_RELATED, 0);
	/* a datagram to a port the in rules drop: nothing to answer */
	EXPECT_PKT(pkt("out icmp 192.0.2.2 198.51.100.7 icmp-type destination-unreachable icmp-code 3 "
		       "quote udp 198.51.100.7:40000 192.0.2.2:54"), D, PW_R_DROP_DEFAULT, 0);
	/* the quoted datagram was to another host: not one this host got */
	EXPECT_PKT(pkt("out icmp 192.0.2.2 198.51.100.7 icmp-type destination-unreachable icmp-code 3 "
		       "quote udp 198.51.100.7:40000 192.0.2.9:53"), D, PW_R_DROP_DEFAULT, 0);
	EXPECT_PKT(pkt("out icmp 192.0.2.3 198.51.100.7 icmp-type destination-unreachable icmp-code 3 "
		       "quote udp 198.51.100.7:40000 192.0.2.2:53"), D, PW_R_DROP_DEFAULT, 0);
	/* to anyone but the datagram's sender */
	EXPECT_PKT(pkt("out icmp 192.0.2.2 198.51.100.8 icmp-type destination-unreachable icmp-code 3 "
		       "quote udp 198.51.100.7:40000 192.0.2.2:53"), D, PW_R_DROP_DEFAULT, 0);
	/* about the host's own datagram, turned round: not what it received */
	EXPECT_PKT(pkt("out icmp 192.0.2.2 198.51.100.7 icmp-type destination-unreachable icmp-code 3 "
		       "quote udp 192.0.2.2:53 198.51.100.7:40000"), D, PW_R_DROP_DEFAULT, 0);
	/* not an error type: no second chance */
	EXPECT_PKT(pkt("out icmp 192.0.2.2 198.51.100.7 icmp-type redirect "
		       "quote udp 198.51.100.7:40000 192.0.2.2:53"), D, PW_R_DROP_DEFAULT, 0);
	/* IPv6: port unreachable is type 1 code 4 */
	EXPECT_PKT(pkt("in udp [2001:db8::7]:40000 [2001:db8::2]:53"), P, PW_R_ALLOW_RULE, 1);
	EXPECT_PKT(pkt("out icmpv6 2001:db8::2 2001:db8::7 icmp-type destination-unreachable icmp-code 4 "
		       "quote udp [2001:db8::7]:40000 [2001:db8::2]:53"), P, PW_R_RELATED, 0);
	EXPECT_PKT(pkt("out icmpv6 2001:db8::2 2001:db8::7 icmp-type destination-unreachable icmp-code 4 "
		       "quote udp [2001:db8::7]:40000 [2001:db8::2]:54"), D, PW_R_DROP_DEFAULT, 0);
	EXPECT_PKT(pkt("out icmpv6 2001:db8::2 2001:db8::7 icmp-type destination-unreachable icmp-code 4 "
		       "quote udp [2001:db8::7]:40000 [2001:db8::9]:53"), D, PW_R_DROP_DEFAULT, 0);
	EXPECT_PKT(pkt("out icmpv6 2001:db8::2 2001:db8::8 icmp-type destination-unreachable icmp-code 4 "
		       "quote udp [2001:db8::7]:40000 [2001:db8::2]:53"), D, PW_R_DROP_DEFAULT, 0);
	CHECK_EQ_INT(reason_count(PW_DIR_OUT, PW_R_RELATED) - before, 2);
	down();
}

/* Packet too big (fragmentation needed) about the peer's segment of a TCP
 * flow the host opened passes, and leaves the flow as it was. */
TEST(icmp_error_out_about_host_opened_flow)
{
	static uint8_t ct0[4096], ct1[4096], dg0[4096], dg1[4096];

	REQUIRE(up(ERROR_POLICY) == 0);
	/* no flow yet */
	EXPECT_PKT(pkt("out icmpv6 2001:db8::2 2001:db8::25 icmp-type packet-too-big "
		       "quote tcp [2001:db8::25]:587 [2001:db8::2]:40000"), D, PW_R_DROP_DEFAULT, 0);
	EXPECT_PKT(pkt("out tcp [2001:db8::2]:40000 [2001:db8::25]:587 syn"), P, PW_R_ALLOW_RULE, 2);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40000 198.51.100.25:587 syn"), P, PW_R_ALLOW_RULE, 2);
	EXPECT_PKT(pkt("out udp 192.0.2.2:40123 198.51.100.123:123"), P, PW_R_ALLOW_RULE, 3);
	size_t n0 = ct_dump(E.dp.ct_fd, ct0, sizeof(ct0)), d0 = ct_dump(E.dp.ct_dgram_fd, dg0, sizeof(dg0));
	CHECK_EQ_INT(n0, 2 * (sizeof(struct pw_ct_key) + sizeof(struct pw_ct_val)));
	CHECK_EQ_INT(d0, sizeof(struct pw_ct_key) + sizeof(struct pw_ct_val));
	EXPECT_PKT(pkt("out icmpv6 2001:db8::2 2001:db8::25 icmp-type packet-too-big "
		       "quote tcp [2001:db8::25]:587 [2001:db8::2]:40000"), P, PW_R_RELATED, 0);
	EXPECT_PKT(pkt("out icmp 192.0.2.2 198.51.100.25 icmp-type destination-unreachable icmp-code 4 "
		       "quote tcp 198.51.100.25:587 192.0.2.2:40000"), P, PW_R_RELATED, 0);
	EXPECT_PKT(pkt("out icmp 192.0.2.2 198.51.100.25 icmp-type time-exceeded icmp-code 1 "
		       "quote tcp 198.51.100.25:587 192.0.2.2:40000"), P, PW_R_RELATED, 0);
	/* a datagram flow, not yet answered: an error does not mark it replied */
	EXPECT_PKT(pkt("out icmp 192.0.2.2 198.51.100.123 icmp-type destination-unreachable icmp-code 4 "
		       "quote udp 198.51.100.123:123 192.0.2.2:40123"), P, PW_R_RELATED, 0);
	/* another port of the peer's, another local port, another peer */
	EXPECT_PKT(pkt("out icmpv6 2001:db8::2 2001:db8::25 icmp-type packet-too-big "
		       "quote tcp [2001:db8::25]:588 [2001:db8::2]:40000"), D, PW_R_DROP_DEFAULT, 0);
	EXPECT_PKT(pkt("out icmp 192.0.2.2 198.51.100.25 icmp-type destination-unreachable icmp-code 4 "
		       "quote tcp 198.51.100.25:587 192.0.2.2:40001"), D, PW_R_DROP_DEFAULT, 0);
	EXPECT_PKT(pkt("out icmp 192.0.2.2 198.51.100.26 icmp-type destination-unreachable icmp-code 4 "
		       "quote tcp 198.51.100.26:587 192.0.2.2:40000"), D, PW_R_DROP_DEFAULT, 0);
	/* the flow's key, but sent to another address than the segment's source */
	EXPECT_PKT(pkt("out icmpv6 2001:db8::2 2001:db8::26 icmp-type packet-too-big "
		       "quote tcp [2001:db8::25]:587 [2001:db8::2]:40000"), D, PW_R_DROP_DEFAULT, 0);
	/* nothing refreshed, nothing marked, nothing created */
	size_t n1 = ct_dump(E.dp.ct_fd, ct1, sizeof(ct1)), d1 = ct_dump(E.dp.ct_dgram_fd, dg1, sizeof(dg1));
	CHECK(n1 == n0 && memcmp(ct0, ct1, n0) == 0);
	CHECK(d1 == d0 && memcmp(dg0, dg1, d0) == 0);
	CHECK_EQ_INT(ct_dump(E.dp.ct_in_fd, ct1, sizeof(ct1)), 0);
	down();
}

/* Parameter problem quotes the packet it is about as the other errors do:
 * the host's (an IPv6 next header it does not speak, a bad IPv4 option)
 * about a packet the in rules let in goes back to its sender, and a peer's
 * about the host's packet of a flow it opened comes in. */
TEST(icmp_error_parameter_problem_related)
{
	REQUIRE(up(ERROR_POLICY) == 0);
	EXPECT_PKT(pkt("out icmpv6 2001:db8::2 2001:db8::7 icmp-type parameter-problem icmp-code 1 "
		       "quote udp [2001:db8::7]:40000 [2001:db8::2]:53"), P, PW_R_RELATED, 0);
	EXPECT_PKT(pkt("out icmpv6 2001:db8::2 2001:db8::7 icmp-type parameter-problem icmp-code 1 "
		       "quote udp [2001:db8::7]:40000 [2001:db8::2]:54"), D, PW_R_DROP_DEFAULT, 0);
	EXPECT_PKT(pkt("out icmp 192.0.2.2 198.51.100.7 icmp-type parameter-problem "
		       "quote udp 198.51.100.7:40000 192.0.2.2:53"), P, PW_R_RELATED, 0);
	EXPECT_PKT(pkt("out icmp 192.0.2.2 198.51.100.8 icmp-type parameter-problem "
		       "quote udp 198.51.100.7:40000 192.0.2.2:53"), D, PW_R_DROP_DEFAULT, 0);
	/* inbound, about the host's segment of a flow it opened */
	EXPECT_PKT(pkt("in icmp 198.51.100.25 192.0.2.2 icmp-type parameter-problem "
		       "quote tcp 192.0.2.2:40000 198.51.100.25:587"), D, PW_R_DROP_DEFAULT, 0);
	EXPECT_PKT(pkt("out tcp 192.0.2.2:40000 198.51.100.25:587 syn"), P, PW_R_ALLOW_RULE, 2);
	EXPECT_PKT(pkt("in icmp 198.51.100.25 192.0.2.2 icmp-type parameter-problem "
		       "quote tcp 192.0.2.2:40000 198.51.100.25:587"), P, PW_R_RELATED, 0);
	EXPECT_PKT(pkt("in icmpv6 2001:db8::25 2001:db8::2 icmp-type parameter-problem "
		       "quote tcp [2001:db8::2]:40000 [2001:db8::25]:587"), D, PW_R_DROP_DEFAULT, 0);
	down();
}

TEST(deny_wins_with_prefixes)
{
	REQUIRE(up("allow in tcp port 22 from 192.0.2.0/24, 2001:db8::/32\n"
		   "deny in tcp port 22 from 192.0.2.128/25, 2001:db8:bad::/48\n"
		   "allow in tcp port 22 from 192.0.2.200\n") == 0);
	EXPECT_PKT(pkt("in tcp 192.0.2.1:40000 192.0.2.2:22 syn"), P, PW_R_ALLOW_RULE, 1);
	EXPECT_PKT(pkt("in tcp 192.0.2.200:40000 192.0.2.2:22 syn"), D, PW_R_DROP_DENY, 2);
	EXPECT_PKT(pkt("in tcp 192.0.3.1:40000 192.0.2.2:22 syn"), D, PW_R_DROP_DEFAULT, 0);
	EXPECT_PKT(pkt("in tcp [2001:db8:1::1]:40000 [2001:db8::2]:22 syn"), P, PW_R_ALLOW_RULE, 1);
	EXPECT_PKT(pkt("in tcp [2001:db8:bad::1]:40000 [2001:db8::2]:22 syn"), D, PW_R_DROP_DENY, 2);
	down();
}

static void monitor_cfg(struct pw_config *cfg)
{
	cfg->mode = PW_MODE_MONITOR;
}

static void on_ev(const struct pw_event *e, void *ctx)
{
	struct pw_event *out = ctx;
	*out = *e;
}

TEST(monitor_mode_counts_and_passes)
{
	REQUIRE(up_with("t.policy", WEB_POLICY, 0, monitor_cfg) == 0);
	EXPECT_PKT(pkt("in tcp 203.0.113.9:40000 192.0.2.2:443 syn"), P, PW_R_DROP_DENY, 3);
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:444 syn"), P, PW_R_DROP_DEFAULT, 0);
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:443 syn vlan 1 vlan 2 vlan 3"), P, PW_R_DROP_MALFORMED, 0);
	CHECK_EQ_INT(reason_count(PW_DIR_IN, PW_R_DROP_DENY), 1);
	CHECK_EQ_INT(reason_count(PW_DIR_IN, PW_R_DROP_DEFAULT), 1);
	struct pw_event e = { 0 };
	CHECK_EQ_INT(pw_dp_read_events(&E.dp, on_ev, &e), 3);
	CHECK_EQ_INT(e.monitor, 1);
	CHECK_EQ_INT(e.reason, PW_R_DROP_MALFORMED);
	down();
}

/* ---- counters and events, exactly --------------------------------------- */

struct evlist {
	struct pw_event e[64];
	int n;
};

static void collect(const struct pw_event *e, void *ctx)
{
	struct evlist *l = ctx;
	if (l->n < 64)
		l->e[l->n++] = *e;
}

TEST(counters_and_events_exact)
{
	REQUIRE(up(WEB_POLICY) == 0);
	struct dp_out a = pkt("in tcp 198.51.100.7:40000 192.0.2.2:443 syn");
	struct dp_out b = pkt("in tcp 198.51.100.7:40000 192.0.2.2:443 ack len 100");
	struct dp_out c = pkt("in tcp 203.0.113.9:40001 192.0.2.2:443 syn");
	struct dp_out d = pkt("in udp [2001:db8::7]:40002 [2001:db8::2]:5353");
	EXPECT_PKT(a, P, PW_R_ALLOW_RULE, 1);
	EXPECT_PKT(c, D, PW_R_DROP_DENY, 3);
	EXPECT_PKT(d, D, PW_R_DROP_DEFAULT, 0);
	struct pw_counter rc;
	REQUIRE(pw_dp_rule_count(&E.dp, 1, PW_DIR_IN, &rc) == 0);
	CHECK_EQ_INT(rc.packets, 2);
	CHECK_EQ_INT(rc.bytes, a.len + b.len);
	REQUIRE(pw_dp_rule_count(&E.dp, 3, PW_DIR_IN, &rc) == 0);
	CHECK_EQ_INT(rc.packets, 1);
	CHECK_EQ_INT(rc.bytes, c.len);
	REQUIRE(pw_dp_rule_count(&E.dp, 0, PW_DIR_IN, &rc) == 0);
	CHECK_EQ_INT(rc.packets, 1);
	REQUIRE(pw_dp_rule_count(&E.dp, 4, PW_DIR_IN, &rc) == 0);
	CHECK_EQ_INT(rc.packets, 0);	/* the allow /32 inside the deny /24 never counts */
	__u64 drops;
	REQUIRE(pw_dp_port_drops(&E.dp, pw_slot_l4(PW_DIR_IN, PW_L4_TCP, 443), &drops) == 0);
	CHECK_EQ_INT(drops, 1);
	REQUIRE(pw_dp_port_drops(&E.dp, pw_slot_l4(PW_DIR_IN, PW_L4_UDP, 5353), &drops) == 0);
	CHECK_EQ_INT(drops, 1);
	CHECK_EQ_INT(reason_count(PW_DIR_IN, PW_R_ALLOW_RULE), 2);
	CHECK_EQ_INT(reason_count(PW_DIR_OUT, PW_R_ALLOW_RULE), 0);
	struct evlist l = { .n = 0 };
	REQUIRE(pw_dp_read_events(&E.dp, collect, &l) == 2);
	const struct pw_event *e = &l.e[0];
	CHECK_EQ_INT(e->reason, PW_R_DROP_DENY);
	CHECK_EQ_INT(e->rule, 3);
	CHECK_EQ_INT(e->dir, PW_DIR_IN);
	CHECK_EQ_INT(e->proto, 6);
	CHECK_EQ_INT(e->fam, PW_FAM_V4);
	CHECK_EQ_INT(e->tcp_flags, 0x02);
	CHECK_EQ_INT(e->sport_be, htons(40001));
	CHECK_EQ_INT(e->dport_be, htons(443));
	CHECK_EQ_INT(e->len, c.len);
	CHECK_EQ_INT(e->monitor, 0);
	CHECK(e->src[0] == 203 && e->src[1] == 0 && e->src[2] == 113 && e->src[3] == 9);
	CHECK(e->ts_ns > 0);
	e = &l.e[1];
	CHECK_EQ_INT(e->reason, PW_R_DROP_DEFAULT);
	CHECK_EQ_INT(e->fam, PW_FAM_V6);
	CHECK_EQ_INT(e->proto, 17);
	CHECK_EQ_INT(e->dport_be, htons(5353));
	CHECK(e->dst[0] == 0x20 && e->dst[1] == 0x01 && e->dst[15] == 2);
	struct pw_stats st;
	REQUIRE(pw_dp_stats(&E.dp, &st) == 0);
	CHECK_EQ_INT(st.events_sent, 2);
	CHECK_EQ_INT(st.events_suppressed, 0);
	CHECK_EQ_INT(st.events_lost, 0);
	down();
}

static void slow_events(struct pw_config *cfg)
{
	cfg->ev_rate = 1;
	cfg->ev_burst = 3;
}

TEST(event_rate_limit)
{
	struct timespec t0, t1;

	REQUIRE(up_with("t.policy", WEB_POLICY, 0, slow_events) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 20; i++)
		EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:444 syn"), D, PW_R_DROP_DEFAULT, 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	struct pw_stats st;
	REQUIRE(pw_dp_stats(&E.dp, &st) == 0);
	/* a full bucket of 3, plus one a second while the loop ran */
	CHECK_EQ_INT(st.events_sent + st.events_suppressed, 20);
	CHECK(st.events_sent >= 3 && st.events_sent <= 3 + (uint64_t)secs + 1);
	CHECK_EQ_INT(st.events_lost, 0);
	struct evlist l = { .n = 0 };
	CHECK_EQ_INT(pw_dp_read_events(&E.dp, collect, &l), (int)st.events_sent);
	printf("    20 drops in %.2f s at 1 event/s, burst 3: %llu sent, %llu suppressed\n", secs,
	       (unsigned long long)st.events_sent, (unsigned long long)st.events_suppressed);
	down();
}

/* ---- the fast path (bpf/pw_fast.h) records what the slow path does ------- */

/* Every counter a verdict moves: reasons, the policy's rules, the drops of
 * the ports used here, the events. */
struct tally {
	struct pw_counter reasons[PW_DIR_COUNT * PW_R_COUNT];
	struct pw_counter rules[6][PW_DIR_COUNT];
	__u64 drops[4];
	__u64 events;	/* sent + suppressed + lost */
};

static const uint32_t tally_ports[4] = { 443, 444, 22, 80 };

static int tally_read(struct tally *t)
{
	struct pw_stats st;

	if (pw_dp_reason_counts(&E.dp, t->reasons) || pw_dp_stats(&E.dp, &st))
		return -1;
	for (uint32_t r = 0; r < 6; r++)
		for (uint32_t d = 0; d < PW_DIR_COUNT; d++)
			if (pw_dp_rule_count(&E.dp, r, d, &t->rules[r][d]))
				return -1;
	for (int i = 0; i < 4; i++)
		if (pw_dp_port_drops(&E.dp, pw_slot_l4(PW_DIR_IN, PW_L4_TCP, tally_ports[i]), &t->drops[i]))
			return -1;
	t->events = st.events_sent + st.events_suppressed + st.events_lost;
	return 0;
}

/* What one packet of len bytes moved: packets of every counter, and the
 * bytes in units of the packet's length (1 for each counter it counts in). */
static void tally_delta(const struct tally *a, const struct tally *b, size_t len, uint64_t *out, size_t n)
{
	size_t k = 0;

	for (int i = 0; i < PW_DIR_COUNT * PW_R_COUNT && k + 1 < n; i++) {
		out[k++] = b->reasons[i].packets - a->reasons[i].packets;
		out[k++] = (b->reasons[i].bytes - a->reasons[i].bytes) / len;
	}
	for (int r = 0; r < 6; r++)
		for (int d = 0; d < PW_DIR_COUNT && k + 1 < n; d++) {
			out[k++] = b->rules[r][d].packets - a->rules[r][d].packets;
			out[k++] = (b->rules[r][d].bytes - a->rules[r][d].bytes) / len;
		}
	for (int i = 0; i < 4 && k < n; i++)
		out[k++] = b->drops[i] - a->drops[i];
	if (k < n)
		out[k++] = b->events - a->events;
}

#define TALLY_N (2 * PW_DIR_COUNT * PW_R_COUNT + 2 * 6 * PW_DIR_COUNT + 4 + 1)

/* One packet on the fast path and its twin the fast path does not take
 * (IPv4 options, an IPv6 destination-options header): the same verdict,
 * reason and rule, and every counter moved alike. */
static void twins(const char *fast, const char *slow)
{
	struct tally t0, t1, t2;
	uint64_t d1[TALLY_N], d2[TALLY_N];

	REQUIRE(tally_read(&t0) == 0);
	struct dp_out a = pkt(fast);
	REQUIRE(tally_read(&t1) == 0);
	struct dp_out b = pkt(slow);
	REQUIRE(tally_read(&t2) == 0);
	if (a.verdict != b.verdict || a.reason != b.reason || a.rule != b.rule)
		FAILF("\"%s\": %s/%s/rule %u, its twin %s/%s/rule %u", fast, dp_vname(a.verdict), dp_rname(a.reason),
		      a.rule, dp_vname(b.verdict), dp_rname(b.reason), b.rule);
	tally_delta(&t0, &t1, a.len, d1, TALLY_N);
	tally_delta(&t1, &t2, b.len, d2, TALLY_N);
	for (int k = 0; k < TALLY_N; k++)
		if (d1[k] != d2[k])
			FAILF("\"%s\": counter %d moved by %llu, by its twin %llu", fast, k,
			      (unsigned long long)d1[k], (unsigned long long)d2[k]);
	/* the packet was counted: its reason, and a rule for these reasons */
	CHECK_EQ_INT(d1[2 * (a.reason + (strncmp(fast, "out", 3) == 0) * PW_R_COUNT)], 1);
	CHECK_EQ_INT(d1[TALLY_N - 1], a.verdict == PW_DROP || a.reason >= PW_R_FIRST_DROP);
}

static void twin_cases(void)
{
	static const char *const c[][2] = {
		{ "in tcp 198.51.100.7:40000 192.0.2.2:443 syn", "in tcp 198.51.100.7:40000 192.0.2.2:443 syn ip-options 4" },
		{ "in tcp 198.51.100.7:40000 192.0.2.2:443 ack len 100", "in tcp 198.51.100.7:40000 192.0.2.2:443 ack len 100 ip-options 4" },
		{ "in tcp 203.0.113.9:40001 192.0.2.2:443 syn", "in tcp 203.0.113.9:40001 192.0.2.2:443 syn ip-options 4" },
		{ "in tcp 203.0.113.9:40001 192.0.2.2:443 ack", "in tcp 203.0.113.9:40001 192.0.2.2:443 ack ip-options 4" },
		{ "in tcp 198.51.100.7:40000 192.0.2.2:444 syn", "in tcp 198.51.100.7:40000 192.0.2.2:444 syn ip-options 4" },
		{ "in tcp 198.51.100.7:40000 192.0.2.2:22 syn", "in tcp 198.51.100.7:40000 192.0.2.2:22 syn ip-options 4" },
		{ "in tcp 198.51.100.7:40000 192.0.2.2:22 syn,fin", "in tcp 198.51.100.7:40000 192.0.2.2:22 syn,fin ip-options 4" },
		{ "in tcp [2001:db8::7]:40000 [2001:db8::2]:443 syn", "in tcp [2001:db8::7]:40000 [2001:db8::2]:443 syn ext dst" },
		{ "in tcp [2001:db8::7]:40000 [2001:db8::2]:444 syn", "in tcp [2001:db8::7]:40000 [2001:db8::2]:444 syn ext dst" },
		{ "in tcp [2001:db8:bad::1]:40000 [2001:db8::2]:80 syn", "in tcp [2001:db8:bad::1]:40000 [2001:db8::2]:80 syn ext dst" },
		{ "out tcp 192.0.2.2:443 198.51.100.7:40000 ack", "out tcp 192.0.2.2:443 198.51.100.7:40000 ack ip-options 4" },
		{ "out tcp 192.0.2.2:443 203.0.113.9:40000 ack", "out tcp 192.0.2.2:443 203.0.113.9:40000 ack ip-options 4" },
		{ "out tcp [2001:db8::2]:80 [2001:db8::7]:40000 ack", "out tcp [2001:db8::2]:80 [2001:db8::7]:40000 ack ext dst" },
		{ "out tcp [2001:db8::2]:80 [2001:db8:bad::1]:40000 ack", "out tcp [2001:db8::2]:80 [2001:db8:bad::1]:40000 ack ext dst" },
		/* the programs of devices without a link-layer header */
		{ "in tcp 198.51.100.7:40000 192.0.2.2:443 syn link l3", "in tcp 198.51.100.7:40000 192.0.2.2:443 syn ip-options 4 link l3" },
		{ "in tcp 203.0.113.9:40001 192.0.2.2:443 syn link l3", "in tcp 203.0.113.9:40001 192.0.2.2:443 syn ip-options 4 link l3" },
		{ "in tcp [2001:db8::7]:40000 [2001:db8::2]:444 syn link l3", "in tcp [2001:db8::7]:40000 [2001:db8::2]:444 syn ext dst link l3" },
		{ "out tcp [2001:db8::2]:80 [2001:db8::7]:40000 ack link l3", "out tcp [2001:db8::2]:80 [2001:db8::7]:40000 ack ext dst link l3" },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		twins(c[i][0], c[i][1]);
}

static const char *const FAST_POLICY =
	"allow in tcp port 443\n"			/* rule 1 */
	"deny in tcp port 443 from 203.0.113.0/24\n"	/* rule 2 */
	"allow in tcp port 80 from 2001:db8::/32\n"	/* rule 3 */
	"deny in tcp port 80 from 2001:db8:bad::/48\n"	/* rule 4 */
	"deny in tcp port 22\n"				/* rule 5 */
	"default out drop\n";

static void no_events(struct pw_config *cfg)
{
	cfg->ev_rate = 0;	/* an empty bucket: no drop event is ever due */
	cfg->ev_burst = 0;
}

static void no_events_monitor(struct pw_config *cfg)
{
	no_events(cfg);
	cfg->mode = PW_MODE_MONITOR;
}

TEST(fast_path_counts_as_the_slow_path)
{
	struct pw_stats st;

	E.want_l3 = true;	/* twin_cases runs "link l3" frames */

	/* events due: the fast path leaves every drop to the slow path */
	REQUIRE(up(FAST_POLICY) == 0);
	twin_cases();
	down();
	/* no event due: bare SYNs the policy drops are the fast path's */
	REQUIRE(up_with("t.policy", FAST_POLICY, 0, no_events) == 0);
	twin_cases();
	REQUIRE(pw_dp_stats(&E.dp, &st) == 0);
	CHECK_EQ_INT(st.events_sent, 0);
	CHECK_EQ_INT(st.events_suppressed, 22);	/* 11 drops in each form */
	down();
	REQUIRE(up_with("t.policy", FAST_POLICY, 0, no_events_monitor) == 0);
	twin_cases();
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:22 syn"), P, PW_R_DROP_DENY, 5);
	down();
	/* an IPv4-mapped address stays malformed */
	REQUIRE(up_with("t.policy", FAST_POLICY, 0, no_events) == 0);
	EXPECT_PKT(pkt("in tcp [::ffff:198.51.100.7]:40000 [2001:db8::2]:443 syn"), D, PW_R_DROP_MALFORMED, 0);
	EXPECT_PKT(pkt("in tcp [2001:db8::7]:40000 [::ffff:192.0.2.2]:443 syn"), D, PW_R_DROP_MALFORMED, 0);
	down();
}

/* Run one packet `repeat` times in the kernel (one BPF_PROG_TEST_RUN):
 * a flood at the program's own speed. Returns 0 or -1. */
static int flood(const char *words, uint32_t repeat)
{
	char err[256];
	struct pw_pktspec s;
	uint8_t frame[PW_PKT_OUT_MAX], out[PW_PKT_OUT_MAX];

	if (pw_pkt_parse_line(words, &s, err, sizeof(err)))
		return -1;
	size_t len = pw_pkt_build(&s, frame, sizeof(frame));
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (uint32_t)len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = repeat);
	return bpf_prog_test_run_opts(E.dp.prog_fd[s.dir & 1], &o) ? -1 : 0;
}

static void fast_events(struct pw_config *cfg)
{
	cfg->ev_rate = 100000000;
	cfg->ev_burst = 1000000;
}

static void count_events(const struct pw_event *e, void *ctx)
{
	(void)e;
	(*(int *)ctx)++;
}

/* No reader and a flood the rate limit lets through: the ring buffer fills,
 * every further event is counted lost, and no verdict changes. */
TEST(events_ring_full_no_reader)
{
	struct pw_counter before[PW_DIR_COUNT * PW_R_COUNT], after[PW_DIR_COUNT * PW_R_COUNT];
	struct pw_stats st;
	int n = 0;

	REQUIRE(up_with("t.policy", WEB_POLICY, 0, fast_events) == 0);
	REQUIRE(pw_dp_reason_counts(&E.dp, before) == 0);
	REQUIRE(flood("in tcp 198.51.100.7:40000 192.0.2.2:444 syn", 20000) == 0);
	REQUIRE(pw_dp_reason_counts(&E.dp, after) == 0);
	for (int k = 0; k < PW_DIR_COUNT * PW_R_COUNT; k++)
		CHECK_EQ_INT(after[k].packets - before[k].packets, k == PW_R_DROP_DEFAULT ? 20000 : 0);
	REQUIRE(pw_dp_stats(&E.dp, &st) == 0);
	CHECK_EQ_INT(st.events_sent + st.events_lost + st.events_suppressed, 20000);
	CHECK_EQ_INT(st.events_suppressed, 0);
	/* 256 KiB of 80-byte records (72 and the ring's 8-byte header) */
	CHECK(st.events_sent > 3000 && st.events_sent <= 256 * 1024 / 80);
	CHECK(st.events_lost > 0);
	CHECK_EQ_INT(pw_dp_read_events(&E.dp, count_events, &n), (int)st.events_sent);
	/* drained: the next drop's event gets through again */
	EXPECT_PKT(pkt("in tcp 198.51.100.7:40000 192.0.2.2:444 syn"), D, PW_R_DROP_DEFAULT, 0);
	struct pw_stats st2;
	REQUIRE(pw_dp_stats(&E.dp, &st2) == 0);
	CHECK_EQ_INT(st2.events_sent, st.events_sent + 1);
	printf("    20000 drops, no reader: %llu events in the ring, %llu lost, verdicts unchanged\n",
	       (unsigned long long)st.events_sent, (unsigned long long)st.events_lost);
	down();
}

static void rate_200(struct pw_config *cfg)
{
	cfg->ev_rate = 200;
	cfg->ev_burst = 20;
}

/* A flood for half a second at full speed against 200 events/s, burst 20:
 * the events sent stay within the bucket's promise, measured. */
TEST(event_rate_holds_under_flood)
{
	struct timespec t0, t1;
	struct pw_stats st;
	double secs = 0;
	uint64_t pkts = 0;

	REQUIRE(up_with("t.policy", WEB_POLICY, 0, rate_200) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 200 && secs < 0.5; i++) {
		REQUIRE(flood("in udp 198.51.100.7:40000 192.0.2.2:9", 20000) == 0);
		pkts += 20000;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	}
	REQUIRE(pw_dp_stats(&E.dp, &st) == 0);
	CHECK_EQ_INT(st.events_sent + st.events_suppressed + st.events_lost, pkts);
	CHECK_EQ_INT(st.events_lost, 0);
	/* at most the burst plus 200 a second; at least most of the refill
	 * (the coarse clock ticks every few ms) */
	CHECK(st.events_sent <= 20 + (uint64_t)(200 * secs) + 2);
	CHECK(st.events_sent >= (uint64_t)(200 * secs * 0.8));
	printf("    %llu drops in %.2f s: %llu events (%.0f/s against 200/s, burst 20), %llu suppressed\n",
	       (unsigned long long)pkts, secs, (unsigned long long)st.events_sent,
	       (double)st.events_sent / secs, (unsigned long long)st.events_suppressed);
	/* after the flood, a lone drop 50 ms later (10 tokens' worth) is logged */
	usleep(50 * 1000);
	EXPECT_PKT(pkt("in udp 198.51.100.7:40000 192.0.2.2:9"), D, PW_R_DROP_DEFAULT, 0);
	struct pw_stats st2;
	REQUIRE(pw_dp_stats(&E.dp, &st2) == 0);
	CHECK_EQ_INT(st2.events_sent, st.events_sent + 1);
	down();
}

/* A long outbound flow: one conntrack insert on its first packet, lookups
 * after that, however many packets follow. */
TEST(conntrack_insert_once_per_flow)
{
	struct pw_stats st;

	REQUIRE(up(CLIENT_POLICY) == 0);
	REQUIRE(flood("out udp 192.0.2.2:41000 198.51.100.25:53", 100000) == 0);
	REQUIRE(pw_dp_stats(&E.dp, &st) == 0);
	CHECK_EQ_INT(st.ct_dgram_created, 1);
	CHECK_EQ_INT(count_flows(E.dp.ct_dgram_fd), 1);
	EXPECT_PKT(pkt("in udp 198.51.100.25:53 192.0.2.2:41000"), P, PW_R_REPLY, 0);
	down();
}

/* A connection table beyond capacity: the flows that keep sending stay,
 * idle ones are evicted first, and the evictions show in the counters. */
/* One source floods first fragments to an open UDP port (twice the
 * table's 16,384): it gets its share remembered (1,024), no more, and a
 * datagram of another source that was in flight keeps its entry, so its
 * later fragment still passes. */
/* The flood takes longer than 30 s under valgrind: a window that long
 * keeps the share from renewing while it runs. */
#define FLOOD_FRAG_TIMEOUT_S 600

static void long_frag_window(struct pw_config *cfg)
{
	cfg->frag_timeout = FLOOD_FRAG_TIMEOUT_S;
}

TEST(fragment_flood_from_one_source_flushes_no_other)
{
	char w[160];

	REQUIRE(up_with("t.policy", "default in drop\nallow in udp port 5060\n", 0, long_frag_window) == 0);
	EXPECT_PKT(pkt("in udp 198.51.100.7:5060 192.0.2.2:5060 frag first frag-id 7"), P, PW_R_ALLOW_RULE, 1);
	for (int i = 0; i < 2 * PW_FRAG_CAPACITY; i++) {
		snprintf(w, sizeof(w), "in udp 203.0.113.9:40000 192.0.2.2:5060 frag first frag-id %d", 1000 + i);
		/* each passes (its ports are allowed); only the share is remembered */
		if (run_only(w) != P) {
			FAILF("flood packet %d was not passed", i);
			break;
		}
	}
	struct dp_out legit = pkt("in udp 198.51.100.7:5060 192.0.2.2:5060 frag later frag-id 7");
	EXPECT_PKT(legit, P, PW_R_FRAGMENT_OK, 0);
	/* the flooder's own: remembered within its share, not past it */
	EXPECT_PKT(pkt("in udp 203.0.113.9:40000 192.0.2.2:5060 frag later frag-id 1000"), P, PW_R_FRAGMENT_OK, 0);
	snprintf(w, sizeof(w), "in udp 203.0.113.9:40000 192.0.2.2:5060 frag later frag-id %d", 1000 + PW_FRAG_SHARE);
	EXPECT_PKT(pkt(w), D, PW_R_DROP_FRAGMENT, 0);
	/* its inbound share spent, the host's own fragments to it keep theirs */
	EXPECT_PKT(pkt("out udp 192.0.2.2:5060 203.0.113.9:40000 frag first frag-id 5"), P, PW_R_REPLY, 0);
	EXPECT_PKT(pkt("out udp 192.0.2.2:5060 203.0.113.9:40000 frag later frag-id 5"), P, PW_R_FRAGMENT_OK, 0);
	/* a fragment timeout later the flooder's window begins anew */
	REQUIRE(pw_dp_age(&E.dp, FLOOD_FRAG_TIMEOUT_S + 1) >= 0);
	EXPECT_PKT(pkt("in udp 203.0.113.9:40000 192.0.2.2:5060 frag first frag-id 99"), P, PW_R_ALLOW_RULE, 1);
	EXPECT_PKT(pkt("in udp 203.0.113.9:40000 192.0.2.2:5060 frag later frag-id 99"), P, PW_R_FRAGMENT_OK, 0);
	struct pw_stats st;
	REQUIRE(pw_dp_stats(&E.dp, &st) == 0);
	CHECK_EQ_INT(st.frags_tracked, 3 + PW_FRAG_SHARE);
	CHECK_EQ_INT(st.frags_over_share, 2 * PW_FRAG_CAPACITY - PW_FRAG_SHARE);
	printf("    %d first fragments from one source: %llu remembered, %llu over its share; "
	       "another source's datagram %s\n", 2 * PW_FRAG_CAPACITY, (unsigned long long)st.frags_tracked - 3,
	       (unsigned long long)st.frags_over_share, legit.reason == PW_R_FRAGMENT_OK ? "kept" : "LOST");
	down();
}

TEST(conntrack_full_keeps_busy_flows)
{
	char w[128];
	int kept = 0, idle_gone = 0;

	/* a 256-entry table for the UDP flows (pw_ct_dgram) */
	REQUIRE(up_with("t.policy", CLIENT_POLICY, 256 * PW_CT_DGRAM_SHARE, NULL) == 0);
	for (int b = 0; b < 16; b++) {
		snprintf(w, sizeof(w), "out udp 192.0.2.2:%d 192.0.2.53:53", 3000 + b);
		EXPECT_PKT(pkt(w), P, PW_R_ALLOW_RULE, 2);
	}
	/* 2000 new flows, 50 at a time; the 16 busy flows send between */
	for (int r = 0; r < 40; r++) {
		for (int i = 0; i < 50; i++) {
			snprintf(w, sizeof(w), "out udp 192.0.2.2:%d 192.0.2.54:53", 20000 + r * 50 + i);
			run_only(w);
		}
		for (int b = 0; b < 16; b++) {
			snprintf(w, sizeof(w), "out udp 192.0.2.2:%d 192.0.2.53:53", 3000 + b);
			run_only(w);
		}
	}
	for (int b = 0; b < 16; b++) {
		snprintf(w, sizeof(w), "in udp 192.0.2.53:53 192.0.2.2:%d", 3000 + b);
		kept += pkt(w).reason == PW_R_REPLY;
	}
	for (int i = 0; i < 100; i++) {
		snprintf(w, sizeof(w), "in udp 192.0.2.54:53 192.0.2.2:%d", 20000 + i);
		idle_gone += pkt(w).reason == PW_R_DROP_DEFAULT;
	}
	struct pw_stats st;
	REQUIRE(pw_dp_stats(&E.dp, &st) == 0);
	int live = count_flows(E.dp.ct_dgram_fd);
	uint64_t evicted = st.ct_dgram_created - st.ct_dgram_removed - (uint64_t)live;
	CHECK_EQ_INT(kept, 16);
	CHECK_EQ_INT(idle_gone, 100);
	CHECK_EQ_INT(st.ct_dgram_created, 2016);
	CHECK(live <= 256 && evicted >= 2016 - 256);
	printf("    2016 flows into 256 entries: the 16 busy flows kept, the 100 oldest idle ones evicted, "
	       "%llu evictions counted\n", (unsigned long long)evicted);
	down();
}

struct pw_test pw_tests[PW_MAX_TESTS];
int pw_ntests, pw_test_failed;

int main(int argc, char **argv)
{
	return dp_main("test_datapath", argc, argv);
}
