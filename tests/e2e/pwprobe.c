/* pwprobe.c - the e2e tests' traffic: TCP/UDP listeners that echo, and
 * clients that say whether they got through. Every wait is bounded.
 *   pwprobe serve SECONDS PORT[,PORT...] [udp PORT[,PORT...]]
 *   pwprobe tcp ADDR PORT [TIMEOUT_MS [BYTES [SRC_ADDR]]]  -> "ok" / "timeout" / "refused"
 *   pwprobe udp ADDR PORT COUNT                             -> sends COUNT datagrams
 *   pwprobe udpecho ADDR PORT [TIMEOUT_MS]                  -> "ok" / "timeout"
 *   pwprobe push SECONDS PORT DELAY_MS BYTES [GO_FILE]
 *                                               listener that waits (for GO_FILE to
 *                                               exist first, if given), then sends
 *   pwprobe pull ADDR PORT TIMEOUT_MS BYTES [GO_FILE]
 *                                               connects, only reads -> "ok" / "timeout"
 *                                               (TIMEOUT_MS from when GO_FILE exists)
 *   pwprobe stream ADDR PORT SECONDS            TCP both ways -> "sent N received M errors E"
 *   pwprobe udpflow ADDR PORT COUNT INTERVAL_MS -> "sent N received M"
 *   pwprobe scan ADDR FIRST LAST TIMEOUT_MS       -> the ports that answered SYN-ACK
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXFD 64

static int addr_of(const char *a, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(a, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return inet_pton(AF_INET6, a, &s6->sin6_addr) == 1 ? 0 : -1;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	*len = sizeof(*s4);
	return inet_pton(AF_INET, a, &s4->sin_addr) == 1 ? 0 : -1;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int listen_on(int port, int type)
{
	int fd = socket(AF_INET6, type, 0), one = 1, zero = 0;
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));	/* v4 and v6 */
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || (type == SOCK_STREAM && listen(fd, 64))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int serve(int secs, const char *tcp, const char *udp)
{
	struct pollfd p[MAXFD];
	int kind[MAXFD], n = 0;
	char buf[65536], list[512], *save, *t;

	for (int u = 0; u < 2; u++) {
		const char *l = u ? udp : tcp;
		if (!l)
			continue;
		snprintf(list, sizeof(list), "%s", l);
		for (t = strtok_r(list, ",", &save); t && n < MAXFD / 2; t = strtok_r(NULL, ",", &save)) {
			int fd = listen_on(atoi(t), u ? SOCK_DGRAM : SOCK_STREAM);
			if (fd < 0) {
				fprintf(stderr, "pwprobe: cannot listen on %s/%s: %s\n", u ? "udp" : "tcp", t, strerror(errno));
				return 1;
			}
			p[n] = (struct pollfd){ .fd = fd, .events = POLLIN };
			kind[n++] = u ? 1 : 0;	/* 0 listener, 1 udp, 2 connection */
		}
	}
	printf("listening\n");
	fflush(stdout);
	long end = now_ms() + secs * 1000L;
	while (now_ms() < end) {
		int r = poll(p, (nfds_t)n, 200);
		if (r <= 0)
			continue;
		for (int i = 0; i < n; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (kind[i] == 0) {
				int c = accept(p[i].fd, NULL, NULL);
				if (c >= 0 && n < MAXFD) {
					p[n] = (struct pollfd){ .fd = c, .events = POLLIN };
					kind[n++] = 2;
				} else if (c >= 0) {
					close(c);
				}
			} else if (kind[i] == 1) {
				struct sockaddr_storage from;
				socklen_t fl = sizeof(from);
				ssize_t got = recvfrom(p[i].fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
				if (got > 0)
					sendto(p[i].fd, buf, (size_t)got, 0, (struct sockaddr *)&from, fl);
			} else {
				ssize_t got = read(p[i].fd, buf, sizeof(buf));
				if (got > 0) {
					if (write(p[i].fd, buf, (size_t)got) < 0)
						got = 0;
				}
				if (got <= 0) {
					close(p[i].fd);
					p[i] = p[--n];
					kind[i] = kind[n];
					i--;
				}
			}
		}
	}
	return 0;
}

static int tcp_probe(const char *addr, int port, int timeout, int bytes, const char *src)
{
	struct sockaddr_storage ss, sb;
	socklen_t len, blen;
	char buf[4096];

	if (addr_of(addr, port, &ss, &len)) {
		fprintf(stderr, "pwprobe: bad address %s\n", addr);
		return 2;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (src) {
		if (addr_of(src, 0, &sb, &blen) || bind(fd, (struct sockaddr *)&sb, blen)) {
			fprintf(stderr, "pwprobe: cannot bind %s: %s\n", src, strerror(errno));
			return 2;
		}
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	int r = connect(fd, (struct sockaddr *)&ss, len);
	if (r && errno != EINPROGRESS) {
		printf("%s\n", errno == ECONNREFUSED ? "refused" : "error");
		return 1;
	}
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	if (poll(&p, 1, timeout) != 1) {
		printf("timeout\n");
		return 1;
	}
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
	if (soerr) {
		printf("%s\n", soerr == ECONNREFUSED ? "refused" : soerr == ETIMEDOUT ? "timeout" : "error");
		return 1;
	}
	/* data both ways: send, read the echo back */
	long end = now_ms() + timeout;
	int sent = 0, got = 0;
	memset(buf, 'x', sizeof(buf));
	while (got < bytes && now_ms() < end) {
		if (sent < bytes) {
			ssize_t w = write(fd, buf, (size_t)(bytes - sent < (int)sizeof(buf) ? bytes - sent : (int)sizeof(buf)));
			if (w > 0)
				sent += (int)w;
		}
		struct pollfd q = { .fd = fd, .events = POLLIN };
		if (poll(&q, 1, 50) == 1) {
			ssize_t rd = read(fd, buf, sizeof(buf));
			if (rd <= 0)
				break;
			got += (int)rd;
		}
	}
	close(fd);
	printf("%s\n", got >= bytes ? "ok" : "timeout");
	return got >= bytes ? 0 : 1;
}

static int udp_send(const char *addr, int port, int count, int echo_timeout)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[64] = "pwprobe";

	if (addr_of(addr, port, &ss, &len)) {
		fprintf(stderr, "pwprobe: bad address %s\n", addr);
		return 2;
	}
	int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	for (int i = 0; i < count; i++)
		sendto(fd, buf, 8, 0, (struct sockaddr *)&ss, len);
	if (echo_timeout <= 0)
		return 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int ok = poll(&p, 1, echo_timeout) == 1 && recv(fd, buf, sizeof(buf), 0) > 0;
	printf("%s\n", ok ? "ok" : "timeout");
	return ok ? 0 : 1;
}

/* a listener that, for each connection, waits for go to exist (when given,
 * bounded by secs: the test says when "afterwards" is, not a clock) and
 * delay ms, and then speaks first */
static int push(int secs, int port, int delay, int bytes, const char *go)
{
	int fd = listen_on(port, SOCK_STREAM);
	char buf[4096];

	if (fd < 0) {
		fprintf(stderr, "pwprobe: cannot listen on tcp/%d: %s\n", port, strerror(errno));
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	memset(buf, 'p', sizeof(buf));
	long end = now_ms() + secs * 1000L;
	while (now_ms() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 200) != 1)
			continue;
		int c = accept(fd, NULL, NULL);
		if (c < 0)
			continue;
		while (go && access(go, F_OK) && now_ms() < end)
			usleep(20000);
		usleep((useconds_t)delay * 1000);
		for (int sent = 0; sent < bytes;) {
			ssize_t w = write(c, buf, (size_t)(bytes - sent < (int)sizeof(buf) ? bytes - sent : (int)sizeof(buf)));
			if (w <= 0)
				break;
			sent += (int)w;
		}
		usleep(500000);
		close(c);
	}
	return 0;
}

static int pull(const char *addr, int port, int timeout, int bytes, const char *go)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[4096];

	if (addr_of(addr, port, &ss, &len))
		return 2;
	int fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&ss, len)) {
		printf("%s\n", errno == ECONNREFUSED ? "refused" : "error");
		return 1;
	}
	printf("connected\n");
	fflush(stdout);
	for (long give_up = now_ms() + 60000; go && access(go, F_OK) && now_ms() < give_up;)
		usleep(20000);
	long end = now_ms() + timeout;
	int got = 0;
	while (got < bytes && now_ms() < end) {
		struct pollfd q = { .fd = fd, .events = POLLIN };
		if (poll(&q, 1, 50) == 1) {
			ssize_t rd = read(fd, buf, sizeof(buf));
			if (rd <= 0)
				break;
			got += (int)rd;
		}
	}
	printf("%s\n", got >= bytes ? "ok" : "timeout");
	return got >= bytes ? 0 : 1;
}

