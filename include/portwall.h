/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * portwall.h - the one header shared by the BPF programs (bpf/) and
 * userspace (user/). Every struct that crosses the kernel/user boundary is
 * defined here and nowhere else. Fixed-width types, explicit padding, and a
 * _Static_assert on every size so that a layout change breaks the build,
 * not the datapath.
 *
 * Byte order contract: fields named *_be are network byte order; everything
 * else is host byte order.
 */
#ifndef PORTWALL_H
#define PORTWALL_H

#include <linux/types.h>

/* ------------------------------------------------------------------------
 * Directions and verdicts
 */
enum pw_dir {
	PW_DIR_IN = 0,	/* ingress: the peer is the source address */
	PW_DIR_OUT = 1,	/* egress: the peer is the destination address */
	PW_DIR_COUNT = 2,
};

enum pw_action {
	PW_DROP = 0,
	PW_PASS = 1,
};

enum pw_mode {
	PW_MODE_ENFORCE = 0,
	PW_MODE_MONITOR = 1,	/* compute and count every verdict, drop nothing */
};

/* ICMPv6 router and neighbor discovery (router solicitation/advertisement,
 * neighbor solicitation/advertisement) always pass, whatever the policy, so
 * no policy can cut the host off its own link. */
#define PW_ICMPV6_ND_FIRST 133
#define PW_ICMPV6_ND_LAST 136

/* Rule ids are 1-based, in the order the rules are read (includes expanded
 * where they stand). Rule id 0 means "the direction's default". */
#define PW_RULE_DEFAULT 0u

/* ------------------------------------------------------------------------
 * The decision array (BPF_MAP_TYPE_ARRAY, PW_SLOT_COUNT entries of
 * struct pw_slot). One lookup, indexed by (direction, protocol, port or
 * ICMP type or IP protocol number), decides a packet unless the slot names
 * a peer class, in which case an LPM lookup of (class, peer address)
 * refines it.
 *
 *   [0, 262144)            TCP/UDP:  dir << 17 | l4 << 16 | port
 *                                    (l4: 0 = TCP, 1 = UDP; port = the
 *                                    destination port of the packet for
 *                                    both directions: the local listening
 *                                    port inbound, the remote port outbound)
 *   [262144, 263168)       ICMP:     base + dir << 9 | fam << 8 | type
 *                                    (fam: 0 = ICMP for IPv4, 1 = ICMPv6)
 *   [263168, 263680)       other IP protocols: base + dir << 8 | protocol
 */
#define PW_L4_TCP 0
#define PW_L4_UDP 1
#define PW_FAM_V4 0
#define PW_FAM_V6 1

#define PW_SLOT_L4_BASE 0u
#define PW_SLOT_ICMP_BASE (PW_DIR_COUNT * 2u * 65536u)
#define PW_SLOT_PROTO_BASE (PW_SLOT_ICMP_BASE + PW_DIR_COUNT * 2u * 256u)
#define PW_SLOT_COUNT (PW_SLOT_PROTO_BASE + PW_DIR_COUNT * 256u)

static inline __u32 pw_slot_l4(__u32 dir, __u32 l4, __u32 port)
{
	return PW_SLOT_L4_BASE + (dir << 17) + (l4 << 16) + (port & 0xffff);
}

static inline __u32 pw_slot_icmp(__u32 dir, __u32 fam, __u32 type)
{
	return PW_SLOT_ICMP_BASE + (dir << 9) + (fam << 8) + (type & 0xff);
}

static inline __u32 pw_slot_proto(__u32 dir, __u32 proto)
{
	return PW_SLOT_PROTO_BASE + (dir << 8) + (proto & 0xff);
}

/*
 * What the policy says for one (direction, protocol, port).
 *
 * deny_rule / allow_rule: the first matching deny / allow rule that has no
 * peer restriction (0: none). dflt: the direction's default (PW_PASS or
 * PW_DROP). deny_class / allow_class: 0 when no peer-restricted deny /
 * allow rule can change the outcome; otherwise the class (its restricted
 * rules, ascending) whose answer is the first such rule covering the peer:
 * class(c, peer) below, one peer-trie lookup (pw_classes).
 *
 * The decision (the same code in BPF and in `portwall explain`):
 *   td = deny_class  ? class(deny_class, peer)  : 0
 *   ta = !td && allow_class ? class(allow_class, peer) : 0
 *   d = td ?: deny_rule;  a = ta ?: allow_rule
 *   d ? DROP by rule d : a ? PASS by rule a : dflt by the default
 * A denied peer costs at most one trie lookup. The compiler only puts into a
 * class the restricted rules whose ids are lower than the unrestricted rule
 * of the same action, and no allow class where an unrestricted deny exists,
 * so "replace" is "first". Deny and allow rules live in separate classes so
 * that a large deny set shared by many ports is stored once, not once per
 * combination with each port's allow list.
 */
struct pw_slot {
	__u32 deny_class;
	__u32 allow_class;
	__u32 deny_rule;
	__u32 allow_rule;
	__u8 dflt;
	__u8 pad[3];
};

