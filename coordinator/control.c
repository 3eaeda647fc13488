/*
 * Control socket server: newline-delimited JSON on a Unix stream socket,
 * on the daemon's qb_loop.
 *
 * How it works.  The listening socket and every client are non-blocking
 * poll entries.  A client has an input buffer (at most one request line,
 * CONTROL_REQ_MAX bytes, plus its newline) and an output queue (at most
 * 'max_output' bytes).  Each complete line goes through control_proto_parse():
 * malformed ones are answered here, well-formed ones go to the handler,
 * which answers now or later through control_reply()/control_error().
 * Replies are written at once when the socket takes them; what it does not
 * take waits in the queue with POLLOUT armed.  A client whose queue would
 * pass 'max_output' is not reading: it is dropped.
 *
 * Bounds, so that no client can cost more than a fixed amount:
 *   - clients: 'max_clients'; one more is told "busy" and closed.
 *   - input: a line longer than CONTROL_REQ_MAX is answered with an error
 *     and the client closed once the answer is out.
 *   - work: at most CONTROL_INFLIGHT_MAX requests per client await their
 *     answer; past that the client's further lines wait in its buffer (and
 *     then in the kernel), so a pipelining client throttles itself.
 *   - time: one periodic tick closes clients idle for 'idle_timeout_ms'
 *     (subscribers and clients awaiting an answer excepted).
 *
 * Lifetime.  Clients are never freed inside a callback that might still
 * hold them (a handler may answer from inside the dispatch that called it,
 * and a failed write there drops the client).  Dropping a client removes it
 * from the loop and closes its fd at once, but only marks it dead; a job
 * on the next loop iteration frees the dead ones.  The same job resumes clients whose
 * buffered lines were held back by the in-flight limit.
 *
 * Half-close.  A client that shuts down its sending side (what
 * `socat - UNIX-CONNECT:...` does at the end of its input) still gets the
 * answers it asked for, and the event stream if it subscribed; a request
 * cut short by the end of input is dropped without a word.
 */
#include "control.h"
#include "control_proto.h"
#include "control_sock.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qb/qbdefs.h>
#include <qb/qblog.h>
#include <qb/qbutil.h>

#define CONTROL_DEF_CLIENTS 64
#define CONTROL_DEF_IDLE_MS 60000
#define CONTROL_DEF_OUTPUT (4 * 1024 * 1024)
#define CONTROL_INFLIGHT_MAX 16	     /* answers a client may await at once */
#define CONTROL_IN_SIZE (CONTROL_REQ_MAX + 1) /* a longest line and its newline */
#define CONTROL_IN_INITIAL 4096
#define CONTROL_READS_PER_DISPATCH 4 /* then let other clients have a turn */
#define CONTROL_ACCEPTS_PER_DISPATCH 16
#define CONTROL_LOG_BURST 5	     /* log lines per client before debug only */
#define CONTROL_LOG_QUIET_MS 60000   /* per-daemon messages at most this often */
#define CONTROL_TICK_MAX_MS 1000
#define CONTROL_TICK_MIN_MS 10

struct ctl_client {
	struct ctl_client *next;
	struct control *ctl;
	uint64_t id;
	int fd;
	int events;			/* what the poll entry asks for now */
	bool dead;			/* dropped; freed by the job */
	bool rd_eof;			/* peer shut down its side */
	bool closing;			/* say nothing more, close once flushed */
	bool subscriber;
	bool privileged;
	bool resume;			/* has lines held back by the limit */
	uint32_t inflight;
	uint32_t logged;
	uint64_t last_ms;		/* last activity, for the idle timeout */
	struct ucred cred;
	char *in;
	size_t in_len, in_cap;
	char *out;
	size_t out_off, out_len, out_cap; /* pending bytes: out[out_off..out_len) */
};

struct control {
	qb_loop_t *loop;
	struct control_config cfg;
	control_handler_fn fn;
	void *ud;
	int lfd;
	bool accept_paused;		/* out of fds: wait for the next tick */
	struct stat sock_st;		/* to unlink only our own socket */
	struct ctl_client *clients;
	uint32_t nclients;		/* live ones */
	uint64_t next_id;
	qb_loop_timer_handle tick;
	bool job_queued;
	qb_loop_timer_handle job;	/* a timer due at once: see ctl_job_queue() */
	uint64_t busy_log_ms;		/* rate limit of the "busy" notice */
	uint32_t busy_suppressed;
};

