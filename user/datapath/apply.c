/* apply.c - the apply transaction: compile a policy, write it into the
 * half of the policy maps not in force and put it in force with one
 * write; on a first apply load and pin the programs and attach them.
 * Each step is a function with the cleanup it owns; pw_apply_tx reads as
 * their order, with the kill -9 fault points between them
 * (docs/reliability.md). A reload changes nothing of the policy in force
 * until pw_dp_activate; a first apply changes nothing until it attaches. */
#include "datapath/apply.h"
#include "datapath/resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "policy/analyze.h"
#include "datapath/adopt.h"
#include "datapath/linktype.h"
#include "datapath/state.h"

/* One apply in progress: what the steps hand each other. */
struct tx {
	const struct pw_apply_opts *o;
	struct pw_apply_result *r;
	struct pw_policy pol;
	struct pw_compiled c;
	bool have_policy;
	char abspath[PATH_MAX];
	char names[PW_MAX_IFACES][IF_NAMESIZE];
	unsigned idx[PW_MAX_IFACES];
	uint8_t link[PW_MAX_IFACES];	/* enum pw_link: which programs each takes */
	int nif, saved, lock;
	uint32_t ns_ino;	/* of the namespace the interfaces are in */
	struct pw_dp dp;
	bool dp_open;
	struct pw_meta m;
	bool first;
	uint32_t half;		/* the half the new policy goes into */
	uint32_t top_gen;	/* the highest generation recorded before */
	bool walk_due;		/* the half in force had not finished its walk (pw_meta.ct_walk_due) */
	struct pw_config cfg;
	struct pw_ip res[PW_RESOLVERS_MAX];	/* whose answers teach the host names */
	size_t nres;
};

/* Fail with a message in r->err and what is left in force. */
static int fail(struct tx *t, enum pw_apply_left left, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct tx *t, enum pw_apply_left left, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->r->err, sizeof(t->r->err), fmt, ap);
	va_end(ap);
	t->r->left = left;
	return -1;
}

/* Over SSH ($SSH_CONNECTION), in this network namespace (not --netns), a
 * policy that would drop the session is refused unless --force: the
 * warning above it says what to add. */
static int lockout(struct tx *t)
{
	char why[400];

	if (t->o->force || t->o->netns ||
	    !pw_ssh_cut(&t->pol, &t->c, getenv("SSH_CONNECTION"), why, sizeof(why)))
		return 0;
	t->r->lockout = true;
	return fail(t, PW_LEFT_SAID, "refused: the policy would cut off the SSH session you run this from "
		    "(%s); nothing was changed. Give --force to apply it anyway (when the session does not "
		    "come in through these interfaces), with --confirm SECONDS to get it back", why);
}

/* Step 1, no kernel contact: parse (StrictModes: a policy others than root
 * could have written is refused), compile, analyze, and the absolute path
 * that reload and status will read again. */
static int parse_compile(struct tx *t)
{
	/* the files' text kept as read: what the store keeps is what was compiled */
	const struct pw_parse_opts po = { .files = PW_FILES_STRICT, .keep_sources = true };
	struct pw_diag *d = &t->r->diag;

	if (t->o->from_gen)	/* rollback GENERATION: its stored files, its mode */
		return pw_gen_compile(t->o->from_gen, &t->pol, &t->c, d);
	if (pw_policy_parse_file_opts(t->o->policy, &po, &t->pol, d))
		return -1;
	if (t->o->mode >= 0)
		t->pol.mode = (uint8_t)t->o->mode;
	if (pw_compile(&t->pol, &t->c, d)) {
		pw_policy_free(&t->pol);
		return -1;
	}
	return 0;
}

