/* cmd_test.c - `portwall test POLICY [--json] PACKET` and `-f SCRIPT`: build
 * packets in full and run them through the real XDP and tc programs
 * (BPF_PROG_TEST_RUN) on private maps loaded with POLICY. A script's packets
 * share the maps, so state carries over (an out SYN, then its in reply). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/state.h"
#include "cli/cmds.h"
#include "lib/json.h"
#include "datapath/loader.h"
#include "lib/num.h"
#include "policy/files.h"
#include "policy/gateway.h"
#include "policy/packet.h"

static void usage(FILE *f)
{
	fputs("usage: portwall test [POLICY] [--json] [-v] DIR PROTO SRC DST [FLAGS] [OPTIONS]\n"
	      "       portwall test [POLICY] [--json] [-v] -f SCRIPT\n"
	      "  Run packets through the real XDP (in) and tc (out) programs with\n"
	      "  BPF_PROG_TEST_RUN, on private maps loaded with POLICY (nothing is\n"
	      "  attached), or without POLICY on the live maps of the portwall under\n"
	      "  --pin-root (default " PW_PIN_ROOT "): there the packets count and open\n"
	      "  flows like real ones. A script has one packet per line; state carries over;\n"
	      "  a line \"wait SECONDS\" ages every flow as if that time had passed (POLICY only).\n"
	      "  Packet: in|out tcp|udp|icmp|icmpv6|PROTO SRC DST, where SRC/DST are\n"
	      "  ADDR:PORT or [IPv6]:PORT (no port for other protocols); tcp FLAGS:\n"
	      "  syn, ack, fin, rst, psh, urg joined by commas (default ack). Options:\n"
	      "  vlan N (up to 3), link l3 (the packet alone, no Ethernet header, through\n"
	      "  the programs of devices without a link-layer header: tun, wireguard),\n"
	      "  frag first|later, frag-id N, icmp-type NAME|N,\n"
	      "  icmp-code N, icmp-id N, len N, ip-options N, ext hbh,rt,dst,ah,\n"
	      "  seq N, ackno N, win N (TCP),\n"
	      "  quote PROTO SRC DST (the packet an ICMP error carries).\n"
	      "  e.g. portwall test policies/ccp.policy in tcp 198.51.100.7:51000 192.0.2.2:443 syn\n"
	      "Prints one line per packet: PASS|DROP, the reason, the deciding rule\n"
	      "(file:line) or default, the packet. Exit 0 when every packet ran\n"
	      "(whatever the verdicts), 1 on an error, 2 on a usage error.\n"
	      "Needs root (CAP_BPF): the programs are loaded into the kernel.\n"
	      "A GATEWAY file in place of POLICY (docs/gateway.md): one packet judged in\n"
	      "userspace by the policy of the protected host it goes to (in) or comes\n"
	      "from (out), or by default forward; the gateway datapath is not built yet,\n"
	      "so no program is loaded, no root needed, and -f is refused.\n", f);
}

struct tctx {
	struct pw_dp dp;
	struct pw_policy pol;
	struct pw_compiled c;
	bool json;
	struct pw_applied applied;	/* live: the policy in force */
	const struct pw_policy *rules;	/* where rule ids point */
	uint32_t nrules;
	bool verbose;			/* -v: libbpf's messages, for a late L3 load */
};

/* Run the packet s, already parsed. */
static int run_packet(struct tctx *t, const struct pw_pktspec *sp, const char *where)
{
	struct pw_pktspec s = *sp;
	char desc[256];
	uint8_t frame[PW_PKT_OUT_MAX];

	size_t len = pw_pkt_build(&s, frame, sizeof(frame));
	if (!len) {
		fprintf(stderr, "portwall test: %spacket too large\n", where);
		return PW_EXIT_USAGE;
	}
	struct pw_dp_result res = { 0 };
	char err[600];
	/* the L3 programs are loaded for the first "link l3" packet (on the
	 * live maps too, unpinned, when no such interface is attached): they
	 * are half a private load's verifier time */
	if (s.l3 && pw_dp_load_l3(&t->dp, t->verbose, err, sizeof(err))) {
		fprintf(stderr, "portwall test: %s\n", err);
		return PW_EXIT_FAIL;
	}
	int rc = pw_dp_judge_link(&t->dp, t->nrules, s.l3 ? PW_LINK_L3 : PW_LINK_ETHER, s.dir, frame, len, &res);
	int verdict = res.verdict, reason = res.reason;
	uint32_t rule = res.rule;
	if (rc) {
		fprintf(stderr, "portwall test: running the packet failed: %s\n", strerror(-rc));
		return PW_EXIT_FAIL;
	}
	pw_pkt_describe(&s, desc, sizeof(desc));
	const char *rname = reason >= 0 ? pw_reason_names[reason] : "unknown";
	bool by_rule = reason == PW_R_ALLOW_RULE || reason == PW_R_DROP_DENY ||
		       reason == PW_R_ALLOW_DEFAULT || reason == PW_R_DROP_DEFAULT;
	const struct pw_rule *r = by_rule && rule && t->rules && rule <= t->nrules ? &t->rules->rules[rule - 1] : NULL;
	bool monitor = verdict == PW_PASS && reason >= PW_R_FIRST_DROP;
	if (t->json) {
		printf("{\"verdict\":\"%s\",\"reason\":\"%s\",\"monitor\":%s,\"rule\":",
		       verdict == PW_PASS ? "PASS" : "DROP", rname, monitor ? "true" : "false");
		if (r) {
			printf("{\"id\":%u,\"file\":", r->id);
			pw_json_str(stdout, r->file);
			printf(",\"line\":%d,\"text\":", r->line);
			pw_json_str(stdout, r->text);
			printf("}");
		} else {
			printf("%s", by_rule ? "\"default\"" : "null");
		}
		printf(",\"packet\":");
		pw_json_str(stdout, desc);
		printf(",\"bytes\":%zu}\n", len);
	} else {
		char loc[512];
		if (r)
			snprintf(loc, sizeof(loc), "%s:%d", r->file, r->line);
		else
			snprintf(loc, sizeof(loc), "%s", by_rule ? "default" : "-");
		printf("%s  %-18s %-28s %s%s\n", verdict == PW_PASS ? "PASS" : "DROP", rname, loc, desc,
		       monitor ? "  (monitor: would drop)" : "");
	}
	return PW_EXIT_OK;
}

