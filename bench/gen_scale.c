/* gen_scale.c - print the 65,535-port / 100,000-prefix policy
 * (scale_policy.h); `gen_scale N` puts N prefixes in its set instead. */
#include <stdio.h>
#include <stdlib.h>

#include "scale_policy.h"

int main(int argc, char **argv)
{
	size_t len = 0;
	char *end = NULL;
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
