/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* pw_clock.h - the datapath's clocks without a helper call where it can:
 * the time of the last timer tick as jiffies times the tick. Shared by the
 * datapath (pw_judge.h, pw_fast.h) and bpf/clock.bpf.c, which measures for
 * the loader how the tick clock lies against CLOCK_MONOTONIC_COARSE. */
#ifndef PW_CLOCK_H
#define PW_CLOCK_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "portwall.h"

/* The kernel's HZ, from its config (0 when libbpf finds no config). */
extern unsigned int CONFIG_HZ __kconfig __weak;

/* The kernel's TICK_NSEC for its HZ, 0 when HZ is not known here. */
static __always_inline __u64 pw_tick_len(void)
{
	return CONFIG_HZ == 1000 ? 1000000 : CONFIG_HZ == 250 ? 4000000 :
	       CONFIG_HZ == 300 ? 3333333 : CONFIG_HZ == 100 ? 10000000 : 0;
}

/* The time of the last timer tick, in ns. With HZ known it is jiffies times
 * the tick, and bpf_jiffies64() is a load the verifier inlines; otherwise
 * the coarse clock, as fine but a helper call, and a call costs tens of ns
 * where returns are mitigated (SRSO safe-RET): a flood of drops pays it
 * for every packet. */
static __always_inline __u64 pw_tick_ns(void)
{
	__u64 tick = pw_tick_len();

	return tick ? bpf_jiffies64() * tick : bpf_ktime_get_coarse_ns();
}

/* The conntrack clock: CLOCK_MONOTONIC_COARSE (what userspace writes into
 * pw_ct_val.last_ns: adoption, revoked marks, ages), read from the tick
 * clock and the offset the loader measured into the config
 * (pw_config.ct_tick_ns), or from the helper when none was. jiffies and
 * the coarse clock both advance at the tick by the same monotonic time
 * (the kernel's tick_do_update_jiffies64), so the offset holds; every
 * write of a half measures it again. */
static __always_inline __u64 pw_ct_now(const struct pw_config *cfg)
{
	__u64 tick = cfg->ct_tick_ns;

	return tick ? bpf_jiffies64() * tick + cfg->ct_clock_off : bpf_ktime_get_coarse_ns();
}

#endif
