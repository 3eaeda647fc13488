/*
 * The replicated state machine: step(event) -> actions.
 *
 * Every chorusd feeds the same totally ordered stream of CPG events (classic
 * and totem confchgs, delivered messages) into this machine, so every member
 * of a view computes the same assignment without a leader.  Events that are
 * local to one node (quorum notifications, executor results, timer ticks,
 * shutdown) never change the replicated state directly: where they must, the
 * machine turns them into a multicast whose delivery does it, in order, on
 * every member.
 *
 * Operator requests (standby, move, maintenance, rebalance, fence
 * confirmation) and this node's health verdicts are local events too, and
 * arrive the same way: core_step() is the only call that returns actions,
 * so whatever the daemon hands it can be logged, replayed and simulated
 * from one stream.
 *
 * The machine does no I/O and reads no clock: time arrives as 'now_ms' in
 * events and is used only for local timeouts (when to send EXCLUDE,
 * GRACE_EXPIRED or REBALANCE, when to give up a graceful handover), never
 * for a replicated decision.  qb_log is its only outside dependency.
 *
 * Ownership: events and their arrays are borrowed for the duration of
 * core_step().  Actions appended to 'out' are owned by 'out' until
 * core_actions_clear().
 */
#ifndef CHORUS_CORE_STATE_H
#define CHORUS_CORE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/res.h"

struct core_ring {
	uint32_t nodeid;
	uint64_t seq;
};

/* Values match CPG_REASON_* so the adapter can pass them straight through. */
enum core_reason {
	CORE_REASON_UNDEFINED = 0,
	CORE_REASON_JOIN = 1,
	CORE_REASON_LEAVE = 2,
	CORE_REASON_NODEDOWN = 3,
	CORE_REASON_NODEUP = 4,
	CORE_REASON_PROCDOWN = 5,
};

struct core_member {
	uint32_t nodeid;
	uint32_t pid;
	uint32_t reason;
};

enum core_failback {
	CORE_FAILBACK_AUTO,
	CORE_FAILBACK_MANUAL,
	CORE_FAILBACK_DELAY,
};

/* How a lost node's exclusive resources become free (fence.mode, chorus.json(5)). */
enum core_fence {
	CORE_FENCE_NONE,	/* never automatically: the operator confirms */
	CORE_FENCE_GRACE,	/* after fence_grace_ms: the lost node self-fenced */
	CORE_FENCE_COMMAND,	/* once a fence command (CORE_ACT_FENCE) succeeded */
};

