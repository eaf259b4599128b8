/* test_dns.c - the DNS learner of the XDP and tc programs with
 * BPF_PROG_TEST_RUN on private maps (root): a query the host sends to a
 * resolver is recorded, the answer to it teaches its A/AAAA addresses to
 * the names the question matches, and a SYN to a learned address passes by
 * the name's rule; spoofed, unsolicited, mismatched and malformed answers
 * teach nothing and are counted (docs/dns.md). The shipped policies' names
 * (engage-client, ccp) open exactly the ports their vendor guides give.
 *
 * The names come from a compiled policy and go into the maps as apply
 * writes them (pw_dp_write_policy_names): the compiler's hash and targets
 * against the BPF's. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "dns_msg.h"
#include "dp_env.h"
#include "harness.h"
#include "datapath/loader.h"
#include "policy/packet.h"

/* rule 1: DNS to the resolver; rule 2 (policy_text): HTTPS to the names */
#define RULES                                           \
	"default out drop\n"                            \
	"allow out udp port 53 to 192.0.2.53\n"
#define HEAD "default in drop\n" RULES
#define HOST "192.0.2.2"
#define RESOLVER "192.0.2.53"

/* ---- DNS messages --------------------------------------------------------- */

/* an A record (pointer to the question's name at 12) */
static void rr_a(struct msg *m, const char *addr, uint32_t ttl)
{
	struct in_addr a;
	inet_pton(AF_INET, addr, &a);
	put16(m, 0xc00c);
	put16(m, 1);
	put16(m, 1);
	put32(m, ttl);
	put16(m, 4);
	for (int i = 0; i < 4; i++)
		put8(m, ((uint8_t *)&a)[i]);
}

static void rr_aaaa(struct msg *m, const char *addr, uint32_t ttl)
{
	struct in6_addr a;
	inet_pton(AF_INET6, addr, &a);
	put16(m, 0xc00c);
	put16(m, 28);
	put16(m, 1);
	put32(m, ttl);
	put16(m, 16);
	for (int i = 0; i < 16; i++)
		put8(m, a.s6_addr[i]);
}

/* a CNAME from the question to target, then A records name target */
static void rr_cname(struct msg *m, const char *target, uint32_t ttl)
{
	struct msg t = { .n = 0 };
	put_name(&t, target);
	put16(m, 0xc00c);
	put16(m, 5);
	put16(m, 1);
	put32(m, ttl);
	put16(m, (unsigned)t.n);
	for (size_t i = 0; i < t.n; i++)
		put8(m, t.b[i]);
}

/* the answer (id 0x1234) of one A record for name */
static void answer_a(struct msg *m, const char *name, const char *addr, uint32_t ttl)
{
	header(m, 0x1234, 0x8180, 1, 1);
	question(m, name, 1);
	rr_a(m, addr, ttl);
}

static void query(struct msg *m, unsigned txid, const char *name)
{
	header(m, txid, 0x0100, 1, 0);
	question(m, name, 1);
}

/* ---- a policy with names, written as apply writes it ---------------------- */

/* The policy: head (defaults and DNS: rule 1), then HTTPS to names[]
 * (rule 2). */
static void policy_text(char *buf, size_t size, const char *head, const char *const *names, size_t n)
{
	size_t at = (size_t)snprintf(buf, size, "%sallow out tcp port 443 to ", head);
	for (size_t i = 0; i < n && at < size; i++)
		at += (size_t)snprintf(buf + at, size - at, "%s%s", i ? ", " : "", names[i]);
	if (at < size)
		snprintf(buf + at, size - at, "\n");
}

static struct pw_ip resolver(void)
{
	struct pw_ip ip = { .fam = PW_FAM_V4 };
	inet_pton(AF_INET, RESOLVER, ip.addr);
	return ip;
}

static int up_policy_names(const char *head, const char *const *names, size_t n)
{
	char text[1024], err[256];
	struct pw_ip res = resolver();

	policy_text(text, sizeof(text), head, names, n);
	if (up_with("t.policy", text, 0, NULL))
		return -1;
	if (pw_dp_write_policy_names(&E.dp, 0, &E.c, &res, 1, err, sizeof(err))) {
		fprintf(stderr, "    %s\n", err);
		return -1;
	}
	return 0;
}

static int up_names(const char *const *names, size_t n)
{
	return up_policy_names(HEAD, names, n);
}

/* ---- packets -------------------------------------------------------------- */

/* Run the packet of `words` carrying DNS message m (NULL: none); the
 * verdict. */
static int run(const char *words, const struct msg *m)
{
	char line[256], err[256];
	struct pw_pktspec s;
	static uint8_t frame[PW_PKT_OUT_MAX];
	struct pw_dp_result r;

	snprintf(line, sizeof(line), "%s len %zu", words, m ? m->n : 0);
	if (pw_pkt_parse_line(line, &s, err, sizeof(err))) {
		FAILF("bad packet \"%s\": %s", line, err);
		return -1;
	}
	size_t len = pw_pkt_build(&s, frame, sizeof(frame));
	if (m)
		memcpy(frame + len - m->n, m->b, m->n);
	if (pw_dp_judge_link(&E.dp, E.c.nrules, s.l3 ? PW_LINK_L3 : PW_LINK_ETHER, s.dir, frame, len, &r)) {
		FAILF("running \"%s\" failed", line);
		return -1;
	}
	return r.verdict;
}

