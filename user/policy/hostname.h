/* hostname.h - host names and wildcards as policy peers: their syntax, wire
 * form and matching (docs/policy.md, "Host names"). */
#ifndef PW_HOSTNAME_H
#define PW_HOSTNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portwall.h"

#define PW_HOSTNAME_MAX 253	/* characters of a name as written, "*." included */

enum pw_host_err {
	PW_HOST_OK = 0,
	PW_HOST_NOT_A_NAME,	/* not meant as a name either: an address error, or "expected ..." */
	PW_HOST_BAD,		/* meant as a name, and not one: why says what and the fix */
};

/* Read s as a host name (`pop1-ccans.mycontactcenter.net`, a trailing dot
 * allowed) or a wildcard of whole labels (`*.mycontactcenter.net`). On
 * PW_HOST_OK out holds it lowercased without the trailing dot (the "*."
 * kept) and *wild says which. On PW_HOST_BAD why holds the message and *at
 * the byte offset in s it is about. Something with ':' or '/', a single
 * word, or a dotted run of numbers (`10.0.0.300`, `192.0.2.1a`) is
 * PW_HOST_NOT_A_NAME, so that a mistyped address stays an address error. */
enum pw_host_err pw_hostname_parse(const char *s, char out[PW_HOSTNAME_MAX + 1], bool *wild,
				   size_t *at, char *why, size_t n);

/* The wire form of a parsed name (lowercase length-prefixed labels, no root
 * label), without the "*." of a wildcard. Returns its length in bytes. */
size_t pw_hostname_wire(const char *name, uint8_t wire[PW_NAME_WIRE_MAX + 1]);

/* Does pattern (a parsed name or wildcard) match the parsed plain name
 * host? A name matches itself; `*.X` matches every name with one or more
 * labels in front of X, not X itself. */
bool pw_hostname_matches(const char *pattern, const char *host);

#endif
