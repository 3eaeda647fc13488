/*
 * The brick executor: carries out the core's decisions for this node's
 * bricks by running the brick action script (chorus-brick(7)) through
 * script.c, and watches the bricks it holds.
 *
 * Per brick, one script runs at a time.  Requests that arrive while a
 * script runs are remembered as the wanted state: when the script ends its
 * result is reported, and if the wanted state differs the next script
 * starts (acquire then release while acquiring = ACQUIRED, then RELEASED;
 * superseded requests are coalesced, and every request is answered by at
 * least the event of the state finally reached).
 *
 * A held brick is monitored every 'monitor_interval_ms'.  A monitor that
 * says "not running" or "inconsistent" (or fails) restarts the brick in
 * place with acquire, at most 'restart_max' times within
 * 'restart_window_ms'; beyond that, or when the restart fails, the brick is
 * reported BRICK_EV_FAILED and no longer monitored.  The daemon maps that to
 * "cannot serve" so the core moves the brick, and releases it here when the
 * core says so.
 *
 * The brick's floating address is not handled here: chorusd adds it before
 * brick_exec_acquire() and removes it after BRICK_EV_RELEASED.
 */
#ifndef CHORUS_BRICK_H
#define CHORUS_BRICK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qb/qbloop.h>

#include "exec/script.h"

#define BRICK_STR_MAX 256		/* volume, host, address, fstype, options, device */
#define BRICK_PATH_MAX 1024

/* One brick this node declared it can serve (its LUN is visible here). */
struct brick_def {
	char volume[BRICK_STR_MAX];
	char host[BRICK_STR_MAX];	/* brick hostname in gluster: floating name or address */
	char address[BRICK_STR_MAX];	/* the floating address, without prefix */
	char path[BRICK_PATH_MAX];	/* brick root = mount point */
	char device[BRICK_PATH_MAX];	/* "" = nothing to mount */
	char fstype[BRICK_STR_MAX];	/* "xfs", ..., "bind" */
	char mount_options[BRICK_STR_MAX];
	char home_uuid[40];		/* glusterd UUID of the brick's home node */
};

struct brick_exec_config {
	const char *script;		/* absolute path of the action script */
	const char *run_dir;		/* CHORUS_RUN_DIR */
	const char *glusterd_workdir;	/* NULL = /var/lib/glusterd */
	const char *glusterd_vol;	/* NULL = /etc/glusterfs/glusterd.vol */
	uint32_t nodeid;
	uint32_t acquire_timeout_ms;	/* 0 = 120 s */
	uint32_t release_timeout_ms;	/* 0 = 120 s */
	uint32_t monitor_timeout_ms;	/* 0 = 30 s */
	uint32_t monitor_interval_ms;	/* 0 = 10 s */
	uint32_t kill_grace_ms;		/* 0 = script.c's default */
	uint32_t restart_max;		/* restarts in place allowed per window (0 = none) */
	uint32_t restart_window_ms;	/* 0 = 10 min */
};

enum brick_event {
	BRICK_EV_ACQUIRED,	/* err 0: held; else the acquire failed */
	BRICK_EV_RELEASED,	/* err 0: released; else the release failed (state unknown) */
	BRICK_EV_FAILED,	/* a held brick died and could not be restarted in place */
	BRICK_EV_PROBED,	/* answer to brick_exec_probe(): err 0 running,
				 * -ENOENT not running, -EIO inconsistent or failed */
};

/* 'reason' is borrowed for the call: the script's result and the tail of
 * its output on failure, NULL on success. */
typedef void (*brick_event_fn)(void *ud, size_t idx, enum brick_event ev, int err,
			       const char *reason);

struct brick_exec;

/* 'defs' (n of them) are copied; 'runner' is borrowed and must outlive the
 * executor.  Returns 0 or -errno. */
int brick_exec_new(qb_loop_t *loop, struct script_runner *runner,
		   const struct brick_exec_config *cfg, const struct brick_def *defs, size_t n,
		   brick_event_fn fn, void *ud, struct brick_exec **out);

/* Cancel running scripts (their processes are SIGKILLed, no events) and
 * free.  The bricks stay as they are: call it after releasing.  Accepts NULL.
 * Not from an event callback. */
void brick_exec_free(struct brick_exec *bx);

/* Make brick 'idx' held here / released here; answered by an event. */
int brick_exec_acquire(struct brick_exec *bx, size_t idx);
int brick_exec_release(struct brick_exec *bx, size_t idx);

/* Run "monitor" once for brick 'idx' (at start: what did a previous chorusd
 * leave running?); answered by BRICK_EV_PROBED.  -EBUSY while another
 * script runs for the brick.  A brick found running is not adopted: call
 * brick_exec_adopt() for that. */
int brick_exec_probe(struct brick_exec *bx, size_t idx);

/* Take a brick found running as held, without running acquire: it is
 * monitored from now on (an in-place restart of chorusd moves nothing). */
int brick_exec_adopt(struct brick_exec *bx, size_t idx);

/* The home node's glusterd UUID, learnt from the inventory when the config
 * did not give it; used from the next script run on. */
int brick_exec_set_home_uuid(struct brick_exec *bx, size_t idx, const char *uuid);

/* Held, monitored and not failed. */
bool brick_exec_held(const struct brick_exec *bx, size_t idx);

/* A script is running for the brick. */
bool brick_exec_busy(const struct brick_exec *bx, size_t idx);
/* What that script run is: "starting" (acquire, restart in place),
 * "stopping" (release), "checking" (monitor, start-up probe), or NULL. */
const char *brick_exec_doing(const struct brick_exec *bx, size_t idx);

#endif
