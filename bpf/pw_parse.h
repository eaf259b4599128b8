/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* pw_parse.h - packet parsing for both hooks: one small function per
 * header, every read bounds-checked, every length field checked against
 * what the packet really holds. What is not supported is decided here:
 * a third VLAN tag, IPv4 with IHL < 5 or an inconsistent total length, IPv6
 * jumbograms, more than PW_IPV6_EXT_MAX extension headers, hop-by-hop
 * anywhere but first, TCP data offset < 5 or past the segment, truncated L4
 * headers (a "tiny" first fragment included) are all malformed.
 *
 * The program that includes this file defines its context first:
 *   PW_CTX          struct xdp_md / struct __sk_buff
 *   PW_DATA(c)      start of the frame
 *   PW_DATA_END(c)  end of the directly readable part
 *   PW_LOAD_BYTES(c, off, to, len)   the hook's load-bytes helper
 * The IPv6 extension walk is a global function that takes the context and
 * scalar offsets: the verifier checks its loop once, instead of once for
 * every combination of VLAN tags and header lengths. The rest is inlined
 * (a global call costs about 35 ns a packet; see pw_judge.h). */
#ifndef PW_PARSE_H
#define PW_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "portwall.h"

#define PW_VLAN_MAX 2
#define PW_IPV6_EXT_MAX 8
/* Header offsets past PW_OFF_MAX are malformed (no real header chain is that
 * long); the mask only tells the verifier what the check already ensured. */
#define PW_OFF_MAX 0x3fff

/* x &= mask in a way the compiler cannot drop after a range check it has
 * already seen (the verifier needs the AND to know the range). */
#define PW_BOUND(x, mask) asm volatile("%0 &= " #mask : "+r"(x))

#ifndef ETH_P_8021Q
#define ETH_P_8021Q 0x8100
#endif
#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

enum pw_parse_res {
	PW_PARSE_OK = 0,
	PW_PARSE_NON_IP,
	PW_PARSE_MALFORMED,
};

enum pw_frag {
	PW_FRAG_NONE = 0,
	PW_FRAG_FIRST,		/* offset 0, more fragments follow */
	PW_FRAG_LATER,		/* offset > 0: no L4 header here */
};

struct pw_pkt {
	__u8 fam;		/* PW_FAM_V4 / PW_FAM_V6 */
	__u8 proto;		/* upper-layer protocol */
	__u8 frag;		/* enum pw_frag */
	__u8 tcp_flags;
	__u8 icmp_type;
	__u8 icmp_code;
	__u16 vlan;		/* outer VLAN id, 0 when untagged */
	__u16 sport_be;		/* TCP/UDP ports; ICMP echo: sport_be = id */
	__u16 dport_be;
	__u32 frag_id;
	__u8 frag_proto;	/* fragments: the protocol every fragment names
				 * (IPv4 header; IPv6 fragment header's next) */
	__u8 pad0;
	__u16 l4_off;		/* UDP: the header's offset (DNS reads past it) */
	__u32 pad1;		/* the addresses 8-byte aligned: keys copy them in words */
	__u8 src[16];
	__u8 dst[16];
	/* ICMP errors: the quoted packet's header (in_ok = 1 when read) */
	__u8 in_ok;
	__u8 in_proto;
	__u8 in_type;		/* quoted ICMP type */
	__u8 pad;
	__u16 in_sport_be;	/* quoted ports; quoted ICMP echo: id */
	__u16 in_dport_be;
	__u8 in_src[16];
	__u8 in_dst[16];
} __attribute__((aligned(8)));

/* ICMP(v6) types the datapath looks at */
#define PW_ICMP_ECHO_REPLY 0
#define PW_ICMP_DEST_UNREACH 3
#define PW_ICMP_ECHO_REQUEST 8
#define PW_ICMP_TIME_EXCEEDED 11
#define PW_ICMP_PARAM_PROB 12
#define PW_ICMP6_DEST_UNREACH 1
#define PW_ICMP6_PKT_TOOBIG 2
#define PW_ICMP6_TIME_EXCEEDED 3
#define PW_ICMP6_PARAM_PROB 4
#define PW_ICMP6_ECHO_REQUEST 128
#define PW_ICMP6_ECHO_REPLY 129

