/* parse.c - policy text to struct pw_policy: tokens, statements, includes. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/closest.h"
#include "policy/files.h"
#include "policy/hostname.h"
#include "policy/policy.h"
#include "policy/resolv.h"
#include "portwall.h"

enum tok_type { T_WORD, T_STR, T_COMMA, T_EQ };

struct tok {
	enum tok_type type;
	char *s;		/* owned; unescaped for strings */
	int line, col;		/* col: 1-based, in characters (UTF-8) */
	int end_col;		/* the column just past the token as written */
};

struct stmt {
	struct tok *t;
	size_t n, cap;
	char *text;		/* owned: the statement as written */
	size_t text_len, text_cap;
};

struct names {
	char **v;
	size_t n, cap;
};

struct pfx_list {
	struct pw_prefix *p;
	size_t n, cap;
	bool any;
	/* p is a set's prefixes (pw_set.pfx), not the list's own: a peer list
	 * that is one @set, shared; the first change copies it */
	bool borrowed;
	char **names;		/* host names and wildcards, owned */
	size_t nnames, names_cap;
};

struct parser {
	struct pw_policy *pol;
	struct pw_diag *d;
	const char *file;	/* current file, interned in pol->files */
	char *stack[PW_INCLUDE_MAX_DEPTH + 2];	/* real paths of the include chain */
	int depth;
	char **seen;		/* real paths of every file read (include once) */
	size_t nseen;
	size_t rules_cap, sets_cap, files_cap, seen_cap;
	char *file_named;	/* the current file's `policy` name, NULL when none yet */
	const char *dflt_file[2];
	int dflt_line[2];
	const char *mode_file;
	int mode_line;
	enum pw_file_check files;	/* StrictModes for every file read */
	bool streams;		/* the root file may be a pipe (pw_parse_opts) */
	bool oom;		/* out of memory: stop at once */
	struct names bad_sets;	/* sets whose definition failed: reported once */
	struct names unknown;	/* unknown sets reported already */
	bool keep;		/* keep_sources */
	const struct pw_parse_opts *mem;	/* files from memory, or NULL */
	/* a long set list read as it comes (set_flush): the prefixes taken
	 * from its tokens so far, the token where the next look starts, and
	 * whether the list broke its "item, item," run (no more taken) */
	struct pfx_list pend;
	size_t pend_at;
	bool pend_off;
};

static const char *const dir_names[] = { "in", "out" };

static int oom(struct parser *p)
{
	p->oom = true;
	pw_diag_error(p->d, p->file, 0, 0, "out of memory");
	return -1;
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 8;
	while (c < need)
		c *= 2;
	void *n = realloc(*arr, c * elem);
	if (!n)
		return -1;
	*arr = n;
	*cap = c;
	return 0;
}

static void stmt_clear(struct stmt *st)
{
	for (size_t i = 0; i < st->n; i++)
		free(st->t[i].s);
	st->n = 0;
	free(st->text);
	st->text = NULL;
	st->text_len = 0;
	st->text_cap = 0;
}

static void stmt_free(struct stmt *st)
{
	stmt_clear(st);
	free(st->t);
	st->t = NULL;
	st->cap = 0;
}

