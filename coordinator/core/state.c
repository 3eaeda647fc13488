/*
 * The state machine: events in, actions out.  See state.h for the contract.
 *
 * How a membership change flows through here:
 *
 *   classic confchg --> members replaced, round invalidated.  If corosync's
 *        |              ring changed (NODEUP/NODEDOWN entries, or we have no
 *        |              ring id yet) we wait for the totem confchg, which
 *        v              corosync always queues after the classic ones.
 *   totem confchg ----> ring id + node list; absent nodes whose corosync left
 *        |              the ring are now known dead.
 *        v
 *   round start ------> departed members are classified (daemon gone but node
 *        |              in the ring: keep its resources for the restart grace;
 *        |              node gone: its resources are orphans), then STATE is
 *        |              multicast, tagged with the view token.
 *        v
 *   STATE from every member (or EXCLUDE for the silent ones after the round
 *        |              timeout) --> state_round.c merges the snapshots and
 *        v              places resources; queued messages are applied in
 *   local actuation     order; then this node releases what it no longer owns
 *                       and acquires what it newly owns.
 *
 * Quorum arrives on its own stream, in any order relative to all of the
 * above.  It never feeds a replicated decision; it only gates local
 * actuation: acquire only when the latest report is quorate for exactly our
 * ring, release everything as soon as any report says inquorate.
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

#define EXIT_AFTER_LEAVE_MS 3000
#define ACQUIRE_RETRY_MS 2000

void core_actions_init(struct core_actions *a)
{
	memset(a, 0, sizeof(*a));
}

void core_actions_clear(struct core_actions *a)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].type == CORE_ACT_SEND)
			free(a->v[i].u.send.buf);
	a->n = 0;
}

void core_actions_release(struct core_actions *a)
{
	core_actions_clear(a);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

void core_act(struct core *c, struct core_actions *out, const struct core_action *a)
{
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 16;
		struct core_action *v = realloc(out->v, cap * sizeof(*v));

		if (v == NULL) {
			c->err = -ENOMEM;
			if (a->type == CORE_ACT_SEND)
				free(a->u.send.buf);
			return;
		}
		out->v = v;
		out->cap = cap;
	}
	out->v[out->n++] = *a;
}

static void act_simple(struct core *c, struct core_actions *out, enum core_act_type t,
		       size_t idx)
{
	struct core_action a = {.type = t};

	a.u.idx = idx;
	core_act(c, out, &a);
}

_Static_assert(WIRE_TYPE_MAX < CORE_MSG_TYPES, "core_counters.sent has a slot per type");

/* Hand the encoded buffer in c->wb to the caller as a SEND action. */
void core_emit_send(struct core *c, struct core_actions *out)
{
	struct core_action a = {.type = CORE_ACT_SEND};

	a.u.send.buf = malloc(c->wb.size);
	if (a.u.send.buf == NULL) {
		c->err = -ENOMEM;
		return;
	}
	memcpy(a.u.send.buf, c->wb.data, c->wb.size);
	a.u.send.size = c->wb.size;
	{
		struct wire_hdr h;

		if (wire_decode_hdr(c->wb.data, c->wb.size, &h) == 0 && h.type < CORE_MSG_TYPES) {
			c->ctr.sent[h.type]++;
			c->ctr.sent_bytes[h.type] += c->wb.size;
		}
	}
	core_act(c, out, &a);
}

void core_send_small(struct core *c, struct core_actions *out, enum wire_type type,
		     uint64_t token, const struct wire_small *sm)
{
	int rc = wire_encode_small(&c->wb, WIRE_VERSION_MIN, type, token, c->cfg.incarnation, sm);

	if (rc < 0) {
		qb_log(LOG_ERR, "cannot encode %s " QB_XS " rc=%d", wire_type_name(type), rc);
		if (rc == -ENOMEM)
			c->err = rc;
		return;
	}
	core_emit_send(c, out);
}

/* ---- lookups ---- */

static int member_cmp(const void *a, const void *b)
{
	const struct core_member *x = a, *y = b;

	if (x->nodeid != y->nodeid)
		return x->nodeid < y->nodeid ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return 0;
}

struct member *core_member_find(struct core *c, uint32_t nodeid, uint32_t pid)
{
	for (size_t i = 0; i < c->n_members; i++)
		if (c->members[i].nodeid == nodeid && c->members[i].pid == pid)
			return &c->members[i];
	return NULL;
}

bool core_is_member_nodeid(const struct core *c, uint32_t nodeid)
{
	for (size_t i = 0; i < c->n_members; i++)
		if (c->members[i].nodeid == nodeid && !c->members[i].excluded)
			return true;
	return false;
}

bool core_has_nodeid(const struct core *c, uint32_t nodeid)
{
	for (size_t i = 0; i < c->n_members; i++)
		if (c->members[i].nodeid == nodeid)
			return true;
	return false;
}

bool core_in_totem(const struct core *c, uint32_t nodeid)
{
	for (size_t i = 0; i < c->n_totem; i++)
		if (c->totem[i] == nodeid)
			return true;
	return false;
}

void core_absent_free(struct absent *a)
{
	free(a->res);
	a->res = NULL;
	a->n_res = 0;
}

void core_admin_clear(struct admin *a)
{
	free(a->standby);
	free(a->pins);
	memset(a, 0, sizeof(*a));
}

static void queue_clear(struct core *c)
{
	for (size_t i = 0; i < c->n_queue; i++)
		free(c->queue[i].buf);
	free(c->queue);
	c->queue = NULL;
	c->n_queue = 0;
}

/*
 * Messages delivered before a confchg but held back by a round that never
 * completed take effect now, before the next STATE is built: their effect
 * then travels in the snapshots, which joiners see too.  Messages delivered
 * after the confchg wait for the new round, on every member alike.  (A
 * joiner never saw the older messages, so applying them after the round
 * would make old members and joiners diverge; the simulator found that.)
 */
