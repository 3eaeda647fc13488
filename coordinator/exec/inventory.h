/*
 * The Gluster brick inventory: what "gluster volume info --xml" says about
 * every volume's bricks, for chorusd to match against the bricks this node
 * declared (which LUNs it can see) and to learn each brick's home UUID and
 * replica or disperse set (placement keeps a set's bricks apart).
 *
 * The CLI runs off the loop through script.c (bounded output, timeout); the
 * XML is parsed with libxml2 and every value is checked before use: the CLI
 * is another program, and volume names and paths end up in brick scripts'
 * environments.
 */
#ifndef CHORUS_INVENTORY_H
#define CHORUS_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exec/script.h"

#define INVENTORY_VOLNAME_MAX 128	/* incl. NUL */
#define INVENTORY_HOST_MAX 256		/* incl. NUL */
#define INVENTORY_PATH_MAX 1024		/* incl. NUL */
#define INVENTORY_UUID_LEN 36
#define INVENTORY_BRICKS_MAX 8192	/* per answer */
#define INVENTORY_XML_MAX (4 * 1024 * 1024)

enum inventory_vol_type {
	INVENTORY_DISTRIBUTE,
	INVENTORY_REPLICATE,		/* incl. distributed-replicate */
	INVENTORY_DISPERSE,		/* incl. distributed-disperse */
	INVENTORY_OTHER,
};

struct inventory_brick {
	char volume[INVENTORY_VOLNAME_MAX];
	enum inventory_vol_type type;
	bool started;			/* the volume's status is "Started" */
	uint32_t index;			/* position among the volume's bricks */
	bool in_set;			/* replicate or disperse: 'set' is meaningful */
	uint32_t set;			/* replica/disperse set: index / set size, so
					 * sets are numbered 0, 1, ... in brick order;
					 * 0 and !in_set for distribute (no set) */
	bool arbiter;
	char host[INVENTORY_HOST_MAX];
	char path[INVENTORY_PATH_MAX];
	char uuid[INVENTORY_UUID_LEN + 1];	/* home node (glusterd's brick uuid) */
};

struct inventory {
	size_t n;
	struct inventory_brick *bricks;	/* in the CLI's order: by volume, then index */
	size_t n_volumes;
	bool brick_multiplex;		/* cluster.brick-multiplex is on: glusterd runs
					 * bricks together in one glusterfsd, which
					 * chorus cannot move one by one.  A pool-wide
					 * option, listed among every volume's options
					 * once set (glusterd 10.3,
					 * glusterd_add_volume_detail_to_dict) */
};

/* Parse 'size' bytes of "gluster volume info --xml" output.  On success
 * '*out' is a new inventory for the caller to inventory_free().  On failure
 * returns -EINVAL (malformed or hostile), -ENOENT (the CLI reported an error,
 * e.g. no such volume), -E2BIG (over the limits) or -ENOMEM, and writes a
 * reason to 'err' (may be NULL). */
int inventory_parse(const char *xml, size_t size, struct inventory **out, char *err,
		    size_t err_size);

void inventory_free(struct inventory *inv);

/* The brick of 'inv' with this host and path, or NULL. */
const struct inventory_brick *inventory_find(const struct inventory *inv, const char *host,
					     const char *path);

/*
 * A brick's replica/disperse set, for placement (rule 8 keeps a set's bricks
 * on distinct nodes): glusterd's, unless chorus.json's "set" overrides it.
 * glusterd's sets are named by their number within the volume, "0", "1",
 * ... in brick order, so an override that names the same grouping the same
 * way agrees with it, and every node that reads the same volume info names
 * a set alike.  A distribute brick has no set.
 */
enum inventory_set_source {
	INVENTORY_SET_NONE,		/* neither says (or not in gluster and no override) */
	INVENTORY_SET_GLUSTER,
	INVENTORY_SET_CONFIG,
};

struct inventory_set {
	enum inventory_set_source source;
	uint32_t id;			/* inventory_set_id() of 'volume' and 'name'; 0 = none */
	char volume[INVENTORY_VOLNAME_MAX];	/* the volume the set is in, "" = none */
	char name[INVENTORY_VOLNAME_MAX];	/* within it, "" = none */
	bool in_gluster;		/* the brick is in the inventory */
	bool gluster_in_set;		/* and glusterd puts it in a set: */
	uint32_t gluster_set;		/* that one */
	bool conflict;			/* an override glusterd disagrees with (a
					 * different set, or none at all) */
};

/* The cluster-wide set id: FNV-1a of "volume/name", never 0 (0 = no set). */
uint32_t inventory_set_id(const char *volume, const char *name);

/* The set of brick 'host':'path' of 'volume' (the config's) from 'inv' (NULL:
 * none read yet) and the config's override 'config_set' ("" = none). */
void inventory_set_of(const struct inventory *inv, const char *volume, const char *host,
		      const char *path, const char *config_set, struct inventory_set *out);

/* Called once from the loop: 'rc' 0 with 'inv' (owned by the callee), or
 * -errno with a reason (the CLI failed, timed out, or said something we
 * refuse) and 'inv' NULL. */
typedef void (*inventory_done_fn)(void *data, int rc, struct inventory *inv, const char *reason);

struct inventory_fetch_cfg {
	const char *gluster;		/* CLI path; NULL = /usr/sbin/gluster */
	uint32_t timeout_ms;		/* 0 = 30 s */
};

struct inventory_fetch;

/* Run "gluster --mode=script volume info all --xml" through 'sr' and parse
 * its output.  Returns 0 (then 'done' is called exactly once, unless the
 * fetch is cancelled) or -errno of script_run.  '*out' (may be NULL) is the
 * handle for inventory_fetch_cancel(), valid until 'done' is called. */
int inventory_fetch(struct script_runner *sr, const struct inventory_fetch_cfg *cfg,
		    inventory_done_fn done, void *data, struct inventory_fetch **out);

/* Stop a fetch in progress ('done' is not called).  Call it for a fetch in
 * progress before script_runner_free(), which calls no callbacks. */
void inventory_fetch_cancel(struct inventory_fetch *f);

#endif
