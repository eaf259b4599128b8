/* cmd_apply.c - `portwall apply POLICY --iface IF[,IF...]`: compile, load,
 * attach XDP ingress and tc egress, pin everything, record what is applied,
 * and exit with enforcement in place. Run again while loaded, it is a hot
 * reload: the new policy goes into the half of the policy maps not in force
 * and one write puts it in force; programs stay attached. */
#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "datapath/adopt.h"
#include "datapath/state.h"
#include "policy/analyze.h"
#include "datapath/attach.h"
#include "datapath/apply.h"
#include "cli/cmds.h"
#include "lib/sha256.h"

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
	      "  --force      replace another tool's XDP program on the interface\n"
	      "  --ct-capacity N        tracked flows (first apply; default 262144)\n"
	      "  --ct-timeout NAME=S,.. tcp-syn, tcp-est, tcp-close, udp, icmp, other, frag\n"
	      "  --event-rate N         drop events a second at most (default 1000)\n"
	      "  --confirm    go back to the previous policy (or unload) after SECONDS\n"
	      "               unless `portwall confirm` runs first, even if this shell is gone\n"
	      "A policy that fails to parse, compile or load changes nothing.\n", f);
}

static int num_arg(const char *s, unsigned long min, unsigned long max, uint32_t *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v < min || v > max)
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
				"tcp-syn, tcp-est, tcp-close, udp, icmp, other, frag; got \"%s\"\n", s);
			return -1;
		}
	}
	return 0;
}

/* The flags' settings over a configuration. */
static void apply_settings(const struct pw_apply_opts *o, struct pw_config *cfg, int ncpus)
{
	if (o->event_rate) {
		cfg->ev_rate = o->event_rate / (uint32_t)(ncpus > 0 ? ncpus : 1);
		if (!cfg->ev_rate)
			cfg->ev_rate = 1;
		cfg->ev_burst = cfg->ev_rate;
	}
#define SET(f) if (o->f) cfg->f = o->f
	SET(ct_tcp_syn);
	SET(ct_tcp_est);
	SET(ct_tcp_close);
	SET(ct_udp);
	SET(ct_icmp);
	SET(ct_other);
	SET(frag_timeout);
#undef SET
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
		{ "event-rate", required_argument, NULL, 'E' }, { "metrics-file", required_argument, NULL, 'M' }, { 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->root = PW_PIN_ROOT;
	o->mode = -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "i:vh", lo, NULL)) != -1) {
		switch (c) {
		case 'i': o->ifaces = optarg; break;
		case 'm':
			if (strcmp(optarg, "enforce") && strcmp(optarg, "monitor")) {
				fprintf(stderr, "portwall apply: --mode takes enforce or monitor, got \"%s\"\n", optarg);
				return -1;
			}
			o->mode = optarg[0] == 'm' ? PW_MODE_MONITOR : PW_MODE_ENFORCE;
			break;
		case 'x':
			if (strcmp(optarg, "auto") == 0)
				o->xdp = PW_XDP_AUTO;
			else if (strcmp(optarg, "native") == 0)
				o->xdp = PW_XDP_WANT_NATIVE;
			else if (strcmp(optarg, "generic") == 0)
				o->xdp = PW_XDP_WANT_GENERIC;
			else {
				fprintf(stderr, "portwall apply: --xdp-mode takes auto, native or generic, got \"%s\"\n",
					optarg);
				return -1;
			}
			break;
		case 'n': o->netns = optarg; break;
		case 'c': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || v < 5 || v > 3600) {
				fprintf(stderr, "portwall apply: --confirm takes 5-3600 seconds, got \"%s\"\n", optarg);
				return -1;
			}
			o->confirm = (unsigned)v;
			break;
		}
		case 'p': o->root = optarg; break;
		case 'f': o->force = true; break;
		case 'C':
			if (num_arg(optarg, 1024, 1u << 24, &o->ct_capacity)) {
				fprintf(stderr, "portwall apply: --ct-capacity takes 1024-16777216 flows, got \"%s\"\n", optarg);
				return -1;
			}
			break;
		case 'E':
			if (num_arg(optarg, 1, 1000000, &o->event_rate)) {
				fprintf(stderr, "portwall apply: --event-rate takes 1-1000000 events a second, got \"%s\"\n",
					optarg);
				return -1;
			}
			break;
		case 'T':
			if (timeouts_arg(optarg, o))
				return -1;
			break;
		case 'M':
			if (!run) {
				fprintf(stderr, "portwall apply: --metrics-file goes with run\n");
				return -1;
			}
			o->metrics_file = optarg;
			break;
		case 'u':
			if (!run) {
				fprintf(stderr, "portwall apply: --unload-on-exit goes with run\n");
				return -1;
			}
			o->unload_on_exit = true;
			break;
		case 'v': o->verbose = true; break;
		case 'h': usage(stdout); return 1;
		default:
			fprintf(stderr, "portwall apply: unknown option or missing value \"%s\"\n", argv[optind - 1]);
			return -1;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "portwall apply: give one policy file\n");
		return -1;
	}
	o->policy = argv[optind];
	if (strlen(o->root) > 200 || o->root[0] != '/') {
		fprintf(stderr, "portwall apply: --pin-root must be an absolute path (200 bytes at most)\n");
		return -1;
	}
	const char *base = strrchr(o->root, '/');
	if (strncmp(o->root, "/sys/fs/bpf/", 12) == 0 && strchr(o->root + 12, '.')) {
		fprintf(stderr, "portwall apply: bpffs refuses names with a '.' (%s): choose another --pin-root\n",
			base + 1);
		return -1;
	}
	return 0;
}

