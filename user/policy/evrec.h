/* evrec.h - drop events as the events file holds them (JSON Lines that
 * `run` writes, rotated as FILE, FILE.1, ... FILE.N): one record, reading
 * the files oldest first, following the current one, and --since. No
 * kernel: suggest, log and top read through here, and unit tests too. */
#ifndef PW_EVREC_H
#define PW_EVREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct pw_evrec {
	int64_t ms;		/* wall clock, ms since the epoch (UTC) */
	uint32_t ifindex;
	char iface[20];		/* "" unknown */
	uint8_t dir;		/* PW_DIR_IN / PW_DIR_OUT */
	char reason[24];	/* "default", "deny-rule", ... */
	uint32_t rule;		/* 0: none */
	char rule_file[256];	/* "" unknown */
	int rule_line;
	uint8_t proto, fam;	/* IP protocol; PW_FAM_V4 / PW_FAM_V6 */
	uint8_t src[16], dst[16];
	int sport, dport;	/* -1 without ports */
	int icmp_type;		/* -1 not ICMP */
	uint8_t tcp_flags;	/* bits as pw_event's */
	uint16_t vlan;
	uint32_t len;
	bool monitor;
};

/* One line of the file. 0, or -1 when it is not an event. */
int pw_evrec_parse(const char *line, struct pw_evrec *r);

/* The record as the kernel's event (ts_ns 0: its time is r->ms), for the
 * printers of events.h; the reason is the caller's (its names are the
 * datapath's). */
struct pw_event;
void pw_evrec_event(const struct pw_evrec *r, struct pw_event *e);

/* "2026-12-02T19:00:01.123Z" (with_ms) or "...:01Z". */
void pw_evrec_time(int64_t ms, bool with_ms, char *buf, size_t size);

/* --since: a duration back from now_ms ("90s", "15m", "2h", "7d", "1w") or
 * a UTC time ("2026-12-02T19:00:00Z", "2026-12-02 19:00", "2026-12-02").
 * 0 and *since_ms, or -1. */
int pw_since_parse(const char *arg, int64_t now_ms, int64_t *since_ms);

/* The rotated files kept: FILE.1 (newest) ... FILE.N; how many exist in a
 * row from .1 (at most 999). */
int pw_evfiles_rotated(const char *path);

/* Open an events file for reading: a regular file, not a symlink (O_NOFOLLOW),
 * owned by root or by us, not writable by others. NULL with errno (EPERM:
 * refused) and a message in err. */
FILE *pw_evfile_open(const char *path, char *err, size_t errsz);

/* Every event of FILE.N ... FILE.1, FILE (oldest first) at or after
 * since_ms, to fn. *bad counts lines that are not events. Returns the
 * events given, or -1 with err (the current file missing is no error when
 * rotated ones exist; no file at all is -1 with errno ENOENT). */
long pw_evfiles_read(const char *path, int64_t since_ms, void (*fn)(const struct pw_evrec *r, void *ctx),
		     void *ctx, long *bad, char *err, size_t errsz);

/* Following the current file as it grows and is rotated (log --follow,
 * top): whole lines only. */
struct pw_evtail {
	const char *path;
	FILE *f;
	dev_t dev;
	ino_t ino;
	char *line;
	size_t cap;
};

/* Start at the end of the file (at_end) or at its beginning. 0, or -1
 * with err (a missing file is waited for: 0). */
int pw_evtail_open(struct pw_evtail *t, const char *path, bool at_end, char *err, size_t errsz);
/* Give the whole lines written since to fn; on rotation, the rest of the
 * old file and then the new one from its start. Returns the events given. */
long pw_evtail_poll(struct pw_evtail *t, int64_t since_ms, void (*fn)(const struct pw_evrec *r, void *ctx),
		    void *ctx);
void pw_evtail_close(struct pw_evtail *t);

#endif
