/* mapmem.h - the kernel memory (memlock) the datapath's maps cost for a
 * compiled policy, map by map, as the kernel accounts it (mapmem.c). */
#ifndef PW_MAPMEM_H
#define PW_MAPMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "policy/compile.h"

enum pw_mem_kind {
	PW_MEM_POLICY = 0,	/* tries, slots, records: what the policy holds */
	PW_MEM_PERCPU,		/* counters, one copy per CPU */
	PW_MEM_CONNTRACK,	/* flow and fragment tables (preallocated) */
	PW_MEM_NAMES,		/* host names, DNS, the event ring */
	PW_MEM_KINDS,
};

#define PW_MAPMEM_MAX 32

struct pw_mapmem {
	int ncpus;
	uint64_t trie_entry;	/* bytes the kernel charges per trie entry */
	uint64_t total, by_kind[PW_MEM_KINDS];
	size_t n;
	struct {
		char name[20];
		enum pw_mem_kind kind;
		uint64_t bytes;
	} map[PW_MAPMEM_MAX];
};

/* The maps a first apply of c makes on a host of ncpus possible CPUs with
 * pw_ct holding ct_capacity flows (0: the default), both peer tries full
 * (as after a reload), nothing learned yet. */
void pw_mapmem(const struct pw_compiled *c, int ncpus, uint32_t ct_capacity, struct pw_mapmem *m);

/* One map's charge, by type. */
uint64_t pw_mem_array(uint64_t entries, uint64_t value_size, bool mmapable);
uint64_t pw_mem_percpu_array(uint64_t entries, uint64_t value_size, int ncpus);
uint64_t pw_mem_hash(uint64_t entries, uint64_t key_size, uint64_t value_size, bool lru, int ncpus);
uint64_t pw_mem_lpm(uint64_t entries, uint64_t key_size, uint64_t value_size);

#endif
