/*
 * Liveness: of corosync, of our own loop, of the other daemons.
 *
 * Three questions decide when an address may move without ever being on
 * two nodes, and all three are answered from what corosync delivers and
 * from time, never from a guess:
 *
 *  1. Is corosync still carrying our messages?  Every member multicasts a
 *     PING each heartbeat, so in a healthy ring something is delivered at
 *     least that often.  During a membership change corosync delivers
 *     nothing for token + consensus + the time to form the new ring; the
 *     daemon derives 'quiet_limit' from corosync's own timing so that it is
 *     longer than that.  Only a node cut off from the others (its corosync
 *     never forms a ring it can deliver in) reaches it, and releases
 *     everything.  A survivor never does.
 *
 *  2. When may the survivors take what a lost node held?  Not before it has
 *     surely let go: if it is alive and cut off, at its own quiet limit after
 *     the last delivery it saw (which is no later than the last delivery we
 *     saw before the ring broke, give or take 'skew'); if it died with its
 *     kernel alive, once the lifetime of its last renewal has run out in its
 *     kernel.  It renews only right after a heartbeat was handed to corosync,
 *     so its last renewal was no later than one heartbeat after the last
 *     message of it we saw.  A hold-off per address gates our acquire until
 *     the later of the two; each node's own numbers travel in its STATE, and
 *     we never wait less than we would for ourselves.
 *
 *  3. Is a member's daemon still running?  A member whose messages stopped
 *     while our own keep coming back (so the ring works) is frozen, wedged,
 *     or never spoke at all.  Any member that notices multicasts SUSPECT,
 *     carrying how many of the suspect's messages it had seen; delivered in
 *     order, it is void on every member alike if the suspect spoke in the
 *     meantime, and otherwise excludes it on every member at the same point.
 *     Its addresses are placed elsewhere at once but taken only once their
 *     kernel lifetime has surely run out (question 2); its bricks wait for
 *     fencing as a lost node's do.  Exclusion is sticky: a member that fell
 *     silent is never waited for again until it rejoins as a new member,
 *     which a daemon that wakes up does as soon as it reads its SUSPECT.
 *
 * Our own loop can stall too (SIGSTOP, a blocked syscall).  The heartbeat
 * timer fires every 'heartbeat_ms', so a step that comes much later than
 * that means we were not running: peers may be about to exclude us, so we
 * renew and acquire nothing until a PING sent after the stall has come back
 * without a SUSPECT ordered before it.
 */
#include "core/state_private.h"
#include "core/state_absent.h"
#include "core/state_live.h"
#include "core/state_table.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

/* ---- peers ---- */

struct peer *core_peer(struct core *c, uint32_t nodeid)
{
	size_t lo = 0, hi = c->n_peers;
	struct peer *v;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->peers[mid].nodeid == nodeid)
			return &c->peers[mid];
		if (c->peers[mid].nodeid < nodeid)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* node ids come from corosync, but a ring is bounded */
	if (c->n_peers >= 2 * (size_t)WIRE_MAX_NODES)
		return NULL;
	v = realloc(c->peers, (c->n_peers + 1) * sizeof(*v));
	if (v == NULL) {
		c->err = -ENOMEM;
		return NULL;
	}
	c->peers = v;
	memmove(&v[lo + 1], &v[lo], (c->n_peers - lo) * sizeof(*v));
	memset(&v[lo], 0, sizeof(v[lo]));
	v[lo].nodeid = nodeid;
	c->n_peers++;
	return &v[lo];
}

static uint64_t peer_last(const struct core *c, uint32_t nodeid)
{
	for (size_t i = 0; i < c->n_peers; i++)
		if (c->peers[i].nodeid == nodeid)
			return c->peers[i].last_from_ms;
	return 0;
}

/* The timing to assume for 'nodeid': what it advertised, never less than
 * our own (a peer that under-reports must not make us take too early). */
static struct wire_timing peer_timing(struct core *c, uint32_t nodeid)
{
	struct wire_timing t = {
		.quiet_ms = c->cfg.quiet_limit_ms,
		.heartbeat_ms = c->cfg.heartbeat_ms,
		.lifetime_ms = c->cfg.lifetime_ms,
		.margin_ms = c->cfg.expiry_margin_ms,
	};
	struct peer *p = core_peer(c, nodeid);

	if (p == NULL || !p->has_timing)
		return t;
	if (p->timing.quiet_ms > t.quiet_ms)
		t.quiet_ms = p->timing.quiet_ms;
	if (p->timing.heartbeat_ms > t.heartbeat_ms)
		t.heartbeat_ms = p->timing.heartbeat_ms;
	/* a node with permanent addresses gives no bound at all */
	if (p->timing.lifetime_ms == 0 || t.lifetime_ms == 0)
		t.lifetime_ms = 0;
	else if (p->timing.lifetime_ms > t.lifetime_ms)
		t.lifetime_ms = p->timing.lifetime_ms;
	if (p->timing.margin_ms > t.margin_ms)
		t.margin_ms = p->timing.margin_ms;
	return t;
}

