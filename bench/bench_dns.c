/* bench_dns.c - what the DNS learner (docs/dns.md, issue 13) costs in the
 * datapath, by BPF_PROG_TEST_RUN: a DNS answer through the XDP program, and
 * what every other packet pays for the feature. A benchmark, never a test:
 * it prints numbers and passes judgement on nothing. Needs root.
 *
 * Three parts (bench/RESULTS.md, "DNS answers"):
 *  1. Answers, one at a time. An answer teaches only once per query (the
 *     query's record is removed), so a BPF_PROG_TEST_RUN loop would time one
 *     answer and then repeat-1 unsolicited ones. Each sample here is a real
 *     exchange: the query through the tc program (recorded in pw_dns_q),
 *     then the answer through the XDP program with repeat 1, the kernel's
 *     own duration of that one run. The same frame is run, the same way,
 *     through the same policy without names (the answer's verdict alone:
 *     a tracked reply) and through the empty XDP program (the floor of a
 *     single run: the timer's clock read and the bh toggles included).
 *     "refresh": the addresses are known (the steady state: pw_learned
 *     renewed, no trie write). "first learn": every sample carries new
 *     addresses (trie and pw_learned inserts); what was learned is removed
 *     between phases.
 *  2. The xlated programs: with the learner and built without it
 *     (-DPW_BENCH_NO_DNS, bench only), instruction counts and the compare.
 *  3. The common paths in loops (as bench_prog): the programs without the
 *     learner, portwall on the policy without names and on the policy with
 *     names, side by side in each round. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "dns_msg.h"
#include "datapath/loader.h"	/* portwall.h: the types the skeletons name */
#include "policy/packet.h"
#include "bench_stats.h"
#include "egress.skel.h"
#include "egress_nodns.skel.h"
#include "empty.skel.h"
#include "ingress.skel.h"
#include "ingress_nodns.skel.h"

static unsigned repeat = 300000, rounds = 11, answers = 500;

#define HOST "192.0.2.2"
#define RESOLVER "198.51.100.53"

/* the bench's 10-rule policy (bench_prog.c) under default out drop, with
 * DNS to one resolver, a QUIC peer for the tracked reply, and one rule of
 * names; its twin has addresses where the names are */
#define POLICY_HEAD                                                     \
	"default in drop\n"                                             \
	"default out drop\n"                                            \
	"set mr = 198.51.100.10, 2001:db8:5::10\n"                      \
	"allow in tcp port 22\n"                                        \
	"allow in tcp port 80,443\n"                                    \
	"allow in tcp port 5222,7071,7443\n"                            \
	"allow in tcp port 38001 from @mr\n"                            \
	"allow out tcp port 25,465,587,993\n"                           \
	"allow out udp,tcp port 53 to " RESOLVER "\n"                   \
	"allow in icmp type echo-request\n"                             \
	"deny in tcp port 1-1023 from 203.0.113.0/24\n"                 \
	"allow in udp port 5060\n"                                      \
	"allow in tcp port 8442\n"                                      \
	"allow out udp port 443 to 198.51.100.25\n"
static const char *const names_policy =
	"policy \"bench: names\"\n" POLICY_HEAD
	"allow out tcp port 443 to smtp.office365.com, outlook.office365.com, *.mycontactcenter.net\n";
static const char *const plain_policy =
	"policy \"bench: no names\"\n" POLICY_HEAD
	"allow out tcp port 443 to 203.0.113.200, 203.0.113.201, 203.0.113.208/28\n";

/* ---- loading --------------------------------------------------------------- */

struct loaded {
	struct pw_policy pol;
	struct pw_compiled c;
	struct pw_dp dp;
};

static void die(const char *what, const char *why)
{
	fprintf(stderr, "bench_dns: %s: %s\n", what, why);
	exit(1);
}

