/* import.h - `portwall import`: a vendor port table (as operators paste it)
 * into a draft policy (docs/policy.md, "Importing a vendor table").
 * Three steps, a file each: import_read.c reads the format into rows of
 * cells; import_cell.c reads ports, protocols and directions out of a
 * cell; import_rules.c decides each row's rules and doubts; import_write.c
 * writes the draft and checks that it parses and compiles. */
#ifndef PW_IMPORT_H
#define PW_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum pw_imp_format { PW_IMP_AUTO, PW_IMP_TSV, PW_IMP_CELLS, PW_IMP_HTML, PW_IMP_CSV, PW_IMP_TEXT };

/* The columns of a Cisco port utilization table, by what they hold. */
enum pw_imp_col {
	PW_IMP_NAME,	/* Listener (Process or Application Protocol) */
	PW_IMP_LPORT,	/* Listener Protocol and Port */
	PW_IMP_DPORT,	/* Destination Port */
	PW_IMP_REMOTE,	/* Remote Device (Process or Application Protocol) */
	PW_IMP_RPORT,	/* Remote (Protocol and) Port */
	PW_IMP_DIR,	/* Traffic Direction */
	PW_IMP_NOTES,	/* Notes, Purpose */
	PW_IMP_PROTO,	/* Protocol (tables other than Cisco's) */
	PW_IMP_NCOLS,
};

struct pw_imp_row {
	int line;		/* of the row's first cell in the file */
	bool header;		/* a header row (the first or a repeated one) */
	char *cell[PW_IMP_NCOLS];	/* cleaned text (tags, bullets gone); NULL: empty */
	char *host;		/* text format: the host name the line gives */
	char *raw;		/* the row as one line, for the "# from" comment */
	char *skip;		/* set by the reader: why the row cannot be read */
};

struct pw_imp_note {
	char mark[8];		/* a footnote mark: "¹" */
	char *text;		/* its note, mark stripped */
};

struct pw_imp_table {
	enum pw_imp_format fmt;	/* the format read (auto resolved) */
	struct pw_imp_row *rows;
	size_t nrows;
	struct pw_imp_note notes[8];	/* the table's footnotes */
	size_t nnotes;
	/* text format: where the article says to open nothing inbound */
	int no_inbound_line;
	char *no_inbound_text;
};

/* One port or range of a cell, with the protocols written before it. */
struct pw_imp_port {
	uint16_t lo, hi;
	uint8_t protos;		/* PW_P_TCP / PW_P_UDP; 0: the cell names none */
};

#define PW_IMP_PORTS_MAX 32
#define PW_IMP_DOUBT_MAX 6

/* What a port cell says: "TCP 80, 8082", "Port 5222 (configurable)",
 * "Side A: TCP 42027 ¹ Side B: TCP 43027 ¹", "Port 7443 is used for ...". */
struct pw_imp_ports {
	struct pw_imp_port p[PW_IMP_PORTS_MAX];
	size_t n;
	char configurable[96];	/* the "(configurable ...)" text; "" when none */
	char mark[8];		/* a footnote mark on a port; "" when none */
	bool sides;		/* "Side A: ... Side B: ..." */
	char doubt[192];	/* what could not be read; "" when all */
};

enum pw_imp_dir { PW_IMP_D_NONE, PW_IMP_D_IN, PW_IMP_D_OUT, PW_IMP_D_BIDI, PW_IMP_D_UNCLEAR };

/* Clean a cell: HTML tags and entities, bullets, footnote-free spacing
 * collapsed; a lone dash ("—", "-") is an empty cell. Returns a new
 * string, or NULL when the cell is empty. */
char *pw_imp_clean(const char *s, size_t len);
/* The length of the well-formed UTF-8 sequence at s (n bytes left), or 0. */
size_t pw_imp_utf8_len(const unsigned char *s, size_t n);
/* Make s text a policy comment may hold: a UTF-8 sequence cut short (by a
 * shortening) becomes '?', a control character a space or '?'. */