static void queue_flush(struct core *c, struct core_actions *out)
{
	struct queued *q = c->queue;
	size_t nq = c->n_queue;

	c->queue = NULL;
	c->n_queue = 0;
	for (size_t i = 0; i < nq; i++) {
		core_apply_delivery(c, out, q[i].nodeid, q[i].pid, q[i].buf, q[i].size);
		free(q[i].buf);
	}
	free(q);
}

static int addr_cmp_void(const void *a, const void *b)
{
	return res_addr_cmp(a, b);
}

static int addr_list_copy(const struct res_addr *v, size_t n, struct res_addr **out)
{
	struct res_addr *copy = NULL;

	if (n) {
		copy = malloc(n * sizeof(*copy));
		if (copy == NULL)
			return -ENOMEM;
		memcpy(copy, v, n * sizeof(*copy));
		qsort(copy, n, sizeof(*copy), addr_cmp_void);
	}
	*out = copy;
	return 0;
}

int core_member_set_unserv(struct member *m, const struct res_addr *v, size_t n, bool confirmed)
{
	struct res_addr *a = NULL, *b = NULL;

	if (addr_list_copy(v, n, &a) < 0 || (confirmed && addr_list_copy(v, n, &b) < 0)) {
		free(a);
		return -ENOMEM;
	}
	free(m->unserv);
	m->unserv = a;
	m->n_unserv = n;
	if (confirmed) {
		free(m->unserv_conf);
		m->unserv_conf = b;
		m->n_unserv_conf = n;
	}
	return 0;
}

int core_member_set_not_up(struct member *m, const struct res_addr *v, size_t n)
{
	struct res_addr *a = NULL;

	if (addr_list_copy(v, n, &a) < 0)
		return -ENOMEM;
	free(m->not_up);
	m->not_up = a;
	m->n_not_up = n;
	return 0;
}

static void members_clear(struct core *c)
{
	for (size_t i = 0; i < c->n_members; i++) {
		wire_state_clear(&c->members[i].snap);
		free(c->members[i].unserv);
		free(c->members[i].unserv_conf);
		free(c->members[i].susp_addrs);
		free(c->members[i].not_up);
	}
	free(c->members);
	c->members = NULL;
	c->n_members = 0;
}

/* ---- local actuation ---- */

static void send_leaving(struct core *c, struct core_actions *out);

static bool quorate_for_view(const struct core *c)
{
	return c->q_known && c->q_quorate && c->have_ring && c->q_ring.nodeid == c->ring.nodeid &&
	       c->q_ring.seq == c->ring.seq;
}

static bool known_inquorate(const struct core *c)
{
	return c->q_known && !c->q_quorate;
}

static void released_add(struct core *c, const struct res_addr *addr)
{
	struct res_addr *v = realloc(c->released, (c->n_released + 1) * sizeof(*v));

	if (v == NULL) {
		c->err = -ENOMEM;
		return;
	}
	c->released = v;
	c->released[c->n_released++] = *addr;
}

static bool drop_all_now(const struct core *c)
{
	return c->cluster_lost || known_inquorate(c) || c->leave_done || core_live_cut_off(c) ||
	       c->suspected_self;
}

bool core_dropping_all(const struct core *c)
{
	return drop_all_now(c);
}

/* Whether local vip 'i' may stay (or start) here. */
static bool local_keep(const struct core *c, size_t i, bool drop_all)
{
	uint32_t r = c->lres[i];
	const struct rent *e = r != UINT32_MAX ? &c->res[r] : NULL;
	bool mine = e != NULL && e->owner == c->cfg.nodeid;

	if (drop_all)
		return false;
	if (!c->round_done || !c->had_round)
		return true;
	/* with a member below protocol 3 nobody guards a brick's takeover */
	if (core_vip_excl(c, i) && (e == NULL || !e->excl))
		return false;
	return mine;
}

bool core_excl_must_release(const struct core *c)
{
	bool drop_all = drop_all_now(c);

	for (size_t i = 0; i < c->cfg.n_vips; i++)
		if (core_vip_excl(c, i) && c->lstate[i] != L_NONE &&
		    (c->lstate[i] == L_RELEASING || !local_keep(c, i, drop_all)))
			return true;
	return false;
}

/*
 * Bring this node's addresses in line with the replicated table, gated by
 * quorum.  A node keeps what it holds while it does not know better (before
 * its first round, during a round, while quorum is being re-established for
 * a new ring): releasing there would turn every membership change and every
 * daemon restart into an outage.  It releases as soon as it knows: the table
 * gives the resource to someone else, quorum is lost, or corosync is gone.
 */
static void send_clean(struct core *c, struct core_actions *out);

/* Before the round of a leave-only change only the lost nodes' resources
 * are taken (core_round_start). */
static bool fast_ok(const struct core *c, const struct rent *e)
{
	return c->round_done || core_fast_owner(c, &e->addr) == c->cfg.nodeid;
}

