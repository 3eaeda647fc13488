/*
 * Unit tests for place_run() (placement version 2): the contract's rules
 * one by one, then randomized property tests (our own xorshift, fixed seeds,
 * so a failure is reproducible) checked against the independent optimality
 * certificate of place_cert.c, and a brute-force check that multi-pool
 * rebalancing makes no more moves than the best balanced assignment.  The
 * exhaustive optimum on small heterogeneous inputs, numbering independence
 * and the loader's limits are in place_prop_test.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/place.h"
#include "place_cert.h"

#define MAX_CLASSES 8
#define ALL_POOLS UINT32_MAX

struct sc {
	struct place_in in;
	struct place_bits classes[MAX_CLASSES];
	struct place_res *res;
	uint32_t *owner;
	uint32_t cap;
	struct place_stats st;
};

static struct sc *sc_new(uint32_t n_nodes, uint32_t n_pools, uint32_t n_classes)
{
	struct sc *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	assert_true(n_classes <= MAX_CLASSES);
	s->in.n_nodes = n_nodes;
	s->in.n_pools = n_pools;
	s->in.n_classes = n_classes;
	s->in.classes = s->classes;
	s->cap = 64;
	s->res = calloc(s->cap, sizeof(*s->res));
	s->owner = calloc(s->cap, sizeof(*s->owner));
	assert_non_null(s->res);
	assert_non_null(s->owner);
	s->in.res = s->res;
	return s;
}

static void sc_free(struct sc *s)
{
	free(s->res);
	free(s->owner);
	free(s);
}

/* Slots lo..hi-1 eligible in 'cls'. */
static void sc_class_range(struct sc *s, uint32_t cls, uint32_t lo, uint32_t hi)
{
	for (uint32_t i = lo; i < hi; i++)
		place_bits_set(&s->classes[cls], i);
}

static uint32_t sc_add(struct sc *s, uint32_t pool, uint32_t cls, uint32_t prev)
{
	if (s->in.n_res == s->cap) {
		s->cap *= 2;
		s->res = realloc(s->res, s->cap * sizeof(*s->res));
		s->owner = realloc(s->owner, s->cap * sizeof(*s->owner));
		assert_non_null(s->res);
		assert_non_null(s->owner);
	}
	s->res[s->in.n_res] =
	    (struct place_res){.pool = pool, .elig_class = cls, .prev = prev, .pin = PLACE_NONE};
	s->in.res = s->res;
	return s->in.n_res++;
}

static int sc_run(struct sc *s) { return place_run(&s->in, s->owner, &s->st); }

/* Make the last result the previous assignment, as the daemon does. */
static void sc_feed_back(struct sc *s)
{
	for (uint32_t i = 0; i < s->in.n_res; i++)
		s->res[i].prev = s->owner[i];
}

static uint32_t count_on(const struct sc *s, uint32_t pool, uint32_t slot)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < s->in.n_res; i++)
		if (s->owner[i] == slot && (pool == ALL_POOLS || s->res[i].pool == pool))
			k++;
	return k;
}

/* max - min of the counts of 'pool' over the slots of 'cls'. */
static uint32_t spread(const struct sc *s, uint32_t pool, uint32_t cls)
{
	uint32_t lo = UINT32_MAX, hi = 0;

	for (uint32_t n = 0; n < s->in.n_nodes; n++) {
		uint32_t k;

		if (!place_bits_test(&s->classes[cls], n))
			continue;
		k = count_on(s, pool, n);
		lo = k < lo ? k : lo;
		hi = k > hi ? k : hi;
	}
	return hi - lo;
}

/* 'n_res' resources of 'pool' spread round robin over slots 0..n-1. */
static void add_round_robin(struct sc *s, uint32_t pool, uint32_t cls, uint32_t n_res, uint32_t n)
{
	for (uint32_t i = 0; i < n_res; i++)
		sc_add(s, pool, cls, i % n);
}

static void test_node_loss(void **state)
{
	for (int reb = 0; reb < 2; reb++) {
		struct sc *s = sc_new(5, 1, 1);
		uint32_t lost;

		sc_class_range(s, 0, 0, 4); /* node 4 is gone */
		add_round_robin(s, 0, 0, 103, 5);
		s->in.rebalance = reb;
		lost = 103 / 5 + (4 < 103 % 5);
		assert_int_equal(sc_run(s), 0);
		assert_int_equal(s->st.moves, lost);
		for (uint32_t i = 0; i < s->in.n_res; i++)
			if (s->res[i].prev != 4)
				assert_int_equal(s->owner[i], s->res[i].prev);
		assert_true(spread(s, 0, 0) <= 1);
		assert_int_equal(count_on(s, 0, 4), 0);
		sc_free(s);
	}
}

