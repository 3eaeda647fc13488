/*
 * The read views of the control socket: status (one screen of the whole
 * cluster), nodes, vips, and plan (a dry run of the same placement).
 */
#include "config.h"

#include "daemon/ctl_private.h"

/* ---- reads ---- */

const char *ctl_state_name(enum core_node_state st)
{
	switch (st) {
	case CORE_NODE_ACTIVE: return "active";
	case CORE_NODE_STANDBY: return "standby";
	case CORE_NODE_UNHEALTHY: return "unhealthy";
	case CORE_NODE_LEAVING: return "leaving";
	case CORE_NODE_EXCLUDED: return "unhealthy";
	case CORE_NODE_ABSENT: return "left";
	case CORE_NODE_UNFENCED: return "lost";
	case CORE_NODE_UNRESPONSIVE: return "unresponsive";
	}
	return "?";
}

static const char *state_reason(enum core_node_state st)
{
	switch (st) {
	case CORE_NODE_STANDBY: return "operator standby";
	case CORE_NODE_UNHEALTHY: return "failed health check";
	case CORE_NODE_LEAVING: return "shutting down";
	case CORE_NODE_EXCLUDED: return "silent in round";
	case CORE_NODE_ABSENT: return "daemon gone, inside restart grace";
	case CORE_NODE_UNFENCED: return "left the ring, its bricks wait until it is known down";
	case CORE_NODE_UNRESPONSIVE:
		return "daemon silent while corosync delivers (frozen or wedged): its addresses "
		       "move once their lifetime there has run out";
	default: return "";
	}
}

/* Configured corosync nodes the core does not list (no daemon in the
 * group, no grace or fencing pending): crm_mon's OFFLINE.  Left out of
 * the health verdict, as before: a node that is gone and whose addresses
 * moved is a degraded cluster, not an unhealthy one. */
static void nodes_offline_json(struct chorusd *d, struct json_object *a)
{
	uint32_t ids[CHORUS_MAX_NODES];
	size_t n = d->cl && d->core ? cluster_node_ids(d->cl, ids, CHORUS_MAX_NODES) : 0;

	for (size_t k = 0; k < n; k++) {
		struct json_object *o;
		bool listed = false;
		char nb[32];

		for (size_t i = 0; i < core_node_count(d->core) && !listed; i++) {
			struct core_node_view v;

			core_node_get(d->core, i, &v);
			listed = v.nodeid == ids[k];
		}
		if (listed || (o = json_object_new_object()) == NULL)
			continue;
		json_object_object_add(o, "id", json_object_new_int64(ids[k]));
		json_object_object_add(o, "name",
				       json_object_new_string(ctl_node_name(d, ids[k], nb, sizeof(nb))));
		json_object_object_add(o, "state", json_object_new_string("offline"));
		json_object_object_add(o, "reason", json_object_new_string(
			core_ring_has(d->core, ids[k]) ? "corosync runs there, chorusd does not"
						       : "not in the corosync ring"));
		json_object_object_add(o, "vips", json_object_new_int64(0));
		json_object_object_add(o, "load", json_object_new_int64(0));
		json_object_array_add(a, o);
	}
}

struct json_object *ctl_nodes_json(struct chorusd *d, bool *all_active)
{
	struct json_object *a = json_object_new_array();

	*all_active = true;
	for (size_t i = 0; d->core && i < core_node_count(d->core); i++) {
		struct core_node_view v;
		struct json_object *o = json_object_new_object();
		char nb[32];

		core_node_get(d->core, i, &v);
		if (v.state != CORE_NODE_ACTIVE && v.state != CORE_NODE_STANDBY)
			*all_active = false;
		json_object_object_add(o, "id", json_object_new_int64(v.nodeid));
		json_object_object_add(o, "name",
				       json_object_new_string(ctl_node_name(d, v.nodeid, nb, sizeof(nb))));
		json_object_object_add(o, "state", json_object_new_string(ctl_state_name(v.state)));
		json_object_object_add(o, "reason", json_object_new_string(state_reason(v.state)));
		json_object_object_add(o, "vips", json_object_new_int64((int64_t)v.owned));
		json_object_object_add(o, "load", json_object_new_int64(ctl_node_load(d->core, v.nodeid)));
		{
			bool known;
			uint32_t mask = core_conf_diff(d->core, v.nodeid, &known);

			if (known && mask)
				json_object_object_add(o, "config_differs", drift_keys_json(mask));
		}
		json_object_array_add(a, o);
	}
	nodes_offline_json(d, a);
	return a;
}

