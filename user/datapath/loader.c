/* loader.c - load the datapath (both programs, one set of maps) or open
 * it from its pins, pin and unpin it, read and write its meta and state
 * records. The rest of the struct pw_dp API (loader.h) is in halves.c,
 * counters.c, testrun.c, ct_flush.c and events.c. */
#include "datapath/loader.h"

#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "datapath/skel_sizes.h"
#include "lib/diag.h"

static bool verbose;

/* libbpf's messages only with -v: errors are reported by the caller with
 * what to do, and the verifier's log is long */
static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return verbose ? vfprintf(stderr, fmt, ap) : 0;
}

void pw_dp_set_verbose(bool on)
{
	verbose = on;
	libbpf_set_print(print_fn);
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

/* Open both objects and size the maps whose size the caller chooses. */
static int open_objects(struct pw_dp *dp, const struct pw_dp_opts *o, char *err, size_t n)
{
	dp->in = ingress_bpf__open();
	dp->out = egress_bpf__open();
	if (!dp->in || !dp->out) {
		int rc = -errno;
		return pw_errf(err, n, rc, "opening the BPF objects failed: %s", strerror(-rc));
	}
	bpf_map__set_max_entries(dp->in->maps.pw_rule_stats, 4 * dp->rule_capacity);
	bpf_map__set_max_entries(dp->in->maps.pw_rules, 2 * dp->rule_capacity);
	bpf_map__set_max_entries(dp->in->maps.pw_classes, 2 * dp->class_words);
	bpf_map__set_max_entries(dp->in->maps.pw_flat4, 2 * dp->flat4_chunks);
	pw_dp_skel_sizes(dp, dp->in, dp->out);
	uint32_t ct = o->ct_capacity ? o->ct_capacity : PW_CT_CAPACITY;
	bpf_map__set_max_entries(dp->in->maps.pw_ct, ct);	/* TCP the host opens */
	bpf_map__set_max_entries(dp->in->maps.pw_ct_dgram, ct / PW_CT_DGRAM_SHARE);	/* the rest it opens */
	bpf_map__set_max_entries(dp->in->maps.pw_ct_in, ct / PW_CT_IN_SHARE);	/* flows peers start */
	if (o->no_l3) {
		bpf_program__set_autoload(dp->in->progs.pw_ingress_l3, false);
		bpf_program__set_autoload(dp->out->progs.pw_egress_l3, false);
	}
	return 0;
}

/* Load ingress, which creates the maps, then egress on those maps. */
static int load_objects(struct pw_dp *dp, char *err, size_t n)
{
	int rc = ingress_bpf__load(dp->in);

	if (rc == -EPERM)
		return pw_errf(err, n, rc, "loading the XDP program was refused (EPERM): run as root or "
			       "with CAP_BPF and CAP_NET_ADMIN");
	if (rc)
		return pw_errf(err, n, rc, "loading the XDP program failed: %s (run with -v for the "
			       "verifier's log)", strerror(-rc));
	rc = share_maps(dp->in->obj, dp->out->obj, err, n);
	if (rc)
		return rc;
	rc = egress_bpf__load(dp->out);
	if (rc)
		return pw_errf(err, n, rc, "loading the tc program failed: %s (run with -v for the "
			       "verifier's log)", strerror(-rc));
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
	{ "pw_frags", offsetof(struct pw_dp, frags_fd) }, { "pw_ct_in", offsetof(struct pw_dp, ct_in_fd) },
	{ "pw_frag_src", offsetof(struct pw_dp, frag_src_fd) },
	{ "pw_ct_dgram", offsetof(struct pw_dp, ct_dgram_fd) },
	{ "pw_rule_stats", offsetof(struct pw_dp, rule_stats_fd) },
	{ "pw_rules", offsetof(struct pw_dp, rules_fd) },
	{ "pw_reason_stats", offsetof(struct pw_dp, reason_stats_fd) },
	{ "pw_port_drops", offsetof(struct pw_dp, port_drops_fd) },
	{ "pw_stats", offsetof(struct pw_dp, stats_fd) }, { "pw_ratelimit", offsetof(struct pw_dp, ratelimit_fd) },
	{ "pw_events", offsetof(struct pw_dp, events_fd) }, { "pw_meta", offsetof(struct pw_dp, meta_fd) },
	{ "pw_names", offsetof(struct pw_dp, names_fd) }, { "pw_resolvers", offsetof(struct pw_dp, resolvers_fd) },
	{ "pw_dns_q", offsetof(struct pw_dp, dnsq_fd) }, { "pw_learned", offsetof(struct pw_dp, learned_fd) },
	{ "pw_dns_stats", offsetof(struct pw_dp, dns_stats_fd) },
	{ "pw_dns_users", offsetof(struct pw_dp, dns_users_fd) },
	{ "pw_classes", offsetof(struct pw_dp, classes_fd) },
	{ "pw_exc", offsetof(struct pw_dp, exc_fd) },
	{ "pw_flat4", offsetof(struct pw_dp, flat4_fd) },
};
/* the programs by pin name: [link][dir] (enum pw_link, PW_DIR_*). The L3
 * pins are optional when opening: an older portwall pinned none. */
static const char *const pin_progs[PW_LINK_COUNT][PW_DIR_COUNT] = {
	{ "prog_ingress", "prog_egress" }, { "prog_ingress_l3", "prog_egress_l3" },
};
#define NPIN (sizeof(pin_maps) / sizeof(pin_maps[0]))

static int *fd_at(struct pw_dp *dp, size_t off)
{
	return (int *)((char *)dp + off);
}

/* The loaded objects' fds, and the BTF new peer tries are made with. */
static void take_fds(struct pw_dp *dp)
{
	dp->prog_fd[PW_DIR_IN] = bpf_program__fd(dp->in->progs.pw_ingress);
	dp->prog_fd[PW_DIR_OUT] = bpf_program__fd(dp->out->progs.pw_egress);
	dp->prog_l3_fd[PW_DIR_IN] = bpf_program__fd(dp->in->progs.pw_ingress_l3);
	dp->prog_l3_fd[PW_DIR_OUT] = bpf_program__fd(dp->out->progs.pw_egress_l3);
	for (size_t i = 0; i < NPIN; i++)	/* every map has its pin's name */
		*fd_at(dp, pin_maps[i].off) = bpf_map__fd(bpf_object__find_map_by_name(dp->in->obj, pin_maps[i].name));
	dp->btf_fd = bpf_object__btf_fd(dp->in->obj);
	const struct btf *btf = bpf_object__btf(dp->in->obj);
	if (btf) {
		int k = btf__find_by_name_kind(btf, "pw_peer_key", BTF_KIND_STRUCT);
		int v = btf__find_by_name_kind(btf, "pw_peer_val", BTF_KIND_STRUCT);
		dp->btf_key_id = k > 0 ? (uint32_t)k : 0;
		dp->btf_val_id = v > 0 ? (uint32_t)v : 0;
	}
}

int pw_dp_load(struct pw_dp *dp, const struct pw_dp_opts *o, char *err, size_t n)
{
	int rc;

	memset(dp, 0, sizeof(*dp));
	pw_dp_set_verbose(o->verbose);
	dp->ncpus = libbpf_num_possible_cpus();
	if (dp->ncpus <= 0)
		return pw_errf(err, n, -EINVAL, "cannot count the CPUs (libbpf_num_possible_cpus: %d)", dp->ncpus);
	dp->rule_capacity = o->rule_capacity ? o->rule_capacity : 1024;
	dp->class_words = o->class_words ? o->class_words : pw_dp_class_words_for(dp->rule_capacity, 0);
	dp->flat4_chunks = o->flat4_chunks ? o->flat4_chunks : PW_FLAT4_DEFAULT;
	rc = open_objects(dp, o, err, n);
	if (!rc)
		rc = load_objects(dp, err, n);
	if (rc) {
		pw_dp_close(dp);	/* what was opened or loaded so far */
		return rc;
	}
	take_fds(dp);
	return 0;
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
	for (int l = 0; l < PW_LINK_COUNT; l++)
		for (int d = 0; d < PW_DIR_COUNT; d++) {
			int fd = pw_dp_prog(dp, (uint8_t)l, (uint32_t)d);
			if (fd < 0)
				continue;	/* the L3 ones, until an interface needs them */
			snprintf(path, sizeof(path), "%s/%s", root, pin_progs[l][d]);
			if (bpf_obj_pin(fd, path))
				return pw_errf(err, n, -errno, "pinning %s failed: %s", path, strerror(errno));
		}
	return 0;
}

int pw_dp_pin_l3(const struct pw_dp *dp, const char *root, char *err, size_t n)
{
	char path[PW_DIR_COUNT][512];

	for (int d = 0; d < PW_DIR_COUNT; d++) {
		snprintf(path[d], sizeof(path[d]), "%s/%s", root, pin_progs[PW_LINK_L3][d]);
		unlink(path[d]);	/* one of a pair pinned before: the pair is the new one */
	}
	for (int d = 0; d < PW_DIR_COUNT; d++) {
		if (bpf_obj_pin(dp->prog_l3_fd[d], path[d]) == 0)
			continue;
		int rc = pw_errf(err, n, -errno, "pinning %s failed: %s", path[d], strerror(errno));
		for (int u = 0; u < d; u++)
			unlink(path[u]);	/* none of the pair, not half of it */
		return rc;
	}
	return 0;
}

int pw_dp_map_fd(const struct pw_dp *dp, const char *name)
{
	for (size_t i = 0; i < NPIN; i++)
		if (strcmp(pin_maps[i].name, name) == 0)
			return *fd_at((struct pw_dp *)dp, pin_maps[i].off);
	return -1;
}

int pw_dp_prog(const struct pw_dp *dp, uint8_t link, uint32_t dir)
{
	if (dir >= PW_DIR_COUNT)
		return -1;
	return link == PW_LINK_L3 ? dp->prog_l3_fd[dir] : link == PW_LINK_ETHER ? dp->prog_fd[dir] : -1;
}

void pw_dp_unpin(const char *root)
{
	char path[512];

	for (size_t i = 0; i < NPIN; i++) {
		snprintf(path, sizeof(path), "%s/%s", root, pin_maps[i].name);
		unlink(path);
	}
	for (int l = 0; l < PW_LINK_COUNT; l++)
		for (int d = 0; d < PW_DIR_COUNT; d++) {
			snprintf(path, sizeof(path), "%s/%s", root, pin_progs[l][d]);
			unlink(path);
		}
}

/* Maps pinned by another version of portwall hold other layouts: refuse
 * them rather than read or write them wrongly (the programs attached are
 * that version's too, and a reload only writes maps). */
static int check_layout(const struct pw_dp *dp, const char *root, char *err, size_t n)
{
	static const struct { const char *name; size_t off, size; } want[] = {
		{ "pw_meta", offsetof(struct pw_dp, meta_fd), sizeof(struct pw_meta) },
		{ "pw_stats", offsetof(struct pw_dp, stats_fd), sizeof(struct pw_stats) },
		{ "pw_state", offsetof(struct pw_dp, state_fd), sizeof(struct pw_state) },
		{ "pw_ct", offsetof(struct pw_dp, ct_fd), sizeof(struct pw_ct_val) },
		{ "pw_ct_dgram", offsetof(struct pw_dp, ct_dgram_fd), sizeof(struct pw_ct_val) },
		{ "pw_ct_in", offsetof(struct pw_dp, ct_in_fd), sizeof(struct pw_ct_val) },
		{ "pw_dns_stats", offsetof(struct pw_dp, dns_stats_fd), sizeof(struct pw_dns_stats) },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct bpf_map_info info = { 0 };
		uint32_t len = sizeof(info);
		int fd = *(const int *)((const char *)dp + want[i].off);
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.value_size == want[i].size)
			continue;
		return pw_errf(err, n, -EPROTO, "the portwall under %s was loaded by another version (its %s holds "
			       "%u bytes, this one %zu): run `portwall unload --pin-root %s` with either, then apply "
			       "again", root, want[i].name, info.value_size, want[i].size, root);
	}
	return 0;
}

