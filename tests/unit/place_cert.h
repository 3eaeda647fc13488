/*
 * An independent check of place_run()'s count balancing, for the tests and
 * the benchmark.  It shares no code with the placement: it rebuilds the
 * model of place.h from the input and the output and looks for a negative
 * cycle in its full residual graph.  None means the output is optimal for
 * (per-pool sum of squares, overall sum of squares, moves) in that order,
 * which is what place.h promises for rules 1-6.
 */
#ifndef CHORUS_TESTS_PLACE_CERT_H
#define CHORUS_TESTS_PLACE_CERT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/place.h"

struct place_cert {
	bool valid;		/* rules 1-4 and no_receive hold */
	bool optimal;		/* no negative cycle: nothing lexicographically better */
	uint64_t pool_sq;	/* sum over pools and nodes of count^2 */
	uint64_t total_sq;	/* sum over nodes of overall count^2 */
	uint32_t moves;
	char why[160];		/* the first problem found, for a failure message */
};

/* Check 'owner' (in->n_res entries) against 'in'.  Returns 0, or -ENOMEM. */
int place_cert_check(const struct place_in *in, const uint32_t *owner, struct place_cert *out);

#endif
