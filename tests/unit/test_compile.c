/* test_compile.c - the compiler: deny wins under longest-prefix matching,
 * nested and overlapping prefixes (IPv4 and IPv6), port edges, class
 * sharing, the content hash, and random policies against the oracle. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/analyze.h"
#include "lib/sha256.h"
#include "policy/compile.h"
#include "policy/flat4.h"
#include "harness.h"
#include "oracle.h"

#define BUILT_FILE "c.policy"
#define BUILT_SAY 1
#include "built.h"

static void addr_of(const char *s, uint8_t *fam, uint8_t a[16])
{
	if (!pw_addr_parse(s, fam, a)) {
		fprintf(stderr, "bad test address %s\n", s);
		exit(2);
	}
}

/* decide (dir, group, item, peer) from the compiled tables */
static uint32_t decide(unsigned dir, char group, unsigned item, const char *peer, uint8_t *action)
{
	uint8_t fam, a[16];
	struct pw_verdict v;

	addr_of(peer, &fam, a);
	pw_decide_packet(&comp, oracle_slot(dir, group, item), fam, a, &v);
	*action = v.action;
	return v.rule;
}

#define EXPECT(dir, group, item, peer, act, rule)                                         \
	do {                                                                              \
		uint8_t _act;                                                             \
		uint32_t _rule = decide(dir, group, item, peer, &_act);                   \
		if (_act != (act) || _rule != (uint32_t)(rule))                           \
			FAILF("%s %c %u from %s: got %s by rule %u, expected %s by rule %u", \
			      dir ? "out" : "in", group, (unsigned)(item), peer,          \
			      _act == PW_PASS ? "PASS" : "DROP", _rule,                   \
			      (act) == PW_PASS ? "PASS" : "DROP", (unsigned)(rule));      \
	} while (0)

#define IN PW_DIR_IN
#define OUT PW_DIR_OUT

TEST(defaults_only)
{
	REQUIRE(build("") == 0);
	EXPECT(IN, 'T', 443, "192.0.2.1", PW_DROP, 0);
	EXPECT(OUT, 'T', 443, "192.0.2.1", PW_PASS, 0);
	EXPECT(IN, 'P', 47, "2001:db8::1", PW_DROP, 0);
	EXPECT(OUT, '6', 128, "2001:db8::1", PW_PASS, 0);
	CHECK_EQ_INT(comp.npeers, 0);
	CHECK_EQ_INT(comp.nclasses, 0);
	REQUIRE(build("default in allow\ndefault out drop\n") == 0);
	EXPECT(IN, 'U', 9, "192.0.2.1", PW_PASS, 0);
	EXPECT(OUT, 'U', 9, "192.0.2.1", PW_DROP, 0);
}

TEST(port_edges)
{
	REQUIRE(build("allow in tcp port 1, 65535\nallow in udp port 1-1023\n") == 0);
	EXPECT(IN, 'T', 0, "192.0.2.1", PW_DROP, 0);	/* port 0 is in no list */
	EXPECT(IN, 'T', 1, "192.0.2.1", PW_PASS, 1);
	EXPECT(IN, 'T', 2, "192.0.2.1", PW_DROP, 0);
	EXPECT(IN, 'T', 65534, "192.0.2.1", PW_DROP, 0);
	EXPECT(IN, 'T', 65535, "192.0.2.1", PW_PASS, 1);
	EXPECT(IN, 'U', 1023, "192.0.2.1", PW_PASS, 2);
	EXPECT(IN, 'U', 1024, "192.0.2.1", PW_DROP, 0);
	EXPECT(OUT, 'T', 1, "192.0.2.1", PW_PASS, 0);	/* an in rule says nothing of out */
	/* a rule without "port" covers every port, 0 and 65535 included */
	REQUIRE(build("allow in udp\n") == 0);
	EXPECT(IN, 'U', 0, "192.0.2.1", PW_PASS, 1);
	EXPECT(IN, 'U', 65535, "192.0.2.1", PW_PASS, 1);
	EXPECT(IN, 'T', 53, "192.0.2.1", PW_DROP, 0);
}

TEST(deny_wins_whatever_the_order)
{
	REQUIRE(build("allow in tcp port 1-1000\ndeny in tcp port 22\n") == 0);
	EXPECT(IN, 'T', 22, "192.0.2.1", PW_DROP, 2);
	EXPECT(IN, 'T', 23, "192.0.2.1", PW_PASS, 1);
	REQUIRE(build("deny in tcp port 22\nallow in tcp port 1-1000\n") == 0);
	EXPECT(IN, 'T', 22, "192.0.2.1", PW_DROP, 1);
}

