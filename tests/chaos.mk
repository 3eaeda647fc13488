# The chaos suite: seeded faults against a 5-node corosync + chorusd cluster.
# chaos.sh needs root, network namespaces, corosync and jq; tests/run.sh runs
# a 60-fault round of it.  "make check" runs only its generator, on the model
# without a cluster (gen-test.sh).
TESTS += tests/chaos/gen-test.sh
EXTRA_DIST += \
	tests/chaos/gen-test.sh \
	tests/chaos/selftest.ops \
	tests/chaos/selftest-brick.ops \
	tests/chaos/lib-model.sh \
	tests/chaos/lib-check.sh \
	tests/chaos/lib-brick.sh
dist_noinst_SCRIPTS += \
	tests/chaos/chaos.sh
