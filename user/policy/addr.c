/* addr.c - IPv4/IPv6 prefixes: parse, format, compare, contain. */
#include "policy/addr.h"

#include <arpa/inet.h>
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portwall.h"

bool pw_addr_parse(const char *s, uint8_t *fam, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (strchr(s, ':')) {
		if (inet_pton(AF_INET6, s, addr) != 1)
			return false;
		*fam = PW_FAM_V6;
		return true;
	}
	if (inet_pton(AF_INET, s, addr) != 1)
		return false;
	*fam = PW_FAM_V4;
	return true;
}

static bool host_bits_clear(const struct pw_prefix *p)
{
	unsigned bits = pw_fam_bits(p->fam);

	for (unsigned i = p->len; i < bits; i++)
		if (pw_addr_bit(p->addr, i))
			return false;
	return true;
}

enum pw_addr_err pw_prefix_parse(const char *s, struct pw_prefix *out)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);

	memset(out, 0, sizeof(*out));
	if (alen == 0 || alen >= sizeof(buf))
		return PW_ADDR_SYNTAX;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (!pw_addr_parse(buf, &out->fam, out->addr))
		return PW_ADDR_SYNTAX;
	unsigned bits = pw_fam_bits(out->fam);
	if (!slash) {
		out->len = (uint8_t)bits;
		return PW_ADDR_OK;
	}
	const char *n = slash + 1;
	if (*n == '\0' || strlen(n) > 3)
		return PW_ADDR_BADLEN;
	unsigned v = 0;
	for (const char *c = n; *c; c++) {
		if (*c < '0' || *c > '9')
			return PW_ADDR_BADLEN;
		v = v * 10 + (unsigned)(*c - '0');
	}
	if (v > bits)
		return PW_ADDR_BADLEN;
	out->len = (uint8_t)v;
	return host_bits_clear(out) ? PW_ADDR_OK : PW_ADDR_HOSTBITS;
}

void pw_prefix_format(const struct pw_prefix *p, char *buf, size_t size, bool host_bare)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->fam == PW_FAM_V6 ? AF_INET6 : AF_INET, p->addr, a, sizeof(a));
	if (host_bare && p->len == pw_fam_bits(p->fam))
		snprintf(buf, size, "%s", a);
	else
		snprintf(buf, size, "%s/%u", a, p->len);
}

/* Bytes 8k..8k+7 of an address as one number: comparing the two halves
 * so orders as memcmp of the 16 bytes does, without the call (sorting
 * and merging a million prefixes compare tens of millions of times). */
static uint64_t addr_half(const uint8_t *addr, unsigned k)
{
	uint64_t v;

	memcpy(&v, addr + 8 * k, sizeof(v));
	return be64toh(v);
}

int pw_prefix_cmp(const struct pw_prefix *a, const struct pw_prefix *b)
{
	if (a->fam != b->fam)
		return a->fam < b->fam ? -1 : 1;
	for (unsigned k = 0; k < 2; k++) {
		uint64_t x = addr_half(a->addr, k), y = addr_half(b->addr, k);
		if (x != y)
			return x < y ? -1 : 1;
	}
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return 0;
}

bool pw_prefix_has_addr(const struct pw_prefix *p, uint8_t fam, const uint8_t addr[16])
{
	if (p->fam != fam)
		return false;
	unsigned full = p->len / 8, rest = p->len % 8;

	if (memcmp(p->addr, addr, full))
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		if ((p->addr[full] & mask) != (addr[full] & mask))
			return false;
	}
	return true;
}

bool pw_prefix_contains(const struct pw_prefix *a, const struct pw_prefix *b)
{
	return a->len <= b->len && pw_prefix_has_addr(a, b->fam, b->addr);
}

static void pfx_swap(struct pw_prefix *a, struct pw_prefix *b)
{
	struct pw_prefix t = *a;

	*a = *b;
	*b = t;
}

static void pfx_sift(struct pw_prefix *p, size_t i, size_t n)
{
	for (size_t c; (c = 2 * i + 1) < n; i = c) {
		if (c + 1 < n && pw_prefix_cmp(&p[c], &p[c + 1]) < 0)
			c++;
		if (pw_prefix_cmp(&p[i], &p[c]) >= 0)
			return;
		pfx_swap(&p[i], &p[c]);
	}
}

