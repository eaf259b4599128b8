/* agent.h - what apply, status, unload and test share: the pin directory,
 * bpffs, the lock, the policy in force. */
#ifndef PW_AGENT_H
#define PW_AGENT_H

#include <stdbool.h>
#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/compile.h"
#include "datapath/loader.h"
#include "policy/policy.h"

#define PW_PIN_ROOT "/sys/fs/bpf/portwall"
#define PW_LOCK_DIR "/run/portwall"

/* Refuse early, with what to do, when not root. */
int pw_need_root(const char *cmd);
/* Mount bpffs on /sys/fs/bpf when a pin root under it has none. */
int pw_ensure_bpffs(const char *root, char *err, size_t errsz);
/* PW_LOCK_DIR/<root>.<what>: a per-pin-root file name, one per directory
 * (slashes collapsed) and no two directories' the same: '/' becomes '_',
 * '_' and '%' are escaped as %5f and %25; a name too long is a hash. */
void pw_run_path(const char *root, const char *what, char *buf, size_t size);
/* That name without directory and suffix (also the generation store's
 * directory of the pin root, datapath/gens.h). size >= PW_ROOT_KEY_MAX. */
#define PW_ROOT_KEY_MAX 1540
void pw_root_key(const char *root, char *name, size_t size);
/* Make a directory portwall keeps state in (the lock directory, a pin
 * root) root's only, 0700, when it is a directory root owns. */
void pw_run_private(const char *dir);
/* Serialize commands that change one pin root: an exclusive flock, waited
 * for. Returns the lock fd (close it to release) or -errno with a message. */
int pw_lock(const char *root, char *err, size_t errsz);
/* The same without waiting: -EWOULDBLOCK (err untouched) while another
 * holds it. */
int pw_lock_try(const char *root, char *err, size_t errsz);
/* An exclusive, non-blocking lock of the pin root's file <what> (the
 * drop events' reader, the agent) that holds the holder's pid. Returns the
 * fd (close it to release), or -1 with the holder's pid in *holder (0 if
 * unknown). */
int pw_owner_lock(const char *root, const char *what, int *holder);
/* Remove root's lock file <what>: nothing is left to guard (unload, a
 * first apply that pinned nothing). held: the caller holds it; else only
 * when nobody does. A command waiting on the removed file takes the new
 * one (the lock functions check they hold the file at that name). */
void pw_lock_remove(const char *root, const char *what, bool held);
/* For the fault tests: with PORTWALL_FAULT=NAME in the environment the
 * process kills itself (SIGKILL, as `kill -9` would) on reaching the point
 * NAME, so that each window between two steps is tested, not only the
 * ones a random delay happens to hit. A no-op otherwise. */
void pw_fault_point(const char *name);
/* For the fault tests of error paths: true when PORTWALL_FAULT=NAME, for
 * the step NAME to fail as if the kernel had refused it. */
bool pw_fault_fails(const char *name);
/* The pin of the XDP link on interface f: by ifindex, so that a rename or
 * a new interface of the old name cannot take another's pin. */
void pw_link_pin(const char *root, const struct pw_iface *f, char *buf, size_t size);
/* A pin of an older portwall, named by f's name: renamed to f's pin when
 * its link is on f (an upgrade while loaded). */
void pw_link_pin_legacy(const char *root, const struct pw_iface *f);
/* Take portwall's programs off f: XDP by its link pin, tc egress too when
 * tc (only inside the record's namespace). */
void pw_iface_detach(const char *root, const struct pw_iface *f, bool tc);
/* The inode of the network namespace this thread is in, 0 if unknown. */
uint32_t pw_netns_ino(void);
/* Is the interface of record f gone (called inside m's namespace, whose
 * inode is ns_ino)? If not, now gets its name now. */
bool pw_iface_gone(const struct pw_meta *m, const struct pw_iface *f, uint32_t ns_ino, char now[IF_NAMESIZE]);
/* Remove every XDP link pin under root (which detaches those links), for
 * a load too broken to say which interfaces it has. Returns how many. */
int pw_link_unpin_all(const char *root);

/* The policy in force: from the generation store (its files as they were
 * compiled), else re-read from the file meta names; and whether the file
 * on disk still compiles to the tables in force (same hash). */
struct pw_applied {
	struct pw_meta meta;
	struct pw_policy pol;
	struct pw_compiled c;
	bool have_rules;	/* pol/c valid */
	bool same;		/* pol/c are the policy in force (stored, or the file's hash is) */
	bool stored;		/* pol/c from the generation store */
	bool file_same;		/* the file on disk compiles to the hash in force */
};
int pw_applied_read(const struct pw_dp *dp, struct pw_applied *a);
void pw_applied_free(struct pw_applied *a);

#endif
