/*
 * The plugin host (see plugin.h and include/chorus/plugin.h).
 *
 * Loading: dlopen(RTLD_NOW | RTLD_LOCAL), one dlsym of chorus_plugin_entry,
 * then the descriptor's abi_version and struct_size are checked before any
 * hook is called.  Every refusal is one log line naming the file and the
 * reason, and returns -errno: the daemon runs on without that plugin.
 *
 * Checks are scheduled in plugin_check.c and run by plugin_worker.c.
 *
 * Everything here runs on the loop thread except api_log() and
 * api_node_id(): a log line from another thread (a worker in a check)
 * reaches the loop through the pool's pipe.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <qb/qblog.h>
#include <qb/qbutil.h>

#include "plugin/plugin_private.h"

/* How long plugin_host_free() waits for running checks. */
#define PLUGIN_FREE_WAIT_MS 1000u

struct plugin_timer {
	struct plugin_timer *next;
	struct chorus_plugin_ctx *p;
	int id;
	chorus_timer_fn cb;
	void *arg;
	qb_loop_timer_handle handle;
};

struct plugin_fd {
	struct plugin_fd *next;
	struct chorus_plugin_ctx *p;
	int fd;
	chorus_fd_fn cb;
	void *arg;
};

static const struct chorus_host_api host_api;

uint64_t plugin_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* qb_log wants a constant priority at each call site; plugins pick theirs
 * at run time. */
void plugin_qb_log(int level, const char *text)
{
	if (level < LOG_EMERG || level > LOG_DEBUG)
		level = LOG_INFO;
	qb_log_from_external_source(__func__, __FILE__, "%s", (uint8_t)level, __LINE__, 0, text);
}

/* ---- scopes ---- */

const char *plugin_health_name(enum plugin_health health)
{
	switch (health) {
	case PLUGIN_HEALTH_OK:
		return "ok";
	case PLUGIN_HEALTH_DEGRADED:
		return "degraded";
	default:
		return "failed";
	}
}

struct plugin_scope_rec *plugin_scope_find(struct plugin_host *h, const char *name)
{
	for (size_t i = 0; i < h->nscopes; i++)
		if (strcmp(h->scopes[i].name, name) == 0)
			return &h->scopes[i];
	return NULL;
}

/* Record a verdict for 'name'; tell the daemon if the health changed, or if
 * the scope is new and not ok (a new ok scope changes nothing). */
int plugin_scope_set(struct plugin_host *h, struct chorus_plugin_ctx *p, const char *name,
		     enum plugin_health health, const char *reason)
{
	struct plugin_scope_rec *s = plugin_scope_find(h, name);
	bool changed;

