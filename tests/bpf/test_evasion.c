/* test_evasion.c - the evasion corpus: every tests/evasion/NAME.case is one
 * test named NAME. A case loads its policy into a fresh private datapath,
 * builds each packet (words of `portwall test`, raw hex, then mutations),
 * runs it with BPF_PROG_TEST_RUN through the program of its direction and
 * checks the verdict, the reason and the deciding rule exactly. Packets of
 * one case share the maps, so a flow opened outbound is there for its
 * reply. The format is in tests/evasion/README.md.
 *
 * The corpus is found at tests/evasion (tests run from the repository's
 * root) or at $PW_EVASION_DIR. PW_EVASION_DUMP=1 prints every frame in hex.
 * An argument runs only the cases whose names contain it. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dp_env.h"
#include "harness.h"
#include "datapath/loader.h"
#include "policy/packet.h"

#define CASE_SUFFIX ".case"
#define LINE_MAX_LEN 1024

static const char *corpus_dir;
static bool dump_frames;
static unsigned total_packets;

/* ---- the datapath of one case --------------------------------------------- */

/* Load a case's policy (its text; path names it in messages), with its
 * host names and `resolver` addresses when it has names. */
static int up(const char *path, const char *text)
{
	char err[256];

	if (up_with(path, text, 0, NULL)) {
		FAILF("%s: the policy does not load (above)", path);
		return -1;
	}
	if (E.c.nnames && pw_dp_write_policy_names(&E.dp, 0, &E.c, E.c.resolvers, E.c.nresolvers, err, sizeof(err))) {
		FAILF("%s: writing its host names failed: %s", path, err);
		return -1;
	}
	return 0;
}


/* ---- reading a case ------------------------------------------------------- */

/* Where the headers of a frame start, found from its bytes before any
 * mutation (so mutations never move each other's fields). 0: not present. */
struct layout {
	size_t l3, l4, frag;	/* IPv4/IPv6 header, L4 header, IPv6 fragment header */
	size_t ext;		/* the first IPv6 extension header */
	int fam;		/* 4, 6, or 0 */
};

struct pkt {
	bool open;		/* a packet is being described */
	int line;		/* where it starts */
	char text[LINE_MAX_LEN];
	uint32_t dir;
	uint8_t link;		/* enum pw_link: the programs that judge it */
	uint8_t frame[PW_PKT_OUT_MAX];
	size_t len;
	bool laid_out;
	struct layout lo;
};

struct rd {
	const char *file;	/* the case's path, for messages */
	int line;
	int npackets;
	bool policy;		/* a datapath is up */
	char *inline_policy;	/* policy-line text gathered so far */
	size_t inline_len;
	struct pkt p;
};

#define CASE_FAIL(r, fmt, ...) FAILF("%s:%d: " fmt, (r)->file, (r)->line, ##__VA_ARGS__)

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void lay_out(struct pkt *p)
{
	struct layout *lo = &p->lo;
	const uint8_t *f = p->frame;
	size_t o = 12;

	memset(lo, 0, sizeof(*lo));
	p->laid_out = true;
	uint16_t et;
	if (p->link == PW_LINK_L3) {
		/* the packet starts at its IP header: the version says which */
		o = 0;
		et = p->len && f[0] >> 4 == 4 ? 0x0800 : p->len && f[0] >> 4 == 6 ? 0x86dd : 0;
	} else {
		while (o + 2 <= p->len && (get16(f + o) == 0x8100 || get16(f + o) == 0x88a8))
			o += 4;
		if (o + 2 > p->len)
			return;
		et = get16(f + o);
		o += 2;
	}
	if (et == 0x0800 && o + 20 <= p->len) {
		lo->fam = 4;
		lo->l3 = o;
		lo->l4 = o + (size_t)(f[o] & 0x0f) * 4;
	} else if (et == 0x86dd && o + 40 <= p->len) {
		lo->fam = 6;
		lo->l3 = o;
		uint8_t nh = f[o + 6];
		o += 40;
		for (int i = 0; i < 16 && o + 8 <= p->len; i++) {
			size_t hl;
			if (nh == 0 || nh == 43 || nh == 60)
				hl = ((size_t)f[o + 1] + 1) * 8;
			else if (nh == 51)
				hl = ((size_t)f[o + 1] + 2) * 4;
			else if (nh == 44)
				hl = 8;
			else
				break;
			if (!lo->ext)
				lo->ext = o;
			if (nh == 44)
				lo->frag = o;
			nh = f[o];
			o += hl;
		}
		lo->l4 = o;
	}
}

