/* rollback.c - the previous generation back in force (rollback.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "datapath/attach.h"
#include "datapath/rollback.h"
#include "lib/diag.h"
#include "policy/compile.h"
#include "policy/policy.h"

/* The half about to be restored gets a fresh trie: what its names learned
 * while it was in force before, and has expired since, must not come back
 * with it. Only a policy that compiles to what was recorded can say which
 * trie entries are its own. */
static void relearn(struct pw_dp *dp, uint32_t half, struct pw_rollback *r)
{
	int put = pw_dp_relearn(dp, half, pw_mono_ns());

	r->renewed = true;
	if (put < 0)
		snprintf(r->not_renewed, sizeof(r->not_renewed), "putting the learned addresses back failed: %s "
			 "(new flows to them drop until they are answered again)", strerror(-put));
}

static void renew(struct pw_dp *dp, const struct pw_policy_rec *prev, uint32_t half, struct pw_rollback *r)
{
	struct pw_policy pol;
	struct pw_compiled c;
	struct pw_diag d = { 0 };
	char err[300];

	if (!prev->path[0] || pw_policy_parse_file(prev->path, &pol, &d)) {
		snprintf(r->not_renewed, sizeof(r->not_renewed), "%s does not parse now", prev->path);
		pw_diag_free(&d);
		return;
	}
	pol.mode = prev->mode;
	if (pw_compile(&pol, &c, &d) == 0) {
		if (memcmp(c.hash, prev->hash, sizeof(c.hash)))
			snprintf(r->not_renewed, sizeof(r->not_renewed), "%s changed since it was applied",
				 prev->path);
		else if (pw_dp_renew_trie(dp, half, &c, err, sizeof(err)))
			snprintf(r->not_renewed, sizeof(r->not_renewed), "%s", err);
		else
			relearn(dp, half, r);
		pw_compiled_free(&c);
	} else {
		snprintf(r->not_renewed, sizeof(r->not_renewed), "%s does not compile now", prev->path);
	}
	pw_policy_free(&pol);
	pw_diag_free(&d);
}

/* The peers' TCP connections the restored half no longer lets in end, as
 * a reload ends them: read in the instance's namespace. */
static void revoke_tcp(struct pw_dp *dp, struct pw_meta *m, uint32_t to, struct pw_rollback *r)
{
	char err[256];
	int saved;

	r->revoke_tcp_rc = pw_netns_enter(m->netns, &saved, err, sizeof(err));
	if (r->revoke_tcp_rc == 0) {
		r->revoke_tcp_rc = pw_dp_revoke_tcp(dp, to, &r->revoked);
		pw_netns_leave(saved);
	}
	m->ct_revoked = (uint64_t)r->revoked.total;
	m->ct_revoked_tcp += (uint64_t)r->revoked.tcp;
	m->ct_revoked_dgram += (uint64_t)r->revoked.dgram;
}

int pw_dp_rollback(struct pw_dp *dp, struct pw_meta *m, struct pw_rollback *r, char *err, size_t n)
{
	struct pw_state st;

	memset(r, 0, sizeof(*r));
	if (!m->prev.generation)
		return pw_errf(err, n, -ENOENT, "there is no previous policy to go back to");
	if (pw_dp_read_state(dp, &st))
		return pw_errf(err, n, -errno, "reading the policy state failed: %s", strerror(errno));
	uint32_t from = st.active & 1, to = from ^ 1;
	if (st.cfg[to].names)	/* only a half with host names learned into its trie */
		renew(dp, &m->prev, to, r);
	/* the half we go back to counts afresh; its rules get the totals of
	 * the half we leave (which include its own counts from before) */
	uint32_t nfrom = 0, nto = 0;
	int rc = pw_dp_half_nrules(dp, from, &nfrom);
	if (!rc)
		rc = pw_dp_half_nrules(dp, to, &nto);
	if (!rc)
		rc = pw_dp_zero_stats(dp, to, nto);
	/* from the flip until the walk below has finished (pw_meta.ct_walk_due) */
	m->ct_walk_due = 1;
	if (!rc && pw_dp_write_meta(dp, m))
		rc = -errno;
	if (!rc)
		rc = pw_dp_activate(dp, to, m->prev.generation);
	if (rc)
		return pw_errf(err, n, rc, "switching back failed: %s", strerror(-rc));
	r->carry_failed = pw_dp_carry(dp, from, to, nfrom, nto) != 0;
	/* the flows the policy we leave let out, that the restored one does
	 * not: ended, as a reload ends them */
	int by[PW_CT_TABLE_COUNT] = { 0 };
	r->ended = pw_dp_flush_ct(dp, to, by, &r->revoked);
	if (r->ended < 0)
		r->ended = errno ? -errno : -EIO;
	else
		m->ct_walk_due = 0;
	revoke_tcp(dp, m, to, r);
	m->ct_flushed += (uint64_t)by[PW_CT_TABLE_TCP];
	m->ct_dgram_flushed += (uint64_t)by[PW_CT_TABLE_DGRAM];
	m->ct_in_flushed += (uint64_t)by[PW_CT_TABLE_IN];
	struct pw_policy_rec t = m->cur;
	m->cur = m->prev;
	m->prev = t;
	m->confirm_pending = 0;
	m->confirm_token = 0;
	m->confirm_deadline = 0;
	if (pw_dp_write_meta(dp, m))
		return pw_errf(err, n, -errno, "recording the rollback failed: %s", strerror(errno));
	return 0;
}
