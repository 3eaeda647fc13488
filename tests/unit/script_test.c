/*
 * Action-script runner tests, with real /bin/sh scripts on a real qb_loop.
 *
 * The loop is driven in bounded slices: each wait runs it until the awaited
 * callbacks have arrived or a deadline timer stops it, so a broken runner
 * fails a test instead of hanging it.  Leaks are judged by the kernel:
 * /proc/self/fd before and after, and waitid() finding no child left.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <qb/qbdefs.h>
#include <qb/qbloop.h>

#include "exec/script.h"

static qb_loop_t *loop;
static struct script_runner *runner;

struct got {
	unsigned calls;
	unsigned want;
	struct script_result r;
	char out[SCRIPT_OUTPUT_DEFAULT * 4 + 1];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_done(void *data, const struct script_result *r)
{
	struct got *g = data;

	g->calls++;
	g->r = *r;
	snprintf(g->out, sizeof(g->out), "%s", r->output);
	g->r.output = g->out;
	if (g->calls >= g->want)
		qb_loop_stop(loop);
}

static void deadline_cb(void *data)
{
	*(bool *)data = true;
	qb_loop_stop(loop);
}

/* Run the loop until 'g' has 'want' callbacks or 'max_ms' passed. */
static void wait_for(struct got *g, unsigned want, uint64_t max_ms)
{
	qb_loop_timer_handle t;
	bool expired = false;

	g->want = want;
	if (g->calls >= want)
		return;
	assert_int_equal(qb_loop_timer_add(loop, QB_LOOP_HIGH, max_ms * QB_TIME_NS_IN_MSEC,
					   &expired, deadline_cb, &t), 0);
	while (g->calls < want && !expired)
		qb_loop_run(loop);
	if (!expired)
		qb_loop_timer_del(loop, t);
}

static void spin(uint64_t ms)
{
	struct got none = {0};

	wait_for(&none, 1, ms);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the DIR's own descriptor */
}

static bool no_children(void)
{
	siginfo_t si = {0};

	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG) < 0 && errno == ECHILD;
}

static int sh(struct got *g, const char *code, const char *const *env, uint32_t timeout_ms,
	      uint32_t grace_ms, size_t output_max)
{
	const char *argv[] = {"/bin/sh", "-c", code, "test-script", NULL};
	struct script_spec s = {.argv = argv, .envp = env, .timeout_ms = timeout_ms,
				.kill_grace_ms = grace_ms, .output_max = output_max};

	return script_run(runner, &s, on_done, g, NULL);
}

static int setup(void **state)
{
	loop = qb_loop_create();
	assert_non_null(loop);
	return script_runner_new(loop, &runner);
}

static int setup_poll(void **state)
{
	int rc = setup(state);

	script_runner_poll_only(runner);
	return rc;
}

static int teardown(void **state)
{
	script_runner_free(runner);
	runner = NULL;
	qb_loop_destroy(loop);
	return 0;
}

static void test_exit_codes(void **state)
{
	struct got g = {0};
	char buf[64];

	assert_int_equal(sh(&g, "exit 0", NULL, 5000, 0, 0), 0);
	wait_for(&g, 1, 5000);
	assert_int_equal(g.calls, 1);
	assert_true(script_result_ok(&g.r));

	for (int code = 1; code <= 7; code += 3) {
		char cmd[32];

		memset(&g, 0, sizeof(g));
		snprintf(cmd, sizeof(cmd), "echo out; echo err >&2; exit %d", code);
		assert_int_equal(sh(&g, cmd, NULL, 5000, 0, 0), 0);
		wait_for(&g, 1, 5000);
		assert_int_equal(g.r.status, SCRIPT_EXITED);
		assert_int_equal(g.r.code, code);
		assert_false(script_result_ok(&g.r));
		assert_string_equal(g.out, "out\nerr\n");
	}
	{
		const char *argv[] = {"/bin/sh", "-c", "echo out; echo err >&2; exit 0", NULL};
		struct script_spec s = {.argv = argv, .timeout_ms = 5000, .discard_stderr = true};

		memset(&g, 0, sizeof(g));
		assert_int_equal(script_run(runner, &s, on_done, &g, NULL), 0);
		wait_for(&g, 1, 5000);
		assert_string_equal(g.out, "out\n");
	}
	memset(&g, 0, sizeof(g));
	assert_int_equal(sh(&g, "kill -USR1 $$", NULL, 5000, 0, 0), 0);
	wait_for(&g, 1, 5000);
	assert_int_equal(g.r.status, SCRIPT_SIGNALED);
	assert_int_equal(g.r.code, SIGUSR1);
	assert_string_equal(script_result_str(&g.r, buf, sizeof(buf)), "signal 10");
	/* SIGUSR2 is blocked here (main): the script's mask starts empty */
	memset(&g, 0, sizeof(g));
	assert_int_equal(sh(&g, "kill -USR2 $$; sleep 0.5; exit 0", NULL, 5000, 0, 0), 0);
	wait_for(&g, 1, 5000);
	assert_int_equal(g.r.status, SCRIPT_SIGNALED);
	assert_int_equal(g.r.code, SIGUSR2);
}

