# Placement: unit tests, golden scenarios, benchmark.
#
# These link the two core sources they need directly instead of libcore.la:
# placement is pure, and the rest of the core must not be able to break its
# tests (or its benchmark) while it changes.
place_core_sources = \
	coordinator/core/place.c coordinator/core/place.h \
	coordinator/core/place_private.h coordinator/core/place_count.c \
	coordinator/core/place_flow.h coordinator/core/place_start.c \
	coordinator/core/place_load.c coordinator/core/place_spread.c \
	coordinator/core/place_v1.c coordinator/core/place_v1.h \
	coordinator/core/place_v1_load.c coordinator/core/place_v1_spread.c \
	coordinator/core/res.c coordinator/core/res.h

check_PROGRAMS += tests/unit/place_test tests/unit/place_golden tests/unit/place_prop_test
TESTS += tests/unit/place_test tests/unit/place_golden tests/unit/place_prop_test

tests_unit_place_test_SOURCES = tests/unit/place_test.c tests/unit/place_cert.c \
	tests/unit/place_cert.h $(place_core_sources)
tests_unit_place_test_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_place_test_LDADD = $(CMOCKA_LIBS)

tests_unit_place_prop_test_SOURCES = tests/unit/place_prop_test.c tests/unit/place_cert.c \
	tests/unit/place_cert.h $(place_core_sources)
tests_unit_place_prop_test_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_place_prop_test_LDADD = $(CMOCKA_LIBS)

# The golden runner finds its scenarios through $srcdir, which the test
# harness exports, so VPATH builds and distcheck read them from the source
# tree; it also takes the directory as its first argument.
tests_unit_place_golden_SOURCES = tests/unit/place_golden.c $(place_core_sources)
tests_unit_place_golden_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_place_golden_LDADD = $(CMOCKA_LIBS)

noinst_PROGRAMS += tests/bench/placement
tests_bench_placement_SOURCES = tests/bench/placement.c tests/unit/place_cert.c \
	tests/unit/place_cert.h $(place_core_sources)
tests_bench_placement_CFLAGS = $(AM_CFLAGS)

# Golden scenarios: every NNN-what.in with its NNN-what.out.
EXTRA_DIST += \
	tests/scenarios/place/001-fresh-start.in \
	tests/scenarios/place/001-fresh-start.out \
	tests/scenarios/place/002-node-loss.in \
	tests/scenarios/place/002-node-loss.out \
	tests/scenarios/place/003-join-rebalance.in \
	tests/scenarios/place/003-join-rebalance.out \
	tests/scenarios/place/003-join-rebalance.v1.out \
	tests/scenarios/place/004-join-manual.in \
	tests/scenarios/place/004-join-manual.out \
	tests/scenarios/place/005-join-delay.in \
	tests/scenarios/place/005-join-delay.out \
	tests/scenarios/place/006-multi-pool.in \
	tests/scenarios/place/006-multi-pool.out \
	tests/scenarios/place/007-pins-fixed.in \
	tests/scenarios/place/007-pins-fixed.out \
	tests/scenarios/place/008-heterogeneous.in \
	tests/scenarios/place/008-heterogeneous.out \
	tests/scenarios/place/008-heterogeneous.v1.out \
	tests/scenarios/place/009-empty-class.in \
	tests/scenarios/place/009-empty-class.out \
	tests/scenarios/place/010-malformed.in \
	tests/scenarios/place/010-malformed.out \
	tests/scenarios/place/011-standby-node.in \
	tests/scenarios/place/011-standby-node.out \
	tests/scenarios/place/012-multi-pool-join.in \
	tests/scenarios/place/012-multi-pool-join.out \
	tests/scenarios/place/012-multi-pool-join.v1.out \
	tests/scenarios/place/013-load-skewed.in \
	tests/scenarios/place/013-load-skewed.out \
	tests/scenarios/place/013-load-skewed.v1.out \
	tests/scenarios/place/014-load-dominant.in \
	tests/scenarios/place/014-load-dominant.out \
	tests/scenarios/place/015-load-equal.in \
	tests/scenarios/place/015-load-equal.out \
	tests/scenarios/place/015-load-equal.v1.out \
	tests/scenarios/place/016-load-noisy.in \
	tests/scenarios/place/016-load-noisy.out \
	tests/scenarios/place/016-load-noisy.v1.out \
	tests/scenarios/place/017-load-budget.in \
	tests/scenarios/place/017-load-budget.out \
	tests/scenarios/place/017-load-budget.v1.out \
	tests/scenarios/place/018-load-failover.in \
	tests/scenarios/place/018-load-failover.out \
	tests/scenarios/place/019-load-eligibility.in \
	tests/scenarios/place/019-load-eligibility.out \
	tests/scenarios/place/019-load-eligibility.v1.out \
	tests/scenarios/place/020-load-noisy-many.in \
	tests/scenarios/place/020-load-noisy-many.out \
	tests/scenarios/place/020-load-noisy-many.v1.out \
	tests/scenarios/place/021-load-many-small.in \
	tests/scenarios/place/021-load-many-small.out \
	tests/scenarios/place/021-load-many-small.v1.out \
	tests/scenarios/place/022-load-tied-heavy.in \
	tests/scenarios/place/022-load-tied-heavy.out \
	tests/scenarios/place/023-load-brick.in \
	tests/scenarios/place/023-load-brick.out \
	tests/scenarios/place/024-spread-failover.in \
	tests/scenarios/place/024-spread-failover.out \
	tests/scenarios/place/024-spread-failover.v1.out \
	tests/scenarios/place/025-spread-sticky.in \
	tests/scenarios/place/025-spread-sticky.out \
	tests/scenarios/place/026-spread-rebalance.in \
	tests/scenarios/place/026-spread-rebalance.out \
	tests/scenarios/place/027-spread-impossible.in \
	tests/scenarios/place/027-spread-impossible.out \
	tests/scenarios/place/028-spread-pinned.in \
	tests/scenarios/place/028-spread-pinned.out \
	tests/scenarios/place/029-count-rebalance-load.in \
	tests/scenarios/place/029-count-rebalance-load.out \
	tests/scenarios/place/029-count-rebalance-load.v1.out \
	tests/scenarios/place/030-hetero-flow-budget.in \
	tests/scenarios/place/030-hetero-flow-budget.out \
	tests/scenarios/place/030-hetero-flow-budget.v1.out \
	tests/scenarios/place/031-duplicate-classes.in \
	tests/scenarios/place/031-duplicate-classes.out \
	tests/scenarios/place/031-duplicate-classes.v1.out \
	tests/scenarios/place/032-pool-over-classes.in \
	tests/scenarios/place/032-pool-over-classes.out \
	tests/scenarios/place/032-pool-over-classes.v1.out \
	tests/scenarios/place/033-no-receive-order-a.in \
	tests/scenarios/place/033-no-receive-order-a.out \
	tests/scenarios/place/033-no-receive-order-b.in \
	tests/scenarios/place/033-no-receive-order-b.out \
	tests/scenarios/place/033-no-receive-order-b.v1.out
