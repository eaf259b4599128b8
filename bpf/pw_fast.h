/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* pw_fast.h - the fast path: the packets whose verdict one policy slot
 * decides alone, judged from registers before struct pw_pkt is built.
 *
 * Taken only by a plain TCP segment over IPv4 (IHL 5, not a fragment) or
 * IPv6 (TCP right after the fixed header), whole and consistent by the very
 * checks the parser makes, with no VLAN tag. Its slot decides, with the
 * peer class when it names one (the same lookups as pw_policy, the
 * key's address read from the IP header in 4-byte words):
 *   - ingress: the policy allows it (an allowed TCP segment opens no flow),
 *     or it is a bare SYN the policy drops (a bare SYN is never a reply)
 *     and the event bucket has no token for it (no drop event is due);
 *   - egress: a segment that is not a bare SYN from a local port whose in
 *     rules allow it (a local listener's segment, pw_verdict step 4).
 * Everything else (and every packet the fast path is unsure of) returns
 * PW_FAST_SLOW and takes the slow path, pw_parse + pw_verdict, unchanged.
 * What the fast path records is what the slow path records for the same
 * packet: the reason and rule counters, the port's drop counter, the event
 * bucket's refill and the suppressed event (tests/bpf/test_diff.c compares
 * both on a million packets). */
#ifndef PW_FAST_H
#define PW_FAST_H

#define PW_FAST_SLOW (-1)

/* The class's answer for (class, peer) as pw_policy gives it, the address
 * read from the packet in 4-byte words (peer: the address in the IP header,
 * bounds-checked by the caller). */
static __always_inline __u32 pw_fast_trie(void *trie, __u32 half, __u32 cls, int v6, const __u8 *peer)
{
	struct pw_peer_key k;
	__u32 *a = (__u32 *)k.addr;
	struct pw_peer_val *v;
	__u32 o = pw_class_word(half, cls);

	k.prefixlen = PW_PEER_SCOPE_BITS + (v6 ? 128 : 32);
	k.scope = pw_peer_scope(pw_class_word(half, o), v6 ? PW_FAM_V6 : PW_FAM_V4);
	a[0] = *(const __u32 *)peer;
	a[1] = v6 ? *(const __u32 *)(peer + 4) : 0;
	a[2] = v6 ? *(const __u32 *)(peer + 8) : 0;
	a[3] = v6 ? *(const __u32 *)(peer + 12) : 0;
	v = bpf_map_lookup_elem(trie, &k);
	return pw_class_rule(half, o, v ? v->rule : 0);
}

/* The policy's verdict for (slot, peer), as pw_policy gives it: the
 * deciding rule, the action in *action; PW_FAST_SLOW in *action when the
 * maps are not there (cannot happen). */
static __always_inline __u32 pw_fast_policy(__u32 half, __u32 slot, int v6, const __u8 *peer, __u8 *action)
{
	__u32 idx = (half & 1) * PW_SLOT_COUNT + slot;
	const struct pw_slot *s = bpf_map_lookup_elem(&pw_slots, &idx);
	__u32 td = 0, ta = 0;

	*action = (__u8)PW_FAST_SLOW;
	if (!s)
		return 0;
	if (s->deny_class | s->allow_class) {
		void *trie = bpf_map_lookup_elem(&pw_peers, &half);
		if (!trie)
			return 0;
		if (s->deny_class)
			td = pw_fast_trie(trie, half, s->deny_class, v6, peer);
		if (!td && s->allow_class)
			ta = pw_fast_trie(trie, half, s->allow_class, v6, peer);
	}
	return pw_decide(s, td, ta, action);
}

/* The counters pw_record keeps for a verdict of an allow or drop rule (or
 * the default). */
static __always_inline void pw_fast_count(const struct pw_config *cfg, __u32 dir, __u32 reason, __u32 rule,
					  __u32 len)
{
	__u32 k = dir * PW_R_COUNT + reason;

	pw_count(bpf_map_lookup_elem(&pw_reason_stats, &k), len);
	k = cfg->rule_base + rule * 2 + dir;
	pw_count(bpf_map_lookup_elem(&pw_rule_stats, &k), len);
}

/* A drop with no event due: the bucket refilled as pw_event refills it and
 * found short of a token, the event counted as suppressed. Returns 0 when
 * an event is due (nothing changed: the slow path sends it). */
static __always_inline int pw_fast_no_event(const struct pw_config *cfg)
{
	struct pw_stats *gs = pw_gstats();
	__u32 zero = 0;
	struct pw_bucket *b = bpf_map_lookup_elem(&pw_ratelimit, &zero);

	if (!gs || !b)
		return 0;
	__u64 now = pw_tick_ns();
	__u64 tokens = pw_bucket_refill(cfg, b, now);
	if (tokens >= 1000000000ull)
		return 0;
	b->tokens = tokens;
	b->last_ns = now;
	gs->events_suppressed++;
	return 1;
}

/* The TCP header's offset when the frame is a plain TCP segment the parser
 * would take whole (see above), else 0. Every read is bounds-checked;
 * l3off is a constant (0 or 14), so every load has a fixed offset. */
static __always_inline __u32 pw_fast_tcp(void *data, void *data_end, __u32 wire_len, const __u32 l3off, int v6)
{
	__u8 *ip = data + l3off;

	if (!v6) {
		/* the fixed IPv4 header and 20 bytes of TCP */
		if ((void *)(ip + 40) > data_end)
			return 0;
		__u16 tot = bpf_ntohs(*(__u16 *)(ip + 2));
		if (ip[0] != 0x45 || ip[9] != IPPROTO_TCP || (*(__u16 *)(ip + 6) & bpf_htons(0x3fff)))
			return 0;	/* options, another protocol, a fragment */
		if (tot < 40 || (long)tot > (long)wire_len - (long)l3off)
			return 0;
		__u32 doff = ip[32] >> 4;
		if (doff < 5 || doff * 4 > (__u32)tot - 20)
			return 0;
		return l3off + 20;
	}
	/* the fixed IPv6 header and 20 bytes of TCP */
	if ((void *)(ip + 60) > data_end)
		return 0;
	__u16 plen = bpf_ntohs(*(__u16 *)(ip + 4));
	if ((ip[0] >> 4) != 6 || ip[6] != IPPROTO_TCP || plen < 20 ||
	    (long)plen + 40 > (long)wire_len - (long)l3off)
		return 0;
	/* an IPv4-mapped source or destination is malformed (pw_parse_ipv6) */
	if (*(__u32 *)(ip + 16) == bpf_htonl(0x0000ffff) || *(__u32 *)(ip + 32) == bpf_htonl(0x0000ffff))
		return 0;
	__u32 doff = ip[52] >> 4;
	if (doff < 5 || doff * 4 > (__u32)plen)
		return 0;
	return l3off + 40;
}

/* The fast path (see the top of this file): PW_PASS / PW_DROP after monitor
 * mode, or PW_FAST_SLOW. */
static __always_inline int pw_fast(PW_CTX *ctx, const struct pw_hook *h, const int l3)
{
	void *data = PW_DATA(ctx), *data_end = PW_DATA_END(ctx);
	const __u32 l3off = l3 ? 0 : 14;
	__u32 off;
	int v6;

	if (data + l3off + 1 > data_end)
		return PW_FAST_SLOW;
	if (l3) {
		__u8 ver = *(__u8 *)data >> 4;
		if (ver != 4 && ver != 6)
			return PW_FAST_SLOW;
		v6 = ver == 6;
	} else {
		if (data + 14 > data_end)
			return PW_FAST_SLOW;
		__u16 proto = *(__u16 *)(data + 12);
		if (proto != bpf_htons(ETH_P_IP) && proto != bpf_htons(ETH_P_IPV6))
			return PW_FAST_SLOW;	/* VLAN tags, non-IP */
		v6 = proto == bpf_htons(ETH_P_IPV6);
	}
	off = v6 ? pw_fast_tcp(data, data_end, h->wire_len, l3off, 1)
		 : pw_fast_tcp(data, data_end, h->wire_len, l3off, 0);
	if (!off || off > 54)
		return PW_FAST_SLOW;
	__u8 *th = data + off;
	if ((void *)(th + 20) > data_end)
		return PW_FAST_SLOW;
	__u8 flags = th[13];
	int bare_syn = (flags & (PW_TCP_SYN | PW_TCP_ACK)) == PW_TCP_SYN;
	__u32 zero = 0;
	struct pw_state *st = bpf_map_lookup_elem(&pw_state, &zero);
	if (!st)
		return PW_FAST_SLOW;
	__u32 half = st->active & 1;
	const struct pw_config *cfg = &st->cfg[half];
	const __u32 dir = PW_HOOK_DIR;
	/* the peer: the source inbound, the destination outbound */
	const __u8 *peer = data + l3off + (v6 ? 8 : 12) + (dir == PW_DIR_OUT ? (v6 ? 16 : 4) : 0);
	__u8 action;

	if (dir == PW_DIR_OUT) {
		/* a local listener's segment: the in rules of its source port */
		if (bare_syn)
			return PW_FAST_SLOW;
		__u32 slot = pw_slot_l4(PW_DIR_IN, PW_L4_TCP, bpf_ntohs(*(__u16 *)th));
		__u32 rule = pw_fast_policy(half, slot, v6, peer, &action);
		if (action != PW_PASS)
			return PW_FAST_SLOW;	/* the out rules judge it */
		pw_fast_count(cfg, dir, rule ? PW_R_ALLOW_RULE : PW_R_ALLOW_DEFAULT, rule, h->wire_len);
		return PW_PASS;
	}
	__u32 slot = pw_slot_l4(PW_DIR_IN, PW_L4_TCP, bpf_ntohs(*(__u16 *)(th + 2)));
	__u32 rule = pw_fast_policy(half, slot, v6, peer, &action);
	if (action == PW_PASS) {
		pw_fast_count(cfg, dir, rule ? PW_R_ALLOW_RULE : PW_R_ALLOW_DEFAULT, rule, h->wire_len);
		return PW_PASS;
	}
	/* a drop: only a bare SYN (anything else may be a reply) with no
	 * event due */
	if (action != PW_DROP || !bare_syn || !pw_fast_no_event(cfg))
		return PW_FAST_SLOW;
	pw_fast_count(cfg, dir, rule ? PW_R_DROP_DENY : PW_R_DROP_DEFAULT, rule, h->wire_len);
	__u64 *d = bpf_map_lookup_elem(&pw_port_drops, &slot);
	if (d)
		(*d)++;
	return cfg->mode == PW_MODE_MONITOR ? PW_PASS : PW_DROP;
}

#endif
