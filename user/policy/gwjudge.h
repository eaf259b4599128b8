/* gwjudge.h - one forwarded packet judged by a gateway file in userspace:
 * by the policy of each protected host it goes to (in) or comes from
 * (out), else by default forward (docs/gateway.md). No flow state: the
 * verdict of a new packet, as `explain` gives it. */
#ifndef PW_GWJUDGE_H
#define PW_GWJUDGE_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/explain.h"
#include "policy/gateway.h"
#include "policy/packet.h"

/* The judgment of one protected end of the packet. */
struct pw_gw_end {
	const struct pw_gw_host *host;
	const struct pw_gw_policy *pp;
	uint8_t dir;		/* PW_DIR_IN: the packet goes to host; PW_DIR_OUT: comes from it */
	struct pw_verdict v;
	const char *reason;	/* allow-rule, allow-default, default, deny-rule, neighbor-discovery, malformed */
	bool listener;		/* out: a TCP segment of host's listener, passed by the in rule of its port */
	char line[4096];	/* pw_explain's lines */
};

struct pw_gw_verdict {
	uint8_t action;		/* PW_PASS / PW_DROP: every end passes it, or default forward */
	size_t nends;		/* 0: no protected end, default forward decided */
	struct pw_gw_end end[2];	/* the destination's first */
	size_t decider;		/* the end that decided (the first that drops, else the first) */
};

/* Judge s by gw. s->dir must agree: in, the destination is protected; out,
 * the source is (a packet between two protected hosts is judged by both).
 * A packet between hosts no protect line names takes default forward,
 * whatever s->dir. 0, or -1 with why in err (a usage error). */
int pw_gw_judge(const struct pw_gateway *gw, const struct pw_pktspec *s, struct pw_gw_verdict *out, char *err,
		size_t errsz);

#endif
