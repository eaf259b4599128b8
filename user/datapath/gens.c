/* gens.c - the generation store (gens.h). A generation is one file,
 * gen-NNNNNNNNNN, mode 0600: "key value" lines, then each file as
 * "file LEN PATH" and its LEN bytes. Everything is opened relative to the
 * store's directory fd with O_NOFOLLOW, and only after that directory and
 * every one above it were found root's and writable by nobody else, so no
 * other user can plant a generation that rollback would apply. */
#include "datapath/gens.h"
#include "datapath/state.h"
#include "lib/diag.h"
#include "lib/sha256.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define GEN_MAX_BYTES (512u << 20)

static const char *base_dir(void)
{
	const char *e = getenv("PORTWALL_STATE_DIR");
	return e && e[0] == '/' ? e : PW_STATE_DIR;
}

void pw_gens_dir(const char *root, char *buf, size_t size)
{
	char key[PW_ROOT_KEY_MAX];

	pw_root_key(root, key, sizeof(key));
	snprintf(buf, size, "%s/%s", base_dir(), key);
}

/* A store directory (open at fd) must be ours alone: owned by this user
 * (root), writable by no group or other; one of mode 0755 is made 0700. */
static int judge_dir(int fd, const char *path, char *err, size_t n)
{
	struct stat sb;

	if (fstat(fd, &sb))
		return pw_errf(err, n, -errno, "%s: %s", path, strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return pw_errf(err, n, -ENOTDIR, "the generation store %s is not a directory", path);
	if (sb.st_uid != geteuid())
		return pw_errf(err, n, -EPERM, "the generation store %s is owned by uid %u, not root: that user "
			       "could plant a generation for rollback; refused (fix: chown root %s; chmod 700 %s)",
			       path, (unsigned)sb.st_uid, path, path);
	if (sb.st_mode & (S_IWGRP | S_IWOTH))
		return pw_errf(err, n, -EPERM, "the generation store %s is %s-writable (mode %04o): others could "
			       "plant a generation for rollback; refused (fix: chmod 700 %s)", path,
			       sb.st_mode & S_IWOTH ? "world" : "group", (unsigned)(sb.st_mode & 07777), path);
	if ((sb.st_mode & 07777) != 0700)
		fchmod(fd, 0700);
	return 0;
}

/* Every directory above the store: root's (or ours), writable by no one
 * else unless sticky (as /tmp), so nobody can swap a component. */
static int judge_above(const char *path, char *err, size_t n)
{
	char p[PATH_MAX], msg[PATH_MAX + 300];
	struct stat sb;

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = strrchr(p, '/'); s; s = strrchr(p, '/')) {
		*s = '\0';
		const char *d = p[0] ? p : "/";
		if (lstat(d, &sb))
			return pw_errf(err, n, -errno, "%s: %s", d, strerror(errno));
		if (S_ISLNK(sb.st_mode) && sb.st_uid != 0)
			return pw_errf(err, n, -EPERM, "%s (above the generation store) is a symbolic link of uid %u: "
				       "refused", d, (unsigned)sb.st_uid);
		if (!S_ISLNK(sb.st_mode) && pw_policy_file_safe(d, &sb, true, geteuid(), msg, sizeof(msg)))
			return pw_errf(err, n, -EPERM, "above the generation store %s: %s", path, msg);
		if (!p[0])
			break;
	}
	return 0;
}

static int open_dir(int at, const char *name, const char *shown, bool create, char *err, size_t n)
{
	if (create && mkdirat(at, name, 0700) && errno != EEXIST)
		return pw_errf(err, n, -errno, "creating the generation store %s failed: %s", shown, strerror(errno));
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT && !create)
			return -ENOENT;
		return pw_errf(err, n, -e, "opening the generation store %s failed: %s%s", shown, strerror(e),
			       e == ELOOP || e == ENOTDIR ? " (a symbolic link or no directory: refused)" : "");
	}
	int rc = judge_dir(fd, shown, err, n);
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

int pw_gens_open(const char *root, bool create, char *err, size_t n)
{
	const char *base = base_dir();
	char key[PW_ROOT_KEY_MAX], shown[PATH_MAX + PW_ROOT_KEY_MAX];

	int rc = judge_above(base, err, n);
	if (rc)
		return rc;
	int bfd = open_dir(AT_FDCWD, base, base, create, err, n);
	if (bfd < 0)
		return bfd;
	pw_root_key(root, key, sizeof(key));
	snprintf(shown, sizeof(shown), "%s/%s", base, key);
	int fd = open_dir(bfd, key, shown, create, err, n);
	close(bfd);
	return fd;
}

