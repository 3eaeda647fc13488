/*
 * The bricks part of status (bricks.h, bricks_status_json()).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json.h>

#include "adapters/conf.h"
#include "daemon/bricks_private.h"

/* ---- status ---- */

struct json_object *bricks_status_json(const struct chorusd *d)
{
	const struct bricks *bs = B(d);
	struct json_object *o = json_object_new_object(), *list = json_object_new_array();

	json_object_object_add(o, "fence",
			       json_object_new_string(conf_fence_name(d->conf->fence_mode)));
	json_object_object_add(o, "bricks", list);
	bricks_unresolved_json(d, o);
	if (bs == NULL)
		return o;
	for (size_t b = 0; b < bs->n; b++) {
		const struct conf_brick *cb = &d->conf->bricks[b];
		struct json_object *x = json_object_new_object();
		const struct inventory_brick *ib =
			bs->inv ? inventory_find(bs->inv, cb->host, cb->path) : NULL;
		char a[CHORUS_ADDR_STRLEN];

		res_addr_format(&cb->addr, a, sizeof(a));
		json_object_object_add(x, "volume", json_object_new_string(cb->volume));
		json_object_object_add(x, "host", json_object_new_string(cb->host));
		json_object_object_add(x, "path", json_object_new_string(cb->path));
		json_object_object_add(x, "named_by", json_object_new_string(cb->from_gluster
										? "gluster"
										: "config"));
		json_object_object_add(x, "address", json_object_new_string(a));
		json_object_object_add(x, "running_here",
				       json_object_new_boolean(brick_exec_held(bs->bx, b)));
		json_object_object_add(x, "busy", json_object_new_boolean(brick_exec_busy(bs->bx, b)));
		{
			const char *doing = brick_exec_doing(bs->bx, b);

			json_object_object_add(x, "doing", doing ? json_object_new_string(doing) : NULL);
		}
		json_object_object_add(x, "failed", json_object_new_boolean(bs->failed_until[b] != 0));
		json_object_object_add(x, "in_gluster", json_object_new_boolean(ib != NULL));
		if (ib != NULL) {
			json_object_object_add(x, "home_uuid", json_object_new_string(ib->uuid));
			json_object_object_add(x, "volume_started", json_object_new_boolean(ib->started));
		}
		bricks_sets_json(d, &bs->sets[b], b, x);
		json_object_array_add(list, x);
	}
	{
		struct json_object *inv = json_object_new_object();

		json_object_object_add(inv, "refreshes", json_object_new_int64((int64_t)bs->inv_refreshes));
		json_object_object_add(inv, "bricks",
				       json_object_new_int64(bs->inv ? (int64_t)bs->inv->n : -1));
		json_object_object_add(inv, "age_ms",
				       json_object_new_int64(bs->inv ? (int64_t)(daemon_mono_ms() -
										 bs->inv_at_ms)
								     : -1));
		json_object_object_add(inv, "last_reason", json_object_new_string(bs->inv_why));
		json_object_object_add(inv, "error", json_object_new_string(bs->inv_err));
		json_object_object_add(inv, "brick_multiplex",
				       json_object_new_boolean(bs->multiplex));
		json_object_object_add(o, "inventory", inv);
	}
	json_object_object_add(o, "fences_ok", json_object_new_int64((int64_t)bs->fences_ok));
	json_object_object_add(o, "fences_failed", json_object_new_int64((int64_t)bs->fences_failed));
	if (bs->fence_run != NULL)
		json_object_object_add(o, "fencing", json_object_new_int64(bs->fence_node));
	if (bs->last_fence_node != 0) {
		struct json_object *lf = json_object_new_object();

		json_object_object_add(lf, "node", json_object_new_int64(bs->last_fence_node));
		json_object_object_add(lf, "ok", json_object_new_boolean(bs->last_fence_ok));
		if (!bs->last_fence_ok)
			json_object_object_add(lf, "error",
					       json_object_new_string(bs->last_fence_error));
		json_object_object_add(lf, "age_ms", json_object_new_int64(
						     (int64_t)(daemon_mono_ms() - bs->last_fence_ms)));
		json_object_object_add(o, "last_fence", lf);
	}
	json_object_object_add(o, "watchdog", json_object_new_string(
					      bs->wd_fd < 0 ? "none" : bs->wd_starving ? "starving"
											: "fed"));
	return o;
}