	if (s == NULL) {
		struct plugin_scope_rec *n = realloc(h->scopes, (h->nscopes + 1) * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		h->scopes = n;
		s = &n[h->nscopes];
		memset(s, 0, sizeof(*s));
		s->name = strdup(name);
		s->plugin = strdup(p->name);
		if (s->name == NULL || s->plugin == NULL) {
			free(s->name);
			free(s->plugin);
			return -ENOMEM;
		}
		h->nscopes++;
		s->health = PLUGIN_HEALTH_OK;
		changed = health != PLUGIN_HEALTH_OK;
		s->since_ms = plugin_now_ms();
	} else {
		changed = s->health != health;
	}
	snprintf(s->reason, sizeof(s->reason), "%s", reason ? reason : "");
	if (!changed)
		return 0;
	s->health = health;
	s->since_ms = plugin_now_ms();
	qb_log(health == PLUGIN_HEALTH_FAILED ? LOG_WARNING : LOG_NOTICE,
	       "scope %s is %s: %s " QB_XS " plugin=%s", s->name, plugin_health_name(health), s->reason,
	       p->name);
	if (h->health_fn != NULL)
		h->health_fn(h->ud, s->name, health, s->reason);
	return 0;
}

size_t plugin_host_scope_count(const struct plugin_host *h)
{
	return h->nscopes;
}

void plugin_host_scope_get(const struct plugin_host *h, size_t i, struct plugin_scope_view *v)
{
	const struct plugin_scope_rec *s = &h->scopes[i];

	v->scope = s->name;
	v->plugin = s->plugin;
	v->health = s->health;
	v->reason = s->reason;
	v->since_ms = s->since_ms;
}

/* ---- the host API ---- */

/* Main-loop-only host functions called from another thread (a check):
 * refused, with a line in the log, rather than racing the loop. */
bool plugin_off_loop(struct chorus_plugin_ctx *p, const char *what)
{
	char buf[160];

	if (pthread_equal(pthread_self(), p->h->main_tid))
		return false;
	snprintf(buf, sizeof(buf), "plugin %s: %s() called off the main loop: refused", p->name,
		 what);
	plugin_pool_log(p->h->pool, LOG_ERR, buf);
	return true;
}

static uint32_t api_node_id(struct chorus_plugin_ctx *p)
{
	return __atomic_load_n(&p->h->node_id, __ATOMIC_RELAXED);
}

static void api_log(struct chorus_plugin_ctx *p, int level, const char *fmt, ...)
{
	char buf[PLUGIN_MSG_TEXT_SIZE];
	int off;
	va_list ap;

	off = snprintf(buf, sizeof(buf), "plugin %s: ", p->name);
	if (off < 0 || (size_t)off >= sizeof(buf))
		off = 0;
	va_start(ap, fmt);
	vsnprintf(buf + off, sizeof(buf) - (size_t)off, fmt, ap);
	va_end(ap);
	if (pthread_equal(pthread_self(), p->h->main_tid))
		plugin_qb_log(level, buf);
	else
		plugin_pool_log(p->h->pool, level, buf);
}

static void api_set_private(struct chorus_plugin_ctx *p, void *priv)
{
	p->priv = priv;
}

static void *api_get_private(struct chorus_plugin_ctx *p)
{
	return p->priv;
}

static int api_report_health(struct chorus_plugin_ctx *p, const char *scope,
			     enum chorus_health health, const char *reason)
{
	if (plugin_off_loop(p, "report_health"))
		return -EPERM;
	if (scope == NULL || scope[0] == '\0' || (unsigned)health > CHORUS_HEALTH_FAILED)
		return -EINVAL;
	return plugin_scope_set(p->h, p, scope, (enum plugin_health)health, reason);
}

static int api_report_load(struct chorus_plugin_ctx *p, const char *resource, double value)
{
	if (plugin_off_loop(p, "report_load"))
		return -EPERM;
	if (resource == NULL)
		return -EINVAL;
	return p->h->load_fn ? p->h->load_fn(p->h->ud, p->name, resource, value) : 0;
}

void plugin_host_set_load_fn(struct plugin_host *h, plugin_load_fn fn)
{
	h->load_fn = fn;
}

static int32_t pfd_dispatch(int32_t fd, int32_t revents, void *data)
{
	struct plugin_fd *w = data;

	w->cb(w->p, fd, (uint32_t)revents, w->arg);
	return 0;
}

static int api_watch_fd(struct chorus_plugin_ctx *p, int fd, uint32_t events, chorus_fd_fn cb,
			void *arg)
{
	struct plugin_fd *w;
	int rc;

	if (plugin_off_loop(p, "watch_fd"))
		return -EPERM;
	if (fd < 0 || cb == NULL)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->p = p;
	w->fd = fd;
	w->cb = cb;
	w->arg = arg;
	rc = qb_loop_poll_add(p->h->loop, QB_LOOP_HIGH, fd, (int32_t)events, w, pfd_dispatch);
	if (rc < 0) {
		free(w);
		return rc;
	}
	w->next = p->h->fds;
	p->h->fds = w;
	return 0;
}

static int api_unwatch_fd(struct chorus_plugin_ctx *p, int fd)
{
	if (plugin_off_loop(p, "unwatch_fd"))
		return -EPERM;
	for (struct plugin_fd **pp = &p->h->fds; *pp != NULL; pp = &(*pp)->next) {
		struct plugin_fd *w = *pp;

		if (w->fd == fd && w->p == p) {
			*pp = w->next;
			qb_loop_poll_del(p->h->loop, fd);
			free(w);
			return 0;
		}
	}
	return -ENOENT;
}

static void ptimer_unlink(struct plugin_host *h, struct plugin_timer *t)
{
	for (struct plugin_timer **pp = &h->timers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			return;
		}
}

static void ptimer_dispatch(void *data)
{
	struct plugin_timer *t = data;

	ptimer_unlink(t->p->h, t);
	t->cb(t->p, t->arg);
	free(t);
}

static int api_add_timer(struct chorus_plugin_ctx *p, uint32_t ms, chorus_timer_fn cb, void *arg)
{
	struct plugin_timer *t;
	int rc;

	if (plugin_off_loop(p, "add_timer"))
		return -EPERM;
	if (cb == NULL)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	t->p = p;
	t->id = ++p->h->next_id;
	t->cb = cb;
	t->arg = arg;
	rc = qb_loop_timer_add(p->h->loop, QB_LOOP_MED, (uint64_t)ms * QB_TIME_NS_IN_MSEC, t,
			       ptimer_dispatch, &t->handle);
	if (rc < 0) {
		free(t);
		return rc;
	}
	t->next = p->h->timers;
	p->h->timers = t;
	return t->id;
}

static int api_timer_del(struct chorus_plugin_ctx *p, int id)
{
	if (plugin_off_loop(p, "timer_del"))
		return -EPERM;
	for (struct plugin_timer *t = p->h->timers; t != NULL; t = t->next)
		if (t->id == id && t->p == p) {
			ptimer_unlink(p->h, t);
			qb_loop_timer_del(p->h->loop, t->handle);
			free(t);
			return 0;
		}
	return -ENOENT;
}

static const struct chorus_host_api host_api = {
	.api_version = CHORUS_HOST_API_VERSION,
	.struct_size = sizeof(struct chorus_host_api),
	.node_id = api_node_id,
	.log = api_log,
	.set_private = api_set_private,
	.get_private = api_get_private,
	.report_health = api_report_health,
	.report_load = api_report_load,
	.schedule_check = plugin_check_schedule,
	.check_set_hysteresis = plugin_check_set_hysteresis,
	.check_cancel = plugin_check_cancel_id,
	.watch_fd = api_watch_fd,
	.unwatch_fd = api_unwatch_fd,
	.add_timer = api_add_timer,
	.timer_del = api_timer_del,
};

/* ---- plugins ---- */

/* Drop whatever 'p' left scheduled. */
static void plugin_sweep(struct plugin_host *h, struct chorus_plugin_ctx *p)
{
	for (struct plugin_check *c = h->checks, *n; c != NULL; c = n) {
		n = c->next;
		if (c->p == p)
			plugin_check_cancel(h, c);
	}
	for (struct plugin_fd *w = h->fds, *n; w != NULL; w = n) {
		n = w->next;
		if (w->p == p)
			api_unwatch_fd(p, w->fd);
	}
	for (struct plugin_timer *t = h->timers, *n; t != NULL; t = n) {
		n = t->next;
		if (t->p == p)
			api_timer_del(p, t->id);
	}
}

/* True while a run of one of 'p''s checks is on a worker. */
static bool plugin_busy(const struct plugin_host *h, const struct chorus_plugin_ctx *p)
{
	for (unsigned i = 0; i < h->nslots; i++)
		if (h->slots[i].check != NULL && h->slots[i].check->p == p)
			return true;
	return false;
}

static void plugin_ctx_free(struct chorus_plugin_ctx *p)
{
	free(p->name);
	free(p->path);
	free(p);
}

int plugin_host_new(qb_loop_t *loop, plugin_health_fn fn, void *ud, struct plugin_host **out)
{
	struct plugin_host *h;
	int rc;

	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	h->loop = loop;
	h->health_fn = fn;
	h->ud = ud;
	h->main_tid = pthread_self();
	rc = plugin_pool_new(PLUGIN_POOL_WORKERS, &h->pool);
	if (rc < 0)
		goto out_free;
	h->nslots = plugin_pool_size(h->pool);
	h->slots = calloc(h->nslots, sizeof(*h->slots));
	if (h->slots == NULL) {
		rc = -ENOMEM;
		goto out_pool;
	}
	rc = qb_loop_poll_add(loop, QB_LOOP_HIGH, plugin_pool_fd(h->pool), POLLIN, h,
			      plugin_check_dispatch);
	if (rc < 0)
		goto out_slots;
	*out = h;
	return 0;

out_slots:
	free(h->slots);
out_pool:
	plugin_pool_free(h->pool, 0);
out_free:
	free(h);
	return rc;
}

void plugin_host_set_node_id(struct plugin_host *h, uint32_t node_id)
{
	__atomic_store_n(&h->node_id, node_id, __ATOMIC_RELAXED);
}

static char *config_text(struct json_object *config)
{
	if (config == NULL)
		return strdup("{}");
	return strdup(json_object_to_json_string_ext(config, JSON_C_TO_STRING_PLAIN));
}

int plugin_host_load(struct plugin_host *h, const char *dir, const char *name,
		     struct json_object *config)
{
	struct chorus_plugin_ctx *p = NULL;
	chorus_plugin_entry_fn entry;
	const struct chorus_plugin *desc;
	char *path = NULL, *cfg = NULL;
	void *dl;
	int rc;

