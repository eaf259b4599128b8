/* cmd_check.c - `portwall check POLICY [--json] [--strict]`: parse, compile,
 * show the rules, classes, map sizes, warnings and the content hash. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "policy/analyze.h"
#include "cli/cmds.h"
#include "datapath/mapmem.h"
#include "lib/json.h"
#include "lib/sha256.h"
#include "policy/gateway.h"

static void usage(FILE *f)
{
	fputs("usage: portwall check POLICY|GATEWAY [--json] [--strict]\n"
	      "  Parse and compile POLICY; print its rules, peer classes, map sizes,\n"
	      "  warnings and content hash. Exit 0 valid, 1 invalid (or a warning\n"
	      "  with --strict), 2 usage.\n"
	      "  A GATEWAY file (its first statement gateway, protect or default\n"
	      "  forward; docs/gateway.md): every policy it names, a line per\n"
	      "  protected host and per policy.\n"
	      "  --json    one JSON object instead of the table\n"
	      "  --strict  treat warnings as errors\n", f);
}

/* What the kernel charges for the maps (bpftool's memlock) on this host's
 * CPUs, with the default conntrack capacity. */
struct sizes {
	size_t slot_entry, slot_bytes, peer_entry, peer_bytes;
	struct pw_mapmem mem;
};

static struct sizes map_sizes(const struct pw_compiled *c)
{
	struct sizes z;
	int ncpus = libbpf_num_possible_cpus();

	pw_mapmem(c, ncpus > 0 ? ncpus : 1, 0, &z.mem);
	z.slot_entry = (sizeof(struct pw_slot) + 7) & ~(size_t)7;	/* array elements are 8-aligned */
	z.slot_bytes = (size_t)PW_SLOT_COUNT * z.slot_entry;	/* one half */
	z.peer_entry = (size_t)z.mem.trie_entry;
	z.peer_bytes = c->npeers * z.peer_entry;	/* one half's trie */
	return z;
}

static double mib(uint64_t b)
{
	return (double)b / (1024.0 * 1024.0);
}

/* The peer classes of the compiled tables, as the compiler made them. */
struct classes {
	size_t ndeny, nallow, deny_entries, allow_entries;
};

static void classes_of(const struct pw_compiled *c, struct classes *k)
{
	memset(k, 0, sizeof(*k));
	uint32_t seen = 0;	/* shapes come in class order: a shape's entries count once */

	for (uint32_t i = 0; i < c->nclasses; i++) {
		size_t e = c->classes[i].shape > seen ? c->classes[i].entries : 0;
		if (c->classes[i].shape > seen)
			seen = c->classes[i].shape;
		if (c->classes[i].action == PW_DROP) {
			k->ndeny++;
			k->deny_entries += e;
		} else {
			k->nallow++;
			k->allow_entries += e;
		}
	}
}

static const char *class_kind(const struct pw_class *ci)
{
	return ci->action == PW_DROP ? "deny" : "allow";
}

/* Rule ids as "1, 3-5, 9". */
static void print_rule_ids(FILE *f, const uint32_t *r, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && r[j + 1] == r[j] + 1)
			j++;
		fprintf(f, "%s%u", i ? ", " : "", r[i]);
		if (j > i)
			fprintf(f, "-%u", r[j]);
		i = j + 1;
	}
}

static void print_classes(const struct pw_compiled *c, const struct classes *k)
{
	if (c->nclasses == 0) {
		printf("classes: none\n");
		return;
	}
	printf("%5s  %-5s  %5s  %7s  %s\n", "CLASS", "KIND", "SHAPE", "ENTRIES", "RULES");
	for (uint32_t i = 0; i < c->nclasses; i++) {
		const struct pw_class *ci = &c->classes[i];
		printf("%5u  %-5s  %5u  %7zu  ", i + 1, class_kind(ci), ci->shape, ci->entries);
		print_rule_ids(stdout, ci->rules, ci->nrules);
		printf("\n");
	}
	printf("classes: %zu deny (%zu trie entr%s), %zu allow (%zu trie entr%s)\n", k->ndeny,
	       k->deny_entries, k->deny_entries == 1 ? "y" : "ies", k->nallow, k->allow_entries,
	       k->allow_entries == 1 ? "y" : "ies");
}

