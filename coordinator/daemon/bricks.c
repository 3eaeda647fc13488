/*
 * chorusd's brick side: the glue between the core's decisions on exclusive
 * resources and the brick executor (brick.c), the Gluster inventory
 * (inventory.c), the fence command and the watchdog.
 *
 * A brick is a resource whose identity is its floating address (conf.c puts
 * that address in the VIP list), so the core, the wire and the VIP executor
 * treat it like a VIP; what differs is here:
 *   acquire = add the address (the VIP executor: lifetime, GARP, reconcile),
 *             then the brick script's "acquire" (mount, glusterfsd);
 *   release = the script's "release", then remove the address.  A failed
 *             release keeps the address and tells the core, which retries
 *             and never lets anyone else start the brick meanwhile.
 * Before joining the group, every brick is probed ("monitor") so that a
 * restarted chorusd claims what still runs: an upgrade moves nothing.
 *
 * Nothing here blocks the loop: scripts, the fence command and the gluster
 * CLI all run through script.c with timeouts.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/watchdog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <json.h>
#include <qb/qblog.h>

#include "daemon/bricks.h"
#include "exec/brick.h"
#include "adapters/cluster.h"
#include "adapters/conf.h"
#include "daemon/daemon.h"
#include "exec/inventory.h"
#include "exec/script.h"
#include "exec/tickle.h"
#include "daemon/bricks_private.h"
#include "exec/vip.h"


static long brick_of(const struct chorusd *d, size_t vi);

static void feed_res(struct chorusd *d, enum core_ev_type t, size_t vi, int err)
{
	struct core_event ev = {.type = t};

	ev.u.res.idx = vi;
	ev.u.res.err = err;
	daemon_step(d, &ev);
}

static void brick_event(struct chorusd *d, size_t b, enum brick_event e, int err,
			const char *reason);

static void brick_cb(void *ud, size_t b, enum brick_event e, int err, const char *reason)
{
	struct chorusd *d = ud;
	struct bricks *bs = B(d);

	if (b >= bs->n)
		bricks_orphan_cb(d, b - bs->n, e, err, reason);
	else
		brick_event(d, b, e, err, reason);
	bricks_here_update(bs);
}

static void brick_event(struct chorusd *d, size_t b, enum brick_event e, int err,
			const char *reason)
{
	struct bricks *bs = B(d);
	size_t vi = bs->vip[b];
	const struct conf_brick *cb = &d->conf->bricks[b];

	switch (e) {
	case BRICK_EV_PROBED:
		if (bs->probe[b] != 1)
			return;
		qb_log(LOG_INFO, "brick %s:%s %s at start-up", cb->host, cb->path,
		       err == 0 ? "running" : err == -ENOENT ? "not running" : "inconsistent");
		if (err != -ENOENT)
			bs->want[b] = true;
		if (err == -ENOENT) {
			bs->probe[b] = 0;
			bs->probes_left--;
		} else if (d->held[vi]) {
			/* running (or half) with its address still here: an
			 * in-place restart; claim it, the core keeps or moves it */
			bs->probe[b] = 2;
			bs->probes_left--;
		} else {
			/* Its address is gone (its lifetime ran out, or we are
			 * back from a crash and someone else may run it now):
			 * never add an address before the cluster agrees.  Stop
			 * what runs here before joining; claim it only if that
			 * fails, so nobody else starts it. */
			qb_log(LOG_WARNING, "brick %s:%s runs here without its address: stopping it "
			       "before joining", cb->host, cb->path);
			bs->probe[b] = 3;
			if (brick_exec_release(bs->bx, b) < 0) {
				bs->probe[b] = 2;
				bs->probes_left--;
			}
		}
		return;
	case BRICK_EV_ACQUIRED:
		if (err < 0) {
			qb_log(LOG_ERR, "brick %s:%s did not start: %s", cb->host, cb->path,
			       reason ? reason : "failed");
			vip_exec_release(d->vx, vi);
		} else {
			qb_log(LOG_NOTICE, "brick %s:%s started", cb->host, cb->path);
			/* clients of the old owner learn at once (RST), rather
			 * than at their next retransmission */
			tickle_acquired(d->tk, vi);
		}
		feed_res(d, CORE_EV_ACQUIRED, vi, err);
		return;
	case BRICK_EV_RELEASED:
		if (bs->probe[b] == 3) {
			bs->probe[b] = err < 0 ? 2 : 0;
			bs->probes_left--;
			if (err == 0)
				bs->want[b] = false;
			if (err < 0)
				qb_log(LOG_CRIT, "brick %s:%s could not be stopped before joining: "
				       "claiming it so nobody else starts it", cb->host, cb->path);
			return;
		}
		if (err < 0) {
			qb_log(LOG_CRIT, "brick %s:%s did not stop: %s; keeping its address, retrying",
			       cb->host, cb->path, reason ? reason : "failed");
		} else {
			bs->want[b] = false;
			vip_exec_release(d->vx, vi);
			qb_log(LOG_NOTICE, "brick %s:%s stopped", cb->host, cb->path);
		}
		feed_res(d, CORE_EV_RELEASED, vi, err);
		return;
	case BRICK_EV_FAILED:
		qb_log(LOG_ERR, "brick %s:%s keeps dying (%s): moving it off this node", cb->host,
		       cb->path, reason ? reason : "restart budget spent");
		bs->failed_until[b] = daemon_mono_ms() + d->conf->brick_failure_hold_ms;
		health_apply(d);
		return;
	}
}

