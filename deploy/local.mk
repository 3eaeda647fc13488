# Deployment (owned by the deploy work): the systemd unit and tmpfiles entry,
# chorusd(8), example configurations, the Debian packaging and its checks,
# and the dist rules for the scripts the tree needs but make does not build.

# The unit names the directories chorusd and chorusctl go to, which are only
# final at make time ($(sbindir) is ${exec_prefix}/sbin to configure), so it
# is made here by sed, not by AC_CONFIG_FILES.
deploy_edit = sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@bindir[@]|$(bindir)|g'
deploy/systemd/chorusd.service: $(srcdir)/deploy/systemd/chorusd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) deploy/systemd && rm -f $@ $@.tmp && \
	$(deploy_edit) $(srcdir)/deploy/systemd/chorusd.service.in >$@.tmp && \
	mv $@.tmp $@
CLEANFILES += deploy/systemd/chorusd.service
EXTRA_DIST += deploy/systemd/chorusd.service.in deploy/systemd/chorus.conf

if HAVE_SYSTEMDUNITDIR
systemdsystemunit_DATA = deploy/systemd/chorusd.service
endif
if HAVE_TMPFILESDIR
tmpfiles_DATA = deploy/systemd/chorus.conf
endif

# chorus.json(5) comes with tests/conf.mk, chorusctl(8) with tests/control.mk.
dist_man8_MANS = deploy/man/chorusd.8
# chorus-plugin(7) comes with plugins/local.mk.
dist_man7_MANS = deploy/man/chorus-brick.7 deploy/man/chorus-hooks.7

# Examples into $(docdir)/examples.  Every chorus*.json here is loaded by
# tests/unit/conf_test; the corosync ones are parsed by corosync -t below.
deployexamplesdir = $(docdir)/examples
dist_deployexamples_DATA = \
	deploy/examples/chorus-vips.json \
	deploy/examples/chorus-bricks.json \
	deploy/examples/corosync-3node.conf \
	deploy/examples/corosync-2node.conf
dist_doc_DATA = README.md

TESTS += deploy/corosync-examples-test.sh tests/cli/metrics-check-test.sh
EXTRA_DIST += \
	deploy/corosync-examples-test.sh \
	tests/cli/metrics-check.sh \
	tests/cli/metrics-check-test.sh \
	tests/cli/metrics-sample.txt \
	tests/cli/metrics-sample-bad.txt

# Debian packaging: deploy/build-deb.sh copies deploy/debian to debian/ in a
# copy of the tree and runs dpkg-buildpackage; deploy/check-chroot.sh installs
# the .deb in a fresh debootstrap chroot (by hand, not in CI).
EXTRA_DIST += \
	deploy/build-deb.sh \
	deploy/check-chroot.sh \
	deploy/debian/changelog \
	deploy/debian/control \
	deploy/debian/copyright \
	deploy/debian/rules \
	deploy/debian/chorus.dirs \
	deploy/debian/source/format \
	deploy/debian/LINTIAN-NOTES.md

# What the tree runs but make does not build: the README's two commands and
# what they use, and the integration scripts tests/run.sh finds by glob.
EXTRA_DIST += \
	deploy/demo.sh \
	deploy/deps.sh \
	tests/run.sh \
	tests/integration/vip-failover.sh \
	tests/bench/failover.sh

# distcheck installs under its own prefix: the unit and tmpfiles directories
# follow it instead of the system's.
AM_DISTCHECK_CONFIGURE_FLAGS = \
	--enable-fatal-warnings \
	--with-systemdsystemunitdir='$$(prefix)/lib/systemd/system' \
	--with-tmpfilesdir='$$(prefix)/lib/tmpfiles.d' \
	--with-glusterd-hooks-dir='$$(prefix)/lib/glusterd/hooks/1'
