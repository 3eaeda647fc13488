# VIP executor tests.
# vip_test runs against the real kernel inside a private network namespace it
# creates itself; without root it exits 77 and counts as skipped.  It links
# the executor and res.c directly rather than libcore.la, so it builds while
# the rest of the core changes.
check_PROGRAMS += tests/unit/vip_test
TESTS += tests/unit/vip_test
tests_unit_vip_test_SOURCES = \
	tests/unit/vip_test.c \
	$(exec_vip_sources) \
	coordinator/core/res.c coordinator/core/res.h
tests_unit_vip_test_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS) $(MNL_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_vip_test_LDADD = $(MNL_LIBS) $(CMOCKA_LIBS) $(QB_LIBS)

# Expiry probes (ARP / neighbour solicitation) against the real kernel, in a
# private network namespace of the test's own; skipped without root.
check_PROGRAMS += tests/unit/vip_probe_test
TESTS += tests/unit/vip_probe_test
tests_unit_vip_probe_test_SOURCES = \
	tests/unit/vip_probe_test.c \
	$(exec_vip_probe_sources) \
	coordinator/core/res.c coordinator/core/res.h
tests_unit_vip_probe_test_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_vip_probe_test_LDADD = $(CMOCKA_LIBS) $(QB_LIBS)