/* "1:3, 2:4": each target as shape:rank */
static void print_targets(const struct pw_cname *x)
{
	if (!x->ntargets)
		printf("none");
	for (unsigned k = 0; k < x->ntargets; k++)
		printf("%s%u:%u", k ? ", " : "", x->t[k].shape, x->t[k].rank);
}

static void print_ip(FILE *f, const struct pw_ip *ip)
{
	struct pw_prefix p = { .fam = ip->fam, .len = (uint8_t)pw_fam_bits(ip->fam) };
	char a[64];

	memcpy(p.addr, ip->addr, 16);
	pw_prefix_format(&p, a, sizeof(a), true);
	fputs(a, f);
}

/* The host names, the class shapes each feeds (shape:rank) and the resolvers. */
static void print_names(const struct pw_compiled *c)
{
	int w = 4;

	if (!c->nnames && !c->nresolvers)
		return;
	for (size_t i = 0; i < c->nnames; i++)
		if ((int)strlen(c->names[i].text) > w)
			w = (int)strlen(c->names[i].text);
	if (c->nnames)
		printf("%-*s  %-12s %s\n", w, "NAME", "RULES", "TARGETS (SHAPE:RANK)");
	for (size_t i = 0; i < c->nnames; i++) {
		const struct pw_cname *x = &c->names[i];
		printf("%-*s  ", w, x->text);
		char ids[64] = "";
		FILE *m = fmemopen(ids, sizeof(ids) - 1, "w");
		if (m) {
			print_rule_ids(m, x->rules, x->nrules);
			fclose(m);
		}
		printf("%-12s ", ids);
		print_targets(x);
		printf("\n");
	}
	printf("names: %zu; resolvers: ", c->nnames);
	if (!c->nresolvers)
		printf("none given, the nameservers of /etc/resolv.conf at apply");
	for (size_t i = 0; i < c->nresolvers; i++) {
		printf("%s", i ? ", " : "");
		print_ip(stdout, &c->resolvers[i]);
	}
	printf("\n");
	if (!c->nnames)
		return;
	char users[1024];
	pw_dns_users_text(c, users, sizeof(users));
	printf("dns users: %s%s\n", users, c->dns_trust == PW_DNS_TRUST_DEFAULT ?
	       " (the default; dns-users lists whose queries teach)" : "");
}

static void print_warning(FILE *f, const struct pw_warning *w)
{
	if (w->line > 0)
		fprintf(f, "%s:%d: warning: %s\n", w->file, w->line, w->msg);
	else
		fprintf(f, "%s: warning: %s\n", w->file, w->msg);
}

