/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* pw_dns.h - host names learned from DNS answers (docs/dns.md).
 *
 * Egress: a query the host sends to one of the policy's resolvers about a
 * name of the policy (or under one of its wildcards) is recorded in
 * pw_dns_q by (resolver, the host's port, transaction id).
 * Only a query from a local socket of a trusted user is recorded
 * (pw_dns_users; docs/dns.md, "Whose queries teach").
 * Ingress: a UDP answer from a resolver's port 53 that matches a recorded
 * query, asks the same question, says NOERROR and is not truncated teaches
 * every A/AAAA address it carries (CNAME chains included: the resolver put
 * them in the answer to this question) to the names the question matches:
 * the address goes into the peer trie of the half in force, for every
 * (shape, rank) the name feeds, before the application reads the answer,
 * so the first SYN already passes.
 *
 * The message is copied into a per-CPU scratch buffer with the hook's
 * load-bytes helper and read there at masked offsets; the loops over the
 * name's bytes, the answer's records and the compare are bpf_loop()
 * callbacks, each checked once by the verifier, each bounded. An answer
 * that cannot be read whole teaches nothing and is counted; no packet is
 * dropped for its DNS content. */
#ifndef PW_DNS_H
#define PW_DNS_H

#define PW_DNS_MSG_MAX 2048	/* bytes of a message the datapath reads */
#define PW_DNS_MASK (PW_DNS_MSG_MAX - 1)
#define PW_DNS_HDR 12
#define PW_DNS_RR_MAX 64	/* answer records read */
#define PW_DNS_ADDRS_MAX 32	/* addresses learned from one answer */
#define PW_DNS_MATCH_MAX 4	/* policy names one question matches */
#define PW_DNS_WRITES_MAX 128	/* trie entries one answer writes: bounds its softirq time */
#define PW_DNS_NAME_STEPS 128	/* labels and pointers skipped in one record's name */
#define PW_DNS_TYPE_A 1
#define PW_DNS_TYPE_AAAA 28
#define PW_DNS_CLASS_IN 1

struct pw_dns_scratch {
	__u8 msg[PW_DNS_MSG_MAX];
	__u64 lh[PW_NAME_LABELS_MAX];		/* hash of each label of the question */
	__u64 sfx[2 * PW_NAME_LABELS_MAX];	/* hash of the suffix from label k (0..n) */
	__u16 loff[PW_NAME_LABELS_MAX];		/* label k's offset in the question name */
	struct pw_name_key mk[PW_DNS_MATCH_MAX];	/* the names the question matches */
	__u32 nmatch;
	__u32 len;		/* bytes in msg */
	/* the question name's walk */
	__u32 nlabels;
	__u32 qlen;		/* its wire length, without the root label */
	__u32 left;		/* bytes left in the current label */
	__u64 h;		/* the current label's hash */
	__s32 bad;
	/* the answer's walk */
	__u32 off;		/* next record */
	__u32 ancount;
	__u32 naddr;
	__u64 now;
	__u32 half;
	__u32 ttl_min, ttl_max;
	__u32 learn;		/* 0: the first walk only checks the records */
	__u32 writes;		/* trie entries this answer wrote */
	__u32 ttl;		/* the record being learned: its TTL, */
	__u8 fam;		/* family */
	__u8 addr[16];		/* and address */
	/* keys and values of the learner's map calls */
	struct pw_dnsq_key qk;
	struct pw_dnsq_val qv;
	struct pw_name_key nk;
	struct pw_learned_key lk;
	struct pw_learned_val lv;
	struct pw_peer_key pk;
	struct pw_peer_val pv;
	/* a compare: name key k's bytes against the question from loff[k] */
	__u32 cmp_at, cmp_len;
	__u8 cmp_wire[PW_NAME_WIRE_MAX + 1];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_dns_scratch);
} pw_dns_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PW_NAMES_CAPACITY);
	__type(key, struct pw_name_key);
	__type(value, struct pw_name_val);
} pw_names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * PW_RESOLVERS_MAX);
	__type(key, struct pw_resolver_key);
	__type(value, __u32);
} pw_resolvers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * PW_DNS_USERS_MAX);
	__type(key, struct pw_dns_user_key);
	__type(value, __u32);
} pw_dns_users SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_DNSQ_CAPACITY);
	__type(key, struct pw_dnsq_key);
	__type(value, struct pw_dnsq_val);
} pw_dns_q SEC(".maps");

