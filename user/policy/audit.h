/* audit.h - the host against a policy, no kernel contact: listeners no
 * rule lets in, in rules nothing listens behind, outbound flows only the
 * default lets out, rules that never matched. datapath/listeners.c reads
 * the sockets; cli/cmd_audit.c prints the findings. */
#ifndef PW_AUDIT_H
#define PW_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy/compile.h"
#include "policy/policy.h"
#include "portwall.h"

struct pw_listener {
	uint8_t fam, proto;	/* PW_FAM_*, 6 or 17 */
	uint8_t addr[16];	/* the local address; all zero: all addresses */
	uint16_t port;		/* host order */
	unsigned long inode;
	pid_t pid;		/* 0: no process found */
	char comm[16];
};

enum pw_finding_kind {
	PW_F_LISTENER,		/* a listener no rule lets in */
	PW_F_IDLE_RULE,		/* an in rule nothing listens behind */
	PW_F_DEFAULT_OUT,	/* a flow only `default out allow` lets out */
	PW_F_UNMATCHED,		/* a rule that never matched since apply */
	PW_F_KIND_COUNT
};

extern const char *const pw_finding_names[PW_F_KIND_COUNT];

struct pw_finding {
	uint8_t kind;		/* enum pw_finding_kind */
	const char *file;	/* the rule or default it is about */
	int line;
	uint32_t rule;		/* 0: the default */
	char text[400];		/* in words, without FILE:LINE */
};

struct pw_findings {
	struct pw_finding *v;
	size_t n, cap;
};

/* The listeners (loopback ones are never on the wire: skipped) that no
 * rule of c lets in, and the in rules' tcp/udp ports with no listener.
 * 0 or -ENOMEM. */
int pw_audit_sockets(const struct pw_policy *pol, const struct pw_compiled *c, const struct pw_listener *l,
		     size_t nl, struct pw_findings *f);
/* One tracked flow the host opened (a pw_ct or pw_ct_dgram key): a finding
 * when the out rules would not let it out and only `default out allow`
 * does (judged as explain judges). 0 or -ENOMEM. */
int pw_audit_flow(const struct pw_policy *pol, const struct pw_compiled *c, const struct pw_ct_key *k,
		  struct pw_findings *f);
/* The rules with no packet counted either way (packets[id], 1..nrules). */
int pw_audit_unmatched(const struct pw_policy *pol, const uint64_t *packets, struct pw_findings *f);
void pw_findings_free(struct pw_findings *f);

#endif
