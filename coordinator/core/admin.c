/*
 * Operator changes (standby, pins, maintenance), plan, and the status views.
 *
 * An operator change is a message like any other: it is multicast, applied
 * by every member at the same point of the ordered stream, and only then
 * acknowledged to the operator.  Two rules keep it safe:
 *  - it carries the ring it was sent in, and is dropped if delivered in
 *    another: the sender checked quorum for that ring, so a node in a
 *    partition that just lost quorum cannot slip a change in;
 *  - every applied change bumps the generation, which STATE carries, so at a
 *    partition merge the side that changed last (only a quorate side can)
 *    wins, and a restarted cluster resumes from the saved state.
 */
#include "core/state_private.h"
#include "core/state_live.h"
#include "core/state_msg.h"
#include "core/state_table.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

uint64_t core_ring_token(const struct core *c)
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint64_t v[2] = {c->ring.nodeid, c->ring.seq};

	for (int k = 0; k < 2; k++)
		for (int i = 0; i < 8; i++) {
			h ^= (uint8_t)(v[k] >> (8 * i));
			h *= 0x100000001b3ull;
		}
	return h ? h : 1;
}

static bool node_known(const struct core *c, uint32_t nodeid)
{
	if (core_is_member_nodeid(c, nodeid))
		return true;
	for (size_t i = 0; i < c->n_absent; i++)
		if (c->absent[i].nodeid == nodeid)
			return true;
	return false;
}

static bool declared_by(const struct core *c, long r, uint32_t nodeid)
{
	for (size_t s = 0; s < c->n_slots; s++)
		if (c->slots[s] == nodeid)
			return place_bits_test(&c->res[r].decl, (uint32_t)s);
	return false;
}

int core_admin_request(struct core *c, const struct core_admin_req *req, struct core_actions *out)
{
	struct res_addr addr = req->vip;
	uint32_t node = req->node;
	uint64_t cookie = req->cookie;
	struct wire_small sm = {.value = (uint32_t)req->op, .n_nodes = 1, .nodes = &node,
				.incarnations = &cookie};

	if (req->op < CORE_ADMIN_STANDBY || req->op > CORE_ADMIN_CLEANUP)
		return -EINVAL;
	if (!c->in_view || !c->round_done || !core_quorate(c))
		return -EAGAIN;
	if (req->op == CORE_ADMIN_STANDBY || req->op == CORE_ADMIN_ACTIVE ||
	    req->op == CORE_ADMIN_MOVE || (req->op == CORE_ADMIN_CLEANUP && node != 0)) {
		if (!node_known(c, node))
			return -ENOENT;
	}
	if (req->op == CORE_ADMIN_MOVE || req->op == CORE_ADMIN_UNPIN ||
	    (req->op == CORE_ADMIN_CLEANUP && addr.family != 0)) {
		long r = core_res_find(c, &addr);

		if (r < 0)
			return -ENOENT;
		if (req->op == CORE_ADMIN_MOVE && !declared_by(c, r, node))
			return -EPERM;
		sm.n_addrs = 1;
		sm.addrs = &addr;
	}
	c->err = 0;
	core_send_small(c, out, WIRE_ADMIN, core_ring_token(c), &sm);
	return c->err;
}

int core_admin_rebalance(struct core *c, struct core_actions *out)
{
	if (!c->in_view || !c->round_done || !core_quorate(c))
		return -EAGAIN;
	c->err = 0;
	core_send_small(c, out, WIRE_REBALANCE, c->token, &(struct wire_small){0});
	return c->err;
}

