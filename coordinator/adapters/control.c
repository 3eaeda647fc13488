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
 * Bounds, so that no client can cost more than a fixed amount, and no
 * crowd of them can keep root out (the rules: control_policy.h):
 *   - who: a peer that is neither root nor in the admin or read group is
 *     told "permission_denied" at accept and closed, before taking a slot.
 *   - clients: 'max_clients' readers, 'reserved_clients' more slots that
 *     only root and the admin group may take, 'max_clients_per_uid' per
 *     uid but root's; one more is told "busy" and closed.  Refusals are
 *     logged at most once a minute per reason, with counts.
 *   - input: a line longer than CONTROL_REQ_MAX is answered with an error
 *     and the client closed once the answer is out; so is a client whose
 *     last CONTROL_BAD_MAX lines in a row were malformed.
 *   - work: at most CONTROL_INFLIGHT_MAX requests per client await their
 *     answer, and at most CONTROL_LINES_PER_DISPATCH lines of one client
 *     are handled per loop iteration; past either, the client's further
 *     lines wait in its buffer (and then in the kernel), so a pipelining
 *     client throttles itself and cannot hold the loop.
 *   - time: one periodic tick closes clients idle for 'idle_timeout_ms'
 *     (subscribers and clients awaiting an answer excepted), clients whose
 *     request line is unfinished 'request_timeout_ms' after its first byte,
 *     and clients that leave their output unread for 'idle_timeout_ms'.
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
#include "adapters/control.h"
#include "adapters/control_policy.h"
#include "adapters/control_proto.h"
#include "adapters/control_sock.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qb/qbdefs.h>
#include <qb/qblog.h>
#include <qb/qbutil.h>

#define CONTROL_DEF_CLIENTS 64
#define CONTROL_DEF_RESERVED 8
#define CONTROL_DEF_PER_UID 16
#define CONTROL_DEF_IDLE_MS 60000
#define CONTROL_DEF_REQUEST_MS 10000
#define CONTROL_DEF_OUTPUT (4 * 1024 * 1024)
#define CONTROL_INFLIGHT_MAX 16	     /* answers a client may await at once */
#define CONTROL_IN_SIZE (CONTROL_REQ_MAX + 1) /* a longest line and its newline */
#define CONTROL_IN_INITIAL 4096
#define CONTROL_READS_PER_DISPATCH 4 /* then let other clients have a turn */
#define CONTROL_LINES_PER_DISPATCH 16
#define CONTROL_BAD_MAX 32	     /* malformed lines in a row before closing */
#define CONTROL_ACCEPTS_PER_DISPATCH 16
#define CONTROL_LOG_BURST 5	     /* log lines per client before debug only */
#define CONTROL_LOG_WINDOW_MS 10000  /* and all clients together: */
#define CONTROL_LOG_WINDOW_MAX 20    /* at most this many lines per window */
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
	enum control_class cls;
	bool resume;			/* has lines held back by a limit */
	uint32_t inflight;
	uint32_t logged;
	uint32_t bad;			/* malformed lines in a row */
	uint64_t last_ms;		/* last activity, for the idle timeout */
	uint64_t partial_ms;		/* first byte of the unfinished line, or 0 */
	struct control_stall stall;	/* is it reading what it is sent? */
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
	struct control_stats st;
	uint64_t log_window_ms;		/* start of the client log window */
	uint32_t log_window_n;		/* client lines logged in it */
	uint32_t log_suppressed;	/* and demoted to debug */
	/* rate limit of the refusal notices, per reason: permission, busy, uid */
	uint64_t refuse_log_ms[3];
	uint32_t refuse_quiet[3];	/* refused since the reason's last notice */
};

static void ctl_job(void *data);
static int32_t ctl_client_dispatch(int32_t fd, int32_t revents, void *data);

static uint64_t ctl_now_ms(void)
{
	return qb_util_nano_current_get() / QB_TIME_NS_IN_MSEC;
}

/* May one more line about a client go to the log now?  Clients that
 * reconnect start with a fresh budget each, so there is a budget for all of
 * them together as well; what it holds back is counted and said once the
 * next window opens. */
