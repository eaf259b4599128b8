/* loader.c - load the datapath, write compiled policies into its maps,
 * read its counters, run packets through it. */
#include "datapath/loader.h"

#include <dirent.h>
#include <errno.h>
#include <linux/membarrier.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "egress.skel.h"
#include "ingress.skel.h"
#include "lib/diag.h"

static bool verbose;

/* libbpf's messages only with -v: errors are reported by the caller with
 * what to do, and the verifier's log is long */
static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return verbose ? vfprintf(stderr, fmt, ap) : 0;
}

void pw_config_default(struct pw_config *cfg, uint8_t mode, int ncpus)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = mode;
	/* the rate is per CPU in the kernel: share the total out */
	cfg->ev_rate = PW_EV_RATE / (uint32_t)(ncpus > 0 ? ncpus : 1);
	if (cfg->ev_rate == 0)
		cfg->ev_rate = 1;
	cfg->ev_burst = cfg->ev_rate;
	cfg->ct_tcp_syn = PW_CT_TCP_SYN_S;
	cfg->ct_tcp_est = PW_CT_TCP_EST_S;
	cfg->ct_tcp_close = PW_CT_TCP_CLOSE_S;
	cfg->ct_udp = PW_CT_UDP_S;
	cfg->ct_icmp = PW_CT_ICMP_S;
	cfg->ct_other = PW_CT_OTHER_S;
	cfg->frag_timeout = PW_FRAG_TIMEOUT_S;
}

/* Give every map of the egress object the ingress object's map of the
 * same name, so that both programs share one set of maps. */
static int share_maps(struct bpf_object *from, struct bpf_object *to, char *err, size_t n)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, to) {
		const char *name = bpf_map__name(m);
		if (strchr(name, '.'))
			continue;	/* each object's own .rodata */
		struct bpf_map *src = bpf_object__find_map_by_name(from, name);
		if (!src)
			return pw_errf(err, n, -ENOENT, "map %s of the egress program has no twin in the ingress "
				    "program; rebuild portwall (make clean all)", name);
		int rc = bpf_map__reuse_fd(m, bpf_map__fd(src));
		if (rc)
			return pw_errf(err, n, rc, "sharing map %s between the programs failed: %s", name,
				    strerror(-rc));
	}
	return 0;
}

int pw_dp_load(struct pw_dp *dp, const struct pw_dp_opts *o, char *err, size_t n)
{
	int rc;

	memset(dp, 0, sizeof(*dp));
	verbose = o->verbose;
	libbpf_set_print(print_fn);
	dp->ncpus = libbpf_num_possible_cpus();
	if (dp->ncpus <= 0)
		return pw_errf(err, n, -EINVAL, "cannot count the CPUs (libbpf_num_possible_cpus: %d)", dp->ncpus);
	dp->rule_capacity = o->rule_capacity ? o->rule_capacity : 1024;
	dp->in = ingress_bpf__open();
	dp->out = egress_bpf__open();
	if (!dp->in || !dp->out) {
		rc = -errno;
		pw_dp_close(dp);
		return pw_errf(err, n, rc, "opening the BPF objects failed: %s", strerror(-rc));
	}
	bpf_map__set_max_entries(dp->in->maps.pw_rule_stats, 4 * dp->rule_capacity);
	bpf_map__set_max_entries(dp->in->maps.pw_rules, 2 * dp->rule_capacity);
	bpf_map__set_max_entries(dp->in->maps.pw_ct, o->ct_capacity ? o->ct_capacity : PW_CT_CAPACITY);
	rc = ingress_bpf__load(dp->in);
	if (rc) {
		pw_dp_close(dp);
		if (rc == -EPERM)
			return pw_errf(err, n, rc, "loading the XDP program was refused (EPERM): run as root or "
				    "with CAP_BPF and CAP_NET_ADMIN");
		return pw_errf(err, n, rc, "loading the XDP program failed: %s (run with -v for the "
			    "verifier's log)", strerror(-rc));
	}
	rc = share_maps(dp->in->obj, dp->out->obj, err, n);
	if (!rc) {
		rc = egress_bpf__load(dp->out);
		if (rc)
			pw_errf(err, n, rc, "loading the tc program failed: %s (run with -v for the verifier's log)",
			     strerror(-rc));
	}
	if (rc) {
		pw_dp_close(dp);
		return rc;
	}
	dp->prog_fd[PW_DIR_IN] = bpf_program__fd(dp->in->progs.pw_ingress);
	dp->prog_fd[PW_DIR_OUT] = bpf_program__fd(dp->out->progs.pw_egress);
	dp->state_fd = bpf_map__fd(dp->in->maps.pw_state);
	dp->slots_fd = bpf_map__fd(dp->in->maps.pw_slots);
	dp->peers_fd = bpf_map__fd(dp->in->maps.pw_peers);
	dp->ct_fd = bpf_map__fd(dp->in->maps.pw_ct);
	dp->frags_fd = bpf_map__fd(dp->in->maps.pw_frags);
	dp->rule_stats_fd = bpf_map__fd(dp->in->maps.pw_rule_stats);
	dp->rules_fd = bpf_map__fd(dp->in->maps.pw_rules);
	dp->reason_stats_fd = bpf_map__fd(dp->in->maps.pw_reason_stats);
	dp->port_drops_fd = bpf_map__fd(dp->in->maps.pw_port_drops);
	dp->stats_fd = bpf_map__fd(dp->in->maps.pw_stats);
	dp->ratelimit_fd = bpf_map__fd(dp->in->maps.pw_ratelimit);
	dp->events_fd = bpf_map__fd(dp->in->maps.pw_events);
	dp->meta_fd = bpf_map__fd(dp->in->maps.pw_meta);
	dp->btf_fd = bpf_object__btf_fd(dp->in->obj);
	const struct btf *btf = bpf_object__btf(dp->in->obj);
	if (btf) {
		int k = btf__find_by_name_kind(btf, "pw_peer_key", BTF_KIND_STRUCT);
		int v = btf__find_by_name_kind(btf, "pw_peer_val", BTF_KIND_STRUCT);
		dp->btf_key_id = k > 0 ? (uint32_t)k : 0;
		dp->btf_val_id = v > 0 ? (uint32_t)v : 0;
	}
	return 0;
}