/* A number: decimal or 0x hex. */
static bool number(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	unsigned long v = strtoul(s, &end, 0);
	if (*end || errno || v > max)
		return false;
	*out = v;
	return true;
}

/* "N" sets the field to N; "+N" / "-N" move it from its current value. */
static bool field_value(const char *s, unsigned long cur, unsigned long max, unsigned long *out)
{
	unsigned long v;

	if (*s == '+' || *s == '-') {
		if (!number(s + 1, max, &v))
			return false;
		if (*s == '+' ? cur + v > max : v > cur)
			return false;
		*out = *s == '+' ? cur + v : cur - v;
		return true;
	}
	return number(s, max, out);
}

/* set FIELD VALUE */
static int do_set(struct rd *r, const char *field, const char *val)
{
	struct pkt *p = &r->p;
	const struct layout *lo = &p->lo;
	uint8_t *f = p->frame;
	size_t at, width;	/* the bytes the field lives in */
	unsigned shift = 0;
	unsigned long mask, cur, v;

	if (strcmp(field, "ip.version") == 0 && lo->fam) {
		at = lo->l3, width = 1, shift = 4, mask = 0xf;
	} else if (strcmp(field, "ip.ihl") == 0 && lo->fam == 4) {
		at = lo->l3, width = 1, mask = 0xf;
	} else if (strcmp(field, "ip.totlen") == 0 && lo->fam == 4) {
		at = lo->l3 + 2, width = 2, mask = 0xffff;
	} else if (strcmp(field, "ip.fragoff") == 0 && lo->fam == 4) {
		at = lo->l3 + 6, width = 2, mask = 0x1fff;
	} else if (strcmp(field, "ip.mf") == 0 && lo->fam == 4) {
		at = lo->l3 + 6, width = 2, shift = 13, mask = 1;
	} else if (strcmp(field, "ip.fragoff") == 0 && lo->frag) {
		at = lo->frag + 2, width = 2, shift = 3, mask = 0x1fff;
	} else if (strcmp(field, "ip.mf") == 0 && lo->frag) {
		at = lo->frag + 2, width = 2, mask = 1;
	} else if (strcmp(field, "ip6.plen") == 0 && lo->fam == 6) {
		at = lo->l3 + 4, width = 2, mask = 0xffff;
	} else if (strcmp(field, "ext.len") == 0 && lo->ext) {
		at = lo->ext + 1, width = 1, mask = 0xff;
	} else if (strcmp(field, "tcp.doff") == 0 && lo->l4) {
		at = lo->l4 + 12, width = 1, shift = 4, mask = 0xf;
	} else if (strcmp(field, "udp.len") == 0 && lo->l4) {
		at = lo->l4 + 4, width = 2, mask = 0xffff;
	} else {
		CASE_FAIL(r, "set: no field \"%s\" in this packet (ip.version, ip.ihl, ip.totlen, ip.fragoff, "
			  "ip.mf, ip6.plen, ext.len, tcp.doff, udp.len)", field);
		return -1;
	}
	if (at + width > p->len) {
		CASE_FAIL(r, "set %s: the field lies past the frame", field);
		return -1;
	}
	unsigned long word = width == 2 ? get16(f + at) : f[at];
	cur = (word >> shift) & mask;
	if (!field_value(val, cur, mask, &v)) {
		CASE_FAIL(r, "set %s: bad value \"%s\" (0-%lu, or +N/-N from %lu)", field, val, mask, cur);
		return -1;
	}
	word = (word & ~(mask << shift)) | (v << shift);
	if (width == 2)
		put16(f + at, (uint16_t)word);
	else
		f[at] = (uint8_t)word;
	return 0;
}

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : isxdigit(c) ? tolower(c) - 'a' + 10 : -1;
}

/* Append (or write at *at) the hex bytes of words; blanks between bytes are
 * free. */
