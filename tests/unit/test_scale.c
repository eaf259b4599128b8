/* test_scale.c - a policy of 65,535 port rules and 100,000 peer prefixes
 * compiles and is analyzed, its map sizes are reported, and sampled
 * decisions agree with the oracle; a deny set of 65,536 /32s covers an
 * allow /16; one set used by 100 rules is stored once. Times are printed
 * for the record, never asserted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/analyze.h"
#include "policy/compile.h"
#include "policy/flat4.h"
#include "harness.h"
#include "oracle.h"
#include "scale_policy.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

#define NPREFIX PW_SCALE_NPREFIX

/* The flat IPv4 chunks answer what the trie answers, for every class
 * with a root: n addresses near the set's prefixes and n anywhere. */
static unsigned flat_mismatches(const struct pw_compiled *c, unsigned n, unsigned *roots)
{
	uint64_t rng = 777;
	unsigned bad = 0;

	*roots = 0;
	for (uint32_t k = 1; k <= c->nclasses; k++) {
		uint32_t root = c->flat4_roots[c->classes[k - 1].shape];
		if (!root)
			continue;
		++*roots;
		for (unsigned i = 0; i < 2 * n && *roots <= 8; i++) {
			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			uint8_t a[16] = { 0 };
			uint32_t w = (uint32_t)(rng >> 32);
			a[0] = i < n ? (uint8_t)(10 + (w & 1)) : (uint8_t)(w >> 24);
			a[1] = i < n ? (uint8_t)((w >> 8) & 3) : (uint8_t)(w >> 16);
			a[2] = (uint8_t)(w >> 8);
			a[3] = (uint8_t)w;
			const struct pw_peer_val *v = pw_peer_lookup(c, c->classes[k - 1].shape, PW_FAM_V4, a);
			bad += pw_flat4_lookup(c->flat4, c->nflat4, root, a) != (v ? v->rule : 0);
		}
	}
	return bad;
}

