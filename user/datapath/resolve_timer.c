/* resolve_timer.c - run's timer for the agent's own DNS queries: a plain
 * name is asked again when three quarters of the shortest lifetime its
 * last answer gave have passed (at least 5 s, at most 10 minutes later),
 * an unanswered one after 30 s. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/attach.h"
#include "datapath/resolve.h"
#include "lib/diag.h"

#define SEC 1000000000ull

void pw_names_timer_reset(struct pw_names_timer *t)
{
	free(t->due);
	t->due = NULL;
	t->n = 0;
	t->applied = true;
}

static uint64_t next_ask(uint32_t life_s)
{
	if (life_s == UINT32_MAX)
		return 30 * SEC;
	uint64_t s = (uint64_t)life_s * 3 / 4;
	return (s < 5 ? 5 : s > 600 ? 600 : s) * SEC;
}

/* The due names of a, at most PW_RESOLVE_NAMES_MAX. */
static size_t due_names(struct pw_names_timer *t, const struct pw_compiled *c, uint64_t now, size_t *which)
{
	size_t n = 0;

	for (size_t i = 0; i < c->nnames && n < PW_RESOLVE_NAMES_MAX; i++)
		if (!c->names[i].wild && (int64_t)(now - t->due[i]) >= 0)
			which[n++] = i;
	return n;
}

static int ask(struct pw_names_timer *t, struct pw_dp *dp, const struct pw_applied *a, const size_t *which,
	       size_t n, uint32_t *life, struct pw_resolve_report *rep, char *err, size_t errsz)
{
	struct pw_ip res[PW_RESOLVERS_MAX];
	size_t nres = 0;
	struct pw_state st;
	int saved;

	if (pw_dp_read_state(dp, &st))
		return pw_errf(err, errsz, -errno, "reading the policy state failed: %s", strerror(errno));
	if (pw_policy_resolvers(&a->c, a->meta.netns, res, &nres, err, errsz))
		return -1;
	if (pw_netns_enter(a->meta.netns, &saved, err, errsz))
		return -1;
	uint32_t half = st.active & 1;
	int rc = pw_resolve_names(dp, half, &a->c, which, n, res, nres, &st.cfg[half],
				  t->applied ? PW_LEARNED_APPLY : PW_LEARNED_TIMER, t->ms, life, rep);
	pw_netns_leave(saved);
	if (rc)
		return pw_errf(err, errsz, rc, "asking the resolvers about the host names failed: %s", strerror(-rc));
	return 0;
}

int pw_names_timer_turn(struct pw_names_timer *t, struct pw_dp *dp, const struct pw_applied *a,
			struct pw_resolve_report *rep, char *err, size_t errsz)
{
	memset(rep, 0, sizeof(*rep));
	if (!t->ms || !a->have_rules || !a->same || !a->c.nnames)
		return 0;
	if (t->n != a->c.nnames) {
		free(t->due);
		t->due = calloc(a->c.nnames, sizeof(*t->due));	/* 0: due */
		t->n = t->due ? a->c.nnames : 0;
		if (!t->due)
			return pw_errf(err, errsz, -ENOMEM, "no memory for the host names' timer");
	}
	size_t which[PW_RESOLVE_NAMES_MAX];
	uint32_t life[PW_RESOLVE_NAMES_MAX];
	uint64_t now = pw_mono_ns();
	size_t n = due_names(t, &a->c, now, which);
	if (!n)
		return 0;
	int rc = ask(t, dp, a, which, n, life, rep, err, errsz);
	for (size_t k = 0; k < n; k++)
		t->due[which[k]] = now + next_ask(rc ? UINT32_MAX : life[k]);
	t->applied = false;
	return rc ? -1 : (int)n;
}