/* Split "a,b" into names; every one must exist (in the netns). */
static int resolve_ifaces(const char *list, char names[][IF_NAMESIZE], unsigned idx[], int *n)
{
	char buf[512], *save, *t;

	*n = 0;
	snprintf(buf, sizeof(buf), "%s", list);
	for (t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (*n == PW_MAX_IFACES) {
			fprintf(stderr, "portwall apply: at most %d interfaces\n", PW_MAX_IFACES);
			return -1;
		}
		if (strlen(t) >= IF_NAMESIZE || !(idx[*n] = if_nametoindex(t))) {
			fprintf(stderr, "portwall apply: no interface \"%s\"%s; nothing was changed\n", t,
				errno == ENODEV || errno == ENXIO ? "" : "");
			return -1;
		}
		snprintf(names[*n], IF_NAMESIZE, "%s", t);
		(*n)++;
	}
	return *n ? 0 : -1;
}

static void detach_all(const struct pw_meta *m, const char *root)
{
	char pin[600];

	for (int i = 0; i < m->niface; i++) {
		pw_link_pin(root, m->iface[i].name, pin, sizeof(pin));
		pw_detach_xdp(pin);
		if (m->iface[i].tc_mode)
			pw_detach_tc((int)m->iface[i].ifindex, m->iface[i].tc_mode);
	}
}

static const char *xdp_name(uint8_t m)
{
	return m == PW_XDP_NATIVE ? "native" : m == PW_XDP_GENERIC ? "generic" : "none";
}

/* Attach one interface (its record f is in meta already). What an apply
 * killed mid-attach left is taken over: our XDP link still pinned and
 * attached stays, the tc filter is replaced in place. */
static int attach_one(const struct pw_dp *dp, const struct pw_apply_opts *o, struct pw_iface *f,
		      const char *pin, char *err, size_t errsz)
{
	int rc = pw_xdp_attached((int)f->ifindex, dp->prog_fd[PW_DIR_IN]);

	if (rc > 0 && access(pin, F_OK) == 0) {
		f->xdp_mode = (uint8_t)rc;
		rc = 0;
	} else {
		pw_detach_xdp(pin);	/* a stale pin, if any */
		rc = pw_attach_xdp(dp->prog_fd[PW_DIR_IN], (int)f->ifindex, f->name, o->xdp, o->force, pin,
				   &f->xdp_mode, err, errsz);
	}
	if (!rc) {
		pw_fault_point("mid-attach");	/* XDP on, tc not yet */
		rc = pw_attach_tc(dp->prog_fd[PW_DIR_OUT], (int)f->ifindex, f->name, &f->tc_mode, err, errsz);
		if (rc)
			pw_detach_xdp(pin);
	}
	return rc;
}

