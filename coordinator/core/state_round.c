/*
 * Rounds and the replicated resource table.
 *
 * A round exists to make every member compute the same table from the same
 * inputs.  Its inputs are the STATE snapshots delivered for the current view
 * token, plus EXCLUDE messages for members that stayed silent; nothing a
 * node knows only locally enters the result.  A node's local knowledge (its
 * previous table) only shapes what it *sends*: the absent records and the
 * ownership claims in its own STATE.
 *
 * Who held what before the change is taken from the claims in the snapshots:
 * a member that says it holds a resource is its previous owner (lowest nodeid
 * wins if two say so, after a two_node split-brain; the others release); a
 * resource being released must wait for RELEASED from its releaser; a member
 * that was assigned a resource but had not taken it yet (quorum was being
 * re-established) keeps it as a weaker hint.  That makes stickiness follow
 * the kernel's truth rather than anyone's memory, and a daemon restarted in
 * place, which adopts its addresses, keeps them.
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

/* ---- building our own STATE ---- */

struct namelist {
	char (*v)[CHORUS_NAME_MAX];
	size_t n;
};

static uint16_t names_intern(struct namelist *nl, const char *name, int *err)
{
	void *p;

	for (size_t i = 0; i < nl->n; i++)
		if (strcmp(nl->v[i], name) == 0)
			return (uint16_t)i;
	if (nl->n >= WIRE_MAX_POOLS) {
		*err = -EMSGSIZE;
		return 0;
	}
	p = realloc(nl->v, (nl->n + 1) * sizeof(*nl->v));
	if (p == NULL) {
		*err = -ENOMEM;
		return 0;
	}
	nl->v = p;
	snprintf(nl->v[nl->n], CHORUS_NAME_MAX, "%s", name);
	return (uint16_t)nl->n++;
}

/* Fill 'st' (zeroed by the caller) from this node's point of view.  Arrays in
 * 'st' are allocated; release with wire_state_clear(). */
int core_build_state(struct core *c, struct wire_state *st)
{
	struct namelist nl = {0};
	int err = 0;
	size_t n_owned = 0;

	st->proto_max = c->cfg.proto_max;
	st->node_flags = (c->leaving ? WIRE_NODE_LEAVING : 0) |
			 (c->health_confirm_at ? WIRE_NODE_UNSERV_PENDING : 0);
	st->health = c->health;
	st->admin.generation = c->admin.generation;
	st->admin.maintenance = c->admin.maintenance;
	if (c->admin.n_standby) {
		st->admin.standby = malloc(c->admin.n_standby * sizeof(uint32_t));
		if (st->admin.standby == NULL)
			return -ENOMEM;
		memcpy(st->admin.standby, c->admin.standby, c->admin.n_standby * sizeof(uint32_t));
		st->admin.n_standby = (uint32_t)c->admin.n_standby;
	}
	if (c->admin.n_pins) {
		st->admin.pins = malloc(c->admin.n_pins * sizeof(*st->admin.pins));
		if (st->admin.pins == NULL)
			return -ENOMEM;
		memcpy(st->admin.pins, c->admin.pins, c->admin.n_pins * sizeof(*st->admin.pins));
		st->admin.n_pins = (uint32_t)c->admin.n_pins;
	}

	if (c->cfg.n_vips) {
		st->decl = calloc(c->cfg.n_vips, sizeof(*st->decl));
		st->owned = calloc(c->cfg.n_vips, sizeof(*st->owned));
		if (st->decl == NULL || st->owned == NULL)
			return -ENOMEM;
	}
	for (size_t i = 0; i < c->cfg.n_vips; i++) {
		uint8_t fl = 0;
		uint32_t r = c->lres[i];

		st->decl[i].addr = c->vips[i].addr;
		st->decl[i].pool = names_intern(&nl, c->vips[i].pool, &err);
		if (c->lstate[i] == L_HELD || c->lstate[i] == L_ACQUIRING)
			fl |= WIRE_OWN_HELD;
		else if (c->lstate[i] == L_RELEASING)
			fl |= WIRE_OWN_RELEASING;
		if (r != UINT32_MAX && c->res[r].owner == c->cfg.nodeid)
			fl |= WIRE_OWN_ASSIGNED;
		if (fl) {
			st->owned[n_owned].addr = c->vips[i].addr;
			st->owned[n_owned].flags = fl;
			n_owned++;
		}
	}
	st->n_decl = (uint32_t)c->cfg.n_vips;
	st->n_owned = (uint32_t)n_owned;
	for (size_t i = 0; i < c->cfg.n_vips; i++)
		st->n_unserv += c->lunserv[i];
	if (st->n_unserv) {
		size_t k = 0;

		st->unserv = calloc(st->n_unserv, sizeof(*st->unserv));
		if (st->unserv == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < c->cfg.n_vips; i++)
			if (c->lunserv[i])
				st->unserv[k++] = c->vips[i].addr;
	}

	if (c->n_absent) {
		st->absent = calloc(c->n_absent, sizeof(*st->absent));
		st->fence = calloc(c->n_absent, sizeof(*st->fence));
		if (st->absent == NULL || st->fence == NULL)
			err = -ENOMEM;
	}
	for (size_t i = 0; err == 0 && i < c->n_absent; i++) {
		const struct absent *a = &c->absent[i];
		bool fence = a->kind == WIRE_ABSENT_FENCE;
		struct wire_absent *w = fence ? &st->fence[st->n_fence++] : &st->absent[st->n_absent++];

		w->nodeid = a->nodeid;
		w->kind = a->kind;
		w->since = a->since;
		w->n_res = (uint32_t)a->n_res;
		if (a->n_res == 0)
			continue;
		w->res = calloc(a->n_res, sizeof(*w->res));
		if (w->res == NULL) {
			w->n_res = 0;
			err = -ENOMEM;
			break;
		}
		for (size_t k = 0; k < a->n_res; k++) {
			w->res[k].addr = a->res[k].addr;
			w->res[k].pool = names_intern(&nl, a->res[k].pool, &err);
		}
	}
	if (err == 0)
		err = core_excl_build(c, st);
	if (err == 0)
		err = core_sets_build(c, st);
	if (err == 0)
		err = core_known_build(c, st);
	if (err == 0)
		err = core_holdoff_build(c, st);
	core_timing_build(c, st);
	st->pools = nl.v;
	st->n_pools = (uint32_t)nl.n;
	return err;
}

