/*
 * The operator's event history (history.h).
 */
#include "daemon/history.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <qb/qblog.h>

struct event {
	uint64_t wall_ms;
	char type[16];
	char text[200];
};

struct history {
	struct event *ev;	/* ring of HISTORY_MAX */
	size_t head, n;
	char path[PATH_MAX];	/* "" = memory only */
	char old[PATH_MAX];
	int fd;
	size_t size;		/* bytes in the current file */
	bool write_failed;	/* logged; quiet until a write succeeds */
};

static void ring_put(struct history *h, uint64_t wall_ms, const char *type, const char *text)
{
	struct event *e = &h->ev[(h->head + h->n) % HISTORY_MAX];

	if (h->n == HISTORY_MAX)
		h->head = (h->head + 1) % HISTORY_MAX;
	else
		h->n++;
	e->wall_ms = wall_ms;
	snprintf(e->type, sizeof(e->type), "%s", type);
	snprintf(e->text, sizeof(e->text), "%s", text);
}

static struct json_object *event_json(const struct event *e)
{
	struct json_object *o = json_object_new_object();
	char ts[48];
	time_t secs = (time_t)(e->wall_ms / 1000);
	struct tm tm;

	if (o == NULL)
		return NULL;
	gmtime_r(&secs, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%03uZ", (unsigned)(e->wall_ms % 1000));
	json_object_object_add(o, "time", json_object_new_string(ts));
	json_object_object_add(o, "t_ms", json_object_new_int64((int64_t)e->wall_ms));
	json_object_object_add(o, "type", json_object_new_string(e->type));
	json_object_object_add(o, "text", json_object_new_string(e->text));
	return o;
}

/* One line of a history file, checked: the file is ours, but a crash can
 * cut a line and a disk can return anything. */
static void load_line(struct history *h, const char *line)
{
	struct json_object *o = json_tokener_parse(line), *t, *ty, *tx;

	if (o != NULL && json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, "t_ms", &t) && json_object_is_type(t, json_type_int) &&
	    json_object_get_int64(t) > 0 && json_object_object_get_ex(o, "type", &ty) &&
	    json_object_is_type(ty, json_type_string) && json_object_object_get_ex(o, "text", &tx) &&
	    json_object_is_type(tx, json_type_string))
		ring_put(h, (uint64_t)json_object_get_int64(t), json_object_get_string(ty),
			 json_object_get_string(tx));
	json_object_put(o);
}

static void load_file(struct history *h, const char *path)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0, total = 0;
	ssize_t len;

	if (f == NULL)
		return;
	/* bounded: a file is at most a little over HISTORY_FILE_MAX when we
	 * wrote it; anything longer was not */
	while (total < 2 * (size_t)HISTORY_FILE_MAX && (len = getline(&line, &cap, f)) > 0) {
		total += (size_t)len;
		if (len < 4096)
			load_line(h, line);
	}
	free(line);
	fclose(f);
}

static int open_current(struct history *h)
{
	struct stat st;

	h->fd = open(h->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (h->fd < 0)
		return -errno;
	h->size = fstat(h->fd, &st) == 0 ? (size_t)st.st_size : 0;
	return 0;
}

struct history *history_open(const char *dir)
{
	struct history *h = calloc(1, sizeof(*h));

	if (h == NULL || (h->ev = calloc(HISTORY_MAX, sizeof(*h->ev))) == NULL) {
		free(h);
		return NULL;
	}
	h->fd = -1;
	if (dir == NULL || dir[0] == '\0')
		return h;
	if ((size_t)snprintf(h->path, sizeof(h->path), "%s/events.jsonl", dir) >= sizeof(h->path) ||
	    (size_t)snprintf(h->old, sizeof(h->old), "%s/events.jsonl.1", dir) >= sizeof(h->old)) {
		qb_log(LOG_WARNING, "event history: %s is too long a path: kept in memory only", dir);
		h->path[0] = '\0';
		return h;
	}
	load_file(h, h->old);
	load_file(h, h->path);
	if (open_current(h) < 0)
		qb_log(LOG_WARNING, "event history: cannot open %s: %s; kept in memory only", h->path,
		       strerror(errno));
	return h;
}

void history_free(struct history *h)
{
	if (h == NULL)
		return;
	if (h->fd >= 0)
		close(h->fd);
	free(h->ev);
	free(h);
}

static void rotate(struct history *h)
{
	close(h->fd);
	h->fd = -1;
	if (rename(h->path, h->old) < 0)
		qb_log(LOG_WARNING, "event history: cannot rotate %s: %s", h->path, strerror(errno));
	if (open_current(h) < 0)
		qb_log(LOG_WARNING, "event history: cannot reopen %s: %s", h->path, strerror(errno));
}

static void append(struct history *h, struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE);
	char line[1024];
	int len = snprintf(line, sizeof(line), "%s\n", s);
	ssize_t w;

	if (h->fd < 0 || len <= 0 || (size_t)len >= sizeof(line))
		return;
	w = write(h->fd, line, (size_t)len);
	if (w != len) {
		if (!h->write_failed)
			qb_log(LOG_WARNING, "event history: cannot write %s: %s", h->path,
			       w < 0 ? strerror(errno) : "short write");
		h->write_failed = true;
		return;
	}
	h->write_failed = false;
	h->size += (size_t)len;
	if (h->size > HISTORY_FILE_MAX)
		rotate(h);
}

struct json_object *history_add(struct history *h, uint64_t wall_ms, const char *type,
				const char *text)
{
	struct json_object *o;

	ring_put(h, wall_ms, type, text);
	o = event_json(&h->ev[(h->head + h->n - 1) % HISTORY_MAX]);
	if (o != NULL)
		append(h, o);
	return o;
}

struct json_object *history_json(const struct history *h, size_t limit, uint64_t since_ms)
{
	struct json_object *r = json_object_new_object(), *a = json_object_new_array();
	size_t first = h->n, start;

	if (r == NULL || a == NULL) {
		json_object_put(r);
		json_object_put(a);
		return NULL;
	}
	/* the ring is in time order (the wall clock may step back; then the
	 * order of recording wins) */
	for (size_t i = 0; i < h->n && first == h->n; i++)
		if (h->ev[(h->head + i) % HISTORY_MAX].wall_ms >= since_ms)
			first = i;
	start = first;
	if (limit > 0 && h->n - first > limit)
		start = h->n - limit;
	for (size_t i = start; i < h->n; i++)
		json_object_array_add(a, event_json(&h->ev[(h->head + i) % HISTORY_MAX]));
	json_object_object_add(r, "events", a);
	return r;
}

size_t history_count(const struct history *h)
{
	return h->n;
}