#define PW_IPPROTO_HOPOPTS 0
#define PW_IPPROTO_ROUTING 43
#define PW_IPPROTO_FRAGMENT 44
#define PW_IPPROTO_AH 51
#define PW_IPPROTO_DSTOPTS 60

/* An IPv4 address into a 16-byte address field of struct pw_pkt (8-byte
 * aligned), zero-filled: one load, three stores. The packet's word is read
 * unaligned (fine on the hosts XDP runs on, as the fast path's reads). */
static __always_inline void pw_copy4(__u8 *dst, const void *src)
{
	__u32 a = *(const __u32 *)src;

	((__u32 *)dst)[0] = a;
	((__u32 *)dst)[1] = 0;
	((__u64 *)dst)[1] = 0;
}

/* A 16-byte address between two 8-byte aligned fields (struct pw_pkt,
 * struct pw_ct_key), in two words: a byte-wise memcpy where the compiler
 * loses the alignment costs 47 instructions. */
static __always_inline void pw_copy16(__u8 *dst, const __u8 *src)
{
	((__u64 *)dst)[0] = ((const __u64 *)src)[0];
	((__u64 *)dst)[1] = ((const __u64 *)src)[1];
}

/* The ICMP errors whose quote is read: those that quote the packet they
 * are about right after their 8-byte header (RFC 792, RFC 4443), the ones
 * nf_conntrack calls related but redirect and source quench. */
static __always_inline int pw_icmp_error_type(__u8 fam, __u8 type)
{
	if (fam == PW_FAM_V4)
		return type == PW_ICMP_DEST_UNREACH || type == PW_ICMP_TIME_EXCEEDED ||
		       type == PW_ICMP_PARAM_PROB;
	return type == PW_ICMP6_DEST_UNREACH || type == PW_ICMP6_PKT_TOOBIG ||
	       type == PW_ICMP6_TIME_EXCEEDED || type == PW_ICMP6_PARAM_PROB;
}

static __always_inline int pw_is_ext(__u8 nh)
{
	return nh == PW_IPPROTO_HOPOPTS || nh == PW_IPPROTO_ROUTING || nh == PW_IPPROTO_DSTOPTS ||
	       nh == PW_IPPROTO_AH || nh == PW_IPPROTO_FRAGMENT;
}

/* The packet an ICMP error quotes: its addresses and the first 8 bytes of
 * its L4 header (all an error is sure to carry). Quotes that are cut short
 * (by the frame or by the error's own datagram: `left` bytes of it follow
 * the ICMP header; Ethernet padding is not a quote), of a later fragment,
 * or carry IPv6 extension headers other than one fragment header right
 * after the fixed header are simply not read (in_ok = 0). */
static __always_inline void pw_parse_quote(struct pw_pkt *p, void *inner, void *data_end, long left)
{
	__u8 *l4;
	long need;

	if (p->fam == PW_FAM_V4) {
		struct iphdr *iph = inner;
		if ((void *)(iph + 1) > data_end || iph->version != 4 || iph->ihl < 5)
			return;
		if (bpf_ntohs(iph->frag_off) & 0x1fff)
			return;
		need = iph->ihl * 4 + 8;
		l4 = inner + iph->ihl * 4;
		p->in_proto = iph->protocol;
		pw_copy4(p->in_src, &iph->saddr);
		pw_copy4(p->in_dst, &iph->daddr);
	} else {
		struct ipv6hdr *ip6 = inner;
		if ((void *)(ip6 + 1) > data_end || ip6->version != 6)
			return;
		need = sizeof(*ip6) + 8;
		l4 = (__u8 *)(ip6 + 1);
		p->in_proto = ip6->nexthdr;
		if (p->in_proto == PW_IPPROTO_FRAGMENT) {
			/* a first fragment (what a reassembly timeout quotes):
			 * its L4 header follows the fragment header */
			if ((void *)(l4 + 8) > data_end || (((__u16)l4[2] << 8 | l4[3]) & 0xfff8))
				return;
			p->in_proto = l4[0];
			l4 += 8;
			need += 8;
		}
		if (pw_is_ext(p->in_proto))
			return;
		__builtin_memcpy(p->in_src, &ip6->saddr, 16);
		__builtin_memcpy(p->in_dst, &ip6->daddr, 16);
	}
	if ((void *)(l4 + 8) > data_end || need > left)
		return;
	p->in_type = l4[0];
	if (p->in_proto == IPPROTO_ICMP || p->in_proto == IPPROTO_ICMPV6) {
		__builtin_memcpy(&p->in_sport_be, l4 + 4, 2);
	} else {
		__builtin_memcpy(&p->in_sport_be, l4, 2);
		__builtin_memcpy(&p->in_dport_be, l4 + 2, 2);
	}
	p->in_ok = 1;
}