static struct pw_dns_stats dns(void)
{
	struct pw_dns_stats st;
	if (pw_dp_dns_stats(&E.dp, &st))
		FAILF("reading pw_dns_stats failed");
	return st;
}

#define Q_OUT "out udp " HOST ":40000 " RESOLVER ":53"
#define A_IN "in udp " RESOLVER ":53 " HOST ":40000"
#define SYN_TO(addr) "out tcp " HOST ":41000 " addr ":443 syn"

/* ask and get answer `a` (txid 0x1234, name asked `name`) */
static void ask(const char *name)
{
	struct msg q;
	query(&q, 0x1234, name);
	CHECK_EQ_INT(run(Q_OUT, &q), PW_PASS);
}

/* ---- cases ---------------------------------------------------------------- */

TEST(answer_teaches_the_name_first_syn_passes)
{
	const char *names[] = { "pop1-ccans.mycontactcenter.net" };
	struct msg a;

	REQUIRE(up_names(names, 1) == 0);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.10"), NULL), PW_DROP);
	ask("pop1-ccans.mycontactcenter.net");
	CHECK_EQ_INT(dns().queries, 1);
	header(&a, 0x1234, 0x8180, 1, 2);
	question(&a, "pop1-ccans.mycontactcenter.net", 1);
	rr_a(&a, "203.0.113.10", 30);
	rr_a(&a, "203.0.113.11", 30);
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	struct pw_dns_stats st = dns();
	CHECK_EQ_INT(st.answers, 1);
	CHECK_EQ_INT(st.learned, 2);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.10"), NULL), PW_PASS);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.11"), NULL), PW_PASS);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.12"), NULL), PW_DROP);	/* never answered */
	/* the same answer again teaches nothing new */
	ask("pop1-ccans.mycontactcenter.net");
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	st = dns();
	CHECK_EQ_INT(st.learned, 2);
	CHECK_EQ_INT(st.refreshed, 2);
	down();
}

TEST(case_insensitive_cname_chain_and_aaaa)
{
	const char *names[] = { "outlook.office365.com" };
	struct msg a;

	REQUIRE(up_names(names, 1) == 0);
	ask("OutLook.Office365.COM");
	header(&a, 0x1234, 0x8180, 1, 3);
	question(&a, "OutLook.Office365.COM", 1);
	rr_cname(&a, "outlook.ha.office365.com", 300);
	rr_a(&a, "203.0.113.20", 30);
	rr_aaaa(&a, "2001:db8::20", 30);
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	CHECK_EQ_INT(dns().learned, 2);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.20"), NULL), PW_PASS);
	down();
}

TEST(wildcard_needs_a_label_in_front)
{
	const char *names[] = { "*.mycontactcenter.net" };
	struct msg a;

	REQUIRE(up_names(names, 1) == 0);
	/* the bare suffix is not under the wildcard: no query recorded */
	ask("mycontactcenter.net");
	CHECK_EQ_INT(dns().queries, 0);
	ask("pop6-ccaws.mycontactcenter.net");
	CHECK_EQ_INT(dns().queries, 1);
	answer_a(&a, "pop6-ccaws.mycontactcenter.net", "203.0.113.30", 60);
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.30"), NULL), PW_PASS);
	/* two labels in front match too */
	ask("a.b.mycontactcenter.net");
	CHECK_EQ_INT(dns().queries, 2);
	/* a name that merely ends the same way is not under it */
	ask("evilmycontactcenter.net");
	CHECK_EQ_INT(dns().queries, 2);
	down();
}

TEST(twenty_records_all_learned)
{
	const char *names[] = { "smtp.office365.com" };
	struct msg a;
	char addr[32];

	REQUIRE(up_names(names, 1) == 0);
	ask("smtp.office365.com");
	header(&a, 0x1234, 0x8180, 1, 24);
	question(&a, "smtp.office365.com", 1);
	for (int i = 0; i < 24; i++) {
		snprintf(addr, sizeof(addr), "203.0.113.%d", 100 + i);
		rr_a(&a, addr, 30);
	}
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	CHECK_EQ_INT(dns().learned, 24);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.123"), NULL), PW_PASS);
	down();
}

