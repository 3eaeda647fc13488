# Samba service hook (issue 9): the hook installed with the other chorus
# programs, the example configuration (its man page section is in
# chorus-hooks(7)), and the real-smbd integration test (root; run by
# tests/run.sh, not make check).
sambahookdir = $(pkglibexecdir)/hooks
dist_sambahook_SCRIPTS = deploy/hooks/samba
dist_noinst_SCRIPTS += tests/integration/hooks-samba.sh
# The example lives beside the hook, not in deploy/examples: conf_test loads
# every example there, and a hook's script must exist when the configuration
# is loaded (it is /usr/libexec/... in the example).  hooks-samba.sh runs
# chorusd with the example's hook entry instead.
dist_deployexamples_DATA += deploy/hooks/chorus-samba.json

# The hook's argument checks and its "smbd is not running" answer, without
# root or a running smbd.
TESTS += tests/cli/samba-hook-test.sh
EXTRA_DIST += tests/cli/samba-hook-test.sh
