/*
 * chorusctl's printers: tables and summaries for people, built only from
 * the keys documented for each result (chorusctl(8)); unknown keys are
 * ignored.  Colour is used only when 'chorusctl_color' is set.
 */
#ifndef CHORUS_CHORUSCTL_PRINT_H
#define CHORUS_CHORUSCTL_PRINT_H

#include <stdbool.h>
#include <stdint.h>

#include <json.h>

extern bool chorusctl_color;

/* Borrowed members of object 'o', or NULL/'def'/false/-1 when 'o' is not an
 * object, 'key' is missing, or its value has another type. */
struct json_object *chorusctl_jget(struct json_object *o, const char *key);
const char *chorusctl_jstr(struct json_object *o, const char *key, const char *def);
bool chorusctl_jint(struct json_object *o, const char *key, int64_t *out);
int chorusctl_jbool(struct json_object *o, const char *key);	/* 1, 0 or -1 */
struct json_object *chorusctl_jarray(struct json_object *o, const char *key);

/* Tables of a "nodes" or "vips" array, each line starting with 'indent'.
 * 'nodes', if not NULL, names the node an address is pinned to. */
void chorusctl_print_nodes(struct json_object *nodes, const char *indent);
void chorusctl_print_vips(struct json_object *vips, struct json_object *nodes, const char *indent);
/* The status result; returns 0 if the cluster is healthy, else 1. */
int chorusctl_print_status(struct json_object *res);
/* The bricks section of status (or of `chorusctl bricks`); false when the
 * answer has none. */
bool chorusctl_print_bricks(struct json_object *res, bool alone);
/* One event: a line for people, or with 'json' one line of JSON. */
void chorusctl_print_event(struct json_object *ev, bool json);
/* The answer of `events --core`: one line per core event, oldest first,
 * stamped with the daemon's monotonic clock and how long ago it was. */
void chorusctl_print_core_events(struct json_object *res);
/* A plan result, introduced by the scenario asked about. */
void chorusctl_print_plan(struct json_object *res, const char *fail, const char *standby);
/* The moves a change made ("moves" in its answer); 'asked' (or NULL) is
 * the address the operator named, any other is marked a side move. */
void chorusctl_print_change_moves(struct json_object *res, const char *asked);

#endif