/* ---- inventory ---- */

static void inv_arm(struct bricks *bs, uint32_t ms);
static void inv_fetch(struct bricks *bs);

static void inv_done(void *data, int rc, struct inventory *inv, const char *reason)
{
	struct bricks *bs = data;
	struct chorusd *d = bs->d;

	bs->fetch = NULL;
	bs->inv_answered = true;
	if (rc < 0) {
		snprintf(bs->inv_err, sizeof(bs->inv_err), "%s", reason ? reason : "failed");
		qb_log(LOG_WARNING, "gluster volume info failed: %s", bs->inv_err);
	} else {
		bs->inv_err[0] = '\0';
		inventory_free(bs->inv);
		bs->inv = inv;
		bs->inv_at_ms = daemon_mono_ms();
		for (size_t b = 0; b < bs->n; b++) {
			const struct conf_brick *cb = &d->conf->bricks[b];
			const struct inventory_brick *ib = inventory_find(inv, cb->host, cb->path);

			if (ib == NULL) {
				qb_log(LOG_WARNING, "brick %s:%s (volume %s) is not in gluster's "
				       "volume list", cb->host, cb->path, cb->volume);
				continue;
			}
			if (cb->home_uuid[0] == '\0')
				brick_exec_set_home_uuid(bs->bx, b, ib->uuid);
			else if (strcmp(cb->home_uuid, ib->uuid) != 0)
				qb_log(LOG_WARNING, "brick %s:%s: home_uuid %s in the config, gluster "
				       "says %s", cb->host, cb->path, cb->home_uuid, ib->uuid);
		}
		qb_log(LOG_INFO, "gluster inventory: %zu bricks in %zu volumes (%s)", inv->n,
		       inv->n_volumes, bs->inv_why);
		/* said once per change: chorus-brick refuses to start a brick
		 * meanwhile (chorus-brick(7)) */
		if (inv->brick_multiplex && !bs->multiplex && bs->n > 0)
			qb_log(LOG_ERR, "gluster: cluster.brick-multiplex is on: glusterd runs "
			       "bricks together in one glusterfsd, which chorus cannot move one "
			       "by one; bricks are not started (gluster volume set all "
			       "cluster.brick-multiplex off)");
		else if (!inv->brick_multiplex && bs->multiplex)
			qb_log(LOG_NOTICE, "gluster: cluster.brick-multiplex is off again");
		bs->multiplex = inv->brick_multiplex;
		if (bricks_sets_update(d, bs->sets, inv))
			bricks_sets_declare(d, bs->sets);
		if (bricks_resolve_more(d, inv))
			ctl_restart_in_place(d, "glusterd names a brick this node did not declare");
	}
	if (bs->inv_again) {
		bs->inv_again = false;
		inv_arm(bs, 0);
	} else {
		/* bricks waiting for glusterd to answer at all ask sooner */
		uint32_t ms = d->conf->inventory_interval_ms;

		inv_arm(bs, rc < 0 && d->n_unresolved > 0 && ms > INV_RETRY_MS ? INV_RETRY_MS : ms);
	}
}

/* The first inventory: the one start-up already read to resolve bricks
 * (bricks_resolve.c), else a fetch now. */
static void inv_first(struct bricks *bs)
{
	struct chorusd *d = bs->d;

	snprintf(bs->inv_why, sizeof(bs->inv_why), "start-up");
	if (d->inv_first == NULL && d->inv_first_rc == 0) {
		inv_fetch(bs);
		return;
	}
	bs->inv_refreshes++;
	inv_done(bs, d->inv_first_rc, d->inv_first, d->inv_first_reason);
	d->inv_first = NULL;	/* bs owns it now */
}

