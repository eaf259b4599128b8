/* analyze.c - warnings about a policy that parses and compiles: allow rules
 * that deny rules shadow, duplicate rules, denies of ICMPv6 neighbor
 * discovery, allow-out rules under default out allow, and a policy that
 * would cut off the SSH session in use. */
#include "policy/analyze.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- allow rules shadowed by deny rules --------------------------------- */

/* An address interval [lo, hi]; IPv4 addresses use the low 32 bits. */
struct ivl {
	unsigned __int128 lo, hi;
};

/* Disjoint intervals of one family, ascending, with gaps between
 * neighbours, so that a prefix inside their union lies inside one. Each
 * is kept in the fewest bytes its bounds need: IPv4 in 32 bits, IPv6 on
 * /64 edges (a /64 and every shorter prefix) as their upper 64 bits,
 * other IPv6 whole: 8, 16 or 32 bytes, not 32 for all. */
struct ivl4 {
	uint32_t lo, hi;
};

struct ivl64 {
	uint64_t lo, hi;
};

struct ivlv {
	bool v6;
	struct ivl4 *a4;
	struct ivl64 *a64;
	struct ivl *a128;
	size_t n4, n64, n128;
	bool fill;		/* store the intervals (else count them) */
	bool open;		/* last is being merged, not kept yet */
	struct ivl last;
};

#define LOW64 (((unsigned __int128)1 << 64) - 1)

static struct ivl prefix_ivl(const struct pw_prefix *p)
{
	unsigned bits = pw_fam_bits(p->fam);
	unsigned __int128 a = 0, host;

	for (unsigned i = 0; i < bits / 8; i++)
		a = a << 8 | p->addr[i];
	host = p->len >= bits ? 0 : p->len == 0 && bits == 128 ? ~(unsigned __int128)0 :
		((unsigned __int128)1 << (bits - p->len)) - 1;
	return (struct ivl){ .lo = a & ~host, .hi = a | host };
}

/* Keep (or count) the interval merged so far. */
static void ivlv_close(struct ivlv *v)
{
	struct ivl x = v->last;

	if (!v->open)
		return;
	v->open = false;
	if (!v->v6) {
		if (v->fill)
			v->a4[v->n4] = (struct ivl4){ .lo = (uint32_t)x.lo, .hi = (uint32_t)x.hi };
		v->n4++;
	} else if ((x.lo & LOW64) == 0 && (x.hi & LOW64) == LOW64) {
		if (v->fill)
			v->a64[v->n64] = (struct ivl64){ .lo = (uint64_t)(x.lo >> 64), .hi = (uint64_t)(x.hi >> 64) };
		v->n64++;
	} else {
		if (v->fill)
			v->a128[v->n128] = x;
		v->n128++;
	}
}

/* Add x, which starts at or after every interval before it: merged into
 * the open one when it overlaps or touches it. */
static void ivlv_add(struct ivlv *v, struct ivl x)
{
	if (v->open && (x.lo <= v->last.hi || x.lo - 1 == v->last.hi)) {
		if (x.hi > v->last.hi)
			v->last.hi = x.hi;
		return;
	}
	ivlv_close(v);
	v->last = x;
	v->open = true;
}

/* Room for exactly the intervals counted; the counts start again. */
static int ivlv_alloc(struct ivlv *v)
{
	void *a4 = realloc(v->a4, (v->n4 ? v->n4 : 1) * sizeof(*v->a4));
	v->a4 = a4 ? a4 : v->a4;
	void *a64 = realloc(v->a64, (v->n64 ? v->n64 : 1) * sizeof(*v->a64));
	v->a64 = a64 ? a64 : v->a64;
	void *a128 = realloc(v->a128, (v->n128 ? v->n128 : 1) * sizeof(*v->a128));
	v->a128 = a128 ? a128 : v->a128;
	v->n4 = v->n64 = v->n128 = 0;
	v->fill = true;
	return a4 && a64 && a128 ? 0 : -ENOMEM;
}

static void ivlv_free(struct ivlv *v)
{
	free(v->a4);
	free(v->a64);
	free(v->a128);
}

/* In each: the last interval starting at or before x's start ends at or
 * after its end. */