static void load(struct loaded *l, const char *name, const char *text, int with_names)
{
	struct pw_diag d = { 0 };
	char err[512];
	struct pw_config cfg;

	if (pw_policy_parse_text(name, text, strlen(text), &l->pol, &d) || pw_compile(&l->pol, &l->c, &d))
		die(name, d.error);
	pw_diag_free(&d);
	struct pw_dp_opts o = { .rule_capacity = l->c.nrules + 1,
				 .class_words = pw_dp_class_words_for(l->c.nrules + 1, l->c.nclass_words) };
	if (pw_dp_load(&l->dp, &o, err, sizeof(err)))
		die(name, err);
	pw_config_default(&cfg, PW_MODE_ENFORCE, l->dp.ncpus);
	if (pw_dp_write_half(&l->dp, 0, &l->c, &cfg, err, sizeof(err)))
		die(name, err);
	if (with_names) {
		struct pw_ip res = { .fam = PW_FAM_V4, .addr = { 198, 51, 100, 53 } };
		if (pw_dp_write_policy_names(&l->dp, 0, &l->c, &res, 1, err, sizeof(err)))
			die(name, err);
	}
	if (pw_dp_activate(&l->dp, 0, 1))
		die(name, "activating half 0 failed");
}

/* The programs built without the learner, on the maps of l (its policy,
 * its conntrack): every map of the object by name, as the loader shares
 * them between its two programs. */
struct nodns {
	struct ingress_nodns_bpf *in;
	struct egress_nodns_bpf *out;
	int fd[PW_DIR_COUNT];
};

static void share(struct bpf_object *from, struct bpf_object *to)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, to) {
		const char *name = bpf_map__name(m);
		if (strchr(name, '.'))
			continue;	/* the object's own .rodata, .kconfig */
		struct bpf_map *src = bpf_object__find_map_by_name(from, name);
		if (!src || bpf_map__reuse_fd(m, bpf_map__fd(src)))
			die("sharing a map with the program built without the learner", name);
	}
}

static void load_nodns(struct nodns *n, struct loaded *l)
{
	n->in = ingress_nodns_bpf__open();
	n->out = egress_nodns_bpf__open();
	if (!n->in || !n->out)
		die("opening the programs built without the learner", strerror(errno));
	share(l->dp.in->obj, n->in->obj);
	share(l->dp.in->obj, n->out->obj);
	if (ingress_nodns_bpf__load(n->in) || egress_nodns_bpf__load(n->out))
		die("loading the programs built without the learner", strerror(errno));
	n->fd[PW_DIR_IN] = bpf_program__fd(n->in->progs.pw_ingress);
	n->fd[PW_DIR_OUT] = bpf_program__fd(n->out->progs.pw_egress);
}

/* ---- packets and DNS messages ---------------------------------------------- */

struct frame {
	uint8_t b[PW_PKT_OUT_MAX];
	size_t n;
};

#define TXID 0x4d2a

static void query(struct msg *m, const char *qname)
{
	header(m, TXID, 0x0100, 1, 0);
	question(m, qname, 1);
}

/* The answer to qname: ncname CNAME records (each owner the previous
 * target, by a compression pointer), then na A records for the last name,
 * addresses first, first+1, ... (host order). */
static const char *const chain[] = { "outlook.ha.office365.com", "outlook.ms-acdc.office.com",
				     "fra-efz.ms-acdc.office.com" };

static void answer(struct msg *m, unsigned txid, const char *qname, unsigned ncname, unsigned na, uint32_t first)
{
	unsigned owner = 0xc00c;

	header(m, txid, 0x8180, 1, ncname + na);
	question(m, qname, 1);
	for (unsigned i = 0; i < ncname && i < 3; i++) {
		struct msg t = { .n = 0 };
		put_name(&t, chain[i]);
		put16(m, owner);
		put16(m, 5);
		put16(m, 1);
		put32(m, 300);
		put16(m, (unsigned)t.n);
		owner = 0xc000 | (unsigned)m->n;
		for (size_t b = 0; b < t.n; b++)
			put8(m, t.b[b]);
	}
	for (unsigned i = 0; i < na; i++) {
		put16(m, owner);
		put16(m, 1);
		put16(m, 1);
		put32(m, 300);
		put16(m, 4);
		put32(m, first + i);
	}
}

/* The frame of `words` carrying message m (NULL: none). */
static void build(struct frame *f, const char *words, const struct msg *m)
{
	char line[256], err[256];
	struct pw_pktspec s;

	snprintf(line, sizeof(line), m ? "%s len %zu" : "%s", words, m ? m->n : 0);
	if (pw_pkt_parse_line(line, &s, err, sizeof(err)))
		die(line, err);
	f->n = pw_pkt_build(&s, f->b, sizeof(f->b));
	if (!f->n)
		die(line, "does not fit");
	if (m)
		memcpy(f->b + f->n - m->n, m->b, m->n);
}

