/* test_diff.c - a differential test of the datapath. Random policies and
 * random, mutated Ethernet frames go through the real programs (XDP for
 * "in", tc for "out") with BPF_PROG_TEST_RUN on private maps; every verdict,
 * reason and deciding rule is compared with an oracle written from
 * docs/policy.md and docs/datapath.md alone: its own frame parser, the rule
 * matching of tests/unit/oracle.h over the parsed rules (never the compiled
 * tables, never explain), and its own model of the datapath's state.
 *
 * State: modelled, not cleared. The oracle keeps what docs/datapath.md says
 * the datapath remembers, each table apart, and checks the kernel's maps
 * against it key by key (and value by value where the docs define one):
 *  - pw_ct and pw_ct_dgram, flows the host opened, TCP's in the one and
 *    every other protocol's in the other (each table a budget of its own):
 *    an outbound packet the out rules pass opens or refreshes one in the
 *    table of its protocol (by ports for TCP, UDP, DCCP, SCTP and
 *    UDP-Lite, by addresses for other protocols, ICMP by the id of the
 *    host's echo request); an inbound packet the policy drops passes as its
 *    reply (a bare SYN never). TCP's state (SYN-SENT, ESTABLISHED, CLOSING)
 *    moves only on the host's own segments: a bare SYN starts afresh, an
 *    ACK establishes, a FIN or RST closes; an inbound FIN or RST changes
 *    nothing and is counted as ignored. Other protocols are marked replied
 *    by their first reply.
 *  - pw_ct_in, flows a peer started (every protocol but TCP): an inbound
 *    packet the policy allows opens one (ICMP: the peer's echo request, by
 *    id); the host's packets of that flow pass as reply. TCP needs none: on
 *    egress a segment other than a bare SYN from a port an in rule allows
 *    passes under that rule.
 *  - an inbound ICMP error passes as related when it quotes a packet of a
 *    flow the host opened (pw_ct, pw_ct_dgram) or of a pw_ct_in flow, or a
 *    TCP segment the in rules allow a local listener to send; the host's
 *    own error (outbound), when it goes back to the sender of the packet
 *    it quotes, a packet to the host that the in rules let in or the
 *    peer's packet of a flow the host opened. Neither changes any state.
 *  - pw_frags, first fragments that passed, so that their later fragments
 *    pass; and pw_frag_src, how many each peer (source inbound, destination
 *    outbound) had remembered: past 4,096 no more are.
 *  - pw_stats: flows created in each table, inbound FIN/RST ignored, first
 *    fragments remembered and over their share (compared after each
 *    policy; nothing expires, so every table's removed count stays 0).
 * About a third of the packets are made to exercise this: replies to,
 * repeats of, ICMP errors about, and later fragments of recent packets; a
 * peer's packets to ports and protocols the in rules allow with the host's
 * answer right after, and the host's packets from such ports unasked; now
 * and then a flood of first fragments from one peer. What the model
 * bounds:
 *  - time: nothing may expire during a run, so every timeout in the config
 *    (the fragment share's window too) is raised to ten days (timeouts are
 *    test_datapath's business). The TCP states are modelled all the same:
 *    they decide what is counted as ignored.
 *  - size: the maps are LRU; the model stays far below their capacity so
 *    that nothing is evicted. When it holds more than CT_MAX, CT_DGRAM_MAX,
 *    CT_IN_MAX, FRAG_MAX or FRAG_SRC_MAX entries, the kernel's maps are checked to
 *    hold exactly the model's, then all are emptied. State survives policy
 *    reloads, as on a host (this test never flushes), so replies to flows
 *    opened under one policy are judged under the next.
 *
 * Policies: random valid text in the language of docs/policy.md, parsed,
 * compiled and loaded like test_datapath.c's up_with(), into the halves of
 * one datapath in turn (write the half not in force, activate): a reload.
 *
 * What is compared per packet: the verdict the program returned, the reason
 * counter that moved, and for rule and default reasons the rule counter
 * that moved. The counters are checked against a running model (one lookup
 * each per packet); all of them are compared at the end of every policy, so
 * a packet counted twice shows too.
 *
 * What cannot be tested this way: frames under 14 bytes (BPF_PROG_TEST_RUN
 * refuses them), and on tc untagged IPv4 / IPv6 frames shorter than the
 * fixed IP header (the test run reads it to set the skb up): those go
 * through the XDP program instead.
 *
 * Three departures from the docs this test found in the kernel are fixed
 * and stay covered here: an ICMP error's quote read from Ethernet padding
 * past the datagram; IPv6 fragments keyed by different protocols when
 * extension headers follow the fragment header; a fragmented ND message
 * given ND's free pass.
 *
 * Environment: PW_DIFF_SEED (default below, printed), PW_DIFF_POLICIES and
 * PW_DIFF_PACKETS (per policy); PW_TEST_QUICK=1 (valgrind)
 * runs far fewer.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "harness.h"
#include "datapath/loader.h"
#include "unit/oracle.h"

#define DEFAULT_SEED 0x70077a11d1ffull
#define FULL_POLICIES 20
#define FULL_PACKETS 50000
#define QUICK_POLICIES 4
#define QUICK_PACKETS 5000
#define MAX_RULES 30
#define RULE_CAPACITY 64
/* Far below the maps' capacity (pw_ct 262,144, pw_ct_dgram 131,072,
 * pw_ct_in 65,536, pw_frags 16,384, pw_frag_src 4,096), with room for the
 * free nodes each CPU's LRU list may hold (up to 128 a CPU): no eviction,
 * whichever CPUs the test runs on. Counters are summed over CPUs, so the
 * test need not be pinned to one. */
#define CT_MAX 20000
#define CT_DGRAM_MAX 20000
#define CT_IN_MAX 10000
#define FRAG_MAX 9000	/* above the share (4,096), below the LRU's 16,384 */
#define FRAG_SRC_MAX 1500
/* first fragments remembered per peer and fragment timeout (datapath.md) */
#define FRAG_SHARE 4096	/* docs/datapath.md, "Fragments" */
/* about one flood of first fragments from one peer per this many packets */
#define BURST_EVERY 90000
#define MAX_REPORTS 10
#define TIMEOUT_S (10u * 86400u)

/* ---- a deterministic random source ------------------------------------- */

static uint64_t rng;

/* splitmix64: tiny, good enough, the same everywhere */
static uint64_t rnd64(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t rnd(uint32_t n)
{
	return n ? (uint32_t)(rnd64() % n) : 0;
}

static bool pct(unsigned p)
{
	return rnd(100) < p;
}

static uint16_t rd16(const uint8_t *b, size_t off)
{
	return (uint16_t)(b[off] << 8 | b[off + 1]);
}

static uint32_t rd32(const uint8_t *b, size_t off)
{
	return (uint32_t)rd16(b, off) << 16 | rd16(b, off + 2);
}

static void wr16(uint8_t *b, size_t off, uint16_t v)
{
	b[off] = (uint8_t)(v >> 8);
	b[off + 1] = (uint8_t)v;
}

static void wr32(uint8_t *b, size_t off, uint32_t v)
{
	wr16(b, off, (uint16_t)(v >> 16));
	wr16(b, off + 2, (uint16_t)v);
}

static void fill(uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rnd64();
}

/* ---- addresses ------------------------------------------------------------ */

/* Policies draw their prefixes from these, packets their peers, so that
 * the two meet often. 192.0.2.0/24 holds the host's own addresses. */
static const char *const base_text[] = {
	"198.51.100.0/24", "203.0.113.0/24", "10.1.0.0/16", "192.0.2.0/24",
	"2001:db8:a::/48", "2001:db8:b::/48", "2001:db8::/64",
};
#define NBASES (sizeof(base_text) / sizeof(base_text[0]))
static struct pw_prefix bases[NBASES];

static const uint8_t local4[2][16] = { { 192, 0, 2, 2 }, { 192, 0, 2, 3 } };
static const uint8_t local6[2][16] = {
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 },
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3 },
};