int pw_dp_open_pinned(struct pw_dp *dp, const char *root, char *err, size_t n)
{
	char path[512];
	struct bpf_map_info info;
	uint32_t len = sizeof(info);

	memset(dp, 0, sizeof(*dp));
	for (size_t i = 0; i < NPIN; i++)
		*fd_at(dp, pin_maps[i].off) = -1;
	dp->prog_fd[0] = dp->prog_fd[1] = dp->prog_l3_fd[0] = dp->prog_l3_fd[1] = dp->btf_fd = -1;
	dp->pinned = true;
	dp->ncpus = libbpf_num_possible_cpus();
	if (strlen(root) < sizeof(dp->root))
		memcpy(dp->root, root, strlen(root) + 1);
	for (size_t i = 0; i < NPIN; i++) {
		snprintf(path, sizeof(path), "%s/%s", root, pin_maps[i].name);
		int fd = bpf_obj_get(path);
		if (fd < 0) {
			int e = errno;
			pw_dp_close(dp);
			if (e == ENOENT && i == 0)
				return pw_errf(err, n, -ENOENT, "no portwall is loaded under %s", root);
			/* another pin missing is a partial or older load, not
			 * none: -ENOENT would have apply load over it, and
			 * unload leave it */
			return pw_errf(err, n, e == ENOENT ? -EPROTO : -e, "opening %s failed: %s (a partial or older "
				    "portwall: portwall unload --pin-root %s, then apply again)", path, strerror(e), root);
		}
		*fd_at(dp, pin_maps[i].off) = fd;
	}
	for (int d = 0; d < PW_DIR_COUNT; d++) {
		snprintf(path, sizeof(path), "%s/%s", root, pin_progs[PW_LINK_ETHER][d]);
		dp->prog_fd[d] = bpf_obj_get(path);
		if (dp->prog_fd[d] < 0) {
			int e = errno;
			pw_dp_close(dp);
			return pw_errf(err, n, -e, "opening %s failed: %s", path, strerror(e));
		}
		/* absent under a portwall that predates them: -1, and an
		 * interface that needs them is refused (apply.c) */
		snprintf(path, sizeof(path), "%s/%s", root, pin_progs[PW_LINK_L3][d]);
		dp->prog_l3_fd[d] = bpf_obj_get(path);
	}
	if (check_layout(dp, root, err, n)) {
		pw_dp_close(dp);
		return -EPROTO;
	}
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(dp->rule_stats_fd, &info, &len) == 0)
		dp->rule_capacity = info.max_entries / 4;
	memset(&info, 0, sizeof(info));
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(dp->classes_fd, &info, &len) == 0)
		dp->class_words = info.max_entries / 2;
	memset(&info, 0, sizeof(info));
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(dp->flat4_fd, &info, &len) == 0)
		dp->flat4_chunks = info.max_entries / 2;
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

