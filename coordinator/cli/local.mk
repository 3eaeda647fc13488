# chorusctl: speaks the control socket's JSON protocol (chorusctl(8)).  It is
# a separate program and includes nothing of chorusd (tests/cli/layers-test.sh).
bin_PROGRAMS += coordinator/chorusctl
coordinator_chorusctl_SOURCES = coordinator/cli/chorusctl.c \
	coordinator/cli/chorusctl_print.c coordinator/cli/chorusctl_print.h
coordinator_chorusctl_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
coordinator_chorusctl_LDADD = $(JSONC_LIBS)
