/*
 * Placement version 1 (place_v1.h): who holds which resource.  Its
 * contract was the one of place.h at wire protocol 5; this is how it is met.
 *
 * Work is done per group, one group per distinct (pool, eligibility class)
 * pair, because the resources of a group are interchangeable: any of them
 * may sit on any node of the class, so only per-node counts matter.
 *
 *  1. Classify.  Every resource is FIXED (stays on 'prev', eligible or not:
 *     its holder is inside its restart grace), PINNED (goes to its eligible
 *     pin), STICKY (its prev is eligible), an ORPHAN (no eligible prev), or
 *     NONE (its class is empty).  The first three are counted in place.
 *
 *  2. Orphans go, group after group in (pool, class) order and by index
 *     within a group, to the node with the fewest of that pool, then the
 *     fewest overall, then the lowest slot: a heap per group, as placing one
 *     only changes the key of the node that took it.
 *
 *  3. With 'rebalance' only, every group gets a target count per node by
 *     water filling.  A node never drops below what cannot move from it
 *     (FIXED and PINNED: 'lo') and a no_receive node never rises above what
 *     it holds after step 2 ('hi').  The level L is the highest for which
 *     sum(clamp(L, lo, hi)) <= size of the group, and the r resources left
 *     over become "+1 extras" on nodes with lo <= L < hi.  Whichever nodes get
 *     the extras, every receiving node without immovables ends at L or L+1:
 *     these are exactly the per-pool +-1 distributions.
 *
 *  4. Which nodes get the extras decides the overall balance and the number
 *     of moves.  An extra on a node that held more than L of the group before
 *     step 2 saves one move; anywhere else it saves none.  With one group
 *     this is a sort.  With several the groups compete for nodes and a greedy
 *     pass is not enough: with 3 nodes and pools A, B, C of one address each,
 *     A and B on node 0 and C on node 1, giving B's extra to node 1 makes C
 *     move as well.  So the extras are a small min-cost flow,
 *     source -> group (capacity r) -> candidate node (1) -> sink, whose node
 *     to sink edges carry the marginal cost of the node's squared overall
 *     load.  Costs compare lexicographically: first the sum of squared
 *     loads (overall +-1 whenever eligibility allows it), then the moves.
 *     The graph has groups + nodes vertices whatever the number of
 *     resources; each Bellman-Ford pass is followed by a blocking flow over
 *     all the tied shortest paths, and a budget of edge visits bounds the
 *     whole: past it (over a hundred pools with remainders on over a hundred
 *     nodes) the greedy pass takes over, which still balances but may move
 *     a few more resources than needed.
 *
 *  5. Nodes above target give back first the orphans placed in step 2 (free,
 *     they move anyway), then sticky resources from the highest index down;
 *     nodes below target take them in resource order, lowest slot first.
 *
 * Grouping is a radix sort on (pool, class): the run is O(R + C*N log R +
 * R log N) plus the flow, which depends on C and N only.
 */
#include "core/place_v1.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum {
	KIND_NONE,   /* empty class: unplaced */
	KIND_FIXED,  /* keeps prev */
	KIND_PINNED, /* on its eligible pin */
	KIND_STICKY, /* on its eligible prev */
	KIND_ORPHAN, /* placed by step 2 */
};

/* Edge visits the extras flow may spend before the greedy pass takes over:
 * some ten milliseconds, only reached with over a hundred pools with
 * remainders on over a hundred nodes. */
#define PLACE_FLOW_BUDGET (1ul << 20)

struct group {
	uint32_t pool;
	uint32_t cls;
	uint32_t ppool; /* dense index among the pools present */
	uint32_t first; /* range in ctx.ord */
	uint32_t len;
	uint32_t level;
	uint32_t extras;
};

struct ctx {
	const struct place_in *in;
	uint32_t n; /* nodes, the stride of every per-node array */
	uint32_t *owner;
	uint32_t *ord; /* resource indices sorted by (pool, class, index) */
	uint8_t *kind;
	uint8_t *evicted;
	struct group *groups;
	uint32_t n_groups;
	uint32_t n_ppools;
	uint32_t *pool_cnt; /* [ppool * n + slot]: that pool's resources on the node */
	/* [group * n + slot], meaningful for the slots of the group's class: */
	uint32_t *lo;  /* immovable: FIXED and PINNED */
	uint32_t *cur; /* before step 2: lo + STICKY */
	uint32_t *cnt; /* now */
	uint32_t *tgt;
	uint32_t total[CHORUS_MAX_NODES]; /* overall load */
	uint64_t base[CHORUS_MAX_NODES];  /* overall load with every group at its level */
};

