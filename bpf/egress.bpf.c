// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* egress.bpf.c - tc egress (clsact or tcx): every packet the host sends
 * on a protected interface. pw_egress for Ethernet devices, pw_egress_l3
 * for devices without a link-layer header (the packet starts at its IP
 * header at skb->data); the same maps. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#define PW_CTX struct __sk_buff
#define PW_DATA(c) ((void *)(long)(c)->data)
#define PW_DATA_END(c) ((void *)(long)(c)->data_end)
#define PW_LOAD_BYTES(c, off, to, len) bpf_skb_load_bytes(c, off, to, len)
#define PW_HOOK_DIR 1	/* PW_DIR_OUT */
#include "pw_judge.h"

/* headers the parser may need in the linear part of the skb */
#define PW_PULL_LEN 256

static __always_inline int pw_egress_any(struct __sk_buff *skb, const int l3)
{
	struct pw_hook h = { .wire_len = skb->len, .ifindex = skb->ifindex, .dir = PW_DIR_OUT };
	__u32 want = skb->len < PW_PULL_LEN ? skb->len : PW_PULL_LEN;

	if (skb->data_end - skb->data < want)
		bpf_skb_pull_data(skb, want);	/* on failure the parser sees less */
	return pw_judge(skb, &h, l3) == PW_PASS ? TC_ACT_OK : TC_ACT_SHOT;
}

/* The Ethernet program keeps its own body: written through the shared
 * helper it compiles to other registers and a different count. */
SEC("tc")
int pw_egress(struct __sk_buff *skb)
{
	struct pw_hook h = { .wire_len = skb->len, .ifindex = skb->ifindex, .dir = PW_DIR_OUT };
	__u32 want = skb->len < PW_PULL_LEN ? skb->len : PW_PULL_LEN;

	if (skb->data_end - skb->data < want)
		bpf_skb_pull_data(skb, want);	/* on failure the parser sees less */
	return pw_judge(skb, &h, 0) == PW_PASS ? TC_ACT_OK : TC_ACT_SHOT;
}

SEC("tc")
int pw_egress_l3(struct __sk_buff *skb)
{
	return pw_egress_any(skb, 1);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
