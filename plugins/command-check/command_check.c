/*
 * chorus-command-check: run operator commands periodically and map their
 * exit status to a verdict for scope "check:NAME".
 *
 *	{"checks": [{"name": "nfs",
 *		     "argv": ["/usr/bin/rpcinfo", "-t", "localhost", "nfs"],
 *		     "interval_ms": 5000, "timeout_ms": 3000,
 *		     "fail_after": 3, "recover_after": 2, "shell": false}]}
 *
 * Exit 0 is ok, 1 degraded; any other status, a signal, or the timeout is
 * failed.  With "shell": true, "argv" is one string (or a one-element
 * array) run by /bin/sh -c.  The command runs in its own process group
 * with stdin on /dev/null and stdout/stderr captured (the first line goes
 * into the reason), with CHORUS_NODE_ID and CHORUS_SCOPE added to the
 * daemon's environment.
 *
 * Each run happens in a host check (a worker thread), which spawns the
 * command, waits on a pidfd with the configured timeout, then sends SIGTERM
 * to the group, SIGKILL after 1 s, and always reaps the child: no zombies.
 * The host's own timeout is set beyond that, so a slow command reports
 * "timed out after N ms" from here and its worker is not written off.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include <chorus/plugin.h>

extern char **environ;

#define KILL_GRACE_MS 1000
#define OUTPUT_KEEP 160

struct cmd {
	char *name;
	char *scope;
	char **argv;			/* NULL-terminated */
	const struct chorus_host_api *api;
	uint32_t interval_ms;
	uint32_t timeout_ms;
	uint32_t fail_after;
	uint32_t recover_after;
	int check_id;
	struct cmd *next;		/* in state->cmds or state->retired */
};

struct state {
	const struct chorus_host_api *api;
	struct cmd *cmds;
	/* Commands of an older configuration: a run may still be in progress
	 * on a worker, so they are freed only at fini. */
	struct cmd *retired;
};

static void strv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **s = v; *s != NULL; s++)
		free(*s);
	free(v);
}

static void cmd_free(struct cmd *c)
{
	free(c->name);
	free(c->scope);
	strv_free(c->argv);
	free(c);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Keep the first line of the output, for the reason. */
static void output_add(char *out, size_t *len, const char *buf, size_t n)
{
	for (size_t i = 0; i < n && *len < OUTPUT_KEEP; i++) {
		if (buf[i] == '\n') {
			if (*len > 0) {
				*len = OUTPUT_KEEP;	/* first non-empty line done */
				break;
			}
			continue;
		}
		out[(*len)++] = buf[i] >= 0x20 && buf[i] < 0x7f ? buf[i] : '?';
	}
}

/* Wait for 'pid' (with 'pidfd') until 'deadline' (monotonic ms), draining
 * 'outfd' meanwhile.  Returns true if it exited. */
static bool wait_until(pid_t pid, int pidfd, int *outfd, int64_t deadline, char *out,
		       size_t *outlen, int *status)
{
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = pidfd, .events = POLLIN },
			{ .fd = *outfd, .events = POLLIN },
		};
		int64_t left = deadline - mono_ms();
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return true;
		if (r < 0 && errno == ECHILD) {
			/* Something else in the process reaped it. */
			*status = -1;
			return true;
		}
		if (left <= 0)
			return false;
		/* Without a pidfd, poll the child every 10 ms. */
		if (poll(pfd, *outfd >= 0 ? 2 : 1, pidfd >= 0 ? (int)left : (left < 10 ? (int)left : 10)) <
			    0 &&
		    errno != EINTR)
			return false;
		if (*outfd >= 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			char buf[512];
			ssize_t n = read(*outfd, buf, sizeof(buf));

			if (n > 0) {
				output_add(out, outlen, buf, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				close(*outfd);
				*outfd = -1;
			}
		}
	}
}

/* The daemon's environment plus CHORUS_NODE_ID and CHORUS_SCOPE. */
static char **cmd_env(const char *scope, uint32_t node_id)
{
	size_t n = 0, j = 0;
	char **env;

	while (environ != NULL && environ[n] != NULL)
		n++;
	env = calloc(n + 3, sizeof(*env));
	if (env == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(environ[i], "CHORUS_NODE_ID=", 15) == 0 ||
		    strncmp(environ[i], "CHORUS_SCOPE=", 13) == 0)
			continue;
		if ((env[j++] = strdup(environ[i])) == NULL)
			goto fail;
	}
	if (asprintf(&env[j++], "CHORUS_NODE_ID=%u", node_id) < 0) {
		env[j - 1] = NULL;
		goto fail;
	}
	if (asprintf(&env[j++], "CHORUS_SCOPE=%s", scope) < 0) {
		env[j - 1] = NULL;
		goto fail;
	}
	return env;
