# Plugin host tests.
#
# plugin_test links the host (coordinator/plugin/) directly and loads the
# test plugins below and the shipped ones from the build tree.  The test
# plugins are libtool modules that are never installed: -rpath makes
# libtool build a shared object at all.
test_plugin_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared -rpath /nowhere
test_plugin_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden $(JSONC_CFLAGS)

check_LTLIBRARIES = \
	tests/plugins/chorus-test-good.la \
	tests/plugins/chorus-test-badabi.la \
	tests/plugins/chorus-test-badsize.la \
	tests/plugins/chorus-test-nosym.la

tests_plugins_chorus_test_good_la_SOURCES = tests/plugins/test_plugin.c
tests_plugins_chorus_test_good_la_CFLAGS = $(test_plugin_CFLAGS) -Wpedantic
tests_plugins_chorus_test_good_la_LDFLAGS = $(test_plugin_LDFLAGS)
tests_plugins_chorus_test_good_la_LIBADD = $(JSONC_LIBS)

tests_plugins_chorus_test_badabi_la_SOURCES = tests/plugins/test_plugin.c
tests_plugins_chorus_test_badabi_la_CFLAGS = $(test_plugin_CFLAGS) -DTEST_BAD_ABI
tests_plugins_chorus_test_badabi_la_LDFLAGS = $(test_plugin_LDFLAGS)
tests_plugins_chorus_test_badabi_la_LIBADD = $(JSONC_LIBS)

tests_plugins_chorus_test_badsize_la_SOURCES = tests/plugins/test_plugin.c
tests_plugins_chorus_test_badsize_la_CFLAGS = $(test_plugin_CFLAGS) -DTEST_BAD_SIZE
tests_plugins_chorus_test_badsize_la_LDFLAGS = $(test_plugin_LDFLAGS)
tests_plugins_chorus_test_badsize_la_LIBADD = $(JSONC_LIBS)

tests_plugins_chorus_test_nosym_la_SOURCES = tests/plugins/test_plugin.c
tests_plugins_chorus_test_nosym_la_CFLAGS = $(test_plugin_CFLAGS) -DTEST_NO_SYMBOL
tests_plugins_chorus_test_nosym_la_LDFLAGS = $(test_plugin_LDFLAGS)
tests_plugins_chorus_test_nosym_la_LIBADD = $(JSONC_LIBS)

check_PROGRAMS += tests/unit/plugin_test
TESTS += tests/unit/plugin_test
tests_unit_plugin_test_SOURCES = tests/unit/plugin_test.c \
	$(plugin_host_sources)
tests_unit_plugin_test_CPPFLAGS = $(AM_CPPFLAGS) \
	-DPLUGIN_TEST_DIR='"$(abs_top_builddir)/tests/plugins/.libs"' \
	-DPLUGIN_SHIPPED_DIR='"$(abs_top_builddir)/plugins"'
tests_unit_plugin_test_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS) $(JSONC_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_plugin_test_LDADD = $(JSONC_LIBS) $(QB_LIBS) $(CMOCKA_LIBS) -ldl -lpthread

tests_unit_plugin_test_DEPENDENCIES = $(check_LTLIBRARIES) $(pkglib_LTLIBRARIES)

# The public header compiles on its own, in C and C++-free strict C99.
check-local: check-plugin-header
check-plugin-header:
	$(AM_V_CC)echo '#include <chorus/plugin.h>' | \
	$(CC) -std=c99 -Wall -Wextra -Werror -pedantic -I$(top_srcdir)/include \
		-x c -fsyntax-only -
.PHONY: check-plugin-header
