/*
 * Load reports and load-aware rebalancing in the core (load.c says how).
 * The first part is for the daemon; the rest is internal to the core.
 */
#ifndef CHORUS_CORE_LOAD_H
#define CHORUS_CORE_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/res.h"

struct core;
struct core_actions;

/* This node's measurement for its declared vip 'idx' (config order): a load
 * figure and a connection count.  Kept locally; multicast at the next TICK
 * (at most once a second) if it changed.  Returns 0 or -EINVAL. */
int core_set_load(struct core *c, size_t idx, uint32_t load, uint32_t conns);

/* The replicated load of 'addr' as last reported by its owner (0, 0 when
 * none was). */
void core_load_get(const struct core *c, const struct res_addr *addr, uint32_t *load,
		   uint32_t *conns);

/* What the next load rebalance would move now ('*moves' allocated, free it;
 * the same placement code, changing nothing).  -EAGAIN without a completed
 * round. */
struct core_plan_move;
int core_load_plan(struct core *c, struct core_plan_move **moves, size_t *n);

/* Load rebalances applied since start, and the moves they made. */
void core_load_stats(const struct core *c, uint64_t *rebalances, uint64_t *moves);

/* ---- internal to the core ---- */
#include "core/place.h"
#include "core/wire.h"

int core_load_new(struct core *c);
void core_load_free(struct core *c);
/* A round completed: empty the replicated table, report again soon. */
void core_load_round_reset(struct core *c);
/* A delivered LOAD, in order. */
void core_load_apply(struct core *c, uint32_t nodeid, const struct wire_hdr *h, const void *buf,
		     size_t size);
/* A delivered load REBALANCE, in order. */
void core_load_rebalance(struct core *c, struct core_actions *out);
/* Weights and connections into 'pr' (n_res entries), and the rule 7 knobs. */
void core_load_fill(const struct core *c, struct place_res *pr, uint32_t *margin_pct,
		    uint32_t *budget);
void core_load_tick(struct core *c, struct core_actions *out);
/* The earlier of 'next' and when core_load_tick() has work. */
uint64_t core_load_next(const struct core *c, uint64_t next);

#endif
