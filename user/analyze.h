/* analyze.h - warnings about a valid policy (never fatal unless --strict). */
#ifndef PW_ANALYZE_H
#define PW_ANALYZE_H

#include "compile.h"
#include "policy.h"

/* Append every warning to d: shadowed allow rules, duplicates, denies of
 * ICMPv6 neighbor discovery, and (from $SSH_CONNECTION) a lockout of the
 * SSH session in use. Returns 0, or -1 (out of memory) with d->error set. */
int pw_analyze(const struct pw_policy *pol, const struct pw_compiled *c, struct pw_diag *d);

/* The lockout check alone, for an SSH_CONNECTION value
 * ("CLIENT_IP CLIENT_PORT SERVER_IP SERVER_PORT"); NULL or unreadable: no-op. */
int pw_ssh_check(const struct pw_policy *pol, const struct pw_compiled *c, const char *ssh_conn,
		 struct pw_diag *d);

#endif
