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

#include "adapters/cluster.h"
#include "adapters/conf.h"
#include "daemon/bricks.h"
#include "daemon/daemon.h"
#include "plugin/plugin.h"
#include "core/load.h"

#define SCOPES_MAX 256

struct verdict {
	char scope[CHORUS_NAME_MAX];
	enum plugin_health health;
};

struct health_state {
	struct plugin_host *host;
	struct verdict v[SCOPES_MAX];
	size_t n;
	uint32_t *load, *conns;		/* per configured vip, as last reported */
	bool load_job;			/* a core step for new load is queued */
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
	struct core_event ev = {.type = CORE_EV_HEALTH};
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
	for (size_t i = 0; i < d->conf->n_vips; i++)
		if (bricks_failed(d, i)) {
			unserv[i] = true;
			urgent = true;
		}
	ev.u.health.node_flags = flags;
	ev.u.health.unservable = unserv;
	ev.u.health.urgent = urgent;
	if (daemon_step(d, &ev) < 0)
		qb_log(LOG_ERR, "cannot report health to the cluster");
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
	ctl_event(d, "health", "%s on this node: %s%s%s", scope,
		  health == PLUGIN_HEALTH_OK ? "ok" : health == PLUGIN_HEALTH_DEGRADED ? "degraded"
										: "FAILED",
		  reason && *reason ? ": " : "", reason ? reason : "");
	health_apply(d);
}

/* Largest load figure or connection count taken from a plugin: keeps a
 * confused plugin's value inside what placement sums without overflow. */
#define LOAD_VALUE_MAX 100000000.0

/* One core step for all the reports of one plugin sample: the core sends
 * what changed (at most once a second) from its TICK. */
static void load_job(void *data)
{
	struct chorusd *d = data;
	struct core_event ev = {.type = CORE_EV_TICK};

	if (d->health == NULL)
		return;
	d->health->load_job = false;
	daemon_step(d, &ev);
}

/*
 * A plugin's report_load(): "vip:ADDR" is the load figure of one of our
 * addresses, "conns:ADDR" its connection count (ADDR with or without a
 * prefix).  Anything else, or an address we do not declare, is refused; the
 * core multicasts what changed at its own pace.
 */
static int on_load(void *ud, const char *plugin, const char *resource, double value)
{
	struct chorusd *d = ud;
	struct health_state *h = d->health;
	char text[CHORUS_ADDR_STRLEN + 8];
	struct res_addr a;
	const char *ip;
	bool is_conns;
	uint32_t v;

	is_conns = strncmp(resource, "conns:", 6) == 0;
	if (!is_conns && strncmp(resource, "vip:", 4) != 0)
		return -EINVAL;
	ip = resource + (is_conns ? 6 : 4);
	if (strlen(ip) >= CHORUS_ADDR_STRLEN || !(value >= 0.0))	/* NaN too */
		return -EINVAL;
	snprintf(text, sizeof(text), "%s%s", ip,
		 strchr(ip, '/') ? "" : strchr(ip, ':') ? "/128" : "/32");
	if (res_addr_parse(text, &a) < 0)
		return -EINVAL;
	v = (uint32_t)(value > LOAD_VALUE_MAX ? LOAD_VALUE_MAX : value + 0.5);
	for (size_t i = 0; i < d->conf->n_vips; i++) {
		if (res_addr_cmp(&d->conf->vips[i].addr, &a) != 0)
			continue;
		if (is_conns)
			h->conns[i] = v;
		else
			h->load[i] = v;
		if (d->core == NULL)
			return 0;
		(void)core_set_load(d->core, i, h->load[i], h->conns[i]);
		if (!h->load_job && qb_loop_job_add(d->loop, QB_LOOP_LOW, d, load_job) == 0)
			h->load_job = true;
		return 0;
	}
	(void)plugin;
	return -ENOENT;
}

int health_start(struct chorusd *d)
{
	struct health_state *h = calloc(1, sizeof(*h));
	int rc;

	if (h == NULL)
		return -ENOMEM;
	d->health = h;
	h->load = calloc(d->conf->n_vips + 1, sizeof(*h->load));
	h->conns = calloc(d->conf->n_vips + 1, sizeof(*h->conns));
	if (h->load == NULL || h->conns == NULL)
		return -ENOMEM;
	if (d->conf->n_plugins == 0)
		return 0;
	rc = plugin_host_new(d->loop, on_verdict, d, &h->host);
	if (rc < 0) {
		qb_log(LOG_ERR, "cannot start the plugin host " QB_XS " rc=%d", rc);
		return rc;
	}
	plugin_host_set_load_fn(h->host, on_load);
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
	free(d->health->load);
	free(d->health->conns);
	free(d->health);
	d->health = NULL;
}

struct plugin_host *health_host(const struct chorusd *d)
{
	return d->health ? d->health->host : NULL;
}