/*
 * Peer classes and the sets they share (map pw_classes: BPF_MAP_TYPE_ARRAY
 * of __u32 words, two halves of pw_class_words words each, the half's
 * words at half * pw_class_words). A class's trie entries depend only on
 * the peers of its rules, in order (its shape: each rule's peer set), not
 * on the rules' ids: classes of one shape share one trie scope, whose
 * entries answer the rank (1-based) of the first rule covering the
 * prefix. So a set that 100 rules on 100 ports use is in the trie once.
 * A half's words:
 *   [c]                 class c (1..nclasses): the index of its run
 *   run [o]             the shape (trie scope) of the class
 *   run [o + 1]         its IPv4 root in pw_flat4 (below), 0: the trie
 *   run [o + 1 + rank]  the class's rank-th rule id
 * class(c, peer) = rank ? words[o + 1 + rank] : 0, o = words[c],
 * rank = IPv4 and a root ? flat4(root, peer) : trie(words[o], peer).
 * Word 0 is 0.
 */
#define PW_CLASS_RUN_HEAD 2u	/* shape, IPv4 root */

/*
 * The flat IPv4 lookup (map pw_flat4: BPF_MAP_TYPE_ARRAY of struct
 * pw_chunk, two halves of pw_flat4_chunks each, memory-mapped): a shape
 * without host names (whose learned addresses go into the trie) answers
 * IPv4 peers from a trie of 256-way chunks, one per address byte, the
 * prefixes expanded into them longest last (so each entry holds what
 * longest-prefix matching answers there). An entry is a rank (0: no
 * match) or PW_FLAT_NEXT | the chunk of the next byte. At most four
 * array reads, no helper call; the peer trie keeps every entry too, so
 * userspace reads (conntrack flush, explain) are unchanged.
 */
#define PW_FLAT_NEXT 0x80000000u

struct pw_chunk {
	__u32 e[256];
};

/*
 * The peer trie (BPF_MAP_TYPE_LPM_TRIE, BPF_F_NO_PREALLOC). The first 32
 * bits after prefixlen (scope) are always matched whole, so prefixlen is
 * 32 + the address prefix length. IPv4 addresses sit in addr[0..3]; IPv6
 * packets never match IPv4 entries (the family is part of the scope), so
 * an IPv4-mapped IPv6 source is not taken for an IPv4 peer.
 */
static inline __u32 pw_peer_scope(__u32 shape, __u32 fam)
{
	return (shape << 1) | fam;
}

struct pw_peer_key {
	__u32 prefixlen;
	__u32 scope;		/* pw_peer_scope(shape, family) */
	__u8 addr[16];		/* network byte order */
};

struct pw_peer_val {
	__u32 rule;		/* the rank in its shape of the first rule covering
				 * the prefix (pw_classes maps it to a rule id) */
};

#define PW_PEER_SCOPE_BITS 32u

/*
 * The decision, shared word for word by the datapath and `portwall explain`
 * so that both read the same tables the same way. td / ta are the
 * classes' answers for the slot's deny / allow class (0: no class, no match,
 * or not looked up). Returns the deciding rule id (PW_RULE_DEFAULT for the
 * default) and sets *action.
 */
static inline __u32 pw_decide(const struct pw_slot *s, __u32 td, __u32 ta, __u8 *action)
{
	__u32 d = td ? td : s->deny_rule;
	__u32 a = ta ? ta : s->allow_rule;

	if (d) {
		*action = PW_DROP;
		return d;
	}
	if (a) {
		*action = PW_PASS;
		return a;
	}
	*action = s->dflt;
	return PW_RULE_DEFAULT;
}

_Static_assert(sizeof(struct pw_slot) == 20, "pw_slot layout");
_Static_assert(sizeof(struct pw_peer_key) == 24, "pw_peer_key layout");
_Static_assert(sizeof(struct pw_peer_val) == 4, "pw_peer_val layout");
_Static_assert(sizeof(struct pw_chunk) == 1024, "pw_chunk layout");


/* ------------------------------------------------------------------------
 * Policy state (map pw_state, one entry): two halves so that a reload
 * writes the half not in force and then flips `active`; every packet reads
 * `active` once and is judged wholly by one half (slots, peer trie, config).
 */
struct pw_config {
	__u8 mode;		/* PW_MODE_* */
	__u8 names;		/* the half has host names: the DNS learner runs */
	__u8 dns_any;		/* 1: a query teaches whoever sent it (dns-users any); 0: only
				 * from a local socket of a uid in pw_dns_users (docs/dns.md) */
	__u8 pad;
	__u32 ev_rate;		/* drop events per second, per CPU (token refill) */
	__u32 ev_burst;		/* token bucket size, per CPU */
	/* connection tracking timeouts, seconds */
	__u32 ct_tcp_syn;	/* TCP, no reply seen yet */
	__u32 ct_tcp_est;	/* TCP, replied */
	__u32 ct_tcp_close;	/* TCP after FIN or RST */
	__u32 ct_udp;
	__u32 ct_icmp;		/* ICMP echo */
	__u32 ct_other;
	__u32 frag_timeout;	/* remembered first fragments */
	__u32 rule_base;	/* this half's first index in pw_rule_stats */
	/* a learned address lives for its TTL, at least / at most this, s */
	__u32 dns_ttl_min;
	__u32 dns_ttl_max;
	/* addresses one host name keeps: `portwall run` removes the least
	 * recently answered beyond (userspace only) */
	__u32 dns_name_max;
	/* The conntrack clock (pw_ct_val.last_ns): CLOCK_MONOTONIC_COARSE, as
	 * userspace reads and writes it. With ct_tick_ns set the datapath
	 * reads it as bpf_jiffies64() * ct_tick_ns + ct_clock_off, a load the
	 * verifier inlines instead of a helper call; the loader measures both
	 * (a program that reads the two clocks at once) every time it writes a
	 * half. 0: bpf_ktime_get_coarse_ns() (nothing measured, HZ unknown). */
	__u64 ct_tick_ns;
	__u64 ct_clock_off;
};

