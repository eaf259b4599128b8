/* stats.c - what status and the metrics file read from the maps. */
#include "datapath/stats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "policy/policy.h"

static int cmp_drop(const void *a, const void *b)
{
	const struct pw_port_drop *x = a, *y = b;
	return (x->packets < y->packets) - (x->packets > y->packets);
}

/* Sum pw_port_drops over CPUs for every slot; the n largest into top.
 * Returns how many were found, or -errno. */
int pw_top_drops(const struct pw_dp *dp, struct pw_port_drop *top, int n)
{
	uint32_t batch = 8192, out_batch = 0, count;
	__u32 *keys = malloc(batch * sizeof(*keys));
	__u64 *vals = malloc((size_t)batch * (size_t)dp->ncpus * sizeof(*vals));
	struct pw_port_drop *all = NULL;
	size_t nall = 0, cap = 0;
	void *in = NULL;
	int rc = 0;

	if (!keys || !vals)
		rc = -ENOMEM;
	while (rc == 0) {
		count = batch;
		int lr = bpf_map_lookup_batch(dp->port_drops_fd, in, &out_batch, keys, vals, &count, NULL);
		if (lr && errno != ENOENT) {
			rc = -errno;
			break;
		}
		for (uint32_t i = 0; i < count && rc == 0; i++) {
			uint64_t sum = 0;
			for (int c = 0; c < dp->ncpus; c++)
				sum += vals[(size_t)i * (size_t)dp->ncpus + (size_t)c];
			if (!sum)
				continue;
			if (nall == cap) {
				size_t nc = cap ? cap * 2 : 64;
				struct pw_port_drop *p = realloc(all, nc * sizeof(*p));
				if (!p) {
					rc = -ENOMEM;
					break;
				}
				all = p;
				cap = nc;
			}
			all[nall++] = (struct pw_port_drop){ keys[i], sum };
		}
		if (lr)
			break;	/* ENOENT: that was the last batch */
		in = &out_batch;
	}
	if (rc == 0) {
		if (nall)
			qsort(all, nall, sizeof(*all), cmp_drop);
		rc = (int)(nall < (size_t)n ? nall : (size_t)n);
		if (rc)
			memcpy(top, all, (size_t)rc * sizeof(*top));
	}
	free(all);
	free(keys);
	free(vals);
	return rc;
}

static uint32_t map_id(int fd)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

int pw_top_drops_cached(const struct pw_dp *dp, uint64_t drops, struct pw_drops_cache *c,
			struct pw_port_drop *top, int n)
{
	if (!c || n > PW_DROPS_CACHE_MAX)
		return pw_top_drops(dp, top, n);
	uint32_t id = map_id(dp->port_drops_fd);
	/* unchanged over the last two calls: the slots read at the last one
	 * have every drop counted until now (a map of the same id is the
	 * same map: ids are not reused while it lives) */
	bool same = id && c->map_id == id && c->seen[0] == drops && c->seen[1] == drops;
	c->seen[1] = c->seen[0];
	c->seen[0] = drops;
	if (!same) {
		int got = pw_top_drops(dp, c->top, PW_DROPS_CACHE_MAX);
		c->map_id = got < 0 ? 0 : id;
		c->n = got < 0 ? 0 : got;
		if (got < 0)
			return got;
	}
	int k = n < c->n ? n : c->n;
	memcpy(top, c->top, (size_t)k * sizeof(*top));
	return k;
}

/* "in tcp/443", "out icmpv6/echo-request", "in proto/47" */
void pw_slot_name(uint32_t slot, char *buf, size_t n)
{
	if (slot < PW_SLOT_ICMP_BASE) {
		snprintf(buf, n, "%s %s/%u", (slot >> 17) & 1 ? "out" : "in", (slot >> 16) & 1 ? "udp" : "tcp",
			 slot & 0xffff);
	} else if (slot < PW_SLOT_PROTO_BASE) {
		uint32_t r = slot - PW_SLOT_ICMP_BASE;
		bool v6 = (r >> 8) & 1;
		const char *t = pw_icmp_type_name(r & 0xff, v6);
		if (t)
			snprintf(buf, n, "%s %s/%s", (r >> 9) & 1 ? "out" : "in", v6 ? "icmpv6" : "icmp", t);
		else
			snprintf(buf, n, "%s %s/%u", (r >> 9) & 1 ? "out" : "in", v6 ? "icmpv6" : "icmp", r & 0xff);
	} else {
		uint32_t r = slot - PW_SLOT_PROTO_BASE;
		const char *p = pw_proto_name(r & 0xff);
		if (p)
			snprintf(buf, n, "%s %s", (r >> 8) & 1 ? "out" : "in", p);
		else
			snprintf(buf, n, "%s proto/%u", (r >> 8) & 1 ? "out" : "in", r & 0xff);
	}
}

/* Count by batches of keys: one system call for thousands of entries. -1
 * when the kernel has no batch lookup for the map. */
static int ct_count_batch(int fd)
{
	uint32_t batch = 4096, out_batch = 0, count;
	struct pw_ct_key *keys = malloc(batch * sizeof(*keys));
	struct pw_ct_val *vals = malloc(batch * sizeof(*vals));
	void *in = NULL;
	int n = 0;

	while (keys && vals) {
		count = batch;
		int lr = bpf_map_lookup_batch(fd, in, &out_batch, keys, vals, &count, NULL);
		if (lr && errno != ENOENT) {
			n = -1;
			break;
		}
		n += (int)count;
		if (lr)
			break;	/* ENOENT: the last batch */
		in = &out_batch;
	}
	if (!keys || !vals)
		n = -1;
	free(keys);
	free(vals);
	return n;
}

int pw_ct_entries(const struct pw_dp *dp, int t)
{
	struct pw_ct_key k, next;
	void *prev = NULL;
	int fd = pw_dp_ct_fd(dp, t);
	int n = ct_count_batch(fd);

	if (n >= 0)
		return n;
	n = 0;
	while (bpf_map_get_next_key(fd, prev, &next) == 0 && n < 100000000) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}
