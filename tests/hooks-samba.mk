# Samba service hook: the hook installed with the other chorus
# programs, the example configuration (its man page section is in
# chorus-hooks(7)), and the real-smbd integration test (root; run by
# tests/run.sh, not make check).
# servicehooksdir: deploy/hooks/local.mk.
dist_servicehooks_SCRIPTS += deploy/hooks/samba
dist_noinst_SCRIPTS += tests/integration/hooks-samba.sh
# conf_examples_test loads it with the hook path mapped onto the tree;
# hooks-samba.sh runs chorusd with its hook entry.
dist_deployexamples_DATA += deploy/examples/chorus-samba.json

# The hook's argument checks and its "smbd is not running" answer, without
# root or a running smbd.
TESTS += tests/cli/samba-hook-test.sh
EXTRA_DIST += tests/cli/samba-hook-test.sh
