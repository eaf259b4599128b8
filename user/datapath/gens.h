/* gens.h - the generation store (gens.c): every applied generation's
 * sources, exactly as compiled, with who applied it, under
 * PORTWALL_STATE_DIR (default /var/lib/portwall), one directory per pin
 * root. Root's only: a store directory others could write is refused. */
#ifndef PW_GENS_H
#define PW_GENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/compile.h"
#include "policy/policy.h"

#define PW_STATE_DIR "/var/lib/portwall"
#define PW_GENS_KEEP 20	/* generations kept by default (PORTWALL_GENERATIONS) */

/* One generation as stored. */
struct pw_gen {
	uint32_t generation;
	uint64_t applied_unix;
	uint8_t hash[32];
	uint8_t mode;
	char name[128], path[256];
	/* who or what applied it */
	char cmd[32];		/* apply, reload, run, "rollback N" */
	unsigned uid;
	char user[64], sudo_user[64], ssh_client[64];
	/* the files as compiled, root first */
	size_t nfiles;
	char **paths;
	struct pw_source *src;
};

/* The store of pin root `root`: its directory opened (made, 0700, when
 * create), after checking that it and every directory above it are
 * root's and writable by nobody else. A directory fd, -ENOENT when there
 * is none and !create, or -errno with what is wrong and the fix in err. */
int pw_gens_open(const char *root, bool create, char *err, size_t n);
/* The store's directory of root, for messages. */
void pw_gens_dir(const char *root, char *buf, size_t size);
/* Write g (with its sources) as a new file, mkstemp-and-rename style. */
int pw_gen_write(int dfd, const struct pw_gen *g, char *err, size_t n);
/* Read generation gen: 0, -ENOENT, or -errno with err. */
int pw_gen_read(int dfd, uint32_t gen, struct pw_gen *g, char *err, size_t n);
void pw_gen_free(struct pw_gen *g);
/* The generations stored, ascending (free *gens). 0 or -errno. */
int pw_gen_list(int dfd, uint32_t **gens, size_t *n);
/* Remove the oldest until keep are left, never cur or prev. */
void pw_gen_prune(int dfd, unsigned keep, uint32_t cur, uint32_t prev);
/* How many to keep: PORTWALL_GENERATIONS (2..10000), else PW_GENS_KEEP. */
unsigned pw_gens_keep(void);
/* Who applies now, by command cmd (the uid, its name, SUDO_USER, the
 * client of SSH_CONNECTION). */
void pw_gen_who(struct pw_gen *g, const char *cmd);
/* Parse and compile g's sources (as applied: its mode); the hash must be
 * g's. 0, or -1 with d->error. */
int pw_gen_compile(const struct pw_gen *g, struct pw_policy *pol, struct pw_compiled *c, struct pw_diag *d);

#endif