/* A new message of the same length into frame f. */
static void rewrite(struct frame *f, const struct msg *m)
{
	memcpy(f->b + f->n - m->n, m->b, m->n);
}

/* ---- timing ---------------------------------------------------------------- */

struct t {
	double k;	/* the kernel's duration: whole ns a run */
	double cpu;	/* this thread's CPU time of the call / repeat (fractional ns;
			 * the syscall's own ~µs spread over the repeats) */
};

static struct t run(int fd, const struct frame *f, unsigned rep)
{
	struct timespec a, b;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b, .data_size_in = (uint32_t)f->n, .repeat = rep);

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	if (bpf_prog_test_run_opts(fd, &o))
		die("BPF_PROG_TEST_RUN", strerror(errno));
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	struct t r = { .k = o.duration,
		       .cpu = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / rep };
	return r;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* median, min, max of v[0..n) (sorts v) */
struct mm {
	double med, lo, hi;
};

static struct mm mm_of(double *v, unsigned n)
{
	qsort(v, n, sizeof(double), cmp_d);
	struct mm r = { v[n / 2], v[0], v[n - 1] };
	return r;
}

/* " median (min-max)", prec decimals */
static void print_mm(int prec, struct mm m)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%.*f", prec, m.med);
	printf(" %7s", buf);
	snprintf(buf, sizeof(buf), "(%.*f-%.*f)", prec, m.lo, prec, m.hi);
	printf(" %-16s", buf);
}

static struct pw_dns_stats dstats(const struct loaded *l)
{
	struct pw_dns_stats s;
	if (pw_dp_dns_stats(&l->dp, &s))
		die("reading pw_dns_stats", strerror(errno));
	return s;
}

/* Remove every learned address: from pw_learned and, for each target of
 * its name, its exact entry from the trie of half 0 (the bench's addresses
 * are in no prefix of the policy: nothing to write back). What
 * pw_dp_dns_expire does, without its put_back scan over all entries. */
static unsigned forget(struct loaded *l)
{
	int trie = pw_dp_half_trie(&l->dp, 0);
	struct pw_learned_key k, next, *prev = NULL;
	unsigned n = 0;
	static struct pw_learned_key keys[PW_LEARNED_CAPACITY];

	if (trie < 0)
		die("the trie of half 0", strerror(-trie));
	while (n < PW_LEARNED_CAPACITY && bpf_map_get_next_key(l->dp.learned_fd, prev, &next) == 0) {
		keys[n++] = next;
		k = next;
		prev = &k;
	}
	for (unsigned i = 0; i < n; i++) {
		struct pw_name_key nk = { .hash = keys[i].name_hash, .half = 0, .wild = keys[i].wild };
		struct pw_name_val nv;
		if (bpf_map_lookup_elem(l->dp.names_fd, &nk, &nv) == 0)
			for (unsigned t = 0; t < nv.ntargets && t < PW_NAME_TARGETS; t++) {
				struct pw_peer_key pk = { .prefixlen = PW_PEER_SCOPE_BITS + 32,
							  .scope = pw_peer_scope(nv.t[t].shape, PW_FAM_V4) };
				memcpy(pk.addr, keys[i].addr, 16);
				bpf_map_delete_elem(trie, &pk);
			}
		bpf_map_delete_elem(l->dp.learned_fd, &keys[i]);
	}
	close(trie);
	return n;
}

/* ---- part 1: answers, one at a time ------------------------------------------ */

struct acase {
	const char *name, *qname;
	unsigned ncname, na;
};

static const struct acase acases[] = {
	{ "1 A", "smtp.office365.com", 0, 1 },
	{ "20 A", "smtp.office365.com", 0, 20 },
	{ "32 A", "smtp.office365.com", 0, 32 },
	{ "3 CNAME + 4 A", "outlook.office365.com", 3, 4 },
	{ "1 A, wildcard name", "pop1-ccans.mycontactcenter.net", 0, 1 },
};
#define NACASE (sizeof(acases) / sizeof(acases[0]))

#define Q_OUT "out udp " HOST ":40000 " RESOLVER ":53"
#define A_IN "in udp " RESOLVER ":53 " HOST ":40000"