static void local_reconcile(struct core *c, struct core_actions *out)
{
	bool drop_all = drop_all_now(c);
	/* After a stall of our own, peers may be excluding us: nothing new
	 * until they have heard us again (state_live.c). */
	/* Before the round (a leave-only change) a daemon shutting down takes
	 * nothing: the others learn that it leaves only from its STATE. */
	bool may_acquire = c->in_view && (c->round_done || (c->fast_placed && !c->leaving)) &&
			   quorate_for_view(c) && !drop_all && !c->revalidating;
	/* While a round runs (no leave-only placement to take from) and
	 * nothing is to be dropped, every vip is kept and nothing taken, so
	 * the walk below would do nothing: skip it.  A round delivers a STATE
	 * per member, each a step, and this walk is over every local vip. */
	size_t n_walk = drop_all || c->round_done || may_acquire ? c->cfg.n_vips : 0;

	for (size_t i = 0; i < n_walk; i++) {
		uint32_t r = c->lres[i];
		struct rent *e = r != UINT32_MAX ? &c->res[r] : NULL;
		bool mine = e != NULL && e->owner == c->cfg.nodeid;
		bool excl;

		/* 'keep' and 'excl' only where a branch reads them: this runs
		 * for every local vip after every step, and the vip's flags
		 * are a cache line of their own */
		switch (c->lstate[i]) {
		case L_HELD:
		case L_ACQUIRING:
			/* a failed release of a brick is retried, not forgotten */
			if (!local_keep(c, i, drop_all) &&
			    (!core_vip_excl(c, i) || c->now_ms >= c->lretry_ms[i])) {
				c->lstate[i] = L_RELEASING;
				act_simple(c, out, CORE_ACT_RELEASE, i);
			}
			break;
		case L_NONE:
			/* every branch below is for ours, or what we must say
			 * we released */
			if (!mine && (e == NULL || e->from != c->cfg.nodeid))
				break;
			excl = core_vip_excl(c, i);
			/* A brick runs only where the table knows it is exclusive:
			 * below protocol 3 nobody guards its takeover. */
			/* ... and not while a lost or silent node may still
			 * have it up (its hold-off; the timer wakes us). */
			if (mine && may_acquire && (!excl || e->excl) && fast_ok(c, e) &&
			    (e->from == 0 || e->from == c->cfg.nodeid) &&
			    c->now_ms >= c->lretry_ms[i] &&
			    !core_holdoff_blocks(c, &e->addr, NULL)) {
				c->lstate[i] = L_ACQUIRING;
				act_simple(c, out, CORE_ACT_ACQUIRE, i);
			} else if (mine && may_acquire && !excl && c->cfg.expiry_probe && fast_ok(c, e) &&
				   (e->from == 0 || e->from == c->cfg.nodeid) &&
				   c->now_ms >= c->lretry_ms[i] && !c->lprobing[i] &&
				   c->now_ms >= c->lprobe_ms[i] &&
				   core_holdoff_probe_ok(c, &e->addr)) {
				/* only the kernel's lateness is left: ask */
				c->lprobing[i] = 1;
				c->ctr.probes++;
				act_simple(c, out, CORE_ACT_PROBE, i);
			} else if (e != NULL && e->from == c->cfg.nodeid && !mine &&
				   c->round_done && !e->announced) {
				/* Someone waits for our release of something we never
				 * took (or already dropped): say so at once. */
				e->announced = true;
				released_add(c, &e->addr);
			}
			break;
		case L_RELEASING:
			break;
		}
	}
	if (c->n_released > 0 && c->in_view && !c->cluster_lost) {
		struct wire_small sm = {.value = c->epoch, .n_addrs = (uint32_t)c->n_released,
					.addrs = c->released};

		/* Bound to the view: a RELEASED that crosses a membership change
		 * is stale (the new round's STATE says what we hold), and
		 * applied late it would cancel a handover we owe (the
		 * simulator found one that put a brick on two nodes). */
		core_send_small(c, out, WIRE_RELEASED, c->token, &sm);
	}
	c->n_released = 0;

	if (c->leaving && !c->leave_sent && c->in_view && c->round_done)
		send_leaving(c, out);
	/* Suspected while we were not running: everything is released (and
	 * said so), now come back as a new member. */
	if (c->suspected_self && c->in_view && !c->leaving) {
		bool busy = false;

		for (size_t i = 0; i < c->cfg.n_vips; i++)
			busy |= c->lstate[i] != L_NONE;
		if (!busy) {
			struct core_action a = {.type = CORE_ACT_REJOIN};

			qb_log(LOG_NOTICE, "released everything after being suspected: rejoining");
			c->suspected_self = false;
			core_leave_view(c);
			core_act(c, out, &a);
		}
	}
	if (c->leave_wait_excl) {
		bool busy = false;

		for (size_t i = 0; i < c->cfg.n_vips; i++)
			if (core_vip_excl(c, i) && c->lstate[i] != L_NONE)
				busy = true;
		if (!busy) {
			c->leave_wait_excl = false;
			send_clean(c, out);
			c->exit_deadline_ms = c->now_ms + EXIT_AFTER_LEAVE_MS;
			act_simple(c, out, CORE_ACT_LEAVE, 0);
		}
	}
	/* A leaving node is done once it holds nothing. */
	if (c->leaving && c->leave_sent && !c->leave_done) {
		bool busy = false;

		for (size_t i = 0; i < c->cfg.n_vips; i++)
			if (c->lstate[i] != L_NONE)
				busy = true;
		if (!busy && c->round_done) {
			bool owns = false;

			for (size_t r = 0; r < c->n_res; r++)
				if (c->res[r].owner == c->cfg.nodeid ||
				    c->res[r].from == c->cfg.nodeid)
					owns = true;
			if (!owns) {
				c->leave_done = true;
				c->exit_deadline_ms = c->now_ms + EXIT_AFTER_LEAVE_MS;
				qb_log(LOG_NOTICE, "handover complete, leaving the group");
				act_simple(c, out, CORE_ACT_LEAVE, 0);
			}
		}
	}
}

static void on_exec_result(struct core *c, struct core_actions *out, const struct core_event *ev)
{
	size_t i = ev->u.res.idx;

	if (i >= c->cfg.n_vips)
		return;
	if (ev->type == CORE_EV_ACQUIRED) {
		if (c->lstate[i] != L_ACQUIRING)
			return;
		if (ev->u.res.err < 0) {
			char a[CHORUS_ADDR_STRLEN];

			res_addr_format(&c->vips[i].addr, a, sizeof(a));
			qb_log(LOG_ERR, "could not add %s, retrying " QB_XS " rc=%d", a,
			       ev->u.res.err);
			c->lretry_ms[i] = c->now_ms + ACQUIRE_RETRY_MS;
			if (core_vip_excl(c, i)) {
				/* a half-started brick is cleaned up before
				 * anyone else may start it */
				c->lstate[i] = L_RELEASING;
				act_simple(c, out, CORE_ACT_RELEASE, i);
				return;
			}
			c->lstate[i] = L_NONE;
			return;
		}
		c->lstate[i] = L_HELD;
	} else {
		if (c->lstate[i] != L_RELEASING)
			return;
		if (ev->u.res.err < 0 && core_vip_excl(c, i)) {
			/* Nobody may take a brick we could not stop: keep it
			 * ours, retry, and let the watchdog reset us if the
			 * release never succeeds. */
			qb_log(LOG_CRIT, "release of brick %zu failed, retrying " QB_XS " rc=%d", i,
			       ev->u.res.err);
			c->lstate[i] = L_HELD;
			c->lretry_ms[i] = c->now_ms + ACQUIRE_RETRY_MS;
			return;
		}
		c->lstate[i] = L_NONE;
		if (ev->u.res.err < 0)
			qb_log(LOG_ERR, "release of local vip %zu failed " QB_XS " rc=%d", i,
			       ev->u.res.err);
		released_add(c, &c->vips[i].addr);
	}
	(void)out;
}

