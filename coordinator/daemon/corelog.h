/*
 * The core event log: the last CORELOG_MAX events the daemon handed to
 * core_step(), each as a one-line summary, behind `chorusctl events --core`.
 *
 * The core is a function of its event stream, so when one of its decisions
 * surprises, the events just before it are the explanation.  The blackbox
 * has them only where some log line happens to mention one, and the
 * operator event log (ctl.c) only what came out.  The ring is fixed in size
 * and summaries are formatted when recorded, because a delivered message is
 * borrowed for the step only.
 *
 * Ownership: events are borrowed for corelog_step(); entries returned by
 * corelog_get() are borrowed until the next corelog_step().
 */
#ifndef CHORUS_CORELOG_H
#define CHORUS_CORELOG_H

#include <stddef.h>
#include <stdint.h>

#include "core/state.h"

struct json_object;

/* A few minutes of a busy cluster's heartbeats and ticks, and 64 KiB. */
#define CORELOG_MAX 512

struct corelog_entry {
	uint64_t mono_ms;	/* the event's now_ms */
	enum core_ev_type type;
	int rc;			/* a request's answer from core_step(), else 0 */
	char text[112];
};

struct corelog;

/* 'n_vips' is the length of a CORE_EV_HEALTH's unservable array.
 * Returns 0 or -ENOMEM. */
int corelog_new(size_t n_vips, struct corelog **out);
void corelog_free(struct corelog *l);	/* accepts NULL */

/*
 * Record 'ev', step 'c' with it (core_step()), and record a request's
 * answer.  The daemon steps its core only through this, so nothing reaches
 * the core unrecorded.  The oldest entry goes when the ring is full.
 * Returns what core_step() returned.
 */
int corelog_step(struct corelog *l, struct core *c, const struct core_event *ev,
		 struct core_actions *out);

size_t corelog_count(const struct corelog *l);
/* Entry 'i', oldest first (i < corelog_count()). */
const struct corelog_entry *corelog_get(const struct corelog *l, size_t i);
/* "deliver", "admin", "fence_confirm", ... */
const char *corelog_type_name(enum core_ev_type type);

/* {"core_events": [{"mono_ms", "type", "text"[, "rc"]}...], "now_ms"}: the
 * last 'limit' entries (0 = all), oldest first; "rc" for requests, and for
 * any step that failed.  The caller owns the result. */
struct json_object *corelog_json(const struct corelog *l, size_t limit, uint64_t now_ms);

#endif
