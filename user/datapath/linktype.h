/* linktype.h - which programs an interface's frames need: those that parse
 * from an Ethernet header, those that parse from the IP header (devices
 * without a link-layer header), or none portwall can enforce with (the
 * interface is refused before anything is attached). docs/datapath.md,
 * "Link types". */
#ifndef PW_LINKTYPE_H
#define PW_LINKTYPE_H

#include <stddef.h>
#include <stdint.h>

#include "portwall.h"

/* The link type (ARPHRD_*) of interface ifname in the current network
 * namespace (SIOCGIFHWADDR on a socket made here: sysfs would show the
 * namespace it was mounted in). *link: enum pw_link. Returns 0; or -1 with
 * a message naming the interface, its link type and what to do when
 * portwall cannot enforce on it, or the type cannot be read. */
int pw_iface_link(const char *ifname, uint8_t *link, int *arphrd, char *err, size_t errsz);
/* "ethernet", "none (tun, wireguard)", "infiniband", ... or NULL. */
const char *pw_arphrd_name(int arphrd);
/* "ethernet" / "l3": the program variant, as status and apply name it */
const char *pw_link_name(uint8_t link);

#endif
