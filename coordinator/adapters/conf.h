/*
 * Node configuration: one JSON file per node (default /etc/chorus/chorus.json),
 * documented key by key in chorus.json(5).
 *
 * The loader is strict on purpose.  A typo in an HA config that is silently
 * ignored shows up months later as a failover that does not happen, so the
 * whole file is refused on any unknown key, duplicate key, wrong type or
 * out-of-range value, with one line naming the file and the key path.  It is
 * also the place where timing values that only make sense together are
 * cross-checked (see address_lifetime_s below).
 *
 * Loading is pure: no logging, no global state, nothing kept open.  The
 * caller logs the message and decides whether a bad reload is fatal.
 */
#ifndef CHORUS_CONF_H
#define CHORUS_CONF_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>
#include <sys/types.h>

#include "core/res.h"

#define CONF_DEFAULT_PATH "/etc/chorus/chorus.json"
#define CONF_FILE_MAX (1024 * 1024)	/* bytes; a config is never near this */
#define CONF_VIPS_MAX 16384
#define CONF_IFNAME_MAX 15		/* IFNAMSIZ - 1 */
/* run_dir holds the control socket, whose path must fit sun_path (108 bytes
 * including the NUL) with room for a socket name of up to 16 characters. */
#define CONF_RUN_DIR_MAX 90
#define CONF_LOG_TRACE (LOG_DEBUG + 1)	/* "trace": below syslog's scale */

enum conf_failback {
	CONF_FAILBACK_AUTO,	/* rebalance onto a returning node at once */
	CONF_FAILBACK_MANUAL,	/* only an operator moves things back */
	CONF_FAILBACK_DELAY,	/* rebalance once the node has stayed failback_delay_ms */
};

#define CONF_DEPENDS_MAX 8
#define CONF_PLUGINS_MAX 16

struct conf_vip {
	struct res_addr addr;
	uint32_t brick;			/* 0 = a client VIP, else 1 + index into bricks */
	char ifname[CHORUS_NAME_MAX];	/* at most CONF_IFNAME_MAX characters */
	char pool[CHORUS_NAME_MAX];	/* "default" unless given */
	uint32_t index;			/* position in the file's "vips" array */
	uint32_t n_depends;		/* health scopes it needs, e.g. "link:eth0" */
	char depends[CONF_DEPENDS_MAX][CHORUS_NAME_MAX];
};

#define CONF_BRICKS_MAX 1024
#define CONF_BRICK_STR 256		/* volume, host, fstype, mount options (incl. NUL) */
#define CONF_FENCE_ARGS 16
#define CONF_FENCE_KEY 64		/* fence agent option name (incl. NUL) */
#define CONF_FENCE_VALUE 256		/* fence agent option value (incl. NUL) */
#define CONF_FENCE_OPTS_MAX 256		/* option lines in all: common, per node, secrets */
#define CONF_FENCE_SECRETS_SIZE 4096	/* the secrets file */
/* One agent run's stdin.  No more than a page, so the whole of it fits into
 * an empty pipe of any size the kernel hands out and writing it can never
 * block the daemon's loop. */
#define CONF_FENCE_STDIN_MAX 4096
#define CONF_BRICK_PATH 1024		/* brick path and device (incl. NUL) */

/* One key=value line for a fence agent's stdin. */
struct conf_fence_opt {
	char node[CHORUS_NAME_MAX];	/* corosync node name; "" = every node */
	bool secret;			/* from fence.secrets: never logged */
	char key[CONF_FENCE_KEY];
	char value[CONF_FENCE_VALUE];
};

