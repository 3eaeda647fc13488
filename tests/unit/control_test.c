/*
 * Unit tests for the control socket server (coordinator/control.c).
 *
 * Each case runs the real server on a real qb_loop, listening in a private
 * mkdtemp() directory, with a fake handler that records what it was given.
 * Clients are plain sockets driven from the test between short bounded runs
 * of the loop (tc_line() and friends run it in slices until an answer or a
 * deadline), so every case ends in bounded time even if the server is wrong.
 *
 * The privilege cases fork a child that drops to uid/gid 65534 before it
 * connects; they are skipped when the test does not run as root.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>
#include <qb/qblog.h>
#include <qb/qbloop.h>

#include "control.h"

#define NOBODY 65534
#define WAIT_MS 2000		/* for anything that should happen */
#define QUIET_MS 60		/* to conclude that nothing happens */

enum handler_mode { H_ECHO, H_ASYNC, H_SUBSCRIBE, H_ERROR };

struct stash {
	uint64_t client;
	char id[160];
};

struct fx {
	char dir[64];
	struct control_config cfg;
	qb_loop_t *loop;
	struct control *ctl;
	enum handler_mode mode;
	int calls;
	struct control_request last;	/* pointers valid only in the handler */
	char last_cmd[40], last_id[160], last_args[256];
	struct stash stash[64];
	int nstash;
};

struct tc {
	int fd;
	bool eof;
	size_t len;
	char buf[256 * 1024];
};

static void handler(void *ud, const struct control_request *req)
{
	struct fx *fx = ud;
	struct json_object *res;

	fx->calls++;
	fx->last = *req;
	snprintf(fx->last_cmd, sizeof(fx->last_cmd), "%s", req->cmd);
	snprintf(fx->last_id, sizeof(fx->last_id), "%s", req->id);
	snprintf(fx->last_args, sizeof(fx->last_args), "%s",
		 json_object_to_json_string_ext(req->args, JSON_C_TO_STRING_PLAIN));
	switch (fx->mode) {
	case H_ECHO:
	case H_SUBSCRIBE:
		res = json_object_new_object();
		json_object_object_add(res, "cmd", json_object_new_string(req->cmd));
		json_object_object_add(res, "args", json_object_get(req->args));
		assert_int_equal(control_reply(fx->ctl, req->client, req->id, res), 0);
		if (fx->mode == H_SUBSCRIBE)
			assert_int_equal(control_subscribe(fx->ctl, req->client), 0);
		break;
	case H_ASYNC:
		assert_true(fx->nstash < 64);
		fx->stash[fx->nstash].client = req->client;
		snprintf(fx->stash[fx->nstash].id, sizeof(fx->stash[0].id), "%s", req->id);
		fx->nstash++;
		break;
	case H_ERROR:
		control_error(fx->ctl, req->client, req->id, "unknown_command",
			      "no such command: %s", req->cmd);
		break;
	}
}

static void stop_loop(void *data)
{
	qb_loop_stop(data);
}

static void run_for(struct fx *fx, unsigned ms)
{
	qb_loop_timer_handle h;

	assert_int_equal(qb_loop_timer_add(fx->loop, QB_LOOP_HIGH, (uint64_t)ms * 1000000ULL,
					   fx->loop, stop_loop, &h), 0);
	qb_loop_run(fx->loop);
}

static int fx_start(struct fx *fx)
{
	snprintf(fx->cfg.path, sizeof(fx->cfg.path), "%.40s/ctl.sock", fx->dir);
	return control_new(fx->loop, &fx->cfg, handler, fx, &fx->ctl);
}