/* What bpf/clock.bpf.c reads for the loader (written over the frame of a
 * test run): the tick's length (0: HZ not known to the datapath), jiffies
 * and bpf_ktime_get_coarse_ns() at the same moment. */
struct pw_clock_sample {
	__u64 tick_ns;
	__u64 jiffies;
	__u64 coarse_ns;
};

struct pw_state {
	__u32 active;		/* 0 or 1: the half in force */
	__u32 generation;	/* bumped by every apply, for status */
	struct pw_config cfg[2];
	/* entries in pw_exc (timed exceptions, of both halves alike), live or
	 * expired; 0: no packet looks there, and the fast path drops bare
	 * SYNs as before. Written by `portwall allow` and the agent's cleanup
	 * under the pin root's lock; a reload writes it back unchanged */
	__u32 exceptions;
	__u32 exc_next_id;	/* the id the next exception gets (userspace only) */
};

/* Defaults close to nf_conntrack's. */
#define PW_CT_TCP_SYN_S 120
#define PW_CT_TCP_EST_S 432000
#define PW_CT_TCP_CLOSE_S 10
#define PW_CT_UDP_S 120
#define PW_CT_ICMP_S 30
#define PW_CT_OTHER_S 600
#define PW_FRAG_TIMEOUT_S 30
#define PW_DNS_TTL_MIN_S 0
#define PW_DNS_TTL_MAX_S 86400
#define PW_EV_RATE 1000
#define PW_CT_CAPACITY 262144	/* pw_ct; pw_ct_dgram and pw_ct_in are sized from it */
#define PW_FRAG_CAPACITY 16384
/* A tracked flow's last-seen time is rewritten at most this often. */
#define PW_CT_REFRESH_NS 1000000000ull

/* ------------------------------------------------------------------------
 * Connection tracking (maps pw_ct, pw_ct_dgram and pw_ct_in, LRU hashes).
 * The key is the flow seen from this host, so both directions of a flow
 * find the same entry: the local address and port, the remote address and
 * port. ICMP echo: lport_be is the echo id and kind says the host sent the
 * request, so an echo id opened outbound cannot open a path inbound.
 */
/* The protocols whose header starts with a source and a destination port,
 * and the shortest header each may have: their flows are tracked by ports
 * (TCP 6, UDP 17, DCCP 33, SCTP 132, UDP-Lite 136). Others (GRE, ESP, ...)
 * by addresses and protocol alone. 0: no ports. */
static inline __u32 pw_port_hdr_len(__u32 proto)
{
	return proto == 6 ? 20 : proto == 17 || proto == 136 ? 8 : proto == 33 || proto == 132 ? 12 : 0;
}

enum pw_ct_kind {
	PW_CT_FLOW = 0,
	PW_CT_ECHO_OUT = 1,	/* the host sent the echo request (pw_ct_dgram only) */
	PW_CT_ECHO_IN = 2,	/* the peer sent it (pw_ct_in only) */
};

struct pw_ct_key {
	__u8 local[16];
	__u8 remote[16];
	__u16 lport_be;
	__u16 rport_be;
	__u8 proto;
	__u8 fam;
	__u8 kind;		/* enum pw_ct_kind */
	__u8 pad;
} __attribute__((aligned(8)));	/* the datapath builds it in 8-byte words */

/* A flow's state. TCP's changes only on what the host itself sends (the
 * egress program), never on what arrives: a spoofed packet cannot move
 * it. The host's bare SYN starts a fresh entry (a 4-tuple used again), its
 * ACK without SYN establishes the flow, its FIN or RST closes it. */
enum {
	PW_CT_REPLIED = 1 << 0,	/* TCP: established (the host acknowledged the
				 * peer); others: the peer has answered */
	PW_CT_CLOSING = 1 << 1,	/* TCP: the host reset the established flow */
	PW_CT_FIN = 1 << 2,	/* TCP: the host sent FIN (the peer may still
				 * answer: a half-close) */
	PW_CT_REVOKED = 1 << 3,	/* a flow a peer started whose service a reload
				 * revoked (dir PW_DIR_IN, written by userspace
				 * into pw_ct for TCP, pw_ct_dgram for the rest):
				 * neither direction passes by it, and the host's
				 * packets of it open no flow (docs/reliability.md) */
	PW_CT_EXC = 1 << 4,	/* a flow that exists only by a timed exception:
				 * in pw_ct / pw_ct_dgram the host opened it by an
				 * out exception, in pw_ct_in a peer by an in
				 * exception. No packet passes by the entry alone
				 * (pw_ct_match, the in rules' reply path): only
				 * while that exception lives (pw_exc_flow), so at
				 * its expiry or removal the flow ends, agent or
				 * not; the host's packet the out rules let out
				 * makes it a flow of the host's own. With
				 * PW_CT_REVOKED: the mark of the host's answers
				 * on an in exception's flow, which a reload
				 * keeps while the exception lives */
};

