/* built.h - one policy parsed and compiled from text, for the unit tests
 * of the compiler and what reads its tables (test_compile, test_names).
 * BUILT_FILE names the file the text stands for in messages; BUILT_SAY
 * prints what failed (for tests that expect success). */
#ifndef PW_TEST_BUILT_H
#define PW_TEST_BUILT_H

#include <stdio.h>
#include <string.h>

#include "lib/diag.h"
#include "policy/compile.h"
#include "policy/policy.h"

static struct pw_policy pol;
static struct pw_compiled comp;
static struct pw_diag diag;

/* Parse and compile text as BUILT_FILE into pol, comp and diag (the last
 * ones freed first). 0, or -1 with the error in diag.error. */
static int build(const char *text)
{
	pw_compiled_free(&comp);
	pw_policy_free(&pol);
	pw_diag_free(&diag);
	if (pw_policy_parse_text(BUILT_FILE, text, strlen(text), &pol, &diag) || pw_compile(&pol, &comp, &diag)) {
		if (BUILT_SAY)
			fprintf(stderr, "    %s: %s\n", BUILT_FILE, diag.error);
		return -1;
	}
	return 0;
}

#endif