/* DCCP, SCTP, UDP-Lite: ports first, as TCP and UDP, and their flows are
 * tracked by them; a header shorter than `need` is malformed. */
static __always_inline int pw_parse_ports(struct pw_pkt *p, void *l4, void *data_end, long avail, long need)
{
	__u16 *ports = l4;

	if ((void *)(ports + 2) > data_end || l4 + need > data_end || avail < need)
		return PW_PARSE_MALFORMED;
	p->sport_be = ports[0];
	p->dport_be = ports[1];
	return PW_PARSE_OK;
}

/* The L4 header at offset off; the IP payload ends at offset end (which,
 * on egress, may lie past the linear data). */
static __always_inline int pw_parse_l4(PW_CTX *ctx, __u32 off, __u32 end, struct pw_pkt *p)
{
	void *data, *data_end;

	if (!ctx || !p)
		return PW_PARSE_MALFORMED;
	if (p->frag == PW_FRAG_LATER)
		return PW_PARSE_OK;
	data = PW_DATA(ctx);
	data_end = PW_DATA_END(ctx);
	if (off > PW_OFF_MAX || off > end)
		return PW_PARSE_MALFORMED;
	PW_BOUND(off, 0x3fff);
	PW_BOUND(end, 0x1ffff);
	long avail = (long)(end - off);
	void *l4 = data + off;

	switch (p->proto) {
	case IPPROTO_TCP: {
		struct tcphdr *th = l4;
		if ((void *)(th + 1) > data_end || avail < (long)sizeof(*th))
			return PW_PARSE_MALFORMED;
		__u32 doff = th->doff;
		if (doff < 5 || (long)(doff * 4) > avail)
			return PW_PARSE_MALFORMED;
		p->sport_be = th->source;
		p->dport_be = th->dest;
		p->tcp_flags = ((__u8 *)th)[13];
		return PW_PARSE_OK;
	}
	case IPPROTO_UDP: {
		struct udphdr *uh = l4;
		if ((void *)(uh + 1) > data_end || avail < (long)sizeof(*uh))
			return PW_PARSE_MALFORMED;
		__u16 ulen = bpf_ntohs(uh->len);
		/* a fragment's UDP length covers the whole datagram */
		if (ulen < sizeof(*uh) || (p->frag == PW_FRAG_NONE && (long)ulen > avail))
			return PW_PARSE_MALFORMED;
		p->sport_be = uh->source;
		p->dport_be = uh->dest;
		p->l4_off = (__u16)off;
		return PW_PARSE_OK;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		/* every ICMP message has at least 8 bytes of header */
		__u8 *ih = l4;
		if ((void *)(ih + 8) > data_end || avail < 8)
			return PW_PARSE_MALFORMED;
		if ((p->proto == IPPROTO_ICMP) != (p->fam == PW_FAM_V4))
			return PW_PARSE_MALFORMED;	/* ICMPv4 in IPv6 or the reverse */
		p->icmp_type = ih[0];
		p->icmp_code = ih[1];
		__builtin_memcpy(&p->sport_be, ih + 4, 2);	/* echo id */
		if (pw_icmp_error_type(p->fam, p->icmp_type))
			pw_parse_quote(p, ih + 8, data_end, avail - 8);
		return PW_PARSE_OK;
	}
	case IPPROTO_UDPLITE:
		return pw_parse_ports(p, l4, data_end, avail, 8);
	case IPPROTO_DCCP:
	case IPPROTO_SCTP:
		return pw_parse_ports(p, l4, data_end, avail, 12);
	default:
		return PW_PARSE_OK;
	}
}

