/* import_rules.c - which rules a row of a vendor table gives, and what
 * about them the operator must review. Listener ports are inbound
 * services (a "Bidirectional" one too: its replies come back through
 * connection tracking), unless the row says "Outward"; remote ports are
 * outbound. A row that gives no rule says why. */
#define _GNU_SOURCE	/* strcasestr */
#include "policy/import.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/hostname.h"
#include "policy/policy.h"
#include "portwall.h"

static bool strncasestr_n(const char *s, size_t n, const char *what)
{
	size_t l = strlen(what);
	for (size_t i = 0; i + l <= n; i++)
		if (strncasecmp(s + i, what, l) == 0)
			return true;
	return false;
}

static void doubt(struct pw_imp_rule *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void doubt(struct pw_imp_rule *u, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (u->ndoubts == PW_IMP_DOUBT_MAX)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) >= 0)
		u->doubt[u->ndoubts++] = s;
	va_end(ap);
}

/* The comment: the listener (or remote device), and the remote device
 * beside it, shortened at a word. */
static void comment(struct pw_imp_rule *u, const struct pw_imp_row *row)
{
	const char *name = row->cell[PW_IMP_NAME], *rem = row->cell[PW_IMP_REMOTE];
	char buf[512];

	if (name && rem)
		snprintf(buf, sizeof(buf), "%s (%s)", name, rem);
	else
		snprintf(buf, sizeof(buf), "%s", name ? name : rem ? rem : "imported row");
	size_t max = sizeof(u->comment) - 4;
	if (strlen(buf) > max) {
		char *sp = buf + max;
		while (sp > buf && *sp != ' ')
			sp--;
		strcpy(sp > buf ? sp : buf + max, "...");
	}
	memcpy(u->comment, buf, strlen(buf) + 1);	/* no longer than max + 3 */
}

static const char *note_text(const struct pw_imp_table *t, const char *mark)
{
	for (size_t i = 0; i < t->nnotes; i++)
		if (strcmp(t->notes[i].mark, mark) == 0)
			return t->notes[i].text;
	return NULL;
}

/* The doubts a port cell carries into the rules made of it. */
static void cell_doubts(struct pw_imp_rule *u, const struct pw_imp_table *t, const struct pw_imp_ports *p)
{
	if (p->configurable[0])
		doubt(u, "the table says \"%s\": the port it gives is the default; write the one your "
		      "deployment uses", p->configurable);
	if (p->mark[0]) {
		const char *n = note_text(t, p->mark);
		if (n)
			doubt(u, "footnote %s: \"%.160s\"", p->mark, n);
		else
			doubt(u, "footnote %s on the port: read the table's note on it", p->mark);
	}
	if (p->doubt[0])
		doubt(u, "%s", p->doubt);
}

/* The protocols of the rule: the cell's, else what the row implies. */
static uint8_t row_protos(struct pw_imp_rule *u, const struct pw_imp_row *row, const struct pw_imp_port *p)
{
	if (p->protos)
		return p->protos;
	uint8_t h = pw_imp_proto_hint(row->cell[PW_IMP_PROTO]);
	if (!h)
		h = pw_imp_proto_hint(row->cell[PW_IMP_NAME]);
	if (!h)
		h = pw_imp_proto_hint(row->cell[PW_IMP_NOTES]);
	if (h)
		return h;
	doubt(u, "the row names no protocol: tcp assumed");
	return PW_P_TCP;
}

static struct pw_imp_rule *new_rule(struct pw_imp_result *r, size_t row, uint8_t dir)
{
	if (r->nrules % 16 == 0) {
		struct pw_imp_rule *n = realloc(r->rules, (r->nrules + 16) * sizeof(*n));
		if (!n)
			return NULL;
		r->rules = n;
	}
	struct pw_imp_rule *u = &r->rules[r->nrules++];
	memset(u, 0, sizeof(*u));
	u->row = row;
	u->dir = dir;
	u->host = r->t.rows[row].host;
	comment(u, &r->t.rows[row]);
	return u;
}

/* Rules of one direction from the ports of a cell: one per protocol. */
static int port_rules(struct pw_imp_result *r, size_t row, uint8_t dir, const struct pw_imp_ports *p,
		      struct pw_imp_rule **first)
{
	bool done[PW_IMP_PORTS_MAX] = { 0 };

