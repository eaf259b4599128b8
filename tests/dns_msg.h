/* dns_msg.h - DNS messages built byte by byte, for the tests and the
 * bench that run queries and answers through the programs. */
#ifndef PW_TESTS_DNS_MSG_H
#define PW_TESTS_DNS_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct msg {
	uint8_t b[2048];
	size_t n;
};

static inline void put8(struct msg *m, unsigned v)
{
	if (m->n < sizeof(m->b))
		m->b[m->n++] = (uint8_t)v;
}

static inline void put16(struct msg *m, unsigned v)
{
	put8(m, (v >> 8) & 0xff);
	put8(m, v & 0xff);
}

static inline void put32(struct msg *m, uint32_t v)
{
	put16(m, v >> 16);
	put16(m, v & 0xffff);
}

/* "a.b.c" in wire form, with the root label */
static inline void put_name(struct msg *m, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t len = dot ? (size_t)(dot - name) : strlen(name);
		put8(m, (unsigned)len);
		for (size_t i = 0; i < len; i++)
			put8(m, (uint8_t)name[i]);
		name += len + (dot ? 1 : 0);
	}
	put8(m, 0);
}

/* A new message: its header (no authority or additional records). */
static inline void header(struct msg *m, unsigned txid, unsigned flags, unsigned qd, unsigned an)
{
	m->n = 0;
	put16(m, txid);
	put16(m, flags);
	put16(m, qd);
	put16(m, an);
	put16(m, 0);
	put16(m, 0);
}

/* A question of class IN. */
static inline void question(struct msg *m, const char *name, unsigned type)
{
	put_name(m, name);
	put16(m, type);
	put16(m, 1);
}

#endif
