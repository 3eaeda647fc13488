/*
 * Plugin host tests: the loader's refusals, hysteresis, hung checks and the
 * bound on stuck workers, against a real qb_loop and real dlopen()ed
 * plugins (tests/plugins/), then the shipped command-check (real /bin/true,
 * /bin/false, sleep) and link-monitor (a veth pair in a private network
 * namespace this process creates with unshare; skipped without root).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <qb/qblog.h>
#include <qb/qbloop.h>

#include "plugin/plugin_private.h"

/* ---- harness ---- */

#define MAX_EVENTS 256
#define MAX_LOGS 256

struct event {
	char scope[64];
	enum plugin_health health;
	char reason[CHORUS_REASON_SIZE];
	uint64_t at_ms;
};

static struct {
	qb_loop_t *loop;
	struct plugin_host *h;
	struct event ev[MAX_EVENTS];
	size_t nev;
	char logs[MAX_LOGS][512];
	size_t nlogs;
	unsigned ticks;			/* of a 10 ms loop timer */
	uint64_t last_tick_ms;
	uint64_t max_gap_ms;		/* longest time between two ticks */
	bool (*until)(void);
	uint64_t deadline;
	qb_loop_timer_handle poll_timer;
} T;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void log_capture(int32_t t, struct qb_log_callsite *cs, struct timespec *ts,
			const char *msg)
{
	if (T.nlogs < MAX_LOGS)
		snprintf(T.logs[T.nlogs++], sizeof(T.logs[0]), "%s", msg);
}

static bool log_has(const char *a, const char *b)
{
	for (size_t i = 0; i < T.nlogs; i++)
		if (strstr(T.logs[i], a) && (b == NULL || strstr(T.logs[i], b)))
			return true;
	return false;
}

static void on_health(void *ud, const char *scope, enum plugin_health health, const char *reason)
{
	struct event *e;

	if (T.nev >= MAX_EVENTS)
		return;
	e = &T.ev[T.nev++];
	snprintf(e->scope, sizeof(e->scope), "%s", scope);
	e->health = health;
	snprintf(e->reason, sizeof(e->reason), "%s", reason);
	e->at_ms = now_ms();
}

/* Last event for 'scope', or NULL. */
static const struct event *last_event(const char *scope)
{
	for (size_t i = T.nev; i-- > 0;)
		if (strcmp(T.ev[i].scope, scope) == 0)
			return &T.ev[i];
	return NULL;
}

static size_t count_events(const char *scope)
{
	size_t n = 0;

	for (size_t i = 0; i < T.nev; i++)
		n += strcmp(T.ev[i].scope, scope) == 0;
	return n;
}

static void tick(void *data)
{
	uint64_t now = now_ms();

	if (T.last_tick_ms != 0 && now - T.last_tick_ms > T.max_gap_ms)
		T.max_gap_ms = now - T.last_tick_ms;
	T.last_tick_ms = now;
	T.ticks++;
	if ((T.until != NULL && T.until()) || now_ms() >= T.deadline) {
		qb_loop_stop(T.loop);
		return;
	}
	qb_loop_timer_add(T.loop, QB_LOOP_LOW, 10 * QB_TIME_NS_IN_MSEC, NULL, tick, &T.poll_timer);
}

/* Run the loop until 'until' holds or 'ms' pass; true if it held. */
static bool run_until(bool (*until)(void), unsigned ms)
{
	T.until = until;
	T.deadline = now_ms() + ms;
	qb_loop_timer_add(T.loop, QB_LOOP_LOW, 10 * QB_TIME_NS_IN_MSEC, NULL, tick, &T.poll_timer);
	T.last_tick_ms = 0;
	qb_loop_run(T.loop);
	qb_loop_timer_del(T.loop, T.poll_timer);
	return until != NULL && until();
}

static int setup(void **state)
{
	memset(&T, 0, sizeof(T));
	T.loop = qb_loop_create();
	assert_non_null(T.loop);
	assert_int_equal(plugin_host_new(T.loop, on_health, NULL, &T.h), 0);
	plugin_host_set_node_id(T.h, 7);
	return 0;
}

static int teardown(void **state)
{
	plugin_host_free(T.h);
	T.h = NULL;
	qb_loop_destroy(T.loop);
	return 0;
}

