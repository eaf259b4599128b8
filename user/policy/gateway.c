/* gateway.c - a gateway file's text to struct pw_gateway: tokens and
 * statements (gateway, default forward, protect). The policies it names
 * are loaded by gateway_load.c. */
#include "policy/gateway.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/closest.h"
#include "policy/files.h"
#include "policy/gateway_int.h"
#include "portwall.h"

static int oom(struct gw_parser *p)
{
	p->oom = true;
	pw_diag_error(p->d, p->gw->file, 0, 0, "out of memory");
	return -1;
}

int pw_gw_err(struct gw_parser *p, const struct gw_tok *t, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pw_diag_error(p->d, p->gw->file, t->line, t->col, "%s", msg);
	return -1;
}

static int err_end(struct gw_parser *p, const struct gw_stmt *st, const char *what)
{
	const struct gw_tok *t = &st->t[st->n - 1];

	pw_diag_error(p->d, p->gw->file, t->line, t->end_col, "expected %s at end of line", what);
	return -1;
}

static void stmt_clear(struct gw_stmt *st)
{
	for (size_t i = 0; i < st->n; i++)
		free(st->t[i].s);
	st->n = 0;
}

static int push_tok(struct gw_parser *p, struct gw_stmt *st, enum gw_tok_type ty, char *s, int line, int col,
		    int end)
{
	if (!s)
		return oom(p);
	if (st->n == st->cap) {
		size_t c = st->cap ? st->cap * 2 : 16;
		struct gw_tok *n = realloc(st->t, c * sizeof(*n));
		if (!n) {
			free(s);
			return oom(p);
		}
		st->t = n;
		st->cap = c;
	}
	st->t[st->n++] = (struct gw_tok){ .type = ty, .s = s, .line = line, .col = col, .end_col = end };
	return 0;
}

/* The 1-based column of byte i of line (UTF-8 continuation bytes aside). */
static int col_of(const char *line, size_t i)
{
	int col = 1;

	for (size_t k = 0; k < i; k++)
		if (((unsigned char)line[k] & 0xc0) != 0x80)
			col++;
	return col;
}

/* The same walking forward along one line: each byte counted once. */
struct cursor {
	const char *line;
	size_t at;
	int col;
};

static int col_at(struct cursor *c, size_t i)
{
	for (; c->at < i; c->at++)
		if (((unsigned char)c->line[c->at] & 0xc0) != 0x80)
			c->col++;
	return c->col;
}

/* A quoted string from line[i] (the quote): \" and \\ escapes. */
static int lex_string(struct gw_parser *p, struct gw_stmt *st, struct cursor *cu, size_t len, size_t *i,
		      int lineno)
{
	int col = col_at(cu, *i);
	char *s;
	size_t end;
	int rc = pw_unquote(cu->line, len, *i, &s, &end);

	if (rc < 0)
		return oom(p);
	if (rc) {
		pw_diag_error(p->d, p->gw->file, lineno, col,
			      "unterminated string: close it with \" on the same line");
		return -1;
	}
	rc = push_tok(p, st, GW_STR, s, lineno, col, col_at(cu, end));
	*i = end;
	return rc;
}

/* Tokenize one physical line into st. */
static int lex_line(struct gw_parser *p, struct gw_stmt *st, const char *line, size_t len, int lineno)
{
	size_t i = 0;
	struct cursor cu = { .line = line, .at = 0, .col = 1 };

	while (i < len) {
		char c = line[i];
		if (strchr(" \t\r\f\v", c)) {
			i++;
		} else if (c == '#') {
			break;
		} else if (c == '"') {
			if (lex_string(p, st, &cu, len, &i, lineno))
				return -1;
		} else if (c == ',') {
			int col = col_at(&cu, i);
			if (push_tok(p, st, GW_COMMA, strdup(","), lineno, col, col_at(&cu, i + 1)))
				return -1;
			i++;
		} else {
			size_t j = i;
			while (j < len && !strchr(" \t\r\f\v,\"#", line[j]))
				j++;
			int col = col_at(&cu, i);
			if (push_tok(p, st, GW_WORD, strndup(line + i, j - i), lineno, col, col_at(&cu, j)))
				return -1;
			i = j;
		}
	}
	return 0;
}

bool pw_gw_is_kw(const struct gw_stmt *st, size_t i, const char *kw)
{
	return i < st->n && st->t[i].type == GW_WORD && strcmp(st->t[i].s, kw) == 0;
}

static int st_gateway(struct gw_parser *p, const struct gw_stmt *st)
{
	if (st->n < 2)
		return err_end(p, st, "a quoted name, as in gateway \"contact center DMZ\"");
	if (st->t[1].type != GW_STR)
		return pw_gw_err(p, &st->t[1], "expected a quoted name, got \"%s\"", st->t[1].s);
	if (st->n > 2)
		return pw_gw_err(p, &st->t[2], "unexpected \"%s\" after the gateway's name", st->t[2].s);
	if (p->named_line)
		return pw_gw_err(p, &st->t[0], "the gateway is already named at line %d; keep one gateway line",
				 p->named_line);
	p->named_line = st->t[0].line;
	free(p->gw->name);
	p->gw->name = strdup(st->t[1].s);
	return p->gw->name ? 0 : oom(p);
}

