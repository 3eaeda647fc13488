/*
 * Internals of the state machine, shared by state.c (events, messages, local
 * actuation, timers) and state_round.c (round completion, the replicated
 * resource table, placement).
 */
#ifndef CHORUS_CORE_STATE_PRIVATE_H
#define CHORUS_CORE_STATE_PRIVATE_H

#include "core/place.h"
#include "core/state.h"
#include "core/wire.h"
#include "core/load.h"

/* Local actuation state of one of this node's declared VIPs. */
enum local_state {
	L_NONE = 0,
	L_ACQUIRING,
	L_HELD,
	L_RELEASING,
};

struct member {
	uint32_t nodeid;
	uint32_t pid;
	uint64_t incarnation;	/* learned from its messages; 0 until then */
	bool have_state;	/* STATE for the current token arrived */
	bool excluded;		/* excluded by EXCLUDE or SUSPECT; sticky until it
				 * leaves the group (it rejoins as a new member) */
	bool suspected;		/* excluded by SUSPECT: its daemon fell silent */
	bool suspect_sent;	/* local: we multicast SUSPECT for it in this view */
	uint16_t proto_max;	/* what its last STATE advertised, 0 = none yet */
	uint64_t last_ms;	/* local: its last delivered message, or when it joined */
	uint32_t n_msgs;	/* messages delivered from it since this view began:
				 * the same on every member at the same point */
	struct res_addr *susp_addrs;	/* what its SUSPECT said it held, until the
					 * records for its bricks are made */
	size_t n_susp_addrs;
	bool leaving;
	bool excl_clean;	/* said LEAVING clean: all its bricks are stopped */
	uint64_t join_cc;	/* our confchg count when it appeared */
	uint32_t health;
	struct res_addr *unserv;	/* addresses it cannot serve now, sorted */
	size_t n_unserv;
	struct res_addr *unserv_conf;	/* the confirmed part: what placement moves off it */
	size_t n_unserv_conf;
	struct wire_state snap;	/* its STATE for the current round */
	/* What its last PING said it owns and has not brought up yet (still
	 * adding, probing, waiting for a hold-off, starting a brick): status
	 * only, so that other nodes do not say "up" for it.  Sorted. */
	struct res_addr *not_up;
	size_t n_not_up;
	/* hold-back budget (state_msg.c): bytes charged to it in hold period
	 * 'hold_period', and whether it was cut in that period.  Never carried
	 * over a confchg: a joiner starts from zero, so must everyone. */
	uint64_t hold_period;
	size_t hold_bytes;
	bool hold_cut;
};

/* A resource accounted to a node that is gone from the group but not known
 * dead: its daemon died (or hung) while its node stayed in the corosync ring.
 * The addresses stay with it until its restart grace runs out
 * (GRACE_EXPIRED), its node leaves the ring, or it comes back. */
struct absent_res {
	struct res_addr addr;
	char pool[CHORUS_NAME_MAX];
};

/* kind WIRE_ABSENT_GRACE: the daemon is gone but the node is in the ring.
 * kind WIRE_ABSENT_FENCE: the node left the ring; only its exclusive
 * resources are recorded, and they stay until it is known down (FENCED,
 * or GRACE_EXPIRED in fence mode "grace") or it comes back. */
struct absent {
	uint32_t nodeid;
	uint8_t kind;
	uint64_t since;		/* ring seq when recorded: replicated tie-break */
	size_t n_res;
	struct absent_res *res;
	/* local only */
	uint64_t deadline_ms;
	bool expiry_sent;
	bool fence_busy;	/* our CORE_ACT_FENCE for it is running */
	uint64_t fence_retry_ms;
	bool in_state;		/* in the STATE we sent at this round's start */
	bool merged;		/* replaced from a snapshot in this round's merge */
};

/* One entry of the replicated resource table. */
struct rent {
	struct res_addr addr;
	uint32_t pool;		/* index into core.pools */
	uint32_t owner;		/* nodeid, 0 = none */
	uint32_t from;		/* nodeid that must release before owner takes, 0 = none */
	uint32_t fixed;		/* nodeid of an absent holder whose grace runs, 0 = none */
	struct place_bits decl;	/* slots that declared it */
	uint32_t local;		/* index into cfg vips, or UINT32_MAX */
	bool announced;		/* local: RELEASED already sent for this 'from' */
	uint32_t prev;		/* holder the last placement started from */
	bool continuing;	/* the last placement kept a pending handover */
	bool excl;		/* exclusive (a brick), from the replicated set */
	uint32_t set;		/* its replica/disperse set (rule 8), 0 = none / below v5 */
	uint32_t changed_at;	/* epoch of the placement that last changed owner/from */
};

