/*
 * Internals of the plugin host shared by plugin.c, plugin_worker.c and the
 * unit tests: the hysteresis counter and the worker pool.
 */
#ifndef CHORUS_PLUGIN_PRIVATE_H
#define CHORUS_PLUGIN_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <qb/qbloop.h>

#include <chorus/plugin.h>

#include "plugin/plugin.h"

/*
 * Hysteresis over samples.  A scope leaves ok after 'fail_after' consecutive
 * bad samples (failed if they were all failed, else degraded) and returns to
 * ok after 'recover_after' consecutive good ones; a failed scope becomes
 * degraded after 'recover_after' consecutive degraded samples.  Anything that
 * alternates faster than that does not flip the verdict.
 */
struct plugin_hyst {
	uint32_t fail_after;
	uint32_t recover_after;
	uint32_t n_good;		/* consecutive ok samples */
	uint32_t n_degraded;		/* consecutive degraded samples */
	uint32_t n_failed;		/* consecutive failed samples */
	uint32_t n_bad;			/* consecutive degraded-or-failed samples */
	enum plugin_health health;	/* current verdict */
};

void plugin_hyst_init(struct plugin_hyst *hy, uint32_t fail_after, uint32_t recover_after);
/* Feed one sample; true if the verdict (hy->health) changed. */
bool plugin_hyst_step(struct plugin_hyst *hy, enum plugin_health sample);

/*
 * Worker pool: a fixed number of threads created once; they never grow.
 * The main loop hands a job to an idle slot; the thread runs it and writes
 * the result, as one fixed-size message (atomic: smaller than PIPE_BUF), to
 * a pipe whose read end the main loop polls.  Other threads' log lines come
 * back the same way, since qb_log is not thread-safe here.
 *
 * The pool is reference counted by its threads, so a thread still stuck in
 * a check when the host is freed finds its pipe and its slot alive.
 */
#define PLUGIN_POOL_WORKERS 4u
#define PLUGIN_MSG_TEXT_SIZE 448u

enum plugin_msg_type {
	PLUGIN_MSG_RESULT = 1,
	PLUGIN_MSG_LOG = 2,
};

struct plugin_msg {
	uint32_t type;
	uint32_t slot;
	uint64_t gen;			/* job generation, for RESULT */
	int32_t value;			/* enum chorus_health or log level */
	char text[PLUGIN_MSG_TEXT_SIZE];
};

struct plugin_pool;

int plugin_pool_new(unsigned nworkers, struct plugin_pool **out);
/* Read end of the result pipe (non-blocking), for qb_loop_poll_add. */
int plugin_pool_fd(const struct plugin_pool *pool);
unsigned plugin_pool_size(const struct plugin_pool *pool);
/* Give 'slot' (idle, as the caller knows from the results it has read) the
 * job fn(ctx, arg); its result comes back with 'gen'. */
void plugin_pool_submit(struct plugin_pool *pool, unsigned slot, uint64_t gen,
			chorus_check_fn fn, struct chorus_plugin_ctx *ctx, void *arg);
/* Read one message: 1 if 'm' was filled, 0 if none is pending, -errno. */
int plugin_pool_read(struct plugin_pool *pool, struct plugin_msg *m);
/* From any thread but the main one: pass a log line to the loop. */
void plugin_pool_log(struct plugin_pool *pool, int level, const char *text);
/* Stop the threads, waiting at most 'wait_ms' for busy ones; threads still
 * busy are detached and free the pool when they return.  Returns how many
 * were left behind. */
unsigned plugin_pool_free(struct plugin_pool *pool, unsigned wait_ms);

/* ---- the host's state (plugin.c, plugin_check.c) ---- */

struct plugin_host;
struct plugin_timer;
struct plugin_fd;

struct chorus_plugin_ctx {
	struct chorus_plugin_ctx *next;
	struct plugin_host *h;
	char *name;			/* the plugin's own name */
	char *path;
	void *dl;
	const struct chorus_plugin *desc;
	void *priv;
	bool live;			/* init returned 0, fini not yet called */
};

enum check_run {
	CHECK_IDLE,
	CHECK_QUEUED,
	CHECK_RUNNING,
	CHECK_HUNG,			/* past its timeout, slot stuck */
};

struct plugin_check {
	struct plugin_check *next;		/* host->checks */
	struct plugin_check *qnext;		/* host->queue */
	struct chorus_plugin_ctx *p;
	int id;
	char *scope;
	uint32_t interval_ms;
	uint32_t timeout_ms;
	chorus_check_fn fn;
	void *arg;
	struct plugin_hyst hyst;
	qb_loop_timer_handle tick;
	bool tick_armed;
	qb_loop_timer_handle tmo;
	bool tmo_armed;
	enum check_run run;
	uint64_t run_start_ms;
	bool cancelled;			/* off the list; freed when its run returns */
};

struct plugin_run_slot {
	struct plugin_check *check;		/* NULL: idle */
	uint64_t gen;
	bool stuck;
};

struct plugin_scope_rec {
	char *name;
	char *plugin;
	enum plugin_health health;
	char reason[CHORUS_REASON_SIZE];
	uint64_t since_ms;
};

struct plugin_host {
	qb_loop_t *loop;
	plugin_health_fn health_fn;
	plugin_load_fn load_fn;
	void *ud;
	pthread_t main_tid;
	uint32_t node_id;
	struct chorus_plugin_ctx *plugins;
	struct plugin_check *checks;
	struct plugin_check *queue;		/* FIFO of CHECK_QUEUED */
	struct plugin_timer *timers;
	struct plugin_fd *fds;
	int next_id;
	struct plugin_pool *pool;
	struct plugin_run_slot *slots;
	unsigned nslots;
	uint64_t next_gen;
	struct plugin_scope_rec *scopes;
	size_t nscopes;
};

/* plugin.c */
uint64_t plugin_now_ms(void);
/* True (and logged) if called off the loop thread. */
bool plugin_off_loop(struct chorus_plugin_ctx *p, const char *what);
/* qb_log with a level chosen at run time (a plugin's). */
void plugin_qb_log(int level, const char *text);
const char *plugin_health_name(enum plugin_health health);
struct plugin_scope_rec *plugin_scope_find(struct plugin_host *h, const char *name);
/* Record a verdict for scope 'name'; tells the daemon when the health
 * changes (a new scope starts ok).  Only the reason changes otherwise. */
int plugin_scope_set(struct plugin_host *h, struct chorus_plugin_ctx *p, const char *name,
		     enum plugin_health health, const char *reason);

/* plugin_check.c: the check functions of the host API, and the pool's
 * pipe dispatch (registered by plugin_host_new). */
int plugin_check_schedule(struct chorus_plugin_ctx *p, const char *scope, uint32_t interval_ms,
			  uint32_t timeout_ms, chorus_check_fn fn, void *arg);
struct plugin_check *plugin_check_find(struct chorus_plugin_ctx *p, int id);
int plugin_check_set_hysteresis(struct chorus_plugin_ctx *p, int id, uint32_t fail_after,
				uint32_t recover_after);
int plugin_check_cancel_id(struct chorus_plugin_ctx *p, int id);
/* Stop 'c'; freed now, or when its run in progress returns. */
void plugin_check_cancel(struct plugin_host *h, struct plugin_check *c);
void plugin_check_free(struct plugin_check *c);
int32_t plugin_check_dispatch(int32_t fd, int32_t revents, void *data);

#endif