fail:
	strv_free(env);
	return NULL;
}

static enum chorus_health cmd_run(struct chorus_plugin_ctx *ctx, void *arg, char *reason,
				  size_t reason_size)
{
	struct cmd *c = arg;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	char out[OUTPUT_KEEP + 1];
	size_t outlen = 0;
	int pipefd[2] = { -1, -1 };
	char **envp;
	int pidfd = -1, status = 0, rc;
	pid_t pid;
	int64_t start;
	bool exited;
	enum chorus_health verdict;

	/* Built per run: the node id may become known after init. */
	envp = cmd_env(c->scope, c->api->node_id(ctx));
	if (envp == NULL) {
		snprintf(reason, reason_size, "cannot run %s: out of memory", c->argv[0]);
		return CHORUS_HEALTH_FAILED;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		snprintf(reason, reason_size, "cannot run %s: pipe: %s", c->argv[0], strerror(errno));
		strv_free(envp);
		return CHORUS_HEALTH_FAILED;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	posix_spawnattr_init(&attr);
	/* The worker blocks every signal; the command must not inherit that. */
	sigemptyset(&none);
	sigfillset(&dfl);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
						POSIX_SPAWN_SETPGROUP);
	start = mono_ms();
	rc = posix_spawn(&pid, c->argv[0], &fa, &attr, c->argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	strv_free(envp);
	close(pipefd[1]);
	if (rc != 0) {
		close(pipefd[0]);
		snprintf(reason, reason_size, "cannot run %s: %s", c->argv[0], strerror(rc));
		return CHORUS_HEALTH_FAILED;
	}
	pidfd = pidfd_open(pid, 0);

	exited = wait_until(pid, pidfd, &pipefd[0], start + c->timeout_ms, out, &outlen, &status);
	if (!exited) {
		kill(-pid, SIGTERM);
		kill(pid, SIGTERM);
		if (!wait_until(pid, pidfd, &pipefd[0], mono_ms() + KILL_GRACE_MS, out, &outlen,
				&status)) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
		}
		/* Whatever else is left in its group goes too. */
		kill(-pid, SIGKILL);
		snprintf(reason, reason_size, "timed out after %u ms (killed)", c->timeout_ms);
		verdict = CHORUS_HEALTH_FAILED;
		goto out;
	}
	/* Take what the command wrote just before it exited (without waiting
	 * for a background child that may hold the pipe open). */
	if (pipefd[0] >= 0) {
		char buf[512];
		ssize_t n;

		(void)fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
		while ((n = read(pipefd[0], buf, sizeof(buf))) > 0)
			output_add(out, &outlen, buf, (size_t)n);
	}
	out[outlen < OUTPUT_KEEP ? outlen : OUTPUT_KEEP] = '\0';
	if (status == -1) {
		snprintf(reason, reason_size, "exit status lost (the child was reaped elsewhere)");
		verdict = CHORUS_HEALTH_FAILED;
	} else if (WIFEXITED(status)) {
		int code = WEXITSTATUS(status);

		verdict = code == 0 ? CHORUS_HEALTH_OK
			  : code == 1 ? CHORUS_HEALTH_DEGRADED
				      : CHORUS_HEALTH_FAILED;
		snprintf(reason, reason_size, "exit %d%s%s", code, out[0] ? ": " : "", out);
	} else {
		snprintf(reason, reason_size, "killed by signal %d%s%s", WTERMSIG(status),
			 out[0] ? ": " : "", out);
		verdict = CHORUS_HEALTH_FAILED;
	}
out:
	if (pidfd >= 0)
		close(pidfd);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	return verdict;
}

static int get_u32(struct json_object *o, const char *key, uint32_t def, uint32_t *out)
{
	struct json_object *v;
	int64_t x;

	if (!json_object_object_get_ex(o, key, &v)) {
		*out = def;
		return 0;
	}
	if (!json_object_is_type(v, json_type_int))
		return -EINVAL;
	x = json_object_get_int64(v);
	if (x <= 0 || x > 86400000)
		return -EINVAL;
	*out = (uint32_t)x;
	return 0;
}