struct pw_ct_val {
	__u64 last_ns;		/* bpf_ktime_get_coarse_ns() */
	__u8 flags;		/* PW_CT_* */
	__u8 dir;		/* who opened it: PW_DIR_OUT in pw_ct and pw_ct_dgram,
				 * PW_DIR_IN in pw_ct_in */
	__u8 pad[6];
};

/* The tables, each an LRU budget of its own, so that a flood which fills
 * one evicts flows of that table only:
 *  - pw_ct: TCP flows the host opened (capacity --ct-capacity);
 *  - pw_ct_dgram: every other flow the host opened (UDP, ICMP echo, GRE,
 *    ...), so that datagrams to many destinations, which any local user
 *    may send where an out rule allows them, evict no TCP connection;
 *  - pw_ct_in: flows a peer started (below).
 * enum pw_ct_table names them for the counts kept per table. */
enum pw_ct_table {
	PW_CT_TABLE_TCP = 0,
	PW_CT_TABLE_DGRAM = 1,
	PW_CT_TABLE_IN = 2,
	PW_CT_TABLE_COUNT = 3,
};

/* pw_ct_dgram's default capacity: pw_ct's / 2 (131,072). At the UDP
 * timeout (120 s) that holds about 1,000 new datagram flows a second, a
 * busy resolver's client (each DNS query from a new source port is a
 * flow); an ICMP echo flow lasts 30 s. */
#define PW_CT_DGRAM_SHARE 2

/* Flows a peer started (map pw_ct_in, LRU hash, a budget of its own so a
 * flood to an open port evicts none of the flows the host opened): every
 * protocol but TCP, created by an inbound packet the policy let in, so
 * that the host's replies pass on egress. TCP needs none: the host's
 * kernel sends a segment other than a bare SYN only within a connection
 * it holds, so egress judges a non-SYN segment by the in rules of its
 * local port (docs/datapath.md). Default capacity: pw_ct's / 4. */
#define PW_CT_IN_SHARE 4

/* At most this many first fragments of one peer are remembered within a
 * fragment timeout (map pw_frag_src): one peer takes at most a quarter of
 * pw_frags in a window (half across two), so it cannot flush the others'
 * entries; 4,096 in 30 s is about 136 fragmented datagrams a second. */
#define PW_FRAG_SHARE 4096
#define PW_FRAG_SRC_CAPACITY 4096

struct pw_frag_src_key {
	__u8 peer[16];
	__u8 fam;
	__u8 dir;	/* PW_DIR_IN: fragments from peer; PW_DIR_OUT: to it */
	__u8 pad[2];
};

struct pw_frag_src_val {
	__u64 window_ns;	/* when this peer's window began */
	__u32 count;		/* first fragments remembered in it */
	__u32 pad;
};

/* First fragments that passed (map pw_frags, LRU hash): the later fragments
 * of the same datagram pass. */
struct pw_frag_key {
	__u8 src[16];
	__u8 dst[16];
	__u32 id;		/* IPv4 id (16 bits) or IPv6 fragment id */
	__u8 proto;
	__u8 fam;
	__u8 dir;
	__u8 pad;
};

struct pw_frag_val {
	__u64 last_ns;
};

/* ------------------------------------------------------------------------
 * Host names (docs/dns.md). A rule's peer may be a name or a wildcard of
 * whole labels (`*.example.net`: one or more labels in front); the
 * addresses are learned from the DNS answers the host receives, in the
 * datapath, before the application reads them.
 *
 * A name is matched in its DNS wire form, lowercased: length-prefixed
 * labels, no root label. pw_name_hash() hashes a name label by label from
 * the right, so that the ingress program gets the hash of every suffix of
 * a question in one pass: hash(suffix k) = mix(hash(suffix k+1), label k).
 * A hash only finds the candidate; the name's bytes are compared before
 * anything is learned, so a name made to collide teaches nothing.
 */
#define PW_NAME_WIRE_MAX 255	/* a wire-form name: 253 characters + 2 */
#define PW_NAME_LABELS_MAX 32	/* labels of a question the datapath matches */
#define PW_NAME_TARGETS 16	/* class shapes one name feeds, per half */
#define PW_NAMES_CAPACITY 4096	/* names and wildcards, both halves */
#define PW_RESOLVERS_MAX 8	/* per half */
#define PW_DNS_PORT 53

#define PW_NAME_SEED 0xcbf29ce484222325ull	/* FNV-1a offset basis */
#define PW_NAME_PRIME 0x100000001b3ull

