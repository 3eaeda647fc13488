/*
 * chorusd: options, logging, and the wiring of one qb_loop.
 *
 * Sources, in the order they are set up:
 *   config -> logging -> pid lock -> VIP executor (netlink) -> scan of what
 *   this node still holds -> corosync adapter -> core (needs the nodeid) ->
 *   adopt what is held -> join.
 * Every source (CPG, timers, executor results, control commands, health
 * verdicts) hands its event to daemon_step(), so the core sees one stream
 * and the daemon one place that steps it.
 * Each core_step() returns actions; this file carries them out: sends go to
 * the adapter's queue, acquisitions and releases to the executor (a netlink
 * round trip, microseconds), and the executor's results go back into the
 * core as events, batched so one RELEASED covers a whole burst.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <qb/qbdefs.h>
#include <qb/qblog.h>
#include <qb/qbloop.h>
#include <qb/qbutil.h>

#include "daemon/bricks.h"
#include "adapters/cluster.h"
#include "adapters/conf.h"
#include "core/state.h"
#include "daemon/corelog.h"
#include "daemon/daemon.h"
#include "exec/hooks.h"
#include "exec/inventory.h"
#include "exec/tickle.h"
#include "core/timing.h"
#include "exec/vip.h"
#include "exec/vip_probe.h"

/* Exit codes, one enum (corosync COROSYNC_DONE_*). */
enum chorusd_exit {
	CHORUSD_OK = 0,
	CHORUSD_ERR_USAGE = 64,
	CHORUSD_ERR_CONFIG = 78,
	CHORUSD_ERR_RUNNING = 75,
	CHORUSD_ERR_INIT = CHORUSD_EXIT_UNSAFE,
};

uint64_t daemon_mono_ms(void)
{
	return qb_util_nano_current_get() / QB_TIME_NS_IN_MSEC;
}


static void sd_notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return;
	len = strlen(path);
	if (len >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';	/* abstract namespace */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	(void)sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		     (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	close(fd);
}

/*
 * systemd's watchdog (WatchdogSec= in the unit): fed from the main loop, so
 * a daemon that stops running its loop (deadlock, a blocked call) is killed
 * and restarted.  Its peers have excluded it by then and taken its
 * addresses once their lifetime ran out; the new process rejoins.
 */
static void sd_watchdog_cb(void *data)
{
	struct chorusd *d = data;

	sd_notify("WATCHDOG=1");
	if (qb_loop_timer_add(d->loop, QB_LOOP_HIGH, d->sd_watchdog_ns, d, sd_watchdog_cb,
			      &d->sd_watchdog) < 0)
		qb_log(LOG_ERR, "cannot re-arm the systemd watchdog timer: systemd will restart us");
}

static void sd_watchdog_start(struct chorusd *d)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	unsigned long long us;
	char *end;

	if (usec == NULL)
		return;
	if (pid != NULL && strtol(pid, NULL, 10) != (long)getpid())
		return;	/* meant for another process */
	errno = 0;
	us = strtoull(usec, &end, 10);
	if (errno || *end || us < 1000)
		return;
	/* three feeds per period: one late tick is not a restart */
	d->sd_watchdog_ns = us * 1000 / 3;
	qb_log(LOG_INFO, "systemd watchdog: %llu ms, fed every %llu ms", us / 1000,
	       (unsigned long long)(d->sd_watchdog_ns / QB_TIME_NS_IN_MSEC));
	sd_watchdog_cb(d);
}

static void timer_cb(void *data)
{
	struct chorusd *d = data;
	struct core_event ev = {.type = CORE_EV_TICK};

	d->timer_armed = false;
	daemon_step(d, &ev);
}

static void arm_timer(struct chorusd *d, uint64_t at_ms)
{
	uint64_t now = daemon_mono_ms();
	uint64_t delay = at_ms > now ? at_ms - now : 0;

	if (d->timer_armed)
		qb_loop_timer_del(d->loop, d->timer);
	d->timer_armed = qb_loop_timer_add(d->loop, QB_LOOP_HIGH,
					   delay * QB_TIME_NS_IN_MSEC + 1, d, timer_cb,
					   &d->timer) == 0;
}

void daemon_result(struct chorusd *d, enum core_ev_type t, size_t idx, int err)
{
	struct result *v;

	if (!d->stepping) {
		struct core_event ev = {.type = t};

		ev.u.res.idx = idx;
		ev.u.res.err = err;
		daemon_step(d, &ev);
		return;
	}
	v = realloc(d->res, (d->n_res + 1) * sizeof(*v));
	if (v == NULL) {
		qb_log(LOG_CRIT, "out of memory");
		exit(CHORUSD_ERR_INIT);
	}
	d->res = v;
	d->res[d->n_res++] = (struct result){t, idx, err};
}

