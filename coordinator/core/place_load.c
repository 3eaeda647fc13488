/*
 * Rule 7 of place.h: load balance, on top of a finished count balance and
 * without undoing it.
 *
 * Counts answer "how many per node"; with load reports that is not the
 * whole question: three hot addresses on one node and idle ones everywhere
 * else are perfectly count-balanced.  A node's load is the sum of the
 * weights of what it holds, and the goal is that the heaviest node is within
 * 'load_margin_pct' of the best achievable.  Counts stay as even as they
 * were: a step is either
 *   - a move of a resource onto a node that holds one fewer of its pool and
 *     one fewer overall (the two nodes trade counts), or
 *   - a swap with a lighter resource of the same pool (two moves, counts
 *     unchanged),
 * so an explicit count rebalance afterwards has nothing to undo, and the
 * two never chase each other.
 *
 * The best achievable is bounded below by
 *     LB = max(ceil(total / nodes), heaviest movable resource,
 *              heaviest immovable load on one node)
 * over the nodes eligible for anything (the optimum is a makespan problem,
 * NP-hard; LB is exact where it matters: one dominant address, or many
 * similar ones).  Two thresholds give hysteresis: nothing moves while the
 * heaviest node is within LB * (100 + margin) / 100; once out of it, steps
 * continue until it is within LB * (100 + margin / 2) / 100.  Every step
 * leaves its two nodes better than before and lowers the excess (the load
 * above the stop target, summed over the nodes); the steps of one call
 * together must lower it by margin percent of LB, or none is made.  At most
 * 'load_budget' moves (a swap is two), never more than 64, and a resource
 * moves at most once per call.
 *
 * A step takes a movable resource off the heaviest node (lowest slot on
 * ties).  Its partner in a swap, per candidate node, is the lightest one
 * there or one of the two nearest the weight that would even the pair.  Among
 * steps that bring both nodes inside the target, the fewest connections
 * moved wins, then a move over a swap; otherwise the lowest pair maximum,
 * then the lighter target, then the fewest connections.  Remaining ties go to the lowest resource
 * index, slot and partner.  Integer arithmetic throughout.
 *
 * Cost: the movable resources are kept sorted by (pool, node, weight); a
 * step looks at the resources of the heaviest node against every node with
 * two binary searches: O(R log R + L * (R / N) * N log R) for L steps.
 */
#include "core/place_private.h"

#include <stdlib.h>
#include <string.h>

#define LOAD_STEPS_MAX 64

struct lctx {
	struct place_ctx *c;
	uint64_t load[CHORUS_MAX_NODES];
	struct place_bits active;	/* eligible for something */
	uint32_t n_active;
	uint32_t *lst;			/* movable, by (pool, node, weight, conns, index) */
	uint32_t *cell;			/* [pp * n + slot] start in 'lst', one past the end */
	uint32_t n_lst;
	uint8_t *moved;
};

static bool load_movable(const struct place_ctx *c, uint32_t i)
{
	return (c->kind[i] == PK_ORPHAN || c->kind[i] == PK_STICKY) && c->owner[i] != PLACE_NONE &&
	       !(c->in->res[i].flags & PLACE_F_NO_LOAD_MOVE);
}

static const struct lctx *sort_l;

static int lst_cmp(const void *pa, const void *pb)
{
	const struct place_ctx *c = sort_l->c;
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	const struct place_res *x = &c->in->res[a], *y = &c->in->res[b];
	size_t ca = (size_t)c->pp[a] * c->n + c->owner[a], cb = (size_t)c->pp[b] * c->n + c->owner[b];

	if (ca != cb)
		return ca < cb ? -1 : 1;
	if (x->weight != y->weight)
		return x->weight < y->weight ? -1 : 1;
	if (x->conns != y->conns)
		return x->conns < y->conns ? -1 : 1;
	return (a > b) - (a < b);
}

