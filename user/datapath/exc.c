/* exc.c - timed exceptions in pw_exc (datapath/exc.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#include "datapath/exc.h"
#include "lib/diag.h"

#define MAX_KEYS PW_EXC_CAPACITY

uint64_t pw_exc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Every key of pw_exc (at most MAX_KEYS) and its value, read at once. */
struct all {
	struct pw_exc_key keys[MAX_KEYS];
	struct pw_exc_val vals[MAX_KEYS];
	int n;
};

/* A fresh struct all of what pw_exc holds (free it), or NULL with errno. */
static struct all *read_all(const struct pw_dp *dp)
{
	struct all *a = calloc(1, sizeof(*a));
	struct pw_exc_key k, next;
	int rc;

	if (!a)
		return NULL;
	for (rc = bpf_map_get_next_key(dp->exc_fd, NULL, &next); rc == 0 && a->n < MAX_KEYS;
	     rc = bpf_map_get_next_key(dp->exc_fd, &k, &next)) {
		k = next;
		if (bpf_map_lookup_elem(dp->exc_fd, &k, &a->vals[a->n]))
			continue;	/* deleted meanwhile */
		a->keys[a->n++] = k;
	}
	if (rc && errno != ENOENT) {
		int e = errno;
		free(a);
		errno = e;
		return NULL;
	}
	return a;
}

/* pw_state.exceptions := the keys in pw_exc now; the next id kept. */
static int write_count(struct pw_dp *dp, int keys, uint32_t next_id)
{
	struct pw_state st;
	uint32_t zero = 0;

	if (pw_dp_read_state(dp, &st))
		return -errno;
	if (st.exceptions == (uint32_t)keys && (!next_id || st.exc_next_id == next_id))
		return 0;	/* the agent's every second: nothing to write */
	st.exceptions = (uint32_t)keys;
	if (next_id)
		st.exc_next_id = next_id;
	return bpf_map_update_elem(dp->state_fd, &zero, &st, BPF_ANY) ? -errno : 0;
}

static int count_keys(const struct pw_dp *dp)
{
	struct all *a = read_all(dp);
	int n = a ? a->n : -errno;

	free(a);
	return n;
}

int pw_exc_add(struct pw_dp *dp, const struct pw_exc_spec *sp, uint32_t *id, char *err, size_t n)
{
	struct pw_exc_key keys[PW_EXC_PORTS];
	struct pw_exc_val v = { 0 }, old;
	struct pw_state st;
	int nk = pw_exc_keys(sp, keys), i, rc;

	if (pw_dp_read_state(dp, &st))
		return pw_errf(err, n, -errno, "reading the policy state failed: %s", strerror(errno));
	uint64_t now = pw_exc_now_ns();
	for (i = 0; i < nk; i++) {
		if (bpf_map_lookup_elem(dp->exc_fd, &keys[i], &old) || old.plen != sp->peer.len)
			continue;	/* none, or a wider prefix's (this one is more specific) */
		if (old.expires_ns > now)
			return pw_errf(err, n, -EEXIST, "exception %u already opens port %u to that peer: remove "
				       "it first (portwall allow --remove %u)", old.id, ntohs(keys[i].port_be), old.id);
		bpf_map_delete_elem(dp->exc_fd, &keys[i]);	/* expired, the agent not yet by */
	}
	v.id = st.exc_next_id ? st.exc_next_id : 1;
	v.expires_ns = now + sp->secs * 1000000000ull;
	v.added_unix = (uint64_t)time(NULL);
	v.port_lo = sp->port_lo;
	v.port_hi = sp->port_hi;
	v.plen = sp->peer.len;
	snprintf(v.comment, sizeof(v.comment), "%s", sp->comment);
	for (i = 0; i < nk; i++)
		if (bpf_map_update_elem(dp->exc_fd, &keys[i], &v, BPF_NOEXIST)) {
			rc = -errno;
			while (i-- > 0)
				bpf_map_delete_elem(dp->exc_fd, &keys[i]);
			return pw_errf(err, n, rc, "adding the exception failed: %s%s", strerror(-rc),
				       rc == -ENOSPC || rc == -E2BIG ? " (the table holds 256 ports: remove "
				       "exceptions no longer needed, portwall allow --list)" : "");
		}
	rc = count_keys(dp);
	if (rc < 0 || (rc = write_count(dp, rc, v.id + 1)) < 0)
		return pw_errf(err, n, rc, "the exception was added, but writing its count failed: %s (the "
			       "fast path may still drop its SYNs; run `portwall allow --list` to retry)",
			       strerror(-rc));
	*id = v.id;
	return 0;
}