/* The maps by pin name, in one table for pin, open and unpin. */
struct pin_map {
	const char *name;
	size_t off;	/* of the fd in struct pw_dp */
};

static const struct pin_map pin_maps[] = {
	{ "pw_state", offsetof(struct pw_dp, state_fd) }, { "pw_slots", offsetof(struct pw_dp, slots_fd) },
	{ "pw_peers", offsetof(struct pw_dp, peers_fd) }, { "pw_ct", offsetof(struct pw_dp, ct_fd) },
	{ "pw_frags", offsetof(struct pw_dp, frags_fd) },
	{ "pw_rule_stats", offsetof(struct pw_dp, rule_stats_fd) },
	{ "pw_rules", offsetof(struct pw_dp, rules_fd) },
	{ "pw_reason_stats", offsetof(struct pw_dp, reason_stats_fd) },
	{ "pw_port_drops", offsetof(struct pw_dp, port_drops_fd) },
	{ "pw_stats", offsetof(struct pw_dp, stats_fd) }, { "pw_ratelimit", offsetof(struct pw_dp, ratelimit_fd) },
	{ "pw_events", offsetof(struct pw_dp, events_fd) }, { "pw_meta", offsetof(struct pw_dp, meta_fd) },
};
static const char *const pin_progs[PW_DIR_COUNT] = { "prog_ingress", "prog_egress" };
#define NPIN (sizeof(pin_maps) / sizeof(pin_maps[0]))

static int *fd_at(struct pw_dp *dp, size_t off)
{
	return (int *)((char *)dp + off);
}

static bool dir_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool empty = true;

	if (!d)
		return false;
	while (empty && (e = readdir(d)))
		empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	closedir(d);
	return empty;
}

int pw_dp_pin(const struct pw_dp *dp, const char *root, char *err, size_t n)
{
	char path[512];

	if (mkdir(root, 0700)) {
		if (errno != EEXIST)
			return pw_errf(err, n, -errno, "creating the pin directory %s failed: %s", root,
				       strerror(errno));
		/* made before (by hand, another umask): empty, it is ours now,
		 * and root's only like one made here */
		if (dir_empty(root) && chmod(root, 0700))
			return pw_errf(err, n, -errno, "making %s root's only failed: %s", root, strerror(errno));
	}
	for (size_t i = 0; i < NPIN; i++) {
		snprintf(path, sizeof(path), "%s/%s", root, pin_maps[i].name);
		if (bpf_obj_pin(*fd_at((struct pw_dp *)dp, pin_maps[i].off), path))
			return pw_errf(err, n, -errno, "pinning %s failed: %s", path, strerror(errno));
	}
	for (int d = 0; d < PW_DIR_COUNT; d++) {
		snprintf(path, sizeof(path), "%s/%s", root, pin_progs[d]);
		if (bpf_obj_pin(dp->prog_fd[d], path))
			return pw_errf(err, n, -errno, "pinning %s failed: %s", path, strerror(errno));
	}
	return 0;
}

