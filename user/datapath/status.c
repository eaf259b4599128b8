/* status.c - a snapshot of a loaded portwall, read once and printed by
 * status, exported by the metrics file, compared second by second by top. */
#include "datapath/status.h"

#include <errno.h>
#include <stdlib.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>

#include "datapath/attach.h"

/* The packets the datapath dropped (or would have, in monitor mode). */
static uint64_t drops(const struct pw_counts *n)
{
	uint64_t sum = 0;

	for (int dir = 0; dir < PW_DIR_COUNT; dir++)
		for (int r = PW_R_FIRST_DROP; r < PW_R_COUNT; r++)
			sum += n->reason[dir * PW_R_COUNT + r].packets;
	return sum;
}

int pw_counts_read(const struct pw_dp *dp, const struct pw_applied *a, int maxtop, struct pw_drops_cache *cache,
		   struct pw_counts *n)
{
	memset(n, 0, sizeof(*n));
	n->nrules = pw_applied_nrules(a);
	n->rule = calloc((size_t)n->nrules + 1, sizeof(*n->rule));
	n->reset = calloc((size_t)n->nrules + 1, sizeof(*n->reset));
	n->top = calloc((size_t)maxtop, sizeof(*n->top));
	int rc = n->rule && n->reset && n->top ? pw_dp_reason_counts(dp, n->reason) : -ENOMEM;
	if (rc) {
		pw_counts_free(n);
		return rc;
	}
	/* a list that cannot be read (no batch lookups) is shown empty, and a
	 * rule that cannot be read as zero: the rest still says what is loaded */
	n->ntop = pw_top_drops_cached(dp, drops(n), cache, n->top, maxtop);
	if (n->ntop < 0)
		n->ntop = 0;
	for (uint32_t id = 0; id <= n->nrules; id++)
		for (uint32_t dir = 0; dir < PW_DIR_COUNT; dir++) {
			pw_dp_rule_count(dp, id, dir, &n->rule[id][dir]);
			pw_dp_rule_reset(dp, id, dir, &n->reset[id][dir]);
		}
	return 0;
}

void pw_counts_free(struct pw_counts *n)
{
	free(n->rule);
	free(n->reset);
	free(n->top);
	n->rule = NULL;
	n->reset = NULL;
	n->top = NULL;
	n->nrules = 0;
	n->ntop = 0;
}

/* Each conntrack table's fill. The LRU evicts silently: what came in
 * (created by the datapath, adopted by apply) and is neither removed
 * (expired, closed, flushed by a reload) nor live was evicted. Counted
 * per table: a flood that fills one evicts from that one alone, and
 * which one it was is what an operator needs to know. */
static int read_conntrack(const struct pw_dp *dp, struct pw_status *s)
{
	const struct pw_meta *m = &s->a->meta;
	const uint64_t created[] = { s->gs.ct_created, s->gs.ct_dgram_created, s->gs.ct_in_created };
	const uint64_t removed[] = { s->gs.ct_removed, s->gs.ct_dgram_removed, s->gs.ct_in_removed };
	/* revoked flows' marks come in as adopted flows do: written by userspace */
	const uint64_t adopted[] = { m->ct_adopted + m->ct_revoked_tcp, m->ct_dgram_adopted + m->ct_revoked_dgram, 0 };
	const uint64_t flushed[] = { m->ct_flushed, m->ct_dgram_flushed, m->ct_in_flushed };

	for (int t = 0; t < PW_CT_TABLE_COUNT; t++) {
		struct pw_ct_fill *f = &s->ct[t];
		struct bpf_map_info info = { 0 };
		uint32_t ilen = sizeof(info);
		if (bpf_obj_get_info_by_fd(pw_dp_ct_fd(dp, t), &info, &ilen))
			return -errno;
		f->capacity = info.max_entries;
		f->entries = pw_ct_entries(dp, t);
		f->created = created[t];
		f->removed = removed[t];
		uint64_t came = created[t] + adopted[t];
		uint64_t gone = removed[t] + flushed[t] + (uint64_t)(f->entries > 0 ? f->entries : 0);
		f->evicted = came > gone ? came - gone : 0;
		s->ct_removed += f->removed;
		s->ct_evicted += f->evicted;
	}
	s->ct_entries = s->ct[PW_CT_TABLE_TCP].entries + s->ct[PW_CT_TABLE_DGRAM].entries;
	s->ct_capacity = s->ct[PW_CT_TABLE_TCP].capacity + s->ct[PW_CT_TABLE_DGRAM].capacity;
	return 0;
}

/* A flow the host opened: its peer. */
struct peer {
	uint8_t fam;
	uint8_t addr[16];
};

static int peer_cmp(const void *x, const void *y)
{
	const struct peer *a = x, *b = y;

	if (a->fam != b->fam)
		return a->fam < b->fam ? -1 : 1;
	return memcmp(a->addr, b->addr, 16);
}