	*first = NULL;
	for (size_t i = 0; i < p->n; i++) {
		if (done[i])
			continue;
		struct pw_imp_rule *u = new_rule(r, row, dir);
		if (!u)
			return -1;
		u->protos = row_protos(u, &r->t.rows[row], &p->p[i]);
		for (size_t j = i; j < p->n; j++)
			if (!done[j] && (p->p[j].protos ? p->p[j].protos : u->protos) == u->protos)
				u->p[u->n++] = p->p[j], done[j] = true;
		cell_doubts(u, &r->t, p);
		*first = *first ? *first : u;
	}
	return 0;
}

/* Which way the listener ports of a row go, and the doubt that goes with
 * it (NULL: none). */
static uint8_t listener_dir(const struct pw_imp_row *row, char *why, size_t n)
{
	enum pw_imp_dir d = pw_imp_dir_parse(row->cell[PW_IMP_DIR]);
	enum pw_imp_dir nd = pw_imp_notes_dir(row->cell[PW_IMP_NOTES]);

	why[0] = '\0';
	if (d == PW_IMP_D_OUT || d == PW_IMP_D_IN)
		return d == PW_IMP_D_OUT ? PW_DIR_OUT : PW_DIR_IN;
	if (d == PW_IMP_D_BIDI && nd == PW_IMP_D_OUT) {
		snprintf(why, n, "Traffic Direction says \"Bidirectional\", the notes say \"Outward, from ...\": "
			 "taken as outbound (the host connects to this port); if it also listens on it, add an "
			 "allow in rule");
		return PW_DIR_OUT;
	}
	if (d == PW_IMP_D_BIDI)
		return PW_DIR_IN;
	if (nd != PW_IMP_D_NONE) {
		snprintf(why, n, "no Traffic Direction; the notes say \"%s, from ...\": taken as %s",
			 nd == PW_IMP_D_OUT ? "Outward" : "Inward", nd == PW_IMP_D_OUT ? "outbound" : "inbound");
		return nd == PW_IMP_D_OUT ? PW_DIR_OUT : PW_DIR_IN;
	}
	if (d == PW_IMP_D_UNCLEAR)
		snprintf(why, n, "Traffic Direction \"%.80s\" is neither inward, outward nor bidirectional: "
			 "the listener port is taken as inbound", row->cell[PW_IMP_DIR]);
	else
		snprintf(why, n, "no Traffic Direction: the listener port is taken as inbound");
	return PW_DIR_IN;
}

/* The peer a direction phrase names: "Inward, from the CCE MR PG to X" ->
 * "the CCE MR PG"; "Outward, from X to the configured email server." ->
 * "the configured email server". "" when none, or the internet. */
static void peer_named(const char *text, uint8_t dir, char *out, size_t n)
{
	const char *from = text ? strcasestr(text, dir == PW_DIR_IN ? "inward, from " : "outward, from ") : NULL;
	const char *to = from ? strstr(from, " to ") : NULL;

	out[0] = '\0';
	if (!to)
		return;
	const char *b = dir == PW_DIR_IN ? from + 13 : to + 4;
	const char *e = dir == PW_DIR_IN ? to : b + strcspn(b, ".;");
	if (e > b && !strncasestr_n(b, (size_t)(e - b), "internet"))
		snprintf(out, n, "%.*s", (int)(e - b < 100 ? e - b : 100), b);
}

static void peer_doubts(struct pw_imp_rule *u, const struct pw_imp_row *row)
{
	char peer[128];

	peer_named(row->cell[PW_IMP_DIR], u->dir, peer, sizeof(peer));
	if (!peer[0])
		peer_named(row->cell[PW_IMP_NOTES], u->dir, peer, sizeof(peer));
	if (peer[0])
		doubt(u, "the table names the peer, \"%s\": narrow the rule with %s and its addresses", peer,
		      u->dir == PW_DIR_IN ? "from" : "to");
}

static int skip(struct pw_imp_result *r, size_t i, const char *fmt, const char *arg)
{
	if (asprintf(&r->row_skip[i], fmt, arg ? arg : "") < 0)
		return r->row_skip[i] = NULL, -1;
	return 0;
}

