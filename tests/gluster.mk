# GlusterFS integration tests: the netns harness for glusterd (lib-gluster.sh,
# sourced) and the gfapi test client.  Like the other integration tests they
# need root and are run by hand or by tests/run.sh, not by "make check".
EXTRA_DIST += \
	tests/integration/lib-gluster.sh
dist_noinst_SCRIPTS += \
	tests/integration/gluster-smoke.sh \
	tests/integration/gluster-health.sh \
	tests/integration/gluster-health-chorusd.sh

if HAVE_GFAPI
noinst_PROGRAMS += tests/integration/gfclient
tests_integration_gfclient_SOURCES = tests/integration/gfclient.c
tests_integration_gfclient_CFLAGS = $(AM_CFLAGS) $(GFAPI_CFLAGS)
tests_integration_gfclient_LDADD = $(GFAPI_LIBS)
endif

# Fake plugin host that loads plugins/gfapi-health and measures its probes
# (tests/integration/gluster-health.sh).
if HAVE_GFAPI
noinst_PROGRAMS += tests/integration/gfhealth_drive
tests_integration_gfhealth_drive_SOURCES = tests/integration/gfhealth_drive.c
tests_integration_gfhealth_drive_LDADD = -ldl
endif
