/* import_text.c - the paragraph formats: "cells" (a PDF table flattened
 * to text, one cell per paragraph, the empty cells gone) and "text" (an
 * article that names host names and ports in its sentences). */
#define _GNU_SOURCE	/* strcasestr */
#include "policy/import.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct para {
	char *text;		/* cleaned */
	int line;
	bool bullet;		/* starts with a bullet or a dash */
};

/* The paragraphs of text (blank lines between), cleaned. */
static size_t paragraphs(const char *text, size_t len, struct para **out)
{
	struct para *p = NULL;
	size_t n = 0;
	int line = 1;

	for (const char *s = text, *end = text + len; s < end;) {
		while (s < end && (*s == '\n' || *s == ' ' || *s == '\r' || *s == '\t'))
			line += *s++ == '\n';
		if (s >= end)
			break;
		const char *e = s;
		while (e < end && !(e[0] == '\n' && (e + 1 >= end || e[1] == '\n' || e[1] == '\r')))
			e++;
		char *c = pw_imp_clean(s, (size_t)(e - s));
		if (c) {
			struct para *np = realloc(p, (n + 1) * sizeof(*p));
			if (!np) {
				free(c);
				break;
			}
			p = np;
			p[n++] = (struct para){ c, line, (end - s >= 3 && memcmp(s, "\xe2\x80\xa2", 3) == 0) || *s == '-' };
		}
		for (; s < e; s++)
			line += *s == '\n';
	}
	*out = p;
	return n;
}

static void free_paras(struct para *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i].text);
	free(p);
}

/* How many header names start at paragraph i (a header run: 3 or more). */
static size_t header_run(const struct para *p, size_t n, size_t i)
{
	size_t k = 0;
	while (i + k < n && pw_imp_header_col(p[i + k].text) >= 0 && strlen(p[i + k].text) < 60)
		k++;
	return k >= 3 ? k : 0;
}

static bool is_port(const struct para *p)
{
	struct pw_imp_ports pp;
	const char *t = p->text;
	bool starts = isdigit((unsigned char)t[0]) || strncasecmp(t, "port", 4) == 0 ||
		      strncasecmp(t, "tcp ", 4) == 0 || strncasecmp(t, "udp ", 4) == 0;
	return !p->bullet && starts && pw_imp_ports_parse(t, &pp) > 0;
}

static bool is_dir(const struct para *p)
{
	static const char *const W[] = { "bidirectional", "inward", "outward", "inbound", "outbound",
					 "unidirectional" };
	for (size_t i = 0; i < sizeof(W) / sizeof(W[0]); i++)
		if (strncasecmp(p->text, W[i], strlen(W[i])) == 0)
			return pw_imp_dir_parse(p->text) != PW_IMP_D_UNCLEAR;
	return false;
}

bool pw_imp_looks_cells(const char *text, size_t len)
{
	struct para *p;
	size_t n = paragraphs(text, len, &p), run = 0;

	for (size_t i = 0; i < n && !run; i++)
		run = header_run(p, n, i);
	free_paras(p, n);
	return run > 0;
}

/* s + " " + add, into a new string (s freed). */
static char *append(char *s, const char *add)
{
	size_t l = s ? strlen(s) : 0;
	char *o = realloc(s, l + strlen(add) + 2);
	if (!o)
		return s;
	if (l)
		o[l++] = ' ';
	strcpy(o + l, add);
	return o;
}

/* A row from paragraph i: NAME, PORT, [REMOTE], [REMOTE PORT], DIRECTION,
 * then the notes up to the next row's start. Returns the next index. */
static size_t cells_row(struct pw_imp_table *t, const struct para *p, size_t n, size_t i)
{
	struct pw_imp_row *r = pw_imp_add_row(t, p[i].line);

	if (!r)
		return n;
	r->cell[PW_IMP_NAME] = strdup(p[i].text);
	r->cell[PW_IMP_LPORT] = strdup(p[i + 1].text);
	r->raw = append(append(NULL, p[i].text), "|"), r->raw = append(r->raw, p[i + 1].text);
	size_t k = 0;	/* the remote device and port, when a direction follows them */
	for (i += 2; k < 3 && i + k < n && !is_dir(&p[i + k]) && !header_run(p, n, i + k); k++)
		;
	bool take = k < 3 && i + k < n && is_dir(&p[i + k]);
	for (size_t j = 0; take && j < k; j++, i++) {
		int c = is_port(&p[i]) ? PW_IMP_RPORT : PW_IMP_REMOTE;
		r->cell[c] = append(r->cell[c], p[i].text);
		r->raw = append(append(r->raw, "|"), p[i].text);
	}
	if (i < n && is_dir(&p[i])) {
		r->cell[PW_IMP_DIR] = strdup(p[i].text);
		r->raw = append(append(r->raw, "|"), p[i++].text);
	}
	for (; i < n && !(i + 1 < n && !p[i].bullet && is_port(&p[i + 1])) && !header_run(p, n, i); i++) {
		r->cell[PW_IMP_NOTES] = append(r->cell[PW_IMP_NOTES], p[i].text);
		r->raw = append(p[i].bullet ? r->raw : append(r->raw, "|"), p[i].text);
	}
	return i;
}

