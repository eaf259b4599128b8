/* loader.h - the struct pw_dp API: load the datapath (both programs, one
 * set of maps), write a compiled policy into one half of the policy maps,
 * flip halves, read the counters, and run packets through the programs
 * (BPF_PROG_TEST_RUN). One header for it all, grouped below by the file
 * that implements each part. */
#ifndef PW_LOADER_H
#define PW_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy/compile.h"
#include "portwall.h"

struct ingress_bpf;
struct egress_bpf;

struct pw_dp {
	struct ingress_bpf *in;
	struct egress_bpf *out;
	int prog_fd[PW_DIR_COUNT];	/* XDP ingress, tc egress: Ethernet frames */
	int prog_l3_fd[PW_DIR_COUNT];	/* the same from the IP header (PW_LINK_L3);
					 * -1 when opened from pins that predate them */
	int state_fd, slots_fd, classes_fd, flat4_fd, peers_fd, ct_fd, frags_fd, ct_in_fd, frag_src_fd, ct_dgram_fd;
	int rule_stats_fd, rules_fd, reason_stats_fd, port_drops_fd, stats_fd, ratelimit_fd, events_fd, meta_fd;
	int names_fd, resolvers_fd, dnsq_fd, learned_fd, dns_stats_fd, dns_users_fd;	/* host names (docs/dns.md) */
	int exc_fd;			/* timed exceptions (datapath/exc.h) */
	int btf_fd;			/* the programs' BTF, for new peer tries */
	uint32_t btf_key_id, btf_val_id;
	bool pinned;			/* opened from pins: the fds are ours to close */
	bool l3_later;			/* prog_l3_fd came from pw_dp_load_l3: ours to close */
	uint32_t rule_capacity;		/* rule ids 0..rule_capacity-1 can be counted */
	uint32_t class_words;		/* pw_classes words a half */
	uint32_t flat4_chunks;		/* pw_flat4 chunks a half */
	int ncpus;			/* possible CPUs: per-CPU values come in this many */
	char root[256];			/* the pin root opened from, "" unknown */
};

struct pw_dp_opts {
	uint32_t rule_capacity;		/* 0: enough for the first policy */
	uint32_t class_words;		/* pw_classes' a half, 0: from the rule capacity */
	uint32_t flat4_chunks;		/* pw_flat4's a half, 0: PW_FLAT4_DEFAULT */
	uint32_t ct_capacity;		/* pw_ct's, 0: PW_CT_CAPACITY (the other
					 * conntrack tables are sized from it) */
	bool verbose;			/* libbpf's own messages on stderr */
	bool no_l3;			/* the L3 programs neither loaded nor verified
					 * (prog_l3_fd < 0): for the BPF_PROG_TEST_RUN
					 * suites that run none, half the verifier's time */
};

/* The rule capacity a first apply gives a policy of nrules rules: twice
 * its rules (a reload may add some), at least 4096. */
static inline uint32_t pw_dp_rule_capacity_for(uint32_t nrules)
{
	return nrules * 2 + 2 > 4096 ? nrules * 2 + 2 : 4096;
}

/* The pw_flat4 chunks a half has when the caller says nothing; a first
 * apply gives a policy twice its own (a reload may need more; one that
 * needs more than there are is answered by the trie alone). */
#define PW_FLAT4_DEFAULT 64u
static inline uint32_t pw_dp_flat4_chunks_for(uint32_t nchunks)
{
	return nchunks * 2 > PW_FLAT4_DEFAULT ? nchunks * 2 : PW_FLAT4_DEFAULT;
}

/* The pw_classes words a half has, for a rule capacity and the words a
 * first policy needs (a class costs one word, its run one more than its
 * rules; nested port ranges can put a rule in many classes): four a rule
 * or twice the policy's, at least 4,096. */
static inline uint32_t pw_dp_class_words_for(uint32_t rule_capacity, uint32_t nwords)
{
	uint32_t w = 4 * rule_capacity > 4096 ? 4 * rule_capacity : 4096;

	return nwords > w / 2 ? 2 * nwords : w;
}

