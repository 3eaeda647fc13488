/*
 * The greedy start of the count balance (place_count.c): an assignment that
 * is the optimum, or a few cycles from it, in the common cases, so that the
 * exact search has little left to do.
 *
 * With a rebalance, STICKY resources start at home except what the nodes
 * under a water level will need (release): per pool, as many as the nodes
 * under the pool's level lack, less its orphans, taken from the nodes
 * holding the most of it; then overall, as many as the nodes under the
 * overall level still lack, taken from the nodes holding the most, of a
 * pool the receiving node holds fewer of.  Then what is free (let go, or an
 * orphan) is dealt group by group, the most constrained class first, each
 * to the node with the fewest of its pool, then the fewest overall, then
 * its home, then the lowest slot (greedy).  Too much let go costs only
 * time (it goes back home on the tie), too little one cycle each.
 */
#include "core/place_flow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The highest level L with sum over 'on' of max(L, lo[s]) <= total. */
static uint32_t water(const struct flow *f, const struct place_bits *on, const uint32_t *lo,
		      uint64_t total)
{
	uint64_t a = 0, b = total;

	while (a < b) {
		uint64_t mid = a + (b - a + 1) / 2, fill = 0;

		for (uint32_t s = 0; s < f->n; s++)
			if (place_bits_test(on, s))
				fill += mid > lo[s] ? mid : lo[s];
		if (fill <= total)
			a = mid;
		else
			b = mid - 1;
	}
	return (uint32_t)a;
}

/* A group of pool 'pa' with a STICKY resource on 's' whose class reaches
 * 'to': the one reaching most of it, then the least constrained, or
 * UINT32_MAX. */
static uint32_t releasable(const struct flow *f, uint32_t pa, uint32_t s, const struct place_bits *to)
{
	uint32_t pick = UINT32_MAX, best = 0, bw = 0;

	for (uint32_t gi = f->pa_g0[pa]; gi < f->pa_g0[pa + 1]; gi++) {
		uint32_t reach = 0;

		const struct place_cell *x = place_rows_find(f->x, gi, s);

		if (x == NULL || x->xs == 0)
			continue;
		for (uint32_t w = 0; w < PLACE_WORDS; w++)
			reach += (uint32_t)__builtin_popcountll(f->c->cbits[f->g[gi].cls].w[w] & to->w[w]);
		if (reach > best || (reach == best && reach > 0 && f->g[gi].width > bw)) {
			pick = gi;
			best = reach;
			bw = f->g[gi].width;
		}
	}
	return pick;
}

/*
 * With a rebalance, let go of what the nodes under the water level will
 * need, before the greedy pass deals it out: per pool, as many as the
 * nodes under the pool's level lack (less its orphans), from the nodes
 * holding the most of it; then overall, as many as the nodes under the
 * overall level still lack, from the nodes holding the most, of a pool the
 * receiving node holds fewer of (so the per-pool balance does not suffer).
 * A resource let go that belongs where it was goes back there (the greedy
 * pass prefers home on a tie), so too much costs only time, too little a
 * cycle each.
 */
