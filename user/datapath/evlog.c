/* evlog.c - run's drop events, durable: JSON Lines (jansson) appended to
 * a file of root's only, rotated by size, and structured journal entries
 * (sd_journal_send) when run's output goes to the journal anyway. */
#include "datapath/evlog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <systemd/sd-journal.h>

#include "datapath/events.h"
#include "datapath/status.h"
#include "lib/json.h"
#include "lib/replace.h"
#include "lib/sha256.h"
#include "policy/evrec.h"

void pw_evlog_default_path(const char *root, char *buf, size_t size)
{
	char run[600];

	pw_run_path(root, "events.jsonl", run, sizeof(run));
	snprintf(buf, size, "%s/%s", PW_EVENTS_DIR, strrchr(run, '/') + 1);
}

bool pw_stdout_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDOUT_FILENO, &st))
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* The file at path, opened to append: ours, regular, one link. */
static int open_file(struct pw_evlog *w, char *err, size_t n)
{
	int fd = open(w->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	struct stat st;

	if (fd < 0)
		return snprintf(err, n, "opening %s failed: %s%s", w->path, strerror(errno),
				errno == ELOOP ? " (a symlink: never followed; remove it)" : ""), -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_nlink != 1) {
		close(fd);
		return snprintf(err, n, "%s is not a file of portwall's own (not a regular file, another owner "
				"(uid %u) or %u links): refused; remove it", w->path, (unsigned)st.st_uid,
				(unsigned)st.st_nlink), -EPERM;
	}
	fchmod(fd, 0600);	/* one made before with another mode too */
	fcntl(fd, F_SETFL, O_WRONLY | O_APPEND);
	w->f = fdopen(fd, "a");
	if (!w->f) {
		close(fd);
		return snprintf(err, n, "opening %s failed: %s", w->path, strerror(errno)), -errno;
	}
	setvbuf(w->f, NULL, _IOFBF, 1 << 16);
	w->size = st.st_size;
	return 0;
}

int pw_evlog_open(struct pw_evlog *w, const char *path, uint64_t max_size, int keep, char *err, size_t n)
{
	memset(w, 0, sizeof(*w));
	w->max_size = max_size;
	w->keep = keep;
	w->journal = pw_stdout_is_journal();
	if (strlen(path) >= sizeof(w->path) - 8)
		return snprintf(err, n, "%s: the name is too long", path), -ENAMETOOLONG;
	snprintf(w->path, sizeof(w->path), "%s", path);
	if (strncmp(path, PW_EVENTS_DIR "/", sizeof(PW_EVENTS_DIR)) == 0 && mkdir(PW_EVENTS_DIR, 0700) == 0)
		chmod(PW_EVENTS_DIR, 0700);
	int rc = pw_replace_check(path, err, n);	/* its directory: as for replaced files */
	return rc ? rc : open_file(w, err, n);
}

/* FILE.keep-1 -> FILE.keep, ..., FILE -> FILE.1, and a new FILE. */
static void rotate(struct pw_evlog *w)
{
	char from[4200], to[4200], err[600];

	fclose(w->f);
	w->f = NULL;
	for (int i = w->keep; i >= 1; i--) {
		snprintf(to, sizeof(to), "%s.%d", w->path, i);
		if (i == 1)
			snprintf(from, sizeof(from), "%s", w->path);
		else
			snprintf(from, sizeof(from), "%s.%d", w->path, i - 1);
		rename(from, to);	/* a missing one is fine */
	}
	if (w->keep == 0)
		unlink(w->path);
	if (open_file(w, err, sizeof(err))) {
		fprintf(stderr, "portwall run: rotating the events file: %s; drop events go on to stdout only\n",
			err);
	}
}

static json_t *rule_json(const struct pw_event *e, const struct pw_applied *a)
{
	const struct pw_rule *r = pw_applied_rule(a, e->rule);

	if (!e->rule)
		return json_null();
	json_t *o = json_pack("{s:I}", "id", (json_int_t)e->rule);
	if (r) {
		json_object_set_new(o, "file", pw_json_string(r->file));
		json_object_set_new(o, "line", json_integer(r->line));
		json_object_set_new(o, "comment", pw_json_string(r->comment));
	}
	return o;
}

