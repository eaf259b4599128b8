/* names.c - IP protocol and ICMP type names used in policies and packets. */
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

struct name_num {
	const char *name;
	unsigned num;
};

/* A fixed table rather than /etc/protocols: a policy must mean the same on
 * every host, whatever that host's netbase package says. */
static const struct name_num protos[] = {
	{ "icmp", 1 }, { "igmp", 2 }, { "ipip", 4 }, { "tcp", 6 }, { "egp", 8 },
	{ "udp", 17 }, { "dccp", 33 }, { "ipv6", 41 }, { "rsvp", 46 }, { "gre", 47 }, { "esp", 50 },
	{ "ah", 51 }, { "icmpv6", 58 }, { "eigrp", 88 }, { "ospf", 89 }, { "pim", 103 },
	{ "vrrp", 112 }, { "l2tp", 115 }, { "sctp", 132 }, { "udplite", 136 },
};

static const struct name_num icmp4_types[] = {
	{ "echo-reply", 0 }, { "destination-unreachable", 3 }, { "source-quench", 4 },
	{ "redirect", 5 }, { "echo-request", 8 }, { "router-advertisement", 9 },
	{ "router-solicitation", 10 }, { "time-exceeded", 11 }, { "parameter-problem", 12 },
	{ "timestamp-request", 13 }, { "timestamp-reply", 14 },
};

static const struct name_num icmp6_types[] = {
	{ "destination-unreachable", 1 }, { "packet-too-big", 2 }, { "time-exceeded", 3 },
	{ "parameter-problem", 4 }, { "echo-request", 128 }, { "echo-reply", 129 },
	{ "mld-listener-query", 130 }, { "mld-listener-report", 131 },
	{ "mld-listener-done", 132 }, { "router-solicitation", 133 },
	{ "router-advertisement", 134 }, { "neighbor-solicitation", 135 },
	{ "neighbor-advertisement", 136 }, { "redirect", 137 },
	{ "mld2-listener-report", 143 },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static int by_name(const struct name_num *t, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, s) == 0)
			return (int)t[i].num;
	return -1;
}

static const char *by_num(const struct name_num *t, size_t n, unsigned v)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].num == v)
			return t[i].name;
	return NULL;
}

int pw_proto_by_name(const char *s)
{
	return by_name(protos, N(protos), s);
}

const char *pw_proto_name(unsigned proto)
{
	return by_num(protos, N(protos), proto);
}

int pw_icmp_type_by_name(const char *s, bool v6)
{
	return v6 ? by_name(icmp6_types, N(icmp6_types), s) : by_name(icmp4_types, N(icmp4_types), s);
}

const char *pw_icmp_type_name(unsigned type, bool v6)
{
	return v6 ? by_num(icmp6_types, N(icmp6_types), type) : by_num(icmp4_types, N(icmp4_types), type);
}
