# Deployment: the systemd unit and tmpfiles entry,
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

# Every man page lives in deploy/man and is installed from here.
dist_man5_MANS = deploy/man/chorus.json.5
dist_man7_MANS = deploy/man/chorus-brick.7 deploy/man/chorus-hooks.7 \
	deploy/man/chorus-plugin.7
dist_man8_MANS = deploy/man/chorusd.8 deploy/man/chorusctl.8

# The default brick script (chorus-brick(7)) and the glusterd hook.  The hook
# names chorusctl's installed path, filled in at make time like the unit.
dist_pkglibexec_SCRIPTS = deploy/brick/chorus-brick
EXTRA_DIST += deploy/gluster-hooks/S29chorus-inventory.sh
gluster_hook_events = create start stop add-brick remove-brick delete
deploy/gluster-hooks/S29chorus-inventory: $(srcdir)/deploy/gluster-hooks/S29chorus-inventory.sh Makefile
	$(AM_V_GEN)$(MKDIR_P) deploy/gluster-hooks && rm -f $@ $@.tmp && \
	$(deploy_edit) $(srcdir)/deploy/gluster-hooks/S29chorus-inventory.sh >$@.tmp && \
	chmod +x $@.tmp && mv $@.tmp $@
CLEANFILES += deploy/gluster-hooks/S29chorus-inventory
all-local: deploy/gluster-hooks/S29chorus-inventory
install-data-local: deploy/gluster-hooks/S29chorus-inventory
	@for e in $(gluster_hook_events); do \
	  d="$(DESTDIR)$(glusterdhooksdir)/$$e/post"; \
	  echo " $(MKDIR_P) $$d"; $(MKDIR_P) "$$d" || exit 1; \
	  echo " $(INSTALL_SCRIPT) S29chorus-inventory.sh $$d"; \
	  $(INSTALL_SCRIPT) deploy/gluster-hooks/S29chorus-inventory "$$d/S29chorus-inventory.sh" || exit 1; \
	done
uninstall-local:
	@for e in $(gluster_hook_events); do \
	  rm -f "$(DESTDIR)$(glusterdhooksdir)/$$e/post/S29chorus-inventory.sh"; \
	done


# Examples into $(docdir)/examples.  Every chorus*.json here is loaded by
# tests/unit/conf_test; the corosync ones are parsed by corosync -t below.
deployexamplesdir = $(docdir)/examples
dist_deployexamples_DATA = \
	deploy/examples/chorus-vips.json \
	deploy/examples/chorus-bricks.json \
	deploy/examples/chorus-fence-ipmi.json \
	deploy/examples/chorus-health.json \
	deploy/examples/corosync-3node.conf \
	deploy/examples/corosync-2node.conf \
	deploy/examples/corosync-6node-qdevice.conf \
	deploy/examples/corosync-fast.conf
dist_doc_DATA = README.md
# bash completion for chorusctl (commands from chorusctl --help itself).
bashcompletiondir = $(datadir)/bash-completion/completions
dist_bashcompletion_DATA = deploy/bash-completion/chorusctl
# Alert rules for Prometheus, with the promtool test that makes them fire.
promrulesdir = $(docdir)/prometheus
dist_promrules_DATA = deploy/prometheus/chorus-rules.yml deploy/prometheus/chorus-rules-test.yml

TESTS += deploy/corosync-examples-test.sh tests/cli/metrics-check-test.sh \
	tests/cli/prometheus-rules-test.sh tests/cli/completion-test.sh \
	tests/cli/man-lint-test.sh
EXTRA_DIST += \
	deploy/corosync-examples-test.sh \
	tests/cli/metrics-check.sh \
	tests/cli/metrics-check-test.sh \
	tests/cli/prometheus-rules-test.sh \
	tests/cli/completion-test.sh \
	tests/cli/man-lint-test.sh \
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
