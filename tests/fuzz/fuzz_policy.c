/* fuzz_policy.c - libFuzzer: any bytes as a policy file through the parser,
 * the compiler and the analysis. They must not crash, leak or misbehave
 * (ASan/UBSan); a policy that parses must compile, and its decisions must
 * match the oracle on a few probes; its outline (what check compiles) must
 * count and hash the same entries. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/analyze.h"
#include "policy/compile.h"
#include "oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pw_policy pol;
	struct pw_compiled c;
	struct pw_diag d = { 0 };

	if (size > 1 << 16)
		return 0;
	/* "fuzz.policy" names no file: includes of it fail cleanly */
	if (pw_policy_parse_text("/nonexistent/fuzz.policy", (const char *)data, size, &pol, &d) == 0) {
		if (pw_compile(&pol, &c, &d) != 0) {
			/* the one limit a parsed policy can reach in 64 KiB: a host
			 * name in more class shapes than the datapath holds */
			if (strstr(d.error, "shapes, the most one name feeds")) {
				pw_policy_free(&pol);
				pw_diag_free(&d);
				return 0;
			}
			fprintf(stderr, "a parsed policy did not compile: %s\n", d.error);
			abort();
		}
		pw_analyze(&pol, &c, &d);
		/* what check compiles counts and hashes the same entries */
		struct pw_compiled o;
		if (pw_compile_outline(&pol, &o, &d) != 0 || o.npeers != c.npeers ||
		    memcmp(o.hash, c.hash, sizeof(o.hash)) != 0) {
			fprintf(stderr, "the outline differs from the compiled tables\n");
			abort();
		}
		pw_compiled_free(&o);
		static const char *const peers[] = { "192.0.2.1", "203.0.113.9", "2001:db8::1", "10.1.2.3" };
		static const unsigned ports[] = { 0, 1, 22, 80, 443, 1023, 65535 };
		for (size_t p = 0; p < 4; p++) {
			uint8_t fam, a[16], oa;
			pw_addr_parse(peers[p], &fam, a);
			for (unsigned dir = 0; dir < 2; dir++)
				for (size_t k = 0; k < sizeof(ports) / sizeof(ports[0]); k++) {
					struct pw_verdict v;
					uint32_t orule = oracle_decide(&pol, dir, 'T', ports[k], fam, a, &oa);
					pw_decide_packet(&c, oracle_slot(dir, 'T', ports[k]), fam, a, &v);
					if (v.action != oa || v.rule != orule) {
						fprintf(stderr, "compiled %u/%u, oracle %u/%u\n", v.action, v.rule, oa, orule);
						abort();
					}
				}
		}
		pw_compiled_free(&c);
		pw_policy_free(&pol);
	}
	pw_diag_free(&d);
	return 0;
}
