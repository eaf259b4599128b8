/* common.c - what the subcommands share: loading a policy, display names. */
#include <stdio.h>
#include <string.h>

#include "cli/cmds.h"

int pw_load_policy(const char *path, struct pw_policy *pol, struct pw_compiled *c,
		   struct pw_diag *d)
{
	/* the file named on the command line may be a pipe (/dev/stdin) */
	const struct pw_parse_opts po = { .streams = true };

	if (pw_policy_parse_file_opts(path, &po, pol, d)) {
		pw_diag_print_errors(d, stderr);
		return -1;
	}
	if (pw_compile(pol, c, d)) {
		pw_diag_print_errors(d, stderr);
		pw_policy_free(pol);
		return -1;
	}
	return 0;
}

const char *pw_dir_name(uint8_t dirs)
{
	switch (dirs) {
	case 1 << PW_DIR_IN: return "in";
	case 1 << PW_DIR_OUT: return "out";
	default: return "both";
	}
}

const char *pw_action_name(uint8_t action)
{
	return action == PW_PASS ? "allow" : "deny";
}

void pw_rule_proto_str(const struct pw_rule *r, char *buf, size_t size)
{
	if (r->protos == (PW_P_TCP | PW_P_UDP))
		snprintf(buf, size, "tcp,udp");
	else if (r->protos == PW_P_TCP)
		snprintf(buf, size, "tcp");
	else if (r->protos == PW_P_UDP)
		snprintf(buf, size, "udp");
	else if (r->protos == PW_P_ICMP)
		snprintf(buf, size, "icmp");
	else if (r->protos == PW_P_ICMPV6)
		snprintf(buf, size, "icmpv6");
	else if (pw_proto_name(r->ip_proto))
		snprintf(buf, size, "proto %s", pw_proto_name(r->ip_proto));
	else
		snprintf(buf, size, "proto %u", r->ip_proto);
}

void pw_print_revoked(const char *what, const char *which, const struct pw_revoke *r, int tcp_rc)
{
	char svc[256];

	if (tcp_rc)
		fprintf(stderr, "portwall %s: reading the TCP connections peers made failed: %s (those of a "
			"revoked service may go on; `portwall conntrack` lists the tracked flows)\n", what,
			strerror(-tcp_rc));
	if (!r->total)
		return;
	pw_revoke_format(r, svc, sizeof(svc));
	printf("%s: %d established flow%s of revoked services ended (%s); they are not carried into the %s "
	       "policy\n", what, r->total, r->total == 1 ? "" : "s", svc, which);
}
