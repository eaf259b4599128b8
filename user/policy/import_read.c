/* import_read.c - a vendor table's rows: the delimited formats (tab- and
 * comma-separated rows under header rows, which may repeat), HTML <tr>
 * rows, which format a file is, and what every reader shares. The
 * paragraph formats (a PDF flattened to one cell per paragraph, prose)
 * are import_text.c's. */
#define _GNU_SOURCE	/* strcasestr, memmem */
#include "policy/import.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const FORMATS[] = { "auto", "tsv", "cells", "html", "csv", "text" };

const char *pw_imp_format_name(enum pw_imp_format f)
{
	return FORMATS[f];
}

int pw_imp_format_by_name(const char *s)
{
	for (size_t i = 0; i < sizeof(FORMATS) / sizeof(FORMATS[0]); i++)
		if (strcmp(s, FORMATS[i]) == 0)
			return (int)i;
	return -1;
}

struct pw_imp_row *pw_imp_add_row(struct pw_imp_table *t, int line)
{
	if (t->nrows % 32 == 0) {
		struct pw_imp_row *n = realloc(t->rows, (t->nrows + 32) * sizeof(*n));
		if (!n)
			return NULL;
		t->rows = n;
	}
	struct pw_imp_row *r = &t->rows[t->nrows++];
	memset(r, 0, sizeof(*r));
	r->line = line;
	return r;
}

int pw_imp_header_col(const char *c)
{
	if (!c)
		return -1;
	if (strcasestr(c, "destination port"))
		return PW_IMP_DPORT;
	if (strcasestr(c, "listener"))
		return strcasestr(c, "port") ? PW_IMP_LPORT : PW_IMP_NAME;
	if (strcasestr(c, "remote device"))
		return PW_IMP_REMOTE;
	if (strcasestr(c, "remote") && strcasestr(c, "port"))
		return PW_IMP_RPORT;
	if (strcasestr(c, "traffic direction") || strcasecmp(c, "direction") == 0)
		return PW_IMP_DIR;
	if (strcasecmp(c, "notes") == 0 || strcasecmp(c, "note") == 0 || strcasecmp(c, "purpose") == 0 ||
	    strcasecmp(c, "description") == 0)
		return PW_IMP_NOTES;
	/* the plain names of other vendors' tables */
	if (strcasecmp(c, "port") == 0 || strcasecmp(c, "ports") == 0 || strcasecmp(c, "port(s)") == 0)
		return PW_IMP_LPORT;
	if (strcasecmp(c, "service") == 0 || strcasecmp(c, "application") == 0 || strcasecmp(c, "name") == 0)
		return PW_IMP_NAME;
	if (strcasecmp(c, "protocol") == 0 || strcasecmp(c, "transport") == 0)
		return PW_IMP_PROTO;
	return -1;
}

void pw_imp_note(struct pw_imp_table *t, const char *line)
{
	static const char *const MARKS[] = { "\xc2\xb9", "\xc2\xb2", "\xc2\xb3" };

	for (size_t i = 0; i < 3 && t->nnotes < 8; i++) {
		size_t l = strlen(MARKS[i]);
		if (strncmp(line, MARKS[i], l) != 0 || !line[l])
			continue;
		struct pw_imp_note *n = &t->notes[t->nnotes];
		n->text = pw_imp_clean(line + l, strlen(line + l));
		if (n->text)
			snprintf(n->mark, sizeof(n->mark), "%s", MARKS[i]), t->nnotes++;
		return;
	}
}

/* Split one line into cleaned fields at sep; a csv field may be quoted
 * ("a, b" and "" for a quote). Returns the number of fields. */
static size_t split(const char *s, size_t len, char sep, char **f, size_t max)
{
	size_t n = 0, i = 0;

	while (i <= len && n < max) {
		char buf[4096];
		size_t b = 0;
		bool quoted = sep == ',' && i < len && s[i] == '"';
		for (i += quoted; i < len && (quoted || s[i] != sep); i++) {
			if (quoted && s[i] == '"' && (i + 1 >= len || s[i + 1] != '"')) {
				quoted = false;
				continue;
			}
			i += quoted && s[i] == '"';	/* "" inside quotes */
			if (b < sizeof(buf) - 1)
				buf[b++] = s[i];
		}
		f[n++] = pw_imp_clean(buf, b);
		i++;	/* the separator */
	}
	return n;
}

