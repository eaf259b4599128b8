/* replace.h - write a file whole and put it in place atomically, as root,
 * in a directory others may share (replace.c). */
#ifndef PW_REPLACE_H
#define PW_REPLACE_H

#include <stddef.h>
#include <stdio.h>

struct pw_replace {
	FILE *f;		/* write here */
	char tmp[4200];		/* the temporary file, beside the target */
	const char *path;
};

/* May path be replaced safely? Its directory must not be writable by
 * others than its owner, unless it is sticky (as /tmp) and path, if it
 * exists, is ours. 0, or -EPERM / -errno with what is wrong and the fix. */
int pw_replace_check(const char *path, char *err, size_t errsz);
/* Open a new temporary file beside path (mkstemp: a fresh name, never an
 * existing file, link or FIFO), mode 0644. 0, or -errno with a message. */
int pw_replace_open(struct pw_replace *r, const char *path, char *err, size_t errsz);
/* Flush, and rename the temporary file over path; on failure (or when
 * failed is set) remove it. 0 or -errno. */
int pw_replace_commit(struct pw_replace *r, int failed);

#endif