static void cells(struct lctx *l)
{
	const struct place_ctx *c = l->c;
	size_t nc = (size_t)c->n_pp * c->n;

	sort_l = l;
	qsort(l->lst, l->n_lst, sizeof(*l->lst), lst_cmp);
	memset(l->cell, 0, (nc + 1) * sizeof(*l->cell));
	for (uint32_t k = 0; k < l->n_lst; k++)
		l->cell[(size_t)c->pp[l->lst[k]] * c->n + c->owner[l->lst[k]] + 1]++;
	for (size_t k = 0; k < nc; k++)
		l->cell[k + 1] += l->cell[k];
}

/* Take 'i' out of the cell of (its pool, 'from') and put it, sorted, into
 * the cell of its owner now: two shifts of the array and of the cell
 * starts after each.  O(R), for a handful of steps per call. */
static void reinsert(struct lctx *l, uint32_t i, uint32_t from)
{
	const struct place_ctx *c = l->c;
	size_t nc = (size_t)c->n_pp * c->n;
	size_t src = (size_t)c->pp[i] * c->n + from, dst = (size_t)c->pp[i] * c->n + c->owner[i];
	uint32_t at = l->cell[src];

	while (l->lst[at] != i)
		at++;
	memmove(&l->lst[at], &l->lst[at + 1], (l->n_lst - 1 - at) * sizeof(*l->lst));
	for (size_t k = src + 1; k <= nc; k++)
		l->cell[k]--;
	at = l->cell[dst];
	while (at < l->cell[dst + 1] && lst_cmp(&l->lst[at], &i) < 0)
		at++;
	memmove(&l->lst[at + 1], &l->lst[at], (l->n_lst - 1 - at) * sizeof(*l->lst));
	l->lst[at] = i;
	for (size_t k = dst + 1; k <= nc; k++)
		l->cell[k]++;
}

static uint64_t lower_bound(struct lctx *l)
{
	const struct place_ctx *c = l->c;
	uint64_t total = 0, lb = 0, fixed[CHORUS_MAX_NODES] = {0};

	for (uint32_t k = 0; k < c->n_cls; k++)
		for (uint32_t w = 0; w < PLACE_WORDS; w++)
			l->active.w[w] |= c->cbits[k].w[w];
	for (uint32_t s = 0; s < c->n; s++)
		l->n_active += place_bits_test(&l->active, s);
	for (uint32_t i = 0; i < c->in->n_res; i++) {
		uint32_t s = c->owner[i], w = c->in->res[i].weight;

		if (s == PLACE_NONE)
			continue;
		l->load[s] += w;
		if (!place_bits_test(&l->active, s))
			continue;
		total += w;
		if (load_movable(c, i)) {
			if (w > lb)
				lb = w;
		} else {
			fixed[s] += w;
		}
	}
	for (uint32_t s = 0; s < c->n; s++)
		if (fixed[s] > lb)
			lb = fixed[s];
	if (l->n_active > 0 && (total + l->n_active - 1) / l->n_active > lb)
		lb = (total + l->n_active - 1) / l->n_active;
	return lb;
}

static uint32_t heaviest(const struct lctx *l)
{
	uint32_t h = PLACE_NONE;

	for (uint32_t s = 0; s < l->c->n; s++)
		if (place_bits_test(&l->active, s) && (h == PLACE_NONE || l->load[s] > l->load[h]))
			h = s;
	return h;
}

static uint64_t excess(const struct lctx *l, uint64_t target)
{
	uint64_t e = 0;

	for (uint32_t s = 0; s < l->c->n; s++)
		if (place_bits_test(&l->active, s) && l->load[s] > target)
			e += l->load[s] - target;
	return e;
}

struct stepc {
	uint32_t res, to, partner;	/* partner PLACE_NONE: a move */
	uint64_t pair_max, dst, conns;	/* dst: the target's load after */
	bool inside;
};

static bool step_better(const struct stepc *a, const struct stepc *b)
{
	if (b->res == PLACE_NONE)
		return true;
	if (a->inside != b->inside)
		return a->inside;
	if (a->inside) {
		if (a->conns != b->conns)
			return a->conns < b->conns;
		if ((a->partner == PLACE_NONE) != (b->partner == PLACE_NONE))
			return a->partner == PLACE_NONE;
		if (a->pair_max != b->pair_max)
			return a->pair_max < b->pair_max;
		if (a->dst != b->dst)
			return a->dst < b->dst;
	} else {
		if (a->pair_max != b->pair_max)
			return a->pair_max < b->pair_max;
		if (a->dst != b->dst)
			return a->dst < b->dst;
		if (a->conns != b->conns)
			return a->conns < b->conns;
		if ((a->partner == PLACE_NONE) != (b->partner == PLACE_NONE))
			return a->partner == PLACE_NONE;
	}
	if (a->res != b->res)
		return a->res < b->res;
	if (a->to != b->to)
		return a->to < b->to;
	return a->partner < b->partner;
}

