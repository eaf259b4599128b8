/* scale_policy.h - the large policy of the issues' scale targets: 65,535
 * single-port rules (every second one restricted to a /24) and a set of
 * 100,000 peer prefixes used by a deny on 1-1023 and an outbound allow.
 * Used by tests/unit/test_scale.c and bench/. */
#ifndef PW_SCALE_POLICY_H
#define PW_SCALE_POLICY_H

#include <stdio.h>
#include <stdlib.h>

#define PW_SCALE_NPREFIX 100000

/* Prefix i of the big set: /32s and /24s inside 10.0.0.0/8 and above, and
 * /64s inside 2001:db8::/32 (data only: nothing is sent to them). */
static inline void pw_scale_prefix(unsigned i, char *buf, size_t n)
{
	if (i % 5 == 4)
		snprintf(buf, n, "2001:db8:%x:%x::/64", (i >> 16) & 0xffff, i & 0xffff);
	else if (i % 5 == 3)
		snprintf(buf, n, "%u.%u.%u.0/24", 11 + (i >> 16), (i >> 8) & 0xff, i & 0xff);
	else
		snprintf(buf, n, "10.%u.%u.%u", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
}

/* The policy text with nprefix prefixes in the set (malloc'd; *len set),
 * NULL when out of memory. nprefix < 2^24 keeps every prefix distinct. */
static inline char *pw_scale_policy_n(unsigned nprefix, size_t *len)
{
	size_t cap = (4u << 20) + (size_t)nprefix * 32, o = 0;
	char *t = malloc(cap), p[64];

	if (!t)
		return NULL;
	o += (size_t)snprintf(t + o, cap - o, "policy \"scale\"\nset big = ");
	for (unsigned i = 0; i < nprefix; i++) {
		pw_scale_prefix(i, p, sizeof(p));
		o += (size_t)snprintf(t + o, cap - o, "%s%s", p,
				      i + 1 < nprefix ? (i % 8 == 7 ? ",\n  " : ", ") : "\n");
	}
	for (unsigned port = 1; port <= 65535; port++) {
		if (port % 2)
			o += (size_t)snprintf(t + o, cap - o, "allow in tcp port %u\n", port);
		else
			o += (size_t)snprintf(t + o, cap - o, "allow in tcp port %u from 192.0.%u.0/24\n",
					      port, port % 256);
	}
	o += (size_t)snprintf(t + o, cap - o,
			      "deny in tcp port 1-1023 from @big\n"
			      "allow out udp port 5000-5100 to @big\n"
			      "deny out udp port 5050 to 10.0.0.0/16\n");
	*len = o;
	return t;
}

/* One set used by many rules (issue 14): nprefix prefixes in @big and
 * nrules rules `allow in udp port 10001.. peer @big`, each on its own
 * port (malloc'd; *len set), NULL when out of memory. */
static inline char *pw_shared_set_policy(unsigned nprefix, unsigned nrules, size_t *len)
{
	size_t cap = 4096 + (size_t)nprefix * 32 + (size_t)nrules * 48, o = 0;
	char *t = malloc(cap), p[64];

	if (!t)
		return NULL;
	o += (size_t)snprintf(t + o, cap - o, "policy \"shared set\"\nset big = ");
	for (unsigned i = 0; i < nprefix; i++) {
		pw_scale_prefix(i, p, sizeof(p));
		o += (size_t)snprintf(t + o, cap - o, "%s%s", p,
				      i + 1 < nprefix ? (i % 8 == 7 ? ",\n  " : ", ") : "\n");
	}
	for (unsigned r = 0; r < nrules; r++)
		o += (size_t)snprintf(t + o, cap - o, "allow in udp port %u peer @big\n", 10001 + r);
	*len = o;
	return t;
}

/* The policy of the scale targets: PW_SCALE_NPREFIX prefixes. */
static inline char *pw_scale_policy(size_t *len)
{
	return pw_scale_policy_n(PW_SCALE_NPREFIX, len);
}

#endif
