/* suggest.h - `portwall suggest`: from drop events (policy/evrec.h), the
 * allow rules that would have let them pass, and the scans that should
 * not become rules. No kernel: a unit test drives it on recorded events.
 *
 * Only drops by the default ("default") are looked at: a deny rule's drop
 * is the policy's own choice (an allow cannot override it), malformed
 * packets and stray fragments are no rule's business.
 * Grouping: by direction, protocol and local service (the destination
 * port of TCP/UDP, the ICMP type), and peer (the source of inbound, the
 * destination of outbound packets). The peers of one group that share a
 * /24 (IPv4) or /64 (IPv6) with another of its peers become that prefix;
 * a peer alone in its prefix stays a single host (/32, /128).
 * A scan: one peer that hit PW_SCAN_PORTS or more distinct services in one
 * direction. Its events are reported as a scan and feed no rule. */
#ifndef PW_SUGGEST_H
#define PW_SUGGEST_H

#include <stddef.h>
#include <stdint.h>

#include "policy/evrec.h"

#define PW_SCAN_PORTS 10

struct pw_sugg_ev;	/* one event, as far as grouping needs it */

struct pw_suggestion {
	uint8_t dir, proto, fam;
	int port;		/* TCP/UDP port, ICMP type, -1 none */
	uint8_t pfx[16];
	int plen;		/* 24/64: several peers; 32/128: one host */
	uint64_t packets;
	size_t peers;
	int64_t first_ms, last_ms;
	uint8_t example[16];	/* the peer with the most packets */
};

struct pw_scan {
	uint8_t dir, fam;
	uint8_t peer[16];
	size_t ports;		/* distinct services */
	int lo, hi;		/* lowest and highest TCP/UDP port hit, -1 none */
	uint64_t packets;
	int64_t first_ms, last_ms;
};

struct pw_suggest {
	struct pw_sugg_ev *ev;
	size_t nev, cap;
	uint64_t skipped;	/* events of other reasons */
	struct pw_suggestion *sugg;
	size_t nsugg;
	struct pw_scan *scan;
	size_t nscan;
};

void pw_suggest_init(struct pw_suggest *s);
/* One event (of any reason: the others are counted in skipped). 0, -ENOMEM. */
int pw_suggest_add(struct pw_suggest *s, const struct pw_evrec *r);
/* Group: the suggestions with at least min_count packets, ranked by
 * packets (then direction, protocol, port, prefix), and the scans (by
 * packets). 0 or -ENOMEM. */
int pw_suggest_finish(struct pw_suggest *s, uint64_t min_count);
/* "allow in tcp port 8443 peer 198.51.100.0/24" (the policy line) and the
 * comment after it ("# 1520 packets, 3 peers, first ..., last ..., e.g. ..."). */
void pw_suggestion_rule(const struct pw_suggestion *g, char *buf, size_t size);
void pw_suggestion_note(const struct pw_suggestion *g, char *buf, size_t size);
/* "# scan: 203.0.113.9 in, 25 tcp/udp ports 20-1024, 40 packets, first ..., last ..." */
void pw_scan_line(const struct pw_scan *c, char *buf, size_t size);
void pw_suggest_free(struct pw_suggest *s);

#endif