/* How long 'm' has been silent, on ring time: our own messages kept coming
 * back meanwhile, so the ring works and the silence is the member's. */
static uint64_t member_silence_ms(const struct core *c, const struct member *m)
{
	uint64_t last = m->last_ms;

	if (m->nodeid == c->cfg.nodeid && m->pid == c->cfg.pid)
		return 0;
	/* nobody speaks during a membership change: a view starts afresh;
	 * nor is anyone heard while our corosync hangs */
	if (last < c->view_start_ms)
		last = c->view_start_ms;
	if (last < c->hang_end_ms)
		last = c->hang_end_ms;
	return c->last_self_ms > last ? c->last_self_ms - last : 0;
}

bool core_member_silent(const struct core *c, const struct member *m)
{
	if (m->suspected)
		return true;
	return c->cfg.liveness_ms != 0 && member_silence_ms(c, m) > c->cfg.liveness_ms;
}

bool core_member_unresponsive(const struct core *c, const struct member *m)
{
	uint32_t limit = c->cfg.liveness_ms;

	if (m->suspected)
		return true;
	if (c->cfg.unresponsive_ms && (limit == 0 || c->cfg.unresponsive_ms < limit))
		limit = c->cfg.unresponsive_ms;
	return limit != 0 && member_silence_ms(c, m) > limit;
}

/* ---- hold-offs ---- */

static long holdoff_find(const struct core *c, const struct res_addr *addr)
{
	return RES_ADDR_SEARCH(c->holdoffs, c->n_holdoffs, addr, addr);
}

/* 'probe' (0 = never): see struct holdoff.  Two reasons to wait for one
 * address: the later end, and a probe only once both would allow one.
 * PROBE_KEEP: what a peer's STATE says, which carries no probe time; our
 * own reason, if we have one, stands (a probe's safety is our own view of
 * when a cut-off node let go), else never. */
#define PROBE_KEEP UINT64_MAX
static void holdoff_add(struct core *c, const struct res_addr *addr, uint32_t nodeid,
			uint64_t until, uint64_t probe, uint64_t floor)
{
	long i = holdoff_find(c, addr);
	struct holdoff *v;
	size_t pos;

	if (until <= c->now_ms)
		return;
	if (probe == PROBE_KEEP && i < 0)
		probe = 0;
	if (probe >= until && probe != PROBE_KEEP)
		probe = 0;	/* nothing left to shorten */
	if (i >= 0) {
		struct holdoff *h = &c->holdoffs[i];

		if (h->nodeid != nodeid)
			h->mixed = true;
		if (probe != PROBE_KEEP)
			h->probe_ms = h->probe_ms == 0 || probe == 0 ? 0
				      : h->probe_ms > probe	      ? h->probe_ms
								      : probe;
		if (floor > h->floor_ms)
			h->floor_ms = floor;
		if (until > h->until_ms) {
			h->until_ms = until;
			h->nodeid = nodeid;
		}
		return;
	}
	if (c->n_holdoffs >= WIRE_MAX_RES)
		return;	/* more than any table: a hostile STATE, not a real loss */
	v = realloc(c->holdoffs, (c->n_holdoffs + 1) * sizeof(*v));
	if (v == NULL) {
		c->err = -ENOMEM;
		return;
	}
	c->holdoffs = v;
	pos = (size_t)(-i - 1);
	memmove(&v[pos + 1], &v[pos], (c->n_holdoffs - pos) * sizeof(*v));
	v[pos] = (struct holdoff){*addr, nodeid, until, probe, floor, false};
	c->n_holdoffs++;
}

static void holdoff_expire(struct core *c)
{
	size_t w = 0;

	for (size_t i = 0; i < c->n_holdoffs; i++)
		if (c->holdoffs[i].until_ms > c->now_ms)
			c->holdoffs[w++] = c->holdoffs[i];
	c->n_holdoffs = w;
}

bool core_holdoff_blocks(const struct core *c, const struct res_addr *addr, uint64_t *until)
{
	long i = holdoff_find(c, addr);

	if (i < 0 || c->holdoffs[i].until_ms <= c->now_ms)
		return false;
	if (until)
		*until = c->holdoffs[i].until_ms;
	return true;
}

bool core_holdoff_probe_ok(const struct core *c, const struct res_addr *addr)
{
	long i = holdoff_find(c, addr);

	return i >= 0 && c->holdoffs[i].until_ms > c->now_ms && c->holdoffs[i].probe_ms &&
	       c->holdoffs[i].probe_ms <= c->now_ms;
}