/* Table order: start-up adopts in this order, freeing goes in reverse
 * (addresses, bricks' included, go before the bricks are stopped). */
static const struct res_kind *const kinds[] = {&bricks_kind, &addresses_kind};

/* The tickle side's view of the cluster (exec/tickle.h). */
static uint32_t tk_nodeid(void *ud)
{
	return cluster_nodeid(((struct chorusd *)ud)->cl);
}

static uint16_t tk_proto(void *ud)
{
	const struct chorusd *d = ud;

	return d->core ? core_proto(d->core) : 0;
}

static bool tk_held(void *ud, size_t idx)
{
	const struct chorusd *d = ud;

	return d->core && core_local_held(d->core, idx);
}

static int tk_send(void *ud, const void *buf, size_t size)
{
	return cluster_send(((struct chorusd *)ud)->cl, buf, size);
}

void daemon_exit(struct chorusd *d)
{
	d->exiting = true;
	qb_loop_stop(d->loop);
}

static void daemon_actions(struct chorusd *d, struct core_actions *a)
{
	for (size_t i = 0; i < a->n; i++) {
		struct core_action *x = &a->v[i];
		int rc;

		switch (x->type) {
		case CORE_ACT_SEND:
			rc = cluster_send(d->cl, x->u.send.buf, x->u.send.size);
			if (rc < 0 && rc != -ENOTCONN)
				qb_log(LOG_ERR, "cannot queue message " QB_XS " rc=%d", rc);
			break;
		case CORE_ACT_FENCE:
			bricks_fence(d, x->u.node);
			break;
		case CORE_ACT_ACQUIRE:
			if (x->u.idx < d->conf->n_vips)
				d->kinds[x->u.idx]->acquire(d, x->u.idx);
			break;
		case CORE_ACT_RELEASE:
			if (x->u.idx < d->conf->n_vips)
				d->kinds[x->u.idx]->release(d, x->u.idx);
			break;
		case CORE_ACT_TIMER:
			arm_timer(d, x->u.at_ms);
			break;
		case CORE_ACT_READY:
			qb_log(LOG_NOTICE, "first round complete: ready");
			sd_notify("READY=1");
			break;
		case CORE_ACT_RENEW:
			/* Only once every message so far (the heartbeat just
			 * emitted) is in corosync's hands: the peers bound our
			 * addresses' life by when they last heard from us. */
			if (cluster_queue_depth(d->cl) == 0)
				(void)vip_exec_renew(d->vx, d->timing.renew_ms);
			else
				qb_log(LOG_DEBUG, "not renewing: %zu messages wait for corosync",
				       cluster_queue_depth(d->cl));
			break;
		case CORE_ACT_REJOIN:
			cluster_rejoin(d->cl);
			break;
		case CORE_ACT_LEAVE:
			cluster_leave(d->cl);
			break;
		case CORE_ACT_EXIT:
			daemon_exit(d);
			break;
		case CORE_ACT_ADMIN_DONE:
			ctl_admin_done(d, x->u.admin.cookie, x->u.admin.err, x->u.admin.generation);
			break;
		case CORE_ACT_PERSIST:
			ctl_persist(d);
			break;
		case CORE_ACT_CLEANUP:
			(void)bricks_cleanup(d, x->u.idx);
			break;
		case CORE_ACT_PROBE:
			if (x->u.idx < d->conf->n_vips)
				(void)vip_probe_start(d->vp, &d->vl[x->u.idx].addr,
						      d->vl[x->u.idx].ifname, x->u.idx);
			break;
		}
	}
}

static bool is_request(const struct core_event *ev)
{
	return ev->type == CORE_EV_ADMIN || ev->type == CORE_EV_HEALTH ||
	       ev->type == CORE_EV_REBALANCE || ev->type == CORE_EV_FENCE_CONFIRM;
}

/* Step the core and carry out what it says, until nothing is left.  Events
 * raised while stepping (executor results) are fed right after, so the core
 * never re-enters itself.  A request's refusal is its caller's to answer
 * (a control error, a log line), and its actions still run. */