/* per round: the medians over the round's samples */
struct sample_set {
	double names[64], plain[64], empty[64], net[64], ratio[64];
	double mnames[64], mnet[64];	/* by the means: what the rare slow answers add */
};

/* One answer case, one mode (fresh: new addresses every sample), one round:
 * `answers` exchanges; the medians of the round into ss[round]. Returns
 * what the learner counted (to say what was measured). */
static struct pw_dns_stats one_round(struct loaded *ln, struct loaded *lp, int empty_fd, const struct acase *c,
				     unsigned ci, int fresh, unsigned r, struct sample_set *ss)
{
	static double tn[4096], tp[4096], te[4096];
	struct msg q, a;
	struct frame qf, af;
	uint32_t known = (10u << 24) | (200u << 16) | (ci << 8);	/* 10.200.ci.0: refresh */

	query(&q, c->qname);
	build(&qf, Q_OUT, &q);
	answer(&a, TXID, c->qname, c->ncname, c->na, known);
	build(&af, A_IN, &a);
	if (!fresh) {	/* learn the known addresses first */
		run(ln->dp.prog_fd[PW_DIR_OUT], &qf, 1);
		run(ln->dp.prog_fd[PW_DIR_IN], &af, 1);
	}
	struct pw_dns_stats before = dstats(ln);
	for (unsigned k = 0; k < answers; k++) {
		if (fresh) {	/* 10.ci.k.0 + j */
			answer(&a, TXID, c->qname, c->ncname, c->na, (10u << 24) | (ci << 16) | (k << 6));
			rewrite(&af, &a);
		}
		/* the order rotates: no program always runs first */
		for (unsigned s = 0; s < 3; s++) {
			switch ((s + k) % 3) {
			case 0:
				run(ln->dp.prog_fd[PW_DIR_OUT], &qf, 1);
				tn[k] = run(ln->dp.prog_fd[PW_DIR_IN], &af, 1).k;
				break;
			case 1:
				run(lp->dp.prog_fd[PW_DIR_OUT], &qf, 1);
				tp[k] = run(lp->dp.prog_fd[PW_DIR_IN], &af, 1).k;
				break;
			default:
				te[k] = run(empty_fd, &af, 1).k;
			}
		}
	}
	struct pw_dns_stats after = dstats(ln), d = { 0 };
	d.answers = after.answers - before.answers;
	d.learned = after.learned - before.learned;
	d.refreshed = after.refreshed - before.refreshed;
	d.unsolicited = after.unsolicited - before.unsolicited;
	d.malformed = after.malformed - before.malformed;
	d.full = after.full - before.full;
	double sn = 0, sp = 0;
	for (unsigned k = 0; k < answers; k++)
		sn += tn[k], sp += tp[k];
	ss->mnames[r] = sn / answers;
	ss->mnet[r] = (sn - sp) / answers;
	ss->names[r] = mm_of(tn, answers).med;
	ss->plain[r] = mm_of(tp, answers).med;
	ss->empty[r] = mm_of(te, answers).med;
	ss->net[r] = ss->names[r] - ss->plain[r];
	ss->ratio[r] = ss->names[r] / ss->empty[r];
	return d;
}

