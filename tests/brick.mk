# Brick executor, script runner and Gluster inventory tests; the default
# brick script and the glusterd hook are installed by deploy/local.mk.

check_PROGRAMS += tests/unit/script_test
TESTS += tests/unit/script_test
tests_unit_script_test_SOURCES = tests/unit/script_test.c $(exec_script_sources)
tests_unit_script_test_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_script_test_LDADD = $(CMOCKA_LIBS) $(QB_LIBS)

check_PROGRAMS += tests/unit/brick_test
TESTS += tests/unit/brick_test
tests_unit_brick_test_SOURCES = tests/unit/brick_test.c $(exec_brick_sources)
tests_unit_brick_test_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_brick_test_LDADD = $(CMOCKA_LIBS) $(QB_LIBS)

# Fixtures: "gluster volume info --xml" captured from glusterd 10.3.
check_PROGRAMS += tests/unit/inventory_test
TESTS += tests/unit/inventory_test
tests_unit_inventory_test_SOURCES = tests/unit/inventory_test.c $(exec_inventory_sources)
tests_unit_inventory_test_CPPFLAGS = $(AM_CPPFLAGS) \
	-DINVENTORY_DATA_DIR='"$(abs_top_srcdir)/tests/unit/data"'
tests_unit_inventory_test_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS) $(XML_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_inventory_test_LDADD = $(CMOCKA_LIBS) $(XML_LIBS) $(QB_LIBS)
EXTRA_DIST += tests/unit/data/volinfo-all.xml tests/unit/data/volinfo-missing.xml

# Real Gluster in network namespaces (root; run by tests/run.sh, not make check).
dist_noinst_SCRIPTS += tests/integration/brick-script.sh tests/integration/brick-failover.sh \
	tests/integration/brick-newclient.sh tests/integration/brick-sets.sh \
	tests/integration/brick-named.sh \
	tests/integration/brick-ports.sh tests/integration/lib-bricks.sh \
	tests/bench/brick-failover.sh tests/bench/brick-move.sh \
	tests/integration/brick-systemd.sh tests/integration/lib-systemd.sh

# The brick script's and the hook's checks that need neither root nor Gluster.
TESTS += tests/cli/brick-script-test.sh
EXTRA_DIST += tests/cli/brick-script-test.sh

# The executor without chorusd, driven by brick-script.sh.
noinst_PROGRAMS += tests/integration/brick_drive
tests_integration_brick_drive_SOURCES = tests/integration/brick_drive.c $(exec_brick_sources)
tests_integration_brick_drive_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS)
tests_integration_brick_drive_LDADD = $(QB_LIBS)

# Fuzzing the inventory parser (`make fuzz`, clang + libFuzzer, see
# tests/fuzz.mk); the captured answers are its seed corpus.
inventory_fuzz_sources = $(srcdir)/tests/fuzz/inventory_fuzz.c \
	$(srcdir)/coordinator/exec/inventory.c $(srcdir)/coordinator/exec/script.c
tests/fuzz/inventory_fuzz: $(inventory_fuzz_sources) $(srcdir)/coordinator/exec/inventory.h
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CFLAGS) -D_GNU_SOURCE -I$(srcdir)/coordinator -I. \
		$(QB_CFLAGS) $(XML_CFLAGS) -o $@ $(inventory_fuzz_sources) $(XML_LIBS) $(QB_LIBS)
fuzz-inventory: tests/fuzz/inventory_fuzz
	@$(MKDIR_P) tests/fuzz/corpus-inventory
	tests/fuzz/inventory_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=16384 \
		-artifact_prefix=tests/fuzz/ -print_final_stats=1 \
		tests/fuzz/corpus-inventory $(srcdir)/tests/unit/data
fuzz: fuzz-inventory
.PHONY: fuzz-inventory
EXTRA_DIST += tests/fuzz/inventory_fuzz.c

# The record of the bricks that may run here (bricks_here.c): a round trip,
# and a file that does not check is refused whole.
check_PROGRAMS += tests/unit/bricks_here_test
TESTS += tests/unit/bricks_here_test
tests_unit_bricks_here_test_SOURCES = tests/unit/bricks_here_test.c \
	coordinator/daemon/bricks_here.c coordinator/core/res.c coordinator/core/res.h
tests_unit_bricks_here_test_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(QB_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_bricks_here_test_LDADD = $(JSONC_LIBS) $(QB_LIBS) $(CMOCKA_LIBS)
