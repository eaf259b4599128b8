/* cmd_apply.c - `portwall apply POLICY --iface IF[,IF...]` and `portwall
 * reload`: their arguments and what they print. The transaction itself
 * (compile, load or open, write the half not in force, record, activate,
 * attach) is pw_apply_tx in datapath/apply.c, which run calls too. */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/num.h"
#include "lib/sha256.h"
#include "datapath/apply.h"
#include "datapath/loader.h"
#include "datapath/linktype.h"
#include "datapath/state.h"
#include "cli/cmds.h"

static void usage(FILE *f)
{
	fputs("usage: portwall apply POLICY --iface IF[,IF...] [--mode enforce|monitor]\n"
	      "                      [--xdp-mode auto|native|generic] [--netns NAME]\n"
	      "                      [--pin-root DIR] [--force] [--confirm SECONDS] [-v]\n"
	      "  Compile POLICY, load the XDP (ingress) and tc (egress) programs, attach\n"
	      "  them to each interface and pin them under --pin-root (default\n"
	      "  " PW_PIN_ROOT "); enforcement stays when the command exits.\n"
	      "  Run again while loaded: a hot reload (programs stay attached, the new\n"
	      "  policy takes over atomically, conntrack and counters stay).\n"
	      "  --mode       overrides the policy's mode statement\n"
	      "  --xdp-mode   auto (native, else generic), native or generic\n"
	      "  --netns      interfaces are in network namespace NAME (/run/netns)\n"
	      "  --force      replace another tool's XDP program on the interface; and apply\n"
	      "               over SSH a policy that would cut the session off (refused\n"
	      "               otherwise: the message says the rule to add)\n"
	      "  --ct-capacity N        tracked TCP flows (first apply; default 262144;\n"
	      "                         the host's other flows get N/2, peers' N/4)\n"
	      "  --ct-timeout NAME=S,.. tcp-syn, tcp-est, tcp-close, udp, icmp, other, frag;\n"
	      "                         dns-min, dns-max: a learned address lives its TTL, at least /\n"
	      "                         at most this (default 0 / 86400)\n"
	      "  --event-rate N         drop events a second at most (default 1000)\n"
	      "  --name-addresses N     addresses one host name keeps; run removes the least\n"
	      "                         recently answered beyond (default 1024)\n"
	      "  --resolve-timeout MS   ask the resolvers about the policy's host names, waiting\n"
	      "                         at most MS for answers (default 1000; 0: do not ask)\n"
	      "  --confirm    go back to the previous policy (or unload) after SECONDS\n"
	      "               unless `portwall confirm` runs first, even if this shell is gone\n"
	      "run's own options (metrics, the events file): portwall run --help\n"
	      "A policy that fails to parse, compile or load changes nothing.\n", f);
}

static void usage_run(FILE *f)
{
	fputs("usage: portwall run POLICY --iface IF[,IF...] [--metrics-file FILE] [--unload-on-exit]\n"
	      "                    [apply's options]\n"
	      "  The foreground agent (for systemd): apply POLICY as `portwall apply` does,\n"
	      "  print every drop event as a line, reload on SIGHUP and when the policy file\n"
	      "  (or a file it includes) is saved, ask the resolvers about its host names;\n"
	      "  on SIGTERM exit leaving enforcement in place.\n"
	      "  --metrics-file FILE     write Prometheus text-format metrics to FILE every\n"
	      "                          5 seconds (atomically: a new file renamed over it)\n"
	      "  --unload-on-exit        detach and remove everything on SIGTERM\n"
	      "  --metrics-listen ADDR:PORT  the same text at GET /metrics over HTTP\n"
	      "                          (127.0.0.1:9469, [::1]:9469; default off)\n"
	      "  --events-file PATH      the drop events as JSON Lines (default\n"
	      "                          /var/log/portwall/<pin root>.events.jsonl; \"\": none)\n"
	      "  --events-max-size N[K|M|G]  rotate the file at this size (default 16M)\n"
	      "  --events-keep N         rotated files kept, FILE.1 newest (default 5)\n"
	      "  --iface, --mode, --xdp-mode, --netns, --pin-root, --force, --confirm,\n"
	      "  --ct-capacity, --ct-timeout, --event-rate, --name-addresses,\n"
	      "  --resolve-timeout: as for apply (portwall apply --help)\n", f);
}

