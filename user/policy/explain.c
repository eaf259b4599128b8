/* explain.c - one packet's verdict from the compiled tables, in words. */
#include "policy/explain.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/num.h"

/* A host name as the peer of a query. */
static int query_name(const char *peer, struct pw_query *q, char *err, size_t errsz)
{
	char why[400];
	size_t at;
	bool wild;

	switch (pw_hostname_parse(peer, q->name, &wild, &at, why, sizeof(why))) {
	case PW_HOST_OK:
		if (!wild)
			return 0;
		q->name[0] = '\0';
		return pw_errf(err, errsz, -1, "a query names one host, not a wildcard: try a name \"%s\" "
			       "matches, such as www%s", peer, peer + 1);
	case PW_HOST_BAD:
		return pw_errf(err, errsz, -1, "peer \"%s\": %s", peer, why);
	default:
		return pw_errf(err, errsz, -1, "peer must be an IPv4 or IPv6 address or a host name, got \"%s\"",
			       peer);
	}
}

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
	if (!pw_addr_parse(peer, &q->fam, q->addr) && query_name(peer, q, err, errsz))
		return -1;
	if (q->proto == 1 && q->fam == PW_FAM_V6 && !q->name[0])
		return pw_errf(err, errsz, -1, "icmp is IPv4; for the IPv6 peer %s use icmpv6", peer);
	if (q->proto == 58 && q->fam == PW_FAM_V4 && !q->name[0])
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

/* "PASS|DROP  WHERE  WHAT" */
static void verdict_line(const struct pw_policy *pol, const struct pw_query *q, const struct pw_verdict *v,
			 char *line, size_t size)
{
	const char *act = v->action == PW_PASS ? "PASS" : "DROP";

	if (v->rule == PW_RULE_DEFAULT) {
		snprintf(line, size, "%s  default  default %s %s", act, q->dir == PW_DIR_IN ? "in" : "out",
			 v->action == PW_PASS ? "allow" : "drop");
		return;
	}
	const struct pw_rule *r = &pol->rules[v->rule - 1];
	snprintf(line, size, "%s  %s:%d  %s", act, r->file, r->line, r->text);
}

/* The rule a learned address of name x gets in class cls, 0 for none. */
static uint32_t target_in(const struct pw_compiled *c, const struct pw_cname *x, uint32_t cls)
{
	if (!cls || cls > c->nclasses)
		return 0;
	for (unsigned k = 0; k < x->ntargets; k++)
		if (x->t[k].shape == c->classes[cls - 1].shape)
			return pw_class_rule(c, cls, x->t[k].rank);
	return 0;
}

static void append(char *line, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *line, size_t size, const char *fmt, ...)
{
	size_t o = strlen(line);
	va_list ap;

	if (o + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(line + o, size - o, fmt, ap);
	va_end(ap);
}

/* The rule that would decide instead if the address were learned for a
 * name: the first with a target in the class that can change the action
 * (deny when it passes now; allow when only the default drops it). */
static uint32_t changing_rule(const struct pw_compiled *c, const struct pw_slot *s, const struct pw_cname *x,
			      const struct pw_verdict *v)
{
	if (v->action == PW_PASS)
		return target_in(c, x, s->deny_class);
	if (v->rule == PW_RULE_DEFAULT)
		return target_in(c, x, s->allow_class);
	return 0;	/* a deny rule drops it: deny wins */
}

/* One line per rule with names that would change an address's verdict. */
/* Whose queries teach, when dns-users says it: " (asked by root (0))".
 * The default says nothing here (check shows it). */
static const char *asked_by(const struct pw_compiled *c)
{
	static char buf[1100];
	char users[1024];

	if (c->dns_trust == PW_DNS_TRUST_DEFAULT)
		return "";
	pw_dns_users_text(c, users, sizeof(users));
	snprintf(buf, sizeof(buf), " (asked by %s)", users);
	return buf;
}

static void name_rules(const struct pw_policy *pol, const struct pw_compiled *c, const struct pw_query *q,
		       const struct pw_verdict *v, char *line, size_t size)
{
	const struct pw_slot *s = &c->slots[v->slot];
	char a[64];
	struct pw_prefix host = { .fam = q->fam, .len = (uint8_t)pw_fam_bits(q->fam) };

	if (!c->nnames)
		return;
	memcpy(host.addr, q->addr, 16);
	pw_prefix_format(&host, a, sizeof(a), true);
	for (uint32_t id = 1; id <= c->nrules; id++) {
		const char *sep = "";
		for (size_t i = 0; i < c->nnames; i++) {
			if (changing_rule(c, s, &c->names[i], v) != id)
				continue;
			if (!*sep) {
				const struct pw_rule *r = &pol->rules[id - 1];
				append(line, size, "\n      rule %u (%s:%d) %s it if %s is an address of ", id, r->file,
				       r->line, r->action == PW_PASS ? "allows" : "denies", a);
			}
			append(line, size, "%s%s", sep, c->names[i].text);
			sep = " or ";
		}
		if (*sep)
			append(line, size, ", learned from DNS%s", asked_by(c));
	}
}

/* A host name as the peer: the verdict for an address learned for it. */
static void explain_name(const struct pw_policy *pol, const struct pw_compiled *c, const struct pw_query *q,
			 struct pw_verdict *v, char *line, size_t size)
{
	uint32_t slot = pw_query_slot(q), td = 0, ta = 0;
	const struct pw_slot *s = &c->slots[slot];
	const char *sep = "";

	memset(v, 0, sizeof(*v));
	v->slot = slot;
	for (size_t i = 0; i < c->nnames; i++) {
		const struct pw_cname *x = &c->names[i];
		if (!pw_hostname_matches(x->text, q->name))
			continue;
		uint32_t d = target_in(c, x, s->deny_class), al = target_in(c, x, s->allow_class);
		td = d && (!td || d < td) ? d : td;
		ta = al && (!ta || al < ta) ? al : ta;
	}
	v->rule = pw_decide(s, td, td ? 0 : ta, &v->action);
	verdict_line(pol, q, v, line, size);
	for (size_t i = 0; i < c->nnames; i++) {
		if (!pw_hostname_matches(c->names[i].text, q->name))
			continue;
		if (!*sep)
			append(line, size, "\n      for an address learned from DNS for %s, which the policy names as ",
			       q->name);
		append(line, size, "%s%s", sep, c->names[i].text);
		sep = ", ";
	}
	if (*sep)
		append(line, size, "%s; where a rule's prefix covers that address too, explain the address",
		       asked_by(c));
	else
		append(line, size, "\n      no rule names %s: nothing is learned for it, and its addresses are "
		       "judged as any other (this is the verdict where no rule's prefix covers one)", q->name);
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
	if (q->name[0]) {
		explain_name(pol, c, q, v, line, size);
		return;
	}
	pw_decide_packet(c, pw_query_slot(q), q->fam, q->addr, v);
	verdict_line(pol, q, v, line, size);
	name_rules(pol, c, q, v, line, size);
}