static json_t *event_json(const struct pw_event *e, int64_t ms, const struct pw_applied *a, const char *ifname)
{
	char t[40], s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], flags[8], hex[65];
	int af = e->fam == PW_FAM_V6 ? AF_INET6 : AF_INET, k = 0;
	bool ports = e->proto == 6 || e->proto == 17, icmp = e->proto == 1 || e->proto == 58;
	const char *pn = pw_proto_name(e->proto);

	pw_evrec_time(ms, true, t, sizeof(t));
	inet_ntop(af, e->src, s, sizeof(s));
	inet_ntop(af, e->dst, d, sizeof(d));
	for (int i = 0; e->proto == 6 && i < 6; i++)
		if (e->tcp_flags & (1 << i))
			flags[k++] = "FSRPAU"[i];
	flags[k] = '\0';
	pw_hex(a->meta.cur.hash, sizeof(a->meta.cur.hash), hex);
	return json_pack("{s:s,s:I,s:i,s:o?,s:s,s:s,s:o,s:s?,s:i,s:s,s:s,s:i,s:i,s:s,s:i,s:i,s:i,s:b,s:i,s:s}",
			 "time", t, "epoch_ms", (json_int_t)ms, "ifindex", (int)e->ifindex, "iface", pw_json_string(ifname), "dir",
			 e->dir ? "out" : "in", "reason", e->reason < PW_R_COUNT ? pw_reason_names[e->reason] : "?",
			 "rule", rule_json(e, a), "proto", pn, "ipproto", e->proto, "src", s, "dst", d, "sport",
			 ports ? ntohs(e->sport_be) : -1, "dport", ports ? ntohs(e->dport_be) : -1, "tcp_flags",
			 flags, "icmp_type", icmp ? e->icmp_type : -1, "vlan", e->vlan, "len", (int)e->len,
			 "monitor", e->monitor != 0, "generation", (int)a->meta.cur.generation, "policy_sha256", hex);
}

/* The journal's structured fields (journalctl -u portwall PORTWALL_DPORT=23). */
static void to_journal(const struct pw_event *e, const struct pw_applied *a, const char *ifname, const char *text)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], proto[16];
	const struct pw_rule *r = pw_applied_rule(a, e->rule);
	int af = e->fam == PW_FAM_V6 ? AF_INET6 : AF_INET;
	const char *pn = pw_proto_name(e->proto);

	inet_ntop(af, e->src, s, sizeof(s));
	inet_ntop(af, e->dst, d, sizeof(d));
	snprintf(proto, sizeof(proto), "%s", pn ? pn : "");
	if (!pn)
		snprintf(proto, sizeof(proto), "%u", e->proto);
	sd_journal_send("MESSAGE=%s", text, "PRIORITY=%d", e->monitor ? 6 : 5, "PORTWALL_RULE=%u", e->rule,
			"PORTWALL_RULE_LOCATION=%s:%d", r ? r->file : "-", r ? r->line : 0, "PORTWALL_REASON=%s",
			e->reason < PW_R_COUNT ? pw_reason_names[e->reason] : "?", "PORTWALL_PROTO=%s", proto,
			"PORTWALL_SRC=%s", s, "PORTWALL_DST=%s", d, "PORTWALL_SPORT=%u", ntohs(e->sport_be),
			"PORTWALL_DPORT=%u", ntohs(e->dport_be), "PORTWALL_IFACE=%s", ifname ? ifname : "",
			"PORTWALL_DIRECTION=%s", e->dir ? "out" : "in", "PORTWALL_MONITOR=%d", e->monitor ? 1 : 0,
			NULL);
}

void pw_evlog_write(struct pw_evlog *w, const struct pw_event *e, const struct pw_applied *a, const char *ifname,
		    const char *text)
{
	if (w->journal)
		to_journal(e, a, ifname, text);
	if (!w->f)
		return;
	json_t *o = event_json(e, pw_event_real_ms(e->ts_ns), a, ifname);
	char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!line || fprintf(w->f, "%s\n", line) < 0) {
		w->failed++;
	} else {
		w->size += (off_t)strlen(line) + 1;
		w->written++;
	}
	free(line);
	if (w->max_size && (uint64_t)w->size >= w->max_size) {
		pw_evlog_flush(w);
		rotate(w);
	}
}

void pw_evlog_flush(struct pw_evlog *w)
{
	if (w->f && fflush(w->f) && !w->said) {
		fprintf(stderr, "portwall run: writing the events file %s failed: %s (is the disk full?); "
			"events go on to stdout\n", w->path, strerror(errno));
		w->said = true;
	}
}

void pw_evlog_close(struct pw_evlog *w)
{
	if (w->f) {
		pw_evlog_flush(w);
		fclose(w->f);
	}
	w->f = NULL;
}