int daemon_step(struct chorusd *d, struct core_event *ev)
{
	struct core_actions a;
	int rc;

	if (d->core == NULL || d->exiting)
		return -EAGAIN;
	core_actions_init(&a);
	ev->now_ms = daemon_mono_ms();
	rc = corelog_step(d->corelog, d->core, ev, &a);
	if (rc < 0 && !is_request(ev)) {
		qb_log(LOG_CRIT, "core ran out of memory");
		exit(CHORUSD_ERR_INIT);
	}
	if (d->stepping) {
		/* re-entered from a callback run by an action: carry out its
		 * actions; executor results join the outer loop's batch */
		daemon_actions(d, &a);
		core_actions_release(&a);
		ctl_after_step(d, ev);
		return rc;
	}
	d->stepping = true;
	daemon_actions(d, &a);
	core_actions_clear(&a);
	if (core_dropping_all(d->core))
		hooks_hurry(d->hk);	/* releases waiting for a hook go now */
	while (d->n_res > 0 && !d->exiting) {
		struct result *r = d->res;
		size_t n = d->n_res;

		d->res = NULL;
		d->n_res = 0;
		for (size_t i = 0; i < n; i++) {
			struct core_event re = {.type = r[i].type};

			re.u.res.idx = r[i].idx;
			re.u.res.err = r[i].err;
			re.u.res.more = i + 1 < n;
			re.now_ms = daemon_mono_ms();
			if (corelog_step(d->corelog, d->core, &re, &a) < 0)
				exit(CHORUSD_ERR_INIT);
			daemon_actions(d, &a);
			core_actions_clear(&a);
		}
		free(r);
	}
	d->stepping = false;
	core_actions_release(&a);
	ctl_after_step(d, ev);
	return rc;
}

/* Connection lists travel beside the replicated state, never through the
 * core (tickle.h). */
static void cluster_event(void *ud, struct core_event *ev)
{
	struct chorusd *d = ud;

	if (d->tk != NULL && ev->type == CORE_EV_DELIVER &&
	    tickle_deliver(d->tk, ev->u.deliver.nodeid, ev->u.deliver.buf, ev->u.deliver.size))
		return;
	if (d->tk != NULL && ev->type == CORE_EV_CONFCHG)
		tickle_confchg(d->tk, ev->u.confchg.n_joined);
	daemon_step(d, ev);
}

static void vip_event(void *ud, size_t idx, bool readded, int err)
{
	(void)ud;
	(void)idx;
	(void)readded;
	(void)err;
}

static void probe_done(void *ud, size_t idx, bool answered)
{
	struct chorusd *d = ud;
	struct core_event ev = {.type = CORE_EV_PROBED};

	ev.u.probe.idx = idx;
	ev.u.probe.answered = answered;
	daemon_step(d, &ev);
}

/* libqb runs each signal as a job holding a copy of its handler, and a
 * copy still queued when the loop stops is never freed: qb_loop_destroy
 * frees no pending job, and qb_loop_signal_del unlinks a queued copy without
 * freeing it (libqb 2.0, lib/loop_poll.c), so a signal right at exit was a
 * leak under LSan either way.  So the loop first runs until a job of the
 * lowest priority stops it: a copy is made only when the loop's poll reads
 * libqb's signal pipe, and runs (and is freed) at high priority in that same
 * pass, before the low one, so none is left queued when it stops (sig_term
 * ignores them now).  Only then are the handlers removed. */
static void drain_stop(void *data)
{
	qb_loop_stop(data);
}

static void loop_drain(qb_loop_t *loop, qb_loop_signal_handle *sigs, size_t n)
{
	if (qb_loop_job_add(loop, QB_LOOP_LOW, loop, drain_stop) == 0)
		qb_loop_run(loop);
	for (size_t i = 0; i < n; i++)
		if (sigs[i] != NULL)
			(void)qb_loop_signal_del(loop, sigs[i]);
}

/* ---- start-up ---- */

int daemon_timing(const struct chorusd *d, const struct chorus_conf *c, struct timing *t,
		  char *err, size_t n, char *warn, size_t wn)
{
	uint32_t token, consensus;

	cluster_totem_timing(d->cl, &token, &consensus);
	return daemon_timing_for(c, token, consensus, t, err, n, warn, wn);
}

int daemon_timing_for(const struct chorus_conf *c, uint32_t token_ms, uint32_t consensus_ms,
		      struct timing *t, char *err, size_t n, char *warn, size_t wn)
{
	struct timing_in in = {
		.token_ms = token_ms,
		.consensus_ms = consensus_ms,
		.heartbeat_ms = c->heartbeat_ms,
		.liveness_ms = c->liveness_ms,
		.formation_ms = c->formation_ms,
		.expiry_margin_ms = c->expiry_margin_ms,
		.expiry_margin_set = c->expiry_margin_set,
		.address_lifetime_s = c->address_lifetime_s,
		.address_lifetime_set = c->address_lifetime_set,
		.restart_grace_ms = c->restart_grace_ms,
	};

