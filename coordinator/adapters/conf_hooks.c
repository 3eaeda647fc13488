/*
 * "hooks": [{"pool": NAME, "script": PATH, "timeout_ms": N, "args": [...]}],
 * the service hooks of chorus-hooks(7): what to tell NFS-Ganesha, Samba or
 * any other service in front of the storage when a client address arrives
 * (takeip) or is about to leave (releaseip).
 *
 * A hook runs at failover, the worst moment to learn that its path has a
 * typo, so the script must exist and be executable when the file is loaded
 * (a bad reload keeps the old config).  A hook on a pool no client VIP uses
 * would never run: that is a typo too, and refused.
 */
#include "config.h"

#include "adapters/conf_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

static int hook_args(struct conf_ctx *cx, const char *parent, struct json_object *v,
		     struct conf_hook *h)
{
	char kp[CONF_KP_SIZE], esc[CONF_ESC_SIZE];

	conf_kp(kp, parent, "args");
	if (!json_object_is_type(v, json_type_array) ||
	    json_object_array_length(v) > CONF_HOOK_ARGS)
		return conf_err(cx, kp, "expected an array of at most %d strings (appended to "
				"the hook's argv, no shell)", CONF_HOOK_ARGS);
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		const char *s;
		size_t len;
		int rc;

		if (snprintf(kp, sizeof(kp), "%.200s.args[%zu]", parent, i) < 0)
			kp[0] = '\0';
		rc = conf_string(cx, kp, json_object_array_get_idx(v, i), &s, &len, esc);
		if (rc < 0)
			return rc;
		if (len >= CONF_HOOK_ARG_MAX || strlen(s) != len)
			return conf_err(cx, kp, "longer than %d characters or contains NUL",
					CONF_HOOK_ARG_MAX - 1);
		memcpy(h->args[i], s, len + 1);
		h->n_args = i + 1;
	}
	return 0;
}

static bool pool_has_client_vip(const struct chorus_conf *c, const char *pool)
{
	for (size_t i = 0; i < c->n_vips; i++)
		if (c->vips[i].brick == 0 && strcmp(c->vips[i].pool, pool) == 0)
			return true;
	return false;
}

static int hook_one(struct conf_ctx *cx, const char *kp0, struct json_object *o,
		    struct conf_hook *h, const struct chorus_conf *c)
{
	static const char *const keys[] = {"pool", "script", "timeout_ms", "args", NULL};
	char kp[CONF_KP_SIZE];
	struct json_object *v;
	struct stat st;
	int rc = conf_object(cx, kp0, o, keys);

	if (rc < 0)
		return rc;
	h->timeout_ms = 10000;
	if (!json_object_object_get_ex(o, "pool", &v))
		return conf_err(cx, conf_kp(kp, kp0, "pool"), "missing (the VIP pool it serves)");
	rc = conf_name(cx, conf_kp(kp, kp0, "pool"), v, h->pool);
	if (rc < 0)
		return rc;
	if (!pool_has_client_vip(c, h->pool))
		return conf_err(cx, kp, "no client VIP is in pool \"%s\"%s", h->pool,
				strcmp(h->pool, c->brick_pool) == 0
					? " (bricks have their own script: bricks.script)" : "");
	if (!json_object_object_get_ex(o, "script", &v))
		return conf_err(cx, conf_kp(kp, kp0, "script"), "missing (an absolute path)");
	rc = conf_path(cx, conf_kp(kp, kp0, "script"), v, PATH_MAX - 1, h->script);
	if (rc < 0)
		return rc;
	if (stat(h->script, &st) < 0)
		return conf_err(cx, kp, "%s: %s", h->script, strerror(errno));
	if (!S_ISREG(st.st_mode) || access(h->script, X_OK) < 0)
		return conf_err(cx, kp, "%s is not an executable file", h->script);
	if (json_object_object_get_ex(o, "timeout_ms", &v)) {
		rc = conf_u32(cx, conf_kp(kp, kp0, "timeout_ms"), v, 100, 600000, &h->timeout_ms);
		if (rc < 0)
			return rc;
	}
	if (json_object_object_get_ex(o, "args", &v))
		return hook_args(cx, kp0, v, h);
	return 0;
}

int conf_hooks(struct conf_ctx *cx, struct json_object *v, struct chorus_conf *c)
{
	size_t n;

	if (!json_object_is_type(v, json_type_array) ||
	    json_object_array_length(v) > CONF_HOOKS_MAX)
		return conf_err(cx, "hooks", "expected an array of at most %d hook objects",
				CONF_HOOKS_MAX);
	n = json_object_array_length(v);
	if (n == 0)
		return 0;
	c->hooks = calloc(n, sizeof(*c->hooks));
	if (c->hooks == NULL)
		return conf_syserr(cx, "allocate", -ENOMEM);
	for (size_t i = 0; i < n; i++) {
		char kp[CONF_KP_SIZE];
		int rc;

		snprintf(kp, sizeof(kp), "hooks[%zu]", i);
		rc = hook_one(cx, kp, json_object_array_get_idx(v, i), &c->hooks[i], c);
		if (rc < 0)
			return rc;
		c->hooks[i].index = (uint32_t)i;
		c->n_hooks = i + 1;
	}
	return 0;
}

/* "notify": {"command": [ARGV], "timeout_ms": N, "types": [TYPE...]}: a
 * command run for every event (or those of 'types'), see chorus.json(5). */
int conf_notify(struct conf_ctx *cx, struct json_object *o, struct chorus_conf *c)
{
	static const char *const keys[] = {"command", "timeout_ms", "types", NULL};
	static const char *const types[] = {"daemon", "membership", "move", "quorum", "admin",
					    "health", "fence", "config", NULL};
	struct json_object *v;
	int rc = conf_object(cx, "notify", o, keys);

	c->notify_timeout_ms = 10000;
	if (rc == 0 && !json_object_object_get_ex(o, "command", &v))
		return conf_err(cx, "notify.command", "missing (the command to run, e.g. "
				"[\"/usr/local/bin/chorus-notify\"])");
	if (rc == 0)
		rc = conf_argv(cx, "notify.command", v, c->notify_args, CONF_FENCE_ARGS,
			       &c->n_notify_args);
	if (rc == 0 && json_object_object_get_ex(o, "timeout_ms", &v))
		rc = conf_u32(cx, "notify.timeout_ms", v, 100, 600000, &c->notify_timeout_ms);
	if (rc == 0 && json_object_object_get_ex(o, "types", &v)) {
		size_t n;

		if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0 ||
		    json_object_array_length(v) > 8)
			return conf_err(cx, "notify.types", "expected an array of 1 to 8 event types");
		n = json_object_array_length(v);
		for (size_t i = 0; i < n && rc == 0; i++) {
			char kp[CONF_KP_SIZE];
			int t;

			snprintf(kp, sizeof(kp), "notify.types[%zu]", i);
			rc = conf_enum(cx, kp, json_object_array_get_idx(v, i), types, &t);
			if (rc == 0)
				snprintf(c->notify_types[c->n_notify_types++], sizeof(c->notify_types[0]),
					 "%s", types[t]);
		}
	}
	return rc;
}
