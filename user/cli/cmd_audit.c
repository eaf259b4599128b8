/* cmd_audit.c - `portwall audit [POLICY]`: the host against the policy.
 * Listeners no rule lets in, in rules nothing listens behind, outbound
 * flows of the loaded datapath only `default out allow` lets out, rules
 * that never matched since apply. Judged by policy/audit.c; the sockets
 * are read by datapath/listeners.c, the flows by datapath/ct_flush.c. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmds.h"
#include "datapath/listeners.h"
#include "datapath/state.h"
#include "datapath/status.h"
#include "lib/json.h"
#include "policy/audit.h"

#define USAGE "usage: portwall audit [POLICY] [--json] [--strict] [--netns NAME] [--pin-root DIR]\n"

struct audit_opts {
	const char *root, *netns, *policy;
	bool json, strict;
};

/* What audit judges against, and what it could read. */
struct audit_ctx {
	struct pw_dp dp;
	bool have_dp;		/* a portwall is loaded under the pin root */
	struct pw_applied a;	/* its record, with have_dp */
	struct pw_policy pol;	/* POLICY, when given */
	struct pw_compiled c;
	bool own;		/* pol/c are POLICY's (to free) */
	const struct pw_policy *p;	/* the policy judged against */
	const struct pw_compiled *pc;
	bool in_force;		/* p is the policy in force: its counters count */
	bool counted;		/* its rules' counters were judged */
	bool dp_here;		/* the datapath works in the audited namespace */
	const char *netns;	/* the audited namespace, NULL: this one */
	size_t nlisteners, nflows;
};

/* -1 to go on, or the exit code (--help, a bad option). */
static int audit_options(int argc, char **argv, struct audit_opts *o)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' }, { "strict", no_argument, NULL, 's' },
		{ "pin-root", required_argument, NULL, 'p' }, { "netns", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};
	int c;

	*o = (struct audit_opts){ .root = PW_PIN_ROOT };
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'j': o->json = true; break;
		case 's': o->strict = true; break;
		case 'p': o->root = optarg; break;
		case 'n': o->netns = optarg; break;
		case 'h':
			printf(USAGE "  POLICY defaults to the policy in force under the pin root.\n"
			       "  Exit: 0, or with --strict 1 when there are findings; 2 usage.\n");
			return PW_EXIT_OK;
		default:
			fprintf(stderr, "portwall audit: unknown option \"%s\"\n" USAGE, argv[optind - 1]);
			return PW_EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, "portwall audit: expected at most one POLICY, got %d arguments\n" USAGE, argc - optind);
		return PW_EXIT_USAGE;
	}
	o->policy = optind < argc ? argv[optind] : NULL;
	return -1;
}

/* Open the datapath under o->root when one is loaded. 0, or -1 with a
 * message when it is loaded but cannot be read. */
static int open_dp(const struct audit_opts *o, struct audit_ctx *x)
{
	char err[600];
	int rc = pw_dp_open_pinned(&x->dp, o->root, err, sizeof(err));

	if (rc == -ENOENT)
		return 0;
	if (rc) {
		fprintf(stderr, "portwall audit: %s\n", err);
		return -1;
	}
	rc = pw_applied_read(&x->dp, &x->a);
	if (rc) {
		fprintf(stderr, "portwall audit: reading the policy record under %s failed: %s\n", o->root,
			strerror(-rc));
		pw_dp_close(&x->dp);
		return -1;
	}
	x->have_dp = true;
	return 0;
}

