/*
 * Load in the control socket's answers: per-node sums and the reason a
 * load rebalance gives for a move, from the replicated load table.
 */
#ifndef CHORUS_CTL_LOAD_H
#define CHORUS_CTL_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/state.h"

/* Sum of the load of what the table gives 'nodeid'. */
int64_t ctl_node_load(const struct core *c, uint32_t nodeid);

/* True once some address carries load. */
bool ctl_load_known(const struct core *c);

/* "load 181800 -> 121200 on 1, 13600 -> 74200 on 2": the loads of move i's
 * two nodes before the plan and after all its moves. */
void ctl_load_why(const struct core *c, const struct core_plan_move *moves, size_t n, size_t i,
		  char *buf, size_t size);

#endif
