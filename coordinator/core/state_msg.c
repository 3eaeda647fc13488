/*
 * Delivered messages: checked, then either held back for the round in
 * progress or applied in delivery order.  Every effect here is a function of
 * the ordered stream alone, so all members apply the same changes at the
 * same point.
 */
#include "core/state_private.h"

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
			core_replace(c, out, false);
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
			core_replace(c, out, false);
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
			core_replace(c, out, true);
		}
		break;
	default:
		break;
	}
	wire_small_clear(&sm);
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
	if (m->incarnation == 0)
		m->incarnation = h.incarnation;
	else if (m->incarnation != h.incarnation) {
		log_bad(c, nodeid, "incarnation changed without a membership change");
		return;
	}
	if (self && h.type == WIRE_PING) {
		struct wire_small sm;

		if (wire_decode_small(buf, size, &sm) == 0)
			core_live_self_ping(c, sm.value);
		wire_small_clear(&sm);
		return;
	}
	if (m->excluded) {
		/* Out of the cluster until it rejoins; but a suspect that woke up
		 * and let go says so, and nobody need wait for it any longer. */
		struct wire_small sm;

		if (h.type == WIRE_RELEASED && wire_decode_small(buf, size, &sm) == 0) {
			core_live_released(c, nodeid, sm.addrs, sm.n_addrs);
			wire_small_clear(&sm);
		}
		return;
	}
	if (h.type == WIRE_PING)
		return;	/* it only had to be delivered */
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
