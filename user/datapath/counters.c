/* counters.c - the kernel's counters summed over CPUs (per reason, per
 * rule, per port, the event stats), and the carry: a rule a reload
 * leaves unchanged keeps its counts. */
#include "datapath/loader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

/* the reason counters by the names status, top and the events print */
const char *const pw_reason_names[PW_R_COUNT] = {
	[PW_R_ALLOW_RULE] = "allow-rule",
	[PW_R_ALLOW_DEFAULT] = "allow-default",
	[PW_R_REPLY] = "reply",
	[PW_R_RELATED] = "related",
	[PW_R_FRAGMENT_OK] = "fragment-ok",
	[PW_R_NON_IP] = "non-ip",
	[PW_R_NEIGHBOR] = "neighbor-discovery",
	[PW_R_EXCEPTION] = "exception",
	[PW_R_DROP_DEFAULT] = "default",
	[PW_R_DROP_DENY] = "deny-rule",
	[PW_R_DROP_MALFORMED] = "malformed",
	[PW_R_DROP_FRAGMENT] = "fragment",
	[PW_R_DROP_REVOKED] = "revoked",
};

/* Sum a per-CPU array entry of `words` u64 values. */
static int percpu_sum(const struct pw_dp *dp, int fd, uint32_t key, __u64 *out, size_t words)
{
	size_t vsz = words * sizeof(__u64);
	__u64 *v = calloc((size_t)dp->ncpus, vsz);

	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, v)) {
		int rc = -errno;
		free(v);
		return rc;
	}
	memset(out, 0, vsz);
	for (int c = 0; c < dp->ncpus; c++)
		for (size_t w = 0; w < words; w++)
			out[w] += v[(size_t)c * words + w];
	free(v);
	return 0;
}

int pw_dp_reason_counts(const struct pw_dp *dp, struct pw_counter out[PW_DIR_COUNT * PW_R_COUNT])
{
	for (uint32_t k = 0; k < PW_DIR_COUNT * PW_R_COUNT; k++) {
		int rc = percpu_sum(dp, dp->reason_stats_fd, k, &out[k].packets, 2);
		if (rc)
			return rc;
	}
	return 0;
}

int pw_dp_rule_count_half(const struct pw_dp *dp, uint32_t half, uint32_t rule, uint32_t dir,
			  struct pw_counter *out)
{
	struct pw_rule_info info;
	uint32_t cap = dp->rule_capacity, k = (half & 1) * cap + rule;

	if (rule >= cap)
		return -ERANGE;
	int rc = percpu_sum(dp, dp->rule_stats_fd, (half & 1) * 2 * cap + rule * 2 + (dir & 1), &out->packets, 2);
	if (rc)
		return rc;
	if (bpf_map_lookup_elem(dp->rules_fd, &k, &info))
		return -errno;
	out->packets += info.carry[dir & 1].packets;
	out->bytes += info.carry[dir & 1].bytes;
	return 0;
}

int pw_dp_rule_count(const struct pw_dp *dp, uint32_t rule, uint32_t dir, struct pw_counter *out)
{
	struct pw_state st;
	int rc = pw_dp_read_state(dp, &st);

	return rc ? rc : pw_dp_rule_count_half(dp, st.active, rule, dir, out);
}

static int cmp_fp(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;	/* (fingerprint, rule id) pairs */
	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return (x[1] > y[1]) - (x[1] < y[1]);
}

/* Read entries [first, first + n) of an array map in one batch syscall
 * (per-CPU maps give every CPU's value of an entry in a row). */
static int read_range(int fd, uint32_t first, uint32_t n, void *vals)
{
	uint32_t *keys = malloc(n * sizeof(*keys)), count = n, out = 0;
	uint32_t in = first ? first - 1 : 0;
	int rc = 0;

	if (!keys)
		return -ENOMEM;
	/* the batch walk resumes after "in": start just before first */
	if (bpf_map_lookup_batch(fd, first ? &in : NULL, &out, keys, vals, &count, NULL) && errno != ENOENT)
		rc = -errno;
	else if (count < n)
		rc = -ERANGE;
	free(keys);
	return rc;
}

/* What pw_dp_carry reads and builds, for its steps: only the rules each
 * half has, not the whole capacity (a reload's cost follows the policy). */
struct carry {
	uint32_t cap, ncpu;
	uint32_t nold_ids, nnew_ids;	/* rule ids 0..n-1 of the old and the new half */
	struct pw_rule_info *oi, *ni;	/* the old and the new half's rule records */
	struct pw_counter *os;		/* the old half's rule counters, every CPU's */
	uint64_t (*old)[2];		/* the old rules as (fingerprint, id), sorted */
	uint32_t nold;			/* entries in old */
	bool *used;			/* old[i] already carried into a new rule */
	uint32_t *keys;
};

static int carry_alloc(struct carry *k, const struct pw_dp *dp, uint32_t nold, uint32_t nnew)
{
	uint32_t ncpu = (uint32_t)dp->ncpus;

	memset(k, 0, sizeof(*k));
	k->cap = dp->rule_capacity;
	k->ncpu = ncpu;
	if (nold >= k->cap || nnew >= k->cap)
		return -ERANGE;
	k->nold_ids = nold + 1;
	k->nnew_ids = nnew + 1;
	k->oi = calloc(k->nold_ids, sizeof(*k->oi));
	k->ni = calloc(k->nnew_ids, sizeof(*k->ni));
	k->os = calloc((size_t)2 * k->nold_ids * ncpu, sizeof(*k->os));
	k->old = calloc(k->nold_ids, sizeof(*k->old));
	k->used = calloc(k->nold_ids, sizeof(*k->used));
	k->keys = malloc(k->nnew_ids * sizeof(*k->keys));
	if (!k->oi || !k->ni || !k->os || !k->old || !k->used || !k->keys)
		return -ENOMEM;
	return 0;
}

