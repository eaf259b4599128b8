/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* pw_judge.h - the verdict for one parsed packet, the same for both hooks:
 * the policy slot (and peer trie), connection tracking, ICMP errors,
 * fragments, counters and drop events. One exit path records every verdict
 * (pw_record). */
#ifndef PW_JUDGE_H
#define PW_JUDGE_H

#include "pw_clock.h"
#include "pw_maps.h"
#include "pw_parse.h"
#include "pw_dns.h"

/* The verdict's own copy of what struct pw_hook carries. Not a duplicate to
 * fold away: reading the fields through the hook pointer instead made the
 * allowed-port path 1.8x -> 2.2x the floor (measured with make bench). */
struct pw_ctx {
	__u32 wire_len;
	__u32 ifindex;
	__u32 dir;		/* PW_DIR_IN (XDP) / PW_DIR_OUT (tc egress) */
};

struct pw_result {
	__u8 action;		/* PW_PASS / PW_DROP (before monitor mode) */
	__u8 reason;		/* enum pw_reason */
	__u8 has_slot;		/* slot is valid: count per-port drops */
	__u8 pad;
	__u32 rule;		/* deciding rule; counted when reason is a rule/default */
	__u32 slot;
};

static __always_inline __u32 pw_slot_of(__u32 dir, const struct pw_pkt *p, int local_port)
{
	__u16 port_be = local_port ? p->sport_be : p->dport_be;

	switch (p->proto) {
	case IPPROTO_TCP:
		return pw_slot_l4(dir, PW_L4_TCP, bpf_ntohs(port_be));
	case IPPROTO_UDP:
		return pw_slot_l4(dir, PW_L4_UDP, bpf_ntohs(port_be));
	case IPPROTO_ICMP:
		return pw_slot_icmp(dir, PW_FAM_V4, p->icmp_type);
	case IPPROTO_ICMPV6:
		return pw_slot_icmp(dir, PW_FAM_V6, p->icmp_type);
	default:
		return pw_slot_proto(dir, p->proto);
	}
}

/* Word i of half `half` of pw_classes, 0 past the half. */
static __always_inline __u32 pw_class_word(__u32 half, __u32 i)
{
	if (i >= pw_class_words)
		return 0;
	__u32 k = (half & 1) * pw_class_words + i;
	const __u32 *w = bpf_map_lookup_elem(&pw_classes, &k);
	return w ? *w : 0;
}

/* The rank-th rule of the class whose run is at o (rank 0: none). */
static __always_inline __u32 pw_class_rule(__u32 half, __u32 o, __u32 rank)
{
	return rank ? pw_class_word(half, o + PW_CLASS_RUN_HEAD - 1 + rank) : 0;
}

/* The flat IPv4 lookup's rank for address a (host byte order) from entry
 * e (a root): a chunk per address byte, at most four array reads. */
static __always_inline __u32 pw_flat4_rank(__u32 half, __u32 e, __u32 a)
{
#pragma nounroll
	for (int i = 0; i < 4; i++) {
		if (!(e & PW_FLAT_NEXT))
			return e;
		__u32 c = e & ~PW_FLAT_NEXT;
		if (c >= pw_flat4_chunks)
			return 0;
		__u32 k = (half & 1) * pw_flat4_chunks + c;
		const struct pw_chunk *ch = bpf_map_lookup_elem(&pw_flat4, &k);
		if (!ch)
			return 0;
		e = ch->e[(a >> (24 - 8 * i)) & 0xff];
	}
	return e & PW_FLAT_NEXT ? 0 : e;
}

/* The trie's answer for (shape, peer): a rank, 0 when nothing matches. */
static __always_inline __u32 pw_trie(void *trie, __u32 shape, __u8 fam, const __u8 *peer)
{
	struct pw_peer_key k;
	struct pw_peer_val *v;

	k.prefixlen = PW_PEER_SCOPE_BITS + (fam == PW_FAM_V6 ? 128 : 32);
	k.scope = pw_peer_scope(shape, fam);
	__builtin_memcpy(k.addr, peer, 16);
	v = bpf_map_lookup_elem(trie, &k);
	return v ? v->rule : 0;
}

/* Class cls's answer for the peer (its first rule covering it, 0: none):
 * an IPv4 peer of a shape with a flat root from pw_flat4, else the trie. */
static __always_inline __u32 pw_class_answer(__u32 half, void *trie, __u32 cls, __u8 fam, const __u8 *addr)
{
	__u32 o = pw_class_word(half, cls);
	__u32 root = fam == PW_FAM_V4 ? pw_class_word(half, o + 1) : 0;
	__u32 rank;

	if (root) {
		__u32 a = (__u32)addr[0] << 24 | (__u32)addr[1] << 16 | (__u32)addr[2] << 8 | addr[3];
		rank = pw_flat4_rank(half, root, a);
	} else {
		rank = pw_trie(trie, pw_class_word(half, o), fam, addr);
	}
	return pw_class_rule(half, o, rank);
}

/* The policy's verdict for (slot, peer) in half `half`: the deciding rule,
 * and PW_PASS / PW_DROP in *action. */
static __always_inline __u32 pw_policy(__u32 half, __u32 slot, __u8 fam, const __u8 *addr, __u8 *action)
{
	__u32 idx = (half & 1) * PW_SLOT_COUNT + slot;
	struct pw_slot *s;
	__u32 td = 0, ta = 0;
	__u8 act = PW_DROP;

	s = bpf_map_lookup_elem(&pw_slots, &idx);
	if (!s) {
		*action = PW_DROP;	/* cannot happen: idx < max_entries */
		return PW_RULE_DEFAULT;
	}
	if (s->deny_class | s->allow_class) {
		void *trie = bpf_map_lookup_elem(&pw_peers, &half);
		if (trie) {
			if (s->deny_class)
				td = pw_class_answer(half, trie, s->deny_class, fam, addr);
			if (!td && s->allow_class)
				ta = pw_class_answer(half, trie, s->allow_class, fam, addr);
		}
	}
	__u32 rule = pw_decide(s, td, ta, &act);
	*action = act;
	return rule;
}

static __always_inline __u32 pw_policy_pkt(__u32 half, __u32 slot, const struct pw_pkt *p,
					   const __u8 *addr, __u8 *action)
{
	return pw_policy(half, slot, p->fam, addr, action);
}

static __always_inline struct pw_stats *pw_gstats(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&pw_stats, &zero);
}

/* ---- connection tracking -------------------------------------------------- */

static __always_inline __u64 pw_ct_timeout(const struct pw_config *cfg, __u8 proto, __u8 flags)
{
	__u32 s;

	if (proto == IPPROTO_TCP)
		/* after the host's FIN, the SYN timeout (120 s: nf_conntrack's
		 * FIN_WAIT), for the answer of a half-closed connection */
		s = flags & PW_CT_CLOSING ? cfg->ct_tcp_close : flags & PW_CT_FIN ? cfg->ct_tcp_syn :
		    flags & PW_CT_REPLIED ? cfg->ct_tcp_est : cfg->ct_tcp_syn;
	else if (proto == IPPROTO_UDP)
		s = cfg->ct_udp;
	else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6)
		s = cfg->ct_icmp;
	else
		s = cfg->ct_other;
	return (__u64)s * 1000000000ull;
}

