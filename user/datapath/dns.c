/* dns.c - the host names of a half (pw_names, pw_resolvers), what the
 * datapath learned from DNS answers (pw_learned) and its counters
 * (docs/dns.md). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "datapath/loader.h"
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

int pw_dp_write_names(struct pw_dp *dp, uint32_t half, const struct pw_dp_names *nm, char *err, size_t n)
{
	int rc = clear_half(dp->names_fd, sizeof(struct pw_name_key), offsetof(struct pw_name_key, half), half,
			    PW_NAMES_CAPACITY);
	if (!rc)
		rc = clear_half(dp->resolvers_fd, sizeof(struct pw_resolver_key),
				offsetof(struct pw_resolver_key, half), half, 2 * PW_RESOLVERS_MAX);
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
	return 0;
}

int pw_dp_dns_stats(const struct pw_dp *dp, struct pw_dns_stats *out)
{
	struct pw_dns_stats *v = calloc((size_t)dp->ncpus, sizeof(*v));
	uint32_t zero = 0;

	memset(out, 0, sizeof(*out));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(dp->dns_stats_fd, &zero, v)) {
		int rc = -errno;
		free(v);
		return rc;
	}
	for (int c = 0; c < dp->ncpus; c++) {
		const __u64 *f = (const __u64 *)&v[c];
		__u64 *t = (__u64 *)out;
		for (size_t i = 0; i < sizeof(*out) / sizeof(__u64); i++)
			t[i] += f[i];
	}
	free(v);
	return 0;
}