/* ---- round start ---- */

uint64_t core_view_token(const struct core *c)
{
	uint64_t h = core_fnv_u64(FNV_OFFSET, c->ring.nodeid);
	uint64_t base = c->totem_cc;

	h = core_fnv_u64(h, c->ring.seq);
	for (size_t i = 0; i < c->n_members; i++) {
		h = core_fnv_u64(h, ((uint64_t)c->members[i].nodeid << 32) | c->members[i].pid);
		if (c->members[i].join_cc > base)
			base = c->members[i].join_cc;
	}
	/*
	 * A process that joins and leaves again inside one ring gives the same
	 * ring and members twice; a STATE sent for the first instance can be
	 * ordered after both confchgs and would pass for the second.  So count
	 * the classic confchgs since the later of the ring change and the
	 * newest member's join: every member has seen exactly those.
	 */
	h = core_fnv_u64(h, c->cc_count - base);
	/* 0 means "not bound to a view" on the wire */
	return h ? h : 1;
}

static void send_state(struct core *c, struct core_actions *out)
{
	struct wire_state st;
	int rc;

	memset(&st, 0, sizeof(st));
	rc = core_build_state(c, &st);
	if (rc == 0)
		rc = wire_encode_state(&c->wb, WIRE_VERSION_MIN, c->token, c->cfg.incarnation, &st);
	wire_state_clear(&st);
	if (rc < 0) {
		qb_log(LOG_ERR, "cannot build STATE " QB_XS " rc=%d", rc);
		if (rc == -ENOMEM)
			c->err = rc;
		return;
	}
	core_emit_send(c, out);
}

void core_fast_clear(struct core *c)
{
	free(c->fast_addr);
	free(c->fast_owner);
	c->fast_addr = NULL;
	c->fast_owner = NULL;
	c->n_fast = 0;
	c->fast_placed = false;
	c->fast_ok = false;
}