static __always_inline int pw_is_echo_request(const struct pw_pkt *p)
{
	return (p->proto == IPPROTO_ICMP && p->icmp_type == PW_ICMP_ECHO_REQUEST) ||
	       (p->proto == IPPROTO_ICMPV6 && p->icmp_type == PW_ICMP6_ECHO_REQUEST);
}

static __always_inline int pw_is_echo_reply(const struct pw_pkt *p)
{
	return (p->proto == IPPROTO_ICMP && p->icmp_type == PW_ICMP_ECHO_REPLY) ||
	       (p->proto == IPPROTO_ICMPV6 && p->icmp_type == PW_ICMP6_ECHO_REPLY);
}

/* The flow key of a packet seen from this host: both directions of a flow
 * find the same key. Ports for every protocol that has them. ICMP: echo
 * only, by its id, and kind says who sent the request: the host
 * (PW_CT_ECHO_OUT: its request goes out, the reply comes in) or the peer
 * (PW_CT_ECHO_IN: the request comes in, the host's reply goes out). Returns
 * 0 when the packet belongs to no trackable flow (other ICMP). */
static __always_inline int pw_ct_key_of(struct pw_ct_key *k, const struct pw_pkt *p, __u32 dir)
{
	int out = dir == PW_DIR_OUT;

	__builtin_memset(k, 0, sizeof(*k));
	if (p->proto == IPPROTO_ICMP || p->proto == IPPROTO_ICMPV6) {
		if (pw_is_echo_request(p))
			k->kind = out ? PW_CT_ECHO_OUT : PW_CT_ECHO_IN;
		else if (pw_is_echo_reply(p))
			k->kind = out ? PW_CT_ECHO_IN : PW_CT_ECHO_OUT;
		else
			return 0;
		k->lport_be = p->sport_be;
	} else if (pw_port_hdr_len(p->proto)) {
		k->lport_be = out ? p->sport_be : p->dport_be;
		k->rport_be = out ? p->dport_be : p->sport_be;
	}
	pw_copy16(k->local, out ? p->src : p->dst);
	pw_copy16(k->remote, out ? p->dst : p->src);
	k->proto = p->proto;
	k->fam = p->fam;
	return 1;
}

#define PW_TCP_FIN 0x01
#define PW_TCP_SYN 0x02
#define PW_TCP_RST 0x04
#define PW_TCP_ACK 0x10

/* A TCP segment that opens a connection: SYN without ACK. */
static __always_inline int pw_bare_syn(const struct pw_pkt *p)
{
	return p->proto == IPPROTO_TCP && (p->tcp_flags & (PW_TCP_SYN | PW_TCP_ACK)) == PW_TCP_SYN;
}

/* The TCP state after the host sent flags fl on a flow in state `was`:
 * a bare SYN starts afresh (the 4-tuple used again); an RST closes an
 * established flow (in SYN-SENT the host's RST answers a SYN-ACK it does
 * not accept, RFC 793, and its attempt goes on); a FIN half-closes; an
 * ACK without SYN establishes (the host accepted the peer's answer). */
static __always_inline __u8 pw_tcp_next(__u8 was, __u8 fl)
{
	if ((fl & (PW_TCP_SYN | PW_TCP_ACK)) == PW_TCP_SYN)
		return 0;
	if (fl & PW_TCP_RST)
		return was & PW_CT_REPLIED ? was | PW_CT_CLOSING : was;
	if (fl & PW_TCP_FIN)
		return was | PW_CT_FIN;
	if ((fl & PW_TCP_ACK) && !(fl & PW_TCP_SYN) && !(was & PW_CT_CLOSING))
		return was | PW_CT_REPLIED;
	return was;
}

/* The map of conntrack table t (enum pw_ct_table). Every caller passes a
 * constant, so each call site names one map: the verifier inlines a
 * lookup only where its map is the same on every path. */
static __always_inline void *pw_ct_map(const int t)
{
	return t == PW_CT_TABLE_TCP ? (void *)&pw_ct : t == PW_CT_TABLE_DGRAM ? (void *)&pw_ct_dgram
									 : (void *)&pw_ct_in;
}

/* Count an entry of table t removed (expired or closed). */
static __always_inline void pw_ct_count_removed(struct pw_stats *gs, const int t)
{
	if (t == PW_CT_TABLE_TCP)
		gs->ct_removed++;
	else if (t == PW_CT_TABLE_DGRAM)
		gs->ct_dgram_removed++;
	else
		gs->ct_in_removed++;
}

/* Count a new flow of table t; `expired`: it takes the place of an expired
 * entry of the same key, which counts as removed. Per table, so that each
 * table's evictions can be told (status). */
static __always_inline void pw_ct_created(const int t, int expired)
{
	struct pw_stats *gs = pw_gstats();

	if (!gs)
		return;
	if (t == PW_CT_TABLE_TCP)
		gs->ct_created++;
	else if (t == PW_CT_TABLE_DGRAM)
		gs->ct_dgram_created++;
	else
		gs->ct_in_created++;
	if (expired)
		pw_ct_count_removed(gs, t);
}

/* The age of an entry last seen at last_ns: 0 when that is after now (a
 * time written by another reader of the same clock, userspace's coarse
 * clock or a mark, a tick ahead of the offset the loader measured: an
 * unsigned difference would make it look ancient, and expired). */
static __always_inline __u64 pw_ct_age(__u64 now, __u64 last_ns)
{
	return now > last_ns ? now - last_ns : 0;
}

/* Has the flow v of protocol proto timed out? */
static __always_inline int pw_ct_expired(const struct pw_config *cfg, __u8 proto, const struct pw_ct_val *v,
					 __u64 now)
{
	return pw_ct_age(now, v->last_ns) > pw_ct_timeout(cfg, proto, v->flags);
}

/* Track the host's packet p of flow k in table t (pw_ct for TCP,
 * pw_ct_dgram for the rest). Writes at most once a second per flow,
 * unless the state changes; an expired entry of the key is started
 * afresh, as a new flow. mark (a constant): PW_CT_EXC for a packet only an
 * out exception lets out (the flow is the exception's), 0 for one the out
 * rules let out (the flow is the host's own, whatever opened it). Returns
 * 1 when the key is a flow a reload revoked (PW_CT_REVOKED, live): the
 * packet is dropped, nothing written. */
static __always_inline int pw_ct_track_out(const struct pw_config *cfg, const struct pw_pkt *p,
					   struct pw_ct_key *k, const int t, const __u8 mark)
{
	struct pw_ct_val *v, nv = {};
	const int tcp = t == PW_CT_TABLE_TCP;
	__u64 now = pw_ct_now(cfg);

