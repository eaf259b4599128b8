/* cmd_status.c - `portwall status [--json]`: what is applied where, and
 * what it has done: per-rule packets and bytes, drops by reason, the most
 * dropped (protocol, port) pairs, conntrack fill, events. The snapshot is
 * read by datapath/status.c; this file parses options and prints. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "datapath/state.h"
#include "datapath/status.h"
#include "cli/cmds.h"
#include "cli/status_exc.h"
#include "cli/table.h"
#include "lib/json.h"
#include "lib/sha256.h"
#include "datapath/stats.h"
#include "datapath/linktype.h"

#define TOP_PORTS 10

struct status_opts {
	const char *root, *netns;
	bool json;
};

/* -1 to go on, or the exit code (--help, a bad option). */
static int status_options(int argc, char **argv, struct status_opts *o)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' }, { "pin-root", required_argument, NULL, 'p' },
		{ "netns", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};
	int c;

	*o = (struct status_opts){ .root = PW_PIN_ROOT };
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'j': o->json = true; break;
		case 'p': o->root = optarg; break;
		case 'n': o->netns = optarg; break;
		case 'h':
			printf("usage: portwall status [--json] [--pin-root DIR] [--netns NAME]\n");
			return PW_EXIT_OK;
		default:
			fprintf(stderr, "usage: portwall status [--json] [--pin-root DIR]\n");
			return PW_EXIT_USAGE;
		}
	}
	return -1;
}

static const char *mode_name(uint8_t mode)
{
	return mode == PW_MODE_MONITOR ? "monitor" : "enforce";
}

static const char *xdp_mode_name(int mode)
{
	return mode == PW_XDP_NATIVE ? "native" : mode == PW_XDP_GENERIC ? "generic" : "none";
}

static int niface(const struct pw_status *s)
{
	return s->a->meta.niface < PW_MAX_IFACES ? s->a->meta.niface : PW_MAX_IFACES;
}

/* The name record i was applied by, and its name now ("" when gone). */
static const char *applied_name(const struct pw_status *s, int i, char buf[IF_NAMESIZE])
{
	snprintf(buf, IF_NAMESIZE, "%.15s", s->a->meta.iface[i].name);
	return buf;
}

static bool renamed(const struct pw_status *s, int i, const char *applied)
{
	return !s->iface[i].gone && strcmp(s->iface[i].now, applied) != 0;
}

static void json_iface(const struct pw_status *s, int i)
{
	const struct pw_iface_state *st = &s->iface[i];
	char applied[IF_NAMESIZE];

	applied_name(s, i, applied);
	printf("%s{\"name\":", i ? "," : "");
	pw_json_str(stdout, st->gone ? applied : st->now);
	printf(",\"ifindex\":%u,\"xdp_mode\":\"%s\",\"xdp_attached\":%s,\"tc_attached\":%s,\"gone\":%s,"
	       "\"renamed_from\":", s->a->meta.iface[i].ifindex, xdp_mode_name(st->xdp_mode),
	       st->xdp ? "true" : "false", st->tc ? "true" : "false", st->gone ? "true" : "false");
	pw_json_str(stdout, renamed(s, i, applied) ? applied : NULL);
	printf(",\"link\":\"%s\"", pw_link_name(st->link));
	if (st->name_taken)
		printf(",\"name_taken_by_ifindex\":%u}", st->name_taken);
	else
		printf(",\"name_taken_by_ifindex\":null}");
}

static void json_policy(const char *root, const struct pw_status *s)
{
	const struct pw_applied *a = s->a;
	char hex[65];

	pw_hex(a->meta.cur.hash, sizeof(a->meta.cur.hash), hex);
	printf("{\"pin_root\":");
	pw_json_str(stdout, root);
	printf(",\"policy\":{\"name\":");
	pw_json_str(stdout, a->meta.cur.name);
	printf(",\"file\":");
	pw_json_str(stdout, a->meta.cur.path);
	printf(",\"hash\":\"sha256:%s\",\"generation\":%u,\"applied_unix\":%llu,\"mode\":\"%s\","
	       "\"file_matches\":%s,\"rules_from\":%s,", hex, a->meta.cur.generation,
	       (unsigned long long)a->meta.cur.applied_unix, mode_name(a->meta.cur.mode), a->file_same ? "true" : "false",
	       a->stored ? "\"store\"" : a->same ? "\"file\"" : "null");
	uint64_t now = (uint64_t)time(NULL), dl = a->meta.confirm_deadline;
	if (a->meta.confirm_pending)
		printf("\"confirm_pending\":{\"deadline_unix\":%llu,\"seconds_left\":%llu}},", (unsigned long long)dl,
		       (unsigned long long)(dl > now ? dl - now : 0));
	else
		printf("\"confirm_pending\":null},");
	printf("\"netns\":");
	pw_json_str(stdout, a->meta.netns[0] ? a->meta.netns : NULL);
	printf(",\"interfaces\":[");
	for (int i = 0; i < niface(s); i++)
		json_iface(s, i);
	printf("],");
}

