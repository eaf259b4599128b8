/* diag.h - errors and warnings that name file:line:column. */
#ifndef PW_DIAG_H
#define PW_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

struct pw_warning {
	char *file;
	int line;
	char *msg;
};

/* Errors of one run kept in full, the rest only counted. */
#define PW_DIAG_MAX_ERRORS 20

struct pw_error {
	char *file;
	int line, col;
	char *msg;
	char *text;		/* "FILE:LINE:COL: error: MSG" */
};

struct pw_diag {
	/* the first error; error[0] == '\0' when there is none */
	char error[768];
	char err_file[512];
	int err_line, err_col;
	char err_msg[512];
	struct pw_warning *warn;
	size_t nwarn;
	/* every error, in order, the first PW_DIAG_MAX_ERRORS of them;
	 * nerr_more counts those past the limit */
	struct pw_error *errs;
	size_t nerr, nerr_more;
};

/* Record an error "FILE:LINE:COL: error: MSG". The first one also fills
 * error/err_*; the same message at the same place twice is kept once. */
void pw_diag_error(struct pw_diag *d, const char *file, int line, int col,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Append a warning; returns -1 only when out of memory. */
int pw_diag_warn(struct pw_diag *d, const char *file, int line,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void pw_diag_free(struct pw_diag *d);
/* Write every error kept, one a line, then "N more errors not shown". */
void pw_diag_print_errors(const struct pw_diag *d, FILE *f);
/* The number of errors recorded (kept and counted). */
size_t pw_diag_count(const struct pw_diag *d);

/* Write a message into err (size n) and return rc: for the functions that
 * report failures as -errno plus a sentence. */
int pw_errf(char *err, size_t n, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
