/*
 * "control": who may use the control socket, and how many at once
 * (chorus.json(5), CONTROL SOCKET).
 *
 *   {"socket_group": G, "admin_group": G, "read_group": G,
 *    "max_clients": N, "reserved_clients": N, "max_clients_per_uid": N,
 *    "idle_timeout_ms": N, "request_timeout_ms": N}
 *
 * A group is a name (a JSON string, looked up now) or a number (a JSON
 * integer, taken as it is: a gid need not have a name).  The lookup happens
 * when the file is loaded, so a name that does not resolve refuses the file
 * at start, and at `chorusctl reload` refuses the new file while the running
 * daemon carries on with the old one.
 *
 * The socket file has one group, and reaching the socket is the first gate
 * (the daemon's check of the peer's groups is the second).  So the file's
 * group follows read_group (whose members should be able to connect), else
 * admin_group; when both are given and differ, the loader cannot know
 * whether every admin is also a reader, and asks for socket_group rather
 * than guess and lock the admins out.
 */
#include "config.h"

#include "adapters/conf_private.h"
#include "adapters/metrics_http.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#define CONF_GROUP_BUF_MAX (1024 * 1024)	/* getgrnam_r buffer, grown on ERANGE */

/* Look up group 'name' into '*gid': 0, -ENOENT, or -errno. */
static int conf_group_lookup(const char *name, gid_t *gid)
{
	struct group gr, *res = NULL;
	size_t size = 4096;
	char *buf = NULL, *nb;
	int rc;

	for (;;) {
		nb = realloc(buf, size);
		if (nb == NULL) {
			rc = -ENOMEM;
			break;
		}
		buf = nb;
		rc = getgrnam_r(name, &gr, buf, size, &res);
		if (rc == ERANGE && size < CONF_GROUP_BUF_MAX) {
			size *= 2;
			continue;
		}
		/* glibc answers "no such group" with 0 and no result, but
		 * some NSS modules with ENOENT or ESRCH. */
		if (rc == 0 || rc == ENOENT || rc == ESRCH)
			rc = res != NULL ? 0 : -ENOENT;
		else
			rc = -rc;
		if (rc == 0)
			*gid = gr.gr_gid;
		break;
	}
	free(buf);
	return rc;
}

/* A group: a name (looked up) or a number. */
static int conf_group(struct conf_ctx *cx, const char *kp, struct json_object *v, gid_t *gid,
		      char *name)
{
	char esc[CONF_ESC_SIZE];
	const char *s;
	size_t len, i;
	uint32_t n;
	int rc;

	if (json_object_is_type(v, json_type_int)) {
		/* (gid_t)-1 means "none" to chown(2) and to us */
		rc = conf_u32(cx, kp, v, 0, UINT32_MAX - 1, &n);
		if (rc < 0)
			return rc;
		*gid = (gid_t)n;
		snprintf(name, CONF_GROUP_NAME_MAX, "%u", n);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return conf_err(cx, kp, "expected a group name (a string) or id (an integer), got %s",
				conf_kind(v));
	rc = conf_string(cx, kp, v, &s, &len, esc);
	if (rc < 0)
		return rc;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < ' ' || s[i] == 0x7f || s[i] == ':' || s[i] == '/')
			break;
	if (len == 0 || len >= CONF_GROUP_NAME_MAX || i < len)
		return conf_err(cx, kp,
				"\"%s\" is not a group name (1 to %d characters, no ':', '/' or control characters)",
				esc, CONF_GROUP_NAME_MAX - 1);
	rc = conf_group_lookup(s, gid);
	if (rc == -ENOENT && strspn(s, "0123456789") == len)
		return conf_err(cx, kp,
				"no group named \"%s\": write a group id as a JSON integer (%s), a name as a string",
				esc, esc);
	if (rc == -ENOENT)
		return conf_err(cx, kp, "no group named \"%s\" on this host", esc);
	if (rc < 0)
		return conf_err(cx, kp, "cannot look up group \"%s\": %s", esc, strerror(-rc));
	memcpy(name, s, len + 1);
	return 0;
}

static const char *const conf_control_keys[] = {
	"socket_group", "admin_group", "read_group", "max_clients", "reserved_clients",
	"max_clients_per_uid", "idle_timeout_ms", "request_timeout_ms", NULL
};