/* A brick this node can serve: its LUN is visible here (chorus-brick(7)). */
struct conf_brick {
	char volume[CONF_BRICK_STR];
	char host[CONF_BRICK_STR];	/* the brick's hostname in gluster (floating) */
	struct res_addr addr;		/* the floating address the host resolves to */
	char ifname[CHORUS_NAME_MAX];
	char path[CONF_BRICK_PATH];	/* brick root = mount point */
	char device[CONF_BRICK_PATH];	/* "" = nothing to mount */
	char fstype[CONF_BRICK_STR];	/* "" with no device; "bind" for tests */
	char mount_options[CONF_BRICK_STR];
	char home_uuid[40];		/* "" = from the gluster inventory */
	char set[CHORUS_NAME_MAX];	/* replica/disperse set within the volume, "" = none */
	uint32_t index;			/* position in bricks.list */
	bool from_gluster;		/* "volume" or "path" left out: glusterd's
					 * volume info names them (conf_bricks_resolve) */
};

struct chorus_conf;

/* One brick of glusterd's volume info ("gluster volume info"), for
 * conf_bricks_resolve(): strings borrowed for the call. */
struct conf_gluster_brick {
	const char *volume, *host, *path;
};

/* A bricks.list entry that does not name one of glusterd's bricks. */
struct conf_unresolved {
	struct conf_brick brick;	/* as chorus.json declares it */
	char reason[2048];		/* room for a host, a volume and a path */
};

/*
 * Fill in the volume and path of every brick that left them to glusterd
 * (from_gluster) from glusterd's bricks 'g' ('n'; NULL when glusterd did not
 * answer, 'why_none' saying why): the one brick of 'g' on the entry's host
 * (of its volume and at its path, where chorus.json gives them).  An entry
 * that matches none or several, or resolves to a brick another entry
 * declares, is never guessed: it is taken out of c->bricks and c->vips
 * (this node does not declare it) and appended to '*out' ('*n_out') with the
 * reason.  Entries named in full are left alone.  Returns 0 or -ENOMEM.
 */
int conf_bricks_resolve(struct chorus_conf *c, const struct conf_gluster_brick *g, size_t n,
			const char *why_none, struct conf_unresolved **out, size_t *n_out);

/* How many of 'g' entry 'b' would resolve to; '*first' the first of them. */
size_t conf_brick_matches(const struct conf_brick *b, const struct conf_gluster_brick *g,
			  size_t n, size_t *first);

#define CONF_HOOKS_MAX 32
#define CONF_HOOK_ARGS 16
#define CONF_HOOK_ARG_MAX 256		/* one extra argument, incl. NUL */

/* A service hook (chorus-hooks(7)): 'script takeip|releaseip ADDRESS args...'
 * for every client VIP of 'pool'. */
struct conf_hook {
	char pool[CHORUS_NAME_MAX];
	char script[PATH_MAX];		/* absolute, executable when loaded */
	uint32_t timeout_ms;		/* default 10000 */
	size_t n_args;
	char args[CONF_HOOK_ARGS][CONF_HOOK_ARG_MAX];
	uint32_t index;			/* position in "hooks" */
};

enum conf_fence_mode {
	CONF_FENCE_NONE,
	CONF_FENCE_GRACE,
	CONF_FENCE_COMMAND,
	CONF_FENCE_AGENT,		/* a Pacemaker fence agent, options on stdin */
};

struct conf_plugin {
	char name[CHORUS_NAME_MAX];	/* loads chorus-NAME.so from plugin_dir */
	char *config_json;		/* its "config" object as JSON text ("{}") */
};

struct conf_log {
	int level;			/* syslog LOG_* value, or CONF_LOG_TRACE */
	char file[PATH_MAX];		/* "" = no log file */
	bool to_stderr;
	bool to_syslog;
};

#define CONF_GROUP_NAME_MAX 256		/* a group's name, incl. NUL */

/* "control": the control socket's access and limits (conf_control.c).  A
 * gid of (gid_t)-1 is "not set"; names are as written, or the number. */
struct conf_control {
	gid_t socket_group;		/* the file's; default read_group, else admin_group */
	gid_t admin_group;		/* runs every command; default none: root only */
	gid_t read_group;		/* runs the read commands; default none */
	char socket_group_name[CONF_GROUP_NAME_MAX];
	char admin_group_name[CONF_GROUP_NAME_MAX];
	char read_group_name[CONF_GROUP_NAME_MAX];
	uint32_t max_clients;		/* readers at once, default 64 */
	uint32_t reserved_clients;	/* more slots for root and admins, default 8 */
	uint32_t max_clients_per_uid;	/* default min(16, max_clients); root exempt */
	uint32_t idle_timeout_ms;	/* default 60000 */
	uint32_t request_timeout_ms;	/* first byte to newline, default 10000 */
};