static void ctl_job(void *data);
static int32_t ctl_client_dispatch(int32_t fd, int32_t revents, void *data);

static uint64_t ctl_now_ms(void)
{
	return qb_util_nano_current_get() / QB_TIME_NS_IN_MSEC;
}

/* Log about a client: the first CONTROL_LOG_BURST lines at 'lvl', the rest at
 * debug, so a client sending garbage in a loop cannot flood syslog. */
__attribute__((format(printf, 3, 4)))
static void ctl_client_log(struct ctl_client *c, int lvl, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	if (c->logged >= CONTROL_LOG_BURST)
		lvl = LOG_DEBUG;
	else if (lvl < LOG_DEBUG)
		c->logged++;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	qb_log(lvl, "control: client %" PRIu64 " (pid %d uid %u): %s", c->id, (int)c->cred.pid,
	       (unsigned)c->cred.uid, buf);
}

/* The job runs from a timer due at once rather than a qb_loop job: a job
 * cannot be cancelled without leaking it (libqb 2.0 unlinks it from the
 * queue in qb_loop_job_del() but never frees it), and control_free() must
 * cancel a pending one. */
static void ctl_job_queue(struct control *ctl)
{
	if (ctl->job_queued)
		return;
	if (qb_loop_timer_add(ctl->loop, QB_LOOP_MED, 0, ctl, ctl_job, &ctl->job) == 0)
		ctl->job_queued = true;
}

/* Take 'c' off the loop and close it; the memory goes in ctl_job(). */
static void ctl_client_drop(struct ctl_client *c)
{
	if (c->dead)
		return;
	qb_loop_poll_del(c->ctl->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	c->dead = true;
	c->ctl->nclients--;
	ctl_job_queue(c->ctl);
}

/* Ask the loop for what 'c' can use now: input unless it is finished,
 * throttled or closing; output while anything is queued. */
static void ctl_client_update(struct ctl_client *c)
{
	int ev = 0;

	if (c->dead)
		return;
	if (!c->rd_eof && !c->closing && !c->resume && c->inflight < CONTROL_INFLIGHT_MAX)
		ev |= POLLIN;
	if (c->out_len > c->out_off)
		ev |= POLLOUT;
	if (ev == c->events)
		return;
	if (qb_loop_poll_mod(c->ctl->loop, QB_LOOP_MED, c->fd, ev, c, ctl_client_dispatch) != 0) {
		ctl_client_log(c, LOG_ERR, "cannot update poll events, dropping");
		ctl_client_drop(c);
		return;
	}
	c->events = ev;
}

/* A finished client goes once everything it is owed has been written:
 * after a fatal error ('closing'), or after the peer's end of input when
 * no answer and no event stream is still due. */
static void ctl_client_maybe_done(struct ctl_client *c)
{
	if (c->dead || c->out_len > c->out_off)
		return;
	if (c->closing || (c->rd_eof && c->inflight == 0 && !c->subscriber))
		ctl_client_drop(c);
}

/* Write what the socket takes.  Returns false if the client was dropped. */
static bool ctl_client_flush(struct ctl_client *c)
{
	ssize_t n;

	while (!c->dead && c->out_len > c->out_off) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			ctl_client_log(c, LOG_DEBUG, "write failed: %s", strerror(errno));
			ctl_client_drop(c);
			return false;
		}
		c->out_off += (size_t)n;
		c->last_ms = ctl_now_ms();
	}
	if (c->dead)
		return false;
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	ctl_client_maybe_done(c);
	ctl_client_update(c);
	return !c->dead;
}

/* Append one encoded line to the client's queue.  The queue holds at most
 * 'max_output' bytes; a client that lets it fill up is not reading and is
 * dropped.  With 'flush' the line is written at once if the socket takes it. */