/* FNV-1a of one label: its length byte, then its bytes lowercased. */
static inline __u64 pw_label_hash_byte(__u64 h, __u8 c)
{
	if (c >= 'A' && c <= 'Z')
		c = (__u8)(c + ('a' - 'A'));
	return (h ^ c) * PW_NAME_PRIME;
}

/* The hash of (label, then the suffix whose hash is `right`). */
static inline __u64 pw_name_mix(__u64 right, __u64 label)
{
	return (((right << 5) | (right >> 59)) ^ label) * PW_NAME_PRIME;
}

/* The hash of one label at wire[0]: its length byte, then its bytes. */
static inline __u64 pw_label_hash(const __u8 *label)
{
	__u64 h = pw_label_hash_byte(PW_NAME_SEED, label[0]);

	for (__u32 i = 1; i <= label[0] && i <= 63; i++)
		h = pw_label_hash_byte(h, label[i]);
	return h;
}

/* The reference hash of a wire-form name of len bytes (userspace; the
 * ingress program folds the same from the labels it has read):
 * hash(no label) = PW_NAME_SEED, hash(label . rest) =
 * pw_name_mix(hash(rest), pw_label_hash(label)). A wildcard `*.X` is keyed
 * by hash(X) with pw_name_key.wild = 1. 0 when wire is no wire-form name:
 * a label of 0 or more than 63 bytes, or one that runs past len. */
static inline __u64 pw_name_hash(const __u8 *wire, __u32 len)
{
	__u8 at[PW_NAME_WIRE_MAX / 2 + 1];	/* where each label starts */
	__u32 n = 0;
	__u64 h = PW_NAME_SEED;

	if (len > PW_NAME_WIRE_MAX)
		return 0;
	for (__u32 o = 0; o < len; o += 1u + wire[o]) {
		if (wire[o] == 0 || wire[o] > 63 || o + 1u + wire[o] > len)
			return 0;
		at[n++] = (__u8)o;
	}
	while (n--)
		h = pw_name_mix(h, pw_label_hash(wire + at[n]));
	return h;
}

/* Map pw_names (hash, both halves): the names and wildcards of each half. */
struct pw_name_key {
	__u64 hash;		/* of the name; of the part after "*." for a wildcard */
	__u32 half;
	__u8 wild;		/* 1: `*.` + the name, one or more labels in front */
	__u8 pad[3];
};

/* A learned address of the name goes into the peer trie of the half as
 * (shape, address/32 or /128) -> rank, for each target: the shape of the
 * classes holding a rule that names it, and that rule's rank in it. */
struct pw_name_target {
	__u32 shape;
	__u32 rank;
};

struct pw_name_val {
	__u32 id;		/* the name's index in the compiled policy, 1-based */
	__u16 wire_len;		/* bytes of wire[] */
	__u8 ntargets;
	__u8 pad;
	struct pw_name_target t[PW_NAME_TARGETS];
	__u8 wire[PW_NAME_WIRE_MAX + 1];	/* lowercase wire form (without "*.") */
};

/* Map pw_resolvers (hash): the DNS servers whose answers count, per half
 * (value: unused, 1). */
struct pw_resolver_key {
	__u8 addr[16];
	__u32 half;
	__u8 fam;
	__u8 pad[3];
};

/* Map pw_dns_users (hash): the users whose queries are recorded, per half
 * (value: unused, 1). A query is recorded only when the socket that sent
 * it is a local one owned by one of them (its uid, bpf_get_socket_uid):
 * a user who sends its own query knows its port and transaction id, and
 * an accomplice off the path could forge the answer (docs/dns.md, "Whose
 * queries teach"). */
#define PW_DNS_USERS_MAX 64	/* per half */

struct pw_dns_user_key {
	__u32 uid;
	__u32 half;
};

/* Map pw_dns_q (LRU hash): a query the host sent to a resolver about a
 * name of the policy, so that only the answer to it teaches. */
struct pw_dnsq_key {
	__u8 resolver[16];
	__u8 fam;
	__u8 pad;
	__u16 port_be;		/* the host's source port */
	__u16 txid_be;		/* the DNS transaction id */
	__u16 pad2;
};

struct pw_dnsq_val {
	__u64 asked_ns;
	__u64 qhash;		/* pw_name_hash of the question */
	__u32 qtype_class;	/* the question's type << 16 | its class */
	__u32 pad;
};

#define PW_DNSQ_CAPACITY 4096
#define PW_DNSQ_TIMEOUT_NS (10ull * 1000000000ull)	/* an answer later than this teaches nothing */

/* Map pw_learned (LRU hash): every address learned, by name. The agent
 * removes expired addresses from the tries, and a reload writes the
 * learned addresses of the names it keeps into the new half. */
struct pw_learned_key {
	__u64 name_hash;	/* pw_name_key.hash */
	__u8 wild;
	__u8 fam;
	__u8 pad[6];
	__u8 addr[16];
};

enum pw_learned_source {
	PW_LEARNED_ANSWER = 1,	/* a DNS answer the datapath read */
	PW_LEARNED_APPLY = 2,	/* the agent resolved the name at apply */
	PW_LEARNED_TIMER = 3,	/* ... or on its timer */
};

