/*
 * What the brick side's files share (bricks.c, bricks_fence.c,
 * bricks_orphans.c, bricks_status.c): the state behind d->bricks.
 */
#ifndef CHORUS_BRICKS_PRIVATE_H
#define CHORUS_BRICKS_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qb/qbloop.h>

#include "daemon/bricks.h"
#include "daemon/daemon.h"
#include "exec/brick.h"
#include "exec/inventory.h"
#include "exec/script.h"

#define PROBE_RETRY_MS 100
#define INV_RETRY_MS 5000

enum { ORPH_PROBING, ORPH_STOPPING, ORPH_DONE };

struct bricks {
	struct chorusd *d;
	struct script_runner *runner;
	struct brick_exec *bx;
	size_t n;
	size_t *vip;			/* brick -> index in conf->vips (= core local idx) */
	int *probe;			/* 1 pending, 0 done not running, 2 running */
	size_t probes_left;
	uint64_t *failed_until;		/* mono ms; 0 = not failed */
	/* bricks_here.c: what may run here, kept across restarts */
	bool *want;			/* per brick: started or adopted, not yet stopped */
	struct brick_here *orph;	/* recorded, no longer declared: stopped before
					 * joining; brick_exec index n + o */
	size_t n_orph;
	int *orph_state;		/* ORPH_* */
	struct brick_here *here_saved;	/* the record as last written */
	size_t here_len;
	/* inventory */
	struct inventory *inv;
	struct inventory_fetch *fetch;
	uint64_t inv_at_ms;
	char inv_err[256];
	char inv_why[64];
	uint64_t inv_refreshes;
	qb_loop_timer_handle inv_timer;
	bool inv_again;
	bool inv_answered;		/* the first fetch ended, either way */
	bool multiplex;			/* the last inventory: cluster.brick-multiplex on */
	uint64_t started_ms;
	struct inventory_set *sets;	/* per brick (bricks_sets.c) */
	/* fence */
	struct script_run *fence_run;
	uint32_t fence_node;
	uint64_t fences_ok, fences_failed;
	uint32_t last_fence_node;	/* 0: no fence command has finished */
	bool last_fence_ok;
	uint64_t last_fence_ms;
	char last_fence_error[256];	/* why it failed, for status */
	/* watchdog */
	int wd_fd;
	qb_loop_timer_handle wd_timer;
	qb_loop_timer_handle house_timer;
	uint64_t unsafe_since;
	bool wd_starving;
};

static inline struct bricks *B(const struct chorusd *d)
{
	return d->bricks;
}

/* bricks_orphans.c: the recorded bricks this node no longer declares (from
 * 'here', which bs then owns); what becomes of them; writing the record
 * when what may run here changed. */
void bricks_orphans_find(struct bricks *bs, struct brick_here *here, size_t n_here);
void bricks_orphan_cb(struct chorusd *d, size_t o, enum brick_event e, int err,
		      const char *reason);
void bricks_here_update(struct bricks *bs);

#endif
