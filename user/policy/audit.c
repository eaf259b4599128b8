/* audit.c - the host against a policy: the judgement of `portwall audit`,
 * from the compiled tables and the rules, with no kernel contact. */
#include "policy/audit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/explain.h"

const char *const pw_finding_names[PW_F_KIND_COUNT] = {
	[PW_F_LISTENER] = "listener_not_allowed", [PW_F_IDLE_RULE] = "rule_nothing_listens",
	[PW_F_DEFAULT_OUT] = "flow_default_out", [PW_F_UNMATCHED] = "rule_never_matched",
};

static int add(struct pw_findings *f, uint8_t kind, const char *file, int line, uint32_t rule,
	       const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int add(struct pw_findings *f, uint8_t kind, const char *file, int line, uint32_t rule,
	       const char *fmt, ...)
{
	if (f->n == f->cap) {
		size_t nc = f->cap ? f->cap * 2 : 16;
		struct pw_finding *p = realloc(f->v, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		f->v = p;
		f->cap = nc;
	}
	struct pw_finding *x = &f->v[f->n++];
	va_list ap;

	*x = (struct pw_finding){ .kind = kind, .file = file, .line = line, .rule = rule };
	va_start(ap, fmt);
	vsnprintf(x->text, sizeof(x->text), fmt, ap);
	va_end(ap);
	return 0;
}

void pw_findings_free(struct pw_findings *f)
{
	free(f->v);
	*f = (struct pw_findings){ 0 };
}

/* Where default dir was set: its line, or the root file, line 0, when the
 * policy has no `default` line for it (the built-in one). */
static const char *dflt_where(const struct pw_policy *pol, int dir, int *line)
{
	*line = pol->dflt_file[dir] ? pol->dflt_line[dir] : 0;
	return pol->dflt_file[dir] ? pol->dflt_file[dir] : pol->files[0];
}

static const char *dflt_text(const struct pw_policy *pol, int dir)
{
	static const char *const t[2][2] = { { "default in drop", "default in allow" },
					     { "default out drop", "default out allow" } };
	const char *s = t[dir][pol->dflt[dir] == PW_PASS];

	return pol->dflt_file[dir] ? s : dir == PW_DIR_IN ? "default in drop, built in" :
	       "default out allow, built in";
}

static bool loopback(const struct pw_listener *l)
{
	static const uint8_t one[16] = { [15] = 1 };
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (l->fam == PW_FAM_V4)
		return l->addr[0] == 127;
	return !memcmp(l->addr, one, 16) || (!memcmp(l->addr, mapped, 12) && l->addr[12] == 127);
}

static const char *proto_name(uint8_t proto)
{
	return proto == 6 ? "tcp" : "udp";
}

/* "sshd (pid 812) listens on tcp 2222 (all addresses)" */
static void listener_words(const struct pw_listener *l, char *buf, size_t size)
{
	static const uint8_t zero[16];
	char who[64], where[INET6_ADDRSTRLEN + 2] = "all addresses";

	if (l->pid)
		snprintf(who, sizeof(who), "%s (pid %d)", l->comm, (int)l->pid);
	else
		snprintf(who, sizeof(who), "a socket of no process found (inode %lu)", l->inode);
	if (memcmp(l->addr, zero, 16))
		inet_ntop(l->fam == PW_FAM_V6 ? AF_INET6 : AF_INET, l->addr, where, sizeof(where));
	snprintf(buf, size, "%s listens on %s %u (%s%s)", who, proto_name(l->proto), l->port, where,
		 l->fam == PW_FAM_V6 && !memcmp(l->addr, zero, 16) ? ", IPv6 and IPv4" : "");
}

/* A finding for listener l when no rule lets anyone in to its port. */
static int judge_listener(const struct pw_policy *pol, const struct pw_compiled *c, const struct pw_listener *l,
			  struct pw_findings *f)
{
	const struct pw_slot *s = &c->slots[pw_slot_l4(PW_DIR_IN, l->proto == 6 ? PW_L4_TCP : PW_L4_UDP, l->port)];
	char w[200];
	int line;

	listener_words(l, w, sizeof(w));
	if (s->deny_rule) {
		const struct pw_rule *r = &pol->rules[s->deny_rule - 1];
		return add(f, PW_F_LISTENER, r->file, r->line, r->id, "%s: rule %u denies it in (%s)", w, r->id,
			   r->text);
	}
	if (s->allow_rule || s->allow_class || s->dflt == PW_PASS)
		return 0;
	const char *file = dflt_where(pol, PW_DIR_IN, &line);
	return add(f, PW_F_LISTENER, file, line, 0, "%s: no rule lets it in (%s)", w, dflt_text(pol, PW_DIR_IN));
}

static bool listened(const struct pw_listener *l, size_t nl, uint8_t proto, uint16_t lo, uint16_t hi)
{
	for (size_t i = 0; i < nl; i++)
		if (l[i].proto == proto && l[i].port >= lo && l[i].port <= hi && !loopback(&l[i]))
			return true;
	return false;
}

/* The ports of an allow in rule with no listener on the wire behind them. */
static int judge_rule(const struct pw_rule *r, const struct pw_listener *l, size_t nl, struct pw_findings *f)
{
	static const struct pw_range every = { 0, 65535 };
	int rc = 0;

	for (int p = 0; p < 2 && !rc; p++) {
		uint8_t proto = p ? 17 : 6;
		if (!(r->protos & (p ? PW_P_UDP : PW_P_TCP)))
			continue;
		size_t n = r->nranges ? r->nranges : 1;
		for (size_t i = 0; i < n && !rc; i++) {
			const struct pw_range *g = r->nranges ? &r->ranges[i] : &every;
			char ports[16];
			if (listened(l, nl, proto, g->lo, g->hi))
				continue;
			if (!r->nranges)
				snprintf(ports, sizeof(ports), "(any port)");
			else if (g->lo == g->hi)
				snprintf(ports, sizeof(ports), "%u", g->lo);
			else
				snprintf(ports, sizeof(ports), "%u-%u", g->lo, g->hi);
			rc = add(f, PW_F_IDLE_RULE, r->file, r->line, r->id, "%s: nothing listens on %s %s", r->text,
				 proto_name(proto), ports);
		}
	}
	return rc;
}

int pw_audit_sockets(const struct pw_policy *pol, const struct pw_compiled *c, const struct pw_listener *l,
		     size_t nl, struct pw_findings *f)
{
	int rc = 0;

	for (size_t i = 0; i < nl && !rc; i++)
		if (!loopback(&l[i]))
			rc = judge_listener(pol, c, &l[i], f);
	for (size_t i = 0; i < pol->nrules && !rc; i++) {
		const struct pw_rule *r = &pol->rules[i];
		if (r->action == PW_PASS && (r->dirs & (1 << PW_DIR_IN)))
			rc = judge_rule(r, l, nl, f);
	}
	return rc;
}

/* The explain query of the opening packet of flow k, which the host sent. */
static void flow_query(const struct pw_ct_key *k, struct pw_query *q)
{
	memset(q, 0, sizeof(*q));
	q->dir = PW_DIR_OUT;
	q->fam = k->fam;
	q->proto = k->proto;
	memcpy(q->addr, k->remote, 16);
	if (k->kind == PW_CT_ECHO_OUT) {
		q->proto = k->fam == PW_FAM_V4 ? 1 : 58;
		q->port = k->fam == PW_FAM_V4 ? 8 : 128;
	} else if (k->proto == 6 || k->proto == 17) {
		q->port = ntohs(k->rport_be);
	}
}

int pw_audit_flow(const struct pw_policy *pol, const struct pw_compiled *c, const struct pw_ct_key *k,
		  struct pw_findings *f)
{
	struct pw_query q;
	struct pw_verdict v;
	char line[1024], loc[INET6_ADDRSTRLEN], rem[INET6_ADDRSTRLEN], what[48];
	int af = k->fam == PW_FAM_V6 ? AF_INET6 : AF_INET, dl;

	flow_query(k, &q);
	pw_explain(pol, c, &q, &v, line, sizeof(line));
	if (v.action != PW_PASS || v.rule != PW_RULE_DEFAULT)
		return 0;
	inet_ntop(af, k->local, loc, sizeof(loc));
	inet_ntop(af, k->remote, rem, sizeof(rem));
	if (k->kind == PW_CT_ECHO_OUT)
		snprintf(what, sizeof(what), "%s echo", q.proto == 1 ? "icmp" : "icmpv6");
	else if (k->proto == 6 || k->proto == 17)
		snprintf(what, sizeof(what), "%s port %u", proto_name(k->proto), q.port);
	else
		snprintf(what, sizeof(what), "proto %u", k->proto);
	const char *file = dflt_where(pol, PW_DIR_OUT, &dl);
	if (k->proto == 6 || k->proto == 17)
		return add(f, PW_F_DEFAULT_OUT, file, dl, 0, "%s to %s from %s port %u: no out rule lets it out, "
			   "only %s does", what, rem, loc, ntohs(k->lport_be), dflt_text(pol, PW_DIR_OUT));
	return add(f, PW_F_DEFAULT_OUT, file, dl, 0, "%s to %s from %s: no out rule lets it out, only %s does",
		   what, rem, loc, dflt_text(pol, PW_DIR_OUT));
}

int pw_audit_unmatched(const struct pw_policy *pol, const uint64_t *packets, struct pw_findings *f)
{
	int rc = 0;

	for (size_t i = 0; i < pol->nrules && !rc; i++) {
		const struct pw_rule *r = &pol->rules[i];
		if (!packets[r->id])
			rc = add(f, PW_F_UNMATCHED, r->file, r->line, r->id, "%s: never matched since apply", r->text);
	}
	return rc;
}