struct pw_learned_val {
	__u64 learned_ns;	/* bpf_ktime_get_coarse_ns() of the last answer */
	__u64 expires_ns;	/* learned_ns + the TTL, floored and capped */
	__u32 ttl;		/* as answered */
	__u8 source;		/* enum pw_learned_source */
	__u8 partial;		/* not every target's trie entry was written: the next answer retries */
	__u8 pad[2];
};

#define PW_LEARNED_CAPACITY 65536

/* Counters of the DNS learner (map pw_dns_stats, per-CPU array, 1). */
struct pw_dns_stats {
	__u64 queries;		/* queries about a policy name recorded (egress) */
	__u64 answers;		/* answers to a recorded query read (ingress) */
	__u64 learned;		/* addresses written into a trie */
	__u64 refreshed;	/* addresses answered again (lifetime renewed) */
	__u64 unsolicited;	/* from a resolver's port 53, no recorded query matches */
	__u64 malformed;	/* an answer that could not be read whole: learned nothing */
	__u64 truncated;	/* TC set, or longer than the datapath reads */
	__u64 mismatched;	/* the question is not the one asked */
	__u64 full;		/* an address not learned: a map was full */
	__u64 untrusted;	/* a query about a policy name not recorded: its socket is no
				 * trusted user's, or it has none (forwarded) */
	__u64 evicted;		/* addresses `portwall run` removed from a name over its
				 * dns_name_max (only in entry PW_DNS_STATS_AGENT) */
};

/* pw_dns_stats entries: the datapath counts in the first, the agent in
 * the second (so that neither overwrites what the other counts) */
#define PW_DNS_STATS_DATAPATH 0
#define PW_DNS_STATS_AGENT 1
#define PW_DNS_NAME_MAX_DEFAULT 1024

/* ------------------------------------------------------------------------
 * Timed exceptions (map pw_exc, an LPM trie shared by both halves, so a
 * reload or rollback keeps them): `portwall allow --for 2h in tcp port
 * 8443 from 198.51.100.7`. One key per port of the exception (a range of
 * at most PW_EXC_PORTS ports is one key each, all with the same id). The
 * datapath looks here only where the policy drops a packet, and only
 * while pw_state.exceptions is not 0; an entry whose expires_ns has passed
 * (CLOCK_BOOTTIME: bpf_ktime_get_boot_ns, counting suspend) passes nothing,
 * whether or not the agent has deleted it yet. The packets of the
 * exception's direction match (port, peer) and open a tracked flow marked
 * PW_CT_EXC (out: in pw_ct / pw_ct_dgram with the TCP state of any flow the
 * host opened; in, UDP: in pw_ct_in); the answers pass only on that flow
 * and only while the exception lives, so at expiry the flows it let through
 * end too. The host's TCP answers on an in exception are judged as a
 * listener's are, by the exception of their local port (never a bare SYN)
 * (docs/policy.md).
 */
#define PW_EXC_CAPACITY 256	/* keys */
#define PW_EXC_PORTS 16		/* ports one exception may name */
#define PW_EXC_KEY_BITS 64	/* bits of pw_exc_key before addr */
#define PW_EXC_COMMENT 64
/* Nested prefixes of one port: an expired narrower entry the agent has not
 * deleted yet must not hide a live wider one (LPM answers the narrowest).
 * A lookup steps from an expired entry to the next wider one, at most
 * PW_EXC_NEST entries in all (pw_exc_live, pw_exc_covers_in). */
#define PW_EXC_NEST 4

struct pw_exc_key {
	__u32 prefixlen;	/* PW_EXC_KEY_BITS + the peer prefix's length */
	__u8 dir;		/* PW_DIR_IN / PW_DIR_OUT: who opens the flow */
	__u8 proto;		/* IPPROTO_TCP / IPPROTO_UDP */
	__u8 fam;		/* PW_FAM_V4 / PW_FAM_V6 */
	__u8 pad;
	__u16 port_be;		/* the local port (in), the peer's port (out) */
	__u16 pad2;
	__u8 addr[16];		/* the peer; IPv4 in the first 4 bytes */
};

struct pw_exc_val {
	__u64 expires_ns;	/* CLOCK_BOOTTIME */
	__u64 added_unix;	/* wall clock seconds, for display */
	__u32 id;		/* what --list shows and --remove takes */
	__u16 port_lo, port_hi;	/* the exception's whole range, for display */
	__u8 plen;		/* the peer prefix's length */
	__u8 pad[7];
	char comment[PW_EXC_COMMENT];
};

/* ------------------------------------------------------------------------
 * Verdict reasons. Every packet gets exactly one; the first block passes.
 */
enum pw_reason {
	PW_R_ALLOW_RULE = 0,	/* an allow rule */
	PW_R_ALLOW_DEFAULT,	/* the direction's default is allow */
	PW_R_REPLY,		/* reply of a flow the host opened (conntrack) */
	PW_R_RELATED,		/* ICMP error quoting a tracked or allowed flow */
	PW_R_FRAGMENT_OK,	/* later fragment of a datagram that passed */
	PW_R_NON_IP,		/* not IPv4/IPv6: ARP, LLDP, ... */
	PW_R_NEIGHBOR,		/* ICMPv6 router/neighbor discovery */
	PW_R_EXCEPTION,		/* a timed exception (pw_exc), policy would drop it */
	PW_R_DROP_DEFAULT,	/* no rule: the default is drop */
	PW_R_DROP_DENY,		/* a deny rule */
	PW_R_DROP_MALFORMED,	/* truncated or inconsistent headers */
	PW_R_DROP_FRAGMENT,	/* non-first fragment of no datagram that passed */
	PW_R_DROP_REVOKED,	/* the host's packet of a flow a reload revoked */
	PW_R_COUNT,
};