/* A plain hash, not LRU: an address evicted from here would stay in the
 * trie with nothing left to expire it; full, a new address is not learned
 * (counted `full`). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PW_LEARNED_CAPACITY);
	__type(key, struct pw_learned_key);
	__type(value, struct pw_learned_val);
} pw_learned SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);	/* PW_DNS_STATS_DATAPATH, PW_DNS_STATS_AGENT */
	__type(key, __u32);
	__type(value, struct pw_dns_stats);
} pw_dns_stats SEC(".maps");

static __always_inline struct pw_dns_scratch *pw_dns_buf(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&pw_dns_scratch, &zero);
}

static __always_inline struct pw_dns_stats *pw_dns_counters(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&pw_dns_stats, &zero);
}

#define PW_DNS_COUNT(field)                                      \
	do {                                                     \
		struct pw_dns_stats *ds_ = pw_dns_counters();    \
		if (ds_)                                         \
			ds_->field++;                            \
	} while (0)

static __always_inline __u8 pw_dns_byte(const struct pw_dns_scratch *s, __u32 off)
{
	return s->msg[off & PW_DNS_MASK];
}

static __always_inline __u16 pw_dns_u16(const struct pw_dns_scratch *s, __u32 off)
{
	return ((__u16)pw_dns_byte(s, off) << 8) | pw_dns_byte(s, off + 1);
}

/* ---- the question name -------------------------------------------------- */

/* One byte i of the question name (from offset 12): a length byte starts
 * a label (0 ends the name), the others are hashed into the label. */
static long pw_dns_qname_step(__u64 i, void *ctx)
{
	struct pw_dns_scratch *s = pw_dns_buf();
	(void)ctx;

	if (!s)
		return 1;
	if (PW_DNS_HDR + i >= s->len) {
		s->bad = 1;		/* the name runs past the message */
		return 1;
	}
	__u8 c = pw_dns_byte(s, PW_DNS_HDR + (__u32)i);
	if (s->left) {
		s->h = pw_label_hash_byte(s->h, c);
		s->left--;
		return 0;
	}
	__u32 n = s->nlabels;
	if (n) {
		s->lh[(n - 1) & (PW_NAME_LABELS_MAX - 1)] = s->h;
	}
	if (c == 0) {
		s->qlen = (__u32)i;
		return 1;		/* the root label: done */
	}
	/* a pointer (questions are never compressed), a label over 63, or
	 * more labels than the datapath matches: not read */
	if (c > 63 || n >= PW_NAME_LABELS_MAX) {
		s->bad = 1;
		return 1;
	}
	s->loff[n & (PW_NAME_LABELS_MAX - 1)] = (__u16)i;
	s->nlabels = n + 1;
	s->h = pw_label_hash_byte(PW_NAME_SEED, c);
	s->left = c;
	return 0;
}

/* The hash of every suffix of the question, from the right. */
static long pw_dns_fold_step(__u64 i, void *ctx)
{
	struct pw_dns_scratch *s = pw_dns_buf();
	(void)ctx;

	if (!s || i >= s->nlabels)
		return 1;
	__u32 k = (s->nlabels - 1 - (__u32)i) & (PW_NAME_LABELS_MAX - 1);
	s->sfx[k] = pw_name_mix(s->sfx[(k + 1) & (2 * PW_NAME_LABELS_MAX - 1)], s->lh[k]);
	return 0;
}

/* Read the question name at offset 12 into s (labels, hashes). Returns
 * the offset just past it, or 0 when it cannot be read. */
static __always_inline __u32 pw_dns_question(struct pw_dns_scratch *s)
{
	s->nlabels = 0;
	s->qlen = 0;
	s->left = 0;
	s->bad = 0;
	s->h = 0;
	bpf_loop(PW_NAME_WIRE_MAX + 1, pw_dns_qname_step, NULL, 0);
	if (s->bad || !s->nlabels || !s->qlen)
		return 0;
	s->sfx[s->nlabels & (2 * PW_NAME_LABELS_MAX - 1)] = PW_NAME_SEED;
	bpf_loop(PW_NAME_LABELS_MAX, pw_dns_fold_step, NULL, 0);
	return PW_DNS_HDR + s->qlen + 1;
}

/* ---- matching the policy's names ---------------------------------------- */

