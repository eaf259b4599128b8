/* table.h - the text tables of status and top, by libsmartcols: columns
 * sized to their content (a long file path never shifts the columns after
 * it), or to a width with the columns that may be shortened truncated
 * (never wrapped onto a second line). */
#ifndef PW_TABLE_H
#define PW_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include <libsmartcols/libsmartcols.h>

struct pw_col {
	const char *name;
	int flags;	/* SCOLS_FL_RIGHT for numbers, SCOLS_FL_TRUNC for what may be cut */
};

/* The width of the terminal on fd: COLUMNS when it is a number, else the
 * terminal's (TIOCGWINSZ); 0 when neither (not a terminal). */
size_t pw_term_width(int fd);

/* A table of n columns, two spaces apart. width 0: every column as wide
 * as its widest cell; else lines of at most width characters (the
 * SCOLS_FL_TRUNC columns cut as needed). NULL when out of memory. */
struct libscols_table *pw_table_new(const struct pw_col *cols, size_t n, size_t width);

/* A row of the table: cells[i] the text of column i (NULL: empty). 0 or -ENOMEM. */
int pw_table_row(struct libscols_table *tb, const char *const *cells, size_t n);

/* printf to stdout, the line cut to width characters (UTF-8 counted by
 * character; 0: whole), then a newline. */
void pw_print_cut(size_t width, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A column of a list (conntrack, allow --list): its width hint and its
 * type in JSON (SCOLS_JSON_STRING, SCOLS_JSON_NUMBER). */
struct pw_listcol {
	const char *name;
	double whint;
	int flags, json;
};

/* A list table of n columns; with json, an array named name in JSON
 * (scols_print_table prints either). NULL when out of memory. */
struct libscols_table *pw_list_table(const char *name, const struct pw_listcol *cols, size_t n, bool json);

/* Print the table to stdout, each line after indent; then free it.
 * 0 or -errno. */
int pw_table_print(struct libscols_table *tb, const char *indent);

#endif
