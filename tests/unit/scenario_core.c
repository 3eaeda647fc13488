/*
 * The scenario runner's adapter to the core (scenario_core.h says why it is
 * the only file that includes the core's headers).
 */
#include "scenario_core.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/load.h"
#include "core/state.h"
#include "core/wire.h"

struct scn_core {
	struct core *c;
};

void scn_acts_clear(struct scn_acts *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i].buf);
	a->n = 0;
}

void scn_acts_release(struct scn_acts *a)
{
	scn_acts_clear(a);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

int scn_core_new(const struct scn_daemon_cfg *d, struct scn_core **out)
{
	static const enum core_failback fb[] = {
		[SCN_FAILBACK_AUTO] = CORE_FAILBACK_AUTO,
		[SCN_FAILBACK_MANUAL] = CORE_FAILBACK_MANUAL,
		[SCN_FAILBACK_DELAY] = CORE_FAILBACK_DELAY,
	};
	static const enum core_fence fm[] = {
		[SCN_FENCE_NONE] = CORE_FENCE_NONE,
		[SCN_FENCE_GRACE] = CORE_FENCE_GRACE,
		[SCN_FENCE_COMMAND] = CORE_FENCE_COMMAND,
	};
	struct core_config cfg = {
		.nodeid = d->nodeid,
		.pid = d->pid,
		.incarnation = d->incarnation,
		.n_vips = d->n_vips,
		.vips = d->vips,
		.failback = fb[d->failback],
		.failback_delay_ms = d->failback_delay_ms,
		.round_timeout_ms = d->round_timeout_ms,
		.restart_grace_ms = d->restart_grace_ms,
		.shutdown_timeout_ms = d->shutdown_timeout_ms,
		.health_settle_ms = d->health_settle_ms,
		.proto_max = d->proto_max,
		.fence = fm[d->fence],
		.fence_grace_ms = d->fence_grace_ms,
		.n_nodes = d->n_nodes,
		.nodes = d->nodes,
		.load_interval_ms = d->load_interval_ms,
		.load_margin_pct = d->load_margin_pct,
		.load_budget = d->load_budget,
		.quiet_limit_ms = d->quiet_limit_ms,
		.heartbeat_ms = d->heartbeat_ms,
		.liveness_ms = d->liveness_ms,
		.unresponsive_ms = d->unresponsive_ms,
		.lifetime_ms = d->lifetime_ms,
		.expiry_margin_ms = d->expiry_margin_ms,
		.gap_ms = d->gap_ms,
		.skew_ms = d->skew_ms,
		.expiry_probe = d->expiry_probe,
		.probe_wait_ms = d->probe_wait_ms,
	};
	struct scn_core *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL)
		return -ENOMEM;
	rc = core_new(&cfg, &c->c);
	if (rc < 0) {
		free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void scn_core_free(struct scn_core *c)
{
	if (c == NULL)
		return;
	core_free(c->c);
	free(c);
}

static int acts_push(struct scn_acts *a, const struct scn_act *x)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 16;
		struct scn_act *v = realloc(a->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = *x;
	return 0;
}

/* A switch without a default: a new action type in state.h stops the
 * build here (-Wswitch) instead of reaching the world unnamed. */
static enum scn_act_type act_type(enum core_act_type t)
{
	switch (t) {
	case CORE_ACT_SEND: return SCN_ACT_SEND;
	case CORE_ACT_ACQUIRE: return SCN_ACT_ACQUIRE;
	case CORE_ACT_RELEASE: return SCN_ACT_RELEASE;
	case CORE_ACT_TIMER: return SCN_ACT_TIMER;
	case CORE_ACT_READY: return SCN_ACT_READY;
	case CORE_ACT_REJOIN: return SCN_ACT_REJOIN;
	case CORE_ACT_LEAVE: return SCN_ACT_LEAVE;
	case CORE_ACT_EXIT: return SCN_ACT_EXIT;
	case CORE_ACT_ADMIN_DONE: return SCN_ACT_ADMIN_DONE;
	case CORE_ACT_PERSIST: return SCN_ACT_PERSIST;
	case CORE_ACT_FENCE: return SCN_ACT_FENCE;
	case CORE_ACT_RENEW: return SCN_ACT_RENEW;
	case CORE_ACT_PROBE: return SCN_ACT_PROBE;
	case CORE_ACT_CLEANUP: return SCN_ACT_CLEANUP;
	}
	abort();
}

/* The core's actions in the runner's terms; send buffers change hands. */
static int acts_take(struct core_actions *ca, struct scn_acts *out)
{
	int rc = 0;

	for (size_t i = 0; i < ca->n; i++) {
		struct core_action *x = &ca->v[i];
		struct scn_act a = {.type = act_type(x->type)};

		switch (x->type) {
		case CORE_ACT_SEND:
			a.buf = x->u.send.buf;
			a.size = x->u.send.size;
			x->u.send.buf = NULL;
			break;
		case CORE_ACT_ACQUIRE:
		case CORE_ACT_RELEASE:
		case CORE_ACT_PROBE:
		case CORE_ACT_CLEANUP:
			a.idx = x->u.idx;
			break;
		case CORE_ACT_TIMER:
			a.at_ms = x->u.at_ms;
			break;
		case CORE_ACT_FENCE:
			a.node = x->u.node;
			break;
		case CORE_ACT_ADMIN_DONE:
			a.err = x->u.admin.err;
			a.generation = x->u.admin.generation;
			break;
		default:
			break;
		}
		if (rc == 0 && acts_push(out, &a) < 0)
			rc = -ENOMEM;
		if (rc < 0)
			free(a.buf);
	}
	return rc;
}

static int feed_event(struct core *c, const struct scn_in *in, struct core_actions *ca)
{
	struct core_event ev = {.now_ms = in->now_ms};
	struct core_member *m = NULL;
	size_t n = in->n_members + in->n_left + in->n_joined;
	int rc;

	switch (in->type) {
	case SCN_IN_CONFCHG:
		m = calloc(n + 1, sizeof(*m));
		if (m == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < in->n_members; i++)
			m[i] = (struct core_member){in->members[i].nodeid, in->members[i].pid,
						    in->members[i].reason};
		for (size_t i = 0; i < in->n_left; i++)
			m[in->n_members + i] = (struct core_member){
				in->left[i].nodeid, in->left[i].pid, in->left[i].reason};
		for (size_t i = 0; i < in->n_joined; i++)
			m[in->n_members + in->n_left + i] = (struct core_member){
				in->joined[i].nodeid, in->joined[i].pid, in->joined[i].reason};
		ev.type = CORE_EV_CONFCHG;
		ev.u.confchg.members = m;
		ev.u.confchg.n_members = in->n_members;
		ev.u.confchg.left = m + in->n_members;
		ev.u.confchg.n_left = in->n_left;
		ev.u.confchg.joined = m + in->n_members + in->n_left;
		ev.u.confchg.n_joined = in->n_joined;
		break;
	case SCN_IN_TOTEM:
		ev.type = CORE_EV_TOTEM;
		ev.u.totem.ring = (struct core_ring){in->ring.nodeid, in->ring.seq};
		ev.u.totem.nodeids = in->nodeids;
		ev.u.totem.n_nodeids = in->n_nodeids;
		break;
	case SCN_IN_QUORUM:
		ev.type = CORE_EV_QUORUM;
		ev.u.quorum.ring = (struct core_ring){in->ring.nodeid, in->ring.seq};
		ev.u.quorum.quorate = in->quorate;
		break;
	case SCN_IN_DELIVER:
		ev.type = CORE_EV_DELIVER;
		ev.u.deliver.nodeid = in->from_nodeid;
		ev.u.deliver.pid = in->from_pid;
		ev.u.deliver.buf = in->buf;
		ev.u.deliver.size = in->size;
		break;
	case SCN_IN_TICK:
		ev.type = CORE_EV_TICK;
		break;
	case SCN_IN_ACQUIRED:
	case SCN_IN_RELEASED:
	case SCN_IN_ADOPT:
		ev.type = in->type == SCN_IN_ACQUIRED ? CORE_EV_ACQUIRED
			  : in->type == SCN_IN_RELEASED ? CORE_EV_RELEASED
							: CORE_EV_ADOPT;
		ev.u.res.idx = in->idx;
		ev.u.res.err = in->err;
		ev.u.res.more = in->more;
		break;
	case SCN_IN_CLUSTER_LOST:
		ev.type = CORE_EV_CLUSTER_LOST;
		break;
	case SCN_IN_SHUTDOWN:
		ev.type = CORE_EV_SHUTDOWN;
		break;
	case SCN_IN_FENCED:
		ev.type = CORE_EV_FENCED;
		ev.u.fence.node = in->node;
		ev.u.fence.err = in->err;
		break;
	case SCN_IN_PROBED:
		ev.type = CORE_EV_PROBED;
		ev.u.probe.idx = in->idx;
		ev.u.probe.answered = in->answered;
		break;
	case SCN_IN_SETS:
		ev.type = CORE_EV_SETS;
		ev.u.sets.set = in->sets;
		break;
	default:
		return -EINVAL;
	}
	rc = core_step(c, &ev, ca);
	free(m);
	return rc;
}

/*
 * Everything a daemon tells its core goes through here, as core_step()
 * events.  Requests (operator, health, rebalance, fence-confirm) answer
 * with their own code in '*rc'.  Load reports are still stored apart
 * (core_set_load, which returns no actions); the daemon follows one with
 * a TICK so the core can act on it, and so does this.
 */
int scn_core_feed(struct scn_core *sc, const struct scn_in *in, struct scn_acts *out, int *rc)
{
	static const enum core_admin_op ops[] = {
		[SCN_ADMIN_STANDBY] = CORE_ADMIN_STANDBY,
		[SCN_ADMIN_ACTIVE] = CORE_ADMIN_ACTIVE,
		[SCN_ADMIN_MOVE] = CORE_ADMIN_MOVE,
		[SCN_ADMIN_UNPIN] = CORE_ADMIN_UNPIN,
		[SCN_ADMIN_MAINT_ON] = CORE_ADMIN_MAINT_ON,
		[SCN_ADMIN_MAINT_OFF] = CORE_ADMIN_MAINT_OFF,
		[SCN_ADMIN_CLEANUP] = CORE_ADMIN_CLEANUP,
	};
	struct core *c = sc->c;
	struct core_actions ca;
	struct core_event ev = {.now_ms = in->now_ms};
	int r = 0, fatal = 0;

	core_actions_init(&ca);
	switch (in->type) {
	case SCN_IN_ADMIN:
		ev.type = CORE_EV_ADMIN;
		ev.u.admin = (struct core_admin_req){.op = ops[in->op], .node = in->node,
						     .vip = in->addr, .cookie = in->cookie};
		r = core_step(c, &ev, &ca);
		break;
	case SCN_IN_HEALTH:
		ev.type = CORE_EV_HEALTH;
		ev.u.health.node_flags = in->node_flags;
		ev.u.health.unservable = in->unservable;
		ev.u.health.urgent = in->urgent;
		r = core_step(c, &ev, &ca);
		break;
	case SCN_IN_REBALANCE:
		ev.type = CORE_EV_REBALANCE;
		r = core_step(c, &ev, &ca);
		break;
	case SCN_IN_FENCE_CONFIRM:
		ev.type = CORE_EV_FENCE_CONFIRM;
		ev.u.confirm.node = in->node;
		r = core_step(c, &ev, &ca);
		break;
	case SCN_IN_LOAD: {
		ev.type = CORE_EV_TICK;
		r = core_set_load(c, in->idx, in->load, in->conns);
		if (r == 0)
			fatal = core_step(c, &ev, &ca);
		break;
	}
	default:
		fatal = feed_event(c, in, &ca);
		break;
	}
	if (r == -ENOMEM)
		fatal = r;
	*rc = r;
	if (acts_take(&ca, out) < 0)
		fatal = -ENOMEM;
	core_actions_release(&ca);
	return fatal;
}

static void addrs_append(char *out, size_t n, const struct res_addr *v, size_t k)
{
	for (size_t i = 0; i < k; i++) {
		char a[CHORUS_ADDR_STRLEN];
		size_t len = strlen(out);

		res_addr_format_ip(&v[i], a, sizeof(a));
		snprintf(out + len, n - len, " %s", a);
	}
}

static void nodes_append(char *out, size_t n, const uint32_t *v, size_t k)
{
	for (size_t i = 0; i < k; i++) {
		size_t len = strlen(out);

		snprintf(out + len, n - len, " n%" PRIu32, v[i]);
	}
}

static const char *admin_name(uint32_t op)
{
	switch (op) {
	case CORE_ADMIN_STANDBY: return "standby";
	case CORE_ADMIN_ACTIVE: return "active";
	case CORE_ADMIN_MOVE: return "move";
	case CORE_ADMIN_UNPIN: return "unpin";
	case CORE_ADMIN_MAINT_ON: return "maintenance-on";
	case CORE_ADMIN_MAINT_OFF: return "maintenance-off";
	case CORE_ADMIN_CLEANUP: return "cleanup";
	default: return "?";
	}
}

void scn_msg_describe(const void *buf, size_t size, char *out, size_t n, bool *routine)
{
	struct wire_hdr h;
	struct wire_small sm;
	size_t len;

	*routine = false;
	if (wire_decode_hdr(buf, size, &h) < 0) {
		snprintf(out, n, "(bad header)");
		return;
	}
	snprintf(out, n, "%s", wire_type_name(h.type));
	*routine = h.type == WIRE_PING;
	if (h.type == WIRE_LOAD) {
		struct wire_load ld;

		/* every member reports after every round: only figures matter */
		*routine = true;
		if (wire_decode_load(buf, size, &ld) < 0)
			return;
		for (uint32_t i = 0; i < ld.n; i++) {
			char a[CHORUS_ADDR_STRLEN];

			if (ld.ents[i].load == 0 && ld.ents[i].conns == 0)
				continue;
			*routine = false;
			res_addr_format_ip(&ld.ents[i].addr, a, sizeof(a));
			len = strlen(out);
			snprintf(out + len, n - len, " %s=%" PRIu32 "/%" PRIu32, a, ld.ents[i].load,
				 ld.ents[i].conns);
		}
		wire_load_clear(&ld);
		return;
	}
	if (h.type == WIRE_STATE || h.type == WIRE_CONNS || h.type == WIRE_PING)
		return;
	if (wire_decode_small(buf, size, &sm) < 0) {
		len = strlen(out);
		snprintf(out + len, n - len, " (bad body)");
		return;
	}
	len = strlen(out);
	switch (h.type) {
	case WIRE_ADMIN:
		snprintf(out + len, n - len, " %s", admin_name(sm.value));
		if (sm.value == CORE_ADMIN_STANDBY || sm.value == CORE_ADMIN_ACTIVE ||
		    sm.value == CORE_ADMIN_MOVE)
			nodes_append(out, n, sm.nodes, sm.n_nodes);
		addrs_append(out, n, sm.addrs, sm.n_addrs);
		break;
	case WIRE_LEAVING:
		if (sm.value == WIRE_LEAVING_CLEAN)
			snprintf(out + len, n - len, " clean");
		break;
	case WIRE_REBALANCE:
		if (sm.value & WIRE_REBALANCE_LOAD)
			snprintf(out + len, n - len, " load");
		break;
	case WIRE_HEALTH:
		if (sm.value & ~WIRE_HEALTH_CONFIRMED)
			snprintf(out + len, n - len, " node-failed");
		addrs_append(out, n, sm.addrs, sm.n_addrs);
		len = strlen(out);
		snprintf(out + len, n - len, "%s",
			 sm.value & WIRE_HEALTH_CONFIRMED ? " confirmed" : " pending");
		break;
	case WIRE_FENCED:
		nodes_append(out, n, sm.nodes, sm.n_nodes);
		len = strlen(out);
		if (sm.value == 2)
			snprintf(out + len, n - len, " (operator)");
		break;
	default:
		/* RELEASED, EXCLUDE, GRACE_EXPIRED, SUSPECT: nodes, then addresses */
		nodes_append(out, n, sm.nodes, sm.n_nodes);
		addrs_append(out, n, sm.addrs, sm.n_addrs);
		break;
	}
	wire_small_clear(&sm);
}

int scn_core_view(const struct scn_core *sc, struct scn_view *v)
{
	const struct core *c = sc->c;
	struct core_admin_view av;
	struct core_ring ring;

	memset(v, 0, sizeof(*v));
	v->have_ring = core_ring_get(c, &ring);
	v->ring = (struct scn_ring){ring.nodeid, ring.seq};
	v->round_complete = core_round_complete(c);
	v->in_view = core_member_count(c) > 0;
	v->quorate = core_quorate(c);
	v->proto = core_proto(c);
	v->token = core_token(c);
	v->digest = core_digest(c);
	v->dropping_all = core_dropping_all(c);
	v->excl_must_release = core_excl_must_release(c);
	core_admin_get(c, &av);
	v->generation = av.generation;
	v->maintenance = av.maintenance;
	for (size_t i = 0; i < av.n_standby && i < CHORUS_MAX_NODES; i++)
		v->standby[v->n_standby++] = av.standby[i];
	for (size_t i = 0; i < core_member_count(c) && i < CHORUS_MAX_NODES; i++)
		v->members[v->n_members++] = core_member_get(c, i, NULL);
	for (size_t i = 0; i < core_node_count(c) && i < CHORUS_MAX_NODES; i++) {
		struct core_node_view nv;

		core_node_get(c, i, &nv);
		v->nodes[v->n_nodes++] = (struct scn_view_node){
			nv.nodeid, (enum scn_node_state)nv.state, nv.health, nv.owned};
	}
	v->n_res = core_res_count(c);
	if (v->n_res) {
		v->res = calloc(v->n_res, sizeof(*v->res));
		if (v->res == NULL)
			return -ENOMEM;
	}
	for (size_t r = 0; r < v->n_res; r++) {
		struct core_res_view rv;
		struct scn_view_res *o = &v->res[r];

		core_res_get(c, r, &rv);
		o->addr = rv.addr;
		snprintf(o->pool, sizeof(o->pool), "%s", rv.pool);
		o->owner = rv.owner;
		o->from = rv.from;
		o->fixed = rv.fixed;
		o->held_by = rv.held_by;
		o->holdoff_ms = rv.holdoff_ms;
		o->exclusive = rv.exclusive;
		o->owner_silent = rv.owner_silent;
		o->owner_absent = rv.owner_absent;
		o->owner_starting = rv.owner_starting;
		o->pin = core_pin_of(c, &rv.addr);
		core_load_get(c, &rv.addr, &o->load, &o->conns);
	}
	return 0;
}

void scn_view_clear(struct scn_view *v)
{
	free(v->res);
	v->res = NULL;
	v->n_res = 0;
}

bool scn_core_local_held(const struct scn_core *c, size_t idx)
{
	return core_local_held(c->c, idx);
}

bool scn_core_round_complete(const struct scn_core *c)
{
	return core_round_complete(c->c);
}

bool scn_core_quorate(const struct scn_core *c)
{
	return core_quorate(c->c);
}

uint64_t scn_core_token(const struct scn_core *c)
{
	return core_token(c->c);
}

uint64_t scn_core_digest(const struct scn_core *c)
{
	return core_digest(c->c);
}

uint64_t scn_core_load_hash(const struct scn_core *sc)
{
	const struct core *c = sc->c;
	uint64_t h = 1469598103934665603ull;

	for (size_t r = 0; r < core_res_count(c); r++) {
		struct core_res_view v;
		uint32_t l, n;

		core_res_get(c, r, &v);
		core_load_get(c, &v.addr, &l, &n);
		h = (h ^ l) * 1099511628211ull;
		h = (h ^ n) * 1099511628211ull;
	}
	return h;
}

bool scn_core_maintenance(const struct scn_core *c)
{
	struct core_admin_view v;

	core_admin_get(c->c, &v);
	return v.maintenance;
}