static void set_bit(uint8_t *a, unsigned i, int v)
{
	if (v)
		a[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	else
		a[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
}

/* a random address inside p */
static void addr_in(const struct pw_prefix *p, uint8_t out[16])
{
	memcpy(out, p->addr, 16);
	for (unsigned i = p->len; i < pw_fam_bits(p->fam); i++)
		set_bit(out, i, (int)rnd(2));
}

/* the first or last address of p, or the one just outside either end */
static void addr_edge(const struct pw_prefix *p, uint8_t out[16])
{
	unsigned bits = pw_fam_bits(p->fam), last = pct(50);
	int step = pct(50) ? 0 : (last ? 1 : -1);

	memcpy(out, p->addr, 16);
	for (unsigned i = p->len; i < bits; i++)
		set_bit(out, i, (int)last);
	for (int i = (int)bits / 8 - 1; step && i >= 0; i--) {
		out[i] = (uint8_t)(out[i] + step);
		if ((step > 0 && out[i] != 0) || (step < 0 && out[i] != 0xff))
			break;
	}
}

static void local_addr(uint8_t fam, uint8_t out[16])
{
	memcpy(out, fam == PW_FAM_V4 ? local4[pct(10)] : local6[pct(10)], 16);
}

/* ---- what the current policy mentions (for the packet generator) ----------- */

/* what an allow rule for "in" lets in: the host as a server */
struct listen {
	uint8_t proto;		/* TCP, UDP (port), ICMP (echo), another protocol */
	uint16_t port;
	const struct pw_rule *rule;	/* its peers */
};

struct hints {
	uint16_t ports[512];
	unsigned nports;
	uint8_t protos[64];
	unsigned nprotos;
	uint8_t types[2][128];	/* ICMP, ICMPv6 */
	unsigned ntypes[2];
	struct pw_prefix pfx[1024];
	unsigned npfx;
	struct listen listen[256];
	unsigned nlisten;
};

static struct hints H;

static void hint_port(long p)
{
	if (p >= 0 && p <= 65535 && H.nports < 512)
		H.ports[H.nports++] = (uint16_t)p;
}

static void hint_type(unsigned v6, long t)
{
	if (t >= 0 && t <= 255 && H.ntypes[v6] < 128)
		H.types[v6][H.ntypes[v6]++] = (uint8_t)t;
}

static void hint_ranges(const struct pw_rule *r)
{
	for (size_t k = 0; k < r->nranges; k++) {
		long lo = r->ranges[k].lo, hi = r->ranges[k].hi;
		long mid = lo + (long)rnd((uint32_t)(hi - lo + 1));
		if (r->protos & (PW_P_TCP | PW_P_UDP)) {
			hint_port(lo - 1);
			hint_port(lo);
			hint_port(mid);
			hint_port(hi);
			hint_port(hi + 1);
		}
		for (unsigned v6 = 0; v6 < 2; v6++) {
			if (!(r->protos & (v6 ? PW_P_ICMPV6 : PW_P_ICMP)))
				continue;
			hint_type(v6, lo - 1);
			hint_type(v6, lo);
			hint_type(v6, mid);
			hint_type(v6, hi);
			hint_type(v6, hi + 1);
		}
	}
}

static void hint_listen(const struct pw_rule *r, uint8_t proto, uint16_t port)
{
	if (H.nlisten < 256)
		H.listen[H.nlisten++] = (struct listen){ proto, port, r };
}

/* the ports and protocols an allow rule lets in */
static void hint_listener(const struct pw_rule *r)
{
	static const uint8_t l4[2][2] = { { PW_P_TCP, 6 }, { PW_P_UDP, 17 } };

	if (r->action != PW_PASS || !(r->dirs & (1u << PW_DIR_IN)))
		return;
	for (unsigned i = 0; i < 2; i++) {
		if (!(r->protos & l4[i][0]))
			continue;
		for (size_t k = 0; k < r->nranges; k++) {
			hint_listen(r, l4[i][1], (uint16_t)r->ranges[k].lo);
			hint_listen(r, l4[i][1], (uint16_t)r->ranges[k].hi);
		}
		if (!r->nranges)
			hint_listen(r, l4[i][1], (uint16_t)(1 + rnd(65535)));
	}
	if (r->protos & (PW_P_ICMP | PW_P_ICMPV6))
		hint_listen(r, 1, 0);
	if (r->protos & PW_P_OTHER)
		hint_listen(r, r->ip_proto, 0);
}

static void gather_hints(const struct pw_policy *pol)
{
	memset(&H, 0, sizeof(H));
	for (size_t i = 0; i < pol->nrules; i++) {
		const struct pw_rule *r = &pol->rules[i];
		hint_ranges(r);
		hint_listener(r);
		if ((r->protos & PW_P_OTHER) && H.nprotos < 64)
			H.protos[H.nprotos++] = r->ip_proto;
		for (size_t k = 0; r->restricted && k < r->npeers && H.npfx < 1024; k++)
			H.pfx[H.npfx++] = r->peers[k];
	}
}

/* ---- random policies ------------------------------------------------------ */

#define TEXT_MAX 16384
struct text {
	char s[TEXT_MAX];
	size_t n;
};

__attribute__((format(printf, 2, 3))) static void tput(struct text *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int w = vsnprintf(t->s + t->n, sizeof(t->s) - t->n, fmt, ap);
	va_end(ap);
	if (w > 0)
		t->n = t->n + (size_t)w < sizeof(t->s) ? t->n + (size_t)w : sizeof(t->s) - 1;
}

static const uint16_t hot_ports[] = { 1, 22, 25, 53, 80, 123, 443, 587, 993, 1023, 1024,
				      3306, 5060, 8080, 8443, 38001, 65535 };
#define NHOT (sizeof(hot_ports) / sizeof(hot_ports[0]))

static void gen_port_item(struct text *t)
{
	unsigned a = pct(70) ? hot_ports[rnd(NHOT)] : 1 + rnd(65535);
	unsigned b = a + (pct(50) ? rnd(20) : rnd(3000));

	if (b > 65535)
		b = 65535;
	if (pct(35) && b > a)
		tput(t, "%u-%u", a, b);
	else
		tput(t, "%u", a);
}

static const char *const type_names4[] = { "echo-reply", "destination-unreachable", "echo-request",
					   "time-exceeded", "parameter-problem", "redirect" };
static const char *const type_names6[] = { "echo-request", "echo-reply", "packet-too-big",
					   "destination-unreachable", "neighbor-solicitation",
					   "router-advertisement", "time-exceeded", "mld-listener-query" };

static void gen_type_item(struct text *t, bool v6)
{
	unsigned r = rnd(100);

	if (r < 50 && !v6)
		tput(t, "%s", type_names4[rnd(6)]);
	else if (r < 50)
		tput(t, "%s", type_names6[rnd(8)]);
	else if (r < 80)
		tput(t, "%u", v6 ? 1 + rnd(4) + (pct(50) ? 127 : 0) : rnd(16));
	else if (!v6)
		tput(t, "%u-%u", rnd(5), 5 + rnd(12));
	else
		tput(t, "%u-%u", 125 + rnd(5), 130 + rnd(10));
}

static void gen_prefix(struct pw_prefix *p)
{
	static const uint8_t len6[] = { 48, 56, 64, 96, 120, 127, 128, 128 };
	const struct pw_prefix *b = &bases[rnd(NBASES)];
	unsigned len = b->fam == PW_FAM_V4 ? (pct(30) ? 32 : b->len + rnd(32 - b->len + 1)) : len6[rnd(8)];

	if (len < b->len)
		len = b->len;
	addr_in(b, p->addr);
	for (unsigned i = len; i < pw_fam_bits(b->fam); i++)
		set_bit(p->addr, i, 0);
	p->fam = b->fam;
	p->len = (uint8_t)len;
}

static void gen_peer_item(struct text *t, unsigned nsets)
{
	struct pw_prefix p;
	char buf[64];
	unsigned r = rnd(100);

	if (r < 20 && nsets) {
		tput(t, "@s%u", rnd(nsets));
	} else if (r < 23) {
		tput(t, "any");
	} else if (r < 25) {
		tput(t, "0.0.0.0/0, ::/0");
	} else {
		gen_prefix(&p);
		pw_prefix_format(&p, buf, sizeof(buf), pct(70));
		tput(t, "%s", buf);
	}
}

/* A list of n items; now and then it goes on over the next line. */
static void gen_list(struct text *t, unsigned n, void (*item)(struct text *t, unsigned arg), unsigned arg)
{
	for (unsigned i = 0; i < n; i++) {
		if (i)
			tput(t, pct(10) ? ",\n    " : ", ");
		item(t, arg);
	}
}

static void port_item(struct text *t, unsigned arg)
{
	(void)arg;
	gen_port_item(t);
}

static void type4_item(struct text *t, unsigned arg)
{
	(void)arg;
	gen_type_item(t, false);
}

static void type6_item(struct text *t, unsigned arg)
{
	(void)arg;
	gen_type_item(t, true);
}

static void peer_item(struct text *t, unsigned nsets)
{
	gen_peer_item(t, nsets);
}

/* the last six are TCP, UDP, ICMP and ICMPv6 in other words; 33 is DCCP */
static const char *const other_protos[] = { "gre", "esp", "ah", "sctp", "vrrp", "igmp", "ipip", "ipv6",
					    "udplite", "47", "50", "132", "0", "255", "41", "4", "99",
					    "33", "136", "sctp", "33",
					    "tcp", "6", "udp", "icmp", "icmpv6", "58" };
#define NOTHER (sizeof(other_protos) / sizeof(other_protos[0]))

static void gen_rule(struct text *t, unsigned nsets)
{
	static const char *const dirs[] = { "in", "in", "in", "out", "out", "both" };
	const char *dir = dirs[rnd(6)];
	unsigned kind = rnd(100);
	const char *peer_kw = dir[0] == 'b' ? "peer" : pct(25) ? "peer" : dir[0] == 'i' ? "from" : "to";
	bool l4 = kind < 60, icmp4 = kind >= 60 && kind < 72, icmp6 = kind >= 72 && kind < 84;
	bool ports = l4 && pct(75), types = (icmp4 || icmp6) && pct(60), peers = pct(50);
	bool comment = pct(10);

	tput(t, "%s %s ", pct(60) ? "allow" : "deny", dir);
	if (kind < 30)
		tput(t, "tcp");
	else if (kind < 50)
		tput(t, "udp");
	else if (kind < 60)
		tput(t, pct(50) ? "tcp,udp" : "udp,tcp");
	else if (icmp4)
		tput(t, "icmp");
	else if (icmp6)
		tput(t, "icmpv6");
	else
		tput(t, "proto %s", other_protos[rnd(pct(80) ? NOTHER - 6 : NOTHER)]);
	/* the clauses after PROTO, in any order */
	while (ports || types || peers || comment) {
		unsigned c = rnd(4);
		if (c == 0 && ports) {
			tput(t, " port ");
			gen_list(t, 1 + rnd(4), port_item, 0);
			ports = false;
		} else if (c == 1 && types) {
			tput(t, " type ");
			gen_list(t, 1 + rnd(3), icmp4 ? type4_item : type6_item, 0);
			types = false;
		} else if (c == 2 && peers) {
			tput(t, " %s ", peer_kw);
			if (nsets && pct(30))	/* one set alone: rules on other ports share its trie shape */
				tput(t, "@s%u", rnd(nsets));
			else
				gen_list(t, 1 + rnd(3), peer_item, nsets);
			peers = false;
		} else if (c == 3 && comment) {
			tput(t, " comment \"rule \\\"%u\\\"\"", rnd(1000));
			comment = false;
		}
	}
	tput(t, "\n");
}

static void gen_policy(struct text *t, unsigned idx)
{
	unsigned nsets = rnd(4), nrules = 3 + rnd(MAX_RULES - 3);

	t->n = 0;
	t->s[0] = '\0';
	tput(t, "policy \"diff %u\"\n", idx);
	tput(t, "default in %s\n", pct(70) ? "drop" : "allow");
	tput(t, "default out %s\n", pct(70) ? "allow" : "drop");
	if (pct(15))
		tput(t, "mode monitor\n");
	else if (pct(50))
		tput(t, "mode enforce\n");
	for (unsigned i = 0; i < nsets; i++) {
		tput(t, "set s%u = ", i);
		gen_list(t, 1 + rnd(4), peer_item, i);
		tput(t, "\n");
	}
	for (unsigned i = 0; i < nrules; i++)
		gen_rule(t, nsets);
}

/* ---- packet descriptions --------------------------------------------------- */

enum { F_NONE, F_FIRST, F_LATER, F_ATOMIC };

#define IPP_HOP 0
#define IPP_ICMP 1
#define IPP_TCP 6
#define IPP_UDP 17
#define IPP_DCCP 33
#define IPP_ROUTING 43
#define IPP_FRAG 44
#define IPP_AH 51
#define IPP_ICMPV6 58
#define IPP_DSTOPTS 60
#define IPP_SCTP 132
#define IPP_UDPLITE 136
#define MAX_EXT 10

/* the packet an ICMP error quotes */
struct quote {
	uint8_t proto, type;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;		/* ICMP: sport is the echo id */
	uint8_t ihl;			/* IPv4 */
	uint8_t l4_bytes;		/* of its L4 header, quoted */
	uint8_t frag;			/* F_NONE, F_FIRST, F_LATER (IPv6: a fragment header) */
	bool v6_ext;			/* IPv6: a hop-by-hop header first */
};

struct desc {
	uint8_t dir, fam, proto;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;		/* ICMP: sport is the echo id */
	uint8_t tcp_flags, icmp_type, icmp_code;
	uint8_t frag;			/* F_* */
	uint32_t frag_id;
	uint16_t frag_off;		/* later fragments, in 8-byte units */
	bool frag_more;
	uint8_t frag_nh;		/* IPv6: the fragment header's next header */
	uint8_t nvlan, ihl, doff;
	uint8_t next;			/* IPv6 extension headers, fragment header included */
	uint8_t ext[MAX_EXT];
	uint8_t ext_len[MAX_EXT];	/* their length byte */
	int frag_at;			/* index of the fragment header in ext, -1: none */
	uint16_t payload;
	uint16_t udp_extra;		/* first fragments: the datagram goes on */
	uint8_t l4_len;			/* DCCP, SCTP, UDP-Lite: header bytes written */
	bool has_quote;
	struct quote q;
};

static bool icmp_error_type(uint8_t fam, uint8_t type)
{
	/* the ICMP errors the datapath reads the quote of (docs/datapath.md,
	 * step 1): destination unreachable, time exceeded, parameter problem,
	 * and ICMPv6's packet too big */
	if (fam == PW_FAM_V4)
		return type == 3 || type == 11 || type == 12;
	return type == 1 || type == 2 || type == 3 || type == 4;
}

/* The protocols whose header starts with the two ports, and how many bytes
 * their header needs at least (docs/datapath.md, step 1); 0: no ports. */
static unsigned port_hdr(uint8_t proto)
{
	switch (proto) {
	case IPP_TCP:
		return 20;
	case IPP_UDP:
	case IPP_UDPLITE:
		return 8;
	case IPP_DCCP:
	case IPP_SCTP:
		return 12;
	default:
		return 0;
	}
}

static bool is_ext(uint8_t nh)
{
	return nh == IPP_HOP || nh == IPP_ROUTING || nh == IPP_FRAG || nh == IPP_AH || nh == IPP_DSTOPTS;
}

static uint16_t pick_port(void)
{
	unsigned r = rnd(100);

	if (r < 55 && H.nports)
		return H.ports[rnd(H.nports)];
	if (r < 75)
		return hot_ports[rnd(NHOT)];
	if (r < 78)
		return 0;
	return (uint16_t)rnd(65536);
}

static uint8_t pick_type(uint8_t fam)
{
	static const uint8_t t4[] = { 0, 3, 4, 5, 8, 11, 12, 13, 14 };
	static const uint8_t t6[] = { 1, 2, 3, 4, 128, 129, 130, 133, 134, 135, 136, 137, 143 };
	unsigned v6 = fam == PW_FAM_V6, r = rnd(100);

	if (r < 40 && H.ntypes[v6])
		return H.types[v6][rnd(H.ntypes[v6])];
	if (r < 90)
		return v6 ? t6[rnd(sizeof(t6))] : t4[rnd(sizeof(t4))];
	return (uint8_t)rnd(256);
}

static uint8_t pick_other_proto(void)
{
	static const uint8_t p[] = { 0, 2, 4, 41, 47, 50, 51, 112, 132, 136, 255, 43, 60, 33 };

	if (pct(50) && H.nprotos)
		return H.protos[rnd(H.nprotos)];
	return pct(80) ? p[rnd(sizeof(p))] : (uint8_t)rnd(256);
}

/* A peer: inside one of the policy's prefixes, at or just past an edge of
 * one, anywhere in the pools, anywhere at all, or IPv4-mapped IPv6. */
static void pick_peer(uint8_t *fam, uint8_t addr[16])
{
	unsigned r = rnd(100);
	struct pw_prefix p;

	memset(addr, 0, 16);
	if (r < 45 && H.npfx) {
		p = H.pfx[rnd(H.npfx)];
		addr_in(&p, addr);
	} else if (r < 60 && H.npfx) {
		p = H.pfx[rnd(H.npfx)];
		addr_edge(&p, addr);
	} else if (r < 88) {
		p = bases[rnd(NBASES)];
		addr_in(&p, addr);
	} else if (r < 94) {
		p.fam = pct(50) ? PW_FAM_V4 : PW_FAM_V6;
		fill(addr, p.fam == PW_FAM_V4 ? 4 : 16);
	} else {
		/* an IPv4 peer written IPv4-mapped: malformed (docs/policy.md) */
		uint8_t v4[16];
		p = H.npfx ? H.pfx[rnd(H.npfx)] : bases[0];
		if (p.fam == PW_FAM_V4)
			addr_in(&p, v4);
		else
			fill(v4, 4);
		p.fam = PW_FAM_V6;
		addr[10] = addr[11] = 0xff;
		memcpy(addr + 12, v4, 4);
	}
	*fam = p.fam;
}

static uint8_t pick_tcp_flags(void)
{
	static const uint8_t f[] = { 0x02, 0x02, 0x12, 0x10, 0x10, 0x18, 0x11, 0x04, 0x14, 0x01, 0x00, 0x03 };

	return pct(5) ? (uint8_t)rnd(256) : f[rnd(sizeof(f))];
}

static uint8_t icmp_proto(uint8_t fam)
{
	return fam == PW_FAM_V4 ? IPP_ICMP : IPP_ICMPV6;
}

static bool is_icmp(uint8_t proto)
{
	return proto == IPP_ICMP || proto == IPP_ICMPV6;
}

/* The fragment header's next header: what follows it in the first
 * fragment (RFC 8200: the same in every fragment of a datagram). */
static void set_frag_nh(struct desc *d)
{
	if (d->frag_at >= 0)
		d->frag_nh = d->frag_at + 1 < d->next ? d->ext[d->frag_at + 1] : d->proto;
}

/* DCCP, SCTP, UDP-Lite: a whole header (DCCP's with or without its
 * extended sequence number), or now and then a short one, nothing after
 * it: malformed (a tiny first fragment too). */
static void gen_port_hdr(struct desc *d)
{
	unsigned need = port_hdr(d->proto);

	if (d->proto == IPP_TCP || d->proto == IPP_UDP || !need)
		return;
	if (pct(15)) {
		d->l4_len = (uint8_t)rnd(need);
		d->payload = 0;
	} else {
		d->l4_len = (uint8_t)(need + (d->proto == IPP_DCCP && pct(50) ? 4 : 0));
	}
}

/* VLAN tags, IPv4 header length, IPv6 extension chain, TCP data offset,
 * payload: the shape, whatever the flow. */
static void gen_shape(struct desc *d)
{
	static const uint8_t ext_kinds[] = { IPP_DSTOPTS, IPP_DSTOPTS, IPP_ROUTING, IPP_ROUTING, IPP_AH };
	unsigned r = rnd(100);

	d->nvlan = r < 70 ? 0 : r < 85 ? 1 : r < 96 ? 2 : 3;
	d->ihl = pct(70) ? 5 : (uint8_t)(6 + rnd(10));
	d->doff = pct(80) ? 5 : (uint8_t)(6 + rnd(10));
	d->payload = (uint16_t)(pct(30) ? 0 : rnd(pct(90) ? 64 : 600));
	gen_port_hdr(d);
	d->next = 0;
	d->frag_at = -1;
	if (d->fam != PW_FAM_V6)
		return;
	unsigned n = pct(55) ? 0 : 1 + rnd(pct(15) ? 9 : 4);
	for (unsigned i = 0; i < n; i++) {
		uint8_t t = ext_kinds[rnd(sizeof(ext_kinds))];
		if ((i == 0 && pct(40)) || pct(2))
			t = IPP_HOP;	/* in its place, or (rarely) out of it */
		d->ext[i] = t;
		d->ext_len[i] = (uint8_t)(t == IPP_AH ? 1 + rnd(5) : rnd(3));
	}
	d->next = (uint8_t)n;
	if (d->frag != F_NONE && d->next < MAX_EXT) {
		unsigned at = rnd(d->next + 1u);
		memmove(d->ext + at + 1, d->ext + at, d->next - at);
		memmove(d->ext_len + at + 1, d->ext_len + at, d->next - at);
		d->ext[at] = IPP_FRAG;
		d->ext_len[at] = 0;
		d->frag_at = (int)at;
		d->next++;
	}
	set_frag_nh(d);
}

static void gen_frag(struct desc *d)
{
	unsigned r = rnd(100);

	d->frag = F_NONE;
	if (!pct(15))
		return;
	d->frag = r < 45 ? F_FIRST : r < 80 ? F_LATER : F_ATOMIC;
	d->frag_id = d->fam == PW_FAM_V4 ? rnd(65536) : (uint32_t)rnd64();
	d->frag_off = (uint16_t)(1 + rnd(400));
	d->frag_more = pct(60);
	d->udp_extra = (uint16_t)(pct(50) ? rnd(2000) : 0);
}

static void gen_quote_random(struct desc *d)
{
	static const uint8_t qp[] = { IPP_TCP, IPP_UDP, IPP_UDP, IPP_ICMP, 47, IPP_SCTP };
	uint8_t fam;

	d->has_quote = true;
	d->q.proto = qp[rnd(sizeof(qp))];
	if (d->q.proto == IPP_ICMP)
		d->q.proto = icmp_proto(d->fam);
	d->q.type = d->q.proto == IPP_ICMP ? 8 : 128;
	memcpy(d->q.src, d->dst, 16);
	if (pct(20))
		local_addr(d->fam, d->q.src);
	pick_peer(&fam, d->q.dst);
	if (fam != d->fam)
		memcpy(d->q.dst, d->src, 16);
	d->q.sport = pick_port();
	d->q.dport = pick_port();
	d->q.ihl = 5;
	d->q.l4_bytes = 8;
}

/* quoted packet details that make it unreadable now and then */
static void gen_quote_shape(struct quote *q)
{
	q->ihl = pct(85) ? 5 : (uint8_t)(5 + rnd(3));
	q->l4_bytes = pct(85) ? 8 : (uint8_t)rnd(40);
	q->frag = pct(92) ? F_NONE : pct(50) ? F_FIRST : F_LATER;
	q->v6_ext = pct(4);
}

static void gen_fresh(struct desc *d)
{
	uint8_t peer[16], local[16], fam;
	unsigned r = rnd(100);

	memset(d, 0, sizeof(*d));
	pick_peer(&fam, peer);
	local_addr(fam, local);
	d->fam = fam;
	d->dir = (uint8_t)rnd(2);
	memcpy(d->src, d->dir == PW_DIR_IN ? peer : local, 16);
	memcpy(d->dst, d->dir == PW_DIR_IN ? local : peer, 16);
	if (r < 33)
		d->proto = IPP_TCP;
	else if (r < 56)
		d->proto = IPP_UDP;
	else if (r < 63)
		d->proto = (const uint8_t[]){ IPP_DCCP, IPP_SCTP, IPP_UDPLITE }[rnd(3)];
	else if (r < 83)
		d->proto = icmp_proto(fam);
	else if (r < 97)
		d->proto = pick_other_proto();
	else
		d->proto = fam == PW_FAM_V4 ? IPP_ICMPV6 : IPP_ICMP;	/* the wrong ICMP */
	/* the service port is the destination either way; now and then the
	 * source (a listener's answer going out) */
	d->dport = pick_port();
	d->sport = pct(70) ? (uint16_t)(32768 + rnd(28000)) : pick_port();
	d->tcp_flags = pick_tcp_flags();
	if (is_icmp(d->proto)) {
		d->icmp_type = pick_type(fam);
		d->icmp_code = (uint8_t)rnd(5);
		d->sport = (uint16_t)rnd(65536);
		if (icmp_error_type(fam, d->icmp_type) || pct(10)) {
			gen_quote_random(d);
			gen_quote_shape(&d->q);
		}
	}
	gen_frag(d);
	gen_shape(d);
}

/* a new shape for a flow taken from the pool */
static void reshape(struct desc *d)
{
	d->frag = F_NONE;
	if (pct(10))
		gen_frag(d);
	gen_shape(d);
}

/* The other side's answer to f. */
static void gen_reply(struct desc *d, const struct desc *f)
{
	static const uint8_t flags[] = { 0x12, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14, 0x02 };

	*d = *f;
	d->dir = f->dir ^ 1;
	memcpy(d->src, f->dst, 16);
	memcpy(d->dst, f->src, 16);
	d->sport = f->dport;
	d->dport = f->sport;
	d->tcp_flags = flags[rnd(sizeof(flags))];
	d->has_quote = false;
	if (is_icmp(f->proto)) {
		d->sport = f->sport;	/* the echo id */
		if (f->icmp_type == 8 || f->icmp_type == 128)
			d->icmp_type = f->icmp_type == 8 ? 0 : 129;
	}
	if (pct(5))
		d->dport = (uint16_t)(d->dport + 1);	/* a near miss */
	if (pct(5) && is_icmp(d->proto))
		d->sport = (uint16_t)(d->sport + 1);	/* another echo id */
	if (pct(3))
		d->src[d->fam == PW_FAM_V4 ? 3 : 15] ^= 1;
	reshape(d);
}

/* The same flow, the same way, again. */
static void gen_repeat(struct desc *d, const struct desc *f)
{
	*d = *f;
	d->tcp_flags = pick_tcp_flags();
	reshape(d);
}

/* The packet of flow f an ICMP error quotes: f itself, or turned round
 * (the other side's packet: its echo request answered by a reply). */
static void quote_flow(struct quote *q, const struct desc *f, bool turn)
{
	q->proto = f->proto;
	memcpy(q->src, turn ? f->dst : f->src, 16);
	memcpy(q->dst, turn ? f->src : f->dst, 16);
	q->sport = turn ? f->dport : f->sport;
	q->dport = turn ? f->sport : f->dport;
	q->type = f->icmp_type;
	if (is_icmp(f->proto)) {
		q->sport = f->sport;	/* the echo id */
		if (turn && (f->icmp_type == 8 || f->icmp_type == 128))
			q->type = f->icmp_type == 8 ? 0 : 129;
	}
}

/* An ICMP error about f. Inbound, to the host: about what the host sent
 * (f outbound, or the host's answer to f inbound: a local listener's
 * reply), from the peer or a router on the way. Outbound, the host's own:
 * mostly about what it received (f inbound, or the peer's packet of f
 * outbound), from the quote's destination back to its source; now and
 * then about what it sent. Now and then from or to another address. */
static void gen_error(struct desc *d, const struct desc *f)
{
	static const uint8_t t4[] = { 3, 3, 11, 12, 4, 5 };
	static const uint8_t t6[] = { 1, 2, 3, 4 };
	struct quote *q = &d->q;
	uint8_t host[16], far[16], fam;

	memset(d, 0, sizeof(*d));
	d->fam = f->fam;
	d->dir = pct(70) ? PW_DIR_IN : PW_DIR_OUT;
	bool got = d->dir == PW_DIR_OUT && pct(80);	/* about a packet the host received */
	d->proto = icmp_proto(f->fam);
	d->icmp_type = f->fam == PW_FAM_V4 ? t4[rnd(sizeof(t4))] : t6[rnd(sizeof(t6))];
	d->icmp_code = (uint8_t)rnd(5);
	d->has_quote = true;
	/* the quote goes to the host (got) or from it */
	quote_flow(q, f, (f->dir == PW_DIR_IN) != got);
	gen_quote_shape(q);
	memcpy(host, got ? q->dst : q->src, 16);
	memcpy(far, got ? q->src : q->dst, 16);
	if (pct(10))
		local_addr(d->fam, host);
	if (pct(got ? 10 : 50)) {
		pick_peer(&fam, far);	/* a router on the way; for got, not the sender */
		if (fam != d->fam)
			memcpy(far, got ? q->src : q->dst, 16);
	}
	memcpy(d->src, d->dir == PW_DIR_IN ? far : host, 16);
	memcpy(d->dst, d->dir == PW_DIR_IN ? host : far, 16);
	reshape(d);
}

/* A later fragment of the datagram whose first fragment f was. */
static void gen_later(struct desc *d, const struct desc *f)
{
	*d = *f;
	d->frag = F_LATER;
	d->frag_off = (uint16_t)(1 + rnd(400));
	d->frag_more = pct(50);
	d->payload = (uint16_t)(8 + rnd(200));
	d->nvlan = (uint8_t)(pct(80) ? 0 : rnd(3));
	if (pct(3))
		d->frag_id ^= 1u << rnd(16);	/* near misses */
	if (pct(3))
		d->dir ^= 1;
	if (pct(3) && d->fam == PW_FAM_V4)
		d->proto ^= 1;
}

/* A peer the rule covers (most of the time), or any. */
static void listener_peer(const struct pw_rule *r, uint8_t *fam, uint8_t addr[16])
{
	if (r->restricted && r->npeers && pct(85)) {
		const struct pw_prefix *p = &r->peers[rnd((uint32_t)r->npeers)];
		memset(addr, 0, 16);
		addr_in(p, addr);
		*fam = p->fam;
	} else {
		pick_peer(fam, addr);
	}
}

/* The host as a server of what an in rule allows (docs/datapath.md, step
 * 4): the peer's packet to it, whose answer (reply) follows at once; or
 * the host's packet from that port or protocol, unasked: TCP a bare SYN
 * (a connect() from a listener's port) or another segment (a listener's
 * SYN-ACK, data, FIN, RST), an echo reply to no request. Returns whether
 * *reply holds the answer. */
static bool gen_listener(struct desc *d, struct desc *reply)
{
	static const uint8_t flags[] = { 0x12, 0x10, 0x18, 0x11, 0x04, 0x14, 0x19, 0x12 };
	const struct listen *l = &H.listen[rnd(H.nlisten)];
	uint8_t peer[16], local[16], fam;
	uint16_t remote = pct(80) ? (uint16_t)(32768 + rnd(28000)) : pick_port();

	memset(d, 0, sizeof(*d));
	listener_peer(l->rule, &fam, peer);
	local_addr(fam, local);
	d->fam = fam;
	d->proto = l->proto == IPP_ICMP ? icmp_proto(fam) : l->proto;
	d->dir = d->proto != IPP_TCP && pct(60) ? PW_DIR_IN : PW_DIR_OUT;
	bool in = d->dir == PW_DIR_IN;
	memcpy(d->src, in ? peer : local, 16);
	memcpy(d->dst, in ? local : peer, 16);
	d->sport = in ? remote : l->port;
	d->dport = in ? l->port : remote;
	d->tcp_flags = pct(30) ? (pct(80) ? 0x02 : 0x03) : flags[rnd(sizeof(flags))];
	if (is_icmp(d->proto)) {
		d->icmp_type = fam == PW_FAM_V4 ? (in ? 8 : 0) : (in ? 128 : 129);
		d->sport = (uint16_t)rnd(65536);	/* the echo id */
	}
	gen_frag(d);
	gen_shape(d);
	if (in)
		gen_reply(reply, d);
	return in;
}

/* ---- frames ---------------------------------------------------------------- */

#define FRAME_MAX 2048
#define MAX_CUTS 48

struct frame {
	uint8_t b[FRAME_MAX];
	size_t len;
	size_t cut[MAX_CUTS];		/* header boundaries, for truncation */
	unsigned ncut;
	int l3, l4;			/* offsets, -1: none */
	uint8_t fam, l4proto;
	int ext[MAX_EXT];		/* IPv6 extension headers' offsets */
	unsigned next;
};

static void mark_at(struct frame *f, size_t off)
{
	if (f->ncut < MAX_CUTS)
		f->cut[f->ncut++] = off;
}

static void mark(struct frame *f)
{
	mark_at(f, f->len);
}

static uint8_t *grow(struct frame *f, size_t n)
{
	uint8_t *p = f->b + f->len;

	memset(p, 0, n);
	f->len += n;
	return p;
}

static void put_addrs(uint8_t *p, uint8_t fam, const uint8_t *src, const uint8_t *dst)
{
	size_t n = fam == PW_FAM_V4 ? 4 : 16;

	memcpy(p, src, n);
	memcpy(p + n, dst, n);
}

static void put_quote(struct frame *f, const struct desc *d)
{
	const struct quote *q = &d->q;
	uint8_t proto = q->proto;

	if (d->fam == PW_FAM_V4) {
		uint8_t *h = grow(f, (size_t)q->ihl * 4);
		h[0] = (uint8_t)(0x40 | q->ihl);
		wr16(h, 2, (uint16_t)(q->ihl * 4 + 8 + rnd(100)));
		wr16(h, 4, (uint16_t)rnd(65536));
		wr16(h, 6, q->frag == F_LATER ? (uint16_t)(0x2000 | (1 + rnd(100))) : q->frag ? 0x2000 : 0);
		h[8] = 1;
		h[9] = proto;
		put_addrs(h + 12, PW_FAM_V4, q->src, q->dst);
	} else {
		uint8_t *h = grow(f, 40);
		h[0] = 0x60;
		wr16(h, 4, (uint16_t)(8 + rnd(100)));
		uint8_t after = q->frag ? IPP_FRAG : proto;
		h[6] = q->v6_ext ? IPP_HOP : after;
		h[7] = 1;
		put_addrs(h + 8, PW_FAM_V6, q->src, q->dst);
		if (q->v6_ext)
			grow(f, 8)[0] = after;
		if (q->frag) {
			uint8_t *fh = grow(f, 8);
			fh[0] = proto;
			wr16(fh, 2, q->frag == F_LATER ? (uint16_t)((1 + rnd(100)) << 3 | rnd(2)) : 1);
			wr32(fh, 4, (uint32_t)rnd64());
		}
	}
	mark(f);
	uint8_t l4[64] = { 0 };
	if (is_icmp(proto)) {
		l4[0] = q->type;
		wr16(l4, 4, q->sport);
	} else {
		wr16(l4, 0, q->sport);
		wr16(l4, 2, q->dport);
	}
	memcpy(grow(f, q->l4_bytes), l4, q->l4_bytes < sizeof(l4) ? q->l4_bytes : sizeof(l4));
	mark(f);
}

/* DCCP (RFC 4340 generic header), SCTP (common header), UDP-Lite: the
 * ports first, then what each has; d->l4_len bytes of it */
static void put_ports_hdr(struct frame *f, const struct desc *d)
{
	uint8_t h[16] = { 0 };

	wr16(h, 0, d->sport);
	wr16(h, 2, d->dport);
	if (d->proto == IPP_DCCP) {
		h[4] = (uint8_t)(d->l4_len / 4);	/* data offset */
		h[8] = (uint8_t)(rnd(10) << 1 | (d->l4_len > 12));	/* type, X */
		fill(h + 9, d->l4_len > 12 ? 7u : 3u);	/* sequence number */
	} else if (d->proto == IPP_SCTP) {
		wr32(h, 4, (uint32_t)rnd64());	/* verification tag */
	} else {
		wr16(h, 4, pct(50) ? 0 : 8);	/* checksum coverage */
	}
	memcpy(grow(f, d->l4_len), h, d->l4_len < sizeof(h) ? d->l4_len : sizeof(h));
	if (d->l4_len > 4)
		mark_at(f, (size_t)f->l4 + 4);
}

static void put_l4(struct frame *f, const struct desc *d)
{
	uint8_t *h;

	f->l4 = (int)f->len;
	f->l4proto = d->proto;
	switch (d->proto) {
	case IPP_TCP:
		h = grow(f, (size_t)d->doff * 4);
		wr16(h, 0, d->sport);
		wr16(h, 2, d->dport);
		wr32(h, 4, (uint32_t)rnd64());
		h[12] = (uint8_t)(d->doff << 4);
		h[13] = d->tcp_flags;
		wr16(h, 14, 65535);
		memset(h + 20, 1, (size_t)d->doff * 4 - 20);	/* NOP options */
		mark_at(f, (size_t)f->l4 + 20);
		break;
	case IPP_UDP:
		h = grow(f, 8);
		wr16(h, 0, d->sport);
		wr16(h, 2, d->dport);
		wr16(h, 4, (uint16_t)(8 + d->payload + (d->frag == F_FIRST ? d->udp_extra : 0)));
		break;
	case IPP_ICMP:
	case IPP_ICMPV6:
		h = grow(f, 8);
		h[0] = d->icmp_type;
		h[1] = d->icmp_code;
		wr16(h, 4, d->sport);
		wr16(h, 6, (uint16_t)rnd(65536));
		if (d->has_quote) {
			mark(f);
			put_quote(f, d);
		}
		break;
	case IPP_DCCP:
	case IPP_SCTP:
	case IPP_UDPLITE:
		put_ports_hdr(f, d);
		break;
	default:
		f->l4 = -1;
		return;
	}
	mark(f);
}

static void put_ipv4(struct frame *f, const struct desc *d)
{
	uint8_t *h = grow(f, (size_t)d->ihl * 4);
	uint16_t fo = 0;

	h[0] = (uint8_t)(0x40 | d->ihl);
	wr16(h, 4, (uint16_t)d->frag_id);
	if (d->frag == F_FIRST)
		fo = 0x2000;
	else if (d->frag == F_LATER)
		fo = (uint16_t)((d->frag_off & 0x1fff) | (d->frag_more ? 0x2000 : 0));
	else if (pct(30))
		fo = 0x4000;	/* DF: whole */
	wr16(h, 6, fo);
	h[8] = 64;
	h[9] = d->proto;
	put_addrs(h + 12, PW_FAM_V4, d->src, d->dst);
	memset(h + 20, 1, (size_t)d->ihl * 4 - 20);	/* NOP options */
	mark_at(f, (size_t)f->l3 + 20);
	mark(f);
}

/* Returns false when the chain ends in a later fragment (no L4 header). */
static bool put_ipv6(struct frame *f, const struct desc *d)
{
	uint8_t *h = grow(f, 40);

	h[0] = 0x60;
	h[6] = d->next ? d->ext[0] : d->proto;
	h[7] = 64;
	put_addrs(h + 8, PW_FAM_V6, d->src, d->dst);
	mark(f);
	for (unsigned i = 0; i < d->next; i++) {
		uint8_t t = d->ext[i], nh = i + 1 < d->next ? d->ext[i + 1] : d->proto;
		size_t n = t == IPP_FRAG ? 8 : t == IPP_AH ? ((size_t)d->ext_len[i] + 2) * 4 :
			   ((size_t)d->ext_len[i] + 1) * 8;
		f->ext[f->next++] = (int)f->len;
		h = grow(f, n);
		h[0] = nh;
		h[1] = d->ext_len[i];
		if (t == IPP_FRAG) {
			h[0] = d->frag_nh;
			h[1] = 0;
			uint16_t fo = 0;
			if (d->frag == F_LATER)
				fo = (uint16_t)(d->frag_off << 3 | d->frag_more);
			else if (d->frag == F_FIRST)
				fo = 1;
			wr16(h, 2, fo);
			wr32(h, 4, d->frag_id);
		} else if (t != IPP_AH) {
			h[2] = 1;	/* a PadN option over the rest */
			h[3] = (uint8_t)(n - 4);
		}
		mark(f);
		if (t == IPP_FRAG && d->frag == F_LATER)
			return false;
	}
	return true;
}

static void build(const struct desc *d, struct frame *f)
{
	static const uint8_t mac[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
	bool l4 = true;

	f->len = 0;
	f->ncut = 0;
	f->next = 0;
	f->l3 = f->l4 = -1;
	f->fam = d->fam;
	memcpy(grow(f, 12), mac, 12);
	for (unsigned i = 0; i < d->nvlan; i++) {
		uint8_t *t = grow(f, 4);
		wr16(t, 0, pct(50) ? 0x8100 : 0x88a8);
		wr16(t, 2, (uint16_t)rnd(4096));
		mark(f);
	}
	wr16(grow(f, 2), 0, d->fam == PW_FAM_V4 ? 0x0800 : 0x86dd);
	mark(f);
	f->l3 = (int)f->len;
	if (d->fam == PW_FAM_V4) {
		put_ipv4(f, d);
		l4 = d->frag != F_LATER;
	} else {
		l4 = put_ipv6(f, d);
	}
	if (l4)
		put_l4(f, d);
	fill(grow(f, d->payload), d->payload);
	/* the lengths, now that the datagram is whole */
	if (d->fam == PW_FAM_V4)
		wr16(f->b, (size_t)f->l3 + 2, (uint16_t)(f->len - (size_t)f->l3));
	else
		wr16(f->b, (size_t)f->l3 + 4, (uint16_t)(f->len - (size_t)f->l3 - 40));
	if (pct(5))
		fill(grow(f, 1 + rnd(30)), 0);	/* Ethernet padding past the datagram */
}

static void build_non_ip(struct frame *f)
{
	static const uint16_t types[] = { 0x0806, 0x88cc, 0x8847, 0x0000, 0x8035, 0x86dc, 0x0801 };
	unsigned nvlan = pct(80) ? 0 : rnd(3);

	f->len = 0;
	f->ncut = 0;
	f->next = 0;
	f->l3 = f->l4 = -1;
	fill(grow(f, 12), 12);
	for (unsigned i = 0; i < nvlan; i++)
		wr16(grow(f, 4), 0, 0x8100);
	wr16(grow(f, 2), 0, pct(90) ? types[rnd(sizeof(types) / 2)] : (uint16_t)rnd(65536));
	mark(f);
	fill(grow(f, 28 + rnd(40)), 28);
}

/* random bytes behind an IP ethertype */
static void build_garbage(struct frame *f)
{
	f->len = 0;
	f->ncut = 0;
	f->next = 0;
	f->l3 = f->l4 = -1;
	fill(grow(f, 12), 12);
	wr16(grow(f, 2), 0, pct(50) ? 0x0800 : 0x86dd);
	size_t n = rnd(120);
	fill(grow(f, n), n);
	if (f->len > 14)
		f->b[14] = (uint8_t)((f->b[13] == 0 ? 0x40 : 0x60) | (f->b[14] & 0x0f));
}

/* ---- mutations ------------------------------------------------------------- */

static void fix_lengths(struct frame *f)
{
	if (f->l3 < 0)
		return;
	size_t l3 = (size_t)f->l3;
	if (f->fam == PW_FAM_V4 && l3 + 4 <= f->len)
		wr16(f->b, l3 + 2, (uint16_t)(f->len - l3));
	else if (f->fam == PW_FAM_V6 && l3 + 40 <= f->len)
		wr16(f->b, l3 + 4, (uint16_t)(f->len - l3 - 40));
}

static void truncate_at_cut(struct frame *f)
{
	if (!f->ncut)
		return;
	size_t at = f->cut[rnd(f->ncut)];
	if (pct(30))
		at = at + rnd(5) - 2;
	if (at < 14)
		at = 14;	/* BPF_PROG_TEST_RUN takes no less than an Ethernet header */
	if (at < f->len)
		f->len = at;
}

static uint16_t bad_length(uint16_t v)
{
	switch (rnd(6)) {
	case 0: return 0;
	case 1: return (uint16_t)(v + 1 + rnd(8));
	case 2: return (uint16_t)(v - 1 - rnd(8));
	case 3: return 0xffff;
	case 4: return (uint16_t)rnd(64);
	default: return (uint16_t)rnd(65536);
	}
}

static void mutate_l3(struct frame *f)
{
	size_t l3 = (size_t)f->l3;

	if (f->l3 < 0 || l3 + 40 > f->len)
		return;
	switch (rnd(4)) {
	case 0:	/* total length / payload length */
		if (f->fam == PW_FAM_V4)
			wr16(f->b, l3 + 2, bad_length(rd16(f->b, l3 + 2)));
		else
			wr16(f->b, l3 + 4, bad_length(rd16(f->b, l3 + 4)));
		break;
	case 1:	/* IHL, or an extension header's length */
		if (f->fam == PW_FAM_V4)
			f->b[l3] = (uint8_t)(0x40 | rnd(16));
		else if (f->next)
			f->b[f->ext[rnd(f->next)] + 1] = (uint8_t)rnd(pct(50) ? 4 : 256);
		break;
	case 2:	/* version */
		f->b[l3] = (uint8_t)((rnd(16) << 4) | (f->b[l3] & 0x0f));
		break;
	default: /* a next header / protocol */
		if (f->fam == PW_FAM_V4)
			f->b[l3 + 9] = (uint8_t)(pct(50) ? rnd(64) : rnd(256));
		else if (f->next && pct(50))
			f->b[f->ext[rnd(f->next)]] = (uint8_t)rnd(64);
		else
			f->b[l3 + 6] = (uint8_t)rnd(64);
		break;
	}
}

static void mutate_l4(struct frame *f)
{
	size_t l4 = (size_t)f->l4;

	if (f->l4 < 0 || l4 + 20 > f->len)
		return;
	if (f->l4proto == IPP_TCP)
		f->b[l4 + 12] = (uint8_t)(rnd(16) << 4);
	else if (f->l4proto == IPP_UDP)
		wr16(f->b, l4 + 4, bad_length(rd16(f->b, l4 + 4)));
	else
		f->b[l4 + 8 + rnd(12)] = (uint8_t)rnd(256);	/* into the quote */
}

static void mutate(struct frame *f)
{
	for (unsigned n = 1 + rnd(2); n; n--) {
		switch (rnd(9)) {
		case 0:
		case 1:
			truncate_at_cut(f);
			break;
		case 2:	/* cut short, lengths consistent: the L4 header is what's missing */
			truncate_at_cut(f);
			fix_lengths(f);
			break;
		case 3:
		case 4:
			mutate_l3(f);
			break;
		case 5:
			mutate_l4(f);
			break;
		case 6:
			if (f->len > 14)
				f->b[14 + rnd((uint32_t)f->len - 14)] ^= (uint8_t)(1 + rnd(255));
			break;
		case 7:	/* Ethernet padding after the datagram */
			if (f->len < FRAME_MAX - 64)
				fill(grow(f, 1 + rnd(40)), 0);
			break;
		default: /* a VLAN tag where the ethertype was */
			if (f->l3 >= 16)
				wr16(f->b, (size_t)f->l3 - 2, pct(50) ? 0x8100 : 0x88a8);
			break;
		}
	}
}

/* ---- the oracle: a parser of its own ----------------------------------------- */

enum { O_OK, O_NON_IP, O_BAD };

struct opkt {
	int res;
	uint8_t fam, proto, frag;
	uint8_t frag_proto;		/* the protocol that keys the datagram */
	uint32_t frag_id;
	uint8_t src[16], dst[16];
	uint16_t sport, dport, echo_id;	/* host order */
	uint8_t flags, type;
	bool q_ok;			/* an ICMP error's quote was read */
	uint8_t q_proto, q_type;
	uint16_t q_sport, q_dport;	/* quoted ICMP: q_sport is the echo id */
	uint8_t q_src[16], q_dst[16];
};


/* The packet an ICMP error quotes: its addresses and first 8 bytes of L4
 * header, within [q, end). Quotes cut short, of later fragments, or with
 * IPv6 extension headers but a fragment header right after the fixed one
 * are not read. */
static void o_quote(const uint8_t *b, size_t q, size_t end, struct opkt *o)
{
	size_t l4;

	if (o->fam == PW_FAM_V4) {
		if (q + 20 > end || b[q] >> 4 != 4 || (b[q] & 15) < 5 || (rd16(b, q + 6) & 0x1fff))
			return;
		l4 = q + (size_t)(b[q] & 15) * 4;
		o->q_proto = b[q + 9];
		memset(o->q_src, 0, 16);
		memset(o->q_dst, 0, 16);
		memcpy(o->q_src, b + q + 12, 4);
		memcpy(o->q_dst, b + q + 16, 4);
	} else {
		if (q + 40 > end || b[q] >> 4 != 6)
			return;
		l4 = q + 40;
		o->q_proto = b[q + 6];
		if (o->q_proto == IPP_FRAG) {
			/* a first fragment: its L4 header after the fragment header */
			if (l4 + 8 > end || (rd16(b, l4 + 2) & 0xfff8))
				return;
			o->q_proto = b[l4];
			l4 += 8;
		}
		if (is_ext(o->q_proto))
			return;
		memcpy(o->q_src, b + q + 8, 16);
		memcpy(o->q_dst, b + q + 24, 16);
	}
	if (l4 + 8 > end)
		return;
	o->q_type = b[l4];
	if (is_icmp(o->q_proto)) {
		o->q_sport = rd16(b, l4 + 4);
	} else {
		o->q_sport = rd16(b, l4);
		o->q_dport = rd16(b, l4 + 2);
	}
	o->q_ok = true;
}

/* the L4 header from l4 to the datagram's end */
static int o_l4(const uint8_t *b, size_t l4, size_t end, struct opkt *o)
{
	size_t avail = end - l4;

	if (o->frag == F_LATER)
		return O_OK;	/* no L4 header here */
	switch (o->proto) {
	case IPP_TCP: {
		if (avail < 20)
			return O_BAD;
		unsigned doff = b[l4 + 12] >> 4;
		if (doff < 5 || doff * 4 > avail)
			return O_BAD;
		o->sport = rd16(b, l4);
		o->dport = rd16(b, l4 + 2);
		o->flags = b[l4 + 13];
		return O_OK;
	}
	case IPP_UDP: {
		uint16_t ulen = avail >= 8 ? rd16(b, l4 + 4) : 0;
		/* within the datagram: a first fragment holds only its start */
		if (avail < 8 || ulen < 8 || (o->frag == F_NONE && ulen > avail))
			return O_BAD;
		o->sport = rd16(b, l4);
		o->dport = rd16(b, l4 + 2);
		return O_OK;
	}
	case IPP_ICMP:
	case IPP_ICMPV6:
		if (avail < 8)
			return O_BAD;
		if ((o->proto == IPP_ICMP) != (o->fam == PW_FAM_V4))
			return O_BAD;	/* ICMPv4 in IPv6, ICMPv6 in IPv4 */
		o->type = b[l4];
		o->echo_id = rd16(b, l4 + 4);
		if (icmp_error_type(o->fam, o->type))
			o_quote(b, l4 + 8, end, o);
		return O_OK;
	case IPP_DCCP:
	case IPP_SCTP:
	case IPP_UDPLITE:
		/* 12 bytes at least (8 for UDP-Lite), the ports first */
		if (avail < port_hdr(o->proto))
			return O_BAD;
		o->sport = rd16(b, l4);
		o->dport = rd16(b, l4 + 2);
		return O_OK;
	default:
		return O_OK;
	}
}

static int o_ipv4(const uint8_t *b, size_t len, size_t off, struct opkt *o)
{
	if (off + 20 > len || b[off] >> 4 != 4 || (b[off] & 15) < 5)
		return O_BAD;
	size_t hlen = (size_t)(b[off] & 15) * 4, tot = rd16(b, off + 2);
	if (tot < hlen || tot > len - off)
		return O_BAD;
	uint16_t fo = rd16(b, off + 6);
	o->fam = PW_FAM_V4;
	o->proto = o->frag_proto = b[off + 9];
	o->frag = (fo & 0x1fff) ? F_LATER : (fo & 0x2000) ? F_FIRST : F_NONE;
	o->frag_id = rd16(b, off + 4);
	memcpy(o->src, b + off + 12, 4);
	memcpy(o->dst, b + off + 16, 4);
	return o_l4(b, off + hlen, off + tot, o);
}

static bool v4mapped(const uint8_t *a)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(a, prefix, 12) == 0;
}

/* IPv6: the extension chain (at most 8 headers, hop-by-hop only first),
 * then the L4 header */
static int o_ipv6(const uint8_t *b, size_t len, size_t off, struct opkt *o)
{
	if (off + 40 > len || b[off] >> 4 != 6)
		return O_BAD;
	size_t plen = rd16(b, off + 4), cur = off + 40, end = cur + plen;
	if (plen == 0 || plen + 40 > len - off)
		return O_BAD;	/* no jumbograms */
	/* an IPv4-mapped source or destination (::ffff:a.b.c.d) is never on
	 * the wire: malformed */
	if (v4mapped(b + off + 8) || v4mapped(b + off + 24))
		return O_BAD;
	uint8_t nh = b[off + 6];
	o->fam = PW_FAM_V6;
	memcpy(o->src, b + off + 8, 16);
	memcpy(o->dst, b + off + 24, 16);
	for (unsigned n = 0; is_ext(nh); n++) {
		size_t hl;
		if (n == 8 || (nh == IPP_HOP && n) || cur + 8 > end)
			return O_BAD;
		if (nh == IPP_FRAG) {
			uint16_t fo = rd16(b, cur + 2);
			o->frag_id = rd32(b, cur + 4);
			o->frag_proto = b[cur];
			if (fo & 0xfff8)
				o->frag = F_LATER;
			else if (fo & 1)
				o->frag = F_FIRST;
			hl = 8;
		} else if (nh == IPP_AH) {
			hl = ((size_t)b[cur + 1] + 2) * 4;
		} else {
			hl = ((size_t)b[cur + 1] + 1) * 8;
		}
		if (cur + hl > end)
			return O_BAD;
		nh = b[cur];
		cur += hl;
		if (o->frag == F_LATER)
			break;
	}
	o->proto = nh;
	return o_l4(b, cur, end, o);
}

static int o_parse(const uint8_t *b, size_t len, struct opkt *o)
{
	size_t off = 14;
	uint16_t et;

	memset(o, 0, sizeof(*o));
	if (len < 14)
		return o->res = O_BAD;
	et = rd16(b, 12);
	for (unsigned tags = 0; et == 0x8100 || et == 0x88a8; tags++) {
		if (tags == 2 || off + 4 > len)
			return o->res = O_BAD;	/* a third tag, or a cut one */
		et = rd16(b, off + 2);
		off += 4;
	}
	if (et == 0x0800)
		return o->res = o_ipv4(b, len, off, o);
	if (et == 0x86dd)
		return o->res = o_ipv6(b, len, off, o);
	return o->res = O_NON_IP;
}

/* ---- the oracle's state ------------------------------------------------------ */

/* A map of 40-byte keys (struct pw_ct_key, struct pw_frag_key, struct
 * pw_frag_src_key zero-padded: the layouts the kernel's maps use, so the
 * two can be compared) to a number, open addressing. */
#define KEY_SIZE 40
struct kset {
	uint8_t (*keys)[KEY_SIZE];
	uint32_t *vals;
	uint8_t *used;
	size_t cap, n;
};

/* pw_ct, pw_ct_dgram and pw_ct_in: who opened the flow and its state
 * (ct_val); pw_frags: keys alone; pw_frag_src: first fragments remembered */
static struct kset CT, CT_DGRAM, CT_IN, FRAGS, FRAG_SRC;

_Static_assert(sizeof(struct pw_ct_key) == KEY_SIZE, "ct key");
_Static_assert(sizeof(struct pw_frag_key) == KEY_SIZE, "frag key");
_Static_assert(sizeof(struct pw_frag_src_key) <= KEY_SIZE, "frag source key");

static size_t kset_slot(const struct kset *s, const void *key)
{
	const uint8_t *k = key;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < KEY_SIZE; i++)
		h = (h ^ k[i]) * 0x100000001b3ull;
	size_t i = (size_t)h & (s->cap - 1);
	while (s->used[i] && memcmp(s->keys[i], k, KEY_SIZE))
		i = (i + 1) & (s->cap - 1);
	return i;
}

/* key's value, NULL when key is not there */
static uint32_t *kset_get(struct kset *s, const void *key)
{
	size_t i = kset_slot(s, key);

	return s->used[i] ? &s->vals[i] : NULL;
}

/* key's value, a new one (0) when key was not there: *added says so */
static uint32_t *kset_put(struct kset *s, const void *key, bool *added)
{
	size_t i = kset_slot(s, key);

	*added = !s->used[i];
	if (*added) {
		s->used[i] = 1;
		memcpy(s->keys[i], key, KEY_SIZE);
		s->vals[i] = 0;
		s->n++;
	}
	return &s->vals[i];
}

static void kset_clear(struct kset *s)
{
	memset(s->used, 0, s->cap);
	s->n = 0;
}

static bool kset_init(struct kset *s, size_t cap)
{
	s->cap = cap;
	s->n = 0;
	s->keys = calloc(cap, KEY_SIZE);
	s->vals = calloc(cap, sizeof(*s->vals));
	s->used = calloc(cap, 1);
	return s->keys && s->vals && s->used;
}

static void kset_free(struct kset *s)
{
	free(s->keys);
	free(s->vals);
	free(s->used);
	memset(s, 0, sizeof(*s));
}

/* What pw_stats should count (docs/datapath.md, "Maps"): TCP flows the
 * host opened, flows peers started, inbound FIN/RST ignored, first
 * fragments remembered and over their share, the host's other flows. */
struct ostats {
	__u64 ct_created, ct_in_created, ct_ignored, frags_tracked, frags_over_share, ct_dgram_created;
};

static struct ostats OS;

/* A flow's state as the docs name it: TCP SYN-SENT, ESTABLISHED, CLOSING;
 * another protocol not yet answered or answered (replied). */
/* TCP states are pw_ct_val's flags, as the kernel keeps them: 0 SYN-SENT,
 * PW_CT_REPLIED established, PW_CT_FIN and PW_CT_CLOSING besides */
enum { ST_NEW = 0, ST_REPLIED = PW_CT_REPLIED, ST_CLOSING = PW_CT_CLOSING, ST_FIN = PW_CT_FIN };
/* the mark of the host's side of a peer's flow (in pw_ct_dgram, opened by
 * the peer): monitor mode writes it on the host's answer to a datagram only
 * monitor mode let in; it is no flow of the host's, and the host's packets
 * on it drop as a revoked flow's */
#define ST_REVOKED PW_CT_REVOKED

/* the model's value of a flow: who opened it, its state */
static uint32_t ct_val(unsigned dir, unsigned st)
{
	return dir << 8 | st;
}

static bool echo_request(uint8_t proto, uint8_t type)
{
	return (proto == IPP_ICMP && type == 8) || (proto == IPP_ICMPV6 && type == 128);
}

static bool echo_reply(uint8_t proto, uint8_t type)
{
	return (proto == IPP_ICMP && type == 0) || (proto == IPP_ICMPV6 && type == 129);
}

/* The flow of a packet going dir, as this host sees it (docs/datapath.md,
 * "Connection tracking"): local and remote address, the ports for the
 * protocols whose header starts with them, ICMP echo by id (sport) with a
 * kind that says who sent the request. Both directions of a flow find the
 * same key. False when the packet belongs to no flow (ICMP but echo). */
static bool flow_key(struct pw_ct_key *k, unsigned dir, uint8_t fam, uint8_t proto, uint8_t type,
		     const uint8_t *src, const uint8_t *dst, uint16_t sport, uint16_t dport)
{
	bool out = dir == PW_DIR_OUT;

	memset(k, 0, sizeof(*k));
	if (is_icmp(proto)) {
		if (echo_request(proto, type))
			k->kind = out ? PW_CT_ECHO_OUT : PW_CT_ECHO_IN;
		else if (echo_reply(proto, type))
			k->kind = out ? PW_CT_ECHO_IN : PW_CT_ECHO_OUT;
		else
			return false;
		k->lport_be = htons(sport);
	} else if (port_hdr(proto)) {
		k->lport_be = htons(out ? sport : dport);
		k->rport_be = htons(out ? dport : sport);
	}
	memcpy(k->local, out ? src : dst, 16);
	memcpy(k->remote, out ? dst : src, 16);
	k->proto = proto;
	k->fam = fam;
	return true;
}

/* The table of a flow the host opened ("Connection tracking"): TCP's own
 * (pw_ct), or the one of every other protocol (pw_ct_dgram). */
static struct kset *host_table(uint8_t proto)
{
	return proto == IPP_TCP ? &CT : &CT_DGRAM;
}

/* A flow the host opened with key k (not a revoked flow's mark, which
 * only blocks), or NULL. */
static uint32_t *host_flow(const struct pw_ct_key *k)
{
	uint32_t *v = kset_get(host_table(k->proto), k);

	return v && *v != ct_val(PW_DIR_IN, ST_REVOKED) ? v : NULL;
}

static bool pkt_flow(struct pw_ct_key *k, const struct opkt *o, unsigned dir)
{
	return flow_key(k, dir, o->fam, o->proto, o->type, o->src, o->dst,
			is_icmp(o->proto) ? o->echo_id : o->sport, o->dport);
}

static void frag_key(struct pw_frag_key *k, const struct opkt *o, unsigned dir, uint8_t proto)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->src, o->src, 16);
	memcpy(k->dst, o->dst, 16);
	k->id = o->frag_id;
	k->proto = proto;
	k->fam = o->fam;
	k->dir = (uint8_t)dir;
}

