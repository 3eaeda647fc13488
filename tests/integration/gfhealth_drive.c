/*
 * gfhealth_drive - runs the gfapi-health plugin without chorusd, to measure
 * its probes: a fake host that dlopen()s the plugin like chorusd does, and
 * runs every scheduled check synchronously, COUNT times, INTERVAL_MS apart.
 *
 *   gfhealth_drive PLUGIN.so CONFIG_JSON COUNT [INTERVAL_MS] [NODE_ID]
 *
 * Prints one line per probe,
 *   PROBE <epoch.ms> <scope> <n> <ms> ok|degraded|failed <reason>
 * and at the end, per scope, the probe time distribution (excluding the
 * first probe, which includes glfs_init) and the RSS growth over the run:
 *   SUMMARY scope=.. probes=N first_ms=.. p50_ms=.. p95_ms=.. max_ms=..
 *           rss_kb_loaded=.. (dlopen'ed, before init) rss_kb_after_first=..
 *           rss_kb_end=.. rss_growth_kb=.. (end - after first)
 * plus "RSS <probes> <kB>" every 100 probes.  SIGINT/SIGTERM end the run early (after the probe in progress).
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <chorus/plugin.h>

#define MAX_CHECKS 16

struct chorus_plugin_ctx {
	void *priv;
	uint32_t node_id;
};

struct fake_check {
	char scope[128];
	chorus_check_fn fn;
	void *arg;
	int active;
	double *ms;
};

static struct fake_check checks[MAX_CHECKS];
static int n_checks;
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static double now_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static long rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static uint32_t h_node_id(struct chorus_plugin_ctx *ctx) { return ctx->node_id; }

static void h_log(struct chorus_plugin_ctx *ctx, int level, const char *fmt, ...)
{
	va_list ap;

	(void)ctx;
	fprintf(stderr, "LOG %d ", level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void h_set_private(struct chorus_plugin_ctx *ctx, void *p) { ctx->priv = p; }
static void *h_get_private(struct chorus_plugin_ctx *ctx) { return ctx->priv; }

static int h_report_health(struct chorus_plugin_ctx *ctx, const char *scope, enum chorus_health h,
			   const char *reason)
{
	(void)ctx;
	printf("HEALTH %s %d %s\n", scope, (int)h, reason);
	return 0;
}

static int h_report_load(struct chorus_plugin_ctx *ctx, const char *r, double v)
{
	(void)ctx; (void)r; (void)v;
	return 0;
}

static int h_schedule_check(struct chorus_plugin_ctx *ctx, const char *scope, uint32_t interval_ms,
			    uint32_t timeout_ms, chorus_check_fn fn, void *arg)
{
	(void)ctx; (void)interval_ms; (void)timeout_ms;
	if (n_checks == MAX_CHECKS)
		return -ENOSPC;
	snprintf(checks[n_checks].scope, sizeof(checks[n_checks].scope), "%s", scope);
	checks[n_checks].fn = fn;
	checks[n_checks].arg = arg;
	checks[n_checks].active = 1;
	return ++n_checks;
}

static int h_check_set_hysteresis(struct chorus_plugin_ctx *ctx, int id, uint32_t f, uint32_t r)
{
	(void)ctx; (void)id; (void)f; (void)r;
	return 0;
}

static int h_check_cancel(struct chorus_plugin_ctx *ctx, int id)
{
	(void)ctx;
	if (id < 1 || id > n_checks)
		return -ENOENT;
	checks[id - 1].active = 0;
	return 0;
}

static int h_watch_fd(struct chorus_plugin_ctx *ctx, int fd, uint32_t ev, chorus_fd_fn cb, void *arg)
{
	(void)ctx; (void)fd; (void)ev; (void)cb; (void)arg;
	return -ENOTSUP;
}

static int h_unwatch_fd(struct chorus_plugin_ctx *ctx, int fd)
{
	(void)ctx; (void)fd;
	return -ENOENT;
}

static int h_add_timer(struct chorus_plugin_ctx *ctx, uint32_t ms, chorus_timer_fn cb, void *arg)
{
	(void)ctx; (void)ms; (void)cb; (void)arg;
	return 1;			/* never fires: the node id is known at once */
}

static int h_timer_del(struct chorus_plugin_ctx *ctx, int id)
{
	(void)ctx; (void)id;
	return 0;
}

