/* unload.c - take portwall off: detach, unpin, and keep the record of what
 * is applied right when only some interfaces go. */
#include "datapath/unload.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "datapath/attach.h"
#include "datapath/events.h"
#include "datapath/loader.h"
#include "datapath/state.h"

/* The tc filters a load that cannot be opened whole (partial, or of
 * another version) may have left: its record's interfaces, read even from
 * an older layout (the records' offsets have not moved; a value larger
 * than ours is not trusted), and its egress program's pin. */
static void detach_tc_broken(const char *root)
{
	static union { struct pw_meta m; uint8_t raw[65536]; } v;
	char path[600];
	uint32_t zero = 0;
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	int saved = -1;

	snprintf(path, sizeof(path), "%s/pw_meta", root);
	int mfd = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/prog_egress", root);
	int pfd = bpf_obj_get(path);
	memset(&v, 0, sizeof(v));
	if (mfd >= 0 && pfd >= 0 && bpf_obj_get_info_by_fd(mfd, &info, &len) == 0 &&
	    info.value_size <= sizeof(v.m) && bpf_map_lookup_elem(mfd, &zero, v.raw) == 0 &&
	    v.m.niface <= PW_MAX_IFACES && pw_netns_enter(v.m.netns, &saved, path, sizeof(path)) == 0) {
		for (int i = 0; i < v.m.niface; i++)
			if (pw_tc_attached((int)v.m.iface[i].ifindex, pfd) == 1)
				pw_detach_tc((int)v.m.iface[i].ifindex, v.m.iface[i].tc_mode);
		pw_netns_leave(saved);
	}
	if (mfd >= 0)
		close(mfd);
	if (pfd >= 0)
		close(pfd);
}

/* A load too broken to say what it has: clear what can be cleared. */
static void unload_broken(const char *root, struct pw_unload *u)
{
	u->partial = true;
	detach_tc_broken(root);
	u->links_by_pin = pw_link_unpin_all(root);
	pw_dp_unpin(root);
	rmdir(root);
}

/* Is f the interface `only` names: by its name now, or, gone (or out of
 * reach), by the name it was applied by? */
static bool named(const struct pw_meta *m, const struct pw_iface *f, const char *only, bool pin_only)
{
	char now[IF_NAMESIZE];

	if (!pin_only && !pw_iface_gone(m, f, pw_netns_ino(), now))
		return strcmp(only, now) == 0;
	return strncmp(only, f->name, sizeof(f->name)) == 0;
}

/* Take the programs off the interfaces asked for, inside the namespace
 * they were applied in; left gets the interfaces that keep them. */
static void detach_ifaces(const char *root, const char *only, const struct pw_dp *dp,
			  const struct pw_unload_tell *tell, struct pw_unload *u, struct pw_meta *left)
{
	const struct pw_meta *m = &u->meta;
	int saved = -1;

	u->pin_only = pw_netns_enter(m->netns, &saved, u->ns_err, sizeof(u->ns_err)) != 0;
	if (tell->found)
		tell->found(tell->ctx, u);
	*left = *m;
	left->niface = 0;
	u->not_on = only != NULL;
	for (int i = 0; i < m->niface; i++) {
		const struct pw_iface *f = &m->iface[i];
		if (only && !named(m, f, only, u->pin_only)) {
			left->iface[left->niface++] = *f;
			continue;
		}
		u->not_on = false;
		pw_iface_detach(root, f, !u->pin_only && f->tc_mode &&
				pw_tc_attached((int)f->ifindex, pw_dp_prog(dp, f->link, PW_DIR_OUT)) == 1);
		if (tell->detached)
			tell->detached(tell->ctx, f);
	}
	if (!u->pin_only)
		pw_netns_leave(saved);
}

/* The unload itself, under the lock. */
static int unload_locked(const char *root, const char *only, const struct pw_unload_tell *tell,
			 struct pw_unload *u, char *err, size_t errsz)
{
	struct pw_dp dp;
	struct pw_meta left;
	int rc = pw_dp_open_pinned(&dp, root, err, errsz);

	if (rc == -ENOENT) {
		u->nothing = true;
		return 0;
	}
	if (rc || pw_dp_read_meta(&dp, &u->meta)) {
		if (!rc) {
			snprintf(err, errsz, "%s", strerror(errno));
			pw_dp_close(&dp);
		}
		unload_broken(root, u);
		return -1;
	}
	detach_ifaces(root, only, &dp, tell, u, &left);
	if (u->not_on) {
		pw_dp_close(&dp);
		return -1;
	}
	if (left.niface) {
		/* the others keep it: only the record of its interfaces changes */
		u->kept = true;
		pw_dp_write_meta(&dp, &left);
		pw_dp_close(&dp);
		return 0;
	}
	pw_dp_close(&dp);
	pw_dp_unpin(root);
	u->not_empty = rmdir(root) && errno != ENOENT;
	return 0;
}

int pw_unload_held(const char *root, const char *only, const struct pw_unload_tell *tell, struct pw_unload *u,
		   char *err, size_t errsz)
{
	static const struct pw_unload_tell quiet;

	memset(u, 0, sizeof(*u));
	int rc = unload_locked(root, only, tell ? tell : &quiet, u, err, errsz);
	if (rc == 0 && !u->kept && !u->not_empty) {
		/* nothing of portwall remains under root */
		pw_lock_remove(root, "events", false);
		pw_lock_remove(root, "agent", false);
		pw_lock_remove(root, "lock", true);
	}
	return rc;
}

int pw_unload(const char *root, const char *only, const struct pw_unload_tell *tell, struct pw_unload *u,
	      char *err, size_t errsz)
{
	memset(u, 0, sizeof(*u));
	int lock = pw_lock(root, err, errsz);
	if (lock < 0)
		return -1;
	int rc = pw_unload_held(root, only, tell, u, err, errsz);
	close(lock);
	return rc;
}