static void test_join_rebalance(void **state)
{
	static const uint32_t sizes[] = {1, 4, 5, 64, 101, 1000};

	for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		struct sc *s = sc_new(5, 1, 1);

		sc_class_range(s, 0, 0, 5);
		add_round_robin(s, 0, 0, sizes[z], 4);
		s->in.rebalance = true;
		assert_int_equal(sc_run(s), 0);
		assert_int_equal(s->st.moves, sizes[z] / 5);
		assert_int_equal(count_on(s, 0, 4), sizes[z] / 5);
		assert_true(spread(s, 0, 0) <= 1);
		/* Every move goes to the new node. */
		for (uint32_t i = 0; i < s->in.n_res; i++)
			if (s->owner[i] != s->res[i].prev)
				assert_int_equal(s->owner[i], 4);
		sc_free(s);
	}
}

/* Joins taken from unevenly loaded nodes: moves come off the fullest. */
static void test_join_uneven(void **state)
{
	struct sc *s = sc_new(4, 1, 1);

	sc_class_range(s, 0, 0, 4);
	for (int i = 0; i < 7; i++)
		sc_add(s, 0, 0, 0);
	for (int i = 0; i < 3; i++)
		sc_add(s, 0, 0, 1);
	for (int i = 0; i < 2; i++)
		sc_add(s, 0, 0, 2);
	s->in.rebalance = true;
	assert_int_equal(sc_run(s), 0);
	/* 12 on 4 nodes: 3 each; node 0 gives 4, node 2 takes 1, node 3 takes 3. */
	assert_int_equal(s->st.moves, 4);
	assert_int_equal(spread(s, 0, 0), 0);
	/* The highest indices of node 0 are the ones that left. */
	for (uint32_t i = 0; i < 7; i++)
		assert_int_equal(s->owner[i] == 0, i < 3);
	sc_free(s);
}

static void test_join_no_move(void **state)
{
	for (int mode = 0; mode < 2; mode++) {
		struct sc *s = sc_new(5, 1, 1);

		sc_class_range(s, 0, 0, 5);
		add_round_robin(s, 0, 0, 101, 4);
		if (mode == 0) {
			s->in.rebalance = false; /* failback manual */
		} else {
			s->in.rebalance = true; /* failback delay still running */
			place_bits_set(&s->in.no_receive, 4);
		}
		assert_int_equal(sc_run(s), 0);
		assert_int_equal(s->st.moves, 0);
		assert_int_equal(count_on(s, 0, 4), 0);
		sc_free(s);
	}
}

/* A no_receive node still takes orphans, but only those. */
static void test_no_receive_takes_orphans(void **state)
{
	struct sc *s = sc_new(3, 1, 1);

	sc_class_range(s, 0, 0, 3);
	add_round_robin(s, 0, 0, 10, 2);
	sc_add(s, 0, 0, PLACE_NONE);
	place_bits_set(&s->in.no_receive, 2);
	s->in.rebalance = true;
	assert_int_equal(sc_run(s), 0);
	assert_int_equal(s->owner[10], 2);
	assert_int_equal(s->st.moves, 0);
	assert_int_equal(s->st.placed, 1);
	sc_free(s);
}

static void test_idempotent(void **state)
{
	struct sc *s = sc_new(7, 3, 1);

	sc_class_range(s, 0, 0, 7);
	for (uint32_t i = 0; i < 200; i++)
		sc_add(s, i % 3, 0, (i * 7919) % 5);
	s->in.rebalance = true;
	assert_int_equal(sc_run(s), 0);
	assert_true(s->st.moves > 0);
	sc_feed_back(s);
	assert_int_equal(sc_run(s), 0);
	assert_int_equal(s->st.moves, 0);
	/* And a balanced round robin start does not move either. */
	sc_free(s);
	s = sc_new(6, 1, 1);
	sc_class_range(s, 0, 0, 6);
	add_round_robin(s, 0, 0, 1001, 6);
	s->in.rebalance = true;
	assert_int_equal(sc_run(s), 0);
	assert_int_equal(s->st.moves, 0);
	sc_free(s);
}

static void test_multi_pool(void **state)
{
	struct sc *s = sc_new(4, 3, 1);

	sc_class_range(s, 0, 0, 4);
	/* Each pool is +-1 on its own but all extras sit on node 0. */
	for (uint32_t p = 0; p < 3; p++) {
		add_round_robin(s, p, 0, 5, 4);
	}
	s->in.rebalance = true;
	assert_int_equal(sc_run(s), 0);
	for (uint32_t p = 0; p < 3; p++)
		assert_true(spread(s, p, 0) <= 1);
	assert_true(spread(s, ALL_POOLS, 0) <= 1);
	/* Node 0 holds 2+2+2 of an overall 15: two of its extras must go. */
	assert_int_equal(s->st.moves, 2);
	sc_free(s);
}

