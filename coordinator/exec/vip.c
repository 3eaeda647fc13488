/*
 * VIP executor: floating addresses over rtnetlink.
 *
 * How it works.  One NETLINK_ROUTE socket carries requests.  Each request
 * asks for an ACK and the answer is read at once: rtnetlink handles a
 * request inside sendmsg() under the rtnl lock, so the ACK (or the first
 * part of a dump) is already queued when sendto() returns and the read
 * cannot wait on anything but that.  SO_RCVTIMEO bounds it anyway, and
 * leftovers of a timed-out exchange are drained before the next request so
 * sequence numbers stay aligned.
 *
 * Reconcile (vip_exec_renew) dumps every address, marks which configured
 * ones are present, and for each intended one either re-adds it (it
 * vanished: logged at notice and re-announced) or refreshes its lifetime.
 * It runs only when the daemon says so, right after a heartbeat was handed
 * to corosync (CORE_ACT_RENEW): addresses carry a finite valid/preferred
 * lifetime of 'lifetime_s', so if this process stops renewing them the
 * kernel deletes them by itself, and the peers, who know when they last
 * heard from us, know when that has surely happened.  That is why nothing
 * here renews or re-adds on its own, not even an address deleted by hand
 * (the next heartbeat puts it back).  A refresh is RTM_NEWADDR with
 * NLM_F_REPLACE and a new IFA_CACHEINFO; it changes the lifetime in place
 * and leaves established connections alone.  The kernel removes an expired
 * address up to about 1.25 s late (measured; net/ipv4/devinet.c re-checks
 * no sooner than a second after its last check), which the peers add.
 *
 * Adds use NLM_F_CREATE|NLM_F_REPLACE so that "add" and "refresh" are the
 * same idempotent request; acquire first tries NLM_F_EXCL only to learn
 * whether the address is new, which decides whether to announce.
 *
 * Announcements (vip_announce.c) run as a burst on a per-address loop timer:
 * the first at once, then 'announce_count - 1' more 'announce_interval_ms'
 * apart.  A burst starts when an address is newly added or newly intended,
 * not when an address we already hold is acquired again.
 *
 * Nothing here sleeps; every wait is a netlink round trip.
 */
#include "exec/vip.h"
#include "exec/vip_announce.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <qb/qbdefs.h>
#include <qb/qblog.h>
#include <qb/qbutil.h>

#define VIP_LIFE_FOREVER 0xFFFFFFFFU /* the kernel's INFINITY_LIFE_TIME */
#define VIP_NL_BUF_SIZE 16384	     /* one recv; dumps come in several */
#define VIP_NL_REQ_SIZE 256	     /* an address request is ~100 bytes */
#define VIP_NL_TIMEOUT_S 1	     /* bound on an ACK that never comes */
#define VIP_NL_DRAIN_MAX 16	     /* stale replies dropped per request */
#define VIP_EV_DRAIN_MAX 64	     /* event reads before yielding the loop */
#define VIP_ERR_LOG_NS (60ULL * QB_TIME_NS_IN_SEC)

#define vip_log(s, lvl, fmt, ...)                                                                  \
	qb_log((lvl), "vip %s dev %s: " fmt, (s)->text, (s)->l.ifname, ##__VA_ARGS__)

struct vip_nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	char buf[VIP_NL_BUF_SIZE] __attribute__((aligned(8)));
};

/* A repeated failure is logged when it starts, then once a minute (dlm
 * log_retry); the repeats in between go to debug. */
struct vip_rl {
	int err;
	uint64_t logged_ns;
	uint32_t repeats;
};

struct vip_slot {
	struct vip_local l;
	char text[CHORUS_ADDR_STRLEN];
	struct vip_exec *x;
	size_t idx;
	unsigned int ifindex; /* from the last resolve; 0 = missing */
	bool intended;	      /* the core wants it here */
	bool present;	      /* seen in the last dump */
	uint32_t announce_left;
	bool announce_armed;
	bool announce_warned; /* one warning per burst */
	qb_loop_timer_handle announce_timer;
	struct vip_rl rl;
};

