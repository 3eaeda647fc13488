/*
 * Placement version 2: the contract is in place.h; this file classifies,
 * groups, and turns the count balance into concrete owners.
 *
 *  1. Canonical classes: the distinct eligibility bitmaps, in bitmap order,
 *     whatever the caller's numbering or duplicates.  Dense pools, in pool
 *     order.
 *  2. Kinds (place.h).  FIXED, PINNED, NONE, and STICKY without a
 *     rebalance are settled here; the rest, ORPHAN and STICKY with a
 *     rebalance, are the movable resources, grouped by (pool, class).
 *  3. Count balance (place_count.c): how many of each group on each node.
 *  4. Which ones: on each node a group keeps as many of the STICKY
 *     resources that call it home as its count allows, and lets go first of
 *     those that share the node with a member of their set, then of those
 *     with the fewest connections, then of the highest index.  What was let
 *     go and the orphans fill the nodes that gained, dealt round the nodes
 *     in slot order, each skipping a node with a member of its set if it
 *     can; orphans only where the count has room for orphans (a no_receive
 *     node takes no STICKY newcomer).
 *  5. Rule 7 (place_load.c) with a load budget, then rule 8
 *     (place_spread.c): both keep sums 1 and 2 of place.h at their minimum.
 *
 * Everything is sorted on integers; nothing depends on memory layout or byte
 * order, so every member computes the same owners.
 */
#include "core/place_private.h"
#include "core/place_v1.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool bits_in_range(const struct place_bits *b, uint32_t n)
{
	for (uint32_t w = 0; w < PLACE_WORDS; w++) {
		uint64_t allowed;

		if (n >= (w + 1) * 64)
			continue;
		allowed = n <= w * 64 ? 0 : ((uint64_t)1 << (n - w * 64)) - 1;
		if (b->w[w] & ~allowed)
			return false;
	}
	return true;
}

/* Reject everything that could index out of bounds before touching 'owner',
 * so a caller's bug never leaves half an assignment behind. */
static int validate(const struct place_in *in, const uint32_t *owner)
{
	if (in == NULL || in->n_nodes > CHORUS_MAX_NODES ||
	    (in->version != PLACE_V2 && in->version != PLACE_V1) ||
	    (in->n_res > 0 && (in->res == NULL || owner == NULL)) ||
	    (in->n_classes > 0 && in->classes == NULL))
		return -EINVAL;
	for (uint32_t c = 0; c < in->n_classes; c++)
		if (!bits_in_range(&in->classes[c], in->n_nodes))
			return -EINVAL;
	if (!bits_in_range(&in->no_receive, in->n_nodes))
		return -EINVAL;
	for (uint32_t i = 0; i < in->n_res; i++) {
		const struct place_res *r = &in->res[i];

		if (r->pool >= in->n_pools || r->elig_class >= in->n_classes)
			return -EINVAL;
		if ((r->prev != PLACE_NONE && r->prev >= in->n_nodes) ||
		    (r->pin != PLACE_NONE && r->pin >= in->n_nodes))
			return -EINVAL;
	}
	return 0;
}

/* A total order on bitmaps by value, the same on every architecture. */
static int bits_cmp(const struct place_bits *x, const struct place_bits *y)
{
	for (uint32_t w = PLACE_WORDS; w-- > 0;)
		if (x->w[w] != y->w[w])
			return x->w[w] < y->w[w] ? -1 : 1;
	return 0;
}

/* run[i]: the rank of bits[i] among the distinct bitmaps, in bitmap order.
 * A stable radix sort over the bytes that differ at all (with N nodes,
 * N / 8 of them at most).  Returns how many there are, or -ENOMEM. */
