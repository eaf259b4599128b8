/* metrics.c - Prometheus text-format metrics of a loaded portwall. */
#include "datapath/metrics.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/replace.h"
#include "lib/sha256.h"
#include "datapath/stats.h"
#include "datapath/status.h"

#define TOP 50

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

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void policy_info(FILE *f, const struct pw_applied *a)
{
	char hex[65];

	pw_hex(a->meta.cur.hash, sizeof(a->meta.cur.hash), hex);
	head(f, "portwall_policy_info", "gauge", "The policy in force (value 1).");
	fprintf(f, "portwall_policy_info{name=");
	label(f, a->meta.cur.name);
	fprintf(f, ",file=");
	label(f, a->meta.cur.path);
	fprintf(f, ",hash=\"sha256:%s\",mode=\"%s\"} 1\n", hex, a->meta.cur.mode == PW_MODE_MONITOR ? "monitor" : "enforce");
}

/* One metric with one sample and no labels. */
static void single(FILE *f, const char *name, const char *type, const char *help, unsigned long long v)
{
	head(f, name, type, help);
	fprintf(f, "%s %llu\n", name, v);
}

/* Packets, then bytes, of every rule in both directions. */
static void rule_counters(FILE *f, const struct pw_status *s)
{
	static const char *const what[2] = { "packets", "bytes" };

	for (int w = 0; w < 2; w++) {
		char name[64], help[128];
		snprintf(name, sizeof(name), "portwall_rule_%s_total", what[w]);
		snprintf(help, sizeof(help), "%s decided by a rule, per direction (rule 0: the default).",
			 w ? "Bytes" : "Packets");
		head(f, name, "counter", help);
		for (uint32_t id = 0; id <= s->n.nrules; id++) {
			const struct pw_rule *r = pw_applied_rule(s->a, id);
			char loc[300];
			snprintf(loc, sizeof(loc), "%s:%d", r ? r->file : "default", r ? r->line : 0);
			for (uint32_t dir = 0; dir < PW_DIR_COUNT; dir++) {
				const struct pw_counter *c = &s->n.rule[id][dir], *z = &s->n.reset[id][dir];
				fprintf(f, "%s{rule=\"%u\",direction=\"%s\",location=", name, id, dir ? "out" : "in");
				label(f, r ? loc : "default");
				fprintf(f, ",comment=");
				label(f, r && r->comment ? r->comment : "");
				/* monotonic: what counters --reset took away is added back */
				fprintf(f, "} %llu\n", (unsigned long long)(w ? c->bytes + z->bytes : c->packets + z->packets));
			}
		}
	}
}

static void reason_counters(FILE *f, const struct pw_status *s)
{
	head(f, "portwall_packets_total", "counter", "Packets by verdict reason and direction.");
	for (uint32_t dir = 0; dir < PW_DIR_COUNT; dir++)
		for (int r = 0; r < PW_R_COUNT; r++)
			fprintf(f, "portwall_packets_total{direction=\"%s\",reason=\"%s\",verdict=\"%s\"} %llu\n",
				dir ? "out" : "in", pw_reason_names[r], r >= PW_R_FIRST_DROP ? "drop" : "pass",
				(unsigned long long)s->n.reason[dir * PW_R_COUNT + r].packets);
}

static void port_drops(FILE *f, const struct pw_status *s)
{
	head(f, "portwall_port_drops_total", "counter",
	     "Dropped packets per direction, protocol and port (the 50 most dropped).");
	for (int i = 0; i < s->n.ntop; i++) {
		char sn[64], dir[8], proto[32], port[32] = "";
		pw_slot_name(s->n.top[i].slot, sn, sizeof(sn));
		if (sscanf(sn, "%7s %31[^/]/%31s", dir, proto, port) < 2)
			continue;
		fprintf(f, "portwall_port_drops_total{direction=\"%s\",protocol=\"%s\",port=\"%s\"} %llu\n", dir,
			proto, port, (unsigned long long)s->n.top[i].packets);
	}
}

/* Each table's evictions: the one a flood fills is the one that loses flows. */
static void ct_evictions(FILE *f, const struct pw_status *s)
{
	static const char *const table[PW_CT_TABLE_COUNT] = { "tcp", "datagram", "peer_started" };

	head(f, "portwall_conntrack_evicted_total", "counter",
	     "Tracked flows the LRU evicted from a full table, by table.");
	for (int t = 0; t < PW_CT_TABLE_COUNT; t++)
		fprintf(f, "portwall_conntrack_evicted_total{table=\"%s\"} %llu\n", table[t],
			(unsigned long long)s->ct[t].evicted);
}

static void write_all(FILE *f, const struct pw_status *s)
{
	policy_info(f, s->a);
	single(f, "portwall_policy_generation", "gauge", "Generation of the policy in force.",
	       s->a->meta.cur.generation);
	rule_counters(f, s);
	reason_counters(f, s);
	port_drops(f, s);
	single(f, "portwall_conntrack_entries", "gauge", "Tracked flows the host opened.",
	       (unsigned long long)s->ct_entries);
	single(f, "portwall_conntrack_created_total", "counter",
	       "Flows the host opened that the datapath started tracking.", s->gs.ct_created + s->gs.ct_dgram_created);
	single(f, "portwall_conntrack_datagram_entries", "gauge",
	       "Tracked flows the host opened but TCP (UDP, ICMP echo, ...), a table apart.",
	       (unsigned long long)s->ct[PW_CT_TABLE_DGRAM].entries);
	single(f, "portwall_conntrack_datagram_created_total", "counter",
	       "Flows the host opened but TCP that the datapath started tracking.", s->gs.ct_dgram_created);
	single(f, "portwall_conntrack_peer_started_entries", "gauge", "Tracked flows a peer started.",
	       (unsigned long long)s->ct[PW_CT_TABLE_IN].entries);
	single(f, "portwall_conntrack_peer_started_created_total", "counter",
	       "Flows a peer started that the datapath began tracking.", s->gs.ct_in_created);
	single(f, "portwall_conntrack_inbound_fin_rst_ignored_total", "counter",
	       "Inbound TCP FIN or RST that changed no tracked state.", s->gs.ct_ignored);
	ct_evictions(f, s);
	single(f, "portwall_fragments_over_share_total", "counter",
	       "First fragments not remembered: their peer had its share.", s->gs.frags_over_share);
	single(f, "portwall_events_sent_total", "counter", "Drop events put into the ring buffer.",
	       s->gs.events_sent);
	single(f, "portwall_events_suppressed_total", "counter", "Drop events over the rate limit.",
	       s->gs.events_suppressed);
	single(f, "portwall_events_lost_total", "counter", "Drop events lost to a full ring buffer.",
	       s->gs.events_lost);
}

int pw_metrics_write(const struct pw_dp *dp, const struct pw_applied *a, const char *path,
		     struct pw_drops_cache *cache, char *err, size_t errsz)
{
	struct pw_replace out;
	struct pw_status s;
	int rc = pw_status_read(dp, a, TOP, cache, &s);

	if (rc)
		return snprintf(err, errsz, "reading the counters: %s", strerror(-rc)), rc;
	rc = pw_replace_open(&out, path, err, errsz);
	if (rc) {
		pw_status_free(&s);
		return rc;
	}
	write_all(out.f, &s);
	pw_status_free(&s);
	rc = pw_replace_commit(&out, 0);
	if (rc)
		snprintf(err, errsz, "writing %s: %s", path, strerror(-rc));
	return rc;
}