static void inv_fetch(struct bricks *bs)
{
	struct inventory_fetch_cfg cfg = {.gluster = bs->d->conf->gluster_cli, .timeout_ms = 30000};

	if (bs->fetch != NULL) {
		bs->inv_again = true;	/* a hook fired during a fetch: read again */
		return;
	}
	bs->inv_refreshes++;
	if (inventory_fetch(bs->runner, &cfg, inv_done, bs, &bs->fetch) < 0) {
		bs->fetch = NULL;
		inv_arm(bs, bs->d->conf->inventory_interval_ms);
	}
}

static void inv_timer_cb(void *data)
{
	struct bricks *bs = data;

	snprintf(bs->inv_why, sizeof(bs->inv_why), "periodic");
	inv_fetch(bs);
}

static void inv_arm(struct bricks *bs, uint32_t ms)
{
	qb_loop_timer_del(bs->d->loop, bs->inv_timer);
	qb_loop_timer_add(bs->d->loop, QB_LOOP_LOW, (uint64_t)ms * QB_TIME_NS_IN_MSEC, bs,
			  inv_timer_cb, &bs->inv_timer);
}

void bricks_inventory_refresh(struct chorusd *d, const char *why)
{
	struct bricks *bs = B(d);

	if (bs == NULL)
		return;
	snprintf(bs->inv_why, sizeof(bs->inv_why), "%s", why);
	qb_loop_timer_del(d->loop, bs->inv_timer);
	inv_fetch(bs);
}

/* ---- watchdog ---- */

static bool any_held(const struct bricks *bs);
static void house_tick(void *data);

/*
 * Fed from the main loop while this node may keep its bricks.  Once it must
 * give one up (quorum or corosync lost, or the table moved it) and has not
 * managed to for longer than a release may take, feeding stops and the
 * hardware resets the node before the survivors' fence grace runs out.  A
 * dead or stuck daemon stops feeding too.
 */
static void wd_tick(void *data)
{
	struct bricks *bs = data;
	struct chorusd *d = bs->d;
	uint64_t now = daemon_mono_ms();
	/* without a core (no corosync yet) any brick running here is one
	 * nobody agreed to */
	bool must = d->core != NULL ? core_excl_must_release(d->core)
				    : bs->bx != NULL && any_held(bs);
	uint64_t limit = (uint64_t)d->conf->brick_release_timeout_ms + 2000;

	if (!must) {
		bs->unsafe_since = 0;
	} else if (bs->unsafe_since == 0) {
		bs->unsafe_since = now;
	}
	if (bs->unsafe_since && now - bs->unsafe_since > limit) {
		if (!bs->wd_starving)
			qb_log(LOG_CRIT, "a brick could not be stopped in %" PRIu64 " ms: no longer "
			       "feeding the watchdog, this node will be reset", limit);
		bs->wd_starving = true;
	} else if (write(bs->wd_fd, "1", 1) < 0) {
		qb_log(LOG_ERR, "cannot feed the watchdog " QB_XS " errno=%d", errno);
	}
	qb_loop_timer_add(d->loop, QB_LOOP_HIGH,
			  (uint64_t)d->conf->watchdog_timeout_s * 1000 / 3 * QB_TIME_NS_IN_MSEC, bs,
			  wd_tick, &bs->wd_timer);
}

static int wd_open(struct bricks *bs)
{
	const struct chorus_conf *c = bs->d->conf;
	int t = (int)c->watchdog_timeout_s;

	bs->wd_fd = open(c->watchdog_device, O_WRONLY | O_CLOEXEC);
	if (bs->wd_fd < 0) {
		qb_log(LOG_CRIT, "cannot open the watchdog %s " QB_XS " errno=%d",
		       c->watchdog_device, errno);
		return -errno;
	}
	/* a plain file stands in for the device in tests: no ioctl there */
	if (ioctl(bs->wd_fd, WDIOC_SETTIMEOUT, &t) < 0 && errno != ENOTTY)
		qb_log(LOG_WARNING, "watchdog %s: cannot set a %d s timeout " QB_XS " errno=%d",
		       c->watchdog_device, t, errno);
	qb_log(LOG_NOTICE, "feeding watchdog %s (%d s)", c->watchdog_device, t);
	wd_tick(bs);
	return 0;
}

/* ---- life cycle ---- */