struct core_config {
	uint32_t nodeid;
	uint32_t pid;
	uint64_t incarnation;		/* random per process start */
	size_t n_vips;
	const struct vip_def *vips;	/* this node's declarations; copied; order = local index */
	enum core_failback failback;
	uint32_t failback_delay_ms;
	uint32_t round_timeout_ms;
	uint32_t restart_grace_ms;
	uint32_t shutdown_timeout_ms;
	uint32_t health_settle_ms;	/* a new failure is acted on after this (0 = 1000) */
	uint16_t proto_max;		/* 0 = WIRE_VERSION_MAX; tests pin older versions */
	enum core_fence fence;
	uint32_t fence_grace_ms;	/* CORE_FENCE_GRACE: wait after a node left the ring */
	/* Every node id in corosync's nodelist (copied).  A configured node
	 * that no member has ever seen may hold any brick nobody claims (the
	 * cluster starts with it down): it is treated as lost until fenced
	 * or its grace passes, as Pacemaker's startup fencing does. */
	size_t n_nodes;
	const uint32_t *nodes;
	/* load balancing (core/load.h): interval 0 = off (reports still flow) */
	uint32_t load_interval_ms;
	uint32_t load_margin_pct;	/* 0 = 10 */
	uint32_t load_budget;		/* moves per interval, 0 = 2 */
	/*
	 * Failure timing (state_live.c), derived by the daemon from corosync's
	 * own (timing.h); 0 picks the value in parentheses, which keeps tests
	 * that predate it working as before.
	 *  quiet_limit_ms  release everything once corosync has delivered
	 *                  nothing for this long (round_timeout_ms): longer than
	 *                  any silence of a membership change we survive, so
	 *                  only a node cut off from the others reaches it
	 *  heartbeat_ms    multicast a PING this often and renew the addresses'
	 *                  lifetime right after it (1000)
	 *  liveness_ms     a member silent this long while the ring delivers
	 *                  our own messages is suspected and excluded (0 = off)
	 *  unresponsive_ms status calls a member unresponsive after this much
	 *                  silence, before the addresses it stopped renewing may
	 *                  have lapsed in its kernel (0 = liveness_ms)
	 *  lifetime_ms     our addresses' kernel lifetime, advertised to peers
	 *                  (0 = permanent: no bound after a crash)
	 *  expiry_margin_ms how late our kernel may remove an expired address
	 *  gap_ms          a pause in deliveries longer than this is a membership
	 *                  change in progress, not traffic (500)
	 *  skew_ms         how much later than us another member may deliver
	 *                  the same message (20)
	 */
	uint32_t quiet_limit_ms;
	uint32_t heartbeat_ms;
	uint32_t liveness_ms;
	uint32_t unresponsive_ms;
	uint32_t lifetime_ms;
	uint32_t expiry_margin_ms;
	uint32_t gap_ms;
	uint32_t skew_ms;
	/*  expiry_probe    an owner that waits out a hold-off only for the
	 *                  kernel's lateness in removing an expired address
	 *                  (the nominal lifetime has passed, and a node that
	 *                  was cut off has let go by its quiet limit) asks the
	 *                  segment whether the address is still answered: if
	 *                  nobody answers, it takes the address at once */
	bool expiry_probe;
	/*  probe_wait_ms   how long a probe takes to say that nobody answered
	 *                  (the daemon's is 60 ms): a node that left the ring
	 *                  is probed for from that much before its quiet limit */
	uint32_t probe_wait_ms;
	/* Digests of the daemon's configuration, one per key in an order the
	 * daemon fixes (at most 32; copied): carried in STATE for the drift
	 * check of core_conf_diff(), read by nothing else. */
	size_t n_conf;
	const uint64_t *conf;
};

/* An operator change (CORE_EV_ADMIN). */
enum core_admin_op {
	CORE_ADMIN_STANDBY = 1,	/* node: drain, takes nothing */
	CORE_ADMIN_ACTIVE = 2,	/* node: undo standby */
	CORE_ADMIN_MOVE = 3,	/* vip -> node, pinned until unpin */
	CORE_ADMIN_UNPIN = 4,	/* vip */
	CORE_ADMIN_MAINT_ON = 5,	/* freeze: nothing moves */
	CORE_ADMIN_MAINT_OFF = 6,
	CORE_ADMIN_CLEANUP = 7,	/* end failure holds: of 'vip' (zero family = all) on
				 * 'node' (0 = every node); changes no replicated state */
};

struct core_admin_req {
	enum core_admin_op op;
	uint32_t node;
	struct res_addr vip;
	uint64_t cookie;	/* echoed in CORE_ACT_ADMIN_DONE */
};

