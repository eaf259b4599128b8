/* events.h - drop events as log lines (for run, and later log). */
#ifndef PW_EVENTS_H
#define PW_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "portwall.h"

/* "2026-11-25T20:40:01.123Z eth1 in default rule=0 tcp 203.0.113.9:40000 -> 192.0.2.2:23 [S]"
 * ifname may be NULL (the ifindex is shown); rule_loc names the rule
 * ("file:line"), NULL for none. */
void pw_event_format(const struct pw_event *e, int64_t real_ms, const char *ifname, const char *rule_loc,
		     char *buf, size_t size);

/* The same as one JSON object (a line of JSON Lines), no newline, malloc'd
 * (free it), NULL when out of memory. rule_file NULL when the rule is
 * unknown. Names that are not UTF-8 (an interface's, a file's) get U+FFFD
 * for the bad bytes: the line is always valid JSON. */
char *pw_event_json(const struct pw_event *e, int64_t real_ms, const char *ifname, const char *rule_file,
		    int rule_line);

/* An event's time (bpf_ktime_get_ns, monotonic) as wall-clock ms since
 * the epoch. real_ms above is that, or the time an events file recorded. */
int64_t pw_event_real_ms(uint64_t ts_ns);

/* Only one reader may consume the ring buffer (a second would take events
 * from the first): an exclusive, non-blocking lock per pin root. Returns the
 * lock fd, or -1 with the holder's pid in *holder (0 if unknown). */
int pw_events_lock(const char *root, int *holder);

#endif
