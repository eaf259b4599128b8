/* rdiff.h - two compiled policies compared rule by rule (rdiff.c): which
 * rules one keeps of the other (the same fingerprint: action, directions,
 * protocols, ports, peers), which it adds, removes or changes. */
#ifndef PW_RDIFF_H
#define PW_RDIFF_H

#include <stddef.h>

#include "policy/compile.h"
#include "policy/policy.h"

enum pw_rdiff_kind { PW_RD_REMOVED, PW_RD_ADDED, PW_RD_CHANGED, PW_RD_MOVED };

/* One difference: a and b are rule indexes into the old and new policy's
 * rules (-1: none). */
struct pw_rdiff {
	enum pw_rdiff_kind kind;
	long a, b;
};

/* The differences from (pa, ca) to (pb, cb), in the new policy's order
 * (removed ones where they stood); *kept counts the rules kept. A rule
 * removed and one added with the same comment, or else at the same file
 * and line, are one rule changed. A kept rule is moved when it now
 * stands before a rule it stood after (first match wins: order matters).
 * 0, or -ENOMEM. Free *out. */
int pw_rdiff(const struct pw_policy *pa, const struct pw_compiled *ca, const struct pw_policy *pb,
	     const struct pw_compiled *cb, struct pw_rdiff **out, size_t *n, size_t *kept);

#endif
