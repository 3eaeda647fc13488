/*
 * chorus-link-monitor: the ethmonitor and FCmonitor equivalents.
 *
 *	{"interfaces": ["eth0"], "fc_hosts": ["host3"], "fc_interval_ms": 2000,
 *	 "fc_fail_after": 3, "fc_recover_after": 2,
 *	 "fc_sysfs": "/sys/class/fc_host"}
 *
 * Interfaces: an rtnetlink socket subscribed to RTMGRP_LINK is watched on
 * the main loop; no polling.  Scope "link:IFNAME" is failed while the
 * interface is absent, administratively down, without carrier, or its
 * operstate is not "up" ("unknown" counts as up when the carrier is, as
 * for drivers that never set operstate).  Kernel events are facts, so
 * they are reported at once, without hysteresis.  The initial state comes
 * from a dump at init (and again whenever the kernel drops events on us:
 * ENOBUFS), over a second socket so dump replies and events never mix.
 *
 * FC hosts: /sys/class/fc_host/HOST/port_state is read every
 * fc_interval_ms by a host check (a worker thread: sysfs reads of a sick
 * HBA can block), so these are samples and get the host's hysteresis.
 * Scope "fc:HOST" is failed unless the state is "Online".  Multipath path
 * counts are not read yet; init says so when multipathd is installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <json-c/json.h>
#include <libmnl/libmnl.h>

#include <chorus/plugin.h>

/* Big enough for a dump batch (libmnl suggests at least 8 KiB). */
#define LM_BUF_SIZE 16384

struct iface {
	char *name;
	char *scope;
	int ifindex;			/* 0 while absent */
	unsigned flags;			/* IFF_* */
	int carrier;
	int operstate;			/* IF_OPER_* */
	bool seen;			/* during a dump */
	int last;			/* last health reported, -1: none */
	char last_reason[128];
};

struct fchost {
	char *name;
	char *scope;
	char *path;			/* .../HOST/port_state */
	int check_id;
	struct fchost *next;
};

struct lm {
	const struct chorus_host_api *api;
	struct chorus_plugin_ctx *ctx;
	struct mnl_socket *nl;		/* events */
	struct iface *ifs;
	size_t nifs;
	struct fchost *fcs;
	struct fchost *fc_retired;	/* a run may still use these: freed at fini */
};

static const char *oper_name(int op)
{
	static const char *const names[] = { "unknown", "notpresent", "down", "lowerlayerdown",
					     "testing", "dormant", "up" };

	return op >= 0 && op < (int)(sizeof(names) / sizeof(names[0])) ? names[op] : "?";
}

static void iface_report(struct lm *lm, struct iface *i)
{
	char reason[128];
	enum chorus_health h = CHORUS_HEALTH_FAILED;

	if (i->ifindex == 0)
		snprintf(reason, sizeof(reason), "interface %s absent", i->name);
	else if (!(i->flags & IFF_UP))
		snprintf(reason, sizeof(reason), "interface %s administratively down", i->name);
	else if (!i->carrier)
		snprintf(reason, sizeof(reason), "interface %s has no carrier", i->name);
	else if (i->operstate != IF_OPER_UP && i->operstate != IF_OPER_UNKNOWN)
		snprintf(reason, sizeof(reason), "interface %s operstate %s", i->name,
			 oper_name(i->operstate));
	else {
		snprintf(reason, sizeof(reason), "carrier up, operstate %s",
			 oper_name(i->operstate));
		h = CHORUS_HEALTH_OK;
	}
	if ((int)h == i->last && strcmp(reason, i->last_reason) == 0)
		return;
	i->last = (int)h;
	snprintf(i->last_reason, sizeof(i->last_reason), "%s", reason);
	lm->api->report_health(lm->ctx, i->scope, h, reason);
}

static struct iface *iface_by_name(struct lm *lm, const char *name)
{
	for (size_t k = 0; k < lm->nifs; k++)
		if (strcmp(lm->ifs[k].name, name) == 0)
			return &lm->ifs[k];
	return NULL;
}