void pw_imp_text_fix(char *s);
/* Read a port cell into *p (zeroed first). Returns p->n. */
size_t pw_imp_ports_parse(const char *cell, struct pw_imp_ports *p);
/* Read a Traffic Direction cell ("Bidirectional", "Outward, from X to Y",
 * "Inward, from X to Y", "Unidirectional, Inward from the Internet"). */
enum pw_imp_dir pw_imp_dir_parse(const char *cell);
/* A direction the notes state in the guide's phrasing ("Outward, from",
 * "Inward, from"); PW_IMP_D_NONE when they state none. */
enum pw_imp_dir pw_imp_notes_dir(const char *notes);
/* The protocol a listener's name or notes imply (HTTP, XMPP, SMTP, a
 * "TCP port" ...): PW_P_TCP, PW_P_UDP, or 0 when they imply none. */
uint8_t pw_imp_proto_hint(const char *text);
/* Does text contain word (ASCII letters, case-insensitive, whole word)? */
bool pw_imp_has_word(const char *text, const char *word);

/* Read a table in format fmt (PW_IMP_AUTO: guess it) from text. 0, or -1
 * with err set. pw_imp_table_free frees it either way. */
int pw_imp_read(const char *text, size_t len, enum pw_imp_format fmt, struct pw_imp_table *t,
		char *err, size_t errsz);
void pw_imp_table_free(struct pw_imp_table *t);
const char *pw_imp_format_name(enum pw_imp_format f);
int pw_imp_format_by_name(const char *s);	/* -1 when unknown */

/* Shared by the readers (import_read.c; import_text.c: cells, text). */
struct pw_imp_row *pw_imp_add_row(struct pw_imp_table *t, int line);	/* zeroed; NULL: memory */
int pw_imp_header_col(const char *cell);	/* enum pw_imp_col, or -1 */
void pw_imp_note(struct pw_imp_table *t, const char *line);	/* a footnote line? keep it */
int pw_imp_read_cells(const char *text, size_t len, struct pw_imp_table *t);
int pw_imp_read_text(const char *text, size_t len, struct pw_imp_table *t);
bool pw_imp_looks_cells(const char *text, size_t len);

/* One rule of the draft. */
struct pw_imp_rule {
	size_t row;		/* index into the table's rows */
	uint8_t dir;		/* PW_DIR_IN / PW_DIR_OUT */
	uint8_t protos;
	struct pw_imp_port p[PW_IMP_PORTS_MAX];
	size_t n;
	const char *host;	/* the row's host, or NULL */
	char comment[128];
	char *doubt[PW_IMP_DOUBT_MAX];	/* the REVIEW lines, each why */
	size_t ndoubts;
	size_t same_as;		/* 1 + the index of an identical earlier rule; 0 */
	size_t merged_into;	/* 1 + the index of the rule that holds its ports; 0 */
	int policy_line;	/* its line in the draft (import_write.c) */
};

struct pw_imp_result {
	struct pw_imp_table t;
	struct pw_imp_rule *rules;
	size_t nrules;
	char **row_skip;	/* per row: why it gives no rule (NULL: it gives some) */
};

/* Decide the rules of every row of t (taken over by r). 0, or -1 (memory). */
int pw_imp_rules(struct pw_imp_table *t, struct pw_imp_result *r);
void pw_imp_result_free(struct pw_imp_result *r);
/* Put the ports of every rule that names a host into the first rule of
 * that host, direction and protocol (a host name feeds at most 16 peer
 * classes: a table that gives one host in many rows needs this). Returns
 * how many rules were merged, or -1 (memory). */
int pw_imp_merge_hosts(struct pw_imp_result *r);

/* Write the draft policy for r, imported from src, to f; fills each
 * rule's policy_line. 0, or -1 on a write error. */
int pw_imp_write(FILE *f, const struct pw_imp_result *r, const char *src);
/* All of it: read, decide, write the draft into a new string (*out, *outlen)
 * and check that the draft parses and compiles (an importer bug otherwise:
 * err says so). 0, or -1 with err. */
int pw_imp_run(const char *src, const char *text, size_t len, enum pw_imp_format fmt,
	       struct pw_imp_result *r, char **out, size_t *outlen, char *err, size_t errsz);

#endif
