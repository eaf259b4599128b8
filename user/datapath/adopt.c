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
#define TCP_CLOSE_WAIT 8
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

/* Listening ports, (proto << 16 | port), sorted: a TCP listener, or a UDP
 * socket bound but not connected. */
static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static uint32_t *listeners(const struct sock_ent *v, size_t n, size_t *nl)
{
	uint32_t *l = malloc((n ? n : 1) * sizeof(*l));

	*nl = 0;
	if (!l)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (v[i].proto == 17 ? !v[i].rport : v[i].state == TCP_LISTEN)
			l[(*nl)++] = (uint32_t)v[i].proto << 16 | v[i].lport;
	qsort(l, *nl, sizeof(*l), cmp_u32);
	return l;
}

static bool loopback(const struct pw_ct_key *k)
{
	static const uint8_t one[16] = { [15] = 1 };

	return k->fam == PW_FAM_V4 ? k->remote[0] == 127 : !memcmp(k->remote, one, 16);
}

/* The flow key of socket e; a dual-stack socket's IPv4 connection (shown
 * in tcp6/udp6 as ::ffff:a.b.c.d) is keyed as the IPv4 flow it is. */
static void sock_key(const struct sock_ent *e, struct pw_ct_key *key)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	bool v4 = e->fam == PW_FAM_V6 && !memcmp(e->local, mapped, 12) && !memcmp(e->remote, mapped, 12);

	memset(key, 0, sizeof(*key));
	key->proto = e->proto;
	key->fam = v4 ? PW_FAM_V4 : e->fam;
	key->kind = PW_CT_FLOW;
	memcpy(key->local, v4 ? e->local + 12 : e->local, v4 ? 4 : 16);
	memcpy(key->remote, v4 ? e->remote + 12 : e->remote, v4 ? 4 : 16);
	key->lport_be = htons(e->lport);
	key->rport_be = htons(e->rport);
}

/* The sockets of the caller's namespace: TCP (ntables 2) or TCP and UDP (4). */
static int read_sockets(size_t ntables, struct sock_ent **v, size_t *n)
{
	static const struct { const char *path; uint8_t fam, proto; } tables[] = {
		{ "/proc/self/net/tcp", PW_FAM_V4, 6 }, { "/proc/self/net/tcp6", PW_FAM_V6, 6 },
		{ "/proc/self/net/udp", PW_FAM_V4, 17 }, { "/proc/self/net/udp6", PW_FAM_V6, 17 },
	};
	size_t cap = 0;
	int rc = 0;

	*v = NULL;
	*n = 0;
	for (size_t t = 0; t < ntables && rc == 0; t++)
		rc = read_table(tables[t].path, tables[t].fam, tables[t].proto, v, n, &cap);
	if (rc) {
		free(*v);
		*v = NULL;
	}
	return rc;
}

int pw_peer_tcp_flows(struct pw_ct_key **keys, size_t *nk)
{
	struct sock_ent *v;
	size_t n, nl;
	int rc = read_sockets(2, &v, &n);

	*keys = NULL;
	*nk = 0;
	if (rc)
		return rc;
	uint32_t *l = listeners(v, n, &nl);
	*keys = malloc((n ? n : 1) * sizeof(**keys));
	if (!l || !*keys) {
		free(l);
		free(v);
		free(*keys);
		*keys = NULL;
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t me = (uint32_t)v[i].proto << 16 | v[i].lport;
		/* a connection a peer made to one of our listeners, still open
		 * both ways or half-closed by the peer */
		if ((v[i].state != TCP_ESTABLISHED && v[i].state != TCP_CLOSE_WAIT) || !v[i].rport ||
		    !bsearch(&me, l, nl, sizeof(*l), cmp_u32))
			continue;
		sock_key(&v[i], &(*keys)[*nk]);
		if (!loopback(&(*keys)[*nk]))
			(*nk)++;
	}
	free(l);
	free(v);
	return 0;
}

int pw_adopt_sockets(struct pw_dp *dp, const struct pw_compiled *c, int *refused, int by[PW_CT_TABLE_COUNT])
{
	struct sock_ent *v;
	size_t n;
	int adopted = 0;

	*refused = 0;
	memset(by, 0, PW_CT_TABLE_COUNT * sizeof(*by));
	int rc = read_sockets(4, &v, &n);
	if (rc)
		return rc;
	size_t nl;
	uint32_t *l = listeners(v, n, &nl);
	if (!l) {
		free(v);
		return -ENOMEM;
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);	/* the datapath's clock */
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	for (size_t i = 0; i < n; i++) {
		const struct sock_ent *e = &v[i];
		if (e->state != TCP_ESTABLISHED || !e->rport)
			continue;	/* UDP shows connected sockets as established too */
		/* a connection to one of our listeners is a reply path the in
		 * rules decide; only the host's own outbound flows are tracked
		 * (a binary search: any user's sockets are listed here) */
		uint32_t me = (uint32_t)e->proto << 16 | e->lport;
		if (bsearch(&me, l, nl, sizeof(*l), cmp_u32))
			continue;
		struct pw_ct_key key;
		sock_key(e, &key);
		if (loopback(&key))
			continue;	/* never on a protected interface */
		struct pw_ct_val val = { .last_ns = now, .flags = PW_CT_REPLIED, .dir = PW_DIR_OUT };
		int table = pw_ct_host_table(key.proto);	/* where the datapath looks */
		/* what the policy would not let out now stays out, as a reload
		 * would end it */
		if (!pw_ct_key_allowed(c, &key, PW_DIR_OUT))
			(*refused)++;
		else if (bpf_map_update_elem(pw_dp_ct_fd(dp, table), &key, &val, BPF_NOEXIST) == 0) {
			by[table]++;
			adopted++;
		}
	}
	free(l);
	free(v);
	return adopted;
}
