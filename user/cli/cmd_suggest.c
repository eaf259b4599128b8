/* cmd_suggest.c - `portwall suggest [--since WHEN] [--min-count N]
 * [--events-file PATH] [--json]`: from the drop events run recorded (the
 * events file and its rotated ones), the allow rules that would have let
 * them pass, ranked by packets, as policy lines to paste; scans apart
 * (policy/suggest.h has the grouping). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/cmds.h"
#include "datapath/evlog.h"
#include "datapath/state.h"
#include "lib/num.h"
#include "policy/evrec.h"
#include "policy/suggest.h"

struct sopts {
	const char *root, *file;
	int64_t since_ms;
	unsigned long min_count;
	bool json;
};

static void on_record(const struct pw_evrec *r, void *ctx)
{
	struct pw_suggest *s = ctx;

	if (pw_suggest_add(s, r))
		fprintf(stderr, "portwall suggest: out of memory: events left out\n");
}

static void text_out(const struct pw_suggest *s, long events)
{
	char rule[200], note[300];

	printf("# from %ld drop event%s (%llu not by the default, left out)\n", events, events == 1 ? "" : "s",
	       (unsigned long long)s->skipped);
	for (size_t i = 0; i < s->nsugg; i++) {
		pw_suggestion_rule(&s->sugg[i], rule, sizeof(rule));
		pw_suggestion_note(&s->sugg[i], note, sizeof(note));
		printf("%s %s\n", rule, note);
	}
	if (!s->nsugg)
		printf("# no rule to suggest\n");
	for (size_t i = 0; i < s->nscan; i++) {
		pw_scan_line(&s->scan[i], note, sizeof(note));
		printf("%s\n", note);
	}
}

static json_t *times(json_t *o, int64_t first, int64_t last)
{
	char a[40], b[40];

	pw_evrec_time(first, false, a, sizeof(a));
	pw_evrec_time(last, false, b, sizeof(b));
	json_object_set_new(o, "first", json_string(a));
	json_object_set_new(o, "last", json_string(b));
	return o;
}

static void json_out(const struct pw_suggest *s, long events)
{
	json_t *rules = json_array(), *scans = json_array();
	char rule[200], ex[INET6_ADDRSTRLEN], peer[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < s->nsugg; i++) {
		const struct pw_suggestion *g = &s->sugg[i];
		pw_suggestion_rule(g, rule, sizeof(rule));
		inet_ntop(g->fam == 1 ? AF_INET6 : AF_INET, g->example, ex, sizeof(ex));
		json_array_append_new(rules, times(json_pack("{s:s,s:I,s:I,s:s}", "rule", rule, "packets",
							     (json_int_t)g->packets, "peers", (json_int_t)g->peers,
							     "example", ex), g->first_ms, g->last_ms));
	}
	for (size_t i = 0; i < s->nscan; i++) {
		const struct pw_scan *c = &s->scan[i];
		inet_ntop(c->fam == 1 ? AF_INET6 : AF_INET, c->peer, peer, sizeof(peer));
		json_array_append_new(scans, times(json_pack("{s:s,s:s,s:I,s:I}", "peer", peer, "dir",
							     c->dir ? "out" : "in", "ports", (json_int_t)c->ports,
							     "packets", (json_int_t)c->packets), c->first_ms, c->last_ms));
	}
	json_t *o = json_pack("{s:I,s:I,s:o,s:o}", "events", (json_int_t)events, "skipped",
			      (json_int_t)s->skipped, "rules", rules, "scans", scans);
	json_dumpf(o, stdout, JSON_INDENT(1));
	printf("\n");
	json_decref(o);
}

#define SUGGEST_USAGE "usage: portwall suggest [--since WHEN] [--min-count N] [--events-file PATH] [--json] " \
		      "[--pin-root DIR]\n"

/* -1 to go on, or the exit code. */
static int options(int argc, char **argv, struct sopts *o)
{
	static const struct option lo[] = {
		{ "since", required_argument, NULL, 's' }, { "min-count", required_argument, NULL, 'n' },
		{ "events-file", required_argument, NULL, 'e' }, { "json", no_argument, NULL, 'j' },
		{ "pin-root", required_argument, NULL, 'p' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			if (pw_since_parse(optarg, (int64_t)time(NULL) * 1000, &o->since_ms)) {
				fprintf(stderr, "portwall suggest: --since takes a duration (90s, 15m, 2h, 7d, 1w) or a "
					"UTC time (2026-12-02T19:00:00Z), got \"%s\"\n", optarg);
				return PW_EXIT_USAGE;
			}
			break;
		case 'n':
			if (!pw_ulong(optarg, 10, 1000000000ul, &o->min_count) || !o->min_count) {
				fprintf(stderr, "portwall suggest: --min-count takes 1 or more packets, got \"%s\"\n",
					optarg);
				return PW_EXIT_USAGE;
			}
			break;
		case 'e': o->file = optarg; break;
		case 'j': o->json = true; break;
		case 'p': o->root = optarg; break;
		case 'h':
			printf(SUGGEST_USAGE
			       "  From the drop events portwall run recorded (the events file and its\n"
			       "  rotated ones): the allow rules that would have let the default's drops\n"
			       "  pass, ranked by packets, as policy lines; peers sharing a /24 (/64)\n"
			       "  become that prefix. A peer hitting %d or more ports is a scan, not a rule.\n",
			       PW_SCAN_PORTS);
			return PW_EXIT_OK;
		default:
			fprintf(stderr, SUGGEST_USAGE);
			return PW_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, SUGGEST_USAGE);
		return PW_EXIT_USAGE;
	}
	return -1;
}

int cmd_suggest(int argc, char **argv)
{
	struct sopts o = { .root = PW_PIN_ROOT, .since_ms = INT64_MIN, .min_count = 1 };
	char path[4096], err[4600];
	struct pw_suggest s;
	long bad;
	int rc = options(argc, argv, &o);

	if (rc >= 0)
		return rc;
	if (o.file)
		snprintf(path, sizeof(path), "%s", o.file);
	else
		pw_evlog_default_path(o.root, path, sizeof(path));
	pw_suggest_init(&s);
	long n = pw_evfiles_read(path, o.since_ms, on_record, &s, &bad, err, sizeof(err));
	if (n < 0) {
		fprintf(stderr, "portwall suggest: %s%s\n", err,
			errno == ENOENT ? " (portwall run writes it; another file: --events-file)" : "");
		pw_suggest_free(&s);
		return PW_EXIT_FAIL;
	}
	if (bad)
		fprintf(stderr, "portwall suggest: %ld line%s of %s are not drop events (skipped)\n", bad,
			bad == 1 ? "" : "s", path);
	if (pw_suggest_finish(&s, o.min_count)) {
		fprintf(stderr, "portwall suggest: out of memory grouping %ld events\n", n);
		pw_suggest_free(&s);
		return PW_EXIT_FAIL;
	}
	if (o.json)
		json_out(&s, n);
	else
		text_out(&s, n);
	pw_suggest_free(&s);
	return PW_EXIT_OK;
}
