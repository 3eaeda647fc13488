/*
 * Configuration digests for the drift check (conf.h, conf_digest()).
 *
 * One 64-bit FNV-1a digest per cluster-wide key of chorus.json, over a
 * canonical text of its value: object keys sorted, and the elements of the
 * lists whose order the loader ignores (vips, bricks, depends) sorted too,
 * so that two files that load the same way digest the same.  A key absent
 * from the file digests to 0.  Keys that legitimately differ per node
 * (state_dir, run_dir, log, control) are not digested.
 */
#include "adapters/conf_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const conf_digest_keys[CONF_DIGEST_N + 1] = {
	"group", "vips", "bricks", "fence", "failback", "failback_delay_ms", "timing",
	"plugins", "depends", "balance", "connections", "hooks", "watchdog", NULL,
};

struct canon {
	char *buf;
	size_t len, cap;
	bool oom;
};

static void put(struct canon *k, const char *s, size_t n)
{
	if (k->oom)
		return;
	if (k->len + n + 1 > k->cap) {
		size_t cap = k->cap ? k->cap : 256;
		char *b;

		while (cap < k->len + n + 1)
			cap *= 2;
		b = realloc(k->buf, cap);
		if (b == NULL) {
			k->oom = true;
			return;
		}
		k->buf = b;
		k->cap = cap;
	}
	memcpy(k->buf + k->len, s, n);
	k->len += n;
	k->buf[k->len] = '\0';
}

static void puts_(struct canon *k, const char *s)
{
	put(k, s, strlen(s));
}

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void canon(struct canon *k, struct json_object *v, bool sort_list, int depth);

/* The canonical text of 'v' as a new string, or NULL. */
static char *canon_str(struct json_object *v, int depth)
{
	struct canon k = {0};

	canon(&k, v, false, depth);
	if (k.oom) {
		free(k.buf);
		return NULL;
	}
	return k.buf != NULL ? k.buf : strdup("");
}

static void put_sorted(struct canon *k, char **v, size_t n, const char *open, const char *close)
{
	qsort(v, n, sizeof(*v), strp_cmp);
	puts_(k, open);
	for (size_t i = 0; i < n; i++) {
		if (i)
			puts_(k, ",");
		puts_(k, v[i]);
	}
	puts_(k, close);
}

static void canon(struct canon *k, struct json_object *v, bool sort_list, int depth)
{
	char **parts;
	size_t n = 0, i = 0;

	/* the loader refuses deeper files; this only keeps the recursion bounded */
	if (depth > 32) {
		k->oom = true;
		return;
	}
	if (json_object_is_type(v, json_type_object)) {
		n = (size_t)json_object_object_length(v);
		parts = calloc(n + 1, sizeof(*parts));
		if (parts == NULL) {
			k->oom = true;
			return;
		}
		json_object_object_foreach(v, key, val) {
			struct json_object *ks = json_object_new_string(key);
			char *vs = canon_str(val, depth + 1);
			const char *kt = ks ? json_object_to_json_string_ext(ks, JSON_C_TO_STRING_PLAIN)
					    : NULL;

			if (i < n && vs != NULL && kt != NULL &&
			    asprintf(&parts[i], "%s:%s", kt, vs) >= 0)
				i++;
			else
				k->oom = true;
			free(vs);
			json_object_put(ks);
		}
		if (!k->oom)
			put_sorted(k, parts, i, "{", "}");
	} else if (json_object_is_type(v, json_type_array)) {
		n = json_object_array_length(v);
		parts = calloc(n + 1, sizeof(*parts));
		if (parts == NULL) {
			k->oom = true;
			return;
		}
		for (i = 0; i < n; i++)
			if ((parts[i] = canon_str(json_object_array_get_idx(v, i), depth + 1)) == NULL)
				k->oom = true;
		if (k->oom) {
			/* nothing to write */
		} else if (sort_list) {
			put_sorted(k, parts, n, "[", "]");
		} else {
			puts_(k, "[");
			for (size_t j = 0; j < n; j++) {
				if (j)
					puts_(k, ",");
				puts_(k, parts[j] ? parts[j] : "");
			}
			puts_(k, "]");
		}
		i = n;
	} else {
		puts_(k, v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) : "null");
		return;
	}
	for (size_t j = 0; j < i; j++)
		free(parts[j]);
	free(parts);
}

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

int conf_digest(struct json_object *root, uint64_t out[CONF_DIGEST_N])
{
	for (size_t i = 0; i < CONF_DIGEST_N; i++) {
		struct json_object *v;
		struct canon k = {0};
		const char *key = conf_digest_keys[i];

		out[i] = 0;
		if (!json_object_object_get_ex(root, key, &v))
			continue;
		canon(&k, v, !strcmp(key, "vips") || !strcmp(key, "bricks") || !strcmp(key, "depends"),
		      0);
		if (k.oom) {
			free(k.buf);
			return -ENOMEM;
		}
		out[i] = fnv1a(k.buf ? k.buf : "", k.len);
		if (out[i] == 0)
			out[i] = 1;	/* 0 means absent */
		free(k.buf);
	}
	return 0;
}
