/*
 * The daemon's side of the control socket: what each command does, the
 * event log behind `chorusctl events` (and the core's own, corelog.h, behind
 * `events --core`), how long the last failover took, and the saved
 * operator state.
 *
 * Reads are answered from the core's views at once.  Changes go through
 * the core as CPG messages; the reply waits until our own message has been
 * delivered and applied (CORE_ACT_ADMIN_DONE), so "applied" means every
 * member of the view has it, in the same order.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <qb/qblog.h>
#include <qb/qbutil.h>

#include "daemon/history.h"
#include "daemon/ctl_drift.h"
#include "adapters/metrics_http.h"
#include "exec/notify.h"
#include "daemon/bricks.h"
#include "adapters/cluster.h"
#include "adapters/conf.h"
#include "adapters/control.h"
#include "daemon/corelog.h"
#include "daemon/daemon.h"
#include "exec/hooks.h"
#include "plugin/plugin.h"
#include "exec/tickle.h"
#include "core/load.h"
#include "daemon/ctl_load.h"

#define PENDING_MAX 64
#define ADMIN_TIMEOUT_MS 10000
#define ADMIN_FILE_MAX (1024 * 1024)


struct snap {
	struct res_addr addr;
	uint32_t owner;
};

struct pending {
	uint64_t cookie;
	uint64_t client;
	char id[130];
	uint64_t deadline_ms;
	struct snap *before;	/* the table when asked: the answer lists every move */
	size_t n_before;
};

struct ctl_state {
	struct control *ctl;
	struct history *hist;
	struct metrics_http *mh;	/* the scrape endpoint, if configured */
	struct notify *notify;		/* the notification hook, if configured */
	struct pending pend[PENDING_MAX];
	size_t n_pend;
	uint64_t cookie;
	qb_loop_timer_handle timer;
	/* change tracking */
	uint64_t digest;
	struct snap *snap;
	size_t n_snap;
	/* per local vip: when the table placed it here (monotonic ms, 0 =
	 * not moving here), why, and from where; for the move's duration */
	uint64_t *move_at;
	const char **move_why;
	uint32_t *move_from;
	size_t n_moving;
	int quorum;		/* core_quorum_verdict() last reported */
	uint32_t drift_ids[CHORUS_MAX_NODES];	/* members whose config differs, */
	uint32_t drift_masks[CHORUS_MAX_NODES];	/* as last reported */
	size_t n_drift;
	uint64_t drift_token;		/* the round the drift was last computed for */
	size_t members;
	uint64_t change_ms;	/* monotonic, last membership change */
	uint64_t change_wall_ms;
	bool failover_pending;
	int64_t last_failover_ms;
};

static uint64_t wall_ms(void)
{
	return qb_util_nano_from_epoch_get() / QB_TIME_NS_IN_MSEC;
}

static const char *node_name(struct chorusd *d, uint32_t id, char *buf, size_t size)
{
	const char *n = d->cl ? cluster_node_name(d->cl, id) : NULL;

	if (n)
		return n;
	snprintf(buf, size, "node%" PRIu32, id);
	return buf;
}

/* A node given by name or number. */
static uint32_t node_lookup(struct chorusd *d, const char *s)
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
		return node_lookup(d, s + 4);
	return 0;
}

/* ---- events ---- */

static void __attribute__((format(printf, 3, 4)))
event_add(struct chorusd *d, const char *type, const char *fmt, ...)
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
	o = history_add(s->hist, wall_ms(), type, text);
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
	event_add(d, type, "%s", text);
}

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

	if (s->move_at == NULL || li >= d->conf->n_vips || d->cl == NULL ||
	    v->owner != cluster_nodeid(d->cl))
		return;
	if (s->move_at[li] == 0)
		s->n_moving++;
	s->move_at[li] = daemon_mono_ms() | 1;	/* never 0 */
	s->move_why[li] = why;
	s->move_from[li] = from;
}