/* The example from place.c where a greedy pass moves twice. */
static void test_multi_pool_greedy_trap(void **state)
{
	struct sc *s = sc_new(3, 3, 1);

	sc_class_range(s, 0, 0, 3);
	sc_add(s, 0, 0, 0);
	sc_add(s, 1, 0, 0);
	sc_add(s, 2, 0, 1);
	s->in.rebalance = true;
	assert_int_equal(sc_run(s), 0);
	assert_int_equal(s->st.moves, 1);
	assert_true(spread(s, ALL_POOLS, 0) == 0);
	assert_int_equal(s->owner[2], 1);
	sc_free(s);
}

static void test_pins(void **state)
{
	struct sc *s = sc_new(3, 1, 1);
	uint32_t a, b;

	sc_class_range(s, 0, 0, 2); /* node 2 in standby */
	add_round_robin(s, 0, 0, 6, 2);
	a = sc_add(s, 0, 0, 0);
	s->res[a].pin = 1;
	b = sc_add(s, 0, 0, 0);
	s->res[b].pin = 2; /* not eligible: ignored */
	assert_int_equal(sc_run(s), 0);
	assert_int_equal(s->owner[a], 1);
	assert_int_equal(s->owner[b], 0);
	assert_int_equal(s->st.moves, 1);

	/* Pins are never moved by balancing, even far above the level. */
	sc_free(s);
	s = sc_new(3, 1, 1);
	sc_class_range(s, 0, 0, 3);
	for (int i = 0; i < 9; i++) {
		a = sc_add(s, 0, 0, 0);
		s->res[a].pin = 0;
	}
	add_round_robin(s, 0, 0, 3, 3);
	s->in.rebalance = true;
	assert_int_equal(sc_run(s), 0);
	for (uint32_t i = 0; i < 9; i++)
		assert_int_equal(s->owner[i], 0);
	/* The other three settle on nodes 1 and 2, nothing else moves to 0. */
	assert_int_equal(count_on(s, 0, 0), 9);
	assert_true(count_on(s, 0, 1) + count_on(s, 0, 2) == 3);
	assert_int_equal(s->st.moves, 1);
	sc_free(s);
}

static void test_fixed(void **state)
{
	struct sc *s = sc_new(3, 1, 1);
	uint32_t f;

	sc_class_range(s, 0, 0, 2); /* node 2's daemon is gone, its grace runs */
	for (int i = 0; i < 4; i++) {
		f = sc_add(s, 0, 0, 2);
		s->res[f].flags = PLACE_F_FIXED;
	}
	for (int i = 0; i < 6; i++) {
		f = sc_add(s, 0, 0, 0);
		s->res[f].flags = PLACE_F_FIXED;
		s->res[f].pin = 1; /* FIXED wins over a pin */
	}
	sc_add(s, 0, 0, PLACE_NONE);
	s->in.rebalance = true;
	assert_int_equal(sc_run(s), 0);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(s->owner[i], 2);
	for (uint32_t i = 4; i < 10; i++)
		assert_int_equal(s->owner[i], 0);
	/* Node 0 is loaded with fixed ones, so the orphan goes to node 1. */
	assert_int_equal(s->owner[10], 1);
	assert_int_equal(s->st.moves, 0);
	sc_free(s);
}

static void test_ineligible_prev(void **state)
{
	struct sc *s = sc_new(4, 1, 1);

	sc_class_range(s, 0, 0, 4);
	s->classes[0].w[0] &= ~((uint64_t)1 << 1); /* node 1 in standby */
	add_round_robin(s, 0, 0, 12, 4);
	assert_int_equal(sc_run(s), 0);
	assert_int_equal(count_on(s, 0, 1), 0);
	assert_int_equal(s->st.moves, 3);
	for (uint32_t i = 0; i < 12; i++)
		if (s->res[i].prev != 1)
			assert_int_equal(s->owner[i], s->res[i].prev);
	assert_int_equal(count_on(s, 0, 0), 4);
	assert_int_equal(count_on(s, 0, 2), 4);
	assert_int_equal(count_on(s, 0, 3), 4);
	sc_free(s);
}

static void test_empty_class(void **state)
{
	struct sc *s = sc_new(3, 1, 2);

	sc_class_range(s, 0, 0, 3); /* class 1 stays empty */
	sc_add(s, 0, 1, 2);
	sc_add(s, 0, 1, PLACE_NONE);
	sc_add(s, 0, 0, PLACE_NONE);
	s->in.rebalance = true;
	assert_int_equal(sc_run(s), 0);
	assert_int_equal(s->owner[0], PLACE_NONE);
	assert_int_equal(s->owner[1], PLACE_NONE);
	assert_int_equal(s->owner[2], 0);
	assert_int_equal(s->st.unplaced, 2);
	assert_int_equal(s->st.moves, 1);
	assert_int_equal(s->st.placed, 1);
	sc_free(s);
}

