/* resolve.c - the agent's own DNS queries about the policy's plain names:
 * A and AAAA, sent to every resolver at once over UDP; an answer counts
 * only from a resolver's port 53, with an id and question asked, read with
 * libresolv's ns_initparse. Its addresses are learned as the datapath
 * learns them (dns.c, pw_dp_learn_addr). */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "datapath/resolve.h"

#define QTYPES 2
#define CHAIN_MAX 8		/* CNAMEs followed, as the datapath's walk */

static const uint16_t qtypes[QTYPES] = { ns_t_a, ns_t_aaaa };

struct query {
	uint16_t id;
	uint16_t type;
	size_t k;		/* index into which */
	int rcode;		/* -1: not answered yet; else the last answer's */
	bool done;		/* an answer to rely on, or every resolver's */
	size_t replies;		/* answers taken */
	size_t naddr;		/* addresses its answer gave */
};

struct round {
	const struct pw_compiled *c;
	const size_t *which;
	const struct pw_ip *res;
	size_t nres;
	int fd[2];		/* by family: PW_FAM_V4, PW_FAM_V6; -1 none */
	struct query q[PW_RESOLVE_NAMES_MAX * QTYPES];
	size_t nq, open;	/* queries sent, and those not answered */
	struct pw_resolve_report *rep;
};

/* One address an answer gave for which[k]. */
struct got {
	uint8_t fam;
	uint8_t addr[16];
	uint32_t ttl;
};

static void failure(struct round *r, const char *name, const char *fmt, const char *why)
{
	if (r->rep->first_failure[0])
		return;
	snprintf(r->rep->first_failure, sizeof(r->rep->first_failure), fmt, name, why);
}

static socklen_t to_sockaddr(const struct pw_ip *ip, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (ip->fam == PW_FAM_V4) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(53);
		memcpy(&a->sin_addr, ip->addr, 4);
		return sizeof(*a);
	}
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
	a->sin6_family = AF_INET6;
	a->sin6_port = htons(53);
	memcpy(&a->sin6_addr, ip->addr, 16);
	return sizeof(*a);
}