/* ---- the oracle's verdict ------------------------------------------------------ */

struct expect {
	int verdict, reason;
	uint32_t rule;
};

/* What a run went through of steps 4-6 and "Fragments" (printed at the
 * end; a full run must reach each). */
struct paths {
	unsigned long tcp_listener[2];	/* egress TCP from a port an in rule allows: bare SYN, other */
	unsigned long udp_in_port[2];	/* egress UDP from a port the in rules allow: no pw_ct_in flow, one */
	unsigned long echo_reply_out[2];	/* egress echo replies: to no request let in, to one */
	unsigned long reply_out[4];	/* egress replies: UDP, DCCP/SCTP/UDP-Lite, ICMP echo, other */
	unsigned long tcp_moves[4];	/* the host's segment moved a pw_ct flow: SYN-SENT again, established, reset, half-closed */
	unsigned long port_proto[2];	/* DCCP, SCTP, UDP-Lite read: whole, first fragments */
	unsigned long related_out[2];	/* the host's ICMP errors related: by the in rules, by a flow it opened */
	unsigned long flow_out_after_drop;	/* the out rules dropped a later packet of a pw_ct flow */
	unsigned long mon_answer;	/* monitor mode: the host's answers on a peer's flow it let in */
};

static struct paths PATHS;

static char group_of(const struct opkt *o, unsigned *item, bool local_port)
{
	switch (o->proto) {
	case IPP_TCP:
	case IPP_UDP:
		*item = local_port ? o->sport : o->dport;
		return o->proto == IPP_TCP ? 'T' : 'U';
	case IPP_ICMP:
		*item = o->type;
		return 'I';
	case IPP_ICMPV6:
		*item = o->type;
		return '6';
	default:
		*item = o->proto;
		return 'P';
	}
}