/* The policy to judge against: POLICY, or the one in force. 0 or -1. */
static int pick_policy(const struct audit_opts *o, struct audit_ctx *x)
{
	struct pw_diag d = { 0 };

	if (o->policy) {
		if (pw_gateway_policy_only("audit", o->policy))
			return -1;
		int rc = pw_load_policy(o->policy, &x->pol, &x->c, &d);
		pw_diag_free(&d);
		if (rc)
			return -1;
		x->own = true;
		x->p = &x->pol;
		x->pc = &x->c;
		x->in_force = x->have_dp && !memcmp(x->c.hash, x->a.meta.cur.hash, sizeof(x->c.hash));
		return 0;
	}
	if (!x->have_dp) {
		fprintf(stderr, "portwall audit: no portwall is loaded under %s: give the POLICY file to audit "
			"against, or the --pin-root of the one in force\n", o->root);
		return -1;
	}
	if (!x->a.have_rules || !x->a.same) {
		fprintf(stderr, "portwall audit: the file of the policy in force (%s) no longer compiles to the "
			"tables in force: give the POLICY file to audit against\n", x->a.meta.cur.path);
		return -1;
	}
	x->p = &x->a.pol;
	x->pc = &x->a.c;
	x->in_force = true;
	return 0;
}

static int no_memory(const char *what)
{
	fprintf(stderr, "portwall audit: out of memory judging %s: free some memory and run it again\n", what);
	return -1;
}

/* The listeners of the audited namespace, judged. 0 or -1. */
static int audit_sockets(struct audit_ctx *x, struct pw_findings *f)
{
	struct pw_listener *l = NULL;
	char err[600];
	int rc = pw_listeners_read(x->netns, &l, &x->nlisteners, err, sizeof(err));

	if (rc) {
		fprintf(stderr, "portwall audit: %s\n", err);
		return -1;
	}
	rc = pw_audit_sockets(x->p, x->pc, l, x->nlisteners, f);
	free(l);
	return rc ? no_memory("the listeners") : 0;
}

/* For the policy in force with host names: which flows the kernel lets out
 * by a rule (an address learned for a name, which the compiled policy does
 * not know). NULL when there are none to ask about, or they cannot be read. */
static bool *flows_learned(const struct audit_ctx *x, const struct pw_ct_key *k)
{
	if (!x->in_force || !x->pc->nnames || !x->nflows)
		return NULL;
	bool *b = calloc(x->nflows, sizeof(*b));
	if (b && pw_dp_flows_by_rule(&x->dp, k, x->nflows, b)) {
		fprintf(stderr, "portwall audit: reading the tables in force failed: flows to addresses learned for "
			"host names may be reported as let out by the default\n");
		free(b);
		return NULL;
	}
	return b;
}

/* The flows of the loaded datapath, and its counters when p is in force. */
static int audit_datapath(struct audit_ctx *x, struct pw_findings *f)
{
	struct pw_ct_key *k;
	int rc = pw_dp_host_flows(&x->dp, &k, &x->nflows);
	bool *learned = rc ? NULL : flows_learned(x, k);

	for (size_t i = 0; !rc && i < x->nflows; i++)
		if (!learned || !learned[i])
			rc = pw_audit_flow(x->p, x->pc, &k[i], f);
	free(learned);
	free(k);
	if (rc)
		return no_memory("the tracked flows");
	if (!x->in_force)
		return 0;
	struct pw_counts n;
	rc = pw_counts_read(&x->dp, &x->a, 1, NULL, &n);
	if (rc) {
		fprintf(stderr, "portwall audit: reading the rules' counters failed: %s\n", strerror(-rc));
		return -1;
	}
	/* counted by rule id only while the record's file compiles to the
	 * tables in force (pw_applied_nrules): else none judged */
	uint64_t *pk = n.nrules == x->p->nrules ? calloc(x->p->nrules + 1, sizeof(*pk)) : NULL;
	for (uint32_t id = 1; pk && id <= n.nrules; id++)
		pk[id] = n.rule[id][PW_DIR_IN].packets + n.rule[id][PW_DIR_OUT].packets;
	rc = pk ? pw_audit_unmatched(x->p, pk, f) : 0;
	x->counted = pk != NULL;
	free(pk);
	pw_counts_free(&n);
	return rc ? no_memory("the rules' counters") : 0;
}