/* Attach the interfaces meta does not have attached yet; adds them to
 * meta. Each is recorded in meta before it is attached and again when it
 * is (an intent log): killed in between, apply leaves a record by which
 * `unload` takes the programs off (a tc filter, unlike the XDP link, has
 * no pin to find it by) and the next apply finishes the job. */
static int attach_new(const struct pw_dp *dp, const struct pw_apply_opts *o, struct pw_meta *m,
		      char names[][IF_NAMESIZE], const unsigned idx[], int n, char *err, size_t errsz)
{
	char pin[600];

	for (int i = 0; i < n; i++) {
		int k = 0, rc;
		while (k < m->niface && !(strcmp(m->iface[k].name, names[i]) == 0 && m->iface[k].ifindex == idx[i]))
			k++;
		if (k < m->niface && m->iface[k].xdp_mode)
			continue;	/* attached by an apply that finished */
		if (k == m->niface) {
			if (m->niface == PW_MAX_IFACES)
				return snprintf(err, errsz, "at most %d interfaces", PW_MAX_IFACES), -E2BIG;
			struct pw_iface *f = &m->iface[m->niface++];
			memset(f, 0, sizeof(*f));
			f->ifindex = idx[i];
			snprintf(f->name, sizeof(f->name), "%.15s", names[i]);
			f->tc_mode = PW_TC_CLSACT;	/* until attached: our filter, if any, goes */
			rc = pw_dp_write_meta(dp, m);
			if (rc) {
				m->niface--;
				return pw_errf(err, errsz, rc, "recording interface %s failed: %s", names[i],
					       strerror(-rc));
			}
		}
		pw_link_pin(o->root, names[i], pin, sizeof(pin));
		rc = attach_one(dp, o, &m->iface[k], pin, err, errsz);
		if (rc) {
			/* a filter a killed apply left loses its record here */
			if (pw_tc_attached((int)idx[i], dp->prog_fd[PW_DIR_OUT]) == 1)
				pw_detach_tc((int)idx[i], PW_TC_CLSACT);
			memmove(&m->iface[k], &m->iface[k + 1], (size_t)(m->niface - k - 1) * sizeof(m->iface[0]));
			m->niface--;
			pw_dp_write_meta(dp, m);
			return rc;
		}
		pw_dp_write_meta(dp, m);	/* done: its modes recorded */
	}
	return 0;
}

/* Start the --confirm watchdog: a process of its own session that outlives
 * this one and the shell, sleeps, and rolls back unless confirmed. */
static int start_watchdog(const char *root, uint32_t generation, unsigned secs)
{
	char gen[16], s[16];
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid > 0) {
		int st;
		waitpid(pid, &st, 0);
		return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -ECHILD;
	}
	if (setsid() < 0)
		_exit(1);
	pid = fork();
	if (pid < 0)
		_exit(1);
	if (pid > 0)
		_exit(0);
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	snprintf(gen, sizeof(gen), "%u", generation);
	snprintf(s, sizeof(s), "%u", secs);
	execl("/proc/self/exe", "portwall", "_watchdog", root, gen, s, (char *)NULL);
	_exit(127);
}


int cmd_apply(int argc, char **argv)
{
	struct pw_apply_opts o;
	int rc = pw_apply_parse(argc, argv, &o, false);

	if (rc)
		return rc > 0 ? PW_EXIT_OK : (usage(stderr), PW_EXIT_USAGE);
	if (!o.ifaces) {
		fprintf(stderr, "portwall apply: which interfaces? give --iface IF[,IF...]\n");
		return PW_EXIT_USAGE;
	}
	if (pw_need_root("apply"))
		return PW_EXIT_FAIL;
	return pw_apply(o);
}

