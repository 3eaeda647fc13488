/*
 * Which replica/disperse set each brick is in (issue 17): glusterd's volume
 * info says, chorus.json's "set" overrides it (exec/inventory.h names the
 * sets and says when the two disagree).
 *
 * The inventory is read at start-up, by the Gluster hooks and periodically,
 * so a brick's set can change at any time: the volume is converted, or
 * glusterd answers only after the core started.  A change goes to the core
 * as CORE_EV_SETS, which changes what this node declares in its next STATE;
 * every member merges the declarations at the next round, so all of them
 * place with the same sets, never some with the old and some with the new
 * (core/state_sets.c).  At start-up chorusd waits for the first answer
 * before joining (bricks_inventory_pending), so its first STATE declares
 * glusterd's sets and bricks are first placed with them.
 *
 * A disagreement is logged once when it appears (and when it ends), and
 * shown in status for as long as it lasts: an override is kept, because the
 * operator wrote it, but a silent one is how the two drifted apart before.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>
#include <qb/qblog.h>

#include "adapters/conf.h"
#include "daemon/bricks.h"
#include "daemon/daemon.h"
#include "exec/inventory.h"

static const char *source_name(enum inventory_set_source s)
{
	return s == INVENTORY_SET_GLUSTER ? "gluster" : s == INVENTORY_SET_CONFIG ? "config"
										 : "none";
}

/* glusterd's word on a brick, for the log: "set 1", "no set" */
static const char *gluster_says(const struct inventory_set *s, char *buf, size_t size)
{
	if (s->gluster_in_set)
		snprintf(buf, size, "set %" PRIu32, s->gluster_set);
	else
		snprintf(buf, size, "no set (not replicated or dispersed)");
	return buf;
}

bool bricks_sets_update(struct chorusd *d, struct inventory_set *sets, const struct inventory *inv)
{
	const struct chorus_conf *c = d->conf;
	bool changed = false;

	for (size_t b = 0; b < c->n_bricks; b++) {
		const struct conf_brick *cb = &c->bricks[b];
		struct inventory_set now, *was = &sets[b];
		char g[64];

		inventory_set_of(inv, cb->volume, cb->host, cb->path, cb->set, &now);
		if (now.conflict && (!was->conflict || was->gluster_in_set != now.gluster_in_set ||
				     was->gluster_set != now.gluster_set))
			qb_log(LOG_WARNING, "brick %s:%s: chorus.json says set \"%s\", glusterd says %s "
			       "(volume %s): chorus.json's \"set\" overrides it; remove it to follow "
			       "glusterd", cb->host, cb->path, cb->set, gluster_says(&now, g, sizeof(g)),
			       cb->volume);
		else if (!now.conflict && was->conflict)
			qb_log(LOG_NOTICE, "brick %s:%s: chorus.json and glusterd agree on its set again",
			       cb->host, cb->path);
		if (now.id != was->id) {
			qb_log(LOG_NOTICE, "brick %s:%s: set %s%s%s (from %s)%s", cb->host, cb->path,
			       now.id ? now.volume : "none", now.id ? "/" : "", now.name,
			       source_name(now.source),
			       d->core != NULL ? ": placed with it from the next round" : "");
			changed = true;
		}
		*was = now;
	}
	return changed;
}

uint32_t bricks_sets_id(const struct chorusd *d, const struct inventory_set *sets, size_t vi)
{
	const struct chorus_conf *c = d->conf;

	if (vi >= c->n_vips || c->vips[vi].brick == 0)
		return 0;
	return sets[c->vips[vi].brick - 1].id;
}

void bricks_sets_declare(struct chorusd *d, const struct inventory_set *sets)
{
	struct core_event ev = {.type = CORE_EV_SETS};
	uint32_t *v;

	if (d->core == NULL || d->conf->n_vips == 0)
		return;	/* core_start declares them */
	v = calloc(d->conf->n_vips, sizeof(*v));
	if (v == NULL) {
		qb_log(LOG_ERR, "out of memory: brick sets not declared");
		return;
	}
	for (size_t i = 0; i < d->conf->n_vips; i++)
		v[i] = bricks_sets_id(d, sets, i);
	ev.u.sets.set = v;
	daemon_step(d, &ev);
	free(v);
}

void bricks_sets_json(const struct chorusd *d, const struct inventory_set *s, size_t b,
		      struct json_object *x)
{
	const struct conf_brick *cb = &d->conf->bricks[b];
	char buf[2 * INVENTORY_VOLNAME_MAX];
	struct json_object *o = json_object_new_object();

	snprintf(buf, sizeof(buf), "%s/%s", s->volume, s->name);
	json_object_object_add(o, "set", s->id ? json_object_new_string(buf) : NULL);
	json_object_object_add(o, "source", json_object_new_string(source_name(s->source)));
	json_object_object_add(o, "config", cb->set[0] ? json_object_new_string(cb->set) : NULL);
	snprintf(buf, sizeof(buf), "%" PRIu32, s->gluster_set);
	json_object_object_add(o, "gluster", s->gluster_in_set ? json_object_new_string(buf) : NULL);
	json_object_object_add(o, "conflict", json_object_new_boolean(s->conflict));
	/* what the replicated table uses: ours from the next round on, or a
	 * lower member's when it declares the brick in another set */
	if (d->core != NULL) {
		size_t vi = SIZE_MAX;

		for (size_t i = 0; i < d->conf->n_vips && vi == SIZE_MAX; i++)
			if (d->conf->vips[i].brick == b + 1)
				vi = i;
		if (vi != SIZE_MAX)
			json_object_object_add(o, "in_effect", json_object_new_boolean(
							       core_set_merged(d->core, &cb->addr) ==
							       core_set_declared(d->core, vi)));
	}
	json_object_object_add(x, "set", o);
}