static int open_sockets(struct round *r)
{
	int e = EAFNOSUPPORT;

	for (size_t i = 0; i < r->nres; i++) {
		int f = r->res[i].fam == PW_FAM_V6;
		if (r->fd[f] >= 0)
			continue;
		r->fd[f] = socket(f ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (r->fd[f] < 0)
			e = errno;
	}
	return r->fd[0] >= 0 || r->fd[1] >= 0 ? 0 : -e;
}

/* A standard query, recursion desired, for name x and type. */
static size_t build_query(uint8_t *b, uint16_t id, const struct pw_cname *x, uint16_t type)
{
	const uint8_t head[12] = { id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
	size_t n = sizeof(head);

	memcpy(b, head, n);
	memcpy(b + n, x->wire, x->wire_len);
	n += x->wire_len;
	b[n++] = 0;	/* the root label */
	b[n++] = (uint8_t)(type >> 8);
	b[n++] = (uint8_t)type;
	b[n++] = 0;
	b[n++] = ns_c_in;
	return n;
}

static uint16_t fresh_id(const struct round *r)
{
	uint16_t id = 0;

	for (unsigned tries = 0; tries < 1000; tries++) {
		bool used = false;
		if (getrandom(&id, sizeof(id), 0) != sizeof(id))
			id = (uint16_t)(time(NULL) * 2654435761u + r->nq * 40503u + tries);
		for (size_t i = 0; i < r->nq && !used; i++)
			used = r->q[i].id == id;
		if (!used)
			break;
	}
	return id;
}

/* Send query q to every resolver; false when no send succeeded. */
static bool send_query(struct round *r, const struct query *q)
{
	uint8_t b[12 + PW_NAME_WIRE_MAX + 6];
	const struct pw_cname *x = &r->c->names[r->which[q->k]];
	size_t len = build_query(b, q->id, x, q->type);
	bool sent = false;
	int e = 0;

	for (size_t i = 0; i < r->nres; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = to_sockaddr(&r->res[i], &ss);
		int fd = r->fd[r->res[i].fam == PW_FAM_V6];
		if (fd >= 0 && sendto(fd, b, len, 0, (struct sockaddr *)&ss, sl) == (ssize_t)len)
			sent = true;
		else
			e = fd < 0 ? EAFNOSUPPORT : errno;
	}
	if (!sent)
		failure(r, x->text, "asking about %s failed: %s", strerror(e));
	return sent;
}

static void send_all(struct round *r, size_t nwhich)
{
	for (size_t k = 0; k < nwhich && r->nq + QTYPES <= PW_RESOLVE_NAMES_MAX * QTYPES; k++) {
		if (r->c->names[r->which[k]].wild)
			continue;
		r->rep->asked++;
		for (int t = 0; t < QTYPES; t++) {
			struct query *q = &r->q[r->nq];
			*q = (struct query){ .id = fresh_id(r), .type = qtypes[t], .k = k, .rcode = -1 };
			r->nq++;
			if (send_query(r, q))
				r->open++;
			else
				q->rcode = ns_r_servfail, q->done = true;	/* nothing to wait for */
		}
	}
}

/* Is ss a resolver's port 53? */
static bool from_resolver(const struct round *r, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)ss;

	for (size_t i = 0; i < r->nres; i++) {
		const struct pw_ip *ip = &r->res[i];
		if (ip->fam == PW_FAM_V4 && ss->ss_family == AF_INET && a4->sin_port == htons(53) &&
		    memcmp(&a4->sin_addr, ip->addr, 4) == 0)
			return true;
		if (ip->fam == PW_FAM_V6 && ss->ss_family == AF_INET6 && a6->sin6_port == htons(53) &&
		    memcmp(&a6->sin6_addr, ip->addr, 16) == 0)
			return true;
	}
	return false;
}

/* The query answer m is to: its id, not answered yet, the same question;
 * NULL otherwise. */
static struct query *asked(struct round *r, ns_msg *m)
{
	uint16_t id = ns_msg_id(*m);
	ns_rr rr;

	if (!ns_msg_getflag(*m, ns_f_qr) || ns_msg_getflag(*m, ns_f_opcode) != ns_o_query ||
	    ns_msg_count(*m, ns_s_qd) != 1 || ns_parserr(m, ns_s_qd, 0, &rr))
		return NULL;
	for (size_t i = 0; i < r->nq; i++) {
		struct query *q = &r->q[i];
		if (q->id == id && !q->done && ns_rr_type(rr) == q->type && ns_rr_class(rr) == ns_c_in &&
		    strcasecmp(ns_rr_name(rr), r->c->names[r->which[q->k]].text) == 0)
			return q;
	}
	return NULL;
}

static bool in_chain(char chain[][NS_MAXDNAME], size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(chain[i], name) == 0)
			return true;
	return false;
}

/* The names the answer's CNAME records lead to from the question's. */
static size_t follow_cnames(ns_msg *m, char chain[][NS_MAXDNAME])
{
	size_t n = 1;
	int an = ns_msg_count(*m, ns_s_an);

	for (int pass = 0; pass < CHAIN_MAX; pass++) {
		size_t before = n;
		for (int i = 0; i < an && n <= CHAIN_MAX; i++) {
			ns_rr rr;
			char to[NS_MAXDNAME];
			if (ns_parserr(m, ns_s_an, i, &rr) || ns_rr_type(rr) != ns_t_cname ||
			    !in_chain(chain, n, ns_rr_name(rr)) ||
			    ns_name_uncompress(ns_msg_base(*m), ns_msg_end(*m), ns_rr_rdata(rr), to, sizeof(to)) < 0 ||
			    in_chain(chain, n, to))
				continue;
			snprintf(chain[n++], NS_MAXDNAME, "%s", to);
		}
		if (n == before)
			break;
	}
	return n;
}