static void ctl_client_queue(struct ctl_client *c, const char *line, size_t size, bool flush)
{
	size_t pending, cap;
	char *p;

	if (c->dead)
		return;
	pending = c->out_len - c->out_off;
	if (size > c->ctl->cfg.max_output || pending > c->ctl->cfg.max_output - size) {
		ctl_client_log(c, LOG_WARNING,
			       "not reading its output (%zu bytes queued), dropping " QB_XS
			       " max_output=%zu",
			       pending, c->ctl->cfg.max_output);
		ctl_client_drop(c);
		return;
	}
	if (c->out_off > 0 && c->out_len + size > c->out_cap) {
		memmove(c->out, c->out + c->out_off, pending);
		c->out_off = 0;
		c->out_len = pending;
	}
	if (c->out_len + size > c->out_cap) {
		cap = c->out_cap != 0 ? c->out_cap : 4096;
		while (cap < c->out_len + size)
			cap *= 2;
		p = realloc(c->out, cap);
		if (p == NULL) {
			ctl_client_log(c, LOG_ERR, "out of memory, dropping");
			ctl_client_drop(c);
			return;
		}
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, line, size);
	c->out_len += size;
	if (flush && !c->rd_eof)
		ctl_client_flush(c);
	else
		ctl_client_update(c);
}

/* Queue an error line from this module (not from the handler). */
static void ctl_client_error(struct ctl_client *c, const char *id, const char *code,
			     const char *msg)
{
	size_t size;
	char *line = control_proto_error(id, code, msg, &size);

	if (line == NULL) {
		ctl_client_drop(c);
		return;
	}
	ctl_client_queue(c, line, size, true);
	free(line);
}

static struct ctl_client *ctl_client_find(struct control *ctl, uint64_t client)
{
	struct ctl_client *c;

	for (c = ctl->clients; c != NULL; c = c->next)
		if (c->id == client && !c->dead)
			return c;
	return NULL;
}

static void ctl_client_request(struct ctl_client *c, const char *line, size_t size)
{
	struct control_proto_req pr;
	struct control_request req;
	char msg[CONTROL_PROTO_MSG_SIZE];
	int rc;

	rc = control_proto_parse(line, size, &pr, msg, sizeof(msg));
	if (rc != 0) {
		ctl_client_log(c, LOG_NOTICE, "bad request: %s", msg);
		ctl_client_error(c, pr.id, rc == -ENOMEM ? "internal" : "bad_request", msg);
		control_proto_req_clear(&pr);
		return;
	}
	memset(&req, 0, sizeof(req));
	req.client = c->id;
	req.id = pr.id;
	req.cmd = pr.cmd;
	req.args = pr.args;
	req.privileged = c->privileged;
	req.uid = c->cred.uid;
	req.gid = c->cred.gid;
	req.pid = c->cred.pid;
	c->inflight++;
	c->ctl->fn(c->ctl->ud, &req);
	control_proto_req_clear(&pr);
}

/* Hand each complete buffered line to the parser, as far as the in-flight
 * limit allows, then keep what is left (a partial line) at the start. */
static void ctl_client_lines(struct ctl_client *c)
{
	size_t off = 0;
	char *nl;

	c->resume = false;
	while (!c->dead && !c->closing && off < c->in_len) {
		if (c->inflight >= CONTROL_INFLIGHT_MAX) {
			c->resume = true;	/* control_reply() picks it up */
			break;
		}
		nl = memchr(c->in + off, '\n', c->in_len - off);
		if (nl == NULL)
			break;
		ctl_client_request(c, c->in + off, (size_t)(nl - (c->in + off)));
		off = (size_t)(nl - c->in) + 1;
	}
	if (c->dead)
		return;
	if (off > 0) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	if (!c->closing && !c->resume && c->in_len >= CONTROL_IN_SIZE) {
		ctl_client_log(c, LOG_NOTICE, "request longer than %d bytes, closing",
			       CONTROL_REQ_MAX);
		c->in_len = 0;
		c->closing = true;
		ctl_client_error(c, "", "bad_request", "request longer than 65536 bytes");
	}
	if (!c->dead) {
		ctl_client_maybe_done(c);
		ctl_client_update(c);
	}
}

/* Read what is there, a few times at most so that one busy client cannot
 * starve the others (the poll is level-triggered: the rest comes next). */
