/* cmd_gateway.c - check, test and explain of a gateway file (a file whose
 * first statement is gateway, protect or default forward): every policy it
 * names checked, a packet judged by its protected ends' policies in
 * userspace. The gateway datapath is not built yet (docs/gateway.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmds.h"
#include "cli/table.h"
#include "lib/json.h"
#include "lib/sha256.h"
#include "policy/analyze.h"
#include "policy/gwjudge.h"

#define GW_USERSPACE_NOTE "judged in userspace by the policy of each protected host (the gateway datapath " \
	"is not built yet): new packets, no flow state"

static void ip_text(const struct pw_ip *ip, char *buf, size_t n)
{
	struct pw_prefix p = { .fam = ip->fam, .len = (uint8_t)pw_fam_bits(ip->fam) };

	memcpy(p.addr, ip->addr, 16);
	pw_prefix_format(&p, buf, n, true);
}

static const char *act_name(uint8_t a)
{
	return a == PW_PASS ? "allow" : "drop";
}

static json_t *error_json(const char *file, int line, int col, const char *msg, const char *text)
{
	return json_pack("{s:o,s:i,s:i,s:o,s:o}", "file", pw_json_string(file), "line", line, "column", col,
			 "message", pw_json_string(msg), "text", pw_json_string(text));
}

static json_t *warning_json(const struct pw_warning *w)
{
	return json_pack("{s:o,s:i,s:o}", "file", pw_json_string(w->file), "line", w->line, "message",
			 pw_json_string(w->msg));
}

/* Load gw; print the errors (text or JSON) when it is not valid. */
static int load(const char *path, enum pw_file_check files, bool json, struct pw_gateway *gw, struct pw_diag *d)
{
	const struct pw_parse_opts po = { .files = files };

	if (pw_gateway_parse_file(path, &po, gw, d) == 0)
		return 0;
	if (json) {
		json_t *errs = json_array(), *warns = json_array();
		for (size_t i = 0; errs && i < d->nerr; i++)
			json_array_append_new(errs, error_json(d->errs[i].file, d->errs[i].line, d->errs[i].col,
							       d->errs[i].msg, d->errs[i].text));
		for (size_t i = 0; warns && i < d->nwarn; i++)
			json_array_append_new(warns, warning_json(&d->warn[i]));
		json_t *o = json_pack("{s:b,s:b,s:o,s:o,s:o,s:I,s:o}", "valid", 0, "gateway", 1, "file",
				      pw_json_string(path), "error", error_json(d->err_file, d->err_line, d->err_col,
										d->err_msg, d->error),
				      "errors", errs, "errors_not_shown", (json_int_t)d->nerr_more, "warnings", warns);
		if (pw_json_put(stdout, o) || putchar('\n') == EOF)
			fprintf(stderr, "portwall: writing the JSON failed (out of memory, or stdout closed)\n");
	} else {
		pw_diag_print_errors(d, stderr);
	}
	return -1;
}

/* A line per protected host: where it is named, its policy, that policy's
 * rules and defaults (what reaches the host and what it may send). */
static int print_hosts(const struct pw_gateway *gw)
{
	static const struct pw_col cols[] = { { "PROTECTED HOST", 0 }, { "LINE", SCOLS_FL_RIGHT }, { "POLICY", 0 },
					      { "RULES", SCOLS_FL_RIGHT }, { "IN/OUT", 0 } };
	struct libscols_table *tb = pw_table_new(cols, 5, 0);
	int rc = tb ? 0 : -ENOMEM;

	for (size_t i = 0; i < gw->nhosts && !rc; i++) {
		const struct pw_gw_host *h = &gw->hosts[i];
		const struct pw_gw_policy *pp = &gw->policies[h->policy];
		char a[64], line[16], rules[16], io[32];
		ip_text(&h->ip, a, sizeof(a));
		snprintf(line, sizeof(line), "%d", h->line);
		snprintf(rules, sizeof(rules), "%u", pp->c.nrules);
		snprintf(io, sizeof(io), "%s/%s%s", act_name(pp->pol.dflt[PW_DIR_IN]), act_name(pp->pol.dflt[PW_DIR_OUT]),
			 pp->pol.mode == PW_MODE_MONITOR ? " (monitor)" : "");
		const char *cells[] = { a, line, pp->path, rules, io };
		rc = pw_table_row(tb, cells, 5);
	}
	if (rc) {
		scols_unref_table(tb);
		return rc;
	}
	return pw_table_print(tb, "");
}

