/* replace.c - write a file whole and rename it over the old one, as root,
 * without ever opening a name someone else chose: the temporary file is a
 * fresh mkstemp name (O_EXCL: no link or FIFO planted at it is followed
 * or opened), and rename() replaces a link at the target instead of
 * writing through it. */
#define _GNU_SOURCE	/* mkostemp */
#include "lib/replace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The directory part of path ("." for a bare name). */
static void dir_of(const char *path, char *dir, size_t n)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, n, ".");
	else if (slash == path)
		snprintf(dir, n, "/");
	else
		snprintf(dir, n, "%.*s", (int)(slash - path), path);
}

int pw_replace_check(const char *path, char *err, size_t n)
{
	char dir[4096];
	struct stat ds, fs;

	if (strlen(path) > 4000)
		return snprintf(err, n, "%s: the name is too long", path), -ENAMETOOLONG;
	dir_of(path, dir, sizeof(dir));
	if (stat(dir, &ds))
		return snprintf(err, n, "%s: %s", dir, strerror(errno)), -errno;
	if (!S_ISDIR(ds.st_mode))
		return snprintf(err, n, "%s is not a directory", dir), -ENOTDIR;
	if (!(ds.st_mode & (S_IWGRP | S_IWOTH)))
		return 0;
	if (!(ds.st_mode & S_ISVTX))
		return snprintf(err, n, "%s is writable by others than its owner (mode %04o) and not sticky: they "
				"could replace %s; fix: chmod go-w %s, or write it into a directory only its owner "
				"can write", dir, (unsigned)(ds.st_mode & 07777), path, dir), -EPERM;
	if (lstat(path, &fs) == 0 && fs.st_uid != geteuid())
		return snprintf(err, n, "%s, in the shared directory %s, belongs to uid %u: refusing to replace "
				"another user's file; remove it, or choose a directory of its own",
				path, dir, (unsigned)fs.st_uid), -EPERM;
	return 0;
}

int pw_replace_open(struct pw_replace *r, const char *path, char *err, size_t n)
{
	int rc = pw_replace_check(path, err, n);

	memset(r, 0, sizeof(*r));
	if (rc)
		return rc;
	r->path = path;
	snprintf(r->tmp, sizeof(r->tmp), "%s.XXXXXX", path);
	int fd = mkostemp(r->tmp, O_CLOEXEC);
	if (fd < 0)
		return snprintf(err, n, "creating a temporary file beside %s: %s", path, strerror(errno)), -errno;
	if (fchmod(fd, 0644) || !(r->f = fdopen(fd, "w"))) {
		rc = -errno;
		close(fd);
		unlink(r->tmp);
		return snprintf(err, n, "preparing %s: %s", r->tmp, strerror(-rc)), rc;
	}
	return 0;
}

int pw_replace_commit(struct pw_replace *r, int failed)
{
	int rc = failed ? -EIO : ferror(r->f) ? -EIO : 0;

	if (fclose(r->f) && !rc)
		rc = -errno;
	if (!rc && rename(r->tmp, r->path))
		rc = -errno;
	if (rc)
		unlink(r->tmp);
	return rc;
}