static int num_arg(const char *s, unsigned long min, unsigned long max, uint32_t *out)
{
	unsigned long v;

	if (!pw_ulong(s, 10, max, &v) || v < min)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* "udp=60,tcp-est=86400": conntrack timeouts in seconds */
static int timeouts_arg(const char *s, struct pw_apply_opts *o)
{
	static const struct { const char *name; size_t off; } t[] = {
		{ "tcp-syn", offsetof(struct pw_apply_opts, ct_tcp_syn) },
		{ "tcp-est", offsetof(struct pw_apply_opts, ct_tcp_est) },
		{ "tcp-close", offsetof(struct pw_apply_opts, ct_tcp_close) },
		{ "udp", offsetof(struct pw_apply_opts, ct_udp) },
		{ "icmp", offsetof(struct pw_apply_opts, ct_icmp) },
		{ "other", offsetof(struct pw_apply_opts, ct_other) },
		{ "frag", offsetof(struct pw_apply_opts, frag_timeout) },
		{ "dns-min", offsetof(struct pw_apply_opts, dns_ttl_min) },
		{ "dns-max", offsetof(struct pw_apply_opts, dns_ttl_max) },
	};
	char buf[256], *save, *item;

	snprintf(buf, sizeof(buf), "%s", s);
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		size_t i;
		if (eq)
			*eq = '\0';
		for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
			if (strcmp(item, t[i].name) == 0)
				break;
		if (!eq || i == sizeof(t) / sizeof(t[0]) ||
		    num_arg(eq + 1, 1, 30 * 86400, (uint32_t *)((char *)o + t[i].off))) {
			fprintf(stderr, "portwall apply: --ct-timeout takes NAME=SECONDS (1-2592000) with NAME one of "
				"tcp-syn, tcp-est, tcp-close, udp, icmp, other, frag, dns-min, dns-max; got \"%s\"\n", s);
			return -1;
		}
	}
	return 0;
}

/* --mode, --xdp-mode */
static int mode_arg(int c, const char *arg, struct pw_apply_opts *o)
{
	if (c == 'm') {
		if (strcmp(arg, "enforce") && strcmp(arg, "monitor")) {
			fprintf(stderr, "portwall apply: --mode takes enforce or monitor, got \"%s\"\n", arg);
			return -1;
		}
		o->mode = arg[0] == 'm' ? PW_MODE_MONITOR : PW_MODE_ENFORCE;
	} else if (strcmp(arg, "auto") == 0) {
		o->xdp = PW_XDP_AUTO;
	} else if (strcmp(arg, "native") == 0) {
		o->xdp = PW_XDP_WANT_NATIVE;
	} else if (strcmp(arg, "generic") == 0) {
		o->xdp = PW_XDP_WANT_GENERIC;
	} else {
		fprintf(stderr, "portwall apply: --xdp-mode takes auto, native or generic, got \"%s\"\n", arg);
		return -1;
	}
	return 0;
}

/* The options that take a number: --confirm, --ct-capacity, --event-rate. */
static int number_opt(const char *cmd, int c, const char *arg, struct pw_apply_opts *o)
{
	uint32_t v;

	switch (c) {
	case 'c':
		if (num_arg(arg, 5, 3600, &v)) {
			fprintf(stderr, "portwall %s: --confirm takes 5-3600 seconds, got \"%s\"\n", cmd, arg);
			return -1;
		}
		o->confirm = v;
		return 0;
	case 'C':
		if (num_arg(arg, 1024, 1u << 24, &o->ct_capacity)) {
			fprintf(stderr, "portwall %s: --ct-capacity takes 1024-16777216 flows, got \"%s\"\n", cmd, arg);
			return -1;
		}
		return 0;
	default:
		if (num_arg(arg, 1, 1000000, &o->event_rate)) {
			fprintf(stderr, "portwall %s: --event-rate takes 1-1000000 events a second, got \"%s\"\n",
				cmd, arg);
			return -1;
		}
		return 0;
	}
}

static int resolve_arg(const char *cmd, const char *arg, struct pw_apply_opts *o)
{
	uint32_t v;

	if (num_arg(arg, 0, 10000, &v)) {
		fprintf(stderr, "portwall %s: --resolve-timeout takes 0-10000 ms (0: do not ask), got \"%s\"\n",
			cmd, arg);
		return -1;
	}
	o->resolve_ms = (int)v;
	return 0;
}

