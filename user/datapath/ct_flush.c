/* ct_flush.c - which tracked flows a policy allows: after a reload the
 * flows the new policy forbids are forgotten (their entries would keep
 * letting packets through), and adoption tracks only what it allows. */
#include "datapath/exc.h"
#include "datapath/loader.h"
#include "datapath/state.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

/* The slot the opening packet of flow k (opened by `origin`) was judged by. */
static uint32_t key_slot(const struct pw_ct_key *k, uint32_t origin)
{
	uint32_t dir = origin == PW_DIR_IN ? PW_DIR_IN : PW_DIR_OUT;
	/* the port the opening packet was judged by: the remote one going out,
	 * the local one coming in */
	uint16_t port = ntohs(dir == PW_DIR_OUT ? k->rport_be : k->lport_be);

	if (k->kind == PW_CT_ECHO_OUT || k->kind == PW_CT_ECHO_IN)
		return pw_slot_icmp(dir, k->fam, k->fam == PW_FAM_V4 ? 8 : 128);
	if (k->proto == 6 || k->proto == 17)
		return pw_slot_l4(dir, k->proto == 6 ? PW_L4_TCP : PW_L4_UDP, port);
	return pw_slot_proto(dir, k->proto);
}

bool pw_ct_key_allowed(const struct pw_compiled *c, const struct pw_ct_key *k, uint32_t origin)
{
	struct pw_verdict v;

	pw_decide_packet(c, key_slot(k, origin), k->fam, k->remote, &v);
	return v.action == PW_PASS;
}

/* The kernel's answer for (class, address) in a half, as the datapath
 * reads pw_classes and the trie (which holds what pw_flat4 holds, and
 * the learned addresses); 0 when none. */
static uint32_t trie_rule(const struct pw_dp_slots *m, uint32_t half, int trie, uint32_t cls, uint8_t fam,
			  const uint8_t *addr)
{
	uint32_t o = pw_dp_class_get(m, half, cls);
	struct pw_peer_key pk = { .prefixlen = PW_PEER_SCOPE_BITS + (fam == PW_FAM_V6 ? 128 : 32),
				  .scope = pw_peer_scope(pw_dp_class_get(m, half, o), fam) };
	struct pw_peer_val v;

	memcpy(pk.addr, addr, 16);
	if (bpf_map_lookup_elem(trie, &pk, &v) || !v.rule)
		return 0;
	return pw_dp_class_get(m, half, o + PW_CLASS_RUN_HEAD - 1 + v.rule);
}

/* Does half `half` allow flow k as the kernel would judge its opening
 * packet now: its slot and its trie, which holds the addresses learned
 * for host names besides the policy's own? */
static uint32_t kernel_rule(const struct pw_dp_slots *m, uint32_t half, int trie, const struct pw_ct_key *k,
			    uint32_t origin, uint8_t *action)
{
	const struct pw_slot *s = pw_dp_slot(m, half, key_slot(k, origin));
	uint32_t td = s->deny_class ? trie_rule(m, half, trie, s->deny_class, k->fam, k->remote) : 0;
	uint32_t ta = !td && s->allow_class ? trie_rule(m, half, trie, s->allow_class, k->fam, k->remote) : 0;

	return pw_decide(s, td, ta, action);
}

static bool kernel_allowed(const struct pw_dp_slots *m, uint32_t half, int trie, const struct pw_ct_key *k,
			   uint32_t origin)
{
	uint8_t action;

	kernel_rule(m, half, trie, k, origin, &action);
	return action == PW_PASS;
}

bool pw_dp_half_allows(const struct pw_dp_slots *m, uint32_t half, int trie, const struct pw_ct_key *k,
		       uint32_t origin)
{
	return kernel_allowed(m, half, trie, k, origin);
}

/* Who a flow of table t with value v was started by, for its judgement:
 * a revoked flow's mark (in pw_ct, pw_ct_dgram) is judged by the in rules. */
