# Samba service hook (issue 9): the hook installed with the other chorus
# programs, its man page section, the example configuration, and the real-smbd
# integration test (root; run by tests/run.sh, not make check).
sambahookdir = $(pkglibexecdir)/hooks
dist_sambahook_SCRIPTS = deploy/hooks/samba
dist_man7_MANS += deploy/man/chorus-hooks.7
dist_noinst_SCRIPTS += tests/integration/hooks-samba.sh