static int name_addresses_arg(const char *cmd, const char *arg, struct pw_apply_opts *o)
{
	if (num_arg(arg, 1, PW_LEARNED_CAPACITY, &o->dns_name_max)) {
		fprintf(stderr, "portwall %s: --name-addresses takes 1-%d addresses, got \"%s\"\n", cmd,
			PW_LEARNED_CAPACITY, arg);
		return -1;
	}
	return 0;
}

/* run's --events-file PATH, --events-max-size BYTES[K|M|G], --events-keep N */
static int events_opt(int c, const char *arg, struct pw_apply_opts *o)
{
	char *end;
	unsigned long long v;

	if (c == 'e') {
		o->events_file = arg;
		return 0;
	}
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (c == 'K') {
		if (errno || end == arg || *end || v > 99) {
			fprintf(stderr, "portwall run: --events-keep takes 0-99 rotated files, got \"%s\"\n", arg);
			return -1;
		}
		o->events_keep = (int)v;
		return 0;
	}
	int shift = !*end ? 0 : !strcmp(end, "K") ? 10 : !strcmp(end, "M") ? 20 : !strcmp(end, "G") ? 30 : -1;
	if (errno || end == arg || shift < 0 || v < 1 || v > (1ull << 40) >> shift || (v << shift) < 4096) {
		fprintf(stderr, "portwall run: --events-max-size takes 4096 bytes to 1T (suffix K, M or G), got "
			"\"%s\"\n", arg);
		return -1;
	}
	o->events_max_size = v << shift;
	return 0;
}

/* One option of apply (or run): 0, 1 after --help, -1. */
static int one_opt(int c, char **argv, struct pw_apply_opts *o, bool run)
{
	switch (c) {
	case 'i': o->ifaces = optarg; return 0;
	case 'm': case 'x': return mode_arg(c, optarg, o);
	case 'c': case 'C': case 'E': return number_opt(run ? "run" : "apply", c, optarg, o);
	case 'T': return timeouts_arg(optarg, o);
	case 'R': return resolve_arg(run ? "run" : "apply", optarg, o);
	case 'A': return name_addresses_arg(run ? "run" : "apply", optarg, o);
	case 'n': o->netns = optarg; return 0;
	case 'p': o->root = optarg; return 0;
	case 'f': o->force = true; return 0;
	case 'v': o->verbose = true; return 0;
	case 'h': (run ? usage_run : usage)(stdout); return 1;
	case 'e': case 'S': case 'K':
		return run ? events_opt(c, optarg, o) : (fprintf(stderr, "portwall apply: --events-* go with run\n"), -1);
	case 'M': case 'u': case 'L':
		if (!run) {
			fprintf(stderr, "portwall apply: %s goes with run\n",
				c == 'M' ? "--metrics-file" : c == 'L' ? "--metrics-listen" : "--unload-on-exit");
			return -1;
		}
		if (c == 'M')
			o->metrics_file = optarg;
		else if (c == 'L')
			o->metrics_listen = optarg;
		else
			o->unload_on_exit = true;
		return 0;
	default:
		fprintf(stderr, "portwall %s: unknown option or missing value \"%s\"\n", run ? "run" : "apply",
			argv[optind - 1]);
		return -1;
	}
}

/* A pin root portwall can use: absolute, short, and no '.' on bpffs. */
static int pin_root_ok(const char *cmd, const char *root)
{
	if (strlen(root) > 200 || root[0] != '/') {
		fprintf(stderr, "portwall %s: --pin-root must be an absolute path (200 bytes at most)\n", cmd);
		return -1;
	}
	if (strncmp(root, "/sys/fs/bpf/", 12) == 0 && strchr(root + 12, '.')) {
		fprintf(stderr, "portwall %s: bpffs refuses names with a '.' (%s): choose another --pin-root\n", cmd,
			strrchr(root, '/') + 1);
		return -1;
	}
	return 0;
}