#define PW_COVERS_FN(name, ivl_t, key_t)                                              \
	static bool name(const ivl_t *a, size_t n, key_t lo, key_t hi)                 \
	{                                                                              \
		size_t l = 0, h = n;                                                   \
                                                                                       \
		while (l < h) {                                                        \
			size_t mid = l + (h - l) / 2;                                  \
			if (a[mid].lo <= lo)                                           \
				l = mid + 1;                                           \
			else                                                           \
				h = mid;                                               \
		}                                                                      \
		return l > 0 && a[l - 1].hi >= hi;                                     \
	}
PW_COVERS_FN(covers4, struct ivl4, uint32_t)
PW_COVERS_FN(covers64, struct ivl64, uint64_t)
PW_COVERS_FN(covers128, struct ivl, unsigned __int128)
#undef PW_COVERS_FN

/* Is every address of p inside the intervals v? (A /64-edged interval
 * holds x exactly when its upper halves hold x's.) */
static bool ivlv_covers(const struct ivlv *v, const struct pw_prefix *p)
{
	struct ivl x = prefix_ivl(p);

	if (!v->v6)
		return covers4(v->a4, v->n4, (uint32_t)x.lo, (uint32_t)x.hi);
	return covers64(v->a64, v->n64, (uint64_t)(x.lo >> 64), (uint64_t)(x.hi >> 64)) ||
	       covers128(v->a128, v->n128, x.lo, x.hi);
}

static const struct pw_prefix whole[2] = { { .fam = PW_FAM_V4 }, { .fam = PW_FAM_V6 } };

struct shadow {
	const struct pw_policy *pol;
	bool *effective;	/* by rule id: the allow rule decides some packet */
	uint32_t *by;		/* by rule id: a deny rule that shadows it */
	uint32_t *cur;		/* the segment's restricted deny rules */
	size_t ncur;
	uint32_t *built;	/* the restricted deny rules ivl[] was built from */
	size_t nbuilt;
	bool have_built;
	struct ivlv ivl[2];	/* by family: the union of their peers */
};

/* One pass over the peers of the rules s->cur, merged as they stand
 * (sorted, policy.h: nothing sorted or copied), into s->ivl. */
static int shadow_merge(struct shadow *s)
{
	struct pw_pmerge m;
	struct pw_prefix p;
	uint32_t id;

	if (pw_pmerge_init(&m, s->ncur))
		return -ENOMEM;
	for (size_t i = 0; i < s->ncur; i++) {
		const struct pw_rule *r = &s->pol->rules[s->cur[i] - 1];
		pw_pmerge_add(&m, r->peers, r->npeers, r->id);
	}
	while (pw_pmerge_next(&m, &p, &id))
		ivlv_add(&s->ivl[p.fam ? 1 : 0], prefix_ivl(&p));
	ivlv_close(&s->ivl[0]);
	ivlv_close(&s->ivl[1]);
	pw_pmerge_free(&m);
	return 0;
}

/* Make s->ivl the union of the peers of the rules s->cur, reusing it when
 * the previous segment had the same restricted deny rules: counted, then
 * stored in room of that size. */
static int shadow_build(struct shadow *s)
{
	if (s->have_built && s->nbuilt == s->ncur &&
	    memcmp(s->built, s->cur, s->ncur * sizeof(*s->cur)) == 0)
		return 0;
	s->have_built = false;
	for (int k = 0; k < 2; k++) {
		s->ivl[k].n4 = s->ivl[k].n64 = s->ivl[k].n128 = 0;
		s->ivl[k].fill = false;
	}
	if (shadow_merge(s) || ivlv_alloc(&s->ivl[0]) || ivlv_alloc(&s->ivl[1]) || shadow_merge(s))
		return -ENOMEM;
	memcpy(s->built, s->cur, s->ncur * sizeof(*s->cur));
	s->nbuilt = s->ncur;
	s->have_built = true;
	return 0;
}

/* Do the deny peers s->ivl cover every peer of r? A name can be learned
 * as any address: only deny peers covering both families cover it. */
