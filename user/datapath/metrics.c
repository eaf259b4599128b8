/* metrics.c - Prometheus text-format metrics of a loaded portwall. */
#include "datapath/metrics.h"
#include "datapath/exc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/replace.h"
#include "lib/sha256.h"
#include "datapath/stats.h"
#include "datapath/status.h"

#define TOP 50

/* The metric lines go to f; base is the labels every sample carries
 * (host, pin_root, policy), written once. */
struct out {
	FILE *f;
	char base[600];
};

/* a label value: backslash, double quote and newline escaped */
static void label(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*s, f);
	}
	fputc('"', f);
}

/* base: host="...",pin_root="...",policy="..." */
static void base_labels(struct out *o, const struct pw_applied *a, const struct pw_metrics_ctx *ctx)
{
	const char *root = ctx && ctx->pin_root ? ctx->pin_root : PW_PIN_ROOT, *slash = strrchr(root, '/');
	char host[256] = "";
	size_t n = 0;
	FILE *m;

	if (gethostname(host, sizeof(host) - 1))
		snprintf(host, sizeof(host), "unknown");
	m = fmemopen(o->base, sizeof(o->base) - 1, "w");
	if (!m)
		return;
	fputs("host=", m);
	label(m, host);
	fputs(",pin_root=", m);
	label(m, slash && slash[1] ? slash + 1 : root);
	fputs(",policy=", m);
	label(m, a->meta.cur.name);
	n = (size_t)ftell(m);
	fclose(m);
	o->base[n < sizeof(o->base) ? n : sizeof(o->base) - 1] = '\0';
}

/* name{base (the caller adds its own labels and closes the brace) */
static void open_sample(const struct out *o, const char *name)
{
	fprintf(o->f, "%s{%s", name, o->base);
}

