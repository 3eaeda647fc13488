/*
 * The configuration drift check, daemon side (ctl_drift.h).
 */
#include "daemon/ctl_drift.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "adapters/conf.h"
#include "core/state.h"

void drift_keys_text(uint32_t mask, char *buf, size_t n)
{
	size_t len = 0;

	if (n == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < CONF_DIGEST_N && len < n; i++)
		if (mask & (1u << i))
			len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? ", " : "",
						conf_digest_keys[i]);
}

struct json_object *drift_keys_json(uint32_t mask)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; a != NULL && i < CONF_DIGEST_N; i++)
		if (mask & (1u << i))
			json_object_array_add(a, json_object_new_string(conf_digest_keys[i]));
	return a;
}

size_t drift_scan(const struct core *c, uint32_t *ids, uint32_t *masks, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; c != NULL && i < core_node_count(c) && k < max; i++) {
		struct core_node_view v;
		bool known;
		uint32_t mask;

		core_node_get(c, i, &v);
		mask = core_conf_diff(c, v.nodeid, &known);
		if (known && mask) {
			ids[k] = v.nodeid;
			masks[k++] = mask;
		}
	}
	return k;
}
