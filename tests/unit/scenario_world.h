/*
 * The scenario runner's world: N nodes, each with a corosync that is up or
 * down, a network group, a chorusd (a real core behind scenario_core.h), an
 * executor and a kernel that holds addresses; per partition one totally
 * ordered CPG stream.  It is the simulator's model (tests/sim/sim.c) with
 * every random choice turned into an explicit step, so that a schedule the
 * simulator ran can be written down and replayed here exactly, and a human
 * can write one by hand.
 *
 * Two modes.  Manual ("auto off"): nothing happens unless a step says so:
 * each delivery, executor result, quorum notification, timer and ring
 * change is its own step, as the simulator writes them.  Automatic (the
 * default): after every step everything that can happen at the current
 * time does (deliveries in order, executor results right after the step
 * that asked for them, as chorusd's loop does, quorum notifications,
 * due timers), topology changes form the new ring at once, and time moves
 * from timer to timer.
 */
#ifndef CHORUS_TESTS_SCENARIO_WORLD_H
#define CHORUS_TESTS_SCENARIO_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario_core.h"

#define SCN_MAXN 8		/* nodes */
#define SCN_MAXV 64		/* addresses in the cluster */
#define SCN_QMAX 8		/* quorum notifications queued per node */
#define SCN_DEFMAX 64		/* sends deferred per node (TRY_AGAIN) */
#define SCN_HQMAX 64		/* sends a hung corosync holds per node */
#define SCN_T0 1000		/* the clock at t=0: the simulator's start */

/* A growable text buffer: the runner's whole output. */
struct sbuf {
	char *s;
	size_t n, cap;
};
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_free(struct sbuf *b);

enum pev_type { PEV_MSG, PEV_JOIN, PEV_DOWN };

/* One event of a partition's ordered stream. */
struct pev {
	enum pev_type type;
	uint32_t nodeid, pid, reason;
	uint8_t *buf;
	size_t size;
};

struct part {
	bool used;
	struct scn_ring ring;
	struct pev *q;
	size_t qn, qcap;
	struct scn_member mem[2 * SCN_MAXN];	/* the CPG group as of its last event */
	size_t nmem;
};

/* What corosync delivered to a frozen daemon, replayed when it wakes. */
struct inbox_ev {
	enum { IN_MSG, IN_CONFCHG, IN_TOTEM } kind;
	uint32_t nodeid, pid, reason_left, reason_joined;
	uint8_t *buf;
	size_t size;
	struct scn_member mem[2 * SCN_MAXN];
	size_t nmem;
	struct scn_ring ring;
	uint32_t ids[SCN_MAXN];
	size_t nids;
};

struct deferred {
	uint8_t *buf;
	size_t size;
};

struct scn_node {
	uint32_t nodeid;
	/* configuration: local vip index -> cluster vip index */
	size_t n_local;
	unsigned local[SCN_MAXV];
	struct vip_def decl[SCN_MAXV];
	/* corosync and the network */
	bool cs_up;
	int part;		/* partition index, -1 = none */
	int grp;		/* network group */
	/* the daemon */
	bool d_up, joined, ghost, frozen, shutting;
	bool resumed;		/* its corosync ran again after a hang */
	bool cs_hung;		/* its corosync is stopped under the daemon */
	struct { uint8_t *buf; size_t size; } hq[SCN_HQMAX];	/* sent while hung */
	size_t nhq;
	uint32_t pid, ghost_pid;
	uint16_t proto;
	struct scn_core *core;
	struct scn_member seen[2 * SCN_MAXN];	/* the last member list it saw */
	size_t nseen;
	struct inbox_ev *inbox;
	size_t ninbox, capinbox;
	uint64_t thaw_at;	/* 0 = until "thaw" */
	uint64_t timer_at;	/* 0 = none */
	struct { int type; size_t idx; } ex[4 * SCN_MAXV];	/* executor queue */
	size_t nex;
	bool exec_manual;
	struct { struct scn_ring ring; bool quorate; } qev[SCN_QMAX];
	size_t nq;
	struct deferred def[SCN_DEFMAX];
	size_t ndef;
	bool blocked;		/* every send waits (corosync says TRY_AGAIN) */
	uint64_t sends;		/* SEND actions over the node's life, for "defer" */
	uint64_t defer_seq[256];
	size_t n_defer;
	uint32_t fq[SCN_MAXN];	/* fence requests not run yet */
	size_t nfq;
	bool rejoin_pending;
	uint64_t rejoin_at;
	/* the kernel, per cluster vip */
	bool held[SCN_MAXV];	/* up in the kernel (a brick: running) */
	bool intended[SCN_MAXV];	/* the executor keeps it: renewals re-add it */
	uint64_t expire[SCN_MAXV];	/* 0 = never */
	/* trace */
	bool was_complete;
	uint64_t last_token;
};

enum scn_trace { TRACE_NORMAL, TRACE_ALL };
enum scn_fence_dev { FENCE_DEV_OK, FENCE_DEV_FAIL, FENCE_DEV_MANUAL };

struct proc_name {
	uint32_t nodeid, pid;
	unsigned instance;
};

