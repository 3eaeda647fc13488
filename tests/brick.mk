# Brick executor (issue 4, executor side): the action-script runner, the
# brick executor, the Gluster inventory, the default brick script, the
# glusterd hooks, and their tests.
#
# script.c and brick.c go into chorusd now so they build with it; main.c
# wires them (the lead's part).
coordinator_chorusd_SOURCES += \
	coordinator/script.c coordinator/script.h

check_PROGRAMS += tests/unit/script_test
TESTS += tests/unit/script_test
tests_unit_script_test_SOURCES = tests/unit/script_test.c \
	coordinator/script.c coordinator/script.h
tests_unit_script_test_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_script_test_LDADD = $(CMOCKA_LIBS) $(QB_LIBS)

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

# Real Gluster in network namespaces (root; run by tests/run.sh, not make check).
dist_noinst_SCRIPTS += tests/integration/brick-script.sh
