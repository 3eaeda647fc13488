/*
 * state_dir/bricks-here.json (coordinator/daemon/bricks_here.c): what is
 * saved loads back the same; a missing file is no bricks; a file that does
 * not check (a path with "..", a shell metacharacter, a bad address, a wrong
 * type, not a list) is refused whole, never half-read.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/bricks.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/chorus-here-XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	char p[128];

	(void)state;
	snprintf(p, sizeof(p), "%s/bricks-here.json", dir);
	unlink(p);
	rmdir(dir);
	return 0;
}

static void write_file(const char *text)
{
	char p[128];
	FILE *f;

	snprintf(p, sizeof(p), "%s/bricks-here.json", dir);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_round_trip(void **unused)
{
	struct brick_here h[2] = {0}, *got = NULL;
	size_t n = 99;
	char err[256] = "";

	(void)unused;
	assert_int_equal(bricks_here_load(dir, &got, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);		/* no file: nothing ran here */
	assert_null(got);
	for (int i = 0; i < 2; i++) {
		snprintf(h[i].def.volume, sizeof(h[i].def.volume), "gv0");
		snprintf(h[i].def.host, sizeof(h[i].def.host), "brick%d.example.net", i + 1);
		snprintf(h[i].def.path, sizeof(h[i].def.path), "/bricks/gv0-%d", i + 1);
		snprintf(h[i].ifname, sizeof(h[i].ifname), "eth0");
		assert_int_equal(res_addr_parse(i ? "2001:db8::51/64" : "192.0.2.51/24",
						&h[i].addr), 0);
	}
	snprintf(h[0].def.device, sizeof(h[0].def.device), "/dev/mapper/lun1");
	snprintf(h[0].def.fstype, sizeof(h[0].def.fstype), "xfs");
	snprintf(h[0].def.mount_options, sizeof(h[0].def.mount_options), "noatime,inode64");
	assert_int_equal(bricks_here_save(dir, h, 2), 0);
	assert_int_equal(bricks_here_load(dir, &got, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(got[0].def.host, "brick1.example.net");
	assert_string_equal(got[0].def.address, "192.0.2.51");
	assert_string_equal(got[0].def.mount_options, "noatime,inode64");
	assert_int_equal(got[0].addr.prefix, 24);
	assert_string_equal(got[1].def.address, "2001:db8::51");
	assert_string_equal(got[1].def.device, "");
	assert_string_equal(got[1].ifname, "eth0");
	free(got);
	assert_int_equal(bricks_here_save(dir, NULL, 0), 0);
	assert_int_equal(bricks_here_load(dir, &got, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	free(got);
}

#define ONE(field_json)                                                                      \
	"{\"bricks\": [{\"volume\": \"gv0\", \"host\": \"h1\", \"address\": \"192.0.2.51/24\", " \
	"\"interface\": \"eth0\", \"device\": \"\", \"fstype\": \"\", \"mount_options\": \"\", " \
	"\"home_uuid\": \"\", " field_json "}]}"

static void test_hostile(void **unused)
{
	static const char *const bad[] = {
		ONE("\"path\": \"/bricks/../etc\""),
		ONE("\"path\": \"bricks/b1\""),
		ONE("\"path\": \"/bricks/b1;reboot\""),
		ONE("\"path\": \"/bricks/$(reboot)\""),
		ONE("\"path\": 7"),
		"{\"bricks\": [{\"volume\": \"gv0\"}]}",
		"{\"bricks\": {}}",
		"[]",
		"{\"bricks\": [",
		"{\"bricks\": [{\"volume\": \"gv0\", \"host\": \"h1\", \"address\": \"192.0.2.51\", "
		"\"interface\": \"eth0\", \"path\": \"/b\", \"device\": \"\", \"fstype\": \"\", "
		"\"mount_options\": \"\", \"home_uuid\": \"\"}]}",
	};
	struct brick_here *got = NULL;
	size_t n = 0;
	char err[256];

	(void)unused;
	write_file(ONE("\"path\": \"/bricks/b1\""));
	assert_int_equal(bricks_here_load(dir, &got, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	free(got);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		write_file(bad[i]);
		if (bricks_here_load(dir, &got, &n, err, sizeof(err)) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_null(got);
		assert_int_equal(n, 0);
		assert_non_null(strstr(err, "bricks-here.json"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