static long pw_dns_cmp_step(__u64 i, void *ctx)
{
	struct pw_dns_scratch *s = pw_dns_buf();
	int *differs = ctx;

	if (!s || i >= s->cmp_len)
		return 1;
	__u8 a = pw_dns_byte(s, s->cmp_at + (__u32)i);
	__u8 b = s->cmp_wire[i & PW_NAME_WIRE_MAX];
	if (a >= 'A' && a <= 'Z')
		a = (__u8)(a + ('a' - 'A'));
	if (a != b) {
		*differs = 1;
		return 1;
	}
	return 0;
}

/* Does the policy name v equal the question's suffix from label k? */
static __always_inline int pw_dns_same(struct pw_dns_scratch *s, const struct pw_name_val *v, __u32 k)
{
	__u32 at = s->loff[k & (PW_NAME_LABELS_MAX - 1)];
	int differs = 0;

	if (v->wire_len != s->qlen - at)
		return 0;
	s->cmp_at = PW_DNS_HDR + at;
	s->cmp_len = v->wire_len;
	__builtin_memcpy(s->cmp_wire, v->wire, sizeof(s->cmp_wire));
	bpf_loop(PW_NAME_WIRE_MAX, pw_dns_cmp_step, &differs, 0);
	return !differs;
}

/* Suffix k of the question against the names: the whole name (k = 0,
 * exact) or a wildcard with at least one label in front (k > 0). */
static long pw_dns_match_step(__u64 i, void *ctx)
{
	struct pw_dns_scratch *s = pw_dns_buf();
	(void)ctx;

	if (!s || i >= s->nlabels || s->nmatch >= PW_DNS_MATCH_MAX)
		return 1;
	__u32 k = (__u32)i & (PW_NAME_LABELS_MAX - 1);
	struct pw_name_key key = { .hash = s->sfx[k], .half = s->half, .wild = k > 0 };
	struct pw_name_val *v = bpf_map_lookup_elem(&pw_names, &key);
	if (v && pw_dns_same(s, v, k))
		s->mk[s->nmatch++ & (PW_DNS_MATCH_MAX - 1)] = key;
	return 0;
}

/* How many of the policy's names (of half `half`) the question matches;
 * their keys in s->mk. */
static __always_inline __u32 pw_dns_match(struct pw_dns_scratch *s, __u32 half)
{
	s->half = half;
	s->nmatch = 0;
	bpf_loop(PW_NAME_LABELS_MAX, pw_dns_match_step, NULL, 0);
	return s->nmatch;
}

/* Copy the UDP payload of p (a DNS message) into s; its length, or 0. */
static __always_inline __u32 pw_dns_load(PW_CTX *ctx, const struct pw_pkt *p, struct pw_dns_scratch *s)
{
	__u8 uh[8];
	__u32 off = p->l4_off;

	if (off > PW_OFF_MAX || PW_LOAD_BYTES(ctx, off, uh, 8) < 0)
		return 0;
	__u32 ulen = ((__u32)uh[4] << 8) | uh[5];
	if (ulen < 8 + PW_DNS_HDR)
		return 0;
	__u32 n = ulen - 8;	/* at least the header */
	if (n > PW_DNS_MSG_MAX)
		n = PW_DNS_MSG_MAX;
	if (PW_LOAD_BYTES(ctx, off + 8, s->msg, n) < 0)
		return 0;
	s->len = n;
	return ulen - 8;
}

#if PW_HOOK_DIR == 1	/* PW_DIR_OUT */
/* ---- egress: the host's query ------------------------------------------- */

/* Whether the query in skb comes from a user whose queries teach: under
 * `dns-users any` everyone; else a local socket (a full one: UDP sockets
 * always are) whose owner's uid is in pw_dns_users for this half. A packet
 * with no socket is forwarded (or the kernel's own): its sender is no user
 * of this host, so it teaches nothing. */
static __always_inline int pw_dns_trusted(struct __sk_buff *skb, const struct pw_config *cfg, __u32 half)
{
	if (cfg->dns_any)
		return 1;
	struct bpf_sock *sk = skb->sk;
	if (!sk || !bpf_sk_fullsock(sk))
		return 0;
	struct pw_dns_user_key k = { .uid = (__u32)bpf_get_socket_uid(skb), .half = half };
	return bpf_map_lookup_elem(&pw_dns_users, &k) != NULL;
}

/* An outbound UDP datagram to port 53 that passed: if a trusted user asks
 * one of the policy's resolvers about a name of the policy, remember the
 * query. Another user's query is counted and passes as the rules say. */
