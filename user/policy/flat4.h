/* flat4.h - a shape's IPv4 trie entries as 256-way chunks (include/
 * portwall.h, "The flat IPv4 lookup"). */
#ifndef PW_FLAT4_H
#define PW_FLAT4_H

#include <stddef.h>
#include <stdint.h>

#include "policy/compile.h"

/* A policy's chunks past this stay in the trie alone (16 MiB a half). */
#define PW_FLAT4_MAX_CHUNKS 16384u

struct pw_flat4 {
	struct pw_chunk *chunks;
	uint32_t n, cap;
	uint32_t first;			/* the open shape's root chunk */
	uint8_t last[4];		/* the last prefix put, -1 length: none */
	int last_len;
};

/* Start a shape: its root chunk, PW_FLAT_NEXT | chunk in *root. Returns 0
 * or -ENOMEM. */
int pw_flat4_open(struct pw_flat4 *f, uint32_t *root);

/* Add the shape's IPv4 entry e (its rank in val.rule) under root. The
 * entries must come in address order, a prefix before those it contains
 * (-EDOM otherwise); -E2BIG past PW_FLAT4_MAX_CHUNKS, -ENOMEM. After an
 * error the shape must be dropped. */
int pw_flat4_put(struct pw_flat4 *f, uint32_t root, const struct pw_peer_entry *e);

/* Forget the open shape's chunks: the trie answers it. */
void pw_flat4_drop(struct pw_flat4 *f);

/* The rank the chunks give an IPv4 address (network order) from root,
 * as the datapath reads them. */
uint32_t pw_flat4_lookup(const struct pw_chunk *chunks, uint32_t nchunks, uint32_t root, const uint8_t addr[4]);

#endif