/* A line per policy: the hosts it protects, its size, defaults, mode, hash. */
static int print_policies(const struct pw_gateway *gw)
{
	static const struct pw_col cols[] = { { "POLICY", 0 }, { "HOSTS", SCOLS_FL_RIGHT }, { "RULES", SCOLS_FL_RIGHT },
					      { "IN/OUT", 0 }, { "MODE", 0 }, { "HASH (SHA-256)", 0 }, { "NAME", 0 } };
	struct libscols_table *tb = pw_table_new(cols, 7, 0);
	int rc = tb ? 0 : -ENOMEM;

	for (size_t i = 0; i < gw->npolicies && !rc; i++) {
		const struct pw_gw_policy *pp = &gw->policies[i];
		char hash[65], hosts[24], rules[16], io[16];
		size_t nlen = strlen(pp->pol.name) + 3;
		char *name = malloc(nlen);
		if (!name) {
			rc = -ENOMEM;
			break;
		}
		pw_hex(pp->c.hash, sizeof(pp->c.hash), hash);
		hash[16] = '\0';
		snprintf(hosts, sizeof(hosts), "%zu", pp->nhosts);
		snprintf(rules, sizeof(rules), "%u", pp->c.nrules);
		snprintf(io, sizeof(io), "%s/%s", act_name(pp->pol.dflt[PW_DIR_IN]), act_name(pp->pol.dflt[PW_DIR_OUT]));
		snprintf(name, nlen, "\"%s\"", pp->pol.name);
		const char *cells[] = { pp->path, hosts, rules, io,
					pp->pol.mode == PW_MODE_MONITOR ? "monitor" : "enforce", hash, name };
		rc = pw_table_row(tb, cells, 7);
		free(name);
	}
	if (rc) {
		scols_unref_table(tb);
		return rc;
	}
	printf("\n");
	return pw_table_print(tb, "");
}

/* 0, or -errno when a table could not be printed. */
static int print_check_text(const struct pw_gateway *gw, const struct pw_diag *d)
{
	printf("gateway \"%s\" (%s)\ndefault forward %s (line %d): traffic of hosts no protect line names\n\n",
	       gw->name, gw->file, act_name(gw->forward), gw->forward_line);
	int rc = print_hosts(gw);
	if (!rc)
		rc = print_policies(gw);
	if (rc) {
		fprintf(stderr, "portwall check: printing the tables failed: %s\n", strerror(-rc));
		return rc;
	}
	printf("\nhosts: %zu; policies: %zu, each valid (portwall check FILE shows its rules)\n", gw->nhosts,
	       gw->npolicies);
	printf("apply: gateway enforcement is not built yet; test and explain judge packets in userspace\n");
	printf(d->nwarn ? "warnings: %zu\n" : "warnings: none\n", d->nwarn);
	for (size_t i = 0; i < d->nwarn; i++) {
		const struct pw_warning *w = &d->warn[i];
		if (w->line > 0)
			printf("%s:%d: warning: %s\n", w->file, w->line, w->msg);
		else
			printf("%s: warning: %s\n", w->file, w->msg);
	}
	return 0;
}

static json_t *policy_json(const struct pw_gw_policy *pp)
{
	char hash[72] = "sha256:";

	pw_hex(pp->c.hash, sizeof(pp->c.hash), hash + 7);
	return json_pack("{s:o,s:o,s:s,s:I,s:I,s:s,s:{s:s,s:s}}", "file", pw_json_string(pp->path), "policy",
			 pw_json_string(pp->pol.name), "hash", hash, "hosts", (json_int_t)pp->nhosts, "rules",
			 (json_int_t)pp->c.nrules, "mode", pp->pol.mode == PW_MODE_MONITOR ? "monitor" : "enforce",
			 "default", "in", act_name(pp->pol.dflt[PW_DIR_IN]), "out", act_name(pp->pol.dflt[PW_DIR_OUT]));
}

