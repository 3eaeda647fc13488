/*
 * Placement version 2 against its contract (place.h), on random inputs with
 * heterogeneous eligibility, pins, fixed resources and no_receive nodes
 * (our own xorshift, fixed seeds: a failure is reproducible and printed in
 * the golden scenario format):
 *
 *  - exhaustive: on small inputs, every assignment the kinds allow is
 *    enumerated; the result must be valid and reach the lexicographic
 *    minimum of (per-pool sum of squares, overall sum of squares, moves);
 *  - numbering: renumbering pools, classes and resources, and splitting a
 *    class into identical copies, changes none of those three;
 *  - idempotent: the result placed again moves nothing;
 *  - certified: on larger inputs, the independent certificate of
 *    place_cert.c finds no better count balance;
 *  - limits: at the config loader's limits (CHORUS_MAX_NODES nodes,
 *    CONF_VIPS_MAX addresses plus CONF_BRICKS_MAX bricks in replica sets,
 *    WIRE_MAX_POOLS pools, a class per address), the same holds: there is
 *    no budget to run out of.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "adapters/conf.h"
#include "core/place.h"
#include "core/wire.h"
#include "place_cert.h"

#define MAXC 8

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
	struct place_bits *classes;
	struct place_res *res;
	uint32_t *owner;
};

static void inst_alloc(struct inst *x, uint32_t n_classes, uint32_t n_res)
{
	memset(x, 0, sizeof(*x));
	x->classes = calloc(n_classes + 1, sizeof(*x->classes));
	x->res = calloc(n_res + 1, sizeof(*x->res));
	x->owner = calloc(n_res + 1, sizeof(*x->owner));
	assert_non_null(x->classes);
	assert_non_null(x->res);
	assert_non_null(x->owner);
	x->in.classes = x->classes;
	x->in.res = x->res;
	x->in.n_classes = n_classes;
	x->in.n_res = n_res;
}

static void inst_free(struct inst *x)
{
	free(x->classes);
	free(x->res);
	free(x->owner);
}

/* A small random input: 2-4 nodes, 1-3 pools, 1-3 classes (maybe equal,
 * maybe empty), 1-7 resources, some pinned, fixed, orphaned. */
static void small(struct inst *x)
{
	uint32_t n = 2 + rn(3), nc = 1 + rn(3), nr = 1 + rn(n == 4 ? 6 : 7);

	inst_alloc(x, nc, nr);
	x->in.n_nodes = n;
	x->in.n_pools = 1 + rn(3);
	for (uint32_t c = 0; c < nc; c++)
		for (uint32_t s = 0; s < n; s++)
			if (c == 0 ? rn(5) != 0 : rn(2) == 0)
				place_bits_set(&x->classes[c], s);
	for (uint32_t i = 0; i < nr; i++) {
		struct place_res *r = &x->res[i];

		*r = (struct place_res){.pool = rn(x->in.n_pools), .elig_class = rn(nc),
					.prev = rn(4) ? rn(n) : PLACE_NONE, .pin = PLACE_NONE};
		if (rn(12) == 0)
			r->pin = rn(n);
		if (rn(12) == 0)
			r->flags = PLACE_F_FIXED;
	}
	if (rn(3) == 0)
		place_bits_set(&x->in.no_receive, rn(n));
	x->in.rebalance = rn(4) != 0;
}

static void dump(const struct inst *x)
{
	const struct place_in *in = &x->in;

	fprintf(stderr, "nodes %u\npools %u\n", in->n_nodes, in->n_pools);
	for (uint32_t c = 0; c < in->n_classes; c++) {
		fprintf(stderr, "class");
		for (uint32_t s = 0; s < in->n_nodes; s++)
			if (place_bits_test(&in->classes[c], s))
				fprintf(stderr, " %u", s);
		fprintf(stderr, "\n");
	}
	fprintf(stderr, "rebalance %s\nno_receive", in->rebalance ? "yes" : "no");
	for (uint32_t s = 0; s < in->n_nodes; s++)
		if (place_bits_test(&in->no_receive, s))
			fprintf(stderr, " %u", s);
	fprintf(stderr, "\n");
	for (uint32_t i = 0; i < in->n_res; i++) {
		const struct place_res *r = &in->res[i];

		fprintf(stderr, "res %u %u ", r->pool, r->elig_class);
		if (r->prev == PLACE_NONE)
			fprintf(stderr, "-");
		else
			fprintf(stderr, "%u", r->prev);
		if (r->pin != PLACE_NONE)
			fprintf(stderr, " pin=%u", r->pin);
		fprintf(stderr, "%s  # -> %d\n", r->flags & PLACE_F_FIXED ? " fixed" : "",
			x->owner[i] == PLACE_NONE ? -1 : (int)x->owner[i]);
	}
}

