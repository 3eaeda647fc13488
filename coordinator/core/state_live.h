/*
 * Peer liveness (state_live.c): heartbeats, our own stalls, silent
 * members, per-address hold-offs.
 * Private to the core: the types are in state_private.h.
 */
#ifndef CHORUS_CORE_STATE_LIVE_H
#define CHORUS_CORE_STATE_LIVE_H

#include "core/state_private.h"

/* state_live.c: heartbeats, stalls, silent members, hold-offs */
void core_live_init(struct core *c);
void core_live_free(struct core *c);
struct peer *core_peer(struct core *c, uint32_t nodeid);	/* creates; NULL on ENOMEM */
/* Bookkeeping of one delivery (any type, before it is judged).  'm' may be
 * NULL (a confchg, or an unknown sender). */
void core_live_delivered(struct core *c, struct member *m, bool is_msg);
/* A step: notice a stall of our own loop (call first). */
void core_live_step(struct core *c, struct core_actions *out);
void core_live_tick(struct core *c, struct core_actions *out);
uint64_t core_live_next(const struct core *c, uint64_t next);
/* Members that departed at this view change: hold off what they may hold. */
void core_live_departed(struct core *c, uint32_t nodeid, bool left_ring);
void core_live_apply_suspect(struct core *c, struct core_actions *out, struct member *sender,
			     const struct wire_hdr *h, const struct wire_small *sm);
/* Corosync hung or may still show a ring the others left: release all. */
bool core_live_cut_off(const struct core *c);
/* The totem confchg set c->ring: a new ring ends the doubt after a hang. */
void core_live_new_ring(struct core *c);
/* Our PING with 'nonce' came back: the stall is behind us. */
void core_live_self_ping(struct core *c, uint32_t nonce);
/* An excluded member says it released these: nothing to wait for. */
void core_live_released(struct core *c, uint32_t nodeid, const struct res_addr *v, size_t n);
/* FENCED was applied for 'nodeid': nothing of it need be waited for. */
void core_live_fenced(struct core *c, uint32_t nodeid);
bool core_holdoff_blocks(const struct core *c, const struct res_addr *addr, uint64_t *until);
/* Whether 'addr' is held off only for the kernel's lateness now (an
 * unanswered probe may end it), and ending it so. */
bool core_holdoff_probe_ok(const struct core *c, const struct res_addr *addr);
bool core_holdoff_probe_lift(struct core *c, const struct res_addr *addr);
/* The node 'addr' waits for (0 = none) and how long still, as seen by its
 * owner ('owner') or by another member. */
uint32_t core_holdoff_get(const struct core *c, const struct res_addr *addr, bool owner,
			  uint64_t *left_ms);
void core_live_suspect_records(struct core *c);
int core_holdoff_build(const struct core *c, struct wire_state *st);
void core_holdoff_merge(struct core *c);
/* After a round's table is built: what nobody claims may still be up on a
 * configured node we never saw (start-up). */
void core_holdoff_unseen(struct core *c);
void core_timing_build(const struct core *c, struct wire_state *st);
/* Suspected, or silent for longer than liveness_ms: to be excluded. */
bool core_member_silent(const struct core *c, const struct member *m);
/* What status says: silent for longer than unresponsive_ms (status only). */
bool core_member_unresponsive(const struct core *c, const struct member *m);

#endif
