/* cmd_diff.c - `portwall diff [A] [B]`: a kept generation against another
 * or against the file on disk, rule by rule (policy/rdiff.h), not text:
 * both sides are compiled. Exit 0: no difference, 1: differences, 2:
 * trouble (as diff(1)). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmds.h"
#include "datapath/gens.h"
#include "datapath/state.h"
#include "lib/num.h"
#include "policy/rdiff.h"

enum { DIFF_SAME = 0, DIFF_DIFFER = 1, DIFF_TROUBLE = 2 };

/* One side: a generation compiled from its stored files, or a file. */
struct side {
	char label[320];
	char path[256];		/* a generation's file, as recorded (absolute) */
	struct pw_policy pol;
	struct pw_compiled c;
	bool have;
};

static int side_gen(int fd, uint32_t gen, struct side *s)
{
	struct pw_gen g;
	struct pw_diag d = { 0 };
	char err[700];

	if (pw_gen_read(fd, gen, &g, err, sizeof(err))) {
		fprintf(stderr, "portwall diff: %s\n", err);
		return -1;
	}
	snprintf(s->label, sizeof(s->label), "generation %u (%s)", gen, g.path);
	snprintf(s->path, sizeof(s->path), "%s", g.path);
	int rc = pw_gen_compile(&g, &s->pol, &s->c, &d);
	if (rc)
		fprintf(stderr, "%s\nportwall diff: generation %u does not compile\n", d.error, gen);
	s->have = rc == 0;
	pw_gen_free(&g);
	pw_diag_free(&d);
	return rc;
}

static int side_file(const char *path, uint8_t mode, struct side *s)
{
	struct pw_diag d = { 0 };

	snprintf(s->label, sizeof(s->label), "%s (the file on disk)", path);
	int rc = pw_policy_parse_file(path, &s->pol, &d);
	if (!rc) {
		s->pol.mode = mode;	/* as the generation was applied: its --mode */
		rc = pw_compile(&s->pol, &s->c, &d);
		if (rc)
			pw_policy_free(&s->pol);
	}
	if (rc)
		fprintf(stderr, "%s\nportwall diff: %s does not compile: nothing to compare it with\n", d.error, path);
	s->have = rc == 0;
	pw_diag_free(&d);
	return rc;
}

static void side_free(struct side *s)
{
	if (s->have) {
		pw_compiled_free(&s->c);
		pw_policy_free(&s->pol);
	}
}

static void rule_line(const char *tag, const struct pw_rule *r)
{
	printf("%s %s:%d: %s%s%s\n", tag, r->file, r->line, r->text, r->comment ? "  # " : "",
	       r->comment ? r->comment : "");
}

static const char *act(uint8_t a)
{
	return a == PW_DROP ? "drop" : "allow";
}

/* The defaults and the mode: lines of their own. */
static int print_settings(const struct side *a, const struct side *b)
{
	static const char *const dir[] = { "in", "out" };
	int n = 0;

	for (int k = 0; k < 2; k++)
		if (a->pol.dflt[k] != b->pol.dflt[k]) {
			printf("~ default %s %s -> default %s %s\n", dir[k], act(a->pol.dflt[k]), dir[k],
			       act(b->pol.dflt[k]));
			n++;
		}
	if (a->c.mode != b->c.mode) {
		printf("~ mode %s -> mode %s\n", a->c.mode == PW_MODE_MONITOR ? "monitor" : "enforce",
		       b->c.mode == PW_MODE_MONITOR ? "monitor" : "enforce");
		n++;
	}
	return n;
}