static bool ctl_log_budget(struct control *ctl)
{
	uint64_t now = ctl_now_ms();

	if (now - ctl->log_window_ms >= CONTROL_LOG_WINDOW_MS) {
		if (ctl->log_suppressed != 0)
			qb_log(LOG_NOTICE, "control: %u messages about clients suppressed in %u s",
			       ctl->log_suppressed, CONTROL_LOG_WINDOW_MS / 1000);
		ctl->log_window_ms = now;
		ctl->log_window_n = 0;
		ctl->log_suppressed = 0;
	}
	if (ctl->log_window_n >= CONTROL_LOG_WINDOW_MAX) {
		ctl->log_suppressed++;
		return false;
	}
	ctl->log_window_n++;
	return true;
}

/* Log about a client: the first CONTROL_LOG_BURST lines at 'lvl', the rest at
 * debug, so a client sending garbage in a loop cannot flood syslog; nor can
 * many clients, or one reconnecting (ctl_log_budget()). */
__attribute__((format(printf, 3, 4)))
static void ctl_client_log(struct ctl_client *c, int lvl, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	if (c->logged >= CONTROL_LOG_BURST)
		lvl = LOG_DEBUG;
	else if (lvl < LOG_DEBUG && !ctl_log_budget(c->ctl))
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
	if (c->cls == CONTROL_CLASS_ADMIN)
		c->ctl->st.clients_admin--;
	else
		c->ctl->st.clients_read--;
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

/* Bytes sent to 'c' that it has not read yet: ours, and its socket's. */
static size_t ctl_client_unread(const struct ctl_client *c)
{
	int queued = 0;
	size_t n = c->out_len - c->out_off;

	if (ioctl(c->fd, SIOCOUTQ, &queued) == 0 && queued > 0)
		n += (size_t)queued;
	return n;
}

/* Write what the socket takes.  Returns false if the client was dropped. */
static bool ctl_client_flush(struct ctl_client *c)
{
	bool wrote = false;
	ssize_t n;

	/* Seen before and after writing, so that a read between two
	 * writes is not hidden by the second. */
	if (!c->dead && c->stall.seen != 0)
		control_policy_observe(&c->stall, ctl_client_unread(c), ctl_now_ms());
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
		wrote = true;
	}
	if (c->dead)
		return false;
	if (wrote)
		control_policy_observe(&c->stall, ctl_client_unread(c), c->last_ms);
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
		c->ctl->st.closed_not_reading++;
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
		/* Someone typing into socat makes a few mistakes; a stream of
		 * nothing but garbage is not a client worth a slot. */
		if (rc == -EINVAL && ++c->bad >= CONTROL_BAD_MAX && !c->dead && !c->closing) {
			ctl_client_log(c, LOG_NOTICE, "%u malformed requests in a row, closing",
				       c->bad);
			c->ctl->st.closed_bad_requests++;
			/* the rest of its buffer is dropped with it */
			c->closing = true;
			c->partial_ms = 0;
			ctl_client_error(c, "", "bad_request",
					 "too many malformed requests in a row, closing");
		}
		return;
	}
	c->bad = 0;
	memset(&req, 0, sizeof(req));
	req.client = c->id;
	req.id = pr.id;
	req.cmd = pr.cmd;
	req.args = pr.args;
	req.privileged = c->cls == CONTROL_CLASS_ADMIN;
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
	unsigned lines = 0;
	char *nl;

	if (c->resume && c->partial_ms != 0)
		c->partial_ms = ctl_now_ms();	/* its clock stopped while we did not read */
	c->resume = false;
	while (!c->dead && !c->closing && off < c->in_len) {
		if (c->inflight >= CONTROL_INFLIGHT_MAX) {
			c->resume = true;	/* control_reply() picks it up */
			break;
		}
		nl = memchr(c->in + off, '\n', c->in_len - off);
		if (nl == NULL)
			break;
		if (lines++ == CONTROL_LINES_PER_DISPATCH) {
			c->resume = true;	/* the rest on the next iteration */
			ctl_job_queue(c->ctl);
			break;
		}
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
		c->ctl->st.closed_oversized++;
		c->in_len = 0;
		c->partial_ms = 0;
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
			c->partial_ms = 0;
			ctl_client_maybe_done(c);
			ctl_client_update(c);
			return;
		}
		c->last_ms = ctl_now_ms();
		c->partial_ms = control_policy_partial(c->partial_ms, c->in + c->in_len, (size_t)n,
						       c->last_ms);
		c->in_len += (size_t)n;
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

/* Log a refusal: the first of each reason at once, then at most one line a
 * minute per reason with how many there were, so that a flood of connects
 * costs the log nothing while a new kind of trouble still shows at once. */
