/*
 * The operator's event history (coordinator/daemon/history.c) on a real
 * directory: what a daemon records survives a restart (a new history on
 * the same directory), a line cut by a crash or planted garbage is
 * skipped, --since and -n select from what is kept, the file rotates past
 * its bound and the memory keeps only the last HISTORY_MAX.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/history.h"

static char dir[] = "/tmp/history-test.XXXXXX";

static void path_of(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
}

static void clean(void)
{
	char p[256];

	path_of(p, sizeof(p), "events.jsonl");
	unlink(p);
	path_of(p, sizeof(p), "events.jsonl.1");
	unlink(p);
}

static size_t n_events(struct json_object *r)
{
	struct json_object *a;

	assert_true(json_object_object_get_ex(r, "events", &a));
	return json_object_array_length(a);
}

static const char *text_at(struct json_object *r, size_t i)
{
	struct json_object *a, *e, *t;

	assert_true(json_object_object_get_ex(r, "events", &a));
	e = json_object_array_get_idx(a, i);
	assert_non_null(e);
	assert_true(json_object_object_get_ex(e, "text", &t));
	return json_object_get_string(t);
}

static void add(struct history *h, uint64_t t, const char *type, const char *text)
{
	struct json_object *o = history_add(h, t, type, text);

	assert_non_null(o);
	json_object_put(o);
}

static void test_survives_restart(void **state)
{
	struct history *h;
	struct json_object *r;
	char p[256];
	FILE *f;

	(void)state;
	clean();
	h = history_open(dir);
	assert_non_null(h);
	add(h, 1000, "membership", "2 members (was 3)");
	add(h, 2000, "move", "10.0.0.3 n3 -> n1 (membership change)");
	history_free(h);

	/* a crash cut the next line; someone planted garbage */
	path_of(p, sizeof(p), "events.jsonl");
	f = fopen(p, "a");
	assert_non_null(f);
	fputs("{\"t_ms\":3000,\"type\":\"move\",\"text\":\"cut\n", f);
	fputs("not json at all\n{\"t_ms\":\"x\",\"type\":\"move\",\"text\":\"bad time\"}\n", f);
	fclose(f);

	h = history_open(dir);
	assert_non_null(h);
	assert_int_equal(history_count(h), 2);
	add(h, 4000, "quorum", "quorum lost");
	r = history_json(h, 0, 0);
	assert_int_equal(n_events(r), 3);
	assert_string_equal(text_at(r, 0), "2 members (was 3)");
	assert_string_equal(text_at(r, 1), "10.0.0.3 n3 -> n1 (membership change)");
	assert_string_equal(text_at(r, 2), "quorum lost");
	json_object_put(r);

	/* --since and -n */
	r = history_json(h, 0, 2000);
	assert_int_equal(n_events(r), 2);
	assert_string_equal(text_at(r, 0), "10.0.0.3 n3 -> n1 (membership change)");
	json_object_put(r);
	r = history_json(h, 1, 0);
	assert_int_equal(n_events(r), 1);
	assert_string_equal(text_at(r, 0), "quorum lost");
	json_object_put(r);
	r = history_json(h, 0, 5000);
	assert_int_equal(n_events(r), 0);
	json_object_put(r);
	history_free(h);
}

static void test_rotation_and_bound(void **state)
{
	struct history *h;
	struct json_object *r;
	struct stat st;
	char p[256], text[190];
	size_t total = HISTORY_MAX + 2000;

	(void)state;
	clean();
	h = history_open(dir);
	assert_non_null(h);
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	for (size_t i = 0; i < total; i++) {
		snprintf(text, 12, "%011zu", i);
		text[11] = 'x';
		add(h, 1000 + i, "move", text);
	}
	assert_int_equal(history_count(h), HISTORY_MAX);
	history_free(h);

	/* rotated once at least: both files there, neither far past the bound */
	path_of(p, sizeof(p), "events.jsonl.1");
	assert_int_equal(stat(p, &st), 0);
	assert_true(st.st_size <= HISTORY_FILE_MAX + 1024);
	path_of(p, sizeof(p), "events.jsonl");
	assert_int_equal(stat(p, &st), 0);
	assert_true(st.st_size <= HISTORY_FILE_MAX + 1024);

	/* read back: the newest HISTORY_MAX, in order */
	h = history_open(dir);
	assert_non_null(h);
	assert_int_equal(history_count(h), HISTORY_MAX);
	r = history_json(h, 2, 0);
	assert_int_equal(n_events(r), 2);
	snprintf(p, sizeof(p), "%011zu", total - 2);
	assert_memory_equal(text_at(r, 0), p, 11);
	snprintf(p, sizeof(p), "%011zu", total - 1);
	assert_memory_equal(text_at(r, 1), p, 11);
	json_object_put(r);
	history_free(h);
}

static void test_memory_only(void **state)
{
	struct history *h = history_open(NULL);
	struct json_object *r;

	(void)state;
	assert_non_null(h);
	add(h, 1, "admin", "standby requested by uid 0");
	r = history_json(h, 0, 0);
	assert_int_equal(n_events(r), 1);
	json_object_put(r);
	history_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_survives_restart),
		cmocka_unit_test(test_rotation_and_bound),
		cmocka_unit_test(test_memory_only),
	};
	int rc;

	if (mkdtemp(dir) == NULL)
		return 99;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	clean();
	rmdir(dir);
	return rc;
}