static void answers_part(struct loaded *ln, struct loaded *lp, int empty_fd)
{
	static struct sample_set ss[NACASE][2];
	struct pw_dns_stats got[NACASE][2];

	memset(got, 0, sizeof(got));
	printf("\n# 1. DNS answers through the XDP program, one at a time (repeat 1): %u rounds x %u answers\n",
	       rounds, answers);
	printf("#    each answer after its query (tc); ns is the kernel's duration of one run; per round the\n"
	       "#    median of its answers, then the median (min-max) over the rounds\n");
	for (unsigned r = 0; r < rounds; r++)
		for (unsigned ci = 0; ci < NACASE; ci++)
			for (int fresh = 0; fresh < 2; fresh++) {
				struct pw_dns_stats d = one_round(ln, lp, empty_fd, &acases[ci], ci, fresh, r,
								  &ss[ci][fresh]);
				got[ci][fresh].answers += d.answers;
				got[ci][fresh].learned += d.learned;
				got[ci][fresh].refreshed += d.refreshed;
				got[ci][fresh].unsolicited += d.unsolicited;
				got[ci][fresh].malformed += d.malformed;
				got[ci][fresh].full += d.full;
				if (fresh)
					forget(ln);
			}
	printf("\nper answer, ns: median (min-max) over the rounds of each round's median (mean: of its means)\n");
	printf("%-20s %-11s %-24s %-24s %-24s %-24s %-24s %-24s %-24s\n", "answer", "mode", "names", "names, mean",
	       "plain", "learner: names-plain", "learner, mean", "empty", "names x empty");
	for (unsigned ci = 0; ci < NACASE; ci++)
		for (int fresh = 0; fresh < 2; fresh++) {
			struct sample_set *s = &ss[ci][fresh];
			printf("%-20s %-11s", acases[ci].name, fresh ? "first learn" : "refresh");
			print_mm(0, mm_of(s->names, rounds));
			print_mm(0, mm_of(s->mnames, rounds));
			print_mm(0, mm_of(s->plain, rounds));
			print_mm(0, mm_of(s->net, rounds));
			print_mm(0, mm_of(s->mnet, rounds));
			print_mm(0, mm_of(s->empty, rounds));
			print_mm(1, mm_of(s->ratio, rounds));
			printf("\n");
		}
	printf("\nwhat the learner counted (all rounds; each answer is expected to count its %s):\n",
	       "A records as learned (first learn) or refreshed (refresh)");
	for (unsigned ci = 0; ci < NACASE; ci++)
		for (int fresh = 0; fresh < 2; fresh++) {
			struct pw_dns_stats *g = &got[ci][fresh];
			unsigned long long want = (unsigned long long)rounds * answers * acases[ci].na;
			unsigned long long have = fresh ? g->learned : g->refreshed;
			printf("  %-20s %-11s answers %llu, learned %llu, refreshed %llu, unsolicited %llu, "
			       "malformed %llu, full %llu%s\n", acases[ci].name, fresh ? "first learn" : "refresh",
			       (unsigned long long)g->answers, (unsigned long long)g->learned,
			       (unsigned long long)g->refreshed, (unsigned long long)g->unsolicited,
			       (unsigned long long)g->malformed, (unsigned long long)g->full,
			       have == want && g->answers == (unsigned long long)rounds * answers
				       ? "" : "   <- NOT what this row claims to measure");
		}
}

/* ---- part 2: the xlated programs ----------------------------------------------- */

struct xl {
	unsigned total, main, nfunc, jited;
	int cmp_at;		/* the instruction comparing a port with 53 (main), -1: none */
	unsigned ncmp;
	unsigned skip;		/* its jump: instructions skipped when the port is not 53 */
	struct bpf_insn pre, cmp;
};

static struct xl xlated(int fd)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	struct xl x = { .cmp_at = -1 };

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		die("bpf_obj_get_info_by_fd", strerror(errno));
	unsigned n = info.xlated_prog_len / 8, nf = info.nr_func_info, rs = info.func_info_rec_size;
	struct bpf_insn *insn = calloc(n, sizeof(*insn));
	struct bpf_func_info *fi = calloc(nf ? nf : 1, rs ? rs : sizeof(*fi));
	if (!insn || !fi)
		die("xlated", "out of memory");
	memset(&info, 0, sizeof(info));
	info.xlated_prog_len = n * 8;
	info.xlated_prog_insns = (uint64_t)(uintptr_t)insn;
	info.nr_func_info = nf;
	info.func_info_rec_size = rs;
	info.func_info = (uint64_t)(uintptr_t)fi;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		die("bpf_obj_get_info_by_fd", strerror(errno));
	x.total = n;
	x.nfunc = nf;
	x.jited = info.jited_prog_len;
	x.main = n;
	for (unsigned i = 1; i < nf; i++) {
		const struct bpf_func_info *f = (const void *)((const char *)fi + (size_t)i * rs);
		if (f->insn_off < x.main)
			x.main = f->insn_off;
	}
	for (unsigned i = 0; i < x.main; i++) {
		uint8_t op = insn[i].code & 0xf0, cls = insn[i].code & 0x07;
		if ((cls == BPF_JMP || cls == BPF_JMP32) && (insn[i].code & BPF_X) == 0 &&
		    (op == BPF_JEQ || op == BPF_JNE) && insn[i].imm == 0x3500) {	/* htons(53) */
			x.ncmp++;
			x.cmp_at = (int)i;
			x.cmp = insn[i];
			x.pre = i ? insn[i - 1] : insn[i];
			x.skip = op == BPF_JNE ? (unsigned)insn[i].off : 0;
		}
	}
	free(insn);
	free(fi);
	return x;
}

