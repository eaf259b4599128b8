/* compile.c - a parsed policy to the exact contents of the datapath's maps.
 *
 * For each (direction, protocol group) the rules' port ranges are swept into
 * segments over which the set of matching rules is constant. Each segment
 * fills its slots with the first unrestricted deny and allow rule and the
 * direction's default. Where peer-restricted rules can still change the
 * outcome (or which rule decides), the restricted deny rules form a deny
 * class and the restricted allow rules an allow class, each shared by every
 * segment with the same rules. Classes whose rules have the same peers, in
 * order, have one shape and share its trie entries: for a prefix, the rank
 * of the first rule among all the shape's prefixes that contain it, which
 * pw_classes turns into each class's rule. So a set that many rules use
 * on different ports costs its prefixes once. Deny wins because the allow
 * class is consulted only when the deny class had no answer; an allow /32
 * inside a deny /24 therefore never passes. Entries that answer the same as
 * their nearest enclosing entry are left out.
 */
#include "policy/compile.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/sha256.h"
#include "policy/flat4.h"
#include "policy/hostname.h"

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

/* An interned list of rule ids: a class (its restricted rules) or a shape
 * (per rule of a class, the first rule with the same peers). */
struct pclass {
	uint32_t *ids;
	size_t n;
	uint64_t hash;
	uint32_t shape;			/* a class's shape id */
};

struct idset {
	struct pclass *v;		/* index = id - 1 */
	size_t n, cap;
	uint32_t *table;		/* open addressing: id, 0 = empty */
	size_t tsize;
};

struct ctx {
	const struct pw_policy *pol;
	struct pw_compiled *out;
	struct idset cls, shp;
	uint32_t *group;		/* by rule id: the first rule with its peers */
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

static int table_grow(struct idset *c)
{
	size_t ns = c->tsize ? c->tsize * 2 : 1024;
	uint32_t *t = calloc(ns, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < c->n; i++) {
		size_t at = c->v[i].hash & (ns - 1);
		while (t[at])
			at = (at + 1) & (ns - 1);
		t[at] = (uint32_t)i + 1;
	}
	free(c->table);
	c->table = t;
	c->tsize = ns;
	return 0;
}

/* The id of the list ids[0..n), created on first sight. */
static int intern_ids(struct idset *c, const uint32_t *ids, size_t n, uint32_t *out)
{
	uint64_t h = hash_ids(ids, n);

	if ((c->n + 1) * 2 > c->tsize && table_grow(c))
		return -ENOMEM;
	size_t at = h & (c->tsize - 1);
	while (c->table[at]) {
		const struct pclass *k = &c->v[c->table[at] - 1];
		if (k->hash == h && k->n == n && memcmp(k->ids, ids, n * sizeof(*ids)) == 0) {
			*out = c->table[at];
			return 0;
		}
		at = (at + 1) & (c->tsize - 1);
	}
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 64;
		struct pclass *p = realloc(c->v, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		c->v = p;
		c->cap = nc;
	}
	struct pclass *k = &c->v[c->n];
	k->ids = malloc((n ? n : 1) * sizeof(*ids));
	if (!k->ids)
		return -ENOMEM;
	memcpy(k->ids, ids, n * sizeof(*ids));
	k->n = n;
	k->hash = h;
	k->shape = 0;
	c->n++;
	c->table[at] = (uint32_t)c->n;
	*out = (uint32_t)c->n;
	return 0;
}

static void idset_free(struct idset *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].ids);
	free(c->v);
	free(c->table);
}

/* 8 bytes a step: a set of 60,000 prefixes used by 100 rules is 100 MB
 * to hash (same_peers confirms every match). */
static uint64_t hash_peers(const struct pw_rule *r)
{
	uint64_t h = 1469598103934665603ull, w;
	const unsigned char *b = (const unsigned char *)r->peers;
	size_t n = r->npeers * sizeof(*r->peers), i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, b + i, 8);
		h = (h ^ w) * 1099511628211ull;
		h ^= h >> 29;
	}
	for (; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h ^ r->npeers;
}

static bool same_peers(const struct pw_rule *a, const struct pw_rule *b)
{
	return a->npeers == b->npeers && !a->nnames && !b->nnames &&
	       memcmp(a->peers, b->peers, a->npeers * sizeof(*a->peers)) == 0;
}

/* Each restricted rule's group: the first rule with the same peer prefixes
 * (a rule with host names is its own: the datapath learns its addresses). */