/* answers an attacker would send: none teaches */
TEST(spoofed_and_unsolicited_answers_teach_nothing)
{
	const char *names[] = { "login.microsoftonline.com" };
	struct msg a;

	REQUIRE(up_names(names, 1) == 0);
	answer_a(&a, "login.microsoftonline.com", "203.0.113.66", 3600);
	/* nothing asked: no flow, the policy drops it before DNS is read */
	CHECK_EQ_INT(run(A_IN, &a), PW_DROP);
	ask("login.microsoftonline.com");
	/* from another address, to another port: dropped likewise */
	CHECK_EQ_INT(run("in udp 192.0.2.54:53 " HOST ":40000", &a), PW_DROP);
	CHECK_EQ_INT(run("in udp " RESOLVER ":53 " HOST ":40001", &a), PW_DROP);
	CHECK_EQ_INT(dns().answers + dns().unsolicited, 0);
	/* on the query's flow with another id: passes, teaches nothing */
	a.b[1] = 0x35;
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	CHECK_EQ_INT(dns().unsolicited, 1);
	CHECK_EQ_INT(dns().learned, 0);
	/* the real id, but another question than the one asked */
	a.b[1] = 0x34;
	a.n = 0;
	answer_a(&a, "evil.example.net", "203.0.113.66", 3600);
	run(A_IN, &a);
	CHECK_EQ_INT(dns().mismatched, 1);
	/* the same name, another type (AAAA) or class (CH) than asked */
	header(&a, 0x1234, 0x8180, 1, 1);
	question(&a, "login.microsoftonline.com", 28);
	rr_a(&a, "203.0.113.66", 3600);
	run(A_IN, &a);
	header(&a, 0x1234, 0x8180, 1, 1);
	put_name(&a, "login.microsoftonline.com");
	put16(&a, 1);
	put16(&a, 3);
	rr_a(&a, "203.0.113.66", 3600);
	run(A_IN, &a);
	CHECK_EQ_INT(dns().mismatched, 3);
	CHECK_EQ_INT(dns().learned, 0);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.66"), NULL), PW_DROP);
	/* none of them used the query up: the resolver's answer teaches,
	 * and uses it up (a second answer to it teaches nothing) */
	answer_a(&a, "login.microsoftonline.com", "203.0.113.67", 3600);
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	CHECK_EQ_INT(dns().learned, 1);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.67"), NULL), PW_PASS);
	answer_a(&a, "login.microsoftonline.com", "203.0.113.66", 3600);
	run(A_IN, &a);
	CHECK_EQ_INT(dns().unsolicited, 2);
	CHECK_EQ_INT(run("out tcp " HOST ":41001 203.0.113.66:443 syn", NULL), PW_DROP);
	/* a name the policy does not have is never recorded */
	ask("www.example.com");
	CHECK_EQ_INT(dns().queries, 1);
	down();
}

/* Under default in allow the policy lets spoofed answers through: the
 * learner alone must refuse them. */
TEST(spoofed_answers_the_policy_lets_in_teach_nothing)
{
	const char *names[] = { "login.microsoftonline.com" };
	struct msg a;

	REQUIRE(up_policy_names("default in allow\n" RULES, names, 1) == 0);
	ask("login.microsoftonline.com");
	answer_a(&a, "login.microsoftonline.com", "203.0.113.66", 3600);
	CHECK_EQ_INT(run("in udp 192.0.2.54:53 " HOST ":40000", &a), PW_PASS);	/* another source */
	CHECK_EQ_INT(run("in udp " RESOLVER ":53 " HOST ":40001", &a), PW_PASS);	/* another port */
	CHECK_EQ_INT(run("in udp " RESOLVER ":5353 " HOST ":40000", &a), PW_PASS);	/* not port 53 */
	CHECK_EQ_INT(dns().unsolicited, 2);
	CHECK_EQ_INT(dns().learned, 0);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.66"), NULL), PW_DROP);
	/* the real answer still teaches: the spoofs spent nothing */
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	CHECK_EQ_INT(dns().learned, 1);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.66"), NULL), PW_PASS);
	down();
}

/* A reload into the other half: the names it keeps keep what they
 * learned; a name it drops forgets. */
TEST(reload_keeps_learned_addresses_of_kept_names)
{
	const char *names[] = { "pop1-ccans.mycontactcenter.net", "smtp.office365.com" };
	struct pw_policy pol = { 0 };
	struct pw_compiled c = { 0 };
	struct pw_diag d = { 0 };
	struct pw_ip res = resolver();
	struct msg a;
	char text[1024], err[256];

	REQUIRE(up_names(names, 2) == 0);
	ask(names[0]);
	answer_a(&a, names[0], "203.0.113.10", 300);
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	ask(names[1]);
	answer_a(&a, names[1], "203.0.113.20", 300);
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	CHECK_EQ_INT(dns().learned, 2);
	/* the reloaded policy names only the first */
	policy_text(text, sizeof(text), HEAD, names, 1);
	REQUIRE(pw_policy_parse_text("t2.policy", text, strlen(text), &pol, &d) == 0);
	REQUIRE(pw_compile(&pol, &c, &d) == 0);
	REQUIRE(pw_dp_write_half(&E.dp, 1, &c, &E.cfg, err, sizeof(err)) == 0);
	REQUIRE(pw_dp_write_policy_names(&E.dp, 1, &c, &res, 1, err, sizeof(err)) == 0);
	CHECK_EQ_INT(pw_dp_relearn(&E.dp, 1, pw_mono_ns()), 1);
	REQUIRE(pw_dp_activate(&E.dp, 1, 2) == 0);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.10"), NULL), PW_PASS);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.20"), NULL), PW_DROP);
	/* an address past its lifetime is not carried (half 0, written anew) */
	REQUIRE(pw_dp_write_half(&E.dp, 0, &c, &E.cfg, err, sizeof(err)) == 0);
	REQUIRE(pw_dp_write_policy_names(&E.dp, 0, &c, &res, 1, err, sizeof(err)) == 0);
	CHECK_EQ_INT(pw_dp_relearn(&E.dp, 0, pw_mono_ns() + 301ull * 1000000000ull), 0);
	CHECK_EQ_INT(pw_dp_relearn(&E.dp, 0, pw_mono_ns()), 1);
	pw_compiled_free(&c);
	pw_policy_free(&pol);
	pw_diag_free(&d);
	down();
}