/* ---- membership ---- */

static bool reason_changes_ring(const struct core_member *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].reason == CORE_REASON_NODEDOWN || v[i].reason == CORE_REASON_NODEUP)
			return true;
	return false;
}

/* A departing daemon that said it stopped all its bricks (LEAVING clean). */
static void clean_add(struct core *c, uint32_t nodeid)
{
	uint32_t *v = realloc(c->clean, (c->n_clean + 1) * sizeof(*v));

	if (v == NULL) {
		c->err = -ENOMEM;
		return;
	}
	c->clean = v;
	c->clean[c->n_clean++] = nodeid;
}

static void departed_add(struct core *c, uint32_t nodeid)
{
	uint32_t *v;

	for (size_t i = 0; i < c->n_departed; i++)
		if (c->departed[i] == nodeid)
			return;
	v = realloc(c->departed, (c->n_departed + 1) * sizeof(*v));
	if (v == NULL) {
		c->err = -ENOMEM;
		return;
	}
	c->departed = v;
	c->departed[c->n_departed++] = nodeid;
}

void core_leave_view(struct core *c)
{
	core_fast_clear(c);
	c->in_view = false;
	c->round_active = false;
	c->round_done = false;
	c->had_round = false;
	c->have_ring = false;
	c->wait_totem = false;
	members_clear(c);
	queue_clear(c);
	c->n_departed = 0;
	c->n_clean = 0;
	core_table_clear(c);
	for (size_t i = 0; i < c->n_absent; i++)
		core_absent_free(&c->absent[i]);
	free(c->absent);
	c->absent = NULL;
	c->n_absent = 0;
	free(c->excl);
	c->excl = NULL;
	c->n_excl = 0;
	free(c->sets);
	c->sets = NULL;
	c->n_sets = 0;
	free(c->known);
	c->known = NULL;
	c->n_known = 0;
	core_admin_clear(&c->admin);
}

static void on_confchg(struct core *c, struct core_actions *out, const struct core_event *ev)
{
	const struct core_member *mv = ev->u.confchg.members;
	size_t n = ev->u.confchg.n_members;
	struct member *nm;
	bool self = false;

	for (size_t i = 0; i < n; i++)
		if (mv[i].nodeid == c->cfg.nodeid && mv[i].pid == c->cfg.pid)
			self = true;
	if (!self) {
		if (!c->in_view)
			return;	/* not joined yet; nothing of ours */
		if (c->leaving) {
			qb_log(LOG_NOTICE, "left the group");
			core_leave_view(c);
			act_simple(c, out, CORE_ACT_EXIT, 0);
			return;
		}
		/* Evicted (corosync dropped our process): keep what we hold,
		 * peers account it to us for the restart grace, and come back
		 * as a new member. */
		qb_log(LOG_WARNING, "no longer a member of the group, rejoining");
		core_leave_view(c);
		act_simple(c, out, CORE_ACT_REJOIN, 0);
		return;
	}
	if (n > CHORUS_MAX_NODES) {
		qb_log(LOG_ERR, "membership of %zu processes is beyond %d, ignoring", n,
		       CHORUS_MAX_NODES);
		return;
	}
	if (!c->wait_totem)
		queue_flush(c, out);

	nm = calloc(n, sizeof(*nm));
	if (nm == NULL) {
		c->err = -ENOMEM;
		return;
	}
	{
		struct core_member *sorted = malloc(n * sizeof(*sorted));

		if (sorted == NULL) {
			free(nm);
			c->err = -ENOMEM;
			return;
		}
		memcpy(sorted, mv, n * sizeof(*sorted));
		qsort(sorted, n, sizeof(*sorted), member_cmp);
		for (size_t i = 0; i < n; i++) {
			struct member *old = core_member_find(c, sorted[i].nodeid, sorted[i].pid);

			nm[i].nodeid = sorted[i].nodeid;
			nm[i].pid = sorted[i].pid;
			nm[i].join_cc = c->cc_count + 1;
			if (old != NULL) {
				nm[i].join_cc = old->join_cc;
				nm[i].incarnation = old->incarnation;
				nm[i].leaving = old->leaving;
				nm[i].health = old->health;
				/* Silence is not forgiven when members only
				 * left: all of us come from the same view and
				 * agree on who was excluded in it.  A join or a
				 * merge brings members with other histories, so
				 * everyone starts afresh (a silent member then
				 * costs one liveness timeout again). */
				nm[i].excluded = old->excluded;
				nm[i].suspected = old->suspected;
				nm[i].proto_max = old->proto_max;
				nm[i].last_ms = old->last_ms;
				nm[i].susp_addrs = old->susp_addrs;
				nm[i].n_susp_addrs = old->n_susp_addrs;
				old->susp_addrs = NULL;
				old->n_susp_addrs = 0;
				nm[i].not_up = old->not_up;
				nm[i].n_not_up = old->n_not_up;
				old->not_up = NULL;
				old->n_not_up = 0;
				/* replicated like its health: a leave-only change
				 * places from them before any STATE arrives */
				nm[i].unserv = old->unserv;
				nm[i].n_unserv = old->n_unserv;
				nm[i].unserv_conf = old->unserv_conf;
				nm[i].n_unserv_conf = old->n_unserv_conf;
				old->unserv = NULL;
				old->n_unserv = 0;
				old->unserv_conf = NULL;
				old->n_unserv_conf = 0;
			} else {
				struct peer *p = core_peer(c, nm[i].nodeid);

				/* it gets a full liveness window from now; and
				 * whatever its node held, it held it until now */
				nm[i].last_ms = c->now_ms;
				if (p != NULL && p->last_from_ms < c->now_ms)
					p->last_from_ms = c->now_ms;
			}
		}
		free(sorted);
	}
	/* Only members left a view whose round had completed: the survivors
	 * may place at once (core_round_start).  Any other change first
	 * forgets an earlier such placement: its takes stop, and the next
	 * STATE says what was taken. */
	core_fast_clear(c);
	{
		bool joined = false;

		for (size_t i = 0; i < n; i++)
			joined |= core_member_find(c, nm[i].nodeid, nm[i].pid) == NULL;
		c->fast_ok = !joined && n < c->n_members && c->round_done && c->had_round &&
			     c->proto >= 8 && !c->suspected_self;
		for (size_t i = 0; joined && i < n; i++) {
			nm[i].excluded = false;
			nm[i].suspected = false;
			free(nm[i].susp_addrs);
			nm[i].susp_addrs = NULL;
			nm[i].n_susp_addrs = 0;
		}
	}
	/* Departed processes; the member list is authoritative, left lists
	 * differ between nodes (docs/corosync.md §2) and are only logged. */
	for (size_t i = 0; i < c->n_members; i++) {
		bool still = false;

		for (size_t j = 0; j < n; j++)
			if (nm[j].nodeid == c->members[i].nodeid && nm[j].pid == c->members[i].pid)
				still = true;
		if (!still && c->members[i].nodeid != c->cfg.nodeid) {
			departed_add(c, c->members[i].nodeid);
			if (c->members[i].excl_clean)
				clean_add(c, c->members[i].nodeid);
		}
	}
	members_clear(c);
	c->members = nm;
	c->n_members = n;
	c->in_view = true;
	c->cc_count++;
	c->view_start_ms = c->now_ms;
	if (c->first_view_ms == 0)
		c->first_view_ms = c->now_ms;
	/* A node that left the ring stopped hearing the others no later than
	 * the last delivery before the silence that ends here. */
	c->depart_ref_ms = c->gap_since_cc ? c->pre_gap_ms : c->now_ms;
	c->round_active = false;
	c->round_done = false;

	qb_log(LOG_NOTICE, "membership: %zu members (%zu left, %zu joined)", n,
	       ev->u.confchg.n_left, ev->u.confchg.n_joined);
	if (!c->have_ring || reason_changes_ring(ev->u.confchg.left, ev->u.confchg.n_left) ||
	    reason_changes_ring(ev->u.confchg.joined, ev->u.confchg.n_joined)) {
		c->wait_totem = true;
		return;
	}
	core_round_start(c, out);
}

