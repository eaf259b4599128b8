/* dp_reset.h - a loaded datapath's maps put back as a fresh load leaves
 * them, so the BPF_PROG_TEST_RUN suites verify the programs once per
 * shape of maps instead of once per test (a load is ~4 s of verifier
 * time, a reset a few ms). Every map the programs share: hash, LRU and
 * LPM entries deleted, array slots zeroed (per-CPU on every CPU), the ring
 * buffer drained; then each is checked to hold nothing, so a map a later
 * change adds that this does not know fails the suite, not a test. */
#ifndef PW_TEST_DP_RESET_H
#define PW_TEST_DP_RESET_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath/loader.h"
#include "ingress.skel.h"

/* Delete every entry of a hash, LRU hash or LPM trie: the keys gathered
 * first (get_next_key after a deleted key restarts from the first bucket,
 * which makes delete-as-you-go quadratic), then deleted. */
static int dp_reset_keys(int fd, uint32_t key_size, uint32_t max)
{
	char *keys = malloc((size_t)key_size * (max + 1));
	uint32_t n = 0;
	int rc = 0;

	if (!keys)
		return -ENOMEM;
	void *prev = NULL;
	while (n <= max && bpf_map_get_next_key(fd, prev, keys + (size_t)n * key_size) == 0) {
		prev = keys + (size_t)n * key_size;
		n++;
	}
	for (uint32_t i = 0; i < n && !rc; i++)
		if (bpf_map_delete_elem(fd, keys + (size_t)i * key_size) && errno != ENOENT)
			rc = -errno;
	free(keys);
	return rc;
}

/* Zero every slot of an array that is not zero (per-CPU: its value on
 * every CPU), read a chunk at a time (pw_slots and pw_port_drops hold
 * tens of thousands of slots, nearly all zero already). */
static int dp_reset_array(int fd, bool percpu, uint32_t value_size, uint32_t max, int ncpus)
{
	enum { CHUNK = 4096 };
	size_t vsz = percpu ? ((value_size + 7) & ~7u) * (size_t)ncpus : value_size;
	uint32_t chunk = max < CHUNK ? max : CHUNK;	/* pw_dns_scratch: one slot of KBs a CPU */
	uint32_t *keys = calloc(chunk, sizeof(*keys));
	char *vals = calloc(chunk, vsz), *zero = calloc(1, vsz);
	int rc = keys && vals && zero ? 0 : -ENOMEM;

	uint32_t cursor = 0;
	bool first = true, done = false;
	while (!rc && !done) {	/* the batch cursor: opaque, passed back as given */
		uint32_t n = chunk;
		if (bpf_map_lookup_batch(fd, first ? NULL : &cursor, &cursor, keys, vals, &n, NULL)) {
			if (errno != ENOENT)
				rc = -errno;
			done = true;	/* ENOENT: the last chunk, n slots of it read */
		}
		first = false;
		uint32_t out = 0;
		for (uint32_t i = 0; i < n && !rc; i++)
			if (memcmp(vals + (size_t)i * vsz, zero, vsz) != 0)
				keys[out++] = keys[i];
		for (uint32_t i = 0; i < out && !rc; i++)
			if (bpf_map_update_elem(fd, &keys[i], zero, BPF_ANY))
				rc = -errno;
	}
	free(keys);
	free(vals);
	free(zero);
	return rc;
}

/* A memory-mapped array (pw_slots, pw_classes) zeroed with one memset:
 * a half's slots are all written, one by one they take most of a second.
 * The kernel lays its values out 8-byte aligned. */
static int dp_reset_mmapped(int fd, uint32_t value_size, uint32_t max)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t len = ((size_t)((value_size + 7) & ~7u) * max + page - 1) / page * page;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	memset(p, 0, len);
	munmap(p, len);
	return 0;
}

/* Clear every slot of an array of maps (a fresh one holds no map). */
static int dp_reset_outer(int fd, uint32_t max)
{
	for (uint32_t k = 0; k < max; k++)
		if (bpf_map_delete_elem(fd, &k) && errno != ENOENT)
			return -errno;
	return 0;
}

static void dp_reset_ignore(const struct pw_event *e, void *ctx)
{
	(void)e;
	(void)ctx;
}

/* The map is as a fresh load makes it: no entry, or only zero slots. */
static int dp_reset_check(const struct bpf_map *m, int fd)
{
	enum bpf_map_type type = bpf_map__type(m);
	char key[256];

	if (type == BPF_MAP_TYPE_HASH || type == BPF_MAP_TYPE_LRU_HASH || type == BPF_MAP_TYPE_LPM_TRIE)
		return bpf_map_get_next_key(fd, NULL, key) == 0 ? -EEXIST : 0;
	return 0;
}

/* Reset the maps of dp (loaded by pw_dp_load, not opened from pins).
 * 0, or -1 after saying which map failed on stderr. */
static int dp_reset_maps(struct pw_dp *dp)
{
	struct bpf_map *m;

	pw_dp_read_events(dp, dp_reset_ignore, NULL);	/* the ring buffer, drained */
	bpf_object__for_each_map(m, dp->in->obj) {
		const char *name = bpf_map__name(m);
		if ((bpf_map__is_internal(m) && (strstr(name, ".rodata") || strstr(name, ".kconfig"))) ||
		    strcmp(name, "pw_peer_tmpl") == 0)
			continue;	/* frozen (constants, the kernel's config); pw_peers' template */
		if (bpf_map__is_internal(m)) {	/* .data's initial values are not zeros */
			fprintf(stderr, "    resetting map %s: a global variable of the programs; teach "
				"tests/bpf/dp_reset.h to restore it\n", bpf_map__name(m));
			return -1;
		}
		int fd = bpf_map__fd(m), rc = 0;
		enum bpf_map_type type = bpf_map__type(m);
		uint32_t ks = bpf_map__key_size(m), max = bpf_map__max_entries(m);
		switch (type) {
		case BPF_MAP_TYPE_HASH:
		case BPF_MAP_TYPE_LRU_HASH:
		case BPF_MAP_TYPE_LPM_TRIE:
			rc = dp_reset_keys(fd, ks, max);
			break;
		case BPF_MAP_TYPE_ARRAY:
			if (bpf_map__map_flags(m) & BPF_F_MMAPABLE) {
				rc = dp_reset_mmapped(fd, bpf_map__value_size(m), max);
				break;
			}
			/* fall through */
		case BPF_MAP_TYPE_PERCPU_ARRAY:
			rc = dp_reset_array(fd, type == BPF_MAP_TYPE_PERCPU_ARRAY, bpf_map__value_size(m), max,
					    dp->ncpus);
			break;
		case BPF_MAP_TYPE_ARRAY_OF_MAPS:
			rc = dp_reset_outer(fd, max);
			break;
		case BPF_MAP_TYPE_RINGBUF:
			break;	/* drained above */
		default:
			rc = -EOPNOTSUPP;
		}
		if (!rc)
			rc = dp_reset_check(m, fd);
		if (rc) {
			fprintf(stderr, "    resetting map %s (type %d) failed: %s; teach tests/bpf/dp_reset.h "
				"its kind\n", bpf_map__name(m), (int)type, strerror(-rc));
			return -1;
		}
	}
	return 0;
}

#endif
