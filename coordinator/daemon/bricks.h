/*
 * chorusd's brick side (bricks.c): brick actuation, the Gluster inventory,
 * the fence command and the watchdog, for the daemon.  See bricks.c.
 */
#ifndef CHORUS_BRICKS_H
#define CHORUS_BRICKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct chorusd;
struct json_object;

int bricks_start(struct chorusd *d);
void bricks_stop(struct chorusd *d);
/* Start-up probes still running: do not join the group yet. */
bool bricks_probing(const struct chorusd *d);
/* Claim (CORE_EV_ADOPT) the bricks the probes found running. */
void bricks_adopt(struct chorusd *d);
/* Local resource 'vi' (conf->vips index) is a brick. */
bool bricks_is_brick(const struct chorusd *d, size_t vi);
/* Carry out the core's ACQUIRE / RELEASE of brick resource 'vi'; the result
 * comes back as CORE_EV_ACQUIRED / CORE_EV_RELEASED through daemon_step(). */
int bricks_acquire(struct chorusd *d, size_t vi);
int bricks_release(struct chorusd *d, size_t vi);
/* CORE_ACT_FENCE: run the fence command; CORE_EV_FENCED reports back. */
void bricks_fence(struct chorusd *d, uint32_t node);
/* Re-read "gluster volume info" now (a glusterd hook fired). */
void bricks_inventory_refresh(struct chorusd *d, const char *why);
/* End this node's failure hold (bricks.failure_hold_ms) of the brick
 * 'host':'path' now: the operator fixed what made it fail here.  Returns 1
 * if it was held, 0 if not, -ENOENT if no such brick is configured. */
int bricks_cleanup(struct chorusd *d, const char *host, const char *path);
/* No corosync: stop every brick a previous instance left running. */
void bricks_release_all(struct chorusd *d);
struct json_object *bricks_status_json(const struct chorusd *d);

#endif