static int hex_bytes(struct rd *r, char **w, int n, uint8_t *to, size_t *at, size_t size)
{
	for (int i = 0; i < n; i++) {
		for (const char *s = w[i]; *s; s += 2) {
			int hi = hexval((unsigned char)s[0]), lo = hi < 0 ? -1 : hexval((unsigned char)s[1]);
			if (hi < 0 || lo < 0) {
				CASE_FAIL(r, "bad hex \"%s\": pairs of hex digits", w[i]);
				return -1;
			}
			if (*at >= size) {
				CASE_FAIL(r, "the bytes run past the frame (%zu bytes at most)", size);
				return -1;
			}
			to[(*at)++] = (uint8_t)(hi << 4 | lo);
		}
	}
	return 0;
}

/* poke REGION+OFF HEX...: REGION is frame, l3 or l4 */
static int do_poke(struct rd *r, char **w, int n)
{
	struct pkt *p = &r->p;
	const char *plus = strchr(w[0], '+');
	unsigned long off = 0;
	size_t base;

	if (plus && !number(plus + 1, PW_PKT_OUT_MAX, &off))
		plus = NULL;
	size_t rl = plus ? (size_t)(plus - w[0]) : strlen(w[0]);
	if (rl == 5 && strncmp(w[0], "frame", 5) == 0)
		base = 0;
	else if (rl == 2 && strncmp(w[0], "l3", 2) == 0 && p->lo.l3)
		base = p->lo.l3;
	else if (rl == 2 && strncmp(w[0], "l4", 2) == 0 && p->lo.l4)
		base = p->lo.l4;
	else {
		CASE_FAIL(r, "poke takes frame+N, l3+N or l4+N (of a header the packet has), then hex bytes");
		return -1;
	}
	size_t at = base + off;
	if (n < 2 || at > p->len) {
		CASE_FAIL(r, "poke %s: nothing to write, or past the frame", w[0]);
		return -1;
	}
	return hex_bytes(r, w + 1, n - 1, p->frame, &at, p->len);
}

static const char *vname(int v)
{
	return v == PW_PASS ? "PASS" : v == PW_DROP ? "DROP" : "?";
}

static const char *rname(int reason)
{
	return reason >= 0 && reason < PW_R_COUNT ? pw_reason_names[reason] : "none";
}

static void print_hex(FILE *to, const uint8_t *f, size_t len)
{
	for (size_t i = 0; i < len; i++)
		fprintf(to, "%s%02x%s", i % 32 == 0 ? "      " : i % 2 == 0 ? " " : "", f[i],
			i % 32 == 31 || i + 1 == len ? "\n" : "");
}

/* expect PASS|DROP REASON [rule N]: run the packet and compare */
static int do_expect(struct rd *r, char **w, int n)
{
	struct pkt *p = &r->p;
	int verdict, reason = -1;
	unsigned long rule = 0;
	struct pw_dp_result res;

	if (n != 2 && n != 4) {
		CASE_FAIL(r, "expect takes PASS|DROP REASON [rule N]");
		return -1;
	}
	verdict = strcmp(w[0], "PASS") == 0 ? PW_PASS : strcmp(w[0], "DROP") == 0 ? PW_DROP : -1;
	for (int k = 0; k < PW_R_COUNT; k++)
		if (strcmp(w[1], pw_reason_names[k]) == 0)
			reason = k;
	if (verdict < 0 || reason < 0 || (n == 4 && (strcmp(w[2], "rule") || !number(w[3], 1u << 20, &rule)))) {
		CASE_FAIL(r, "expect takes PASS|DROP, a reason (allow-rule, default, malformed, fragment, ...) "
			  "and optionally rule N");
		return -1;
	}
	p->open = false;
	r->npackets++;
	total_packets++;
	if (dump_frames) {
		printf("    %s:%d: %s\n", r->file, p->line, p->text);
		print_hex(stdout, p->frame, p->len);
	}
	if (pw_dp_judge_link(&E.dp, E.c.nrules, p->link, p->dir, p->frame, p->len, &res)) {
		CASE_FAIL(r, "running the packet of line %d failed", p->line);
		return -1;
	}
	if (res.verdict != verdict || res.reason != reason || res.rule != rule) {
		FAILF("%s:%d: %s\n      got %s %s rule %u, expected %s %s rule %lu; the frame (%zu bytes):",
		      r->file, p->line, p->text, vname(res.verdict), rname(res.reason), res.rule, w[0], w[1],
		      rule, p->len);
		print_hex(stderr, p->frame, p->len);
	}
	return 0;
}

