/* hostname.c - host names and wildcards as policy peers: their syntax, wire
 * form and matching. Names are taken as written (IDNA names in their xn--
 * form, no conversion), compared lowercased. */
#include "policy/hostname.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool label_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == '-' || c == '_';
}

/* Every label of s[0..len) but the last is all digits, and the last starts
 * with one: "10.0.0.300", "1.2.3", "192.0.2.1a" are addresses gone wrong. */
static bool numeric_shape(const char *s, size_t len)
{
	const char *last = s;

	for (size_t i = 0; i < len; i++)
		if (s[i] == '.')
			last = s + i + 1;
	if (last >= s + len || !is_digit(*last))
		return false;
	for (const char *c = s; c < last; c++)
		if (*c != '.' && !is_digit(*c))
			return false;
	return true;
}

/* Not meant as a name: an address (or a typo of one), a prefix, a word. */
static bool not_a_name(const char *s, size_t len, bool trailing_dot)
{
	if (len == 0 || strpbrk(s, ":/"))
		return true;
	if (!trailing_dot && !memchr(s, '.', len) && !memchr(s, '*', len))
		return true;
	return numeric_shape(s, len);
}

static enum pw_host_err bad(size_t *at, size_t where, char *why, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static enum pw_host_err bad(size_t *at, size_t where, char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	*at = where;
	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return PW_HOST_BAD;
}

/* One label s[0..len), at offset off of the name; last: the rightmost. */
static enum pw_host_err check_label(const char *s, size_t len, size_t off, bool last, size_t *at,
				    char *why, size_t n)
{
	char lab[80];

	snprintf(lab, sizeof(lab), "%.*s%s", len > 64 ? 64 : (int)len, s, len > 64 ? "..." : "");
	if (len == 0)
		return bad(at, off, why, n, "an empty label (two dots, or a dot first): remove the extra \".\"");
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] >= 0x80)
			return bad(at, off + i, why, n, "a host name is ASCII: write an international name in its "
				   "xn-- (IDNA) form, as the DNS carries it");
		if (s[i] == '*')
			return bad(at, off + i, why, n, "\"*\" stands only as the whole first label, as in "
				   "*.example.com");
		if (!label_char(s[i])) {
			char c[2] = { s[i], '\0' };
			return bad(at, off + i, why, n, "a host name takes letters, digits, \"-\" and \"_\", "
				   "not \"%s\"", c);
		}
	}
	if (len > 63)
		return bad(at, off, why, n, "the label \"%s\" is longer than 63 characters, the most a label "
			   "takes", lab);
	if (s[0] == '-' || s[len - 1] == '-')
		return bad(at, off, why, n, "the label \"%s\" starts or ends with \"-\"; a label starts and "
			   "ends with a letter, digit or \"_\"", lab);
	if (last && is_digit(s[0]))
		return bad(at, off, why, n, "the last label \"%s\" starts with a digit, which no top-level "
			   "domain does: is it a mistyped address?", lab);
	return PW_HOST_OK;
}

/* The labels of body[0..len), which starts at offset off; their count. */
static enum pw_host_err check_labels(const char *body, size_t len, size_t off, unsigned *count,
				     size_t *at, char *why, size_t n)
{
	size_t from = 0;

	*count = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && body[i] != '.')
			continue;
		enum pw_host_err e = check_label(body + from, i - from, off + from, i == len, at, why, n);
		if (e != PW_HOST_OK)
			return e;
		(*count)++;
		from = i + 1;
	}
	return PW_HOST_OK;
}

enum pw_host_err pw_hostname_parse(const char *s, char out[PW_HOSTNAME_MAX + 1], bool *wild,
				   size_t *at, char *why, size_t n)
{
	size_t len = strlen(s);
	bool dot = len > 1 && s[len - 1] == '.';
	unsigned labels;

	if (dot)
		len--;
	if (not_a_name(s, len, dot))
		return PW_HOST_NOT_A_NAME;
	*wild = len >= 1 && s[0] == '*' && (len == 1 || s[1] == '.');
	size_t skip = *wild ? (len > 1 ? 2 : 1) : 0;
	if (*wild && len == skip)
		return bad(at, 0, why, n, "a wildcard is \"*.\" and then a domain of two or more labels, "
			   "as in *.example.com");
	if (len > PW_HOSTNAME_MAX)
		return bad(at, 0, why, n, "this host name is longer than 253 characters, the most a name "
			   "takes");
	if (check_labels(s + skip, len - skip, skip, &labels, at, why, n) != PW_HOST_OK)
		return PW_HOST_BAD;
	if (*wild && labels < 2)
		return bad(at, 0, why, n, "\"%s\" would trust every name in a top-level domain: a wildcard "
			   "needs at least two labels after \"*.\", as in *.example.com", s);
	if (labels < 2)
		return bad(at, 0, why, n, "a host name needs at least two labels, as in host.example.com; "
			   "\"%s\" has one", s);
	for (size_t i = 0; i < len; i++)
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + ('a' - 'A') : s[i]);
	out[len] = '\0';
	return PW_HOST_OK;
}

size_t pw_hostname_wire(const char *name, uint8_t wire[PW_NAME_WIRE_MAX + 1])
{
	const char *body = strncmp(name, "*.", 2) == 0 ? name + 2 : name;
	size_t o = 0;

	while (*body && o < PW_NAME_WIRE_MAX) {
		size_t l = strcspn(body, ".");
		if (l > 63 || o + 1 + l > PW_NAME_WIRE_MAX)
			break;	/* not a parsed name: stop where it goes wrong */
		wire[o++] = (uint8_t)l;
		memcpy(wire + o, body, l);
		o += l;
		body += l;
		if (*body == '.')
			body++;
	}
	return o;
}

bool pw_hostname_matches(const char *pattern, const char *host)
{
	if (strncmp(pattern, "*.", 2) != 0)
		return strcmp(pattern, host) == 0;
	size_t sl = strlen(pattern + 1), hl = strlen(host);	/* ".X" */
	return hl > sl && strcmp(host + hl - sl, pattern + 1) == 0;
}