static void json_counter(const char *key, const struct pw_counter *c)
{
	printf("\"%s\":{\"packets\":%llu,\"bytes\":%llu}", key, (unsigned long long)c->packets,
	       (unsigned long long)c->bytes);
}

static void json_rules(const struct pw_status *s)
{
	printf("\"rules\":[");
	for (uint32_t id = 0; id <= s->n.nrules; id++) {
		const struct pw_rule *r = pw_applied_rule(s->a, id);
		printf("%s{\"id\":%u,", id ? "," : "", id);
		if (r) {
			printf("\"file\":");
			pw_json_str(stdout, r->file);
			printf(",\"line\":%d,\"text\":", r->line);
			pw_json_str(stdout, r->text);
			printf(",\"comment\":");
			pw_json_str(stdout, r->comment);
			printf(",");
		} else {
			printf("\"text\":\"default\",");
		}
		json_counter("in", &s->n.rule[id][PW_DIR_IN]);
		printf(",");
		json_counter("out", &s->n.rule[id][PW_DIR_OUT]);
		printf("}");
	}
	printf("],\"reasons\":{");
	for (int dir = 0; dir < PW_DIR_COUNT; dir++) {
		printf("%s\"%s\":{", dir ? "," : "", dir ? "out" : "in");
		for (int r = 0; r < PW_R_COUNT; r++) {
			printf("%s", r ? "," : "");
			json_counter(pw_reason_names[r], &s->n.reason[dir * PW_R_COUNT + r]);
		}
		printf("}");
	}
	printf("},");
}

/* One conntrack table: "name":{...}, */
static void json_ct_table(const char *name, const struct pw_ct_fill *f)
{
	printf("\"%s\":{\"entries\":%d,\"capacity\":%u,\"created\":%llu,\"removed\":%llu,\"evicted\":%llu},",
	       name, f->entries, f->capacity, (unsigned long long)f->created, (unsigned long long)f->removed,
	       (unsigned long long)f->evicted);
}

/* "conntrack": at the top the flows the host opened (both its tables, as
 * the top counted them before TCP got a table of its own), and the removed
 * and evicted of every table; then each table. */
static void json_conntrack(const struct pw_status *s)
{
	printf(",\"conntrack\":{\"entries\":%d,\"capacity\":%u,\"created\":%llu,\"removed\":%llu,"
	       "\"evicted\":%llu,", s->ct_entries, s->ct_capacity,
	       (unsigned long long)(s->ct[PW_CT_TABLE_TCP].created + s->ct[PW_CT_TABLE_DGRAM].created),
	       (unsigned long long)s->ct_removed, (unsigned long long)s->ct_evicted);
	json_ct_table("tcp", &s->ct[PW_CT_TABLE_TCP]);
	json_ct_table("datagram", &s->ct[PW_CT_TABLE_DGRAM]);
	json_ct_table("peer_started", &s->ct[PW_CT_TABLE_IN]);
	const struct pw_meta *m = &s->a->meta;
	/* revoked means closed: the established flows of services the switch
	 * to this generation revoked, ended (and all since the first apply) */
	printf("\"revoked\":{\"generation\":%u,\"ended\":%llu,\"ended_total\":%llu},", m->cur.generation,
	       (unsigned long long)m->ct_revoked, (unsigned long long)(m->ct_revoked_tcp + m->ct_revoked_dgram));
	printf("\"inbound_fin_rst_ignored\":%llu}", (unsigned long long)s->gs.ct_ignored);
}

#define U(x) ((unsigned long long)(x))

static const char *source_name(uint8_t src)
{
	return src == PW_LEARNED_APPLY ? "apply" : src == PW_LEARNED_TIMER ? "timer" : "answer";
}

