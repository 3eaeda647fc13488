/*
 * The brick executor (see brick.h).
 *
 * Each brick has a target (the last request: held or released), at most one
 * pending request not yet started, at most one running script, and a belief
 * 'held' that only a successful acquire (or adopt) sets and only a
 * successful release clears.  Monitoring and restarts happen only while the
 * target is "held", so a brick the core wants gone is never restarted.
 *
 *   request --> pending --(no script running)--> acquire | release
 *   held + target held --interval--> monitor --0--> (again)
 *                                            --else--> restart (acquire)
 *                                                      or FAILED when the
 *                                                      window's budget is spent
 * A request cancels a monitor in progress (it only reads), but waits for an
 * acquire, release or restart: killing those halfway would leave a mount
 * or a process behind.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qbdefs.h>
#include <qb/qblog.h>
#include <qb/qbutil.h>

#include "exec/brick.h"

#define brick_log(b, lvl, fmt, ...)                                                  \
	qb_log(lvl, "brick %s:%s " fmt, (b)->def.volume, (b)->def.path, ##__VA_ARGS__)

enum brick_op { OP_NONE, OP_ACQUIRE, OP_RELEASE, OP_MONITOR, OP_PROBE, OP_RESTART };
enum brick_want { WANT_NONE, WANT_HELD, WANT_RELEASED };

static const char *const op_names[] = {"none", "acquire", "release", "monitor", "monitor",
				       "acquire"};

#define RESTARTS_KEPT 32	/* restart_max is capped to this */

struct brick {
	struct brick_exec *bx;
	size_t idx;
	struct brick_def def;
	enum brick_want target;
	enum brick_want pending;
	bool probe_pending;
	enum brick_op op;
	struct script_run *run;
	bool held;
	bool failed;			/* FAILED reported; not monitored until the next acquire */
	qb_loop_timer_handle mon_timer;
	bool mon_armed;
	qb_loop_timer_handle defer_timer;	/* reports a script that could not start */
	bool defer_armed;
	enum brick_op defer_op;
	int defer_rc;
	uint64_t restarts[RESTARTS_KEPT];	/* monotonic ms of recent restarts */
	unsigned n_restarts;
};

struct brick_exec {
	qb_loop_t *loop;
	struct script_runner *runner;
	struct brick_exec_config cfg;
	char script[BRICK_PATH_MAX];
	char run_dir[BRICK_PATH_MAX];
	char workdir[BRICK_PATH_MAX];
	char glusterd_vol[BRICK_PATH_MAX];
	brick_event_fn fn;
	void *ud;
	size_t n;
	struct brick *bricks;
};

static uint64_t now_ms(void)
{
	return qb_util_nano_current_get() / QB_TIME_NS_IN_MSEC;
}

static void kick(struct brick *b);
static int start(struct brick *b, enum brick_op op);

/* 0, or -ENOENT for "not running" (7), -ETIMEDOUT, -ENOEXEC, -EIO. */
static int result_rc(const struct script_result *r)
{
	switch (r->status) {
	case SCRIPT_EXITED:
		return r->code == 0 ? 0 : r->code == 7 ? -ENOENT : -EIO;
	case SCRIPT_TIMED_OUT:
	case SCRIPT_KILLED:
		return -ETIMEDOUT;
	case SCRIPT_EXEC_FAILED:
		return -ENOEXEC;
	case SCRIPT_SIGNALED:
		break;
	}
	return -EIO;
}

static void emit(struct brick *b, enum brick_event ev, int err, const char *reason)
{
	b->bx->fn(b->bx->ud, b->idx, ev, err, reason);
}

static void monitor_cb(void *data)
{
	struct brick *b = data;

	b->mon_armed = false;
	if (b->run == NULL && !b->defer_armed && b->op == OP_NONE && b->held && !b->failed &&
	    b->target == WANT_HELD && b->pending == WANT_NONE && !b->probe_pending)
		(void)start(b, OP_MONITOR);
	/* else: whatever runs re-arms it when it ends */
}