int pw_apply_parse(int argc, char **argv, struct pw_apply_opts *o, bool run)
{
	static const struct option lo[] = {
		{ "iface", required_argument, NULL, 'i' }, { "mode", required_argument, NULL, 'm' },
		{ "xdp-mode", required_argument, NULL, 'x' }, { "netns", required_argument, NULL, 'n' },
		{ "pin-root", required_argument, NULL, 'p' }, { "force", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' },
		{ "confirm", required_argument, NULL, 'c' }, { "unload-on-exit", no_argument, NULL, 'u' },
		{ "ct-capacity", required_argument, NULL, 'C' }, { "ct-timeout", required_argument, NULL, 'T' },
		{ "event-rate", required_argument, NULL, 'E' }, { "metrics-file", required_argument, NULL, 'M' },
		{ "resolve-timeout", required_argument, NULL, 'R' }, { "name-addresses", required_argument, NULL, 'A' },
		{ "metrics-listen", required_argument, NULL, 'L' },
		{ "events-file", required_argument, NULL, 'e' }, { "events-max-size", required_argument, NULL, 'S' },
		{ "events-keep", required_argument, NULL, 'K' }, { 0 },
	};
	int c, rc;

	memset(o, 0, sizeof(*o));
	o->root = PW_PIN_ROOT;
	o->mode = -1;
	o->resolve_ms = -1;
	o->events_keep = -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "i:vh", lo, NULL)) != -1)
		if ((rc = one_opt(c, argv, o, run)))
			return rc;
	if (argc - optind != 1) {
		fprintf(stderr, "portwall %s: give one policy file\n", run ? "run" : "apply");
		return -1;
	}
	o->policy = argv[optind];
	return pin_root_ok(run ? "run" : "apply", o->root);
}

int cmd_apply(int argc, char **argv)
{
	struct pw_apply_opts o;
	int rc = pw_apply_parse(argc, argv, &o, false);

	if (rc)
		return rc > 0 ? PW_EXIT_OK : (usage(stderr), PW_EXIT_USAGE);
	if (pw_gateway_refuse("apply", o.policy))
		return PW_EXIT_FAIL;
	if (!o.ifaces) {
		fprintf(stderr, "portwall apply: which interfaces? give --iface IF[,IF...]\n");
		return PW_EXIT_USAGE;
	}
	if (pw_need_root("apply"))
		return PW_EXIT_FAIL;
	o.cmd = "apply";
	return pw_apply(o);
}

int cmd_reload(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "pin-root", required_argument, NULL, 'p' }, { "confirm", required_argument, NULL, 'c' },
		{ "netns", required_argument, NULL, 'n' }, { "help", no_argument, NULL, 'h' },
		{ "force", no_argument, NULL, 'f' }, { 0 },
	};
	struct pw_apply_opts o = { .root = PW_PIN_ROOT, .mode = -1, .resolve_ms = -1 };
	const char *want_netns = NULL;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'p': o.root = optarg; break;
		case 'c':
			if (number_opt("reload", 'c', optarg, &o))	/* as apply's */
				return PW_EXIT_USAGE;
			break;
		case 'n': want_netns = optarg; break;
		case 'f': o.force = true; break;
		case 'h': printf("usage: portwall reload [--pin-root DIR] [--confirm SECONDS] [--force]\n"
				 "  Apply the policy file in force again (after editing it).\n"
				 "  --force  even when it would cut off the SSH session it runs from\n");
			return PW_EXIT_OK;
		default:
			fprintf(stderr, "usage: portwall reload [--pin-root DIR] [--confirm SECONDS] [--force]\n");
			return PW_EXIT_USAGE;
		}
	}
	if (pw_need_root("reload"))
		return PW_EXIT_FAIL;
	struct pw_dp dp;
	struct pw_meta m;
	char err[600];
	if (pw_dp_open_pinned(&dp, o.root, err, sizeof(err))) {
		fprintf(stderr, "portwall reload: %s\n", err);
		return PW_EXIT_FAIL;
	}
	int rc = pw_dp_read_meta(&dp, &m);
	pw_dp_close(&dp);
	if (rc || !m.cur.path[0]) {
		fprintf(stderr, "portwall reload: no policy is recorded under %s; use apply\n", o.root);
		return PW_EXIT_FAIL;
	}
	static char path[256], netns[32];
	snprintf(path, sizeof(path), "%s", m.cur.path);
	snprintf(netns, sizeof(netns), "%s", m.netns);
	if (want_netns && strcmp(want_netns, netns) != 0) {
		fprintf(stderr, "portwall reload: the portwall under %s works in network namespace \"%s\", not \"%s\"\n",
			o.root, netns, want_netns);
		return PW_EXIT_FAIL;
	}
	o.policy = path;
	o.follow_records = true;	/* the interfaces recorded, by ifindex */
	o.netns = netns[0] ? netns : NULL;
	o.cmd = "reload";
	return pw_apply(o);
}


