/* test_names.c - host names in policies (issue 13): the name hash and wire
 * form, wildcard matching, the resolv.conf reader, the compiled names and
 * their targets, and what analyze, explain and the hash make of them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/sha256.h"
#include "harness.h"
#include "policy/analyze.h"
#include "policy/compile.h"
#include "policy/explain.h"
#include "policy/hostname.h"
#include "policy/resolv.h"

#define BUILT_FILE "n.policy"
#define BUILT_SAY 0
#include "built.h"

static size_t analyze(void)
{
	unsetenv("SSH_CONNECTION");
	pw_diag_free(&diag);
	if (pw_analyze(&pol, &comp, &diag))
		return (size_t)-1;
	return diag.nwarn;
}

static uint64_t hash_of(const char *name)
{
	uint8_t wire[PW_NAME_WIRE_MAX + 1];
	size_t n = pw_hostname_wire(name, wire);

	return pw_name_hash(wire, (uint32_t)n);
}

static const struct pw_cname *cname(const char *text)
{
	for (size_t i = 0; i < comp.nnames; i++)
		if (strcmp(comp.names[i].text, text) == 0)
			return &comp.names[i];
	return NULL;
}

/* ---- the hash and the wire form ----------------------------------------- */

/* values computed independently (a few lines of Python over the same
 * definition: FNV-1a of each label's length byte and bytes, folded from
 * the right with pw_name_mix) */
TEST(name_hash_known_values)
{
	CHECK(pw_name_hash((const uint8_t *)"", 0) == PW_NAME_SEED);
	CHECK(hash_of("com") == 0x123576ecf3013bd6ull);
	CHECK(hash_of("example.com") == 0xf9b9fd294e9b8c1eull);
	CHECK(hash_of("b.c") == 0xd4414baed62a4dfeull);
	CHECK(hash_of("a.b.c") == 0x2c0a474815641717ull);
	CHECK(hash_of("mycontactcenter.net") == 0x9f38e0fa7ef05929ull);
	CHECK(hash_of("pop1-ccans.mycontactcenter.net") == 0x21ee1269cc940aadull);
	/* the label hash lowercases: a question in capitals finds the name */
	CHECK(hash_of("POP1-CCANS.MyContactCenter.NET") == 0x21ee1269cc940aadull);
	/* the label hash alone: FNV-1a of 03 'c' 'o' 'm' */
	CHECK(pw_label_hash((const uint8_t *)"\3com") == 0x256a0289c74b296bull);
}

/* the ingress program hashes a question once, from the right: the hash
 * it has after k labels is the hash of that suffix alone */
TEST(name_hash_folds_suffixes)
{
	const uint8_t *w = (const uint8_t *)"\1a\1b\1c";
	uint64_t h = PW_NAME_SEED;

	h = pw_name_mix(h, pw_label_hash(w + 4));
	CHECK(h == pw_name_hash(w + 4, 2));	/* "c" */
	h = pw_name_mix(h, pw_label_hash(w + 2));
	CHECK(h == pw_name_hash(w + 2, 4));	/* "b.c" */
	CHECK(h == hash_of("b.c"));
	h = pw_name_mix(h, pw_label_hash(w));
	CHECK(h == pw_name_hash(w, 6));		/* "a.b.c" */
	CHECK(hash_of("a.b.c") != hash_of("b.c"));
	/* a wildcard is keyed by the hash of what follows "*." */
	CHECK(hash_of("*.b.c") == hash_of("b.c"));
}

TEST(name_hash_refuses_what_is_no_wire_form)
{
	CHECK(pw_name_hash((const uint8_t *)"\3co", 3) == 0);		/* past the end */
	CHECK(pw_name_hash((const uint8_t *)"\0\3com", 5) == 0);	/* empty label */
	uint8_t big[70] = { 64 };
	CHECK(pw_name_hash(big, 65) == 0);				/* label > 63 */
	CHECK(pw_name_hash(big, PW_NAME_WIRE_MAX + 1) == 0);
}

