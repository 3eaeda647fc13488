/*
 * Check scheduling for the plugin host: hysteresis, the per-check interval
 * and timeout timers, the queue of runs waiting for a worker, and the
 * results coming back from the pool (plugin_worker.c) through its pipe.
 *
 * On a tick a check goes to an idle worker slot, or waits in a FIFO while
 * every worker is busy with a run still within its timeout, and its timeout
 * timer starts.  The result is fed to the check's hysteresis, and the scope
 * is reported when the verdict changes.  A run that outlives its timeout
 * counts as a failed sample, its slot is marked stuck (not reused) until the
 * function returns, and the check is not started again meanwhile: each tick
 * while it hangs is another failed sample.  With every slot stuck, a tick is
 * a failed sample at once ("no free worker"): the number of threads never
 * grows.  A stuck slot whose function finally returns is recycled and its
 * late result dropped.  All of this runs on the loop thread.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <qb/qblog.h>
#include <qb/qbutil.h>

#include "plugin/plugin_private.h"

/* ---- hysteresis ---- */

void plugin_hyst_init(struct plugin_hyst *hy, uint32_t fail_after, uint32_t recover_after)
{
	memset(hy, 0, sizeof(*hy));
	hy->fail_after = fail_after ? fail_after : 1;
	hy->recover_after = recover_after ? recover_after : 1;
	hy->health = PLUGIN_HEALTH_OK;
}

bool plugin_hyst_step(struct plugin_hyst *hy, enum plugin_health sample)
{
	enum plugin_health old = hy->health;

	switch (sample) {
	case PLUGIN_HEALTH_OK:
		hy->n_good++;
		hy->n_degraded = hy->n_failed = hy->n_bad = 0;
		break;
	case PLUGIN_HEALTH_DEGRADED:
		hy->n_degraded++;
		hy->n_bad++;
		hy->n_good = hy->n_failed = 0;
		break;
	default:
		hy->n_failed++;
		hy->n_bad++;
		hy->n_good = hy->n_degraded = 0;
		break;
	}
	switch (hy->health) {
	case PLUGIN_HEALTH_OK:
		if (hy->n_failed >= hy->fail_after)
			hy->health = PLUGIN_HEALTH_FAILED;
		else if (hy->n_bad >= hy->fail_after)
			hy->health = PLUGIN_HEALTH_DEGRADED;
		break;
	case PLUGIN_HEALTH_DEGRADED:
		if (hy->n_failed >= hy->fail_after)
			hy->health = PLUGIN_HEALTH_FAILED;
		else if (hy->n_good >= hy->recover_after)
			hy->health = PLUGIN_HEALTH_OK;
		break;
	default:
		if (hy->n_good >= hy->recover_after)
			hy->health = PLUGIN_HEALTH_OK;
		else if (hy->n_degraded >= hy->recover_after)
			hy->health = PLUGIN_HEALTH_DEGRADED;
		break;
	}
	return hy->health != old;
}

/* ---- checks ---- */

static void check_tick(void *data);
static void check_timeout(void *data);

static void check_sample(struct plugin_check *c, enum plugin_health health, const char *reason)
{
	struct plugin_host *h = c->p->h;
	struct plugin_scope_rec *s;
	char keep[CHORUS_REASON_SIZE];

	if (c->cancelled)
		return;
	/* The reason shown is that of the sample that changed the verdict or
	 * of the last one agreeing with it: a bad sample below the threshold
	 * does not explain an ok. */
	if (plugin_hyst_step(&c->hyst, health) || health == c->hyst.health) {
		plugin_scope_set(h, c->p, c->scope, c->hyst.health, reason);
		return;
	}
	s = plugin_scope_find(h, c->scope);
	if (s != NULL) {
		snprintf(keep, sizeof(keep), "%s", s->reason);
		plugin_scope_set(h, c->p, c->scope, c->hyst.health, keep);
	} else {
		plugin_scope_set(h, c->p, c->scope, c->hyst.health, "no conclusive result yet");
	}
}

void plugin_check_free(struct plugin_check *c)
{
	free(c->scope);
	free(c);
}

static void timer_arm(struct plugin_host *h, uint32_t ms, void *data, void (*fn)(void *),
		      qb_loop_timer_handle *handle, bool *armed)
{
	if (qb_loop_timer_add(h->loop, QB_LOOP_MED, (uint64_t)ms * QB_TIME_NS_IN_MSEC, data, fn,
			      handle) == 0)
		*armed = true;
	else
		qb_log(LOG_ERR, "plugin host: cannot arm a timer");
}

