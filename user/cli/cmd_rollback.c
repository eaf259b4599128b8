/* cmd_rollback.c - `portwall rollback`: the previous generation at once
 * (it is still in the half not in force); `portwall confirm`: keep what an
 * `apply --confirm` put in force; and the watchdog that rolls back when
 * nobody confirms. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "datapath/state.h"
#include "datapath/attach.h"
#include "lib/num.h"
#include "datapath/unload.h"
#include "datapath/rollback.h"
#include "datapath/gens.h"
#include "cli/cmds.h"

/* pw_dp_rollback, and what it did beside the switch on stderr. */
static int rollback(struct pw_dp *dp, struct pw_meta *m, char *err, size_t n)
{
	struct pw_rollback r;
	int rc = pw_dp_rollback(dp, m, &r, err, n);

	if (rc)
		return rc;
	if (r.not_renewed[0])
		fprintf(stderr, "portwall rollback: note: %s%s\n", r.not_renewed, r.renewed ? "" :
			": the restored policy keeps the addresses its host names learned while it was in force "
			"before, until the next apply");
	if (r.carry_failed)
		fprintf(stderr, "portwall rollback: carrying rule counters over failed (they restart at 0)\n");
	if (r.ended < 0)
		fprintf(stderr, "portwall rollback: ending the flows the restored policy refuses failed: %s\n",
			strerror(-r.ended));
	pw_print_revoked("rollback", "restored", &r.revoked, r.revoke_tcp_rc);
	return 0;
}

static const char *want_netns;	/* --netns given: must be the instance's */
static const char *gen_arg;	/* rollback GENERATION */

static int root_opt(int argc, char **argv, const char *cmd, const char **root)
{
	bool rb = strcmp(cmd, "rollback") == 0;

	static const struct option lo[] = {
		{ "pin-root", required_argument, NULL, 'p' }, { "netns", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};
	int c;

	*root = PW_PIN_ROOT;
	want_netns = NULL;
	gen_arg = NULL;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == 'p') {
			*root = optarg;
		} else if (c == 'n') {
			want_netns = optarg;
		} else {
			FILE *f = c == 'h' ? stdout : stderr;
			fprintf(f, "usage: portwall %s%s [--pin-root DIR] [--netns NAME]\n", cmd, rb ? " [GENERATION]" : "");
			return c == 'h' ? 1 : -1;
		}
	}
	if (rb && optind + 1 == argc)
		gen_arg = argv[optind++];
	if (optind != argc) {
		fprintf(stderr, "portwall %s: unexpected \"%s\"\n", cmd, argv[optind]);
		return -1;
	}
	return 0;
}

/* Open, lock and read meta; 0 or an exit code. */
static int open_locked(const char *cmd, const char *root, struct pw_dp *dp, struct pw_meta *m, int *lock)
{
	char err[600];

	if (pw_need_root(cmd))
		return PW_EXIT_FAIL;
	*lock = pw_lock(root, err, sizeof(err));
	if (*lock < 0) {
		fprintf(stderr, "portwall %s: %s\n", cmd, err);
		return PW_EXIT_FAIL;
	}
	if (pw_dp_open_pinned(dp, root, err, sizeof(err))) {
		fprintf(stderr, "portwall %s: %s\n", cmd, err);
		close(*lock);
		return PW_EXIT_FAIL;
	}
	if (pw_dp_read_meta(dp, m)) {
		fprintf(stderr, "portwall %s: reading what is applied failed: %s\n", cmd, strerror(errno));
		pw_dp_close(dp);
		close(*lock);
		return PW_EXIT_FAIL;
	}
	if (want_netns && strcmp(want_netns, m->netns) != 0) {
		fprintf(stderr, "portwall %s: the portwall under %s works in network namespace \"%s\", not \"%s\"; "
			"give its --pin-root\n", cmd, root, m->netns, want_netns);
		pw_dp_close(dp);
		close(*lock);
		return PW_EXIT_FAIL;
	}
	return 0;
}

/* The record under root (unlocked: the apply transaction locks). */
static int read_record(const char *root, struct pw_meta *m)
{
	struct pw_dp dp;
	char err[600];

	if (pw_need_root("rollback"))
		return -1;
	if (pw_dp_open_pinned(&dp, root, err, sizeof(err))) {
		fprintf(stderr, "portwall rollback: %s\n", err);
		return -1;
	}
	int rc = pw_dp_read_meta(&dp, m);
	pw_dp_close(&dp);
	if (rc || !m->cur.generation) {
		fprintf(stderr, "portwall rollback: no policy is recorded under %s; use apply\n", root);
		return -1;
	}
	if (want_netns && strcmp(want_netns, m->netns) != 0) {
		fprintf(stderr, "portwall rollback: the portwall under %s works in network namespace \"%s\", not "
			"\"%s\"; give its --pin-root\n", root, m->netns, want_netns);
		return -1;
	}
	return 0;
}

/* rollback GENERATION: that kept generation's files, compiled again, and
 * applied as a reload is (atomic; rollback's target is then what was in
 * force). A generation with the hash in force changes nothing. */