TEST(deny_wins_over_longer_prefix)
{
	/* an allow /32 inside a deny /24 is dropped at compile time */
	REQUIRE(build("allow in tcp port 443 from 203.0.113.7\n"
		      "deny  in tcp port 443 from 203.0.113.0/24\n") == 0);
	EXPECT(IN, 'T', 443, "203.0.113.7", PW_DROP, 2);
	EXPECT(IN, 'T', 443, "203.0.113.8", PW_DROP, 2);
	EXPECT(IN, 'T', 443, "198.51.100.1", PW_DROP, 0);
	/* the deny class holds the /24; the allow class the /32, consulted only
	 * when the deny class has no answer */
	const struct pw_slot *s = &comp.slots[pw_slot_l4(IN, PW_L4_TCP, 443)];
	CHECK(s->deny_class != 0 && s->allow_class != 0 && s->deny_class != s->allow_class);
	REQUIRE(comp.npeers == 2);
	const struct pw_class *dc = &comp.classes[s->deny_class - 1], *ac = &comp.classes[s->allow_class - 1];
	CHECK_EQ_INT(comp.peers[0].key.scope, pw_peer_scope(dc->shape, PW_FAM_V4));
	CHECK_EQ_INT(comp.peers[0].key.prefixlen, 32 + 24);
	CHECK_EQ_INT(comp.peers[0].val.rule, 1);	/* a rank: the class's first rule */
	CHECK_EQ_INT(pw_class_rule(&comp, s->deny_class, 1), 2);
	CHECK_EQ_INT(comp.peers[1].key.scope, pw_peer_scope(ac->shape, PW_FAM_V4));
	CHECK_EQ_INT(comp.peers[1].key.prefixlen, 32 + 32);
	CHECK_EQ_INT(comp.peers[1].val.rule, 1);
	CHECK_EQ_INT(pw_class_rule(&comp, s->allow_class, 1), 1);
	/* the half's pw_classes words: each class's run (shape, then rules) */
	REQUIRE(comp.nclass_words == 1 + 2 + 3 + 3);
	uint32_t o = comp.class_words[s->deny_class];
	CHECK_EQ_INT(comp.class_words[o], dc->shape);
	CHECK_EQ_INT(comp.class_words[o + 2], 2);
	o = comp.class_words[s->allow_class];
	CHECK_EQ_INT(comp.class_words[o], ac->shape);
	CHECK_EQ_INT(comp.class_words[o + 2], 1);
	/* IPv4 roots in the flat chunks: the /24 fills a chunk of the third
	 * byte, the /32 one of the fourth */
	const uint8_t in24[4] = { 203, 0, 113, 9 }, out24[4] = { 203, 0, 114, 9 }, host[4] = { 203, 0, 113, 7 };
	uint32_t rd = comp.flat4_roots[dc->shape], ra = comp.flat4_roots[ac->shape];
	CHECK_EQ_INT(comp.class_words[comp.class_words[s->deny_class] + 1], 0);	/* the loader writes it */
	CHECK(rd & PW_FLAT_NEXT);
	CHECK(ra & PW_FLAT_NEXT);
	CHECK_EQ_INT(comp.nflat4, 3 + 4);
	CHECK_EQ_INT(pw_flat4_lookup(comp.flat4, comp.nflat4, rd, in24), 1);
	CHECK_EQ_INT(pw_flat4_lookup(comp.flat4, comp.nflat4, rd, out24), 0);
	CHECK_EQ_INT(pw_flat4_lookup(comp.flat4, comp.nflat4, ra, host), 1);
	CHECK_EQ_INT(pw_flat4_lookup(comp.flat4, comp.nflat4, ra, in24), 0);
}

TEST(set_stored_once_for_many_rules)
{
	/* 100 rules on 100 ports with one set: 100 classes of one shape, the
	 * set's entries once; each port still answers its own rule */
	char text[8192];
	size_t o = (size_t)snprintf(text, sizeof(text), "set big = 203.0.113.0/25, 198.51.100.7, 2001:db8:bad::/48\n");
	for (int p = 1; p <= 100; p++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "allow in udp port %d from @big\n", 1000 + p);
	o += (size_t)snprintf(text + o, sizeof(text) - o, "deny in udp port 1001-1100 from 198.51.100.0/24\n");
	REQUIRE(build(text) == 0);
	CHECK_EQ_INT(comp.nclasses, 101);
	CHECK_EQ_INT(comp.nshapes, 2);
	CHECK_EQ_INT(comp.npeers, 3 + 1);
	EXPECT(IN, 'U', 1001, "203.0.113.9", PW_PASS, 1);
	EXPECT(IN, 'U', 1042, "203.0.113.9", PW_PASS, 42);
	EXPECT(IN, 'U', 1100, "2001:db8:bad::1", PW_PASS, 100);
	EXPECT(IN, 'U', 1042, "203.0.113.200", PW_DROP, 0);
	EXPECT(IN, 'U', 1042, "198.51.100.7", PW_DROP, 101);	/* deny wins */
	EXPECT(IN, 'U', 1101, "203.0.113.9", PW_DROP, 0);
}

TEST(nested_ranges_many_class_words)
{
	/* 100 restricted rules on nested port ranges: port p is in rules
	 * 1..101-p, so 100 classes of 1..100 rules; their runs need more
	 * words than four a rule, which the loader sizes from the policy
	 * (a run: shape, IPv4 root, rules) */
	char text[8192];
	size_t o = 0;
	for (int i = 1; i <= 100; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "allow in tcp port 1-%d from 192.0.2.%d\n", 101 - i, i);
	REQUIRE(build(text) == 0);
	CHECK_EQ_INT(comp.nclasses, 100);
	CHECK_EQ_INT(comp.nclass_words, 1 + 100 + 100 * 2 + 5050);
	EXPECT(IN, 'T', 1, "192.0.2.100", PW_PASS, 100);
	EXPECT(IN, 'T', 50, "192.0.2.51", PW_PASS, 51);
	EXPECT(IN, 'T', 50, "192.0.2.52", PW_DROP, 0);
}

