/* dns.c - the host names of a half (pw_names, pw_resolvers), what the
 * datapath learned from DNS answers (pw_learned) and its counters
 * (docs/dns.md). */
#define _GNU_SOURCE	/* qsort_r */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "datapath/loader.h"
#include "datapath/resolve.h"
#include "lib/diag.h"

/* Delete every key of map fd whose __u32 at offset half_off is `half`.
 * The keys are collected first (deleting while walking restarts the
 * walk). Returns 0 or -errno. */
static int clear_half(int fd, size_t ksize, size_t half_off, uint32_t half, uint32_t max)
{
	uint8_t *keys = malloc((size_t)max * ksize + ksize);
	void *prev = NULL;
	size_t nk = 0;

	if (!keys)
		return -ENOMEM;
	while (nk < max && bpf_map_get_next_key(fd, prev, keys + nk * ksize) == 0)
		prev = keys + nk++ * ksize;
	for (size_t i = 0; i < nk; i++) {
		uint32_t h;
		memcpy(&h, keys + i * ksize + half_off, 4);
		if (h == half)
			bpf_map_delete_elem(fd, keys + i * ksize);
	}
	free(keys);
	return 0;
}

/* The uids whose queries teach, into pw_dns_users for the half. */
static int write_uids(struct pw_dp *dp, uint32_t half, const struct pw_dp_names *nm, char *err, size_t n)
{
	for (size_t i = 0; i < nm->nuids; i++) {
		struct pw_dns_user_key k = { .uid = nm->uids[i], .half = half };
		uint32_t one = 1;
		if (bpf_map_update_elem(dp->dns_users_fd, &k, &one, BPF_ANY))
			return pw_errf(err, n, -errno, "writing dns user %u into pw_dns_users failed: %s (at most %d "
				       "per policy)", nm->uids[i], strerror(errno), PW_DNS_USERS_MAX);
	}
	return 0;
}

int pw_dp_write_names(struct pw_dp *dp, uint32_t half, const struct pw_dp_names *nm, char *err, size_t n)
{
	int rc = clear_half(dp->names_fd, sizeof(struct pw_name_key), offsetof(struct pw_name_key, half), half,
			    PW_NAMES_CAPACITY);
	if (!rc)
		rc = clear_half(dp->resolvers_fd, sizeof(struct pw_resolver_key),
				offsetof(struct pw_resolver_key, half), half, 2 * PW_RESOLVERS_MAX);
	if (!rc)
		rc = clear_half(dp->dns_users_fd, sizeof(struct pw_dns_user_key),
				offsetof(struct pw_dns_user_key, half), half, 2 * PW_DNS_USERS_MAX);
	if (rc)
		return pw_errf(err, n, rc, "clearing the host names of half %u failed: %s", half, strerror(-rc));
	for (size_t i = 0; i < nm->nnames; i++) {
		struct pw_name_key k = nm->keys[i];
		k.half = half;
		if (bpf_map_update_elem(dp->names_fd, &k, &nm->vals[i], BPF_NOEXIST))
			return pw_errf(err, n, -errno, "writing host name %zu of %zu into pw_names failed: %s "
				       "(at most %d names and wildcards per policy)", i + 1, nm->nnames,
				       strerror(errno), PW_NAMES_CAPACITY / 2);
	}
	for (size_t i = 0; i < nm->nresolvers; i++) {
		struct pw_resolver_key k = nm->resolvers[i];
		uint32_t one = 1;
		k.half = half;
		if (bpf_map_update_elem(dp->resolvers_fd, &k, &one, BPF_ANY))
			return pw_errf(err, n, -errno, "writing resolver %zu into pw_resolvers failed: %s", i + 1,
				       strerror(errno));
	}
	return write_uids(dp, half, nm, err, n);
}

