# Golden scenarios for the state machine: real cores on a scripted fake CPG
# (tests/scenarios/core/README.md is the language).  The runner reaches the
# core through scenario_core.c only; the world it drives is the simulator's.
check_PROGRAMS += tests/unit/scenario_run
TESTS += tests/unit/scenario_run
tests_unit_scenario_run_SOURCES = tests/unit/scenario_run.c \
	tests/unit/scenario_world.c tests/unit/scenario_world.h \
	tests/unit/scenario_trace.c tests/unit/scenario_trace.h tests/unit/scenario_check.c \
	tests/unit/scenario_core.c tests/unit/scenario_core.h
tests_unit_scenario_run_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS)
tests_unit_scenario_run_LDADD = coordinator/core/libcore.la $(QB_LIBS)

# the directory whole: every .scn with its .out, and the README
EXTRA_DIST += tests/scenarios/core