/* Why a row with no port gives no rule. */
static int skip_portless(struct pw_imp_result *r, size_t i, const struct pw_imp_ports *lp,
			 const struct pw_imp_ports *rp)
{
	const struct pw_imp_row *row = &r->t.rows[i];
	bool only_name = row->cell[PW_IMP_NAME];

	for (int c = PW_IMP_LPORT; c < PW_IMP_NCOLS; c++)
		only_name = only_name && !row->cell[c];
	if (only_name)
		return skip(r, i, "no port: a heading of the rows below (\"%s\")", row->cell[PW_IMP_NAME]);
	if (lp->doubt[0] || rp->doubt[0])
		return skip(r, i, "no port read: %s", lp->doubt[0] ? lp->doubt : rp->doubt);
	return skip(r, i, "no port in the row%s", NULL);
}

/* The rules of the listener ports of row i. */
static int listener_rules(struct pw_imp_result *r, size_t i, const struct pw_imp_ports *lp)
{
	const struct pw_imp_row *row = &r->t.rows[i];
	char why[320];
	uint8_t dir = listener_dir(row, why, sizeof(why));
	size_t from = r->nrules;
	struct pw_imp_rule *u;

	if (port_rules(r, i, dir, lp, &u))
		return -1;
	bool bidi = pw_imp_dir_parse(row->cell[PW_IMP_DIR]) == PW_IMP_D_BIDI;
	const char *notes = row->cell[PW_IMP_NOTES];
	for (size_t k = from; k < r->nrules; k++) {
		u = &r->rules[k];
		if (why[0])
			doubt(u, "%s", why);
		if (dir == PW_DIR_IN && bidi && notes && (strcasestr(notes, "outward") || strcasestr(notes, "outbound")))
			doubt(u, "the notes say the host also connects outward (\"%.100s\"): if it does on these "
			      "ports, add an allow out rule", strcasestr(notes, "out"));
		peer_doubts(u, row);
	}
	return 0;
}

static int remote_rules(struct pw_imp_result *r, size_t i, const struct pw_imp_ports *rp)
{
	const struct pw_imp_row *row = &r->t.rows[i];
	size_t from = r->nrules;
	struct pw_imp_rule *u;

	if (port_rules(r, i, PW_DIR_OUT, rp, &u))
		return -1;
	for (size_t k = from; k < r->nrules; k++) {
		u = &r->rules[k];
		if (pw_imp_dir_parse(row->cell[PW_IMP_DIR]) == PW_IMP_D_IN)
			doubt(u, "a remote port on an inward row: taken as outbound (the host connects to it)");
		if (r->t.fmt == PW_IMP_TEXT && !row->host)
			doubt(u, "the text names no host for this port: outbound to any address, as line %d says: "
			      "\"%.100s\"", r->t.no_inbound_line, r->t.no_inbound_text);
		peer_doubts(u, row);
	}
	return 0;
}

/* Is the host of a text row no name a policy can hold? Then row_skip[i]
 * says why; else the host is kept in its policy form (lowercase). */
static bool host_bad(struct pw_imp_result *r, size_t i)
{
	char name[PW_HOSTNAME_MAX + 1], why[256];
	bool wild;
	size_t at;
	struct pw_imp_row *row = &r->t.rows[i];

	if (pw_hostname_parse(row->host, name, &wild, &at, why, sizeof(why)) == PW_HOST_OK && !wild) {
		strcpy(row->host, name);	/* no longer than it was */
		return false;
	}
	if (asprintf(&r->row_skip[i], "\"%s\" is no host name a rule can name", row->host) < 0)
		r->row_skip[i] = NULL;
	return true;
}