/*
 * Members only left a view whose round had completed.  CPG delivered the
 * same messages to every survivor before the change, so all hold the same
 * table: each places the lost members' resources from it now, the same
 * way, and takes what it gets as soon as quorum and the hold-offs allow
 * (local_reconcile), without waiting for the round.  The round still runs
 * and confirms; what this placement gave is accounted as held there (the
 * STATE went out before the takes), so a round that decides otherwise
 * hands over instead of putting an address on two nodes.  The departures
 * were recorded just before (hold-offs, absent records): the same inputs
 * as the round's.
 */
static void round_fast(struct core *c)
{
	size_t n = 0;

	uint32_t *was = NULL;

	core_fast_clear(c);
	if (c->n_res) {
		was = malloc(c->n_res * sizeof(*was));
		c->fast_addr = malloc(c->n_res * sizeof(*c->fast_addr));
		c->fast_owner = malloc(c->n_res * sizeof(*c->fast_owner));
		if (was == NULL || c->fast_addr == NULL || c->fast_owner == NULL) {
			/* without the record the round could not account the
			 * takes: take nothing before it */
			free(was);
			core_fast_clear(c);
			c->err = -ENOMEM;
			return;
		}
	}
	for (size_t r = 0; r < c->n_res; r++)
		was[r] = c->res[r].from ? c->res[r].from : c->res[r].owner;
	c->fast_placed = true;
	c->ctr.fast_changes++;
	core_replace_table(c, false, CORE_WHY_MEMBERSHIP);
	/* Only the lost nodes' addresses.  Whatever else this placement moved
	 * waits for the round, which may see what only a STATE tells (a health
	 * report still pending, a daemon shutting down, an address a member
	 * still releases) and decide otherwise; and so do bricks, which wait
	 * for fencing and take seconds to start anyway. */
	for (size_t r = 0; r < c->n_res; r++) {
		if (c->res[r].owner == 0 || !core_is_member_nodeid(c, c->res[r].owner) ||
		    was[r] == 0 || core_is_member_nodeid(c, was[r]) || c->res[r].excl)
			continue;
		c->fast_addr[n] = c->res[r].addr;
		c->fast_owner[n] = c->res[r].owner;
		n++;
	}
	c->n_fast = n;
	free(was);
	qb_log(LOG_NOTICE, "members only left: %zu resource%s placed from the table at once, "
	       "round %016" PRIx64 " confirms", n, n == 1 ? "" : "s", c->token);
}

