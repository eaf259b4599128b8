/* exc.h - timed exceptions (`portwall allow`): the words an operator types
 * read into one exception, refused when they would open more than typed,
 * and the pw_exc keys it takes (include/portwall.h). No kernel here. */
#ifndef PW_EXC_H
#define PW_EXC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/addr.h"
#include "portwall.h"

#define PW_EXC_MAX_S (7 * 86400ull)	/* the longest --for */
/* The widest peer prefix without --wide-peer. */
#define PW_EXC_V4_MIN_LEN 16
#define PW_EXC_V6_MIN_LEN 48

struct pw_exc_spec {
	uint8_t dir;		/* PW_DIR_IN / PW_DIR_OUT */
	uint8_t proto;		/* 6 / 17 */
	uint16_t port_lo, port_hi;
	struct pw_prefix peer;
	uint64_t secs;		/* how long */
	char comment[PW_EXC_COMMENT];
};

/* A duration "90s", "30m", "2h", "1d" (a number and one unit) into *secs,
 * at least 1 s and at most PW_EXC_MAX_S. 0, or -1 with a message. */
int pw_exc_duration(const char *s, uint64_t *secs, char *err, size_t n);

/* The rule words "in tcp port 8443[-8450] from PEER" or "out udp port 53
 * to PEER" (argv[0..argc-1]) into sp (dir, proto, ports, peer; secs and
 * comment untouched). Refused: another protocol, no port, port 0, a
 * range of more than PW_EXC_PORTS, a peer that is any / 0.0.0.0/0, or
 * wider than /16 (IPv4) or /48 (IPv6) unless wide. 0, or -1 with a
 * message that says what to type instead. */
int pw_exc_parse(int argc, char **argv, bool wide, struct pw_exc_spec *sp, char *err, size_t n);

/* The keys of sp into keys[] (room for PW_EXC_PORTS): one per port.
 * Returns how many. */
int pw_exc_keys(const struct pw_exc_spec *sp, struct pw_exc_key *keys);

/* "in tcp port 8443 from 198.51.100.7" (ports "8443-8450") into buf. */
void pw_exc_format(uint8_t dir, uint8_t proto, uint16_t lo, uint16_t hi, const struct pw_prefix *peer,
		   char *buf, size_t size);

/* "1h59m", "4m10s", "12s", "expired" for a remaining time. buf >= 24. */
void pw_exc_left(int64_t secs, char *buf, size_t size);

#endif
