/* test_audit.c - the judgement of `portwall audit` (policy/audit.c), from
 * text policies and made-up sockets and flows: which listeners no rule
 * lets in and at which line, which in rules nothing listens behind, which
 * flows only `default out allow` lets out, which rules never matched. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "policy/audit.h"

#define BUILT_FILE "a.policy"
#define BUILT_SAY 1
#include "built.h"

static struct pw_findings f;

static struct pw_listener lst(uint8_t proto, const char *addr, uint16_t port, int pid)
{
	struct pw_listener l = { .proto = proto, .port = port, .pid = pid, .inode = 77 };

	if (strchr(addr, ':')) {
		l.fam = PW_FAM_V6;
		inet_pton(AF_INET6, addr, l.addr);
	} else {
		inet_pton(AF_INET, addr, l.addr);
	}
	snprintf(l.comm, sizeof(l.comm), "sshd");
	return l;
}

static struct pw_ct_key flow(uint8_t proto, const char *remote, uint16_t rport)
{
	struct pw_ct_key k = { .proto = proto, .fam = PW_FAM_V4, .kind = PW_CT_FLOW,
			       .lport_be = htons(41000), .rport_be = htons(rport) };

	inet_pton(AF_INET, "192.0.2.2", k.local);
	inet_pton(AF_INET, remote, k.remote);
	return k;
}

/* "FILE:LINE: text" of finding i, "" past the end */
static const char *at(size_t i)
{
	static char buf[512];

	if (i >= f.n)
		return "";
	snprintf(buf, sizeof(buf), "%s:%d: %s", f.v[i].file, f.v[i].line, f.v[i].text);
	return buf;
}

#define POLICY "policy \"a\"\n"            /* 1 */   \
	"default in drop\n"                    /* 2 */   \
	"default out allow\n"                  /* 3 */   \
	"allow in tcp port 22\n"               /* 4 */   \
	"allow in tcp,udp port 8443, 5000-5010 from 198.51.100.0/24\n" /* 5 */ \
	"deny in tcp port 23\n"                /* 6 */   \
	"allow out tcp port 587\n"             /* 7 */

TEST(listener_no_rule_lets_in_at_the_default_line)
{
	REQUIRE(build(POLICY) == 0);
	struct pw_listener l[] = { lst(6, "0.0.0.0", 2222, 812), lst(6, "::", 22, 813),
				   lst(17, "198.51.100.1", 5005, 0), lst(6, "0.0.0.0", 23, 814) };
	pw_findings_free(&f);
	REQUIRE(pw_audit_sockets(&pol, &comp, l, 4, &f) == 0);
	CHECK_EQ_STR(at(0), "a.policy:2: sshd (pid 812) listens on tcp 2222 (all addresses): no rule lets it in "
		     "(default in drop)");
	/* 22 (any peer) and udp 5005 (some peers) are let in: not findings */
	CHECK_EQ_STR(at(1), "a.policy:6: sshd (pid 814) listens on tcp 23 (all addresses): rule 3 denies it in "
		     "(deny in tcp port 23)");
	/* rule 2: tcp 8443, udp 8443 and tcp 5000-5010 have no listener */
	CHECK_EQ_STR(at(2), "a.policy:5: allow in tcp,udp port 8443, 5000-5010 from 198.51.100.0/24: nothing "
		     "listens on tcp 5000-5010");
	CHECK_EQ_STR(at(3), "a.policy:5: allow in tcp,udp port 8443, 5000-5010 from 198.51.100.0/24: nothing "
		     "listens on tcp 8443");
	CHECK_EQ_STR(at(4), "a.policy:5: allow in tcp,udp port 8443, 5000-5010 from 198.51.100.0/24: nothing "
		     "listens on udp 8443");
	CHECK_EQ_INT(f.n, 5);
	CHECK_EQ_INT(f.v[0].kind, PW_F_LISTENER);
	CHECK_EQ_INT(f.v[2].kind, PW_F_IDLE_RULE);
	CHECK_EQ_INT(f.v[2].rule, 2);
}