int bricks_start(struct chorusd *d)
{
	const struct chorus_conf *c = d->conf;
	struct bricks *bs;
	struct brick_def *defs;
	struct brick_exec_config bc = {
		.script = c->brick_script,
		.run_dir = c->run_dir,
		.glusterd_workdir = c->glusterd_workdir,
		.glusterd_vol = c->glusterd_vol,
		.acquire_timeout_ms = c->brick_acquire_timeout_ms,
		.release_timeout_ms = c->brick_release_timeout_ms,
		.monitor_timeout_ms = c->brick_monitor_timeout_ms,
		.monitor_interval_ms = c->brick_monitor_interval_ms,
		.restart_max = c->brick_restart_max,
		.restart_window_ms = c->brick_restart_window_ms,
	};
	struct brick_here *here = NULL;
	size_t n_here = 0, n_all;
	char err[512] = "";
	int rc;

	rc = bricks_here_load(c->state_dir, &here, &n_here, err, sizeof(err));
	if (rc < 0)
		qb_log(LOG_ERR, "cannot tell which bricks ran here before: %s; going on without",
		       err[0] ? err : strerror(-rc));
	if (c->n_bricks == 0 && c->watchdog_device[0] == '\0' && d->n_unresolved == 0 &&
	    n_here == 0) {
		free(here);
		return 0;
	}
	bs = calloc(1, sizeof(*bs));
	if (bs == NULL) {
		free(here);
		return -ENOMEM;
	}
	d->bricks = bs;
	bs->d = d;
	bs->wd_fd = -1;
	bs->n = c->n_bricks;
	bricks_orphans_find(bs, here, n_here);
	rc = script_runner_new(d->loop, &bs->runner);
	if (rc < 0)
		return rc;
	if (c->watchdog_device[0] && (rc = wd_open(bs)) < 0)
		return rc;
	if (bs->n == 0 && bs->n_orph == 0) {
		/* bricks left out until glusterd names them: keep asking */
		if (d->n_unresolved > 0)
			inv_first(bs);
		return 0;
	}
	n_all = bs->n + bs->n_orph;
	bs->vip = calloc(bs->n + 1, sizeof(*bs->vip));
	bs->probe = calloc(bs->n + 1, sizeof(*bs->probe));
	bs->failed_until = calloc(bs->n + 1, sizeof(*bs->failed_until));
	bs->sets = calloc(bs->n + 1, sizeof(*bs->sets));
	bs->want = calloc(bs->n + 1, sizeof(*bs->want));
	bs->orph_state = calloc(bs->n_orph + 1, sizeof(*bs->orph_state));
	defs = calloc(n_all, sizeof(*defs));
	if (bs->vip == NULL || bs->probe == NULL || bs->failed_until == NULL || bs->sets == NULL ||
	    bs->want == NULL || bs->orph_state == NULL || defs == NULL) {
		free(defs);
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->n_vips; i++)
		if (c->vips[i].brick)
			bs->vip[c->vips[i].brick - 1] = i;
	for (size_t b = 0; b < bs->n; b++) {
		const struct conf_brick *cb = &c->bricks[b];

		snprintf(defs[b].volume, sizeof(defs[b].volume), "%s", cb->volume);
		snprintf(defs[b].host, sizeof(defs[b].host), "%s", cb->host);
		res_addr_format_ip(&cb->addr, defs[b].address, sizeof(defs[b].address));
		snprintf(defs[b].path, sizeof(defs[b].path), "%s", cb->path);
		snprintf(defs[b].device, sizeof(defs[b].device), "%s", cb->device);
		snprintf(defs[b].fstype, sizeof(defs[b].fstype), "%s", cb->fstype);
		snprintf(defs[b].mount_options, sizeof(defs[b].mount_options), "%s",
			 cb->mount_options);
		snprintf(defs[b].home_uuid, sizeof(defs[b].home_uuid), "%s", cb->home_uuid);
	}
	for (size_t o = 0; o < bs->n_orph; o++)
		defs[bs->n + o] = bs->orph[o].def;
	rc = brick_exec_new(d->loop, bs->runner, &bc, defs, n_all, brick_cb, d, &bs->bx);
	free(defs);
	if (rc < 0)
		return rc;
	for (size_t b = 0; b < bs->n; b++) {
		bs->probe[b] = 1;
		bs->probes_left++;
		if (brick_exec_probe(bs->bx, b) < 0) {
			bs->probe[b] = 2;	/* cannot tell: claim it, the core sorts it out */
			bs->want[b] = true;
			bs->probes_left--;
		}
	}
	for (size_t o = 0; o < bs->n_orph; o++) {
		const struct brick_here *h = &bs->orph[o];

		qb_log(LOG_NOTICE, "brick %s:%s ran here and is no longer declared: checking it "
		       "before joining", h->def.host, h->def.path);
		bs->orph_state[o] = ORPH_PROBING;
		bs->probes_left++;
		if (brick_exec_probe(bs->bx, bs->n + o) < 0)
			bricks_orphan_cb(d, o, BRICK_EV_PROBED, -EIO, "cannot run the probe");
	}
	bricks_here_update(bs);
	/* chorus.json's sets until glusterd answers */
	bricks_sets_update(d, bs->sets, NULL);
	bs->started_ms = daemon_mono_ms();
	if (bs->n > 0 || d->n_unresolved > 0)
		inv_first(bs);
	house_tick(bs);
	return 0;
}