static void monitor_arm(struct brick *b)
{
	if (b->mon_armed || !b->held || b->failed || b->target != WANT_HELD)
		return;
	b->mon_armed = qb_loop_timer_add(b->bx->loop, QB_LOOP_LOW,
					 (uint64_t)b->bx->cfg.monitor_interval_ms *
						 QB_TIME_NS_IN_MSEC,
					 b, monitor_cb, &b->mon_timer) == 0;
	if (!b->mon_armed)
		brick_log(b, LOG_ERR, "cannot arm its monitor timer");
}

static void monitor_stop(struct brick *b)
{
	if (b->mon_armed)
		qb_loop_timer_del(b->bx->loop, b->mon_timer);
	b->mon_armed = false;
}

/* May the brick be restarted in place once more?  Counts it if so. */
static bool restart_budget(struct brick *b)
{
	uint64_t now = now_ms(), window = b->bx->cfg.restart_window_ms;
	unsigned keep = 0, max = b->bx->cfg.restart_max;

	for (unsigned i = 0; i < b->n_restarts; i++)
		if (now - b->restarts[i] < window)
			b->restarts[keep++] = b->restarts[i];
	b->n_restarts = keep;
	if (b->n_restarts >= max)
		return false;
	b->restarts[b->n_restarts++] = now;
	return true;
}

/* The script's output tail without trailing blanks: its length. */
static int out_len(const struct script_result *r)
{
	size_t len = r->output_size;

	while (len > 0 && (r->output[len - 1] == '\n' || r->output[len - 1] == ' '))
		len--;
	return (int)len;
}

/* ": <output tail>" on one line ("; " between the script's lines) into
 * 'buf', or "" when the script said nothing: for the notice of a success. */
static const char *said_fmt(const struct script_result *r, char *buf, size_t size)
{
	int len = out_len(r);
	size_t n = 0;

	buf[0] = '\0';
	if (len == 0 || size < 4)
		return buf;
	buf[n++] = ':';
	buf[n++] = ' ';
	for (int i = 0; i < len && n + 3 < size; i++) {
		if (r->output[i] != '\n') {
			buf[n++] = r->output[i];
		} else {
			buf[n++] = ';';
			buf[n++] = ' ';
		}
	}
	buf[n] = '\0';
	return buf;
}

/* "acquire: exit 1: <output tail>" into 'buf'. */
static const char *reason_fmt(enum brick_op op, const struct script_result *r, char *buf,
			      size_t size)
{
	char st[128];
	int len = out_len(r);

	snprintf(buf, size, "%s: %s%s%.*s", op_names[op], script_result_str(r, st, sizeof(st)),
		 len ? ": " : "", len, r->output);
	return buf;
}

static void script_done(void *data, const struct script_result *r)
{
	struct brick *b = data;
	enum brick_op op = b->op;
	char reason[SCRIPT_OUTPUT_DEFAULT + 256];
	int rc = result_rc(r);

	b->op = OP_NONE;
	b->run = NULL;
	if (rc != 0 && !(rc == -ENOENT && (op == OP_PROBE || op == OP_MONITOR)))
		brick_log(b, LOG_WARNING, "%s", reason_fmt(op, r, reason, sizeof(reason)));
	else
		brick_log(b, LOG_DEBUG, "%s: %s in %llu ms", op_names[op],
			  rc == 0 ? "ok" : "not running", (unsigned long long)r->elapsed_ms);

	switch (op) {
	case OP_ACQUIRE:
		b->held = rc == 0;
		b->failed = false;
		b->n_restarts = 0;
		/* with what the script said: a warning of a successful
		 * acquire (a port it could not have) is kept too */
		if (rc == 0)
			brick_log(b, LOG_NOTICE, "acquired in %llu ms%s",
				  (unsigned long long)r->elapsed_ms,
				  said_fmt(r, reason, sizeof(reason)));
		emit(b, BRICK_EV_ACQUIRED, rc, rc ? reason_fmt(op, r, reason, sizeof(reason)) : NULL);
		break;
	case OP_RELEASE:
		if (rc == 0) {
			b->held = false;
			b->failed = false;
			brick_log(b, LOG_NOTICE, "released in %llu ms%s",
				  (unsigned long long)r->elapsed_ms,
				  said_fmt(r, reason, sizeof(reason)));
		}
		emit(b, BRICK_EV_RELEASED, rc, rc ? reason_fmt(op, r, reason, sizeof(reason)) : NULL);
		break;
	case OP_PROBE:
		emit(b, BRICK_EV_PROBED, rc == 0 || rc == -ENOENT ? rc : -EIO,
		     rc ? reason_fmt(op, r, reason, sizeof(reason)) : NULL);
		break;
	case OP_MONITOR:
		if (rc == 0 || b->target != WANT_HELD || b->pending != WANT_NONE)
			break;
		if (restart_budget(b)) {
			brick_log(b, LOG_WARNING, "not running (%s): restarting it in place",
				  rc == -ENOENT ? "stopped" : "inconsistent");
			b->op = OP_RESTART;	/* started by kick() below */
			break;
		}
		b->failed = true;
		brick_log(b, LOG_ERR, "not running and restarted %u times in %u ms: failed",
			  b->bx->cfg.restart_max, b->bx->cfg.restart_window_ms);
		emit(b, BRICK_EV_FAILED, rc, reason_fmt(op, r, reason, sizeof(reason)));
		break;
	case OP_RESTART:
		if (rc == 0) {
			brick_log(b, LOG_NOTICE, "restarted in place");
			break;
		}
		b->failed = true;
		emit(b, BRICK_EV_FAILED, rc, reason_fmt(op, r, reason, sizeof(reason)));
		break;
	case OP_NONE:
		break;
	}
	kick(b);
	monitor_arm(b);
}