/* The fd of conntrack table t (enum pw_ct_table), -1 for no table. */
static inline int pw_dp_ct_fd(const struct pw_dp *dp, int t)
{
	return t == PW_CT_TABLE_TCP ? dp->ct_fd : t == PW_CT_TABLE_DGRAM ? dp->ct_dgram_fd :
	       t == PW_CT_TABLE_IN ? dp->ct_in_fd : -1;
}

/* The table of the flows the host opens of IP protocol proto: TCP's own,
 * or the datagrams' (everything else), as the datapath keeps them. */
static inline int pw_ct_host_table(uint8_t proto)
{
	return proto == 6 ? PW_CT_TABLE_TCP : PW_CT_TABLE_DGRAM;
}

/* ---- loader.c: load, pins, close, the meta and state records ---- */

/* Open and load both programs with shared maps. Returns 0, or -1 with a
 * message (what failed and what to do) in err. */
int pw_dp_load(struct pw_dp *dp, const struct pw_dp_opts *o, char *err, size_t errsz);
void pw_dp_close(struct pw_dp *dp);
/* libbpf's own messages on stderr (the verifier's log included) or not. */
void pw_dp_set_verbose(bool on);

/* Pin every map and the programs loaded under root (created 0700). */
int pw_dp_pin(const struct pw_dp *dp, const char *root, char *err, size_t errsz);
/* Pin the L3 programs pw_dp_load_l3 loaded under root (replacing one of a
 * pair pinned before; on failure neither is left pinned). */
int pw_dp_pin_l3(const struct pw_dp *dp, const char *root, char *err, size_t errsz);
/* The fd of the map pinned as name (pw_ct, ...), -1 for none. */
int pw_dp_map_fd(const struct pw_dp *dp, const char *name);
/* load_l3.c: the programs for interfaces without a link-layer header
 * loaded onto dp's maps, when dp has none (a first apply loads them only
 * for such an interface: they are half its verifier's time). Not pinned
 * (pw_dp_pin_l3). 0, or -errno with a message. */
int pw_dp_load_l3(struct pw_dp *dp, bool verbose, char *err, size_t errsz);
/* Open a loaded datapath from its pins. Returns 0, -ENOENT when nothing is
 * pinned there, or another -errno with a message. */
int pw_dp_open_pinned(struct pw_dp *dp, const char *root, char *err, size_t errsz);
/* The program of direction dir for link kind link (enum pw_link): an fd,
 * or -1 when this datapath has none (pins of an older portwall). */
int pw_dp_prog(const struct pw_dp *dp, uint8_t link, uint32_t dir);
/* Remove the pins of maps and programs under root (not the directory). */
void pw_dp_unpin(const char *root);
int pw_dp_read_meta(const struct pw_dp *dp, struct pw_meta *m);
int pw_dp_write_meta(const struct pw_dp *dp, const struct pw_meta *m);
int pw_dp_read_state(const struct pw_dp *dp, struct pw_state *st);

/* ---- halves.c: a policy into the half not in force, then in force ---- */

/* The default configuration (timeouts, event rate) for ncpus CPUs. */
void pw_config_default(struct pw_config *cfg, uint8_t mode, int ncpus);

/* Can this datapath hold the compiled policy (its rule counters)? 0, or
 * -E2BIG with a message. pw_dp_write_half checks it too. */
int pw_dp_fits(const struct pw_dp *dp, const struct pw_compiled *c, char *err, size_t errsz);
/* The decision slots of both halves, mapped (pw_slots is mmapable). */
struct pw_dp_slots {
	uint8_t *base;
	size_t len, stride;
	uint8_t *cw;			/* pw_classes, mapped (elements of 8 bytes) */
	size_t cw_len;
	uint32_t cw_words;		/* words a half */
	uint8_t *f4;			/* pw_flat4, mapped */
	size_t f4_len;
};
int pw_dp_map_slots(const struct pw_dp *dp, struct pw_dp_slots *m);
void pw_dp_unmap_slots(struct pw_dp_slots *m);
static inline struct pw_slot *pw_dp_slot(const struct pw_dp_slots *m, uint32_t half, uint32_t slot)
{
	return (struct pw_slot *)(m->base + ((size_t)(half & 1) * PW_SLOT_COUNT + slot) * m->stride);
}
/* Word i of half `half` of pw_classes, as the datapath reads it (0 past
 * the half). */
