/*
 * chorusctl: the operator's command line for chorusd.
 *
 * A client of the control socket's protocol and nothing else (see
 * chorusctl(8), PROTOCOL): it connects, sends one request line, reads one
 * answer line and prints it, as tables for people or as the raw "result"
 * object with --json.  Every wait is bounded by --timeout (poll() on a
 * blocking-free socket), except the event stream of `events --follow`,
 * which runs until the daemon closes it or the user interrupts.
 *
 * Exit status is part of the interface, because monitoring and hooks use
 * it: 0 ok (for `status`: the cluster is healthy), 1 `status` found the
 * cluster unhealthy, 2 usage error, 3 chorusd not reachable or no valid
 * answer, 4 chorusd answered with an error.
 *
 * Output is only ever built from the keys documented for each result;
 * keys it does not know are ignored, so a newer daemon can add fields
 * without breaking an older chorusctl.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json.h>

#include "cli/chorusctl_print.h"
#include "config.h"

#define CTL_DEFAULT_SOCKET "/run/chorus/chorusd.sock"
#define CTL_DEFAULT_TIMEOUT_MS 10000
#define CTL_DEFAULT_LIMIT 20
#define CTL_LINE_MAX (64 * 1024 * 1024) /* an answer; a status of huge clusters */

enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_UNHEALTHY = 1,
	CTL_EXIT_USAGE = 2,
	CTL_EXIT_UNREACHABLE = 3,
	CTL_EXIT_ERROR = 4,
};

struct ctl_opts {
	const char *socket;
	bool json;
	bool color;
	int timeout_ms;
	bool follow;
	bool core;		/* events --core */
	long limit;
	bool limit_set;		/* -n given: else --since shows all since */
	uint64_t since_ms;	/* events --since, wall clock; 0 = none */
	const char *fail;
	const char *standby;
	const char *node;	/* cleanup --node */
};

struct ctl_conn {
	int fd;
	char *buf;
	size_t len, cap;
};

static volatile sig_atomic_t ctl_interrupted;

static const char *const ctl_usage_text =
	"Usage: chorusctl [OPTIONS] COMMAND [ARGS]\n"
	"\n"
	"Commands:\n"
	"  status                     cluster summary, nodes and addresses\n"
	"  nodes                      nodes and their state\n"
	"  vips                       addresses and where they are\n"
	"  bricks                     bricks, their owners and what guards them\n"
	"  events [-f] [-n N] [--since WHEN]\n"
	"                             recent events (kept across restarts); -f/--follow\n"
	"                             keeps streaming; WHEN: 10m, 2h, 1d, a UTC date\n"
	"  events --core [-n N]       what this node's core was fed, step by step\n"
	"  plan [--fail NODE | --standby NODE]\n"
	"                             what would move, changing nothing\n"
	"  move VIP NODE              move an address and pin it there\n"
	"  unpin VIP                  let placement move an address again\n"
	"  standby NODE               drain a node\n"
	"  active NODE                undrain a node\n"
	"  maintenance on|off         freeze or unfreeze all moves\n"
	"  rebalance                  even out addresses now\n"
	"  reload                     re-read the configuration\n"
	"  metrics                    Prometheus metrics\n"
	"  log-level LEVEL            error|warning|notice|info|debug|trace, now\n"
	"  blackbox                   write the daemon's flight recorder to a file\n"
	"  fence-confirm NODE         vouch that a lost node is powered off\n"
	"  cleanup [HOST:PATH] [--node NODE]\n"
	"                             let bricks that failed run again: this one or\n"
	"                             all, on every node or on NODE\n"
	"  inventory-refresh VOLUME EVENT\n"
	"                             re-read the Gluster volumes (glusterd hooks)\n"
	"\n"
	"Options:\n"
	"  -s, --socket PATH          control socket (default " CTL_DEFAULT_SOCKET ",\n"
	"                             or $CHORUS_SOCKET)\n"
	"  -j, --json                 print the raw result as JSON\n"
	"  -t, --timeout SECONDS      wait at most this long (default 10)\n"
	"  -h, --help                 this help\n"
	"  -V, --version              print the version\n"
	"\n"
	"Exit status: 0 ok (status: healthy), 1 status: unhealthy, 2 usage,\n"
	"3 chorusd not reachable, 4 chorusd refused the request.\n";