static int group_rules(struct ctx *c)
{
	const struct pw_policy *pol = c->pol;
	size_t ts = 1024;

	while (ts < pol->nrules * 2)
		ts <<= 1;
	uint32_t *t = calloc(ts, sizeof(*t));
	c->group = calloc(pol->nrules + 1, sizeof(*c->group));
	if (!t || !c->group) {
		free(t);
		return -ENOMEM;
	}
	for (size_t i = 0; i < pol->nrules; i++) {
		const struct pw_rule *r = &pol->rules[i];
		if (!r->restricted)
			continue;
		c->group[r->id] = r->id;
		if (r->nnames)
			continue;
		size_t at = hash_peers(r) & (ts - 1);
		while (t[at] && !same_peers(&pol->rules[t[at] - 1], r))
			at = (at + 1) & (ts - 1);
		if (t[at])
			c->group[r->id] = t[at];
		else
			t[at] = r->id;
	}
	free(t);
	return 0;
}

/* Each class's shape: its rules' groups, in order. */
static int shape_classes(struct ctx *c)
{
	for (size_t k = 0; k < c->cls.n; k++) {
		struct pclass *x = &c->cls.v[k];
		for (size_t i = 0; i < x->n; i++)
			c->dkey[i] = c->group[x->ids[i]];
		if (intern_ids(&c->shp, c->dkey, x->n, &x->shape))
			return -ENOMEM;
	}
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
	if (nd && intern_ids(&c->cls, c->dkey, nd, &dcls))
		return -ENOMEM;
	if (na && intern_ids(&c->cls, c->akey, na, &acls))
		return -ENOMEM;
	struct pw_slot v = {
		.deny_class = dcls, .allow_class = acls, .deny_rule = ud, .allow_rule = ua,
		.dflt = pol->dflt[seg->dir],
	};
	for (uint32_t i = seg->lo; i <= seg->hi; i++)
		c->out->slots[seg->base + i] = v;
	return 0;
}

/* ---- peer-trie entries --------------------------------------------------- */

struct item {
	struct pw_prefix p;
	uint32_t rule;		/* a rank: the rule's place in its class, 1-based */
};