int pw_dp_write_policy_names(struct pw_dp *dp, uint32_t half, const struct pw_compiled *c,
			     const struct pw_ip *res, size_t nres, char *err, size_t n)
{
	struct pw_name_key *keys = calloc(c->nnames + 1, sizeof(*keys));
	struct pw_name_val *vals = calloc(c->nnames + 1, sizeof(*vals));
	struct pw_resolver_key rk[PW_RESOLVERS_MAX] = { 0 };
	int rc = -ENOMEM;

	if (keys && vals) {
		for (size_t i = 0; i < c->nnames; i++)
			pw_name_entry(c, i, half, &keys[i], &vals[i]);
		for (size_t i = 0; i < nres && i < PW_RESOLVERS_MAX; i++) {
			rk[i].fam = res[i].fam;
			memcpy(rk[i].addr, res[i].addr, 16);
		}
		uint32_t uids[PW_DNS_USERS_MAX];
		for (size_t i = 0; i < c->ndns_users; i++)
			uids[i] = c->dns_users[i].uid;
		struct pw_dp_names nm = { keys, vals, c->nnames, rk, nres < PW_RESOLVERS_MAX ? nres : PW_RESOLVERS_MAX,
					  uids, c->ndns_users };
		rc = pw_dp_write_names(dp, half, &nm, err, n);
	} else {
		pw_errf(err, n, rc, "no memory for the host names of the policy");
	}
	free(keys);
	free(vals);
	return rc;
}

/* Add entry `key` of pw_dns_stats, summed over CPUs, to *out. */
static int add_stats(const struct pw_dp *dp, uint32_t key, struct pw_dns_stats *v, struct pw_dns_stats *out)
{
	if (bpf_map_lookup_elem(dp->dns_stats_fd, &key, v))
		return -errno;
	for (int c = 0; c < dp->ncpus; c++) {
		const __u64 *f = (const __u64 *)&v[c];
		__u64 *t = (__u64 *)out;
		for (size_t i = 0; i < sizeof(*out) / sizeof(__u64); i++)
			t[i] += f[i];
	}
	return 0;
}

int pw_dp_dns_stats(const struct pw_dp *dp, struct pw_dns_stats *out)
{
	struct pw_dns_stats *v = calloc((size_t)dp->ncpus, sizeof(*v));

	memset(out, 0, sizeof(*out));
	if (!v)
		return -ENOMEM;
	int rc = add_stats(dp, PW_DNS_STATS_DATAPATH, v, out);
	if (!rc)
		rc = add_stats(dp, PW_DNS_STATS_AGENT, v, out);
	free(v);
	return rc;
}

/* The agent's counts go into its own entry (the datapath never writes
 * it), on the first CPU's slot. */
static int count_evicted(const struct pw_dp *dp, int n)
{
	struct pw_dns_stats *v = calloc((size_t)dp->ncpus, sizeof(*v));
	uint32_t key = PW_DNS_STATS_AGENT;
	int rc = 0;

	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(dp->dns_stats_fd, &key, v) == 0) {
		v[0].evicted += (uint64_t)n;
		if (bpf_map_update_elem(dp->dns_stats_fd, &key, v, BPF_ANY))
			rc = -errno;
	} else {
		rc = -errno;
	}
	free(v);
	return rc;
}

/* ---- learned addresses: into a new half, out when expired ---- */

uint64_t pw_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int pw_dp_half_trie(const struct pw_dp *dp, uint32_t half)
{
	uint32_t id;

	if (bpf_map_lookup_elem(dp->peers_fd, &half, &id))
		return -errno;
	int fd = bpf_map_get_fd_by_id(id);
	return fd < 0 ? -errno : fd;
}

static void peer_key(struct pw_peer_key *pk, uint32_t shape, uint8_t fam, const uint8_t *addr)
{
	memset(pk, 0, sizeof(*pk));
	pk->prefixlen = PW_PEER_SCOPE_BITS + (fam == PW_FAM_V6 ? 128 : 32);
	pk->scope = pw_peer_scope(shape, fam);
	memcpy(pk->addr, addr, 16);
}

/* As the datapath's pw_dns_trie_put: (shape, address) -> rank unless the
 * trie decides the address by this rank or an earlier one already. */