	return timing_derive(&in, t, err, n, warn, wn);
}

static int core_start(struct chorusd *d)
{
	struct vip_def *defs = NULL;
	struct core_config cc = {0};
	uint32_t nodes[CHORUS_MAX_NODES];
	struct timing t;
	char err[512], warn[512];
	int rc;

	/* What corosync's timing makes of ours: refused when they contradict. */
	if (daemon_timing(d, d->conf, &t, err, sizeof(err), warn, sizeof(warn)) < 0) {
		qb_log(LOG_CRIT, "%s: %s", d->conf_path, err);
		return -EINVAL;
	}
	if (warn[0])
		qb_log(LOG_WARNING, "%s", warn);
	qb_log(LOG_NOTICE, "failure timing: corosync token %" PRIu32 " ms + consensus %" PRIu32
	       " ms = detection %" PRIu32 " ms; heartbeat %" PRIu32 " ms, daemons silent for %"
	       PRIu32 " ms are shown unresponsive and for %" PRIu32 " ms suspected, release after %" PRIu32 " ms without deliveries, address "
	       "lifetime %" PRIu32 " s renewed every %" PRIu32 " ms (+%" PRIu32 " ms late expiry): a "
	       "lost node's addresses are taken at most %" PRIu32 " ms after its membership change",
	       t.token_ms, t.consensus_ms, t.detection_ms, t.heartbeat_ms, t.unresponsive_ms,
	       t.liveness_ms, t.quiet_limit_ms, t.lifetime_s, t.renew_ms, t.expiry_margin_ms, t.takeover_wait_ms);
	if (d->conf->expiry_probe && t.takeover_max_ms > t.takeover_wait_ms)
		qb_log(LOG_NOTICE, "failure timing: that is when nobody on the segment answers for "
		       "them; while its kernel still does (a node cut off whose daemon runs late or "
		       "stalled), at most %" PRIu32 " ms", t.takeover_max_ms);
	d->timing = t;
	vip_exec_set_lifetime(d->vx, t.lifetime_s);

	if (d->conf->n_vips) {
		defs = calloc(d->conf->n_vips, sizeof(*defs));
		if (defs == NULL)
			return -ENOMEM;
	}
	for (size_t i = 0; i < d->conf->n_vips; i++) {
		defs[i].addr = d->conf->vips[i].addr;
		snprintf(defs[i].pool, sizeof(defs[i].pool), "%s", d->conf->vips[i].pool);
		defs[i].flags = d->conf->vips[i].brick ? VIP_F_EXCLUSIVE : 0;
		defs[i].set = bricks_set_id(d, i);	/* glusterd's, or chorus.json's */
	}
	/* to the core an agent is a fence command: it either says "off" or fails */
	cc.fence = d->conf->fence_mode == CONF_FENCE_COMMAND ||
				   d->conf->fence_mode == CONF_FENCE_AGENT
			   ? CORE_FENCE_COMMAND
		   : d->conf->fence_mode == CONF_FENCE_GRACE ? CORE_FENCE_GRACE
							      : CORE_FENCE_NONE;
	cc.fence_grace_ms = d->conf->fence_grace_ms;
	cc.n_nodes = cluster_node_ids(d->cl, nodes, sizeof(nodes) / sizeof(nodes[0]));
	cc.nodes = nodes;
	if (d->conf->n_bricks && cluster_two_node(d->cl) && cc.fence != CORE_FENCE_COMMAND) {
		/* both halves of a two_node split stay quorate: only a fence
		 * device can tell which one may run the bricks */
		qb_log(LOG_CRIT, "corosync two_node is set but fence mode is \"%s\": bricks of a "
		       "lost node will NOT be taken over (fence mode \"command\" or \"agent\" is "
		       "required)",
		       conf_fence_name(d->conf->fence_mode));
		cc.fence = CORE_FENCE_NONE;
	}
	if (d->conf->n_bricks && cc.fence == CORE_FENCE_NONE)
		qb_log(LOG_WARNING, "fence mode \"none\": a lost node's bricks stay down until an "
		       "operator confirms it is off (chorusctl fence-confirm NODE)");
	if (d->conf->n_bricks && cc.fence == CORE_FENCE_GRACE && !d->conf->watchdog_device[0])
		qb_log(LOG_WARNING, "fence mode \"grace\" without a watchdog: a node whose chorusd "
		       "dies or hangs while it runs a brick is not reset");
	cc.nodeid = cluster_nodeid(d->cl);
	hooks_set_nodeid(d->hk, cc.nodeid);
	cc.pid = (uint32_t)getpid();
	cc.incarnation = d->incarnation;
	cc.n_vips = d->conf->n_vips;
	cc.vips = defs;
	cc.n_conf = CONF_DIGEST_N;
	cc.conf = d->conf->digest;
	cc.failback = d->conf->failback == CONF_FAILBACK_MANUAL ? CORE_FAILBACK_MANUAL
		      : d->conf->failback == CONF_FAILBACK_DELAY ? CORE_FAILBACK_DELAY
								 : CORE_FAILBACK_AUTO;
	cc.failback_delay_ms = d->conf->failback_delay_ms;
	cc.round_timeout_ms = d->conf->round_timeout_ms;
	cc.restart_grace_ms = d->conf->restart_grace_ms;
	cc.shutdown_timeout_ms = d->conf->shutdown_timeout_ms;
	cc.health_settle_ms = d->conf->health_settle_ms ? d->conf->health_settle_ms : 1;
	cc.quiet_limit_ms = t.quiet_limit_ms;
	cc.heartbeat_ms = t.heartbeat_ms;
	cc.liveness_ms = t.liveness_ms;
	cc.unresponsive_ms = t.unresponsive_ms;
	cc.expiry_probe = d->conf->expiry_probe && t.lifetime_s != 0;
	cc.probe_wait_ms = VIP_PROBE_WAIT_MS;
	cc.lifetime_ms = t.lifetime_s * 1000;
	cc.expiry_margin_ms = t.expiry_margin_ms;
	cc.gap_ms = t.gap_ms;
	cc.skew_ms = t.skew_ms;
	cc.load_interval_ms = d->conf->balance_interval_ms;
	cc.load_margin_pct = d->conf->balance_margin_pct;
	cc.load_budget = d->conf->balance_budget;
	{
		const char *pin = getenv("CHORUS_PROTO_MAX");	/* test hook: pin the wire version */

		if (pin != NULL)
			cc.proto_max = (uint16_t)atoi(pin);
	}
	rc = core_new(&cc, &d->core);
	free(defs);
	if (rc < 0)
		return rc;
	ctl_load_admin(d);
	health_apply(d);	/* verdicts that came in before corosync did */
	/* Adopt what a previous instance left, so an in-place restart moves
	 * nothing; the peers kept it accounted to us for the restart grace.
	 * Bricks first: by what their probe found, not by the address. */
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		kinds[k]->adopt_all(d);
	if (d->shutdown_requested) {
		struct core_event ev = {.type = CORE_EV_SHUTDOWN};

		daemon_step(d, &ev);
	}
	return 0;
}

