/* resolv.h - the DNS servers whose answers teach a policy's names: what a
 * resolv.conf says, and which addresses are a local stub. Pure functions:
 * the caller reads the files. */
#ifndef PW_RESOLV_H
#define PW_RESOLV_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/addr.h"
#include "portwall.h"

/* Where systemd-resolved writes the servers its stub (127.0.0.53) asks. */
#define PW_RESOLVED_UPSTREAM "/run/systemd/resolve/resolv.conf"

struct pw_resolv_conf {
	struct pw_ip ns[PW_RESOLVERS_MAX];	/* the nameservers, in order, duplicates merged */
	size_t n;
	size_t extra;		/* further nameservers past PW_RESOLVERS_MAX, left out */
	int bad_line;		/* the first nameserver line that is no address, 0: none */
	bool zones;		/* a zone (fe80::1%eth0) was dropped from an address */
};

/* The `nameserver` lines of a resolv.conf's text (resolv.conf(5)): "#" or
 * ";" starts a comment, every other keyword (search, domain, options,
 * sortlist) is ignored. An IPv6 zone is dropped, keeping the address: the
 * datapath knows a resolver by its address, and an answer teaches only on
 * a query flow the host opened to it. A line whose address cannot be read
 * is skipped, as the C library does, and bad_line says where. */
void pw_resolv_conf_parse(const char *text, size_t len, struct pw_resolv_conf *out);

/* 127.0.0.0/8 or ::1: a stub on this host, whose answers never cross an
 * interface; the datapath must trust the servers it forwards to instead. */
bool pw_ip_loopback(const struct pw_ip *ip);
/* systemd-resolved's stubs 127.0.0.53 and 127.0.0.54: their servers are in
 * PW_RESOLVED_UPSTREAM. */
bool pw_ip_resolved_stub(const struct pw_ip *ip);

#endif