	v = bpf_map_lookup_elem(pw_ct_map(t), k);
	if (v && pw_ct_expired(cfg, k->proto, v, now)) {
		/* a half-closed or reset flow stays closing: only a SYN
		 * starts it over, a keepalive ACK does not re-establish it.
		 * A revoked flow's mark, timed out, is a flow of the host's */
		v->flags = (tcp ? pw_tcp_next(v->flags & (PW_CT_FIN | PW_CT_CLOSING), p->tcp_flags) : 0) | mark;
		v->last_ns = now;
		v->dir = PW_DIR_OUT;
		pw_ct_created(t, 1);
		return 0;
	}
	if (v && (v->flags & PW_CT_REVOKED)) {
		/* kept while the host goes on sending on it (the peer's
		 * packets change no state) */
		if (now - v->last_ns >= PW_CT_REFRESH_NS)
			v->last_ns = now;
		return 1;
	}
	if (v) {
		__u8 next = ((tcp ? pw_tcp_next(v->flags, p->tcp_flags) : v->flags) & ~PW_CT_EXC) | mark;
		if (now - v->last_ns < PW_CT_REFRESH_NS && next == v->flags)
			return 0;
		v->last_ns = now;
		v->flags = next;
		return 0;
	}
	nv.last_ns = now;
	nv.flags = (tcp ? pw_tcp_next(0, p->tcp_flags) : 0) | mark;
	nv.dir = PW_DIR_OUT;
	if (bpf_map_update_elem(pw_ct_map(t), k, &nv, BPF_NOEXIST) == 0)
		pw_ct_created(t, 0);
	return 0;
}

/* An outbound packet the out rules let pass: track its flow in the table
 * of its protocol, so that datagrams to many destinations (any local user
 * may send them where an out rule allows) evict no TCP flow. Two call
 * sites, one map each: a TCP packet looks in pw_ct alone, any other in
 * pw_ct_dgram alone. Returns 1 for a packet of a revoked flow (drop it). */
static __always_inline int pw_ct_outbound(const struct pw_config *cfg, const struct pw_pkt *p)
{
	struct pw_ct_key k;

	if (p->frag == PW_FRAG_LATER || !pw_ct_key_of(&k, p, PW_DIR_OUT) || k.kind == PW_CT_ECHO_IN)
		return 0;	/* the host's echo reply opens nothing */
	if (p->proto == IPPROTO_TCP)
		return pw_ct_track_out(cfg, p, &k, PW_CT_TABLE_TCP, 0);
	return pw_ct_track_out(cfg, p, &k, PW_CT_TABLE_DGRAM, 0);
}

/* A live entry of table t for key k, or NULL; an expired one is deleted.
 * The clock is read only on a hit, into *now. */
static __always_inline struct pw_ct_val *pw_ct_live(const struct pw_config *cfg, const int t, struct pw_ct_key *k,
						    __u64 *now)
{
	void *ct = pw_ct_map(t);
	struct pw_ct_val *v = bpf_map_lookup_elem(ct, k);

	if (!v)
		return NULL;
	*now = pw_ct_now(cfg);
	if (pw_ct_age(*now, v->last_ns) <= pw_ct_timeout(cfg, k->proto, v->flags))
		return v;
	if (bpf_map_delete_elem(ct, k) == 0) {
		struct pw_stats *gs = pw_gstats();
		if (gs)
			pw_ct_count_removed(gs, t);
	}
	return NULL;
}

/* Is (key) a live flow the host opened (pw_ct for TCP, pw_ct_dgram for the
 * rest: one lookup, in the table of its protocol)? With refresh (an inbound
 * packet of it): the entry is refreshed and marked replied, except for
 * TCP, whose state only the host's own segments change; an inbound FIN or
 * RST there is counted as ignored (a blind one could stall the flow).
 * want (a constant): 0 for a flow of the host's own, PW_CT_EXC for one an
 * out exception opened (its caller checks the exception lives). The one
 * test of the flags covers both marks, so the reply paths pay nothing for
 * the exceptions' flows. */
static __always_inline int pw_ct_match_as(const struct pw_config *cfg, struct pw_ct_key *k, __u32 tcp_flags,
					  __u32 refresh, const __u8 want)
{
	__u64 now = 0;
	struct pw_ct_val *v;

	if (!k || k->kind == PW_CT_ECHO_IN)
		return 0;	/* a peer's echo request is no reply */
	/* two call sites, one map each (pw_ct_map) */
	v = k->proto == IPPROTO_TCP ? pw_ct_live(cfg, PW_CT_TABLE_TCP, k, &now)
				    : pw_ct_live(cfg, PW_CT_TABLE_DGRAM, k, &now);
	if (!v || (v->flags & (PW_CT_REVOKED | PW_CT_EXC)) != want)
		return 0;	/* a revoked flow's mark is no flow: it only blocks */
	if (!refresh)
		return 1;
	if (k->proto == IPPROTO_TCP) {
		if ((tcp_flags & (PW_TCP_FIN | PW_TCP_RST)) && !(v->flags & PW_CT_CLOSING)) {
			struct pw_stats *gs = pw_gstats();
			if (gs)
				gs->ct_ignored++;
		}
		return 1;
	}
	if (now - v->last_ns >= PW_CT_REFRESH_NS || !(v->flags & PW_CT_REPLIED)) {
		v->last_ns = now;
		v->flags |= PW_CT_REPLIED;
	}
	return 1;
}

static __always_inline int pw_ct_match(const struct pw_config *cfg, struct pw_ct_key *k, __u32 tcp_flags,
				       __u32 refresh)
{
	return pw_ct_match_as(cfg, k, tcp_flags, refresh, 0);
}

/* Remember (or refresh) flow k, which a peer started, in pw_ct_in; flags
 * (a constant): PW_CT_EXC when an in exception let it in, else 0. */
static __always_inline void pw_ct_in_note(const struct pw_config *cfg, struct pw_ct_key *k, const __u8 flags)
{
	struct pw_ct_val *v, nv = {};
	__u64 now = pw_ct_now(cfg);

	v = bpf_map_lookup_elem(&pw_ct_in, k);
	if (v) {
		int expired = pw_ct_expired(cfg, k->proto, v, now);
		if (expired || now - v->last_ns >= PW_CT_REFRESH_NS)
			v->last_ns = now;
		if (flags & ~v->flags)
			v->flags |= flags;
		if (expired)
			pw_ct_created(PW_CT_TABLE_IN, 1);	/* started afresh */
		return;
	}
	nv.last_ns = now;
	nv.flags = flags;
	nv.dir = PW_DIR_IN;
	if (bpf_map_update_elem(&pw_ct_in, k, &nv, BPF_NOEXIST) == 0)
		pw_ct_created(PW_CT_TABLE_IN, 0);
}

/* An inbound packet the policy let in (not TCP): remember its flow in
 * pw_ct_in, so that the host's replies pass on egress. */