bool bricks_failed(const struct chorusd *d, size_t vi)
{
	const struct bricks *bs = B(d);
	long b = brick_of(d, vi);

	return bs != NULL && b >= 0 && bs->failed_until[b] != 0;
}

bool bricks_probing(const struct chorusd *d)
{
	return B(d) != NULL && B(d)->probes_left > 0;
}

bool bricks_inventory_pending(const struct chorusd *d)
{
	const struct bricks *bs = B(d);

	return bs != NULL && bs->n > 0 && !bs->inv_answered &&
	       daemon_mono_ms() - bs->started_ms < BRICKS_INVENTORY_WAIT_MS;
}

uint32_t bricks_set_id(const struct chorusd *d, size_t vi)
{
	const struct bricks *bs = B(d);

	return bs != NULL && bs->sets != NULL ? bricks_sets_id(d, bs->sets, vi) : 0;
}

/* Before the core's first STATE: claim the bricks that still run here. */
static void bricks_adopt(struct chorusd *d)
{
	struct bricks *bs = B(d);

	for (size_t b = 0; bs != NULL && b < bs->n; b++) {
		size_t vi = bs->vip[b];
		struct core_event ev = {.type = CORE_EV_ADOPT};
		int rc;

		if (bs->probe[b] != 2)
			continue;
		/* only an address still here is taken under care; a missing
		 * one is not added before the cluster agrees */
		rc = d->held[vi] ? vip_exec_adopt(d->vx, vi) : 0;
		if (rc < 0)
			qb_log(LOG_WARNING, "brick %s:%s runs but its address cannot be taken "
			       QB_XS " rc=%d", d->conf->bricks[b].host, d->conf->bricks[b].path, rc);
		brick_exec_adopt(bs->bx, b);
		qb_log(LOG_NOTICE, "adopting brick %s:%s, still running here",
		       d->conf->bricks[b].host, d->conf->bricks[b].path);
		ev.u.res.idx = vi;
		daemon_step(d, &ev);
	}
}

static long brick_of(const struct chorusd *d, size_t vi)
{
	return vi < d->conf->n_vips && d->conf->vips[vi].brick ? (long)d->conf->vips[vi].brick - 1
							      : -1;
}

static void bricks_acquire(struct chorusd *d, size_t vi)
{
	long b = brick_of(d, vi);
	int rc;

	if (b < 0 || B(d) == NULL) {
		feed_res(d, CORE_EV_ACQUIRED, vi, -EINVAL);
		return;
	}
	/* on disk before it can run: a restart that no longer declares it
	 * must still find it (bricks_here.c) */
	B(d)->want[b] = true;
	bricks_here_update(B(d));
	rc = vip_exec_acquire(d->vx, vi);
	if (rc == 0)
		rc = brick_exec_acquire(B(d)->bx, (size_t)b);
	if (rc < 0)
		feed_res(d, CORE_EV_ACQUIRED, vi, rc);
}

static void bricks_release(struct chorusd *d, size_t vi)
{
	long b = brick_of(d, vi);
	int rc;

	if (b < 0 || B(d) == NULL) {
		feed_res(d, CORE_EV_RELEASED, vi, -EINVAL);
		return;
	}
	tickle_releasing(d->tk, vi);	/* while the address is up */
	rc = brick_exec_release(B(d)->bx, (size_t)b);
	if (rc < 0)
		feed_res(d, CORE_EV_RELEASED, vi, rc);
}

/* Brick 'b' may be placed on this node again. */
static void hold_end(struct bricks *bs, size_t b)
{
	bs->failed_until[b] = 0;
}

