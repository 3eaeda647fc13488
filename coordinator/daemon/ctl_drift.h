/*
 * The configuration drift check, daemon side: which members run a
 * chorus.json that differs from ours in a cluster-wide key (their digests
 * travel in STATE; core_conf_diff() compares them), by key name.
 */
#ifndef CHORUS_DAEMON_CTL_DRIFT_H
#define CHORUS_DAEMON_CTL_DRIFT_H

#include <stddef.h>
#include <stdint.h>

#include <json.h>

struct core;

/* The keys of 'mask' (bits by conf_digest_keys[] index), ", "-separated. */
void drift_keys_text(uint32_t mask, char *buf, size_t n);
/* The same as a JSON array of strings (NULL on ENOMEM). */
struct json_object *drift_keys_json(uint32_t mask);
/* Members whose configuration differs: their ids and masks, ascending by
 * id, at most 'max'; returns how many. */
size_t drift_scan(const struct core *c, uint32_t *ids, uint32_t *masks, size_t max);

#endif
