/*
 * From plugin verdicts to what the cluster may ask of this node.
 *
 * Plugins judge scopes ("link:eth0", "volume:gv0", "check:nfs", "node");
 * the config says which scopes each VIP depends on, and which make the whole
 * node unfit.  This file keeps the latest verdict per scope and, on every
 * change, tells the core which of our declared addresses we cannot serve
 * and whether the node as a whole is unfit.  The core multicasts that, and
 * placement does the rest on every member alike.  Degraded is reported
 * (status) but moves nothing.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include "cluster.h"
#include "conf.h"
#include "daemon.h"
#include "plugin.h"

#define SCOPES_MAX 256

struct verdict {
	char scope[CHORUS_NAME_MAX];
	enum plugin_health health;
};

struct health_state {
	struct plugin_host *host;
	struct verdict v[SCOPES_MAX];
	size_t n;
};

static bool scope_failed(const struct health_state *h, const char *scope)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->v[i].scope, scope) == 0)
			return h->v[i].health == PLUGIN_HEALTH_FAILED;
	return false;
}

/* Push the current verdicts into the core (idempotent; the core multicasts
 * only when something changed). */
void health_apply(struct chorusd *d)
{
	struct health_state *h = d->health;
	struct core_actions acts;
	uint32_t flags = 0;
	bool *unserv, urgent = false;

	if (h == NULL || d->core == NULL)
		return;
	if (h->host && d->cl)
		plugin_host_set_node_id(h->host, cluster_nodeid(d->cl));
	unserv = calloc(d->conf->n_vips + 1, sizeof(*unserv));
	if (unserv == NULL)
		return;
	if (scope_failed(h, "node"))
		flags = 1;
	for (uint32_t k = 0; k < d->conf->n_depends; k++)
		if (scope_failed(h, d->conf->depends[k]))
			flags = 1;
	for (size_t i = 0; i < d->conf->n_vips; i++)
		for (uint32_t k = 0; k < d->conf->vips[i].n_depends; k++)
			if (scope_failed(h, d->conf->vips[i].depends[k])) {
				unserv[i] = true;
				/* carrier loss is a fact about this node, acted on at
				 * once; a probe of something shared (a volume, a
				 * command) may fail everywhere: let that settle */
				if (!strncmp(d->conf->vips[i].depends[k], "link:", 5) ||
				    !strncmp(d->conf->vips[i].depends[k], "fc:", 3))
					urgent = true;
			}
	/* a brick that died more often than it may restart in place */
	for (size_t i = 0; d->brick_failed != NULL && i < d->conf->n_vips; i++)
		if (d->brick_failed[i]) {
			unserv[i] = true;
			urgent = true;
		}
	core_actions_init(&acts);
	if (core_set_health(d->core, daemon_mono_ms(), flags, unserv, urgent, &acts) < 0)
		qb_log(LOG_ERR, "cannot report health to the cluster");
	daemon_actions(d, &acts);
	core_actions_release(&acts);
	free(unserv);
}

static void on_verdict(void *ud, const char *scope, enum plugin_health health, const char *reason)
{
	struct chorusd *d = ud;
	struct health_state *h = d->health;
	size_t i;

	for (i = 0; i < h->n; i++)
		if (strcmp(h->v[i].scope, scope) == 0)
			break;
	if (i == h->n) {
		if (h->n == SCOPES_MAX) {
			qb_log(LOG_ERR, "more than %d health scopes: ignoring %s", SCOPES_MAX, scope);
			return;
		}
		snprintf(h->v[i].scope, sizeof(h->v[i].scope), "%s", scope);
		h->n++;
	}
	h->v[i].health = health;
	qb_log(health == PLUGIN_HEALTH_OK ? LOG_NOTICE : LOG_WARNING, "health %s: %s%s%s", scope,
	       health == PLUGIN_HEALTH_OK ? "ok" : health == PLUGIN_HEALTH_DEGRADED ? "degraded"
										: "FAILED",
	       reason && *reason ? ": " : "", reason ? reason : "");
	health_apply(d);
}

int health_start(struct chorusd *d)
{
	struct health_state *h = calloc(1, sizeof(*h));
	int rc;

	if (h == NULL)
		return -ENOMEM;
	d->health = h;
	if (d->conf->n_plugins == 0)
		return 0;
	rc = plugin_host_new(d->loop, on_verdict, d, &h->host);
	if (rc < 0) {
		qb_log(LOG_ERR, "cannot start the plugin host " QB_XS " rc=%d", rc);
		return rc;
	}
	for (size_t i = 0; i < d->conf->n_plugins; i++) {
		struct json_object *cfg = json_tokener_parse(d->conf->plugins[i].config_json);

		/* a plugin that does not load is logged by the host; run on */
		(void)plugin_host_load(h->host, d->conf->plugin_dir, d->conf->plugins[i].name, cfg);
		json_object_put(cfg);
	}
	return 0;
}

void health_stop(struct chorusd *d)
{
	if (d->health == NULL)
		return;
	plugin_host_free(d->health->host);
	free(d->health);
	d->health = NULL;
}

struct plugin_host *health_host(const struct chorusd *d)
{
	return d->health ? d->health->host : NULL;
}