static int rollback_to(const char *root, const char *arg)
{
	static struct pw_meta m;
	struct pw_gen g;
	unsigned long v;
	char err[700];

	if (!pw_ulong(arg, 10, UINT32_MAX, &v) || !v) {
		fprintf(stderr, "portwall rollback: \"%s\" is no generation (a number, as `portwall history` shows)\n",
			arg);
		return PW_EXIT_USAGE;
	}
	if (read_record(root, &m))
		return PW_EXIT_FAIL;
	int fd = pw_gens_open(root, false, err, sizeof(err));
	if (fd < 0 || pw_gen_read(fd, (uint32_t)v, &g, err, sizeof(err))) {
		fprintf(stderr, "portwall rollback: %s; nothing was changed\n",
			fd == -ENOENT ? "no generation is kept for this pin root" : err);
		if (fd >= 0)
			close(fd);
		return PW_EXIT_FAIL;
	}
	close(fd);
	char cmd[32];
	snprintf(cmd, sizeof(cmd), "rollback %lu", v);
	struct pw_apply_opts o = { .root = root, .mode = -1, .resolve_ms = -1, .follow_records = true,
				   .policy = g.path, .netns = m.netns[0] ? m.netns : NULL, .cmd = cmd, .from_gen = &g };
	int r = pw_apply(o);
	pw_gen_free(&g);
	return r;
}

int cmd_rollback(int argc, char **argv)
{
	const char *root;
	int r = root_opt(argc, argv, "rollback", &root), lock;
	struct pw_dp dp;
	struct pw_meta m;
	char err[300];

	if (r)
		return r > 0 ? PW_EXIT_OK : PW_EXIT_USAGE;
	if (gen_arg)
		return rollback_to(root, gen_arg);
	if ((r = open_locked("rollback", root, &dp, &m, &lock)) != 0)
		return r;
	r = rollback(&dp, &m, err, sizeof(err));
	if (r)
		fprintf(stderr, "portwall rollback: %s\n", err);
	else
		printf("rolled back to \"%s\" (generation %u)\n", m.cur.name, m.cur.generation);
	pw_dp_close(&dp);
	close(lock);
	return r ? PW_EXIT_FAIL : PW_EXIT_OK;
}

int cmd_confirm(int argc, char **argv)
{
	const char *root;
	int r = root_opt(argc, argv, "confirm", &root), lock;
	struct pw_dp dp;
	struct pw_meta m;

	if (r)
		return r > 0 ? PW_EXIT_OK : PW_EXIT_USAGE;
	if ((r = open_locked("confirm", root, &dp, &m, &lock)) != 0)
		return r;
	if (!m.confirm_pending) {
		printf("nothing to confirm: generation %u is in force\n", m.cur.generation);
	} else {
		m.confirm_pending = 0;
		m.confirm_token = 0;
		m.confirm_deadline = 0;
		if (pw_dp_write_meta(&dp, &m))
			r = PW_EXIT_FAIL;
		else
			printf("confirmed generation %u (\"%s\")\n", m.cur.generation, m.cur.name);
	}
	pw_dp_close(&dp);
	close(lock);
	return r;
}

/* portwall _watchdog ROOT TOKEN SECONDS (started by apply --confirm): it
 * acts only on the load and the apply it was started for (meta still holds
 * TOKEN), so one left from an earlier load, or replaced since, does
 * nothing. */
int cmd_watchdog(int argc, char **argv)
{
	if (argc != 4)
		return PW_EXIT_USAGE;
	const char *root = argv[1];
	unsigned long token, s;
	if (!pw_ulong(argv[2], 16, ~0ul, &token) || !pw_ulong(argv[3], 10, 3600, &s))
		return PW_EXIT_USAGE;
	unsigned secs = (unsigned)s;
	struct pw_dp dp;
	struct pw_meta m;
	char err[600];
	int lock;

	openlog("portwall", LOG_PID, LOG_DAEMON);
	if (secs > 3600)
		secs = 3600;
	sleep(secs);
	char meta_pin[600];
	snprintf(meta_pin, sizeof(meta_pin), "%s/pw_meta", root);
	if (access(meta_pin, F_OK))
		return PW_EXIT_OK;	/* unloaded since: nothing to undo, no lock file to make */
	if (open_locked("_watchdog", root, &dp, &m, &lock))
		return PW_EXIT_FAIL;
	if (!m.confirm_pending || !token || m.confirm_token != token) {
		pw_dp_close(&dp);
		close(lock);
		return PW_EXIT_OK;	/* confirmed, or replaced since */
	}
	uint32_t gen = m.cur.generation;
	if (m.prev.generation) {
		if (rollback(&dp, &m, err, sizeof(err)))
			syslog(LOG_ERR, "generation %u not confirmed; rolling back failed: %s", gen, err);
		else
			syslog(LOG_WARNING, "generation %u not confirmed within %u s: rolled back to generation %u",
			       gen, secs, m.cur.generation);
		pw_dp_close(&dp);
		close(lock);
		return PW_EXIT_OK;
	}
	if (m.confirm_pending != PW_CONFIRM_FIRST) {
		/* a reload whose previous half a failed or killed apply has
		 * since begun to overwrite: nothing whole to go back to, and
		 * unloading a firewall the operator replaced is not undoing */
		syslog(LOG_ERR, "generation %u not confirmed within %u s, but the previous policy is gone (an "
		       "apply after it did not finish): left in force; run `portwall apply` or `portwall unload`",
		       gen, secs);
		pw_dp_close(&dp);
		close(lock);
		return PW_EXIT_FAIL;
	}
	/* the first apply: nothing to go back to but no portwall at all,
	 * unloaded as `portwall unload` does (under the lock held) */
	struct pw_unload u;
	pw_dp_close(&dp);
	int rc = pw_unload_held(root, NULL, NULL, &u, err, sizeof(err));
	if (rc)
		syslog(LOG_ERR, "generation %u not confirmed within %u s; unloading failed: %s", gen, secs, err);
	else
		syslog(LOG_WARNING, "generation %u not confirmed within %u s: unloaded", gen, secs);
	close(lock);
	return rc ? PW_EXIT_FAIL : PW_EXIT_OK;
}