struct vip_exec {
	qb_loop_t *loop;
	struct vip_exec_config cfg;
	vip_exec_event_fn fn;
	void *ud;
	struct vip_slot *slots;
	size_t n;
	struct vip_nl *nl;
	struct vip_announce *ann;
	struct vip_rl dump_rl;
	uint64_t renewed_ns;	/* last renewal pass */
};

static int nl_open(struct vip_nl **out)
{
	struct timeval tv = {.tv_sec = VIP_NL_TIMEOUT_S};
	struct vip_nl *nl;
	int one = 1;
	int rc;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock) {
		rc = -errno;
		goto out_free;
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		rc = -errno;
		goto out_close;
	}
	/* errors then carry only the header, so an ACK always fits */
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)qb_util_nano_current_get();
	*out = nl;
	return 0;

out_close:
	mnl_socket_close(nl->sock);
out_free:
	free(nl);
	return rc;
}

static void nl_close(struct vip_nl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sock);
	free(nl);
}

/* Send 'nlh' and read until its ACK or the end of its dump, passing every
 * data message to 'cb'.  Returns 0 or the kernel's -errno. */
static int nl_talk(struct vip_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	int fd = mnl_socket_get_fd(nl->sock);
	ssize_t len;
	int i, ret;

	for (i = 0; i < VIP_NL_DRAIN_MAX; i++)
		if (recv(fd, nl->buf, sizeof(nl->buf), MSG_DONTWAIT) < 0)
			break;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		len = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
		if (len < 0)
			return (errno == EAGAIN || errno == EWOULDBLOCK) ? -ETIMEDOUT : -errno;
		ret = mnl_cb_run(nl->buf, (size_t)len, nlh->nlmsg_seq, nl->portid, cb, data);
		if (ret == MNL_CB_ERROR)
			return errno ? -errno : -EPROTO;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

/*
 * Build and run an RTM_NEWADDR or RTM_DELADDR for 'a' on 'ifindex'.
 *
 * IPv4 gets IFA_LOCAL and IFA_ADDRESS (the same, no peer) and, for prefixes
 * up to /30, the directed broadcast, as `ip addr add ... brd +` sets it.
 * IPv6 gets IFA_F_NODAD: a floating address moves between nodes that all
 * know it is unique, and DAD would keep it tentative (unusable, and not
 * announceable) for a second or more exactly when clients are failing over.
 * 'lifetime_s' 0 means permanent; it is sent explicitly so that a refresh
 * also turns a dynamic address left by another config into a permanent one.
 */
static int nl_addr(struct vip_nl *nl, uint16_t type, uint16_t flags, const struct res_addr *a,
		   unsigned int ifindex, uint32_t lifetime_s)
{
	char buf[VIP_NL_REQ_SIZE] __attribute__((aligned(8)));
	struct ifa_cacheinfo ci;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifm;
	uint8_t brd[4];
	uint32_t mask;
	uint32_t life = lifetime_s ? lifetime_s : VIP_LIFE_FOREVER;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++nl->seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifa_family = a->family == 4 ? AF_INET : AF_INET6;
	ifm->ifa_prefixlen = a->prefix;
	ifm->ifa_scope = RT_SCOPE_UNIVERSE;
	ifm->ifa_index = ifindex;

	if (a->family == 4) {
		mnl_attr_put(nlh, IFA_LOCAL, 4, a->bytes);
		mnl_attr_put(nlh, IFA_ADDRESS, 4, a->bytes);
		if (type == RTM_NEWADDR && a->prefix <= 30) {
			mask = a->prefix ? htonl(~0U << (32 - a->prefix)) : 0;
			memcpy(brd, a->bytes, 4);
			for (int i = 0; i < 4; i++)
				brd[i] |= ~((const uint8_t *)&mask)[i];
			mnl_attr_put(nlh, IFA_BROADCAST, 4, brd);
		}
	} else {
		mnl_attr_put(nlh, IFA_ADDRESS, 16, a->bytes);
		if (type == RTM_NEWADDR) {
			ifm->ifa_flags = IFA_F_NODAD;
			mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
		}
	}
	if (type == RTM_NEWADDR) {
		memset(&ci, 0, sizeof(ci));
		ci.ifa_prefered = life;
		ci.ifa_valid = life;
		mnl_attr_put(nlh, IFA_CACHEINFO, sizeof(ci), &ci);
	}
	return nl_talk(nl, nlh, NULL, NULL);
}

/* A delete of something already gone is success: release is idempotent. */
static bool del_gone(int rc) { return rc == -EADDRNOTAVAIL || rc == -ENOENT || rc == -ENODEV; }

/* Interfaces are looked up by name on every use, so one that appears after
 * start-up, or is re-created with a new index, just works. */
static int slot_resolve(struct vip_slot *s)
{
	errno = 0;
	s->ifindex = if_nametoindex(s->l.ifname);
	if (s->ifindex)
		return 0;
	return (errno && errno != ENXIO) ? -errno : -ENODEV;
}

static bool rl_log(struct vip_rl *rl, int err)
{
	uint64_t now = qb_util_nano_current_get();

	if (err != rl->err || now - rl->logged_ns >= VIP_ERR_LOG_NS) {
		rl->err = err;
		rl->logged_ns = now;
		return true;
	}
	rl->repeats++;
	return false;
}

static void slot_fail(struct vip_exec *x, struct vip_slot *s, const char *what, int err)
{
	if (rl_log(&s->rl, err)) {
		vip_log(s, LOG_ERR, "cannot %s address: %s " QB_XS " rc=%d repeats=%u", what,
			strerror(-err), err, s->rl.repeats);
		s->rl.repeats = 0;
	} else {
		vip_log(s, LOG_DEBUG, "cannot %s address " QB_XS " rc=%d", what, err);
	}
	if (x->fn)
		x->fn(x->ud, s->idx, false, err);
}

static void slot_ok(struct vip_slot *s)
{
	if (s->rl.err)
		vip_log(s, LOG_NOTICE, "address held again " QB_XS " after rc=%d", s->rl.err);
	memset(&s->rl, 0, sizeof(s->rl));
}

static void announce_fire(void *data);

static void announce_stop(struct vip_exec *x, struct vip_slot *s)
{
	if (s->announce_armed)
		qb_loop_timer_del(x->loop, s->announce_timer);
	s->announce_armed = false;
	s->announce_left = 0;
}

/* Send one announcement and arm the timer for the next, if any is left. */
static void announce_next(struct vip_exec *x, struct vip_slot *s)
{
	uint64_t ns;
	int rc;

	rc = vip_announce_send(x->ann, &s->l.addr, s->l.ifname, s->ifindex);
	s->announce_left--;
	if (rc == -EOPNOTSUPP) {
		vip_log(s, LOG_DEBUG, "interface cannot announce, skipping");
		s->announce_left = 0;
	} else if (rc < 0 && !s->announce_warned) {
		vip_log(s, LOG_WARNING, "announcement failed: %s " QB_XS " rc=%d", strerror(-rc),
			rc);
		s->announce_warned = true;
	}
	if (!s->announce_left)
		return;
	ns = (uint64_t)(x->cfg.announce_interval_ms ? x->cfg.announce_interval_ms : 1) *
	     QB_TIME_NS_IN_MSEC;
	rc = qb_loop_timer_add(x->loop, QB_LOOP_MED, ns, s, announce_fire, &s->announce_timer);
	if (rc < 0) {
		vip_log(s, LOG_WARNING, "cannot schedule announcement " QB_XS " rc=%d", rc);
		s->announce_left = 0;
		return;
	}
	s->announce_armed = true;
}

static void announce_fire(void *data)
{
	struct vip_slot *s = data;

	s->announce_armed = false;
	if (s->announce_left)
		announce_next(s->x, s);
}

static void announce_start(struct vip_exec *x, struct vip_slot *s)
{
	announce_stop(x, s);
	if (!x->ann || !x->cfg.announce_count)
		return;
	s->announce_left = x->cfg.announce_count;
	s->announce_warned = false;
	announce_next(x, s);
}

static int dump_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, IFA_MAX) < 0)
		return MNL_CB_OK;
	tb[type] = attr;
	return MNL_CB_OK;
}