bool core_holdoff_probe_lift(struct core *c, const struct res_addr *addr)
{
	long i = holdoff_find(c, addr);

	if (!core_holdoff_probe_ok(c, addr))
		return false;
	if (c->holdoffs[i].floor_ms > c->now_ms) {
		/* answered early: nobody holds it now, but a node cut off is
		 * still entitled to it until its quiet limit */
		c->holdoffs[i].until_ms = c->holdoffs[i].floor_ms;
		c->holdoffs[i].probe_ms = 0;
		return true;
	}
	c->holdoffs[i].until_ms = 0;
	holdoff_expire(c);
	return true;
}

uint32_t core_holdoff_get(const struct core *c, const struct res_addr *addr, bool owner,
			   uint64_t *left_ms)
{
	long i = holdoff_find(c, addr);

	if (i < 0 || c->holdoffs[i].until_ms <= c->now_ms)
		return 0;
	/* Only the owner probes.  Past a cut-off node's quiet limit it has
	 * taken the address unless its probe is still answered, which the
	 * other members learn only from its PINGs (not up yet: "starting"). */
	if (!owner && c->cfg.expiry_probe && c->holdoffs[i].floor_ms &&
	    c->holdoffs[i].floor_ms <= c->now_ms)
		return 0;
	*left_ms = c->holdoffs[i].until_ms - c->now_ms;
	return c->holdoffs[i].nodeid;
}

/* Hold off every resource the table gives to (or has leave) 'nodeid'. */
static size_t holdoff_table(struct core *c, uint32_t nodeid, uint64_t until, uint64_t probe,
			    uint64_t floor)
{
	size_t n = 0;

	for (size_t r = 0; r < c->n_res; r++)
		if (c->res[r].owner == nodeid || c->res[r].from == nodeid) {
			holdoff_add(c, &c->res[r].addr, nodeid, until, probe, floor);
			n++;
		}
	return n;
}

/* When a node last heard of at 'last_ms' may have let go of its addresses
 * for sure if it died with its kernel alive: one heartbeat (its last
 * renewal) plus the lifetime plus the kernel's lateness.  Without that
 * lateness, '*nominal' (may be NULL): when the lifetime has run out, from
 * which on a probe nobody answers shows the kernel did remove it. */
static uint64_t lifetime_bound(struct core *c, uint32_t nodeid, uint64_t last_ms,
			       uint64_t *nominal)
{
	struct wire_timing t = peer_timing(c, nodeid);

	if (t.lifetime_ms == 0) {
		if (nominal)
			*nominal = 0;
		return UINT64_MAX;	/* permanent addresses: no bound */
	}
	if (nominal)
		*nominal = last_ms + t.heartbeat_ms + t.lifetime_ms + c->cfg.skew_ms;
	return last_ms + t.heartbeat_ms + t.lifetime_ms + t.margin_ms + c->cfg.skew_ms;
}

void core_live_departed(struct core *c, uint32_t nodeid, bool left_ring)
{
	struct wire_timing t = peer_timing(c, nodeid);
	uint64_t last = peer_last(c, nodeid), probe, floor = 0;
	uint64_t until = lifetime_bound(c, nodeid, last, &probe);
	uint64_t q = c->depart_ref_ms + t.quiet_ms + c->cfg.skew_ms;
	size_t n;

	/* Permanent addresses: the old rule (take at once) is all there is;
	 * the README says so. */
	if (until == UINT64_MAX)
		until = 0;
	if (left_ring && probe && c->cfg.expiry_probe) {
		/* A node cut off lets go at its quiet limit after the last
		 * delivery it saw, if its daemon runs then.  One that runs
		 * late, or stalls, keeps its addresses until it lets go or, at
		 * the latest, until the lifetime of its last renewal (no later
		 * than its quiet limit) runs out in its kernel: that is the
		 * bound.  Its kernel answers for them all that time wherever
		 * its link is up, so a probe nobody answers ends the wait, at
		 * the quiet limit at the earliest: a power loss costs nothing
		 * more, a late release is waited for (README, "Residual
		 * doubles").  (A node whose daemon died with corosync still in
		 * the ring keeps answering until the lifetime runs out, so it
		 * is probed from then on only.) */
		uint64_t hard = q + t.heartbeat_ms + t.lifetime_ms + t.margin_ms;

		if (hard > until)
			until = hard;
		floor = q;
		probe = q > c->cfg.probe_wait_ms ? q - c->cfg.probe_wait_ms : 0;
		if (probe < c->now_ms)
			probe = c->now_ms;
	} else if (left_ring) {
		/* permanent addresses, or no probes: a node cut off lets go at
		 * its quiet limit, which no probe can shorten */
		if (q > until)
			until = q;
		probe = 0;
	}
	n = holdoff_table(c, nodeid, until, probe, floor);
	if (n && until > c->now_ms)
		qb_log(LOG_NOTICE, "node %" PRIu32 " %s: its %zu address%s may still be up there "
		       "for %" PRIu64 " ms%s", nodeid, left_ring ? "left the ring" : "left the group",
		       n, n == 1 ? "" : "es", until - c->now_ms,
		       floor > c->now_ms ? ", less if nobody answers for them" : "");
}

