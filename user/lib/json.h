/* json.h - the little JSON output needs: escaped strings. */
#ifndef PW_JSON_H
#define PW_JSON_H

#include <stdio.h>

/* Write s as a JSON string (quotes included); NULL writes null. */
void pw_json_str(FILE *f, const char *s);

#endif
