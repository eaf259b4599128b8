/* cmd_allow.c - `portwall allow --for DURATION RULE [--comment TEXT]`,
 * `portwall allow --list [--json]`, `portwall allow --remove ID`: timed
 * exceptions, added to the policy in force without editing its file (a
 * vendor's support session). The datapath ends one at its expiry by
 * itself (datapath/exc.h, docs/policy.md); `run` deletes expired entries. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libsmartcols/libsmartcols.h>

#include "cli/cmds.h"
#include "cli/table.h"
#include "datapath/exc.h"
#include "datapath/loader.h"
#include "datapath/state.h"

enum { A_ADD, A_LIST, A_REMOVE };

struct allow_opts {
	int action;
	const char *root, *dur, *comment;
	bool json, wide;
	uint32_t id;
	struct pw_exc_spec sp;
};

static void usage(FILE *f)
{
	fputs("usage: portwall allow --for DURATION in|out tcp|udp port N[-M] from|to PEER\n"
	      "                      [--comment TEXT] [--wide-peer] [--pin-root DIR]\n"
	      "       portwall allow --list [--json] [--pin-root DIR]\n"
	      "       portwall allow --remove ID [--pin-root DIR]\n"
	      "  A timed exception: the rule is added to the policy in force, both halves,\n"
	      "  without editing its file, and kept across reloads and rollbacks until it\n"
	      "  expires. DURATION: 90s, 30m, 2h, 1d (at most 7d). One protocol, one port or\n"
	      "  a range of at most 16, one peer address or prefix (no wider than /16 for\n"
	      "  IPv4, /48 for IPv6 without --wide-peer; never any). in: PEER may reach\n"
	      "  local port N; out: the host may reach PEER's port N, and only the answers\n"
	      "  of the flows it opens so come back (tracked, as connection tracking does).\n"
	      "  At expiry the datapath refuses its new connections and ends the flows it\n"
	      "  let through, whether or not `portwall run` is running (run deletes\n"
	      "  expired entries).\n", f);
}

/* The option letters into o; -1 on a bad one (said). */
static int option(int c, struct allow_opts *o)
{
	char *end;

	switch (c) {
	case 'f': o->dur = optarg; return 0;
	case 'c': o->comment = optarg; return 0;
	case 'w': o->wide = true; return 0;
	case 'j': o->json = true; return 0;
	case 'p': o->root = optarg; return 0;
	case 'l': o->action = A_LIST; return 0;
	case 'r':
		o->action = A_REMOVE;
		errno = 0;
		unsigned long v = strtoul(optarg, &end, 10);
		if (!errno && end != optarg && !*end && optarg[0] != '-' && v > 0 && v <= UINT32_MAX) {
			o->id = (uint32_t)v;
			return 0;
		}
		fprintf(stderr, "portwall allow: --remove takes an exception's id (portwall allow --list), got \"%s\"\n",
			optarg);
		return -1;
	default:
		usage(stderr);
		return -1;
	}
}

/* The words after the options, checked against the action. 0 or -1 (said). */
static int check_words(int argc, char **argv, struct allow_opts *o)
{
	char err[400];
	int nw = argc - optind;

	if (o->action != A_ADD) {
		if (nw || o->dur || o->comment || o->wide) {
			fprintf(stderr, "portwall allow: --%s takes no rule, --for, --comment or --wide-peer\n",
				o->action == A_LIST ? "list" : "remove");
			return -1;
		}
		return 0;
	}
	if (o->json) {
		fprintf(stderr, "portwall allow: --json goes with --list\n");
		return -1;
	}
	if (!o->dur) {
		fprintf(stderr, "portwall allow: say how long with --for DURATION (e.g. --for 2h): an exception "
			"always ends\n");
		return -1;
	}
	if (pw_exc_duration(o->dur, &o->sp.secs, err, sizeof(err)) ||
	    pw_exc_parse(nw, argv + optind, o->wide, &o->sp, err, sizeof(err))) {
		fprintf(stderr, "portwall allow: %s\n", err);
		return -1;
	}
	if (o->comment && strlen(o->comment) >= sizeof(o->sp.comment)) {
		fprintf(stderr, "portwall allow: --comment is %zu bytes; at most %zu\n", strlen(o->comment),
			sizeof(o->sp.comment) - 1);
		return -1;
	}
	snprintf(o->sp.comment, sizeof(o->sp.comment), "%s", o->comment ? o->comment : "");
	return 0;
}

