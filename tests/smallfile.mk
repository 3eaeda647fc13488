# Small-file load balancing (owned by the smallfile work): the benchmark
# script and its load generator / stand-in service.  The golden placement
# scenarios with weights live in tests/place.mk, the LOAD codec test in the
# wire test, the replicated load in the simulator.
noinst_PROGRAMS += tests/bench/sfb_load
tests_bench_sfb_load_SOURCES = tests/bench/sfb_load.c
tests_bench_sfb_load_CFLAGS = $(AM_CFLAGS)
tests_bench_sfb_load_LDADD = -lpthread
EXTRA_DIST += tests/bench/smallfile-balance.sh
