# gfapi-health: Gluster volume health over libgfapi (scope "volume:NAME").
# Included from plugins/local.mk (uses its plugin_CFLAGS/plugin_LDFLAGS);
# only built where configure found glusterfs-api.
if HAVE_GFAPI
pkglib_LTLIBRARIES += plugins/gfapi-health/chorus-gfapi-health.la
plugins_gfapi_health_chorus_gfapi_health_la_SOURCES = plugins/gfapi-health/gfapi_health.c
plugins_gfapi_health_chorus_gfapi_health_la_CFLAGS = $(plugin_CFLAGS) $(GFAPI_CFLAGS) $(JSONC_CFLAGS)
plugins_gfapi_health_chorus_gfapi_health_la_LDFLAGS = $(plugin_LDFLAGS)
plugins_gfapi_health_chorus_gfapi_health_la_LIBADD = $(GFAPI_LIBS) $(JSONC_LIBS) -lpthread
endif