static const char *insn_text(const struct bpf_insn *i, char *buf, size_t n)
{
	static const char *const sz[] = { "u32", "u16", "u8", "u64" };
	if ((i->code & 0x07) == BPF_LDX && (i->code & 0xe0) == BPF_MEM)
		snprintf(buf, n, "r%u = *(%s *)(r%u %+d)", i->dst_reg, sz[(i->code >> 3) & 3], i->src_reg, i->off);
	else if ((i->code & 0xf0) == BPF_JNE)
		snprintf(buf, n, "if r%u != 0x%x goto pc%+d", i->dst_reg, (unsigned)i->imm, i->off);
	else if ((i->code & 0xf0) == BPF_JEQ)
		snprintf(buf, n, "if r%u == 0x%x goto pc%+d", i->dst_reg, (unsigned)i->imm, i->off);
	else
		snprintf(buf, n, "code 0x%02x dst r%u src r%u off %d imm %d", i->code, i->dst_reg, i->src_reg,
			 i->off, i->imm);
	return buf;
}

static void xlated_part(struct loaded *ln, struct nodns *nd)
{
	static const char *const pname[PW_DIR_COUNT] = { "pw_ingress (XDP)", "pw_egress (tc)" };

	printf("\n# 2. xlated instructions (what the verifier made of each program; bpftool prog dump xlated)\n");
	printf("%-18s %9s %7s %5s %7s | %9s %7s %5s %7s | %s\n", "program", "learner", "main", "funcs", "jited",
	       "without", "main", "funcs", "jited", "main: with - without");
	for (int d = 0; d < PW_DIR_COUNT; d++) {
		struct xl w = xlated(ln->dp.prog_fd[d]), o = xlated(nd->fd[d]);
		printf("%-18s %9u %7u %5u %7u | %9u %7u %5u %7u | %+d\n", pname[d], w.total, w.main, w.nfunc,
		       w.jited, o.total, o.main, o.nfunc, o.jited, (int)w.main - (int)o.main);
		char a[96], b[96];
		printf("  compares with htons(53) in main: with the learner %u, without %u\n", w.ncmp, o.ncmp);
		if (w.cmp_at >= 0)
			printf("  the compare, at %d: %d: %s; %d: %s (a port other than 53 skips %u instructions)\n",
			       w.cmp_at, w.cmp_at - 1, insn_text(&w.pre, a, sizeof(a)), w.cmp_at,
			       insn_text(&w.cmp, b, sizeof(b)), w.skip);
	}
}

/* ---- part 3: the common paths in loops -------------------------------------------- */

struct lcase {
	const char *name, *words;
	int dir;
	int dns;	/* a DNS message rides in it */
};

static const struct lcase lcases[] = {
	{ "allowed port, TCP SYN", "in tcp 198.51.100.7:40000 " HOST ":5222 syn", PW_DIR_IN, 0 },
	{ "denied port, TCP SYN", "in tcp 198.51.100.7:40000 " HOST ":9 syn", PW_DIR_IN, 0 },
	{ "tracked reply, UDP from 443", "in udp 198.51.100.25:443 " HOST ":40001", PW_DIR_IN, 0 },
	{ "long UDP flow out, to 443", "out udp " HOST ":40001 198.51.100.25:443", PW_DIR_OUT, 0 },
	{ "listener's TCP segment out", "out tcp " HOST ":5222 198.51.100.7:40000 ack", PW_DIR_OUT, 0 },
	{ "DNS answer, unknown id (1 A)", A_IN, PW_DIR_IN, 1 },
	{ "DNS query recorded (egress)", Q_OUT, PW_DIR_OUT, 2 },
};
#define NLCASE (sizeof(lcases) / sizeof(lcases[0]))

/* the four programs of each round: [built without the learner, portwall]
 * x [on the names policy's maps, on the plain policy's maps] */