/* Cluster-wide keys digested for the drift check, in a fixed order that
 * only ever grows at the end (the digests travel in STATE by index). */
#define CONF_DIGEST_N 13
extern const char *const conf_digest_keys[CONF_DIGEST_N + 1];

struct chorus_conf {
	char path[PATH_MAX];		/* the file this was loaded from */
	char group[CHORUS_NAME_MAX];	/* CPG group name, default "chorus" */
	char state_dir[PATH_MAX];	/* default /var/lib/chorus */
	char run_dir[PATH_MAX];		/* default /run/chorus (pidfile, socket) */
	uint64_t digest[CONF_DIGEST_N];	/* per conf_digest_keys[]; 0 = key absent */
	char metrics_listen[64];	/* "metrics.listen": "" = no scrape endpoint */
	size_t n_notify_args;		/* "notify.command": 0 = no notification hook */
	char notify_args[CONF_FENCE_ARGS][PATH_MAX];
	uint32_t notify_timeout_ms;	/* default 10000 */
	size_t n_notify_types;		/* 0 = every event type */
	char notify_types[16][16];
	size_t n_vips;
	struct conf_vip *vips;		/* sorted by res_addr_cmp, no duplicates */
	enum conf_failback failback;	/* default auto */
	uint32_t failback_delay_ms;	/* set only with CONF_FAILBACK_DELAY, else 0 */
	uint32_t round_timeout_ms;	/* default 5000 */
	uint32_t restart_grace_ms;	/* default 10000 */
	/*
	 * Valid lifetime of the addresses this node adds; 0 = permanent.  When
	 * given and not 0, address_lifetime_s * 1000 + 2000 <= restart_grace_ms
	 * holds: a dead daemon's addresses expire before peers take them over.
	 * When not given it is derived from corosync's timing at start
	 * (timing.h); restart_grace_ms is then at least 3000.
	 */
	uint32_t address_lifetime_s;
	bool address_lifetime_set;
	uint32_t refresh_ms;		/* obsolete: renewals follow heartbeat_ms */
	/* failure timing (timing.h); 0 = derived from corosync's at start */
	uint32_t heartbeat_ms;
	uint32_t liveness_ms;
	uint32_t formation_ms;
	uint32_t expiry_margin_ms;
	bool expiry_margin_set;
	/* default true: ask the segment (ARP / ND) whether a frozen or lost
	 * node's address is gone instead of waiting out expiry_margin_ms */
	bool expiry_probe;
	uint32_t announce_count;	/* default 3 */
	uint32_t announce_interval_ms;	/* default 250 */
	uint32_t shutdown_timeout_ms;	/* default 10000: graceful handover bound */
	uint32_t health_settle_ms;	/* default 1000: a new health failure acts after this */
	/* "balance": {"interval_ms", "margin_pct", "budget"}: load balancing */
	uint32_t balance_interval_ms;	/* default 0: off (load is still shown) */
	uint32_t balance_margin_pct;	/* default 10 */
	uint32_t balance_budget;	/* default 2 moves per interval */
	struct conf_log log;
	struct conf_conns {		/* "connections": tickle ACKs and resets */
		bool tickle;		/* default true: tickle a taken-over VIP's clients */
		bool reset_on_release;	/* default true: SOCK_DESTROY on release */
		uint32_t max_per_vip;	/* default 256 (1..1024): replicated list cap */
		uint32_t collect_ms;	/* default 1000: sock_diag collection period */
		uint32_t update_ms;	/* default 2000: at most one CONNS burst per */
	} conns;
	char plugin_dir[PATH_MAX];	/* default: the installed plugin directory */
	size_t n_plugins;
	struct conf_plugin *plugins;
	uint32_t n_depends;		/* scopes whose failure makes the whole node unfit */
	char depends[CONF_DEPENDS_MAX][CHORUS_NAME_MAX];

