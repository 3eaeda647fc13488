/*
 * Count balance (place.h rules 1-6): how many resources of each group go on
 * each node, for the exact minimum of
 *   1. per pool, the sum over nodes of the pool's count squared,
 *   2. the sum over nodes of the overall count squared,
 *   3. the moves,
 * compared in that order.
 *
 * The model is a flow.  Each group (movable resources of one pool and one
 * eligibility class) supplies its resources twice over: its orphans, which
 * may go to any node of the class, and its STICKY ones, which stay at home
 * for free, cost one move anywhere else and may not land on a no_receive
 * node except at home.  They flow group -> (pool, node) -> node -> sink,
 * where (pool, node) -> node carries the pool's count there at a cost of
 * count^2 in the first tier and node -> sink the overall count at count^2 in
 * the second.  Costs are separable and convex, so an assignment is optimal
 * exactly when the residual graph has no cycle of negative cost (tiers
 * compared lexicographically, as integers).  No budget, no approximation.
 *
 * The search runs on a smaller graph with the groups folded away: vertex
 * (pool, a) has an arc to (pool, b) when some group of the pool has a
 * resource on a that may go to b, at the cost in moves of the cheapest such
 * group (-1: one returns home, +1: one leaves home).  A cycle through a
 * group always enters it from one (pool, node) and leaves to another, so the
 * cycles of the two graphs are the same.  What the arcs of (pool, a) reach
 * is kept as four bitmaps per vertex, rebuilt per pool after it changed.
 *
 * It starts from the greedy assignment of place_start.c (the optimum, or a
 * few cycles from it, in the common cases), then cancels negative cycles
 * until there are none: Bellman-Ford with a queue, every vertex at
 * distance 0 to begin with; each improving arc also walks a few steps up
 * the predecessor chain, which closes the short cycles at once, and every
 * V relaxations the whole predecessor graph is checked (a cycle in it is
 * negative).  As many units as still lower the cost are pushed round a
 * cycle found.  The search then carries on where it stopped instead of
 * starting over: labels stay valid for every arc whose cost did not change,
 * and the tails of those that did are queued again.  It ends when the
 * queue runs empty: every arc satisfies the labels, which is the proof that
 * no negative cycle is left.  Every push lowers a lexicographic cost over a
 * finite set, so it ends.
 *
 * Size: (pools with movable resources) x N vertices, plus N and the sink;
 * a resource count only matters through the groups, whatever the number of
 * resources.  Work: the greedy start in O(R + G N) for G groups, and per
 * cycle the relabelling it causes, which is local in practice.
 */
#include "core/place_flow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The three tiers of a cost. */
static struct c3 c3_add(struct c3 x, struct c3 y)
{
	return (struct c3){x.a + y.a, x.b + y.b, x.c + y.c};
}

static bool c3_neg(struct c3 x)
{
	return x.a != 0 ? x.a < 0 : x.b != 0 ? x.b < 0 : x.c < 0;
}

static bool c3_less(struct c3 x, struct c3 y)
{
	return c3_neg((struct c3){x.a - y.a, x.b - y.b, x.c - y.c});
}


static uint32_t v_node(uint32_t s) { return 1 + s; }

static uint32_t v_pool(const struct flow *f, uint32_t pa, uint32_t s) { return 1 + f->n + pa * f->n + s; }

static void bits_clear(struct place_bits *b, uint32_t i)
{
	b->w[i / 64] &= ~((uint64_t)1 << (i % 64));
}

static void bits_put(struct place_bits *b, uint32_t i, bool on)
{
	if (on)
		place_bits_set(b, i);
	else
		bits_clear(b, i);
}

/* ---- state ---- */

static void group_bits(struct flow *f, uint32_t gi, uint32_t s)
{
	struct cgroup *g = &f->g[gi];
	const struct place_cell *x = place_rows_find(f->x, gi, s);
	uint32_t xo = x ? x->xo : 0, xs = x ? x->xs : 0, cur = x ? x->cur : 0;

	bits_put(&g->occ_o, s, xo > 0);
	bits_put(&g->occ_s, s, xs > 0);
	bits_put(&g->over, s, xs > cur);
	bits_put(&g->deficit, s, xs < cur);
}

static void enqueue(struct flow *f, uint32_t v);

