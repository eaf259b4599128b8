/* oracle.h - the policy semantics of docs/policy.md, evaluated the slow,
 * obvious way over the parsed rules, with no compiled table in sight. The
 * compiler's tables are checked against it. */
#ifndef PW_ORACLE_H
#define PW_ORACLE_H

#include "policy/policy.h"
#include "portwall.h"

/* group: 'T' tcp, 'U' udp, 'I' icmp, '6' icmpv6, 'P' other protocol
 * (item = protocol number); item is the port or ICMP type. */
static inline bool oracle_rule_matches(const struct pw_rule *r, unsigned dir, char group,
				       unsigned item, uint8_t fam, const uint8_t addr[16])
{
	if (!(r->dirs & (1u << dir)))
		return false;
	switch (group) {
	case 'T': if (!(r->protos & PW_P_TCP)) return false; break;
	case 'U': if (!(r->protos & PW_P_UDP)) return false; break;
	case 'I': if (!(r->protos & PW_P_ICMP)) return false; break;
	case '6': if (!(r->protos & PW_P_ICMPV6)) return false; break;
	default:
		if (!(r->protos & PW_P_OTHER) || r->ip_proto != item)
			return false;
	}
	if (group != 'P' && r->nranges) {
		bool in = false;
		for (size_t k = 0; k < r->nranges; k++)
			in |= item >= r->ranges[k].lo && item <= r->ranges[k].hi;
		if (!in)
			return false;
	}
	if (r->restricted) {
		bool in = false;
		for (size_t k = 0; k < r->npeers; k++)
			in |= pw_prefix_has_addr(&r->peers[k], fam, addr);
		if (!in)
			return false;
	}
	return true;
}

/* "denied if any matching deny rule covers the peer; else allowed if any
 * matching allow rule covers it; else the direction's default"; the
 * deciding rule is the first (lowest id) matching rule of that action. */
static inline uint32_t oracle_decide(const struct pw_policy *pol, unsigned dir, char group,
				     unsigned item, uint8_t fam, const uint8_t addr[16],
				     uint8_t *action)
{
	uint32_t deny = 0, allow = 0;

	for (size_t i = 0; i < pol->nrules; i++) {
		const struct pw_rule *r = &pol->rules[i];
		if (!oracle_rule_matches(r, dir, group, item, fam, addr))
			continue;
		if (r->action == PW_DROP && !deny)
			deny = r->id;
		if (r->action == PW_PASS && !allow)
			allow = r->id;
	}
	if (deny) {
		*action = PW_DROP;
		return deny;
	}
	if (allow) {
		*action = PW_PASS;
		return allow;
	}
	*action = pol->dflt[dir];
	return 0;
}

static inline uint32_t oracle_slot(unsigned dir, char group, unsigned item)
{
	switch (group) {
	case 'T': return pw_slot_l4(dir, PW_L4_TCP, item);
	case 'U': return pw_slot_l4(dir, PW_L4_UDP, item);
	case 'I': return pw_slot_icmp(dir, PW_FAM_V4, item);
	case '6': return pw_slot_icmp(dir, PW_FAM_V6, item);
	default: return pw_slot_proto(dir, item);
	}
}

#endif