void pw_dp_unpin(const char *root)
{
	char path[512];

	for (size_t i = 0; i < NPIN; i++) {
		snprintf(path, sizeof(path), "%s/%s", root, pin_maps[i].name);
		unlink(path);
	}
	for (int d = 0; d < PW_DIR_COUNT; d++) {
		snprintf(path, sizeof(path), "%s/%s", root, pin_progs[d]);
		unlink(path);
	}
}

int pw_dp_open_pinned(struct pw_dp *dp, const char *root, char *err, size_t n)
{
	char path[512];
	struct bpf_map_info info;
	uint32_t len = sizeof(info);

	memset(dp, 0, sizeof(*dp));
	for (size_t i = 0; i < NPIN; i++)
		*fd_at(dp, pin_maps[i].off) = -1;
	dp->prog_fd[0] = dp->prog_fd[1] = dp->btf_fd = -1;
	dp->pinned = true;
	dp->ncpus = libbpf_num_possible_cpus();
	for (size_t i = 0; i < NPIN; i++) {
		snprintf(path, sizeof(path), "%s/%s", root, pin_maps[i].name);
		int fd = bpf_obj_get(path);
		if (fd < 0) {
			int e = errno;
			pw_dp_close(dp);
			if (e == ENOENT && i == 0)
				return pw_errf(err, n, -ENOENT, "no portwall is loaded under %s", root);
			return pw_errf(err, n, -e, "opening %s failed: %s (a partial or older portwall: "
				    "portwall unload --pin-root %s, then apply again)", path, strerror(e), root);
		}
		*fd_at(dp, pin_maps[i].off) = fd;
	}
	for (int d = 0; d < PW_DIR_COUNT; d++) {
		snprintf(path, sizeof(path), "%s/%s", root, pin_progs[d]);
		dp->prog_fd[d] = bpf_obj_get(path);
		if (dp->prog_fd[d] < 0) {
			int e = errno;
			pw_dp_close(dp);
			return pw_errf(err, n, -e, "opening %s failed: %s", path, strerror(e));
		}
	}
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(dp->rule_stats_fd, &info, &len) == 0)
		dp->rule_capacity = info.max_entries / 4;
	/* the BTF the maps were made with, for the peer tries of reloads */
	memset(&info, 0, sizeof(info));
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(dp->slots_fd, &info, &len) == 0 && info.btf_id) {
		struct btf *btf = btf__load_from_kernel_by_id(info.btf_id);
		if (btf) {
			int k = btf__find_by_name_kind(btf, "pw_peer_key", BTF_KIND_STRUCT);
			int v = btf__find_by_name_kind(btf, "pw_peer_val", BTF_KIND_STRUCT);
			dp->btf_key_id = k > 0 ? (uint32_t)k : 0;
			dp->btf_val_id = v > 0 ? (uint32_t)v : 0;
			btf__free(btf);
			dp->btf_fd = bpf_btf_get_fd_by_id(info.btf_id);
		}
	}
	return 0;
}

int pw_dp_read_meta(const struct pw_dp *dp, struct pw_meta *m)
{
	uint32_t zero = 0;
	struct pw_state st;

	if (bpf_map_lookup_elem(dp->meta_fd, &zero, m))
		return -errno;
	/* apply records a generation before it puts it in force, rollback
	 * after: a process killed between the two writes leaves pw_state
	 * with the generation meta calls previous. What is in force is what
	 * pw_state says; the other half holds the other record, whole. */
	if (m->prev.generation && m->prev.generation != m->cur.generation &&
	    pw_dp_read_state(dp, &st) == 0 && st.generation == m->prev.generation) {
		struct pw_policy_rec t = m->cur;
		m->cur = m->prev;
		m->prev = t;
	}
	return 0;
}

int pw_dp_write_meta(const struct pw_dp *dp, const struct pw_meta *m)
{
	uint32_t zero = 0;
	return bpf_map_update_elem(dp->meta_fd, &zero, m, BPF_ANY) ? -errno : 0;
}


