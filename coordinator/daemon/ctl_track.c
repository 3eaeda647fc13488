/*
 * Noticing what a core step changed (membership, quorum, moves and their
 * durations, configuration drift, failover timing) for the event log and
 * status, and the operator state saved across restarts.
 */
#include "config.h"

#include "daemon/ctl_private.h"

/* ---- change tracking ---- */

/* Runs after every step while a failover is pending: O(local vips), through
 * the core's own local-to-table map. */
static bool local_settled(struct chorusd *d)
{
	bool quorate = core_quorate(d->core);

	for (size_t i = 0; d->conf && i < d->conf->n_vips; i++) {
		bool waiting, want = core_local_assigned(d->core, i, &waiting);

		if (want && waiting)
			return false;
		if ((want && quorate) != core_local_held(d->core, i))
			return false;
	}
	return true;
}

/* A move onto this node: its duration runs until the address (or brick)
 * is up here, which includes waiting for the old holder's release. */
static void move_start(struct chorusd *d, const struct core_res_view *v, uint32_t from,
		       const char *why)
{
	struct ctl_state *s = d->ctl;
	uint32_t li = v->local;

	if (s->moves == NULL || li >= d->conf->n_vips || d->cl == NULL ||
	    v->owner != cluster_nodeid(d->cl))
		return;
	if (s->moves[li].at == 0)
		s->moving[s->n_moving++] = li;
	s->moves[li] = (struct ctl_move){.at = daemon_mono_ms() | 1, .why = why, .from = from};
}

/* After every step while moves onto this node are under way: O(moves under
 * way), so a mass failover does not scan every address at every step. */
static void move_track(struct chorusd *d)
{
	struct ctl_state *s = d->ctl;
	uint64_t now = daemon_mono_ms();
	size_t w = 0;

	for (size_t k = 0; k < s->n_moving; k++) {
		uint32_t i = s->moving[k];
		struct ctl_move *m = &s->moves[i];
		char a[CHORUS_ADDR_STRLEN], nb[32];

		if (core_local_up(d->core, i)) {
			res_addr_format(&d->conf->vips[i].addr, a, sizeof(a));
			ctl_event_add(d, "move", "%s up here %" PRIu64 " ms after it was placed here "
				  "(from %s; %s)", a, now - m->at,
				  m->from ? ctl_node_name(d, m->from, nb, sizeof(nb)) : "nowhere",
				  m->why);
		} else if (core_local_assigned(d->core, i, NULL)) {
			s->moving[w++] = i;	/* still waiting or starting */
			continue;
		}
		/* up, or moved on before it was: the next move has its own event */
		m->at = 0;
	}
	s->n_moving = w;
}

static void diff_moves(struct chorusd *d)
{
	struct ctl_state *s = d->ctl;
	size_t n = core_res_count(d->core);
	struct snap *nv = calloc(n + 1, sizeof(*nv));
	size_t j = 0;
	const char *why = core_table_why(d->core);

	if (nv == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		struct core_res_view v;
		char a[CHORUS_ADDR_STRLEN], n1[32], n2[32];

		core_res_get(d->core, i, &v);
		nv[i].addr = v.addr;
		nv[i].owner = v.owner;
		while (j < s->n_snap && res_addr_cmp(&s->snap[j].addr, &v.addr) < 0)
			j++;
		if (j < s->n_snap && res_addr_cmp(&s->snap[j].addr, &v.addr) == 0 &&
		    s->snap[j].owner != v.owner && s->n_snap > 0) {
			move_start(d, &v, s->snap[j].owner, why);
			res_addr_format(&v.addr, a, sizeof(a));
			if (s->snap[j].owner == 0)
				ctl_event_add(d, "move", "%s placed on %s (%s)", a,
					  ctl_node_name(d, v.owner, n2, sizeof(n2)), why);
			else if (v.owner == 0)
				ctl_event_add(d, "move", "%s unplaced (was on %s): no eligible node (%s)",
					  a, ctl_node_name(d, s->snap[j].owner, n1, sizeof(n1)), why);
			else
				ctl_event_add(d, "move", "%s %s -> %s (%s)", a,
					  ctl_node_name(d, s->snap[j].owner, n1, sizeof(n1)),
					  ctl_node_name(d, v.owner, n2, sizeof(n2)), why);
		}
	}
	free(s->snap);
	s->snap = nv;
	s->n_snap = n;
}

