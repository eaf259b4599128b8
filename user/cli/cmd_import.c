/* cmd_import.c - `portwall import FILE [--format F] [-o POLICY] [--force]
 * [--json]`: a vendor port table into a draft policy (policy/import.h). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cmds.h"
#include "lib/replace.h"
#include "policy/import.h"

#define IMPORT_MAX (8u << 20)	/* a port table is kilobytes; refuse what cannot be one */

static void usage(FILE *f)
{
	fputs("usage: portwall import FILE [--format auto|tsv|cells|html|csv|text] [-o POLICY [--force]] [--json]\n"
	      "  Turn a vendor port table (FILE, or - for stdin) into a draft policy: one\n"
	      "  rule per row and direction under a \"# from FILE:LINE:\" line quoting the row,\n"
	      "  \"# REVIEW:\" lines where the importer is not sure, \"# skipped:\" lines for\n"
	      "  the rows that give no rule. The draft passes portwall check.\n"
	      "  --format F  how the table was pasted (default auto): tsv (tab-separated rows\n"
	      "              under header rows), cells (one cell per paragraph: a PDF as\n"
	      "              text), html (<tr>/<td> rows), csv, text (an article naming\n"
	      "              host:port, URLs, \"port N\")\n"
	      "  -o POLICY   write the draft there (not to stdout); --force replaces a file\n"
	      "  --json      rows, rules and doubts as JSON (with the draft in \"policy\"\n"
	      "              unless -o is given)\n"
	      "Exit 0 when imported, 1 when the file cannot be read or written, 2 usage.\n", f);
}

struct import_opts {
	const char *file, *out;
	int format;
	bool force, json;
};

static int parse_args(int argc, char **argv, struct import_opts *o)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'F' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if ((o->format = pw_imp_format_by_name(optarg)) < 0) {
				fprintf(stderr, "portwall import: unknown format \"%s\": give auto, tsv, cells, "
					"html, csv or text\n", optarg);
				return -1;
			}
			break;
		case 'o': o->out = optarg; break;
		case 'F': o->force = true; break;
		case 'j': o->json = true; break;
		case 'h': usage(stdout); return 1;
		default:
			fprintf(stderr, "portwall import: %s \"%s\"\n", optopt == 'o' || optopt == 'f' ?
				"this option needs a value:" : "unknown option", argv[optind - 1]);
			return -1;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "portwall import: %s\n", argc - optind ? "give one table file" :
			"which table? give its file, e.g. cisco-finesse-tsv.txt");
		return -1;
	}
	o->file = argv[optind];
	if (o->force && !o->out) {
		fprintf(stderr, "portwall import: --force replaces the file of -o; give -o POLICY\n");
		return -1;
	}
	return 0;
}

/* The whole file (or stdin for "-"), NUL-terminated. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f) {
		fprintf(stderr, "portwall import: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n + 4096 + 1 > cap) {
			char *b = cap >= IMPORT_MAX ? NULL : realloc(buf, cap = cap ? cap * 2 : 65536);
			if (!b) {
				fprintf(stderr, "portwall import: %s: over %u MiB: not a port table\n", path,
					IMPORT_MAX >> 20);
				free(buf);
				buf = NULL;
				break;
			}
			buf = b;
		}
		size_t k = fread(buf + n, 1, 4096, f);
		n += k;
		if (k == 0) {
			if (ferror(f)) {
				fprintf(stderr, "portwall import: %s: read error\n", path);
				free(buf);
				buf = NULL;
			}
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	if (buf)
		buf[n] = '\0', *len = n;
	return buf;
}

static json_t *rule_json(const struct pw_imp_result *r, const struct pw_imp_rule *u)
{
	char ports[512] = "";
	size_t w = 0;

	for (size_t i = 0; i < u->n && w < sizeof(ports) - 16; i++)
		w += (size_t)(u->p[i].hi == u->p[i].lo ?
			      snprintf(ports + w, sizeof(ports) - w, "%s%u", i ? "," : "", u->p[i].lo) :
			      snprintf(ports + w, sizeof(ports) - w, "%s%u-%u", i ? "," : "", u->p[i].lo, u->p[i].hi));
	json_t *rev = json_array();
	for (size_t d = 0; d < u->ndoubts && !u->merged_into; d++)	/* a merged rule's are its holder's */
		json_array_append_new(rev, json_string(u->doubt[d]));
	const char *proto = u->protos == (PW_P_TCP | PW_P_UDP) ? "tcp,udp" : u->protos == PW_P_UDP ? "udp" : "tcp";
	return json_pack("{s:i, s:o, s:s, s:s, s:s, s:s?, s:s, s:o, s:o, s:o}", "row_line", r->t.rows[u->row].line,
			 "policy_line", u->same_as || u->merged_into ? json_null() : json_integer(u->policy_line),
			 "direction", u->dir == PW_DIR_IN ? "in" : "out", "protocol", proto, "ports", ports,
			 "host", u->host, "comment", u->comment, "review", rev,
			 "same_as_line", u->same_as ? json_integer(r->rules[u->same_as - 1].policy_line) : json_null(),
			 "merged_into_line", u->merged_into ? json_integer(r->rules[u->merged_into - 1].policy_line) :
			 json_null());
}