/* A header value on one line, control characters as '?'. */
static void put_line(FILE *f, const char *v)
{
	for (const unsigned char *c = (const unsigned char *)v; *c; c++)
		fputc(*c < 0x20 || *c == 0x7f ? '?' : *c, f);
	fputc('\n', f);
}

static void put_val(FILE *f, const char *key, const char *v)
{
	fprintf(f, "%s ", key);
	put_line(f, v);
}

static void put_gen(FILE *f, const struct pw_gen *g)
{
	char hex[65];

	pw_hex(g->hash, sizeof(g->hash), hex);
	fprintf(f, "portwall-generation 1\ngeneration %u\ntime %llu\nhash %s\nmode %u\nuid %u\n", g->generation,
		(unsigned long long)g->applied_unix, hex, g->mode, g->uid);
	put_val(f, "name", g->name);
	put_val(f, "path", g->path);
	put_val(f, "cmd", g->cmd);
	put_val(f, "user", g->user);
	put_val(f, "sudo_user", g->sudo_user);
	put_val(f, "ssh_client", g->ssh_client);
	fprintf(f, "files %zu\n", g->nfiles);
	for (size_t i = 0; i < g->nfiles; i++) {
		fprintf(f, "file %zu ", g->src[i].len);
		put_line(f, g->paths[i]);
		fwrite(g->src[i].text, 1, g->src[i].len, f);
		fputc('\n', f);
	}
}

int pw_gen_write(int dfd, const struct pw_gen *g, char *err, size_t n)
{
	char name[32], tmp[64];
	uint32_t r = 0;
	int fd = -1;

	snprintf(name, sizeof(name), "gen-%010u", g->generation);
	for (int tries = 0; fd < 0 && tries < 16; tries++) {
		if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
			r = (uint32_t)time(NULL) ^ (uint32_t)getpid() ^ (uint32_t)tries * 2654435761u;
		snprintf(tmp, sizeof(tmp), ".%s.%08x", name, r);
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0)
		return pw_errf(err, n, -errno, "creating a file in the generation store failed: %s", strerror(errno));
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlinkat(dfd, tmp, 0);
		return pw_errf(err, n, -ENOMEM, "out of memory");
	}
	put_gen(f, g);
	int bad = fflush(f) || ferror(f) || fsync(fd);
	int e = errno;
	bad |= fclose(f) != 0;
	if (bad || renameat(dfd, tmp, dfd, name)) {
		e = bad ? (e ? e : EIO) : errno;
		unlinkat(dfd, tmp, 0);
		return pw_errf(err, n, -e, "writing generation %u into the store failed: %s", g->generation,
			       strerror(e));
	}
	return 0;
}

/* The file open at fd whole, when it is a regular file of ours that no
 * one else can write. */
static char *slurp(int fd, size_t *len, char *err, size_t n)
{
	struct stat sb;

	if (fstat(fd, &sb))
		return pw_errf(err, n, -errno, "%s", strerror(errno)), NULL;
	if (!S_ISREG(sb.st_mode) || sb.st_uid != geteuid() || (sb.st_mode & 077) || sb.st_size > GEN_MAX_BYTES)
		return pw_errf(err, n, -EPERM, "not a regular file of root's, mode 0600: refused"), NULL;
	char *b = malloc((size_t)sb.st_size + 1);
	if (!b)
		return pw_errf(err, n, -ENOMEM, "out of memory"), NULL;
	size_t got = 0;
	while (got < (size_t)sb.st_size) {
		ssize_t r = read(fd, b + got, (size_t)sb.st_size - got);
		if (r <= 0) {
			free(b);
			return pw_errf(err, n, -EIO, "short read"), NULL;
		}
		got += (size_t)r;
	}
	b[got] = '\0';
	*len = got;
	return b;
}

/* The next line of b from *at (without its newline), or NULL. */
static char *next_line(char *b, size_t len, size_t *at)
{
	if (*at >= len)
		return NULL;
	char *s = b + *at, *nl = memchr(s, '\n', len - *at);
	if (!nl)
		return NULL;
	*nl = '\0';
	*at = (size_t)(nl - b) + 1;
	return s;
}

