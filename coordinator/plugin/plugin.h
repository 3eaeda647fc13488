/*
 * The plugin host inside chorusd: loads plugins (dlopen, versioned ABI in
 * include/chorus/plugin.h), runs their checks off the main loop with a
 * per-check timeout, applies hysteresis, and reports each scope's verdict
 * to the daemon, which turns verdicts into eligibility (core) and status.
 *
 * Scopes are strings: "node" (the whole node), "link:IFNAME",
 * "fc:HOSTNAME", "volume:VOLNAME", "check:NAME".  A VIP lists the scopes it
 * depends on in its config ("depends"); a failed scope makes this node
 * unable to serve the VIPs that depend on it.  A failed "node" scope makes
 * it unable to serve anything.
 */
#ifndef CHORUS_PLUGIN_HOST_H
#define CHORUS_PLUGIN_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <qb/qbloop.h>

enum plugin_health {
	PLUGIN_HEALTH_OK = 0,
	PLUGIN_HEALTH_DEGRADED = 1,	/* reported, does not move anything */
	PLUGIN_HEALTH_FAILED = 2,	/* what depends on the scope moves off this node */
};

/* Called from the loop when a scope's verdict changes (after hysteresis). */
typedef void (*plugin_health_fn)(void *ud, const char *scope, enum plugin_health health,
				 const char *reason);

struct plugin_host;

struct plugin_scope_view {
	const char *scope;
	const char *plugin;
	enum plugin_health health;
	const char *reason;
	uint64_t since_ms;		/* monotonic ms of the last change */
};

int plugin_host_new(qb_loop_t *loop, plugin_health_fn fn, void *ud, struct plugin_host **out);

/* Where plugins' report_load() goes (on the loop thread; 'resource' and
 * 'value' borrowed and unchecked beyond "not NULL").  Without one, load
 * reports are accepted and dropped. */
typedef int (*plugin_load_fn)(void *ud, const char *plugin, const char *resource, double value);
void plugin_host_set_load_fn(struct plugin_host *h, plugin_load_fn fn);

/* Load plugin 'name' from 'dir' (file "chorus-NAME.so", or a path) with its
 * JSON 'config' (borrowed).  A wrong ABI version or struct size, a missing
 * entry symbol or a failed init is logged clearly and returns -errno; the
 * daemon runs on without that plugin. */
int plugin_host_load(struct plugin_host *h, const char *dir, const char *name,
		     struct json_object *config);

/* Added by the plugin work: this node's corosync node id, for
 * chorus_host_api.node_id() (0 until set; may be set at any time, e.g.
 * once the CPG join tells it: command-check reads it at every run). */
void plugin_host_set_node_id(struct plugin_host *h, uint32_t node_id);

/* Added by the plugin work: hand loaded plugin 'name' (its own name) a new
 * JSON 'config' (borrowed), through its reconfigure hook, or fini + init
 * when it has none.  On failure the plugin keeps its old configuration
 * (reconfigure hook) or is stopped (fini + init) and -errno is returned. */
int plugin_host_reconfigure(struct plugin_host *h, const char *name, struct json_object *config);

/* Current verdicts, for status. */
size_t plugin_host_scope_count(const struct plugin_host *h);
void plugin_host_scope_get(const struct plugin_host *h, size_t i, struct plugin_scope_view *v);

/* Stop checks (bounded wait for workers), fini plugins, dlclose. */
void plugin_host_free(struct plugin_host *h);

#endif