static int print_check_json(const struct pw_gateway *gw, const struct pw_diag *d, bool ok)
{
	json_t *hosts = json_array(), *pols = json_array(), *warns = json_array();
	char a[64];

	for (size_t i = 0; hosts && i < gw->nhosts; i++) {
		ip_text(&gw->hosts[i].ip, a, sizeof(a));
		json_array_append_new(hosts, json_pack("{s:s,s:i,s:o}", "address", a, "line", gw->hosts[i].line,
						       "policy", pw_json_string(gw->policies[gw->hosts[i].policy].path)));
	}
	for (size_t i = 0; pols && i < gw->npolicies; i++)
		json_array_append_new(pols, policy_json(&gw->policies[i]));
	for (size_t i = 0; warns && i < d->nwarn; i++)
		json_array_append_new(warns, warning_json(&d->warn[i]));
	json_t *o = json_pack("{s:b,s:b,s:o,s:o,s:s,s:o,s:o,s:o,s:b}", "valid", ok, "gateway", 1, "file",
			      pw_json_string(gw->file), "name", pw_json_string(gw->name), "default_forward",
			      act_name(gw->forward), "hosts", hosts, "policies", pols, "warnings", warns, "enforced", 0);
	if (pw_json_put(stdout, o) || putchar('\n') == EOF) {
		fprintf(stderr, "portwall check: writing the JSON failed (out of memory, or stdout closed)\n");
		return PW_EXIT_FAIL;
	}
	return ok ? PW_EXIT_OK : PW_EXIT_FAIL;
}

int pw_gateway_check(const char *path, bool json, bool strict)
{
	struct pw_gateway gw;
	struct pw_diag d = { 0 };
	int rc = PW_EXIT_FAIL;

	if (load(path, PW_FILES_WARN, json, &gw, &d)) {
		pw_diag_free(&d);
		return PW_EXIT_FAIL;
	}
	for (size_t i = 0; i < gw.npolicies; i++) {
		if (pw_analyze_ssh(&gw.policies[i].pol, &gw.policies[i].c, NULL, &d)) {
			fprintf(stderr, "%s\n", d.error);
			goto out;
		}
	}
	bool ok = !(strict && d.nwarn);
	if (json) {
		rc = print_check_json(&gw, &d, ok);
	} else {
		rc = print_check_text(&gw, &d) ? PW_EXIT_FAIL : ok ? PW_EXIT_OK : PW_EXIT_FAIL;
	}
	if (!ok)
		fprintf(stderr, "portwall check: %zu warning%s and --strict: not valid\n", d.nwarn,
			d.nwarn == 1 ? "" : "s");
out:
	pw_gateway_free(&gw);
	pw_diag_free(&d);
	return rc;
}

/* "policies/ccp.policy:33" or "default" for an end's deciding rule. */
static void end_where(const struct pw_gw_end *e, char *buf, size_t n)
{
	if (!strcmp(e->reason, "neighbor-discovery") || !strcmp(e->reason, "malformed"))
		snprintf(buf, n, "always");
	else if (e->v.rule == PW_RULE_DEFAULT)
		snprintf(buf, n, "default");
	else
		snprintf(buf, n, "%s:%d", e->pp->pol.rules[e->v.rule - 1].file, e->pp->pol.rules[e->v.rule - 1].line);
}

/* One line of test for a verdict, then a line per other end. */
static void print_test_text(const struct pw_gateway *gw, const struct pw_gw_verdict *v, const char *desc)
{
	char loc[600], a[64], fwd[64];

	if (!v->nends) {
		snprintf(fwd, sizeof(fwd), "%s:%d", gw->file, gw->forward_line);
		printf("%s  %-18s %-28s %s  (no protected host: default forward %s)\n", v->action == PW_PASS ? "PASS" :
		       "DROP", "forward-default", fwd, desc, act_name(gw->forward));
		return;
	}
	for (size_t k = 0; k < v->nends; k++) {
		const struct pw_gw_end *e = &v->end[(v->decider + k) % v->nends];
		end_where(e, loc, sizeof(loc));
		ip_text(&e->host->ip, a, sizeof(a));
		const char *act = e->v.action == PW_PASS ? "PASS" : "DROP";
		const char *end = e->dir == PW_DIR_IN ? "to" : "from";
		const char *lis = e->listener ? ": its listener's segment, by the in rule of its port" : "";
		if (k)
			printf("      and by the other protected end: %s %s %s (%s %s, %s%s)\n", act, e->reason, loc, end,
			       a, e->pp->path, lis);
		else
			printf("%s  %-18s %-28s %s  (%s %s, %s%s)\n", act, e->reason, loc, desc, end, a, e->pp->path, lis);
	}
}