/* IPv6 extension headers from offset off (just past the fixed header) to
 * the payload's end, then the L4 header. Headers are read with the hook's
 * load-bytes helper; plain IPv6 reads none. */
__noinline int pw_parse_ipv6_ext(PW_CTX *ctx, __u32 off, __u32 end, struct pw_pkt *p)
{
	__u8 nh;

	if (!ctx || !p)
		return PW_PARSE_MALFORMED;
	nh = p->proto;
	for (int i = 0; i < PW_IPV6_EXT_MAX && pw_is_ext(nh); i++) {
		__u8 h[8];
		__u32 len;
		if (nh == PW_IPPROTO_HOPOPTS && i != 0)
			return PW_PARSE_MALFORMED;	/* only right after the header */
		if (off > PW_OFF_MAX || off + 8 > end)
			return PW_PARSE_MALFORMED;
		PW_BOUND(off, 0x3fff);
		if (PW_LOAD_BYTES(ctx, off, h, 8) < 0)
			return PW_PARSE_MALFORMED;
		if (nh == PW_IPPROTO_FRAGMENT) {
			__u16 fo = ((__u16)h[2] << 8) | h[3];
			p->frag_id = ((__u32)h[4] << 24) | ((__u32)h[5] << 16) | ((__u32)h[6] << 8) | h[7];
			/* what follows the fragment header: in a later fragment
			 * only this is known, so every fragment is keyed by it */
			p->frag_proto = h[0];
			if (fo & 0xfff8)
				p->frag = PW_FRAG_LATER;
			else if (fo & 1)
				p->frag = PW_FRAG_FIRST;
			/* offset 0 and no more fragments: an atomic fragment,
			 * judged as a whole packet */
			len = 8;
		} else if (nh == PW_IPPROTO_AH) {
			len = ((__u32)h[1] + 2) * 4;
		} else {
			len = ((__u32)h[1] + 1) * 8;
		}
		if (off + len > end)
			return PW_PARSE_MALFORMED;
		nh = h[0];
		off += len;
		if (p->frag == PW_FRAG_LATER) {
			p->proto = nh;	/* what follows is not a header */
			return PW_PARSE_OK;
		}
	}
	if (pw_is_ext(nh))
		return PW_PARSE_MALFORMED;	/* still a header after the bound */
	p->proto = nh;
	return pw_parse_l4(ctx, off, end, p);
}

static __always_inline int pw_parse_ipv4(PW_CTX *ctx, struct pw_pkt *p, void *data, void *data_end,
					 __u32 l3off, long wire_left)
{
	struct iphdr *iph = data + l3off;

	if ((void *)(iph + 1) > data_end)
		return PW_PARSE_MALFORMED;
	if (iph->version != 4 || iph->ihl < 5)
		return PW_PARSE_MALFORMED;
	__u32 hlen = iph->ihl * 4;
	__u32 tot = bpf_ntohs(iph->tot_len);
	if (tot < hlen || (long)tot > wire_left)
		return PW_PARSE_MALFORMED;
	p->fam = PW_FAM_V4;
	p->proto = iph->protocol;
	pw_copy4(p->src, &iph->saddr);
	pw_copy4(p->dst, &iph->daddr);
	__u16 fo = bpf_ntohs(iph->frag_off);
	if (fo & 0x1fff)
		p->frag = PW_FRAG_LATER;
	else if (fo & 0x2000)
		p->frag = PW_FRAG_FIRST;
	p->frag_id = bpf_ntohs(iph->id);
	p->frag_proto = iph->protocol;
	return pw_parse_l4(ctx, l3off + hlen, l3off + tot, p);
}

static __always_inline int pw_v4mapped(const struct in6_addr *a)
{
	return (a->in6_u.u6_addr32[0] | a->in6_u.u6_addr32[1]) == 0 &&
	       a->in6_u.u6_addr32[2] == bpf_htonl(0x0000ffff);
}