static uint32_t class_slots(const struct place_in *in, uint32_t cls, uint32_t *slots)
{
	uint32_t k = 0;

	for (uint32_t w = 0; w < PLACE_WORDS; w++) {
		uint64_t bits = in->classes[cls].w[w];

		while (bits) {
			slots[k++] = w * 64 + (uint32_t)__builtin_ctzll(bits);
			bits &= bits - 1;
		}
	}
	return k;
}

static uint32_t digit(const struct place_res *r, bool by_pool, unsigned int shift)
{
	return ((by_pool ? r->pool : r->elig_class) >> shift) & 0xff;
}

/* One stable counting-sort pass on a byte of the pool or the class.  Byte
 * digits keep the count table on the stack however large n_pools is. */
static void radix_pass(const struct place_res *res, const uint32_t *src, uint32_t *dst, uint32_t n,
		       bool by_pool, unsigned int shift)
{
	uint32_t count[257] = {0};

	for (uint32_t i = 0; i < n; i++)
		count[digit(&res[src[i]], by_pool, shift) + 1]++;
	for (unsigned int b = 1; b < 257; b++)
		count[b] += count[b - 1];
	for (uint32_t i = 0; i < n; i++)
		dst[count[digit(&res[src[i]], by_pool, shift)]++] = src[i];
}

/* Sort resource indices by (pool, class, index) and cut them into groups.
 * LSD order: class digits first, then pool digits; stability keeps the
 * index order inside a group. */
static void make_groups(struct ctx *c, uint32_t *tmp)
{
	const struct place_in *in = c->in;
	uint32_t *src = c->ord, *dst = tmp;

	for (uint32_t i = 0; i < in->n_res; i++)
		src[i] = i;
	for (int by_pool = 0; by_pool < 2; by_pool++) {
		uint32_t max = by_pool ? in->n_pools - 1 : in->n_classes - 1;

		for (unsigned int shift = 0; shift < 32; shift += 8) {
			uint32_t *t;

			if (shift > 0 && (max >> shift) == 0)
				break;
			radix_pass(in->res, src, dst, in->n_res, by_pool, shift);
			t = src;
			src = dst;
			dst = t;
		}
	}
	if (src != c->ord)
		memcpy(c->ord, src, in->n_res * sizeof(*src));

	c->n_groups = 0;
	c->n_ppools = 0;
	for (uint32_t k = 0; k < in->n_res; k++) {
		const struct place_res *r = &in->res[c->ord[k]];
		struct group *g = c->n_groups ? &c->groups[c->n_groups - 1] : NULL;

		if (g && g->pool == r->pool && g->cls == r->elig_class) {
			g->len++;
			continue;
		}
		if (g == NULL || g->pool != r->pool)
			c->n_ppools++;
		g = &c->groups[c->n_groups++];
		g->pool = r->pool;
		g->cls = r->elig_class;
		g->ppool = c->n_ppools - 1;
		g->first = k;
		g->len = 1;
	}
}

static void account(struct ctx *c, const struct group *g, uint32_t gi, uint32_t slot, bool eligible,
		    bool immovable)
{
	c->total[slot]++;
	c->pool_cnt[(size_t)g->ppool * c->n + slot]++;
	if (!eligible)
		return;
	c->cnt[(size_t)gi * c->n + slot]++;
	c->cur[(size_t)gi * c->n + slot]++;
	if (immovable)
		c->lo[(size_t)gi * c->n + slot]++;
}

/* Step 1.  FIXED comes before the pin (rule 2 over rule 3); a FIXED resource
 * without a prev has no holder to wait for and is treated as unfixed. */
