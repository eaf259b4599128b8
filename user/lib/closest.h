/* closest.h - "did you mean": the closest of some words to a misspelt one. */
#ifndef PW_CLOSEST_H
#define PW_CLOSEST_H

#include <stddef.h>

/* The edit distance of a and b (insert, delete, replace, swap two
 * neighbours: each 1); words over 64 bytes count as far. */
unsigned pw_edit_distance(const char *a, const char *b);

/* The best candidate so far for word. */
struct pw_closest {
	const char *word;
	const char *best;	/* NULL: nothing close enough */
	unsigned dist;
};

void pw_closest_init(struct pw_closest *s, const char *word);
/* Consider cand (kept by the caller while s is used). */
void pw_closest_try(struct pw_closest *s, const char *cand);
/* The closest candidate when it is close enough to be a typo, else NULL. */
const char *pw_closest_best(const struct pw_closest *s);
/* The closest of a NULL-terminated list, or NULL. */
const char *pw_closest_from(const char *word, const char *const *cands);

#endif
