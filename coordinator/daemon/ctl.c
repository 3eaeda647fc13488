/*
 * The daemon's side of the control socket: what each command does and the
 * event log behind `chorusctl events` (the core's own, corelog.h, is behind
 * `events --core`).  ctl_track.c notices changes and saves the operator
 * state, ctl_status.c builds the read views, ctl_metrics.c the metrics.
 *
 * Reads are answered from the core's views at once.  Changes go through
 * the core as CPG messages; the reply waits until our own message has been
 * delivered and applied (CORE_ACT_ADMIN_DONE), so "applied" means every
 * member of the view has it, in the same order.
 */
#include "config.h"

#include "daemon/ctl_private.h"

uint64_t ctl_wall_ms(void)
{
	return qb_util_nano_from_epoch_get() / QB_TIME_NS_IN_MSEC;
}

const char *ctl_node_name(struct chorusd *d, uint32_t id, char *buf, size_t size)
{
	const char *n = d->cl ? cluster_node_name(d->cl, id) : NULL;

	if (n)
		return n;
	snprintf(buf, size, "node%" PRIu32, id);
	return buf;
}

/* A node given by name or number. */
uint32_t ctl_node_lookup(struct chorusd *d, const char *s)
{
	char *end = NULL;
	unsigned long v;

	if (s == NULL || *s == '\0')
		return 0;
	if (d->cl) {
		uint32_t id = cluster_node_by_name(d->cl, s);

		if (id)
			return id;
	}
	v = strtoul(s, &end, 10);
	if (end && *end == '\0' && v > 0 && v <= UINT32_MAX)
		return (uint32_t)v;
	if (strncmp(s, "node", 4) == 0)
		return ctl_node_lookup(d, s + 4);
	return 0;
}

/* ---- events ---- */

