/* packet.c - describe a packet in words, build it as bytes on the wire:
 * Ethernet, up to three VLAN tags, IPv4 (with options, fragments) or IPv6
 * (with extension headers, fragments), TCP/UDP/ICMP/ICMPv6 or any other
 * protocol, with valid checksums. */
#include "policy/packet.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/num.h"
#include "policy/policy.h"
#include "portwall.h"


/* "A:P", "[A6]:P", "A" or "A6" (no port) */
static int endpoint(const char *w, uint8_t *fam, uint8_t addr[16], uint16_t *port, bool want_port,
		    char *err, size_t n)
{
	char a[64];
	const char *p = NULL;
	unsigned long v = 0;

	if (w[0] == '[') {
		const char *rb = strchr(w, ']');
		if (!rb || rb - w - 1 >= (long)sizeof(a))
			return pw_errf(err, n, -1, "bad address \"%s\": write [IPv6]:PORT", w);
		memcpy(a, w + 1, (size_t)(rb - w - 1));
		a[rb - w - 1] = '\0';
		if (rb[1] == ':')
			p = rb + 2;
		else if (rb[1])
			return pw_errf(err, n, -1, "bad address \"%s\": write [IPv6]:PORT", w);
	} else {
		const char *colon = strchr(w, ':');
		if (colon && !strchr(colon + 1, ':')) {	/* IPv4:PORT */
			if (colon - w >= (long)sizeof(a))
				return pw_errf(err, n, -1, "bad address \"%s\"", w);
			memcpy(a, w, (size_t)(colon - w));
			a[colon - w] = '\0';
			p = colon + 1;
		} else {
			snprintf(a, sizeof(a), "%s", w);
		}
	}
	if (!pw_addr_parse(a, fam, addr))
		return pw_errf(err, n, -1, "bad address \"%s\": expected IPv4:PORT or [IPv6]:PORT", w);
	if (p && !pw_ulong(p, 0, 65535, &v))
		return pw_errf(err, n, -1, "bad port in \"%s\": 0-65535", w);
	if (want_port && !p)
		return pw_errf(err, n, -1, "\"%s\" needs a port: ADDR:PORT or [IPv6]:PORT", w);
	if (!want_port && p)
		return pw_errf(err, n, -1, "\"%s\": this protocol has no ports", w);
	*port = (uint16_t)v;
	return 0;
}

static int tcp_flags_word(const char *w, uint8_t *flags)
{
	static const struct { const char *n; uint8_t b; } f[] = {
		{ "fin", 0x01 }, { "syn", 0x02 }, { "rst", 0x04 }, { "psh", 0x08 },
		{ "ack", 0x10 }, { "urg", 0x20 },
	};
	char buf[64], *save, *t;
	uint8_t out = 0;

	snprintf(buf, sizeof(buf), "%s", w);
	for (t = strtok_r(buf, ",+", &save); t; t = strtok_r(NULL, ",+", &save)) {
		size_t i;
		for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
			if (strcmp(t, f[i].n) == 0)
				break;
		if (i == sizeof(f) / sizeof(f[0]))
			return -1;
		out |= f[i].b;
	}
	*flags = out;
	return 0;
}

static int proto_word(const char *w, uint8_t *proto)
{
	unsigned long v;
	int p = pw_proto_by_name(w);

	if (p < 0 && pw_ulong(w, 0, 255, &v))
		p = (int)v;
	if (p < 0)
		return -1;
	*proto = (uint8_t)p;
	return 0;
}

/* TCP, UDP, DCCP, SCTP, UDP-Lite: SRC and DST take ports */
static bool has_ports(uint8_t proto)
{
	return pw_port_hdr_len(proto) != 0;
}

/* DIR PROTO SRC DST [FLAGS]: the words every packet has. Returns the
 * index of the first option, or -1. */
