/* vendor_rows.h - each shipped policy's vendor table as packets: every
 * port in the direction the table gives passes by the rule that carries that
 * row's comment; the same ports the other way and ports in no table drop.
 * One table drives both `explain` (tests/unit/test_policies.c) and the
 * kernel programs (tests/bpf/test_datapath.c). */
#ifndef PW_VENDOR_ROWS_H
#define PW_VENDOR_ROWS_H

#include <stddef.h>

struct row {
	const char *dir, *proto, *peer, *port;
	const char *verdict;	/* "PASS" / "DROP" */
	const char *by;		/* the deciding rule's comment, "default" or "always" */
};

static const char *const WEB = "UI, APIs, chat and callback requests (HTTP/HTTPS)";
static const char *const FEEDS = "fetching social contacts and feeds (HTTP/HTTPS)";
static const char *const BOSH = "eventing and chat over BOSH (7071) and secure BOSH (7443)";
static const char *const MR = "media routing from the CCE MR PG";

/* base.policy rows, true for every policy that includes it */
#define BASE_ROWS                                                                       \
	{ "in", "tcp", "198.51.100.7", "22", "PASS", "SSH administration" },            \
	{ "in", "tcp", "2001:db8::7", "22", "PASS", "SSH administration" },             \
	{ "out", "udp", "192.0.2.53", "53", "PASS", "DNS queries" },                    \
	{ "out", "tcp", "2001:db8::53", "53", "PASS", "DNS queries" },                  \
	{ "out", "udp", "192.0.2.123", "123", "PASS", "NTP" },                          \
	{ "in", "udp", "192.0.2.53", "53", "DROP", "default" },                         \
	{ "in", "udp", "192.0.2.123", "123", "DROP", "default" },                       \
	{ "in", "icmp", "198.51.100.7", "echo-request", "PASS", "ping" },               \
	{ "in", "icmp", "198.51.100.7", "echo-reply", "DROP", "default" },              \
	{ "in", "icmp", "198.51.100.7", "destination-unreachable", "PASS", "ICMP errors" }, \
	{ "in", "icmp", "198.51.100.7", "redirect", "DROP", "default" },                 \
	{ "in", "icmpv6", "2001:db8::7", "echo-request", "PASS", "ping6" },             \
	{ "in", "icmpv6", "2001:db8::7", "packet-too-big", "PASS", "IPv6 path-MTU discovery" }, \
	{ "in", "icmpv6", "2001:db8::7", "time-exceeded", "PASS", "ICMPv6 errors" },    \
	{ "in", "icmpv6", "2001:db8::7", "neighbor-solicitation", "PASS", "always" },   \
	{ "in", "icmpv6", "fe80::1", "router-advertisement", "PASS", "always" },        \
	{ "in", "icmpv6", "2001:db8::7", "redirect", "DROP", "default" },               \
	{ "in", "udp", "192.0.2.67", "68", "DROP", "default" }

/* ports in none of the tables: every direction of them inbound drops */
#define UNLISTED_IN_ROWS                                                                \
	{ "in", "tcp", "198.51.100.7", "1", "DROP", "default" },                        \
	{ "in", "tcp", "198.51.100.7", "21", "DROP", "default" },                       \
	{ "in", "tcp", "198.51.100.7", "23", "DROP", "default" },                       \
	{ "in", "tcp", "198.51.100.7", "3389", "DROP", "default" },                     \
	{ "in", "tcp", "198.51.100.7", "8080", "DROP", "default" },                     \
	{ "in", "tcp", "2001:db8::7", "8443", "DROP", "default" },                      \
	{ "in", "tcp", "198.51.100.7", "65535", "DROP", "default" },                    \
	{ "in", "tcp", "198.51.100.7", "0", "DROP", "default" },                        \
	{ "in", "udp", "198.51.100.7", "161", "DROP", "default" },                      \
	{ "in", "udp", "198.51.100.7", "5060", "DROP", "default" },                     \
	{ "in", "gre", "198.51.100.7", NULL, "DROP", "default" },                       \
	{ "in", "esp", "2001:db8::7", NULL, "DROP", "default" }

static const struct row base_rows[] = { BASE_ROWS, UNLISTED_IN_ROWS,
	{ "in", "tcp", "198.51.100.7", "443", "DROP", "default" },
};