static int standby_set(struct admin *a, uint32_t nodeid, bool on)
{
	size_t i = 0;

	while (i < a->n_standby && a->standby[i] < nodeid)
		i++;
	if (on) {
		uint32_t *v;

		if (i < a->n_standby && a->standby[i] == nodeid)
			return 0;
		if (a->n_standby >= WIRE_MAX_NODES)
			return -ENOSPC;
		v = realloc(a->standby, (a->n_standby + 1) * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		a->standby = v;
		memmove(&v[i + 1], &v[i], (a->n_standby - i) * sizeof(*v));
		v[i] = nodeid;
		a->n_standby++;
	} else if (i < a->n_standby && a->standby[i] == nodeid) {
		memmove(&a->standby[i], &a->standby[i + 1],
			(a->n_standby - i - 1) * sizeof(a->standby[0]));
		a->n_standby--;
	}
	return 0;
}

static int pin_set(struct admin *a, const struct res_addr *addr, uint32_t nodeid)
{
	size_t i = 0;

	while (i < a->n_pins && res_addr_cmp(&a->pins[i].addr, addr) < 0)
		i++;
	if (nodeid == 0) {
		if (i < a->n_pins && res_addr_cmp(&a->pins[i].addr, addr) == 0) {
			memmove(&a->pins[i], &a->pins[i + 1],
				(a->n_pins - i - 1) * sizeof(a->pins[0]));
			a->n_pins--;
		}
		return 0;
	}
	if (i < a->n_pins && res_addr_cmp(&a->pins[i].addr, addr) == 0) {
		a->pins[i].nodeid = nodeid;
		return 0;
	}
	if (a->n_pins >= WIRE_MAX_PINS)
		return -ENOSPC;
	{
		struct wire_pin *v = realloc(a->pins, (a->n_pins + 1) * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		a->pins = v;
		memmove(&v[i + 1], &v[i], (a->n_pins - i) * sizeof(*v));
		v[i].addr = *addr;
		v[i].nodeid = nodeid;
		a->n_pins++;
	}
	return 0;
}

static void admin_done(struct core *c, struct core_actions *out, uint64_t cookie, int err)
{
	struct core_action a = {.type = CORE_ACT_ADMIN_DONE};

	a.u.admin.cookie = cookie;
	a.u.admin.err = err;
	a.u.admin.generation = c->admin.generation;
	core_act(c, out, &a);
}

/* A cleanup changes nothing replicated: a failure hold is the holding
 * node's own memory, and what it made unservable travels in its health.
 * Ordering it through CPG still matters: every named node ends its hold
 * for the same request, and only in the ring whose quorum was checked. */
static int cleanup_apply(struct core *c, struct core_actions *out, uint32_t target,
			 const struct wire_small *sm)
{
	struct core_action a = {.type = CORE_ACT_CLEANUP, .u.idx = SIZE_MAX};

	if (sm->n_addrs > 1)
		return -EINVAL;
	if (target != 0 && target != c->cfg.nodeid)
		return 0;
	if (sm->n_addrs == 1) {
		long r = core_res_find(c, &sm->addrs[0]);

		if (r < 0 || c->res[r].local == UINT32_MAX)
			return 0;	/* not declared here: no hold to end */
		a.u.idx = c->res[r].local;
	}
	core_act(c, out, &a);
	return 0;
}

void core_admin_apply(struct core *c, struct core_actions *out, uint32_t nodeid,
		      const struct wire_hdr *h, const struct wire_small *sm)
{
	bool mine = nodeid == c->cfg.nodeid;
	uint64_t cookie = sm->n_nodes ? sm->incarnations[0] : 0;
	uint32_t target = sm->n_nodes ? sm->nodes[0] : 0;
	int rc = 0;

	if (sm->n_nodes != 1 || h->token != core_ring_token(c)) {
		/* sent in another ring: it may come from a side that lost
		 * quorum since; the operator is told to retry */
		if (mine)
			admin_done(c, out, cookie, -ESTALE);
		return;
	}
	switch (sm->value) {
	case CORE_ADMIN_STANDBY:
	case CORE_ADMIN_ACTIVE:
		rc = standby_set(&c->admin, target, sm->value == CORE_ADMIN_STANDBY);
		break;
	case CORE_ADMIN_MOVE:
	case CORE_ADMIN_UNPIN:
		if (sm->n_addrs != 1) {
			rc = -EINVAL;
			break;
		}
		rc = pin_set(&c->admin, &sm->addrs[0], sm->value == CORE_ADMIN_MOVE ? target : 0);
		break;
	case CORE_ADMIN_MAINT_ON:
	case CORE_ADMIN_MAINT_OFF:
		c->admin.maintenance = sm->value == CORE_ADMIN_MAINT_ON;
		break;
	case CORE_ADMIN_CLEANUP:
		rc = cleanup_apply(c, out, target, sm);
		if (mine)
			admin_done(c, out, cookie, rc);
		return;
	default:
		rc = -EINVAL;
	}
	if (rc == -ENOMEM)
		c->err = rc;
	if (rc == 0) {
		struct core_action p = {.type = CORE_ACT_PERSIST};

		c->admin.generation++;
		qb_log(LOG_NOTICE, "operator change %" PRIu32 " from node %" PRIu32 " applied, "
		       "generation %" PRIu64, sm->value, nodeid, c->admin.generation);
		core_replace(c, out, false, CORE_WHY_OPERATOR);
		core_act(c, out, &p);
	}
	if (mine)
		admin_done(c, out, cookie, rc);
}

void core_admin_get(const struct core *c, struct core_admin_view *v)
{
	v->generation = c->admin.generation;
	v->maintenance = c->admin.maintenance;
	v->n_standby = c->admin.n_standby;
	v->standby = c->admin.standby;
	v->n_pins = c->admin.n_pins;
}

void core_admin_pin_get(const struct core *c, size_t i, struct res_addr *vip, uint32_t *node)
{
	*vip = c->admin.pins[i].addr;
	*node = c->admin.pins[i].nodeid;
}

int core_admin_load(struct core *c, uint64_t generation, bool maintenance,
		    const uint32_t *standby, size_t n_standby, const struct res_addr *pin_vips,
		    const uint32_t *pin_nodes, size_t n_pins)
{
	struct admin a = {.generation = generation, .maintenance = maintenance};
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < n_standby; i++)
		rc = standby_set(&a, standby[i], true);
	for (size_t i = 0; rc == 0 && i < n_pins; i++)
		rc = pin_set(&a, &pin_vips[i], pin_nodes[i]);
	if (rc < 0) {
		core_admin_clear(&a);
		return rc;
	}
	core_admin_clear(&c->admin);
	c->admin = a;
	return 0;
}

uint32_t core_pin_of(const struct core *c, const struct res_addr *vip)
{
	for (size_t i = 0; i < c->admin.n_pins; i++)
		if (res_addr_cmp(&c->admin.pins[i].addr, vip) == 0)
			return c->admin.pins[i].nodeid;
	return 0;
}

/* ---- plan ---- */

int core_plan(struct core *c, uint32_t fail, uint32_t standby, struct core_plan_move **moves,
	      size_t *n)
{
	uint32_t *prev = NULL, *holder = NULL, *owner = NULL;
	bool *fixed = NULL;
	struct core_plan_move *v = NULL;
	size_t nv = 0;
	int rc = -ENOMEM;

	*moves = NULL;
	*n = 0;
	if (!c->round_done)
		return -EAGAIN;
	/* an unknown node would simply own nothing: "nothing moves" would
	 * then hide a typo in the very node the operator asked about */
	if ((fail && !node_known(c, fail)) || (standby && !node_known(c, standby)))
		return -ENOENT;
	prev = malloc((c->n_res + 1) * sizeof(*prev));
	holder = calloc(c->n_res + 1, sizeof(*holder));
	owner = calloc(c->n_res + 1, sizeof(*owner));
	fixed = calloc(c->n_res + 1, sizeof(*fixed));
	v = calloc(c->n_res + 1, sizeof(*v));
	if (prev == NULL || holder == NULL || owner == NULL || fixed == NULL || v == NULL)
		goto out;
	core_replace_input(c, prev, fixed, holder);
	if (fail) {
		/* a failed node is gone: what it holds has no holder */
		for (size_t r = 0; r < c->n_res; r++)
			if (c->res[r].owner == fail) {
				prev[r] = PLACE_NONE;
				fixed[r] = false;
			}
	}
	rc = core_place_compute(c, prev, fixed, c->cfg.failback == CORE_FAILBACK_AUTO,
				fail ? fail : standby, owner, NULL);
	if (rc < 0)
		goto out;
	for (size_t r = 0; r < c->n_res; r++) {
		if (owner[r] == c->res[r].owner)
			continue;
		v[nv].addr = c->res[r].addr;
		v[nv].from = c->res[r].owner;
		v[nv].to = owner[r];
		nv++;
	}
	*moves = v;
	*n = nv;
	v = NULL;
out:
	free(prev);
	free(holder);
	free(owner);
	free(fixed);
	free(v);
	return rc;
}

/* ---- views ---- */

static size_t unique_members(const struct core *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_members; i++)
		if (i == 0 || c->members[i].nodeid != c->members[i - 1].nodeid)
			n++;
	return n;
}

