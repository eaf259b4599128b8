/* rdiff.c - two compiled policies compared rule by rule (rdiff.h). */
#include "policy/rdiff.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Pair each old rule with the first unpaired new rule of the same
 * fingerprint: match[i] is the new index of old rule i, or -1. */
static void pair_kept(const struct pw_compiled *ca, size_t na, const struct pw_compiled *cb, size_t nb, long *ma,
		      long *mb)
{
	for (size_t j = 0; j < nb; j++)
		mb[j] = -1;
	for (size_t i = 0; i < na; i++) {
		ma[i] = -1;
		for (size_t j = 0; j < nb; j++)
			if (mb[j] < 0 && ca->rule_fp[i + 1] == cb->rule_fp[j + 1]) {
				ma[i] = (long)j;
				mb[j] = (long)i;
				break;
			}
	}
}

static bool same_str(const char *x, const char *y)
{
	return x && y && strcmp(x, y) == 0;
}

/* An unpaired old rule i and new rule j that are one rule changed. */
static bool one_rule(const struct pw_rule *a, const struct pw_rule *b, bool by_comment)
{
	if (by_comment)
		return same_str(a->comment, b->comment);
	return a->line == b->line && same_str(a->file, b->file);
}

static void pair_changed(const struct pw_policy *pa, const struct pw_policy *pb, long *ma, long *mb, long *ch)
{
	for (size_t i = 0; i < pa->nrules; i++)
		ch[i] = -1;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < pa->nrules; i++)
			for (size_t j = 0; ma[i] < 0 && ch[i] < 0 && j < pb->nrules; j++)
				if (mb[j] == -1 && one_rule(&pa->rules[i], &pb->rules[j], pass == 0)) {
					ch[i] = (long)j;
					mb[j] = -2 - (long)i;	/* changed from i */
				}
}

static void put(struct pw_rdiff *o, size_t *n, enum pw_rdiff_kind k, long a, long b)
{
	o[*n].kind = k;
	o[*n].a = a;
	o[*n].b = b;
	(*n)++;
}

/* Old rules with no partner that stood before old rule `upto` and were
 * not said yet. */
static void removed_before(const long *ma, const long *ch, size_t upto, size_t *next, struct pw_rdiff *o, size_t *n)
{
	for (; *next < upto; (*next)++)
		if (ma[*next] < 0 && ch[*next] < 0)
			put(o, n, PW_RD_REMOVED, (long)*next, -1);
}

int pw_rdiff(const struct pw_policy *pa, const struct pw_compiled *ca, const struct pw_policy *pb,
	     const struct pw_compiled *cb, struct pw_rdiff **out, size_t *n, size_t *kept)
{
	size_t na = pa->nrules, nb = pb->nrules, next = 0;
	long *ma = calloc(na + 1, sizeof(long)), *mb = calloc(nb + 1, sizeof(long)), *ch = calloc(na + 1, sizeof(long));
	struct pw_rdiff *o = calloc(na + nb + 1, sizeof(*o));

	*out = NULL;
	*n = *kept = 0;
	if (!ma || !mb || !ch || !o) {
		free(ma), free(mb), free(ch), free(o);
		return -ENOMEM;
	}
	pair_kept(ca, na, cb, nb, ma, mb);
	pair_changed(pa, pb, ma, mb, ch);
	long last = -1;	/* the old index of the last kept rule seen */
	for (size_t j = 0; j < nb; j++) {
		if (mb[j] >= 0) {
			removed_before(ma, ch, (size_t)mb[j], &next, o, n);
			(*kept)++;
			if (mb[j] < last)
				put(o, n, PW_RD_MOVED, mb[j], (long)j);
			else
				last = mb[j];
		} else if (mb[j] <= -2) {
			removed_before(ma, ch, (size_t)(-2 - mb[j]), &next, o, n);
			put(o, n, PW_RD_CHANGED, -2 - mb[j], (long)j);
		} else {
			/* the removed ones before the next paired rule first, "-" then "+" */
			size_t k = j + 1;
			while (k < nb && mb[k] == -1)
				k++;
			size_t upto = k == nb ? na : (size_t)(mb[k] >= 0 ? mb[k] : -2 - mb[k]);
			removed_before(ma, ch, upto, &next, o, n);
			put(o, n, PW_RD_ADDED, -1, (long)j);
		}
	}
	removed_before(ma, ch, na, &next, o, n);
	free(ma), free(mb), free(ch);
	*out = o;
	return 0;
}