/* One resource of group 'gi' (an orphan, or a STICKY one) more (+1) or
 * less (-1) on 's'.  The arcs of the sink, of the node and of (pool, node)
 * change cost: their tails go back in the search's queue; the pool's arcs
 * between its nodes are redone (and queued where they changed) before the
 * search goes on. */
void place_count_put(struct flow *f, uint32_t gi, bool sticky, uint32_t s, int delta)
{
	struct place_ctx *c = f->c;
	uint32_t pp = f->g[gi].pp;

	if (sticky)
		place_rows_get(f->x, gi, s)->xs += (uint32_t)delta;
	else
		place_rows_get(f->x, gi, s)->xo += (uint32_t)delta;
	c->P[(size_t)pp * f->n + s] += (uint32_t)delta;
	c->T[s] += (uint32_t)delta;
	group_bits(f, gi, s);
	f->dirty[f->g[gi].pa] = 1;
	enqueue(f, 0);
	enqueue(f, v_node(s));
	enqueue(f, v_pool(f, f->g[gi].pa, s));
}

/* The arcs of every (pool, a) of active pool 'pa', from its groups; the
 * vertices whose arcs changed are queued. */
static void rebuild(struct flow *f, uint32_t pa)
{
	struct place_bits *arc = &f->arc[(size_t)pa * f->n * ARC_KINDS];
	struct place_bits *old = f->old_arc;

	uint32_t *at = &f->ol_at[(size_t)pa * (f->n + 1)];

	memcpy(old, arc, (size_t)f->n * ARC_KINDS * sizeof(*arc));
	memset(arc, 0, (size_t)f->n * ARC_KINDS * sizeof(*arc));
	/* the groups present on each node, bucketed by node */
	memset(at, 0, (f->n + 1) * sizeof(*at));
	for (uint32_t gi = f->pa_g0[pa]; gi < f->pa_g0[pa + 1]; gi++)
		for (uint32_t w = 0; w < PLACE_WORDS; w++) {
			uint64_t o = f->g[gi].occ_o.w[w] | f->g[gi].occ_s.w[w];

			while (o) {
				at[w * 64 + (uint32_t)__builtin_ctzll(o) + 1]++;
				o &= o - 1;
			}
		}
	at[0] = f->ol_base[pa];
	for (uint32_t a = 0; a < f->n; a++)
		at[a + 1] += at[a];
	for (uint32_t gi = f->pa_g0[pa]; gi < f->pa_g0[pa + 1]; gi++)
		for (uint32_t w = 0; w < PLACE_WORDS; w++) {
			uint64_t o = f->g[gi].occ_o.w[w] | f->g[gi].occ_s.w[w];

			while (o) {
				uint32_t a = w * 64 + (uint32_t)__builtin_ctzll(o);

				f->ol[at[a]++] = gi;
				o &= o - 1;
			}
		}
	/* the fill moved each start to the next one's: shift back */
	for (uint32_t a = f->n; a > 0; a--)
		at[a] = at[a - 1];
	at[0] = f->ol_base[pa];
	for (uint32_t gi = f->pa_g0[pa]; gi < f->pa_g0[pa + 1]; gi++) {
		const struct cgroup *g = &f->g[gi];
		const struct place_bits *cl = &f->c->cbits[g->cls];
		struct place_bits add;

		for (uint32_t w = 0; w < PLACE_WORDS; w++)
			add.w[w] = cl->w[w] & ~(f->nr->w[w] & ~g->deficit.w[w]);
		for (uint32_t w = 0; w < PLACE_WORDS; w++) {
			uint64_t o = g->occ_o.w[w], s = g->occ_s.w[w];

			while (o) {
				uint32_t a = w * 64 + (uint32_t)__builtin_ctzll(o);
				struct place_bits *x = &arc[(size_t)a * ARC_KINDS];

				o &= o - 1;
				for (uint32_t v = 0; v < PLACE_WORDS; v++)
					x[ARC_00].w[v] |= cl->w[v];
			}
			while (s) {
				uint32_t a = w * 64 + (uint32_t)__builtin_ctzll(s);
				struct place_bits *x = &arc[(size_t)a * ARC_KINDS];
				bool leaves_home = !place_bits_test(&g->over, a);

				s &= s - 1;
				for (uint32_t v = 0; v < PLACE_WORDS; v++) {
					x[leaves_home ? ARC_10 : ARC_00].w[v] |= add.w[v];
					x[leaves_home ? ARC_1M : ARC_0M].w[v] |= g->deficit.w[v];
				}
			}
		}
	}
	for (uint32_t a = 0; a < f->n; a++) {
		for (int k = 0; k < ARC_KINDS; k++)
			bits_clear(&arc[(size_t)a * ARC_KINDS + k], a);
		if (memcmp(&arc[(size_t)a * ARC_KINDS], &old[(size_t)a * ARC_KINDS],
			   ARC_KINDS * sizeof(*arc)) != 0)
			enqueue(f, v_pool(f, pa, a));
	}
	f->dirty[pa] = 0;
}

