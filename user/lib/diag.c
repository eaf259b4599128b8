/* diag.c - errors and warnings that name file:line:column. */
#include "lib/diag.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void format_text(char *out, size_t n, const char *file, int line, int col, const char *msg)
{
	if (file && line > 0 && col > 0)
		snprintf(out, n, "%s:%d:%d: error: %s", file, line, col, msg);
	else if (file && line > 0)
		snprintf(out, n, "%s:%d: error: %s", file, line, msg);
	else if (file && file[0])
		snprintf(out, n, "%s: error: %s", file, msg);
	else
		snprintf(out, n, "error: %s", msg);
}

static bool seen_before(const struct pw_diag *d, const char *text)
{
	for (size_t i = 0; i < d->nerr; i++)
		if (strcmp(d->errs[i].text, text) == 0)
			return true;
	return false;
}

/* Keep one more error; out of memory only loses the copy (error[] stays). */
static void keep(struct pw_diag *d, const char *file, int line, int col, const char *msg,
		 const char *text)
{
	if (d->nerr >= PW_DIAG_MAX_ERRORS) {
		d->nerr_more++;
		return;
	}
	struct pw_error *e = realloc(d->errs, (d->nerr + 1) * sizeof(*e));
	if (!e)
		return;
	d->errs = e;
	e = &d->errs[d->nerr];
	e->file = strdup(file ? file : "");
	e->msg = strdup(msg);
	e->text = strdup(text);
	e->line = line;
	e->col = col;
	if (!e->file || !e->msg || !e->text) {
		free(e->file);
		free(e->msg);
		free(e->text);
		return;
	}
	d->nerr++;
}

void pw_diag_error(struct pw_diag *d, const char *file, int line, int col,
		   const char *fmt, ...)
{
	char msg[sizeof(d->err_msg)], text[sizeof(d->error)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	format_text(text, sizeof(text), file, line, col, msg);
	if (seen_before(d, text))
		return;
	if (!d->error[0]) {
		snprintf(d->err_msg, sizeof(d->err_msg), "%s", msg);
		snprintf(d->err_file, sizeof(d->err_file), "%s", file ? file : "");
		d->err_line = line;
		d->err_col = col;
		snprintf(d->error, sizeof(d->error), "%s", text);
	}
	keep(d, file, line, col, msg, text);
}

size_t pw_diag_count(const struct pw_diag *d)
{
	if (!d->error[0])
		return 0;
	return (d->nerr ? d->nerr : 1) + d->nerr_more;
}

void pw_diag_print_errors(const struct pw_diag *d, FILE *f)
{
	if (!d->nerr) {
		if (d->error[0])
			fprintf(f, "%s\n", d->error);
		return;
	}
	for (size_t i = 0; i < d->nerr; i++)
		fprintf(f, "%s\n", d->errs[i].text);
	if (d->nerr_more)
		fprintf(f, "%zu more error%s not shown (the first %d are)\n", d->nerr_more,
			d->nerr_more == 1 ? "" : "s", PW_DIAG_MAX_ERRORS);
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
	for (size_t i = 0; i < d->nerr; i++) {
		free(d->errs[i].file);
		free(d->errs[i].msg);
		free(d->errs[i].text);
	}
	free(d->errs);
	d->errs = NULL;
	d->nerr = d->nerr_more = 0;
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