/* Restart the server with a changed config. */
static void fx_restart(struct fx *fx)
{
	control_free(fx->ctl);
	fx->ctl = NULL;
	assert_int_equal(fx_start(fx), 0);
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	strcpy(fx->dir, "/tmp/control_test.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	chmod(fx->dir, 0755);	/* the nobody cases connect from inside */
	fx->cfg.group = (gid_t)-1;
	fx->cfg.admin_group = (gid_t)-1;
	fx->loop = qb_loop_create();
	if (fx->loop == NULL || fx_start(fx) != 0)
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	control_free(fx->ctl);
	qb_loop_destroy(fx->loop);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static struct tc *tc_connect(struct fx *fx)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct tc *tc = calloc(1, sizeof(*tc));

	assert_non_null(tc);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fx->cfg.path);
	tc->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(tc->fd >= 0);
	assert_int_equal(connect(tc->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	run_for(fx, 5);		/* let the server accept it */
	return tc;
}

static void tc_close(struct tc *tc)
{
	if (tc->fd >= 0)
		close(tc->fd);
	free(tc);
}

/* Send all of 'size' bytes, running the loop while the socket is full. */
static void tc_send_n(struct fx *fx, struct tc *tc, const char *s, size_t size)
{
	size_t off = 0;
	ssize_t n;
	int spins = 0;

	while (off < size) {
		n = send(tc->fd, s + off, size - off, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			assert_true(++spins < 1000);
			run_for(fx, 2);
			continue;
		}
		if (n < 0)
			return;		/* the server closed: the caller checks */
		off += (size_t)n;
	}
}

static void tc_send(struct fx *fx, struct tc *tc, const char *s)
{
	tc_send_n(fx, tc, s, strlen(s));
}

/* Take whatever is readable without waiting. */
static void tc_pull(struct tc *tc)
{
	ssize_t n;

	while (!tc->eof && tc->len < sizeof(tc->buf) - 1) {
		n = recv(tc->fd, tc->buf + tc->len, sizeof(tc->buf) - 1 - tc->len, MSG_DONTWAIT);
		if (n > 0)
			tc->len += (size_t)n;
		else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			tc->eof = true;
		else
			break;
	}
}

/* The next line the client receives, parsed, or NULL after 'ms' or EOF. */
static struct json_object *tc_line(struct fx *fx, struct tc *tc, unsigned ms)
{
	struct json_object *o;
	char *nl;
	unsigned waited;

	for (waited = 0;; waited += 2) {
		tc_pull(tc);
		nl = memchr(tc->buf, '\n', tc->len);
		if (nl != NULL)
			break;
		if (tc->eof || waited >= ms)
			return NULL;
		run_for(fx, 2);
	}
	*nl = '\0';
	o = json_tokener_parse(tc->buf);
	assert_non_null(o);
	tc->len -= (size_t)(nl + 1 - tc->buf);
	memmove(tc->buf, nl + 1, tc->len);
	return o;
}

/* True once the server has closed the client (within 'ms'). */
static bool tc_closed(struct fx *fx, struct tc *tc, unsigned ms)
{
	unsigned waited;

	for (waited = 0; waited <= ms; waited += 2) {
		tc_pull(tc);
		if (tc->eof)
			return true;
		tc->len = 0;	/* discard: only the end matters here */
		run_for(fx, 2);
	}
	return false;
}

static const char *jstr(struct json_object *o, const char *k1, const char *k2)
{
	struct json_object *v = o;

	if (!json_object_object_get_ex(v, k1, &v))
		return NULL;
	if (k2 != NULL && !json_object_object_get_ex(v, k2, &v))
		return NULL;
	return json_object_get_string(v);
}

static bool jok(struct json_object *o)
{
	struct json_object *v;

	return json_object_object_get_ex(o, "ok", &v) && json_object_get_boolean(v);
}

/* Expect an error reply with 'code' (and, unless NULL, this 'id'). */
static void expect_error(struct fx *fx, struct tc *tc, const char *code, const char *id)
{
	struct json_object *o = tc_line(fx, tc, WAIT_MS);

	assert_non_null(o);
	assert_false(jok(o));
	assert_string_equal(jstr(o, "error", "code"), code);
	assert_non_null(jstr(o, "error", "message"));
	assert_true(strlen(jstr(o, "error", "message")) > 0);
	assert_string_equal(jstr(o, "v", NULL), "1");
	if (id != NULL)
		assert_string_equal(jstr(o, "id", NULL), id);
	json_object_put(o);
}

/* A valid request on 'tc' is answered: the server is still serving. */
static void expect_serving(struct fx *fx, struct tc *tc)
{
	struct json_object *o;

	tc_send(fx, tc, "{\"v\":1,\"id\":\"alive\",\"cmd\":\"status\"}\n");
	o = tc_line(fx, tc, WAIT_MS);
	assert_non_null(o);
	assert_true(jok(o));
	assert_string_equal(jstr(o, "id", NULL), "alive");
	json_object_put(o);
}

static void test_request_reply(void **state)
{
	struct fx *fx = *state;
	struct tc *tc = tc_connect(fx);
	struct json_object *o;

	tc_send(fx, tc, "{\"v\":1,\"id\":\"r-1\",\"cmd\":\"move\",\"args\":{\"vip\":\"10.0.0.5\"}}\n");
	o = tc_line(fx, tc, WAIT_MS);
	assert_non_null(o);
	assert_int_equal(fx->calls, 1);
	assert_string_equal(fx->last_cmd, "move");
	assert_string_equal(fx->last_id, "r-1");
	assert_string_equal(fx->last_args, "{\"vip\":\"10.0.0.5\"}");
	assert_true(fx->last.privileged);
	assert_int_equal(fx->last.uid, getuid());
	assert_int_equal(fx->last.pid, getpid());
	assert_true(jok(o));
	assert_string_equal(jstr(o, "v", NULL), "1");
	assert_string_equal(jstr(o, "id", NULL), "r-1");
	assert_string_equal(jstr(o, "result", "cmd"), "move");
	json_object_put(o);

	/* Defaults: no v, no id, no args; and CRLF framing. */
	tc_send(fx, tc, "{\"cmd\":\"nodes\"}\r\n");
	o = tc_line(fx, tc, WAIT_MS);
	assert_non_null(o);
	assert_true(jok(o));
	assert_string_equal(jstr(o, "id", NULL), "");
	assert_string_equal(fx->last_args, "{}");
	json_object_put(o);
	assert_int_equal(control_client_count(fx->ctl), 1);
	tc_close(tc);
}

static void test_pipelined_and_split(void **state)
{
	struct fx *fx = *state;
	struct tc *tc = tc_connect(fx);
	struct json_object *o;
	int i;

	/* Three requests in one write, then one split across writes. */
	tc_send(fx, tc, "{\"id\":\"a\",\"cmd\":\"x\"}\n{\"id\":\"b\",\"cmd\":\"y\"}\n"
			"{\"id\":\"c\",\"cmd\":\"z\"}\n{\"id\":\"d\",");
	run_for(fx, 10);
	tc_send(fx, tc, "\"cmd\":\"w\"}\n");
	for (i = 0; i < 4; i++) {
		o = tc_line(fx, tc, WAIT_MS);
		assert_non_null(o);
		assert_int_equal(jstr(o, "id", NULL)[0], "abcd"[i]);
		json_object_put(o);
	}
	tc_close(tc);
}

static void test_async_reply(void **state)
{
	struct fx *fx = *state;
	struct tc *tc = tc_connect(fx);
	struct json_object *o, *res;

	fx->mode = H_ASYNC;
	tc_send(fx, tc, "{\"id\":\"later\",\"cmd\":\"standby\",\"args\":{\"node\":\"n2\"}}\n");
	assert_null(tc_line(fx, tc, QUIET_MS));
	assert_int_equal(fx->nstash, 1);
	res = json_object_new_object();
	json_object_object_add(res, "applied", json_object_new_boolean(1));
	assert_int_equal(control_reply(fx->ctl, fx->stash[0].client, fx->stash[0].id, res), 0);
	o = tc_line(fx, tc, WAIT_MS);
	assert_non_null(o);
	assert_string_equal(jstr(o, "id", NULL), "later");
	assert_string_equal(jstr(o, "result", "applied"), "true");
	json_object_put(o);

	/* An answer for a client that has gone is refused, not a crash. */
	tc_send(fx, tc, "{\"id\":\"orphan\",\"cmd\":\"status\"}\n");
	run_for(fx, 10);
	assert_int_equal(fx->nstash, 2);
	tc_close(tc);
	run_for(fx, 10);
	assert_int_equal(control_client_count(fx->ctl), 0);
	assert_int_equal(control_reply(fx->ctl, fx->stash[1].client, "orphan", NULL), -ENOENT);
	assert_int_equal(control_error(fx->ctl, fx->stash[1].client, "orphan", "timeout", "x"),
			 -ENOENT);
	assert_int_equal(control_subscribe(fx->ctl, fx->stash[1].client), -ENOENT);
}

static void test_handler_error(void **state)
{
	struct fx *fx = *state;
	struct tc *tc = tc_connect(fx);

	fx->mode = H_ERROR;
	tc_send(fx, tc, "{\"id\":\"e1\",\"cmd\":\"frobnicate\"}\n");
	expect_error(fx, tc, "unknown_command", "e1");
	tc_close(tc);
}

static void test_bad_requests(void **state)
{
	static const struct {
		const char *line;
		size_t size;
		const char *id;	/* echoed in the error */
	} cases[] = {
#define L(s) s, sizeof(s) - 1
		{L("{\"id\":\"j\",\"cmd\":\"status\"\n"), ""},		/* malformed JSON */
		{L("{\"id\":\"j\",\"cmd\":\"status\",}\n"), ""},		/* trailing comma */
		{L("not json at all\n"), ""},
		{L("[1,2,3]\n"), ""},
		{L("{\"id\":\"c\",\"cmd\":42}\n"), "c"},			/* cmd a number */
		{L("{\"id\":\"c2\",\"cmd\":\"Status\"}\n"), "c2"},		/* cmd not [a-z-] */
		{L("{\"id\":\"c3\",\"cmd\":\"\"}\n"), "c3"},
		{L("{\"id\":\"c4\",\"cmd\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}\n"), "c4"},
		{L("{\"id\":\"c5\"}\n"), "c5"},				/* no cmd */
		{L("{\"id\":\"a\",\"cmd\":\"nodes\",\"args\":[]}\n"), "a"},	/* args an array */
		{L("{\"id\":\"a2\",\"cmd\":\"nodes\",\"args\":\"x\"}\n"), "a2"},
		{L("{\"v\":2,\"id\":\"v\",\"cmd\":\"status\"}\n"), "v"},	/* future version */
		{L("{\"v\":\"1\",\"id\":\"v2\",\"cmd\":\"status\"}\n"), "v2"},
		{L("{\"v\":1.0,\"id\":\"v3\",\"cmd\":\"status\"}\n"), "v3"},
		{L("{\"id\":7,\"cmd\":\"status\"}\n"), ""},		/* id a number */
		{L("{\"id\":\"k\",\"cmd\":\"status\",\"arg\":{}}\n"), "k"},	/* unknown key */
		{L("\n"), ""},						/* empty line */
		{L("   \t\n"), ""},
		{L("{\"cmd\":\"status\"}{\"cmd\":\"status\"}\n"), ""},	/* two values */
		{L("{\"cmd\":\"st\xff\"}\n"), ""},				/* invalid UTF-8 */
		{L("{\"cmd\":\"status\",\"id\":\"a\0b\"}\n"), ""},		/* NUL byte */
#undef L
	};
	struct fx *fx = *state;
	struct tc *tc = tc_connect(fx), *other = tc_connect(fx);
	struct json_object *o;
	char longid[300];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tc_send_n(fx, tc, cases[i].line, cases[i].size);
		expect_error(fx, tc, "bad_request", cases[i].id);
		expect_serving(fx, other);
	}
	/* An id of 129 bytes is too long; 128 is fine. */
	snprintf(longid, sizeof(longid), "{\"id\":\"%0129d\",\"cmd\":\"status\"}\n", 0);
	tc_send(fx, tc, longid);
	expect_error(fx, tc, "bad_request", "");
	snprintf(longid, sizeof(longid), "{\"id\":\"%0128d\",\"cmd\":\"status\"}\n", 0);
	tc_send(fx, tc, longid);
	o = tc_line(fx, tc, WAIT_MS);
	assert_non_null(o);
	assert_true(jok(o));
	json_object_put(o);
	assert_int_equal(fx->calls, 1 + (int)(sizeof(cases) / sizeof(cases[0])));
	expect_serving(fx, tc);
	tc_close(tc);
	tc_close(other);
}

static void test_oversized(void **state)
{
	struct fx *fx = *state;
	struct tc *tc = tc_connect(fx), *other = tc_connect(fx);
	struct json_object *o;
	size_t size = CONTROL_REQ_MAX + 100;
	char *big = malloc(size);

	assert_non_null(big);
	memset(big, 'a', size);
	tc_send_n(fx, tc, big, size);
	expect_error(fx, tc, "bad_request", "");
	assert_true(tc_closed(fx, tc, WAIT_MS));
	assert_int_equal(fx->calls, 0);
	expect_serving(fx, other);
	assert_int_equal(control_client_count(fx->ctl), 1);

	/* Exactly CONTROL_REQ_MAX bytes is still a request. */
	memset(big, ' ', CONTROL_REQ_MAX);
	memcpy(big, "{\"cmd\":\"status\"}", 16);
	big[CONTROL_REQ_MAX] = '\n';
	tc_send_n(fx, other, big, CONTROL_REQ_MAX + 1);
	o = tc_line(fx, other, WAIT_MS);
	assert_non_null(o);
	assert_true(jok(o));
	json_object_put(o);
	free(big);
	tc_close(tc);
	tc_close(other);
}

static void test_disconnect_mid_request(void **state)
{
	struct fx *fx = *state;
	struct tc *tc = tc_connect(fx), *other = tc_connect(fx);

	tc_send(fx, tc, "{\"id\":\"x\",\"cmd\":\"sta");
	run_for(fx, 10);
	close(tc->fd);
	tc->fd = -1;
	run_for(fx, 20);
	assert_int_equal(fx->calls, 0);
	assert_int_equal(control_client_count(fx->ctl), 1);
	expect_serving(fx, other);
	tc_close(tc);
	tc_close(other);
}

static void test_half_close(void **state)
{
	struct fx *fx = *state;
	struct tc *tc = tc_connect(fx);
	struct json_object *o;

	/* What `socat -` does: send, shut down its side, read the answer.
	 * A partial line after the last newline is dropped unanswered. */
	tc_send(fx, tc, "{\"id\":\"h\",\"cmd\":\"status\"}\n{\"cmd\":");
	shutdown(tc->fd, SHUT_WR);
	o = tc_line(fx, tc, WAIT_MS);
	assert_non_null(o);
	assert_string_equal(jstr(o, "id", NULL), "h");
	json_object_put(o);
	assert_true(tc_closed(fx, tc, WAIT_MS));
	assert_int_equal(fx->calls, 1);
	tc_close(tc);
}

static void test_max_clients(void **state)
{
	struct fx *fx = *state;
	struct tc *a, *b, *c;

	fx->cfg.max_clients = 2;
	fx_restart(fx);
	a = tc_connect(fx);
	b = tc_connect(fx);
	c = tc_connect(fx);
	expect_error(fx, c, "busy", "");
	assert_true(tc_closed(fx, c, WAIT_MS));
	assert_int_equal(control_client_count(fx->ctl), 2);
	expect_serving(fx, a);
	tc_close(b);
	run_for(fx, 10);
	tc_close(c);
	c = tc_connect(fx);	/* a slot is free again */
	expect_serving(fx, c);
	tc_close(a);
	tc_close(c);
}

static void test_idle_timeout(void **state)
{
	struct fx *fx = *state;
	struct tc *idle, *sub, *busy;

	fx->cfg.idle_timeout_ms = 100;
	fx->mode = H_SUBSCRIBE;
	fx_restart(fx);
	idle = tc_connect(fx);
	sub = tc_connect(fx);
	tc_send(fx, sub, "{\"cmd\":\"events\",\"args\":{\"follow\":true}}\n");
	json_object_put(tc_line(fx, sub, WAIT_MS));
	fx->mode = H_ASYNC;	/* a client awaiting an answer is not idle */
	busy = tc_connect(fx);
	tc_send(fx, busy, "{\"cmd\":\"move\"}\n");
	assert_true(tc_closed(fx, idle, WAIT_MS));
	run_for(fx, 300);
	assert_int_equal(control_client_count(fx->ctl), 2);
	tc_pull(sub);
	tc_pull(busy);
	assert_false(sub->eof);
	assert_false(busy->eof);
	tc_close(idle);
	tc_close(sub);
	tc_close(busy);
}

static void test_slow_reader_dropped(void **state)
{
	struct fx *fx = *state;
	struct tc *slow, *fast;
	struct json_object *ev;
	char text[1024];
	int i;

	fx->cfg.max_output = 64 * 1024;
	fx->mode = H_SUBSCRIBE;
	fx_restart(fx);
	slow = tc_connect(fx);
	fast = tc_connect(fx);
	tc_send(fx, slow, "{\"cmd\":\"events\",\"args\":{\"follow\":true}}\n");
	tc_send(fx, fast, "{\"cmd\":\"events\",\"args\":{\"follow\":true}}\n");
	json_object_put(tc_line(fx, slow, WAIT_MS));
	json_object_put(tc_line(fx, fast, WAIT_MS));
	memset(text, 'e', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	/* 8 MiB of events: far beyond the kernel's buffers and max_output. */
	for (i = 0; i < 8192 && control_client_count(fx->ctl) == 2; i++) {
		ev = json_object_new_object();
		json_object_object_add(ev, "text", json_object_new_string(text));
		control_publish(fx->ctl, ev);
		tc_pull(fast);
		fast->len = 0;	/* the fast one reads everything */
		if (i % 16 == 0)
			run_for(fx, 1);
	}
	assert_int_equal(control_client_count(fx->ctl), 1);
	assert_true(tc_closed(fx, slow, WAIT_MS));
	tc_pull(fast);
	assert_false(fast->eof);
	tc_close(slow);
	tc_close(fast);
}

static void test_subscribe_publish(void **state)
{
	struct fx *fx = *state;
	struct tc *sub, *plain;
	struct json_object *o, *ev;

	fx->mode = H_SUBSCRIBE;
	sub = tc_connect(fx);
	tc_send(fx, sub, "{\"id\":\"f\",\"cmd\":\"events\",\"args\":{\"follow\":true}}\n");
	o = tc_line(fx, sub, WAIT_MS);
	assert_non_null(o);
	assert_string_equal(jstr(o, "id", NULL), "f");
	json_object_put(o);
	fx->mode = H_ECHO;
	plain = tc_connect(fx);
	expect_serving(fx, plain);

	ev = json_object_new_object();
	json_object_object_add(ev, "type", json_object_new_string("move"));
	json_object_object_add(ev, "text", json_object_new_string("line\nbreak"));
	control_publish(fx->ctl, ev);
	o = tc_line(fx, sub, WAIT_MS);
	assert_non_null(o);
	assert_string_equal(jstr(o, "v", NULL), "1");
	assert_string_equal(jstr(o, "event", "type"), "move");
	assert_string_equal(jstr(o, "event", "text"), "line\nbreak");
	assert_null(jstr(o, "id", NULL));
	json_object_put(o);
	assert_null(tc_line(fx, plain, QUIET_MS));
	control_publish(fx->ctl, NULL);		/* an empty event is still one line */
	o = tc_line(fx, sub, WAIT_MS);
	assert_non_null(o);
	json_object_put(o);
	tc_close(sub);
	tc_close(plain);
}

static void test_inflight_limit(void **state)
{
	struct fx *fx = *state;
	struct tc *tc = tc_connect(fx);
	struct json_object *o;
	char buf[40 * 40];
	size_t off = 0;
	int i, got = 0;

	fx->mode = H_ASYNC;
	for (i = 0; i < 40; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
					"{\"id\":\"%d\",\"cmd\":\"move\"}\n", i);
	tc_send(fx, tc, buf);
	run_for(fx, 30);
	/* The server holds back what exceeds its in-flight limit. */
	assert_true(fx->nstash > 0 && fx->nstash < 40);
	while (got < 40) {
		assert_true(got < fx->nstash);
		assert_int_equal(control_reply(fx->ctl, fx->stash[got].client, fx->stash[got].id,
					       NULL), 0);
		o = tc_line(fx, tc, WAIT_MS);
		assert_non_null(o);
		assert_int_equal(atoi(jstr(o, "id", NULL)), got);
		json_object_put(o);
		got++;
		run_for(fx, 2);
	}
	assert_int_equal(fx->nstash, 40);
	tc_close(tc);
}

/* Fork a client that becomes uid/gid NOBODY with supplementary 'groups',
 * sends one request and exits; return the handler's privileged flag. */
static bool nobody_privileged(struct fx *fx, const gid_t *groups, size_t ngroups)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int status, i;
	pid_t pid;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fx->cfg.path);
	fx->calls = 0;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char buf[512];
		int fd;

		if (setgroups(ngroups, groups) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0)
			_exit(10);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			_exit(11);
		if (write(fd, "{\"cmd\":\"standby\"}\n", 18) != 18)
			_exit(12);
		alarm(5);
		_exit(read(fd, buf, sizeof(buf)) > 0 ? 0 : 13);
	}
	for (i = 0; i < 2500 && waitpid(pid, &status, WNOHANG) == 0; i++)
		run_for(fx, 2);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(fx->calls, 1);
	assert_int_equal(fx->last.uid, NOBODY);
	assert_int_equal(fx->last.gid, NOBODY);
	return fx->last.privileged;
}

