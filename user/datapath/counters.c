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
	[PW_R_DROP_DEFAULT] = "default",
	[PW_R_DROP_DENY] = "deny-rule",
	[PW_R_DROP_MALFORMED] = "malformed",
	[PW_R_DROP_FRAGMENT] = "fragment",
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

int pw_dp_carry(struct pw_dp *dp, uint32_t from, uint32_t to, uint32_t nold, uint32_t nnew)
{
	uint32_t cap = dp->rule_capacity, ncpu = (uint32_t)dp->ncpus;
	struct pw_rule_info *oi = calloc(cap, sizeof(*oi)), *ni = calloc(cap, sizeof(*ni));
	struct pw_counter *os = calloc((size_t)2 * cap * ncpu, sizeof(*os));
	uint64_t (*old)[2] = calloc(cap, sizeof(*old));
	bool *used = calloc(cap, sizeof(*used));
	uint32_t *keys = malloc(cap * sizeof(*keys));
	int rc = 0;

	if (!oi || !ni || !os || !old || !used || !keys) {
		rc = -ENOMEM;
		goto out;
	}
	if (nnew >= cap) {
		rc = -ERANGE;
		goto out;
	}
	if (nold >= cap)
		nold = cap - 1;
	from &= 1;
	to &= 1;
	/* both halves' rule records and the old half's counters, in bulk */
	rc = read_range(dp->rules_fd, from * cap, cap, oi);
	if (!rc)
		rc = read_range(dp->rules_fd, to * cap, cap, ni);
	if (!rc)
		rc = read_range(dp->rule_stats_fd, from * 2 * cap, 2 * cap, os);
	if (rc)
		goto out;
	uint32_t n = 0;
	for (uint32_t i = 0; i <= nold; i++) {
		if (i > 0 && oi[i].fingerprint == 0)
			break;	/* past the old policy's last rule */
		old[n][0] = oi[i].fingerprint;
		old[n][1] = i;
		n++;
	}
	qsort(old, n, sizeof(*old), cmp_fp);
	for (uint32_t j = 0; j <= nnew; j++) {
		uint64_t fp = ni[j].fingerprint;
		size_t lo = 0, hi = n;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (old[mid][0] < fp)
				lo = mid + 1;
			else
				hi = mid;
		}
		while (lo < n && old[lo][0] == fp && used[lo])
			lo++;
		if (!fp || lo >= n || old[lo][0] != fp)
			continue;
		used[lo] = true;
		uint32_t i = (uint32_t)old[lo][1];
		for (uint32_t dir = 0; dir < 2; dir++) {
			struct pw_counter t = oi[i].carry[dir];
			for (uint32_t c = 0; c < ncpu; c++) {
				const struct pw_counter *v = &os[((size_t)i * 2 + dir) * ncpu + c];
				t.packets += v->packets;
				t.bytes += v->bytes;
			}
			ni[j].carry[dir] = t;
		}
	}
	for (uint32_t j = 0; j < cap; j++)
		keys[j] = to * cap + j;
	uint32_t count = nnew + 1;
	if (bpf_map_update_batch(dp->rules_fd, keys, ni, &count, NULL))
		rc = -errno;
out:
	free(oi);
	free(ni);
	free(os);
	free(old);
	free(used);
	free(keys);
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
