/* live.h - what the live packet generator (live_gen.bpf.c) and its driver
 * (live.c) share: the fixed frame size and the variant table's layout. */
#ifndef PW_BENCH_LIVE_H
#define PW_BENCH_LIVE_H

#include <linux/types.h>

/* Every generated frame is 128 bytes: the headers, then Ethernet padding
 * past the IP length (every receiver trims it). One size for all cases
 * keeps the generator's own cost the same in every configuration. */
#define LIVE_FRAME_LEN 128
#define LIVE_MAX_FRAMES 1024

struct live_frame {
	__u64 w[LIVE_FRAME_LEN / 8];
};

#endif
