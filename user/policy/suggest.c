/* suggest.c - from drop events to the allow rules that would have let
 * them pass, and the scans that should not become rules (suggest.h). */
#include "policy/suggest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "portwall.h"

struct pw_sugg_ev {
	int64_t ms;
	int port;
	uint8_t dir, proto, fam;
	bool scan;
	uint8_t peer[16];
};

void pw_suggest_init(struct pw_suggest *s)
{
	memset(s, 0, sizeof(*s));
}

/* The local service of an event: TCP/UDP destination port, ICMP type. */
static int service(const struct pw_evrec *r)
{
	if (r->proto == 6 || r->proto == 17)
		return r->dport;
	if (r->proto == 1 || r->proto == 58)
		return r->icmp_type;
	return -1;
}

int pw_suggest_add(struct pw_suggest *s, const struct pw_evrec *r)
{
	if (strcmp(r->reason, "default") != 0) {
		s->skipped++;
		return 0;
	}
	if (s->nev == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024;
		struct pw_sugg_ev *n = realloc(s->ev, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->ev = n;
		s->cap = cap;
	}
	struct pw_sugg_ev *e = &s->ev[s->nev++];
	memset(e, 0, sizeof(*e));
	e->ms = r->ms;
	e->dir = r->dir;
	e->proto = r->proto;
	e->fam = r->fam;
	e->port = service(r);
	memcpy(e->peer, r->dir == PW_DIR_IN ? r->src : r->dst, 16);
	return 0;
}

static int cmp_int(long a, long b)
{
	return (a > b) - (a < b);
}

/* by direction, family, peer, then service */
static int by_peer(const void *pa, const void *pb)
{
	const struct pw_sugg_ev *a = pa, *b = pb;
	int c = cmp_int(a->dir, b->dir);

	if (!c)
		c = cmp_int(a->fam, b->fam);
	if (!c)
		c = memcmp(a->peer, b->peer, 16);
	if (!c)
		c = cmp_int(a->proto, b->proto);
	if (!c)
		c = cmp_int(a->port, b->port);
	return c;
}

/* by direction, service, family, then peer */
static int by_service(const void *pa, const void *pb)
{
	const struct pw_sugg_ev *a = pa, *b = pb;
	int c = cmp_int(a->scan, b->scan);

	if (!c)
		c = cmp_int(a->dir, b->dir);
	if (!c)
		c = cmp_int(a->proto, b->proto);
	if (!c)
		c = cmp_int(a->port, b->port);
	if (!c)
		c = cmp_int(a->fam, b->fam);
	if (!c)
		c = memcmp(a->peer, b->peer, 16);
	return c;
}

static bool same_peer(const struct pw_sugg_ev *a, const struct pw_sugg_ev *b)
{
	return a->dir == b->dir && a->fam == b->fam && memcmp(a->peer, b->peer, 16) == 0;
}

static bool same_service(const struct pw_sugg_ev *a, const struct pw_sugg_ev *b)
{
	return a->dir == b->dir && a->proto == b->proto && a->port == b->port && a->fam == b->fam;
}

static void span(int64_t ms, int64_t *first, int64_t *last)
{
	if (ms < *first)
		*first = ms;
	if (ms > *last)
		*last = ms;
}

/* The events of one peer, ev[i..j): a scan when it hit many services. */
static int peer_run(struct pw_suggest *s, size_t i, size_t j)
{
	struct pw_scan c = { .dir = s->ev[i].dir, .fam = s->ev[i].fam, .lo = -1, .hi = -1,
			     .first_ms = INT64_MAX, .last_ms = INT64_MIN };

	memcpy(c.peer, s->ev[i].peer, 16);
	for (size_t k = i; k < j; k++) {
		const struct pw_sugg_ev *e = &s->ev[k];
		if (k == i || e->proto != e[-1].proto || e->port != e[-1].port)
			c.ports++;
		if ((e->proto == 6 || e->proto == 17) && e->port >= 0) {
			c.lo = c.lo < 0 || e->port < c.lo ? e->port : c.lo;
			c.hi = e->port > c.hi ? e->port : c.hi;
		}
		span(e->ms, &c.first_ms, &c.last_ms);
	}
	c.packets = j - i;
	if (c.ports < PW_SCAN_PORTS)
		return 0;
	for (size_t k = i; k < j; k++)
		s->ev[k].scan = true;
	struct pw_scan *n = realloc(s->scan, (s->nscan + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	s->scan = n;
	s->scan[s->nscan++] = c;
	return 0;
}

static int plen_of(uint8_t fam, bool several)
{
	if (fam == PW_FAM_V6)
		return several ? 64 : 128;
	return several ? 24 : 32;
}

static bool same_prefix(const struct pw_sugg_ev *a, const struct pw_sugg_ev *b)
{
	return memcmp(a->peer, b->peer, a->fam == PW_FAM_V6 ? 8 : 3) == 0;
}

/* One suggestion from the events ev[i..j) of one service and prefix
 * (sorted by peer). */
static struct pw_suggestion one(const struct pw_suggest *s, size_t i, size_t j)
{
	const struct pw_sugg_ev *e0 = &s->ev[i];
	struct pw_suggestion g = { .dir = e0->dir, .proto = e0->proto, .fam = e0->fam, .port = e0->port,
				   .first_ms = INT64_MAX, .last_ms = INT64_MIN, .packets = j - i };
	uint64_t best = 0, run = 0;

	for (size_t k = i; k < j; k++) {
		span(s->ev[k].ms, &g.first_ms, &g.last_ms);
		run++;
		if (k + 1 < j && memcmp(s->ev[k + 1].peer, s->ev[k].peer, 16) == 0)
			continue;
		g.peers++;
		if (run > best) {
			best = run;
			memcpy(g.example, s->ev[k].peer, 16);
		}
		run = 0;
	}
	g.plen = plen_of(g.fam, g.peers > 1);
	memcpy(g.pfx, e0->peer, 16);
	size_t keep = (size_t)g.plen / 8;
	memset(g.pfx + keep, 0, 16 - keep);
	return g;
}

static int add_sugg(struct pw_suggest *s, struct pw_suggestion g, uint64_t min_count)
{
	if (g.packets < min_count)
		return 0;
	struct pw_suggestion *n = realloc(s->sugg, (s->nsugg + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	s->sugg = n;
	s->sugg[s->nsugg++] = g;
	return 0;
}

static int by_packets(const void *pa, const void *pb)
{
	const struct pw_suggestion *a = pa, *b = pb;
	int c = -cmp_int((long)a->packets, (long)b->packets);

	if (!c)
		c = cmp_int(a->dir, b->dir);
	if (!c)
		c = cmp_int(a->proto, b->proto);
	if (!c)
		c = cmp_int(a->port, b->port);
	if (!c)
		c = cmp_int(a->fam, b->fam);
	if (!c)
		c = memcmp(a->pfx, b->pfx, 16);
	return c;
}

static int scan_by_packets(const void *pa, const void *pb)
{
	const struct pw_scan *a = pa, *b = pb;
	int c = -cmp_int((long)a->packets, (long)b->packets);

	if (!c)
		c = cmp_int(a->fam, b->fam);
	return c ? c : memcmp(a->peer, b->peer, 16);
}

int pw_suggest_finish(struct pw_suggest *s, uint64_t min_count)
{
	size_t i, j;

	qsort(s->ev, s->nev, sizeof(*s->ev), by_peer);
	for (i = 0; i < s->nev; i = j) {
		for (j = i + 1; j < s->nev && same_peer(&s->ev[j], &s->ev[i]); j++)
			;
		if (peer_run(s, i, j))
			return -ENOMEM;
	}
	qsort(s->ev, s->nev, sizeof(*s->ev), by_service);	/* scans last */
	for (i = 0; i < s->nev && !s->ev[i].scan; i = j) {
		/* one prefix of one service; its peers are next to each other */
		for (j = i + 1; j < s->nev && !s->ev[j].scan && same_service(&s->ev[j], &s->ev[i]) &&
				same_prefix(&s->ev[j], &s->ev[i]); j++)
			;
		/* several peers in the prefix: one rule; else one per host (the run is that host) */
		if (add_sugg(s, one(s, i, j), min_count))
			return -ENOMEM;
	}
	qsort(s->sugg, s->nsugg, sizeof(*s->sugg), by_packets);
	qsort(s->scan, s->nscan, sizeof(*s->scan), scan_by_packets);
	return 0;
}

static void peer_text(uint8_t fam, const uint8_t *a, char *buf, size_t size)
{
	inet_ntop(fam == PW_FAM_V6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)size);
}

void pw_suggestion_rule(const struct pw_suggestion *g, char *buf, size_t size)
{
	char peer[INET6_ADDRSTRLEN + 8], what[64] = "";
	const char *pn = pw_proto_name(g->proto);
	char proto[16];

	peer_text(g->fam, g->pfx, peer, sizeof(peer));
	if (g->plen != 32 && g->plen != 128)
		snprintf(peer + strlen(peer), sizeof(peer) - strlen(peer), "/%d", g->plen);
	bool plain = g->proto == 6 || g->proto == 17 || g->proto == 1 || g->proto == 58;
	if (pn)
		snprintf(proto, sizeof(proto), "%s%s", plain ? "" : "proto ", pn);
	else
		snprintf(proto, sizeof(proto), "proto %u", g->proto);
	if ((g->proto == 6 || g->proto == 17) && g->port >= 0)
		snprintf(what, sizeof(what), " port %d", g->port);
	else if ((g->proto == 1 || g->proto == 58) && g->port >= 0) {
		const char *tn = pw_icmp_type_name((unsigned)g->port, g->proto == 58);
		if (tn)
			snprintf(what, sizeof(what), " type %s", tn);
		else
			snprintf(what, sizeof(what), " type %d", g->port);
	}
	snprintf(buf, size, "allow %s %s%s peer %s", g->dir == PW_DIR_OUT ? "out" : "in", proto, what, peer);
}

void pw_suggestion_note(const struct pw_suggestion *g, char *buf, size_t size)
{
	char first[40], last[40], ex[INET6_ADDRSTRLEN];

	pw_evrec_time(g->first_ms, false, first, sizeof(first));
	pw_evrec_time(g->last_ms, false, last, sizeof(last));
	peer_text(g->fam, g->example, ex, sizeof(ex));
	snprintf(buf, size, "# %llu packet%s, %zu peer%s, first %s, last %s, e.g. %s",
		 (unsigned long long)g->packets, g->packets == 1 ? "" : "s", g->peers, g->peers == 1 ? "" : "s",
		 first, last, ex);
}

void pw_scan_line(const struct pw_scan *c, char *buf, size_t size)
{
	char first[40], last[40], peer[INET6_ADDRSTRLEN], range[40] = "";

	pw_evrec_time(c->first_ms, false, first, sizeof(first));
	pw_evrec_time(c->last_ms, false, last, sizeof(last));
	peer_text(c->fam, c->peer, peer, sizeof(peer));
	if (c->lo >= 0)
		snprintf(range, sizeof(range), " (tcp/udp ports %d-%d)", c->lo, c->hi);
	snprintf(buf, size, "# scan: %s %s, %zu ports%s, %llu packets, first %s, last %s: not turned into rules",
		 peer, c->dir == PW_DIR_OUT ? "out" : "in", c->ports, range, (unsigned long long)c->packets,
		 first, last);
}

void pw_suggest_free(struct pw_suggest *s)
{
	free(s->ev);
	free(s->sugg);
	free(s->scan);
	memset(s, 0, sizeof(*s));
}