int pw_imp_read_cells(const char *text, size_t len, struct pw_imp_table *t)
{
	struct para *p;
	size_t n = paragraphs(text, len, &p);
	bool table = false;

	for (size_t i = 0; i < n;) {
		size_t run = header_run(p, n, i);
		if (run) {
			struct pw_imp_row *r = pw_imp_add_row(t, p[i].line);
			if (!r)
				break;
			r->header = true;
			for (size_t k = 0; k < run; k++)
				r->raw = append(k ? append(r->raw, "|") : r->raw, p[i + k].text);
			i += run, table = true;
		} else if (table && i + 1 < n && !p[i].bullet && is_port(&p[i + 1])) {
			i = cells_row(t, p, n, i);
		} else {
			pw_imp_note(t, p[i].text);	/* text around the table */
			i++;
		}
	}
	free_paras(p, n);
	return 0;
}

/* text: the host of the first URL ("https://pop0-ccaws.example.net/x",
 * port 443 unless written) or HOST:PORT of s, into host and port. */
static bool find_host(const char *s, char *host, size_t hn, char *port, size_t pn)
{
	const char *u = strstr(s, "://"), *h = NULL;

	bool https = u && u - s >= 5 && strncasecmp(u - 5, "https", 5) == 0;
	if (https || (u && u - s >= 4 && strncasecmp(u - 4, "http", 4) == 0)) {
		h = u + 3;
		snprintf(port, pn, "%s", https ? "443" : "80");
	}
	for (const char *c = s; !h && (c = strchr(c, ':')); c++) {
		const char *b = c;
		while (b > s && (isalnum((unsigned char)b[-1]) || b[-1] == '.' || b[-1] == '-' || b[-1] == '_'))
			b--;
		if (isdigit((unsigned char)c[1]) && memchr(b, '.', (size_t)(c - b)) && isalpha((unsigned char)c[-1]))
			h = b;
	}
	if (!h)
		return false;
	size_t l = 0;
	while (isalnum((unsigned char)h[l]) || h[l] == '.' || h[l] == '-' || h[l] == '_')
		l++;
	snprintf(host, hn, "%.*s", (int)l, h);
	if (h[l] == ':' && isdigit((unsigned char)h[l + 1]))
		snprintf(port, pn, "%.*s", (int)strspn(h + l + 1, "0123456789"), h + l + 1);
	return l > 0;
}

/* text: the numbers of "port N" phrases of s, as "N, M". */
static void port_phrases(const char *s, char *out, size_t n)
{
	size_t w = 0;

	out[0] = '\0';
	for (const char *p = s; (p = strcasestr(p, "port ")); p += 5) {
		if (p > s && isalpha((unsigned char)p[-1]))
			continue;
		size_t d = strspn(p + 5, "0123456789");
		if (d && w + d + 3 < n)
			w += (size_t)snprintf(out + w, n - w, "%s%.*s", w ? ", " : "", (int)d, p + 5);
	}
}

/* text: what a line is about, for the rule's comment: the words before
 * its ':' or dash, "(port N)" left out, and the section it stands in. */
static char *label(const char *line, const char *section)
{
	char buf[512];
	size_t w = 0;
	const char *colon = strchr(line, ':'), *url = strstr(line, "://");
	const char *dash = strstr(line, " \xe2\x80\x93 ");
	const char *end = colon && (!url || colon < url) && colon != url ? colon : dash ? dash : line + strlen(line);

	for (const char *p = line; p < end && w < sizeof(buf) - 1; p++) {
		if (*p == '(' && strncasecmp(p, "(port", 5) == 0) {
			const char *q = strchr(p, ')');
			p = q && q < end ? q : end - 1;
			continue;
		}
		buf[w++] = *p;
	}
	if (w > 64) {	/* a sentence: its first words */
		for (w = 64; w > 0 && buf[w] != ' '; w--)
			;
		w += (size_t)snprintf(buf + w, sizeof(buf) - w, "...");
	}
	if (section)
		w += (size_t)snprintf(buf + w, sizeof(buf) - w, " (%s)", section);
	return pw_imp_clean(buf, w < sizeof(buf) ? w : sizeof(buf) - 1);
}

static int text_line(struct pw_imp_table *t, int line, char *c, char **section)
{
	char host[256] = "", port[64] = "", phrases[64], ports[96];
	bool h = find_host(c, host, sizeof(host), port, sizeof(port));

	port_phrases(c, phrases, sizeof(phrases));
	if (!h && !phrases[0]) {
		size_t l = strlen(c);
		if (l < 40 && c[l - 1] == ':')	/* "Toronto:": a section */
			free(*section), *section = strndup(c, l - 1);
		if (strcasestr(c, "not open") && strcasestr(c, "incoming") && !t->no_inbound_text)
			t->no_inbound_line = line, t->no_inbound_text = strdup(c);
		return 0;
	}
	struct pw_imp_row *r = pw_imp_add_row(t, line);
	if (!r)
		return -1;
	const char *proto = pw_imp_has_word(c, "udp") ? "UDP " : pw_imp_has_word(c, "tcp") ? "TCP " : "";
	snprintf(ports, sizeof(ports), "%s%s", proto, h ? port : phrases);
	r->cell[PW_IMP_NAME] = label(c, *section);
	r->cell[PW_IMP_RPORT] = strdup(ports);
	r->cell[PW_IMP_NOTES] = strdup(c);
	r->host = h ? strdup(host) : NULL;
	r->raw = strdup(c);
	return 0;
}

int pw_imp_read_text(const char *text, size_t len, struct pw_imp_table *t)
{
	char *section = NULL;
	int line = 0, rc = 0;

	for (const char *s = text, *end = text + len; s < end && !rc; line++) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t l = nl ? (size_t)(nl - s) : (size_t)(end - s);
		char *c = pw_imp_clean(s, l);
		if (c)
			rc = text_line(t, line + 1, c, &section);
		else
			free(section), section = NULL;	/* a blank line ends a section */
		free(c);
		s = nl ? nl + 1 : end;
	}
	free(section);
	return rc;
}
