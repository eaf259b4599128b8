/* gen_scale.c - print the 65,535-port / 100,000-prefix policy (scale_policy.h). */
#include <stdio.h>
#include <stdlib.h>

#include "scale_policy.h"

int main(void)
{
	size_t len = 0;
	char *t = pw_scale_policy(&len);

	if (!t) {
		fprintf(stderr, "gen_scale: out of memory\n");
		return 1;
	}
	fwrite(t, 1, len, stdout);
	free(t);
	return 0;
}
