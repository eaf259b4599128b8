/* exc_env.h - what the timed-exception suites (test_exc, and the attack
 * reproducers in tests/atk) do besides dp_env.h: add an exception as
 * `portwall allow` would, move its expiry, read conntrack's states, age a
 * table. One copy for all of them. */
#ifndef PW_TEST_EXC_ENV_H
#define PW_TEST_EXC_ENV_H

#include <arpa/inet.h>
#include <string.h>

#include <bpf/bpf.h>

#include "dp_env.h"
#include "datapath/exc.h"

/* Add "WORDS" (the rule words of `portwall allow`) for secs; its id. */
static inline uint32_t add(const char *words, uint64_t secs, bool wide)
{
	char buf[200], err[400], *argv[8];
	int argc = 0;
	struct pw_exc_spec sp = { .secs = secs };
	uint32_t id = 0;

	snprintf(buf, sizeof(buf), "%s", words);
	for (char *t = strtok(buf, " "); t && argc < 8; t = strtok(NULL, " "))
		argv[argc++] = t;
	if (pw_exc_parse(argc, argv, wide, &sp, err, sizeof(err)) || pw_exc_add(&E.dp, &sp, &id, err, sizeof(err)))
		FAILF("adding \"%s\": %s", words, err);
	return id;
}

/* Every key of exception id gets expires_ns = at. */
static inline void set_expiry(uint32_t id, uint64_t at)
{
	struct pw_exc_key k, next;
	struct pw_exc_val v;
	int rc;

	for (rc = bpf_map_get_next_key(E.dp.exc_fd, NULL, &next); rc == 0;
	     rc = bpf_map_get_next_key(E.dp.exc_fd, &k, &next)) {
		k = next;
		if (bpf_map_lookup_elem(E.dp.exc_fd, &k, &v) == 0 && v.id == id) {
			v.expires_ns = at;
			REQUIRE(bpf_map_update_elem(E.dp.exc_fd, &k, &v, BPF_EXIST) == 0);
		}
	}
}

/* The states conntrack shows (portwall conntrack) for the flows of proto
 * between local port lport and the peer's port rport, in its order (pw_ct,
 * pw_ct_dgram, pw_ct_in), or "none". */
static inline const char *ct_state(uint8_t proto, uint16_t lport, uint16_t rport)
{
	static char buf[120];
	size_t len = 0;
	struct pw_ct_row *rows;
	size_t n;

	if (pw_dp_ct_list(&E.dp, &rows, &n))
		return "error";
	snprintf(buf, sizeof(buf), "none");
	for (size_t i = 0; i < n && len < sizeof(buf); i++)
		if (rows[i].k.proto == proto && ntohs(rows[i].k.lport_be) == lport &&
		    ntohs(rows[i].k.rport_be) == rport)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? " " : "",
						pw_ct_row_state(&rows[i]));
	free(rows);
	return buf;
}

/* Every entry of table t made as old as ct_udp and more: timed out, as
 * after a long silence on its path. */
static inline void age_table(int t)
{
	int fd = pw_dp_ct_fd(&E.dp, t);
	struct pw_ct_key k, next;
	struct pw_ct_val v;
	int rc;

	for (rc = bpf_map_get_next_key(fd, NULL, &next); rc == 0; rc = bpf_map_get_next_key(fd, &k, &next)) {
		k = next;
		if (bpf_map_lookup_elem(fd, &k, &v) == 0) {
			v.last_ns = 1;
			REQUIRE(bpf_map_update_elem(fd, &k, &v, BPF_EXIST) == 0);
		}
	}
}

/* Exception id expired a second ago (the agent not yet by). */
static inline void expire(uint32_t id)
{
	set_expiry(id, pw_exc_now_ns() - 1000000000ull);
}

/* A reload to text, the config as it is. */
static inline int reload(const char *text)
{
	return reload_with(text, NULL);
}

#endif
