/*
 * brick_drive - the brick executor (coordinator/exec/brick.c + script.c) without
 * chorusd, for tests/integration/brick-script.sh: one brick, operations run
 * in order on a real qb_loop, events printed as they come.
 *
 *   brick_drive SCRIPT RUN_DIR VOLUME HOST PATH DEVICE FSTYPE HOME_UUID OP...
 *     OP: acquire | release | probe | adopt | wait:SECONDS
 *
 * acquire, release and probe wait (bounded: 120 s) for their event; wait:S
 * runs the loop S seconds, monitoring (every 500 ms, 2 restarts in place
 * per minute) whatever is held.  Prints
 *   EVENT <epoch.ms> acquired|released|failed|probed <err> [reason]
 * and the executor's log on stderr.  Exit 0 when every acquire, release and
 * probe it waited for was answered, 1 otherwise.  GLUSTERD_VOL in its
 * environment is the executor's glusterd_vol (chorus.json's
 * bricks.glusterd_vol).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <qb/qbdefs.h>
#include <qb/qblog.h>
#include <qb/qbloop.h>

#include "exec/brick.h"

static qb_loop_t *loop;
static unsigned n_events;

static void on_event(void *ud, size_t idx, enum brick_event ev, int err, const char *reason)
{
	static const char *const names[] = {"acquired", "released", "failed", "probed"};
	struct timeval tv;

	gettimeofday(&tv, NULL);
	printf("EVENT %ld.%03ld %s %d %s\n", (long)tv.tv_sec, (long)tv.tv_usec / 1000, names[ev],
	       err, reason ? reason : "");
	fflush(stdout);
	n_events++;
	qb_loop_stop(loop);
}

static void stop_cb(void *data)
{
	*(bool *)data = true;
	qb_loop_stop(loop);
}

/* Run the loop until an event arrives ('until_event') or 'ms' passed. */
static bool run_for(uint64_t ms, bool until_event)
{
	qb_loop_timer_handle t;
	bool expired = false;
	unsigned before = n_events;

	qb_loop_timer_add(loop, QB_LOOP_HIGH, ms * QB_TIME_NS_IN_MSEC, &expired, stop_cb, &t);
	while (!expired && !(until_event && n_events > before))
		qb_loop_run(loop);
	if (!expired)
		qb_loop_timer_del(loop, t);
	return n_events > before;
}

static void copy(char *dst, size_t size, const char *src)
{
	if (strlen(src) >= size) {
		fprintf(stderr, "brick_drive: argument too long: %s\n", src);
		exit(2);
	}
	strcpy(dst, src);
}

int main(int argc, char **argv)
{
	struct brick_exec_config cfg = {
		.acquire_timeout_ms = 60000, .release_timeout_ms = 60000,
		.monitor_timeout_ms = 20000, .monitor_interval_ms = 500,
		.restart_max = 2, .restart_window_ms = 60000,
	};
	struct script_runner *sr;
	struct brick_exec *bx;
	struct brick_def d;
	int rc = 0;

	if (argc < 10) {
		fprintf(stderr, "usage: brick_drive SCRIPT RUN_DIR VOLUME HOST PATH DEVICE FSTYPE "
				"HOME_UUID OP...\n");
		return 2;
	}
	qb_log_init("brick_drive", LOG_DAEMON, LOG_INFO);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_INFO);
	qb_log_format_set(QB_LOG_STDERR, "%t %p %b");
	qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, QB_TRUE);

	memset(&d, 0, sizeof(d));
	copy(d.volume, sizeof(d.volume), argv[3]);
	copy(d.host, sizeof(d.host), argv[4]);
	copy(d.address, sizeof(d.address), argv[4]);
	copy(d.path, sizeof(d.path), argv[5]);
	copy(d.device, sizeof(d.device), argv[6]);
	copy(d.fstype, sizeof(d.fstype), argv[7]);
	copy(d.home_uuid, sizeof(d.home_uuid), argv[8]);
	cfg.script = argv[1];
	cfg.run_dir = argv[2];
	cfg.glusterd_vol = getenv("GLUSTERD_VOL");	/* NULL: the default */
	loop = qb_loop_create();
	if (loop == NULL || script_runner_new(loop, &sr) < 0 ||
	    brick_exec_new(loop, sr, &cfg, &d, 1, on_event, NULL, &bx) < 0) {
		fprintf(stderr, "brick_drive: setup failed\n");
		return 1;
	}
	for (int i = 9; i < argc; i++) {
		const char *op = argv[i];
		int r = 0;

		if (strncmp(op, "wait:", 5) == 0) {
			run_for((uint64_t)atoi(op + 5) * 1000, false);
			continue;
		}
		if (strcmp(op, "acquire") == 0)
			r = brick_exec_acquire(bx, 0);
		else if (strcmp(op, "release") == 0)
			r = brick_exec_release(bx, 0);
		else if (strcmp(op, "probe") == 0)
			r = brick_exec_probe(bx, 0);
		else if (strcmp(op, "adopt") == 0) {
			r = brick_exec_adopt(bx, 0);
			if (r < 0)
				rc = 1;
			continue;
		} else {
			fprintf(stderr, "brick_drive: unknown op %s\n", op);
			rc = 2;
			break;
		}
		if (r < 0 || !run_for(120000, true)) {
			fprintf(stderr, "brick_drive: %s: no answer (rc %d)\n", op, r);
			rc = 1;
			break;
		}
	}
	brick_exec_free(bx);
	script_runner_free(sr);
	qb_loop_destroy(loop);
	qb_log_fini();
	return rc;
}
