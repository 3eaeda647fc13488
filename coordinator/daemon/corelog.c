/*
 * The core event log (corelog.h): a ring of one-line summaries.
 *
 * Summaries name what a reader needs to follow the core's reasoning and no
 * more: node ids, a message's type and sender (not its body: STATE alone
 * can be kilobytes), an operator request's arguments, an executor report's
 * local vip index and error.  Node ids stay numbers, as in the core, so
 * that a log read next to a scenario trace reads the same.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "daemon/corelog.h"
#include "core/wire.h"

struct corelog {
	struct corelog_entry ring[CORELOG_MAX];
	size_t head, n;
	size_t n_vips;
};

int corelog_new(size_t n_vips, struct corelog **out)
{
	struct corelog *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return -ENOMEM;
	l->n_vips = n_vips;
	*out = l;
	return 0;
}

void corelog_free(struct corelog *l)
{
	free(l);
}

const char *corelog_type_name(enum core_ev_type type)
{
	switch (type) {
	case CORE_EV_CONFCHG:
		return "confchg";
	case CORE_EV_TOTEM:
		return "totem";
	case CORE_EV_QUORUM:
		return "quorum";
	case CORE_EV_DELIVER:
		return "deliver";
	case CORE_EV_TICK:
		return "tick";
	case CORE_EV_ACQUIRED:
		return "acquired";
	case CORE_EV_RELEASED:
		return "released";
	case CORE_EV_ADOPT:
		return "adopt";
	case CORE_EV_CLUSTER_LOST:
		return "cluster_lost";
	case CORE_EV_SHUTDOWN:
		return "shutdown";
	case CORE_EV_LOST:
		return "lost";
	case CORE_EV_FENCED:
		return "fenced";
	case CORE_EV_PROBED:
		return "probed";
	case CORE_EV_SETS:
		return "sets";
	case CORE_EV_ADMIN:
		return "admin";
	case CORE_EV_HEALTH:
		return "health";
	case CORE_EV_REBALANCE:
		return "rebalance";
	case CORE_EV_FENCE_CONFIRM:
		return "fence_confirm";
	}
	return "?";
}

static bool is_request(enum core_ev_type t)
{
	return t == CORE_EV_ADMIN || t == CORE_EV_HEALTH || t == CORE_EV_REBALANCE ||
	       t == CORE_EV_FENCE_CONFIRM;
}

/* Append to 'e->text'; a summary that does not fit is cut, never refused. */
static void __attribute__((format(printf, 2, 3)))
put(struct corelog_entry *e, const char *fmt, ...)
{
	size_t len = strlen(e->text);
	va_list ap;

	if (len + 1 >= sizeof(e->text))
		return;
	va_start(ap, fmt);
	vsnprintf(e->text + len, sizeof(e->text) - len, fmt, ap);
	va_end(ap);
}

static void put_members(struct corelog_entry *e, const char *what, const struct core_member *v,
			size_t n)
{
	if (n == 0)
		return;
	put(e, "%s%s", e->text[0] ? " " : "", what);
	for (size_t i = 0; i < n; i++)
		put(e, " n%" PRIu32, v[i].nodeid);
}

static void put_admin(struct corelog_entry *e, const struct core_admin_req *r)
{
	char a[CHORUS_ADDR_STRLEN];

	res_addr_format_ip(&r->vip, a, sizeof(a));
	switch (r->op) {
	case CORE_ADMIN_STANDBY:
		put(e, "standby n%" PRIu32, r->node);
		break;
	case CORE_ADMIN_ACTIVE:
		put(e, "active n%" PRIu32, r->node);
		break;
	case CORE_ADMIN_MOVE:
		put(e, "move %s to n%" PRIu32, a, r->node);
		break;
	case CORE_ADMIN_UNPIN:
		put(e, "unpin %s", a);
		break;
	case CORE_ADMIN_MAINT_ON:
		put(e, "maintenance on");
		break;
	case CORE_ADMIN_MAINT_OFF:
		put(e, "maintenance off");
		break;
	case CORE_ADMIN_CLEANUP:
		put(e, "cleanup %s on n%" PRIu32, r->vip.family ? a : "all", r->node);
		break;
	default:
		put(e, "op %d", (int)r->op);
		break;
	}
	put(e, " cookie %" PRIu64, r->cookie);
}

static void put_health(struct corelog_entry *e, const struct core_event *ev, size_t n_vips)
{
	bool any = false;

	put(e, "flags 0x%" PRIx32, ev->u.health.node_flags);
	for (size_t i = 0; ev->u.health.unservable != NULL && i < n_vips; i++) {
		if (!ev->u.health.unservable[i])
			continue;
		put(e, "%s%zu", any ? "," : " unservable vip ", i);
		any = true;
	}
	if (ev->u.health.urgent)
		put(e, " urgent");
}