/* The peers of table t's flows into p (room for max), from *n on. */
static void table_peers(const struct pw_dp *dp, int t, struct peer *p, size_t max, size_t *n)
{
	struct pw_ct_key k, next;
	void *prev = NULL;
	int fd = pw_dp_ct_fd(dp, t);

	while (*n < max && bpf_map_get_next_key(fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		p[*n].fam = k.fam;
		memcpy(p[*n].addr, k.remote, 16);
		(*n)++;
	}
}

/* For each learned record, the flows the host has open to its address
 * (what the name is used for now). Only when something is learned. */
static int count_flows(const struct pw_dp *dp, struct pw_status *s)
{
	size_t max = (size_t)s->ct[PW_CT_TABLE_TCP].capacity + s->ct[PW_CT_TABLE_DGRAM].capacity, n = 0;

	if (!s->learned)
		return 0;
	struct peer *p = malloc(max * sizeof(*p));
	s->flows = calloc((size_t)s->learned, sizeof(*s->flows));
	if (!p || !s->flows) {
		free(p);
		return -ENOMEM;
	}
	table_peers(dp, PW_CT_TABLE_TCP, p, max, &n);
	table_peers(dp, PW_CT_TABLE_DGRAM, p, max, &n);
	qsort(p, n, sizeof(*p), peer_cmp);
	for (size_t i = 0; i < (size_t)s->learned; i++) {
		struct peer want = { .fam = s->rec[i].k.fam };
		memcpy(want.addr, s->rec[i].k.addr, 16);
		const struct peer *hit = bsearch(&want, p, n, sizeof(*p), peer_cmp);
		if (!hit)
			continue;
		const struct peer *lo = hit, *hi = hit;
		while (lo > p && peer_cmp(lo - 1, &want) == 0)
			lo--;
		while (hi + 1 < p + n && peer_cmp(hi + 1, &want) == 0)
			hi++;
		s->flows[i] = (uint32_t)(hi - lo + 1);
	}
	free(p);
	return 0;
}

int pw_status_read(const struct pw_dp *dp, const struct pw_applied *a, int maxtop, struct pw_drops_cache *cache,
		   struct pw_status *s)
{
	struct pw_state st;

	memset(s, 0, sizeof(*s));
	s->a = a;
	int rc = pw_counts_read(dp, a, maxtop, cache, &s->n);
	if (!rc)
		rc = pw_dp_stats(dp, &s->gs);
	if (!rc)
		rc = read_conntrack(dp, s);
	if (!rc)
		rc = pw_dp_dns_stats(dp, &s->dns);
	if (!rc) {
		ssize_t n = pw_dp_learned_read(dp, &s->rec);
		s->learned = n < 0 ? 0 : (int)n;
		s->now = pw_mono_ns();
		rc = n < 0 ? (int)n : count_flows(dp, s);
	}
	if (!rc)
		rc = pw_dp_read_state(dp, &st);
	if (rc) {
		pw_status_free(s);
		return rc;
	}
	s->cfg = st.cfg[st.active & 1];
	s->event_rate = s->cfg.ev_rate * (uint32_t)dp->ncpus;	/* the token bucket is per CPU */
	return 0;
}

/* Which of our XDP programs is on ifindex: its mode (> 0) and *link, or 0. */
static int xdp_variant(const struct pw_dp *dp, int ifindex, uint8_t *link)
{
	for (uint8_t l = 0; l < PW_LINK_COUNT; l++) {
		int fd = pw_dp_prog(dp, l, PW_DIR_IN);
		int x = fd < 0 ? 0 : pw_xdp_attached(ifindex, fd);
		if (x > 0) {
			*link = l;
			return x;
		}
	}
	return 0;
}

/* Is ifindex one of the record's interfaces? */
static bool recorded(const struct pw_meta *m, uint32_t ifindex)
{
	for (int i = 0; i < m->niface && i < PW_MAX_IFACES; i++)
		if (m->iface[i].ifindex == ifindex)
			return true;
	return false;
}

/* Interface f as the kernel has it (inside the record's namespace). */
static void iface_state(const struct pw_dp *dp, const struct pw_meta *m, const struct pw_iface *f,
			struct pw_iface_state *st)
{
	char applied[IF_NAMESIZE];

	st->gone = pw_iface_gone(m, f, pw_netns_ino(), st->now);
	st->link = f->link;
	int x = st->gone ? -1 : xdp_variant(dp, (int)f->ifindex, &st->link);
	st->xdp = x > 0;
	st->xdp_mode = x > 0 ? x : f->xdp_mode;
	st->tc = !st->gone && pw_tc_attached((int)f->ifindex, pw_dp_prog(dp, f->link, PW_DIR_OUT)) == 1;
	snprintf(applied, sizeof(applied), "%.15s", f->name);
	uint32_t idx = if_nametoindex(applied);
	st->name_taken = idx && !recorded(m, idx) ? idx : 0;
}

void pw_status_ifaces(const struct pw_dp *dp, struct pw_status *s)
{
	const struct pw_meta *m = &s->a->meta;
	char err[600];
	int saved;
	bool in = pw_netns_enter(m->netns, &saved, err, sizeof(err)) == 0;

	for (int i = 0; i < m->niface && i < PW_MAX_IFACES; i++) {
		struct pw_iface_state *st = &s->iface[i];
		if (in) {
			iface_state(dp, m, &m->iface[i], st);
			continue;
		}
		*st = (struct pw_iface_state){ .xdp_mode = m->iface[i].xdp_mode, .gone = true,
						.link = m->iface[i].link };
	}
	if (saved >= 0)
		pw_netns_leave(saved);
}

void pw_status_free(struct pw_status *s)
{
	pw_counts_free(&s->n);
	free(s->rec);
	s->rec = NULL;
	free(s->flows);
	s->flows = NULL;
}

uint32_t pw_applied_nrules(const struct pw_applied *a)
{
	return a->have_rules && a->same ? a->c.nrules : 0;
}

const struct pw_rule *pw_applied_rule(const struct pw_applied *a, uint32_t id)
{
	return id && id <= pw_applied_nrules(a) ? &a->pol.rules[id - 1] : NULL;
}