/* The records of name x: [*first, *first + count) of s->rec. */
static size_t name_records(const struct pw_status *s, const struct pw_cname *x, size_t *first)
{
	size_t n = 0;

	*first = 0;
	for (size_t i = 0; i < (size_t)s->learned; i++) {
		if (s->rec[i].k.name_hash != x->hash || s->rec[i].k.wild != x->wild)
			continue;
		if (!n)
			*first = i;
		n++;
	}
	return n;
}

/* Seconds left of record r's lifetime; 0 or less: ended, not swept yet. */
static long long left_s(const struct pw_status *s, const struct pw_learned_rec *r)
{
	return ((long long)(r->v.expires_ns - s->now)) / 1000000000ll;
}

static void addr_text(const struct pw_learned_rec *r, char *buf, size_t n)
{
	inet_ntop(r->k.fam == PW_FAM_V6 ? AF_INET6 : AF_INET, r->k.addr, buf, (socklen_t)n);
}

/* "names": each name of the policy in force with what it learned. */
static void json_names(const struct pw_status *s)
{
	const struct pw_compiled *c = &s->a->c;
	char ip[INET6_ADDRSTRLEN];

	printf(",\"names\":[");
	for (size_t i = 0; s->a->have_rules && s->a->same && i < c->nnames; i++) {
		size_t first, n = name_records(s, &c->names[i], &first);
		printf("%s{\"name\":", i ? "," : "");
		pw_json_str(stdout, c->names[i].text);
		printf(",\"wildcard\":%s,\"addresses\":[", c->names[i].wild ? "true" : "false");
		for (size_t j = first; j < first + n; j++) {
			addr_text(&s->rec[j], ip, sizeof(ip));
			printf("%s{\"address\":\"%s\",\"source\":\"%s\",\"ttl\":%u,\"expires_in\":%lld,"
			       "\"flows\":%u}", j > first ? "," : "", ip, source_name(s->rec[j].v.source),
			       s->rec[j].v.ttl, left_s(s, &s->rec[j]), s->flows ? s->flows[j] : 0);
		}
		printf("]}");
	}
	printf("]");
}

/* "dns": the learner of host names' addresses (docs/dns.md, "Counters") */
static void json_dns(const struct pw_status *s)
{
	const struct pw_dns_stats *d = &s->dns;

	printf(",\"dns\":{\"addresses\":%d,\"queries\":%llu,\"answers\":%llu,\"learned\":%llu,"
	       "\"refreshed\":%llu,\"unsolicited\":%llu,\"malformed\":%llu,\"truncated\":%llu,"
	       "\"mismatched\":%llu,\"full\":%llu,\"untrusted\":%llu,\"evicted\":%llu,\"name_max\":%u",
	       s->learned, U(d->queries), U(d->answers), U(d->learned), U(d->refreshed), U(d->unsolicited),
	       U(d->malformed), U(d->truncated), U(d->mismatched), U(d->full), U(d->untrusted), U(d->evicted),
	       s->cfg.dns_name_max);
	json_names(s);
	printf("}");
}

#define TEXT_ADDRS 6	/* addresses shown per name; --json lists all */

/* A line per name of the policy in force: its addresses, where each came
 * from and how long it has left. */
static void text_names(const struct pw_status *s)
{
	const struct pw_compiled *c = &s->a->c;
	char ip[INET6_ADDRSTRLEN];

	for (size_t i = 0; s->a->have_rules && s->a->same && i < c->nnames; i++) {
		size_t first, n = name_records(s, &c->names[i], &first);
		printf("  %s: ", c->names[i].text);
		if (!n)
			printf("no address yet");
		for (size_t j = first; j < first + n && j < first + TEXT_ADDRS; j++) {
			long long left = left_s(s, &s->rec[j]);
			addr_text(&s->rec[j], ip, sizeof(ip));
			printf("%s%s (%s, ", j > first ? ", " : "", ip, source_name(s->rec[j].v.source));
			if (left > 0)
				printf("%lld s left", left);
			else
				printf("ended");
			uint32_t fl = s->flows ? s->flows[j] : 0;
			if (fl)
				printf(", %u flow%s", fl, fl == 1 ? "" : "s");
			printf(")");
		}
		if (n > TEXT_ADDRS)
			printf(" and %zu more (status --json lists all)", n - TEXT_ADDRS);
		printf("\n");
	}
}