	if (strchr(name, '/') != NULL)
		rc = asprintf(&path, "%s", name);
	else
		rc = asprintf(&path, "%s/chorus-%s.so", dir ? dir : ".", name);
	if (rc < 0)
		return -ENOMEM;

	dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL) {
		rc = access(path, F_OK) == 0 ? -ELIBBAD : -ENOENT;
		qb_log(LOG_ERR, "plugin %s refused: cannot load: %s", path, dlerror());
		goto out;
	}
	*(void **)&entry = dlsym(dl, CHORUS_PLUGIN_ENTRY_SYMBOL);
	if (entry == NULL) {
		qb_log(LOG_ERR, "plugin %s refused: no " CHORUS_PLUGIN_ENTRY_SYMBOL
		       " symbol (not a chorus plugin?)", path);
		rc = -ENOEXEC;
		goto out_close;
	}
	desc = entry();
	if (desc == NULL) {
		qb_log(LOG_ERR, "plugin %s refused: " CHORUS_PLUGIN_ENTRY_SYMBOL "() returned NULL",
		       path);
		rc = -ENOEXEC;
		goto out_close;
	}
	if (desc->abi_version != CHORUS_PLUGIN_ABI_VERSION) {
		qb_log(LOG_ERR, "plugin %s refused: ABI version %u, chorusd supports version %u "
		       "(rebuild the plugin against this chorus)", path, desc->abi_version,
		       CHORUS_PLUGIN_ABI_VERSION);
		rc = -EPROTO;
		goto out_close;
	}
	if (desc->struct_size != sizeof(struct chorus_plugin)) {
		qb_log(LOG_ERR, "plugin %s refused: struct chorus_plugin is %u bytes, chorusd "
		       "expects %zu for ABI version %u (built against a different header)", path,
		       desc->struct_size, sizeof(struct chorus_plugin), CHORUS_PLUGIN_ABI_VERSION);
		rc = -EPROTO;
		goto out_close;
	}
	if (desc->name == NULL || desc->name[0] == '\0' || desc->init == NULL || desc->fini == NULL) {
		qb_log(LOG_ERR, "plugin %s refused: no name, init or fini", path);
		rc = -EINVAL;
		goto out_close;
	}
	for (struct chorus_plugin_ctx *q = h->plugins; q != NULL; q = q->next)
		if (strcmp(q->name, desc->name) == 0) {
			qb_log(LOG_ERR, "plugin %s refused: a plugin named %s is already loaded "
			       "from %s", path, desc->name, q->path);
			rc = -EEXIST;
			goto out_close;
		}

