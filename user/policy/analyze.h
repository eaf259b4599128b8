/* analyze.h - warnings about a valid policy (never fatal unless --strict). */
#ifndef PW_ANALYZE_H
#define PW_ANALYZE_H

#include "policy/compile.h"
#include "policy/policy.h"

/* Append every warning to d: shadowed allow rules (an allow rule whose
 * peers the deny rules cover on every port it matches; ICMPv6 types 133-136
 * always pass and are left out), duplicates, denies of ICMPv6 neighbor
 * discovery, and (from $SSH_CONNECTION) a lockout of the SSH session in use.
 * Returns 0, or -1 (out of memory) with d->error set. */
int pw_analyze(const struct pw_policy *pol, const struct pw_compiled *c, struct pw_diag *d);
/* The same with the SSH session given (NULL: no lockout check, as for
 * the policy of a host behind a gateway, which never judges the
 * gateway's own session). */
int pw_analyze_ssh(const struct pw_policy *pol, const struct pw_compiled *c, const char *ssh_conn,
		   struct pw_diag *d);

/* The lockout check alone, for an SSH_CONNECTION value
 * ("CLIENT_IP CLIENT_PORT SERVER_IP SERVER_PORT"; an IPv6 zone such as
 * "fe80::5%eth0" is ignored). NULL, unreadable, or a policy in monitor mode
 * (which drops nothing): no-op. */
int pw_ssh_check(const struct pw_policy *pol, const struct pw_compiled *c, const char *ssh_conn,
		 struct pw_diag *d);
/* The same as a verdict: 1 when the policy would drop the session, with
 * what to add in why (size n); else 0. */
int pw_ssh_cut(const struct pw_policy *pol, const struct pw_compiled *c, const char *ssh_conn,
	       char *why, size_t n);

#endif