void core_live_released(struct core *c, uint32_t nodeid, const struct res_addr *v, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		long i = holdoff_find(c, &v[k]);

		if (i >= 0 && c->holdoffs[i].nodeid == nodeid && !c->holdoffs[i].mixed)
			c->holdoffs[i].until_ms = 0;
	}
	holdoff_expire(c);
}

/* A node known down (FENCED: powered off, or the operator says it is) holds
 * nothing any more; the hold-offs recorded when it left were for a node
 * that might still be running. */
void core_live_fenced(struct core *c, uint32_t nodeid)
{
	for (size_t i = 0; i < c->n_holdoffs; i++)
		if (c->holdoffs[i].nodeid == nodeid && !c->holdoffs[i].mixed)
			c->holdoffs[i].until_ms = 0;
	holdoff_expire(c);
}

int core_holdoff_build(const struct core *c, struct wire_state *st)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_holdoffs; i++)
		n += c->holdoffs[i].until_ms > c->now_ms;
	if (n == 0)
		return 0;
	st->holdoffs = calloc(n, sizeof(*st->holdoffs));
	if (st->holdoffs == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_holdoffs; i++) {
		const struct holdoff *h = &c->holdoffs[i];
		uint64_t left = h->until_ms - c->now_ms;

		if (h->until_ms <= c->now_ms)
			continue;
		st->holdoffs[st->n_holdoffs++] = (struct wire_holdoff){
			h->addr, h->nodeid, left > UINT32_MAX ? UINT32_MAX : (uint32_t)left};
	}
	return 0;
}

/* Whether member 'm's snapshot claims 'addr' (held, or being released). */
static bool snap_claims(const struct member *m, const struct res_addr *addr)
{
	for (uint32_t k = 0; k < m->snap.n_owned; k++)
		if ((m->snap.owned[k].flags & (WIRE_OWN_HELD | WIRE_OWN_RELEASING)) &&
		    res_addr_cmp(&m->snap.owned[k].addr, addr) == 0)
			return true;
	return false;
}

/* A joiner did not see the loss: it waits as long as those who did (from
 * when their STATE was sent, so never less).  And a node that came back
 * says itself what it still holds: nothing else of it need be waited for. */
void core_holdoff_merge(struct core *c)
{

	for (size_t i = 0; i < c->n_members; i++) {
		const struct wire_state *s = &c->members[i].snap;

		for (uint32_t k = 0; c->members[i].have_state && k < s->n_holdoffs; k++)
			holdoff_add(c, &s->holdoffs[k].addr, s->holdoffs[k].nodeid,
				    s->holdoffs[k].remaining_ms == UINT32_MAX
					    ? UINT64_MAX
					    : c->now_ms + s->holdoffs[k].remaining_ms,
				    PROBE_KEEP, 0);
	}
	for (size_t i = 0; i < c->n_holdoffs; i++) {
		struct holdoff *h = &c->holdoffs[i];

		for (size_t m = 0; m < c->n_members; m++) {
			const struct member *mm = &c->members[m];

			if (mm->nodeid == h->nodeid && !h->mixed && mm->have_state &&
			    !mm->excluded && !snap_claims(mm, &h->addr))
				h->until_ms = 0;
		}
	}
	holdoff_expire(c);
}

/*
 * The start-up counterpart of the hold-offs (as startup fencing is for
 * bricks): a configured node that is not a member may have had a daemon
 * until just before we joined the group (had it run since, it would have
 * joined too), so what nobody claims may still be up in its kernel until one
 * lifetime after we joined.  A cluster that starts whole has no such node.
 * Such a node had let go by our first view + a quiet limit at the latest
 * (had it heard the ring after we joined, we would have seen it; cut off
 * or hung, it releases at its quiet limit), so from then on only its
 * kernel's lateness is left and a probe nobody answers ends the wait, as
 * for a node that left the ring (core_live_departed).  Without the probe
 * time, this hold-off also took the probe away from a lost member's
 * addresses it merged with: a survivor that joined shortly before a power
 * loss waited out the whole lifetime bound.
 */
