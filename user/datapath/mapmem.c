/* mapmem.c - what the kernel charges (bpftool's memlock) for the maps a
 * compiled policy puts in the datapath, by the kernel's own accounting of
 * each map type (map_mem_usage, Linux 6.x), so that `check` tells the
 * memory a policy costs before it is applied. The kernel's internal
 * struct sizes below were read off a 6.18 kernel (tests/e2e/test_mapmem.sh
 * compares the whole against bpftool on the running one). */
#include "datapath/mapmem.h"

#include <stdio.h>
#include <string.h>

#include "datapath/loader.h"

#define K_ARRAY 312u		/* struct bpf_array */
#define K_HTAB 896u		/* struct bpf_htab */
#define K_HTAB_ELEM 48u		/* struct htab_elem */
#define K_BUCKET 16u		/* struct bucket */
#define K_HTAB_LOCKS 8u		/* HASHTAB_MAP_LOCK_COUNT, an int per CPU each */
#define K_LPM_NODE 24u		/* struct lpm_trie_node */
#define K_RINGBUF 304u		/* struct bpf_ringbuf_map */
#define K_RINGBUF_META 3u	/* pages before the data */
#define K_PAGE 4096u
#define PW_EVENTS_BYTES (256u * 1024u)	/* pw_events (bpf/pw_maps.h) */

static uint64_t up8(uint64_t v)
{
	return (v + 7) & ~7ull;
}

static uint64_t page_up(uint64_t v)
{
	return (v + K_PAGE - 1) / K_PAGE * K_PAGE;
}