struct json_object *ctl_vips_json(struct chorusd *d, size_t *unplaced)
{
	struct json_object *a = json_object_new_array();

	*unplaced = 0;
	/* Without a core (no corosync yet) nobody owns anything; the
	 * configured addresses still say what this node would serve. */
	for (size_t i = 0; d->core == NULL && i < d->conf->n_vips; i++) {
		struct json_object *o = json_object_new_object();
		char t[CHORUS_ADDR_STRLEN];

		res_addr_format(&d->conf->vips[i].addr, t, sizeof(t));
		json_object_object_add(o, "address", json_object_new_string(t));
		json_object_object_add(o, "pool", json_object_new_string(d->conf->vips[i].pool));
		json_object_object_add(o, "owner", NULL);
		json_object_object_add(o, "owner_name", NULL);
		json_object_object_add(o, "state", json_object_new_string("unknown"));
		json_object_object_add(o, "pinned", NULL);
		json_object_array_add(a, o);
	}
	const uint32_t self = d->cl ? cluster_nodeid(d->cl) : 0;

	for (size_t i = 0; d->core && i < core_res_count(d->core); i++) {
		struct core_res_view v;
		struct json_object *o = json_object_new_object();
		char t[CHORUS_ADDR_STRLEN], nb[32];
		uint32_t pin;

		core_res_get(d->core, i, &v);
		res_addr_format(&v.addr, t, sizeof(t));
		pin = core_pin_of(d->core, &v.addr);
		json_object_object_add(o, "address", json_object_new_string(t));
		json_object_object_add(o, "pool", json_object_new_string(v.pool));
		json_object_object_add(o, "owner", json_object_new_int64(v.owner));
		json_object_object_add(o, "owner_name",
				       v.owner ? json_object_new_string(ctl_node_name(d, v.owner, nb,
										  sizeof(nb)))
					       : NULL);
		/* "up" only when the owner is live and has nothing to wait for:
		 * a silent owner's address may be gone from its kernel, and a new
		 * owner waiting for a lost node's lifetime has not taken it yet.
		 * The owner itself knows more than the table: until its executor
		 * has added the address (and, for a brick, the script has started
		 * it and glusterd answers its port) it says "starting", and its
		 * PINGs tell the others so. */
		json_object_object_add(o, "state",
				       json_object_new_string(v.owner == 0	  ? "unplaced"
							      : v.owner_silent ? "unresponsive"
							      : v.owner_absent ? "absent"
							      : v.held_by	  ? "pending"
							      : v.from	  ? "moving"
							      : v.owner_starting ? "starting"
							      : v.owner == self && v.local != UINT32_MAX &&
									!core_local_up(d->core, v.local)
									  ? "starting"
									  : "up"));
		if (v.held_by) {
			json_object_object_add(o, "held_by", json_object_new_int64(v.held_by));
			json_object_object_add(o, "holdoff_ms",
					       json_object_new_int64((int64_t)v.holdoff_ms));
		}
		json_object_object_add(o, "pinned", pin ? json_object_new_int64(pin) : NULL);
		if (v.exclusive) {
			/* a brick: which lost node it waits for (fencing or grace) */
			json_object_object_add(o, "exclusive", json_object_new_boolean(1));
			json_object_object_add(o, "waiting_for",
					       v.fixed ? json_object_new_int64(v.fixed) : NULL);
		}
		{
			uint32_t l, cn;

			core_load_get(d->core, &v.addr, &l, &cn);
			json_object_object_add(o, "load", json_object_new_int64(l));
			json_object_object_add(o, "conns", json_object_new_int64(cn));
		}
		if (v.owner == 0)
			(*unplaced)++;
		json_object_array_add(a, o);
	}
	return a;
}