/* What the words and options say, checked; 0, 1 after --help, -1 (said). */
static int parse(int argc, char **argv, struct allow_opts *o)
{
	static const struct option lo[] = {
		{ "for", required_argument, NULL, 'f' }, { "comment", required_argument, NULL, 'c' },
		{ "wide-peer", no_argument, NULL, 'w' }, { "list", no_argument, NULL, 'l' },
		{ "remove", required_argument, NULL, 'r' }, { "json", no_argument, NULL, 'j' },
		{ "pin-root", required_argument, NULL, 'p' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	int c, actions = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 1;
		}
		actions += c == 'l' || c == 'r';
		if (option(c, o))
			return -1;
	}
	if (actions > 1) {
		fprintf(stderr, "portwall allow: give one of --list and --remove\n");
		return -1;
	}
	return check_words(argc, argv, o);
}

enum { C_ID, C_DIR, C_PROTO, C_PORT, C_PEER, C_LEFT, C_EXPIRES, C_COMMENT, C_COUNT };

static const struct pw_listcol COLS[C_COUNT] = {
	[C_ID] = { "ID", 3, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER },
	[C_DIR] = { "DIR", 3, 0, SCOLS_JSON_STRING },
	[C_PROTO] = { "PROTO", 5, 0, SCOLS_JSON_STRING },
	[C_PORT] = { "PORT", 5, SCOLS_FL_RIGHT, SCOLS_JSON_STRING },
	[C_PEER] = { "PEER", 16, 0, SCOLS_JSON_STRING },
	[C_LEFT] = { "LEFT", 6, SCOLS_FL_RIGHT, SCOLS_JSON_STRING },
	[C_EXPIRES] = { "EXPIRES", 6, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER },
	[C_COMMENT] = { "COMMENT", 20, SCOLS_FL_TRUNC, SCOLS_JSON_STRING },
};

/* One exception's line: EXPIRES is the seconds left (0: expired, not yet
 * deleted), LEFT the same for reading. */
static int fill_line(struct libscols_line *ln, const struct pw_exc_row *r)
{
	char v[C_COUNT][80];

	snprintf(v[C_ID], sizeof(v[C_ID]), "%u", r->id);
	snprintf(v[C_DIR], sizeof(v[C_DIR]), "%s", r->dir == PW_DIR_IN ? "in" : "out");
	snprintf(v[C_PROTO], sizeof(v[C_PROTO]), "%s", r->proto == 6 ? "tcp" : "udp");
	if (r->port_lo == r->port_hi)
		snprintf(v[C_PORT], sizeof(v[C_PORT]), "%u", r->port_lo);
	else
		snprintf(v[C_PORT], sizeof(v[C_PORT]), "%u-%u", r->port_lo, r->port_hi);
	pw_prefix_format(&r->peer, v[C_PEER], sizeof(v[C_PEER]), true);
	pw_exc_left(r->left_s, v[C_LEFT], sizeof(v[C_LEFT]));
	snprintf(v[C_EXPIRES], sizeof(v[C_EXPIRES]), "%lld", (long long)r->left_s);
	snprintf(v[C_COMMENT], sizeof(v[C_COMMENT]), "%s", r->comment);
	for (int c = 0; c < C_COUNT; c++)
		if ((v[c][0] || c != C_COMMENT) && scols_line_set_data(ln, (size_t)c, v[c]))
			return -ENOMEM;
	return 0;
}