/* The daemon's per-address lists, one per conf->vips entry. */
static int local_lists(struct chorusd *d)
{
	const struct chorus_conf *c = d->conf;

	free(d->vl);
	free(d->held);
	free(d->kinds);
	d->vl = calloc(c->n_vips + 1, sizeof(*d->vl));
	d->held = calloc(c->n_vips + 1, sizeof(*d->held));
	d->kinds = calloc(c->n_vips + 1, sizeof(*d->kinds));
	if (d->vl == NULL || d->held == NULL || d->kinds == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_vips; i++) {
		d->kinds[i] = c->vips[i].brick ? &bricks_kind : &addresses_kind;
		d->vl[i].addr = c->vips[i].addr;
		snprintf(d->vl[i].ifname, sizeof(d->vl[i].ifname), "%s", c->vips[i].ifname);
	}
	return 0;
}

static void connect_cb(void *data)
{
	struct chorusd *d = data;

	if (bricks_probing(d) || bricks_inventory_pending(d)) {
		/* claim running bricks in the first STATE, not later, and
		 * declare glusterd's sets in it */
		qb_loop_timer_add(d->loop, QB_LOOP_MED, 100 * QB_TIME_NS_IN_MSEC, d, connect_cb,
				  &d->connect_timer);
		return;
	}
	if (cluster_connect(d->cl) < 0) {
		if (!d->released_at_start) {
			/* No corosync: nobody to coordinate with, so nothing may
			 * stay up here.  Release what a previous instance left. */
			qb_log(LOG_WARNING, "corosync is not running: releasing local addresses "
			       "and bricks, retrying");
			d->released_at_start = true;
			for (size_t k = sizeof(kinds) / sizeof(kinds[0]); k-- > 0;)
				kinds[k]->free_all(d);
		}
		qb_loop_timer_add(d->loop, QB_LOOP_MED, 1000 * QB_TIME_NS_IN_MSEC, d, connect_cb,
				  &d->connect_timer);
		return;
	}
	if (d->core == NULL && core_start(d) < 0) {
		qb_log(LOG_CRIT, "cannot start the core");
		d->exit_code = CHORUSD_ERR_CONFIG;
		daemon_exit(d);
		return;
	}
	cluster_join(d->cl);
}