enum { P_NODNS_NAMES, P_DNS_NAMES, P_NODNS_PLAIN, P_DNS_PLAIN, NPROG };
static const char *const prog_name[NPROG] = { "without/names", "portwall/names", "without/plain",
					      "portwall/plain" };
/* the differences shown: a - b */
static const struct { int a, b; const char *name; } diffs[] = {
	{ P_DNS_NAMES, P_NODNS_NAMES, "the learner's code (names)" },
	{ P_DNS_PLAIN, P_NODNS_PLAIN, "the learner's code (plain)" },
	{ P_DNS_NAMES, P_DNS_PLAIN, "names - plain (portwall)" },
};
#define NDIFF (sizeof(diffs) / sizeof(diffs[0]))

static void loops_part(struct loaded *ln, struct loaded *lp, struct nodns nd[2], struct empty_bpf *empty)
{
	static double ns[NLCASE][NPROG][64], x[NLCASE][NPROG][64], dk[NLCASE][NDIFF][64], dc[NLCASE][NDIFF][64],
		fl[2][64 * NLCASE];
	struct frame f[NLCASE];
	unsigned nfl[2] = { 0, 0 };
	struct msg m;
	struct frame setup;

	/* the flows the reply cases answer, in both policies (the programs
	 * without the learner run on the same maps) */
	build(&setup, "out udp " HOST ":40001 198.51.100.25:443", NULL);
	run(ln->dp.prog_fd[PW_DIR_OUT], &setup, 1);
	run(lp->dp.prog_fd[PW_DIR_OUT], &setup, 1);
	query(&m, "smtp.office365.com");
	build(&setup, Q_OUT, &m);
	run(ln->dp.prog_fd[PW_DIR_OUT], &setup, 1);
	run(lp->dp.prog_fd[PW_DIR_OUT], &setup, 1);
	for (unsigned c = 0; c < NLCASE; c++) {
		if (lcases[c].dns == 1)
			answer(&m, TXID ^ 0x5555, "smtp.office365.com", 0, 1, (10u << 24) | (250u << 16) | 1);
		else if (lcases[c].dns == 2)
			query(&m, "smtp.office365.com");
		build(&f[c], lcases[c].words, lcases[c].dns ? &m : NULL);
	}
	struct pw_dns_stats before = dstats(ln);
	for (unsigned r = 0; r < rounds; r++)
		for (unsigned c = 0; c < NLCASE; c++) {
			int d = lcases[c].dir;
			int efd = d == PW_DIR_IN ? bpf_program__fd(empty->progs.xdp_drop_all)
						 : bpf_program__fd(empty->progs.tc_pass_all);
			int fds[NPROG] = { nd[0].fd[d], ln->dp.prog_fd[d], nd[1].fd[d], lp->dp.prog_fd[d] };
			struct t t[NPROG];
			double f0 = run(efd, &f[c], repeat).k;
			for (unsigned s = 0; s < NPROG; s++) {	/* the order rotates with the round */
				unsigned p = (s + r) % NPROG;
				t[p] = run(fds[p], &f[c], repeat);
			}
			double f1 = run(efd, &f[c], repeat).k;
			fl[d][nfl[d]++] = f0;
			fl[d][nfl[d]++] = f1;
			for (unsigned p = 0; p < NPROG; p++) {
				ns[c][p][r] = t[p].k;
				x[c][p][r] = t[p].k * 2 / (f0 + f1);
			}
			for (unsigned i = 0; i < NDIFF; i++) {
				dk[c][i][r] = t[diffs[i].a].k - t[diffs[i].b].k;
				dc[c][i][r] = t[diffs[i].a].cpu - t[diffs[i].b].cpu;
			}
		}
	struct pw_dns_stats after = dstats(ln);

	printf("\n# 3. every packet, %u rounds x %u repeats: the programs built without the learner\n"
	       "#    (-DPW_BENCH_NO_DNS) and portwall's, each on the maps of the policy with names and on those\n"
	       "#    of the same policy without them (plain); the four side by side in each round, their order\n"
	       "#    rotating; x floor: against the empty program of the same hook just before and after\n",
	       rounds, repeat);
	printf("\nns a packet (kernel), median over rounds, and x floor: median (min-max)\n%-30s", "path");
	for (unsigned p = 0; p < NPROG; p++)
		printf(" %-24s", prog_name[p]);
	printf("\n");
	for (unsigned c = 0; c < NLCASE; c++) {
		printf("%-30s", lcases[c].name);
		for (unsigned p = 0; p < NPROG; p++) {
			struct mm a = mm_of(ns[c][p], rounds), b = mm_of(x[c][p], rounds);
			char buf[64];
			snprintf(buf, sizeof(buf), "%.0f %.2f (%.2f-%.2f)", a.med, b.med, b.lo, b.hi);
			printf(" %-24s", buf);
		}
		printf("\n");
	}
	for (int w = 0; w < 2; w++) {
		printf("\n%s, ns a packet, median (min-max) over rounds\n%-30s",
		       w ? "differences by the kernel's duration (whole ns)"
			 : "differences by CPU time (this thread's CPU time of the call / repeats: fractional ns,\n"
			   "the syscall's own cost spread over the repeats)", "path");
		for (unsigned i = 0; i < NDIFF; i++)
			printf(" %-27s", diffs[i].name);
		printf("\n");
		for (unsigned c = 0; c < NLCASE; c++) {
			printf("%-30s", lcases[c].name);
			for (unsigned i = 0; i < NDIFF; i++) {
				struct mm a = mm_of(w ? dk[c][i] : dc[c][i], rounds);
				char buf[64];
				snprintf(buf, sizeof(buf), "%+.*f (%+.*f..%+.*f)", 2 - 2 * w, a.med, 2 - 2 * w, a.lo,
					 2 - 2 * w, a.hi);
				printf(" %-27s", buf);
			}
			printf("\n");
		}
	}
	for (int d = 0; d < 2; d++) {
		struct mm m2 = mm_of(fl[d], nfl[d]);
		printf("floor (empty %s program): median %.0f ns, min-max %.0f-%.0f\n", d == PW_DIR_IN ? "XDP" : "tc",
		       m2.med, m2.lo, m2.hi);
	}
	printf("the learner meanwhile (names policy): queries %llu, unsolicited %llu, answers %llu\n",
	       (unsigned long long)(after.queries - before.queries),
	       (unsigned long long)(after.unsolicited - before.unsolicited),
	       (unsigned long long)(after.answers - before.answers));
}