/* This node's plugin verdicts: scope, plugin, health, reason, since. */
static struct json_object *checks_json(struct chorusd *d)
{
	struct json_object *a = json_object_new_array();
	struct plugin_host *h = health_host(d);
	static const char *const names[] = {"ok", "degraded", "failed"};

	for (size_t i = 0; h && i < plugin_host_scope_count(h); i++) {
		struct plugin_scope_view v;
		struct json_object *o = json_object_new_object();

		plugin_host_scope_get(h, i, &v);
		json_object_object_add(o, "scope", json_object_new_string(v.scope));
		json_object_object_add(o, "plugin", json_object_new_string(v.plugin ? v.plugin : ""));
		json_object_object_add(o, "health",
				       json_object_new_string(names[v.health <= 2 ? v.health : 2]));
		json_object_object_add(o, "reason", json_object_new_string(v.reason ? v.reason : ""));
		json_object_object_add(o, "age_ms",
				       json_object_new_int64((int64_t)(daemon_mono_ms() - v.since_ms)));
		json_object_array_add(a, o);
	}
	return a;
}

struct json_object *ctl_status_json(struct chorusd *d)
{
	struct ctl_state *s = d->ctl;
	struct json_object *r = json_object_new_object(), *c = json_object_new_object();
	struct json_object *nodes, *vips;
	struct core_ring ring = {0};
	struct core_admin_view av = {0};
	bool all_active, quorate = d->core && core_quorate(d->core);
	size_t unplaced;
	char rb[48], db[20];

	nodes = ctl_nodes_json(d, &all_active);
	vips = ctl_vips_json(d, &unplaced);
	if (d->core) {
		core_ring_get(d->core, &ring);
		core_admin_get(d->core, &av);
	}
	snprintf(rb, sizeof(rb), "%" PRIx32 ".%" PRIx64, ring.nodeid, ring.seq);
	/* the core exists once corosync has answered; before, quorum is
	 * not known, which "quorate":false alone would not say */
	json_object_object_add(c, "connected", json_object_new_boolean(d->core != NULL));
	json_object_object_add(c, "quorate", json_object_new_boolean(quorate));
	json_object_object_add(c, "members",
			       json_object_new_int64(d->core ? (int64_t)core_member_count(d->core) : 0));
	json_object_object_add(c, "ring", json_object_new_string(rb));
	json_object_object_add(c, "generation", json_object_new_int64((int64_t)av.generation));
	json_object_object_add(c, "since_change_ms",
			       json_object_new_int64(s->change_ms ? (int64_t)(daemon_mono_ms() -
									      s->change_ms)
								  : 0));
	json_object_object_add(c, "last_failover_ms",
			       s->last_failover_ms >= 0 ? json_object_new_int64(s->last_failover_ms)
							: NULL);
	json_object_object_add(c, "maintenance", json_object_new_boolean(av.maintenance));
	json_object_object_add(c, "config_drift", json_object_new_int64((int64_t)s->n_drift));
	json_object_object_add(c, "metrics_endpoint",
			       s->mh ? json_object_new_string(d->conf->metrics_listen) : NULL);
	json_object_object_add(c, "healthy",
			       json_object_new_boolean(quorate && d->core &&
						       core_round_complete(d->core) && all_active &&
						       unplaced == 0));
	json_object_object_add(c, "node_id",
			       json_object_new_int64(d->cl ? cluster_nodeid(d->cl) : 0));
	json_object_object_add(c, "proto", json_object_new_int64(d->core ? core_proto(d->core) : 0));
	if (d->core) {
		uint64_t reb, mv;
		struct core_counters k;

		/* a hostile or broken member shows here first (state_msg.c) */
		core_counters_get(d->core, &k);
		json_object_object_add(c, "messages_dropped_hold",
				       json_object_new_int64((int64_t)k.dropped_hold));
		/* corosync's longest silence against the limit that releases all */
		json_object_object_add(c, "silence_max_ms",
				       json_object_new_int64((int64_t)k.silence_max_ms));
		json_object_object_add(c, "quiet_limit_ms",
				       json_object_new_int64((int64_t)d->timing.quiet_limit_ms));
		json_object_object_add(c, "self_releases",
				       json_object_new_int64((int64_t)k.self_releases));
		core_load_stats(d->core, &reb, &mv);
		json_object_object_add(c, "load_rebalances", json_object_new_int64((int64_t)reb));
		json_object_object_add(c, "load_moves", json_object_new_int64((int64_t)mv));
	}
	/* For scripts that compare members (tests/chaos): the digest covers the
	 * view token and every owner, so equal digests with the round complete
	 * mean the same view agreed on the same assignment. */
	json_object_object_add(c, "round_complete",
			       json_object_new_boolean(d->core && core_round_complete(d->core)));
	snprintf(db, sizeof(db), "%016" PRIx64, d->core ? core_digest(d->core) : 0);
	json_object_object_add(c, "digest", json_object_new_string(db));
	json_object_object_add(r, "cluster", c);
	json_object_object_add(r, "nodes", nodes);
	json_object_object_add(r, "vips", vips);
	json_object_object_add(r, "checks", checks_json(d));
	if (d->conf->n_bricks || d->n_unresolved)
		json_object_object_add(r, "bricks", bricks_status_json(d));
	if (d->conf->n_hooks)
		json_object_object_add(r, "hooks", hooks_status_json(d->hk));
	return r;
}

