/* rollback.h - put the previous generation back in force, as one step
 * under the pin root's lock: `portwall rollback` and the --confirm
 * watchdog call it. */
#ifndef PW_ROLLBACK_H
#define PW_ROLLBACK_H

#include <stdbool.h>
#include <stddef.h>

#include "datapath/loader.h"

/* What pw_dp_rollback did beside the switch, for the caller to tell. */
struct pw_rollback {
	bool renewed;		/* the restored half got a fresh trie (see below) */
	char not_renewed[320];	/* else why not */
	bool carry_failed;	/* the rule counters restart at 0 */
	int ended;		/* flows the restored policy refuses, ended; -errno */
	struct pw_revoke revoked;	/* established flows of revoked services, ended */
	int revoke_tcp_rc;	/* 0, or -errno: the TCP connections were not read */
};

/* Put the half not in force back in force and swap meta's records. The
 * half goes back (when its policy has host names) with a fresh peer trie,
 * its policy's own entries and the addresses learned alive now, when the previous
 * policy's file still compiles to the tables recorded for it; else as it
 * was left (with the addresses its names learned back then). The rule
 * counters carry over, the flows the restored policy refuses end. 0, or
 * -errno with err set. */
int pw_dp_rollback(struct pw_dp *dp, struct pw_meta *m, struct pw_rollback *r, char *err, size_t errsz);

#endif