/* "a | b | - | c": a row as one line. */
static char *join(char **f, size_t n)
{
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += (f[i] ? strlen(f[i]) : 1) + 3;
	char *o = malloc(len);
	if (!o)
		return NULL;
	o[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(o, " | ");
		strcat(o, f[i] ? f[i] : "-");
	}
	return o;
}

#define FIELDS_MAX 16

/* The columns of a header row, or false when f is no header row: every
 * field a known column name, three at least. */
static bool header_cols(char **f, size_t n, int *cols)
{
	size_t known = 0;

	for (size_t i = 0; i < n; i++) {
		cols[i] = pw_imp_header_col(f[i]);
		if (f[i] && cols[i] < 0)
			return false;
		known += cols[i] >= 0;
	}
	return known >= 3;
}

/* One row of fields under the header's columns (ncols 0: none yet). */
static int add_fields(struct pw_imp_table *t, int line, char **f, size_t n, int *cols, size_t *ncols)
{
	int hc[FIELDS_MAX];
	bool header = header_cols(f, n, hc);
	struct pw_imp_row *r = pw_imp_add_row(t, line);

	if (!r)
		return -1;
	r->raw = join(f, n);
	r->header = header;
	if (header) {
		memcpy(cols, hc, sizeof(hc));
		*ncols = n;
	} else if (*ncols == 0) {
		r->skip = strdup("a row before any header row: which column is which is unknown");
	}
	for (size_t i = 0; i < n; i++) {
		int c = !header && i < *ncols ? cols[i] : -1;
		if (c >= 0 && !r->cell[c])
			r->cell[c] = f[i], f[i] = NULL;
		free(f[i]);
	}
	if (!header && *ncols && n > *ncols)
		r->skip = strdup("more cells than the header row has columns: which is which is unknown");
	return 0;
}

static int read_delimited(const char *text, size_t len, char sep, struct pw_imp_table *t)
{
	int cols[FIELDS_MAX], line = 0;
	size_t ncols = 0;

	for (const char *s = text, *end = text + len; s < end; line++) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t l = nl ? (size_t)(nl - s) : (size_t)(end - s);
		const char *next = nl ? nl + 1 : end;
		size_t seps = 0;
		for (size_t i = 0; i < l; i++)
			seps += s[i] == sep;
		if (l && s[l - 1] == '\r')
			l--;
		if (seps < 2 || (sep == ',' && ncols == 0 && !memmem(s, l, "ort", 3))) {
			char *c = pw_imp_clean(s, l);	/* prose; perhaps a footnote */
			if (c)
				pw_imp_note(t, c);
			free(c);
		} else {
			char *f[FIELDS_MAX];
			size_t n = split(s, l, sep, f, FIELDS_MAX);
			if (add_fields(t, line + 1, f, n, cols, &ncols))
				return -1;
		}
		s = next;
	}
	return 0;
}

/* HTML: each <tr> a row, each <td> or <th> a cell, tags inside cells
 * dropped. The line of a row is the line of its <tr. */
static const char *find_ci(const char *s, const char *end, const char *what)
{
	size_t l = strlen(what);
	for (; s + l <= end; s++)
		if (strncasecmp(s, what, l) == 0)
			return s;
	return NULL;
}

/* The line of at, counting on from the last call's (*from, *line). */
static int line_of(const char **from, int *line, const char *at)
{
	for (; *from < at; (*from)++)
		*line += **from == '\n';
	return *line;
}

