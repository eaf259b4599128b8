/* listeners.c - the listening sockets of this network namespace, read with
 * sock_diag (NETLINK_SOCK_DIAG), and the process owning each: the one
 * whose /proc/PID/fd has "socket:[INODE]" (the first PW_PROC_MAX
 * processes and PW_FD_MAX of their fds are looked at). adopt.c reads the connected ones from /proc. */
#include "datapath/listeners.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "datapath/attach.h"
#include "lib/diag.h"

#define ST_LISTEN 10	/* TCP_LISTEN */
#define ST_CLOSE 7	/* TCP_CLOSE: a UDP socket not connected */

struct lst {
	struct pw_listener *v;
	size_t n, cap;
};

static int push(struct lst *o, const struct inet_diag_msg *m, uint8_t proto)
{
	if (o->n == o->cap) {
		size_t nc = o->cap ? o->cap * 2 : 64;
		struct pw_listener *p = realloc(o->v, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		o->v = p;
		o->cap = nc;
	}
	struct pw_listener *l = &o->v[o->n++];
	*l = (struct pw_listener){ .fam = m->idiag_family == AF_INET6 ? PW_FAM_V6 : PW_FAM_V4, .proto = proto,
				   .port = ntohs(m->id.idiag_sport), .inode = m->idiag_inode };
	memcpy(l->addr, m->id.idiag_src, l->fam == PW_FAM_V6 ? 16 : 4);
	return 0;
}

/* Ask for one family and protocol's sockets in states `states`. */
static int ask(int fd, uint8_t family, uint8_t proto, uint32_t states)
{
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 r;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.r = { .sdiag_family = family, .sdiag_protocol = proto, .idiag_states = states },
	};
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	return sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
}

/* Read the dump's answers into o; a UDP socket with a peer is no listener. */
static int collect(int fd, uint8_t proto, struct lst *o)
{
	static char buf[32768];

	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		if (len < 0)
			return -errno;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				return e->error ? e->error : -EIO;
			}
			const struct inet_diag_msg *m = NLMSG_DATA(h);
			if (proto == 17 && m->id.idiag_dport)
				continue;
			int rc = push(o, m, proto);
			if (rc)
				return rc;
		}
	}
}

static int dump(uint8_t family, uint8_t proto, struct lst *o, char *err, size_t errsz)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	if (fd < 0)
		return pw_errf(err, errsz, -1, "opening a sock_diag socket failed: %s (is the kernel built with "
			       "CONFIG_INET_DIAG?)", strerror(errno));
	int rc = ask(fd, family, proto, 1u << (proto == 6 ? ST_LISTEN : ST_CLOSE));
	if (!rc)
		rc = collect(fd, proto, o);
	close(fd);
	if (rc == -ENOENT && proto == 17)
		return pw_errf(err, errsz, -1, "sock_diag has no UDP sockets: load the udp_diag module "
			       "(modprobe udp_diag) and run audit again");
	if (rc)
		return pw_errf(err, errsz, -1, "reading the %s %s sockets with sock_diag failed: %s",
			       family == AF_INET6 ? "IPv6" : "IPv4", proto == 6 ? "TCP" : "UDP", strerror(-rc));
	return 0;
}

static int by_ino(const void *a, const void *b)
{
	unsigned long x = ((const struct pw_listener *)a)->inode, y = ((const struct pw_listener *)b)->inode;
	return (x > y) - (x < y);
}

/* The order audit reports them in: protocol, port, family, address. */
static int by_port(const void *a, const void *b)
{
	const struct pw_listener *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto - y->proto;
	if (x->port != y->port)
		return x->port - y->port;
	if (x->fam != y->fam)
		return x->fam - y->fam;
	return memcmp(x->addr, y->addr, 16);
}

/* The listener whose inode is `ino` (o sorted by inode), NULL for none. */
static struct pw_listener *by_inode(struct lst *o, unsigned long ino)
{
	struct pw_listener key = { .inode = ino };

	return bsearch(&key, o->v, o->n, sizeof(*o->v), by_ino);
}

static void owner(struct pw_listener *l, pid_t pid)
{
	char path[64];
	FILE *f;

	l->pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	snprintf(l->comm, sizeof(l->comm), "?");
	if ((f = fopen(path, "r"))) {
		if (fgets(l->comm, sizeof(l->comm), f))
			l->comm[strcspn(l->comm, "\n")] = '\0';
		fclose(f);
	}
}

/* Give the listeners process pid holds their owner; *budget: readlinks
 * left for every process (a process with a million fds stops the scan,
 * not the audit). */
static void scan_fds(struct lst *o, pid_t pid, long *budget)
{
	char path[64], link[64];
	unsigned long ino;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return;	/* gone, or not ours to read */
	for (struct dirent *e; *budget > 0 && (e = readdir(d)); (*budget)--) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%.20s", (int)pid, e->d_name);
		ssize_t n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		struct pw_listener *l;
		if (sscanf(link, "socket:[%lu]", &ino) == 1 && (l = by_inode(o, ino)) && !l->pid)
			owner(l, pid);	/* the first process that holds it (a fork shares it) */
	}
	closedir(d);
}

static void owners(struct lst *o)
{
	DIR *d = opendir("/proc");
	int seen = 0;
	long budget = PW_FD_MAX;

	if (!d)
		return;
	for (struct dirent *e; seen < PW_PROC_MAX && (e = readdir(d));) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		seen++;
		scan_fds(o, (pid_t)pid, &budget);
	}
	closedir(d);
}

int pw_listeners_read(const char *netns, struct pw_listener **v, size_t *n, char *err, size_t errsz)
{
	static const uint8_t fams[] = { AF_INET, AF_INET6 }, protos[] = { 6, 17 };
	struct lst o = { 0 };
	int saved, rc = 0;

	if (pw_netns_enter(netns, &saved, err, errsz))
		return -1;
	/* the sockets inside it; the processes (one pid namespace) from here */
	for (size_t i = 0; i < sizeof(fams) && !rc; i++)
		for (size_t j = 0; j < sizeof(protos) && !rc; j++)
			rc = dump(fams[i], protos[j], &o, err, errsz);
	pw_netns_leave(saved);
	if (rc) {
		free(o.v);
		return -1;
	}
	qsort(o.v, o.n, sizeof(*o.v), by_ino);
	owners(&o);
	qsort(o.v, o.n, sizeof(*o.v), by_port);
	*v = o.v;
	*n = o.n;
	return 0;
}