static inline uint32_t *pw_dp_class_word(const struct pw_dp_slots *m, uint32_t half, uint32_t i)
{
	return (uint32_t *)(m->cw + ((size_t)(half & 1) * m->cw_words + i) * 8);
}
static inline uint32_t pw_dp_class_get(const struct pw_dp_slots *m, uint32_t half, uint32_t i)
{
	return i < m->cw_words ? *pw_dp_class_word(m, half, i) : 0;
}

/* Write a compiled policy and its configuration into half `half` (the one
 * not in force): slots, a new peer trie, config. Returns 0 or -errno. */
int pw_dp_write_half(struct pw_dp *dp, uint32_t half, const struct pw_compiled *c,
		     const struct pw_config *cfg, char *err, size_t errsz);
/* A new peer trie for half `half` (not in force) with c's entries and room
 * for what its names learn; installed in pw_peers. 0 or -errno. */
int pw_dp_renew_trie(struct pw_dp *dp, uint32_t half, const struct pw_compiled *c, char *err, size_t errsz);
/* Put half `half` in force (one 4-byte write), then wait until no packet
 * can still be judged by the other half (an RCU grace period). */
int pw_dp_activate(struct pw_dp *dp, uint32_t half, uint32_t generation);
/* Zero one half's rule counters of rule ids 0..nrules (do it only to the
 * half not in force). 0, -ERANGE past the capacity, or -errno. */
int pw_dp_zero_stats(struct pw_dp *dp, uint32_t half, uint32_t nrules);

/* ---- counters.c: the counters summed over CPUs, and their carry ---- */

/* "allow-rule", "default", ...: each reason as status and the events name it */
extern const char *const pw_reason_names[PW_R_COUNT];

int pw_dp_reason_counts(const struct pw_dp *dp, struct pw_counter out[PW_DIR_COUNT * PW_R_COUNT]);
/* A rule's count in the half in force (or in `half`), carried counts included. */
int pw_dp_rule_count(const struct pw_dp *dp, uint32_t rule, uint32_t dir, struct pw_counter *out);
int pw_dp_rule_count_half(const struct pw_dp *dp, uint32_t half, uint32_t rule, uint32_t dir,
			  struct pw_counter *out);
/* After a reload put half `to` in force (and the grace period passed, so
 * nothing writes half `from` any more): every rule of `to` that has the
 * fingerprint of a rule of `from` takes that rule's total as its carry. */
int pw_dp_carry(struct pw_dp *dp, uint32_t from, uint32_t to, uint32_t nold, uint32_t nnew);
/* The same when the caller wrote half `to`'s records itself (reset_rules):
 * fps[0..nnew] their fingerprints, so they are not read back. */
int pw_dp_carry_fp(struct pw_dp *dp, uint32_t from, uint32_t to, uint32_t nold, uint32_t nnew, const uint64_t *fps);
/* The highest rule id half `half` records (its last policy's rule count:
 * the records end at the first id past 0 with no fingerprint). 0 or -errno. */
int pw_dp_half_nrules(const struct pw_dp *dp, uint32_t half, uint32_t *nrules);
int pw_dp_port_drops(const struct pw_dp *dp, uint32_t slot, __u64 *out);

/* ---- reset.c: `portwall counters --reset` ---- */

/* Reset rules ids[0..n) (every rule 0..nrules when n is 0) of the half in
 * force to zero as status shows them: the counts so far move from carry
 * to the rule's reset offset, the per-CPU counters the datapath writes are
 * not touched (no count in flight is lost). 0 or -errno. */
