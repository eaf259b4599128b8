/* import_write.c - the draft policy of an imported table: a header that
 * says what it is, then every row in the table's order under a
 * "# from FILE:LINE:" line quoting it: its rules, each after its
 * "# REVIEW:" lines, or a "# skipped:" line saying why it gives none. The
 * draft is parsed and compiled before it is handed out. */
#define _GNU_SOURCE	/* open_memstream */
#include "policy/import.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/compile.h"
#include "policy/policy.h"
#include "portwall.h"

/* Counts lines as it writes, so that each rule knows its line. */
struct out {
	FILE *f;
	int line;
};

static void put(struct out *o, const char *s)
{
	fputs(s, o->f);
	for (; *s; s++)
		o->line += *s == '\n';
}

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) >= 0)
		put(o, s);
	va_end(ap);
	free(s);
}

/* A quoted policy string: " and \ escaped. */
static void quoted(struct out *o, const char *s)
{
	fputc('"', o->f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', o->f);
		fputc(*s, o->f);
	}
	fputc('"', o->f);
}

/* The row, shortened to max bytes at a character boundary. */
static void shortened(struct out *o, const char *s, size_t max)
{
	size_t l = strlen(s);

	if (l <= max)
		return put(o, s);
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	fprintf(o->f, "%.*s...", (int)max, s);
}

static void rule_text(struct out *o, const struct pw_imp_rule *u)
{
	const char *proto = u->protos == (PW_P_TCP | PW_P_UDP) ? "tcp,udp" : u->protos == PW_P_UDP ? "udp" : "tcp";

	fprintf(o->f, "allow %-3s %s port ", u->dir == PW_DIR_IN ? "in" : "out", proto);
	for (size_t i = 0; i < u->n; i++) {
		fprintf(o->f, "%s%u", i ? "," : "", u->p[i].lo);
		if (u->p[i].hi != u->p[i].lo)
			fprintf(o->f, "-%u", u->p[i].hi);
	}
	if (u->host)
		fprintf(o->f, " to %s", u->host);
	fputs(" comment ", o->f);
	quoted(o, u->comment);
}

static void header(struct out *o, const struct pw_imp_result *r, const char *src)
{
	size_t doubts = 0, out = 0;

	for (size_t i = 0; i < r->nrules; i++)
		doubts += r->rules[i].same_as || r->rules[i].merged_into ? 0 : r->rules[i].ndoubts,
		out += r->rules[i].dir == PW_DIR_OUT;
	putf(o, "# DRAFT policy imported by `portwall import` from %s (read as %s).\n", src,
		pw_imp_format_name(r->t.fmt));
	put(o, "# Every row of the table stands below under a \"# from FILE:LINE:\" line that\n"
	       "# quotes it: its rules, or a \"# skipped:\" line saying why it gives none.\n");
	putf(o, "# Review it before you apply it: %zu \"# REVIEW:\" line%s (above the rules they are\n"
		"# about) say what the importer could not read with confidence.\n", doubts, doubts == 1 ? "" : "s");
	put(o, "# The rules allow any peer: where the table names one by its role, narrow\n"
	       "# the rule with from/to and its addresses (policies/ccp.policy shows how).\n"
	       "# The table lists no administration port: add SSH (allow in tcp port 22\n"
	       "# from your admins) or include \"base.policy\" (SSH in; DNS, NTP out; ICMP),\n"
	       "# or applying this from an SSH session cuts it (portwall check warns).\n"
	       "#\n# default in drop: only the table's listener ports (and replies to the\n"
	       "# host's own connections) come in.\n");
	if (out)
		put(o, "# default out allow: a vendor table lists the vendor's flows, not the host's\n"
		       "# own (DNS, NTP, updates, syslog), which default out drop would stop. So\n"
		       "# the allow out rules below only count the table's outbound flows (check\n"
		       "# warns so). To enforce them, as the Cisco guides' \"keep the rest of the\n"
		       "# ports blocked\" asks, add the host's own and write default out drop.\n");
	else
		put(o, "# default out allow: the table lists no outbound flow.\n");
	fputs("policy ", o->f);
	char name[600];
	snprintf(name, sizeof(name), "imported from %s", src);
	quoted(o, name);
	put(o, "\n\ndefault in  drop\ndefault out allow\n");
}

