/* import_cell.c - what one cell of a vendor port table says: its text
 * without HTML and bullets, its ports and protocols, its direction. */
#define _GNU_SOURCE	/* strcasestr */
#include "policy/import.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

/* Superscript digits used as footnote marks, UTF-8. */
static const char *const MARKS[] = { "\xc2\xb9", "\xc2\xb2", "\xc2\xb3", "\xe2\x81\xb0", "\xe2\x81\xb4",
				     "\xe2\x81\xb5", "\xe2\x81\xb6", "\xe2\x81\xb7", "\xe2\x81\xb8", "\xe2\x81\xb9" };

static size_t mark_at(const char *s)
{
	for (size_t i = 0; i < sizeof(MARKS) / sizeof(MARKS[0]); i++)
		if (strncmp(s, MARKS[i], strlen(MARKS[i])) == 0)
			return strlen(MARKS[i]);
	return 0;
}

/* An HTML entity at s, or a footnote <sup>1</sup>: its length, the text
 * it stands for in *c. */
static size_t entity_at(const char *s, size_t left, const char **c)
{
	static const struct { const char *e, *c; } E[] = {
		{ "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" },
		{ "&#39;", "'" }, { "&nbsp;", " " }, { "&mdash;", "\xe2\x80\x94" }, { "&ndash;", "\xe2\x80\x93" },
		{ "<sup>1</sup>", "\xc2\xb9" }, { "<sup>2</sup>", "\xc2\xb2" }, { "<sup>3</sup>", "\xc2\xb3" },
	};
	for (size_t i = 0; i < sizeof(E) / sizeof(E[0]); i++) {
		size_t l = strlen(E[i].e);
		if (left >= l && strncasecmp(s, E[i].e, l) == 0)
			return *c = E[i].c, l;
	}
	return 0;
}

/* A tag "<...>" at s (a '<' followed by a letter, '/' or '!'): its length. */
static size_t tag_at(const char *s, size_t left)
{
	if (left < 3 || s[0] != '<' || !(isalpha((unsigned char)s[1]) || s[1] == '/' || s[1] == '!'))
		return 0;
	const char *e = memchr(s, '>', left);
	return e ? (size_t)(e - s) + 1 : 0;
}

size_t pw_imp_utf8_len(const unsigned char *s, size_t n)
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

void pw_imp_text_fix(char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		size_t k = pw_imp_utf8_len((unsigned char *)s + i, n - i);
		if (!k)
			s[i++] = '?';	/* a sequence cut short */
		else if (k == 1 && ((unsigned char)s[i] < 0x20 || s[i] == 0x7f))
			s[i++] = ' ';
		else if (k == 2 && (unsigned char)s[i] == 0xc2 && (unsigned char)s[i + 1] < 0xa0)
			s[i] = '?', s[i + 1] = '?', i += 2;	/* a C1 control */
		else
			i += k;
	}
}

static bool lone_dash(const char *s)
{
	return strcmp(s, "-") == 0 || strcmp(s, "\xe2\x80\x94") == 0 || strcmp(s, "\xe2\x80\x93") == 0;
}

char *pw_imp_clean(const char *s, size_t len)
{
	char *o = malloc(len + 1);	/* an entity is no shorter than its text */
	const char *c;
	size_t n = 0, k;

	if (!o)
		return NULL;
	for (size_t i = 0; i < len;) {
		if ((k = entity_at(s + i, len - i, &c))) {
			memcpy(o + n, c, strlen(c)), n += strlen(c), i += k;
		} else if ((k = tag_at(s + i, len - i)) || (len - i >= 3 && strncmp(s + i, "\xe2\x80\xa2", 3) == 0)) {
			o[n++] = ' ', i += k ? k : 3;	/* a tag, a bullet "•" */
		} else if (len - i >= 2 && (unsigned char)s[i] == 0xc2 && (unsigned char)s[i + 1] == 0xa0) {
			o[n++] = ' ', i += 2;	/* no-break space */
		} else {
			o[n++] = isspace((unsigned char)s[i]) ? ' ' : s[i], i++;
		}
	}
	/* collapse spaces, trim */
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		if (o[i] != ' ' || (w > 0 && o[w - 1] != ' '))
			o[w++] = o[i];
	while (w > 0 && o[w - 1] == ' ')
		w--;
	o[w] = '\0';
	if (w == 0 || lone_dash(o)) {
		free(o);
		return NULL;
	}
	return o;
}