static const struct chorus_host_api api = {
	.api_version = CHORUS_HOST_API_VERSION,
	.struct_size = sizeof(struct chorus_host_api),
	.node_id = h_node_id,
	.log = h_log,
	.set_private = h_set_private,
	.get_private = h_get_private,
	.report_health = h_report_health,
	.report_load = h_report_load,
	.schedule_check = h_schedule_check,
	.check_set_hysteresis = h_check_set_hysteresis,
	.check_cancel = h_check_cancel,
	.watch_fd = h_watch_fd,
	.unwatch_fd = h_unwatch_fd,
	.add_timer = h_add_timer,
	.timer_del = h_timer_del,
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static const char *names[] = { "ok", "degraded", "failed" };
	struct chorus_plugin_ctx ctx = { 0 };
	const struct chorus_plugin *p;
	chorus_plugin_entry_fn entry;
	struct sigaction sa;
	long count, interval_ms, rss_first = -1, rss_end, rss_loaded, k;
	void *dl;
	int i, rc;

	if (argc < 4) {
		fprintf(stderr, "usage: gfhealth_drive PLUGIN.so CONFIG_JSON COUNT [INTERVAL_MS] [NODE_ID]\n");
		return 2;
	}
	count = atol(argv[3]);
	interval_ms = argc > 4 ? atol(argv[4]) : 2000;
	ctx.node_id = argc > 5 ? (uint32_t)atol(argv[5]) : 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 2;
	}
	entry = (chorus_plugin_entry_fn)(uintptr_t)dlsym(dl, CHORUS_PLUGIN_ENTRY_SYMBOL);
	if (entry == NULL || (p = entry()) == NULL || p->abi_version != CHORUS_PLUGIN_ABI_VERSION ||
	    p->struct_size != sizeof(struct chorus_plugin)) {
		fprintf(stderr, "%s: not a chorus plugin of ABI %u\n", argv[1], CHORUS_PLUGIN_ABI_VERSION);
		return 2;
	}
	rss_loaded = rss_kb();
	rc = p->init(&api, &ctx, argv[2]);
	if (rc != 0) {
		fprintf(stderr, "init: %s\n", strerror(-rc));
		return 2;
	}
	for (i = 0; i < n_checks; i++) {
		checks[i].ms = calloc((size_t)count + 1, sizeof(double));
		if (checks[i].ms == NULL)
			return 2;
	}
	for (k = 0; k < count && !stop_requested; k++) {
		double t_pass = now_ms(CLOCK_MONOTONIC);

		for (i = 0; i < n_checks; i++) {
			char reason[CHORUS_REASON_SIZE] = "";
			enum chorus_health h;
			double t0;

			if (!checks[i].active)
				continue;
			t0 = now_ms(CLOCK_MONOTONIC);
			h = checks[i].fn(&ctx, checks[i].arg, reason, sizeof(reason));
			checks[i].ms[k] = now_ms(CLOCK_MONOTONIC) - t0;
			printf("PROBE %.3f %s %ld %.2f %s %s\n", now_ms(CLOCK_REALTIME) / 1e3,
			       checks[i].scope, k, checks[i].ms[k],
			       (unsigned)h < 3 ? names[h] : "?", reason);
		}
		if (k == 0)
			rss_first = rss_kb();
		if (k > 0 && k % 100 == 0)
			printf("RSS %ld %ld\n", k, rss_kb());
		t_pass = (double)interval_ms - (now_ms(CLOCK_MONOTONIC) - t_pass);
		if (t_pass > 0 && k + 1 < count)
			usleep((useconds_t)(t_pass * 1000));
	}
	rss_end = rss_kb();
	for (i = 0; i < n_checks; i++) {
		long n = k - 1;
		double *s = checks[i].ms + 1;

		if (n < 1)
			continue;
		qsort(s, (size_t)n, sizeof(double), cmp_double);
		printf("SUMMARY scope=%s probes=%ld first_ms=%.1f p50_ms=%.2f p95_ms=%.2f max_ms=%.2f "
		       "rss_kb_loaded=%ld rss_kb_after_first=%ld rss_kb_end=%ld rss_growth_kb=%ld\n",
		       checks[i].scope, k, checks[i].ms[0], s[n / 2], s[(n * 95) / 100 < n ? (n * 95) / 100 : n - 1],
		       s[n - 1], rss_loaded, rss_first, rss_end, rss_end - rss_first);
	}
	if (getenv("GFHEALTH_FINI"))
		p->fini(&api, &ctx);
	fflush(stdout);
	_exit(0);
}