static void ctl_client_read(struct ctl_client *c)
{
	size_t cap;
	ssize_t n;
	char *p;
	int i;

	for (i = 0; i < CONTROL_READS_PER_DISPATCH; i++) {
		if (c->dead || c->rd_eof || c->closing || c->resume)
			return;
		if (c->in_len == c->in_cap) {
			cap = c->in_cap != 0 ? c->in_cap * 2 : CONTROL_IN_INITIAL;
			if (cap > CONTROL_IN_SIZE)
				cap = CONTROL_IN_SIZE;
			p = realloc(c->in, cap);
			if (p == NULL) {
				ctl_client_log(c, LOG_ERR, "out of memory, dropping");
				ctl_client_drop(c);
				return;
			}
			c->in = p;
			c->in_cap = cap;
		}
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			ctl_client_log(c, LOG_DEBUG, "read failed: %s", strerror(errno));
			ctl_client_drop(c);
			return;
		}
		if (n == 0) {
			/* A partial last line is a request the client gave up
			 * on: nobody is waiting for its answer. */
			c->rd_eof = true;
			c->in_len = 0;
			ctl_client_maybe_done(c);
			ctl_client_update(c);
			return;
		}
		c->in_len += (size_t)n;
		c->last_ms = ctl_now_ms();
		ctl_client_lines(c);
	}
}

static int32_t ctl_client_dispatch(int32_t fd, int32_t revents, void *data)
{
	struct ctl_client *c = data;

	if (c->dead || c->fd != fd)
		return 0;
	if (revents & POLLERR) {
		ctl_client_drop(c);
		return 0;
	}
	if ((revents & POLLIN) && (c->events & POLLIN))
		ctl_client_read(c);
	if (!c->dead && (revents & POLLOUT))
		ctl_client_flush(c);
	/* Hang-up: the peer is gone in both directions, so nothing more
	 * can be read or delivered. */
	if (!c->dead && (revents & POLLHUP) && !((revents & POLLIN) && (c->events & POLLIN)))
		ctl_client_drop(c);
	return 0;
}

/* Tell a client over the limit why it is refused, without waiting: the
 * line is far smaller than an empty socket buffer. */
static void ctl_refuse_busy(struct control *ctl, int fd)
{
	size_t size;
	char *line = control_proto_error("", "busy", "too many clients", &size);
	uint64_t now = ctl_now_ms();
	ssize_t n;

	if (line != NULL) {
		n = send(fd, line, size, MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)n;
		free(line);
	}
	close(fd);
	if (ctl->busy_log_ms == 0 || now - ctl->busy_log_ms >= CONTROL_LOG_QUIET_MS) {
		qb_log(LOG_WARNING, "control: refusing clients, %u already connected " QB_XS
				    " refused_since_last=%u",
		       ctl->nclients, ctl->busy_suppressed + 1);
		ctl->busy_log_ms = now;
		ctl->busy_suppressed = 0;
	} else {
		ctl->busy_suppressed++;
	}
}

static void ctl_client_add(struct control *ctl, int fd)
{
	struct ctl_client *c;
	socklen_t len;
	gid_t ag = ctl->cfg.admin_group;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	c->ctl = ctl;
	c->fd = fd;
	c->id = ++ctl->next_id;
	c->last_ms = ctl_now_ms();
	len = sizeof(c->cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) != 0) {
		qb_log(LOG_WARNING, "control: no peer credentials, closing " QB_XS " errno=%d",
		       errno);
		close(fd);
		free(c);
		return;
	}
	c->privileged = c->cred.uid == 0 ||
			(ag != (gid_t)-1 &&
			 (c->cred.gid == ag || control_sock_peer_in_group(fd, c->cred.pid, ag)));
	if (qb_loop_poll_add(ctl->loop, QB_LOOP_MED, fd, POLLIN, c, ctl_client_dispatch) != 0) {
		qb_log(LOG_ERR, "control: cannot poll a client, closing");
		close(fd);
		free(c);
		return;
	}
	c->events = POLLIN;
	c->next = ctl->clients;
	ctl->clients = c;
	ctl->nclients++;
	ctl_client_log(c, LOG_DEBUG, "connected%s", c->privileged ? ", privileged" : "");
}

