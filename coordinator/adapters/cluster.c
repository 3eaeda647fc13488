/*
 * Corosync adapter.  See cluster.h.
 *
 * What corosync guarantees and what it does not (docs/corosync.md) shapes
 * this file:
 *  - drive everything from the dispatch stream; the member list of each
 *    confchg is authoritative, left/joined lists are hints (§2);
 *  - CS_OK from cpg_mcast_joined only means queued; TRY_AGAIN is normal
 *    during every sync: keep a FIFO and retry from a timer, never sleep
 *    (§4);
 *  - never cpg_finalize inside a callback: defer with a loop job (§3);
 *  - synchronous calls block forever if corosync hangs, so they are only
 *    made when connecting (§3);
 *  - libqb IPC sockets are abstract and squattable: require the peer of the
 *    IPC fd to be root, as Pacemaker does (§1).
 */
#include "adapters/cluster.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <corosync/cmap.h>
#include <corosync/corotypes.h>
#include <corosync/cpg.h>
#include <corosync/quorum.h>
#include <qb/qblog.h>

/* A retry is one cheap IPC call.  Backing off to a second left a round
 * waiting up to that long after corosync finished a sync (link-flap.sh:
 * 65 queued messages, 500 ms); anything corosync delivers also retries at
 * once (retry_now). */
#define RETRY_MIN_MS 10
#define RETRY_MAX_MS 100
#define RECONNECT_MIN_MS 500
#define RECONNECT_MAX_MS 5000
#define QUEUE_MAX 65536

struct qmsg {
	void *buf;
	size_t size;
};

struct node_name {
	uint32_t nodeid;
	char name[64];
};

struct cluster {
	struct node_name names[CPG_MEMBERS_MAX];
	size_t n_names;
	uint32_t token_ms;
	uint32_t consensus_ms;
	bool two_node;
	qb_loop_t *loop;
	struct cpg_name name;
	cluster_event_fn fn;
	void *ud;

	cpg_handle_t cpg;
	quorum_handle_t quorum;
	int cpg_fd;
	int quorum_fd;
	bool connected;
	bool joined;
	bool leaving;
	uint32_t nodeid;

	struct qmsg *q;
	size_t qhead;
	size_t qn;
	size_t qcap;
	qb_loop_timer_handle retry_timer;
	bool retry_armed;
	uint32_t retry_ms;

	qb_loop_timer_handle reconnect_timer;
	bool reconnect_armed;
	uint32_t reconnect_ms;
	bool report_loss;	/* next failure is a loss the core must hear about */
};

static void schedule_reconnect(struct cluster *cl);

static struct cluster *from_cpg(cpg_handle_t h)
{
	void *ctx = NULL;

	if (cpg_context_get(h, &ctx) != CS_OK)
		return NULL;
	return ctx;
}

static void emit(struct cluster *cl, struct core_event *ev)
{
	cl->fn(cl->ud, ev);
}

static void to_members(const struct cpg_address *a, size_t n, struct core_member *out)
{
	for (size_t i = 0; i < n; i++) {
		out[i].nodeid = a[i].nodeid;
		out[i].pid = a[i].pid;
		out[i].reason = a[i].reason;
	}
}

static void cpg_confchg_cb(cpg_handle_t h, const struct cpg_name *group,
			   const struct cpg_address *members, size_t n_members,
			   const struct cpg_address *left, size_t n_left,
			   const struct cpg_address *joined, size_t n_joined)
{
	struct cluster *cl = from_cpg(h);
	struct core_member m[CPG_MEMBERS_MAX], l[CPG_MEMBERS_MAX], j[CPG_MEMBERS_MAX];
	struct core_event ev = {.type = CORE_EV_CONFCHG};

	if (cl == NULL || n_members > CPG_MEMBERS_MAX || n_left > CPG_MEMBERS_MAX ||
	    n_joined > CPG_MEMBERS_MAX)
		return;
	to_members(members, n_members, m);
	to_members(left, n_left, l);
	to_members(joined, n_joined, j);
	ev.u.confchg.members = m;
	ev.u.confchg.n_members = n_members;
	ev.u.confchg.left = l;
	ev.u.confchg.n_left = n_left;
	ev.u.confchg.joined = j;
	ev.u.confchg.n_joined = n_joined;
	emit(cl, &ev);
}