static bool bare_syn(const struct opkt *o)
{
	return o->proto == IPP_TCP && (o->flags & 0x12) == 0x02;
}

/* An inbound ICMP error related to a flow the host opened, or to an
 * allowed reply of the host's (step 6): on a flow a peer started
 * (docs/policy.md: "the errors peers and routers send about the host's
 * packets of such a flow"), or, for TCP, a segment the in rules allow a
 * local listener to send (the quote holds no flags: steps 4 and 6). */
static bool related(const struct pw_policy *pol, const struct opkt *o)
{
	struct pw_ct_key k;
	uint8_t action;

	if (!o->q_ok || memcmp(o->q_src, o->dst, 16))
		return false;	/* not read, or not a packet this host sent */
	if (flow_key(&k, PW_DIR_OUT, o->fam, o->q_proto, o->q_type, o->q_src, o->q_dst, o->q_sport,
		     o->q_dport) &&
	    (host_flow(&k) || kset_get(&CT_IN, &k)))
		return true;
	if (o->q_proto != IPP_TCP)
		return false;	/* the host's UDP goes out only on a flow (pw_ct_dgram or pw_ct_in) */
	oracle_decide(pol, PW_DIR_IN, 'T', o->q_sport, o->fam, o->q_dst, &action);
	return action == PW_PASS;
}

