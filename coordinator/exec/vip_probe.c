/*
 * Expiry probes (vip_probe.h says what and why).
 *
 * IPv4 uses one cooked AF_PACKET socket for ARP (the kernel writes the
 * Ethernet header), shared by every IPv4 probe and kept open: binding a
 * packet socket to a protocol, and closing it, each wait for a kernel RCU
 * grace period (8-22 ms measured on a 2-core VM), so a socket per probe
 * blocked the loop about 30 ms per address and a lost node's addresses came
 * up one by one.  Opened with protocol 0 and then bound, it waits for
 * nothing; it takes ARP from every interface and each answer is matched by
 * interface and address.  Between probes a filter that drops everything
 * keeps its queue empty (swapping filters waits for nothing either).
 * A queue overrun during probes may have dropped a claim, so it makes
 * every IPv4 probe in flight read as answered.
 *
 * IPv6 uses a raw ICMPv6 socket per probe (cheap to open and close) that
 * lets only neighbour advertisements through, bound to the interface, the
 * kernel picking the link-local source and computing the checksum.
 *
 * Only "nobody answered" shortens a wait, so everything uncertain reads as
 * answered: a frame we cannot parse is ignored, but a socket or send error
 * ends the probe as answered.  A forged answer can only make the caller
 * wait as it would without probes.
 */
#include "exec/vip_probe.h"
#include "exec/vip_announce.h"

#include <errno.h>
#include <linux/filter.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <qb/qblog.h>

#define PROBE_RESEND_MS 20u	/* the second probe, in case the first was lost */
#define PROBE_WAIT_MS VIP_PROBE_WAIT_MS

struct slot {
	struct vip_probe *p;
	size_t idx;
	struct res_addr addr;
	char ifname[IF_NAMESIZE];
	unsigned int ifindex;
	uint8_t mac[ETH_ALEN];
	int fd;
	unsigned int sent;
	qb_loop_timer_handle timer;
	bool timer_armed;
	bool polled;
	bool arp;	/* counted in arp_active: listens on the shared socket */
	bool overrun;	/* answers may have been dropped while it was out */
};

struct vip_probe {
	qb_loop_t *loop;
	vip_probe_fn fn;
	void *ud;
	struct slot *slots[VIP_PROBE_MAX];
	size_t n;
	int arp_fd;	/* the shared ARP socket, or -1 */
	bool arp_polled;
	size_t arp_active;	/* IPv4 probes out: the filter passes ARP */
};

static void arp_listen(struct vip_probe *p, bool on);

int vip_probe_new(qb_loop_t *loop, vip_probe_fn fn, void *ud, struct vip_probe **out)
{
	struct vip_probe *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return -ENOMEM;
	p->loop = loop;
	p->fn = fn;
	p->ud = ud;
	p->arp_fd = -1;
	*out = p;
	return 0;
}

static void slot_close(struct slot *s)
{
	struct vip_probe *p = s->p;

	if (s->timer_armed)
		qb_loop_timer_del(p->loop, s->timer);
	if (s->polled)
		qb_loop_poll_del(p->loop, s->fd);
	if (s->fd >= 0)
		close(s->fd);
	if (s->arp && --p->arp_active == 0)
		arp_listen(p, false);
	for (size_t i = 0; i < p->n; i++)
		if (p->slots[i] == s) {
			p->slots[i] = p->slots[--p->n];
			break;
		}
	free(s);
}

static void finish(struct slot *s, bool answered)
{
	vip_probe_fn fn = s->p->fn;
	void *ud = s->p->ud;
	size_t idx = s->idx;
	char t[CHORUS_ADDR_STRLEN];

	res_addr_format(&s->addr, t, sizeof(t));
	qb_log(LOG_DEBUG, "probe for %s on %s: %s", t, s->ifname,
	       answered ? "answered (or could not ask)" : "nobody answered");
	slot_close(s);
	fn(ud, idx, answered);
}

/* ---- IPv4: ARP probe ---- */

/* Nothing passes between probes; during them, the whole frame. */
static int arp_filter(int fd, bool pass)
{
	struct sock_filter insn = BPF_STMT(BPF_RET | BPF_K, pass ? 0x40000u : 0u);
	struct sock_fprog prog = {.len = 1, .filter = &insn};

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ? -errno : 0;
}

