/* linktype.c - an interface's link type, and the programs it takes. */
#include "datapath/linktype.h"
#include "lib/diag.h"

#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* glibc's <net/if_arp.h> predates some of the kernel's */
#ifndef ARPHRD_RAWIP
#define ARPHRD_RAWIP 519
#endif
#ifndef ARPHRD_MCTP
#define ARPHRD_MCTP 290
#endif
#ifndef ARPHRD_IP6GRE
#define ARPHRD_IP6GRE 823
#endif
#ifndef ARPHRD_NETLINK
#define ARPHRD_NETLINK 824
#endif
#ifndef ARPHRD_6LOWPAN
#define ARPHRD_6LOWPAN 825
#endif

/* What each link type gets. L3: the hooks see the packet from its IP
 * header (the driver's receive path puts the MAC header where the network
 * header is, and nothing is pushed before tc egress). The IP-in-IP and GRE
 * tunnels are refused: their receive paths leave the MAC header at the
 * outer headers (ip_gre pops it to the outer IP header), so generic XDP
 * would judge the tunnel's outer packet, not the one inside; this kernel
 * build has none of those modules to show otherwise. */
enum kind { K_REFUSE, K_ETHER, K_L3, K_TUNNEL };

static const struct {
	int type;
	enum kind kind;
	const char *name;
} types[] = {
	{ ARPHRD_ETHER, K_ETHER, "ethernet" },
	{ ARPHRD_LOOPBACK, K_ETHER, "loopback" },
	{ ARPHRD_NONE, K_L3, "none (tun, wireguard: no link-layer header)" },
	{ ARPHRD_RAWIP, K_L3, "rawip" },
	{ ARPHRD_PPP, K_L3, "ppp" },
	{ ARPHRD_TUNNEL, K_TUNNEL, "tunnel (ipip)" },
	{ ARPHRD_TUNNEL6, K_TUNNEL, "tunnel6 (ip6tnl)" },
	{ ARPHRD_SIT, K_TUNNEL, "sit" },
	{ ARPHRD_IPGRE, K_TUNNEL, "ipgre (gre)" },
	{ ARPHRD_IP6GRE, K_TUNNEL, "ip6gre" },
	{ ARPHRD_INFINIBAND, K_REFUSE, "infiniband" },
	{ ARPHRD_CAN, K_REFUSE, "can" },
	{ ARPHRD_IEEE80211, K_REFUSE, "ieee80211" },
	{ ARPHRD_IEEE80211_RADIOTAP, K_REFUSE, "ieee80211 radiotap (monitor mode)" },
	{ ARPHRD_IEEE802154, K_REFUSE, "ieee802154" },
	{ ARPHRD_6LOWPAN, K_REFUSE, "6lowpan" },
	{ ARPHRD_NETLINK, K_REFUSE, "netlink (nlmon)" },
	{ ARPHRD_MCTP, K_REFUSE, "mctp" },
	{ ARPHRD_VOID, K_REFUSE, "void" },
};
#define NTYPES (sizeof(types) / sizeof(types[0]))

static int find(int arphrd)
{
	for (size_t i = 0; i < NTYPES; i++)
		if (types[i].type == arphrd)
			return (int)i;
	return -1;
}

const char *pw_arphrd_name(int arphrd)
{
	int i = find(arphrd);
	return i < 0 ? NULL : types[i].name;
}

const char *pw_link_name(uint8_t link)
{
	return link == PW_LINK_L3 ? "l3" : link == PW_LINK_ETHER ? "ethernet" : "unknown";
}

static int read_type(const char *ifname, int *arphrd, char *err, size_t n)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return pw_errf(err, n, -errno, "reading the link type of %s failed: socket: %s", ifname,
			       strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	int rc = ioctl(s, SIOCGIFHWADDR, &ifr);
	int e = errno;
	close(s);
	if (rc)
		return pw_errf(err, n, -e, "reading the link type of %s failed (SIOCGIFHWADDR): %s", ifname,
			       strerror(e));
	*arphrd = ifr.ifr_hwaddr.sa_family;
	return 0;
}

int pw_iface_link(const char *ifname, uint8_t *link, int *arphrd, char *err, size_t n)
{
	if (read_type(ifname, arphrd, err, n))
		return -1;
	int i = find(*arphrd);
	const char *name = i < 0 ? "unknown" : types[i].name;
	enum kind k = i < 0 ? K_REFUSE : types[i].kind;

	if (k == K_ETHER || k == K_L3) {
		*link = k == K_L3 ? PW_LINK_L3 : PW_LINK_ETHER;
		return 0;
	}
	if (k == K_TUNNEL)
		return pw_errf(err, n, -EOPNOTSUPP, "%s has link type %d, %s: portwall does not enforce on IP "
			       "tunnels (their generic XDP hook may see the outer tunnel headers, which it does not "
			       "parse). Protect the interface the tunnel runs over instead (allow its tunnel "
			       "protocol from the peer), or use wireguard or tun", ifname, *arphrd, name), -1;
	return pw_errf(err, n, -EOPNOTSUPP, "%s has link type %d, %s: portwall parses Ethernet frames and IP "
		       "packets only, not this link type. Leave %s out of --iface (portwall cannot filter its "
		       "traffic)", ifname, *arphrd, name, ifname), -1;
}
