/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * chorus plugin ABI (public, versioned).
 *
 * A plugin is a shared object that exports one symbol,
 *
 *	CHORUS_PLUGIN_EXPORT const struct chorus_plugin *chorus_plugin_entry(void);
 *
 * returning a static struct chorus_plugin (the nginx NGX_MODULE_V1 shape:
 * version and size first, then hooks, then spare slots).  chorusd dlopen()s
 * it with RTLD_NOW | RTLD_LOCAL, looks up that one symbol, and refuses the
 * plugin unless abi_version == CHORUS_PLUGIN_ABI_VERSION and struct_size ==
 * sizeof(struct chorus_plugin) of that version.  Everything the daemon offers
 * comes through the function table struct chorus_host_api handed to init(),
 * so a plugin never links a daemon symbol (build with -fvisibility=hidden;
 * only the entry point is exported).
 *
 * Threading: init, reconfigure, fini, fd and timer callbacks run on the
 * daemon's single main loop and must return quickly (no blocking I/O, no
 * sleeping).  Anything that can block goes into a check (schedule_check):
 * the check function runs on a host worker thread with a timeout.  From a
 * check function only api->log() and api->node_id() may be called; every
 * other host function is main-loop only (elsewhere it returns -EPERM).
 *
 * Memory: the host never frees plugin memory and the plugin never frees host
 * memory.  Strings passed to host functions are borrowed for the call.
 *
 * Build out of tree:  cc -shared -fPIC -fvisibility=hidden \
 *	$(pkg-config --cflags chorus-plugin) -o chorus-foo.so foo.c
 * and install into $(pkg-config --variable=plugindir chorus-plugin).
 * See chorus-plugin(7).
 */
#ifndef CHORUS_PLUGIN_H
#define CHORUS_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any incompatible change of struct chorus_plugin. */
#define CHORUS_PLUGIN_ABI_VERSION 1u
/* Bumped when functions are appended to struct chorus_host_api. */
#define CHORUS_HOST_API_VERSION 1u

#define CHORUS_PLUGIN_ENTRY_SYMBOL "chorus_plugin_entry"

#if defined(__GNUC__)
#define CHORUS_PLUGIN_EXPORT __attribute__((visibility("default")))
#define CHORUS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CHORUS_PLUGIN_EXPORT
#define CHORUS_PRINTF(f, a)
#endif

/* Health of a scope.  Scopes are strings: "node", "link:IFNAME",
 * "fc:HOST", "volume:VOLNAME", "check:NAME".  A failed scope moves what
 * depends on it off this node; degraded is shown but moves nothing. */
enum chorus_health {
	CHORUS_HEALTH_OK = 0,
	CHORUS_HEALTH_DEGRADED = 1,
	CHORUS_HEALTH_FAILED = 2,
};

/* Log levels: the syslog(3) values. */
enum chorus_log_level {
	CHORUS_LOG_ERR = 3,
	CHORUS_LOG_WARNING = 4,
	CHORUS_LOG_NOTICE = 5,
	CHORUS_LOG_INFO = 6,
	CHORUS_LOG_DEBUG = 7,
};

/* watch_fd() events and revents: the poll(2) values. */
#define CHORUS_FD_IN 0x001u
#define CHORUS_FD_OUT 0x004u
#define CHORUS_FD_ERR 0x008u
#define CHORUS_FD_HUP 0x010u

/* Defaults the host applies to a check unless check_set_hysteresis() says
 * otherwise: the scope fails after 3 consecutive bad results and recovers
 * after 2 consecutive good ones. */
#define CHORUS_CHECK_FAIL_AFTER_DEFAULT 3u
#define CHORUS_CHECK_RECOVER_AFTER_DEFAULT 2u

/* Longest reason the host keeps (including the NUL); longer is cut. */
#define CHORUS_REASON_SIZE 256u

/* One loaded plugin instance, owned by the host.  Opaque. */
struct chorus_plugin_ctx;

/* A check: runs on a worker thread, must not touch the main loop's data
 * without its own locking, may call api->log() only.  Writes a one-line
 * reason (NUL-terminated, at most 'reason_size' bytes) and returns the
 * verdict of this one sample; the host applies hysteresis. */
typedef enum chorus_health (*chorus_check_fn)(struct chorus_plugin_ctx *ctx, void *arg,
					      char *reason, size_t reason_size);

/* Main-loop callbacks: must be quick. */
typedef void (*chorus_fd_fn)(struct chorus_plugin_ctx *ctx, int fd, uint32_t revents, void *arg);
typedef void (*chorus_timer_fn)(struct chorus_plugin_ctx *ctx, void *arg);

/*
 * Services of the host.  Appended to only: a plugin that needs a function
 * added after version 1 checks CHORUS_HOST_API_HAS(api, member) first.
 * Functions returning int return 0 (or a positive id) on success and
 * -errno on failure.
 */
struct chorus_host_api {
	uint32_t api_version;		/* CHORUS_HOST_API_VERSION of the host */
	uint32_t struct_size;		/* sizeof(struct chorus_host_api) of the host */

	/* This node's corosync node id (0 until known: it may become known
	 * after init).  Callable from any thread. */
	uint32_t (*node_id)(struct chorus_plugin_ctx *ctx);

	/* Log through the daemon's log, prefixed with the plugin's name.
	 * Callable from any thread (from a worker the line is passed to the
	 * main loop). */
	void (*log)(struct chorus_plugin_ctx *ctx, int level, const char *fmt, ...)
		CHORUS_PRINTF(3, 4);

	/* The plugin's private pointer (NULL until set). */
	void (*set_private)(struct chorus_plugin_ctx *ctx, void *priv);
	void *(*get_private)(struct chorus_plugin_ctx *ctx);