void core_holdoff_unseen(struct core *c)
{
	uint32_t absent = 0;
	uint64_t until, probe;
	bool *claimed;

	if (c->cfg.lifetime_ms == 0 || c->first_view_ms == 0)
		return;
	until = lifetime_bound(c, c->cfg.nodeid, c->first_view_ms, &probe);
	if (until <= c->now_ms)
		return;
	if (probe && c->first_view_ms + c->cfg.quiet_limit_ms + c->cfg.skew_ms > probe)
		probe = c->first_view_ms + c->cfg.quiet_limit_ms + c->cfg.skew_ms;
	for (size_t i = 0; i < c->cfg.n_nodes && absent == 0; i++)
		if (!core_has_nodeid(c, c->cfg.nodes[i]))
			absent = c->cfg.nodes[i];
	if (absent == 0)
		return;
	/* Marked from the claims, not by asking every snapshot about every
	 * resource: that was resources x members x claims, 100 million
	 * compares in the round of a member that joined less than a lifetime
	 * ago at 32 nodes x 10,000 addresses (tests/bench/scale_sim.c). */
	claimed = calloc(c->n_res ? c->n_res : 1, sizeof(*claimed));
	if (claimed == NULL) {
		c->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < c->n_members; i++) {
		const struct wire_state *s = &c->members[i].snap;

		for (uint32_t k = 0; c->members[i].have_state && k < s->n_owned; k++) {
			long r;

			if (!(s->owned[k].flags & (WIRE_OWN_HELD | WIRE_OWN_RELEASING)))
				continue;
			r = core_res_find(c, &s->owned[k].addr);
			if (r >= 0)
				claimed[r] = true;
		}
	}
	for (size_t r = 0; r < c->n_res; r++)
		if (!claimed[r] && !c->res[r].excl)
			holdoff_add(c, &c->res[r].addr, absent, until, probe, 0);
	free(claimed);
}

void core_timing_build(const struct core *c, struct wire_state *st)
{
	st->n_conf = (uint32_t)c->cfg.n_conf;
	memcpy(st->conf, c->cfg.conf, c->cfg.n_conf * sizeof(*st->conf));
	st->has_timing = true;
	st->timing = (struct wire_timing){
		.quiet_ms = c->cfg.quiet_limit_ms,
		.heartbeat_ms = c->cfg.heartbeat_ms,
		.lifetime_ms = c->cfg.lifetime_ms,
		.margin_ms = c->cfg.expiry_margin_ms,
	};
}

/* ---- deliveries ---- */

/* PING values of the hang check, apart from the stall check's */
#define HANG_NONCE_BIT 0x80000000u

static bool self_member(const struct core *c, const struct member *m);

static void hang_resolved(struct core *c)
{
	c->ctr.self_releases_total_ms += c->now_ms - c->hang_end_ms;
	c->hang_unsure = false;
}

bool core_live_cut_off(const struct core *c)
{
	return c->hung || c->hang_unsure;
}

void core_live_new_ring(struct core *c)
{
	if (!c->hang_unsure ||
	    (c->ring.nodeid == c->hang_ring.nodeid && c->ring.seq == c->hang_ring.seq))
		return;
	qb_log(LOG_NOTICE, "corosync formed ring %" PRIx32 ".%" PRIx64 " after its hang: "
	       "back through that ring's round", c->ring.nodeid, c->ring.seq);
	hang_resolved(c);
}

void core_live_delivered(struct core *c, struct member *m, bool is_msg)
{
	uint64_t now = c->now_ms;

	/* The first delivery after a pause longer than any traffic gap ends a
	 * membership change (recovered messages, then the confchg): the ring
	 * broke after the delivery before it. */
	if (c->last_any_ms && now - c->last_any_ms > c->cfg.gap_ms) {
		c->pre_gap_ms = c->last_any_ms;
		c->gap_since_cc = true;
	}
	/* how close the cluster came to the quiet limit: for the operator */
	if (c->in_view && c->last_any_ms && now - c->last_any_ms > c->ctr.silence_max_ms)
		c->ctr.silence_max_ms = now - c->last_any_ms;
	if (c->hung) {
		uint64_t gap = now - c->last_any_ms;
		uint64_t out_ms = gap > c->cfg.quiet_limit_ms ? gap - c->cfg.quiet_limit_ms : 0;

		/* What comes first may be our own messages, stamped with the
		 * token our corosync held when it stopped and delivered at
		 * once (agreed order) in a ring the others left long ago. */
		qb_log(LOG_NOTICE, "corosync delivers again after %" PRIu64 " ms, first %s "
		       "(everything was released for the last %" PRIu64 " ms of it): taking "
		       "nothing back until corosync shows a new ring or a peer answers in this one",
		       gap, is_msg ? "a message" : "a membership change", out_ms);
		c->ctr.self_releases_total_ms += out_ms;
		c->hung = false;
		c->hang_unsure = true;
		c->hang_ping_back = false;
		c->hang_end_ms = now;
		c->hang_nonce = HANG_NONCE_BIT | (c->hang_nonce + 1);
		c->hb_next_ms = now;	/* that PING goes out at once */
	}
	c->last_any_ms = now;
	if (m != NULL && is_msg && c->hang_unsure && c->hang_ping_back && !self_member(c, m) &&
	    !m->excluded) {
		/* total order: this was sent in our ring after our fresh PING
		 * went round it, so the ring outlived the hang */
		qb_log(LOG_NOTICE, "node %" PRIu32 " speaks after our PING in ring %" PRIx32
		       ".%" PRIx64 ": the ring outlived corosync's hang, serving again",
		       m->nodeid, c->ring.nodeid, c->ring.seq);
		hang_resolved(c);
	}
	if (m != NULL && is_msg) {
		struct peer *p = core_peer(c, m->nodeid);

		m->n_msgs++;
		m->last_ms = now;
		if (p != NULL)
			p->last_from_ms = now;
	}
}

