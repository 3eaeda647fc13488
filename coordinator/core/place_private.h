/*
 * Placement version 2, internal: what place.c hands to its steps (count
 * balance in place_count.c, rule 7 in place_load.c, rule 8 in
 * place_spread.c).  The contract is in place.h.
 */
#ifndef CHORUS_CORE_PLACE_PRIVATE_H
#define CHORUS_CORE_PLACE_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/place.h"

/* The kinds of place.h, per resource. */
enum place_kind {
	PK_NONE,	/* empty class: unplaced */
	PK_FIXED,	/* keeps prev */
	PK_PINNED,	/* on its eligible pin */
	PK_STICKY,	/* on its eligible prev, or moved by a rebalance */
	PK_ORPHAN,	/* placed anywhere in its class */
};

/* Movable resources of one (pool, class): interchangeable for counts. */
struct place_group {
	uint32_t pp;		/* dense pool */
	uint32_t cls;		/* canonical class */
	uint32_t first, len;	/* range in place_ctx.ord */
};

struct place_ctx {
	const struct place_in *in;
	uint32_t n;			/* nodes: the stride of every per-node array */
	uint32_t *owner;		/* the result, filled step by step */
	uint8_t *kind;			/* enum place_kind per resource */
	uint32_t *cls;			/* per resource: canonical class */
	struct place_bits *cbits;	/* canonical classes, distinct, in bitmap order */
	uint32_t n_cls;
	uint32_t *pp;			/* per resource: dense pool (pool ids in order) */
	uint32_t n_pp;
	/* the groups of the movable resources (ORPHAN, and STICKY with
	 * 'rebalance'), in (pool, class) order; 'ord' lists them by group */
	struct place_group *groups;
	uint32_t n_groups;
	uint32_t *ord;
	/* counts of the current 'owner': [pp * n + slot], and overall */
	uint32_t *P;
	uint32_t T[CHORUS_MAX_NODES];
	/* sets of two or more members: per resource 1 + dense id (0: none);
	 * per set its members (a range of 'smem') and the nodes holding one,
	 * or more than one: no sets x nodes matrix, so no limit on either */
	uint32_t *set;
	struct place_set *sets;
	uint32_t n_sets;
	uint32_t *smem;
};

struct place_set {
	uint32_t first, len;		/* range in place_ctx.smem */
	struct place_bits occ, multi;	/* nodes with one member or more, two or more */
};

/* Members of 'i's set on 'slot' ('i' in a set). */
static inline bool place_ctx_set_on(const struct place_ctx *c, uint32_t i, uint32_t slot)
{
	return c->set[i] && place_bits_test(&c->sets[c->set[i] - 1].occ, slot);
}

/* Does 'i' share its node with another member of its set? */
static inline bool place_ctx_collides(const struct place_ctx *c, uint32_t i)
{
	return c->set[i] && c->owner[i] != PLACE_NONE &&
	       place_bits_test(&c->sets[c->set[i] - 1].multi, c->owner[i]);
}

static inline bool place_ctx_movable(const struct place_ctx *c, uint32_t i)
{
	return c->kind[i] == PK_ORPHAN || (c->kind[i] == PK_STICKY && c->in->rebalance);
}

/* The resource has an eligible previous holder (it is not an orphan). */
static inline bool place_ctx_runs(const struct place_ctx *c, uint32_t i)
{
	return c->kind[i] == PK_STICKY;
}

/* Put resource 'i' on 'to' (PLACE_NONE: nowhere) in 'owner', keeping P, T
 * and the set bitmaps. */
void place_ctx_relocate(struct place_ctx *c, uint32_t i, uint32_t to);

/* A group's counts on one node. */
struct place_cell {
	uint32_t node;
	uint32_t xo;	/* its orphans there */
	uint32_t xs;	/* its STICKY resources there */
	uint32_t cur;	/* its STICKY resources that call the node home */
};

/*
 * Every group's counts per node, a row per group: dense (cell s for node s)
 * for a group with many resources, sparse otherwise (the cells of the nodes
 * it touches, in no order).  A group of k resources touches at most 2k
 * nodes at any time: where they are and where they call home, so a class
 * per address costs a few cells per group, not a cell per node.
 */
struct place_rows {
	struct place_cell *cell;
	uint32_t *at;		/* per group: its first cell */
	uint32_t *len;		/* per group: cells in use (n when dense) */
	uint32_t *cap;		/* per group: cells it has (n when dense) */
	uint32_t n;
};

int place_rows_new(struct place_rows *r, const struct place_ctx *c);
void place_rows_free(struct place_rows *r);

/* The cell of group 'g' on node 's', or NULL when it has none there (all
 * its counts 0). */
static inline struct place_cell *place_rows_find(const struct place_rows *r, uint32_t g,
						 uint32_t s)
{
	struct place_cell *row = &r->cell[r->at[g]];

	if (r->cap[g] == r->n)
		return &row[s];
	for (uint32_t k = 0; k < r->len[g]; k++)
		if (row[k].node == s)
			return &row[k];
	return NULL;
}

/* The same, made when missing (taking over a cell whose counts went 0). */
struct place_cell *place_rows_get(struct place_rows *r, uint32_t g, uint32_t s);

/*
 * Count balance: how many of each group go on each node.  'rows' (new,
 * empty) receive the orphans and the STICKY resources of each group per
 * node, for an optimum of place.h's sums 1-3; P and T are left counting
 * it.  Returns the number of improving cycles it cancelled, or -ENOMEM.
 */
long place_count(struct place_ctx *c, struct place_rows *rows);

/* Rule 7 on the finished count balance.  Returns the moves it made. */
uint32_t place_load(struct place_ctx *c);

/* Rule 8.  Returns the fixes (moves and swaps) it made, or -ENOMEM. */
long place_spread(struct place_ctx *c);

#endif