static const char *xdp_name(uint8_t m)
{
	return m == PW_XDP_NATIVE ? "native" : m == PW_XDP_GENERIC ? "generic" : "none";
}

/* What happened to the interfaces since they were applied. */
static void print_iface_notes(const struct pw_apply_result *r)
{
	for (int i = 0; i < r->nnote; i++) {
		const struct pw_iface_note *n = &r->note[i];
		if (n->what == PW_IFC_GONE)
			fprintf(stderr, "portwall apply: note: interface %s (ifindex %u) is gone: its record is "
				"removed\n", n->name, n->ifindex);
		else if (n->what == PW_IFC_RENAMED)
			fprintf(stderr, "portwall apply: note: interface %s (ifindex %u) is now named %s: it keeps "
				"the policy (unload --iface %s takes it off)\n", n->name, n->ifindex, n->now, n->now);
		else
			fprintf(stderr, "portwall apply: note: %s is a new interface (ifindex %u) with the name an "
				"interface was applied by: enforced now (unload --iface %s takes it off)\n", n->now,
				n->ifindex, n->now);
	}
}

/* What the transaction noted on its way, in the order it happened. */
static void print_notes(const struct pw_apply_result *r)
{
	const struct pw_diag *d = &r->diag;

	for (size_t i = 0; !r->diag_failed && i < d->nwarn; i++)
		if (!r->lockout || strncmp(d->warn[i].msg, "lockout:", 8) != 0)	/* the refusal says it */
			fprintf(stderr, "%s:%d: warning: %s\n", d->warn[i].file, d->warn[i].line, d->warn[i].msg);
	if (r->removed_unfinished)
		fprintf(stderr, "portwall apply: note: removing the pins of a first apply that did not finish\n");
	if (r->replaced_pending)
		fprintf(stderr, "portwall apply: note: generation %u was waiting for `portwall confirm`; this "
			"apply replaces it, and its watchdog stands down\n", r->replaced_pending);
	if (r->capacity_ignored)
		fprintf(stderr, "portwall apply: note: --ct-capacity takes effect on a first apply only "
			"(unload, then apply)\n");
	if (r->flat4_need)
		fprintf(stderr, "portwall apply: note: the IPv4 peer sets need %u lookup chunks, the loaded datapath "
			"has room for %u: their peers are looked up in the trie (the same verdicts, slower); unload "
			"and apply again to make room\n", r->flat4_need, r->flat4_room);
	if (r->carry_rc)
		fprintf(stderr, "portwall apply: carrying rule counters over failed: %s (they restart at 0)\n",
			strerror(-r->carry_rc));
	if (r->ended < 0)
		fprintf(stderr, "portwall: ending the tracked flows the new policy refuses failed (reading its "
			"tables: %s); those not read go on until they time out or the next reload, which walks "
			"every table\n", strerror(-r->ended));
	if (r->ended > 0)
		printf("ended %d tracked flow%s the new policy no longer allows\n", r->ended, r->ended == 1 ? "" : "s");
	pw_print_revoked("reload", "new", &r->revoked, r->revoke_tcp_rc);
	if (r->adopted < 0)
		fprintf(stderr, "portwall apply: reading the open connections failed: %s (replies of "
			"connections opened before now may be dropped)\n", strerror(-r->adopted));
	else if (r->adopted > 0)
		printf("adopted %d open connection%s\n", r->adopted, r->adopted == 1 ? "" : "s");
	print_iface_notes(r);
	if (r->not_adopted > 0)
		printf("left out %d open connection%s the policy does not let out (their replies now drop)\n",
		       r->not_adopted, r->not_adopted == 1 ? "" : "s");
}

/* The agent's own queries about the policy's plain names. */
static void print_resolved(const struct pw_apply_result *r)
{
	const struct pw_resolve_report *x = &r->resolve;

	if (!r->resolved)
		return;
	if (r->resolve_rc) {
		fprintf(stderr, "portwall apply: asking the resolvers about the host names failed: %s (the "
			"datapath still learns from the host's own answers)\n", strerror(-r->resolve_rc));
		return;
	}
	size_t addrs = x->learned + x->refreshed;
	printf("host names: asked the resolvers about %zu, %zu answered: %zu address%s\n", x->asked, x->answered,
	       addrs, addrs == 1 ? "" : "es");
	fflush(stdout);	/* the warning after the lines before it, in a pipe too */
	if (x->failed)
		fprintf(stderr, "portwall apply: warning: %zu host name%s not learned now: %s (the datapath still "
			"learns from the host's own answers; run asks again)\n", x->failed, x->failed == 1 ? "" : "s",
			x->first_failure);
}