static int load_json(const char *dir, const char *name, const char *json)
{
	struct json_object *cfg = json ? json_tokener_parse(json) : NULL;
	int rc;

	if (json != NULL)
		assert_non_null(cfg);
	rc = plugin_host_load(T.h, dir, name, cfg);
	json_object_put(cfg);
	return rc;
}

static const struct plugin_scope_view *scope_view(const char *scope)
{
	static struct plugin_scope_view v;

	for (size_t i = 0; i < plugin_host_scope_count(T.h); i++) {
		plugin_host_scope_get(T.h, i, &v);
		if (strcmp(v.scope, scope) == 0)
			return &v;
	}
	return NULL;
}

static unsigned thread_count(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	unsigned n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* ---- loader ---- */

static void test_refusals_then_good(void **state)
{
	assert_int_equal(load_json(PLUGIN_TEST_DIR, "test-badabi", NULL), -EPROTO);
	assert_true(log_has("chorus-test-badabi.so refused", "ABI version 42"));

	assert_int_equal(load_json(PLUGIN_TEST_DIR, "test-badsize", NULL), -EPROTO);
	assert_true(log_has("chorus-test-badsize.so refused", "bytes"));

	assert_int_equal(load_json(PLUGIN_TEST_DIR, "test-nosym", NULL), -ENOEXEC);
	assert_true(log_has("chorus-test-nosym.so refused", "no chorus_plugin_entry symbol"));

	assert_int_equal(load_json(PLUGIN_TEST_DIR, "test-missing", NULL), -ENOENT);
	assert_true(log_has("chorus-test-missing.so refused", "cannot load"));

	assert_int_equal(load_json(PLUGIN_TEST_DIR, "test-good", "{\"fail_init\": true}"), -EINVAL);
	assert_true(log_has("chorus-test-good.so refused", "init failed"));
	assert_true(log_has("plugin test-good: failing init as configured", NULL));

	/* The host still works: a good plugin loads and reports. */
	assert_int_equal(load_json(PLUGIN_TEST_DIR, "test-good", "{\"report\": \"node\"}"), 0);
	assert_non_null(last_event("node"));
	assert_int_equal(last_event("node")->health, PLUGIN_HEALTH_FAILED);
	assert_string_equal(scope_view("node")->plugin, "test-good");
	/* Same name twice is refused. */
	assert_int_equal(load_json(PLUGIN_TEST_DIR, "test-good", NULL), -EEXIST);
}

/* ---- hysteresis ---- */

static enum plugin_health feed(struct plugin_hyst *hy, const char *samples)
{
	for (const char *s = samples; *s; s++)
		plugin_hyst_step(hy, *s == 'o' ? PLUGIN_HEALTH_OK
				     : *s == 'd' ? PLUGIN_HEALTH_DEGRADED
						 : PLUGIN_HEALTH_FAILED);
	return hy->health;
}

static void test_hyst_unit(void **state)
{
	struct plugin_hyst hy;

	plugin_hyst_init(&hy, 3, 2);
	assert_int_equal(feed(&hy, "ff"), PLUGIN_HEALTH_OK);
	assert_int_equal(feed(&hy, "f"), PLUGIN_HEALTH_FAILED);	/* 3rd bad */
	assert_int_equal(feed(&hy, "o"), PLUGIN_HEALTH_FAILED);
	assert_int_equal(feed(&hy, "o"), PLUGIN_HEALTH_OK);		/* 2nd good */

	/* Flapping faster than N and M never flips it either way. */
	assert_int_equal(feed(&hy, "ffoffoffofoffo"), PLUGIN_HEALTH_OK);
	assert_int_equal(feed(&hy, "fff"), PLUGIN_HEALTH_FAILED);
	assert_int_equal(feed(&hy, "offofofoffofof"), PLUGIN_HEALTH_FAILED);

	/* Degraded: N bad of mixed kinds degrade; N failed fail. */
	plugin_hyst_init(&hy, 3, 2);
	assert_int_equal(feed(&hy, "dfd"), PLUGIN_HEALTH_DEGRADED);
	assert_int_equal(feed(&hy, "fff"), PLUGIN_HEALTH_FAILED);
	assert_int_equal(feed(&hy, "dd"), PLUGIN_HEALTH_DEGRADED);
	assert_int_equal(feed(&hy, "oo"), PLUGIN_HEALTH_OK);

	/* N = M = 1 follows every sample. */
	plugin_hyst_init(&hy, 1, 1);
	assert_true(plugin_hyst_step(&hy, PLUGIN_HEALTH_FAILED));
	assert_true(plugin_hyst_step(&hy, PLUGIN_HEALTH_OK));
}

static bool have_recovered(void)
{
	const struct event *e = last_event("check:h");

	return e != NULL && e->health == PLUGIN_HEALTH_OK;
}

/* End to end through worker threads: ff o ff o fff o o ... */
static void test_hyst_checks(void **state)
{
	assert_int_equal(load_json(PLUGIN_TEST_DIR, "test-good",
				   "{\"checks\": 1, \"scope\": \"check:h\", \"interval_ms\": 10,"
				   " \"script\": \"ffoffofffooo\", \"fail_after\": 3,"
				   " \"recover_after\": 2}"),
			 0);
	assert_true(run_until(have_recovered, 3000));
	/* Exactly one failure (after the 3rd consecutive f), one recovery. */
	assert_int_equal(count_events("check:h"), 2);
	assert_int_equal(T.ev[0].health, PLUGIN_HEALTH_FAILED);
	assert_string_equal(T.ev[0].reason, "sample 8 'f'");
	assert_string_equal(T.ev[1].reason, "sample 10 'o'");
}

static bool misuse_logged(void)
{
	return log_has("report_health from a check returned -1", NULL);
}

/* A check calling a main-loop-only function is refused, and says so. */
static void test_off_loop_refused(void **state)
{
	assert_int_equal(load_json(PLUGIN_TEST_DIR, "test-good",
				   "{\"checks\": 1, \"scope\": \"check:x\", \"interval_ms\": 1000,"
				   " \"script\": \"x\"}"),
			 0);
	assert_true(run_until(misuse_logged, 2000));
	assert_true(log_has("plugin test-good: report_health() called off the main loop: refused",
			    NULL));
	assert_null(scope_view("node"));
}

/* ---- hung checks ---- */

static bool hung_failed(void)
{
	const struct event *e = last_event("check:hang");

	return e != NULL && e->health == PLUGIN_HEALTH_FAILED;
}

static void test_hung_check(void **state)
{
	uint64_t t0;
	unsigned ticks0;

	t0 = now_ms();
	assert_int_equal(load_json(PLUGIN_TEST_DIR, "test-good",
				   "{\"checks\": 1, \"scope\": \"check:hang\", \"interval_ms\": 5000,"
				   " \"timeout_ms\": 150, \"hang_ms\": 1500, \"fail_after\": 1}"),
			 0);
	ticks0 = T.ticks;
	assert_true(run_until(hung_failed, 2000));
	assert_string_equal(last_event("check:hang")->reason, "timed out after 150 ms");
	/* Reported at the timeout, not when the check returned... */
	/* (generous: a loaded CI machine delays timers; the check returns
	 * only after 1500 ms, which this still tells apart) */
	assert_in_range(last_event("check:hang")->at_ms - t0, 140, 1000);
	/* ...and the loop ran its 10 ms timers all along, never held up for
	 * the hang (1500 ms); the bound leaves room for a loaded machine. */
	assert_true(T.ticks - ticks0 >= 10);
	assert_true(T.max_gap_ms < 500);

	/* The worker comes back when the function returns. */
	run_until(NULL, 1600);
	assert_true(log_has("returned after", "worker recycled"));
}

static bool fifth_failed(void)
{
	const struct event *e = last_event("check:s-4");

	return e != NULL && e->health == PLUGIN_HEALTH_FAILED;
}

static void test_bounded_workers(void **state)
{
	unsigned threads = thread_count();

	/* Five checks that hang, four workers: the fifth finds none. */
	assert_int_equal(load_json(PLUGIN_TEST_DIR, "test-good",
				   "{\"checks\": 5, \"scope\": \"check:s\", \"interval_ms\": 60,"
				   " \"timeout_ms\": 100, \"hang_ms\": 1200, \"fail_after\": 1}"),
			 0);
	assert_true(run_until(fifth_failed, 2000));
	run_until(NULL, 300);
	assert_true(T.max_gap_ms < 500);	/* the hangs last 1200 ms */
	/* Its ticks while all four hang fail at once, without a thread. */
	assert_string_equal(scope_view("check:s-4")->reason,
			    "no free worker (all check workers hung)");
	/* Many ticks while hung: still no new threads, still failed. */
	assert_int_equal(thread_count(), threads);
	for (int i = 0; i < 5; i++) {
		char scope[16];

		if (i == 0)
			snprintf(scope, sizeof(scope), "check:s");
		else
			snprintf(scope, sizeof(scope), "check:s-%d", i);
		assert_non_null(scope_view(scope));
		assert_int_equal(scope_view(scope)->health, PLUGIN_HEALTH_FAILED);
	}
	assert_true(log_has("timed out after 100 ms", NULL));
	/* Workers recycle once the hangs end (the script's 'o' is ok then). */
	run_until(NULL, 1300);
	assert_true(log_has("worker recycled", NULL));
	assert_int_equal(thread_count(), threads);
}

/* ---- command-check ---- */

static const char *cc_scopes[] = { "check:true", "check:false", "check:three", "check:sig",
				   "check:sleep", "check:env", "check:sleep2" };

static bool cc_done(void)
{
	for (size_t i = 0; i < sizeof(cc_scopes) / sizeof(cc_scopes[0]); i++)
		if (scope_view(cc_scopes[i]) == NULL)
			return false;
	return scope_view("check:sleep")->health == PLUGIN_HEALTH_FAILED &&
	       scope_view("check:sleep2")->health == PLUGIN_HEALTH_FAILED;
}

static void test_command_check(void **state)
{
	char pidfile[64], json[2048], buf[32];
	pid_t sleeper = 0;
	int status, fd;

	snprintf(pidfile, sizeof(pidfile), "/tmp/chorus-plugin-test.%d", (int)getpid());
	snprintf(json, sizeof(json),
		 "{\"checks\": ["
		 "{\"name\": \"true\", \"argv\": [\"/bin/true\"], \"interval_ms\": 50,"
		 " \"fail_after\": 1, \"recover_after\": 1},"
		 "{\"name\": \"false\", \"argv\": [\"/bin/false\"], \"interval_ms\": 50,"
		 " \"fail_after\": 1},"
		 "{\"name\": \"three\", \"argv\": \"echo broken; exit 3\", \"shell\": true,"
		 " \"interval_ms\": 50, \"fail_after\": 1},"
		 "{\"name\": \"sig\", \"argv\": \"kill -9 $$\", \"shell\": true,"
		 " \"interval_ms\": 50, \"fail_after\": 1},"
		 "{\"name\": \"env\", \"argv\": \"test \\\"$CHORUS_NODE_ID/$CHORUS_SCOPE\\\" = 7/check:env\","
		 " \"shell\": true, \"interval_ms\": 50, \"fail_after\": 1},"
		 "{\"name\": \"sleep2\", \"argv\": [\"/bin/sleep\", \"30\"],"
		 " \"interval_ms\": 10000, \"timeout_ms\": 200, \"fail_after\": 1},"
		 "{\"name\": \"sleep\", \"argv\": \"echo $$ > %s; exec /bin/sleep 30\","
		 " \"shell\": true, \"interval_ms\": 10000, \"timeout_ms\": 300, \"fail_after\": 1}"
		 "]}",
		 pidfile);
	assert_int_equal(load_json(NULL, PLUGIN_SHIPPED_DIR "/command-check/.libs/chorus-command-check.so",
				   json),
			 0);
	assert_true(run_until(cc_done, 5000));

	assert_int_equal(scope_view("check:true")->health, PLUGIN_HEALTH_OK);
	assert_int_equal(scope_view("check:false")->health, PLUGIN_HEALTH_DEGRADED);
	assert_string_equal(scope_view("check:false")->reason, "exit 1");
	assert_int_equal(scope_view("check:three")->health, PLUGIN_HEALTH_FAILED);
	assert_string_equal(scope_view("check:three")->reason, "exit 3: broken");
	assert_int_equal(scope_view("check:sig")->health, PLUGIN_HEALTH_FAILED);
	assert_string_equal(scope_view("check:sig")->reason, "killed by signal 9");
	assert_int_equal(scope_view("check:env")->health, PLUGIN_HEALTH_OK);
	assert_string_equal(scope_view("check:sleep")->reason, "timed out after 300 ms (killed)");
	assert_int_equal(scope_view("check:sleep2")->health, PLUGIN_HEALTH_FAILED);
	assert_string_equal(scope_view("check:sleep2")->reason, "timed out after 200 ms (killed)");

	/* The sleeper was killed and reaped: no such process, no zombie, and
	 * this process has no child left at all. */
	fd = open(pidfile, O_RDONLY);
	assert_true(fd >= 0);
	memset(buf, 0, sizeof(buf));
	assert_true(read(fd, buf, sizeof(buf) - 1) > 0);
	close(fd);
	unlink(pidfile);
	sleeper = (pid_t)atoi(buf);
	assert_true(sleeper > 0);
	assert_int_equal(kill(sleeper, 0), -1);
	assert_int_equal(errno, ESRCH);
	/* Let the fast checks' runs end, then look for children. */
	plugin_host_free(T.h);
	T.h = NULL;
	assert_int_equal(plugin_host_new(T.loop, on_health, NULL, &T.h), 0);
	assert_int_equal(waitpid(-1, &status, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static bool recheck_ok(void)
{
	const struct plugin_scope_view *v = scope_view("check:re");

	return v != NULL && v->health == PLUGIN_HEALTH_OK;
}

static bool recheck_degraded(void)
{
	const struct plugin_scope_view *v = scope_view("check:re");

	return v != NULL && v->health == PLUGIN_HEALTH_DEGRADED;
}

static void test_command_check_reconfigure(void **state)
{
	struct json_object *cfg;

	assert_int_equal(load_json(NULL, PLUGIN_SHIPPED_DIR "/command-check/.libs/chorus-command-check.so",
				   "{\"checks\": [{\"name\": \"re\", \"argv\": [\"/bin/false\"],"
				   " \"interval_ms\": 30, \"fail_after\": 1, \"recover_after\": 1}]}"),
			 0);
	assert_true(run_until(recheck_degraded, 2000));
	/* A bad configuration is refused and the old one keeps running. */
	cfg = json_tokener_parse("{\"checks\": [{\"name\": \"re\", \"argv\": [\"true\"]}]}");
	assert_int_equal(plugin_host_reconfigure(T.h, "command-check", cfg), -EINVAL);
	json_object_put(cfg);
	assert_true(log_has("argv[0] must be an absolute path", NULL));
	cfg = json_tokener_parse("{\"checks\": [{\"name\": \"re\", \"argv\": [\"/bin/true\"],"
				 " \"interval_ms\": 30, \"fail_after\": 1, \"recover_after\": 1}]}");
	assert_int_equal(plugin_host_reconfigure(T.h, "command-check", cfg), 0);
	json_object_put(cfg);
	assert_true(run_until(recheck_ok, 2000));
	assert_int_equal(plugin_host_reconfigure(T.h, "no-such-plugin", NULL), -ENOENT);
}

/* ---- link-monitor ---- */

static bool link_failed(void)
{
	const struct event *e = last_event("link:vchb");

	return e != NULL && e->health == PLUGIN_HEALTH_FAILED;
}

static bool link_ok(void)
{
	const struct event *e = last_event("link:vchb");

	return e != NULL && e->health == PLUGIN_HEALTH_OK;
}

static bool link_absent(void)
{
	/* Failed already (no carrier): only the reason changes, no event. */
	const struct plugin_scope_view *v = scope_view("link:vchb");

	return v != NULL && strstr(v->reason, "absent") != NULL;
}

static bool vchb_ok_now(void)
{
	const struct plugin_scope_view *v = scope_view("link:vchb");

	return v != NULL && v->health == PLUGIN_HEALTH_OK;
}

static bool absent_reported(void)
{
	const struct event *e = last_event("link:nosuch0");

	return e != NULL;
}

static void sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fail_msg("'%s' failed: %d", cmd, rc);
}

static void test_link_monitor(void **state)
{
	const struct plugin_scope_view *v;
	uint64_t t;

	if (geteuid() != 0)
		skip();
	/* A private network namespace for this process only: it goes away
	 * with it, and nothing outside sees the veth pair. */
	if (unshare(CLONE_NEWNET) != 0) {
		print_message("unshare(CLONE_NEWNET): %s: skipped\n", strerror(errno));
		skip();
	}
	sh("ip link add vcha type veth peer name vchb && ip link set vcha up && ip link set vchb up");

	assert_int_equal(load_json(NULL, PLUGIN_SHIPPED_DIR "/link-monitor/.libs/chorus-link-monitor.so",
				   "{\"interfaces\": [\"vchb\", \"nosuch0\"]}"),
			 0);
	/* Initial dump: absent interface failed at once, vchb ok. */
	assert_true(absent_reported());
	assert_int_equal(last_event("link:nosuch0")->health, PLUGIN_HEALTH_FAILED);
	assert_true(vchb_ok_now() || run_until(vchb_ok_now, 2000));
	v = scope_view("link:vchb");
	assert_non_null(v);
	assert_int_equal(v->health, PLUGIN_HEALTH_OK);

	/* Peer down: vchb loses carrier. */
	t = now_ms();
	sh("ip link set vcha down");
	assert_true(run_until(link_failed, 1000));
	assert_true(last_event("link:vchb")->at_ms - t < 100);
	print_message("link:vchb failed %llu ms after ip started: %s\n",
		      (unsigned long long)(last_event("link:vchb")->at_ms - t),
		      last_event("link:vchb")->reason);

	t = now_ms();
	sh("ip link set vcha up");
	assert_true(run_until(link_ok, 1000));
	assert_true(last_event("link:vchb")->at_ms - t < 100);

	/* Own link admin down, then deleted. */
	t = now_ms();
	sh("ip link set vchb down");
	assert_true(run_until(link_failed, 1000));
	assert_true(last_event("link:vchb")->at_ms - t < 100);
	assert_non_null(strstr(last_event("link:vchb")->reason, "administratively down"));
	sh("ip link set vchb up");
	assert_true(run_until(link_ok, 1000));
	sh("ip link del vcha");
	assert_true(run_until(link_absent, 1000));
	assert_int_equal(scope_view("link:vchb")->health, PLUGIN_HEALTH_FAILED);
	/* Recreated under the same name: back to ok. */
	sh("ip link add vchb type veth peer name vcha && ip link set vcha up && ip link set vchb up");
	assert_true(run_until(link_ok, 1000));
}

/* FC: a fake sysfs tree; port_state changes are samples (hysteresis 1/1). */
static bool fc_failed(void)
{
	const struct event *e = last_event("fc:host3");

	return e != NULL && e->health == PLUGIN_HEALTH_FAILED;
}

static bool fc_ok(void)
{
	const struct plugin_scope_view *v = scope_view("fc:host3");

	return v != NULL && v->health == PLUGIN_HEALTH_OK &&
	       (last_event("fc:host3") == NULL || last_event("fc:host3")->health == PLUGIN_HEALTH_OK);
}

static void put_state(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f, "%s\n", s);
	fclose(f);
}

static void test_fc(void **state)
{
	char root[64], path[128], cmd[256], json[256];

	/* A bad configuration refuses the load, with the reason logged. */
	assert_int_equal(load_json(NULL, PLUGIN_SHIPPED_DIR "/link-monitor/.libs/chorus-link-monitor.so",
				   "{\"interfaces\": \"eth0\"}"),
			 -EINVAL);
	assert_true(log_has("\"interfaces\" must be an array", NULL));
	assert_true(log_has("chorus-link-monitor.so refused", "init failed"));

	snprintf(root, sizeof(root), "/tmp/chorus-fc-test.%d", (int)getpid());
	snprintf(path, sizeof(path), "%s/host3", root);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s", path);
	sh(cmd);
	snprintf(path, sizeof(path), "%s/host3/port_state", root);
	put_state(path, "Online");
	snprintf(json, sizeof(json),
		 "{\"fc_hosts\": [\"host3\"], \"fc_interval_ms\": 20, \"fc_fail_after\": 1,"
		 " \"fc_recover_after\": 1, \"fc_sysfs\": \"%s\"}", root);
	assert_int_equal(load_json(NULL, PLUGIN_SHIPPED_DIR "/link-monitor/.libs/chorus-link-monitor.so",
				   json),
			 0);
	assert_true(run_until(fc_ok, 1000));
	put_state(path, "Linkdown");
	assert_true(run_until(fc_failed, 1000));
	assert_string_equal(last_event("fc:host3")->reason, "fc host host3 port_state Linkdown");
	put_state(path, "Online");
	assert_true(run_until(fc_ok, 1000));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	sh(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_refusals_then_good, setup, teardown),
		cmocka_unit_test(test_hyst_unit),
		cmocka_unit_test_setup_teardown(test_hyst_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_off_loop_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hung_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounded_workers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_check_reconfigure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_monitor, setup, teardown),
	};
	int32_t t;

	qb_log_init("plugin_test", LOG_USER, LOG_DEBUG);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, QB_FALSE);
	t = qb_log_custom_open(log_capture, NULL, NULL, NULL);
	qb_log_filter_ctl(t, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_DEBUG);
	qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_TRUE);
	if (getenv("PLUGIN_TEST_VERBOSE") != NULL) {
		qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_DEBUG);
		qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, QB_TRUE);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