static uint32_t origin_of(int t, const struct pw_ct_val *v)
{
	return t == PW_CT_TABLE_IN || (v->flags & PW_CT_REVOKED) ? PW_DIR_IN : PW_DIR_OUT;
}

/* A table's flows as read: keys and values side by side. */
struct ct_read {
	struct pw_ct_key *keys;
	struct pw_ct_val *vals;
	size_t n, cap;
};

/* Room for `more` flows after the n read. 0 or -ENOMEM. */
static int ct_room(struct ct_read *r, size_t more)
{
	while (r->cap - r->n < more) {
		size_t nc = r->cap ? r->cap * 2 : (more > 1024 ? more : 1024);
		struct pw_ct_key *k = realloc(r->keys, nc * sizeof(*k));
		if (k)
			r->keys = k;
		struct pw_ct_val *v = k ? realloc(r->vals, nc * sizeof(*v)) : NULL;
		if (!v)
			return -ENOMEM;
		r->vals = v;
		r->cap = nc;
	}
	return 0;
}

static void ct_read_free(struct ct_read *r)
{
	free(r->keys);
	free(r->vals);
	*r = (struct ct_read){ 0 };
}

/* The walk of old kernels (no batch lookup for the map type): one
 * syscall per key. A key the LRU evicts under the walk restarts it: at
 * most three tables' worth of keys are looked at, whatever the traffic does. */
static int flows_one_by_one(int fd, size_t bound, struct ct_read *r)
{
	struct pw_ct_key k, next;
	void *prev = NULL;
	size_t seen = 0;

	while (seen++ < bound && bpf_map_get_next_key(fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		if (ct_room(r, 1))
			return -ENOMEM;
		if (bpf_map_lookup_elem(fd, &k, &r->vals[r->n]) == 0)
			r->keys[r->n++] = k;
	}
	return 0;
}

/* Every flow of conntrack table fd, appended to r: in batches of
 * bpf_map_lookup_batch (one syscall per few thousand flows; the walk goes
 * bucket by bucket, so evictions under it restart nothing), or one by one
 * where the kernel has no batch lookup for the map. 0 or -errno. */
static int ct_flows(int fd, struct ct_read *r)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info), chunk = 4096;
	size_t bound = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? 3 * (size_t)info.max_entries : 3u << 24;
	uint64_t cursor = 0, next = 0;	/* the kernel's opaque position (a bucket) */
	bool first = true;

	for (size_t rounds = 0; rounds < bound; rounds++) {
		if (ct_room(r, chunk))
			return -ENOMEM;
		uint32_t count = chunk;
		int rc = bpf_map_lookup_batch(fd, first ? NULL : &cursor, &next, r->keys + r->n, r->vals + r->n,
					      &count, NULL);
		int e = errno;
		if (rc && e == ENOSPC && count == 0 && chunk < (1u << 20)) {
			chunk *= 2;	/* one bucket holds more than a batch */
			continue;
		}
		if (rc && first && count == 0 && (e == EINVAL || e == ENOTSUP || e == EOPNOTSUPP))
			return flows_one_by_one(fd, bound, r);
		r->n += count;
		if (pw_fault_fails("ct-read"))
			return -EIO;	/* a read that stops after its first batch */
		if (rc)
			return e == ENOENT ? 0 : -e;	/* ENOENT: the walk is done */
		cursor = next;
		first = false;
	}
	return 0;
}

/* Delete keys[0..n) from fd: in batches, one by one where the kernel has
 * no batch delete; a key gone meanwhile (evicted, expired) is skipped.
 * Returns how many were deleted. */
static int delete_keys(int fd, const struct pw_ct_key *keys, size_t n)
{
	size_t i = 0;
	int removed = 0;
	bool batch = true;

	while (i < n) {
		uint32_t count = (uint32_t)(n - i < 65536 ? n - i : 65536);
		if (batch && bpf_map_delete_batch(fd, keys + i, &count, NULL) == 0) {
			removed += (int)count;
			i += count;
			continue;
		}
		int e = errno;
		if (batch && count == 0 && (e == EINVAL || e == ENOTSUP || e == EOPNOTSUPP)) {
			batch = false;
			continue;
		}
		if (batch) {
			removed += (int)count;	/* deleted before the one that failed */
			i += count + 1;		/* that one: gone already, or not ours to delete */
			continue;
		}
		removed += bpf_map_delete_elem(fd, &keys[i]) == 0;
		i++;
	}
	return removed;
}