	/* bricks: their addresses are also in 'vips' (brick != 0) */
	size_t n_bricks;
	struct conf_brick *bricks;
	char brick_script[PATH_MAX];	/* default: the installed chorus-brick */
	char brick_pool[CHORUS_NAME_MAX];	/* default "bricks" */
	char glusterd_workdir[PATH_MAX];	/* default /var/lib/glusterd */
	char glusterd_vol[PATH_MAX];	/* default /etc/glusterfs/glusterd.vol */
	char gluster_cli[PATH_MAX];		/* default /usr/sbin/gluster */
	uint32_t brick_acquire_timeout_ms;	/* default 120000 */
	uint32_t brick_release_timeout_ms;	/* default 120000 */
	uint32_t brick_monitor_interval_ms;	/* default 10000 */
	uint32_t brick_monitor_timeout_ms;	/* default 30000 */
	uint32_t brick_restart_max;		/* default 3 */
	uint32_t brick_restart_window_ms;	/* default 600000 */
	uint32_t brick_failure_hold_ms;		/* a failed brick unservable here; 600000 */
	uint32_t inventory_interval_ms;		/* default 60000 */
	/* how a lost node's bricks become free; required with bricks */
	enum conf_fence_mode fence_mode;
	uint32_t fence_grace_ms;
	size_t n_fence_args;
	char fence_args[CONF_FENCE_ARGS][PATH_MAX];	/* command argv; [0] absolute */
	uint32_t fence_timeout_ms;		/* default 60000 */
	char fence_agent[PATH_MAX];		/* mode "agent": absolute path */
	char fence_secrets[PATH_MAX];		/* "" = none */
	size_t n_fence_opts;
	struct conf_fence_opt *fence_opts;	/* common, per node, secrets */
	char watchdog_device[PATH_MAX];		/* "" = none */
	uint32_t watchdog_timeout_s;		/* default 10 */

	/* service hooks, in file order (releaseip runs them in reverse) */
	size_t n_hooks;
	struct conf_hook *hooks;

	struct conf_control control;
};

/*
 * Load and validate the file at 'path' into a new config in '*out', which the
 * caller owns and releases with conf_free().
 *
 * Returns 0, -errno when the file cannot be opened or read, or -EINVAL when
 * it is not a regular file, is larger than CONF_FILE_MAX, is not valid JSON or
 * breaks a rule.  On any error '*out' is left NULL and a one-line message of
 * the form "<path>: <key path>: <what is wrong>" (for example
 * "/etc/chorus/chorus.json: vips[2].address: ...") is written to 'err'
 * ('errsize' bytes, always NUL-terminated; 'err' may be NULL).
 */
int conf_load(const char *path, struct chorus_conf **out, char *err,
	      size_t errsize);

/* Release 'c'.  Accepts NULL. */
void conf_free(struct chorus_conf *c);

const char *conf_fence_name(enum conf_fence_mode m);

/* The stdin of fence agent run 'action' against 'node' (its corosync name),
 * the way Pacemaker's fencer hands options over: "action=ACTION", the
 * common options, the node's own (which may override a common one: agents
 * keep the last), then the secrets, one "key=value" a line.  Returns the
 * length (NUL-terminated in 'buf'), -ENOENT when fence.nodes has no entry
 * for 'node', -ENOSPC when it does not fit 'size'. */
int conf_fence_stdin(const struct chorus_conf *c, const char *node, const char *action,
		     char *buf, size_t size);

/* Overwrite with '*' every occurrence in 'text' of a value from the secrets
 * file: what an agent printed may be logged and shown in status. */
void conf_fence_redact(const struct chorus_conf *c, char *text);

/* The config-file spelling of 'fb' ("auto", "manual", "delay"), for logs. */
const char *conf_failback_name(enum conf_failback fb);

#endif