/* An outbound ICMP error, the host's own, related to what it received
 * (step 6): from the quoted packet's destination (the host) back to its
 * source, about a packet the in rules let in (every flow a peer started is
 * one) or the peer's packet of a flow the host opened. Nothing changes. */
static bool related_out(const struct pw_policy *pol, const struct opkt *o)
{
	struct opkt in = *o;
	struct pw_ct_key k;
	unsigned item;
	uint8_t action;

	if (!o->q_ok || memcmp(o->q_dst, o->src, 16) || memcmp(o->q_src, o->dst, 16))
		return false;	/* not read, not a packet the host got, or not to its sender */
	in.proto = o->q_proto;
	in.type = o->q_type;
	in.sport = o->q_sport;
	in.dport = o->q_dport;
	char g = group_of(&in, &item, false);
	oracle_decide(pol, PW_DIR_IN, g, item, o->fam, o->q_src, &action);
	if (action == PW_PASS) {
		PATHS.related_out[0]++;
		return true;
	}
	if (flow_key(&k, PW_DIR_IN, o->fam, o->q_proto, o->q_type, o->q_src, o->q_dst, o->q_sport,
		     o->q_dport) && host_flow(&k)) {
		PATHS.related_out[1]++;
		return true;
	}
	return false;
}

/* A first fragment passed: remembered, unless its peer (the source of
 * what comes in, the destination of what goes out) has FRAG_SHARE
 * remembered already ("Fragments"). */