/* A flow of pw_ct_in the policy no longer lets in, live at `now`: its
 * service was revoked. It is ended both ways: a mark in pw_ct_dgram (the
 * table the host's packets of it look in) drops them and opens no flow of
 * the host's; the peer's packets are the in rules' to drop. */
static void revoke_dgram(struct pw_dp *dp, const struct pw_config *cfg, const struct pw_ct_key *k,
			 const struct pw_ct_val *v, uint64_t now, struct pw_revoke *rev)
{
	uint64_t life = (uint64_t)(k->proto == 17 ? cfg->ct_udp : cfg->ct_other) * 1000000000ull;
	struct pw_ct_val mark = { .last_ns = now, .flags = PW_CT_REVOKED, .dir = PW_DIR_IN };

	/* the datapath's clock (pw_ct_now) may be a hair ahead of ours: a
	 * time after now is a flow seen just now, not an ancient one */
	if (!rev || k->kind != PW_CT_FLOW || (now > v->last_ns && now - v->last_ns > life))
		return;	/* echo requests: their replies are judged as ICMP; timed out: not established */
	if (bpf_map_update_elem(pw_dp_ct_fd(dp, PW_CT_TABLE_DGRAM), k, &mark, BPF_ANY) == 0)
		pw_revoke_add(rev, k->proto, ntohs(k->lport_be));
}

struct flush_ctx {
	struct pw_dp *dp;
	const struct pw_dp_slots *m;
	uint32_t half;
	int trie;
	struct pw_config cfg;	/* of half */
	uint64_t now;
	uint64_t boot_ns;	/* CLOCK_BOOTTIME, the exceptions' clock */
	struct pw_revoke *rev;
	int read_rc;		/* 0, or the -errno of a table not read whole */
};

/* Is flow (k, v) of table t a timed exception's, to keep whatever the
 * policy says? An out exception's flow (the host's, PW_CT_EXC), since the
 * datapath passes nothing by it once its exception is gone; an in
 * exception's (a peer's in pw_ct_in, or the mark of the host's answers on
 * it) while that exception lives. Once it is over, those are judged as
 * any: a peer's flow the policy refuses is revoked (marked), the mark
 * stays unless the policy allows the service. A mark dropped during the
 * exception (by a reload to a policy that allowed its port) would let the
 * host's next answer after the expiry open a flow of its own, and the
 * peer's session go on through it. */
static bool exc_kept(const struct flush_ctx *x, int t, const struct pw_ct_key *k, const struct pw_ct_val *v)
{
	if (!(v->flags & PW_CT_EXC))
		return false;
	if (t != PW_CT_TABLE_IN && !(v->flags & PW_CT_REVOKED))
		return true;
	return pw_exc_covers_in(x->dp, k, x->boot_ns);
}

/* Delete the flows of table t that half x->half (slots, trie) forbids:
 * first find them, then delete (deleting during a walk would upset it).
 * A flow goes when the policy refuses it; a revoked flow's mark when the
 * policy allows the service again; a timed exception's as exc_kept says.
 * A table not read whole is flushed as far as it was read. */