TEST(shapes_keep_rule_order)
{
	/* two ports with the same sets in the same order share a shape; a
	 * third with them the other way round has its own */
	REQUIRE(build("set a = 192.0.2.0/24\nset b = 192.0.2.7, 198.51.100.0/24\n"
		      "allow in tcp port 1 from @a\nallow in tcp port 1 from @b\n"
		      "allow in tcp port 2 from @a\nallow in tcp port 2 from @b\n"
		      "allow in tcp port 3 from @b\nallow in tcp port 3 from @a\n") == 0);
	CHECK_EQ_INT(comp.nclasses, 3);
	CHECK_EQ_INT(comp.nshapes, 2);
	EXPECT(IN, 'T', 1, "192.0.2.7", PW_PASS, 1);
	EXPECT(IN, 'T', 1, "198.51.100.1", PW_PASS, 2);
	EXPECT(IN, 'T', 2, "192.0.2.7", PW_PASS, 3);
	EXPECT(IN, 'T', 2, "198.51.100.1", PW_PASS, 4);
	EXPECT(IN, 'T', 2, "192.0.2.8", PW_PASS, 3);
	EXPECT(IN, 'T', 3, "192.0.2.7", PW_PASS, 5);
	EXPECT(IN, 'T', 3, "192.0.2.8", PW_PASS, 6);
	EXPECT(IN, 'T', 3, "198.51.100.1", PW_PASS, 5);
}

TEST(deny_inside_allow)
{
	REQUIRE(build("allow in tcp port 22 from 192.0.2.0/24, 2001:db8::/32\n"
		      "deny  in tcp port 22 from 192.0.2.128/25, 2001:db8:bad::/48\n") == 0);
	EXPECT(IN, 'T', 22, "192.0.2.1", PW_PASS, 1);
	EXPECT(IN, 'T', 22, "192.0.2.200", PW_DROP, 2);
	EXPECT(IN, 'T', 22, "192.0.3.1", PW_DROP, 0);
	EXPECT(IN, 'T', 22, "2001:db8:1::1", PW_PASS, 1);
	EXPECT(IN, 'T', 22, "2001:db8:bad::1", PW_DROP, 2);
	EXPECT(IN, 'T', 22, "2001:db9::1", PW_DROP, 0);
	CHECK_EQ_INT(comp.npeers, 4);
	CHECK_EQ_INT(comp.nclasses, 2);
}

TEST(nested_entries_pruned)
{
	/* /16 inside /8 of the same rule answers the same: one entry; a /24 of
	 * an earlier rule inside them needs its own */
	REQUIRE(build("allow in tcp port 22 from 192.0.2.0/24\n"
		      "allow in tcp port 22 from 192.0.0.0/8, 192.0.0.0/16, 192.0.2.0/25\n") == 0);
	CHECK_EQ_INT(comp.npeers, 2);
	EXPECT(IN, 'T', 22, "192.0.2.1", PW_PASS, 1);
	EXPECT(IN, 'T', 22, "192.0.3.1", PW_PASS, 2);
	EXPECT(IN, 'T', 22, "193.0.0.1", PW_DROP, 0);
}

TEST(big_deny_set_shared_not_multiplied)
{
	/* a deny set over many ports, each port with its own allow list: the
	 * deny entries are stored once, not once per port */
	char text[4096];
	size_t o = (size_t)snprintf(text, sizeof(text), "set block = 203.0.113.0/25, 203.0.113.128/26, 2001:db8:bad::/48\n"
				   "deny in tcp port 1-100 from @block\n");
	for (int p = 1; p <= 100; p++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "allow in tcp port %d from 192.0.2.%d\n", p, p);
	REQUIRE(build(text) == 0);
	CHECK_EQ_INT(comp.npeers, 3 + 100);
	CHECK_EQ_INT(comp.nclasses, 1 + 100);
	EXPECT(IN, 'T', 7, "192.0.2.7", PW_PASS, 8);
	EXPECT(IN, 'T', 7, "192.0.2.8", PW_DROP, 0);
	EXPECT(IN, 'T', 7, "203.0.113.130", PW_DROP, 1);
}

TEST(families_do_not_mix)
{
	/* an IPv4 set says nothing about IPv6 peers, mapped addresses included */
	REQUIRE(build("allow in tcp port 22 from 192.0.2.0/24\n") == 0);
	EXPECT(IN, 'T', 22, "192.0.2.9", PW_PASS, 1);
	EXPECT(IN, 'T', 22, "::ffff:192.0.2.9", PW_DROP, 0);
	EXPECT(IN, 'T', 22, "2001:db8::1", PW_DROP, 0);
	REQUIRE(build("allow in tcp port 22 from 0.0.0.0/0\n") == 0);
	EXPECT(IN, 'T', 22, "203.0.113.1", PW_PASS, 1);
	EXPECT(IN, 'T', 22, "2001:db8::1", PW_DROP, 0);
}