/* Everything after the first word, for messages. */
static void keep_text(struct pkt *p, char **w, int n)
{
	size_t o = 0;

	p->text[0] = '\0';
	for (int i = 0; i < n && o < sizeof(p->text); i++)
		o += (size_t)snprintf(p->text + o, sizeof(p->text) - o, "%s%s", i ? " " : "", w[i]);
}

static int start_packet(struct rd *r)
{
	if (r->p.open) {
		CASE_FAIL(r, "the packet of line %d has no expect line", r->p.line);
		return -1;
	}
	if (!r->policy) {
		if (!r->inline_policy) {
			CASE_FAIL(r, "no policy before the first packet (policy FILE or policy-line TEXT)");
			return -1;
		}
		if (up(r->file, r->inline_policy))
			return -1;
		r->policy = true;
	}
	memset(&r->p, 0, sizeof(r->p));
	r->p.open = true;
	r->p.line = r->line;
	return 0;
}

static int read_file_text(const char *path, char **out)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t n = 0;

	if (!f)
		return -1;
	FILE *m = open_memstream(&buf, &n);
	int c;
	while (m && (c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(f);
	if (!m)
		return -1;
	fclose(m);
	*out = buf;
	return 0;
}

/* expect-dns FIELD N: the DNS learner's counter FIELD (pw_dns_stats) is N
 * since the case began. */
static int do_expect_dns(struct rd *r, char **w, int n)
{
	static const char *const fields[] = { "queries", "answers", "learned", "refreshed", "unsolicited",
					      "malformed", "truncated", "mismatched", "full", "untrusted" };
	struct pw_dns_stats st;
	unsigned long want;

	if (n != 2 || !number(w[1], 1u << 30, &want)) {
		CASE_FAIL(r, "expect-dns takes FIELD N");
		return -1;
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strcmp(w[0], fields[i]))
			continue;
		if (pw_dp_dns_stats(&E.dp, &st)) {
			CASE_FAIL(r, "reading pw_dns_stats failed");
			return -1;
		}
		unsigned long long got = ((const __u64 *)&st)[i];
		if (got != want)
			CASE_FAIL(r, "DNS counter %s is %llu, expected %lu", w[0], got, want);
		return 0;
	}
	CASE_FAIL(r, "expect-dns: no counter \"%s\" (queries, answers, learned, refreshed, unsolicited, malformed, "
		  "truncated, mismatched, full, untrusted)", w[0]);
	return -1;
}

