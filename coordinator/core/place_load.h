/*
 * Load-aware rebalancing, internal to placement (place.c calls it).  The
 * algorithm and its thresholds are described in place_load.c.
 */
#ifndef CHORUS_CORE_PLACE_LOAD_H
#define CHORUS_CORE_PLACE_LOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "core/place.h"

/* True when any resource of 'in' carries a nonzero weight. */
bool place_load_active(const struct place_in *in);

/* Move movable resources ('movable[i]' nonzero) of 'owner' (in/out, slots)
 * toward load balance within in->load_margin_pct, at most in->load_budget
 * moves.  Returns the number of moves made. */
uint32_t place_load_balance(const struct place_in *in, uint32_t *owner, const uint8_t *movable);

#endif