static long bitmap_ranks(const struct place_bits *bits, uint32_t n, uint32_t *run)
{
	uint32_t *idx = malloc((2 * (size_t)n + 1) * sizeof(*idx)), *src, *dst;
	struct place_bits vary = {{0}};
	long runs = 0;

	if (idx == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		idx[i] = i;
		for (uint32_t w = 0; w < PLACE_WORDS; w++)
			vary.w[w] |= bits[i].w[w] ^ bits[0].w[w];
	}
	src = idx;
	dst = idx + n;
	/* a pass costs 257 buckets: below that, insertion (stable too) */
	for (uint32_t j = 1; n < 64 && j < n; j++) {
		uint32_t v = idx[j], k = j;

		for (; k > 0 && bits_cmp(&bits[idx[k - 1]], &bits[v]) > 0; k--)
			idx[k] = idx[k - 1];
		idx[k] = v;
	}
	for (uint32_t w = 0; n >= 64 && w < PLACE_WORDS; w++) {
		for (unsigned int shift = 0; shift < 64; shift += 8) {
			uint32_t count[257] = {0}, *t;

			if (((vary.w[w] >> shift) & 0xff) == 0)
				continue;
			for (uint32_t j = 0; j < n; j++)
				count[((bits[src[j]].w[w] >> shift) & 0xff) + 1]++;
			for (unsigned int b = 1; b < 257; b++)
				count[b] += count[b - 1];
			for (uint32_t j = 0; j < n; j++)
				dst[count[(bits[src[j]].w[w] >> shift) & 0xff]++] = src[j];
			t = src;
			src = dst;
			dst = t;
		}
	}
	for (uint32_t j = 0; j < n; j++) {
		if (j > 0 && bits_cmp(&bits[src[j - 1]], &bits[src[j]]) != 0)
			runs++;
		run[src[j]] = (uint32_t)runs;
	}
	free(idx);
	return n ? runs + 1 : 0;
}

long place_classes(const struct place_bits *bits, uint32_t n, uint32_t *cls,
		   struct place_bits *classes)
{
	uint32_t *map = malloc((n + 1) * sizeof(*map));
	long runs = map ? bitmap_ranks(bits, n, cls) : -ENOMEM;
	uint32_t next = 0;

	if (runs < 0) {
		free(map);
		return -ENOMEM;
	}
	/* renumber the ranks in order of first appearance */
	for (long r = 0; r < runs; r++)
		map[r] = UINT32_MAX;
	for (uint32_t i = 0; i < n; i++) {
		if (map[cls[i]] == UINT32_MAX) {
			classes[next] = bits[i];
			map[cls[i]] = next++;
		}
		cls[i] = map[cls[i]];
	}
	free(map);
	return next;
}

/* ---- the context ---- */

static bool bits_empty(const struct place_bits *b)
{
	for (uint32_t w = 0; w < PLACE_WORDS; w++)
		if (b->w[w])
			return false;
	return true;
}

static void bits_clear(struct place_bits *b, uint32_t i)
{
	b->w[i / 64] &= ~((uint64_t)1 << (i % 64));
}

/* After a member of set 'sid' left 'slot': what is left there. */
static void set_recount(struct place_ctx *c, uint32_t sid, uint32_t slot)
{
	struct place_set *st = &c->sets[sid];
	uint32_t k = 0;

	for (uint32_t j = st->first; j < st->first + st->len && k < 2; j++)
		k += c->owner[c->smem[j]] == slot;
	if (k < 2)
		bits_clear(&st->multi, slot);
	if (k < 1)
		bits_clear(&st->occ, slot);
}

static void set_add(struct place_ctx *c, uint32_t sid, uint32_t slot)
{
	struct place_set *st = &c->sets[sid];

	if (place_bits_test(&st->occ, slot))
		place_bits_set(&st->multi, slot);
	place_bits_set(&st->occ, slot);
}

void place_ctx_relocate(struct place_ctx *c, uint32_t i, uint32_t to)
{
	uint32_t from = c->owner[i];

	if (from == to)
		return;
	c->owner[i] = to;
	if (from != PLACE_NONE) {
		c->P[(size_t)c->pp[i] * c->n + from]--;
		c->T[from]--;
		if (c->set[i])
			set_recount(c, c->set[i] - 1, from);
	}
	if (to != PLACE_NONE) {
		c->P[(size_t)c->pp[i] * c->n + to]++;
		c->T[to]++;
		if (c->set[i])
			set_add(c, c->set[i] - 1, to);
	}
}

/* Stable LSD radix sort of idx[0..n) by key[idx[j]] < 2^32, a byte at a
 * time, skipping the bytes above 'max'; 'tmp' has room for n. */
