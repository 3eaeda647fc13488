/*
 * Unit tests for the config loader (coordinator/adapters/conf.c).
 *
 * Every case writes a file into a private mkdtemp() directory and loads it
 * through the public API, so the tests see exactly what chorusd sees.  Error
 * cases check the return code and that the one-line message names the file
 * and the offending key, because that message is all an operator gets.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "adapters/conf.h"

struct test_dir {
	char dir[64];
	char path[128];		/* dir/chorus.json, rewritten by each case */
};

static int group_setup(void **state)
{
	struct test_dir *td = calloc(1, sizeof(*td));

	if (td == NULL)
		return -1;
	strcpy(td->dir, "/tmp/conf_test.XXXXXX");
	if (mkdtemp(td->dir) == NULL) {
		free(td);
		return -1;
	}
	snprintf(td->path, sizeof(td->path), "%s/chorus.json", td->dir);
	*state = td;
	return 0;
}

static int group_teardown(void **state)
{
	struct test_dir *td = *state;
	char fifo[160];

	snprintf(fifo, sizeof(fifo), "%s/fifo", td->dir);
	unlink(td->path);
	unlink(fifo);
	rmdir(td->dir);
	free(td);
	return 0;
}

static void write_bytes(const struct test_dir *td, const char *data, size_t len)
{
	FILE *f = fopen(td->path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void write_file(const struct test_dir *td, const char *json)
{
	write_bytes(td, json, strlen(json));
}

/* Load 'json' and expect success; on failure show the loader's message. */
static struct chorus_conf *load_ok(const struct test_dir *td, const char *json)
{
	struct chorus_conf *c = NULL;
	char err[512] = "";
	int rc;

	write_file(td, json);
	rc = conf_load(td->path, &c, err, sizeof(err));
	if (rc != 0)
		fail_msg("expected success, got %d: %s\nfile: %s", rc, err, json);
	assert_non_null(c);
	assert_string_equal(err, "");
	return c;
}

/* Load the file as it is and expect 'want_rc' with a one-line message that
 * starts with the path and contains every string of the NULL-terminated
 * list. */
static void check_load_error(const struct test_dir *td, int want_rc, ...)
{
	struct chorus_conf *c = (struct chorus_conf *)1;
	char err[1024] = "", prefix[160];
	const char *want;
	va_list ap;
	int rc;

	rc = conf_load(td->path, &c, err, sizeof(err));
	if (rc != want_rc)
		fail_msg("expected %d, got %d: %s", want_rc, rc, err);
	assert_null(c);
	snprintf(prefix, sizeof(prefix), "%s: ", td->path);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("message does not start with the path: %s", err);
	if (strchr(err, '\n') != NULL)
		fail_msg("message is not one line: %s", err);
	va_start(ap, want_rc);
	while ((want = va_arg(ap, const char *)) != NULL) {
		if (strstr(err, want) == NULL) {
			va_end(ap);
			fail_msg("message lacks \"%s\": %s", want, err);
		}
	}
	va_end(ap);
}

#define expect_error(td, json, ...)                                     \
	do {                                                            \
		write_file(td, json);                                   \
		check_load_error(td, -EINVAL, __VA_ARGS__, NULL);       \
	} while (0)

static const char full_json[] =
	"{\n"
	"  \"group\": \"gw-cluster_1.a\",\n"
	"  \"state_dir\": \"/srv/chorus/state\",\n"
	"  \"run_dir\": \"/run/chorus-gw\",\n"
	"  \"vips\": [\n"
	"    { \"address\": \"192.0.2.20/24\", \"interface\": \"eth0\", \"pool\": \"nfs\" },\n"
	"    { \"address\": \"2001:db8::10/64\", \"interface\": \"bond0.100\" },\n"
	"    { \"address\": \"192.0.2.10/25\", \"interface\": \"eth1\", \"pool\": \"smb\" }\n"
	"  ],\n"
	"  \"failback\": \"delay\",\n"
	"  \"failback_delay_ms\": 30000,\n"
	"  \"timing\": { \"round_timeout_ms\": 3000, \"restart_grace_ms\": 20000,\n"
	"              \"address_lifetime_s\": 6, \"refresh_ms\": 500,\n"
	"              \"announce_count\": 5, \"announce_interval_ms\": 100,\n"
	"              \"shutdown_timeout_ms\": 15000 },\n"
	"  \"log\": { \"level\": \"debug\", \"file\": \"/var/log/chorus/chorusd.log\",\n"
	"           \"stderr\": true, \"syslog\": false }\n"
	"}\n";

static void test_full_valid(void **state)
{
	struct chorus_conf *c = load_ok(*state, full_json);
	char buf[CHORUS_ADDR_STRLEN];

	assert_string_equal(c->path, ((struct test_dir *)*state)->path);
	assert_string_equal(c->group, "gw-cluster_1.a");
	assert_string_equal(c->state_dir, "/srv/chorus/state");
	assert_string_equal(c->run_dir, "/run/chorus-gw");
	assert_int_equal(c->n_vips, 3);
	/* Sorted: IPv4 by bytes, then IPv6. */
	res_addr_format(&c->vips[0].addr, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.10/25");
	assert_string_equal(c->vips[0].ifname, "eth1");
	assert_string_equal(c->vips[0].pool, "smb");
	assert_int_equal(c->vips[0].index, 2);
	res_addr_format(&c->vips[1].addr, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.20/24");
	assert_string_equal(c->vips[1].pool, "nfs");
	assert_int_equal(c->vips[1].index, 0);
	res_addr_format(&c->vips[2].addr, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::10/64");
	assert_string_equal(c->vips[2].ifname, "bond0.100");
	assert_string_equal(c->vips[2].pool, "default");
	assert_int_equal(c->failback, CONF_FAILBACK_DELAY);
	assert_string_equal(conf_failback_name(c->failback), "delay");
	assert_int_equal(c->failback_delay_ms, 30000);
	assert_int_equal(c->round_timeout_ms, 3000);
	assert_int_equal(c->restart_grace_ms, 20000);
	assert_int_equal(c->address_lifetime_s, 6);
	assert_int_equal(c->refresh_ms, 500);
	assert_int_equal(c->announce_count, 5);
	assert_int_equal(c->announce_interval_ms, 100);
	assert_int_equal(c->shutdown_timeout_ms, 15000);
	assert_int_equal(c->log.level, LOG_DEBUG);
	assert_string_equal(c->log.file, "/var/log/chorus/chorusd.log");
	assert_true(c->log.to_stderr);
	assert_false(c->log.to_syslog);
	conf_free(c);
}

static void test_defaults(void **state)
{
	struct chorus_conf *c = load_ok(*state, " {}\n");

	assert_string_equal(c->group, "chorus");
	assert_string_equal(c->state_dir, "/var/lib/chorus");
	assert_string_equal(c->run_dir, "/run/chorus");
	assert_int_equal(c->n_vips, 0);
	assert_null(c->vips);
	assert_int_equal(c->failback, CONF_FAILBACK_AUTO);
	assert_int_equal(c->failback_delay_ms, 0);
	assert_int_equal(c->round_timeout_ms, 5000);
	assert_int_equal(c->restart_grace_ms, 10000);
	/* derived from corosync's timing at start (timing_test.c) */
	assert_false(c->address_lifetime_set);
	assert_int_equal(c->heartbeat_ms, 0);
	assert_int_equal(c->liveness_ms, 0);
	assert_false(c->expiry_margin_set);
	assert_true(c->expiry_probe);
	assert_int_equal(c->announce_count, 3);
	assert_int_equal(c->announce_interval_ms, 250);
	assert_int_equal(c->shutdown_timeout_ms, 10000);
	assert_int_equal(c->log.level, LOG_INFO);
	assert_string_equal(c->log.file, "");
	assert_false(c->log.to_stderr);
	assert_true(c->log.to_syslog);
	conf_free(c);

	c = load_ok(*state, "{\"vips\": [], \"failback\": \"manual\"}");
	assert_int_equal(c->n_vips, 0);
	assert_int_equal(c->failback, CONF_FAILBACK_MANUAL);
	conf_free(c);
}

static void test_syntax_errors(void **state)
{
	struct test_dir *td = *state;

	expect_error(td, "{\n  \"group\": \"a\",\n  \"vips\": [,]\n}",
		     "line 3, column 12", "JSON syntax error");
	expect_error(td, "{\"group\": \"a\",}", "line 1", "syntax error");
	expect_error(td, "{ /* comment */ }", "line 1, column 3", "syntax error");
	expect_error(td, "{} {}", "syntax error");
	expect_error(td, "{}\nx", "line 2, column 1");
	expect_error(td, "{\"vips\": [\n", "line 2, column 1", "end of data");
	expect_error(td, "{\"group\": \"abc", "end of data");
	expect_error(td, "{\"log\": {\"stderr\": tru}}", "syntax error");
	expect_error(td, "", "empty");
	expect_error(td, " \n\t", "empty");
	expect_error(td, "{\"group\": \"\xff\"}", "utf-8");
	expect_error(td, "{\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}", "nesting");
	write_bytes(td, "{}\0{}", 5);
	check_load_error(td, -EINVAL, "NUL byte", NULL);
}

static void test_not_object(void **state)
{
	expect_error(*state, "[]", "top level", "expected an object, got an array");
	expect_error(*state, "1", "expected an object, got an integer");
	expect_error(*state, "\"chorus\"", "got a string");
	expect_error(*state, "null", "got null");
}

static void test_unknown_keys(void **state)
{
	struct test_dir *td = *state;

	expect_error(td, "{\"grup\": \"chorus\"}", ": grup: unknown key",
		     "group, state_dir");
	expect_error(td, "{\"timing\": {\"round_timeout\": 5000}}",
		     ": timing.round_timeout: unknown key", "round_timeout_ms");
	expect_error(td, "{\"log\": {\"lvl\": \"info\"}}", ": log.lvl: unknown key");
	expect_error(td,
		     "{\"vips\": [{\"address\": \"192.0.2.1/24\", \"interface\": \"eth0\"},"
		     " {\"address\": \"192.0.2.2/24\", \"interface\": \"eth0\", \"pol\": \"x\"}]}",
		     ": vips[1].pol: unknown key", "address, interface, pool");
	/* Hostile key: escaped, truncated, still one line. */
	expect_error(td, "{\"bad\\nkey\\u0001xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\": 1}",
		     "bad\\x0akey\\x01", "...: unknown key");
}

static void test_wrong_types(void **state)
{
	struct test_dir *td = *state;

	expect_error(td, "{\"group\": 5}", ": group: expected a string, got an integer");
	expect_error(td, "{\"state_dir\": null}", ": state_dir: expected a string, got null");
	expect_error(td, "{\"vips\": {}}", ": vips: expected an array, got an object");
	expect_error(td, "{\"vips\": [\"192.0.2.1/24\"]}", ": vips[0]: expected an object, got a string");
	expect_error(td, "{\"vips\": [{\"address\": 1, \"interface\": \"e\"}]}",
		     ": vips[0].address: expected a string");
	expect_error(td, "{\"vips\": [{\"address\": \"192.0.2.1/24\", \"interface\": [\"e\"]}]}",
		     ": vips[0].interface: expected a string, got an array");
	expect_error(td, "{\"timing\": []}", ": timing: expected an object");
	expect_error(td, "{\"timing\": {\"refresh_ms\": \"1000\"}}",
		     ": timing.refresh_ms: expected an integer, got a string");
	expect_error(td, "{\"timing\": {\"refresh_ms\": 1000.0}}",
		     ": timing.refresh_ms: expected an integer, got a fractional number");
	expect_error(td, "{\"timing\": {\"refresh_ms\": 1e3}}", ": timing.refresh_ms: expected an integer");
	expect_error(td, "{\"timing\": {\"announce_count\": true}}",
		     ": timing.announce_count: expected an integer, got a boolean");
	expect_error(td, "{\"log\": {\"stderr\": \"yes\"}}", ": log.stderr: expected true or false");
	expect_error(td, "{\"log\": {\"syslog\": 1}}", ": log.syslog: expected true or false");
	expect_error(td, "{\"log\": \"info\"}", ": log: expected an object");
	expect_error(td, "{\"failback\": true}", ": failback: expected a string");
	expect_error(td, "{\"group\": \"a\\u0000b\"}", ": group: ", "NUL");
}

struct range_case {
	const char *key;
	uint32_t min, max;
	size_t offset;
};

/* Each timing key accepts its bounds and refuses one past them.  The address
 * lifetime is set to 0 so that cross-checks do not get in the way. */
static void test_ranges(void **state)
{
	static const struct range_case cases[] = {
		{ "round_timeout_ms", 100, 600000, offsetof(struct chorus_conf, round_timeout_ms) },
		{ "restart_grace_ms", 1000, 3600000, offsetof(struct chorus_conf, restart_grace_ms) },
		{ "refresh_ms", 100, 60000, offsetof(struct chorus_conf, refresh_ms) },
		{ "announce_count", 0, 20, offsetof(struct chorus_conf, announce_count) },
		{ "announce_interval_ms", 10, 10000, offsetof(struct chorus_conf, announce_interval_ms) },
		{ "shutdown_timeout_ms", 100, 600000, offsetof(struct chorus_conf, shutdown_timeout_ms) },
	};
	struct test_dir *td = *state;
	char json[256], kp[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct range_case *rc = &cases[i];
		struct chorus_conf *c;
		uint32_t bound[2] = { rc->min, rc->max };
		int b;

		for (b = 0; b < 2; b++) {
			snprintf(json, sizeof(json),
				 "{\"timing\": {\"address_lifetime_s\": 0, \"%s\": %u}}",
				 rc->key, bound[b]);
			c = load_ok(td, json);
			assert_int_equal(*(uint32_t *)((char *)c + rc->offset), bound[b]);
			conf_free(c);
		}
		snprintf(kp, sizeof(kp), ": timing.%s: ", rc->key);
		snprintf(json, sizeof(json),
			 "{\"timing\": {\"address_lifetime_s\": 0, \"%s\": %u}}",
			 rc->key, rc->max + 1);
		expect_error(td, json, kp, "out of range");
		if (rc->min > 0) {
			snprintf(json, sizeof(json),
				 "{\"timing\": {\"address_lifetime_s\": 0, \"%s\": %u}}",
				 rc->key, rc->min - 1);
			expect_error(td, json, kp, "out of range");
		}
		snprintf(json, sizeof(json), "{\"timing\": {\"%s\": -1}}", rc->key);
		expect_error(td, json, kp, "-1 is out of range");
	}
	expect_error(td, "{\"timing\": {\"refresh_ms\": 99999999999999999999999}}",
		     ": timing.refresh_ms: ", "out of range");
	expect_error(td, "{\"timing\": {\"refresh_ms\": 4294967296100}}",
		     ": timing.refresh_ms: ", "out of range");
	expect_error(td, "{\"timing\": {\"refresh_ms\": -99999999999999999999999}}",
		     ": timing.refresh_ms: ", "out of range");
	expect_error(td, "{\"timing\": {\"heartbeat_ms\": 19}}",
		     ": timing.heartbeat_ms: 19 is out of range (20..5000)");
	expect_error(td, "{\"timing\": {\"liveness_ms\": 99}}",
		     ": timing.liveness_ms: ", "out of range");
	expect_error(td, "{\"timing\": {\"expiry_margin_ms\": 10001}}",
		     ": timing.expiry_margin_ms: ", "out of range");
	expect_error(td, "{\"timing\": {\"expiry_probe\": 1}}",
		     ": timing.expiry_probe: expected true or false");
	expect_error(td, "{\"timing\": {\"heartbeat_ms\": 500, \"liveness_ms\": 1499}}",
		     ": timing.liveness_ms: 1499 is shorter than three heartbeats");
	expect_error(td, "{\"timing\": {\"address_lifetime_s\": 86401}}",
		     ": timing.address_lifetime_s: ", "out of range");
	expect_error(td, "{\"failback\": \"delay\", \"failback_delay_ms\": 999}",
		     ": failback_delay_ms: 999 is out of range (1000..86400000)");
	expect_error(td, "{\"failback\": \"delay\", \"failback_delay_ms\": 86400001}",
		     ": failback_delay_ms: ", "out of range");
}

static void test_lifetime_vs_grace(void **state)
{
	struct test_dir *td = *state;
	struct chorus_conf *c;

	/* lifetime * 1000 + 2000 <= grace, exactly at the edge */
	c = load_ok(td, "{\"timing\": {\"address_lifetime_s\": 8}}");
	assert_int_equal(c->address_lifetime_s, 8);
	conf_free(c);
	expect_error(td, "{\"timing\": {\"address_lifetime_s\": 9}}",
		     ": timing.address_lifetime_s: ", "at most 8", "at least 11000");
	expect_error(td, "{\"timing\": {\"address_lifetime_s\": 86400, \"restart_grace_ms\": 3600000}}",
		     ": timing.address_lifetime_s: ");

	/* Not given: derived at start, once corosync's timing is known; a
	 * one-second lifetime must still expire 2 s before the grace. */
	c = load_ok(td, "{\"timing\": {\"restart_grace_ms\": 3000}}");
	assert_false(c->address_lifetime_set);
	conf_free(c);
	expect_error(td, "{\"timing\": {\"restart_grace_ms\": 2999}}",
		     ": timing.restart_grace_ms: 2999 is too short", "raise");
	c = load_ok(td, "{\"timing\": {\"address_lifetime_s\": 1}}");
	assert_true(c->address_lifetime_set);
	assert_int_equal(c->address_lifetime_s, 1);
	conf_free(c);

	/* Permanent addresses need no margin. */
	c = load_ok(td, "{\"timing\": {\"restart_grace_ms\": 1000, \"address_lifetime_s\": 0}}");
	assert_int_equal(c->address_lifetime_s, 0);
	conf_free(c);

	/* Renewed at least four times per lifetime. */
	c = load_ok(td, "{\"timing\": {\"address_lifetime_s\": 2, \"heartbeat_ms\": 500}}");
	conf_free(c);
	expect_error(td, "{\"timing\": {\"address_lifetime_s\": 2, \"heartbeat_ms\": 501}}",
		     ": timing.address_lifetime_s: 2 s is renewed fewer than four times", "at least 3");
	/* refresh_ms is accepted and no longer checked (renewals follow the
	 * heartbeat) */
	c = load_ok(td, "{\"timing\": {\"address_lifetime_s\": 2, \"refresh_ms\": 1500}}");
	conf_free(c);
}

static void test_names(void **state)
{
	static const char n63[] = "a23456789012345678901234567890123456789012345678901234567890123";
	struct test_dir *td = *state;
	struct chorus_conf *c;
	char json[512];

	snprintf(json, sizeof(json),
		 "{\"group\": \"%s\", \"vips\": [{\"address\": \"192.0.2.1/24\","
		 " \"interface\": \"abcdefghijklmno\", \"pool\": \"%s\"}]}", n63, n63);
	c = load_ok(td, json);
	assert_string_equal(c->group, n63);
	assert_string_equal(c->vips[0].pool, n63);
	assert_string_equal(c->vips[0].ifname, "abcdefghijklmno");
	conf_free(c);

	snprintf(json, sizeof(json), "{\"group\": \"%sx\"}", n63);
	expect_error(td, json, ": group: ", "not a valid name");
	expect_error(td, "{\"group\": \"\"}", ": group: \"\" is not a valid name");
	expect_error(td, "{\"group\": \"my group\"}", ": group: ", "A-Z a-z 0-9 . _ -");
	expect_error(td, "{\"vips\": [{\"address\": \"192.0.2.1/24\", \"interface\": \"e\", \"pool\": \"a/b\"}]}",
		     ": vips[0].pool: \"a/b\" is not a valid name");
	expect_error(td, "{\"vips\": [{\"address\": \"192.0.2.1/24\", \"interface\": \"abcdefghijklmnop\"}]}",
		     ": vips[0].interface: ", "not a valid interface name");
	expect_error(td, "{\"vips\": [{\"address\": \"192.0.2.1/24\", \"interface\": \"\"}]}",
		     ": vips[0].interface: ");
	expect_error(td, "{\"vips\": [{\"address\": \"192.0.2.1/24\", \"interface\": \"eth0:1\"}]}",
		     ": vips[0].interface: ");
	expect_error(td, "{\"vips\": [{\"address\": \"192.0.2.1/24\", \"interface\": \"eth 0\"}]}",
		     ": vips[0].interface: ");
	expect_error(td, "{\"vips\": [{\"address\": \"192.0.2.1/24\", \"interface\": \"a/b\"}]}",
		     ": vips[0].interface: ");
	expect_error(td, "{\"vips\": [{\"address\": \"192.0.2.1/24\", \"interface\": \"..\"}]}",
		     ": vips[0].interface: ");
	expect_error(td, "{\"state_dir\": \"var/lib/chorus\"}", ": state_dir: ", "absolute path");
	expect_error(td, "{\"run_dir\": \"/run/a\\nb\"}", ": run_dir: ", "control characters");
	expect_error(td, "{\"run_dir\": \"/run/chorus/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
		     ": run_dir: ", "at most 90");
}

static void test_missing_required(void **state)
{
	expect_error(*state, "{\"vips\": [{\"address\": \"192.0.2.1/24\"}]}",
		     ": vips[0].interface: missing");
	expect_error(*state, "{\"vips\": [{\"address\": \"192.0.2.1/24\", \"interface\": \"e\"},"
		     " {\"interface\": \"e\", \"pool\": \"p\"}]}",
		     ": vips[1].address: missing");
}

static void test_bad_address(void **state)
{
	static const struct {
		const char *addr, *msg;
	} bad[] = {
		{ "10.0.0.1", "\"10.0.0.1\" has no prefix length (expected e.g. 192.0.2.10/24)" },
		{ "10.0.0.1/33", "is not an IPv4 or IPv6 address" },
		{ "2001:db8::1/129", "is not an IPv4 or IPv6 address" },
		{ "nfs1.example.com/24", "is not an IPv4 or IPv6 address" },
		{ "10.0.0.1/", "is not an IPv4 or IPv6 address" },
		{ "10.0.0.1/24 ", "is not an IPv4 or IPv6 address" },
		{ "10.0.0.1/0", "prefix length 0" },
		{ "10.0.0.0/24", "network address" },
		{ "10.0.0.255/24", "broadcast address" },
		{ "127.0.0.1/8", "not a unicast address" },
		{ "224.0.0.5/24", "not a unicast address" },
		{ "0.1.2.3/24", "not a unicast address" },
		{ "::1/128", "loopback" },
		{ "::/64", "unspecified" },
		{ "ff02::1/64", "multicast" },
		{ "::ffff:192.0.2.1/96", "IPv4-mapped" },
	};
	static const char *const good[] = {
		"10.0.0.0/31", "10.0.0.255/32", "10.0.0.254/24", "2001:db8::/64", "fe80::1/64",
	};
	struct test_dir *td = *state;
	char json[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json),
			 "{\"vips\": [{\"address\": \"192.0.2.1/24\", \"interface\": \"e\"},"
			 " {\"address\": \"%s\", \"interface\": \"e\"}]}", bad[i].addr);
		expect_error(td, json, ": vips[1].address: ", bad[i].msg);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(json, sizeof(json),
			 "{\"vips\": [{\"address\": \"%s\", \"interface\": \"e\"}]}", good[i]);
		conf_free(load_ok(td, json));
	}
}

static void test_duplicate_address(void **state)
{
	struct test_dir *td = *state;

	expect_error(td,
		     "{\"vips\": [{\"address\": \"192.0.2.10/24\", \"interface\": \"eth0\"},"
		     " {\"address\": \"192.0.2.11/24\", \"interface\": \"eth0\"},"
		     " {\"address\": \"192.0.2.10/25\", \"interface\": \"eth1\", \"pool\": \"x\"}]}",
		     ": vips[2].address: 192.0.2.10/25 is the same address as vips[0].address (192.0.2.10/24)");
	expect_error(td,
		     "{\"vips\": [{\"address\": \"2001:db8:0:0::1/64\", \"interface\": \"eth0\"},"
		     " {\"address\": \"2001:db8::1/128\", \"interface\": \"eth0\"}]}",
		     ": vips[1].address: ", "vips[0].address");
}

static void test_sorted_vips(void **state)
{
	static const char *const want[] = {
		"10.0.0.2/8", "10.0.0.10/8", "192.0.2.1/24", "198.51.100.7/24",
		"2001:db8::2/64", "2001:db8::10/64", "2001:db8:1::1/64",
	};
	static const uint32_t want_index[] = { 6, 1, 3, 0, 4, 2, 5 };
	struct chorus_conf *c;
	char buf[CHORUS_ADDR_STRLEN];
	size_t i;

	c = load_ok(*state,
		    "{\"vips\": ["
		    "{\"address\": \"198.51.100.7/24\", \"interface\": \"e\"},"
		    "{\"address\": \"10.0.0.10/8\", \"interface\": \"e\"},"
		    "{\"address\": \"2001:db8::10/64\", \"interface\": \"e\"},"
		    "{\"address\": \"192.0.2.1/24\", \"interface\": \"e\"},"
		    "{\"address\": \"2001:db8::2/64\", \"interface\": \"e\"},"
		    "{\"address\": \"2001:db8:1::1/64\", \"interface\": \"e\"},"
		    "{\"address\": \"10.0.0.2/8\", \"interface\": \"e\"}]}");
	assert_int_equal(c->n_vips, 7);
	for (i = 0; i < c->n_vips; i++) {
		res_addr_format(&c->vips[i].addr, buf, sizeof(buf));
		assert_string_equal(buf, want[i]);
		assert_int_equal(c->vips[i].index, want_index[i]);
	}
	conf_free(c);
}

/* The drift check's digests: what loads the same digests the same (key
 * order, the order of vips and depends, local-only keys), a changed
 * cluster-wide key changes its digest only, an absent key is 0. */
static size_t digest_index(const char *key)
{
	for (size_t i = 0; i < CONF_DIGEST_N; i++)
		if (strcmp(conf_digest_keys[i], key) == 0)
			return i;
	fail_msg("no digest key %s", key);
	return 0;
}

static void test_digests(void **state)
{
	struct chorus_conf *a, *b;
	size_t iv = digest_index("vips"), it = digest_index("timing"), ib = digest_index("balance");

	a = load_ok(*state, "{\"vips\": [{\"address\": \"192.0.2.1/24\", \"interface\": \"e\"},"
			    "{\"address\": \"192.0.2.2/24\", \"interface\": \"e\", \"pool\": \"p\"}],"
			    " \"timing\": {\"round_timeout_ms\": 4000, \"restart_grace_ms\": 9000},"
			    " \"log\": {\"level\": \"info\"}}");
	b = load_ok(*state, "{\"log\": {\"level\": \"debug\", \"stderr\": true},"
			    " \"timing\": {\"restart_grace_ms\": 9000, \"round_timeout_ms\": 4000},"
			    " \"vips\": [{\"pool\": \"p\", \"interface\": \"e\", \"address\": \"192.0.2.2/24\"},"
			    "{\"interface\": \"e\", \"address\": \"192.0.2.1/24\"}]}");
	assert_memory_equal(a->digest, b->digest, sizeof(a->digest));
	assert_true(a->digest[iv] != 0 && a->digest[it] != 0);
	assert_true(a->digest[ib] == 0);
	conf_free(b);

	b = load_ok(*state, "{\"vips\": [{\"address\": \"192.0.2.1/24\", \"interface\": \"e\"},"
			    "{\"address\": \"192.0.2.2/24\", \"interface\": \"e\", \"pool\": \"p\"}],"
			    " \"timing\": {\"round_timeout_ms\": 5000, \"restart_grace_ms\": 9000},"
			    " \"balance\": {\"interval_ms\": 30000}}");
	for (size_t i = 0; i < CONF_DIGEST_N; i++)
		if (i == it || i == ib)
			assert_true(a->digest[i] != b->digest[i]);
		else
			assert_true(a->digest[i] == b->digest[i]);
	conf_free(a);
	conf_free(b);
}

/* "metrics": an explicit ADDR:PORT or nothing; errors name the key. */
static void test_metrics_listen(void **state)
{
	struct chorus_conf *c;

	c = load_ok(*state, "{\"metrics\": {\"listen\": \"127.0.0.1:9787\"}}");
	assert_string_equal(c->metrics_listen, "127.0.0.1:9787");
	conf_free(c);
	c = load_ok(*state, "{\"metrics\": {\"listen\": \"[2001:db8::1]:9787\"}}");
	assert_string_equal(c->metrics_listen, "[2001:db8::1]:9787");
	conf_free(c);
	c = load_ok(*state, "{}");
	assert_string_equal(c->metrics_listen, "");
	conf_free(c);
	expect_error(*state, "{\"metrics\": {\"listen\": \"127.0.0.1\"}}", "metrics.listen");
	expect_error(*state, "{\"metrics\": {\"listen\": \"localhost:9787\"}}", "metrics.listen");
	expect_error(*state, "{\"metrics\": {\"listen\": \"127.0.0.1:0\"}}", "metrics.listen");
	expect_error(*state, "{\"metrics\": {\"listen\": \"127.0.0.1:65536\"}}", "metrics.listen");
	expect_error(*state, "{\"metrics\": {\"listen\": \"2001:db8::1:9787\"}}", "metrics.listen");
	expect_error(*state, "{\"metrics\": {\"listen\": 9787}}", "metrics.listen");
	expect_error(*state, "{\"metrics\": {\"port\": 9787}}", "metrics", "port");
}

/* "notify": argv with an absolute command, a timeout, a type filter. */
static void test_notify(void **state)
{
	struct chorus_conf *c;

	c = load_ok(*state, "{\"notify\": {\"command\": [\"/usr/local/bin/page\", \"-q\"],"
			    " \"timeout_ms\": 2000, \"types\": [\"move\", \"quorum\"]}}");
	assert_int_equal(c->n_notify_args, 2);
	assert_string_equal(c->notify_args[1], "-q");
	assert_int_equal(c->notify_timeout_ms, 2000);
	assert_int_equal(c->n_notify_types, 2);
	assert_string_equal(c->notify_types[1], "quorum");
	conf_free(c);
	c = load_ok(*state, "{\"notify\": {\"command\": [\"/bin/true\"]}}");
	assert_int_equal(c->notify_timeout_ms, 10000);
	assert_int_equal(c->n_notify_types, 0);
	conf_free(c);
	expect_error(*state, "{\"notify\": {}}", "notify.command", "missing");
	expect_error(*state, "{\"notify\": {\"command\": [\"page\"]}}", "notify.command[0]");
	expect_error(*state, "{\"notify\": {\"command\": \"/bin/true x\"}}", "notify.command");
	expect_error(*state, "{\"notify\": {\"command\": [\"/bin/true\"], \"types\": [\"moves\"]}}",
		     "notify.types[0]", "moves");
	expect_error(*state, "{\"notify\": {\"command\": [\"/bin/true\"], \"timeout_ms\": 10}}",
		     "notify.timeout_ms");
}

static void test_failback(void **state)
{
	struct test_dir *td = *state;
	struct chorus_conf *c;

	expect_error(td, "{\"failback\": \"sometimes\"}",
		     ": failback: \"sometimes\" is not one of \"auto\", \"manual\", \"delay\"");
	expect_error(td, "{\"failback\": \"delay\"}",
		     ": failback_delay_ms: missing (required when failback is \"delay\")");
	expect_error(td, "{\"failback_delay_ms\": 5000}",
		     ": failback_delay_ms: only allowed when failback is \"delay\" (it is \"auto\")");
	expect_error(td, "{\"failback\": \"manual\", \"failback_delay_ms\": 5000}",
		     ": failback_delay_ms: ", "\"manual\"");
	c = load_ok(td, "{\"failback_delay_ms\": 1000, \"failback\": \"delay\"}");
	assert_int_equal(c->failback, CONF_FAILBACK_DELAY);
	assert_int_equal(c->failback_delay_ms, 1000);
	conf_free(c);
}

static void test_log(void **state)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
		{ "error", LOG_ERR }, { "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
		{ "info", LOG_INFO }, { "debug", LOG_DEBUG }, { "trace", LOG_DEBUG + 1 },
	};
	struct test_dir *td = *state;
	struct chorus_conf *c;
	char json[128];
	size_t i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		snprintf(json, sizeof(json), "{\"log\": {\"level\": \"%s\"}}", levels[i].name);
		c = load_ok(td, json);
		assert_int_equal(c->log.level, levels[i].level);
		conf_free(c);
	}
	expect_error(td, "{\"log\": {\"level\": \"verbose\"}}",
		     ": log.level: \"verbose\" is not one of \"error\", \"warning\"");
	expect_error(td, "{\"log\": {\"level\": \"INFO\"}}", ": log.level: ");
	expect_error(td, "{\"log\": {\"file\": \"chorusd.log\"}}", ": log.file: ", "absolute path");
	expect_error(td, "{\"log\": {\"syslog\": false}}", ": log: no output");
	c = load_ok(td, "{\"log\": {\"syslog\": false, \"file\": \"/tmp/x.log\"}}");
	assert_false(c->log.to_syslog);
	conf_free(c);
}

static void test_duplicate_keys(void **state)
{
	struct test_dir *td = *state;

	expect_error(td, "{\"group\": \"a\",\n \"group\": \"b\"}",
		     "line 2, column 2: key \"group\" is a duplicate");
	expect_error(td, "{\"vips\": [], \"vips\": [{\"address\": \"192.0.2.1/24\", \"interface\": \"e\"}]}",
		     "key \"vips\" is a duplicate");
	expect_error(td,
		     "{\"vips\": [{\"address\": \"192.0.2.1/24\", \"interface\": \"e\"},\n"
		     "  {\"address\": \"192.0.2.2/24\", \"pool\": \"a\", \"interface\": \"e\", \"pool\": \"b\"}]}",
		     "line 2, column 62: key \"pool\" is a duplicate");
	expect_error(td, "{\"timing\": {\"refresh_ms\": 500, \"refresh_ms\": 500}}",
		     "key \"refresh_ms\" is a duplicate");
	expect_error(td, "{\"group\": \"a\", \"gro\\u0075p\": \"b\"}",
		     "must be a plain double-quoted string");
	expect_error(td, "{'group': \"a\"}", "must be a plain double-quoted string");
	/* Same key in sibling objects is fine. */
	conf_free(load_ok(td, "{\"vips\": [{\"address\": \"192.0.2.1/24\", \"interface\": \"e\"},"
			  " {\"address\": \"192.0.2.2/24\", \"interface\": \"e\"}],"
			  " \"log\": {\"level\": \"info\"}, \"group\": \"g\"}"));
}

/* A file padded with whitespace to 'size' bytes. */
static void write_padded(const struct test_dir *td, size_t size)
{
	char *buf = malloc(size);

	assert_non_null(buf);
	memset(buf, ' ', size);
	memcpy(buf, "{}", 2);
	write_bytes(td, buf, size);
	free(buf);
}

static void test_file_errors(void **state)
{
	struct test_dir *td = *state;
	struct chorus_conf *c = (struct chorus_conf *)1;
	char err[256], fifo[160];

	write_padded(td, CONF_FILE_MAX);
	c = NULL;
	assert_int_equal(conf_load(td->path, &c, err, sizeof(err)), 0);
	conf_free(c);
	write_padded(td, CONF_FILE_MAX + 1);
	check_load_error(td, -EINVAL, "larger than the 1048576 byte limit", NULL);

	unlink(td->path);
	check_load_error(td, -ENOENT, "cannot open: No such file or directory", NULL);

	assert_int_equal(mkdir(td->path, 0700), 0);
	check_load_error(td, -EINVAL, "not a regular file", NULL);
	assert_int_equal(rmdir(td->path), 0);

	/* A FIFO must be refused, not block start-up waiting for a writer. */
	snprintf(fifo, sizeof(fifo), "%s/fifo", td->dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	c = (struct chorus_conf *)1;
	assert_int_equal(conf_load(fifo, &c, err, sizeof(err)), -EINVAL);
	assert_null(c);
	assert_non_null(strstr(err, "not a regular file"));
	unlink(fifo);
}

static void test_vip_count(void **state)
{
	struct test_dir *td = *state;
	struct chorus_conf *c;
	size_t n, i, off, size = (CONF_VIPS_MAX + 1) * 64 + 64;
	char *buf = malloc(size);

	assert_non_null(buf);
	for (n = CONF_VIPS_MAX; n <= CONF_VIPS_MAX + 1; n++) {
		off = (size_t)snprintf(buf, size, "{\"vips\": [");
		for (i = 0; i < n; i++)
			off += (size_t)snprintf(buf + off, size - off,
						"%s{\"address\": \"10.%zu.%zu.1/8\", \"interface\": \"e\"}",
						i ? "," : "", i >> 8, i & 255);
		snprintf(buf + off, size - off, "]}");
		if (n == CONF_VIPS_MAX) {
			c = load_ok(td, buf);
			assert_int_equal(c->n_vips, CONF_VIPS_MAX);
			conf_free(c);
		} else {
			expect_error(td, buf, ": vips: 16385 entries, at most 16384 allowed");
		}
	}
	free(buf);
}

static void test_api_edges(void **state)
{
	struct test_dir *td = *state;
	struct chorus_conf *c = NULL;
	char small[16];

	conf_free(NULL);
	assert_int_equal(conf_load(NULL, &c, NULL, 0), -EINVAL);
	assert_int_equal(conf_load(td->path, NULL, small, sizeof(small)), -EINVAL);
	/* No message buffer, and a tiny one: still a clean error. */
	write_file(td, "{\"grup\": 1}");
	assert_int_equal(conf_load(td->path, &c, NULL, 0), -EINVAL);
	assert_null(c);
	assert_int_equal(conf_load(td->path, &c, small, sizeof(small)), -EINVAL);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_string_equal(conf_failback_name(CONF_FAILBACK_MANUAL), "manual");
}

/* Health scopes per VIP and for the node, and the plugin list. */
/* "balance": defaults off, keys without the prefix, ranges enforced. */
static void test_balance(void **state)
{
	void *td = *state;
	struct chorus_conf *c = load_ok(td, "{}");

	assert_int_equal(c->balance_interval_ms, 0);
	assert_int_equal(c->balance_margin_pct, 10);
	assert_int_equal(c->balance_budget, 2);
	conf_free(c);
	c = load_ok(td, "{\"balance\": {\"interval_ms\": 5000, \"margin_pct\": 15, "
			"\"budget\": 3}}");
	assert_int_equal(c->balance_interval_ms, 5000);
	assert_int_equal(c->balance_margin_pct, 15);
	assert_int_equal(c->balance_budget, 3);
	conf_free(c);
	expect_error(td, "{\"balance\": {\"interval_ms\": 500}}", "balance.interval_ms",
		     "at least 1000");
	expect_error(td, "{\"balance\": {\"margin_pct\": 0}}", "balance.margin_pct");
	expect_error(td, "{\"balance\": {\"budget\": 65}}", "balance.budget");
	expect_error(td, "{\"balance\": {\"balance_budget\": 2}}", "unknown key");
	expect_error(td, "{\"balance\": 5}", "balance");
}

static void test_plugins_and_depends(void **state)
{
	struct chorus_conf *c = load_ok(*state,
		"{\"vips\":[{\"address\":\"192.0.2.10/24\",\"interface\":\"eth0\","
		"\"depends\":[\"link:eth0\",\"volume:gv0\"]}],"
		"\"depends\":[\"node\",\"check:san-paths\"],"
		"\"plugins\":{\"dir\":\"/opt/chorus/plugins\",\"load\":["
		"{\"name\":\"link-monitor\",\"config\":{\"interfaces\":[\"eth0\"]}},"
		"{\"name\":\"command-check\"}]}}");

	assert_int_equal(c->vips[0].n_depends, 2);
	assert_string_equal(c->vips[0].depends[1], "volume:gv0");
	assert_int_equal(c->n_depends, 2);
	assert_string_equal(c->depends[0], "node");
	assert_string_equal(c->plugin_dir, "/opt/chorus/plugins");
	assert_int_equal(c->n_plugins, 2);
	assert_string_equal(c->plugins[0].name, "link-monitor");
	assert_string_equal(c->plugins[0].config_json, "{\"interfaces\":[\"eth0\"]}");
	assert_string_equal(c->plugins[1].config_json, "{}");
	conf_free(c);

	write_file(*state, "{\"vips\":[{\"address\":\"192.0.2.10/24\",\"interface\":\"eth0\","
			   "\"depends\":[\"eth0\"]}]}");
	check_load_error(*state, -EINVAL, "vips[0].depends[0]", "not a scope", NULL);
	write_file(*state, "{\"depends\":[\"Link:eth0\"]}");
	check_load_error(*state, -EINVAL, "depends[0]", "lower-case", NULL);
	write_file(*state, "{\"plugins\":{\"load\":[{\"name\":\"a\"},{\"name\":\"a\"}]}}");
	check_load_error(*state, -EINVAL, "plugins.load[1].name", "loaded twice", NULL);
	write_file(*state, "{\"plugins\":{\"load\":[{\"name\":\"a\",\"config\":[1]}]}}");
	check_load_error(*state, -EINVAL, "plugins.load[0].config", "expected an object", NULL);
	write_file(*state, "{\"plugins\":{\"load\":[{\"config\":{}}]}}");
	check_load_error(*state, -EINVAL, "plugins.load[0]", "name", NULL);
	write_file(*state, "{\"plugins\":{\"dirs\":\"/x\"}}");
	check_load_error(*state, -EINVAL, "plugins.dirs", "unknown key", NULL);
}

/*
 * chorus.json(5): invalid UTF-8 is an error, wherever text goes.  json-c's
 * JSON_TOKENER_VALIDATE_UTF8 only checks the byte pattern: it lets through
 * overlong forms (C0 AF is '/'), encoded surrogates, code points past
 * U+10FFFF and the bytes C0, C1, F5..F7; and it turns a lone surrogate
 * escape into U+FFFD without a word.  Each is refused with the key named.
 */
#define UTF8_VIPS "\"vips\":[{\"address\":\"192.0.2.10/24\",\"interface\":\"eth0\",\"pool\":\"nfs\"}]"
#define UTF8_HOOK(arg) "{" UTF8_VIPS ",\"hooks\":[{\"pool\":\"nfs\",\"script\":\"/bin/true\"," \
		       "\"args\":[\"--ok\"," arg "]}]}"
#define UTF8_PLUGIN(val) "{\"plugins\":{\"load\":[{\"name\":\"p\",\"config\":{\"a\":[1," val "]}}]}}"
#define UTF8_LOG(file) "{\"log\":{\"file\":" file "}}"

static void test_utf8_strict(void **state)
{
	static const struct {
		const char *bytes;	/* inside the quotes */
		const char *why;
	} bad[] = {
		{"/etc\xc0\xaf" "x", "overlong"},		/* '/' in two bytes */
		{"\xe0\x80\xaf", "overlong"},			/* '/' in three */
		{"\xf0\x80\x80\xaf", "overlong"},		/* '/' in four */
		{"\xc1\xbf", "overlong"},			/* U+007F in two */
		{"\xe0\x9f\xbf", "overlong"},			/* U+07FF in three */
		{"\xf0\x8f\xbf\xbf", "overlong"},		/* U+FFFF in four */
		{"\xed\xa0\x80", "surrogate"},			/* U+D800 */
		{"\xed\xbf\xbf", "surrogate"},			/* U+DFFF */
		{"\xf4\x90\x80\x80", "U+10FFFF"},		/* U+110000 */
		{"\xf5\x80\x80\x80", "U+10FFFF"},
		{"\xf7\xbf\xbf\xbf", "U+10FFFF"},
		{"\\ud800", "surrogate"},			/* lone high, end of string */
		{"a\\ud800b", "surrogate"},			/* lone high */
		{"\\udc00", "surrogate"},			/* lone low */
		{"\\ud800\\u0041", "surrogate"},		/* high, then not a low */
		{"\\ud800\\ud800", "surrogate"},		/* high, high */
		{"\\udbff\\n", "surrogate"},			/* high, then another escape */
		{"a\x01z", "control character"},		/* raw: JSON wants \u0001 */
		{"a\\u0000z", "NUL"},				/* C text would end at it */
	};
	struct test_dir *td = *state;
	struct chorus_conf *c;
	char json[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char q[64];

		snprintf(q, sizeof(q), "\"%s\"", bad[i].bytes);
		snprintf(json, sizeof(json), UTF8_HOOK("%s"), q);
		write_file(td, json);
		check_load_error(td, -EINVAL, "hooks[0].args[1]", bad[i].why, NULL);
		snprintf(json, sizeof(json), UTF8_PLUGIN("%s"), q);
		write_file(td, json);
		check_load_error(td, -EINVAL, "plugins.load[0].config.a[1]", bad[i].why, NULL);
		snprintf(json, sizeof(json), UTF8_LOG("\"/var/log/%s\""), bad[i].bytes);
		write_file(td, json);
		check_load_error(td, -EINVAL, "log.file", bad[i].why, NULL);
	}
	/* the message says where: line and column of the first bad byte */
	expect_error(td, "{\n \"group\": \"ab\xc0\xaf\"}", "group", "line 2, column 14",
		     "overlong");
	/* a key is text too (plugin config keys reach the plugin) */
	expect_error(td, "{\"plugins\":{\"load\":[{\"name\":\"p\",\"config\":{\"k\xed\xa0\x80\":1}}]}}",
		     "plugins.load[0].config", "key", "surrogate");
	expect_error(td, "{\"plugins\":{\"load\":[{\"name\":\"p\",\"config\":{\"a\":1,\"k\\udfff\":1}}]}}",
		     "plugins.load[0].config: ", "key \"k\\\\udfff\"", "surrogate");
	/* nested deeper, in an array of objects */
	expect_error(td, UTF8_PLUGIN("{\"b\":[\"ok\",\"\xf4\x90\x80\x80\"]}"),
		     "plugins.load[0].config.a[1].b[1]", "U+10FFFF");

	/* what is valid stays valid: U+0080, U+07FF, U+0800, U+FFFD, U+FFFF,
	 * U+10000, U+10FFFF raw, and a surrogate pair as escapes */
	c = load_ok(td, UTF8_HOOK("\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbd\xef\xbf\xbf"
				  "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\\ud83d\\ude00\""));
	assert_int_equal(c->hooks[0].n_args, 2);
	assert_string_equal(c->hooks[0].args[1], "\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbd"
			    "\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\xf0\x9f\x98\x80");
	conf_free(c);
	c = load_ok(td, UTF8_PLUGIN("\"caf\xc3\xa9 \\u00e9\\uffff\\ud800\\udc00\""));
	assert_string_equal(c->plugins[0].config_json,
			    "{\"a\":[1,\"caf\xc3\xa9 \xc3\xa9\xef\xbf\xbf\xf0\x90\x80\x80\"]}");
	conf_free(c);
	c = load_ok(td, UTF8_LOG("\"/var/log/\xe2\x82\xac.log\""));
	assert_string_equal(c->log.file, "/var/log/\xe2\x82\xac.log");
	conf_free(c);
}

static void test_connections(void **state)
{
	struct chorus_conf *c = load_ok(*state, "{\"vips\": []}");

	assert_true(c->conns.tickle);
	assert_true(c->conns.reset_on_release);
	assert_int_equal(c->conns.max_per_vip, 256);
	assert_int_equal(c->conns.collect_ms, 1000);
	assert_int_equal(c->conns.update_ms, 2000);
	conf_free(c);
	c = load_ok(*state, "{\"connections\": {\"tickle\": false, \"reset_on_release\": false, "
			    "\"max_per_vip\": 1024, \"collect_ms\": 100, \"update_ms\": 600000}}");
	assert_false(c->conns.tickle);
	assert_false(c->conns.reset_on_release);
	assert_int_equal(c->conns.max_per_vip, 1024);
	assert_int_equal(c->conns.collect_ms, 100);
	assert_int_equal(c->conns.update_ms, 600000);
	conf_free(c);

	write_file(*state, "{\"connections\": {\"tickle\": 1}}");
	check_load_error(*state, -EINVAL, "connections.tickle", "expected true or false", NULL);
	write_file(*state, "{\"connections\": {\"max_per_vip\": 1025}}");
	check_load_error(*state, -EINVAL, "connections.max_per_vip", "out of range", NULL);
	write_file(*state, "{\"connections\": {\"max_per_vip\": 0}}");
	check_load_error(*state, -EINVAL, "connections.max_per_vip", "out of range", NULL);
	write_file(*state, "{\"connections\": {\"collect_ms\": 99}}");
	check_load_error(*state, -EINVAL, "connections.collect_ms", "out of range", NULL);
	write_file(*state, "{\"connections\": {\"tickles\": true}}");
	check_load_error(*state, -EINVAL, "connections.tickles", "unknown key", NULL);
	write_file(*state, "{\"connections\": true}");
	check_load_error(*state, -EINVAL, "connections", "expected an object", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_valid),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_not_object),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_lifetime_vs_grace),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_bad_address),
		cmocka_unit_test(test_duplicate_address),
		cmocka_unit_test(test_sorted_vips),
		cmocka_unit_test(test_failback),
		cmocka_unit_test(test_log),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_vip_count),
		cmocka_unit_test(test_connections),
		cmocka_unit_test(test_api_edges),
		cmocka_unit_test(test_plugins_and_depends),
		cmocka_unit_test(test_balance),
		cmocka_unit_test(test_digests),
		cmocka_unit_test(test_metrics_listen),
		cmocka_unit_test(test_notify),
		cmocka_unit_test(test_utf8_strict),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