static void defer_cb(void *data)
{
	struct brick *b = data;
	char reason[BRICK_PATH_MAX + 160];

	b->defer_armed = false;
	snprintf(reason, sizeof(reason), "%s: cannot run %s: %s", op_names[b->defer_op],
		 b->bx->script, strerror(-b->defer_rc));
	brick_log(b, LOG_ERR, "%s", reason);
	switch (b->defer_op) {
	case OP_ACQUIRE:
		emit(b, BRICK_EV_ACQUIRED, b->defer_rc, reason);
		break;
	case OP_RELEASE:
		emit(b, BRICK_EV_RELEASED, b->defer_rc, reason);
		break;
	case OP_PROBE:
		emit(b, BRICK_EV_PROBED, -EIO, reason);
		break;
	default:
		b->failed = true;
		emit(b, BRICK_EV_FAILED, b->defer_rc, reason);
		break;
	}
	kick(b);
}

static int start(struct brick *b, enum brick_op op)
{
	struct brick_exec *bx = b->bx;
	const struct brick_def *d = &b->def;
	uint32_t timeout = op == OP_RELEASE			    ? bx->cfg.release_timeout_ms
			   : op == OP_MONITOR || op == OP_PROBE ? bx->cfg.monitor_timeout_ms
								    : bx->cfg.acquire_timeout_ms;
	char env[14][BRICK_PATH_MAX + 40];
	const char *envp[15];
	const char *argv[] = {bx->script, op_names[op], NULL};
	struct script_spec spec = {.argv = argv, .envp = envp, .timeout_ms = timeout,
				   .kill_grace_ms = bx->cfg.kill_grace_ms};
	int i = 0, rc;

	snprintf(env[i++], sizeof(env[0]), "CHORUS_BRICK_VOLUME=%s", d->volume);
	snprintf(env[i++], sizeof(env[0]), "CHORUS_BRICK_HOST=%s", d->host);
	snprintf(env[i++], sizeof(env[0]), "CHORUS_BRICK_ADDRESS=%s", d->address);
	snprintf(env[i++], sizeof(env[0]), "CHORUS_BRICK_PATH=%s", d->path);
	snprintf(env[i++], sizeof(env[0]), "CHORUS_BRICK_DEVICE=%s", d->device);
	snprintf(env[i++], sizeof(env[0]), "CHORUS_BRICK_FSTYPE=%s", d->fstype);
	snprintf(env[i++], sizeof(env[0]), "CHORUS_BRICK_MOUNT_OPTIONS=%s", d->mount_options);
	snprintf(env[i++], sizeof(env[0]), "CHORUS_BRICK_HOME_UUID=%s", d->home_uuid);
	snprintf(env[i++], sizeof(env[0]), "CHORUS_RUN_DIR=%s", bx->run_dir);
	snprintf(env[i++], sizeof(env[0]), "GLUSTERD_WORKDIR=%s", bx->workdir);
	snprintf(env[i++], sizeof(env[0]), "GLUSTERD_VOL=%s", bx->glusterd_vol);
	snprintf(env[i++], sizeof(env[0]), "CHORUS_NODEID=%u", bx->cfg.nodeid);
	/* the script bounds its own waits below ours */
	snprintf(env[i++], sizeof(env[0]), "CHORUS_BRICK_TIMEOUT_S=%u",
		 timeout / 1000 > 0 ? timeout / 1000 : 1);
	for (int k = 0; k < i; k++)
		envp[k] = env[k];
	envp[i] = NULL;

	b->op = op;
	rc = script_run(bx->runner, &spec, script_done, b, &b->run);
	if (rc < 0) {
		b->op = OP_NONE;
		b->run = NULL;
		/* reported from the loop, never from inside a request */
		b->defer_op = op;
		b->defer_rc = rc;
		b->defer_armed = qb_loop_timer_add(bx->loop, QB_LOOP_HIGH, 0, b, defer_cb,
						   &b->defer_timer) == 0;
	}
	return rc;
}

