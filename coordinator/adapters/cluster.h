/*
 * The corosync adapter: the only code that includes corosync headers.
 *
 * It turns CPG (model V1, with the initial totem confchg) and quorum (model
 * V1, so notifications carry the full ring id) callbacks into core events,
 * keeps a FIFO send queue that survives CS_ERR_TRY_AGAIN (every membership
 * sync produces a burst of those) by retrying from a libqb timer, and treats
 * anything else from corosync as the loss of the cluster: it reports
 * CORE_EV_CLUSTER_LOST at once, tears the handles down and reconnects with
 * backoff as a new member.
 */
#ifndef CHORUS_CLUSTER_H
#define CHORUS_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include <qb/qbloop.h>

#include "core/state.h"

struct cluster;

/* Called from the loop with each event (borrowed for the call). */
typedef void (*cluster_event_fn)(void *ud, struct core_event *ev);

/* Create the adapter for CPG group 'group'.  Does not connect. */
int cluster_new(qb_loop_t *loop, const char *group, cluster_event_fn fn, void *ud,
		struct cluster **out);

/* Connect to corosync and learn the local nodeid (blocking IPC calls, which
 * is why this runs only at start-up and on reconnect).  Returns 0, or
 * -ENOTCONN when corosync is not there (the caller retries). */
int cluster_connect(struct cluster *cl);

/* Join the group after cluster_connect() (and after adopting what the node
 * still holds).  Failures turn into a scheduled reconnect. */
void cluster_join(struct cluster *cl);

/* When the connection is lost later, reconnect and rejoin by itself. */
uint32_t cluster_nodeid(const struct cluster *cl);

/* Queue a message; sent in order as soon as corosync takes it. */
int cluster_send(struct cluster *cl, const void *buf, size_t size);

/* Flush the queue, then leave the group (graceful shutdown). */
void cluster_leave(struct cluster *cl);

/* Drop the membership and come back as a new member, without reporting a
 * loss (the core keeps its resources for the restart grace). */
void cluster_rejoin(struct cluster *cl);

size_t cluster_queue_depth(const struct cluster *cl);

/* Corosync's effective totem token (token_coefficient's share included) and
 * consensus, ms, read at connect; 0 when cmap could not tell. */
void cluster_totem_timing(const struct cluster *cl, uint32_t *token_ms, uint32_t *consensus_ms);
/* The node ids of corosync's nodelist (read at connect); returns how many. */
size_t cluster_node_ids(const struct cluster *cl, uint32_t *out, size_t max);
/* quorum.two_node is set: both halves of a split stay quorate. */
bool cluster_two_node(const struct cluster *cl);

/* The node's name from corosync's nodelist (read at connect), or NULL. */
const char *cluster_node_name(const struct cluster *cl, uint32_t nodeid);
/* The nodeid whose nodelist name is 'name', or 0. */
uint32_t cluster_node_by_name(const struct cluster *cl, const char *name);

void cluster_free(struct cluster *cl);	/* accepts NULL */

/* What `chorusd --check` compares a file with: the running corosync's
 * effective token and consensus and its nodelist, read through cmap.
 * Blocking IPC (a stopped corosync blocks it): the caller bounds it.
 * 0, or -ENOTCONN when corosync does not answer. */
struct cluster_probe {
	uint32_t token_ms, consensus_ms;
	size_t n_ids;
	uint32_t ids[CHORUS_MAX_NODES];
};
int cluster_probe(struct cluster_probe *p);

#endif
