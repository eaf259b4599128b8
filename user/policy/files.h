/* files.h - reading a policy file safely as root (files.c). */
#ifndef PW_FILES_H
#define PW_FILES_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* A file read whole, the status of the open descriptor it was read from
 * (what is judged is what was read) and its real path. */
struct pw_file {
	char *text;
	size_t len;
	size_t map;		/* a regular file's text is mapped: its bytes, else 0 (malloc'd) */
	size_t released;	/* the bytes of text pw_file_release gave back */
	struct stat sb;
	char real[PATH_MAX];
};

/* Read path whole without ever blocking on it: opened O_NONBLOCK and
 * judged by fstat of that descriptor. Only a regular file of at most
 * 64 MiB, unless streams (the file a user named on the command line of
 * check, explain or test): then a pipe or terminal too, read to its end
 * (waiting at most 10 s for each piece: a FIFO nobody writes reads empty).
 * A regular file that changed while it was read is refused (-EAGAIN).
 * 0, or -errno with what is wrong in msg. */
int pw_file_read(const char *path, bool streams, struct pw_file *f, char *msg, size_t n);
void pw_file_free(struct pw_file *f);
/* The text before byte upto is read and done with: its whole pages go
 * back to the system (a regular file's; the bytes read zero after). */
void pw_file_release(struct pw_file *f, size_t upto);

/* StrictModes for a file pw_file_read read: the file, then every directory
 * from the one holding the name given up to /, and the same for its real
 * path (sshd's secure_filename): none may be writable by others than its
 * owner (a directory: unless sticky), each owned by root or uid; a pipe
 * is refused. 0, or
 * -EPERM with what is wrong and the fix in msg. */
int pw_file_trusted(const char *path, const struct pw_file *f, uid_t uid, char *msg, size_t n);

#endif
