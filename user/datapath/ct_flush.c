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

/* Delete the flows of one table that half `half` (slots m, trie) forbids. */
static int flush_table(int fd, const struct pw_dp_slots *m, uint32_t half, int trie, uint32_t origin)
{
	struct pw_ct_key k, next, *gone = NULL;
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
		if (kernel_allowed(m, half, trie, &k, origin))
			continue;
		if (ngone == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct pw_ct_key *g = realloc(gone, nc * sizeof(*g));
			if (!g)
				break;
			gone = g;
			cap = nc;
		}
		gone[ngone++] = k;
	}
	for (size_t i = 0; i < ngone; i++)
		if (bpf_map_delete_elem(fd, &gone[i]) == 0)
			removed++;
	free(gone);
	return removed;
}

int pw_dp_flush_ct(struct pw_dp *dp, uint32_t half, int removed[PW_CT_TABLE_COUNT])
{
	struct pw_dp_slots m;
	int total = 0, trie = pw_dp_half_trie(dp, half);

	/* judged by the kernel's own tables: a rollback has no compiled
	 * policy, and learned addresses live only in the trie */
	if (trie < 0 || pw_dp_map_slots(dp, &m)) {
		if (trie >= 0)
			close(trie);
		return -1;
	}
	for (int t = 0; t < PW_CT_TABLE_COUNT; t++) {
		/* flows the host opened (TCP, the rest) by the out rules, flows
		 * peers started by the in rules */
		int n = flush_table(pw_dp_ct_fd(dp, t), &m, half, trie, t == PW_CT_TABLE_IN ? PW_DIR_IN : PW_DIR_OUT);
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
			k = next;
			prev = &k;
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
