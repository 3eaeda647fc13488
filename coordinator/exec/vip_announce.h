/*
 * Address announcements for the VIP executor (internal to vip.c).
 *
 * After a floating address lands on a node, neighbours still map it to the
 * previous owner's MAC until their caches expire.  One announcement tells them
 * at once: for IPv4 a gratuitous ARP sent both as request and as reply (as
 * CTDB does, because some stacks only update on one of the two), for IPv6 an
 * unsolicited neighbour advertisement with the override flag to ff02::1.
 * vip.c repeats it on loop timers; this module only builds and sends frames.
 */
#ifndef CHORUS_VIP_ANNOUNCE_H
#define CHORUS_VIP_ANNOUNCE_H

#include <stdbool.h>

#include "core/res.h"

struct vip_announce;

/* Open the sockets needed: an AF_PACKET socket when 'want4', a raw ICMPv6
 * socket when 'want6'.  Neither receives anything.  Needs CAP_NET_RAW.
 * Returns 0 or -errno. */
int vip_announce_new(bool want4, bool want6, struct vip_announce **out);

/* Send one announcement of 'addr' out of interface 'ifname' / 'ifindex'
 * (IPv4: an ARP request and an ARP reply; IPv6: one NA).  Never blocks.
 * Returns 0, -EOPNOTSUPP when the interface has no Ethernet address or does
 * not do ARP (nothing to announce), or another -errno. */
int vip_announce_send(struct vip_announce *a, const struct res_addr *addr, const char *ifname,
		      unsigned int ifindex);

/* The Ethernet address of 'ifname' (asked through any socket 'fd'): 0, or
 * -EOPNOTSUPP for loopback, a non-Ethernet interface, or, when 'need_arp',
 * one with ARP off; another -errno when it cannot be read. */
int vip_iface_mac(int fd, const char *ifname, bool need_arp, uint8_t mac[6]);

/* Close the sockets and free.  Accepts NULL. */
void vip_announce_free(struct vip_announce *a);

#endif
