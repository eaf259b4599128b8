/* unload.h - take portwall off, as one step under the pin root's lock:
 * detach from the interfaces, remove the pins and the pin root; or, with
 * one interface named, detach from it only (and the rest when it was the
 * last). */
#ifndef PW_UNLOAD_H
#define PW_UNLOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "portwall.h"

/* What pw_unload found and did, for the command to tell. */
struct pw_unload {
	bool nothing;		/* nothing was loaded under the pin root */
	bool partial;		/* a load too broken to read: the pins were removed anyway */
	int links_by_pin;	/* partial: the XDP links that went with their pins */
	struct pw_meta meta;	/* what was loaded: its namespace and interfaces */
	bool pin_only;		/* its namespace could not be entered (ns_err says why):
				 * XDP was detached by pin, tc not at all */
	char ns_err[600];
	bool not_on;		/* the interface asked for is none of meta.iface: nothing done */
	bool kept;		/* other interfaces keep it: the pins stay */
	bool not_empty;		/* the pin root holds something else: left in place */
};

/* What pw_unload tells as it goes, so that what the command prints keeps
 * its place among what libbpf prints while detaching: found, once the
 * namespace is entered (u->meta and u->pin_only are set), then detached
 * for each interface taken off. Either function may be NULL. */
struct pw_unload_tell {
	void (*found)(void *ctx, const struct pw_unload *u);
	void (*detached)(void *ctx, const struct pw_iface *f);
	void *ctx;
};

/* Unload the portwall under root, from interface `only` (NULL: from all).
 * Returns 0 with u saying what was done; or -1, when u->not_on, or with a
 * message in err (when u->partial, after removing the pins anyway). */
int pw_unload(const char *root, const char *only, const struct pw_unload_tell *tell, struct pw_unload *u,
	      char *err, size_t errsz);
/* The same, the caller holding root's lock (pw_lock); tell may be NULL.
 * The --confirm watchdog undoes a first apply by it. */
int pw_unload_held(const char *root, const char *only, const struct pw_unload_tell *tell, struct pw_unload *u,
		   char *err, size_t errsz);

#endif
