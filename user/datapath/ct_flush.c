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

/* Append one key to *keys (grown by doubling). 0 or -ENOMEM. */
static int push_key(struct pw_ct_key **keys, size_t *n, size_t *cap, const struct pw_ct_key *k)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 1024;
		struct pw_ct_key *p = realloc(*keys, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		*keys = p;
		*cap = nc;
	}
	(*keys)[(*n)++] = *k;
	return 0;
}

/* The walk of old kernels (no batch lookup for the map type): one
 * syscall per key. A key the LRU evicts under the walk restarts it: at
 * most three tables' worth of keys are looked at, whatever the traffic does. */
static int keys_one_by_one(int fd, size_t bound, struct pw_ct_key **keys, size_t *n, size_t *cap)
{
	struct pw_ct_key k, next;
	void *prev = NULL;
	size_t seen = 0;

	while (seen++ < bound && bpf_map_get_next_key(fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		if (push_key(keys, n, cap, &k))
			return -ENOMEM;
	}
	return 0;
}

/* Every key of conntrack table fd, appended to *keys: in batches of
 * bpf_map_lookup_batch (one syscall per few thousand flows; the walk goes
 * bucket by bucket, so evictions under it restart nothing), or one by one
 * where the kernel has no batch lookup for the map. 0 or -errno. */
static int ct_keys(int fd, struct pw_ct_key **keys, size_t *n, size_t *cap)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info), chunk = 4096;
	size_t bound = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? 3 * (size_t)info.max_entries : 3u << 24;
	uint64_t cursor = 0, next = 0;	/* the kernel's opaque position (a bucket) */
	bool first = true;

	for (size_t rounds = 0; rounds < bound; rounds++) {
		while (*cap - *n < chunk) {
			struct pw_ct_key *p = realloc(*keys, (*cap ? *cap * 2 : chunk) * sizeof(*p));
			if (!p)
				return -ENOMEM;
			*keys = p;
			*cap = *cap ? *cap * 2 : chunk;
		}
		struct pw_ct_val *vals = malloc(chunk * sizeof(*vals));
		if (!vals)
			return -ENOMEM;
		uint32_t count = chunk;
		int rc = bpf_map_lookup_batch(fd, first ? NULL : &cursor, &next, *keys + *n, vals, &count, NULL);
		int e = errno;
		free(vals);
		if (rc && e == ENOSPC && count == 0 && chunk < (1u << 20)) {
			chunk *= 2;	/* one bucket holds more than a batch */
			continue;
		}
		if (rc && first && count == 0 && (e == EINVAL || e == ENOTSUP || e == EOPNOTSUPP))
			return keys_one_by_one(fd, bound, keys, n, cap);
		*n += count;
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

/* Delete the flows of one table that half `half` (slots m, trie) forbids:
 * first find them, then delete (deleting during a walk would upset it). */
static int flush_table(int fd, const struct pw_dp_slots *m, uint32_t half, int trie, uint32_t origin)
{
	struct pw_ct_key *keys = NULL;
	size_t n = 0, cap = 0, ngone = 0;

	/* a table not read whole is flushed as far as it was read */
	ct_keys(fd, &keys, &n, &cap);
	for (size_t i = 0; i < n; i++)
		if (!kernel_allowed(m, half, trie, &keys[i], origin))
			keys[ngone++] = keys[i];
	int removed = delete_keys(fd, keys, ngone);
	free(keys);
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
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		if (ct_keys(pw_dp_ct_fd(dp, tables[t]), keys, n, &cap) == -ENOMEM) {
			free(*keys);
			*keys = NULL;
			*n = 0;
			return -ENOMEM;
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