int pw_dp_counters_reset(struct pw_dp *dp, const uint32_t *ids, size_t n, uint32_t nrules);
/* The rule's reset offset in the half in force: what the metrics add. */
int pw_dp_rule_reset(const struct pw_dp *dp, uint32_t rule, uint32_t dir, struct pw_counter *out);
int pw_dp_stats(const struct pw_dp *dp, struct pw_stats *out);

/* ---- testrun.c: packets through the programs (BPF_PROG_TEST_RUN) ---- */

/* the largest frame pw_dp_run takes */
#define PW_PKT_OUT_MAX 10240

/* Run one frame through the ingress (dir IN) or egress (dir OUT) program.
 * *verdict: PW_PASS / PW_DROP as the program returned it. The _link forms
 * take the link kind (enum pw_link): PW_LINK_L3 runs a frame that starts
 * at its IP header through the L3 programs. The kernel runs no frame
 * shorter than 14 bytes (-EINVAL). */
int pw_dp_run(const struct pw_dp *dp, uint32_t dir, const uint8_t *frame, size_t len, int *verdict);
int pw_dp_run_link(const struct pw_dp *dp, uint8_t link, uint32_t dir, const uint8_t *frame, size_t len,
		   int *verdict);

/* Run one frame and read what the kernel counted for it: the verdict the
 * program returned, the reason and the deciding rule (rule ids 0..nrules
 * are looked at). Counters move for nothing else while it runs only on
 * private maps; on live maps traffic may blur reason and rule. */
struct pw_dp_result {
	int verdict;		/* PW_PASS / PW_DROP as returned */
	int reason;		/* enum pw_reason, -1 if no counter moved */
	uint32_t rule;		/* with a rule/default reason */
};
int pw_dp_judge(const struct pw_dp *dp, uint32_t nrules, uint32_t dir, const uint8_t *frame,
		size_t len, struct pw_dp_result *r);
int pw_dp_judge_link(const struct pw_dp *dp, uint32_t nrules, uint8_t link, uint32_t dir, const uint8_t *frame,
		     size_t len, struct pw_dp_result *r);

/* ---- ct_list.c: the tracked flows, for `portwall conntrack` ---- */

struct pw_ct_row {
	struct pw_ct_key k;
	struct pw_ct_val v;
	uint8_t table;		/* enum pw_ct_table */
	uint64_t age_ns;	/* since its last refresh */
	uint64_t timeout_ns;	/* of its state: it expires when age_ns passes it */
};
/* Every entry of pw_ct, pw_ct_dgram and pw_ct_in, in that order (each in
 * map order), with the timeouts of the half in force; *rows malloc'd
 * (free it). 0 or -errno. */
int pw_dp_ct_list(const struct pw_dp *dp, struct pw_ct_row **rows, size_t *n);
/* "established", "syn-sent", "fin-sent", "reset" (TCP), "replied",
 * "unreplied" (the host's other flows), "seen" (a peer's), "revoked";
 * "exception," before the word for a timed exception's flow;
 * "exception,answers" the mark of the host's side of an in exception's
 * flow (ended at the exception's end as a revoked flow is). */
const char *pw_ct_row_state(const struct pw_ct_row *r);
/* Who started the flow: PW_DIR_OUT the host, PW_DIR_IN a peer (pw_ct_in,
 * and the marks of revoked flows). */
uint32_t pw_ct_row_origin(const struct pw_ct_row *r);

/* ---- ct_flush.c: conntrack after a reload or a rollback ---- */

/* The established flows of revoked services a reload or rollback ended:
 * how many, and how many of each service (protocol, local port), the
 * first PW_REVOKE_SERVICES of them (revoke.c). */
