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

int pw_ct_entries(const struct pw_dp *dp, bool in_origin)
{
	struct pw_ct_key k, next;
	void *prev = NULL;
	int n = 0, fd = in_origin ? dp->ct_in_fd : dp->ct_fd;

	while (bpf_map_get_next_key(fd, prev, &next) == 0 && n < 100000000) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