static int pkt_head(int argc, char **argv, struct pw_pktspec *s, char *err, size_t n)
{
	uint8_t f2;
	int i = 4;

	memset(s, 0, sizeof(*s));
	s->icmp_id = 1;
	if (argc < 4)
		return pw_errf(err, n, -1, "%s", "a packet is DIR PROTO SRC DST [FLAGS] [options], e.g. "
			   "in tcp 198.51.100.7:51000 192.0.2.2:443 syn");
	if (strcmp(argv[0], "in") == 0)
		s->dir = PW_DIR_IN;
	else if (strcmp(argv[0], "out") == 0)
		s->dir = PW_DIR_OUT;
	else
		return pw_errf(err, n, -1, "direction must be in or out, got \"%s\"", argv[0]);
	if (proto_word(argv[1], &s->proto))
		return pw_errf(err, n, -1, "unknown protocol \"%s\"", argv[1]);
	if (endpoint(argv[2], &s->fam, s->src, &s->sport, has_ports(s->proto), err, n) ||
	    endpoint(argv[3], &f2, s->dst, &s->dport, has_ports(s->proto), err, n))
		return -1;
	if (f2 != s->fam)
		return pw_errf(err, n, -1, "source and destination of \"%s\" are of different families", argv[3]);
	if (s->proto == 1 && s->fam == PW_FAM_V6)
		s->proto = 58;	/* "icmp" between IPv6 addresses means ICMPv6 */
	if (s->proto == 1 || s->proto == 58)
		s->icmp_type = s->proto == 1 ? 8 : 128;	/* echo request */
	if (s->proto == 6 && i < argc && tcp_flags_word(argv[i], &s->tcp_flags) == 0)
		i++;
	else if (s->proto == 6)
		s->tcp_flags = 0x10;	/* a bare ACK: mid-flow */
	s->tcp_seq = 1000;
	s->tcp_win = 65535;
	return i;
}

/* An option and the words after it. Each option's parser returns how many
 * of those words it took, or -1. */
struct pkt_opt {
	const char *name;
	const char *a;		/* the word after it, NULL at the end */
	const char *got;	/* a, or "" when there is none: for messages */
	char **rest;		/* the words after it */
	int nrest;
};

static int opt_vlan(struct pw_pktspec *s, const struct pkt_opt *o, char *err, size_t n)
{
	unsigned long v;

	if (!o->a || !pw_ulong(o->a, 0, 4095, &v))
		return pw_errf(err, n, -1, "vlan takes an id 0-4095, got \"%s\"", o->got);
	if (s->nvlan == PW_PKT_MAX_VLAN)
		return pw_errf(err, n, -1, "at most %s VLAN tags", "3");
	s->vlan[s->nvlan++] = (uint16_t)v;
	return 1;
}

/* link l3|ethernet: which programs judge it, the frame it is built as */
static int opt_link(struct pw_pktspec *s, const struct pkt_opt *o, char *err, size_t n)
{
	if (o->a && strcmp(o->a, "l3") == 0)
		s->l3 = true;
	else if (o->a && strcmp(o->a, "ethernet") == 0)
		s->l3 = false;
	else
		return pw_errf(err, n, -1, "link takes l3 or ethernet, got \"%s\"", o->got);
	return 1;
}

static int opt_frag(struct pw_pktspec *s, const struct pkt_opt *o, char *err, size_t n)
{
	if (o->a && strcmp(o->a, "first") == 0)
		s->frag = PW_PKT_FRAG_FIRST;
	else if (o->a && strcmp(o->a, "later") == 0)
		s->frag = PW_PKT_FRAG_LATER;
	else
		return pw_errf(err, n, -1, "frag takes first or later, got \"%s\"", o->got);
	if (!s->frag_id)
		s->frag_id = 0x4242;
	return 1;
}

static int opt_frag_id(struct pw_pktspec *s, const struct pkt_opt *o, char *err, size_t n)
{
	unsigned long v;

	if (!o->a || !pw_ulong(o->a, 0, 0xffffffff, &v) || v == 0)
		return pw_errf(err, n, -1, "frag-id takes a number 1-4294967295, got \"%s\"", o->got);
	s->frag_id = (uint32_t)v;
	return 1;
}

