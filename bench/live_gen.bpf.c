// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* live_gen.bpf.c - the packet generator of `make bench-live`. Run by
 * BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES on the sending end of a
 * veth pair: every run overwrites the frame with the next of up to
 * LIVE_MAX_FRAMES prebuilt variants (other sources, ports, flows) and
 * returns XDP_TX, which the kernel turns into a transmit out of that veth
 * to its peer, where the program under test sees it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "live.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LIVE_MAX_FRAMES);
	__type(key, __u32);
	__type(value, struct live_frame);
} frames SEC(".maps");

const volatile __u32 nframes = 1;	/* variants in use, set before load */
__u64 sent = 0;				/* frames handed to XDP_TX */

SEC("xdp")
int live_gen(struct xdp_md *ctx)
{
	__u64 *d = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 i = (__u32)(sent % nframes);
	struct live_frame *f = bpf_map_lookup_elem(&frames, &i);

	if (!f || (void *)(d + LIVE_FRAME_LEN / 8) > (void *)end)
		return XDP_ABORTED;
	/* a straight copy of 16 words: no loop for the verifier */
#pragma unroll
	for (int w = 0; w < LIVE_FRAME_LEN / 8; w++)
		d[w] = f->w[w];
	sent++;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
