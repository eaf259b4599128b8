/* files.c - reading policy files as root safely: never block on one,
 * judge what was opened (not the path), and know who could have changed
 * it (sshd's StrictModes and secure_filename). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <poll.h>
#include <unistd.h>

#include "policy/files.h"
#include "policy/policy.h"

#define PW_FILE_MAX (64u << 20)	/* larger is no policy: refused */

static const char *kind_name(mode_t m)
{
	return S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device"
	     : S_ISSOCK(m) ? "a socket" : S_ISDIR(m) ? "a directory" : "not a regular file";
}

#define PW_STREAM_WAIT_MS 10000	/* a pipe that says nothing this long is done */

/* Read fd (O_NONBLOCK) to its end into a buffer of up to PW_FILE_MAX
 * bytes. A pipe is waited for, at most PW_STREAM_WAIT_MS for each chunk:
 * no read may block for good. */
static int read_fd(int fd, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			char *nb = cap >= PW_FILE_MAX ? NULL : realloc(buf, cap * 2);
			if (!nb) {
				rc = cap >= PW_FILE_MAX ? -EFBIG : -ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t got = read(fd, buf + n, cap - n);
		if (got > 0) {
			n += (size_t)got;
			continue;
		}
		if (got == 0)
			break;
		if (errno == EINTR)
			continue;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (errno != EAGAIN) {
			rc = -errno;
			break;
		}
		if (poll(&p, 1, PW_STREAM_WAIT_MS) == 0) {
			rc = -ETIMEDOUT;
			break;
		}
	}
	if (rc) {
		free(buf);
		return rc;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* A regular file of size bytes, read into pages of its own (released as
 * the parser goes, pw_file_release) with room for one byte more: a file
 * that grew fills it and is found changed. */
static int read_reg(int fd, size_t size, struct pw_file *f)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), cap = size + 1, n = 0;
	size_t map = (cap + page - 1) / page * page;
	char *buf = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (buf == MAP_FAILED)
		return -ENOMEM;
	while (n < cap) {
		ssize_t got = read(fd, buf + n, cap - n);
		if (got > 0) {
			n += (size_t)got;
			continue;
		}
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int e = -errno;
			munmap(buf, map);
			return e;
		}
		break;
	}
	f->text = buf;
	f->len = n;
	f->map = map;
	return 0;
}

/* Did the file change between the two looks (a writer still at it)? */
static bool changed(const struct stat *a, const struct stat *b, size_t len)
{
	return a->st_ino != b->st_ino || a->st_size != b->st_size || (size_t)b->st_size != len ||
	       a->st_mtim.tv_sec != b->st_mtim.tv_sec || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec ||
	       a->st_ctim.tv_sec != b->st_ctim.tv_sec || a->st_ctim.tv_nsec != b->st_ctim.tv_nsec;
}

/* What the open descriptor is may be read: a regular file; with streams a
 * pipe or terminal too (read blocking, as the caller gave it). */
static int judge_open(int fd, const char *path, bool streams, struct pw_file *f, char *msg, size_t n)
{
	if (fstat(fd, &f->sb))
		return snprintf(msg, n, "%s", strerror(errno)), -errno;
	if (S_ISDIR(f->sb.st_mode))
		return snprintf(msg, n, "%s", strerror(EISDIR)), -EISDIR;
	if (S_ISREG(f->sb.st_mode)) {
		if ((uint64_t)f->sb.st_size > PW_FILE_MAX)
			return snprintf(msg, n, "%s", strerror(EFBIG)), -EFBIG;
		return 0;
	}
	if (streams && (S_ISFIFO(f->sb.st_mode) || S_ISCHR(f->sb.st_mode)))
		return 0;	/* read with a bounded wait (read_fd) */
	snprintf(msg, n, "%s is %s: policies are read from regular files only (%s could block portwall "
		 "or feed it anything); put the policy in a file", path, kind_name(f->sb.st_mode),
		 S_ISFIFO(f->sb.st_mode) ? "a FIFO's writer" : "its driver");
	return -EINVAL;
}