static bool unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return false;
		out[i] = (uint8_t)v;
	}
	return strlen(s) == 2 * n;
}

#define COPY(f) snprintf(g->f, sizeof(g->f), "%s", v)
static int header_field(struct pw_gen *g, const char *k, const char *v)
{
	unsigned long long x;

	if (!strcmp(k, "generation"))
		return sscanf(v, "%u", &g->generation) == 1 ? 0 : -1;
	if (!strcmp(k, "time"))
		return sscanf(v, "%llu", &x) == 1 ? (g->applied_unix = x, 0) : -1;
	if (!strcmp(k, "hash"))
		return unhex(v, g->hash, sizeof(g->hash)) ? 0 : -1;
	if (!strcmp(k, "mode"))
		return sscanf(v, "%llu", &x) == 1 ? (g->mode = (uint8_t)x, 0) : -1;
	if (!strcmp(k, "uid"))
		return sscanf(v, "%u", &g->uid) == 1 ? 0 : -1;
	if (!strcmp(k, "name"))
		COPY(name);
	else if (!strcmp(k, "path"))
		COPY(path);
	else if (!strcmp(k, "cmd"))
		COPY(cmd);
	else if (!strcmp(k, "user"))
		COPY(user);
	else if (!strcmp(k, "sudo_user"))
		COPY(sudo_user);
	else if (!strcmp(k, "ssh_client"))
		COPY(ssh_client);
	return 0;	/* an unknown key: a later version's, skipped */
}
#undef COPY

/* "file LEN PATH" and its bytes, nfiles times. */
static int read_files(struct pw_gen *g, char *b, size_t len, size_t *at)
{
	g->paths = calloc(g->nfiles ? g->nfiles : 1, sizeof(*g->paths));
	g->src = calloc(g->nfiles ? g->nfiles : 1, sizeof(*g->src));
	if (!g->paths || !g->src)
		return -ENOMEM;
	for (size_t i = 0; i < g->nfiles; i++) {
		char *l = next_line(b, len, at), *sp;
		size_t flen;
		if (!l || strncmp(l, "file ", 5) || sscanf(l + 5, "%zu", &flen) != 1 || !(sp = strchr(l + 5, ' ')) ||
		    flen > len - *at)
			return -EINVAL;
		g->paths[i] = strdup(sp + 1);
		g->src[i].text = malloc(flen + 1);
		if (!g->paths[i] || !g->src[i].text)
			return -ENOMEM;
		memcpy(g->src[i].text, b + *at, flen);
		g->src[i].text[flen] = '\0';
		g->src[i].len = flen;
		*at += flen + 1;
	}
	return 0;
}

static int parse_gen(struct pw_gen *g, char *b, size_t len)
{
	size_t at = 0;
	char *l = next_line(b, len, &at);

	if (!l || strcmp(l, "portwall-generation 1"))
		return -EINVAL;
	while ((l = next_line(b, len, &at))) {
		char *sp = strchr(l, ' ');
		if (!sp)
			return -EINVAL;
		*sp = '\0';
		if (!strcmp(l, "files"))
			return sscanf(sp + 1, "%zu", &g->nfiles) == 1 && g->nfiles < 100000 ?
			       read_files(g, b, len, &at) : -EINVAL;
		if (header_field(g, l, sp + 1))
			return -EINVAL;
	}
	return -EINVAL;
}

int pw_gen_read(int dfd, uint32_t gen, struct pw_gen *g, char *err, size_t n)
{
	char name[32], why[200];
	size_t len;

	memset(g, 0, sizeof(*g));
	snprintf(name, sizeof(name), "gen-%010u", gen);
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return pw_errf(err, n, -ENOENT, "generation %u is not in the store", gen);
		return pw_errf(err, n, -e, "generation %u: %s", gen, strerror(e));
	}
	char *b = slurp(fd, &len, why, sizeof(why));
	close(fd);
	if (!b)
		return pw_errf(err, n, -EPERM, "generation %u in the store: %s", gen, why);
	int rc = parse_gen(g, b, len);
	free(b);
	if (rc == 0 && g->generation != gen)
		rc = -EINVAL;
	if (rc) {
		pw_gen_free(g);
		return pw_errf(err, n, rc, "generation %u in the store is %s", gen,
			       rc == -ENOMEM ? "too big to read (out of memory)" : "damaged: it cannot be read");
	}
	return 0;
}

