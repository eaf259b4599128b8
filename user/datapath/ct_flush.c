/* ct_flush.c - which tracked flows a policy allows: after a reload the
 * flows the new policy forbids are forgotten (their entries would keep
 * letting packets through), and adoption tracks only what it allows. */
#include "datapath/loader.h"

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

/* The kernel trie's answer for (class, address), 0 when none. */
static uint32_t trie_rule(int trie, uint32_t cls, uint8_t fam, const uint8_t *addr)
{
	struct pw_peer_key pk = { .prefixlen = PW_PEER_SCOPE_BITS + (fam == PW_FAM_V6 ? 128 : 32),
				  .scope = pw_peer_scope(cls, fam) };
	struct pw_peer_val v;

	memcpy(pk.addr, addr, 16);
	return bpf_map_lookup_elem(trie, &pk, &v) ? 0 : v.rule;
}

/* Does half `half` allow flow k as the kernel would judge its opening
 * packet now: its slot and its trie, which holds the addresses learned
 * for host names besides the policy's own? */
static uint32_t kernel_rule(const struct pw_dp_slots *m, uint32_t half, int trie, const struct pw_ct_key *k,
			    uint32_t origin, uint8_t *action)
{
	const struct pw_slot *s = pw_dp_slot(m, half, key_slot(k, origin));
	uint32_t td = s->deny_class ? trie_rule(trie, s->deny_class, k->fam, k->remote) : 0;
	uint32_t ta = !td && s->allow_class ? trie_rule(trie, s->allow_class, k->fam, k->remote) : 0;

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

/* A flow of pw_ct_in the policy no longer lets in, live at `now`: its
 * service was revoked. It is ended both ways: a mark in pw_ct_dgram (the
 * table the host's packets of it look in) drops them and opens no flow of
 * the host's; the peer's packets are the in rules' to drop. */
static void revoke_dgram(struct pw_dp *dp, const struct pw_config *cfg, const struct pw_ct_key *k,
			 const struct pw_ct_val *v, uint64_t now, struct pw_revoke *rev)
{
	uint64_t life = (uint64_t)(k->proto == 17 ? cfg->ct_udp : cfg->ct_other) * 1000000000ull;
	struct pw_ct_val mark = { .last_ns = now, .flags = PW_CT_REVOKED, .dir = PW_DIR_IN };

	if (!rev || k->kind != PW_CT_FLOW || now - v->last_ns > life)
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
	struct pw_revoke *rev;
};

/* Delete the flows of table t that half x->half (slots, trie) forbids. */
static int flush_table(const struct flush_ctx *x, int t)
{
	int fd = pw_dp_ct_fd(x->dp, t);
	struct pw_ct_key k, next, *gone = NULL;
	struct pw_ct_val v, *vals = NULL;
	size_t ngone = 0, cap = 0, seen = 0, bound;
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	void *prev = NULL;
	int removed = 0;

	/* first find them, then delete: deleting during the walk restarts it.
	 * A key the LRU evicts under the walk restarts it too: at most three
	 * tables' worth of keys are looked at, whatever the traffic does */
	bound = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? 3 * (size_t)info.max_entries : 3u << 24;
	while (seen++ < bound && bpf_map_get_next_key(fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &v))
			continue;
		/* a flow goes when the policy refuses it; a revoked flow's mark
		 * when the policy allows the service again */
		bool mark = t != PW_CT_TABLE_IN && (v.flags & PW_CT_REVOKED);
		if (kernel_allowed(x->m, x->half, x->trie, &k, origin_of(t, &v)) != mark)
			continue;
		if (ngone == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct pw_ct_key *g = realloc(gone, nc * sizeof(*g));
			struct pw_ct_val *gv = g ? realloc(vals, nc * sizeof(*gv)) : NULL;
			if (g)
				gone = g;
			if (!gv)
				break;
			vals = gv;
			cap = nc;
		}
		vals[ngone] = v;
		gone[ngone++] = k;
	}
	for (size_t i = 0; i < ngone; i++)
		if (bpf_map_delete_elem(fd, &gone[i]) == 0) {
			removed++;
			if (t == PW_CT_TABLE_IN)
				revoke_dgram(x->dp, &x->cfg, &gone[i], &vals[i], x->now, x->rev);
		}
	free(gone);
	free(vals);
	return removed;
}

int pw_dp_flush_ct(struct pw_dp *dp, uint32_t half, int removed[PW_CT_TABLE_COUNT], struct pw_revoke *rev)
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
			       .now = pw_mono_ns(), .rev = rev };
	/* the in table first: the marks of its revoked flows go into
	 * pw_ct_dgram, whose walk then keeps them */
	for (int t = PW_CT_TABLE_COUNT - 1; t >= 0; t--) {
		/* flows the host opened (TCP, the rest) by the out rules, flows
		 * peers started (and revoked flows' marks) by the in rules */
		int n = flush_table(&x, t);
		if (removed)
			removed[t] = n;
		total += n;
	}
	pw_dp_unmap_slots(&m);
	close(trie);
	return total;
}

int pw_dp_host_flows(const struct pw_dp *dp, struct pw_ct_key **keys, size_t *n)
{
	static const int tables[] = { PW_CT_TABLE_TCP, PW_CT_TABLE_DGRAM };
	size_t cap = 0;

	*keys = NULL;
	*n = 0;
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		int fd = pw_dp_ct_fd(dp, tables[t]);
		struct bpf_map_info info = { 0 };
		uint32_t len = sizeof(info);
		struct pw_ct_key k, next;
		void *prev = NULL;
		/* as flush_table: a walk the LRU restarts ends after three tables' worth */
		size_t seen = 0, bound = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? 3 * (size_t)info.max_entries :
					 3u << 24;
		while (seen++ < bound && bpf_map_get_next_key(fd, prev, &next) == 0) {
			struct pw_ct_val v;
			k = next;
			prev = &k;
			if (bpf_map_lookup_elem(fd, &k, &v) || (v.flags & PW_CT_REVOKED))
				continue;	/* gone, or a revoked peer flow's mark: no flow of the host's */
			if (*n == cap) {
				size_t nc = cap ? cap * 2 : 64;
				struct pw_ct_key *p = realloc(*keys, nc * sizeof(*p));
				if (!p) {
					free(*keys);
					*keys = NULL;
					*n = 0;
					return -ENOMEM;
				}
				*keys = p;
				cap = nc;
			}
			(*keys)[(*n)++] = k;
		}
	}
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