/* The address carried by an RTM_*ADDR message: IFA_LOCAL when there is one
 * (IPv4, where IFA_ADDRESS may be a peer), else IFA_ADDRESS.  Returns its
 * family as 4 or 6 and copies it to 'bytes', or 0 for anything malformed. */
static int msg_addr(const struct nlmsghdr *nlh, const struct ifaddrmsg **ifmp, uint8_t bytes[16])
{
	const struct nlattr *tb[IFA_MAX + 1] = {NULL};
	const struct ifaddrmsg *ifm;
	const struct nlattr *at;
	size_t alen;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifm))
		return 0;
	ifm = mnl_nlmsg_get_payload(nlh);
	if (ifm->ifa_family != AF_INET && ifm->ifa_family != AF_INET6)
		return 0;
	if (mnl_attr_parse(nlh, sizeof(*ifm), dump_attr_cb, tb) < 0)
		return 0;
	at = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	alen = ifm->ifa_family == AF_INET ? 4 : 16;
	if (!at || mnl_attr_get_payload_len(at) != alen)
		return 0;
	memcpy(bytes, mnl_attr_get_payload(at), alen);
	*ifmp = ifm;
	return ifm->ifa_family == AF_INET ? 4 : 6;
}

static bool slot_match(const struct vip_slot *s, int family, const uint8_t *bytes)
{
	return s->l.addr.family == family && !memcmp(s->l.addr.bytes, bytes, family == 4 ? 4 : 16);
}

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct vip_exec *x = data;
	const struct ifaddrmsg *ifm = NULL;
	uint8_t bytes[16];
	int family;
	size_t i;

	if (nlh->nlmsg_type != RTM_NEWADDR)
		return MNL_CB_OK;
	family = msg_addr(nlh, &ifm, bytes);
	if (!family)
		return MNL_CB_OK;
	for (i = 0; i < x->n; i++) {
		struct vip_slot *s = &x->slots[i];

		if (s->ifindex && s->ifindex == ifm->ifa_index &&
		    s->l.addr.prefix == ifm->ifa_prefixlen && slot_match(s, family, bytes))
			s->present = true;
	}
	return MNL_CB_OK;
}