static void ctl_refuse_log(struct control *ctl, enum control_verdict v, const struct ucred *cr)
{
	static const char *const why[] = {"not permitted", "no slot left", "uid at its limit"};
	unsigned k = v == CONTROL_REFUSE_PERMISSION ? 0 : v == CONTROL_REFUSE_BUSY ? 1 : 2;
	uint64_t now = ctl_now_ms();

	ctl->refuse_quiet[k]++;
	if (ctl->refuse_log_ms[k] != 0 && now - ctl->refuse_log_ms[k] < CONTROL_LOG_QUIET_MS)
		return;
	qb_log(LOG_WARNING,
	       "control: refusing clients: %s (last: pid %d uid %u), %u connected " QB_XS
	       " refused for this since the last notice: %u",
	       why[k], (int)cr->pid, (unsigned)cr->uid, ctl->nclients, ctl->refuse_quiet[k]);
	ctl->refuse_log_ms[k] = now;
	ctl->refuse_quiet[k] = 0;
}

/* Tell a refused client why, without waiting: the line is far smaller than
 * an empty socket buffer. */
static void ctl_refuse(struct control *ctl, int fd, enum control_verdict v,
		       const struct ucred *cr)
{
	char msg[160], *line;
	const char *code = "busy";
	size_t size;
	ssize_t n;

	switch (v) {
	case CONTROL_REFUSE_PERMISSION:
		code = "permission_denied";
		snprintf(msg, sizeof(msg), "uid %u is not root and not in the admin or read group",
			 (unsigned)cr->uid);
		ctl->st.refused_permission++;
		break;
	case CONTROL_REFUSE_UID:
		snprintf(msg, sizeof(msg), "uid %u has %u connections already",
			 (unsigned)cr->uid, ctl->cfg.max_clients_per_uid);
		ctl->st.refused_uid++;
		break;
	default:
		snprintf(msg, sizeof(msg), "too many clients");
		ctl->st.refused_busy++;
		break;
	}
	line = control_proto_error("", code, msg, &size);
	if (line != NULL) {
		n = send(fd, line, size, MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)n;
		free(line);
	}
	close(fd);
	ctl_refuse_log(ctl, v, cr);
}

static uint32_t ctl_clients_of(const struct control *ctl, uid_t uid)
{
	const struct ctl_client *c;
	uint32_t n = 0;

	for (c = ctl->clients; c != NULL; c = c->next)
		if (!c->dead && c->cred.uid == uid)
			n++;
	return n;
}

/* The peer's class, from the credentials it had when it connected. */
static enum control_class ctl_peer_class(const struct control *ctl, int fd,
					 const struct ucred *cr)
{
	gid_t ag = ctl->cfg.admin_group, rg = ctl->cfg.read_group;
	bool admin = false, reader = false;

	if (cr->uid != 0 && ag != (gid_t)-1)
		admin = cr->gid == ag || control_sock_peer_in_group(fd, cr->pid, ag);
	if (cr->uid != 0 && !admin && rg != (gid_t)-1)
		reader = cr->gid == rg || control_sock_peer_in_group(fd, cr->pid, rg);
	return control_policy_class(cr->uid, admin, reader);
}

static void ctl_client_add(struct control *ctl, int fd)
{
	struct control_limits lim = {
		.max_clients = ctl->cfg.max_clients,
		.reserved_clients = ctl->cfg.reserved_clients,
		.max_clients_per_uid = ctl->cfg.max_clients_per_uid,
	};
	enum control_verdict v;
	enum control_class cls;
	struct ctl_client *c;
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		qb_log(LOG_WARNING, "control: no peer credentials, closing " QB_XS " errno=%d",
		       errno);
		close(fd);
		return;
	}
	cls = ctl_peer_class(ctl, fd, &cred);
	v = control_policy_admit(&lim, cls, cred.uid, ctl->nclients, ctl->st.clients_read,
				 cred.uid != 0 ? ctl_clients_of(ctl, cred.uid) : 0);
	if (v != CONTROL_ADMIT && v != CONTROL_ADMIT_RESERVED) {
		ctl_refuse(ctl, fd, v, &cred);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	c->ctl = ctl;
	c->fd = fd;
	c->id = ++ctl->next_id;
	c->last_ms = ctl_now_ms();
	c->cred = cred;
	c->cls = cls;
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
	ctl->st.accepted++;
	if (cls == CONTROL_CLASS_ADMIN)
		ctl->st.clients_admin++;
	else
		ctl->st.clients_read++;
	ctl_client_log(c, LOG_DEBUG, "connected, %s%s",
		       cls == CONTROL_CLASS_ADMIN ? "admin" : "read only",
		       v == CONTROL_ADMIT_RESERVED ? ", in a reserved slot" : "");
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

	if (ms > ctl->cfg.request_timeout_ms / 4)
		ms = ctl->cfg.request_timeout_ms / 4;
	if (ms > CONTROL_TICK_MAX_MS)
		ms = CONTROL_TICK_MAX_MS;
	if (ms < CONTROL_TICK_MIN_MS)
		ms = CONTROL_TICK_MIN_MS;
	return ms;
}

