/* live.c - the driver of the live packet-rate benchmark (bench/live.sh).
 *
 *   live --tx-netns PATH --tx-if IF --rx-netns PATH --rx-if IF
 *        --case NAME --packets N [--cpu C]
 *
 * Builds the case's frames (up to LIVE_MAX_FRAMES variants: other sources,
 * ports or flows, so that hashing and LPM lookups on the receiver do not
 * see one hot key), opens the flows a reply case answers (real UDP sockets
 * in the receiving namespace, sent through whatever filters it), then
 * transmits N frames out of the sending veth with BPF_PROG_TEST_RUN in
 * live-frames mode, pinned to one CPU. Prints one line:
 *   sent N ns ELAPSED
 * What the receiver did with them is read by the caller (its counters).
 * A benchmark tool: it passes judgement on nothing. Needs root. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "live.h"
#include "live_gen.skel.h"
#include "policy/packet.h"

#define NFLOWS 254	/* flows a reply case opens (one per source host) */

struct opts {
	const char *tx_ns, *tx_if, *rx_ns, *rx_if, *name;
	unsigned long long packets;
	int cpu;
};

/* A case: the frame of variant i in packet words. */
struct lcase {
	const char *name;
	unsigned nvariants;
	int reply_fam;		/* 4 / 6: open NFLOWS flows first; 0: none */
	void (*words)(unsigned i, char *buf, size_t n);
};

/* sources alternate between two TEST-NETs, 254 hosts each */
static void src4(unsigned i, char *buf, size_t n)
{
	snprintf(buf, n, "%s.%u", i % 2 ? "203.0.113" : "198.51.100", i / 2 % 254 + 1);
}

static void syn_denied4(unsigned i, char *buf, size_t n)
{
	char s[32];

	src4(i, s, sizeof(s));
	snprintf(buf, n, "in tcp %s:%u 192.0.2.2:8 syn", s, 40000 + i);
}

static void syn_allowed4(unsigned i, char *buf, size_t n)
{
	char s[32];

	src4(i, s, sizeof(s));
	snprintf(buf, n, "in tcp %s:%u 192.0.2.2:443 syn", s, 40000 + i);
}

static void syn_denied6(unsigned i, char *buf, size_t n)
{
	snprintf(buf, n, "in tcp [2001:db8:1::%x:%x]:%u [2001:db8::2]:8 syn", i / 7 + 1, i * 2654435761u >> 16,
		 40000 + i);
}

static void reply4(unsigned i, char *buf, size_t n)
{
	snprintf(buf, n, "in udp 198.51.100.%u:53 192.0.2.2:%u", i % NFLOWS + 1, 40000 + i % NFLOWS);
}

static void reply6(unsigned i, char *buf, size_t n)
{
	snprintf(buf, n, "in udp [2001:db8:1::%x]:53 [2001:db8::2]:%u", i % NFLOWS + 1, 40000 + i % NFLOWS);
}

static const struct lcase cases[] = {
	{ "syn-denied-v4", 508, 0, syn_denied4 },
	{ "syn-denied-v6", 1024, 0, syn_denied6 },
	{ "syn-allowed-v4", 508, 0, syn_allowed4 },
	{ "reply-v4", NFLOWS, 4, reply4 },
	{ "reply-v6", NFLOWS, 6, reply6 },
};