static __always_inline void pw_ct_inbound(const struct pw_config *cfg, const struct pw_pkt *p)
{
	struct pw_ct_key k;

	/* TCP first and alone: an allowed TCP packet, the common case, pays one
	 * compare here */
	if (p->proto == IPPROTO_TCP)
		return;
	if (p->frag == PW_FRAG_LATER || !pw_ct_key_of(&k, p, PW_DIR_IN) || k.kind == PW_CT_ECHO_OUT)
		return;	/* the reply to the host's own echo request opens nothing */
	pw_ct_in_note(cfg, &k, 0);
}

/* Egress: would the in rules let in the packet this one answers (the
 * peer's, to the local port; an echo reply answers an echo request)? */
static __always_inline int pw_in_rules_let_in(__u32 half, const struct pw_pkt *p, const __u8 *peer)
{
	__u8 action;

	if ((p->proto == IPPROTO_ICMP || p->proto == IPPROTO_ICMPV6) && !pw_is_echo_reply(p))
		return 0;
	__u32 slot = p->proto == IPPROTO_ICMP ? pw_slot_icmp(PW_DIR_IN, PW_FAM_V4, PW_ICMP_ECHO_REQUEST) :
		     p->proto == IPPROTO_ICMPV6 ? pw_slot_icmp(PW_DIR_IN, PW_FAM_V6, PW_ICMP6_ECHO_REQUEST) :
		     pw_slot_of(PW_DIR_IN, p, 1);
	pw_policy_pkt(half, slot, p, peer, &action);
	return action == PW_PASS;
}

/* Egress, not TCP: does the packet reply to a flow the peer started (and
 * the policy let in)? Refreshes it. */
static __always_inline int pw_ct_in_reply(const struct pw_config *cfg, const struct pw_pkt *p)
{
	struct pw_ct_key k;

	if (!pw_ct_key_of(&k, p, PW_DIR_OUT) || k.kind == PW_CT_ECHO_OUT)
		return 0;	/* the host's own echo request: the out rules judge it */
	__u64 now = 0;
	struct pw_ct_val *v = pw_ct_live(cfg, PW_CT_TABLE_IN, &k, &now);
	if (!v)
		return 0;
	if (now - v->last_ns >= PW_CT_REFRESH_NS)
		v->last_ns = now;
	return 1;
}

/* ---- ICMP errors ---------------------------------------------------------- */

static __always_inline int pw_addr_eq(const __u8 *a, const __u8 *b)
{
	__u64 a0, a1, b0, b1;

	__builtin_memcpy(&a0, a, 8);
	__builtin_memcpy(&a1, a + 8, 8);
	__builtin_memcpy(&b0, b, 8);
	__builtin_memcpy(&b1, b + 8, 8);
	return a0 == b0 && a1 == b1;
}

/* An ICMP error whose quote the parser reads (pw_icmp_error_type). */
static __always_inline int pw_is_icmp_error(const struct pw_pkt *p)
{
	return (p->proto == IPPROTO_ICMP || p->proto == IPPROTO_ICMPV6) &&
	       pw_icmp_error_type(p->fam, p->icmp_type);
}

/* The packet an ICMP error quotes, as a packet of its own: addresses,
 * protocol, ports (or echo id) and ICMP type, as it went on the wire. */
static __always_inline void pw_quoted(struct pw_pkt *q, const struct pw_pkt *p)
{
	q->fam = p->fam;
	q->proto = p->in_proto;
	q->icmp_type = p->in_type;
	q->sport_be = p->in_sport_be;
	q->dport_be = p->in_dport_be;
	__builtin_memcpy(q->src, p->in_src, 16);
	__builtin_memcpy(q->dst, p->in_dst, 16);
}

/* An inbound ICMP error quoting a packet this host sent: does the quoted
 * packet belong to a tracked flow, or is it a reply the policy's in rules
 * allow (a local listener's answer)? */
static __always_inline int pw_icmp_related(const struct pw_config *cfg, __u32 half,
					   const struct pw_pkt *p)
{
	struct pw_pkt in = {};
	struct pw_ct_key k;
	__u8 action;

	if (!p->in_ok || !pw_addr_eq(p->in_src, p->dst))
		return 0;	/* not read, or not a packet this host sent */
	pw_quoted(&in, p);
	if (!pw_ct_key_of(&k, &in, PW_DIR_OUT))
		return 0;
	if (pw_ct_match(cfg, &k, 0, 0))
		return 1;	/* a flow the host opened */
	__u64 now;
	if (in.proto != IPPROTO_TCP)	/* the host's reply on a flow a peer started */
		return pw_ct_live(cfg, PW_CT_TABLE_IN, &k, &now) != NULL;
	/* a local listener's segment (the quote holds no TCP flags) */
	pw_policy_pkt(half, pw_slot_of(PW_DIR_IN, &in, 1), &in, in.dst, &action);
	return action == PW_PASS;
}

/* Egress, the out rules dropped it: an ICMP error the host sends about a
 * packet it received (port unreachable for a datagram to a closed port,
 * fragmentation needed, reassembly timed out). Related when it goes from
 * the quoted packet's destination back to its source, as the kernel sends
 * its errors, and that packet was one the datapath lets in: by the in
 * rules (which covers every flow a peer started: a pw_ct_in flow lives
 * only while they let it in), or as the peer's packet of a flow the host
 * opened. So the host answers, about packets the policy accepted, only
 * their senders; nothing is refreshed. The in rules come first: an array
 * lookup, where pw_ct is a hash. */
static __always_inline int pw_icmp_related_out(const struct pw_config *cfg, __u32 half,
					       const struct pw_pkt *p)
{
	struct pw_pkt in = {};
	struct pw_ct_key k;
	__u8 action;

	if (!p->in_ok || !pw_addr_eq(p->in_dst, p->src) || !pw_addr_eq(p->in_src, p->dst))
		return 0;	/* not read, not a packet the host got, or not to its sender */
	pw_quoted(&in, p);
	pw_policy_pkt(half, pw_slot_of(PW_DIR_IN, &in, 0), &in, in.src, &action);
	if (action == PW_PASS)
		return 1;
	return pw_ct_key_of(&k, &in, PW_DIR_IN) && pw_ct_match(cfg, &k, 0, 0);
}

/* ---- timed exceptions (pw_exc, portwall.h) --------------------------------- */

/* Is there a live exception of direction edir for (proto, port, peer)?
 * The narrowest prefix answers; an expired one (not yet deleted by the
 * agent) hands over to the next wider one, PW_EXC_NEST entries at most. */
static __always_inline int pw_exc_live(__u8 edir, const struct pw_pkt *p, __u16 port_be, const __u8 *peer)
{
	struct pw_exc_key k;
	struct pw_exc_val *v;

	k.prefixlen = PW_EXC_KEY_BITS + (p->fam == PW_FAM_V6 ? 128 : 32);
	k.dir = edir;
	k.proto = p->proto;
	k.fam = p->fam;
	k.pad = 0;
	k.port_be = port_be;
	k.pad2 = 0;
	__builtin_memcpy(k.addr, peer, 16);
	__u64 now = bpf_ktime_get_boot_ns();
	for (int i = 0; i < PW_EXC_NEST; i++) {
		v = bpf_map_lookup_elem(&pw_exc, &k);
		if (!v)
			return 0;
		if (now < v->expires_ns)
			return 1;
		if (v->plen == 0)
			return 0;
		k.prefixlen = PW_EXC_KEY_BITS + v->plen - 1;
	}
	return 0;
}