__attribute__((format(printf, 1, 2)))
static int ctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("chorusctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'chorusctl --help'.\n", stderr);
	return CTL_EXIT_USAGE;
}

static int64_t ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until 'deadline' for poll(); -1 waits for ever. */
static int ctl_left(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - ctl_now_ms();
	return left <= 0 ? 0 : (left > INT32_MAX ? INT32_MAX : (int)left);
}

/* Wait for 'events' on the connection; 0, -ETIMEDOUT or -EINTR. */
static int ctl_wait(struct ctl_conn *c, short events, int64_t deadline)
{
	struct pollfd pfd = {.fd = c->fd, .events = events};
	int n;

	for (;;) {
		n = poll(&pfd, 1, ctl_left(deadline));
		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno == EINTR && ctl_interrupted)
			return -EINTR;
		if (errno != EINTR)
			return -errno;
	}
}

/* Connect without ever blocking longer than the deadline.  A Unix socket
 * connects at once or fails; EAGAIN only means the daemon's backlog is
 * full, which is worth retrying until the deadline. */
static int ctl_connect(struct ctl_conn *c, const char *path, int64_t deadline)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	for (;;) {
		if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return 0;
		if (errno != EAGAIN || ctl_left(deadline) == 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		usleep(10000);
	}
}

static int ctl_send(struct ctl_conn *c, const char *s, size_t size, int64_t deadline)
{
	size_t off = 0;
	ssize_t n;
	int rc;

	while (off < size) {
		n = send(c->fd, s + off, size - off, MSG_NOSIGNAL);
		if (n >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		rc = ctl_wait(c, POLLOUT, deadline);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The next line, NUL-terminated in place (valid until the next call).
 * Returns 1 with '*line' set, 0 at EOF, or -errno (-ETIMEDOUT, -EINTR,
 * -EMSGSIZE for a line past CTL_LINE_MAX). */
static int ctl_read_line(struct ctl_conn *c, int64_t deadline, char **line, size_t *consumed)
{
	char *nl, *p;
	ssize_t n;
	int rc;

	if (*consumed > 0) {
		memmove(c->buf, c->buf + *consumed, c->len - *consumed);
		c->len -= *consumed;
		*consumed = 0;
	}
	for (;;) {
		nl = c->len > 0 ? memchr(c->buf, '\n', c->len) : NULL;
		if (nl != NULL) {
			*nl = '\0';
			*line = c->buf;
			*consumed = (size_t)(nl - c->buf) + 1;
			return 1;
		}
		if (c->len + 1 >= c->cap) {
			if (c->cap >= CTL_LINE_MAX)
				return -EMSGSIZE;
			p = realloc(c->buf, c->cap != 0 ? c->cap * 2 : 65536);
			if (p == NULL)
				return -ENOMEM;
			c->buf = p;
			c->cap = c->cap != 0 ? c->cap * 2 : 65536;
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
		if (n > 0) {
			c->len += (size_t)n;
			continue;
		}
		if (n == 0)
			return 0;
		if (errno == EINTR && !ctl_interrupted)
			continue;
		if (errno == ECONNRESET)
			return 0;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		rc = ctl_wait(c, POLLIN, deadline);
		if (rc != 0)
			return rc;
	}
}

enum ctl_kind { K_STATUS, K_NODES, K_VIPS, K_BRICKS, K_EVENTS, K_PLAN, K_CHANGE, K_METRICS };

struct ctl_cmd {
	const char *name;
	int nargs;		/* positional arguments after the command */
	enum ctl_kind kind;
	const char *args;	/* for the usage message */
	int nopt;		/* of which the last ones may be left out */
};

static const struct ctl_cmd ctl_cmds[] = {
	{"status", 0, K_STATUS, "", 0},
	{"nodes", 0, K_NODES, "", 0},
	{"vips", 0, K_VIPS, "", 0},
	{"bricks", 0, K_BRICKS, "", 0},
	{"events", 0, K_EVENTS, " [-f] [-n N] [--since WHEN] | --core [-n N]", 0},
	{"plan", 0, K_PLAN, " [--fail NODE | --standby NODE]", 0},
	{"move", 2, K_CHANGE, " VIP NODE", 0},
	{"unpin", 1, K_CHANGE, " VIP", 0},
	{"standby", 1, K_CHANGE, " NODE", 0},
	{"active", 1, K_CHANGE, " NODE", 0},
	{"maintenance", 1, K_CHANGE, " on|off", 0},
	{"rebalance", 0, K_CHANGE, "", 0},
	{"reload", 0, K_CHANGE, "", 0},
	{"metrics", 0, K_METRICS, "", 0},
	{"log-level", 1, K_CHANGE, " error|warning|notice|info|debug|trace", 0},
	{"blackbox", 0, K_CHANGE, "", 0},
	{"inventory-refresh", 2, K_CHANGE, " VOLUME EVENT", 0},
	{"fence-confirm", 1, K_CHANGE, " NODE", 0},
	{"cleanup", 1, K_CHANGE, " [HOST:PATH] [--node NODE]", 1},
};

/* What a change did, in words, e.g. "10.0.0.5 pinned to n2". */
static void ctl_print_change(const struct ctl_cmd *cmd, char **argv, const char *o_node,
			     struct json_object *res)
{
	const char *name = cmd->name;
	int64_t gen;
	char what[512];

	if (strcmp(name, "move") == 0)
		snprintf(what, sizeof(what), "%s pinned to %s", argv[0], argv[1]);
	else if (strcmp(name, "unpin") == 0)
		snprintf(what, sizeof(what), "%s unpinned", argv[0]);
	else if (strcmp(name, "standby") == 0)
		snprintf(what, sizeof(what), "%s in standby", argv[0]);
	else if (strcmp(name, "active") == 0)
		snprintf(what, sizeof(what), "%s active", argv[0]);
	else if (strcmp(name, "maintenance") == 0)
		snprintf(what, sizeof(what), "maintenance %s", argv[0]);
	else if (strcmp(name, "rebalance") == 0)
		snprintf(what, sizeof(what), "rebalanced");
	else if (strcmp(name, "log-level") == 0)
		snprintf(what, sizeof(what), "log level %s", argv[0]);
	else if (strcmp(name, "inventory-refresh") == 0)
		snprintf(what, sizeof(what), "gluster inventory re-read requested");
	else if (strcmp(name, "fence-confirm") == 0)
		snprintf(what, sizeof(what), "%s confirmed down: its bricks may be taken over",
			 argv[0]);
	else if (strcmp(name, "cleanup") == 0)
		snprintf(what, sizeof(what), "failure holds of %s ended on %s",
			 argv[0] != NULL ? argv[0] : "every brick",
			 chorusctl_jbool(res, "local") == 1 ? "this node (no quorate cluster)"
			 : o_node != NULL ? o_node : "every node");
	else if (strcmp(name, "blackbox") == 0)
		snprintf(what, sizeof(what), "flight recorder written to %s (read it with qb-blackbox)",
			 chorusctl_jstr(res, "path", "?"));
	else
		snprintf(what, sizeof(what), "configuration reloaded");
	if (chorusctl_jbool(res, "applied") == 0)
		printf("%s: nothing to change", name);
	else
		fputs(what, stdout);
	/* a cleanup changes no replicated state: its generation says nothing */
	if (chorusctl_jint(res, "generation", &gen) && strcmp(name, "cleanup") != 0)
		printf(" (generation %lld)", (long long)gen);
	fputc('\n', stdout);
	chorusctl_print_change_moves(res, strcmp(name, "move") == 0 ? argv[0] : NULL);
}

/* "A.B.C.D" or an IPv6 address, optionally with a prefix length (the
 * daemon ignores it: it is not part of an address's identity). */
static bool ctl_is_address(const char *s)
{
	unsigned char buf[16];
	char addr[INET6_ADDRSTRLEN + 1], *end;
	const char *slash = strchr(s, '/');
	size_t len = slash != NULL ? (size_t)(slash - s) : strlen(s);
	long plen;

	if (len == 0 || len >= sizeof(addr))
		return false;
	memcpy(addr, s, len);
	addr[len] = '\0';
	if (slash != NULL) {
		errno = 0;
		plen = strtol(slash + 1, &end, 10);
		if (errno != 0 || end == slash + 1 || *end != '\0' || plen < 0 ||
		    plen > (strchr(addr, ':') != NULL ? 128 : 32))
			return false;
	}
	return inet_pton(AF_INET, addr, buf) == 1 || inet_pton(AF_INET6, addr, buf) == 1;
}

/* The request's "args" for 'cmd', or NULL after printing a usage error. */
static struct json_object *ctl_build_args(const struct ctl_cmd *cmd, char **argv,
					  const struct ctl_opts *o)
{
	struct json_object *args = json_object_new_object();
	const char *name = cmd->name;

	if (args == NULL)
		return NULL;
	if (strcmp(name, "move") == 0 || strcmp(name, "unpin") == 0) {
		if (!ctl_is_address(argv[0])) {
			ctl_usage_error("not an IP address: '%s'", argv[0]);
			goto out_put;
		}
		json_object_object_add(args, "vip", json_object_new_string(argv[0]));
	}
	if (strcmp(name, "cleanup") == 0 && o->node != NULL) {
		if (o->node[0] == '\0') {
			ctl_usage_error("empty node name");
			goto out_put;
		}
		json_object_object_add(args, "node", json_object_new_string(o->node));
	}
	if (strcmp(name, "cleanup") == 0 && argv[0] != NULL) {
		/* the host may be an IPv6 address: the path's slash ends it */
		const char *sep = strstr(argv[0], ":/");

		if (sep == NULL || sep == argv[0]) {
			ctl_usage_error("a brick is HOST:PATH, as status shows it, not '%s'",
					argv[0]);
			goto out_put;
		}
		json_object_object_add(args, "brick", json_object_new_string(argv[0]));
	}
	if (strcmp(name, "inventory-refresh") == 0) {
		/* from the glusterd hooks; the daemon only logs these */
		json_object_object_add(args, "volume", json_object_new_string(argv[0]));
		json_object_object_add(args, "event", json_object_new_string(argv[1]));
	}
	if (strcmp(name, "move") == 0 || strcmp(name, "standby") == 0 ||
	    strcmp(name, "active") == 0 || strcmp(name, "fence-confirm") == 0) {
		const char *node = argv[strcmp(name, "move") == 0 ? 1 : 0];

		if (node[0] == '\0') {
			ctl_usage_error("empty node name");
			goto out_put;
		}
		json_object_object_add(args, "node", json_object_new_string(node));
	}
	if (strcmp(name, "maintenance") == 0) {
		if (strcmp(argv[0], "on") != 0 && strcmp(argv[0], "off") != 0) {
			ctl_usage_error("maintenance takes 'on' or 'off', not '%s'", argv[0]);
			goto out_put;
		}
		json_object_object_add(args, "on", json_object_new_boolean(argv[0][1] == 'n'));
	}
	if (strcmp(name, "log-level") == 0)
		json_object_object_add(args, "level", json_object_new_string(argv[0]));
	if (cmd->kind == K_EVENTS) {
		json_object_object_add(args, "follow", json_object_new_boolean(o->follow));
		json_object_object_add(args, "limit", json_object_new_int64(
			o->since_ms && !o->limit_set ? 0 : o->limit));
		if (o->since_ms)
			json_object_object_add(args, "since",
					       json_object_new_int64((int64_t)o->since_ms));
		if (o->core)
			json_object_object_add(args, "core", json_object_new_boolean(true));
	}
	if (cmd->kind == K_PLAN && o->fail != NULL)
		json_object_object_add(args, "fail", json_object_new_string(o->fail));
	if (cmd->kind == K_PLAN && o->standby != NULL)
		json_object_object_add(args, "standby", json_object_new_string(o->standby));
	return args;

out_put:
	json_object_put(args);
	return NULL;
}

static int ctl_unreachable(const struct ctl_opts *o, const char *what, int rc)
{
	fprintf(stderr, "chorusctl: %s %s: %s", what, o->socket,
		rc == -ETIMEDOUT ? "no answer in time" : strerror(-rc));
	if (rc == -ENOENT || rc == -ECONNREFUSED)
		fputs(" (is chorusd running?)", stderr);
	else if (rc == -EACCES)
		fputs(" (not in the socket's group?)", stderr);
	fputc('\n', stderr);
	return CTL_EXIT_UNREACHABLE;
}

/* Check an answer line.  Returns 0 with '*result' (borrowed from '*root')
 * for ok, CTL_EXIT_ERROR after printing the daemon's error, or
 * CTL_EXIT_UNREACHABLE for anything that is not a valid answer. */
static int ctl_check_answer(const char *line, const char *id, struct json_object **root,
			    struct json_object **result)
{
	struct json_object *err;
	const char *rid;
	int64_t v;
	int ok;

	*root = json_tokener_parse(line);
	if (!json_object_is_type(*root, json_type_object) || !chorusctl_jint(*root, "v", &v))
		goto bad;
	if (v != 1) {
		fprintf(stderr, "chorusctl: chorusd speaks protocol %lld, this chorusctl 1\n",
			(long long)v);
		return CTL_EXIT_UNREACHABLE;
	}
	/* An answer to someone else's request would be a daemon bug; "" is
	 * what a refusal before reading the request carries (busy). */
	rid = chorusctl_jstr(*root, "id", NULL);
	if (rid == NULL || (rid[0] != '\0' && strcmp(rid, id) != 0))
		goto bad;
	ok = chorusctl_jbool(*root, "ok");
	if (ok == 0) {
		err = chorusctl_jget(*root, "error");
		fprintf(stderr, "chorusctl: %s: %s\n", chorusctl_jstr(err, "code", "error"),
			chorusctl_jstr(err, "message", "(no message)"));
		return CTL_EXIT_ERROR;
	}
	*result = chorusctl_jget(*root, "result");
	if (ok == 1 && json_object_is_type(*result, json_type_object))
		return 0;
bad:
	fprintf(stderr, "chorusctl: malformed answer from chorusd\n");
	return CTL_EXIT_UNREACHABLE;
}

static void ctl_on_sigint(int sig)
{
	(void)sig;
	ctl_interrupted = 1;
}

/* events --follow: print event lines as they come, until the daemon
 * closes the stream or the user interrupts (both a normal end: 0). */
static int ctl_follow(struct ctl_conn *c, size_t *consumed, const struct ctl_opts *o)
{
	struct sigaction sa = {.sa_handler = ctl_on_sigint};
	struct json_object *root;
	char *line;
	int rc;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (;;) {
		rc = ctl_read_line(c, -1, &line, consumed);
		if (rc <= 0)
			return rc == 0 || rc == -EINTR ? CTL_EXIT_OK : CTL_EXIT_UNREACHABLE;
		root = json_tokener_parse(line);
		if (json_object_is_type(chorusctl_jget(root, "event"), json_type_object))
			chorusctl_print_event(chorusctl_jget(root, "event"), o->json);
		json_object_put(root);
		if (fflush(stdout) != 0)
			return CTL_EXIT_OK;	/* the reader went away */
	}
}

static int ctl_print_result(const struct ctl_cmd *cmd, char **argv, struct json_object *res,
			    const struct ctl_opts *o)
{
	struct json_object *events;
	size_t i, n;

	if (o->json && !(cmd->kind == K_EVENTS && o->follow)) {
		puts(json_object_to_json_string_ext(res, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
		if (cmd->kind == K_STATUS)
			return chorusctl_jbool(chorusctl_jget(res, "cluster"), "healthy") == 1 ? CTL_EXIT_OK
									     : CTL_EXIT_UNHEALTHY;
		return CTL_EXIT_OK;
	}
	switch (cmd->kind) {
	case K_STATUS:
		return chorusctl_print_status(res);
	case K_NODES:
		chorusctl_print_nodes(chorusctl_jarray(res, "nodes"), "");
		break;
	case K_VIPS:
		chorusctl_print_vips(chorusctl_jarray(res, "vips"), NULL, "");
		break;
	case K_BRICKS:
		if (!chorusctl_print_bricks(res, true))
			printf("No bricks configured.\n");
		break;
	case K_EVENTS:
		if (o->core) {
			chorusctl_print_core_events(res);
			break;
		}
		events = chorusctl_jarray(res, "events");
		n = events != NULL ? json_object_array_length(events) : 0;
		for (i = 0; i < n; i++)
			chorusctl_print_event(json_object_array_get_idx(events, i), o->json);
		if (n == 0 && !o->follow)
			printf("No events.\n");
		break;
	case K_PLAN:
		chorusctl_print_plan(res, o->fail, o->standby);
		break;
	case K_CHANGE:
		ctl_print_change(cmd, argv, o->node, res);
		break;
	case K_METRICS:
		fputs(chorusctl_jstr(res, "text", ""), stdout);
		break;
	}
	return CTL_EXIT_OK;
}

/* Send the request, wait for its answer and print it. */
static int ctl_run(const struct ctl_cmd *cmd, char **argv, const struct ctl_opts *o)
{
	struct ctl_conn c = {.fd = -1};
	struct json_object *req, *args, *root = NULL, *result = NULL;
	int64_t deadline = ctl_now_ms() + o->timeout_ms;
	const char *s;
	size_t len, consumed = 0;
	char id[32], *line;
	int rc, ret;

	args = ctl_build_args(cmd, argv, o);
	if (args == NULL)
		return CTL_EXIT_USAGE;
	snprintf(id, sizeof(id), "%d-1", (int)getpid());
	req = json_object_new_object();
	json_object_object_add(req, "v", json_object_new_int(1));
	json_object_object_add(req, "id", json_object_new_string(id));
	json_object_object_add(req, "cmd", json_object_new_string(cmd->name));
	json_object_object_add(req, "args", args);
	rc = ctl_connect(&c, o->socket, deadline);
	if (rc != 0) {
		ret = ctl_unreachable(o, "cannot connect to", rc);
		goto out;
	}
	s = json_object_to_json_string_length(
		req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	rc = ctl_send(&c, s, len, deadline);
	if (rc == 0)
		rc = ctl_send(&c, "\n", 1, deadline);
	/* A daemon that refuses the connection (busy) may close it before the
	 * request is out; its one-line reason is still worth reading. */
	if (rc != 0 && rc != -EPIPE && rc != -ECONNRESET) {
		ret = ctl_unreachable(o, "cannot send to", rc);
		goto out;
	}
	rc = ctl_read_line(&c, deadline, &line, &consumed);
	if (rc <= 0) {
		ret = ctl_unreachable(o, "no answer from", rc == 0 ? -ECONNRESET : rc);
		goto out;
	}
	ret = ctl_check_answer(line, id, &root, &result);
	if (ret != 0)
		goto out;
	ret = ctl_print_result(cmd, argv, result, o);
	if (cmd->kind == K_EVENTS && o->follow) {
		fflush(stdout);
		ret = ctl_follow(&c, &consumed, o);
	}
out:
	json_object_put(root);
	json_object_put(req);
	if (c.fd >= 0)
		close(c.fd);
	free(c.buf);
	return ret;
}

/* "30s", "10m", "2h", "1d" ago; "YYYY-MM-DDTHH:MM[:SS][Z]" in UTC; or
 * "@SECONDS" since the epoch.  The daemon compares wall-clock times. */
static int ctl_parse_since(const char *s, uint64_t *out)
{
	struct timespec now;
	struct tm tm;
	char *end;
	unsigned long long v;

	clock_gettime(CLOCK_REALTIME, &now);
	if (s[0] == '@') {
		errno = 0;
		v = strtoull(s + 1, &end, 10);
		if (errno != 0 || end == s + 1 || *end != '\0' || v > 100000000000ull)
			return -1;
		*out = v * 1000;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M", &tm);
	if (end != NULL) {
		if (*end == ':')
			end = strptime(end + 1, "%S", &tm);
		if (end == NULL || (*end != '\0' && strcmp(end, "Z") != 0))
			return -1;
		*out = (uint64_t)timegm(&tm) * 1000;
		return 0;
	}
	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || end[0] == '\0' || end[1] != '\0' || v > 100000000ull)
		return -1;
	switch (*end) {
	case 's': break;
	case 'm': v *= 60; break;
	case 'h': v *= 3600; break;
	case 'd': v *= 86400; break;
	default: return -1;
	}
	if (v * 1000 > (uint64_t)now.tv_sec * 1000)
		return -1;
	*out = ((uint64_t)now.tv_sec - v) * 1000 + (uint64_t)now.tv_nsec / 1000000;
	if (*out == 0)
		*out = 1;
	return 0;
}

static int ctl_parse_opts(int argc, char **argv, struct ctl_opts *o)
{
	static const struct option longopts[] = {
		{"socket", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"timeout", required_argument, NULL, 't'},
		{"follow", no_argument, NULL, 'f'},
		{"core", no_argument, NULL, 'C'},
		{"since", required_argument, NULL, 'A'},
		{"fail", required_argument, NULL, 'F'},
		{"standby", required_argument, NULL, 'S'},
		{"node", required_argument, NULL, 'N'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	char *end;
	double secs;
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":s:jt:fn:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			o->socket = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 't':
			errno = 0;
			secs = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' || !(secs > 0) ||
			    secs > 86400)
				return ctl_usage_error("bad --timeout '%s' (seconds, up to 86400)",
						       optarg);
			o->timeout_ms = secs * 1000 < 1 ? 1 : (int)(secs * 1000);
			break;
		case 'f':
			o->follow = true;
			break;
		case 'C':
			o->core = true;
			break;
		case 'n':
			errno = 0;
			o->limit = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || o->limit < 1 ||
			    o->limit > 100000)
				return ctl_usage_error("bad -n '%s' (1 to 100000)", optarg);
			o->limit_set = true;
			break;
		case 'A':
			if (ctl_parse_since(optarg, &o->since_ms) < 0)
				return ctl_usage_error("bad --since '%s' (30s, 10m, 2h, 1d, "
						       "YYYY-MM-DDTHH:MM[:SS] in UTC, or @SECONDS)",
						       optarg);
			break;
		case 'F':
			o->fail = optarg;
			break;
		case 'S':
			o->standby = optarg;
			break;
		case 'N':
			o->node = optarg;
			break;
		case 'h':
			fputs(ctl_usage_text, stdout);
			exit(CTL_EXIT_OK);
		case 'V':
			printf("chorusctl %s\n", PACKAGE_VERSION);
			exit(CTL_EXIT_OK);
		case ':':
			return ctl_usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return ctl_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ctl_opts o = {.timeout_ms = CTL_DEFAULT_TIMEOUT_MS, .limit = CTL_DEFAULT_LIMIT};
	const struct ctl_cmd *cmd = NULL;
	const char *env = getenv("CHORUS_SOCKET"), *nc = getenv("NO_COLOR");
	size_t i;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	o.socket = env != NULL && env[0] != '\0' ? env : CTL_DEFAULT_SOCKET;
	rc = ctl_parse_opts(argc, argv, &o);
	if (rc != 0)
		return rc;
	if (optind >= argc)
		return ctl_usage_error("no command given");
	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
		if (strcmp(argv[optind], ctl_cmds[i].name) == 0)
			cmd = &ctl_cmds[i];
	if (cmd == NULL) {
		if (strcmp(argv[optind], "help") == 0) {
			fputs(ctl_usage_text, stdout);
			return CTL_EXIT_OK;
		}
		return ctl_usage_error("unknown command '%s'", argv[optind]);
	}
	if (argc - optind - 1 > cmd->nargs || argc - optind - 1 < cmd->nargs - cmd->nopt)
		return ctl_usage_error("usage: chorusctl %s%s", cmd->name, cmd->args);
	if ((o.follow || o.core || o.limit_set || o.since_ms) && cmd->kind != K_EVENTS)
		return ctl_usage_error("-f, -n, --since and --core go with 'events' only");
	if (o.since_ms && o.core)
		return ctl_usage_error("--since goes with operator events, not --core");
	if (o.follow && o.core)
		return ctl_usage_error("core events cannot be followed");
	if ((o.fail != NULL || o.standby != NULL) && cmd->kind != K_PLAN)
		return ctl_usage_error("--fail and --standby go with 'plan' only");
	if (o.node != NULL && strcmp(cmd->name, "cleanup") != 0)
		return ctl_usage_error("--node goes with 'cleanup' only");
	if (o.fail != NULL && o.standby != NULL)
		return ctl_usage_error("give --fail or --standby, not both");
	chorusctl_color = !o.json && isatty(STDOUT_FILENO) && (nc == NULL || nc[0] == '\0');
	rc = ctl_run(cmd, argv + optind + 1, &o);
	if (fflush(stdout) != 0 && errno != EPIPE) {
		perror("chorusctl: stdout");
		return rc != 0 ? rc : 1;
	}
	return rc;
}