static json_t *end_json(const struct pw_gw_end *e)
{
	char a[64];
	json_t *rule = json_null();

	ip_text(&e->host->ip, a, sizeof(a));
	if (e->v.rule != PW_RULE_DEFAULT && e->v.rule <= e->pp->pol.nrules) {
		const struct pw_rule *r = &e->pp->pol.rules[e->v.rule - 1];
		json_decref(rule);
		rule = json_pack("{s:I,s:o,s:i,s:o}", "id", (json_int_t)r->id, "file", pw_json_string(r->file), "line",
				 r->line, "text", pw_json_string(r->text));
	} else if (strcmp(e->reason, "neighbor-discovery") && strcmp(e->reason, "malformed")) {
		json_decref(rule);
		rule = json_string("default");
	}
	return json_pack("{s:s,s:o,s:s,s:s,s:s,s:o,s:b,s:o}", "host", a, "policy", pw_json_string(e->pp->path),
			 "dir", e->dir == PW_DIR_IN ? "in" : "out", "verdict", e->v.action == PW_PASS ? "PASS" : "DROP",
			 "reason", e->reason, "rule", rule, "listener", e->listener, "explanation",
			 pw_json_string(e->line));
}

static int print_test_json(const struct pw_gateway *gw, const struct pw_gw_verdict *v, const char *desc)
{
	json_t *ends = json_array();

	for (size_t k = 0; ends && k < v->nends; k++)
		json_array_append_new(ends, end_json(&v->end[k]));
	const char *reason = v->nends ? v->end[v->decider].reason : "forward-default";
	json_t *o = json_pack("{s:o,s:s,s:s,s:s,s:o,s:o}", "gateway", pw_json_string(gw->file), "judge", "userspace",
			      "verdict", v->action == PW_PASS ? "PASS" : "DROP", "reason", reason, "ends", ends,
			      "packet", pw_json_string(desc));
	if (pw_json_put(stdout, o) || putchar('\n') == EOF) {
		fprintf(stderr, "portwall test: writing the JSON failed (out of memory, or stdout closed)\n");
		return PW_EXIT_FAIL;
	}
	return PW_EXIT_OK;
}

int pw_gateway_test(const char *path, bool json, const char *script, int argc, char **argv)
{
	struct pw_gateway gw;
	struct pw_diag d = { 0 };
	struct pw_pktspec s;
	struct pw_gw_verdict v;
	char err[512], desc[256];
	int rc = PW_EXIT_USAGE;

	if (script) {
		fprintf(stderr, "portwall test: -f SCRIPT needs flow state, which the gateway datapath (not built "
			"yet) will keep; give one packet per run for a gateway file\n");
		return PW_EXIT_USAGE;
	}
	if (pw_pkt_parse(argc, argv, &s, err, sizeof(err))) {
		fprintf(stderr, "portwall test: %s\n", err);
		return PW_EXIT_USAGE;
	}
	if (s.frag == PW_PKT_FRAG_LATER) {
		fprintf(stderr, "portwall test: a later fragment passes by its first fragment's state, which the "
			"gateway datapath (not built yet) will keep; test the first fragment\n");
		return PW_EXIT_USAGE;
	}
	if (load(path, PW_FILES_ANY, false, &gw, &d)) {
		pw_diag_free(&d);
		return PW_EXIT_FAIL;
	}
	if (pw_gw_judge(&gw, &s, &v, err, sizeof(err))) {
		fprintf(stderr, "portwall test: %s\n", err);
	} else {
		pw_pkt_describe(&s, desc, sizeof(desc));
		if (json) {
			rc = print_test_json(&gw, &v, desc);
		} else {
			printf("gateway \"%s\": %s\n", gw.name, GW_USERSPACE_NOTE);
			print_test_text(&gw, &v, desc);
			rc = PW_EXIT_OK;
		}
	}
	pw_gateway_free(&gw);
	pw_diag_free(&d);
	return rc;
}

/* explain's words DIR PROTO SRC DST [PORT] as a new packet: a bare SYN
 * for tcp, PORT the destination port (the service) or the ICMP type. */
