/*
 * Connection collector: established TCP connections on given local
 * addresses, from the kernel's sock_diag netlink interface (what `ss` uses),
 * plus SOCK_DESTROY to reset them.
 *
 * A small module with no daemon state, shared by the tickle machinery and
 * the small-file balancer: the caller owns the loop and the schedule.  A
 * collection is one dump per address family, read from the loop as the
 * kernel answers (never a blocking read), bounded by a timeout, and reported
 * through one callback.  The kernel dumps every established TCP socket of
 * the family and the module keeps those whose local address is one of the
 * requested ones (a kernel-side bytecode filter would save that walk on
 * hosts with very many sockets; not needed yet).
 *
 * Needs CAP_NET_ADMIN for SOCK_DESTROY; dumping needs nothing.
 */
#ifndef CHORUS_CONNTRACK_H
#define CHORUS_CONNTRACK_H

#include <stddef.h>
#include <stdint.h>

#include <qb/qbloop.h>

#include "core/res.h"

#define CONNTRACK_MAX_SOCKS 262144u	/* per collection; more are counted, not kept */

struct conntrack_sock {
	struct res_addr local;		/* prefix = full length */
	struct res_addr remote;
	uint16_t lport, rport;		/* host order */
	uint32_t ifindex;
	uint8_t sk_family;		/* the socket's own: AF_INET6 for IPv4-mapped */
	uint64_t cookie;		/* the kernel's socket cookie */
	size_t local_idx;		/* index into the 'locals' of the collection */
};

struct conntrack;

/*
 * Called once per collection from the loop: 'err' 0 or -errno (-ETIMEDOUT
 * when the kernel did not finish in time); 'socks' (borrowed for the call)
 * holds what was found (possibly partial on error); 'n_over' counts sockets
 * past CONNTRACK_MAX_SOCKS that were not kept.
 */
typedef void (*conntrack_done_fn)(void *ud, int err, const struct conntrack_sock *socks,
				  size_t n, size_t n_over);

/* Open the netlink sockets and register with 'loop'.  Returns 0 or -errno. */
int conntrack_new(qb_loop_t *loop, struct conntrack **out);

/*
 * Start collecting established TCP connections whose local address is one
 * of 'locals' ('n', copied; prefixes ignored).  'fn' is called once, later,
 * from the loop.  Returns 0, -EBUSY while a collection runs, or -errno.
 */
int conntrack_collect(struct conntrack *ct, const struct res_addr *locals, size_t n,
		      uint32_t timeout_ms, conntrack_done_fn fn, void *ud);

/*
 * Reset connection 's' now (SOCK_DESTROY: the kernel sends the peer a RST
 * and closes the socket).  Synchronous but non-blocking: the kernel acts
 * inside the send, and its answer is already queued when we read it.
 * Returns 0, -ENOENT if the socket is gone, -EOPNOTSUPP when the kernel is
 * built without CONFIG_INET_DIAG_DESTROY, -EPERM without CAP_NET_ADMIN.
 */
int conntrack_destroy(struct conntrack *ct, const struct conntrack_sock *s);

/* Cancel a running collection (its callback is not called), close, free.
 * Accepts NULL. */
void conntrack_free(struct conntrack *ct);

#endif