/* Score moving 'w' from h to t, if it leaves the pair better and lowers
 * the excess. */
static bool judge(const struct lctx *l, uint32_t h, uint32_t t, uint64_t w, uint64_t target,
		  struct stepc *s)
{
	uint64_t src = l->load[h] - w, dst = l->load[t] + w;
	uint64_t shed = l->load[h] > target ? l->load[h] - target : 0;

	if (shed > w)
		shed = w;
	s->pair_max = src > dst ? src : dst;
	s->dst = dst;
	s->inside = src <= target && dst <= target;
	return s->pair_max < l->load[h] && shed > (dst > target ? dst - target : 0);
}

/* Can 'j' on 't' go to 'h' in exchange for 'i'? */
static bool partner_ok(const struct lctx *l, uint32_t i, uint32_t j, uint32_t h)
{
	const struct place_ctx *c = l->c;

	return !l->moved[j] && c->in->res[j].weight < c->in->res[i].weight &&
	       place_bits_test(&c->cbits[c->cls[j]], h) &&
	       !place_bits_test(&c->in->no_receive, h) && !place_ctx_set_on(c, j, h);
}

/* Swap candidates for 'i' from h on t: the lightest acceptable partner,
 * and the acceptable ones nearest above and below the weight that would
 * even the pair.  The cell is sorted by weight and a partner must be
 * lighter than 'i', so each scan stops at the first that is not. */
static void swaps(const struct lctx *l, uint32_t i, uint32_t h, uint32_t t, uint64_t target,
		  struct stepc *best)
{
	const struct place_ctx *c = l->c;
	const struct place_res *r = &c->in->res[i];
	size_t cell = (size_t)c->pp[i] * c->n + t;
	uint32_t lo = l->cell[cell], end = l->cell[cell + 1], hi = end, at;
	uint64_t want = l->load[h] > l->load[t] ? (l->load[h] - l->load[t]) / 2 : 0;
	uint64_t ideal = r->weight > want ? r->weight - want : 0;
	uint32_t picks[3] = {PLACE_NONE, PLACE_NONE, PLACE_NONE};

	for (at = lo; at < end && c->in->res[l->lst[at]].weight < r->weight; at++)
		if (partner_ok(l, i, l->lst[at], h)) {
			picks[0] = l->lst[at];
			break;
		}
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (c->in->res[l->lst[mid]].weight < ideal)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (at = lo; at < end && c->in->res[l->lst[at]].weight < r->weight; at++)
		if (partner_ok(l, i, l->lst[at], h)) {
			picks[1] = l->lst[at];
			break;
		}
	for (at = lo; at-- > l->cell[cell];)
		if (partner_ok(l, i, l->lst[at], h)) {
			picks[2] = l->lst[at];
			break;
		}
	for (uint32_t k = 0; k < 3; k++) {
		uint32_t j = picks[k];
		struct stepc s = {i, t, j, 0, 0, 0, false};

		if (j == PLACE_NONE)
			continue;
		s.conns = (uint64_t)r->conns + c->in->res[j].conns;
		if (judge(l, h, t, r->weight - c->in->res[j].weight, target, &s) &&
		    step_better(&s, best))
			*best = s;
	}
}