static void cpg_totem_cb(cpg_handle_t h, struct cpg_ring_id ring, uint32_t n,
			 const uint32_t *nodes)
{
	struct cluster *cl = from_cpg(h);
	struct core_event ev = {.type = CORE_EV_TOTEM};

	if (cl == NULL)
		return;
	ev.u.totem.ring.nodeid = ring.nodeid;
	ev.u.totem.ring.seq = ring.seq;
	ev.u.totem.nodeids = nodes;
	ev.u.totem.n_nodeids = n;
	emit(cl, &ev);
}

static void cpg_deliver_cb(cpg_handle_t h, const struct cpg_name *group, uint32_t nodeid,
			   uint32_t pid, void *msg, size_t len)
{
	struct cluster *cl = from_cpg(h);
	struct core_event ev = {.type = CORE_EV_DELIVER};

	if (cl == NULL)
		return;
	ev.u.deliver.nodeid = nodeid;
	ev.u.deliver.pid = pid;
	ev.u.deliver.buf = msg;
	ev.u.deliver.size = len;
	emit(cl, &ev);
}

static void quorum_cb(quorum_handle_t h, uint32_t quorate, struct quorum_ring_id ring,
		      uint32_t n, const uint32_t *nodes)
{
	void *ctx = NULL;
	struct cluster *cl;
	struct core_event ev = {.type = CORE_EV_QUORUM};

	if (quorum_context_get(h, (const void **)&ctx) != CS_OK || ctx == NULL)
		return;
	cl = ctx;
	ev.u.quorum.ring.nodeid = ring.nodeid;
	ev.u.quorum.ring.seq = ring.seq;
	ev.u.quorum.quorate = quorate != 0;
	qb_log(LOG_INFO, "quorum: %s, ring %" PRIx32 ".%" PRIx64 ", %" PRIu32 " nodes",
	       quorate ? "quorate" : "NOT quorate", ring.nodeid, ring.seq, n);
	emit(cl, &ev);
}

/* ---- teardown and loss ---- */

static void disconnect(struct cluster *cl)
{
	if (cl->cpg_fd >= 0) {
		qb_loop_poll_del(cl->loop, cl->cpg_fd);
		cl->cpg_fd = -1;
	}
	if (cl->quorum_fd >= 0) {
		qb_loop_poll_del(cl->loop, cl->quorum_fd);
		cl->quorum_fd = -1;
	}
	if (cl->cpg) {
		cpg_finalize(cl->cpg);
		cl->cpg = 0;
	}
	if (cl->quorum) {
		quorum_finalize(cl->quorum);
		cl->quorum = 0;
	}
	cl->connected = false;
	cl->joined = false;
	/* A new membership starts clean: anything queued belonged to a view
	 * that no longer exists, and round messages carry stale tokens. */
	for (size_t i = 0; i < cl->qn; i++)
		free(cl->q[(cl->qhead + i) % cl->qcap].buf);
	cl->qn = 0;
	cl->qhead = 0;
}

static void lost_job(void *data)
{
	struct cluster *cl = data;
	struct core_event ev = {.type = CORE_EV_CLUSTER_LOST};

	disconnect(cl);
	if (cl->report_loss) {
		cl->report_loss = false;
		emit(cl, &ev);
	}
	schedule_reconnect(cl);
}

/* Corosync is gone or misbehaving.  Teardown is deferred to a job because
 * this can run inside a dispatch callback. */
static void cluster_lost(struct cluster *cl, const char *what, int err)
{
	if (!cl->connected)
		return;
	qb_log(LOG_ERR, "corosync connection lost (%s) " QB_XS " err=%d", what, err);
	cl->connected = false;
	cl->report_loss = true;
	qb_loop_job_add(cl->loop, QB_LOOP_HIGH, cl, lost_job);
}

