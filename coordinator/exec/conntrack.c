/*
 * Connection collector over NETLINK_SOCK_DIAG: see conntrack.h.
 *
 * Two netlink sockets, both non-blocking: one for dumps, polled by the loop
 * (a dump of many sockets arrives in many datagrams, read as they come), and
 * one for SOCK_DESTROY requests, whose answer the kernel queues before the
 * send returns.  A collection that times out closes and reopens the dump
 * socket, so late answers of the old dump cannot mix into the next one.
 *
 * Connections of dual-stack listeners (bound to ::) carry IPv4 peers as
 * IPv4-mapped IPv6 addresses; they are reported as IPv4 (that is what the
 * VIP and the client are) and remember the socket's own family for destroy.
 */
#include "exec/conntrack.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <libmnl/libmnl.h>
#include <qb/qbdefs.h>
#include <qb/qbutil.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>

#define CT_BUF_SIZE 32768
#define CT_READS_PER_DISPATCH 64	/* then let the loop run other sources */

struct conntrack {
	qb_loop_t *loop;
	struct mnl_socket *dump;
	uint32_t dump_portid;
	uint32_t seq;
	struct mnl_socket *ctl;
	uint32_t ctl_portid;
	/* the collection in progress */
	bool busy;
	struct res_addr *locals;
	size_t n_locals;
	int fams[2];
	int n_fams, fam_i;
	struct conntrack_sock *socks;
	size_t n, cap, n_over;
	conntrack_done_fn fn;
	void *ud;
	qb_loop_timer_handle timer;
	bool timer_armed;
	uint8_t buf[CT_BUF_SIZE] __attribute__((aligned(8)));	/* netlink headers are read in place */
};

static int32_t ct_dispatch(int32_t fd, int32_t revents, void *data);

static int dump_open(struct conntrack *ct)
{
	ct->dump = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (ct->dump == NULL)
		return -errno;
	if (mnl_socket_bind(ct->dump, 0, MNL_SOCKET_AUTOPID) < 0) {
		int rc = -errno;

		mnl_socket_close(ct->dump);
		ct->dump = NULL;
		return rc;
	}
	ct->dump_portid = mnl_socket_get_portid(ct->dump);
	return qb_loop_poll_add(ct->loop, QB_LOOP_MED, mnl_socket_get_fd(ct->dump), POLLIN, ct,
				ct_dispatch);
}

static void dump_close(struct conntrack *ct)
{
	if (ct->dump == NULL)
		return;
	qb_loop_poll_del(ct->loop, mnl_socket_get_fd(ct->dump));
	mnl_socket_close(ct->dump);
	ct->dump = NULL;
}

