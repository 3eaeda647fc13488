/*
 * The Prometheus scrape endpoint (metrics_http.h).
 */
#include "config.h"

#include "adapters/metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qb/qblog.h>
#include <qb/qbutil.h>

struct client {
	int fd;			/* -1 = free slot */
	char req[METRICS_HTTP_REQ_MAX];
	size_t req_len;
	char *out;
	size_t out_len, out_off;
	uint64_t deadline_ms;
};

struct metrics_http {
	qb_loop_t *loop;
	int lfd;
	metrics_text_fn fn;
	void *ud;
	struct client c[METRICS_HTTP_CLIENTS];
	qb_loop_timer_handle timer;
	uint64_t served, refused;
	uint64_t refuse_log_ms;
};

static uint64_t now_ms(void)
{
	return qb_util_nano_current_get() / QB_TIME_NS_IN_MSEC;
}

int metrics_http_parse(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *colon, *h = text;
	size_t hl;
	char *end;
	unsigned long port;

	memset(ss, 0, sizeof(*ss));
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (close == NULL || close[1] != ':')
			return -EINVAL;
		h = text + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (colon == NULL || memchr(text, ':', (size_t)(colon - text)) != NULL)
			return -EINVAL;
		hl = (size_t)(colon - text);
	}
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno != 0 || end == colon + 1 || *end != '\0' || port == 0 || port > 65535)
		return -EINVAL;
	if (text[0] != '[') {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return -EINVAL;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return -EINVAL;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
	}
	return 0;
}

static void client_close(struct metrics_http *m, struct client *c, bool answered)
{
	if (c->fd < 0)
		return;
	qb_loop_poll_del(m->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	free(c->out);
	c->out = NULL;
	if (answered)
		m->served++;
	else
		m->refused++;
}

static void respond(struct client *c, const char *status, const char *type, const char *body,
		    size_t body_len, bool head)
{
	char hdr[256];
	int n = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n", status, type, body_len);

	c->out = malloc((size_t)n + (head ? 0 : body_len));
	if (c->out == NULL)
		return;
	memcpy(c->out, hdr, (size_t)n);
	if (!head && body_len)
		memcpy(c->out + n, body, body_len);
	c->out_len = (size_t)n + (head ? 0 : body_len);
	c->out_off = 0;
}

/* The request line of a complete request: method and path only; headers
 * are not needed and not parsed. */
static void answer(struct metrics_http *m, struct client *c)
{
	char method[8], path[64];
	const char *sp1 = memchr(c->req, ' ', c->req_len), *sp2;
	bool head;

	if (sp1 == NULL || (size_t)(sp1 - c->req) >= sizeof(method))
		goto bad;
	sp2 = memchr(sp1 + 1, ' ', c->req_len - (size_t)(sp1 + 1 - c->req));
	if (sp2 == NULL || (size_t)(sp2 - sp1 - 1) >= sizeof(path) ||
	    strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
		goto bad;
	memcpy(method, c->req, (size_t)(sp1 - c->req));
	method[sp1 - c->req] = '\0';
	memcpy(path, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	path[sp2 - sp1 - 1] = '\0';
	head = strcmp(method, "HEAD") == 0;
	if (!head && strcmp(method, "GET") != 0) {
		respond(c, "405 Method Not Allowed", "text/plain", "GET only\n", 9, false);
		return;
	}
	/* a scraper may add a query string; nothing else is served */
	if (strcmp(path, "/metrics") == 0 || strncmp(path, "/metrics?", 9) == 0) {
		size_t len = 0;
		char *text = m->fn(m->ud, &len);

		if (text == NULL) {
			respond(c, "503 Service Unavailable", "text/plain", "out of memory\n", 14,
				head);
			return;
		}
		respond(c, "200 OK", "text/plain; version=0.0.4; charset=utf-8", text, len, head);
		free(text);
		return;
	}
	respond(c, "404 Not Found", "text/plain", "try /metrics\n", 13, head);
	return;
bad:
	respond(c, "400 Bad Request", "text/plain", "bad request\n", 12, false);
}

static void client_write(struct metrics_http *m, struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);

		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;	/* POLLOUT brings us back */
		client_close(m, c, false);
		return;
	}
	client_close(m, c, true);
}

/* One dispatch for every client: the slot is found by fd (at most 16). */
static int32_t any_client_dispatch(int32_t fd, int32_t revents, void *data)
{
	struct metrics_http *m = data;
	struct client *c = NULL;

	for (size_t i = 0; i < METRICS_HTTP_CLIENTS && c == NULL; i++)
		if (m->c[i].fd == fd)
			c = &m->c[i];
	if (c == NULL)
		return 0;
	if (c->out != NULL) {
		if (revents & (POLLERR | POLLHUP))
			client_close(m, c, false);
		else if (revents & POLLOUT)
			client_write(m, c);
		return 0;
	}
	if (revents & POLLIN) {
		for (int k = 0; k < 4; k++) {
			ssize_t n = read(fd, c->req + c->req_len, sizeof(c->req) - 1 - c->req_len);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN)
				break;
			if (n <= 0) {
				client_close(m, c, false);
				return 0;
			}
			c->req_len += (size_t)n;
			c->req[c->req_len] = '\0';
			/* binary-safe: a request may carry NULs (then it is a 400) */
			if (memmem(c->req, c->req_len, "\r\n\r\n", 4) ||
			    memmem(c->req, c->req_len, "\n\n", 2)) {
				answer(m, c);
				if (c->out == NULL) {
					client_close(m, c, false);
					return 0;
				}
				qb_loop_poll_mod(m->loop, QB_LOOP_MED, fd, POLLOUT, m,
						 any_client_dispatch);
				client_write(m, c);
				return 0;
			}
			if (c->req_len >= sizeof(c->req) - 1) {
				client_close(m, c, false);	/* too long: not a scraper */
				return 0;
			}
		}
	} else if (revents & (POLLERR | POLLHUP)) {
		client_close(m, c, false);
	}
	return 0;
}