/* Resolve every interface and mark which configured addresses are on theirs. */
static int exec_dump(struct vip_exec *x)
{
	char buf[VIP_NL_REQ_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifm;
	size_t i;

	for (i = 0; i < x->n; i++) {
		x->slots[i].present = false;
		slot_resolve(&x->slots[i]);
	}
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++x->nl->seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifa_family = AF_UNSPEC;
	return nl_talk(x->nl, nlh, dump_cb, x);
}

/*
 * Make the kernel match intent: every intended address present with a fresh
 * lifetime.  Addresses we do not intend are left alone; one we released is
 * already gone, and one adopted at start-up waits for the core's decision.
 */
int vip_exec_renew(struct vip_exec *x, uint32_t every_ms)
{
	uint64_t now = qb_util_nano_current_get();
	bool any = false;
	size_t i;
	int rc;

	for (i = 0; i < x->n; i++)
		any |= x->slots[i].intended;
	if (!any)
		return 0;
	if (every_ms && x->renewed_ns &&
	    now - x->renewed_ns < (uint64_t)every_ms * QB_TIME_NS_IN_MSEC)
		return 0;
	x->renewed_ns = now;
	rc = exec_dump(x);
	if (rc < 0) {
		if (rl_log(&x->dump_rl, rc))
			qb_log(LOG_ERR, "vip: cannot list addresses: %s " QB_XS " rc=%d",
			       strerror(-rc), rc);
		return rc;
	}
	memset(&x->dump_rl, 0, sizeof(x->dump_rl));

	for (i = 0; i < x->n; i++) {
		struct vip_slot *s = &x->slots[i];

		if (!s->intended)
			continue;
		if (!s->ifindex) {
			slot_fail(x, s, "keep", -ENODEV);
			continue;
		}
		/* a permanent address that is there needs nothing */
		if (s->present && !x->cfg.lifetime_s) {
			slot_ok(s);
			continue;
		}
		rc = nl_addr(x->nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, &s->l.addr,
			     s->ifindex, x->cfg.lifetime_s);
		if (rc < 0) {
			slot_fail(x, s, s->present ? "refresh" : "re-add", rc);
			continue;
		}
		slot_ok(s);
		if (s->present)
			continue;
		vip_log(s, LOG_NOTICE, "address had vanished, re-added");
		announce_start(x, s);
		if (x->fn)
			x->fn(x->ud, s->idx, true, 0);
	}
	return 0;
}

void vip_exec_set_lifetime(struct vip_exec *x, uint32_t lifetime_s)
{
	x->cfg.lifetime_s = lifetime_s;
}

static int vip_local_check(const struct vip_local *v)
{
	size_t len = strnlen(v->ifname, sizeof(v->ifname));

	if (len == 0 || len >= IFNAMSIZ)
		return -EINVAL;
	if (v->addr.family == 4)
		return v->addr.prefix <= 32 ? 0 : -EINVAL;
	if (v->addr.family == 6)
		return v->addr.prefix <= 128 ? 0 : -EINVAL;
	return -EINVAL;
}

int vip_exec_new(qb_loop_t *loop, const struct vip_exec_config *cfg, const struct vip_local *vips,
		 size_t n, vip_exec_event_fn fn, void *ud, struct vip_exec **out)
{
	struct vip_exec *x;
	bool want4 = false, want6 = false;
	size_t i;
	int rc;

	if (!loop || !cfg || !out || (n && !vips))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (vip_local_check(&vips[i]) < 0)
			return -EINVAL;
		want4 |= vips[i].addr.family == 4;
		want6 |= vips[i].addr.family == 6;
	}

	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->loop = loop;
	x->cfg = *cfg;
	x->fn = fn;
	x->ud = ud;
	x->n = n;
	x->slots = calloc(n ? n : 1, sizeof(*x->slots));
	if (!x->slots) {
		rc = -ENOMEM;
		goto out_free;
	}
	for (i = 0; i < n; i++) {
		struct vip_slot *s = &x->slots[i];

		s->l = vips[i];
		s->l.ifname[sizeof(s->l.ifname) - 1] = '\0';
		s->x = x;
		s->idx = i;
		res_addr_format(&s->l.addr, s->text, sizeof(s->text));
	}

	rc = nl_open(&x->nl);
	if (rc < 0)
		goto out_free;
	if (cfg->announce_count) {
		rc = vip_announce_new(want4, want6, &x->ann);
		if (rc < 0)
			goto out_free;
	}
	*out = x;
	return 0;

out_free:
	vip_exec_free(x);
	return rc;
}