/* a long TCP stream through the echo server: every byte must come back */
static int stream(const char *addr, int port, int secs)
{
	struct sockaddr_storage ss;
	socklen_t len;
	static char buf[16384];
	long sent = 0, got = 0, errors = 0;

	if (addr_of(addr, port, &ss, &len))
		return 2;
	int fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&ss, len)) {
		printf("sent 0 received 0 errors 1 (connect: %s)\n", strerror(errno));
		return 1;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	memset(buf, 's', sizeof(buf));
	long end = now_ms() + secs * 1000L;
	while (now_ms() < end) {
		struct pollfd q = { .fd = fd, .events = POLLIN | (sent - got < 1 << 20 ? POLLOUT : 0) };
		if (poll(&q, 1, 50) <= 0)
			continue;
		if (q.revents & (POLLERR | POLLHUP)) {
			errors++;
			break;
		}
		if (q.revents & POLLOUT) {
			ssize_t w = write(fd, buf, sizeof(buf));
			if (w > 0)
				sent += w;
			else if (errno != EAGAIN)
				errors++;
		}
		if (q.revents & POLLIN) {
			ssize_t r = read(fd, buf, sizeof(buf));
			if (r > 0)
				got += r;
			else if (r == 0 || errno != EAGAIN) {
				errors++;
				break;
			}
		}
	}
	/* drain what is still on its way back (bounded) */
	long drain = now_ms() + 5000;
	while (got < sent && now_ms() < drain && !errors) {
		struct pollfd q = { .fd = fd, .events = POLLIN };
		if (poll(&q, 1, 100) == 1) {
			ssize_t r = read(fd, buf, sizeof(buf));
			if (r <= 0)
				break;
			got += r;
		}
	}
	close(fd);
	printf("sent %ld received %ld errors %ld\n", sent, got, errors);
	return got == sent && !errors ? 0 : 1;
}

