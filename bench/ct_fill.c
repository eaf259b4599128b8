/* ct_fill.c - `ct_fill PIN N`: put N tracked TCP flows the host opened
 * into the pinned pw_ct at PIN (198.51.100.0/24 and 203.0.113.0/24 peers,
 * ports 1024-65535 on both sides, last seen now), so that bench/reload.sh
 * can time a reload with that many live flows without making them with
 * packets. Data only: nothing is sent. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "portwall.h"

static void flow_key(unsigned long i, struct pw_ct_key *k)
{
	memset(k, 0, sizeof(*k));
	k->local[0] = 192, k->local[1] = 0, k->local[2] = 2, k->local[3] = 1;
	k->remote[0] = (i & 1) ? 203 : 198;
	k->remote[1] = (i & 1) ? 0 : 51;
	k->remote[2] = (i & 1) ? 113 : 100;
	k->remote[3] = (unsigned char)(1 + (i >> 1) % 254);
	unsigned long p = (i >> 1) / 254;	/* < 2^19 for N < 2^28 */
	k->lport_be = htons((uint16_t)(1024 + p % 64512));
	k->rport_be = htons((uint16_t)(1024 + p / 64512));
	k->proto = 6;
	k->fam = PW_FAM_V4;
	k->kind = PW_CT_FLOW;
}

int main(int argc, char **argv)
{
	char *end;
	unsigned long n = argc == 3 ? strtoul(argv[2], &end, 10) : 0;

	if (argc != 3 || *end || !n || n > (1ul << 26)) {
		fprintf(stderr, "usage: ct_fill PIN_OF_PW_CT N  (1 to 67108864 flows)\n");
		return 2;
	}
	int fd = bpf_obj_get(argv[1]);
	if (fd < 0) {
		fprintf(stderr, "ct_fill: opening %s failed: %s\n", argv[1], strerror(errno));
		return 1;
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);	/* the coarse clock the datapath reads, near enough */
	const unsigned long batch = 65536;
	struct pw_ct_key *keys = calloc(batch, sizeof(*keys));
	struct pw_ct_val *vals = calloc(batch, sizeof(*vals));
	if (!keys || !vals) {
		fprintf(stderr, "ct_fill: out of memory\n");
		return 1;
	}
	for (unsigned long i = 0; i < n;) {
		uint32_t k = (uint32_t)(n - i < batch ? n - i : batch);
		for (uint32_t j = 0; j < k; j++) {
			flow_key(i + j, &keys[j]);
			vals[j].last_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
			vals[j].flags = PW_CT_REPLIED;
			vals[j].dir = PW_DIR_OUT;
		}
		uint32_t count = k;
		if (bpf_map_update_batch(fd, keys, vals, &count, NULL)) {
			fprintf(stderr, "ct_fill: writing flows %lu-%lu failed: %s\n", i, i + k - 1, strerror(errno));
			return 1;
		}
		i += k;
	}
	free(keys);
	free(vals);
	printf("%lu flows written\n", n);
	return 0;
}
