# The chaos suite: seeded faults against a 5-node corosync + chorusd cluster.
# Needs root, network namespaces, corosync and jq; tests/run.sh runs a 60-fault
# round of it (not "make check"), so it is only distributed here.
EXTRA_DIST += \
	tests/chaos/lib-model.sh \
	tests/chaos/lib-check.sh
dist_noinst_SCRIPTS += \
	tests/chaos/chaos.sh