/* The A and AAAA records of the answer's names (question and CNAME chain). */
static size_t addresses(ns_msg *m, const char *qname, uint16_t type, struct got *out)
{
	char chain[CHAIN_MAX + 1][NS_MAXDNAME];
	size_t n = 0;

	snprintf(chain[0], NS_MAXDNAME, "%s", qname);
	size_t nchain = follow_cnames(m, chain);
	for (int i = 0; i < ns_msg_count(*m, ns_s_an) && n < PW_RESOLVE_ADDRS_MAX; i++) {
		ns_rr rr;
		if (ns_parserr(m, ns_s_an, i, &rr) || ns_rr_class(rr) != ns_c_in || !in_chain(chain, nchain, ns_rr_name(rr)))
			continue;
		/* only the type asked: an A query's answer teaches no AAAA */
		bool v4 = type == ns_t_a && ns_rr_type(rr) == ns_t_a && ns_rr_rdlen(rr) == 4;
		bool v6 = type == ns_t_aaaa && ns_rr_type(rr) == ns_t_aaaa && ns_rr_rdlen(rr) == 16;
		if (!v4 && !v6)
			continue;
		out[n] = (struct got){ .fam = v4 ? PW_FAM_V4 : PW_FAM_V6, .ttl = ns_rr_ttl(rr) };
		memcpy(out[n].addr, ns_rr_rdata(rr), v4 ? 4 : 16);
		n++;
	}
	return n;
}

/* What the round learns with, beside the round itself. */
struct learning {
	struct pw_dp *dp;
	uint32_t half;
	const struct pw_config *cfg;
	uint8_t source;
	uint64_t now;
	uint32_t *life_s;
};

static void learn(struct round *r, const struct learning *l, const struct query *q, const struct got *g, size_t n)
{
	const struct pw_cname *x = &r->c->names[r->which[q->k]];

	for (size_t i = 0; i < n; i++) {
		uint32_t ttl = g[i].ttl, life = ttl;
		if (life < l->cfg->dns_ttl_min)
			life = l->cfg->dns_ttl_min;
		if (l->cfg->dns_ttl_max && life > l->cfg->dns_ttl_max)
			life = l->cfg->dns_ttl_max;
		int rc = pw_dp_learn_addr(l->dp, l->half, x, g[i].fam, g[i].addr, life, ttl, l->source, l->now);
		if (rc < 0) {
			failure(r, x->text, "learning an address of %s failed: %s", strerror(-rc));
			continue;
		}
		*(rc ? &r->rep->learned : &r->rep->refreshed) += 1;
		if (l->life_s && life < l->life_s[q->k])
			l->life_s[q->k] = life;
	}
}

/* A datagram from a resolver: an answer to a query of ours teaches. */
static void take(struct round *r, const struct learning *l, const uint8_t *b, size_t n)
{
	ns_msg m;
	struct got g[PW_RESOLVE_ADDRS_MAX];

	if (ns_initparse(b, (int)n, &m))
		return;	/* not a DNS message whole: not an answer */
	struct query *q = asked(r, &m);
	if (!q)
		return;
	q->rcode = ns_msg_getflag(m, ns_f_rcode);
	if (ns_msg_getflag(m, ns_f_tc)) {
		/* as the datapath: a truncated answer teaches nothing */
		failure(r, r->c->names[r->which[q->k]].text, "the answer about %s was truncated (%s)",
			"portwall does not ask again over TCP");
		q->rcode = ns_r_servfail;
	}
	/* an answer or "no such name" is relied on; a failure (SERVFAIL,
	 * REFUSED) waits for the other resolvers' answers */
	q->done = q->rcode == ns_r_noerror || q->rcode == ns_r_nxdomain || ++q->replies >= r->nres;
	r->open -= q->done;
	if (q->rcode == ns_r_noerror && !ns_msg_getflag(m, ns_f_tc)) {
		q->naddr = addresses(&m, r->c->names[r->which[q->k]].text, q->type, g);
		learn(r, l, q, g, q->naddr);
	}
}

