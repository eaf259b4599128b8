/* ct_same.c - which conntrack tables a reload need not walk: those whose
 * every flow the new half judges as the half it replaces did. The flush
 * ends the flows the new policy refuses; the half in force until the flip
 * judged the same flows (its own flows were opened by its rules, the
 * flows before it were flushed by them), so where the two halves decide
 * alike for every peer the walk would end nothing. With a million tracked
 * flows the walk is most of a reload; the comparison reads the mapped slots
 * once (263,680 slots a half). */
#include "datapath/loader.h"

#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

/* What a slot's action is for any peer: pw_decide's inputs, with each
 * class as the trie scope (shape) its lookup reads. */
struct verdict_key {
	uint32_t dshape, ashape;
	uint8_t deny, allow, dflt;
};

static struct verdict_key vkey(const struct pw_dp_slots *m, uint32_t half, uint32_t slot)
{
	const struct pw_slot *s = pw_dp_slot(m, half, slot);
	struct verdict_key k = { .deny = s->deny_rule != 0, .allow = s->allow_rule != 0, .dflt = s->dflt };

	if (s->deny_class)
		k.dshape = pw_dp_class_get(m, half, pw_dp_class_get(m, half, s->deny_class)) | 0x80000000u;
	if (s->allow_class)
		k.ashape = pw_dp_class_get(m, half, pw_dp_class_get(m, half, s->allow_class)) | 0x80000000u;
	return k;
}

/* Do halves a and b decide slots [first, first + n) alike for every peer?
 * A class's answer is the trie's: alike only when both halves read one
 * trie (same_trie). */
static bool range_same(const struct pw_dp_slots *m, uint32_t a, uint32_t b, bool same_trie, uint32_t first,
		       uint32_t n)
{
	for (uint32_t i = first; i < first + n; i++) {
		struct verdict_key x = vkey(m, a, i), y = vkey(m, b, i);
		if (x.deny != y.deny || x.allow != y.allow || x.dflt != y.dflt || x.dshape != y.dshape ||
		    x.ashape != y.ashape || (!same_trie && (x.dshape || x.ashape)))
			return false;
	}
	return true;
}

/* The id of half h's peer trie, 0 when it cannot be read. */
static uint32_t trie_id(const struct pw_dp *dp, uint32_t h)
{
	struct bpf_map_info info;
	uint32_t len = sizeof(info);
	int fd = pw_dp_half_trie(dp, h);

	memset(&info, 0, sizeof(info));
	if (fd < 0)
		return 0;
	uint32_t id = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
	close(fd);
	return id;
}

unsigned pw_dp_ct_same(const struct pw_dp *dp, uint32_t from, uint32_t to)
{
	struct pw_dp_slots m;
	uint32_t ia = trie_id(dp, from), ib = trie_id(dp, to);
	bool same_trie = ia && ia == ib, tcp = true, other = true;

	if (pw_dp_map_slots(dp, &m))
		return 0;
	/* pw_ct holds TCP: its flows by the out TCP slots, its revoked
	 * flows' marks by the in TCP slots; pw_ct_dgram the rest (UDP, ICMP
	 * echo, other protocols) likewise */
	for (uint32_t dir = 0; dir < PW_DIR_COUNT; dir++) {
		tcp = tcp && range_same(&m, from, to, same_trie, pw_slot_l4(dir, PW_L4_TCP, 0), 65536);
		other = other && range_same(&m, from, to, same_trie, pw_slot_l4(dir, PW_L4_UDP, 0), 65536);
	}
	other = other && range_same(&m, from, to, same_trie, PW_SLOT_ICMP_BASE, PW_SLOT_COUNT - PW_SLOT_ICMP_BASE);
	pw_dp_unmap_slots(&m);
	/* pw_ct_in is always walked: it is small, and what it holds is the in
	 * rules' alone to keep */
	return (tcp ? 1u << PW_CT_TABLE_TCP : 0) | (other ? 1u << PW_CT_TABLE_DGRAM : 0);
}