static uint32_t min_nz(uint32_t a, uint32_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

/* Where a shape's entries go, one at a time in trie order: counted,
 * stored, hashed or looked up in, so that none of them needs a copy. */
struct sink {
	int (*put)(struct sink *s, const struct pw_peer_entry *e);
};

/* A prefix held by the shape's walk: it and its enclosing prefixes, each
 * with the first rank along its chain. Unique prefixes nest at most one
 * per length. */
#define PW_NEST_MAX (128 + 1)

struct walk {
	uint32_t shape;
	struct item stack[PW_NEST_MAX];
	size_t depth;
	struct sink *sink;
};

/* The answer for prefix a is the first rank among the shape's prefixes
 * that contain it; an entry that answers as its parent does is left out. */
static int walk_put(struct walk *w, struct item a)
{
	while (w->depth && !pw_prefix_contains(&w->stack[w->depth - 1].p, &a.p))
		w->depth--;
	uint32_t parent = w->depth ? w->stack[w->depth - 1].rule : 0;
	if (w->depth == PW_NEST_MAX)
		return -EINVAL;		/* only unsorted peers nest deeper */
	a.rule = min_nz(parent, a.rule);
	w->stack[w->depth++] = a;
	if (a.rule == parent)
		return 0;
	struct pw_peer_entry e;
	memset(&e, 0, sizeof(e));
	e.key.prefixlen = PW_PEER_SCOPE_BITS + a.p.len;
	e.key.scope = pw_peer_scope(w->shape, a.p.fam);
	memcpy(e.key.addr, a.p.addr, 16);
	e.val.rule = a.rule;
	return w->sink->put(w->sink, &e);
}

/* The trie entries of shape `shape` in order, into s, from the rules
 * ids[0..n) of any class of that shape (the i-th rule of each has the
 * same peers): for a prefix, the rank of the first rule covering it. The
 * rules' peers are sorted and unique (policy.h): they are merged as they
 * stand, parents before their children, equal prefixes once with their
 * first rank; nothing the size of the shape is allocated. */
static int shape_walk(const struct pw_policy *pol, uint32_t shape, const uint32_t *ids, size_t n,
		      struct sink *s)
{
	struct item cur = { 0 }, it;
	struct pw_pmerge m;
	struct walk w;
	bool have = false;
	int rc = 0;

	if (pw_pmerge_init(&m, n))
		return -ENOMEM;
	w.shape = shape;
	w.depth = 0;
	w.sink = s;
	for (size_t i = 0; i < n; i++) {
		const struct pw_rule *r = &pol->rules[ids[i] - 1];
		pw_pmerge_add(&m, r->peers, r->npeers, (uint32_t)i + 1);
	}
	while (rc == 0 && pw_pmerge_next(&m, &it.p, &it.rule)) {
		if (have && pw_prefix_cmp(&cur.p, &it.p) == 0) {
			cur.rule = min_nz(cur.rule, it.rule);
			continue;
		}
		if (have)
			rc = walk_put(&w, cur);
		cur = it;
		have = true;
	}
	if (have && rc == 0)
		rc = walk_put(&w, cur);
	pw_pmerge_free(&m);
	return rc;
}

/* Each shape once, in shape order, walked from its first class (shape
 * ids come in class order). */
static int shapes_walk(const struct pw_policy *pol, const struct pw_compiled *out,
		       int (*each)(struct sink *s, uint32_t shape), struct sink *s)
{
	uint32_t seen = 0;
	int rc = 0;

	for (uint32_t k = 1; k <= out->nclasses && rc == 0; k++) {
		const struct pw_class *cl = &out->classes[k - 1];
		if (cl->shape <= seen)
			continue;
		seen = cl->shape;
		if (each)
			rc = each(s, seen);
		if (!rc)
			rc = shape_walk(pol, seen, cl->rules, cl->nrules, s);
	}
	return rc;
}

struct count_sink {
	struct sink s;
	size_t *per_shape;
	uint32_t shape;
	size_t n;
};

static int count_put(struct sink *s, const struct pw_peer_entry *e)
{
	struct count_sink *cs = (struct count_sink *)s;

	(void)e;
	cs->per_shape[cs->shape]++;
	cs->n++;
	return 0;
}

static int count_shape(struct sink *s, uint32_t shape)
{
	((struct count_sink *)s)->shape = shape;
	return 0;
}

/* Count each shape's entries: out->npeers, and each class's entries
 * (its shape's, which its classes share). */
static int count_entries(const struct pw_policy *pol, struct pw_compiled *out)
{
	struct count_sink cs = { .s.put = count_put };
	int rc;

	cs.per_shape = calloc(out->nshapes + 1, sizeof(*cs.per_shape));
	if (!cs.per_shape)
		return -ENOMEM;
	rc = shapes_walk(pol, out, count_shape, &cs.s);
	for (uint32_t k = 1; !rc && k <= out->nclasses; k++)
		out->classes[k - 1].entries = cs.per_shape[out->classes[k - 1].shape];
	out->npeers = cs.n;
	free(cs.per_shape);
	return rc;
}

struct store_sink {
	struct sink s;
	struct pw_compiled *out;
};

static int store_put(struct sink *s, const struct pw_peer_entry *e)
{
	struct pw_compiled *out = ((struct store_sink *)s)->out;

	out->peers[out->npeers++] = *e;
	return 0;
}

/* The entries into out->peers, sized by count_entries. */
static int store_entries(const struct pw_policy *pol, struct pw_compiled *out)
{
	struct store_sink ss = { .s.put = store_put, .out = out };
	size_t n = out->npeers;

	out->peers = malloc((n ? n : 1) * sizeof(*out->peers));
	if (!out->peers)
		return -ENOMEM;
	out->npeers = 0;
	return shapes_walk(pol, out, NULL, &ss.s);
}

/* The flat IPv4 chunks (include/portwall.h, "The flat IPv4 lookup"):
 * each shape's IPv4 entries as its walk gives them, a shape without host
 * names (their learned addresses go to the trie alone) while the chunks
 * fit; a shape that does not fit or comes out of order keeps root 0. */
struct flat_sink {
	struct sink s;
	struct pw_flat4 f;
	uint32_t *roots;		/* [shape]: PW_FLAT_NEXT | chunk, 0: the trie */
	const bool *names;		/* [shape]: a rule of it names hosts */
	uint32_t shape, root;
	int bad;			/* the open shape was dropped */
};

static int flat_put(struct sink *s, const struct pw_peer_entry *e)
{
	struct flat_sink *fs = (struct flat_sink *)s;

	if ((e->key.scope & 1) != PW_FAM_V4 || fs->bad || fs->names[fs->shape])
		return 0;
	int rc = fs->root ? 0 : pw_flat4_open(&fs->f, &fs->root);	/* its first IPv4 entry */
	if (!rc)
		rc = pw_flat4_put(&fs->f, fs->root, e);
	if (rc == -ENOMEM)
		return rc;
	if (rc) {	/* out of order or too big: the trie answers the shape */
		pw_flat4_drop(&fs->f);
		fs->bad = 1;
	}
	return 0;
}

/* Close the open shape (its root kept unless dropped), go on to `shape`. */
static int flat_shape(struct sink *s, uint32_t shape)
{
	struct flat_sink *fs = (struct flat_sink *)s;

	if (fs->shape && fs->root && !fs->bad)
		fs->roots[fs->shape] = fs->root;
	fs->shape = shape;
	fs->root = 0;
	fs->bad = 0;
	return 0;
}

static int flat_build(const struct pw_policy *pol, struct pw_compiled *out)
{
	struct flat_sink fs = { .s.put = flat_put };
	bool *names = calloc(out->nshapes + 1, sizeof(*names));
	int rc;

	out->flat4_roots = calloc(out->nshapes + 1, sizeof(*out->flat4_roots));
	if (!names || !out->flat4_roots) {
		free(names);
		return -ENOMEM;
	}
	for (uint32_t k = 0; k < out->nclasses; k++)
		for (uint32_t i = 0; i < out->classes[k].nrules; i++)
			names[out->classes[k].shape] |= pol->rules[out->classes[k].rules[i] - 1].nnames > 0;
	fs.roots = out->flat4_roots;
	fs.names = names;
	rc = shapes_walk(pol, out, flat_shape, &fs.s);
	if (!rc)
		rc = flat_shape(&fs.s, 0);
	free(names);
	out->flat4 = fs.f.chunks;
	out->nflat4 = rc ? 0 : fs.f.n;
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
	/* only rules with names mix them in: others keep their fingerprints */
	for (size_t i = 0; i < r->nnames; i++)
		h = fnv(h, r->names[i], strlen(r->names[i]) + 1);
	return h ? h : 2;	/* 0 means "no rule", 1 is the default's */
}

/* The half's pw_classes words (include/portwall.h, "Peer classes"). */
static int class_words(const struct ctx *c, struct pw_compiled *out)
{
	size_t n = 1 + c->cls.n;

	for (size_t i = 0; i < c->cls.n; i++)
		n += PW_CLASS_RUN_HEAD + c->cls.v[i].n;
	if (n > UINT32_MAX)
		return -E2BIG;
	out->class_words = calloc(n, sizeof(*out->class_words));
	if (!out->class_words)
		return -ENOMEM;
	uint32_t o = (uint32_t)(1 + c->cls.n);
	for (size_t i = 0; i < c->cls.n; i++) {
		const struct pclass *k = &c->cls.v[i];
		out->class_words[i + 1] = o;
		out->class_words[o] = k->shape;
		out->class_words[o + 1] = 0;	/* the IPv4 root: the loader writes it (flat4_roots) */
		memcpy(&out->class_words[o + PW_CLASS_RUN_HEAD], k->ids, k->n * sizeof(*k->ids));
		o += PW_CLASS_RUN_HEAD + (uint32_t)k->n;
	}
	out->nclass_words = (uint32_t)n;
	return 0;
}

/* The classes: their action, rules and shape (entry counts: count_entries). */
static int export_classes(const struct ctx *c, struct pw_compiled *out)
{
	size_t total = 0, o = 0;

	for (size_t i = 0; i < c->cls.n; i++)
		total += c->cls.v[i].n;
	out->classes = calloc(c->cls.n + 1, sizeof(*out->classes));
	out->class_rules = malloc((total + 1) * sizeof(*out->class_rules));
	if (!out->classes || !out->class_rules)
		return -ENOMEM;
	for (size_t i = 0; i < c->cls.n; i++) {
		const struct pclass *k = &c->cls.v[i];
		struct pw_class *x = &out->classes[i];
		x->action = c->pol->rules[k->ids[0] - 1].action;	/* one action per class */
		x->nrules = (uint32_t)k->n;
		x->rules = out->class_rules + o;
		x->shape = k->shape;
		memcpy(x->rules, k->ids, k->n * sizeof(*k->ids));
		o += k->n;
	}
	return class_words(c, out);
}

/* ---- host names ---------------------------------------------------------- */

struct name_use {
	const char *name;
	uint32_t rule;
};

static int cmp_use(const void *a, const void *b)
{
	const struct name_use *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->rule > y->rule) - (x->rule < y->rule);
}

