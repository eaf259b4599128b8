// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* empty.bpf.c - the floors: an XDP program that drops every frame unread,
 * and a tc program that passes every packet unread. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_drop_all(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("tc")
int tc_pass_all(struct __sk_buff *skb)
{
	return 0;	/* TC_ACT_OK */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
