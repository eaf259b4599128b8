/* flat4.c - a shape's IPv4 trie entries as 256-way chunks: each prefix
 * is expanded into the chunk of its last byte, shortest first, so that a
 * longer prefix overwrites what a shorter one wrote under it and every
 * entry holds the longest-prefix answer; a chunk made under an entry
 * inherits that entry's answer. The prefixes come as a shape's walk gives
 * them (compile.c): in address order, each before those it contains, so
 * expanding them in that order is the same as shortest first. */
#include "policy/flat4.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static int new_chunk(struct pw_flat4 *f, uint32_t fill, uint32_t *at)
{
	if (f->n == f->cap) {
		uint32_t nc = f->cap ? f->cap * 2 : 16;
		struct pw_chunk *c = realloc(f->chunks, (size_t)nc * sizeof(*c));
		if (!c)
			return -ENOMEM;
		f->chunks = c;
		f->cap = nc;
	}
	for (unsigned i = 0; i < 256; i++)
		f->chunks[f->n].e[i] = fill;
	*at = f->n++;
	return 0;
}

/* Write rank over the entries prefix (addr, len) covers, under root. */
static int expand(struct pw_flat4 *f, uint32_t root, const uint8_t *addr, unsigned len, uint32_t rank)
{
	uint32_t c = root & ~PW_FLAT_NEXT;

	for (unsigned k = 0; k < 4; k++) {
		if (len <= 8 * (k + 1)) {
			unsigned span = 1u << (8 * (k + 1) - len), start = addr[k] & ~(span - 1);
			for (unsigned j = start; j < start + span; j++)
				f->chunks[c].e[j] = rank;	/* never a chunk: those come of longer prefixes */
			return 0;
		}
		uint32_t e = f->chunks[c].e[addr[k]], next;
		if (e & PW_FLAT_NEXT) {
			c = e & ~PW_FLAT_NEXT;
			continue;
		}
		if (new_chunk(f, e, &next))
			return -ENOMEM;
		f->chunks[c].e[addr[k]] = PW_FLAT_NEXT | next;
		c = next;
	}
	return 0;
}

int pw_flat4_open(struct pw_flat4 *f, uint32_t *root)
{
	uint32_t r;

	f->first = f->n;
	f->last_len = -1;
	if (new_chunk(f, 0, &r))
		return -ENOMEM;
	*root = PW_FLAT_NEXT | r;
	return 0;
}

/* Is (addr, len) after the last prefix put, in address order with a
 * prefix before those it contains? */
static bool in_order(const struct pw_flat4 *f, const uint8_t *addr, int len)
{
	int c = memcmp(f->last, addr, 4);

	return f->last_len < 0 || c < 0 || (c == 0 && f->last_len < len);
}

int pw_flat4_put(struct pw_flat4 *f, uint32_t root, const struct pw_peer_entry *e)
{
	int len = (int)e->key.prefixlen - PW_PEER_SCOPE_BITS;

	if (len < 0 || len > 32 || !in_order(f, e->key.addr, len))
		return -EDOM;	/* a longer prefix written first would be overwritten */
	memcpy(f->last, e->key.addr, 4);
	f->last_len = len;
	if (expand(f, root, e->key.addr, (unsigned)len, e->val.rule))
		return -ENOMEM;
	return f->n > PW_FLAT4_MAX_CHUNKS ? -E2BIG : 0;
}

void pw_flat4_drop(struct pw_flat4 *f)
{
	f->n = f->first;
}

uint32_t pw_flat4_lookup(const struct pw_chunk *chunks, uint32_t nchunks, uint32_t root, const uint8_t addr[4])
{
	uint32_t e = root;

	for (unsigned k = 0; k < 4 && (e & PW_FLAT_NEXT); k++) {
		uint32_t c = e & ~PW_FLAT_NEXT;
		if (c >= nchunks)
			return 0;
		e = chunks[c].e[addr[k]];
	}
	return e & PW_FLAT_NEXT ? 0 : e;
}