static int print_diff(const struct side *a, const struct side *b)
{
	struct pw_rdiff *d;
	size_t n, kept;

	if (pw_rdiff(&a->pol, &a->c, &b->pol, &b->c, &d, &n, &kept)) {
		fprintf(stderr, "portwall diff: out of memory\n");
		return DIFF_TROUBLE;
	}
	printf("--- %s\n+++ %s\n", a->label, b->label);
	int settings = print_settings(a, b);
	size_t cnt[4] = { 0 };
	for (size_t i = 0; i < n; i++) {
		const struct pw_rule *ra = d[i].a >= 0 ? &a->pol.rules[d[i].a] : NULL;
		const struct pw_rule *rb = d[i].b >= 0 ? &b->pol.rules[d[i].b] : NULL;
		cnt[d[i].kind]++;
		if (d[i].kind == PW_RD_REMOVED) {
			rule_line("-", ra);
		} else if (d[i].kind == PW_RD_ADDED) {
			rule_line("+", rb);
		} else {
			rule_line(d[i].kind == PW_RD_CHANGED ? "~ was" : "> moved, was", ra);
			rule_line(d[i].kind == PW_RD_CHANGED ? "  now" : "  now", rb);
		}
	}
	bool same = !n && !settings && !memcmp(a->c.hash, b->c.hash, sizeof(a->c.hash));
	printf("%zu rule%s kept, %zu added, %zu removed, %zu changed, %zu moved%s\n", kept, kept == 1 ? "" : "s",
	       cnt[PW_RD_ADDED], cnt[PW_RD_REMOVED], cnt[PW_RD_CHANGED], cnt[PW_RD_MOVED],
	       same ? ": the same policy (same hash)" : n || settings ? "" :
	       ": the rules are the same, their tables are not (peer sets, host names or resolvers differ)");
	free(d);
	return same ? DIFF_SAME : DIFF_DIFFER;
}

static int parse_args(int argc, char **argv, const char **root, uint32_t gen[2], int *ngen)
{
	static const struct option lo[] = {
		{ "pin-root", required_argument, NULL, 'p' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	const char *usage = "usage: portwall diff [A [B]] [--pin-root DIR]\n"
			    "  A against B, A against its file on disk, or the generation in force against its file\n";
	unsigned long v;
	int c;

	*root = PW_PIN_ROOT;
	*ngen = 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c != 'p') {
			fputs(usage, c == 'h' ? stdout : stderr);
			return c == 'h' ? 1 : -1;
		}
		*root = optarg;
	}
	for (; optind < argc; optind++) {
		if (*ngen == 2 || !pw_ulong(argv[optind], 10, UINT32_MAX, &v) || !v) {
			fprintf(stderr, "portwall diff: \"%s\" is %s\n%s", argv[optind], *ngen == 2 ? "one too many" :
				"no generation (a number, as `portwall history` shows)", usage);
			return -1;
		}
		gen[(*ngen)++] = (uint32_t)v;
	}
	return 0;
}

/* The generation in force, when none is named. */
static int gen_in_force(const char *root, uint32_t *gen)
{
	struct pw_dp dp;
	struct pw_meta m;
	char err[600];

	if (pw_dp_open_pinned(&dp, root, err, sizeof(err))) {
		fprintf(stderr, "portwall diff: %s: name a GENERATION\n", err);
		return -1;
	}
	int rc = pw_dp_read_meta(&dp, &m);
	pw_dp_close(&dp);
	if (rc || !m.cur.generation) {
		fprintf(stderr, "portwall diff: nothing is recorded under %s: name a GENERATION\n", root);
		return -1;
	}
	*gen = m.cur.generation;
	return 0;
}

int cmd_diff(int argc, char **argv)
{
	const char *root;
	uint32_t gen[2];
	int ngen, r = parse_args(argc, argv, &root, gen, &ngen);
	struct side a = { 0 }, b = { 0 };
	char err[700];

	if (r)
		return r > 0 ? PW_EXIT_OK : DIFF_TROUBLE;
	if (pw_need_root("diff") || (!ngen && gen_in_force(root, &gen[ngen++])))
		return DIFF_TROUBLE;
	int fd = pw_gens_open(root, false, err, sizeof(err));
	if (fd < 0) {
		fprintf(stderr, "portwall diff: %s\n", fd == -ENOENT ? "no generation is kept for this pin root" : err);
		return DIFF_TROUBLE;
	}
	r = side_gen(fd, gen[0], &a);
	if (!r && ngen == 2)
		r = side_gen(fd, gen[1], &b);
	close(fd);
	if (!r && ngen == 1)
		r = side_file(a.path, a.c.mode, &b);
	r = r ? DIFF_TROUBLE : print_diff(&a, &b);
	side_free(&a);
	side_free(&b);
	return r;
}
