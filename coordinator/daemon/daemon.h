/*
 * State of one chorusd process, shared by main.c (loop wiring, core and
 * executor glue) and ctl.c (the control socket's commands, the event log,
 * persistence of operator state).
 */
#ifndef CHORUS_DAEMON_H
#define CHORUS_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qb/qbloop.h>

#include "core/state.h"
#include "core/timing.h"

struct chorus_conf;
struct cluster;
struct vip_exec;
struct vip_local;
struct vip_probe;
struct control;
struct ctl_state;
struct health_state;
struct plugin_host;
struct bricks;
struct conf_unresolved;
struct inventory;
struct tickle;
struct corelog;

struct result {
	enum core_ev_type type;
	size_t idx;
	int err;
};

/* chorusd's exit status when it cannot start or run safely (EX_SOFTWARE;
 * main.c's CHORUSD_ERR_INIT): the service manager retries. */
#define CHORUSD_EXIT_UNSAFE 70

struct chorusd {
	qb_loop_t *loop;
	struct chorus_conf *conf;
	char conf_path[4096];
	char **argv;
	struct core *core;
	struct corelog *corelog;	/* every event stepped (corelog.h) */
	struct cluster *cl;
	struct vip_exec *vx;
	struct vip_probe *vp;	/* expiry probes (vip_probe.h) */
	struct vip_local *vl;
	bool *held;
	const struct res_kind **kinds;	/* per conf vip */
	qb_loop_timer_handle timer;
	bool timer_armed;
	qb_loop_timer_handle connect_timer;
	struct result *res;	/* executor results waiting to go back in */
	size_t n_res;
	bool stepping;
	bool exiting;
	bool reexec;		/* reload: restart in place with the new config */
	bool reexec_armed;	/* a restart in place is on its way */
	bool shutdown_requested;
	int pid_fd;
	uint64_t incarnation;
	struct ctl_state *ctl;
	struct health_state *health;
	struct tickle *tk;	/* NULL: running without tickle ACKs */
	int32_t log_file_target;	/* qb_log target of the log file, or -1 */
	bool log_stderr;
	struct bricks *bricks;		/* bricks.c; NULL without bricks or watchdog */
	/* bricks_resolve.c: bricks.list entries glusterd did not name, which
	 * this node does not declare; and the start-up inventory that
	 * resolved the rest, for bricks.c to take over (NULL: none) */
	struct conf_unresolved *unresolved;
	size_t n_unresolved;
	struct inventory *inv_first;
	int inv_first_rc;		/* 0, or -errno with inv_first_reason */
	char inv_first_reason[256];
	bool released_at_start;		/* no corosync at start: local resources dropped */
	struct hooks *hk;		/* service hooks (hooks.h) */
	struct timing timing;		/* derived from corosync's at core start */
	qb_loop_timer_handle sd_watchdog;
	uint64_t sd_watchdog_ns;	/* 0: systemd asked for no watchdog */
	int exit_code;
};

/*
 * One kind of local resource the core names by index (conf->vips): an
 * address or a brick.  daemon_actions() hands the core's ACQUIRE and
 * RELEASE to the index's kind, and start-up and a missing corosync go
 * through every kind, so main.c knows no kind by name.  Results come back
 * as CORE_EV_ACQUIRED / _RELEASED / _ADOPT, now or later.
 */
struct res_kind {
	const char *name;
	void (*acquire)(struct chorusd *d, size_t idx);
	void (*release)(struct chorusd *d, size_t idx);
	/* before the first round: claim what a previous instance left */
	void (*adopt_all)(struct chorusd *d);
	/* no cluster at start: nothing of this kind may stay up here */
	void (*free_all)(struct chorusd *d);
};
extern const struct res_kind addresses_kind;	/* addresses.c */
extern const struct res_kind bricks_kind;	/* bricks.c */

/* An executor's result for resource 'idx': queued while the core is being
 * stepped (it is, when called from an action), else stepped at once. */
void daemon_result(struct chorusd *d, enum core_ev_type t, size_t idx, int err);
/* Release address 'idx' now and report it; also the hooks' callback once
 * a service let go of it (addresses.c). */
void addresses_release_now(void *ud, size_t idx);

/*
 * The daemon's one way into the core, for every source: CPG, timers,
 * executors, the control socket and health verdicts.  Steps the core with
 * 'ev' (its now_ms is set here) and carries out the actions, and those of
 * any executor results they raise.  Returns what core_step() returned for
 * a request (CORE_EV_ADMIN, _HEALTH, _REBALANCE, _FENCE_CONFIRM), -EAGAIN
 * without a core or while exiting, else 0: any other failure of the core
 * ends the daemon.
 */
int daemon_step(struct chorusd *d, struct core_event *ev);
void daemon_exit(struct chorusd *d);
/* Derive the failure timing of config 'c' against corosync's (timing.h). */
int daemon_timing(const struct chorusd *d, const struct chorus_conf *c, struct timing *t,
		  char *err, size_t n, char *warn, size_t wn);
/* The same from a given token and consensus (chorusd --check's probe). */
int daemon_timing_for(const struct chorus_conf *c, uint32_t token_ms, uint32_t consensus_ms,
		      struct timing *t, char *err, size_t n, char *warn, size_t wn);
uint64_t daemon_mono_ms(void);
/* Change the log level of every output now (LOG_* or LOG_DEBUG + 1). */
void daemon_set_log_level(struct chorusd *d, int level);

/* ctl.c */
int ctl_start(struct chorusd *d);
void ctl_stop(struct chorusd *d);
/* After every core step: notice changes for events, status and timing. */
void ctl_after_step(struct chorusd *d, const struct core_event *ev);
/* check.c: chorusd --check against the running corosync, when it answers:
 * 0, or 78 with the reason on stderr. */
int daemon_check_corosync(const char *path, const struct chorus_conf *c);
/* Record an operator event (chorusctl events): health, fencing, ... */
void ctl_event(struct chorusd *d, const char *type, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ctl_admin_done(struct chorusd *d, uint64_t cookie, int err, uint64_t generation);
void ctl_persist(struct chorusd *d);
/* Restart in place as "chorusctl reload" does (nothing moves), once. */
void ctl_restart_in_place(struct chorusd *d, const char *why);
/* Before joining: load saved operator state into the core. */
void ctl_load_admin(struct chorusd *d);
/* The name of control command 'i', or NULL past the last (for
 * `chorusd --list-commands`, which tests hold chorusctl's help against). */
const char *ctl_command_name(size_t i);

/* health.c */
int health_start(struct chorusd *d);
void health_stop(struct chorusd *d);
/* Push the latest plugin verdicts into the core (after it is created). */
void health_apply(struct chorusd *d);
struct plugin_host *health_host(const struct chorusd *d);

#endif