void pw_dp_close(struct pw_dp *dp)
{
	if (dp->pinned) {
		for (size_t i = 0; i < NPIN; i++)
			if (*fd_at(dp, pin_maps[i].off) >= 0)
				close(*fd_at(dp, pin_maps[i].off));
		for (int d = 0; d < PW_DIR_COUNT; d++) {
			if (dp->prog_fd[d] >= 0)
				close(dp->prog_fd[d]);
			if (dp->prog_l3_fd[d] >= 0)
				close(dp->prog_l3_fd[d]);
		}
		if (dp->btf_fd >= 0)
			close(dp->btf_fd);
		for (size_t i = 0; i < NPIN; i++)
			*fd_at(dp, pin_maps[i].off) = -1;
		dp->prog_fd[0] = dp->prog_fd[1] = dp->prog_l3_fd[0] = dp->prog_l3_fd[1] = dp->btf_fd = -1;
		dp->pinned = dp->l3_later = false;
		return;
	}
	for (int d = 0; d < PW_DIR_COUNT && dp->l3_later; d++)
		if (dp->prog_l3_fd[d] >= 0)
			close(dp->prog_l3_fd[d]);	/* pw_dp_load_l3's */
	dp->l3_later = false;
	if (dp->out)
		egress_bpf__destroy(dp->out);
	if (dp->in)
		ingress_bpf__destroy(dp->in);
	dp->in = NULL;
	dp->out = NULL;
}

int pw_dp_read_state(const struct pw_dp *dp, struct pw_state *st)
{
	uint32_t zero = 0;
	return bpf_map_lookup_elem(dp->state_fd, &zero, st) ? -errno : 0;
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
