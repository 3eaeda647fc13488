/*
 * Placement: a pure function from (node slots, eligibility, previous owners,
 * pins, load, policy) to an assignment.  No I/O, no clock, no randomness,
 * integer arithmetic only, ties broken by slot or resource index, so every
 * node that feeds it the same input computes the same output.
 *
 * Node slots are 0..n_nodes-1 in ascending nodeid order; the caller maps them.
 * Resources are given in a fixed caller-defined order (the core sorts them by
 * identity) and are referred to by index.
 *
 * Two versions.  PLACE_V1 is the placement of wire protocol 6 and below,
 * kept as it was (place_v1.c) so that every member of a cluster that still
 * has an older member computes the same table; the core uses it until every
 * member speaks 7.  What follows is version 2, the default.
 *
 * Every resource is, from the input alone:
 *   FIXED    PLACE_F_FIXED with a prev (a holder inside its restart grace):
 *            stays on prev, eligible or not;
 *   NONE     its class is empty: unplaced (PLACE_NONE);
 *   PINNED   its pin is in its class: on the pin;
 *   STICKY   its prev is in its class: stays there, or with 'rebalance'
 *            may move, never onto a node of 'no_receive';
 *   ORPHAN   anything else: placed on a node of its class (no_receive nodes
 *            included: they take orphans, they are not balancing targets).
 *
 * Count balance (rules 1-6).  Among the assignments that respect the kinds,
 * placement returns one that minimises, in this order,
 *   1. for every pool, the sum over nodes of (its resources there)^2,
 *   2. the sum over nodes of (all resources there)^2,
 *   3. the number of STICKY resources not on their prev (the moves).
 * A sum of squares is least exactly when the counts are most even, so per
 * pool, and then overall, the counts differ by at most one between nodes
 * wherever eligibility, pins, fixed resources and no_receive allow it (with
 * one class of every node: +-1, per pool and overall), and no assignment as
 * even moves fewer resources.  Fixed and pinned resources count where they
 * are.  The minimum is exact for every input: a min-cost flow with no budget
 * and no fallback (place_count.c, place_start.c).  Of the resources of one
 * (pool, class) that leave a node, those sharing it with a member of their
 * set go first, then those with the fewest connections.
 *
 * Rule 7, load (place_load.c), only when 'load_budget' > 0 and some weight
 * is nonzero (a load rebalance).  It moves only what is STICKY or ORPHAN and
 * not PLACE_F_NO_LOAD_MOVE, and only in ways that keep sums 1 and 2 at their
 * minimum: a move onto a node that holds one fewer of the pool and one fewer
 * overall, or a swap with a lighter resource of the same pool (two moves).
 * Nothing moves while the heaviest node is within 'load_margin_pct' of the
 * best achievable (a lower bound); otherwise at most 'load_budget' moves
 * until it is within half the margin, fewest connections first, and none
 * unless together they cut the excess by the margin.  Load never changes
 * what count balance does: without a load budget weights are ignored.
 *
 * Rule 8, spread (place_spread.c): resources with the same nonzero 'set'
 * (the bricks of one replica or disperse set) end on distinct nodes where
 * possible.  Newcomers are dealt to nodes without a member of their set;
 * what still collides is fixed by a move that keeps sums 1 and 2 or by a
 * swap within the pool, each adding at most one move and none making a node
 * heavier than the busiest one; a resource staying where it runs is moved
 * for it only with 'rebalance'.  It never leaves more pairs of a set
 * together than ignoring sets would.  Load steps never put two members on
 * one node (a spread after them is not counted in 'load_budget').
 *
 * Properties, all tested: valid; deterministic; idempotent (the output
 * placed again as prev, with the same classes, pins, flags, rebalance and
 * no_receive and no load budget, moves nothing); independent of numbering
 * (renumbering pools, classes or resources, or splitting a class into
 * identical copies, changes none of the three sums).
 *
 * Cost, for R resources, N nodes, G groups of movable resources (pool,
 * class) and P pools with movable resources: classifying and grouping is
 * radix sorting, O(R + G N); the count balance starts greedily, O(R + G N),
 * from an assignment that is the optimum or a few cycles from it in the
 * usual cases, then searches a graph of P N vertices for improving cycles
 * until none is left (place_count.c); rule 8 costs O(R + C (N + R / N))
 * per pass for C colliding set members, rule 7 O(R log R) plus
 * O((R / N) N log R) per move.  tests/bench/placement measures adversarial
 * shapes up to the loader's limits.
 */