/* Is k a live entry of table t with every flag of want (constants)?
 * Refreshed, at most once a second. */
static __always_inline int pw_ct_live_as(const struct pw_config *cfg, const int t, struct pw_ct_key *k,
					 const __u8 want)
{
	__u64 now = 0;
	struct pw_ct_val *v = pw_ct_live(cfg, t, k, &now);

	if (!v || (v->flags & want) != want)
		return 0;
	if (now - v->last_ns >= PW_CT_REFRESH_NS)
		v->last_ns = now;
	return 1;
}

/* Is k a live flow an in exception let a peer start (pw_ct_in, PW_CT_EXC)?
 * Refreshed as the host's replies refresh pw_ct_in. */
static __always_inline int pw_ct_in_exc(const struct pw_config *cfg, struct pw_ct_key *k)
{
	return pw_ct_live_as(cfg, PW_CT_TABLE_IN, k, PW_CT_EXC);
}

/* An inbound ICMP error the other chances drop: does it quote the host's
 * packet of a flow a live out exception opened (PMTU for its connections,
 * a port unreachable for its query)? Nothing is refreshed. */
static __noinline int pw_exc_related(const struct pw_config *cfg, const struct pw_pkt *p)
{
	struct pw_pkt in = {};
	struct pw_ct_key k;

	if (!pw_is_icmp_error(p) || !p->in_ok || !pw_addr_eq(p->in_src, p->dst))
		return 0;	/* not read, or not a packet this host sent */
	pw_quoted(&in, p);
	if ((in.proto != IPPROTO_TCP && in.proto != IPPROTO_UDP) || !pw_exc_live(PW_DIR_OUT, &in, in.dport_be, in.dst) ||
	    !pw_ct_key_of(&k, &in, PW_DIR_OUT))
		return 0;
	return pw_ct_match_as(cfg, &k, 0, 0, PW_CT_EXC);
}

/* The flow k of the host's answer on an in exception (and of the peer's
 * datagram it let in), in table t: marked
 * as a revoked flow is (PW_CT_REVOKED, a peer's), so that no flow of the
 * host's grows from its answers, and at the exception's expiry it ends
 * both ways as a revoked flow does, agent or not; PW_CT_EXC besides, so
 * that a reload keeps it while the exception lives even under a policy
 * that allows the port (ct_flush.c). Written once, then at most once a
 * second. A live flow of the host's own with that key (one the
 * out rules let it open, whose answers pass by conntrack) is never marked:
 * returns 0 and the host's packet is tracked as any of its own; 1 when the
 * mark carries it. */
static __always_inline int pw_exc_mark(const struct pw_config *cfg, struct pw_ct_key *k, const int t, __u8 flags)
{
	struct pw_ct_val *v = bpf_map_lookup_elem(pw_ct_map(t), k);
	__u64 now = pw_ct_now(cfg);	/* the clock pw_ct_expired reads */

	if (v && (v->flags & PW_CT_REVOKED)) {
		/* a reload's mark (revoke_dgram, pw_dp_revoke_tcp) the
		 * exception now carries becomes its mark: the flush keeps it
		 * while the exception lives */
		if (now - v->last_ns >= PW_CT_REFRESH_NS || (flags & PW_CT_EXC & ~v->flags)) {
			v->last_ns = now;
			v->flags |= flags & PW_CT_EXC;
		}
		return 1;
	}
	if (v && !pw_ct_expired(cfg, k->proto, v, now))
		return 0;
	struct pw_ct_val nv = { .last_ns = now, .flags = flags, .dir = PW_DIR_IN };
	/* none (another CPU's new flow wins the race), or an expired one */
	bpf_map_update_elem(pw_ct_map(t), k, &nv, v ? BPF_EXIST : BPF_NOEXIST);
	return 1;
}

enum { PW_EXC_NONE = 0, PW_EXC_PASS = 1, PW_EXC_REVOKED = 2 };

/* A packet every other chance drops (dir: its direction, peer: its remote
 * address): does a timed exception let it through? TCP and UDP only (an
 * exception names a port), and an inbound ICMP error about one of its
 * flows. The packet of the exception's own direction matches by its port
 * and peer, and opens (or goes on) a flow of the exception's, PW_CT_EXC:
 * out, the host's flow in pw_ct / pw_ct_dgram with the TCP state of any
 * (PW_EXC_REVOKED where that key is a revoked flow's mark); in, a datagram,
 * the peer's in pw_ct_in. The other direction's packet is an answer, never
 * a bare SYN: it passes only while the exception lives, and only on such
 * a flow, so the peer's answers reach the host's own flows' 5-tuples and
 * no other port. The host's TCP answer on an in exception needs none: as
 * for a local listener, the host's kernel sends a segment other than a
 * bare SYN only within a connection it holds. */
static __always_inline int pw_exc_chance(const struct pw_config *cfg, const struct pw_pkt *p, __u32 dir,
					 const __u8 *peer)
{
	struct pw_ct_key k;

	if (p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP)
		return dir == PW_DIR_IN && pw_exc_related(cfg, p);
	/* the key's port: the destination port of the exception's own
	 * direction (the local one in, the peer's out), its answer's source */
	if (p->frag == PW_FRAG_LATER || !pw_ct_key_of(&k, p, dir))
		return PW_EXC_NONE;	/* cannot happen: judged as fragments first */
	if (pw_exc_live(dir, p, p->dport_be, peer)) {
		if (dir == PW_DIR_OUT)	/* two call sites, one map each (pw_ct_map) */
			return p->proto == IPPROTO_TCP
				       ? PW_EXC_PASS + pw_ct_track_out(cfg, p, &k, PW_CT_TABLE_TCP, PW_CT_EXC)
				       : PW_EXC_PASS + pw_ct_track_out(cfg, p, &k, PW_CT_TABLE_DGRAM, PW_CT_EXC);
		if (p->proto == IPPROTO_UDP) {
			/* the note lets the host answer; the mark, written
			 * and kept alive by the peer's datagrams too, ends
			 * the session at expiry even if only the peer spoke
			 * for longer than the UDP timeout, or others' flows
			 * evicted the note (pw_exc_answer) */
			pw_ct_in_note(cfg, &k, PW_CT_EXC);
			pw_exc_mark(cfg, &k, PW_CT_TABLE_DGRAM, PW_CT_REVOKED | PW_CT_EXC);
		}
		return PW_EXC_PASS;
	}
	if (pw_bare_syn(p) || !pw_exc_live(dir ^ 1, p, p->sport_be, peer))
		return PW_EXC_NONE;
	if (dir == PW_DIR_IN)	/* the peer's answer on an out exception's flow */
		return pw_ct_match_as(cfg, &k, p->tcp_flags, 1, PW_CT_EXC);
	return p->proto == IPPROTO_TCP || pw_ct_in_exc(cfg, &k);
}