/* A script's "wait SECONDS": every flow and fragment of the private maps
 * ages as if that time had passed. 1 when the line is no wait, 0 done,
 * or an exit code. */
static int script_wait(struct tctx *t, const char *line, const char *where)
{
	char word[8], num[32], extra;
	unsigned long secs;

	if (sscanf(line, " %7s", word) != 1 || strcmp(word, "wait"))
		return 1;
	if (sscanf(line, " wait %31s %c", num, &extra) != 1 || !pw_ulong(num, 10, 30 * 86400, &secs)) {
		fprintf(stderr, "portwall test: %swait takes SECONDS (0-2592000)\n", where);
		return PW_EXIT_USAGE;
	}
	if (t->dp.pinned) {
		fprintf(stderr, "portwall test: %swait ages the flows it runs on: give a POLICY (private "
			"maps), not the live ones\n", where);
		return PW_EXIT_USAGE;
	}
	if (pw_dp_age(&t->dp, (uint32_t)secs) < 0) {
		fprintf(stderr, "portwall test: %sageing the flows failed\n", where);
		return PW_EXIT_FAIL;
	}
	if (!t->json)
		printf("(%lu s later)\n", secs);
	return 0;
}

static int run_script(struct tctx *t, const char *path)
{
	char line[1024], where[600], err[256], msg[PATH_MAX + 300];
	int lineno = 0, rc = PW_EXIT_OK;
	struct pw_pktspec s;
	struct pw_file text;

	/* read whole without blocking for good (a FIFO nobody writes, a
	 * terminal: at most 10 s a piece), as policies are */
	if (pw_file_read(strcmp(path, "-") ? path : "/dev/stdin", true, &text, msg, sizeof(msg))) {
		fprintf(stderr, "portwall test: cannot read the script %s: %s\n", path, msg);
		return PW_EXIT_FAIL;
	}
	FILE *f = text.len ? fmemopen(text.text, text.len, "r") : NULL;
	while (f && fgets(line, sizeof(line), f)) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%d: ", path, lineno);
		int wr = script_wait(t, line, where);
		if (wr != 1) {
			rc = wr;
			if (rc)
				break;
			continue;
		}
		int pr = pw_pkt_parse_line(line, &s, err, sizeof(err));
		if (pr == 1)
			continue;
		if (pr < 0) {
			fprintf(stderr, "portwall test: %s%s\n", where, err);
			rc = PW_EXIT_USAGE;
			break;
		}
		rc = run_packet(t, &s, where);
		if (rc)
			break;
	}
	if (f)
		fclose(f);
	pw_file_free(&text);
	return rc;
}

/* What the command line asks for beyond what tctx keeps. */
struct targs {
	const char *root;	/* --pin-root: where the live maps are */
	const char *policy;	/* NULL: test on the live maps */
	const char *script;	/* NULL: one packet from the words left */
	bool verbose;
};

/* Options may stand anywhere; the words left are [POLICY] PACKET, and
 * optind points at the packet. Returns -1 to go on, or the exit code. */