/* The plan as '*out', or core_plan()'s error with nothing allocated. */
int ctl_plan_json(struct chorusd *d, uint32_t fail, uint32_t standby, struct json_object **out)
{
	struct json_object *r, *mv, *un;
	struct core_plan_move *moves = NULL;
	size_t n = 0;
	char why[160], nb[32];
	bool load;
	int rc;

	if (fail)
		snprintf(why, sizeof(why), "%s fails", ctl_node_name(d, fail, nb, sizeof(nb)));
	else if (standby)
		snprintf(why, sizeof(why), "%s goes to standby",
			 ctl_node_name(d, standby, nb, sizeof(nb)));
	else
		snprintf(why, sizeof(why), "rebalance");
	/* with load known, a rebalance is a load rebalance: say what it would
	 * do to the loads of the two nodes of each move */
	load = !fail && !standby && ctl_load_known(d->core);
	rc = load ? core_load_plan(d->core, &moves, &n)
		  : core_plan(d->core, fail, standby, &moves, &n);
	if (rc < 0) {
		free(moves);
		return rc;
	}
	r = json_object_new_object();
	mv = json_object_new_array();
	un = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		char t[CHORUS_ADDR_STRLEN], n1[32], n2[32];
		struct json_object *o;

		res_addr_format(&moves[i].addr, t, sizeof(t));
		if (moves[i].to == 0) {
			json_object_array_add(un, json_object_new_string(t));
			continue;
		}
		o = json_object_new_object();
		json_object_object_add(o, "vip", json_object_new_string(t));
		json_object_object_add(o, "from", json_object_new_int64(moves[i].from));
		json_object_object_add(o, "from_name",
				       moves[i].from ? json_object_new_string(ctl_node_name(
							       d, moves[i].from, n1, sizeof(n1)))
						     : NULL);
		json_object_object_add(o, "to", json_object_new_int64(moves[i].to));
		json_object_object_add(o, "to_name", json_object_new_string(ctl_node_name(
							     d, moves[i].to, n2, sizeof(n2))));
		if (load)
			ctl_load_why(d->core, moves, n, i, why, sizeof(why));
		json_object_object_add(o, "why", json_object_new_string(why));
		json_object_array_add(mv, o);
	}
	free(moves);
	json_object_object_add(r, "moves", mv);
	json_object_object_add(r, "unplaced", un);
	*out = r;
	return 0;
}

/* Prometheus text exposition; names and help are documented in chorusctl(8). */
/* The control socket's own figures: a refusal count that climbs means
 * someone is knocking, a full reader count that readers are shut out. */
