/* metrics.c - Prometheus text-format metrics of a loaded portwall. */
#include "datapath/metrics.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/sha256.h"
#include "datapath/stats.h"

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

int pw_metrics_write(const struct pw_dp *dp, const struct pw_applied *a, const char *path)
{
	char tmp[4200], hex[65];
	struct pw_counter reasons[PW_DIR_COUNT * PW_R_COUNT];
	struct pw_stats gs;
	struct pw_port_drop top[TOP];

	if (strlen(path) > 4000)
		return -ENAMETOOLONG;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int ntop = pw_top_drops(dp, top, TOP);
	if (pw_dp_reason_counts(dp, reasons) || pw_dp_stats(dp, &gs))
		return -errno;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -errno;
	pw_hex(a->meta.cur.hash, sizeof(a->meta.cur.hash), hex);
	head(f, "portwall_policy_info", "gauge", "The policy in force (value 1).");
	fprintf(f, "portwall_policy_info{name=");
	label(f, a->meta.cur.name);
	fprintf(f, ",file=");
	label(f, a->meta.cur.path);
	fprintf(f, ",hash=\"sha256:%s\",mode=\"%s\"} 1\n", hex, a->meta.cur.mode == PW_MODE_MONITOR ? "monitor" : "enforce");
	head(f, "portwall_policy_generation", "gauge", "Generation of the policy in force.");
	fprintf(f, "portwall_policy_generation %u\n", a->meta.cur.generation);

	uint32_t nr = a->have_rules && a->same ? a->c.nrules : 0;
	static const char *const what[2] = { "packets", "bytes" };
	for (int w = 0; w < 2; w++) {
		char name[64], help[128];
		snprintf(name, sizeof(name), "portwall_rule_%s_total", what[w]);
		snprintf(help, sizeof(help), "%s decided by a rule, per direction (rule 0: the default).",
			 w ? "Bytes" : "Packets");
		head(f, name, "counter", help);
		for (uint32_t id = 0; id <= nr; id++) {
			for (uint32_t dir = 0; dir < PW_DIR_COUNT; dir++) {
				struct pw_counter c = { 0 };
				pw_dp_rule_count(dp, id, dir, &c);
				const struct pw_rule *r = id ? &a->pol.rules[id - 1] : NULL;
				fprintf(f, "%s{rule=\"%u\",direction=\"%s\",location=", name, id, dir ? "out" : "in");
				char loc[300];
				snprintf(loc, sizeof(loc), "%s:%d", r ? r->file : "default", r ? r->line : 0);
				label(f, r ? loc : "default");
				fprintf(f, ",comment=");
				label(f, r && r->comment ? r->comment : "");
				fprintf(f, "} %llu\n", (unsigned long long)(w ? c.bytes : c.packets));
			}
		}
	}
	head(f, "portwall_packets_total", "counter", "Packets by verdict reason and direction.");
	for (uint32_t dir = 0; dir < PW_DIR_COUNT; dir++)
		for (int r = 0; r < PW_R_COUNT; r++)
			fprintf(f, "portwall_packets_total{direction=\"%s\",reason=\"%s\",verdict=\"%s\"} %llu\n",
				dir ? "out" : "in", pw_reason_names[r], r >= PW_R_FIRST_DROP ? "drop" : "pass",
				(unsigned long long)reasons[dir * PW_R_COUNT + r].packets);
	head(f, "portwall_port_drops_total", "counter",
	     "Dropped packets per direction, protocol and port (the 50 most dropped).");
	for (int i = 0; i < ntop; i++) {
		char sn[64], dir[8], proto[32], port[32] = "";
		pw_slot_name(top[i].slot, sn, sizeof(sn));
		if (sscanf(sn, "%7s %31[^/]/%31s", dir, proto, port) < 2)
			continue;
		fprintf(f, "portwall_port_drops_total{direction=\"%s\",protocol=\"%s\",port=\"%s\"} %llu\n", dir,
			proto, port, (unsigned long long)top[i].packets);
	}
	head(f, "portwall_conntrack_entries", "gauge", "Tracked flows.");
	fprintf(f, "portwall_conntrack_entries %d\n", pw_ct_entries(dp));
	head(f, "portwall_conntrack_created_total", "counter", "Flows the datapath started tracking.");
	fprintf(f, "portwall_conntrack_created_total %llu\n", (unsigned long long)gs.ct_created);
	head(f, "portwall_events_sent_total", "counter", "Drop events put into the ring buffer.");
	fprintf(f, "portwall_events_sent_total %llu\n", (unsigned long long)gs.events_sent);
	head(f, "portwall_events_suppressed_total", "counter", "Drop events over the rate limit.");
	fprintf(f, "portwall_events_suppressed_total %llu\n", (unsigned long long)gs.events_suppressed);
	head(f, "portwall_events_lost_total", "counter", "Drop events lost to a full ring buffer.");
	fprintf(f, "portwall_events_lost_total %llu\n", (unsigned long long)gs.events_lost);
	int rc = ferror(f) ? -EIO : 0;
	if (fclose(f) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}