int pw_file_read(const char *path, bool streams, struct pw_file *f, char *msg, size_t n)
{
	struct stat after;
	int rc;

	memset(f, 0, sizeof(*f));
	/* O_NONBLOCK: opening a FIFO with no writer returns at once */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return snprintf(msg, n, "%s", strerror(errno)), -errno;
	rc = judge_open(fd, path, streams, f, msg, n);
	if (!rc && (rc = S_ISREG(f->sb.st_mode) ? read_reg(fd, (size_t)f->sb.st_size, f) :
		     read_fd(fd, &f->text, &f->len)))
		snprintf(msg, n, "%s", rc == -ETIMEDOUT ? "nothing came from it for 10 s" : strerror(-rc));
	if (!rc && S_ISREG(f->sb.st_mode) && (fstat(fd, &after) || changed(&f->sb, &after, f->len))) {
		snprintf(msg, n, "%s changed while it was read (a writer is still at it): try again when it is done",
			 path);
		rc = -EAGAIN;
	}
	close(fd);
	if (rc) {
		pw_file_free(f);
		return rc;
	}
	/* what realpath() cannot resolve but could be read (/dev/stdin, a
	 * pipe) is known by the path given */
	if (!realpath(path, f->real))
		snprintf(f->real, sizeof(f->real), "%s", path);
	return 0;
}

void pw_file_free(struct pw_file *f)
{
	if (f->map && f->text)
		munmap(f->text, f->map);
	else
		free(f->text);
	f->text = NULL;
	f->len = 0;
	f->map = 0;
	f->released = 0;
}

void pw_file_release(struct pw_file *f, size_t upto)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), to = upto / page * page;

	if (!f->map || to <= f->released || to > f->map)
		return;
	madvise(f->text + f->released, to - f->released, MADV_DONTNEED);
	f->released = to;
}

/* Every directory from the one holding path's last name up to /, judged
 * as pw_policy_file_safe judges the nearest: anyone who may write one of
 * them may rename what is below it and so replace the file. */
static int dirs_trusted(const char *path, uid_t uid, char *msg, size_t n)
{
	char buf[PATH_MAX], m[PATH_MAX + 300];
	struct stat st;

	if (path[0] == '/')
		snprintf(buf, sizeof(buf), "%s", path);
	else if (!getcwd(buf, sizeof(buf)) || strlen(buf) + strlen(path) + 2 > sizeof(buf))
		return snprintf(msg, n, "cannot tell the directories holding %s: %s", path, strerror(errno)), -EPERM;
	else
		strcat(strcat(buf, "/"), path);
	for (int depth = 0;; depth++) {
		char *slash = strrchr(buf, '/');
		if (!slash)
			return 0;
		if (slash == buf) {
			if (!buf[1])
				return 0;	/* "/" was judged last time */
			buf[1] = '\0';
		} else {
			*slash = '\0';
		}
		if (stat(buf, &st))
			continue;	/* gone: what was read is judged by its other path */
		if (pw_policy_file_safe(buf, &st, true, uid, m, sizeof(m)) == 0)
			continue;
		if (depth == 0)
			return snprintf(msg, n, "%s", m), -EPERM;
		/* "its directory is ..." of a directory further up */
		return snprintf(msg, n, "the directory %s above it%s", buf, m + strlen("its directory")), -EPERM;
	}
}

int pw_file_trusted(const char *path, const struct pw_file *f, uid_t uid, char *msg, size_t n)
{
	int rc = pw_policy_file_safe(path, &f->sb, false, uid, msg, n);

	if (rc)
		return rc;
	if (!S_ISREG(f->sb.st_mode))	/* a pipe that check read */
		return snprintf(msg, n, "%s is %s, not a regular file", path, kind_name(f->sb.st_mode)), -EPERM;
	/* the name given (a symlink planted there is judged by who could plant
	 * it) and what it resolves to */
	rc = dirs_trusted(path, uid, msg, n);
	if (!rc && strcmp(path, f->real) != 0)
		rc = dirs_trusted(f->real, uid, msg, n);
	return rc;
}
