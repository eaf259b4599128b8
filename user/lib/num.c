/* num.c - numbers from text, strictly: what strtoul would take with a
 * sign, a blank or a wrap-around is refused. */
#include "lib/num.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

bool pw_ulong(const char *s, int base, unsigned long max, unsigned long *out)
{
	char *end;

	if (!(base == 16 ? isxdigit((unsigned char)*s) : isdigit((unsigned char)*s)))
		return false;	/* empty, a sign, a blank */
	errno = 0;
	unsigned long v = strtoul(s, &end, base);
	if (*end || errno || v > max)
		return false;
	*out = v;
	return true;
}
