/* clock.c - how the datapath reads the conntrack clock: the tick clock
 * (jiffies, a load the verifier inlines) and its offset from
 * CLOCK_MONOTONIC_COARSE, measured by running bpf/clock.bpf.c
 * (BPF_PROG_TEST_RUN) a few times and taking the median offset
 * (docs/datapath.md, "Connection tracking"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "clock.skel.h"
#include "datapath/loader.h"

/* samples per measurement: an odd count, so the median is one of them */
#define PW_CLOCK_SAMPLES 7

/* One test run: jiffies, the tick and the coarse clock read together. */
static int clock_sample(int prog_fd, struct pw_clock_sample *s)
{
	/* a frame of the minimum size a test run takes (an Ethernet header),
	 * the sample written over it */
	uint8_t in[64] = { 0 }, out[64];

	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = sizeof(in), .data_out = out,
		    .data_size_out = sizeof(out));
	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -errno;
	if (o.retval != 2 /* XDP_PASS */ || o.data_size_out < sizeof(*s))
		return -EIO;
	memcpy(s, out, sizeof(*s));
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* The offset modulo 2^64, as the datapath adds it. The two clocks step at
 * the same tick but not in one instant, so a sample taken between the two
 * steps is a tick off; the median of a few samples is not. */
int pw_dp_ct_clock(uint64_t *tick_ns, uint64_t *off)
{
	uint64_t offs[PW_CLOCK_SAMPLES];
	struct pw_clock_sample s = { 0 };
	struct clock_bpf *p = clock_bpf__open_and_load();
	int rc = 0, i;

	*tick_ns = *off = 0;
	if (!p)
		return -errno;
	for (i = 0; i < PW_CLOCK_SAMPLES; i++) {
		rc = clock_sample(bpf_program__fd(p->progs.pw_clock), &s);
		if (rc)
			break;
		offs[i] = s.coarse_ns - s.jiffies * s.tick_ns;
	}
	clock_bpf__destroy(p);
	if (rc || !s.tick_ns)
		return rc;
	qsort(offs, PW_CLOCK_SAMPLES, sizeof(offs[0]), cmp_u64);
	*tick_ns = s.tick_ns;
	*off = offs[PW_CLOCK_SAMPLES / 2];
	return 0;
}