enum core_ev_type {
	CORE_EV_CONFCHG,	/* classic CPG confchg */
	CORE_EV_TOTEM,		/* totem confchg: ring id and corosync node list */
	CORE_EV_QUORUM,		/* quorum notification (separate stream, any order) */
	CORE_EV_DELIVER,	/* a CPG message */
	CORE_EV_TICK,		/* a timer the core asked for fired (or any time) */
	CORE_EV_ACQUIRED,	/* executor finished acquiring local vip 'idx' (err) */
	CORE_EV_RELEASED,	/* executor finished releasing local vip 'idx' (err) */
	CORE_EV_ADOPT,		/* start-up: local vip 'idx' is already on this node */
	CORE_EV_CLUSTER_LOST,	/* corosync went away: drop the view, release all */
	CORE_EV_SHUTDOWN,	/* hand everything over, then leave and exit */
	CORE_EV_LOST,		/* local vip 'idx' vanished and must not be restored
				 * (its lifetime ran out while we were stalled) */
	CORE_EV_FENCED,		/* our CORE_ACT_FENCE of 'node' finished (err) */
	CORE_EV_PROBED,		/* our CORE_ACT_PROBE of local vip 'idx' finished:
				 * whether anyone on its segment answered for it */
	CORE_EV_SETS,		/* this node's sets changed (a brick's set learnt
				 * from glusterd): 'set' has cfg n_vips entries,
				 * 0 = none.  Declared from our next STATE, so it
				 * takes effect at the next round (state_sets.c) */
	/* Requests: each only multicasts, and what it changes happens when
	 * that message is delivered, in order, on every member.  They may be
	 * refused; core_step() then says why. */
	CORE_EV_ADMIN,		/* an operator change 'admin' */
	CORE_EV_HEALTH,		/* this node's health verdicts, from its plugins */
	CORE_EV_REBALANCE,	/* the operator asks for failback now */
	CORE_EV_FENCE_CONFIRM,	/* the operator confirms lost node 'node' is down */
};

struct core_event {
	enum core_ev_type type;
	uint64_t now_ms;	/* local monotonic time */
	union {
		struct {
			const struct core_member *members;
			size_t n_members;
			const struct core_member *left;
			size_t n_left;
			const struct core_member *joined;
			size_t n_joined;
		} confchg;
		struct {
			struct core_ring ring;
			const uint32_t *nodeids;
			size_t n_nodeids;
		} totem;
		struct {
			struct core_ring ring;
			bool quorate;
		} quorum;
		struct {
			uint32_t nodeid;
			uint32_t pid;
			const void *buf;
			size_t size;
		} deliver;
		struct {
			size_t idx;
			int err;
			bool more;	/* more results follow at once: batch RELEASED */
		} res;
		struct {
			uint32_t node;
			int err;
		} fence;
		struct {
			size_t idx;
			bool answered;	/* or the probe could not be sent */
		} probe;
		struct core_admin_req admin;
		struct {
			uint32_t node_flags;
			const bool *unservable;	/* n_vips entries, may be NULL */
			bool urgent;
		} health;
		struct {
			uint32_t node;
		} confirm;
		struct {
			const uint32_t *set;
		} sets;
	} u;
};

enum core_act_type {
	CORE_ACT_SEND,		/* multicast 'buf' */
	CORE_ACT_ACQUIRE,	/* acquire local vip 'idx', then report CORE_EV_ACQUIRED */
	CORE_ACT_RELEASE,	/* release local vip 'idx', then report CORE_EV_RELEASED */
	CORE_ACT_TIMER,		/* deliver a CORE_EV_TICK at or after 'at_ms' */
	CORE_ACT_READY,		/* first round completed (sd_notify READY=1) */
	CORE_ACT_REJOIN,	/* leave the group and join again as a new member */
	CORE_ACT_LEAVE,		/* handover done: flush sends, then cpg_leave */
	CORE_ACT_EXIT,		/* nothing more to do: exit the daemon */
	CORE_ACT_ADMIN_DONE,	/* our admin request 'cookie' was applied (err, generation) */
	CORE_ACT_PERSIST,	/* admin state changed: save core_admin_get() durably */
	CORE_ACT_FENCE,		/* power off node 'node' now, then report CORE_EV_FENCED */
	CORE_ACT_RENEW,		/* renew the lifetime of the addresses we hold (and put
				 * back any that vanished), but only if every message
				 * sent so far has been handed to corosync: it comes
				 * right after a heartbeat, and peers bound how long
				 * our addresses can live by when they last heard us */
	CORE_ACT_PROBE,		/* ask local vip 'idx''s segment whether anyone still
				 * answers for it (ARP / neighbour solicitation),
				 * then report CORE_EV_PROBED */
	CORE_ACT_CLEANUP,	/* an operator ended the failure hold of local vip
				 * 'idx' (SIZE_MAX: of every one) on this node */
};

