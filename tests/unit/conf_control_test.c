/*
 * Unit tests for the "control" keys of the config loader
 * (coordinator/adapters/conf_control.c): groups by name or number, the socket
 * group's default, limits and their ranges, and one-line errors that name
 * the key.  Each case writes a file into a private directory and loads it
 * through conf_load(), as chorusd does.
 *
 * Group names are taken from this host's group database (the group of gid
 * 0, whatever it is called here), so the tests run anywhere.
 */
#include <errno.h>
#include <grp.h>
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

#include "adapters/conf.h"

struct td {
	char dir[64];
	char path[128];
	char g0[CONF_GROUP_NAME_MAX];	/* the name of gid 0 here */
};

static int group_setup(void **state)
{
	struct td *td = calloc(1, sizeof(*td));
	struct group *gr;

	if (td == NULL)
		return -1;
	strcpy(td->dir, "/tmp/conf_control_test.XXXXXX");
	if (mkdtemp(td->dir) == NULL) {
		free(td);
		return -1;
	}
	snprintf(td->path, sizeof(td->path), "%s/chorus.json", td->dir);
	gr = getgrgid(0);
	snprintf(td->g0, sizeof(td->g0), "%s", gr != NULL ? gr->gr_name : "");
	*state = td;
	return 0;
}

static int group_teardown(void **state)
{
	struct td *td = *state;

	unlink(td->path);
	rmdir(td->dir);
	free(td);
	return 0;
}

__attribute__((format(printf, 2, 3)))
static void write_file(const struct td *td, const char *fmt, ...)
{
	FILE *f = fopen(td->path, "w");
	va_list ap;

	assert_non_null(f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	assert_int_equal(fclose(f), 0);
}

static struct chorus_conf *load_ok(const struct td *td)
{
	struct chorus_conf *c = NULL;
	char err[1024] = "";

	if (conf_load(td->path, &c, err, sizeof(err)) != 0)
		fail_msg("expected success: %s", err);
	assert_non_null(c);
	return c;
}

/* Expect the file refused with one line naming the path, 'key' and 'what'. */
static void load_bad(const struct td *td, const char *key, const char *what)
{
	struct chorus_conf *c = NULL;
	char err[1024] = "";

	assert_int_equal(conf_load(td->path, &c, err, sizeof(err)), -EINVAL);
	assert_null(c);
	if (strncmp(err, td->path, strlen(td->path)) != 0 || strstr(err, key) == NULL ||
	    strstr(err, what) == NULL || strchr(err, '\n') != NULL)
		fail_msg("want \"%s\" and \"%s\" in one line: %s", key, what, err);
}

static void test_defaults(void **state)
{
	struct chorus_conf *c;

	write_file(*state, "{}");
	c = load_ok(*state);
	assert_int_equal(c->control.socket_group, (gid_t)-1);
	assert_int_equal(c->control.admin_group, (gid_t)-1);
	assert_int_equal(c->control.read_group, (gid_t)-1);
	assert_int_equal(c->control.max_clients, 64);
	assert_int_equal(c->control.reserved_clients, 8);
	assert_int_equal(c->control.max_clients_per_uid, 16);
	assert_int_equal(c->control.idle_timeout_ms, 60000);
	assert_int_equal(c->control.request_timeout_ms, 10000);
	conf_free(c);
	write_file(*state, "{\"control\": {}}");
	c = load_ok(*state);
	assert_int_equal(c->control.socket_group, (gid_t)-1);
	conf_free(c);
}

static void test_groups(void **state)
{
	struct td *td = *state;
	struct chorus_conf *c;

	if (td->g0[0] == '\0')
		skip();
	/* A name, looked up; the socket follows the read group. */
	write_file(td, "{\"control\": {\"read_group\": \"%s\"}}", td->g0);
	c = load_ok(td);
	assert_int_equal(c->control.read_group, 0);
	assert_int_equal(c->control.socket_group, 0);
	assert_string_equal(c->control.read_group_name, td->g0);
	assert_string_equal(c->control.socket_group_name, td->g0);
	assert_int_equal(c->control.admin_group, (gid_t)-1);
	conf_free(c);
	/* A number needs no name; alone, the admin group owns the socket. */
	write_file(td, "{\"control\": {\"admin_group\": 4242}}");
	c = load_ok(td);
	assert_int_equal(c->control.admin_group, 4242);
	assert_int_equal(c->control.socket_group, 4242);
	assert_string_equal(c->control.socket_group_name, "4242");
	conf_free(c);
	/* Both, the same group. */
	write_file(td, "{\"control\": {\"admin_group\": 0, \"read_group\": \"%s\"}}", td->g0);
	c = load_ok(td);
	assert_int_equal(c->control.socket_group, 0);
	conf_free(c);
	/* Both, different: the socket group must be named. */
	write_file(td, "{\"control\": {\"admin_group\": 4242, \"read_group\": 4243}}");
	load_bad(td, "control.socket_group", "required when admin_group and read_group differ");
	write_file(td, "{\"control\": {\"admin_group\": 4242, \"read_group\": 4243,"
		       " \"socket_group\": \"%s\"}}", td->g0);
	c = load_ok(td);
	assert_int_equal(c->control.admin_group, 4242);
	assert_int_equal(c->control.read_group, 4243);
	assert_int_equal(c->control.socket_group, 0);
	conf_free(c);
	/* A socket group alone would let people in to do nothing. */
	write_file(td, "{\"control\": {\"socket_group\": 4242}}");
	load_bad(td, "control.socket_group", "run nothing");
}

static void test_bad_groups(void **state)
{
	static const struct {
		const char *value;
		const char *what;
	} cases[] = {
		{"\"chorus-no-such-group-q7\"", "no group named \"chorus-no-such-group-q7\""},
		{"\"987654\"", "as a JSON integer (987654)"},
		{"\"\"", "is not a group name"},
		{"\"adm:x\"", "is not a group name"},
		{"\"a/b\"", "is not a group name"},
		{"\"a\\u0001b\"", "is not a group name"},
		{"\"a\\u0000b\"", "NUL"},
		{"-1", "out of range"},
		{"4294967295", "out of range"},
		{"1.5", "got a fractional number"},
		{"true", "got a boolean"},
		{"[0]", "got an array"},
		{"null", "got null"},
	};
	static const char *const keys[] = {"admin_group", "read_group", "socket_group"};
	struct td *td = *state;
	char key[64];
	size_t i, k;

	for (k = 0; k < 3; k++) {
		snprintf(key, sizeof(key), "control.%s", keys[k]);
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			/* a valid read group beside, so that only 'key' is wrong */
			write_file(td, "{\"control\": {%s\"%s\": %s}}",
				   k == 1 ? "\"admin_group\": 7, " : "\"read_group\": 7, ", keys[k],
				   cases[i].value);
			load_bad(td, key, cases[i].what);
		}
	}
	/* A 255-character name is a name (of no group); 256 is too long. */
	{
		char name[300];

		memset(name, 'g', 255);
		name[255] = '\0';
		write_file(td, "{\"control\": {\"read_group\": \"%s\"}}", name);
		load_bad(td, "control.read_group", "no group named");
		strcat(name, "g");
		write_file(td, "{\"control\": {\"read_group\": \"%s\"}}", name);
		load_bad(td, "control.read_group", "1 to 255 characters");
	}
}

