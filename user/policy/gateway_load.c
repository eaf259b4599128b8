/* gateway_load.c - a protect line: its addresses (hosts only, each
 * protected once) and its policy, parsed and compiled relative to the
 * gateway file's directory; lookups and freeing of struct pw_gateway. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/closest.h"
#include "policy/gateway_int.h"
#include "policy/hostname.h"
#include "portwall.h"

static int oom(struct gw_parser *p, const struct gw_tok *t)
{
	p->oom = true;
	return pw_gw_err(p, t, "out of memory");
}

/* Why an address cannot be a protected host, or NULL. */
static const char *not_a_host(const struct pw_ip *ip)
{
	static const uint8_t zero[16], mapped[12] = { [10] = 0xff, [11] = 0xff };
	const uint8_t *a = ip->addr;

	if (ip->fam == PW_FAM_V4) {
		if (!memcmp(a, zero, 4))
			return "the unspecified address";
		if (a[0] == 127)
			return "a loopback address (never forwarded)";
		if (a[0] >= 224 && a[0] <= 239)
			return "a multicast group, not a host";
		if (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255)
			return "the broadcast address, not a host";
		return NULL;
	}
	if (!memcmp(a, zero, 16))
		return "the unspecified address";
	if (!memcmp(a, zero, 15) && a[15] == 1)
		return "the loopback address (never forwarded)";
	if (a[0] == 0xff)
		return "a multicast group, not a host";
	if (!memcmp(a, mapped, 12))
		return "an IPv4-mapped address (never on the wire: write the IPv4 address)";
	return NULL;
}

/* One address item of a protect line into *ip. */
static int host_item(struct gw_parser *p, const struct gw_tok *t, struct pw_ip *ip)
{
	struct pw_prefix x;
	char name[PW_HOSTNAME_MAX + 1], why[400];
	size_t at;
	bool wild;

	if (t->type != GW_WORD)
		return pw_gw_err(p, t, "expected an IPv4 or IPv6 address, got \"%s\"", t->s);
	enum pw_addr_err e = pw_prefix_parse(t->s, &x);
	if (e == PW_ADDR_OK && x.len == pw_fam_bits(x.fam)) {
		ip->fam = x.fam;
		memcpy(ip->addr, x.addr, 16);
		const char *no = not_a_host(ip);
		return no ? pw_gw_err(p, t, "%s is %s: protect names the hosts a gateway forwards to", t->s, no) : 0;
	}
	if (e == PW_ADDR_OK || e == PW_ADDR_HOSTBITS)
		return pw_gw_err(p, t, "protect names hosts, not networks: \"%s\" is a prefix; list each "
				 "appliance's address (a packet is judged by the policy of the host it goes to "
				 "or comes from)", t->s);
	if (e == PW_ADDR_BADLEN)
		return pw_gw_err(p, t, "bad prefix length in \"%s\"; protect takes plain addresses", t->s);
	if (pw_hostname_parse(t->s, name, &wild, &at, why, sizeof(why)) == PW_HOST_OK)
		return pw_gw_err(p, t, "protect takes addresses, not host names: write the address of %s "
				 "(what the datapath looks up is the packet's address)", t->s);
	return pw_gw_err(p, t, "expected an IPv4 or IPv6 address, got \"%s\"", t->s);
}

/* A host protected once only: not by an earlier line. */
static int host_unique(struct gw_parser *p, const struct gw_tok *t, const struct pw_ip *ip)
{
	for (size_t i = 0; i < p->gw->nhosts; i++) {
		const struct pw_gw_host *h = &p->gw->hosts[i];
		if (h->ip.fam == ip->fam && !memcmp(h->ip.addr, ip->addr, 16))
			return pw_gw_err(p, t, "%s is already protected at line %d (by %s): a host has one "
					 "policy; drop it from one of the lines", t->s, h->line,
					 p->gw->policies[h->policy].path);
	}
	return 0;
}

static int add_host(struct gw_parser *p, const struct gw_tok *t, const struct pw_ip *ip, uint32_t policy)
{
	struct pw_gateway *gw = p->gw;

	if (gw->nhosts >= PW_GW_HOSTS_MAX)
		return pw_gw_err(p, t, "more than %d protected addresses; split the gateway", PW_GW_HOSTS_MAX);
	if (gw->nhosts == p->hosts_cap) {
		size_t c = p->hosts_cap ? p->hosts_cap * 2 : 16;
		struct pw_gw_host *n = realloc(gw->hosts, c * sizeof(*n));
		if (!n)
			return oom(p, t);
		gw->hosts = n;
		p->hosts_cap = c;
	}
	gw->hosts[gw->nhosts++] = (struct pw_gw_host){ .ip = *ip, .policy = policy, .line = t->line,
						       .col = t->col };
	return 0;
}