static int32_t sig_term(int32_t sig, void *data)
{
	struct chorusd *d = data;
	struct core_event ev = {.type = CORE_EV_SHUTDOWN};

	if (d->exiting)
		return 0;	/* a copy run by loop_drain() */
	if (d->shutdown_requested) {
		qb_log(LOG_WARNING, "second signal: releasing everything and exiting now");
		vip_exec_release_all(d->vx);
		daemon_exit(d);
		return 0;
	}
	qb_log(LOG_NOTICE, "signal %d: handing over and shutting down", sig);
	d->shutdown_requested = true;
	if (d->core == NULL) {
		daemon_exit(d);
		return 0;
	}
	daemon_step(d, &ev);
	return 0;
}

void daemon_set_log_level(struct chorusd *d, int level)
{
	int32_t targets[3] = {QB_LOG_SYSLOG, d->log_stderr ? QB_LOG_STDERR : -1,
			      d->log_file_target};

	for (int i = 0; i < 3; i++) {
		if (targets[i] < 0)
			continue;
		qb_log_filter_ctl(targets[i], QB_LOG_FILTER_CLEAR_ALL, QB_LOG_FILTER_FILE, "*", 0);
		qb_log_filter_ctl(targets[i], QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*",
				  targets[i] == QB_LOG_SYSLOG && level > LOG_DEBUG ? LOG_DEBUG
										    : level);
	}
	qb_log(LOG_NOTICE, "log level set to %d", level);
}

/* On a crash, keep the flight recorder (everything down to trace): the
 * path is made before any crash, the handler only writes and re-raises. */
static char crash_path[PATH_MAX + 32];

static void crash_handler(int sig)
{
	qb_log_blackbox_write_to_file(crash_path);
	raise(sig);	/* SA_RESETHAND: the default action now */
}

static void crash_setup(const struct chorus_conf *c)
{
	struct sigaction sa = {.sa_handler = crash_handler, .sa_flags = SA_RESETHAND};
	static const int sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};

	mkdir(c->state_dir, 0755);
	snprintf(crash_path, sizeof(crash_path), "%s/chorusd-blackbox-crash", c->state_dir);
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

static void log_setup(struct chorusd *d, const struct chorus_conf *c, bool foreground)
{
	int level = c ? c->log.level : LOG_INFO;

	qb_log_init("chorusd", LOG_DAEMON, LOG_INFO);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, (c && c->log.to_syslog) ? QB_TRUE : QB_FALSE);
	qb_log_filter_ctl(QB_LOG_SYSLOG, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*",
			  level > LOG_DEBUG ? LOG_DEBUG : level);
	qb_log_format_set(QB_LOG_STDERR, "%t %p %b");
	d->log_file_target = -1;
	if (foreground || (c && c->log.to_stderr)) {
		d->log_stderr = true;
		qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", level);
		qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, QB_TRUE);
	}
	if (c && c->log.file[0]) {
		int32_t t = qb_log_file_open(c->log.file);

		d->log_file_target = t;
		if (t >= 0) {
			qb_log_filter_ctl(t, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", level);
			qb_log_format_set(t, "%T %p %b");
			qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_TRUE);
		}
	}
	/* Flight recorder: everything, dumped on request or fatal signal. */
	qb_log_filter_ctl(QB_LOG_BLACKBOX, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_TRACE);
	qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_SIZE, 4 * 1024 * 1024);
	qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_ENABLED, QB_TRUE);
}

