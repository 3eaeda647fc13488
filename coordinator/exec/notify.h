/*
 * The event notification hook: every operator event (chorusctl events) is
 * handed to a command of the site's, for paging or a ticket, as Pacemaker's
 * alert agents and keepalived's notify scripts do.
 *
 * The command is run from argv (never a shell) with the event appended as
 * three arguments, TYPE TIME TEXT, and in its environment as
 * CHORUS_EVENT_TYPE, CHORUS_EVENT_TIME, CHORUS_EVENT_TEXT and CHORUS_NODE_ID
 * (absent for the daemon's start event, before corosync has answered).
 * One run at a time, off the loop (exec/script.c: process group, timeout,
 * SIGKILL after the grace), in event order; events that arrive while it runs
 * wait in a queue of NOTIFY_QUEUE_MAX, and past that the oldest waiting are
 * dropped and counted: a slow or hung command never holds the daemon up,
 * and costs at most one process and the queue.
 */
#ifndef CHORUS_EXEC_NOTIFY_H
#define CHORUS_EXEC_NOTIFY_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <qb/qbloop.h>

#define NOTIFY_QUEUE_MAX 64
#define NOTIFY_TYPES_MAX 16
#define NOTIFY_TYPE_LEN 16

struct notify;

struct notify_config {
	size_t argc;
	const char (*argv)[PATH_MAX];	/* [0] absolute */
	uint32_t timeout_ms;
	size_t n_types;			/* 0 = every event type */
	const char (*types)[NOTIFY_TYPE_LEN];
	uint32_t nodeid;
};

/* The configuration is copied. */
int notify_new(qb_loop_t *loop, const struct notify_config *cfg, struct notify **out);
void notify_free(struct notify *n);	/* kills a run in progress; accepts NULL */
void notify_set_nodeid(struct notify *n, uint32_t nodeid);

/* Queue one event (ignored if its type is filtered out). */
void notify_event(struct notify *n, const char *type, const char *time, const char *text);

struct notify_counts {
	uint64_t run, failed, dropped;
};
void notify_counts_get(const struct notify *n, struct notify_counts *out);

#endif
