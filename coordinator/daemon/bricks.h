/*
 * chorusd's brick side (bricks.c): brick actuation, the Gluster inventory,
 * the fence command and the watchdog, for the daemon.  See bricks.c.
 */
#ifndef CHORUS_BRICKS_H
#define CHORUS_BRICKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/res.h"
#include "exec/brick.h"

struct chorusd;
struct json_object;
struct inventory;
struct inventory_set;

int bricks_start(struct chorusd *d);
void bricks_stop(struct chorusd *d);
/* Resource 'vi' is a brick that died here more often than it may restart
 * in place: held unservable on this node for a while (health.c). */
bool bricks_failed(const struct chorusd *d, size_t vi);
/* Start-up probes still running: do not join the group yet. */
bool bricks_probing(const struct chorusd *d);
/* The first inventory has not come yet (and start-up has not waited
 * BRICKS_INVENTORY_WAIT_MS for it): do not join yet, so that our first STATE
 * declares glusterd's sets and bricks are first placed with them. */
#define BRICKS_INVENTORY_WAIT_MS 10000
bool bricks_inventory_pending(const struct chorusd *d);
/* The set id local resource 'vi' is declared with (0: none, or no brick). */
uint32_t bricks_set_id(const struct chorusd *d, size_t vi);
/* The brick kind of local resource (daemon.h, bricks_kind): ACQUIRE and
 * RELEASE of brick resources, adopting the bricks the start-up probes found
 * running, stopping them all when there is no cluster. */
/* CORE_ACT_FENCE: run the fence command; CORE_EV_FENCED reports back. */
void bricks_fence(struct chorusd *d, uint32_t node);
/* Re-read "gluster volume info" now (a glusterd hook fired). */
void bricks_inventory_refresh(struct chorusd *d, const char *why);
/* Whether an operator move of address 'a' is refused: a brick's, while this
 * node's inventory says cluster.brick-multiplex is on.  The brick script
 * then refuses to start a brick, so a moved brick would be stopped where it
 * runs and started nowhere. */
bool bricks_move_refused(const struct chorusd *d, const struct res_addr *a);
/* The local resource index of the brick 'host':'path', or -ENOENT. */
long bricks_find(const struct chorusd *d, const char *host, const char *path);
/* CORE_ACT_CLEANUP: end this node's failure hold (bricks.failure_hold_ms)
 * of the brick behind local resource 'vi' (SIZE_MAX: of every brick) now,
 * as the operator asked every node (or this one) through the cluster.
 * Returns how many holds ended. */
size_t bricks_cleanup(struct chorusd *d, size_t vi);
struct json_object *bricks_status_json(const struct chorusd *d);
/* bricks_sets.c: each brick's set from the inventory ('inv' NULL: none yet)
 * and chorus.json's overrides, into 'sets' (one per brick); logs what
 * changed and every new disagreement.  True when a set id changed. */
bool bricks_sets_update(struct chorusd *d, struct inventory_set *sets,
			const struct inventory *inv);
uint32_t bricks_sets_id(const struct chorusd *d, const struct inventory_set *sets, size_t vi);
/* Tell the core (CORE_EV_SETS); nothing before it exists. */
void bricks_sets_declare(struct chorusd *d, const struct inventory_set *sets);
/* Brick 'b''s "set" object for status, into 'x'. */
void bricks_sets_json(const struct chorusd *d, const struct inventory_set *s, size_t b,
		      struct json_object *x);
/* bricks_resolve.c: before anything is declared, fill in the bricks that
 * left their volume and path to glusterd (conf_bricks_resolve); the others
 * go to d->unresolved.  -EAGAIN: one of those has its address up here, so
 * chorusd must not start. */
int bricks_resolve_at_start(struct chorusd *d);
/* Whether inventory 'inv' names a brick for an entry left out at start-up
 * (then chorusd restarts in place to declare it). */
bool bricks_resolve_more(struct chorusd *d, const struct inventory *inv);
/* The entries left out, as "not_declared" in status object 'o'. */
void bricks_unresolved_json(const struct chorusd *d, struct json_object *o);
/* bricks_here.c: the bricks this node may be running, kept across restarts
 * in state_dir/bricks-here.json so that one no longer declared is stopped
 * before joining.  Load: 0 with '*out' (caller frees; none when the file is
 * missing) or -errno with 'err' saying why.  Save: 0 or -errno. */
struct brick_here {
	struct brick_def def;
	struct res_addr addr;		/* with prefix */
	char ifname[CHORUS_NAME_MAX];
};
int bricks_here_load(const char *state_dir, struct brick_here **out, size_t *n, char *err,
		     size_t err_size);
int bricks_here_save(const char *state_dir, const struct brick_here *h, size_t n);
/* Fence commands this node ran that succeeded / failed (metrics). */
void bricks_fence_counts(const struct chorusd *d, uint64_t *ok, uint64_t *failed);

#endif
