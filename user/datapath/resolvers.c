/* resolvers.c - the DNS servers whose answers teach a policy's host names
 * (docs/dns.md): the policy's `resolver` statement, else the nameservers
 * of the resolv.conf that programs in the target namespace read, with
 * systemd-resolved's stub followed to its upstream servers. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "datapath/loader.h"
#include "lib/diag.h"
#include "policy/files.h"
#include "policy/resolv.h"

/* What `ip netns exec NAME` shows its programs as /etc/resolv.conf. */
static void conf_path(const char *netns, char *path, size_t n)
{
	struct stat sb;

	snprintf(path, n, "/etc/netns/%s/resolv.conf", netns ? netns : "");
	if (!netns || !*netns || strchr(netns, '/') || stat(path, &sb))
		snprintf(path, n, "/etc/resolv.conf");
}

/* The owner a resolv.conf may have besides root: systemd-resolved writes
 * its upstream file as its own user. */
static uid_t conf_owner(const char *path)
{
	const struct passwd *pw = strcmp(path, PW_RESOLVED_UPSTREAM) ? NULL : getpwnam("systemd-resolve");

	return pw ? pw->pw_uid : 0;
}

/* Read and judge a resolv.conf as a policy file is read (never blocking,
 * regular files only, StrictModes up to /): who can write it chooses
 * whose DNS answers the datapath trusts. */
static int parse_conf(const char *path, struct pw_resolv_conf *rc, char *err, size_t n)
{
	struct pw_file f;
	char msg[400];
	int e = pw_file_read(path, false, &f, msg, sizeof(msg));

	if (!e) {
		e = pw_file_trusted(path, &f, conf_owner(path), msg, sizeof(msg));
		if (!e)
			pw_resolv_conf_parse(f.text, f.len, rc);
		pw_file_free(&f);
	}
	if (e)
		return pw_errf(err, n, e, "%s, which names the DNS servers whose answers teach the policy's host "
			       "names: %s; or write `resolver ADDR` in the policy", path, msg);
	return 0;
}

int pw_policy_resolvers(const struct pw_compiled *c, const char *netns, struct pw_ip out[PW_RESOLVERS_MAX],
			size_t *nout, char *err, size_t n)
{
	char path[300];
	struct pw_resolv_conf rc;

	*nout = 0;
	if (!c->nnames)
		return 0;
	if (c->nresolvers) {
		memcpy(out, c->resolvers, c->nresolvers * sizeof(*out));
		*nout = c->nresolvers;
		return 0;
	}
	conf_path(netns, path, sizeof(path));
	if (parse_conf(path, &rc, err, n))
		return -1;
	if (rc.n && pw_ip_resolved_stub(&rc.ns[0])) {
		snprintf(path, sizeof(path), "%s", PW_RESOLVED_UPSTREAM);
		if (parse_conf(path, &rc, err, n))
			return -1;
	}
	for (size_t i = 0; i < rc.n; i++)
		if (pw_ip_loopback(&rc.ns[i]))
			return pw_errf(err, n, -EINVAL, "%s names a DNS server on this host (a local cache): its answers "
				       "never cross a protected interface, and portwall cannot know whom it asks; "
				       "write `resolver ADDR` with its upstream servers in the policy", path);
	if (!rc.n)
		return pw_errf(err, n, -ENOENT, "%s names no DNS server for the policy's host names; write "
			       "`resolver ADDR` in the policy", path);
	memcpy(out, rc.ns, rc.n * sizeof(*out));
	*nout = rc.n;
	return 0;
}