static __always_inline void pw_dns_query(PW_CTX *ctx, const struct pw_pkt *p, const struct pw_config *cfg,
					 __u32 half)
{
	struct pw_resolver_key rk = { .half = half, .fam = p->fam };

	__builtin_memcpy(rk.addr, p->dst, 16);
	if (!bpf_map_lookup_elem(&pw_resolvers, &rk))
		return;
	struct pw_dns_scratch *s = pw_dns_buf();
	if (!s || !pw_dns_load(ctx, p, s))
		return;
	/* a standard query (QR 0, opcode 0) of one question */
	if ((pw_dns_byte(s, 2) & 0xf8) != 0 || pw_dns_u16(s, 4) != 1)
		return;
	__u32 qend = pw_dns_question(s);
	if (!qend || qend + 4 > s->len || !pw_dns_match(s, half))
		return;
	if (!pw_dns_trusted(ctx, cfg, half)) {
		PW_DNS_COUNT(untrusted);
		return;
	}
	struct pw_dnsq_key k = { .fam = p->fam, .port_be = p->sport_be };
	struct pw_dnsq_val v = { .asked_ns = bpf_ktime_get_coarse_ns(), .qhash = s->sfx[0] };
	v.qtype_class = ((__u32)pw_dns_u16(s, qend) << 16) | pw_dns_u16(s, qend + 2);
	__builtin_memcpy(k.resolver, p->dst, 16);
	__builtin_memcpy(&k.txid_be, s->msg, 2);
	if (bpf_map_update_elem(&pw_dns_q, &k, &v, BPF_ANY) == 0)
		PW_DNS_COUNT(queries);
}
#endif

#if PW_HOOK_DIR == 0	/* PW_DIR_IN */
/* ---- ingress: the answer ------------------------------------------------ */

/* Into the trie of the half in force: (shape, address) -> rank, unless an
 * entry of that shape already decides the address by this rank or an
 * earlier one (the first rule decides, as the compiler has it). The keys
 * live in the scratch buffer: the stack is spent by the callers. */
static __always_inline int pw_dns_trie_put(struct pw_dns_scratch *s, void *trie, const struct pw_name_target *t)
{
	s->pk.prefixlen = PW_PEER_SCOPE_BITS + (s->fam == PW_FAM_V6 ? 128 : 32);
	s->pk.scope = pw_peer_scope(t->shape, s->fam);
	__builtin_memcpy(s->pk.addr, s->addr, 16);
	s->pv.rule = t->rank;
	struct pw_peer_val *old = bpf_map_lookup_elem(trie, &s->pk);
	if (old && old->rule && old->rule <= t->rank)
		return 0;
	return bpf_map_update_elem(trie, &s->pk, &s->pv, BPF_ANY) == 0 ? 1 : -1;
}

/* Learn the staged address (s->fam, s->addr, s->ttl) for matched name m:
 * a new one (or one expired) goes into the trie for each of the name's
 * targets; a known one lives on. A global function: the verifier checks
 * it once, not once for every path through the records. */