/* A new peer trie for one half, with the programs' BTF for key and value
 * so that bpftool prints named fields. */
static int new_trie(struct pw_dp *dp, uint32_t half, size_t entries, char *err, size_t n)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_NO_PREALLOC);
	char name[16];

	if (dp->btf_fd >= 0 && dp->btf_key_id && dp->btf_val_id) {
		mo.btf_fd = (uint32_t)dp->btf_fd;
		mo.btf_key_type_id = dp->btf_key_id;
		mo.btf_value_type_id = dp->btf_val_id;
	}
	snprintf(name, sizeof(name), "pw_peers_h%u", half);
	int fd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, name, sizeof(struct pw_peer_key),
				sizeof(struct pw_peer_val), entries ? (uint32_t)entries : 1, &mo);
	if (fd < 0)
		return pw_errf(err, n, -errno, "creating the peer trie (%zu entries) failed: %s", entries,
			    strerror(errno));
	return fd;
}

int pw_dp_zero_stats(struct pw_dp *dp, uint32_t half)
{
	uint32_t cap = dp->rule_capacity, n = 2 * cap, count = n;
	uint32_t *keys = malloc(n * sizeof(*keys));
	struct pw_counter *zeros = calloc((size_t)n * (size_t)dp->ncpus, sizeof(*zeros));
	int rc = 0;

	if (!keys || !zeros) {
		rc = -ENOMEM;
	} else {
		for (uint32_t i = 0; i < n; i++)
			keys[i] = (half & 1) * 2 * cap + i;
		if (bpf_map_update_batch(dp->rule_stats_fd, keys, zeros, &count, NULL))
			rc = -errno;
	}
	free(keys);
	free(zeros);
	return rc;
}

/* Zero a half's rule counters (no packet writes them: the half is not in
 * force) and record its rules' fingerprints with no carried counts. */
static int reset_rules(struct pw_dp *dp, uint32_t half, const struct pw_compiled *c)
{
	uint32_t cap = dp->rule_capacity, count;
	uint32_t *keys = malloc(cap * sizeof(*keys));
	struct pw_rule_info *infos = calloc(cap, sizeof(*infos));
	int rc = pw_dp_zero_stats(dp, half);

	if (!rc && (!keys || !infos))
		rc = -ENOMEM;
	if (rc)
		goto out;
	for (uint32_t i = 0; i < cap; i++) {
		keys[i] = half * cap + i;
		if (i <= c->nrules)
			infos[i].fingerprint = c->rule_fp[i];
	}
	count = cap;
	if (bpf_map_update_batch(dp->rules_fd, keys, infos, &count, NULL))
		rc = -errno;
out:
	free(keys);
	free(infos);
	return rc;
}

/* The trie's entries in batches of one syscall each (one by one where
 * the kernel has no batch update for tries). */
static int fill_trie(int fd, const struct pw_compiled *c)
{
	const size_t batch = 8192;
	struct pw_peer_key *keys = malloc(batch * sizeof(*keys));
	struct pw_peer_val *vals = malloc(batch * sizeof(*vals));
	int rc = 0;
	bool one_by_one = false;

	if (!keys || !vals)
		rc = -ENOMEM;
	for (size_t i = 0; rc == 0 && i < c->npeers;) {
		size_t k = c->npeers - i < batch ? c->npeers - i : batch;
		for (size_t j = 0; j < k; j++) {
			keys[j] = c->peers[i + j].key;
			vals[j] = c->peers[i + j].val;
		}
		uint32_t count = (uint32_t)k;
		if (!one_by_one && bpf_map_update_batch(fd, keys, vals, &count, NULL) == 0) {
			i += k;
			continue;
		}
		if (!one_by_one && (errno == EINVAL || errno == ENOTSUP || errno == EOPNOTSUPP) && count == 0)
			one_by_one = true;
		else if (!one_by_one) {
			rc = -errno;
			break;
		}
		for (size_t j = 0; j < k && rc == 0; j++)
			if (bpf_map_update_elem(fd, &keys[j], &vals[j], BPF_NOEXIST))
				rc = -errno;
		i += k;
	}
	free(keys);
	free(vals);
	return rc;
}

