# Executors: they carry out the core's actions on this host and report back by
# callback: addresses (vip*.c, netlink), bricks (brick.c through the brick
# script), scripts (script.c, the runner everything slow goes through),
# Gluster volume hooks (hooks.c), the Gluster inventory (inventory.c), and the
# connection listings tickle ACKs and load use (connlist.c, conntrack.c).
# They may include core/ and adapters/ headers (hooks read their config),
# nothing from plugin/ or daemon/ (tests/cli/layers-test.sh).
exec_vip_sources = \
	coordinator/exec/vip.c coordinator/exec/vip.h \
	coordinator/exec/vip_announce.c coordinator/exec/vip_announce.h
exec_vip_probe_sources = \
	coordinator/exec/vip_probe.c coordinator/exec/vip_probe.h \
	coordinator/exec/vip_announce.c coordinator/exec/vip_announce.h
exec_script_sources = \
	coordinator/exec/script.c coordinator/exec/script.h
exec_brick_sources = \
	coordinator/exec/brick.c coordinator/exec/brick.h $(exec_script_sources)
exec_inventory_sources = \
	coordinator/exec/inventory.c coordinator/exec/inventory.h $(exec_script_sources)
exec_hooks_sources = \
	coordinator/exec/hooks.c coordinator/exec/hooks.h $(exec_script_sources)
exec_notify_sources = \
	coordinator/exec/notify.c coordinator/exec/notify.h $(exec_script_sources)
exec_connlist_sources = \
	coordinator/exec/connlist.c coordinator/exec/connlist.h

# everything once (script.c is shared by brick, inventory and hooks)
exec_sources = \
	coordinator/exec/vip.c coordinator/exec/vip.h \
	coordinator/exec/vip_announce.c coordinator/exec/vip_announce.h \
	coordinator/exec/vip_probe.c coordinator/exec/vip_probe.h \
	coordinator/exec/script.c coordinator/exec/script.h \
	coordinator/exec/brick.c coordinator/exec/brick.h \
	coordinator/exec/inventory.c coordinator/exec/inventory.h \
	coordinator/exec/hooks.c coordinator/exec/hooks.h \
	coordinator/exec/notify.c coordinator/exec/notify.h \
	$(exec_connlist_sources) \
	coordinator/exec/conntrack.c coordinator/exec/conntrack.h \
	coordinator/exec/tickle.c coordinator/exec/tickle.h
