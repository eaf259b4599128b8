/* exc.c - the words of a timed exception, read and refused (exc.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/exc.h"

int pw_exc_duration(const char *s, uint64_t *secs, char *err, size_t n)
{
	char *end = NULL;
	unsigned long long v;
	uint64_t unit;

	if (!s || *s < '0' || *s > '9')
		goto bad;
	v = strtoull(s, &end, 10);
	if (end == s || !end[0] || end[1])
		goto bad;
	unit = end[0] == 's' ? 1 : end[0] == 'm' ? 60 : end[0] == 'h' ? 3600 : end[0] == 'd' ? 86400 : 0;
	if (!unit)
		goto bad;
	if (v == 0 || v > PW_EXC_MAX_S / unit) {
		snprintf(err, n, "--for %s: an exception lasts from 1s to 7d; give a shorter one and renew it "
			 "when it ends", s);
		return -1;
	}
	*secs = v * unit;
	return 0;
bad:
	snprintf(err, n, "--for %s: not a duration; give a number and a unit, e.g. 90s, 30m, 2h, 1d",
		 s ? s : "(none)");
	return -1;
}

/* "N" or "N-M" into [lo, hi]; 0 or -1 with a message. */
static int parse_ports(const char *s, struct pw_exc_spec *sp, char *err, size_t n)
{
	char *end;
	unsigned long lo = strtoul(s, &end, 10), hi = lo;

	if (end != s && *end == '-') {
		const char *h = end + 1;
		hi = strtoul(h, &end, 10);
		if (end == h)
			end = (char *)"x";
	}
	if (end == s || *end || *s < '0' || *s > '9' || lo < 1 || hi > 65535 || lo > hi) {
		snprintf(err, n, "port %s: give one port 1-65535, or a range LO-HI of at most %d ports", s,
			 PW_EXC_PORTS);
		return -1;
	}
	if (hi - lo + 1 > PW_EXC_PORTS) {
		snprintf(err, n, "port %s: %lu ports; an exception opens at most %d (add the ports to the "
			 "policy file instead)", s, hi - lo + 1, PW_EXC_PORTS);
		return -1;
	}
	sp->port_lo = (uint16_t)lo;
	sp->port_hi = (uint16_t)hi;
	return 0;
}

/* The peer: one address or a prefix no wider than the floor (unless wide). */
static int parse_peer(const char *s, bool wide, struct pw_exc_spec *sp, char *err, size_t n)
{
	if (!strcmp(s, "any") || pw_prefix_parse(s, &sp->peer) != PW_ADDR_OK) {
		snprintf(err, n, "peer %s: give the peer's address or prefix (e.g. 198.51.100.7, "
			 "2001:db8::/64); an exception never opens a port to any peer", s);
		return -1;
	}
	unsigned floor = sp->peer.fam == PW_FAM_V6 ? PW_EXC_V6_MIN_LEN : PW_EXC_V4_MIN_LEN;
	if (sp->peer.len == 0 || (!wide && sp->peer.len < floor)) {
		snprintf(err, n, "peer %s: wider than /%u%s; name the peer's own address or a narrower prefix%s", s,
			 floor, sp->peer.len == 0 ? " (every address)" : "",
			 sp->peer.len == 0 ? "" : ", or add --wide-peer if the vendor really uses that many");
		return -1;
	}
	return 0;
}

int pw_exc_parse(int argc, char **argv, bool wide, struct pw_exc_spec *sp, char *err, size_t n)
{
	static const char usage[] = "give: in|out tcp|udp port N[-M] from|to PEER (in ... from PEER, out ... to PEER)";

	if (argc != 6) {
		snprintf(err, n, "%s words given; %s", argc < 6 ? "too few" : "too many", usage);
		return -1;
	}
	if (strcmp(argv[0], "in") && strcmp(argv[0], "out")) {
		snprintf(err, n, "direction %s: %s", argv[0], usage);
		return -1;
	}
	sp->dir = strcmp(argv[0], "in") ? PW_DIR_OUT : PW_DIR_IN;
	if (strcmp(argv[1], "tcp") && strcmp(argv[1], "udp")) {
		snprintf(err, n, "protocol %s: an exception opens one port of tcp or udp; %s", argv[1], usage);
		return -1;
	}
	sp->proto = strcmp(argv[1], "tcp") ? 17 : 6;
	if (strcmp(argv[2], "port")) {
		snprintf(err, n, "%s: an exception names its port (\"port N\"); %s", argv[2], usage);
		return -1;
	}
	if (parse_ports(argv[3], sp, err, n))
		return -1;
	const char *want = sp->dir == PW_DIR_IN ? "from" : "to";
	if (strcmp(argv[4], want)) {
		snprintf(err, n, "%s: an %s exception names its peer with \"%s PEER\"", argv[4], argv[0], want);
		return -1;
	}
	return parse_peer(argv[5], wide, sp, err, n);
}

int pw_exc_keys(const struct pw_exc_spec *sp, struct pw_exc_key *keys)
{
	int k = 0;

	for (uint32_t p = sp->port_lo; p <= sp->port_hi && k < PW_EXC_PORTS; p++, k++) {
		memset(&keys[k], 0, sizeof(keys[k]));
		keys[k].prefixlen = PW_EXC_KEY_BITS + sp->peer.len;
		keys[k].dir = sp->dir;
		keys[k].proto = sp->proto;
		keys[k].fam = sp->peer.fam;
		keys[k].port_be = htons((uint16_t)p);
		memcpy(keys[k].addr, sp->peer.addr, sizeof(keys[k].addr));
	}
	return k;
}

void pw_exc_format(uint8_t dir, uint8_t proto, uint16_t lo, uint16_t hi, const struct pw_prefix *peer,
		   char *buf, size_t size)
{
	char pfx[64], ports[16];

	pw_prefix_format(peer, pfx, sizeof(pfx), true);
	if (lo == hi)
		snprintf(ports, sizeof(ports), "%u", lo);
	else
		snprintf(ports, sizeof(ports), "%u-%u", lo, hi);
	snprintf(buf, size, "%s %s port %s %s %s", dir == PW_DIR_IN ? "in" : "out", proto == 6 ? "tcp" : "udp",
		 ports, dir == PW_DIR_IN ? "from" : "to", pfx);
}

void pw_exc_left(int64_t secs, char *buf, size_t size)
{
	if (secs <= 0)
		snprintf(buf, size, "expired");
	else if (secs >= 86400)
		snprintf(buf, size, "%lldd%lldh", (long long)(secs / 86400), (long long)(secs % 86400 / 3600));
	else if (secs >= 3600)
		snprintf(buf, size, "%lldh%lldm", (long long)(secs / 3600), (long long)(secs % 3600 / 60));
	else if (secs >= 60)
		snprintf(buf, size, "%lldm%llds", (long long)(secs / 60), (long long)(secs % 60));
	else
		snprintf(buf, size, "%llds", (long long)secs);
}
