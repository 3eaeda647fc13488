/*
 * Load-aware balancing of placement version 1 (place_v1.h): the rebalance
 * step of place_v1_run() when resources carry weights.
 *
 * Count balancing (place_v1.c) answers "how many per node"; once plugins report
 * load that is the wrong question: three hot addresses on one node and three
 * idle ones on each of the others are perfectly count-balanced.  Here a
 * node's load is the sum of the weights of what it holds, and the goal is
 * that the heaviest node is within 'load_margin_pct' of the best achievable.
 *
 * The best achievable is bounded below by
 *     LB = max(ceil(total / nodes), heaviest movable resource,
 *              heaviest immovable load on one node)
 * over the nodes that are eligible for anything.  The true optimum is a
 * makespan problem (NP-hard); LB is what we can compute in O(R), and it is
 * exact in the cases that matter for a rebalance decision: "one dominant
 * address" (LB is that address: nothing to do) and "many similar ones"
 * (LB is the mean).
 *
 * The decision has two thresholds, which is the hysteresis:
 *   - nothing moves while the heaviest node is at or below
 *     LB * (100 + margin) / 100 (the band);
 *   - once out of the band, moves continue until the heaviest is at or
 *     below LB * (100 + margin / 2) / 100, so load noise smaller than half
 *     the margin cannot push it back out at once.
 * Every move must leave its two nodes better than before and lower the
 * excess (the load above the stop target, summed over the nodes); and the
 * moves of one call together must lower the excess by at least 'margin'
 * percent of LB, or none is made: no client is bounced for a small gain,
 * and noise that barely crosses the band moves nothing.  At most
 * 'load_budget' moves (and never more than 64) happen per call; the caller
 * calls it at a slow, replicated cadence, so a large imbalance is fixed
 * over a few intervals.
 *
 * A move takes one movable resource off the heaviest node (lowest slot on
 * ties) to the least loaded node eligible for it.  Among the candidates
 * that bring both nodes inside the target, the one with the fewest
 * connections moves (least disruptive); when none does, the one that lowers
 * the pair's maximum most, then fewest connections.  Remaining ties go to
 * the lowest resource index and slot.  Integer arithmetic throughout.
 *
 * Cost per move: O(resources on the heaviest node x nodes); O(R) to set up.
 */
#include "core/place_v1.h"

#include <stdlib.h>
#include <string.h>

bool place_v1_load_active(const struct place_in *in)
{
	for (uint32_t i = 0; i < in->n_res; i++)
		if (in->res[i].weight != 0)
			return true;
	return false;
}

struct lctx {
	const struct place_in *in;
	uint32_t *owner;
	const uint8_t *movable;
	uint64_t load[CHORUS_MAX_NODES];
	struct place_bits active; /* eligible for something */
	uint32_t n_active;
};

static uint32_t heaviest(const struct lctx *l)
{
	uint32_t h = PLACE_NONE;

	for (uint32_t s = 0; s < l->in->n_nodes; s++)
		if (place_bits_test(&l->active, s) && (h == PLACE_NONE || l->load[s] > l->load[h]))
			h = s;
	return h;
}

/* Least loaded node that may take resource 'i' away from 'h'. */
static uint32_t lightest_for(const struct lctx *l, uint32_t i, uint32_t h)
{
	const struct place_bits *cl = &l->in->classes[l->in->res[i].elig_class];
	uint32_t t = PLACE_NONE;

	for (uint32_t s = 0; s < l->in->n_nodes; s++) {
		if (s == h || !place_bits_test(cl, s) || place_bits_test(&l->in->no_receive, s))
			continue;
		if (t == PLACE_NONE || l->load[s] < l->load[t])
			t = s;
	}
	return t;
}

struct pick {
	uint32_t res, to;
	uint64_t pair_max;
	uint32_t conns;
	bool inside;
};

/* Is 'a' a better move than 'b'?  See the order in the opening comment. */
static bool pick_better(const struct pick *a, const struct pick *b)
{
	if (b->res == PLACE_NONE)
		return true;
	if (a->inside != b->inside)
		return a->inside;
	if (a->inside) {
		if (a->conns != b->conns)
			return a->conns < b->conns;
		if (a->pair_max != b->pair_max)
			return a->pair_max < b->pair_max;
	} else {
		if (a->pair_max != b->pair_max)
			return a->pair_max < b->pair_max;
		if (a->conns != b->conns)
			return a->conns < b->conns;
	}
	return a->res < b->res;
}