static int enter_netns(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		fprintf(stderr, "live: cannot enter network namespace %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* ifindex and MAC of an interface of the current namespace */
static int if_info(const char *ifname, int *ifindex, uint8_t mac[6])
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (s < 0 || ioctl(s, SIOCGIFHWADDR, &ifr)) {
		fprintf(stderr, "live: cannot read the address of %s: %s\n", ifname, strerror(errno));
		if (s >= 0)
			close(s);
		return -1;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(s);
	*ifindex = (int)if_nametoindex(ifname);
	return *ifindex > 0 ? 0 : -1;
}

/* addr:port as a socket address of family 4 or 6; returns its length */
static socklen_t sock_addr(int fam, const char *addr, int port, struct sockaddr_storage *sa)
{
	memset(sa, 0, sizeof(*sa));
	if (fam == 4) {
		struct sockaddr_in *v4 = (void *)sa;
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, addr, &v4->sin_addr);
		return sizeof(*v4);
	}
	struct sockaddr_in6 *v6 = (void *)sa;
	v6->sin6_family = AF_INET6;
	v6->sin6_port = htons((uint16_t)port);
	inet_pton(AF_INET6, addr, &v6->sin6_addr);
	return sizeof(*v6);
}

/* Open the flows a reply case answers: NFLOWS UDP sockets in the receiving
 * namespace, each sending one datagram to its peer's port 53, so that
 * whatever tracks connections there (portwall's egress program, or
 * nf_conntrack under nftables/iptables) knows them. The sockets stay open
 * (replies find a socket, not an ICMP error) until the run ends. */
static int open_flows(int fam, int socks[NFLOWS])
{
	for (int k = 0; k < NFLOWS; k++)
		socks[k] = -1;
	for (int k = 0; k < NFLOWS; k++) {
		struct sockaddr_storage me, peer;
		socklen_t len;
		char a[64];

		if (fam == 4)
			snprintf(a, sizeof(a), "198.51.100.%d", k + 1);
		else
			snprintf(a, sizeof(a), "2001:db8:1::%x", k + 1);
		len = sock_addr(fam, fam == 4 ? "192.0.2.2" : "2001:db8::2", 40000 + k, &me);
		sock_addr(fam, a, 53, &peer);
		socks[k] = socket(fam == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (socks[k] < 0 || bind(socks[k], (void *)&me, len) ||
		    sendto(socks[k], "q", 1, 0, (void *)&peer, len) != 1) {
			fprintf(stderr, "live: cannot open flow %d to %s port 53: %s\n", k, a, strerror(errno));
			return -1;
		}
	}
	usleep(100 * 1000);	/* let the datagrams clear the egress path */
	return 0;
}

static void close_flows(int socks[NFLOWS])
{
	for (int k = 0; k < NFLOWS; k++)
		if (socks[k] >= 0)
			close(socks[k]);
}

static int fill_frames(struct live_gen_bpf *skel, const struct lcase *c, const uint8_t dmac[6],
		       const uint8_t smac[6])
{
	for (unsigned i = 0; i < c->nvariants; i++) {
		char words[160], err[256];
		struct pw_pktspec s;
		uint8_t buf[512];
		struct live_frame f = { 0 };

		c->words(i, words, sizeof(words));
		if (pw_pkt_parse_line(words, &s, err, sizeof(err))) {
			fprintf(stderr, "live: bad frame \"%s\": %s\n", words, err);
			return -1;
		}
		size_t len = pw_pkt_build(&s, buf, sizeof(buf));
		if (!len || len > LIVE_FRAME_LEN) {
			fprintf(stderr, "live: frame \"%s\" does not fit %d bytes\n", words, LIVE_FRAME_LEN);
			return -1;
		}
		memcpy(buf, dmac, 6);
		memcpy(buf + 6, smac, 6);
		memcpy(f.w, buf, len);	/* the rest stays zero: Ethernet padding */
		if (bpf_map__update_elem(skel->maps.frames, &i, sizeof(i), &f, sizeof(f), BPF_ANY)) {
			fprintf(stderr, "live: cannot write frame %u: %s\n", i, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static int run(const struct opts *o, const struct lcase *c)
{
	uint8_t rx_mac[6], tx_mac[6];
	int rx_ifindex, tx_ifindex, socks[NFLOWS], rc = -1;
	struct live_gen_bpf *skel = NULL;

	for (int k = 0; k < NFLOWS; k++)
		socks[k] = -1;
	if (enter_netns(o->rx_ns) || if_info(o->rx_if, &rx_ifindex, rx_mac))
		return -1;
	if (c->reply_fam && open_flows(c->reply_fam, socks))
		goto out;
	if (enter_netns(o->tx_ns) || if_info(o->tx_if, &tx_ifindex, tx_mac))
		goto out;

	skel = live_gen_bpf__open();
	if (!skel) {
		fprintf(stderr, "live: cannot open the generator program: %s\n", strerror(errno));
		goto out;
	}
	skel->rodata->nframes = c->nvariants;
	if (live_gen_bpf__load(skel)) {
		fprintf(stderr, "live: cannot load the generator program: %s\n", strerror(errno));
		goto out;
	}
	if (fill_frames(skel, c, rx_mac, tx_mac))
		goto out;

	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(o->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "live: cannot pin to CPU %d: %s\n", o->cpu, strerror(errno));
		goto out;
	}

	/* the first variant's bytes: the kernel needs a frame to start from */
	uint8_t first[LIVE_FRAME_LEN];
	uint32_t zero = 0;
	if (bpf_map__lookup_elem(skel->maps.frames, &zero, sizeof(zero), first, sizeof(first), 0))
		goto out;
	struct xdp_md ctx = { .data_end = LIVE_FRAME_LEN, .ingress_ifindex = (__u32)tx_ifindex };
	unsigned long long left = o->packets;
	double t0 = now_ns();
	while (left) {
		/* repeat is 32 bits; one call sends at most 2^31 */
		__u32 n = left > (1ull << 31) ? (1u << 31) : (__u32)left;
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = first, .data_size_in = sizeof(first),
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = n,
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);
		if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.live_gen), &t)) {
			fprintf(stderr, "live: BPF_PROG_TEST_RUN (live frames) failed: %s; it needs "
				"kernel >= 5.18 and the receiving veth up with XDP or GRO on\n", strerror(errno));
			goto out;
		}
		left -= n;
	}
	double t1 = now_ns();
	printf("sent %llu ns %.0f\n", o->packets, t1 - t0);
	rc = 0;
out:
	live_gen_bpf__destroy(skel);
	close_flows(socks);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: live --tx-netns PATH --tx-if IF --rx-netns PATH --rx-if IF\n"
		   "            --case NAME --packets N [--cpu C]\n  cases:");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		fprintf(f, " %s", cases[i].name);
	fprintf(f, "\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "tx-netns", 1, 0, 't' }, { "tx-if", 1, 0, 'T' }, { "rx-netns", 1, 0, 'r' },
		{ "rx-if", 1, 0, 'R' }, { "case", 1, 0, 'c' }, { "packets", 1, 0, 'n' },
		{ "cpu", 1, 0, 'p' }, { "help", 0, 0, 'h' }, { 0 } };
	struct opts o = { .packets = 1000000 };
	int ch;

	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 't': o.tx_ns = optarg; break;
		case 'T': o.tx_if = optarg; break;
		case 'r': o.rx_ns = optarg; break;
		case 'R': o.rx_if = optarg; break;
		case 'c': o.name = optarg; break;
		case 'n': o.packets = strtoull(optarg, NULL, 10); break;
		case 'p': o.cpu = atoi(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!o.tx_ns || !o.tx_if || !o.rx_ns || !o.rx_if || !o.name || !o.packets) {
		usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!strcmp(cases[i].name, o.name))
			return run(&o, &cases[i]) ? 1 : 0;
	fprintf(stderr, "live: no case \"%s\"\n", o.name);
	usage(stderr);
	return 2;
}