static bool others_in_view(const struct core *c)
{
	for (size_t i = 0; i < c->n_members; i++)
		if (!self_member(c, &c->members[i]) && !c->members[i].excluded)
			return true;
	return false;
}

void core_live_self_ping(struct core *c, uint32_t nonce)
{
	if (c->hang_unsure && nonce == c->hang_nonce && !c->hang_ping_back) {
		c->hang_ping_back = true;
		c->hang_ping_ms = c->now_ms;
		/* alone in the view: nobody else can answer, and nobody
		 * else's table can hold what ours gives us */
		if (!others_in_view(c)) {
			qb_log(LOG_NOTICE, "our PING came back and we are alone in the view: "
			       "serving again after corosync's hang");
			hang_resolved(c);
		}
		return;
	}
	if (!c->revalidating || nonce != c->reval_nonce)
		return;
	c->revalidating = false;
	if (c->suspected_self)
		return;	/* too late: we are on our way out */
	qb_log(LOG_NOTICE, "our messages are delivered again after the stall, and nobody "
	       "excluded us: renewing addresses again");
}

/* ---- SUSPECT ---- */

static bool self_member(const struct core *c, const struct member *m)
{
	return m->nodeid == c->cfg.nodeid && m->pid == c->cfg.pid;
}

/*
 * SUSPECT must be applied by every member alike, so it is sent only when
 * every member that counts can read it: all advertised version 6.  The
 * suspect itself may be unknown (it never sent a STATE: a rogue or a
 * daemon wedged before its first word) but not known older (an older
 * daemon does not heartbeat, and would look silent).
 */
static bool suspect_allowed(const struct core *c, const struct member *target)
{
	if (target->proto_max != 0 && target->proto_max < 6)
		return false;
	for (size_t i = 0; i < c->n_members; i++) {
		const struct member *m = &c->members[i];

		if (m == target || m->excluded)
			continue;
		if (self_member(c, m) ? c->cfg.proto_max < 6 : m->proto_max < 6)
			return false;
	}
	return true;
}

static void send_suspect(struct core *c, struct core_actions *out, struct member *m)
{
	struct wire_small sm = {.value = m->n_msgs, .n_nodes = 1, .nodes = &m->nodeid};
	uint64_t pid = m->pid;
	size_t n = 0;

	sm.incarnations = &pid;
	for (size_t r = 0; r < c->n_res; r++)
		n += c->res[r].owner == m->nodeid || c->res[r].from == m->nodeid;
	if (n) {
		sm.addrs = calloc(n, sizeof(*sm.addrs));
		if (sm.addrs == NULL) {
			c->err = -ENOMEM;
			return;
		}
		for (size_t r = 0; r < c->n_res; r++)
			if (c->res[r].owner == m->nodeid || c->res[r].from == m->nodeid)
				sm.addrs[sm.n_addrs++] = c->res[r].addr;
	}
	m->suspect_sent = true;
	qb_log(LOG_WARNING, "node %" PRIu32 " (pid %" PRIu32 ") has sent nothing for %" PRIu64
	       " ms while the ring delivers: suspecting its daemon", m->nodeid, m->pid,
	       c->last_self_ms - m->last_ms);
	if (wire_encode_small(&c->wb, 6, WIRE_SUSPECT, c->token, c->cfg.incarnation, &sm) == 0)
		core_emit_send(c, out);
	free(sm.addrs);
}

/* What a suspect held, as the SUSPECT that excluded it says: its bricks wait
 * for fencing.  Made once the exclusive set is the replicated one (at once
 * outside a round, at round completion inside one). */
