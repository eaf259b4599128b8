/* attach.h - put the programs on an interface and take them off: XDP by a
 * pinned bpf_link, tc egress by a clsact filter; and work inside a named
 * network namespace. */
#ifndef PW_ATTACH_H
#define PW_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portwall.h"

enum pw_xdp_want { PW_XDP_AUTO, PW_XDP_WANT_NATIVE, PW_XDP_WANT_GENERIC };

/* Enter network namespace `name` (/run/netns/NAME); *saved gets an fd of
 * the namespace we were in, for pw_netns_leave. name NULL or "": no-op. */
int pw_netns_enter(const char *name, int *saved, char *err, size_t errsz);
void pw_netns_leave(int saved);

/* Attach XDP on ifindex by a link pinned at link_pin. Refuses an interface
 * that already has another XDP program unless force. *got: the mode. */
int pw_attach_xdp(int prog_fd, int ifindex, const char *ifname, enum pw_xdp_want want, bool force,
		  const char *link_pin, uint8_t *got, char *err, size_t errsz);
/* Attach tc egress (clsact qdisc, direct-action filter). */
int pw_attach_tc(int prog_fd, int ifindex, const char *ifname, uint8_t *got, char *err, size_t errsz);
/* Take them off again (missing interfaces and filters are not errors). */
void pw_detach_xdp(const char *link_pin);
void pw_detach_tc(int ifindex, uint8_t tc_mode);

/* Is our XDP program (prog_fd) attached on ifindex? Its mode
 * (PW_XDP_NATIVE / PW_XDP_GENERIC, both > 0) if so, 0 if not, or -errno. */
int pw_xdp_attached(int ifindex, int prog_fd);
/* Is a tc egress filter of ours there? 1 yes, 0 no. */
int pw_tc_attached(int ifindex, int prog_fd);

#endif
