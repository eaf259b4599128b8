/* num.h - numbers from text, strictly (num.c). */
#ifndef PW_NUM_H
#define PW_NUM_H

#include <stdbool.h>

/* s as a number in base (10, 16, or 0 for C's 0x/0 prefixes) of at most
 * max: nothing but digits (no sign, blank or trailing text), no overflow.
 * false when it is not one. */
bool pw_ulong(const char *s, int base, unsigned long max, unsigned long *out);

#endif
