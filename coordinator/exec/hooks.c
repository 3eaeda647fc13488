/*
 * Service hooks (see hooks.h): a small queue per address in front of the
 * script runner.
 *
 * Each address has at most one action running (its hooks one after the
 * other) and at most two queued.  The core alternates acquire and release
 * for an address, and a planned release is not answered before its hooks
 * end, so the only sequences that can pile up behind a running hook are a
 * loss followed by a new takeip ("L T"); a loss or a release arriving after
 * a takeip that has not started cancels that takeip instead of queueing.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <qb/qbdefs.h>
#include <qb/qblog.h>

#include "exec/hooks.h"
#include "exec/script.h"

enum hook_act { HA_NONE, HA_TAKE, HA_RELEASE, HA_LOST };

#define QMAX 2

struct hook_vip {
	struct hooks *h;		/* back pointer: the run's callback data is the vip */
	size_t idx;
	uint8_t hk[CONF_HOOKS_MAX];	/* conf hooks of its pool, in file order */
	uint32_t nh;
	enum hook_act cur;		/* HA_NONE: idle */
	uint32_t step;			/* position in its hook list */
	struct script_run *run;		/* NULL while waiting for a slot */
	bool waiting;			/* its next step needs a free slot */
	bool owed;			/* a planned release to answer when done */
	enum hook_act q[QMAX];
	uint32_t nq;
};

struct hooks {
	const struct chorus_conf *conf;
	struct script_runner *runner;
	struct hook_vip *v;
	size_t n;
	uint32_t running;
	uint32_t owed;			/* addresses with 'owed' set */
	size_t cursor;			/* round-robin start for waiting steps */
	hooks_release_fn release;
	void *ud;
	uint32_t nodeid;
	uint64_t runs, failures;
	char last_failure[512];		/* "" = none yet */
};

static const char *act_name(enum hook_act a)
{
	return a == HA_TAKE ? "takeip" : "releaseip";
}

static const char *act_reason(enum hook_act a)
{
	return a == HA_TAKE ? "acquire" : a == HA_RELEASE ? "release" : "lost";
}

static void start_step(struct hooks *h, size_t i);
static void kick(struct hooks *h, size_t i);

int hooks_new(qb_loop_t *loop, const struct chorus_conf *conf, hooks_release_fn release,
	      void *ud, struct hooks **out)
{
	struct hooks *h = calloc(1, sizeof(*h));
	int rc;

	*out = NULL;
	if (h == NULL)
		return -ENOMEM;
	h->conf = conf;
	h->release = release;
	h->ud = ud;
	h->n = conf->n_vips;
	h->v = calloc(h->n + 1, sizeof(*h->v));
	if (h->v == NULL) {
		free(h);
		return -ENOMEM;
	}
	for (size_t i = 0; i < h->n; i++) {
		const struct conf_vip *cv = &conf->vips[i];

		h->v[i].h = h;
		h->v[i].idx = i;
		for (size_t k = 0; cv->brick == 0 && k < conf->n_hooks; k++)
			if (strcmp(conf->hooks[k].pool, cv->pool) == 0)
				h->v[i].hk[h->v[i].nh++] = (uint8_t)k;
	}
	rc = script_runner_new(loop, &h->runner);
	if (rc < 0) {
		free(h->v);
		free(h);
		return rc;
	}
	*out = h;
	return 0;
}

void hooks_free(struct hooks *h)
{
	if (h == NULL)
		return;
	script_runner_free(h->runner);
	free(h->v);
	free(h);
}

void hooks_set_nodeid(struct hooks *h, uint32_t nodeid)
{
	if (h != NULL)
		h->nodeid = nodeid;
}

bool hooks_has(const struct hooks *h, size_t idx)
{
	return h != NULL && idx < h->n && h->v[idx].nh > 0;
}

/* Give the free slots to waiting steps, round-robin so no address starves. */
static void fill_slots(struct hooks *h)
{
	size_t from = h->cursor;

	for (size_t k = 0; k < h->n && h->running < HOOKS_PARALLEL; k++) {
		size_t i = (from + k) % h->n;

		if (h->v[i].waiting) {
			h->v[i].waiting = false;
			h->cursor = (i + 1) % h->n;
			start_step(h, i);
		}
	}
}