int vip_exec_scan(struct vip_exec *x, bool *held)
{
	size_t i;
	int rc;

	rc = exec_dump(x);
	if (rc < 0)
		return rc;
	for (i = 0; i < x->n; i++)
		held[i] = x->slots[i].present;
	return 0;
}

/*
 * Floating IPv4 addresses are often the only ones of their subnet on an
 * interface, so the first one added becomes the subnet's primary, and the
 * kernel deletes every secondary along with a primary unless
 * promote_secondaries is set (its default is 0; only systemd's sysctl
 * defaults change it).  Releasing one address would then drop its siblings.
 * Set it on the interface before touching its addresses; a failure is
 * logged, the reconcile path would still restore what was dropped.
 */
static void promote_secondaries(struct vip_slot *s)
{
	char path[64 + CHORUS_NAME_MAX];
	char cur = 0;
	int fd;

	if (s->l.addr.family != 4)
		return;
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/promote_secondaries",
		 s->l.ifname);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	if (read(fd, &cur, 1) != 1 || cur != '1') {
		if (pwrite(fd, "1\n", 2, 0) != 2 && rl_log(&s->rl, -errno))
			vip_log(s, LOG_WARNING, "cannot set promote_secondaries: %s",
				strerror(errno));
	}
	close(fd);
}