/* The drop counter, read and reset.  A queue overrun from now on is seen. */
static unsigned int arp_drops(int fd)
{
	/* struct tpacket_stats: <linux/if_packet.h> clashes with glibc's
	 * <netpacket/packet.h>, which lacks it */
	struct {
		unsigned int tp_packets, tp_drops;
	} st;
	socklen_t l = sizeof(st);

	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &l) < 0)
		return 1;	/* cannot tell: as if dropped */
	return st.tp_drops;
}

static void arp_overrun(struct vip_probe *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->slots[i]->arp)
			p->slots[i]->overrun = true;
}

static int32_t arp_readable(int32_t fd, int32_t revents, void *data);

static int arp_socket(struct vip_probe *p)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP)};
	int fd, rc, buf = 1 << 20;

	if (p->arp_fd >= 0)
		return 0;
	/* protocol 0: not hooked in yet, so neither the bind below nor a
	 * filter waits for a grace period */
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));	/* capped: fine */
	rc = arp_filter(fd, false);
	if (rc == 0 && bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		rc = -errno;
	if (rc == 0 && qb_loop_poll_add(p->loop, QB_LOOP_MED, fd, POLLIN, p, arp_readable) != 0)
		rc = -EIO;
	if (rc < 0) {
		close(fd);
		return rc;
	}
	p->arp_fd = fd;
	p->arp_polled = true;
	return 0;
}

/* The first IPv4 probe out lets ARP in, the last one out shuts it again.
 * Frames queued before the first (none: the filter) are left to the reader,
 * where an old claim can only read as answered. */
static void arp_listen(struct vip_probe *p, bool on)
{
	if (p->arp_fd < 0)
		return;
	if (on)
		(void)arp_drops(p->arp_fd);
	if (arp_filter(p->arp_fd, on) < 0 && on)
		arp_overrun(p);	/* hears nothing: nobody answering is not known */
}

static int arp_open(struct slot *s)
{
	struct vip_probe *p = s->p;
	int rc = arp_socket(p);

	if (rc < 0)
		return rc;
	/* no ARP there: nothing would answer even if the address were up */
	rc = vip_iface_mac(p->arp_fd, s->ifname, true, s->mac);
	if (rc < 0)
		return rc;
	s->arp = true;
	if (p->arp_active++ == 0)
		arp_listen(p, true);
	return 0;
}

static int arp_send(struct slot *s)
{
	uint8_t buf[sizeof(struct arphdr) + 2 * ETH_ALEN + 8];
	struct arphdr ah = {
		.ar_hrd = htons(ARPHRD_ETHER),
		.ar_pro = htons(ETH_P_IP),
		.ar_hln = ETH_ALEN,
		.ar_pln = 4,
		.ar_op = htons(ARPOP_REQUEST),
	};
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ARP),
		.sll_ifindex = (int)s->ifindex,
		.sll_halen = ETH_ALEN,
	};
	uint8_t *q = buf;

	/* RFC 5227 probe: our MAC, sender address 0.0.0.0, so no neighbour
	 * cache anywhere learns anything from it */
	memcpy(q, &ah, sizeof(ah));
	q += sizeof(ah);
	memcpy(q, s->mac, ETH_ALEN);
	q += ETH_ALEN;
	memset(q, 0, 4 + ETH_ALEN);
	q += 4 + ETH_ALEN;
	memcpy(q, s->addr.bytes, 4);
	memset(sll.sll_addr, 0xff, ETH_ALEN);
	if (sendto(s->p->arp_fd, buf, sizeof(buf), 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -errno;
	return 0;
}

/* An ARP request or reply from another host that says it has the address. */
static bool arp_claims(const struct slot *s, const uint8_t *b, ssize_t n)
{
	struct arphdr ah;
	uint16_t op;

	if (n < (ssize_t)(sizeof(ah) + 2 * ETH_ALEN + 8))
		return false;
	memcpy(&ah, b, sizeof(ah));
	op = ntohs(ah.ar_op);
	if (ntohs(ah.ar_hrd) != ARPHRD_ETHER || ntohs(ah.ar_pro) != ETH_P_IP ||
	    ah.ar_hln != ETH_ALEN || ah.ar_pln != 4 || (op != ARPOP_REQUEST && op != ARPOP_REPLY))
		return false;
	b += sizeof(ah);
	return memcmp(b, s->mac, ETH_ALEN) != 0 && memcmp(b + ETH_ALEN, s->addr.bytes, 4) == 0;
}

/* ---- IPv6: neighbour solicitation ---- */

static int nd_open(struct slot *s)
{
	struct icmp6_filter filt;
	int hops = 255, off = 0;
	int fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	int rc;

	if (fd < 0)
		return -errno;
	s->fd = fd;
	rc = vip_iface_mac(fd, s->ifname, false, s->mac);
	if (rc < 0)
		return rc;
	ICMP6_FILTER_SETBLOCKALL(&filt);
	ICMP6_FILTER_SETPASS(ND_NEIGHBOR_ADVERT, &filt);
	if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filt, sizeof(filt)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &off, sizeof(off)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &s->ifindex, sizeof(s->ifindex)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, s->ifname, (socklen_t)strlen(s->ifname)) <
		    0)
		return -errno;
	return 0;
}