struct core_action {
	enum core_act_type type;
	union {
		struct {
			uint8_t *buf;
			size_t size;
		} send;
		size_t idx;
		uint64_t at_ms;
		uint32_t node;
		struct {
			uint64_t cookie;
			int err;
			uint64_t generation;
		} admin;
	} u;
};

struct core_actions {
	struct core_action *v;
	size_t n;
	size_t cap;
};

void core_actions_init(struct core_actions *a);
void core_actions_clear(struct core_actions *a);	/* frees send buffers, keeps capacity */
void core_actions_release(struct core_actions *a);	/* clear + free the array */

struct core;

/* Create a machine for this node.  Returns 0, -EINVAL or -ENOMEM. */
int core_new(const struct core_config *cfg, struct core **out);
void core_free(struct core *c);		/* accepts NULL */

/*
 * Feed one event; append resulting actions to 'out'.  Returns 0, or -ENOMEM
 * (the machine stays consistent; the caller should treat it as fatal).
 *
 * Requests may also be refused, and a refused one changes nothing:
 *  CORE_EV_ADMIN          'u.admin' is checked against the current view and
 *                         multicast.  It is applied on every member when
 *                         delivered (only if still in the ring it was sent
 *                         for, so a change cannot slip in from a view that
 *                         lost quorum), the generation goes up, and
 *                         CORE_ACT_ADMIN_DONE reports it here.  -EAGAIN when
 *                         not quorate or no view; -ENOENT for an unknown
 *                         node or vip; -EPERM when the node did not declare
 *                         the vip; -EINVAL for a bad op.
 *  CORE_EV_HEALTH         'node_flags' non-zero makes this node ineligible
 *                         for everything; 'unservable' marks declared
 *                         addresses it cannot serve now (a failed link or
 *                         volume they depend on).  Multicast when it
 *                         changes; every member then places those addresses
 *                         elsewhere, unless no declaring node can serve
 *                         them, in which case nothing moves (moving would
 *                         not help).  A new failure (from protocol 7 a
 *                         recovery too) settles for health_settle_ms first,
 *                         unless 'urgent'.  Never refused.
 *  CORE_EV_REBALANCE      apply failback now (manual / delay policies).
 *                         -EAGAIN without a quorate view.
 *  CORE_EV_FENCE_CONFIRM  lost node 'u.confirm.node' was powered off by
 *                         hand: its exclusive resources may be taken over.
 *                         -EAGAIN without a quorate view, -ENOENT when
 *                         nothing waits for that node.
 */
int core_step(struct core *c, const struct core_event *ev, struct core_actions *out);

/* True while this node holds (or is acquiring or releasing) an exclusive
 * resource that it must give up: it lost quorum or corosync, or the table
 * moved it.  The daemon stops feeding its watchdog when this stays true for
 * longer than the release may take, so a node that cannot let go of a
 * brick is reset before the survivors' fence grace runs out. */
bool core_excl_must_release(const struct core *c);

/* ---- operator state: what the changes left, saved and loaded ---- */

struct core_admin_view {
	uint64_t generation;
	bool maintenance;
	size_t n_standby;
	const uint32_t *standby;	/* borrowed until the next core_step() */
	size_t n_pins;
};
void core_admin_get(const struct core *c, struct core_admin_view *v);
void core_admin_pin_get(const struct core *c, size_t i, struct res_addr *vip, uint32_t *node);
/* Before joining: the admin state saved on disk (merged by generation).
 * 'pin_vips'/'pin_nodes' are parallel arrays of 'n_pins'. */
int core_admin_load(struct core *c, uint64_t generation, bool maintenance,
		    const uint32_t *standby, size_t n_standby, const struct res_addr *pin_vips,
		    const uint32_t *pin_nodes, size_t n_pins);

