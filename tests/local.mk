# Core unit tests and the simulator.
# The simulator links the real core: every line of state*.c it exercises is
# the code chorusd runs.
check_PROGRAMS += tests/sim/sim
TESTS += tests/sim/sim
tests_sim_sim_SOURCES = tests/sim/sim.c tests/sim/fakecpg.c tests/sim/fakecpg.h
tests_sim_sim_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS)
tests_sim_sim_LDADD = coordinator/core/libcore.la $(QB_LIBS)
TESTS += tests/sim/seeds-test.sh
EXTRA_DIST += tests/sim/seeds-test.sh

# Rounds at scale: N real cores behind the simulator's fake CPG, timed
# (README, "Tests and benchmarks").  Not in make check: it measures.
noinst_PROGRAMS += tests/bench/scale_sim
tests_bench_scale_sim_SOURCES = tests/bench/scale_sim.c tests/sim/fakecpg.c tests/sim/fakecpg.h
tests_bench_scale_sim_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS)
tests_bench_scale_sim_LDADD = coordinator/core/libcore.la $(QB_LIBS)

check_PROGRAMS += tests/unit/wire_test
TESTS += tests/unit/wire_test
tests_unit_wire_test_SOURCES = tests/unit/wire_test.c
tests_unit_wire_test_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_wire_test_LDADD = coordinator/core/libcore.la $(CMOCKA_LIBS) $(QB_LIBS)

# Control-socket load generator for tests/bench/control.sh
noinst_PROGRAMS += tests/bench/control_load
tests_bench_control_load_SOURCES = tests/bench/control_load.c

# Failure timing derived from corosync's (pure: no corosync needed).
check_PROGRAMS += tests/unit/timing_test
TESTS += tests/unit/timing_test
tests_unit_timing_test_SOURCES = tests/unit/timing_test.c
tests_unit_timing_test_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_timing_test_LDADD = coordinator/core/libcore.la $(CMOCKA_LIBS) $(QB_LIBS)

# The core event log behind `chorusctl events --core`, in front of a real core.
check_PROGRAMS += tests/unit/corelog_test
TESTS += tests/unit/corelog_test
tests_unit_corelog_test_SOURCES = tests/unit/corelog_test.c \
	coordinator/daemon/corelog.c coordinator/daemon/corelog.h
tests_unit_corelog_test_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS) $(JSONC_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_corelog_test_LDADD = coordinator/core/libcore.la $(CMOCKA_LIBS) $(JSONC_LIBS) $(QB_LIBS)

# The operator's event history on disk: restart, damage, rotation, --since.
check_PROGRAMS += tests/unit/history_test
TESTS += tests/unit/history_test
tests_unit_history_test_SOURCES = tests/unit/history_test.c \
	coordinator/daemon/history.c coordinator/daemon/history.h
tests_unit_history_test_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS) $(JSONC_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_history_test_LDADD = $(CMOCKA_LIBS) $(JSONC_LIBS) $(QB_LIBS)

# Hostile CPG members against real cores behind an in-order bus: the
# hold-back budget, and STATE that breaks the wire rules.
check_PROGRAMS += tests/unit/hostile_test
TESTS += tests/unit/hostile_test
tests_unit_hostile_test_SOURCES = tests/unit/hostile_test.c
tests_unit_hostile_test_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_hostile_test_LDADD = coordinator/core/libcore.la $(CMOCKA_LIBS) $(QB_LIBS)

# chorusd feeds systemd's watchdog from its loop (a real chorusd, no corosync).
TESTS += tests/cli/sd-watchdog-test.sh
EXTRA_DIST += tests/cli/sd-watchdog-test.sh

# chorusd --check: the config loader alone, nothing started.
TESTS += tests/cli/chorusd-check-test.sh
EXTRA_DIST += tests/cli/chorusd-check-test.sh

# A real chorusd without corosync under the real chorusctl.
TESTS += tests/cli/chorusd-alone-test.sh
EXTRA_DIST += tests/cli/chorusd-alone-test.sh

# The include arrows between coordinator/'s layers (README, "How it works").
TESTS += tests/cli/layers-test.sh
EXTRA_DIST += tests/cli/layers-test.sh