static const struct inst *dumped;

static int dump_on_failure(void **state)
{
	(void)state;
	if (dumped)
		dump(dumped);
	dumped = NULL;
	return 0;
}

/* The three sums of place.h for 'owner'. */
struct obj {
	uint64_t pool_sq, total_sq, moves;
};

static struct obj objective(const struct place_in *in, const uint32_t *owner)
{
	uint64_t cnt[16][4] = {{0}}, tot[CHORUS_MAX_NODES] = {0};
	struct obj o = {0};

	for (uint32_t i = 0; i < in->n_res; i++) {
		const struct place_res *r = &in->res[i];

		if (owner[i] == PLACE_NONE)
			continue;
		cnt[r->pool][owner[i]]++;
		tot[owner[i]]++;
		if (r->prev != PLACE_NONE && place_bits_test(&in->classes[r->elig_class], r->prev) &&
		    !(r->flags & PLACE_F_FIXED) &&
		    !(r->pin != PLACE_NONE && place_bits_test(&in->classes[r->elig_class], r->pin)) &&
		    owner[i] != r->prev)
			o.moves++;
	}
	for (uint32_t p = 0; p < 16; p++)
		for (uint32_t s = 0; s < 4; s++)
			o.pool_sq += cnt[p][s] * cnt[p][s];
	for (uint32_t s = 0; s < in->n_nodes; s++)
		o.total_sq += tot[s] * tot[s];
	return o;
}

static bool obj_less(struct obj a, struct obj b)
{
	if (a.pool_sq != b.pool_sq)
		return a.pool_sq < b.pool_sq;
	if (a.total_sq != b.total_sq)
		return a.total_sq < b.total_sq;
	return a.moves < b.moves;
}

/* Where place.h lets resource 'i' go: its options, in 'opt'. */
static uint32_t options(const struct place_in *in, uint32_t i, uint32_t *opt)
{
	const struct place_res *r = &in->res[i];
	const struct place_bits *cl = &in->classes[r->elig_class];
	uint32_t k = 0;
	bool empty = true;

	for (uint32_t s = 0; s < in->n_nodes; s++)
		empty &= !place_bits_test(cl, s);
	if ((r->flags & PLACE_F_FIXED) && r->prev != PLACE_NONE) {
		opt[k++] = r->prev;
	} else if (empty) {
		opt[k++] = PLACE_NONE;
	} else if (r->pin != PLACE_NONE && place_bits_test(cl, r->pin)) {
		opt[k++] = r->pin;
	} else if (r->prev != PLACE_NONE && place_bits_test(cl, r->prev) && !in->rebalance) {
		opt[k++] = r->prev;
	} else {
		bool sticky = r->prev != PLACE_NONE && place_bits_test(cl, r->prev);

		for (uint32_t s = 0; s < in->n_nodes; s++)
			if (place_bits_test(cl, s) &&
			    (!sticky || s == r->prev || !place_bits_test(&in->no_receive, s)))
				opt[k++] = s;
	}
	return k;
}

/* The lexicographic minimum over every assignment the kinds allow. */
static struct obj exhaustive(const struct place_in *in)
{
	uint32_t opt[8][CHORUS_MAX_NODES], nopt[8], pos[8] = {0}, a[8];
	struct obj best = {UINT64_MAX, UINT64_MAX, UINT64_MAX};

	for (uint32_t i = 0; i < in->n_res; i++)
		nopt[i] = options(in, i, opt[i]);
	for (;;) {
		uint32_t i = 0;
		struct obj o;

		for (uint32_t j = 0; j < in->n_res; j++)
			a[j] = opt[j][pos[j]];
		o = objective(in, a);
		if (obj_less(o, best))
			best = o;
		while (i < in->n_res && ++pos[i] == nopt[i])
			pos[i++] = 0;
		if (i == in->n_res)
			return best;
	}
}

