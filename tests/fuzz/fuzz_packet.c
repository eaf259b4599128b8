/* fuzz_packet.c - libFuzzer: any line as a `portwall test` packet
 * description; when it parses, build the frame (which must fit, and be no
 * shorter than a padded Ethernet frame, or than the IP header of an L3
 * packet with `link l3`: a protocol without ports carries exactly the `len`
 * bytes asked for, so `in igmp ... len 3 link l3` is 23 bytes). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portwall.h"
#include "policy/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[1024], err[256];
	struct pw_pktspec s;
	static uint8_t frame[PW_PKT_MAX + 512];

	if (size >= sizeof(line))
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (pw_pkt_parse_line(line, &s, err, sizeof(err)) == 0) {
		size_t n = pw_pkt_build(&s, frame, sizeof(frame));
		/* an Ethernet frame is padded to 60 bytes; an L3 packet holds at
		 * least its IP header */
		size_t least = !s.l3 ? 60u : s.fam == PW_FAM_V4 ? 20u : 40u;
		if (n < least || n > sizeof(frame)) {
			fprintf(stderr, "built %zu bytes\n", n);
			abort();
		}
		char desc[256];
		pw_pkt_describe(&s, desc, sizeof(desc));
	}
	return 0;
}