static int st_default(struct gw_parser *p, const struct gw_stmt *st)
{
	static const char *const acts[] = { "allow", "drop", NULL };
	const struct gw_tok *t;

	if (st->n < 2)
		return err_end(p, st, "forward, as in default forward drop");
	if (pw_gw_is_kw(st, 1, "in") || pw_gw_is_kw(st, 1, "out"))
		return pw_gw_err(p, &st->t[1], "default %s belongs in a policy (each protected host's); a gateway "
				 "file says default forward allow|drop, for the hosts no protect line names",
				 st->t[1].s);
	if (!pw_gw_is_kw(st, 1, "forward"))
		return pw_gw_err(p, &st->t[1], "expected forward, got \"%s\"", st->t[1].s);
	p->forward_seen = true;	/* reported here if wrong, not again as missing */
	if (st->n < 3)
		return err_end(p, st, "allow or drop");
	t = &st->t[2];
	int act = pw_gw_is_kw(st, 2, "allow") ? PW_PASS : pw_gw_is_kw(st, 2, "drop") ? PW_DROP : -1;
	if (act < 0) {
		const char *best = t->type == GW_WORD ? pw_closest_from(t->s, acts) : NULL;
		return pw_gw_err(p, t, "expected allow or drop, got \"%s\"%s%s%s", t->s,
				 best ? "; did you mean \"" : "", best ? best : "", best ? "\"?" : "");
	}
	if (st->n > 3)
		return pw_gw_err(p, &st->t[3], "unexpected \"%s\" after default forward %s", st->t[3].s, t->s);
	if (p->gw->forward_line)
		return pw_gw_err(p, &st->t[0], "default forward is already set at line %d; keep one",
				 p->gw->forward_line);
	p->gw->forward = (uint8_t)act;
	p->gw->forward_line = st->t[0].line;
	return 0;
}

static int statement(struct gw_parser *p, const struct gw_stmt *st)
{
	static const char *const words[] = { "gateway", "default", "protect", NULL };
	const struct gw_tok *t = &st->t[0];

	if (t->type == GW_WORD) {
		if (!strcmp(t->s, "gateway"))
			return st_gateway(p, st);
		if (!strcmp(t->s, "default"))
			return st_default(p, st);
		if (!strcmp(t->s, "protect"))
			return pw_gw_protect(p, st);
		if (!strcmp(t->s, "include"))
			return pw_gw_err(p, t, "a gateway file has no includes: name each policy with protect ADDR "
					 "with \"FILE\" (the policies' own includes are read as always)");
		if (!strcmp(t->s, "allow") || !strcmp(t->s, "deny"))
			return pw_gw_err(p, t, "rules belong in the policy of a protected host: write them there, "
					 "and name the policy with protect ADDR with \"FILE\"");
	}
	const char *best = t->type == GW_WORD ? pw_closest_from(t->s, words) : NULL;
	if (best)
		return pw_gw_err(p, t, "unknown statement \"%s\"; did you mean \"%s\"?", t->s, best);
	return pw_gw_err(p, t, "expected a statement (gateway, default forward, protect), got \"%s\"", t->s);
}

/* Whether the line (comment and blanks aside) ends in ",". */
static bool goes_on(const char *line, size_t len)
{
	const char *hash = memchr(line, '#', len);
	size_t n = hash ? (size_t)(hash - line) : len;

	while (n && strchr(" \t\r\f\v", line[n - 1]))
		n--;
	return n && line[n - 1] == ',';
}

/* One physical line: checked, tokenized, and the statement run when it
 * is complete. 0, -1 (reported, go on), -2 (no text: stop). */
static int one_line(struct gw_parser *p, struct gw_stmt *st, const char *line, size_t ll, int lineno, bool last)
{
	char why[160];
	const char *nul = memchr(line, '\0', ll);
	long bad = nul ? -1 : pw_text_bad(line, ll, why, sizeof(why));

	if (nul) {
		pw_diag_error(p->d, p->gw->file, lineno, col_of(line, (size_t)(nul - line)),
			      "NUL byte in the file; is it a text file?");
		return -2;
	}
	if (bad >= 0) {
		pw_diag_error(p->d, p->gw->file, lineno, col_of(line, (size_t)bad), "%s", why);
		return -1;
	}
	if (lex_line(p, st, line, ll, lineno))
		return -1;
	if (st->n == 0 || (st->t[st->n - 1].type == GW_COMMA && !last))
		return 0;	/* blank, or the list goes on */
	int rc = statement(p, st);
	stmt_clear(st);
	return rc;
}