/* A peer node as this process knows it, kept across views (local). */
struct peer {
	uint32_t nodeid;
	uint64_t last_from_ms;	/* local time its last message was delivered */
	bool has_timing;
	struct wire_timing timing;	/* from its last STATE */
};

/*
 * An address that a lost or unresponsive node may still hold: we do not
 * take it before 'until_ms' (local).  Local knowledge, shared with joiners
 * in STATE so a node that did not see the loss waits as long.
 */
struct holdoff {
	struct res_addr addr;
	uint32_t nodeid;
	uint64_t until_ms;
	/* From then on only the kernel's lateness is waited for: a probe that
	 * nobody answers ends the hold-off (0 = never, e.g. learnt from STATE) */
	uint64_t probe_ms;
	/* An unanswered probe ends the hold-off here at the earliest (0: at
	 * once): the quiet limit of a node that left the ring, which is probed
	 * from a probe's length before it so that the answer lands there. */
	uint64_t floor_ms;
	/* Held off for more than one node (a second lost while the first's
	 * wait ran): 'nodeid' is only the one with the later end, so neither
	 * node's return, RELEASED or fencing may end it early; it runs out. */
	bool mixed;
};

/* The hold-back budget (state_msg.c says why and how): what one sender may
 * have charged while a round is open, what all may before each is held to
 * its fair share, and the charge per message on top of its size. */
#define CORE_HOLD_SENDER_MAX (4u << 20)
#define CORE_HOLD_TOTAL_MAX (8u << 20)
#define CORE_HOLD_MSG_COST 64u

struct queued {
	uint32_t nodeid;
	uint32_t pid;
	uint8_t *buf;
	size_t size;
};

struct admin {
	uint64_t generation;
	bool maintenance;
	size_t n_standby;
	uint32_t *standby;
	size_t n_pins;
	struct wire_pin *pins;
};

/* What re-ran placement (core_table_why() names it). */
enum core_why {
	CORE_WHY_NONE,
	CORE_WHY_MEMBERSHIP,
	CORE_WHY_OPERATOR,
	CORE_WHY_HEALTH,
	CORE_WHY_REBALANCE,
	CORE_WHY_LOAD,
	CORE_WHY_LEAVING,
	CORE_WHY_LOST,
	CORE_WHY_UNRESPONSIVE,
};

struct core {
	struct core_config cfg;
	struct vip_def *vips;		/* cfg.vips copy */
	uint16_t proto;

	/* view */
	bool in_view;			/* our own (nodeid, pid) is in the member list */
	bool have_ring;
	bool wait_totem;
	struct core_ring ring;
	uint32_t *totem;		/* corosync nodes of the current ring */
	size_t n_totem;
	struct member *members;		/* sorted by (nodeid, pid) */
	size_t n_members;
	uint32_t *departed;		/* nodeids that left since the last round start */
	size_t n_departed;
	uint32_t *clean;		/* of those, the ones that left with no brick running */
	size_t n_clean;
	uint64_t token;
	uint64_t cc_count;		/* classic confchgs seen */
	uint64_t totem_cc;		/* cc_count at the last totem confchg */
	bool round_active;
	bool round_done;
	bool had_round;			/* a round completed since we joined */
	bool fast_ok;			/* this change only took members from a settled view */
	bool fast_placed;		/* placed from the table at the change; a round confirms */
	struct res_addr *fast_addr;	/* what that placement gave whom, sorted by address, */
	uint32_t *fast_owner;		/* for the round to account it as held */
	size_t n_fast;
	uint64_t round_deadline_ms;
	bool exclude_sent;
	bool timeout_extended;

	/* quorum, as last reported (its own stream) */
	bool q_known;
	bool q_quorate;
	struct core_ring q_ring;

	/* replicated */
	struct admin admin;
	char (*pools)[CHORUS_NAME_MAX];
	size_t n_pools;
	struct rent *res;		/* sorted by address */
	size_t n_res;
	uint32_t *slots;		/* slot -> nodeid, ascending */
	size_t n_slots;
	struct absent *absent;		/* sorted by nodeid */
	size_t n_absent;
	struct res_addr *excl;		/* exclusive addresses, sorted; empty below v3 */
	size_t n_excl;
	struct wire_set *sets;		/* set of each address that has one, sorted;
					 * empty below v5 */
	size_t n_sets;
	struct wire_node *known;	/* configured / seen (accounted) nodes, sorted */
	size_t n_known;
	uint32_t *cfg_nodes;		/* cfg.nodes copy */
	uint32_t epoch;			/* placements in this view: ties RELEASED to one */
	struct queued *queue;		/* deliveries held back during a round */
	size_t n_queue;

