/* vendor_rows.h - each shipped policy's vendor table as packets: every
 * port in the direction the table gives passes by the rule that carries that
 * row's comment; the same ports the other way and ports in no table drop,
 * outbound too (the product policies are default out drop).
 * One table drives both `explain` (tests/unit/test_policies.c) and the
 * kernel programs (tests/bpf/test_datapath.c). A row whose peer is a host
 * name is explain's only: the verdict for an address learned for that name
 * (the kernel's learning is tests/bpf/test_dns.c's); its rows with the
 * addresses of no answer hold for both. */
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
	{ "out", "icmpv6", "ff02::16", "mld2-listener-report", "PASS", "MLD reports" }, \
	{ "out", "icmpv6", "ff02::2", "mld-listener-done", "PASS", "MLD reports" },     \
	{ "in", "udp", "192.0.2.67", "68", "DROP", "default" }

/* what a product policy (default out drop) sends on its own and the vendor
 * does not list: dropped */
#define UNLISTED_OUT_ROWS                                                               \
	{ "out", "tcp", "203.0.113.80", "8080", "DROP", "default" },                    \
	{ "out", "tcp", "203.0.113.80", "22", "DROP", "default" },                      \
	{ "out", "tcp", "2001:db8::80", "3389", "DROP", "default" },                    \
	{ "out", "udp", "203.0.113.80", "443", "DROP", "default" },                     \
	{ "out", "udp", "203.0.113.80", "514", "DROP", "default" },                     \
	{ "out", "icmp", "203.0.113.80", "echo-request", "DROP", "default" },           \
	{ "out", "icmpv6", "2001:db8::80", "echo-request", "DROP", "default" },         \
	{ "out", "icmpv6", "2001:db8::80", "mld-listener-query", "DROP", "default" },   \
	{ "out", "gre", "203.0.113.80", NULL, "DROP", "default" }

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
	/* base alone is default out allow: its out rules only count */
	{ "out", "tcp", "203.0.113.80", "8080", "PASS", "default" },
	{ "out", "icmp", "203.0.113.80", "echo-request", "PASS", "default" },
};