/* "; did you mean \"NAME\"?" for the file in path's directory closest to
 * its base name, written as the gateway wrote it; else "". */
static const char *file_hint(const char *path, const char *written, char *buf, size_t n)
{
	const char *slash = strrchr(path, '/'), *ws = strrchr(written, '/');
	char dir[PATH_MAX], *names[512];
	size_t nn = 0;
	struct pw_closest sg;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) + (slash == path) : 1, slash ? path : ".");
	DIR *dh = opendir(dir);
	if (!dh)
		return "";
	pw_closest_init(&sg, slash ? slash + 1 : path);
	for (struct dirent *de; nn < 512 && (de = readdir(dh));) {
		if (de->d_name[0] == '.' || !(names[nn] = strdup(de->d_name)))
			continue;
		pw_closest_try(&sg, names[nn++]);
	}
	closedir(dh);
	const char *best = pw_closest_best(&sg);
	if (best)
		snprintf(buf, n, "; did you mean \"%.*s%s\"?", ws ? (int)(ws - written + 1) : 0, written, best);
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
	return best ? buf : "";
}

/* The file a protect line names, relative to the gateway file's directory. */
static void policy_path(const char *gwfile, const char *name, char *out, size_t n)
{
	const char *slash = strrchr(gwfile, '/');

	if (name[0] == '/' || !slash)
		snprintf(out, n, "%s", name);
	else
		snprintf(out, n, "%.*s/%s", (int)(slash - gwfile), gwfile, name);
}

/* Parse and compile the policy into pp; its errors go to d as its own
 * FILE:LINE:COL, and one more at the protect line says who named it. */
static int compile_policy(struct gw_parser *p, const struct gw_tok *t, struct pw_gw_policy *pp)
{
	const struct pw_parse_opts po = { .files = p->files };
	size_t before = pw_diag_count(p->d);

	if (pw_policy_parse_file_opts(pp->path, &po, &pp->pol, p->d) == 0 && pw_compile(&pp->pol, &pp->c, p->d) == 0)
		return 0;
	pw_policy_free(&pp->pol);
	size_t errs = pw_diag_count(p->d) - before;
	return pw_gw_err(p, t, "the policy %s named here is not valid (%zu error%s above)", pp->path, errs,
			 errs == 1 ? "" : "s");
}

/* The index of the policy at path (loaded once per real path), or -1. */
static int find_or_load(struct gw_parser *p, const struct gw_tok *t, const char *path)
{
	struct pw_gateway *gw = p->gw;
	char real[PATH_MAX], h[PATH_MAX + 40];
	struct stat sb;

	if (stat(path, &sb))
		return pw_gw_err(p, t, "cannot read policy %s: %s%s", path, strerror(errno),
				 errno == ENOENT ? file_hint(path, t->s, h, sizeof(h)) : "");
	if (!realpath(path, real))
		snprintf(real, sizeof(real), "%s", path);
	for (size_t i = 0; i < gw->npolicies; i++)
		if (!strcmp(gw->policies[i].real, real))
			return gw->policies[i].pol.nfiles ? (int)i : -1;	/* failed before: reported */
	if (gw->npolicies >= PW_GW_POLICIES_MAX)
		return pw_gw_err(p, t, "more than %d policies; share policies between hosts", PW_GW_POLICIES_MAX);
	if (gw->npolicies == p->policies_cap) {
		size_t c = p->policies_cap ? p->policies_cap * 2 : 8;
		struct pw_gw_policy *n = realloc(gw->policies, c * sizeof(*n));
		if (!n)
			return oom(p, t);
		gw->policies = n;
		p->policies_cap = c;
	}
	struct pw_gw_policy *pp = &gw->policies[gw->npolicies++];
	memset(pp, 0, sizeof(*pp));
	pp->path = strdup(path);
	pp->real = strdup(real);
	pp->file = gw->file;
	pp->line = t->line;
	if (!pp->path || !pp->real)
		return oom(p, t);
	return compile_policy(p, t, pp) ? -1 : (int)(gw->npolicies - 1);
}

