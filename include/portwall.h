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
 * allow rule can change the outcome; otherwise the class to look up in the
 * peer trie, whose answer is the first such rule covering the peer.
 *
 * The decision (the same code in BPF and in `portwall explain`):
 *   td = deny_class  ? trie(deny_class, peer)  : 0
 *   ta = !td && allow_class ? trie(allow_class, peer) : 0
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
 * The peer trie (BPF_MAP_TYPE_LPM_TRIE, BPF_F_NO_PREALLOC). The first 32
 * bits after prefixlen (scope) are always matched whole, so prefixlen is
 * 32 + the address prefix length. IPv4 addresses sit in addr[0..3]; IPv6
 * packets never match IPv4 entries (the family is part of the scope), so
 * an IPv4-mapped IPv6 source is not taken for an IPv4 peer.
 */
static inline __u32 pw_peer_scope(__u32 peer_class, __u32 fam)
{
	return (peer_class << 1) | fam;
}

struct pw_peer_key {
	__u32 prefixlen;
	__u32 scope;		/* pw_peer_scope(class, family) */
	__u8 addr[16];		/* network byte order */
};

struct pw_peer_val {
	__u32 rule;		/* the first rule of the class covering the prefix */
};

#define PW_PEER_SCOPE_BITS 32u

/*
 * The decision, shared word for word by the datapath and `portwall explain`
 * so that both read the same tables the same way. td / ta are the peer
 * trie's answers for the slot's deny / allow class (0: no class, no match,
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

#endif /* PORTWALL_H */