static __always_inline int pw_parse_ipv6(PW_CTX *ctx, struct pw_pkt *p, void *data, void *data_end,
					 __u32 l3off, long wire_left)
{
	struct ipv6hdr *ip6 = data + l3off;

	if ((void *)(ip6 + 1) > data_end)
		return PW_PARSE_MALFORMED;
	if (ip6->version != 6)
		return PW_PARSE_MALFORMED;
	__u32 plen = bpf_ntohs(ip6->payload_len);
	if (plen == 0 || (long)(plen + sizeof(*ip6)) > wire_left)
		return PW_PARSE_MALFORMED;	/* jumbograms are not supported */
	/* IPv4-mapped addresses (::ffff:a.b.c.d) are a socket API's notation,
	 * never an address on the wire (RFC 4291 2.5.5.2, RFC 5156 2.2): a
	 * packet carrying one is forged to borrow an IPv4 peer's standing, or
	 * to make the host answer over IPv4. Malformed, as BSD stacks do. */
	p->fam = PW_FAM_V6;
	p->proto = ip6->nexthdr;
	__builtin_memcpy(p->src, &ip6->saddr, 16);
	__builtin_memcpy(p->dst, &ip6->daddr, 16);
	if (pw_v4mapped(&ip6->saddr) || pw_v4mapped(&ip6->daddr))
		return PW_PARSE_MALFORMED;	/* after the copy: the drop event shows them */
	__u32 off = l3off + sizeof(*ip6), end = off + plen;
	if (pw_is_ext(p->proto))
		return pw_parse_ipv6_ext(ctx, off, end, p);
	return pw_parse_l4(ctx, off, end, p);
}

/* Parse a frame from its Ethernet header. wire_len: the whole frame's
 * length (XDP: data_end - data; tc: skb->len, which counts paged data). */
static __always_inline int pw_parse(PW_CTX *ctx, struct pw_pkt *p, __u32 wire_len)
{
	void *data = PW_DATA(ctx), *data_end = PW_DATA_END(ctx);
	struct ethhdr *eth = data;
	__u32 l3off = sizeof(*eth);
	__u16 proto;

	if ((void *)(eth + 1) > data_end)
		return PW_PARSE_MALFORMED;
	proto = eth->h_proto;
	for (int i = 0; i < PW_VLAN_MAX; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		__u16 *tag = data + l3off;
		if ((void *)(tag + 2) > data_end)
			return PW_PARSE_MALFORMED;
		if (i == 0)
			p->vlan = bpf_ntohs(tag[0]) & 0x0fff;
		proto = tag[1];
		l3off += 4;
	}
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD))
		return PW_PARSE_MALFORMED;	/* a third tag */
	long wire_left = (long)wire_len - (long)l3off;
	if (proto == bpf_htons(ETH_P_IP))
		return pw_parse_ipv4(ctx, p, data, data_end, l3off, wire_left);
	if (proto == bpf_htons(ETH_P_IPV6))
		return pw_parse_ipv6(ctx, p, data, data_end, l3off, wire_left);
	return PW_PARSE_NON_IP;
}

/* Parse a packet that starts at its IP header: the frames of devices
 * without a link-layer header (TUN, WireGuard, ipip, sit, gre, ppp...; see
 * docs/datapath.md, "Link types"). The IP version (the first nibble) says
 * which IP; every packet of such a device is IP, so anything else (an
 * empty frame, version 5) is malformed, never "non-ip". */
static __always_inline int pw_parse_l3(PW_CTX *ctx, struct pw_pkt *p, __u32 wire_len)
{
	void *data = PW_DATA(ctx), *data_end = PW_DATA_END(ctx);
	__u8 *vh = data;

	if ((void *)(vh + 1) > data_end)
		return PW_PARSE_MALFORMED;
	if ((*vh >> 4) == 4)
		return pw_parse_ipv4(ctx, p, data, data_end, 0, (long)wire_len);
	if ((*vh >> 4) == 6)
		return pw_parse_ipv6(ctx, p, data, data_end, 0, (long)wire_len);
	return PW_PARSE_MALFORMED;
}

#endif
