# Tickle ACKs: the CONNS codec and the bounded connection list (make check),
# the integration test and the reconnect benchmark (tests/run.sh, as root).
check_PROGRAMS += tests/unit/conns_test
TESTS += tests/unit/conns_test
tests_unit_conns_test_SOURCES = tests/unit/conns_test.c \
	$(exec_connlist_sources)
tests_unit_conns_test_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_conns_test_LDADD = coordinator/core/libcore.la $(CMOCKA_LIBS) $(QB_LIBS)

EXTRA_DIST += tests/integration/echo.py
dist_noinst_SCRIPTS += \
	tests/integration/tickle.sh \
	tests/integration/tickle-ipv6.sh \
	tests/bench/reconnect.sh
EXTRA_DIST += tests/integration/lib-tickle.sh