TEST(wire_form)
{
	uint8_t w[PW_NAME_WIRE_MAX + 1];
	size_t n = pw_hostname_wire("*.mycontactcenter.net", w);

	CHECK_EQ_INT(n, 20);
	CHECK(memcmp(w, "\x0fmycontactcenter\x03net", 20) == 0);
	n = pw_hostname_wire("pop1-ccans.mycontactcenter.net", w);
	CHECK_EQ_INT(n, 31);
	CHECK(memcmp(w, "\x0apop1-ccans\x0fmycontactcenter\x03net", 31) == 0);
}

TEST(wildcards_match_whole_labels)
{
	CHECK(pw_hostname_matches("*.example.com", "a.example.com"));
	CHECK(pw_hostname_matches("*.example.com", "a.b.example.com"));
	CHECK(!pw_hostname_matches("*.example.com", "example.com"));
	CHECK(!pw_hostname_matches("*.example.com", "aexample.com"));
	CHECK(!pw_hostname_matches("*.example.com", "a.example.org"));
	CHECK(pw_hostname_matches("a.example.com", "a.example.com"));
	CHECK(!pw_hostname_matches("a.example.com", "b.a.example.com"));
}

TEST(hostname_parse_results)
{
	char out[PW_HOSTNAME_MAX + 1], why[300];
	size_t at = 99;
	bool wild;

	CHECK_EQ_INT(pw_hostname_parse("Outlook.Office365.COM.", out, &wild, &at, why, sizeof(why)), PW_HOST_OK);
	CHECK_EQ_STR(out, "outlook.office365.com");
	CHECK(!wild);
	CHECK_EQ_INT(pw_hostname_parse("*.Office365.com", out, &wild, &at, why, sizeof(why)), PW_HOST_OK);
	CHECK_EQ_STR(out, "*.office365.com");
	CHECK(wild);
	CHECK_EQ_INT(pw_hostname_parse("xn--bcher-kva.example", out, &wild, &at, why, sizeof(why)), PW_HOST_OK);
	static const char *const not_names[] = { "192.0.2.1", "10.0.0.300", "1.2.3", "192.0.2.1a", "any",
						 "2001:db8::1", "x/24", "" };
	for (size_t i = 0; i < sizeof(not_names) / sizeof(not_names[0]); i++)
		if (pw_hostname_parse(not_names[i], out, &wild, &at, why, sizeof(why)) != PW_HOST_NOT_A_NAME)
			FAILF("\"%s\" taken as meant for a name", not_names[i]);
	char longer[300];
	memset(longer, 'a', 254);
	for (int i = 10; i < 254; i += 10)
		longer[i] = '.';
	longer[254] = '\0';
	CHECK_EQ_INT(pw_hostname_parse(longer, out, &wild, &at, why, sizeof(why)), PW_HOST_BAD);
	CHECK_EQ_STR(why, "this host name is longer than 253 characters, the most a name takes");
}

/* ---- resolv.conf ----------------------------------------------------------- */

static void ip_is(const struct pw_ip *ip, const char *want)
{
	struct pw_ip w = { 0 };

	if (!pw_addr_parse(want, &w.fam, w.addr))
		FAILF("bad test address %s", want);
	else if (ip->fam != w.fam || memcmp(ip->addr, w.addr, 16) != 0)
		FAILF("address is not %s", want);
}

