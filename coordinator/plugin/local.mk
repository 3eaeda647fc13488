# The plugin host: dlopen()s plugins built against include/chorus/plugin.h and
# runs their calls on worker threads with deadlines.  It includes nothing else
# of chorus (tests/cli/layers-test.sh); plugin_test links it alone.
plugin_host_sources = \
	coordinator/plugin/plugin.c coordinator/plugin/plugin.h \
	coordinator/plugin/plugin_check.c coordinator/plugin/plugin_worker.c \
	coordinator/plugin/plugin_private.h