static void carry_free(struct carry *k)
{
	free(k->oi);
	free(k->ni);
	free(k->os);
	free(k->old);
	free(k->used);
	free(k->keys);
}

/* Both halves' rule records and the old half's counters, in bulk; the
 * new half's records are not read when the caller wrote them (fps: their
 * fingerprints, nothing carried yet). */
static int carry_read(const struct pw_dp *dp, struct carry *k, uint32_t from, uint32_t to, const uint64_t *fps)
{
	uint32_t cap = k->cap;
	int rc = read_range(dp->rules_fd, from * cap, k->nold_ids, k->oi);

	for (uint32_t j = 0; fps && j < k->nnew_ids; j++)
		k->ni[j].fingerprint = fps[j];
	if (!rc && !fps)
		rc = read_range(dp->rules_fd, to * cap, k->nnew_ids, k->ni);
	if (!rc)
		rc = read_range(dp->rule_stats_fd, from * 2 * cap, 2 * k->nold_ids, k->os);
	return rc;
}

/* A half's records are its rules' (fingerprints not 0) up to the first
 * id without one, and nothing after it (reset_rules writes them in one
 * batch that reaches the last policy's end): the end is found by halving,
 * 18 lookups, not by reading every record (65,536 rules: two reads of
 * 20 ms a reload). */
int pw_dp_half_nrules(const struct pw_dp *dp, uint32_t half, uint32_t *nrules)
{
	uint32_t cap = dp->rule_capacity, lo = 1, hi = cap;	/* the end is in [lo, hi] */

	*nrules = cap ? cap - 1 : 0;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2, k = (half & 1) * cap + mid;
		struct pw_rule_info v;
		memset(&v, 0, sizeof(v));	/* valgrind cannot see the kernel fill it */
		if (bpf_map_lookup_elem(dp->rules_fd, &k, &v))
			return -errno;
		if (v.fingerprint == 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (lo < cap)
		*nrules = lo - 1;
	return 0;
}

/* The old policy's rules 0..nold by fingerprint, to look them up. */
static void sort_old(struct carry *k, uint32_t nold)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i <= nold; i++) {
		if (i > 0 && k->oi[i].fingerprint == 0)
			break;	/* past the old policy's last rule */
		k->old[n][0] = k->oi[i].fingerprint;
		k->old[n][1] = i;
		n++;
	}
	qsort(k->old, n, sizeof(*k->old), cmp_fp);
	k->nold = n;
}

/* The first old rule with fingerprint fp not carried yet (two new rules
 * alike take two old ones, in id order): its index in old, or nold. */
static size_t find_old(const struct carry *k, uint64_t fp)
{
	size_t lo = 0, hi = k->nold;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (k->old[mid][0] < fp)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo < k->nold && k->old[lo][0] == fp && k->used[lo])
		lo++;
	if (!fp || lo >= k->nold || k->old[lo][0] != fp)
		return k->nold;
	return lo;
}

/* New rule j carries old rule i's total: its counts on every CPU and
 * what it carried itself. */
static void carry_rule(struct carry *k, uint32_t i, uint32_t j)
{
	for (uint32_t dir = 0; dir < 2; dir++) {
		struct pw_counter t = k->oi[i].carry[dir];
		for (uint32_t c = 0; c < k->ncpu; c++) {
			const struct pw_counter *v = &k->os[((size_t)i * 2 + dir) * k->ncpu + c];
			t.packets += v->packets;
			t.bytes += v->bytes;
		}
		k->ni[j].carry[dir] = t;
		k->ni[j].reset[dir] = k->oi[i].reset[dir];
	}
}

/* The new half's records 0..nnew, carries set, in one batch. */
static int write_new(const struct pw_dp *dp, struct carry *k, uint32_t to)
{
	for (uint32_t j = 0; j < k->nnew_ids; j++)
		k->keys[j] = to * k->cap + j;
	uint32_t count = k->nnew_ids;
	if (bpf_map_update_batch(dp->rules_fd, k->keys, k->ni, &count, NULL))
		return -errno;
	return 0;
}

int pw_dp_carry(struct pw_dp *dp, uint32_t from, uint32_t to, uint32_t nold, uint32_t nnew)
{
	return pw_dp_carry_fp(dp, from, to, nold, nnew, NULL);
}

int pw_dp_carry_fp(struct pw_dp *dp, uint32_t from, uint32_t to, uint32_t nold, uint32_t nnew, const uint64_t *fps)
{
	struct carry k;
	int rc = carry_alloc(&k, dp, nold, nnew);

	from &= 1;
	to &= 1;
	if (!rc)
		rc = carry_read(dp, &k, from, to, fps);
	if (!rc) {
		sort_old(&k, nold);
		for (uint32_t j = 0; j <= nnew; j++) {
			size_t lo = find_old(&k, k.ni[j].fingerprint);
			if (lo < k.nold) {
				k.used[lo] = true;
				carry_rule(&k, (uint32_t)k.old[lo][1], j);
			}
		}
		rc = write_new(dp, &k, to);
	}
	carry_free(&k);
	return rc;
}

int pw_dp_port_drops(const struct pw_dp *dp, uint32_t slot, __u64 *out)
{
	return percpu_sum(dp, dp->port_drops_fd, slot, out, 1);
}

int pw_dp_stats(const struct pw_dp *dp, struct pw_stats *out)
{
	return percpu_sum(dp, dp->stats_fd, 0, &out->events_sent, sizeof(*out) / sizeof(__u64));
}
