/*
 * The brick part of the configuration: "bricks", "fence" and "watchdog"
 * (chorus.json(5)).  Same rules as conf.c: unknown keys, wrong types and
 * out-of-range values refuse the file with the key path.
 *
 * Timing is checked here because it is what makes the fence grace safe: a
 * node cut off from quorum must have stopped its bricks (or been reset by
 * its watchdog) before the survivors' grace runs out.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapters/conf_private.h"

#ifndef CHORUS_BRICK_SCRIPT
#define CHORUS_BRICK_SCRIPT "/usr/libexec/chorus/chorus-brick"
#endif

static const char *const bricks_keys[] = {
	"script", "pool", "glusterd_workdir", "glusterd_vol", "gluster", "acquire_timeout_ms",
	"release_timeout_ms", "monitor_interval_ms", "monitor_timeout_ms", "restart_max",
	"restart_window_ms", "failure_hold_ms", "inventory_interval_ms", "list", NULL
};
static const char *const brick_keys[] = {
	"volume", "host", "address", "interface", "path", "device", "fstype",
	"mount_options", "home_uuid", "set", NULL
};
static const char *const fence_keys[] = {
	"mode", "grace_ms", "command", "timeout_ms", "agent", "options", "nodes", "secrets", NULL
};
static const char *const fence_names[] = { "none", "grace", "command", "agent", NULL };
static const char *const watchdog_keys[] = { "device", "timeout_s", NULL };

const char *conf_fence_name(enum conf_fence_mode m)
{
	return m <= CONF_FENCE_AGENT ? fence_names[m] : "?";
}

/* Printable text without spaces' cousins: it goes into the environment of
 * the brick script and into gluster's volfile ids. */
static int plain(struct conf_ctx *cx, const char *kp, struct json_object *v, size_t max,
		 bool empty_ok, const char *extra, char *out)
{
	char esc[CONF_ESC_SIZE];
	const char *s;
	size_t len;
	int rc = conf_string(cx, kp, v, &s, &len, esc);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr("._-", s[i]) ||
		      (extra && strchr(extra, s[i]))))
			return conf_err(cx, kp, "\"%s\": only A-Z a-z 0-9 . _ -%s allowed", esc,
					extra ? extra : "");
	if ((!empty_ok && len == 0) || len >= max)
		return conf_err(cx, kp, "\"%s\": %s1 to %zu characters", esc,
				empty_ok ? "0 or " : "", max - 1);
	memcpy(out, s, len + 1);
	return 0;
}

static int brick_one(struct conf_ctx *cx, size_t i, struct json_object *o, struct conf_brick *b)
{
	char base[48], kp[CONF_KP_SIZE];
	struct json_object *v;
	int rc;

	snprintf(base, sizeof(base), "bricks.list[%zu]", i);
	rc = conf_object(cx, base, o, brick_keys);
	if (rc < 0)
		return rc;
	b->index = (uint32_t)i;
#define REQUIRED(key, example)                                                                 \
	do {                                                                                   \
		conf_kp(kp, base, key);                                                        \
		if (!json_object_object_get_ex(o, key, &v))                                    \
			return conf_err(cx, kp, "missing (required, e.g. " example ")");       \
	} while (0)
	/* glusterd's volume info names the volume and path of the brick on
	 * this host when they are left out (conf_bricks_resolve) */
	if (json_object_object_get_ex(o, "volume", &v))
		rc = plain(cx, conf_kp(kp, base, "volume"), v, sizeof(b->volume), false, NULL,
			   b->volume);
	else
		b->from_gluster = true;
	if (rc == 0) {
		REQUIRED("host", "\"brick1.example.net\" or \"192.0.2.50\"");
		rc = plain(cx, kp, v, sizeof(b->host), false, ":", b->host);
	}
	if (rc == 0) {
		REQUIRED("address", "\"192.0.2.50/24\"");
		rc = conf_address(cx, kp, v, &b->addr);
	}
	if (rc == 0) {
		REQUIRED("interface", "\"eth0\"");
		rc = conf_ifname(cx, kp, v, b->ifname);
	}
	if (rc == 0 && json_object_object_get_ex(o, "path", &v))
		rc = conf_path(cx, conf_kp(kp, base, "path"), v, CONF_BRICK_PATH - 1, b->path);
	else if (rc == 0)
		b->from_gluster = true;
#undef REQUIRED
	if (rc == 0 && json_object_object_get_ex(o, "device", &v))
		rc = conf_path(cx, conf_kp(kp, base, "device"), v, CONF_BRICK_PATH - 1, b->device);
	if (rc == 0 && json_object_object_get_ex(o, "fstype", &v))
		rc = plain(cx, conf_kp(kp, base, "fstype"), v, sizeof(b->fstype), false, NULL,
			   b->fstype);
	if (rc == 0 && json_object_object_get_ex(o, "mount_options", &v))
		rc = plain(cx, conf_kp(kp, base, "mount_options"), v, sizeof(b->mount_options), true,
			   ",=", b->mount_options);
	if (rc == 0 && json_object_object_get_ex(o, "home_uuid", &v)) {
		rc = plain(cx, conf_kp(kp, base, "home_uuid"), v, sizeof(b->home_uuid), false, NULL,
			   b->home_uuid);
		if (rc == 0 && strlen(b->home_uuid) != 36)
			rc = conf_err(cx, kp, "\"%s\" is not a UUID (glusterd's, 36 characters)",
				      b->home_uuid);
	}
	/* the bricks of one replica/disperse set are kept on distinct nodes */
	if (rc == 0 && json_object_object_get_ex(o, "set", &v))
		rc = conf_name(cx, conf_kp(kp, base, "set"), v, b->set);
	if (rc == 0 && (b->device[0] != '\0') != (b->fstype[0] != '\0'))
		rc = conf_err(cx, base, "\"device\" and \"fstype\" go together (fstype \"bind\" "
			      "bind-mounts a directory)");
	return rc;
}

