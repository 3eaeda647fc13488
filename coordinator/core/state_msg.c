/*
 * Delivered messages: checked, then either held back for the round in
 * progress or applied in delivery order.  Every effect here is a function of
 * the ordered stream alone, so all members apply the same changes at the
 * same point.
 */
#include "core/state_private.h"
#include "core/state_absent.h"
#include "core/state_live.h"
#include "core/state_msg.h"
#include "core/state_table.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

/* ---- deliveries ---- */

static void log_bad(struct core *c, uint32_t nodeid, const char *why)
{
	c->ctr.dropped_bad++;
	/* First few, then one per thousand: a confused peer must not flood
	 * the log (dlm log_retry, OVS VLOG_WARN_RL). */
	if (c->ctr.dropped_bad <= 5 || c->ctr.dropped_bad % 1000 == 0)
		qb_log(LOG_WARNING, "dropped message from node %" PRIu32 ": %s " QB_XS
		       " total=%" PRIu64, nodeid, why, c->ctr.dropped_bad);
}

static int queue_push(struct core *c, uint32_t nodeid, uint32_t pid, const void *buf,
		      size_t size)
{
	struct queued *q;
	uint8_t *copy = malloc(size);

	if (copy == NULL)
		return -ENOMEM;
	q = realloc(c->queue, (c->n_queue + 1) * sizeof(*q));
	if (q == NULL) {
		free(copy);
		return -ENOMEM;
	}
	memcpy(copy, buf, size);
	c->queue = q;
	c->queue[c->n_queue++] = (struct queued){nodeid, pid, copy, size};
	return 0;
}

/*
 * The hold-back budget.
 *
 * While a round is open (or the ring of a new view is not known yet) every
 * message but the round's own waits in c->queue until the round completes,
 * and one silent member keeps a round open for round_timeout_ms.  Unbounded,
 * that let any process that joins the group make every chorusd keep
 * whatever it multicast meanwhile: 1 MB messages as fast as corosync
 * carries them took a daemon from 11 MB to 140 MB in 5 s.
 *
 * What is held is applied later, so the bound must drop exactly the same
 * messages on every member, or one member applies what another dropped and
 * the replicated state splits.  It is therefore a function of the delivered
 * stream alone, never of local memory or time:
 *  - A hold period runs while the machine holds back (wait_totem or
 *    round_active).  Every member of the view enters and leaves that state
 *    at the same points of the stream: a classic confchg (which starts a
 *    round, or the wait for the totem confchg), the totem confchg, the
 *    delivery that completes the round.  Charges start from zero at every
 *    classic confchg (member entries are new, for old members and joiners
 *    alike) and after every completed round (HOLD_PERIOD).
 *  - Every delivered message with a valid header is charged to its sender,
 *    round messages too: a joiner waiting for its first totem confchg
 *    queues STATE where the others apply it at once, and charging every
 *    message alike keeps the charges equal on both.
 *  - A sender whose charges would pass CORE_HOLD_SENDER_MAX, or its fair
 *    share of CORE_HOLD_TOTAL_MAX once all senders together passed that,
 *    is cut: its messages are dropped until the period ends, on every
 *    member, whatever their type.  What is applied of its messages is a
 *    prefix of what it sent, the same prefix everywhere.
 *
 * A chorusd stays far below: in one period it sends a STATE per round
 * (a re-sent one only when the first was never delivered, so never
 * charged), EXCLUDEs and a PING, plus whatever HEALTH, RELEASED, LOAD or
 * ADMIN was in flight at the change.  For 1,000 addresses that is tens of
 * KB, and no message exceeds WIRE_MSG_MAX (1 MB), so even a cluster at the
 * wire's limits stays below CORE_HOLD_SENDER_MAX.  Only a misbehaving
 * member is cut, and dropping even its STATE, RELEASED or ADMIN keeps the
 * members in agreement because all drop the same ones: without its STATE
 * it is excluded as a silent member is, a RELEASED it owes is settled by
 * the next round's snapshots, its operator never sees an ADMIN
 * acknowledged.
 *
 * Held bytes stay below 2 x CORE_HOLD_TOTAL_MAX: the total, plus at most a
 * fair share per sender admitted beyond it.  The fair share is what keeps a
 * flood from starving honest members: a sender under CORE_HOLD_TOTAL_MAX /
 * members is never cut for the total.  (A queue outlives its period only
 * across classic confchgs in a row before their totem confchg, which
 * corosync delivers right behind them; each adds as much again.)
 */
/* Which hold period the machine is in: it changes at every completed round,
 * and member entries (created at every classic confchg) start at zero. */
#define HOLD_PERIOD(c) ((c)->ctr.rounds_completed)

static void hold_log_cut(struct core *c, const struct member *m, size_t total, size_t cost)
{
	c->ctr.hold_cuts++;
	/* once per sender and period, and past the first few only one in 100:
	 * a member joining and leaving in a loop must not flood the log */
	if (c->ctr.hold_cuts <= 10 || c->ctr.hold_cuts % 100 == 0)
		qb_log(LOG_WARNING, "node %" PRIu32 " (pid %" PRIu32 ") passed its budget for "
		       "holding back while a round is open: dropping its messages until the "
		       "round completes " QB_XS " sender_bytes=%zu next=%zu held_total=%zu "
		       "members=%zu cuts=%" PRIu64, m->nodeid, m->pid, m->hold_bytes, cost, total,
		       c->n_members, c->ctr.hold_cuts);
}