static int opt_icmp_type(struct pw_pktspec *s, const struct pkt_opt *o, char *err, size_t n)
{
	unsigned long v;
	int t = o->a ? pw_icmp_type_by_name(o->a, s->fam == PW_FAM_V6) : -1;

	if (t < 0 && o->a && pw_ulong(o->a, 0, 255, &v))
		t = (int)v;
	if (t < 0 || (s->proto != 1 && s->proto != 58))
		return pw_errf(err, n, -1, "icmp-type takes an ICMP type name or number (icmp packets only), got \"%s\"",
			   o->got);
	s->icmp_type = (uint8_t)t;
	return 1;
}

/* icmp-code and icmp-id: a plain number each */
static int opt_icmp_num(struct pw_pktspec *s, const struct pkt_opt *o, char *err, size_t n)
{
	unsigned long v;
	bool code = o->name[5] == 'c';

	if (!o->a || !pw_ulong(o->a, 0, code ? 255 : 65535, &v))
		return pw_errf(err, n, -1, "%s takes a number", o->name);
	if (code)
		s->icmp_code = (uint8_t)v;
	else
		s->icmp_id = (uint16_t)v;
	return 1;
}

/* seq N, ackno N, win N: TCP's sequence and acknowledgment numbers, window */
static int opt_tcp_num(struct pw_pktspec *s, const struct pkt_opt *o, char *err, size_t n)
{
	unsigned long v;
	bool win = o->name[0] == 'w';

	if (s->proto != 6 || !o->a || !pw_ulong(o->a, 0, win ? 65535 : 0xffffffff, &v))
		return pw_errf(err, n, -1, "%s takes a number 0-%s (tcp packets only), got \"%s\"", o->name,
			       win ? "65535" : "4294967295", o->got);
	if (win)
		s->tcp_win = (uint16_t)v;
	else if (o->name[0] == 's')
		s->tcp_seq = (uint32_t)v;
	else
		s->tcp_ack = (uint32_t)v, s->tcp_ack_set = true;
	return 1;
}

static int opt_len(struct pw_pktspec *s, const struct pkt_opt *o, char *err, size_t n)
{
	unsigned long v;

	if (!o->a || !pw_ulong(o->a, 0, PW_PKT_MAX - 200, &v))
		return pw_errf(err, n, -1, "len takes the payload length in bytes (0-9016), got \"%s\"", o->got);
	s->payload = (unsigned)v;
	return 1;
}

static int opt_ip_options(struct pw_pktspec *s, const struct pkt_opt *o, char *err, size_t n)
{
	unsigned long v;

	if (!o->a || !pw_ulong(o->a, 0, 40, &v) || v % 4 || s->fam != PW_FAM_V4)
		return pw_errf(err, n, -1, "ip-options takes a multiple of 4 up to 40 (IPv4 only), got \"%s\"",
			   o->got);
	s->ip_opts = (unsigned)v;
	return 1;
}

static int opt_ext(struct pw_pktspec *s, const struct pkt_opt *o, char *err, size_t n)
{
	char buf[128], *save, *t;

	if (!o->a || s->fam != PW_FAM_V6)
		return pw_errf(err, n, -1, "ext takes IPv6 extension headers, e.g. hbh,dst,rt,ah (IPv6 only)%s", "");
	snprintf(buf, sizeof(buf), "%s", o->a);
	for (t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		uint8_t h = strcmp(t, "hbh") == 0 ? 0 : strcmp(t, "rt") == 0 ? 43 :
			    strcmp(t, "dst") == 0 ? 60 : strcmp(t, "ah") == 0 ? 51 : 255;
		if (h == 255)
			return pw_errf(err, n, -1, "unknown extension header \"%s\": hbh, rt, dst or ah", t);
		if (s->next == PW_PKT_MAX_EXT)
			return pw_errf(err, n, -1, "at most %s extension headers", "10");
		s->ext[s->next++] = h;
	}
	return 1;
}

