/*
 * Service hooks (hooks.c) with real scripts on a real qb_loop: the order of
 * takeip and releaseip, the environment, a planned release that waits for
 * its hooks, failures and timeouts that do not stall an address, the queue
 * under quorum flaps, hurrying a release when the node drops everything,
 * and the cap on scripts running at once.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <qb/qbdefs.h>
#include <qb/qbloop.h>

#include "exec/hooks.h"

#define NV 20

static qb_loop_t *loop;
static char dir[64], logpath[128], hookA[128], hookB[128];
static struct chorus_conf conf;
static struct conf_vip vips[NV + 1];
static struct conf_hook hks[3];
static struct hooks *hk;
static unsigned released[NV + 1];
static unsigned n_released;
static char log_at_release[4096];	/* the hook log when the release came */

/* argv: ACTION ADDRESS LOG TAG SLEEP EXIT.  Logs its start, sleeps, logs
 * its end with the environment and argc, exits EXIT. */
static const char *hook_text =
	"#!/bin/sh\n"
	"log=$3; tag=$4; sl=$5; rc=$6\n"
	"echo \"start $tag $1 $2 $CHORUS_REASON\" >>\"$log\"\n"
	"[ \"$sl\" = 0 ] || sleep \"$sl\"\n"
	"echo \"end $tag $1 $2 $CHORUS_REASON $CHORUS_ACTION $CHORUS_ADDRESS $CHORUS_PREFIX "
	"$CHORUS_FAMILY $CHORUS_INTERFACE $CHORUS_POOL $CHORUS_NODEID $#\" >>\"$log\"\n"
	"echo some output\n"
	"exit \"$rc\"\n";

