/*
 * Rule 7 of place.h (load-aware rebalancing), as properties over random
 * inputs (our own xorshift, fixed seeds, so a failure is reproducible):
 *
 *  - valid: every resource on a node of its class, FIXED on its prev,
 *    PINNED on its eligible pin, as without load;
 *  - bounded: against the same input without 'rebalance' (rules 1-5 only),
 *    at most 'load_budget' resources differ, each with a nonzero weight,
 *    none onto a no_receive node nor flagged PLACE_F_NO_LOAD_MOVE, and
 *    stats.load_moves counts them;
 *  - useful: the heaviest eligible node never gets heavier, and nothing
 *    moves while it is inside the band;
 *  - neutral: with every weight 0 the load knobs change nothing at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/place.h"

#define SEEDS 20000
#define MAXR 60

static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint32_t rn(uint32_t n) { return (uint32_t)(rng() % n); }

struct inst {
	struct place_in in;
	struct place_bits classes[3];
	struct place_res res[MAXR];
};

static void make(struct inst *x)
{
	memset(x, 0, sizeof(*x));
	x->in.n_nodes = 2 + rn(7);
	x->in.n_pools = 1 + rn(2);
	x->in.n_classes = 1 + rn(3);
	x->in.classes = x->classes;
	for (uint32_t c = 0; c < x->in.n_classes; c++)
		for (uint32_t s = 0; s < x->in.n_nodes; s++)
			if (c == 0 || rn(3))
				place_bits_set(&x->classes[c], s);
	if (rn(4) == 0)
		place_bits_set(&x->in.no_receive, rn(x->in.n_nodes));
	x->in.n_res = 1 + rn(MAXR);
	x->in.res = x->res;
	x->in.rebalance = true;
	x->in.load_margin_pct = 5 + rn(26);
	x->in.load_budget = rn(6);
	for (uint32_t i = 0; i < x->in.n_res; i++) {
		struct place_res *r = &x->res[i];

		r->pool = rn(x->in.n_pools);
		r->elig_class = rn(x->in.n_classes);
		r->prev = rn(8) ? rn(x->in.n_nodes) : PLACE_NONE;
		r->pin = rn(10) ? PLACE_NONE : rn(x->in.n_nodes);
		r->flags = (rn(12) ? 0 : PLACE_F_FIXED) | (rn(8) ? 0 : PLACE_F_NO_LOAD_MOVE);
		/* skewed: a few hot ones, many light or idle */
		r->weight = rn(5) == 0 ? 500 + rn(1000) : rn(3) ? rn(60) : 0;
		r->conns = rn(50);
	}
}

static uint64_t max_load(const struct inst *x, const uint32_t *owner)
{
	uint64_t load[CHORUS_MAX_NODES] = {0}, m = 0;
	struct place_bits act = {{0}};

	for (uint32_t c = 0; c < x->in.n_classes; c++)
		for (uint32_t w = 0; w < PLACE_WORDS; w++)
			act.w[w] |= x->classes[c].w[w];
	for (uint32_t i = 0; i < x->in.n_res; i++)
		if (owner[i] != PLACE_NONE)
			load[owner[i]] += x->res[i].weight;
	for (uint32_t s = 0; s < x->in.n_nodes; s++)
		if (place_bits_test(&act, s) && load[s] > m)
			m = load[s];
	return m;
}

static void test_rule7_properties(void **unused)
{
	(void)unused;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct inst x;
		struct place_in base;
		uint32_t got[MAXR], ref[MAXR], diff = 0;
		struct place_stats st, st0;

		bool weighted = false;

		rng_state = seed * 0x9E3779B97F4A7C15ull + 7;
		make(&x);
		for (uint32_t i = 0; i < x.in.n_res; i++)
			weighted |= x.res[i].weight != 0;
		if (!weighted)
			continue;	/* rule 6, tested in place_test */
		base = x.in;
		base.rebalance = false;
		assert_int_equal(place_run(&x.in, got, &st), 0);
		assert_int_equal(place_run(&base, ref, &st0), 0);
		for (uint32_t i = 0; i < x.in.n_res; i++) {
			const struct place_res *r = &x.res[i];
			const struct place_bits *cl = &x.classes[r->elig_class];

			if ((r->flags & PLACE_F_FIXED) && r->prev != PLACE_NONE) {
				assert_int_equal(got[i], r->prev);
				continue;
			}
			if (got[i] != PLACE_NONE)
				assert_true(place_bits_test(cl, got[i]));
			if (r->pin != PLACE_NONE && place_bits_test(cl, r->pin))
				assert_int_equal(got[i], r->pin);
			if (got[i] != ref[i]) {
				diff++;
				if (r->flags & PLACE_F_NO_LOAD_MOVE)
					fail_msg("seed %llu: resource %u (no load move) moved",
						 (unsigned long long)seed, i);
				if (r->weight == 0)
					fail_msg("seed %llu: resource %u of weight 0 moved %u -> %u "
						 "(prev %u pin %u flags %u)", (unsigned long long)seed, i,
						 ref[i], got[i], r->prev, r->pin, r->flags);
				assert_false(place_bits_test(&x.in.no_receive, got[i]));
			}
		}
		if (diff > x.in.load_budget || diff != st.load_moves)
			fail_msg("seed %llu: %u moves, budget %u, load_moves %u",
				 (unsigned long long)seed, diff, x.in.load_budget, st.load_moves);
		if (max_load(&x, got) > max_load(&x, ref))
			fail_msg("seed %llu: the heaviest node got heavier", (unsigned long long)seed);
	}
}

/* Inside the band nothing moves: equal weights, balanced counts. */
static void test_band(void **unused)
{
	struct inst x;
	uint32_t got[MAXR];
	struct place_stats st;

	(void)unused;
	rng_state = 99;
	make(&x);
	x.in.n_nodes = 3;
	x.in.n_classes = 1;
	memset(x.classes, 0, sizeof(x.classes));
	for (uint32_t s = 0; s < 3; s++)
		place_bits_set(&x.classes[0], s);
	memset(&x.in.no_receive, 0, sizeof(x.in.no_receive));
	x.in.n_res = 30;
	x.in.load_budget = 5;
	x.in.load_margin_pct = 10;
	for (uint32_t i = 0; i < 30; i++)
		x.res[i] = (struct place_res){.prev = i % 3, .pin = PLACE_NONE,
					      .weight = 100 + (i % 3) * 3, .conns = 1};
	assert_int_equal(place_run(&x.in, got, &st), 0);
	assert_int_equal(st.moves, 0);
}

/* With every weight 0 the knobs are inert: rule 6 exactly. */
static void test_neutral(void **unused)
{
	(void)unused;
	for (uint64_t seed = 1; seed <= 500; seed++) {
		struct inst x;
		struct place_in plain;
		uint32_t a[MAXR], b[MAXR];

		rng_state = seed * 31 + 5;
		make(&x);
		for (uint32_t i = 0; i < x.in.n_res; i++)
			x.res[i].weight = 0;
		plain = x.in;
		plain.load_margin_pct = 0;
		plain.load_budget = 0;
		assert_int_equal(place_run(&x.in, a, NULL), 0);
		assert_int_equal(place_run(&plain, b, NULL), 0);
		assert_memory_equal(a, b, x.in.n_res * sizeof(a[0]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule7_properties),
		cmocka_unit_test(test_band),
		cmocka_unit_test(test_neutral),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