static void remember_first(const struct opkt *o, unsigned dir)
{
	struct pw_frag_src_key peer;
	uint8_t key[KEY_SIZE] = { 0 };
	struct pw_frag_key k;
	bool added;

	if (o->frag != F_FIRST)
		return;
	memset(&peer, 0, sizeof(peer));
	memcpy(peer.peer, dir == PW_DIR_IN ? o->src : o->dst, 16);
	peer.fam = o->fam;
	peer.dir = (uint8_t)dir;
	memcpy(key, &peer, sizeof(peer));
	uint32_t *n = kset_put(&FRAG_SRC, key, &added);
	if (*n >= FRAG_SHARE) {
		OS.frags_over_share++;
		return;
	}
	(*n)++;
	/* every fragment names the protocol after the fragment header (IPv6)
	 * or in the IPv4 header: the datagram's key */
	frag_key(&k, o, dir, o->frag_proto);
	kset_put(&FRAGS, &k, &added);
	OS.frags_tracked++;
}

/* The TCP state after the host sent flags fl ("Which packets change which
 * state"): a bare SYN starts afresh; an RST closes an established flow (in
 * SYN-SENT it changes nothing); a FIN half-closes; an ACK without SYN
 * establishes, unless the flow was reset. */
static unsigned tcp_after(unsigned st, uint8_t fl)
{
	if ((fl & 0x12) == 0x02)
		return ST_NEW;
	if (fl & 0x04)
		return st & ST_REPLIED ? st | ST_CLOSING : st;
	if (fl & 0x01)
		return st | ST_FIN;
	if ((fl & 0x12) == 0x10 && !(st & ST_CLOSING))
		return st | ST_REPLIED;
	return st;
}

/* Which timeout a TCP state has, for the coverage counts: 0 SYN-SENT,
 * 1 established, 2 reset, 3 half-closed. */
static unsigned tcp_class(unsigned st)
{
	return st & ST_CLOSING ? 2 : st & ST_FIN ? 3 : st & ST_REPLIED ? 1 : 0;
}

/* The host's packet the out rules let pass: its flow opens or is
 * refreshed in the table of its protocol, TCP's state moves. The host's
 * echo reply opens nothing. True when the key is a revoked flow's mark:
 * the packet drops, nothing changes. */
static bool host_opened(const struct opkt *o)
{
	struct pw_ct_key k;
	bool added;

	if (!pkt_flow(&k, o, PW_DIR_OUT) || k.kind == PW_CT_ECHO_IN)
		return false;
	uint32_t *v = kset_get(host_table(o->proto), &k);
	if (v && *v == ct_val(PW_DIR_IN, ST_REVOKED))
		return true;
	v = kset_put(host_table(o->proto), &k, &added);
	if (added) {
		*v = ct_val(PW_DIR_OUT, ST_NEW);
		if (o->proto == IPP_TCP)
			OS.ct_created++;
		else
			OS.ct_dgram_created++;
	}
	if (o->proto != IPP_TCP)
		return false;
	unsigned was = *v & 0xff, st = tcp_after(was, o->flags);
	PATHS.tcp_moves[tcp_class(st)] += !added && tcp_class(st) != tcp_class(was);
	*v = ct_val(PW_DIR_OUT, st);
	return false;
}

enum { MON_NONE, MON_ANSWER, MON_UNTRACKED };

/* Monitor mode, egress, a packet whose local port the in rules refuse
 * (pw_mon_answer): TCP other than a bare SYN on no tracked connection is
 * left untracked; another protocol's answer on a peer's flow in pw_ct_in
 * (noted at its would-be drop), not an echo, is a reply and marks the
 * host's side as a revoked flow's; on a flow of the host's own it is the
 * host's packet as any. */
static int mon_answer(const struct opkt *o)
{
	struct pw_ct_key k;
	bool added;

	if (!pkt_flow(&k, o, PW_DIR_OUT))
		return MON_NONE;
	if (o->proto == IPP_TCP)
		return bare_syn(o) || kset_get(&CT, &k) ? MON_NONE : MON_UNTRACKED;
	if (k.kind != PW_CT_FLOW || !kset_get(&CT_IN, &k) || host_flow(&k))
		return MON_NONE;	/* an echo; no peer's flow; the host's own */
	uint32_t *v = kset_put(&CT_DGRAM, &k, &added);
	if (added)
		*v = ct_val(PW_DIR_IN, ST_REVOKED);
	PATHS.mon_answer++;
	return MON_ANSWER;
}

/* A peer's packet the policy let in, not TCP: its pw_ct_in flow opens. The
 * reply to the host's own echo request opens nothing. */
static void peer_opened(const struct opkt *o)
{
	struct pw_ct_key k;
	bool added;

	if (o->proto == IPP_TCP || !pkt_flow(&k, o, PW_DIR_IN) || k.kind == PW_CT_ECHO_OUT)
		return;
	uint32_t *v = kset_put(&CT_IN, &k, &added);
	if (added) {
		*v = ct_val(PW_DIR_IN, ST_NEW);
		OS.ct_in_created++;
	}
}

/* Step 6, an inbound packet the policy drops: the reply of a flow the host
 * opened (TCP's state does not move, a FIN or RST on a flow not closing is
 * counted as ignored; another protocol's flow is marked replied), or an
 * ICMP error related to one or to a listener's reply. */
static void second_chance(const struct pw_policy *pol, const struct opkt *o, struct expect *e)
{
	struct pw_ct_key k;
	uint32_t *v;

	if (pkt_flow(&k, o, PW_DIR_IN) && (v = host_flow(&k))) {
		e->verdict = PW_PASS;
		e->reason = PW_R_REPLY;
		if (o->proto != IPP_TCP)
			*v = ct_val(PW_DIR_OUT, ST_REPLIED);
		else if ((o->flags & 0x05) && !(*v & ST_CLOSING))
			OS.ct_ignored++;
	} else if (is_icmp(o->proto) && icmp_error_type(o->fam, o->type) && related(pol, o)) {
		e->verdict = PW_PASS;
		e->reason = PW_R_RELATED;
	}
}

/* Step 6 outbound, a packet the out rules drop, not a bare SYN: a later
 * packet of a flow the host opened goes on (the peer's learned address
 * may have expired, docs/dns.md), and moves its state as any of the
 * host's packets. */
static void second_chance_out(const struct opkt *o, struct expect *e)
{
	struct pw_ct_key k;

	if (!pkt_flow(&k, o, PW_DIR_OUT) || k.kind == PW_CT_ECHO_IN || !host_flow(&k))
		return;
	e->verdict = PW_PASS;
	e->reason = PW_R_REPLY;
	PATHS.flow_out_after_drop++;
	host_opened(o);
}

/* coverage of step 4 for protocols other than TCP */
static void note_egress(const struct pw_policy *pol, const struct opkt *o, bool flow)
{
	uint8_t action = PW_DROP;

	if (flow)
		PATHS.reply_out[o->proto == IPP_UDP ? 0 : port_hdr(o->proto) ? 1 : is_icmp(o->proto) ? 2 : 3]++;
	if (echo_reply(o->proto, o->type))
		PATHS.echo_reply_out[flow]++;
	if (o->proto == IPP_UDP && oracle_decide(pol, PW_DIR_IN, 'U', o->sport, o->fam, o->dst, &action) &&
	    action == PW_PASS)
		PATHS.udp_in_port[flow]++;
}

/* Would the in rules let in the packet o answers: the peer's, to o's
 * source port (an echo reply answers an echo request)? */
static bool in_rules_let_in(const struct pw_policy *pol, const struct opkt *o)
{
	struct opkt r = *o;
	unsigned item;
	uint8_t action;

	if (is_icmp(o->proto) && o->type != (o->fam == PW_FAM_V4 ? 0 : 129))
		return false;	/* only echo replies answer anything */
	memcpy(r.src, o->dst, 16);
	memcpy(r.dst, o->src, 16);
	r.sport = o->dport;
	r.dport = o->sport;
	if (is_icmp(o->proto))
		r.type = o->fam == PW_FAM_V4 ? 8 : 128;
	char g = group_of(&r, &item, false);
	oracle_decide(pol, PW_DIR_IN, g, item, r.fam, r.src, &action);
	return action == PW_PASS;
}

/* Step 4, egress: TCP other than a bare SYN passes under the in rule (or
 * default in allow) that allows its source port for its destination; any other
 * protocol passes as the reply of a flow the peer started (pw_ct_in) while
 * the in rules let in what it answers. */
static bool egress_reply(const struct pw_policy *pol, const struct opkt *o, struct expect *e)
{
	struct pw_ct_key k;
	uint8_t action;

	if (o->proto == IPP_TCP) {
		uint32_t rule = oracle_decide(pol, PW_DIR_IN, 'T', o->sport, o->fam, o->dst, &action);
		if (action != PW_PASS)
			return false;	/* neither an in rule nor default in allow */
		PATHS.tcp_listener[!bare_syn(o)]++;
		if (bare_syn(o))
			return false;	/* a connect() from a listener's port: new */
		*e = (struct expect){ PW_PASS, rule ? PW_R_ALLOW_RULE : PW_R_ALLOW_DEFAULT, rule };
		return true;
	}
	bool flow = pkt_flow(&k, o, PW_DIR_OUT) && kset_get(&CT_IN, &k) && in_rules_let_in(pol, o);
	note_egress(pol, o, flow);
	if (!flow)
		return false;
	*e = (struct expect){ PW_PASS, PW_R_REPLY, 0 };
	return true;
}

/* Steps 5 and 6: the policy, the flow it opens, or the second chance. */
static struct expect o_policy(const struct pw_policy *pol, unsigned dir, const struct opkt *o)
{
	struct expect e;
	unsigned item;
	uint8_t action;
	char g = group_of(o, &item, false);

	e.rule = oracle_decide(pol, dir, g, item, o->fam, dir == PW_DIR_IN ? o->src : o->dst, &action);
	e.verdict = action;
	bool monitor = pol->mode == PW_MODE_MONITOR;
	if (action == PW_PASS) {
		e.reason = e.rule ? PW_R_ALLOW_RULE : PW_R_ALLOW_DEFAULT;
		int m = dir == PW_DIR_OUT && monitor ? mon_answer(o) : MON_NONE;
		if (m == MON_ANSWER)
			e = (struct expect){ PW_PASS, PW_R_REPLY, 0 };
		else if (dir == PW_DIR_OUT && m == MON_NONE && host_opened(o))
			e = (struct expect){ PW_DROP, PW_R_DROP_REVOKED, e.rule };
		else if (dir == PW_DIR_IN)
			peer_opened(o);
		return e;
	}
	e.reason = e.rule ? PW_R_DROP_DENY : PW_R_DROP_DEFAULT;
	if (dir == PW_DIR_IN && !bare_syn(o)) {	/* a bare SYN is never a reply */
		second_chance(pol, o, &e);
	} else if (dir == PW_DIR_OUT && is_icmp(o->proto) && icmp_error_type(o->fam, o->type)) {
		if (related_out(pol, o)) {	/* an error belongs to no flow of its own */
			e.verdict = PW_PASS;
			e.reason = PW_R_RELATED;
		}
	} else if (dir == PW_DIR_OUT && !bare_syn(o)) {	/* a bare SYN goes on no flow */
		second_chance_out(o, &e);
	}
	/* monitor mode passes the drop: its flow is kept with its origin */
	if (e.verdict == PW_DROP && monitor) {
		if (dir == PW_DIR_IN)
			peer_opened(o);
		else if (mon_answer(o) == MON_NONE)
			host_opened(o);
	}
	return e;
}

/* The verdict before monitor mode, and the reason and rule. */
static struct expect o_decide(const struct pw_policy *pol, unsigned dir, const struct opkt *o)
{
	struct expect e = { PW_DROP, PW_R_DROP_MALFORMED, 0 };
	struct pw_frag_key fk;

	if (o->res == O_NON_IP)
		return (struct expect){ PW_PASS, PW_R_NON_IP, 0 };
	if (o->res == O_BAD)
		return e;
	if (o->frag == F_LATER) {
		frag_key(&fk, o, dir, o->frag_proto);
		if (kset_get(&FRAGS, &fk))
			return (struct expect){ PW_PASS, PW_R_FRAGMENT_OK, 0 };
		return (struct expect){ PW_DROP, PW_R_DROP_FRAGMENT, 0 };
	}
	if (o->proto == IPP_DCCP || o->proto == IPP_SCTP || o->proto == IPP_UDPLITE)
		PATHS.port_proto[o->frag == F_FIRST]++;
	/* whole ND passes; fragmented ND gets no free pass (docs step 3) */
	if (o->proto == IPP_ICMPV6 && o->type >= PW_ICMPV6_ND_FIRST && o->type <= PW_ICMPV6_ND_LAST &&
	    o->frag == F_NONE)
		return (struct expect){ PW_PASS, PW_R_NEIGHBOR, 0 };
	if (!(dir == PW_DIR_OUT && egress_reply(pol, o, &e)))
		e = o_policy(pol, dir, o);
	if (e.verdict == PW_PASS)
		remember_first(o, dir);
	return e;
}

static bool rule_reason(int reason)
{
	return reason == PW_R_ALLOW_RULE || reason == PW_R_ALLOW_DEFAULT || reason == PW_R_DROP_DEFAULT ||
	       reason == PW_R_DROP_DENY;
}

/* ---- the kernel side ------------------------------------------------------------ */

struct run {
	struct pw_dp dp;
	bool up;
	uint32_t half;			/* in force */
	uint32_t generation;
	struct pw_policy pol;
	bool have_pol;
	struct pw_config cfg;
	struct pw_counter *pcpu;	/* one per-CPU value */
	unsigned long classes, shared;	/* peer classes; those whose trie shape an earlier class has */
	__u64 reasons[PW_DIR_COUNT * PW_R_COUNT];	/* what the counters should say */
	__u64 rules[RULE_CAPACITY][PW_DIR_COUNT];
	unsigned long expected[PW_DIR_COUNT][PW_R_COUNT];
	unsigned reports;
	unsigned long failures, packets, clears;
	const char *policy_text;
	unsigned policy_idx;
};

static struct run R;

static int pcpu_packets(int fd, uint32_t key, __u64 *out)
{
	__u64 sum = 0;

	if (bpf_map_lookup_elem(fd, &key, R.pcpu))
		return -errno;
	for (int c = 0; c < R.dp.ncpus; c++)
		sum += R.pcpu[c].packets;
	*out = sum;
	return 0;
}

static uint32_t rule_key(uint32_t rule, unsigned dir)
{
	return R.half * 2 * R.dp.rule_capacity + rule * 2 + dir;
}

