/* stats.h - what status and the metrics file read from the maps. */
#ifndef PW_STATS_H
#define PW_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datapath/loader.h"

struct pw_port_drop {
	uint32_t slot;		/* (direction, protocol, port): a decision slot */
	uint64_t packets;
};

/* The n most dropped slots, summed over CPUs; how many, or -errno. */
int pw_top_drops(const struct pw_dp *dp, struct pw_port_drop *top, int n);
/* What pw_top_drops found, kept by a caller that reads again and again
 * (the metrics file, top): reading every slot of every CPU is most of what
 * a read costs, and at idle none of them moves. */
#define PW_DROPS_CACHE_MAX 256
struct pw_drops_cache {
	uint32_t map_id;	/* pw_port_drops' id when read; 0: nothing kept */
	uint64_t seen[2];	/* the drops counted by reason at the last two calls */
	int n;
	struct pw_port_drop top[PW_DROPS_CACHE_MAX];
};
/* pw_top_drops, read again only when something was dropped since the call
 * before the last one: drops is the sum of the drop reasons' packet
 * counters, read before this call (the datapath counts a drop's reason
 * before its slot, so a drop counted while the slots were read is read
 * again at the next call). c NULL: pw_top_drops. */
int pw_top_drops_cached(const struct pw_dp *dp, uint64_t drops, struct pw_drops_cache *c,
			struct pw_port_drop *top, int n);
/* "in tcp/443", "out icmpv6/echo-request", "in gre" */
void pw_slot_name(uint32_t slot, char *buf, size_t n);
/* Entries in conntrack table t (enum pw_ct_table): TCP flows the host
 * opened (pw_ct), its other flows (pw_ct_dgram), flows peers started
 * (pw_ct_in). */
int pw_ct_entries(const struct pw_dp *dp, int t);

#endif
