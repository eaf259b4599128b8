/* testrun.c - run frames through the loaded programs (BPF_PROG_TEST_RUN)
 * and read what the kernel counted for them: portwall test, the
 * BPF_PROG_TEST_RUN suites and the benchmarks judge packets with these. */
#include "datapath/loader.h"

#include <errno.h>
#include <stdlib.h>

#include <bpf/bpf.h>

int pw_dp_run(const struct pw_dp *dp, uint32_t dir, const uint8_t *frame, size_t len, int *verdict)
{
	return pw_dp_run_link(dp, PW_LINK_ETHER, dir, frame, len, verdict);
}

/* sched_cls test runs take the first 14 bytes for an Ethernet header to
 * set skb->protocol, but the program sees every byte at skb->data: an L3
 * frame runs as given (the L3 programs never read skb->protocol). */
int pw_dp_run_link(const struct pw_dp *dp, uint8_t link, uint32_t dir, const uint8_t *frame, size_t len,
		   int *verdict)
{
	uint8_t out[PW_PKT_OUT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	if (len > sizeof(out))
		return -EMSGSIZE;
	int fd = pw_dp_prog(dp, link, dir & 1);
	if (fd < 0)
		return -ENOENT;
	if (bpf_prog_test_run_opts(fd, &o))
		return -errno;
	if (dir == PW_DIR_IN)
		*verdict = o.retval == XDP_PASS ? PW_PASS : PW_DROP;
	else
		*verdict = o.retval == 0 /* TC_ACT_OK */ ? PW_PASS : PW_DROP;
	return 0;
}

int pw_dp_judge(const struct pw_dp *dp, uint32_t nrules, uint32_t dir, const uint8_t *frame,
		size_t len, struct pw_dp_result *r)
{
	return pw_dp_judge_link(dp, nrules, PW_LINK_ETHER, dir, frame, len, r);
}

int pw_dp_judge_link(const struct pw_dp *dp, uint32_t nrules, uint8_t link, uint32_t dir, const uint8_t *frame,
		     size_t len, struct pw_dp_result *r)
{
	struct pw_counter before[PW_DIR_COUNT * PW_R_COUNT], after[PW_DIR_COUNT * PW_R_COUNT];
	struct pw_counter *rules = calloc(nrules + 1, sizeof(*rules));
	int rc = rules ? pw_dp_reason_counts(dp, before) : -ENOMEM;

	dir &= 1;
	for (uint32_t id = 0; rc == 0 && id <= nrules; id++)
		rc = pw_dp_rule_count(dp, id, dir, &rules[id]);
	if (!rc)
		rc = pw_dp_run_link(dp, link, dir, frame, len, &r->verdict);
	if (!rc)
		rc = pw_dp_reason_counts(dp, after);
	r->reason = -1;
	r->rule = PW_RULE_DEFAULT;
	for (int k = 0; rc == 0 && k < PW_R_COUNT; k++)
		if (after[dir * PW_R_COUNT + k].packets != before[dir * PW_R_COUNT + k].packets)
			r->reason = k;
	for (uint32_t id = 0; rc == 0 && id <= nrules; id++) {
		struct pw_counter c;
		rc = pw_dp_rule_count(dp, id, dir, &c);
		if (!rc && c.packets != rules[id].packets)
			r->rule = id;
	}
	free(rules);
	return rc;
}