/* A learned address past its lifetime: new flows to it drop, the one
 * opened while it lived goes on. */
TEST(expired_address_refuses_new_flows_keeps_open_ones)
{
	const char *names[] = { "pop8-ccans.mycontactcenter.net" };
	struct msg a;

	REQUIRE(up_names(names, 1) == 0);
	ask(names[0]);
	answer_a(&a, names[0], "203.0.113.10", 30);
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.10"), NULL), PW_PASS);
	CHECK_EQ_INT(run("in tcp 203.0.113.10:443 " HOST ":41000 syn,ack", NULL), PW_PASS);
	CHECK_EQ_INT(run("out tcp " HOST ":41000 203.0.113.10:443 ack", NULL), PW_PASS);
	/* still alive at 29 s: nothing removed */
	CHECK_EQ_INT(pw_dp_dns_expire(&E.dp, 0, &E.c, pw_mono_ns() + 29ull * 1000000000ull, 0, NULL), 0);
	CHECK_EQ_INT(pw_dp_dns_expire(&E.dp, 0, &E.c, pw_mono_ns() + 31ull * 1000000000ull, 0, NULL), 1);
	CHECK_EQ_INT(run("out tcp " HOST ":41001 203.0.113.10:443 syn", NULL), PW_DROP);
	CHECK_EQ_INT(run("out tcp " HOST ":41000 203.0.113.10:443 ack len 100", NULL), PW_PASS);
	CHECK_EQ_INT(run("in tcp 203.0.113.10:443 " HOST ":41000 ack len 100", NULL), PW_PASS);
	CHECK_EQ_INT(run("out tcp " HOST ":41000 203.0.113.10:443 fin,ack", NULL), PW_PASS);
	/* nothing left to remove; the address is learned anew by an answer */
	CHECK_EQ_INT(pw_dp_dns_expire(&E.dp, 0, &E.c, pw_mono_ns() + 31ull * 1000000000ull, 0, NULL), 0);
	ask(names[0]);
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	CHECK_EQ_INT(run("out tcp " HOST ":41002 203.0.113.10:443 syn", NULL), PW_PASS);
	down();
}

/* Two names answered with one address: when the first name's lifetime
 * ends, the address stays for the second's; when that ends too, it goes. */
TEST(an_address_two_names_share_lives_as_long_as_the_longer)
{
	const char *names[] = { "a.example.com", "b.example.com", "c.example.com" };
	struct msg a;

	REQUIRE(up_names(names, 3) == 0);
	ask(names[0]);
	answer_a(&a, names[0], "203.0.113.20", 30);
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	ask(names[2]);
	answer_a(&a, names[2], "203.0.113.19", 30);
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	ask(names[1]);
	answer_a(&a, names[1], "203.0.113.20", 300);
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	CHECK_EQ_INT(pw_dp_dns_expire(&E.dp, 0, &E.c, pw_mono_ns() + 31ull * 1000000000ull, 0, NULL), 2);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.20"), NULL), PW_PASS);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.19"), NULL), PW_DROP);
	CHECK_EQ_INT(pw_dp_dns_expire(&E.dp, 0, &E.c, pw_mono_ns() + 301ull * 1000000000ull, 0, NULL), 1);
	CHECK_EQ_INT(run("out tcp " HOST ":41001 203.0.113.20:443 syn", NULL), PW_DROP);
	down();
}

/* A name over its cap keeps its most recently answered addresses (LRU by
 * answer); the rest leave pw_learned and the trie, counted. */
static void answer_many(const char *name, int from, int n)
{
	struct msg a;
	char addr[32];

	ask(name);
	header(&a, 0x1234, 0x8180, 1, (unsigned)n);
	question(&a, name, 1);
	for (int i = 0; i < n; i++) {
		snprintf(addr, sizeof(addr), "203.0.113.%d", from + i);
		rr_a(&a, addr, 300);
	}
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	usleep(20000);	/* the next answer is later on the coarse clock */
}

TEST(a_name_over_its_cap_keeps_the_most_recently_answered)
{
	const char *names[] = { "pop6-ccans.mycontactcenter.net" };
	int ev = -1;

	REQUIRE(up_names(names, 1) == 0);
	answer_many(names[0], 30, 3);
	answer_many(names[0], 40, 2);
	uint64_t now = pw_mono_ns();
	CHECK_EQ_INT(pw_dp_dns_expire(&E.dp, 0, &E.c, now, 0, &ev), 0);	/* no cap */
	CHECK_EQ_INT(pw_dp_dns_expire(&E.dp, 0, &E.c, now, 5, &ev), 0);
	CHECK_EQ_INT(ev, 0);
	CHECK_EQ_INT(pw_dp_dns_expire(&E.dp, 0, &E.c, now, 3, &ev), 2);
	CHECK_EQ_INT(ev, 2);
	CHECK_EQ_INT(dns().evicted, 2);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.40"), NULL), PW_PASS);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.41"), NULL), PW_PASS);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.30"), NULL), PW_PASS);	/* the lower of the older three */
	CHECK_EQ_INT(run(SYN_TO("203.0.113.31"), NULL), PW_DROP);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.32"), NULL), PW_DROP);
	/* answered again, .31 is the most recent: .30 is the oldest now */
	answer_many(names[0], 31, 1);
	CHECK_EQ_INT(pw_dp_dns_expire(&E.dp, 0, &E.c, pw_mono_ns(), 3, &ev), 1);
	CHECK_EQ_INT(dns().evicted, 3);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.31"), NULL), PW_PASS);
	CHECK_EQ_INT(run("out tcp " HOST ":41001 203.0.113.30:443 syn", NULL), PW_DROP);
	struct pw_learned_rec *rec;
	ssize_t held = pw_dp_learned_read(&E.dp, &rec);
	CHECK_EQ_INT(held, 3);
	if (held >= 0)
		free(rec);
	down();
}

