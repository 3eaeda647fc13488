/*
 * Gratuitous ARP and unsolicited neighbour advertisement.
 *
 * IPv4: CTDB's ctdb_sys_send_arp() sends each announcement twice, once as an
 * ARP request (target MAC zero) and once as an ARP reply (target MAC ours),
 * both with sender and target IP set to the moved address and broadcast at
 * the Ethernet layer.  Linux updates an existing neighbour entry from either,
 * but some switches and older stacks only look at one of the two, so we send
 * both.  We use a cooked AF_PACKET socket (SOCK_DGRAM), so the kernel writes
 * the Ethernet header from the sockaddr_ll we pass; its protocol is 0 so it
 * is never handed received frames that nobody would read.
 *
 * IPv6: RFC 4861 7.2.6.  One NA to ff02::1 with the override flag set and a
 * target link-layer address option, sourced from the address itself, hop
 * limit 255 (receivers drop ND with any other).  The raw ICMPv6 socket has
 * the kernel fill in the checksum, picks the interface and source per packet
 * with IPV6_PKTINFO (so one socket serves every interface), and blocks every
 * ICMPv6 type on receive for the same reason as above.
 *
 * Both sockets are non-blocking: a full transmit queue costs one
 * announcement, never the loop.
 */
#include "exec/vip_announce.h"

#include <errno.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct vip_announce {
	int pkt_fd;   /* AF_PACKET for ARP, or -1 */
	int icmp6_fd; /* raw ICMPv6 for NA, or -1 */
};

/* sender MAC + sender IP + target MAC + target IP, after struct arphdr */
#define ARP_BODY_SIZE (2 * ETH_ALEN + 2 * 4)

static int open_packet(void)
{
	int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	return fd < 0 ? -errno : fd;
}

static int open_icmp6(void)
{
	struct icmp6_filter filt;
	int hops = 255;
	int off = 0;
	int fd;

	fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	if (fd < 0)
		return -errno;
	ICMP6_FILTER_SETBLOCKALL(&filt);
	if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filt, sizeof(filt)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &off, sizeof(off)) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

int vip_announce_new(bool want4, bool want6, struct vip_announce **out)
{
	struct vip_announce *a;
	int rc;

	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->pkt_fd = -1;
	a->icmp6_fd = -1;
	if (want4) {
		rc = open_packet();
		if (rc < 0)
			goto out_free;
		a->pkt_fd = rc;
	}
	if (want6) {
		rc = open_icmp6();
		if (rc < 0)
			goto out_free;
		a->icmp6_fd = rc;
	}
	*out = a;
	return 0;

out_free:
	vip_announce_free(a);
	return rc;
}

void vip_announce_free(struct vip_announce *a)
{
	if (!a)
		return;
	if (a->pkt_fd >= 0)
		close(a->pkt_fd);
	if (a->icmp6_fd >= 0)
		close(a->icmp6_fd);
	free(a);
}

/*
 * Look up the interface's MAC, refusing interfaces where an announcement
 * means nothing: no Ethernet address (tun, ipip), loopback, or ARP disabled
 * (IPv4 only; NOARP says nothing about neighbour discovery).  Asked on every
 * send rather than cached, because a bond or a re-created interface can
 * change its address between two bursts.
 */
int vip_iface_mac(int fd, const char *ifname, bool need_arp, uint8_t mac[ETH_ALEN])
{
	struct ifreq ifr;

	if (strlen(ifname) >= sizeof(ifr.ifr_name))
		return -EINVAL;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	if ((ifr.ifr_flags & IFF_LOOPBACK) || (need_arp && (ifr.ifr_flags & IFF_NOARP)))
		return -EOPNOTSUPP;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		return -errno;
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		return -EOPNOTSUPP;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	return 0;
}

static void arp_build(uint8_t *buf, uint16_t op, const uint8_t mac[ETH_ALEN], const uint8_t ip[4])
{
	struct arphdr ah = {
	    .ar_hrd = htons(ARPHRD_ETHER),
	    .ar_pro = htons(ETH_P_IP),
	    .ar_hln = ETH_ALEN,
	    .ar_pln = 4,
	    .ar_op = htons(op),
	};
	uint8_t *p = buf;

	memcpy(p, &ah, sizeof(ah));
	p += sizeof(ah);
	memcpy(p, mac, ETH_ALEN);
	p += ETH_ALEN;
	memcpy(p, ip, 4);
	p += 4;
	/* a request asks about nobody; a reply answers ourselves */
	if (op == ARPOP_REPLY)
		memcpy(p, mac, ETH_ALEN);
	else
		memset(p, 0, ETH_ALEN);
	p += ETH_ALEN;
	memcpy(p, ip, 4);
}