__noinline int pw_dns_learn_name(__u32 m)
{
	struct pw_dns_scratch *s = pw_dns_buf();
	if (!s)
		return 0;
	PW_BOUND(m, 3);	/* PW_DNS_MATCH_MAX - 1 */
	s->nk = s->mk[m];
	__u32 ttl = s->ttl;
	__u32 life = ttl < s->ttl_min ? s->ttl_min : ttl > s->ttl_max ? s->ttl_max : ttl;
	__builtin_memset(&s->lk, 0, sizeof(s->lk));
	s->lk.name_hash = s->nk.hash;
	s->lk.wild = s->nk.wild;
	s->lk.fam = s->fam;
	__builtin_memcpy(s->lk.addr, s->addr, 16);
	__builtin_memset(&s->lv, 0, sizeof(s->lv));
	s->lv.learned_ns = s->now;
	s->lv.expires_ns = s->now + (__u64)life * 1000000000ull;
	s->lv.ttl = ttl;
	s->lv.source = PW_LEARNED_ANSWER;

	struct pw_learned_val *lv = bpf_map_lookup_elem(&pw_learned, &s->lk);
	int fresh = !lv || lv->partial || (__s64)(s->now - lv->expires_ns) > 0;
	if (lv) {
		*lv = s->lv;
	} else if (bpf_map_update_elem(&pw_learned, &s->lk, &s->lv, BPF_ANY)) {
		PW_DNS_COUNT(full);
		return 0;
	}
	if (!fresh) {
		PW_DNS_COUNT(refreshed);
		return 0;
	}
	struct pw_name_val *v = bpf_map_lookup_elem(&pw_names, &s->nk);
	void *trie = bpf_map_lookup_elem(&pw_peers, &s->half);
	if (!v || !trie)
		return 0;
	int put = 0, failed = 0;
	for (__u32 t = 0; t < PW_NAME_TARGETS; t++) {
		if (t >= v->ntargets)
			break;
		if (s->writes >= PW_DNS_WRITES_MAX) {
			failed = 1;	/* the answer's budget is spent */
			break;
		}
		int r = pw_dns_trie_put(s, trie, &v->t[t]);
		s->writes += r != 0;
		failed |= r < 0;
		put |= r > 0;
	}
	if (failed) {
		/* not all of it written: the record stays (its lifetime
		 * removes what was), marked so that the next answer retries */
		lv = bpf_map_lookup_elem(&pw_learned, &s->lk);
		if (lv)
			lv->partial = 1;
		PW_DNS_COUNT(full);
	} else if (put) {
		PW_DNS_COUNT(learned);
	} else {
		PW_DNS_COUNT(refreshed);
	}
	return put;
}

/* Skip the owner name of a record at off (labels, or a pointer that ends
 * it). Returns the offset past it, or 0. Global: checked once. */
__noinline int pw_dns_skip_name(__u32 off)
{
	struct pw_dns_scratch *s = pw_dns_buf();
	if (!s)
		return 0;
	__u32 start = off;

	for (int i = 0; i < PW_DNS_NAME_STEPS; i++) {
		/* a name's labels are 255 bytes at most (RFC 1035 2.3.4) */
		if (off >= s->len || off - start > PW_NAME_WIRE_MAX)
			return 0;
		__u8 c = pw_dns_byte(s, off);
		if ((c & 0xc0) == 0xc0) {
			/* a compression pointer ends the name; it must point
			 * back, past the header, to where a name was before
			 * (RFC 1035 4.1.4): one to itself or forward would
			 * loop a reader that follows it */
			if (off + 2 > s->len)
				return 0;
			__u32 to = ((__u32)(c & 0x3f) << 8) | pw_dns_byte(s, off + 1);
			return to >= 12 && to < off ? off + 2 : 0;
		}
		if (c & 0xc0)
			return 0;	/* the reserved label types */
		if (c == 0)
			return off + 1;
		off += 1 + c;
	}
	return 0;
}

/* One answer record at s->off: an A or AAAA of class IN is learned for
 * every matched name. */
static long pw_dns_rr_step(__u64 i, void *ctx)
{
	struct pw_dns_scratch *s = pw_dns_buf();
	(void)ctx;

	if (!s || i >= s->ancount)
		return 1;
	__u32 off = (__u32)pw_dns_skip_name(s->off);
	if (!off || off + 10 > s->len) {
		s->bad = 1;
		return 1;
	}
	__u16 type = pw_dns_u16(s, off), cls = pw_dns_u16(s, off + 2);
	__u32 ttl = ((__u32)pw_dns_u16(s, off + 4) << 16) | pw_dns_u16(s, off + 6);
	__u16 rdlen = pw_dns_u16(s, off + 8);
	off += 10;
	if (off + rdlen > s->len) {
		s->bad = 1;
		return 1;
	}
	s->off = off + rdlen;
	__u8 fam;
	if (cls == PW_DNS_CLASS_IN && type == PW_DNS_TYPE_A && rdlen == 4)
		fam = PW_FAM_V4;
	else if (cls == PW_DNS_CLASS_IN && type == PW_DNS_TYPE_AAAA && rdlen == 16)
		fam = PW_FAM_V6;
	else
		return 0;	/* CNAME and the rest: the chain is the resolver's */
	if (!s->learn)
		return 0;
	if (s->naddr >= PW_DNS_ADDRS_MAX)
		return 1;
	s->naddr++;
	for (int b = 0; b < 16; b++)
		s->addr[b] = pw_dns_byte(s, off + b);
	if (fam == PW_FAM_V4)
		__builtin_memset(s->addr + 4, 0, 12);
	s->fam = fam;
	/* RFC 2181: a TTL with the top bit set means zero */
	s->ttl = ttl > 0x7fffffff ? 0 : ttl;
	for (__u32 m = 0; m < PW_DNS_MATCH_MAX; m++) {
		if (m >= s->nmatch)
			break;
		pw_dns_learn_name(m);
	}
	return 0;
}

