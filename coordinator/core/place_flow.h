/*
 * Count balance internals (placement version 2), shared by place_count.c
 * (the flow, its search and cancelling) and place_start.c (the greedy
 * start).  Nothing else includes it.
 */
#ifndef CHORUS_CORE_PLACE_FLOW_H
#define CHORUS_CORE_PLACE_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "core/place_private.h"

struct c3 {
	int64_t a, b, c;
};

enum { ARC_00, ARC_0M, ARC_10, ARC_1M, ARC_KINDS };

struct cgroup {
	uint32_t pp, pa, cls;
	uint32_t width;		/* nodes in its class */
	uint32_t n_free;	/* STICKY ones released by the greedy start */
	uint32_t n_orph;
	/* nodes where it has orphans, STICKY ones, more STICKY ones than
	 * call it home, fewer */
	struct place_bits occ_o, occ_s, over, deficit;
};

struct flow {
	struct place_ctx *c;
	const struct place_bits *nr;
	uint32_t n, ng, npa, nv;
	struct cgroup *g;
	struct place_rows *x;		/* each group's counts per node */
	uint32_t *P0;			/* [pp * n + slot]: FIXED, PINNED, unmovable STICKY */
	uint32_t T0[CHORUS_MAX_NODES];
	uint32_t *pa_pp, *pa_g0;	/* per active pool: its pool, its first group */
	uint32_t *pa_of_pp;
	struct place_bits *uni;		/* per active pool: the nodes of its classes */
	struct place_bits *arc;		/* [((pa * n + a) * ARC_KINDS + k] */
	struct place_bits *old_arc;	/* one pool's worth, for rebuild() */
	/* per (pool, node): the groups with a resource there, as of the last
	 * rebuild() of the pool: ol[ol_at[pa * (n + 1) + a] ...] */
	uint32_t *ol, *ol_at, *ol_base;
	uint8_t *dirty;			/* per active pool */
	/* Bellman-Ford, kept across cancellations */
	struct c3 *d;
	uint32_t *par, *queue, *cyc;
	uint8_t *inq, *mark;
	uint32_t qh, qt;
	uint64_t nrel;
};

static inline uint32_t place_flow_popcount(const struct place_bits *b)
{
	uint32_t k = 0;

	for (uint32_t w = 0; w < PLACE_WORDS; w++)
		k += (uint32_t)__builtin_popcountll(b->w[w]);
	return k;
}

/* May a STICKY resource of group 'gi' be added on 's' (not onto a
 * no_receive node, except back home)? */
static inline bool place_flow_sticky_may_add(const struct flow *f, uint32_t gi, uint32_t s)
{
	return !place_bits_test(f->nr, s) || place_bits_test(&f->g[gi].deficit, s);
}

/* place_count.c: one resource of group 'gi' (an orphan, or a STICKY one)
 * more (+1) or less (-1) on 's', with everything that follows from it. */
void place_count_put(struct flow *f, uint32_t gi, bool sticky, uint32_t s, int delta);

/* place_start.c: with a rebalance, let go of what the nodes under the water
 * levels will need; then deal what is free (let go, or orphans). */
void place_start_release(struct flow *f);
int place_start_greedy(struct flow *f);

#endif
