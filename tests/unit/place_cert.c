/*
 * The optimality certificate of place_cert.h, written from place.h's model
 * and not from place.c: every resource is classified the way the contract
 * says, movable resources are grouped by (pool, eligible set), and the
 * output becomes a flow
 *
 *   group --x--> (pool, node) --P--> node --T--> sink
 *
 * in which a group is two supply vertices (orphans, and resources with an
 * eligible previous holder that a rebalance may move), (pool, node) to node
 * costs P^2 in the first tier and node to sink T^2 in the second, and a
 * resource away from its previous holder costs one move in the third.
 * Separable convex costs: the flow is optimal exactly when its residual
 * graph has no negative cycle, found here with Bellman-Ford (a queue, and a
 * cycle check on the predecessor graph every V relaxations).
 */
#include "place_cert.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { K_NONE, K_FIXED, K_PINNED, K_STICKY, K_ORPHAN };

struct c3 {
	int64_t a, b, c;
};

static struct c3 c3_add(struct c3 x, struct c3 y)
{
	return (struct c3){x.a + y.a, x.b + y.b, x.c + y.c};
}

static bool c3_less(struct c3 x, struct c3 y)
{
	if (x.a != y.a)
		return x.a < y.a;
	if (x.b != y.b)
		return x.b < y.b;
	return x.c < y.c;
}

struct graph {
	uint32_t nv, ne, cap;
	uint32_t *head, *next, *to;
	struct c3 *cost;
};

static int edge(struct graph *g, uint32_t u, uint32_t v, struct c3 w)
{
	if (g->ne == g->cap) {
		uint32_t cap = g->cap ? 2 * g->cap : 1024;
		uint32_t *n = realloc(g->next, cap * sizeof(*n));
		uint32_t *t = n ? realloc(g->to, cap * sizeof(*t)) : NULL;
		struct c3 *c = t ? realloc(g->cost, cap * sizeof(*c)) : NULL;

		if (n)
			g->next = n;
		if (t)
			g->to = t;
		if (c == NULL)
			return -ENOMEM;
		g->cost = c;
		g->cap = cap;
	}
	g->to[g->ne] = v;
	g->cost[g->ne] = w;
	g->next[g->ne] = g->head[u];
	g->head[u] = g->ne++;
	return 0;
}

static bool bit(const struct place_bits *b, uint32_t i)
{
	return (b->w[i / 64] >> (i % 64)) & 1u;
}

static bool empty_bits(const struct place_bits *b)
{
	for (uint32_t w = 0; w < PLACE_WORDS; w++)
		if (b->w[w])
			return false;
	return true;
}

static const struct place_in *sort_in;

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int movable_cmp(const void *pa, const void *pb)
{
	const struct place_res *x = &sort_in->res[*(const uint32_t *)pa];
	const struct place_res *y = &sort_in->res[*(const uint32_t *)pb];
	int k;

	if (x->pool != y->pool)
		return x->pool < y->pool ? -1 : 1;
	k = memcmp(&sort_in->classes[x->elig_class], &sort_in->classes[y->elig_class],
		   sizeof(struct place_bits));
	if (k)
		return k;
	return *(const uint32_t *)pa < *(const uint32_t *)pb ? -1 : 1;
}

/* A cycle in the predecessor graph ('par', UINT32_MAX = none)? */
static bool pred_cycle(const uint32_t *par, uint32_t nv, uint8_t *mark)
{
	memset(mark, 0, nv);
	for (uint32_t s = 0; s < nv; s++) {
		uint32_t v = s;

		while (v != UINT32_MAX && mark[v] == 0) {
			mark[v] = 1;
			v = par[v];
		}
		if (v != UINT32_MAX && mark[v] == 1)
			return true;
		for (v = s; v != UINT32_MAX && mark[v] == 1; v = par[v])
			mark[v] = 2;
	}
	return false;
}

static bool negative_cycle(const struct graph *g, int *err)
{
	struct c3 *d = calloc(g->nv, sizeof(*d));
	uint32_t *par = malloc(g->nv * sizeof(*par)), *q = malloc((g->nv + 1) * sizeof(*q));
	uint8_t *inq = malloc(g->nv), *mark = malloc(g->nv);
	uint32_t qh = 0, qt = 0, qn = g->nv + 1;
	uint64_t relax = 0;
	bool neg = false;

	if (!d || !par || !q || !inq || !mark) {
		*err = -ENOMEM;
		goto out;
	}
	for (uint32_t v = 0; v < g->nv; v++) {
		par[v] = UINT32_MAX;
		inq[v] = 1;
		q[qt++] = v;
	}
	while (qh != qt && !neg) {
		uint32_t u = q[qh];

		qh = (qh + 1) % qn;
		inq[u] = 0;
		for (uint32_t e = g->head[u]; e != UINT32_MAX; e = g->next[e]) {
			uint32_t v = g->to[e];
			struct c3 nd = c3_add(d[u], g->cost[e]);

			if (!c3_less(nd, d[v]))
				continue;
			d[v] = nd;
			par[v] = u;
			if (++relax % g->nv == 0 && pred_cycle(par, g->nv, mark)) {
				neg = true;
				break;
			}
			if (!inq[v]) {
				inq[v] = 1;
				q[qt] = v;
				qt = (qt + 1) % qn;
			}
		}
	}
	if (!neg)
		neg = pred_cycle(par, g->nv, mark);
out:
	free(d);
	free(par);
	free(q);
	free(inq);
	free(mark);
	return neg;
}

