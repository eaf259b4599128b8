/* bench_stats.h - keep kernel.bpf_stats_enabled off while a bench times
 * programs (with it on, every run of every program pays two clock reads),
 * and put it back as it was at exit. */
#ifndef PW_BENCH_STATS_H
#define PW_BENCH_STATS_H

#include <stdio.h>
#include <stdlib.h>

#define PW_BPF_STATS "/proc/sys/kernel/bpf_stats_enabled"

static int pw_bench_stats_was = -1;

static inline int pw_bench_stats_read(void)
{
	FILE *f = fopen(PW_BPF_STATS, "r");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static inline int pw_bench_stats_write(int v)
{
	FILE *f = fopen(PW_BPF_STATS, "w");

	if (!f)
		return -1;
	int rc = fprintf(f, "%d\n", v) < 0;
	return fclose(f) || rc ? -1 : 0;
}

static inline void pw_bench_stats_restore(void)
{
	if (pw_bench_stats_was > 0)
		pw_bench_stats_write(pw_bench_stats_was);
}

/* Turn the stats off (restored at exit) and say what they are now. */
static inline void pw_bench_stats_off(void)
{
	pw_bench_stats_was = pw_bench_stats_read();
	if (pw_bench_stats_was > 0) {
		pw_bench_stats_write(0);
		atexit(pw_bench_stats_restore);
	}
	int now = pw_bench_stats_read();
	printf("# kernel.bpf_stats_enabled: %d%s%s\n", now, pw_bench_stats_was > 0 ? " (was 1: restored at exit)" : "",
	       now != 0 ? "  <- ON: every run pays two clock reads (another holder of BPF_ENABLE_STATS?)" : "");
}

#endif
