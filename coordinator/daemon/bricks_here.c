/*
 * Which bricks this node may be running, kept across restarts in
 * state_dir/bricks-here.json (bricks.h, struct brick_here).
 *
 * A brick runs on without chorusd: a crash, a SIGKILL or an in-place
 * restart leaves it up, and the next chorusd finds it by probing what it
 * declares.  A brick it no longer declares (the operator took it out of
 * chorus.json and reloaded, or moved it to another entry) it would never
 * probe: it would join without it, and another node would start the brick
 * beside the one still running here, two nodes on one LUN.  So every brick
 * chorusd starts or adopts is written here first, and taken out only once it
 * is stopped; at start-up every recorded brick that is not declared any
 * more is probed and stopped before joining (bricks.c).
 *
 * The file is ours, but it is read as input from outside: every field is
 * checked, and what does not check is refused whole, with the reason
 * (start-up then goes on without it, as before this file existed).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json.h>

#include "adapters/conf.h"
#include "daemon/bricks.h"

#define HERE_FILE "bricks-here.json"
#define HERE_FILE_MAX (4u * 1024u * 1024u)

static int here_path(const char *state_dir, char *buf, size_t size, const char *suffix)
{
	size_t n = (size_t)snprintf(buf, size, "%s/%s%s", state_dir, HERE_FILE, suffix);

	return n < size ? 0 : -ENAMETOOLONG;
}

/* What goes into the brick script's environment and mount(8): printable,
 * no blanks, quotes, backslashes or shell metacharacters. */
static bool plain_text(const char *s, bool empty_ok)
{
	if (!empty_ok && *s == '\0')
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s > '~' || strchr("\"'\\`$;&|<>(){}*?!#", *s) != NULL)
			return false;
	return true;
}

static bool abs_path(const char *s, bool empty_ok)
{
	if (*s == '\0')
		return empty_ok;
	size_t len = strlen(s);

	return s[0] == '/' && strstr(s, "/../") == NULL &&
	       !(len >= 3 && strcmp(s + len - 3, "/..") == 0) && plain_text(s, false);
}

static bool get_str(struct json_object *o, const char *key, char *out, size_t size)
{
	struct json_object *v;
	const char *s;
	size_t len;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return false;
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len >= size || strlen(s) != len)
		return false;
	memcpy(out, s, len + 1);
	return true;
}

static int one(struct json_object *o, struct brick_here *h)
{
	char addr[CHORUS_ADDR_STRLEN];
	struct brick_def *d = &h->def;

	if (!json_object_is_type(o, json_type_object) ||
	    !get_str(o, "volume", d->volume, sizeof(d->volume)) || !plain_text(d->volume, false) ||
	    !get_str(o, "host", d->host, sizeof(d->host)) || !plain_text(d->host, false) ||
	    !get_str(o, "address", addr, sizeof(addr)) || res_addr_parse(addr, &h->addr) < 0 ||
	    !get_str(o, "interface", h->ifname, sizeof(h->ifname)) ||
	    !plain_text(h->ifname, false) || strlen(h->ifname) > 15 ||
	    !get_str(o, "path", d->path, sizeof(d->path)) || !abs_path(d->path, false) ||
	    !get_str(o, "device", d->device, sizeof(d->device)) || !abs_path(d->device, true) ||
	    !get_str(o, "fstype", d->fstype, sizeof(d->fstype)) || !plain_text(d->fstype, true) ||
	    !get_str(o, "mount_options", d->mount_options, sizeof(d->mount_options)) ||
	    !plain_text(d->mount_options, true) ||
	    !get_str(o, "home_uuid", d->home_uuid, sizeof(d->home_uuid)) ||
	    !plain_text(d->home_uuid, true))
		return -EINVAL;
	res_addr_format_ip(&h->addr, d->address, sizeof(d->address));
	return 0;
}

int bricks_here_load(const char *state_dir, struct brick_here **out, size_t *n, char *err,
		     size_t err_size)
{
	char path[4096];
	struct json_object *root = NULL, *list;
	struct brick_here *h = NULL;
	char *text = NULL;
	struct stat st;
	size_t len = 0;
	int fd = -1, rc = here_path(state_dir, path, sizeof(path), "");

	*out = NULL;
	*n = 0;
	if (rc < 0)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > HERE_FILE_MAX) {
		snprintf(err, err_size, "%s: not a regular file of at most %u bytes", path,
			 HERE_FILE_MAX);
		rc = -EINVAL;
		goto out;
	}
	text = malloc((size_t)st.st_size + 1);
	if (text == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	while (len < (size_t)st.st_size) {
		ssize_t r = read(fd, text + len, (size_t)st.st_size - len);

		if (r <= 0) {
			rc = r < 0 ? -errno : -EIO;
			goto out;
		}
		len += (size_t)r;
	}
	text[len] = '\0';
	root = json_tokener_parse(text);
	if (root == NULL || !json_object_object_get_ex(root, "bricks", &list) ||
	    !json_object_is_type(list, json_type_array) ||
	    json_object_array_length(list) > CONF_BRICKS_MAX) {
		snprintf(err, err_size, "%s: not a list of at most %d bricks", path,
			 CONF_BRICKS_MAX);
		rc = -EINVAL;
		goto out;
	}
	h = calloc(json_object_array_length(list) + 1, sizeof(*h));
	if (h == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++)
		if (one(json_object_array_get_idx(list, i), &h[i]) < 0) {
			snprintf(err, err_size, "%s: bricks[%zu] is not a brick", path, i);
			rc = -EINVAL;
			goto out;
		}
	*n = json_object_array_length(list);
	*out = h;
	h = NULL;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	json_object_put(root);
	free(text);
	free(h);
	return rc;
}

int bricks_here_save(const char *state_dir, const struct brick_here *h, size_t n)
{
	char path[4096], tmp[4096], addr[CHORUS_ADDR_STRLEN];
	struct json_object *root = json_object_new_object(), *list = json_object_new_array();
	const char *text;
	size_t len;
	int fd, rc = here_path(state_dir, path, sizeof(path), "");

	if (rc == 0)
		rc = here_path(state_dir, tmp, sizeof(tmp), ".tmp");
	json_object_object_add(root, "bricks", list);
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		const struct brick_def *d = &h[i].def;

		res_addr_format(&h[i].addr, addr, sizeof(addr));
		json_object_object_add(o, "volume", json_object_new_string(d->volume));
		json_object_object_add(o, "host", json_object_new_string(d->host));
		json_object_object_add(o, "address", json_object_new_string(addr));
		json_object_object_add(o, "interface", json_object_new_string(h[i].ifname));
		json_object_object_add(o, "path", json_object_new_string(d->path));
		json_object_object_add(o, "device", json_object_new_string(d->device));
		json_object_object_add(o, "fstype", json_object_new_string(d->fstype));
		json_object_object_add(o, "mount_options", json_object_new_string(d->mount_options));
		json_object_object_add(o, "home_uuid", json_object_new_string(d->home_uuid));
		json_object_array_add(list, o);
	}
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
	len = strlen(text);
	if (rc < 0)
		goto out;
	mkdir(state_dir, 0755);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	/* on disk before a brick starts: a crash right after must find it */
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
		rc = errno ? -errno : -EIO;
	close(fd);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
out:
	json_object_put(root);
	return rc;
}