/* quote PROTO SRC DST: the packet an ICMP error carries */
static int opt_quote(struct pw_pktspec *s, const struct pkt_opt *o, char *err, size_t n)
{
	char **w = o->rest;
	uint8_t qf1, qf2;

	if (o->nrest < 3 || (s->proto != 1 && s->proto != 58))
		return pw_errf(err, n, -1, "quote takes PROTO SRC DST of the quoted packet (ICMP errors only)%s", "");
	if (proto_word(w[0], &s->q_proto))
		return pw_errf(err, n, -1, "unknown protocol \"%s\"", w[0]);
	if (endpoint(w[1], &qf1, s->q_src, &s->q_sport, has_ports(s->q_proto), err, n) ||
	    endpoint(w[2], &qf2, s->q_dst, &s->q_dport, has_ports(s->q_proto), err, n))
		return -1;
	if (qf1 != s->fam || qf2 != s->fam)
		return pw_errf(err, n, -1, "the quoted packet must be of the error's family%s", "");
	s->quote = true;
	return 3;
}

static const struct {
	const char *name;
	int (*parse)(struct pw_pktspec *s, const struct pkt_opt *o, char *err, size_t n);
} pkt_opts[] = {
	{ "vlan", opt_vlan }, { "link", opt_link }, { "frag", opt_frag }, { "frag-id", opt_frag_id },
	{ "icmp-type", opt_icmp_type }, { "icmp-code", opt_icmp_num }, { "icmp-id", opt_icmp_num },
	{ "seq", opt_tcp_num }, { "ackno", opt_tcp_num }, { "win", opt_tcp_num },
	{ "len", opt_len }, { "ip-options", opt_ip_options }, { "ext", opt_ext }, { "quote", opt_quote },
};

/* The option at w[0]; returns how many words it took in all, or -1. */
static int pkt_option(struct pw_pktspec *s, int nw, char **w, char *err, size_t n)
{
	struct pkt_opt o = {
		.name = w[0], .a = nw > 1 ? w[1] : NULL, .got = nw > 1 ? w[1] : "",
		.rest = w + 1, .nrest = nw - 1,
	};

	for (size_t k = 0; k < sizeof(pkt_opts) / sizeof(pkt_opts[0]); k++) {
		if (strcmp(o.name, pkt_opts[k].name) == 0) {
			int used = pkt_opts[k].parse(s, &o, err, n);
			return used < 0 ? -1 : 1 + used;
		}
	}
	return pw_errf(err, n, -1, "unknown packet option \"%s\": vlan, link, frag, frag-id, icmp-type, "
		   "icmp-code, icmp-id, seq, ackno, win, len, ip-options, ext, quote", o.name);
}

int pw_pkt_parse(int argc, char **argv, struct pw_pktspec *s, char *err, size_t n)
{
	int i = pkt_head(argc, argv, s, err, n);

	while (i >= 0 && i < argc) {
		int used = pkt_option(s, argc - i, argv + i, err, n);
		i = used < 0 ? -1 : i + used;
	}
	if (i >= 0 && s->l3 && s->nvlan)
		return pw_errf(err, n, -1, "vlan tags need an Ethernet header: not with link l3%s", "");
	return i < 0 ? -1 : 0;
}

int pw_pkt_parse_line(const char *line, struct pw_pktspec *s, char *err, size_t n)
{
	char buf[1024], *argv[64], *save, *w;
	int argc = 0;

	if (strlen(line) >= sizeof(buf))
		return pw_errf(err, n, -1, "%s", "line too long for a packet (1023 bytes at most)");
	snprintf(buf, sizeof(buf), "%s", line);
	char *hash = strchr(buf, '#');
	if (hash)
		*hash = '\0';
	for (w = strtok_r(buf, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save)) {
		if (argc == 64)
			return pw_errf(err, n, -1, "%s", "too many words for a packet (64 at most)");
		argv[argc++] = w;
	}
	if (argc == 0)
		return 1;
	return pw_pkt_parse(argc, argv, s, err, n);
}

