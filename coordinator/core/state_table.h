/*
 * The replicated table and the round that builds it (state_table.c,
 * state_round.c): placement glue, digests, STATE snapshots.
 * Private to the core: the types are in state_private.h.
 */
#ifndef CHORUS_CORE_STATE_TABLE_H
#define CHORUS_CORE_STATE_TABLE_H

#include "core/state_private.h"

/* state_table.c */
#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

/* FNV-1a, inline: the digest runs it over every byte of the table. */
static inline uint64_t core_fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= FNV_PRIME;
	}
	return h;
}

/* The same over the 8 bytes of 'v', least significant first. */
static inline uint64_t core_fnv_u64(uint64_t h, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		h ^= (uint8_t)(v >> (8 * i));
		h *= FNV_PRIME;
	}
	return h;
}

long core_slot_of(const struct core *c, uint32_t nodeid);
/* The same search in an array of slots being built. */
long core_slot_in(const uint32_t *slots, size_t n, uint32_t nodeid);
bool core_member_eligible(const struct core *c, const struct member *m);
int core_build_table(struct core *c);
void core_map_local(struct core *c);
int core_run_placement(struct core *c, const uint32_t *prev, const bool *fixed,
		       const uint32_t *holder, bool rebalance, uint32_t *moves_out);

/* state_round.c */
/* Placement as a pure computation: owners (nodeid, 0 = none) per resource
 * for the given starting point, with node 'exclude' (0 = none) treated as
 * ineligible.  Touches nothing in 'c'. */
int core_place_compute(struct core *c, const uint32_t *prev, const bool *fixed, bool rebalance,
		       uint32_t exclude, uint32_t *owner_nodeid, uint32_t *moves);
/* Starting point for a re-placement outside a round, from the table. */
int core_replace_input(struct core *c, uint32_t *prev, bool *fixed, uint32_t *holder);
void core_round_start(struct core *c, struct core_actions *out);
/* Forget a leave-only placement (a new change, the view left). */
void core_fast_clear(struct core *c);
/* Who a leave-only placement gave a lost node's 'addr' to (0: nobody). */
uint32_t core_fast_owner(const struct core *c, const struct res_addr *addr);
void core_round_check(struct core *c, struct core_actions *out);
void core_round_deliver(struct core *c, struct core_actions *out, struct member *m,
			const struct wire_hdr *h, const void *buf, size_t size);
void core_round_timeout(struct core *c, struct core_actions *out);
uint64_t core_view_token(const struct core *c);
void core_leave_view(struct core *c);
/* Re-run placement on the current table ('rebalance' forces failback). */
void core_replace(struct core *c, struct core_actions *out, bool rebalance, enum core_why why);
/* The same without the completed-round check: for a leave-only change, whose
 * survivors all hold the table of the view they come from. */
void core_replace_table(struct core *c, bool rebalance, enum core_why why);
long core_res_find(const struct core *c, const struct res_addr *addr);
/* The same, trying the entry after the previous hit ('*hint', start at 0)
 * first: for lists in (mostly) the table's order. */
long core_res_find_next(const struct core *c, const struct res_addr *addr, size_t *hint);
uint32_t core_pool_intern(struct core *c, const char *name);
void core_table_clear(struct core *c);
/* The table changed (or the token it is digested with): the digest is
 * recomputed when next asked for. */
void core_update_digest(struct core *c);
uint64_t core_digest_get(const struct core *c);
int core_build_state(struct core *c, struct wire_state *st);

#endif
