/* listeners.h - the listening sockets of the caller's network namespace
 * (sock_diag), each with the process that owns it (/proc/PID/fd). */
#ifndef PW_LISTENERS_H
#define PW_LISTENERS_H

#include <stddef.h>

#include "policy/audit.h"

/* Every TCP socket in LISTEN and every UDP socket bound but not connected,
 * IPv4 and IPv6, of network namespace netns (NULL or "": this one), with its
 * owner (pid 0 when no process of the first PW_PROC_MAX, in their first
 * PW_FD_MAX fds all told, holds it), by protocol and port. *v is malloc'd
 * (free it). 0, or -1 with a message in err. */
#define PW_PROC_MAX 4096
#define PW_FD_MAX (1L << 20)
int pw_listeners_read(const char *netns, struct pw_listener **v, size_t *n, char *err, size_t errsz);

#endif
