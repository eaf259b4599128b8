/* compile.c - a parsed policy to the exact contents of the datapath's maps.
 *
 * For each (direction, protocol group) the rules' port ranges are swept into
 * segments over which the set of matching rules is constant. Each segment
 * fills its slots with the first unrestricted deny and allow rule and the
 * direction's default. Where peer-restricted rules can still change the
 * outcome (or which rule decides), the restricted deny rules form a deny
 * class and the restricted allow rules an allow class, each shared by every
 * segment with the same rules. A class's prefixes go into the peer trie with
 * the answer longest-prefix matching must give: for a prefix, the first rule
 * among all class prefixes that contain it. Deny wins because the allow
 * class is consulted only when the deny class had no answer; an allow /32
 * inside a deny /24 therefore never passes. Entries that answer the same as
 * their nearest enclosing entry are left out.
 */
#include "policy/compile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/sha256.h"

const char *const pw_group_names[PW_GROUP_COUNT] = { "tcp", "udp", "icmp", "icmpv6", "proto" };

static const uint32_t group_size[PW_GROUP_COUNT] = { 65536, 65536, 256, 256, 256 };
static const uint8_t group_proto_bit[PW_GROUP_COUNT] = {
	PW_P_TCP, PW_P_UDP, PW_P_ICMP, PW_P_ICMPV6, PW_P_OTHER
};

static uint32_t group_base(unsigned dir, unsigned group)
{
	switch (group) {
	case PW_GROUP_TCP: return pw_slot_l4(dir, PW_L4_TCP, 0);
	case PW_GROUP_UDP: return pw_slot_l4(dir, PW_L4_UDP, 0);
	case PW_GROUP_ICMP: return pw_slot_icmp(dir, PW_FAM_V4, 0);
	case PW_GROUP_ICMPV6: return pw_slot_icmp(dir, PW_FAM_V6, 0);
	default: return pw_slot_proto(dir, 0);
	}
}

struct event {
	uint32_t pos;
	uint32_t id;
	int add;
};

static int cmp_event(const void *a, const void *b)
{
	const struct event *x = a, *y = b;
	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

static int push_event(struct event **ev, size_t *n, size_t *cap, uint32_t pos, uint32_t id, int add)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct event *e = realloc(*ev, c * sizeof(*e));
		if (!e)
			return -ENOMEM;
		*ev = e;
		*cap = c;
	}
	(*ev)[(*n)++] = (struct event){ pos, id, add };
	return 0;
}