static void classify(struct ctx *c)
{
	const struct place_in *in = c->in;

	for (uint32_t gi = 0; gi < c->n_groups; gi++) {
		const struct group *g = &c->groups[gi];
		const struct place_bits *cl = &in->classes[g->cls];
		uint32_t slots[CHORUS_MAX_NODES];
		bool empty = class_slots(in, g->cls, slots) == 0;

		for (uint32_t k = g->first; k < g->first + g->len; k++) {
			uint32_t i = c->ord[k];
			const struct place_res *r = &in->res[i];

			c->owner[i] = PLACE_NONE;
			if ((r->flags & PLACE_F_FIXED) && r->prev != PLACE_NONE) {
				c->kind[i] = KIND_FIXED;
				c->owner[i] = r->prev;
				account(c, g, gi, r->prev, place_bits_test(cl, r->prev), true);
			} else if (r->pin != PLACE_NONE && place_bits_test(cl, r->pin)) {
				c->kind[i] = KIND_PINNED;
				c->owner[i] = r->pin;
				account(c, g, gi, r->pin, true, true);
			} else if (r->prev != PLACE_NONE && place_bits_test(cl, r->prev)) {
				c->kind[i] = KIND_STICKY;
				c->owner[i] = r->prev;
				account(c, g, gi, r->prev, true, false);
			} else {
				c->kind[i] = empty ? KIND_NONE : KIND_ORPHAN;
			}
		}
	}
}

/* Rule 5's order: fewest of the pool, then fewest overall, then lowest slot. */
static bool node_less(const struct ctx *c, const uint32_t *pc, uint32_t a, uint32_t b)
{
	if (pc[a] != pc[b])
		return pc[a] < pc[b];
	if (c->total[a] != c->total[b])
		return c->total[a] < c->total[b];
	return a < b;
}

static void heap_down(const struct ctx *c, const uint32_t *pc, uint32_t *heap, uint32_t len,
		      uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, m = i, t;

		if (l < len && node_less(c, pc, heap[l], heap[m]))
			m = l;
		if (l + 1 < len && node_less(c, pc, heap[l + 1], heap[m]))
			m = l + 1;
		if (m == i)
			return;
		t = heap[i];
		heap[i] = heap[m];
		heap[m] = t;
		i = m;
	}
}

/* Step 2. */
static void place_orphans(struct ctx *c)
{
	for (uint32_t gi = 0; gi < c->n_groups; gi++) {
		const struct group *g = &c->groups[gi];
		const uint32_t *pc = &c->pool_cnt[(size_t)g->ppool * c->n];
		uint32_t heap[CHORUS_MAX_NODES], len = class_slots(c->in, g->cls, heap);

		for (uint32_t h = len / 2; h-- > 0;)
			heap_down(c, pc, heap, len, h);
		for (uint32_t k = g->first; k < g->first + g->len; k++) {
			uint32_t i = c->ord[k], s;

			if (c->kind[i] != KIND_ORPHAN)
				continue;
			s = heap[0];
			c->owner[i] = s;
			c->total[s]++;
			c->pool_cnt[(size_t)g->ppool * c->n + s]++;
			c->cnt[(size_t)gi * c->n + s]++;
			heap_down(c, pc, heap, len, 0);
		}
	}
}

static uint32_t hi_of(const struct ctx *c, uint32_t gi, uint32_t s)
{
	if (place_bits_test(&c->in->no_receive, s))
		return c->cnt[(size_t)gi * c->n + s];
	return UINT32_MAX;
}

static uint32_t clamp_u32(uint64_t v, uint32_t lo, uint32_t hi)
{
	if (v < lo)
		return lo;
	return v > hi ? hi : (uint32_t)v;
}

/* Step 3 for one group: level, extras, and the clamped targets in 'tgt'
 * (step 4 adds the extras to them); 'base' follows the targets. */
