/*
 * chorus-smallfile-balance: per-address client load, for load balancing.
 *
 *	{"interval_ms": 2000, "addresses": ["192.0.2.10", "2001:db8::10"],
 *	 "op_weight": 100, "byte_unit": 65536, "smoothing_pct": 50,
 *	 "max_sockets": 65536,
 *	 "bricks": [{"name": "gv0-b1", "vip": "192.0.2.10",
 *	             "dump": "/var/lib/glusterd/stats/glusterfsd__bricks-gv0.dump"}]}
 *
 * What is measured.  Every interval a worker (a host check, scope
 * "load:smallfile") dumps this node's TCP sockets over NETLINK_SOCK_DIAG
 * with their tcp_info, and groups them by local address: no /proc text is
 * parsed.  Per socket it keeps the previous counters (by socket cookie), so
 * what it sums are the deltas since the last dump:
 *	exchanges = min(data segments in, data segments out)
 *	bytes     = bytes received + bytes acked
 * A small-file operation (lookup, stat, open, a 4 KiB read or write) is one
 * request and one reply: a data segment each way.  A bulk transfer sends
 * many data segments one way and few (or none) back, so it counts as few
 * exchanges however large it is.  Connections are the sockets of the
 * address not in LISTEN state.
 *
 * The published figure, per address, per second:
 *	load = op_weight * (exchanges + bytes / byte_unit) / seconds
 * so with the defaults one small request/response weighs as much as 64 KiB
 * of payload: small-file operations dominate, and bytes still count.  It is
 * smoothed (exponentially: each sample moves the figure smoothing_pct of
 * the way) and reported on the main loop with report_load("vip:ADDR") and
 * report_load("conns:ADDR").  An address seen before and now silent decays
 * to 0.  Without "addresses" every local address with sockets is reported
 * (the host keeps the ones it declares).
 *
 * Bricks.  Where a volume has "diagnostics.stats-dump-interval" set, each
 * listed brick's io-stats dump is read by its own check (scope
 * "load:brick:NAME", on a worker) and classified (iostats.c): metadata
 * operations, small reads and writes, bytes.  Its figure,
 *	op_weight * (metadata + small I/O + bytes / byte_unit) per second,
 * is added to its "vip" (the brick's floating address), and the check's
 * reason shows the counts since the plugin started ("creates=N meta=N
 * small_io=N bytes=N load=X/s"), so status shows what each brick serves.
 *
 * The workers and the main loop share only the last snapshots, under a
 * mutex.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>

#include <json-c/json.h>
#include <libmnl/libmnl.h>

#include <chorus/plugin.h>

#include "iostats.h"

#define SF_BUF_SIZE 32768
#define SF_ADDRS_MAX 1024	/* distinct local addresses followed */
#define SF_TCP_LISTEN 10	/* TCP_LISTEN in the kernel's numbering */
#define SF_BRICKS_MAX 64
#define SF_DUMP_MAX (4u << 20)	/* an io-stats dump is some tens of KiB */
/* A brick whose counts have not moved for this long is idle (several
 * periods of any sensible stats-dump-interval). */
#define SF_BRICK_IDLE_NS (30ull * 1000000000ull)

struct sf_key {
	uint8_t family;		/* 4 or 6 */
	uint8_t bytes[16];
};

struct sf_addr {
	struct sf_key key;
	uint64_t ops, bytes;	/* deltas of the last dump */
	uint32_t conns;
	double smoothed;	/* main loop only */
	double x;		/* main loop only: this sample's figure */
	bool fresh;		/* main loop only: measured in the last sample */
};

struct sf_sock {
	uint64_t cookie;
	uint64_t segs_in, segs_out, bytes_in, bytes_out;
};

struct sf;

struct sf_brick {
	char name[64];
	char dump[512];
	struct sf_key vip;	/* family 0: none */
	struct sf *sf;
	int check_id;
	/* worker only */
	struct sf_iostats last, total;	/* last dump read; sums of deltas */
	bool have_last;
	uint64_t changed_ns;	/* when the counts last moved */
	/* shared, under sf->lock */
	double rate;		/* the brick's figure per second */
};

struct sf_cfg {
	uint32_t interval_ms, op_weight, byte_unit, smoothing_pct, max_sockets;
	size_t n_only;
	struct sf_key only[SF_ADDRS_MAX];	/* "addresses", empty = all */
	size_t n_bricks;
	struct sf_brick bricks[SF_BRICKS_MAX];
};

