/*
 * A bounded list of the TCP connections seen on one VIP.
 *
 * The collector sees every established connection on an address, which a
 * busy (or hostile) client population can make arbitrarily many; what is
 * kept and replicated is at most 'max' of them.  When there are more, the
 * OLDEST are dropped first: age is the order in which a connection was first
 * seen (a counter, not a clock, so the list stays a pure function of the
 * snapshots fed to it).  The newest connections are the ones most likely to
 * be in the middle of a request when the owner dies, and a connection that
 * has been up for long has usually been idle for long too: its client will
 * notice the move on its next request and lose little.
 *
 * Every connection of the last snapshot is tracked with its age (up to
 * CONNLIST_TRACK_MAX, beyond which the oldest are forgotten too), and the
 * newest 'max' of them are listed.  Tracking the ones not listed keeps
 * their age: otherwise a dropped connection would come back as "new" in the
 * next snapshot and evict a younger one, and the list would churn forever.
 *
 * Pure: no I/O, no clock.  Used by the daemon (tickle.c) and unit tests.
 */
#ifndef CHORUS_CONNLIST_H
#define CHORUS_CONNLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/wire.h"

struct connlist_entry {
	struct wire_conn c;
	uint64_t seen;		/* first-seen order: smaller = older */
};

#define CONNLIST_TRACK_MAX 65536u

struct connlist {
	uint32_t max;		/* cap of the listed set, >= 1 */
	size_t n;		/* tracked */
	struct connlist_entry *v;	/* tracked, ascending 'seen' (oldest first) */
	uint64_t next_seen;
};

/* The listed (replicated) part: the newest min(n, max) tracked entries. */
static inline size_t connlist_count(const struct connlist *l)
{
	return l->n < l->max ? l->n : l->max;
}

static inline const struct connlist_entry *connlist_listed(const struct connlist *l)
{
	return l->v + (l->n - connlist_count(l));
}

void connlist_init(struct connlist *l, uint32_t max);
/* Free the entries; the list stays usable (empty). */
void connlist_clear(struct connlist *l);

/*
 * Replace the list with the snapshot 'seen' ('n' connections, borrowed;
 * duplicates are ignored).  Connections already listed keep their age, new
 * ones are younger than every tracked one (among themselves, later in
 * 'seen' = younger).  The newest 'max' are listed; '*dropped' (may be NULL)
 * gets how many tracked ones are not.  Returns 1 when the listed set
 * changed, 0 when not, -ENOMEM (the list is unchanged).
 */
int connlist_update(struct connlist *l, const struct wire_conn *seen, size_t n,
		    size_t *dropped);

/* Compare two connections by (client, vport, cport), for sorting. */
int connlist_conn_cmp(const struct wire_conn *a, const struct wire_conn *b);

#endif