/* One line of a case, split into words w[0..n-1]. */
static int directive(struct rd *r, char **w, int n)
{
	struct pkt *p = &r->p;
	const char *d = w[0];

	if (strcmp(d, "policy") == 0 || strcmp(d, "policy-line") == 0) {
		if (r->policy) {
			CASE_FAIL(r, "the policy comes before the first packet");
			return -1;
		}
		if (strcmp(d, "policy") == 0) {
			char path[4096], *text;
			if (n != 2 || r->inline_policy) {
				CASE_FAIL(r, "policy takes one file (and no policy-line besides)");
				return -1;
			}
			snprintf(path, sizeof(path), "%s/%s", corpus_dir, w[1]);
			if (read_file_text(path, &text)) {
				CASE_FAIL(r, "cannot read %s: %s", path, strerror(errno));
				return -1;
			}
			int rc = up(path, text);
			free(text);
			if (rc)
				return -1;
			r->policy = true;
			return 0;
		}
		/* policy-line: the words joined again, one policy line */
		char line[LINE_MAX_LEN];
		size_t o = 0;
		for (int i = 1; i < n && o < sizeof(line); i++)
			o += (size_t)snprintf(line + o, sizeof(line) - o, "%s%s", i > 1 ? " " : "", w[i]);
		char *grown = realloc(r->inline_policy, r->inline_len + strlen(line) + 2);
		if (!grown)
			return -1;
		r->inline_policy = grown;
		r->inline_len += (size_t)sprintf(grown + r->inline_len, "%s\n", line);
		return 0;
	}
	if (strcmp(d, "wait") == 0) {
		unsigned long secs;
		if (r->p.open || !r->policy) {
			CASE_FAIL(r, "wait comes between packets (after an expect)");
			return -1;
		}
		if (n != 2 || !number(w[1], 30 * 86400, &secs)) {
			CASE_FAIL(r, "wait takes SECONDS (0-2592000)");
			return -1;
		}
		/* the flows and fragments age as if the time had passed */
		if (pw_dp_age(&E.dp, (uint32_t)secs) < 0) {
			CASE_FAIL(r, "ageing the datapath's state failed");
			return -1;
		}
		return 0;
	}
	if (strcmp(d, "expect-dns") == 0) {
		if (r->p.open || !r->policy) {
			CASE_FAIL(r, "expect-dns comes between packets (after an expect)");
			return -1;
		}
		return do_expect_dns(r, w + 1, n - 1);
	}
	if (strcmp(d, "packet") == 0) {
		char err[256];
		struct pw_pktspec s;
		if (start_packet(r))
			return -1;
		keep_text(p, w + 1, n - 1);
		if (pw_pkt_parse(n - 1, w + 1, &s, err, sizeof(err))) {
			CASE_FAIL(r, "bad packet: %s", err);
			return -1;
		}
		p->dir = s.dir;
		p->link = s.l3 ? PW_LINK_L3 : PW_LINK_ETHER;
		p->len = pw_pkt_build(&s, p->frame, sizeof(p->frame));
		if (!p->len) {
			CASE_FAIL(r, "the packet does not fit in a frame");
			return -1;
		}
		return 0;
	}
	if (strcmp(d, "raw") == 0 || strcmp(d, "raw-l3") == 0) {
		if (start_packet(r))
			return -1;
		if (n < 2 || (strcmp(w[1], "in") && strcmp(w[1], "out"))) {
			CASE_FAIL(r, "%s takes in|out, then hex bytes", d);
			return -1;
		}
		p->dir = strcmp(w[1], "in") == 0 ? PW_DIR_IN : PW_DIR_OUT;
		/* raw-l3: bytes from the IP header, through the L3 programs */
		p->link = d[3] ? PW_LINK_L3 : PW_LINK_ETHER;
		snprintf(p->text, sizeof(p->text), "%s %s frame", d, w[1]);
		return hex_bytes(r, w + 2, n - 2, p->frame, &p->len, sizeof(p->frame));
	}
	if (!p->open) {
		CASE_FAIL(r, "\"%s\" outside a packet (packet or raw starts one)", d);
		return -1;
	}
	if (strcmp(d, "hex") == 0) {
		if (p->laid_out) {
			CASE_FAIL(r, "hex lines come before the mutations");
			return -1;
		}
		return hex_bytes(r, w + 1, n - 1, p->frame, &p->len, sizeof(p->frame));
	}
	if (!p->laid_out)
		lay_out(p);
	if (strcmp(d, "set") == 0) {
		if (n != 3) {
			CASE_FAIL(r, "set takes FIELD VALUE");
			return -1;
		}
		return do_set(r, w[1], w[2]);
	}
	if (strcmp(d, "truncate") == 0) {
		unsigned long len;
		if (n != 2 || !number(w[1], p->len, &len) || len < 1) {
			CASE_FAIL(r, "truncate takes a length 1-%zu (the frame's length at most)", p->len);
			return -1;
		}
		p->len = len;
		return 0;
	}
	if (strcmp(d, "poke") == 0)
		return do_poke(r, w + 1, n - 1);
	if (strcmp(d, "expect") == 0)
		return do_expect(r, w + 1, n - 1);
	CASE_FAIL(r, "unknown line \"%s\": policy, policy-line, wait, expect-dns, packet, raw, raw-l3, hex, set, "
		  "truncate, poke, expect", d);
	return -1;
}

/* Run one case file. Stops at its first error of form; a wrong verdict
 * is reported and the case goes on. */