/* What would move if node 'fail' left or node 'standby' went to standby
 * (0 = neither), computed by the same placement, changing nothing.
 * '*moves' is allocated (free it); entries with to == 0 are unplaced.
 * -EAGAIN before a completed round, -ENOENT when 'fail' or 'standby' is
 * neither a member nor a node the cluster remembers. */
struct core_plan_move {
	struct res_addr addr;
	uint32_t from;
	uint32_t to;
};
int core_plan(struct core *c, uint32_t fail, uint32_t standby, struct core_plan_move **moves,
	      size_t *n);

/* ---- read-only views for status, tests and the simulator ---- */

enum core_node_state {
	CORE_NODE_ACTIVE,
	CORE_NODE_STANDBY,
	CORE_NODE_UNHEALTHY,
	CORE_NODE_LEAVING,
	CORE_NODE_EXCLUDED,
	CORE_NODE_ABSENT,	/* daemon gone, node up: inside its restart grace */
	CORE_NODE_UNFENCED,	/* node left, its exclusive resources wait for fencing */
	CORE_NODE_UNRESPONSIVE,	/* a member whose daemon fell silent while the ring
				 * delivers (frozen, wedged, or never spoke) */
};

struct core_node_view {
	uint32_t nodeid;
	enum core_node_state state;
	uint32_t health;
	size_t owned;		/* resources the table gives it */
	uint64_t silent_ms;	/* members: since its last message (local clock) */
};
/* Members (one per nodeid) then absent nodes, ascending nodeid. */
size_t core_node_count(const struct core *c);
void core_node_get(const struct core *c, size_t i, struct core_node_view *v);
bool core_ring_get(const struct core *c, struct core_ring *ring);
/* Why the table last changed, for the moves it made: "membership change",
 * "operator", "health check", "rebalance", "load", "node shutting down",
 * "node lost", "node unresponsive" ("" before the first round). */
const char *core_table_why(const struct core *c);
/* Whether corosync node 'nodeid' is in the latest ring (totem confchg). */
bool core_ring_has(const struct core *c, uint32_t nodeid);
/* Which of our configuration digests node 'nodeid' has differently, as a
 * bit mask by index (bit i = conf[i]), from its latest STATE.  0 when they
 * agree, and when it sent none ('*known' false: not a member, no STATE
 * yet, or a daemon that predates the check). */
uint32_t core_conf_diff(const struct core *c, uint32_t nodeid, bool *known);
uint32_t core_pin_of(const struct core *c, const struct res_addr *vip);
/* The replica/disperse set placement uses for 'addr' now (the one merged at
 * the last round), 0 = none; and this node's declaration of local vip 'idx'
 * (what its next STATE says).  They differ until the next round. */
uint32_t core_set_merged(const struct core *c, const struct res_addr *addr);
uint32_t core_set_declared(const struct core *c, size_t idx);

struct core_res_view {
	struct res_addr addr;
	const char *pool;
	uint32_t owner;		/* nodeid, 0 = unassigned */
	uint32_t from;		/* nodeid that must release first, 0 = none */
	uint32_t prev;		/* holder the last placement started from, 0 = none */
	bool continuing;	/* a handover decided earlier, still waiting for its release */
	bool exclusive;		/* a brick: never on two nodes */
	uint32_t fixed;		/* absent node it waits for (grace or fencing), 0 = none */
	uint32_t held_by;	/* a node that may still hold it (lost or unresponsive),
				 * 0 = none: the owner waits 'holdoff_ms' before taking */
	uint64_t holdoff_ms;
	bool owner_silent;	/* its owner is an unresponsive member */
	bool owner_absent;	/* its owner is no member: its daemon is gone (restart
				 * grace, fencing), its addresses lapse on their own */
	bool owner_starting;	/* another node owns it and its last PING said it has
				 * not brought it up yet */
	uint32_t local;		/* this node's index of it (cfg vips), UINT32_MAX = none */
};

