/* cmd_history.c - the generation store's commands: `history` (the
 * generations kept, who applied each), `show [GENERATION]` (its files as
 * compiled) and `diff [A] [B]` (rule by rule: a generation against
 * another or the file on disk). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <libsmartcols/libsmartcols.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmds.h"
#include "datapath/gens.h"
#include "datapath/state.h"
#include "lib/num.h"
#include "lib/sha256.h"
#include "policy/rdiff.h"

struct hopts {
	const char *root;
	bool json;
	const char *arg[2];
	int narg;
};

static int hopts_parse(int argc, char **argv, const char *cmd, const char *usage, int maxarg, struct hopts *o)
{
	static const struct option lo[] = {
		{ "pin-root", required_argument, NULL, 'p' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->root = PW_PIN_ROOT;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == 'p') {
			o->root = optarg;
		} else if (c == 'j' && !strcmp(cmd, "history")) {
			o->json = true;
		} else {
			fprintf(c == 'h' ? stdout : stderr, "usage: portwall %s %s\n", cmd, usage);
			return c == 'h' ? 1 : -1;
		}
	}
	for (; optind < argc; optind++) {
		if (o->narg == maxarg) {
			fprintf(stderr, "portwall %s: unexpected \"%s\"\nusage: portwall %s %s\n", cmd, argv[optind],
				cmd, usage);
			return -1;
		}
		o->arg[o->narg++] = argv[optind];
	}
	return 0;
}

/* The generation store of root, opened; -1 said. */
static int open_store(const char *cmd, const char *root)
{
	char err[700], dir[2200];
	int fd = pw_gens_open(root, false, err, sizeof(err));

	if (fd == -ENOENT) {
		pw_gens_dir(root, dir, sizeof(dir));
		fprintf(stderr, "portwall %s: no generation is kept for %s (%s does not exist): apply a policy first\n",
			cmd, root, dir);
	} else if (fd < 0) {
		fprintf(stderr, "portwall %s: %s\n", cmd, err);
	}
	return fd;
}

/* What is in force under root: its record (zeroed when none is loaded). */
static void in_force(const char *root, struct pw_meta *m)
{
	struct pw_dp dp;
	char err[600];

	memset(m, 0, sizeof(*m));
	if (pw_dp_open_pinned(&dp, root, err, sizeof(err)))
		return;
	if (pw_dp_read_meta(&dp, m))
		memset(m, 0, sizeof(*m));
	pw_dp_close(&dp);
}

/* A GENERATION argument, or the one in force when arg is NULL. */
static int which_gen(const char *cmd, const char *arg, const struct pw_meta *m, const char *root, uint32_t *gen)
{
	unsigned long v;

	if (arg) {
		if (!pw_ulong(arg, 10, UINT32_MAX, &v) || !v) {
			fprintf(stderr, "portwall %s: \"%s\" is no generation (a number, as `portwall history` shows)\n",
				cmd, arg);
			return -1;
		}
		*gen = (uint32_t)v;
		return 0;
	}
	if (!m->cur.generation) {
		fprintf(stderr, "portwall %s: nothing is loaded under %s: name a GENERATION\n", cmd, root);
		return -1;
	}
	*gen = m->cur.generation;
	return 0;
}