/* ---- building ---------------------------------------------------------- */

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t acc)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		acc += (uint32_t)p[len - 1] << 8;
	return acc;
}

static uint16_t fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* L4 header + payload at p for (proto, ports); returns its length. tcp:
 * sequence, acknowledgment and window (NULL: those of a quoted segment). */
static size_t build_l4(uint8_t *p, uint8_t proto, uint16_t sport, uint16_t dport, uint8_t flags,
		       unsigned payload, const struct pw_pktspec *tcp)
{
	/* DCCP with 48-bit sequence numbers; SCTP's common header */
	size_t h = proto == 6 ? 20 : proto == 33 ? 16 : proto == 132 ? 12 : 8;

	memset(p, 0, h + payload);
	for (unsigned i = 0; i < payload; i++)
		p[h + i] = (uint8_t)('a' + i % 26);
	put16(p, sport);
	put16(p + 2, dport);
	if (proto == 6) {
		put32(p + 4, tcp ? tcp->tcp_seq : 1000);
		put32(p + 8, tcp && tcp->tcp_ack_set ? tcp->tcp_ack : flags & 0x10 ? 2000 : 0);
		p[12] = 5 << 4;
		p[13] = flags;
		put16(p + 14, tcp ? tcp->tcp_win : 65535);
	} else if (proto == 17) {
		put16(p + 4, (uint16_t)(8 + payload));
	} else if (proto == 33) {
		p[4] = 4;	/* data offset: 16 bytes */
		p[8] = 1;	/* a Request, extended sequence numbers */
	}	/* UDP-Lite: checksum coverage 0, the whole datagram */
	return h + payload;
}

/* The checksum of an L4 segment with its pseudo-header. */
static uint16_t l4_csum(uint8_t fam, const uint8_t *src, const uint8_t *dst, uint8_t proto,
			const uint8_t *seg, size_t len)
{
	uint32_t acc = 0;
	size_t alen = fam == PW_FAM_V4 ? 4 : 16;

	acc = sum16(src, alen, acc);
	acc = sum16(dst, alen, acc);
	acc += proto;
	acc += (uint32_t)len;
	acc = sum16(seg, len, acc);
	uint16_t c = fold(acc);
	return c == 0 && proto == 17 ? 0xffff : c;
}

static size_t ip_header(uint8_t *p, uint8_t fam, uint8_t proto, const uint8_t *src, const uint8_t *dst,
			size_t payload, unsigned opts, const struct pw_pktspec *s)
{
	if (fam == PW_FAM_V4) {
		size_t hl = 20 + opts;
		memset(p, 0, hl);
		p[0] = (uint8_t)(0x40 | (hl / 4));
		put16(p + 2, (uint16_t)(hl + payload));
		put16(p + 4, s ? (uint16_t)s->frag_id : 0);
		if (s && s->frag == PW_PKT_FRAG_FIRST)
			put16(p + 6, 0x2000);
		else if (s && s->frag == PW_PKT_FRAG_LATER)
			put16(p + 6, 185);	/* offset 1480 bytes, last fragment */
		p[8] = 64;
		p[9] = proto;
		memcpy(p + 12, src, 4);
		memcpy(p + 16, dst, 4);
		for (unsigned i = 0; i < opts; i++)
			p[20 + i] = 1;	/* NOP options */
		put16(p + 10, fold(sum16(p, hl, 0)));
		return hl;
	}
	memset(p, 0, 40);
	p[0] = 0x60;
	put16(p + 4, (uint16_t)payload);
	p[6] = proto;
	p[7] = 64;
	memcpy(p + 8, src, 16);
	memcpy(p + 24, dst, 16);
	return 40;
}

/* What an ICMP error quotes: the IP header and 8 bytes of the packet.
 * Returns their length. */
static size_t build_quote(const struct pw_pktspec *s, uint8_t *p)
{
	uint8_t inner[128];
	size_t il4 = build_l4(inner + 64, s->q_proto, s->q_sport, s->q_dport, 0x18, 0, NULL);
	size_t ih = ip_header(inner, s->fam, s->q_proto, s->q_src, s->q_dst, il4, 0, NULL);

	memmove(inner + ih, inner + 64, il4);
	memcpy(p, inner, ih + 8);
	return ih + 8;
}