/* ---- dispatch ---- */

static void flush(struct cluster *cl);

/* Corosync delivered something: a sync that refused our sends may be over. */
static void retry_now(struct cluster *cl)
{
	if (!cl->retry_armed || cl->qn == 0 || !cl->connected)
		return;
	qb_loop_timer_del(cl->loop, cl->retry_timer);
	cl->retry_armed = false;
	cl->retry_ms = 0;
	flush(cl);
}

#define CPG_DISPATCH_BATCH 8

static int32_t cpg_fd_cb(int32_t fd, int32_t revents, void *data)
{
	struct cluster *cl = data;
	cs_error_t rc;

	if (!cl->connected)
		return -1;
	if (revents & (POLLHUP | POLLERR | POLLNVAL)) {
		cl->cpg_fd = -1;
		cluster_lost(cl, "cpg hangup", 0);
		return -1;
	}
	/* A few messages at a time, then back to the loop: CS_DISPATCH_ALL
	 * reads until the queue is empty, and while a round's STATEs stream in
	 * (16 nodes: 355 KB over 300 ms) it did not return, so the quorum
	 * notification for the new ring waited behind every one of them and
	 * a leave-only placement could take nothing until the round was over. */
	rc = CS_OK;
	for (int i = 0; i < CPG_DISPATCH_BATCH && rc == CS_OK && cl->connected; i++)
		rc = cpg_dispatch(cl->cpg, CS_DISPATCH_ONE_NONBLOCKING);
	if (rc != CS_OK && rc != CS_ERR_BAD_HANDLE && rc != CS_ERR_TRY_AGAIN) {
		cl->cpg_fd = -1;
		cluster_lost(cl, "cpg dispatch", rc);
		return -1;
	}
	retry_now(cl);
	return 0;
}

static int32_t quorum_fd_cb(int32_t fd, int32_t revents, void *data)
{
	struct cluster *cl = data;
	cs_error_t rc;

	if (!cl->connected)
		return -1;
	if (revents & (POLLHUP | POLLERR | POLLNVAL)) {
		cl->quorum_fd = -1;
		cluster_lost(cl, "quorum hangup", 0);
		return -1;
	}
	rc = quorum_dispatch(cl->quorum, CS_DISPATCH_ALL);
	if (rc != CS_OK && rc != CS_ERR_BAD_HANDLE && rc != CS_ERR_TRY_AGAIN) {
		cl->quorum_fd = -1;
		cluster_lost(cl, "quorum dispatch", rc);
		return -1;
	}
	retry_now(cl);
	return 0;
}

/* ---- sending ---- */

static void retry_cb(void *data)
{
	struct cluster *cl = data;

	cl->retry_armed = false;
	flush(cl);
}

static void flush(struct cluster *cl)
{
	while (cl->connected && cl->joined && cl->qn > 0) {
		struct qmsg *m = &cl->q[cl->qhead];
		struct iovec iov = {.iov_base = m->buf, .iov_len = m->size};
		cs_error_t rc = cpg_mcast_joined(cl->cpg, CPG_TYPE_AGREED, &iov, 1);

		if (rc == CS_ERR_TRY_AGAIN) {
			if (!cl->retry_armed) {
				cl->retry_ms = cl->retry_ms ? cl->retry_ms * 2 : RETRY_MIN_MS;
				if (cl->retry_ms > RETRY_MAX_MS)
					cl->retry_ms = RETRY_MAX_MS;
				qb_loop_timer_add(cl->loop, QB_LOOP_HIGH,
						  (uint64_t)cl->retry_ms * QB_TIME_NS_IN_MSEC, cl,
						  retry_cb, &cl->retry_timer);
				cl->retry_armed = true;
			}
			return;
		}
		if (rc != CS_OK) {
			cluster_lost(cl, "cpg_mcast_joined", rc);
			return;
		}
		cl->retry_ms = 0;
		free(m->buf);
		cl->qhead = (cl->qhead + 1) % cl->qcap;
		cl->qn--;
	}
	if (cl->qn == 0 && cl->leaving && cl->joined && cl->connected) {
		cs_error_t rc = cpg_leave(cl->cpg, &cl->name);

		qb_log(LOG_INFO, "left the CPG group " QB_XS " rc=%d", rc);
		cl->leaving = false;
	}
}