/* Moves added by taking a resource of 'gi' off 'a' to 'b': -1, 0 or 1,
 * or 2 when it cannot go (not from that supply). */
static int group_cost(const struct flow *f, uint32_t gi, bool sticky, uint32_t a, uint32_t b)
{
	const struct cgroup *g = &f->g[gi];

	if (!place_bits_test(&f->c->cbits[g->cls], b))
		return 2;
	if (!sticky)
		return place_bits_test(&g->occ_o, a) ? 0 : 2;
	if (!place_bits_test(&g->occ_s, a) || !place_flow_sticky_may_add(f, gi, b))
		return 2;
	return !place_bits_test(&g->over, a) - place_bits_test(&g->deficit, b);
}

/* The cheapest group (and supply) realising arc (pa, a) -> (pa, b):
 * lowest cost, then orphans, then the lowest group.  Returns its cost, 2
 * when there is none. */
static int best_group(const struct flow *f, uint32_t pa, uint32_t a, uint32_t b, uint32_t *gi,
		      bool *sticky)
{
	const uint32_t *at = &f->ol_at[(size_t)pa * (f->n + 1)];
	int best = 2;

	/* the groups on 'a' when the pool was last rebuilt, in group order:
	 * after a push the list may be out of date, which can only hide a
	 * group (group_cost() checks what is there now), so a cycle stops
	 * early at worst; the next search rebuilds it */
	for (uint32_t j = at[a]; j < at[a + 1] && best > -1; j++) {
		uint32_t k = f->ol[j];

		for (int s = 0; s < 2; s++) {
			int cst = group_cost(f, k, s, a, b);

			if (cst < best) {
				best = cst;
				*gi = k;
				*sticky = s;
			}
		}
	}
	return best;
}


/* ---- cycle cancelling ---- */

/* A vertex on a cycle of the predecessor graph, or UINT32_MAX. */
static uint32_t pred_cycle(struct flow *f)
{
	memset(f->mark, 0, f->nv);
	for (uint32_t s = 0; s < f->nv; s++) {
		uint32_t v = s;

		while (v != UINT32_MAX && f->mark[v] == 0) {
			f->mark[v] = 1;
			v = f->par[v];
		}
		if (v != UINT32_MAX && f->mark[v] == 1)
			return v;
		for (v = s; v != UINT32_MAX && f->mark[v] == 1; v = f->par[v])
			f->mark[v] = 2;
	}
	return UINT32_MAX;
}

static void enqueue(struct flow *f, uint32_t v)
{
	if (f->inq[v])
		return;
	f->inq[v] = 1;
	f->queue[f->qt] = v;
	f->qt = (f->qt + 1) % (f->nv + 1);
}

/* Most negative cycles are short: a walk of this many steps up from the
 * tail of each improving arc finds them the moment they close; the rest
 * are found by the full check every V relaxations. */
#define WALK 24

/* Relax u -> v.  Returns true when it is time to look for a cycle: 'v'
 * closed one (*hit = v), or V relaxations went by. */
static bool relax(struct flow *f, uint32_t u, uint32_t v, struct c3 w, uint32_t *hit)
{
	struct c3 nd = c3_add(f->d[u], w);
	uint32_t x = u;

	if (!c3_less(nd, f->d[v]))
		return false;
	f->d[v] = nd;
	f->par[v] = u;
	enqueue(f, v);
	for (int k = 0; k < WALK && x != UINT32_MAX; k++, x = f->par[x])
		if (x == v) {
			*hit = v;
			return true;
		}
	return ++f->nrel % f->nv == 0;
}

