/*
 * Load figures for status, vips and plan (ctl_load.h).  Everything comes
 * from the core's replicated table, so every node answers the same.
 */
#include "config.h"

#include "daemon/ctl_load.h"

#include <inttypes.h>
#include <stdio.h>

#include "core/load.h"

int64_t ctl_node_load(const struct core *c, uint32_t nodeid)
{
	int64_t sum = 0;

	for (size_t i = 0; c && i < core_res_count(c); i++) {
		struct core_res_view v;
		uint32_t l, k;

		core_res_get(c, i, &v);
		core_load_get(c, &v.addr, &l, &k);
		sum += v.owner == nodeid ? l : 0;
	}
	return sum;
}

bool ctl_load_known(const struct core *c)
{
	for (size_t i = 0; c && i < core_res_count(c); i++) {
		struct core_res_view v;
		uint32_t l, k;

		core_res_get(c, i, &v);
		core_load_get(c, &v.addr, &l, &k);
		if (l > 0)
			return true;
	}
	return false;
}

/* A node's load once every move of the plan is made. */
static int64_t after(const struct core *c, const struct core_plan_move *moves, size_t n,
		     uint32_t nodeid)
{
	int64_t sum = ctl_node_load(c, nodeid);

	for (size_t i = 0; i < n; i++) {
		uint32_t l, k;

		core_load_get(c, &moves[i].addr, &l, &k);
		if (moves[i].from == nodeid)
			sum -= l;
		if (moves[i].to == nodeid)
			sum += l;
	}
	return sum;
}

void ctl_load_why(const struct core *c, const struct core_plan_move *moves, size_t n, size_t i,
		  char *buf, size_t size)
{
	const struct core_plan_move *m = &moves[i];

	snprintf(buf, size, "load %" PRId64 " -> %" PRId64 " on %" PRIu32 ", %" PRId64 " -> %" PRId64
		 " on %" PRIu32, ctl_node_load(c, m->from), after(c, moves, n, m->from), m->from,
		 ctl_node_load(c, m->to), after(c, moves, n, m->to), m->to);
}