static int parse_args(int argc, char **argv, struct tctx *t, struct targs *a)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "file", required_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "pin-root", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int o;

	optind = 1;
	opterr = 0;
	/* packet words never start with '-' */
	while ((o = getopt_long(argc, argv, "f:vh", opts, NULL)) != -1) {
		switch (o) {
		case 'j': t->json = true; break;
		case 'f': a->script = optarg; break;
		case 'v': a->verbose = true; break;
		case 'p': a->root = optarg; break;
		case 'h': usage(stdout); return PW_EXIT_OK;
		default:
			fprintf(stderr, "portwall test: unknown option \"%s\"\n", argv[optind - 1]);
			usage(stderr);
			return PW_EXIT_USAGE;
		}
	}
	if (optind < argc && strcmp(argv[optind], "in") != 0 && strcmp(argv[optind], "out") != 0)
		a->policy = argv[optind++];
	if (!a->script && optind >= argc) {
		fprintf(stderr, "portwall test: give a packet or -f SCRIPT\n");
		usage(stderr);
		return PW_EXIT_USAGE;
	}
	if (a->script && optind < argc) {
		fprintf(stderr, "portwall test: give a packet or -f SCRIPT, not both\n");
		return PW_EXIT_USAGE;
	}
	return -1;
}

/* The live maps of the portwall under root, with the rules in force when
 * the policy file still compiles to them. Returns 0, -1 with a message in
 * err, or PW_EXIT_FAIL when it has told why. */
static int open_live(struct tctx *t, const char *root, char *err, size_t errsz)
{
	if (pw_need_root("test"))
		return PW_EXIT_FAIL;
	int rc = pw_dp_open_pinned(&t->dp, root, err, errsz);
	if (rc == -ENOENT) {
		fprintf(stderr, "portwall test: %s: give a POLICY to test it on private maps, or apply one\n", err);
		return PW_EXIT_FAIL;
	}
	if (rc)
		return -1;
	if (pw_applied_read(&t->dp, &t->applied) == 0 && t->applied.have_rules && t->applied.same) {
		t->rules = &t->applied.pol;
		t->nrules = t->applied.c.nrules;
	} else {
		fprintf(stderr, "portwall test: the policy file in force changed since apply: rules are shown by id\n");
		t->nrules = t->dp.rule_capacity ? t->dp.rule_capacity - 1 : 0;
	}
	return 0;
}

/* Private maps, loaded with the policy file and nothing attached. Returns
 * as open_live does. */
static int load_private(struct tctx *t, const char *policy, bool verbose, char *err, size_t errsz)
{
	struct pw_diag d = { 0 };

	if (pw_load_policy(policy, &t->pol, &t->c, &d)) {
		pw_diag_free(&d);
		return PW_EXIT_FAIL;
	}
	pw_diag_free(&d);
	t->rules = &t->pol;
	t->nrules = t->c.nrules;
	struct pw_dp_opts lo = { .rule_capacity = t->c.nrules + 1,
				  .class_words = pw_dp_class_words_for(t->c.nrules + 1, t->c.nclass_words),
				  .flat4_chunks = pw_dp_flat4_chunks_for(t->c.nflat4),
				  .verbose = verbose, .no_l3 = true };
	struct pw_config cfg;
	int rc = pw_dp_load(&t->dp, &lo, err, errsz);
	if (!rc) {
		pw_config_default(&cfg, t->c.mode, t->dp.ncpus);
		rc = pw_dp_write_half(&t->dp, 0, &t->c, &cfg, err, errsz);
	}
	/* the names learn from the policy's own resolvers only: a test run
	 * reads no resolv.conf */
	if (!rc && t->c.nnames)
		rc = pw_dp_write_policy_names(&t->dp, 0, &t->c, t->c.resolvers, t->c.nresolvers, err, errsz);
	if (!rc && (rc = pw_dp_activate(&t->dp, 0, 1)) != 0)
		snprintf(err, errsz, "putting the policy in force failed: %s", strerror(-rc));
	return rc ? -1 : 0;
}

/* The script, or the one packet the words describe. */
static int run_packets(struct tctx *t, const char *script, int argc, char **argv)
{
	struct pw_pktspec s;
	char err[512];

	if (script)
		return run_script(t, script);
	if (pw_pkt_parse(argc, argv, &s, err, sizeof(err))) {
		fprintf(stderr, "portwall test: %s\n", err);
		return PW_EXIT_USAGE;
	}
	return run_packet(t, &s, "");
}

int cmd_test(int argc, char **argv)
{
	struct tctx t = { 0 };
	struct targs a = { .root = PW_PIN_ROOT };
	char err[512];
	int rc = parse_args(argc, argv, &t, &a);

	if (rc >= 0)
		return rc;
	if (a.policy && pw_gateway_sniff_file(a.policy) == 1)
		return pw_gateway_test(a.policy, t.json, a.script, argc - optind, argv + optind);
	t.verbose = a.verbose;
	rc = a.policy ? load_private(&t, a.policy, a.verbose, err, sizeof(err))
		      : open_live(&t, a.root, err, sizeof(err));
	if (rc > 0)
		return rc;
	if (rc) {
		fprintf(stderr, "portwall test: %s\n", err);
		rc = PW_EXIT_FAIL;
	} else {
		rc = run_packets(&t, a.script, argc - optind, argv + optind);
	}
	pw_dp_close(&t.dp);
	pw_applied_free(&t.applied);
	pw_compiled_free(&t.c);
	pw_policy_free(&t.pol);
	return rc;
}
