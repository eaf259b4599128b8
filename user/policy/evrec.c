/* evrec.c - reading the events file `run` writes: a line as a record,
 * the rotated files oldest first, the current one followed, --since. */
#define _GNU_SOURCE	/* timegm */
#include "policy/evrec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "portwall.h"

static void copy_str(json_t *o, const char *key, char *buf, size_t size)
{
	const char *s = json_string_value(json_object_get(o, key));

	snprintf(buf, size, "%s", s ? s : "");
}

static int get_int(json_t *o, const char *key, int dflt)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (int)json_integer_value(v) : dflt;
}

static int addr(json_t *o, const char *key, uint8_t *fam, uint8_t out[16])
{
	const char *s = json_string_value(json_object_get(o, key));

	memset(out, 0, 16);
	if (!s)
		return -1;
	if (inet_pton(AF_INET, s, out) == 1) {
		*fam = PW_FAM_V4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out) == 1) {
		*fam = PW_FAM_V6;
		return 0;
	}
	return -1;
}

static void flags_of(const char *s, uint8_t *flags)
{
	*flags = 0;
	for (; s && *s; s++) {
		const char *p = strchr("FSRPAU", *s);
		if (p)
			*flags |= (uint8_t)(1u << (p - "FSRPAU"));
	}
}

static void rule_of(json_t *rule, struct pw_evrec *r)
{
	if (!json_is_object(rule))
		return;
	r->rule = (uint32_t)get_int(rule, "id", 0);
	copy_str(rule, "file", r->rule_file, sizeof(r->rule_file));
	r->rule_line = get_int(rule, "line", 0);
}

int pw_evrec_parse(const char *line, struct pw_evrec *r)
{
	json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
	int rc = -1;
	uint8_t fam2 = 0;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(o))
		goto out;
	json_t *ms = json_object_get(o, "epoch_ms"), *dir = json_object_get(o, "dir");
	if (!json_is_integer(ms) || !json_is_string(dir))
		goto out;
	r->ms = json_integer_value(ms);
	r->dir = strcmp(json_string_value(dir), "out") == 0 ? PW_DIR_OUT : PW_DIR_IN;
	r->ifindex = (uint32_t)get_int(o, "ifindex", 0);
	copy_str(o, "iface", r->iface, sizeof(r->iface));
	copy_str(o, "reason", r->reason, sizeof(r->reason));
	rule_of(json_object_get(o, "rule"), r);
	r->proto = (uint8_t)get_int(o, "ipproto", 0);
	if (addr(o, "src", &r->fam, r->src) || addr(o, "dst", &fam2, r->dst) || fam2 != r->fam)
		goto out;
	r->sport = get_int(o, "sport", -1);
	r->dport = get_int(o, "dport", -1);
	r->icmp_type = get_int(o, "icmp_type", -1);
	flags_of(json_string_value(json_object_get(o, "tcp_flags")), &r->tcp_flags);
	r->vlan = (uint16_t)get_int(o, "vlan", 0);
	r->len = (uint32_t)get_int(o, "len", 0);
	r->monitor = json_is_true(json_object_get(o, "monitor"));
	rc = 0;
out:
	json_decref(o);
	return rc;
}

void pw_evrec_event(const struct pw_evrec *r, struct pw_event *e)
{
	memset(e, 0, sizeof(*e));
	e->ifindex = r->ifindex;
	e->rule = r->rule;
	e->len = r->len;
	e->dir = r->dir;
	e->proto = r->proto;
	e->fam = r->fam;
	e->tcp_flags = r->tcp_flags;
	e->icmp_type = r->icmp_type < 0 ? 0 : (uint8_t)r->icmp_type;
	e->monitor = r->monitor;
	e->vlan = r->vlan;
	e->sport_be = htons(r->sport < 0 ? 0 : (uint16_t)r->sport);
	e->dport_be = htons(r->dport < 0 ? 0 : (uint16_t)r->dport);
	memcpy(e->src, r->src, 16);
	memcpy(e->dst, r->dst, 16);
}

void pw_evrec_time(int64_t ms, bool with_ms, char *buf, size_t size)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	size_t o = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	if (with_ms)
		snprintf(buf + o, size - o, ".%03dZ", (int)(ms % 1000));
	else
		snprintf(buf + o, size - o, "Z");
}

static int since_time(const char *arg, int64_t *since_ms)
{
	static const char *const fmts[] = { "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
					    "%Y-%m-%dT%H:%MZ", "%Y-%m-%d %H:%M", "%Y-%m-%d" };

	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		struct tm tm = { 0 };
		const char *end = strptime(arg, fmts[i], &tm);
		if (end && !*end) {
			*since_ms = (int64_t)timegm(&tm) * 1000;
			return 0;
		}
	}
	return -1;
}

int pw_since_parse(const char *arg, int64_t now_ms, int64_t *since_ms)
{
	char *end;
	errno = 0;
	long long v = strtoll(arg, &end, 10);

	if (end == arg || errno || v < 0 || (end[0] && end[1]))
		return since_time(arg, since_ms);
	static const char units[] = "smhdw";
	static const int64_t secs[] = { 1, 60, 3600, 86400, 604800 };
	const char *u = *end ? strchr(units, *end) : units;
	if (!u || !*u || v > 100LL * 365 * 86400)
		return since_time(arg, since_ms);
	*since_ms = now_ms - (int64_t)v * secs[u - units] * 1000;
	return 0;
}