static void finish(struct hooks *h, size_t i)
{
	struct hook_vip *v = &h->v[i];
	enum hook_act a = v->cur;

	v->cur = HA_NONE;
	if (a == HA_RELEASE && v->owed) {
		v->owed = false;
		h->owed--;
		h->release(h->ud, i);	/* may queue a new takeip for 'i' */
	}
	kick(h, i);
}

static void note_failure(struct hooks *h, size_t i, const struct conf_hook *ch,
			 enum hook_act a, const char *what, const struct script_result *r)
{
	char addr[CHORUS_ADDR_STRLEN];
	const char *out = r != NULL && r->output_size > 0 ? r->output : "";
	size_t len = strlen(out);

	while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == ' '))
		len--;
	res_addr_format(&h->conf->vips[i].addr, addr, sizeof(addr));
	h->failures++;
	qb_log(LOG_ERR, "hook %s %s %s failed: %s%s%.*s", ch->script, act_name(a), addr, what,
	       len > 0 ? ": " : "", (int)(len > 400 ? 400 : len), out);
	if (snprintf(h->last_failure, sizeof(h->last_failure), "%.300s %s %s: %.100s",
		     ch->script, act_name(a), addr, what) < 0)
		h->last_failure[0] = '\0';
}

static void run_done(void *data, const struct script_result *r)
{
	struct hook_vip *v = data;
	struct hooks *h = v->h;
	size_t i = v->idx;
	uint32_t k = v->cur == HA_TAKE ? v->step : v->nh - 1 - v->step;
	const struct conf_hook *ch = &h->conf->hooks[v->hk[k]];

	v->run = NULL;
	h->running--;
	if (script_result_ok(r)) {
		char addr[CHORUS_ADDR_STRLEN];

		res_addr_format(&h->conf->vips[i].addr, addr, sizeof(addr));
		qb_log(LOG_INFO, "hook %s %s %s done in %" PRIu64 " ms", ch->script,
		       act_name(v->cur), addr, r->elapsed_ms);
	} else {
		char buf[96];

		note_failure(h, i, ch, v->cur, script_result_str(r, buf, sizeof(buf)), r);
	}
	v->step++;
	if (v->step < v->nh)
		start_step(h, i);
	else
		finish(h, i);
	fill_slots(h);
}

static void start_step(struct hooks *h, size_t i)
{
	struct hook_vip *v = &h->v[i];
	const struct conf_vip *cv = &h->conf->vips[i];
	uint32_t k = v->cur == HA_TAKE ? v->step : v->nh - 1 - v->step;
	const struct conf_hook *ch = &h->conf->hooks[v->hk[k]];
	char addr[CHORUS_ADDR_STRLEN], e[8][160];
	const char *argv[3 + CONF_HOOK_ARGS + 1], *envp[9];
	struct script_spec spec = {.argv = argv, .envp = envp, .timeout_ms = ch->timeout_ms};
	size_t n = 0;
	int rc;

	if (h->running >= HOOKS_PARALLEL) {
		v->waiting = true;
		return;
	}
	res_addr_format_ip(&cv->addr, addr, sizeof(addr));	/* the contract: bare */
	argv[n++] = ch->script;
	argv[n++] = act_name(v->cur);
	argv[n++] = addr;
	for (size_t a = 0; a < ch->n_args; a++)
		argv[n++] = ch->args[a];
	argv[n] = NULL;
	snprintf(e[0], sizeof(e[0]), "CHORUS_ACTION=%s", act_name(v->cur));
	snprintf(e[1], sizeof(e[1]), "CHORUS_ADDRESS=%s", addr);
	snprintf(e[2], sizeof(e[2]), "CHORUS_PREFIX=%u", (unsigned)cv->addr.prefix);
	snprintf(e[3], sizeof(e[3]), "CHORUS_FAMILY=%s",
		 cv->addr.family == 6 ? "inet6" : "inet");
	snprintf(e[4], sizeof(e[4]), "CHORUS_INTERFACE=%s", cv->ifname);
	snprintf(e[5], sizeof(e[5]), "CHORUS_POOL=%s", cv->pool);
	snprintf(e[6], sizeof(e[6]), "CHORUS_NODEID=%" PRIu32, h->nodeid);
	snprintf(e[7], sizeof(e[7]), "CHORUS_REASON=%s", act_reason(v->cur));
	for (size_t a = 0; a < 8; a++)
		envp[a] = e[a];
	envp[8] = NULL;

	h->runs++;
	rc = script_run(h->runner, &spec, run_done, v, &v->run);
	if (rc == 0) {
		h->running++;
		qb_log(LOG_DEBUG, "hook %s %s %s started", ch->script, act_name(v->cur), addr);
		return;
	}
	{
		char what[64];

		snprintf(what, sizeof(what), "cannot start: %s", strerror(-rc));
		note_failure(h, i, ch, v->cur, what, NULL);
	}
	/* go on with the next hook rather than stall the address */
	v->step++;
	if (v->step < v->nh)
		start_step(h, i);
	else
		finish(h, i);
}