static void radix(const uint32_t *key, uint32_t *idx, uint32_t *tmp, uint32_t n, uint32_t max)
{
	uint32_t *src = idx, *dst = tmp;

	/* a pass costs 257 buckets: below that, insertion (stable too) */
	if (n < 64) {
		for (uint32_t j = 1; j < n; j++) {
			uint32_t v = idx[j], k = j;

			for (; k > 0 && key[idx[k - 1]] > key[v]; k--)
				idx[k] = idx[k - 1];
			idx[k] = v;
		}
		return;
	}

	for (unsigned int shift = 0; shift < 32; shift += 8) {
		uint32_t count[257] = {0}, *t;

		if (shift > 0 && (max >> shift) == 0)
			break;
		for (uint32_t j = 0; j < n; j++)
			count[((key[src[j]] >> shift) & 0xff) + 1]++;
		for (unsigned int b = 1; b < 257; b++)
			count[b] += count[b - 1];
		for (uint32_t j = 0; j < n; j++)
			dst[count[(key[src[j]] >> shift) & 0xff]++] = src[j];
		t = src;
		src = dst;
		dst = t;
	}
	if (src != idx)
		memcpy(idx, src, n * sizeof(*idx));
}

/* Dense pools, in pool order. */
static int dense_pools(struct place_ctx *c)
{
	const struct place_in *in = c->in;
	uint32_t n = in->n_res, *ids = malloc((2 * (size_t)n + 1) * sizeof(*ids)), k = 0;

	if (ids == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		c->pp[i] = in->res[i].pool;
		ids[i] = i;
	}
	radix(c->pp, ids, ids + n, n, in->n_pools - 1);
	for (uint32_t j = 0; j < n; j++) {
		if (j > 0 && in->res[ids[j]].pool != in->res[ids[j - 1]].pool)
			k++;
		c->pp[ids[j]] = k;
	}
	c->n_pp = n ? k + 1 : 0;
	free(ids);
	return 0;
}

/* Canonical classes of the input's classes, and the kinds. */
static int classify(struct place_ctx *c)
{
	const struct place_in *in = c->in;
	uint32_t *rank = malloc((in->n_classes + 1) * sizeof(*rank));
	long n_cls = rank ? bitmap_ranks(in->classes, in->n_classes, rank) : -ENOMEM;

	if (n_cls < 0) {
		free(rank);
		return -ENOMEM;
	}
	c->n_cls = (uint32_t)n_cls;
	c->cbits = calloc((size_t)n_cls + 1, sizeof(*c->cbits));
	if (c->cbits == NULL) {
		free(rank);
		return -ENOMEM;
	}
	for (uint32_t k = 0; k < in->n_classes; k++)
		c->cbits[rank[k]] = in->classes[k];
	for (uint32_t i = 0; i < in->n_res; i++) {
		const struct place_res *r = &in->res[i];
		const struct place_bits *cl;

		c->cls[i] = rank[r->elig_class];
		cl = &c->cbits[c->cls[i]];
		c->owner[i] = PLACE_NONE;
		if ((r->flags & PLACE_F_FIXED) && r->prev != PLACE_NONE) {
			c->kind[i] = PK_FIXED;
			c->owner[i] = r->prev;
		} else if (bits_empty(cl)) {
			c->kind[i] = PK_NONE;
		} else if (r->pin != PLACE_NONE && place_bits_test(cl, r->pin)) {
			c->kind[i] = PK_PINNED;
			c->owner[i] = r->pin;
		} else if (r->prev != PLACE_NONE && place_bits_test(cl, r->prev)) {
			c->kind[i] = PK_STICKY;
			if (!in->rebalance)
				c->owner[i] = r->prev;
		} else {
			c->kind[i] = PK_ORPHAN;
		}
	}
	free(rank);
	return 0;
}

/* Sparse when a group's at most 2k touched nodes are few: a row is then
 * searched, not indexed. */
#define ROW_SPARSE_MAX 16

int place_rows_new(struct place_rows *r, const struct place_ctx *c)
{
	size_t total = 0;

	memset(r, 0, sizeof(*r));
	r->n = c->n;
	r->at = malloc((c->n_groups + 1) * sizeof(*r->at));
	r->len = calloc(c->n_groups + 1, sizeof(*r->len));
	r->cap = malloc((c->n_groups + 1) * sizeof(*r->cap));
	if (!r->at || !r->len || !r->cap)
		goto fail;
	for (uint32_t g = 0; g < c->n_groups; g++) {
		uint64_t touch = 2 * (uint64_t)c->groups[g].len;

		r->at[g] = (uint32_t)total;
		r->cap[g] = touch < c->n && touch <= ROW_SPARSE_MAX ? (uint32_t)touch : c->n;
		if (r->cap[g] == c->n)
			r->len[g] = c->n;
		total += r->cap[g];
	}
	r->cell = calloc(total + 1, sizeof(*r->cell));
	if (r->cell == NULL)
		goto fail;
	for (uint32_t g = 0; g < c->n_groups; g++)
		for (uint32_t s = 0; r->cap[g] == c->n && s < c->n; s++)
			r->cell[r->at[g] + s].node = s;
	return 0;
fail:
	place_rows_free(r);
	return -ENOMEM;
}