static void print_failure(const struct pw_apply_result *r)
{
	static const char *const left[] = {
		[PW_LEFT_NOTHING] = "nothing was changed",
		[PW_LEFT_OLD] = "the policy in force is unchanged",
		[PW_LEFT_UNDONE] = "nothing was changed",
		[PW_LEFT_PART] = "the policy is in force on the interfaces attached before",
	};

	if (r->diag_failed) {
		pw_diag_print_errors(&r->diag, stderr);
		fprintf(stderr, "portwall apply: nothing was changed\n");
	} else if (r->left == PW_LEFT_UNDONE || r->left == PW_LEFT_PART)
		fprintf(stderr, "portwall apply: %s\nportwall apply: %s\n", r->err, left[r->left]);
	else if (r->left != PW_LEFT_SAID)
		fprintf(stderr, "portwall apply: %s; %s\n", r->err, left[r->left]);
	else
		fprintf(stderr, "portwall apply: %s\n", r->err);
}

static void print_success(const struct pw_apply_opts *o, const struct pw_apply_result *r)
{
	const struct pw_meta *m = &r->meta;
	bool other_root = strcmp(o->root, PW_PIN_ROOT) != 0;
	char hex[65];

	if (r->watchdog_failed)
		fprintf(stderr, "portwall apply: starting the --confirm watchdog failed: run `portwall rollback` "
			"yourself if this policy locks you out\n");
	pw_hex(m->cur.hash, sizeof(m->cur.hash), hex);
	if (r->store_err[0])
		fprintf(stderr, "portwall apply: warning: generation %u's files were not kept (history, show, diff "
			"and rollback GENERATION will not have it): %s\n", m->cur.generation, r->store_err);
	if (r->unchanged)
		printf("unchanged: \"%s\" (%s) compiles to the hash in force (sha256:%.16s): generation %u stays in "
		       "force, nothing was written\n", m->cur.name, m->cur.path, hex, m->cur.generation);
	else
		printf("%s \"%s\" (%s), generation %u, hash sha256:%.16s, mode %s\n", r->first ? "applied" : "reloaded",
		       m->cur.name, m->cur.path, m->cur.generation, hex,
		       m->cur.mode == PW_MODE_MONITOR ? "monitor" : "enforce");
	for (int i = 0; i < m->niface; i++) {
		const char *now = r->now[i][0] ? r->now[i] : m->iface[i].name;
		bool renamed = strncmp(now, m->iface[i].name, sizeof(m->iface[i].name)) != 0;
		printf("  %s: XDP %s, tc egress%s, %s programs%s%.16s%s\n", now, xdp_name(m->iface[i].xdp_mode),
		       r->had[i] ? "" : " (attached now)", pw_link_name(m->iface[i].link),
		       renamed ? " (renamed from " : "", renamed ? m->iface[i].name : "", renamed ? ")" : "");
	}
	print_resolved(r);
	if (!m->niface)
		fprintf(stderr, "portwall apply: note: none of the interfaces applied is left: the policy is loaded "
			"but enforced nowhere (apply --iface IF to enforce it, or unload)\n");
	if (o->confirm)
		printf("run `portwall confirm%s%s` within %u s, or portwall goes back to %s\n",
		       other_root ? " --pin-root " : "", other_root ? o->root : "", o->confirm,
		       r->first ? "no policy (unload)" : "the previous policy");
}

int pw_apply(struct pw_apply_opts o)
{
	struct pw_apply_result r;
	int rc = pw_apply_tx(&o, &r);

	print_notes(&r);
	if (rc)
		print_failure(&r);
	else
		print_success(&o, &r);
	if (!rc && !o.confirm && !o.netns && getenv("SSH_CONNECTION"))
		fprintf(stderr, "portwall apply: WARNING: applied over SSH without --confirm: if this policy "
			"cuts your session off, nothing brings it back. Next time give --confirm 60 (then "
			"`portwall confirm` once you are still in): it goes back by itself otherwise\n");
	pw_apply_result_free(&r);
	return rc ? PW_EXIT_FAIL : PW_EXIT_OK;
}
