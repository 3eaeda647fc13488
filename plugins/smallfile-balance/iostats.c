/*
 * Gluster io-stats dumps, per brick.
 *
 * With "diagnostics.stats-dump-interval" set on a volume (and, for FOP
 * counts, both "diagnostics.count-fop-hits" and
 * "diagnostics.latency-measurement": io-stats counts a FOP only when both
 * are on), every brick
 * process (glusterfsd) rewrites a JSON file under
 * /var/lib/glusterd/stats/ every so many seconds: one object (counts are
 * numbers in glusterfs 10, strings in older releases), keys "PREFIX.aggr.fop.NAME.count" for the cumulative count of
 * each file operation, "PREFIX.aggr.read_SIZE" / "PREFIX.aggr.write_SIZE"
 * for reads and writes by block size (1b, 2b ... 512b, 1kb ... 1mb ...),
 * "PREFIX.aggr.bytes_read" / "bytes_written"; ".inter." keys repeat them
 * for the last interval.  Only the cumulative ("aggr") keys are used: the
 * plugin takes deltas itself, so a dump missed or read twice costs nothing.
 *
 * Classification:
 *   metadata  every FOP but READ and WRITE (lookup, stat, create, open,
 *             getxattr, setattr, unlink, readdir, flush, fsync, locks ...):
 *             each is a round trip whatever its size
 *   small I/O reads and writes of at most 64 KiB, from the block-size
 *             buckets
 *   bytes     bytes read and written
 * "create" is kept apart as well, so a test can compare it with the files
 * it made.
 *
 * The file is outside input: its size is capped, it must parse as a JSON
 * object, and a value that is not a decimal count is skipped.
 */
#include "iostats.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#define SMALL_IO_MAX (64u * 1024u)

static bool parse_count(struct json_object *v, uint64_t *out)
{
	const char *s;
	char *end;
	unsigned long long x;

	/* glusterfs 10 writes counts as JSON numbers, older ones as strings */
	if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);

		if (i < 0)
			return false;
		*out = (uint64_t)i;
		return true;
	}
	if (!json_object_is_type(v, json_type_string))
		return false;
	s = json_object_get_string(v);
	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = x;
	return true;
}

/* "4kb" -> 4096; 0 when it is not a size. */
static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long n = strtoul(s, &end, 10);

	if (end == s)
		return 0;
	if (strcmp(end, "b") == 0)
		return n;
	if (strcmp(end, "kb") == 0)
		return (uint64_t)n << 10;
	if (strcmp(end, "mb") == 0)
		return (uint64_t)n << 20;
	if (strcmp(end, "gb") == 0)
		return (uint64_t)n << 30;
	return 0;
}

static void account(const char *key, uint64_t v, struct sf_iostats *st)
{
	const char *p = strstr(key, ".aggr.");
	size_t n;

	if (p == NULL)
		return;
	p += strlen(".aggr.");
	if (strncmp(p, "fop.", 4) == 0) {
		p += 4;
		n = strlen(p);
		if (n <= 6 || strcmp(p + n - 6, ".count") != 0)
			return;
		n -= 6;
		if ((n == 4 && strncmp(p, "read", 4) == 0) || (n == 5 && strncmp(p, "write", 5) == 0))
			return;
		st->meta += v;
		if (n == 6 && strncmp(p, "create", 6) == 0)
			st->creates += v;
	} else if (strncmp(p, "read_", 5) == 0 || strncmp(p, "write_", 6) == 0) {
		uint64_t size = parse_size(strchr(p, '_') + 1);

		if (size > 0 && size <= SMALL_IO_MAX)
			st->small_io += v;
	} else if (strcmp(p, "bytes_read") == 0 || strcmp(p, "bytes_written") == 0) {
		st->bytes += v;
	}
}

int sf_iostats_read(const char *path, size_t max_size, struct sf_iostats *st)
{
	struct json_object *root;
	char *buf;
	ssize_t got;
	size_t len = 0;
	int fd, rc = 0;

	memset(st, 0, sizeof(*st));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	buf = malloc(max_size + 1);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while (len < max_size && (got = read(fd, buf + len, max_size - len)) > 0)
		len += (size_t)got;
	if (len == max_size && read(fd, &(char){0}, 1) > 0)
		rc = -EFBIG;
	close(fd);
	buf[len] = '\0';
	root = rc == 0 ? json_tokener_parse(buf) : NULL;
	free(buf);
	if (rc < 0)
		return rc;
	if (root == NULL || !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return -EBADMSG;	/* also a dump caught half written */
	}
	json_object_object_foreach(root, key, val) {
		uint64_t v;

		if (parse_count(val, &v))
			account(key, v, st);
	}
	json_object_put(root);
	return 0;
}