/* Egress, a packet the out rules let out: is it the host's answer on a
 * flow a live in exception let in (from its port to its peer, not a bare
 * SYN; a datagram only on a flow the exception let the peer start: its
 * note in pw_ct_in, or its mark)? Then the exception carries it, marked
 * (pw_exc_mark). */
static __always_inline int pw_exc_answer(const struct pw_config *cfg, const struct pw_pkt *p)
{
	struct pw_ct_key k;

	if ((p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP) || pw_bare_syn(p) || p->frag == PW_FRAG_LATER ||
	    !pw_exc_live(PW_DIR_IN, p, p->sport_be, p->dst) || !pw_ct_key_of(&k, p, PW_DIR_OUT))
		return 0;
	if (p->proto == IPPROTO_TCP)
		return pw_exc_mark(cfg, &k, PW_CT_TABLE_TCP, PW_CT_REVOKED | PW_CT_REPLIED | PW_CT_EXC);
	if (pw_ct_in_exc(cfg, &k))
		return pw_exc_mark(cfg, &k, PW_CT_TABLE_DGRAM, PW_CT_REVOKED | PW_CT_EXC);
	/* the note evicted or timed out: the mark the peer's datagrams wrote */
	return pw_ct_live_as(cfg, PW_CT_TABLE_DGRAM, &k, PW_CT_REVOKED | PW_CT_EXC);
}

enum { PW_MON_NONE = 0, PW_MON_ANSWER = 1, PW_MON_UNTRACKED = 2 };

/* Monitor mode, egress, a packet whose local port the in rules refuse:
 * would the host's flow it opens or goes on be born of a peer's packet
 * only monitor mode let in? Then it opens no flow of the host's (under
 * default out allow such a flow would outlive the switch to enforce,
 * whose in rules drop the peer's packets, and its peer's would pass as
 * replies):
 *  - PW_MON_ANSWER, a datagram flow (not an echo: the host's echo reply
 *    opens nothing anyway, and a spoofed ping must not write into
 *    pw_ct_dgram): the host's answer on a peer's flow noted in pw_ct_in
 *    at its would-be drop, with no live flow of the host's own there. It
 *    passes as a reply; the host's side is marked as a revoked flow's
 *    (pw_exc_mark, PW_CT_REVOKED), so that the reload to enforce ends the
 *    session though the note timed out or was evicted meanwhile;
 *  - PW_MON_UNTRACKED, TCP: a segment other than a bare SYN on no live
 *    entry of pw_ct (a connection the host did not open: its SYN would
 *    have been tracked), left untracked;
 *  - PW_MON_NONE: any other, tracked as the host's. */
static __always_inline int pw_mon_answer(const struct pw_config *cfg, const struct pw_pkt *p)
{
	struct pw_ct_key k;
	__u64 now = 0;

	if (p->frag == PW_FRAG_LATER || !pw_ct_key_of(&k, p, PW_DIR_OUT))
		return PW_MON_NONE;
	if (p->proto == IPPROTO_TCP)
		return pw_bare_syn(p) || pw_ct_live(cfg, PW_CT_TABLE_TCP, &k, &now) ? PW_MON_NONE : PW_MON_UNTRACKED;
	if (k.kind != PW_CT_FLOW || !pw_ct_live(cfg, PW_CT_TABLE_IN, &k, &now))
		return PW_MON_NONE;
	return pw_exc_mark(cfg, &k, PW_CT_TABLE_DGRAM, PW_CT_REVOKED) ? PW_MON_ANSWER : PW_MON_NONE;
}

/* ---- fragments ------------------------------------------------------------ */

static __always_inline void pw_frag_key_of(struct pw_frag_key *k, const struct pw_pkt *p, __u32 dir)
{
	__builtin_memset(k, 0, sizeof(*k));
	__builtin_memcpy(k->src, p->src, 16);
	__builtin_memcpy(k->dst, p->dst, 16);
	k->id = p->frag_id;
	k->proto = p->frag_proto;
	k->fam = p->fam;
	k->dir = dir;
}

/* May the peer of this first fragment have one more remembered? At most
 * PW_FRAG_SHARE within a fragment timeout, so that one peer cannot flush
 * the others' entries out of pw_frags (a flood from many forged sources
 * still can: docs/datapath.md). */
static __always_inline int pw_frag_share(const struct pw_config *cfg, const struct pw_pkt *p, __u32 dir, __u64 now)
{
	struct pw_frag_src_key k = {};
	struct pw_frag_src_val *v, nv = { .window_ns = now, .count = 1 };

	__builtin_memcpy(k.peer, dir == PW_DIR_IN ? p->src : p->dst, 16);
	k.fam = p->fam;
	k.dir = (__u8)dir;	/* a share each way: forging V spends none of the host's to V */
	v = bpf_map_lookup_elem(&pw_frag_src, &k);
	if (!v)
		return bpf_map_update_elem(&pw_frag_src, &k, &nv, BPF_ANY), 1;
	if (now - v->window_ns > (__u64)cfg->frag_timeout * 1000000000ull) {
		v->window_ns = now;
		v->count = 0;
	}
	if (v->count >= PW_FRAG_SHARE) {
		struct pw_stats *gs = pw_gstats();
		if (gs)
			gs->frags_over_share++;
		return 0;
	}
	v->count++;
	return 1;
}

static __always_inline void pw_frag_remember(const struct pw_config *cfg, const struct pw_pkt *p, __u32 dir)
{
	struct pw_frag_key k;
	struct pw_frag_val v = { .last_ns = bpf_ktime_get_coarse_ns() };

	if (!pw_frag_share(cfg, p, dir, v.last_ns))
		return;
	pw_frag_key_of(&k, p, dir);
	if (bpf_map_update_elem(&pw_frags, &k, &v, BPF_ANY) == 0) {
		struct pw_stats *gs = pw_gstats();
		if (gs)
			gs->frags_tracked++;
	}
}

static __always_inline int pw_frag_known(const struct pw_config *cfg, const struct pw_pkt *p, __u32 dir)
{
	struct pw_frag_key k;
	struct pw_frag_val *v;

	pw_frag_key_of(&k, p, dir);
	v = bpf_map_lookup_elem(&pw_frags, &k);
	return v && bpf_ktime_get_coarse_ns() - v->last_ns <= (__u64)cfg->frag_timeout * 1000000000ull;
}

/* ---- counters and events -------------------------------------------------- */

