/* agent.c - what apply, status, unload and test share. */
#include "datapath/state.h"
#include "lib/sha256.h"
#include "datapath/attach.h"
#include "datapath/gens.h"

#include <bpf/bpf.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#define BPF_FS_MAGIC 0xcafe4a11

int pw_need_root(const char *cmd)
{
	if (geteuid() == 0)
		return 0;
	fprintf(stderr, "portwall %s: needs root (CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN): "
		"run it with sudo; nothing was changed\n", cmd);
	return -EPERM;
}

int pw_ensure_bpffs(const char *root, char *err, size_t n)
{
	struct statfs st;

	if (strncmp(root, "/sys/fs/bpf", 11) != 0)
		return 0;	/* the caller's own bpffs */
	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mkdir("/sys/fs/bpf", 0700) && errno != EEXIST)
		return pw_errf(err, n, -errno, "creating /sys/fs/bpf failed: %s", strerror(errno));
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
		return pw_errf(err, n, -errno, "mounting bpffs on /sys/fs/bpf failed: %s", strerror(errno));
	return 0;
}

/* The pin root with its slashes collapsed and no trailing one: one name
 * for one directory however it is spelled ("/a//x/" is "/a/x"). */
static void root_normal(const char *root, char *out, size_t size)
{
	size_t o = 0;

	for (const char *c = root; *c && o + 1 < size; c++)
		if (!(*c == '/' && (c[1] == '/' || (c[1] == '\0' && o > 0))))
			out[o++] = *c;
	out[o] = '\0';
}

void pw_root_key(const char *root, char *name, size_t size)
{
	char norm[512];
	size_t o = 0;

	root_normal(root, norm, sizeof(norm));
	/* '/' is '_', and '_' and '%' are escaped: "/a_x" and "/a/x" differ */
	for (const char *c = norm; *c; c++) {
		if (*c == '_' || *c == '%')
			o += (size_t)snprintf(name + o, size - o, "%%%02x", (unsigned char)*c);
		else
			name[o++] = *c == '/' ? '_' : *c;
	}
	name[o] = '\0';
	if (o > 200) {
		/* too long for a file name: a hash ("%h" is no escape above) */
		struct pw_sha256 h;
		uint8_t d[32];
		pw_sha256_init(&h);
		pw_sha256_update(&h, norm, strlen(norm));
		pw_sha256_final(&h, d);
		snprintf(name, size, "%%h");
		pw_hex(d, sizeof(d), name + 2);
	}
}

void pw_run_path(const char *root, const char *what, char *buf, size_t size)
{
	char name[PW_ROOT_KEY_MAX];

	pw_root_key(root, name, sizeof(name));
	snprintf(buf, size, "%s/%.200s.%s", PW_LOCK_DIR, name, what);
}

void pw_run_private(const char *dir)
{
	struct stat st;

	/* made by someone else (a RuntimeDirectory= of 0755, by hand): root's
	 * own directory is made root's only; anything else is left alone */
	if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0 && (st.st_mode & 07777) != 0700)
		chmod(dir, 0700);
}

/* Is the file open at fd still the one at path (not removed by an
 * unload since it was opened)? */
static bool still_named(int fd, const char *path)
{
	struct stat held, now;

	return fstat(fd, &held) == 0 && stat(path, &now) == 0 && held.st_ino == now.st_ino &&
	       held.st_dev == now.st_dev;
}

static int lock_root(const char *root, int how, char *err, size_t n)
{
	char path[600];

	if (mkdir(PW_LOCK_DIR, 0700) && errno != EEXIST)
		return pw_errf(err, n, -errno, "creating %s failed: %s", PW_LOCK_DIR, strerror(errno));
	pw_run_private(PW_LOCK_DIR);
	pw_run_path(root, "lock", path, sizeof(path));
	/* an unload removes the file while it holds it: whoever waited on
	 * that file then holds a lock nobody else sees, and takes the new one */
	for (int tries = 0; tries < 100; tries++) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return pw_errf(err, n, -errno, "opening the lock %s failed: %s", path, strerror(errno));
		fchmod(fd, 0600);	/* one made before (another umask, by hand) too */
		if (flock(fd, how)) {
			int e = errno;
			close(fd);
			if (e == EWOULDBLOCK)
				return -e;
			return pw_errf(err, n, -e, "locking %s failed: %s", path, strerror(e));
		}
		if (still_named(fd, path))
			return fd;
		close(fd);
	}
	return pw_errf(err, n, -EAGAIN, "locking %s failed: it keeps being removed; is an unload running in a "
		       "loop?", path);
}

int pw_lock(const char *root, char *err, size_t n)
{
	return lock_root(root, LOCK_EX, err, n);
}

int pw_lock_try(const char *root, char *err, size_t n)
{
	return lock_root(root, LOCK_EX | LOCK_NB, err, n);
}

void pw_lock_remove(const char *root, const char *what, bool held)
{
	char path[600];
	int fd;

	pw_run_path(root, what, path, sizeof(path));
	if (held) {
		unlink(path);
		return;
	}
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		unlink(path);	/* nobody holds it */
	close(fd);
}

/* The pid a lock file's holder wrote into it, 0 if unknown. */
static int holder_of(int fd)
{
	char pid[32];
	ssize_t n = read(fd, pid, sizeof(pid) - 1);

	if (n <= 0)
		return 0;
	pid[n] = '\0';
	return atoi(pid);
}