#define PW_R_FIRST_DROP PW_R_DROP_DEFAULT

/* ------------------------------------------------------------------------
 * Counters (per-CPU arrays; userspace sums the CPUs).
 *   pw_rule_stats   index cfg.rule_base + rule * 2 + dir: packets and bytes
 *                   per rule and direction (rule 0: the default); each half
 *                   has its own range, so a reload zeroes the new half's
 *                   counters while no packet writes them
 *   pw_reason_stats index dir * PW_R_COUNT + reason
 *   pw_port_drops   index = decision slot: dropped packets per
 *                   (direction, protocol, port / type / protocol number)
 *   pw_stats        one struct pw_stats
 */
struct pw_counter {
	__u64 packets;
	__u64 bytes;
};

struct pw_stats {
	__u64 events_sent;
	__u64 events_suppressed;	/* over the rate limit */
	__u64 events_lost;		/* ring buffer full */
	__u64 ct_created;		/* new TCP flows the host opened (pw_ct) */
	__u64 ct_removed;		/* expired or closed flows deleted from pw_ct */
	__u64 frags_tracked;
	__u64 ct_in_created;		/* new flows a peer started (pw_ct_in) */
	__u64 ct_ignored;		/* inbound FIN/RST that changed no state */
	__u64 frags_over_share;		/* first fragments of a peer over its share, not remembered */
	__u64 ct_dgram_created;		/* new flows the host opened but TCP (pw_ct_dgram) */
	__u64 ct_dgram_removed;		/* expired flows deleted from pw_ct_dgram */
	__u64 ct_in_removed;		/* expired flows deleted from pw_ct_in */
};

/* Per rule of each half, written and read by userspace only (map
 * pw_rules, index half * capacity + rule): the rule's fingerprint, and the
 * counts it carried over from earlier generations, so that a reload keeps
 * the counters of rules it did not change. status shows carry + counters. */
struct pw_rule_info {
	__u64 fingerprint;	/* of the rule's content; 0: no rule */
	struct pw_counter carry[2];	/* per direction */
	/* what `portwall counters --reset` took away (carry went down by as
	 * much, modulo 2^64): status shows carry + counters, the metrics that
	 * plus this, so that a Prometheus counter never goes down. A reload
	 * carries it with the carry. */
	struct pw_counter reset[2];
};

/* Per-CPU token bucket for drop events (map pw_ratelimit). */
struct pw_bucket {
	__u64 tokens;		/* in units of 1/1e9 event */
	__u64 last_ns;		/* tick time of the last refill */
};

/* ------------------------------------------------------------------------
 * A drop event (ring buffer pw_events). In monitor mode: what would have
 * been dropped.
 */
struct pw_event {
	__u64 ts_ns;		/* bpf_ktime_get_ns() */
	__u32 ifindex;
	__u32 rule;		/* deciding rule, 0 = default or none */
	__u32 len;		/* bytes on the wire */
	__u8 dir;
	__u8 reason;		/* enum pw_reason */
	__u8 proto;		/* IP protocol (0 when not parsed) */
	__u8 fam;
	__u8 tcp_flags;
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 monitor;		/* 1: monitor mode, the packet passed */
	__u16 vlan;
	__u16 sport_be;		/* or ICMP echo id */
	__u16 dport_be;
	__u16 pad;
	__u8 src[16];
	__u8 dst[16];
};

/* ------------------------------------------------------------------------
 * What is applied (map pw_meta, one entry, written by userspace only): for
 * `portwall status` and for reloads.
 */
#define PW_MAX_IFACES 8

enum pw_xdp_mode {
	PW_XDP_NONE = 0,
	PW_XDP_NATIVE = 1,
	PW_XDP_GENERIC = 2,
};

enum pw_tc_mode {
	PW_TC_NONE = 0,
	PW_TC_CLSACT = 1,	/* a filter on a clsact qdisc that was already there */
	PW_TC_CLSACT_OURS = 2,	/* a filter on a clsact qdisc portwall created */
};

/* Which pair of programs an interface has: its frames start at an Ethernet
 * header (pw_ingress, pw_egress) or at the IP header, on devices without a
 * link-layer header (pw_ingress_l3, pw_egress_l3). Records written before
 * the L3 programs existed hold 0 there: Ethernet, which they were. */
enum pw_link {
	PW_LINK_ETHER = 0,
	PW_LINK_L3 = 1,
	PW_LINK_COUNT = 2,
};

/* An interface is its ifindex (in pw_meta.netns): name is the name it was
 * applied by, which a rename does not change. */