static int trie_put(int trie, const struct pw_name_target *t, uint8_t fam, const uint8_t *addr)
{
	struct pw_peer_key pk;
	struct pw_peer_val old, v = { .rule = t->rank };

	peer_key(&pk, t->shape, fam, addr);
	if (bpf_map_lookup_elem(trie, &pk, &old) == 0 && old.rule && old.rule <= t->rank)
		return 0;
	return bpf_map_update_elem(trie, &pk, &v, BPF_ANY) ? -errno : 1;
}

/* Every learned entry, collected (the map may change under the walk). */

static ssize_t collect_learned(const struct pw_dp *dp, struct pw_learned_rec **out)
{
	struct pw_learned_rec *a = calloc(PW_LEARNED_CAPACITY, sizeof(*a));
	struct pw_learned_key *prev = NULL;
	size_t n = 0;

	if (!a)
		return -ENOMEM;
	while (n < PW_LEARNED_CAPACITY && bpf_map_get_next_key(dp->learned_fd, prev, &a[n].k) == 0) {
		prev = &a[n].k;
		if (bpf_map_lookup_elem(dp->learned_fd, &a[n].k, &a[n].v) == 0)
			n++;
	}
	*out = a;
	return (ssize_t)n;
}

/* Put learned entry e into `trie` for its name's targets in half `half`
 * (none when the half has not the name). Returns entries written. */
static int put_learned(const struct pw_dp *dp, int trie, uint32_t half, const struct pw_learned_rec *e)
{
	struct pw_name_key nk = { .hash = e->k.name_hash, .half = half, .wild = e->k.wild };
	struct pw_name_val nv;
	int put = 0;

	if (bpf_map_lookup_elem(dp->names_fd, &nk, &nv))
		return 0;
	for (unsigned t = 0; t < nv.ntargets && t < PW_NAME_TARGETS; t++)
		put += trie_put(trie, &nv.t[t], e->k.fam, e->k.addr) > 0;
	return put;
}

static bool live(const struct pw_learned_rec *e, uint64_t now)
{
	return (int64_t)(e->v.expires_ns - now) >= 0;
}

int pw_dp_relearn(struct pw_dp *dp, uint32_t half, uint64_t now)
{
	struct pw_learned_rec *a;
	ssize_t n = collect_learned(dp, &a);
	int trie = n < 0 ? (int)n : pw_dp_half_trie(dp, half), put = 0;

	if (n >= 0 && trie >= 0) {
		for (ssize_t i = 0; i < n; i++)
			if (live(&a[i], now))
				put += put_learned(dp, trie, half, &a[i]);
		close(trie);
	}
	if (n >= 0)
		free(a);
	return n < 0 ? (int)n : trie < 0 ? trie : put;
}

int pw_dp_learn_addr(struct pw_dp *dp, uint32_t half, const struct pw_cname *x, uint8_t fam,
		     const uint8_t addr[16], uint32_t life_s, uint32_t ttl, uint8_t source, uint64_t now)
{
	struct pw_learned_rec e = { .k = { .name_hash = x->hash, .fam = fam } };
	struct pw_learned_val old;

	memcpy(e.k.addr, addr, 16);
	e.v = (struct pw_learned_val){ .learned_ns = now, .expires_ns = now + (uint64_t)life_s * 1000000000ull,
				       .ttl = ttl, .source = source };
	/* a longer lifetime an answer gave lives on */
	if (bpf_map_lookup_elem(dp->learned_fd, &e.k, &old) == 0 && !old.partial &&
	    (int64_t)(old.expires_ns - e.v.expires_ns) > 0)
		e.v.expires_ns = old.expires_ns;
	if (bpf_map_update_elem(dp->learned_fd, &e.k, &e.v, BPF_ANY))
		return -errno;
	int trie = pw_dp_half_trie(dp, half);
	if (trie < 0)
		return trie;
	int put = put_learned(dp, trie, half, &e);
	close(trie);
	return put > 0;
}