static int cmd_parse(struct chorus_plugin_ctx *ctx, const struct chorus_host_api *api,
		     struct json_object *o, struct cmd **out)
{
	struct json_object *v, *argv;
	struct cmd *c;
	bool shell = false;
	size_t n;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	if (!json_object_object_get_ex(o, "name", &v) || !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) == 0) {
		api->log(ctx, CHORUS_LOG_ERR, "a check has no \"name\"");
		goto bad;
	}
	c->name = strdup(json_object_get_string(v));
	if (json_object_object_get_ex(o, "shell", &v))
		shell = json_object_get_boolean(v);
	if (get_u32(o, "interval_ms", 5000, &c->interval_ms) < 0 ||
	    get_u32(o, "timeout_ms", 3000, &c->timeout_ms) < 0 ||
	    get_u32(o, "fail_after", CHORUS_CHECK_FAIL_AFTER_DEFAULT, &c->fail_after) < 0 ||
	    get_u32(o, "recover_after", CHORUS_CHECK_RECOVER_AFTER_DEFAULT, &c->recover_after) < 0) {
		api->log(ctx, CHORUS_LOG_ERR, "check %s: interval_ms, timeout_ms, fail_after and "
			 "recover_after must be positive integers", c->name);
		goto bad;
	}
	if (!json_object_object_get_ex(o, "argv", &argv)) {
		api->log(ctx, CHORUS_LOG_ERR, "check %s: no \"argv\"", c->name);
		goto bad;
	}
	if (shell) {
		struct json_object *s = argv;

		if (json_object_is_type(argv, json_type_array) &&
		    json_object_array_length(argv) == 1)
			s = json_object_array_get_idx(argv, 0);
		if (!json_object_is_type(s, json_type_string)) {
			api->log(ctx, CHORUS_LOG_ERR, "check %s: with \"shell\", \"argv\" is one "
				 "string", c->name);
			goto bad;
		}
		c->argv = calloc(4, sizeof(char *));
		if (c->argv == NULL)
			goto nomem;
		c->argv[0] = strdup("/bin/sh");
		c->argv[1] = strdup("-c");
		c->argv[2] = strdup(json_object_get_string(s));
		if (!c->argv[0] || !c->argv[1] || !c->argv[2])
			goto nomem;
	} else {
		if (!json_object_is_type(argv, json_type_array) ||
		    (n = json_object_array_length(argv)) == 0) {
			api->log(ctx, CHORUS_LOG_ERR, "check %s: \"argv\" must be a non-empty "
				 "array of strings", c->name);
			goto bad;
		}
		c->argv = calloc(n + 1, sizeof(char *));
		if (c->argv == NULL)
			goto nomem;
		for (size_t i = 0; i < n; i++) {
			struct json_object *a = json_object_array_get_idx(argv, i);

			if (!json_object_is_type(a, json_type_string)) {
				api->log(ctx, CHORUS_LOG_ERR, "check %s: argv[%zu] is not a string",
					 c->name, i);
				goto bad;
			}
			if ((c->argv[i] = strdup(json_object_get_string(a))) == NULL)
				goto nomem;
		}
		if (c->argv[0][0] != '/') {
			api->log(ctx, CHORUS_LOG_ERR, "check %s: argv[0] must be an absolute path "
				 "(no PATH search without \"shell\")", c->name);
			goto bad;
		}
	}
	if (asprintf(&c->scope, "check:%s", c->name) < 0) {
		c->scope = NULL;
		goto nomem;
	}
	c->api = api;
	*out = c;
	return 0;
nomem:
	cmd_free(c);
	return -ENOMEM;
bad:
	cmd_free(c);
	return -EINVAL;
}

