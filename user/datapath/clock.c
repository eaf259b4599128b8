/* clock.c - how the datapath reads the conntrack clock: the tick clock
 * (jiffies, a load the verifier inlines) and its offset from
 * CLOCK_MONOTONIC_COARSE, measured by running bpf/clock.bpf.c once
 * (BPF_PROG_TEST_RUN)
 * (docs/datapath.md, "Connection tracking"). */
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "clock.skel.h"
#include "datapath/loader.h"

int pw_dp_ct_clock(uint64_t *tick_ns, uint64_t *off)
{
	/* a frame of the minimum size a test run takes (an Ethernet header),
	 * the sample written over it */
	uint8_t in[64] = { 0 }, out[64];
	struct pw_clock_sample s;
	struct clock_bpf *p = clock_bpf__open_and_load();
	int rc = 0;

	*tick_ns = *off = 0;
	if (!p)
		return -errno;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = sizeof(in), .data_out = out,
		    .data_size_out = sizeof(out));
	if (bpf_prog_test_run_opts(bpf_program__fd(p->progs.pw_clock), &o))
		rc = -errno;
	else if (o.retval != 2 /* XDP_PASS */ || o.data_size_out < sizeof(s))
		rc = -EIO;
	else {
		memcpy(&s, out, sizeof(s));
		if (s.tick_ns) {
			*tick_ns = s.tick_ns;
			*off = s.coarse_ns - s.jiffies * s.tick_ns;	/* modulo 2^64, as the datapath adds it */
		}
	}
	clock_bpf__destroy(p);
	return rc;
}
