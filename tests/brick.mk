# Brick executor (issue 4, executor side): the action-script runner, the
# brick executor, the Gluster inventory, the default brick script, the
# glusterd hooks, and their tests.
#
# script.c and brick.c go into chorusd now so they build with it; main.c
# wires them (the lead's part).
coordinator_chorusd_SOURCES += \
	coordinator/script.c coordinator/script.h

check_PROGRAMS += tests/unit/script_test
TESTS += tests/unit/script_test
tests_unit_script_test_SOURCES = tests/unit/script_test.c \
	coordinator/script.c coordinator/script.h
tests_unit_script_test_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_script_test_LDADD = $(CMOCKA_LIBS) $(QB_LIBS)