static int send_garp(struct vip_announce *a, const struct res_addr *addr, const char *ifname,
		     unsigned int ifindex)
{
	static const uint16_t ops[] = {ARPOP_REQUEST, ARPOP_REPLY};
	uint8_t buf[sizeof(struct arphdr) + ARP_BODY_SIZE];
	struct sockaddr_ll sll;
	uint8_t mac[ETH_ALEN];
	size_t i;
	int rc;

	if (a->pkt_fd < 0)
		return -EBADF;
	rc = vip_iface_mac(a->pkt_fd, ifname, true, mac);
	if (rc < 0)
		return rc;

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ARP);
	sll.sll_ifindex = (int)ifindex;
	sll.sll_halen = ETH_ALEN;
	memset(sll.sll_addr, 0xff, ETH_ALEN);

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		arp_build(buf, ops[i], mac, addr->bytes);
		if (sendto(a->pkt_fd, buf, sizeof(buf), 0, (struct sockaddr *)&sll, sizeof(sll)) <
		    0)
			return -errno;
	}
	return 0;
}

static int send_na(struct vip_announce *a, const struct res_addr *addr, const char *ifname,
		   unsigned int ifindex)
{
	uint8_t pkt[sizeof(struct nd_neighbor_advert) + sizeof(struct nd_opt_hdr) + ETH_ALEN];
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} cbuf;
	struct nd_neighbor_advert na;
	struct nd_opt_hdr opt;
	struct sockaddr_in6 dst;
	struct in6_pktinfo pi;
	struct cmsghdr *cm;
	struct msghdr msg;
	struct iovec iov;
	uint8_t mac[ETH_ALEN];
	int rc;

	if (a->icmp6_fd < 0)
		return -EBADF;
	rc = vip_iface_mac(a->icmp6_fd, ifname, false, mac);
	if (rc < 0)
		return rc;

	memset(&na, 0, sizeof(na));
	na.nd_na_type = ND_NEIGHBOR_ADVERT;
	na.nd_na_code = 0;
	/* unsolicited, so not S; O so receivers replace the old owner's MAC */
	na.nd_na_flags_reserved = ND_NA_FLAG_OVERRIDE;
	memcpy(&na.nd_na_target, addr->bytes, 16);
	opt.nd_opt_type = ND_OPT_TARGET_LINKADDR;
	opt.nd_opt_len = 1; /* in units of 8 bytes: header + MAC */
	memcpy(pkt, &na, sizeof(na));
	memcpy(pkt + sizeof(na), &opt, sizeof(opt));
	memcpy(pkt + sizeof(na) + sizeof(opt), mac, ETH_ALEN);

	memset(&dst, 0, sizeof(dst));
	dst.sin6_family = AF_INET6;
	dst.sin6_addr.s6_addr[0] = 0xff; /* ff02::1, all nodes */
	dst.sin6_addr.s6_addr[1] = 0x02;
	dst.sin6_addr.s6_addr[15] = 0x01;
	dst.sin6_scope_id = ifindex;

	memset(&pi, 0, sizeof(pi));
	memcpy(&pi.ipi6_addr, addr->bytes, 16);
	pi.ipi6_ifindex = ifindex;

	memset(&cbuf, 0, sizeof(cbuf));
	iov.iov_base = pkt;
	iov.iov_len = sizeof(pkt);
	memset(&msg, 0, sizeof(msg));
	msg.msg_name = &dst;
	msg.msg_namelen = sizeof(dst);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf.buf;
	msg.msg_controllen = sizeof(cbuf.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = IPPROTO_IPV6;
	cm->cmsg_type = IPV6_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(cm), &pi, sizeof(pi));

	if (sendmsg(a->icmp6_fd, &msg, 0) < 0)
		return -errno;
	return 0;
}

int vip_announce_send(struct vip_announce *a, const struct res_addr *addr, const char *ifname,
		      unsigned int ifindex)
{
	if (addr->family == 4)
		return send_garp(a, addr, ifname, ifindex);
	if (addr->family == 6)
		return send_na(a, addr, ifname, ifindex);
	return -EAFNOSUPPORT;
}
