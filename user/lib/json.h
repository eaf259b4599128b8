/* json.h - JSON output through jansson: strings that are always valid. */
#ifndef PW_JSON_H
#define PW_JSON_H

#include <jansson.h>
#include <stdio.h>

/* A copy of s (malloc'd) with every byte that is not part of well-formed
 * UTF-8 replaced by U+FFFD, so that it can be a JSON string; NULL when out
 * of memory. */
char *pw_utf8_clean(const char *s);

/* s as a jansson string (invalid UTF-8 replaced by U+FFFD); NULL s gives
 * null. NULL only when out of memory. */
json_t *pw_json_string(const char *s);

/* Write s as a JSON string (quotes included); NULL writes null. */
void pw_json_str(FILE *f, const char *s);

/* Write v compactly (no newline) and drop the reference; -1 if v is NULL
 * (out of memory) or the write fails. */
int pw_json_put(FILE *f, json_t *v);

#endif