static void on_totem(struct core *c, struct core_actions *out, const struct core_event *ev)
{
	size_t n = ev->u.totem.n_nodeids;
	uint32_t *t;

	if (n > 4096)
		return;
	t = malloc((n ? n : 1) * sizeof(*t));
	if (t == NULL) {
		c->err = -ENOMEM;
		return;
	}
	memcpy(t, ev->u.totem.nodeids, n * sizeof(*t));
	free(c->totem);
	c->totem = t;
	c->n_totem = n;
	c->ring = ev->u.totem.ring;
	c->have_ring = true;
	core_live_new_ring(c);
	c->totem_cc = c->cc_count;
	qb_log(LOG_INFO, "ring %" PRIx32 ".%" PRIx64 " with %zu corosync nodes", c->ring.nodeid,
	       c->ring.seq, n);
	if (!c->in_view)
		return;
	if (!c->wait_totem)
		queue_flush(c, out);
	c->wait_totem = false;
	/* The initial totem confchg after our own join repeats a ring we may
	 * already have started the round with: same token, nothing to redo. */
	if ((c->round_active || c->round_done) && core_view_token(c) == c->token)
		return;
	/* Every member sees the same totem confchg at the same point of the
	 * stream, so all start the new round together; tokens carry the ring,
	 * so a round can never straddle two rings. */
	core_round_start(c, out);
}

static bool busy_any(const struct core *c, bool excl_only)
{
	for (size_t i = 0; i < c->cfg.n_vips; i++)
		if (c->lstate[i] != L_NONE && (!excl_only || core_vip_excl(c, i)))
			return true;
	return false;
}

/* The group may count a departed daemon's bricks as stopped only if it
 * said so (a brick keeps running without its daemon). */
static void send_clean(struct core *c, struct core_actions *out)
{
	if (c->clean_sent || !c->in_view || c->cluster_lost)
		return;
	c->clean_sent = true;
	core_send_small(c, out, WIRE_LEAVING, 0, &(struct wire_small){.value = WIRE_LEAVING_CLEAN});
}

/* Exit once the handover is over and no brick is still stopping: exiting
 * with one half-stopped would leave it running with nobody to stop it.
 * Out of the group, wait for the addresses too. */
static void maybe_exit(struct core *c, struct core_actions *out)
{
	if (!c->leave_done || !c->exit_deadline_ms || c->now_ms < c->exit_deadline_ms)
		return;
	if (busy_any(c, c->in_view))
		return;
	send_clean(c, out);
	c->exit_deadline_ms = 0;
	act_simple(c, out, CORE_ACT_EXIT, 0);
}

/* ---- timers ---- */