/* One client's time limits; see the tick below. */
static void ctl_client_check(struct ctl_client *c, uint64_t now)
{
	const struct control_config *cfg = &c->ctl->cfg;

	/* While throttled by its answers in flight we do not read it, so
	 * its unfinished line is not its fault. */
	if (!c->closing && !c->resume && c->inflight < CONTROL_INFLIGHT_MAX &&
	    control_policy_request_late(c->partial_ms, now, cfg->request_timeout_ms)) {
		ctl_client_log(c, LOG_NOTICE, "request unfinished after %" PRIu64 " ms, closing",
			       now - c->partial_ms);
		c->ctl->st.closed_request_timeout++;
		c->partial_ms = 0;
		c->in_len = 0;
		c->closing = true;
		ctl_client_error(c, "", "timeout", "request line not finished in time, closing");
		return;
	}
	control_policy_observe(&c->stall, ctl_client_unread(c), now);
	if (control_policy_stalled(&c->stall, now, cfg->idle_timeout_ms)) {
		ctl_client_log(c, LOG_NOTICE, "has not read its output for %" PRIu64 " ms, closing",
			       now - c->stall.since_ms);
		c->ctl->st.closed_not_reading++;
		ctl_client_drop(c);
		return;
	}
	if (now - c->last_ms < cfg->idle_timeout_ms)
		return;
	if (!c->closing && (c->subscriber || c->inflight > 0))
		return;
	ctl_client_log(c, LOG_DEBUG, "idle for %" PRIu64 " ms, closing", now - c->last_ms);
	c->ctl->st.closed_idle++;
	ctl_client_drop(c);
}

/* The one periodic timer: paused accepts resume, and clients go that are
 *  - idle: neither sent nor been sent anything for 'idle_timeout_ms', and
 *    neither subscribed nor awaiting an answer (a closing client awaits
 *    nothing: it is only owed its error line);
 *  - slow to send a request: its line unfinished 'request_timeout_ms'
 *    after its first byte (told so, then closed);
 *  - not reading: output waiting for it, none of it read for
 *    'idle_timeout_ms' (a closing client that does not read its error
 *    line goes this way too). */
static void ctl_tick(void *data)
{
	struct control *ctl = data;
	struct ctl_client *c;
	uint64_t now = ctl_now_ms();

	for (c = ctl->clients; c != NULL; c = c->next)
		if (!c->dead)
			ctl_client_check(c, now);
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
	if (ctl->cfg.reserved_clients == 0)
		ctl->cfg.reserved_clients = CONTROL_DEF_RESERVED;
	if (ctl->cfg.max_clients_per_uid == 0)
		ctl->cfg.max_clients_per_uid = CONTROL_DEF_PER_UID;
	if (ctl->cfg.idle_timeout_ms == 0)
		ctl->cfg.idle_timeout_ms = CONTROL_DEF_IDLE_MS;
	if (ctl->cfg.request_timeout_ms == 0)
		ctl->cfg.request_timeout_ms = CONTROL_DEF_REQUEST_MS;
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
	qb_log(LOG_INFO,
	       "control: listening on %s " QB_XS " group=%d admin_group=%d read_group=%d"
	       " max_clients=%u reserved=%u per_uid=%u idle_ms=%u request_ms=%u",
	       ctl->cfg.path, (int)ctl->cfg.group, (int)ctl->cfg.admin_group,
	       (int)ctl->cfg.read_group, ctl->cfg.max_clients, ctl->cfg.reserved_clients,
	       ctl->cfg.max_clients_per_uid, ctl->cfg.idle_timeout_ms,
	       ctl->cfg.request_timeout_ms);
	if (ctl->cfg.group != (gid_t)-1 && ctl->cfg.group != 0)
		control_sock_check_reach(ctl->cfg.path, ctl->cfg.group);
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

void control_stats_get(const struct control *ctl, struct control_stats *out)
{
	*out = ctl->st;
}