static int err_at(struct parser *p, const struct tok *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int err_at(struct parser *p, const struct tok *t, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pw_diag_error(p->d, p->file, t->line, t->col, "%s", msg);
	return -1;
}

/* An error at byte off of the token: its column counts characters. */
static int err_in(struct parser *p, const struct tok *t, size_t off, const char *msg)
{
	int col = t->col;

	for (size_t i = 0; i < off && t->s[i]; i++)
		if (((unsigned char)t->s[i] & 0xc0) != 0x80)
			col++;
	pw_diag_error(p->d, p->file, t->line, col, "%s", msg);
	return -1;
}

/* An error just past the last token of the statement. */
static int err_end(struct parser *p, const struct stmt *st, const char *what)
{
	const struct tok *t = &st->t[st->n - 1];

	pw_diag_error(p->d, p->file, t->line, t->end_col, "expected %s at end of line", what);
	return -1;
}

/* Columns count characters: every byte but UTF-8 continuation bytes. */
struct colpos {
	size_t at;		/* byte offset reached */
	int col;		/* its 1-based column */
};

static int col_at(const char *line, struct colpos *c, size_t i)
{
	for (; c->at < i; c->at++)
		if (((unsigned char)line[c->at] & 0xc0) != 0x80)
			c->col++;
	return c->col;
}

static const char *tok_show(const struct tok *t)
{
	switch (t->type) {
	case T_COMMA: return ",";
	case T_EQ: return "=";
	default: return t->s;
	}
}

/* "; did you mean \"W\"?" when t is a word close to one of words, else "". */
static const char *hint(char *buf, size_t n, const struct tok *t, const char *const *words)
{
	const char *best = t->type == T_WORD ? pw_closest_from(t->s, words) : NULL;

	if (!best)
		return "";
	snprintf(buf, n, "; did you mean \"%s\"?", best);
	return buf;
}

static bool stmt_is_rule(const struct stmt *st)
{
	return st->n && st->t[0].type == T_WORD && (strcmp(st->t[0].s, "allow") == 0 ||
						    strcmp(st->t[0].s, "deny") == 0);
}

/* Tokenize one physical line into st. Returns 0 or -1. */
static int tokenize_line(struct parser *p, struct stmt *st, const char *line, size_t len, int lineno)
{
	size_t i = 0, text_end = 0;
	struct colpos cp = { .at = 0, .col = 1 };

	while (i < len) {
		char c = line[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
			i++;
			continue;
		}
		if (c == '#')
			break;
		if (grow((void **)&st->t, &st->cap, st->n + 1, sizeof(*st->t)))
			return oom(p);
		struct tok *t = &st->t[st->n];
		t->line = lineno;
		t->col = col_at(line, &cp, i);
		t->s = NULL;
		if (c == ',' || c == '=') {
			t->type = c == ',' ? T_COMMA : T_EQ;
			t->s = strdup(c == ',' ? "," : "=");
			if (!t->s)
				return oom(p);
			st->n++;
			i++;
		} else if (c == '"') {
			int rc = pw_unquote(line, len, i, &t->s, &i);
			if (rc < 0)
				return oom(p);
			if (rc) {
				pw_diag_error(p->d, p->file, lineno, t->col,
					      "unterminated string: close it with \" on the same line");
				return -1;
			}
			t->type = T_STR;
			st->n++;
		} else {
			size_t j = i;
			while (j < len && !strchr(" \t\r\f\v,=\"#", line[j]))
				j++;
			t->type = T_WORD;
			t->s = strndup(line + i, j - i);
			if (!t->s)
				return oom(p);
			st->n++;
			i = j;
		}
		st->t[st->n - 1].end_col = col_at(line, &cp, i);
		text_end = i;
	}
	/* keep the statement text (comment stripped, trimmed): a rule's only,
	 * the one statement that shows it (a set's list may be megabytes) */
	size_t b = 0;
	while (b < text_end && (line[b] == ' ' || line[b] == '\t'))
		b++;
	if (text_end > b && stmt_is_rule(st)) {
		size_t add = text_end - b + (st->text_len ? 1 : 0);
		if (grow((void **)&st->text, &st->text_cap, st->text_len + add + 1, 1))
			return oom(p);
		if (st->text_len)
			st->text[st->text_len++] = ' ';
		memcpy(st->text + st->text_len, line + b, text_end - b);
		st->text_len += text_end - b;
		st->text[st->text_len] = '\0';
	}
	return 0;
}

int pw_unquote(const char *line, size_t len, size_t i, char **out, size_t *end)
{
	size_t j = i + 1, k = 0;
	char *s = malloc(len - i + 1);

	if (!s)
		return -ENOMEM;
	while (j < len && line[j] != '"') {
		if (line[j] == '\\' && j + 1 < len && (line[j + 1] == '"' || line[j + 1] == '\\'))
			j++;
		s[k++] = line[j++];
	}
	s[k] = '\0';
	if (j >= len) {
		free(s);
		return 1;
	}
	*out = s;
	*end = j + 1;
	return 0;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 10)
		return false;
	for (const char *c = s; *c; c++) {
		if (*c < '0' || *c > '9')
			return false;
		v = v * 10 + (unsigned long)(*c - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

static bool is_kw(const struct stmt *st, size_t i, const char *kw)
{
	return i < st->n && st->t[i].type == T_WORD && strcmp(st->t[i].s, kw) == 0;
}

/* Join the tokens [from, to) as written, for display: "a, b, c". */
static char *join_tokens(const struct stmt *st, size_t from, size_t to)
{
	size_t len = 1;
	for (size_t i = from; i < to; i++)
		len += strlen(st->t[i].s) + 1;
	char *s = malloc(len), *o = s;
	if (!s)
		return NULL;
	for (size_t i = from; i < to; i++) {
		const struct tok *t = &st->t[i];
		if (t->type == T_COMMA) {
			*o++ = ',';
			*o++ = ' ';
			continue;
		}
		size_t l = strlen(t->s);
		memcpy(o, t->s, l);
		o += l;
	}
	*o = '\0';
	/* "a, " never ends a list, but be safe */
	return s;
}

/* ---- numbers, ranges, prefixes --------------------------------------- */

static int cmp_range(const void *a, const void *b)
{
	const struct pw_range *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (x->hi > y->hi) - (x->hi < y->hi);
}

static void normalize_ranges(struct pw_range *r, size_t *n)
{
	if (*n == 0)
		return;
	qsort(r, *n, sizeof(*r), cmp_range);
	size_t o = 0;
	for (size_t i = 1; i < *n; i++) {
		if ((unsigned)r[i].lo <= (unsigned)r[o].hi + 1) {
			if (r[i].hi > r[o].hi)
				r[o].hi = r[i].hi;
		} else {
			r[++o] = r[i];
		}
	}
	*n = o + 1;
}

static void normalize_prefixes(struct pw_prefix *p, size_t *n)
{
	if (*n == 0)
		return;
	pw_prefix_sort(p, *n);
	size_t o = 0;
	for (size_t i = 1; i < *n; i++)
		if (pw_prefix_cmp(&p[i], &p[o]) != 0)
			p[++o] = p[i];
	*n = o + 1;
}

/* port or ICMP type item: N, N-M, or (ICMP) a type name */
static int parse_range_item(struct parser *p, const struct tok *t, bool icmp, bool v6,
			    struct pw_range *out)
{
	unsigned long lo, hi, min = icmp ? 0 : 1, max = icmp ? 255 : 65535;
	const char *what = icmp ? "an ICMP type (0-255 or a name)" : "a port (1-65535) or a range N-M";

	if (t->type != T_WORD)
		return err_at(p, t, "expected %s, got \"%s\"", what, tok_show(t));
	if (icmp) {
		int ty = pw_icmp_type_by_name(t->s, v6);
		if (ty >= 0) {
			out->lo = out->hi = (uint16_t)ty;
			return 0;
		}
		if (!v6 && strcmp(t->s, "packet-too-big") == 0)
			return err_at(p, t, "\"packet-too-big\" is an ICMPv6 type; for IPv4 "
				      "use destination-unreachable (it carries \"fragmentation needed\")");
		if (pw_icmp_type_by_name(t->s, !v6) >= 0)
			return err_at(p, t, "\"%s\" is not an %s type; did you mean %s?", t->s,
				      v6 ? "ICMPv6" : "ICMP", v6 ? "icmp" : "icmpv6");
	}
	char buf[32];
	const char *dash = strchr(t->s, '-');
	if (strlen(t->s) >= sizeof(buf))
		return err_at(p, t, "expected %s, got \"%s\"", what, t->s);
	if (dash) {
		memcpy(buf, t->s, (size_t)(dash - t->s));
		buf[dash - t->s] = '\0';
		if (!parse_uint(buf, ULONG_MAX, &lo) || !parse_uint(dash + 1, ULONG_MAX, &hi))
			return err_at(p, t, "expected %s, got \"%s\"", what, t->s);
	} else {
		if (!parse_uint(t->s, ULONG_MAX, &lo))
			return err_at(p, t, "expected %s, got \"%s\"", what, t->s);
		hi = lo;
	}
	if (lo < min || lo > max || hi < min || hi > max)
		return err_at(p, t, "%s \"%s\" is out of range %lu-%lu", icmp ? "ICMP type" : "port",
			      t->s, min, max);
	if (lo > hi)
		return err_at(p, t, "range \"%s\" is backwards; write %lu-%lu", t->s, hi, lo);
	out->lo = (uint16_t)lo;
	out->hi = (uint16_t)hi;
	return 0;
}

static const struct pw_set *find_set(const struct pw_policy *pol, const char *name)
{
	for (size_t i = 0; i < pol->nsets; i++)
		if (strcmp(pol->sets[i].name, name) == 0)
			return &pol->sets[i];
	return NULL;
}

static void pfx_list_free(struct pfx_list *l)
{
	for (size_t i = 0; i < l->nnames; i++)
		free(l->names[i]);
	free(l->names);
	if (!l->borrowed)
		free(l->p);
	memset(l, 0, sizeof(*l));
}

/* Make a borrowed list its own (a copy of the set's prefixes). */
static int pfx_own(struct pfx_list *l)
{
	if (!l->borrowed)
		return 0;
	struct pw_prefix *o = malloc((l->n ? l->n : 1) * sizeof(*o));
	if (!o)
		return -1;
	memcpy(o, l->p, l->n * sizeof(*o));
	l->p = o;
	l->cap = l->n;
	l->borrowed = false;
	return 0;
}

static int push_name(struct parser *p, struct pfx_list *l, const char *name)
{
	if (grow((void **)&l->names, &l->names_cap, l->nnames + 1, sizeof(*l->names)))
		return oom(p);
	l->names[l->nnames] = strdup(name);
	if (!l->names[l->nnames])
		return oom(p);
	l->nnames++;
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort the names and drop repeats. */
static void normalize_names(char **v, size_t *n)
{
	size_t o = 0;

	if (*n == 0)
		return;
	qsort(v, *n, sizeof(*v), cmp_name);
	for (size_t i = 1; i < *n; i++) {
		if (strcmp(v[i], v[o]) == 0)
			free(v[i]);
		else
			v[++o] = v[i];
	}
	*n = o + 1;
}

static int push_prefix(struct parser *p, struct pfx_list *l, const struct pw_prefix *x)
{
	if (pfx_own(l) || grow((void **)&l->p, &l->cap, l->n + 1, sizeof(*l->p)))
		return oom(p);
	l->p[l->n++] = *x;
	return 0;
}

/* Sort the prefixes and names and drop repeats (a borrowed list is a
 * set's: sorted already), then give back the room the list grew into. */
static void pfx_list_settle(struct pfx_list *l)
{
	if (!l->borrowed) {
		normalize_prefixes(l->p, &l->n);
		if (l->n < l->cap) {
			struct pw_prefix *s = realloc(l->p, (l->n ? l->n : 1) * sizeof(*s));
			l->p = s ? s : l->p;
			l->cap = s ? l->n : l->cap;
		}
	}
	normalize_names(l->names, &l->nnames);
}

static bool names_have(const struct names *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], name) == 0)
			return true;
	return false;
}

/* Add name to l; -1 in any case (for the error paths that remember). */
static int names_add(struct parser *p, struct names *l, const char *name)
{
	if (grow((void **)&l->v, &l->cap, l->n + 1, sizeof(char *)))
		return oom(p);
	l->v[l->n] = strdup(name);
	if (!l->v[l->n])
		return oom(p);
	l->n++;
	return -1;
}

static void names_free(struct names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

/* A set that is not defined is reported once: not when its definition
 * failed (reported then), nor again where it is named later (-1, no
 * error). The report guesses the closest set defined, if one is close. */
static int unknown_set(struct parser *p, const struct tok *t)
{
	const char *name = t->s + 1;
	struct pw_closest sg;

	if (names_have(&p->bad_sets, name) || names_have(&p->unknown, name))
		return -1;
	pw_closest_init(&sg, name);
	for (size_t i = 0; i < p->pol->nsets; i++)
		pw_closest_try(&sg, p->pol->sets[i].name);
	for (size_t i = 0; i < p->bad_sets.n; i++)
		pw_closest_try(&sg, p->bad_sets.v[i]);
	if (pw_closest_best(&sg))
		err_at(p, t, "unknown set \"%s\"; did you mean \"@%s\"?", t->s, pw_closest_best(&sg));
	else
		err_at(p, t, "unknown set \"%s\"; define it with \"set %s = ...\" before this line", t->s, name);
	return names_add(p, &p->unknown, name);
}

/* @NAME: the prefixes and names of a set defined before. A list that is
 * empty so far borrows the set's prefixes (sorted and unique already)
 * instead of copying them: a rule naming a set of a million costs none. */
static int peer_set(struct parser *p, const struct tok *t, struct pfx_list *l)
{
	const struct pw_set *s = find_set(p->pol, t->s + 1);

	if (!s)
		return unknown_set(p, t);
	if (l->n == 0 && s->n) {
		free(l->p);
		l->p = s->pfx;
		l->n = s->n;
		l->cap = 0;
		l->borrowed = true;
	} else {
		for (size_t i = 0; i < s->n; i++)
			if (push_prefix(p, l, &s->pfx[i]))
				return -1;
	}
	for (size_t i = 0; i < s->nnames; i++)
		if (push_name(p, l, s->names[i]))
			return -1;
	return 0;
}

/* Not an address: a host name, a wildcard, or neither. */
static int peer_name(struct parser *p, const struct tok *t, struct pfx_list *l)
{
	char name[PW_HOSTNAME_MAX + 1], why[400];
	size_t at = 0;
	bool wild;

	switch (pw_hostname_parse(t->s, name, &wild, &at, why, sizeof(why))) {
	case PW_HOST_OK:
		return push_name(p, l, name);
	case PW_HOST_BAD:
		return err_in(p, t, at, why);
	default:
		return err_at(p, t, "expected an address, CIDR, @set or \"any\", got \"%s\"", t->s);
	}
}

/* One peer item: CIDR, address, host name, wildcard, @set or any. */
static int parse_peer_item(struct parser *p, const struct tok *t, struct pfx_list *l)
{
	struct pw_prefix x;

	if (t->type != T_WORD)
		return err_at(p, t, "expected an address, CIDR, @set or \"any\", got \"%s\"", tok_show(t));
	if (strcmp(t->s, "any") == 0) {
		struct pw_prefix v4 = { .fam = PW_FAM_V4 }, v6 = { .fam = PW_FAM_V6 };
		l->any = true;
		return push_prefix(p, l, &v4) || push_prefix(p, l, &v6) ? -1 : 0;
	}
	if (t->s[0] == '@')
		return peer_set(p, t, l);
	switch (pw_prefix_parse(t->s, &x)) {
	case PW_ADDR_OK:
		return push_prefix(p, l, &x);
	case PW_ADDR_BADLEN:
		return err_at(p, t, "bad prefix length in \"%s\": IPv4 takes /0 to /32, IPv6 /0 to /128",
			      t->s);
	case PW_ADDR_HOSTBITS: {
		char net[64];
		int alen = (int)(strchr(t->s, '/') - t->s);
		for (unsigned i = x.len; i < pw_fam_bits(x.fam); i++)
			x.addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
		pw_prefix_format(&x, net, sizeof(net), false);
		return err_at(p, t, "\"%s\" has host bits set after /%u; write %s for the network "
			      "or %.*s for the host", t->s, x.len, net, alen, t->s);
	}
	default:
		return peer_name(p, t, l);
	}
}

/* A comma list of peers starting at *i. */
static int parse_peer_list(struct parser *p, const struct stmt *st, size_t *i, struct pfx_list *l)
{
	if (*i >= st->n)
		return err_end(p, st, "an address, CIDR, @set or \"any\"");
	for (;;) {
		if (parse_peer_item(p, &st->t[*i], l))
			return -1;
		(*i)++;
		if (*i < st->n && st->t[*i].type == T_COMMA) {
			(*i)++;
			if (*i >= st->n)
				return err_end(p, st, "an address, CIDR, @set or \"any\" after \",\"");
			continue;
		}
		return 0;
	}
}

/* ---- statements -------------------------------------------------------- */

static int parse_file(struct parser *p, const char *path, const struct tok *from);

static int st_policy(struct parser *p, const struct stmt *st)
{
	if (st->n < 2)
		return err_end(p, st, "a quoted name, as in policy \"Cisco Finesse\"");
	if (st->t[1].type != T_STR)
		return err_at(p, &st->t[1], "expected a quoted name, got \"%s\"", tok_show(&st->t[1]));
	if (st->n > 2)
		return err_at(p, &st->t[2], "unexpected \"%s\" after the policy name", tok_show(&st->t[2]));
	if (p->file_named)
		return err_at(p, &st->t[0], "%s is already named \"%s\"; keep one policy line",
			      p->depth > 1 ? "this file" : "the policy", p->file_named);
	p->file_named = strdup(st->t[1].s);
	if (!p->file_named)
		return oom(p);
	if (p->depth > 1)
		return 0;	/* an included file's name does not rename the policy */
	free(p->pol->name);
	p->pol->name = strdup(st->t[1].s);
	if (!p->pol->name)
		return oom(p);
	return 0;
}

static int st_include(struct parser *p, const struct stmt *st)
{
	if (st->n < 2)
		return err_end(p, st, "a quoted file name, as in include \"base.policy\"");
	if (st->t[1].type != T_STR)
		return err_at(p, &st->t[1], "expected a quoted file name, got \"%s\"", tok_show(&st->t[1]));
	if (st->n > 2)
		return err_at(p, &st->t[2], "unexpected \"%s\" after the file name", tok_show(&st->t[2]));
	const char *name = st->t[1].s;
	char path[PATH_MAX];
	if (name[0] == '/') {
		snprintf(path, sizeof(path), "%s", name);
	} else {
		const char *slash = strrchr(p->file, '/');
		int dl = slash ? (int)(slash - p->file) : 0;
		if (slash)
			snprintf(path, sizeof(path), "%.*s/%s", dl, p->file, name);
		else
			snprintf(path, sizeof(path), "%s", name);
	}
	return parse_file(p, path, &st->t[1]);
}

static int st_default(struct parser *p, const struct stmt *st)
{
	char h[80];

	if (st->n < 2)
		return err_end(p, st, "in or out, as in default in drop");
	int dir = is_kw(st, 1, "in") ? PW_DIR_IN : is_kw(st, 1, "out") ? PW_DIR_OUT : -1;
	if (dir < 0)
		return err_at(p, &st->t[1], "expected in or out, got \"%s\"%s", tok_show(&st->t[1]),
			      hint(h, sizeof(h), &st->t[1], (const char *const[]){ "in", "out", NULL }));
	if (st->n < 3)
		return err_end(p, st, "drop or allow");
	int act = is_kw(st, 2, "drop") ? PW_DROP : is_kw(st, 2, "allow") ? PW_PASS : -1;
	if (act < 0)
		return err_at(p, &st->t[2], "expected drop or allow, got \"%s\"%s", tok_show(&st->t[2]),
			      hint(h, sizeof(h), &st->t[2], (const char *const[]){ "drop", "allow", NULL }));
	if (st->n > 3)
		return err_at(p, &st->t[3], "unexpected \"%s\" after default %s %s", tok_show(&st->t[3]),
			      dir_names[dir], st->t[2].s);
	if (p->dflt_file[dir] && p->pol->dflt[dir] != act &&
	    pw_diag_warn(p->d, p->file, st->t[0].line,
			 "default %s changes from %s (set at %s:%d) to %s; the later line applies",
			 dir_names[dir], p->pol->dflt[dir] == PW_PASS ? "allow" : "drop",
			 p->dflt_file[dir], p->dflt_line[dir], act == PW_PASS ? "allow" : "drop"))
		return oom(p);
	p->pol->dflt[dir] = (uint8_t)act;
	p->dflt_file[dir] = p->pol->dflt_file[dir] = p->file;
	p->dflt_line[dir] = p->pol->dflt_line[dir] = st->t[0].line;
	return 0;
}

static int st_mode(struct parser *p, const struct stmt *st)
{
	char h[80];

	if (st->n < 2)
		return err_end(p, st, "enforce or monitor");
	int m = is_kw(st, 1, "enforce") ? PW_MODE_ENFORCE : is_kw(st, 1, "monitor") ? PW_MODE_MONITOR : -1;
	if (m < 0)
		return err_at(p, &st->t[1], "expected enforce or monitor, got \"%s\"%s", tok_show(&st->t[1]),
			      hint(h, sizeof(h), &st->t[1], (const char *const[]){ "enforce", "monitor", NULL }));
	if (st->n > 2)
		return err_at(p, &st->t[2], "unexpected \"%s\" after mode %s", tok_show(&st->t[2]), st->t[1].s);
	if (p->mode_file && p->pol->mode != m &&
	    pw_diag_warn(p->d, p->file, st->t[0].line,
			 "mode changes from %s (set at %s:%d) to %s; the later line applies",
			 p->pol->mode == PW_MODE_MONITOR ? "monitor" : "enforce", p->mode_file,
			 p->mode_line, st->t[1].s))
		return oom(p);
	p->pol->mode = (uint8_t)m;
	p->mode_file = p->file;
	p->mode_line = st->t[0].line;
	return 0;
}

static bool valid_set_name(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_') || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '-' || *s == '.'))
			return false;
	return true;
}

static int set_define(struct parser *p, const struct stmt *st)
{
	struct pfx_list l = { 0 };
	size_t i = 3;

	if (st->n < 2)
		return err_end(p, st, "a set name, as in set mail = 198.51.100.25");
	const struct tok *nt = &st->t[1];
	if (nt->type != T_WORD || !valid_set_name(nt->s))
		return err_at(p, nt, "expected a set name (letters, digits, _ - .; starting with a "
			      "letter or _), got \"%s\"", tok_show(nt));
	const struct pw_set *old = find_set(p->pol, nt->s);
	if (old)
		return err_at(p, nt, "set \"%s\" is already defined at %s:%d", nt->s, old->file, old->line);
	if (st->n < 3)
		return err_end(p, st, "\"=\"");
	if (st->t[2].type != T_EQ)
		return err_at(p, &st->t[2], "expected \"=\", got \"%s\"", tok_show(&st->t[2]));
	l = p->pend;	/* the prefixes set_flush took from the list already */
	p->pend = (struct pfx_list){ 0 };
	if (parse_peer_list(p, st, &i, &l))
		goto fail;
	if (i < st->n) {
		err_at(p, &st->t[i], "expected \",\" or end of line, got \"%s\"", tok_show(&st->t[i]));
		goto fail;
	}
	pfx_list_settle(&l);
	if (pfx_own(&l)) {	/* set b = @a: b has its own copy */
		oom(p);
		goto fail;
	}
	if (grow((void **)&p->pol->sets, &p->sets_cap, p->pol->nsets + 1,
		 sizeof(*p->pol->sets))) {
		oom(p);
		goto fail;
	}
	struct pw_set *s = &p->pol->sets[p->pol->nsets];
	s->name = strdup(nt->s);
	if (!s->name) {
		oom(p);
		goto fail;
	}
	s->pfx = l.p;
	s->n = l.n;
	s->names = l.names;
	s->nnames = l.nnames;
	s->file = p->file;
	s->line = nt->line;
	p->pol->nsets++;
	return 0;
fail:
	pfx_list_free(&l);
	return -1;
}

/* A set whose definition fails is remembered, so that the rules naming it
 * later do not each report it again as unknown. */
static int st_set(struct parser *p, const struct stmt *st)
{
	if (set_define(p, st) == 0)
		return 0;
	const struct tok *nt = st->n >= 2 ? &st->t[1] : NULL;
	if (p->oom || !nt || nt->type != T_WORD || !valid_set_name(nt->s) || find_set(p->pol, nt->s) ||
	    names_have(&p->bad_sets, nt->s))
		return -1;
	return names_add(p, &p->bad_sets, nt->s);
}

/* One resolver: the address of a DNS server whose answers cross an
 * interface (no prefix, zone, loopback stub or IPv4-mapped form). */
static int resolver_addr(struct parser *p, const struct tok *t, struct pw_ip *ip)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff }, zero[16] = { 0 };
	const char *slash = t->type == T_WORD ? strchr(t->s, '/') : NULL;

	if (slash)
		return err_at(p, t, "a resolver is one address, not a prefix: drop the \"%s\"", slash);
	if (t->type == T_WORD && strchr(t->s, '%'))
		return err_at(p, t, "\"%s\" has a zone: a resolver is known by its address alone; write it "
			      "without \"%s\"", t->s, strchr(t->s, '%'));
	if (t->type != T_WORD || !pw_addr_parse(t->s, &ip->fam, ip->addr))
		return err_at(p, t, "expected the IPv4 or IPv6 address of a DNS server, got \"%s\"", tok_show(t));
	if (pw_ip_loopback(ip))
		return err_at(p, t, "%s is a loopback address: its answers never cross an interface; name the "
			      "servers the local resolver forwards to (resolvectl status lists them)", t->s);
	if (memcmp(ip->addr, zero, pw_fam_bits(ip->fam) / 8) == 0)
		return err_at(p, t, "%s is no server's address; give the DNS server's address", t->s);
	if (ip->fam == PW_FAM_V6 && memcmp(ip->addr, mapped, sizeof(mapped)) == 0)
		return err_at(p, t, "\"%s\" is an IPv4-mapped address, never on the wire; write %u.%u.%u.%u",
			      t->s, ip->addr[12], ip->addr[13], ip->addr[14], ip->addr[15]);
	return 0;
}