/* Every (name, rule) of the policy, sorted by name then rule. */
static struct name_use *name_uses(const struct pw_policy *pol, size_t *n)
{
	size_t total = 0, o = 0;

	for (size_t i = 0; i < pol->nrules; i++)
		total += pol->rules[i].nnames;
	struct name_use *u = malloc((total ? total : 1) * sizeof(*u));
	if (!u)
		return NULL;
	for (size_t i = 0; i < pol->nrules; i++)
		for (size_t k = 0; k < pol->rules[i].nnames; k++)
			u[o++] = (struct name_use){ pol->rules[i].names[k], pol->rules[i].id };
	qsort(u, total, sizeof(*u), cmp_use);
	*n = total;
	return u;
}

/* One name from its uses u[0..n), rule ids into ids. */
static int name_fill(struct pw_cname *x, const struct name_use *u, size_t n, uint32_t *ids)
{
	x->text = strdup(u[0].name);
	if (!x->text)
		return -ENOMEM;
	x->wild = strncmp(x->text, "*.", 2) == 0;
	x->wire_len = (uint16_t)pw_hostname_wire(x->text, x->wire);
	x->hash = pw_name_hash(x->wire, x->wire_len);
	for (size_t i = 0; i < n; i++)
		ids[i] = u[i].rule;	/* a rule's names are unique: no repeats */
	x->rules = ids;
	x->nrules = (uint32_t)n;
	return 0;
}