TEST(resolv_conf_nameservers)
{
	static const char text[] =
		"# Generated by NetworkManager\n"
		"search corp.example.com example.com\n"
		"; an old-style comment\n"
		"nameserver 192.0.2.53   # the office\n"
		"options edns0 trust-ad\n"
		"\tnameserver\t2001:db8::53\n"
		"nameserver 192.0.2.53\n"
		"nameserver fe80::1%eth0\n"
		"nameserver dns.example.com\n"
		"nameserver\n"
		"domain example.com\n"
		"nameserver 198.51.100.53;trailing\n"
		"nameservers 192.0.2.99\n"
		"nameserver 203.0.113.53";	/* no newline at the end */
	struct pw_resolv_conf rc;

	pw_resolv_conf_parse(text, sizeof(text) - 1, &rc);
	REQUIRE(rc.n == 5);
	ip_is(&rc.ns[0], "192.0.2.53");
	ip_is(&rc.ns[1], "2001:db8::53");
	ip_is(&rc.ns[2], "fe80::1");		/* the zone dropped */
	ip_is(&rc.ns[3], "198.51.100.53");
	ip_is(&rc.ns[4], "203.0.113.53");
	CHECK(rc.zones);
	CHECK_EQ_INT(rc.bad_line, 9);
	CHECK_EQ_INT(rc.extra, 0);
}

TEST(resolv_conf_limits_and_stubs)
{
	struct pw_resolv_conf rc;
	char text[1024];
	size_t o = 0;

	for (int i = 1; i <= 10; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "nameserver 192.0.2.%d\n", i);
	pw_resolv_conf_parse(text, o, &rc);
	CHECK_EQ_INT(rc.n, PW_RESOLVERS_MAX);
	CHECK_EQ_INT(rc.extra, 2);
	CHECK_EQ_INT(rc.bad_line, 0);
	CHECK(!rc.zones);

	/* systemd-resolved's stub: follow it to PW_RESOLVED_UPSTREAM */
	static const char stub[] = "nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n";
	pw_resolv_conf_parse(stub, sizeof(stub) - 1, &rc);
	REQUIRE(rc.n == 1);
	CHECK(pw_ip_loopback(&rc.ns[0]));
	CHECK(pw_ip_resolved_stub(&rc.ns[0]));
	struct pw_ip ip = { 0 };
	CHECK(pw_addr_parse("127.0.0.1", &ip.fam, ip.addr) && pw_ip_loopback(&ip) && !pw_ip_resolved_stub(&ip));
	CHECK(pw_addr_parse("::1", &ip.fam, ip.addr) && pw_ip_loopback(&ip) && !pw_ip_resolved_stub(&ip));
	CHECK(pw_addr_parse("128.0.0.1", &ip.fam, ip.addr) && !pw_ip_loopback(&ip));
	CHECK(pw_addr_parse("::2", &ip.fam, ip.addr) && !pw_ip_loopback(&ip));

	pw_resolv_conf_parse("", 0, &rc);
	CHECK_EQ_INT(rc.n, 0);
	/* a NUL in the text is no address */
	pw_resolv_conf_parse("nameserver 192.0.2.1\0junk\n", 26, &rc);
	CHECK_EQ_INT(rc.n, 1);
}

/* ---- compiled names ------------------------------------------------------------ */

