/* halves.c - write a compiled policy into the half of the policy maps not
 * in force (slots, a new peer trie, rule records, config), so that every
 * packet meets one whole policy, then put that half in force with one
 * write and wait until no packet is still judged by the other half. */
#include "datapath/loader.h"

#include <errno.h>
#include <linux/membarrier.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "lib/diag.h"
#include "lib/sha256.h"

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
	cfg->dns_ttl_min = PW_DNS_TTL_MIN_S;
	cfg->dns_ttl_max = PW_DNS_TTL_MAX_S;
	cfg->dns_name_max = PW_DNS_NAME_MAX_DEFAULT;
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

int pw_dp_zero_stats(struct pw_dp *dp, uint32_t half, uint32_t nrules)
{
	uint32_t cap = dp->rule_capacity, n, count;

	if (nrules >= cap)
		return -ERANGE;
	n = count = 2 * (nrules + 1);
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
 * force) and record its rules' fingerprints with no carried counts. Only
 * the ids the policy has, and those the half's last policy had (so that
 * its records end where the new policy's do, and every counter past them
 * stays zero): a reload costs what the policies hold, not the capacity. The records go in one syscall, which
 * a kill does not cut short, so they always end at a zero fingerprint. */
static int reset_rules(struct pw_dp *dp, uint32_t half, const struct pw_compiled *c)
{
	uint32_t cap = dp->rule_capacity, had = 0, count;
	int rc = pw_dp_half_nrules(dp, half, &had);
	uint32_t n = (had > c->nrules ? had : c->nrules) + 1;
	uint32_t *keys = malloc(n * sizeof(*keys));
	struct pw_rule_info *infos = calloc(n, sizeof(*infos));

	if (!rc)
		rc = pw_dp_zero_stats(dp, half, n - 1);
	if (!rc && (!keys || !infos))
		rc = -ENOMEM;
	if (rc)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		keys[i] = half * cap + i;
		if (i <= c->nrules)
			infos[i].fingerprint = c->rule_fp[i];
	}
	count = n;
	if (bpf_map_update_batch(dp->rules_fd, keys, infos, &count, NULL))
		rc = -errno;
out:
	free(keys);
	free(infos);
	return rc;
}

/* A trie's mark: one more entry, which no packet's lookup reaches (its
 * scope belongs to no shape: shape ids stay far below 2^31), whose
 * address is the first 16 bytes of the SHA-256 of the policy's entries.
 * A reload whose entries have the mark of the trie in force, in a half
 * that learns nothing (no host names), uses that trie for its half too
 * instead of writing the same entries again (share_trie). */
#define TRIE_MARK_SCOPE 0xffffffffu
_Static_assert(sizeof(struct pw_peer_entry) == 28, "pw_peer_entry has no padding to hash");

static void trie_mark(const struct pw_compiled *c, struct pw_peer_key *k)
{
	struct pw_sha256 h;
	uint8_t d[32];

	pw_sha256_init(&h);
	pw_sha256_update(&h, &c->npeers, sizeof(c->npeers));
	if (c->npeers)
		pw_sha256_update(&h, c->peers, c->npeers * sizeof(*c->peers));
	pw_sha256_final(&h, d);
	memset(k, 0, sizeof(*k));
	k->prefixlen = PW_PEER_SCOPE_BITS + 128;
	k->scope = TRIE_MARK_SCOPE;
	memcpy(k->addr, d, sizeof(k->addr));
}

/* The trie's entries in batches of one syscall each (one by one where
 * the kernel has no batch update for tries), then its mark. */
static int fill_trie(int fd, const struct pw_compiled *c, const struct pw_peer_key *mark)
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
	struct pw_peer_val none = { 0 };
	if (rc == 0 && bpf_map_update_elem(fd, mark, &none, BPF_NOEXIST))
		rc = -errno;
	free(keys);
	free(vals);
	return rc;
}

