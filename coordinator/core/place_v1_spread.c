/*
 * Rule 8 of placement version 1 (place_v1.h): spread the members of a set (the bricks of one Gluster
 * replica or disperse set) over distinct nodes where possible.
 *
 * It runs last, on the finished assignment, and only ever
 *  - moves a colliding resource to a node of its class that holds none of
 *    its set and fewer of its (pool, class) group and fewer overall than its
 *    current node (so rule 6's balances stay within one), or
 *  - swaps it with a resource of the same pool and class on a node holding
 *    none of its set, where the partner does not collide in turn (per-node
 *    counts do not change at all).
 * Every fix lowers the number of colliding pairs and creates none, so the
 * loop ends after at most as many fixes as there are set members.
 *
 * What a fix may move: an orphan, or a resource rule 6 or 7 moved, at no
 * cost; one staying where it runs only when the caller rebalances (for a
 * brick that is a takeover, never done on a mere membership change without
 * failback); FIXED, PINNED and unplaced resources never.  A fix is scored by
 * the moves it adds against its holders (a moved resource going back home
 * counts -1, a staying one leaving +1): a fix adding more than one is not
 * made, the cheapest wins, then a move over a swap, then the lowest slot,
 * then the lowest index: deterministic, like every other rule.
 */
#include "core/place_v1.h"

#include <stdlib.h>
#include <string.h>

/* Skip spreading rather than allocate more than this many counters (sets x
 * nodes); real clusters have a few hundred bricks at most. */
#define SPREAD_CELLS_MAX (4u * 1024 * 1024)

struct sp {
	const struct place_in *in;
	uint32_t *owner;
	const uint8_t *cost;
	uint32_t n;
	uint32_t *dense;	/* per resource: 1 + dense set id, 0 = none */
	uint32_t *scnt;		/* [set * n + slot] members on the node */
	uint32_t gcnt[CHORUS_MAX_NODES];	/* scratch: one group's counts */
	uint32_t total[CHORUS_MAX_NODES];
};

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t *scnt(struct sp *p, uint32_t i, uint32_t slot)
{
	return &p->scnt[(size_t)(p->dense[i] - 1) * p->n + slot];
}

static void relocate(struct sp *p, uint32_t i, uint32_t to)
{
	uint32_t from = p->owner[i];

	if (p->dense[i]) {
		(*scnt(p, i, from))--;
		(*scnt(p, i, to))++;
	}
	p->total[from]--;
	p->total[to]++;
	p->owner[i] = to;
}

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

/* It has an eligible holder (it is not an orphan). */
static bool runs_elsewhere(const struct place_in *in, uint32_t i)
{
	const struct place_res *r = &in->res[i];

	return r->prev != PLACE_NONE && place_bits_test(&in->classes[r->elig_class], r->prev);
}

/* Moves added by taking 'i' from slot 'from' to 'to': -1 when it goes back
 * to its holder, +1 when it leaves it, 0 for an orphan. */
static int delta(const struct place_in *in, uint32_t i, uint32_t from, uint32_t to)
{
	if (!runs_elsewhere(in, i))
		return 0;
	return (to != in->res[i].prev) - (from != in->res[i].prev);
}

static bool may_move(const struct sp *p, uint32_t i)
{
	return p->cost[i] == 0 || (p->cost[i] == 1 && p->in->rebalance);
}

/* The best fix for colliding resource 'i', or score UINT32_MAX.  A fix may
 * add at most one move. */
static struct fix best_fix(struct sp *p, uint32_t i)
{
	const struct place_in *in = p->in;
	const struct place_res *r = &in->res[i];
	const struct place_bits *cl = &in->classes[r->elig_class];
	uint32_t s = p->owner[i];
	struct fix best = {UINT32_MAX, 0, PLACE_NONE};