TEST(compile_names_and_targets)
{
	/* rule 1 on 443 and rule 2 on 80: two allow classes, so the name has
	 * two targets; on 443 rule 3 joins rule 1's class, where rule 1 is
	 * the first to name a.example.com and rule 3 the first to name b */
	REQUIRE(build("default out drop\n"
		      "allow out tcp port 443 to a.example.com\n"
		      "allow out tcp port 80 to a.example.com, 192.0.2.0/24\n"
		      "allow out tcp port 443 to A.example.com, b.example.com\n"
		      "deny out tcp port 443 to *.bad.example.com\n"
		      "allow out udp port 53 to 192.0.2.53\n") == 0);
	REQUIRE(comp.nnames == 3);
	CHECK_EQ_STR(comp.names[0].text, "*.bad.example.com");	/* sorted by text */
	const struct pw_cname *a = cname("a.example.com"), *b = cname("b.example.com"), *w = cname("*.bad.example.com");
	REQUIRE(a && b && w);
	CHECK(!a->wild && w->wild);
	CHECK(a->hash == hash_of("a.example.com"));
	CHECK(w->hash == hash_of("bad.example.com"));
	CHECK_EQ_INT(w->wire_len, 16);
	REQUIRE(a->nrules == 3);
	CHECK_EQ_INT(a->rules[0], 1);
	CHECK_EQ_INT(a->rules[1], 2);
	CHECK_EQ_INT(a->rules[2], 3);
	/* the slots say which class is which */
	const struct pw_slot *s443 = &comp.slots[pw_slot_l4(PW_DIR_OUT, PW_L4_TCP, 443)];
	const struct pw_slot *s80 = &comp.slots[pw_slot_l4(PW_DIR_OUT, PW_L4_TCP, 80)];
	REQUIRE(s443->allow_class && s80->allow_class && s443->deny_class);
	/* targets name shapes and ranks; the classes turn ranks into rules */
	uint32_t sh443 = comp.classes[s443->allow_class - 1].shape, sh80 = comp.classes[s80->allow_class - 1].shape;
	REQUIRE(a->ntargets == 2);
	for (unsigned k = 0; k < 2; k++) {
		if (a->t[k].shape == sh443)
			CHECK_EQ_INT(pw_class_rule(&comp, s443->allow_class, a->t[k].rank), 1);
		else if (a->t[k].shape == sh80)
			CHECK_EQ_INT(pw_class_rule(&comp, s80->allow_class, a->t[k].rank), 2);
		else
			FAILF("a.example.com targets shape %u", a->t[k].shape);
	}
	CHECK(a->t[0].shape < a->t[1].shape);
	REQUIRE(b->ntargets == 1);
	CHECK_EQ_INT(b->t[0].shape, sh443);
	CHECK_EQ_INT(pw_class_rule(&comp, s443->allow_class, b->t[0].rank), 3);
	REQUIRE(w->ntargets == 1);
	CHECK_EQ_INT(w->t[0].shape, comp.classes[s443->deny_class - 1].shape);
	CHECK_EQ_INT(pw_class_rule(&comp, s443->deny_class, w->t[0].rank), 4);
	/* a name-only class has no trie entry; the 192.0.2.0/24 one has one */
	CHECK_EQ_INT(comp.classes[s443->allow_class - 1].entries, 0);
	CHECK_EQ_INT(comp.classes[s80->allow_class - 1].entries, 1);

	/* the map entry */
	struct pw_name_key k;
	struct pw_name_val v;
	pw_name_entry(&comp, (size_t)(a - comp.names), 1, &k, &v);
	CHECK(k.hash == a->hash);
	CHECK_EQ_INT(k.half, 1);
	CHECK_EQ_INT(k.wild, 0);
	CHECK_EQ_INT(v.id, (a - comp.names) + 1);
	CHECK_EQ_INT(v.wire_len, 14);
	CHECK(memcmp(v.wire, "\1a\7example\3com", 14) == 0);
	CHECK_EQ_INT(v.ntargets, 2);
	CHECK_EQ_INT(v.t[1].rank, a->t[1].rank);
}

TEST(names_of_rules_that_decide_nothing_have_no_target)
{
	/* after an unrestricted allow on the same port the named rule is in no class */
	REQUIRE(build("allow out tcp port 443\nallow out tcp port 443 to a.example.com\n") == 0);
	REQUIRE(comp.nnames == 1);
	CHECK_EQ_INT(comp.names[0].ntargets, 0);
	CHECK_EQ_INT(comp.names[0].nrules, 1);
}

/* n single-port rules around one rule naming the host on ports 1-100:
 * each port with one of them is a class and a shape of its own (each its
 * own /32), and so a target */
static int build_targets(int n)
{
	char text[4096];
	size_t o = (size_t)snprintf(text, sizeof(text), "default out drop\n"
				    "allow out tcp port 1-100 to pop1-ccans.mycontactcenter.net\n");
	for (int i = 1; i <= n; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "allow out tcp port %d to 192.0.2.%d\n", i, i);
	return build(text);
}

