/*
 * Test plugins for tests/unit/plugin_test.c, one source built several ways:
 *
 *   chorus-test-good       a well-formed plugin driven by its config
 *   chorus-test-badabi     abi_version from the future    (-DTEST_BAD_ABI)
 *   chorus-test-badsize    a struct of the wrong size      (-DTEST_BAD_SIZE)
 *   chorus-test-nosym      no chorus_plugin_entry at all   (-DTEST_NO_SYMBOL)
 *
 * Config of the good one (all optional):
 *   {"fail_init": true,                 init returns -EINVAL
 *    "report": "node",                  report_health(scope, failed) at init
 *    "checks": 1, "scope": "check:t",   that many checks, scopes SCOPE, SCOPE-1...
 *    "script": "ffoofo", "hang_ms": 0,  verdicts in turn (o ok, d degraded,
 *                                       f failed, x misuse the API then ok;
 *                                       the last repeats); each run
 *                                       first sleeps hang_ms
 *    "interval_ms": 20, "timeout_ms": 1000, "fail_after": 3, "recover_after": 2}
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include <chorus/plugin.h>

struct tcheck {
	const struct chorus_host_api *api;
	char scope[64];
	const char *script;
	atomic_uint runs;
	unsigned hang_ms;
};

struct tstate {
	char script[64];
	unsigned n;
	struct tcheck *checks;
};

static enum chorus_health t_run(struct chorus_plugin_ctx *ctx, void *arg, char *reason,
				size_t reason_size)
{
	struct tcheck *c = arg;
	unsigned k = atomic_fetch_add(&c->runs, 1);
	size_t len = strlen(c->script);
	char v = len ? c->script[k < len ? k : len - 1] : 'o';

	if (c->hang_ms > 0) {
		struct timespec ts = { .tv_sec = c->hang_ms / 1000,
				       .tv_nsec = (long)(c->hang_ms % 1000) * 1000000L };

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	if (v == 'x') {
		/* Misuse: a main-loop function from a worker. */
		int rc = c->api->report_health(ctx, "node", CHORUS_HEALTH_FAILED, "from a worker");

		c->api->log(ctx, CHORUS_LOG_INFO, "report_health from a check returned %d", rc);
		v = 'o';
	}
	snprintf(reason, reason_size, "sample %u '%c'", k, v);
	return v == 'o' ? CHORUS_HEALTH_OK : v == 'd' ? CHORUS_HEALTH_DEGRADED : CHORUS_HEALTH_FAILED;
}

static unsigned geti(struct json_object *root, const char *key, unsigned def)
{
	struct json_object *v;

	return json_object_object_get_ex(root, key, &v) ? (unsigned)json_object_get_int(v) : def;
}

static int t_init(const struct chorus_host_api *api, struct chorus_plugin_ctx *ctx,
		  const char *config_json)
{
	struct json_object *root = json_tokener_parse(config_json), *v;
	struct tstate *st;
	const char *scope = "check:t";
	int rc = 0;

	if (root == NULL)
		return -EINVAL;
	if (json_object_object_get_ex(root, "fail_init", &v) && json_object_get_boolean(v)) {
		api->log(ctx, CHORUS_LOG_ERR, "failing init as configured");
		json_object_put(root);
		return -EINVAL;
	}
	st = calloc(1, sizeof(*st));
	if (json_object_object_get_ex(root, "script", &v))
		snprintf(st->script, sizeof(st->script), "%s", json_object_get_string(v));
	if (json_object_object_get_ex(root, "scope", &v))
		scope = json_object_get_string(v);
	if (json_object_object_get_ex(root, "report", &v))
		api->report_health(ctx, json_object_get_string(v), CHORUS_HEALTH_FAILED,
				   "reported at init");
	st->n = geti(root, "checks", 0);
	st->checks = calloc(st->n ? st->n : 1, sizeof(*st->checks));
	for (unsigned i = 0; i < st->n; i++) {
		struct tcheck *c = &st->checks[i];
		int id;

		if (i == 0)
			snprintf(c->scope, sizeof(c->scope), "%s", scope);
		else
			snprintf(c->scope, sizeof(c->scope), "%s-%u", scope, i);
		c->script = st->script;
		c->api = api;
		c->hang_ms = geti(root, "hang_ms", 0);
		id = api->schedule_check(ctx, c->scope, geti(root, "interval_ms", 20),
					 geti(root, "timeout_ms", 1000), t_run, c);
		if (id < 0) {
			rc = id;
			break;
		}
		api->check_set_hysteresis(ctx, id, geti(root, "fail_after", 3),
					  geti(root, "recover_after", 2));
	}
	json_object_put(root);
	api->set_private(ctx, st);
	if (rc < 0) {
		free(st->checks);
		free(st);
	}
	return rc;
}

static void t_fini(const struct chorus_host_api *api, struct chorus_plugin_ctx *ctx)
{
	struct tstate *st = api->get_private(ctx);

	if (st != NULL) {
		free(st->checks);
		free(st);
	}
}

#if defined(TEST_BAD_SIZE)
/* As if built against a header whose struct had grown. */
struct bigger_plugin {
	struct chorus_plugin p;
	void *extra[4];
};
static const struct bigger_plugin big = {
	.p = { .abi_version = CHORUS_PLUGIN_ABI_VERSION,
	       .struct_size = sizeof(struct bigger_plugin),
	       .name = "test-badsize", .init = t_init, .fini = t_fini },
};
CHORUS_PLUGIN_EXPORT const struct chorus_plugin *chorus_plugin_entry(void);
const struct chorus_plugin *chorus_plugin_entry(void)
{
	return &big.p;
}
#elif defined(TEST_BAD_ABI) || defined(TEST_NO_SYMBOL)
static const struct chorus_plugin desc = {
#ifdef TEST_BAD_ABI
	.abi_version = CHORUS_PLUGIN_ABI_VERSION + 41,
	.struct_size = sizeof(struct chorus_plugin),
#else
	CHORUS_PLUGIN_V1,
#endif
	.name = "test-good",
	.init = t_init,
	.fini = t_fini,
};
#ifdef TEST_NO_SYMBOL
CHORUS_PLUGIN_EXPORT const struct chorus_plugin *chorus_plugin_entry_misspelt(void);
const struct chorus_plugin *chorus_plugin_entry_misspelt(void)
#else
CHORUS_PLUGIN_EXPORT const struct chorus_plugin *chorus_plugin_entry(void);
const struct chorus_plugin *chorus_plugin_entry(void)
#endif
{
	return &desc;
}
#else
/* the good plugin is declared the way plugin.h tells plugins to */
CHORUS_PLUGIN_DEFINE(desc, .name = "test-good", .init = t_init, .fini = t_fini);
#endif
