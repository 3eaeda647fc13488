/*
 * The scenario runner's adapter to the core: the only part of the runner
 * that calls into coordinator/core (state.h, load.h, wire.h).
 *
 * The rest of the runner (scenario_world.c, scenario_run.c) speaks in the
 * runner's own terms: one input type for everything a daemon tells its core
 * (CPG events, timers, executor results, operator commands, health and load
 * reports) and one action type for everything the core asks for: all of
 * them become core_step() events here, except load reports, which the core
 * stores apart (core_set_load) and acts on at the next TICK.  Views for
 * `show` are copied out here too, so that the core's API can change in one
 * place.
 *
 * Ownership: inputs are borrowed for the call.  Actions returned by
 * scn_core_feed() own their send buffers until scn_acts_clear().
 */
#ifndef CHORUS_TESTS_SCENARIO_CORE_H
#define CHORUS_TESTS_SCENARIO_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/res.h"

struct scn_core;

/* Same values as CPG_REASON_* (and enum core_reason). */
enum scn_reason {
	SCN_REASON_JOIN = 1,
	SCN_REASON_LEAVE = 2,
	SCN_REASON_NODEDOWN = 3,
	SCN_REASON_NODEUP = 4,
	SCN_REASON_PROCDOWN = 5,
};

struct scn_member {
	uint32_t nodeid;
	uint32_t pid;
	uint32_t reason;
};

struct scn_ring {
	uint32_t nodeid;
	uint64_t seq;
};

enum scn_failback { SCN_FAILBACK_AUTO, SCN_FAILBACK_MANUAL, SCN_FAILBACK_DELAY };
enum scn_fence { SCN_FENCE_NONE, SCN_FENCE_GRACE, SCN_FENCE_COMMAND };

/* One daemon's configuration, as a scenario declares it (0 = the core's
 * default where the core has one). */
struct scn_daemon_cfg {
	uint32_t nodeid;
	uint32_t pid;
	uint64_t incarnation;
	size_t n_vips;
	const struct vip_def *vips;
	size_t n_nodes;
	const uint32_t *nodes;
	enum scn_failback failback;
	uint32_t failback_delay_ms;
	uint32_t round_timeout_ms;
	uint32_t restart_grace_ms;
	uint32_t shutdown_timeout_ms;
	uint32_t health_settle_ms;
	uint16_t proto_max;
	enum scn_fence fence;
	uint32_t fence_grace_ms;
	uint32_t load_interval_ms;
	uint32_t load_margin_pct;
	uint32_t load_budget;
	uint32_t quiet_limit_ms;
	uint32_t heartbeat_ms;
	uint32_t liveness_ms;
	uint32_t unresponsive_ms;
	uint32_t lifetime_ms;
	uint32_t expiry_margin_ms;
	uint32_t gap_ms;
	uint32_t skew_ms;
	bool expiry_probe;
	uint32_t probe_wait_ms;
};

enum scn_in_type {
	SCN_IN_CONFCHG,
	SCN_IN_TOTEM,
	SCN_IN_QUORUM,
	SCN_IN_DELIVER,
	SCN_IN_TICK,
	SCN_IN_ACQUIRED,
	SCN_IN_RELEASED,
	SCN_IN_ADOPT,
	SCN_IN_CLUSTER_LOST,
	SCN_IN_SHUTDOWN,
	SCN_IN_FENCED,
	SCN_IN_PROBED,
	SCN_IN_SETS,
	/* not (yet) core events: separate entry points today */
	SCN_IN_ADMIN,
	SCN_IN_HEALTH,
	SCN_IN_REBALANCE,
	SCN_IN_FENCE_CONFIRM,
	SCN_IN_LOAD,
};

enum scn_admin_op {
	SCN_ADMIN_STANDBY,
	SCN_ADMIN_ACTIVE,
	SCN_ADMIN_MOVE,
	SCN_ADMIN_UNPIN,
	SCN_ADMIN_MAINT_ON,
	SCN_ADMIN_MAINT_OFF,
	SCN_ADMIN_CLEANUP,
};

struct scn_in {
	enum scn_in_type type;
	uint64_t now_ms;
	/* CONFCHG */
	const struct scn_member *members, *left, *joined;
	size_t n_members, n_left, n_joined;
	/* TOTEM, QUORUM */
	struct scn_ring ring;
	const uint32_t *nodeids;
	size_t n_nodeids;
	bool quorate;
	/* DELIVER */
	uint32_t from_nodeid, from_pid;
	const void *buf;
	size_t size;
	/* ACQUIRED, RELEASED, ADOPT, PROBED, LOAD: local vip index */
	size_t idx;
	int err;
	bool more;
	bool answered;		/* PROBED */
	/* FENCED, FENCE_CONFIRM, ADMIN: a node */
	uint32_t node;
	/* ADMIN */
	enum scn_admin_op op;
	struct res_addr addr;
	uint64_t cookie;
	/* HEALTH: per local vip, may be NULL */
	uint32_t node_flags;
	const bool *unservable;
	bool urgent;
	/* LOAD */
	uint32_t load, conns;
	/* SETS: per local vip, 0 = none */
	const uint32_t *sets;
};