/* Half `half` takes the trie of the half in force when that trie holds
 * exactly c's entries (its mark says so) and neither half learns host
 * names, which are the only writes a trie gets after it is filled: 1
 * shared, 0 not (a new trie is to be written). */
static int share_trie(struct pw_dp *dp, uint32_t half, const struct pw_compiled *c,
		      const struct pw_peer_key *mark)
{
	struct pw_state st;
	struct pw_peer_val v;
	uint32_t other = (half & 1) ^ 1;

	if (c->nnames || pw_dp_read_state(dp, &st) || (st.active & 1) != other || st.cfg[other].names)
		return 0;
	int fd = pw_dp_half_trie(dp, other);
	if (fd < 0)
		return 0;
	int shared = bpf_map_lookup_elem(fd, mark, &v) == 0 && bpf_map_update_elem(dp->peers_fd, &half, &fd, BPF_ANY) == 0;
	close(fd);
	return shared;
}

int pw_dp_fits(const struct pw_dp *dp, const struct pw_compiled *c, char *err, size_t n)
{
	if (c->nrules >= dp->rule_capacity)
		return pw_errf(err, n, -E2BIG, "the policy has %u rules; this datapath counts at most %u: "
			    "unload and apply again", c->nrules, dp->rule_capacity - 1);
	if (c->nclass_words > dp->class_words)
		return pw_errf(err, n, -E2BIG, "the policy's %u peer classes need %u words; this datapath "
			    "has room for %u: unload and apply again", c->nclasses, c->nclass_words,
			    dp->class_words);
	return 0;
}

/* Room in a trie for what the names of c can learn: every pw_learned
 * record writes one entry per target of its name. */
static size_t learned_room(const struct pw_compiled *c)
{
	size_t most = 0;

	for (size_t i = 0; i < c->nnames; i++)
		if (c->names[i].ntargets > most)
			most = c->names[i].ntargets;
	return most * PW_LEARNED_CAPACITY;
}

/* The half's pw_classes words and pw_flat4 chunks: each class's IPv4 root
 * (its shape's, compile.c) when the chunks fit this datapath, else 0 (the
 * trie answers, as it holds every entry). */
static void write_classes(const struct pw_dp *dp, const struct pw_dp_slots *m, uint32_t half,
			  const struct pw_compiled *c)
{
	bool flat = c->nflat4 && c->nflat4 <= dp->flat4_chunks && c->flat4_roots;

	for (uint32_t i = 0; i < c->nclass_words; i++)	/* what follows is never read */
		*pw_dp_class_word(m, half, i) = c->class_words[i];
	for (uint32_t k = 1; flat && k <= c->nclasses; k++) {
		uint32_t o = c->class_words[k];
		*pw_dp_class_word(m, half, o + 1) = c->flat4_roots[c->class_words[o]];
	}
	if (flat)
		memcpy(m->f4 + (size_t)(half & 1) * dp->flat4_chunks * sizeof(struct pw_chunk), c->flat4,
		       (size_t)c->nflat4 * sizeof(struct pw_chunk));
}

int pw_dp_map_slots(const struct pw_dp *dp, struct pw_dp_slots *m)
{
	long page = sysconf(_SC_PAGESIZE);

	m->stride = (sizeof(struct pw_slot) + 7) & ~(size_t)7;	/* array elements are 8-byte aligned */
	m->len = 2 * (size_t)PW_SLOT_COUNT * m->stride;
	m->len = (m->len + (size_t)page - 1) & ~((size_t)page - 1);
	m->base = mmap(NULL, m->len, PROT_READ | PROT_WRITE, MAP_SHARED, dp->slots_fd, 0);
	m->cw = NULL;
	if (m->base == MAP_FAILED)
		return m->base = NULL, -errno;
	/* pw_classes: __u32 words in 8-byte elements */
	m->cw_words = dp->class_words;
	m->cw_len = (2 * (size_t)m->cw_words * 8 + (size_t)page - 1) & ~((size_t)page - 1);
	m->cw = mmap(NULL, m->cw_len, PROT_READ | PROT_WRITE, MAP_SHARED, dp->classes_fd, 0);
	m->f4_len = 2 * (size_t)dp->flat4_chunks * sizeof(struct pw_chunk);
	m->f4 = m->cw == MAP_FAILED ? MAP_FAILED :
		mmap(NULL, m->f4_len, PROT_READ | PROT_WRITE, MAP_SHARED, dp->flat4_fd, 0);
	if (m->cw == MAP_FAILED || m->f4 == MAP_FAILED) {
		int e = errno;
		m->cw = m->cw == MAP_FAILED ? NULL : m->cw;
		m->f4 = NULL;
		pw_dp_unmap_slots(m);
		return -e;
	}
	return 0;
}