TEST(first_rule_of_the_winning_action_decides)
{
	REQUIRE(build("allow in tcp port 80\n"
		      "allow in tcp port 80 from 192.0.2.0/24\n"
		      "allow in tcp port 1-100\n"
		      "deny  in tcp port 80 from 198.51.100.0/24\n"
		      "deny  in tcp port 70-90\n"
		      "deny  in tcp port 90 from 203.0.113.0/24\n") == 0);
	/* port 80: unrestricted allow 1 comes first: no class needed for allows */
	EXPECT(IN, 'T', 80, "192.0.2.1", PW_DROP, 5);
	/* port 50: only rule 3 */
	EXPECT(IN, 'T', 50, "192.0.2.1", PW_PASS, 3);
	/* port 90: deny 5 (unrestricted) beats deny 6 (later) */
	EXPECT(IN, 'T', 90, "203.0.113.1", PW_DROP, 5);
	REQUIRE(build("deny  in tcp port 80 from 198.51.100.0/24\n"
		      "allow in tcp port 80 from 192.0.2.0/24\n"
		      "allow in tcp port 80\n"
		      "deny  in tcp port 80\n") == 0);
	/* the restricted deny 1 is first: it decides for its peers */
	EXPECT(IN, 'T', 80, "198.51.100.5", PW_DROP, 1);
	EXPECT(IN, 'T', 80, "192.0.2.5", PW_DROP, 4);
	REQUIRE(build("allow in tcp port 80 from 192.0.2.0/24\n"
		      "allow in tcp port 80\n") == 0);
	EXPECT(IN, 'T', 80, "192.0.2.5", PW_PASS, 1);
	EXPECT(IN, 'T', 80, "203.0.113.5", PW_PASS, 2);
}

TEST(slot_needs_no_trie_when_peers_cannot_matter)
{
	REQUIRE(build("deny in tcp port 80\nallow in tcp port 80 from 192.0.2.0/24\n"
		      "allow in tcp port 81\nallow in tcp port 81 from 192.0.2.0/24\n") == 0);
	CHECK_EQ_INT(comp.slots[pw_slot_l4(IN, PW_L4_TCP, 80)].allow_class, 0);
	CHECK_EQ_INT(comp.slots[pw_slot_l4(IN, PW_L4_TCP, 80)].deny_class, 0);
	CHECK_EQ_INT(comp.slots[pw_slot_l4(IN, PW_L4_TCP, 81)].allow_class, 0);
	CHECK_EQ_INT(comp.npeers, 0);
}

TEST(classes_shared_by_identical_rule_sets)
{
	REQUIRE(build("set mr = 198.51.100.10\n"
		      "allow in tcp port 38001, 38002 from @mr\n"
		      "allow out tcp port 443 to @mr\n"
		      "allow in udp port 5000 from 192.0.2.0/24\n") == 0);
	uint32_t a = comp.slots[pw_slot_l4(IN, PW_L4_TCP, 38001)].allow_class;
	uint32_t b = comp.slots[pw_slot_l4(IN, PW_L4_TCP, 38002)].allow_class;
	uint32_t c = comp.slots[pw_slot_l4(OUT, PW_L4_TCP, 443)].allow_class;
	uint32_t d = comp.slots[pw_slot_l4(IN, PW_L4_UDP, 5000)].allow_class;
	CHECK(a != 0);
	CHECK_EQ_INT(a, b);
	CHECK(c != 0 && c != a);	/* another rule: another class */
	CHECK(d != 0 && d != a && d != c);
	CHECK_EQ_INT(comp.nclasses, 3);
	/* classes a and c have one shape (@mr): its entry is stored once */
	CHECK_EQ_INT(comp.nshapes, 2);
	CHECK_EQ_INT(comp.npeers, 2);
	CHECK_EQ_INT(comp.classes[a - 1].shape, comp.classes[c - 1].shape);
	CHECK_EQ_INT(comp.slots[pw_slot_l4(IN, PW_L4_TCP, 38003)].allow_class, 0);
}

TEST(icmp_and_other_protocols)
{
	REQUIRE(build("allow in icmp type echo-request\n"
		      "allow in icmpv6 type echo-request from 2001:db8::/32\n"
		      "allow both proto vrrp peer 192.0.2.0/29\n"
		      "deny in proto gre\n") == 0);
	EXPECT(IN, 'I', 8, "198.51.100.1", PW_PASS, 1);
	EXPECT(IN, 'I', 0, "198.51.100.1", PW_DROP, 0);
	EXPECT(IN, '6', 128, "2001:db8::5", PW_PASS, 2);
	EXPECT(IN, '6', 128, "2001:db9::5", PW_DROP, 0);
	EXPECT(IN, 'P', 112, "192.0.2.3", PW_PASS, 3);
	EXPECT(OUT, 'P', 112, "192.0.2.3", PW_PASS, 3);
	EXPECT(IN, 'P', 112, "192.0.2.9", PW_DROP, 0);
	EXPECT(IN, 'P', 47, "192.0.2.3", PW_DROP, 4);
	EXPECT(IN, 'P', 50, "192.0.2.3", PW_DROP, 0);
}

TEST(both_directions_and_tcp_udp)
{
	REQUIRE(build("allow both tcp,udp port 5060 peer 203.0.113.0/24\n") == 0);
	EXPECT(IN, 'T', 5060, "203.0.113.4", PW_PASS, 1);
	EXPECT(IN, 'U', 5060, "203.0.113.4", PW_PASS, 1);
	EXPECT(OUT, 'U', 5060, "203.0.113.4", PW_PASS, 1);
	EXPECT(IN, 'U', 5060, "192.0.2.4", PW_DROP, 0);
	CHECK_EQ_INT(comp.nclasses, 1);
}