void core_live_suspect_records(struct core *c)
{
	for (size_t i = 0; i < c->n_members; i++) {
		struct member *m = &c->members[i];
		size_t w = 0;

		if (!m->suspected || m->n_susp_addrs == 0)
			continue;
		for (size_t k = 0; k < m->n_susp_addrs; k++)
			if (core_is_excl(c, &m->susp_addrs[k]))
				m->susp_addrs[w++] = m->susp_addrs[k];
		if (w && c->proto >= 3 &&
		    core_absent_record(c, m->nodeid, WIRE_ABSENT_FENCE, false, m->susp_addrs, w) < 0)
			c->err = -ENOMEM;
		free(m->susp_addrs);
		m->susp_addrs = NULL;
		m->n_susp_addrs = 0;
	}
}

void core_live_apply_suspect(struct core *c, struct core_actions *out, struct member *sender,
			     const struct wire_hdr *h, const struct wire_small *sm)
{
	struct member *x;
	uint64_t until;

	if (h->token != c->token || sm->n_nodes != 1) {
		c->ctr.dropped_stale++;
		return;
	}
	x = core_member_find(c, sm->nodes[0], (uint32_t)sm->incarnations[0]);
	if (x == NULL || x->excluded || x == sender)
		return;
	if (x->n_msgs > sm->value)
		return;	/* it spoke after the sender last looked: void everywhere */
	/* The same replicated change on every member, the suspect included: it
	 * is out, and its resources are placed elsewhere. */
	x->excluded = true;
	x->suspected = true;
	c->ctr.suspected++;
	if (sm->n_addrs) {
		x->susp_addrs = malloc(sm->n_addrs * sizeof(*x->susp_addrs));
		if (x->susp_addrs == NULL) {
			c->err = -ENOMEM;
			return;
		}
		memcpy(x->susp_addrs, sm->addrs, sm->n_addrs * sizeof(*x->susp_addrs));
		x->n_susp_addrs = sm->n_addrs;
	}
	if (self_member(c, x)) {
		/* what we still hold goes now, said in RELEASED; then we rejoin */
		qb_log(LOG_CRIT, "node %" PRIu32 " found us silent while the ring delivered (were we "
		       "stopped?): releasing everything, then rejoining", sender->nodeid);
		c->suspected_self = true;
	} else {
		/* Every member holds off the list the message carries, so a
		 * joiner in the middle of a round waits as long as the others. */
		uint64_t probe;

		/* its corosync is in the ring, so it is not cut off: once the
		 * lifetime of its last renewal has run out, only the kernel's
		 * lateness is left to wait for, and a probe can see past it */
		until = lifetime_bound(c, x->nodeid, peer_last(c, x->nodeid), &probe);
		for (uint32_t k = 0; k < sm->n_addrs; k++)
			holdoff_add(c, &sm->addrs[k], x->nodeid, until, probe, 0);
		qb_log(LOG_WARNING, "node %" PRIu32 " (pid %" PRIu32 ") is unresponsive (suspected by "
		       "node %" PRIu32 "): its %" PRIu32 " resource%s move once %s", x->nodeid, x->pid,
		       sender->nodeid, sm->n_addrs, sm->n_addrs == 1 ? "" : "s",
		       until == UINT64_MAX ? "it leaves (its addresses are permanent)"
					   : "their lifetime there has surely run out");
	}
	if (c->round_done) {
		core_live_suspect_records(c);
		core_replace(c, out, false, CORE_WHY_UNRESPONSIVE);
	} else {
		core_round_check(c, out);
	}
}

/* ---- time ---- */

/* A PING lists what we own and have not brought up yet, so that the others'
 * status says so too (older versions ignore the list).  At most this many:
 * past it, others show the rest up early. */
#define PING_NOT_UP_MAX 1024u
static void send_ping(struct core *c, struct core_actions *out, uint32_t value)
{
	struct res_addr not_up[PING_NOT_UP_MAX];
	struct wire_small sm = {.value = value, .addrs = not_up};

	for (size_t i = 0; i < c->cfg.n_vips && sm.n_addrs < PING_NOT_UP_MAX; i++) {
		uint32_t r = c->lres[i];

		if (r != UINT32_MAX && c->res[r].owner == c->cfg.nodeid && c->lstate[i] != L_HELD)
			not_up[sm.n_addrs++] = c->res[r].addr;
	}
	if (wire_encode_small(&c->wb, 2, WIRE_PING, 0, c->cfg.incarnation, &sm) == 0)
		core_emit_send(c, out);
}