void pw_gen_free(struct pw_gen *g)
{
	for (size_t i = 0; i < g->nfiles; i++) {
		if (g->paths)
			free(g->paths[i]);
		if (g->src)
			free(g->src[i].text);
	}
	free(g->paths);
	free(g->src);
	g->paths = NULL;
	g->src = NULL;
	g->nfiles = 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int pw_gen_list(int dfd, uint32_t **gens, size_t *n)
{
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	size_t cap = 0;
	struct dirent *e;

	*gens = NULL;
	*n = 0;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	rewinddir(d);
	while ((e = readdir(d))) {
		unsigned g;
		char tail;
		if (sscanf(e->d_name, "gen-%10u%c", &g, &tail) != 1 || strlen(e->d_name) != 14)
			continue;
		if (*n == cap) {
			uint32_t *x = realloc(*gens, (cap = cap ? 2 * cap : 32) * sizeof(*x));
			if (!x)
				break;
			*gens = x;
		}
		(*gens)[(*n)++] = g;
	}
	closedir(d);
	if (*n)
		qsort(*gens, *n, sizeof(**gens), cmp_u32);
	return 0;
}

void pw_gen_prune(int dfd, unsigned keep, uint32_t cur, uint32_t prev)
{
	uint32_t *g;
	size_t n;
	char name[32];

	if (pw_gen_list(dfd, &g, &n))
		return;
	size_t drop = n > keep ? n - keep : 0;
	for (size_t i = 0; i < n && drop; i++) {
		if (g[i] == cur || g[i] == prev)
			continue;	/* in force, or rollback's target: kept, counted */
		snprintf(name, sizeof(name), "gen-%010u", g[i]);
		if (unlinkat(dfd, name, 0) == 0)
			drop--;
	}
	free(g);
}

unsigned pw_gens_keep(void)
{
	const char *e = getenv("PORTWALL_GENERATIONS");
	char *end;
	unsigned long v = e ? strtoul(e, &end, 10) : 0;

	return e && *e && !*end && v >= 2 && v <= 10000 ? (unsigned)v : PW_GENS_KEEP;
}

void pw_gen_who(struct pw_gen *g, const char *cmd)
{
	struct passwd *pw = getpwuid(getuid());
	const char *sudo = getenv("SUDO_USER"), *ssh = getenv("SSH_CONNECTION");

	snprintf(g->cmd, sizeof(g->cmd), "%s", cmd);
	g->uid = (unsigned)getuid();
	snprintf(g->user, sizeof(g->user), "%s", pw ? pw->pw_name : "");
	snprintf(g->sudo_user, sizeof(g->sudo_user), "%s", sudo ? sudo : "");
	/* SSH_CONNECTION is "CLIENT CPORT SERVER SPORT": the client's address */
	size_t l = ssh ? strcspn(ssh, " ") : 0;
	snprintf(g->ssh_client, sizeof(g->ssh_client), "%.*s", (int)(l < sizeof(g->ssh_client) ? l : 0), ssh ? ssh : "");
}

int pw_gen_compile(const struct pw_gen *g, struct pw_policy *pol, struct pw_compiled *c, struct pw_diag *d)
{
	const struct pw_parse_opts po = {
		.mem_paths = (const char *const *)g->paths, .mem_src = g->src, .nmem = g->nfiles, .keep_sources = true,
	};

	if (!g->nfiles) {
		pw_diag_error(d, NULL, 0, 0, "generation %u has no files stored", g->generation);
		return -1;
	}
	if (pw_policy_parse_file_opts(g->paths[0], &po, pol, d))
		return -1;
	pol->mode = g->mode;
	if (pw_compile(pol, c, d)) {
		pw_policy_free(pol);
		return -1;
	}
	if (memcmp(c->hash, g->hash, sizeof(c->hash))) {
		pw_diag_error(d, g->paths[0], 0, 0, "generation %u's stored files no longer compile to its hash "
			      "(another portwall version?)", g->generation);
		pw_compiled_free(c);
		pw_policy_free(pol);
		return -1;
	}
	return 0;
}
