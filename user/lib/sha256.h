/* sha256.h - SHA-256 (FIPS 180-4) for the compiled policy's content hash. */
#ifndef PW_SHA256_H
#define PW_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct pw_sha256 {
	uint32_t h[8];
	uint64_t len;		/* bytes hashed */
	uint8_t buf[64];
	size_t nbuf;
};

void pw_sha256_init(struct pw_sha256 *s);
void pw_sha256_update(struct pw_sha256 *s, const void *data, size_t len);
void pw_sha256_final(struct pw_sha256 *s, uint8_t out[32]);
/* 64 hex digits and a NUL */
void pw_hex(const uint8_t *bytes, size_t n, char *out);

#endif