	p = calloc(1, sizeof(*p));
	cfg = config_text(config);
	if (p == NULL || cfg == NULL || (p->name = strdup(desc->name)) == NULL) {
		rc = -ENOMEM;
		goto out_close;
	}
	p->h = h;
	p->path = path;
	path = NULL;
	p->dl = dl;
	p->desc = desc;
	rc = desc->init(&host_api, p, cfg);
	if (rc != 0) {
		rc = rc < 0 ? rc : -EINVAL;
		qb_log(LOG_ERR, "plugin %s refused: init failed: %s " QB_XS " plugin=%s rc=%d",
		       p->path, strerror(-rc), p->name, rc);
		plugin_sweep(h, p);
		if (plugin_busy(h, p)) {
			/* A check it started is on a worker: keep the code mapped. */
			p->live = false;
			p->next = h->plugins;
			h->plugins = p;
			p = NULL;
			goto out;
		}
		goto out_close;
	}
	p->live = true;
	p->next = h->plugins;
	h->plugins = p;
	qb_log(LOG_INFO, "plugin %s loaded from %s", p->name, p->path);
	p = NULL;
	rc = 0;
	goto out;

out_close:
	dlclose(dl);
out:
	if (p != NULL)
		plugin_ctx_free(p);
	free(cfg);
	free(path);
	return rc;
}

