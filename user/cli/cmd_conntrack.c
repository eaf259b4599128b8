/* cmd_conntrack.c - `portwall conntrack [--json] [--origin host|peer]`:
 * the flows the datapath tracks, one a line (like `conntrack -L`), as a
 * libsmartcols table or its JSON. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libsmartcols/libsmartcols.h>

#include "cli/cmds.h"
#include "cli/table.h"
#include "datapath/loader.h"
#include "datapath/state.h"

enum { C_PROTO, C_LOCAL, C_LPORT, C_PEER, C_PPORT, C_ORIGIN, C_STATE, C_AGE, C_EXPIRES, C_COUNT };

static const struct pw_listcol COLS[C_COUNT] = {
	[C_PROTO] = { "PROTO", 6, 0, SCOLS_JSON_STRING },
	[C_LOCAL] = { "LOCAL", 16, 0, SCOLS_JSON_STRING },
	[C_LPORT] = { "PORT", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER },
	[C_PEER] = { "PEER", 16, 0, SCOLS_JSON_STRING },
	[C_PPORT] = { "PEER-PORT", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER },
	[C_ORIGIN] = { "ORIGIN", 4, 0, SCOLS_JSON_STRING },
	[C_STATE] = { "STATE", 11, 0, SCOLS_JSON_STRING },
	[C_AGE] = { "AGE", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER },
	[C_EXPIRES] = { "EXPIRES", 7, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER },
};

/* Stable output: the host's flows first, then by protocol, local port, peer. */
static int row_cmp(const void *a, const void *b)
{
	const struct pw_ct_row *x = a, *y = b;
	uint32_t ox = pw_ct_row_origin(x), oy = pw_ct_row_origin(y);

	if (ox != oy)
		return ox == PW_DIR_OUT ? -1 : 1;
	if (x->k.proto != y->k.proto)
		return x->k.proto - y->k.proto;
	if (x->k.lport_be != y->k.lport_be)
		return ntohs(x->k.lport_be) - ntohs(y->k.lport_be);
	return memcmp(x->k.remote, y->k.remote, sizeof(x->k.remote) + 2 * sizeof(x->k.lport_be));
}

static void proto_str(const struct pw_ct_row *r, char *buf, size_t n)
{
	const char *p = r->k.proto == 6 ? "tcp" : r->k.proto == 17 ? "udp" : r->k.proto == 1 ? "icmp" :
			r->k.proto == 58 ? "icmpv6" : pw_proto_name(r->k.proto);

	if (p)
		snprintf(buf, n, "%s%s", p, r->k.kind != PW_CT_FLOW ? " echo" : "");
	else
		snprintf(buf, n, "%u", r->k.proto);
}

/* One flow's line: ports empty where the protocol has none (JSON null);
 * an echo flow's PORT is its id. */
static int fill_line(struct libscols_line *ln, const struct pw_ct_row *r)
{
	char v[C_COUNT][64];
	int af = r->k.fam == PW_FAM_V6 ? AF_INET6 : AF_INET;
	bool ports = pw_port_hdr_len(r->k.proto) || r->k.kind != PW_CT_FLOW;

	proto_str(r, v[C_PROTO], sizeof(v[C_PROTO]));
	inet_ntop(af, r->k.local, v[C_LOCAL], sizeof(v[C_LOCAL]));
	inet_ntop(af, r->k.remote, v[C_PEER], sizeof(v[C_PEER]));
	snprintf(v[C_LPORT], sizeof(v[C_LPORT]), "%s", "");
	snprintf(v[C_PPORT], sizeof(v[C_PPORT]), "%s", "");
	if (ports)
		snprintf(v[C_LPORT], sizeof(v[C_LPORT]), "%u", ntohs(r->k.lport_be));
	if (ports && r->k.kind == PW_CT_FLOW)
		snprintf(v[C_PPORT], sizeof(v[C_PPORT]), "%u", ntohs(r->k.rport_be));
	snprintf(v[C_ORIGIN], sizeof(v[C_ORIGIN]), "%s", pw_ct_row_origin(r) == PW_DIR_IN ? "peer" : "host");
	snprintf(v[C_STATE], sizeof(v[C_STATE]), "%s", pw_ct_row_state(r));
	snprintf(v[C_AGE], sizeof(v[C_AGE]), "%llu", (unsigned long long)(r->age_ns / 1000000000ull));
	uint64_t left = r->timeout_ns > r->age_ns ? r->timeout_ns - r->age_ns : 0;
	snprintf(v[C_EXPIRES], sizeof(v[C_EXPIRES]), "%llu", (unsigned long long)(left / 1000000000ull));
	for (int c = 0; c < C_COUNT; c++)
		if (v[c][0] && scols_line_set_data(ln, (size_t)c, v[c]))
			return -ENOMEM;
	return 0;
}

