# Small-file load balancing: the benchmark
# script and its load generator / stand-in service.  The golden placement
# scenarios with weights live in tests/place.mk, the LOAD codec test in the
# wire test, the replicated load in the simulator.
noinst_PROGRAMS += tests/bench/sfb_load
tests_bench_sfb_load_SOURCES = tests/bench/sfb_load.c
tests_bench_sfb_load_CFLAGS = $(AM_CFLAGS)
tests_bench_sfb_load_LDADD = -lpthread
dist_noinst_SCRIPTS += tests/bench/smallfile-balance.sh \
	tests/bench/smallfile-gluster.sh \
	tests/integration/smallfile-balance.sh

# The plugin's io-stats dump parser sees files written by another program.
check_PROGRAMS += tests/unit/iostats_test
TESTS += tests/unit/iostats_test
tests_unit_iostats_test_SOURCES = tests/unit/iostats_test.c \
	plugins/smallfile-balance/iostats.c plugins/smallfile-balance/iostats.h
tests_unit_iostats_test_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/smallfile-balance
tests_unit_iostats_test_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_iostats_test_LDADD = $(JSONC_LIBS) $(CMOCKA_LIBS)

# Rule 7 of placement (load) as randomized properties; links placement alone,
# as tests/place.mk does.
check_PROGRAMS += tests/unit/place_load_test
TESTS += tests/unit/place_load_test
tests_unit_place_load_test_SOURCES = tests/unit/place_load_test.c $(place_core_sources)
tests_unit_place_load_test_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_place_load_test_LDADD = $(CMOCKA_LIBS)