static void text_dns(const struct pw_status *s)
{
	const struct pw_dns_stats *d = &s->dns;

	if (!s->learned && !d->queries && !d->answers && !d->unsolicited && !d->untrusted &&
	    !(s->a->have_rules && s->a->c.nnames))
		return;
	printf("host names: %d addresses learned; %llu queries, %llu answers (%llu addresses new, %llu again); "
	       "taught nothing: %llu unsolicited, %llu malformed, %llu truncated, %llu another question, "
	       "%llu a full map; %llu queries of users not in dns-users (not recorded); %llu evicted over a "
	       "name's %u\n", s->learned, U(d->queries), U(d->answers), U(d->learned), U(d->refreshed),
	       U(d->unsolicited), U(d->malformed), U(d->truncated), U(d->mismatched), U(d->full), U(d->untrusted),
	       U(d->evicted), s->cfg.dns_name_max);
	text_names(s);
}

static void json_rest(const struct pw_status *s)
{
	const struct pw_config *cf = &s->cfg;

	printf("\"top_drops\":[");
	for (int i = 0; i < s->n.ntop; i++) {
		char sn[64];
		pw_slot_name(s->n.top[i].slot, sn, sizeof(sn));
		printf("%s{\"port\":\"%s\",\"packets\":%llu}", i ? "," : "", sn,
		       (unsigned long long)s->n.top[i].packets);
	}
	printf("],\"config\":{\"event_rate\":%u,\"ct_timeouts\":{\"tcp_syn\":%u,\"tcp_est\":%u,"
	       "\"tcp_close\":%u,\"udp\":%u,\"icmp\":%u,\"other\":%u,\"frag\":%u}}",
	       s->event_rate, cf->ct_tcp_syn, cf->ct_tcp_est, cf->ct_tcp_close, cf->ct_udp,
	       cf->ct_icmp, cf->ct_other, cf->frag_timeout);
	json_conntrack(s);
	json_dns(s);
	printf(",\"fragments\":{\"remembered\":%llu,\"over_share\":%llu},"
	       "\"events\":{\"sent\":%llu,\"suppressed\":%llu,\"lost\":%llu}}\n",
	       (unsigned long long)s->gs.frags_tracked, (unsigned long long)s->gs.frags_over_share,
	       (unsigned long long)s->gs.events_sent,
	       (unsigned long long)s->gs.events_suppressed, (unsigned long long)s->gs.events_lost);
}

static void print_json(const char *root, const struct pw_status *s, const struct pw_dp *dp)
{
	json_policy(root, s);
	json_rules(s);
	pw_status_exc_json(dp);
	json_rest(s);
}

/* One interface: attached or not, renamed, gone, its name another's. */
static void text_iface(const struct pw_status *s, int i)
{
	const struct pw_iface_state *st = &s->iface[i];
	char applied[IF_NAMESIZE];

	applied_name(s, i, applied);
	if (st->gone)
		printf("  %-16s XDP %s NOT ATTACHED: gone (ifindex %u no longer exists; the next apply or reload "
		       "removes its record)\n", applied, xdp_mode_name(st->xdp_mode), s->a->meta.iface[i].ifindex);
	else
		printf("  %-16s XDP %s %s, tc egress %s, %s%s%s%s\n", st->now, xdp_mode_name(st->xdp_mode),
		       st->xdp ? "attached" : "NOT ATTACHED (it was changed: apply again)",
		       st->tc ? "attached" : "NOT ATTACHED",
		       st->link == PW_LINK_L3 ? "l3 programs (packets from the IP header)" : "ethernet programs",
		       renamed(s, i, applied) ? " (renamed from " : "", renamed(s, i, applied) ? applied : "",
		       renamed(s, i, applied) ? ")" : "");
	if (st->name_taken)
		printf("    %s is now another interface (ifindex %u), NOT ENFORCED: the next reload enforces it "
		       "(or apply --iface %s)\n", applied, st->name_taken, applied);
}

static void text_policy(const struct pw_status *s)
{
	const struct pw_applied *a = s->a;
	char hex[65], when[64];

	pw_hex(a->meta.cur.hash, sizeof(a->meta.cur.hash), hex);
	time_t t = (time_t)a->meta.cur.applied_unix;
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", localtime(&t));
	printf("policy \"%s\" (%s)\n  generation %u, applied %s, hash sha256:%.16s, mode %s\n",
	       a->meta.cur.name, a->meta.cur.path, a->meta.cur.generation, when, hex, mode_name(a->meta.cur.mode));
	if (!a->same)
		printf("  (the file no longer compiles to the policy in force: rule text not shown)\n");
	else if (!a->file_same)
		printf("  the file has changed since (or is gone): the rules below are as applied, from the generation "
		       "store (portwall diff shows what changed)\n");
	if (a->meta.confirm_pending) {
		uint64_t now = (uint64_t)time(NULL), dl = a->meta.confirm_deadline;
		t = (time_t)dl;
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", localtime(&t));
		printf("  NOT CONFIRMED: run `portwall confirm` by %s (in %llu s), or it goes back to %s\n", when,
		       (unsigned long long)(dl > now ? dl - now : 0),
		       a->meta.confirm_pending == PW_CONFIRM_FIRST ? "no policy (unload)" : "the previous policy");
	}
	printf("interfaces%s%s:\n", a->meta.netns[0] ? " in netns " : "", a->meta.netns);
	for (int i = 0; i < niface(s); i++)
		text_iface(s, i);
}

