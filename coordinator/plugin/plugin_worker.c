/*
 * The plugin host's worker pool (see plugin_private.h).
 *
 * Each slot has one thread and at most one job.  The main loop decides which
 * slot is idle from the results it has read, never from the threads' state,
 * so a job is handed only to a thread that has finished its previous one:
 * the thread clears its job under the lock before it writes the result, and
 * the main loop can only reuse the slot after reading that result.
 *
 * Threads block every signal, so qb_loop's handlers run on the main thread
 * and a write to the pipe never raises SIGPIPE.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "plugin/plugin_private.h"

struct plugin_slot {
	struct plugin_pool *pool;
	unsigned idx;
	pthread_t tid;
	bool started;
	bool has_job;
	bool busy;			/* running a job (for the bounded wait at free) */
	uint64_t gen;
	chorus_check_fn fn;
	struct chorus_plugin_ctx *ctx;
	void *arg;
};

struct plugin_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* a job was given, or stopping */
	pthread_cond_t idle_cv;		/* a thread finished a job */
	unsigned refs;			/* the owner + one per live thread */
	bool stopping;
	int rfd;
	int wfd;
	unsigned n;
	struct plugin_slot *slots;
};

static void pool_unref(struct plugin_pool *pool)
{
	bool last;

	pthread_mutex_lock(&pool->mu);
	last = --pool->refs == 0;
	pthread_mutex_unlock(&pool->mu);
	if (!last)
		return;
	close(pool->rfd);
	close(pool->wfd);
	pthread_cond_destroy(&pool->cv);
	pthread_cond_destroy(&pool->idle_cv);
	pthread_mutex_destroy(&pool->mu);
	free(pool->slots);
	free(pool);
}

/* A blocking write of one whole message: it is smaller than PIPE_BUF, so it
 * is atomic and never interleaves with another thread's. */
static void pool_post(struct plugin_pool *pool, const struct plugin_msg *m)
{
	ssize_t rc;

	do
		rc = write(pool->wfd, m, sizeof(*m));
	while (rc < 0 && errno == EINTR);
}

static void *pool_thread(void *data)
{
	struct plugin_slot *s = data;
	struct plugin_pool *pool = s->pool;
	struct plugin_msg m;
	chorus_check_fn fn;
	struct chorus_plugin_ctx *ctx;
	void *arg;
	uint64_t gen;

	for (;;) {
		pthread_mutex_lock(&pool->mu);
		while (!s->has_job && !pool->stopping)
			pthread_cond_wait(&pool->cv, &pool->mu);
		if (!s->has_job) {
			pthread_mutex_unlock(&pool->mu);
			break;
		}
		fn = s->fn;
		ctx = s->ctx;
		arg = s->arg;
		gen = s->gen;
		s->busy = true;
		pthread_mutex_unlock(&pool->mu);

		memset(&m, 0, sizeof(m));
		m.type = PLUGIN_MSG_RESULT;
		m.slot = s->idx;
		m.gen = gen;
		m.value = fn(ctx, arg, m.text, CHORUS_REASON_SIZE);
		m.text[CHORUS_REASON_SIZE - 1] = '\0';

		pthread_mutex_lock(&pool->mu);
		s->has_job = false;
		s->busy = false;
		pthread_cond_broadcast(&pool->idle_cv);
		pthread_mutex_unlock(&pool->mu);
		pool_post(pool, &m);
	}
	pool_unref(pool);
	return NULL;
}

int plugin_pool_new(unsigned nworkers, struct plugin_pool **out)
{
	struct plugin_pool *pool;
	sigset_t all, old;
	int fds[2];
	int rc;

	pool = calloc(1, sizeof(*pool));
	if (pool == NULL)
		return -ENOMEM;
	pool->slots = calloc(nworkers, sizeof(*pool->slots));
	if (pool->slots == NULL) {
		free(pool);
		return -ENOMEM;
	}
	if (pipe2(fds, O_CLOEXEC) < 0) {
		rc = -errno;
		free(pool->slots);
		free(pool);
		return rc;
	}
	pool->rfd = fds[0];
	pool->wfd = fds[1];
	(void)fcntl(pool->rfd, F_SETFL, O_NONBLOCK);
	pthread_mutex_init(&pool->mu, NULL);
	pthread_cond_init(&pool->cv, NULL);
	pthread_cond_init(&pool->idle_cv, NULL);
	pool->refs = 1;
	pool->n = nworkers;

	/* Threads inherit the creator's mask: block everything for them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = 0;
	for (unsigned i = 0; i < nworkers; i++) {
		struct plugin_slot *s = &pool->slots[i];

		s->pool = pool;
		s->idx = i;
		pthread_mutex_lock(&pool->mu);
		pool->refs++;
		pthread_mutex_unlock(&pool->mu);
		rc = -pthread_create(&s->tid, NULL, pool_thread, s);
		if (rc < 0) {
			pool->refs--;
			break;
		}
		s->started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc < 0) {
		plugin_pool_free(pool, 1000);
		return rc;
	}
	*out = pool;
	return 0;
}

int plugin_pool_fd(const struct plugin_pool *pool)
{
	return pool->rfd;
}

unsigned plugin_pool_size(const struct plugin_pool *pool)
{
	return pool->n;
}

void plugin_pool_submit(struct plugin_pool *pool, unsigned slot, uint64_t gen,
			chorus_check_fn fn, struct chorus_plugin_ctx *ctx, void *arg)
{
	struct plugin_slot *s = &pool->slots[slot];

	pthread_mutex_lock(&pool->mu);
	s->fn = fn;
	s->ctx = ctx;
	s->arg = arg;
	s->gen = gen;
	s->has_job = true;
	pthread_cond_broadcast(&pool->cv);
	pthread_mutex_unlock(&pool->mu);
}

int plugin_pool_read(struct plugin_pool *pool, struct plugin_msg *m)
{
	ssize_t rc;

	do
		rc = read(pool->rfd, m, sizeof(*m));
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return errno == EAGAIN ? 0 : -errno;
	if (rc != (ssize_t)sizeof(*m))
		return rc == 0 ? 0 : -EPROTO;
	m->text[sizeof(m->text) - 1] = '\0';
	return 1;
}

void plugin_pool_log(struct plugin_pool *pool, int level, const char *text)
{
	struct plugin_msg m;

	memset(&m, 0, sizeof(m));
	m.type = PLUGIN_MSG_LOG;
	m.value = level;
	strncpy(m.text, text, sizeof(m.text) - 1);
	pool_post(pool, &m);
}

unsigned plugin_pool_free(struct plugin_pool *pool, unsigned wait_ms)
{
	struct timespec deadline;
	unsigned left = 0;

	if (pool == NULL)
		return 0;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += wait_ms / 1000;
	deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&pool->mu);
	pool->stopping = true;
	/* Jobs given but not yet picked up are dropped. */
	for (unsigned i = 0; i < pool->n; i++)
		if (!pool->slots[i].busy)
			pool->slots[i].has_job = false;
	pthread_cond_broadcast(&pool->cv);
	pthread_mutex_unlock(&pool->mu);

	for (unsigned i = 0; i < pool->n; i++) {
		struct plugin_slot *s = &pool->slots[i];

		if (!s->started)
			continue;
		if (pthread_timedjoin_np(s->tid, NULL, &deadline) != 0) {
			pthread_detach(s->tid);
			left++;
		}
	}
	pool_unref(pool);
	return left;
}
