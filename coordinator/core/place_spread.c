/*
 * Rule 8 of place.h: the members of a set (the bricks of one Gluster
 * replica or disperse set) on distinct nodes where possible.
 *
 * The count balance already deals each group's newcomers to nodes without
 * a member of their set, so what is left here is what that could not do: a
 * set that already shared a node, a node that had to take a member back.
 * A colliding member 'i' on node a is fixed by
 *   - a move to a node t of its class, not no_receive, without a member of
 *     its set, holding one fewer of its pool and one fewer overall than a
 *     (the counts only trade places, so sums 1 and 2 stay at their minimum),
 *   - or a swap with a resource q of its pool on such a node t, eligible on
 *     a, that does not collide there in turn (the counts do not change).
 * What may move for it: an orphan, or a resource the count balance moved,
 * at no cost; one staying where it runs only with a rebalance (for a brick
 * that is a takeover); FIXED, PINNED and unplaced ones never.  With load
 * reported, no fix makes a node heavier than the busiest node already is
 * (so a spread after a load step never undoes it).  A fix is
 * scored by the moves it adds (one going back home -1, one leaving home
 * +1): never more than one; the cheapest kind of fix is made wherever it
 * applies before a dearer kind, then a move before a swap, the lowest slot,
 * the lowest partner.  Every fix lowers the number of colliding pairs and
 * makes no new one, so it ends; it stops when a whole pass over every kind
 * finds nothing, which is also why placing the result again finds nothing.
 *
 * Cost: a pass looks at the colliding members only, each against every node
 * and the resources of its pool there (kept in one list per (pool, node),
 * rebuilt per pass): O(R + C * (N + R / N)) per pass for C colliding
 * members, instead of every resource against every resource.
 */
#include "core/place_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct fix {
	uint32_t score;		/* 2 * (moves added + 2), + 1 for a swap */
	uint32_t slot;
	uint32_t partner;	/* PLACE_NONE: a move */
};

static bool fix_better(const struct fix *a, const struct fix *b)
{
	if (a->score != b->score)
		return a->score < b->score;
	if (a->slot != b->slot)
		return a->slot < b->slot;
	return a->partner < b->partner;
}

struct sp {
	struct place_ctx *c;
	uint32_t *lst;		/* resources that may move, by (pool, node, index) */
	uint32_t *cell;		/* [pp * n + slot]: start in 'lst'; one past the end last */
	uint64_t load[CHORUS_MAX_NODES], top;	/* weights per node, the heaviest */
};

static uint64_t weight(const struct place_ctx *c, uint32_t i)
{
	return c->in->res[i].weight;
}

static bool may_move(const struct place_ctx *c, uint32_t i)
{
	uint8_t k = c->kind[i];

	if (c->owner[i] == PLACE_NONE || (k != PK_ORPHAN && k != PK_STICKY))
		return false;
	return k == PK_ORPHAN || c->owner[i] != c->in->res[i].prev || c->in->rebalance;
}

/* Moves added by taking 'i' from 'from' to 'to'. */
static int delta(const struct place_ctx *c, uint32_t i, uint32_t from, uint32_t to)
{
	uint32_t prev = c->in->res[i].prev;

	if (!place_ctx_runs(c, i))
		return 0;
	return (to != prev) - (from != prev);
}

static int lists(struct sp *p)
{
	struct place_ctx *c = p->c;
	size_t cells = (size_t)c->n_pp * c->n;

	memset(p->cell, 0, (cells + 1) * sizeof(*p->cell));
	for (uint32_t i = 0; i < c->in->n_res; i++)
		if (may_move(c, i))
			p->cell[(size_t)c->pp[i] * c->n + c->owner[i] + 1]++;
	for (size_t k = 0; k < cells; k++)
		p->cell[k + 1] += p->cell[k];
	for (uint32_t i = 0; i < c->in->n_res; i++)
		if (may_move(c, i))
			p->lst[p->cell[(size_t)c->pp[i] * c->n + c->owner[i]]++] = i;
	/* the fill moved every start to the next one's: shift back */
	memmove(p->cell + 1, p->cell, cells * sizeof(*p->cell));
	p->cell[0] = 0;
	return 0;
}

static struct fix best_fix(const struct sp *p, uint32_t i)
{
	const struct place_ctx *c = p->c;
	const struct place_in *in = c->in;
	const struct place_bits *cl = &c->cbits[c->cls[i]], *nr = &in->no_receive;
	uint32_t a = c->owner[i], n = c->n;
	const uint32_t *P = &c->P[(size_t)c->pp[i] * n];
	struct fix best = {UINT32_MAX, 0, PLACE_NONE};