/* Only what the caller gives, plus a clean PATH; arguments are not parsed
 * by any shell on the way. */
static void test_environment_and_argv(void **state)
{
	const char *env[] = {"CHORUS_X=a b;$(touch /tmp/nope)", NULL};
	const char *env_path[] = {"PATH=/nowhere", NULL};
	const char *argv[] = {"/usr/bin/printf", "[%s]", "$HOME", "a b", "*", NULL};
	struct script_spec s = {.argv = argv, .timeout_ms = 5000};
	struct got g = {0};

	setenv("CHORUS_LEAK", "1", 1);
	assert_int_equal(sh(&g, "echo \"$CHORUS_X|${CHORUS_LEAK-unset}|$PATH\"", env, 5000, 0, 0),
			 0);
	wait_for(&g, 1, 5000);
	assert_true(script_result_ok(&g.r));
	assert_string_equal(g.out, "a b;$(touch /tmp/nope)|unset|" SCRIPT_PATH "\n");

	memset(&g, 0, sizeof(g));
	assert_int_equal(sh(&g, "echo \"$PATH\"", env_path, 5000, 0, 0), 0);
	wait_for(&g, 1, 5000);
	assert_string_equal(g.out, "/nowhere\n");

	memset(&g, 0, sizeof(g));
	assert_int_equal(script_run(runner, &s, on_done, &g, NULL), 0);
	wait_for(&g, 1, 5000);
	assert_true(script_result_ok(&g.r));
	assert_string_equal(g.out, "[$HOME][a b][*]");
}

static void test_exec_failed_and_bad_spec(void **state)
{
	const char *missing[] = {"/nonexistent/chorus-script", "acquire", NULL};
	const char *relative[] = {"sh", "-c", "exit 0", NULL};
	const char *badenv[] = {"NOEQUALS", NULL};
	const char *many[SCRIPT_ARGS_MAX + 2];
	struct script_spec s = {.argv = missing, .timeout_ms = 5000};
	struct got g = {0};
	char buf[128];

	assert_int_equal(script_run(runner, &s, on_done, &g, NULL), 0);
	wait_for(&g, 1, 5000);
	assert_int_equal(g.r.status, SCRIPT_EXEC_FAILED);
	assert_int_equal(g.r.code, ENOENT);
	assert_string_equal(script_result_str(&g.r, buf, sizeof(buf)),
			    "exec failed: No such file or directory");

	s.argv = relative;
	assert_int_equal(script_run(runner, &s, on_done, &g, NULL), -EINVAL);
	s.argv = missing;
	s.envp = badenv;
	assert_int_equal(script_run(runner, &s, on_done, &g, NULL), -EINVAL);
	s.envp = NULL;
	for (size_t i = 0; i < SCRIPT_ARGS_MAX + 1; i++)
		many[i] = "/bin/true";
	many[SCRIPT_ARGS_MAX + 1] = NULL;
	s.argv = many;
	assert_int_equal(script_run(runner, &s, on_done, &g, NULL), -EINVAL);
	s.argv = missing;
	s.output_max = SCRIPT_OUTPUT_MAX + 1;
	assert_int_equal(script_run(runner, &s, on_done, &g, NULL), -EINVAL);
	assert_int_equal(g.calls, 1);
	assert_int_equal(script_runner_active(runner), 0);
}

/* A script that leaves on SIGTERM is "timed out"; one that traps TERM is
 * SIGKILLed after the grace, its background child with it (process group). */
static void test_timeout_and_kill(void **state)
{
	struct got g = {0};
	uint64_t t0 = now_ms();
	char pidfile[] = "/tmp/chorus-script-test-XXXXXX";
	char buf[64];
	FILE *f;
	int fd, child = 0;

	assert_int_equal(sh(&g, "sleep 30", NULL, 300, 2000, 0), 0);
	wait_for(&g, 1, 5000);
	assert_int_equal(g.r.status, SCRIPT_TIMED_OUT);
	assert_int_equal(g.r.code, -SIGTERM);
	assert_true(now_ms() - t0 >= 290);
	assert_true(now_ms() - t0 < 2000);	/* did not need the grace */

	fd = mkstemp(pidfile);
	assert_true(fd >= 0);
	close(fd);
	memset(&g, 0, sizeof(g));
	t0 = now_ms();
	{
		char code[256];

		snprintf(code, sizeof(code),
			 "trap '' TERM; sleep 30 & echo $! > %s; echo ready; while :; do sleep 0.05; done",
			 pidfile);
		assert_int_equal(sh(&g, code, NULL, 300, 400, 0), 0);
	}
	wait_for(&g, 1, 5000);
	assert_int_equal(g.r.status, SCRIPT_KILLED);
	assert_true(g.r.elapsed_ms >= 690);
	assert_true(g.r.elapsed_ms < 3000);
	assert_non_null(strstr(g.out, "ready"));
	assert_string_equal(script_result_str(&g.r, buf, sizeof(buf)), "killed after timeout");
	f = fopen(pidfile, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &child), 1);
	fclose(f);
	unlink(pidfile);
	/* The background sleep was in the group: gone (bounded wait, it is
	 * init's zombie to reap once killed). */
	for (int i = 0; i < 100 && kill(child, 0) == 0; i++)
		usleep(20000);
	assert_int_equal(kill(child, 0), -1);
}