struct sf {
	const struct chorus_host_api *api;
	struct chorus_plugin_ctx *ctx;
	struct sf_cfg cfg;
	int check_id, timer_id;
	/* worker only */
	struct mnl_socket *nl;
	struct sf_sock *prev, *cur;
	size_t n_prev, n_cur;
	uint64_t last_ns;
	struct sf_addr acc[SF_ADDRS_MAX];
	size_t n_acc;
	bool overflow_logged;
	/* shared */
	pthread_mutex_t lock;
	uint64_t snap_seq;
	double snap_secs;
	struct sf_addr snap[SF_ADDRS_MAX];
	size_t n_snap;
	/* main loop only */
	uint64_t seen_seq;
	struct sf_addr pub[SF_ADDRS_MAX];
	size_t n_pub;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool key_eq(const struct sf_key *a, const struct sf_key *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, 16) == 0;
}

static int parse_key(const char *text, struct sf_key *k)
{
	memset(k, 0, sizeof(*k));
	if (inet_pton(AF_INET, text, k->bytes) == 1) {
		k->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, text, k->bytes) == 1) {
		k->family = 6;
		return 0;
	}
	return -EINVAL;
}

static void format_key(const struct sf_key *k, char *buf, size_t size)
{
	if (inet_ntop(k->family == 4 ? AF_INET : AF_INET6, k->bytes, buf, (socklen_t)size) == NULL)
		snprintf(buf, size, "?");
}

/* The local address of a socket; an IPv4-mapped IPv6 address is IPv4, as
 * a server listening on [::] sees its IPv4 clients. */
static void sock_key(const struct inet_diag_msg *m, struct sf_key *k)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const uint8_t *src = (const uint8_t *)m->id.idiag_src;

	memset(k, 0, sizeof(*k));
	if (m->idiag_family == AF_INET) {
		k->family = 4;
		memcpy(k->bytes, src, 4);
	} else if (memcmp(src, mapped, 12) == 0) {
		k->family = 4;
		memcpy(k->bytes, src + 12, 4);
	} else {
		k->family = 6;
		memcpy(k->bytes, src, 16);
	}
}

static bool wanted(const struct sf *sf, const struct sf_key *k)
{
	if (sf->cfg.n_only == 0)
		return true;
	for (size_t i = 0; i < sf->cfg.n_only; i++)
		if (key_eq(&sf->cfg.only[i], k))
			return true;
	return false;
}

static struct sf_addr *acc_get(struct sf *sf, const struct sf_key *k)
{
	for (size_t i = 0; i < sf->n_acc; i++)
		if (key_eq(&sf->acc[i].key, k))
			return &sf->acc[i];
	if (sf->n_acc == SF_ADDRS_MAX)
		return NULL;
	memset(&sf->acc[sf->n_acc], 0, sizeof(sf->acc[0]));
	sf->acc[sf->n_acc].key = *k;
	return &sf->acc[sf->n_acc++];
}

static int sock_cmp(const void *a, const void *b)
{
	const struct sf_sock *x = a, *y = b;

	return x->cookie < y->cookie ? -1 : x->cookie > y->cookie;
}

static const struct sf_sock *prev_find(const struct sf *sf, uint64_t cookie)
{
	struct sf_sock k = {.cookie = cookie};

	return sf->n_prev ? bsearch(&k, sf->prev, sf->n_prev, sizeof(k), sock_cmp) : NULL;
}

static uint64_t delta(uint64_t now, uint64_t before)
{
	return now >= before ? now - before : 0;	/* a reused cookie: start over */
}

/* One socket of the dump.  Checked like any outside input: the message and
 * tcp_info lengths before a field is read. */