void place_rows_free(struct place_rows *r)
{
	free(r->cell);
	free(r->at);
	free(r->len);
	free(r->cap);
	memset(r, 0, sizeof(*r));
}

struct place_cell *place_rows_get(struct place_rows *r, uint32_t g, uint32_t s)
{
	struct place_cell *row = &r->cell[r->at[g]], *x = place_rows_find(r, g, s);

	if (x)
		return x;
	for (uint32_t k = 0; k < r->len[g]; k++)
		if (row[k].xo == 0 && row[k].xs == 0 && row[k].cur == 0) {
			row[k].node = s;
			return &row[k];
		}
	/* never full: at most 2k nodes hold or are home to k resources */
	x = &row[r->len[g]++];
	x->node = s;
	return x;
}

static const struct place_ctx *sort_ctx;

/* Movable resources by (pool, class, index), cut into groups. */
static int make_groups(struct place_ctx *c)
{
	uint32_t k = 0, *tmp = malloc((c->in->n_res + 1) * sizeof(*tmp));

	if (tmp == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->in->n_res; i++)
		if (place_ctx_movable(c, i))
			c->ord[k++] = i;
	radix(c->cls, c->ord, tmp, k, c->n_cls ? c->n_cls - 1 : 0);
	radix(c->pp, c->ord, tmp, k, c->n_pp ? c->n_pp - 1 : 0);
	free(tmp);
	c->n_groups = 0;
	for (uint32_t j = 0; j < k; j++) {
		uint32_t i = c->ord[j];
		struct place_group *g = c->n_groups ? &c->groups[c->n_groups - 1] : NULL;

		if (g && g->pp == c->pp[i] && g->cls == c->cls[i]) {
			g->len++;
			continue;
		}
		c->groups[c->n_groups++] = (struct place_group){c->pp[i], c->cls[i], j, 1};
	}
	return 0;
}

static int set_value_cmp(const void *pa, const void *pb)
{
	const struct place_ctx *c = sort_ctx;
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	uint32_t x = c->in->res[a].set, y = c->in->res[b].set;

	if (x != y)
		return x < y ? -1 : 1;
	return (a > b) - (a < b);
}

/* Sets of two or more members, with the nodes of their settled members. */
static int make_sets(struct place_ctx *c)
{
	const struct place_in *in = c->in;
	uint32_t k = 0;

	for (uint32_t i = 0; i < in->n_res; i++)
		if (in->res[i].set != 0)
			c->smem[k++] = i;
	sort_ctx = c;
	qsort(c->smem, k, sizeof(*c->smem), set_value_cmp);
	for (uint32_t j = 0, end; j < k; j = end) {
		struct place_set *st;

		for (end = j + 1; end < k && in->res[c->smem[end]].set == in->res[c->smem[j]].set;)
			end++;
		if (end - j < 2)
			continue;
		st = &c->sets[c->n_sets++];
		memset(st, 0, sizeof(*st));
		st->first = j;
		st->len = end - j;
		for (uint32_t m = j; m < end; m++) {
			c->set[c->smem[m]] = c->n_sets;
			if (c->owner[c->smem[m]] != PLACE_NONE)
				set_add(c, c->n_sets - 1, c->owner[c->smem[m]]);
		}
	}
	return 0;
}

/* Where 'j' stands before balancing: settled, or at home. */
static uint32_t start_of(const struct place_ctx *c, uint32_t j)
{
	if (c->owner[j] != PLACE_NONE)
		return c->owner[j];
	return c->kind[j] == PK_STICKY ? c->in->res[j].prev : PLACE_NONE;
}

/* Does STICKY 'i' start on its home next to a member of its set? */
static bool collides_at_home(const struct place_ctx *c, uint32_t i)
{
	const struct place_set *st;

	if (!c->set[i])
		return false;
	st = &c->sets[c->set[i] - 1];
	for (uint32_t m = st->first; m < st->first + st->len; m++)
		if (c->smem[m] != i && start_of(c, c->smem[m]) == c->in->res[i].prev)
			return true;
	return false;
}