/* a query to a server that is not a resolver of the policy */
TEST(queries_to_other_servers_are_not_recorded)
{
	const char *names[] = { "login.microsoftonline.com" };
	struct msg q;

	/* DNS out to anyone: the policy lets the query pass, the learner
	 * must not take it (only the resolver's answers teach) */
	REQUIRE(up_policy_names("default in drop\ndefault out drop\nallow out udp port 53\nresolver " RESOLVER "\n",
				names, 1) == 0);
	query(&q, 0x1234, "login.microsoftonline.com");
	CHECK_EQ_INT(run("out udp " HOST ":40000 192.0.2.54:53", &q), PW_PASS);
	CHECK_EQ_INT(dns().queries, 0);
	struct msg a;
	answer_a(&a, "login.microsoftonline.com", "203.0.113.66", 3600);
	CHECK_EQ_INT(run("in udp 192.0.2.54:53 " HOST ":40000", &a), PW_PASS);	/* its flow's reply */
	CHECK_EQ_INT(dns().unsolicited, 1);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.66"), NULL), PW_DROP);
	/* the same to the resolver is recorded */
	CHECK_EQ_INT(run(Q_OUT, &q), PW_PASS);
	CHECK_EQ_INT(dns().queries, 1);
	down();
}

/* An answer of more records than the walk reads (PW_DNS_RR_MAX, 64):
 * the ones past the bound would go unchecked, so none teaches. */
TEST(records_past_the_walk_bound_teach_nothing)
{
	const char *names[] = { "pop3-ccans.mycontactcenter.net" };
	struct msg a;
	char addr[32];

	REQUIRE(up_names(names, 1) == 0);
	ask(names[0]);
	header(&a, 0x1234, 0x8180, 1, 65);
	question(&a, names[0], 1);
	for (int i = 0; i < 65; i++) {
		snprintf(addr, sizeof(addr), "203.0.113.%d", 100 + i);
		rr_a(&a, addr, 30);
	}
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	struct pw_dns_stats st = dns();
	CHECK_EQ_INT(st.truncated, 1);
	CHECK_EQ_INT(st.learned, 0);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.100"), NULL), PW_DROP);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.164"), NULL), PW_DROP);
	/* 64 records are read whole */
	ask(names[0]);
	header(&a, 0x1234, 0x8180, 1, 64);
	question(&a, names[0], 1);
	for (int i = 0; i < 64; i++) {
		snprintf(addr, sizeof(addr), "203.0.113.%d", 100 + i);
		rr_a(&a, addr, 30);
	}
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	CHECK_EQ_INT(dns().learned, 32);	/* PW_DNS_ADDRS_MAX of them */
	CHECK_EQ_INT(run(SYN_TO("203.0.113.100"), NULL), PW_PASS);
	down();
}

/* A policy without names: its resolver's DNS costs no learner work, not
 * even the count of an answer nobody asked for. */
TEST(a_policy_without_names_runs_no_learner)
{
	struct msg q, a;

	REQUIRE(up_with("t.policy", HEAD "allow out tcp port 443 to 203.0.113.0/24\nresolver " RESOLVER "\n",
			0, NULL) == 0);
	query(&q, 0x1234, "login.microsoftonline.com");
	CHECK_EQ_INT(run(Q_OUT, &q), PW_PASS);
	answer_a(&a, "login.microsoftonline.com", "198.51.100.66", 3600);
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	struct pw_dns_stats st = dns();
	CHECK_EQ_INT(st.queries + st.answers + st.unsolicited + st.malformed, 0);
	CHECK_EQ_INT(run(SYN_TO("198.51.100.66"), NULL), PW_DROP);
	down();
}

/* pw_learned full: a new address is not learned (the map is a plain hash,
 * so no record is evicted to leave its trie entries with nothing to expire
 * them); addresses already held renew. */