static int on_sock(const struct nlmsghdr *nlh, void *data)
{
	struct sf *sf = data;
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	const struct tcp_info *ti = NULL;
	const struct nlattr *attr;
	static const struct sf_sock zero;
	const struct sf_sock *p;
	struct sf_sock s;
	struct sf_addr *a;
	struct sf_key k;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)) || m->idiag_state == SF_TCP_LISTEN)
		return MNL_CB_OK;
	sock_key(m, &k);
	if (!wanted(sf, &k))
		return MNL_CB_OK;
	mnl_attr_for_each(attr, nlh, sizeof(*m)) {
		if (mnl_attr_get_type(attr) == INET_DIAG_INFO &&
		    mnl_attr_get_payload_len(attr) >=
			    offsetof(struct tcp_info, tcpi_data_segs_out) + sizeof(uint32_t))
			ti = mnl_attr_get_payload(attr);
	}
	a = acc_get(sf, &k);
	if (a == NULL || ti == NULL)
		return MNL_CB_OK;
	a->conns++;
	if (sf->n_cur >= sf->cfg.max_sockets) {
		if (!sf->overflow_logged)
			sf->api->log(sf->ctx, CHORUS_LOG_WARNING,
				     "more than %u sockets: the rest count as connections only",
				     sf->cfg.max_sockets);
		sf->overflow_logged = true;
		return MNL_CB_OK;
	}
	s.cookie = (uint64_t)m->id.idiag_cookie[0] | (uint64_t)m->id.idiag_cookie[1] << 32;
	s.segs_in = ti->tcpi_data_segs_in;
	s.segs_out = ti->tcpi_data_segs_out;
	s.bytes_in = ti->tcpi_bytes_received;
	s.bytes_out = ti->tcpi_bytes_acked;
	sf->cur[sf->n_cur++] = s;
	p = prev_find(sf, s.cookie);
	if (p == NULL && sf->last_ns == 0)
		return MNL_CB_OK;	/* the first dump is only a baseline */
	if (p == NULL)
		p = &zero;	/* opened since the last dump: all of it is new */
	{
		uint64_t din = delta(s.segs_in, p->segs_in), dout = delta(s.segs_out, p->segs_out);

		a->ops += din < dout ? din : dout;
		a->bytes += delta(s.bytes_in, p->bytes_in) + delta(s.bytes_out, p->bytes_out);
	}
	return MNL_CB_OK;
}

