/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* pw_fast.h - the fast path: the packets whose verdict one policy slot
 * decides alone, judged from registers before struct pw_pkt is built.
 *
 * Taken only by a plain TCP segment or UDP datagram over IPv4 (IHL 5, not
 * a fragment) or IPv6 (TCP or UDP right after the fixed header), whole and
 * consistent by the very checks the parser makes, with no VLAN tag. Its
 * slot decides, with the peer trie when it names a peer class (the same
 * lookups as pw_policy, the key's address read from the IP header in
 * 4-byte words), and conntrack by the same functions as the slow path, on
 * a key built from the IP header:
 *   - ingress: the policy allows it (an allowed TCP segment opens no flow;
 *     an allowed datagram notes its flow in pw_ct_in, pw_ct_in_note); or
 *     the policy drops it and it is the reply of a flow the host opened
 *     (pw_ct_match: refreshed, counted as a reply); or the policy drops it,
 *     it is no reply (a bare SYN never is) and the event bucket has no
 *     token for it (no drop event is due) and no timed exception exists
 *     (pw_state.exceptions: the slow path looks there). A datagram from
 *     port 53 while the half learns names goes to the slow path whole (the
 *     learner reads the answer from struct pw_pkt);
 *   - egress: a TCP segment that is not a bare SYN from a local port whose
 *     in rules allow it (a local listener's segment, pw_verdict step 4).
 * Everything else (and every packet the fast path is unsure of) returns
 * PW_FAST_SLOW and takes the slow path, pw_parse + pw_verdict, unchanged.
 * What the fast path records is what the slow path records for the same
 * packet: the reason and rule counters, the port's drop counter, the event
 * bucket's refill and the suppressed event, the conntrack entries and
 * their counters (tests/bpf/test_diff.c compares both on a million
 * packets). A drop whose event is due leaves after the conntrack lookup:
 * the slow path looks again and finds what the fast path left (an expired
 * entry already deleted and counted). */
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
	__u32 root = v6 ? 0 : pw_class_word(half, o + 1);

	if (root)	/* an IPv4 peer of a flat shape: no helper call */
		return pw_class_rule(half, o, pw_flat4_rank(half, root, bpf_ntohl(*(const __u32 *)peer)));

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

/* The counter pw_record keeps for a reply (a reason alone). */
static __always_inline void pw_fast_count_reason(__u32 dir, __u32 reason, __u32 len)
{
	__u32 k = dir * PW_R_COUNT + reason;

	pw_count(bpf_map_lookup_elem(&pw_reason_stats, &k), len);
}

/* The conntrack key pw_ct_key_of gives an inbound TCP or UDP packet (local:
 * the destination), from the IP header at ip in 4-byte words. Returns 0
 * when the header is not all there (cannot happen: pw_fast_l4 checked it;
 * the check again is the verifier's, which loses the family on the way). */
static __always_inline int pw_fast_ct_key(struct pw_ct_key *k, const __u8 *ip, const void *data_end, int v6,
					  __u8 proto, __u16 sport_be, __u16 dport_be)
{
	__u32 *l = (__u32 *)k->local, *r = (__u32 *)k->remote;

	__builtin_memset(k, 0, sizeof(*k));
	if (v6) {
		const __u32 *src = (const __u32 *)(ip + 8), *dst = (const __u32 *)(ip + 24);
		if ((const void *)(ip + 40) > data_end)
			return 0;
		l[0] = dst[0];
		l[1] = dst[1];
		l[2] = dst[2];
		l[3] = dst[3];
		r[0] = src[0];
		r[1] = src[1];
		r[2] = src[2];
		r[3] = src[3];
		k->fam = PW_FAM_V6;
	} else {
		if ((const void *)(ip + 20) > data_end)
			return 0;
		l[0] = *(const __u32 *)(ip + 16);
		r[0] = *(const __u32 *)(ip + 12);
	}
	k->lport_be = dport_be;
	k->rport_be = sport_be;
	k->proto = proto;
	return 1;
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
	if ((ip[0] >> 4) != 6 || ip[6] != IPPROTO_TCP || plen < 20 || (long)plen + 40 > (long)wire_len - (long)l3off)
		return 0;
	/* an IPv4-mapped source or destination is malformed (pw_parse_ipv6) */
	if (*(__u32 *)(ip + 16) == bpf_htonl(0x0000ffff) || *(__u32 *)(ip + 32) == bpf_htonl(0x0000ffff))
		return 0;
	__u32 doff = ip[52] >> 4;
	if (doff < 5 || doff * 4 > (__u32)plen)
		return 0;
	return l3off + 40;
}

/* The same for a UDP datagram. */
static __always_inline __u32 pw_fast_udp(void *data, void *data_end, __u32 wire_len, const __u32 l3off, int v6)
{
	__u8 *ip = data + l3off;

	if (!v6) {
		/* the fixed IPv4 header and the UDP header */
		if ((void *)(ip + 28) > data_end)
			return 0;
		__u16 tot = bpf_ntohs(*(__u16 *)(ip + 2)), ulen = bpf_ntohs(*(__u16 *)(ip + 24));
		if (ip[0] != 0x45 || ip[9] != IPPROTO_UDP || (*(__u16 *)(ip + 6) & bpf_htons(0x3fff)))
			return 0;	/* options, another protocol, a fragment */
		if (tot < 28 || (long)tot > (long)wire_len - (long)l3off || ulen < 8 || ulen > (__u32)tot - 20)
			return 0;
		return l3off + 20;
	}
	if ((void *)(ip + 48) > data_end)
		return 0;
	__u16 plen = bpf_ntohs(*(__u16 *)(ip + 4)), ulen = bpf_ntohs(*(__u16 *)(ip + 44));
	if ((ip[0] >> 4) != 6 || ip[6] != IPPROTO_UDP || plen < 8 || (long)plen + 40 > (long)wire_len - (long)l3off)
		return 0;
	if (*(__u32 *)(ip + 16) == bpf_htonl(0x0000ffff) || *(__u32 *)(ip + 32) == bpf_htonl(0x0000ffff))
		return 0;
	if (ulen < 8 || ulen > plen)
		return 0;
	return l3off + 40;
}

/* An inbound packet's verdict (pw_fast, below) once its slot has spoken:
 * PW_PASS / PW_DROP after monitor mode, or PW_FAST_SLOW. */
static __always_inline int pw_fast_in(const struct pw_config *cfg, const struct pw_hook *h, const __u8 *ip,
				      const void *data_end, int v6, __u8 proto, __u8 flags, __u16 sport_be, __u16 dport_be, __u32 slot,
				      __u32 rule, __u8 action, __u32 exceptions)
{
	const int udp = proto == IPPROTO_UDP;
	struct pw_ct_key k;

	if (action == PW_PASS) {
		if (udp) {	/* a datagram a peer sends: its flow, for the host's answers */
			if (!pw_fast_ct_key(&k, ip, data_end, v6, proto, sport_be, dport_be))
				return PW_FAST_SLOW;
			pw_ct_in_note(cfg, &k, 0);
		}
		pw_fast_count(cfg, PW_DIR_IN, rule ? PW_R_ALLOW_RULE : PW_R_ALLOW_DEFAULT, rule, h->wire_len);
		return PW_PASS;
	}
	if (action != PW_DROP)
		return PW_FAST_SLOW;
	/* a bare SYN opens a connection: never a reply, no lookup */
	if (udp || (flags & (PW_TCP_SYN | PW_TCP_ACK)) != PW_TCP_SYN) {
		if (!pw_fast_ct_key(&k, ip, data_end, v6, proto, sport_be, dport_be))
			return PW_FAST_SLOW;
		if (pw_ct_match(cfg, &k, udp ? 0 : flags, 1)) {
			pw_fast_count_reason(PW_DIR_IN, PW_R_REPLY, h->wire_len);
			return PW_PASS;
		}
	}
	/* no reply: a drop, here only when no timed exception may let it in
	 * (the slow path looks) and no event is due */
	if (exceptions || !pw_fast_no_event(cfg))
		return PW_FAST_SLOW;
	pw_fast_count(cfg, PW_DIR_IN, rule ? PW_R_DROP_DENY : PW_R_DROP_DEFAULT, rule, h->wire_len);
	__u64 *d = bpf_map_lookup_elem(&pw_port_drops, &slot);
	if (d)
		(*d)++;
	if (cfg->mode != PW_MODE_MONITOR)
		return PW_DROP;
	if (udp)	/* the flow monitor mode lets in, kept as the slow path does */
		pw_ct_in_note(cfg, &k, 0);
	return PW_PASS;
}

/* The fast path for a packet of protocol proto (a constant: IPPROTO_TCP or
 * IPPROTO_UDP, each its own copy) whose IP header the parse found plain,
 * its L4 header at offset off. */
static __always_inline int pw_fast_l4(PW_CTX *ctx, const struct pw_hook *h, const __u32 l3off, int v6,
				      const __u8 proto, __u32 off)
{
	void *data = PW_DATA(ctx), *data_end = PW_DATA_END(ctx);
	const __u32 dir = PW_HOOK_DIR;
	__u8 *th = data + off;
	__u8 flags = 0;

	if (proto == IPPROTO_TCP) {
		if ((void *)(th + 20) > data_end)
			return PW_FAST_SLOW;
		flags = th[13];
	} else if ((void *)(th + 8) > data_end)
		return PW_FAST_SLOW;
	__u16 sport_be = *(__u16 *)th, dport_be = *(__u16 *)(th + 2);
	__u32 zero = 0;
	struct pw_state *st = bpf_map_lookup_elem(&pw_state, &zero);
	if (!st)
		return PW_FAST_SLOW;
	__u32 half = st->active & 1;
	const struct pw_config *cfg = &st->cfg[half];
	/* the peer: the source inbound, the destination outbound */
	const __u8 *ip = data + l3off;
	const __u8 *peer = ip + (v6 ? 8 : 12) + (dir == PW_DIR_OUT ? (v6 ? 16 : 4) : 0);
	__u8 action;

	if (dir == PW_DIR_OUT) {
		/* a local listener's segment: the in rules of its source port */
		if ((flags & (PW_TCP_SYN | PW_TCP_ACK)) == PW_TCP_SYN)
			return PW_FAST_SLOW;
		__u32 slot = pw_slot_l4(PW_DIR_IN, PW_L4_TCP, bpf_ntohs(sport_be));
		__u32 rule = pw_fast_policy(half, slot, v6, peer, &action);
		if (action != PW_PASS)
			return PW_FAST_SLOW;	/* the out rules judge it */
		pw_fast_count(cfg, dir, rule ? PW_R_ALLOW_RULE : PW_R_ALLOW_DEFAULT, rule, h->wire_len);
		return PW_PASS;
	}
	if (proto == IPPROTO_UDP && sport_be == bpf_htons(PW_DNS_PORT) && cfg->names)
		return PW_FAST_SLOW;	/* an answer the learner reads (pw_dns) */
	__u32 slot = pw_slot_l4(PW_DIR_IN, proto == IPPROTO_UDP ? PW_L4_UDP : PW_L4_TCP, bpf_ntohs(dport_be));
	__u32 rule = pw_fast_policy(half, slot, v6, peer, &action);
	return pw_fast_in(cfg, h, ip, data_end, v6, proto, flags, sport_be, dport_be, slot, rule, action,
			  st->exceptions);
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
		__u16 eproto = *(__u16 *)(data + 12);
		if (eproto != bpf_htons(ETH_P_IP) && eproto != bpf_htons(ETH_P_IPV6))
			return PW_FAST_SLOW;	/* VLAN tags, non-IP */
		v6 = eproto == bpf_htons(ETH_P_IPV6);
	}
	/* TCP first: its checks as before the datagrams had a fast path */
	off = v6 ? pw_fast_tcp(data, data_end, h->wire_len, l3off, 1)
		 : pw_fast_tcp(data, data_end, h->wire_len, l3off, 0);
	if (off)
		return off > 54 ? PW_FAST_SLOW : pw_fast_l4(ctx, h, l3off, v6, IPPROTO_TCP, off);
	if (PW_HOOK_DIR == PW_DIR_OUT)
		return PW_FAST_SLOW;	/* egress: TCP alone */
	off = v6 ? pw_fast_udp(data, data_end, h->wire_len, l3off, 1)
		 : pw_fast_udp(data, data_end, h->wire_len, l3off, 0);
	if (!off || off > 54)
		return PW_FAST_SLOW;
	return pw_fast_l4(ctx, h, l3off, v6, IPPROTO_UDP, off);
}

#endif