uint32_t core_fast_owner(const struct core *c, const struct res_addr *addr)
{
	size_t lo = 0, hi = c->n_fast;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = res_addr_cmp(&c->fast_addr[mid], addr);

		if (d == 0)
			return c->fast_owner[mid];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

void core_round_start(struct core *c, struct core_actions *out)
{
	struct queued *q = c->queue;
	size_t nq = c->n_queue;

	c->token = core_view_token(c);
	c->round_active = true;
	c->epoch = 0;
	c->round_done = false;
	c->exclude_sent = false;
	c->timeout_extended = false;
	c->round_deadline_ms = c->now_ms + c->cfg.round_timeout_ms;
	/* A member excluded for silence stays excluded (and is not waited
	 * for) until it rejoins as a new member. */
	for (size_t i = 0; i < c->n_members; i++) {
		c->members[i].have_state = false;
		wire_state_clear(&c->members[i].snap);
	}
	for (size_t i = 0; i < c->n_departed; i++) {
		uint32_t id = c->departed[i];
		bool ring = core_in_totem(c, id);

		if (core_is_member_nodeid(c, id))
			continue;
		/* local: we do not take what it may still hold too early */
		core_live_departed(c, id, !ring);
		if (!ring && c->proto < 3)
			continue;
		if (core_absent_record(c, id, ring ? WIRE_ABSENT_GRACE : WIRE_ABSENT_FENCE, true,
				       NULL, 0) < 0)
			c->err = -ENOMEM;
	}
	c->n_departed = 0;
	c->n_clean = 0;
	c->gap_since_cc = false;
	core_absent_prune(c);
	qb_log(LOG_INFO, "round %016" PRIx64 " started with %zu members", c->token,
	       c->n_members);
	if (c->fast_ok) {
		c->fast_ok = false;
		round_fast(c);
	}
	for (size_t i = 0; i < c->n_absent; i++)
		c->absent[i].in_state = true;	/* core_absent_merge() */
	send_state(c, out);

	/* Messages that arrived while the token was unknown: round messages are
	 * judged now, the rest wait for the round to complete. */
	c->queue = NULL;
	c->n_queue = 0;
	for (size_t i = 0; i < nq; i++) {
		struct wire_hdr h;
		struct member *m = core_member_find(c, q[i].nodeid, q[i].pid);

		if (wire_decode_hdr(q[i].buf, q[i].size, &h) == 0 &&
		    (h.type == WIRE_STATE || h.type == WIRE_EXCLUDE)) {
			if (m != NULL)
				core_round_deliver(c, out, m, &h, q[i].buf, q[i].size);
			free(q[i].buf);
			continue;
		}
		{
			struct queued *v = realloc(c->queue, (c->n_queue + 1) * sizeof(*v));

			if (v == NULL) {
				free(q[i].buf);
				c->err = -ENOMEM;
				continue;
			}
			c->queue = v;
			c->queue[c->n_queue++] = q[i];
		}
	}
	free(q);
}

/* ---- round messages ---- */

void core_round_deliver(struct core *c, struct core_actions *out, struct member *m,
			const struct wire_hdr *h, const void *buf, size_t size)
{
	if (h->token != c->token || !c->round_active) {
		c->ctr.dropped_stale++;
		return;
	}
	if (h->type == WIRE_STATE) {
		int rc;

		if (m->have_state || m->excluded)
			return;
		rc = wire_decode_state(buf, size, &m->snap);
		if (rc < 0) {
			if (rc == -ENOMEM)
				c->err = rc;
			c->ctr.dropped_bad++;
			qb_log(LOG_WARNING, "malformed STATE from node %" PRIu32, m->nodeid);
			return;
		}
		m->have_state = true;
		m->proto_max = m->snap.proto_max;
		if (m->snap.has_timing) {
			struct peer *p = core_peer(c, m->nodeid);

			if (p != NULL) {
				p->has_timing = true;
				p->timing = m->snap.timing;
			}
		}
		m->leaving = (m->snap.node_flags & WIRE_NODE_LEAVING) != 0;
		m->health = m->snap.health;
		{
			/* a pending list is confirmed by a later HEALTH; until then
			 * nothing is confirmed for it (the same on every member) */
			bool pending = (m->snap.node_flags & WIRE_NODE_UNSERV_PENDING) != 0;

			if (core_member_set_unserv(m, m->snap.unserv, m->snap.n_unserv, true) < 0 ||
			    (pending && core_member_set_unserv(m, NULL, 0, true) < 0) ||
			    (pending && core_member_set_unserv(m, m->snap.unserv, m->snap.n_unserv,
							       false) < 0))
				c->err = -ENOMEM;
		}
		core_round_check(c, out);
		return;
	}
	/* EXCLUDE: one silent member and what the sender believes it holds. */
	{
		struct wire_small sm;
		struct member *x;

		if (wire_decode_small(buf, size, &sm) < 0 || sm.n_nodes != 1) {
			wire_small_clear(&sm);
			c->ctr.dropped_bad++;
			return;
		}
		x = core_member_find(c, sm.nodes[0], (uint32_t)sm.incarnations[0]);
		if (x != NULL && !x->have_state && !x->excluded) {
			if (x->nodeid == c->cfg.nodeid && x->pid == c->cfg.pid) {
				/* We were too slow and the others moved on without
				 * us; our holdings stay accounted to us for the
				 * grace, so come back as a new member. */
				struct core_action a = {.type = CORE_ACT_REJOIN};

				wire_small_clear(&sm);
				qb_log(LOG_WARNING, "excluded from round for silence, rejoining");
				core_leave_view(c);
				core_act(c, out, &a);
				return;
			}
			qb_log(LOG_WARNING, "node %" PRIu32 " excluded from round: no STATE in "
			       "time", x->nodeid);
			x->excluded = true;
			c->ctr.excluded++;
			if (core_in_totem(c, x->nodeid) &&
			    core_absent_record(c, x->nodeid, WIRE_ABSENT_GRACE, false, sm.addrs,
					       sm.n_addrs) < 0)
				c->err = -ENOMEM;
			core_round_check(c, out);
		}
		wire_small_clear(&sm);
	}
}

void core_round_timeout(struct core *c, struct core_actions *out)
{
	/* A node that never completed a round knows nobody's holdings, so the
	 * EXCLUDE it would send carries none and the silent member's addresses
	 * would be re-placed at once.  Give members that do know a head start. */
	if (!c->had_round && !c->timeout_extended) {
		c->timeout_extended = true;
		c->round_deadline_ms += c->cfg.round_timeout_ms;
		return;
	}
	c->exclude_sent = true;
	for (size_t i = 0; i < c->n_members; i++) {
		struct member *m = &c->members[i];
		struct wire_small sm = {0};
		uint64_t pid = m->pid;
		size_t n = 0;

		if (m->have_state || m->excluded)
			continue;
		if (m->nodeid == c->cfg.nodeid && m->pid == c->cfg.pid) {
			/* Our own STATE never came back (dropped at a sync
			 * boundary, docs/corosync.md §4): send it again. */
			send_state(c, out);
			continue;
		}
		sm.n_nodes = 1;
		sm.nodes = &m->nodeid;
		sm.incarnations = &pid;
		for (size_t r = 0; r < c->n_res; r++)
			if (c->res[r].owner == m->nodeid || c->res[r].from == m->nodeid)
				n++;
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
		core_send_small(c, out, WIRE_EXCLUDE, c->token, &sm);
		free(sm.addrs);
	}
}

static void merge_admin(struct core *c)
{
	const struct wire_admin *best = NULL;

	for (size_t i = 0; i < c->n_members; i++) {
		const struct member *m = &c->members[i];

		if (!m->have_state)
			continue;
		if (best == NULL || m->snap.admin.generation > best->generation)
			best = &m->snap.admin;
	}
	/* Snapshots only, like the absent records (core_absent_merge): ours
	 * may be a STATE sent for an earlier instance of this view, and a
	 * newer generation of our own would then be ours alone. */
	if (best == NULL)
		return;
	core_admin_clear(&c->admin);
	c->admin.generation = best->generation;
	c->admin.maintenance = best->maintenance != 0;
	if (best->n_standby) {
		c->admin.standby = malloc(best->n_standby * sizeof(uint32_t));
		if (c->admin.standby == NULL) {
			c->err = -ENOMEM;
			return;
		}
		memcpy(c->admin.standby, best->standby, best->n_standby * sizeof(uint32_t));
		c->admin.n_standby = best->n_standby;
	}
	if (best->n_pins) {
		c->admin.pins = malloc(best->n_pins * sizeof(*c->admin.pins));
		if (c->admin.pins == NULL) {
			c->err = -ENOMEM;
			return;
		}
		memcpy(c->admin.pins, best->pins, best->n_pins * sizeof(*c->admin.pins));
		c->admin.n_pins = best->n_pins;
	}
}

/*
 * With failback "delay", every completed round (re)starts a local timer on
 * the lowest member; its REBALANCE, delivered in order, applies the
 * failback on every member at the same point.  Restarting is the point: a
 * node that returned gets addresses back only once it has stayed for the
 * delay (chorus.json(5)), so a flapping node does not bounce clients.  Left
 * running from an earlier round, the timer counted from the loss, and a
 * node back just before it fired got its addresses back at once.
 */
static void maybe_arm_rebalance(struct core *c)
{
	if (c->cfg.failback != CORE_FAILBACK_DELAY || c->n_members == 0)
		return;
	if (c->members[0].nodeid != c->cfg.nodeid) {
		c->rebalance_armed = false;	/* the lowest member sends it now */
		return;
	}
	c->rebalance_armed = true;
	c->rebalance_at_ms = c->now_ms + c->cfg.failback_delay_ms;
}

/*
 * The table index of every claim of every member complete_round() reads
 * (STATE in hand, a slot), in member order, -1 where the table lacks it:
 * its walks read each claim up to three times.  Claims come in the
 * sender's config order, usually the table's, so each search starts after
 * the previous hit.
 */
static int claims_index(const struct core *c, long **out)
{
	size_t n = 0, ci = 0;

	for (size_t i = 0; i < c->n_members; i++)
		if (c->members[i].have_state && core_slot_of(c, c->members[i].nodeid) >= 0)
			n += c->members[i].snap.n_owned;
	*out = malloc((n + 1) * sizeof(**out));
	if (*out == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_members; i++) {
		const struct member *m = &c->members[i];
		size_t hint = 0;

		if (!m->have_state || core_slot_of(c, m->nodeid) < 0)
			continue;
		for (uint32_t k = 0; k < m->snap.n_owned; k++)
			(*out)[ci++] = core_res_find_next(c, &m->snap.owned[k].addr, &hint);
	}
	return 0;
}

/* Who the leave-only placement gave each table entry to (0: nobody), from
 * one walk of the two sorted lists rather than a search per entry. */
static int fast_owners(const struct core *c, uint32_t **out)
{
	size_t k = 0;

	*out = calloc(c->n_res + 1, sizeof(**out));
	if (*out == NULL)
		return -ENOMEM;
	for (size_t r = 0; r < c->n_res; r++) {
		while (k < c->n_fast && res_addr_cmp(&c->fast_addr[k], &c->res[r].addr) < 0)
			k++;
		if (k < c->n_fast && res_addr_cmp(&c->fast_addr[k], &c->res[r].addr) == 0)
			(*out)[r] = c->fast_owner[k];
	}
	return 0;
}

static void complete_round(struct core *c, struct core_actions *out)
{
	uint32_t *prev = NULL, *holder = NULL;
	bool *fixed = NULL;
	uint32_t *releasing = NULL, *fast = NULL;
	long *claim_r = NULL;
	uint16_t proto = c->cfg.proto_max;
	struct queued *q;
	size_t nq;

	c->round_active = false;
	c->round_done = true;
	c->had_round = true;
	c->ctr.rounds_completed++;

	for (size_t i = 0; i < c->n_members; i++)
		if (c->members[i].have_state && c->members[i].snap.proto_max < proto)
			proto = c->members[i].snap.proto_max;
	if (proto >= WIRE_VERSION_MIN)
		c->proto = proto;

	merge_admin(c);
	if (core_excl_merge(c) < 0 || core_sets_merge(c) < 0 || core_known_merge(c) < 0)
		c->err = -ENOMEM;
	core_live_suspect_records(c);	/* needs the merged exclusive set */
	core_holdoff_merge(c);
	core_absent_merge(c);
	core_absent_unseen(c);
	core_load_round_reset(c);
	if (c->err || core_build_table(c) < 0) {
		c->err = -ENOMEM;
		return;
	}

	prev = malloc((c->n_res + 1) * sizeof(*prev));
	holder = calloc(c->n_res + 1, sizeof(*holder));
	releasing = calloc(c->n_res + 1, sizeof(*releasing));
	fixed = calloc(c->n_res + 1, sizeof(*fixed));
	if (prev == NULL || holder == NULL || releasing == NULL || fixed == NULL) {
		c->err = -ENOMEM;
		goto out;
	}
	for (size_t r = 0; r < c->n_res; r++)
		prev[r] = PLACE_NONE;

	/* Declarations and claims from the snapshots, members in nodeid order
	 * so "lowest nodeid wins" falls out of first-come.  A claim the last
	 * assignment backs (held and assigned) beats one it does not: a node
	 * that crashed with corosync, came back before its addresses' lifetime
	 * ran out and found them still in its kernel must not take them back
	 * from the survivors that hold them by assignment.  (A daemon restarted
	 * in place is the only claimant: its peers held its addresses for it.)
	 */
	/* (The declarations' slots came with the table: core_build_table().)
	 * Each claim is looked up once, into 'claim_r', for the three walks. */
	if (claims_index(c, &claim_r) < 0) {
		c->err = -ENOMEM;
		goto out;
	}
	for (int pass = 0; pass < 2; pass++) {
		size_t ci = 0;

		for (size_t i = 0; i < c->n_members; i++) {
			const struct member *m = &c->members[i];
			long s = core_slot_of(c, m->nodeid);

			if (!m->have_state || s < 0)
				continue;
			for (uint32_t k = 0; k < m->snap.n_owned; k++) {
				const struct wire_owned *o = &m->snap.owned[k];
				long r = claim_r[ci++];
				bool backed = (o->flags & WIRE_OWN_ASSIGNED) != 0;

				if (r < 0)
					continue;
				if (o->flags & WIRE_OWN_HELD) {
					if (holder[r] == 0 && backed == (pass == 0)) {
						holder[r] = m->nodeid;
						prev[r] = (uint32_t)s;
					}
				} else if (pass == 0 && (o->flags & WIRE_OWN_RELEASING)) {
					if (releasing[r] == 0)
						releasing[r] = m->nodeid;
				}
			}
		}
	}
	/* Weaker hint: assigned but not yet taken. */
	for (size_t i = 0, ci = 0; i < c->n_members; i++) {
		const struct member *m = &c->members[i];
		long s = core_slot_of(c, m->nodeid);

		if (!m->have_state || s < 0)
			continue;
		for (uint32_t k = 0; k < m->snap.n_owned; k++) {
			long r = claim_r[ci++];

			if (r >= 0 && prev[r] == PLACE_NONE && holder[r] == 0 &&
			    (m->snap.owned[k].flags & WIRE_OWN_ASSIGNED))
				prev[r] = (uint32_t)s;
		}
	}
	for (size_t i = 0; i < c->n_absent; i++) {
		long s = core_slot_of(c, c->absent[i].nodeid);

		for (size_t k = 0; k < c->absent[i].n_res && s >= 0; k++) {
			long r = core_res_find(c, &c->absent[i].res[k].addr);

			if (r >= 0 && holder[r] == 0) {
				prev[r] = (uint32_t)s;
				fixed[r] = true;
			}
		}
	}
	for (size_t r = 0; r < c->n_res; r++) {
		if (holder[r] == 0 && releasing[r] != 0)
			holder[r] = releasing[r];
		c->res[r].from = 0;
	}
	/* What the leave-only placement gave may have been taken after its
	 * taker's STATE went out: count it as held there.  Every member ran
	 * that placement at the same point, so all count the same. */
	if (c->fast_placed && fast_owners(c, &fast) < 0) {
		c->err = -ENOMEM;
		goto out;
	}
	for (size_t r = 0; c->fast_placed && r < c->n_res; r++) {
		uint32_t f = fast[r];
		long s = f ? core_slot_of(c, f) : -1;

		if (f == 0 || holder[r] != 0 || !core_is_member_nodeid(c, f))
			continue;
		holder[r] = f;
		if (prev[r] == PLACE_NONE && s >= 0)
			prev[r] = (uint32_t)s;
	}
	c->table_why = CORE_WHY_MEMBERSHIP;
	core_run_placement(c, prev, fixed, holder, c->cfg.failback == CORE_FAILBACK_AUTO, NULL);
	if (c->fast_placed) {
		uint64_t differ = 0;

		for (size_t r = 0; r < c->n_res; r++) {
			uint32_t f = fast[r];
			bool moved = f != 0 && core_is_member_nodeid(c, f) && c->res[r].owner != f;

			differ += moved;
			/* taken early, and now to be handed on */
			for (size_t i = 0; moved && f == c->cfg.nodeid && i < c->cfg.n_vips; i++)
				if (c->lstate[i] != L_NONE &&
				    res_addr_cmp(&c->vips[i].addr, &c->res[r].addr) == 0)
					c->ctr.fast_undone++;
		}
		c->ctr.fast_disagree += differ;
		if (differ)
			qb_log(LOG_NOTICE, "round %016" PRIx64 " moved %" PRIu64 " resource%s the "
			       "leave-only placement had given", c->token, differ,
			       differ == 1 ? "" : "s");
		core_fast_clear(c);
	}
	core_map_local(c);
	core_holdoff_unseen(c);
	core_update_digest(c);
	qb_log(LOG_NOTICE, "round %016" PRIx64 " complete: %zu members, %zu resources, "
	       "digest %016" PRIx64, c->token, c->n_members, c->n_res, core_digest_get(c));
	maybe_arm_rebalance(c);
out:
	free(prev);
	free(holder);
	free(releasing);
	free(fixed);
	free(claim_r);
	free(fast);

	/* Messages held back during the round apply now, in delivery order. */
	q = c->queue;
	nq = c->n_queue;
	c->queue = NULL;
	c->n_queue = 0;
	for (size_t i = 0; i < nq; i++) {
		if (c->round_done)
			core_apply_delivery(c, out, q[i].nodeid, q[i].pid, q[i].buf, q[i].size);
		free(q[i].buf);
	}
	free(q);
}

void core_round_check(struct core *c, struct core_actions *out)
{
	if (!c->round_active)
		return;
	for (size_t i = 0; i < c->n_members; i++)
		if (!c->members[i].have_state && !c->members[i].excluded)
			return;
	complete_round(c, out);
}
