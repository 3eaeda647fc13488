# smallfile-balance: per-address client load over sock_diag (libmnl), fed to
# load-aware placement.  Included from plugins/local.mk (uses its
# plugin_CFLAGS/plugin_LDFLAGS).
pkglib_LTLIBRARIES += plugins/smallfile-balance/chorus-smallfile-balance.la
plugins_smallfile_balance_chorus_smallfile_balance_la_SOURCES = \
	plugins/smallfile-balance/smallfile_balance.c \
	plugins/smallfile-balance/iostats.c plugins/smallfile-balance/iostats.h
plugins_smallfile_balance_chorus_smallfile_balance_la_CFLAGS = $(plugin_CFLAGS) $(JSONC_CFLAGS) \
	$(MNL_CFLAGS)
plugins_smallfile_balance_chorus_smallfile_balance_la_LDFLAGS = $(plugin_LDFLAGS)
plugins_smallfile_balance_chorus_smallfile_balance_la_LIBADD = $(JSONC_LIBS) $(MNL_LIBS) -lpthread