static int dump_family(struct sf *sf, uint8_t family)
{
	char buf[SF_BUF_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct inet_diag_req_v2 *req;
	unsigned int seq = (unsigned int)time(NULL) ^ family, portid = mnl_socket_get_portid(sf->nl);
	ssize_t n;
	int rc = MNL_CB_OK;

	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = ~(1u << SF_TCP_LISTEN);
	req->idiag_ext = 1u << (INET_DIAG_INFO - 1);
	if (mnl_socket_sendto(sf->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	while ((n = mnl_socket_recvfrom(sf->nl, buf, sizeof(buf))) > 0) {
		rc = mnl_cb_run(buf, (size_t)n, seq, portid, on_sock, sf);
		if (rc <= MNL_CB_STOP)
			break;
	}
	if (n < 0)
		return -errno;
	return rc == MNL_CB_ERROR ? -EIO : 0;
}

/* The worker: one dump of both families, deltas against the last one, the
 * sums handed to the main loop. */
static enum chorus_health sf_check(struct chorus_plugin_ctx *ctx, void *arg, char *reason,
				   size_t reason_size)
{
	struct sf *sf = arg;
	uint64_t now = mono_ns();
	struct sf_sock *t;
	int rc;

	(void)ctx;
	sf->n_acc = 0;
	sf->n_cur = 0;
	rc = dump_family(sf, AF_INET);
	if (rc == 0)
		rc = dump_family(sf, AF_INET6);
	if (rc < 0) {
		snprintf(reason, reason_size, "sock_diag dump failed: %s", strerror(-rc));
		return CHORUS_HEALTH_DEGRADED;
	}
	qsort(sf->cur, sf->n_cur, sizeof(*sf->cur), sock_cmp);
	pthread_mutex_lock(&sf->lock);
	if (sf->last_ns != 0) {
		memcpy(sf->snap, sf->acc, sf->n_acc * sizeof(sf->acc[0]));
		sf->n_snap = sf->n_acc;
		sf->snap_secs = (double)(now - sf->last_ns) / 1e9;
		sf->snap_seq++;
	}
	pthread_mutex_unlock(&sf->lock);
	t = sf->prev;
	sf->prev = sf->cur;
	sf->cur = t;
	sf->n_prev = sf->n_cur;
	sf->last_ns = now;
	snprintf(reason, reason_size, "%zu addresses, %zu sockets", sf->n_acc, sf->n_prev);
	return CHORUS_HEALTH_OK;
}

static uint64_t grew(uint64_t now, uint64_t before)
{
	return now > before ? now - before : 0;
}

/* A brick's worker: read its dump, add what moved since the last one.  A
 * dump is rewritten only every stats-dump-interval, so the rate is taken
 * over the time since the counts last moved, and falls to 0 when they have
 * not moved for three dump periods (a brick that went idle). */
static enum chorus_health sf_brick_check(struct chorus_plugin_ctx *ctx, void *arg, char *reason,
					 size_t reason_size)
{
	struct sf_brick *b = arg;
	struct sf *sf = b->sf;
	struct sf_iostats now;
	uint64_t t = mono_ns();
	double rate = -1;
	int rc = sf_iostats_read(b->dump, SF_DUMP_MAX, &now);

	(void)ctx;
	if (rc < 0 && rc != -EBADMSG && rc != -ENOENT) {
		snprintf(reason, reason_size, "%s: %s", b->dump, strerror(-rc));
		return CHORUS_HEALTH_DEGRADED;
	}
	if (rc == 0 && b->have_last) {
		struct sf_iostats d = {grew(now.meta, b->last.meta),
				       grew(now.small_io, b->last.small_io),
				       grew(now.creates, b->last.creates),
				       grew(now.bytes, b->last.bytes)};

		if (now.meta < b->last.meta || now.bytes < b->last.bytes) {
			memset(&d, 0, sizeof(d));	/* the brick restarted: a new baseline */
			b->changed_ns = t;
		}
		if (d.meta || d.small_io || d.bytes) {
			double secs = (double)(t - b->changed_ns) / 1e9;

			b->total.meta += d.meta;
			b->total.small_io += d.small_io;
			b->total.creates += d.creates;
			b->total.bytes += d.bytes;
			rate = secs > 0 ? sf->cfg.op_weight *
						  ((double)d.meta + (double)d.small_io +
						   (double)d.bytes / sf->cfg.byte_unit) / secs
					: -1;
			b->changed_ns = t;
		} else if (t - b->changed_ns > SF_BRICK_IDLE_NS) {
			rate = 0;
		}
	} else if (rc == 0) {
		b->changed_ns = t;
	}
	if (rc == 0) {
		b->last = now;
		b->have_last = true;
	}
	pthread_mutex_lock(&sf->lock);
	if (rate >= 0)
		b->rate = rate;
	rate = b->rate;
	pthread_mutex_unlock(&sf->lock);
	snprintf(reason, reason_size,
		 "creates=%llu meta=%llu small_io=%llu bytes=%llu load=%.0f/s%s",
		 (unsigned long long)b->total.creates, (unsigned long long)b->total.meta,
		 (unsigned long long)b->total.small_io, (unsigned long long)b->total.bytes, rate,
		 rc == -ENOENT ? " (no dump yet)" : "");
	return CHORUS_HEALTH_OK;
}

static struct sf_addr *pub_get(struct sf *sf, const struct sf_key *k)
{
	for (size_t i = 0; i < sf->n_pub; i++)
		if (key_eq(&sf->pub[i].key, k))
			return &sf->pub[i];
	if (sf->n_pub == SF_ADDRS_MAX)
		return NULL;
	memset(&sf->pub[sf->n_pub], 0, sizeof(sf->pub[0]));
	sf->pub[sf->n_pub].key = *k;
	return &sf->pub[sf->n_pub++];
}

/* The main loop: smooth the latest snapshot (sockets, plus the bricks'
 * figures on their addresses) and report it. */
static void sf_publish(struct chorus_plugin_ctx *ctx, void *arg)
{
	struct sf *sf = arg;
	double secs, alpha = sf->cfg.smoothing_pct / 100.0;
	size_t n;

	sf->timer_id = sf->api->add_timer(ctx, sf->cfg.interval_ms, sf_publish, sf);
	pthread_mutex_lock(&sf->lock);
	if (sf->snap_seq == sf->seen_seq || sf->snap_secs <= 0.0) {
		pthread_mutex_unlock(&sf->lock);
		return;
	}
	sf->seen_seq = sf->snap_seq;
	secs = sf->snap_secs;
	for (size_t i = 0; i < sf->n_pub; i++) {
		sf->pub[i].x = 0;
		sf->pub[i].conns = 0;
		sf->pub[i].fresh = false;
	}
	for (size_t i = 0; i < sf->n_snap; i++) {
		struct sf_addr *p = pub_get(sf, &sf->snap[i].key);

		if (p == NULL)
			continue;
		p->x += sf->cfg.op_weight *
			((double)sf->snap[i].ops + (double)sf->snap[i].bytes / sf->cfg.byte_unit) /
			secs;
		p->conns = sf->snap[i].conns;
		p->fresh = true;
	}
	for (size_t k = 0; k < sf->cfg.n_bricks; k++) {
		const struct sf_brick *b = &sf->cfg.bricks[k];
		struct sf_addr *p = b->vip.family ? pub_get(sf, &b->vip) : NULL;

		if (p == NULL)
			continue;
		p->x += b->rate;
		p->fresh |= b->rate > 0;
	}
	pthread_mutex_unlock(&sf->lock);
	for (size_t i = 0; i < sf->n_pub; i++) {
		struct sf_addr *p = &sf->pub[i];
		char ip[INET6_ADDRSTRLEN], res[INET6_ADDRSTRLEN + 8];

		p->smoothed += (p->x - p->smoothed) * alpha;
		if (!p->fresh && p->smoothed < 0.5)
			p->smoothed = 0;
		format_key(&p->key, ip, sizeof(ip));
		snprintf(res, sizeof(res), "vip:%s", ip);
		sf->api->report_load(ctx, res, p->smoothed);
		snprintf(res, sizeof(res), "conns:%s", ip);
		sf->api->report_load(ctx, res, p->conns);
	}
	/* forget what has decayed to nothing and is gone */
	n = 0;
	for (size_t i = 0; i < sf->n_pub; i++)
		if (sf->pub[i].fresh || sf->pub[i].smoothed > 0)
			sf->pub[n++] = sf->pub[i];
	sf->n_pub = n;
}

static int cfg_u32(struct json_object *root, const char *key, uint32_t min, uint32_t max,
		   uint32_t *out)
{
	struct json_object *v;
	int64_t x;

	if (!json_object_object_get_ex(root, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return -EINVAL;
	x = json_object_get_int64(v);
	if (x < min || x > max)
		return -ERANGE;
	*out = (uint32_t)x;
	return 0;
}

/* "bricks": [{"name": N, "dump": PATH, "vip": ADDR}]: name and dump needed. */
static int sf_parse_bricks(struct json_object *arr, struct sf_cfg *c)
{
	size_t n;

	if (!json_object_is_type(arr, json_type_array))
		return -EINVAL;
	n = json_object_array_length(arr);
	if (n > SF_BRICKS_MAX)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i), *v;
		struct sf_brick *b = &c->bricks[i];
		const char *s;

		if (!json_object_is_type(o, json_type_object))
			return -EINVAL;
		if (!json_object_object_get_ex(o, "name", &v) || !(s = json_object_get_string(v)) ||
		    !*s || strlen(s) >= sizeof(b->name) || strchr(s, ' '))
			return -EINVAL;
		snprintf(b->name, sizeof(b->name), "%s", s);
		if (!json_object_object_get_ex(o, "dump", &v) || !(s = json_object_get_string(v)) ||
		    s[0] != '/' || strlen(s) >= sizeof(b->dump))
			return -EINVAL;
		snprintf(b->dump, sizeof(b->dump), "%s", s);
		if (json_object_object_get_ex(o, "vip", &v) &&
		    (!(s = json_object_get_string(v)) || parse_key(s, &b->vip) < 0))
			return -EINVAL;
	}
	c->n_bricks = n;
	return 0;
}

static int sf_parse(const struct chorus_host_api *api, struct chorus_plugin_ctx *ctx,
		    const char *text, struct sf_cfg *c)
{
	struct json_object *root = json_tokener_parse(text), *arr;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	c->interval_ms = 2000;
	c->op_weight = 100;
	c->byte_unit = 65536;
	c->smoothing_pct = 50;
	c->max_sockets = 65536;
	if (root == NULL || !json_object_is_type(root, json_type_object)) {
		api->log(ctx, CHORUS_LOG_ERR, "config is not a JSON object");
		json_object_put(root);
		return -EINVAL;
	}
	if (cfg_u32(root, "interval_ms", 500, 600000, &c->interval_ms) < 0 ||
	    cfg_u32(root, "op_weight", 1, 1000000, &c->op_weight) < 0 ||
	    cfg_u32(root, "byte_unit", 1, 1u << 30, &c->byte_unit) < 0 ||
	    cfg_u32(root, "smoothing_pct", 1, 100, &c->smoothing_pct) < 0 ||
	    cfg_u32(root, "max_sockets", 16, 4000000, &c->max_sockets) < 0) {
		api->log(ctx, CHORUS_LOG_ERR, "a number in the config is missing its range "
			 "(interval_ms 500..600000, op_weight 1.., byte_unit 1.., smoothing_pct "
			 "1..100, max_sockets 16..)");
		rc = -EINVAL;
	}
	if (rc == 0 && json_object_object_get_ex(root, "addresses", &arr)) {
		size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr)
								      : SF_ADDRS_MAX + 1;

		for (size_t i = 0; rc == 0 && i < n && n <= SF_ADDRS_MAX; i++) {
			const char *s = json_object_get_string(json_object_array_get_idx(arr, i));

			if (s == NULL || parse_key(s, &c->only[i]) < 0)
				rc = -EINVAL;
		}
		if (n > SF_ADDRS_MAX || rc < 0) {
			api->log(ctx, CHORUS_LOG_ERR, "\"addresses\" must be an array of at most "
				 "%d IP addresses", SF_ADDRS_MAX);
			rc = -EINVAL;
		} else {
			c->n_only = n;
		}
	}
	if (rc == 0 && json_object_object_get_ex(root, "bricks", &arr) &&
	    sf_parse_bricks(arr, c) < 0) {
		api->log(ctx, CHORUS_LOG_ERR, "\"bricks\" must be an array of at most %d "
			 "{\"name\": NAME, \"dump\": ABSOLUTE-PATH, \"vip\": ADDRESS}",
			 SF_BRICKS_MAX);
		rc = -EINVAL;
	}
	json_object_put(root);
	return rc;
}

static void sf_free(struct sf *sf)
{
	if (sf->nl)
		mnl_socket_close(sf->nl);
	free(sf->prev);
	free(sf->cur);
	pthread_mutex_destroy(&sf->lock);
	free(sf);
}

static int sf_init(const struct chorus_host_api *api, struct chorus_plugin_ctx *ctx,
		   const char *config_json)
{
	struct sf *sf = calloc(1, sizeof(*sf));
	int rc;

	if (sf == NULL)
		return -ENOMEM;
	sf->api = api;
	sf->ctx = ctx;
	pthread_mutex_init(&sf->lock, NULL);
	rc = sf_parse(api, ctx, config_json, &sf->cfg);
	if (rc < 0)
		goto fail;
	rc = -ENOMEM;
	sf->prev = calloc(sf->cfg.max_sockets, sizeof(*sf->prev));
	sf->cur = calloc(sf->cfg.max_sockets, sizeof(*sf->cur));
	if (sf->prev == NULL || sf->cur == NULL)
		goto fail;
	sf->nl = mnl_socket_open(NETLINK_SOCK_DIAG);
	if (sf->nl == NULL || mnl_socket_bind(sf->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		api->log(ctx, CHORUS_LOG_ERR, "cannot open a sock_diag socket: %s", strerror(errno));
		goto fail;
	}
	/* the dump runs on a worker: it must never hold up the main loop */
	sf->check_id = api->schedule_check(ctx, "load:smallfile", sf->cfg.interval_ms,
					   sf->cfg.interval_ms, sf_check, sf);
	if (sf->check_id < 0) {
		rc = sf->check_id;
		goto fail;
	}
	for (size_t k = 0; k < sf->cfg.n_bricks; k++) {
		struct sf_brick *b = &sf->cfg.bricks[k];
		char scope[96];

		b->sf = sf;
		snprintf(scope, sizeof(scope), "load:brick:%s", b->name);
		b->check_id = api->schedule_check(ctx, scope, sf->cfg.interval_ms,
						  sf->cfg.interval_ms, sf_brick_check, b);
		if (b->check_id < 0) {
			rc = b->check_id;
			goto fail;
		}
	}
	sf->timer_id = api->add_timer(ctx, sf->cfg.interval_ms, sf_publish, sf);
	api->set_private(ctx, sf);
	api->log(ctx, CHORUS_LOG_INFO, "measuring every %u ms, %zu address%s", sf->cfg.interval_ms,
		 sf->cfg.n_only, sf->cfg.n_only == 1 ? "" : "es (0: all)");
	return 0;
fail:
	sf_free(sf);
	return rc;
}

static void sf_fini(const struct chorus_host_api *api, struct chorus_plugin_ctx *ctx)
{
	struct sf *sf = api->get_private(ctx);

	if (sf == NULL)
		return;
	api->check_cancel(ctx, sf->check_id);
	for (size_t k = 0; k < sf->cfg.n_bricks; k++)
		api->check_cancel(ctx, sf->cfg.bricks[k].check_id);
	if (sf->timer_id > 0)
		api->timer_del(ctx, sf->timer_id);
	sf_free(sf);
	api->set_private(ctx, NULL);
}

CHORUS_PLUGIN_DEFINE(smallfile_balance_plugin,
	.name = "smallfile-balance",
	.init = sf_init,
	.fini = sf_fini);
