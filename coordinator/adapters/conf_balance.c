/*
 * "balance": {"interval_ms": N, "margin_pct": N, "budget": N}, the knobs of
 * load-aware placement (place.h rule 7, core/load.c).  Off (interval 0) by
 * default: load is then measured and shown, and nothing moves for it.
 */
#include "config.h"

#include "adapters/conf_private.h"

#include <json-c/json.h>

int conf_balance(struct conf_ctx *cx, struct json_object *o, struct chorus_conf *c)
{
	static const char *const keys[] = {"interval_ms", "margin_pct", "budget", NULL};
	char kp[CONF_KP_SIZE];
	struct json_object *v;
	int rc = conf_object(cx, "balance", o, keys);

	if (rc == 0 && json_object_object_get_ex(o, "interval_ms", &v))
		rc = conf_u32(cx, conf_kp(kp, "balance", "interval_ms"), v, 0, 3600000,
			      &c->balance_interval_ms);
	if (rc == 0 && json_object_object_get_ex(o, "margin_pct", &v))
		rc = conf_u32(cx, conf_kp(kp, "balance", "margin_pct"), v, 1, 100,
			      &c->balance_margin_pct);
	if (rc == 0 && json_object_object_get_ex(o, "budget", &v))
		rc = conf_u32(cx, conf_kp(kp, "balance", "budget"), v, 1, 64, &c->balance_budget);
	/* a rebalance more often than load is measured would act on stale
	 * figures: a second is the smallest sensible interval */
	if (rc == 0 && c->balance_interval_ms != 0 && c->balance_interval_ms < 1000)
		rc = conf_err(cx, "balance.interval_ms", "must be 0 (off) or at least 1000");
	return rc;
}