static int explain_spec(int argc, char **argv, struct pw_pktspec *s, char *err, size_t errsz)
{
	struct pw_query q;
	uint8_t fam;

	memset(s, 0, sizeof(*s));
	if (pw_query_parse(argv[0], argv[1], argv[2], argc == 5 ? argv[4] : NULL, &q, err, errsz))
		return -1;
	if (q.name[0])
		return pw_errf(err, errsz, -1, "a gateway's explain takes addresses: %s is a host name", argv[2]);
	if (!pw_addr_parse(argv[3], &fam, s->dst))
		return pw_errf(err, errsz, -1, "DST must be an IPv4 or IPv6 address, got \"%s\"", argv[3]);
	if (fam != q.fam)
		return pw_errf(err, errsz, -1, "SRC %s and DST %s are not of one address family", argv[2], argv[3]);
	s->dir = q.dir;
	s->proto = q.proto;
	s->fam = fam;
	memcpy(s->src, q.addr, 16);
	s->dport = q.port;
	s->icmp_type = (uint8_t)q.port;
	s->tcp_flags = 0x02;
	return 0;
}

static void print_explain(const struct pw_gateway *gw, const struct pw_gw_verdict *v, const char *src,
			  const char *dst)
{
	char a[64];

	if (!v->nends) {
		printf("%s  %s:%d  default forward %s: no protect line names %s or %s\n",
		       v->action == PW_PASS ? "PASS" : "DROP", gw->file, gw->forward_line, act_name(gw->forward), src,
		       dst);
		return;
	}
	for (size_t k = 0; k < v->nends; k++) {
		const struct pw_gw_end *e = &v->end[k];
		ip_text(&e->host->ip, a, sizeof(a));
		printf("%s%s (%s, %s, \"%s\"):\n%s\n", k ? "\n" : "", a, e->dir == PW_DIR_IN ? "in: the packet goes to it" :
		       "out: the packet comes from it", e->pp->path, e->pp->pol.name, e->line);
	}
	if (v->nends == 2)
		printf("\n%s  both protected hosts' policies judge it; it passes only when both allow it\n",
		       v->action == PW_PASS ? "PASS" : "DROP");
}

int pw_gateway_explain(int argc, char **argv, bool json)
{
	struct pw_gateway gw;
	struct pw_diag d = { 0 };
	struct pw_pktspec s;
	struct pw_gw_verdict v;
	char err[512], desc[256];
	int rc = PW_EXIT_USAGE;

	if (argc < 5 || argc > 6) {
		fprintf(stderr, "portwall explain: a gateway file takes GATEWAY DIR PROTO SRC DST [PORT|TYPE], "
			"got %d argument%s\n", argc, argc == 1 ? "" : "s");
		return PW_EXIT_USAGE;
	}
	if (explain_spec(argc - 1, argv + 1, &s, err, sizeof(err))) {
		fprintf(stderr, "portwall explain: %s\n", err);
		return PW_EXIT_USAGE;
	}
	if (load(argv[0], PW_FILES_ANY, false, &gw, &d)) {
		pw_diag_free(&d);
		return PW_EXIT_FAIL;
	}
	if (pw_gw_judge(&gw, &s, &v, err, sizeof(err))) {
		fprintf(stderr, "portwall explain: %s\n", err);
	} else if (json) {
		pw_pkt_describe(&s, desc, sizeof(desc));
		rc = print_test_json(&gw, &v, desc);
	} else {
		print_explain(&gw, &v, argv[3], argv[4]);
		rc = PW_EXIT_OK;
	}
	pw_gateway_free(&gw);
	pw_diag_free(&d);
	return rc;
}

int pw_gateway_refuse(const char *cmd, const char *path)
{
	if (pw_gateway_sniff_file(path) != 1)
		return 0;
	fprintf(stderr, "portwall %s: %s is a gateway file, and gateway enforcement is not built yet: nothing "
		"was changed. `portwall check %s` checks it and every policy it names; `portwall test %s in "
		"PROTO SRC DST` judges a packet by them (docs/gateway.md)\n", cmd, path, path, path);
	return 1;
}

int pw_gateway_policy_only(const char *cmd, const char *path)
{
	if (pw_gateway_sniff_file(path) != 1)
		return 0;
	fprintf(stderr, "portwall %s: %s is a gateway file (docs/gateway.md): %s takes a policy file; give one "
		"of the policies it names\n", cmd, path, cmd);
	return 1;
}
