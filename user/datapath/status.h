/* status.h - a snapshot of a loaded portwall: its counters per rule and
 * reason, the most dropped ports, conntrack fill, events, config and the
 * interfaces' attach states. status prints it, the metrics file exports
 * it, top takes the counters every second and shows the differences. */
#ifndef PW_STATUS_H
#define PW_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "datapath/loader.h"
#include "datapath/state.h"
#include "datapath/stats.h"

/* The counters, summed over CPUs. */
struct pw_counts {
	struct pw_counter reason[PW_DIR_COUNT * PW_R_COUNT];	/* [dir * PW_R_COUNT + reason] */
	struct pw_counter (*rule)[PW_DIR_COUNT];	/* [id][dir]: 0 the default, then 1..nrules */
	struct pw_counter (*reset)[PW_DIR_COUNT];	/* [id][dir]: taken away by counters --reset */
	uint32_t nrules;		/* pw_applied_nrules */
	struct pw_port_drop *top;	/* the most dropped slots, most first */
	int ntop;
};

/* Read the counters of the policy a describes, with up to maxtop (> 0)
 * most dropped slots (kept in cache between calls, when not NULL). 0 or
 * -errno; on failure there is nothing to free. */
int pw_counts_read(const struct pw_dp *dp, const struct pw_applied *a, int maxtop, struct pw_drops_cache *cache,
		   struct pw_counts *n);
void pw_counts_free(struct pw_counts *n);

/* An interface of the policy record as the kernel has it now. */
struct pw_iface_state {
	int xdp_mode;		/* PW_XDP_*: as attached, else as applied */
	uint8_t link;		/* enum pw_link: the programs attached, else as applied */
	bool xdp;		/* our XDP program is on it */
	bool tc;		/* our tc egress filter is on it */
	bool gone;		/* no interface has its ifindex (or its namespace is gone) */
	char now[IF_NAMESIZE];	/* its name now: "" when gone */
	uint32_t name_taken;	/* ifindex of another interface, not enforced, that now
				 * has the name it was applied by; 0: none */
};

/* One conntrack table's fill. */
struct pw_ct_fill {
	int entries;
	uint32_t capacity;
	uint64_t created;		/* by the datapath (adoption not counted) */
	uint64_t removed;		/* expired or closed, by the datapath */
	uint64_t evicted;		/* by the LRU from a full table */
};

struct pw_status {
	const struct pw_applied *a;	/* the policy record the counters belong to */
	struct pw_counts n;
	struct pw_stats gs;		/* conntrack and drop event counts */
	struct pw_ct_fill ct[PW_CT_TABLE_COUNT];	/* by enum pw_ct_table */
	int ct_entries;			/* flows the host opened: pw_ct and pw_ct_dgram */
	uint32_t ct_capacity;		/* of both */
	uint64_t ct_removed;		/* every table */
	uint64_t ct_evicted;		/* by the LRU from a full table, every table */
	struct pw_dns_stats dns;	/* the DNS learner's counters (docs/dns.md) */
	int learned;			/* addresses in pw_learned, live or not yet swept */
	struct pw_learned_rec *rec;	/* those records, by name and address */
	uint32_t *flows;		/* by record: the host's open flows to its address */
	uint64_t now;			/* the datapath's clock when they were read */
	struct pw_config cfg;		/* of the half in force */
	uint32_t event_rate;		/* drop events per second, all CPUs */
	struct pw_iface_state iface[PW_MAX_IFACES];	/* per a->meta.iface, by pw_status_ifaces */
};

/* Read everything but the attach states for the policy record a (which
 * must outlive s); cache as pw_counts_read's. 0 or -errno; on failure
 * there is nothing to free. */
int pw_status_read(const struct pw_dp *dp, const struct pw_applied *a, int maxtop, struct pw_drops_cache *cache,
		   struct pw_status *s);
/* Ask the kernel which interfaces still have our programs, inside the
 * record's network namespace. Where that cannot be entered (it is gone)
 * every interface reads as not attached. */
void pw_status_ifaces(const struct pw_dp *dp, struct pw_status *s);
void pw_status_free(struct pw_status *s);

/* Rule ids name lines of a's file only while it compiles to the tables in
 * force: how many then, else 0 (only the default is counted by id). */
uint32_t pw_applied_nrules(const struct pw_applied *a);
/* The line of rule id; NULL for 0 (the default) and past pw_applied_nrules. */
const struct pw_rule *pw_applied_rule(const struct pw_applied *a, uint32_t id);

#endif