static int row_cmp(const void *a, const void *b)
{
	const struct pw_exc_row *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Key k (value v) into its row of rows[0..*count) (a new one if needed). */
static void add_row(struct pw_exc_row *rows, int max, int *count, const struct pw_exc_key *k,
		    const struct pw_exc_val *v, uint64_t now)
{
	for (int i = 0; i < *count; i++)
		if (rows[i].id == v->id)
			return;
	if (*count >= max)
		return;
	struct pw_exc_row *r = &rows[(*count)++];
	memset(r, 0, sizeof(*r));
	r->id = v->id;
	r->dir = k->dir;
	r->proto = k->proto;
	r->port_lo = v->port_lo;
	r->port_hi = v->port_hi;
	r->peer.fam = k->fam;
	r->peer.len = v->plen;
	memcpy(r->peer.addr, k->addr, sizeof(r->peer.addr));
	r->expires_ns = v->expires_ns;
	r->left_s = v->expires_ns > now ? (int64_t)((v->expires_ns - now + 999999999ull) / 1000000000ull) : 0;
	r->added_unix = v->added_unix;
	memcpy(r->comment, v->comment, sizeof(r->comment));
	r->comment[sizeof(r->comment) - 1] = 0;
}

int pw_exc_list(const struct pw_dp *dp, struct pw_exc_row *rows, int max, int *count)
{
	struct all *a = read_all(dp);
	uint64_t now = pw_exc_now_ns();

	*count = 0;
	if (!a)
		return -errno;
	for (int i = 0; i < a->n; i++)
		add_row(rows, max, count, &a->keys[i], &a->vals[i], now);
	free(a);
	qsort(rows, (size_t)*count, sizeof(rows[0]), row_cmp);
	return 0;
}

/* Delete the keys for which drop(value) says so; returns how many, or -errno. */
static int delete_where(struct pw_dp *dp, int (*drop)(const struct pw_exc_val *v, uint64_t arg), uint64_t arg)
{
	struct all *a = read_all(dp);
	int gone = 0, rc;

	if (!a)
		return -errno;
	for (int i = 0; i < a->n; i++)
		if (drop(&a->vals[i], arg) && bpf_map_delete_elem(dp->exc_fd, &a->keys[i]) == 0)
			gone++;
	rc = write_count(dp, a->n - gone, 0);
	free(a);
	return rc ? rc : gone;
}

static int is_id(const struct pw_exc_val *v, uint64_t id)
{
	return v->id == id;
}

static int is_expired(const struct pw_exc_val *v, uint64_t now)
{
	return v->expires_ns <= now;
}

int pw_exc_remove(struct pw_dp *dp, uint32_t id, char *err, size_t n)
{
	int rc = delete_where(dp, is_id, id);

	if (rc < 0)
		return pw_errf(err, n, rc, "removing exception %u failed: %s", id, strerror(-rc));
	if (rc == 0)
		return pw_errf(err, n, -ENOENT, "no exception %u (portwall allow --list shows them; an expired one "
			       "may have been removed by the agent)", id);
	return 0;
}

int pw_exc_expire(struct pw_dp *dp)
{
	return delete_where(dp, is_expired, pw_exc_now_ns());
}

int pw_exc_live_count(const struct pw_dp *dp)
{
	struct all *a = read_all(dp);
	uint64_t now = pw_exc_now_ns();
	uint32_t ids[MAX_KEYS];
	int n = 0;

	if (!a)
		return -errno;
	for (int i = 0; i < a->n; i++) {
		int seen = 0;
		for (int j = 0; j < n && !seen; j++)
			seen = ids[j] == a->vals[i].id;
		if (!seen && a->vals[i].expires_ns > now)
			ids[n++] = a->vals[i].id;
	}
	free(a);
	return n;
}

bool pw_exc_covers_in(const struct pw_dp *dp, const struct pw_ct_key *k, uint64_t now)
{
	struct pw_exc_key ek = { .prefixlen = PW_EXC_KEY_BITS + (k->fam == PW_FAM_V6 ? 128 : 32),
				 .dir = PW_DIR_IN, .proto = k->proto, .fam = k->fam, .port_be = k->lport_be };
	struct pw_exc_val v;

	memcpy(ek.addr, k->remote, sizeof(ek.addr));
	for (int i = 0; i < PW_EXC_NEST; i++) {	/* as pw_exc_live does */
		if (bpf_map_lookup_elem(dp->exc_fd, &ek, &v))
			return false;
		if (now < v.expires_ns)
			return true;
		if (v.plen == 0)
			return false;
		ek.prefixlen = PW_EXC_KEY_BITS + v.plen - 1u;
	}
	return false;
}