TEST(targets_limit)
{
	REQUIRE(build_targets(PW_NAME_TARGETS - 1) == 0);
	REQUIRE(comp.nnames == 1);
	CHECK_EQ_INT(comp.names[0].ntargets, PW_NAME_TARGETS);
	CHECK(build_targets(PW_NAME_TARGETS) != 0);
	CHECK_EQ_STR(diag.error, "n.policy:2: error: the host name \"pop1-ccans.mycontactcenter.net\" falls in "
		     "more than 16 peer-class shapes, the most one name feeds: each different list of the "
		     "peers of the peer-restricted rules on a port is a shape; merge the rules that name it "
		     "into one rule with a port list, and give the restricted rules on its ports the same "
		     "port lists");
	CHECK(comp.names == NULL && comp.slots == NULL);	/* freed on error */
	/* the fix the message gives: one rule per name with a port list */
	char text[4096];
	size_t o = (size_t)snprintf(text, sizeof(text), "default out drop\n");
	for (int i = 1; i <= 40; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "allow out tcp port %d to a.example.com\n", i);
	CHECK(build(text) != 0);
	REQUIRE(build("default out drop\nallow out tcp port 1-40 to a.example.com\n") == 0);
	CHECK_EQ_INT(comp.names[0].ntargets, 1);
}

TEST(resolvers_compiled_sorted)
{
	REQUIRE(build("resolver 2001:db8::53, 198.51.100.53\nresolver 192.0.2.53\n") == 0);
	REQUIRE(comp.nresolvers == 3);
	CHECK_EQ_INT(comp.resolvers[0].fam, PW_FAM_V4);
	CHECK_EQ_INT(comp.resolvers[0].addr[0], 192);
	CHECK_EQ_INT(comp.resolvers[1].addr[0], 198);
	CHECK_EQ_INT(comp.resolvers[2].fam, PW_FAM_V6);
}

/* the compiled policy's hash in hex, as status prints it */
static void hash_hex(char out[65])
{
	pw_hex(comp.hash, sizeof(comp.hash), out);
}

TEST(names_and_resolvers_in_the_hash)
{
	char h0[65], h1[65], h2[65], h3[65], h4[65];

	/* a policy without names hashes no names part (this value is the
	 * one printed since a class's run got a word for its IPv4 root,
	 * hashed as 0: the roots follow from the entries; the trie answers
	 * ranks, the words say whose) */
	REQUIRE(build("allow in tcp port 22 from 192.0.2.0/24\nallow out tcp port 443\n") == 0);
	hash_hex(h0);
	CHECK_EQ_STR(h0, "955c4e30f5f469627fc6cc0b6043eb0372861afed6e5f49becb4620645379fab");
	REQUIRE(build("allow out tcp port 443 to a.example.com\n") == 0);
	hash_hex(h1);
	uint64_t fp1 = comp.rule_fp[1];
	REQUIRE(build("allow out tcp port 443 to b.example.com\n") == 0);
	hash_hex(h2);
	CHECK(strcmp(h1, h2) != 0);
	CHECK(fp1 != comp.rule_fp[1]);	/* a reload sees the rule changed */
	REQUIRE(build("allow out tcp port 443 to *.example.com\n") == 0);
	hash_hex(h3);
	CHECK(strcmp(h3, h1) != 0 && strcmp(h3, h2) != 0);
	REQUIRE(build("resolver 192.0.2.53\nallow out tcp port 443 to a.example.com\n") == 0);
	hash_hex(h4);
	CHECK(strcmp(h4, h1) != 0);
	/* spelling does not count: case, the trailing dot, order, comments */
	REQUIRE(build("allow out tcp port 443 to A.Example.COM. comment \"x\"\n") == 0);
	hash_hex(h4);
	CHECK_EQ_STR(h4, h1);
	CHECK(fp1 == comp.rule_fp[1]);
}

/* ---- analysis ------------------------------------------------------------------ */

