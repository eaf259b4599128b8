/* gen_scale.c - print the 65,535-port / 100,000-prefix policy
 * (scale_policy.h); `gen_scale N` puts N prefixes in its set instead;
 * `gen_scale shared N R` prints one set of N prefixes used by R rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scale_policy.h"

int main(int argc, char **argv)
{
	size_t len = 0;
	char *end = NULL;

	if (argc == 4 && strcmp(argv[1], "shared") == 0) {
		unsigned long n = strtoul(argv[2], NULL, 10), r = strtoul(argv[3], NULL, 10);
		if (!n || n >= (1ul << 24) || !r || r > 50000) {
			fprintf(stderr, "usage: gen_scale shared NPREFIX NRULES  (1 to 16777215 prefixes, "
				"1 to 50000 rules)\n");
			return 2;
		}
		char *t = pw_shared_set_policy((unsigned)n, (unsigned)r, &len);
		if (!t) {
			fprintf(stderr, "gen_scale: out of memory\n");
			return 1;
		}
		fwrite(t, 1, len, stdout);
		free(t);
		return 0;
	}
	unsigned long n = argc > 1 ? strtoul(argv[1], &end, 10) : PW_SCALE_NPREFIX;

	if (argc > 2 || (end && (*end || !n || n >= (1ul << 24)))) {
		fprintf(stderr, "usage: gen_scale [NPREFIX]  (1 to 16777215 prefixes; default %u)\n",
			PW_SCALE_NPREFIX);
		return 2;
	}
	char *t = pw_scale_policy_n((unsigned)n, &len);

	if (!t) {
		fprintf(stderr, "gen_scale: out of memory\n");
		return 1;
	}
	fwrite(t, 1, len, stdout);
	free(t);
	return 0;
}