int vip_exec_acquire(struct vip_exec *x, size_t idx)
{
	struct vip_slot *s;
	bool added;
	int rc;

	if (idx >= x->n)
		return -EINVAL;
	s = &x->slots[idx];
	rc = slot_resolve(s);
	if (rc < 0)
		goto out_fail;
	promote_secondaries(s);
	rc = nl_addr(x->nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &s->l.addr, s->ifindex,
		     x->cfg.lifetime_s);
	added = rc == 0;
	if (rc == -EEXIST)
		rc = nl_addr(x->nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, &s->l.addr,
			     s->ifindex, x->cfg.lifetime_s);
	if (rc < 0)
		goto out_fail;

	if (added || !s->intended) {
		vip_log(s, LOG_NOTICE, "acquired%s", added ? "" : " (already present)");
		announce_start(x, s);
	}
	s->intended = true;
	slot_ok(s);
	return 0;

out_fail:
	/* Not marked intended: the core hears the failure and may place the
	 * address elsewhere, so we must not bring it up later behind its back.
	 * A re-acquire of an address already intended keeps it intended. */
	vip_log(s, LOG_WARNING, "cannot acquire: %s " QB_XS " rc=%d", strerror(-rc), rc);
	return rc;
}

int vip_exec_adopt(struct vip_exec *x, size_t idx)
{
	struct vip_slot *s;
	int rc;

	if (idx >= x->n)
		return -EINVAL;
	s = &x->slots[idx];
	rc = slot_resolve(s);
	if (rc < 0)
		return rc;
	/* IPv4 RTM_NEWADDR creates even without NLM_F_CREATE, so look first */
	rc = exec_dump(x);
	if (rc < 0)
		return rc;
	if (!s->present)
		return -ENOENT;
	rc = nl_addr(x->nl, RTM_NEWADDR, NLM_F_REPLACE, &s->l.addr, s->ifindex, x->cfg.lifetime_s);
	if (rc < 0)
		return rc;
	s->intended = true;
	slot_ok(s);
	vip_log(s, LOG_NOTICE, "adopted (still present), not announced");
	return 0;
}

int vip_exec_release(struct vip_exec *x, size_t idx)
{
	struct vip_slot *s;
	int rc;

	if (idx >= x->n)
		return -EINVAL;
	s = &x->slots[idx];
	s->intended = false;
	announce_stop(x, s);
	memset(&s->rl, 0, sizeof(s->rl));
	rc = slot_resolve(s);
	if (rc < 0)
		return rc == -ENODEV ? 0 : rc;
	promote_secondaries(s);
	rc = nl_addr(x->nl, RTM_DELADDR, 0, &s->l.addr, s->ifindex, 0);
	if (rc == 0) {
		vip_log(s, LOG_NOTICE, "released");
		return 0;
	}
	if (del_gone(rc))
		return 0;
	vip_log(s, LOG_ERR, "cannot release: %s " QB_XS " rc=%d", strerror(-rc), rc);
	return rc;
}

void vip_exec_release_all(struct vip_exec *x)
{
	size_t i;

	for (i = 0; i < x->n; i++)
		vip_exec_release(x, i);
}

void vip_exec_free(struct vip_exec *x)
{
	size_t i;

	if (!x)
		return;
	for (i = 0; x->slots && i < x->n; i++)
		announce_stop(x, &x->slots[i]);
	vip_announce_free(x->ann);
	nl_close(x->nl);
	free(x->slots);
	free(x);
}

int vip_cleanup(const struct vip_local *vips, size_t n)
{
	struct vip_nl *nl = NULL;
	unsigned int ifindex;
	char text[CHORUS_ADDR_STRLEN];
	int removed = 0, first_err = 0;
	size_t i;
	int rc;

	rc = nl_open(&nl);
	if (rc < 0)
		return rc;
	for (i = 0; i < n; i++) {
		if (vip_local_check(&vips[i]) < 0) {
			first_err = first_err ? first_err : -EINVAL;
			continue;
		}
		ifindex = if_nametoindex(vips[i].ifname);
		if (!ifindex)
			continue;
		rc = nl_addr(nl, RTM_DELADDR, 0, &vips[i].addr, ifindex, 0);
		res_addr_format(&vips[i].addr, text, sizeof(text));
		if (rc == 0) {
			qb_log(LOG_NOTICE, "vip %s dev %s: removed by cleanup", text,
			       vips[i].ifname);
			removed++;
		} else if (!del_gone(rc)) {
			qb_log(LOG_ERR, "vip %s dev %s: cannot remove: %s " QB_XS " rc=%d", text,
			       vips[i].ifname, strerror(-rc), rc);
			first_err = first_err ? first_err : rc;
		}
	}
	nl_close(nl);
	return first_err ? first_err : removed;
}