/* Output beyond the bound keeps the tail; a large burst does not block. */
static void test_output_bound(void **state)
{
	struct got g = {0};

	assert_int_equal(sh(&g, "i=0; while [ $i -lt 3000 ]; do echo line-$i; i=$((i+1)); done; "
				"printf END", NULL, 10000, 0, 0), 0);
	wait_for(&g, 1, 10000);
	assert_true(script_result_ok(&g.r));
	assert_true(g.r.output_truncated);
	assert_int_equal(g.r.output_size, SCRIPT_OUTPUT_DEFAULT);
	assert_int_equal(strlen(g.out), SCRIPT_OUTPUT_DEFAULT);
	assert_string_equal(g.out + SCRIPT_OUTPUT_DEFAULT - 13, "line-2999\nEND");

	memset(&g, 0, sizeof(g));
	assert_int_equal(sh(&g, "head -c 100000 /dev/zero | tr '\\0' x", NULL, 10000, 0, 64), 0);
	wait_for(&g, 1, 10000);
	assert_true(g.r.output_truncated);
	assert_int_equal(g.r.output_size, 64);
}

/* The end of a run is its exit, not the EOF of its output: a daemon it
 * started (as the brick script starts glusterfsd) may keep the pipe. */
/* Bytes handed to stdin arrive whole, then EOF; without them stdin is
 * /dev/null; more than a page is refused rather than risking a write that
 * would wait for the child.  No descriptor is left behind. */
static void test_stdin(void **state)
{
	static char big[SCRIPT_STDIN_MAX + 1];
	const char *argv[] = {"/bin/sh", "-c", "cat; echo EOF", NULL};
	struct script_spec s = {.argv = argv, .timeout_ms = 10000,
				.stdin_data = "action=off\npassword=x\n", .stdin_size = 22};
	int fds = count_fds();
	struct got g = {0};

	assert_int_equal(script_run(runner, &s, on_done, &g, NULL), 0);
	wait_for(&g, 1, 10000);
	assert_true(script_result_ok(&g.r));
	assert_string_equal(g.out, "action=off\npassword=x\nEOF\n");

	memset(&g, 0, sizeof(g));
	s.stdin_data = NULL;
	assert_int_equal(script_run(runner, &s, on_done, &g, NULL), 0);
	wait_for(&g, 1, 10000);
	assert_string_equal(g.out, "EOF\n");

	/* a full page, read by "wc -c" long after script_run returned */
	memset(big, 'x', sizeof(big));
	argv[2] = "sleep 0.2; wc -c";
	memset(&g, 0, sizeof(g));
	s.stdin_data = big;
	s.stdin_size = SCRIPT_STDIN_MAX;
	assert_int_equal(script_run(runner, &s, on_done, &g, NULL), 0);
	wait_for(&g, 1, 10000);
	assert_int_equal(atoi(g.out), SCRIPT_STDIN_MAX);
	s.stdin_size = SCRIPT_STDIN_MAX + 1;
	assert_int_equal(script_run(runner, &s, on_done, &g, NULL), -EINVAL);
	assert_int_equal(count_fds(), fds);
}

static void test_background_holder(void **state)
{
	struct got g = {0};

	assert_int_equal(sh(&g, "echo before; sleep 2 & exit 4", NULL, 10000, 0, 0), 0);
	wait_for(&g, 1, 10000);
	assert_int_equal(g.r.status, SCRIPT_EXITED);
	assert_int_equal(g.r.code, 4);
	assert_true(g.r.elapsed_ms < 1500);
	assert_string_equal(g.out, "before\n");
}