static bool peers_covered(const struct shadow *s, const struct pw_rule *r)
{
	const struct pw_prefix *pp = r->restricted ? r->peers : whole;
	size_t np = r->restricted ? r->npeers : 2;

	for (size_t k = 0; k < np; k++)
		if (!ivlv_covers(&s->ivl[pp[k].fam ? 1 : 0], &pp[k]))
			return false;
	for (size_t k = 0; r->nnames && k < 2; k++)
		if (!ivlv_covers(&s->ivl[k], &whole[k]))
			return false;
	return true;
}

static int shadow_segment(const struct pw_segment *seg, void *arg)
{
	struct shadow *s = arg;
	const struct pw_policy *pol = s->pol;
	uint32_t udeny = 0, first_deny = 0;

	/* ICMPv6 router and neighbor discovery always pass: no rule decides them */
	if (seg->group == PW_GROUP_ICMPV6 && seg->lo >= PW_ICMPV6_ND_FIRST &&
	    seg->hi <= PW_ICMPV6_ND_LAST)
		return 0;
	s->ncur = 0;
	for (size_t i = 0; i < seg->n; i++) {
		const struct pw_rule *r = &pol->rules[seg->ids[i] - 1];
		if (r->action != PW_DROP)
			continue;
		if (!first_deny)
			first_deny = r->id;
		if (!r->restricted && !udeny)
			udeny = r->id;
		if (r->restricted)
			s->cur[s->ncur++] = r->id;
	}
	for (size_t i = 0; i < seg->n; i++) {
		const struct pw_rule *r = &pol->rules[seg->ids[i] - 1];
		if (r->action != PW_PASS || s->effective[r->id])
			continue;
		bool shadowed = udeny != 0;
		if (!shadowed && first_deny) {
			if (shadow_build(s))
				return -ENOMEM;
			shadowed = peers_covered(s, r);
		}
		if (!shadowed)
			s->effective[r->id] = true;
		else if (!s->by[r->id])
			s->by[r->id] = udeny ? udeny : first_deny;
	}
	return 0;
}

static int warn_shadowed(const struct pw_policy *pol, struct pw_diag *d)
{
	struct shadow s = { .pol = pol, .ivl[1].v6 = true };
	int rc;

	s.effective = calloc(pol->nrules + 1, sizeof(*s.effective));
	s.by = calloc(pol->nrules + 1, sizeof(*s.by));
	s.cur = malloc((pol->nrules + 1) * sizeof(*s.cur));
	s.built = malloc((pol->nrules + 1) * sizeof(*s.built));
	rc = s.effective && s.by && s.cur && s.built ?
		pw_for_each_segment(pol, shadow_segment, &s) : -ENOMEM;
	for (size_t i = 0; i < pol->nrules && rc == 0; i++) {
		const struct pw_rule *r = &pol->rules[i];
		if (r->action != PW_PASS || s.effective[r->id] || !s.by[r->id])
			continue;
		const struct pw_rule *by = &pol->rules[s.by[r->id] - 1];
		if (pw_diag_warn(d, r->file, r->line, "this allow rule never takes effect: deny rules "
				 "drop everything it matches (deny wins; see %s:%d)", by->file, by->line))
			rc = -ENOMEM;
	}
	free(s.effective);
	free(s.by);
	free(s.cur);
	free(s.built);
	ivlv_free(&s.ivl[0]);
	ivlv_free(&s.ivl[1]);
	return rc;
}

/* ---- duplicates -------------------------------------------------------- */

static int rule_content_cmp(const struct pw_rule *x, const struct pw_rule *y)
{
	int c;

#define CMPF(f) if (x->f != y->f) return x->f < y->f ? -1 : 1
	CMPF(action);
	CMPF(dirs);
	CMPF(protos);
	CMPF(ip_proto);
	CMPF(restricted);
	CMPF(nranges);
	CMPF(npeers);
	CMPF(nnames);
#undef CMPF
	if (x->nranges && (c = memcmp(x->ranges, y->ranges, x->nranges * sizeof(*x->ranges))) != 0)
		return c;
	for (size_t i = 0; i < x->npeers; i++)
		if ((c = pw_prefix_cmp(&x->peers[i], &y->peers[i])) != 0)
			return c;
	for (size_t i = 0; i < x->nnames; i++)
		if ((c = strcmp(x->names[i], y->names[i])) != 0)
			return c;
	return 0;
}