int pw_dp_fits(const struct pw_dp *dp, const struct pw_compiled *c, char *err, size_t n)
{
	if (c->nrules >= dp->rule_capacity)
		return pw_errf(err, n, -E2BIG, "the policy has %u rules; this datapath counts at most %u: "
			    "unload and apply again", c->nrules, dp->rule_capacity - 1);
	return 0;
}

int pw_dp_write_half(struct pw_dp *dp, uint32_t half, const struct pw_compiled *c,
		     const struct pw_config *cfg, char *err, size_t n)
{
	int rc = 0, fd = -1;

	half &= 1;
	if ((rc = pw_dp_fits(dp, c, err, n)))
		return rc;
	/* the half not in force, in one pass over the mapped array (array
	 * elements are laid out 8-byte aligned) */
	size_t stride = (sizeof(struct pw_slot) + 7) & ~(size_t)7;
	size_t len = 2 * (size_t)PW_SLOT_COUNT * stride;
	long page = sysconf(_SC_PAGESIZE);
	len = (len + (size_t)page - 1) & ~((size_t)page - 1);
	uint8_t *base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, dp->slots_fd, 0);
	if (base == MAP_FAILED)
		return pw_errf(err, n, -errno, "mapping the decision slots failed: %s", strerror(errno));
	for (uint32_t i = 0; i < PW_SLOT_COUNT; i++)
		memcpy(base + ((size_t)half * PW_SLOT_COUNT + i) * stride, &c->slots[i], sizeof(c->slots[i]));
	munmap(base, len);
	fd = new_trie(dp, half, c->npeers, err, n);
	if (fd < 0)
		return fd;
	rc = fill_trie(fd, c);
	if (rc) {
		close(fd);
		return pw_errf(err, n, rc, "writing the peer trie (%zu entries) failed: %s", c->npeers,
			       strerror(-rc));
	}
	if (bpf_map_update_elem(dp->peers_fd, &half, &fd, BPF_ANY)) {
		rc = -errno;
		close(fd);
		return pw_errf(err, n, rc, "installing the peer trie failed: %s", strerror(-rc));
	}
	close(fd);	/* the outer map holds it now */
	rc = reset_rules(dp, half, c);
	if (rc)
		return pw_errf(err, n, rc, "resetting the rule counters failed: %s", strerror(-rc));
	/* the half not in force gets its config; the active half's bytes are
	 * written back unchanged */
	struct pw_state st;
	uint32_t zero = 0;
	if (bpf_map_lookup_elem(dp->state_fd, &zero, &st))
		return pw_errf(err, n, -errno, "reading the policy state failed: %s", strerror(errno));
	st.cfg[half] = *cfg;
	st.cfg[half].rule_base = half * 2 * dp->rule_capacity;
	if (bpf_map_update_elem(dp->state_fd, &zero, &st, BPF_ANY))
		return pw_errf(err, n, -errno, "writing the policy config failed: %s", strerror(errno));
	return 0;
}

int pw_dp_read_state(const struct pw_dp *dp, struct pw_state *st)
{
	uint32_t zero = 0;
	return bpf_map_lookup_elem(dp->state_fd, &zero, st) ? -errno : 0;
}

int pw_dp_activate(struct pw_dp *dp, uint32_t half, uint32_t generation)
{
	struct pw_state st;
	uint32_t zero = 0;

	if (pw_dp_read_state(dp, &st))
		return -errno;
	st.active = half & 1;
	st.generation = generation;
	/* only the active word changes (0 <-> 1: a single byte) */
	if (bpf_map_update_elem(dp->state_fd, &zero, &st, BPF_ANY))
		return -errno;
	/* a grace period: every packet that read the old half has finished */
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) < 0)
		usleep(20000);
	return 0;
}

void pw_dp_close(struct pw_dp *dp)
{
	if (dp->pinned) {
		for (size_t i = 0; i < NPIN; i++)
			if (*fd_at(dp, pin_maps[i].off) >= 0)
				close(*fd_at(dp, pin_maps[i].off));
		for (int d = 0; d < PW_DIR_COUNT; d++)
			if (dp->prog_fd[d] >= 0)
				close(dp->prog_fd[d]);
		if (dp->btf_fd >= 0)
			close(dp->btf_fd);
		dp->pinned = false;
		return;
	}
	if (dp->out)
		egress_bpf__destroy(dp->out);
	if (dp->in)
		ingress_bpf__destroy(dp->in);
	dp->in = NULL;
	dp->out = NULL;
}
