/* adopt.c - when enforcement starts, track the connections the host already
 * has open, so that an outbound connection idle at apply time never has its
 * next inbound packet dropped. Read from /proc/self/net (the network
 * namespace of the caller: call it inside --netns). */
#include "datapath/adopt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#define TCP_ESTABLISHED 1
#define TCP_LISTEN 10

struct sock_ent {
	uint8_t fam, proto;
	uint8_t local[16], remote[16];
	uint16_t lport, rport;	/* host order */
	unsigned state;
};

/* "0100007F:0016" or the IPv6 form: /proc prints each 32-bit word of the
 * address as the host-order value of its network-order bytes */
static int parse_addr(const char *s, uint8_t fam, uint8_t out[16], uint16_t *port)
{
	unsigned words = fam == PW_FAM_V4 ? 1 : 4, p;
	const char *colon = strchr(s, ':');

	if (!colon || (size_t)(colon - s) != words * 8 || sscanf(colon + 1, "%x", &p) != 1)
		return -1;
	memset(out, 0, 16);
	for (unsigned w = 0; w < words; w++) {
		char hex[9];
		memcpy(hex, s + w * 8, 8);
		hex[8] = '\0';
		uint32_t v = (uint32_t)strtoul(hex, NULL, 16);
		memcpy(out + w * 4, &v, 4);	/* back to the bytes in memory */
	}
	*port = (uint16_t)p;
	return 0;
}

static int read_table(const char *path, uint8_t fam, uint8_t proto, struct sock_ent **v, size_t *n,
		      size_t *cap)
{
	FILE *f = fopen(path, "r");
	char line[512], la[64], ra[64];
	unsigned st;

	if (!f)
		return errno == ENOENT ? 0 : -errno;	/* no IPv6: nothing to adopt */
	if (!fgets(line, sizeof(line), f)) {	/* the header */
		fclose(f);
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %*s %63s %63s %x", la, ra, &st) != 3)
			continue;
		struct sock_ent e = { .fam = fam, .proto = proto, .state = st };
		if (parse_addr(la, fam, e.local, &e.lport) || parse_addr(ra, fam, e.remote, &e.rport))
			continue;
		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 64;
			struct sock_ent *p = realloc(*v, nc * sizeof(*p));
			if (!p) {
				fclose(f);
				return -ENOMEM;
			}
			*v = p;
			*cap = nc;
		}
		(*v)[(*n)++] = e;
	}
	fclose(f);
	return 0;
}

int pw_adopt_sockets(struct pw_dp *dp, const struct pw_compiled *c, int *refused)
{
	static const struct { const char *path; uint8_t fam, proto; } tables[] = {
		{ "/proc/self/net/tcp", PW_FAM_V4, 6 }, { "/proc/self/net/tcp6", PW_FAM_V6, 6 },
		{ "/proc/self/net/udp", PW_FAM_V4, 17 }, { "/proc/self/net/udp6", PW_FAM_V6, 17 },
	};
	struct sock_ent *v = NULL;
	size_t n = 0, cap = 0;
	int rc = 0, adopted = 0;

	*refused = 0;
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]) && rc == 0; t++)
		rc = read_table(tables[t].path, tables[t].fam, tables[t].proto, &v, &n, &cap);
	if (rc) {
		free(v);
		return rc;
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);	/* the datapath's clock */
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	for (size_t i = 0; i < n; i++) {
		const struct sock_ent *e = &v[i];
		if (e->state != TCP_ESTABLISHED || !e->rport)
			continue;	/* UDP shows connected sockets as established too */
		/* a connection to one of our listeners is a reply path the in
		 * rules decide; only the host's own outbound flows are tracked */
		bool listener = false;
		for (size_t k = 0; k < n && !listener; k++)
			listener = v[k].proto == e->proto && v[k].lport == e->lport &&
				   (e->proto == 17 ? !v[k].rport : v[k].state == TCP_LISTEN);
		if (listener)
			continue;
		struct pw_ct_key key = { .proto = e->proto, .fam = e->fam, .kind = PW_CT_FLOW };
		memcpy(key.local, e->local, 16);
		memcpy(key.remote, e->remote, 16);
		key.lport_be = htons(e->lport);
		key.rport_be = htons(e->rport);
		struct pw_ct_val val = { .last_ns = now, .flags = PW_CT_REPLIED, .dir = PW_DIR_OUT };
		/* what the policy would not let out now stays out, as a reload
		 * would end it */
		if (!pw_ct_key_allowed(c, &key, PW_DIR_OUT))
			(*refused)++;
		else if (bpf_map_update_elem(dp->ct_fd, &key, &val, BPF_NOEXIST) == 0)
			adopted++;
	}
	free(v);
	return adopted;
}