static void test_exhaustive(void **state)
{
	(void)state;
	rng_state = 0x1d2c3b4a5968ull;
	for (int iter = 0; iter < 4000; iter++) {
		struct inst x;
		struct place_stats st;
		struct place_cert cert;
		struct obj got, want;

		small(&x);
		dumped = &x;
		assert_int_equal(place_run(&x.in, x.owner, &st), 0);
		assert_int_equal(place_cert_check(&x.in, x.owner, &cert), 0);
		if (!cert.valid)
			fail_msg("iteration %d: invalid: %s", iter, cert.why);
		got = objective(&x.in, x.owner);
		want = exhaustive(&x.in);
		if (got.pool_sq != want.pool_sq || got.total_sq != want.total_sq ||
		    got.moves != want.moves)
			fail_msg("iteration %d: got (%llu, %llu, %llu), optimum (%llu, %llu, %llu)",
				 iter, (unsigned long long)got.pool_sq,
				 (unsigned long long)got.total_sq, (unsigned long long)got.moves,
				 (unsigned long long)want.pool_sq, (unsigned long long)want.total_sq,
				 (unsigned long long)want.moves);
		assert_true(cert.optimal);
		dumped = NULL;
		inst_free(&x);
	}
}

/* Sorted count vectors: per pool (in the order of 'pmap', the pool each
 * original pool became) and overall, plus the moves. */
struct shape {
	uint32_t pool[16][CHORUS_MAX_NODES];
	uint32_t total[CHORUS_MAX_NODES];
	uint32_t moves;
};