void core_live_step(struct core *c, struct core_actions *out)
{
	uint64_t now = c->now_ms, h = c->cfg.heartbeat_ms;

	if (c->hb_next_ms == 0)
		c->hb_next_ms = now + h;
	/* The heartbeat timer fires every 'h' while we are in a view, so a gap
	 * well past it means this process did not run.  Peers may be excluding
	 * us right now: renew nothing until they have heard us again. */
	if (c->in_view && c->last_step_ms && now - c->last_step_ms > h + h / 2 + 50 &&
	    c->cfg.proto_max >= 2) {
		c->ctr.stalls++;
		if (!c->revalidating)
			qb_log(LOG_WARNING, "this daemon did not run for %" PRIu64 " ms: renewing "
			       "nothing until the others have heard from us", now - c->last_step_ms);
		c->revalidating = true;
		c->reval_nonce++;
		if (c->reval_nonce == 0)
			c->reval_nonce = 1;
		send_ping(c, out, c->reval_nonce);
		c->hb_next_ms = now + h;
	}
	c->last_step_ms = now;
}

/* Whether silence from corosync means this node is cut off: only a member
 * of a cluster that heartbeats (version 2) can tell. */
static bool quiet_watch(const struct core *c)
{
	return c->in_view && c->had_round && c->proto >= 2 && !c->cluster_lost && !c->hung;
}

static bool renew_ok(const struct core *c)
{
	return !c->revalidating && !c->suspected_self && !core_dropping_all(c);
}

void core_live_tick(struct core *c, struct core_actions *out)
{
	uint64_t now = c->now_ms;

	holdoff_expire(c);
	if (quiet_watch(c) && now - c->last_any_ms > c->cfg.quiet_limit_ms) {
		qb_log(LOG_CRIT, "corosync has delivered nothing for %" PRIu64 " ms, longer than "
		       "any membership change it survives (%" PRIu32 " ms): this node is cut off, "
		       "releasing everything until it delivers again", now - c->last_any_ms,
		       c->cfg.quiet_limit_ms);
		c->hung = true;
		c->hang_ring = c->ring;
		c->ctr.self_releases++;
	}
	if (now >= c->hb_next_ms) {
		c->hb_next_ms = now + c->cfg.heartbeat_ms;
		/* Before the first round the cluster's version is unknown: a
		 * PING (version 2) is still sent, so peers do not take a joiner
		 * whose round waits for someone else for a silent one. */
		if (c->in_view && !c->cluster_lost && c->cfg.proto_max >= 2)
			send_ping(c, out, c->hang_unsure && !c->hang_ping_back ? c->hang_nonce
				  : c->revalidating ? c->reval_nonce : 0);
		if (renew_ok(c)) {
			struct core_action a = {.type = CORE_ACT_RENEW};

			core_act(c, out, &a);
		}
	}
	/* Our PING came back but no peer speaks (their daemons may be frozen
	 * too).  Had it gone round a ring the others left, corosync would
	 * have formed a new one within the quiet limit of it, delivering
	 * nothing meanwhile; ours keeps delivering, so the ring is the one
	 * we had, and silent peers are the liveness check's business. */
	if (c->hang_unsure && c->hang_ping_back && now - c->hang_ping_ms >= c->cfg.quiet_limit_ms &&
	    now - c->last_any_ms <= c->cfg.gap_ms) {
		qb_log(LOG_NOTICE, "no new ring %" PRIu64 " ms after our PING came back, and the "
		       "ring delivers: it outlived corosync's hang, serving again",
		       now - c->hang_ping_ms);
		hang_resolved(c);
	}
	/* cut off, every peer looks silent: that is our silence, not theirs */
	if (!c->in_view || c->wait_totem || c->cfg.liveness_ms == 0 || c->proto < 6 ||
	    core_live_cut_off(c))
		return;
	for (size_t i = 0; i < c->n_members; i++) {
		struct member *m = &c->members[i];

		if (self_member(c, m) || m->excluded || m->suspect_sent ||
		    !core_member_silent(c, m) || !suspect_allowed(c, m))
			continue;
		send_suspect(c, out, m);
	}
}

uint64_t core_live_next(const struct core *c, uint64_t next)
{
	if (c->hb_next_ms < next)
		next = c->hb_next_ms;
	if (quiet_watch(c) && c->last_any_ms + c->cfg.quiet_limit_ms + 1 < next)
		next = c->last_any_ms + c->cfg.quiet_limit_ms + 1;
	if (c->hang_unsure && c->hang_ping_back && c->hang_ping_ms + c->cfg.quiet_limit_ms < next)
		next = c->hang_ping_ms + c->cfg.quiet_limit_ms;
	for (size_t i = 0; i < c->n_holdoffs; i++) {
		const struct holdoff *h = &c->holdoffs[i];

		if (h->until_ms > c->now_ms && h->until_ms < next)
			next = h->until_ms;
		if (c->cfg.expiry_probe && h->probe_ms > c->now_ms && h->probe_ms < next)
			next = h->probe_ms;
	}
	return next;
}

void core_live_free(struct core *c)
{
	free(c->peers);
	c->peers = NULL;
	c->n_peers = 0;
	free(c->holdoffs);
	c->holdoffs = NULL;
	c->n_holdoffs = 0;
}