/* Order in which the STICKY resources of a group that share a home leave
 * it: colliding first, then fewest connections, then highest index. */
static const uint8_t *sort_coll;

static int leave_cmp(const void *pa, const void *pb)
{
	const struct place_ctx *c = sort_ctx;
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	const struct place_res *x = &c->in->res[a], *y = &c->in->res[b];

	if (x->prev != y->prev)
		return x->prev < y->prev ? -1 : 1;
	if (sort_coll[a] != sort_coll[b])
		return sort_coll[a] ? -1 : 1;
	if (x->conns != y->conns)
		return x->conns < y->conns ? -1 : 1;
	return (a < b) - (a > b);
}

/* The node with room in 'room' for 'i', dealt round from '*next' (so
 * neighbouring addresses land on different nodes): with 'aware', one
 * without a member of its set if any, else the first with room. */
static uint32_t room_for(const struct place_ctx *c, const uint32_t *room, uint32_t i,
			 uint32_t *next, bool aware)
{
	uint32_t any = PLACE_NONE;

	for (uint32_t k = 0; k < c->n; k++) {
		uint32_t s = (*next + k) % c->n;

		if (room[s] == 0)
			continue;
		if (!aware || !place_ctx_set_on(c, i, s)) {
			any = s;
			break;
		}
		if (any == PLACE_NONE)
			any = s;
	}
	if (any != PLACE_NONE)
		*next = (any + 1) % c->n;
	return any;
}

/* STICKY resources of group 'gi' per home, into 'cnt' (n entries). */
static void homes(const struct place_ctx *c, uint32_t gi, uint32_t *cnt)
{
	const struct place_group *g = &c->groups[gi];

	memset(cnt, 0, c->n * sizeof(*cnt));
	for (uint32_t j = g->first; j < g->first + g->len; j++)
		if (c->kind[c->ord[j]] == PK_STICKY)
			cnt[c->in->res[c->ord[j]].prev]++;
}

/* Step 4: owners from the counts of every group; with 'aware', minding
 * the sets. */
static int pick(struct place_ctx *c, const struct place_rows *x, bool aware)
{
	uint32_t n = c->n, *tmp = malloc((c->in->n_res + 1) * sizeof(*tmp));
	uint8_t *coll = calloc(c->in->n_res + 1, 1);
	uint32_t home_cnt[CHORUS_MAX_NODES];

	if (tmp == NULL || coll == NULL) {
		free(tmp);
		free(coll);
		return -ENOMEM;
	}
	/* first every group keeps what stays, so the sets know where they
	 * are; only the homes that give something up need an order */
	for (uint32_t gi = 0; gi < c->n_groups; gi++) {
		const struct place_group *g = &c->groups[gi];
		uint32_t want[CHORUS_MAX_NODES], k = 0;
		const struct place_cell *row = &x->cell[x->at[gi]];

		homes(c, gi, home_cnt);
		memset(want, 0, n * sizeof(*want));
		for (uint32_t m = 0; m < x->len[gi]; m++)
			want[row[m].node] = row[m].xs;
		for (uint32_t j = g->first; j < g->first + g->len; j++) {
			uint32_t i = c->ord[j], home = c->in->res[i].prev;

			if (c->kind[i] != PK_STICKY)
				continue;
			if (home_cnt[home] <= want[home]) {
				place_ctx_relocate(c, i, home);
			} else {
				coll[i] = aware && collides_at_home(c, i);
				tmp[k++] = i;
			}
		}
		sort_ctx = c;
		sort_coll = coll;
		qsort(tmp, k, sizeof(*tmp), leave_cmp);
		for (uint32_t j = 0, end; j < k; j = end) {
			uint32_t home = c->in->res[tmp[j]].prev;

			for (end = j + 1; end < k && c->in->res[tmp[end]].prev == home;)
				end++;
			for (uint32_t m = end - want[home]; m < end; m++)
				place_ctx_relocate(c, tmp[m], home);
		}
	}
	/* then the newcomers, in index order, where a group has more than it
	 * kept: STICKY ones where its STICKY count grew, orphans where it has
	 * orphans */
	for (uint32_t gi = 0; gi < c->n_groups; gi++) {
		const struct place_group *g = &c->groups[gi];
		uint32_t room_s[CHORUS_MAX_NODES], room_o[CHORUS_MAX_NODES], next = 0;
		bool any = false;

		for (uint32_t j = g->first; j < g->first + g->len && !any; j++)
			any = c->owner[c->ord[j]] == PLACE_NONE;
		if (!any)
			continue;
		homes(c, gi, home_cnt);
		memset(room_s, 0, n * sizeof(*room_s));
		memset(room_o, 0, n * sizeof(*room_o));
		for (uint32_t m = 0; m < x->len[gi]; m++) {
			const struct place_cell *e = &x->cell[x->at[gi] + m];

			room_s[e->node] = e->xs > home_cnt[e->node] ? e->xs - home_cnt[e->node] : 0;
			room_o[e->node] = e->xo;
		}
		for (uint32_t j = g->first; j < g->first + g->len; j++) {
			uint32_t i = c->ord[j], *room, s;

			if (c->owner[i] != PLACE_NONE)
				continue;
			room = c->kind[i] == PK_STICKY ? room_s : room_o;
			s = room_for(c, room, i, &next, aware);
			if (s == PLACE_NONE)
				continue;	/* cannot happen: the counts add up */
			room[s]--;
			place_ctx_relocate(c, i, s);
		}
	}
	free(tmp);
	free(coll);
	return 0;
}