/* The bricks' addresses join the VIP list: one identity space, so a brick
 * address that is also a client VIP is refused like any duplicate. */
static int add_addresses(struct conf_ctx *cx, struct chorus_conf *c)
{
	size_t n = c->n_vips + c->n_bricks;
	struct conf_vip *v = realloc(c->vips, n * sizeof(*v));
	char a[CHORUS_ADDR_STRLEN], kp[64];

	if (v == NULL)
		return conf_syserr(cx, "allocate", -ENOMEM);
	c->vips = v;
	for (size_t i = 0; i < c->n_bricks; i++) {
		struct conf_vip *x = &v[c->n_vips + i];

		memset(x, 0, sizeof(*x));
		x->addr = c->bricks[i].addr;
		memcpy(x->ifname, c->bricks[i].ifname, sizeof(x->ifname));
		memcpy(x->pool, c->brick_pool, sizeof(x->pool));
		x->brick = (uint32_t)i + 1;
		x->index = (uint32_t)(CONF_VIPS_MAX + i);	/* after every "vips" entry */
	}
	c->n_vips = n;
	qsort(v, n, sizeof(*v), conf_vip_cmp);
	for (size_t i = 1; i < n; i++) {
		const struct conf_vip *x = &v[i];

		if (res_addr_cmp(&v[i - 1].addr, &x->addr) != 0)
			continue;
		res_addr_format(&x->addr, a, sizeof(a));
		snprintf(kp, sizeof(kp), "bricks.list[%u].address", c->bricks[x->brick - 1].index);
		return conf_err(cx, kp, "%s is already used by %s", a,
				v[i - 1].brick ? "another brick" : "a client VIP (\"vips\")");
	}
	return 0;
}

/* ---- fence agent options ---- */

/* Option names as fence agents spell them; nothing that would start a
 * comment or a second line. */