/* An event when a member's configuration starts or stops differing from
 * ours.  The digests come with STATE, so only a round that completed since
 * the last look can change the answer: the scan (nodes x resources, through
 * core_node_get) is not repeated on every heartbeat, and a round in progress
 * (STATEs cleared) does not read as "no longer differs". */
static void drift_track(struct chorusd *d)
{
	struct ctl_state *s = d->ctl;
	uint32_t ids[CHORUS_MAX_NODES], masks[CHORUS_MAX_NODES];
	size_t n, i = 0, j = 0;
	char keys[256], nb[32];

	if (!core_round_complete(d->core) || core_token(d->core) == s->drift_token)
		return;
	s->drift_token = core_token(d->core);
	n = drift_scan(d->core, ids, masks, CHORUS_MAX_NODES);
	if (n == s->n_drift && memcmp(ids, s->drift_ids, n * sizeof(*ids)) == 0 &&
	    memcmp(masks, s->drift_masks, n * sizeof(*masks)) == 0)
		return;
	/* merge the two ascending lists: new or changed, then gone */
	while (i < n || j < s->n_drift) {
		if (j >= s->n_drift || (i < n && ids[i] < s->drift_ids[j])) {
			drift_keys_text(masks[i], keys, sizeof(keys));
			ctl_event_add(d, "config", "%s's configuration differs from this node's in %s",
				  ctl_node_name(d, ids[i], nb, sizeof(nb)), keys);
			i++;
		} else if (i >= n || s->drift_ids[j] < ids[i]) {
			ctl_event_add(d, "config", "%s's configuration no longer differs from this "
				  "node's (or it left)", ctl_node_name(d, s->drift_ids[j], nb, sizeof(nb)));
			j++;
		} else {
			if (masks[i] != s->drift_masks[j]) {
				drift_keys_text(masks[i], keys, sizeof(keys));
				ctl_event_add(d, "config", "%s's configuration differs from this node's "
					  "in %s", ctl_node_name(d, ids[i], nb, sizeof(nb)), keys);
			}
			i++;
			j++;
		}
	}
	memcpy(s->drift_ids, ids, n * sizeof(*ids));
	memcpy(s->drift_masks, masks, n * sizeof(*masks));
	s->n_drift = n;
}

void ctl_after_step(struct chorusd *d, const struct core_event *ev)
{
	struct ctl_state *s = d->ctl;
	int q;
	size_t m;

	if (s == NULL || d->core == NULL)
		return;
	if (ev->type == CORE_EV_CONFCHG || ev->type == CORE_EV_TOTEM ||
	    ev->type == CORE_EV_CLUSTER_LOST) {
		m = core_member_count(d->core);
		if (m != s->members || ev->type == CORE_EV_TOTEM) {
			s->change_ms = daemon_mono_ms();
			s->change_wall_ms = ctl_wall_ms();
			s->failover_pending = true;
		}
		if (m != s->members)
			ctl_event_add(d, "membership", "%zu member%s (was %zu)", m, m == 1 ? "" : "s",
				  s->members);
		s->members = m;
	}
	/* corosync's verdict, not whether it matches the newest ring: every
	 * membership change would otherwise read "quorum lost", "quorate" */
	q = core_quorum_verdict(d->core);
	if (q != s->quorum) {
		if (q >= 0 || s->quorum == 1)
			ctl_event_add(d, "quorum", "%s", q == 1 ? "quorate" : q == 0 ? "quorum lost"
						: "quorum unknown: no corosync");
		s->quorum = q;
	}
	/* the generation, not the digest: that is a pass over the table,
	 * and a failback brings a RELEASED per giver */
	if (core_table_gen(d->core) != s->table_gen) {
		s->table_gen = core_table_gen(d->core);
		diff_moves(d);
	}
	if (s->n_moving > 0)
		move_track(d);
	drift_track(d);
	if (s->failover_pending && core_round_complete(d->core) && local_settled(d)) {
		s->failover_pending = false;
		s->last_failover_ms = (int64_t)(daemon_mono_ms() - s->change_ms);
		qb_log(LOG_INFO, "settled %" PRId64 " ms after the membership change",
		       s->last_failover_ms);
	}
}

/* ---- saved operator state ---- */

static int admin_path(struct chorusd *d, char *buf, size_t size)
{
	if ((size_t)snprintf(buf, size, "%s/admin.json", d->conf->state_dir) >= size)
		return -ENAMETOOLONG;
	return 0;
}