static const struct row ccp_rows[] = {
	BASE_ROWS, UNLISTED_IN_ROWS,
	/* the vendor tables, in the directions they give */
	{ "in", "tcp", "198.51.100.7", "80", "PASS", WEB },
	{ "in", "tcp", "2001:db8::7", "443", "PASS", WEB },
	{ "out", "tcp", "203.0.113.80", "80", "PASS", FEEDS },
	{ "out", "tcp", "203.0.113.80", "443", "PASS", FEEDS },
	{ "in", "tcp", "198.51.100.7", "5222", "PASS", "Notification Service (XMPP) from Unified CCX" },
	{ "out", "tcp", "203.0.113.52", "5222", "PASS", "XMPP IM notifications to the XMPP server" },
	{ "in", "tcp", "198.51.100.7", "7071", "PASS", BOSH },
	{ "in", "tcp", "198.51.100.7", "7443", "PASS", BOSH },
	{ "in", "tcp", "198.51.100.7", "8442", "PASS", "browser access through the VPN-less reverse proxy" },
	{ "in", "tcp", "203.0.113.9", "10443", "PASS", "Chat Gateway webhook, inward from the internet" },
	{ "in", "tcp", "198.51.100.10", "38001", "PASS", MR },
	{ "in", "tcp", "2001:db8:5::10", "38001", "PASS", MR },
	{ "out", "tcp", "198.51.100.25", "25", "PASS", "email notifications (SMTP, SMTP over TLS)" },
	{ "out", "tcp", "198.51.100.25", "465", "PASS", "email notifications (SMTP, SMTP over TLS)" },
	{ "out", "tcp", "2001:db8:5::25", "587", "PASS", "Email Reply API (SMTP submission)" },
	{ "out", "tcp", "198.51.100.25", "993", "PASS", "email feeds and drafts (IMAPS)" },
	/* peer restrictions */
	{ "in", "tcp", "198.51.100.11", "38001", "DROP", "default" },
	{ "in", "tcp", "2001:db8:5::11", "38001", "DROP", "default" },
	{ "out", "tcp", "203.0.113.25", "25", "PASS", "default" },	/* default out allow */
	/* the same ports the other way */
	{ "in", "tcp", "198.51.100.25", "25", "DROP", "default" },
	{ "in", "tcp", "198.51.100.25", "465", "DROP", "default" },
	{ "in", "tcp", "198.51.100.25", "587", "DROP", "default" },
	{ "in", "tcp", "198.51.100.25", "993", "DROP", "default" },
	{ "in", "udp", "198.51.100.7", "443", "DROP", "default" },
	{ "in", "udp", "198.51.100.7", "5222", "DROP", "default" },
	/* neighbours of listed ports */
	{ "in", "tcp", "198.51.100.7", "79", "DROP", "default" },
	{ "in", "tcp", "198.51.100.7", "81", "DROP", "default" },
	{ "in", "tcp", "198.51.100.7", "5223", "DROP", "default" },
	{ "in", "tcp", "198.51.100.10", "38002", "DROP", "default" },
	{ "in", "tcp", "198.51.100.7", "10444", "DROP", "default" },
};

static const char *const FINESSE_HTTPS = "HTTPS: admin console, agent/supervisor desktop, gadgets, IP Phone Agent";
static const char *const FINESSE_CTI = "CTI (GED-188) to the Agent PG, side A 42027 / side B 43027";
static const struct row finesse_rows[] = {
	BASE_ROWS, UNLISTED_IN_ROWS,
	{ "in", "tcp", "198.51.100.7", "80", "PASS", "HTTP: desktops and admin, redirected to HTTPS" },
	{ "in", "tcp", "198.51.100.7", "8082", "PASS", "HTTP: desktops and admin, redirected to HTTPS" },
	{ "in", "tcp", "198.51.100.7", "443", "PASS", FINESSE_HTTPS },
	{ "in", "tcp", "2001:db8::7", "8445", "PASS", FINESSE_HTTPS },
	{ "in", "tcp", "198.51.100.7", "5222", "PASS", "XMPP: the other Finesse node, and desktops of older releases" },
	{ "in", "tcp", "198.51.100.7", "5223", "PASS", "secure XMPP for third-party applications" },
	{ "in", "tcp", "198.51.100.7", "7071", "PASS", "BOSH (7071, off from 12.5(1)) and secure BOSH (7443) to desktops" },
	{ "in", "tcp", "198.51.100.7", "7443", "PASS", "BOSH (7071, off from 12.5(1)) and secure BOSH (7443) to desktops" },
	{ "out", "tcp", "198.51.100.8", "5222", "PASS", "XMPP to the other Finesse node" },
	{ "out", "tcp", "198.51.100.30", "1433", "PASS", "JDBC: agent and supervisor authentication against the AWDB" },
	{ "out", "tcp", "198.51.100.40", "42027", "PASS", FINESSE_CTI },
	{ "out", "tcp", "198.51.100.41", "43027", "PASS", FINESSE_CTI },
	{ "out", "tcp", "198.51.100.31", "1433", "PASS", "default" },
	/* the other way */
	{ "in", "tcp", "198.51.100.30", "1433", "DROP", "default" },
	{ "in", "tcp", "198.51.100.40", "42027", "DROP", "default" },
	{ "in", "tcp", "198.51.100.41", "43027", "DROP", "default" },
	{ "in", "tcp", "198.51.100.7", "8081", "DROP", "default" },
	{ "in", "tcp", "198.51.100.7", "8444", "DROP", "default" },
	{ "in", "tcp", "198.51.100.7", "38001", "DROP", "default" },
};