static void refuse_log(struct metrics_http *m, const char *why)
{
	uint64_t now = now_ms();

	if (m->refuse_log_ms && now - m->refuse_log_ms < 60000)
		return;
	m->refuse_log_ms = now;
	qb_log(LOG_WARNING, "metrics endpoint: closing a client (%s); %" PRIu64 " so far", why,
	       m->refused);
}

static int32_t accept_dispatch(int32_t fd, int32_t revents, void *data)
{
	struct metrics_http *m = data;

	(void)revents;
	for (int k = 0; k < 16; k++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct client *c = NULL;

		if (cfd < 0)
			return 0;
		for (size_t i = 0; i < METRICS_HTTP_CLIENTS && c == NULL; i++)
			if (m->c[i].fd < 0)
				c = &m->c[i];
		if (c == NULL ||
		    qb_loop_poll_add(m->loop, QB_LOOP_MED, cfd, POLLIN, m, any_client_dispatch) != 0) {
			close(cfd);
			m->refused++;
			refuse_log(m, "too many at once");
			continue;
		}
		c->fd = cfd;
		c->req_len = 0;
		c->out = NULL;
		c->deadline_ms = now_ms() + METRICS_HTTP_DEADLINE_MS;
	}
	return 0;
}

static void deadline_tick(void *data)
{
	struct metrics_http *m = data;
	uint64_t now = now_ms();

	for (size_t i = 0; i < METRICS_HTTP_CLIENTS; i++)
		if (m->c[i].fd >= 0 && now >= m->c[i].deadline_ms) {
			client_close(m, &m->c[i], false);
			refuse_log(m, "no complete request or no reading within 5 s");
		}
	qb_loop_timer_add(m->loop, QB_LOOP_LOW, 500 * QB_TIME_NS_IN_MSEC, m, deadline_tick,
			  &m->timer);
}

int metrics_http_new(qb_loop_t *loop, const struct sockaddr_storage *ss, socklen_t len,
		     metrics_text_fn fn, void *ud, struct metrics_http **out)
{
	struct metrics_http *m = calloc(1, sizeof(*m));
	int one = 1, rc;

	if (m == NULL)
		return -ENOMEM;
	m->loop = loop;
	m->fn = fn;
	m->ud = ud;
	for (size_t i = 0; i < METRICS_HTTP_CLIENTS; i++)
		m->c[i].fd = -1;
	m->lfd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->lfd < 0) {
		rc = -errno;
		free(m);
		return rc;
	}
	setsockopt(m->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(m->lfd, (const struct sockaddr *)ss, len) < 0 || listen(m->lfd, 32) < 0) {
		rc = -errno;
		close(m->lfd);
		free(m);
		return rc;
	}
	rc = qb_loop_poll_add(loop, QB_LOOP_MED, m->lfd, POLLIN, m, accept_dispatch);
	if (rc == 0)
		rc = qb_loop_timer_add(loop, QB_LOOP_LOW, 500 * QB_TIME_NS_IN_MSEC, m, deadline_tick,
				       &m->timer);
	if (rc != 0) {
		qb_loop_poll_del(loop, m->lfd);
		close(m->lfd);
		free(m);
		return rc < 0 ? rc : -EIO;
	}
	*out = m;
	return 0;
}

void metrics_http_free(struct metrics_http *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < METRICS_HTTP_CLIENTS; i++)
		client_close(m, &m->c[i], false);
	qb_loop_timer_del(m->loop, m->timer);
	qb_loop_poll_del(m->loop, m->lfd);
	close(m->lfd);
	free(m);
}

void metrics_http_counts(const struct metrics_http *m, uint64_t *served, uint64_t *refused)
{
	*served = m->served;
	*refused = m->refused;
}