void place_start_release(struct flow *f)
{
	struct place_ctx *c = f->c;
	struct place_bits all = {{0}}, under;
	uint64_t total = 0, free_units = 0;
	uint32_t level, n = f->n, *sent = calloc(f->npa + 1, sizeof(*sent));
	uint8_t done[CHORUS_MAX_NODES] = {0};
	uint32_t gave[CHORUS_MAX_NODES];
	int64_t need;

	if (sent == NULL)
		return;	/* the cycles will do it all */

	for (uint32_t pa = 0; pa < f->npa; pa++) {
		const uint32_t *P = &c->P[(size_t)f->pa_pp[pa] * n];
		const uint32_t *P0 = &f->P0[(size_t)f->pa_pp[pa] * n];
		uint64_t sum = 0;

		for (uint32_t s = 0; s < n; s++)
			if (place_bits_test(&f->uni[pa], s))
				sum += P[s];
		need = 0;
		for (uint32_t gi = f->pa_g0[pa]; gi < f->pa_g0[pa + 1]; gi++) {
			sum += f->g[gi].n_orph;
			need -= f->g[gi].n_orph;
		}
		level = water(f, &f->uni[pa], P0, sum);
		memset(done, 0, sizeof(done));
		memset(&under, 0, sizeof(under));
		for (uint32_t s = 0; s < n; s++)
			if (place_bits_test(&f->uni[pa], s) && P[s] < level) {
				place_bits_set(&under, s);
				need += level - P[s];
			}
		memset(gave, 0, sizeof(gave));
		while (need > 0) {
			uint32_t s = PLACE_NONE, gi;

			/* the fullest, and among those one that gave least */
			for (uint32_t t = 0; t < n; t++)
				if (!done[t] && place_bits_test(&f->uni[pa], t) && P[t] > level &&
				    P[t] > P0[t] &&
				    (s == PLACE_NONE || P[t] > P[s] || (P[t] == P[s] && gave[t] < gave[s])))
					s = t;
			if (s == PLACE_NONE)
				break;
			gi = releasable(f, pa, s, &under);
			if (gi == UINT32_MAX) {
				done[s] = 1;
				continue;
			}
			place_count_put(f, gi, true, s, -1);
			f->g[gi].n_free++;
			sent[pa]++;
			gave[s]++;
			need--;
		}
	}

	/* overall: the nodes of any class, the free resources counted in */
	for (uint32_t gi = 0; gi < f->ng; gi++)
		free_units += f->g[gi].n_orph + f->g[gi].n_free;
	for (uint32_t pa = 0; pa < f->npa; pa++)
		for (uint32_t w = 0; w < PLACE_WORDS; w++)
			all.w[w] |= f->uni[pa].w[w];
	for (uint32_t s = 0; s < n; s++)
		if (place_bits_test(&all, s))
			total += c->T[s];
	level = water(f, &all, f->T0, total + free_units);
	memset(done, 0, sizeof(done));
	memset(gave, 0, sizeof(gave));
	memset(&under, 0, sizeof(under));
	need = -(int64_t)free_units;
	for (uint32_t s = 0; s < n; s++)
		if (place_bits_test(&all, s) && c->T[s] < level) {
			place_bits_set(&under, s);
			need += level - c->T[s];
		}
	while (need > 0) {
		uint32_t s = PLACE_NONE, gi = UINT32_MAX, bp = 0;
		int64_t gain = 0;
		struct place_bits to;

		for (uint32_t t = 0; t < n; t++)
			if (place_bits_test(&all, t) && c->T[t] > level && !done[t] &&
			    (s == PLACE_NONE || c->T[t] > c->T[s] ||
			     (c->T[t] == c->T[s] && gave[t] < gave[s])))
				s = t;
		if (s == PLACE_NONE)
			break;
		/* the pool whose count on s most exceeds its count on a node
		 * under the level, with a resource on s that may go there */
		for (uint32_t pa = 0; pa < f->npa; pa++) {
			const uint32_t *P = &c->P[(size_t)f->pa_pp[pa] * n];
			uint32_t low = UINT32_MAX, g;

			if (P[s] <= f->P0[(size_t)f->pa_pp[pa] * n + s])
				continue;
			memset(&to, 0, sizeof(to));
			for (uint32_t t = 0; t < n; t++)
				if (place_bits_test(&under, t) && place_bits_test(&f->uni[pa], t) &&
				    P[t] < P[s]) {
					place_bits_set(&to, t);
					if (P[t] < low)
						low = P[t];
				}
			/* as if what this pool already let go had landed there */
			if (low == UINT32_MAX || (int64_t)P[s] - low - sent[pa] <= gain)
				continue;
			g = releasable(f, pa, s, &to);
			if (g != UINT32_MAX) {
				gain = (int64_t)P[s] - low - sent[pa];
				gi = g;
				bp = pa;
			}
		}
		if (gi == UINT32_MAX) {
			done[s] = 1;
			continue;
		}
		place_count_put(f, gi, true, s, -1);
		f->g[gi].n_free++;
		sent[bp]++;
		gave[s]++;
		need--;
	}
	free(sent);
}

struct hkey {
	const struct flow *f;
	uint32_t gi;
	bool sticky;
};

