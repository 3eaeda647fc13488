# Integration tests and benchmarks on real corosync.
#
# These need root, network namespaces and corosync; they are run by
# tests/run.sh (not by "make check"), so they are only distributed here.
# The libraries are sourced, the scripts are executable.
EXTRA_DIST += \
	tests/integration/lib.sh \
	tests/bench/lib-measure.sh \
	tests/bench/lib-bench.sh
dist_noinst_SCRIPTS += \
	tests/run.sh \
	tests/integration/corosync-smoke.sh \
	tests/integration/vip-failover.sh \
	tests/integration/control.sh \
	tests/integration/control-hostile.sh \
	tests/integration/plugins.sh \
	tests/integration/mixed-version.sh \
	tests/integration/valgrind.sh \
	tests/integration/corosync-faults.sh \
	tests/integration/corosync-hang.sh \
	tests/integration/config-drift.sh \
	tests/integration/metrics-http.sh \
	tests/integration/notify.sh \
	tests/integration/fence-ipmi.sh tests/integration/lib-ipmi.sh \
	tests/integration/brick-cleanup.sh \
	tests/integration/demo.sh \
	tests/integration/hostile-flood.sh \
	tests/integration/hostile-conns.sh \
	tests/bench/measure-dryrun.sh \
	tests/bench/control.sh \
	tests/bench/failover.sh \
	tests/bench/scale.sh \
	tests/bench/freeze.sh \
	tests/bench/flap.sh \
	tests/bench/rogue.sh \
	tests/bench/detect.sh \
	tests/integration/crash-slow-token.sh \
	tests/integration/daemon-freeze.sh \
	tests/integration/link-flap.sh \
	tests/integration/silent-member.sh

# An extra CPG member for hostile-peer tests: silent, flooding or sending
# garbage (tests/integration/cpg_peer.c; lib.sh cl_cpg_peer_start).  It links
# the core for the wire encoders, so its "valid" bodies follow the codec.
noinst_PROGRAMS += tests/integration/cpg_peer
tests_integration_cpg_peer_SOURCES = tests/integration/cpg_peer.c
tests_integration_cpg_peer_CFLAGS = $(AM_CFLAGS) $(CPG_CFLAGS) $(QB_CFLAGS)
tests_integration_cpg_peer_LDADD = coordinator/core/libcore.la $(CPG_LIBS) $(QB_LIBS)

# The address sampler of the failure benchmarks and tests: which
# namespaces hold which addresses, every 10 ms, with double/down times.
# Its accounting is checked from a written change log without root; the
# sampling itself against namespaces the test makes (root, else skipped).
noinst_PROGRAMS += tests/bench/addrwatch
tests_bench_addrwatch_SOURCES = tests/bench/addrwatch.c
tests_bench_addrwatch_CFLAGS = $(AM_CFLAGS) $(MNL_CFLAGS)
tests_bench_addrwatch_LDADD = $(MNL_LIBS)
TESTS += tests/bench/addrwatch-replay-test.sh tests/bench/addrwatch-live-test.sh
EXTRA_DIST += tests/bench/addrwatch-replay-test.sh tests/bench/addrwatch-live-test.sh
