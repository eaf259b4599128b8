/* gwjudge.c - a forwarded packet judged by the policies of its protected
 * ends (explain's judge, no flow state), else by default forward. */
#include "policy/gwjudge.h"

#include <stdio.h>
#include <string.h>

#include "portwall.h"

#define TCP_SYN 0x02
#define TCP_ACK 0x10

/* The query of the policy of the end at dir: the peer is the other end. */
static void end_query(const struct pw_pktspec *s, uint8_t dir, uint16_t port, struct pw_query *q)
{
	memset(q, 0, sizeof(*q));
	q->dir = dir;
	q->proto = s->proto;
	q->fam = s->fam;
	memcpy(q->addr, dir == PW_DIR_IN ? s->src : s->dst, 16);
	q->port = port;
}

/* tcp, udp: the destination port (the service: the host's own inbound,
 * the remote one outbound); icmp: the type; other protocols: none. */
static uint16_t service(const struct pw_pktspec *s)
{
	if (s->proto == 6 || s->proto == 17)
		return s->dport;
	if (s->proto == 1 || s->proto == 58)
		return s->icmp_type;
	return 0;
}

static const char *reason_of(const struct pw_verdict *v, const char *line)
{
	if (!strncmp(line + 4, "  always  ", 10))
		return v->action == PW_PASS ? "neighbor-discovery" : "malformed";
	if (v->rule == PW_RULE_DEFAULT)
		return v->action == PW_PASS ? "allow-default" : "default";
	return v->action == PW_PASS ? "allow-rule" : "deny-rule";
}

/* One end. Outbound, a TCP segment that is not a bare SYN from a port the
 * in rules let the peer reach passes as that listener's (the datapath's
 * egress step 4, which needs no state); else the direction's rules. */
static void judge_end(const struct pw_gw_policy *pp, const struct pw_pktspec *s, uint8_t dir, struct pw_gw_end *e)
{
	struct pw_query q;

	e->pp = pp;
	e->dir = dir;
	e->listener = false;
	if (dir == PW_DIR_OUT && s->proto == 6 && (s->tcp_flags & (TCP_SYN | TCP_ACK)) != TCP_SYN) {
		end_query(s, PW_DIR_IN, s->sport, &q);
		memcpy(q.addr, s->dst, 16);
		pw_explain(&pp->pol, &pp->c, &q, &e->v, e->line, sizeof(e->line));
		if (e->v.action == PW_PASS) {
			e->listener = true;
			e->reason = reason_of(&e->v, e->line);
			return;
		}
	}
	end_query(s, dir, service(s), &q);
	pw_explain(&pp->pol, &pp->c, &q, &e->v, e->line, sizeof(e->line));
	e->reason = reason_of(&e->v, e->line);
}

static int dir_error(const struct pw_pktspec *s, const struct pw_gw_host *to, char *err, size_t errsz)
{
	char a[64];
	struct pw_prefix p = { .fam = s->fam, .len = (uint8_t)pw_fam_bits(s->fam) };

	memcpy(p.addr, to ? s->dst : s->src, 16);
	pw_prefix_format(&p, a, sizeof(a), true);
	if (s->dir == PW_DIR_IN)
		return pw_errf(err, errsz, -1, "in means towards a protected host, and the destination is not "
			       "one; the source %s is protected: the packet is out (away from it)", a);
	return pw_errf(err, errsz, -1, "out means away from a protected host, and the source is not one; the "
		       "destination %s is protected: the packet is in (towards it)", a);
}

int pw_gw_judge(const struct pw_gateway *gw, const struct pw_pktspec *s, struct pw_gw_verdict *out, char *err,
		size_t errsz)
{
	const struct pw_gw_host *to = pw_gateway_find(gw, s->fam, s->dst);
	const struct pw_gw_host *from = pw_gateway_find(gw, s->fam, s->src);

	memset(out, 0, sizeof(*out));
	if ((s->dir == PW_DIR_IN && !to && from) || (s->dir == PW_DIR_OUT && !from && to))
		return dir_error(s, to, err, errsz);
	if (to) {
		out->end[out->nends].host = to;
		judge_end(&gw->policies[to->policy], s, PW_DIR_IN, &out->end[out->nends++]);
	}
	if (from) {
		out->end[out->nends].host = from;
		judge_end(&gw->policies[from->policy], s, PW_DIR_OUT, &out->end[out->nends++]);
	}
	out->action = out->nends ? PW_PASS : gw->forward;
	for (size_t i = 0; i < out->nends; i++) {
		if (out->end[i].v.action == PW_DROP && out->action == PW_PASS) {
			out->action = PW_DROP;
			out->decider = i;
		}
	}
	return 0;
}
