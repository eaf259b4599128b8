/* gateway.h - a gateway file: the hosts a gateway protects, the policy
 * of each, and what happens to the traffic of hosts no line names
 * (docs/gateway.md). Parsed, and every policy it names compiled, with no
 * kernel contact. */
#ifndef PW_GATEWAY_H
#define PW_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/diag.h"
#include "policy/addr.h"
#include "policy/compile.h"
#include "policy/policy.h"

/* At most this many protected addresses, and policies, in one gateway. */
#define PW_GW_HOSTS_MAX 4096
#define PW_GW_POLICIES_MAX 32

/* One policy a gateway names, parsed and compiled; several protect lines
 * naming the same file (by real path) share it. */
struct pw_gw_policy {
	char *path;		/* as opened: the gateway file's directory + the name */
	char *real;		/* its real path, the key that merges repeats */
	struct pw_policy pol;
	struct pw_compiled c;
	size_t nhosts;		/* protected addresses that use it */
	const char *file;	/* the gateway file, and the line where */
	int line;		/* a protect line first names it */
};

/* One protected address. */
struct pw_gw_host {
	struct pw_ip ip;
	uint32_t policy;	/* index into pw_gateway.policies */
	int line, col;		/* where it stands in the gateway file */
};

struct pw_gateway {
	char *name;		/* `gateway "NAME"`, else the file's base name */
	char *file;		/* the gateway file, as given */
	uint8_t forward;	/* default forward: PW_PASS / PW_DROP */
	int forward_line;
	struct pw_gw_host *hosts;	/* sorted by (family, address) */
	size_t nhosts;
	struct pw_gw_policy *policies;	/* in the order first named */
	size_t npolicies;
	char *text;		/* the gateway file as read */
	size_t len;
};

/* Whether text is a gateway file: its first statement is `gateway`,
 * `protect` or `default forward` (none of which a policy has). */
bool pw_gateway_sniff(const char *text, size_t len);
/* The same for a regular file at path: 1 yes, 0 no (or unreadable: the
 * policy parser then says why). */
int pw_gateway_sniff_file(const char *path);

/* Parse the gateway file at path, then parse and compile every policy it
 * names (relative to its directory), with o's StrictModes (o->streams is
 * ignored: a gateway is a regular file). 0, or -1 with every error in d
 * (FILE:LINE:COL of the gateway file, or of a policy's own line). On
 * error *gw is freed and zeroed. */
int pw_gateway_parse_file(const char *path, const struct pw_parse_opts *o, struct pw_gateway *gw,
			  struct pw_diag *d);
/* The same from text; name stands for the file (policies are relative to
 * its directory). */
int pw_gateway_parse_text(const char *name, const char *text, size_t len, const struct pw_parse_opts *o,
			  struct pw_gateway *gw, struct pw_diag *d);
void pw_gateway_free(struct pw_gateway *gw);

/* The protected host with address (fam, addr), or NULL. */
const struct pw_gw_host *pw_gateway_find(const struct pw_gateway *gw, uint8_t fam, const uint8_t addr[16]);

#endif