/* An ICMP or ICMPv6 message: an echo, or an error quoting a packet. */
static size_t build_icmp(const struct pw_pktspec *s, uint8_t *l4)
{
	size_t len = 8;

	memset(l4, 0, 8);
	l4[0] = s->icmp_type;
	l4[1] = s->icmp_code;
	if (s->quote) {
		len += build_quote(s, l4 + 8);
	} else {
		put16(l4 + 4, s->icmp_id);
		put16(l4 + 6, 1);
	}
	for (unsigned i = 0; i < s->payload; i++)
		l4[len + i] = (uint8_t)i;
	len += s->payload;
	if (s->proto == 1)
		put16(l4 + 2, fold(sum16(l4, len, 0)));
	else
		put16(l4 + 2, l4_csum(PW_FAM_V6, s->src, s->dst, 58, l4, len));
	return len;
}

/* The transport segment; returns its length. */
static size_t build_segment(const struct pw_pktspec *s, uint8_t *l4)
{
	size_t len;

	if (s->proto == 1 || s->proto == 58)
		return build_icmp(s, l4);
	if (has_ports(s->proto)) {
		len = build_l4(l4, s->proto, s->sport, s->dport, s->tcp_flags, s->payload, s);
		if (s->proto != 132)	/* SCTP's is a CRC32c; the datapath reads none */
			put16(l4 + (s->proto == 6 ? 16 : 6), l4_csum(s->fam, s->src, s->dst, s->proto, l4, len));
		return len;
	}
	len = s->payload ? s->payload : 8;
	for (size_t i = 0; i < len; i++)
		l4[i] = (uint8_t)i;
	return len;
}

/* Ethernet and VLAN tags, up to the EtherType; returns their length. */
static size_t build_ethernet(const struct pw_pktspec *s, uint8_t *buf)
{
	static const uint8_t dmac[6] = { 0x02, 0, 0, 0, 0, 0x02 }, smac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	size_t o = 12;

	memcpy(buf, dmac, 6);
	memcpy(buf + 6, smac, 6);
	for (int i = 0; i < s->nvlan; i++) {
		put16(buf + o, i == 0 && s->nvlan > 1 ? 0x88a8 : 0x8100);
		put16(buf + o + 2, s->vlan[i]);
		o += 4;
	}
	put16(buf + o, s->fam == PW_FAM_V4 ? 0x0800 : 0x86dd);
	return o + 2;
}

/* The IPv6 extension headers, then a fragment header when the packet is a
 * fragment, 8 bytes each; returns their length. */
static size_t build_ext(const struct pw_pktspec *s, uint8_t *eh)
{
	size_t ext = 0;
	int n = s->next + (s->frag ? 1 : 0);

	for (int i = 0; i < n; i++) {
		uint8_t type = i < s->next ? s->ext[i] : 44;
		uint8_t next = i + 1 < s->next ? s->ext[i + 1] : i + 1 < n ? 44 : s->proto;
		memset(eh + ext, 0, 8);
		eh[ext] = next;
		if (type == 44) {
			put16(eh + ext + 2, s->frag == PW_PKT_FRAG_FIRST ? 1 : (1480 / 8) << 3);
			put32(eh + ext + 4, s->frag_id);
		} else if (type == 51) {
			eh[ext + 1] = 0;	/* AH: (0 + 2) * 4 = 8 bytes */
		} else {
			eh[ext + 1] = 0;	/* (0 + 1) * 8 = 8 bytes, PadN */
			eh[ext + 2] = 1;
			eh[ext + 3] = 4;
		}
		ext += 8;
	}
	return ext;
}

/* The IP header (with IPv6's extension headers) of a segment of l4len
 * bytes; returns its length. */