static int parse_config(struct chorus_plugin_ctx *ctx, const struct chorus_host_api *api,
			const char *config_json, struct cmd **out)
{
	struct json_object *root, *checks;
	struct cmd *head = NULL, **tail = &head;
	int rc = 0;

	root = json_tokener_parse(config_json);
	if (root == NULL || !json_object_is_type(root, json_type_object)) {
		api->log(ctx, CHORUS_LOG_ERR, "configuration is not a JSON object");
		json_object_put(root);
		return -EINVAL;
	}
	if (json_object_object_get_ex(root, "checks", &checks)) {
		if (!json_object_is_type(checks, json_type_array)) {
			api->log(ctx, CHORUS_LOG_ERR, "\"checks\" must be an array");
			rc = -EINVAL;
			goto out;
		}
		for (size_t i = 0; i < json_object_array_length(checks); i++) {
			struct cmd *c = NULL;

			rc = cmd_parse(ctx, api, json_object_array_get_idx(checks, i), &c);
			if (rc < 0)
				goto out;
			for (struct cmd *d = head; d != NULL; d = d->next)
				if (strcmp(d->name, c->name) == 0) {
					api->log(ctx, CHORUS_LOG_ERR, "check %s defined twice",
						 c->name);
					cmd_free(c);
					rc = -EINVAL;
					goto out;
				}
			*tail = c;
			tail = &c->next;
		}
	}
out:
	json_object_put(root);
	if (rc < 0) {
		while (head != NULL) {
			struct cmd *n = head->next;

			cmd_free(head);
			head = n;
		}
		return rc;
	}
	*out = head;
	return 0;
}

static int start_all(struct chorus_plugin_ctx *ctx, const struct chorus_host_api *api,
		     struct cmd *head)
{
	for (struct cmd *c = head; c != NULL; c = c->next) {
		/* The host's timeout is beyond ours, which includes the kill. */
		int id = api->schedule_check(ctx, c->scope, c->interval_ms,
					     c->timeout_ms + KILL_GRACE_MS + 1000, cmd_run, c);

		if (id < 0)
			return id;
		c->check_id = id;
		api->check_set_hysteresis(ctx, id, c->fail_after, c->recover_after);
		api->log(ctx, CHORUS_LOG_INFO, "check %s: %s every %u ms, timeout %u ms", c->name,
			 c->argv[0][0] && strcmp(c->argv[0], "/bin/sh") == 0 && c->argv[2]
				 ? c->argv[2]
				 : c->argv[0],
			 c->interval_ms, c->timeout_ms);
	}
	return 0;
}

static void stop_all(struct chorus_plugin_ctx *ctx, const struct chorus_host_api *api,
		     struct state *st)
{
	while (st->cmds != NULL) {
		struct cmd *c = st->cmds;

		st->cmds = c->next;
		if (c->check_id > 0)
			api->check_cancel(ctx, c->check_id);
		c->next = st->retired;
		st->retired = c;
	}
}

static int cc_init(const struct chorus_host_api *api, struct chorus_plugin_ctx *ctx,
		   const char *config_json)
{
	struct state *st;
	int rc;

	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return -ENOMEM;
	st->api = api;
	api->set_private(ctx, st);
	rc = parse_config(ctx, api, config_json, &st->cmds);
	if (rc == 0)
		rc = start_all(ctx, api, st->cmds);
	if (rc < 0) {
		/* No run can have started: the host starts checks from the
		 * loop, after init returns. */
		stop_all(ctx, api, st);
		api->set_private(ctx, NULL);
		while (st->retired != NULL) {
			struct cmd *n = st->retired->next;

			cmd_free(st->retired);
			st->retired = n;
		}
		free(st);
	}
	return rc;
}

/* Checks are cheap to restart: replace them all, keeping the old ones'
 * memory until fini in case a run of one is still going. */
static int cc_reconfigure(const struct chorus_host_api *api, struct chorus_plugin_ctx *ctx,
			  const char *config_json)
{
	struct state *st = api->get_private(ctx);
	struct cmd *fresh = NULL;
	int rc;

	rc = parse_config(ctx, api, config_json, &fresh);
	if (rc < 0)
		return rc;
	stop_all(ctx, api, st);
	st->cmds = fresh;
	return start_all(ctx, api, st->cmds);
}

static void cc_fini(const struct chorus_host_api *api, struct chorus_plugin_ctx *ctx)
{
	struct state *st = api->get_private(ctx);

	if (st == NULL)
		return;
	stop_all(ctx, api, st);
	while (st->retired != NULL) {
		struct cmd *n = st->retired->next;

		cmd_free(st->retired);
		st->retired = n;
	}
	free(st);
	api->set_private(ctx, NULL);
}

CHORUS_PLUGIN_DEFINE(command_check_plugin,
	.name = "command-check",
	.init = cc_init,
	.reconfigure = cc_reconfigure,
	.fini = cc_fini);