static void drain(struct round *r, const struct learning *l, int fd)
{
	for (int i = 0; i < 256 && r->open; i++) {
		uint8_t b[4096];
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		ssize_t n = recvfrom(fd, b, sizeof(b), 0, (struct sockaddr *)&ss, &sl);
		if (n < 0)
			return;
		if (from_resolver(r, &ss))
			take(r, l, b, (size_t)n);
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wait_answers(struct round *r, const struct learning *l, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	for (int turns = 0; r->open && turns < 100000; turns++) {
		int64_t left = deadline - now_ms();
		struct pollfd p[2] = { { .fd = r->fd[0], .events = POLLIN }, { .fd = r->fd[1], .events = POLLIN } };
		if (left <= 0)
			break;
		int rc = poll(p, 2, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			break;
		for (int f = 0; f < 2; f++)
			if (p[f].revents & POLLIN)
				drain(r, l, r->fd[f]);
	}
}

static const char *rcode_name(int rcode)
{
	static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED" };
	return rcode >= 0 && rcode < 6 ? names[rcode] : "an error";
}

/* Per name: answered (an address, or no error to either question), or
 * failed and why. */
static void tally(struct round *r, size_t nwhich, int timeout_ms)
{
	for (size_t k = 0; k < nwhich; k++) {
		int worst = ns_r_noerror, seen = 0;
		size_t naddr = 0;
		for (size_t i = 0; i < r->nq; i++) {
			if (r->q[i].k != k)
				continue;
			seen++;
			naddr += r->q[i].naddr;
			if (r->q[i].rcode != ns_r_noerror && worst != -1)
				worst = r->q[i].rcode;
		}
		if (!seen)
			continue;	/* a wildcard, or past the round's bound */
		if (worst == ns_r_noerror || naddr) {
			r->rep->answered++;
			continue;
		}
		r->rep->failed++;
		char why[64];
		if (worst < 0)
			snprintf(why, sizeof(why), "no resolver answered within %d ms", timeout_ms);
		else if (worst == ns_r_nxdomain)
			snprintf(why, sizeof(why), "no such name, the resolvers say");
		else
			snprintf(why, sizeof(why), "the resolvers answered %s", rcode_name(worst));
		failure(r, r->c->names[r->which[k]].text, "asking about %s: %s", why);
	}
}

/* One round: names which[0..nwhich), nwhich <= PW_RESOLVE_NAMES_MAX. */
static int round_trip(struct round *r, struct learning *l, size_t nwhich, int timeout_ms)
{
	int rc = open_sockets(r);

	if (rc == 0) {
		l->now = pw_mono_ns();
		send_all(r, nwhich);
		wait_answers(r, l, timeout_ms);
		tally(r, nwhich, timeout_ms);
	}
	for (int f = 0; f < 2; f++)
		if (r->fd[f] >= 0)
			close(r->fd[f]);
	return rc;
}

int pw_resolve_names(struct pw_dp *dp, uint32_t half, const struct pw_compiled *c, const size_t *which,
		     size_t nwhich, const struct pw_ip *res, size_t nres, const struct pw_config *cfg,
		     uint8_t source, int timeout_ms, uint32_t *life_s, struct pw_resolve_report *rep)
{
	int rc = 0;

	memset(rep, 0, sizeof(*rep));
	for (size_t k = 0; life_s && k < nwhich; k++)
		life_s[k] = UINT32_MAX;
	for (size_t at = 0; at < nwhich && rc == 0; at += PW_RESOLVE_NAMES_MAX) {
		size_t n = nwhich - at < PW_RESOLVE_NAMES_MAX ? nwhich - at : PW_RESOLVE_NAMES_MAX;
		struct round r = { .c = c, .which = which + at, .res = res, .nres = nres, .fd = { -1, -1 }, .rep = rep };
		struct learning l = { dp, half, cfg, source, 0, life_s ? life_s + at : NULL };
		size_t answered = rep->answered;
		rc = round_trip(&r, &l, n, timeout_ms);
		if (rc == 0 && rep->answered == answered && at + n < nwhich) {
			/* nobody answered: the rest would wait as long for nothing */
			for (size_t k = at + n; k < nwhich; k++)
				rep->failed += !c->names[which[k]].wild;
			break;
		}
	}
	return rc;
}