static void head(const struct out *o, const char *name, const char *type, const char *help)
{
	fprintf(o->f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void policy_info(const struct out *o, const struct pw_applied *a)
{
	char hex[65];

	pw_hex(a->meta.cur.hash, sizeof(a->meta.cur.hash), hex);
	head(o, "portwall_policy_info", "gauge", "The policy in force (value 1).");
	open_sample(o, "portwall_policy_info");
	fprintf(o->f, ",file=");
	label(o->f, a->meta.cur.path);
	fprintf(o->f, ",hash=\"sha256:%s\",mode=\"%s\"} 1\n", hex,
		a->meta.cur.mode == PW_MODE_MONITOR ? "monitor" : "enforce");
}

/* One metric with one sample and no labels of its own. */
static void single(const struct out *o, const char *name, const char *type, const char *help, unsigned long long v)
{
	head(o, name, type, help);
	open_sample(o, name);
	fprintf(o->f, "} %llu\n", v);
}

/* The rule's key (docs/operations.md, "Metrics"): the first 12 hex digits
 * of a SHA-256 of what it matches (allow or deny, directions, protocols,
 * ports, its peers as written, without spaces), so moving a rule, editing
 * its comment or its spacing keeps its series; "-N" for the Nth rule that
 * matches the same. Not its file:line, not its number. */
static void rule_key_hash(const struct pw_rule *r, char out[13])
{
	struct pw_sha256 h;
	uint8_t d[32], what[4] = { r->action, r->dirs, r->protos, r->ip_proto };
	char hex[65];

	pw_sha256_init(&h);
	pw_sha256_update(&h, what, sizeof(what));
	for (size_t i = 0; i < r->nranges; i++) {
		uint8_t b[4] = { r->ranges[i].lo >> 8, r->ranges[i].lo & 0xff, r->ranges[i].hi >> 8,
				 r->ranges[i].hi & 0xff };
		pw_sha256_update(&h, b, sizeof(b));
	}
	pw_sha256_update(&h, "|", 1);
	for (const char *p = r->peers_text ? r->peers_text : ""; *p; p++)
		if (*p != ' ' && *p != '\t')
			pw_sha256_update(&h, p, 1);
	pw_sha256_final(&h, d);
	pw_hex(d, 6, hex);
	memcpy(out, hex, 12);
	out[12] = '\0';
}

/* Every rule's key, keys[0] "default": each hashed once, the "-N" of a
 * repeat found among the keys before it. */
static void rule_keys(const struct pw_applied *a, uint32_t nrules, char (*keys)[24])
{
	snprintf(keys[0], sizeof(keys[0]), "default");
	for (uint32_t id = 1; id <= nrules; id++) {
		const struct pw_rule *r = pw_applied_rule(a, id);
		char k[13];
		int same = 0;
		if (!r) {
			snprintf(keys[id], sizeof(keys[id]), "rule-%u", id);
			continue;
		}
		rule_key_hash(r, k);
		for (uint32_t i = 1; i < id; i++)
			same += strncmp(keys[i], k, 12) == 0;
		if (same)
			snprintf(keys[id], sizeof(keys[id]), "%s-%d", k, same + 1);
		else
			snprintf(keys[id], sizeof(keys[id]), "%s", k);
	}
}

/* Packets, then bytes, of every rule in both directions. */
static void rule_counters(const struct out *o, const struct pw_status *s)
{
	static const char *const what[2] = { "packets", "bytes" };
	char (*keys)[24] = calloc(s->n.nrules + 1, sizeof(*keys));

	if (keys)
		rule_keys(s->a, s->n.nrules, keys);
	for (int w = 0; keys && w < 2; w++) {
		char name[64], help[160];
		snprintf(name, sizeof(name), "portwall_rule_%s_total", what[w]);
		snprintf(help, sizeof(help), "%s decided by a rule, per direction (rule: a hash of its statement; "
			 "\"default\": the default).", w ? "Bytes" : "Packets");
		head(o, name, "counter", help);
		for (uint32_t id = 0; id <= s->n.nrules; id++) {
			const struct pw_rule *r = pw_applied_rule(s->a, id);
			for (uint32_t dir = 0; dir < PW_DIR_COUNT; dir++) {
				const struct pw_counter *c = &s->n.rule[id][dir], *z = &s->n.reset[id][dir];
				open_sample(o, name);
				fprintf(o->f, ",rule=\"%s\",direction=\"%s\",comment=", keys[id], dir ? "out" : "in");
				label(o->f, r && r->comment ? r->comment : "");
				/* monotonic: what counters --reset took away is added back */
				fprintf(o->f, "} %llu\n", (unsigned long long)(w ? c->bytes + z->bytes : c->packets + z->packets));
			}
		}
	}
	free(keys);
}

static void reason_counters(const struct out *o, const struct pw_status *s)
{
	head(o, "portwall_packets_total", "counter", "Packets by verdict reason and direction.");
	for (uint32_t dir = 0; dir < PW_DIR_COUNT; dir++)
		for (int r = 0; r < PW_R_COUNT; r++) {
			open_sample(o, "portwall_packets_total");
			fprintf(o->f, ",direction=\"%s\",reason=\"%s\",verdict=\"%s\"} %llu\n", dir ? "out" : "in",
				pw_reason_names[r], r >= PW_R_FIRST_DROP ? "drop" : "pass",
				(unsigned long long)s->n.reason[dir * PW_R_COUNT + r].packets);
		}
}

/* Does an allow rule of the policy in force name this TCP or UDP port
 * (a vendor port: the drop is a peer or a direction the rule leaves
 * out)? "true", "false", or "unknown" when the policy file is not the one
 * in force or the slot is not a port. */
static const char *port_opened(const struct pw_applied *a, uint32_t slot)
{
	if (slot >= PW_SLOT_ICMP_BASE || !a->have_rules || !a->same)
		return "unknown";
	uint32_t dir = (slot >> 17) & 1, port = slot & 0xffff;
	uint8_t proto = (slot >> 16) & 1 ? PW_P_UDP : PW_P_TCP;
	for (size_t i = 0; i < a->pol.nrules; i++) {
		const struct pw_rule *r = &a->pol.rules[i];
		if (r->action != PW_PASS || !(r->dirs & (1u << dir)) || !(r->protos & proto))
			continue;
		for (size_t k = 0; k < r->nranges; k++)
			if (port >= r->ranges[k].lo && port <= r->ranges[k].hi)
				return "true";
	}
	return "false";
}

static void port_drops(const struct out *o, const struct pw_status *s)
{
	head(o, "portwall_port_drops_total", "counter",
	     "Dropped packets per direction, protocol and port (the 50 most dropped); opened: an allow rule "
	     "names the port.");
	for (int i = 0; i < s->n.ntop; i++) {
		char sn[64], dir[8], proto[32], port[32] = "";
		pw_slot_name(s->n.top[i].slot, sn, sizeof(sn));
		if (sscanf(sn, "%7s %31[^/]/%31s", dir, proto, port) < 2)
			continue;
		open_sample(o, "portwall_port_drops_total");
		fprintf(o->f, ",direction=\"%s\",protocol=\"%s\",port=\"%s\",opened=\"%s\"} %llu\n", dir, proto, port,
			port_opened(s->a, s->n.top[i].slot), (unsigned long long)s->n.top[i].packets);
	}
}

/* Each table's evictions: the one a flood fills is the one that loses flows. */
static void ct_evictions(const struct out *o, const struct pw_status *s)
{
	static const char *const table[PW_CT_TABLE_COUNT] = { "tcp", "datagram", "peer_started" };

	head(o, "portwall_conntrack_evicted_total", "counter",
	     "Tracked flows the LRU evicted from a full table, by table.");
	for (int t = 0; t < PW_CT_TABLE_COUNT; t++) {
		open_sample(o, "portwall_conntrack_evicted_total");
		fprintf(o->f, ",table=\"%s\"} %llu\n", table[t], (unsigned long long)s->ct[t].evicted);
	}
}

/* Each host name of the policy in force: its addresses alive now
 * (docs/dns.md). Bounded by the policy's names, never by peers. */
static void name_addresses(const struct out *o, const struct pw_status *s)
{
	const struct pw_compiled *c = &s->a->c;

	head(o, "portwall_dns_name_addresses", "gauge",
	     "Addresses a host name of the policy has now (0: its rules match no peer).");
	for (size_t i = 0; s->a->have_rules && s->a->same && i < c->nnames; i++) {
		unsigned n = 0;
		for (int j = 0; j < s->learned; j++)
			n += s->rec[j].k.name_hash == c->names[i].hash && s->rec[j].k.wild == c->names[i].wild &&
			     s->rec[j].v.expires_ns > s->now;
		open_sample(o, "portwall_dns_name_addresses");
		fprintf(o->f, ",name=");
		label(o->f, c->names[i].text);
		fprintf(o->f, ",wildcard=\"%s\"} %u\n", c->names[i].wild ? "true" : "false", n);
	}
}

/* What run knows of its reloads; nothing without a ctx (not run). */
static void reloads(const struct out *o, const struct pw_applied *a, const struct pw_metrics_ctx *ctx)
{
	single(o, "portwall_policy_applied_timestamp_seconds", "gauge",
	       "When the policy in force was applied (seconds since the epoch).",
	       (unsigned long long)a->meta.cur.applied_unix);
	if (!ctx)
		return;
	head(o, "portwall_reloads_total", "counter", "Reloads run tried (SIGHUP, a saved policy), by outcome.");
	open_sample(o, "portwall_reloads_total");
	fprintf(o->f, ",outcome=\"applied\"} %llu\n", (unsigned long long)ctx->reloads_ok);
	open_sample(o, "portwall_reloads_total");
	fprintf(o->f, ",outcome=\"failed\"} %llu\n", (unsigned long long)ctx->reloads_failed);
	single(o, "portwall_reload_last_success", "gauge",
	       "1 when run's last reload (or its start) put the policy in force, 0 when it failed.",
	       ctx->last_ok ? 1 : 0);
	single(o, "portwall_reload_last_timestamp_seconds", "gauge",
	       "When run last reloaded or started (seconds since the epoch).", (unsigned long long)ctx->last_unix);
}

static void conntrack(const struct out *o, const struct pw_status *s)
{
	single(o, "portwall_conntrack_entries", "gauge", "Tracked flows the host opened.",
	       (unsigned long long)s->ct_entries);
	single(o, "portwall_conntrack_created_total", "counter",
	       "Flows the host opened that the datapath started tracking.", s->gs.ct_created + s->gs.ct_dgram_created);
	single(o, "portwall_conntrack_datagram_entries", "gauge",
	       "Tracked flows the host opened but TCP (UDP, ICMP echo, ...), a table apart.",
	       (unsigned long long)s->ct[PW_CT_TABLE_DGRAM].entries);
	single(o, "portwall_conntrack_datagram_created_total", "counter",
	       "Flows the host opened but TCP that the datapath started tracking.", s->gs.ct_dgram_created);
	single(o, "portwall_conntrack_peer_started_entries", "gauge", "Tracked flows a peer started.",
	       (unsigned long long)s->ct[PW_CT_TABLE_IN].entries);
	single(o, "portwall_conntrack_peer_started_created_total", "counter",
	       "Flows a peer started that the datapath began tracking.", s->gs.ct_in_created);
	single(o, "portwall_conntrack_inbound_fin_rst_ignored_total", "counter",
	       "Inbound TCP FIN or RST that changed no tracked state.", s->gs.ct_ignored);
	ct_evictions(o, s);
}

static void write_all(const struct out *o, const struct pw_status *s, const struct pw_metrics_ctx *ctx)
{
	policy_info(o, s->a);
	single(o, "portwall_policy_generation", "gauge", "Generation of the policy in force.",
	       s->a->meta.cur.generation);
	reloads(o, s->a, ctx);
	rule_counters(o, s);
	reason_counters(o, s);
	port_drops(o, s);
	conntrack(o, s);
	name_addresses(o, s);
	single(o, "portwall_fragments_over_share_total", "counter",
	       "First fragments not remembered: their peer had its share.", s->gs.frags_over_share);
	single(o, "portwall_events_sent_total", "counter", "Drop events put into the ring buffer.",
	       s->gs.events_sent);
	single(o, "portwall_events_suppressed_total", "counter", "Drop events over the rate limit.",
	       s->gs.events_suppressed);
	single(o, "portwall_events_lost_total", "counter", "Drop events lost to a full ring buffer.",
	       s->gs.events_lost);
}

int pw_metrics_render(const struct pw_dp *dp, const struct pw_applied *a, const struct pw_metrics_ctx *ctx,
		      struct pw_drops_cache *cache, char **text, size_t *len, char *err, size_t errsz)
{
	struct out o = { 0 };
	struct pw_status s;
	int rc = pw_status_read(dp, a, TOP, cache, &s);

	*text = NULL;
	*len = 0;
	if (rc)
		return snprintf(err, errsz, "reading the counters: %s", strerror(-rc)), rc;
	o.f = open_memstream(text, len);
	if (!o.f) {
		rc = -errno;
		pw_status_free(&s);
		return snprintf(err, errsz, "making the metrics text: %s", strerror(-rc)), rc;
	}
	base_labels(&o, a, ctx);
	write_all(&o, &s, ctx);
	int live = pw_exc_live_count(dp);
	if (live >= 0)
		single(&o, "portwall_exceptions", "gauge", "Timed exceptions in force (portwall allow).",
		       (unsigned long long)live);
	pw_status_free(&s);
	if (fclose(o.f)) {
		free(*text);
		*text = NULL;
		return snprintf(err, errsz, "making the metrics text: out of memory"), -ENOMEM;
	}
	return 0;
}

int pw_metrics_write_text(const char *text, size_t len, const char *path, char *err, size_t errsz)
{
	struct pw_replace out;
	int rc = pw_replace_open(&out, path, err, errsz);

	if (rc)
		return rc;
	fwrite(text, 1, len, out.f);
	rc = pw_replace_commit(&out, 0);
	if (rc)
		snprintf(err, errsz, "writing %s: %s", path, strerror(-rc));
	return rc;
}

int pw_metrics_write(const struct pw_dp *dp, const struct pw_applied *a, const struct pw_metrics_ctx *ctx,
		     const char *path, struct pw_drops_cache *cache, char *err, size_t errsz)
{
	char *text;
	size_t len;
	int rc = pw_metrics_render(dp, a, ctx, cache, &text, &len, err, errsz);

	if (rc)
		return rc;
	rc = pw_metrics_write_text(text, len, path, err, errsz);
	free(text);
	return rc;
}