TEST(hash_stable_and_content_only)
{
	uint8_t h1[32], h2[32];

	REQUIRE(build("policy \"a\"\nallow in tcp port 22 comment \"x\"\n") == 0);
	memcpy(h1, comp.hash, 32);
	REQUIRE(build("policy \"b\"\n\n# moved\nallow in tcp port 22   comment \"y\"\n") == 0);
	CHECK(memcmp(h1, comp.hash, 32) == 0);	/* same enforcement, same hash */
	REQUIRE(build("allow in tcp port 23\n") == 0);
	memcpy(h2, comp.hash, 32);
	CHECK(memcmp(h1, h2, 32) != 0);
	REQUIRE(build("allow in tcp port 22\nmode monitor\n") == 0);
	CHECK(memcmp(h1, comp.hash, 32) != 0);
}

TEST(sha256_known_answer)
{
	struct pw_sha256 s;
	uint8_t out[32];
	char hex[65];

	pw_sha256_init(&s);
	pw_sha256_update(&s, "abc", 3);
	pw_sha256_final(&s, out);
	pw_hex(out, 32, hex);
	CHECK_EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	pw_sha256_init(&s);
	for (int i = 0; i < 1000; i++)
		pw_sha256_update(&s, "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", 112);
	pw_sha256_final(&s, out);
	pw_hex(out, 32, hex);
	/* 112,000 bytes: computed independently with sha256sum */
	CHECK_EQ_STR(hex, "7170bac6d0c5459ebac81cf8d98ae4703e83a48b5371c61dad66e8dcb4fcf0db");
}

/* ---- warnings ------------------------------------------------------------ */

static size_t analyze(void)
{
	pw_diag_free(&diag);
	if (pw_analyze(&pol, &comp, &diag))
		return (size_t)-1;
	return diag.nwarn;
}

TEST(warn_shadowed_by_deny)
{
	REQUIRE(build("deny in tcp port 1-1023 from 203.0.113.0/24\n"
		      "allow in tcp port 443 from 203.0.113.7\n"		/* shadowed */
		      "allow in tcp port 443\n"				/* not */
		      "deny in tcp port 8000 from 192.0.2.0/25\n"
		      "deny in tcp port 8000 from 192.0.2.128/25\n"
		      "allow in tcp port 8000 from 192.0.2.0/24\n"		/* shadowed by two */
		      "allow in tcp port 8000-8001 from 192.0.2.0/24\n"	/* not: 8001 */
		      "deny in udp\nallow in udp port 53\n") == 0);	/* shadowed */
	unsetenv("SSH_CONNECTION");
	REQUIRE(analyze() == 3);
	CHECK_EQ_INT(diag.warn[0].line, 2);
	CHECK_EQ_STR(diag.warn[0].msg, "this allow rule never takes effect: deny rules drop everything "
		     "it matches (deny wins; see c.policy:1)");
	CHECK_EQ_INT(diag.warn[1].line, 6);
	CHECK_EQ_INT(diag.warn[2].line, 9);
}

/* deny rules together cover an allow rule's peers exactly when one merged
 * interval of their addresses contains each peer prefix */
TEST(warn_shadowed_by_merged_intervals)
{
	static const char *const shadowed = "this allow rule never takes effect: deny rules drop "
		"everything it matches (deny wins; see c.policy:1)";

	unsetenv("SSH_CONNECTION");
	/* two halves of each family cover an unrestricted allow */
	REQUIRE(build("deny in tcp port 1 from 0.0.0.0/1, 128.0.0.0/1, ::/1\n"
		      "deny in tcp port 1 from 8000::/1\n"
		      "allow in tcp port 1\n") == 0);
	REQUIRE(analyze() == 1);
	CHECK_EQ_INT(diag.warn[0].line, 3);
	CHECK_EQ_STR(diag.warn[0].msg, shadowed);
	/* one family missing: the allow still passes IPv6 */
	REQUIRE(build("deny in tcp port 1 from 0.0.0.0/1, 128.0.0.0/1\nallow in tcp port 1\n") == 0);
	CHECK_EQ_INT(analyze(), 0);
	/* adjacent prefixes of different lengths merge; the top of each family */
	REQUIRE(build("deny in tcp port 2 from 192.0.2.0/25, 192.0.2.128/26, 192.0.2.192/27,\n"
		      "  192.0.2.224/28, 192.0.2.240/29, 192.0.2.248/30, 192.0.2.252/31, 192.0.2.254,\n"
		      "  192.0.2.255, 255.255.255.255, ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\n"
		      "allow in tcp port 2 from 192.0.2.0/24, 255.255.255.255, ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\n"
		      "allow in tcp port 2 from 192.0.2.0/24, 255.255.255.254\n") == 0);
	REQUIRE(analyze() == 1);
	CHECK_EQ_INT(diag.warn[0].line, 4);
	/* a gap at the end leaves the allow in effect where it reaches the gap */
	REQUIRE(build("deny in tcp port 3 from 2001:db8::/33, 2001:db8:8000::/34, 2001:db8:c000::/35,\n"
		      "  2001:db8:e000::/36\n"
		      "allow in tcp port 3 from 2001:db8::/34\n"
		      "allow in tcp port 3 from 2001:db8::/32\n"
		      "allow in tcp port 3 from 2001:db8:f000::1\n") == 0);
	REQUIRE(analyze() == 1);
	CHECK_EQ_INT(diag.warn[0].line, 3);
	/* IPv6 intervals on /64 edges and others, side by side: held exactly */
	REQUIRE(build("deny in tcp port 4 from 2001:db8:0:1::/64, 2001:db8:0:2::/63, 2001:db8:0:4::/64,\n"
		      "  2001:db8:0:5::/65, 2001:db8:0:9::/64, 2001:db8:0:a::1\n"
		      "allow in tcp port 4 from 2001:db8:0:2::/63, 2001:db8:0:3::77\n"
		      "allow in tcp port 4 from 2001:db8:0:4::/64, 2001:db8:0:5::1\n"
		      "allow in tcp port 4 from 2001:db8:0:5:8000::1\n"
		      "allow in tcp port 4 from 2001:db8:0:9::/64, 2001:db8:0:a::1\n"
		      "allow in tcp port 4 from 2001:db8:0:8::/63\n"
		      "allow in tcp port 4 from 2001:db8:0:a::/127\n") == 0);
	REQUIRE(analyze() == 3);
	CHECK_EQ_INT(diag.warn[0].line, 3);
	CHECK_EQ_INT(diag.warn[1].line, 4);
	CHECK_EQ_INT(diag.warn[2].line, 6);
	/* shadowed on some ports, not on others: no warning; on every port: one */
	REQUIRE(build("deny in tcp port 10-29 from 198.51.100.0/24\n"
		      "deny in tcp port 30-39 from 198.51.100.0/25\n"
		      "deny in tcp port 30-39 from 198.51.100.128/25\n"
		      "allow in tcp port 15-35 from 198.51.100.7\n"
		      "allow in tcp port 15-45 from 198.51.100.7\n") == 0);
	REQUIRE(analyze() == 1);
	CHECK_EQ_INT(diag.warn[0].line, 4);
	CHECK_EQ_STR(diag.warn[0].msg, shadowed);
}

