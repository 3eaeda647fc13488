/*
 * The address kind of local resource (daemon.h, struct res_kind): what
 * chorusd does when the core acquires or releases a floating address.
 * Acquire: add it (exec/vip.c: netlink, GARP / NA), then tell the tickle
 * side (clients of a moved address get reset at once) and the service hooks.
 * Release: ask the hooks first (a service may need to let go of the address
 * before it vanishes), unless the node is dropping everything (lost quorum
 * or corosync), where the address goes at once and the service hears after.
 */
#include "config.h"

#include <string.h>

#include <qb/qblog.h>

#include "adapters/conf.h"
#include "daemon/daemon.h"
#include "exec/tickle.h"
#include "exec/hooks.h"
#include "exec/vip.h"

void addresses_release_now(void *ud, size_t idx)
{
	struct chorusd *d = ud;
	int rc;

	tickle_releasing(d->tk, idx);	/* reset connections while it is up */
	rc = vip_exec_release(d->vx, idx);
	daemon_result(d, CORE_EV_RELEASED, idx, rc);
}

static void addr_acquire(struct chorusd *d, size_t idx)
{
	int rc = vip_exec_acquire(d->vx, idx);

	if (rc == 0) {
		tickle_acquired(d->tk, idx);	/* after the GARP */
		hooks_takeip(d->hk, idx);
	}
	daemon_result(d, CORE_EV_ACQUIRED, idx, rc);
}

static void addr_release(struct chorusd *d, size_t idx)
{
	if (core_dropping_all(d->core)) {
		addresses_release_now(d, idx);
		hooks_lost(d->hk, idx);
		return;
	}
	if (!hooks_releaseip(d->hk, idx))
		addresses_release_now(d, idx);	/* else once releaseip ran */
}

/* Take what a previous instance left under the executor's care (renewed
 * lifetime, reconcile) before the core counts it as held: an adopted
 * address nobody renews expires in the kernel.  No announcement: the
 * cluster may give it to a survivor. */
static void addr_adopt_all(struct chorusd *d)
{
	for (size_t i = 0; i < d->conf->n_vips; i++) {
		struct core_event ev = {.type = CORE_EV_ADOPT};
		char a[CHORUS_ADDR_STRLEN];
		int rc;

		if (!d->held[i] || d->kinds[i] != &addresses_kind)
			continue;
		res_addr_format(&d->conf->vips[i].addr, a, sizeof(a));
		rc = vip_exec_adopt(d->vx, i);
		if (rc < 0) {
			qb_log(LOG_WARNING, "cannot adopt %s " QB_XS " rc=%d", a, rc);
			continue;
		}
		qb_log(LOG_NOTICE, "adopting %s, still on %s", a, d->conf->vips[i].ifname);
		ev.u.res.idx = i;
		daemon_step(d, &ev);
	}
}

/* Every configured address, bricks' included: with no cluster nothing may
 * stay up here. */
static void addr_free_all(struct chorusd *d)
{
	vip_exec_release_all(d->vx);
	for (size_t i = 0; i < d->conf->n_vips; i++)
		if (d->held[i])
			hooks_lost(d->hk, i);
	memset(d->held, 0, d->conf->n_vips * sizeof(*d->held));
}

const struct res_kind addresses_kind = {
	.name = "address",
	.acquire = addr_acquire,
	.release = addr_release,
	.adopt_all = addr_adopt_all,
	.free_all = addr_free_all,
};