/* After every step while moves onto this node are under way: O(local vips). */
static void move_track(struct chorusd *d)
{
	struct ctl_state *s = d->ctl;
	uint64_t now = daemon_mono_ms();

	for (size_t i = 0; s->n_moving > 0 && i < d->conf->n_vips; i++) {
		char a[CHORUS_ADDR_STRLEN], nb[32];

		if (s->move_at[i] == 0)
			continue;
		if (core_local_up(d->core, i)) {
			res_addr_format(&d->conf->vips[i].addr, a, sizeof(a));
			event_add(d, "move", "%s up here %" PRIu64 " ms after it was placed here "
				  "(from %s; %s)", a, now - s->move_at[i],
				  s->move_from[i] ? node_name(d, s->move_from[i], nb, sizeof(nb))
						  : "nowhere",
				  s->move_why[i]);
		} else if (core_local_assigned(d->core, i, NULL)) {
			continue;	/* still waiting or starting */
		}
		/* up, or moved on before it was: the next move has its own event */
		s->move_at[i] = 0;
		s->n_moving--;
	}
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
				event_add(d, "move", "%s placed on %s (%s)", a,
					  node_name(d, v.owner, n2, sizeof(n2)), why);
			else if (v.owner == 0)
				event_add(d, "move", "%s unplaced (was on %s): no eligible node (%s)",
					  a, node_name(d, s->snap[j].owner, n1, sizeof(n1)), why);
			else
				event_add(d, "move", "%s %s -> %s (%s)", a,
					  node_name(d, s->snap[j].owner, n1, sizeof(n1)),
					  node_name(d, v.owner, n2, sizeof(n2)), why);
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
			event_add(d, "config", "%s's configuration differs from this node's in %s",
				  node_name(d, ids[i], nb, sizeof(nb)), keys);
			i++;
		} else if (i >= n || s->drift_ids[j] < ids[i]) {
			event_add(d, "config", "%s's configuration no longer differs from this "
				  "node's (or it left)", node_name(d, s->drift_ids[j], nb, sizeof(nb)));
			j++;
		} else {
			if (masks[i] != s->drift_masks[j]) {
				drift_keys_text(masks[i], keys, sizeof(keys));
				event_add(d, "config", "%s's configuration differs from this node's "
					  "in %s", node_name(d, ids[i], nb, sizeof(nb)), keys);
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
			s->change_wall_ms = wall_ms();
			s->failover_pending = true;
		}
		if (m != s->members)
			event_add(d, "membership", "%zu member%s (was %zu)", m, m == 1 ? "" : "s",
				  s->members);
		s->members = m;
	}
	/* corosync's verdict, not whether it matches the newest ring: every
	 * membership change would otherwise read "quorum lost", "quorate" */
	q = core_quorum_verdict(d->core);
	if (q != s->quorum) {
		if (q >= 0 || s->quorum == 1)
			event_add(d, "quorum", "%s", q == 1 ? "quorate" : q == 0 ? "quorum lost"
						: "quorum unknown: no corosync");
		s->quorum = q;
	}
	if (core_digest(d->core) != s->digest) {
		s->digest = core_digest(d->core);
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

/* ---- reads ---- */

static const char *state_name(enum core_node_state st)
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
				       json_object_new_string(node_name(d, ids[k], nb, sizeof(nb))));
		json_object_object_add(o, "state", json_object_new_string("offline"));
		json_object_object_add(o, "reason", json_object_new_string(
			core_ring_has(d->core, ids[k]) ? "corosync runs there, chorusd does not"
						       : "not in the corosync ring"));
		json_object_object_add(o, "vips", json_object_new_int64(0));
		json_object_object_add(o, "load", json_object_new_int64(0));
		json_object_array_add(a, o);
	}
}

static struct json_object *nodes_json(struct chorusd *d, bool *all_active)
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
				       json_object_new_string(node_name(d, v.nodeid, nb, sizeof(nb))));
		json_object_object_add(o, "state", json_object_new_string(state_name(v.state)));
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