int cluster_send(struct cluster *cl, const void *buf, size_t size)
{
	struct qmsg m;

	if (!cl->connected)
		return -ENOTCONN;	/* the core re-sends what matters after rejoin */
	if (cl->qn == cl->qcap) {
		size_t cap = cl->qcap ? cl->qcap * 2 : 64;
		struct qmsg *q;

		if (cap > QUEUE_MAX)
			return -ENOBUFS;
		q = malloc(cap * sizeof(*q));
		if (q == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < cl->qn; i++)
			q[i] = cl->q[(cl->qhead + i) % cl->qcap];
		free(cl->q);
		cl->q = q;
		cl->qcap = cap;
		cl->qhead = 0;
	}
	m.buf = malloc(size);
	if (m.buf == NULL)
		return -ENOMEM;
	memcpy(m.buf, buf, size);
	m.size = size;
	cl->q[(cl->qhead + cl->qn) % cl->qcap] = m;
	cl->qn++;
	if (!cl->retry_armed)
		flush(cl);
	return 0;
}

size_t cluster_queue_depth(const struct cluster *cl)
{
	return cl->qn;
}

void cluster_leave(struct cluster *cl)
{
	cl->leaving = true;
	flush(cl);
}

/* ---- connecting ---- */

static bool peer_is_root(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	return cr.uid == 0;
}

/*
 * Node names from cmap's nodelist (name, else ring0_addr), read with the
 * iterator as corosync-qdevice does.  Blocking IPC, so only at connect.
 */
static void read_names(struct cluster *cl)
{
	cmap_handle_t h;
	cmap_iter_handle_t it;
	char key[CMAP_KEYNAME_MAXLEN + 1];
	size_t vlen;
	cmap_value_types_t type;

	if (cmap_initialize(&h) != CS_OK)
		return;
	{
		uint32_t token = 0, consensus = 0;

		/* runtime values include token_coefficient's per-node share */
		uint8_t two = 0;

		if (cmap_get_uint32(h, "runtime.config.totem.token", &token) == CS_OK &&
		    cmap_get_uint32(h, "runtime.config.totem.consensus", &consensus) == CS_OK) {
			cl->token_ms = token;
			cl->consensus_ms = consensus;
		}
		cl->two_node = cmap_get_uint8(h, "quorum.two_node", &two) == CS_OK && two;
	}
	cl->n_names = 0;
	if (cmap_iter_init(h, "nodelist.node.", &it) == CS_OK) {
		while (cmap_iter_next(h, it, key, &vlen, &type) == CS_OK &&
		       cl->n_names < CPG_MEMBERS_MAX) {
			unsigned pos;
			char tail[CMAP_KEYNAME_MAXLEN + 1];
			char k2[CMAP_KEYNAME_MAXLEN + 1];
			uint32_t id = 0;
			char *name = NULL;

			if (sscanf(key, "nodelist.node.%u.%128s", &pos, tail) != 2 ||
			    strcmp(tail, "nodeid") != 0)
				continue;
			if (cmap_get_uint32(h, key, &id) != CS_OK || id == 0)
				continue;
			snprintf(k2, sizeof(k2), "nodelist.node.%u.name", pos);
			if (cmap_get_string(h, k2, &name) != CS_OK) {
				snprintf(k2, sizeof(k2), "nodelist.node.%u.ring0_addr", pos);
				if (cmap_get_string(h, k2, &name) != CS_OK)
					name = NULL;
			}
			cl->names[cl->n_names].nodeid = id;
			snprintf(cl->names[cl->n_names].name, sizeof(cl->names[0].name), "%s",
				 name ? name : "");
			cl->n_names++;
			free(name);
		}
		cmap_iter_finalize(h, it);
	}
	cmap_finalize(h);
}