/* Charge a delivered message to its sender while the machine holds back.
 * Returns false when it must be dropped (on every member alike). */
static bool hold_admit(struct core *c, struct member *m, size_t size)
{
	size_t cost = size + CORE_HOLD_MSG_COST, total = 0;

	if (!c->wait_totem && !c->round_active)
		return true;
	for (size_t i = 0; i < c->n_members; i++) {
		struct member *x = &c->members[i];

		if (x->hold_period != HOLD_PERIOD(c)) {
			x->hold_period = HOLD_PERIOD(c);
			x->hold_bytes = 0;
			x->hold_cut = false;
		}
		total += x->hold_bytes;
	}
	if (!m->hold_cut && m->hold_bytes + cost <= CORE_HOLD_SENDER_MAX &&
	    (total + cost <= CORE_HOLD_TOTAL_MAX ||
	     m->hold_bytes + cost <= CORE_HOLD_TOTAL_MAX / c->n_members)) {
		m->hold_bytes += cost;
		return true;
	}
	if (!m->hold_cut) {
		m->hold_cut = true;
		hold_log_cut(c, m, total, cost);
	}
	c->ctr.dropped_hold++;
	return false;
}

/*
 * RELEASED answers the placement the sender saw when it let go.  If a later
 * placement in this view touched that resource (say maintenance gave it
 * back to the sender, which took it again), the answer is stale: the sender
 * saw that placement too and will announce again if it still owes the
 * release.  'legacy' senders (before protocol 3) bind nothing.
 */
static void apply_released(struct core *c, uint32_t nodeid, const struct wire_small *sm,
			   bool legacy)
{
	for (uint32_t k = 0; k < sm->n_addrs; k++) {
		long r = core_res_find(c, &sm->addrs[k]);

		if (r < 0 || c->res[r].from != nodeid)
			continue;
		if (!legacy && c->res[r].changed_at > sm->value) {
			c->ctr.dropped_stale++;
			continue;
		}
		c->res[r].from = 0;
	}
	core_update_digest(c);
}

/* Apply a non-STATE message in delivery order.  Called directly outside
 * rounds, and for queued messages once a round completes. */
void core_apply_delivery(struct core *c, struct core_actions *out, uint32_t nodeid, uint32_t pid,
			 const void *buf, size_t size)
{
	struct wire_hdr h;
	struct wire_small sm;
	struct member *m;
	int rc;

	if (wire_decode_hdr(buf, size, &h) < 0 || h.type == WIRE_STATE)
		return;
	if (h.type == WIRE_LOAD) {
		core_load_apply(c, nodeid, &h, buf, size);
		return;
	}
	rc = wire_decode_small(buf, size, &sm);
	if (rc < 0) {
		if (rc == -ENOMEM)
			c->err = rc;
		else
			log_bad(c, nodeid, "malformed body");
		return;
	}
	m = core_member_find(c, nodeid, pid);
	switch (h.type) {
	case WIRE_RELEASED:
		/* token 0: an older sender that does not bind it */
		if (h.token == 0 || h.token == c->token)
			apply_released(c, nodeid, &sm, h.token == 0);
		else
			c->ctr.dropped_stale++;
		break;
	case WIRE_LEAVING:
		if (m != NULL && sm.value == WIRE_LEAVING_CLEAN)
			m->excl_clean = true;
		if (m != NULL && !m->leaving) {
			qb_log(LOG_NOTICE, "node %" PRIu32 " is shutting down, taking over its "
			       "resources", nodeid);
			m->leaving = true;
			core_replace(c, out, false, CORE_WHY_LEAVING);
		}
		break;
	case WIRE_HEALTH:
		if (m != NULL) {
			bool confirmed = (sm.value & WIRE_HEALTH_CONFIRMED) != 0;

			m->health = sm.value & ~WIRE_HEALTH_CONFIRMED;
			if (core_member_set_unserv(m, sm.addrs, sm.n_addrs, confirmed) < 0)
				c->err = -ENOMEM;
			qb_log(LOG_NOTICE, "node %" PRIu32 ": health %s, %" PRIu32 " address%s it "
			       "cannot serve%s", nodeid, m->health ? "FAILED" : "ok", sm.n_addrs,
			       sm.n_addrs == 1 ? "" : "es", confirmed ? "" : " (pending)");
			core_replace(c, out, false, CORE_WHY_HEALTH);
		}
		break;
	case WIRE_GRACE_EXPIRED:
		core_absent_apply_grace(c, out, &sm);
		break;
	case WIRE_FENCED:
		core_absent_apply_fenced(c, out, nodeid, &sm);
		break;
	case WIRE_ADMIN:
		core_admin_apply(c, out, nodeid, &h, &sm);
		break;
	case WIRE_REBALANCE:
		if (h.token == c->token && (sm.value & WIRE_REBALANCE_LOAD)) {
			core_load_rebalance(c, out);
		} else if (h.token == c->token) {
			c->rebalance_armed = false;
			core_replace(c, out, true, CORE_WHY_REBALANCE);
		}
		break;
	default:
		break;
	}
	wire_small_clear(&sm);
}