size_t core_node_count(const struct core *c)
{
	size_t n = unique_members(c);

	for (size_t i = 0; i < c->n_absent; i++)
		if (!core_has_nodeid(c, c->absent[i].nodeid))
			n++;
	return n;
}

/* The member that speaks for node 'nodeid' in views: a live one over one
 * excluded (a rogue process on a node must not hide its chorusd). */
static const struct member *node_member(const struct core *c, size_t first)
{
	const struct member *best = &c->members[first];

	for (size_t m = first; m < c->n_members && c->members[m].nodeid == best->nodeid; m++)
		if (best->excluded && !c->members[m].excluded)
			best = &c->members[m];
	return best;
}

void core_node_get(const struct core *c, size_t i, struct core_node_view *v)
{
	size_t k = 0;

	memset(v, 0, sizeof(*v));
	for (size_t m = 0; m < c->n_members; m++) {
		const struct member *mm;
		bool standby = false;

		if (m > 0 && c->members[m].nodeid == c->members[m - 1].nodeid)
			continue;
		if (k++ != i)
			continue;
		mm = node_member(c, m);
		for (size_t s = 0; s < c->admin.n_standby; s++)
			if (c->admin.standby[s] == mm->nodeid)
				standby = true;
		v->nodeid = mm->nodeid;
		v->health = mm->health;
		v->silent_ms = c->now_ms > mm->last_ms ? c->now_ms - mm->last_ms : 0;
		v->state = core_member_unresponsive(c, mm) ? CORE_NODE_UNRESPONSIVE
			   : mm->excluded ? CORE_NODE_EXCLUDED
			   : mm->leaving ? CORE_NODE_LEAVING
			   : standby	  ? CORE_NODE_STANDBY
			   : mm->health	  ? CORE_NODE_UNHEALTHY
					  : CORE_NODE_ACTIVE;
		goto count;
	}
	for (size_t a = 0; a < c->n_absent; a++) {
		if (core_has_nodeid(c, c->absent[a].nodeid))
			continue;
		if (k++ != i)
			continue;
		v->nodeid = c->absent[a].nodeid;
		v->state = c->absent[a].kind == WIRE_ABSENT_FENCE ? CORE_NODE_UNFENCED
								 : CORE_NODE_ABSENT;
		goto count;
	}
	return;
count:
	for (size_t r = 0; r < c->n_res; r++)
		if (c->res[r].owner == v->nodeid)
			v->owned++;
}