/* Read every counter into the model (after a disagreement, or to compare). */
static int read_counters(__u64 reasons[PW_DIR_COUNT * PW_R_COUNT], __u64 rules[RULE_CAPACITY][PW_DIR_COUNT])
{
	struct pw_counter c[PW_DIR_COUNT * PW_R_COUNT];

	if (pw_dp_reason_counts(&R.dp, c))
		return -1;
	for (unsigned k = 0; k < PW_DIR_COUNT * PW_R_COUNT; k++)
		reasons[k] = c[k].packets;
	for (uint32_t id = 0; id < RULE_CAPACITY; id++)
		for (unsigned dir = 0; dir < PW_DIR_COUNT; dir++)
			if (pcpu_packets(R.dp.rule_stats_fd, rule_key(id, dir), &rules[id][dir]))
				return -1;
	return 0;
}

/* What the kernel counted for the last packet: the reason (and rule) whose
 * counter moved past the model. Resynchronises the model. */
static void kernel_counted(unsigned dir, int *reason, int *rule)
{
	__u64 reasons[PW_DIR_COUNT * PW_R_COUNT], rules[RULE_CAPACITY][PW_DIR_COUNT];

	*reason = *rule = -1;
	if (read_counters(reasons, rules)) {
		FAILF("reading the counters failed");
		return;
	}
	for (int k = 0; k < PW_R_COUNT; k++)
		if (reasons[dir * PW_R_COUNT + (unsigned)k] != R.reasons[dir * PW_R_COUNT + (unsigned)k])
			*reason = k;
	for (int id = 0; id < RULE_CAPACITY; id++)
		if (rules[id][dir] != R.rules[id][dir])
			*rule = id;
	memcpy(R.reasons, reasons, sizeof(reasons));
	memcpy(R.rules, rules, sizeof(rules));
}

/* Collect the keys of a hash map, each zero-padded to KEY_SIZE bytes. */
static uint8_t *map_keys(int fd, size_t key_size, size_t *n)
{
	size_t cap = 1024;
	uint8_t *keys = malloc(cap * KEY_SIZE), cur[KEY_SIZE];
	void *prev = NULL;

	*n = 0;
	memset(cur, 0, sizeof(cur));
	while (keys && key_size <= KEY_SIZE && bpf_map_get_next_key(fd, prev, cur) == 0) {
		if (*n == cap) {
			uint8_t *k = realloc(keys, 2 * cap * KEY_SIZE);
			if (!k)
				break;
			keys = k;
			cap *= 2;
		}
		memcpy(keys + *n * KEY_SIZE, cur, KEY_SIZE);
		prev = keys + *n * KEY_SIZE;
		(*n)++;
	}
	return keys;
}

/* A kernel map and the oracle's model of it. value: the model's number
 * for the kernel's value (NULL: keys alone are compared). */
struct model_map {
	const char *name;
	int fd;
	struct kset *s;
	size_t key_size;
	uint32_t (*value)(const uint8_t *key, const uint8_t *val);
};

/* pw_ct, pw_ct_in: who opened the flow, and its state as the docs name it
 * (portwall.h's flags: TCP CLOSING over REPLIED = ESTABLISHED over
 * SYN-SENT; other protocols REPLIED or not, never CLOSING) */
static uint32_t ct_value(const uint8_t *key, const uint8_t *val)
{
	struct pw_ct_key k;
	struct pw_ct_val v;
	unsigned st;

	memcpy(&k, key, sizeof(k));
	memcpy(&v, val, sizeof(v));
	if (k.proto == IPP_TCP)
		st = v.flags;
	else
		st = v.flags == PW_CT_REVOKED ? ST_REVOKED
		     : v.flags & ~PW_CT_REPLIED ? 0xff : v.flags & PW_CT_REPLIED ? ST_REPLIED : ST_NEW;
	return ct_val(v.dir, st);
}

/* pw_frag_src: first fragments the peer has remembered */
static uint32_t share_value(const uint8_t *key, const uint8_t *val)
{
	struct pw_frag_src_val v;

	(void)key;
	memcpy(&v, val, sizeof(v));
	return v.count;
}

/* How many of the kernel's keys have another value than the model's; the
 * first is printed. */
static size_t values_differ(const struct model_map *m, const uint8_t *keys, size_t n)
{
	uint8_t val[64];
	size_t bad = 0;

	for (size_t i = 0; m->value && i < n; i++) {
		const uint8_t *key = keys + i * KEY_SIZE;
		uint32_t *want = kset_get(m->s, key);
		if (!want || bpf_map_lookup_elem(m->fd, key, val))
			continue;
		uint32_t got = m->value(key, val);
		if (got == *want || bad++)
			continue;
		char hex[2 * KEY_SIZE + 1];
		for (size_t j = 0; j < m->key_size; j++)
			snprintf(hex + 2 * j, 3, "%02x", key[j]);
		FAILF("%s: key %s holds 0x%x, the oracle 0x%x", m->name, hex, got, *want);
	}
	return bad;
}

/* The kernel's map holds exactly the model's keys and values (check),
 * then empty both (clear). */
static void sync_map(const struct model_map *m, bool check, bool clear)
{
	size_t n;
	uint8_t *keys = map_keys(m->fd, m->key_size, &n);
	size_t missing = 0;

	if (!keys) {
		FAILF("listing %s failed", m->name);
		return;
	}
	for (size_t i = 0; check && i < n; i++)
		missing += !kset_get(m->s, keys + i * KEY_SIZE);
	if (check && (missing || n != m->s->n)) {
		FAILF("%s: the kernel holds %zu keys (%zu unknown to the oracle), the oracle %zu", m->name, n,
		      missing, m->s->n);
		R.failures++;
	}
	if (check && values_differ(m, keys, n))
		R.failures++;
	for (size_t i = 0; clear && i < n; i++)
		bpf_map_delete_elem(m->fd, keys + i * KEY_SIZE);
	if (clear)
		kset_clear(m->s);
	free(keys);
}

static void sync_state(bool check, bool clear)
{
	const struct model_map maps[] = {
		{ "pw_ct", R.dp.ct_fd, &CT, sizeof(struct pw_ct_key), ct_value },
		{ "pw_ct_dgram", R.dp.ct_dgram_fd, &CT_DGRAM, sizeof(struct pw_ct_key), ct_value },
		{ "pw_ct_in", R.dp.ct_in_fd, &CT_IN, sizeof(struct pw_ct_key), ct_value },
		{ "pw_frags", R.dp.frags_fd, &FRAGS, sizeof(struct pw_frag_key), NULL },
		{ "pw_frag_src", R.dp.frag_src_fd, &FRAG_SRC, sizeof(struct pw_frag_src_key), share_value },
	};

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		sync_map(&maps[i], check, clear);
	R.clears += clear;
}

static bool state_full(void)
{
	return CT.n > CT_MAX || CT_DGRAM.n > CT_DGRAM_MAX || CT_IN.n > CT_IN_MAX || FRAGS.n > FRAG_MAX ||
	       FRAG_SRC.n > FRAG_SRC_MAX;
}

/* pw_stats says what the model counted (check); the model takes the
 * kernel's counts (after a disagreement). */
static void sync_stats(bool check)
{
	struct pw_stats st;

	if (pw_dp_stats(&R.dp, &st)) {
		FAILF("reading pw_stats failed");
		return;
	}
	struct ostats k = { st.ct_created, st.ct_in_created, st.ct_ignored, st.frags_tracked,
			    st.frags_over_share, st.ct_dgram_created };
	__u64 removed = st.ct_removed + st.ct_dgram_removed + st.ct_in_removed;
	if (check && (memcmp(&k, &OS, sizeof(k)) || removed)) {
		FAILF("policy %u: pw_stats ct_created %llu ct_dgram_created %llu ct_in_created %llu ct_ignored %llu "
		      "frags_tracked %llu frags_over_share %llu removed %llu; the oracle %llu %llu %llu %llu %llu "
		      "%llu 0", R.policy_idx, k.ct_created, k.ct_dgram_created, k.ct_in_created, k.ct_ignored,
		      k.frags_tracked, k.frags_over_share, removed, OS.ct_created, OS.ct_dgram_created,
		      OS.ct_in_created, OS.ct_ignored, OS.frags_tracked, OS.frags_over_share);
		R.failures++;
	}
	OS = k;
}

/* ---- reporting ------------------------------------------------------------------ */

static const char *vname(int v)
{
	return v == PW_PASS ? "PASS" : v == PW_DROP ? "DROP" : "?";
}

static const char *rname(int r)
{
	return r >= 0 && r < PW_R_COUNT ? pw_reason_names[r] : "none";
}

static void print_addr(FILE *o, uint8_t fam, const uint8_t *a)
{
	char s[INET6_ADDRSTRLEN];

	inet_ntop(fam == PW_FAM_V4 ? AF_INET : AF_INET6, a, s, sizeof(s));
	fprintf(o, fam == PW_FAM_V4 ? "%s" : "[%s]", s);
}

static void print_parse(const struct opkt *o)
{
	static const char *const fr[] = { "", " frag first", " frag later", "" };

	if (o->res != O_OK) {
		fprintf(stderr, "      oracle parse: %s\n", o->res == O_BAD ? "malformed" : "non-ip");
		return;
	}
	fprintf(stderr, "      oracle parse: proto %u ", o->proto);
	print_addr(stderr, o->fam, o->src);
	fprintf(stderr, ":%u -> ", o->sport);
	print_addr(stderr, o->fam, o->dst);
	fprintf(stderr, ":%u flags 0x%02x type %u id %u%s frag-id %u frag-proto %u", o->dport, o->flags, o->type,
		o->echo_id, fr[o->frag & 3], o->frag_id, o->frag_proto);
	if (o->q_ok) {
		fprintf(stderr, " quote proto %u ", o->q_proto);
		print_addr(stderr, o->fam, o->q_src);
		fprintf(stderr, ":%u -> ", o->q_sport);
		print_addr(stderr, o->fam, o->q_dst);
		fprintf(stderr, ":%u", o->q_dport);
	}
	fputc('\n', stderr);
}

static void report(unsigned dir, const uint8_t *b, size_t len, const struct opkt *o, const struct expect *e,
		   int verdict, int reason, int rule)
{
	R.failures++;
	pw_test_failed = 1;
	if (++R.reports > MAX_REPORTS)
		return;
	fprintf(stderr, "    disagreement %u: policy %u, packet %lu, dir %s, %zu bytes\n", R.reports,
		R.policy_idx, R.packets, dir == PW_DIR_IN ? "in" : "out", len);
	fprintf(stderr, "      kernel: %s %s", vname(verdict), rname(reason));
	fprintf(stderr, rule >= 0 ? " rule %d\n" : "\n", rule);
	fprintf(stderr, "      oracle: %s %s", vname(e->verdict), rname(e->reason));
	fprintf(stderr, rule_reason(e->reason) ? " rule %u\n" : "\n", e->rule);
	print_parse(o);
	fprintf(stderr, "      frame:");
	for (size_t i = 0; i < len; i++)
		fprintf(stderr, "%s%02x", i % 32 ? "" : "\n        ", b[i]);
	fprintf(stderr, "\n      policy:\n%s", R.policy_text);
}

/* ---- one packet -------------------------------------------------------------------- */

static struct desc pool[512];
static unsigned npool;
static struct desc firsts[128];
static unsigned nfirsts;

/* What the generator made of the kinds docs/datapath.md added: DCCP, SCTP,
 * UDP-Lite (short headers, fragments), the host as a server, floods of
 * first fragments (printed at the end). */
struct gen_count {
	unsigned long port_proto[3];	/* DCCP, SCTP, UDP-Lite frames */
	unsigned long port_short;	/* of them, with a header too short */
	unsigned long port_frags[2];	/* of them, first and later fragments */
	unsigned long listener[2];	/* the host's packet unasked; a peer's packet with the answer next */
	unsigned long bursts, burst_frags;
};

static struct gen_count GEN;
/* the host's answer to the last packet, made next */
static struct desc answer;
static bool have_answer;
/* a flood of first fragments: copies of burst (a first fragment that
 * passed, passed_first), each a datagram of its own */
static struct desc burst, passed_first;
static unsigned burst_left;
static bool have_passed_first;

static void remember_desc(const struct desc *d)
{
	pool[npool++ % 512] = *d;
	if (d->frag == F_FIRST)
		firsts[nfirsts++ % 128] = *d;
}

static const struct desc *from_pool(void)
{
	return npool ? &pool[rnd(npool < 512 ? npool : 512)] : NULL;
}

/* One peer's first fragments past its share of pw_frags ("Fragments").
 * The state is emptied first: the peer's count starts at 0 and pw_frags
 * has room for its share. */
static void start_burst(void)
{
	sync_state(true, true);
	burst = passed_first;
	burst_left = FRAG_SHARE + 50 + rnd(200);
	GEN.bursts++;
}

static void gen_burst(struct desc *d)
{
	*d = burst;
	d->frag_id = burst.frag_id + burst_left;
	if (d->fam == PW_FAM_V4)
		d->frag_id &= 0xffff;
	burst_left--;
	GEN.burst_frags++;
}

static void count_gen(const struct desc *d)
{
	unsigned k = d->proto == IPP_DCCP ? 0 : d->proto == IPP_SCTP ? 1 : 2;

	if (d->proto != IPP_DCCP && d->proto != IPP_SCTP && d->proto != IPP_UDPLITE)
		return;
	GEN.port_proto[k]++;
	GEN.port_short += d->frag != F_LATER && d->l4_len < port_hdr(d->proto);
	if (d->frag == F_FIRST || d->frag == F_LATER)
		GEN.port_frags[d->frag == F_LATER]++;
}

/* A packet of the kinds that make the model's state: fresh, the host as a
 * server, replies, repeats, ICMP errors, later fragments. */
static void gen_desc(struct desc *d, unsigned r)
{
	const struct desc *p = from_pool();

	if (r < 40 || !p) {
		gen_fresh(d);
	} else if (r < 48 && H.nlisten) {
		have_answer = gen_listener(d, &answer);
		GEN.listener[have_answer]++;
	} else if (r < 48) {
		gen_fresh(d);
	} else if (r < 65) {
		gen_reply(d, p);
	} else if (r < 70) {
		gen_repeat(d, p);
	} else if (r < 82) {
		gen_error(d, p);
	} else if (nfirsts) {
		gen_later(d, &firsts[rnd(nfirsts < 128 ? nfirsts : 128)]);
	} else {
		gen_fresh(d);
	}
}

/* Make one frame into f, described by d; returns whether f is d as it is
 * (not mutated, nor random). */