void ctl_event_add(struct chorusd *d, const char *type, const char *fmt, ...)
{
	struct ctl_state *s = d->ctl;
	struct json_object *o;
	char text[200];
	va_list ap;

	if (s == NULL || s->hist == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	o = history_add(s->hist, ctl_wall_ms(), type, text);
	if (o != NULL && s->notify != NULL) {
		struct json_object *t;

		notify_set_nodeid(s->notify, d->cl ? cluster_nodeid(d->cl) : 0);
		notify_event(s->notify, type, json_object_object_get_ex(o, "time", &t)
					? json_object_get_string(t) : "", text);
	}
	if (o != NULL && s->ctl)
		control_publish(s->ctl, o);
	else
		json_object_put(o);
}

void ctl_event(struct chorusd *d, const char *type, const char *fmt, ...)
{
	char text[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ctl_event_add(d, type, "%s", text);
}

/* ---- changes ---- */

static void admin_request(struct chorusd *d, const struct control_request *req,
			  enum core_admin_op op, uint32_t node, const struct res_addr *vip)
{
	struct ctl_state *s = d->ctl;
	struct core_event ev = {.type = CORE_EV_ADMIN};
	struct core_admin_req *ar = &ev.u.admin;
	int rc;

	if (s->n_pend >= PENDING_MAX) {
		control_error(s->ctl, req->client, req->id, "busy", "too many changes in flight");
		return;
	}
	ar->op = op;
	ar->node = node;
	if (vip)
		ar->vip = *vip;
	ar->cookie = ++s->cookie;
	rc = daemon_step(d, &ev);
	switch (rc) {
	case 0:
		break;
	case -EAGAIN:
		control_error(s->ctl, req->client, req->id, "not_quorate",
			      "this node has no quorate view; changes need quorum");
		return;
	case -ENOENT:
		control_error(s->ctl, req->client, req->id, vip ? "unknown_vip" : "unknown_node",
			      "no such %s in the cluster", vip && op != CORE_ADMIN_STANDBY &&
							   op != CORE_ADMIN_ACTIVE ? "node or vip"
										 : "node");
		return;
	case -EPERM:
		control_error(s->ctl, req->client, req->id, "not_eligible",
			      "that node does not declare this address");
		return;
	default:
		control_error(s->ctl, req->client, req->id, "internal", "rc=%d", rc);
		return;
	}
	/* the table as the daemon last saw it (ctl_after_step keeps it);
	 * without memory the answer just lists no moves */
	s->pend[s->n_pend].before = s->n_snap ? malloc(s->n_snap * sizeof(*s->snap)) : NULL;
	s->pend[s->n_pend].n_before = s->pend[s->n_pend].before ? s->n_snap : 0;
	if (s->pend[s->n_pend].before)
		memcpy(s->pend[s->n_pend].before, s->snap, s->n_snap * sizeof(*s->snap));
	s->pend[s->n_pend].cookie = ar->cookie;
	s->pend[s->n_pend].client = req->client;
	snprintf(s->pend[s->n_pend].id, sizeof(s->pend[0].id), "%s", req->id);
	s->pend[s->n_pend].deadline_ms = daemon_mono_ms() + ADMIN_TIMEOUT_MS;
	s->n_pend++;
	ctl_event_add(d, "admin", "%s requested by uid %u", req->cmd, (unsigned)req->uid);
}

/* Every owner change since 'p' was asked: the change itself and what
 * placement moved besides it (a pin can push another address off its
 * node to keep the counts even), so that nothing moves unannounced. */
static struct json_object *moves_since(struct chorusd *d, const struct pending *p)
{
	struct json_object *arr = json_object_new_array();
	size_t n = core_res_count(d->core), j = 0;

	for (size_t i = 0; arr != NULL && i < n; i++) {
		struct core_res_view v;
		struct json_object *mv;
		char a[CHORUS_ADDR_STRLEN], nb[32];

		core_res_get(d->core, i, &v);
		while (j < p->n_before && res_addr_cmp(&p->before[j].addr, &v.addr) < 0)
			j++;
		if (j >= p->n_before || res_addr_cmp(&p->before[j].addr, &v.addr) != 0 ||
		    p->before[j].owner == v.owner || (mv = json_object_new_object()) == NULL)
			continue;
		res_addr_format_ip(&v.addr, a, sizeof(a));
		json_object_object_add(mv, "vip", json_object_new_string(a));
		json_object_object_add(mv, "from", json_object_new_int64(p->before[j].owner));
		if (p->before[j].owner)
			json_object_object_add(mv, "from_name", json_object_new_string(
				ctl_node_name(d, p->before[j].owner, nb, sizeof(nb))));
		json_object_object_add(mv, "to", json_object_new_int64(v.owner));
		if (v.owner)
			json_object_object_add(mv, "to_name", json_object_new_string(
				ctl_node_name(d, v.owner, nb, sizeof(nb))));
		json_object_array_add(arr, mv);
	}
	return arr;
}

void ctl_admin_done(struct chorusd *d, uint64_t cookie, int err, uint64_t generation)
{
	struct ctl_state *s = d->ctl;

	for (size_t i = 0; s && i < s->n_pend; i++) {
		struct pending p = s->pend[i];

		if (p.cookie != cookie)
			continue;
		s->pend[i] = s->pend[--s->n_pend];
		if (err == 0) {
			struct json_object *r = json_object_new_object();

			json_object_object_add(r, "applied", json_object_new_boolean(1));
			json_object_object_add(r, "generation",
					       json_object_new_int64((int64_t)generation));
			json_object_object_add(r, "moves", moves_since(d, &p));
			control_reply(s->ctl, p.client, p.id, r);
		} else if (err == -ESTALE) {
			control_error(s->ctl, p.client, p.id, "retry",
				      "the view changed before the change was applied; retry");
		} else {
			control_error(s->ctl, p.client, p.id, "internal", "rc=%d", err);
		}
		free(p.before);
		return;
	}
}

static void pending_tick(void *data)
{
	struct chorusd *d = data;
	struct ctl_state *s = d->ctl;
	uint64_t now = daemon_mono_ms();

	for (size_t i = 0; i < s->n_pend;) {
		if (now < s->pend[i].deadline_ms) {
			i++;
			continue;
		}
		control_error(s->ctl, s->pend[i].client, s->pend[i].id, "timeout",
			      "not applied within %d ms", ADMIN_TIMEOUT_MS);
		free(s->pend[i].before);
		s->pend[i] = s->pend[--s->n_pend];
	}
	qb_loop_timer_add(d->loop, QB_LOOP_LOW, QB_TIME_NS_IN_SEC, d, pending_tick, &s->timer);
}

static const char *arg_str(struct json_object *args, const char *key)
{
	struct json_object *x;

	if (!json_object_object_get_ex(args, key, &x) || !json_object_is_type(x, json_type_string))
		return NULL;
	return json_object_get_string(x);
}

static void reexec_cb(void *data)
{
	struct chorusd *d = data;

	d->reexec = true;
	daemon_exit(d);
}

void ctl_restart_in_place(struct chorusd *d, const char *why)
{
	qb_loop_timer_handle t;

	if (d->reexec_armed)
		return;
	d->reexec_armed = true;
	qb_log(LOG_NOTICE, "%s: restarting in place", why);
	ctl_event_add(d, "admin", "%s: restarting in place", why);
	qb_loop_timer_add(d->loop, QB_LOOP_LOW, 200 * QB_TIME_NS_IN_MSEC, d, reexec_cb, &t);
}

static void do_reload(struct chorusd *d, const struct control_request *req)
{
	struct chorus_conf *nc = NULL;
	char err[1024];
	struct json_object *r;

	if (conf_load(d->conf_path, &nc, err, sizeof(err)) < 0) {
		control_error(d->ctl->ctl, req->client, req->id, "bad_config",
			      "%s (running configuration unchanged)", err);
		return;
	}
	{
		struct timing tm;

		/* what the new process would refuse once corosync answers */
		if (d->core != NULL &&
		    daemon_timing(d, nc, &tm, err, sizeof(err), NULL, 0) < 0) {
			conf_free(nc);
			control_error(d->ctl->ctl, req->client, req->id, "bad_config",
				      "%s: %s (running configuration unchanged)", d->conf_path,
				      err);
			return;
		}
	}
	conf_free(nc);
	/* The new file is valid.  Applying it is an in-place restart: the
	 * addresses stay, peers keep them accounted to us for the restart
	 * grace, and the new process adopts them, so nothing moves. */
	r = json_object_new_object();
	json_object_object_add(r, "applied", json_object_new_boolean(1));
	json_object_object_add(r, "restart", json_object_new_boolean(1));
	control_reply(d->ctl->ctl, req->client, req->id, r);
	{
		char why[64];

		snprintf(why, sizeof(why), "reload requested by uid %u", (unsigned)req->uid);
		ctl_restart_in_place(d, why);
	}
}

static void cmd_reload(struct chorusd *d, const struct control_request *req)
{
	do_reload(d, req);
}

static void cmd_log_level(struct chorusd *d, const struct control_request *req)
{
	static const char *const names[] = {"error", "warning", "notice", "info",
					    "debug", "trace"};
	static const int levels[] = {LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO,
				     LOG_DEBUG, LOG_DEBUG + 1};
	struct ctl_state *s = d->ctl;
	const char *want = arg_str(req->args, "level");

	for (size_t i = 0; want && i < 6; i++)
		if (strcmp(want, names[i]) == 0) {
			daemon_set_log_level(d, levels[i]);
			ctl_event_add(d, "admin", "log level %s by uid %u", want, (unsigned)req->uid);
			control_reply(s->ctl, req->client, req->id, NULL);
			return;
		}
	control_error(s->ctl, req->client, req->id, "bad_request",
		      "\"level\" must be error, warning, notice, info, debug or trace");
}

static void cmd_blackbox(struct chorusd *d, const struct control_request *req)
{
	struct ctl_state *s = d->ctl;
	char path[PATH_MAX + 64];
	struct json_object *r;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/chorusd-blackbox-%" PRIu64, d->conf->state_dir,
		 ctl_wall_ms() / 1000);
	mkdir(d->conf->state_dir, 0755);
	n = qb_log_blackbox_write_to_file(path);
	if (n < 0) {
		control_error(s->ctl, req->client, req->id, "internal", "cannot write %s: %s",
			      path, strerror((int)-n));
		return;
	}
	r = json_object_new_object();
	json_object_object_add(r, "path", json_object_new_string(path));
	json_object_object_add(r, "bytes", json_object_new_int64(n));
	control_reply(s->ctl, req->client, req->id, r);
}

static void cmd_status(struct chorusd *d, const struct control_request *req)
{
	control_reply(d->ctl->ctl, req->client, req->id, ctl_status_json(d));
}

static void cmd_nodes(struct chorusd *d, const struct control_request *req)
{
	struct json_object *r = json_object_new_object();
	bool all;

	json_object_object_add(r, "nodes", ctl_nodes_json(d, &all));
	control_reply(d->ctl->ctl, req->client, req->id, r);
}

/* The bricks part of status, with the nodes and addresses its table names. */
static void cmd_bricks(struct chorusd *d, const struct control_request *req)
{
	struct json_object *r = json_object_new_object();
	bool all_active;
	size_t un;

	json_object_object_add(r, "bricks", d->conf->n_bricks || d->n_unresolved
						    ? bricks_status_json(d) : NULL);
	json_object_object_add(r, "nodes", ctl_nodes_json(d, &all_active));
	json_object_object_add(r, "vips", ctl_vips_json(d, &un));
	control_reply(d->ctl->ctl, req->client, req->id, r);
}

static void cmd_vips(struct chorusd *d, const struct control_request *req)
{
	struct json_object *r = json_object_new_object();
	size_t un;

	json_object_object_add(r, "vips", ctl_vips_json(d, &un));
	control_reply(d->ctl->ctl, req->client, req->id, r);
}

static void cmd_events(struct chorusd *d, const struct control_request *req)
{
	struct ctl_state *s = d->ctl;
	struct json_object *x;
	int64_t limit = 0;
	uint64_t since = 0;
	bool follow = false, core = false;

	if (json_object_object_get_ex(req->args, "limit", &x))
		limit = json_object_get_int64(x);
	if (json_object_object_get_ex(req->args, "since", &x)) {
		/* wall-clock ms; the client turns "10m" or a date into it */
		if (!json_object_is_type(x, json_type_int) || json_object_get_int64(x) < 0) {
			control_error(s->ctl, req->client, req->id, "bad_request",
				      "since: expected milliseconds since the epoch");
			return;
		}
		since = (uint64_t)json_object_get_int64(x);
	}
	if (json_object_object_get_ex(req->args, "follow", &x))
		follow = json_object_get_boolean(x);
	if (json_object_object_get_ex(req->args, "core", &x))
		core = json_object_get_boolean(x);
	if (core && follow) {
		/* a stream of every heartbeat and tick would drown the
		 * operator events it would share a subscription with */
		control_error(s->ctl, req->client, req->id, "bad_request",
			      "core events cannot be followed");
		return;
	}
	if (core) {
		control_reply(s->ctl, req->client, req->id,
			      corelog_json(d->corelog, limit > 0 ? (size_t)limit : 0,
					   daemon_mono_ms()));
		return;
	}
	control_reply(s->ctl, req->client, req->id,
		      history_json(s->hist, limit > 0 ? (size_t)limit : 0, since));
	if (follow)
		control_subscribe(s->ctl, req->client);
}

static void cmd_plan(struct chorusd *d, const struct control_request *req)
{
	struct ctl_state *s = d->ctl;
	const char *f = arg_str(req->args, "fail"), *sb = arg_str(req->args, "standby");
	uint32_t fail = f ? ctl_node_lookup(d, f) : 0, stb = sb ? ctl_node_lookup(d, sb) : 0;
	struct json_object *r = NULL;
	int rc;

	if ((f && !fail) || (sb && !stb)) {
		control_error(s->ctl, req->client, req->id, "unknown_node", "no node %s",
			      f ? f : sb);
		return;
	}
	rc = ctl_plan_json(d, fail, stb, &r);
	if (rc == -ENOENT)
		control_error(s->ctl, req->client, req->id, "unknown_node",
			      "no node %s in the cluster", f ? f : sb);
	else if (rc == -EAGAIN)
		control_error(s->ctl, req->client, req->id, "not_quorate",
			      "no placement round has completed on this node yet");
	else if (rc < 0)
		control_error(s->ctl, req->client, req->id, "internal", "rc=%d", rc);
	else
		control_reply(s->ctl, req->client, req->id, r);
}

static void cmd_metrics(struct chorusd *d, const struct control_request *req)
{
	control_reply(d->ctl->ctl, req->client, req->id, ctl_metrics_json(d));
}

/* standby and active */
static void cmd_standby(struct chorusd *d, const struct control_request *req)
{
	uint32_t n = ctl_node_lookup(d, arg_str(req->args, "node"));

	if (n == 0) {
		control_error(d->ctl->ctl, req->client, req->id, "unknown_node", "no such node");
		return;
	}
	admin_request(d, req, req->cmd[0] == 's' ? CORE_ADMIN_STANDBY : CORE_ADMIN_ACTIVE, n,
		      NULL);
}

/* move and unpin */
static void cmd_move(struct chorusd *d, const struct control_request *req)
{
	struct ctl_state *s = d->ctl;
	const char *v = arg_str(req->args, "vip");
	struct res_addr a;
	char full[CHORUS_ADDR_STRLEN + 8];
	uint32_t n = 0;

	/* the prefix is not part of a VIP's identity */
	snprintf(full, sizeof(full), "%s%s", v ? v : "", v && strchr(v, '/') ? "" : "/32");
	if (v == NULL || res_addr_parse(full, &a) < 0) {
		if (v && strchr(v, ':') && !strchr(v, '/'))
			snprintf(full, sizeof(full), "%s/128", v);
		if (v == NULL || res_addr_parse(full, &a) < 0) {
			control_error(s->ctl, req->client, req->id, "bad_request",
				      "\"vip\" must be an address");
			return;
		}
	}
	if (req->cmd[0] == 'm') {
		n = ctl_node_lookup(d, arg_str(req->args, "node"));
		if (n == 0) {
			control_error(s->ctl, req->client, req->id, "unknown_node",
				      "no such node");
			return;
		}
		if (bricks_move_refused(d, &a)) {
			control_error(s->ctl, req->client, req->id, "brick_multiplex",
				      "cluster.brick-multiplex is on: the brick would be stopped "
				      "here and started nowhere (gluster volume set all "
				      "cluster.brick-multiplex off)");
			return;
		}
	}
	admin_request(d, req, req->cmd[0] == 'm' ? CORE_ADMIN_MOVE : CORE_ADMIN_UNPIN, n, &a);
}

static void cmd_maintenance(struct chorusd *d, const struct control_request *req)
{
	struct json_object *x;

	if (!json_object_object_get_ex(req->args, "on", &x) ||
	    !json_object_is_type(x, json_type_boolean)) {
		control_error(d->ctl->ctl, req->client, req->id, "bad_request",
			      "\"on\" must be true or false");
		return;
	}
	admin_request(d, req, json_object_get_boolean(x) ? CORE_ADMIN_MAINT_ON
							 : CORE_ADMIN_MAINT_OFF,
		      0, NULL);
}

static void cmd_inventory_refresh(struct chorusd *d, const struct control_request *req)
{
	/* from the glusterd hooks: volume and event are for the log */
	const char *vol = arg_str(req->args, "volume"), *evn = arg_str(req->args, "event");
	char why[64];

	snprintf(why, sizeof(why), "%.24s %.24s", evn ? evn : "request", vol ? vol : "-");
	bricks_inventory_refresh(d, why);
	control_reply(d->ctl->ctl, req->client, req->id, NULL);
}

static void cmd_fence_confirm(struct chorusd *d, const struct control_request *req)
{
	struct ctl_state *s = d->ctl;
	uint32_t n = ctl_node_lookup(d, arg_str(req->args, "node"));
	struct core_event ev = {.type = CORE_EV_FENCE_CONFIRM};
	int rc;

	if (n == 0) {
		control_error(s->ctl, req->client, req->id, "unknown_node", "no such node");
		return;
	}
	ev.u.confirm.node = n;
	rc = daemon_step(d, &ev);
	if (rc == -ENOENT) {
		control_error(s->ctl, req->client, req->id, "not_waiting",
			      "nothing waits for node %" PRIu32 " to be fenced", n);
		return;
	}
	if (rc < 0) {
		control_error(s->ctl, req->client, req->id, "not_quorate",
			      "this node has no quorate view");
		return;
	}
	ctl_event_add(d, "admin", "uid %u confirmed node %" PRIu32 " is down", (unsigned)req->uid, n);
	control_reply(s->ctl, req->client, req->id, NULL);
}

static void cmd_rebalance(struct chorusd *d, const struct control_request *req)
{
	struct core_event ev = {.type = CORE_EV_REBALANCE};

	if (daemon_step(d, &ev) < 0) {
		control_error(d->ctl->ctl, req->client, req->id, "not_quorate",
			      "this node has no quorate view");
		return;
	}
	control_reply(d->ctl->ctl, req->client, req->id, NULL);
}

/* cleanup [HOST:PATH] [node].  Ends failure holds through the ordered
 * stream, so one command clears a brick on every node that held it off
 * (or on the node named), as Pacemaker's resource cleanup does.  Without
 * a quorate cluster, only this node's. */
static void cmd_cleanup(struct chorusd *d, const struct control_request *req)
{
	struct ctl_state *s = d->ctl;
	const char *brick = arg_str(req->args, "brick");
	const char *node = arg_str(req->args, "node");
	const char *sep = brick ? strstr(brick, ":/") : NULL;
	char host[CONF_BRICK_STR];
	uint32_t n = 0;
	long vi = -1;

	if (brick != NULL) {
		if (sep == NULL || sep == brick || (size_t)(sep - brick) >= sizeof(host)) {
			control_error(s->ctl, req->client, req->id, "bad_request",
				      "\"brick\" must be HOST:PATH, as status shows it");
			return;
		}
		memcpy(host, brick, (size_t)(sep - brick));
		host[sep - brick] = '\0';
		vi = bricks_find(d, host, sep + 1);
		if (vi < 0) {
			control_error(s->ctl, req->client, req->id, "unknown_brick",
				      "no such brick in this node's configuration");
			return;
		}
	}
	if (node != NULL) {
		n = ctl_node_lookup(d, node);
		if (n == 0) {
			control_error(s->ctl, req->client, req->id, "unknown_node", "no such node");
			return;
		}
	}
	if (d->core == NULL || !core_quorate(d->core)) {
		/* A hold is this node's own memory and only matters to a quorate
		 * cluster's placement, so ending it here alone is safe; other
		 * nodes cannot be reached. */
		struct json_object *r;
		size_t ended;

		if (n != 0 && (d->cl == NULL || n != cluster_nodeid(d->cl))) {
			control_error(s->ctl, req->client, req->id, "not_quorate",
				      "no quorate cluster: only this node's holds can end");
			return;
		}
		ended = bricks_cleanup(d, vi >= 0 ? (size_t)vi : SIZE_MAX);
		r = json_object_new_object();
		json_object_object_add(r, "applied", json_object_new_boolean(ended > 0));
		json_object_object_add(r, "local", json_object_new_boolean(true));
		control_reply(s->ctl, req->client, req->id, r);
		return;
	}
	admin_request(d, req, CORE_ADMIN_CLEANUP, n, vi >= 0 ? &d->conf->vips[vi].addr : NULL);
}

/* Every command, in the order `chorusctl --help` lists them.  privileged:
 * it changes something, so only root or the admin group may send it.
 * needs_core: it is answered by the core, which exists only once corosync
 * has answered; the others work from the first second, so an operator can
 * see why a daemon is stuck, raise its log level or dump its recorder. */
static const struct ctl_command {
	const char *name;
	bool privileged;
	bool needs_core;
	void (*handle)(struct chorusd *d, const struct control_request *req);
} ctl_commands[] = {
	{"status", false, false, cmd_status},
	{"nodes", false, true, cmd_nodes},
	{"vips", false, true, cmd_vips},
	{"bricks", false, false, cmd_bricks},
	{"events", false, false, cmd_events},
	{"plan", false, true, cmd_plan},
	{"move", true, true, cmd_move},
	{"unpin", true, true, cmd_move},
	{"standby", true, true, cmd_standby},
	{"active", true, true, cmd_standby},
	{"maintenance", true, true, cmd_maintenance},
	{"rebalance", true, true, cmd_rebalance},
	{"reload", true, false, cmd_reload},
	{"metrics", false, false, cmd_metrics},
	{"log-level", true, false, cmd_log_level},
	{"blackbox", true, false, cmd_blackbox},
	{"inventory-refresh", true, true, cmd_inventory_refresh},
	{"fence-confirm", true, true, cmd_fence_confirm},
	{"cleanup", true, false, cmd_cleanup},
};

const char *ctl_command_name(size_t i)
{
	return i < sizeof(ctl_commands) / sizeof(ctl_commands[0]) ? ctl_commands[i].name : NULL;
}

static void handler(void *ud, const struct control_request *req)
{
	struct chorusd *d = ud;
	struct ctl_state *s = d->ctl;
	const struct ctl_command *c = NULL;

	for (size_t i = 0; i < sizeof(ctl_commands) / sizeof(ctl_commands[0]); i++)
		if (strcmp(req->cmd, ctl_commands[i].name) == 0)
			c = &ctl_commands[i];
	if (c == NULL) {
		control_error(s->ctl, req->client, req->id, "unknown_command", "no command '%s'",
			      req->cmd);
		return;
	}
	if (c->privileged && !req->privileged) {
		control_error(s->ctl, req->client, req->id, "permission_denied",
			      "%s needs root or the admin group", req->cmd);
		return;
	}
	if (c->needs_core && d->core == NULL) {
		control_error(s->ctl, req->client, req->id, "not_quorate",
			      "not connected to corosync yet");
		return;
	}
	c->handle(d, req);
}

int ctl_start(struct chorusd *d)
{
	const struct conf_control *cc = &d->conf->control;
	struct control_config cfg = {
		.group = cc->socket_group,
		.admin_group = cc->admin_group,
		.read_group = cc->read_group,
		.max_clients = cc->max_clients,
		.reserved_clients = cc->reserved_clients,
		.max_clients_per_uid = cc->max_clients_per_uid,
		.idle_timeout_ms = cc->idle_timeout_ms,
		.request_timeout_ms = cc->request_timeout_ms,
		.max_output = 4 * 1024 * 1024,
	};
	int rc;

	d->ctl = calloc(1, sizeof(*d->ctl));
	if (d->ctl == NULL)
		return -ENOMEM;
	d->ctl->last_failover_ms = -1;
	/* without memory, moves are still recorded, without their duration */
	d->ctl->moves = calloc(d->conf->n_vips + 1, sizeof(*d->ctl->moves));
	d->ctl->moving = calloc(d->conf->n_vips + 1, sizeof(*d->ctl->moving));
	if (d->ctl->moves == NULL || d->ctl->moving == NULL) {
		free(d->ctl->moves);
		d->ctl->moves = NULL;
	}
	/* before anything can be recorded: the start itself is history */
	d->ctl->hist = history_open(d->conf->state_dir);
	if (d->ctl->hist == NULL)
		return -ENOMEM;
	if (d->conf->n_notify_args) {
		struct notify_config nc = {
			.argc = d->conf->n_notify_args, .argv = d->conf->notify_args,
			.timeout_ms = d->conf->notify_timeout_ms,
			.n_types = d->conf->n_notify_types, .types = d->conf->notify_types,
		};

		rc = notify_new(d->loop, &nc, &d->ctl->notify);
		if (rc < 0)
			return rc;
	}
	ctl_event_add(d, "daemon", "chorusd %s started (pid %ld)", PACKAGE_VERSION, (long)getpid());
	d->ctl->quorum = -1;
	if ((size_t)snprintf(cfg.path, sizeof(cfg.path), "%s/chorusd.sock", d->conf->run_dir) >=
	    sizeof(cfg.path))
		return -ENAMETOOLONG;
	rc = control_new(d->loop, &cfg, handler, d, &d->ctl->ctl);
	if (rc < 0) {
		qb_log(LOG_ERR, "cannot open control socket %s " QB_XS " rc=%d", cfg.path, rc);
		return rc;
	}
	/* Who can do what, in one line an operator can check against intent. */
	qb_log(LOG_NOTICE, "control: socket group %s; every command: root%s%s; reads too: %s%s",
	       cc->socket_group != (gid_t)-1 ? cc->socket_group_name : "root's",
	       cc->admin_group != (gid_t)-1 ? " and group " : " only",
	       cc->admin_group != (gid_t)-1 ? cc->admin_group_name : "",
	       cc->read_group != (gid_t)-1 ? "group " : "no one else",
	       cc->read_group != (gid_t)-1 ? cc->read_group_name : "");
	qb_loop_timer_add(d->loop, QB_LOOP_LOW, QB_TIME_NS_IN_SEC, d, pending_tick, &d->ctl->timer);
	if (d->conf->metrics_listen[0]) {
		struct sockaddr_storage ss;
		socklen_t len;

		/* metrics are not worth a failover: a port in use is logged,
		 * and the daemon runs without the endpoint */
		rc = metrics_http_parse(d->conf->metrics_listen, &ss, &len);
		if (rc == 0)
			rc = metrics_http_new(d->loop, &ss, len, ctl_metrics_text_cb, d, &d->ctl->mh);
		if (rc < 0)
			qb_log(LOG_ERR, "metrics endpoint %s: cannot listen: %s", d->conf->metrics_listen,
			       strerror(-rc));
		else
			qb_log(LOG_NOTICE, "metrics endpoint: http://%s/metrics",
			       d->conf->metrics_listen);
	}
	return 0;
}

void ctl_stop(struct chorusd *d)
{
	if (d->ctl == NULL)
		return;
	control_free(d->ctl->ctl);
	metrics_http_free(d->ctl->mh);
	notify_free(d->ctl->notify);
	for (size_t i = 0; i < d->ctl->n_pend; i++)
		free(d->ctl->pend[i].before);
	history_free(d->ctl->hist);
	free(d->ctl->snap);
	free(d->ctl->moves);
	free(d->ctl->moving);
	free(d->ctl);
	d->ctl = NULL;
}