	/* Report the health of 'scope' now, without hysteresis: for facts
	 * (a kernel event), not samples.  Reporting the same health again
	 * only updates the reason. */
	int (*report_health)(struct chorus_plugin_ctx *ctx, const char *scope,
			     enum chorus_health health, const char *reason);

	/* Report the load of 'resource' for balancing: "vip:ADDR" is a load
	 * figure (units the plugin's, comparable across nodes), "conns:ADDR"
	 * the address's client connection count.  -EINVAL for anything else
	 * or a negative value, -ENOENT for an address this node does not
	 * declare. */
	int (*report_load)(struct chorus_plugin_ctx *ctx, const char *resource, double value);

	/* Run 'fn(ctx, arg, ...)' on a worker thread every 'interval_ms', first
	 * soon after the call; a run that exceeds 'timeout_ms' counts as failed
	 * ("timed out after N ms") and its worker is written off until the
	 * function returns (it is never run twice at once).  The verdicts, after
	 * hysteresis, are reported for 'scope'.  Returns a check id > 0.
	 * 'arg' must stay valid until fini() returns: a run in progress may
	 * still use it after check_cancel(). */
	int (*schedule_check)(struct chorus_plugin_ctx *ctx, const char *scope,
			      uint32_t interval_ms, uint32_t timeout_ms,
			      chorus_check_fn fn, void *arg);
	/* Consecutive bad results before the scope turns failed (or degraded),
	 * and consecutive good results before it turns ok again; each >= 1. */
	int (*check_set_hysteresis)(struct chorus_plugin_ctx *ctx, int check_id,
				    uint32_t fail_after, uint32_t recover_after);
	int (*check_cancel)(struct chorus_plugin_ctx *ctx, int check_id);

	/* Call 'cb' on the main loop when 'fd' has 'events' (CHORUS_FD_*).
	 * The plugin keeps owning 'fd'; unwatch it before closing it. */
	int (*watch_fd)(struct chorus_plugin_ctx *ctx, int fd, uint32_t events,
			chorus_fd_fn cb, void *arg);
	int (*unwatch_fd)(struct chorus_plugin_ctx *ctx, int fd);

	/* Call 'cb' once on the main loop after 'ms'.  Returns a timer id > 0,
	 * valid until the callback runs or timer_del() is called. */
	int (*add_timer)(struct chorus_plugin_ctx *ctx, uint32_t ms, chorus_timer_fn cb, void *arg);
	int (*timer_del)(struct chorus_plugin_ctx *ctx, int timer_id);
};

/* True if the host's table is long enough to contain 'member'. */
#define CHORUS_HOST_API_HAS(api, member)                                                           \
	((api)->struct_size >= offsetof(struct chorus_host_api, member) + sizeof((api)->member) &&  \
	 (api)->member != NULL)

/*
 * What the plugin exports.  CHORUS_PLUGIN_DEFINE (below) declares it and
 * the entry point in one go:
 *
 *	CHORUS_PLUGIN_DEFINE(foo_plugin,
 *		.name = "foo",
 *		.init = foo_init,
 *		.reconfigure = foo_reconfigure,
 *		.fini = foo_fini);
 *
 * By hand: a static struct chorus_plugin starting with CHORUS_PLUGIN_V1, and
 * an exported chorus_plugin_entry() returning it.
 */
struct chorus_plugin {
	uint32_t abi_version;		/* CHORUS_PLUGIN_ABI_VERSION */
	uint32_t struct_size;		/* sizeof(struct chorus_plugin) */
	const char *name;		/* short, [a-z0-9-]; used in logs and status */

	/* Parse 'config_json' (a JSON object as text, borrowed; "{}" when the
	 * operator gave none), set up, and keep private state with
	 * api->set_private().  'api' stays valid until fini() returns.
	 * Nonzero (-errno) refuses the load; then fini is not called, and the
	 * host cancels whatever the plugin had scheduled. */
	int (*init)(const struct chorus_host_api *api, struct chorus_plugin_ctx *ctx,
		    const char *config_json);

	/* New configuration for a loaded plugin (keepalived's migrate): keep
	 * what still applies (sockets, long-lived handles, scope states) and
	 * change the rest.  Nonzero keeps the old configuration running.
	 * NULL: the host does fini() + init() instead. */
	int (*reconfigure)(const struct chorus_host_api *api, struct chorus_plugin_ctx *ctx,
			   const char *config_json);

	/* Release everything.  The host then cancels any checks, fds and
	 * timers the plugin left behind.  Not called while a check of the
	 * plugin is still running at shutdown (the plugin is then leaked). */
	void (*fini)(const struct chorus_host_api *api, struct chorus_plugin_ctx *ctx);

	void *spare[8];			/* NULL; for hooks added compatibly */
};

#define CHORUS_PLUGIN_V1                                                                           \
	.abi_version = CHORUS_PLUGIN_ABI_VERSION, .struct_size = sizeof(struct chorus_plugin)

/* The descriptor 'var' (CHORUS_PLUGIN_V1 and the members given) and the
 * exported entry point returning it.  It ends in a declaration, so the
 * use takes a semicolon like any other (and -Wpedantic stays quiet). */
#define CHORUS_PLUGIN_DEFINE(var, ...)                                                             \
	static const struct chorus_plugin var = {CHORUS_PLUGIN_V1, __VA_ARGS__};                   \
	CHORUS_PLUGIN_EXPORT const struct chorus_plugin *chorus_plugin_entry(void);                \
	const struct chorus_plugin *chorus_plugin_entry(void)                                      \
	{                                                                                          \
		return &var;                                                                       \
	}                                                                                          \
	CHORUS_PLUGIN_EXPORT const struct chorus_plugin *chorus_plugin_entry(void)

typedef const struct chorus_plugin *(*chorus_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif
