// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* empty.bpf.c - the floor: an XDP program that drops every frame unread. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_drop_all(struct xdp_md *ctx)
{
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