/* Orphans go where their pool is thinnest, then where the overall count
 * is lowest; each run's result is the next one's prev, as in the daemon. */
static void test_orphan_order(void **state)
{
	struct sc *s = sc_new(4, 2, 1);
	uint32_t o;

	sc_class_range(s, 0, 0, 4);
	sc_add(s, 0, 0, 0);
	sc_add(s, 1, 0, 1);
	sc_add(s, 1, 0, 1);
	sc_add(s, 1, 0, 2);
	/* pool 0 counts 1,0,0,0; overall 1,2,1,0 */
	o = sc_add(s, 0, 0, PLACE_NONE);
	assert_int_equal(sc_run(s), 0);
	assert_int_equal(s->owner[o], 3);
	sc_feed_back(s);
	/* Now node 3 has a pool-0 one: next goes to node 2 (overall 1 < 2). */
	o = sc_add(s, 0, 0, PLACE_NONE);
	assert_int_equal(sc_run(s), 0);
	assert_int_equal(s->owner[o], 2);
	sc_feed_back(s);
	o = sc_add(s, 0, 0, PLACE_NONE);
	assert_int_equal(sc_run(s), 0);
	assert_int_equal(s->owner[o], 1);
	sc_free(s);
}

static void test_malformed(void **state)
{
	struct sc *s = sc_new(3, 2, 2);
	uint32_t r;

	sc_class_range(s, 0, 0, 3);
	r = sc_add(s, 0, 0, 1);
	s->owner[r] = 77;
	assert_int_equal(sc_run(s), 0);

	s->res[r].pool = 2;
	s->owner[r] = 77;
	assert_int_equal(sc_run(s), -EINVAL);
	assert_int_equal(s->owner[r], 77); /* nothing written on error */
	s->res[r].pool = 0;
	s->res[r].elig_class = 2;
	assert_int_equal(sc_run(s), -EINVAL);
	s->res[r].elig_class = 1;
	s->res[r].prev = 3;
	assert_int_equal(sc_run(s), -EINVAL);
	s->res[r].prev = 1;
	s->res[r].pin = 100;
	assert_int_equal(sc_run(s), -EINVAL);
	s->res[r].pin = PLACE_NONE;
	place_bits_set(&s->classes[1], 3); /* a slot past n_nodes */
	assert_int_equal(sc_run(s), -EINVAL);
	s->classes[1].w[0] = 0;
	place_bits_set(&s->in.no_receive, 127);
	assert_int_equal(sc_run(s), -EINVAL);
	s->in.no_receive.w[1] = 0;
	s->in.n_nodes = CHORUS_MAX_NODES + 1;
	assert_int_equal(sc_run(s), -EINVAL);
	s->in.n_nodes = 3;
	s->in.classes = NULL;
	assert_int_equal(sc_run(s), -EINVAL);
	s->in.classes = s->classes;
	assert_int_equal(place_run(NULL, s->owner, NULL), -EINVAL);
	assert_int_equal(place_run(&s->in, NULL, NULL), -EINVAL);
	s->in.res = NULL;
	assert_int_equal(sc_run(s), -EINVAL);
	s->in.res = s->res;
	assert_int_equal(sc_run(s), 0);
	assert_int_equal(s->owner[r], PLACE_NONE); /* class 1 is empty */
	sc_free(s);

	/* Nothing at all is fine. */
	s = sc_new(0, 0, 0);
	assert_int_equal(sc_run(s), 0);
	sc_free(s);
}

/* Heterogeneous eligibility: valid, each group +-1 within its class. */
static void test_heterogeneous(void **state)
{
	struct sc *s = sc_new(5, 2, 2);

	sc_class_range(s, 0, 0, 3); /* pool 0 on nodes 0-2 */
	sc_class_range(s, 1, 2, 5); /* pool 1 on nodes 2-4 */
	for (int i = 0; i < 9; i++)
		sc_add(s, 0, 0, PLACE_NONE);
	for (int i = 0; i < 9; i++)
		sc_add(s, 1, 1, PLACE_NONE);
	s->in.rebalance = true;
	assert_int_equal(sc_run(s), 0);
	for (uint32_t i = 0; i < 18; i++)
		assert_true(place_bits_test(&s->classes[s->res[i].elig_class], s->owner[i]));
	assert_true(spread(s, 0, 0) <= 1);
	assert_true(spread(s, 1, 1) <= 1);
	sc_free(s);
}