int pw_owner_lock(const char *root, const char *what, int *holder)
{
	char path[600], pid[32];

	*holder = 0;
	mkdir(PW_LOCK_DIR, 0700);
	pw_run_private(PW_LOCK_DIR);
	pw_run_path(root, what, path, sizeof(path));
	/* one taken on a file an unload removed is nobody's: take the new one */
	for (int tries = 0; tries < 100; tries++) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return -1;
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			*holder = holder_of(fd);
			close(fd);
			return -1;
		}
		if (!still_named(fd, path)) {
			close(fd);
			continue;
		}
		fchmod(fd, 0600);
		int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
		if (ftruncate(fd, 0) || write(fd, pid, (size_t)n) < 0)
			n = 0;	/* the pid is only for the message of the next one */
		return fd;
	}
	return -1;
}

void pw_link_pin(const char *root, const struct pw_iface *f, char *buf, size_t size)
{
	snprintf(buf, size, "%s/link_xdp_if%u", root, f->ifindex);
}

/* The ifindex of the XDP link pinned at pin, 0 if none. */
static uint32_t pinned_link_ifindex(const char *pin)
{
	struct bpf_link_info info = { 0 };
	uint32_t len = sizeof(info);
	int fd = bpf_obj_get(pin);

	if (fd < 0)
		return 0;
	int rc = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	return rc == 0 && info.type == BPF_LINK_TYPE_XDP ? info.xdp.ifindex : 0;
}

void pw_link_pin_legacy(const char *root, const struct pw_iface *f)
{
	char old[600], pin[600];

	snprintf(old, sizeof(old), "%s/link_xdp_%.16s", root, f->name);
	if (access(old, F_OK) != 0)
		return;
	pw_link_pin(root, f, pin, sizeof(pin));
	/* only the link on this very interface (or on none any more, its
	 * interface gone): the name may be another's now */
	uint32_t on = pinned_link_ifindex(old);
	if ((on == f->ifindex || on == 0) && access(pin, F_OK) != 0)
		rename(old, pin);
}

void pw_iface_detach(const char *root, const struct pw_iface *f, bool tc)
{
	char pin[600];

	pw_link_pin_legacy(root, f);
	pw_link_pin(root, f, pin, sizeof(pin));
	pw_detach_xdp(pin);
	if (tc && f->tc_mode)
		pw_detach_tc((int)f->ifindex, f->tc_mode);
}

uint32_t pw_netns_ino(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) == 0 ? (uint32_t)st.st_ino : 0;
}

bool pw_iface_gone(const struct pw_meta *m, const struct pw_iface *f, uint32_t ns_ino, char now[IF_NAMESIZE])
{
	now[0] = '\0';
	if (m->netns_ino && ns_ino && m->netns_ino != ns_ino)
		return true;	/* the namespace was made anew: its ifindexes are others' */
	return if_indextoname(f->ifindex, now) == NULL;
}

void pw_fault_point(const char *name)
{
	const char *f = getenv("PORTWALL_FAULT");

	if (f && strcmp(f, name) == 0)
		kill(getpid(), SIGKILL);
}

bool pw_fault_fails(const char *name)
{
	const char *f = getenv("PORTWALL_FAULT");

	return f && strcmp(f, name) == 0;
}

int pw_link_unpin_all(const char *root)
{
	DIR *d = opendir(root);
	struct dirent *e;
	char path[600];
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "link_xdp_", 9)) {
			snprintf(path, sizeof(path), "%s/%s", root, e->d_name);
			n += unlink(path) == 0;
		}
	closedir(d);
	return n;
}

/* The generation in force from the store of dp's pin root, when it has it
 * and it compiles to the hash in force. */
static bool applied_stored(const struct pw_dp *dp, struct pw_applied *a)
{
	struct pw_diag d = { 0 };
	struct pw_gen g;
	char err[600];
	int fd = dp->root[0] ? pw_gens_open(dp->root, false, err, sizeof(err)) : -1;

	if (fd < 0)
		return false;
	int rc = pw_gen_read(fd, a->meta.cur.generation, &g, err, sizeof(err));
	close(fd);
	if (rc)
		return false;
	rc = memcmp(g.hash, a->meta.cur.hash, sizeof(g.hash)) ? -1 : pw_gen_compile(&g, &a->pol, &a->c, &d);
	pw_gen_free(&g);
	pw_diag_free(&d);
	return rc == 0;
}

/* Does the file meta names compile to the hash in force now? With keep,
 * what it compiles to stays in pol/c (*have), whatever its hash. */
static bool file_same(const struct pw_meta *m, struct pw_policy *pol, struct pw_compiled *c, bool keep, bool *have)
{
	struct pw_diag d = { 0 };
	bool same = false;

	*have = false;
	if (m->cur.path[0] && pw_policy_parse_file(m->cur.path, pol, &d) == 0) {
		pol->mode = m->cur.mode;	/* as applied (--mode may override the file) */
		if (pw_compile(pol, c, &d) == 0) {
			same = memcmp(c->hash, m->cur.hash, sizeof(c->hash)) == 0;
			*have = keep;
			if (!keep)
				pw_compiled_free(c);
		}
		if (!*have)
			pw_policy_free(pol);
	}
	pw_diag_free(&d);
	return same;
}

int pw_applied_read(const struct pw_dp *dp, struct pw_applied *a)
{
	memset(a, 0, sizeof(*a));
	int rc = pw_dp_read_meta(dp, &a->meta);
	if (rc)
		return rc;
	a->stored = applied_stored(dp, a);
	if (a->stored) {
		struct pw_policy pol;
		struct pw_compiled c;
		bool have;
		a->file_same = file_same(&a->meta, &pol, &c, false, &have);
		a->have_rules = a->same = true;
	} else {
		a->file_same = a->same = file_same(&a->meta, &a->pol, &a->c, true, &a->have_rules);
	}
	return 0;
}

void pw_applied_free(struct pw_applied *a)
{
	if (a->have_rules) {
		pw_compiled_free(&a->c);
		pw_policy_free(&a->pol);
	}
	a->have_rules = false;
}