static int u32_desc(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

static void shape_of(const struct place_in *in, const uint32_t *owner, const uint32_t *pmap,
		     const struct place_stats *st, struct shape *sh)
{
	memset(sh, 0, sizeof(*sh));
	for (uint32_t i = 0; i < in->n_res; i++)
		if (owner[i] != PLACE_NONE) {
			sh->total[owner[i]]++;
			sh->pool[in->res[i].pool][owner[i]]++;
		}
	(void)pmap;
	for (uint32_t p = 0; p < 16; p++)
		qsort(sh->pool[p], in->n_nodes, sizeof(uint32_t), u32_desc);
	qsort(sh->total, in->n_nodes, sizeof(uint32_t), u32_desc);
	sh->moves = st->moves;
}

/* Renumber pools and classes, split one class into two identical copies,
 * shuffle resources: the sorted count vectors per pool and overall and
 * the moves stay the same. */
static void test_numbering(void **state)
{
	(void)state;
	rng_state = 0x2545f4914f6cdd1dull;
	for (int iter = 0; iter < 3000; iter++) {
		struct inst x, y;
		struct place_stats sx, sy;
		struct shape a, b;
		uint32_t pmap[16], cmap[MAXC + 1], perm[64], nr;

		small(&x);
		/* larger than the exhaustive test can afford */
		if (iter % 2) {
			uint32_t n = 2 + rn(6), nc = 1 + rn(MAXC - 1);

			inst_free(&x);
			nr = 1 + rn(60);
			inst_alloc(&x, nc, nr);
			x.in.n_nodes = n;
			x.in.n_pools = 1 + rn(4);
			for (uint32_t c = 0; c < nc; c++)
				for (uint32_t s = 0; s < n; s++)
					if (rn(3) != 0)
						place_bits_set(&x.classes[c], s);
			for (uint32_t i = 0; i < nr; i++) {
				x.res[i] = (struct place_res){.pool = rn(x.in.n_pools),
							      .elig_class = rn(nc),
							      .prev = rn(5) ? rn(n) : PLACE_NONE,
							      .pin = rn(15) ? PLACE_NONE : rn(n)};
				if (rn(15) == 0)
					x.res[i].flags = PLACE_F_FIXED;
			}
			if (rn(2))
				place_bits_set(&x.in.no_receive, rn(n));
			x.in.rebalance = rn(5) != 0;
		}
		nr = x.in.n_res;
		dumped = &x;
		assert_int_equal(place_run(&x.in, x.owner, &sx), 0);
		/* y: pools reversed, classes rotated plus a copy of the last one,
		 * resources shuffled */
		inst_alloc(&y, x.in.n_classes + 1, nr);
		y.in.n_nodes = x.in.n_nodes;
		y.in.n_pools = x.in.n_pools;
		y.in.no_receive = x.in.no_receive;
		y.in.rebalance = x.in.rebalance;
		for (uint32_t p = 0; p < x.in.n_pools; p++)
			pmap[p] = x.in.n_pools - 1 - p;
		for (uint32_t c = 0; c < x.in.n_classes; c++) {
			cmap[c] = (c + 1) % x.in.n_classes;
			y.classes[cmap[c]] = x.classes[c];
		}
		y.classes[x.in.n_classes] = x.classes[x.in.n_classes - 1];
		for (uint32_t i = 0; i < nr; i++)
			perm[i] = i;
		for (uint32_t i = nr; i-- > 1;) {
			uint32_t j = rn(i + 1), t = perm[i];

			perm[i] = perm[j];
			perm[j] = t;
		}
		for (uint32_t i = 0; i < nr; i++) {
			struct place_res r = x.res[perm[i]];

			r.pool = pmap[r.pool];
			if (r.elig_class == x.in.n_classes - 1 && rn(2))
				r.elig_class = x.in.n_classes;	/* the copy */
			else
				r.elig_class = cmap[r.elig_class];
			y.res[i] = r;
		}
		assert_int_equal(place_run(&y.in, y.owner, &sy), 0);
		shape_of(&x.in, x.owner, pmap, &sx, &a);
		/* compare pool p of x with pool pmap[p] of y */
		{
			struct shape yb;

			shape_of(&y.in, y.owner, pmap, &sy, &yb);
			memset(&b, 0, sizeof(b));
			for (uint32_t p = 0; p < x.in.n_pools; p++)
				memcpy(b.pool[p], yb.pool[pmap[p]], sizeof(b.pool[p]));
			memcpy(b.total, yb.total, sizeof(b.total));
			b.moves = yb.moves;
		}
		if (memcmp(&a, &b, sizeof(a)) != 0)
			fail_msg("iteration %d: renumbered, the counts or the moves differ (%u vs %u moves)",
				 iter, a.moves, b.moves);
		dumped = NULL;
		inst_free(&x);
		inst_free(&y);
	}
}

/* Place 'x' again from its own result: nothing moves, nothing changes. */
static void check_again(struct inst *x)
{
	struct place_in in = x->in;
	struct place_res *res = malloc((in.n_res + 1) * sizeof(*res));
	uint32_t *o2 = malloc((in.n_res + 1) * sizeof(*o2));
	struct place_stats st;

	assert_non_null(res);
	assert_non_null(o2);
	memcpy(res, x->res, in.n_res * sizeof(*res));
	for (uint32_t i = 0; i < in.n_res; i++)
		res[i].prev = x->owner[i];
	in.res = res;
	in.load_budget = 0;
	assert_int_equal(place_run(&in, o2, &st), 0);
	assert_int_equal(st.moves, 0);
	assert_memory_equal(o2, x->owner, in.n_res * sizeof(*o2));
	free(res);
	free(o2);
}

/* Medium inputs, up to 128 nodes: the certificate, and idempotence. */
static void test_certified(void **state)
{
	(void)state;
	rng_state = 0x9e3779b97f4a7c15ull;
	for (int iter = 0; iter < 600; iter++) {
		struct inst x;
		uint32_t n = rn(6) == 0 ? 65 + rn(CHORUS_MAX_NODES - 64) : 2 + rn(20);
		uint32_t nc = 1 + rn(12), nr = rn(400);
		struct place_cert cert;

		inst_alloc(&x, nc, nr);
		x.in.n_nodes = n;
		x.in.n_pools = 1 + rn(6);
		for (uint32_t c = 0; c < nc; c++)
			for (uint32_t s = 0; s < n; s++)
				if (c == 0 || rn(4) != 0)
					place_bits_set(&x.classes[c], s);
		for (uint32_t i = 0; i < nr; i++) {
			x.res[i] = (struct place_res){.pool = rn(x.in.n_pools), .elig_class = rn(nc),
						      .prev = rn(6) ? rn(n) : PLACE_NONE,
						      .pin = rn(30) ? PLACE_NONE : rn(n),
						      .set = rn(3) ? 0 : 1 + rn(40)};
			if (rn(30) == 0)
				x.res[i].flags = PLACE_F_FIXED;
		}
		for (uint32_t s = 0; s < n; s++)
			if (rn(10) == 0)
				place_bits_set(&x.in.no_receive, s);
		x.in.rebalance = rn(4) != 0;
		dumped = &x;
		assert_int_equal(place_run(&x.in, x.owner, NULL), 0);
		check_again(&x);
		/* the count balance alone, without sets, certified */
		for (uint32_t i = 0; i < nr; i++)
			x.res[i].set = 0;
		assert_int_equal(place_run(&x.in, x.owner, NULL), 0);
		assert_int_equal(place_cert_check(&x.in, x.owner, &cert), 0);
		if (!cert.valid || !cert.optimal)
			fail_msg("iteration %d: %s", iter, cert.why);
		dumped = NULL;
		inst_free(&x);
	}
}

/*
 * The config loader's limits: CHORUS_MAX_NODES nodes, CONF_VIPS_MAX
 * addresses and CONF_BRICKS_MAX bricks (replica sets of 3), WIRE_MAX_POOLS
 * pools, every address its own eligibility (a node declares a random
 * three quarters), some pinned, fixed, orphaned, no_receive nodes.  Fresh,
 * then a node lost, then back with a rebalance: each certified, idempotent,
 * every set spread.  Version 2 has no budget, so there is nothing to reach;
 * this says how long the limits take.
 */
static void test_limits(void **state)
{
	const uint32_t n = CHORUS_MAX_NODES, nv = CONF_VIPS_MAX, nb = CONF_BRICKS_MAX;
	const uint32_t nr = nv + nb;
	struct inst x;
	struct place_cert cert;
	struct place_stats st;

	(void)state;
	rng_state = 0xfeedfacecafebeefull;
	inst_alloc(&x, nr, nr);
	x.in.n_nodes = n;
	x.in.n_pools = WIRE_MAX_POOLS;
	for (uint32_t i = 0; i < nr; i++) {
		for (uint32_t s = 0; s < n; s++)
			if (rn(4) != 0)
				place_bits_set(&x.classes[i], s);
		x.res[i] = (struct place_res){.pool = i < nv ? rn(WIRE_MAX_POOLS - 1) : WIRE_MAX_POOLS - 1,
					      .elig_class = i, .prev = PLACE_NONE,
					      .pin = rn(100) ? PLACE_NONE : rn(n),
					      .set = i < nv ? 0 : 1 + (i - nv) / 3};
	}
	for (int ev = 0; ev < 3; ev++) {
		clock_t t0 = clock();
		uint32_t lost = n - 1;

		for (uint32_t i = 0; ev > 0 && i < nr; i++) {
			x.res[i].prev = x.owner[i];
			x.res[i].flags = rn(50) ? 0 : PLACE_F_FIXED;
			if (ev == 1)
				x.classes[i].w[lost / 64] &= ~((uint64_t)1 << (lost % 64));
			else if (rn(4) != 0)
				place_bits_set(&x.classes[i], lost);
		}
		x.in.rebalance = ev > 0;
		memset(&x.in.no_receive, 0, sizeof(x.in.no_receive));
		if (ev == 2)
			place_bits_set(&x.in.no_receive, 3);
		assert_int_equal(place_run(&x.in, x.owner, &st), 0);
		print_message("limits: %s: %u nodes, %u resources, %.1f ms, %u moves, "
			      "%u cycles\n", ev == 0 ? "fresh" : ev == 1 ? "loss" : "rejoin", n, nr,
			      (double)(clock() - t0) * 1000.0 / CLOCKS_PER_SEC, st.moves, st.cycles);
		check_again(&x);
		/* bricks of one set never share a node: 128 nodes, sets of 3 */
		for (uint32_t i = nv; i < nr; i++)
			for (uint32_t j = i + 1; j < nr && x.res[j].set == x.res[i].set; j++)
				if (x.owner[i] != PLACE_NONE && x.owner[i] == x.owner[j])
					fail_msg("%s: bricks %u and %u of set %u on node %u",
						 ev == 0 ? "fresh" : ev == 1 ? "loss" : "rejoin", i, j,
						 x.res[i].set, x.owner[i]);
		assert_int_equal(place_cert_check(&x.in, x.owner, &cert), 0);
		assert_true(cert.valid);
		/* certified on the same input without sets (rule 8 may add
		 * moves for a spread, never a worse count balance) */
		{
			struct place_res *plain = malloc(nr * sizeof(*plain));
			uint32_t *o = malloc(nr * sizeof(*o));
			struct place_in in = x.in;
			struct place_cert c2;

			assert_non_null(plain);
			assert_non_null(o);
			memcpy(plain, x.res, nr * sizeof(*plain));
			for (uint32_t i = 0; i < nr; i++)
				plain[i].set = 0;
			in.res = plain;
			assert_int_equal(place_run(&in, o, NULL), 0);
			assert_int_equal(place_cert_check(&in, o, &c2), 0);
			if (!c2.valid || !c2.optimal)
				fail_msg("limits: not certified: %s", c2.why);
			assert_true(c2.pool_sq == cert.pool_sq && c2.total_sq == cert.total_sq);
			free(plain);
			free(o);
		}
	}
	inst_free(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_exhaustive, dump_on_failure),
		cmocka_unit_test_teardown(test_numbering, dump_on_failure),
		cmocka_unit_test_teardown(test_certified, dump_on_failure),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
