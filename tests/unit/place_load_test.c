/*
 * Rule 7 of place.h (load-aware rebalancing, placement version 2), as
 * properties over random inputs (our own xorshift, fixed seeds, so a
 * failure is reproducible):
 *
 *  - valid: every resource on a node of its class, FIXED on its prev,
 *    PINNED on its eligible pin, as without load;
 *  - apart: against the same input without a load budget (the count
 *    balance alone), rule 7 moves at most 'load_budget' resources, and
 *    every other difference is a rule 8 fix (a spread a load step's trade
 *    made possible); nothing that runs elsewhere onto a no_receive node,
 *    nothing flagged PLACE_F_NO_LOAD_MOVE, and every pool's counts and the
 *    overall counts
 *    are the same numbers (sorted, they are equal): load never undoes a
 *    count balance;
 *  - useful: the heaviest eligible node never gets heavier, and nothing
 *    moves while it is inside the band;
 *  - sets: a load step never puts two members of a set on one node that
 *    the count balance had apart;
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
		r->set = rn(4) ? 0 : 1 + rn(6);
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

static int u32_desc(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* Sorted counts per pool (pools < 2) and overall. */
static void counts(const struct inst *x, const uint32_t *owner, uint32_t out[3][8])
{
	memset(out, 0, 3 * 8 * sizeof(uint32_t));
	for (uint32_t i = 0; i < x->in.n_res; i++)
		if (owner[i] != PLACE_NONE) {
			out[x->res[i].pool][owner[i]]++;
			out[2][owner[i]]++;
		}
	for (int k = 0; k < 3; k++)
		qsort(out[k], 8, sizeof(uint32_t), u32_desc);
}

static uint32_t set_pairs(const struct inst *x, const uint32_t *owner)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < x->in.n_res; i++)
		for (uint32_t j = i + 1; j < x->in.n_res; j++)
			k += x->res[i].set && x->res[i].set == x->res[j].set &&
			     owner[i] != PLACE_NONE && owner[i] == owner[j];
	return k;
}

static void test_rule7_properties(void **unused)
{
	(void)unused;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct inst x;
		struct place_in base;
		uint32_t got[MAXR], ref[MAXR], diff = 0, cg[3][8], cr[3][8];
		struct place_stats st, st0;

		bool weighted = false;

		rng_state = seed * 0x9E3779B97F4A7C15ull + 7;
		make(&x);
		for (uint32_t i = 0; i < x.in.n_res; i++)
			weighted |= x.res[i].weight != 0;
		if (!weighted)
			continue;	/* rule 6, tested in place_test */
		base = x.in;
		base.load_budget = 0;
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
				/* rule 8 may move it for a spread, rule 7 never */
				if ((r->flags & PLACE_F_NO_LOAD_MOVE) &&
				    st.spread_fixes + st0.spread_fixes == 0)
					fail_msg("seed %llu: resource %u (no load move) moved",
						 (unsigned long long)seed, i);
				/* what runs elsewhere never moves onto no_receive
				 * (an orphan may land there, for a spread too) */
				if (r->prev != PLACE_NONE && place_bits_test(cl, r->prev) &&
				    got[i] != r->prev)
					assert_false(place_bits_test(&x.in.no_receive, got[i]));
			}
		}
		/* a spread fix is a move or a swap (two), in either run */
		if (st.load_moves > x.in.load_budget ||
		    diff > st.load_moves + 2 * (st.spread_fixes + st0.spread_fixes) ||
		    (diff != st.load_moves && st.spread_fixes + st0.spread_fixes == 0))
			fail_msg("seed %llu: %u differ, budget %u, load_moves %u, spread fixes %u",
				 (unsigned long long)seed, diff, x.in.load_budget, st.load_moves,
				 st.spread_fixes);
		counts(&x, got, cg);
		counts(&x, ref, cr);
		if (memcmp(cg, cr, sizeof(cg)) != 0)
			fail_msg("seed %llu: the load step changed the counts", (unsigned long long)seed);
		if (set_pairs(&x, got) > set_pairs(&x, ref))
			fail_msg("seed %llu: the load step put a set together", (unsigned long long)seed);
		if (max_load(&x, got) > max_load(&x, ref))
			fail_msg("seed %llu: the heaviest node got heavier (%llu > %llu; load moves %u, "
				 "spread fixes %u and %u)", (unsigned long long)seed,
				 (unsigned long long)max_load(&x, got), (unsigned long long)max_load(&x, ref),
				 st.load_moves, st.spread_fixes, st0.spread_fixes);
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