static struct json_object *vips_json(struct chorusd *d, size_t *unplaced)
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
				       v.owner ? json_object_new_string(node_name(d, v.owner, nb,
										  sizeof(nb)))
					       : NULL);
		/* "up" only when the owner is live and has nothing to wait for:
		 * a silent owner's address may be gone from its kernel, and a new
		 * owner waiting for a lost node's lifetime has not taken it yet */
		json_object_object_add(o, "state",
				       json_object_new_string(v.owner == 0	  ? "unplaced"
							      : v.owner_silent ? "unresponsive"
							      : v.owner_absent ? "absent"
							      : v.held_by	  ? "pending"
							      : v.from	  ? "moving"
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

static struct json_object *status_json(struct chorusd *d)
{
	struct ctl_state *s = d->ctl;
	struct json_object *r = json_object_new_object(), *c = json_object_new_object();
	struct json_object *nodes, *vips;
	struct core_ring ring = {0};
	struct core_admin_view av = {0};
	bool all_active, quorate = d->core && core_quorate(d->core);
	size_t unplaced;
	char rb[48], db[20];

	nodes = nodes_json(d, &all_active);
	vips = vips_json(d, &unplaced);
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
	if (d->conf->n_bricks)
		json_object_object_add(r, "bricks", bricks_status_json(d));
	if (d->conf->n_hooks)
		json_object_object_add(r, "hooks", hooks_status_json(d->hk));
	return r;
}

/* The plan as '*out', or core_plan()'s error with nothing allocated. */
static int plan_json(struct chorusd *d, uint32_t fail, uint32_t standby, struct json_object **out)
{
	struct json_object *r, *mv, *un;
	struct core_plan_move *moves = NULL;
	size_t n = 0;
	char why[160], nb[32];
	bool load;
	int rc;

	if (fail)
		snprintf(why, sizeof(why), "%s fails", node_name(d, fail, nb, sizeof(nb)));
	else if (standby)
		snprintf(why, sizeof(why), "%s goes to standby",
			 node_name(d, standby, nb, sizeof(nb)));
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
				       moves[i].from ? json_object_new_string(node_name(
							       d, moves[i].from, n1, sizeof(n1)))
						     : NULL);
		json_object_object_add(o, "to", json_object_new_int64(moves[i].to));
		json_object_object_add(o, "to_name", json_object_new_string(node_name(
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
static void ctl_metrics_control(FILE *f, const struct control *ctl)
{
	struct control_stats st;

	if (ctl == NULL)
		return;
	control_stats_get(ctl, &st);
	fprintf(f, "# HELP chorus_control_clients Control socket clients connected.\n"
		   "# TYPE chorus_control_clients gauge\n"
		   "chorus_control_clients{class=\"admin\"} %u\n"
		   "chorus_control_clients{class=\"read\"} %u\n",
		st.clients_admin, st.clients_read);
	fprintf(f, "# HELP chorus_control_refused_total Control socket connections refused.\n"
		   "# TYPE chorus_control_refused_total counter\n"
		   "chorus_control_refused_total{reason=\"permission\"} %" PRIu64 "\n"
		   "chorus_control_refused_total{reason=\"busy\"} %" PRIu64 "\n"
		   "chorus_control_refused_total{reason=\"uid_limit\"} %" PRIu64 "\n",
		st.refused_permission, st.refused_busy, st.refused_uid);
	fprintf(f, "# HELP chorus_control_closed_total Control socket clients the daemon closed.\n"
		   "# TYPE chorus_control_closed_total counter\n"
		   "chorus_control_closed_total{reason=\"request_timeout\"} %" PRIu64 "\n"
		   "chorus_control_closed_total{reason=\"idle\"} %" PRIu64 "\n"
		   "chorus_control_closed_total{reason=\"not_reading\"} %" PRIu64 "\n"
		   "chorus_control_closed_total{reason=\"bad_requests\"} %" PRIu64 "\n"
		   "chorus_control_closed_total{reason=\"oversized\"} %" PRIu64 "\n",
		st.closed_request_timeout, st.closed_idle, st.closed_not_reading,
		st.closed_bad_requests, st.closed_oversized);
}

/* A label value in the text format: backslash, quote and newline escaped
 * (node names come from corosync.conf, scopes from plugins). */
static void label_put(FILE *f, const char *v)
{
	for (; v != NULL && *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void metrics_more(struct chorusd *d, FILE *f)
{
	struct plugin_host *h = health_host(d);
	uint64_t ok = 0, failed = 0;
	char nb[32];

	fprintf(f, "# HELP chorus_build_info The running chorusd.\n# TYPE chorus_build_info gauge\n"
		   "chorus_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	fprintf(f, "# HELP chorus_check_state A health check on this node: 0 ok, 1 degraded, "
		   "2 failed.\n# TYPE chorus_check_state gauge\n");
	for (size_t i = 0; h && i < plugin_host_scope_count(h); i++) {
		struct plugin_scope_view v;

		plugin_host_scope_get(h, i, &v);
		fputs("chorus_check_state{scope=\"", f);
		label_put(f, v.scope);
		fputs("\",plugin=\"", f);
		label_put(f, v.plugin);
		fprintf(f, "\"} %d\n", v.health <= 2 ? (int)v.health : 2);
	}
	if (d->ctl->notify != NULL) {
		struct notify_counts nc;

		notify_counts_get(d->ctl->notify, &nc);
		fprintf(f, "# HELP chorus_notify_runs_total Runs of the notification command.\n"
			   "# TYPE chorus_notify_runs_total counter\nchorus_notify_runs_total %" PRIu64
			   "\n# HELP chorus_notify_failed_total Runs that did not exit 0.\n"
			   "# TYPE chorus_notify_failed_total counter\nchorus_notify_failed_total %"
			   PRIu64 "\n# HELP chorus_notify_dropped_total Events dropped: the command "
			   "could not keep up.\n# TYPE chorus_notify_dropped_total counter\n"
			   "chorus_notify_dropped_total %" PRIu64 "\n", nc.run, nc.failed, nc.dropped);
	}
	if (d->conf->n_bricks) {
		bricks_fence_counts(d, &ok, &failed);
		fprintf(f, "# HELP chorus_fences_total Fence commands this node ran, by result.\n"
			   "# TYPE chorus_fences_total counter\n"
			   "chorus_fences_total{result=\"ok\"} %" PRIu64 "\n"
			   "chorus_fences_total{result=\"failed\"} %" PRIu64 "\n", ok, failed);
	}
	fprintf(f, "# HELP chorus_node_state A node as this node sees it, 1 for its state.\n"
		   "# TYPE chorus_node_state gauge\n");
	for (size_t i = 0; d->core && i < core_node_count(d->core); i++) {
		struct core_node_view v;

		core_node_get(d->core, i, &v);
		fprintf(f, "chorus_node_state{node=\"%" PRIu32 "\",name=\"", v.nodeid);
		label_put(f, node_name(d, v.nodeid, nb, sizeof(nb)));
		fprintf(f, "\",state=\"%s\"} 1\n", state_name(v.state));
	}
}

/* The metrics in Prometheus's text format, malloc'd (chorusctl metrics and
 * the scrape endpoint). */
static char *metrics_text(struct chorusd *d, size_t *len)
{
	struct ctl_state *s = d->ctl;
	struct core_counters k = {0};
	struct core_admin_view av = {0};
	size_t unplaced;
	struct json_object *vips = vips_json(d, &unplaced);
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (d->core) {
		core_counters_get(d->core, &k);
		core_admin_get(d->core, &av);
	}
	if (f != NULL) {
#define M(name, type, help, fmt, ...)                                                              \
	fprintf(f, "# HELP chorus_" name " " help "\n# TYPE chorus_" name " " type "\n"           \
		   "chorus_" name " " fmt "\n", __VA_ARGS__)
		M("members", "gauge", "Members of the current view.", "%zu",
		  d->core ? core_member_count(d->core) : (size_t)0);
		M("quorate", "gauge", "1 if this node is quorate for its view.", "%d",
		  d->core && core_quorate(d->core) ? 1 : 0);
		M("generation", "gauge", "Operator state generation.", "%" PRIu64, av.generation);
		M("config_drift_nodes", "gauge",
		  "Members whose chorus.json differs from this node's in a cluster-wide key.",
		  "%zu", s->n_drift);
		M("resources", "gauge", "Resources in the replicated table.", "%zu",
		  d->core ? core_res_count(d->core) : (size_t)0);
		M("resources_unplaced", "gauge", "Resources no eligible node can host.", "%zu",
		  unplaced);
		M("rounds_total", "counter", "Completed membership rounds.", "%" PRIu64,
		  k.rounds_completed);
		M("placement_moves_total", "counter", "Resources moved by placement.", "%" PRIu64,
		  k.moves);
		M("messages_dropped_stale_total", "counter", "Messages dropped for a stale view.",
		  "%" PRIu64, k.dropped_stale);
		M("messages_dropped_bad_total", "counter", "Malformed messages dropped.",
		  "%" PRIu64, k.dropped_bad);
		M("members_excluded_total", "counter", "Members excluded for silence.", "%" PRIu64,
		  k.excluded);
		M("members_suspected_total", "counter",
		  "Members excluded because their daemon fell silent while the ring delivered.",
		  "%" PRIu64, k.suspected);
		M("loop_stalls_total", "counter",
		  "Times this daemon did not run for more than 1.5 heartbeats.", "%" PRIu64,
		  k.stalls);
		M("self_releases_total", "counter",
		  "Times corosync delivered nothing past the quiet limit: released everything.",
		  "%" PRIu64, k.self_releases);
		M("self_released_seconds_total", "counter",
		  "Time spent released that way, summed.", "%.3f",
		  k.self_releases_total_ms / 1000.0);
		M("expiry_probes_total", "counter",
		  "Probes of the segment for an address a frozen or lost node may still hold.",
		  "%" PRIu64, k.probes);
		M("expiry_probe_takes_total", "counter",
		  "Addresses taken early because nobody answered such a probe.", "%" PRIu64,
		  k.probe_takes);
		M("corosync_silence_max_seconds", "gauge",
		  "Longest time corosync delivered nothing while in a view (compare quiet_limit).",
		  "%.3f", k.silence_max_ms / 1000.0);
		M("heartbeat_seconds", "gauge", "Heartbeat derived from corosync's token.", "%.3f",
		  d->timing.heartbeat_ms / 1000.0);
		M("quiet_limit_seconds", "gauge",
		  "Silence from corosync after which this node releases everything.", "%.3f",
		  d->timing.quiet_limit_ms / 1000.0);
		M("address_lifetime_seconds", "gauge", "Kernel lifetime of this node's addresses.",
		  "%u", d->timing.lifetime_s);
		M("messages_dropped_hold_total", "counter",
		  "Messages dropped from senders past their budget while a round was open.",
		  "%" PRIu64, k.dropped_hold);
		M("hold_cuts_total", "counter",
		  "Senders cut for passing their budget while a round was open.", "%" PRIu64,
		  k.hold_cuts);
		{
			uint64_t bad, refused;
			size_t held;

			tickle_counters(d->tk, &bad, &refused, &held);
			M("conns_lists_bad_total", "counter",
			  "Malformed connection lists dropped.", "%" PRIu64, bad);
			M("conns_lists_refused_total", "counter",
			  "Connection lists refused for passing a per-sender or total cap.",
			  "%" PRIu64, refused);
			M("conns_remote", "gauge", "Client connections other nodes listed here.",
			  "%zu", held);
		}
		M("send_queue_depth", "gauge", "Messages waiting for corosync.", "%zu",
		  d->cl ? cluster_queue_depth(d->cl) : (size_t)0);
		M("last_failover_seconds", "gauge",
		  "Membership change to this node's addresses settled.", "%.3f",
		  s->last_failover_ms >= 0 ? (double)s->last_failover_ms / 1000.0 : 0.0);
#undef M
		ctl_metrics_control(f, s->ctl);
		fprintf(f, "# HELP chorus_node_vips Addresses the table gives each node.\n"
			   "# TYPE chorus_node_vips gauge\n");
		for (size_t i = 0; d->core && i < core_node_count(d->core); i++) {
			struct core_node_view v;
			char nb[32];

			core_node_get(d->core, i, &v);
			fprintf(f, "chorus_node_vips{node=\"%" PRIu32 "\",name=\"", v.nodeid);
			label_put(f, node_name(d, v.nodeid, nb, sizeof(nb)));
			fprintf(f, "\"} %zu\n", v.owned);
		}
		metrics_more(d, f);
		if (fclose(f) != 0) {
			free(buf);
			buf = NULL;
		}
	}
	json_object_put(vips);
	*len = buf ? size : 0;
	return buf;
}

static char *metrics_text_cb(void *ud, size_t *len)
{
	return metrics_text(ud, len);
}

static struct json_object *metrics_json(struct chorusd *d)
{
	struct json_object *r = json_object_new_object();
	size_t len;
	char *buf = metrics_text(d, &len);

	json_object_object_add(r, "text", json_object_new_string(buf ? buf : ""));
	free(buf);
	return r;
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
	event_add(d, "admin", "%s requested by uid %u", req->cmd, (unsigned)req->uid);
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
				node_name(d, p->before[j].owner, nb, sizeof(nb))));
		json_object_object_add(mv, "to", json_object_new_int64(v.owner));
		if (v.owner)
			json_object_object_add(mv, "to_name", json_object_new_string(
				node_name(d, v.owner, nb, sizeof(nb))));
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

static void do_reload(struct chorusd *d, const struct control_request *req)
{
	struct chorus_conf *nc = NULL;
	char err[1024];
	struct json_object *r;
	qb_loop_timer_handle t;

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
	event_add(d, "admin", "reload requested by uid %u: restarting in place",
		  (unsigned)req->uid);
	qb_loop_timer_add(d->loop, QB_LOOP_LOW, 200 * QB_TIME_NS_IN_MSEC, d, reexec_cb, &t);
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
			event_add(d, "admin", "log level %s by uid %u", want, (unsigned)req->uid);
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
		 wall_ms() / 1000);
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
	control_reply(d->ctl->ctl, req->client, req->id, status_json(d));
}

static void cmd_nodes(struct chorusd *d, const struct control_request *req)
{
	struct json_object *r = json_object_new_object();
	bool all;

	json_object_object_add(r, "nodes", nodes_json(d, &all));
	control_reply(d->ctl->ctl, req->client, req->id, r);
}

static void cmd_vips(struct chorusd *d, const struct control_request *req)
{
	struct json_object *r = json_object_new_object();
	size_t un;

	json_object_object_add(r, "vips", vips_json(d, &un));
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
	uint32_t fail = f ? node_lookup(d, f) : 0, stb = sb ? node_lookup(d, sb) : 0;
	struct json_object *r = NULL;
	int rc;

	if ((f && !fail) || (sb && !stb)) {
		control_error(s->ctl, req->client, req->id, "unknown_node", "no node %s",
			      f ? f : sb);
		return;
	}
	rc = plan_json(d, fail, stb, &r);
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
	control_reply(d->ctl->ctl, req->client, req->id, metrics_json(d));
}

/* standby and active */
static void cmd_standby(struct chorusd *d, const struct control_request *req)
{
	uint32_t n = node_lookup(d, arg_str(req->args, "node"));

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
		n = node_lookup(d, arg_str(req->args, "node"));
		if (n == 0) {
			control_error(s->ctl, req->client, req->id, "unknown_node",
				      "no such node");
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
	uint32_t n = node_lookup(d, arg_str(req->args, "node"));
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
	event_add(d, "admin", "uid %u confirmed node %" PRIu32 " is down", (unsigned)req->uid, n);
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
		n = node_lookup(d, node);
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
	d->ctl->move_at = calloc(d->conf->n_vips + 1, sizeof(*d->ctl->move_at));
	d->ctl->move_why = calloc(d->conf->n_vips + 1, sizeof(*d->ctl->move_why));
	d->ctl->move_from = calloc(d->conf->n_vips + 1, sizeof(*d->ctl->move_from));
	if (!d->ctl->move_at || !d->ctl->move_why || !d->ctl->move_from) {
		free(d->ctl->move_at);
		d->ctl->move_at = NULL;
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
	event_add(d, "daemon", "chorusd %s started (pid %ld)", PACKAGE_VERSION, (long)getpid());
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
			rc = metrics_http_new(d->loop, &ss, len, metrics_text_cb, d, &d->ctl->mh);
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
	free(d->ctl->move_at);
	free(d->ctl->move_why);
	free(d->ctl->move_from);
	free(d->ctl);
	d->ctl = NULL;
}
