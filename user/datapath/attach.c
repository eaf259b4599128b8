/* attach.c - put the programs on an interface and take them off. */
#define _GNU_SOURCE
#include "datapath/attach.h"
#include "lib/diag.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* our tc filter's place: handle and priority, fixed so unload finds it */
#define PW_TC_HANDLE 0x7077
#define PW_TC_PRIO 0x7077

int pw_netns_enter(const char *name, int *saved, char *err, size_t n)
{
	char path[300];

	*saved = -1;
	if (!name || !*name)
		return 0;
	if (strchr(name, '/'))
		return pw_errf(err, n, -EINVAL, "--netns takes a name from /run/netns, got \"%s\"", name);
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pw_errf(err, n, -errno, "network namespace %s: %s (see `ip netns list`)", name, strerror(errno));
	*saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*saved < 0 || setns(fd, CLONE_NEWNET)) {
		int e = errno;
		close(fd);
		if (*saved >= 0)
			close(*saved);
		*saved = -1;
		return pw_errf(err, n, -e, "entering network namespace %s failed: %s", name, strerror(e));
	}
	close(fd);
	return 0;
}

void pw_netns_leave(int saved)
{
	if (saved < 0)
		return;
	if (setns(saved, CLONE_NEWNET))
		fprintf(stderr, "portwall: returning to the original network namespace failed: %s\n",
			strerror(errno));
	close(saved);
}

static __u32 prog_id(int prog_fd)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(prog_fd, &info, &len) ? 0 : info.id;
}

int pw_xdp_attached(int ifindex, int prog_fd)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return -errno;
	__u32 id = prog_id(prog_fd);
	if (!id)
		return 0;
	return q.drv_prog_id == id ? PW_XDP_NATIVE : q.skb_prog_id == id ? PW_XDP_GENERIC :
	       q.prog_id == id ? PW_XDP_NATIVE : 0;
}

int pw_attach_xdp(int prog_fd, int ifindex, const char *ifname, enum pw_xdp_want want, bool force,
		  const char *link_pin, uint8_t *got, char *err, size_t n)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q) == 0 && q.prog_id && q.prog_id != prog_id(prog_fd)) {
		if (!force)
			return pw_errf(err, n, -EBUSY, "%s already has an XDP program (id %u) that is not portwall's; "
				    "nothing was changed (--force replaces it)", ifname, q.prog_id);
		bpf_xdp_detach(ifindex, q.attach_mode == XDP_ATTACHED_SKB ? XDP_FLAGS_SKB_MODE :
				       q.attach_mode == XDP_ATTACHED_DRV ? XDP_FLAGS_DRV_MODE : 0, NULL);
	}
	const __u32 modes[2] = { XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE };
	int first = want == PW_XDP_WANT_GENERIC ? 1 : 0, last = want == PW_XDP_WANT_NATIVE ? 0 : 1;
	int fd = -1, e = 0;
	for (int m = first; m <= last; m++) {
		LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = modes[m]);
		fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &lo);
		if (fd >= 0) {
			*got = m == 0 ? PW_XDP_NATIVE : PW_XDP_GENERIC;
			break;
		}
		e = errno;
	}
	if (fd < 0)
		return pw_errf(err, n, -e, "attaching XDP to %s failed: %s%s", ifname, strerror(e),
			    want == PW_XDP_WANT_NATIVE ? " (the driver may lack native XDP: try --xdp-mode auto)" : "");
	if (bpf_obj_pin(fd, link_pin)) {
		e = errno;
		close(fd);	/* the link goes with its last fd: detached */
		return pw_errf(err, n, -e, "pinning the XDP link at %s failed: %s", link_pin, strerror(e));
	}
	close(fd);
	return 0;
}

void pw_detach_xdp(const char *link_pin)
{
	int fd = bpf_obj_get(link_pin);

	if (fd >= 0) {
		bpf_link_detach(fd);
		close(fd);
	}
	unlink(link_pin);
}

int pw_attach_tc(int prog_fd, int ifindex, const char *ifname, uint8_t *got, char *err, size_t n)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = PW_TC_HANDLE, .priority = PW_TC_PRIO, .prog_fd = prog_fd,
		    .flags = BPF_TC_F_REPLACE);
	int rc = bpf_tc_hook_create(&hook);

	if (rc && rc != -EEXIST)
		return pw_errf(err, n, rc, "creating the clsact qdisc on %s failed: %s", ifname, strerror(-rc));
	bool ours = rc == 0;
	rc = bpf_tc_attach(&hook, &o);
	if (rc) {
		if (ours)
			pw_detach_tc(ifindex, PW_TC_CLSACT_OURS);
		return pw_errf(err, n, rc, "attaching the tc egress program to %s failed: %s", ifname, strerror(-rc));
	}
	*got = ours ? PW_TC_CLSACT_OURS : PW_TC_CLSACT;
	return 0;
}

void pw_detach_tc(int ifindex, uint8_t mode)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = PW_TC_HANDLE, .priority = PW_TC_PRIO);

	bpf_tc_detach(&hook, &o);
	if (mode == PW_TC_CLSACT_OURS) {
		/* the qdisc portwall made goes too (it takes any other filters on it) */
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
}

int pw_tc_attached(int ifindex, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = PW_TC_HANDLE, .priority = PW_TC_PRIO);

	if (bpf_tc_query(&hook, &o))
		return 0;
	return o.prog_id && o.prog_id == prog_id(prog_fd);
}
