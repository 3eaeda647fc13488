/*
 * Service hooks (chorus-hooks(7)): per VIP pool, scripts run after an
 * address is taken (takeip) and before it is released (releaseip), for the
 * service in front of the storage: NFS-Ganesha's grace period, Samba's
 * interfaces.
 *
 * - takeip runs after the address is up and announced; nobody waits for it.
 * - A planned releaseip runs while the address is still up, and the release
 *   (address removal, RELEASED to the cluster) waits for it, bounded by the
 *   hooks' timeouts: on a planned move the old owner's service has let go
 *   before the new owner's takeip starts.
 * - When this node loses quorum or corosync the address goes at once
 *   (hooks_lost, after the fact) and a release still waiting for its hook
 *   is finished without it (hooks_hurry): safety never waits for a script.
 * - Runs for one address are serial and in order; at most HOOKS_PARALLEL
 *   scripts run at once, so a node taking over hundreds of addresses does
 *   not fork hundreds of processes.  A takeip that never started is dropped
 *   with the release that follows it.
 * - A failed hook is logged with its output and counted; it never changes
 *   placement (health plugins do that).
 */
#ifndef CHORUS_HOOKS_H
#define CHORUS_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qb/qbloop.h>

#include "adapters/conf.h"

#define HOOKS_PARALLEL 16

struct hooks;
struct json_object;

/* The planned release of conf vip 'idx' may go ahead now: remove the
 * address and report it. */
typedef void (*hooks_release_fn)(void *ud, size_t idx);

/* 'conf' must outlive the hooks.  Returns 0 or -errno. */
int hooks_new(qb_loop_t *loop, const struct chorus_conf *conf, hooks_release_fn release,
	      void *ud, struct hooks **out);

/* Kill every running hook (no callback is called) and free.  Accepts NULL. */
void hooks_free(struct hooks *h);

/* This node's corosync id, for CHORUS_NODEID (known once connected). */
void hooks_set_nodeid(struct hooks *h, uint32_t nodeid);

/* Conf vip 'idx' has hooks (accepts NULL). */
bool hooks_has(const struct hooks *h, size_t idx);

/* Address 'idx' was added and announced. */
void hooks_takeip(struct hooks *h, size_t idx);

/* A planned release of address 'idx'.  Returns true if releaseip hooks
 * run first: the release callback is called once they are done (already,
 * if none could start).  False: no hook to wait for (none configured, or
 * the takeip never ran): release now. */
bool hooks_releaseip(struct hooks *h, size_t idx);

/* Address 'idx' is already gone (quorum or corosync lost). */
void hooks_lost(struct hooks *h, size_t idx);

/* The node is dropping everything: every release still waiting for a hook
 * is finished now through the release callback (the hooks go on). */
void hooks_hurry(struct hooks *h);

/* {"configured", "runs", "failures", "running", "queued", "last_failure"} */
struct json_object *hooks_status_json(const struct hooks *h);

#endif
