sbin_PROGRAMS += coordinator/chorusd
coordinator_chorusd_SOURCES = \
	coordinator/main.c coordinator/daemon.h coordinator/corelog.c coordinator/corelog.h coordinator/ctl.c coordinator/ctl_load.c coordinator/ctl_load.h coordinator/health.c \
	coordinator/plugin.c coordinator/plugin.h coordinator/plugin_check.c \
	coordinator/plugin_worker.c coordinator/plugin_private.h \
	$(control_server_sources) \
	coordinator/cluster.c coordinator/cluster.h coordinator/timing.c coordinator/timing.h \
	coordinator/vip.c coordinator/vip.h coordinator/vip_announce.c coordinator/vip_announce.h \
	coordinator/vip_probe.c coordinator/vip_probe.h \
	coordinator/tickle.c coordinator/tickle.h coordinator/connlist.c coordinator/connlist.h \
	coordinator/conntrack.c coordinator/conntrack.h \
	coordinator/conf.c coordinator/conf.h coordinator/conf_json.c coordinator/conf_private.h \
	coordinator/conf_bricks.c coordinator/conf_balance.c coordinator/conf_hooks.c coordinator/conf_control.c coordinator/bricks.c coordinator/bricks.h \
	coordinator/hooks.c coordinator/hooks.h
coordinator_chorusd_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS) $(CPG_CFLAGS) $(QUORUM_CFLAGS) \
	$(CMAP_CFLAGS) $(JSONC_CFLAGS) $(MNL_CFLAGS)
coordinator_chorusd_LDADD = coordinator/core/libcore.la $(CPG_LIBS) $(QUORUM_LIBS) \
	$(CMAP_LIBS) $(JSONC_LIBS) $(MNL_LIBS) $(QB_LIBS) -ldl -lpthread
