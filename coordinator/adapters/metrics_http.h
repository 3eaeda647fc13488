/*
 * The Prometheus scrape endpoint: a minimal HTTP/1.x server on the main
 * loop that answers GET /metrics with the text chorusctl metrics prints.
 *
 * Off unless configured ("metrics": {"listen": "ADDR:PORT"}).  Everything a
 * client sends is hostile: a request is read into a fixed 2 KiB buffer and
 * must be complete within 5 s, at most 16 clients are served at once (more
 * are accepted and closed at once, so the backlog cannot fill), only GET
 * and HEAD of /metrics are answered (others get 404 or 405), and every
 * connection is closed after its one answer.  Nothing blocks: reads and
 * writes are non-blocking, a slow reader is dropped at its deadline.
 */
#ifndef CHORUS_ADAPTERS_METRICS_HTTP_H
#define CHORUS_ADAPTERS_METRICS_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <qb/qbloop.h>

#define METRICS_HTTP_CLIENTS 16
#define METRICS_HTTP_REQ_MAX 2048
#define METRICS_HTTP_DEADLINE_MS 5000

struct metrics_http;

/* The metrics text, malloc'd (NULL on ENOMEM); '*len' its length. */
typedef char *(*metrics_text_fn)(void *ud, size_t *len);

/* Parse "A.B.C.D:PORT" or "[V6]:PORT" (port 1-65535).  0 or -EINVAL. */
int metrics_http_parse(const char *text, struct sockaddr_storage *ss, socklen_t *len);

/* Listen on 'ss' (SO_REUSEADDR, non-blocking) and serve from 'loop'. */
int metrics_http_new(qb_loop_t *loop, const struct sockaddr_storage *ss, socklen_t len,
		     metrics_text_fn fn, void *ud, struct metrics_http **out);
void metrics_http_free(struct metrics_http *m);	/* accepts NULL */

/* For tests and status: answered scrapes, and clients closed unanswered
 * (bad or oversized request, deadline, too many at once). */
void metrics_http_counts(const struct metrics_http *m, uint64_t *served, uint64_t *refused);

#endif
