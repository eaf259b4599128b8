// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* ingress.bpf.c - XDP: every frame arriving on a protected interface. */
#include <linux/bpf.h>

#define PW_CTX struct xdp_md
#define PW_DATA(c) ((void *)(long)(c)->data)
#define PW_DATA_END(c) ((void *)(long)(c)->data_end)
#define PW_LOAD_BYTES(c, off, to, len) bpf_xdp_load_bytes(c, off, to, len)
#include "pw_judge.h"

SEC("xdp")
int pw_ingress(struct xdp_md *ctx)
{
	struct pw_hook h = {
		.wire_len = ctx->data_end - ctx->data,
		.ifindex = ctx->ingress_ifindex,
		.dir = PW_DIR_IN,
	};

	return pw_judge(ctx, &h) == PW_PASS ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