static void timer_disarm(struct plugin_host *h, qb_loop_timer_handle *handle, bool *armed)
{
	if (*armed)
		qb_loop_timer_del(h->loop, *handle);
	*armed = false;
}

static bool all_slots_stuck(const struct plugin_host *h)
{
	for (unsigned i = 0; i < h->nslots; i++)
		if (!h->slots[i].stuck)
			return false;
	return true;
}

static void queue_remove(struct plugin_host *h, struct plugin_check *c)
{
	for (struct plugin_check **pp = &h->queue; *pp != NULL; pp = &(*pp)->qnext)
		if (*pp == c) {
			*pp = c->qnext;
			c->qnext = NULL;
			return;
		}
}

/* Hand queued checks to idle slots, oldest first. */
static void queue_run(struct plugin_host *h)
{
	for (unsigned i = 0; i < h->nslots && h->queue != NULL; i++) {
		struct plugin_run_slot *s = &h->slots[i];
		struct plugin_check *c;

		if (s->check != NULL || s->stuck)
			continue;
		c = h->queue;
		h->queue = c->qnext;
		c->qnext = NULL;
		s->check = c;
		s->gen = ++h->next_gen;
		c->run = CHECK_RUNNING;
		plugin_pool_submit(h->pool, i, s->gen, c->fn, c->p, c->arg);
	}
}

/* Every worker is stuck: whatever waits for one fails now. */
static void queue_fail_all(struct plugin_host *h)
{
	while (h->queue != NULL) {
		struct plugin_check *c = h->queue;

		h->queue = c->qnext;
		c->qnext = NULL;
		c->run = CHECK_IDLE;
		timer_disarm(h, &c->tmo, &c->tmo_armed);
		check_sample(c, PLUGIN_HEALTH_FAILED, "no free worker (all check workers hung)");
	}
}

static void check_tick(void *data)
{
	struct plugin_check *c = data;
	struct plugin_host *h = c->p->h;
	char reason[CHORUS_REASON_SIZE];

	c->tick_armed = false;
	timer_arm(h, c->interval_ms, c, check_tick, &c->tick, &c->tick_armed);
	switch (c->run) {
	case CHECK_QUEUED:
	case CHECK_RUNNING:
		return;			/* still within its timeout */
	case CHECK_HUNG:
		snprintf(reason, sizeof(reason), "still hung after %llu ms",
			 (unsigned long long)(plugin_now_ms() - c->run_start_ms));
		check_sample(c, PLUGIN_HEALTH_FAILED, reason);
		return;
	case CHECK_IDLE:
		break;
	}
	if (all_slots_stuck(h)) {
		check_sample(c, PLUGIN_HEALTH_FAILED, "no free worker (all check workers hung)");
		return;
	}
	c->run = CHECK_QUEUED;
	c->run_start_ms = plugin_now_ms();
	timer_arm(h, c->timeout_ms, c, check_timeout, &c->tmo, &c->tmo_armed);
	struct plugin_check **pp = &h->queue;
	while (*pp != NULL)
		pp = &(*pp)->qnext;
	*pp = c;
	queue_run(h);
}

static void check_timeout(void *data)
{
	struct plugin_check *c = data;
	struct plugin_host *h = c->p->h;
	char reason[CHORUS_REASON_SIZE];

	c->tmo_armed = false;
	snprintf(reason, sizeof(reason), "timed out after %u ms", c->timeout_ms);
	if (c->run == CHECK_QUEUED) {
		queue_remove(h, c);
		c->run = CHECK_IDLE;
		check_sample(c, PLUGIN_HEALTH_FAILED, reason);
		return;
	}
	if (c->run != CHECK_RUNNING)
		return;
	for (unsigned i = 0; i < h->nslots; i++)
		if (h->slots[i].check == c)
			h->slots[i].stuck = true;
	c->run = CHECK_HUNG;
	qb_log(LOG_WARNING, "check %s timed out after %u ms; its worker is written off until it returns",
	       c->scope, c->timeout_ms);
	check_sample(c, PLUGIN_HEALTH_FAILED, reason);
	if (all_slots_stuck(h))
		queue_fail_all(h);
}

