/* explain.c - one packet's verdict from the compiled tables, in words. */
#include "policy/explain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/num.h"

int pw_query_parse(const char *dir, const char *proto, const char *peer, const char *port,
		   struct pw_query *q, char *err, size_t errsz)
{
	unsigned long v;

	memset(q, 0, sizeof(*q));
	if (strcmp(dir, "in") == 0)
		q->dir = PW_DIR_IN;
	else if (strcmp(dir, "out") == 0)
		q->dir = PW_DIR_OUT;
	else
		return pw_errf(err, errsz, -1, "direction must be in or out, got \"%s\"", dir);
	int p = pw_proto_by_name(proto);
	if (p < 0 && pw_ulong(proto, 10, 255, &v))
		p = (int)v;
	if (p < 0)
		return pw_errf(err, errsz, -1, "unknown protocol \"%s\": use tcp, udp, icmp, icmpv6, "
			    "or an IP protocol name or number", proto);
	q->proto = (uint8_t)p;
	if (!pw_addr_parse(peer, &q->fam, q->addr))
		return pw_errf(err, errsz, -1, "peer must be an IPv4 or IPv6 address, got \"%s\"", peer);
	if (q->proto == 1 && q->fam == PW_FAM_V6)
		return pw_errf(err, errsz, -1, "icmp is IPv4; for the IPv6 peer %s use icmpv6", peer);
	if (q->proto == 58 && q->fam == PW_FAM_V4)
		return pw_errf(err, errsz, -1, "icmpv6 is IPv6; for the IPv4 peer %s use icmp", peer);
	if (q->proto == 6 || q->proto == 17) {
		if (!port)
			return pw_errf(err, errsz, -1, "%s needs a PORT", proto);
		if (!pw_ulong(port, 10, 65535, &v))
			return pw_errf(err, errsz, -1, "port must be 0-65535, got \"%s\"", port);
		q->port = (uint16_t)v;
	} else if (q->proto == 1 || q->proto == 58) {
		if (!port)
			return pw_errf(err, errsz, -1, "%s needs a TYPE (a name or number)", proto);
		int t = pw_icmp_type_by_name(port, q->proto == 58);
		if (t < 0 && pw_ulong(port, 10, 255, &v))
			t = (int)v;
		if (t < 0)
			return pw_errf(err, errsz, -1, "unknown ICMP type \"%s\"", port);
		q->port = (uint16_t)t;
	} else if (port) {
		return pw_errf(err, errsz, -1, "protocol %s has no ports; drop the last argument", proto);
	}
	return 0;
}

uint32_t pw_query_slot(const struct pw_query *q)
{
	switch (q->proto) {
	case 6: return pw_slot_l4(q->dir, PW_L4_TCP, q->port);
	case 17: return pw_slot_l4(q->dir, PW_L4_UDP, q->port);
	case 1: return pw_slot_icmp(q->dir, PW_FAM_V4, q->port);
	case 58: return pw_slot_icmp(q->dir, PW_FAM_V6, q->port);
	default: return pw_slot_proto(q->dir, q->proto);
	}
}

void pw_explain(const struct pw_policy *pol, const struct pw_compiled *c, const struct pw_query *q,
		struct pw_verdict *v, char *line, size_t size)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (q->fam == PW_FAM_V6 && !memcmp(q->addr, mapped, sizeof(mapped))) {
		memset(v, 0, sizeof(*v));
		v->action = PW_DROP;
		v->slot = pw_query_slot(q);
		snprintf(line, size, "DROP  always  an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is never on the "
			 "wire: malformed whatever the policy");
		return;
	}
	if (q->proto == 58 && q->port >= PW_ICMPV6_ND_FIRST && q->port <= PW_ICMPV6_ND_LAST) {
		memset(v, 0, sizeof(*v));
		v->action = PW_PASS;
		v->slot = pw_query_slot(q);
		snprintf(line, size, "PASS  always  ICMPv6 neighbor discovery (types %d-%d) passes "
			 "whatever the policy", PW_ICMPV6_ND_FIRST, PW_ICMPV6_ND_LAST);
		return;
	}
	pw_decide_packet(c, pw_query_slot(q), q->fam, q->addr, v);
	const char *act = v->action == PW_PASS ? "PASS" : "DROP";
	if (v->rule == PW_RULE_DEFAULT) {
		snprintf(line, size, "%s  default  default %s %s", act, q->dir == PW_DIR_IN ? "in" : "out",
			 v->action == PW_PASS ? "allow" : "drop");
		return;
	}
	const struct pw_rule *r = &pol->rules[v->rule - 1];
	snprintf(line, size, "%s  %s:%d  %s", act, r->file, r->line, r->text);
}