static void print_text(const char *path, const struct pw_policy *pol, const struct pw_compiled *c,
		       const struct classes *k, const struct pw_diag *d, const char *hash)
{
	struct sizes sz = map_sizes(c);
	char proto[32], loc[300];
	int locw = 4;

	for (size_t i = 0; i < pol->nrules; i++) {
		int n = snprintf(loc, sizeof(loc), "%s:%d", pol->rules[i].file, pol->rules[i].line);
		if (n > locw)
			locw = n;
	}
	printf("policy \"%s\" (%s", pol->name, path);
	if (pol->nfiles > 1)
		printf(", %zu files", pol->nfiles);
	printf(")\nmode %s, default in %s, default out %s\n\n",
	       pol->mode == PW_MODE_MONITOR ? "monitor" : "enforce",
	       pol->dflt[PW_DIR_IN] == PW_PASS ? "allow" : "drop",
	       pol->dflt[PW_DIR_OUT] == PW_PASS ? "allow" : "drop");
	printf("%5s  %-*s  %-6s %-4s %-9s %-24s %-24s %s\n", "RULE", locw, "LINE", "ACTION", "DIR",
	       "PROTO", "PORTS/TYPES", "PEERS", "COMMENT");
	for (size_t i = 0; i < pol->nrules; i++) {
		const struct pw_rule *r = &pol->rules[i];
		snprintf(loc, sizeof(loc), "%s:%d", r->file, r->line);
		pw_rule_proto_str(r, proto, sizeof(proto));
		printf("%5u  %-*s  %-6s %-4s %-9s %-24s %-24s %s\n", r->id, locw, loc,
		       pw_action_name(r->action), pw_dir_name(r->dirs), proto,
		       r->ports_text ? r->ports_text : (r->protos & PW_P_OTHER) ? "-" : "all",
		       r->peers_text ? r->peers_text : "any", r->comment ? r->comment : "");
	}
	printf("\ncompiled: %zu rules, %u peer classes\n", pol->nrules, c->nclasses);
	print_classes(c, k);
	print_names(c);
	printf("maps: slots %u x %zu B = %zu KiB; peer trie %zu entries x %zu B = %zu KiB (each half)\n",
	       PW_SLOT_COUNT, sz.slot_entry, sz.slot_bytes / 1024, c->npeers, sz.peer_entry,
	       (sz.peer_bytes + 1023) / 1024);
	const uint64_t *kb = sz.mem.by_kind;
	printf("kernel memory: %.1f MiB at %d CPUs (policy %.1f, per-CPU counters %.1f, conntrack %.1f, "
	       "names and events %.1f)\n", mib(sz.mem.total), sz.mem.ncpus, mib(kb[PW_MEM_POLICY]),
	       mib(kb[PW_MEM_PERCPU]), mib(kb[PW_MEM_CONNTRACK]), mib(kb[PW_MEM_NAMES]));
	printf("hash: sha256:%s\n", hash);
	if (d->nwarn == 0)
		printf("warnings: none\n");
	else
		printf("warnings: %zu\n", d->nwarn);
	for (size_t i = 0; i < d->nwarn; i++)
		print_warning(stdout, &d->warn[i]);
}

static void json_rule(const struct pw_rule *r)
{
	char proto[32];

	pw_rule_proto_str(r, proto, sizeof(proto));
	printf("{\"id\":%u,\"file\":", r->id);
	pw_json_str(stdout, r->file);
	printf(",\"line\":%d,\"action\":\"%s\",\"direction\":\"%s\",\"protocol\":", r->line,
	       pw_action_name(r->action), pw_dir_name(r->dirs));
	pw_json_str(stdout, proto);
	printf(",\"ports\":");
	pw_json_str(stdout, r->ports_text);
	printf(",\"peers\":");
	pw_json_str(stdout, r->peers_text);
	printf(",\"comment\":");
	pw_json_str(stdout, r->comment);
	printf(",\"text\":");
	pw_json_str(stdout, r->text);
	printf("}");
}

static void json_warnings(const struct pw_diag *d)
{
	printf("\"warnings\":[");
	for (size_t i = 0; i < d->nwarn; i++) {
		printf("%s{\"file\":", i ? "," : "");
		pw_json_str(stdout, d->warn[i].file);
		printf(",\"line\":%d,\"message\":", d->warn[i].line);
		pw_json_str(stdout, d->warn[i].msg);
		printf("}");
	}
	printf("]");
}

static void json_classes(const struct pw_compiled *c)
{
	printf("\"classes\":[");
	for (uint32_t i = 0; i < c->nclasses; i++) {
		const struct pw_class *ci = &c->classes[i];
		printf("%s{\"id\":%u,\"kind\":\"%s\",\"rules\":[", i ? "," : "", i + 1,
		       class_kind(ci));
		for (size_t r = 0; r < ci->nrules; r++)
			printf("%s%u", r ? "," : "", ci->rules[r]);
		printf("],\"shape\":%u,\"entries\":%zu}", ci->shape, ci->entries);
	}
	printf("]");
}

