# Service hooks: the hook runner on a real loop with real scripts.
dist_noinst_SCRIPTS += tests/integration/hooks.sh
check_PROGRAMS += tests/unit/hooks_test
TESTS += tests/unit/hooks_test
tests_unit_hooks_test_SOURCES = tests/unit/hooks_test.c \
	$(exec_hooks_sources)
tests_unit_hooks_test_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS) $(JSONC_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_hooks_test_LDADD = coordinator/core/libcore.la $(CMOCKA_LIBS) $(JSONC_LIBS) $(QB_LIBS)