static const struct row socialminer_rows[] = {
	BASE_ROWS, UNLISTED_IN_ROWS,
	{ "in", "tcp", "198.51.100.7", "80", "PASS", WEB },
	{ "in", "tcp", "198.51.100.7", "443", "PASS", WEB },
	{ "out", "tcp", "203.0.113.80", "443", "PASS", FEEDS },
	{ "out", "tcp", "203.0.113.52", "5222", "PASS", "XMPP notifications to the XMPP server" },
	{ "in", "tcp", "198.51.100.7", "7071", "PASS", BOSH },
	{ "in", "tcp", "198.51.100.7", "7443", "PASS", BOSH },
	{ "in", "tcp", "198.51.100.10", "38001", "PASS", MR },
	{ "in", "tcp", "198.51.100.12", "38001", "DROP", "default" },
	{ "in", "tcp", "198.51.100.7", "5222", "DROP", "default" },	/* 5222 is outbound only */
	{ "in", "tcp", "198.51.100.7", "8442", "DROP", "default" },
	{ "in", "tcp", "198.51.100.7", "10443", "DROP", "default" },
};

static const char *const ENGAGE_CLIENT_WEBOUT = "sign-on/off, call status events, server event link";
static const struct row engage_client_rows[] = {
	UNLISTED_IN_ROWS,
	{ "out", "tcp", "203.0.113.10", "80", "PASS", ENGAGE_CLIENT_WEBOUT },
	{ "out", "tcp", "203.0.113.10", "443", "PASS", ENGAGE_CLIENT_WEBOUT },
	{ "out", "tcp", "2001:db8:e::10", "443", "PASS", ENGAGE_CLIENT_WEBOUT },
	{ "out", "tcp", "203.0.113.10", "5222", "PASS", "XMPP presence" },
	{ "out", "udp", "192.0.2.53", "53", "PASS", "DNS queries" },
	{ "out", "tcp", "198.51.100.80", "443", "PASS", "default" },	/* other sites: default out */
	/* nothing inbound at all, SSH included */
	{ "in", "tcp", "203.0.113.10", "80", "DROP", "default" },
	{ "in", "tcp", "203.0.113.10", "443", "DROP", "default" },
	{ "in", "tcp", "203.0.113.10", "5222", "DROP", "default" },
	{ "in", "tcp", "198.51.100.7", "22", "DROP", "default" },
	{ "in", "icmp", "198.51.100.7", "echo-request", "DROP", "default" },
	{ "in", "icmpv6", "fe80::1", "neighbor-advertisement", "PASS", "always" },
};

struct vendor_table {
	const char *policy;
	const struct row *rows;
	size_t n;
};

#define VT(name, path) { path, name##_rows, sizeof(name##_rows) / sizeof(name##_rows[0]) }
static const struct vendor_table vendor_tables[] = {
	VT(base, "policies/base.policy"),
	VT(ccp, "policies/ccp.policy"),
	VT(finesse, "policies/finesse.policy"),
	VT(socialminer, "policies/socialminer.policy"),
	VT(engage_client, "policies/engage-client.policy"),
};
#undef VT

#endif
