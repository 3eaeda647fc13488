/*
 * Failure timing, derived from corosync's own.
 *
 * Every threshold of chorusd's failure handling follows from corosync's
 * effective totem timing (runtime.config.totem.token, which includes
 * token_coefficient's share per node, and runtime.config.totem.consensus)
 * and from the few keys of "timing" an operator may set.  Pure: the daemon
 * reads cmap and the config, this turns them into numbers and says what is
 * contradictory (refused, with both values named) or merely slow (a
 * warning).  The model is in README ("Failure timing") and chorus.json(5).
 *
 *   detection   = token + consensus: the shortest time after which the
 *                 others form a ring without a node they stopped hearing,
 *                 and the silence every member sees during that change
 *   quiet limit = detection + heartbeat + formation: a member releases
 *                 everything once corosync has delivered nothing for this
 *                 long.  A survivor's silence is at most one heartbeat of
 *                 idle ring plus detection plus forming the new ring, so
 *                 only a node cut off from the others reaches it.
 *   lifetime    = the kernel lifetime of our addresses, whole seconds;
 *                 by default the longest one whose expiry (plus the
 *                 kernel's lateness) comes before the quiet limit, so a
 *                 node that dies with its kernel alive never delays a
 *                 takeover beyond what a cut-off node would.
 */
#ifndef CHORUS_TIMING_H
#define CHORUS_TIMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* corosync 3's defaults, assumed when cmap cannot be read */
#define TIMING_TOKEN_DEFAULT_MS 3000u
#define TIMING_CONSENSUS_FACTOR_X10 12u	/* consensus = 1.2 x token */

struct timing_in {
	uint32_t token_ms;		/* runtime.config.totem.token, 0 = unknown */
	uint32_t consensus_ms;		/* runtime.config.totem.consensus, 0 = unknown */
	/* from chorus.json's "timing"; 0 = derive (lifetime: see its flag) */
	uint32_t heartbeat_ms;
	uint32_t liveness_ms;
	uint32_t formation_ms;
	uint32_t expiry_margin_ms;
	bool expiry_margin_set;
	uint32_t address_lifetime_s;
	bool address_lifetime_set;	/* 0 then means permanent addresses */
	uint32_t restart_grace_ms;
};

struct timing {
	uint32_t token_ms;
	uint32_t consensus_ms;
	uint32_t detection_ms;
	uint32_t heartbeat_ms;
	uint32_t liveness_ms;
	uint32_t formation_ms;
	uint32_t quiet_limit_ms;
	uint32_t expiry_margin_ms;
	uint32_t lifetime_s;		/* 0 = permanent */
	uint32_t gap_ms;
	uint32_t skew_ms;
	/* Addresses are renewed right after a heartbeat, but no more often
	 * than this: a quarter of the lifetime (each renewal is a netlink
	 * request per address, and wakes the kernel's lifetime worker). */
	uint32_t renew_ms;
	/* How long after corosync's membership change the survivors wait
	 * before taking a lost node's addresses, at most: the later of its
	 * quiet limit and its addresses' expiry, less detection. */
	uint32_t takeover_wait_ms;
	/* With expiry probes, that wait when nobody answers for the lost
	 * node's addresses; while its kernel does (a node cut off whose
	 * daemon runs late or stalled at its quiet limit), at most this: its
	 * quiet limit + heartbeat + lifetime + margin, less detection. */
	uint32_t takeover_max_ms;
	/* Status calls a member unresponsive after this much silence: before
	 * the addresses it stopped renewing may have lapsed in its kernel,
	 * so no address is reported up while it is on no node. */
	uint32_t unresponsive_ms;
};

/* Derive 't' from 'in'.  Returns 0, or -EINVAL with 'err' (size 'n') naming
 * the key and the corosync value it contradicts.  'warn' (size 'wn', may be
 * NULL) receives a note when the result works but is slow or unsafe by the
 * operator's choice; empty otherwise. */
int timing_derive(const struct timing_in *in, struct timing *t, char *err, size_t n, char *warn,
		  size_t wn);

#endif