bool pw_imp_has_word(const char *text, const char *word)
{
	size_t l = strlen(word);

	for (const char *p = text; p && *p; p++) {
		if (strncasecmp(p, word, l) != 0)
			continue;
		bool before = p == text || !isalnum((unsigned char)p[-1]);
		bool after = !isalnum((unsigned char)p[l]);
		if (before && after)
			return true;
	}
	return false;
}

static void add_doubt(struct pw_imp_ports *p, const char *fmt, const char *what)
{
	if (!p->doubt[0])
		snprintf(p->doubt, sizeof(p->doubt), fmt, what);
}

/* A number or range at *s ("80", "1024-65535", "1024 – 65535"); moves *s. */
static void read_port(const char **s, uint8_t protos, struct pw_imp_ports *p)
{
	char *end;
	unsigned long lo = strtoul(*s, &end, 10), hi = lo;
	const char *q = end;

	while (*q == ' ')
		q++;
	size_t dash = *q == '-' ? 1 : strncmp(q, "\xe2\x80\x93", 3) == 0 ? 3 : strncasecmp(q, "to ", 3) == 0 ? 3 : 0;
	if (dash) {
		const char *r = q + dash;
		while (*r == ' ')
			r++;
		if (isdigit((unsigned char)*r))
			hi = strtoul(r, &end, 10);
	}
	while (isalnum((unsigned char)*end))
		end++;	/* "8O": the whole token, for the doubt */
	char num[32];
	snprintf(num, sizeof(num), "%.*s", (int)(end - *s < 31 ? end - *s : 31), *s);
	bool letters = isalpha((unsigned char)end[-1]);
	*s = end;
	if (letters)
		return add_doubt(p, "\"%s\" runs into letters: not read as a port", num);
	if (lo < 1 || hi > 65535 || lo > hi)
		return add_doubt(p, "\"%s\" is not a port (1-65535) or a range of them", num);
	if (p->n == PW_IMP_PORTS_MAX)
		return add_doubt(p, "more than %s ports in one cell: the rest left out", "32");
	/* "443/tcp", "53/udp": the protocol after the port */
	if (**s == '/' && (strncasecmp(*s + 1, "tcp", 3) == 0 || strncasecmp(*s + 1, "udp", 3) == 0) &&
	    !isalnum((unsigned char)(*s)[4]))
		protos = tolower((unsigned char)(*s)[1]) == 't' ? PW_P_TCP : PW_P_UDP, *s += 4;
	p->p[p->n++] = (struct pw_imp_port){ (uint16_t)lo, (uint16_t)hi, protos };
}

/* A parenthesized part "(configurable ...)" at *s; moves *s past it. */
static void read_paren(const char **s, struct pw_imp_ports *p)
{
	const char *e = strchr(*s, ')');
	size_t l = e ? (size_t)(e - *s) + 1 : strlen(*s);
	char txt[96];

	snprintf(txt, sizeof(txt), "%.*s", (int)(l < 95 ? l : 95), *s);
	*s += l;
	if (strstr(txt, "onfigurable"))
		snprintf(p->configurable, sizeof(p->configurable), "%s", txt);
	else
		add_doubt(p, "the cell says \"%s\" beside its ports", txt);
}

/* A word at *s; moves *s past it. Returns false when the cell's prose
 * starts here (the rest is a sentence, not ports). */
