/*
 * The scenario runner's text: the output buffer, how processes and
 * addresses are named, and one trace line per notable core step.
 *
 * A step is worth a line when it was told something a reader needs to see
 * (a confchg, a quorum notification, a command, a failed executor result)
 * or when it made the core do something visible (a message other than a
 * heartbeat or an empty load report, an acquire or release, ready, rejoin,
 * leave, exit, fence, a completed round).  Deliveries, ticks and executor
 * successes that change nothing are left out unless the trace is full.
 */
#ifndef CHORUS_TESTS_SCENARIO_TRACE_H
#define CHORUS_TESTS_SCENARIO_TRACE_H

#include "scenario_world.h"

void *scn_xrealloc(void *p, size_t n);	/* aborts when out of memory */

/* A line "@T" when the clock moved since the last one. */
void scn_mark(struct scn_world *w);
/* One indented line of output, after a time mark if due. */
void scn_line(struct scn_world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Names (into static rotating buffers where no buffer is passed). */
const char *scn_vip_ip(const struct scn_world *w, unsigned v, char *buf, size_t n);
const char *scn_local_ip(const struct scn_world *w, const struct scn_node *s, size_t idx,
			 char *buf, size_t n);
/* "n2" for a node's first daemon, "n2#3" for its third. */
const char *scn_pname(const struct scn_world *w, uint32_t nodeid, uint32_t pid);
void scn_proc_add(struct scn_world *w, uint32_t nodeid, uint32_t pid);
const char *scn_errname(int err);

/* The two halves of a step's line into 'buf'.  describe_input returns
 * whether the input alone is worth a line; describe_acts whether any
 * action is. */
bool scn_describe_input(struct scn_world *w, struct scn_node *s, const struct scn_in *in, int rc,
			char *buf, size_t n);
bool scn_describe_acts(struct scn_world *w, struct scn_node *s, const struct scn_acts *a,
		       char *buf, size_t n);

#endif
