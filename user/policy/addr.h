/* addr.h - IPv4/IPv6 prefixes: parse, format, compare, contain. */
#ifndef PW_ADDR_H
#define PW_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pw_prefix {
	uint8_t fam;		/* PW_FAM_V4 / PW_FAM_V6 */
	uint8_t len;		/* prefix length: 0-32 or 0-128 */
	uint8_t addr[16];	/* network byte order; IPv4 in addr[0..3], rest 0 */
};

/* One address. */
struct pw_ip {
	uint8_t fam;		/* PW_FAM_V4 / PW_FAM_V6 */
	uint8_t addr[16];	/* network byte order; IPv4 in addr[0..3], rest 0 */
};

enum pw_addr_err {
	PW_ADDR_OK = 0,
	PW_ADDR_SYNTAX,		/* not an IPv4/IPv6 address */
	PW_ADDR_BADLEN,		/* prefix length missing, not a number or too large */
	PW_ADDR_HOSTBITS,	/* bits set past the prefix length */
};

/* Parse "A", "A/N" (IPv4 or IPv6). A bare address is a host prefix. */
enum pw_addr_err pw_prefix_parse(const char *s, struct pw_prefix *out);
/* Parse a single address (no "/N"). Returns false when it is not one. */
bool pw_addr_parse(const char *s, uint8_t *fam, uint8_t addr[16]);
/* Format as "A/N" (or "A" for a host prefix when host_bare). buf >= 64. */
void pw_prefix_format(const struct pw_prefix *p, char *buf, size_t size, bool host_bare);
static inline unsigned pw_fam_bits(uint8_t fam) { return fam ? 128 : 32; }
/* Total order: family, address bytes, length. Parents sort before children. */
int pw_prefix_cmp(const struct pw_prefix *a, const struct pw_prefix *b);
/* Sort into pw_prefix_cmp order, in place (no allocation: a set of a
 * million prefixes sorts in the memory it already has). */
void pw_prefix_sort(struct pw_prefix *p, size_t n);
/* The merge of sorted lists of prefixes (each in pw_prefix_cmp order,
 * as a rule's peers are), least first and equal ones by tag: a heap of
 * the lists' heads, so nothing the size of the lists is copied. The
 * lists must outlive the merge. */
struct pw_pmerge_list {
	const struct pw_prefix *p, *end;
	uint32_t tag;
};

struct pw_pmerge {
	struct pw_pmerge_list *h;
	size_t n;
};

/* Room for nlists lists: 0, or -1 out of memory. */
int pw_pmerge_init(struct pw_pmerge *m, size_t nlists);
/* Add the list p[0..n) (none when n is 0) under tag. */
void pw_pmerge_add(struct pw_pmerge *m, const struct pw_prefix *p, size_t n, uint32_t tag);
/* The next prefix and its list's tag; false when every list is done. */
bool pw_pmerge_next(struct pw_pmerge *m, struct pw_prefix *out, uint32_t *tag);
void pw_pmerge_free(struct pw_pmerge *m);
/* Does a contain b (same family, a->len <= b->len, b inside a)? */
bool pw_prefix_contains(const struct pw_prefix *a, const struct pw_prefix *b);
/* Does p contain the address (same family)? */
bool pw_prefix_has_addr(const struct pw_prefix *p, uint8_t fam, const uint8_t addr[16]);
/* Bit i (0 = most significant) of an address. */
static inline int pw_addr_bit(const uint8_t *addr, unsigned i)
{
	return (addr[i / 8] >> (7 - i % 8)) & 1;
}

#endif
