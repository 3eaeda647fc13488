# The pure core: no I/O, no clock, no corosync: the state machine, placement,
# the wire format and the failure timing derived from corosync's totem values.
# It includes only its own headers (tests/cli/layers-test.sh).  Linked by
# chorusd, the simulator, the unit tests and the benchmarks.
noinst_LTLIBRARIES += coordinator/core/libcore.la
coordinator_core_libcore_la_SOURCES = \
	coordinator/core/res.c coordinator/core/res.h \
	coordinator/core/place.c coordinator/core/place.h \
	coordinator/core/place_private.h coordinator/core/place_count.c \
	coordinator/core/place_flow.h coordinator/core/place_start.c \
	coordinator/core/place_load.c coordinator/core/place_spread.c \
	coordinator/core/place_v1.c coordinator/core/place_v1.h \
	coordinator/core/place_v1_load.c coordinator/core/place_v1_spread.c \
	coordinator/core/load.c coordinator/core/load.h \
	coordinator/core/wire.c coordinator/core/wire.h \
	coordinator/core/state.c coordinator/core/state.h \
	coordinator/core/state_private.h coordinator/core/state_round.c \
	coordinator/core/state_live.h coordinator/core/state_msg.h \
	coordinator/core/state_absent.h coordinator/core/state_table.h \
	coordinator/core/state_table.c coordinator/core/state_msg.c \
	coordinator/core/state_absent.c coordinator/core/state_sets.c \
	coordinator/core/state_live.c \
	coordinator/core/admin.c \
	coordinator/core/timing.c coordinator/core/timing.h
coordinator_core_libcore_la_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS)
coordinator_core_libcore_la_LIBADD = $(QB_LIBS)
