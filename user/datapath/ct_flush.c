/* ct_flush.c - after a reload, forget the tracked flows the new policy no
 * longer lets out: their entries would keep letting replies in. */
#include "datapath/loader.h"

#include <arpa/inet.h>
#include <stdlib.h>

#include <bpf/bpf.h>

int pw_dp_flush_ct(struct pw_dp *dp, const struct pw_compiled *c)
{
	struct pw_ct_key k, next, *gone = NULL;
	size_t ngone = 0, cap = 0;
	void *prev = NULL;
	int removed = 0;

	/* first find them, then delete: deleting during the walk restarts it */
	while (bpf_map_get_next_key(dp->ct_fd, prev, &next) == 0) {
		uint32_t slot;
		k = next;
		prev = &k;
		if (k.kind == PW_CT_ECHO_OUT)
			slot = pw_slot_icmp(PW_DIR_OUT, k.fam, k.fam == PW_FAM_V4 ? 8 : 128);
		else if (k.proto == 6 || k.proto == 17)
			slot = pw_slot_l4(PW_DIR_OUT, k.proto == 6 ? PW_L4_TCP : PW_L4_UDP, ntohs(k.rport_be));
		else
			slot = pw_slot_proto(PW_DIR_OUT, k.proto);
		struct pw_verdict v;
		pw_decide_packet(c, slot, k.fam, k.remote, &v);
		if (v.action != PW_DROP)
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
		if (bpf_map_delete_elem(dp->ct_fd, &gone[i]) == 0)
			removed++;
	free(gone);
	return removed;
}
