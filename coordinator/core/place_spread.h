/*
 * Spreading the members of a set over distinct nodes (place.h rule 8),
 * internal to placement: place.c calls it on the finished assignment.
 */
#ifndef CHORUS_CORE_PLACE_SPREAD_H
#define CHORUS_CORE_PLACE_SPREAD_H

#include <stdint.h>

#include "core/place.h"

/* cost[i]: 0 = resource i is an orphan or moves anyway, 1 = it stays where
 * it runs (movable only when in->rebalance), SPREAD_NEVER = it may not move
 * (fixed, pinned, unplaced). */
#define SPREAD_NEVER 255u

/* Fix collisions in 'owner' (in/out) by moves and swaps that keep every
 * count balance; returns the number of fixes. */
uint32_t place_spread(const struct place_in *in, uint32_t *owner, const uint8_t *cost);

#endif