static void json_names(const struct pw_compiled *c)
{
	printf("\"names\":[");
	for (size_t i = 0; i < c->nnames; i++) {
		const struct pw_cname *x = &c->names[i];
		printf("%s{\"id\":%zu,\"name\":", i ? "," : "", i + 1);
		pw_json_str(stdout, x->text);
		printf(",\"wildcard\":%s,\"hash\":\"0x%016llx\",\"rules\":[", x->wild ? "true" : "false",
		       (unsigned long long)x->hash);
		for (uint32_t r = 0; r < x->nrules; r++)
			printf("%s%u", r ? "," : "", x->rules[r]);
		printf("],\"targets\":[");
		for (unsigned t = 0; t < x->ntargets; t++)
			printf("%s{\"shape\":%u,\"rank\":%u}", t ? "," : "", x->t[t].shape, x->t[t].rank);
		printf("]}");
	}
	printf("],\"resolvers\":[");
	for (size_t i = 0; i < c->nresolvers; i++) {
		printf("%s\"", i ? "," : "");
		print_ip(stdout, &c->resolvers[i]);
		printf("\"");
	}
	static const char *const trust[] = { "default", "listed", "any" };
	printf("],\"dns_users\":{\"trust\":\"%s\",\"users\":[", trust[c->dns_trust % 3]);
	for (size_t i = 0; i < c->ndns_users; i++) {
		printf("%s{\"uid\":%u,\"name\":", i ? "," : "", c->dns_users[i].uid);
		pw_json_str(stdout, c->dns_users[i].name);
		printf("}");
	}
	printf("]}");
}

static void print_json(const char *path, const struct pw_policy *pol, const struct pw_compiled *c,
		       const struct pw_diag *d, const char *hash, bool ok)
{
	struct sizes sz = map_sizes(c);

	printf("{\"valid\":%s,\"file\":", ok ? "true" : "false");
	pw_json_str(stdout, path);
	printf(",\"policy\":");
	pw_json_str(stdout, pol->name);
	printf(",\"hash\":\"sha256:%s\",\"mode\":\"%s\",\"default\":{\"in\":\"%s\",\"out\":\"%s\"},",
	       hash, pol->mode == PW_MODE_MONITOR ? "monitor" : "enforce",
	       pol->dflt[PW_DIR_IN] == PW_PASS ? "allow" : "drop",
	       pol->dflt[PW_DIR_OUT] == PW_PASS ? "allow" : "drop");
	printf("\"files\":[");
	for (size_t i = 0; i < pol->nfiles; i++) {
		printf("%s", i ? "," : "");
		pw_json_str(stdout, pol->files[i]);
	}
	printf("],\"rules\":[");
	for (size_t i = 0; i < pol->nrules; i++) {
		printf("%s", i ? "," : "");
		json_rule(&pol->rules[i]);
	}
	printf("],");
	json_classes(c);
	printf(",");
	json_names(c);
	printf(",\"maps\":{\"slots\":{\"entries\":%u,\"value_size\":%zu,\"bytes\":%zu},"
	       "\"peers\":{\"entries\":%zu,\"key_size\":%zu,\"value_size\":%zu,\"entry_bytes\":%zu,\"bytes\":%zu},"
	       "\"kernel\":{\"cpus\":%d,\"bytes\":%llu,\"maps\":{",
	       PW_SLOT_COUNT, sizeof(struct pw_slot), sz.slot_bytes, c->npeers,
	       sizeof(struct pw_peer_key), sizeof(struct pw_peer_val), sz.peer_entry, sz.peer_bytes, sz.mem.ncpus,
	       (unsigned long long)sz.mem.total);
	for (size_t i = 0; i < sz.mem.n; i++)
		printf("%s\"%s\":%llu", i ? "," : "", sz.mem.map[i].name, (unsigned long long)sz.mem.map[i].bytes);
	printf("}}},");
	json_warnings(d);
	printf("}\n");
}