bool bricks_move_refused(const struct chorusd *d, const struct res_addr *a)
{
	long vi;

	if (B(d) == NULL || !B(d)->multiplex)
		return false;
	vi = RES_ADDR_SEARCH(d->conf->vips, d->conf->n_vips, addr, a);	/* sorted */
	return vi >= 0 && brick_of(d, (size_t)vi) >= 0;
}

long bricks_find(const struct chorusd *d, const char *host, const char *path)
{
	for (size_t vi = 0; vi < d->conf->n_vips; vi++) {
		long b = brick_of(d, vi);

		if (b >= 0 && strcmp(d->conf->bricks[b].host, host) == 0 &&
		    strcmp(d->conf->bricks[b].path, path) == 0)
			return (long)vi;
	}
	return -ENOENT;
}

size_t bricks_cleanup(struct chorusd *d, size_t vi)
{
	struct bricks *bs = B(d);
	size_t ended = 0;

	for (size_t v = 0; bs != NULL && v < d->conf->n_vips; v++) {
		long b = brick_of(d, v);

		if (b < 0 || (vi != SIZE_MAX && v != vi) || bs->failed_until[b] == 0)
			continue;
		hold_end(bs, (size_t)b);
		ctl_event(d, "health", "brick %s:%s: failure hold ended by an operator",
			  d->conf->bricks[b].host, d->conf->bricks[b].path);
		ended++;
	}
	if (ended)
		health_apply(d);
	return ended;
}

/* A failed brick may come back here once its hold has passed. */
static void house_tick(void *data)
{
	struct bricks *bs = data;
	struct chorusd *d = bs->d;
	bool changed = false;
	uint64_t now = daemon_mono_ms();

	for (size_t b = 0; b < bs->n; b++)
		if (bs->failed_until[b] && now >= bs->failed_until[b]) {
			hold_end(bs, b);
			changed = true;
		}
	if (changed)
		health_apply(d);
	qb_loop_timer_add(d->loop, QB_LOOP_LOW, 5000 * QB_TIME_NS_IN_MSEC, bs, house_tick,
			  &bs->house_timer);
}

/* No corosync: nothing may run here.  Stop what a previous chorusd left. */
static void bricks_release_all(struct chorusd *d)
{
	struct bricks *bs = B(d);

	for (size_t b = 0; bs != NULL && b < bs->n; b++) {
		if (bs->probe[b] != 2 && !brick_exec_held(bs->bx, b))
			continue;
		qb_log(LOG_WARNING, "stopping brick %s:%s: no cluster to run it in",
		       d->conf->bricks[b].host, d->conf->bricks[b].path);
		bs->probe[b] = 0;
		brick_exec_release(bs->bx, b);
	}
}

static bool any_held(const struct bricks *bs)
{
	for (size_t b = 0; b < bs->n; b++)
		if (bs->probe[b] == 2 || brick_exec_held(bs->bx, b) || brick_exec_busy(bs->bx, b))
			return true;
	return false;
}

void bricks_stop(struct chorusd *d)
{
	struct bricks *bs = B(d);
	bool held = false;

	if (bs == NULL)
		return;
	for (size_t b = 0; b < bs->n; b++)
		held |= brick_exec_held(bs->bx, b);
	if (bs->wd_fd >= 0) {
		qb_loop_timer_del(d->loop, bs->wd_timer);
		/* Disarm (magic close) only when no brick runs here; otherwise
		 * the reset is what keeps the brick from running twice. */
		if (!held && write(bs->wd_fd, "V", 1) < 0)
			qb_log(LOG_WARNING, "cannot disarm the watchdog");
		close(bs->wd_fd);
	}
	qb_loop_timer_del(d->loop, bs->inv_timer);
	qb_loop_timer_del(d->loop, bs->house_timer);
	if (bs->fetch)
		inventory_fetch_cancel(bs->fetch);
	if (bs->fence_run)
		script_run_cancel(bs->fence_run);
	brick_exec_free(bs->bx);
	script_runner_free(bs->runner);
	inventory_free(bs->inv);
	free(bs->vip);
	free(bs->probe);
	free(bs->failed_until);
	free(bs->sets);
	free(bs->want);
	free(bs->orph);
	free(bs->orph_state);
	free(bs->here_saved);
	free(bs);
	d->bricks = NULL;
}

const struct res_kind bricks_kind = {
	.name = "brick",
	.acquire = bricks_acquire,
	.release = bricks_release,
	.adopt_all = bricks_adopt,
	.free_all = bricks_release_all,
};