/* Add a resolver to the policy unless it is there; at most PW_RESOLVERS_MAX. */
static int resolver_add(struct parser *p, const struct tok *t, const struct pw_ip *ip)
{
	struct pw_policy *pol = p->pol;

	for (size_t i = 0; i < pol->nresolvers; i++)
		if (pol->resolvers[i].ip.fam == ip->fam && memcmp(pol->resolvers[i].ip.addr, ip->addr, 16) == 0)
			return 0;
	if (pol->nresolvers == PW_RESOLVERS_MAX)
		return err_at(p, t, "more than %d resolvers (the first at %s:%d): a policy takes at most %d, "
			      "its includes too; remove one", PW_RESOLVERS_MAX, pol->resolvers[0].file,
			      pol->resolvers[0].line, PW_RESOLVERS_MAX);
	pol->resolvers[pol->nresolvers++] = (struct pw_resolver){ .ip = *ip, .file = p->file, .line = t->line };
	return 0;
}

/* The items of a comma-separated list from token i to the end of st, each
 * read by item(p, token); what names one item in the message for a
 * missing one after a comma. */
static int comma_list(struct parser *p, const struct stmt *st, size_t i,
		      int (*item)(struct parser *, const struct tok *), const char *what)
{
	for (;;) {
		if (item(p, &st->t[i]))
			return -1;
		if (++i >= st->n)
			return 0;
		if (st->t[i].type != T_COMMA)
			return err_at(p, &st->t[i], "expected \",\" or end of line, got \"%s\"", tok_show(&st->t[i]));
		if (++i >= st->n) {
			char w[96];
			snprintf(w, sizeof(w), "%s after \",\"", what);
			return err_end(p, st, w);
		}
	}
}