/* ICMPv6 types 133-136 always pass: an allow for them is not shadowed */
TEST(warn_shadowed_skips_nd_types)
{
	unsetenv("SSH_CONNECTION");
	REQUIRE(build("deny in icmpv6\nallow in icmpv6 type neighbor-solicitation\n"
		      "allow in icmpv6 type router-solicitation, neighbor-advertisement\n") == 0);
	REQUIRE(analyze() == 1);
	CHECK_EQ_INT(diag.warn[0].line, 1);
	CHECK_EQ_STR(diag.warn[0].msg, "ICMPv6 router and neighbor discovery (types 133-136) always pass "
		     "so the host keeps its link; this deny does not block them");
	/* echo-request does not always pass: still shadowed */
	REQUIRE(build("deny in icmpv6\nallow in icmpv6 type echo-request, neighbor-solicitation\n") == 0);
	REQUIRE(analyze() == 2);
	CHECK_EQ_INT(diag.warn[0].line, 2);
	CHECK_EQ_STR(diag.warn[0].msg, "this allow rule never takes effect: deny rules drop "
		     "everything it matches (deny wins; see c.policy:1)");
}

TEST(warn_duplicates)
{
	REQUIRE(build("allow in tcp port 80,443 comment \"a\"\n"
		      "allow in tcp port 443, 80\n"
		      "allow out tcp port 80,443\n"
		      "allow in tcp port 80,443 from 192.0.2.1\n"
		      "allow in tcp port 80-80, 443 comment \"again\"\n"
		      "default out drop\n") == 0);	/* no allow-out warning */
	unsetenv("SSH_CONNECTION");
	REQUIRE(analyze() == 2);
	CHECK_EQ_INT(diag.warn[0].line, 2);
	CHECK_EQ_STR(diag.warn[0].msg, "this rule duplicates the rule at c.policy:1; remove one");
	CHECK_EQ_INT(diag.warn[1].line, 5);
	CHECK_EQ_STR(diag.warn[1].msg, "this rule duplicates the rule at c.policy:1; remove one");
}

TEST(warn_nd_deny)
{
	REQUIRE(build("deny in icmpv6 type neighbor-solicitation\ndeny in icmpv6\n"
		      "deny in icmpv6 type echo-request\ndeny in icmp\n") == 0);
	unsetenv("SSH_CONNECTION");
	REQUIRE(analyze() == 2);
	CHECK_EQ_INT(diag.warn[0].line, 1);
	CHECK_EQ_STR(diag.warn[0].msg, "ICMPv6 router and neighbor discovery (types 133-136) always pass "
		     "so the host keeps its link; this deny does not block them");
	CHECK_EQ_INT(diag.warn[1].line, 2);
}

TEST(warn_ssh_lockout)
{
	REQUIRE(build("allow in tcp port 443\n") == 0);
	setenv("SSH_CONNECTION", "198.51.100.7 51000 192.0.2.2 22", 1);
	REQUIRE(analyze() == 1);
	CHECK_EQ_INT(diag.warn[0].line, 0);
	CHECK_EQ_STR(diag.warn[0].msg, "lockout: no rule lets your SSH session in (tcp port 22 from "
		     "198.51.100.7) and default in is drop; add \"allow in tcp port 22 from 198.51.100.7\"");
	REQUIRE(build("allow in tcp port 22\ndeny in tcp port 22 from 198.51.100.0/24\n") == 0);
	REQUIRE(analyze() == 1);
	CHECK_EQ_STR(diag.warn[0].msg, "lockout: your SSH session (tcp port 22 from 198.51.100.7) would "
		     "be dropped by the deny rule at c.policy:2; narrow that rule so that it leaves 198.51.100.7 "
		     "out (a deny wins over every allow)");
	REQUIRE(build("allow in tcp port 2222 from 2001:db8::/32\n") == 0);
	setenv("SSH_CONNECTION", "2001:db8::7 51000 2001:db8::2 2222", 1);
	CHECK_EQ_INT(analyze(), 0);
	setenv("SSH_CONNECTION", "garbage", 1);
	CHECK_EQ_INT(analyze(), 0);
	unsetenv("SSH_CONNECTION");
	CHECK_EQ_INT(analyze(), 0);
}