static bool gen_packet(struct frame *f, struct desc *d)
{
	unsigned r = rnd(100);

	if (!burst_left && have_passed_first && rnd(BURST_EVERY) == 0)
		start_burst();
	memset(d, 0, sizeof(*d));
	if (have_answer) {
		*d = answer;
		have_answer = false;
	} else if (burst_left && pct(50)) {
		gen_burst(d);	/* never mutated: every one is to count */
		build(d, f);
		return true;
	} else if (r < 5) {
		if (r < 3)
			build_non_ip(f);
		else
			build_garbage(f);
		d->dir = (uint8_t)rnd(2);
		return false;
	} else {
		gen_desc(d, r);
	}
	build(d, f);
	count_gen(d);
	if (pct(30)) {
		mutate(f);
		return false;
	}
	remember_desc(d);
	return true;
}

/* BPF_PROG_TEST_RUN for tc refuses an untagged IPv4 / IPv6 frame shorter
 * than the fixed IP header (it reads the header to set the skb up); such
 * frames go through the XDP program instead. */
static bool tc_takes(const struct frame *f)
{
	uint16_t et = rd16(f->b, 12);

	return !(et == 0x0800 && f->len < 14 + 20) && !(et == 0x86dd && f->len < 14 + 40);
}

/* The model's counters say what the kernel should have counted for the
 * packet: one lookup confirms it; anything else reads them all. *reason,
 * *rule: what the kernel counted. */
static bool counted_as_expected(unsigned dir, const struct expect *e, int *reason, int *rule)
{
	uint32_t rk = dir * PW_R_COUNT + (uint32_t)e->reason;
	__u64 now = 0, rnow = 0;

	*reason = e->reason;
	*rule = rule_reason(e->reason) ? (int)e->rule : -1;
	bool ok = pcpu_packets(R.dp.reason_stats_fd, rk, &now) == 0 && now == R.reasons[rk] + 1;
	if (ok && *rule >= 0)
		ok = pcpu_packets(R.dp.rule_stats_fd, rule_key((uint32_t)*rule, dir), &rnow) == 0 &&
		     rnow == R.rules[*rule][dir] + 1;
	if (ok) {
		R.reasons[rk]++;
		if (*rule >= 0)
			R.rules[*rule][dir]++;
		return true;
	}
	kernel_counted(dir, reason, rule);
	if (!rule_reason(*reason))
		*rule = -1;
	return false;
}

static void one_packet(void)
{
	static struct frame f;
	struct desc d;
	struct opkt o;
	int verdict, reason, rule;

	if (state_full())
		sync_state(true, true);
	bool whole = gen_packet(&f, &d);
	unsigned dir = d.dir == PW_DIR_OUT && tc_takes(&f) ? PW_DIR_OUT : PW_DIR_IN;
	o_parse(f.b, f.len, &o);
	struct expect e = o_decide(&R.pol, dir, &o);
	if (whole && dir == d.dir && o.frag == F_FIRST && e.verdict == PW_PASS) {
		passed_first = d;	/* one to flood with */
		have_passed_first = true;
	}
	if (R.pol.mode == PW_MODE_MONITOR)
		e.verdict = PW_PASS;	/* counted and reported, but passes */
	R.expected[dir][e.reason]++;
	R.packets++;
	if (pw_dp_run(&R.dp, dir, f.b, f.len, &verdict)) {
		FAILF("BPF_PROG_TEST_RUN failed on a %zu-byte frame: %s", f.len, strerror(errno));
		R.failures++;
		return;
	}
	if (!counted_as_expected(dir, &e, &reason, &rule) || verdict != e.verdict) {
		report(dir, f.b, f.len, &o, &e, verdict, reason, rule);
		/* the two states may differ now: start both afresh */
		sync_state(false, true);
		sync_stats(false);
	}
}

/* ---- policies ------------------------------------------------------------------------ */

static void tweak_config(struct pw_config *cfg)
{
	/* nothing expires during a run: the oracle does not model time */
	cfg->ct_tcp_syn = cfg->ct_tcp_est = cfg->ct_tcp_close = TIMEOUT_S;
	cfg->ct_udp = cfg->ct_icmp = cfg->ct_other = cfg->frag_timeout = TIMEOUT_S;
}

/* Parse, compile and put a policy in force: the first into half 0 of a new
 * datapath, the next ones into the half not in force. */
static int load_policy(const char *text)
{
	struct pw_diag d = { 0 };
	struct pw_compiled c = { 0 };
	char err[512];
	int rc = -1;

	if (R.have_pol)
		pw_policy_free(&R.pol);
	R.have_pol = false;
	if (pw_policy_parse_text("diff.policy", text, strlen(text), &R.pol, &d) ||
	    pw_compile(&R.pol, &c, &d)) {
		FAILF("the generated policy is invalid: %s\n%s", d.error, text);
		pw_diag_free(&d);
		pw_policy_free(&R.pol);
		return -1;
	}
	R.have_pol = true;
	pw_diag_free(&d);
	for (uint32_t k = 0, seen = 0; k < c.nclasses; k++) {	/* shapes come in class order */
		R.classes++;
		R.shared += c.classes[k].shape <= seen;
		seen = c.classes[k].shape > seen ? c.classes[k].shape : seen;
	}
	if (!R.up) {
		struct pw_dp_opts o = { .rule_capacity = RULE_CAPACITY, .class_words = 1u << 16 };
		if (pw_dp_load(&R.dp, &o, err, sizeof(err))) {
			FAILF("load: %s", err);
			goto out;
		}
		R.up = true;
		R.half = 1;	/* so that the first policy goes to half 0 */
		R.pcpu = calloc((size_t)R.dp.ncpus, sizeof(*R.pcpu));
		if (!R.pcpu)
			goto out;
	}
	pw_config_default(&R.cfg, c.mode, R.dp.ncpus);
	tweak_config(&R.cfg);
	uint32_t half = R.half ^ 1;
	if (pw_dp_write_half(&R.dp, half, &c, &R.cfg, err, sizeof(err))) {
		FAILF("write: %s", err);
		goto out;
	}
	if (pw_dp_activate(&R.dp, half, ++R.generation)) {
		FAILF("activate failed");
		goto out;
	}
	R.half = half;
	/* the new half's rule counters start at zero (write_half zeroes them) */
	memset(R.rules, 0, sizeof(R.rules));
	rc = 0;
out:
	pw_compiled_free(&c);
	return rc;
}

/* Every counter equals the model: nothing was counted twice or elsewhere. */
static void compare_counters(void)
{
	static __u64 reasons[PW_DIR_COUNT * PW_R_COUNT], rules[RULE_CAPACITY][PW_DIR_COUNT];

	if (read_counters(reasons, rules)) {
		FAILF("reading the counters failed");
		return;
	}
	if (memcmp(reasons, R.reasons, sizeof(reasons)) || memcmp(rules, R.rules, sizeof(rules))) {
		FAILF("policy %u: the counters differ from one count per packet", R.policy_idx);
		R.failures++;
		memcpy(R.reasons, reasons, sizeof(reasons));
		memcpy(R.rules, rules, sizeof(rules));
	}
}

static unsigned long env_num(const char *name, unsigned long dflt)
{
	const char *s = getenv(name);

	return s && *s ? strtoul(s, NULL, 0) : dflt;
}

static void run_down(void)
{
	if (R.up)
		pw_dp_close(&R.dp);
	if (R.have_pol)
		pw_policy_free(&R.pol);
	free(R.pcpu);
	kset_free(&CT);
	kset_free(&CT_DGRAM);
	kset_free(&CT_IN);
	kset_free(&FRAGS);
	kset_free(&FRAG_SRC);
	memset(&R, 0, sizeof(R));
}

static void print_coverage(void)
{
	printf("    expected reasons (in / out):\n");
	for (int k = 0; k < PW_R_COUNT; k++)
		printf("      %-20s %8lu %8lu\n", pw_reason_names[k], R.expected[PW_DIR_IN][k],
		       R.expected[PW_DIR_OUT][k]);
	printf("    made: DCCP %lu, SCTP %lu, UDP-Lite %lu (header short %lu, first fragments %lu, later %lu)\n",
	       GEN.port_proto[0], GEN.port_proto[1], GEN.port_proto[2], GEN.port_short, GEN.port_frags[0],
	       GEN.port_frags[1]);
	printf("    made: the host as a server %lu unasked, %lu asked and answered; %lu floods, %lu first "
	       "fragments\n", GEN.listener[0], GEN.listener[1], GEN.bursts, GEN.burst_frags);
	printf("    read: DCCP/SCTP/UDP-Lite whole %lu, first fragments %lu\n", PATHS.port_proto[0],
	       PATHS.port_proto[1]);
	printf("    egress TCP from a port an in rule allows: bare SYN %lu, other %lu\n", PATHS.tcp_listener[0],
	       PATHS.tcp_listener[1]);
	printf("    egress UDP from a port the in rules allow: no flow let in %lu, one %lu\n",
	       PATHS.udp_in_port[0], PATHS.udp_in_port[1]);
	printf("    egress echo replies: no request let in %lu, one %lu\n", PATHS.echo_reply_out[0],
	       PATHS.echo_reply_out[1]);
	printf("    egress replies (pw_ct_in): UDP %lu, DCCP/SCTP/UDP-Lite %lu, echo %lu, other %lu\n",
	       PATHS.reply_out[0], PATHS.reply_out[1], PATHS.reply_out[2], PATHS.reply_out[3]);
	printf("    egress ICMP errors related: by the in rules %lu, by a flow the host opened %lu\n",
	       PATHS.related_out[0], PATHS.related_out[1]);
	printf("    egress packets of a host's flow the out rules drop (passed): %lu\n", PATHS.flow_out_after_drop);
	printf("    monitor mode: the host's answers on a peer's flow only it let in: %lu\n", PATHS.mon_answer);
	printf("    the host's TCP moved pw_ct: SYN-SENT again %lu, ESTABLISHED %lu, reset %lu, half-closed %lu\n",
	       PATHS.tcp_moves[0], PATHS.tcp_moves[1], PATHS.tcp_moves[2], PATHS.tcp_moves[3]);
	printf("    pw_stats: ct_created %llu, ct_dgram_created %llu, ct_in_created %llu, ct_ignored %llu, "
	       "frags_tracked %llu, frags_over_share %llu\n", OS.ct_created, OS.ct_dgram_created, OS.ct_in_created,
	       OS.ct_ignored, OS.frags_tracked, OS.frags_over_share);
}

/* A full run reaches every path the datapath has. */
static void check_coverage(void)
{
	for (int k = 0; k < PW_R_COUNT; k++) {
		/* revoked: only through a mark a reload writes (userspace),
		 * never made by packets; test_datapath covers it. exception:
		 * only through `portwall allow` (none here: the fast path's
		 * bare-SYN drops are compared with no exception); test_exc
		 * covers it */
		if (k == PW_R_DROP_REVOKED || k == PW_R_EXCEPTION)
			continue;
		CHECK(R.expected[PW_DIR_IN][k] > 0);
		CHECK(R.expected[PW_DIR_OUT][k] > 0);
	}
	for (int i = 0; i < 2; i++) {
		CHECK(PATHS.related_out[i] > 0);
		CHECK(PATHS.port_proto[i] > 0);
		CHECK(PATHS.tcp_listener[i] > 0);
		CHECK(PATHS.udp_in_port[i] > 0);
		CHECK(PATHS.echo_reply_out[i] > 0);
	}
	for (int i = 0; i < 4; i++)
		CHECK(PATHS.reply_out[i] > 0);
	for (int i = 0; i < 4; i++)
		CHECK(PATHS.tcp_moves[i] > 0);
	CHECK(PATHS.flow_out_after_drop > 0);
	CHECK(PATHS.mon_answer > 0);
	CHECK(OS.ct_created > 0);
	CHECK(OS.ct_dgram_created > 0);
	CHECK(OS.ct_in_created > 0);
	CHECK(OS.ct_ignored > 0);
	CHECK(OS.frags_over_share > 0);
}

TEST(kernel_agrees_with_the_oracle)
{
	static struct text policy;
	bool quick = getenv("PW_TEST_QUICK") != NULL;
	uint64_t seed = env_num("PW_DIFF_SEED", DEFAULT_SEED);
	unsigned long npol = env_num("PW_DIFF_POLICIES", quick ? QUICK_POLICIES : FULL_POLICIES);
	unsigned long nper = env_num("PW_DIFF_PACKETS", quick ? QUICK_PACKETS : FULL_PACKETS);
	struct timespec t0, t1;

	printf("    seed 0x%llx (PW_DIFF_SEED), %lu policies x %lu packets\n",
	       (unsigned long long)seed, npol, nper);
	fflush(stdout);
	rng = seed;
	for (unsigned i = 0; i < NBASES; i++)
		REQUIRE(pw_prefix_parse(base_text[i], &bases[i]) == PW_ADDR_OK);
	REQUIRE(kset_init(&CT, 65536) && kset_init(&CT_DGRAM, 65536) && kset_init(&CT_IN, 32768) &&
		kset_init(&FRAGS, 16384) && kset_init(&FRAG_SRC, 8192));
	npool = nfirsts = burst_left = 0;
	have_answer = have_passed_first = false;
	memset(&OS, 0, sizeof(OS));
	memset(&PATHS, 0, sizeof(PATHS));
	memset(&GEN, 0, sizeof(GEN));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long p = 0; p < npol; p++) {
		gen_policy(&policy, (unsigned)p);
		R.policy_text = policy.s;
		R.policy_idx = (unsigned)p;
		if (load_policy(policy.s))
			break;
		gather_hints(&R.pol);
		for (unsigned long i = 0; i < nper; i++)
			one_packet();
		compare_counters();
		sync_state(true, false);
		sync_stats(true);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_coverage();
	printf("    %lu packets in %.1f s (%.1f us each), %lu disagreements%s\n", R.packets, secs,
	       R.packets ? secs * 1e6 / (double)R.packets : 0.0, R.failures,
	       R.reports > MAX_REPORTS ? " (the first 10 printed)" : "");
	printf("    state checked and emptied %lu times\n", R.clears);
	printf("    peer classes %lu, of them %lu sharing an earlier class's trie shape\n", R.classes, R.shared);
	CHECK_EQ_INT(R.failures, 0);
	CHECK(R.shared > 0);	/* the shared sets were judged */
	/* a full run must reach every reason the direction can have, and
	 * every path of the state */
	if (npol >= 10 && nper >= 10000)
		check_coverage();
	run_down();
}

struct pw_test pw_tests[PW_MAX_TESTS];
int pw_ntests, pw_test_failed;

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;

	if (geteuid() != 0) {
		printf("test_diff needs root (BPF_PROG_TEST_RUN): skipped\n0 passed, 0 failed\n");
		return 0;
	}
	for (int i = 0; i < pw_ntests; i++) {
		if (argc > 1 && !strstr(pw_tests[i].name, argv[1]))
			continue;
		pw_test_failed = 0;
		pw_tests[i].fn();
		printf("%s %s\n", pw_test_failed ? "FAIL" : "ok  ", pw_tests[i].name);
		fflush(stdout);
		pw_test_failed ? failed++ : passed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
