/* reset.c - `portwall counters --reset [RULE...]`: the rules' counters of
 * the policy in force read zero in status from now on, like
 * `nft reset counters`; the metrics stay monotonic (docs/operations.md). */
#include "datapath/loader.h"

#include <errno.h>

#include <bpf/bpf.h>

/* Rule `rule` of half `half`: carry -= what status shows, reset += it. */
static int reset_rule(struct pw_dp *dp, uint32_t half, uint32_t rule)
{
	uint32_t k = (half & 1) * dp->rule_capacity + rule;
	struct pw_rule_info info;
	struct pw_counter shown[PW_DIR_COUNT];

	for (uint32_t dir = 0; dir < PW_DIR_COUNT; dir++) {
		int rc = pw_dp_rule_count_half(dp, half, rule, dir, &shown[dir]);
		if (rc)
			return rc;
	}
	if (bpf_map_lookup_elem(dp->rules_fd, &k, &info))
		return -errno;
	for (uint32_t dir = 0; dir < PW_DIR_COUNT; dir++) {
		/* modulo 2^64: carry + the counters read above is 0 now, and
		 * what the datapath counts after the read still shows */
		info.carry[dir].packets -= shown[dir].packets;
		info.carry[dir].bytes -= shown[dir].bytes;
		info.reset[dir].packets += shown[dir].packets;
		info.reset[dir].bytes += shown[dir].bytes;
	}
	return bpf_map_update_elem(dp->rules_fd, &k, &info, BPF_EXIST) ? -errno : 0;
}

int pw_dp_counters_reset(struct pw_dp *dp, const uint32_t *ids, size_t n, uint32_t nrules)
{
	struct pw_state st;
	int rc = pw_dp_read_state(dp, &st);

	if (rc)
		return rc;
	for (size_t i = 0; !rc && i < (n ? n : (size_t)nrules + 1); i++) {
		uint32_t id = n ? ids[i] : (uint32_t)i;
		rc = id > nrules || id >= dp->rule_capacity ? -ERANGE : reset_rule(dp, st.active, id);
	}
	return rc;
}

int pw_dp_rule_reset(const struct pw_dp *dp, uint32_t rule, uint32_t dir, struct pw_counter *out)
{
	struct pw_state st;
	struct pw_rule_info info;
	int rc = pw_dp_read_state(dp, &st);

	if (rc)
		return rc;
	if (rule >= dp->rule_capacity)
		return -ERANGE;
	uint32_t k = (st.active & 1) * dp->rule_capacity + rule;
	if (bpf_map_lookup_elem(dp->rules_fd, &k, &info))
		return -errno;
	*out = info.reset[dir & 1];
	return 0;
}
