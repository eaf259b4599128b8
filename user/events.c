/* events.c - drop events as log lines. */
#include "events.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "loader.h"
#include "policy.h"

/* the event's monotonic time as wall-clock time */
static void when(uint64_t ts_ns, char *buf, size_t n)
{
	struct timespec mono, real;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	int64_t now_mono = (int64_t)mono.tv_sec * 1000000000ll + mono.tv_nsec;
	int64_t t = (int64_t)real.tv_sec * 1000000000ll + real.tv_nsec - (now_mono - (int64_t)ts_ns);
	time_t s = (time_t)(t / 1000000000ll);
	struct tm tm;
	gmtime_r(&s, &tm);
	size_t o = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + o, n - o, ".%03dZ", (int)((t / 1000000) % 1000));
}

void pw_event_format(const struct pw_event *e, const char *ifname, const char *rule_loc,
		     char *buf, size_t size)
{
	char t[40], a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], ifn[24], proto[16], flags[16] = "";
	int af = e->fam == PW_FAM_V6 ? AF_INET6 : AF_INET;
	const char *pn = pw_proto_name(e->proto);

	when(e->ts_ns, t, sizeof(t));
	inet_ntop(af, e->src, a, sizeof(a));
	inet_ntop(af, e->dst, b, sizeof(b));
	if (ifname)
		snprintf(ifn, sizeof(ifn), "%s", ifname);
	else
		snprintf(ifn, sizeof(ifn), "if%u", e->ifindex);
	if (pn)
		snprintf(proto, sizeof(proto), "%s", pn);
	else
		snprintf(proto, sizeof(proto), "proto/%u", e->proto);
	if (e->proto == 6) {
		static const char fl[] = "FSRPAU";
		size_t k = 0;
		flags[k++] = ' ';
		flags[k++] = '[';
		for (int i = 0; i < 6; i++)
			if (e->tcp_flags & (1 << i))
				flags[k++] = fl[i];
		flags[k++] = ']';
		flags[k] = '\0';
	}
	const char *reason = e->reason < PW_R_COUNT ? pw_reason_names[e->reason] : "?";
	const char *mon = e->monitor ? " (monitor: passed)" : "";
	if (e->proto == 6 || e->proto == 17) {
		bool v6 = e->fam == PW_FAM_V6;
		snprintf(buf, size, "%s %s %s %s %s %s %s%s%s:%u -> %s%s%s:%u%s%s", t, ifn, e->dir ? "out" : "in",
			 reason, rule_loc ? rule_loc : "-", proto, v6 ? "[" : "", a, v6 ? "]" : "", ntohs(e->sport_be),
			 v6 ? "[" : "", b, v6 ? "]" : "", ntohs(e->dport_be), flags, mon);
	} else if (e->proto == 1 || e->proto == 58) {
		const char *tn = pw_icmp_type_name(e->icmp_type, e->proto == 58);
		snprintf(buf, size, "%s %s %s %s %s %s %s -> %s type %s%s", t, ifn, e->dir ? "out" : "in", reason,
			 rule_loc ? rule_loc : "-", proto, a, b, tn ? tn : "?", mon);
	} else if (e->fam == PW_FAM_V4 || e->fam == PW_FAM_V6) {
		snprintf(buf, size, "%s %s %s %s %s %s %s -> %s%s", t, ifn, e->dir ? "out" : "in", reason,
			 rule_loc ? rule_loc : "-", proto, a, b, mon);
	}
}