static size_t html_cells(const char *s, const char *end, char **f)
{
	size_t n = 0;

	while (n < FIELDS_MAX) {
		const char *td = find_ci(s, end, "<td"), *th = find_ci(s, end, "<th");
		const char *c = td && (!th || td < th) ? td : th;
		if (!c)
			break;
		const char *open = memchr(c, '>', (size_t)(end - c));
		if (!open)
			break;
		const char *e1 = find_ci(open, end, "</t"), *e2 = find_ci(open + 1, end, "<td");
		const char *e3 = find_ci(open + 1, end, "<th"), *e = end;
		e = e1 && e1 < e ? e1 : e, e = e2 && e2 < e ? e2 : e, e = e3 && e3 < e ? e3 : e;
		f[n++] = pw_imp_clean(open + 1, (size_t)(e - open - 1));
		s = e;
	}
	return n;
}

static int read_html(const char *text, size_t len, struct pw_imp_table *t)
{
	const char *end = text + len, *s = text, *counted = text;
	int cols[FIELDS_MAX], line = 1;
	size_t ncols = 0;

	while ((s = find_ci(s, end, "<tr"))) {
		const char *e = find_ci(s + 3, end, "</tr"), *n2 = find_ci(s + 3, end, "<tr");
		e = !e || (n2 && n2 < e) ? (n2 ? n2 : end) : e;
		char *f[FIELDS_MAX];
		size_t n = html_cells(s + 3, e, f);
		if (n && add_fields(t, line_of(&counted, &line, s), f, n, cols, &ncols))
			return -1;
		s = e;
	}
	return 0;
}

static enum pw_imp_format detect(const char *text, size_t len)
{
	const char *end = text + len;
	size_t tabrows = 0, commas = 0;

	if (find_ci(text, end, "<tr") && find_ci(text, end, "<td"))
		return PW_IMP_HTML;
	for (const char *s = text; s < end;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl : end;
		size_t tabs = 0, cm = 0;
		for (const char *p = s; p < e; p++)
			tabs += *p == '\t', cm += *p == ',';
		tabrows += tabs >= 2, commas += cm >= 4;
		s = nl ? nl + 1 : end;
	}
	if (tabrows)
		return PW_IMP_TSV;
	if (pw_imp_looks_cells(text, len))
		return PW_IMP_CELLS;
	return commas >= 2 && find_ci(text, end, "port,") ? PW_IMP_CSV : PW_IMP_TEXT;
}

int pw_imp_read(const char *text, size_t len, enum pw_imp_format fmt, struct pw_imp_table *t,
		char *err, size_t errsz)
{
	memset(t, 0, sizeof(*t));
	t->fmt = fmt == PW_IMP_AUTO ? detect(text, len) : fmt;
	int line = 1;
	for (size_t i = 0; i < len;) {
		size_t k = text[i] ? pw_imp_utf8_len((const unsigned char *)text + i, len - i) : 0;
		if (!k)
			return snprintf(err, errsz, "line %d: %s (byte 0x%02x): a table is read as UTF-8 text; "
					"convert it first, e.g. iconv -f windows-1252 -t utf-8", line,
					text[i] ? "not UTF-8" : "a NUL byte", (unsigned char)text[i]), -1;
		line += text[i] == '\n';
		i += k;
	}
	int rc = t->fmt == PW_IMP_TSV ? read_delimited(text, len, '\t', t) :
		 t->fmt == PW_IMP_CSV ? read_delimited(text, len, ',', t) :
		 t->fmt == PW_IMP_HTML ? read_html(text, len, t) :
		 t->fmt == PW_IMP_CELLS ? pw_imp_read_cells(text, len, t) : pw_imp_read_text(text, len, t);
	if (rc)
		return snprintf(err, errsz, "out of memory reading the table"), -1;
	return 0;
}

void pw_imp_table_free(struct pw_imp_table *t)
{
	for (size_t i = 0; i < t->nrows; i++) {
		for (int c = 0; c < PW_IMP_NCOLS; c++)
			free(t->rows[i].cell[c]);
		free(t->rows[i].host);
		free(t->rows[i].raw);
		free(t->rows[i].skip);
	}
	for (size_t i = 0; i < t->nnotes; i++)
		free(t->notes[i].text);
	free(t->rows);
	free(t->no_inbound_text);
	memset(t, 0, sizeof(*t));
}
