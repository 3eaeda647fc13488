# Control socket server and chorusctl tests.  control_test links the server
# alone (coordinator/adapters/local.mk): it needs nothing from the core.
check_PROGRAMS += tests/unit/control_test
TESTS += tests/unit/control_test tests/cli/chorusctl-test.sh
tests_unit_control_test_SOURCES = tests/unit/control_test.c $(adapters_control_sources)
tests_unit_control_test_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS) $(JSONC_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_control_test_LDADD = $(JSONC_LIBS) $(CMOCKA_LIBS) $(QB_LIBS)

# The CLI test drives the chorusctl just built against a fake daemon (socat).
EXTRA_DIST += tests/cli/chorusctl-test.sh

# Fuzzing the request parser with libFuzzer: `make fuzz [FUZZ_SECONDS=N]`.
# A plain rule, not an automake program, because it needs its own compiler
# and sanitizer flags whatever ./configure chose.  New inputs go to a corpus
# in the build tree; the checked-in seeds are read only.  A crash leaves its
# input as tests/fuzz/crash-* and fails the target.
FUZZ_CC = clang
FUZZ_SECONDS = 60
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
control_fuzz_sources = \
	$(srcdir)/tests/fuzz/control_fuzz.c $(srcdir)/coordinator/adapters/control_proto.c

tests/fuzz/control_fuzz: $(control_fuzz_sources) $(srcdir)/coordinator/adapters/control_proto.h \
		$(srcdir)/coordinator/adapters/control.h
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CFLAGS) $(AM_CPPFLAGS) $(JSONC_CFLAGS) $(QB_CFLAGS) \
		-o $@ $(control_fuzz_sources) $(JSONC_LIBS)

fuzz-control: tests/fuzz/control_fuzz
	@$(MKDIR_P) tests/fuzz/corpus-control
	tests/fuzz/control_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=70000 \
		-artifact_prefix=tests/fuzz/ -print_final_stats=1 \
		-dict=$(srcdir)/tests/fuzz/control.dict \
		tests/fuzz/corpus-control $(srcdir)/tests/fuzz/corpus/control

fuzz: fuzz-control
.PHONY: fuzz fuzz-control

EXTRA_DIST += tests/fuzz/control_fuzz.c tests/fuzz/control.dict $(control_fuzz_corpus)
control_fuzz_corpus = \
	tests/fuzz/corpus/control/01-status \
	tests/fuzz/corpus/control/02-move \
	tests/fuzz/corpus/control/03-events-follow \
	tests/fuzz/corpus/control/04-plan-fail \
	tests/fuzz/corpus/control/05-no-id \
	tests/fuzz/corpus/control/06-bad-version \
	tests/fuzz/corpus/control/07-args-array \
	tests/fuzz/corpus/control/08-unknown-key \
	tests/fuzz/corpus/control/09-nested \
	tests/fuzz/corpus/control/10-unicode \
	tests/fuzz/corpus/control/11-trailing \
	tests/fuzz/corpus/control/12-truncated \
	tests/fuzz/corpus/control/13-maintenance \
	tests/fuzz/corpus/control/14-cmd-number

# Hostile clients for tests/integration/control-hostile.sh and tests/bench/control.sh.
noinst_PROGRAMS += tests/bench/control_hostile
tests_bench_control_hostile_SOURCES = tests/bench/control_hostile.c