static void water_fill(struct ctx *c, uint32_t gi)
{
	struct group *g = &c->groups[gi];
	uint32_t slots[CHORUS_MAX_NODES], ns = class_slots(c->in, g->cls, slots);
	uint32_t lo[CHORUS_MAX_NODES], hi[CHORUS_MAX_NODES];
	uint64_t size = 0, a = 0, b, fill = 0;

	for (uint32_t k = 0; k < ns; k++) {
		lo[k] = c->lo[(size_t)gi * c->n + slots[k]];
		hi[k] = hi_of(c, gi, slots[k]);
		size += c->cnt[(size_t)gi * c->n + slots[k]];
	}
	/* Highest L in [0, size] with fill(L) <= size; fill(0) = sum(lo) fits. */
	b = size;
	while (a < b) {
		uint64_t mid = a + (b - a + 1) / 2, f = 0;

		for (uint32_t k = 0; k < ns; k++)
			f += clamp_u32(mid, lo[k], hi[k]);
		if (f <= size)
			a = mid;
		else
			b = mid - 1;
	}
	for (uint32_t k = 0; k < ns; k++) {
		uint32_t t = clamp_u32(a, lo[k], hi[k]);

		c->tgt[(size_t)gi * c->n + slots[k]] = t;
		c->base[slots[k]] = c->base[slots[k]] + t - c->cnt[(size_t)gi * c->n + slots[k]];
		fill += t;
	}
	g->level = (uint32_t)a;
	g->extras = (uint32_t)(size - fill);
}

static bool is_candidate(const struct ctx *c, uint32_t gi, uint32_t s)
{
	uint32_t level = c->groups[gi].level;

	return c->lo[(size_t)gi * c->n + s] <= level && hi_of(c, gi, s) > level;
}

static bool saves_move(const struct ctx *c, uint32_t gi, uint32_t s)
{
	return c->cur[(size_t)gi * c->n + s] > c->groups[gi].level;
}

struct cand {
	uint64_t load;
	uint32_t slot;
	bool saves;
};

static int cand_cmp(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;

	if (a->load != b->load)
		return a->load < b->load ? -1 : 1;
	if (a->saves != b->saves)
		return a->saves ? -1 : 1;
	return a->slot < b->slot ? -1 : a->slot > b->slot;
}

/* Extras group by group, each to the least loaded candidates, preferring
 * those where an extra saves a move.  Exact for a single group; the
 * fallback when the flow runs out of budget. */
static void extras_greedy(struct ctx *c)
{
	uint64_t load[CHORUS_MAX_NODES];

	memcpy(load, c->base, sizeof(load));
	for (uint32_t gi = 0; gi < c->n_groups; gi++) {
		const struct group *g = &c->groups[gi];
		uint32_t slots[CHORUS_MAX_NODES], ns;
		struct cand cand[CHORUS_MAX_NODES];
		uint32_t nc = 0;

		if (g->extras == 0)
			continue;
		ns = class_slots(c->in, g->cls, slots);
		for (uint32_t k = 0; k < ns; k++) {
			if (is_candidate(c, gi, slots[k]))
				cand[nc++] = (struct cand){load[slots[k]], slots[k],
							   saves_move(c, gi, slots[k])};
		}
		qsort(cand, nc, sizeof(cand[0]), cand_cmp);
		for (uint32_t k = 0; k < g->extras && k < nc; k++) {
			c->tgt[(size_t)gi * c->n + cand[k].slot]++;
			load[cand[k].slot]++;
		}
	}
}

/* Lexicographic edge cost: the squared-load term, then the moves term. */
struct cost {
	int64_t a, b;
};

static struct cost cost_add(struct cost x, struct cost y)
{
	return (struct cost){x.a + y.a, x.b + y.b};
}

static bool cost_less(struct cost x, struct cost y) { return x.a != y.a ? x.a < y.a : x.b < y.b; }

/* Vertices: 0 source, 1 sink, then the groups with extras, then the slots.
 * Edges come in pairs, e and e ^ 1, the second being the residual. */
struct flow {
	uint32_t nv, ne;
	uint32_t *head, *next, *to, *cap, *par, *queue, *level, *it;
	struct cost *cost, *dist;
	uint8_t *inq, *seen;
	unsigned long budget; /* edge visits left */
};

static void flow_edge(struct flow *f, uint32_t u, uint32_t v, uint32_t cap, struct cost w)
{
	uint32_t e = f->ne;

	f->to[e] = v;
	f->cap[e] = cap;
	f->cost[e] = w;
	f->next[e] = f->head[u];
	f->head[u] = e;
	f->to[e + 1] = u;
	f->cap[e + 1] = 0;
	f->cost[e + 1] = (struct cost){-w.a, -w.b};
	f->next[e + 1] = f->head[v];
	f->head[v] = e + 1;
	f->ne += 2;
}

/* Distances from the source by Bellman-Ford with a queue: edges may be
 * negative, cycles never are (augmenting along shortest paths only keeps the
 * residual graph free of them).  False when the budget is spent or the sink
 * is out of reach. */
