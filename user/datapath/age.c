/* age.c - make the datapath's state older without waiting: the `wait
 * SECONDS` of `portwall test` scripts and of the evasion corpus, on
 * private maps only (live maps belong to the traffic). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <bpf/bpf.h>

#include "datapath/loader.h"

/* Subtract ns from the u64 at offset off of every value of map fd (a
 * time in the past of bpf_ktime_get_coarse_ns). Returns how many. */
static int age_map(int fd, size_t ksize, size_t vsize, size_t off, uint64_t ns)
{
	uint8_t key[64], next[64], val[64];
	void *prev = NULL;
	int n = 0;

	if (fd < 0 || ksize > sizeof(key) || vsize > sizeof(val) || off + 8 > vsize)
		return -EINVAL;
	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		__builtin_memcpy(key, next, ksize);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, val))
			continue;
		uint64_t t;
		__builtin_memcpy(&t, val + off, 8);
		t = t > ns ? t - ns : 0;
		__builtin_memcpy(val + off, &t, 8);
		if (bpf_map_update_elem(fd, key, val, BPF_EXIST) == 0)
			n++;
	}
	return n;
}

int pw_dp_age(const struct pw_dp *dp, uint32_t secs)
{
	uint64_t ns = (uint64_t)secs * 1000000000ull;
	int a = age_map(dp->ct_fd, sizeof(struct pw_ct_key), sizeof(struct pw_ct_val),
			offsetof(struct pw_ct_val, last_ns), ns);
	int b = age_map(dp->ct_in_fd, sizeof(struct pw_ct_key), sizeof(struct pw_ct_val),
			offsetof(struct pw_ct_val, last_ns), ns);
	int c = age_map(dp->frags_fd, sizeof(struct pw_frag_key), sizeof(struct pw_frag_val),
			offsetof(struct pw_frag_val, last_ns), ns);
	int d = age_map(dp->frag_src_fd, sizeof(struct pw_frag_src_key), sizeof(struct pw_frag_src_val),
			offsetof(struct pw_frag_src_val, window_ns), ns);

	if (a < 0 || b < 0 || c < 0 || d < 0)
		return -EINVAL;
	return a + b + c + d;
}
