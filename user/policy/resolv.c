/* resolv.c - the DNS servers whose answers teach a policy's names. */
#include "policy/resolv.h"

#include <stdio.h>
#include <string.h>

bool pw_ip_loopback(const struct pw_ip *ip)
{
	static const uint8_t one[16] = { [15] = 1 };

	if (ip->fam == PW_FAM_V4)
		return ip->addr[0] == 127;
	return memcmp(ip->addr, one, 16) == 0;
}

bool pw_ip_resolved_stub(const struct pw_ip *ip)
{
	return ip->fam == PW_FAM_V4 && ip->addr[0] == 127 && ip->addr[1] == 0 && ip->addr[2] == 0 &&
	       (ip->addr[3] == 53 || ip->addr[3] == 54);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Add ip unless it is there already. */
static void add_ns(struct pw_resolv_conf *out, const struct pw_ip *ip)
{
	for (size_t i = 0; i < out->n; i++)
		if (out->ns[i].fam == ip->fam && memcmp(out->ns[i].addr, ip->addr, 16) == 0)
			return;
	if (out->n == PW_RESOLVERS_MAX) {
		out->extra++;
		return;
	}
	out->ns[out->n++] = *ip;
}

/* The words of one line, comment cut: up to two, into w1 and w2. */
static void line_words(const char *line, size_t len, char *w1, char *w2, size_t n)
{
	char *w[2] = { w1, w2 };
	size_t i = 0;

	w1[0] = w2[0] = '\0';
	for (int k = 0; k < 2; k++) {
		while (i < len && is_blank(line[i]))
			i++;
		size_t b = i;
		while (i < len && !is_blank(line[i]) && line[i] != '#' && line[i] != ';')
			i++;
		if (i == b)
			return;
		snprintf(w[k], n, "%.*s", (int)(i - b), line + b);
	}
}

/* One `nameserver ADDR` line (lineno, 1-based). */
static void nameserver(struct pw_resolv_conf *out, char *addr, int lineno)
{
	struct pw_ip ip = { 0 };
	char *zone = strchr(addr, '%');

	if (zone && strchr(addr, ':')) {
		*zone = '\0';
		out->zones = true;
	}
	if (!pw_addr_parse(addr, &ip.fam, ip.addr)) {
		if (!out->bad_line)
			out->bad_line = lineno;
		return;
	}
	add_ns(out, &ip);
}

void pw_resolv_conf_parse(const char *text, size_t len, struct pw_resolv_conf *out)
{
	char kw[80], addr[80];
	size_t pos = 0;
	int lineno = 0;

	memset(out, 0, sizeof(*out));
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - line) : len - pos;
		pos += ll + (nl ? 1 : 0);
		lineno++;
		line_words(line, ll, kw, addr, sizeof(addr));
		if (strcmp(kw, "nameserver") != 0)
			continue;
		if (!addr[0] || strlen(addr) >= sizeof(addr) - 1) {
			if (!out->bad_line)
				out->bad_line = lineno;
			continue;
		}
		nameserver(out, addr, lineno);
	}
}