static int cmp_rule_ptr(const void *a, const void *b)
{
	const struct pw_rule *x = *(const struct pw_rule *const *)a;
	const struct pw_rule *y = *(const struct pw_rule *const *)b;
	int c = rule_content_cmp(x, y);

	return c ? c : (x->id > y->id) - (x->id < y->id);
}

static int warn_duplicates(const struct pw_policy *pol, struct pw_diag *d)
{
	const struct pw_rule **v = malloc((pol->nrules + 1) * sizeof(*v));
	uint32_t *of = calloc(pol->nrules + 1, sizeof(*of));	/* by id: the first copy */
	int rc = 0;

	if (!v || !of) {
		free(v);
		free(of);
		return -ENOMEM;
	}
	for (size_t i = 0; i < pol->nrules; i++)
		v[i] = &pol->rules[i];
	qsort(v, pol->nrules, sizeof(*v), cmp_rule_ptr);
	for (size_t i = 1; i < pol->nrules; i++)
		if (rule_content_cmp(v[i - 1], v[i]) == 0)
			of[v[i]->id] = of[v[i - 1]->id] ? of[v[i - 1]->id] : v[i - 1]->id;
	for (size_t i = 0; i < pol->nrules && rc == 0; i++) {
		const struct pw_rule *r = &pol->rules[i];
		if (!of[r->id])
			continue;
		const struct pw_rule *o = &pol->rules[of[r->id] - 1];
		if (pw_diag_warn(d, r->file, r->line, "this rule duplicates the rule at %s:%d; remove one",
				 o->file, o->line))
			rc = -ENOMEM;
	}
	free(v);
	free(of);
	return rc;
}

/* ---- ICMPv6 neighbor discovery ------------------------------------------ */

static int warn_nd(const struct pw_policy *pol, struct pw_diag *d)
{
	for (size_t i = 0; i < pol->nrules; i++) {
		const struct pw_rule *r = &pol->rules[i];
		bool hits = false;
		if (r->action != PW_DROP || !(r->protos & PW_P_ICMPV6))
			continue;
		hits = r->nranges == 0;
		for (size_t k = 0; k < r->nranges; k++)
			hits |= r->ranges[k].lo <= PW_ICMPV6_ND_LAST && r->ranges[k].hi >= PW_ICMPV6_ND_FIRST;
		if (hits && pw_diag_warn(d, r->file, r->line, "ICMPv6 router and neighbor discovery "
					 "(types %d-%d) always pass so the host keeps its link; this "
					 "deny does not block them", PW_ICMPV6_ND_FIRST, PW_ICMPV6_ND_LAST))
			return -ENOMEM;
	}
	return 0;
}

/* ---- allow-out rules under default out allow ---------------------------- */

/* Under default out allow an allow-out rule changes no verdict (deny wins
 * whatever the order), only which rule counts the packet. One warning, at
 * the `default out allow` line, or at the first such rule when the
 * default is not written. `both` rules are left out: their in half counts. */
static int warn_out_allow(const struct pw_policy *pol, struct pw_diag *d)
{
	const struct pw_rule *first = NULL;
	size_t n = 0;

	if (pol->dflt[PW_DIR_OUT] != PW_PASS)
		return 0;
	for (size_t i = 0; i < pol->nrules; i++) {
		const struct pw_rule *r = &pol->rules[i];
		if (r->action != PW_PASS || r->dirs != (1u << PW_DIR_OUT))
			continue;
		if (!first)
			first = r;
		n++;
	}
	if (!first)
		return 0;
	const char *file = pol->dflt_file[PW_DIR_OUT] ? pol->dflt_file[PW_DIR_OUT] : first->file;
	int line = pol->dflt_file[PW_DIR_OUT] ? pol->dflt_line[PW_DIR_OUT] : first->line;
	if (n == 1)
		return pw_diag_warn(d, file, line, "the allow-out rule at %s:%d changes nothing under default out "
				    "allow; to enforce it, write default out drop", first->file, first->line) ? -ENOMEM : 0;
	return pw_diag_warn(d, file, line, "these %zu allow-out rules (the first at %s:%d) change nothing under "
			    "default out allow; to enforce them, write default out drop", n, first->file,
			    first->line) ? -ENOMEM : 0;
}

