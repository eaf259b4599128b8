/* skel_sizes.h - the constants both programs are verified with, from the
 * sizes of dp's maps: one place for the first load (loader.c) and the L3
 * programs loaded later onto the same maps (load_l3.c). Internal to
 * datapath/ (it names the skeletons). */
#ifndef PW_DP_SKEL_SIZES_H
#define PW_DP_SKEL_SIZES_H

#include "datapath/loader.h"
#include "egress.skel.h"
#include "ingress.skel.h"

/* A half's pw_classes words and pw_flat4 chunks, which both programs read. */
static inline void pw_dp_skel_sizes(const struct pw_dp *dp, struct ingress_bpf *in, struct egress_bpf *out)
{
	in->rodata->pw_class_words = out->rodata->pw_class_words = dp->class_words;
	in->rodata->pw_flat4_chunks = out->rodata->pw_flat4_chunks = dp->flat4_chunks;
}

#endif
