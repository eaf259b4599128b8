/* ct_flush.c - which tracked flows a policy allows: after a reload the
 * flows the new policy forbids are forgotten (their entries would keep
 * letting packets through), and adoption tracks only what it allows. */
#include "datapath/loader.h"

#include <arpa/inet.h>
#include <stdlib.h>

#include <bpf/bpf.h>

bool pw_ct_key_allowed(const struct pw_compiled *c, const struct pw_ct_key *k, uint32_t origin)
{
	uint32_t dir = origin == PW_DIR_IN ? PW_DIR_IN : PW_DIR_OUT, slot;
	/* the port the opening packet was judged by: the remote one going out,
	 * the local one coming in */
	uint16_t port = ntohs(dir == PW_DIR_OUT ? k->rport_be : k->lport_be);

	if (k->kind == PW_CT_ECHO_OUT || k->kind == PW_CT_ECHO_IN)
		slot = pw_slot_icmp(dir, k->fam, k->fam == PW_FAM_V4 ? 8 : 128);
	else if (k->proto == 6 || k->proto == 17)
		slot = pw_slot_l4(dir, k->proto == 6 ? PW_L4_TCP : PW_L4_UDP, port);
	else
		slot = pw_slot_proto(dir, k->proto);
	struct pw_verdict v;
	pw_decide_packet(c, slot, k->fam, k->remote, &v);
	return v.action == PW_PASS;
}

/* Delete the flows of one table that the policy forbids. */
static int flush_table(int fd, const struct pw_compiled *c, uint32_t origin)
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
		if (pw_ct_key_allowed(c, &k, origin))
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

int pw_dp_flush_ct(struct pw_dp *dp, const struct pw_compiled *c, int removed[PW_CT_TABLE_COUNT])
{
	int total = 0;

	for (int t = 0; t < PW_CT_TABLE_COUNT; t++) {
		/* flows the host opened (TCP, the rest) by the out rules, flows
		 * peers started by the in rules */
		int n = flush_table(pw_dp_ct_fd(dp, t), c, t == PW_CT_TABLE_IN ? PW_DIR_IN : PW_DIR_OUT);
		if (removed)
			removed[t] = n;
		total += n;
	}
	return total;
}