static void pfx_heapsort(struct pw_prefix *p, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		pfx_sift(p, i, n);
	for (size_t e = n; e-- > 1;) {
		pfx_swap(&p[0], &p[e]);
		pfx_sift(p, 0, e);
	}
}

static void pfx_insertion(struct pw_prefix *p, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct pw_prefix x = p[i];
		size_t j = i;
		for (; j > 0 && pw_prefix_cmp(&p[j - 1], &x) > 0; j--)
			p[j] = p[j - 1];
		p[j] = x;
	}
}

/* Hoare's partition around the median of the first, middle and last:
 * returns k with p[0..k] <= pivot <= p[k+1..n), both sides non-empty. */
static size_t pfx_partition(struct pw_prefix *p, size_t n)
{
	size_t m = n / 2;

	if (pw_prefix_cmp(&p[m], &p[0]) < 0)
		pfx_swap(&p[m], &p[0]);
	if (pw_prefix_cmp(&p[n - 1], &p[0]) < 0)
		pfx_swap(&p[n - 1], &p[0]);
	if (pw_prefix_cmp(&p[n - 1], &p[m]) < 0)
		pfx_swap(&p[n - 1], &p[m]);
	struct pw_prefix piv = p[m];
	size_t i = 0, j = n - 1;
	for (;;) {
		while (pw_prefix_cmp(&p[i], &piv) < 0)
			i++;
		while (pw_prefix_cmp(&piv, &p[j]) < 0)
			j--;
		if (i >= j)
			return j;
		pfx_swap(&p[i++], &p[j--]);
	}
}

/* Introsort: quicksort into the smaller side, the larger by looping (the
 * stack stays logarithmic), heapsort where it goes too deep. */
static void pfx_introsort(struct pw_prefix *p, size_t n, unsigned depth)
{
	while (n > 16) {
		if (depth-- == 0) {
			pfx_heapsort(p, n);
			return;
		}
		size_t k = pfx_partition(p, n) + 1;
		if (k < n - k) {
			pfx_introsort(p, k, depth);
			p += k;
			n -= k;
		} else {
			pfx_introsort(p + k, n - k, depth);
			n = k;
		}
	}
	pfx_insertion(p, n);
}

void pw_prefix_sort(struct pw_prefix *p, size_t n)
{
	unsigned depth = 0;

	for (size_t k = n; k > 1; k >>= 1)
		depth += 2;
	pfx_introsort(p, n, depth);
}

static bool head_before(const struct pw_pmerge_list *a, const struct pw_pmerge_list *b)
{
	int c = pw_prefix_cmp(a->p, b->p);

	return c < 0 || (c == 0 && a->tag < b->tag);
}

static void head_sift(struct pw_pmerge_list *h, size_t n, size_t i)
{
	for (size_t c; (c = 2 * i + 1) < n; i = c) {
		if (c + 1 < n && head_before(&h[c + 1], &h[c]))
			c++;
		if (!head_before(&h[c], &h[i]))
			return;
		struct pw_pmerge_list t = h[i];
		h[i] = h[c];
		h[c] = t;
	}
}

int pw_pmerge_init(struct pw_pmerge *m, size_t nlists)
{
	m->n = 0;
	m->h = malloc((nlists ? nlists : 1) * sizeof(*m->h));
	return m->h ? 0 : -1;
}

void pw_pmerge_add(struct pw_pmerge *m, const struct pw_prefix *p, size_t n, uint32_t tag)
{
	if (n) {
		m->h[m->n++] = (struct pw_pmerge_list){ p, p + n, tag };
		for (size_t i = m->n - 1; i > 0 && head_before(&m->h[i], &m->h[(i - 1) / 2]); i = (i - 1) / 2) {
			struct pw_pmerge_list t = m->h[i];
			m->h[i] = m->h[(i - 1) / 2];
			m->h[(i - 1) / 2] = t;
		}
	}
}

bool pw_pmerge_next(struct pw_pmerge *m, struct pw_prefix *out, uint32_t *tag)
{
	if (!m->n)
		return false;
	*out = *m->h[0].p++;
	*tag = m->h[0].tag;
	if (m->h[0].p == m->h[0].end)
		m->h[0] = m->h[--m->n];
	head_sift(m->h, m->n, 0);
	return true;
}

void pw_pmerge_free(struct pw_pmerge *m)
{
	free(m->h);
	m->h = NULL;
	m->n = 0;
}