/* Take learned entry e out of half `half`'s trie: each target's exact
 * entry is deleted, and what the policy itself says of the address there
 * (a covering prefix of the shape, which an earlier rule's name may have
 * overwritten) is written back. Returns 0 or -errno. */
static int unlearn(const struct pw_dp *dp, int trie, uint32_t half, const struct pw_compiled *c,
		   const struct pw_learned_rec *e)
{
	struct pw_name_key nk = { .hash = e->k.name_hash, .half = half, .wild = e->k.wild };
	struct pw_name_val nv;
	struct pw_peer_key pk;

	if (bpf_map_lookup_elem(dp->names_fd, &nk, &nv))
		return 0;	/* the half has not the name: nothing of it there */
	for (unsigned t = 0; t < nv.ntargets && t < PW_NAME_TARGETS; t++) {
		peer_key(&pk, nv.t[t].shape, e->k.fam, e->k.addr);
		if (bpf_map_delete_elem(trie, &pk) && errno != ENOENT)
			return -errno;
		const struct pw_peer_val *own = pw_peer_lookup(c, nv.t[t].shape, e->k.fam, e->k.addr);
		if (own && bpf_map_update_elem(trie, &pk, own, BPF_ANY))
			return -errno;
	}
	return 0;
}

static int addr_cmp(const struct pw_learned_rec *a, const struct pw_learned_rec *b)
{
	if (a->k.fam != b->k.fam)
		return a->k.fam < b->k.fam ? -1 : 1;
	return memcmp(a->k.addr, b->k.addr, 16);
}

static int by_addr(const void *x, const void *y)
{
	return addr_cmp(x, y);
}

static int by_name(const void *x, const void *y)
{
	const struct pw_learned_rec *a = x, *b = y;

	if (a->k.name_hash != b->k.name_hash)
		return a->k.name_hash < b->k.name_hash ? -1 : 1;
	if (a->k.wild != b->k.wild)
		return a->k.wild < b->k.wild ? -1 : 1;
	return addr_cmp(a, b);
}

ssize_t pw_dp_learned_read(const struct pw_dp *dp, struct pw_learned_rec **out)
{
	ssize_t n = collect_learned(dp, out);

	if (n > 0)
		qsort(*out, (size_t)n, sizeof(**out), by_name);
	return n;
}

/* After unlearning a[x]: the live entries of other names with the same
 * address are put back (they may share its class), unless they go too
 * (gone[]). a is sorted by address, so they are x's neighbours. */
static void put_back(const struct pw_dp *dp, int trie, uint32_t half, const struct pw_learned_rec *a, size_t n,
		     size_t x, uint64_t now, const bool *gone)
{
	size_t lo = x, hi = x + 1;

	while (lo > 0 && addr_cmp(&a[lo - 1], &a[x]) == 0)
		lo--;
	while (hi < n && addr_cmp(&a[hi], &a[x]) == 0)
		hi++;
	for (size_t i = lo; i < hi; i++)
		if (i != x && live(&a[i], now) && !gone[i])
			put_learned(dp, trie, half, &a[i]);
}

/* By name, then most recently answered first (ties: the lower address). */
static int by_recency(const void *x, const void *y, void *arg)
{
	const struct pw_learned_rec *a = arg, *p = &a[*(const size_t *)x], *q = &a[*(const size_t *)y];

	if (p->k.name_hash != q->k.name_hash)
		return p->k.name_hash < q->k.name_hash ? -1 : 1;
	if (p->k.wild != q->k.wild)
		return p->k.wild < q->k.wild ? -1 : 1;
	if (p->v.learned_ns != q->v.learned_ns)
		return p->v.learned_ns > q->v.learned_ns ? -1 : 1;
	return addr_cmp(p, q);
}

/* Mark in over[] the live records of names that hold more than max: each
 * name keeps its max most recently answered. Returns 0 or -ENOMEM. */