struct link_attrs {
	const char *name;
	int carrier;			/* -1: not given */
	int operstate;
};

static int link_attr_cb(const struct nlattr *a, void *data)
{
	struct link_attrs *la = data;

	switch (mnl_attr_get_type(a)) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
			la->name = mnl_attr_get_str(a);
		break;
	case IFLA_CARRIER:
		if (mnl_attr_validate(a, MNL_TYPE_U8) >= 0)
			la->carrier = mnl_attr_get_u8(a);
		break;
	case IFLA_OPERSTATE:
		if (mnl_attr_validate(a, MNL_TYPE_U8) >= 0)
			la->operstate = mnl_attr_get_u8(a);
		break;
	}
	return MNL_CB_OK;
}

static int link_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct lm *lm = data;
	const struct ifinfomsg *ifm;
	struct link_attrs la = { .name = NULL, .carrier = -1, .operstate = IF_OPER_UNKNOWN };
	struct iface *i;

	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return MNL_CB_OK;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifm)))
		return MNL_CB_OK;
	ifm = mnl_nlmsg_get_payload(nlh);
	mnl_attr_parse(nlh, sizeof(*ifm), link_attr_cb, &la);

	/* A monitored index that now has another name was renamed away. */
	for (size_t k = 0; k < lm->nifs; k++) {
		struct iface *o = &lm->ifs[k];

		if (o->ifindex == ifm->ifi_index && (la.name == NULL || strcmp(o->name, la.name) != 0 ||
						     nlh->nlmsg_type == RTM_DELLINK)) {
			o->ifindex = 0;
			iface_report(lm, o);
		}
	}
	if (la.name == NULL || nlh->nlmsg_type == RTM_DELLINK)
		return MNL_CB_OK;
	i = iface_by_name(lm, la.name);
	if (i == NULL)
		return MNL_CB_OK;
	i->seen = true;
	i->ifindex = ifm->ifi_index;
	i->flags = ifm->ifi_flags;
	i->carrier = la.carrier >= 0 ? la.carrier : !!(ifm->ifi_flags & IFF_LOWER_UP);
	i->operstate = la.operstate;
	iface_report(lm, i);
	return MNL_CB_OK;
}

/* A full link dump over its own socket.  Runs on the loop, but a dump is a
 * few kernel messages per interface, answered at once. */
static int lm_dump(struct lm *lm)
{
	char buf[LM_BUF_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct rtgenmsg *rt;
	unsigned seq = (unsigned)time(NULL), portid;
	int rc = 0;
	ssize_t n;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (nl == NULL)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
	rt->rtgen_family = AF_PACKET;
	for (size_t k = 0; k < lm->nifs; k++)
		lm->ifs[k].seen = false;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		rc = -errno;
		goto out;
	}
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		rc = mnl_cb_run(buf, (size_t)n, seq, portid, link_msg_cb, lm);
		if (rc <= MNL_CB_STOP)
			break;
	}
	rc = rc < 0 || n < 0 ? -errno : 0;
	if (rc == 0)
		for (size_t k = 0; k < lm->nifs; k++)
			if (!lm->ifs[k].seen) {
				lm->ifs[k].ifindex = 0;
				iface_report(lm, &lm->ifs[k]);
			}
out:
	mnl_socket_close(nl);
	return rc;
}

static void lm_events(struct chorus_plugin_ctx *ctx, int fd, uint32_t revents, void *arg)
{
	struct lm *lm = arg;
	char buf[LM_BUF_SIZE];
	ssize_t n;

	/* Bounded per wakeup: the loop has other work. */
	for (int k = 0; k < 32; k++) {
		n = mnl_socket_recvfrom(lm->nl, buf, sizeof(buf));
		if (n < 0) {
			if (errno == ENOBUFS) {
				lm->api->log(ctx, CHORUS_LOG_WARNING, "link events lost; "
					     "re-reading all links");
				lm_dump(lm);
				continue;
			}
			return;		/* EAGAIN */
		}
		mnl_cb_run(buf, (size_t)n, 0, 0, link_msg_cb, lm);
	}
}