/*
 * A member excluded for silence is out of the cluster: nothing it says is
 * applied, and rounds do not wait for it.  It comes back by saying something
 * every member can read (a version the cluster speaks, a well-formed body):
 * from that point in the stream, on every member alike, it is a member
 * again, placed at the next round.  A rogue that never says anything valid
 * stays out; a daemon that woke up says something at once.
 */
static bool readmit(struct core *c, struct member *m, const struct wire_hdr *h, const void *buf,
		    size_t size)
{
	struct wire_small sm;
	bool ok;

	if (h->version > c->proto || h->type == WIRE_STATE || h->type == WIRE_LOAD ||
	    h->type == WIRE_CONNS)
		return false;	/* not a reading every member shares */
	ok = wire_decode_small(buf, size, &sm) == 0;
	wire_small_clear(&sm);
	if (!ok)
		return false;
	qb_log(LOG_NOTICE, "node %" PRIu32 " (pid %" PRIu32 ") speaks again: a member again, "
	       "placed from the next round", m->nodeid, m->pid);
	m->excluded = false;
	m->suspected = false;
	return true;
}

void core_on_deliver(struct core *c, struct core_actions *out, const struct core_event *ev)
{
	uint32_t nodeid = ev->u.deliver.nodeid, pid = ev->u.deliver.pid;
	const void *buf = ev->u.deliver.buf;
	size_t size = ev->u.deliver.size;
	bool self = nodeid == c->cfg.nodeid && pid == c->cfg.pid;
	struct wire_hdr h;
	struct member *m;

	if (!c->in_view)
		return;
	/* Counted before anything is judged: every member sees the same
	 * deliveries, whatever each can decode (SUSPECT relies on it). */
	m = core_member_find(c, nodeid, pid);
	core_live_delivered(c, m, true);
	if (self)
		c->last_self_ms = c->now_ms;
	if (wire_decode_hdr(buf, size, &h) < 0) {
		log_bad(c, nodeid, "bad header");
		return;
	}
	if (h.version > c->cfg.proto_max) {
		/* newer than we speak (a rolling upgrade in progress): an older
		 * node cannot read it; the sender only uses such messages once
		 * every member advertised support */
		log_bad(c, nodeid, "protocol version newer than ours");
		return;
	}
	if (m == NULL) {
		c->ctr.dropped_stale++;	/* corosync delivers only members' messages;
					 * this is a process we already saw leave */
		return;
	}
	/* before anything a member may judge from its own history (the
	 * incarnation it learned): the charge must be the same everywhere */
	if (!hold_admit(c, m, size))
		return;
	if (m->incarnation == 0)
		m->incarnation = h.incarnation;
	else if (m->incarnation != h.incarnation) {
		log_bad(c, nodeid, "incarnation changed without a membership change");
		return;
	}
	/* (our own messages too: every member must readmit at one point) */
	if (m->excluded && !readmit(c, m, &h, buf, size))
		return;
	if (h.type == WIRE_PING) {
		struct wire_small sm;

		/* it only had to be delivered; what it lists is for status */
		if (wire_decode_small(buf, size, &sm) == 0) {
			if (self)
				core_live_self_ping(c, sm.value);
			else if (core_member_set_not_up(m, sm.addrs, sm.n_addrs) < 0)
				c->err = -ENOMEM;
			wire_small_clear(&sm);
		}
		return;
	}
	if (h.type == WIRE_RELEASED) {
		/* whatever we wait for from that node it no longer holds */
		struct wire_small sm;

		if (wire_decode_small(buf, size, &sm) == 0)
			core_live_released(c, nodeid, sm.addrs, sm.n_addrs);
		wire_small_clear(&sm);
	}
	if (h.type == WIRE_SUSPECT) {
		struct wire_small sm;
		int rc = wire_decode_small(buf, size, &sm);

		if (rc == 0)
			core_live_apply_suspect(c, out, m, &h, &sm);
		else if (rc == -ENOMEM)
			c->err = rc;
		else
			log_bad(c, nodeid, "malformed SUSPECT");
		wire_small_clear(&sm);
		return;
	}
	/* Until the totem confchg of this change arrives we do not know the
	 * token; hold everything back and sort it out at round start. */
	if (c->wait_totem || (c->round_active && h.type != WIRE_STATE && h.type != WIRE_EXCLUDE)) {
		if (queue_push(c, nodeid, pid, buf, size) < 0)
			c->err = -ENOMEM;
		return;
	}
	if (h.type == WIRE_STATE || h.type == WIRE_EXCLUDE) {
		core_round_deliver(c, out, m, &h, buf, size);
		return;
	}
	core_apply_delivery(c, out, nodeid, pid, buf, size);
}
