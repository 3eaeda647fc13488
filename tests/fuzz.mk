# Fuzzing the wire decoder and the config loader with libFuzzer (clang):
# `make fuzz [FUZZ_SECONDS=N]` runs every target (the control parser's is in
# tests/control.mk) from its checked-in seed corpus; a finding is saved as
# tests/fuzz/crash-* and fails the target.
wire_fuzz_sources = $(srcdir)/tests/fuzz/wire_fuzz.c \
	$(srcdir)/coordinator/core/wire.c $(srcdir)/coordinator/core/res.c
conf_fuzz_sources = $(srcdir)/tests/fuzz/conf_fuzz.c \
	$(srcdir)/coordinator/adapters/conf.c $(srcdir)/coordinator/adapters/conf_json.c $(srcdir)/coordinator/adapters/conf_bricks.c $(srcdir)/coordinator/adapters/conf_balance.c $(srcdir)/coordinator/adapters/conf_hooks.c $(srcdir)/coordinator/adapters/conf_control.c \
	$(srcdir)/coordinator/adapters/conf_digest.c $(srcdir)/coordinator/adapters/metrics_http.c \
	$(srcdir)/coordinator/core/res.c

tests/fuzz/wire_fuzz: $(wire_fuzz_sources) $(srcdir)/coordinator/core/wire.h
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CFLAGS) -D_GNU_SOURCE -I$(srcdir)/coordinator \
		-o $@ $(wire_fuzz_sources)

tests/fuzz/conf_fuzz: $(conf_fuzz_sources) $(srcdir)/coordinator/adapters/conf.h
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CFLAGS) -D_GNU_SOURCE -I$(srcdir)/coordinator \
		-I. $(JSONC_CFLAGS) $(QB_CFLAGS) -o $@ $(conf_fuzz_sources) $(JSONC_LIBS) $(QB_LIBS)

fuzz-wire: tests/fuzz/wire_fuzz
	@$(MKDIR_P) tests/fuzz/corpus-wire
	tests/fuzz/wire_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
		-artifact_prefix=tests/fuzz/ -print_final_stats=1 \
		tests/fuzz/corpus-wire $(srcdir)/tests/fuzz/corpus/wire

fuzz-conf: tests/fuzz/conf_fuzz
	@$(MKDIR_P) tests/fuzz/corpus-conf
	tests/fuzz/conf_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-dict=$(srcdir)/tests/fuzz/conf.dict \
		-artifact_prefix=tests/fuzz/ -print_final_stats=1 \
		tests/fuzz/corpus-conf $(srcdir)/tests/fuzz/corpus/conf

fuzz: fuzz-wire fuzz-conf
.PHONY: fuzz-wire fuzz-conf

EXTRA_DIST += tests/fuzz/wire_fuzz.c tests/fuzz/conf_fuzz.c tests/fuzz/conf.dict \
	tests/fuzz/corpus/wire/state tests/fuzz/corpus/wire/released \
	tests/fuzz/corpus/wire/exclude tests/fuzz/corpus/wire/admin \
	tests/fuzz/corpus/wire/health tests/fuzz/corpus/wire/conns tests/fuzz/corpus/wire/load \
	tests/fuzz/corpus/wire/state-pins tests/fuzz/corpus/wire/load-unsorted \
	tests/fuzz/corpus/conf/01-vips.json tests/fuzz/corpus/conf/02-empty.json \
	tests/fuzz/corpus/conf/03-plugins.json tests/fuzz/corpus/conf/04-utf8.json