static void on_tick(struct core *c, struct core_actions *out)
{
	uint64_t now = c->now_ms;

	if (c->in_view && c->round_active && !c->exclude_sent && now >= c->round_deadline_ms)
		core_round_timeout(c, out);
	core_absent_tick(c, out, quorate_for_view(c) && !core_live_cut_off(c));
	core_live_tick(c, out);
	if (c->health_confirm_at && now >= c->health_confirm_at) {
		c->health_confirm_at = 0;
		core_send_health(c, out, true);
	}
	if (c->rebalance_armed && c->in_view && c->round_done && now >= c->rebalance_at_ms) {
		struct wire_small sm = {0};

		c->rebalance_armed = false;
		core_send_small(c, out, WIRE_REBALANCE, c->token, &sm);
	}
	core_load_tick(c, out);
	if (c->leaving && !c->leave_done && now >= c->leave_deadline_ms) {
		qb_log(LOG_WARNING, "handover did not finish in time, releasing everything");
		c->leave_done = true;
		/* Bricks first: peers may take a brick of a departed daemon
		 * only when they know it stopped, so stay in the group until
		 * their releases are done and say so (local_reconcile). */
		c->leave_wait_excl = true;
	}
	maybe_exit(c, out);
}

static void arm_timer(struct core *c, struct core_actions *out)
{
	uint64_t next = UINT64_MAX;
	struct core_action a = {.type = CORE_ACT_TIMER};

	if (c->in_view && c->round_active && !c->exclude_sent)
		next = c->round_deadline_ms;
	{
		uint64_t t = core_absent_next(c, quorate_for_view(c) && !core_live_cut_off(c));

		if (t < next)
			next = t;
	}
	if (c->rebalance_armed && c->rebalance_at_ms < next)
		next = c->rebalance_at_ms;
	next = core_load_next(c, next);
	if (c->health_confirm_at && c->health_confirm_at < next)
		next = c->health_confirm_at;
	next = core_live_next(c, next);
	if (c->leaving && !c->leave_done && c->leave_deadline_ms < next)
		next = c->leave_deadline_ms;
	if (c->leave_done && c->exit_deadline_ms && c->exit_deadline_ms < next)
		next = c->exit_deadline_ms;
	for (size_t i = 0; i < c->cfg.n_vips; i++) {
		if (c->lretry_ms[i] > c->now_ms && c->lretry_ms[i] < next)
			next = c->lretry_ms[i];
		if (c->cfg.expiry_probe && c->lprobe_ms[i] > c->now_ms && c->lprobe_ms[i] < next)
			next = c->lprobe_ms[i];
	}
	if (next == UINT64_MAX)
		return;
	a.u.at_ms = next;
	core_act(c, out, &a);
}

/* ---- shutdown and loss of corosync ---- */

static void send_leaving(struct core *c, struct core_actions *out)
{
	qb_log(LOG_NOTICE, "shutting down: handing resources over to the other nodes");
	c->leave_sent = true;
	core_send_small(c, out, WIRE_LEAVING, 0, &(struct wire_small){0});
}

static void on_shutdown(struct core *c, struct core_actions *out)
{
	if (c->leaving)
		return;
	c->leaving = true;
	c->leave_deadline_ms = c->now_ms + c->cfg.shutdown_timeout_ms;
	/* A planned handover needs a view with someone to hand to and quorum
	 * that is not known lost; otherwise there is nobody to coordinate with:
	 * drop and go.  Mid-round, LEAVING waits for the round to complete. */
	if (!c->in_view || c->n_members < 2 || known_inquorate(c)) {
		qb_log(LOG_NOTICE, "shutting down: no peers to hand over to, releasing");
		c->leave_sent = true;
		c->leave_done = true;
		/* Bricks first, as after a handover that timed out: leaving
		 * the group ends the daemon (on_confchg), and a brick whose
		 * release is cut short runs on with nobody to stop it. */
		if (c->in_view)
			c->leave_wait_excl = true;
		else
			c->exit_deadline_ms = c->now_ms;
		return;
	}
	if (c->round_done)
		send_leaving(c, out);
}

static void on_cluster_lost(struct core *c, struct core_actions *out)
{
	qb_log(LOG_ERR, "lost the connection to corosync: releasing everything");
	c->cluster_lost = true;
	core_leave_view(c);
	/* Until corosync is back we hear of no membership change, so a peer
	 * that dies meanwhile with addresses in its kernel never leaves a
	 * view of ours: we come back knowing no more than a daemon just
	 * started, and the start-up hold-off counts from the view we return
	 * to (simulator seed 25786).  Only here: a daemon excluded or
	 * suspected stays connected and rejoins within milliseconds, and the
	 * members that saw a departure carry its hold-off in their STATE;
	 * counting from its return cost link-flap.sh a lifetime more of an
	 * address on no node. */
	c->first_view_ms = 0;
	c->q_known = false;
	if (c->leaving) {
		c->leave_done = true;
		c->exit_deadline_ms = c->now_ms;
	}
}

/* ---- entry points ---- */