TEST(scale_65535_ports_100000_prefixes)
{
	size_t len;
	char *text = pw_scale_policy(&len);
	struct pw_policy pol;
	struct pw_compiled c;
	struct pw_diag d = { 0 };

	REQUIRE(text);
	double t0 = now_ms();
	int prc = pw_policy_parse_text("scale.policy", text, len, &pol, &d);
	double t1 = now_ms();
	free(text);
	if (prc) {
		FAILF("parse: %s", d.error);
		return;
	}
	int crc = pw_compile(&pol, &c, &d);
	double t2 = now_ms();
	if (crc) {
		FAILF("compile: %s", d.error);
		pw_policy_free(&pol);
		return;
	}
	unsetenv("SSH_CONNECTION");
	int arc = pw_analyze(&pol, &c, &d);
	double t3 = now_ms();
	CHECK_EQ_INT(arc, 0);
	/* the one warning: its allow-out rules under default out allow */
	CHECK_EQ_INT(d.nwarn, 1);
	CHECK(d.nwarn && strstr(d.warn[0].msg, "changes nothing under default out allow") != NULL);
	CHECK_EQ_INT(pol.nrules, 65535 + 3);
	CHECK_EQ_INT(pol.sets[0].n, NPREFIX);
	printf("    parse %.0f ms, compile %.0f ms, analyze %.0f ms (%zu rules, %u classes)\n",
	       t1 - t0, t2 - t1, t3 - t2, pol.nrules, c.nclasses);
	printf("    maps: slots %u x %zu B = %zu KiB, peer trie %zu entries x %zu B = %zu KiB\n",
	       PW_SLOT_COUNT, sizeof(struct pw_slot), PW_SLOT_COUNT * sizeof(struct pw_slot) / 1024,
	       c.npeers, sizeof(struct pw_peer_entry), c.npeers * sizeof(struct pw_peer_entry) / 1024);
	/* an allow class per restricted single-port rule (32,767), one deny
	 * class for @big on 1-1023, one allow class for @big outbound and one
	 * deny class for the /16 on 5050. The trie holds each shape once: the
	 * 128 distinct /24s of the single-port rules, @big once (its deny and
	 * its allow class have the one shape), the /16 */
	CHECK_EQ_INT(c.nclasses, 32767 + 3);
	CHECK_EQ_INT(c.nshapes, 128 + 1 + 1);
	CHECK_EQ_INT(c.npeers, 128 + NPREFIX + 1);

	/* sampled decisions against the oracle */
	uint64_t rng = 12345;
	unsigned mism = 0, n = getenv("PW_TEST_QUICK") ? 50 : 400;
	for (unsigned k = 0; k < n; k++) {
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		unsigned dir = (rng >> 20) & 1, port = (unsigned)(rng >> 33) % 65536;
		char g = (rng >> 50) & 1 ? 'T' : 'U';
		if (k % 4 == 0)
			port = 1 + (unsigned)(rng >> 40) % 1023;
		if (k % 7 == 0)
			port = 5000 + (unsigned)(rng >> 40) % 101;
		char a[64];
		unsigned pick = (unsigned)(rng >> 24) % 4;
		if (pick == 0)
			pw_scale_prefix((unsigned)(rng >> 8) % NPREFIX, a, sizeof(a));
		else if (pick == 1)
			snprintf(a, sizeof(a), "192.0.%u.%u", port % 256, (unsigned)(rng >> 12) & 0xff);
		else if (pick == 2)
			snprintf(a, sizeof(a), "10.0.%u.%u", (unsigned)(rng >> 12) & 0xff, (unsigned)(rng >> 28) & 0xff);
		else
			snprintf(a, sizeof(a), "2001:db8:0:%x::1", (unsigned)(rng >> 12) & 0xffff);
		char *slash = strchr(a, '/');
		if (slash)
			*slash = '\0';	/* a prefix's network address is an address inside it */
		uint8_t fam, addr[16], oa;
		struct pw_verdict v;
		if (!pw_addr_parse(a, &fam, addr)) {
			FAILF("bad probe %s", a);
			continue;
		}
		uint32_t orule = oracle_decide(&pol, dir, g, port, fam, addr, &oa);
		pw_decide_packet(&c, oracle_slot(dir, g, port), fam, addr, &v);
		if (v.action != oa || v.rule != orule) {
			if (mism++ < 5)
				FAILF("%s %c %u from %s: compiled %u/%u oracle %u/%u", dir ? "out" : "in", g, port,
				      a, v.action, v.rule, oa, orule);
		}
	}
	printf("    %u sampled decisions, %u mismatches\n", n, mism);

	/* what check compiles: no entries stored, the same counts, hash and
	 * decisions (each outline lookup walks its class) */
	struct pw_compiled o;
	double t4 = now_ms();
	REQUIRE(pw_compile_outline(&pol, &o, &d) == 0);
	printf("    outline %.0f ms\n", now_ms() - t4);
	CHECK(o.peers == NULL);
	CHECK_EQ_INT(o.npeers, c.npeers);
	CHECK(memcmp(o.hash, c.hash, sizeof(o.hash)) == 0);
	for (uint32_t k = 0; k < o.nclasses && k < c.nclasses; k++)
		if (o.classes[k].entries != c.classes[k].entries)
			FAILF("class %u: outline %zu entries, compiled %zu", k + 1, o.classes[k].entries,
			      c.classes[k].entries);
	for (unsigned k = 0; k < 40; k++) {
		char a[64];
		uint8_t fam, addr[16];
		struct pw_verdict v, w;
		pw_scale_prefix(k * 7919 % NPREFIX, a, sizeof(a));
		if (strchr(a, '/'))
			*strchr(a, '/') = '\0';
		REQUIRE(pw_addr_parse(a, &fam, addr));
		uint32_t slot = oracle_slot(k & 1, 'T', 1 + k * 31 % 1023);
		pw_decide_packet(&c, slot, fam, addr, &v);
		pw_decide_packet(&o, slot, fam, addr, &w);
		if (v.action != w.action || v.rule != w.rule)
			FAILF("from %s: compiled %u/%u, outline %u/%u", a, v.action, v.rule, w.action, w.rule);
	}
	pw_compiled_free(&o);
	unsigned roots, fm = flat_mismatches(&c, n * 50, &roots);
	printf("    flat IPv4: %u chunks (%u KiB), %u classes with a root, %u mismatches against the trie\n",
	       c.nflat4, c.nflat4, roots, fm);
	CHECK_EQ_INT(fm, 0);
	CHECK(roots > 0);
	pw_compiled_free(&c);
	pw_policy_free(&pol);
	pw_diag_free(&d);
}

/* 65,536 deny /32s fill 10.0.0.0/16 exactly: the allow over it never takes
 * effect; one address fewer and it does */