/* Pool and class indices past one byte take several radix passes; the
 * groups must still come out right. */
static void test_sparse_indices(void **state)
{
	static const uint32_t pools[] = {69999, 5, 256, 5, 65536, 256};
	struct sc *s = sc_new(4, 70000, 3);

	sc_class_range(s, 0, 0, 4);
	sc_class_range(s, 2, 0, 4);
	for (uint32_t i = 0; i < 60; i++)
		sc_add(s, pools[i % 6], i % 3 == 1 ? 2 : 0, i % 7 == 0 ? PLACE_NONE : 0);
	s->in.rebalance = true;
	assert_int_equal(sc_run(s), 0);
	for (size_t p = 0; p < 6; p++)
		assert_true(spread(s, pools[p], 0) <= 1);
	assert_true(spread(s, ALL_POOLS, 0) <= 1);
	sc_free(s);

	/* 256 and 65536 share their low byte: the orphan of pool 256 must
	 * still see the one already on node 0. */
	s = sc_new(2, 70000, 1);
	sc_class_range(s, 0, 0, 2);
	sc_add(s, 256, 0, 0);
	sc_add(s, 65536, 0, 1);
	sc_add(s, 256, 0, PLACE_NONE);
	assert_int_equal(sc_run(s), 0);
	assert_int_equal(s->owner[2], 1);
	sc_free(s);
}

/* So many pools with remainders on so many nodes that version 1's extras
 * flow ran out of budget: everything balanced, certified, a fixpoint. */
static void test_many_pools(void **state)
{
	struct place_cert cert;

	struct sc *s = sc_new(CHORUS_MAX_NODES, 200, 1);

	sc_class_range(s, 0, 0, CHORUS_MAX_NODES);
	for (uint32_t p = 0; p < 200; p++)
		for (uint32_t i = 0; i < CHORUS_MAX_NODES - 1; i++)
			sc_add(s, p, 0, (p + 3 * i) % CHORUS_MAX_NODES);
	s->in.rebalance = true;
	assert_int_equal(sc_run(s), 0);
	for (uint32_t p = 0; p < 200; p++)
		assert_true(spread(s, p, 0) <= 1);
	assert_true(spread(s, ALL_POOLS, 0) <= 1);
	assert_int_equal(place_cert_check(&s->in, s->owner, &cert), 0);
	assert_true(cert.valid && cert.optimal);
	sc_feed_back(s);
	assert_int_equal(sc_run(s), 0);
	assert_int_equal(s->st.moves, 0);
	sc_free(s);
}

/* ---- randomized properties ------------------------------------------ */

static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint32_t rnd(uint32_t n) { return (uint32_t)(rng() % n); }

struct gen {
	bool homogeneous; /* one class of every node, no pins, FIXED or no_receive */
};

static struct sc *random_sc(struct gen *g)
{
	/* Now and then past 64 nodes, into the second word of the bitmaps. */
	uint32_t n = rnd(8) == 0 ? 60 + rnd(CHORUS_MAX_NODES - 59) : 1 + rnd(12);
	uint32_t pools = 1 + rnd(4), classes = 1 + rnd(3);
	uint32_t n_res = rnd(150);
	struct sc *s;

	g->homogeneous = rnd(10) < 4;
	if (g->homogeneous)
		classes = 1;
	s = sc_new(n, pools, classes);
	for (uint32_t c = 0; c < classes; c++)
		for (uint32_t i = 0; i < n; i++)
			if (g->homogeneous || rnd(100) < (c == 0 ? 85 : 50))
				place_bits_set(&s->classes[c], i);
	for (uint32_t i = 0; i < n_res; i++) {
		uint32_t r = sc_add(s, rnd(pools), rnd(classes), rnd(5) == 0 ? PLACE_NONE : rnd(n));

		if (g->homogeneous)
			continue;
		if (rnd(20) == 0)
			s->res[r].pin = rnd(n);
		if (rnd(20) == 0)
			s->res[r].flags = PLACE_F_FIXED;
	}
	if (!g->homogeneous)
		for (uint32_t i = 0; i < n; i++)
			if (rnd(100) < 15)
				place_bits_set(&s->in.no_receive, i);
	s->in.rebalance = rnd(10) < 7;
	return s;
}

static bool eligible(const struct sc *s, uint32_t i, uint32_t slot)
{
	return slot != PLACE_NONE && place_bits_test(&s->classes[s->res[i].elig_class], slot);
}

static bool class_empty(const struct sc *s, uint32_t cls)
{
	for (uint32_t w = 0; w < PLACE_WORDS; w++)
		if (s->classes[cls].w[w])
			return false;
	return true;
}

