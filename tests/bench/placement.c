/*
 * Placement benchmark: how long place_run() takes to recompute a single-pool
 * assignment after a membership change, and whether it moved exactly as few
 * resources as needed.
 *
 * For N nodes and V VIPs, starting from a balanced assignment:
 *   loss: N nodes hold the VIPs round robin; the last one leaves the class.
 *         The optimum is what the lost node held.
 *   join: N-1 nodes hold the VIPs round robin; node N-1 joins, empty, with
 *         rebalance.  The optimum is floor(V / N), all onto the new node.
 * Both run with 'rebalance' set.  recompute_us is the median of RUNS calls,
 * timed with CLOCK_MONOTONIC (this is not the pure core, clocks are fine).
 *
 * load: 32 nodes hold 10000 VIPs round robin, each with weight 10, except
 *       that the VIPs of node 0 weigh 100: a load rebalance with margin 10 %
 *       and budget 8 (place.h rule 7) must make exactly 8 moves.
 *
 * One line per case, then a summary for the slowest 32-node, 10000-VIP case.
 * Exits 1 if any case moved more (or fewer) VIPs than the optimum.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/place.h"

#define RUNS 31

struct result {
	uint32_t nodes, vips;
	const char *event;
	double us;
	uint32_t moves, optimal;
};

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int run_case(uint32_t nodes, uint32_t vips, bool join, struct result *out)
{
	struct place_bits cls = {{0}};
	struct place_res *res = calloc(vips, sizeof(*res));
	uint32_t *owner = calloc(vips, sizeof(*owner));
	struct place_in in = {0};
	struct place_stats st = {0};
	double t[RUNS];
	uint32_t holders = join ? nodes - 1 : nodes;
	int rc = -ENOMEM;

	if (res == NULL || owner == NULL)
		goto out;
	for (uint32_t i = 0; i < vips; i++)
		res[i] = (struct place_res){
		    .pool = 0, .elig_class = 0, .prev = i % holders, .pin = PLACE_NONE};
	for (uint32_t s = 0; s < (join ? nodes : nodes - 1); s++)
		place_bits_set(&cls, s);
	in.n_nodes = nodes;
	in.n_pools = 1;
	in.n_classes = 1;
	in.classes = &cls;
	in.n_res = vips;
	in.res = res;
	in.rebalance = true;

	out->nodes = nodes;
	out->vips = vips;
	out->event = join ? "join" : "loss";
	if (join) {
		out->optimal = vips / nodes;
	} else {
		out->optimal = 0;
		for (uint32_t i = 0; i < vips; i++)
			out->optimal += res[i].prev == nodes - 1;
	}
	for (int r = 0; r < RUNS; r++) {
		double t0 = now_us();

		rc = place_run(&in, owner, &st);
		t[r] = now_us() - t0;
		if (rc < 0)
			goto out;
	}
	qsort(t, RUNS, sizeof(t[0]), dbl_cmp);
	out->us = t[RUNS / 2];
	out->moves = st.moves;
	rc = 0;
out:
	free(res);
	free(owner);
	return rc;
}

/* The load case: the cost of rule 7 on the largest layout. */
static int run_load_case(void)
{
	const uint32_t nodes = 32, vips = 10000;
	struct place_bits cls = {{0}};
	struct place_res *res = calloc(vips, sizeof(*res));
	uint32_t *owner = calloc(vips, sizeof(*owner));
	struct place_in in = {0};
	struct place_stats st = {0};
	double t[RUNS];
	int rc = 1;

	if (res == NULL || owner == NULL)
		goto out;
	for (uint32_t i = 0; i < vips; i++)
		res[i] = (struct place_res){.prev = i % nodes, .pin = PLACE_NONE,
					    .weight = i % nodes == 0 ? 100 : 10, .conns = i % 7};
	for (uint32_t s = 0; s < nodes; s++)
		place_bits_set(&cls, s);
	in = (struct place_in){.n_nodes = nodes, .n_pools = 1, .n_classes = 1, .classes = &cls,
			       .n_res = vips, .res = res, .rebalance = true,
			       .load_margin_pct = 10, .load_budget = 8};
	for (int r = 0; r < RUNS; r++) {
		double t0 = now_us();

		if (place_run(&in, owner, &st) < 0)
			goto out;
		t[r] = now_us() - t0;
	}
	qsort(t, RUNS, sizeof(t[0]), dbl_cmp);
	printf("placement nodes=%u vips=%u event=load recompute_us=%.1f moves=%u "
	       "optimal_moves=%u\n", nodes, vips, t[RUNS / 2], st.moves, 8u);
	rc = st.moves != 8;
out:
	free(res);
	free(owner);
	return rc;
}

int main(void)
{
	static const uint32_t node_counts[] = {3, 8, 32};
	static const uint32_t vip_counts[] = {64, 1024, 10000};
	struct result worst = {0};
	int bad = 0;

	for (size_t n = 0; n < sizeof(node_counts) / sizeof(node_counts[0]); n++) {
		for (size_t v = 0; v < sizeof(vip_counts) / sizeof(vip_counts[0]); v++) {
			for (int join = 0; join < 2; join++) {
				struct result r;
				int rc = run_case(node_counts[n], vip_counts[v], join, &r);

				if (rc < 0) {
					fprintf(stderr, "placement: place_run failed: %s\n",
						strerror(-rc));
					return 1;
				}
				printf("placement nodes=%u vips=%u event=%s recompute_us=%.1f "
				       "moves=%u optimal_moves=%u\n",
				       r.nodes, r.vips, r.event, r.us, r.moves, r.optimal);
				if (r.moves != r.optimal)
					bad = 1;
				if (r.nodes == 32 && r.vips == 10000 && r.us >= worst.us)
					worst = r;
			}
		}
	}
	bad |= run_load_case();
	printf("placement nodes=%u vips=%u recompute_us=%.1f moves=%u optimal_moves=%u\n",
	       worst.nodes, worst.vips, worst.us, worst.moves, worst.optimal);
	return bad;
}