TEST(full_learned_map_learns_nothing_new_evicts_nothing)
{
	const char *names[] = { "pop4-ccans.mycontactcenter.net" };
	struct msg a;

	REQUIRE(up_names(names, 1) == 0);
	ask(names[0]);
	answer_a(&a, names[0], "203.0.113.10", 30);
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	/* fill the rest with records of another name */
	struct pw_learned_key k = { .name_hash = 1, .fam = PW_FAM_V6 };
	struct pw_learned_val v = { .expires_ns = pw_mono_ns() + 3600ull * 1000000000ull,
				     .source = PW_LEARNED_ANSWER };
	for (uint32_t i = 1; i < PW_LEARNED_CAPACITY; i++) {
		memcpy(k.addr, &i, sizeof(i));
		REQUIRE(bpf_map_update_elem(E.dp.learned_fd, &k, &v, BPF_NOEXIST) == 0);
	}
	ask(names[0]);
	answer_a(&a, names[0], "203.0.113.11", 30);
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	struct pw_dns_stats st = dns();
	CHECK_EQ_INT(st.full, 1);
	CHECK_EQ_INT(st.learned, 1);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.11"), NULL), PW_DROP);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.10"), NULL), PW_PASS);
	ask(names[0]);
	answer_a(&a, names[0], "203.0.113.10", 30);
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	CHECK_EQ_INT(dns().refreshed, 1);
	/* the first address is still held: its record was not evicted */
	CHECK_EQ_INT(pw_dp_dns_expire(&E.dp, 0, &E.c, pw_mono_ns() + 31ull * 1000000000ull, 0, NULL), 1);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.10"), NULL), PW_DROP);
	down();
}

/* One answer writes at most PW_DNS_WRITES_MAX (128) trie entries, which
 * bounds its time in softirq. A name of 8 rules answered with 32
 * addresses needs 256: 16 addresses are learned, 16 are held as partial,
 * and the next answer writes those. */
TEST(one_answer_writes_at_most_128_entries_the_next_finishes)
{
	const char *name = "smtp.office365.com";
	char text[2048], err[256], addr[32];
	size_t at = (size_t)snprintf(text, sizeof(text), "%s", HEAD);
	struct pw_ip res = resolver();
	struct msg a;

	for (int r = 0; r < 8; r++)
		at += (size_t)snprintf(text + at, sizeof(text) - at, "allow out tcp port %d to %s\n", 4401 + r, name);
	REQUIRE(up_with("t.policy", text, 0, NULL) == 0);
	REQUIRE(pw_dp_write_policy_names(&E.dp, 0, &E.c, &res, 1, err, sizeof(err)) == 0);
	REQUIRE(E.c.nnames == 1 && E.c.names[0].ntargets == 8);
	header(&a, 0x1234, 0x8180, 1, 32);
	question(&a, name, 1);
	for (int i = 0; i < 32; i++) {
		snprintf(addr, sizeof(addr), "203.0.113.%d", 100 + i);
		rr_a(&a, addr, 30);
	}
	ask(name);
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	struct pw_dns_stats st = dns();
	CHECK_EQ_INT(st.learned, 16);
	CHECK_EQ_INT(st.full, 16);
	CHECK_EQ_INT(run("out tcp " HOST ":41000 203.0.113.115:4408 syn", NULL), PW_PASS);
	CHECK_EQ_INT(run("out tcp " HOST ":41000 203.0.113.116:4401 syn", NULL), PW_DROP);
	ask(name);
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	st = dns();
	CHECK_EQ_INT(st.learned, 32);
	CHECK_EQ_INT(st.refreshed, 16);
	CHECK_EQ_INT(st.full, 16);
	CHECK_EQ_INT(run("out tcp " HOST ":41000 203.0.113.116:4401 syn", NULL), PW_PASS);
	CHECK_EQ_INT(run("out tcp " HOST ":41000 203.0.113.131:4408 syn", NULL), PW_PASS);
	/* all 32 expire together: 8 entries each leave the trie */
	CHECK_EQ_INT(pw_dp_dns_expire(&E.dp, 0, &E.c, pw_mono_ns() + 31ull * 1000000000ull, 0, NULL), 32);
	CHECK_EQ_INT(run("out tcp " HOST ":41001 203.0.113.131:4408 syn", NULL), PW_DROP);
	down();
}

/* Whose queries teach (docs/dns.md, "Whose queries teach"). A
 * BPF_PROG_TEST_RUN of a tc program runs on an skb with the kernel's dummy
 * socket (sock_init_data without a struct socket), whose uid is 0: test
 * runs are root's queries. */
TEST(queries_of_users_not_in_dns_users_teach_nothing)
{
	const char *names[] = { "login.microsoftonline.com" };
	struct msg q, a;

	E.want_l3 = true;	/* its queries and answers come "link l3" too */

	/* a spoof on the query of a user not trusted (root is not listed) */
	REQUIRE(up_policy_names(HEAD "dns-users nobody, 1000\n", names, 1) == 0);
	query(&q, 0x1234, names[0]);
	CHECK_EQ_INT(run(Q_OUT, &q), PW_PASS);	/* the rules let it out as before */
	struct pw_dns_stats st = dns();
	CHECK_EQ_INT(st.queries, 0);
	CHECK_EQ_INT(st.untrusted, 1);
	answer_a(&a, names[0], "203.0.113.66", 3600);
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);	/* the flow's reply passes, */
	st = dns();
	CHECK_EQ_INT(st.unsolicited, 1);	/* and teaches nothing */
	CHECK_EQ_INT(st.learned, 0);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.66"), NULL), PW_DROP);
	/* the program of devices without a link-layer header alike */
	CHECK_EQ_INT(run(Q_OUT " link l3", &q), PW_PASS);
	CHECK_EQ_INT(dns().queries, 0);
	CHECK_EQ_INT(dns().untrusted, 2);
	/* a query about another name is not counted: only the policy's */
	query(&q, 0x1235, "www.example.com");
	CHECK_EQ_INT(run(Q_OUT, &q), PW_PASS);
	CHECK_EQ_INT(dns().untrusted, 2);
	down();
	/* the same with root listed: recorded, and the answer teaches */
	REQUIRE(up_policy_names(HEAD "dns-users root\n", names, 1) == 0);
	query(&q, 0x1234, names[0]);
	CHECK_EQ_INT(run(Q_OUT " link l3", &q), PW_PASS);
	CHECK_EQ_INT(dns().queries, 1);
	CHECK_EQ_INT(dns().untrusted, 0);
	CHECK_EQ_INT(run(A_IN " link l3", &a), PW_PASS);
	CHECK_EQ_INT(dns().learned, 1);
	CHECK_EQ_INT(run(SYN_TO("203.0.113.66"), NULL), PW_PASS);
	down();
}