struct scn_world {
	struct scn_node nodes[SCN_MAXN];
	unsigned nn;
	uint32_t nodeids[SCN_MAXN];
	struct vip_def vips[SCN_MAXV];
	unsigned nv;
	struct part parts[SCN_MAXN];
	struct pev *carry;	/* taken out of a ring that is changing */
	size_t ncarry, capcarry;
	uint64_t now;
	bool autorun;
	bool ring_pending;	/* a topology change waits for its ring (auto) */
	enum scn_trace trace;
	enum scn_fence_dev fence_dev;
	uint32_t kernel_late_ms;	/* how late the kernel removes an expired address */
	unsigned votes_needed;	/* 0 = a majority of the nodes */
	struct scn_daemon_cfg cfg;	/* template for every daemon */
	uint32_t next_pid;
	struct proc_name *procs;
	size_t nprocs, capprocs;
	bool v1_seen, load_seen;
	unsigned violations;
	char **last_viol;	/* the previous check's messages: print what is new */
	size_t n_last_viol;
	uint64_t last_mark;	/* time of the last "@t" line, UINT64_MAX = none */
	uint64_t cookie;
	struct sbuf *out;
	char err[256];		/* why a step was refused */
};

/* ---- shared by the world's files ---- */
bool w_is_excl(const struct scn_world *w, unsigned v);
unsigned w_votes_needed(const struct scn_world *w);
unsigned w_part_count(const struct scn_world *w, int part);
/* A live, unfrozen, joined member of partition 'p' with corosync up. */
bool w_receives(struct scn_world *w, struct scn_node *s, struct part *p);

/* Set up 'w' (zeroed by the caller, nodes, vips and cfg filled in): every
 * node's corosync up in one ring, no daemon yet. */
void w_init(struct scn_world *w);
void w_free(struct scn_world *w);
struct scn_node *w_node(struct scn_world *w, uint32_t nodeid);
long w_vip(const struct scn_world *w, const char *text);

/* Steps.  Each returns 0, or -1 with w->err saying why it was refused
 * (a scenario error, not a finding). */
int w_start(struct scn_world *w, struct scn_node *s, uint32_t pid, uint16_t proto);
int w_kill(struct scn_world *w, struct scn_node *s, bool ghost);
int w_stop(struct scn_world *w, struct scn_node *s);
int w_freeze(struct scn_world *w, struct scn_node *s, uint64_t for_ms);
int w_thaw(struct scn_world *w, struct scn_node *s);
int w_crash(struct scn_world *w, struct scn_node *s);
int w_down(struct scn_world *w, struct scn_node *s);
int w_boot(struct scn_world *w, struct scn_node *s);
int w_cs_kill(struct scn_world *w, struct scn_node *s);
int w_cs_start(struct scn_world *w, struct scn_node *s);
int w_cluster_lost(struct scn_world *w, struct scn_node *s);
int w_cs_hang(struct scn_world *w, struct scn_node *s);
int w_cs_resume(struct scn_world *w, struct scn_node *s);
int w_cs_stale(struct scn_world *w, struct scn_node *s);
int w_cs_pause(struct scn_world *w, struct scn_node *s);
int w_cs_unpause(struct scn_world *w, struct scn_node *s);
/* 'grp' per node index */
int w_groups(struct scn_world *w, const int *grp);
int w_ring(struct scn_world *w, uint32_t qfirst_mask, uint32_t split_mask);
int w_deliver(struct scn_world *w, struct scn_node *s);
int w_drop(struct scn_world *w, struct scn_node *s);
int w_carry(struct scn_world *w, struct scn_node *s);
int w_block(struct scn_world *w, struct scn_node *s, bool on);
int w_flush(struct scn_world *w, struct scn_node *s, size_t count);
int w_defer(struct scn_world *w, struct scn_node *s, uint64_t seq);
int w_wait(struct scn_world *w, uint64_t ms);
int w_tick(struct scn_world *w, struct scn_node *s);
/* 'answered': an expiry probe at the head reads as answered whatever the
 * kernels have (the simulator's unsent probe) */
int w_exec(struct scn_world *w, struct scn_node *s, bool ok, bool answered);
int w_quorum(struct scn_world *w, struct scn_node *s, int inject);	/* -1 = next queued */
int w_expire(struct scn_world *w, struct scn_node *s, unsigned v);
int w_rejoin(struct scn_world *w, struct scn_node *s);
int w_fenced(struct scn_world *w, struct scn_node *s, bool ok);
int w_admin(struct scn_world *w, struct scn_node *s, enum scn_admin_op op, uint32_t node,
	    long v);
int w_rebalance(struct scn_world *w, struct scn_node *s);
int w_fence_confirm(struct scn_world *w, struct scn_node *s, uint32_t node);
/* 'unserv' per cluster vip (NULL = all servable) */
/* N's daemon learnt new sets (from glusterd): 'set' per cluster vip, 0 = none.
 * A later start of N declares them from the beginning. */
int w_sets(struct scn_world *w, struct scn_node *s, const uint32_t *set);
int w_health(struct scn_world *w, struct scn_node *s, const bool *unserv, bool urgent,
	     uint32_t node_flags);
int w_load(struct scn_world *w, struct scn_node *s, unsigned v, uint32_t load, uint32_t conns);

/* Automatic mode: form a pending ring, then run everything due now. */
void w_settle_now(struct scn_world *w);
void w_drain(struct scn_world *w);

/* After every step: no brick on two nodes, no address in two kernels,
 * members of one view agree.  New violations are printed; the count is
 * in w->violations. */
void w_check_step(struct scn_world *w);
/* The simulator's settle checks: one holder per address in a quorate
 * partition, nothing held without quorum, balance. */
void w_check_settled(struct scn_world *w);
void w_show(struct scn_world *w);

#endif