#define N_RULE_COLS 7

static const struct pw_col RULE_COLS[N_RULE_COLS] = {
	{ "RULE", SCOLS_FL_RIGHT }, { "LINE", 0 }, { "IN PKTS", SCOLS_FL_RIGHT }, { "IN BYTES", SCOLS_FL_RIGHT },
	{ "OUT PKTS", SCOLS_FL_RIGHT }, { "OUT BYTES", SCOLS_FL_RIGHT }, { "COMMENT", 0 },
};

/* Rule id's row: its FILE:LINE (or default), packets and bytes, comment. */
static int rule_row(struct libscols_table *tb, const struct pw_status *s, uint32_t id)
{
	const struct pw_rule *r = pw_applied_rule(s->a, id);
	const struct pw_counter *in = &s->n.rule[id][PW_DIR_IN], *out = &s->n.rule[id][PW_DIR_OUT];
	char num[5][24], loc[PATH_MAX + 16];

	snprintf(num[0], sizeof(num[0]), "%u", id);
	snprintf(num[1], sizeof(num[1]), "%llu", U(in->packets));
	snprintf(num[2], sizeof(num[2]), "%llu", U(in->bytes));
	snprintf(num[3], sizeof(num[3]), "%llu", U(out->packets));
	snprintf(num[4], sizeof(num[4]), "%llu", U(out->bytes));
	if (r)
		snprintf(loc, sizeof(loc), "%s:%d", r->file, r->line);
	else
		snprintf(loc, sizeof(loc), "default");
	const char *cells[N_RULE_COLS] = { num[0], loc, num[1], num[2], num[3], num[4], r ? r->comment : NULL };
	return pw_table_row(tb, cells, N_RULE_COLS);
}

/* A table of each rule's counters, each column as wide as its content. */
static int rules_table(const struct pw_status *s)
{
	struct libscols_table *tb = pw_table_new(RULE_COLS, N_RULE_COLS, 0);
	int rc = tb ? 0 : -ENOMEM;

	for (uint32_t id = 0; id <= s->n.nrules && !rc; id++)
		rc = rule_row(tb, s, id);
	if (rc) {
		scols_unref_table(tb);
		return rc;
	}
	return pw_table_print(tb, "");
}

/* A table of the packets of each reason, in and out. */
static int reasons_table(const struct pw_status *s)
{
	static const struct pw_col cols[] = {
		{ "REASON", 0 }, { "IN PKTS", SCOLS_FL_RIGHT }, { "OUT PKTS", SCOLS_FL_RIGHT },
	};
	struct libscols_table *tb = pw_table_new(cols, 3, 0);
	int rc = tb ? 0 : -ENOMEM;

	for (int r = 0; r < PW_R_COUNT && !rc; r++) {
		char in[24], out[24];
		snprintf(in, sizeof(in), "%llu", U(s->n.reason[PW_DIR_IN * PW_R_COUNT + r].packets));
		snprintf(out, sizeof(out), "%llu", U(s->n.reason[PW_DIR_OUT * PW_R_COUNT + r].packets));
		const char *cells[] = { pw_reason_names[r], in, out };
		rc = pw_table_row(tb, cells, 3);
	}
	if (rc) {
		scols_unref_table(tb);
		return rc;
	}
	return pw_table_print(tb, "");
}

static void text_ct_table(const char *what, const struct pw_ct_fill *f)
{
	printf("  %s: %d of %u entries (%llu created, %llu evicted)\n", what, f->entries, f->capacity,
	       (unsigned long long)f->created, (unsigned long long)f->evicted);
}

