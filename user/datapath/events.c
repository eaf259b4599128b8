/* events.c - drop events: read from the ring buffer (one reader at a
 * time), as log lines. */
#include "datapath/events.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "datapath/state.h"
#include "datapath/loader.h"
#include "lib/json.h"
#include "policy/evrec.h"
#include "policy/policy.h"

int64_t pw_event_real_ms(uint64_t ts_ns)
{
	struct timespec mono, real;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	int64_t now_mono = (int64_t)mono.tv_sec * 1000000000ll + mono.tv_nsec;
	int64_t t = (int64_t)real.tv_sec * 1000000000ll + real.tv_nsec - (now_mono - (int64_t)ts_ns);
	return t / 1000000ll;
}

/* The parts both formats print: time, addresses, protocol, TCP flags. */
struct ev_text {
	char t[40], a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], proto[16], flags[8];
};

static void ev_text(const struct pw_event *e, int64_t real_ms, const char *unnamed_fmt, struct ev_text *x)
{
	int af = e->fam == PW_FAM_V6 ? AF_INET6 : AF_INET;
	const char *pn = pw_proto_name(e->proto);
	size_t k = 0;

	pw_evrec_time(real_ms, true, x->t, sizeof(x->t));
	inet_ntop(af, e->src, x->a, sizeof(x->a));
	inet_ntop(af, e->dst, x->b, sizeof(x->b));
	if (pn)
		snprintf(x->proto, sizeof(x->proto), "%s", pn);
	else
		snprintf(x->proto, sizeof(x->proto), unnamed_fmt, e->proto);
	for (int i = 0; e->proto == 6 && i < 6; i++)
		if (e->tcp_flags & (1 << i))
			x->flags[k++] = "FSRPAU"[i];
	x->flags[k] = '\0';
}

void pw_event_format(const struct pw_event *e, int64_t real_ms, const char *ifname, const char *rule_loc,
		     char *buf, size_t size)
{
	struct ev_text x;
	char ifn[24], flags[16] = "";

	ev_text(e, real_ms, "proto/%u", &x);
	if (ifname)
		snprintf(ifn, sizeof(ifn), "%s", ifname);
	else
		snprintf(ifn, sizeof(ifn), "if%u", e->ifindex);
	if (e->proto == 6)
		snprintf(flags, sizeof(flags), " [%s]", x.flags);
	const char *reason = e->reason < PW_R_COUNT ? pw_reason_names[e->reason] : "?";
	const char *mon = e->monitor ? " (monitor: passed)" : "";
	if (e->proto == 6 || e->proto == 17) {
		bool v6 = e->fam == PW_FAM_V6;
		snprintf(buf, size, "%s %s %s %s %s %s %s%s%s:%u -> %s%s%s:%u%s%s", x.t, ifn, e->dir ? "out" : "in",
			 reason, rule_loc ? rule_loc : "-", x.proto, v6 ? "[" : "", x.a, v6 ? "]" : "", ntohs(e->sport_be),
			 v6 ? "[" : "", x.b, v6 ? "]" : "", ntohs(e->dport_be), flags, mon);
	} else if (e->proto == 1 || e->proto == 58) {
		const char *tn = pw_icmp_type_name(e->icmp_type, e->proto == 58);
		snprintf(buf, size, "%s %s %s %s %s %s %s -> %s type %s%s", x.t, ifn, e->dir ? "out" : "in", reason,
			 rule_loc ? rule_loc : "-", x.proto, x.a, x.b, tn ? tn : "?", mon);
	} else if (e->fam == PW_FAM_V4 || e->fam == PW_FAM_V6) {
		snprintf(buf, size, "%s %s %s %s %s %s %s -> %s%s", x.t, ifn, e->dir ? "out" : "in", reason,
			 rule_loc ? rule_loc : "-", x.proto, x.a, x.b, mon);
	}
}

static json_t *ev_rule(const struct pw_event *e, const char *rule_file, int rule_line)
{
	if (rule_file)
		return json_pack("{s:I,s:o?,s:i}", "id", (json_int_t)e->rule, "file",
				 pw_json_string(rule_file), "line", rule_line);
	if (e->rule)
		return json_pack("{s:I}", "id", (json_int_t)e->rule);
	return json_null();
}

char *pw_event_json(const struct pw_event *e, int64_t real_ms, const char *ifname, const char *rule_file,
		    int rule_line)
{
	struct ev_text x;
	bool ports = e->proto == 6 || e->proto == 17;
	bool icmp = e->proto == 1 || e->proto == 58;

	ev_text(e, real_ms, "%u", &x);
	/* "o?": a name lost to out of memory is null; the pack fails only whole */
	json_t *v = json_pack("{s:s,s:I,s:o?,s:s,s:s,s:o?,s:s,s:s,s:s,s:i,s:i,s:s,s:i,s:I,s:I,s:b}",
			      "time", x.t, "ifindex", (json_int_t)e->ifindex,
			      "iface", ifname ? pw_json_string(ifname) : json_null(),
			      "dir", e->dir ? "out" : "in",
			      "reason", e->reason < PW_R_COUNT ? pw_reason_names[e->reason] : "?",
			      "rule", ev_rule(e, rule_file, rule_line), "proto", x.proto, "src", x.a, "dst", x.b,
			      "sport", ports ? ntohs(e->sport_be) : -1, "dport", ports ? ntohs(e->dport_be) : -1,
			      "tcp_flags", x.flags, "icmp_type", icmp ? e->icmp_type : -1,
			      "vlan", (json_int_t)e->vlan, "len", (json_int_t)e->len, "monitor", (int)e->monitor);
	if (!v)
		return NULL;
	char *out = json_dumps(v, JSON_COMPACT);
	json_decref(v);
	return out;
}

int pw_events_lock(const char *root, int *holder)
{
	return pw_owner_lock(root, "events", holder);
}

/* for pw_dp_read_events (in loader.h: it reads the datapath's ring buffer) */
struct ev_ctx {
	void (*fn)(const struct pw_event *e, void *ctx);
	void *ctx;
	int n;
};

static int on_event(void *ctx, void *data, size_t size)
{
	struct ev_ctx *c = ctx;

	if (size < sizeof(struct pw_event))
		return 0;
	c->fn(data, c->ctx);
	c->n++;
	return 0;
}

int pw_dp_read_events(const struct pw_dp *dp, void (*fn)(const struct pw_event *e, void *ctx), void *ctx)
{
	struct ev_ctx c = { fn, ctx, 0 };
	struct ring_buffer *rb = ring_buffer__new(dp->events_fd, on_event, &c, NULL);

	if (!rb)
		return -errno;
	int rc = ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return rc < 0 ? rc : c.n;
}
