/* json.c - JSON output through jansson: strings that are always valid. */
#include "lib/json.h"

#include <stdlib.h>
#include <string.h>

/* The length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, surrogates or code points past U+10FFFF), else 0. */
static size_t seq_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t need = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
		      c >= 0xf0 && c <= 0xf4 ? 4 : 0;

	for (size_t k = 1; k < need; k++)
		if ((s[k] & 0xc0) != 0x80)
			return 0;	/* also stops at the NUL */
	if (need > 1 && ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||
			 (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f)))
		return 0;
	return need;
}

char *pw_utf8_clean(const char *s)
{
	size_t n = strlen(s), o = 0;
	char *out = malloc(n * 3 + 1);	/* a bad byte becomes three */

	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t k = seq_len(p);
		if (k) {
			memcpy(out + o, p, k);
			o += k;
			p += k;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
		}
	}
	out[o] = '\0';
	return out;
}

json_t *pw_json_string(const char *s)
{
	if (!s)
		return json_null();
	char *c = pw_utf8_clean(s);
	if (!c)
		return NULL;
	json_t *v = json_string(c);
	free(c);
	return v;
}

int pw_json_put(FILE *f, json_t *v)
{
	if (!v)
		return -1;
	int rc = json_dumpf(v, f, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(v);
	return rc;
}

void pw_json_str(FILE *f, const char *s)
{
	json_t *v = pw_json_string(s);

	if (v)
		pw_json_put(f, v);
	else
		fputs("null", f);	/* out of memory: still JSON */
}
