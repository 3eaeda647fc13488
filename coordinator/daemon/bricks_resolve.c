/*
 * Bricks named by glusterd (issue 17): a bricks.list entry may leave out
 * "volume" and "path", which glusterd knows, and keep only what it cannot
 * know (host, address, interface, device, fstype).  The brick is the one
 * glusterd's volume info puts on the entry's host.
 *
 * The table every member places from is the union of the members'
 * declarations, merged at a round; a node declares a brick only once it
 * knows its path (the brick script needs it), so resolution happens before
 * anything is declared: at start-up, before the address executor exists,
 * chorusd runs "gluster volume info" (the inventory's own fetch, off the
 * process, at most BRICKS_INVENTORY_WAIT_MS) and fills in the entries.  An
 * entry that names no brick, or several, is left out of this node's
 * declarations with the reason (status shows it); the other nodes may still
 * serve it.  The answer is handed to bricks.c as its first inventory, so
 * start-up costs one CLI run, not two.
 *
 * When a later inventory (a glusterd hook, the periodic refresh) resolves an
 * entry that was left out, chorusd restarts in place, as "chorusctl reload"
 * does: addresses and bricks stay up and nothing moves, and the new process
 * declares the brick at its first round.  Declarations change only at a
 * round, so this is the one way in that needs no new protocol.  An entry
 * that resolved keeps its brick for the life of the process; if glusterd
 * later names another, the inventory's "not in gluster's volume list"
 * warning says so, and the next restart follows glusterd.
 *
 * When glusterd does not answer at start-up (it starts after chorusd, or is
 * down), the record of the bricks this node ran last (bricks_here.c) names
 * them instead, so a restart keeps what runs here; the rest wait for
 * glusterd.
 *
 * Safety: an entry that cannot be resolved while its address is up on this
 * node may be a brick a previous instance ran here.  If the record names
 * that brick, it is stopped before joining like any recorded brick no
 * longer declared (bricks_orphans.c).  If not (the record was lost), it can
 * neither be probed nor stopped without its path, and leaving it out would
 * let another node start it beside the running one, so chorusd refuses to
 * start (the service manager retries) rather than join.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>
#include <qb/qblog.h>

#include "adapters/conf.h"
#include "daemon/bricks.h"
#include "daemon/daemon.h"
#include "exec/inventory.h"
#include "exec/script.h"
#include "exec/vip.h"

struct first_fetch {
	qb_loop_t *loop;
	bool done;
	int rc;
	struct inventory *inv;
	char reason[256];
};

static void first_done(void *data, int rc, struct inventory *inv, const char *reason)
{
	struct first_fetch *f = data;

	f->done = true;
	f->rc = rc;
	f->inv = inv;
	snprintf(f->reason, sizeof(f->reason), "%s", reason ? reason : "failed");
	qb_loop_stop(f->loop);
}

static void first_timeout(void *data)
{
	struct first_fetch *f = data;

	qb_loop_stop(f->loop);
}

/* glusterd's bricks as conf_bricks_resolve() takes them ('*out' borrows
 * from 'inv'). */
static int gluster_list(const struct inventory *inv, struct conf_gluster_brick **out)
{
	struct conf_gluster_brick *g = calloc(inv->n + 1, sizeof(*g));

	if (g == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < inv->n; i++)
		g[i] = (struct conf_gluster_brick){inv->bricks[i].volume, inv->bricks[i].host,
						   inv->bricks[i].path};
	*out = g;
	return 0;
}