const char *cluster_node_name(const struct cluster *cl, uint32_t nodeid)
{
	for (size_t i = 0; i < cl->n_names; i++)
		if (cl->names[i].nodeid == nodeid && cl->names[i].name[0])
			return cl->names[i].name;
	return NULL;
}

size_t cluster_node_ids(const struct cluster *cl, uint32_t *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < cl->n_names && n < max; i++)
		out[n++] = cl->names[i].nodeid;
	return n;
}

bool cluster_two_node(const struct cluster *cl)
{
	return cl->two_node;
}

int cluster_probe(struct cluster_probe *p)
{
	struct cluster *cl = calloc(1, sizeof(*cl));

	memset(p, 0, sizeof(*p));
	if (cl == NULL)
		return -ENOMEM;
	read_names(cl);
	p->token_ms = cl->token_ms;
	p->consensus_ms = cl->consensus_ms;
	for (size_t i = 0; i < cl->n_names && p->n_ids < CHORUS_MAX_NODES; i++)
		p->ids[p->n_ids++] = cl->names[i].nodeid;
	free(cl);
	return p->token_ms ? 0 : -ENOTCONN;
}

void cluster_totem_timing(const struct cluster *cl, uint32_t *token_ms, uint32_t *consensus_ms)
{
	*token_ms = cl->token_ms;
	*consensus_ms = cl->consensus_ms;
}

uint32_t cluster_node_by_name(const struct cluster *cl, const char *name)
{
	for (size_t i = 0; i < cl->n_names; i++)
		if (strcmp(cl->names[i].name, name) == 0)
			return cl->names[i].nodeid;
	return 0;
}

int cluster_connect(struct cluster *cl)
{
	cpg_model_v1_data_t model = {
		.model = CPG_MODEL_V1,
		.cpg_deliver_fn = cpg_deliver_cb,
		.cpg_confchg_fn = cpg_confchg_cb,
		.cpg_totem_confchg_fn = cpg_totem_cb,
		.flags = CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF,
	};
	quorum_model_v1_data_t qmodel = {
		.model = QUORUM_MODEL_V1,
		.quorum_notify_fn = quorum_cb,
	};
	uint32_t qtype = 0;
	unsigned int nodeid = 0;
	cs_error_t rc;

	if (cl->connected)
		return 0;
	rc = cpg_model_initialize(&cl->cpg, CPG_MODEL_V1, (cpg_model_data_t *)&model, cl);
	if (rc != CS_OK) {
		cl->cpg = 0;
		return -ENOTCONN;
	}
	if (cpg_fd_get(cl->cpg, &cl->cpg_fd) != CS_OK || !peer_is_root(cl->cpg_fd)) {
		qb_log(LOG_ERR, "corosync IPC peer is not root: refusing to trust it");
		goto fail;
	}
	if (cpg_local_get(cl->cpg, &nodeid) != CS_OK)
		goto fail;
	if (cl->nodeid && cl->nodeid != nodeid) {
		qb_log(LOG_ERR, "corosync nodeid changed from %" PRIu32 " to %u: refusing",
		       cl->nodeid, nodeid);
		goto fail;
	}
	cl->nodeid = nodeid;
	rc = quorum_model_initialize(&cl->quorum, QUORUM_MODEL_V1,
				     (quorum_model_data_t *)&qmodel, &qtype, cl);
	if (rc != CS_OK) {
		cl->quorum = 0;
		goto fail;
	}
	if (qtype != QUORUM_SET)
		qb_log(LOG_ERR, "corosync has no quorum provider: this node will never be "
		       "quorate and will hold nothing (configure votequorum)");
	if (quorum_fd_get(cl->quorum, &cl->quorum_fd) != CS_OK)
		goto fail;
	cl->connected = true;
	if (qb_loop_poll_add(cl->loop, QB_LOOP_HIGH, cl->cpg_fd, POLLIN, cl, cpg_fd_cb) != 0 ||
	    qb_loop_poll_add(cl->loop, QB_LOOP_HIGH, cl->quorum_fd, POLLIN, cl,
			     quorum_fd_cb) != 0) {
		cl->connected = false;
		goto fail;
	}
	if (quorum_trackstart(cl->quorum, CS_TRACK_CHANGES | CS_TRACK_CURRENT) != CS_OK) {
		cl->connected = false;
		goto fail;
	}
	cl->reconnect_ms = 0;
	read_names(cl);
	qb_log(LOG_NOTICE, "connected to corosync as node %u", nodeid);
	return 0;
fail:
	disconnect(cl);
	return -ENOTCONN;
}