struct pw_iface {
	__u32 ifindex;
	__u8 xdp_mode;		/* enum pw_xdp_mode */
	__u8 tc_mode;		/* enum pw_tc_mode */
	__u8 link;		/* enum pw_link (was padding: 0 = Ethernet) */
	__u8 pad;
	char name[16];
};

/* One applied policy: what `status` and `rollback` need to know of it. */
struct pw_policy_rec {
	__u32 generation;	/* 0: none */
	__u8 mode;		/* PW_MODE_* */
	__u8 pad[3];
	__u64 applied_unix;	/* seconds since the epoch */
	__u8 hash[32];		/* of its compiled tables */
	char name[64];
	char path[256];		/* as given to apply, made absolute */
};

/* pw_meta.confirm_pending: what the --confirm watchdog undoes */
enum {
	PW_CONFIRM_RELOAD = 1,	/* a reload: roll back to the previous policy */
	PW_CONFIRM_FIRST = 2,	/* a first apply: unload */
};

struct pw_meta {
	struct pw_policy_rec cur;	/* in force */
	struct pw_policy_rec prev;	/* in the other half: what rollback returns to */
	__u8 niface;
	__u8 confirm_pending;	/* apply --confirm not confirmed yet: PW_CONFIRM_* */
	/* 1 from just before a reload or rollback puts a half in force until
	 * its conntrack walk has finished: while it is 1, the half in force
	 * may hold flows its policy refuses (the walk was killed), so the next
	 * reload walks every table (no pw_dp_ct_same skip) and the same policy
	 * applied again is not "unchanged". 0 in a pin of an older build. */
	__u8 ct_walk_due;
	__u8 pad[1];
	__u32 netns_ino;	/* inode of the namespace the ifindexes are of; 0: unknown */
	__u64 confirm_deadline;	/* seconds since the epoch */
	__u64 ct_adopted;	/* flows userspace put into pw_ct (adoption) */
	__u64 ct_flushed;	/* flows userspace took out of pw_ct (reloads) */
	char netns[32];		/* --netns name, "" for the current one */
	struct pw_iface iface[PW_MAX_IFACES];
	/* the load a pending --confirm belongs to: random and new for every
	 * such apply, so a watchdog left from an earlier load (unloaded and
	 * applied again since) never matches */
	__u64 confirm_token;
	/* the same as ct_adopted and ct_flushed for the other tables (added at
	 * the end: a broken older load's record is read at the offsets above) */
	__u64 ct_dgram_adopted;
	__u64 ct_dgram_flushed;
	__u64 ct_in_flushed;
	/* established flows of revoked services the reload (or rollback) that
	 * put `cur` in force ended; and the marks of such flows written since
	 * the first apply, into pw_ct (TCP) and pw_ct_dgram (the rest) */
	__u64 ct_revoked;
	__u64 ct_revoked_tcp;
	__u64 ct_revoked_dgram;
};

_Static_assert(sizeof(struct pw_iface) == 24, "pw_iface layout");
_Static_assert(sizeof(struct pw_policy_rec) == 368, "pw_policy_rec layout");
_Static_assert(sizeof(struct pw_meta) == 1048, "pw_meta layout");
_Static_assert(sizeof(struct pw_config) == 72, "pw_config layout");
_Static_assert(sizeof(struct pw_state) == 160, "pw_state layout");
_Static_assert(sizeof(struct pw_clock_sample) == 24, "pw_clock_sample layout");
_Static_assert(sizeof(struct pw_exc_key) == 28, "pw_exc_key layout");
_Static_assert(sizeof(struct pw_exc_val) == 96, "pw_exc_val layout");
_Static_assert(sizeof(struct pw_rule_info) == 72, "pw_rule_info layout");
_Static_assert(sizeof(struct pw_ct_key) == 40, "pw_ct_key layout");
_Static_assert(sizeof(struct pw_ct_val) == 16, "pw_ct_val layout");
_Static_assert(sizeof(struct pw_frag_key) == 40, "pw_frag_key layout");
_Static_assert(sizeof(struct pw_stats) == 96, "pw_stats layout");
_Static_assert(sizeof(struct pw_frag_src_key) == 20, "pw_frag_src_key layout");
_Static_assert(sizeof(struct pw_frag_src_val) == 16, "pw_frag_src_val layout");
_Static_assert(sizeof(struct pw_event) == 72, "pw_event layout");
_Static_assert(sizeof(struct pw_name_key) == 16, "pw_name_key layout");
_Static_assert(sizeof(struct pw_name_val) == 392, "pw_name_val layout");
_Static_assert(sizeof(struct pw_resolver_key) == 24, "pw_resolver_key layout");
_Static_assert(sizeof(struct pw_dnsq_key) == 24, "pw_dnsq_key layout");
_Static_assert(sizeof(struct pw_dnsq_val) == 24, "pw_dnsq_val layout");
_Static_assert(sizeof(struct pw_learned_key) == 32, "pw_learned_key layout");
_Static_assert(sizeof(struct pw_learned_val) == 24, "pw_learned_val layout");
_Static_assert(sizeof(struct pw_dns_user_key) == 8, "pw_dns_user_key layout");
_Static_assert(sizeof(struct pw_dns_stats) == 88, "pw_dns_stats layout");

#endif /* PORTWALL_H */