static int print_rows(const struct pw_exc_row *rows, int n, bool json)
{
	struct libscols_table *tb = pw_list_table("exceptions", COLS, C_COUNT, json);
	int rc = tb ? 0 : -ENOMEM;

	for (int i = 0; i < n && !rc; i++) {
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		rc = ln ? fill_line(ln, &rows[i]) : -ENOMEM;
	}
	if (!rc && scols_print_table(tb))
		rc = -EIO;
	scols_unref_table(tb);
	return rc;
}

static int do_list(const struct pw_dp *dp, const struct allow_opts *o)
{
	static struct pw_exc_row rows[PW_EXC_CAPACITY];
	int n, rc = pw_exc_list(dp, rows, PW_EXC_CAPACITY, &n);

	if (!rc && !n && !o->json) {
		printf("no timed exceptions (portwall allow --for DURATION RULE adds one)\n");
		return PW_EXIT_OK;
	}
	if (!rc)
		rc = print_rows(rows, n, o->json);
	if (rc) {
		fprintf(stderr, "portwall allow: listing the exceptions failed: %s\n", strerror(-rc));
		return PW_EXIT_FAIL;
	}
	return PW_EXIT_OK;
}

static int do_add(struct pw_dp *dp, const struct allow_opts *o)
{
	char err[600], what[160], left[24];
	uint32_t id;

	if (pw_exc_add(dp, &o->sp, &id, err, sizeof(err))) {
		fprintf(stderr, "portwall allow: %s\n", err);
		return PW_EXIT_FAIL;
	}
	pw_exc_format(o->sp.dir, o->sp.proto, o->sp.port_lo, o->sp.port_hi, &o->sp.peer, what, sizeof(what));
	pw_exc_left((int64_t)o->sp.secs, left, sizeof(left));
	printf("exception %u: allow %s for %s (portwall allow --remove %u ends it sooner)\n", id, what, left, id);
	return PW_EXIT_OK;
}

static int do_remove(struct pw_dp *dp, const struct allow_opts *o)
{
	char err[600];

	if (pw_exc_remove(dp, o->id, err, sizeof(err))) {
		fprintf(stderr, "portwall allow: %s\n", err);
		return PW_EXIT_FAIL;
	}
	printf("exception %u removed: its port is closed to its peer again, its flows end\n", o->id);
	return PW_EXIT_OK;
}

int cmd_allow(int argc, char **argv)
{
	struct allow_opts o = { .action = A_ADD, .root = PW_PIN_ROOT };
	int p = parse(argc, argv, &o), lock = -1, rc;
	char err[600];
	struct pw_dp dp;

	if (p)
		return p > 0 ? PW_EXIT_OK : PW_EXIT_USAGE;
	if (pw_need_root("allow"))
		return PW_EXIT_FAIL;
	/* pw_state.exceptions is read and written back: no reload between */
	if (o.action != A_LIST && (lock = pw_lock(o.root, err, sizeof(err))) < 0) {
		fprintf(stderr, "portwall allow: %s\n", err);
		return PW_EXIT_FAIL;
	}
	if ((rc = pw_dp_open_pinned(&dp, o.root, err, sizeof(err)))) {
		if (rc == -ENOENT)
			fprintf(stderr, "portwall allow: nothing is applied under %s: apply a policy first "
				"(portwall apply POLICY)\n", o.root);
		else
			fprintf(stderr, "portwall allow: %s\n", err);
		if (lock >= 0)
			close(lock);
		return PW_EXIT_FAIL;
	}
	rc = o.action == A_LIST ? do_list(&dp, &o) : o.action == A_ADD ? do_add(&dp, &o) : do_remove(&dp, &o);
	pw_dp_close(&dp);
	if (lock >= 0)
		close(lock);
	return rc;
}