int core_new(const struct core_config *cfg, struct core **out)
{
	struct core *c;

	if (cfg == NULL || out == NULL || cfg->nodeid == 0 || cfg->n_vips > WIRE_MAX_RES)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->cfg = *cfg;
	c->cfg.proto_max = cfg->proto_max ? cfg->proto_max : WIRE_VERSION_MAX;
	if (c->cfg.proto_max < WIRE_VERSION_MIN || c->cfg.proto_max > WIRE_VERSION_MAX) {
		free(c);
		return -EINVAL;
	}
	/* Nothing newer than the base is used before a round has agreed on it. */
	c->proto = WIRE_VERSION_MIN;
	if (c->cfg.round_timeout_ms == 0)
		c->cfg.round_timeout_ms = 5000;
	if (c->cfg.restart_grace_ms == 0)
		c->cfg.restart_grace_ms = 10000;
	if (c->cfg.shutdown_timeout_ms == 0)
		c->cfg.shutdown_timeout_ms = 10000;
	if (c->cfg.health_settle_ms == 0)
		c->cfg.health_settle_ms = 1000;
	if (c->cfg.heartbeat_ms == 0)
		c->cfg.heartbeat_ms = 1000;
	if (c->cfg.quiet_limit_ms == 0)
		c->cfg.quiet_limit_ms = c->cfg.round_timeout_ms;
	if (c->cfg.gap_ms == 0)
		c->cfg.gap_ms = 500;
	if (c->cfg.skew_ms == 0)
		c->cfg.skew_ms = 20;
	wire_buf_init(&c->wb);
	if (cfg->n_vips) {
		c->vips = calloc(cfg->n_vips, sizeof(*c->vips));
		c->lstate = calloc(cfg->n_vips, 1);
		c->lres = malloc(cfg->n_vips * sizeof(*c->lres));
		c->lretry_ms = calloc(cfg->n_vips, sizeof(*c->lretry_ms));
		c->lprobe_ms = calloc(cfg->n_vips, sizeof(*c->lprobe_ms));
		c->lprobing = calloc(cfg->n_vips, 1);
		c->lunserv = calloc(cfg->n_vips, sizeof(*c->lunserv));
		c->lunserv_conf = calloc(cfg->n_vips, sizeof(*c->lunserv_conf));
		if (!c->vips || !c->lstate || !c->lres || !c->lretry_ms || !c->lunserv ||
		    !c->lunserv_conf || !c->lprobe_ms || !c->lprobing) {
			core_free(c);
			return -ENOMEM;
		}
		memcpy(c->vips, cfg->vips, cfg->n_vips * sizeof(*c->vips));
		for (size_t i = 0; i < cfg->n_vips; i++)
			c->lres[i] = UINT32_MAX;
	}
	c->cfg.vips = c->vips;
	if (cfg->n_nodes) {
		if (cfg->n_nodes > WIRE_MAX_NODES) {
			core_free(c);
			return -EINVAL;
		}
		c->cfg_nodes = malloc(cfg->n_nodes * sizeof(*c->cfg_nodes));
		if (c->cfg_nodes == NULL) {
			core_free(c);
			return -ENOMEM;
		}
		memcpy(c->cfg_nodes, cfg->nodes, cfg->n_nodes * sizeof(*c->cfg_nodes));
	}
	c->cfg.nodes = c->cfg_nodes;
	if (cfg->n_conf > WIRE_MAX_CONF) {
		core_free(c);
		return -EINVAL;
	}
	if (cfg->n_conf)
		memcpy(c->conf_dig, cfg->conf, cfg->n_conf * sizeof(*c->conf_dig));
	c->cfg.conf = c->conf_dig;
	if (core_load_new(c) < 0) {
		core_free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

void core_free(struct core *c)
{
	if (c == NULL)
		return;
	core_leave_view(c);
	free(c->totem);
	core_fast_clear(c);
	free(c->departed);
	free(c->clean);
	free(c->cfg_nodes);
	free(c->vips);
	free(c->lstate);
	free(c->lres);
	free(c->lretry_ms);
	free(c->lprobe_ms);
	free(c->lprobing);
	free(c->lunserv);
	free(c->lunserv_conf);
	free(c->released);
	core_live_free(c);
	core_load_free(c);
	wire_buf_release(&c->wb);
	free(c);
}

/* An expiry probe came back.  Answered: someone still has the address up,
 * ask again a heartbeat later.  Unanswered: the kernel that held it has
 * removed it, so the rest of the hold-off (the margin for that kernel's
 * lateness) is moot here; the others keep theirs, as only we take it. */
static void on_probed(struct core *c, size_t idx, bool answered)
{
	uint32_t r;

	if (idx >= c->cfg.n_vips || !c->lprobing[idx])
		return;
	c->lprobing[idx] = 0;
	c->lprobe_ms[idx] = c->now_ms + c->cfg.heartbeat_ms;
	r = c->lres[idx];
	if (answered || r == UINT32_MAX || c->res[r].owner != c->cfg.nodeid)
		return;
	if (core_holdoff_probe_lift(c, &c->res[r].addr)) {
		char t[CHORUS_ADDR_STRLEN];
		uint64_t until;

		c->ctr.probe_takes++;
		res_addr_format(&c->res[r].addr, t, sizeof(t));
		if (core_holdoff_blocks(c, &c->res[r].addr, &until))
			qb_log(LOG_NOTICE, "%s: nobody on its segment answers for it: taking it at "
			       "its last owner's quiet limit, in %" PRIu64 " ms", t, until - c->now_ms);
		else
			qb_log(LOG_NOTICE, "%s: nobody on its segment answers for it any more: "
			       "taking it without waiting out the rest of its hold-off", t);
	}
}

/*
 * A new failure is reported at once but pending: it keeps this node from
 * receiving the address, and moves nothing.  After health_settle_ms it is
 * confirmed (if it still stands) and only then moves the address away.  A
 * check that fails everywhere fails on the nodes a little apart in time;
 * with the settle window every node's pending report is in before the first
 * confirmation, and placement sees that no node can serve the address and
 * leaves it where it is.
 *
 * From protocol 7 a recovery settles the same way: reported at once, it
 * lets this node keep what it holds, but the node receives nothing more
 * until it is confirmed (core_place_compute).  When a shared volume comes
 * back, every node reports its recovery within the window, and by the
 * first confirmation none of them stands to lose anything: the first node
 * to recover does not collect every address only to hand half of them back
 * a moment later.  Below 7 recoveries are confirmed at once, as members
 * running placement v1 expect.
 */
static int on_health(struct core *c, const struct core_event *ev, struct core_actions *out)
{
	uint32_t node_flags = ev->u.health.node_flags;
	const bool *unservable = ev->u.health.unservable;
	bool urgent = ev->u.health.urgent;
	bool changed = node_flags != c->health, worse = false, better = false;

	/* the settle deadline counts from now, not from the last step */
	if (ev->now_ms > c->now_ms)
		c->now_ms = ev->now_ms;

	for (size_t i = 0; i < c->cfg.n_vips; i++) {
		/* version 1 knows node-wide health only */
		bool u = unservable && unservable[i] && c->cfg.proto_max >= 2;

		changed |= u != c->lunserv[i];
		worse |= u && !c->lunserv_conf[i];
		better |= !u && c->lunserv_conf[i];
		c->lunserv[i] = u;
	}
	c->health = node_flags;
	if (!changed)
		return 0;
	c->err = 0;
	if ((worse || (better && c->proto >= 7)) && !urgent) {
		core_send_health(c, out, false);
		if (c->health_confirm_at == 0)
			c->health_confirm_at = c->now_ms + c->cfg.health_settle_ms;
	} else {
		c->health_confirm_at = 0;
		core_send_health(c, out, true);
	}
	return c->err;
}

/*
 * Requests only multicast: what they change happens when that message is
 * delivered, in a DELIVER step on every member.  So they skip the step's
 * own work (liveness, reconcile, timers), which TICKs and deliveries drive,
 * and an operator's command costs no more than its message.  ADMIN,
 * REBALANCE and FENCE_CONFIRM leave the clock alone: their checks read no
 * time.
 */
static int on_request(struct core *c, const struct core_event *ev, struct core_actions *out)
{
	switch (ev->type) {
	case CORE_EV_ADMIN:
		return core_admin_request(c, &ev->u.admin, out);
	case CORE_EV_HEALTH:
		return on_health(c, ev, out);
	case CORE_EV_REBALANCE:
		return core_admin_rebalance(c, out);
	case CORE_EV_FENCE_CONFIRM:
		return core_absent_confirm(c, ev->u.confirm.node, out);
	default:
		return -EINVAL;
	}
}

static bool is_request(enum core_ev_type t)
{
	return t == CORE_EV_ADMIN || t == CORE_EV_HEALTH || t == CORE_EV_REBALANCE ||
	       t == CORE_EV_FENCE_CONFIRM;
}

int core_step(struct core *c, const struct core_event *ev, struct core_actions *out)
{
	if (is_request(ev->type))
		return on_request(c, ev, out);
	c->err = 0;
	if (ev->now_ms > c->now_ms)
		c->now_ms = ev->now_ms;

	core_live_step(c, out);
	switch (ev->type) {
	case CORE_EV_CONFCHG:
		c->cluster_lost = false;
		core_live_delivered(c, NULL, false);	/* corosync is talking to us */
		on_confchg(c, out, ev);
		break;
	case CORE_EV_TOTEM:
		core_live_delivered(c, NULL, false);
		on_totem(c, out, ev);
		break;
	case CORE_EV_QUORUM:
		c->q_known = true;
		c->q_quorate = ev->u.quorum.quorate;
		c->q_ring = ev->u.quorum.ring;
		break;
	case CORE_EV_DELIVER:
		core_on_deliver(c, out, ev);
		break;
	case CORE_EV_TICK:
		on_tick(c, out);
		break;
	case CORE_EV_ACQUIRED:
	case CORE_EV_RELEASED:
		on_exec_result(c, out, ev);
		break;
	case CORE_EV_ADOPT:
		if (ev->u.res.idx < c->cfg.n_vips && c->lstate[ev->u.res.idx] == L_NONE)
			c->lstate[ev->u.res.idx] = L_HELD;
		break;
	case CORE_EV_LOST:
		if (ev->u.res.idx < c->cfg.n_vips && c->lstate[ev->u.res.idx] != L_NONE) {
			c->lstate[ev->u.res.idx] = L_NONE;
			released_add(c, &c->vips[ev->u.res.idx].addr);
		}
		break;
	case CORE_EV_CLUSTER_LOST:
		on_cluster_lost(c, out);
		break;
	case CORE_EV_FENCED:
		core_absent_fence_done(c, out, ev->u.fence.node, ev->u.fence.err);
		break;
	case CORE_EV_PROBED:
		on_probed(c, ev->u.probe.idx, ev->u.probe.answered);
		break;
	case CORE_EV_SETS:
		core_sets_declare(c, ev->u.sets.set);
		break;
	case CORE_EV_SHUTDOWN:
		on_shutdown(c, out);
		break;
	case CORE_EV_ADMIN:
	case CORE_EV_HEALTH:
	case CORE_EV_REBALANCE:
	case CORE_EV_FENCE_CONFIRM:
		break;	/* answered by on_request() */
	}
	if ((ev->type == CORE_EV_ACQUIRED || ev->type == CORE_EV_RELEASED ||
	     ev->type == CORE_EV_LOST) && ev->u.res.more)
		return c->err;
	local_reconcile(c, out);
	maybe_exit(c, out);
	if (c->round_done && !c->ready_sent) {
		c->ready_sent = true;
		act_simple(c, out, CORE_ACT_READY, 0);
	}
	arm_timer(c, out);
	return c->err;
}

void core_send_health(struct core *c, struct core_actions *out, bool confirmed)
{
	struct wire_small sm = {.value = c->health | (confirmed ? WIRE_HEALTH_CONFIRMED : 0)};
	size_t n = 0;

	for (size_t i = 0; i < c->cfg.n_vips; i++)
		n += c->lunserv[i];
	if (confirmed)
		memcpy(c->lunserv_conf, c->lunserv, c->cfg.n_vips * sizeof(*c->lunserv));
	if (!c->in_view)
		return;	/* the next STATE carries it */
	if (n) {
		sm.addrs = calloc(n, sizeof(*sm.addrs));
		if (sm.addrs == NULL) {
			c->err = -ENOMEM;
			return;
		}
		for (size_t i = 0; i < c->cfg.n_vips; i++)
			if (c->lunserv[i])
				sm.addrs[sm.n_addrs++] = c->vips[i].addr;
	}
	core_send_small(c, out, WIRE_HEALTH, 0, &sm);
	free(sm.addrs);
}

bool core_quorate(const struct core *c)
{
	return quorate_for_view(c);
}

int core_quorum_verdict(const struct core *c)
{
	return c->q_known ? c->q_quorate : -1;
}