/* Bellman-Ford with a queue.  Returns a vertex on a negative cycle, or
 * UINT32_MAX when the queue ran empty: then every arc satisfies the labels,
 * which is the proof that no negative cycle is left.  It carries on where
 * it stopped: the labels stay valid for every arc whose cost did not
 * change, and put() and rebuild() queue the tails of those that did. */
static uint32_t find_cycle(struct flow *f)
{
	struct place_ctx *c = f->c;
	uint32_t n = f->n;

	for (uint32_t pa = 0; pa < f->npa; pa++)
		if (f->dirty[pa])
			rebuild(f, pa);
	while (f->qh != f->qt) {
		uint32_t u = f->queue[f->qh], hit = UINT32_MAX;
		bool check = false;

		f->qh = (f->qh + 1) % (f->nv + 1);
		f->inq[u] = 0;
		if (u == 0) {
			for (uint32_t s = 0; s < n; s++)
				if (c->T[s] > f->T0[s])
					check |= relax(f, u, v_node(s),
						       (struct c3){0, -(int64_t)(2 * c->T[s] - 1), 0}, &hit);
		} else if (u <= n) {
			uint32_t s = u - 1;

			check |= relax(f, u, 0, (struct c3){0, 2 * (int64_t)c->T[s] + 1, 0}, &hit);
			for (uint32_t pa = 0; pa < f->npa; pa++) {
				size_t k = (size_t)f->pa_pp[pa] * n + s;

				if (c->P[k] > f->P0[k])
					check |= relax(f, u, v_pool(f, pa, s),
						       (struct c3){-(int64_t)(2 * c->P[k] - 1), 0, 0}, &hit);
			}
		} else {
			uint32_t pa = (u - 1 - n) / n, a = (u - 1 - n) % n;
			const struct place_bits *x = &f->arc[((size_t)pa * n + a) * ARC_KINDS];
			size_t k = (size_t)f->pa_pp[pa] * n + a;

			check |= relax(f, u, v_node(a), (struct c3){2 * (int64_t)c->P[k] + 1, 0, 0}, &hit);
			for (uint32_t w = 0; w < PLACE_WORDS; w++) {
				uint64_t all = x[ARC_00].w[w] | x[ARC_0M].w[w] | x[ARC_10].w[w] |
					       x[ARC_1M].w[w];

				while (all) {
					uint32_t b = w * 64 + (uint32_t)__builtin_ctzll(all);
					int64_t cost = place_bits_test(&x[ARC_0M], b) ? -1
						       : place_bits_test(&x[ARC_00], b) ||
								 place_bits_test(&x[ARC_1M], b) ? 0 : 1;

					all &= all - 1;
					check |= relax(f, u, v_pool(f, pa, b), (struct c3){0, 0, cost}, &hit);
				}
			}
		}
		if (hit != UINT32_MAX)
			return hit;
		if (check) {
			uint32_t v = pred_cycle(f);

			if (v != UINT32_MAX)
				return v;
		}
	}
	return UINT32_MAX;
}

struct step {
	uint32_t gi;
	bool sticky;
};

/* The cost of one unit round cycle 'cyc' (len vertices, in arc order) now;
 * 'st' receives the group of each (pool, a) -> (pool, b) arc.  False when
 * an arc is gone. */
static bool cycle_cost(const struct flow *f, const uint32_t *cyc, uint32_t len, struct step *st,
		       struct c3 *sum)
{
	const struct place_ctx *c = f->c;
	uint32_t n = f->n;

	*sum = (struct c3){0, 0, 0};
	for (uint32_t k = 0; k < len; k++) {
		uint32_t u = cyc[k], v = cyc[(k + 1) % len];

		if (u == 0) {
			uint32_t s = v - 1;

			if (c->T[s] <= f->T0[s])
				return false;
			sum->b -= 2 * (int64_t)c->T[s] - 1;
		} else if (u <= n && v == 0) {
			sum->b += 2 * (int64_t)c->T[u - 1] + 1;
		} else if (u <= n) {
			uint32_t pa = (v - 1 - n) / n;
			size_t kk = (size_t)f->pa_pp[pa] * n + (u - 1);

			if (c->P[kk] <= f->P0[kk])
				return false;
			sum->a -= 2 * (int64_t)c->P[kk] - 1;
		} else if (v <= n) {
			uint32_t pa = (u - 1 - n) / n;

			sum->a += 2 * (int64_t)c->P[(size_t)f->pa_pp[pa] * n + (v - 1)] + 1;
		} else {
			uint32_t pa = (u - 1 - n) / n, a = (u - 1 - n) % n, b = (v - 1 - n) % n;
			int cst = best_group(f, pa, a, b, &st[k].gi, &st[k].sticky);

			if (cst > 1)
				return false;
			sum->c += cst;
		}
	}
	return true;
}

