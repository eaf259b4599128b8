/* diag.c - errors and warnings that name file:line:column. */
#include "lib/diag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pw_diag_error(struct pw_diag *d, const char *file, int line, int col,
		   const char *fmt, ...)
{
	va_list ap;

	if (d->error[0])
		return;
	va_start(ap, fmt);
	vsnprintf(d->err_msg, sizeof(d->err_msg), fmt, ap);
	va_end(ap);
	snprintf(d->err_file, sizeof(d->err_file), "%s", file ? file : "");
	d->err_line = line;
	d->err_col = col;
	if (file && line > 0 && col > 0)
		snprintf(d->error, sizeof(d->error), "%s:%d:%d: error: %s", file, line, col, d->err_msg);
	else if (file && line > 0)
		snprintf(d->error, sizeof(d->error), "%s:%d: error: %s", file, line, d->err_msg);
	else if (file && file[0])
		snprintf(d->error, sizeof(d->error), "%s: error: %s", file, d->err_msg);
	else
		snprintf(d->error, sizeof(d->error), "error: %s", d->err_msg);
}

int pw_diag_warn(struct pw_diag *d, const char *file, int line, const char *fmt, ...)
{
	char buf[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	struct pw_warning *w = realloc(d->warn, (d->nwarn + 1) * sizeof(*w));
	if (!w)
		return -1;
	d->warn = w;
	w[d->nwarn].file = strdup(file ? file : "");
	w[d->nwarn].line = line;
	w[d->nwarn].msg = strdup(buf);
	if (!w[d->nwarn].file || !w[d->nwarn].msg) {
		free(w[d->nwarn].file);
		free(w[d->nwarn].msg);
		return -1;
	}
	d->nwarn++;
	return 0;
}

void pw_diag_free(struct pw_diag *d)
{
	for (size_t i = 0; i < d->nwarn; i++) {
		free(d->warn[i].file);
		free(d->warn[i].msg);
	}
	free(d->warn);
	d->warn = NULL;
	d->nwarn = 0;
	d->error[0] = '\0';
}

int pw_errf(char *err, size_t n, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return rc;
}