static const char *const O365_SMTP = "Microsoft 365: email notifications and Email Reply API (SMTP)";
static const char *const O365_IMAPS = "Microsoft 365: email feeds and drafts (IMAPS)";
static const char *const O365_LOGIN = "Microsoft 365 sign-in (OAuth, HTTPS)";
static const struct row ccp_rows[] = {
	BASE_ROWS, UNLISTED_IN_ROWS, UNLISTED_OUT_ROWS,
	{ "out", "udp", "192.0.2.67", "67", "DROP", "default" },	/* DHCP: commented out in base */
	/* the vendor tables, in the directions they give */
	{ "in", "tcp", "198.51.100.7", "80", "PASS", WEB },
	{ "in", "tcp", "2001:db8::7", "443", "PASS", WEB },
	{ "out", "tcp", "203.0.113.80", "80", "PASS", FEEDS },
	{ "out", "tcp", "203.0.113.80", "443", "PASS", FEEDS },
	{ "in", "tcp", "198.51.100.7", "5222", "PASS", "Notification Service (XMPP) from Unified CCX" },
	{ "out", "tcp", "198.51.100.52", "5222", "PASS", "XMPP IM notifications to the XMPP server" },
	{ "out", "tcp", "2001:db8:5::52", "5222", "PASS", "XMPP IM notifications to the XMPP server" },
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
	/* Microsoft 365 (the guide's note): an address learned for the name */
	{ "out", "tcp", "smtp.office365.com", "587", "PASS", O365_SMTP },
	{ "out", "tcp", "smtp.office365.com", "25", "PASS", O365_SMTP },
	{ "out", "tcp", "outlook.office365.com", "993", "PASS", O365_IMAPS },
	{ "out", "tcp", "login.microsoftonline.com", "443", "PASS", O365_LOGIN },
	{ "out", "tcp", "outlook.office365.com", "587", "DROP", "default" },	/* each name its ports */
	{ "out", "tcp", "smtp.office365.com", "993", "DROP", "default" },
	{ "out", "tcp", "login.microsoftonline.com", "993", "DROP", "default" },
	/* ... and an address no answer gave: only the rules' own peers */
	{ "out", "tcp", "203.0.113.99", "587", "DROP", "default" },
	{ "out", "tcp", "203.0.113.99", "993", "DROP", "default" },
	{ "out", "tcp", "2001:db8::99", "25", "DROP", "default" },
	{ "out", "tcp", "203.0.113.99", "443", "PASS", FEEDS },
	/* peer restrictions */
	{ "in", "tcp", "198.51.100.11", "38001", "DROP", "default" },
	{ "in", "tcp", "2001:db8:5::11", "38001", "DROP", "default" },
	{ "out", "tcp", "203.0.113.25", "25", "DROP", "default" },
	{ "out", "tcp", "203.0.113.52", "5222", "DROP", "default" },
	{ "out", "tcp", "198.51.100.52", "993", "DROP", "default" },
	/* inward-only ports are not open outward */
	{ "out", "tcp", "198.51.100.10", "38001", "DROP", "default" },
	{ "out", "tcp", "203.0.113.9", "10443", "DROP", "default" },
	{ "out", "tcp", "198.51.100.7", "7443", "DROP", "default" },
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
static const char *const FINESSE_WEB_OUT = "gadgets from third-party web servers, the ECE web server (HTTPS)";
static const struct row finesse_rows[] = {
	BASE_ROWS, UNLISTED_IN_ROWS, UNLISTED_OUT_ROWS,
	{ "out", "udp", "192.0.2.67", "67", "DROP", "default" },	/* DHCP: commented out in base */
	{ "in", "tcp", "198.51.100.7", "80", "PASS", "HTTP: desktops and admin, redirected to HTTPS" },
	{ "in", "tcp", "198.51.100.7", "8082", "PASS", "HTTP: desktops and admin, redirected to HTTPS" },
	{ "in", "tcp", "198.51.100.7", "443", "PASS", FINESSE_HTTPS },
	{ "in", "tcp", "2001:db8::7", "8445", "PASS", FINESSE_HTTPS },
	{ "in", "tcp", "198.51.100.7", "5222", "PASS", "XMPP: the other Finesse node, and desktops of older releases" },
	{ "in", "tcp", "198.51.100.7", "5223", "PASS", "secure XMPP for third-party applications" },
	{ "in", "tcp", "198.51.100.7", "7071", "PASS", "BOSH (7071, off from 12.5(1)) and secure BOSH (7443) to desktops" },
	{ "in", "tcp", "198.51.100.7", "7443", "PASS", "BOSH (7071, off from 12.5(1)) and secure BOSH (7443) to desktops" },
	{ "out", "tcp", "198.51.100.8", "5222", "PASS", "XMPP to the other Finesse node" },
	{ "out", "tcp", "2001:db8:5::8", "5222", "PASS", "XMPP to the other Finesse node" },
	{ "out", "tcp", "198.51.100.50", "443", "PASS", FINESSE_WEB_OUT },
	{ "out", "tcp", "2001:db8:5::50", "443", "PASS", FINESSE_WEB_OUT },
	{ "out", "tcp", "198.51.100.30", "1433", "PASS", "JDBC: agent and supervisor authentication against the AWDB" },
	{ "out", "tcp", "198.51.100.40", "42027", "PASS", FINESSE_CTI },
	{ "out", "tcp", "198.51.100.41", "43027", "PASS", FINESSE_CTI },
	/* peer restrictions, and what Finesse's table does not list */
	{ "out", "tcp", "198.51.100.31", "1433", "DROP", "default" },
	{ "out", "tcp", "198.51.100.9", "5222", "DROP", "default" },
	{ "out", "tcp", "198.51.100.42", "42027", "DROP", "default" },
	{ "out", "tcp", "203.0.113.80", "443", "DROP", "default" },
	{ "out", "tcp", "203.0.113.80", "80", "DROP", "default" },
	{ "out", "tcp", "198.51.100.25", "587", "DROP", "default" },
	{ "out", "tcp", "198.51.100.30", "1434", "DROP", "default" },
	/* the other way */
	{ "in", "tcp", "198.51.100.30", "1433", "DROP", "default" },
	{ "in", "tcp", "198.51.100.40", "42027", "DROP", "default" },
	{ "in", "tcp", "198.51.100.41", "43027", "DROP", "default" },
	{ "in", "tcp", "198.51.100.7", "8081", "DROP", "default" },
	{ "in", "tcp", "198.51.100.7", "8444", "DROP", "default" },
	{ "in", "tcp", "198.51.100.7", "38001", "DROP", "default" },
};

static const struct row socialminer_rows[] = {
	BASE_ROWS, UNLISTED_IN_ROWS, UNLISTED_OUT_ROWS,
	{ "out", "udp", "192.0.2.67", "67", "DROP", "default" },	/* DHCP: commented out in base */
	{ "in", "tcp", "198.51.100.7", "80", "PASS", WEB },
	{ "in", "tcp", "198.51.100.7", "443", "PASS", WEB },
	{ "out", "tcp", "203.0.113.80", "443", "PASS", FEEDS },
	{ "out", "tcp", "203.0.113.80", "80", "PASS", FEEDS },
	{ "out", "tcp", "198.51.100.52", "5222", "PASS", "XMPP notifications to the XMPP server" },
	{ "out", "tcp", "2001:db8:5::52", "5222", "PASS", "XMPP notifications to the XMPP server" },
	{ "out", "tcp", "203.0.113.52", "5222", "DROP", "default" },
	{ "out", "tcp", "198.51.100.25", "587", "DROP", "default" },	/* no mail in this table */
	{ "out", "tcp", "198.51.100.10", "38001", "DROP", "default" },
	{ "in", "tcp", "198.51.100.7", "7071", "PASS", BOSH },
	{ "in", "tcp", "198.51.100.7", "7443", "PASS", BOSH },
	{ "in", "tcp", "198.51.100.10", "38001", "PASS", MR },
	{ "in", "tcp", "198.51.100.12", "38001", "DROP", "default" },
	{ "in", "tcp", "198.51.100.7", "5222", "DROP", "default" },	/* 5222 is outbound only */
	{ "in", "tcp", "198.51.100.7", "8442", "DROP", "default" },
	{ "in", "tcp", "198.51.100.7", "10443", "DROP", "default" },
};

static const char *const ENGAGE_WS = "HTTP(S) endpoints: sign-on/off, in-call status (cca.ws)";
static const char *const ENGAGE_NS = "TCP endpoint: server-initiated events (queue status, transfers)";
/* nothing inbound at all, SSH included */
#define ENGAGE_IN_ROWS                                                                  \
	{ "in", "tcp", "203.0.113.10", "80", "DROP", "default" },                       \
	{ "in", "tcp", "203.0.113.10", "443", "DROP", "default" },                      \
	{ "in", "tcp", "203.0.113.10", "5222", "DROP", "default" },                     \
	{ "in", "tcp", "198.51.100.7", "22", "DROP", "default" },                       \
	{ "in", "udp", "192.0.2.67", "68", "DROP", "default" },                         \
	{ "in", "icmp", "198.51.100.7", "echo-request", "DROP", "default" },            \
	{ "in", "icmpv6", "fe80::1", "neighbor-advertisement", "PASS", "always" }

static const struct row engage_client_rows[] = {
	UNLISTED_IN_ROWS, UNLISTED_OUT_ROWS, ENGAGE_IN_ROWS,
	/* the guide's endpoints: an address learned for each name */
	{ "out", "tcp", "pop0-ccaws.mycontactcenter.net", "443", "PASS", ENGAGE_WS },
	{ "out", "tcp", "pop1-ccaws.mycontactcenter.net", "80", "PASS", ENGAGE_WS },
	{ "out", "tcp", "pop6-ccaws.mycontactcenter.net", "443", "PASS", ENGAGE_WS },
	{ "out", "tcp", "pop8-ccaws.mycontactcenter.net", "80", "PASS", ENGAGE_WS },
	{ "out", "tcp", "pop0-ccans.mycontactcenter.net", "443", "PASS", ENGAGE_NS },
	{ "out", "tcp", "pop1-ccans.mycontactcenter.net", "443", "PASS", ENGAGE_NS },
	{ "out", "tcp", "pop6-ccans.mycontactcenter.net", "443", "PASS", ENGAGE_NS },
	{ "out", "tcp", "pop8-ccans.mycontactcenter.net", "443", "PASS", ENGAGE_NS },
	{ "out", "tcp", "pop1-ccans.mycontactcenter.net", "80", "DROP", "default" },	/* ":443" only */
	{ "out", "tcp", "pop1-ccans.mycontactcenter.net", "5222", "PASS", "XMPP presence" },
	{ "out", "tcp", "pop6-ccaws.mycontactcenter.net", "5222", "PASS", "XMPP presence" },
	{ "out", "tcp", "xmpp.pop1.mycontactcenter.net", "5222", "PASS", "XMPP presence" },
	{ "out", "tcp", "xmpp.pop1.mycontactcenter.net", "443", "DROP", "default" },
	{ "out", "tcp", "mycontactcenter.net", "5222", "DROP", "default" },	/* whole labels only */
	{ "out", "tcp", "evilmycontactcenter.net", "5222", "DROP", "default" },
	{ "out", "tcp", "pop2-ccaws.mycontactcenter.net", "443", "DROP", "default" },	/* not in the guide */
	{ "out", "tcp", "pop1-ccaws.mycontactcenter.net", "8443", "DROP", "default" },
	/* addresses no answer gave: dropped, whatever they are */
	{ "out", "tcp", "203.0.113.10", "80", "DROP", "default" },
	{ "out", "tcp", "203.0.113.10", "443", "DROP", "default" },
	{ "out", "tcp", "2001:db8:e::10", "443", "DROP", "default" },
	{ "out", "tcp", "203.0.113.10", "5222", "DROP", "default" },
	{ "out", "tcp", "198.51.100.80", "443", "DROP", "default" },	/* other sites */
	/* the host's own services */
	{ "out", "udp", "192.0.2.53", "53", "PASS", "DNS queries" },
	{ "out", "tcp", "2001:db8::53", "53", "PASS", "DNS queries" },
	{ "out", "udp", "192.0.2.123", "123", "PASS", "NTP" },
	{ "out", "udp", "192.0.2.67", "67", "PASS", "DHCP client requests" },
	{ "out", "icmpv6", "ff02::16", "mld2-listener-report", "PASS", "MLD reports" },
};

static const struct row engage_client_permissive_rows[] = {
	UNLISTED_IN_ROWS, ENGAGE_IN_ROWS,
	/* the rules count the guide's endpoints... */
	{ "out", "tcp", "pop1-ccaws.mycontactcenter.net", "80", "PASS", ENGAGE_WS },
	{ "out", "tcp", "pop8-ccans.mycontactcenter.net", "443", "PASS", ENGAGE_NS },
	{ "out", "tcp", "pop0-ccans.mycontactcenter.net", "5222", "PASS", "XMPP presence" },
	{ "out", "udp", "192.0.2.53", "53", "PASS", "DNS queries" },
	/* ... and everything else goes out too */
	{ "out", "tcp", "203.0.113.10", "443", "PASS", "default" },
	{ "out", "tcp", "198.51.100.80", "443", "PASS", "default" },
	{ "out", "tcp", "198.51.100.80", "8080", "PASS", "default" },
	{ "out", "udp", "192.0.2.67", "67", "PASS", "default" },
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
	VT(engage_client_permissive, "policies/engage-client-permissive.policy"),
};
#undef VT

#endif