TEST(analyze_name_rules)
{
	/* two rules that differ only in their names are no duplicates, and a
	 * rule without address peers is not shadowed by denies of addresses */
	REQUIRE(build("default out drop\n"
		      "deny out tcp port 443 to 203.0.113.0/24\n"
		      "allow out tcp port 443 to a.example.com\n"
		      "allow out tcp port 443 to b.example.com\n") == 0);
	CHECK_EQ_INT(analyze(), 0);
	/* the same names twice are */
	REQUIRE(build("default out drop\nallow out tcp port 443 to a.example.com\n"
		      "allow out tcp port 443 to A.example.com.\n") == 0);
	REQUIRE(analyze() == 1);
	CHECK_EQ_STR(diag.warn[0].msg, "this rule duplicates the rule at n.policy:2; remove one");
	/* an unrestricted deny covers all of it */
	REQUIRE(build("default out drop\ndeny out tcp port 443\nallow out tcp port 443 to a.example.com\n") == 0);
	REQUIRE(analyze() == 1);
	CHECK_EQ_INT(diag.warn[0].line, 3);
	/* denies of both whole families do too; of one family, not */
	REQUIRE(build("default out drop\ndeny out tcp port 443 to 0.0.0.0/0\n"
		      "deny out tcp port 443 to ::/0, x.example.com\nallow out tcp port 443 to a.example.com\n") == 0);
	REQUIRE(analyze() == 1);
	CHECK_EQ_INT(diag.warn[0].line, 4);
	REQUIRE(build("default out drop\ndeny out tcp port 443 to 0.0.0.0/0\n"
		      "allow out tcp port 443 to a.example.com\n") == 0);
	CHECK_EQ_INT(analyze(), 0);
}

TEST(analyze_allow_out_under_default_out_allow)
{
	/* at the default line when there is one */
	REQUIRE(build("default out allow\nallow out tcp port 443 to a.example.com\n"
		      "allow out udp port 53\nallow both proto vrrp\n") == 0);
	REQUIRE(analyze() == 1);
	CHECK_EQ_STR(diag.warn[0].file, "n.policy");
	CHECK_EQ_INT(diag.warn[0].line, 1);
	CHECK_EQ_STR(diag.warn[0].msg, "these 2 allow-out rules (the first at n.policy:2) change nothing "
		     "under default out allow; to enforce them, write default out drop");
	/* at the rule when the default is not written */
	REQUIRE(build("allow in tcp port 22\nallow out tcp port 443\n") == 0);
	REQUIRE(analyze() == 1);
	CHECK_EQ_INT(diag.warn[0].line, 2);
	CHECK_EQ_STR(diag.warn[0].msg, "the allow-out rule at n.policy:2 changes nothing under default out "
		     "allow; to enforce it, write default out drop");
	/* no warning: default out drop, or only deny and both rules out */
	REQUIRE(build("default out drop\nallow out tcp port 443\n") == 0);
	CHECK_EQ_INT(analyze(), 0);
	REQUIRE(build("deny out tcp port 25\nallow both udp port 123\n") == 0);
	CHECK_EQ_INT(analyze(), 0);
}

/* ---- explain ------------------------------------------------------------------- */

static const char *explain(const char *dir, const char *proto, const char *peer, const char *port)
{
	static char line[4096];
	struct pw_query q;
	struct pw_verdict v;
	char err[512];

	if (pw_query_parse(dir, proto, peer, port, &q, err, sizeof(err))) {
		snprintf(line, sizeof(line), "query error: %s", err);
		return line;
	}
	pw_explain(&pol, &comp, &q, &v, line, sizeof(line));
	return line;
}

static const char engage[] =
	"policy \"ENGAGE, kiosk\"\n"
	"default in drop\n"
	"default out drop\n"
	"set engage = *.mycontactcenter.net\n"
	"allow out tcp port 80,443,5222 to @engage\n"
	"allow out udp,tcp port 53 to 192.0.2.53\n"
	"deny out tcp port 443 to pop9-ccans.mycontactcenter.net, 203.0.113.66\n"
	"allow out tcp port 443 to 198.51.100.0/24\n";