int plugin_host_reconfigure(struct plugin_host *h, const char *name, struct json_object *config)
{
	struct chorus_plugin_ctx *p;
	char *cfg;
	int rc;

	for (p = h->plugins; p != NULL; p = p->next)
		if (p->live && strcmp(p->name, name) == 0)
			break;
	if (p == NULL)
		return -ENOENT;
	cfg = config_text(config);
	if (cfg == NULL)
		return -ENOMEM;
	if (p->desc->reconfigure != NULL) {
		rc = p->desc->reconfigure(&host_api, p, cfg);
		if (rc != 0)
			qb_log(LOG_ERR, "plugin %s: new configuration refused, keeping the old one "
			       QB_XS " rc=%d", p->name, rc);
	} else {
		p->desc->fini(&host_api, p);
		plugin_sweep(h, p);
		p->priv = NULL;
		rc = p->desc->init(&host_api, p, cfg);
		if (rc != 0) {
			qb_log(LOG_ERR, "plugin %s: init with the new configuration failed; plugin "
			       "stopped " QB_XS " rc=%d", p->name, rc);
			plugin_sweep(h, p);
			p->live = false;
		}
	}
	free(cfg);
	return rc < 0 ? rc : rc > 0 ? -EINVAL : 0;
}

void plugin_host_free(struct plugin_host *h)
{
	unsigned left;

	if (h == NULL)
		return;
	for (struct plugin_check *c = h->checks, *n; c != NULL; c = n) {
		n = c->next;
		plugin_check_cancel(h, c);
	}
	qb_loop_poll_del(h->loop, plugin_pool_fd(h->pool));
	/* Runs in progress get a bounded wait: the plugin's code must stay
	 * mapped while a thread is in it. */
	left = plugin_pool_free(h->pool, PLUGIN_FREE_WAIT_MS);
	if (left > 0)
		qb_log(LOG_WARNING, "%u check worker(s) still hung at shutdown; their plugins "
		       "and the host state they reach are left in memory", left);
	for (struct chorus_plugin_ctx *p = h->plugins, *n; p != NULL; p = n) {
		bool busy = false;

		n = p->next;
		if (left > 0)
			busy = plugin_busy(h, p);
		if (busy) {
			qb_log(LOG_WARNING, "plugin %s left loaded: a check is still running",
			       p->name);
			continue;	/* leaked on purpose */
		}
		if (p->live)
			p->desc->fini(&host_api, p);
		plugin_sweep(h, p);
		dlclose(p->dl);
		plugin_ctx_free(p);
	}
	/* A thread still in a check holds its ctx, which reaches the host
	 * (api->log from the thread): leave all that, the process is ending. */
	if (left > 0)
		return;
	for (unsigned i = 0; i < h->nslots; i++)
		if (h->slots[i].check != NULL)
			plugin_check_free(h->slots[i].check);
	for (size_t i = 0; i < h->nscopes; i++) {
		free(h->scopes[i].name);
		free(h->scopes[i].plugin);
	}
	free(h->scopes);
	free(h->slots);
	free(h);
}