/* datagrams at a steady rate through the UDP echo server */
static int udpflow(const char *addr, int port, int count, int interval)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[64];
	int got = 0;

	if (addr_of(addr, port, &ss, &len))
		return 2;
	int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	connect(fd, (struct sockaddr *)&ss, len);
	for (int i = 0; i < count; i++) {
		snprintf(buf, sizeof(buf), "%d", i);
		if (send(fd, buf, strlen(buf), 0) < 0)
			continue;
		long until = now_ms() + interval;
		while (now_ms() < until) {
			struct pollfd q = { .fd = fd, .events = POLLIN };
			if (poll(&q, 1, (int)(until - now_ms()) > 0 ? (int)(until - now_ms()) : 0) == 1 &&
			    recv(fd, buf, sizeof(buf), 0) > 0)
				got++;
		}
	}
	long drain = now_ms() + 1000;
	while (got < count && now_ms() < drain) {
		struct pollfd q = { .fd = fd, .events = POLLIN };
		if (poll(&q, 1, 100) == 1 && recv(fd, buf, sizeof(buf), 0) > 0)
			got++;
	}
	printf("sent %d received %d\n", count, got);
	return got == count ? 0 : 1;
}

/* a SYN to every port in [first, last], 256 at a time, each given timeout ms */
static int scan(const char *addr, int first, int last, int timeout)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int open_n = 0;

	if (addr_of(addr, 0, &ss, &len) || first < 1 || last > 65535 || first > last)
		return 2;
	for (int base = first; base <= last; base += 256) {
		struct pollfd p[256];
		int port[256], n = 0;
		for (int q = base; q <= last && n < 256; q++) {
			struct sockaddr_storage t = ss;
			if (t.ss_family == AF_INET)
				((struct sockaddr_in *)&t)->sin_port = htons((uint16_t)q);
			else
				((struct sockaddr_in6 *)&t)->sin6_port = htons((uint16_t)q);
			int fd = socket(t.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
			if (fd < 0)
				break;
			connect(fd, (struct sockaddr *)&t, len);
			p[n] = (struct pollfd){ .fd = fd, .events = POLLOUT };
			port[n++] = q;
		}
		long end = now_ms() + timeout;
		int left = n;
		while (left > 0 && now_ms() < end) {
			if (poll(p, (nfds_t)n, (int)(end - now_ms())) <= 0)
				break;
			for (int i = 0; i < n; i++) {
				if (p[i].fd < 0 || !p[i].revents)
					continue;
				int err = 0;
				socklen_t el = sizeof(err);
				getsockopt(p[i].fd, SOL_SOCKET, SO_ERROR, &err, &el);
				if (!err) {
					printf("%s%d", open_n++ ? " " : "", port[i]);
				}
				close(p[i].fd);
				p[i].fd = -1;
				left--;
			}
		}
		for (int i = 0; i < n; i++)
			if (p[i].fd >= 0)
				close(p[i].fd);
	}
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 4 && strcmp(argv[1], "serve") == 0) {
		int secs = atoi(argv[2]);
		if (secs <= 0 || secs > 600)
			secs = 60;
		return serve(secs, argv[3], argc >= 6 && strcmp(argv[4], "udp") == 0 ? argv[5] : NULL);
	}
	if (argc >= 4 && strcmp(argv[1], "tcp") == 0)
		return tcp_probe(argv[2], atoi(argv[3]), argc > 4 ? atoi(argv[4]) : 1000,
				 argc > 5 ? atoi(argv[5]) : 1000, argc > 6 ? argv[6] : NULL);
	if (argc >= 5 && strcmp(argv[1], "udp") == 0)
		return udp_send(argv[2], atoi(argv[3]), atoi(argv[4]), 0);
	if (argc >= 4 && strcmp(argv[1], "udpecho") == 0)
		return udp_send(argv[2], atoi(argv[3]), 1, argc > 4 ? atoi(argv[4]) : 1000);
	if (argc >= 6 && strcmp(argv[1], "push") == 0)
		return push(atoi(argv[2]) > 0 && atoi(argv[2]) <= 600 ? atoi(argv[2]) : 60, atoi(argv[3]),
			    atoi(argv[4]), atoi(argv[5]), argc > 6 ? argv[6] : NULL);
	if (argc >= 6 && strcmp(argv[1], "pull") == 0)
		return pull(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), argc > 6 ? argv[6] : NULL);
	if (argc >= 5 && strcmp(argv[1], "stream") == 0)
		return stream(argv[2], atoi(argv[3]), atoi(argv[4]) > 0 && atoi(argv[4]) <= 300 ? atoi(argv[4]) : 10);
	if (argc >= 6 && strcmp(argv[1], "udpflow") == 0)
		return udpflow(argv[2], atoi(argv[3]), atoi(argv[4]) > 0 && atoi(argv[4]) <= 100000 ? atoi(argv[4]) : 100,
			       atoi(argv[5]) >= 0 && atoi(argv[5]) <= 1000 ? atoi(argv[5]) : 10);
	if (argc >= 6 && strcmp(argv[1], "scan") == 0)
		return scan(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]) > 0 && atoi(argv[5]) <= 10000 ? atoi(argv[5]) : 1000);
	fprintf(stderr, "usage: pwprobe serve SECONDS PORTS [udp PORTS] | tcp ADDR PORT [MS [BYTES [SRC]]] | "
		"udp ADDR PORT COUNT | udpecho ADDR PORT [MS]\n");
	return 2;
}