uint32_t place_load(struct place_ctx *c)
{
	const struct place_in *in = c->in;
	struct lctx l = {.c = c};
	uint64_t lb, band, target, min_gain, e0;
	uint32_t moves = 0, h, steps = 0, undo[LOAD_STEPS_MAX][3];
	uint32_t budget = in->load_budget < LOAD_STEPS_MAX ? in->load_budget : LOAD_STEPS_MAX;

	lb = lower_bound(&l);
	band = lb * (100 + (uint64_t)in->load_margin_pct) / 100;
	target = lb * (200 + (uint64_t)in->load_margin_pct) / 200;
	min_gain = lb * (uint64_t)in->load_margin_pct / 100;
	h = heaviest(&l);
	if (h == PLACE_NONE || l.load[h] <= band)
		return 0;
	l.lst = malloc((in->n_res + 1) * sizeof(*l.lst));
	l.cell = malloc(((size_t)c->n_pp * c->n + 1) * sizeof(*l.cell));
	l.moved = calloc(in->n_res + 1, 1);
	if (!l.lst || !l.cell || !l.moved)
		goto out;	/* no load step rather than a failed placement */
	for (uint32_t i = 0; i < in->n_res; i++)
		if (load_movable(c, i))
			l.lst[l.n_lst++] = i;
	cells(&l);
	e0 = excess(&l, target);
	while (moves < budget && h != PLACE_NONE && l.load[h] > target) {
		struct stepc best = {.res = PLACE_NONE};

		for (uint32_t p = 0; p < c->n_pp; p++) {
			size_t cell = (size_t)p * c->n + h;
			uint32_t run = UINT32_MAX, seen[8], n_seen = 0;

			for (uint32_t k = l.cell[cell]; k < l.cell[cell + 1]; k++) {
				uint32_t i = l.lst[k];
				const struct place_res *r = &in->res[i];
				const uint32_t *P = &c->P[(size_t)p * c->n];
				bool dominated = false;

				if (l.moved[i] || r->weight == 0)
					continue;
				/* the cell is sorted by (weight, connections, index):
				 * a resource of the same weight and class, without a
				 * set, seen before, makes every step this one could,
				 * and better */
				if (r->weight != run) {
					run = r->weight;
					n_seen = 0;
				}
				for (uint32_t q = 0; q < n_seen && !c->set[i]; q++)
					dominated |= seen[q] == c->cls[i];
				if (dominated)
					continue;
				if (!c->set[i] && n_seen < 8)
					seen[n_seen++] = c->cls[i];
				for (uint32_t t = 0; t < c->n; t++) {
					struct stepc s = {i, t, PLACE_NONE, 0, 0, r->conns, false};

					if (t == h || !place_bits_test(&c->cbits[c->cls[i]], t) ||
					    place_bits_test(&in->no_receive, t) ||
					    place_ctx_set_on(c, i, t))
						continue;
					if (P[t] + 1 == P[h] && c->T[t] + 1 == c->T[h] &&
					    judge(&l, h, t, r->weight, target, &s) &&
					    step_better(&s, &best))
						best = s;
					if (moves + 2 <= budget)
						swaps(&l, i, h, t, target, &best);
				}
			}
		}
		if (best.res == PLACE_NONE)
			break;
		undo[steps][0] = best.res;
		undo[steps][1] = h;
		undo[steps][2] = best.partner;
		steps++;
		l.moved[best.res] = 1;
		l.load[h] -= in->res[best.res].weight;
		l.load[best.to] += in->res[best.res].weight;
		place_ctx_relocate(c, best.res, best.to);
		reinsert(&l, best.res, h);
		moves++;
		if (best.partner != PLACE_NONE) {
			l.moved[best.partner] = 1;
			l.load[best.to] -= in->res[best.partner].weight;
			l.load[h] += in->res[best.partner].weight;
			place_ctx_relocate(c, best.partner, h);
			reinsert(&l, best.partner, best.to);
			moves++;
		}
		h = heaviest(&l);
	}
	/* A plan that gains less than the margin is not worth bouncing
	 * clients for: load noise would otherwise move addresses to and fro. */
	if (steps > 0 && e0 - excess(&l, target) < (min_gain ? min_gain : 1)) {
		while (steps-- > 0) {
			uint32_t i = undo[steps][0], j = undo[steps][2], to = c->owner[i];

			place_ctx_relocate(c, i, undo[steps][1]);
			if (j != PLACE_NONE)
				place_ctx_relocate(c, j, to);
		}
		moves = 0;
	}
out:
	free(l.lst);
	free(l.cell);
	free(l.moved);
	return moves;
}
