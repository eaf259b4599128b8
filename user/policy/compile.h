/* compile.h - a parsed policy to the exact contents of the datapath's maps. */
#ifndef PW_COMPILE_H
#define PW_COMPILE_H

#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"
#include "portwall.h"

/* Upper bounds the loader sizes maps by; exceeding one is a compile error. */
#define PW_MAX_RULES (1u << 24)
#define PW_MAX_PEER_ENTRIES (1u << 22)

struct pw_peer_entry {
	struct pw_peer_key key;
	struct pw_peer_val val;
};

/* A peer class: the restricted rules of one action that share it. */
struct pw_class {
	uint8_t action;			/* PW_DROP (deny class) / PW_PASS (allow class) */
	uint32_t nrules;
	uint32_t *rules;		/* ascending rule ids (into pw_compiled.class_rules) */
	size_t entries;			/* its peer-trie entries, both families */
};

struct pw_compiled {
	struct pw_slot *slots;		/* PW_SLOT_COUNT entries, index = slot */
	struct pw_peer_entry *peers;	/* sorted by (scope, address, length) */
	size_t npeers;
	uint32_t nclasses;		/* peer classes (deny and allow), ids 1..nclasses */
	struct pw_class *classes;	/* index = class id - 1 */
	uint32_t *class_rules;		/* storage of every class's rule ids */
	uint32_t nrules;		/* rule ids 1..nrules */
	uint8_t mode;			/* PW_MODE_* */
	uint8_t hash[32];		/* SHA-256 of mode, slots and peer entries */
	/* by rule id (0: the default): a fingerprint of the rule's content
	 * (action, directions, protocols, ports, peers), so that a reload can
	 * tell which rules it kept */
	uint64_t *rule_fp;
};

/* One stretch of a slot group over which the set of matching rules is
 * constant: slots [base+lo, base+hi], rule ids ids[0..n) ascending. */
struct pw_segment {
	unsigned dir;
	unsigned group;			/* PW_GROUP_* */
	uint32_t base;			/* slot index of item 0 of the group */
	uint32_t lo, hi;		/* items (ports, ICMP types, protocols) */
	const uint32_t *ids;
	size_t n;
};

enum {
	PW_GROUP_TCP,
	PW_GROUP_UDP,
	PW_GROUP_ICMP,
	PW_GROUP_ICMPV6,
	PW_GROUP_PROTO,
	PW_GROUP_COUNT,
};

extern const char *const pw_group_names[PW_GROUP_COUNT];

/* Call fn for every segment of every (direction, group), in slot order.
 * A non-zero return from fn stops the walk and is returned; -ENOMEM on
 * allocation failure. */
int pw_for_each_segment(const struct pw_policy *pol,
			int (*fn)(const struct pw_segment *seg, void *ctx), void *ctx);

/* Compile. Returns 0, or -1 with d->error set. */
int pw_compile(const struct pw_policy *pol, struct pw_compiled *out, struct pw_diag *d);
void pw_compiled_free(struct pw_compiled *c);

/* The peer trie's answer for (class, address) by longest prefix, as the
 * kernel's LPM trie gives it; NULL when no entry matches. */
const struct pw_peer_val *pw_peer_lookup(const struct pw_compiled *c, uint32_t peer_class,
					 uint8_t fam, const uint8_t addr[16]);

/* Decide a packet from the compiled tables (the kernel's code path). */
struct pw_verdict {
	uint8_t action;		/* PW_PASS / PW_DROP */
	uint32_t rule;		/* deciding rule id, PW_RULE_DEFAULT for the default */
	uint32_t slot;
	unsigned trie_lookups;	/* peer trie lookups it took (0-2) */
};
void pw_decide_packet(const struct pw_compiled *c, uint32_t slot, uint8_t fam,
		      const uint8_t addr[16], struct pw_verdict *out);

#endif