int main(int argc, char **argv)
{
	if (geteuid() != 0) {
		fprintf(stderr, "bench_dns: needs root (BPF_PROG_TEST_RUN)\n");
		return 1;
	}
	if (argc > 1)
		repeat = (unsigned)strtoul(argv[1], NULL, 10);
	if (argc > 2)
		rounds = (unsigned)strtoul(argv[2], NULL, 10);
	if (argc > 3)
		answers = (unsigned)strtoul(argv[3], NULL, 10);
	if (repeat < 100000 || rounds < 1 || rounds > 64 || answers < 10 || answers > 1000) {
		fprintf(stderr, "usage: bench_dns [REPEAT >= 100000 [ROUNDS 1-64 [ANSWERS 10-1000]]]\n");
		return 2;
	}
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
	pw_bench_stats_off();

	struct empty_bpf *empty = empty_bpf__open_and_load();
	if (!empty)
		die("loading the empty program", strerror(errno));
	static struct loaded ln, lp;
	static struct nodns nd[2];
	load(&ln, "names", names_policy, 1);
	load(&lp, "plain", plain_policy, 0);
	load_nodns(&nd[0], &ln);
	load_nodns(&nd[1], &lp);
	printf("# portwall DNS learner, BPF_PROG_TEST_RUN on CPU 0\n");
	printf("# names policy: %u rules, %zu names; the same without names: %u rules\n", ln.c.nrules,
	       (size_t)ln.c.nnames, lp.c.nrules);

	answers_part(&ln, &lp, bpf_program__fd(empty->progs.xdp_drop_all));
	forget(&ln);	/* both tries as their policies wrote them */
	xlated_part(&ln, &nd[0]);
	loops_part(&ln, &lp, nd, empty);

	for (int i = 0; i < 2; i++) {
		ingress_nodns_bpf__destroy(nd[i].in);
		egress_nodns_bpf__destroy(nd[i].out);
	}
	pw_dp_close(&ln.dp);
	pw_dp_close(&lp.dp);
	empty_bpf__destroy(empty);
	return 0;
}
