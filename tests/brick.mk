# Brick executor (issue 4, executor side): the action-script runner, the
# brick executor, the Gluster inventory, the default brick script, the
# glusterd hooks, and their tests.
#
# script.c and brick.c go into chorusd now so they build with it; main.c
# wires them (the lead's part).
coordinator_chorusd_SOURCES += \
	coordinator/script.c coordinator/script.h \
	coordinator/inventory.c coordinator/inventory.h \
	coordinator/brick.c coordinator/brick.h
coordinator_chorusd_CFLAGS += $(XML_CFLAGS)
coordinator_chorusd_LDADD += $(XML_LIBS)

check_PROGRAMS += tests/unit/script_test
TESTS += tests/unit/script_test
tests_unit_script_test_SOURCES = tests/unit/script_test.c \
	coordinator/script.c coordinator/script.h
tests_unit_script_test_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_script_test_LDADD = $(CMOCKA_LIBS) $(QB_LIBS)

check_PROGRAMS += tests/unit/brick_test
TESTS += tests/unit/brick_test
tests_unit_brick_test_SOURCES = tests/unit/brick_test.c \
	coordinator/brick.c coordinator/brick.h \
	coordinator/script.c coordinator/script.h
tests_unit_brick_test_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_brick_test_LDADD = $(CMOCKA_LIBS) $(QB_LIBS)

# Fixtures: "gluster volume info --xml" captured from glusterd 10.3.
check_PROGRAMS += tests/unit/inventory_test
TESTS += tests/unit/inventory_test
tests_unit_inventory_test_SOURCES = tests/unit/inventory_test.c \
	coordinator/inventory.c coordinator/inventory.h \
	coordinator/script.c coordinator/script.h
tests_unit_inventory_test_CPPFLAGS = $(AM_CPPFLAGS) \
	-DINVENTORY_DATA_DIR='"$(abs_top_srcdir)/tests/unit/data"'
tests_unit_inventory_test_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS) $(XML_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_inventory_test_LDADD = $(CMOCKA_LIBS) $(XML_LIBS) $(QB_LIBS)
EXTRA_DIST += tests/unit/data/volinfo-all.xml tests/unit/data/volinfo-missing.xml

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

# The brick script's and the hook's checks that need neither root nor Gluster.
TESTS += tests/cli/brick-script-test.sh
EXTRA_DIST += tests/cli/brick-script-test.sh