/* Greedy order: fewest of the pool, fewest overall, home, lowest slot. */
static bool h_less(const struct hkey *h, uint32_t x, uint32_t y)
{
	const struct flow *f = h->f;
	const uint32_t *P = &f->c->P[(size_t)f->g[h->gi].pp * f->n];
	bool hx, hy;

	if (P[x] != P[y])
		return P[x] < P[y];
	if (f->c->T[x] != f->c->T[y])
		return f->c->T[x] < f->c->T[y];
	hx = h->sticky && place_bits_test(&f->g[h->gi].deficit, x);
	hy = h->sticky && place_bits_test(&f->g[h->gi].deficit, y);
	if (hx != hy)
		return hx;
	return x < y;
}

static void h_down(const struct hkey *h, uint32_t *heap, uint32_t len, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, m = i, t;

		if (l < len && h_less(h, heap[l], heap[m]))
			m = l;
		if (l + 1 < len && h_less(h, heap[l + 1], heap[m]))
			m = l + 1;
		if (m == i)
			return;
		t = heap[i];
		heap[i] = heap[m];
		heap[m] = t;
		i = m;
	}
}

static void fill(struct flow *f, uint32_t gi, bool sticky, uint32_t count)
{
	const struct place_bits *cl = &f->c->cbits[f->g[gi].cls];
	struct hkey h = {f, gi, sticky};
	uint32_t heap[CHORUS_MAX_NODES], len = 0;

	if (count == 0)
		return;
	/* one or two (a class per address is like that): a scan of the class
	 * costs less than a heap */
	if (count <= 2) {
		while (count-- > 0) {
			uint32_t m = PLACE_NONE;

			for (uint32_t w = 0; w < PLACE_WORDS; w++)
				for (uint64_t b = cl->w[w]; b; b &= b - 1) {
					uint32_t s = w * 64 + (uint32_t)__builtin_ctzll(b);

					if ((!sticky || place_flow_sticky_may_add(f, gi, s)) &&
					    (m == PLACE_NONE || h_less(&h, s, m)))
						m = s;
				}
			if (m == PLACE_NONE)
				return;
			place_count_put(f, gi, sticky, m, +1);
		}
		return;
	}
	for (uint32_t s = 0; s < f->n; s++)
		if (place_bits_test(cl, s) && (!sticky || place_flow_sticky_may_add(f, gi, s)))
			heap[len++] = s;
	for (uint32_t k = len / 2; k-- > 0;)
		h_down(&h, heap, len, k);
	while (count-- > 0 && len > 0) {
		uint32_t s = heap[0];

		place_count_put(f, gi, sticky, s, +1);
		if (sticky && !place_flow_sticky_may_add(f, gi, s))
			heap[0] = heap[--len];
		h_down(&h, heap, len, 0);
	}
}

/* Groups most constrained class first, then by class, then by pool (they
 * come by pool, then class): the same whatever the numbering of classes.
 * Two stable counting passes. */
int place_start_greedy(struct flow *f)
{
	uint32_t nk = f->c->n_cls > f->n + 1 ? f->c->n_cls : f->n + 1;
	uint32_t *order = malloc((f->ng + 1) * sizeof(*order));
	uint32_t *tmp = malloc((f->ng + 1) * sizeof(*tmp));
	uint32_t *count = malloc(((size_t)nk + 2) * sizeof(*count));

	if (order == NULL || tmp == NULL || count == NULL) {
		free(order);
		free(tmp);
		free(count);
		return -ENOMEM;
	}
	for (uint32_t gi = 0; gi < f->ng; gi++)
		order[gi] = gi;
	for (int pass = 0; pass < 2; pass++) {
		memset(count, 0, ((size_t)nk + 2) * sizeof(*count));
		for (uint32_t gi = 0; gi < f->ng; gi++)
			count[(pass == 0 ? f->g[gi].cls : f->g[gi].width) + 1]++;
		for (uint32_t k = 0; k <= nk; k++)
			count[k + 1] += count[k];
		for (uint32_t j = 0; j < f->ng; j++) {
			uint32_t gi = order[j];

			tmp[count[pass == 0 ? f->g[gi].cls : f->g[gi].width]++] = gi;
		}
		memcpy(order, tmp, f->ng * sizeof(*order));
	}
	for (uint32_t k = 0; k < f->ng; k++) {
		struct cgroup *g = &f->g[order[k]];

		fill(f, order[k], true, g->n_free);
		fill(f, order[k], false, g->n_orph);
	}
	free(order);
	free(tmp);
	free(count);
	return 0;
}