bool core_ring_get(const struct core *c, struct core_ring *ring)
{
	*ring = c->ring;
	return c->have_ring;
}

const char *core_table_why(const struct core *c)
{
	switch (c->table_why) {
	case CORE_WHY_MEMBERSHIP: return "membership change";
	case CORE_WHY_OPERATOR: return "operator";
	case CORE_WHY_HEALTH: return "health check";
	case CORE_WHY_REBALANCE: return "rebalance";
	case CORE_WHY_LOAD: return "load";
	case CORE_WHY_LEAVING: return "node shutting down";
	case CORE_WHY_LOST: return "node lost";
	case CORE_WHY_UNRESPONSIVE: return "node unresponsive";
	case CORE_WHY_NONE: break;
	}
	return "";
}

uint32_t core_conf_diff(const struct core *c, uint32_t nodeid, bool *known)
{
	uint32_t mask = 0;

	*known = false;
	for (size_t m = 0; m < c->n_members; m++) {
		const struct wire_state *st = &c->members[m].snap;

		if (c->members[m].nodeid != nodeid || !c->members[m].have_state ||
		    c->members[m].excluded || st->n_conf == 0)
			continue;
		*known = true;
		/* a newer daemon may add keys at the end: compare what both have */
		for (uint32_t i = 0; i < st->n_conf && i < c->cfg.n_conf && i < 32; i++)
			if (st->conf[i] != c->cfg.conf[i])
				mask |= 1u << i;
		break;
	}
	return mask;
}