/* Start what is due, if nothing runs. */
static void kick(struct brick *b)
{
	enum brick_op op = b->op;

	if (b->run != NULL || b->defer_armed)
		return;
	if (op == OP_RESTART) {
		(void)start(b, OP_RESTART);
		return;
	}
	if (b->pending != WANT_NONE) {
		op = b->pending == WANT_HELD ? OP_ACQUIRE : OP_RELEASE;
		b->pending = WANT_NONE;
		monitor_stop(b);
		(void)start(b, op);
		return;
	}
	if (b->probe_pending) {
		b->probe_pending = false;
		(void)start(b, OP_PROBE);
	}
}

static int request(struct brick_exec *bx, size_t idx, enum brick_want want)
{
	struct brick *b;

	if (idx >= bx->n)
		return -EINVAL;
	b = &bx->bricks[idx];
	b->target = want;
	b->pending = want;
	if (b->op == OP_MONITOR) {
		/* it only reads: its answer is moot now */
		script_run_cancel(b->run);
		b->run = NULL;
		b->op = OP_NONE;
	}
	kick(b);
	return 0;
}

int brick_exec_acquire(struct brick_exec *bx, size_t idx)
{
	return request(bx, idx, WANT_HELD);
}

int brick_exec_release(struct brick_exec *bx, size_t idx)
{
	return request(bx, idx, WANT_RELEASED);
}

int brick_exec_probe(struct brick_exec *bx, size_t idx)
{
	struct brick *b;

	if (idx >= bx->n)
		return -EINVAL;
	b = &bx->bricks[idx];
	if (b->run != NULL || b->pending != WANT_NONE || b->defer_armed)
		return -EBUSY;
	b->probe_pending = true;
	kick(b);
	return 0;
}

int brick_exec_adopt(struct brick_exec *bx, size_t idx)
{
	struct brick *b;

	if (idx >= bx->n)
		return -EINVAL;
	b = &bx->bricks[idx];
	if (b->run != NULL || b->pending != WANT_NONE)
		return -EBUSY;
	b->target = WANT_HELD;
	b->held = true;
	b->failed = false;
	b->n_restarts = 0;
	brick_log(b, LOG_NOTICE, "adopted: still running here");
	monitor_arm(b);
	return 0;
}

bool brick_exec_held(const struct brick_exec *bx, size_t idx)
{
	return idx < bx->n && bx->bricks[idx].held && !bx->bricks[idx].failed;
}

bool brick_exec_busy(const struct brick_exec *bx, size_t idx)
{
	return idx < bx->n && bx->bricks[idx].run != NULL;
}

const char *brick_exec_doing(const struct brick_exec *bx, size_t idx)
{
	if (idx >= bx->n || bx->bricks[idx].run == NULL)
		return NULL;
	switch (bx->bricks[idx].op) {
	case OP_ACQUIRE:
	case OP_RESTART:
		return "starting";
	case OP_RELEASE:
		return "stopping";
	case OP_MONITOR:
	case OP_PROBE:
		return "checking";
	case OP_NONE:
		break;
	}
	return NULL;
}