static __always_inline void pw_count(struct pw_counter *c, __u32 len)
{
	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

/* The tokens of bucket b refilled at time now (the fast path, pw_fast.h,
 * refills it the same way): ev_rate tokens a second, at most ev_burst
 * saved. */
static __always_inline __u64 pw_bucket_refill(const struct pw_config *cfg, const struct pw_bucket *b, __u64 now)
{
	__u64 cap = (__u64)cfg->ev_burst * 1000000000ull;
	__u64 add = (now - b->last_ns) * cfg->ev_rate;

	if (now - b->last_ns > 1000000000ull * 3600)
		add = cap;	/* idle for an hour or never: a full bucket */
	return b->tokens + add > cap ? cap : b->tokens + add;
}

static __always_inline void pw_event(const struct pw_ctx *c, const struct pw_config *cfg,
				     const struct pw_pkt *p, const struct pw_result *r, __u8 monitor)
{
	struct pw_stats *gs = pw_gstats();
	__u32 zero = 0;
	struct pw_bucket *b = bpf_map_lookup_elem(&pw_ratelimit, &zero);

	if (!gs || !b)
		return;
	/* the time of the last tick: a bucket of events a second needs no more */
	__u64 now = pw_tick_ns();
	b->tokens = pw_bucket_refill(cfg, b, now);
	b->last_ns = now;
	if (b->tokens < 1000000000ull) {
		gs->events_suppressed++;
		return;
	}
	b->tokens -= 1000000000ull;
	struct pw_event *e = bpf_ringbuf_reserve(&pw_events, sizeof(*e), 0);
	if (!e) {
		gs->events_lost++;
		return;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->ifindex = c->ifindex;
	e->rule = r->rule;
	e->len = c->wire_len;
	e->dir = c->dir;
	e->reason = r->reason;
	e->proto = p->proto;
	e->fam = p->fam;
	e->tcp_flags = p->tcp_flags;
	e->icmp_type = p->icmp_type;
	e->icmp_code = p->icmp_code;
	e->monitor = monitor;
	e->vlan = p->vlan;
	e->sport_be = p->sport_be;
	e->dport_be = p->dport_be;
	e->pad = 0;
	__builtin_memcpy(e->src, p->src, 16);
	__builtin_memcpy(e->dst, p->dst, 16);
	bpf_ringbuf_submit(e, 0);
	gs->events_sent++;
}

/* Record the verdict (counters, drop event) and return PW_PASS / PW_DROP
 * after monitor mode. Every way to a verdict ends here. */
static __always_inline int pw_record(const struct pw_ctx *c, const struct pw_config *cfg,
				     const struct pw_pkt *p, const struct pw_result *r)
{
	__u32 k = (c->dir & 1) * PW_R_COUNT + r->reason;

	pw_count(bpf_map_lookup_elem(&pw_reason_stats, &k), c->wire_len);
	if (r->reason == PW_R_ALLOW_RULE || r->reason == PW_R_ALLOW_DEFAULT ||
	    r->reason == PW_R_DROP_DEFAULT || r->reason == PW_R_DROP_DENY) {
		k = cfg->rule_base + r->rule * 2 + (c->dir & 1);
		pw_count(bpf_map_lookup_elem(&pw_rule_stats, &k), c->wire_len);
	}
	if (r->action == PW_PASS)
		return PW_PASS;
	if (r->has_slot) {
		k = r->slot;
		__u64 *d = bpf_map_lookup_elem(&pw_port_drops, &k);
		if (d)
			(*d)++;
	}
	__u8 monitor = cfg->mode == PW_MODE_MONITOR;
	pw_event(c, cfg, p, r, monitor);
	return monitor ? PW_PASS : PW_DROP;
}


/* ---- the verdict ----------------------------------------------------------- */

/* What the hook knows besides the packet. */
struct pw_hook {
	__u32 wire_len;
	__u32 ifindex;
	__u32 dir;		/* PW_DIR_IN (XDP) / PW_DIR_OUT (tc egress) */
	__u32 parse;		/* enum pw_parse_res */
};

/* The verdict for a parsed packet. Returns PW_PASS or PW_DROP (after monitor
 * mode). Inlined: as a global function (checked once by the verifier) it
 * cost ~35 ns a packet in calling alone; inlined the verifier still
 * processes only ~23k instructions, since the parser's costly part (the
 * IPv6 extension walk) is a global function of its own. */
static __always_inline int pw_verdict(struct pw_pkt *p, struct pw_hook *h, const struct pw_state *st)
{
	struct pw_result r = {};
	struct pw_ctx c = {};

	if (!st || !p || !h)
		return PW_PASS;	/* cannot happen: an array's entry 0, our own stack */
	c.wire_len = h->wire_len;
	c.ifindex = h->ifindex;
	c.dir = h->dir & 1;
	__u32 half = st->active & 1;
	const struct pw_config *cfg = &st->cfg[half];

	if (h->parse == PW_PARSE_NON_IP) {
		r.action = PW_PASS;
		r.reason = PW_R_NON_IP;
		return pw_record(&c, cfg, p, &r);
	}
	if (h->parse != PW_PARSE_OK) {
		r.action = PW_DROP;
		r.reason = PW_R_DROP_MALFORMED;
		return pw_record(&c, cfg, p, &r);
	}
	if (p->frag == PW_FRAG_LATER) {
		int ok = pw_frag_known(cfg, p, c.dir);
		r.action = ok ? PW_PASS : PW_DROP;
		r.reason = ok ? PW_R_FRAGMENT_OK : PW_R_DROP_FRAGMENT;
		return pw_record(&c, cfg, p, &r);
	}
	/* neighbor discovery passes whole; fragmented ND (RFC 6980 forbids it)
	 * gets no free pass, the rules judge it */
	if (p->proto == IPPROTO_ICMPV6 && p->icmp_type >= PW_ICMPV6_ND_FIRST &&
	    p->icmp_type <= PW_ICMPV6_ND_LAST && p->frag == PW_FRAG_NONE) {
		r.action = PW_PASS;
		r.reason = PW_R_NEIGHBOR;
		return pw_record(&c, cfg, p, &r);
	}

	const __u8 *peer = c.dir == PW_DIR_IN ? p->src : p->dst;
	__u8 action;
	int mon, track = 0;	/* track the flow after the verdict (below) */

	if (c.dir == PW_DIR_OUT && p->proto == IPPROTO_TCP && !pw_bare_syn(p)) {
		/* a local listener's segment: the in rules of its local
		 * (source) port decide. The host's TCP sends anything but a
		 * bare SYN only within a connection it holds, so this opens
		 * nothing a connect() could use (docs/datapath.md) */
		__u32 rule = pw_policy_pkt(half, pw_slot_of(PW_DIR_IN, p, 1), p, peer, &action);
		if (action == PW_PASS) {	/* an in rule, or default in allow */
			r.action = PW_PASS;
			r.reason = rule ? PW_R_ALLOW_RULE : PW_R_ALLOW_DEFAULT;
			r.rule = rule;
			goto pass;
		}
	} else if (c.dir == PW_DIR_OUT && pw_in_rules_let_in(half, p, peer) && pw_ct_in_reply(cfg, p)) {
		/* the reply to a flow the peer started and the in rules let in
		 * (a flow there exists only while they do: a reload that
		 * revokes them ends it), so the host's own outbound flows
		 * pay an array lookup here, not a hash lookup that misses */
		r.action = PW_PASS;
		r.reason = PW_R_REPLY;
		goto pass;
	}

	r.slot = pw_slot_of(c.dir, p, 0);
	r.has_slot = 1;
	r.rule = pw_policy_pkt(half, r.slot, p, peer, &action);
	r.action = action;
	if (action == PW_PASS) {
		r.reason = r.rule ? PW_R_ALLOW_RULE : PW_R_ALLOW_DEFAULT;
		if (c.dir == PW_DIR_OUT) {
			if (st->exceptions && pw_exc_answer(cfg, p)) {
				/* the host's answer on an in exception's flow
				 * (only while an exception exists: one compare) */
				r.reason = PW_R_EXCEPTION;
				r.rule = 0;
			} else if (cfg->mode == PW_MODE_MONITOR && (mon = pw_mon_answer(cfg, p))) {
				if (mon == PW_MON_ANSWER) {
					r.reason = PW_R_REPLY;
					r.rule = 0;
				}
			} else
				track = 1;	/* a revoked flow's packet drops */
		} else
			track = 1;
	} else {
		r.reason = r.rule ? PW_R_DROP_DENY : PW_R_DROP_DEFAULT;
		/* a TCP SYN without ACK opens a connection: it is never a reply,
		 * so a SYN scan skips the conntrack lookup */
		if (c.dir == PW_DIR_IN && !pw_bare_syn(p)) {
			struct pw_ct_key k;
			if (pw_ct_key_of(&k, p, PW_DIR_IN) && pw_ct_match(cfg, &k, p->tcp_flags, 1)) {
				r.action = PW_PASS;
				r.reason = PW_R_REPLY;
			} else if (pw_is_icmp_error(p) && pw_icmp_related(cfg, half, p)) {
				r.action = PW_PASS;
				r.reason = PW_R_RELATED;
			}
		} else if (c.dir == PW_DIR_OUT && pw_is_icmp_error(p)) {
			/* the host's own error about a packet it was let
			 * receive (an error belongs to no flow of its own) */
			if (pw_icmp_related_out(cfg, half, p)) {
				r.action = PW_PASS;
				r.reason = PW_R_RELATED;
			}
		} else if (c.dir == PW_DIR_OUT && !pw_bare_syn(p)) {
			/* a flow the host opened while the policy let it: its
			 * peer's address learned from DNS has since expired
			 * (docs/dns.md). It goes on; a new flow needs the
			 * name again. After a reload the flows the new policy
			 * refuses are flushed, so only these are found here */
			struct pw_ct_key k;
			if (pw_ct_key_of(&k, p, PW_DIR_OUT) && pw_ct_match(cfg, &k, 0, 0)) {
				r.action = PW_PASS;
				r.reason = PW_R_REPLY;
				track = 2;
			}
		}
		/* last, a timed exception: only what every other chance
		 * drops pays for it, and only while one exists (one compare) */
		if (r.action == PW_DROP && st->exceptions) {
			int e = pw_exc_chance(cfg, p, c.dir, peer);
			if (e == PW_EXC_PASS) {
				r.action = PW_PASS;
				r.reason = PW_R_EXCEPTION;
				r.rule = 0;
			} else if (e == PW_EXC_REVOKED) {
				r.reason = PW_R_DROP_REVOKED;
				r.has_slot = 0;
			}
		}
		/* monitor mode lets the drop pass: its flow is kept with its
		 * origin, as if allowed, so that the reload to enforce judges
		 * it (a peer's datagrams by the in rules, the host's flows by
		 * the out rules) instead of an answer opening a flow of the
		 * host's that outlives the switch */
		if (r.action == PW_DROP && cfg->mode == PW_MODE_MONITOR && r.reason != PW_R_DROP_REVOKED)
			track = c.dir == PW_DIR_IN || !pw_mon_answer(cfg, p) ? 2 : 0;
	}
	/* one call site each way (the tables' code is inlined once): a peer's
	 * flow the policy let in (pw_ct_in); the host's, whose revoked mark
	 * drops a packet the policy passed (1), not one it passes otherwise
	 * or monitor mode lets through (2) */
	if (track && c.dir == PW_DIR_IN)
		pw_ct_inbound(cfg, p);
	else if (track && pw_ct_outbound(cfg, p) && track == 1) {
		/* the host's packet of a peer's flow a reload revoked: it
		 * ends both ways, and opens no flow */
		r.action = PW_DROP;
		r.reason = PW_R_DROP_REVOKED;
		r.has_slot = 0;
	}
pass:
	if (r.action == PW_PASS && p->frag == PW_FRAG_FIRST)
		pw_frag_remember(cfg, p, c.dir);
	return pw_record(&c, cfg, p, &r);
}

/* A UDP datagram from (ingress) or to (egress) port 53 that passed, whole:
 * the DNS learner's. */
static __always_inline void pw_dns(PW_CTX *ctx, const struct pw_pkt *p, const struct pw_hook *h, int verdict,
				   struct pw_state *st)
{
	if (verdict != PW_PASS || h->parse != PW_PARSE_OK || p->proto != IPPROTO_UDP || p->frag != PW_FRAG_NONE)
		return;
	if (!st)
		return;
	__u32 half = st->active & 1;
	if (!st->cfg[half].names)
		return;	/* a host whose policy names no host pays no more for its DNS */
#if PW_HOOK_DIR == 1	/* PW_DIR_OUT */
	pw_dns_query(ctx, p, &st->cfg[half], half);
#else
	pw_dns_answer(ctx, p, &st->cfg[half], half);
#endif
}

#include "pw_fast.h"

/* Parse the frame and judge it. l3: a compile-time constant, 0 for frames
 * that start at an Ethernet header, 1 for those that start at the IP header
 * (the programs of devices without a link-layer header); the Ethernet
 * programs' code is the same as without the parameter. */
static __always_inline int pw_judge(PW_CTX *ctx, struct pw_hook *h, const int l3)
{
	int fast = pw_fast(ctx, h, l3);

	if (fast != PW_FAST_SLOW)
		return fast;	/* decided from registers (pw_fast.h) */
	struct pw_pkt p = {};

	h->parse = l3 ? pw_parse_l3(ctx, &p, h->wire_len) : pw_parse(ctx, &p, h->wire_len);
	/* the state looked up once, for the verdict and the learner */
	__u32 zero = 0;
	struct pw_state *st = bpf_map_lookup_elem(&pw_state, &zero);
	int v = pw_verdict(&p, h, st);
#ifndef PW_BENCH_NO_DNS	/* defined only by bench/: the programs without the learner */
	/* DNS (docs/dns.md): every other packet pays this one compare */
	if ((PW_HOOK_DIR == 1 ? p.dport_be : p.sport_be) == bpf_htons(PW_DNS_PORT))
		pw_dns(ctx, &p, h, v, st);
#endif
	return v;
}

#endif