static bool immovable(const struct sc *s, uint32_t i)
{
	const struct place_res *r = &s->res[i];

	if ((r->flags & PLACE_F_FIXED) && r->prev != PLACE_NONE)
		return true;
	return eligible(s, i, r->pin);
}

/* Resources of the (pool, class) group of 'i' on 'slot' after the run, or
 * ('before') where rules 2-4 put them before any balancing: FIXED on prev,
 * pinned on their pin, the rest on prev.  FIXED without a prev is not
 * fixed, so its pin applies. */
static uint32_t group_count(const struct sc *s, uint32_t i, uint32_t slot, bool before)
{
	uint32_t k = 0;

	for (uint32_t j = 0; j < s->in.n_res; j++) {
		const struct place_res *r = &s->res[j];
		bool fixed = (r->flags & PLACE_F_FIXED) && r->prev != PLACE_NONE;
		uint32_t at = s->owner[j];

		if (r->pool != s->res[i].pool || r->elig_class != s->res[i].elig_class)
			continue;
		if (before)
			at = immovable(s, j) && !fixed ? r->pin : r->prev;
		k += at == slot;
	}
	return k;
}

/* Print 's' in the golden scenario format, so a failing random case can be
 * replayed with place_golden -p and kept as a scenario. */
static void dump_bits(const char *what, const struct place_bits *b, uint32_t n)
{
	fprintf(stderr, "%s", what);
	for (uint32_t i = 0; i < n; i++)
		if (place_bits_test(b, i))
			fprintf(stderr, " %u", i);
	fprintf(stderr, "\n");
}

static void dump(const struct sc *s)
{
	fprintf(stderr, "nodes %u\npools %u\n", s->in.n_nodes, s->in.n_pools);
	for (uint32_t c = 0; c < s->in.n_classes; c++)
		dump_bits("class", &s->classes[c], s->in.n_nodes);
	fprintf(stderr, "rebalance %s\n", s->in.rebalance ? "yes" : "no");
	dump_bits("no_receive", &s->in.no_receive, s->in.n_nodes);
	for (uint32_t i = 0; i < s->in.n_res; i++) {
		const struct place_res *r = &s->res[i];

		if (r->prev == PLACE_NONE)
			fprintf(stderr, "res %u %u -", r->pool, r->elig_class);
		else
			fprintf(stderr, "res %u %u %u", r->pool, r->elig_class, r->prev);
		if (r->pin != PLACE_NONE)
			fprintf(stderr, " pin=%u", r->pin);
		if (r->set)
			fprintf(stderr, " s=%u", r->set);
		fprintf(stderr, "%s  # -> %d\n", r->flags & PLACE_F_FIXED ? " fixed" : "",
			s->owner[i] == PLACE_NONE ? -1 : (int)s->owner[i]);
	}
}

/* Rules 1-6 against the independent certificate: valid, and no
 * lexicographically better count balance exists. */
static void check_certified(const struct sc *s, struct place_cert *cert)
{
	assert_int_equal(place_cert_check(&s->in, s->owner, cert), 0);
	if (!cert->valid || !cert->optimal)
		fail_msg("not certified: %s", cert->why);
}

/* Rules 1-3 for resource 'i': fixed on prev, unplaced only with an empty
 * class, pinned on an eligible pin, else on an eligible node. */
static void check_valid(const struct sc *s, uint32_t i)
{
	const struct place_res *r = &s->res[i];
	uint32_t o = s->owner[i];

	if ((r->flags & PLACE_F_FIXED) && r->prev != PLACE_NONE)
		assert_int_equal(o, r->prev);
	else if (class_empty(s, r->elig_class))
		assert_int_equal(o, PLACE_NONE);
	else if (eligible(s, i, r->pin))
		assert_int_equal(o, r->pin);
	else
		assert_true(eligible(s, i, o));
}

