/*
 * Failure timing derived from corosync's.  See timing.h.
 */
#include "core/timing.h"

#include <errno.h>
#include <stdio.h>

/* Defaults, chosen by measurement (README, "Failure timing"). */
#define HEARTBEAT_MIN_MS 50u
#define HEARTBEAT_MAX_MS 250u
#define LIVENESS_MIN_MS 1000u	/* default floor: a loaded node pauses for less */
#define FORMATION_MS 200u	/* ring formation after detection: 71 ms at most seen
				 * with both cores saturated, 3 nodes */
#define EXPIRY_MARGIN_MS 1300u	/* the kernel re-checks lifetimes no sooner than 1 s
				 * after its last check, rounded up to a whole
				 * second within 250 ms (net/ipv4/devinet.c,
				 * ADDRCONF_TIMER_FUZZ_MAX/FUZZ), plus scheduling */
#define SKEW_MS 25u		/* how much later another member may deliver a message */

static uint32_t clamp32(uint64_t v, uint32_t lo, uint32_t hi)
{
	return v < lo ? lo : v > hi ? hi : (uint32_t)v;
}

int timing_derive(const struct timing_in *in, struct timing *t, char *err, size_t n, char *warn,
		  size_t wn)
{
	uint64_t life_ms, bound;

	if (warn && wn)
		warn[0] = '\0';
	*t = (struct timing){0};
	t->token_ms = in->token_ms ? in->token_ms : TIMING_TOKEN_DEFAULT_MS;
	t->consensus_ms = in->consensus_ms ? in->consensus_ms
					   : t->token_ms * TIMING_CONSENSUS_FACTOR_X10 / 10;
	t->detection_ms = t->token_ms + t->consensus_ms;

	t->heartbeat_ms = in->heartbeat_ms ? in->heartbeat_ms
					   : clamp32(t->token_ms / 10, HEARTBEAT_MIN_MS,
						     HEARTBEAT_MAX_MS);
	/* A pause in deliveries three heartbeats long is a membership change:
	 * it must be shorter than the token, which every change waits out. */
	t->gap_ms = 3 * t->heartbeat_ms;
	if (t->gap_ms >= t->token_ms) {
		snprintf(err, n, "timing.heartbeat_ms: %u is too slow for corosync's token of %u ms: "
			 "a heartbeat must come at least every %u ms (a third of the token)",
			 t->heartbeat_ms, t->token_ms, (t->token_ms - 1) / 3);
		return -EINVAL;
	}
	t->liveness_ms = in->liveness_ms ? in->liveness_ms
					 : (5 * t->heartbeat_ms > LIVENESS_MIN_MS ? 5 * t->heartbeat_ms
										  : LIVENESS_MIN_MS);
	if (t->liveness_ms < 3 * t->heartbeat_ms) {
		snprintf(err, n, "timing.liveness_ms: %u is shorter than three heartbeats (%u ms): a "
			 "healthy daemon would be taken for a frozen one", t->liveness_ms,
			 3 * t->heartbeat_ms);
		return -EINVAL;
	}
	t->formation_ms = in->formation_ms ? in->formation_ms : FORMATION_MS;
	t->quiet_limit_ms = t->detection_ms + t->heartbeat_ms + t->formation_ms;
	t->expiry_margin_ms = in->expiry_margin_set ? in->expiry_margin_ms : EXPIRY_MARGIN_MS;
	t->skew_ms = SKEW_MS;

	if (in->address_lifetime_set) {
		t->lifetime_s = in->address_lifetime_s;
	} else {
		/* the longest whole-second lifetime that a crash with the kernel
		 * alive does not make the survivors wait for longer than a cut-off
		 * node, and at least four renewals long */
		uint64_t room = t->quiet_limit_ms > (uint64_t)t->heartbeat_ms + t->expiry_margin_ms
					? t->quiet_limit_ms - t->heartbeat_ms - t->expiry_margin_ms
					: 0;

		t->lifetime_s = (uint32_t)(room / 1000);
		if ((uint64_t)t->lifetime_s * 1000 < 4ull * t->heartbeat_ms)
			t->lifetime_s = (4 * t->heartbeat_ms + 999) / 1000;
		/* a daemon restarted in place adopts its addresses if they outlive
		 * its restart; the restart grace bounds that from above */
		if (in->restart_grace_ms && (uint64_t)t->lifetime_s * 1000 + 2000 > in->restart_grace_ms &&
		    in->restart_grace_ms >= 3000)
			t->lifetime_s = (in->restart_grace_ms - 2000) / 1000;
	}
	life_ms = (uint64_t)t->lifetime_s * 1000;
	if (t->lifetime_s && life_ms < 4ull * t->heartbeat_ms) {
		snprintf(err, n, "timing.address_lifetime_s: %u s is renewed fewer than four times at "
			 "a heartbeat of %u ms; use at least %u", t->lifetime_s, t->heartbeat_ms,
			 (4 * t->heartbeat_ms + 999) / 1000);
		return -EINVAL;
	}
	t->renew_ms = t->lifetime_s && life_ms / 4 > t->heartbeat_ms ? (uint32_t)(life_ms / 4)
								      : t->heartbeat_ms;
	bound = t->lifetime_s ? t->heartbeat_ms + life_ms + t->expiry_margin_ms + t->skew_ms : 0;
	if (bound < t->quiet_limit_ms)
		bound = t->quiet_limit_ms;
	bound += t->skew_ms;
	t->takeover_wait_ms = bound > t->detection_ms ? (uint32_t)(bound - t->detection_ms) : 0;
	t->takeover_max_ms = t->takeover_wait_ms;
	if (t->lifetime_s) {
		uint64_t hard = (uint64_t)t->quiet_limit_ms + t->skew_ms + t->heartbeat_ms + life_ms +
				t->expiry_margin_ms;

		if (hard > t->detection_ms && hard - t->detection_ms > t->takeover_max_ms)
			t->takeover_max_ms = (uint32_t)(hard - t->detection_ms);
	}
	/* A frozen member's last renewal came at most renew + heartbeat before
	 * its last message (renewals follow heartbeat ticks), which reached us
	 * up to 'skew' late; we measure its silence on ring time, up to a
	 * heartbeat and a skew behind the clock.  Status must flip first. */
	t->unresponsive_ms = t->liveness_ms;
	if (t->lifetime_s) {
		uint64_t early = life_ms > (uint64_t)t->renew_ms + 2 * t->heartbeat_ms + 2 * t->skew_ms
					 ? life_ms - t->renew_ms - 2 * t->heartbeat_ms - 2 * t->skew_ms
					 : 0;

		if (early < t->gap_ms)
			early = t->gap_ms;
		if (early < t->unresponsive_ms)
			t->unresponsive_ms = (uint32_t)early;
	}

	if (warn && wn) {
		if (t->lifetime_s == 0)
			snprintf(warn, wn, "timing.address_lifetime_s is 0 (permanent addresses): a node "
				 "that dies with its kernel alive keeps answering for its addresses "
				 "after the others took them, and a frozen daemon's addresses are "
				 "never taken over");
		else if (in->address_lifetime_set &&
			 t->heartbeat_ms + life_ms + t->expiry_margin_ms > t->quiet_limit_ms)
			snprintf(warn, wn, "timing.address_lifetime_s: %u s makes the survivors wait "
				 "%u ms after corosync's membership change before taking a lost "
				 "node's addresses (corosync detects a loss in %u ms); %u s or less "
				 "would not add to it", t->lifetime_s, t->takeover_wait_ms,
				 t->detection_ms,
				 t->quiet_limit_ms > t->heartbeat_ms + t->expiry_margin_ms
					 ? (t->quiet_limit_ms - t->heartbeat_ms - t->expiry_margin_ms) /
						   1000
					 : 0);
		else if (in->expiry_margin_set && t->expiry_margin_ms < EXPIRY_MARGIN_MS)
			snprintf(warn, wn, "timing.expiry_margin_ms: %u is below the %u ms the kernel "
				 "may remove an expired address late when other addresses with a "
				 "lifetime change on this host", t->expiry_margin_ms,
				 EXPIRY_MARGIN_MS);
	}
	return 0;
}