/* Pairs of members of one set on one node. */
static uint64_t collision_pairs(const struct place_ctx *c)
{
	uint32_t cnt[CHORUS_MAX_NODES] = {0};
	uint64_t pairs = 0;

	for (uint32_t m = 0; m < c->n_sets; m++) {
		const struct place_set *st = &c->sets[m];

		for (uint32_t j = st->first; j < st->first + st->len; j++) {
			uint32_t o = c->owner[c->smem[j]];

			if (o != PLACE_NONE)
				pairs += cnt[o]++;
		}
		for (uint32_t j = st->first; j < st->first + st->len; j++)
			if (c->owner[c->smem[j]] != PLACE_NONE)
				cnt[c->owner[c->smem[j]]] = 0;
	}
	return pairs;
}

/* What pick() and the steps after it change, to try two ways. */
struct snap {
	uint32_t *owner, *P;
	uint32_t T[CHORUS_MAX_NODES];
	struct place_set *sets;
};

static void snap_take(const struct place_ctx *c, struct snap *sn)
{
	memcpy(sn->owner, c->owner, c->in->n_res * sizeof(*sn->owner));
	memcpy(sn->P, c->P, (size_t)c->n_pp * c->n * sizeof(*sn->P));
	memcpy(sn->T, c->T, sizeof(sn->T));
	memcpy(sn->sets, c->sets, c->n_sets * sizeof(*sn->sets));
}

static void snap_put(struct place_ctx *c, const struct snap *sn)
{
	memcpy(c->owner, sn->owner, c->in->n_res * sizeof(*sn->owner));
	memcpy(c->P, sn->P, (size_t)c->n_pp * c->n * sizeof(*sn->P));
	memcpy(c->T, sn->T, sizeof(sn->T));
	memcpy(c->sets, sn->sets, c->n_sets * sizeof(*sn->sets));
}

/*
 * Step 4 with sets.  Dealing each newcomer to a node without a member of
 * its set, then rule 8, nearly always leaves the fewest collisions, and
 * fast; on odd inputs (sets larger than the nodes, spread over several
 * pools) it can leave more than dealing blind would.  So both are dealt,
 * and the blind one kept (rule 8 then runs on it) when it collides less:
 * rule 8 never leaves more collisions than ignoring sets would.  Returns
 * the fixes rule 8 made on the dealing kept, or -ENOMEM.
 */
