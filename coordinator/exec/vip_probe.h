/*
 * Expiry probes: does anyone on a segment still answer for an address?
 *
 * A node that stopped renewing its addresses (a frozen daemon, one that
 * died with its kernel alive) has them removed by its kernel once their
 * lifetime runs out, but the kernel may do that up to expiry_margin_ms late
 * (it checks lifetimes at whole-second boundaries).  The new owner waits out
 * that margin unless it can see the address is already gone: this asks the
 * segment, as RFC 5227 address conflict detection does (IPv4: an ARP probe,
 * sender address 0.0.0.0; IPv6: a neighbour solicitation to the address's
 * solicited-node group), and reports whether any other host answered.
 *
 * Two probes 20 ms apart, and 60 ms to answer: a kernel answers ARP and ND
 * from softirq, frozen daemon or not, in well under a millisecond on a LAN.
 * Anything that goes wrong (no such interface, no Ethernet address, a send
 * that fails) reports "answered": the caller then waits the margin out as
 * it would without probes.  Everything runs on the loop, nothing blocks.
 */
#ifndef CHORUS_VIP_PROBE_H
#define CHORUS_VIP_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include <qb/qbloop.h>

#include "core/res.h"

struct vip_probe;

/* From the first probe to "nobody answered". */
#define VIP_PROBE_WAIT_MS 60u

/* Called once per vip_probe_start: 'answered' when some other host claimed
 * the address or the probe could not be made.  From the loop, except when
 * VIP_PROBE_MAX probes are out or memory ran out: then from inside
 * vip_probe_start. */
typedef void (*vip_probe_fn)(void *ud, size_t idx, bool answered);

int vip_probe_new(qb_loop_t *loop, vip_probe_fn fn, void *ud, struct vip_probe **out);

/* Probe for 'addr' out of interface 'ifname'; 'idx' is passed back.  At most
 * VIP_PROBE_MAX at once (more report "answered" at once).  Returns 0; the
 * answer comes through the callback in any case. */
#define VIP_PROBE_MAX 256
int vip_probe_start(struct vip_probe *p, const struct res_addr *addr, const char *ifname,
		    size_t idx);

/* Cancel what is in flight (no callbacks) and free.  Accepts NULL. */
void vip_probe_free(struct vip_probe *p);

#endif