static bool flow_dist(struct flow *f)
{
	uint32_t qh = 0, qt = 0, qn = f->nv + 1;

	memset(f->seen, 0, f->nv);
	memset(f->inq, 0, f->nv);
	f->dist[0] = (struct cost){0, 0};
	f->seen[0] = f->inq[0] = 1;
	f->queue[qt++] = 0;
	while (qh != qt) {
		uint32_t u = f->queue[qh];

		qh = (qh + 1) % qn;
		f->inq[u] = 0;
		for (uint32_t e = f->head[u]; e != UINT32_MAX; e = f->next[e]) {
			uint32_t v = f->to[e];
			struct cost d = cost_add(f->dist[u], f->cost[e]);

			if (f->budget == 0)
				return false;
			f->budget--;
			if (f->cap[e] == 0 || (f->seen[v] && !cost_less(d, f->dist[v])))
				continue;
			f->dist[v] = d;
			f->seen[v] = 1;
			if (!f->inq[v]) {
				f->inq[v] = 1;
				f->queue[qt] = v;
				qt = (qt + 1) % qn;
			}
		}
	}
	return f->seen[1];
}

/* Is 'e' (from 'u') on a shortest path? */
static bool flow_tight(const struct flow *f, uint32_t u, uint32_t e)
{
	uint32_t v = f->to[e];
	struct cost d = cost_add(f->dist[u], f->cost[e]);

	return f->cap[e] > 0 && f->seen[v] && !cost_less(d, f->dist[v]) &&
	       !cost_less(f->dist[v], d);
}

#define LEVEL_UNSET UINT32_MAX

/* Push up to 'want' units along shortest paths, as many as a blocking flow
 * of the tight edges leveled by BFS (so acyclic, as in Dinic) allows: one
 * distance pass then serves every tie, and ties are the rule since all the
 * nodes of a balanced class cost the same.  Returns the units pushed. */
static uint32_t flow_push(struct flow *f, uint32_t want)
{
	uint32_t qh = 0, qt = 0, pushed = 0, v = 0;

	for (uint32_t u = 0; u < f->nv; u++) {
		f->level[u] = LEVEL_UNSET;
		f->it[u] = f->head[u];
	}
	f->level[0] = 0;
	f->queue[qt++] = 0;
	while (qh < qt) {
		uint32_t u = f->queue[qh++];

		for (uint32_t e = f->head[u]; e != UINT32_MAX; e = f->next[e]) {
			if (f->level[f->to[e]] != LEVEL_UNSET || !flow_tight(f, u, e))
				continue;
			f->level[f->to[e]] = f->level[u] + 1;
			f->queue[qt++] = f->to[e];
		}
	}
	while (pushed < want) {
		uint32_t e = f->it[v];

		while (e != UINT32_MAX &&
		       !(flow_tight(f, v, e) && f->level[f->to[e]] == f->level[v] + 1)) {
			if (f->budget == 0)
				return pushed;
			f->budget--;
			e = f->next[e];
		}
		f->it[v] = e;
		if (e == UINT32_MAX) {
			if (v == 0)
				break;
			f->level[v] = LEVEL_UNSET; /* a dead end until the next pass */
			v = f->to[f->par[v] ^ 1];
			f->it[v] = f->next[f->it[v]];
			continue;
		}
		f->par[f->to[e]] = e;
		v = f->to[e];
		if (v != 1)
			continue;
		for (; v != 0; v = f->to[f->par[v] ^ 1]) {
			f->cap[f->par[v]]--;
			f->cap[f->par[v] ^ 1]++;
		}
		pushed++;
	}
	return pushed;
}

/* Step 4 as a min-cost flow.  Returns 0, 1 when the greedy pass should be
 * used instead, or -ENOMEM. */