	/* local */
	uint8_t *lstate;		/* per cfg vip: enum local_state */
	uint32_t *lres;			/* per cfg vip: index into res, or UINT32_MAX */
	uint64_t *lretry_ms;		/* per cfg vip: earliest retry after a failure */
	uint64_t *lprobe_ms;		/* per cfg vip: earliest next expiry probe */
	uint8_t *lprobing;		/* per cfg vip: a probe is out */
	struct res_addr *released;	/* RELEASED batch being built in this step */
	size_t n_released;
	uint32_t health;		/* our own health flags, carried in STATE */
	bool *lunserv;			/* per cfg vip: we cannot serve it now */
	bool *lunserv_conf;		/* per cfg vip: what we last confirmed */
	uint64_t health_confirm_at;	/* local: when to confirm new failures, 0 = none */
	uint64_t last_self_ms;		/* local: last delivery of one of our messages */
	bool hung;			/* corosync delivered nothing past the limit: release all */
	enum core_why table_why;	/* what made the table change last */
	uint64_t conf_dig[WIRE_MAX_CONF];	/* cfg.conf points here */
	/* After a hang corosync may first deliver in the ring it had, which
	 * the others may have left long ago: still released until corosync
	 * shows a new ring, or a peer speaks after our own fresh PING. */
	bool hang_unsure;
	bool hang_ping_back;		/* that PING (hang_nonce) came back */
	uint64_t hang_ping_ms;		/* local: when */
	uint32_t hang_nonce;
	uint64_t hang_end_ms;		/* local: corosync delivered again */
	struct core_ring hang_ring;	/* the ring we had when it hung */
	uint64_t last_any_ms;		/* local: last CPG delivery of any kind */
	uint64_t pre_gap_ms;		/* local: last delivery before the latest gap */
	bool gap_since_cc;		/* local: a gap ended since the last confchg */
	uint64_t depart_ref_ms;		/* local: when the ring last worked, for departures */
	uint64_t view_start_ms;		/* local: the latest confchg */
	uint64_t first_view_ms;		/* local: when we first joined the group */
	uint64_t last_step_ms;		/* local: previous step, to notice our own stalls */
	uint64_t last_send_ms;		/* local: last SEND we emitted */
	uint64_t hb_next_ms;		/* local: next heartbeat */
	bool revalidating;		/* stalled: no renewal until our PING is back */
	uint32_t reval_nonce;
	bool suspected_self;		/* SUSPECT named us: release all, then rejoin */
	struct peer *peers;		/* sorted by nodeid */
	size_t n_peers;
	struct holdoff *holdoffs;	/* sorted by address */
	size_t n_holdoffs;
	bool leaving;
	bool leave_sent;
	bool leave_done;
	bool leave_wait_excl;
	bool clean_sent;		/* handover timed out: leave once bricks are stopped */
	uint64_t leave_deadline_ms;
	uint64_t exit_deadline_ms;
	bool ready_sent;
	bool cluster_lost;
	bool rebalance_armed;
	bool place_rebalance;		/* the last placement rebalanced counts */
	uint64_t rebalance_at_ms;
	uint64_t now_ms;

	struct core_counters ctr;
	struct wire_buf wb;
	uint64_t digest;		/* core_digest_get(): valid unless digest_stale */
	bool digest_stale;
	uint64_t digest_token;		/* the token it is to be computed with */
	uint64_t table_gen;		/* core_table_gen() */
	int err;			/* sticky -ENOMEM inside one step */
	struct core_load *load;		/* load.c: replicated reports, local measurements */
};

/* state.c */
struct member *core_member_find(struct core *c, uint32_t nodeid, uint32_t pid);
bool core_is_member_nodeid(const struct core *c, uint32_t nodeid);	/* and not excluded */
bool core_has_nodeid(const struct core *c, uint32_t nodeid);		/* excluded or not */
bool core_in_totem(const struct core *c, uint32_t nodeid);
void core_act(struct core *c, struct core_actions *out, const struct core_action *a);
/* Queue the message encoded in c->wb as a SEND action (copied). */
void core_emit_send(struct core *c, struct core_actions *out);
void core_send_small(struct core *c, struct core_actions *out, enum wire_type type,
		     uint64_t token, const struct wire_small *sm);
void core_apply_delivery(struct core *c, struct core_actions *out, uint32_t nodeid,
			 uint32_t pid, const void *buf, size_t size);
void core_absent_free(struct absent *a);
/* Local vip 'i' is exclusive.  Inline: local_reconcile() asks for every
 * local vip after every step. */
static inline bool core_vip_excl(const struct core *c, size_t i)
{
	return (c->vips[i].flags & VIP_F_EXCLUSIVE) != 0;
}
bool core_is_excl(const struct core *c, const struct res_addr *addr);
void core_admin_clear(struct admin *a);

#endif
