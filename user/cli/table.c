/* table.c - libsmartcols tables: status and top, and the lists of
 * conntrack and allow --list (see table.h). */
#include "cli/table.h"

#include <errno.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "lib/num.h"

size_t pw_term_width(int fd)
{
	const char *env = getenv("COLUMNS");
	unsigned long v;
	struct winsize ws;

	if (env && pw_ulong(env, 10, 100000, &v) && v)
		return v;
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col)
		return ws.ws_col;
	return 0;
}

/* The user's character set: UTF-8 comments measured and shown as such,
 * not escaped as \xNN (control characters still are). */
static void user_ctype(void)
{
	static bool locale_set;

	if (!locale_set)
		setlocale(LC_CTYPE, "");
	locale_set = true;
}

struct libscols_table *pw_table_new(const struct pw_col *cols, size_t n, size_t width)
{
	struct libscols_table *tb = scols_new_table();

	user_ctype();
	if (!tb || scols_table_set_column_separator(tb, "  ")) {
		scols_unref_table(tb);
		return NULL;
	}
	scols_table_set_termforce(tb, width ? SCOLS_TERMFORCE_ALWAYS : SCOLS_TERMFORCE_NEVER);
	if (width)
		scols_table_set_termwidth(tb, width);
	for (size_t i = 0; i < n; i++) {
		/* a cut column starts from a small share: the others keep theirs */
		double whint = cols[i].flags & SCOLS_FL_TRUNC ? 0.1 : 0;
		if (!scols_table_new_column(tb, cols[i].name, whint, cols[i].flags)) {
			scols_unref_table(tb);
			return NULL;
		}
	}
	return tb;
}

struct libscols_table *pw_list_table(const char *name, const struct pw_listcol *cols, size_t n, bool json)
{
	struct libscols_table *tb = scols_new_table();

	user_ctype();

	if (tb && json && (scols_table_enable_json(tb, 1) || scols_table_set_name(tb, name))) {
		scols_unref_table(tb);
		return NULL;
	}
	for (size_t c = 0; tb && c < n; c++) {
		struct libscols_column *cl = scols_table_new_column(tb, cols[c].name, cols[c].whint, cols[c].flags);
		if (!cl || scols_column_set_json_type(cl, cols[c].json)) {
			scols_unref_table(tb);
			return NULL;
		}
	}
	return tb;
}

int pw_table_row(struct libscols_table *tb, const char *const *cells, size_t n)
{
	struct libscols_line *ln = scols_table_new_line(tb, NULL);

	if (!ln)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (cells[i] && scols_line_set_data(ln, i, cells[i]))
			return -ENOMEM;
	return 0;
}

void pw_print_cut(size_t width, const char *fmt, ...)
{
	char line[8192];
	size_t chars = 0, i = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* stop at the first byte of character width + 1 */
	for (; width && line[i]; i++)
		if (((unsigned char)line[i] & 0xc0) != 0x80 && ++chars > width)
			break;
	printf("%.*s\n", width ? (int)i : (int)strlen(line), line);
}

int pw_table_print(struct libscols_table *tb, const char *indent)
{
	char *text = NULL;
	int rc = scols_print_table_to_string(tb, &text) ? -ENOMEM : 0;

	scols_unref_table(tb);
	for (char *line = text, *nl; !rc && line && *line; line = nl ? nl + 1 : line + strlen(line)) {
		nl = strchr(line, '\n');
		if (printf("%s%.*s\n", indent, nl ? (int)(nl - line) : (int)strlen(line), line) < 0)
			rc = -EIO;
	}
	free(text);
	return rc;
}