/* Push units round the cycle through 'v' while that lowers the cost.
 * Returns how many units.
 * A cycle of the predecessor graph formed before an earlier push may not
 * be negative any more: then nothing moves, and it is only unlinked. */
static uint32_t cancel(struct flow *f, uint32_t v, struct step *st)
{
	uint32_t len = 0, pushed = 0, n = f->n, x = v;
	struct c3 sum;

	/* the predecessor walk gives the cycle backwards */
	do {
		f->cyc[len++] = x;
		x = f->par[x];
	} while (x != v);
	for (uint32_t i = 0; i < len / 2; i++) {
		uint32_t t = f->cyc[i];

		f->cyc[i] = f->cyc[len - 1 - i];
		f->cyc[len - 1 - i] = t;
	}
	while (cycle_cost(f, f->cyc, len, st, &sum) && c3_neg(sum)) {
		for (uint32_t k = 0; k < len; k++) {
			uint32_t u = f->cyc[k], w = f->cyc[(k + 1) % len];

			if (u <= n || w <= n)
				continue;
			place_count_put(f, st[k].gi, st[k].sticky, (u - 1 - n) % n, -1);
			place_count_put(f, st[k].gi, st[k].sticky, (w - 1 - n) % n, +1);
		}
		pushed++;
	}
	for (uint32_t k = 0; k < len; k++)
		f->par[f->cyc[k]] = UINT32_MAX;
	return pushed;
}

/* ---- setup ---- */

