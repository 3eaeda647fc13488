/*
 * What absent nodes may still hold (state_absent.c, state_sets.c):
 * exclusive resources awaiting fencing, configured and seen nodes, the
 * replicated replica/disperse sets.
 * Private to the core: the types are in state_private.h.
 */
#ifndef CHORUS_CORE_STATE_ABSENT_H
#define CHORUS_CORE_STATE_ABSENT_H

#include "core/state_private.h"

/* state_absent.c */
int core_excl_merge(struct core *c);
int core_excl_build(const struct core *c, struct wire_state *st);
/* state_sets.c: the replicated replica/disperse sets (STATE extension 5) */
int core_sets_merge(struct core *c);
int core_sets_build(const struct core *c, struct wire_state *st);
void core_sets_declare(struct core *c, const uint32_t *set);
uint32_t core_set_of(const struct core *c, const struct res_addr *addr);
int core_absent_record(struct core *c, uint32_t nodeid, uint8_t kind, bool from_table,
		       const struct res_addr *extra, size_t n_extra);
void core_absent_prune(struct core *c);
void core_absent_merge(struct core *c);
int core_known_build(const struct core *c, struct wire_state *st);
int core_known_merge(struct core *c);
void core_absent_unseen(struct core *c);
void core_absent_apply_grace(struct core *c, struct core_actions *out,
			     const struct wire_small *sm);
void core_absent_apply_fenced(struct core *c, struct core_actions *out, uint32_t sender,
			      const struct wire_small *sm);
void core_absent_tick(struct core *c, struct core_actions *out, bool quorate);
uint64_t core_absent_next(const struct core *c, bool quorate);
void core_absent_fence_done(struct core *c, struct core_actions *out, uint32_t node, int err);
/* CORE_EV_FENCE_CONFIRM: multicast that the operator powered 'nodeid' off. */
int core_absent_confirm(struct core *c, uint32_t nodeid, struct core_actions *out);

#endif