/* The record's bricks (bricks_here.c) the same way. */
static int here_list(const struct brick_here *h, size_t n, struct conf_gluster_brick **out)
{
	struct conf_gluster_brick *g = calloc(n + 1, sizeof(*g));

	if (g == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		g[i] = (struct conf_gluster_brick){h[i].def.volume, h[i].def.host, h[i].def.path};
	*out = g;
	return 0;
}

/* Whether an address of the unresolved entries is up here now, of a brick
 * the record does not name (one it names is stopped before joining, as
 * any recorded brick no longer declared: bricks_orphans.c). */
static int unresolved_held(struct chorusd *d, const struct brick_here *here, size_t n_here,
			   char *which, size_t size)
{
	struct vip_exec_config vc = {0};
	struct vip_local *vl = calloc(d->n_unresolved, sizeof(*vl));
	bool *held = calloc(d->n_unresolved, sizeof(*held));
	struct vip_exec *x = NULL;
	int rc;

	if (vl == NULL || held == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < d->n_unresolved; i++) {
		vl[i].addr = d->unresolved[i].brick.addr;
		memcpy(vl[i].ifname, d->unresolved[i].brick.ifname, sizeof(vl[i].ifname));
	}
	rc = vip_exec_new(d->loop, &vc, vl, d->n_unresolved, NULL, NULL, &x);
	if (rc == 0)
		rc = vip_exec_scan(x, held);
	for (size_t i = 0; rc >= 0 && i < d->n_unresolved; i++) {
		bool recorded = false;

		for (size_t k = 0; k < n_here && !recorded; k++)
			recorded = res_addr_cmp(&here[k].addr, &vl[i].addr) == 0;
		if (held[i] && !recorded) {
			res_addr_format(&vl[i].addr, which, size);
			rc = 1;
			break;
		}
	}
out:
	vip_exec_free(x);
	free(vl);
	free(held);
	return rc;
}

int bricks_resolve_at_start(struct chorusd *d)
{
	struct chorus_conf *c = d->conf;
	struct inventory_fetch_cfg cfg = {.gluster = c->gluster_cli,
					  .timeout_ms = BRICKS_INVENTORY_WAIT_MS};
	struct first_fetch f = {.loop = d->loop};
	struct script_runner *sr = NULL;
	struct inventory_fetch *fetch = NULL;
	struct conf_gluster_brick *g = NULL;
	qb_loop_timer_handle t = 0;
	struct brick_here *here = NULL;
	size_t n_here = 0;
	char addr[CHORUS_ADDR_STRLEN], herr[256];
	size_t n_left = 0;
	int rc;

	for (size_t b = 0; b < c->n_bricks; b++)
		n_left += c->bricks[b].from_gluster;
	if (n_left == 0)
		return 0;
	qb_log(LOG_INFO, "%zu brick(s) named by glusterd: reading its volume info", n_left);
	rc = script_runner_new(d->loop, &sr);
	if (rc == 0)
		rc = inventory_fetch(sr, &cfg, first_done, &f, &fetch);
	if (rc == 0) {
		/* the CLI's own timeout ends it first; this is the backstop
		 * for a child that ignores SIGTERM past the kill grace */
		qb_loop_timer_add(d->loop, QB_LOOP_LOW,
				  (uint64_t)(BRICKS_INVENTORY_WAIT_MS + 1000) * QB_TIME_NS_IN_MSEC, &f,
				  first_timeout, &t);
		qb_loop_run(d->loop);
		qb_loop_timer_del(d->loop, t);
		if (!f.done) {
			inventory_fetch_cancel(fetch);
			snprintf(f.reason, sizeof(f.reason), "no answer in %d ms",
				 BRICKS_INVENTORY_WAIT_MS + 1000);
			f.rc = -ETIMEDOUT;
		}
	} else {
		snprintf(f.reason, sizeof(f.reason), "cannot run %s: %s", cfg.gluster,
			 strerror(-rc));
		f.rc = rc;
	}
	script_runner_free(sr);
	/* errors are bricks_start()'s to report; here they mean no record */
	if (bricks_here_load(c->state_dir, &here, &n_here, herr, sizeof(herr)) < 0)
		n_here = 0;
	if (f.rc == 0)
		rc = gluster_list(f.inv, &g);
	else
		rc = here_list(here, n_here, &g);
	if (rc < 0)
		goto fail;
	/* glusterd silent (it starts after chorusd, or is down): the bricks
	 * this node ran last are named as they were, so a restart keeps
	 * them; the rest wait for glusterd */
	rc = conf_bricks_resolve(c, f.rc == 0 || n_here > 0 ? g : NULL,
				 f.rc == 0 ? f.inv->n : n_here, f.reason, &d->unresolved,
				 &d->n_unresolved);
	free(g);
	if (rc < 0)
		goto fail;
	for (size_t i = 0; f.rc != 0 && i < d->n_unresolved; i++)
		snprintf(d->unresolved[i].reason, sizeof(d->unresolved[i].reason),
			 "glusterd's volume info is not available (%s)%s", f.reason,
			 n_here > 0 ? " and this node did not run the brick" : "");
	for (size_t b = 0; b < c->n_bricks; b++)
		if (c->bricks[b].from_gluster)
			qb_log(LOG_NOTICE, "bricks.list[%u] (host %s): %s %s:%s%s%s%s",
			       c->bricks[b].index, c->bricks[b].host,
			       f.rc == 0 ? "glusterd's brick" : "the brick it ran last",
			       c->bricks[b].volume, c->bricks[b].path,
			       f.rc == 0 ? "" : " (glusterd's volume info is not available: ",
			       f.rc == 0 ? "" : f.reason, f.rc == 0 ? "" : ")");
	for (size_t i = 0; i < d->n_unresolved; i++)
		qb_log(LOG_WARNING, "bricks.list[%u] (host %s) is not declared here: %s; it is "
		       "declared once glusterd names it (a hook or every "
		       "bricks.inventory_interval_ms)", d->unresolved[i].brick.index,
		       d->unresolved[i].brick.host, d->unresolved[i].reason);
	rc = d->n_unresolved ? unresolved_held(d, here, n_here, addr, sizeof(addr)) : 0;
	if (rc != 0) {
		if (rc > 0)
			qb_log(LOG_CRIT, "the address %s of a brick glusterd does not name is up "
			       "here: a previous chorusd may run that brick, which can neither "
			       "be checked nor stopped without its path; not starting", addr);
		rc = rc > 0 ? -EAGAIN : rc;
		goto fail;
	}
	free(here);
	d->inv_first = f.inv;
	d->inv_first_rc = f.rc;
	snprintf(d->inv_first_reason, sizeof(d->inv_first_reason), "%s", f.reason);
	return 0;
fail:
	free(here);
	inventory_free(f.inv);
	return rc;
}

bool bricks_resolve_more(struct chorusd *d, const struct inventory *inv)
{
	const struct chorus_conf *c = d->conf;
	struct chorus_conf tmp = {0};
	struct conf_gluster_brick *g = NULL;
	struct conf_unresolved *u = NULL;
	size_t nu = 0;
	bool more = false;

	if (d->n_unresolved == 0 || gluster_list(inv, &g) < 0)
		return false;
	/* the same resolution the next process would do: what this one
	 * declares stays (its own bricks), the rest resolve anew */
	tmp.bricks = calloc(c->n_bricks + d->n_unresolved, sizeof(*tmp.bricks));
	if (tmp.bricks != NULL) {
		for (size_t b = 0; b < c->n_bricks; b++) {
			tmp.bricks[tmp.n_bricks] = c->bricks[b];
			tmp.bricks[tmp.n_bricks++].from_gluster = false;
		}
		for (size_t i = 0; i < d->n_unresolved; i++)
			tmp.bricks[tmp.n_bricks++] = d->unresolved[i].brick;
		if (conf_bricks_resolve(&tmp, g, inv->n, NULL, &u, &nu) == 0 &&
		    nu < d->n_unresolved) {
			more = true;
			for (size_t b = c->n_bricks; b < tmp.n_bricks; b++)
				qb_log(LOG_NOTICE, "bricks.list[%u] (host %s): glusterd now names "
				       "brick %s:%s", tmp.bricks[b].index, tmp.bricks[b].host,
				       tmp.bricks[b].volume, tmp.bricks[b].path);
		}
	}
	free(u);
	free(tmp.bricks);
	free(g);
	return more;
}

void bricks_unresolved_json(const struct chorusd *d, struct json_object *o)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < d->n_unresolved; i++) {
		const struct conf_unresolved *u = &d->unresolved[i];
		struct json_object *x = json_object_new_object();
		char addr[CHORUS_ADDR_STRLEN];

		res_addr_format(&u->brick.addr, addr, sizeof(addr));
		json_object_object_add(x, "index", json_object_new_int64(u->brick.index));
		json_object_object_add(x, "host", json_object_new_string(u->brick.host));
		json_object_object_add(x, "address", json_object_new_string(addr));
		json_object_object_add(x, "reason", json_object_new_string(u->reason));
		json_object_array_add(a, x);
	}
	json_object_object_add(o, "not_declared", a);
}