static uint64_t lower_bound(struct lctx *l)
{
	const struct place_in *in = l->in;
	uint64_t total = 0, lb = 0, fixed[CHORUS_MAX_NODES] = {0};

	for (uint32_t c = 0; c < in->n_classes; c++)
		for (uint32_t w = 0; w < PLACE_WORDS; w++)
			l->active.w[w] |= in->classes[c].w[w];
	for (uint32_t s = 0; s < in->n_nodes; s++)
		l->n_active += place_bits_test(&l->active, s);
	for (uint32_t i = 0; i < in->n_res; i++) {
		uint32_t s = l->owner[i];

		if (s == PLACE_NONE)
			continue;
		l->load[s] += in->res[i].weight;
		if (!place_bits_test(&l->active, s))
			continue;
		total += in->res[i].weight;
		if (l->movable[i]) {
			if (in->res[i].weight > lb)
				lb = in->res[i].weight;
		} else {
			fixed[s] += in->res[i].weight;
		}
	}
	for (uint32_t s = 0; s < in->n_nodes; s++)
		if (fixed[s] > lb)
			lb = fixed[s];
	if (l->n_active > 0 && (total + l->n_active - 1) / l->n_active > lb)
		lb = (total + l->n_active - 1) / l->n_active;
	return lb;
}

/* Load above the stop target, summed over the nodes: what a plan must
 * lower by at least the margin to be worth its moves. */
static uint64_t excess(const struct lctx *l, uint64_t target)
{
	uint64_t e = 0;

	for (uint32_t s = 0; s < l->in->n_nodes; s++)
		if (place_bits_test(&l->active, s) && l->load[s] > target)
			e += l->load[s] - target;
	return e;
}

/* A resource moves at most once per call: a second move would only undo
 * or extend the first, bouncing its clients twice. */
static bool moved_already(uint32_t (*undo)[2], uint32_t n, uint32_t i)
{
	for (uint32_t k = 0; k < n; k++)
		if (undo[k][0] == i)
			return true;
	return false;
}

uint32_t place_v1_load_balance(const struct place_in *in, uint32_t *owner, const uint8_t *movable)
{
	struct lctx l = {.in = in, .owner = owner, .movable = movable};
	uint64_t lb = lower_bound(&l);
	uint64_t band = lb * (100 + (uint64_t)in->load_margin_pct) / 100;
	uint64_t target = lb * (200 + (uint64_t)in->load_margin_pct) / 200;
	uint64_t min_gain = lb * (uint64_t)in->load_margin_pct / 100, e0;
	uint32_t moves = 0, h = heaviest(&l), undo[64][2];

	if (h == PLACE_NONE || l.load[h] <= band)
		return 0;
	e0 = excess(&l, target);
	while (moves < in->load_budget && moves < 64 && h != PLACE_NONE && l.load[h] > target) {
		struct pick best = {.res = PLACE_NONE};

		for (uint32_t i = 0; i < in->n_res; i++) {
			uint64_t w = in->res[i].weight, src, dst;
			struct pick p;

			if (owner[i] != h || !movable[i] || w == 0 || moved_already(undo, moves, i))
				continue;
			p.to = lightest_for(&l, i, h);
			if (p.to == PLACE_NONE)
				continue;
			src = l.load[h] - w;
			dst = l.load[p.to] + w;
			p.res = i;
			p.pair_max = src > dst ? src : dst;
			p.conns = in->res[i].conns;
			p.inside = src <= target && dst <= target;
			/* the pair must end better than it started, and the
			 * excess must go down: what h sheds above the target is
			 * more than what t gains above it */
			if (p.pair_max >= l.load[h] ||
			    (l.load[h] > target ? (l.load[h] - target < w ? l.load[h] - target : w) : 0) <=
				    (dst > target ? dst - target : 0))
				continue;
			if (pick_better(&p, &best))
				best = p;
		}
		if (best.res == PLACE_NONE)
			break;
		undo[moves][0] = best.res;
		undo[moves][1] = h;
		l.load[h] -= in->res[best.res].weight;
		l.load[best.to] += in->res[best.res].weight;
		owner[best.res] = best.to;
		moves++;
		h = heaviest(&l);
	}
	/* A plan that gains less than the margin is not worth bouncing
	 * clients for: load noise would otherwise move addresses to and fro. */
	if (moves > 0 && e0 - excess(&l, target) < (min_gain ? min_gain : 1)) {
		while (moves > 0) {
			moves--;
			owner[undo[moves][0]] = undo[moves][1];
		}
	}
	return moves;
}