/* True once a round has completed in the current view and none is running. */
bool core_round_complete(const struct core *c);
/* Digest of (view token, assignment): equal on all members that applied the
 * same events. */
uint64_t core_digest(const struct core *c);
/* A count that changes whenever the table (owners, handovers) or the token
 * its digest covers may have: O(1), where the digest costs a pass over the
 * table, for noticing changes after every step. */
uint64_t core_table_gen(const struct core *c);
uint64_t core_token(const struct core *c);
size_t core_res_count(const struct core *c);
void core_res_get(const struct core *c, size_t i, struct core_res_view *v);
/* Whether the table gives local vip 'idx' to this node; '*waiting' (may be
 * NULL) says whether it still waits for another node's release.  O(1). */
bool core_local_assigned(const struct core *c, size_t idx, bool *waiting);
/* Whether this node currently holds / is acquiring local vip 'idx'. */
bool core_local_held(const struct core *c, size_t idx);
/* Whether local vip 'idx' is up here: acquired, not being released. */
bool core_local_up(const struct core *c, size_t idx);
bool core_quorate(const struct core *c);
/* Corosync's latest quorum verdict, whatever ring it is for: 1 quorate,
 * 0 not, -1 unknown (none yet, or corosync gone).  During a membership
 * change core_quorate() is false until the verdict for the new ring
 * comes; this is not, so it tells a loss of quorum from a ring change. */
int core_quorum_verdict(const struct core *c);
/* This node is dropping everything it holds now (lost quorum or corosync,
 * left the group, hung): releases must not wait for anything slow. */
bool core_dropping_all(const struct core *c);
size_t core_member_count(const struct core *c);
/* Member 'i' (sorted by nodeid): its nodeid, and whether it may receive
 * resources now (not leaving, healthy, not in standby, not excluded). */
uint32_t core_member_get(const struct core *c, size_t i, bool *eligible);
uint16_t core_proto(const struct core *c);	/* negotiated version */
/* Placement run again on the table, starting from its own owners, the way
 * the last placement was run (rebalance or not, no load budget): how many
 * resources it would move.  0 is what place.h promises (idempotent) from
 * protocol 7.  -EAGAIN without a completed round; -ENOMEM. */
long core_place_recheck(struct core *c);
/* Counters for status and tests. */
#define CORE_MSG_TYPES 16	/* > WIRE_TYPE_MAX (core/wire.h) */

struct core_counters {
	uint64_t rounds_completed;
	uint64_t placements;
	uint64_t moves;
	uint64_t dropped_stale;
	uint64_t dropped_bad;
	uint64_t excluded;
	uint64_t suspected;	/* members excluded for silence while the ring delivered */
	uint64_t stalls;	/* our own loop stalled past a heartbeat */
	uint64_t self_releases;	/* released everything: corosync silent past the limit */
	uint64_t self_releases_total_ms;	/* how long, summed */
	uint64_t silence_max_ms;	/* longest time corosync delivered nothing, in a view */
	uint64_t dropped_hold;	/* from a sender past its hold-back budget (state_msg.c) */
	uint64_t hold_cuts;	/* senders cut that way, once per hold period each */
	uint64_t probes;	/* expiry probes sent (CORE_ACT_PROBE) */
	uint64_t probe_takes;	/* hold-offs ended early because nobody answered */
	uint64_t fast_changes;	/* leave-only changes placed before their round */
	uint64_t fast_disagree;	/* resources the confirming round gave elsewhere */
	uint64_t fast_undone;	/* of those, ones this node had already taken */
	/* CPG messages this node multicast, and their bytes, by wire type
	 * (index = enum wire_type; 0 unused): what a change costs */
	uint64_t sent[CORE_MSG_TYPES];
	uint64_t sent_bytes[CORE_MSG_TYPES];
};
void core_counters_get(const struct core *c, struct core_counters *out);

#endif
