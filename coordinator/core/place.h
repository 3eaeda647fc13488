/*
 * Placement: a pure function from (node slots, eligibility, previous owners,
 * pins, policy) to an assignment.  No I/O, no clock, no randomness, integer
 * arithmetic only, ties broken by slot or resource index, so every node that
 * feeds it the same input computes the same output.
 *
 * Node slots are 0..n_nodes-1 in ascending nodeid order; the caller maps them.
 * Resources are given in a fixed caller-defined order (the core sorts them by
 * identity) and are referred to by index.
 *
 * Rules, in priority order:
 *  1. valid:    a resource is owned by a node of its eligibility class, or is
 *               unplaced (PLACE_NONE) only when that class is empty.
 *  2. fixed:    PLACE_F_FIXED resources keep 'prev' whatever it is (a holder
 *               inside its restart grace); they count toward its load.
 *  3. pinned:   a resource whose 'pin' slot is eligible goes there.
 *  4. sticky:   a resource whose 'prev' is eligible stays, unless balancing
 *               requires moving it and 'rebalance' is set.
 *  5. orphans (no eligible prev) go to the least loaded eligible node: fewest
 *               of that pool, then fewest overall, then lowest slot.
 *  6. balance:  with 'rebalance', per-pool counts among the eligible nodes of a
 *               class differ by at most one, and overall counts as well where
 *               eligibility allows; with the fewest moves that achieve it.
 *               Nodes whose bit is set in 'no_receive' take orphans but are
 *               not the target of balancing moves (failback manual / delay).
 *  7. load:     when any resource has a nonzero 'weight', 'rebalance' balances
 *               load instead of counts (place_load.c): nothing moves while
 *               the heaviest eligible node is within 'load_margin_pct' of the
 *               best achievable; otherwise at most 'load_budget' movable
 *               resources move, fewest connections first.  Rules 1-5 and
 *               orphan placement are unchanged, so a lost node's resources
 *               are placed at once whatever the load.  With every weight 0
 *               this rule does not exist and counts balance as in rule 6.
 *  8. spread:   resources with the same nonzero 'set' (the bricks of one
 *               replica or disperse set) end on distinct nodes where a move
 *               or a swap within their (pool, class) achieves it without
 *               breaking rules 1-6; a resource staying where it runs is
 *               moved for it only with 'rebalance' (place_spread.c).
 *
 * Cost: O(C*N + R log N) for R resources, N nodes, C distinct (pool, class)
 * pairs.
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
	bool rebalance;
	struct place_bits no_receive;
	uint32_t load_margin_pct;	/* rule 7: the band above the best achievable */
	uint32_t load_budget;		/* rule 7: most moves in this call */
};

struct place_stats {
	uint32_t moves;		/* resources whose owner differs from a non-NONE prev */
	uint32_t placed;	/* resources that had no prev and got an owner */
	uint32_t unplaced;	/* resources left at PLACE_NONE */
	uint32_t load_moves;	/* of 'moves', made by rule 7 */
	uint32_t spread_fixes;	/* moves and swaps made by rule 8 */
};

/* Compute the assignment into 'owner' (n_res entries, caller-allocated).
 * 'st' may be NULL.  Returns 0, -EINVAL on malformed input (slot or class out
 * of range), or -ENOMEM. */
int place_run(const struct place_in *in, uint32_t *owner, struct place_stats *st);

#endif
