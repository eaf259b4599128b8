/* adopt.h - seed connection tracking with the connections already open. */
#ifndef PW_ADOPT_H
#define PW_ADOPT_H

#include "datapath/loader.h"

/* Track every established outbound TCP connection (in pw_ct) and connected
 * UDP socket (in pw_ct_dgram) of the caller's network namespace that the
 * policy c lets out (the same judgement as a reload's); *refused counts the
 * others, by[t] those adopted into table t (enum pw_ct_table). Returns how
 * many were adopted, or -errno. */
int pw_adopt_sockets(struct pw_dp *dp, const struct pw_compiled *c, int *refused, int by[PW_CT_TABLE_COUNT]);

/* The TCP connections peers made to the caller's namespace's listeners,
 * established or half-closed by the peer (loopback left out), as flow keys
 * (*keys malloc'd: free it). 0 or -errno. */
int pw_peer_tcp_flows(struct pw_ct_key **keys, size_t *n);

#endif