static int row_rules(struct pw_imp_result *r, size_t i, bool *seen_header)
{
	const struct pw_imp_row *row = &r->t.rows[i];
	struct pw_imp_ports lp, rp, dp;

	if (row->header) {
		bool again = *seen_header;
		*seen_header = true;
		return skip(r, i, "%s", again ? "the header row again" : "the header row");
	}
	if (row->skip)
		return skip(r, i, "%s", row->skip);
	pw_imp_ports_parse(row->cell[PW_IMP_LPORT], &lp);
	pw_imp_ports_parse(row->cell[PW_IMP_RPORT], &rp);
	/* a Destination Port column is the remote end's port too */
	pw_imp_ports_parse(row->cell[PW_IMP_DPORT], &dp);
	for (size_t k = 0; k < dp.n && rp.n < PW_IMP_PORTS_MAX; k++)
		rp.p[rp.n++] = dp.p[k];
	if (!lp.n && !rp.n)
		return skip_portless(r, i, &lp, &rp);
	if (r->t.fmt == PW_IMP_TEXT && !row->host && !r->t.no_inbound_text)
		return skip(r, i, "%s", "a port the text gives with no host and no direction: write its rule by hand");
	if (row->host && host_bad(r, i))
		return r->row_skip[i] ? 0 : -1;
	if (lp.n && listener_rules(r, i, &lp))
		return -1;
	return rp.n ? remote_rules(r, i, &rp) : 0;
}

static bool same_rule(const struct pw_imp_rule *a, const struct pw_imp_rule *b)
{
	if (a->dir != b->dir || a->protos != b->protos || a->n != b->n || !a->host != !b->host ||
	    (a->host && strcasecmp(a->host, b->host) != 0))
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->p[i].lo != b->p[i].lo || a->p[i].hi != b->p[i].hi)
			return false;
	return true;
}

int pw_imp_rules(struct pw_imp_table *t, struct pw_imp_result *r)
{
	bool seen = false;

	memset(r, 0, sizeof(*r));
	r->t = *t;
	memset(t, 0, sizeof(*t));
	r->row_skip = calloc(r->t.nrows + 1, sizeof(char *));
	if (!r->row_skip)
		return -1;
	for (size_t i = 0; i < r->t.nrows; i++)
		if (row_rules(r, i, &seen))
			return -1;
	/* what the draft quotes: shortenings may have cut a character */
	for (size_t i = 0; i < r->t.nrows; i++) {
		if (r->t.rows[i].raw)
			pw_imp_text_fix(r->t.rows[i].raw);
		if (r->row_skip[i])
			pw_imp_text_fix(r->row_skip[i]);
	}
	for (size_t i = 0; i < r->nrules; i++) {
		pw_imp_text_fix(r->rules[i].comment);
		for (size_t k = 0; k < r->rules[i].ndoubts; k++)
			pw_imp_text_fix(r->rules[i].doubt[k]);
	}
	for (size_t i = 0; i < r->nrules; i++)
		for (size_t j = 0; j < i && !r->rules[i].same_as; j++)
			if (!r->rules[j].same_as && same_rule(&r->rules[i], &r->rules[j]))
				r->rules[i].same_as = j + 1;
	return 0;
}

void pw_imp_result_free(struct pw_imp_result *r)
{
	for (size_t i = 0; i < r->nrules; i++)
		for (size_t k = 0; k < r->rules[i].ndoubts; k++)
			free(r->rules[i].doubt[k]);
	for (size_t i = 0; r->row_skip && i < r->t.nrows; i++)
		free(r->row_skip[i]);
	free(r->row_skip);
	free(r->rules);
	pw_imp_table_free(&r->t);
	memset(r, 0, sizeof(*r));
}

int pw_imp_merge_hosts(struct pw_imp_result *r)
{
	int merged = 0;

	for (size_t i = 0; i < r->nrules; i++) {
		struct pw_imp_rule *a = &r->rules[i];
		size_t from = 0;
		if (!a->host || a->same_as || a->merged_into)
			continue;
		for (size_t j = i + 1; j < r->nrules; j++) {
			struct pw_imp_rule *b = &r->rules[j];
			if (!b->host || b->same_as || b->merged_into || b->dir != a->dir || b->protos != a->protos ||
			    strcasecmp(a->host, b->host) != 0 || a->n + b->n > PW_IMP_PORTS_MAX)
				continue;
			memcpy(a->p + a->n, b->p, b->n * sizeof(b->p[0]));
			a->n += b->n;
			b->merged_into = i + 1;
			from += 1, merged++;
		}
		if (from)
			doubt(a, "the table gives %s in %zu more rows below: this rule holds their ports too (a "
			      "host name feeds at most 16 peer-class shapes)", a->host, from);
	}
	return merged;
}
