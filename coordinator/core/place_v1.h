/*
 * Placement version 1 (PLACE_V1): the placement of wire protocol 6 and
 * below, kept unchanged so that a cluster with a member older than
 * protocol 7 computes the same table on every member during a rolling
 * upgrade.  Its contract is the one place.h stated before: balance per
 * (pool, class), load instead of counts once weights are known, an extras
 * flow with a budget and a greedy fallback.  Do not change what it
 * computes; it goes when protocol 6 does.
 */
#ifndef CHORUS_CORE_PLACE_V1_H
#define CHORUS_CORE_PLACE_V1_H

#include <stdbool.h>
#include <stdint.h>

#include "core/place.h"

/* place_run() for in->version == PLACE_V1, on input place_run() has
 * already validated (it is its only caller). */
int place_v1_run(const struct place_in *in, uint32_t *owner, struct place_stats *st);

/* Rule 7, version 1 (place_v1_load.c): true when any weight is nonzero;
 * move 'movable' resources of 'owner' toward load balance. */
bool place_v1_load_active(const struct place_in *in);
uint32_t place_v1_load_balance(const struct place_in *in, uint32_t *owner, const uint8_t *movable);

/* Rule 8, version 1 (place_v1_spread.c).  cost[i]: 0 = an orphan or moved
 * anyway, 1 = stays where it runs, PLACE_V1_SPREAD_NEVER = may not move. */
#define PLACE_V1_SPREAD_NEVER 255u
uint32_t place_v1_spread(const struct place_in *in, uint32_t *owner, const uint8_t *cost);

#endif
