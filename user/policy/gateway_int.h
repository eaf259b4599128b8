/* gateway_int.h - what gateway.c (the text) and gateway_load.c (the
 * addresses and the policies they name) share; not for other files. */
#ifndef PW_GATEWAY_INT_H
#define PW_GATEWAY_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/gateway.h"

enum gw_tok_type { GW_WORD, GW_STR, GW_COMMA };

struct gw_tok {
	enum gw_tok_type type;
	char *s;		/* owned; unescaped for strings */
	int line, col;		/* col: 1-based, in characters */
	int end_col;		/* just past the token */
};

struct gw_stmt {
	struct gw_tok *t;
	size_t n, cap;
};

struct gw_parser {
	struct pw_gateway *gw;
	struct pw_diag *d;
	enum pw_file_check files;	/* StrictModes for the policies */
	int named_line;		/* the gateway "NAME" line, 0 when none */
	bool forward_seen;	/* a default forward line, even a wrong one */
	size_t hosts_cap, policies_cap;
	bool oom;
};

/* An error at token t; returns -1. */
int pw_gw_err(struct gw_parser *p, const struct gw_tok *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool pw_gw_is_kw(const struct gw_stmt *st, size_t i, const char *kw);
/* protect ADDR[, ADDR...] with "FILE" */
int pw_gw_protect(struct gw_parser *p, const struct gw_stmt *st);
/* After a successful parse: hosts sorted for pw_gateway_find. */
void pw_gw_sort(struct pw_gateway *gw);

#endif