static void row(struct out *o, struct pw_imp_result *r, size_t i, const char *src)
{
	const struct pw_imp_row *w = &r->t.rows[i];

	putf(o, "\n# from %s:%d: ", src, w->line);
	shortened(o, w->raw ? w->raw : "", 160);
	put(o, "\n");
	if (r->row_skip[i]) {
		put(o, "# skipped: ");
		put(o, r->row_skip[i]);
		put(o, "\n");
	}
	for (size_t k = 0; k < r->nrules; k++) {
		struct pw_imp_rule *u = &r->rules[k];
		if (u->row != i)
			continue;
		if (u->merged_into) {
			put(o, "# skipped: ");
			rule_text(o, u);
			putf(o, ": its ports are in the rule for %s at line %d\n", u->host,
			     r->rules[u->merged_into - 1].policy_line);
			continue;
		}
		if (u->same_as) {
			put(o, "# skipped: ");
			rule_text(o, u);
			putf(o, ": the same rule as line %d\n", r->rules[u->same_as - 1].policy_line);
			continue;
		}
		for (size_t d = 0; d < u->ndoubts; d++) {
			put(o, "# REVIEW: ");
			put(o, u->doubt[d]);
			put(o, "\n");
		}
		u->policy_line = o->line;
		rule_text(o, u);
		put(o, "\n");
	}
}

int pw_imp_write(FILE *f, const struct pw_imp_result *cr, const char *src)
{
	struct pw_imp_result *r = (struct pw_imp_result *)cr;	/* fills policy_line */
	struct out o = { f, 1 };

	header(&o, r, src);
	for (size_t i = 0; i < r->t.nrows; i++)
		row(&o, r, i, src);
	return ferror(f) ? -1 : 0;
}

/* Write the draft into *out and check it: 0, -1 (memory), or 1 when it
 * is no valid policy (d says why). */
static int draft(const char *src, struct pw_imp_result *r, char **out, size_t *outlen, struct pw_diag *d)
{
	FILE *f = open_memstream(out, outlen);
	struct pw_policy pol;
	struct pw_compiled c;

	if (!f)
		return -1;
	int rc = pw_imp_write(f, r, src);
	if (fclose(f) || rc)
		return -1;
	/* the draft must be a valid policy: anything else is the importer's bug */
	if (pw_policy_parse_text("draft", *out, *outlen, &pol, d))
		return 1;
	rc = pw_compile(&pol, &c, d);
	if (!rc)
		pw_compiled_free(&c);
	pw_policy_free(&pol);
	return rc ? 1 : 0;
}

int pw_imp_run(const char *src, const char *text, size_t len, enum pw_imp_format fmt,
	       struct pw_imp_result *r, char **out, size_t *outlen, char *err, size_t errsz)
{
	struct pw_imp_table t;

	*out = NULL;
	memset(r, 0, sizeof(*r));
	if (pw_imp_read(text, len, fmt, &t, err, errsz)) {
		pw_imp_table_free(&t);
		return -1;
	}
	if (pw_imp_rules(&t, r))
		return snprintf(err, errsz, "out of memory deciding the rules"), -1;
	struct pw_diag d = { 0 };
	char *name = strdup(src);	/* the file's name as the draft may quote it */
	if (!name)
		return snprintf(err, errsz, "out of memory"), -1;
	pw_imp_text_fix(name);
	int rc = draft(name, r, out, outlen, &d);
	/* a host in so many rules that it feeds too many peer-class shapes: one
	 * rule per host, direction and protocol, and once more */
	if (rc > 0 && strstr(d.error, "the most one name feeds") && pw_imp_merge_hosts(r) > 0) {
		free(*out);
		*out = NULL;
		pw_diag_free(&d);
		memset(&d, 0, sizeof(d));
		rc = draft(name, r, out, outlen, &d);
	}
	free(name);
	if (rc < 0)
		snprintf(err, errsz, "out of memory writing the draft");
	else if (rc > 0)
		snprintf(err, errsz, "the draft is not a valid policy (an importer bug; please report it with "
			 "the table): %s", d.error);
	pw_diag_free(&d);
	return rc ? -1 : 0;
}