static int extras_flow(struct ctx *c)
{
	struct flow f = {.budget = PLACE_FLOW_BUDGET};
	uint32_t deg[CHORUS_MAX_NODES] = {0};
	uint32_t need = 0, slot_v = 2, *u32;
	size_t ne;
	int rc = -ENOMEM;

	for (uint32_t gi = 0; gi < c->n_groups; gi++)
		slot_v += c->groups[gi].extras > 0;
	/* At most source->group, and group->slot plus slot->sink per
	 * candidate, each with its residual. */
	ne = 2 * ((size_t)slot_v + 2 * (size_t)slot_v * c->n);
	f.nv = slot_v + c->n;
	u32 = malloc((6 * (size_t)f.nv + 1 + 3 * ne) * sizeof(*u32));
	f.cost = malloc((ne + f.nv) * sizeof(*f.cost));
	f.inq = calloc(2 * (size_t)f.nv, 1);
	if (u32 == NULL || f.cost == NULL || f.inq == NULL)
		goto out;
	rc = 1;
	f.head = u32;
	f.par = f.head + f.nv;
	f.level = f.par + f.nv;
	f.it = f.level + f.nv;
	f.queue = f.it + f.nv; /* nv + 1 */
	f.next = f.queue + f.nv + 1;
	f.to = f.next + ne;
	f.cap = f.to + ne;
	f.dist = f.cost + ne;
	f.seen = f.inq + f.nv;
	memset(f.head, 0xff, f.nv * sizeof(*f.head));

	for (uint32_t gi = 0, v = 2; gi < c->n_groups; gi++) {
		uint32_t slots[CHORUS_MAX_NODES], ns;

		if (c->groups[gi].extras == 0)
			continue;
		need += c->groups[gi].extras;
		flow_edge(&f, 0, v, c->groups[gi].extras, (struct cost){0, 0});
		/* Descending, so the lists (last in, first out) try low slots first. */
		ns = class_slots(c->in, c->groups[gi].cls, slots);
		for (uint32_t k = ns; k-- > 0;) {
			if (!is_candidate(c, gi, slots[k]))
				continue;
			flow_edge(&f, v, slot_v + slots[k], 1,
				  (struct cost){0, saves_move(c, gi, slots[k]) ? -1 : 0});
			deg[slots[k]]++;
		}
		v++;
	}
	/* Slot to sink: the k-th extra on a slot costs (base + k + 1)^2 -
	 * (base + k)^2, convex, so the parallel unit edges fill in order. */
	for (uint32_t s = 0; s < c->n; s++)
		for (uint32_t k = 0; k < deg[s]; k++)
			flow_edge(&f, slot_v + s, 1, 1,
				  (struct cost){(int64_t)(2 * (c->base[s] + k) + 1), 0});

	for (uint32_t done = 0; done < need;) {
		uint32_t got;

		if (!flow_dist(&f))
			goto out; /* rc == 1: greedy */
		got = flow_push(&f, need - done);
		if (got == 0)
			goto out;
		done += got;
	}
	for (uint32_t gi = 0, v = 2; gi < c->n_groups; gi++) {
		if (c->groups[gi].extras == 0)
			continue;
		for (uint32_t e = f.head[v]; e != UINT32_MAX; e = f.next[e])
			if ((e & 1) == 0 && f.to[e] >= slot_v && f.cap[e] == 0)
				c->tgt[(size_t)gi * c->n + (f.to[e] - slot_v)]++;
		v++;
	}
	rc = 0;
out:
	free(u32);
	free(f.cost);
	free(f.inq);
	return rc;
}

/* Step 5 for one group. */
static void move_to_targets(struct ctx *c, uint32_t gi)
{
	const struct group *g = &c->groups[gi];
	uint32_t *cnt = &c->cnt[(size_t)gi * c->n];
	const uint32_t *tgt = &c->tgt[(size_t)gi * c->n];
	uint32_t slots[CHORUS_MAX_NODES], ns = class_slots(c->in, g->cls, slots), j = 0;
	static const uint8_t order[2] = {KIND_ORPHAN, KIND_STICKY};

	for (int p = 0; p < 2; p++) {
		for (uint32_t k = g->first + g->len; k-- > g->first;) {
			uint32_t i = c->ord[k];

			if (c->kind[i] != order[p] || c->evicted[i])
				continue;
			if (cnt[c->owner[i]] > tgt[c->owner[i]]) {
				cnt[c->owner[i]]--;
				c->evicted[i] = 1;
			}
		}
	}
	for (uint32_t k = g->first; k < g->first + g->len; k++) {
		uint32_t i = c->ord[k];

		if (!c->evicted[i])
			continue;
		/* Targets sum to the group size, so a deficit is always left. */
		while (j < ns && cnt[slots[j]] >= tgt[slots[j]])
			j++;
		assert(j < ns);
		c->owner[i] = slots[j];
		cnt[slots[j]]++;
	}
}

