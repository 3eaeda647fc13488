/*
 * What every fake CPG in front of real cores needs: the group's member list
 * kept the way libcpg reports it, and the classic confchg one receiver gets
 * for it.  The simulator (sim.c, with its faults) and the scale benchmark
 * (tests/bench/scale_sim.c, without) both build on these, so the confchgs a
 * benchmark measures are the ones the simulator checks.
 */
#ifndef CHORUS_TESTS_FAKECPG_H
#define CHORUS_TESTS_FAKECPG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/state.h"

/* (nodeid, pid) ascending: the order corosync lists a group in. */
int fcpg_member_cmp(const void *a, const void *b);
bool fcpg_has_member(const struct core_member *v, size_t n, uint32_t nodeid, uint32_t pid);

/* A process joins / leaves the group 'mem' of '*n' (kept sorted; 'mem' has
 * room for one more).  False when that changes nothing, and then corosync
 * delivers no confchg for it. */
bool fcpg_group_join(struct core_member *mem, size_t *n, uint32_t nodeid, uint32_t pid);
bool fcpg_group_leave(struct core_member *mem, size_t *n, uint32_t nodeid, uint32_t pid);

/*
 * The confchg for group 'mem' as a receiver that last saw 'seen' gets it:
 * left and joined are computed per receiver from what it saw (they differ
 * between receivers after a partition, docs/corosync.md §2), each with its
 * reason.  'left' needs room for '*nseen' entries, 'joined' for 'nmem';
 * 'seen' (room for 'nmem') becomes 'mem'.  'ev' borrows all three arrays.
 */
void fcpg_confchg(struct core_event *ev, struct core_member *seen, size_t *nseen,
		  const struct core_member *mem, size_t nmem, uint32_t reason_left,
		  uint32_t reason_joined, struct core_member *left, struct core_member *joined);

#endif