static void summarize(struct corelog_entry *e, const struct core_event *ev, size_t n_vips)
{
	struct wire_hdr h;

	switch (ev->type) {
	case CORE_EV_CONFCHG:
		put_members(e, "members", ev->u.confchg.members, ev->u.confchg.n_members);
		put_members(e, "left", ev->u.confchg.left, ev->u.confchg.n_left);
		put_members(e, "joined", ev->u.confchg.joined, ev->u.confchg.n_joined);
		break;
	case CORE_EV_TOTEM:
		put(e, "ring n%" PRIu32 ".%" PRIu64 " nodes", ev->u.totem.ring.nodeid,
		    ev->u.totem.ring.seq);
		for (size_t i = 0; i < ev->u.totem.n_nodeids; i++)
			put(e, " n%" PRIu32, ev->u.totem.nodeids[i]);
		break;
	case CORE_EV_QUORUM:
		put(e, "ring n%" PRIu32 ".%" PRIu64 " %s", ev->u.quorum.ring.nodeid,
		    ev->u.quorum.ring.seq, ev->u.quorum.quorate ? "quorate" : "not quorate");
		break;
	case CORE_EV_DELIVER:
		if (wire_decode_hdr(ev->u.deliver.buf, ev->u.deliver.size, &h) < 0)
			put(e, "bad header");
		else
			put(e, "%s", wire_type_name(h.type));
		put(e, " from n%" PRIu32 " (%zu bytes)", ev->u.deliver.nodeid, ev->u.deliver.size);
		break;
	case CORE_EV_ACQUIRED:
	case CORE_EV_RELEASED:
	case CORE_EV_LOST:
		put(e, "vip %zu err %d%s", ev->u.res.idx, ev->u.res.err,
		    ev->u.res.more ? " more" : "");
		break;
	case CORE_EV_ADOPT:
		put(e, "vip %zu", ev->u.res.idx);
		break;
	case CORE_EV_FENCED:
		put(e, "n%" PRIu32 " err %d", ev->u.fence.node, ev->u.fence.err);
		break;
	case CORE_EV_PROBED:
		put(e, "vip %zu %s", ev->u.probe.idx,
		    ev->u.probe.answered ? "answered" : "unanswered");
		break;
	case CORE_EV_ADMIN:
		put_admin(e, &ev->u.admin);
		break;
	case CORE_EV_HEALTH:
		put_health(e, ev, n_vips);
		break;
	case CORE_EV_FENCE_CONFIRM:
		put(e, "n%" PRIu32, ev->u.confirm.node);
		break;
	case CORE_EV_SETS:
		for (size_t i = 0; i < n_vips && ev->u.sets.set != NULL; i++)
			if (ev->u.sets.set[i] != 0)
				put(e, "%svip %zu set %08" PRIx32, e->text[0] ? " " : "", i,
				    ev->u.sets.set[i]);
		break;
	case CORE_EV_TICK:
	case CORE_EV_CLUSTER_LOST:
	case CORE_EV_SHUTDOWN:
	case CORE_EV_REBALANCE:
		break;
	}
}

/* Recorded before the step: a step can end the process (out of memory),
 * and the event that did it is the one most worth reading. */
int corelog_step(struct corelog *l, struct core *c, const struct core_event *ev,
		 struct core_actions *out)
{
	struct corelog_entry *e = &l->ring[(l->head + l->n) % CORELOG_MAX];
	int rc;

	if (l->n == CORELOG_MAX)
		l->head = (l->head + 1) % CORELOG_MAX;
	else
		l->n++;
	memset(e, 0, sizeof(*e));
	e->mono_ms = ev->now_ms;
	e->type = ev->type;
	summarize(e, ev, l->n_vips);
	rc = core_step(c, ev, out);
	e->rc = rc;
	return rc;
}

size_t corelog_count(const struct corelog *l)
{
	return l ? l->n : 0;
}

const struct corelog_entry *corelog_get(const struct corelog *l, size_t i)
{
	return &l->ring[(l->head + i) % CORELOG_MAX];
}

struct json_object *corelog_json(const struct corelog *l, size_t limit, uint64_t now_ms)
{
	struct json_object *r = json_object_new_object(), *a = json_object_new_array();
	size_t n = corelog_count(l), start = 0;

	if (limit > 0 && limit < n)
		start = n - limit;
	for (size_t i = start; i < n; i++) {
		const struct corelog_entry *e = corelog_get(l, i);
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "mono_ms", json_object_new_uint64(e->mono_ms));
		json_object_object_add(o, "type",
				       json_object_new_string(corelog_type_name(e->type)));
		json_object_object_add(o, "text", json_object_new_string(e->text));
		if (is_request(e->type) || e->rc != 0)
			json_object_object_add(o, "rc", json_object_new_int(e->rc));
		json_object_array_add(a, o);
	}
	json_object_object_add(r, "core_events", a);
	json_object_object_add(r, "now_ms", json_object_new_uint64(now_ms));
	return r;
}