	/* its (pool, class) group's count per node: the balance of rule 6 */
	memset(p->gcnt, 0, p->n * sizeof(*p->gcnt));
	for (uint32_t q = 0; q < in->n_res; q++)
		if (p->owner[q] != PLACE_NONE && in->res[q].pool == r->pool &&
		    in->res[q].elig_class == r->elig_class)
			p->gcnt[p->owner[q]]++;
	for (uint32_t t = 0; t < p->n; t++) {
		int d = delta(in, i, s, t);
		struct fix f = {2u * (uint32_t)(d + 2), t, PLACE_NONE};

		if (t == s || !place_bits_test(cl, t) || place_bits_test(&in->no_receive, t) ||
		    *scnt(p, i, t) != 0 || d > 1)
			continue;
		if (p->gcnt[t] < p->gcnt[s] && p->total[t] < p->total[s] && fix_better(&f, &best))
			best = f;
	}
	for (uint32_t q = 0; q < in->n_res; q++) {
		const struct place_res *o = &in->res[q];
		uint32_t t = p->owner[q];
		struct fix f;
		int d;

		if (t == PLACE_NONE || t == s || !may_move(p, q) || o->pool != r->pool ||
		    o->elig_class != r->elig_class || *scnt(p, i, t) != 0)
			continue;
		if (p->dense[q] && *scnt(p, q, s) != 0)
			continue;	/* it would collide on s in turn */
		/* rule 6: what runs elsewhere never moves onto a no_receive node */
		if ((runs_elsewhere(in, q) && place_bits_test(&in->no_receive, s)) ||
		    (runs_elsewhere(in, i) && place_bits_test(&in->no_receive, t)))
			continue;
		d = delta(in, i, s, t) + delta(in, q, t, s);
		if (d > 1)
			continue;
		f = (struct fix){2u * (uint32_t)(d + 2) + 1, t, q};
		if (fix_better(&f, &best))
			best = f;
	}
	return best;
}

uint32_t place_v1_spread(const struct place_in *in, uint32_t *owner, const uint8_t *cost)
{
	struct sp p = {.in = in, .owner = owner, .cost = cost, .n = in->n_nodes};
	uint32_t *vals = NULL, n_vals = 0, n_sets = 0, fixes = 0;

	for (uint32_t i = 0; i < in->n_res; i++)
		n_vals += in->res[i].set != 0;
	if (n_vals < 2 || p.n < 2)
		return 0;
	vals = malloc(n_vals * sizeof(*vals));
	p.dense = calloc(in->n_res, sizeof(*p.dense));
	if (vals == NULL || p.dense == NULL)
		goto out;
	n_vals = 0;
	for (uint32_t i = 0; i < in->n_res; i++)
		if (in->res[i].set != 0)
			vals[n_vals++] = in->res[i].set;
	qsort(vals, n_vals, sizeof(*vals), u32_cmp);
	for (uint32_t k = 0; k < n_vals; k++)
		if (n_sets == 0 || vals[n_sets - 1] != vals[k])
			vals[n_sets++] = vals[k];
	if ((size_t)n_sets * p.n > SPREAD_CELLS_MAX)
		goto out;
	p.scnt = calloc((size_t)n_sets * p.n, sizeof(*p.scnt));
	if (p.scnt == NULL)
		goto out;
	for (uint32_t i = 0; i < in->n_res; i++) {
		uint32_t s = owner[i];

		if (in->res[i].set != 0) {
			const uint32_t *hit = bsearch(&in->res[i].set, vals, n_sets, sizeof(*vals),
						      u32_cmp);

			p.dense[i] = (uint32_t)(hit - vals) + 1;
		}
		if (s == PLACE_NONE)
			continue;
		if (p.dense[i])
			(*scnt(&p, i, s))++;
		p.total[s]++;
	}
	/* the cheapest fix over every colliding resource first: fixing one
	 * side of a collision can be free where fixing the other is not */
	for (;;) {
		struct fix best = {UINT32_MAX, 0, PLACE_NONE};
		uint32_t bi = PLACE_NONE;

		for (uint32_t i = 0; i < in->n_res; i++) {
			struct fix f;

			if (!p.dense[i] || owner[i] == PLACE_NONE || !may_move(&p, i) ||
			    *scnt(&p, i, owner[i]) < 2)
				continue;
			f = best_fix(&p, i);
			if (f.score < best.score) {
				best = f;
				bi = i;
			}
		}
		if (bi == PLACE_NONE)
			break;
		if (best.partner != PLACE_NONE)
			relocate(&p, best.partner, owner[bi]);
		relocate(&p, bi, best.slot);
		fixes++;
	}
out:
	free(vals);
	free(p.dense);
	free(p.scnt);
	return fixes;
}