/* index of the first element >= id */
static size_t lower_bound(const uint32_t *a, size_t n, uint32_t id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int pw_for_each_segment(const struct pw_policy *pol,
			int (*fn)(const struct pw_segment *seg, void *ctx), void *ctx)
{
	struct event *ev = NULL;
	size_t nev = 0, cap = 0, nactive = 0;
	uint32_t *active = malloc((pol->nrules + 1) * sizeof(*active));
	int rc = 0;

	if (!active)
		return -ENOMEM;
	for (unsigned dir = 0; dir < PW_DIR_COUNT && rc == 0; dir++) {
		for (unsigned g = 0; g < PW_GROUP_COUNT && rc == 0; g++) {
			uint32_t size = group_size[g];
			nev = 0;
			nactive = 0;
			for (size_t i = 0; i < pol->nrules && rc == 0; i++) {
				const struct pw_rule *r = &pol->rules[i];
				if (!(r->dirs & (1u << dir)) || !(r->protos & group_proto_bit[g]))
					continue;
				if (g == PW_GROUP_PROTO) {
					rc = push_event(&ev, &nev, &cap, r->ip_proto, r->id, 1);
					if (!rc && r->ip_proto + 1u < size)
						rc = push_event(&ev, &nev, &cap, r->ip_proto + 1u, r->id, 0);
					continue;
				}
				if (r->nranges == 0) {
					rc = push_event(&ev, &nev, &cap, 0, r->id, 1);
					continue;
				}
				for (size_t k = 0; k < r->nranges && rc == 0; k++) {
					rc = push_event(&ev, &nev, &cap, r->ranges[k].lo, r->id, 1);
					if (!rc && r->ranges[k].hi + 1u < size)
						rc = push_event(&ev, &nev, &cap, r->ranges[k].hi + 1u, r->id, 0);
				}
			}
			if (rc)
				break;
			if (nev)
				qsort(ev, nev, sizeof(*ev), cmp_event);
			size_t ei = 0;
			for (uint32_t cur = 0; cur < size && rc == 0;) {
				for (; ei < nev && ev[ei].pos == cur; ei++) {
					size_t at = lower_bound(active, nactive, ev[ei].id);
					if (ev[ei].add) {
						memmove(active + at + 1, active + at, (nactive - at) * sizeof(*active));
						active[at] = ev[ei].id;
						nactive++;
					} else if (at < nactive && active[at] == ev[ei].id) {
						memmove(active + at, active + at + 1, (nactive - at - 1) * sizeof(*active));
						nactive--;
					}
				}
				uint32_t next = ei < nev ? ev[ei].pos : size;
				struct pw_segment seg = {
					.dir = dir, .group = g, .base = group_base(dir, g),
					.lo = cur, .hi = next - 1, .ids = active, .n = nactive,
				};
				rc = fn(&seg, ctx);
				cur = next;
			}
		}
	}
	free(ev);
	free(active);
	return rc;
}

/* ---- peer classes ------------------------------------------------------ */

struct pclass {
	uint32_t *ids;
	size_t n;
	uint64_t hash;
};

struct ctx {
	const struct pw_policy *pol;
	struct pw_compiled *out;
	struct pclass *classes;		/* index = class id - 1 */
	size_t nclasses, cap;
	uint32_t *table;		/* open addressing: class id, 0 = empty */
	size_t tsize;
	uint32_t *dkey, *akey;		/* scratch */
};

static uint64_t hash_ids(const uint32_t *ids, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= ids[i];
		h *= 1099511628211ull;
	}
	return h ^ n;
}

static int table_grow(struct ctx *c)
{
	size_t ns = c->tsize ? c->tsize * 2 : 1024;
	uint32_t *t = calloc(ns, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < c->nclasses; i++) {
		size_t at = c->classes[i].hash & (ns - 1);
		while (t[at])
			at = (at + 1) & (ns - 1);
		t[at] = (uint32_t)i + 1;
	}
	free(c->table);
	c->table = t;
	c->tsize = ns;
	return 0;
}

