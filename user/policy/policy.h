/* policy.h - the parsed policy: statements, sets and rules. */
#ifndef PW_POLICY_H
#define PW_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "policy/addr.h"
#include "lib/diag.h"
#include "portwall.h"

#define PW_INCLUDE_MAX_DEPTH 8

/* Protocol bits of a rule. */
enum {
	PW_P_TCP = 1 << 0,
	PW_P_UDP = 1 << 1,
	PW_P_ICMP = 1 << 2,
	PW_P_ICMPV6 = 1 << 3,
	PW_P_OTHER = 1 << 4,	/* `proto N`: ip_proto */
};

struct pw_range {
	uint16_t lo, hi;	/* inclusive */
};

struct pw_rule {
	uint32_t id;		/* 1-based, reading order */
	uint8_t action;		/* PW_PASS (allow) / PW_DROP (deny) */
	uint8_t dirs;		/* bit PW_DIR_IN and/or bit PW_DIR_OUT */
	uint8_t protos;		/* PW_P_* */
	uint8_t ip_proto;	/* with PW_P_OTHER */
	/* ports (tcp/udp) or ICMP types, sorted and merged; none = every one */
	struct pw_range *ranges;
	size_t nranges;
	/* peer prefixes, sorted and unique; meaningful when restricted */
	bool restricted;
	struct pw_prefix *peers;
	size_t npeers;
	/* peers are a set's (pw_set.pfx, the rule's list was one @set):
	 * shared, freed with the set */
	bool peers_shared;
	/* peer host names and wildcards ("*.example.com"), lowercased, sorted
	 * and unique (strcmp); a rule with names is restricted */
	char **names;
	size_t nnames;
	char *ports_text;	/* as written, NULL when every port/type */
	char *peers_text;	/* as written, NULL when any peer */
	char *comment;		/* NULL when none */
	const char *file;	/* points into pw_policy.files */
	int line;
	char *text;		/* the statement, comment stripped */
};

struct pw_set {
	char *name;
	struct pw_prefix *pfx;
	size_t n;
	char **names;		/* host names and wildcards, as in pw_rule */
	size_t nnames;
	const char *file;
	int line;
};

/* A DNS server whose answers teach the addresses of the policy's names. */
struct pw_resolver {
	struct pw_ip ip;
	const char *file;	/* where it was first given */
	int line;
};

/* A user whose DNS queries teach the policy's names (`dns-users`),
 * resolved when the policy is read (getpwnam; a number is a uid). */
#define PW_USER_NAME_MAX 32

struct pw_dns_user {
	uint32_t uid;
	char name[PW_USER_NAME_MAX + 1];	/* as written: "root", "1000" */
	const char *file;	/* where it was first given */
	int line;
};

/* One file's text as the parser read it. */
struct pw_source {
	char *text;
	size_t len;
};

struct pw_policy {
	char *name;		/* from `policy "NAME"` in the root file, else its base name */
	uint8_t dflt[2];	/* per direction: PW_PASS / PW_DROP */
	const char *dflt_file[2];	/* the `default` line that set it, NULL when none did */
	int dflt_line[2];
	uint8_t mode;		/* PW_MODE_* */
	struct pw_rule *rules;
	size_t nrules;
	struct pw_set *sets;
	size_t nsets;
	char **files;		/* every file read, root first, as opened */
	size_t nfiles;
	/* with pw_parse_opts.keep_sources: each file's text exactly as it was
	 * read and parsed (by files' index), for the generation store */
	struct pw_source *src;
	/* `resolver` lines, duplicates merged, in reading order; none: the
	 * nameservers of /etc/resolv.conf at apply (policy/resolv.h) */
	struct pw_resolver resolvers[PW_RESOLVERS_MAX];
	size_t nresolvers;
	/* `dns-users` lines, duplicates (by uid) merged, in reading order;
	 * none: the default (policy/compile.h); dns_any: `dns-users any` */
	struct pw_dns_user dns_users[PW_DNS_USERS_MAX];
	size_t ndns_users;
	bool dns_any;
	const char *dns_users_file;	/* the first dns-users line; NULL: none */
	int dns_users_line;
};

/* What the parser does about a file others than root could have written
 * (sshd's StrictModes), for the file given and every file it includes. */
enum pw_file_check {
	PW_FILES_ANY = 0,	/* read what can be read (tests, display) */
	PW_FILES_WARN,		/* read it, with a warning per unsafe file (check) */
	PW_FILES_STRICT,	/* an error: refuse the policy (apply, reload, run) */
};

struct pw_parse_opts {
	enum pw_file_check files;
	/* the root file may be a pipe or a terminal (/dev/stdin given to
	 * check, explain or test); includes are regular files always */
	bool streams;
	/* keep every file's text in pol->src (what was compiled, not re-read) */
	bool keep_sources;
	/* read the files from these instead of the file system (a stored
	 * generation): paths[i]'s text is src[i]; a file not among them is
	 * an error. No StrictModes: the caller vouches for them. */
	const char *const *mem_paths;
	const struct pw_source *mem_src;
	size_t nmem;
};

/* Whether a policy file (dir false) or the directory holding one (dir
 * true) with status *sb is safe to enforce for user uid: writable by its
 * owner only (a directory: or sticky, as /tmp), owned by root or uid.
 * Only regular files and directories are judged. Returns 0, or -EPERM
 * with what is wrong, why and the fix in msg, e.g. "group-writable (mode
 * 0664): ...; fix: chmod go-w FILE". */
int pw_policy_file_safe(const char *path, const struct stat *sb, bool dir, uid_t uid,
			char *msg, size_t n);

/* Parse a policy file and everything it includes. Returns 0, or -1 with
 * d->error set ("FILE:LINE:COL: error: ..."). Warnings found while parsing
 * are appended to d. On error *pol is freed and zeroed. */
int pw_policy_parse_file(const char *path, struct pw_policy *pol, struct pw_diag *d);
/* Same, with options (NULL: the defaults, PW_FILES_ANY). */
int pw_policy_parse_file_opts(const char *path, const struct pw_parse_opts *o, struct pw_policy *pol,
			      struct pw_diag *d);
/* Same, from text; `name` stands for the file (includes are relative to it). */
int pw_policy_parse_text(const char *name, const char *text, size_t len,
			 struct pw_policy *pol, struct pw_diag *d);
void pw_policy_free(struct pw_policy *pol);

/* The byte offset in line of the first thing a policy's text may not
 * hold (invalid UTF-8, a control character but tab; a CR just before the
 * newline is fine), with why in why, or -1. The gateway file's too. */
long pw_text_bad(const char *line, size_t len, char *why, size_t n);

/* The quoted string whose opening quote is line[i], \" and \\ taken as
 * escapes: a malloc'd copy without quotes in *out and the index just past
 * the closing quote in *end. 0; 1 when the line ends first (unterminated,
 * nothing allocated); -ENOMEM. The gateway file's strings too. */
int pw_unquote(const char *line, size_t len, size_t i, char **out, size_t *end);

/* Names shared by the parser, `explain` and `test`. */
int pw_proto_by_name(const char *s);		/* IP protocol number or -1 */
const char *pw_proto_name(unsigned proto);	/* NULL when unnamed */
int pw_icmp_type_by_name(const char *s, bool v6);	/* type or -1 */
const char *pw_icmp_type_name(unsigned type, bool v6);	/* NULL when unnamed */

#endif
