/* metrics.h - Prometheus text-format metrics of a loaded portwall. */
#ifndef PW_METRICS_H
#define PW_METRICS_H

#include "datapath/state.h"
#include "datapath/stats.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* What the agent (run) knows beside the maps: its pin root (the pin_root
 * label: its last part) and the outcome of its reloads. */
struct pw_metrics_ctx {
	const char *pin_root;
	uint64_t reloads_ok, reloads_failed;
	int last_ok;		/* the last reload (or the start) put its policy in force */
	time_t last_unix;	/* when it was tried */
};

/* The metrics as Prometheus text (version 0.0.4) into *text (malloc'd,
 * *len bytes, to free()). Every sample carries host, pin_root and policy
 * labels. ctx may be NULL (no reload metrics); cache (NULL: none) keeps
 * the most dropped ports from one call to the next. 0 or -errno with what
 * failed. */
int pw_metrics_render(const struct pw_dp *dp, const struct pw_applied *a, const struct pw_metrics_ctx *ctx,
		      struct pw_drops_cache *cache, char **text, size_t *len, char *err, size_t errsz);

/* Write text to path atomically (a fresh temporary file renamed over it,
 * as node_exporter's textfile collector wants; lib/replace.h says which
 * directories are refused). 0 or -errno with what failed. */
int pw_metrics_write_text(const char *text, size_t len, const char *path, char *err, size_t errsz);

/* pw_metrics_render, then pw_metrics_write_text. */
int pw_metrics_write(const struct pw_dp *dp, const struct pw_applied *a, const struct pw_metrics_ctx *ctx,
		     const char *path, struct pw_drops_cache *cache, char *err, size_t errsz);

#endif
