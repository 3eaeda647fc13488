/*
 * Start-up's use of the record of what may run here (bricks_here.c): each
 * recorded brick that bricks.list no longer declares is probed and, if it
 * runs, stopped and its address removed before chorusd joins; and the
 * record is rewritten whenever what may run here changes.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include "adapters/conf.h"
#include "daemon/bricks_private.h"
#include "exec/vip.h"

/* The recorded bricks (bricks_here.c) this node no longer declares. */
void bricks_orphans_find(struct bricks *bs, struct brick_here *here, size_t n_here)
{
	const struct chorus_conf *c = bs->d->conf;

	for (size_t i = 0; i < n_here; i++) {
		bool declared = false;

		for (size_t b = 0; b < c->n_bricks && !declared; b++)
			declared = strcmp(c->bricks[b].host, here[i].def.host) == 0 &&
				   strcmp(c->bricks[b].path, here[i].def.path) == 0;
		if (!declared)
			here[bs->n_orph++] = here[i];
	}
	bs->orph = here;
}

/* A recorded brick this node no longer declares: stop it (if it runs) and
 * remove its address before joining, else another node would start it
 * beside this one.  One that cannot be stopped ends the daemon: joining
 * would be unsafe, and the service manager retries. */
void bricks_orphan_cb(struct chorusd *d, size_t o, enum brick_event e, int err,
		      const char *reason)
{
	struct bricks *bs = B(d);
	const struct brick_here *h = &bs->orph[o];
	struct vip_local vl = {.addr = h->addr};

	memcpy(vl.ifname, h->ifname, sizeof(vl.ifname));
	if (e == BRICK_EV_PROBED && bs->orph_state[o] == ORPH_PROBING) {
		if (err == -ENOENT) {
			qb_log(LOG_INFO, "brick %s:%s no longer declared and not running here",
			       h->def.host, h->def.path);
		} else {
			/* running, or cannot tell: stop it */
			qb_log(LOG_WARNING, "brick %s:%s runs here but is no longer declared: "
			       "stopping it before joining", h->def.host, h->def.path);
			bs->orph_state[o] = ORPH_STOPPING;
			if (brick_exec_release(bs->bx, bs->n + o) == 0)
				return;
			err = -EIO;
			reason = "cannot run the brick script";
			e = BRICK_EV_RELEASED;
		}
	}
	if (e == BRICK_EV_RELEASED && bs->orph_state[o] == ORPH_STOPPING && err < 0) {
		qb_log(LOG_CRIT, "brick %s:%s, no longer declared, could not be stopped (%s): not "
		       "joining, since another node would start it", h->def.host, h->def.path,
		       reason ? reason : "failed");
		d->exit_code = CHORUSD_EXIT_UNSAFE;	/* qb_loop_run() clears a stop made
						 * before it: main() checks 'exiting' */
		daemon_exit(d);
		return;
	}
	if (bs->orph_state[o] == ORPH_DONE || (e != BRICK_EV_PROBED && e != BRICK_EV_RELEASED))
		return;
	if (e == BRICK_EV_RELEASED)
		qb_log(LOG_NOTICE, "brick %s:%s, no longer declared, stopped", h->def.host,
		       h->def.path);
	/* its address, if a previous instance left it: nobody declares it here */
	if (vip_cleanup(&vl, 1) > 0)
		qb_log(LOG_NOTICE, "removed the address of brick %s:%s", h->def.host, h->def.path);
	bs->orph_state[o] = ORPH_DONE;
	bs->probes_left--;
}

/* Write the record when what may run here changed (bricks_here.c). */
void bricks_here_update(struct bricks *bs)
{
	const struct chorus_conf *c = bs->d->conf;
	struct brick_here *h;
	size_t n = 0;
	int rc;

	if (bs->want == NULL)
		return;
	h = calloc(bs->n + bs->n_orph + 1, sizeof(*h));
	if (h == NULL)
		return;
	for (size_t b = 0; b < bs->n; b++) {
		const struct conf_brick *cb = &c->bricks[b];
		struct brick_def *x = &h[n].def;

		if (!bs->want[b] && !brick_exec_held(bs->bx, b) && !brick_exec_busy(bs->bx, b))
			continue;
		snprintf(x->volume, sizeof(x->volume), "%s", cb->volume);
		snprintf(x->host, sizeof(x->host), "%s", cb->host);
		snprintf(x->path, sizeof(x->path), "%s", cb->path);
		snprintf(x->device, sizeof(x->device), "%s", cb->device);
		snprintf(x->fstype, sizeof(x->fstype), "%s", cb->fstype);
		snprintf(x->mount_options, sizeof(x->mount_options), "%s", cb->mount_options);
		snprintf(x->home_uuid, sizeof(x->home_uuid), "%s", cb->home_uuid);
		h[n].addr = cb->addr;
		memcpy(h[n].ifname, cb->ifname, sizeof(h[n].ifname));
		n++;
	}
	for (size_t o = 0; o < bs->n_orph; o++)
		if (bs->orph_state[o] != ORPH_DONE)
			h[n++] = bs->orph[o];
	/* the same list as last time: nothing to write (h is calloc'ed and
	 * filled field by field, so equal lists compare equal byte for byte) */
	if (bs->here_saved != NULL && bs->here_len == n &&
	    memcmp(h, bs->here_saved, n * sizeof(*h)) == 0) {
		free(h);
		return;
	}
	rc = bricks_here_save(c->state_dir, h, n);
	if (rc < 0) {
		qb_log(LOG_ERR, "cannot record the bricks that run here in %s: %s", c->state_dir,
		       strerror(-rc));
		free(h);
		return;
	}
	free(bs->here_saved);
	bs->here_saved = h;
	bs->here_len = n;
}