int cmd_reload(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "pin-root", required_argument, NULL, 'p' }, { "confirm", required_argument, NULL, 'c' },
		{ "netns", required_argument, NULL, 'n' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	struct pw_apply_opts o = { .root = PW_PIN_ROOT, .mode = -1 };
	const char *want_netns = NULL;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'p': o.root = optarg; break;
		case 'c': o.confirm = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': want_netns = optarg; break;
		case 'h': printf("usage: portwall reload [--pin-root DIR] [--confirm SECONDS]\n"
				 "  Apply the policy file in force again (after editing it).\n");
			return PW_EXIT_OK;
		default:
			fprintf(stderr, "usage: portwall reload [--pin-root DIR] [--confirm SECONDS]\n");
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
	static char ifs[PW_MAX_IFACES * 17], path[256], netns[32];
	size_t off = 0;
	for (int i = 0; i < m.niface; i++)
		off += (size_t)snprintf(ifs + off, sizeof(ifs) - off, "%s%s", i ? "," : "", m.iface[i].name);
	snprintf(path, sizeof(path), "%s", m.cur.path);
	snprintf(netns, sizeof(netns), "%s", m.netns);
	if (want_netns && strcmp(want_netns, netns) != 0) {
		fprintf(stderr, "portwall reload: the portwall under %s works in network namespace \"%s\", not \"%s\"\n",
			o.root, netns, want_netns);
		return PW_EXIT_FAIL;
	}
	o.policy = path;
	o.ifaces = ifs;
	o.netns = netns[0] ? netns : NULL;
	return pw_apply(o);
}