static int nd_send(struct slot *s)
{
	uint8_t pkt[sizeof(struct nd_neighbor_solicit) + sizeof(struct nd_opt_hdr) + ETH_ALEN];
	struct nd_neighbor_solicit ns;
	struct nd_opt_hdr opt = {.nd_opt_type = ND_OPT_SOURCE_LINKADDR, .nd_opt_len = 1};
	struct sockaddr_in6 dst = {.sin6_family = AF_INET6, .sin6_scope_id = s->ifindex};

	memset(&ns, 0, sizeof(ns));
	ns.nd_ns_type = ND_NEIGHBOR_SOLICIT;
	memcpy(&ns.nd_ns_target, s->addr.bytes, 16);
	memcpy(pkt, &ns, sizeof(ns));
	memcpy(pkt + sizeof(ns), &opt, sizeof(opt));
	memcpy(pkt + sizeof(ns) + sizeof(opt), s->mac, ETH_ALEN);
	/* the target's solicited-node group, ff02::1:ffXX:XXXX (RFC 4291) */
	dst.sin6_addr.s6_addr[0] = 0xff;
	dst.sin6_addr.s6_addr[1] = 0x02;
	dst.sin6_addr.s6_addr[11] = 0x01;
	dst.sin6_addr.s6_addr[12] = 0xff;
	memcpy(&dst.sin6_addr.s6_addr[13], s->addr.bytes + 13, 3);
	if (sendto(s->fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&dst, sizeof(dst)) < 0)
		return -errno;
	return 0;
}

static bool nd_claims(const struct slot *s, const uint8_t *b, ssize_t n)
{
	struct nd_neighbor_advert na;

	if (n < (ssize_t)sizeof(na))
		return false;
	memcpy(&na, b, sizeof(na));
	return na.nd_na_type == ND_NEIGHBOR_ADVERT && na.nd_na_code == 0 &&
	       memcmp(&na.nd_na_target, s->addr.bytes, 16) == 0;
}

/* ---- the probe ---- */

static int send_one(struct slot *s)
{
	s->sent++;
	return s->addr.family == 4 ? arp_send(s) : nd_send(s);
}

/* Whether an advertisement for the address is queued on its socket. */
static bool nd_read(struct slot *s)
{
	uint8_t b[256];

	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(s->fd, b, sizeof(b), 0);

		if (n < 0)
			break;
		if (nd_claims(s, b, n))
			return true;
	}
	return false;
}

static int32_t readable(int32_t fd, int32_t revents, void *data)
{
	struct slot *s = data;

	(void)fd;
	(void)revents;
	if (nd_read(s))
		finish(s, true);	/* closes the fd, drops the poll entry */
	return 0;
}

/* One frame against every IPv4 probe out of the interface it came in on.
 * A claim finishes a probe (its callback may start others: a new probe
 * that an older frame claims reads as answered, which is safe), except
 * 'keep', whose claim is only reported. */
static bool arp_frame(struct vip_probe *p, const struct sockaddr_ll *from, const uint8_t *b,
		      ssize_t n, const struct slot *keep)
{
	bool kept = false;

	if (from->sll_pkttype == PACKET_OUTGOING)
		return false;
	for (size_t i = 0; i < p->n;) {
		struct slot *s = p->slots[i];

		if (s->arp && (int)s->ifindex == from->sll_ifindex && arp_claims(s, b, n)) {
			if (s == keep) {
				kept = true;
			} else {
				finish(s, true);	/* swaps the last slot into i */
				continue;
			}
		}
		i++;
	}
	return kept;
}

