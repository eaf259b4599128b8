/* resolve.h - the agent asks the policy's resolvers about its plain host
 * names itself, at apply and on run's timer, and writes what they answer
 * into pw_learned and the trie of the half in force (docs/dns.md: which
 * hosts this covers that the datapath's own learning does not). */
#ifndef PW_RESOLVE_H
#define PW_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datapath/loader.h"
#include "datapath/state.h"
#include "policy/compile.h"

#define PW_RESOLVE_ADDRS_MAX 32	/* addresses taken from one answer, as the datapath */
#define PW_RESOLVE_NAMES_MAX 256	/* names asked at once: a round */

/* What pw_resolve_names asked and learned. */
struct pw_resolve_report {
	size_t asked;		/* plain names asked about (A and AAAA each) */
	size_t answered;	/* names with an answer to both questions */
	size_t learned;		/* addresses new to the half's trie */
	size_t refreshed;	/* addresses it held, given a new lifetime */
	size_t failed;		/* names whose queries went unanswered, were refused or failed */
	char first_failure[320];	/* the first of those: which name and why */
};

/* Ask res[0..nres) about the plain names c->names[which[0..nwhich)] (at
 * wildcards are skipped) over UDP from sockets
 * of the calling thread's network namespace, waiting at most timeout_ms for
 * every answer; learn each answered address for `half` (lifetime: its TTL
 * between cfg's dns_ttl_min and dns_ttl_max; source: enum
 * pw_learned_source). life_s[k], when not NULL, gets the shortest lifetime
 * learned for which[k] in seconds, or UINT32_MAX when it went unanswered.
 * Names are asked PW_RESOLVE_NAMES_MAX at a time; after a round nobody
 * answered, the rest are not asked. 0 or -errno (no socket could be
 * opened); *rep says what happened. */
int pw_resolve_names(struct pw_dp *dp, uint32_t half, const struct pw_compiled *c, const size_t *which,
		     size_t nwhich, const struct pw_ip *res, size_t nres, const struct pw_config *cfg,
		     uint8_t source, int timeout_ms, uint32_t *life_s, struct pw_resolve_report *rep);

/* Learn address (fam, addr) of plain name x for `half` as an answer with
 * this ttl would: 1 new to the trie, 0 held already (lifetime renewed),
 * -errno. */
int pw_dp_learn_addr(struct pw_dp *dp, uint32_t half, const struct pw_cname *x, uint8_t fam,
		     const uint8_t addr[16], uint32_t life_s, uint32_t ttl, uint8_t source, uint64_t now);

/* run's timer: each plain name of the policy in force is asked again
 * before what it learned runs out (resolve_timer.c). */
struct pw_names_timer {
	uint64_t *due;		/* by name index: when to ask next (CLOCK_MONOTONIC ns) */
	size_t n;		/* names the array is for; 0: every name is due */
	bool applied;		/* the next round is the first after an apply */
	int ms;			/* how long a round waits for answers; 0: never asks */
};

/* Forget when names are due: after an apply, every name is. */
void pw_names_timer_reset(struct pw_names_timer *t);
/* Ask about the names of a (when its file is the one in force) that are
 * due, in the record's network namespace; their next time follows from the
 * lifetimes the answers gave. Returns the names asked (0: none due, or
 * nothing to do), or -1 with err set; *rep says what the round did. */
int pw_names_timer_turn(struct pw_names_timer *t, struct pw_dp *dp, const struct pw_applied *a,
			struct pw_resolve_report *rep, char *err, size_t errsz);

#endif