/* temp file, fsync, rename, fsync the directory: a crash leaves the old or
 * the new file, never a torn one */
void ctl_persist(struct chorusd *d)
{
	struct core_admin_view v;
	struct json_object *o, *sb, *pins;
	char path[PATH_MAX + 32], tmp[PATH_MAX + 48];
	const char *text;
	int fd, dfd;

	if (d->core == NULL || admin_path(d, path, sizeof(path)) < 0)
		return;
	core_admin_get(d->core, &v);
	o = json_object_new_object();
	sb = json_object_new_array();
	pins = json_object_new_array();
	json_object_object_add(o, "generation", json_object_new_int64((int64_t)v.generation));
	json_object_object_add(o, "maintenance", json_object_new_boolean(v.maintenance));
	for (size_t i = 0; i < v.n_standby; i++)
		json_object_array_add(sb, json_object_new_int64(v.standby[i]));
	for (size_t i = 0; i < v.n_pins; i++) {
		struct json_object *p = json_object_new_object();
		struct res_addr a;
		uint32_t node;
		char t[CHORUS_ADDR_STRLEN];

		core_admin_pin_get(d->core, i, &a, &node);
		res_addr_format(&a, t, sizeof(t));
		json_object_object_add(p, "vip", json_object_new_string(t));
		json_object_object_add(p, "node", json_object_new_int64(node));
		json_object_array_add(pins, p);
	}
	json_object_object_add(o, "standby", sb);
	json_object_object_add(o, "pins", pins);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	mkdir(d->conf->state_dir, 0755);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || fsync(fd) < 0 ||
	    rename(tmp, path) < 0) {
		qb_log(LOG_ERR, "cannot save operator state to %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		json_object_put(o);
		return;
	}
	close(fd);
	dfd = open(d->conf->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	json_object_put(o);
}

void ctl_load_admin(struct chorusd *d)
{
	char path[PATH_MAX + 32];
	struct json_object *o = NULL, *x;
	uint32_t standby[128];
	struct res_addr pv[256];
	uint32_t pn[256];
	size_t ns = 0, np = 0;
	uint64_t gen = 0;
	bool maint = false;

	if (admin_path(d, path, sizeof(path)) < 0)
		return;
	{
		struct stat st;

		if (stat(path, &st) < 0)
			return;	/* nothing saved: a first start */
		if (!S_ISREG(st.st_mode) || st.st_size > ADMIN_FILE_MAX) {
			qb_log(LOG_ERR, "%s: not a regular file under 1 MiB, ignored", path);
			return;
		}
	}
	o = json_object_from_file(path);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		qb_log(LOG_ERR, "%s: unreadable, operator state starts empty", path);
		json_object_put(o);
		return;
	}
	if (json_object_object_get_ex(o, "generation", &x) && json_object_is_type(x, json_type_int))
		gen = (uint64_t)json_object_get_int64(x);
	if (json_object_object_get_ex(o, "maintenance", &x))
		maint = json_object_get_boolean(x);
	if (json_object_object_get_ex(o, "standby", &x) && json_object_is_type(x, json_type_array))
		for (size_t i = 0; i < json_object_array_length(x) && ns < 128; i++) {
			int64_t id = json_object_get_int64(json_object_array_get_idx(x, i));

			if (id > 0 && id <= UINT32_MAX)
				standby[ns++] = (uint32_t)id;
		}
	if (json_object_object_get_ex(o, "pins", &x) && json_object_is_type(x, json_type_array))
		for (size_t i = 0; i < json_object_array_length(x) && np < 256; i++) {
			struct json_object *p = json_object_array_get_idx(x, i), *a, *n;

			if (json_object_object_get_ex(p, "vip", &a) &&
			    json_object_object_get_ex(p, "node", &n) &&
			    res_addr_parse(json_object_get_string(a), &pv[np]) == 0 &&
			    json_object_get_int64(n) > 0) {
				pn[np] = (uint32_t)json_object_get_int64(n);
				np++;
			}
		}
	json_object_put(o);
	if (core_admin_load(d->core, gen, maint, standby, ns, pv, pn, np) == 0)
		qb_log(LOG_NOTICE, "operator state loaded: generation %" PRIu64 ", %zu standby, "
		       "%zu pins%s", gen, ns, np, maint ? ", maintenance" : "");
}
