/* explain.h - one packet's verdict from the compiled tables, in words. */
#ifndef PW_EXPLAIN_H
#define PW_EXPLAIN_H

#include <stddef.h>
#include <stdint.h>

#include "policy/compile.h"
#include "policy/hostname.h"
#include "policy/policy.h"

struct pw_query {
	uint8_t dir;		/* PW_DIR_IN / PW_DIR_OUT */
	uint8_t proto;		/* IP protocol number */
	uint8_t fam;		/* of the peer address */
	uint8_t addr[16];	/* the peer */
	uint16_t port;		/* tcp/udp: the service port; icmp: the type */
	/* a host name in place of the address (lowercased), "" for an address:
	 * the verdict for an address learned for it from DNS */
	char name[PW_HOSTNAME_MAX + 1];
};

/* Parse the words of a query; 0, or -1 with a message in err. PEER is an
 * address or a host name (not a wildcard). */
int pw_query_parse(const char *dir, const char *proto, const char *peer, const char *port,
		   struct pw_query *q, char *err, size_t errsz);
/* The decision-array slot a query reads. */
uint32_t pw_query_slot(const struct pw_query *q);
/* Decide q and write "PASS|DROP  WHERE  WHAT" into line. As in the
 * datapath, ICMPv6 neighbor discovery passes and an IPv4-mapped IPv6 peer
 * drops (malformed) whatever the tables say. For an address, each rule with
 * host names that would change the verdict if the address were learned for
 * one of them adds a line "      rule N (FILE:LINE) allows|denies it if
 * ADDR is an address of NAME, learned from DNS". For a host name the
 * verdict is the one for an address learned for it that no rule's prefix
 * covers, and a second line says which names of the policy match it. */
void pw_explain(const struct pw_policy *pol, const struct pw_compiled *c, const struct pw_query *q,
		struct pw_verdict *v, char *line, size_t size);

#endif
