/* metrics.h - Prometheus text-format metrics of a loaded portwall. */
#ifndef PW_METRICS_H
#define PW_METRICS_H

#include "datapath/state.h"
#include "datapath/stats.h"

#include <stddef.h>

/* Write the metrics to path atomically (a fresh temporary file renamed
 * over it, as node_exporter's textfile collector wants; lib/replace.h
 * says which directories are refused). cache (NULL: none) keeps the most
 * dropped ports from one write to the next. 0 or -errno with what failed. */
int pw_metrics_write(const struct pw_dp *dp, const struct pw_applied *a, const char *path,
		     struct pw_drops_cache *cache, char *err, size_t errsz);

#endif
