/* ct_list.c - the tracked flows of every conntrack table, with their
 * state and timers, for `portwall conntrack` (like `conntrack -L`). */
#include "datapath/loader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

/* The timeout of a flow in state flags, seconds: the datapath's
 * pw_ct_timeout (bpf/pw_judge.h), read from the half in force. */
static uint32_t timeout_s(const struct pw_config *cfg, uint8_t proto, uint8_t flags)
{
	if (proto == 6)
		return flags & PW_CT_CLOSING ? cfg->ct_tcp_close : flags & PW_CT_FIN ? cfg->ct_tcp_syn :
		       flags & PW_CT_REPLIED ? cfg->ct_tcp_est : cfg->ct_tcp_syn;
	if (proto == 17)
		return cfg->ct_udp;
	if (proto == 1 || proto == 58)
		return cfg->ct_icmp;
	return cfg->ct_other;
}

static int add_row(struct pw_ct_row **rows, size_t *n, size_t *cap, const struct pw_ct_row *r)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct pw_ct_row *p = realloc(*rows, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		*rows = p;
		*cap = nc;
	}
	(*rows)[(*n)++] = *r;
	return 0;
}

/* The rows of table t, at most three tables' worth (a walk the LRU
 * restarts, as ct_flush.c's). */
static int list_table(const struct pw_dp *dp, int t, const struct pw_config *cfg, uint64_t now,
		      struct pw_ct_row **rows, size_t *n, size_t *cap)
{
	int fd = pw_dp_ct_fd(dp, t);
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	struct pw_ct_key k, next;
	void *prev = NULL;
	size_t seen = 0, bound = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? 3 * (size_t)info.max_entries :
			  3u << 24;

	while (seen++ < bound && bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct pw_ct_row r = { .table = (uint8_t)t };
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &r.v))
			continue;	/* gone under the walk */
		r.k = k;
		r.age_ns = now > r.v.last_ns ? now - r.v.last_ns : 0;
		r.timeout_ns = (uint64_t)timeout_s(cfg, k.proto, r.v.flags) * 1000000000ull;
		if (add_row(rows, n, cap, &r))
			return -ENOMEM;
	}
	return 0;
}

int pw_dp_ct_list(const struct pw_dp *dp, struct pw_ct_row **rows, size_t *n)
{
	struct pw_state st;
	size_t cap = 0;
	int rc = 0;

	*rows = NULL;
	*n = 0;
	if (pw_dp_read_state(dp, &st))
		return errno ? -errno : -EIO;
	uint64_t now = pw_mono_ns();	/* the datapath's clock */
	for (int t = 0; t < PW_CT_TABLE_COUNT && !rc; t++)
		rc = list_table(dp, t, &st.cfg[st.active & 1], now, rows, n, &cap);
	if (rc) {
		free(*rows);
		*rows = NULL;
		*n = 0;
	}
	return rc;
}

/* The state's word (TCP: by the host's own segments) and, for a timed
 * exception's flow (PW_CT_EXC: its answers pass only while it lives), the
 * same with "exception," before it. */
const char *pw_ct_row_state(const struct pw_ct_row *r)
{
	static const char *const words[][2] = {
		{ "reset", "exception,reset" },		{ "fin-sent", "exception,fin-sent" },
		{ "established", "exception,established" }, { "syn-sent", "exception,syn-sent" },
		{ "seen", "exception,seen" },		{ "replied", "exception,replied" },
		{ "unreplied", "exception,unreplied" },
	};
	uint8_t f = r->v.flags;
	int w, exc = (f & PW_CT_EXC) != 0;

	if (f & PW_CT_REVOKED)	/* an in exception's mark ends as a revoked flow */
		return exc ? "exception,answers" : "revoked";
	if (r->k.proto == 6)
		w = f & PW_CT_CLOSING ? 0 : f & PW_CT_FIN ? 1 : f & PW_CT_REPLIED ? 2 : 3;
	else if (r->table == PW_CT_TABLE_IN)
		w = 4;	/* the host's replies are not recorded in it */
	else
		w = f & PW_CT_REPLIED ? 5 : 6;
	return words[w][exc];
}

uint32_t pw_ct_row_origin(const struct pw_ct_row *r)
{
	return r->table == PW_CT_TABLE_IN || (r->v.flags & PW_CT_REVOKED) ? PW_DIR_IN : PW_DIR_OUT;
}
