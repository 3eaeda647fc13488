/*
 * Brick executor tests, with a fake brick script (/bin/sh) that logs every
 * operation and answers monitor from a per-volume state file the test
 * controls, on a real qb_loop driven in bounded slices.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <qb/qbdefs.h>
#include <qb/qbloop.h>

#include "exec/brick.h"

static qb_loop_t *loop;
static struct script_runner *runner;
static struct brick_exec *bx;
static char dir[64];
static char script[128];

#define MAX_EV 64
static struct {
	size_t idx;
	enum brick_event ev;
	int err;
	char reason[256];
} evs[MAX_EV];
static unsigned n_ev, want_ev;

static const char fake[] =
	"#!/bin/sh\n"
	"d=$CHORUS_RUN_DIR; s=$d/state-$CHORUS_BRICK_VOLUME\n"
	"echo \"$1 $CHORUS_BRICK_VOLUME\" >> \"$d/ops\"\n"
	"case $1 in\n"
	"acquire)\n"
	"  [ -f \"$d/acquire-fail\" ] && { echo 'cannot mount /dev/x'; exit 1; }\n"
	"  [ -f \"$d/acquire-sleep\" ] && sleep \"$(cat \"$d/acquire-sleep\")\"\n"
	"  env | grep -E '^(CHORUS_|GLUSTERD_|PATH=)' | sort > \"$d/env\"\n"
	"  if [ -f \"$d/acquire-dead\" ]; then echo 7 > \"$s\"; else echo 0 > \"$s\"; fi\n"
	"  exit 0 ;;\n"
	"release) echo 7 > \"$s\"; exit 0 ;;\n"
	"monitor) exit \"$(cat \"$s\" 2>/dev/null || echo 7)\" ;;\n"
	"esac\n"
	"exit 2\n";

static void on_event(void *ud, size_t idx, enum brick_event ev, int err, const char *reason)
{
	if (n_ev < MAX_EV) {
		evs[n_ev].idx = idx;
		evs[n_ev].ev = ev;
		evs[n_ev].err = err;
		snprintf(evs[n_ev].reason, sizeof(evs[0].reason), "%s", reason ? reason : "");
	}
	n_ev++;
	if (n_ev >= want_ev)
		qb_loop_stop(loop);
}

static void deadline_cb(void *data)
{
	*(bool *)data = true;
	qb_loop_stop(loop);
}

/* Run the loop until 'n' events in all, or 'ms' passed. */
static void run_until(unsigned n, uint64_t ms)
{
	qb_loop_timer_handle t;
	bool expired = false;

	want_ev = n;
	if (n_ev >= n)
		return;
	assert_int_equal(qb_loop_timer_add(loop, QB_LOOP_HIGH, ms * QB_TIME_NS_IN_MSEC, &expired,
					   deadline_cb, &t), 0);
	while (n_ev < n && !expired)
		qb_loop_run(loop);
	if (!expired)
		qb_loop_timer_del(loop, t);
}

static void spin(uint64_t ms)
{
	run_until(~0U, ms);
}