static json_t *result_json(const struct pw_imp_result *r, const struct import_opts *o, const char *draft)
{
	json_t *rows = json_array(), *rules = json_array(), *doubts = json_array();

	for (size_t i = 0; i < r->t.nrows; i++) {
		const struct pw_imp_row *w = &r->t.rows[i];
		json_array_append_new(rows, json_pack("{s:i, s:s?, s:b, s:s?}", "line", w->line, "text", w->raw,
						      "header", w->header, "skipped", r->row_skip[i]));
	}
	for (size_t k = 0; k < r->nrules; k++) {
		const struct pw_imp_rule *u = &r->rules[k];
		json_array_append_new(rules, rule_json(r, u));
		for (size_t d = 0; d < u->ndoubts && !u->same_as && !u->merged_into; d++)
			json_array_append_new(doubts, json_pack("{s:i, s:i, s:s}", "line", r->t.rows[u->row].line,
								"policy_line", u->policy_line, "text", u->doubt[d]));
	}
	return json_pack("{s:s, s:s, s:o, s:o, s:o, s:s?, s:s?}", "file", o->file, "format",
			 pw_imp_format_name(r->t.fmt), "rows", rows, "rules", rules, "doubts", doubts,
			 "output", o->out, "policy", o->out ? NULL : draft);
}

/* Write the draft to o->out: a temporary file renamed over it. */
static int write_out(const struct import_opts *o, const char *draft, size_t len)
{
	struct stat st;
	struct pw_replace rp;
	char err[1024];

	if (!o->force && lstat(o->out, &st) == 0) {
		fprintf(stderr, "portwall import: %s exists: give --force to replace it, or another -o\n", o->out);
		return -1;
	}
	if (pw_replace_open(&rp, o->out, err, sizeof(err))) {
		fprintf(stderr, "portwall import: %s\n", err);
		return -1;
	}
	int failed = fwrite(draft, 1, len, rp.f) != len;
	if (pw_replace_commit(&rp, failed) || failed) {
		fprintf(stderr, "portwall import: writing %s: %s\n", o->out, strerror(errno));
		return -1;
	}
	return 0;
}

static void summary(const struct pw_imp_result *r, const struct import_opts *o)
{
	size_t rules = 0, doubts = 0, skipped = 0;

	for (size_t k = 0; k < r->nrules; k++)
		if (!r->rules[k].same_as && !r->rules[k].merged_into)
			rules++, doubts += r->rules[k].ndoubts;
	for (size_t i = 0; i < r->t.nrows; i++)
		skipped += r->row_skip[i] != NULL;
	fprintf(stderr, "portwall import: %s: %zu rows (%s), %zu rules, %zu REVIEW lines, %zu rows skipped; "
		"wrote the draft to %s: review it, then portwall check %s\n", o->file, r->t.nrows,
		pw_imp_format_name(r->t.fmt), rules, doubts, skipped, o->out, o->out);
}

int cmd_import(int argc, char **argv)
{
	struct import_opts o;
	int rc = parse_args(argc, argv, &o);

	if (rc)
		return rc > 0 ? PW_EXIT_OK : (usage(stderr), PW_EXIT_USAGE);
	size_t len, dlen;
	char *text = slurp(o.file, &len), *draft = NULL, err[1024];
	struct pw_imp_result r;

	if (!text)
		return PW_EXIT_FAIL;
	rc = pw_imp_run(o.file, text, len, o.format, &r, &draft, &dlen, err, sizeof(err));
	if (rc)
		fprintf(stderr, "portwall import: %s: %s\n", o.file, err);
	else if (o.out && write_out(&o, draft, dlen))
		rc = -1;
	else if (o.json) {
		json_t *j = result_json(&r, &o, draft);
		rc = json_dumpf(j, stdout, JSON_INDENT(2)) ? -1 : 0;
		fputc('\n', stdout);
		json_decref(j);
	} else if (!o.out)
		fwrite(draft, 1, dlen, stdout);
	if (!rc && o.out)
		summary(&r, &o);
	free(draft);
	free(text);
	pw_imp_result_free(&r);
	return rc ? PW_EXIT_FAIL : PW_EXIT_OK;
}
