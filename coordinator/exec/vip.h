/*
 * VIP executor: puts floating addresses on and off local interfaces over
 * rtnetlink (libmnl), announces them (gratuitous ARP for IPv4, unsolicited
 * neighbour advertisement for IPv6, repeated), and keeps the kernel in line
 * with what the core intends.
 *
 * - Acting on a membership change must take milliseconds, so everything is a
 *   direct netlink request on one socket; no process is spawned per address.
 * - Addresses are added with a finite valid/preferred lifetime and refreshed
 *   well before it runs out.  That is a kernel-enforced dead-man's switch: if
 *   chorusd dies and is not restarted, its addresses disappear on their own
 *   within 'lifetime_s', which the config keeps shorter than the peers'
 *   restart grace, so survivors never take over an address the dead daemon's
 *   node still answers for.  A daemon restarted in time adopts the addresses
 *   (vip_exec_scan) and refreshes them, so nothing moves.
 * - An intended address that disappears (deleted by hand, interface flap) is
 *   put back at the next renewal.  Renewals happen only when the daemon
 *   asks (vip_exec_renew), right after a heartbeat: the peers bound how long
 *   our addresses can live by when they last heard from us.
 * - Announcements run on loop timers, never sleeps.
 */
#ifndef CHORUS_VIP_H
#define CHORUS_VIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qb/qbloop.h>

#include "core/res.h"

struct vip_local {
	struct res_addr addr;
	char ifname[CHORUS_NAME_MAX];
};

struct vip_exec_config {
	uint32_t lifetime_s;		/* address valid/preferred lifetime; 0 = permanent */
	uint32_t announce_count;	/* GARP / unsolicited NA sends per acquire */
	uint32_t announce_interval_ms;	/* spacing between those sends */
};

struct vip_exec;

/* Called when a renewal had to re-add an address ('readded' true) or could
 * not keep one ('err' < 0).  Informational: the core does not need it for
 * correctness. */
typedef void (*vip_exec_event_fn)(void *ud, size_t idx, bool readded, int err);

/* Create an executor for the 'n' addresses in 'vips' (copied).  Opens the
 * netlink socket and subscribes to address events on 'loop'.  Returns 0 or
 * -errno. */
int vip_exec_new(qb_loop_t *loop, const struct vip_exec_config *cfg,
		 const struct vip_local *vips, size_t n,
		 vip_exec_event_fn fn, void *ud, struct vip_exec **out);

/* Which of the configured addresses are present on their interface right now
 * ('held' has n entries).  Used at start-up to adopt what a previous instance
 * left, before joining the cluster.  Returns 0 or -errno. */
int vip_exec_scan(struct vip_exec *x, bool *held);

/* Add address 'idx' (idempotent: an address already present gets its lifetime
 * refreshed) and start its announcement burst.  From now on it is intended and
 * kept.  Returns 0 or -errno (e.g. -ENODEV when the interface is missing). */
int vip_exec_acquire(struct vip_exec *x, size_t idx);

/* Take an address that is already present (left by a previous instance)
 * under our care: renew its lifetime and keep it, but do NOT announce it.
 * Adoption is tentative until the cluster agrees; a gratuitous ARP now
 * could point clients here just before we lose the claim and delete it.
 * Returns 0, -ENOENT if it is not present, or -errno. */
int vip_exec_adopt(struct vip_exec *x, size_t idx);

/* Make the kernel match intent: renew the lifetime of every intended
 * address and put back any that vanished, if the last renewal is at least
 * 'every_ms' old (0: now).  Call only when the peers may assume we are
 * alive (state.h, CORE_ACT_RENEW).  Returns 0 or -errno. */
int vip_exec_renew(struct vip_exec *x, uint32_t every_ms);

/* The lifetime of adds and renewals from now on (derived once corosync's
 * timing is known). */
void vip_exec_set_lifetime(struct vip_exec *x, uint32_t lifetime_s);

/* Delete address 'idx' (idempotent) and stop keeping it.  Returns 0 or -errno. */
int vip_exec_release(struct vip_exec *x, size_t idx);

/* Release every configured address.  Used when quorum or corosync is lost. */
void vip_exec_release_all(struct vip_exec *x);

/* Stop timers, close the socket, free.  Leaves addresses as they are (an
 * in-place restart keeps them).  Accepts NULL. */
void vip_exec_free(struct vip_exec *x);

/* Remove every address in 'vips' from its interface without a loop; for
 * `chorusd --cleanup` run by the service manager after the daemon stopped for
 * good.  Returns the number removed or -errno. */
int vip_cleanup(const struct vip_local *vips, size_t n);

#endif