static void check_properties(struct sc *s, const struct gen *g)
{
	uint32_t moves = 0, placed = 0, unplaced = 0;

	for (uint32_t i = 0; i < s->in.n_res; i++) {
		const struct place_res *r = &s->res[i];
		uint32_t o = s->owner[i];

		if (r->prev != PLACE_NONE && o != r->prev)
			moves++;
		if (r->prev == PLACE_NONE && o != PLACE_NONE)
			placed++;
		if (o == PLACE_NONE)
			unplaced++;

		check_valid(s, i);	/* valid, fixed, pinned */

		/* sticky: a move off an eligible prev needs rebalance, and its
		 * node must end with fewer of the group than it started with
		 * and take no movable ones of the group in exchange */
		if (!immovable(s, i) && eligible(s, i, r->prev) && o != r->prev) {
			uint32_t p = r->prev;

			assert_true(s->in.rebalance);
			assert_true(group_count(s, i, p, false) < group_count(s, i, p, true));
			for (uint32_t j = 0; j < s->in.n_res; j++)
				if (s->owner[j] == p && s->res[j].prev != p &&
				    s->res[j].pool == r->pool &&
				    s->res[j].elig_class == r->elig_class)
					assert_true(immovable(s, j));
			/* and never onto a no_receive node */
			assert_false(place_bits_test(&s->in.no_receive, o));
		}
	}
	assert_int_equal(s->st.moves, moves);
	assert_int_equal(s->st.placed, placed);
	assert_int_equal(s->st.unplaced, unplaced);

	/* balance: exact, per the certificate; +-1 with one class of all */
	{
		struct place_cert cert;

		check_certified(s, &cert);
	}
	if (s->in.rebalance) {
		if (g->homogeneous) {
			for (uint32_t p = 0; p < s->in.n_pools; p++)
				assert_true(spread(s, p, 0) <= 1);
			assert_true(spread(s, ALL_POOLS, 0) <= 1);
		}
	}
}

/* Minimal moves for one pool on one class of every node, no constraints:
 * the nodes holding more than the level keep level + 1 while extras last. */
static uint32_t single_pool_optimum(const struct sc *s)
{
	uint32_t n = s->in.n_nodes, total = s->in.n_res, level = total / n, extras = total % n;
	uint32_t over = 0, moves = 0;

	for (uint32_t i = 0; i < total; i++)
		if (s->res[i].prev != PLACE_NONE && !eligible(s, i, s->res[i].prev))
			moves++;
	for (uint32_t slot = 0; slot < n; slot++) {
		uint32_t k = 0;

		for (uint32_t i = 0; i < total; i++)
			if (s->res[i].prev == slot)
				k++;
		if (k > level) {
			over++;
			moves += k - level - 1;
		}
	}
	return moves + (over > extras ? over - extras : 0);
}

/* The case under test, printed if it fails. */
static struct sc *dumped;

static int dump_on_failure(void **state)
{
	if (dumped)
		dump(dumped);
	return 0;
}

static void test_random_properties(void **state)
{
	static const uint64_t seeds[] = {1, 42, 0x9e3779b97f4a7c15ull, 20240601, 7};

	for (size_t z = 0; z < sizeof(seeds) / sizeof(seeds[0]); z++) {
		rng_state = seeds[z];
		for (int iter = 0; iter < 400; iter++) {
			struct gen g;
			struct sc *s = random_sc(&g);
			uint32_t *first;

			assert_int_equal(sc_run(s), 0);
			dumped = s;
			check_properties(s, &g);
			if (g.homogeneous && s->in.n_pools == 1 && s->in.rebalance)
				assert_int_equal(s->st.moves, single_pool_optimum(s));

			/* idempotence */
			first = malloc((s->in.n_res + 1) * sizeof(*first));
			assert_non_null(first);
			memcpy(first, s->owner, s->in.n_res * sizeof(*first));
			sc_feed_back(s);
			assert_int_equal(sc_run(s), 0);
			assert_int_equal(s->st.moves, 0);
			assert_int_equal(s->st.placed, 0);
			assert_memory_equal(first, s->owner, s->in.n_res * sizeof(*first));
			free(first);
			dumped = NULL;
			sc_free(s);
		}
	}
}

/* Pairs of one set on one node. */
static uint32_t collisions(const struct sc *s)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < s->in.n_res; i++)
		for (uint32_t j = i + 1; j < s->in.n_res; j++)
			k += s->res[i].set != 0 && s->res[i].set == s->res[j].set &&
			     s->owner[i] != PLACE_NONE && s->owner[i] == s->owner[j];
	return k;
}

/* Rule 8 on random inputs with sets: rules 1-3 hold, the count balance
 * stays at its optimum (sums 1 and 2 of place.h as without sets: a spread
 * only trades counts or swaps), a resource staying where it runs moves only
 * with a rebalance and never onto a no_receive node, there are never more
 * collisions than the same input without sets gives, and a second run from
 * the result moves nothing (a spread never oscillates).  Swaps are allowed,
 * so rule 6's "no movable one in exchange" does not apply here. */
