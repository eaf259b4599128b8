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
/* "in tcp/443", "out icmpv6/echo-request", "in gre" */
void pw_slot_name(uint32_t slot, char *buf, size_t n);
/* Entries in the conntrack table of flows the host opened (pw_ct), or of
 * flows peers started (pw_ct_in). */
int pw_ct_entries(const struct pw_dp *dp, bool in_origin);

#endif
