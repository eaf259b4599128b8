/* compile.h - a parsed policy to the exact contents of the datapath's maps. */
#ifndef PW_COMPILE_H
#define PW_COMPILE_H

#include <stdbool.h>
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
	uint32_t shape;			/* its trie scope: classes whose rules have the
					 * same peers, in order, share one */
	size_t entries;			/* its shape's peer-trie entries, both families */
};

/* A host name or wildcard of the policy, as the datapath matches it
 * (include/portwall.h, "Host names"): learned addresses of the name go
 * into the peer trie as (shape, address) -> rank for each target. */
struct pw_cname {
	char *text;		/* as written, lowercased, no trailing dot: "*.mycontactcenter.net" */
	bool wild;		/* text is "*." and the name: one or more labels in front of it */
	uint16_t wire_len;
	uint8_t wire[PW_NAME_WIRE_MAX + 1];	/* lowercase wire form, without the "*." */
	uint64_t hash;		/* pw_name_hash(wire, wire_len): pw_name_key.hash */
	const uint32_t *rules;	/* ascending ids of the rules that name it */
	uint32_t nrules;
	/* per class shape that holds one of those rules (ascending shape id):
	 * the rank of the first rule of the shape that names it; none when each of its
	 * rules comes after an unrestricted rule of its action on every port */
	uint8_t ntargets;
	struct pw_name_target t[PW_NAME_TARGETS];
};

/* Whose DNS queries teach the names (docs/dns.md, "Whose queries teach"). */
enum pw_dns_trust {
	PW_DNS_TRUST_DEFAULT = 0,	/* no dns-users: root, and systemd-resolve where the host has it */
	PW_DNS_TRUST_LISTED = 1,	/* the users of dns-users */
	PW_DNS_TRUST_ANY = 2,		/* dns-users any: every sender, forwarded packets too */
};

#define PW_DNS_DEFAULT_USER "systemd-resolve"	/* systemd-resolved's own user */

struct pw_cuser {
	uint32_t uid;
	char name[PW_USER_NAME_MAX + 1];	/* as written, or the default's */
};

struct pw_compiled {
	struct pw_slot *slots;		/* PW_SLOT_COUNT entries, index = slot */
	struct pw_peer_entry *peers;	/* sorted by (scope, address, length); NULL in an outline */
	size_t npeers;
	/* an outline (pw_compile_outline): the entries are counted and hashed
	 * but not stored; pw_class_answer walks them from this policy */
	const struct pw_policy *outline;
	uint32_t nclasses;		/* peer classes (deny and allow), ids 1..nclasses */
	struct pw_class *classes;	/* index = class id - 1 */
	uint32_t *class_rules;		/* storage of every class's rule ids */
	uint32_t nshapes;		/* trie scopes 1..nshapes */
	uint32_t *class_words;		/* a half's pw_classes words (portwall.h) */
	uint32_t nclass_words;
	struct pw_chunk *flat4;		/* a half's pw_flat4 chunks (portwall.h) */
	uint32_t nflat4;
	uint32_t *flat4_roots;		/* [shape 1..nshapes]: its IPv4 root, 0: the trie */
	uint32_t nrules;		/* rule ids 1..nrules */
	uint8_t mode;			/* PW_MODE_* */
	uint8_t hash[32];		/* SHA-256 of mode, slots and peer entries */
	/* by rule id (0: the default): a fingerprint of the rule's content
	 * (action, directions, protocols, ports, peers), so that a reload can
	 * tell which rules it kept */
	uint64_t *rule_fp;
	/* the host names and wildcards, sorted by text; a name's id in the
	 * maps (pw_name_val.id) is its index + 1 */
	struct pw_cname *names;
	size_t nnames;
	uint32_t *name_rules;		/* storage of every name's rule ids */
	/* the policy's `resolver` addresses, sorted; none: the caller takes
	 * the nameservers of /etc/resolv.conf (policy/resolv.h) */
	struct pw_ip resolvers[PW_RESOLVERS_MAX];
	size_t nresolvers;
	/* the uids whose queries teach, ascending (none under
	 * PW_DNS_TRUST_ANY): pw_dns_users of a half */
	uint8_t dns_trust;		/* enum pw_dns_trust */
	struct pw_cuser dns_users[PW_DNS_USERS_MAX];
	size_t ndns_users;
};

/* Whose queries teach, for people: "root (0), alice (1000)", "uid 1000",
 * "any sender (dns-users any)". */
void pw_dns_users_text(const struct pw_compiled *c, char *buf, size_t size);

/* The pw_names entry of name i (0-based) for a half. */
void pw_name_entry(const struct pw_compiled *c, size_t i, uint32_t half, struct pw_name_key *k,
		   struct pw_name_val *v);

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
/* Compile all but the peer-trie entries, for what `check` shows: the
 * slots, classes with their entry counts, npeers, names and the same
 * hash, without the entries' memory (28 bytes each: 57 MB for a set of a
 * million prefixes that two rules name). pol must outlive out. */
int pw_compile_outline(const struct pw_policy *pol, struct pw_compiled *out, struct pw_diag *d);
void pw_compiled_free(struct pw_compiled *c);

/* The peer trie's answer for (shape, address) by longest prefix, as the
 * kernel's LPM trie gives it (a rank); NULL when no entry matches, and in
 * an outline (which stores none; pw_class_answer answers there too). */
const struct pw_peer_val *pw_peer_lookup(const struct pw_compiled *c, uint32_t shape,
					 uint8_t fam, const uint8_t addr[16]);
/* The rank-th rule of class cls (1-based), 0 for rank 0 or out of range. */
uint32_t pw_class_rule(const struct pw_compiled *c, uint32_t cls, uint32_t rank);
/* Class cls's answer for the address: its first rule covering it, or 0. */
uint32_t pw_class_answer(const struct pw_compiled *c, uint32_t cls, uint8_t fam, const uint8_t addr[16]);

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