/* Every statement of the text; an error skips its statement and goes on. */
static int parse_lines(struct gw_parser *p, const char *text, size_t len)
{
	struct gw_stmt st = { 0 };
	size_t pos = len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3) ? 3 : 0;
	int lineno = 0, rc = 0;
	bool skip = false;

	while (pos < len && !p->oom) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - line) : len - pos;
		pos += ll + (nl ? 1 : 0);
		lineno++;
		if (skip) {
			skip = goes_on(line, ll);
			continue;
		}
		int r = one_line(p, &st, line, ll, lineno, pos >= len);
		if (r == -2) {
			rc = -1;
			break;
		}
		if (r) {
			rc = -1;
			stmt_clear(&st);
			skip = goes_on(line, ll);
		}
	}
	stmt_clear(&st);
	free(st.t);
	return p->oom ? -1 : rc;
}

bool pw_gateway_sniff(const char *text, size_t len)
{
	size_t i = len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3) ? 3 : 0;

	for (;;) {
		while (i < len && strchr(" \t\r\n\f\v", text[i]))
			i++;
		if (i < len && text[i] == '#') {
			const char *nl = memchr(text + i, '\n', len - i);
			if (!nl)
				return false;
			i = (size_t)(nl - text) + 1;
			continue;
		}
		break;
	}
	size_t j = i;
	while (j < len && !strchr(" \t\r\n\f\v#\",", text[j]))
		j++;
	if ((j - i == 7 && !memcmp(text + i, "gateway", 7)) || (j - i == 7 && !memcmp(text + i, "protect", 7)))
		return true;
	if (j - i != 7 || memcmp(text + i, "default", 7))
		return false;
	while (j < len && strchr(" \t\r\f\v", text[j]) && text[j])
		j++;
	if (len - j < 7 || memcmp(text + j, "forward", 7))
		return false;
	return len - j == 7 || strchr(" \t\r\n#", text[j + 7]);
}

int pw_gateway_sniff_file(const char *path)
{
	struct pw_file f;
	char msg[PATH_MAX + 300];

	if (pw_file_read(path, false, &f, msg, sizeof(msg)))
		return 0;
	int yes = pw_gateway_sniff(f.text, f.len);
	pw_file_free(&f);
	return yes;
}

static void gw_init(struct pw_gateway *gw)
{
	memset(gw, 0, sizeof(*gw));
	gw->forward = PW_DROP;
}

/* The statements, then what a whole file needs: default forward, a host. */
static int parse_gateway(struct gw_parser *p, const char *text, size_t len)
{
	int rc = parse_lines(p, text, len);

	if (p->oom)
		return -1;
	if (!p->gw->forward_line && !p->forward_seen) {
		pw_diag_error(p->d, p->gw->file, 0, 0, "no \"default forward allow|drop\" line: say what happens "
			      "to traffic of hosts no protect line names (allow: the gateway routes it as "
			      "before; drop: only the protected hosts' traffic crosses)");
		rc = -1;
	}
	if (!p->gw->nhosts && rc == 0) {
		pw_diag_error(p->d, p->gw->file, 0, 0, "no protect line: name each protected host and its "
			      "policy, as in protect 198.51.100.10 with \"ccp.policy\"");
		rc = -1;
	}
	if (!p->gw->name && !p->oom) {
		const char *b = strrchr(p->gw->file, '/');
		p->gw->name = strdup(b ? b + 1 : p->gw->file);
		if (!p->gw->name)
			return oom(p);
	}
	return rc;
}

int pw_gateway_parse_text(const char *name, const char *text, size_t len, const struct pw_parse_opts *o,
			  struct pw_gateway *gw, struct pw_diag *d)
{
	struct gw_parser p = { .gw = gw, .d = d, .files = o ? o->files : PW_FILES_ANY };

	gw_init(gw);
	gw->file = strdup(name);
	gw->text = malloc(len + 1);
	if (!gw->file || !gw->text) {
		pw_diag_error(d, name, 0, 0, "out of memory");
		pw_gateway_free(gw);
		return -1;
	}
	memcpy(gw->text, text, len);
	gw->text[len] = '\0';
	gw->len = len;
	int rc = parse_gateway(&p, text, len);
	if (rc == 0)
		pw_gw_sort(gw);
	else
		pw_gateway_free(gw);
	return rc;
}

int pw_gateway_parse_file(const char *path, const struct pw_parse_opts *o, struct pw_gateway *gw,
			  struct pw_diag *d)
{
	struct pw_file f;
	char msg[PATH_MAX * 2 + 300];

	gw_init(gw);
	int rc = pw_file_read(path, false, &f, msg, sizeof(msg));
	if (rc) {
		pw_diag_error(d, path, 0, 0, "cannot read the gateway file: %s", msg);
		return -1;
	}
	if (o && o->files != PW_FILES_ANY && pw_file_trusted(path, &f, geteuid(), msg, sizeof(msg))) {
		if (o->files == PW_FILES_STRICT) {
			pw_diag_error(d, path, 0, 0, "refused: %s", msg);
			pw_file_free(&f);
			return -1;
		}
		if (pw_diag_warn(d, path, 0, "%s (apply, reload and run refuse it)", msg)) {
			pw_file_free(&f);
			return -1;
		}
	}
	rc = pw_gateway_parse_text(path, f.text, f.len, o, gw, d);
	pw_file_free(&f);
	return rc;
}