static void test_privileged(void **state)
{
	struct fx *fx = *state;
	gid_t extra = 4242;

	if (geteuid() != 0)
		skip();
	/* The socket's group lets nobody connect at all. */
	fx->cfg.group = NOBODY;
	fx_restart(fx);
	assert_false(nobody_privileged(fx, NULL, 0));
	/* Admin by primary group, then by a supplementary one. */
	fx->cfg.admin_group = NOBODY;
	fx_restart(fx);
	assert_true(nobody_privileged(fx, NULL, 0));
	fx->cfg.admin_group = extra;
	fx_restart(fx);
	assert_false(nobody_privileged(fx, NULL, 0));
	assert_true(nobody_privileged(fx, &extra, 1));
}

static void test_socket_file(void **state)
{
	struct fx *fx = *state;
	struct control *second = NULL;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	struct tc *tc;
	int fd;

	assert_int_equal(stat(fx->cfg.path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
	/* A live daemon's socket is not taken over. */
	assert_int_equal(control_new(fx->loop, &fx->cfg, handler, fx, &second), -EADDRINUSE);
	assert_null(second);
	tc = tc_connect(fx);
	expect_serving(fx, tc);
	tc_close(tc);
	control_free(fx->ctl);
	fx->ctl = NULL;
	assert_int_equal(lstat(fx->cfg.path, &st), -1);

	/* A stale one (its daemon died) is. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fx->cfg.path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(fx_start(fx), 0);
	tc = tc_connect(fx);
	expect_serving(fx, tc);
	tc_close(tc);
	control_free(fx->ctl);
	fx->ctl = NULL;

	/* Anything that is not a socket is left alone. */
	fd = open(fx->cfg.path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(fx_start(fx), -EEXIST);
	unlink(fx->cfg.path);
	assert_int_equal(fx_start(fx), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_request_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_and_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_async_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handler_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disconnect_mid_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_half_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_reader_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscribe_publish, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inflight_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_privileged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_file, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	qb_log_init("control_test", LOG_DAEMON, LOG_DEBUG);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	if (getenv("CONTROL_TEST_LOG") != NULL) {
		qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*",
				  LOG_DEBUG);
		qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, QB_TRUE);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
