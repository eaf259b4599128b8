/* fuzz_gateway.c - libFuzzer: any bytes as a gateway file through its
 * parser (docs/gateway.md). It must not crash, leak or misbehave
 * (ASan/UBSan); a gateway that parses has a host list sorted and unique,
 * every host's policy compiled, pw_gateway_find finds each host, and
 * pw_gateway_sniff knew it for a gateway. The file stands in a directory
 * of the harness's own holding p.policy and q.policy; inputs with a "/"
 * are skipped (they could name the machine's files). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/gateway.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char dir[] = "/tmp/pw-fuzz-gw-XXXXXX", gwpath[64], ppath[2][64];

static void cleanup(void)
{
	unlink(ppath[0]);
	unlink(ppath[1]);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const text[2] = { "allow in tcp port 22\n", "default out drop\nallow out udp port 53\n" };

	(void)argc;
	(void)argv;
	if (!mkdtemp(dir))
		abort();
	atexit(cleanup);
	snprintf(gwpath, sizeof(gwpath), "%s/fuzz.gateway", dir);
	for (int i = 0; i < 2; i++) {
		snprintf(ppath[i], sizeof(ppath[i]), "%s/%c.policy", dir, "pq"[i]);
		FILE *f = fopen(ppath[i], "w");
		if (!f || fputs(text[i], f) < 0 || fclose(f))
			abort();
	}
	return 0;
}

static void check_parsed(const struct pw_gateway *gw)
{
	for (size_t i = 0; i < gw->nhosts; i++) {
		const struct pw_gw_host *h = &gw->hosts[i];
		if (h->policy >= gw->npolicies || !gw->policies[h->policy].c.slots) {
			fprintf(stderr, "host %zu has no compiled policy\n", i);
			abort();
		}
		if (pw_gateway_find(gw, h->ip.fam, h->ip.addr) != h) {
			fprintf(stderr, "host %zu not found by its address (unsorted or repeated)\n", i);
			abort();
		}
	}
	if (!gw->nhosts || !gw->forward_line || !gw->name) {
		fprintf(stderr, "a gateway parsed without hosts, default forward or name\n");
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pw_gateway gw;
	struct pw_diag d = { 0 };

	if (size > 1 << 16 || memchr(data, '/', size))
		return 0;
	bool sniffed = pw_gateway_sniff((const char *)data, size);
	if (pw_gateway_parse_text(gwpath, (const char *)data, size, NULL, &gw, &d) == 0) {
		check_parsed(&gw);
		if (!sniffed) {
			/* a valid gateway has protect and default forward lines, so
			 * its first statement is one of them or gateway */
			fprintf(stderr, "a gateway that parsed was not recognized as one\n");
			abort();
		}
		pw_gateway_free(&gw);
	} else if (!d.error[0]) {
		fprintf(stderr, "a gateway refused without an error\n");
		abort();
	}
	pw_diag_free(&d);
	return 0;
}