TEST(warn_ssh_lockout_ipv6_zone)
{
	REQUIRE(build("allow in tcp port 443\n") == 0);
	setenv("SSH_CONNECTION", "fe80::5%eth0 51000 fe80::1%eth0 22", 1);
	REQUIRE(analyze() == 1);
	CHECK_EQ_STR(diag.warn[0].msg, "lockout: no rule lets your SSH session in (tcp port 22 from "
		     "fe80::5) and default in is drop; add \"allow in tcp port 22 from fe80::5\"");
	REQUIRE(build("allow in tcp port 22 from fe80::/64\n") == 0);
	CHECK_EQ_INT(analyze(), 0);
	unsetenv("SSH_CONNECTION");
}

TEST(warn_ssh_lockout_not_in_monitor_mode)
{
	REQUIRE(build("mode monitor\nallow in tcp port 443\n") == 0);
	setenv("SSH_CONNECTION", "198.51.100.7 51000 192.0.2.2 22", 1);
	CHECK_EQ_INT(analyze(), 0);
	REQUIRE(build("mode monitor\nallow in tcp port 22\ndeny in tcp port 22 from 198.51.100.0/24\n") == 0);
	CHECK_EQ_INT(analyze(), 0);
	/* monitor, then enforce: the later line applies, and so does the check */
	REQUIRE(build("mode monitor\nmode enforce\nallow in tcp port 443\n") == 0);
	REQUIRE(diag.nwarn == 1);
	CHECK_EQ_STR(diag.warn[0].msg, "mode changes from monitor (set at c.policy:1) to enforce; "
		     "the later line applies");
	CHECK_EQ_INT(analyze(), 1);
	unsetenv("SSH_CONNECTION");
}

/* ---- random policies against the oracle --------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* prefixes from a small, deeply nested pool so that rules overlap a lot */
static const char *const pool4[] = {
	"0.0.0.0/0", "192.0.2.0/24", "192.0.2.0/25", "192.0.2.128/25", "192.0.2.0/26",
	"192.0.2.64/26", "192.0.2.64/27", "192.0.2.70/31", "192.0.2.70", "192.0.2.71",
	"192.0.2.200", "198.51.100.0/24", "198.51.100.0/30", "198.51.100.3", "203.0.113.0/24",
	"192.0.0.0/8",
};
static const char *const pool6[] = {
	"::/0", "2001:db8::/32", "2001:db8::/48", "2001:db8:1::/48", "2001:db8::/64",
	"2001:db8::1", "2001:db8::2", "2001:db8:1::1", "2001:db8:8000::/33", "2000::/3",
};
static const char *const probes[] = {
	"192.0.2.0", "192.0.2.1", "192.0.2.63", "192.0.2.64", "192.0.2.70", "192.0.2.71",
	"192.0.2.72", "192.0.2.127", "192.0.2.128", "192.0.2.200", "192.0.2.255", "198.51.100.0",
	"198.51.100.3", "198.51.100.4", "203.0.113.9", "192.1.1.1", "10.0.0.1", "2001:db8::",
	"2001:db8::1", "2001:db8::2", "2001:db8::3", "2001:db8:0:1::1", "2001:db8:1::1",
	"2001:db8:1::2", "2001:db8:9000::1", "2001:db9::1", "2002::1", "fe80::1",
};
/* ports near the edges of the ranges the generator writes */
static const unsigned port_probe[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 20, 21, 65534, 65535 };