#ifndef CHORUS_CORE_PLACE_H
#define CHORUS_CORE_PLACE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/res.h"

#define PLACE_NONE UINT32_MAX
#define PLACE_WORDS ((CHORUS_MAX_NODES + 63) / 64)

#define PLACE_F_FIXED 0x1u
/* Rule 7 never moves it (a brick: moving one is a takeover, not a client
 * reconnect); its weight still counts on its node. */
#define PLACE_F_NO_LOAD_MOVE 0x2u

/* place_in.version */
#define PLACE_V2 0u	/* the default: the contract above */
#define PLACE_V1 1u	/* protocol 6 and below: place_v1.c */

struct place_bits {
	uint64_t w[PLACE_WORDS];
};

static inline bool place_bits_test(const struct place_bits *b, uint32_t i)
{
	return (b->w[i / 64] >> (i % 64)) & 1u;
}

static inline void place_bits_set(struct place_bits *b, uint32_t i)
{
	b->w[i / 64] |= (uint64_t)1 << (i % 64);
}

struct place_res {
	uint32_t pool;		/* dense pool index, < n_pools */
	uint32_t elig_class;	/* index into place_in.classes */
	uint32_t prev;		/* slot of the current holder, or PLACE_NONE */
	uint32_t pin;		/* operator pin slot, or PLACE_NONE */
	uint32_t flags;		/* PLACE_F_* */
	uint32_t weight;	/* load (any unit, the same for all); 0 = unknown/idle */
	uint32_t conns;		/* client connections: moving fewer disrupts less */
	uint32_t set;		/* rule 8: same nonzero value = spread apart; 0 = none */
};

struct place_in {
	uint32_t n_nodes;
	uint32_t n_pools;
	uint32_t n_classes;
	const struct place_bits *classes;	/* eligible slots per class */
	uint32_t n_res;
	const struct place_res *res;
	bool rebalance;			/* count balance may move STICKY resources */
	struct place_bits no_receive;
	uint32_t load_margin_pct;	/* rule 7: the band above the best achievable */
	uint32_t load_budget;		/* rule 7: most moves in this call; 0 = no load step */
	uint32_t version;		/* PLACE_V2 or PLACE_V1 */
};

struct place_stats {
	uint32_t moves;		/* resources whose owner differs from a non-NONE prev */
	uint32_t placed;	/* resources that had no prev and got an owner */
	uint32_t unplaced;	/* resources left at PLACE_NONE */
	uint32_t load_moves;	/* of 'moves', made by rule 7 */
	uint32_t spread_fixes;	/* moves and swaps made by rule 8 */
	uint32_t cycles;	/* improving cycles the count flow cancelled (v2) */
};

/* Compute the assignment into 'owner' (n_res entries, caller-allocated).
 * 'st' may be NULL.  Returns 0, -EINVAL on malformed input (slot or class out
 * of range, unknown version), or -ENOMEM; on error 'owner' is untouched or
 * (-ENOMEM only) unspecified. */
int place_run(const struct place_in *in, uint32_t *owner, struct place_stats *st);

/* Exact eligibility classes: 'bits' holds one bitmap per resource (n of
 * them); equal bitmaps get the same class, numbered in order of first
 * appearance, into 'cls' (n entries), and each class's bitmap into
 * 'classes' (room for n).  Returns the number of classes, or -ENOMEM. */
long place_classes(const struct place_bits *bits, uint32_t n, uint32_t *cls,
		   struct place_bits *classes);

#endif