static int resolver_item(struct parser *p, const struct tok *t)
{
	struct pw_ip ip = { 0 };

	return resolver_addr(p, t, &ip) || resolver_add(p, t, &ip) ? -1 : 0;
}

/* resolver ADDR[, ADDR ...] */
static int st_resolver(struct parser *p, const struct stmt *st)
{
	if (st->n < 2)
		return err_end(p, st, "the address of a DNS server, as in resolver 192.0.2.53");
	return comma_list(p, st, 1, resolver_item, "a DNS server's address");
}

/* A user name as useradd takes one: letters, digits, "_", ".", "-" (not
 * first), a "$" last (machine accounts), at most PW_USER_NAME_MAX. */
static bool valid_user_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > PW_USER_NAME_MAX || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '.' || c == '-' || (c == '$' && i == n - 1)))
			return false;
	}
	return true;
}

static bool all_digits(const char *s)
{
	for (const char *c = s; *c; c++)
		if (*c < '0' || *c > '9')
			return false;
	return *s != '\0';
}

/* One dns-users item: a uid, or a user name this host knows (getpwnam). */
static int dns_user_item(struct parser *p, const struct tok *t, struct pw_dns_user *u)
{
	unsigned long v;

	if (t->type != T_WORD)
		return err_at(p, t, "expected a user name or a uid, got \"%s\"", tok_show(t));
	if (strcmp(t->s, "any") == 0)
		return err_at(p, t, "\"any\" stands alone, as in dns-users any (every user's queries teach); "
			      "remove it or the users beside it");
	if (all_digits(t->s)) {
		if (!parse_uint(t->s, 4294967294ul, &v))
			return err_at(p, t, "\"%s\" is no uid: a uid is a number 0-4294967294", t->s);
		u->uid = (uint32_t)v;
	} else if (!valid_user_name(t->s)) {
		return err_at(p, t, "expected a user name (letters, digits, _ . -; at most %d) or a uid, got \"%s\"",
			      PW_USER_NAME_MAX, tok_show(t));
	} else {
		const struct passwd *pw = getpwnam(t->s);
		if (!pw)
			return err_at(p, t, "no user \"%s\" on this host (getpwnam): create it, write its uid, or "
				      "leave it out of dns-users", t->s);
		u->uid = (uint32_t)pw->pw_uid;
	}
	snprintf(u->name, sizeof(u->name), "%s", t->s);
	u->file = p->file;
	u->line = t->line;
	return 0;
}