TEST(dns_users_any_records_every_sender)
{
	const char *names[] = { "login.microsoftonline.com" };
	struct msg a;

	REQUIRE(up_policy_names(HEAD "dns-users any\n", names, 1) == 0);
	CHECK_EQ_INT(E.c.dns_trust, PW_DNS_TRUST_ANY);
	ask(names[0]);
	CHECK_EQ_INT(dns().queries, 1);
	answer_a(&a, names[0], "203.0.113.66", 3600);
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	CHECK_EQ_INT(dns().learned, 1);
	down();
}

/* The users are the half's: a reload that trusts root takes effect with
 * the flip, and the half not in force trusts no one it lists. */
TEST(dns_users_follow_the_half_in_force)
{
	const char *names[] = { "login.microsoftonline.com" };
	struct pw_policy pol = { 0 };
	struct pw_compiled c = { 0 };
	struct pw_diag d = { 0 };
	struct pw_ip res = resolver();
	char text[1024], err[256];

	REQUIRE(up_policy_names(HEAD "dns-users 1000\n", names, 1) == 0);
	policy_text(text, sizeof(text), HEAD "dns-users root\n", names, 1);
	REQUIRE(pw_policy_parse_text("t2.policy", text, strlen(text), &pol, &d) == 0);
	REQUIRE(pw_compile(&pol, &c, &d) == 0);
	REQUIRE(pw_dp_write_half(&E.dp, 1, &c, &E.cfg, err, sizeof(err)) == 0);
	REQUIRE(pw_dp_write_policy_names(&E.dp, 1, &c, &res, 1, err, sizeof(err)) == 0);
	ask(names[0]);	/* half 0 in force: root is not trusted there */
	CHECK_EQ_INT(dns().queries, 0);
	CHECK_EQ_INT(dns().untrusted, 1);
	REQUIRE(pw_dp_activate(&E.dp, 1, 2) == 0);
	ask(names[0]);
	CHECK_EQ_INT(dns().queries, 1);
	/* rewriting half 0 with the default (root) replaces its 1000 */
	REQUIRE(pw_dp_write_policy_names(&E.dp, 0, &c, &res, 1, err, sizeof(err)) == 0);
	struct pw_dns_user_key k = { .uid = 1000, .half = 0 };
	uint32_t one;
	CHECK(bpf_map_lookup_elem(E.dp.dns_users_fd, &k, &one) != 0);
	k.uid = 0;
	CHECK(bpf_map_lookup_elem(E.dp.dns_users_fd, &k, &one) == 0);
	pw_compiled_free(&c);
	pw_policy_free(&pol);
	pw_diag_free(&d);
	down();
}

/* One malformed answer: counted, nothing learned, the packet passes. */
static void malformed(const struct msg *a, const char *what)
{
	struct pw_dns_stats before = dns();
	ask("pop0-ccans.mycontactcenter.net");
	int v = run(A_IN, a);
	struct pw_dns_stats after = dns();
	if (v != PW_PASS || after.learned != before.learned || after.malformed + after.truncated +
	    after.mismatched != before.malformed + before.truncated + before.mismatched + 1)
		FAILF("%s: verdict %d, learned %llu -> %llu, malformed %llu -> %llu, truncated %llu", what, v,
		      (unsigned long long)before.learned, (unsigned long long)after.learned,
		      (unsigned long long)before.malformed, (unsigned long long)after.malformed,
		      (unsigned long long)after.truncated);
}

TEST(malformed_answers_teach_nothing)
{
	const char *names[] = { "pop0-ccans.mycontactcenter.net" };
	const char *q = "pop0-ccans.mycontactcenter.net";
	struct msg a;

	REQUIRE(up_names(names, 1) == 0);
	/* a record whose name points at itself (a loop) after a good one */
	header(&a, 0x1234, 0x8180, 1, 2);
	question(&a, q, 1);
	rr_a(&a, "203.0.113.40", 30);
	size_t at = a.n;
	rr_a(&a, "203.0.113.41", 30);
	a.b[at] = 0x3f;	/* a label of 63 running past the end */
	malformed(&a, "label past the end");
	/* a pointer past the end: records read as names that never end */
	header(&a, 0x1234, 0x8180, 1, 1);
	question(&a, q, 1);
	at = a.n;
	rr_a(&a, "203.0.113.42", 30);
	a.n = at + 1;
	malformed(&a, "record cut short");
	/* the answer count lies */
	header(&a, 0x1234, 0x8180, 1, 5);
	question(&a, q, 1);
	rr_a(&a, "203.0.113.43", 30);
	malformed(&a, "answer count lies");
	/* rdlength past the end */
	answer_a(&a, q, "203.0.113.44", 30);
	a.b[a.n - 5] = 0x40;
	malformed(&a, "rdlength past the end");
	/* a compression pointer in the question */
	header(&a, 0x1234, 0x8180, 1, 1);
	put16(&a, 0xc00c);
	put16(&a, 1);
	put16(&a, 1);
	rr_a(&a, "203.0.113.45", 30);
	malformed(&a, "pointer in the question");
	/* truncated (TC) */
	header(&a, 0x1234, 0x8380, 1, 1);
	question(&a, q, 1);
	rr_a(&a, "203.0.113.46", 30);
	malformed(&a, "truncated");
	CHECK(dns().truncated >= 1);
	CHECK_EQ_INT(dns().learned, 0);
	for (int i = 40; i <= 46; i++) {
		char w[80];
		snprintf(w, sizeof(w), "out tcp " HOST ":41000 203.0.113.%d:443 syn", i);
		CHECK_EQ_INT(run(w, NULL), PW_DROP);
	}
	down();
}

