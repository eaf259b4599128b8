/* cmds.h - the subcommands of build/portwall and what they share. */
#ifndef PW_CMDS_H
#define PW_CMDS_H

#include <stdbool.h>

#include "policy/compile.h"
#include "policy/policy.h"
#include "datapath/apply.h"

#define PW_VERSION "0.1.0"

/* Exit codes of every command. */
enum { PW_EXIT_OK = 0, PW_EXIT_FAIL = 1, PW_EXIT_USAGE = 2 };

int cmd_check(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_unload(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_rollback(int argc, char **argv);
int cmd_confirm(int argc, char **argv);
int cmd_watchdog(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_suggest(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_conntrack(int argc, char **argv);
int cmd_counters(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_allow(int argc, char **argv);

/* Parse apply's options (and run's, when run). 0, 1 after --help, -1. */
int pw_apply_parse(int argc, char **argv, struct pw_apply_opts *o, bool run);
/* Apply or hot-reload (pw_apply_tx), and print what it did. An exit code. */
int pw_apply(struct pw_apply_opts o);

/* Parse and compile a policy file; on failure print the error to stderr
 * and return -1 (nothing to free). d collects warnings either way. */
int pw_load_policy(const char *path, struct pw_policy *pol, struct pw_compiled *c,
		   struct pw_diag *d);

/* "WHAT: N established flows of revoked services ended (tcp 8443 x3); they
 * are not carried into the WHICH policy" when any (tcp_rc: reading the
 * TCP connections failed, said on stderr). */
void pw_print_revoked(const char *what, const char *which, const struct pw_revoke *r, int tcp_rc);

/* A gateway file (cmd_gateway.c, docs/gateway.md): check it and every
 * policy it names; test one packet (argv: the packet's words) or explain
 * one (argv: GATEWAY DIR PROTO SRC DST [PORT]) by the policies of its
 * protected ends, in userspace. Exit codes. */
int pw_gateway_check(const char *path, bool json, bool strict);
int pw_gateway_test(const char *path, bool json, const char *script, int argc, char **argv);
int pw_gateway_explain(int argc, char **argv, bool json);
/* apply and run of a gateway file: 1 after saying that gateway
 * enforcement is not built yet, else 0. */
int pw_gateway_refuse(const char *cmd, const char *path);
/* A command that takes a policy only (audit): 1 after saying that
 * path is a gateway file, else 0. */
int pw_gateway_policy_only(const char *cmd, const char *path);

/* Display forms of a rule's fields. */
const char *pw_dir_name(uint8_t dirs);
void pw_rule_proto_str(const struct pw_rule *r, char *buf, size_t size);
const char *pw_action_name(uint8_t action);

#endif