/* Add a user unless its uid is there; at most PW_DNS_USERS_MAX. */
static int dns_user_add(struct parser *p, const struct tok *t, const struct pw_dns_user *u)
{
	struct pw_policy *pol = p->pol;

	if (pol->dns_any)
		return err_at(p, t, "dns-users any at %s:%d trusts every user's queries already; keep that line or "
			      "the users, not both", pol->dns_users_file, pol->dns_users_line);
	for (size_t i = 0; i < pol->ndns_users; i++)
		if (pol->dns_users[i].uid == u->uid)
			return 0;
	if (pol->ndns_users == PW_DNS_USERS_MAX)
		return err_at(p, t, "more than %d dns-users (the first at %s:%d): a policy takes at most %d, its "
			      "includes too; remove one", PW_DNS_USERS_MAX, pol->dns_users[0].file,
			      pol->dns_users[0].line, PW_DNS_USERS_MAX);
	pol->dns_users[pol->ndns_users++] = *u;
	return 0;
}

/* dns-users any: every sender's queries teach (the attack docs/dns.md
 * describes is open; check warns). */
static int dns_users_any(struct parser *p, const struct stmt *st)
{
	struct pw_policy *pol = p->pol;

	if (st->n > 2)
		return err_at(p, &st->t[2], "\"any\" stands alone, as in dns-users any; remove what follows it");
	if (pol->ndns_users)
		return err_at(p, &st->t[1], "dns-users any would trust every user's queries, but %s:%d lists the "
			      "users to trust; keep that line or this one, not both", pol->dns_users[0].file,
			      pol->dns_users[0].line);
	pol->dns_any = true;
	return 0;
}

static int dns_user_one(struct parser *p, const struct tok *t)
{
	struct pw_dns_user u = { 0 };

	return dns_user_item(p, t, &u) || dns_user_add(p, t, &u) ? -1 : 0;
}

/* dns-users USER[, USER ...] | dns-users any */
static int st_dns_users(struct parser *p, const struct stmt *st)
{
	if (st->n < 2)
		return err_end(p, st, "a user name or uid, as in dns-users root, systemd-resolve");
	if (!p->pol->dns_users_file) {
		p->pol->dns_users_file = p->file;
		p->pol->dns_users_line = st->t[0].line;
	}
	if (is_kw(st, 1, "any"))
		return dns_users_any(p, st);
	return comma_list(p, st, 1, dns_user_one, "a user name or uid");
}

static int proto_word(const char *s)
{
	if (strcmp(s, "tcp") == 0)
		return PW_P_TCP;
	if (strcmp(s, "udp") == 0)
		return PW_P_UDP;
	if (strcmp(s, "icmp") == 0)
		return PW_P_ICMP;
	if (strcmp(s, "icmpv6") == 0)
		return PW_P_ICMPV6;
	return 0;
}

static int rule_protocol(struct parser *p, const struct stmt *st, size_t *i, struct pw_rule *r)
{
	const char *expect = "a protocol: tcp, udp, tcp,udp, icmp, icmpv6 or proto NAME|NUMBER";

	if (*i >= st->n)
		return err_end(p, st, expect);
	const struct tok *t = &st->t[*i];
	if (is_kw(st, *i, "proto")) {
		(*i)++;
		if (*i >= st->n)
			return err_end(p, st, "an IP protocol name or number (0-255)");
		t = &st->t[*i];
		unsigned long v;
		int n = t->type == T_WORD ? pw_proto_by_name(t->s) : -1;
		if (n < 0 && t->type == T_WORD && parse_uint(t->s, 255, &v))
			n = (int)v;
		if (n < 0)
			return err_at(p, t, "expected an IP protocol name (gre, esp, ah, vrrp, ospf, "
				      "sctp, ...) or number 0-255, got \"%s\"", tok_show(t));
		(*i)++;
		/* the protocols with their own words mean the same either way */
		if (n == 6 || n == 17 || n == 1 || n == 58) {
			r->protos = n == 6 ? PW_P_TCP : n == 17 ? PW_P_UDP : n == 1 ? PW_P_ICMP : PW_P_ICMPV6;
			return 0;
		}
		r->protos = PW_P_OTHER;
		r->ip_proto = (uint8_t)n;
		return 0;
	}
	for (;;) {
		int b = t->type == T_WORD ? proto_word(t->s) : 0;
		if (!b) {
			static const char *const words[] = { "tcp", "udp", "icmp", "icmpv6", "proto", NULL };
			char h[80];
			return err_at(p, t, "expected %s, got \"%s\"%s", expect, tok_show(t),
				      hint(h, sizeof(h), t, words));
		}
		if (r->protos & b)
			return err_at(p, t, "\"%s\" is listed twice", t->s);
		if (r->protos && ((r->protos | b) & ~(PW_P_TCP | PW_P_UDP)))
			return err_at(p, t, "\"%s\" cannot share a rule with %s; write a separate rule "
				      "for it", t->s, !(r->protos & ~(PW_P_TCP | PW_P_UDP)) ? "tcp or udp" :
				      r->protos & PW_P_ICMP ? "icmp" : "icmpv6");
		r->protos |= (uint8_t)b;
		(*i)++;
		if (*i < st->n && st->t[*i].type == T_COMMA) {
			(*i)++;
			if (*i >= st->n)
				return err_end(p, st, "tcp or udp after \",\"");
			t = &st->t[*i];
			continue;
		}
		return 0;
	}
}

static int rule_ranges(struct parser *p, const struct stmt *st, size_t *i, struct pw_rule *r, bool icmp)
{
	size_t cap = 0, start = *i;
	bool v6 = r->protos & PW_P_ICMPV6;

	if (*i >= st->n)
		return err_end(p, st, icmp ? "an ICMP type" : "a port or range");
	for (;;) {
		if (grow((void **)&r->ranges, &cap, r->nranges + 1, sizeof(*r->ranges)))
			return oom(p);
		if (parse_range_item(p, &st->t[*i], icmp, v6, &r->ranges[r->nranges]))
			return -1;
		r->nranges++;
		(*i)++;
		if (*i < st->n && st->t[*i].type == T_COMMA) {
			(*i)++;
			if (*i >= st->n)
				return err_end(p, st, icmp ? "an ICMP type after \",\"" : "a port after \",\"");
			continue;
		}
		break;
	}
	r->ports_text = join_tokens(st, start, *i);
	if (!r->ports_text)
		return oom(p);
	normalize_ranges(r->ranges, &r->nranges);
	return 0;
}

/* A rule being read: what it owns until it is stored, and which clauses
 * it has had (each may be given once). */
struct rule_acc {
	struct pw_rule r;
	struct pfx_list peers;
	bool have_ports, have_peers, have_comment;
};

static int rule_direction(struct parser *p, const struct stmt *st, struct pw_rule *r)
{
	if (st->n < 2)
		return err_end(p, st, "a direction: in, out or both");
	if (is_kw(st, 1, "in"))
		r->dirs = 1 << PW_DIR_IN;
	else if (is_kw(st, 1, "out"))
		r->dirs = 1 << PW_DIR_OUT;
	else if (is_kw(st, 1, "both"))
		r->dirs = (1 << PW_DIR_IN) | (1 << PW_DIR_OUT);
	else {
		static const char *const words[] = { "in", "out", "both", NULL };
		char h[80];
		return err_at(p, &st->t[1], "expected a direction: in, out or both, got \"%s\"%s",
			      tok_show(&st->t[1]), hint(h, sizeof(h), &st->t[1], words));
	}
	return 0;
}

/* port LIST (tcp, udp) or type LIST (icmp, icmpv6) at *i */
static int rule_ports(struct parser *p, const struct stmt *st, size_t *i, struct rule_acc *a)
{
	const struct tok *t = &st->t[*i];
	bool icmp = t->s[0] == 't';
	uint8_t protos = a->r.protos;

	if (icmp && !(protos & (PW_P_ICMP | PW_P_ICMPV6)))
		return err_at(p, t, "\"type\" goes with icmp or icmpv6; %s rules take \"port\"",
			      protos & PW_P_OTHER ? "proto" : "tcp/udp");
	if (!icmp && !(protos & (PW_P_TCP | PW_P_UDP)))
		return err_at(p, t, "\"port\" goes with tcp or udp; %s", protos & PW_P_OTHER ?
			      "proto rules match the whole protocol" : "icmp rules take \"type\"");
	if (a->have_ports)
		return err_at(p, t, "\"%s\" is given twice; put every item in one comma list", t->s);
	(*i)++;
	if (rule_ranges(p, st, i, &a->r, icmp))
		return -1;
	a->have_ports = true;
	return 0;
}

