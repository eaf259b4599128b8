/* age.c - make the datapath's state older without waiting: the `wait
 * SECONDS` of `portwall test` scripts and of the evasion corpus, on
 * private maps only (live maps belong to the traffic). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "datapath/loader.h"

/* Subtract ns from the u64 at offset off of every value of map fd (a
 * time in the past of bpf_ktime_get_coarse_ns; unsigned, as the
 * datapath's differences are, so it may lie before boot). The keys are collected
 * first: an update replaces a hash entry, and a walk that updated as it
 * went could meet the same entries again without end. Returns how many. */
static int age_map(int fd, size_t ksize, size_t vsize, size_t off, uint64_t ns)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	uint8_t val[64];
	void *prev = NULL;
	size_t nk = 0;
	int n = 0;

	if (fd < 0 || vsize > sizeof(val) || off + 8 > vsize || bpf_obj_get_info_by_fd(fd, &info, &len))
		return -EINVAL;
	uint8_t *keys = malloc((size_t)info.max_entries * ksize + ksize);
	if (!keys)
		return -ENOMEM;
	while (nk < info.max_entries && bpf_map_get_next_key(fd, prev, keys + nk * ksize) == 0)
		prev = keys + nk++ * ksize;
	for (size_t i = 0; i < nk; i++) {
		uint64_t t;
		if (bpf_map_lookup_elem(fd, keys + i * ksize, val))
			continue;
		memcpy(&t, val + off, 8);
		t -= ns;	/* wraps on a machine up less than ns: every `now - t` still comes out right */
		memcpy(val + off, &t, 8);
		n += bpf_map_update_elem(fd, keys + i * ksize, val, BPF_EXIST) == 0;
	}
	free(keys);
	return n;
}

int pw_dp_age(const struct pw_dp *dp, uint32_t secs)
{
	uint64_t ns = (uint64_t)secs * 1000000000ull;
	int n = 0, bad = 0;

	for (int t = 0; t < PW_CT_TABLE_COUNT; t++) {
		int a = age_map(pw_dp_ct_fd(dp, t), sizeof(struct pw_ct_key), sizeof(struct pw_ct_val),
				offsetof(struct pw_ct_val, last_ns), ns);
		bad |= a < 0;
		n += a;
	}
	int c = age_map(dp->frags_fd, sizeof(struct pw_frag_key), sizeof(struct pw_frag_val),
			offsetof(struct pw_frag_val, last_ns), ns);
	int d = age_map(dp->frag_src_fd, sizeof(struct pw_frag_src_key), sizeof(struct pw_frag_src_val),
			offsetof(struct pw_frag_src_val, window_ns), ns);

	if (bad || c < 0 || d < 0)
		return -EINVAL;
	return n + c + d;
}