int pw_evfiles_rotated(const char *path)
{
	char p[4200];
	struct stat st;
	int n = 0;

	while (n < 999) {
		snprintf(p, sizeof(p), "%s.%d", path, n + 1);
		if (lstat(p, &st))
			break;
		n++;
	}
	return n;
}

FILE *pw_evfile_open(const char *path, char *err, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;

	if (fd < 0) {
		int e = errno;
		snprintf(err, n, "opening %s failed: %s%s", path, strerror(e),
			 e == ELOOP ? " (a symlink: refused; the events file is never read through one)" : "");
		errno = e;
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(err, n, "%s is not an events file portwall wrote (not a regular file, or owned by uid %u, "
			 "or writable by others): refused; remove it, or give the file run writes (--events-file)",
			 path, (unsigned)st.st_uid);
		close(fd);
		errno = EPERM;
		return NULL;
	}
	fcntl(fd, F_SETFL, O_RDONLY);
	FILE *f = fdopen(fd, "r");
	if (!f)
		close(fd);
	return f;
}

/* The events of one open file; 0 or the count. */
static long read_lines(FILE *f, int64_t since_ms, void (*fn)(const struct pw_evrec *r, void *ctx), void *ctx,
		       long *bad)
{
	char *line = NULL;
	size_t cap = 0;
	long n = 0;
	struct pw_evrec r;

	while (getline(&line, &cap, f) > 0) {
		if (pw_evrec_parse(line, &r)) {
			(*bad)++;
			continue;
		}
		if (r.ms >= since_ms) {
			fn(&r, ctx);
			n++;
		}
	}
	free(line);
	return n;
}

long pw_evfiles_read(const char *path, int64_t since_ms, void (*fn)(const struct pw_evrec *r, void *ctx),
		     void *ctx, long *bad, char *err, size_t errsz)
{
	int rot = pw_evfiles_rotated(path);
	long total = 0;
	char p[4200];

	*bad = 0;
	for (int i = rot; i >= 0; i--) {
		if (i)
			snprintf(p, sizeof(p), "%s.%d", path, i);
		else
			snprintf(p, sizeof(p), "%s", path);
		FILE *f = pw_evfile_open(p, err, errsz);
		if (!f) {
			if (errno == ENOENT && (i || rot))
				continue;
			return -1;
		}
		total += read_lines(f, since_ms, fn, ctx, bad);
		fclose(f);
	}
	return total;
}

static int tail_reopen(struct pw_evtail *t, char *err, size_t errsz)
{
	struct stat st;

	t->f = pw_evfile_open(t->path, err, errsz);
	if (!t->f)
		return errno == ENOENT ? 0 : -1;
	fstat(fileno(t->f), &st);
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	return 0;
}

int pw_evtail_open(struct pw_evtail *t, const char *path, bool at_end, char *err, size_t errsz)
{
	memset(t, 0, sizeof(*t));
	t->path = path;
	if (tail_reopen(t, err, errsz))
		return -1;
	if (t->f && at_end)
		fseeko(t->f, 0, SEEK_END);
	return 0;
}

/* Whole lines from where the file was left; a part line waits. */
static long tail_lines(struct pw_evtail *t, int64_t since_ms, void (*fn)(const struct pw_evrec *r, void *ctx),
		       void *ctx)
{
	struct pw_evrec r;
	ssize_t len;
	long n = 0;

	for (;;) {
		off_t at = ftello(t->f);
		len = getline(&t->line, &t->cap, t->f);
		if (len <= 0)
			break;
		if (t->line[len - 1] != '\n') {
			fseeko(t->f, at, SEEK_SET);	/* written half: read it whole later */
			break;
		}
		if (pw_evrec_parse(t->line, &r) == 0 && r.ms >= since_ms) {
			fn(&r, ctx);
			n++;
		}
	}
	clearerr(t->f);
	return n;
}

long pw_evtail_poll(struct pw_evtail *t, int64_t since_ms, void (*fn)(const struct pw_evrec *r, void *ctx),
		    void *ctx)
{
	struct stat st;
	char err[600];
	long n = 0;

	if (t->f)
		n += tail_lines(t, since_ms, fn, ctx);
	if (stat(t->path, &st) == 0 && t->f && st.st_dev == t->dev && st.st_ino == t->ino)
		return n;
	if (t->f) {
		/* rotated (or removed): the old file's last lines were read above */
		fclose(t->f);
		t->f = NULL;
	}
	if (tail_reopen(t, err, sizeof(err)) == 0 && t->f)
		n += tail_lines(t, since_ms, fn, ctx);
	return n;
}

void pw_evtail_close(struct pw_evtail *t)
{
	if (t->f)
		fclose(t->f);
	free(t->line);
	t->f = NULL;
	t->line = NULL;
}