static enum chorus_health fc_run(struct chorus_plugin_ctx *ctx, void *arg, char *reason,
				 size_t reason_size)
{
	struct fchost *f = arg;
	char state[64];
	ssize_t n;
	int fd;

	fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(reason, reason_size, "fc host %s: %s: %s", f->name, f->path,
			 strerror(errno));
		return CHORUS_HEALTH_FAILED;
	}
	n = read(fd, state, sizeof(state) - 1);
	close(fd);
	if (n < 0) {
		snprintf(reason, reason_size, "fc host %s: read: %s", f->name, strerror(errno));
		return CHORUS_HEALTH_FAILED;
	}
	state[n] = '\0';
	state[strcspn(state, "\r\n")] = '\0';
	snprintf(reason, reason_size, "fc host %s port_state %s", f->name, state);
	return strcmp(state, "Online") == 0 ? CHORUS_HEALTH_OK : CHORUS_HEALTH_FAILED;
}

static void fc_free(struct fchost *f)
{
	free(f->name);
	free(f->scope);
	free(f->path);
	free(f);
}

static void ifs_free(struct iface *ifs, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		free(ifs[k].name);
		free(ifs[k].scope);
	}
	free(ifs);
}

struct lm_conf {
	struct iface *ifs;
	size_t nifs;
	struct fchost *fcs;
	uint32_t fc_interval_ms, fc_fail_after, fc_recover_after;
};

static int conf_u32(struct json_object *root, const char *key, uint32_t *v)
{
	struct json_object *o;
	int64_t x;

	if (!json_object_object_get_ex(root, key, &o))
		return 0;
	x = json_object_get_int64(o);
	if (!json_object_is_type(o, json_type_int) || x <= 0 || x > 3600000)
		return -EINVAL;
	*v = (uint32_t)x;
	return 0;
}