void pw_dp_unmap_slots(struct pw_dp_slots *m)
{
	if (m->base)
		munmap(m->base, m->len);
	if (m->cw)
		munmap(m->cw, m->cw_len);
	if (m->f4)
		munmap(m->f4, m->f4_len);
	m->base = NULL;
	m->cw = NULL;
	m->f4 = NULL;
}

/* A new trie of c's entries for half `half`, or with share the one in
 * force when it holds the same entries. */
static int install_trie(struct pw_dp *dp, uint32_t half, const struct pw_compiled *c, bool share, char *err,
			size_t n)
{
	struct pw_peer_key mark;

	trie_mark(c, &mark);
	if (share && share_trie(dp, half, c, &mark))
		return 0;
	/* room for the mark and the addresses the datapath learns for host
	 * names; the trie allocates entries as they come (BPF_F_NO_PREALLOC) */
	int rc, fd = new_trie(dp, half, c->npeers + 1 + learned_room(c), err, n);

	if (fd < 0)
		return fd;
	rc = fill_trie(fd, c, &mark);
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
	return 0;
}

int pw_dp_renew_trie(struct pw_dp *dp, uint32_t half, const struct pw_compiled *c, char *err, size_t n)
{
	return install_trie(dp, half, c, false, err, n);
}

int pw_dp_write_half(struct pw_dp *dp, uint32_t half, const struct pw_compiled *c,
		     const struct pw_config *cfg, char *err, size_t n)
{
	int rc = 0;

	half &= 1;
	if ((rc = pw_dp_fits(dp, c, err, n)))
		return rc;
	/* the half not in force, in one pass over the mapped array */
	struct pw_dp_slots m;
	if (pw_dp_map_slots(dp, &m))
		return pw_errf(err, n, -errno, "mapping the decision slots failed: %s", strerror(errno));
	for (uint32_t i = 0; i < PW_SLOT_COUNT; i++)
		memcpy(pw_dp_slot(&m, half, i), &c->slots[i], sizeof(c->slots[i]));
	write_classes(dp, &m, half, c);
	pw_dp_unmap_slots(&m);
	rc = install_trie(dp, half, c, true, err, n);
	if (rc)
		return rc;
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
	st.cfg[half].names = c->nnames > 0;
	st.cfg[half].dns_any = c->dns_trust == PW_DNS_TRUST_ANY;
	st.cfg[half].rule_base = half * 2 * dp->rule_capacity;
	/* not measured (a kernel without syscall programs): both 0, the
	 * datapath reads the coarse clock by its helper */
	uint64_t tick, off;
	if (pw_dp_ct_clock(&tick, &off) == 0) {
		st.cfg[half].ct_tick_ns = tick;
		st.cfg[half].ct_clock_off = off;
	} else
		st.cfg[half].ct_tick_ns = st.cfg[half].ct_clock_off = 0;
	if (bpf_map_update_elem(dp->state_fd, &zero, &st, BPF_ANY))
		return pw_errf(err, n, -errno, "writing the policy config failed: %s", strerror(errno));
	return 0;
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
