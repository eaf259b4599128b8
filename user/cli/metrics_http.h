/* metrics_http.h - `run --metrics-listen ADDR:PORT`: GET /metrics over
 * HTTP (libmicrohttpd, its own thread), serving the text run rendered last.
 * The thread never reads the maps: run renders, the server copies. */
#ifndef PW_METRICS_HTTP_H
#define PW_METRICS_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

struct pw_http;

/* ADDR:PORT (IPv4 address, or [IPv6]:PORT; port 1-65535) into *ss. 0, or
 * -1 with what is wrong in err. */
int pw_http_addr_parse(const char *spec, struct sockaddr_storage *ss, char *err, size_t errsz);

/* Listen on spec. NULL with err set (the address refused, in use, ...). */
struct pw_http *pw_http_start(const char *spec, char *err, size_t errsz);

/* The text the next requests get (copied). */
void pw_http_publish(struct pw_http *h, const char *text, size_t len);

/* Stop listening, close the connections, free h (NULL: nothing). */
void pw_http_stop(struct pw_http *h);

#endif