static long pick_sets(struct place_ctx *c, const struct place_rows *x)
{
	struct snap base = {0}, blind = {0};
	uint64_t plain;
	long rc = -ENOMEM, fixes;

	base.owner = malloc((c->in->n_res + 1) * sizeof(*base.owner));
	base.P = malloc(((size_t)c->n_pp * c->n + 1) * sizeof(*base.P));
	base.sets = malloc((c->n_sets + 1) * sizeof(*base.sets));
	blind.owner = malloc((c->in->n_res + 1) * sizeof(*blind.owner));
	blind.P = malloc(((size_t)c->n_pp * c->n + 1) * sizeof(*blind.P));
	blind.sets = malloc((c->n_sets + 1) * sizeof(*blind.sets));
	if (!base.owner || !base.P || !base.sets || !blind.owner || !blind.P || !blind.sets)
		goto out;
	snap_take(c, &base);
	if (pick(c, x, false) < 0)
		goto out;
	plain = collision_pairs(c);
	snap_take(c, &blind);
	snap_put(c, &base);
	if (pick(c, x, true) < 0 || (fixes = place_spread(c)) < 0)
		goto out;
	rc = fixes;
	if (collision_pairs(c) > plain) {
		snap_put(c, &blind);
		rc = 0;
	}
out:
	free(base.owner);
	free(base.P);
	free(base.sets);
	free(blind.owner);
	free(blind.P);
	free(blind.sets);
	return rc;
}

static bool any_weight(const struct place_in *in)
{
	for (uint32_t i = 0; i < in->n_res; i++)
		if (in->res[i].weight != 0)
			return true;
	return false;
}

int place_run(const struct place_in *in, uint32_t *owner, struct place_stats *st)
{
	struct place_ctx c = {0};
	struct place_stats s = {0};
	uint32_t nr;
	long rc;

	rc = validate(in, owner);
	if (rc < 0)
		return (int)rc;
	if (in->version == PLACE_V1)
		return place_v1_run(in, owner, st);
	if (st)
		memset(st, 0, sizeof(*st));
	nr = in->n_res;
	if (nr == 0)
		return 0;
	c.in = in;
	c.n = in->n_nodes;
	c.owner = owner;
	rc = -ENOMEM;
	c.kind = calloc(nr, 1);
	c.cls = calloc(nr, sizeof(*c.cls));
	c.pp = calloc(nr, sizeof(*c.pp));
	c.set = calloc(nr, sizeof(*c.set));
	c.ord = calloc(nr, sizeof(*c.ord));
	c.smem = calloc(nr, sizeof(*c.smem));
	c.groups = calloc(nr, sizeof(*c.groups));
	c.sets = calloc(nr / 2 + 1, sizeof(*c.sets));
	if (!c.kind || !c.cls || !c.pp || !c.set || !c.ord || !c.smem || !c.groups || !c.sets)
		goto out;
	if (dense_pools(&c) < 0 || classify(&c) < 0)
		goto out;
	if (make_groups(&c) < 0)
		goto out;
	c.P = calloc((size_t)c.n_pp * c.n + 1, sizeof(*c.P));
	if (c.P == NULL || make_sets(&c) < 0)
		goto out;
	{
		struct place_rows rows, *x = &rows;
		long cycles = place_rows_new(&rows, &c) < 0 ? -ENOMEM : place_count(&c, x);

		/* place_count left P and T at its counts; pick() rebuilds them
		 * resource by resource from the settled ones */
		if (cycles >= 0) {
			memset(c.P, 0, (size_t)c.n_pp * c.n * sizeof(*c.P));
			memset(c.T, 0, sizeof(c.T));
			for (uint32_t i = 0; i < nr; i++)
				if (owner[i] != PLACE_NONE) {
					c.P[(size_t)c.pp[i] * c.n + owner[i]]++;
					c.T[owner[i]]++;
				}
			s.cycles = (uint32_t)cycles;
			cycles = c.n_sets ? pick_sets(&c, x) : pick(&c, x, false);
			if (cycles > 0)
				s.spread_fixes = (uint32_t)cycles;
		}
		place_rows_free(&rows);
		if (cycles < 0)
			goto out;
	}
	if (in->load_budget > 0 && any_weight(in))
		s.load_moves = place_load(&c);
	rc = place_spread(&c);
	if (rc < 0)
		goto out;
	s.spread_fixes += (uint32_t)rc;
	for (uint32_t i = 0; i < nr; i++) {
		uint32_t prev = in->res[i].prev;

		if (owner[i] == PLACE_NONE)
			s.unplaced++;
		if (prev != PLACE_NONE && owner[i] != prev)
			s.moves++;
		else if (prev == PLACE_NONE && owner[i] != PLACE_NONE)
			s.placed++;
	}
	if (st)
		*st = s;
	rc = 0;
out:
	free(c.kind);
	free(c.cls);
	free(c.pp);
	free(c.set);
	free(c.ord);
	free(c.smem);
	free(c.groups);
	free(c.sets);
	free(c.cbits);
	free(c.P);
	return (int)rc;
}