/* out->names from the rules, sorted by text, without targets yet. */
static int names_collect(const struct pw_policy *pol, struct pw_compiled *out)
{
	size_t n = 0, k = 0;
	struct name_use *u = name_uses(pol, &n);
	int rc = 0;

	out->names = calloc(n ? n : 1, sizeof(*out->names));
	out->name_rules = malloc((n ? n : 1) * sizeof(*out->name_rules));
	if (!u || !out->names || !out->name_rules) {
		free(u);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n && rc == 0; i = k) {
		for (k = i + 1; k < n && strcmp(u[k].name, u[i].name) == 0; k++)
			;
		rc = name_fill(&out->names[out->nnames++], u + i, k - i, out->name_rules + i);
	}
	free(u);
	return rc;
}

static struct pw_cname *name_find(const struct pw_compiled *c, const char *text)
{
	size_t lo = 0, hi = c->nnames;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(c->names[mid].text, text);
		if (r == 0)
			return &c->names[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int too_many_targets(const struct pw_policy *pol, const struct pw_cname *x, struct pw_diag *d)
{
	const struct pw_rule *r = &pol->rules[x->rules[0] - 1];

	pw_diag_error(d, r->file, r->line, 0, "the host name \"%s\" falls in more than %d peer-class "
		      "shapes, the most one name feeds: each different list of the peers of the "
		      "peer-restricted rules on a port is a shape; merge the rules that name it into one "
		      "rule with a port list, and give the restricted rules on its ports the same port "
		      "lists", x->text, PW_NAME_TARGETS);
	return -E2BIG;
}

/* Each name's targets: per shape (ascending), the rank of its first rule
 * naming it. A rule with names is a group of its own, so the classes of a
 * shape hold that very rule at that rank: the first class of each shape
 * (shape ids come in class order) stands for them all. */
static int names_target(const struct pw_policy *pol, struct pw_compiled *out, uint32_t nclasses,
			struct pw_diag *d)
{
	uint32_t *last = calloc(out->nnames ? out->nnames : 1, sizeof(*last));	/* shape targeted last */
	uint32_t seen = 0;

	if (!last)
		return -ENOMEM;
	for (uint32_t k = 1; k <= nclasses; k++) {
		const struct pw_class *cl = &out->classes[k - 1];
		if (cl->shape <= seen)
			continue;	/* its shape's first class was seen */
		seen = cl->shape;
		for (uint32_t i = 0; i < cl->nrules; i++) {
			const struct pw_rule *r = &pol->rules[cl->rules[i] - 1];
			for (size_t j = 0; j < r->nnames; j++) {
				struct pw_cname *x = name_find(out, r->names[j]);
				size_t at = (size_t)(x - out->names);
				if (last[at] == cl->shape)
					continue;	/* an earlier rule of this shape names it */
				if (x->ntargets == PW_NAME_TARGETS) {
					free(last);
					return too_many_targets(pol, x, d);
				}
				last[at] = cl->shape;
				x->t[x->ntargets++] = (struct pw_name_target){ .shape = cl->shape, .rank = i + 1 };
			}
		}
	}
	free(last);
	return 0;
}

/* Two names with the same key would share one map entry. */
static int names_distinct(const struct pw_compiled *c, struct pw_diag *d)
{
	for (size_t i = 0; i < c->nnames; i++)
		for (size_t j = i + 1; j < c->nnames; j++)
			if (c->names[i].hash == c->names[j].hash && c->names[i].wild == c->names[j].wild) {
				pw_diag_error(d, NULL, 0, 0, "the host names \"%s\" and \"%s\" have the same "
					      "64-bit hash, so the datapath cannot tell them apart: write one of "
					      "them as addresses", c->names[i].text, c->names[j].text);
				return -E2BIG;
			}
	return 0;
}

static int cmp_ip(const void *a, const void *b)
{
	const struct pw_ip *x = a, *y = b;

	if (x->fam != y->fam)
		return x->fam < y->fam ? -1 : 1;
	return memcmp(x->addr, y->addr, 16);
}

static int cmp_cuser(const void *a, const void *b)
{
	const struct pw_cuser *x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* Whose queries teach: the dns-users of the policy, or the default (root,
 * and systemd-resolved's user where this host has one: it asks the
 * upstream servers for every program that uses the stub; none for a
 * policy without names, which records no query). */
static void compile_dns_users(const struct pw_policy *pol, struct pw_compiled *out)
{
	out->ndns_users = 0;
	if (pol->dns_any) {
		out->dns_trust = PW_DNS_TRUST_ANY;
		return;
	}
	out->dns_trust = pol->ndns_users ? PW_DNS_TRUST_LISTED : PW_DNS_TRUST_DEFAULT;
	for (size_t i = 0; i < pol->ndns_users; i++) {
		out->dns_users[i].uid = pol->dns_users[i].uid;
		snprintf(out->dns_users[i].name, sizeof(out->dns_users[i].name), "%s", pol->dns_users[i].name);
	}
	out->ndns_users = pol->ndns_users;
	/* the default is looked up only where it matters: a policy with names */
	if (out->dns_trust == PW_DNS_TRUST_DEFAULT && out->nnames) {
		const struct passwd *pw = getpwnam(PW_DNS_DEFAULT_USER);
		out->dns_users[out->ndns_users++] = (struct pw_cuser){ .uid = 0, .name = "root" };
		if (pw && pw->pw_uid != 0) {
			out->dns_users[out->ndns_users].uid = (uint32_t)pw->pw_uid;
			snprintf(out->dns_users[out->ndns_users++].name, sizeof(out->dns_users[0].name), "%s",
				 PW_DNS_DEFAULT_USER);
		}
	}
	qsort(out->dns_users, out->ndns_users, sizeof(*out->dns_users), cmp_cuser);
}

void pw_dns_users_text(const struct pw_compiled *c, char *buf, size_t size)
{
	size_t at = 0;

	buf[0] = '\0';
	if (c->dns_trust == PW_DNS_TRUST_ANY) {
		snprintf(buf, size, "any sender (dns-users any)");
		return;
	}
	for (size_t i = 0; i < c->ndns_users && at < size; i++) {
		const struct pw_cuser *u = &c->dns_users[i];
		const char *sep = i ? ", " : "";
		bool number = u->name[0] >= '0' && u->name[0] <= '9';
		int w = number ? snprintf(buf + at, size - at, "%suid %u", sep, u->uid)
			       : snprintf(buf + at, size - at, "%s%s (%u)", sep, u->name, u->uid);
		at += w > 0 ? (size_t)w : 0;
	}
}

/* The names with their targets, and the resolvers. */
static int compile_names(const struct pw_policy *pol, struct pw_compiled *out, uint32_t nclasses,
			 struct pw_diag *d)
{
	int rc = names_collect(pol, out);

	if (!rc)
		rc = names_target(pol, out, nclasses, d);
	if (!rc && out->nnames > 1)
		rc = names_distinct(out, d);
	for (size_t i = 0; i < pol->nresolvers; i++)
		out->resolvers[i] = pol->resolvers[i].ip;
	out->nresolvers = pol->nresolvers;
	qsort(out->resolvers, out->nresolvers, sizeof(*out->resolvers), cmp_ip);
	compile_dns_users(pol, out);
	return rc;
}

void pw_name_entry(const struct pw_compiled *c, size_t i, uint32_t half, struct pw_name_key *k,
		   struct pw_name_val *v)
{
	const struct pw_cname *x = &c->names[i];

	memset(k, 0, sizeof(*k));
	memset(v, 0, sizeof(*v));
	k->hash = x->hash;
	k->half = half;
	k->wild = x->wild;
	v->id = (uint32_t)i + 1;
	v->wire_len = x->wire_len;
	v->ntargets = x->ntargets;
	memcpy(v->t, x->t, sizeof(v->t));
	memcpy(v->wire, x->wire, x->wire_len);
}

/* The names and resolvers, hashed only when there are any: a policy
 * without them keeps the hash it had before names existed. */
static void hash_names(struct pw_sha256 *s, const struct pw_compiled *c)
{
	uint64_t n = c->nnames, nr = c->nresolvers;

	if (!n && !nr)
		return;
	pw_sha256_update(s, "names", 5);
	pw_sha256_update(s, &n, sizeof(n));
	for (size_t i = 0; i < c->nnames; i++) {
		const struct pw_cname *x = &c->names[i];
		pw_sha256_update(s, &x->wild, 1);
		pw_sha256_update(s, &x->wire_len, sizeof(x->wire_len));
		pw_sha256_update(s, x->wire, x->wire_len);
		pw_sha256_update(s, &x->ntargets, 1);
		pw_sha256_update(s, x->t, x->ntargets * sizeof(*x->t));
	}
	pw_sha256_update(s, &nr, sizeof(nr));
	pw_sha256_update(s, c->resolvers, c->nresolvers * sizeof(*c->resolvers));
	/* whose queries teach: as written (the default's uids are the host's) */
	pw_sha256_update(s, &c->dns_trust, 1);
	for (size_t i = 0; c->dns_trust == PW_DNS_TRUST_LISTED && i < c->ndns_users; i++)
		pw_sha256_update(s, &c->dns_users[i].uid, sizeof(c->dns_users[i].uid));
}

struct hash_sink {
	struct sink s;
	struct pw_sha256 *sha;
};

static int hash_put(struct sink *s, const struct pw_peer_entry *e)
{
	pw_sha256_update(((struct hash_sink *)s)->sha, e, sizeof(*e));
	return 0;
}

/* An outline's entries into the hash as the walk makes them: the same
 * bytes, in the same order, as the stored array's. */
static int hash_entries(const struct pw_compiled *c, struct pw_sha256 *sha)
{
	struct hash_sink hs = { .s.put = hash_put, .sha = sha };

	return shapes_walk(c->outline, c, NULL, &hs.s);
}

static int hash_compiled(struct pw_compiled *c)
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
	if (c->peers)
		pw_sha256_update(&s, c->peers, c->npeers * sizeof(*c->peers));
	else if (hash_entries(c, &s))
		return -ENOMEM;
	if (c->nclasses) {	/* the trie answers ranks: the classes say whose */
		pw_sha256_update(&s, &c->nclass_words, sizeof(c->nclass_words));
		pw_sha256_update(&s, c->class_words, c->nclass_words * sizeof(*c->class_words));
	}
	hash_names(&s, c);
	pw_sha256_final(&s, c->hash);
	return 0;
}

/* The slots, classes, shapes and their words, names and fingerprints. */
static int compile_tables(struct ctx *c, struct pw_diag *d)
{
	const struct pw_policy *pol = c->pol;
	struct pw_compiled *out = c->out;
	int rc;

	out->slots = calloc(PW_SLOT_COUNT, sizeof(*out->slots));
	c->dkey = malloc((pol->nrules + 1) * sizeof(*c->dkey));
	c->akey = malloc((pol->nrules + 1) * sizeof(*c->akey));
	rc = out->slots && c->dkey && c->akey ? 0 : -ENOMEM;
	if (!rc)
		rc = group_rules(c);
	if (!rc)
		rc = pw_for_each_segment(pol, fill_segment, c);
	if (!rc)
		rc = shape_classes(c);
	if (!rc)
		rc = export_classes(c, out);
	out->nclasses = (uint32_t)c->cls.n;
	out->nshapes = (uint32_t)c->shp.n;
	if (!rc)
		rc = count_entries(pol, out);
	if (!rc)
		rc = compile_names(pol, out, out->nclasses, d);
	if (!rc) {
		out->rule_fp = malloc((pol->nrules + 1) * sizeof(*out->rule_fp));
		if (!out->rule_fp)
			rc = -ENOMEM;
		for (size_t i = 0; !rc && i < pol->nrules; i++)
			out->rule_fp[i + 1] = rule_fingerprint(&pol->rules[i]);
		if (!rc)
			out->rule_fp[0] = 1;
	}
	return rc;
}

/* The tables, the entries counted (and stored unless outline), the hash. */
static int compile(const struct pw_policy *pol, struct pw_compiled *out, struct pw_diag *d, bool outline)
{
	struct ctx c = { .pol = pol, .out = out };
	int rc;

	memset(out, 0, sizeof(*out));
	if (pol->nrules >= PW_MAX_RULES) {
		pw_diag_error(d, pol->nfiles ? pol->files[0] : NULL, 0, 0,
			      "the policy has %zu rules; portwall takes at most %u: merge rules "
			      "with the same action into port lists", pol->nrules, PW_MAX_RULES - 1);
		return -1;
	}
	rc = compile_tables(&c, d);
	idset_free(&c.cls);
	idset_free(&c.shp);
	free(c.group);
	free(c.dkey);
	free(c.akey);
	out->nrules = (uint32_t)pol->nrules;
	out->mode = pol->mode;
	out->outline = outline ? pol : NULL;
	if (!rc && out->npeers > PW_MAX_PEER_ENTRIES) {
		pw_diag_error(d, pol->nfiles ? pol->files[0] : NULL, 0, 0,
			      "the policy needs %zu peer-trie entries; portwall takes at most %u: "
			      "merge peer prefixes, or give rules that share ports the same peers",
			      out->npeers, PW_MAX_PEER_ENTRIES);
		rc = -E2BIG;
	} else {
		if (!rc && !outline)
			rc = store_entries(pol, out);
		if (!rc)
			rc = flat_build(pol, out);
		if (!rc)
			rc = hash_compiled(out);
		if (rc)	/* the first error wins: a names error stays */
			pw_diag_error(d, pol->nfiles ? pol->files[0] : NULL, 0, 0, "out of memory compiling the policy");
	}
	if (rc) {
		pw_compiled_free(out);
		return -1;
	}
	return 0;
}

int pw_compile(const struct pw_policy *pol, struct pw_compiled *out, struct pw_diag *d)
{
	return compile(pol, out, d, false);
}

int pw_compile_outline(const struct pw_policy *pol, struct pw_compiled *out, struct pw_diag *d)
{
	return compile(pol, out, d, true);
}

void pw_compiled_free(struct pw_compiled *c)
{
	free(c->slots);
	free(c->peers);
	free(c->classes);
	free(c->class_rules);
	free(c->class_words);
	free(c->flat4);
	free(c->flat4_roots);
	free(c->rule_fp);
	for (size_t i = 0; i < c->nnames; i++)
		free(c->names[i].text);
	free(c->names);
	free(c->name_rules);
	memset(c, 0, sizeof(*c));
}

static int cmp_scope(const struct pw_peer_entry *e, uint32_t scope)
{
	return e->key.scope < scope ? -1 : e->key.scope > scope;
}

static bool entry_has(const struct pw_peer_entry *e, uint8_t fam, const uint8_t addr[16])
{
	struct pw_prefix p = { .fam = fam, .len = (uint8_t)(e->key.prefixlen - PW_PEER_SCOPE_BITS) };

	memcpy(p.addr, e->key.addr, 16);
	return pw_prefix_has_addr(&p, fam, addr);
}

const struct pw_peer_val *pw_peer_lookup(const struct pw_compiled *c, uint32_t shape,
					 uint8_t fam, const uint8_t addr[16])
{
	uint32_t scope = pw_peer_scope(shape, fam);
	size_t lo = 0, hi = c->npeers;
	const struct pw_peer_entry *best = NULL;

	if (!c->peers)
		return NULL;	/* an outline: pw_class_answer walks its entries */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_scope(&c->peers[mid], scope) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < c->npeers && c->peers[i].key.scope == scope; i++) {
		const struct pw_peer_entry *e = &c->peers[i];
		if (entry_has(e, fam, addr) && (!best || e->key.prefixlen > best->key.prefixlen))
			best = e;
	}
	return best ? &best->val : NULL;
}

uint32_t pw_class_rule(const struct pw_compiled *c, uint32_t cls, uint32_t rank)
{
	if (!rank || !cls || cls > c->nclasses || rank > c->classes[cls - 1].nrules)
		return 0;
	return c->classes[cls - 1].rules[rank - 1];
}

/* The longest entry of one family holding an address, as the walk makes them. */
struct find_sink {
	struct sink s;
	uint8_t fam;
	const uint8_t *addr;
	struct pw_peer_entry best;
	bool found;
};

static int find_put(struct sink *s, const struct pw_peer_entry *e)
{
	struct find_sink *f = (struct find_sink *)s;

	if ((e->key.scope & 1) == f->fam && entry_has(e, f->fam, f->addr) &&
	    (!f->found || e->key.prefixlen > f->best.key.prefixlen)) {
		f->best = *e;
		f->found = true;
	}
	return 0;
}

/* The rank the trie gives (shape of cls, address), 0 for none: stored
 * entries looked up, an outline's walked from cls's own rules (the same
 * entries as its shape's, none kept). */
static uint32_t shape_rank(const struct pw_compiled *c, uint32_t cls, uint8_t fam, const uint8_t addr[16])
{
	const struct pw_class *k = &c->classes[cls - 1];

	if (c->peers || !c->outline) {
		const struct pw_peer_val *v = pw_peer_lookup(c, k->shape, fam, addr);
		return v ? v->rule : 0;
	}
	struct find_sink f = { .s.put = find_put, .fam = fam, .addr = addr };
	if (shape_walk(c->outline, k->shape, k->rules, k->nrules, &f.s))
		return 0;	/* out of memory: no answer */
	return f.found ? f.best.val.rule : 0;
}

uint32_t pw_class_answer(const struct pw_compiled *c, uint32_t cls, uint8_t fam, const uint8_t addr[16])
{
	if (!cls || cls > c->nclasses)
		return 0;
	return pw_class_rule(c, cls, shape_rank(c, cls, fam, addr));
}

void pw_decide_packet(const struct pw_compiled *c, uint32_t slot, uint8_t fam,
		      const uint8_t addr[16], struct pw_verdict *out)
{
	const struct pw_slot *s = &c->slots[slot];
	uint32_t td = 0, ta = 0;

	out->slot = slot;
	out->trie_lookups = 0;
	if (s->deny_class) {
		out->trie_lookups++;
		td = pw_class_answer(c, s->deny_class, fam, addr);
	}
	if (!td && s->allow_class) {
		out->trie_lookups++;
		ta = pw_class_answer(c, s->allow_class, fam, addr);
	}
	out->rule = pw_decide(s, td, ta, &out->action);
}
