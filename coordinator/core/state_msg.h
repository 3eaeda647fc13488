/*
 * Deliveries and requests (state_msg.c, admin.c): messages applied in
 * order, health verdicts, operator changes.
 * Private to the core: the types are in state_private.h.
 */
#ifndef CHORUS_CORE_STATE_MSG_H
#define CHORUS_CORE_STATE_MSG_H

#include "core/state_private.h"

/* state_msg.c */
void core_on_deliver(struct core *c, struct core_actions *out, const struct core_event *ev);

/* Replace member 'm's unservable list with a copy of 'v'; with 'confirmed'
 * the confirmed list too. */
int core_member_set_unserv(struct member *m, const struct res_addr *v, size_t n, bool confirmed);
/* What member 'm' says it owns and has not brought up (its PING). */
int core_member_set_not_up(struct member *m, const struct res_addr *v, size_t n);
/* Multicast our verdicts, pending or confirmed. */
void core_send_health(struct core *c, struct core_actions *out, bool confirmed);

/* admin.c */
/* CORE_EV_ADMIN and CORE_EV_REBALANCE: check and multicast (state.h). */
int core_admin_request(struct core *c, const struct core_admin_req *req, struct core_actions *out);
int core_admin_rebalance(struct core *c, struct core_actions *out);
void core_admin_apply(struct core *c, struct core_actions *out, uint32_t nodeid,
		      const struct wire_hdr *h, const struct wire_small *sm);
uint64_t core_ring_token(const struct core *c);

#endif