TEST(explain_an_address)
{
	REQUIRE(build(engage) == 0);
	CHECK_EQ_STR(explain("out", "tcp", "203.0.113.7", "443"),
		     "DROP  default  default out drop\n"
		     "      rule 1 (n.policy:5) allows it if 203.0.113.7 is an address of *.mycontactcenter.net, "
		     "learned from DNS");
	/* denied already: no name can pass it */
	CHECK_EQ_STR(explain("out", "tcp", "203.0.113.66", "443"),
		     "DROP  n.policy:7  deny out tcp port 443 to pop9-ccans.mycontactcenter.net, 203.0.113.66");
	/* passed by an address rule: a deny naming a host could drop it */
	CHECK_EQ_STR(explain("out", "tcp", "198.51.100.9", "443"),
		     "PASS  n.policy:8  allow out tcp port 443 to 198.51.100.0/24\n"
		     "      rule 3 (n.policy:7) denies it if 198.51.100.9 is an address of "
		     "pop9-ccans.mycontactcenter.net, learned from DNS");
	/* a port no name rule is on */
	CHECK_EQ_STR(explain("out", "tcp", "203.0.113.7", "8080"), "DROP  default  default out drop");
}

TEST(explain_a_host_name)
{
	REQUIRE(build(engage) == 0);
	CHECK_EQ_STR(explain("out", "tcp", "pop1-ccans.mycontactcenter.net", "443"),
		     "PASS  n.policy:5  allow out tcp port 80,443,5222 to @engage\n"
		     "      for an address learned from DNS for pop1-ccans.mycontactcenter.net, which the policy "
		     "names as *.mycontactcenter.net; where a rule's prefix covers that address too, explain "
		     "the address");
	CHECK_EQ_STR(explain("out", "tcp", "POP9-ccans.mycontactcenter.net.", "443"),
		     "DROP  n.policy:7  deny out tcp port 443 to pop9-ccans.mycontactcenter.net, 203.0.113.66\n"
		     "      for an address learned from DNS for pop9-ccans.mycontactcenter.net, which the policy "
		     "names as *.mycontactcenter.net, pop9-ccans.mycontactcenter.net; where a rule's prefix "
		     "covers that address too, explain the address");
	/* the wildcard is not its own suffix */
	CHECK_EQ_STR(explain("out", "tcp", "mycontactcenter.net", "443"),
		     "DROP  default  default out drop\n"
		     "      no rule names mycontactcenter.net: nothing is learned for it, and its addresses are "
		     "judged as any other (this is the verdict where no rule's prefix covers one)");
	CHECK_EQ_STR(explain("out", "tcp", "pop1-ccans.mycontactcenter.net", "25"), "DROP  default  default out drop\n"
		     "      for an address learned from DNS for pop1-ccans.mycontactcenter.net, which the policy "
		     "names as *.mycontactcenter.net; where a rule's prefix covers that address too, explain "
		     "the address");
	/* icmp names no family for a host */
	CHECK(strncmp(explain("out", "icmp", "pop1-ccans.mycontactcenter.net", "echo-request"), "DROP  default", 13) == 0);
}

TEST(explain_query_errors)
{
	REQUIRE(build(engage) == 0);
	CHECK_EQ_STR(explain("out", "tcp", "*.mycontactcenter.net", "443"),
		     "query error: a query names one host, not a wildcard: try a name \"*.mycontactcenter.net\" "
		     "matches, such as www.mycontactcenter.net");
	CHECK_EQ_STR(explain("out", "tcp", "pop1..mycontactcenter.net", "443"),
		     "query error: peer \"pop1..mycontactcenter.net\": an empty label (two dots, or a dot first): "
		     "remove the extra \".\"");
	CHECK_EQ_STR(explain("out", "tcp", "mailhost", "443"),
		     "query error: peer must be an IPv4 or IPv6 address or a host name, got \"mailhost\"");
}

PW_TEST_MAIN()
