/* apply.h - the apply transaction (a first apply or a hot reload), below
 * the commands: apply, reload and run call it and print its result. */
#ifndef PW_APPLY_H
#define PW_APPLY_H

#include <stdbool.h>
#include <net/if.h>
#include <stdint.h>

#include "lib/diag.h"
#include "datapath/attach.h"
#include "datapath/loader.h"
#include "datapath/resolve.h"
#include "datapath/gens.h"
#include "portwall.h"

struct pw_apply_opts {
	const char *policy, *ifaces, *netns, *root;
	/* a reload: the interfaces are the recorded ones, followed by ifindex
	 * (a renamed one keeps the policy), and any that now has the name a
	 * gone or renamed one was applied by; ifaces is not read */
	bool follow_records;
	int mode;		/* -1: the policy's */
	enum pw_xdp_want xdp;
	bool force, verbose;
	unsigned confirm;	/* seconds, 0: no confirmation asked */
	bool unload_on_exit;	/* run only */
	const char *metrics_file;	/* run only: Prometheus text, every few seconds */
	const char *metrics_listen;	/* run only: ADDR:PORT serving GET /metrics */
	/* run only: the drop events' file (NULL: the pin root's default, "":
	 * none), the size it rotates at (0: the default) and the rotated
	 * files kept (-1: the default) */
	const char *events_file;
	uint64_t events_max_size;
	int events_keep;
	uint32_t ct_capacity;	/* 0: the default (first apply only) */
	uint32_t event_rate;	/* drop events a second, 0: keep */
	/* conntrack timeouts in seconds, 0: keep; by pw_config's order */
	uint32_t ct_tcp_syn, ct_tcp_est, ct_tcp_close, ct_udp, ct_icmp, ct_other, frag_timeout;
	/* a learned address's lifetime: at least / at most (s), 0: keep */
	uint32_t dns_ttl_min, dns_ttl_max;
	uint32_t dns_name_max;	/* addresses a host name keeps, 0: keep */
	/* the agent's own queries about the plain names after attaching: wait
	 * at most this many ms for their answers; 0: ask none; < 0: the
	 * default */
	int resolve_ms;
	/* who applies, for the generation store: apply, reload, run, rollback */
	const char *cmd;
	/* rollback GENERATION: compile this stored generation's sources (and
	 * its path and mode) instead of reading policy; follow_records too */
	const struct pw_gen *from_gen;
};

#define PW_RESOLVE_MS_DEFAULT 1000

/* What a failed apply leaves in force, for the last words of its message. */
enum pw_apply_left {
	PW_LEFT_SAID,		/* err says it (or it is unknown) */
	PW_LEFT_NOTHING,	/* "nothing was changed" */
	PW_LEFT_OLD,		/* "the policy in force is unchanged" */
	PW_LEFT_UNDONE,		/* attaching failed and was undone: nothing changed */
	PW_LEFT_PART,		/* the new policy, on the interfaces attached before */
};

/* What happened to an interface since it was applied, noted by apply. */
enum pw_iface_change {
	PW_IFC_GONE,		/* no interface has its ifindex: its record is removed */
	PW_IFC_RENAMED,		/* renamed `now`: it keeps the policy */
	PW_IFC_NEW,		/* a new interface `now` (ifindex) has the name a gone or
				 * renamed one was applied by: the reload enforces it */
};

struct pw_iface_note {
	enum pw_iface_change what;
	uint32_t ifindex;
	char name[IF_NAMESIZE];	/* as applied */
	char now[IF_NAMESIZE];
};

/* What pw_apply_tx did, in the order it happened, for the caller to print. */
struct pw_apply_result {
	struct pw_diag diag;	/* the analysis' warnings; a parse or compile error */
	bool diag_failed;	/* the policy did not parse or compile: diag.error */
	bool lockout;		/* refused: it would cut the SSH session (err says what to add) */
	char err[700];		/* what failed, when it failed otherwise */
	enum pw_apply_left left;
	bool removed_unfinished;	/* pins of a killed first apply were removed */
	bool capacity_ignored;	/* --ct-capacity on a reload */
	/* the IPv4 peer sets' lookup chunks a reload needs beyond the room of
	 * the loaded pw_flat4 (its peers are looked up in the trie), else 0 */
	uint32_t flat4_need, flat4_room;
	int carry_rc;		/* carrying rule counters: 0 or -errno */
	int ended;		/* tracked flows the new policy forbids, ended; -errno:
				 * a table not read whole (the walk stays due) */
	struct pw_revoke revoked;	/* established flows of revoked services, ended */
	int revoke_tcp_rc;	/* 0, or -errno: the TCP connections were not read */
	int adopted;		/* open connections adopted, or -errno */
	int not_adopted;	/* open connections the policy does not let out */
	bool watchdog_failed;	/* --confirm's watchdog did not start */
	uint32_t replaced_pending;	/* a generation that waited for confirm, replaced */
	bool first;		/* a first apply, not a reload */
	struct pw_meta meta;	/* the record in force at the end */
	bool had[PW_MAX_IFACES];	/* meta.iface[i] was attached before */
	char now[PW_MAX_IFACES][IF_NAMESIZE];	/* meta.iface[i]'s name now, "" unknown */
	struct pw_iface_note note[2 * PW_MAX_IFACES];
	int nnote;
	/* the agent's own queries about the plain names (resolve.h) */
	bool resolved;		/* they were asked */
	int resolve_rc;		/* 0 or -errno: no socket */
	struct pw_resolve_report resolve;
	/* the policy compiled to the hash in force (same file, no settings,
	 * no --confirm): nothing was written, no new generation */
	bool unchanged;
	char store_err[700];	/* keeping the generation's sources failed */
	uint32_t *name_life;	/* by name index: shortest lifetime learned (s), UINT32_MAX none */
	size_t nname_life;
};

/* Apply o->policy: prepare it (parse, compile, analyze), open the loaded
 * datapath or load one, write the half not in force, record, activate,
 * carry counters and end revoked flows (or adopt open connections), attach
 * and record again, start the --confirm watchdog. 0 or -1; *r says what
 * happened either way: free it with pw_apply_result_free. */
int pw_apply_tx(const struct pw_apply_opts *o, struct pw_apply_result *r);
void pw_apply_result_free(struct pw_apply_result *r);

#endif