int conntrack_new(qb_loop_t *loop, struct conntrack **out)
{
	struct conntrack *ct = calloc(1, sizeof(*ct));
	int one = 1, rc;

	if (ct == NULL)
		return -ENOMEM;
	ct->loop = loop;
	ct->seq = 1;
	rc = dump_open(ct);
	if (rc < 0)
		goto out_free;
	ct->ctl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (ct->ctl == NULL || mnl_socket_bind(ct->ctl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		goto out_close;
	}
	/* errors then carry only the header, so an answer always fits */
	mnl_socket_setsockopt(ct->ctl, NETLINK_CAP_ACK, &one, sizeof(one));
	ct->ctl_portid = mnl_socket_get_portid(ct->ctl);
	*out = ct;
	return 0;

out_close:
	if (ct->ctl)
		mnl_socket_close(ct->ctl);
	dump_close(ct);
out_free:
	free(ct);
	return rc;
}

static void finish(struct conntrack *ct, int err)
{
	conntrack_done_fn fn = ct->fn;

	if (!ct->busy)
		return;
	ct->busy = false;
	if (ct->timer_armed) {
		qb_loop_timer_del(ct->loop, ct->timer);
		ct->timer_armed = false;
	}
	free(ct->locals);
	ct->locals = NULL;
	ct->fn = NULL;
	if (fn)
		fn(ct->ud, err, ct->socks, ct->n, ct->n_over);
	ct->n = 0;
}

static int send_dump(struct conntrack *ct, int family)
{
	uint8_t b[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(b);
	struct inet_diag_req_v2 *req;

	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++ct->seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = (uint8_t)family;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = 1u << TCP_ESTABLISHED;
	if (mnl_socket_sendto(ct->dump, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return 0;
}

static bool v4mapped(const uint8_t *b)
{
	static const uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return memcmp(b, pfx, 12) == 0;
}

static void to_addr(int family, const uint32_t *raw, struct res_addr *a)
{
	const uint8_t *b = (const uint8_t *)raw;

	memset(a, 0, sizeof(*a));
	if (family == AF_INET || v4mapped(b)) {
		a->family = 4;
		a->prefix = 32;
		memcpy(a->bytes, family == AF_INET ? b : b + 12, 4);
	} else {
		a->family = 6;
		a->prefix = 128;
		memcpy(a->bytes, b, 16);
	}
}

static int data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct conntrack *ct = data;
	const struct inet_diag_msg *m;
	struct conntrack_sock s = {0};
	size_t i;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*m))
		return MNL_CB_OK;
	m = mnl_nlmsg_get_payload(nlh);
	if ((m->idiag_family != AF_INET && m->idiag_family != AF_INET6) ||
	    m->idiag_state != TCP_ESTABLISHED)
		return MNL_CB_OK;
	to_addr(m->idiag_family, m->id.idiag_src, &s.local);
	for (i = 0; i < ct->n_locals; i++)
		if (res_addr_cmp(&ct->locals[i], &s.local) == 0)
			break;
	if (i == ct->n_locals)
		return MNL_CB_OK;
	if (ct->n >= CONNTRACK_MAX_SOCKS) {
		ct->n_over++;
		return MNL_CB_OK;
	}
	if (ct->n == ct->cap) {
		size_t cap = ct->cap ? ct->cap * 2 : 64;
		struct conntrack_sock *v = realloc(ct->socks, cap * sizeof(*v));

		if (v == NULL) {
			ct->n_over++;
			return MNL_CB_OK;
		}
		ct->socks = v;
		ct->cap = cap;
	}
	to_addr(m->idiag_family, m->id.idiag_dst, &s.remote);
	s.lport = ntohs(m->id.idiag_sport);
	s.rport = ntohs(m->id.idiag_dport);
	s.ifindex = m->id.idiag_if;
	s.cookie = (uint64_t)m->id.idiag_cookie[1] << 32 | m->id.idiag_cookie[0];
	s.local_idx = i;
	s.sk_family = m->idiag_family;
	ct->socks[ct->n++] = s;
	return MNL_CB_OK;
}

static int32_t ct_dispatch(int32_t fd, int32_t revents, void *data)
{
	struct conntrack *ct = data;

	(void)revents;
	for (int i = 0; i < CT_READS_PER_DISPATCH; i++) {
		ssize_t len = recv(fd, ct->buf, sizeof(ct->buf), MSG_DONTWAIT);
		int ret;

		if (len < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return 0;
			finish(ct, -errno);	/* e.g. ENOBUFS: the dump is incomplete */
			return 0;
		}
		if (!ct->busy)
			continue;	/* leftovers: nobody asked */
		ret = mnl_cb_run(ct->buf, (size_t)len, ct->seq, ct->dump_portid, data_cb, ct);
		if (ret == MNL_CB_ERROR) {
			if (errno == ESRCH)
				continue;	/* an older dump's answer */
			finish(ct, errno ? -errno : -EPROTO);
		} else if (ret == MNL_CB_STOP) {
			int rc = 0;

			if (++ct->fam_i < ct->n_fams)
				rc = send_dump(ct, ct->fams[ct->fam_i]);
			else
				finish(ct, 0);
			if (rc < 0)
				finish(ct, rc);
		}
	}
	return 0;
}

static void timeout_cb(void *data)
{
	struct conntrack *ct = data;

	ct->timer_armed = false;
	dump_close(ct);
	(void)dump_open(ct);	/* if it fails, the next collection says so */
	finish(ct, -ETIMEDOUT);
}

int conntrack_collect(struct conntrack *ct, const struct res_addr *locals, size_t n,
		      uint32_t timeout_ms, conntrack_done_fn fn, void *ud)
{
	bool want4 = false, want6 = false;
	int rc;

	if (ct->busy)
		return -EBUSY;
	if (ct->dump == NULL && (rc = dump_open(ct)) < 0)
		return rc;
	ct->locals = calloc(n + 1, sizeof(*ct->locals));
	if (ct->locals == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		ct->locals[i] = locals[i];
		want4 |= locals[i].family == 4;
		want6 |= locals[i].family == 6;
	}
	ct->n_locals = n;
	ct->n = 0;
	ct->n_over = 0;
	ct->n_fams = 0;
	ct->fam_i = 0;
	/* IPv4 VIPs also show up in the IPv6 dump (dual-stack listeners) */
	if (want4)
		ct->fams[ct->n_fams++] = AF_INET;
	if (want4 || want6)
		ct->fams[ct->n_fams++] = AF_INET6;
	ct->fn = fn;
	ct->ud = ud;
	ct->busy = true;
	if (ct->n_fams == 0) {
		finish(ct, 0);
		return 0;
	}
	rc = send_dump(ct, ct->fams[0]);
	if (rc < 0) {
		ct->fn = NULL;
		finish(ct, rc);
		return rc;
	}
	ct->timer_armed = qb_loop_timer_add(ct->loop, QB_LOOP_MED,
					    (uint64_t)timeout_ms * QB_TIME_NS_IN_MSEC, ct,
					    timeout_cb, &ct->timer) == 0;
	return 0;
}

static void fill_addr(const struct res_addr *a, int family, uint32_t *raw)
{
	uint8_t *b = (uint8_t *)raw;

	memset(raw, 0, 16);
	if (a->family == 4 && family == AF_INET6) {
		b[10] = b[11] = 0xff;
		memcpy(b + 12, a->bytes, 4);
	} else {
		memcpy(b, a->bytes, a->family == 4 ? 4 : 16);
	}
}

int conntrack_destroy(struct conntrack *ct, const struct conntrack_sock *s)
{
	uint8_t b[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(b);
	struct inet_diag_req_v2 *req;
	int family = s->sk_family == AF_INET6 ? AF_INET6 : AF_INET;
	int fd = mnl_socket_get_fd(ct->ctl), ret;
	ssize_t len;

	while (recv(fd, ct->buf, sizeof(ct->buf), MSG_DONTWAIT) > 0)
		;	/* stale answers */
	nlh->nlmsg_type = SOCK_DESTROY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++ct->seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = (uint8_t)family;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = 1u << TCP_ESTABLISHED;
	req->id.idiag_sport = htons(s->lport);
	req->id.idiag_dport = htons(s->rport);
	fill_addr(&s->local, family, req->id.idiag_src);
	fill_addr(&s->remote, family, req->id.idiag_dst);
	req->id.idiag_if = s->ifindex;
	/* the cookie makes sure we reset the socket we saw, not a newer one
	 * that reuses its addresses and ports */
	req->id.idiag_cookie[0] = (uint32_t)s->cookie;
	req->id.idiag_cookie[1] = (uint32_t)(s->cookie >> 32);
	if (mnl_socket_sendto(ct->ctl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	len = recv(fd, ct->buf, sizeof(ct->buf), MSG_DONTWAIT);
	if (len < 0)
		return errno == EAGAIN ? 0 : -errno;
	ret = mnl_cb_run(ct->buf, (size_t)len, nlh->nlmsg_seq, ct->ctl_portid, NULL, NULL);
	if (ret == MNL_CB_ERROR) {
		int e = errno ? errno : EPROTO;

		return e == ESTALE ? -ENOENT : -e;
	}
	return 0;
}

void conntrack_free(struct conntrack *ct)
{
	if (ct == NULL)
		return;
	ct->fn = NULL;
	finish(ct, -ECANCELED);
	dump_close(ct);
	if (ct->ctl)
		mnl_socket_close(ct->ctl);
	free(ct->socks);
	free(ct);
}