void cluster_join(struct cluster *cl)
{
	cs_error_t rc;

	if (!cl->connected || cl->joined)
		return;
	rc = cpg_join(cl->cpg, &cl->name);
	if (rc != CS_OK) {
		/* TRY_AGAIN while a previous leave of ours is still in flight */
		qb_log(LOG_WARNING, "cpg_join failed, retrying " QB_XS " rc=%d", rc);
		disconnect(cl);
		schedule_reconnect(cl);
		return;
	}
	cl->joined = true;
	flush(cl);
}

static void reconnect_cb(void *data)
{
	struct cluster *cl = data;

	cl->reconnect_armed = false;
	if (cluster_connect(cl) < 0) {
		schedule_reconnect(cl);
		return;
	}
	cluster_join(cl);
}

static void schedule_reconnect(struct cluster *cl)
{
	if (cl->reconnect_armed)
		return;
	cl->reconnect_ms = cl->reconnect_ms ? cl->reconnect_ms * 2 : RECONNECT_MIN_MS;
	if (cl->reconnect_ms > RECONNECT_MAX_MS)
		cl->reconnect_ms = RECONNECT_MAX_MS;
	qb_loop_timer_add(cl->loop, QB_LOOP_MED, (uint64_t)cl->reconnect_ms * QB_TIME_NS_IN_MSEC,
			  cl, reconnect_cb, &cl->reconnect_timer);
	cl->reconnect_armed = true;
}

static void rejoin_job(void *data)
{
	struct cluster *cl = data;

	disconnect(cl);
	cl->reconnect_ms = 0;
	schedule_reconnect(cl);
}

void cluster_rejoin(struct cluster *cl)
{
	qb_loop_job_add(cl->loop, QB_LOOP_HIGH, cl, rejoin_job);
}

int cluster_new(qb_loop_t *loop, const char *group, cluster_event_fn fn, void *ud,
		struct cluster **out)
{
	struct cluster *cl;
	size_t len = strlen(group);

	if (len == 0 || len >= CPG_MAX_NAME_LENGTH)
		return -EINVAL;
	cl = calloc(1, sizeof(*cl));
	if (cl == NULL)
		return -ENOMEM;
	cl->loop = loop;
	cl->fn = fn;
	cl->ud = ud;
	cl->cpg_fd = -1;
	cl->quorum_fd = -1;
	/* Fixed convention: the length excludes the NUL (groups differ by
	 * length, docs/corosync.md §1). */
	memcpy(cl->name.value, group, len);
	cl->name.length = (uint32_t)len;
	*out = cl;
	return 0;
}

uint32_t cluster_nodeid(const struct cluster *cl)
{
	return cl->nodeid;
}

void cluster_free(struct cluster *cl)
{
	if (cl == NULL)
		return;
	if (cl->retry_armed)
		qb_loop_timer_del(cl->loop, cl->retry_timer);
	if (cl->reconnect_armed)
		qb_loop_timer_del(cl->loop, cl->reconnect_timer);
	disconnect(cl);
	free(cl->q);
	free(cl);
}