bool core_ring_has(const struct core *c, uint32_t nodeid)
{
	for (size_t i = 0; c->have_ring && i < c->n_totem; i++)
		if (c->totem[i] == nodeid)
			return true;
	return false;
}

/* ---- views used by status, tests and the simulator ---- */

bool core_round_complete(const struct core *c)
{
	return c->in_view && c->round_done;
}

uint64_t core_digest(const struct core *c)
{
	return core_digest_get(c);
}

uint64_t core_table_gen(const struct core *c)
{
	return c->table_gen;
}

uint64_t core_token(const struct core *c)
{
	return c->token;
}

size_t core_res_count(const struct core *c)
{
	return c->n_res;
}

void core_res_get(const struct core *c, size_t i, struct core_res_view *v)
{
	const struct rent *e = &c->res[i];

	v->addr = e->addr;
	v->pool = c->pools[e->pool];
	v->owner = e->owner;
	v->from = e->from;
	v->prev = e->prev;
	v->continuing = e->continuing;
	v->exclusive = e->excl;
	v->fixed = e->fixed;
	v->local = e->local;
	v->holdoff_ms = 0;
	v->held_by = core_holdoff_get(c, &e->addr, e->owner == c->cfg.nodeid, &v->holdoff_ms);
	/* silent: every process of the owner's node that is in the view;
	 * absent: none is (its daemon is gone, the table waits for it) */
	v->owner_silent = false;
	v->owner_starting = false;
	v->owner_absent = e->owner != 0;
	for (size_t m = 0; e->owner && m < c->n_members; m++) {
		const struct member *mm = &c->members[m];

		if (mm->nodeid != e->owner)
			continue;
		v->owner_absent = false;
		if (!mm->excluded && !core_member_unresponsive(c, mm)) {
			v->owner_silent = false;
			v->owner_starting = e->owner != c->cfg.nodeid &&
					    res_addr_search(mm->not_up, mm->n_not_up, sizeof(*mm->not_up), 0,
						    &e->addr) >= 0;
			break;
		}
		v->owner_silent = true;
	}
}

bool core_local_assigned(const struct core *c, size_t idx, bool *waiting)
{
	const struct rent *e;

	if (waiting)
		*waiting = false;
	if (idx >= c->cfg.n_vips || c->lres[idx] == UINT32_MAX)
		return false;
	e = &c->res[c->lres[idx]];
	if (e->owner != c->cfg.nodeid)
		return false;
	if (waiting)
		*waiting = e->from != 0 && e->from != c->cfg.nodeid;
	return true;
}

bool core_local_up(const struct core *c, size_t idx)
{
	return idx < c->cfg.n_vips && c->lstate[idx] == L_HELD;
}

bool core_local_held(const struct core *c, size_t idx)
{
	return idx < c->cfg.n_vips &&
	       (c->lstate[idx] == L_HELD || c->lstate[idx] == L_ACQUIRING ||
		c->lstate[idx] == L_RELEASING);
}


size_t core_member_count(const struct core *c)
{
	return c->n_members;
}

uint32_t core_member_get(const struct core *c, size_t i, bool *eligible)
{
	const struct member *m = &c->members[i];
	bool ok = !m->excluded && !m->leaving && m->health == 0;

	for (size_t k = 0; ok && k < c->admin.n_standby; k++)
		if (c->admin.standby[k] == m->nodeid)
			ok = false;
	if (eligible)
		*eligible = ok;
	return m->nodeid;
}

uint16_t core_proto(const struct core *c)
{
	return c->proto;
}

void core_counters_get(const struct core *c, struct core_counters *out)
{
	*out = c->ctr;
}