static json_t *json_error(const char *file, int line, int col, const char *msg, const char *text)
{
	return json_pack("{s:o?,s:i,s:i,s:o?,s:o?}", "file", pw_json_string(file), "line", line,
			 "column", col, "message", pw_json_string(msg), "text", pw_json_string(text));
}

/* "error": the first (as before), "errors": every one kept, and how many
 * more there were */
static void json_errors(const struct pw_diag *d)
{
	json_t *all = json_array();

	for (size_t i = 0; all && i < d->nerr; i++) {
		const struct pw_error *e = &d->errs[i];
		json_array_append_new(all, json_error(e->file, e->line, e->col, e->msg, e->text));
	}
	if (all && !d->nerr)
		json_array_append_new(all, json_error(d->err_file, d->err_line, d->err_col, d->err_msg,
						      d->error));
	printf("\"error\":");
	pw_json_put(stdout, json_error(d->err_file, d->err_line, d->err_col, d->err_msg, d->error));
	printf(",\"errors\":");
	if (pw_json_put(stdout, all))
		printf("[]");
	printf(",\"errors_not_shown\":%zu,", d->nerr_more);
}

static void print_json_error(const char *path, const struct pw_diag *d)
{
	printf("{\"valid\":false,\"file\":");
	pw_json_str(stdout, path);
	printf(",");
	json_errors(d);
	json_warnings(d);
	printf("}\n");
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "strict", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool json = false, strict = false;
	int o;

	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'j': json = true; break;
		case 's': strict = true; break;
		case 'h': usage(stdout); return PW_EXIT_OK;
		default:
			fprintf(stderr, "portwall check: unknown option \"%s\"\n", argv[optind - 1]);
			usage(stderr);
			return PW_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "portwall check: %s\n", argc - optind ? "give one policy file" :
			"which policy? give its file, e.g. policies/ccp.policy");
		usage(stderr);
		return PW_EXIT_USAGE;
	}
	const char *path = argv[optind];
	if (pw_gateway_sniff_file(path) == 1)
		return pw_gateway_check(path, json, strict);
	struct pw_policy pol;
	struct pw_compiled c;
	struct pw_diag d = { 0 };
	struct classes k = { 0 };
	char hash[65];
	int rc;

	/* StrictModes: apply refuses what others than root could have written; check warns */
	const struct pw_parse_opts po = { .files = PW_FILES_WARN, .streams = true };
	if (pw_policy_parse_file_opts(path, &po, &pol, &d) || pw_compile_outline(&pol, &c, &d)) {
		if (json)
			print_json_error(path, &d);
		else
			pw_diag_print_errors(&d, stderr);
		pw_policy_free(&pol);
		pw_diag_free(&d);
		return PW_EXIT_FAIL;
	}
	if (pw_analyze(&pol, &c, &d)) {
		fprintf(stderr, "%s\n", d.error);
		rc = PW_EXIT_FAIL;
		goto out;
	}
	classes_of(&c, &k);
	pw_hex(c.hash, sizeof(c.hash), hash);
	bool ok = !(strict && d.nwarn);
	if (json)
		print_json(path, &pol, &c, &d, hash, ok);
	else
		print_text(path, &pol, &c, &k, &d, hash);
	if (!ok)
		fprintf(stderr, "portwall check: %zu warning%s and --strict: not valid\n", d.nwarn,
			d.nwarn == 1 ? "" : "s");
	rc = ok ? PW_EXIT_OK : PW_EXIT_FAIL;
out:
	pw_compiled_free(&c);
	pw_policy_free(&pol);
	pw_diag_free(&d);
	return rc;
}