/* The class id of the rule set ids[0..n), created on first sight. */
static int intern_class(struct ctx *c, const uint32_t *ids, size_t n, uint32_t *out)
{
	uint64_t h = hash_ids(ids, n);

	if ((c->nclasses + 1) * 2 > c->tsize && table_grow(c))
		return -ENOMEM;
	size_t at = h & (c->tsize - 1);
	while (c->table[at]) {
		const struct pclass *k = &c->classes[c->table[at] - 1];
		if (k->hash == h && k->n == n && memcmp(k->ids, ids, n * sizeof(*ids)) == 0) {
			*out = c->table[at];
			return 0;
		}
		at = (at + 1) & (c->tsize - 1);
	}
	if (c->nclasses == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 64;
		struct pclass *p = realloc(c->classes, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		c->classes = p;
		c->cap = nc;
	}
	struct pclass *k = &c->classes[c->nclasses];
	k->ids = malloc(n * sizeof(*ids));
	if (!k->ids)
		return -ENOMEM;
	memcpy(k->ids, ids, n * sizeof(*ids));
	k->n = n;
	k->hash = h;
	c->nclasses++;
	c->table[at] = (uint32_t)c->nclasses;
	*out = (uint32_t)c->nclasses;
	return 0;
}

static int fill_segment(const struct pw_segment *seg, void *arg)
{
	struct ctx *c = arg;
	const struct pw_policy *pol = c->pol;
	uint32_t ud = 0, ua = 0, dcls = 0, acls = 0;
	size_t nd = 0, na = 0;

	/* ids are ascending, so the first hit of each kind is the first rule */
	for (size_t i = 0; i < seg->n; i++) {
		const struct pw_rule *r = &pol->rules[seg->ids[i] - 1];
		if (r->restricted)
			continue;
		if (r->action == PW_DROP && !ud)
			ud = r->id;
		if (r->action == PW_PASS && !ua)
			ua = r->id;
	}
	/* restricted rules that can still change the outcome or its rule:
	 * denies before the first unrestricted deny; allows before the first
	 * unrestricted allow, and only where no unrestricted deny exists */
	for (size_t i = 0; i < seg->n; i++) {
		const struct pw_rule *r = &pol->rules[seg->ids[i] - 1];
		if (!r->restricted)
			continue;
		if (r->action == PW_DROP && (!ud || r->id < ud))
			c->dkey[nd++] = r->id;
		if (r->action == PW_PASS && !ud && (!ua || r->id < ua))
			c->akey[na++] = r->id;
	}
	if (nd && intern_class(c, c->dkey, nd, &dcls))
		return -ENOMEM;
	if (na && intern_class(c, c->akey, na, &acls))
		return -ENOMEM;
	struct pw_slot v = {
		.deny_class = dcls, .allow_class = acls, .deny_rule = ud, .allow_rule = ua,
		.dflt = pol->dflt[seg->dir],
	};
	for (uint32_t i = seg->lo; i <= seg->hi; i++)
		c->out->slots[seg->base + i] = v;
	return 0;
}

struct item {
	struct pw_prefix p;
	uint32_t rule;
};

static int cmp_item(const void *a, const void *b)
{
	return pw_prefix_cmp(&((const struct item *)a)->p, &((const struct item *)b)->p);
}

static uint32_t min_nz(uint32_t a, uint32_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

static int push_entry(struct pw_compiled *out, size_t *cap, uint32_t cls, const struct item *it)
{
	if (out->npeers == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;
		struct pw_peer_entry *e = realloc(out->peers, nc * sizeof(*e));
		if (!e)
			return -ENOMEM;
		out->peers = e;
		*cap = nc;
	}
	struct pw_peer_entry *e = &out->peers[out->npeers++];
	memset(e, 0, sizeof(*e));
	e->key.prefixlen = PW_PEER_SCOPE_BITS + it->p.len;
	e->key.scope = pw_peer_scope(cls, it->p.fam);
	memcpy(e->key.addr, it->p.addr, 16);
	e->val.rule = it->rule;
	return 0;
}

/* The trie entries of one class. */
static int class_entries(struct ctx *c, uint32_t cls, size_t *cap)
{
	const struct pclass *k = &c->classes[cls - 1];
	size_t n = 0, m = 0;

	for (size_t i = 0; i < k->n; i++)
		n += c->pol->rules[k->ids[i] - 1].npeers;
	struct item *it = malloc((n ? n : 1) * sizeof(*it));
	struct item *stack = malloc((n ? n : 1) * sizeof(*stack));
	if (!it || !stack) {
		free(it);
		free(stack);
		return -ENOMEM;
	}
	for (size_t i = 0; i < k->n; i++) {
		const struct pw_rule *r = &c->pol->rules[k->ids[i] - 1];
		for (size_t j = 0; j < r->npeers; j++)
			it[m++] = (struct item){ .p = r->peers[j], .rule = r->id };
	}
	qsort(it, m, sizeof(*it), cmp_item);
	/* merge equal prefixes */
	size_t u = 0;
	for (size_t i = 0; i < m; i++) {
		if (u && pw_prefix_cmp(&it[u - 1].p, &it[i].p) == 0)
			it[u - 1].rule = min_nz(it[u - 1].rule, it[i].rule);
		else
			it[u++] = it[i];
	}
	/* parents sort before their children: walk with a stack of enclosing
	 * prefixes, each holding the first rule along its chain */
	size_t depth = 0;
	int rc = 0;
	for (size_t i = 0; i < u && rc == 0; i++) {
		while (depth && !pw_prefix_contains(&stack[depth - 1].p, &it[i].p))
			depth--;
		uint32_t parent = depth ? stack[depth - 1].rule : 0;
		struct item a = it[i];
		a.rule = min_nz(parent, a.rule);
		stack[depth++] = a;
		if (a.rule != parent)
			rc = push_entry(c->out, cap, cls, &a);
	}
	free(it);
	free(stack);
	return rc;
}

/* SHA-256 over the mode, the slots as runs of equal values, and the peer
 * entries: the same tables give the same hash, whatever the text said. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* What a rule does, not where it stands or what its comment says. */
static uint64_t rule_fingerprint(const struct pw_rule *r)
{
	uint64_t h = 1469598103934665603ull;
	uint8_t f[5] = { r->action, r->dirs, r->protos, r->ip_proto, r->restricted };

	h = fnv(h, f, sizeof(f));
	h = fnv(h, &r->nranges, sizeof(r->nranges));
	if (r->nranges)
		h = fnv(h, r->ranges, r->nranges * sizeof(*r->ranges));
	h = fnv(h, &r->npeers, sizeof(r->npeers));
	if (r->npeers)
		h = fnv(h, r->peers, r->npeers * sizeof(*r->peers));
	return h ? h : 2;	/* 0 means "no rule", 1 is the default's */
}

/* The classes, for `check` to show: their action, rules and entry counts. */
static int export_classes(const struct ctx *c, struct pw_compiled *out)
{
	size_t total = 0, o = 0;

	for (size_t i = 0; i < c->nclasses; i++)
		total += c->classes[i].n;
	out->classes = calloc(c->nclasses + 1, sizeof(*out->classes));
	out->class_rules = malloc((total + 1) * sizeof(*out->class_rules));
	if (!out->classes || !out->class_rules)
		return -ENOMEM;
	for (size_t i = 0; i < c->nclasses; i++) {
		const struct pclass *k = &c->classes[i];
		struct pw_class *x = &out->classes[i];
		x->action = c->pol->rules[k->ids[0] - 1].action;	/* one action per class */
		x->nrules = (uint32_t)k->n;
		x->rules = out->class_rules + o;
		memcpy(x->rules, k->ids, k->n * sizeof(*k->ids));
		o += k->n;
	}
	for (size_t i = 0; i < out->npeers; i++) {
		uint32_t cls = out->peers[i].key.scope >> 1;
		if (cls >= 1 && cls <= c->nclasses)
			out->classes[cls - 1].entries++;
	}
	return 0;
}

static void hash_compiled(struct pw_compiled *c)
{
	struct pw_sha256 s;
	uint64_t n = c->npeers;

	pw_sha256_init(&s);
	pw_sha256_update(&s, "portwall compiled policy v1", 27);
	pw_sha256_update(&s, &c->mode, 1);
	for (uint32_t i = 0; i < PW_SLOT_COUNT;) {
		uint32_t j = i + 1;
		while (j < PW_SLOT_COUNT && memcmp(&c->slots[j], &c->slots[i], sizeof(c->slots[i])) == 0)
			j++;
		uint32_t run = j - i;
		pw_sha256_update(&s, &run, sizeof(run));
		pw_sha256_update(&s, &c->slots[i], sizeof(c->slots[i]));
		i = j;
	}
	pw_sha256_update(&s, &n, sizeof(n));
	pw_sha256_update(&s, c->peers, c->npeers * sizeof(*c->peers));
	pw_sha256_final(&s, c->hash);
}

int pw_compile(const struct pw_policy *pol, struct pw_compiled *out, struct pw_diag *d)
{
	struct ctx c = { .pol = pol, .out = out };
	size_t cap = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (pol->nrules >= PW_MAX_RULES) {
		pw_diag_error(d, pol->nfiles ? pol->files[0] : NULL, 0, 0,
			      "the policy has %zu rules; portwall takes at most %u: merge rules "
			      "with the same action into port lists", pol->nrules, PW_MAX_RULES - 1);
		return -1;
	}
	out->slots = calloc(PW_SLOT_COUNT, sizeof(*out->slots));
	c.dkey = malloc((pol->nrules + 1) * sizeof(*c.dkey));
	c.akey = malloc((pol->nrules + 1) * sizeof(*c.akey));
	rc = out->slots && c.dkey && c.akey ? 0 : -ENOMEM;
	if (!rc)
		rc = pw_for_each_segment(pol, fill_segment, &c);
	for (uint32_t k = 1; !rc && k <= c.nclasses; k++)
		rc = class_entries(&c, k, &cap);
	if (!rc)
		rc = export_classes(&c, out);
	if (!rc) {
		out->rule_fp = malloc((pol->nrules + 1) * sizeof(*out->rule_fp));
		if (!out->rule_fp)
			rc = -ENOMEM;
		for (size_t i = 0; !rc && i < pol->nrules; i++)
			out->rule_fp[i + 1] = rule_fingerprint(&pol->rules[i]);
		if (!rc)
			out->rule_fp[0] = 1;
	}
	for (size_t i = 0; i < c.nclasses; i++)
		free(c.classes[i].ids);
	free(c.classes);
	free(c.table);
	free(c.dkey);
	free(c.akey);
	if (!rc && out->npeers > PW_MAX_PEER_ENTRIES) {
		pw_diag_error(d, pol->nfiles ? pol->files[0] : NULL, 0, 0,
			      "the policy needs %zu peer-trie entries; portwall takes at most %u: "
			      "merge peer prefixes, or give rules that share ports the same peers",
			      out->npeers, PW_MAX_PEER_ENTRIES);
		rc = -E2BIG;
	} else if (rc) {
		pw_diag_error(d, pol->nfiles ? pol->files[0] : NULL, 0, 0, "out of memory compiling the policy");
	}
	if (rc) {
		pw_compiled_free(out);
		return -1;
	}
	out->nclasses = (uint32_t)c.nclasses;
	out->nrules = (uint32_t)pol->nrules;
	out->mode = pol->mode;
	hash_compiled(out);
	return 0;
}

void pw_compiled_free(struct pw_compiled *c)
{
	free(c->slots);
	free(c->peers);
	free(c->classes);
	free(c->class_rules);
	free(c->rule_fp);
	memset(c, 0, sizeof(*c));
}

static int cmp_scope(const struct pw_peer_entry *e, uint32_t scope)
{
	return e->key.scope < scope ? -1 : e->key.scope > scope;
}

const struct pw_peer_val *pw_peer_lookup(const struct pw_compiled *c, uint32_t peer_class,
					 uint8_t fam, const uint8_t addr[16])
{
	uint32_t scope = pw_peer_scope(peer_class, fam);
	size_t lo = 0, hi = c->npeers;
	const struct pw_peer_entry *best = NULL;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_scope(&c->peers[mid], scope) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < c->npeers && c->peers[i].key.scope == scope; i++) {
		const struct pw_peer_entry *e = &c->peers[i];
		struct pw_prefix p = { .fam = fam, .len = (uint8_t)(e->key.prefixlen - PW_PEER_SCOPE_BITS) };
		memcpy(p.addr, e->key.addr, 16);
		if (pw_prefix_has_addr(&p, fam, addr) && (!best || e->key.prefixlen > best->key.prefixlen))
			best = e;
	}
	return best ? &best->val : NULL;
}

void pw_decide_packet(const struct pw_compiled *c, uint32_t slot, uint8_t fam,
		      const uint8_t addr[16], struct pw_verdict *out)
{
	const struct pw_slot *s = &c->slots[slot];
	const struct pw_peer_val *v;
	uint32_t td = 0, ta = 0;

	out->slot = slot;
	out->trie_lookups = 0;
	if (s->deny_class) {
		out->trie_lookups++;
		v = pw_peer_lookup(c, s->deny_class, fam, addr);
		td = v ? v->rule : 0;
	}
	if (!td && s->allow_class) {
		out->trie_lookups++;
		v = pw_peer_lookup(c, s->allow_class, fam, addr);
		ta = v ? v->rule : 0;
	}
	out->rule = pw_decide(s, td, ta, &out->action);
}