	for (uint32_t t = 0; t < n; t++) {
		int di = delta(c, i, a, t);

		if (t == a || !place_bits_test(cl, t) || place_ctx_set_on(c, i, t))
			continue;
		if (!place_bits_test(nr, t) && di <= 1 && P[t] + 1 == P[a] && c->T[t] + 1 == c->T[a] &&
		    p->load[t] + weight(c, i) <= p->top) {
			struct fix f = {2u * (uint32_t)(di + 2), t, PLACE_NONE};

			if (fix_better(&f, &best))
				best = f;
		}
		if (place_ctx_runs(c, i) && place_bits_test(nr, t))
			continue;
		for (uint32_t k = p->cell[(size_t)c->pp[i] * n + t];
		     k < p->cell[(size_t)c->pp[i] * n + t + 1]; k++) {
			uint32_t q = p->lst[k];
			struct fix f;
			int d;

			if (c->owner[q] != t || !may_move(c, q) ||
			    !place_bits_test(&c->cbits[c->cls[q]], a) ||
			    (c->set[q] && place_ctx_set_on(c, q, a)) ||
			    (place_ctx_runs(c, q) && place_bits_test(nr, a)))
				continue;
			d = di + delta(c, q, t, a);
			if (d > 1 || p->load[t] + weight(c, i) - weight(c, q) > p->top ||
			    p->load[a] + weight(c, q) - weight(c, i) > p->top)
				continue;
			f = (struct fix){2u * (uint32_t)(d + 2) + 1, t, q};
			if (fix_better(&f, &best))
				best = f;
			if (d == di - 1)
				break;	/* nothing of this node does better */
		}
	}
	return best;
}

/* One pass: every colliding member with a fix of score <= 'limit' gets its
 * best one.  Returns the fixes made. */
static uint32_t pass(struct sp *p, uint32_t limit)
{
	struct place_ctx *c = p->c;
	uint32_t fixes = 0;

	lists(p);
	memset(p->load, 0, sizeof(p->load));
	p->top = 0;
	for (uint32_t i = 0; i < c->in->n_res; i++)
		if (c->owner[i] != PLACE_NONE)
			p->load[c->owner[i]] += weight(c, i);
	for (uint32_t s = 0; s < c->n; s++)
		if (p->load[s] > p->top)
			p->top = p->load[s];
	for (uint32_t m = 0; m < c->n_sets; m++) {
		const struct place_set *st = &c->sets[m];
		bool any = false;

		for (uint32_t w = 0; w < PLACE_WORDS; w++)
			any |= st->multi.w[w] != 0;
		for (uint32_t j = st->first; any && j < st->first + st->len; j++) {
			uint32_t i = c->smem[j], a = c->owner[i];
			struct fix f;

			if (!place_ctx_collides(c, i) || !may_move(c, i))
				continue;
			f = best_fix(p, i);
			if (f.score > limit)
				continue;
			if (f.partner != PLACE_NONE) {
				p->load[a] += weight(c, f.partner);
				p->load[f.slot] -= weight(c, f.partner);
				place_ctx_relocate(c, f.partner, a);
			}
			p->load[a] -= weight(c, i);
			p->load[f.slot] += weight(c, i);
			place_ctx_relocate(c, i, f.slot);
			fixes++;
		}
	}
	return fixes;
}

long place_spread(struct place_ctx *c)
{
	struct sp p = {.c = c};
	uint32_t fixes = 0, round;
	bool any = false;

	for (uint32_t m = 0; m < c->n_sets && !any; m++)
		for (uint32_t w = 0; w < PLACE_WORDS; w++)
			any |= c->sets[m].multi.w[w] != 0;
	if (!any || c->n < 2)
		return 0;	/* no two members of a set share a node */
	p.lst = malloc((c->in->n_res + 1) * sizeof(*p.lst));
	p.cell = malloc(((size_t)c->n_pp * c->n + 1) * sizeof(*p.cell));
	if (p.lst == NULL || p.cell == NULL) {
		free(p.lst);
		free(p.cell);
		return -ENOMEM;
	}
	/* scores: 2 = a move home, 3 a swap home ... 7 a swap adding one */
	do {
		round = 0;
		for (uint32_t limit = 2; limit <= 7; limit++) {
			uint32_t k;

			do {
				k = pass(&p, limit);
				round += k;
			} while (k > 0);
		}
		fixes += round;
	} while (round > 0);
	free(p.lst);
	free(p.cell);
	return fixes;
}
