// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* clock.bpf.c - run once by the loader (BPF_PROG_TEST_RUN) whenever it
 * writes a half: the datapath's tick clock and the coarse monotonic clock
 * read at the same moment, so that the datapath can keep conntrack times
 * in CLOCK_MONOTONIC_COARSE without a helper call (pw_ct_now,
 * bpf/pw_clock.h). An XDP program, as the datapath's (a syscall program
 * may not read the coarse clock): it writes a struct pw_clock_sample over
 * the frame it is given, which the test run hands back. */
#include "pw_clock.h"

SEC("xdp")
int pw_clock(struct xdp_md *ctx)
{
	struct pw_clock_sample *s = (void *)(long)ctx->data;

	if ((void *)(s + 1) > (void *)(long)ctx->data_end)
		return XDP_ABORTED;
	s->tick_ns = pw_tick_len();
	s->jiffies = bpf_jiffies64();
	s->coarse_ns = bpf_ktime_get_coarse_ns();
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
