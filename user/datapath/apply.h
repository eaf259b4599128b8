/* apply.h - apply (and hot-reload) a policy: shared by apply, reload and run. */
#ifndef PW_APPLY_H
#define PW_APPLY_H

#include <stdbool.h>
#include <stdint.h>

#include "datapath/attach.h"

struct pw_apply_opts {
	const char *policy, *ifaces, *netns, *root;
	int mode;		/* -1: the policy's */
	enum pw_xdp_want xdp;
	bool force, verbose;
	unsigned confirm;	/* seconds, 0: no confirmation asked */
	bool unload_on_exit;	/* run only */
	const char *metrics_file;	/* run only: Prometheus text, every few seconds */
	uint32_t ct_capacity;	/* 0: the default (first apply only) */
	uint32_t event_rate;	/* drop events a second, 0: keep */
	/* conntrack timeouts in seconds, 0: keep; by pw_config's order */
	uint32_t ct_tcp_syn, ct_tcp_est, ct_tcp_close, ct_udp, ct_icmp, ct_other, frag_timeout;
};

/* Parse apply's options (and run's, when run). 0, 1 after --help, -1. */
int pw_apply_parse(int argc, char **argv, struct pw_apply_opts *o, bool run);
/* Apply or hot-reload; prints what it did. Returns an exit code. */
int pw_apply(struct pw_apply_opts o);

#endif
