/* exc.h - timed exceptions in the datapath (map pw_exc, include/portwall.h):
 * add, list, remove, and delete the expired ones (the agent). Callers hold
 * the pin root's lock (datapath/state.h): each call also writes
 * pw_state.exceptions, which a reload writes back as it read it. */
#ifndef PW_DP_EXC_H
#define PW_DP_EXC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datapath/loader.h"
#include "policy/exc.h"

/* One exception as --list shows it (its keys grouped by id). */
struct pw_exc_row {
	uint32_t id;
	uint8_t dir, proto;
	uint16_t port_lo, port_hi;
	struct pw_prefix peer;
	int64_t left_s;		/* <= 0: expired, not yet deleted */
	uint64_t expires_ns;	/* CLOCK_BOOTTIME */
	uint64_t added_unix;
	char comment[PW_EXC_COMMENT];
};

/* CLOCK_BOOTTIME in ns: the datapath's bpf_ktime_get_boot_ns(). */
uint64_t pw_exc_now_ns(void);

/* Add sp for sp->secs from now. Refused when a key of it is already an
 * exception (remove that one first) or the map is full. Returns 0 with
 * the new id in *id, or -errno with a message. */
int pw_exc_add(struct pw_dp *dp, const struct pw_exc_spec *sp, uint32_t *id, char *err, size_t n);

/* The exceptions into rows (room for max), sorted by id; *count set.
 * 0 or -errno. */
int pw_exc_list(const struct pw_dp *dp, struct pw_exc_row *rows, int max, int *count);

/* Remove exception id: 0, -ENOENT when there is none, or -errno (with a
 * message). */
int pw_exc_remove(struct pw_dp *dp, uint32_t id, char *err, size_t n);

/* How many exceptions are live (not expired): the metrics' gauge. Or -errno. */
int pw_exc_live_count(const struct pw_dp *dp);

/* Is the flow k a peer started (pw_ct_in), or the mark of the host's
 * answers on it (pw_ct, pw_ct_dgram), covered by an in exception live at
 * now (CLOCK_BOOTTIME), as the datapath's pw_exc_live finds it: its
 * protocol, local port and peer? */
bool pw_exc_covers_in(const struct pw_dp *dp, const struct pw_ct_key *k, uint64_t now);

/* Delete the expired exceptions (the agent's cleanup; the datapath
 * already ignores them). Returns how many keys were deleted, or -errno. */
int pw_exc_expire(struct pw_dp *dp);

#endif