enum scn_act_type {
	SCN_ACT_SEND,
	SCN_ACT_ACQUIRE,
	SCN_ACT_RELEASE,
	SCN_ACT_TIMER,
	SCN_ACT_READY,
	SCN_ACT_REJOIN,
	SCN_ACT_LEAVE,
	SCN_ACT_EXIT,
	SCN_ACT_ADMIN_DONE,
	SCN_ACT_PERSIST,
	SCN_ACT_FENCE,
	SCN_ACT_RENEW,
	SCN_ACT_PROBE,
	SCN_ACT_CLEANUP,
};

struct scn_act {
	enum scn_act_type type;
	uint8_t *buf;		/* SEND: owned */
	size_t size;
	size_t idx;		/* ACQUIRE, RELEASE, PROBE */
	uint64_t at_ms;		/* TIMER */
	uint32_t node;		/* FENCE */
	int err;		/* ADMIN_DONE */
	uint64_t generation;	/* ADMIN_DONE */
};

struct scn_acts {
	struct scn_act *v;
	size_t n, cap;
};

void scn_acts_clear(struct scn_acts *a);	/* frees send buffers, keeps the array */
void scn_acts_release(struct scn_acts *a);

/* Returns 0 or -errno from core_new(). */
int scn_core_new(const struct scn_daemon_cfg *cfg, struct scn_core **out);
void scn_core_free(struct scn_core *c);

/*
 * Feed one input and append what the core asks for to 'out'.  '*rc' gets
 * the input's own answer (0 for events; a request's -EAGAIN, -ENOENT, ...
 * from core_step(), or core_set_load's).  Returns 0, or -ENOMEM (fatal).
 */
int scn_core_feed(struct scn_core *c, const struct scn_in *in, struct scn_acts *out, int *rc);

/* A delivered message, described for the trace: its type name and what it
 * is about ("RELEASED 10.0.0.11", "EXCLUDE n3", "ADMIN standby n2").
 * '*routine' marks what a trace leaves out unless it is full: heartbeats,
 * and load reports that carry no load. */
void scn_msg_describe(const void *buf, size_t size, char *out, size_t n, bool *routine);

/* ---- views ---- */

enum scn_node_state {
	SCN_NODE_ACTIVE,
	SCN_NODE_STANDBY,
	SCN_NODE_UNHEALTHY,
	SCN_NODE_LEAVING,
	SCN_NODE_EXCLUDED,
	SCN_NODE_ABSENT,
	SCN_NODE_UNFENCED,
	SCN_NODE_UNRESPONSIVE,
};

struct scn_view_node {
	uint32_t nodeid;
	enum scn_node_state state;
	uint32_t health;
	size_t owned;
};

struct scn_view_res {
	struct res_addr addr;
	char pool[CHORUS_NAME_MAX];
	uint32_t owner, from, fixed, held_by;
	uint64_t holdoff_ms;
	bool exclusive, owner_silent, owner_absent, owner_starting;
	uint32_t pin;
	uint32_t load, conns;
};

struct scn_view {
	bool in_view, round_complete, quorate, have_ring;
	struct scn_ring ring;
	uint16_t proto;
	uint64_t generation;
	bool maintenance;
	size_t n_standby;
	uint32_t standby[CHORUS_MAX_NODES];
	size_t n_members;
	uint32_t members[CHORUS_MAX_NODES];	/* one per process, ascending */
	size_t n_nodes;
	struct scn_view_node nodes[CHORUS_MAX_NODES];
	size_t n_res;
	struct scn_view_res *res;		/* owned: scn_view_clear() */
	uint64_t token, digest;
	bool dropping_all, excl_must_release;
};

int scn_core_view(const struct scn_core *c, struct scn_view *v);
void scn_view_clear(struct scn_view *v);
/* Whether the core holds (or is acquiring or releasing) local vip 'idx'. */
bool scn_core_local_held(const struct scn_core *c, size_t idx);
bool scn_core_round_complete(const struct scn_core *c);
bool scn_core_quorate(const struct scn_core *c);
uint64_t scn_core_token(const struct scn_core *c);
uint64_t scn_core_digest(const struct scn_core *c);
/* The replicated load table, hashed (members must agree on it). */
uint64_t scn_core_load_hash(const struct scn_core *c);
/* Operator state, for undoing it (the simulator's settle points). */
bool scn_core_maintenance(const struct scn_core *c);

#endif