/* ---- lockout ------------------------------------------------------------- */

int pw_ssh_cut(const struct pw_policy *pol, const struct pw_compiled *c, const char *ssh_conn,
	       char *why, size_t n)
{
	char client[64], server[64];
	unsigned cport, sport;
	uint8_t fam, addr[16];

	if (pol->mode == PW_MODE_MONITOR)
		return 0;	/* monitor drops nothing */
	if (!ssh_conn || sscanf(ssh_conn, "%63s %u %63s %u", client, &cport, server, &sport) != 4)
		return 0;	/* not an SSH session we can read: nothing to say */
	/* a link-local client comes with its zone: "fe80::5%eth0" */
	char *zone = strchr(client, '%');
	if (zone)
		*zone = '\0';
	if (sport == 0 || sport > 65535 || !pw_addr_parse(client, &fam, addr))
		return 0;
	struct pw_verdict v;
	pw_decide_packet(c, pw_slot_l4(PW_DIR_IN, PW_L4_TCP, sport), fam, addr, &v);
	if (v.action == PW_PASS)
		return 0;
	if (v.rule != PW_RULE_DEFAULT) {
		const struct pw_rule *r = &pol->rules[v.rule - 1];
		snprintf(why, n, "lockout: your SSH session (tcp port %u from %s) would be dropped by the deny "
			 "rule at %s:%d; narrow that rule so that it leaves %s out (a deny wins over every "
			 "allow)", sport, client, r->file, r->line, client);
		return 1;
	}
	snprintf(why, n, "lockout: no rule lets your SSH session in (tcp port %u from %s) and default in "
		 "is drop; add \"allow in tcp port %u from %s\"", sport, client, sport, client);
	return 1;
}

int pw_ssh_check(const struct pw_policy *pol, const struct pw_compiled *c, const char *ssh_conn,
		 struct pw_diag *d)
{
	char why[400];

	if (!pw_ssh_cut(pol, c, ssh_conn, why, sizeof(why)))
		return 0;
	return pw_diag_warn(d, pol->nfiles ? pol->files[0] : "", 0, "%s", why) ? -ENOMEM : 0;
}

/* dns-users any opens the attack docs/dns.md describes; dns-users in a
 * policy without names does nothing. */
static int warn_dns_users(const struct pw_policy *pol, const struct pw_compiled *c, struct pw_diag *d)
{
	if (!pol->dns_users_file)
		return 0;
	if (!c->nnames)
		return pw_diag_warn(d, pol->dns_users_file, pol->dns_users_line, "dns-users has no effect: the "
				    "policy names no host; remove the line or name the hosts in rules");
	if (!pol->dns_any)
		return 0;
	return pw_diag_warn(d, pol->dns_users_file, pol->dns_users_line, "dns-users any: every local user's "
			    "queries (and forwarded hosts') teach the policy's names, so any user can open a rule "
			    "to an address of its choosing: it asks the resolver for a name itself (so it knows the "
			    "port and transaction id), an accomplice off the path forges the answer with its own "
			    "address, and the rule lets the user out to it; list the users whose queries count "
			    "instead, as in dns-users root, systemd-resolve");
}

int pw_analyze(const struct pw_policy *pol, const struct pw_compiled *c, struct pw_diag *d)
{
	return pw_analyze_ssh(pol, c, getenv("SSH_CONNECTION"), d);
}

int pw_analyze_ssh(const struct pw_policy *pol, const struct pw_compiled *c, const char *ssh_conn,
		   struct pw_diag *d)
{
	int rc = warn_shadowed(pol, d);

	if (!rc)
		rc = warn_duplicates(pol, d);
	if (!rc)
		rc = warn_nd(pol, d);
	if (!rc)
		rc = warn_out_allow(pol, d);
	if (!rc)
		rc = warn_dns_users(pol, c, d);
	if (!rc)
		rc = pw_ssh_check(pol, c, ssh_conn, d);
	if (rc)
		pw_diag_error(d, NULL, 0, 0, "out of memory checking the policy");
	return rc ? -1 : 0;
}