static void host_result(struct plugin_host *h, const struct plugin_msg *m)
{
	struct plugin_run_slot *s;
	struct plugin_check *c;
	bool late;

	if (m->slot >= h->nslots || h->slots[m->slot].gen != m->gen || h->slots[m->slot].check == NULL)
		return;
	s = &h->slots[m->slot];
	c = s->check;
	late = s->stuck;
	s->check = NULL;
	s->stuck = false;
	c->run = CHECK_IDLE;
	timer_disarm(h, &c->tmo, &c->tmo_armed);
	if (c->cancelled) {
		plugin_check_free(c);
	} else if (late) {
		qb_log(LOG_NOTICE, "hung check %s returned after %llu ms; worker recycled", c->scope,
		       (unsigned long long)(plugin_now_ms() - c->run_start_ms));
	} else {
		enum plugin_health health = m->value == CHORUS_HEALTH_OK	? PLUGIN_HEALTH_OK
					    : m->value == CHORUS_HEALTH_DEGRADED ? PLUGIN_HEALTH_DEGRADED
										 : PLUGIN_HEALTH_FAILED;

		check_sample(c, health, m->text[0] ? m->text : plugin_health_name(health));
	}
	queue_run(h);
}

int32_t plugin_check_dispatch(int32_t fd, int32_t revents, void *data)
{
	struct plugin_host *h = data;
	struct plugin_msg m;

	/* Bounded: a flood of results must not keep the loop here. */
	for (int n = 0; n < 64 && plugin_pool_read(h->pool, &m) > 0; n++) {
		if (m.type == PLUGIN_MSG_RESULT)
			host_result(h, &m);
		else if (m.type == PLUGIN_MSG_LOG)
			plugin_qb_log(m.value, m.text);
	}
	return 0;
}

int plugin_check_schedule(struct chorus_plugin_ctx *p, const char *scope, uint32_t interval_ms,
			      uint32_t timeout_ms, chorus_check_fn fn, void *arg)
{
	struct plugin_host *h = p->h;
	struct plugin_check *c;

	if (plugin_off_loop(p, "schedule_check"))
		return -EPERM;
	if (scope == NULL || scope[0] == '\0' || fn == NULL || interval_ms == 0 || timeout_ms == 0)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->scope = strdup(scope);
	if (c->scope == NULL) {
		free(c);
		return -ENOMEM;
	}
	c->p = p;
	c->id = ++h->next_id;
	c->interval_ms = interval_ms;
	c->timeout_ms = timeout_ms;
	c->fn = fn;
	c->arg = arg;
	plugin_hyst_init(&c->hyst, CHORUS_CHECK_FAIL_AFTER_DEFAULT,
			 CHORUS_CHECK_RECOVER_AFTER_DEFAULT);
	/* A check replacing another (reconfigure) goes on from the scope's
	 * verdict rather than from ok. */
	if (plugin_scope_find(h, scope) != NULL)
		c->hyst.health = plugin_scope_find(h, scope)->health;
	c->next = h->checks;
	h->checks = c;
	/* The first run soon, from the loop rather than inside init. */
	timer_arm(h, 1, c, check_tick, &c->tick, &c->tick_armed);
	return c->id;
}

struct plugin_check *plugin_check_find(struct chorus_plugin_ctx *p, int id)
{
	for (struct plugin_check *c = p->h->checks; c != NULL; c = c->next)
		if (c->id == id && c->p == p)
			return c;
	return NULL;
}

int plugin_check_set_hysteresis(struct chorus_plugin_ctx *p, int id, uint32_t fail_after,
				    uint32_t recover_after)
{
	struct plugin_check *c;

	if (plugin_off_loop(p, "check_set_hysteresis"))
		return -EPERM;
	c = plugin_check_find(p, id);
	if (c == NULL)
		return -ENOENT;
	if (fail_after == 0 || recover_after == 0)
		return -EINVAL;
	c->hyst.fail_after = fail_after;
	c->hyst.recover_after = recover_after;
	return 0;
}

void plugin_check_cancel(struct plugin_host *h, struct plugin_check *c)
{
	for (struct plugin_check **pp = &h->checks; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	timer_disarm(h, &c->tick, &c->tick_armed);
	timer_disarm(h, &c->tmo, &c->tmo_armed);
	c->cancelled = true;
	if (c->run == CHECK_QUEUED)
		queue_remove(h, c);
	if (c->run == CHECK_RUNNING || c->run == CHECK_HUNG)
		return;			/* freed by host_result() when it returns */
	plugin_check_free(c);
}

int plugin_check_cancel_id(struct chorus_plugin_ctx *p, int id)
{
	struct plugin_check *c;

	if (plugin_off_loop(p, "check_cancel"))
		return -EPERM;
	c = plugin_check_find(p, id);
	if (c == NULL)
		return -ENOENT;
	plugin_check_cancel(p->h, c);
	return 0;
}
