/* diag.h - errors and warnings that name file:line:column. */
#ifndef PW_DIAG_H
#define PW_DIAG_H

#include <stdarg.h>
#include <stddef.h>

struct pw_warning {
	char *file;
	int line;
	char *msg;
};

struct pw_diag {
	/* the first error; error[0] == '\0' when there is none */
	char error[768];
	char err_file[512];
	int err_line, err_col;
	char err_msg[512];
	struct pw_warning *warn;
	size_t nwarn;
};

/* Record an error "FILE:LINE:COL: error: MSG" (the first one wins). */
void pw_diag_error(struct pw_diag *d, const char *file, int line, int col,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Append a warning; returns -1 only when out of memory. */
int pw_diag_warn(struct pw_diag *d, const char *file, int line,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void pw_diag_free(struct pw_diag *d);

/* Write a message into err (size n) and return rc: for the functions that
 * report failures as -errno plus a sentence. */
int pw_errf(char *err, size_t n, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