static int rebalance(struct ctx *c)
{
	uint32_t with_extras = 0;

	for (uint32_t s = 0; s < c->n; s++)
		c->base[s] = c->total[s];
	for (uint32_t gi = 0; gi < c->n_groups; gi++) {
		water_fill(c, gi);
		with_extras += c->groups[gi].extras > 0;
	}
	if (with_extras > 1) {
		int rc = extras_flow(c);

		if (rc < 0)
			return rc;
		if (rc > 0)
			extras_greedy(c);
	} else if (with_extras == 1) {
		extras_greedy(c);
	}
	for (uint32_t gi = 0; gi < c->n_groups; gi++)
		move_to_targets(c, gi);
	return 0;
}

int place_v1_run(const struct place_in *in, uint32_t *owner, struct place_stats *st)
{
	struct ctx c = {0};
	uint32_t lmoves = 0, sfixes;
	size_t cells;
	int rc;

	if (st)
		memset(st, 0, sizeof(*st));
	if (in->n_res == 0)
		return 0;

	c.in = in;
	c.n = in->n_nodes;
	c.owner = owner;
	rc = -ENOMEM;
	c.ord = calloc(2 * (size_t)in->n_res, sizeof(*c.ord)); /* and radix scratch */
	c.kind = calloc(2 * (size_t)in->n_res, 1);
	c.groups = calloc(in->n_res, sizeof(*c.groups));
	if (!c.ord || !c.kind || !c.groups)
		goto out;
	c.evicted = c.kind + in->n_res;
	make_groups(&c, c.ord + in->n_res);

	/* +1: with no nodes every per-node array is empty, and calloc(0) may
	 * legitimately return NULL. */
	if (c.n > 0 && (size_t)c.n_groups > (SIZE_MAX / (4 * sizeof(uint32_t)) - 1) / c.n)
		goto out;
	cells = (size_t)c.n_groups * c.n + 1;
	c.pool_cnt = calloc((size_t)c.n_ppools * c.n + 1, sizeof(*c.pool_cnt));
	c.lo = calloc(4 * cells, sizeof(*c.lo));
	if (!c.pool_cnt || !c.lo)
		goto out;
	c.cur = c.lo + cells;
	c.cnt = c.cur + cells;
	c.tgt = c.cnt + cells;

	classify(&c);
	place_orphans(&c);
	if (in->rebalance && place_v1_load_active(in)) {
		for (uint32_t i = 0; i < in->n_res; i++)
			c.evicted[i] = (c.kind[i] == KIND_STICKY || c.kind[i] == KIND_ORPHAN) &&
				       !(in->res[i].flags & PLACE_F_NO_LOAD_MOVE);
		lmoves = place_v1_load_balance(in, owner, c.evicted);
	} else if (in->rebalance) {
		rc = rebalance(&c);
		if (rc < 0)
			goto out;
	}

	/* rule 8 on the finished assignment ('evicted' is free scratch now) */
	for (uint32_t i = 0; i < in->n_res; i++) {
		uint8_t k = c.kind[i];

		if (k == KIND_ORPHAN || (k == KIND_STICKY && owner[i] != in->res[i].prev))
			c.evicted[i] = 0;
		else if (k == KIND_STICKY)
			c.evicted[i] = 1;
		else
			c.evicted[i] = PLACE_V1_SPREAD_NEVER;
	}
	sfixes = place_v1_spread(in, owner, c.evicted);

	if (st) {
		st->load_moves = lmoves;
		st->spread_fixes = sfixes;
		for (uint32_t i = 0; i < in->n_res; i++) {
			uint32_t prev = in->res[i].prev;

			if (owner[i] == PLACE_NONE)
				st->unplaced++;
			if (prev != PLACE_NONE && owner[i] != prev)
				st->moves++;
			else if (prev == PLACE_NONE && owner[i] != PLACE_NONE)
				st->placed++;
		}
	}
	rc = 0;
out:
	free(c.ord);
	free(c.kind);
	free(c.groups);
	free(c.pool_cnt);
	free(c.lo);
	return rc;
}