/* What the datapath parts could judge, in words. */
static const char *dp_words(const struct audit_ctx *x)
{
	if (!x->have_dp)
		return "no portwall loaded: no flows or counters judged";
	if (!x->dp_here)
		return "the portwall loaded works in another network namespace: its flows and counters not judged";
	if (!x->in_force)
		return "another policy is in force: its flows judged, its counters not";
	if (!x->counted)
		return "the policy in force, whose file changed since apply: its flows judged, its counters not "
		       "(apply or reload it)";
	return "the policy in force: its flows and counters judged";
}

static void print_text(const struct audit_ctx *x, const struct pw_findings *f)
{
	printf("audit of policy \"%s\" (%s) against %s%s: %zu listening socket%s, %zu tracked outbound flow%s; "
	       "%s\n", x->p->name, x->p->files[0], x->netns ? "network namespace " : "this host",
	       x->netns ? x->netns : "", x->nlisteners, x->nlisteners == 1 ? "" : "s", x->nflows,
	       x->nflows == 1 ? "" : "s", dp_words(x));
	for (size_t i = 0; i < f->n; i++)
		printf("%s:%d: %s\n", f->v[i].file, f->v[i].line, f->v[i].text);
	printf("%zu finding%s\n", f->n, f->n == 1 ? "" : "s");
}

static void print_json(const struct audit_ctx *x, const struct pw_findings *f)
{
	printf("{\"policy\":{\"name\":");
	pw_json_str(stdout, x->p->name);
	printf(",\"file\":");
	pw_json_str(stdout, x->p->files[0]);
	printf(",\"in_force\":%s},\"netns\":", x->in_force ? "true" : "false");
	pw_json_str(stdout, x->netns);
	printf(",\"datapath\":%s,\"counters\":%s,\"listeners\":%zu,\"flows\":%zu,\"findings\":[",
	       x->have_dp && x->dp_here ? "true" : "false", x->counted ? "true" : "false", x->nlisteners, x->nflows);
	for (size_t i = 0; i < f->n; i++) {
		printf("%s{\"kind\":\"%s\",\"file\":", i ? "," : "", pw_finding_names[f->v[i].kind]);
		pw_json_str(stdout, f->v[i].file);
		printf(",\"line\":%d,\"rule\":%u,\"text\":", f->v[i].line, f->v[i].rule);
		pw_json_str(stdout, f->v[i].text);
		printf("}");
	}
	printf("],\"count\":%zu}\n", f->n);
}

static void ctx_free(struct audit_ctx *x)
{
	if (x->own) {
		pw_compiled_free(&x->c);
		pw_policy_free(&x->pol);
	}
	if (x->have_dp) {
		pw_applied_free(&x->a);
		pw_dp_close(&x->dp);
	}
}

int cmd_audit(int argc, char **argv)
{
	struct audit_opts o;
	int rc = audit_options(argc, argv, &o);

	if (rc >= 0)
		return rc;
	if (pw_need_root("audit"))
		return PW_EXIT_FAIL;
	struct audit_ctx x = { 0 };
	struct pw_findings f = { 0 };
	if (open_dp(&o, &x))
		return PW_EXIT_FAIL;
	rc = pick_policy(&o, &x);
	if (!rc) {
		/* the namespace the loaded portwall works in, unless told */
		x.netns = o.netns ? o.netns : x.have_dp && x.a.meta.netns[0] ? x.a.meta.netns : NULL;
		x.dp_here = x.have_dp && strcmp(x.netns ? x.netns : "", x.a.meta.netns) == 0;
		rc = audit_sockets(&x, &f);
	}
	if (!rc && x.dp_here)
		rc = audit_datapath(&x, &f);
	if (!rc && o.json)
		print_json(&x, &f);
	else if (!rc)
		print_text(&x, &f);
	int code = rc ? PW_EXIT_FAIL : o.strict && f.n ? PW_EXIT_FAIL : PW_EXIT_OK;
	pw_findings_free(&f);
	ctx_free(&x);
	return code;
}