/* from LIST (in), to LIST (out) or peer LIST (any direction) at *i */
static int rule_peers(struct parser *p, const struct stmt *st, size_t *i, struct rule_acc *a)
{
	const struct tok *t = &st->t[*i];
	uint8_t dirs = a->r.dirs;

	if (t->s[0] == 'f' && dirs != (1 << PW_DIR_IN))
		return err_at(p, t, "\"from\" names the source of inbound packets and goes with "
			      "\"in\"; use %s", dirs == (1 << PW_DIR_OUT) ? "\"to\" or \"peer\"" : "\"peer\"");
	if (t->s[0] == 't' && dirs != (1 << PW_DIR_OUT))
		return err_at(p, t, "\"to\" names the destination of outbound packets and goes with "
			      "\"out\"; use %s", dirs == (1 << PW_DIR_IN) ? "\"from\" or \"peer\"" : "\"peer\"");
	if (a->have_peers)
		return err_at(p, t, "peers are given twice; put every peer in one comma list");
	size_t start = ++*i;
	if (parse_peer_list(p, st, i, &a->peers))
		return -1;
	a->r.peers_text = join_tokens(st, start, *i);
	if (!a->r.peers_text)
		return oom(p);
	a->have_peers = true;
	return 0;
}

/* comment "TEXT" at *i */
static int rule_comment(struct parser *p, const struct stmt *st, size_t *i, struct rule_acc *a)
{
	if (a->have_comment)
		return err_at(p, &st->t[*i], "\"comment\" is given twice");
	(*i)++;
	if (*i >= st->n)
		return err_end(p, st, "a quoted comment");
	if (st->t[*i].type != T_STR)
		return err_at(p, &st->t[*i], "expected a quoted comment, got \"%s\"", tok_show(&st->t[*i]));
	a->r.comment = strdup(st->t[*i].s);
	if (!a->r.comment)
		return oom(p);
	(*i)++;
	a->have_comment = true;
	return 0;
}

/* The clause that starts at *i; moves *i past it. */
static int rule_clause(struct parser *p, const struct stmt *st, size_t *i, struct rule_acc *a)
{
	const struct tok *t = &st->t[*i];

	if (is_kw(st, *i, "port") || is_kw(st, *i, "type"))
		return rule_ports(p, st, i, a);
	if (is_kw(st, *i, "from") || is_kw(st, *i, "to") || is_kw(st, *i, "peer"))
		return rule_peers(p, st, i, a);
	if (is_kw(st, *i, "comment"))
		return rule_comment(p, st, i, a);
	static const char *const words[] = { "port", "type", "from", "to", "peer", "comment", NULL };
	char h[80];
	return err_at(p, t, "expected port, type, from, to, peer or comment, got \"%s\"%s", tok_show(t),
		      hint(h, sizeof(h), t, words));
}

static void rule_settle_peers(struct rule_acc *a)
{
	bool all4 = false, all6 = false;

	if (!a->have_peers)
		return;
	pfx_list_settle(&a->peers);
	/* "any", or both whole address families, is no restriction */
	for (size_t k = 0; k < a->peers.n; k++) {
		all4 |= a->peers.p[k].fam == PW_FAM_V4 && a->peers.p[k].len == 0;
		all6 |= a->peers.p[k].fam == PW_FAM_V6 && a->peers.p[k].len == 0;
	}
	/* names add nothing to every address; without addresses they restrict */
	if (all4 && all6)
		pfx_list_free(&a->peers);
	else
		a->r.restricted = true;
}

/* Append the rule to the policy, which owns its parts from then on. */
static int rule_store(struct parser *p, const struct stmt *st, struct rule_acc *a)
{
	a->r.peers = a->peers.p;
	a->r.npeers = a->peers.n;
	a->r.peers_shared = a->peers.borrowed;
	a->r.names = a->peers.names;
	a->r.nnames = a->peers.nnames;
	a->r.text = strdup(st->text ? st->text : "");
	if (!a->r.text)
		return oom(p);
	if (grow((void **)&p->pol->rules, &p->rules_cap, p->pol->nrules + 1,
		 sizeof(a->r)))
		return oom(p);
	a->r.id = (uint32_t)p->pol->nrules + 1;
	p->pol->rules[p->pol->nrules++] = a->r;
	return 0;
}

/* A rule that failed: free what it gathered. */
static void rule_acc_free(struct rule_acc *a)
{
	pfx_list_free(&a->peers);
	free(a->r.ranges);
	free(a->r.ports_text);
	free(a->r.peers_text);
	free(a->r.comment);
	free(a->r.text);
}

/* allow|deny DIRECTION PROTOCOL [clauses] */
static int st_rule(struct parser *p, const struct stmt *st)
{
	struct rule_acc a = { 0 };
	size_t i = 2;

	a.r.action = strcmp(st->t[0].s, "allow") == 0 ? PW_PASS : PW_DROP;
	a.r.file = p->file;
	a.r.line = st->t[0].line;
	if (rule_direction(p, st, &a.r) || rule_protocol(p, st, &i, &a.r))
		goto fail;
	while (i < st->n)
		if (rule_clause(p, st, &i, &a))
			goto fail;
	rule_settle_peers(&a);
	if (rule_store(p, st, &a))
		goto fail;
	return 0;
fail:
	rule_acc_free(&a);
	return -1;
}

static int statement(struct parser *p, const struct stmt *st)
{
	const struct tok *t = &st->t[0];

	if (t->type == T_WORD) {
		if (strcmp(t->s, "policy") == 0)
			return st_policy(p, st);
		if (strcmp(t->s, "include") == 0)
			return st_include(p, st);
		if (strcmp(t->s, "default") == 0)
			return st_default(p, st);
		if (strcmp(t->s, "mode") == 0)
			return st_mode(p, st);
		if (strcmp(t->s, "set") == 0)
			return st_set(p, st);
		if (strcmp(t->s, "resolver") == 0)
			return st_resolver(p, st);
		if (strcmp(t->s, "dns-users") == 0)
			return st_dns_users(p, st);
		if (strcmp(t->s, "allow") == 0 || strcmp(t->s, "deny") == 0)
			return st_rule(p, st);
	}
	static const char *const words[] = { "policy", "include", "default", "mode", "set", "resolver",
					     "dns-users", "allow", "deny", NULL };
	char h[80];
	return err_at(p, t, "expected a statement (policy, include, default, mode, set, resolver, dns-users, "
		      "allow or deny), got \"%s\"%s", tok_show(t), hint(h, sizeof(h), t, words));
}

/* The length of the UTF-8 sequence at s (n bytes left) if it is a
 * well-formed one (RFC 3629: no overlong forms, no surrogates, nothing
 * past U+10FFFF), else 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t need = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
		      c >= 0xf0 && c <= 0xf4 ? 4 : 0;

	if (!need || need > n)
		return 0;
	for (size_t k = 1; k < need; k++)
		if ((s[k] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) || (c == 0xf0 && s[1] < 0x90) ||
	    (c == 0xf4 && s[1] > 0x8f))
		return 0;
	return need;
}

/* The byte offset in line of the first thing a policy may not hold, or
 * -1: bytes that are not UTF-8, and control characters but tab (ESC, BEL,
 * a CR inside the line, C1 controls): shown by check, apply, status, top
 * or the metrics file they would reach a terminal raw, and a CR overprints
 * a line with another. One CR just before the newline (CRLF) is fine. */
long pw_text_bad(const char *line, size_t len, char *why, size_t n)
{
	const unsigned char *u = (const unsigned char *)line;

	if (len && u[len - 1] == '\r')
		len--;
	for (size_t i = 0; i < len;) {
		size_t k = utf8_len(u + i, len - i);
		if (!k)
			return snprintf(why, n, "invalid UTF-8 (byte 0x%02x): a policy is UTF-8 text; save it "
					"as UTF-8", u[i]), (long)i;
		if ((k == 1 && ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f)) || (k == 2 && u[i] == 0xc2 &&
		    u[i + 1] < 0xa0))
			return snprintf(why, n, "a control character (U+%04X) in the text: it would reach "
					"terminals raw; remove it", k == 2 ? u[i + 1] : u[i]), (long)i;
		i += k;
	}
	return -1;
}