static uint64_t pow2_up(uint64_t v)
{
	uint64_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

uint64_t pw_mem_array(uint64_t entries, uint64_t value_size, bool mmapable)
{
	return mmapable ? page_up(K_ARRAY) + page_up(entries * up8(value_size)) : K_ARRAY + entries * up8(value_size);
}

uint64_t pw_mem_percpu_array(uint64_t entries, uint64_t value_size, int ncpus)
{
	return K_ARRAY + entries * 8 + entries * up8(value_size) * (uint64_t)ncpus;
}

/* A preallocated hash (LRU or not): every element exists from creation. */
uint64_t pw_mem_hash(uint64_t entries, uint64_t key_size, uint64_t value_size, bool lru, int ncpus)
{
	uint64_t n = entries + (lru ? 0 : (uint64_t)ncpus);	/* a plain hash keeps a spare per CPU */
	uint64_t u = K_HTAB + K_BUCKET * pow2_up(entries) + 4ull * (uint64_t)ncpus * K_HTAB_LOCKS;

	u += n * (K_HTAB_ELEM + up8(key_size) + up8(value_size));
	if (!lru)
		u += 8ull * (uint64_t)ncpus;
	return u;
}

uint64_t pw_mem_lpm(uint64_t entries, uint64_t key_size, uint64_t value_size)
{
	/* the key's prefixlen word is not stored: the node has its own */
	return entries * (K_LPM_NODE + key_size - 4 + value_size);
}

static uint64_t mem_ringbuf(uint64_t bytes)
{
	uint64_t pages = bytes / K_PAGE;

	return K_RINGBUF + (K_RINGBUF_META + pages) * K_PAGE + (K_RINGBUF_META + 2 * pages) * 8;
}

static void add(struct pw_mapmem *m, const char *name, enum pw_mem_kind kind, uint64_t bytes)
{
	if (m->n < PW_MAPMEM_MAX) {
		snprintf(m->map[m->n].name, sizeof(m->map[m->n].name), "%s", name);
		m->map[m->n].kind = kind;
		m->map[m->n].bytes = bytes;
		m->n++;
	}
	m->total += bytes;
	m->by_kind[kind] += bytes;
}

void pw_mapmem(const struct pw_compiled *c, int ncpus, uint32_t ct_capacity, struct pw_mapmem *m)
{
	uint32_t cap = pw_dp_rule_capacity_for(c->nrules), ct = ct_capacity ? ct_capacity : PW_CT_CAPACITY;
	const size_t ck = sizeof(struct pw_ct_key), cv = sizeof(struct pw_ct_val);

	memset(m, 0, sizeof(*m));
	m->ncpus = ncpus;
	m->trie_entry = pw_mem_lpm(1, sizeof(struct pw_peer_key), sizeof(struct pw_peer_val));
	/* both halves hold a trie like it after a reload of other entries
	 * (the one not in force is what rollback returns to; a reload of the
	 * same entries shares one): the policy's entries and the mark */
	uint64_t trie = pw_mem_lpm(c->npeers + 1, sizeof(struct pw_peer_key), sizeof(struct pw_peer_val));
	add(m, "pw_peers_h0", PW_MEM_POLICY, trie);
	add(m, "pw_peers_h1", PW_MEM_POLICY, trie);
	add(m, "pw_peers", PW_MEM_POLICY, K_ARRAY + 2 * 8);
	/* timed exceptions: empty at apply (a trie is charged per entry) */
	add(m, "pw_exc", PW_MEM_POLICY, pw_mem_lpm(0, sizeof(struct pw_exc_key), sizeof(struct pw_exc_val)));
	add(m, "pw_slots", PW_MEM_POLICY, pw_mem_array(2 * PW_SLOT_COUNT, sizeof(struct pw_slot), true));
	add(m, "pw_classes", PW_MEM_POLICY, pw_mem_array(2ull * pw_dp_class_words_for(cap, c->nclass_words),
								  sizeof(uint32_t), true));
	add(m, "pw_flat4", PW_MEM_POLICY,
	    pw_mem_array(2ull * pw_dp_flat4_chunks_for(c->nflat4), sizeof(struct pw_chunk), true));
	add(m, "pw_state", PW_MEM_POLICY, pw_mem_array(1, sizeof(struct pw_state), false));
	add(m, "pw_meta", PW_MEM_POLICY, pw_mem_array(1, sizeof(struct pw_meta), false));
	add(m, "pw_rules", PW_MEM_POLICY, pw_mem_array(2ull * cap, sizeof(struct pw_rule_info), false));
	add(m, "pw_rule_stats", PW_MEM_PERCPU, pw_mem_percpu_array(4ull * cap, sizeof(struct pw_counter), ncpus));
	add(m, "pw_port_drops", PW_MEM_PERCPU, pw_mem_percpu_array(PW_SLOT_COUNT, 8, ncpus));
	add(m, "pw_reason_stats", PW_MEM_PERCPU,
	    pw_mem_percpu_array(PW_DIR_COUNT * PW_R_COUNT, sizeof(struct pw_counter), ncpus));
	add(m, "pw_stats", PW_MEM_PERCPU, pw_mem_percpu_array(1, sizeof(struct pw_stats), ncpus));
	add(m, "pw_ratelimit", PW_MEM_PERCPU, pw_mem_percpu_array(1, sizeof(struct pw_bucket), ncpus));
	add(m, "pw_dns_stats", PW_MEM_PERCPU, pw_mem_percpu_array(2, sizeof(struct pw_dns_stats), ncpus));
	add(m, "pw_ct", PW_MEM_CONNTRACK, pw_mem_hash(ct, ck, cv, true, ncpus));
	add(m, "pw_ct_dgram", PW_MEM_CONNTRACK, pw_mem_hash(ct / PW_CT_DGRAM_SHARE, ck, cv, true, ncpus));
	add(m, "pw_ct_in", PW_MEM_CONNTRACK, pw_mem_hash(ct / PW_CT_IN_SHARE, ck, cv, true, ncpus));
	add(m, "pw_frags", PW_MEM_CONNTRACK,
	    pw_mem_hash(PW_FRAG_CAPACITY, sizeof(struct pw_frag_key), sizeof(struct pw_frag_val), true, ncpus));
	add(m, "pw_frag_src", PW_MEM_CONNTRACK, pw_mem_hash(PW_FRAG_SRC_CAPACITY, sizeof(struct pw_frag_src_key),
							    sizeof(struct pw_frag_src_val), true, ncpus));
	add(m, "pw_names", PW_MEM_NAMES,
	    pw_mem_hash(PW_NAMES_CAPACITY, sizeof(struct pw_name_key), sizeof(struct pw_name_val), false, ncpus));
	add(m, "pw_resolvers", PW_MEM_NAMES,
	    pw_mem_hash(2 * PW_RESOLVERS_MAX, sizeof(struct pw_resolver_key), 4, false, ncpus));
	add(m, "pw_dns_users", PW_MEM_NAMES,
	    pw_mem_hash(2 * PW_DNS_USERS_MAX, sizeof(struct pw_dns_user_key), 4, false, ncpus));
	add(m, "pw_dns_q", PW_MEM_NAMES,
	    pw_mem_hash(PW_DNSQ_CAPACITY, sizeof(struct pw_dnsq_key), sizeof(struct pw_dnsq_val), true, ncpus));
	add(m, "pw_learned", PW_MEM_NAMES, pw_mem_hash(PW_LEARNED_CAPACITY, sizeof(struct pw_learned_key),
						       sizeof(struct pw_learned_val), false, ncpus));
	add(m, "pw_events", PW_MEM_NAMES, mem_ringbuf(PW_EVENTS_BYTES));
}