static void test_limits(void **state)
{
	static const struct {
		const char *json;
		const char *key, *what;
	} bad[] = {
		{"\"max_clients\": 0", "control.max_clients", "out of range (1..4096)"},
		{"\"max_clients\": 4097", "control.max_clients", "out of range"},
		{"\"max_clients\": \"64\"", "control.max_clients", "expected an integer"},
		{"\"reserved_clients\": 0", "control.reserved_clients", "out of range (1..1024)"},
		{"\"max_clients_per_uid\": 0", "control.max_clients_per_uid", "out of range"},
		{"\"idle_timeout_ms\": 999", "control.idle_timeout_ms", "out of range"},
		{"\"request_timeout_ms\": 99", "control.request_timeout_ms", "out of range"},
		{"\"request_timeout_ms\": 600001", "control.request_timeout_ms", "out of range"},
		{"\"max_clients\": 8, \"max_clients_per_uid\": 9", "control.max_clients_per_uid",
		 "more than control.max_clients (8)"},
		{"\"socket_mode\": 438", "control.socket_mode", "unknown key"},
		{"\"max_clients\": 8, \"max_clients\": 9", "\"max_clients\"", "duplicate"},
	};
	struct td *td = *state;
	struct chorus_conf *c;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(td, "{\"control\": {%s}}", bad[i].json);
		load_bad(td, bad[i].key, bad[i].what);
	}
	write_file(td, "{\"control\": [1]}");
	load_bad(td, "control", "expected an object");

	write_file(td, "{\"control\": {\"max_clients\": 4096, \"reserved_clients\": 1024,"
		       " \"max_clients_per_uid\": 4096, \"idle_timeout_ms\": 1000,"
		       " \"request_timeout_ms\": 600000}}");
	c = load_ok(td);
	assert_int_equal(c->control.max_clients, 4096);
	assert_int_equal(c->control.reserved_clients, 1024);
	assert_int_equal(c->control.max_clients_per_uid, 4096);
	assert_int_equal(c->control.idle_timeout_ms, 1000);
	assert_int_equal(c->control.request_timeout_ms, 600000);
	conf_free(c);
	/* A smaller max_clients alone takes the per-uid default down with it. */
	write_file(td, "{\"control\": {\"max_clients\": 8}}");
	c = load_ok(td);
	assert_int_equal(c->control.max_clients_per_uid, 8);
	conf_free(c);
}

/* "control" is the seventeenth top-level key: a file that uses every one
 * of them must still pass the duplicate-key scan. */
static void test_every_top_key(void **state)
{
	struct chorus_conf *c;

	write_file(*state,
		   "{\"group\": \"g\", \"state_dir\": \"/var/lib/x\", \"run_dir\": \"/run/x\","
		   " \"vips\": [], \"failback\": \"delay\", \"failback_delay_ms\": 1000,"
		   " \"timing\": {}, \"log\": {\"syslog\": true}, \"plugins\": {},"
		   " \"depends\": [], \"connections\": {}, \"bricks\": {},"
		   " \"fence\": {\"mode\": \"none\"}, \"watchdog\": {\"device\": \"/dev/watchdog\"},"
		   " \"balance\": {}, \"hooks\": [], \"control\": {\"admin_group\": 4242}}");
	c = load_ok(*state);
	assert_int_equal(c->control.admin_group, 4242);
	conf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_bad_groups),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_every_top_key),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