static int prepare(struct tx *t)
{
	struct pw_diag *d = &t->r->diag;

	if (parse_compile(t))
		return t->r->diag_failed = true, t->r->left = PW_LEFT_NOTHING, -1;
	t->have_policy = true;
	pw_analyze(&t->pol, &t->c, d);	/* warnings only */
	if (lockout(t))
		return -1;
	char err[600];
	if (pw_policy_resolvers(&t->c, t->o->netns, t->res, &t->nres, err, sizeof(err)))
		return fail(t, PW_LEFT_NOTHING, "%s", err);
	/* what the operator named, made absolute but not resolved: reload
	 * and status read it again, and a symlink switched to another file
	 * since then means that file */
	char cwd[PATH_MAX - 256];	/* the record holds 255 bytes anyway */
	if (t->o->policy[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		snprintf(t->abspath, sizeof(t->abspath), "%s", t->o->policy);
	else
		snprintf(t->abspath, sizeof(t->abspath), "%s/%.250s", cwd, t->o->policy);
	if (strlen(t->abspath) > 255 || strlen(t->o->policy) > 250)
		return fail(t, PW_LEFT_NOTHING, "the policy's path is longer than 255 bytes; move it");
	return 0;
}

/* Is ifindex one of the interfaces this apply is for? */
static bool listed(const struct tx *t, uint32_t ifindex)
{
	for (int i = 0; i < t->nif; i++)
		if (t->idx[i] == ifindex)
			return true;
	return false;
}

/* Add an interface to the ones this apply is for (once), with the
 * programs its link type takes: one portwall cannot enforce on is refused
 * here, before anything is loaded or attached. */
static int add_iface(struct tx *t, const char *name, uint32_t ifindex)
{
	char err[600];
	int arphrd;

	if (listed(t, ifindex))
		return 0;
	if (t->nif == PW_MAX_IFACES)
		return fail(t, PW_LEFT_SAID, "at most %d interfaces", PW_MAX_IFACES);
	if (pw_iface_link(name, &t->link[t->nif], &arphrd, err, sizeof(err)))
		return fail(t, PW_LEFT_NOTHING, "%s", err);
	if (t->link[t->nif] == PW_LINK_L3 && t->o->xdp == PW_XDP_WANT_NATIVE)
		return fail(t, PW_LEFT_NOTHING, "%s has no link-layer header: XDP runs there in generic mode "
			    "only (tun's native XDP never sees a tun packet); use --xdp-mode auto or generic", name);
	snprintf(t->names[t->nif], IF_NAMESIZE, "%s", name);
	t->idx[t->nif++] = ifindex;
	return 0;
}

static void note(struct tx *t, enum pw_iface_change what, const struct pw_iface *f, const char *now,
		 uint32_t ifindex)
{
	struct pw_apply_result *r = t->r;

	if (r->nnote == (int)(sizeof(r->note) / sizeof(r->note[0])))
		return;
	struct pw_iface_note *n = &r->note[r->nnote++];
	n->what = what;
	n->ifindex = ifindex;
	snprintf(n->name, sizeof(n->name), "%.15s", f->name);
	snprintf(n->now, sizeof(n->now), "%s", now);
}

/* A reload's interfaces: every recorded one that is still there, by
 * ifindex and under its name now; then whatever interface now has the
 * name a gone or renamed one was applied by (said as a note). */
static int follow_records(struct tx *t)
{
	const struct pw_meta *m = &t->m;
	char now[IF_NAMESIZE], applied[IF_NAMESIZE];

	t->nif = 0;
	for (int k = 0; k < m->niface; k++)
		if (!pw_iface_gone(m, &m->iface[k], t->ns_ino, now) && add_iface(t, now, m->iface[k].ifindex))
			return -1;
	for (int k = 0; k < m->niface; k++) {
		const struct pw_iface *f = &m->iface[k];
		bool gone = pw_iface_gone(m, f, t->ns_ino, now);
		snprintf(applied, sizeof(applied), "%.15s", f->name);
		uint32_t idx = gone || strcmp(now, applied) ? if_nametoindex(applied) : 0;
		if (!idx || listed(t, idx))
			continue;
		if (add_iface(t, applied, idx))
			return -1;
		note(t, PW_IFC_NEW, f, applied, idx);
	}
	return 0;
}

/* Split "a,b" into names; every one must exist (in the netns) and have a
 * link type portwall enforces on (add_iface). */
static int resolve_ifaces(struct tx *t)
{
	char buf[512], *save, *s;
	uint32_t idx;

	t->nif = 0;
	snprintf(buf, sizeof(buf), "%s", t->o->ifaces);
	for (s = strtok_r(buf, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		if (strlen(s) >= IF_NAMESIZE || !(idx = if_nametoindex(s)))
			return fail(t, PW_LEFT_NOTHING, "no interface \"%s\"", s);
		if (add_iface(t, s, idx))
			return -1;
	}
	return t->nif ? 0 : fail(t, PW_LEFT_NOTHING, "no interface given");
}

/* The datapath pinned under the root, when it is whole and ours: 0, or
 * -ENOENT when there is none (a first apply), or -1 having failed. */
static int open_loaded(struct tx *t)
{
	const char *root = t->o->root, *netns = t->o->netns ? t->o->netns : "";
	char err[600];
	int rc = pw_dp_open_pinned(&t->dp, root, err, sizeof(err));

	if (rc == -ENOENT)
		return rc;
	if (rc)
		return fail(t, PW_LEFT_SAID, "%s", err);
	if (pw_dp_read_meta(&t->dp, &t->m)) {
		int e = errno;
		pw_dp_close(&t->dp);
		return fail(t, PW_LEFT_SAID, "reading what is applied failed: %s", strerror(e));
	}
	if (t->m.cur.generation == 0 && t->m.niface == 0) {
		/* a first apply killed after pinning, before it recorded
		 * anything: nothing of it was ever in force */
		t->r->removed_unfinished = true;
		pw_dp_close(&t->dp);
		pw_dp_unpin(root);
		return -ENOENT;
	}
	if (strcmp(t->m.netns, netns) != 0) {
		pw_dp_close(&t->dp);
		return fail(t, PW_LEFT_NOTHING, "the portwall under %s works in network namespace \"%s\", not "
			    "\"%s\"; use another --pin-root for another namespace", root, t->m.netns, netns);
	}
	t->dp_open = true;
	return 0;
}

/* Does an interface of this apply have no link-layer header? */
static bool needs_l3(const struct tx *t)
{
	for (int i = 0; i < t->nif; i++)
		if (t->link[i] == PW_LINK_L3)
			return true;
	return false;
}

/* An interface without a link-layer header takes the L3 programs, which
 * a first apply without one (or an older portwall) did not load. */
static int have_programs(struct tx *t)
{
	char err[600];

	if (!needs_l3(t) || (pw_dp_prog(&t->dp, PW_LINK_L3, PW_DIR_IN) >= 0 &&
			     pw_dp_prog(&t->dp, PW_LINK_L3, PW_DIR_OUT) >= 0))
		return 0;
	/* the first interface without a link-layer header since the first
	 * apply: its programs verified now, on the maps in force, and pinned */
	if (pw_dp_load_l3(&t->dp, t->o->verbose, err, sizeof(err)) ||
	    pw_dp_pin_l3(&t->dp, t->o->root, err, sizeof(err)))
		return fail(t, PW_LEFT_OLD, "%s", err);
	return 0;
}

/* Step 2: lock the pin root, enter the netns, find the interfaces, and
 * open the loaded datapath or load a new one (not pinned yet). */
static int open_or_load(struct tx *t)
{
	char err[600];

	if (pw_ensure_bpffs(t->o->root, err, sizeof(err)) || (t->lock = pw_lock(t->o->root, err, sizeof(err))) < 0)
		return fail(t, PW_LEFT_NOTHING, "%s", err);
	if (pw_netns_enter(t->o->netns, &t->saved, err, sizeof(err)))
		return fail(t, PW_LEFT_NOTHING, "%s", err);
	t->ns_ino = pw_netns_ino();
	if (!t->o->follow_records && resolve_ifaces(t))
		return -1;
	int rc = open_loaded(t);
	if (rc == 0 && t->o->follow_records && follow_records(t))
		return -1;
	if (rc == -ENOENT && t->o->follow_records)
		return fail(t, PW_LEFT_NOTHING, "nothing is loaded under %s: use apply", t->o->root);
	if (rc == 0)
		return have_programs(t);
	if (rc != -ENOENT)
		return rc;
	t->first = true;
	struct pw_dp_opts lo = {
		.rule_capacity = pw_dp_rule_capacity_for(t->c.nrules),
		.class_words = pw_dp_class_words_for(pw_dp_rule_capacity_for(t->c.nrules), t->c.nclass_words),
		.flat4_chunks = pw_dp_flat4_chunks_for(t->c.nflat4),
		.ct_capacity = t->o->ct_capacity,
		.verbose = t->o->verbose,
		.no_l3 = !needs_l3(t),	/* loaded by the first reload that needs them */
	};
	if (pw_dp_load(&t->dp, &lo, err, sizeof(err)))
		return fail(t, PW_LEFT_NOTHING, "%s", err);
	t->dp_open = true;
	memset(&t->m, 0, sizeof(t->m));
	snprintf(t->m.netns, sizeof(t->m.netns), "%s", t->o->netns ? t->o->netns : "");
	t->m.netns_ino = t->ns_ino;
	return 0;
}

/* A reload while an `apply --confirm` waits: with --confirm again it is
 * refused (the watchdog could then only go back to the unconfirmed one,
 * the previous policy being overwritten); without, it replaces the waiting
 * one, as a plain commit confirms in a router, and its watchdog stands
 * down. A deadline long past (its watchdog gone) no longer counts. */
static int check_pending(struct tx *t)
{
	const struct pw_meta *m = &t->m;
	uint64_t now = (uint64_t)time(NULL);

	if (t->first || !m->confirm_pending || m->confirm_deadline + 5 < now)
		return 0;
	if (!t->o->confirm) {
		t->r->replaced_pending = m->cur.generation;
		return 0;
	}
	return fail(t, PW_LEFT_NOTHING, "generation %u waits for `portwall confirm` (or goes back in %llu s): "
		    "confirm it or roll it back first, so that an unconfirmed policy is never what the next "
		    "watchdog goes back to", m->cur.generation,
		    (unsigned long long)(m->confirm_deadline > now ? m->confirm_deadline - now : 0));
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
	SET(dns_ttl_min);
	SET(dns_ttl_max);
	SET(dns_name_max);
#undef SET
}

/* A reload that compiles to the hash in force, from the same file under
 * the same name, with no setting and no --confirm, and no --confirm waiting: a no-op (no new
 * generation; rollback's target stays). New interfaces are still
 * attached. */
static bool unchanged(struct tx *t)
{
	const struct pw_meta *m = &t->m;
	struct pw_state st;

	if (t->first || m->ct_walk_due || memcmp(t->c.hash, m->cur.hash, sizeof(t->c.hash)) ||
	    t->c.mode != m->cur.mode || strcmp(t->abspath, m->cur.path) || strncmp(t->pol.name, m->cur.name, sizeof(m->cur.name) - 1) ||
	    t->o->confirm || t->r->replaced_pending ||
	    pw_dp_read_state(&t->dp, &st))
		return false;
	/* the settings given (run gives its own at every reload) change nothing */
	struct pw_config now = st.cfg[st.active & 1], cfg = now;
	cfg.mode = t->c.mode;
	apply_settings(t->o, &cfg, t->dp.ncpus);
	t->r->unchanged = !memcmp(&cfg, &now, sizeof(cfg));
	return t->r->unchanged;
}

/* The configuration of the new half: a reload keeps the timeouts and
 * rates in force, then the flags given now apply. */
static int choose_half(struct tx *t)
{
	struct pw_state st;

	if (pw_dp_read_state(&t->dp, &st))
		return fail(t, PW_LEFT_SAID, "reading the policy state failed: %s", strerror(errno));
	t->half = t->first ? 0 : (st.active ^ 1) & 1;
	t->r->capacity_ignored = !t->first && t->o->ct_capacity;
	if (t->c.flat4_roots && t->c.nflat4 > t->dp.flat4_chunks) {	/* write_classes leaves them to the trie */
		t->r->flat4_need = t->c.nflat4;
		t->r->flat4_room = t->dp.flat4_chunks;
	}
	if (t->first) {
		pw_config_default(&t->cfg, t->c.mode, t->dp.ncpus);
	} else {
		t->cfg = st.cfg[st.active & 1];
		t->cfg.mode = t->c.mode;
	}
	apply_settings(t->o, &t->cfg, t->dp.ncpus);
	return 0;
}

/* Step 3: the policy into the half not in force; a first apply pins the
 * datapath after that. */
static int write_inactive(struct tx *t)
{
	enum pw_apply_left kept = t->first ? PW_LEFT_NOTHING : PW_LEFT_OLD;
	char err[600];

	if (choose_half(t))
		return -1;
	/* what pw_dp_write_half would refuse, refused before anything changes */
	if (pw_dp_fits(&t->dp, &t->c, err, sizeof(err)))
		return fail(t, PW_LEFT_OLD, "%s", err);
	/* after a rollback the previous record holds the higher generation:
	 * the new one goes above both, never one a rolled-back policy had */
	t->top_gen = t->m.cur.generation > t->m.prev.generation ? t->m.cur.generation : t->m.prev.generation;
	/* the half about to be written is what rollback would return to:
	 * forget it first, so that a kill -9 mid-write leaves no rollback
	 * into a half-written half */
	if (!t->first && t->m.prev.generation) {
		memset(&t->m.prev, 0, sizeof(t->m.prev));
		if (pw_dp_write_meta(&t->dp, &t->m))
			return fail(t, PW_LEFT_NOTHING, "recording what is applied failed: %s", strerror(errno));
	}
	pw_fault_point("before-write");
	if (pw_dp_write_half(&t->dp, t->half, &t->c, &t->cfg, err, sizeof(err)) ||
	    pw_dp_write_policy_names(&t->dp, t->half, &t->c, t->res, t->nres, err, sizeof(err)))
		return fail(t, kept, "%s", err);
	pw_dp_relearn(&t->dp, t->half, pw_mono_ns());	/* what the kept names learned */
	pw_fault_point("before-pin");
	if (t->first && pw_dp_pin(&t->dp, t->o->root, err, sizeof(err))) {
		pw_dp_unpin(t->o->root);
		rmdir(t->o->root);
		return fail(t, PW_LEFT_NOTHING, "%s", err);
	}
	return 0;
}

/* Step 4a: the generation's sources as compiled, and who applies it,
 * into the store, before it is recorded (so that a generation in force
 * has its sources). A store that fails or is unsafe is said, not fatal:
 * the firewall is not held back by its history. */
static void keep_generation(struct tx *t)
{
	struct pw_gen g = { .generation = t->top_gen + 1, .applied_unix = (uint64_t)time(NULL), .mode = t->c.mode,
			    .nfiles = t->pol.nfiles, .paths = t->pol.files, .src = t->pol.src };
	char err[600];

	memcpy(g.hash, t->c.hash, sizeof(g.hash));
	snprintf(g.name, sizeof(g.name), "%s", t->pol.name);
	snprintf(g.path, sizeof(g.path), "%.255s", t->abspath);
	pw_gen_who(&g, t->o->cmd ? t->o->cmd : "apply");
	int fd = pw_gens_open(t->o->root, true, err, sizeof(err)), rc = fd < 0 ? fd : 0;
	if (fd >= 0 && t->first)
		pw_gen_prune(fd, 0, 0, 0);	/* a load before, unloaded since: its numbers start again */
	if (fd >= 0) {
		rc = g.src ? pw_gen_write(fd, &g, err, sizeof(err)) : pw_errf(err, sizeof(err), -EINVAL, "no sources");
		close(fd);
	}
	if (rc)
		snprintf(t->r->store_err, sizeof(t->r->store_err), "%s", err);
}

/* After the final record: the oldest generations go, never the one in
 * force nor rollback's target. */
static void prune_generations(struct tx *t)
{
	char err[600];
	int fd = t->r->store_err[0] ? -1 : pw_gens_open(t->o->root, false, err, sizeof(err));

	if (fd < 0)
		return;
	pw_gen_prune(fd, pw_gens_keep(), t->m.cur.generation, t->m.prev.generation);
	close(fd);
}

/* Step 4: record the new generation before it goes in force. Killed
 * between this write and the activation, the generation in pw_state still
 * names the record in force (pw_dp_read_meta shows that one); afterwards
 * meta never names a policy that is not the one in force. */
static int record(struct tx *t)
{
	struct pw_meta *m = &t->m;

	keep_generation(t);
	pw_fault_point("before-record");
	if (!t->first)
		m->prev = m->cur;	/* what rollback returns to: the half about to be left */
	/* from the flip until the walk has finished (carry_or_adopt) */
	t->walk_due = m->ct_walk_due;
	m->ct_walk_due = !t->first;
	m->cur.generation = t->top_gen + 1;
	m->cur.mode = t->c.mode;
	m->cur.applied_unix = (uint64_t)time(NULL);
	memcpy(m->cur.hash, t->c.hash, sizeof(m->cur.hash));
	snprintf(m->cur.name, sizeof(m->cur.name), "%s", t->pol.name);
	snprintf(m->cur.path, sizeof(m->cur.path), "%.255s", t->abspath);
	m->confirm_pending = 0;	/* a pending one is replaced (check_pending) */
	m->confirm_deadline = 0;
	m->confirm_token = 0;
	if (pw_dp_write_meta(&t->dp, m) == 0)
		return 0;
	int e = errno;
	if (t->first) {
		pw_dp_unpin(t->o->root);
		rmdir(t->o->root);
	}
	return fail(t, t->first ? PW_LEFT_NOTHING : PW_LEFT_OLD, "recording what is applied failed: %s", strerror(e));
}

/* Step 5: one write puts the new half in force (then a grace period). */
static int activate(struct tx *t)
{
	pw_fault_point("before-activate");
	int rc = pw_dp_activate(&t->dp, t->half, t->m.cur.generation);
	return rc ? fail(t, PW_LEFT_SAID, "putting the policy in force failed: %s", strerror(-rc)) : 0;
}

/* Step 6. A reload: the old half is frozen now; carry the counts of kept
 * rules, and end the flows the new policy no longer allows. A first apply,
 * before attaching: adopt the open connections, so that no packet of one
 * meets an empty conntrack table. Failures here are reported, not fatal. */
static void carry_or_adopt(struct tx *t)
{
	struct pw_apply_result *r = t->r;

	int by[PW_CT_TABLE_COUNT] = { 0 };

	/* counted per table: status tells each table's evictions */
	if (t->first) {
		r->adopted = pw_adopt_sockets(&t->dp, &t->c, &r->not_adopted, by);
		if (r->adopted > 0) {
			t->m.ct_adopted += (uint64_t)by[PW_CT_TABLE_TCP];
			t->m.ct_dgram_adopted += (uint64_t)by[PW_CT_TABLE_DGRAM];
		}
		return;
	}
	uint32_t nold = 0;
	r->carry_rc = pw_dp_half_nrules(&t->dp, t->half ^ 1, &nold);
	if (!r->carry_rc)
		r->carry_rc = pw_dp_carry_fp(&t->dp, t->half ^ 1, t->half, nold, t->c.nrules, t->c.rule_fp);
	/* answers learned into the old half while the new one was written */
	pw_dp_relearn(&t->dp, t->half, pw_mono_ns());
	/* the tables the old half judged alike are not walked: with a million
	 * flows the walk is most of a reload (ct_same.c); unless the old
	 * half's own walk never finished */
	unsigned skip = t->walk_due ? 0 : pw_dp_ct_same(&t->dp, t->half ^ 1, t->half);
	pw_fault_point("before-walk");	/* in force, its flows not judged yet */
	r->ended = pw_dp_flush_ct_skip(&t->dp, t->half, skip, by, &r->revoked);
	if (r->ended >= 0)
		t->m.ct_walk_due = 0;	/* recorded by the meta writes that follow */
	else
		r->ended = errno ? -errno : -EIO;	/* the walk stays due: the next reload walks every table */
	/* in the netns (open_or_load entered it): its peers' TCP connections */
	r->revoke_tcp_rc = pw_dp_revoke_tcp(&t->dp, t->half, &r->revoked);
	t->m.ct_revoked = (uint64_t)r->revoked.total;
	t->m.ct_revoked_tcp += (uint64_t)r->revoked.tcp;
	t->m.ct_revoked_dgram += (uint64_t)r->revoked.dgram;
	t->m.ct_flushed += (uint64_t)by[PW_CT_TABLE_TCP];
	t->m.ct_dgram_flushed += (uint64_t)by[PW_CT_TABLE_DGRAM];
	t->m.ct_in_flushed += (uint64_t)by[PW_CT_TABLE_IN];
}

static void detach_all(const struct pw_meta *m, const char *root)
{
	for (int i = 0; i < m->niface; i++)
		pw_iface_detach(root, &m->iface[i], true);
}

/* Attach one interface (its record f is in meta already). What an apply
 * killed mid-attach left is taken over: our XDP link still pinned and
 * attached stays, the tc filter is replaced in place. */
static int attach_one(const struct pw_dp *dp, const struct pw_apply_opts *o, struct pw_iface *f,
		      const char *pin, char *err, size_t errsz)
{
	int in = pw_dp_prog(dp, f->link, PW_DIR_IN), out = pw_dp_prog(dp, f->link, PW_DIR_OUT);
	int rc = pw_xdp_attached((int)f->ifindex, in);

	if (rc > 0 && access(pin, F_OK) == 0) {
		f->xdp_mode = (uint8_t)rc;
		rc = 0;
	} else {
		pw_detach_xdp(pin);	/* a stale pin, if any */
		/* generic on L3 devices: a TUN device's native XDP hook takes
		 * only tap frames, so a native attach there would enforce nothing */
		enum pw_xdp_want want = f->link == PW_LINK_L3 ? PW_XDP_WANT_GENERIC : o->xdp;
		rc = pw_attach_xdp(in, (int)f->ifindex, f->name, want, o->force, pin, &f->xdp_mode, err, errsz);
	}
	if (!rc) {
		pw_fault_point("mid-attach");	/* XDP on, tc not yet */
		rc = pw_attach_tc(out, (int)f->ifindex, f->name, &f->tc_mode, err, errsz);
		if (rc)
			pw_detach_xdp(pin);
	}
	return rc;
}

/* The record of interface i, added to meta (and written) when it has
 * none: its index in meta, or -1 with a message. */
static int iface_record(struct tx *t, int i, char *err, size_t errsz)
{
	struct pw_meta *m = &t->m;
	int k = 0;

	while (k < m->niface && m->iface[k].ifindex != t->idx[i])
		k++;
	if (k < m->niface && m->iface[k].xdp_mode && m->iface[k].link != t->link[i])
		return pw_errf(err, errsz, -EINVAL, "%s is attached with the %s programs but its link type now needs "
			       "the %s ones: portwall unload, then apply again", t->names[i],
			       pw_link_name(m->iface[k].link), pw_link_name(t->link[i])), -1;
	if (k < m->niface) {
		m->iface[k].link = t->link[i];	/* not attached yet: as it is now */
		/* named anew by apply --iface: that is the name it is applied by now */
		if (!t->o->follow_records)
			memcpy(m->iface[k].name, t->names[i], sizeof(m->iface[k].name));
		return k;
	}
	if (m->niface == PW_MAX_IFACES)
		return pw_errf(err, errsz, -E2BIG, "at most %d interfaces", PW_MAX_IFACES), -1;
	struct pw_iface *f = &m->iface[m->niface++];
	memset(f, 0, sizeof(*f));
	f->ifindex = t->idx[i];
	f->link = t->link[i];
	_Static_assert(sizeof(f->name) == IF_NAMESIZE, "an interface name");
	memcpy(f->name, t->names[i], sizeof(f->name));	/* NUL-terminated by resolve_ifaces */
	f->tc_mode = PW_TC_CLSACT;	/* until attached: our filter, if any, goes */
	int rc = pw_dp_write_meta(&t->dp, m);
	if (rc) {
		m->niface--;
		return pw_errf(err, errsz, rc, "recording interface %s failed: %s", t->names[i], strerror(-rc)), -1;
	}
	return k;
}

/* Attach the interfaces meta does not have attached yet; adds them to
 * meta. Each is recorded in meta before it is attached and again when it
 * is (an intent log): killed in between, apply leaves a record by which
 * `unload` takes the programs off (a tc filter, unlike the XDP link, has
 * no pin to find it by) and the next apply finishes the job. */
static int attach_new(struct tx *t, char *err, size_t errsz)
{
	struct pw_meta *m = &t->m;
	char pin[600];

	for (int i = 0; i < t->nif; i++) {
		int k = iface_record(t, i, err, errsz);
		if (k < 0)
			return -1;
		snprintf(t->r->now[k], IF_NAMESIZE, "%s", t->names[i]);
		pw_link_pin_legacy(t->o->root, &m->iface[k]);
		if (m->iface[k].xdp_mode)
			continue;	/* attached by an apply that finished */
		pw_link_pin(t->o->root, &m->iface[k], pin, sizeof(pin));
		if (attach_one(&t->dp, t->o, &m->iface[k], pin, err, errsz)) {
			/* a filter a killed apply left loses its record here */
			if (pw_tc_attached((int)t->idx[i], pw_dp_prog(&t->dp, m->iface[k].link, PW_DIR_OUT)) == 1)
				pw_detach_tc((int)t->idx[i], PW_TC_CLSACT);
			memmove(&m->iface[k], &m->iface[k + 1], (size_t)(m->niface - k - 1) * sizeof(m->iface[0]));
			m->niface--;
			pw_dp_write_meta(&t->dp, m);
			return -1;
		}
		pw_dp_write_meta(&t->dp, m);	/* done: its modes recorded */
	}
	return 0;
}

/* Before attaching: the records of interfaces that are gone go (their
 * links are dead: only the pins are left), which a rename or a
 * re-creation leaves; a renamed one is noted. Killed after the write,
 * the records left are those of interfaces that exist. */
static void prune_records(struct tx *t)
{
	struct pw_meta *m = &t->m;
	char now[IF_NAMESIZE];
	int n = 0;

	for (int k = 0; k < m->niface; k++) {
		struct pw_iface *f = &m->iface[k];
		if (pw_iface_gone(m, f, t->ns_ino, now)) {
			note(t, PW_IFC_GONE, f, "", f->ifindex);
			pw_iface_detach(t->o->root, f, false);
			continue;
		}
		if (strncmp(now, f->name, sizeof(f->name)))
			note(t, PW_IFC_RENAMED, f, now, f->ifindex);
		snprintf(t->r->now[n], IF_NAMESIZE, "%s", now);
		m->iface[n++] = *f;
	}
	bool changed = n != m->niface || m->netns_ino != t->ns_ino;
	m->niface = (uint8_t)n;
	m->netns_ino = t->ns_ino;
	if (changed)
		pw_dp_write_meta(&t->dp, m);
}

/* Step 7: attach where not attached yet. A first apply that fails takes
 * everything off again; a reload stays in force where it was. */
static int attach(struct tx *t)
{
	char err[600];

	pw_fault_point("before-attach");
	prune_records(t);
	for (int i = 0; i < t->m.niface; i++)
		t->r->had[i] = t->m.iface[i].xdp_mode != 0;	/* attached by an apply that finished */
	if (attach_new(t, err, sizeof(err)) == 0)
		return 0;
	if (t->first) {
		detach_all(&t->m, t->o->root);
		pw_dp_unpin(t->o->root);
		rmdir(t->o->root);
		return fail(t, PW_LEFT_UNDONE, "%s", err);
	}
	pw_dp_write_meta(&t->dp, &t->m);
	return fail(t, PW_LEFT_PART, "%s", err);
}

/* Step 8: the agent asks the resolvers about the plain names itself, for
 * the hosts the datapath cannot learn for (an answer cached before, DNS
 * over HTTPS or TLS). After attaching: its own queries and answers pass the
 * policy like any. Failures are reported, not fatal. */
static void resolve_names(struct tx *t)
{
	struct pw_apply_result *r = t->r;
	int ms = t->o->resolve_ms < 0 ? PW_RESOLVE_MS_DEFAULT : t->o->resolve_ms;

	if (!t->c.nnames || !ms || !t->nres)
		return;
	size_t *which = calloc(t->c.nnames, sizeof(*which));
	r->name_life = calloc(t->c.nnames, sizeof(*r->name_life));
	if (!which || !r->name_life) {
		free(which);
		r->resolve_rc = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < t->c.nnames; i++)
		which[i] = i;
	r->nname_life = t->c.nnames;
	r->resolve_rc = pw_resolve_names(&t->dp, t->half, &t->c, which, t->c.nnames, t->res, t->nres, &t->cfg,
					 PW_LEARNED_APPLY, ms, r->name_life, &r->resolve);
	r->resolved = true;
	free(which);
}

/* Start the --confirm watchdog: a process of its own session that outlives
 * this one and the shell, sleeps, and rolls back unless confirmed; it
 * acts only while meta still holds its token. */
static int start_watchdog(const char *root, uint64_t token, unsigned secs)
{
	char gen[24], s[16];
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
	snprintf(gen, sizeof(gen), "%016llx", (unsigned long long)token);
	snprintf(s, sizeof(s), "%u", secs);
	execl("/proc/self/exe", "portwall", "_watchdog", root, gen, s, (char *)NULL);
	_exit(127);
}

/* Step 9: the final record (the interfaces' modes, a pending --confirm),
 * then the watchdog; the watchdog undoes a first apply by unloading. */
static int finish(struct tx *t)
{
	unsigned secs = t->o->confirm;

	pw_fault_point("before-final-record");
	t->m.confirm_pending = secs ? (t->first ? PW_CONFIRM_FIRST : PW_CONFIRM_RELOAD) : 0;
	t->m.confirm_deadline = secs ? (uint64_t)time(NULL) + secs : 0;
	t->m.confirm_token = 0;
	if (secs && (getrandom(&t->m.confirm_token, sizeof(t->m.confirm_token), 0) != sizeof(t->m.confirm_token) ||
		     !t->m.confirm_token))
		t->m.confirm_token = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ 1;	/* no entropy yet */
	if (pw_dp_write_meta(&t->dp, &t->m))
		return fail(t, PW_LEFT_SAID, "recording what is applied failed: %s", strerror(errno));
	t->r->watchdog_failed = secs && start_watchdog(t->o->root, t->m.confirm_token, secs);
	return 0;
}

static void tx_end(struct tx *t, int rc)
{
	char meta[600];

	if (t->dp_open)
		pw_dp_close(&t->dp);
	pw_netns_leave(t->saved);
	/* an apply that failed with nothing pinned leaves no lock file */
	snprintf(meta, sizeof(meta), "%s/pw_meta", t->o->root);
	if (t->lock >= 0 && rc && access(meta, F_OK))
		pw_lock_remove(t->o->root, "lock", true);
	if (t->lock >= 0)
		close(t->lock);
	if (t->have_policy) {
		pw_compiled_free(&t->c);
		pw_policy_free(&t->pol);
	}
	t->r->first = t->first;
	t->r->meta = t->m;
}

int pw_apply_tx(const struct pw_apply_opts *o, struct pw_apply_result *r)
{
	struct tx t = { .o = o, .r = r, .saved = -1, .lock = -1 };

	memset(r, 0, sizeof(*r));
	int rc = prepare(&t);
	if (!rc)
		rc = open_or_load(&t);
	if (!rc)
		rc = check_pending(&t);
	if (!rc && unchanged(&t)) {
		rc = attach(&t);	/* interfaces new to it, records of gone ones */
		if (!rc && pw_dp_write_meta(&t.dp, &t.m))	/* the names they are applied by */
			rc = fail(&t, PW_LEFT_SAID, "recording what is applied failed: %s", strerror(errno));
		tx_end(&t, rc);
		return rc;
	}
	if (!rc)
		rc = write_inactive(&t);
	if (!rc)
		rc = record(&t);
	if (!rc)
		rc = activate(&t);
	if (!rc) {
		carry_or_adopt(&t);
		rc = attach(&t);
	}
	if (!rc)
		resolve_names(&t);
	if (!rc)
		rc = finish(&t);
	if (!rc)
		prune_generations(&t);
	tx_end(&t, rc);
	return rc;
}

void pw_apply_result_free(struct pw_apply_result *r)
{
	pw_diag_free(&r->diag);
	free(r->name_life);
	r->name_life = NULL;
}