static int pid_lock(const char *run_dir)
{
	char path[PATH_MAX + 16];
	char buf[32];
	int fd;

	if (mkdir(run_dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	if ((size_t)snprintf(path, sizeof(path), "%s/chorusd.pid", run_dir) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return -EEXIST;
	}
	snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || write(fd, buf, strlen(buf)) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* Legal (a node may only count in the group), but seldom meant: an empty
 * or misnamed "vips" array would otherwise pass unnoticed. */
#define NOTHING_MANAGED "no \"vips\" and no \"bricks\": this node manages nothing and " \
	"only takes part in the group"

static void usage(FILE *f)
{
	fprintf(f, "usage: chorusd [-c FILE] [-f] [--check | --cleanup] [--list-commands] [--version]\n"
		   "  -c, --config FILE  configuration (default %s)\n"
		   "  -f, --foreground   log to stderr as well\n"
		   "      --cleanup      remove this node's configured addresses and exit\n"
		   "                     (for the service manager after a final stop)\n"
		   "      --check        load the configuration, report, and exit (0 or 78)\n"
		   "      --list-commands\n"
		   "                     print the control commands it answers and exit\n"
		   "  -V, --version      print the version and exit\n",
		CONF_DEFAULT_PATH);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"foreground", no_argument, NULL, 'f'},
		{"cleanup", no_argument, NULL, 'C'},
		{"list-commands", no_argument, NULL, 'L'},
		{"check", no_argument, NULL, 'k'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = CONF_DEFAULT_PATH;
	static struct chorusd d = {.pid_fd = -1};
	bool foreground = false, cleanup = false, check = false;
	qb_loop_signal_handle sigs[2] = {NULL, NULL};
	char err[1024];
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "c:fVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'f': foreground = true; break;
		case 'C': cleanup = true; break;
		case 'k': check = true; break;
		case 'V': printf("chorusd %s\n", PACKAGE_VERSION); return CHORUSD_OK;
		case 'L':
			for (size_t i = 0; ctl_command_name(i) != NULL; i++)
				puts(ctl_command_name(i));
			return CHORUSD_OK;
		case 'h': usage(stdout); return CHORUSD_OK;
		default: usage(stderr); return CHORUSD_ERR_USAGE;
		}
	}
	if (optind != argc || (check && cleanup)) {
		usage(stderr);
		return CHORUSD_ERR_USAGE;
	}
	snprintf(d.conf_path, sizeof(d.conf_path), "%s", path);
	d.argv = argv;
	rc = conf_load(path, &d.conf, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "chorusd: %s\n", err);
		return CHORUSD_ERR_CONFIG;
	}
	if (check) {
		/* for a package's post-install or an operator before a
		 * reload: the same loader, and nothing started */
		if (d.conf->n_vips == 0)
			fprintf(stderr, "chorusd: %s: warning: %s\n", path, NOTHING_MANAGED);
		printf("chorusd: %s: configuration ok\n", path);
		rc = daemon_check_corosync(path, d.conf);
		conf_free(d.conf);
		return rc == 0 ? CHORUSD_OK : CHORUSD_ERR_CONFIG;
	}
	if (local_lists(&d) < 0)
		return CHORUSD_ERR_INIT;
	if (cleanup) {
		rc = vip_cleanup(d.vl, d.conf->n_vips);
		if (rc < 0) {
			fprintf(stderr, "chorusd: cleanup failed: %s\n", strerror(-rc));
			return CHORUSD_ERR_INIT;
		}
		printf("chorusd: removed %d address(es)\n", rc);
		return CHORUSD_OK;
	}

	log_setup(&d, d.conf, foreground);
	crash_setup(d.conf);
	d.pid_fd = pid_lock(d.conf->run_dir);
	if (d.pid_fd < 0) {
		qb_log(LOG_CRIT, "cannot lock %s/chorusd.pid: %s", d.conf->run_dir,
		       d.pid_fd == -EEXIST ? "another chorusd is running" : strerror(-d.pid_fd));
		return d.pid_fd == -EEXIST ? CHORUSD_ERR_RUNNING : CHORUSD_ERR_INIT;
	}
	if (getrandom(&d.incarnation, sizeof(d.incarnation), 0) != sizeof(d.incarnation))
		d.incarnation = qb_util_nano_from_epoch_get() ^ ((uint64_t)getpid() << 32);
	d.incarnation |= 1;
	qb_log(LOG_NOTICE, "chorusd %s starting: %zu addresses, group %s", PACKAGE_VERSION,
	       d.conf->n_vips, d.conf->group);
	if (d.conf->n_vips == 0)
		qb_log(LOG_WARNING, "%s: %s", path, NOTHING_MANAGED);

	d.loop = qb_loop_create();
	if (d.loop == NULL)
		return CHORUSD_ERR_INIT;
	/* before anything is declared or scanned: the bricks glusterd names */
	rc = bricks_resolve_at_start(&d);
	if (rc < 0) {
		qb_log(LOG_CRIT, "cannot resolve the bricks glusterd names " QB_XS " rc=%d", rc);
		return CHORUSD_ERR_INIT;
	}
	if (d.n_unresolved > 0 && local_lists(&d) < 0)
		return CHORUSD_ERR_INIT;
	{
		/* the lifetime is final once corosync's timing is known */
		struct vip_exec_config vc = {
			.lifetime_s = d.conf->address_lifetime_s,
			.announce_count = d.conf->announce_count,
			.announce_interval_ms = d.conf->announce_interval_ms,
		};

		rc = vip_exec_new(d.loop, &vc, d.vl, d.conf->n_vips, vip_event, &d, &d.vx);
		if (rc < 0) {
			qb_log(LOG_CRIT, "cannot start the address executor " QB_XS " rc=%d", rc);
			return CHORUSD_ERR_INIT;
		}
	}
	rc = vip_probe_new(d.loop, probe_done, &d, &d.vp);
	if (rc < 0) {
		qb_log(LOG_CRIT, "cannot start the expiry prober " QB_XS " rc=%d", rc);
		return CHORUSD_ERR_INIT;
	}
	rc = tickle_new(d.loop, d.conf, d.incarnation,
			&(const struct tickle_ops){&d, tk_nodeid, tk_proto, tk_held, tk_send}, &d.tk);
	if (rc < 0)
		qb_log(LOG_ERR, "running without tickle ACKs " QB_XS " rc=%d", rc);
	if (corelog_new(d.conf->n_vips, &d.corelog) < 0) {
		qb_log(LOG_CRIT, "out of memory");
		return CHORUSD_ERR_INIT;
	}
	if (ctl_start(&d) < 0)
		qb_log(LOG_ERR, "running without a control socket");
	if (health_start(&d) < 0)
		qb_log(LOG_ERR, "running without plugins");
	rc = vip_exec_scan(d.vx, d.held);
	if (rc < 0)
		qb_log(LOG_ERR, "cannot scan local addresses " QB_XS " rc=%d", rc);
	/* after the scan: a brick's probe needs to know if its address is here */
	rc = bricks_start(&d);
	if (rc < 0) {
		/* bricks without their executor (or a watchdog that cannot be
		 * opened) would be unsafe: refuse to run */
		qb_log(LOG_CRIT, "cannot start the brick executor " QB_XS " rc=%d", rc);
		return CHORUSD_ERR_INIT;
	}
	if (d.exiting)	/* a brick no longer declared could not be stopped */
		return d.exit_code;
	rc = hooks_new(d.loop, d.conf, addresses_release_now, &d, &d.hk);
	if (rc < 0) {
		qb_log(LOG_CRIT, "cannot start the service hooks " QB_XS " rc=%d", rc);
		return CHORUSD_ERR_INIT;
	}
	signal(SIGPIPE, SIG_IGN);
	qb_loop_signal_add(d.loop, QB_LOOP_HIGH, SIGTERM, &d, sig_term, &sigs[0]);
	qb_loop_signal_add(d.loop, QB_LOOP_HIGH, SIGINT, &d, sig_term, &sigs[1]);

	rc = cluster_new(d.loop, d.conf->group, cluster_event, &d, &d.cl);
	if (rc < 0)
		return CHORUSD_ERR_INIT;
	sd_watchdog_start(&d);
	connect_cb(&d);

	qb_loop_run(d.loop);
	loop_drain(d.loop, sigs, 2);

	qb_log(LOG_NOTICE, d.reexec ? "chorusd restarting in place" : "chorusd exiting");
	ctl_stop(&d);
	bricks_stop(&d);
	health_stop(&d);
	hooks_free(d.hk);
	tickle_free(d.tk);
	cluster_free(d.cl);
	core_free(d.core);
	corelog_free(d.corelog);
	vip_exec_free(d.vx);
	vip_probe_free(d.vp);
	qb_loop_destroy(d.loop);
	if (d.pid_fd >= 0 && !d.reexec) {
		/* a clean stop leaves no pid file; a reload keeps it for
		 * the new image, which locks it again */
		char pidf[4096];

		if ((size_t)snprintf(pidf, sizeof(pidf), "%s/chorusd.pid", d.conf->run_dir) <
		    sizeof(pidf))
			(void)unlink(pidf);
	}
	conf_free(d.conf);
	free(d.unresolved);
	inventory_free(d.inv_first);
	free(d.vl);
	free(d.held);
	free(d.kinds);
	free(d.res);
	if (d.pid_fd >= 0)
		close(d.pid_fd);
	qb_log_fini();
	if (d.reexec) {
		/* reload: the same arguments, the new file; addresses stay up
		 * and are adopted, so nothing moves.  An absolute argv[0] (as a
		 * service manager starts us) picks up an upgraded binary;
		 * /proc/self/exe would still be the old, replaced one. */
		execv(d.argv[0][0] == '/' ? d.argv[0] : "/proc/self/exe", d.argv);
		fprintf(stderr, "chorusd: re-exec failed: %s\n", strerror(errno));
		return CHORUSD_ERR_INIT;
	}
	return d.exit_code ? d.exit_code : CHORUSD_OK;
}
