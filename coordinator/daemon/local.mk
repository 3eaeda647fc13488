# chorusd: the loop and the glue.  main.c owns the loop and hands every core
# action to an executor; ctl.c answers the control socket, health.c feeds
# plugin reports to the core, bricks.c and tickle.c connect their executors to
# the cluster.  The only layer that may include every other one.
sbin_PROGRAMS += coordinator/chorusd
coordinator_chorusd_SOURCES = \
	coordinator/daemon/main.c coordinator/daemon/daemon.h \
	coordinator/daemon/ctl.c coordinator/daemon/ctl_private.h \
	coordinator/daemon/ctl_track.c coordinator/daemon/ctl_status.c coordinator/daemon/ctl_metrics.c \
	coordinator/daemon/ctl_load.c coordinator/daemon/ctl_load.h \
	coordinator/daemon/ctl_drift.c coordinator/daemon/ctl_drift.h \
	coordinator/daemon/check.c \
	coordinator/daemon/health.c coordinator/daemon/addresses.c \
	coordinator/daemon/corelog.c coordinator/daemon/corelog.h \
	coordinator/daemon/history.c coordinator/daemon/history.h \
	coordinator/daemon/bricks.c coordinator/daemon/bricks.h coordinator/daemon/bricks_sets.c \
	coordinator/daemon/bricks_resolve.c coordinator/daemon/bricks_here.c \
	coordinator/daemon/bricks_fence.c coordinator/daemon/bricks_status.c \
	coordinator/daemon/bricks_orphans.c \
	coordinator/daemon/bricks_private.h \
	$(adapters_sources) $(exec_sources) $(plugin_host_sources)
coordinator_chorusd_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS) $(CPG_CFLAGS) $(QUORUM_CFLAGS) \
	$(CMAP_CFLAGS) $(JSONC_CFLAGS) $(MNL_CFLAGS) $(XML_CFLAGS)
coordinator_chorusd_LDADD = coordinator/core/libcore.la $(CPG_LIBS) $(QUORUM_LIBS) \
	$(CMAP_LIBS) $(JSONC_LIBS) $(MNL_LIBS) $(XML_LIBS) $(QB_LIBS) -ldl -lpthread