static int lm_parse(struct lm *lm, const char *config_json, struct lm_conf *c)
{
	const struct chorus_host_api *api = lm->api;
	struct json_object *root, *a;
	const char *sysfs = "/sys/class/fc_host";
	int rc = -EINVAL;

	memset(c, 0, sizeof(*c));
	c->fc_interval_ms = 2000;
	c->fc_fail_after = CHORUS_CHECK_FAIL_AFTER_DEFAULT;
	c->fc_recover_after = CHORUS_CHECK_RECOVER_AFTER_DEFAULT;
	root = json_tokener_parse(config_json);
	if (root == NULL || !json_object_is_type(root, json_type_object)) {
		api->log(lm->ctx, CHORUS_LOG_ERR, "configuration is not a JSON object");
		goto out;
	}
	if (conf_u32(root, "fc_interval_ms", &c->fc_interval_ms) < 0 ||
	    conf_u32(root, "fc_fail_after", &c->fc_fail_after) < 0 ||
	    conf_u32(root, "fc_recover_after", &c->fc_recover_after) < 0) {
		api->log(lm->ctx, CHORUS_LOG_ERR, "fc_interval_ms, fc_fail_after and "
			 "fc_recover_after must be positive integers");
		goto out;
	}
	if (json_object_object_get_ex(root, "fc_sysfs", &a) && json_object_is_type(a, json_type_string))
		sysfs = json_object_get_string(a);
	if (json_object_object_get_ex(root, "interfaces", &a)) {
		size_t n = json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;

		if (!json_object_is_type(a, json_type_array)) {
			api->log(lm->ctx, CHORUS_LOG_ERR, "\"interfaces\" must be an array of names");
			goto out;
		}
		c->ifs = calloc(n ? n : 1, sizeof(*c->ifs));
		if (c->ifs == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		for (size_t k = 0; k < n; k++) {
			struct json_object *s = json_object_array_get_idx(a, k);
			const char *name = json_object_get_string(s);
			struct iface *i = &c->ifs[c->nifs];

			if (!json_object_is_type(s, json_type_string) || name[0] == '\0' ||
			    strlen(name) >= IFNAMSIZ) {
				api->log(lm->ctx, CHORUS_LOG_ERR, "interfaces[%zu] is not an "
					 "interface name", k);
				goto out;
			}
			i->last = -1;
			i->name = strdup(name);
			c->nifs++;
			if (i->name == NULL || asprintf(&i->scope, "link:%s", name) < 0) {
				i->scope = NULL;
				rc = -ENOMEM;
				goto out;
			}
		}
	}
	if (json_object_object_get_ex(root, "fc_hosts", &a)) {
		if (!json_object_is_type(a, json_type_array)) {
			api->log(lm->ctx, CHORUS_LOG_ERR, "\"fc_hosts\" must be an array of names");
			goto out;
		}
		for (size_t k = json_object_array_length(a); k-- > 0;) {
			struct json_object *s = json_object_array_get_idx(a, k);
			const char *name = json_object_get_string(s);
			struct fchost *f;

			if (!json_object_is_type(s, json_type_string) || name[0] == '\0' ||
			    strchr(name, '/') != NULL) {
				api->log(lm->ctx, CHORUS_LOG_ERR, "fc_hosts[%zu] is not an fc host "
					 "name", k);
				goto out;
			}
			f = calloc(1, sizeof(*f));
			if (f == NULL) {
				rc = -ENOMEM;
				goto out;
			}
			f->next = c->fcs;
			c->fcs = f;
			f->name = strdup(name);
			if (f->name == NULL || asprintf(&f->scope, "fc:%s", name) < 0 ||
			    asprintf(&f->path, "%s/%s/port_state", sysfs, name) < 0) {
				rc = -ENOMEM;
				goto out;
			}
		}
	}
	rc = 0;
out:
	json_object_put(root);
	if (rc < 0) {
		ifs_free(c->ifs, c->nifs);
		while (c->fcs != NULL) {
			struct fchost *n = c->fcs->next;

			fc_free(c->fcs);
			c->fcs = n;
		}
	}
	return rc;
}

static int fc_start(struct lm *lm, const struct lm_conf *c)
{
	for (struct fchost *f = lm->fcs; f != NULL; f = f->next) {
		int id = lm->api->schedule_check(lm->ctx, f->scope, c->fc_interval_ms,
						 c->fc_interval_ms, fc_run, f);

		if (id < 0)
			return id;
		f->check_id = id;
		lm->api->check_set_hysteresis(lm->ctx, id, c->fc_fail_after, c->fc_recover_after);
	}
	if (lm->fcs != NULL) {
		if (access("/sbin/multipathd", X_OK) != 0 && access("/usr/sbin/multipathd", X_OK) != 0)
			lm->api->log(lm->ctx, CHORUS_LOG_INFO, "multipathd not present: multipath "
				     "path counts skipped");
		else
			lm->api->log(lm->ctx, CHORUS_LOG_NOTICE, "multipath path counts are not "
				     "monitored yet (port_state only)");
	}
	return 0;
}

static void fc_stop(struct lm *lm)
{
	while (lm->fcs != NULL) {
		struct fchost *f = lm->fcs;

		lm->fcs = f->next;
		if (f->check_id > 0)
			lm->api->check_cancel(lm->ctx, f->check_id);
		f->next = lm->fc_retired;
		lm->fc_retired = f;
	}
}

static void lm_free(struct lm *lm)
{
	if (lm->nl != NULL) {
		lm->api->unwatch_fd(lm->ctx, mnl_socket_get_fd(lm->nl));
		mnl_socket_close(lm->nl);
	}
	fc_stop(lm);
	while (lm->fc_retired != NULL) {
		struct fchost *n = lm->fc_retired->next;

		fc_free(lm->fc_retired);
		lm->fc_retired = n;
	}
	ifs_free(lm->ifs, lm->nifs);
	free(lm);
}

static int lm_init(const struct chorus_host_api *api, struct chorus_plugin_ctx *ctx,
		   const char *config_json)
{
	struct lm_conf c;
	struct lm *lm;
	int rc, bufsize = 1 << 20;

	lm = calloc(1, sizeof(*lm));
	if (lm == NULL)
		return -ENOMEM;
	lm->api = api;
	lm->ctx = ctx;
	rc = lm_parse(lm, config_json, &c);
	if (rc < 0) {
		free(lm);
		return rc;
	}
	lm->ifs = c.ifs;
	lm->nifs = c.nifs;
	lm->fcs = c.fcs;
	if (lm->nifs > 0) {
		/* Subscribe first, then dump: nothing falls in between. */
		lm->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (lm->nl == NULL || mnl_socket_bind(lm->nl, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
			rc = -errno;
			api->log(ctx, CHORUS_LOG_ERR, "cannot open rtnetlink: %s", strerror(errno));
			goto fail;
		}
		(void)setsockopt(mnl_socket_get_fd(lm->nl), SOL_SOCKET, SO_RCVBUF, &bufsize,
				 sizeof(bufsize));
		rc = api->watch_fd(ctx, mnl_socket_get_fd(lm->nl), CHORUS_FD_IN, lm_events, lm);
		if (rc < 0)
			goto fail;
		rc = lm_dump(lm);
		if (rc < 0) {
			api->log(ctx, CHORUS_LOG_ERR, "cannot dump links: %s", strerror(-rc));
			goto fail;
		}
	}
	rc = fc_start(lm, &c);
	if (rc < 0)
		goto fail;
	api->set_private(ctx, lm);
	api->log(ctx, CHORUS_LOG_INFO, "watching %zu interface(s), %s fc host(s)", lm->nifs,
		 lm->fcs ? "some" : "no");
	return 0;
fail:
	lm_free(lm);
	return rc < 0 ? rc : -EIO;
}

/* Keep the netlink socket; take the new interface list (scopes no longer
 * listed are reported ok, "not monitored") and restart the FC checks. */
static int lm_reconfigure(const struct chorus_host_api *api, struct chorus_plugin_ctx *ctx,
			  const char *config_json)
{
	struct lm *lm = api->get_private(ctx);
	struct lm_conf c;
	int rc;

	rc = lm_parse(lm, config_json, &c);
	if (rc < 0)
		return rc;
	if (c.nifs > 0 && lm->nl == NULL) {
		ifs_free(c.ifs, c.nifs);
		while (c.fcs != NULL) {
			struct fchost *n = c.fcs->next;

			fc_free(c.fcs);
			c.fcs = n;
		}
		api->log(ctx, CHORUS_LOG_ERR, "adding interfaces needs a restart of the plugin");
		return -EOPNOTSUPP;
	}
	for (size_t k = 0; k < lm->nifs; k++) {
		bool kept = false;

		for (size_t j = 0; j < c.nifs; j++)
			kept |= strcmp(c.ifs[j].name, lm->ifs[k].name) == 0;
		if (!kept)
			api->report_health(ctx, lm->ifs[k].scope, CHORUS_HEALTH_OK, "not monitored");
	}
	ifs_free(lm->ifs, lm->nifs);
	lm->ifs = c.ifs;
	lm->nifs = c.nifs;
	if (lm->nl != NULL)
		lm_dump(lm);
	fc_stop(lm);
	lm->fcs = c.fcs;
	return fc_start(lm, &c);
}

static void lm_fini(const struct chorus_host_api *api, struct chorus_plugin_ctx *ctx)
{
	struct lm *lm = api->get_private(ctx);

	if (lm != NULL)
		lm_free(lm);
	api->set_private(ctx, NULL);
}

CHORUS_PLUGIN_DEFINE(link_monitor_plugin,
	.name = "link-monitor",
	.init = lm_init,
	.reconfigure = lm_reconfigure,
	.fini = lm_fini);