static int read_gen(const char *cmd, int fd, uint32_t gen, struct pw_gen *g)
{
	char err[700];

	if (pw_gen_read(fd, gen, g, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "portwall %s: %s%s\n", cmd, err, err[0] && strstr(err, "not in the store") ?
		" (`portwall history` lists the ones kept)" : "");
	return -1;
}

static const char *gen_role(const struct pw_meta *m, uint32_t gen)
{
	return gen == m->cur.generation ? "in force" : gen == m->prev.generation ? "rollback target" : "";
}

static void when_str(uint64_t unix_s, char *buf, size_t size)
{
	time_t t = (time_t)unix_s;
	struct tm tm;

	strftime(buf, size, "%Y-%m-%d %H:%M:%S %z", localtime_r(&t, &tm));
}

/* "root", "root (sudo alice)", "uid 1000", with " from 192.0.2.7". */
static void who_str(const struct pw_gen *g, char *buf, size_t size)
{
	int o = g->user[0] ? snprintf(buf, size, "%s", g->user) : snprintf(buf, size, "uid %u", g->uid);

	if (g->sudo_user[0] && (size_t)o < size)
		o += snprintf(buf + o, size - (size_t)o, " (sudo %s)", g->sudo_user);
	if (g->ssh_client[0] && (size_t)o < size)
		snprintf(buf + o, size - (size_t)o, " from %s", g->ssh_client);
}

static json_t *gen_json(const struct pw_gen *g, const struct pw_meta *m)
{
	char hex[65];
	json_t *files = json_array();

	pw_hex(g->hash, sizeof(g->hash), hex);
	for (size_t i = 0; i < g->nfiles; i++)
		json_array_append_new(files, json_string(g->paths[i]));
	const char *role = gen_role(m, g->generation);
	return json_pack("{s:I,s:I,s:s+,s:s,s:s,s:s,s:s,s:I,s:s,s:s?,s:s?,s:o,s:s?}", "generation",
			 (json_int_t)g->generation, "applied_unix", (json_int_t)g->applied_unix, "hash", "sha256:", hex,
			 "name", g->name, "file", g->path, "mode", g->mode == PW_MODE_MONITOR ? "monitor" : "enforce",
			 "command", g->cmd, "uid", (json_int_t)g->uid, "user", g->user,
			 "sudo_user", g->sudo_user[0] ? g->sudo_user : NULL,
			 "ssh_client", g->ssh_client[0] ? g->ssh_client : NULL, "files", files,
			 "role", role[0] ? role : NULL);
}

static void gen_row(struct libscols_table *tb, const struct pw_gen *g, const struct pw_meta *m)
{
	struct libscols_line *ln = scols_table_new_line(tb, NULL);
	char num[16], when[64], hex[65], who[200];

	if (!ln)
		return;
	snprintf(num, sizeof(num), "%u", g->generation);
	when_str(g->applied_unix, when, sizeof(when));
	pw_hex(g->hash, sizeof(g->hash), hex);
	hex[16] = '\0';
	who_str(g, who, sizeof(who));
	scols_line_set_data(ln, 0, num);
	scols_line_set_data(ln, 1, when);
	scols_line_set_data(ln, 2, hex);
	scols_line_set_data(ln, 3, g->cmd);
	scols_line_set_data(ln, 4, who);
	scols_line_set_data(ln, 5, g->name);
	scols_line_set_data(ln, 6, gen_role(m, g->generation));
}

static struct libscols_table *history_table(void)
{
	static const char *const cols[] = { "GEN", "APPLIED", "HASH", "BY", "WHO", "POLICY", "NOW" };
	struct libscols_table *tb = scols_new_table();

	for (size_t i = 0; tb && i < sizeof(cols) / sizeof(cols[0]); i++)
		scols_table_new_column(tb, cols[i], 0, i == 5 ? SCOLS_FL_TRUNC : 0);
	return tb;
}

/* Every generation kept, oldest first; one unreadable is said and skipped. */
static int list_history(int fd, const struct hopts *o, const struct pw_meta *m)
{
	uint32_t *gens;
	size_t n;
	struct pw_gen g;
	char err[700];
	json_t *arr = o->json ? json_array() : NULL;
	struct libscols_table *tb = o->json ? NULL : history_table();
	int rc = pw_gen_list(fd, &gens, &n);

	if (rc)
		fprintf(stderr, "portwall history: reading the generation store failed: %s\n", strerror(-rc));
	for (size_t i = 0; !rc && i < n; i++) {
		if (pw_gen_read(fd, gens[i], &g, err, sizeof(err))) {
			fprintf(stderr, "portwall history: %s\n", err);
			continue;
		}
		if (arr)
			json_array_append_new(arr, gen_json(&g, m));
		else if (tb)
			gen_row(tb, &g, m);
		pw_gen_free(&g);
	}
	if (!rc && arr)
		json_dumpf(arr, stdout, JSON_COMPACT), putchar('\n');
	else if (!rc && tb)
		scols_print_table(tb);
	json_decref(arr);
	scols_unref_table(tb);
	if (!rc && n == 0 && !o->json)
		printf("(no generation kept)\n");
	free(gens);
	return rc ? PW_EXIT_FAIL : PW_EXIT_OK;
}

int cmd_history(int argc, char **argv)
{
	struct hopts o;
	struct pw_meta m;
	int r = hopts_parse(argc, argv, "history", "[--json] [--pin-root DIR]", 0, &o);

	if (r)
		return r > 0 ? PW_EXIT_OK : PW_EXIT_USAGE;
	if (pw_need_root("history"))
		return PW_EXIT_FAIL;
	int fd = open_store("history", o.root);
	if (fd < 0)
		return PW_EXIT_FAIL;
	in_force(o.root, &m);
	r = list_history(fd, &o, &m);
	close(fd);
	return r;
}

int cmd_show(int argc, char **argv)
{
	struct hopts o;
	struct pw_meta m;
	struct pw_gen g;
	uint32_t gen;
	int r = hopts_parse(argc, argv, "show", "[GENERATION] [--pin-root DIR]", 1, &o);

	if (r)
		return r > 0 ? PW_EXIT_OK : PW_EXIT_USAGE;
	if (pw_need_root("show"))
		return PW_EXIT_FAIL;
	in_force(o.root, &m);
	if (which_gen("show", o.narg ? o.arg[0] : NULL, &m, o.root, &gen))
		return PW_EXIT_USAGE;
	int fd = open_store("show", o.root);
	if (fd < 0)
		return PW_EXIT_FAIL;
	r = read_gen("show", fd, gen, &g);
	close(fd);
	if (r)
		return PW_EXIT_FAIL;
	/* one file: exactly its text; several: each after a line naming it */
	for (size_t i = 0; i < g.nfiles; i++) {
		if (g.nfiles > 1)
			printf("%s# ==> %s <==\n", i ? "\n" : "", g.paths[i]);
		fwrite(g.src[i].text, 1, g.src[i].len, stdout);
	}
	pw_gen_free(&g);
	return fflush(stdout) ? PW_EXIT_FAIL : PW_EXIT_OK;
}