TEST(loopback_listeners_are_off_the_wire)
{
	REQUIRE(build(POLICY) == 0);
	/* not judged, and they do not count as listening behind rule 1 */
	struct pw_listener l[] = { lst(6, "127.0.0.1", 2222, 9), lst(6, "::1", 22, 9), lst(6, "::ffff:127.0.0.1", 25, 9) };
	pw_findings_free(&f);
	REQUIRE(pw_audit_sockets(&pol, &comp, l, 3, &f) == 0);
	CHECK_EQ_STR(at(0), "a.policy:4: allow in tcp port 22: nothing listens on tcp 22");
	CHECK_EQ_INT(f.v[0].kind, PW_F_IDLE_RULE);
}

TEST(no_process_found_and_an_address)
{
	REQUIRE(build(POLICY) == 0);
	struct pw_listener l[] = { lst(17, "2001:db8::5", 161, 0), lst(6, "::", 22, 1) };
	pw_findings_free(&f);
	REQUIRE(pw_audit_sockets(&pol, &comp, l, 2, &f) == 0);
	CHECK_EQ_STR(at(0), "a.policy:2: a socket of no process found (inode 77) listens on udp 161 (2001:db8::5): "
		     "no rule lets it in (default in drop)");
}

TEST(default_in_allow_lets_every_listener_in)
{
	REQUIRE(build("default in allow\nallow in tcp port 22\n") == 0);
	struct pw_listener l[] = { lst(6, "0.0.0.0", 2222, 1), lst(6, "0.0.0.0", 22, 1) };
	pw_findings_free(&f);
	REQUIRE(pw_audit_sockets(&pol, &comp, l, 2, &f) == 0);
	CHECK_EQ_INT(f.n, 0);
}

TEST(flows_only_the_default_lets_out)
{
	REQUIRE(build(POLICY) == 0);
	pw_findings_free(&f);
	struct pw_ct_key k = flow(6, "198.51.100.7", 9000);
	REQUIRE(pw_audit_flow(&pol, &comp, &k, &f) == 0);
	CHECK_EQ_STR(at(0), "a.policy:3: tcp port 9000 to 198.51.100.7 from 192.0.2.2 port 41000: no out rule lets "
		     "it out, only default out allow does");
	CHECK_EQ_INT(f.v[0].kind, PW_F_DEFAULT_OUT);
	k = flow(6, "198.51.100.7", 587);	/* rule 4 lets it out */
	REQUIRE(pw_audit_flow(&pol, &comp, &k, &f) == 0);
	CHECK_EQ_INT(f.n, 1);
	k.kind = PW_CT_ECHO_OUT;
	k.proto = 1;
	REQUIRE(pw_audit_flow(&pol, &comp, &k, &f) == 0);
	CHECK_EQ_STR(at(1), "a.policy:3: icmp echo to 198.51.100.7 from 192.0.2.2: no out rule lets it out, only "
		     "default out allow does");
}

TEST(flows_under_default_out_drop_or_built_in)
{
	REQUIRE(build("default out drop\ndeny out udp port 53\n") == 0);
	pw_findings_free(&f);
	struct pw_ct_key k = flow(6, "198.51.100.7", 9000);
	REQUIRE(pw_audit_flow(&pol, &comp, &k, &f) == 0);
	CHECK_EQ_INT(f.n, 0);	/* dropped: it could only be a flow adopted or older */
	REQUIRE(build("allow out tcp port 587\n") == 0);	/* the built-in default out allow */
	REQUIRE(pw_audit_flow(&pol, &comp, &k, &f) == 0);
	CHECK_EQ_STR(at(0), "a.policy:0: tcp port 9000 to 198.51.100.7 from 192.0.2.2 port 41000: no out rule lets "
		     "it out, only default out allow, built in does");
}

TEST(rules_never_matched)
{
	REQUIRE(build(POLICY) == 0);
	uint64_t pk[5] = { 100, 3, 0, 0, 9 };
	pw_findings_free(&f);
	REQUIRE(pw_audit_unmatched(&pol, pk, &f) == 0);
	CHECK_EQ_INT(f.n, 2);
	CHECK_EQ_STR(at(0), "a.policy:5: allow in tcp,udp port 8443, 5000-5010 from 198.51.100.0/24: never matched "
		     "since apply");
	CHECK_EQ_STR(at(1), "a.policy:6: deny in tcp port 23: never matched since apply");
	pw_findings_free(&f);
	pw_compiled_free(&comp);
	pw_policy_free(&pol);
	pw_diag_free(&diag);
}

PW_TEST_MAIN()
