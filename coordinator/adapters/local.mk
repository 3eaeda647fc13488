# Adapters: chorusd's view of the outside world, each behind its own header and
# reporting by callback: corosync (cluster.c), the configuration file (conf*.c)
# and the control socket (control*.c).  They may include the core's headers,
# nothing from exec/, plugin/ or daemon/ (tests/cli/layers-test.sh).
adapters_cluster_sources = \
	coordinator/adapters/cluster.c coordinator/adapters/cluster.h

# The loader links core/res.c for addresses; the tests link exactly this.
adapters_conf_sources = \
	coordinator/adapters/conf.c coordinator/adapters/conf.h \
	coordinator/adapters/conf_json.c coordinator/adapters/conf_private.h \
	coordinator/adapters/conf_bricks.c coordinator/adapters/conf_balance.c \
	coordinator/adapters/conf_hooks.c coordinator/adapters/conf_control.c \
	coordinator/adapters/conf_digest.c \
	coordinator/adapters/metrics_http.c coordinator/adapters/metrics_http.h

# The control socket server needs nothing from the core, so control_test
# links these alone.
adapters_control_sources = \
	coordinator/adapters/control.c coordinator/adapters/control.h \
	coordinator/adapters/control_proto.c coordinator/adapters/control_proto.h \
	coordinator/adapters/control_sock.c coordinator/adapters/control_sock.h \
	coordinator/adapters/control_policy.c coordinator/adapters/control_policy.h

adapters_sources = $(adapters_cluster_sources) $(adapters_conf_sources) \
	$(adapters_control_sources)