static int32_t ctl_accept_dispatch(int32_t fd, int32_t revents, void *data)
{
	struct control *ctl = data;
	int i, cfd;

	for (i = 0; i < CONTROL_ACCEPTS_PER_DISPATCH; i++) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* The pending connection stays pending and
				 * the poll would fire at once, forever: wait
				 * for the tick instead. */
				qb_log(LOG_ERR, "control: cannot accept: %s", strerror(errno));
				if (qb_loop_poll_mod(ctl->loop, QB_LOOP_MED, fd, 0, ctl,
						     ctl_accept_dispatch) == 0)
					ctl->accept_paused = true;
			}
			return 0;
		}
		if (ctl->nclients >= ctl->cfg.max_clients)
			ctl_refuse_busy(ctl, cfd);
		else
			ctl_client_add(ctl, cfd);
	}
	return 0;
}

/* The job: free dropped clients and feed lines that waited for the
 * in-flight limit.  Queued whenever there is either to do. */
static void ctl_job(void *data)
{
	struct control *ctl = data;
	struct ctl_client **pp, *c;

	ctl->job_queued = false;
	for (c = ctl->clients; c != NULL; c = c->next)
		if (!c->dead && c->resume && c->inflight < CONTROL_INFLIGHT_MAX)
			ctl_client_lines(c);
	pp = &ctl->clients;
	while ((c = *pp) != NULL) {
		if (c->dead) {
			*pp = c->next;
			free(c->in);
			free(c->out);
			free(c);
		} else {
			pp = &c->next;
		}
	}
}

static uint32_t ctl_tick_ms(const struct control *ctl)
{
	uint32_t ms = ctl->cfg.idle_timeout_ms / 4;

	if (ms > CONTROL_TICK_MAX_MS)
		ms = CONTROL_TICK_MAX_MS;
	if (ms < CONTROL_TICK_MIN_MS)
		ms = CONTROL_TICK_MIN_MS;
	return ms;
}

/* The one periodic timer: idle clients go, paused accepts resume.  A
 * client is idle when it has neither sent nor been sent anything for
 * 'idle_timeout_ms', and is neither subscribed nor awaiting an answer
 * (a closing client awaits nothing: it is only owed its error line). */
static void ctl_tick(void *data)
{
	struct control *ctl = data;
	struct ctl_client *c;
	uint64_t now = ctl_now_ms();

	for (c = ctl->clients; c != NULL; c = c->next) {
		if (c->dead || now - c->last_ms < ctl->cfg.idle_timeout_ms)
			continue;
		if (!c->closing && (c->subscriber || c->inflight > 0))
			continue;
		ctl_client_log(c, LOG_DEBUG, "idle for %" PRIu64 " ms, closing", now - c->last_ms);
		ctl_client_drop(c);
	}
	if (ctl->accept_paused &&
	    qb_loop_poll_mod(ctl->loop, QB_LOOP_MED, ctl->lfd, POLLIN, ctl,
			     ctl_accept_dispatch) == 0)
		ctl->accept_paused = false;
	if (qb_loop_timer_add(ctl->loop, QB_LOOP_LOW, (uint64_t)ctl_tick_ms(ctl) * QB_TIME_NS_IN_MSEC,
			      ctl, ctl_tick, &ctl->tick) != 0) {
		ctl->tick = 0;
		qb_log(LOG_ERR, "control: cannot re-arm the idle timer; idle clients stay");
	}
}

int control_new(qb_loop_t *loop, const struct control_config *cfg, control_handler_fn fn,
		void *ud, struct control **out)
{
	struct control *ctl;
	size_t len = strnlen(cfg->path, sizeof(cfg->path));
	int rc;

	*out = NULL;
	if (loop == NULL || fn == NULL || len == 0 || len >= sizeof(cfg->path))
		return -EINVAL;
	ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL)
		return -ENOMEM;
	ctl->loop = loop;
	ctl->cfg = *cfg;
	ctl->fn = fn;
	ctl->ud = ud;
	ctl->lfd = -1;
	/* Zero means "the default", so a config struct that only names the
	 * path works. */
	if (ctl->cfg.max_clients == 0)
		ctl->cfg.max_clients = CONTROL_DEF_CLIENTS;
	if (ctl->cfg.idle_timeout_ms == 0)
		ctl->cfg.idle_timeout_ms = CONTROL_DEF_IDLE_MS;
	if (ctl->cfg.max_output == 0)
		ctl->cfg.max_output = CONTROL_DEF_OUTPUT;
	rc = control_sock_listen(ctl->cfg.path, ctl->cfg.group, &ctl->sock_st);
	if (rc >= 0) {
		ctl->lfd = rc;
		rc = 0;
	} else {
		qb_log(LOG_ERR, "control: cannot listen on %s: %s", ctl->cfg.path, strerror(-rc));
		free(ctl);
		return rc;
	}
	rc = qb_loop_poll_add(loop, QB_LOOP_MED, ctl->lfd, POLLIN, ctl, ctl_accept_dispatch);
	if (rc != 0)
		goto out_free;
	rc = qb_loop_timer_add(loop, QB_LOOP_LOW, (uint64_t)ctl_tick_ms(ctl) * QB_TIME_NS_IN_MSEC,
			       ctl, ctl_tick, &ctl->tick);
	if (rc != 0) {
		qb_loop_poll_del(loop, ctl->lfd);
		goto out_free;
	}
	qb_log(LOG_INFO, "control: listening on %s", ctl->cfg.path);
	*out = ctl;
	return 0;

