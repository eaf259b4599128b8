/* fuzz_import.c - libFuzzer: any bytes as a pasted vendor table through
 * `portwall import` (the first byte picks the format). It must not crash,
 * leak or misbehave (ASan/UBSan); its draft must always parse and compile
 * (pw_imp_run checks), and every row must give a rule or a skip reason. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pw_imp_result r;
	char *draft, err[1024];
	size_t len;

	if (size < 1 || size > 1 << 16)
		return 0;
	enum pw_imp_format fmt = (enum pw_imp_format)(data[0] % 6);
	if (pw_imp_run("fuzz.txt", (const char *)data + 1, size - 1, fmt, &r, &draft, &len, err, sizeof(err))) {
		if (strstr(err, "importer bug")) {
			fprintf(stderr, "%s\n", err);
			abort();
		}
	} else {
		for (size_t i = 0; i < r.t.nrows; i++) {
			bool some = r.row_skip[i] != NULL;
			for (size_t k = 0; k < r.nrules && !some; k++)
				some = r.rules[k].row == i;
			if (!some) {
				fprintf(stderr, "row %zu (line %d) gives neither a rule nor a reason\n", i, r.t.rows[i].line);
				abort();
			}
		}
	}
	free(draft);
	pw_imp_result_free(&r);
	return 0;
}