/* The recorded query this answer replies to, removed (one answer each);
 * its question's hash in *qhash. */
/* The recorded query the answer p (id txid_be) may answer: its key in
 * s->qk, its question in s->qv. An entry past its time is removed. The
 * entry stays until an answer to its very question checks out (an answer
 * that does not, forged or broken, uses nothing up). */
static __always_inline int pw_dns_asked(const struct pw_pkt *p, __u16 txid_be, __u64 now,
					struct pw_dns_scratch *s)
{
	__builtin_memset(&s->qk, 0, sizeof(s->qk));
	s->qk.fam = p->fam;
	s->qk.port_be = p->dport_be;
	s->qk.txid_be = txid_be;
	__builtin_memcpy(s->qk.resolver, p->src, 16);
	struct pw_dnsq_val *v = bpf_map_lookup_elem(&pw_dns_q, &s->qk);
	if (!v)
		return 0;
	s->qv = *v;
	if (now - v->asked_ns <= PW_DNSQ_TIMEOUT_NS)
		return 1;
	bpf_map_delete_elem(&pw_dns_q, &s->qk);
	return 0;
}

/* An inbound UDP datagram from port 53 that passed: learn from it if it
 * answers a query the host sent. */
static __always_inline void pw_dns_answer(PW_CTX *ctx, const struct pw_pkt *p, const struct pw_config *cfg,
					  __u32 half)
{
	__u16 txid_be;
	__u64 now;

	if (p->l4_off > PW_OFF_MAX || PW_LOAD_BYTES(ctx, p->l4_off + 8, &txid_be, 2) < 0)
		return;
	now = bpf_ktime_get_coarse_ns();
	struct pw_dns_scratch *s = pw_dns_buf();
	if (!s)
		return;
	if (!pw_dns_asked(p, txid_be, now, s)) {
		PW_DNS_COUNT(unsolicited);
		return;
	}
	PW_DNS_COUNT(answers);
	__u32 whole = pw_dns_load(ctx, p, s);
	if (!whole) {
		PW_DNS_COUNT(malformed);
		return;
	}
	/* QR 1, opcode 0, TC 0; RCODE 0 (an error answer teaches nothing) */
	__u8 f1 = pw_dns_byte(s, 2), f2 = pw_dns_byte(s, 3);
	if (f1 & 0x02 || whole > PW_DNS_MSG_MAX) {
		PW_DNS_COUNT(truncated);
		return;
	}
	if ((f1 & 0xf8) != 0x80 || (f2 & 0x0f) || pw_dns_u16(s, 4) != 1)
		return;
	__u32 off = pw_dns_question(s);
	if (!off || off + 4 > s->len) {
		PW_DNS_COUNT(malformed);
		return;
	}
	__u32 tc = ((__u32)pw_dns_u16(s, off) << 16) | pw_dns_u16(s, off + 2);
	if (s->sfx[0] != s->qv.qhash || tc != s->qv.qtype_class) {
		PW_DNS_COUNT(mismatched);	/* another question: name, type or class */
		return;
	}
	if (!pw_dns_match(s, half))
		return;	/* the reload in between dropped the name */
	s->ancount = pw_dns_u16(s, 6);
	if (s->ancount > PW_DNS_RR_MAX) {
		PW_DNS_COUNT(truncated);	/* records past the walk's bound go unchecked */
		return;
	}
	s->naddr = 0;
	s->writes = 0;
	s->now = now;
	s->ttl_min = cfg->dns_ttl_min;
	s->ttl_max = cfg->dns_ttl_max;
	/* every record is read once to check it, then once to learn: a
	 * malformed answer teaches nothing, not even its first records */
	for (__u32 pass = 0; pass < 2; pass++) {
		s->off = off + 4;
		s->bad = 0;
		s->learn = pass;
		bpf_loop(PW_DNS_RR_MAX, pw_dns_rr_step, NULL, 0);
		if (s->bad) {
			PW_DNS_COUNT(malformed);
			return;
		}
		if (!pass)	/* its answer, whole: one answer per query */
			bpf_map_delete_elem(&pw_dns_q, &s->qk);
	}
}
#endif

#endif