static void text_rest(const struct pw_status *s)
{
	printf("\ntop dropped:");
	if (s->n.ntop <= 0)
		printf(" none");
	for (int i = 0; i < s->n.ntop; i++) {
		char sn[64];
		pw_slot_name(s->n.top[i].slot, sn, sizeof(sn));
		printf("%s %s (%llu)", i ? "," : "", sn, (unsigned long long)s->n.top[i].packets);
	}
	printf("\nconntrack: %d of %u entries (%llu created, %llu expired or closed, %llu evicted by a full table)\n",
	       s->ct_entries, s->ct_capacity,
	       (unsigned long long)(s->ct[PW_CT_TABLE_TCP].created + s->ct[PW_CT_TABLE_DGRAM].created),
	       (unsigned long long)s->ct_removed, (unsigned long long)s->ct_evicted);
	text_ct_table("TCP the host opened", &s->ct[PW_CT_TABLE_TCP]);
	text_ct_table("other flows the host opened (UDP, ICMP echo, ...)", &s->ct[PW_CT_TABLE_DGRAM]);
	text_ct_table("flows peers started", &s->ct[PW_CT_TABLE_IN]);
	printf("  inbound FIN/RST that changed no state: %llu\n", (unsigned long long)s->gs.ct_ignored);
	printf("  established flows of revoked services ended: %llu by the switch to generation %u (%llu since "
	       "the first apply)\n", (unsigned long long)s->a->meta.ct_revoked, s->a->meta.cur.generation,
	       (unsigned long long)(s->a->meta.ct_revoked_tcp + s->a->meta.ct_revoked_dgram));
	text_dns(s);
	printf("fragments: %llu first fragments remembered, %llu over their peer's share (not remembered)\n",
	       (unsigned long long)s->gs.frags_tracked, (unsigned long long)s->gs.frags_over_share);
	printf("drop events: %llu sent, %llu suppressed by the rate limit (%u a second: %u per CPU), "
	       "%llu lost (buffer full)\n", (unsigned long long)s->gs.events_sent,
	       (unsigned long long)s->gs.events_suppressed, s->event_rate, s->cfg.ev_rate,
	       (unsigned long long)s->gs.events_lost);
}

/* 0, or -errno when a table could not be printed. */
static int print_text(const struct pw_status *s, const struct pw_dp *dp)
{
	text_policy(s);
	printf("\n");
	int rc = rules_table(s);
	if (!rc) {
		printf("\n");
		rc = reasons_table(s);
	}
	if (!rc) {
		text_rest(s);
		pw_status_exc_text(dp);
	}
	return rc;
}

/* Open the pins under o->root and read the snapshot; the portwall there
 * must work in o->netns when that is given. 0, or -1 with a message. */
static int status_read(const struct status_opts *o, struct pw_dp *dp, struct pw_applied *a, struct pw_status *s)
{
	char err[600];

	if (pw_dp_open_pinned(dp, o->root, err, sizeof(err))) {
		fprintf(stderr, "portwall status: %s\n", err);
		return -1;
	}
	int rc = pw_applied_read(dp, a);
	if (!rc)
		rc = pw_status_read(dp, a, TOP_PORTS, NULL, s);
	if (rc) {
		fprintf(stderr, "portwall status: reading the maps under %s failed: %s\n", o->root, strerror(-rc));
		pw_applied_free(a);
		pw_dp_close(dp);
		return -1;
	}
	if (o->netns && strcmp(o->netns, a->meta.netns) != 0) {
		fprintf(stderr, "portwall status: the portwall under %s works in network namespace \"%s\", not \"%s\"; "
			"give its --pin-root\n", o->root, a->meta.netns, o->netns);
		pw_status_free(s);
		pw_applied_free(a);
		pw_dp_close(dp);
		return -1;
	}
	pw_status_ifaces(dp, s);
	return 0;
}

int cmd_status(int argc, char **argv)
{
	struct status_opts o;
	int rc = status_options(argc, argv, &o);

	if (rc >= 0)
		return rc;
	if (pw_need_root("status"))
		return PW_EXIT_FAIL;
	struct pw_dp dp;
	struct pw_applied a;
	struct pw_status s;
	if (status_read(&o, &dp, &a, &s))
		return PW_EXIT_FAIL;
	rc = 0;
	if (o.json)
		print_json(o.root, &s, &dp);
	else
		rc = print_text(&s, &dp);
	pw_status_free(&s);
	pw_applied_free(&a);
	pw_dp_close(&dp);
	if (rc) {
		fprintf(stderr, "portwall status: printing the tables failed: %s\n", strerror(-rc));
		return PW_EXIT_FAIL;
	}
	return PW_EXIT_OK;
}
