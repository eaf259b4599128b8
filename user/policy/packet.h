/* packet.h - describe a packet in words, build it as bytes on the wire. */
#ifndef PW_PACKET_H
#define PW_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PW_PKT_MAX 9216
#define PW_PKT_MAX_VLAN 3
#define PW_PKT_MAX_EXT 10

enum pw_pkt_frag { PW_PKT_WHOLE = 0, PW_PKT_FRAG_FIRST, PW_PKT_FRAG_LATER };

struct pw_pktspec {
	uint8_t dir;		/* PW_DIR_IN / PW_DIR_OUT: which program judges it */
	uint8_t proto;		/* IP protocol */
	uint8_t fam;		/* PW_FAM_V4 / PW_FAM_V6 */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;	/* host order */
	uint8_t tcp_flags;
	uint32_t tcp_seq, tcp_ack;	/* default 1000, and 2000 with ACK (else 0) */
	uint16_t tcp_win;		/* default 65535 */
	bool tcp_ack_set;		/* ackno given */
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id;
	uint16_t vlan[PW_PKT_MAX_VLAN];
	int nvlan;
	bool l3;		/* link l3: no Ethernet header, the packet starts at
				 * its IP header (a device without a link-layer header) */
	int frag;		/* enum pw_pkt_frag */
	uint32_t frag_id;
	unsigned payload;	/* L4 payload bytes */
	unsigned ip_opts;	/* IPv4 option bytes (multiple of 4, <= 40) */
	uint8_t ext[PW_PKT_MAX_EXT];	/* IPv6 extension headers, in order */
	int next;
	/* ICMP errors: the packet the error quotes */
	bool quote;
	uint8_t q_proto;
	uint8_t q_src[16], q_dst[16];
	uint16_t q_sport, q_dport;
};

/* Parse "DIR PROTO SRC DST [FLAGS] [options...]" from words. Returns 0, or
 * -1 with a message naming the bad word. */
int pw_pkt_parse(int argc, char **argv, struct pw_pktspec *s, char *err, size_t errsz);
/* The same from one line of words separated by blanks ("#" starts a
 * comment). Returns 0, 1 when the line holds no packet, or -1. */
int pw_pkt_parse_line(const char *line, struct pw_pktspec *s, char *err, size_t errsz);
/* Build the Ethernet frame (or, with l3, the IP packet alone, unpadded)
 * with valid checksums. Returns its length, 0 if it does not fit. */
size_t pw_pkt_build(const struct pw_pktspec *s, uint8_t *buf, size_t size);
/* "in tcp 198.51.100.7:51000 -> 192.0.2.2:443 syn" */
void pw_pkt_describe(const struct pw_pktspec *s, char *buf, size_t size);

#endif
