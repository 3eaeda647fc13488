/*
 * What the control socket's files (ctl.c: commands and the event log;
 * ctl_track.c: noticing changes and the saved operator state; ctl_status.c:
 * the status views and plan; ctl_metrics.c: the Prometheus text) share.
 * Daemon-internal: nothing outside coordinator/daemon/ctl*.c includes it.
 */
#ifndef CHORUS_DAEMON_CTL_PRIVATE_H
#define CHORUS_DAEMON_CTL_PRIVATE_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <qb/qblog.h>
#include <qb/qbutil.h>

#include "daemon/history.h"
#include "daemon/ctl_drift.h"
#include "adapters/metrics_http.h"
#include "exec/notify.h"
#include "daemon/bricks.h"
#include "adapters/cluster.h"
#include "adapters/conf.h"
#include "adapters/control.h"
#include "daemon/corelog.h"
#include "daemon/daemon.h"
#include "exec/hooks.h"
#include "plugin/plugin.h"
#include "exec/tickle.h"
#include "core/load.h"
#include "daemon/ctl_load.h"

#define PENDING_MAX 64
#define ADMIN_TIMEOUT_MS 10000
#define ADMIN_FILE_MAX (1024 * 1024)

struct ctl_move {
	uint64_t at;		/* monotonic ms the table placed it here; 0 = none */
	const char *why;	/* core_table_why(): a static string */
	uint32_t from;		/* its holder before, 0 = none */
};

struct snap {
	struct res_addr addr;
	uint32_t owner;
};

struct pending {
	uint64_t cookie;
	uint64_t client;
	char id[130];
	uint64_t deadline_ms;
	struct snap *before;	/* the table when asked: the answer lists every move */
	size_t n_before;
};

struct ctl_state {
	struct control *ctl;
	struct history *hist;
	struct metrics_http *mh;	/* the scrape endpoint, if configured */
	struct notify *notify;		/* the notification hook, if configured */
	struct pending pend[PENDING_MAX];
	size_t n_pend;
	uint64_t cookie;
	qb_loop_timer_handle timer;
	/* change tracking */
	uint64_t table_gen;	/* core_table_gen() at the last diff_moves() */
	struct snap *snap;
	size_t n_snap;
	/* per local vip: a move onto this node still coming up, for its
	 * duration; 'moving' lists the local vips that have one, so each step
	 * looks at those only */
	struct ctl_move *moves;
	uint32_t *moving;
	size_t n_moving;
	int quorum;		/* core_quorum_verdict() last reported */
	uint32_t drift_ids[CHORUS_MAX_NODES];	/* members whose config differs, */
	uint32_t drift_masks[CHORUS_MAX_NODES];	/* as last reported */
	size_t n_drift;
	uint64_t drift_token;		/* the round the drift was last computed for */
	size_t members;
	uint64_t change_ms;	/* monotonic, last membership change */
	uint64_t change_wall_ms;
	bool failover_pending;
	int64_t last_failover_ms;
};

/* ctl.c */
uint64_t ctl_wall_ms(void);
/* A node's name, or "nodeN" in 'buf'. */
const char *ctl_node_name(struct chorusd *d, uint32_t id, char *buf, size_t size);
/* A node given by name or number; 0 if none. */
uint32_t ctl_node_lookup(struct chorusd *d, const char *s);
/* Record an event: history, notification hook, `events -f` followers. */
void ctl_event_add(struct chorusd *d, const char *type, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ctl_status.c */
const char *ctl_state_name(enum core_node_state st);
struct json_object *ctl_status_json(struct chorusd *d);
struct json_object *ctl_nodes_json(struct chorusd *d, bool *all_active);
struct json_object *ctl_vips_json(struct chorusd *d, size_t *unplaced);
/* What would move if 'fail' failed or 'standby' went to standby (0 = no
 * change): 0, or -ENOENT for an unknown node. */
int ctl_plan_json(struct chorusd *d, uint32_t fail, uint32_t standby, struct json_object **out);

/* ctl_metrics.c */
char *ctl_metrics_text(struct chorusd *d, size_t *len);
char *ctl_metrics_text_cb(void *ud, size_t *len);
struct json_object *ctl_metrics_json(struct chorusd *d);

#endif