static int flush_table(struct flush_ctx *x, int t)
{
	int fd = pw_dp_ct_fd(x->dp, t);
	struct ct_read r = { 0 };
	size_t ngone = 0;
	int rc = ct_flows(fd, &r);

	if (rc && !x->read_rc)
		x->read_rc = rc;
	for (size_t i = 0; i < r.n; i++) {
		bool mark = t != PW_CT_TABLE_IN && (r.vals[i].flags & PW_CT_REVOKED);
		if (exc_kept(x, t, &r.keys[i], &r.vals[i]))
			continue;
		if (kernel_allowed(x->m, x->half, x->trie, &r.keys[i], origin_of(t, &r.vals[i])) != mark)
			continue;
		r.vals[ngone] = r.vals[i];
		r.keys[ngone++] = r.keys[i];
	}
	int removed = delete_keys(fd, r.keys, ngone);
	/* the in table's flows that went: their services were revoked (one a
	 * delete missed had gone by itself; revoke_dgram skips it if it timed out) */
	for (size_t i = 0; t == PW_CT_TABLE_IN && i < ngone; i++)
		revoke_dgram(x->dp, &x->cfg, &r.keys[i], &r.vals[i], x->now, x->rev);
	ct_read_free(&r);
	return removed;
}

int pw_dp_flush_ct(struct pw_dp *dp, uint32_t half, int removed[PW_CT_TABLE_COUNT], struct pw_revoke *rev)
{
	return pw_dp_flush_ct_skip(dp, half, 0, removed, rev);
}

int pw_dp_flush_ct_skip(struct pw_dp *dp, uint32_t half, unsigned skip, int removed[PW_CT_TABLE_COUNT],
			struct pw_revoke *rev)
{
	struct pw_dp_slots m;
	struct pw_state st;
	int total = 0, trie = pw_dp_half_trie(dp, half);

	/* judged by the kernel's own tables: a rollback has no compiled
	 * policy, and learned addresses live only in the trie */
	if (trie < 0 || pw_dp_read_state(dp, &st) || pw_dp_map_slots(dp, &m)) {
		if (trie >= 0)
			close(trie);
		return -1;
	}
	struct flush_ctx x = { .dp = dp, .m = &m, .half = half, .trie = trie, .cfg = st.cfg[half & 1],
			       .now = pw_mono_ns(), .boot_ns = pw_exc_now_ns(), .rev = rev };
	/* the in table first: the marks of its revoked flows go into
	 * pw_ct_dgram, whose walk then keeps them */
	for (int t = PW_CT_TABLE_COUNT - 1; t >= 0; t--) {
		/* flows the host opened (TCP, the rest) by the out rules, flows
		 * peers started (and revoked flows' marks) by the in rules */
		int n = skip & (1u << t) ? 0 : flush_table(&x, t);
		if (removed)
			removed[t] = n;
		total += n;
	}
	pw_dp_unmap_slots(&m);
	close(trie);
	if (x.read_rc) {	/* what was read is flushed, yet the walk is not done */
		errno = -x.read_rc;
		return -1;
	}
	return total;
}

int pw_dp_host_flows(const struct pw_dp *dp, struct pw_ct_key **keys, size_t *n)
{
	static const int tables[] = { PW_CT_TABLE_TCP, PW_CT_TABLE_DGRAM };
	struct ct_read r = { 0 };

	*keys = NULL;
	*n = 0;
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		if (ct_flows(pw_dp_ct_fd(dp, tables[t]), &r) == -ENOMEM) {
			ct_read_free(&r);
			return -ENOMEM;
		}
	/* a revoked peer flow's mark is no flow of the host's */
	for (size_t i = 0; i < r.n; i++)
		if (!(r.vals[i].flags & PW_CT_REVOKED))
			r.keys[(*n)++] = r.keys[i];
	*keys = r.keys;
	free(r.vals);
	return 0;
}

int pw_dp_flows_by_rule(const struct pw_dp *dp, const struct pw_ct_key *keys, size_t n, bool *by_rule)
{
	struct pw_state st;
	struct pw_dp_slots m;
	uint8_t action;

	if (pw_dp_read_state(dp, &st))
		return -1;
	int trie = pw_dp_half_trie(dp, st.active);
	if (trie < 0 || pw_dp_map_slots(dp, &m)) {
		if (trie >= 0)
			close(trie);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		by_rule[i] = kernel_rule(&m, st.active, trie, &keys[i], PW_DIR_OUT, &action) != PW_RULE_DEFAULT;
	pw_dp_unmap_slots(&m);
	close(trie);
	return 0;
}
