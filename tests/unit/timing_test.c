/*
 * Failure timing derived from corosync's (coordinator/core/timing.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/timing.h"

static int derive(const struct timing_in *in, struct timing *t, char *err, char *warn)
{
	err[0] = '\0';
	return timing_derive(in, t, err, 256, warn, 256);
}

/* The integration tests' corosync: token 1000, token_coefficient 0. */
static void test_harness(void **state)
{
	struct timing_in in = {.token_ms = 1000, .consensus_ms = 1200, .restart_grace_ms = 10000};
	struct timing t;
	char err[256], warn[256];

	(void)state;
	assert_int_equal(derive(&in, &t, err, warn), 0);
	assert_int_equal(t.detection_ms, 2200);
	assert_int_equal(t.heartbeat_ms, 100);
	assert_int_equal(t.gap_ms, 300);
	assert_int_equal(t.liveness_ms, 1000);
	assert_int_equal(t.quiet_limit_ms, 2500);
	assert_int_equal(t.expiry_margin_ms, 1300);
	/* (2500 - 100 - 1300) / 1000: a crash with the kernel alive makes the
	 * survivors wait no longer than a cut-off node does */
	assert_int_equal(t.lifetime_s, 1);
	assert_int_equal(t.takeover_wait_ms, 2500 + 25 - 2200);
	/* a cut-off node's kernel that still answers probes: until the
	 * lifetime of a renewal at its quiet limit has run out */
	assert_int_equal(t.takeover_max_ms, 2500 + 25 + 100 + 1000 + 1300 - 2200);
	/* a frozen member's last renewal may be renew (250) + a heartbeat
	 * before its last message: its addresses may lapse 650 ms after it,
	 * so status says unresponsive well before (daemon-freeze.sh) */
	assert_int_equal(t.renew_ms, 250);
	assert_int_equal(t.unresponsive_ms, 1000 - 250 - 2 * 100 - 2 * 25);
	assert_string_equal(warn, "");
}

/* deploy/examples/corosync-3node.conf: token 3000 with corosync's default
 * token_coefficient (650 per node beyond two), consensus 1.2 x token. */
static void test_shipped_example(void **state)
{
	struct timing_in in = {.token_ms = 3650, .consensus_ms = 4380, .restart_grace_ms = 10000};
	struct timing t;
	char err[256], warn[256];

	(void)state;
	assert_int_equal(derive(&in, &t, err, warn), 0);
	assert_int_equal(t.detection_ms, 8030);
	assert_int_equal(t.heartbeat_ms, 250);
	assert_int_equal(t.quiet_limit_ms, 8030 + 250 + 200);
	assert_int_equal(t.lifetime_s, 6);
	/* a long lifetime: the addresses outlast the suspicion */
	assert_int_equal(t.unresponsive_ms, t.liveness_ms);
	/* the old default, a 5000 ms round timeout as the hang limit, was
	 * shorter than corosync's own detection: every survivor released */
	assert_true(t.quiet_limit_ms > t.detection_ms + t.heartbeat_ms);
}

/* cmap unreadable: corosync 3's defaults. */
static void test_unknown_corosync(void **state)
{
	struct timing_in in = {.restart_grace_ms = 10000};
	struct timing t;
	char err[256], warn[256];

	(void)state;
	assert_int_equal(derive(&in, &t, err, warn), 0);
	assert_int_equal(t.token_ms, 3000);
	assert_int_equal(t.consensus_ms, 3600);
}

static void test_contradictions(void **state)
{
	struct timing_in in = {.token_ms = 1000, .consensus_ms = 1200, .restart_grace_ms = 10000};
	struct timing t;
	char err[256], warn[256];

	(void)state;
	/* a heartbeat slower than a third of the token cannot tell traffic
	 * from a membership change: refused, naming both values */
	in.heartbeat_ms = 334;
	assert_int_equal(derive(&in, &t, err, warn), -EINVAL);
	assert_non_null(strstr(err, "timing.heartbeat_ms: 334"));
	assert_non_null(strstr(err, "token of 1000 ms"));
	in.heartbeat_ms = 333;
	assert_int_equal(derive(&in, &t, err, warn), 0);

	in.heartbeat_ms = 200;
	in.liveness_ms = 599;
	assert_int_equal(derive(&in, &t, err, warn), -EINVAL);
	assert_non_null(strstr(err, "timing.liveness_ms: 599"));
	in.liveness_ms = 600;
	assert_int_equal(derive(&in, &t, err, warn), 0);

	in.liveness_ms = 0;
	in.address_lifetime_set = true;
	in.address_lifetime_s = 1;
	in.heartbeat_ms = 300;
	assert_int_equal(derive(&in, &t, err, warn), -EINVAL);
	assert_non_null(strstr(err, "timing.address_lifetime_s: 1 s"));
}

static void test_warnings(void **state)
{
	struct timing_in in = {.token_ms = 1000, .consensus_ms = 1200, .restart_grace_ms = 10000};
	struct timing t;
	char err[256], warn[256];

	(void)state;
	/* a long lifetime works, but every takeover of a lost node waits for it */
	in.address_lifetime_set = true;
	in.address_lifetime_s = 7;
	assert_int_equal(derive(&in, &t, err, warn), 0);
	assert_int_equal(t.takeover_wait_ms, 100 + 7000 + 1300 + 25 + 25 - 2200);
	assert_non_null(strstr(warn, "timing.address_lifetime_s: 7 s makes the survivors wait"));
	assert_non_null(strstr(warn, "1 s or less"));

	in.address_lifetime_s = 0;
	assert_int_equal(derive(&in, &t, err, warn), 0);
	assert_non_null(strstr(warn, "permanent addresses"));

	in.address_lifetime_set = false;
	in.expiry_margin_set = true;
	in.expiry_margin_ms = 300;
	assert_int_equal(derive(&in, &t, err, warn), 0);
	assert_non_null(strstr(warn, "timing.expiry_margin_ms: 300"));
}

/*
 * For every corosync token from 1000 to 10000 ms (3 to 32 nodes, default
 * coefficient and consensus): a survivor's silence during a membership
 * change (one idle heartbeat + detection + forming the ring) stays under
 * the quiet limit by the formation allowance, and a derived lifetime never
 * makes the survivors wait longer than the quiet limit does.
 */
static void test_every_token(void **state)
{
	(void)state;
	for (uint32_t token = 1000; token <= 10000; token += 250)
		for (uint32_t nodes = 3; nodes <= 32; nodes++) {
			uint32_t eff = token + (nodes - 2) * 650;
			struct timing_in in = {.token_ms = eff, .consensus_ms = eff * 12 / 10,
					       .restart_grace_ms = 10000};
			struct timing t;
			char err[256], warn[256];

			assert_int_equal(derive(&in, &t, err, warn), 0);
			assert_true(t.quiet_limit_ms >= t.detection_ms + t.heartbeat_ms + 200);
			assert_true(t.gap_ms < t.token_ms);
			assert_true(t.lifetime_s >= 1);
			assert_true((uint64_t)t.lifetime_s * 1000 >= 4ull * t.heartbeat_ms);
			assert_true(t.heartbeat_ms + t.lifetime_s * 1000ull + t.expiry_margin_ms <=
					    t.quiet_limit_ms ||
				    t.lifetime_s * 1000ull + 2000 >= 10000);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_harness),
	    cmocka_unit_test(test_shipped_example),
	    cmocka_unit_test(test_unknown_corosync),
	    cmocka_unit_test(test_contradictions),
	    cmocka_unit_test(test_warnings),
	    cmocka_unit_test(test_every_token),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