static void kick(struct hooks *h, size_t i)
{
	struct hook_vip *v = &h->v[i];

	if (v->cur != HA_NONE || v->nq == 0)
		return;
	v->cur = v->q[0];
	v->q[0] = v->q[1];
	v->nq--;
	v->step = 0;
	start_step(h, i);
}

/* Queue 'a' for 'i'.  Returns false when 'a' cancelled a takeip that never
 * started (nothing to undo, nothing queued). */
static bool enqueue(struct hooks *h, size_t i, enum hook_act a)
{
	struct hook_vip *v = &h->v[i];

	if (a != HA_TAKE && v->nq > 0 && v->q[v->nq - 1] == HA_TAKE) {
		v->nq--;
		return false;
	}
	if (v->nq == QMAX) {
		/* cannot happen with the core's alternation; keep the newest */
		char addr[CHORUS_ADDR_STRLEN];

		res_addr_format(&h->conf->vips[i].addr, addr, sizeof(addr));
		qb_log(LOG_ERR, "hook queue of %s full: dropping a %s", addr, act_name(v->q[0]));
		v->q[0] = v->q[1];
		v->nq--;
	}
	v->q[v->nq++] = a;
	kick(h, i);
	return true;
}

void hooks_takeip(struct hooks *h, size_t idx)
{
	if (hooks_has(h, idx))
		enqueue(h, idx, HA_TAKE);
}

bool hooks_releaseip(struct hooks *h, size_t idx)
{
	if (!hooks_has(h, idx))
		return false;
	/* set before queueing: a hook that cannot start finishes at once */
	h->v[idx].owed = true;
	h->owed++;
	if (!enqueue(h, idx, HA_RELEASE)) {
		h->v[idx].owed = false;
		h->owed--;
		return false;
	}
	/* 'owed' is already cleared if it finished synchronously; the callback
	 * has then been called, so the caller must not release again */
	return true;
}

void hooks_lost(struct hooks *h, size_t idx)
{
	if (hooks_has(h, idx))
		enqueue(h, idx, HA_LOST);
}

void hooks_hurry(struct hooks *h)
{
	/* called after every step while the node drops everything: free
	 * unless a release is actually waiting */
	for (size_t i = 0; h != NULL && h->owed > 0 && i < h->n; i++) {
		struct hook_vip *v = &h->v[i];

		if (!v->owed)
			continue;
		v->owed = false;
		h->owed--;
		for (uint32_t k = 0; k < v->nq; k++)
			if (v->q[k] == HA_RELEASE)
				v->q[k] = HA_LOST;	/* runs later, told the truth */
		h->release(h->ud, i);
	}
}

struct json_object *hooks_status_json(const struct hooks *h)
{
	struct json_object *o = json_object_new_object();
	size_t queued = 0;

	for (size_t i = 0; h != NULL && i < h->n; i++)
		queued += h->v[i].nq + (h->v[i].waiting ? 1 : 0);
	json_object_object_add(o, "configured",
			       json_object_new_int64(h ? (int64_t)h->conf->n_hooks : 0));
	json_object_object_add(o, "runs", json_object_new_int64(h ? (int64_t)h->runs : 0));
	json_object_object_add(o, "failures",
			       json_object_new_int64(h ? (int64_t)h->failures : 0));
	json_object_object_add(o, "running", json_object_new_int64(h ? h->running : 0));
	json_object_object_add(o, "queued", json_object_new_int64((int64_t)queued));
	json_object_object_add(o, "last_failure",
			       h && h->last_failure[0] ? json_object_new_string(h->last_failure)
						       : NULL);
	return o;
}