/* Whether the line (comment and blanks aside) ends in ",": a statement
 * that goes on, to skip whole when a line of it is wrong. */
static bool line_goes_on(const char *line, size_t len)
{
	const char *hash = memchr(line, '#', len);
	size_t n = hash ? (size_t)(hash - line) : len;

	while (n && strchr(" \t\r\f\v", line[n - 1]))
		n--;
	return n && line[n - 1] == ',';
}

/* The text a line may not hold (a NUL: -2, the file is no text; other
 * bytes: -1, reported and the line skipped), else 0. */
static int check_line(struct parser *p, const char *line, size_t ll, int lineno)
{
	struct colpos cp = { .at = 0, .col = 1 };
	const char *nul = memchr(line, '\0', ll);
	char why[160];

	if (nul) {
		pw_diag_error(p->d, p->file, lineno, col_at(line, &cp, (size_t)(nul - line)),
			      "NUL byte in the file; is it a text file?");
		return -2;
	}
	long bad = pw_text_bad(line, ll, why, sizeof(why));
	if (bad >= 0) {
		pw_diag_error(p->d, p->file, lineno, col_at(line, &cp, (size_t)bad), "%s", why);
		return -1;
	}
	return 0;
}

/* A statement read (or skipped): what set_flush took from it goes too. */
static void stmt_done(struct parser *p, struct stmt *st)
{
	stmt_clear(st);
	pfx_list_free(&p->pend);
	p->pend_at = 0;
	p->pend_off = false;
}

/* Is the statement "set NAME = ..." with a name set_define takes? */
static bool set_head_ok(const struct parser *p, const struct stmt *st)
{
	return st->n > 3 && is_kw(st, 0, "set") && st->t[1].type == T_WORD && valid_set_name(st->t[1].s) &&
	       !find_set(p->pol, st->t[1].s) && st->t[2].type == T_EQ;
}

/* An item set_flush may take: a prefix, as parse_peer_item reads it. */
static bool plain_prefix(const struct tok *t, struct pw_prefix *x)
{
	return t->type == T_WORD && t->s[0] != '@' && strcmp(t->s, "any") != 0 &&
	       pw_prefix_parse(t->s, x) == PW_ADDR_OK;
}

#define SET_FLUSH_TOKENS 1024	/* a list this long is taken in as it comes */

/* A long set list is read as it comes, so that a set of a million
 * prefixes never holds two million tokens: the items that are plain
 * prefixes go into p->pend (set_define starts from it) and their tokens
 * are dropped. Only what changes no message goes: in the list's run of
 * "item," pairs from its start, prefix items with their comma, never the
 * last pair (an error at the end points at it); the items left keep
 * their order, and a set's prefixes are sorted anyway. */
static int set_flush(struct parser *p, struct stmt *st)
{
	struct pw_prefix x;
	int rc = 0;

	if (st->n < SET_FLUSH_TOKENS || p->pend_off || !set_head_ok(p, st))
		return 0;
	size_t r = p->pend_at ? p->pend_at : 3, o = r;
	for (; r + 2 < st->n; r += 2) {
		struct tok *it = &st->t[r], *comma = &st->t[r + 1];
		if (it->type == T_COMMA || comma->type != T_COMMA) {
			p->pend_off = true;	/* the list ends in an error here */
			break;
		}
		if (!plain_prefix(it, &x)) {
			st->t[o++] = *it;
			st->t[o++] = *comma;
			continue;
		}
		if (push_prefix(p, &p->pend, &x)) {
			rc = -1;	/* out of memory: the pair stays where it is */
			break;
		}
		free(it->s);
		free(comma->s);
	}
	memmove(st->t + o, st->t + r, (st->n - r) * sizeof(*st->t));
	st->n = o + (st->n - r);
	p->pend_at = o;
	return rc;
}

#define PW_RELEASE_STEP (1u << 20)	/* read text goes back to the system a MiB at a time */

/* Parse text that belongs to p->file (own: its file, whose pages read
 * may go back). A line ending in "," goes on. A
 * UTF-8 byte order mark at the start is skipped. An error is recorded
 * and parsing goes on at the next statement, so one run reports every
 * error of the file; a statement with a wrong line is skipped whole. */
static int parse_text(struct parser *p, const char *text, size_t len, struct pw_file *own)
{
	struct stmt st = { 0 };
	size_t pos = 0, given = 0;
	int lineno = 0, rc = 0;
	bool skip = false;	/* inside a statement already reported */

	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < len && !p->oom) {
		if (own && pos - given >= PW_RELEASE_STEP)	/* what is tokenized is copied */
			pw_file_release(own, given = pos);
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - line) : len - pos;
		pos += ll + (nl ? 1 : 0);
		lineno++;
		if (skip) {
			skip = line_goes_on(line, ll);
			continue;
		}
		int bad = check_line(p, line, ll, lineno);
		if (bad == -2) {
			rc = -1;
			break;
		}
		if (bad || tokenize_line(p, &st, line, ll, lineno)) {
			rc = -1;
			stmt_done(p, &st);
			skip = line_goes_on(line, ll);
			continue;
		}
		if (st.n == 0)
			continue;
		if (st.t[st.n - 1].type == T_COMMA && pos < len) {
			if (set_flush(p, &st))	/* the list goes on on the next line */
				rc = -1;
			continue;
		}
		if (statement(p, &st))
			rc = -1;
		stmt_done(p, &st);
	}
	if (!p->oom && st.n > 0 && statement(p, &st))
		rc = -1;
	stmt_done(p, &st);
	stmt_free(&st);
	return p->oom ? -1 : rc;
}

/* The file's name (and with keep_sources its text) into pol. */
static const char *intern_file(struct parser *p, const char *path, const char *text, size_t len)
{
	size_t cap = p->files_cap;

	if (grow((void **)&p->pol->files, &p->files_cap, p->pol->nfiles + 1,
		 sizeof(char *)))
		return NULL;
	if (p->keep && (p->files_cap != cap || !p->pol->src)) {
		struct pw_source *n = realloc(p->pol->src, p->files_cap * sizeof(*n));
		if (!n)
			return NULL;
		p->pol->src = n;
	}
	char *s = strdup(path);
	if (!s)
		return NULL;
	if (p->keep) {
		struct pw_source *src = &p->pol->src[p->pol->nfiles];
		src->text = malloc(len + 1);
		if (!src->text) {
			free(s);
			return NULL;
		}
		memcpy(src->text, text, len);
		src->text[len] = '\0';
		src->len = len;
	}
	p->pol->files[p->pol->nfiles++] = s;
	return s;
}

static int enter_file(struct parser *p, const char *path, const char *real, const struct tok *from,
		      const char *text, size_t len, struct pw_file *own)
{
	const char *saved = p->file;

	for (int k = 0; k < p->depth; k++) {
		if (strcmp(p->stack[k], real) == 0)
			return err_at(p, from, "include cycle: \"%s\" is already being read "
				      "(it includes this file); remove one of the includes", path);
	}
	for (size_t k = 0; k < p->nseen; k++)
		if (strcmp(p->seen[k], real) == 0)
			return 0;	/* included once already (a diamond): nothing new */
	if (p->depth > PW_INCLUDE_MAX_DEPTH)
		return err_at(p, from, "includes nest deeper than %d files; flatten them",
			      PW_INCLUDE_MAX_DEPTH);
	if (grow((void **)&p->seen, &p->seen_cap, p->nseen + 1, sizeof(char *)))
		return oom(p);
	p->seen[p->nseen] = strdup(real);
	if (!p->seen[p->nseen])
		return oom(p);
	p->nseen++;
	const char *f = intern_file(p, path, text, len);
	if (!f)
		return oom(p);
	char *saved_named = p->file_named;
	p->stack[p->depth++] = p->seen[p->nseen - 1];
	p->file = f;
	p->file_named = NULL;
	int rc = parse_text(p, text, len, own);
	free(p->file_named);
	p->file_named = saved_named;
	p->depth--;
	p->file = saved;
	return rc;
}

