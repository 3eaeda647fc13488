# Service hooks: example action scripts chorusd runs per VIP pool
# after takeip and before releaseip (chorus-hooks(7)).  They go next to the
# brick script, in their own directory, so a "hooks" entry in chorus.json
# names them as $(pkglibexecdir)/hooks/NAME.
servicehooksdir = $(pkglibexecdir)/hooks
dist_servicehooks_SCRIPTS = deploy/hooks/nfs-ganesha
dist_deployexamples_DATA += deploy/examples/chorus-ganesha.json

# The Ganesha hook's checks that need neither root nor Ganesha (make check),
# and its test on a real Ganesha and chorusd cluster (tests/run.sh, as root).
TESTS += tests/cli/hook-ganesha-test.sh
EXTRA_DIST += tests/cli/hook-ganesha-test.sh
dist_noinst_SCRIPTS += tests/integration/hooks-ganesha.sh