static int print_rows(const struct pw_ct_row *rows, size_t n, bool json, int origin)
{
	struct libscols_table *tb = pw_list_table("conntrack", COLS, C_COUNT, json);
	int rc = tb ? 0 : -ENOMEM;

	for (size_t i = 0; i < n && !rc; i++) {
		if (origin >= 0 && pw_ct_row_origin(&rows[i]) != (uint32_t)origin)
			continue;
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		rc = ln ? fill_line(ln, &rows[i]) : -ENOMEM;
	}
	if (!rc && scols_print_table(tb))
		rc = -EIO;
	scols_unref_table(tb);
	return rc;
}

static void usage(FILE *f)
{
	fputs("usage: portwall conntrack [--json] [--origin host|peer] [--pin-root DIR]\n"
	      "  The flows the datapath tracks, one a line: protocol, local address and\n"
	      "  port, peer address and port, who started it (host: the out rules let it\n"
	      "  out; peer: the in rules let it in, or a revoked flow's mark), its state,\n"
	      "  seconds since its last refresh (AGE) and until it expires (EXPIRES).\n"
	      "  TCP flows peers started are not tracked (the in rules judge each\n"
	      "  segment) unless a reload revoked them. --json: the same as JSON.\n", f);
}

/* 0 with *json, *origin (-1: both) and *root set; 1 after --help; -1 usage. */
static int parse(int argc, char **argv, bool *json, int *origin, const char **root)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' }, { "origin", required_argument, NULL, 'o' },
		{ "pin-root", required_argument, NULL, 'p' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jo:p:h", lo, NULL)) != -1) {
		if (c == 'j') {
			*json = true;
		} else if (c == 'p') {
			*root = optarg;
		} else if (c == 'o' && (!strcmp(optarg, "host") || !strcmp(optarg, "peer"))) {
			*origin = !strcmp(optarg, "host") ? PW_DIR_OUT : PW_DIR_IN;
		} else if (c == 'h') {
			usage(stdout);
			return 1;
		} else {
			if (c == 'o')
				fprintf(stderr, "portwall conntrack: --origin takes host or peer, got \"%s\"\n", optarg);
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "portwall conntrack: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return -1;
	}
	return 0;
}

int cmd_conntrack(int argc, char **argv)
{
	const char *root = PW_PIN_ROOT;
	bool json = false;
	int origin = -1, p = parse(argc, argv, &json, &origin, &root);

	if (p)
		return p > 0 ? PW_EXIT_OK : PW_EXIT_USAGE;
	if (pw_need_root("conntrack"))
		return PW_EXIT_FAIL;
	struct pw_dp dp;
	char err[600];
	if (pw_dp_open_pinned(&dp, root, err, sizeof(err))) {
		fprintf(stderr, "portwall conntrack: %s\n", err);
		return PW_EXIT_FAIL;
	}
	struct pw_ct_row *rows;
	size_t n;
	int rc = pw_dp_ct_list(&dp, &rows, &n);
	pw_dp_close(&dp);
	if (rc) {
		fprintf(stderr, "portwall conntrack: reading the conntrack tables under %s failed: %s\n", root,
			strerror(-rc));
		return PW_EXIT_FAIL;
	}
	qsort(rows, n, sizeof(*rows), row_cmp);
	rc = print_rows(rows, n, json, origin);
	free(rows);
	if (rc) {
		fprintf(stderr, "portwall conntrack: printing the table failed: %s\n", strerror(-rc));
		return PW_EXIT_FAIL;
	}
	return PW_EXIT_OK;
}