static int over_cap(const struct pw_learned_rec *a, size_t n, uint32_t max, uint64_t now, bool *over)
{
	size_t *idx = malloc((n ? n : 1) * sizeof(*idx)), m = 0, pos = 0;

	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (live(&a[i], now))
			idx[m++] = i;
	qsort_r(idx, m, sizeof(*idx), by_recency, (void *)a);
	for (size_t j = 0; j < m; j++) {
		const struct pw_learned_rec *p = &a[idx[j]], *q = j ? &a[idx[j - 1]] : NULL;
		pos = q && q->k.name_hash == p->k.name_hash && q->k.wild == p->k.wild ? pos + 1 : 0;
		over[idx[j]] = pos >= max;
	}
	free(idx);
	return 0;
}

/* Which records go: ended, or over their name's cap (max 0: none). */
static int choose(const struct pw_learned_rec *a, size_t n, uint32_t max, uint64_t now, bool *over, bool *gone)
{
	int rc = max ? over_cap(a, n, max, now, over) : 0;

	for (size_t i = 0; i < n; i++)
		gone[i] = !live(&a[i], now) || over[i];
	return rc;
}

/* Remove a[i] from pw_learned and the trie, unless it was answered again
 * since it was collected (a new lifetime or answer time): then it lives
 * on, and no removal of another name's record of its address may leave
 * it out of the trie. 1 removed, 0 not, -errno. */
static int remove_one(const struct pw_dp *dp, int trie, uint32_t half, const struct pw_compiled *c,
		      const struct pw_learned_rec *a, size_t n, size_t i, uint64_t now, bool *gone)
{
	struct pw_learned_val v;

	if (bpf_map_lookup_elem(dp->learned_fd, &a[i].k, &v) == 0 &&
	    (v.expires_ns != a[i].v.expires_ns || v.learned_ns != a[i].v.learned_ns)) {
		/* a removal before this one, of another name's record of the
		 * address, may have taken its entry out: put it back */
		gone[i] = false;
		put_learned(dp, trie, half, &a[i]);
		return 0;
	}
	bpf_map_delete_elem(dp->learned_fd, &a[i].k);
	int rc = unlearn(dp, trie, half, c, &a[i]);
	put_back(dp, trie, half, a, n, i, now, gone);
	/* answered again between the delete and the unlearn: the datapath
	 * made the record anew but wrote no entry (the old one was there) */
	if (rc == 0 && bpf_map_lookup_elem(dp->learned_fd, &a[i].k, &v) == 0) {
		gone[i] = false;
		put_learned(dp, trie, half, &a[i]);
		return 0;
	}
	return rc < 0 ? rc : 1;
}

int pw_dp_dns_expire(struct pw_dp *dp, uint32_t half, const struct pw_compiled *c, uint64_t now, uint32_t name_max,
		     int *evicted)
{
	struct pw_learned_rec *a;
	ssize_t n = collect_learned(dp, &a);
	int trie = n < 0 ? (int)n : pw_dp_half_trie(dp, half), gone = 0, rc = 0, ev = 0;
	bool *over = n > 0 ? calloc((size_t)n, 2 * sizeof(bool)) : NULL;

	if (n > 0 && !over)
		rc = -ENOMEM;
	if (n > 0 && over) {
		qsort(a, (size_t)n, sizeof(*a), by_addr);
		rc = choose(a, (size_t)n, name_max, now, over, over + n);
	}
	for (ssize_t i = 0; n > 0 && trie >= 0 && rc == 0 && i < n; i++) {
		if (!over[n + i])
			continue;
		int r = remove_one(dp, trie, half, c, a, (size_t)n, (size_t)i, now, over + n);
		rc = r < 0 ? r : 0;
		gone += r > 0;
		ev += r > 0 && live(&a[i], now);
	}
	if (ev && rc == 0)
		rc = count_evicted(dp, ev);
	if (evicted)
		*evicted = ev;
	if (trie >= 0)
		close(trie);
	if (n >= 0)
		free(a);
	free(over);
	return n < 0 ? (int)n : trie < 0 ? trie : rc < 0 ? rc : gone;
}