static bool read_word(const char **s, uint8_t *protos, bool *pending, struct pw_imp_ports *p)
{
	const char *w = *s;
	size_t l = 0;

	while (isalpha((unsigned char)w[l]))
		l++;
	*s = w + l;
	bool tcp = l == 3 && strncasecmp(w, "tcp", 3) == 0, udp = l == 3 && strncasecmp(w, "udp", 3) == 0;
	if (tcp || udp) {	/* "TCP/UDP 53", "TCP and UDP 53": both */
		uint8_t b = tcp ? PW_P_TCP : PW_P_UDP;
		*protos = *pending ? *protos | b : b;
		return *pending = true, true;
	}
	if ((l == 4 && strncasecmp(w, "port", 4) == 0) || (l == 5 && strncasecmp(w, "ports", 5) == 0) ||
	    (l == 3 && strncasecmp(w, "and", 3) == 0))
		return true;
	if (l == 4 && strncasecmp(w, "side", 4) == 0) {
		p->sides = true;	/* "Side A:" */
		while (**s == ' ')
			(*s)++;
		if (isalpha((unsigned char)**s) && !isalpha((unsigned char)(*s)[1]))
			(*s)++;
		return true;
	}
	*s = w;
	return false;
}

/* The prose after the ports: a doubt if it holds more numbers. */
static void read_prose(const char *s, struct pw_imp_ports *p)
{
	if (strpbrk(s, "0123456789"))
		add_doubt(p, "the cell's text has more numbers than its ports: \"%.80s\"", s);
	else if (p->n == 0)
		add_doubt(p, "no port number in \"%.80s\"", s);
}

size_t pw_imp_ports_parse(const char *cell, struct pw_imp_ports *p)
{
	uint8_t protos = 0;
	bool pending = false;	/* a protocol word, no port after it yet */
	const char *s = cell;
	size_t k;

	memset(p, 0, sizeof(*p));
	while (s && *s) {
		if (isdigit((unsigned char)*s))
			read_port(&s, protos, p), pending = false;
		else if (*s == '(')
			read_paren(&s, p);
		else if ((k = mark_at(s)))
			snprintf(p->mark, sizeof(p->mark), "%.*s", (int)k, s), s += k;
		else if (isalpha((unsigned char)*s)) {
			if (!read_word(&s, &protos, &pending, p))
				return read_prose(s, p), p->n;
		} else
			s++;	/* spaces, commas, ':', '/' */
	}
	return p->n;
}

enum pw_imp_dir pw_imp_dir_parse(const char *cell)
{
	if (!cell)
		return PW_IMP_D_NONE;
	bool in = pw_imp_has_word(cell, "inward") || pw_imp_has_word(cell, "inbound");
	bool out = pw_imp_has_word(cell, "outward") || pw_imp_has_word(cell, "outbound");
	bool bidi = pw_imp_has_word(cell, "bidirectional");

	if (in == out)
		return !in && bidi ? PW_IMP_D_BIDI : PW_IMP_D_UNCLEAR;
	return bidi ? PW_IMP_D_UNCLEAR : in ? PW_IMP_D_IN : PW_IMP_D_OUT;
}

enum pw_imp_dir pw_imp_notes_dir(const char *notes)
{
	bool out = notes && strcasestr(notes, "outward, from");
	bool in = notes && strcasestr(notes, "inward, from");

	return out == in ? PW_IMP_D_NONE : out ? PW_IMP_D_OUT : PW_IMP_D_IN;
}

uint8_t pw_imp_proto_hint(const char *text)
{
	static const char *const TCP_APPS[] = { "http", "https", "xmpp", "bosh", "smtp", "imap", "imaps",
						"email", "jdbc", "sql", "ldap", "ssh", "tls", "ssl" };
	if (!text)
		return 0;
	bool tcp = pw_imp_has_word(text, "tcp"), udp = pw_imp_has_word(text, "udp");

	if (tcp || udp)
		return (tcp ? PW_P_TCP : 0) | (udp ? PW_P_UDP : 0);
	for (size_t i = 0; i < sizeof(TCP_APPS) / sizeof(TCP_APPS[0]); i++)
		if (pw_imp_has_word(text, TCP_APPS[i]))
			return PW_P_TCP;
	return 0;
}