static void put(const char *name, const char *text)
{
	char p[160];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void drop(const char *name)
{
	char p[160];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	unlink(p);
}

/* The operations log, one "OP VOLUME" per line, joined with ';'. */
static const char *ops(void)
{
	static char buf[4096];
	char p[160], line[128];
	size_t n = 0;
	FILE *f;

	buf[0] = '\0';
	snprintf(p, sizeof(p), "%s/ops", dir);
	f = fopen(p, "r");
	if (f == NULL)
		return buf;
	while (fgets(line, sizeof(line), f) != NULL && n < sizeof(buf) - 128) {
		line[strcspn(line, "\n")] = '\0';
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s;", line);
	}
	fclose(f);
	return buf;
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Spin (bounded: 5 s, generous for a loaded machine) until 'needle'
 * appears at least 'n' times in the operations log. */
static void spin_until_ops(const char *needle, unsigned n)
{
	for (int i = 0; i < 100 && count(ops(), needle) < n; i++)
		spin(50);
}

static void make_exec(const char *script_path, uint32_t interval_ms, uint32_t restart_max)
{
	struct brick_def defs[2];
	struct brick_exec_config cfg = {
		.script = script_path, .run_dir = dir, .glusterd_workdir = "/var/lib/glusterd",
		.nodeid = 3, .acquire_timeout_ms = 5000, .release_timeout_ms = 5000,
		.monitor_timeout_ms = 5000, .monitor_interval_ms = interval_ms,
		.kill_grace_ms = 300, .restart_max = restart_max, .restart_window_ms = 60000,
	};

	memset(defs, 0, sizeof(defs));
	for (int i = 0; i < 2; i++) {
		snprintf(defs[i].volume, sizeof(defs[i].volume), "v%d", i);
		snprintf(defs[i].host, sizeof(defs[i].host), "brick%d.example", i);
		snprintf(defs[i].address, sizeof(defs[i].address), "192.0.2.%d", 10 + i);
		snprintf(defs[i].path, sizeof(defs[i].path), "/srv/b%d", i);
		snprintf(defs[i].device, sizeof(defs[i].device), "/dev/mapper/lun%d", i);
		snprintf(defs[i].fstype, sizeof(defs[i].fstype), "xfs");
		snprintf(defs[i].mount_options, sizeof(defs[i].mount_options), "noatime,inode64");
		snprintf(defs[i].home_uuid, sizeof(defs[i].home_uuid),
			 "448b5b01-c9f3-41f8-a7ad-a46de6bc551%d", i);
	}
	assert_int_equal(brick_exec_new(loop, runner, &cfg, defs, 2, on_event, NULL, &bx), 0);
}

static int setup(void **state)
{
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/chorus-brick-test-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(script, sizeof(script), "%s/fake-brick", dir);
	f = fopen(script, "w");
	assert_non_null(f);
	fputs(fake, f);
	fclose(f);
	chmod(script, 0755);
	loop = qb_loop_create();
	assert_int_equal(script_runner_new(loop, &runner), 0);
	n_ev = 0;
	memset(evs, 0, sizeof(evs));
	bx = NULL;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	brick_exec_free(bx);
	script_runner_free(runner);
	qb_loop_destroy(loop);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void test_acquire_release_env(void **state)
{
	char want[2048], p[160], got[2048] = "";
	FILE *f;
	size_t n;

	make_exec(script, 60000, 2);
	assert_int_equal(brick_exec_acquire(bx, 1), 0);
	assert_true(brick_exec_busy(bx, 1));
	run_until(1, 5000);
	assert_int_equal(n_ev, 1);
	assert_int_equal(evs[0].idx, 1);
	assert_int_equal(evs[0].ev, BRICK_EV_ACQUIRED);
	assert_int_equal(evs[0].err, 0);
	assert_true(brick_exec_held(bx, 1));
	assert_false(brick_exec_held(bx, 0));

	snprintf(want, sizeof(want),
		 "CHORUS_BRICK_ADDRESS=192.0.2.11\nCHORUS_BRICK_DEVICE=/dev/mapper/lun1\n"
		 "CHORUS_BRICK_FSTYPE=xfs\nCHORUS_BRICK_HOME_UUID=448b5b01-c9f3-41f8-a7ad-a46de6bc5511\n"
		 "CHORUS_BRICK_HOST=brick1.example\nCHORUS_BRICK_MOUNT_OPTIONS=noatime,inode64\n"
		 "CHORUS_BRICK_PATH=/srv/b1\nCHORUS_BRICK_TIMEOUT_S=5\nCHORUS_BRICK_VOLUME=v1\n"
		 "CHORUS_NODEID=3\nCHORUS_RUN_DIR=%s\nGLUSTERD_VOL=/etc/glusterfs/glusterd.vol\n"
		 "GLUSTERD_WORKDIR=/var/lib/glusterd\n"
		 "PATH=%s\n", dir, SCRIPT_PATH);
	snprintf(p, sizeof(p), "%s/env", dir);
	f = fopen(p, "r");
	assert_non_null(f);
	n = fread(got, 1, sizeof(got) - 1, f);
	got[n] = '\0';
	fclose(f);
	assert_string_equal(got, want);

	assert_int_equal(brick_exec_release(bx, 1), 0);
	run_until(2, 5000);
	assert_int_equal(evs[1].ev, BRICK_EV_RELEASED);
	assert_int_equal(evs[1].err, 0);
	assert_false(brick_exec_held(bx, 1));
	assert_string_equal(ops(), "acquire v1;release v1;");
	assert_int_equal(brick_exec_acquire(bx, 2), -EINVAL);
}

/* Dies after every start: restarted in place restart_max times, then
 * FAILED, and no longer monitored or restarted. */
static void test_restart_budget(void **state)
{
	const char *o;

	make_exec(script, 50, 2);
	put("acquire-dead", "");
	assert_int_equal(brick_exec_acquire(bx, 0), 0);
	run_until(2, 10000);
	assert_int_equal(n_ev, 2);
	assert_int_equal(evs[0].ev, BRICK_EV_ACQUIRED);
	assert_int_equal(evs[0].err, 0);
	assert_int_equal(evs[1].ev, BRICK_EV_FAILED);
	assert_int_equal(evs[1].err, -ENOENT);
	assert_false(brick_exec_held(bx, 0));
	o = ops();
	assert_string_equal(o, "acquire v0;monitor v0;acquire v0;monitor v0;acquire v0;monitor v0;");
	spin(300);
	assert_string_equal(ops(), o);	/* nothing more */
	assert_int_equal(n_ev, 2);

	/* the core moves it: release works on a failed brick */
	assert_int_equal(brick_exec_release(bx, 0), 0);
	run_until(3, 5000);
	assert_int_equal(evs[2].ev, BRICK_EV_RELEASED);
	assert_int_equal(evs[2].err, 0);
}

/* One death: restarted in place, no event, monitoring goes on. */
static void test_restart_in_place(void **state)
{
	make_exec(script, 50, 2);
	assert_int_equal(brick_exec_acquire(bx, 0), 0);
	run_until(1, 5000);
	spin_until_ops("monitor v0", 2);
	assert_true(count(ops(), "monitor v0") >= 2);
	put("state-v0", "7\n");		/* the brick process died */
	spin_until_ops("acquire v0", 2);
	spin_until_ops("monitor v0", count(ops(), "monitor v0") + 1);
	assert_int_equal(n_ev, 1);	/* no FAILED */
	assert_int_equal(count(ops(), "acquire v0"), 2);
	assert_true(brick_exec_held(bx, 0));
	/* a release stops the monitoring: no restart after it */
	assert_int_equal(brick_exec_release(bx, 0), 0);
	run_until(2, 5000);
	assert_int_equal(evs[1].ev, BRICK_EV_RELEASED);
	{
		unsigned m = count(ops(), "monitor v0");

		spin(300);
		assert_int_equal(count(ops(), "monitor v0"), m);
		assert_int_equal(count(ops(), "acquire v0"), 2);
	}
}

static void test_failures(void **state)
{
	make_exec(script, 50, 2);
	put("acquire-fail", "");
	assert_int_equal(brick_exec_acquire(bx, 0), 0);
	run_until(1, 5000);
	assert_int_equal(evs[0].ev, BRICK_EV_ACQUIRED);
	assert_int_equal(evs[0].err, -EIO);
	assert_non_null(strstr(evs[0].reason, "acquire: exit 1: cannot mount /dev/x"));
	assert_false(brick_exec_held(bx, 0));
	spin(200);
	assert_int_equal(count(ops(), "monitor"), 0);	/* not held: not monitored */
	drop("acquire-fail");

	put("acquire-sleep", "10");
	brick_exec_free(bx);
	{
		struct brick_def d = {.volume = "vt", .host = "h", .address = "192.0.2.1",
				      .path = "/srv/t", .home_uuid = "x"};
		struct brick_exec_config cfg = {.script = script, .run_dir = dir,
						.acquire_timeout_ms = 200, .kill_grace_ms = 200};

		assert_int_equal(brick_exec_new(loop, runner, &cfg, &d, 1, on_event, NULL, &bx), 0);
	}
	assert_int_equal(brick_exec_acquire(bx, 0), 0);
	run_until(2, 5000);
	assert_int_equal(evs[1].ev, BRICK_EV_ACQUIRED);
	assert_int_equal(evs[1].err, -ETIMEDOUT);
	assert_non_null(strstr(evs[1].reason, "timed out"));
	drop("acquire-sleep");
	brick_exec_free(bx);

	make_exec("/nonexistent/chorus-brick", 50, 2);
	assert_int_equal(brick_exec_acquire(bx, 0), 0);
	run_until(3, 5000);
	assert_int_equal(evs[2].err, -ENOEXEC);
}

/* Requests during a running acquire are answered in order, coalesced. */
static void test_requests_queue(void **state)
{
	make_exec(script, 60000, 2);
	put("acquire-sleep", "0.3");
	assert_int_equal(brick_exec_acquire(bx, 0), 0);
	assert_int_equal(brick_exec_release(bx, 0), 0);
	assert_int_equal(brick_exec_probe(bx, 0), -EBUSY);
	run_until(2, 5000);
	assert_int_equal(evs[0].ev, BRICK_EV_ACQUIRED);
	assert_int_equal(evs[1].ev, BRICK_EV_RELEASED);
	assert_string_equal(ops(), "acquire v0;release v0;");
	assert_false(brick_exec_held(bx, 0));
	/* release, acquire, release while acquiring: the last one wins */
	assert_int_equal(brick_exec_acquire(bx, 1), 0);
	assert_int_equal(brick_exec_release(bx, 1), 0);
	assert_int_equal(brick_exec_acquire(bx, 1), 0);
	run_until(4, 5000);
	assert_int_equal(evs[2].ev, BRICK_EV_ACQUIRED);
	assert_int_equal(evs[3].ev, BRICK_EV_ACQUIRED);
	spin(100);
	assert_int_equal(n_ev, 4);
	assert_true(brick_exec_held(bx, 1));
}

static void test_probe_adopt(void **state)
{
	make_exec(script, 50, 2);
	assert_int_equal(brick_exec_probe(bx, 0), 0);
	run_until(1, 5000);
	assert_int_equal(evs[0].ev, BRICK_EV_PROBED);
	assert_int_equal(evs[0].err, -ENOENT);
	put("state-v0", "1\n");
	assert_int_equal(brick_exec_probe(bx, 0), 0);
	run_until(2, 5000);
	assert_int_equal(evs[1].err, -EIO);
	put("state-v0", "0\n");
	assert_int_equal(brick_exec_probe(bx, 0), 0);
	run_until(3, 5000);
	assert_int_equal(evs[2].err, 0);
	assert_false(brick_exec_held(bx, 0));
	assert_int_equal(count(ops(), "monitor"), 3);
	assert_int_equal(brick_exec_adopt(bx, 0), 0);
	assert_true(brick_exec_held(bx, 0));
	spin_until_ops("monitor", 5);
	assert_true(count(ops(), "monitor") >= 5);	/* monitored from now on */
	assert_int_equal(count(ops(), "acquire"), 0);
	assert_int_equal(n_ev, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_acquire_release_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requests_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_adopt, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