int conf_control(struct conf_ctx *cx, struct json_object *o, struct chorus_conf *c)
{
	struct conf_control *cc = &c->control;
	char kp[CONF_KP_SIZE];
	struct json_object *v;
	bool sock_set, per_uid_set;
	int rc = conf_object(cx, "control", o, conf_control_keys);

	if (rc == 0 && json_object_object_get_ex(o, "admin_group", &v))
		rc = conf_group(cx, conf_kp(kp, "control", "admin_group"), v, &cc->admin_group,
				cc->admin_group_name);
	if (rc == 0 && json_object_object_get_ex(o, "read_group", &v))
		rc = conf_group(cx, conf_kp(kp, "control", "read_group"), v, &cc->read_group,
				cc->read_group_name);
	sock_set = json_object_object_get_ex(o, "socket_group", &v);
	if (rc == 0 && sock_set)
		rc = conf_group(cx, conf_kp(kp, "control", "socket_group"), v, &cc->socket_group,
				cc->socket_group_name);
	if (rc == 0 && json_object_object_get_ex(o, "max_clients", &v))
		rc = conf_u32(cx, conf_kp(kp, "control", "max_clients"), v, 1, 4096,
			      &cc->max_clients);
	if (rc == 0 && json_object_object_get_ex(o, "reserved_clients", &v))
		rc = conf_u32(cx, conf_kp(kp, "control", "reserved_clients"), v, 1, 1024,
			      &cc->reserved_clients);
	per_uid_set = json_object_object_get_ex(o, "max_clients_per_uid", &v);
	if (rc == 0 && per_uid_set)
		rc = conf_u32(cx, conf_kp(kp, "control", "max_clients_per_uid"), v, 1, 4096,
			      &cc->max_clients_per_uid);
	if (rc == 0 && json_object_object_get_ex(o, "idle_timeout_ms", &v))
		rc = conf_u32(cx, conf_kp(kp, "control", "idle_timeout_ms"), v, 1000, 86400000,
			      &cc->idle_timeout_ms);
	if (rc == 0 && json_object_object_get_ex(o, "request_timeout_ms", &v))
		rc = conf_u32(cx, conf_kp(kp, "control", "request_timeout_ms"), v, 100, 600000,
			      &cc->request_timeout_ms);
	if (rc < 0)
		return rc;

	/* The default per-uid limit follows a smaller max_clients, so that
	 * setting only max_clients never trips the check below. */
	if (!per_uid_set && cc->max_clients_per_uid > cc->max_clients)
		cc->max_clients_per_uid = cc->max_clients;
	if (cc->max_clients_per_uid > cc->max_clients)
		return conf_err(cx, "control.max_clients_per_uid",
				"%u is more than control.max_clients (%u), so it would limit nothing",
				cc->max_clients_per_uid, cc->max_clients);

	if (sock_set) {
		if (cc->admin_group == (gid_t)-1 && cc->read_group == (gid_t)-1)
			return conf_err(cx, "control.socket_group",
					"its members could open the socket but run nothing: set control.read_group (reads) or control.admin_group (everything) too");
		return 0;
	}
	if (cc->admin_group != (gid_t)-1 && cc->read_group != (gid_t)-1 &&
	    cc->admin_group != cc->read_group)
		return conf_err(cx, "control.socket_group",
				"missing (required when admin_group and read_group differ: the socket file has one group, which members of both must be in; e.g. read_group's name, if every admin is also in it)");
	if (cc->read_group != (gid_t)-1) {
		cc->socket_group = cc->read_group;
		memcpy(cc->socket_group_name, cc->read_group_name, CONF_GROUP_NAME_MAX);
	} else if (cc->admin_group != (gid_t)-1) {
		cc->socket_group = cc->admin_group;
		memcpy(cc->socket_group_name, cc->admin_group_name, CONF_GROUP_NAME_MAX);
	}
	return 0;
}

/* "metrics": {"listen": "ADDR:PORT"}: the Prometheus scrape endpoint, off
 * unless given, and then only on the address named (no wildcard default:
 * metrics tell a stranger the cluster's layout). */
int conf_metrics(struct conf_ctx *cx, struct json_object *o, struct chorus_conf *c)
{
	static const char *const keys[] = {"listen", NULL};
	struct json_object *v;
	struct sockaddr_storage ss;
	socklen_t len;
	const char *s;
	size_t n;
	char esc[CONF_ESC_SIZE];
	int rc = conf_object(cx, "metrics", o, keys);

	if (rc == 0 && json_object_object_get_ex(o, "listen", &v)) {
		rc = conf_string(cx, "metrics.listen", v, &s, &n, esc);
		if (rc == 0 && (n >= sizeof(c->metrics_listen) ||
				metrics_http_parse(s, &ss, &len) < 0))
			rc = conf_err(cx, "metrics.listen", "expected ADDR:PORT or [IPV6]:PORT with "
				      "an address of this node, e.g. \"127.0.0.1:9787\"");
		if (rc == 0)
			snprintf(c->metrics_listen, sizeof(c->metrics_listen), "%s", s);
	}
	return rc;
}