static size_t build_ip(const struct pw_pktspec *s, uint8_t *p, size_t l4len)
{
	uint8_t eh[PW_PKT_MAX_EXT * 8 + 8];

	/* a later fragment carries payload bytes, not the L4 header */
	if (s->fam == PW_FAM_V4)
		return ip_header(p, PW_FAM_V4, s->proto, s->src, s->dst, l4len, s->ip_opts, s);
	size_t ext = build_ext(s, eh);
	uint8_t first = !ext ? s->proto : s->next ? s->ext[0] : 44;
	size_t h = ip_header(p, PW_FAM_V6, first, s->src, s->dst, ext + l4len, 0, s);
	memcpy(p + h, eh, ext);
	return h + ext;
}

size_t pw_pkt_build(const struct pw_pktspec *s, uint8_t *buf, size_t size)
{
	uint8_t l4[PW_PKT_MAX];
	size_t l4len, o;

	if (size < 256 + s->payload)
		return 0;
	l4len = build_segment(s, l4);
	o = s->l3 ? 0 : build_ethernet(s, buf);
	o += build_ip(s, buf + o, l4len);
	memcpy(buf + o, l4, l4len);
	o += l4len;
	/* the minimum Ethernet frame; an L3 packet has no padding */
	while (!s->l3 && o < 60)
		buf[o++] = 0;
	return o;
}

void pw_pkt_describe(const struct pw_pktspec *s, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], pr[16];
	int af = s->fam == PW_FAM_V6 ? AF_INET6 : AF_INET;
	const char *name = pw_proto_name(s->proto);

	inet_ntop(af, s->src, a, sizeof(a));
	inet_ntop(af, s->dst, b, sizeof(b));
	if (name)
		snprintf(pr, sizeof(pr), "%s", name);
	else
		snprintf(pr, sizeof(pr), "%u", s->proto);
	if (has_ports(s->proto)) {
		if (s->fam == PW_FAM_V6)
			snprintf(buf, size, "%s %s [%s]:%u -> [%s]:%u", s->dir ? "out" : "in", pr, a, s->sport, b,
				 s->dport);
		else
			snprintf(buf, size, "%s %s %s:%u -> %s:%u", s->dir ? "out" : "in", pr, a, s->sport, b, s->dport);
	} else if (s->proto == 1 || s->proto == 58) {
		const char *t = pw_icmp_type_name(s->icmp_type, s->proto == 58);
		snprintf(buf, size, "%s %s %s -> %s %s", s->dir ? "out" : "in", pr, a, b, t ? t : "type");
		if (!t)
			snprintf(buf + strlen(buf), size - strlen(buf), " %u", s->icmp_type);
	} else {
		snprintf(buf, size, "%s %s %s -> %s", s->dir ? "out" : "in", pr, a, b);
	}
	size_t o = strlen(buf);
	static const char *const fl[] = { "fin", "syn", "rst", "psh", "ack", "urg" };
	if (s->proto == 6) {
		const char *sep = " ";
		for (int i = 0; i < 6 && o < size; i++)
			if (s->tcp_flags & (1 << i)) {
				o += (size_t)snprintf(buf + o, size - o, "%s%s", sep, fl[i]);
				sep = ",";
			}
	}
	for (int i = 0; i < s->nvlan && o < size; i++)
		o += (size_t)snprintf(buf + o, size - o, " vlan %u", s->vlan[i]);
	if (s->l3 && o < size)
		o += (size_t)snprintf(buf + o, size - o, " link l3");
	if (s->frag && o < size)
		o += (size_t)snprintf(buf + o, size - o, " frag %s", s->frag == PW_PKT_FRAG_FIRST ? "first" : "later");
	if (s->next && o < size)
		o += (size_t)snprintf(buf + o, size - o, " +%d ext", s->next);
	if (s->ip_opts && o < size)
		o += (size_t)snprintf(buf + o, size - o, " +%u option bytes", s->ip_opts);
	if (s->quote && o < size)
		snprintf(buf + o, size - o, " (quoting a %s packet)", pw_proto_name(s->q_proto) ? pw_proto_name(s->q_proto) : "");
}