static void run_case(const char *path)
{
	FILE *f = fopen(path, "r");
	struct rd r = { .file = path };
	char line[LINE_MAX_LEN + 2];
	bool named = false;

	if (!f) {
		FAILF("%s: %s", path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char *w[64], *save, *t;
		int n = 0;
		r.line++;
		if (!strchr(line, '\n') && !feof(f)) {
			CASE_FAIL(&r, "line longer than %d bytes", LINE_MAX_LEN);
			break;
		}
		if (!named) {
			/* the case begins with a comment that names and explains it */
			const char *s = line + strspn(line, " \t\r\n");
			if (!*s)
				continue;
			if (*s != '#' || !s[1 + strspn(s + 1, " \t\r\n#")]) {
				CASE_FAIL(&r, "a case starts with a comment naming the evasion and explaining it");
				break;
			}
			named = true;
		}
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		for (t = strtok_r(line, " \t\r\n", &save); t && n < 64; t = strtok_r(NULL, " \t\r\n", &save))
			w[n++] = t;
		if (n == 64) {
			CASE_FAIL(&r, "too many words (63 at most)");
			break;
		}
		if (n && directive(&r, w, n))
			break;
	}
	if (!pw_test_failed && r.p.open)
		CASE_FAIL(&r, "the packet of line %d has no expect line", r.p.line);
	if (!pw_test_failed && r.npackets == 0)
		CASE_FAIL(&r, "no packets");
	fclose(f);
	free(r.inline_policy);
	down();
}

/* ---- one test per case file ------------------------------------------------ */

struct pw_test pw_tests[PW_MAX_TESTS];
int pw_ntests, pw_test_failed;

static char *case_paths[PW_MAX_TESTS];
static int current;

static void run_current(void)
{
	run_case(case_paths[current]);
}

static int is_case(const struct dirent *d)
{
	size_t n = strlen(d->d_name), s = strlen(CASE_SUFFIX);
	return n > s && d->d_name[0] != '.' && strcmp(d->d_name + n - s, CASE_SUFFIX) == 0;
}

static int find_cases(void)
{
	struct dirent **names;
	int n = scandir(corpus_dir, &names, is_case, alphasort);

	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (pw_ntests < PW_MAX_TESTS) {
			char *name = strdup(names[i]->d_name);
			if (name && asprintf(&case_paths[pw_ntests], "%s/%s", corpus_dir, name) > 0) {
				name[strlen(name) - strlen(CASE_SUFFIX)] = '\0';
				pw_tests[pw_ntests++] = (struct pw_test){ name, run_current };
			} else {
				free(name);
			}
		}
		free(names[i]);
	}
	free(names);
	return 0;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;

	if (geteuid() != 0) {
		printf("test_evasion needs root (BPF_PROG_TEST_RUN): skipped\n0 passed, 0 failed\n");
		return 0;
	}
	E.want_l3 = true;	/* the cases pick their link */
	corpus_dir = getenv("PW_EVASION_DIR") ? getenv("PW_EVASION_DIR") : "tests/evasion";
	dump_frames = getenv("PW_EVASION_DUMP") && strcmp(getenv("PW_EVASION_DUMP"), "0") != 0;
	if (find_cases() || pw_ntests == 0) {
		printf("no %s files in %s (run from the repository's root, or set PW_EVASION_DIR)\n"
		       "0 passed, 1 failed\n", CASE_SUFFIX, corpus_dir);
		return 1;
	}
	dp_pin_cpu();
	for (current = 0; current < pw_ntests; current++) {
		if (argc > 1 && !strstr(pw_tests[current].name, argv[1]))
			continue;
		pw_test_failed = 0;
		pw_tests[current].fn();
		printf("%s %s\n", pw_test_failed ? "FAIL" : "ok  ", pw_tests[current].name);
		fflush(stdout);
		pw_test_failed ? failed++ : passed++;
	}
	printf("    %d cases, %u packets\n", passed + failed, total_packets);
	dp_unload();
	printf("    the programs were loaded (and verified) %d times for %d cases\n", E.loads, passed + failed);
	printf("%d passed, %d failed\n", passed, failed);
	for (int i = 0; i < pw_ntests; i++) {
		free((char *)pw_tests[i].name);
		free(case_paths[i]);
	}
	return failed ? 1 : 0;
}
