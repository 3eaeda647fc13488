# Config loader tests.
#
# conf_test links the loader and core/res.c directly rather than libcore.la:
# it needs nothing else from the core, and so does not break while the rest
# of the core is being reworked.
check_PROGRAMS += tests/unit/conf_test
TESTS += tests/unit/conf_test
tests_unit_conf_test_SOURCES = \
	tests/unit/conf_test.c \
	$(adapters_conf_sources) \
	coordinator/core/res.c coordinator/core/res.h
tests_unit_conf_test_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(QB_CFLAGS) \
	$(CMOCKA_CFLAGS)
tests_unit_conf_test_LDADD = $(JSONC_LIBS) $(QB_LIBS) $(CMOCKA_LIBS)

# conf_examples_test loads every shipped example, found through $(srcdir) as
# exported by the test harness, so VPATH builds work; CONF_TEST_SRCDIR covers
# running the binary by hand.  Hook scripts named there by their installed
# path are taken from deploy/hooks/.
check_PROGRAMS += tests/unit/conf_examples_test
TESTS += tests/unit/conf_examples_test
tests_unit_conf_examples_test_SOURCES = \
	tests/unit/conf_examples_test.c \
	$(adapters_conf_sources) \
	coordinator/core/res.c coordinator/core/res.h
tests_unit_conf_examples_test_CPPFLAGS = $(AM_CPPFLAGS) \
	-DCONF_TEST_SRCDIR='"$(abs_top_srcdir)"'
tests_unit_conf_examples_test_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(QB_CFLAGS) \
	$(CMOCKA_CFLAGS)
tests_unit_conf_examples_test_LDADD = $(JSONC_LIBS) $(QB_LIBS) $(CMOCKA_LIBS)

EXTRA_DIST += deploy/examples/chorus-vips.json

check_PROGRAMS += tests/unit/conf_bricks_test
TESTS += tests/unit/conf_bricks_test
tests_unit_conf_bricks_test_SOURCES = \
	tests/unit/conf_bricks_test.c \
	$(adapters_conf_sources) \
	coordinator/core/res.c coordinator/core/res.h
tests_unit_conf_bricks_test_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(QB_CFLAGS) \
	$(CMOCKA_CFLAGS)
tests_unit_conf_bricks_test_LDADD = $(JSONC_LIBS) $(QB_LIBS) $(CMOCKA_LIBS)

# The "control" keys: groups by name or number, limits (conf_control.c).
check_PROGRAMS += tests/unit/conf_control_test
TESTS += tests/unit/conf_control_test
tests_unit_conf_control_test_SOURCES = \
	tests/unit/conf_control_test.c \
	$(adapters_conf_sources) \
	coordinator/core/res.c coordinator/core/res.h
tests_unit_conf_control_test_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(QB_CFLAGS) \
	$(CMOCKA_CFLAGS)
tests_unit_conf_control_test_LDADD = $(JSONC_LIBS) $(QB_LIBS) $(CMOCKA_LIBS)