static void gen_policy(char *buf, size_t size)
{
	size_t o = 0;
	unsigned nsets = rnd(3), nrules = 1 + rnd(12);

	o += (size_t)snprintf(buf + o, size - o, "default in %s\ndefault out %s\n",
			      rnd(2) ? "drop" : "allow", rnd(2) ? "drop" : "allow");
	for (unsigned s = 0; s < nsets; s++) {
		o += (size_t)snprintf(buf + o, size - o, "set s%u = ", s);
		unsigned n = 1 + rnd(4);
		for (unsigned k = 0; k < n; k++)
			o += (size_t)snprintf(buf + o, size - o, "%s%s", k ? ", " : "",
					      rnd(2) ? pool4[rnd(16)] : pool6[rnd(10)]);
		o += (size_t)snprintf(buf + o, size - o, "\n");
	}
	for (unsigned r = 0; r < nrules; r++) {
		unsigned dir = rnd(3), kind = rnd(10);
		o += (size_t)snprintf(buf + o, size - o, "%s %s ", rnd(3) ? "allow" : "deny",
				      dir == 0 ? "in" : dir == 1 ? "out" : "both");
		if (kind < 7) {
			o += (size_t)snprintf(buf + o, size - o, "%s", kind < 3 ? "tcp" : kind < 5 ? "udp" : "tcp,udp");
			if (rnd(5)) {
				o += (size_t)snprintf(buf + o, size - o, " port ");
				unsigned n = 1 + rnd(3);
				for (unsigned k = 0; k < n; k++) {
					unsigned lo = 1 + rnd(12), hi = lo + rnd(4);
					if (rnd(8) == 0)
						lo = 65530 + rnd(6), hi = 65535;
					if (hi == lo || rnd(2))
						o += (size_t)snprintf(buf + o, size - o, "%s%u", k ? "," : "", lo);
					else
						o += (size_t)snprintf(buf + o, size - o, "%s%u-%u", k ? "," : "", lo, hi);
				}
			}
		} else if (kind < 9) {
			o += (size_t)snprintf(buf + o, size - o, "%s", kind == 7 ? "icmp" : "icmpv6");
			if (rnd(2))
				o += (size_t)snprintf(buf + o, size - o, " type %u-%u", rnd(5), 5 + rnd(5));
		} else {
			o += (size_t)snprintf(buf + o, size - o, "proto %u", 46 + rnd(4));
		}
		if (rnd(3)) {
			const char *kw = dir == 0 ? "from" : dir == 1 ? "to" : "peer";
			o += (size_t)snprintf(buf + o, size - o, " %s ", kw);
			unsigned n = 1 + rnd(3);
			for (unsigned k = 0; k < n; k++) {
				unsigned pick = rnd(10);
				if (pick < 2 && nsets)
					o += (size_t)snprintf(buf + o, size - o, "%s@s%u", k ? ", " : "", rnd(nsets));
				else if (pick < 3)	/* a name matches no address until one is learned */
					o += (size_t)snprintf(buf + o, size - o, "%s%sh%u.example.com", k ? ", " : "",
							      rnd(2) ? "*." : "", rnd(3));
				else if (pick < 6)
					o += (size_t)snprintf(buf + o, size - o, "%s%s", k ? ", " : "", pool4[rnd(16)]);
				else
					o += (size_t)snprintf(buf + o, size - o, "%s%s", k ? ", " : "", pool6[rnd(10)]);
			}
		}
		o += (size_t)snprintf(buf + o, size - o, "\n");
	}
}

/* An outline (pw_compile_outline) stores no entries but must count, hash
 * and decide exactly as the compiled tables do. */
static int outline_agrees(const char *text)
{
	struct pw_compiled o;
	struct pw_diag d = { 0 };
	int bad = 0;

	if (pw_compile_outline(&pol, &o, &d)) {
		FAILF("outline failed: %s", d.error);
		pw_diag_free(&d);
		return 1;
	}
	bad |= o.peers != NULL || o.npeers != comp.npeers || o.nclasses != comp.nclasses ||
	       memcmp(o.hash, comp.hash, sizeof(o.hash)) != 0;
	for (uint32_t k = 0; !bad && k < o.nclasses; k++)
		bad |= o.classes[k].entries != comp.classes[k].entries;
	for (uint32_t slot = 0; !bad && slot < PW_SLOT_COUNT; slot += 97) {
		for (size_t p = 0; p < sizeof(probes) / sizeof(probes[0]); p++) {
			uint8_t fam, a[16];
			struct pw_verdict v, w;
			addr_of(probes[p], &fam, a);
			pw_decide_packet(&comp, slot, fam, a, &v);
			pw_decide_packet(&o, slot, fam, a, &w);
			bad |= v.action != w.action || v.rule != w.rule || v.trie_lookups != w.trie_lookups;
		}
	}
	if (bad)
		FAILF("the outline differs from the compiled tables for:\n%s", text);
	pw_compiled_free(&o);
	pw_diag_free(&d);
	return bad;
}

TEST(random_policies_match_oracle)
{
	static const char groups[] = { 'T', 'U', 'I', '6', 'P' };
	char text[8192];
	unsigned long checks = 0, mismatches = 0;

	/* fewer under valgrind (run-tests.sh sets PW_TEST_QUICK), all under ASan */
	int iters = getenv("PW_TEST_QUICK") ? 30 : 400;

	for (int iter = 0; iter < iters && mismatches < 5; iter++) {
		gen_policy(text, sizeof(text));
		if (build(text)) {
			FAILF("generated policy did not compile:\n%s", text);
			return;
		}
		if (outline_agrees(text))
			mismatches++;
		for (unsigned dir = 0; dir < 2; dir++) {
			for (unsigned g = 0; g < 5; g++) {
				unsigned nitems = groups[g] == 'P' ? 5 : sizeof(port_probe) / sizeof(port_probe[0]);
				for (unsigned it = 0; it < nitems; it++) {
					unsigned item = groups[g] == 'P' ? 45 + it : port_probe[it];
					if ((groups[g] == 'I' || groups[g] == '6') && item > 255)
						continue;
					for (size_t p = 0; p < sizeof(probes) / sizeof(probes[0]); p++) {
						uint8_t fam, a[16], oa, ca;
						struct pw_verdict v;
						addr_of(probes[p], &fam, a);
						uint32_t orule = oracle_decide(&pol, dir, groups[g], item, fam, a, &oa);
						pw_decide_packet(&comp, oracle_slot(dir, groups[g], item), fam, a, &v);
						ca = v.action;
						checks++;
						if (oa != ca || orule != v.rule) {
							if (mismatches++ < 5)
								FAILF("policy:\n%s\n%s %c %u from %s: compiled %s/%u, oracle %s/%u",
								      text, dir ? "out" : "in", groups[g], item, probes[p],
								      ca ? "PASS" : "DROP", v.rule, oa ? "PASS" : "DROP", orule);
						}
					}
				}
			}
		}
	}
	printf("    %lu decisions compared, %lu mismatches\n", checks, mismatches);
}

PW_TEST_MAIN()
