# Plugins: the public ABI header, its pkg-config
# file, and the shipped plugins as libtool modules in $(pkglibdir), where
# chorusd looks by default.  Only chorus_plugin_entry is exported: the
# sources are built with -fvisibility=hidden and libtool keeps that one
# symbol, so plugins never resolve against, or clash with, daemon symbols.
plugin_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
plugin_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared \
	-export-symbols-regex '^chorus_plugin_entry$$'

pkglib_LTLIBRARIES = \
	plugins/link-monitor/chorus-link-monitor.la \
	plugins/command-check/chorus-command-check.la

plugins_link_monitor_chorus_link_monitor_la_SOURCES = plugins/link-monitor/link_monitor.c
plugins_link_monitor_chorus_link_monitor_la_CFLAGS = $(plugin_CFLAGS) $(JSONC_CFLAGS) $(MNL_CFLAGS)
plugins_link_monitor_chorus_link_monitor_la_LDFLAGS = $(plugin_LDFLAGS)
plugins_link_monitor_chorus_link_monitor_la_LIBADD = $(JSONC_LIBS) $(MNL_LIBS)

plugins_command_check_chorus_command_check_la_SOURCES = plugins/command-check/command_check.c
plugins_command_check_chorus_command_check_la_CFLAGS = $(plugin_CFLAGS) $(JSONC_CFLAGS)
plugins_command_check_chorus_command_check_la_LDFLAGS = $(plugin_LDFLAGS)
plugins_command_check_chorus_command_check_la_LIBADD = $(JSONC_LIBS)

# The ABI header goes to $(includedir)/chorus/plugin.h.
chorusincludedir = $(includedir)/chorus
chorusinclude_HEADERS = include/chorus/plugin.h

# chorus-plugin.pc for out-of-tree plugins: made here rather than by
# AC_CONFIG_FILES, since the directories are only final at make time.
pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = plugins/chorus-plugin.pc
plugin_pc_edit = sed -e 's|@prefix[@]|$(prefix)|g' -e 's|@exec_prefix[@]|$(exec_prefix)|g' \
	-e 's|@libdir[@]|$(libdir)|g' -e 's|@includedir[@]|$(includedir)|g' \
	-e 's|@pkglibdir[@]|$(pkglibdir)|g' -e 's|@VERSION[@]|$(VERSION)|g'
plugins/chorus-plugin.pc: $(srcdir)/plugins/chorus-plugin.pc.in Makefile
	$(AM_V_GEN)$(MKDIR_P) plugins && rm -f $@ $@.tmp && \
	$(plugin_pc_edit) $(srcdir)/plugins/chorus-plugin.pc.in >$@.tmp && mv $@.tmp $@
CLEANFILES += plugins/chorus-plugin.pc
EXTRA_DIST += plugins/chorus-plugin.pc.in

include plugins/gfapi-health/local.mk
include plugins/smallfile-balance/local.mk