/* ---- the shipped policies' names ------------------------------------------ */

static int up_shipped(const char *path)
{
	char err[256];
	struct pw_ip res = resolver();

	if (up_with(path, NULL, 0, NULL))
		return -1;
	if (pw_dp_write_policy_names(&E.dp, 0, &E.c, &res, 1, err, sizeof(err))) {
		fprintf(stderr, "    %s\n", err);
		return -1;
	}
	return 0;
}

static int syn(const char *addr, unsigned port)
{
	char w[96];

	snprintf(w, sizeof(w), "out tcp " HOST ":41000 %s:%u syn", addr, port);
	return run(w, NULL);
}

/* engage-client.policy (kiosk-strict) as the NEC guide lists it: a ccans
 * name on 443 only, a ccaws name on 80 and 443, XMPP to the domain; what
 * no answer gave drops. */
TEST(shipped_engage_client_learns_the_guide_names_on_their_ports)
{
	struct msg a;

	REQUIRE(up_shipped("policies/engage-client.policy") == 0);
	ask("pop1-ccans.mycontactcenter.net");
	answer_a(&a, "pop1-ccans.mycontactcenter.net", "203.0.113.10", 300);
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	ask("pop6-ccaws.mycontactcenter.net");
	answer_a(&a, "pop6-ccaws.mycontactcenter.net", "203.0.113.20", 300);
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	ask("pop2-ccaws.mycontactcenter.net");	/* not in the guide: under the wildcard only */
	answer_a(&a, "pop2-ccaws.mycontactcenter.net", "203.0.113.30", 300);
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	CHECK_EQ_INT(syn("203.0.113.10", 443), PW_PASS);
	CHECK_EQ_INT(syn("203.0.113.10", 80), PW_DROP);
	CHECK_EQ_INT(syn("203.0.113.10", 5222), PW_PASS);
	CHECK_EQ_INT(syn("203.0.113.20", 80), PW_PASS);
	CHECK_EQ_INT(syn("203.0.113.20", 443), PW_PASS);
	CHECK_EQ_INT(syn("203.0.113.20", 8443), PW_DROP);
	CHECK_EQ_INT(syn("203.0.113.30", 5222), PW_PASS);
	CHECK_EQ_INT(syn("203.0.113.30", 443), PW_DROP);
	CHECK_EQ_INT(syn("203.0.113.11", 443), PW_DROP);	/* never answered */
	CHECK_EQ_INT(syn("203.0.113.11", 5222), PW_DROP);
	down();
}

/* ccp.policy's Microsoft 365 names: each on the ports the guide's rows
 * give it; the operator's mail server by its set. */
TEST(shipped_ccp_learns_office365_on_the_mail_ports)
{
	struct msg a;

	REQUIRE(up_shipped("policies/ccp.policy") == 0);
	CHECK_EQ_INT(syn("203.0.113.40", 587), PW_DROP);
	ask("smtp.office365.com");
	answer_a(&a, "smtp.office365.com", "203.0.113.40", 300);
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	ask("outlook.office365.com");
	answer_a(&a, "outlook.office365.com", "203.0.113.41", 300);
	CHECK_EQ_INT(run(A_IN, &a), PW_PASS);
	CHECK_EQ_INT(dns().learned, 2);
	CHECK_EQ_INT(syn("203.0.113.40", 587), PW_PASS);
	CHECK_EQ_INT(syn("203.0.113.40", 25), PW_PASS);
	CHECK_EQ_INT(syn("203.0.113.40", 993), PW_DROP);
	CHECK_EQ_INT(syn("203.0.113.41", 993), PW_PASS);
	CHECK_EQ_INT(syn("203.0.113.41", 587), PW_DROP);
	CHECK_EQ_INT(syn("203.0.113.42", 993), PW_DROP);	/* never answered */
	CHECK_EQ_INT(syn("203.0.113.42", 443), PW_PASS);	/* the feeds go anywhere */
	CHECK_EQ_INT(syn("198.51.100.25", 993), PW_PASS);	/* @mail_server */
	down();
}

struct pw_test pw_tests[PW_MAX_TESTS];
int pw_ntests, pw_test_failed;

int main(int argc, char **argv)
{
	return dp_main("test_dns", argc, argv);
}