static void test_cancel(void **state)
{
	struct got g = {0};
	const char *argv[] = {"/bin/sleep", "30", NULL};
	struct script_spec s = {.argv = argv, .timeout_ms = 60000};
	struct script_run *run = NULL;
	int pid;

	assert_int_equal(script_run(runner, &s, on_done, &g, &run), 0);
	assert_non_null(run);
	pid = script_run_pid(run);
	assert_true(pid > 0);
	spin(100);
	assert_int_equal(kill(pid, 0), 0);
	script_run_cancel(run);
	for (int i = 0; i < 100 && script_runner_active(runner) > 0; i++)
		spin(20);
	assert_int_equal(script_runner_active(runner), 0);
	assert_int_equal(g.calls, 0);
	assert_int_equal(kill(pid, 0), -1);
	assert_true(no_children());
}

/* Many at once, each with its own result; a callback may start another
 * run; nothing is left behind: no descriptor, no child. */
#define N_RUNS 60

struct chain {
	struct got g;
	unsigned left;
};

static void on_chain(void *data, const struct script_result *r)
{
	struct chain *c = data;

	assert_true(script_result_ok(r));
	if (--c->left > 0) {
		const char *argv[] = {"/bin/true", NULL};
		struct script_spec s = {.argv = argv, .timeout_ms = 5000};

		assert_int_equal(script_run(runner, &s, on_chain, c, NULL), 0);
		return;
	}
	on_done(&c->g, r);
}

static void test_many_no_leak(void **state)
{
	static struct got g[N_RUNS];
	struct chain c = {.left = 10};
	int fds0 = count_fds();
	unsigned total = 0;

	memset(g, 0, sizeof(g));
	for (int i = 0; i < N_RUNS; i++) {
		char code[64];

		snprintf(code, sizeof(code), "sleep 0.%d; echo n%d; exit %d", i % 3, i, i % 11);
		assert_int_equal(sh(&g[i], code, NULL, 20000, 0, 0), 0);
	}
	assert_int_equal(script_runner_active(runner), N_RUNS);
	for (int pass = 0; pass < 300 && total < N_RUNS; pass++) {
		spin(50);
		total = 0;
		for (int i = 0; i < N_RUNS; i++)
			total += g[i].calls;
	}
	assert_int_equal(total, N_RUNS);
	for (int i = 0; i < N_RUNS; i++) {
		char want[16];

		snprintf(want, sizeof(want), "n%d\n", i);
		assert_int_equal(g[i].calls, 1);
		assert_int_equal(g[i].r.status, SCRIPT_EXITED);
		assert_int_equal(g[i].r.code, i % 11);
		assert_string_equal(g[i].out, want);
	}
	{
		const char *argv[] = {"/bin/true", NULL};
		struct script_spec s = {.argv = argv, .timeout_ms = 5000};

		assert_int_equal(script_run(runner, &s, on_chain, &c, NULL), 0);
		wait_for(&c.g, 1, 10000);
		assert_int_equal(c.left, 0);
	}
	assert_int_equal(script_runner_active(runner), 0);
	assert_int_equal(count_fds(), fds0);
	assert_true(no_children());
}

/* Freeing the runner kills what still runs, without callbacks. */
static void test_free_kills(void **state)
{
	struct got g = {0};
	const char *argv[] = {"/bin/sh", "-c", "trap '' TERM; sleep 30", NULL};
	struct script_spec s = {.argv = argv};
	struct script_run *run;
	int fds0 = count_fds(), pid;

	assert_int_equal(script_run(runner, &s, on_done, &g, &run), 0);
	pid = script_run_pid(run);
	spin(50);
	script_runner_free(runner);
	runner = NULL;
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(g.calls, 0);
	assert_int_equal(count_fds(), fds0);
	assert_true(no_children());
	assert_int_equal(script_runner_new(loop, &runner), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exit_codes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_environment_and_argv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_failed_and_bad_spec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_and_kill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stdin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_background_holder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_no_leak, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_kills, setup, teardown),
		/* the same without pidfds */
		cmocka_unit_test_setup_teardown(test_exit_codes, setup_poll, teardown),
		cmocka_unit_test_setup_teardown(test_environment_and_argv, setup_poll, teardown),
		cmocka_unit_test_setup_teardown(test_exec_failed_and_bad_spec, setup_poll, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_and_kill, setup_poll, teardown),
		cmocka_unit_test_setup_teardown(test_output_bound, setup_poll, teardown),
		cmocka_unit_test_setup_teardown(test_stdin, setup_poll, teardown),
		cmocka_unit_test_setup_teardown(test_background_holder, setup_poll, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup_poll, teardown),
		cmocka_unit_test_setup_teardown(test_many_no_leak, setup_poll, teardown),
		cmocka_unit_test_setup_teardown(test_free_kills, setup_poll, teardown),
	};

	sigset_t usr2;

	/* As in chorusd (SIGPIPE ignored) and worse: ignored and blocked
	 * signals survive exec, so the runner must undo them for its scripts
	 * (test_exit_codes checks USR1 and USR2). */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr2, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