static void test_random_spread(void **state)
{
	(void)state;
	rng_state = 0x5eed5eedull;
	for (int iter = 0; iter < 1500; iter++) {
		struct gen g;
		struct sc *s = random_sc(&g);
		uint32_t n_sets = 1 + rnd(12), plain;
		struct place_cert base, with;

		dumped = s;
		assert_int_equal(sc_run(s), 0);	/* without sets */
		check_certified(s, &base);
		for (uint32_t i = 0; i < s->in.n_res; i++)
			if (rnd(3) != 0)
				s->res[i].set = 1 + rnd(n_sets);
		plain = collisions(s);
		assert_int_equal(sc_run(s), 0);
		assert_true(collisions(s) <= plain);
		for (uint32_t i = 0; i < s->in.n_res; i++) {
			const struct place_res *r = &s->res[i];
			uint32_t o = s->owner[i];

			check_valid(s, i);
			if (!immovable(s, i) && eligible(s, i, r->prev) && o != r->prev) {
				assert_true(s->in.rebalance);
				assert_false(place_bits_test(&s->in.no_receive, o));
			}
		}
		assert_int_equal(place_cert_check(&s->in, s->owner, &with), 0);
		assert_true(with.valid);
		assert_true(with.pool_sq == base.pool_sq && with.total_sq == base.total_sq);
		if (g.homogeneous && s->in.rebalance) {
			for (uint32_t p = 0; p < s->in.n_pools; p++)
				assert_true(spread(s, p, 0) <= 1);
			assert_true(spread(s, ALL_POOLS, 0) <= 1);
		}
		sc_feed_back(s);
		assert_int_equal(sc_run(s), 0);
		assert_int_equal(s->st.moves, 0);
		assert_int_equal(s->st.spread_fixes, 0);
		dumped = NULL;
		sc_free(s);
	}
}

/* Fewest moves over every assignment that is per-pool and overall +-1
 * on 'cls' (which must hold every node): exhaustive, so tiny inputs only. */
static uint32_t brute_force_optimum(const struct sc *s)
{
	uint32_t n = s->in.n_nodes, r = s->in.n_res, best = UINT32_MAX;
	uint32_t a[16] = {0};

	for (;;) {
		uint32_t cnt[4][4] = {{0}}, tot[4] = {0}, moves = 0;
		bool ok = true;

		for (uint32_t i = 0; i < r; i++) {
			cnt[s->res[i].pool][a[i]]++;
			tot[a[i]]++;
			if (s->res[i].prev != PLACE_NONE && s->res[i].prev != a[i])
				moves++;
		}
		for (uint32_t p = 0; p <= s->in.n_pools && ok; p++) {
			uint32_t lo = UINT32_MAX, hi = 0;

			for (uint32_t k = 0; k < n; k++) {
				uint32_t v = p < s->in.n_pools ? cnt[p][k] : tot[k];

				lo = v < lo ? v : lo;
				hi = v > hi ? v : hi;
			}
			ok = hi <= lo + 1;
		}
		if (ok && moves < best)
			best = moves;
		uint32_t i = 0;
		while (i < r && ++a[i] == n)
			a[i++] = 0;
		if (i == r)
			break;
	}
	return best;
}

static void test_multi_pool_brute_force(void **state)
{
	rng_state = 0xc0ffee;
	for (int iter = 0; iter < 1500; iter++) {
		uint32_t n = 2 + rnd(2), pools = 2 + rnd(2), r = 1 + rnd(n == 2 ? 10 : 7);
		struct sc *s = sc_new(n, pools, 1);

		sc_class_range(s, 0, 0, n);
		for (uint32_t i = 0; i < r; i++)
			sc_add(s, rnd(pools), 0, rnd(4) == 0 ? PLACE_NONE : rnd(n));
		s->in.rebalance = true;
		assert_int_equal(sc_run(s), 0);
		for (uint32_t p = 0; p < pools; p++)
			assert_true(spread(s, p, 0) <= 1);
		assert_true(spread(s, ALL_POOLS, 0) <= 1);
		if (s->st.moves != brute_force_optimum(s))
			fail_msg("iteration %d: %u moves, optimum %u", iter, s->st.moves,
				 brute_force_optimum(s));
		sc_free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_node_loss),
	    cmocka_unit_test(test_join_rebalance),
	    cmocka_unit_test(test_join_uneven),
	    cmocka_unit_test(test_join_no_move),
	    cmocka_unit_test(test_no_receive_takes_orphans),
	    cmocka_unit_test(test_idempotent),
	    cmocka_unit_test(test_multi_pool),
	    cmocka_unit_test(test_multi_pool_greedy_trap),
	    cmocka_unit_test(test_pins),
	    cmocka_unit_test(test_fixed),
	    cmocka_unit_test(test_ineligible_prev),
	    cmocka_unit_test(test_empty_class),
	    cmocka_unit_test(test_orphan_order),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_heterogeneous),
	    cmocka_unit_test(test_sparse_indices),
	    cmocka_unit_test(test_many_pools),
	    cmocka_unit_test_teardown(test_random_properties, dump_on_failure),
	    cmocka_unit_test_teardown(test_random_spread, dump_on_failure),
	    cmocka_unit_test(test_multi_pool_brute_force),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