static int copy_path(char *dst, const char *src, const char *dflt)
{
	if (src == NULL)
		src = dflt;
	if (src == NULL || src[0] != '/' || strlen(src) >= BRICK_PATH_MAX)
		return -EINVAL;
	strcpy(dst, src);
	return 0;
}

int brick_exec_new(qb_loop_t *loop, struct script_runner *runner,
		   const struct brick_exec_config *cfg, const struct brick_def *defs, size_t n,
		   brick_event_fn fn, void *ud, struct brick_exec **out)
{
	struct brick_exec *bx = calloc(1, sizeof(*bx));

	if (bx == NULL)
		return -ENOMEM;
	if (copy_path(bx->script, cfg->script, NULL) < 0 ||
	    copy_path(bx->run_dir, cfg->run_dir, NULL) < 0 ||
	    copy_path(bx->workdir, cfg->glusterd_workdir, "/var/lib/glusterd") < 0 ||
	    copy_path(bx->glusterd_vol, cfg->glusterd_vol, "/etc/glusterfs/glusterd.vol") < 0) {
		free(bx);
		return -EINVAL;
	}
	bx->bricks = calloc(n ? n : 1, sizeof(*bx->bricks));
	if (bx->bricks == NULL) {
		free(bx);
		return -ENOMEM;
	}
	bx->loop = loop;
	bx->runner = runner;
	bx->cfg = *cfg;
	bx->cfg.acquire_timeout_ms = cfg->acquire_timeout_ms ? cfg->acquire_timeout_ms : 120000;
	bx->cfg.release_timeout_ms = cfg->release_timeout_ms ? cfg->release_timeout_ms : 120000;
	bx->cfg.monitor_timeout_ms = cfg->monitor_timeout_ms ? cfg->monitor_timeout_ms : 30000;
	bx->cfg.monitor_interval_ms = cfg->monitor_interval_ms ? cfg->monitor_interval_ms : 10000;
	bx->cfg.restart_window_ms = cfg->restart_window_ms ? cfg->restart_window_ms : 600000;
	if (bx->cfg.restart_max > RESTARTS_KEPT)
		bx->cfg.restart_max = RESTARTS_KEPT;
	bx->fn = fn;
	bx->ud = ud;
	bx->n = n;
	for (size_t i = 0; i < n; i++) {
		struct brick *b = &bx->bricks[i];

		b->bx = bx;
		b->idx = i;
		b->def = defs[i];
		/* strings from a config: make sure they end */
		b->def.volume[BRICK_STR_MAX - 1] = b->def.host[BRICK_STR_MAX - 1] = '\0';
		b->def.address[BRICK_STR_MAX - 1] = b->def.fstype[BRICK_STR_MAX - 1] = '\0';
		b->def.mount_options[BRICK_STR_MAX - 1] = '\0';
		b->def.path[BRICK_PATH_MAX - 1] = b->def.device[BRICK_PATH_MAX - 1] = '\0';
		b->def.home_uuid[sizeof(b->def.home_uuid) - 1] = '\0';
		b->target = WANT_RELEASED;
	}
	*out = bx;
	return 0;
}

void brick_exec_free(struct brick_exec *bx)
{
	if (bx == NULL)
		return;
	for (size_t i = 0; i < bx->n; i++) {
		struct brick *b = &bx->bricks[i];

		monitor_stop(b);
		if (b->defer_armed)
			qb_loop_timer_del(bx->loop, b->defer_timer);
		if (b->run != NULL) {
			brick_log(b, LOG_WARNING, "%s cancelled at shutdown", op_names[b->op]);
			script_run_cancel(b->run);
		}
	}
	free(bx->bricks);
	free(bx);
}

int brick_exec_set_home_uuid(struct brick_exec *bx, size_t idx, const char *uuid)
{
	if (idx >= bx->n || uuid == NULL || strlen(uuid) >= sizeof(bx->bricks[idx].def.home_uuid))
		return -EINVAL;
	snprintf(bx->bricks[idx].def.home_uuid, sizeof(bx->bricks[idx].def.home_uuid), "%s", uuid);
	return 0;
}