out_free:
	qb_log(LOG_ERR, "control: cannot add to the loop " QB_XS " rc=%d", rc);
	close(ctl->lfd);
	control_sock_unlink(ctl->cfg.path, &ctl->sock_st);
	free(ctl);
	return rc;
}

void control_free(struct control *ctl)
{
	struct ctl_client *c;

	if (ctl == NULL)
		return;
	for (c = ctl->clients; c != NULL; c = c->next)
		ctl_client_drop(c);
	if (ctl->job_queued)
		qb_loop_timer_del(ctl->loop, ctl->job);
	ctl_job(ctl);
	if (ctl->tick != 0)
		qb_loop_timer_del(ctl->loop, ctl->tick);
	qb_loop_poll_del(ctl->loop, ctl->lfd);
	close(ctl->lfd);
	/* Only if it is still ours: a daemon started after us may have
	 * replaced it. */
	control_sock_unlink(ctl->cfg.path, &ctl->sock_st);
	free(ctl);
}

/* Queue an answer the handler owes.  Writing it at once is what keeps
 * status fast; a client that has half-closed is only written to from its
 * poll dispatch, after the handler returns, so that a subscription made
 * right after the answer is seen before the client could be closed. */
static int ctl_answer(struct control *ctl, uint64_t client, char *line, size_t size)
{
	struct ctl_client *c = ctl_client_find(ctl, client);

	if (c == NULL) {
		free(line);
		return -ENOENT;
	}
	if (line == NULL) {
		ctl_client_log(c, LOG_ERR, "out of memory for an answer, dropping");
		ctl_client_drop(c);
		return -ENOMEM;
	}
	if (c->inflight > 0)
		c->inflight--;
	c->last_ms = ctl_now_ms();
	ctl_client_queue(c, line, size, true);
	free(line);
	if (!c->dead && c->resume && c->inflight < CONTROL_INFLIGHT_MAX)
		ctl_job_queue(ctl);
	return 0;
}

int control_reply(struct control *ctl, uint64_t client, const char *id,
		  struct json_object *result)
{
	size_t size = 0;
	char *line = control_proto_reply(id, result, &size);

	json_object_put(result);
	return ctl_answer(ctl, client, line, size);
}

int control_error(struct control *ctl, uint64_t client, const char *id, const char *code,
		  const char *fmt, ...)
{
	char msg[512], *line;
	size_t size = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	line = control_proto_error(id, code, msg, &size);
	return ctl_answer(ctl, client, line, size);
}

int control_subscribe(struct control *ctl, uint64_t client)
{
	struct ctl_client *c = ctl_client_find(ctl, client);

	if (c == NULL)
		return -ENOENT;
	c->subscriber = true;
	return 0;
}

void control_publish(struct control *ctl, struct json_object *event)
{
	struct ctl_client *c;
	size_t size = 0;
	char *line = NULL;

	for (c = ctl->clients; c != NULL; c = c->next) {
		if (c->dead || !c->subscriber || c->closing)
			continue;
		if (line == NULL) {
			line = control_proto_event(event, &size);
			if (line == NULL) {
				qb_log(LOG_ERR, "control: out of memory for an event");
				break;
			}
		}
		ctl_client_queue(c, line, size, true);
	}
	free(line);
	json_object_put(event);
}

uint32_t control_client_count(const struct control *ctl)
{
	return ctl->nclients;
}