static void slurp(char *buf, size_t size)
{
	FILE *f = fopen(logpath, "r");
	size_t n = 0;

	buf[0] = '\0';
	if (f == NULL)
		return;
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static unsigned count(const char *needle)
{
	char buf[16384];
	unsigned n = 0;

	slurp(buf, sizeof(buf));
	for (const char *p = buf; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void on_release(void *ud, size_t idx)
{
	(void)ud;
	assert_true(idx < NV);
	released[idx]++;
	n_released++;
	slurp(log_at_release, sizeof(log_at_release));
}

static void deadline_cb(void *data)
{
	*(bool *)data = true;
	qb_loop_stop(loop);
}

static bool (*cond)(void);

static void poll_cb(void *data)
{
	qb_loop_timer_handle t;

	if (cond())
		qb_loop_stop(loop);
	else
		qb_loop_timer_add(loop, QB_LOOP_LOW, 5 * QB_TIME_NS_IN_MSEC, data, poll_cb, &t);
}

/* Run the loop until 'c' holds or 'ms' passed; returns whether it held. */
static bool run_until(bool (*c)(void), uint64_t ms)
{
	qb_loop_timer_handle t, p;
	bool expired = false;

	cond = c;
	if (c())
		return true;
	assert_int_equal(qb_loop_timer_add(loop, QB_LOOP_HIGH, ms * QB_TIME_NS_IN_MSEC, &expired,
					   deadline_cb, &t), 0);
	qb_loop_timer_add(loop, QB_LOOP_LOW, 5 * QB_TIME_NS_IN_MSEC, NULL, poll_cb, &p);
	qb_loop_run(loop);
	if (!expired)
		qb_loop_timer_del(loop, t);
	return c();
}

static bool idle(void)
{
	struct json_object *s = hooks_status_json(hk);
	struct json_object *r, *q;
	bool done;

	json_object_object_get_ex(s, "running", &r);
	json_object_object_get_ex(s, "queued", &q);
	done = json_object_get_int(r) == 0 && json_object_get_int(q) == 0;
	json_object_put(s);
	return done;
}

static int64_t stat_of(const char *key)
{
	struct json_object *s = hooks_status_json(hk), *v;
	int64_t x;

	json_object_object_get_ex(s, key, &v);
	x = json_object_get_int64(v);
	json_object_put(s);
	return x;
}

static void put_script(const char *path)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(hook_text, f);
	fclose(f);
	chmod(path, 0755);
}

/* hook 'k' of pool "nfs": args LOG TAG SLEEP EXIT */
static void set_hook(size_t k, const char *script, const char *tag, const char *sleep_s,
		     const char *rc, uint32_t timeout_ms)
{
	struct conf_hook *h = &hks[k];

	memset(h, 0, sizeof(*h));
	snprintf(h->pool, sizeof(h->pool), "nfs");
	snprintf(h->script, sizeof(h->script), "%s", script);
	h->timeout_ms = timeout_ms;
	h->n_args = 4;
	snprintf(h->args[0], sizeof(h->args[0]), "%s", logpath);
	snprintf(h->args[1], sizeof(h->args[1]), "%s", tag);
	snprintf(h->args[2], sizeof(h->args[2]), "%s", sleep_s);
	snprintf(h->args[3], sizeof(h->args[3]), "%s", rc);
	h->index = (uint32_t)k;
}

/* NV vips in pool "nfs" (the last one in pool "other"), n hooks. */
static void start(size_t n_hooks)
{
	conf.n_vips = NV + 1;
	conf.vips = vips;
	conf.n_hooks = n_hooks;
	conf.hooks = hks;
	for (size_t i = 0; i <= NV; i++) {
		char a[32];

		memset(&vips[i], 0, sizeof(vips[i]));
		snprintf(a, sizeof(a), "10.9.0.%zu/24", i + 1);
		assert_int_equal(res_addr_parse(a, &vips[i].addr), 0);
		snprintf(vips[i].ifname, sizeof(vips[i].ifname), "eth9");
		snprintf(vips[i].pool, sizeof(vips[i].pool), i == NV ? "other" : "nfs");
	}
	assert_int_equal(hooks_new(loop, &conf, on_release, NULL, &hk), 0);
	hooks_set_nodeid(hk, 7);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/chorus-hooks-test-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(logpath, sizeof(logpath), "%s/log", dir);
	snprintf(hookA, sizeof(hookA), "%s/hookA", dir);
	snprintf(hookB, sizeof(hookB), "%s/hookB", dir);
	put_script(hookA);
	put_script(hookB);
	loop = qb_loop_create();
	assert_non_null(loop);
	memset(released, 0, sizeof(released));
	n_released = 0;
	log_at_release[0] = '\0';
	hk = NULL;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	hooks_free(hk);
	qb_loop_destroy(loop);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static bool one_released(void)
{
	return n_released >= 1;
}

static void test_order_env_and_release_waits(void **state)
{
	char buf[4096];

	(void)state;
	set_hook(0, hookA, "A", "0", "0", 5000);
	set_hook(1, hookB, "B", "0.2", "0", 5000);
	start(2);
	assert_true(hooks_has(hk, 0));
	assert_false(hooks_has(hk, NV));	/* pool "other" has none */
	assert_false(hooks_releaseip(hk, NV));

	hooks_takeip(hk, 3);
	assert_true(run_until(idle, 5000));
	slurp(buf, sizeof(buf));
	/* list order for takeip, one after the other */
	assert_non_null(strstr(buf, "start A takeip 10.9.0.4 acquire\n"
				    "end A takeip 10.9.0.4 acquire takeip 10.9.0.4 24 inet eth9 nfs 7 6\n"
				    "start B takeip 10.9.0.4 acquire\n"));

	assert_true(hooks_releaseip(hk, 3));
	assert_int_equal(n_released, 0);	/* not before the hooks ran */
	assert_true(run_until(one_released, 5000));
	assert_int_equal(released[3], 1);
	/* reverse order; both had ended when the release was let through */
	assert_non_null(strstr(log_at_release, "start B releaseip 10.9.0.4 release\n"));
	assert_non_null(strstr(log_at_release, "end A releaseip 10.9.0.4 release"));
	assert_true(strstr(log_at_release, "end B releaseip") <
		    strstr(log_at_release, "start A releaseip"));
	assert_int_equal(stat_of("runs"), 4);
	assert_int_equal(stat_of("failures"), 0);
}

static void test_failure_and_timeout_do_not_stall(void **state)
{
	(void)state;
	set_hook(0, hookA, "A", "0", "3", 5000);	/* exits 3 */
	set_hook(1, hookB, "B", "30", "0", 300);	/* times out */
	start(2);
	hooks_takeip(hk, 0);
	assert_true(hooks_releaseip(hk, 0) || n_released == 1);
	assert_true(run_until(one_released, 15000));
	assert_int_equal(released[0], 1);
	/* takeip A, B (timeout), releaseip B (timeout), A: all ran */
	assert_int_equal(count("start A"), 2);
	assert_int_equal(count("start B"), 2);
	assert_int_equal(count("end B"), 0);
	assert_int_equal(stat_of("failures"), 4);
	{
		struct json_object *s = hooks_status_json(hk), *v;

		assert_true(json_object_object_get_ex(s, "last_failure", &v));
		assert_non_null(strstr(json_object_get_string(v), "releaseip 10.9.0.1"));
		json_object_put(s);
	}
}

static void test_flaps_collapse(void **state)
{
	(void)state;
	set_hook(0, hookA, "A", "0.3", "0", 5000);
	start(1);
	hooks_takeip(hk, 1);		/* runs */
	hooks_lost(hk, 1);		/* queued behind it */
	hooks_takeip(hk, 1);		/* queued: L T */
	hooks_lost(hk, 1);		/* cancels that T */
	hooks_takeip(hk, 1);		/* L T again */
	/* a planned release of a holding whose takeip never started: nothing to
	 * wait for */
	assert_false(hooks_releaseip(hk, 1));
	assert_true(run_until(idle, 5000));
	assert_int_equal(count("start A takeip"), 1);
	assert_int_equal(count("start A releaseip 10.9.0.2 lost"), 1);
	assert_int_equal(n_released, 0);
}

static void test_hurry(void **state)
{
	(void)state;
	set_hook(0, hookA, "A", "1", "0", 5000);
	start(1);
	hooks_takeip(hk, 2);
	assert_true(run_until(idle, 5000));
	assert_true(hooks_releaseip(hk, 2));
	assert_int_equal(n_released, 0);
	hooks_hurry(hk);		/* quorum lost: do not wait */
	assert_int_equal(released[2], 1);
	assert_true(run_until(idle, 5000));
	assert_int_equal(released[2], 1);	/* not a second time */
	assert_int_equal(count("end A releaseip 10.9.0.3 release"), 1);
}

static bool all_twenty(void)
{
	return count("end A takeip") == NV;
}

static void test_parallel_cap(void **state)
{
	(void)state;
	set_hook(0, hookA, "A", "0.3", "0", 5000);
	start(1);
	for (size_t i = 0; i < NV; i++)
		hooks_takeip(hk, i);
	assert_int_equal(stat_of("running"), HOOKS_PARALLEL);
	assert_int_equal(stat_of("queued"), NV - HOOKS_PARALLEL);
	assert_true(run_until(all_twenty, 10000));
	assert_true(run_until(idle, 5000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_env_and_release_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_and_timeout_do_not_stall, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_flaps_collapse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hurry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parallel_cap, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