int pw_policy_file_safe(const char *path, const struct stat *sb, bool dir, uid_t uid,
			char *msg, size_t n)
{
	mode_t w = sb->st_mode & (S_IWGRP | S_IWOTH);

	if (!(dir ? S_ISDIR(sb->st_mode) : S_ISREG(sb->st_mode)))
		return 0;	/* a pipe, /dev/stdin: its writer is the caller */
	if (sb->st_uid != 0 && sb->st_uid != uid) {
		snprintf(msg, n, "%s is owned by uid %u, not root: that user could change what portwall "
			 "enforces; fix: chown root %s", dir ? "its directory" : "the file",
			 (unsigned)sb->st_uid, path);
		return -EPERM;
	}
	if (w && !(dir && (sb->st_mode & S_ISVTX))) {
		snprintf(msg, n, "%s is %s-writable (mode %04o): %s could %s what portwall enforces; "
			 "fix: chmod go-w %s", dir ? "its directory" : "the file",
			 w == (S_IWGRP | S_IWOTH) ? "group- and world" : w == S_IWGRP ? "group" : "world",
			 (unsigned)(sb->st_mode & 07777), w & S_IWOTH ? "any user" : "the group's members",
			 dir ? "replace files in it and so change" : "change", path);
		return -EPERM;
	}
	return 0;
}

/* StrictModes: the file just read, the directories holding its name and
 * its real path (files.c). */
static int check_file(struct parser *p, const char *path, const struct pw_file *f, const struct tok *from)
{
	char msg[PATH_MAX * 2 + 200];

	if (pw_file_trusted(path, f, geteuid(), msg, sizeof(msg)) == 0)
		return 0;
	if (p->files == PW_FILES_WARN) {
		if (pw_diag_warn(p->d, path, 0, "%s (apply, reload and run refuse it)", msg))
			return oom(p);
		return 0;
	}
	if (from)
		return err_at(p, from, "refused: included file %s: %s", path, msg);
	pw_diag_error(p->d, path, 0, 0, "refused: %s", msg);
	return -1;
}

/* A file name with a control character would reach terminals raw in
 * every message that names it: refused, shown with '?' for those bytes. */
static int bad_name(struct parser *p, const char *path, const struct tok *from)
{
	char shown[PATH_MAX];
	size_t i = 0;
	bool bad = false;

	for (; path[i] && i < sizeof(shown) - 1; i++) {
		unsigned char c = (unsigned char)path[i];
		bad |= c < 0x20 || c == 0x7f;
		shown[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	shown[i] = '\0';
	if (!bad)
		return 0;
	if (from)
		return err_at(p, from, "the file name \"%s\" has a control character: rename the file", shown);
	pw_diag_error(p->d, shown, 0, 0, "the file name has a control character: rename the file");
	return -1;
}

/* "; did you mean \"NAME\"?" with the file in path's directory whose
 * name is closest to path's own, if one is close, written as the include
 * wrote it (its directory part kept); else "". */
static const char *include_hint(const char *path, const char *written, char *buf, size_t n)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	char dir[PATH_MAX];
	struct pw_closest sg;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	DIR *dh = opendir(slash && slash == path ? "/" : dir);
	if (!dh)
		return "";
	char **names = NULL;
	size_t nn = 0;
	pw_closest_init(&sg, base);
	for (struct dirent *de; (de = readdir(dh)) && nn < 4096;) {
		if (de->d_name[0] == '.')
			continue;
		char **g = realloc(names, (nn + 1) * sizeof(*names));
		if (!g || !(g[nn] = strdup(de->d_name))) {
			names = g ? g : names;
			break;
		}
		names = g;
		pw_closest_try(&sg, names[nn++]);
	}
	closedir(dh);
	const char *best = pw_closest_best(&sg);
	const char *ws = strrchr(written, '/');
	if (best)
		snprintf(buf, n, "; did you mean \"%.*s%s\"?", ws ? (int)(ws - written + 1) : 0, written, best);
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	return best ? buf : "";
}

/* A file of a stored generation (pw_parse_opts.mem_*), by the path the
 * parser made for it, as when it was compiled. */
static int parse_mem(struct parser *p, const char *path, const struct tok *from)
{
	const struct pw_parse_opts *o = p->mem;
	char key[PATH_MAX + 2];

	for (size_t i = 0; i < o->nmem; i++) {
		if (strcmp(o->mem_paths[i], path))
			continue;
		snprintf(key, sizeof(key), "\x01%s", path);	/* no file system: the name is the key */
		return enter_file(p, path, key, from, o->mem_src[i].text, o->mem_src[i].len, NULL);
	}
	if (from)
		return err_at(p, from, "included file %s is not among the stored files", path);
	pw_diag_error(p->d, path, 0, 0, "not among the stored files");
	return -1;
}

static int parse_file(struct parser *p, const char *path, const struct tok *from)
{
	char msg[PATH_MAX + 300];
	struct pw_file f;

	if (bad_name(p, path, from))
		return -1;
	if (p->mem)
		return parse_mem(p, path, from);

	/* a pipe or terminal only as the file named on the command line */
	int rc = pw_file_read(path, p->streams && !from, &f, msg, sizeof(msg));
	if (rc) {
		char h[PATH_MAX + 40];
		if (from)
			return err_at(p, from, "cannot read included file %s: %s%s", path, msg,
				      rc == -ENOENT ? include_hint(path, from->s, h, sizeof(h)) : "");
		pw_diag_error(p->d, path, 0, 0, "cannot read the policy: %s", msg);
		return -1;
	}
	if (p->files != PW_FILES_ANY && check_file(p, path, &f, from)) {
		pw_file_free(&f);
		return -1;
	}
	rc = enter_file(p, path, f.real, from, f.text, f.len, &f);
	pw_file_free(&f);
	return rc;
}

static void parser_done(struct parser *p)
{
	for (size_t k = 0; k < p->nseen; k++)
		free(p->seen[k]);
	free(p->seen);
	names_free(&p->bad_sets);
	names_free(&p->unknown);
}

static void policy_init(struct pw_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->dflt[PW_DIR_IN] = PW_DROP;
	pol->dflt[PW_DIR_OUT] = PW_PASS;
	pol->mode = PW_MODE_ENFORCE;
}

static int finish(struct parser *p, const char *root, int rc)
{
	parser_done(p);
	if (rc == 0 && !p->pol->name) {
		const char *b = strrchr(root, '/');
		p->pol->name = strdup(b ? b + 1 : root);
		if (!p->pol->name) {
			pw_diag_error(p->d, root, 0, 0, "out of memory");
			rc = -1;
		}
	}
	if (rc != 0)
		pw_policy_free(p->pol);
	return rc;
}

int pw_policy_parse_file_opts(const char *path, const struct pw_parse_opts *o, struct pw_policy *pol,
			      struct pw_diag *d)
{
	struct parser p = { .pol = pol, .d = d, .files = o ? o->files : PW_FILES_ANY, .streams = o && o->streams,
			    .keep = o && o->keep_sources, .mem = o && o->nmem ? o : NULL };

	policy_init(pol);
	errno = 0;
	return finish(&p, path, parse_file(&p, path, NULL));
}

int pw_policy_parse_file(const char *path, struct pw_policy *pol, struct pw_diag *d)
{
	return pw_policy_parse_file_opts(path, NULL, pol, d);
}

int pw_policy_parse_text(const char *name, const char *text, size_t len,
			 struct pw_policy *pol, struct pw_diag *d)
{
	struct parser p = { .pol = pol, .d = d };
	char real[PATH_MAX];

	policy_init(pol);
	/* a name that is no file still gets a unique key for include cycles */
	if (!realpath(name, real))
		snprintf(real, sizeof(real), "\x01%s", name);
	return finish(&p, name, enter_file(&p, name, real, NULL, text, len, NULL));
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void pw_policy_free(struct pw_policy *pol)
{
	for (size_t i = 0; i < pol->nrules; i++) {
		struct pw_rule *r = &pol->rules[i];
		free(r->ranges);
		if (!r->peers_shared)
			free(r->peers);
		free_names(r->names, r->nnames);
		free(r->ports_text);
		free(r->peers_text);
		free(r->comment);
		free(r->text);
	}
	free(pol->rules);
	for (size_t i = 0; i < pol->nsets; i++) {
		free(pol->sets[i].name);
		free(pol->sets[i].pfx);
		free_names(pol->sets[i].names, pol->sets[i].nnames);
	}
	free(pol->sets);
	for (size_t i = 0; i < pol->nfiles; i++)
		free(pol->files[i]);
	free(pol->files);
	for (size_t i = 0; pol->src && i < pol->nfiles; i++)
		free(pol->src[i].text);
	free(pol->src);
	free(pol->name);
	memset(pol, 0, sizeof(*pol));
}