int pw_apply(struct pw_apply_opts o)
{
	int rc;
	struct pw_policy pol;
	struct pw_compiled c;
	struct pw_diag d = { 0 };
	char err[600], abspath[PATH_MAX];
	/* StrictModes: a policy others than root could have written is refused */
	const struct pw_parse_opts po = { .files = PW_FILES_STRICT };
	if (pw_policy_parse_file_opts(o.policy, &po, &pol, &d)) {
		fprintf(stderr, "%s\nportwall apply: nothing was changed\n", d.error);
		pw_diag_free(&d);
		return PW_EXIT_FAIL;
	}
	if (o.mode >= 0)
		pol.mode = (uint8_t)o.mode;
	if (pw_compile(&pol, &c, &d)) {
		fprintf(stderr, "%s\nportwall apply: nothing was changed\n", d.error);
		pw_policy_free(&pol);
		pw_diag_free(&d);
		return PW_EXIT_FAIL;
	}
	if (pw_analyze(&pol, &c, &d) == 0)
		for (size_t i = 0; i < d.nwarn; i++)
			fprintf(stderr, "%s:%d: warning: %s\n", d.warn[i].file, d.warn[i].line, d.warn[i].msg);
	if (!realpath(o.policy, abspath))
		snprintf(abspath, sizeof(abspath), "%s", o.policy);
	if (strlen(abspath) > 255) {
		fprintf(stderr, "portwall apply: the policy's path is longer than 255 bytes; move it; "
			"nothing was changed\n");
		pw_compiled_free(&c);
		pw_policy_free(&pol);
		pw_diag_free(&d);
		return PW_EXIT_FAIL;
	}

	struct pw_dp dp;
	struct pw_meta m;
	char names[PW_MAX_IFACES][IF_NAMESIZE];
	unsigned idx[PW_MAX_IFACES];
	int nif = 0, saved = -1, lock = -1;
	bool first = false;
	rc = PW_EXIT_FAIL;

	if (pw_ensure_bpffs(o.root, err, sizeof(err)) || (lock = pw_lock(o.root, err, sizeof(err))) < 0) {
		fprintf(stderr, "portwall apply: %s; nothing was changed\n", err);
		goto out;
	}
	if (pw_netns_enter(o.netns, &saved, err, sizeof(err))) {
		fprintf(stderr, "portwall apply: %s; nothing was changed\n", err);
		goto out;
	}
	if (resolve_ifaces(o.ifaces, names, idx, &nif))
		goto out;

	int orc = pw_dp_open_pinned(&dp, o.root, err, sizeof(err));
	if (orc == 0) {
		if (pw_dp_read_meta(&dp, &m)) {
			fprintf(stderr, "portwall apply: reading what is applied failed: %s\n", strerror(errno));
			pw_dp_close(&dp);
			goto out;
		}
		if (m.cur.generation == 0 && m.niface == 0) {
			/* a first apply killed after pinning, before it recorded
			 * anything: nothing of it was ever in force */
			fprintf(stderr, "portwall apply: note: removing the pins of a first apply that did not "
				"finish\n");
			pw_dp_close(&dp);
			pw_dp_unpin(o.root);
			orc = -ENOENT;
		} else if (strcmp(m.netns, o.netns ? o.netns : "") != 0) {
			fprintf(stderr, "portwall apply: the portwall under %s works in network namespace \"%s\", "
				"not \"%s\"; use another --pin-root for another namespace; nothing was changed\n",
				o.root, m.netns, o.netns ? o.netns : "");
			pw_dp_close(&dp);
			goto out;
		}
	}
	if (orc == -ENOENT) {
		first = true;
		struct pw_dp_opts lo = {
			.rule_capacity = c.nrules * 2 + 2 > 4096 ? c.nrules * 2 + 2 : 4096,
			.ct_capacity = o.ct_capacity,
			.verbose = o.verbose,
		};
		if (pw_dp_load(&dp, &lo, err, sizeof(err))) {
			fprintf(stderr, "portwall apply: %s; nothing was changed\n", err);
			goto out;
		}
		memset(&m, 0, sizeof(m));
		snprintf(m.netns, sizeof(m.netns), "%s", o.netns ? o.netns : "");
	} else if (orc) {
		fprintf(stderr, "portwall apply: %s\n", err);
		goto out;
	}

	/* the policy into the half not in force, then flip */
	struct pw_state st;
	struct pw_config cfg;
	if (pw_dp_read_state(&dp, &st)) {
		fprintf(stderr, "portwall apply: reading the policy state failed: %s\n", strerror(errno));
		goto close;
	}
	uint32_t half = first ? 0 : (st.active ^ 1) & 1;
	if (!first && o.ct_capacity)
		fprintf(stderr, "portwall apply: note: --ct-capacity takes effect on a first apply only "
			"(unload, then apply)\n");
	if (first)
		pw_config_default(&cfg, c.mode, dp.ncpus);
	else {
		cfg = st.cfg[st.active & 1];	/* keep timeouts and rates */
		cfg.mode = c.mode;
	}
	apply_settings(&o, &cfg, dp.ncpus);
	/* what pw_dp_write_half would refuse, refused before anything changes */
	if (pw_dp_fits(&dp, &c, err, sizeof(err))) {
		fprintf(stderr, "portwall apply: %s; the policy in force is unchanged\n", err);
		goto close;
	}
	/* the half about to be written is what rollback would return to:
	 * forget it first, so that a kill -9 mid-write leaves no rollback
	 * into a half-written half */
	if (!first && m.prev.generation) {
		memset(&m.prev, 0, sizeof(m.prev));
		if (pw_dp_write_meta(&dp, &m)) {
			fprintf(stderr, "portwall apply: recording what is applied failed: %s; nothing was changed\n",
				strerror(errno));
			goto close;
		}
	}
	pw_fault_point("before-write");
	if (pw_dp_write_half(&dp, half, &c, &cfg, err, sizeof(err))) {
		fprintf(stderr, "portwall apply: %s; the policy in force is unchanged\n", err);
		goto close;
	}
	pw_fault_point("before-pin");
	if (first && pw_dp_pin(&dp, o.root, err, sizeof(err))) {
		fprintf(stderr, "portwall apply: %s; nothing was changed\n", err);
		pw_dp_unpin(o.root);
		rmdir(o.root);
		goto close;
	}
	pw_fault_point("before-record");
	/* record the new generation before it goes in force: killed between
	 * the two writes, the generation in pw_state still names the record
	 * in force (pw_dp_read_meta shows that one), and afterwards meta
	 * never names a policy that is not the one in force */
	if (!first)
		m.prev = m.cur;	/* what rollback returns to: the half about to be left */
	m.cur.generation++;
	m.cur.mode = c.mode;
	m.cur.applied_unix = (uint64_t)time(NULL);
	memcpy(m.cur.hash, c.hash, sizeof(m.cur.hash));
	snprintf(m.cur.name, sizeof(m.cur.name), "%s", pol.name);
	snprintf(m.cur.path, sizeof(m.cur.path), "%.255s", abspath);
	m.confirm_pending = 0;
	m.confirm_deadline = 0;
	if (pw_dp_write_meta(&dp, &m)) {
		fprintf(stderr, "portwall apply: recording what is applied failed: %s; %s\n", strerror(errno),
			first ? "nothing was changed" : "the policy in force is unchanged");
		if (first) {
			pw_dp_unpin(o.root);
			rmdir(o.root);
		}
		goto close;
	}
	pw_fault_point("before-activate");
	int arc = pw_dp_activate(&dp, half, m.cur.generation);
	if (arc) {
		fprintf(stderr, "portwall apply: putting the policy in force failed: %s\n", strerror(-arc));
		goto close;
	}
	if (!first) {
		/* the old half is frozen now: carry the counts of kept rules,
		 * and end the flows the new policy no longer allows */
		int crc = pw_dp_carry(&dp, half ^ 1, half, dp.rule_capacity - 1, c.nrules);
		if (crc)
			fprintf(stderr, "portwall apply: carrying rule counters over failed: %s (they restart at 0)\n",
				strerror(-crc));
		int gone = pw_dp_flush_ct(&dp, &c);
		if (gone > 0)
			m.ct_flushed += (uint64_t)gone;
		if (gone > 0)
			printf("ended %d tracked flow%s the new policy no longer allows\n", gone, gone == 1 ? "" : "s");
	}
	if (first) {
		/* before attaching: no packet of an open connection meets an
		 * empty conntrack table */
		int ad = pw_adopt_sockets(&dp);
		if (ad < 0)
			fprintf(stderr, "portwall apply: reading the open connections failed: %s (replies of "
				"connections opened before now may be dropped)\n", strerror(-ad));
		else if (ad > 0)
			printf("adopted %d open connection%s\n", ad, ad == 1 ? "" : "s");
		if (ad > 0)
			m.ct_adopted += (uint64_t)ad;
	}
	pw_fault_point("before-attach");
	bool had[PW_MAX_IFACES] = { false };	/* attached by an apply that finished */
	for (int i = 0; i < m.niface; i++)
		had[i] = m.iface[i].xdp_mode != 0;
	if (attach_new(&dp, &o, &m, names, idx, nif, err, sizeof(err))) {
		fprintf(stderr, "portwall apply: %s\n", err);
		if (first) {
			detach_all(&m, o.root);
			pw_dp_unpin(o.root);
			rmdir(o.root);
			fprintf(stderr, "portwall apply: nothing was changed\n");
		} else {
			/* the new policy is in force on the interfaces that had it */
			pw_dp_write_meta(&dp, &m);
			fprintf(stderr, "portwall apply: the policy is in force on the interfaces attached before\n");
		}
		goto close;
	}
	/* 2: a first apply, which the watchdog undoes by unloading */
	pw_fault_point("before-final-record");
	m.confirm_pending = o.confirm ? (first ? PW_CONFIRM_FIRST : PW_CONFIRM_RELOAD) : 0;
	m.confirm_deadline = o.confirm ? (uint64_t)time(NULL) + o.confirm : 0;
	if (pw_dp_write_meta(&dp, &m)) {
		fprintf(stderr, "portwall apply: recording what is applied failed: %s\n", strerror(errno));
		goto close;
	}
	if (o.confirm && start_watchdog(o.root, m.cur.generation, o.confirm)) {
		fprintf(stderr, "portwall apply: starting the --confirm watchdog failed: run `portwall rollback` "
			"yourself if this policy locks you out\n");
	}
	char hex[65];
	pw_hex(c.hash, sizeof(c.hash), hex);
	printf("%s \"%s\" (%s), generation %u, hash sha256:%.16s, mode %s\n", first ? "applied" : "reloaded",
	       pol.name, abspath, m.cur.generation, hex, c.mode == PW_MODE_MONITOR ? "monitor" : "enforce");
	for (int i = 0; i < m.niface; i++)
		printf("  %s: XDP %s, tc egress%s\n", m.iface[i].name, xdp_name(m.iface[i].xdp_mode),
		       had[i] ? "" : " (attached now)");
	if (o.confirm)
		printf("run `portwall confirm%s%s` within %u s, or portwall goes back to %s\n",
		       strcmp(o.root, PW_PIN_ROOT) ? " --pin-root " : "", strcmp(o.root, PW_PIN_ROOT) ? o.root : "",
		       o.confirm, first ? "no policy (unload)" : "the previous policy");
	rc = PW_EXIT_OK;
close:
	pw_dp_close(&dp);
out:
	pw_netns_leave(saved);
	if (lock >= 0)
		close(lock);
	pw_compiled_free(&c);
	pw_policy_free(&pol);
	pw_diag_free(&d);
	return rc;
}