#define PW_REVOKE_SERVICES 8
struct pw_revoke {
	int total;
	int tcp, dgram;		/* of total: marks written into pw_ct, pw_ct_dgram */
	int nsvc;
	struct {
		uint8_t proto;
		uint16_t port;
		int n;
	} svc[PW_REVOKE_SERVICES];
};
void pw_revoke_add(struct pw_revoke *r, uint8_t proto, uint16_t port);
/* "tcp 8443 x3, udp 5353 x1" (and ", ..." past the services kept) */
void pw_revoke_format(const struct pw_revoke *r, char *buf, size_t n);

/* Delete the tracked flows half `half` does not allow (after a reload or
 * a rollback put it in force), from every table, judged by the kernel's
 * own slots and trie of that half. Returns how many were removed, or -1
 * (errno set) when the tables cannot be read, or one was read only part
 * way (what was read is flushed; the walk is not done, so the caller keeps
 * pw_meta.ct_walk_due set); removed[t], when not NULL, how many of
 * table t (enum pw_ct_table). The live flows of pw_ct_in it removes are
 * revoked services' flows: each is marked revoked in pw_ct_dgram (so that
 * the host's packets of it drop too, and open no flow of the host's) and
 * counted in *rev when rev is not NULL. */
int pw_dp_flush_ct(struct pw_dp *dp, uint32_t half, int removed[PW_CT_TABLE_COUNT], struct pw_revoke *rev);
/* The same, leaving out the tables whose bit (1 << PW_CT_TABLE_x) is in
 * skip: those pw_dp_ct_same found judged alike. */
int pw_dp_flush_ct_skip(struct pw_dp *dp, uint32_t half, unsigned skip, int removed[PW_CT_TABLE_COUNT],
			struct pw_revoke *rev);
/* The conntrack tables (bits 1 << PW_CT_TABLE_x) whose flows half `to`
 * judges, for every peer, as half `from` did (ct_same.c): a reload from
 * `from` need not walk them. 0 when the slots cannot be read. */
unsigned pw_dp_ct_same(const struct pw_dp *dp, uint32_t from, uint32_t to);
/* Half `half` (slots m, trie) lets the opening packet of k (by origin) pass. */
bool pw_dp_half_allows(const struct pw_dp_slots *m, uint32_t half, int trie, const struct pw_ct_key *k,
		       uint32_t origin);
/* The TCP connections peers made to the listeners of the caller's
 * namespace that half `half` no longer lets in (a TCP flow a peer started
 * has no entry: its packets are judged by the in rules each time) are
 * marked revoked in pw_ct, so that the host's segments of them drop and
 * open no flow; counted in *rev. 0 or -errno (the sockets not read). */
int pw_dp_revoke_tcp(struct pw_dp *dp, uint32_t half, struct pw_revoke *rev);
/* Does the policy allow the flow k (opened by `origin`: PW_DIR_OUT for
 * pw_ct and pw_ct_dgram, PW_DIR_IN for pw_ct_in) as its opening packet was
 * judged? */
bool pw_ct_key_allowed(const struct pw_compiled *c, const struct pw_ct_key *k, uint32_t origin);
/* The keys of the flows the host opened (pw_ct, then pw_ct_dgram; the
 * marks of revoked flows left out), as a walk of each finds them; *keys is malloc'd (free it). 0 or -ENOMEM. */
int pw_dp_host_flows(const struct pw_dp *dp, struct pw_ct_key **keys, size_t *n);
/* by_rule[i]: the half in force decides the opening packet of flow keys[i]
 * (one the host opened) by a rule, not its default, as the kernel judges
 * it now: its trie has the addresses learned for host names too. 0, or -1
 * when the tables cannot be read. */
int pw_dp_flows_by_rule(const struct pw_dp *dp, const struct pw_ct_key *keys, size_t n, bool *by_rule);

/* ---- dns.c: host names (docs/dns.md) ---- */

/* A half's names and wildcards (key .half is set by the writer) and the
 * resolvers whose answers teach. */