static void why(struct place_cert *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void why(struct place_cert *out, const char *fmt, ...)
{
	va_list ap;

	if (out->why[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(out->why, sizeof(out->why), fmt, ap);
	va_end(ap);
}

int place_cert_check(const struct place_in *in, const uint32_t *owner, struct place_cert *out)
{
	uint32_t n = in->n_nodes, nr = in->n_res;
	uint8_t *kind = calloc(nr + 1, 1);
	uint32_t *mv = malloc((nr + 1) * sizeof(*mv)), nmv = 0;
	uint32_t *pools = malloc((nr + 1) * sizeof(*pools)), npools = 0;
	uint32_t *gfirst = malloc((nr + 2) * sizeof(*gfirst)), ng = 0;
	uint64_t *P = NULL, *P0 = NULL, T[CHORUS_MAX_NODES] = {0}, T0[CHORUS_MAX_NODES] = {0};
	uint32_t *xo = NULL, *xs = NULL, *cur = NULL, *pidx = NULL;
	struct graph g = {0};
	int rc = -ENOMEM;

	memset(out, 0, sizeof(*out));
	out->valid = true;
	if (!kind || !mv || !pools || !gfirst)
		goto out;

	/* classify and check rules 1-4 */
	for (uint32_t i = 0; i < nr; i++) {
		const struct place_res *r = &in->res[i];
		const struct place_bits *cl = &in->classes[r->elig_class];
		uint32_t o = owner[i];

		if ((r->flags & PLACE_F_FIXED) && r->prev != PLACE_NONE)
			kind[i] = K_FIXED;
		else if (empty_bits(cl))
			kind[i] = K_NONE;
		else if (r->pin != PLACE_NONE && bit(cl, r->pin))
			kind[i] = K_PINNED;
		else if (r->prev != PLACE_NONE && bit(cl, r->prev))
			kind[i] = K_STICKY;
		else
			kind[i] = K_ORPHAN;
		if (o != PLACE_NONE && o >= n) {
			why(out, "resource %u on slot %u of %u", i, o, n);
			out->valid = false;
			continue;
		}
		switch (kind[i]) {
		case K_FIXED:
			if (o != r->prev)
				why(out, "fixed resource %u on %u, not %u", i, o, r->prev);
			out->valid &= o == r->prev;
			break;
		case K_NONE:
			if (o != PLACE_NONE)
				why(out, "resource %u of an empty class on %u", i, o);
			out->valid &= o == PLACE_NONE;
			break;
		case K_PINNED:
			if (o != r->pin)
				why(out, "pinned resource %u on %u, not %u", i, o, r->pin);
			out->valid &= o == r->pin;
			break;
		default:
			if (o == PLACE_NONE || !bit(cl, o)) {
				why(out, "resource %u on %u, not eligible", i, o);
				out->valid = false;
				continue;
			}
			if (kind[i] == K_STICKY && o != r->prev) {
				out->moves++;
				if (!in->rebalance)
					why(out, "resource %u moved %u -> %u without rebalance", i,
					    r->prev, o);
				if (bit(&in->no_receive, o))
					why(out, "resource %u moved %u -> %u, a no_receive node", i,
					    r->prev, o);
				out->valid &= in->rebalance && !bit(&in->no_receive, o);
			}
		}
	}
	rc = 0;
	if (!out->valid)
		goto out;

	/* pools in use, dense */
	for (uint32_t i = 0; i < nr; i++)
		pools[npools++] = in->res[i].pool;
	qsort(pools, npools, sizeof(*pools), u32_cmp);
	{
		uint32_t k = 0;

		for (uint32_t i = 0; i < npools; i++)
			if (k == 0 || pools[k - 1] != pools[i])
				pools[k++] = pools[i];
		npools = k;
	}
	rc = -ENOMEM;
	P = calloc((size_t)npools * n + 1, sizeof(*P));
	P0 = calloc((size_t)npools * n + 1, sizeof(*P0));
	pidx = malloc((nr + 1) * sizeof(*pidx));
	if (!P || !P0 || !pidx)
		goto out;
	for (uint32_t i = 0; i < nr; i++) {
		uint32_t lo = 0, hi = npools;

		while (lo < hi) {
			uint32_t mid = (lo + hi) / 2;

			if (pools[mid] < in->res[i].pool)
				lo = mid + 1;
			else
				hi = mid;
		}
		pidx[i] = lo;
	}
	for (uint32_t i = 0; i < nr; i++) {
		uint32_t o = owner[i];
		bool imm = kind[i] == K_FIXED || kind[i] == K_PINNED ||
			   (kind[i] == K_STICKY && !in->rebalance);

		if (o == PLACE_NONE)
			continue;
		P[(size_t)pidx[i] * n + o]++;
		T[o]++;
		if (imm) {
			P0[(size_t)pidx[i] * n + o]++;
			T0[o]++;
		} else {
			mv[nmv++] = i;
		}
	}
	out->total_sq = 0;
	for (uint32_t s = 0; s < n; s++)
		out->total_sq += T[s] * T[s];
	for (size_t k = 0; k < (size_t)npools * n; k++)
		out->pool_sq += P[k] * P[k];

	/* groups of movable resources */
	sort_in = in;
	qsort(mv, nmv, sizeof(*mv), movable_cmp);
	for (uint32_t k = 0; k < nmv; k++) {
		const struct place_res *r = &in->res[mv[k]];
		const struct place_res *p = k ? &in->res[mv[k - 1]] : NULL;

		if (p == NULL || p->pool != r->pool ||
		    memcmp(&in->classes[p->elig_class], &in->classes[r->elig_class],
			   sizeof(struct place_bits)) != 0)
			gfirst[ng++] = k;
	}
	gfirst[ng] = nmv;
	xo = calloc((size_t)ng * n + 1, sizeof(*xo));
	xs = calloc((size_t)ng * n + 1, sizeof(*xs));
	cur = calloc((size_t)ng * n + 1, sizeof(*cur));
	if (!xo || !xs || !cur)
		goto out;
	for (uint32_t gi = 0; gi < ng; gi++)
		for (uint32_t k = gfirst[gi]; k < gfirst[gi + 1]; k++) {
			uint32_t i = mv[k];

			if (kind[i] == K_ORPHAN) {
				xo[(size_t)gi * n + owner[i]]++;
			} else {
				xs[(size_t)gi * n + owner[i]]++;
				cur[(size_t)gi * n + in->res[i].prev]++;
			}
		}

	/* vertices: 0 sink, 1..n nodes, then (pool, node), then 2 per group */
	g.nv = 1 + n + npools * n + 2 * ng;
	g.head = malloc(g.nv * sizeof(*g.head));
	if (g.head == NULL)
		goto out;
	memset(g.head, 0xff, g.nv * sizeof(*g.head));
	for (uint32_t s = 0; s < n; s++) {
		if (edge(&g, 1 + s, 0, (struct c3){0, (int64_t)(2 * T[s] + 1), 0}) < 0)
			goto out;
		if (T[s] > T0[s] && edge(&g, 0, 1 + s, (struct c3){0, -(int64_t)(2 * T[s] - 1), 0}) < 0)
			goto out;
		for (uint32_t p = 0; p < npools; p++) {
			uint32_t pv = 1 + n + p * n + s;
			size_t k = (size_t)p * n + s;

			if (edge(&g, pv, 1 + s, (struct c3){(int64_t)(2 * P[k] + 1), 0, 0}) < 0)
				goto out;
			if (P[k] > P0[k] &&
			    edge(&g, 1 + s, pv, (struct c3){-(int64_t)(2 * P[k] - 1), 0, 0}) < 0)
				goto out;
		}
	}
	for (uint32_t gi = 0; gi < ng; gi++) {
		const struct place_res *r = &in->res[mv[gfirst[gi]]];
		const struct place_bits *cl = &in->classes[r->elig_class];
		uint32_t go = 1 + n + npools * n + 2 * gi, gs = go + 1;

		for (uint32_t s = 0; s < n; s++) {
			size_t k = (size_t)gi * n + s;
			uint32_t pv = 1 + n + pidx[mv[gfirst[gi]]] * n + s;

			if (!bit(cl, s))
				continue;
			if (edge(&g, go, pv, (struct c3){0, 0, 0}) < 0 ||
			    (xo[k] && edge(&g, pv, go, (struct c3){0, 0, 0}) < 0))
				goto out;
			if ((!bit(&in->no_receive, s) || xs[k] < cur[k]) &&
			    edge(&g, gs, pv, (struct c3){0, 0, xs[k] < cur[k] ? -1 : 0}) < 0)
				goto out;
			if (xs[k] && edge(&g, pv, gs, (struct c3){0, 0, xs[k] <= cur[k] ? 1 : 0}) < 0)
				goto out;
		}
	}
	rc = 0;
	out->optimal = !negative_cycle(&g, &rc);
	if (!out->optimal)
		why(out, "a negative cycle: not optimal");
out:
	free(kind);
	free(mv);
	free(pools);
	free(gfirst);
	free(P);
	free(P0);
	free(pidx);
	free(xo);
	free(xs);
	free(cur);
	free(g.head);
	free(g.next);
	free(g.to);
	free(g.cost);
	return rc;
}
