# Integration tests and benchmarks on real corosync.
#
# These need root, network namespaces and corosync; they are run by
# tests/run.sh (not by "make check"), so they are only distributed here.
# The libraries are sourced, the scripts are executable.
EXTRA_DIST += \
	tests/integration/lib.sh \
	tests/bench/lib-measure.sh
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
	tests/bench/measure-dryrun.sh \
	tests/bench/control.sh \
	tests/bench/failover.sh \
	tests/bench/scale.sh
