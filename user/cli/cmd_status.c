/* cmd_status.c - `portwall status [--json]`: what is applied where, and
 * what it has done: per-rule packets and bytes, drops by reason, the most
 * dropped (protocol, port) pairs, conntrack fill, events. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#include "datapath/state.h"
#include "datapath/attach.h"
#include "cli/cmds.h"
#include "lib/json.h"
#include "lib/sha256.h"
#include "datapath/stats.h"

#define TOP_PORTS 10

int cmd_status(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' }, { "pin-root", required_argument, NULL, 'p' },
		{ "netns", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};
	const char *root = PW_PIN_ROOT, *netns = NULL;
	bool json = false;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'p': root = optarg; break;
		case 'n': netns = optarg; break;
		case 'h':
			printf("usage: portwall status [--json] [--pin-root DIR] [--netns NAME]\n");
			return PW_EXIT_OK;
		default:
			fprintf(stderr, "usage: portwall status [--json] [--pin-root DIR]\n");
			return PW_EXIT_USAGE;
		}
	}
	if (pw_need_root("status"))
		return PW_EXIT_FAIL;
	struct pw_dp dp;
	char err[600];
	int orc = pw_dp_open_pinned(&dp, root, err, sizeof(err));
	if (orc) {
		fprintf(stderr, "portwall status: %s\n", err);
		return PW_EXIT_FAIL;
	}
	struct pw_applied a;
	struct pw_counter reasons[PW_DIR_COUNT * PW_R_COUNT];
	struct pw_stats gs;
	struct { struct pw_port_drop d[TOP_PORTS]; } top;
	int ntop = pw_top_drops(&dp, top.d, TOP_PORTS);
	if (pw_applied_read(&dp, &a) || pw_dp_reason_counts(&dp, reasons) || pw_dp_stats(&dp, &gs)) {
		fprintf(stderr, "portwall status: reading the maps under %s failed: %s\n", root, strerror(errno));
		pw_dp_close(&dp);
		return PW_EXIT_FAIL;
	}
	if (netns && strcmp(netns, a.meta.netns) != 0) {
		fprintf(stderr, "portwall status: the portwall under %s works in network namespace \"%s\", not \"%s\"; "
			"give its --pin-root\n", root, a.meta.netns, netns);
		pw_applied_free(&a);
		pw_dp_close(&dp);
		return PW_EXIT_FAIL;
	}
	int ct = pw_ct_entries(&dp);
	/* the LRU evicts silently: what came in (created by the datapath,
	 * adopted by apply) and is neither removed (expired, closed, flushed by
	 * a reload) nor live was evicted */
	uint64_t came = gs.ct_created + a.meta.ct_adopted;
	uint64_t gone = gs.ct_removed + a.meta.ct_flushed + (uint64_t)(ct > 0 ? ct : 0);
	uint64_t evicted = came > gone ? came - gone : 0;
	struct bpf_map_info info = { 0 };
	uint32_t ilen = sizeof(info);
	bpf_obj_get_info_by_fd(dp.ct_fd, &info, &ilen);
	char hex[65], when[64];
	pw_hex(a.meta.cur.hash, sizeof(a.meta.cur.hash), hex);
	time_t t = (time_t)a.meta.cur.applied_unix;
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", localtime(&t));
	int saved = -1;
	if (pw_netns_enter(a.meta.netns, &saved, err, sizeof(err)))
		saved = -2;

	if (json) {
		printf("{\"pin_root\":");
		pw_json_str(stdout, root);
		printf(",\"policy\":{\"name\":");
		pw_json_str(stdout, a.meta.cur.name);
		printf(",\"file\":");
		pw_json_str(stdout, a.meta.cur.path);
		printf(",\"hash\":\"sha256:%s\",\"generation\":%u,\"applied_unix\":%llu,\"mode\":\"%s\","
		       "\"file_matches\":%s},", hex, a.meta.cur.generation, (unsigned long long)a.meta.cur.applied_unix,
		       a.meta.cur.mode == PW_MODE_MONITOR ? "monitor" : "enforce", a.same ? "true" : "false");
		printf("\"netns\":");
		pw_json_str(stdout, a.meta.netns[0] ? a.meta.netns : NULL);
		printf(",\"interfaces\":[");
		for (int i = 0; i < a.meta.niface; i++) {
			const struct pw_iface *f = &a.meta.iface[i];
			printf("%s{\"name\":", i ? "," : "");
			pw_json_str(stdout, f->name);
			int x = saved != -2 ? pw_xdp_attached((int)f->ifindex, dp.prog_fd[PW_DIR_IN]) : -1;
			int mode = x > 0 ? x : f->xdp_mode;
			printf(",\"ifindex\":%u,\"xdp_mode\":\"%s\",\"xdp_attached\":%s,\"tc_attached\":%s}",
			       f->ifindex, mode == PW_XDP_NATIVE ? "native" : mode == PW_XDP_GENERIC ? "generic" : "none",
			       x > 0 ? "true" : "false",
			       saved != -2 && pw_tc_attached((int)f->ifindex, dp.prog_fd[PW_DIR_OUT]) == 1 ? "true" : "false");
		}
		printf("],\"rules\":[");
		uint32_t nr = a.have_rules && a.same ? a.c.nrules : 0;
		for (uint32_t id = 0; id <= nr; id++) {
			struct pw_counter in = { 0 }, out = { 0 };
			pw_dp_rule_count(&dp, id, PW_DIR_IN, &in);
			pw_dp_rule_count(&dp, id, PW_DIR_OUT, &out);
			printf("%s{\"id\":%u,", id ? "," : "", id);
			if (id) {
				const struct pw_rule *r = &a.pol.rules[id - 1];
				printf("\"file\":");
				pw_json_str(stdout, r->file);
				printf(",\"line\":%d,\"text\":", r->line);
				pw_json_str(stdout, r->text);
				printf(",\"comment\":");
				pw_json_str(stdout, r->comment);
				printf(",");
			} else {
				printf("\"text\":\"default\",");
			}
			printf("\"in\":{\"packets\":%llu,\"bytes\":%llu},\"out\":{\"packets\":%llu,\"bytes\":%llu}}",
			       (unsigned long long)in.packets, (unsigned long long)in.bytes,
			       (unsigned long long)out.packets, (unsigned long long)out.bytes);
		}
		printf("],\"reasons\":{");
		for (int dir = 0; dir < PW_DIR_COUNT; dir++) {
			printf("%s\"%s\":{", dir ? "," : "", dir ? "out" : "in");
			for (int r = 0; r < PW_R_COUNT; r++)
				printf("%s\"%s\":{\"packets\":%llu,\"bytes\":%llu}", r ? "," : "", pw_reason_names[r],
				       (unsigned long long)reasons[dir * PW_R_COUNT + r].packets,
				       (unsigned long long)reasons[dir * PW_R_COUNT + r].bytes);
			printf("}");
		}
		printf("},\"top_drops\":[");
		for (int i = 0; i < ntop; i++) {
			char sn[64];
			pw_slot_name(top.d[i].slot, sn, sizeof(sn));
			printf("%s{\"port\":\"%s\",\"packets\":%llu}", i ? "," : "", sn,
			       (unsigned long long)top.d[i].packets);
		}
		struct pw_state sst;
		pw_dp_read_state(&dp, &sst);
		const struct pw_config *cf = &sst.cfg[sst.active & 1];
		printf("],\"config\":{\"event_rate\":%u,\"ct_timeouts\":{\"tcp_syn\":%u,\"tcp_est\":%u,"
		       "\"tcp_close\":%u,\"udp\":%u,\"icmp\":%u,\"other\":%u,\"frag\":%u}}",
		       cf->ev_rate * (uint32_t)dp.ncpus, cf->ct_tcp_syn, cf->ct_tcp_est, cf->ct_tcp_close, cf->ct_udp,
		       cf->ct_icmp, cf->ct_other, cf->frag_timeout);
		printf(",\"conntrack\":{\"entries\":%d,\"capacity\":%u,\"created\":%llu,\"removed\":%llu,"
		       "\"evicted\":%llu},"
		       "\"events\":{\"sent\":%llu,\"suppressed\":%llu,\"lost\":%llu}}\n", ct, info.max_entries,
		       (unsigned long long)gs.ct_created, (unsigned long long)gs.ct_removed, (unsigned long long)evicted,
		       (unsigned long long)gs.events_sent, (unsigned long long)gs.events_suppressed,
		       (unsigned long long)gs.events_lost);
	} else {
		printf("policy \"%s\" (%s)\n  generation %u, applied %s, hash sha256:%.16s, mode %s\n",
		       a.meta.cur.name, a.meta.cur.path, a.meta.cur.generation, when, hex,
		       a.meta.cur.mode == PW_MODE_MONITOR ? "monitor" : "enforce");
		if (!a.same)
			printf("  (the file no longer compiles to the policy in force: rule text not shown)\n");
		printf("interfaces%s%s:\n", a.meta.netns[0] ? " in netns " : "", a.meta.netns);
		for (int i = 0; i < a.meta.niface; i++) {
			const struct pw_iface *f = &a.meta.iface[i];
			int x = saved != -2 ? pw_xdp_attached((int)f->ifindex, dp.prog_fd[PW_DIR_IN]) : -1;
			int tc = saved != -2 ? pw_tc_attached((int)f->ifindex, dp.prog_fd[PW_DIR_OUT]) : -1;
			int mode = x > 0 ? x : f->xdp_mode;
			printf("  %-16s XDP %s %s, tc egress %s\n", f->name,
			       mode == PW_XDP_NATIVE ? "native" : mode == PW_XDP_GENERIC ? "generic" : "none",
			       x > 0 ? "attached" : "NOT ATTACHED (the interface is gone or was changed)",
			       tc == 1 ? "attached" : "NOT ATTACHED");
		}
		printf("\n%5s  %-28s %12s %14s %12s %14s  %s\n", "RULE", "LINE", "IN PKTS", "IN BYTES", "OUT PKTS",
		       "OUT BYTES", "COMMENT");
		uint32_t nr = a.have_rules && a.same ? a.c.nrules : 0;
		for (uint32_t id = 0; id <= nr; id++) {
			struct pw_counter in = { 0 }, out = { 0 };
			char loc[300];
			pw_dp_rule_count(&dp, id, PW_DIR_IN, &in);
			pw_dp_rule_count(&dp, id, PW_DIR_OUT, &out);
			const struct pw_rule *r = id ? &a.pol.rules[id - 1] : NULL;
			if (r)
				snprintf(loc, sizeof(loc), "%s:%d", r->file, r->line);
			else
				snprintf(loc, sizeof(loc), "default");
			printf("%5u  %-28s %12llu %14llu %12llu %14llu  %s\n", id, loc, (unsigned long long)in.packets,
			       (unsigned long long)in.bytes, (unsigned long long)out.packets,
			       (unsigned long long)out.bytes, r && r->comment ? r->comment : "");
		}
		printf("\n%-20s %12s %12s\n", "REASON", "IN PKTS", "OUT PKTS");
		for (int r = 0; r < PW_R_COUNT; r++)
			printf("%-20s %12llu %12llu\n", pw_reason_names[r],
			       (unsigned long long)reasons[PW_DIR_IN * PW_R_COUNT + r].packets,
			       (unsigned long long)reasons[PW_DIR_OUT * PW_R_COUNT + r].packets);
		printf("\ntop dropped:");
		if (ntop <= 0)
			printf(" none");
		for (int i = 0; i < ntop; i++) {
			char sn[64];
			pw_slot_name(top.d[i].slot, sn, sizeof(sn));
			printf("%s %s (%llu)", i ? "," : "", sn, (unsigned long long)top.d[i].packets);
		}
		printf("\nconntrack: %d of %u entries (%llu created, %llu expired or closed, %llu evicted by a full table)\n",
		       ct, info.max_entries, (unsigned long long)gs.ct_created, (unsigned long long)gs.ct_removed,
		       (unsigned long long)evicted);
		printf("drop events: %llu sent, %llu suppressed by the rate limit, %llu lost (buffer full)\n",
		       (unsigned long long)gs.events_sent, (unsigned long long)gs.events_suppressed,
		       (unsigned long long)gs.events_lost);
	}
	if (saved >= 0)
		pw_netns_leave(saved);
	pw_applied_free(&a);
	pw_dp_close(&dp);
	return PW_EXIT_OK;
}
