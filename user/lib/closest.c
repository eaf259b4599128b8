/* closest.c - "did you mean": the closest of some words to a misspelt one. */
#include "lib/closest.h"

#include <string.h>

#define WORD_MAX 64

static unsigned min3(unsigned a, unsigned b, unsigned c)
{
	unsigned m = a < b ? a : b;
	return m < c ? m : c;
}

/* Optimal string alignment distance over three rows of the table. */
unsigned pw_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned rows[3][WORD_MAX + 1];

	if (la > WORD_MAX || lb > WORD_MAX)
		return ~0u;
	for (size_t j = 0; j <= lb; j++)
		rows[0][j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned *cur = rows[i % 3], *prev = rows[(i - 1) % 3], *prev2 = rows[(i + 1) % 3];
		cur[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, sub);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < cur[j])
				cur[j] = prev2[j - 2] + 1;
		}
	}
	return rows[la % 3][lb];
}

void pw_closest_init(struct pw_closest *s, const char *word)
{
	s->word = word;
	s->best = NULL;
	s->dist = ~0u;
}

void pw_closest_try(struct pw_closest *s, const char *cand)
{
	unsigned d = pw_edit_distance(s->word, cand);

	if (d < s->dist) {
		s->dist = d;
		s->best = cand;
	}
}

/* Close: one edit in a word of up to 4 letters, two up to 8, else three,
 * the end both share not counted (so "gone.policy" is not "dns.policy");
 * and never the whole word (so "x" does not become "in"). */
const char *pw_closest_best(const struct pw_closest *s)
{
	if (!s->best)
		return NULL;
	size_t n = strlen(s->word), m = strlen(s->best), tail = 0;
	while (tail < n && tail < m && s->word[n - 1 - tail] == s->best[m - 1 - tail])
		tail++;
	size_t stem = n - tail;
	unsigned limit = stem <= 4 ? 1 : stem <= 8 ? 2 : 3;

	if (s->dist == 0 || s->dist > limit || s->dist >= n)
		return NULL;
	return s->best;
}

const char *pw_closest_from(const char *word, const char *const *cands)
{
	struct pw_closest s;

	pw_closest_init(&s, word);
	for (; *cands; cands++)
		pw_closest_try(&s, *cands);
	return pw_closest_best(&s);
}