static bool opt_key_ok(const char *s, size_t len)
{
	if (len == 0 || len >= CONF_FENCE_KEY)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/* A value must reach the agent unchanged as the rest of one line: agents
 * strip the line, so no control characters (a newline would inject an
 * option) and no space at either end. */
static const char *opt_value_bad(const char *s, size_t len)
{
	if (len >= CONF_FENCE_VALUE)
		return "too long";
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "has a control character (a newline would start another option)";
	if (len > 0 && (s[0] == ' ' || s[len - 1] == ' '))
		return "starts or ends with a space (the agent would strip it)";
	return NULL;
}

static int opt_add(struct conf_ctx *cx, const char *kp, struct chorus_conf *c, const char *node,
		   bool secret, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct conf_fence_opt *o;

	if (c->n_fence_opts == CONF_FENCE_OPTS_MAX)
		return conf_err(cx, kp, "more than %d fence agent options in all",
				CONF_FENCE_OPTS_MAX);
	if (c->fence_opts == NULL) {
		c->fence_opts = calloc(CONF_FENCE_OPTS_MAX, sizeof(*c->fence_opts));
		if (c->fence_opts == NULL)
			return conf_syserr(cx, "allocate", -ENOMEM);
	}
	o = &c->fence_opts[c->n_fence_opts++];
	snprintf(o->node, sizeof(o->node), "%s", node);
	o->secret = secret;
	memcpy(o->key, key, klen);
	o->key[klen] = '\0';
	memcpy(o->value, val, vlen);
	o->value[vlen] = '\0';
	return 0;
}

/* {"name": "value" | integer, ...}: the common options or one node's. */
static int opt_object(struct conf_ctx *cx, const char *base, struct json_object *o,
		      struct chorus_conf *c, const char *node)
{
	char kp[CONF_KP_SIZE], esc[CONF_ESC_SIZE], num[24];

	if (!json_object_is_type(o, json_type_object))
		return conf_err(cx, base, "must be an object of agent options, not %s",
				conf_kind(o));
	json_object_object_foreach(o, key, v) {
		size_t klen = strlen(key), vlen;
		const char *val, *why;
		int rc;

		conf_kp(kp, base, key);
		if (!opt_key_ok(key, klen))
			return conf_err(cx, kp, "not an agent option name (1 to %d characters of "
					"A-Z a-z 0-9 _ -)", CONF_FENCE_KEY - 1);
		if (strcmp(key, "action") == 0)
			return conf_err(cx, kp, "chorus sets the action itself (\"off\")");
		/* anything holding a password stays out of a world-readable file */
		if (strstr(key, "passw") != NULL)
			return conf_err(cx, kp, "a password goes into the fence.secrets file, "
					"never into chorus.json");
		if (json_object_is_type(v, json_type_int)) {
			snprintf(num, sizeof(num), "%lld", (long long)json_object_get_int64(v));
			val = num;
			vlen = strlen(num);
		} else {
			rc = conf_string(cx, kp, v, &val, &vlen, esc);
			if (rc < 0)
				return rc;
		}
		why = opt_value_bad(val, vlen);
		if (why != NULL)
			return conf_err(cx, kp, "value %s", why);
		rc = opt_add(cx, kp, c, node, false, key, klen, val, vlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* "key=value" lines, '#' comments and blank lines.  Nothing of a line's
 * content goes into an error message: it may be the password. */
static int secrets_parse(struct conf_ctx *cx, struct chorus_conf *c, char *text, size_t len)
{
	size_t line = 0;
	char *p = text, *end = text + len;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), *eq;
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *why;
		int rc;

		line++;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0 || p[0] == '#')
			goto next;
		eq = memchr(p, '=', n);
		if (eq == NULL || !opt_key_ok(p, (size_t)(eq - p)))
			return conf_err(cx, "fence.secrets", "%s line %zu: not \"name=value\" with a "
					"name of A-Z a-z 0-9 _ -", c->fence_secrets, line);
		if (strncmp(p, "action=", 7) == 0)
			return conf_err(cx, "fence.secrets", "%s line %zu: chorus sets the action "
					"itself", c->fence_secrets, line);
		why = opt_value_bad(eq + 1, n - (size_t)(eq + 1 - p));
		if (why != NULL)
			return conf_err(cx, "fence.secrets", "%s line %zu: value %s",
					c->fence_secrets, line, why);
		rc = opt_add(cx, "fence.secrets", c, "", true, p, (size_t)(eq - p), eq + 1,
			     n - (size_t)(eq + 1 - p));
		if (rc < 0)
			return rc;
next:
		p += n + (nl ? 1 : 0) + (n < (size_t)(end - p) && p[n] == '\r' ? 1 : 0);
	}
	return 0;
}

/* The file holds the BMC password: it must be root's alone, as sshd wants
 * of a host key, or a local user could read (or swap) it. */
static int secrets_load(struct conf_ctx *cx, struct chorus_conf *c)
{
	char buf[CONF_FENCE_SECRETS_SIZE + 1];
	const char *path = c->fence_secrets;
	struct stat st;
	size_t len = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return conf_err(cx, "fence.secrets", "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		rc = conf_err(cx, "fence.secrets", "%s: %s", path, strerror(errno));
		goto out;
	}
	rc = -EINVAL;
	if (!S_ISREG(st.st_mode)) {
		rc = conf_err(cx, "fence.secrets", "%s is not a regular file", path);
		goto out;
	}
	if (st.st_uid != 0) {
		rc = conf_err(cx, "fence.secrets", "%s is owned by uid %u: it must be root's "
			      "(chown root %s)", path, (unsigned)st.st_uid, path);
		goto out;
	}
	if (st.st_mode & 077) {
		rc = conf_err(cx, "fence.secrets", "%s has mode %04o: group or others may access "
			      "it (chmod 600 %s)", path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	while (len < sizeof(buf)) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = conf_err(cx, "fence.secrets", "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CONF_FENCE_SECRETS_SIZE) {
		rc = conf_err(cx, "fence.secrets", "%s is larger than %d bytes", path,
			      CONF_FENCE_SECRETS_SIZE);
		goto out;
	}
	rc = secrets_parse(cx, c, buf, len);
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

int conf_fence_stdin(const struct chorus_conf *c, const char *node, const char *action,
		     char *buf, size_t size)
{
	bool found = false;
	size_t len;
	int n;

	for (size_t i = 0; i < c->n_fence_opts && !found; i++)
		found = strcmp(c->fence_opts[i].node, node) == 0 && node[0] != '\0';
	if (!found)
		return -ENOENT;
	n = snprintf(buf, size, "action=%s\n", action);
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	len = (size_t)n;
	/* common, the node's, secrets: the order opt_add kept from the file */
	for (int pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < c->n_fence_opts; i++) {
			const struct conf_fence_opt *o = &c->fence_opts[i];

			if ((pass == 0 && (o->secret || o->node[0] != '\0')) ||
			    (pass == 1 && strcmp(o->node, node) != 0) || (pass == 2 && !o->secret))
				continue;
			n = snprintf(buf + len, size - len, "%s=%s\n", o->key, o->value);
			if (n < 0 || (size_t)n >= size - len) {
				explicit_bzero(buf, size);
				return -ENOSPC;
			}
			len += (size_t)n;
		}
	}
	return (int)len;
}

void conf_fence_redact(const struct chorus_conf *c, char *text)
{
	for (size_t i = 0; i < c->n_fence_opts; i++) {
		const struct conf_fence_opt *o = &c->fence_opts[i];
		size_t n = strlen(o->value);

		if (!o->secret || n == 0)
			continue;
		for (char *p = strstr(text, o->value); p != NULL; p = strstr(p + n, o->value))
			memset(p, '*', n);
	}
}

static int conf_fence_agent(struct conf_ctx *cx, struct json_object *o, struct chorus_conf *c)
{
	char kp[CONF_KP_SIZE], buf[CONF_FENCE_STDIN_MAX];
	struct json_object *v, *nodes;
	int rc;

	if (!json_object_object_get_ex(o, "agent", &v))
		return conf_err(cx, "fence.agent", "missing (required with mode \"agent\", e.g. "
				"\"/usr/sbin/fence_ipmilan\")");
	rc = conf_path(cx, "fence.agent", v, sizeof(c->fence_agent) - 1, c->fence_agent);
	if (rc < 0)
		return rc;
	if (json_object_object_get_ex(o, "options", &v)) {
		rc = opt_object(cx, "fence.options", v, c, "");
		if (rc < 0)
			return rc;
	}
	if (!json_object_object_get_ex(o, "nodes", &nodes))
		return conf_err(cx, "fence.nodes", "missing (required with mode \"agent\": each "
				"node's options by corosync node name, e.g. {\"node1\": {\"ip\": "
				"\"192.0.2.101\"}})");
	if (!json_object_is_type(nodes, json_type_object) || json_object_object_length(nodes) == 0)
		return conf_err(cx, "fence.nodes", "must be an object with an entry per node");
	json_object_object_foreach(nodes, name, nv) {
		conf_kp(kp, "fence.nodes", name);
		if (name[0] == '\0' || strlen(name) >= CHORUS_NAME_MAX ||
		    strspn(name, CONF_NAME_CHARS) != strlen(name))
			return conf_err(cx, kp, "not a corosync node name (1 to %d characters of "
					"A-Z a-z 0-9 . _ -)", CHORUS_NAME_MAX - 1);
		if (json_object_is_type(nv, json_type_object) && json_object_object_length(nv) == 0)
			return conf_err(cx, kp, "no options: how would the agent find this node?");
		rc = opt_object(cx, kp, nv, c, name);
		if (rc < 0)
			return rc;
	}
	if (json_object_object_get_ex(o, "secrets", &v)) {
		rc = conf_path(cx, "fence.secrets", v, sizeof(c->fence_secrets) - 1,
			       c->fence_secrets);
		if (rc == 0)
			rc = secrets_load(cx, c);
		if (rc < 0)
			return rc;
	}
	json_object_object_foreach(nodes, name2, nv2) {
		(void)nv2;
		rc = conf_fence_stdin(c, name2, "status", buf, sizeof(buf));
		explicit_bzero(buf, sizeof(buf));
		if (rc == -ENOSPC)
			return conf_err(cx, conf_kp(kp, "fence.nodes", name2), "the options for this "
					"node come to more than %d bytes", CONF_FENCE_STDIN_MAX - 1);
	}
	return 0;
}

static int conf_fence(struct conf_ctx *cx, struct json_object *o, struct chorus_conf *c)
{
	static const char *const agent_only[] = { "agent", "options", "nodes", "secrets", NULL };
	struct json_object *v;
	int mode = 0, rc = conf_object(cx, "fence", o, fence_keys);

	if (rc < 0)
		return rc;
	if (!json_object_object_get_ex(o, "mode", &v))
		return conf_err(cx, "fence.mode", "missing (required: \"grace\", \"command\", "
				"\"agent\" or \"none\")");
	rc = conf_enum(cx, "fence.mode", v, fence_names, &mode);
	if (rc < 0)
		return rc;
	c->fence_mode = (enum conf_fence_mode)mode;
	if (json_object_object_get_ex(o, "grace_ms", &v)) {
		if (c->fence_mode != CONF_FENCE_GRACE)
			return conf_err(cx, "fence.grace_ms", "only with mode \"grace\"");
		rc = conf_u32(cx, "fence.grace_ms", v, 1000, 3600000, &c->fence_grace_ms);
	} else if (c->fence_mode == CONF_FENCE_GRACE) {
		return conf_err(cx, "fence.grace_ms", "missing (required with mode \"grace\")");
	}
	if (rc == 0 && json_object_object_get_ex(o, "timeout_ms", &v))
		rc = conf_u32(cx, "fence.timeout_ms", v, 1000, 600000, &c->fence_timeout_ms);
	if (rc < 0)
		return rc;
	for (size_t i = 0; agent_only[i] != NULL; i++) {
		char kp[32];

		if (c->fence_mode != CONF_FENCE_AGENT && json_object_object_get_ex(o, agent_only[i], &v))
			return conf_err(cx, conf_kp(kp, "fence", agent_only[i]),
					"only with mode \"agent\"");
	}
	if (c->fence_mode == CONF_FENCE_AGENT) {
		if (json_object_object_get_ex(o, "command", &v))
			return conf_err(cx, "fence.command", "only with mode \"command\"");
		return conf_fence_agent(cx, o, c);
	}
	if (!json_object_object_get_ex(o, "command", &v)) {
		if (c->fence_mode == CONF_FENCE_COMMAND)
			return conf_err(cx, "fence.command", "missing (required with mode "
					"\"command\", e.g. [\"/usr/sbin/chorus-fence-ipmi\"])");
		return 0;
	}
	if (c->fence_mode != CONF_FENCE_COMMAND)
		return conf_err(cx, "fence.command", "only with mode \"command\"");
	return conf_argv(cx, "fence.command", v, c->fence_args, CONF_FENCE_ARGS, &c->n_fence_args);
}

int conf_argv(struct conf_ctx *cx, const char *key, struct json_object *v, char (*out)[PATH_MAX],
	      size_t max, size_t *n)
{
	int rc = 0;

	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0 ||
	    json_object_array_length(v) > max)
		return conf_err(cx, key, "expected an array of 1 to %zu strings "
				"(argv, run without a shell)", max);
	*n = json_object_array_length(v);
	for (size_t i = 0; i < *n; i++) {
		char kp[CONF_KP_SIZE], esc[CONF_ESC_SIZE];
		struct json_object *a = json_object_array_get_idx(v, i);
		const char *s;
		size_t len;

		snprintf(kp, sizeof(kp), "%s[%zu]", key, i);
		if (i == 0) {
			rc = conf_path(cx, kp, a, PATH_MAX - 1, out[0]);
		} else {
			rc = conf_string(cx, kp, a, &s, &len, esc);
			if (rc == 0 && len >= PATH_MAX)
				rc = conf_err(cx, kp, "longer than %d characters", PATH_MAX - 1);
			if (rc == 0)
				memcpy(out[i], s, len + 1);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int conf_watchdog(struct conf_ctx *cx, struct json_object *o, struct chorus_conf *c)
{
	struct json_object *v;
	int rc = conf_object(cx, "watchdog", o, watchdog_keys);

	if (rc < 0)
		return rc;
	if (!json_object_object_get_ex(o, "device", &v))
		return conf_err(cx, "watchdog.device", "missing (e.g. \"/dev/watchdog\")");
	rc = conf_path(cx, "watchdog.device", v, PATH_MAX - 1, c->watchdog_device);
	if (rc == 0 && json_object_object_get_ex(o, "timeout_s", &v))
		rc = conf_u32(cx, "watchdog.timeout_s", v, 2, 600, &c->watchdog_timeout_s);
	return rc;
}

struct u32key {
	const char *name;
	uint32_t min, max;
	size_t off;
};

#define K(key, field, min, max) { key, min, max, offsetof(struct chorus_conf, field) }
static const struct u32key bricks_u32[] = {
	K("acquire_timeout_ms", brick_acquire_timeout_ms, 1000, 3600000),
	K("release_timeout_ms", brick_release_timeout_ms, 1000, 3600000),
	K("monitor_interval_ms", brick_monitor_interval_ms, 500, 3600000),
	K("monitor_timeout_ms", brick_monitor_timeout_ms, 500, 600000),
	K("restart_max", brick_restart_max, 0, 100),
	K("restart_window_ms", brick_restart_window_ms, 1000, 86400000),
	/* at least a monitor round or two: shorter would only make a dying
	 * brick bounce back to the node it keeps dying on */
	K("failure_hold_ms", brick_failure_hold_ms, 10000, 86400000),
	K("inventory_interval_ms", inventory_interval_ms, 1000, 86400000),
};
#undef K

static int conf_bricks_obj(struct conf_ctx *cx, struct json_object *o, struct chorus_conf *c)
{
	struct json_object *v, *arr;
	char kp[CONF_KP_SIZE];
	int rc = conf_object(cx, "bricks", o, bricks_keys);

	if (rc == 0 && json_object_object_get_ex(o, "script", &v))
		rc = conf_path(cx, "bricks.script", v, PATH_MAX - 1, c->brick_script);
	if (rc == 0 && json_object_object_get_ex(o, "pool", &v))
		rc = conf_name(cx, "bricks.pool", v, c->brick_pool);
	if (rc == 0 && json_object_object_get_ex(o, "glusterd_workdir", &v))
		rc = conf_path(cx, "bricks.glusterd_workdir", v, PATH_MAX - 1, c->glusterd_workdir);
	if (rc == 0 && json_object_object_get_ex(o, "glusterd_vol", &v))
		rc = conf_path(cx, "bricks.glusterd_vol", v, PATH_MAX - 1, c->glusterd_vol);
	if (rc == 0 && json_object_object_get_ex(o, "gluster", &v))
		rc = conf_path(cx, "bricks.gluster", v, PATH_MAX - 1, c->gluster_cli);
	for (size_t k = 0; rc == 0 && k < CONF_ARRAY_SIZE(bricks_u32); k++)
		if (json_object_object_get_ex(o, bricks_u32[k].name, &v))
			rc = conf_u32(cx, conf_kp(kp, "bricks", bricks_u32[k].name), v,
				      bricks_u32[k].min, bricks_u32[k].max,
				      (uint32_t *)((char *)c + bricks_u32[k].off));
	if (rc < 0 || !json_object_object_get_ex(o, "list", &arr))
		return rc;
	if (!json_object_is_type(arr, json_type_array))
		return conf_err(cx, "bricks.list", "expected an array, got %s", conf_kind(arr));
	c->n_bricks = json_object_array_length(arr);
	if (c->n_bricks > CONF_BRICKS_MAX)
		return conf_err(cx, "bricks.list", "%zu bricks, at most %d", c->n_bricks,
				CONF_BRICKS_MAX);
	if (c->n_bricks == 0)
		return 0;
	c->bricks = calloc(c->n_bricks, sizeof(*c->bricks));
	if (c->bricks == NULL)
		return conf_syserr(cx, "allocate", -ENOMEM);
	for (size_t i = 0; rc == 0 && i < c->n_bricks; i++)
		rc = brick_one(cx, i, json_object_array_get_idx(arr, i), &c->bricks[i]);
	for (size_t i = 0; rc == 0 && i < c->n_bricks; i++)
		for (size_t k = 0; rc == 0 && k < i; k++)
			if (!c->bricks[i].from_gluster && !c->bricks[k].from_gluster &&
			    strcmp(c->bricks[i].host, c->bricks[k].host) == 0 &&
			    strcmp(c->bricks[i].path, c->bricks[k].path) == 0) {
				snprintf(kp, sizeof(kp), "bricks.list[%zu]", i);
				rc = conf_err(cx, kp, "the same brick (host and path) as "
					      "bricks.list[%zu]", k);
			}
	return rc;
}

static void defaults(struct chorus_conf *c)
{
	snprintf(c->brick_script, sizeof(c->brick_script), "%s", CHORUS_BRICK_SCRIPT);
	strcpy(c->brick_pool, "bricks");
	strcpy(c->glusterd_workdir, "/var/lib/glusterd");
	strcpy(c->glusterd_vol, "/etc/glusterfs/glusterd.vol");
	strcpy(c->gluster_cli, "/usr/sbin/gluster");
	c->brick_acquire_timeout_ms = 120000;
	c->brick_release_timeout_ms = 120000;
	c->brick_monitor_interval_ms = 10000;
	c->brick_monitor_timeout_ms = 30000;
	c->brick_restart_max = 3;
	c->brick_restart_window_ms = 600000;
	c->brick_failure_hold_ms = 600000;
	c->inventory_interval_ms = 60000;
	c->fence_timeout_ms = 60000;
	c->watchdog_timeout_s = 10;
}

int conf_bricks(struct conf_ctx *cx, struct json_object *root, struct chorus_conf *c)
{
	struct json_object *v;
	bool fence = false;
	int rc = 0;

	defaults(c);
	if (json_object_object_get_ex(root, "bricks", &v))
		rc = conf_bricks_obj(cx, v, c);
	if (rc == 0 && json_object_object_get_ex(root, "fence", &v)) {
		fence = true;
		rc = conf_fence(cx, v, c);
	}
	if (rc == 0 && json_object_object_get_ex(root, "watchdog", &v))
		rc = conf_watchdog(cx, v, c);
	if (rc < 0 || c->n_bricks == 0)
		return rc;
	/* Which way a lost node's bricks come back is a safety decision the
	 * operator makes, never a default. */
	if (!fence)
		return conf_err(cx, "fence", "missing: bricks need \"fence\": {\"mode\": \"grace\" | "
				"\"command\" | \"agent\" | \"none\"} (chorus.json(5))");
	if (c->fence_mode == CONF_FENCE_GRACE) {
		/* the cut-off node stops its bricks within the release timeout,
		 * or its watchdog resets it once that has run out */
		uint64_t need = (uint64_t)c->brick_release_timeout_ms + 2000 +
				(c->watchdog_device[0] ? (uint64_t)c->watchdog_timeout_s * 1000 : 0);

		if (c->fence_grace_ms < need)
			return conf_err(cx, "fence.grace_ms", "%u ms is shorter than a cut-off node "
					"needs to stop its bricks (bricks.release_timeout_ms + 2000%s "
					"= %llu ms)", c->fence_grace_ms,
					c->watchdog_device[0] ? " + watchdog.timeout_s" : "",
					(unsigned long long)need);
	}
	return add_addresses(cx, c);
}

/* ---- volume and path from glusterd ---- */

size_t conf_brick_matches(const struct conf_brick *b, const struct conf_gluster_brick *g,
			  size_t n, size_t *first)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(g[i].host, b->host) != 0 ||
		    (b->volume[0] != '\0' && strcmp(g[i].volume, b->volume) != 0) ||
		    (b->path[0] != '\0' && strcmp(g[i].path, b->path) != 0))
			continue;
		if (m++ == 0 && first != NULL)
			*first = i;
	}
	return m;
}

/* glusterd's names go where chorus.json's would: into mount(8), the brick
 * script's environment and volfile ids, so they obey the same rules. */
static bool fits(const char *volume, const char *path)
{
	size_t lv = strlen(volume), lp = strlen(path);

	if (lv == 0 || lv >= CONF_BRICK_STR || lp < 2 || lp >= CONF_BRICK_PATH || path[0] != '/')
		return false;
	for (size_t i = 0; i < lv; i++)
		if (!((volume[i] >= 'a' && volume[i] <= 'z') || (volume[i] >= 'A' && volume[i] <= 'Z') ||
		      (volume[i] >= '0' && volume[i] <= '9') || strchr("._-", volume[i])))
			return false;
	return true;
}

static void why_unresolved(const struct conf_brick *b, const struct conf_gluster_brick *g,
			   size_t n, size_t m, char *out, size_t size)
{
	size_t len;

	if (m == 0) {
		snprintf(out, size, "glusterd names no brick on host %s%s%s%s%s", b->host,
			 b->volume[0] ? " in volume " : "", b->volume, b->path[0] ? " at " : "",
			 b->path);
		return;
	}
	snprintf(out, size, "glusterd names %zu bricks on host %s (", m, b->host);
	for (size_t i = 0, k = 0; i < n && (len = strlen(out)) < size; i++) {
		if (conf_brick_matches(b, &g[i], 1, NULL) == 0)
			continue;
		snprintf(out + len, size - len, "%s%s:%s", k++ ? ", " : "", g[i].volume, g[i].path);
	}
	len = strlen(out);
	snprintf(out + len, size - len, "): add \"volume\" or \"path\" to say which");
}

int conf_bricks_resolve(struct chorus_conf *c, const struct conf_gluster_brick *g, size_t n,
			const char *why_none, struct conf_unresolved **out, size_t *n_out)
{
	size_t *map, kept = 0, nv = 0;
	struct conf_unresolved *u;
	bool any = false;

	for (size_t b = 0; b < c->n_bricks; b++)
		any |= c->bricks[b].from_gluster;
	if (!any)
		return 0;
	map = calloc(c->n_bricks, sizeof(*map));	/* old index -> new + 1, 0 = out */
	u = realloc(*out, (*n_out + c->n_bricks) * sizeof(*u));
	if (map == NULL || u == NULL) {
		free(map);
		if (u != NULL)
			*out = u;
		return -ENOMEM;
	}
	*out = u;
	for (size_t b = 0; b < c->n_bricks; b++) {
		struct conf_brick *cb = &c->bricks[b];
		char reason[sizeof(u->reason)] = "";
		size_t first = 0, m;

		if (cb->from_gluster) {
			m = g != NULL ? conf_brick_matches(cb, g, n, &first) : 0;
			if (g == NULL)
				snprintf(reason, sizeof(reason), "glusterd's volume info is not "
					 "available (%s)", why_none ? why_none : "no answer");
			else if (m != 1)
				why_unresolved(cb, g, n, m, reason, sizeof(reason));
			else if (!fits(g[first].volume, g[first].path))
				snprintf(reason, sizeof(reason), "glusterd's volume or path for host "
					 "%s is not one chorus accepts", cb->host);
		}
		for (size_t k = 0; reason[0] == '\0' && k < kept; k++) {
			const struct conf_brick *o = &c->bricks[k];
			const char *path = cb->from_gluster ? g[first].path : cb->path;

			if (strcmp(o->host, cb->host) == 0 && strcmp(o->path, path) == 0)
				snprintf(reason, sizeof(reason), "the same brick as bricks.list[%u] "
					 "(%s:%s)", o->index, o->host, o->path);
		}
		if (reason[0] != '\0') {
			struct conf_unresolved *x = &u[(*n_out)++];

			x->brick = *cb;
			memcpy(x->reason, reason, sizeof(x->reason));
			continue;
		}
		if (cb->from_gluster) {
			snprintf(cb->volume, sizeof(cb->volume), "%s", g[first].volume);
			snprintf(cb->path, sizeof(cb->path), "%s", g[first].path);
		}
		if (kept != b)
			c->bricks[kept] = *cb;
		map[b] = ++kept;
	}
	/* the VIP list keeps its order; the bricks' entries follow them */
	for (size_t i = 0; i < c->n_vips; i++) {
		struct conf_vip *v = &c->vips[i];

		if (v->brick != 0 && map[v->brick - 1] == 0)
			continue;
		if (v->brick != 0)
			v->brick = (uint32_t)map[v->brick - 1];
		c->vips[nv++] = *v;
	}
	c->n_vips = nv;
	c->n_bricks = kept;
	free(map);
	return 0;
}