/* Read what is queued (a bounded batch: the loop comes back for the rest);
 * whether 'keep' was claimed. */
static bool arp_read(struct vip_probe *p, const struct slot *keep)
{
	uint8_t b[256];
	bool kept = false;

	for (int i = 0; i < 256 && p->arp_fd >= 0; i++) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(p->arp_fd, b, sizeof(b), 0, (struct sockaddr *)&from, &fl);

		if (n < 0)
			break;
		if (p->arp_active > 0 && arp_frame(p, &from, b, n, keep))
			kept = true;
	}
	return kept;
}

static int32_t arp_readable(int32_t fd, int32_t revents, void *data)
{
	(void)fd;
	(void)revents;
	(void)arp_read(data, NULL);
	return 0;
}

static void timer_cb(void *data)
{
	struct slot *s = data;

	s->timer_armed = false;
	if (s->sent == 0) {
		finish(s, true);	/* could not even ask */
		return;
	}
	if (s->sent == 1) {
		if (send_one(s) < 0) {
			finish(s, true);
			return;
		}
		if (qb_loop_timer_add(s->p->loop, QB_LOOP_MED,
				      (uint64_t)(PROBE_WAIT_MS - PROBE_RESEND_MS) * QB_TIME_NS_IN_MSEC,
				      s, timer_cb, &s->timer) == 0)
			s->timer_armed = true;
		else
			finish(s, true);
		return;
	}
	/* An answer may be queued with its poll not yet run: read it first. */
	if (s->arp ? arp_read(s->p, s) : nd_read(s)) {
		finish(s, true);
		return;
	}
	if (s->arp && arp_drops(s->p->arp_fd) > 0)
		arp_overrun(s->p);
	finish(s, s->overrun);
}

int vip_probe_start(struct vip_probe *p, const struct res_addr *addr, const char *ifname,
		    size_t idx)
{
	struct slot *s;
	int rc = 0;
	uint64_t first_ms = PROBE_RESEND_MS;

	if (p->n >= VIP_PROBE_MAX) {
		p->fn(p->ud, idx, true);	/* documented: at once */
		return 0;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		p->fn(p->ud, idx, true);
		return 0;
	}
	s->p = p;
	s->idx = idx;
	s->addr = *addr;
	s->fd = -1;
	p->slots[p->n++] = s;
	if (strlen(ifname) >= sizeof(s->ifname) || (s->ifindex = if_nametoindex(ifname)) == 0)
		rc = -ENODEV;
	else
		memcpy(s->ifname, ifname, strlen(ifname) + 1);
	if (rc == 0 && addr->family != 4 && addr->family != 6)
		rc = -EAFNOSUPPORT;
	if (rc == 0)
		rc = addr->family == 4 ? arp_open(s) : nd_open(s);
	if (rc == 0 && addr->family == 6) {
		if (qb_loop_poll_add(p->loop, QB_LOOP_MED, s->fd, POLLIN, s, readable) == 0)
			s->polled = true;
		else
			rc = -EIO;
	}
	if (rc == 0)
		rc = send_one(s);
	if (rc < 0) {
		char t[CHORUS_ADDR_STRLEN];

		res_addr_format(addr, t, sizeof(t));
		qb_log(LOG_INFO, "cannot probe for %s on %s (%s): waiting its margin out", t, ifname,
		       strerror(-rc));
		s->sent = 0;	/* the timer reports "answered" */
		first_ms = 0;
	}
	if (qb_loop_timer_add(p->loop, QB_LOOP_MED, first_ms * QB_TIME_NS_IN_MSEC, s, timer_cb,
			      &s->timer) == 0) {
		s->timer_armed = true;
		return 0;
	}
	slot_close(s);
	p->fn(p->ud, idx, true);
	return 0;
}

void vip_probe_free(struct vip_probe *p)
{
	if (p == NULL)
		return;
	while (p->n > 0)
		slot_close(p->slots[p->n - 1]);
	if (p->arp_polled)
		qb_loop_poll_del(p->loop, p->arp_fd);
	if (p->arp_fd >= 0)
		close(p->arp_fd);	/* the one grace period, at exit */
	free(p);
}
