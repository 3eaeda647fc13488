/*
 * Tickle ACKs and connection resets: how clients of a moved VIP learn at
 * once that their TCP connection is gone, instead of waiting for their own
 * retransmission timers (what CTDB does; README "What works today").
 *
 * - Every node collects the established TCP connections on the VIPs it
 *   holds (conntrack.c, every connections.collect_ms) into a bounded list
 *   per VIP (connlist.c, connections.max_per_vip, oldest dropped first) and
 *   multicasts the lists that changed as CONNS messages, at most once per
 *   connections.update_ms, and only when the cluster speaks version 3.
 * - Every node keeps, per (sender, VIP it could host), the latest list.  It
 *   is advisory data beside the replicated state: the core never sees it.
 * - On acquiring a VIP, the new owner sends each connection another node
 *   listed for it a TCP ACK from VIP:port to client:port with sequence and
 *   acknowledgement 0, three times 100 ms apart.  The client's stack finds
 *   it out of window and answers with an ACK carrying its real sequence
 *   numbers; that reaches the new owner, which has no such socket and
 *   answers with a RST: the client sees its connection reset and reconnects
 *   now.  The lists are then dropped: they were used.
 * - On releasing a VIP (planned move, standby, shutdown, quorum loss) the
 *   old owner first destroys the VIP's sockets it saw in the last collection
 *   (SOCK_DESTROY: the kernel RSTs the client), while the address is still
 *   up.  A kernel without CONFIG_INET_DIAG_DESTROY falls back to the new
 *   owner's tickles, which it sends for any VIP another node listed.
 */
#ifndef CHORUS_EXEC_TICKLE_H
#define CHORUS_EXEC_TICKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qb/qbloop.h>

struct chorus_conf;
struct tickle;

#define TICKLE_ROUNDS 3
#define TICKLE_INTERVAL_MS 100

/* What the tickle side needs of the cluster, asked when needed. */
struct tickle_ops {
	void *ud;
	/* this node's id, 0 while not in a cluster */
	uint32_t (*nodeid)(void *ud);
	/* the wire version every member speaks (0: no view yet) */
	uint16_t (*proto)(void *ud);
	/* this node holds local VIP 'idx' now */
	bool (*held)(void *ud, size_t idx);
	/* multicast a message; 0 or -errno */
	int (*send)(void *ud, const void *buf, size_t size);
};

/* Start collecting on 'loop' for the addresses of 'conf' (borrowed until
 * tickle_free), CONNS messages tagged with 'incarnation'.  Returns 0 or
 * -errno (the daemon then runs without tickles). */
int tickle_new(qb_loop_t *loop, const struct chorus_conf *conf, uint64_t incarnation,
	       const struct tickle_ops *ops, struct tickle **out);
void tickle_free(struct tickle *t);	/* accepts NULL */

/* A delivered CPG message from 'nodeid': returns true when it was CONNS
 * (consumed here; the core must not see it), false otherwise. */
bool tickle_deliver(struct tickle *t, uint32_t nodeid, const void *buf, size_t size);

/* A membership change with 'n_joined' newcomers: send them our lists. */
void tickle_confchg(struct tickle *t, size_t n_joined);

/* Local VIP 'idx' was just added and announced: tickle its clients. */
void tickle_acquired(struct tickle *t, size_t idx);

/* Local VIP 'idx' is about to be deleted: reset its connections. */
void tickle_releasing(struct tickle *t, size_t idx);

/* For metrics ('t' may be NULL): CONNS messages refused as malformed,
 * lists refused for passing a cap (TICKLE_REMOTE_MAX in all, half of it
 * per sender), and the connections other nodes' lists hold here now. */
void tickle_counters(const struct tickle *t, uint64_t *bad, uint64_t *refused, size_t *held);

#endif
