/* metrics_http.c - `run --metrics-listen ADDR:PORT`: the metrics over HTTP. */
#include "cli/metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#define CONN_MAX 16		/* connections at once, all clients */
#define CONN_PER_IP 4
#define CONN_TIMEOUT_S 10

struct pw_http {
	struct MHD_Daemon *d;
	pthread_mutex_t lock;	/* over text and len: run publishes, the server copies */
	char *text;
	size_t len;
};

int pw_http_addr_parse(const char *spec, struct sockaddr_storage *ss, char *err, size_t errsz)
{
	char host[64];
	const char *colon = strrchr(spec, ':'), *port = colon ? colon + 1 : NULL;
	char *end;
	size_t hl = colon ? (size_t)(colon - spec) : 0;

	memset(ss, 0, sizeof(*ss));
	errno = 0;
	unsigned long p = port && *port >= '0' && *port <= '9' ? strtoul(port, &end, 10) : 0;
	if (!colon || !p || *end || p > 65535 || errno || hl == 0 || hl >= sizeof(host)) {
		snprintf(err, errsz, "\"%s\" is not ADDR:PORT (e.g. 127.0.0.1:9469, [::1]:9469, 0.0.0.0:9469; "
			 "port 1-65535)", spec);
		return -1;
	}
	memcpy(host, spec, hl);
	host[hl] = '\0';
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)p);
		if (inet_pton(AF_INET6, host + 1, &v6->sin6_addr) == 1)
			return 0;
	} else {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)p);
		if (inet_pton(AF_INET, host, &v4->sin_addr) == 1)
			return 0;
	}
	snprintf(err, errsz, "\"%s\": \"%s\" is not an IPv4 address or a bracketed IPv6 address (no host names)",
		 spec, host);
	return -1;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body, size_t len,
			     const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

#define PLAIN "text/plain; charset=utf-8"

/* Every request: GET or HEAD /metrics; 405 for other methods, 404 for
 * other paths. Answered at once: a body sent with it is not read. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_len, void **req)
{
	struct pw_http *h = cls;
	(void)version, (void)upload, (void)upload_len, (void)req;

	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		static const char m[] = "portwall: only GET and HEAD /metrics\n";
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, m, sizeof(m) - 1, PLAIN);
	}
	if (strcmp(url, "/metrics")) {
		static const char m[] = "portwall: not found; the metrics are at /metrics\n";
		return reply(c, MHD_HTTP_NOT_FOUND, m, sizeof(m) - 1, PLAIN);
	}
	pthread_mutex_lock(&h->lock);
	bool have = h->text != NULL;
	enum MHD_Result rc = have ? reply(c, MHD_HTTP_OK, h->text, h->len, "text/plain; version=0.0.4; charset=utf-8")
				  : MHD_NO;
	pthread_mutex_unlock(&h->lock);
	if (!have) {
		static const char m[] = "portwall: no metrics read yet, try again in a few seconds\n";
		return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, m, sizeof(m) - 1, PLAIN);
	}
	return rc;
}

/* The server's thread takes every signal blocked: run reads its own
 * (SIGHUP, SIGTERM) from a signalfd in the main thread. */
static struct MHD_Daemon *start_daemon(struct pw_http *h, struct sockaddr_storage *ss)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | (ss->ss_family == AF_INET6 ? MHD_USE_IPv6 : 0), 0,
		NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)ss, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)CONN_MAX, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)CONN_PER_IP,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S, MHD_OPTION_END);
	int e = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return d;
}

struct pw_http *pw_http_start(const char *spec, char *err, size_t errsz)
{
	struct sockaddr_storage ss;
	struct pw_http *h;

	if (pw_http_addr_parse(spec, &ss, err, errsz))
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&h->lock, NULL);
	errno = 0;
	h->d = start_daemon(h, &ss);
	if (!h->d) {
		snprintf(err, errsz, "listening on %s failed: %s (another process on that port? an address of no "
			 "interface here?)", spec, errno ? strerror(errno) : "libmicrohttpd refused it");
		pthread_mutex_destroy(&h->lock);
		free(h);
		return NULL;
	}
	return h;
}

void pw_http_publish(struct pw_http *h, const char *text, size_t len)
{
	char *copy = malloc(len ? len : 1);

	if (!copy)
		return;	/* the last text stays */
	memcpy(copy, text, len);
	pthread_mutex_lock(&h->lock);
	free(h->text);
	h->text = copy;
	h->len = len;
	pthread_mutex_unlock(&h->lock);
}

void pw_http_stop(struct pw_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	pthread_mutex_destroy(&h->lock);
	free(h->text);
	free(h);
}