/* The addresses of a protect line, up to "with": ips[k] from token at[k]. */
static int host_list(struct gw_parser *p, const struct gw_stmt *st, size_t *i, struct pw_ip *ips, size_t *at,
		     size_t *n)
{
	int rc = 0;

	for (;;) {
		if (*i >= st->n || pw_gw_is_kw(st, *i, "with"))
			return pw_gw_err(p, &st->t[*i < st->n ? *i : st->n - 1], "expected an IPv4 or IPv6 address "
					 "%s", *n ? "after \",\"" : "after protect");
		struct pw_ip ip = { 0 };
		if (host_item(p, &st->t[*i], &ip) || host_unique(p, &st->t[*i], &ip))
			rc = -1;
		for (size_t k = 0; rc == 0 && k < *n; k++)
			if (ips[k].fam == ip.fam && !memcmp(ips[k].addr, ip.addr, 16))
				rc = pw_gw_err(p, &st->t[*i], "%s is listed twice on this line; drop one", st->t[*i].s);
		at[*n] = *i;
		ips[(*n)++] = ip;
		(*i)++;
		if (*i < st->n && st->t[*i].type == GW_COMMA) {
			(*i)++;
			continue;
		}
		return rc;
	}
}

/* protect ADDR[, ADDR...] with "FILE" */
int pw_gw_protect(struct gw_parser *p, const struct gw_stmt *st)
{
	char path[PATH_MAX];
	size_t i = 1, n = 0;
	struct pw_ip *ips = calloc(st->n, sizeof(*ips));
	size_t *at = calloc(st->n, sizeof(*at));

	if (!ips || !at) {
		free(ips);
		free(at);
		return oom(p, &st->t[0]);
	}
	int rc = host_list(p, st, &i, ips, at, &n);
	if (rc == 0 && i >= st->n) {
		const struct gw_tok *t = &st->t[st->n - 1];
		rc = pw_gw_err(p, t, "expected with \"FILE\" after the addresses, as in protect 198.51.100.10 "
			       "with \"ccp.policy\"");
	} else if (rc == 0 && !pw_gw_is_kw(st, i, "with")) {
		const struct gw_tok *t = &st->t[i];
		bool close = t->type == GW_WORD && pw_closest_from(t->s, (const char *const[]){ "with", NULL });
		rc = pw_gw_err(p, t, "expected with \"FILE\" or \",\" after %s, got \"%s\"%s", st->t[i - 1].s, t->s,
			       close ? "; did you mean \"with\"?" : "");
	} else if (rc == 0 && (i + 1 >= st->n || st->t[i + 1].type != GW_STR)) {
		const struct gw_tok *t = &st->t[i + 1 < st->n ? i + 1 : i];
		rc = pw_gw_err(p, t, "expected a quoted policy file after with, as in with \"ccp.policy\"");
	} else if (rc == 0 && i + 2 < st->n) {
		rc = pw_gw_err(p, &st->t[i + 2], "unexpected \"%s\" after the policy file", st->t[i + 2].s);
	}
	if (rc == 0) {
		policy_path(p->gw->file, st->t[i + 1].s, path, sizeof(path));
		int k = find_or_load(p, &st->t[i + 1], path);
		for (size_t j = 0; k >= 0 && j < n && rc == 0; j++)
			rc = add_host(p, &st->t[at[j]], &ips[j], (uint32_t)k);
		if (k >= 0)
			p->gw->policies[k].nhosts += n;
		rc = k < 0 ? -1 : rc;
	}
	free(ips);
	free(at);
	return rc;
}

static int cmp_host(const void *a, const void *b)
{
	const struct pw_gw_host *x = a, *y = b;

	if (x->ip.fam != y->ip.fam)
		return x->ip.fam < y->ip.fam ? -1 : 1;
	return memcmp(x->ip.addr, y->ip.addr, 16);
}

void pw_gw_sort(struct pw_gateway *gw)
{
	if (gw->nhosts)
		qsort(gw->hosts, gw->nhosts, sizeof(*gw->hosts), cmp_host);
}

const struct pw_gw_host *pw_gateway_find(const struct pw_gateway *gw, uint8_t fam, const uint8_t addr[16])
{
	struct pw_gw_host key = { .ip.fam = fam };

	memcpy(key.ip.addr, addr, 16);
	if (!gw->nhosts)
		return NULL;
	return bsearch(&key, gw->hosts, gw->nhosts, sizeof(key), cmp_host);
}

void pw_gateway_free(struct pw_gateway *gw)
{
	for (size_t i = 0; i < gw->npolicies; i++) {
		struct pw_gw_policy *pp = &gw->policies[i];
		pw_compiled_free(&pp->c);
		pw_policy_free(&pp->pol);
		free(pp->path);
		free(pp->real);
	}
	free(gw->policies);
	free(gw->hosts);
	free(gw->name);
	free(gw->file);
	free(gw->text);
	memset(gw, 0, sizeof(*gw));
}