struct pw_dp_names {
	const struct pw_name_key *keys;
	const struct pw_name_val *vals;
	size_t nnames;
	const struct pw_resolver_key *resolvers;
	size_t nresolvers;
	const uint32_t *uids;		/* whose queries teach (pw_dns_users) */
	size_t nuids;
};
/* Replace half `half`'s names, resolvers and trusted uids (write only the
 * half not in force). Returns 0, or -errno with a message. */
int pw_dp_write_names(struct pw_dp *dp, uint32_t half, const struct pw_dp_names *nm, char *err, size_t errsz);
int pw_dp_dns_stats(const struct pw_dp *dp, struct pw_dns_stats *out);
/* One record of pw_learned. */
struct pw_learned_rec {
	struct pw_learned_key k;
	struct pw_learned_val v;
};
/* Every record of pw_learned, sorted by name (hash, wildcard) and address:
 * their count, *out to free(); or -errno. */
ssize_t pw_dp_learned_read(const struct pw_dp *dp, struct pw_learned_rec **out);
/* The compiled policy's names and the resolvers into half `half`. */
int pw_dp_write_policy_names(struct pw_dp *dp, uint32_t half, const struct pw_compiled *c,
			     const struct pw_ip *res, size_t nres, char *err, size_t errsz);

/* resolvers.c: the DNS servers whose answers teach the names of c: its
 * `resolver` statement, else the nameservers of /etc/netns/NETNS/
 * resolv.conf or /etc/resolv.conf (systemd-resolved's stub followed to
 * its upstream). None when c has no names. Returns 0, or -1 with what to
 * do in err (a local cache, no server, an unreadable file). */
int pw_policy_resolvers(const struct pw_compiled *c, const char *netns, struct pw_ip out[PW_RESOLVERS_MAX],
			size_t *nout, char *err, size_t errsz);

/* The datapath's clock (bpf_ktime_get_coarse_ns), read from userspace. */
uint64_t pw_mono_ns(void);
/* clock.c: the conntrack clock's tick and offset for pw_config
 * (ct_tick_ns, ct_clock_off), measured now. Returns 0 (both 0 when the
 * datapath knows no HZ: it reads the helper's clock then), or -errno. */
int pw_dp_ct_clock(uint64_t *tick_ns, uint64_t *off);

/* The peer trie of half `half`: an fd to close, or -errno. */
int pw_dp_half_trie(const struct pw_dp *dp, uint32_t half);
/* Write every address learned and alive at `now` (bpf_ktime_get_coarse_ns
 * time) for a name half `half` has into that half's trie: a reload keeps
 * what the names of the policy it keeps have learned. Call it after
 * pw_dp_write_half and pw_dp_write_names, and again after the flip (an
 * answer learned into the old half meanwhile). Returns entries written or
 * -errno. */
int pw_dp_relearn(struct pw_dp *dp, uint32_t half, uint64_t now);
/* Remove the addresses whose lifetime ended before `now` from pw_learned
 * and from half `half`'s trie (the half in force, compiled as c), giving
 * back what the policy itself says of them. A flow opened to one goes on
 * (its packets pass as a tracked flow's); new flows need the name again.
 * A name holding more than name_max live addresses (0: no cap) keeps its
 * name_max most recently answered; the others go as well, counted in
 * *evicted (when not NULL) and in pw_dns_stats' agent entry. Returns how
 * many were removed, or -errno. */
int pw_dp_dns_expire(struct pw_dp *dp, uint32_t half, const struct pw_compiled *c, uint64_t now, uint32_t name_max,
		     int *evicted);

/* ---- events.c (beside the events' formats and reader lock, events.h) ---- */

/* Hand every drop event waiting in the ring buffer to fn; returns how many
 * were read, or -errno. */
int pw_dp_read_events(const struct pw_dp *dp, void (*fn)(const struct pw_event *e, void *ctx), void *ctx);

/* age.c: make every tracked flow and fragment entry secs seconds older,
 * as if that time had passed (private maps only: `wait` in test scripts).
 * How many entries, or -EINVAL. */
int pw_dp_age(const struct pw_dp *dp, uint32_t secs);

#endif