TEST(scale_65536_deny_hosts_cover_a_16)
{
	size_t cap = 2u << 20, o = 0;
	char *t = malloc(cap);
	struct pw_policy pol;
	struct pw_compiled c;
	struct pw_diag d = { 0 };

	REQUIRE(t);
	o += (size_t)snprintf(t + o, cap - o, "set hosts = ");
	/* from the top down, so that the input is not already sorted */
	for (int i = 65535; i >= 0; i--)
		o += (size_t)snprintf(t + o, cap - o, "10.0.%d.%d%s", i >> 8, i & 0xff,
				      i ? (i % 8 == 0 ? ",\n  " : ", ") : "\n");
	o += (size_t)snprintf(t + o, cap - o, "deny in tcp port 443 from @hosts\n"
			      "allow in tcp port 443 from 10.0.0.0/16\n"
			      "allow in tcp port 443 from 10.0.0.0/15\n");
	unsetenv("SSH_CONNECTION");
	int prc = pw_policy_parse_text("hosts.policy", t, o, &pol, &d);
	free(t);
	if (prc) {
		FAILF("parse: %s", d.error);
		return;
	}
	if (pw_compile(&pol, &c, &d)) {
		FAILF("compile: %s", d.error);
		pw_policy_free(&pol);
		return;
	}
	double t0 = now_ms();
	int arc = pw_analyze(&pol, &c, &d);
	double t1 = now_ms();
	CHECK_EQ_INT(arc, 0);
	printf("    analyze %.0f ms (65,536 deny /32s against an allow /16)\n", t1 - t0);
	REQUIRE(d.nwarn == 1);
	CHECK_EQ_INT(d.warn[0].line, 8194);
	CHECK_EQ_STR(d.warn[0].msg, "this allow rule never takes effect: deny rules drop everything "
		     "it matches (deny wins; see hosts.policy:8193)");
	pw_compiled_free(&c);
	pw_policy_free(&pol);
	pw_diag_free(&d);
}

PW_TEST_MAIN()

/* One set of 60,000 prefixes used by 100 rules, each on its own port
 * (issue 14): the set is in the trie once, and each port answers its own
 * rule. Before shapes it needed 6,000,000 entries and was refused. */
TEST(scale_one_set_100_rules)
{
	size_t len;
	char *text = pw_shared_set_policy(60000, 100, &len);
	struct pw_policy pol;
	struct pw_compiled c;
	struct pw_diag d = { 0 };

	REQUIRE(text);
	double t0 = now_ms();
	int prc = pw_policy_parse_text("shared.policy", text, len, &pol, &d);
	free(text);
	if (prc) {
		FAILF("parse: %s", d.error);
		return;
	}
	int crc = pw_compile(&pol, &c, &d);
	double t1 = now_ms();
	if (crc) {
		FAILF("compile: %s", d.error);
		pw_policy_free(&pol);
		return;
	}
	printf("    parse and compile %.0f ms: %u classes, %u shape, %zu trie entries, %u class words\n",
	       t1 - t0, c.nclasses, c.nshapes, c.npeers, c.nclass_words);
	CHECK_EQ_INT(c.nclasses, 100);
	CHECK_EQ_INT(c.nshapes, 1);
	CHECK_EQ_INT(c.npeers, 60000);
	CHECK_EQ_INT(c.nclass_words, 1 + 100 + 100 * 3);
	unsigned mism = 0;
	for (unsigned r = 0; r < 100; r++) {
		char a[64];
		pw_scale_prefix(r * 599, a, sizeof(a));
		char *slash = strchr(a, '/');
		if (slash)
			*slash = '\0';
		uint8_t fam, addr[16], oa;
		struct pw_verdict v;
		REQUIRE(pw_addr_parse(a, &fam, addr));
		for (unsigned port = 10000 + r; port <= 10002 + r; port++) {
			uint32_t orule = oracle_decide(&pol, PW_DIR_IN, 'U', port, fam, addr, &oa);
			pw_decide_packet(&c, oracle_slot(PW_DIR_IN, 'U', port), fam, addr, &v);
			mism += v.action != oa || v.rule != orule;
		}
		pw_decide_packet(&c, oracle_slot(PW_DIR_IN, 'U', 10001 + r), fam, addr, &v);
		CHECK_EQ_INT(v.rule, r + 1);
	}
	CHECK_EQ_INT(mism, 0);
	pw_compiled_free(&c);
	pw_policy_free(&pol);
	pw_diag_free(&d);
}
