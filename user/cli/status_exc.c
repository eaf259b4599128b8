/* status_exc.c - the timed exceptions in `portwall status` (text and
 * JSON), beside the policy in force (cli/status_exc.h). */
#include <stdio.h>

#include "cli/status_exc.h"
#include "datapath/exc.h"
#include "lib/json.h"

/* Small enough for the stack of a command (--list takes every one). */
#define SHOWN 64

void pw_status_exc_text(const struct pw_dp *dp)
{
	struct pw_exc_row rows[SHOWN];
	char what[160], left[24];
	int n;

	if (pw_exc_list(dp, rows, SHOWN, &n)) {
		printf("timed exceptions: unreadable\n");
		return;
	}
	printf("timed exceptions: %s\n", n ? "" : "none");
	for (int i = 0; i < n; i++) {
		pw_exc_format(rows[i].dir, rows[i].proto, rows[i].port_lo, rows[i].port_hi, &rows[i].peer, what,
			      sizeof(what));
		pw_exc_left(rows[i].left_s, left, sizeof(left));
		printf("  %u: allow %s, %s%s%s%s\n", rows[i].id, what, left, rows[i].left_s > 0 ? " left" : "",
		       rows[i].comment[0] ? ": " : "", rows[i].comment);
	}
}

void pw_status_exc_json(const struct pw_dp *dp)
{
	struct pw_exc_row rows[SHOWN];
	char peer[64];
	int n;

	if (pw_exc_list(dp, rows, SHOWN, &n))
		n = 0;
	printf("\"exceptions\":[");
	for (int i = 0; i < n; i++) {
		pw_prefix_format(&rows[i].peer, peer, sizeof(peer), true);
		printf("%s{\"id\":%u,\"dir\":\"%s\",\"proto\":\"%s\",\"port_lo\":%u,\"port_hi\":%u,\"peer\":\"%s\","
		       "\"left_s\":%lld,\"added\":%llu,\"comment\":", i ? "," : "", rows[i].id,
		       rows[i].dir == PW_DIR_IN ? "in" : "out", rows[i].proto == 6 ? "tcp" : "udp", rows[i].port_lo,
		       rows[i].port_hi, peer, (long long)rows[i].left_s, (unsigned long long)rows[i].added_unix);
		pw_json_str(stdout, rows[i].comment);
		printf("}");
	}
	printf("],");
}
