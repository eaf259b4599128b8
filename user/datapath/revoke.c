/* revoke.c - revoked means closed: a reload (or rollback) that no longer
 * lets a service in ends the established flows peers started on it, both
 * ways, and counts them (docs/reliability.md, "Revoking a service"). The
 * datagram flows are ended by ct_flush.c (they live in pw_ct_in); the TCP
 * ones here, found among the namespace's sockets. */
#include "datapath/adopt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

void pw_revoke_add(struct pw_revoke *r, uint8_t proto, uint16_t port)
{
	r->total++;
	if (proto == 6)
		r->tcp++;
	else
		r->dgram++;
	for (int i = 0; i < r->nsvc; i++)
		if (r->svc[i].proto == proto && r->svc[i].port == port) {
			r->svc[i].n++;
			return;
		}
	if (r->nsvc == PW_REVOKE_SERVICES)
		return;	/* counted in total, not listed */
	r->svc[r->nsvc].proto = proto;
	r->svc[r->nsvc].port = port;
	r->svc[r->nsvc++].n = 1;
}

void pw_revoke_format(const struct pw_revoke *r, char *buf, size_t n)
{
	size_t at = 0;
	int listed = 0;

	buf[0] = '\0';
	for (int i = 0; i < r->nsvc && at < n; i++) {
		const char *p = r->svc[i].proto == 6 ? "tcp" : r->svc[i].proto == 17 ? "udp" : NULL;
		char proto[16];
		if (!p) {
			snprintf(proto, sizeof(proto), "proto %u", r->svc[i].proto);
			p = proto;
		}
		at += (size_t)snprintf(buf + at, n - at, "%s%s %u x%d", i ? ", " : "", p, r->svc[i].port, r->svc[i].n);
		listed += r->svc[i].n;
	}
	if (listed < r->total && at < n)
		snprintf(buf + at, n - at, ", ...");
}

int pw_dp_revoke_tcp(struct pw_dp *dp, uint32_t half, struct pw_revoke *rev)
{
	struct pw_ct_key *keys;
	struct pw_dp_slots m;
	size_t n;
	int rc = pw_peer_tcp_flows(&keys, &n);

	if (rc)
		return rc;
	int trie = pw_dp_half_trie(dp, half);
	if (trie < 0 || pw_dp_map_slots(dp, &m)) {
		rc = errno ? -errno : -EIO;
		if (trie >= 0)
			close(trie);
		free(keys);
		return rc;
	}
	/* established (REPLIED): the mark lasts the established timeout, kept
	 * while the host goes on sending on the connection */
	struct pw_ct_val mark = { .last_ns = pw_mono_ns(), .flags = PW_CT_REVOKED | PW_CT_REPLIED,
				  .dir = PW_DIR_IN };
	int fd = pw_dp_ct_fd(dp, PW_CT_TABLE_TCP);
	for (size_t i = 0; i < n; i++) {
		struct pw_ct_val was;
		if (pw_dp_half_allows(&m, half, trie, &keys[i], PW_DIR_IN))
			continue;
		if (bpf_map_lookup_elem(fd, &keys[i], &was) == 0 && (was.flags & PW_CT_REVOKED))
			continue;	/* ended by an earlier reload */
		/* over an entry the host's segments made under an older
		 * portwall, which took them for a flow of its own */
		if (bpf_map_update_elem(fd, &keys[i], &mark, BPF_ANY) == 0)
			pw_revoke_add(rev, 6, ntohs(keys[i].lport_be));
	}
	pw_dp_unmap_slots(&m);
	close(trie);
	free(keys);
	return 0;
}
