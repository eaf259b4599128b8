/* evlog.h - run's durable drop events: JSON Lines in a file rotated by
 * size (read back by log, top and suggest through policy/evrec.h), and
 * each event to the journal with structured fields when run's output is
 * the journal. */
#ifndef PW_EVLOG_H
#define PW_EVLOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "datapath/state.h"
#include "portwall.h"

#define PW_EVENTS_DIR "/var/log/portwall"
#define PW_EVENTS_MAX_SIZE (16u << 20)	/* bytes a file grows to before rotation */
#define PW_EVENTS_KEEP 5		/* rotated files kept: FILE.1 ... FILE.5 */

struct pw_evlog {
	char path[4096];
	FILE *f;		/* NULL: no file */
	off_t size;
	uint64_t max_size;
	int keep;
	bool journal;		/* structured to the journal (instead of stdout) */
	unsigned long written, failed;
	bool said;		/* a write failure was told */
};

/* PW_EVENTS_DIR/<root as in pw_run_path>.events.jsonl */
void pw_evlog_default_path(const char *root, char *buf, size_t size);

/* Open (create, mode 0600) path for appending. Its directory (the default
 * one is created, 0700) must not be writable by others unless sticky, and
 * the file must be a regular file of ours with one link; a symlink is
 * never followed. 0, or -errno with err. */
int pw_evlog_open(struct pw_evlog *w, const char *path, uint64_t max_size, int keep, char *err, size_t errsz);

/* One event: a line of the file (buffered; rotated past max_size) and, with
 * journal, the journal; text is its log line (MESSAGE=). */
void pw_evlog_write(struct pw_evlog *w, const struct pw_event *e, const struct pw_applied *a, const char *ifname,
		    const char *text);
/* The buffered lines to the file: once a poll round. */
void pw_evlog_flush(struct pw_evlog *w);
void pw_evlog_close(struct pw_evlog *w);

/* Is stdout the journal (systemd's JOURNAL_STREAM names it)? */
bool pw_stdout_is_journal(void);

#endif
