// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* ingress.bpf.c - XDP: every frame arriving on a protected interface.
 * Two programs on the same maps: pw_ingress for devices whose frames start
 * at an Ethernet header, pw_ingress_l3 for devices without a link-layer
 * header, whose frames start at the IP header (docs/datapath.md). */
#include <linux/bpf.h>

#define PW_CTX struct xdp_md
#define PW_DATA(c) ((void *)(long)(c)->data)
#define PW_DATA_END(c) ((void *)(long)(c)->data_end)
#define PW_LOAD_BYTES(c, off, to, len) bpf_xdp_load_bytes(c, off, to, len)
#define PW_HOOK_DIR 0	/* PW_DIR_IN */
#include "pw_judge.h"

static __always_inline int pw_ingress_any(struct xdp_md *ctx, const int l3)
{
	struct pw_hook h = {
		.wire_len = ctx->data_end - ctx->data,
		.ifindex = ctx->ingress_ifindex,
		.dir = PW_DIR_IN,
	};

	return pw_judge(ctx, &h, l3) == PW_PASS ? XDP_PASS : XDP_DROP;
}

/* The Ethernet program keeps its own body: written through the shared
 * helper it compiles to other registers and a different count. */
SEC("xdp")
int pw_ingress(struct xdp_md *ctx)
{
	struct pw_hook h = {
		.wire_len = ctx->data_end - ctx->data,
		.ifindex = ctx->ingress_ifindex,
		.dir = PW_DIR_IN,
	};

	return pw_judge(ctx, &h, 0) == PW_PASS ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int pw_ingress_l3(struct xdp_md *ctx)
{
	return pw_ingress_any(ctx, 1);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