static int flow_init(struct flow *f, struct place_ctx *c)
{
	uint32_t n = c->n;

	f->c = c;
	f->nr = &c->in->no_receive;
	f->n = n;
	f->ng = c->n_groups;
	f->g = calloc(f->ng + 1, sizeof(*f->g));
	f->P0 = calloc((size_t)c->n_pp * n + 1, sizeof(*f->P0));
	f->pa_of_pp = malloc((c->n_pp + 1) * sizeof(*f->pa_of_pp));
	f->pa_pp = malloc((c->n_pp + 1) * sizeof(*f->pa_pp));
	f->pa_g0 = malloc((c->n_pp + 2) * sizeof(*f->pa_g0));
	if (!f->g || !f->P0 || !f->pa_of_pp || !f->pa_pp || !f->pa_g0)
		return -ENOMEM;

	/* everything that does not move, and the homes of what may */
	for (uint32_t i = 0; i < c->in->n_res; i++) {
		uint32_t o = c->owner[i];

		if (o == PLACE_NONE || place_ctx_movable(c, i))
			continue;
		f->P0[(size_t)c->pp[i] * n + o]++;
		f->T0[o]++;
	}
	memset(f->pa_of_pp, 0xff, (c->n_pp + 1) * sizeof(*f->pa_of_pp));
	for (uint32_t gi = 0; gi < f->ng; gi++) {
		const struct place_group *pg = &c->groups[gi];
		struct cgroup *g = &f->g[gi];

		if (f->pa_of_pp[pg->pp] == UINT32_MAX) {
			f->pa_of_pp[pg->pp] = f->npa;
			f->pa_pp[f->npa] = pg->pp;
			f->pa_g0[f->npa++] = gi;
		}
		g->pp = pg->pp;
		g->pa = f->pa_of_pp[pg->pp];
		g->cls = pg->cls;
		g->width = place_flow_popcount(&c->cbits[pg->cls]);
		for (uint32_t k = pg->first; k < pg->first + pg->len; k++) {
			uint32_t i = c->ord[k];

			if (c->kind[i] == PK_ORPHAN)
				g->n_orph++;
			else
				place_rows_get(f->x, gi, c->in->res[i].prev)->cur++;
		}
	}
	f->pa_g0[f->npa] = f->ng;
	f->nv = 1 + n + f->npa * n;
	f->uni = calloc(f->npa + 1, sizeof(*f->uni));
	f->arc = calloc((size_t)f->npa * n * ARC_KINDS + 1, sizeof(*f->arc));
	f->old_arc = calloc((size_t)n * ARC_KINDS + 1, sizeof(*f->old_arc));
	f->ol_at = calloc((size_t)f->npa * (n + 1) + 1, sizeof(*f->ol_at));
	f->ol_base = calloc(f->npa + 1, sizeof(*f->ol_base));
	/* a group is on at most as many nodes as it has resources, or n */
	{
		size_t total = 0;

		for (uint32_t pa = 0; f->ol_base && pa < f->npa; pa++) {
			f->ol_base[pa] = (uint32_t)total;
			for (uint32_t gi = f->pa_g0[pa]; gi < f->pa_g0[pa + 1]; gi++) {
				uint32_t len = c->groups[gi].len;

				total += len < n ? len : n;
			}
		}
		f->ol = malloc((total + 1) * sizeof(*f->ol));
	}
	f->dirty = calloc(f->npa + 1, 1);
	f->d = calloc(f->nv, sizeof(*f->d));
	f->par = malloc(f->nv * sizeof(*f->par));
	f->queue = malloc((f->nv + 1) * sizeof(*f->queue));
	f->cyc = malloc(f->nv * sizeof(*f->cyc));
	f->inq = calloc(f->nv, 1);
	f->mark = malloc(f->nv);
	if (!f->uni || !f->arc || !f->old_arc || !f->ol_at || !f->ol_base || !f->ol || !f->dirty || !f->d || !f->par || !f->queue || !f->cyc ||
	    !f->inq || !f->mark)
		return -ENOMEM;
	for (uint32_t gi = 0; gi < f->ng; gi++)
		for (uint32_t w = 0; w < PLACE_WORDS; w++)
			f->uni[f->g[gi].pa].w[w] |= c->cbits[f->g[gi].cls].w[w];
	/* P and T start at the immovables, then the STICKY ones go home */
	memcpy(c->P, f->P0, (size_t)c->n_pp * n * sizeof(*c->P));
	memcpy(c->T, f->T0, sizeof(c->T));
	for (uint32_t gi = 0; gi < f->ng; gi++) {
		const struct place_group *pg = &c->groups[gi];

		for (uint32_t k = pg->first; k < pg->first + pg->len; k++)
			if (c->kind[c->ord[k]] == PK_STICKY)
				place_count_put(f, gi, true, c->in->res[c->ord[k]].prev, +1);
	}
	return 0;
}

static void flow_free(struct flow *f)
{
	free(f->g);
	free(f->P0);
	free(f->pa_of_pp);
	free(f->pa_pp);
	free(f->pa_g0);
	free(f->uni);
	free(f->arc);
	free(f->old_arc);
	free(f->ol);
	free(f->ol_at);
	free(f->ol_base);
	free(f->dirty);
	free(f->d);
	free(f->par);
	free(f->queue);
	free(f->cyc);
	free(f->inq);
	free(f->mark);
}

long place_count(struct place_ctx *c, struct place_rows *rows)
{
	struct flow f = {0};
	struct step *st = NULL;
	long cycles = 0;
	int rc;

	f.x = rows;
	rc = flow_init(&f, c);
	if (rc == 0 && c->in->rebalance)
		place_start_release(&f);
	if (rc == 0)
		rc = place_start_greedy(&f);
	st = rc == 0 ? malloc(f.nv * sizeof(*st)) : NULL;
	if (rc == 0 && st == NULL)
		rc = -ENOMEM;
	/* every vertex starts at 0, queued */
	for (uint32_t v = 0; rc == 0 && v < f.nv; v++) {
		f.par[v] = UINT32_MAX;
		enqueue(&f, v);
	}
	while (rc == 0) {
		uint32_t v = find_cycle(&f);

		if (v == UINT32_MAX)
			break;
		if (cancel(&f, v, st) > 0)
			cycles++;
	}
	free(st);
	flow_free(&f);
	return rc < 0 ? rc : cycles;
}
