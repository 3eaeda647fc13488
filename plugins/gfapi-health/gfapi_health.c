/*
 * chorus-gfapi-health: can this node serve a Gluster volume?  One check per
 * configured volume, reported for scope "volume:NAME".
 *
 *	{"volumes": [{"name": "gv", "servers": ["127.0.0.1"], "port": 24007,
 *		      "mode": "rw", "warn_ms": 200, "fail_ms": 2000,
 *		      "subvolumes": true, "partial": "failed",
 *		      "min_free_pct": 5, "warn_free_pct": 10,
 *		      "fail_after": 3, "recover_after": 2,
 *		      "log_file": "/var/log/glusterfs/chorus-gfapi-health.log",
 *		      "log_level": 4}],
 *	 "interval_ms": 2000, "timeout_ms": 5000}
 *
 * A probe (one run of the check, on a host worker thread) does:
 *   rw mode:  stat "/", then under "/.chorus-health/<nodeid>/" create,
 *             write, fsync and close a small file, read it back and compare,
 *             unlink it; then statvfs "/".
 *   ro mode:  stat "/" and statvfs "/".
 * and in both modes (unless "subvolumes": false) reads the virtual xattr
 * trusted.glusterfs.pathinfo of "/": DHT answers it from every subvolume
 * it can reach and lists its layout, so "<DISTRIBUTE:..>" children fewer
 * than layout entries (or a "0 0" layout hole) means some bricks are
 * unreachable from here.  The rw file lives on one brick only (DHT hashes
 * its name) and statvfs sums the reachable bricks, so without this a dead
 * brick of a distribute volume goes unnoticed.  "partial": "failed"
 * (default) or "degraded" is the verdict for a partly reachable volume.
 * Verdict: any error is failed; the probe's total time above fail_ms is
 * failed, above warn_ms degraded; free space (f_bavail of f_blocks) below
 * min_free_pct is failed, below warn_free_pct (default 2 x min_free_pct)
 * degraded.  A probe that hangs (a brick that is SIGSTOPped, a silent
 * peer) is reported "timed out" by the host after timeout_ms.
 *
 * Each volume keeps one glfs_t for its lifetime: glfs_new, the volfile
 * servers, glfs_init once.  gfapi reconnects to bricks and volfile servers
 * by itself (every 3 s), so a failed probe does not replace the handle.  A
 * failed glfs_init is retried after 2, 4, 8, ... s (at most
 * 'reinit_backoff_ms', default 60000, apart).  A working handle is only
 * re-created (glfs_fini + a new one) after 'reinit_after' (default 10)
 * consecutive probes in which even stat("/") failed, and at most once per
 * 'reinit_backoff_ms': glfs_fini is slow and racy and must not be churned,
 * and a dead brick is not a reason (gfapi reconnects to it).  The handle is used from the worker that runs
 * the check only; the host never runs one check twice at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <glusterfs/api/glfs.h>
#include <json-c/json.h>

#include <chorus/plugin.h>

#define PROBE_DIR "/.chorus-health"
#define PROBE_SIZE 64

struct vol_conf {			/* what reconfigure may change in place */
	bool rw;
	uint32_t warn_ms;
	uint32_t fail_ms;
	double min_free_pct;
	double warn_free_pct;
	uint32_t reinit_after;
	uint32_t reinit_backoff_ms;
	bool subvols;			/* check that every DHT subvolume answers */
	bool partial_failed;		/* some subvolumes down: failed (else degraded) */
};

struct vol {
	char *name;
	char *scope;			/* "volume:NAME" */
	char **servers;			/* NULL-terminated */
	int port;
	char *log_file;			/* NULL: gfapi's default */
	int log_level;
	uint32_t fail_after, recover_after;
	int check_id;

	pthread_mutex_t lock;		/* protects 'conf' (main loop writes it) */
	/* Held for a whole probe: after a reconfigure re-schedules the check,
	 * a run of the cancelled check may still be in progress. */
	pthread_mutex_t run_lock;
	struct vol_conf conf;

	/* worker side (one run at a time) */
	glfs_t *fs;
	bool dir_ready;			/* per-node probe directory exists */
	uint32_t root_fail_streak;	/* consecutive probes where stat("/") failed */
	uint32_t init_failures;		/* consecutive failed glfs_init */
	int64_t last_init_ms;
	uint64_t seq;

	struct state *st;
	struct vol *next;
};

struct state {
	const struct chorus_host_api *api;
	struct chorus_plugin_ctx *ctx;
	uint32_t interval_ms;
	uint32_t timeout_ms;
	_Atomic uint32_t node_id;	/* copied from the main loop */
	int node_timer;
	struct vol *vols;
	struct vol *retired;		/* a run may still use them: freed at fini */
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void strv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **s = v; *s != NULL; s++)
		free(*s);
	free(v);
}

static void vol_free(struct vol *v)
{
	if (v == NULL)
		return;
	if (v->fs != NULL)
		glfs_fini(v->fs);
	pthread_mutex_destroy(&v->lock);
	pthread_mutex_destroy(&v->run_lock);
	free(v->name);
	free(v->scope);
	strv_free(v->servers);
	free(v->log_file);
	free(v);
}

static void vol_list_free(struct vol *v)
{
	while (v != NULL) {
		struct vol *next = v->next;

		vol_free(v);
		v = next;
	}
}

/* --- probe (worker thread) ----------------------------------------------- */

/* Drop the handle and make a new one, initialised.  0 or -errno. */
static int vol_connect(struct vol *v, char *reason, size_t reason_size)
{
	glfs_t *fs;
	int i;

	if (v->fs != NULL) {
		glfs_fini(v->fs);
		v->fs = NULL;
	}
	v->dir_ready = false;
	v->last_init_ms = mono_ms();
	fs = glfs_new(v->name);
	if (fs == NULL) {
		snprintf(reason, reason_size, "glfs_new: %s", strerror(errno));
		return -ENOMEM;
	}
	for (i = 0; v->servers[i] != NULL; i++) {
		if (glfs_set_volfile_server(fs, "tcp", v->servers[i], v->port) < 0) {
			snprintf(reason, reason_size, "volfile server %s: %s", v->servers[i],
				 strerror(errno));
			glfs_fini(fs);
			return -EINVAL;
		}
	}
	glfs_set_logging(fs, v->log_file, v->log_level);
	if (glfs_init(fs) < 0) {
		int e = errno;

		snprintf(reason, reason_size, "glfs_init: %s", strerror(e));
		glfs_fini(fs);
		return e > 0 ? -e : -EIO;
	}
	v->fs = fs;
	return 0;
}

static int probe_dir_make(struct vol *v, const char *dir)
{
	if (glfs_mkdir(v->fs, PROBE_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (glfs_mkdir(v->fs, dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	v->dir_ready = true;
	return 0;
}

/* The read/write part of a probe.  0 or -errno, '*op' names the call. */
static int probe_rw(struct vol *v, uint32_t node_id, const char **op)
{
	char dir[64], path[96], want[PROBE_SIZE], got[PROBE_SIZE + 1];
	glfs_fd_t *fd;
	ssize_t n;
	int rc = 0;

	snprintf(dir, sizeof(dir), PROBE_DIR "/%" PRIu32, node_id);
	snprintf(path, sizeof(path), "%s/probe", dir);
	memset(want, '.', sizeof(want));
	snprintf(want, sizeof(want), "chorus %" PRIu32 " %" PRIu64 " %" PRId64 "\n", node_id,
		 ++v->seq, mono_ms());

	*op = "mkdir";
	if (!v->dir_ready && (rc = probe_dir_make(v, dir)) < 0)
		return rc;
	*op = "create";
	fd = glfs_creat(v->fs, path, O_WRONLY | O_TRUNC, 0600);
	if (fd == NULL && errno == ENOENT) {		/* someone removed the directory */
		v->dir_ready = false;
		if ((rc = probe_dir_make(v, dir)) < 0)
			return rc;
		fd = glfs_creat(v->fs, path, O_WRONLY | O_TRUNC, 0600);
	}
	if (fd == NULL)
		return -errno;
	*op = "write";
	n = glfs_write(fd, want, sizeof(want), 0);
	if (n != (ssize_t)sizeof(want))
		rc = n < 0 ? -errno : -EIO;
	if (rc == 0) {
		*op = "fsync";
		if (glfs_fsync(fd, NULL, NULL) < 0)
			rc = -errno;
	}
	if (glfs_close(fd) < 0 && rc == 0) {
		*op = "close";
		rc = -errno;
	}
	if (rc < 0)
		return rc;

	*op = "open";
	fd = glfs_open(v->fs, path, O_RDONLY);
	if (fd == NULL)
		return -errno;
	*op = "read";
	n = glfs_read(fd, got, sizeof(got), 0);
	if (n < 0)
		rc = -errno;
	else if (n != (ssize_t)sizeof(want) || memcmp(got, want, sizeof(want)) != 0) {
		*op = "compare";
		rc = -EILSEQ;
	}
	glfs_close(fd);
	if (rc < 0)
		return rc;
	*op = "unlink";
	if (glfs_unlink(v->fs, path) < 0)
		return -errno;
	return 0;
}

/* Count DHT subvolumes in a pathinfo value: 'children' answering and
 * 'layout' entries ('holes' of them "0 0").  False if the volume has no
 * DHT layer (one brick, pure replicate or disperse: nothing to compare). */
static bool pathinfo_count(const char *pi, int *children, int *layout, int *holes)
{
	const char *p = strstr(pi, "<DISTRIBUTE:");
	const char *l = strstr(pi, "-dht-layout ");
	int depth = 0;

	*children = *layout = *holes = 0;
	if (p == NULL || l == NULL)
		return false;
	p = strchr(p, '>');
	for (p = p ? p + 1 : ""; *p != '\0' && !(depth == 0 && *p == ')'); p++) {
		if (*p == '<' && depth++ == 0)
			(*children)++;
		else if (*p == '>' && depth > 0)
			depth--;
	}
	for (l += strlen("-dht-layout "); (l = strchr(l, '(')) != NULL; l++) {
		const char *end = strchr(l, ')');
		size_t n = end ? (size_t)(end - l) : 0;

		(*layout)++;
		if (n > 4 && strncmp(end - 4, " 0 0", 4) == 0)
			(*holes)++;
	}
	return *layout > 0;
}

static enum chorus_health vol_probe_locked(struct chorus_plugin_ctx *ctx, struct vol *v,
					   char *reason, size_t reason_size)
{
	struct vol_conf c;
	struct stat sb;
	struct statvfs vfs;
	const char *op = "stat";
	char pathinfo[8192];
	int children = 0, layout = 0, holes = 0, down = 0;
	ssize_t n;
	uint32_t node_id = atomic_load(&v->st->node_id);
	int64_t t0, ms;
	double free_pct;
	int rc = 0;
	enum chorus_health h = CHORUS_HEALTH_OK;

	pthread_mutex_lock(&v->lock);
	c = v->conf;
	pthread_mutex_unlock(&v->lock);

	t0 = mono_ms();
	if (v->fs == NULL) {
		/* glfs_init failed before: retry after 2, 4, 8... s, at most
		 * reinit_backoff_ms apart */
		int64_t wait = v->init_failures >= 16 ? c.reinit_backoff_ms
			       : (int64_t)2000 << (v->init_failures > 0 ? v->init_failures - 1 : 0);

		if (wait > c.reinit_backoff_ms)
			wait = c.reinit_backoff_ms;
		if (v->init_failures > 0 && t0 - v->last_init_ms < wait) {
			snprintf(reason, reason_size, "not connected (glfs_init failed %" PRId64
				 " s ago, next try in %" PRId64 " s)", (t0 - v->last_init_ms) / 1000,
				 (wait - (t0 - v->last_init_ms) + 999) / 1000);
			return CHORUS_HEALTH_FAILED;
		}
	} else if (v->root_fail_streak >= c.reinit_after &&
		   t0 - v->last_init_ms >= c.reinit_backoff_ms) {
		v->st->api->log(ctx, CHORUS_LOG_NOTICE,
				"volume %s: root unreachable for %" PRIu32 " probes, re-initialising gfapi",
				v->name, v->root_fail_streak);
		glfs_fini(v->fs);
		v->fs = NULL;
	}
	if (v->fs == NULL) {
		rc = vol_connect(v, reason, reason_size);
		if (rc < 0) {
			v->init_failures++;
			return CHORUS_HEALTH_FAILED;
		}
		v->init_failures = 0;
		v->root_fail_streak = 0;
		t0 = mono_ms();		/* the init is not the probe's latency */
	}

	if (glfs_stat(v->fs, "/", &sb) < 0) {
		rc = -errno;
		v->root_fail_streak++;
	} else
		v->root_fail_streak = 0;
	if (rc == 0 && c.subvols) {
		op = "getxattr pathinfo";
		n = glfs_getxattr(v->fs, "/", "trusted.glusterfs.pathinfo", pathinfo,
				  sizeof(pathinfo) - 1);
		if (n < 0)
			rc = -errno;
		else {
			pathinfo[n] = '\0';
			if (pathinfo_count(pathinfo, &children, &layout, &holes))
				down = layout - children > holes ? layout - children : holes;
		}
	}
	if (rc == 0 && c.rw && node_id != 0)
		rc = probe_rw(v, node_id, &op);
	if (rc == 0) {
		op = "statvfs";
		if (glfs_statvfs(v->fs, "/", &vfs) < 0)
			rc = -errno;
	}
	ms = mono_ms() - t0;
	if (rc < 0) {
		snprintf(reason, reason_size, "%s: %s (after %" PRId64 " ms)", op,
			 rc == -EILSEQ ? "read back differs" : strerror(-rc), ms);
		return CHORUS_HEALTH_FAILED;
	}
	free_pct = vfs.f_blocks ? 100.0 * (double)vfs.f_bavail / (double)vfs.f_blocks : 0.0;

	if (ms > c.fail_ms || free_pct < c.min_free_pct || (down > 0 && c.partial_failed))
		h = CHORUS_HEALTH_FAILED;
	else if (ms > c.warn_ms || free_pct < c.warn_free_pct || down > 0)
		h = CHORUS_HEALTH_DEGRADED;
	if (down > 0) {
		int k = snprintf(reason, reason_size, "%d of %d subvolumes unreachable, ", down,
				 layout);

		if (k > 0 && (size_t)k < reason_size) {
			reason += k;
			reason_size -= (size_t)k;
		}
	}
	snprintf(reason, reason_size, "%s%s%" PRId64 " ms%s, %.1f%% free%s",
		 c.rw ? (node_id ? "rw " : "rw (node id unknown: read only) ") : "ro ",
		 ms > c.fail_ms ? "slow: " : ms > c.warn_ms ? "slowish: " : "", ms,
		 ms > c.warn_ms ? (ms > c.fail_ms ? " > fail_ms" : " > warn_ms") : "", free_pct,
		 free_pct < c.min_free_pct ? " < min_free_pct"
		 : free_pct < c.warn_free_pct ? " < warn_free_pct" : "");
	return h;
}

static enum chorus_health vol_probe(struct chorus_plugin_ctx *ctx, void *arg, char *reason,
				    size_t reason_size)
{
	struct vol *v = arg;
	enum chorus_health h;

	if (pthread_mutex_trylock(&v->run_lock) != 0) {
		snprintf(reason, reason_size, "the previous probe is still running");
		return CHORUS_HEALTH_FAILED;
	}
	h = vol_probe_locked(ctx, v, reason, reason_size);
	pthread_mutex_unlock(&v->run_lock);
	return h;
}

/* --- configuration (main loop) ------------------------------------------- */

static bool json_u32(json_object *o, const char *key, uint32_t def, uint32_t *out)
{
	json_object *x;
	int64_t n;

	*out = def;
	if (!json_object_object_get_ex(o, key, &x))
		return true;
	if (!json_object_is_type(x, json_type_int))
		return false;
	n = json_object_get_int64(x);
	if (n < 0 || n > UINT32_MAX)
		return false;
	*out = (uint32_t)n;
	return true;
}

static bool json_pct(json_object *o, const char *key, double def, double *out)
{
	json_object *x;

	*out = def;
	if (!json_object_object_get_ex(o, key, &x))
		return true;
	if (!json_object_is_type(x, json_type_int) && !json_object_is_type(x, json_type_double))
		return false;
	*out = json_object_get_double(x);
	return *out >= 0 && *out <= 100;
}

static int vol_parse(struct state *st, json_object *o, struct vol **out)
{
	const struct chorus_host_api *api = st->api;
	json_object *x, *srv;
	struct vol *v;
	const char *s;
	uint32_t port, level;
	size_t i, n;

	*out = NULL;
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	pthread_mutex_init(&v->lock, NULL);
	pthread_mutex_init(&v->run_lock, NULL);
	v->st = st;
	if (!json_object_object_get_ex(o, "name", &x) || !json_object_is_type(x, json_type_string) ||
	    !*(s = json_object_get_string(x))) {
		api->log(st->ctx, CHORUS_LOG_ERR, "a volume without a \"name\"");
		goto bad;
	}
	v->name = strdup(s);
	if (v->name == NULL || asprintf(&v->scope, "volume:%s", s) < 0) {
		v->scope = NULL;
		goto nomem;
	}
	if (!json_object_object_get_ex(o, "servers", &srv) ||
	    !json_object_is_type(srv, json_type_array) || json_object_array_length(srv) == 0) {
		api->log(st->ctx, CHORUS_LOG_ERR, "volume %s: \"servers\" must be a non-empty array",
			 v->name);
		goto bad;
	}
	n = json_object_array_length(srv);
	v->servers = calloc(n + 1, sizeof(char *));
	if (v->servers == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		x = json_object_array_get_idx(srv, i);
		if (!json_object_is_type(x, json_type_string)) {
			api->log(st->ctx, CHORUS_LOG_ERR, "volume %s: servers must be strings", v->name);
			goto bad;
		}
		v->servers[i] = strdup(json_object_get_string(x));
		if (v->servers[i] == NULL)
			goto nomem;
	}
	v->conf.rw = true;
	v->conf.subvols = true;
	v->conf.partial_failed = true;
	if (json_object_object_get_ex(o, "subvolumes", &x)) {
		if (!json_object_is_type(x, json_type_boolean)) {
			api->log(st->ctx, CHORUS_LOG_ERR, "volume %s: \"subvolumes\" must be a boolean",
				 v->name);
			goto bad;
		}
		v->conf.subvols = json_object_get_boolean(x);
	}
	if (json_object_object_get_ex(o, "partial", &x)) {
		s = json_object_get_string(x);
		if (s != NULL && !strcmp(s, "degraded"))
			v->conf.partial_failed = false;
		else if (s == NULL || strcmp(s, "failed") != 0) {
			api->log(st->ctx, CHORUS_LOG_ERR,
				 "volume %s: partial must be \"failed\" or \"degraded\"", v->name);
			goto bad;
		}
	}
	if (json_object_object_get_ex(o, "mode", &x)) {
		s = json_object_get_string(x);
		if (s != NULL && (!strcmp(s, "ro") || !strcmp(s, "read-only")))
			v->conf.rw = false;
		else if (s == NULL || strcmp(s, "rw") != 0) {
			api->log(st->ctx, CHORUS_LOG_ERR, "volume %s: mode must be \"rw\" or \"ro\"",
				 v->name);
			goto bad;
		}
	}
	if (json_object_object_get_ex(o, "log_file", &x)) {
		v->log_file = strdup(json_object_get_string(x));
		if (v->log_file == NULL)
			goto nomem;
	}
	if (!json_u32(o, "port", 24007, &port) || port == 0 || port > 65535 ||
	    !json_u32(o, "log_level", 4, &level) || level > 9 ||
	    !json_u32(o, "warn_ms", 200, &v->conf.warn_ms) ||
	    !json_u32(o, "fail_ms", 2000, &v->conf.fail_ms) ||
	    !json_u32(o, "fail_after", CHORUS_CHECK_FAIL_AFTER_DEFAULT, &v->fail_after) ||
	    !json_u32(o, "recover_after", CHORUS_CHECK_RECOVER_AFTER_DEFAULT, &v->recover_after) ||
	    v->fail_after == 0 || v->recover_after == 0 ||
	    !json_u32(o, "reinit_after", 10, &v->conf.reinit_after) ||
	    !json_u32(o, "reinit_backoff_ms", 60000, &v->conf.reinit_backoff_ms) ||
	    !json_pct(o, "min_free_pct", 5, &v->conf.min_free_pct) ||
	    !json_pct(o, "warn_free_pct", 2 * v->conf.min_free_pct > 100 ? 100 : 2 * v->conf.min_free_pct,
		      &v->conf.warn_free_pct)) {
		api->log(st->ctx, CHORUS_LOG_ERR, "volume %s: a number is out of range", v->name);
		goto bad;
	}
	v->port = (int)port;
	v->log_level = (int)level;
	if (v->conf.warn_ms > v->conf.fail_ms || v->conf.warn_free_pct < v->conf.min_free_pct) {
		api->log(st->ctx, CHORUS_LOG_ERR,
			 "volume %s: warn_ms must be <= fail_ms and warn_free_pct >= min_free_pct",
			 v->name);
		goto bad;
	}
	if (v->conf.fail_ms >= st->timeout_ms)
		api->log(st->ctx, CHORUS_LOG_WARNING,
			 "volume %s: fail_ms %" PRIu32 " >= timeout_ms %" PRIu32
			 ": slow probes time out instead", v->name, v->conf.fail_ms, st->timeout_ms);
	*out = v;
	return 0;
nomem:
	vol_free(v);
	return -ENOMEM;
bad:
	vol_free(v);
	return -EINVAL;
}

/* Same volume and the same way to reach it: the handle can be kept. */
static bool vol_same_target(const struct vol *a, const struct vol *b)
{
	size_t i;

	if (strcmp(a->name, b->name) != 0 || a->port != b->port || a->log_level != b->log_level ||
	    (a->log_file == NULL) != (b->log_file == NULL) ||
	    (a->log_file != NULL && strcmp(a->log_file, b->log_file) != 0))
		return false;
	for (i = 0; a->servers[i] != NULL && b->servers[i] != NULL; i++)
		if (strcmp(a->servers[i], b->servers[i]) != 0)
			return false;
	return a->servers[i] == NULL && b->servers[i] == NULL;
}

static int conf_parse(struct state *st, const char *config_json, struct vol **out,
		      uint32_t *interval_ms, uint32_t *timeout_ms)
{
	json_object *root, *vols;
	struct vol *head = NULL, **tail = &head, *v, *w;
	size_t i, n;
	int rc = 0;

	*out = NULL;
	root = json_tokener_parse(config_json ? config_json : "{}");
	if (root == NULL || !json_object_is_type(root, json_type_object)) {
		st->api->log(st->ctx, CHORUS_LOG_ERR, "configuration is not a JSON object");
		json_object_put(root);
		return -EINVAL;
	}
	if (!json_u32(root, "interval_ms", 2000, interval_ms) || *interval_ms < 100 ||
	    !json_u32(root, "timeout_ms", 5000, timeout_ms) || *timeout_ms < 100) {
		st->api->log(st->ctx, CHORUS_LOG_ERR, "interval_ms and timeout_ms must be >= 100");
		rc = -EINVAL;
		goto out;
	}
	st->timeout_ms = *timeout_ms;		/* for the warnings of vol_parse */
	if (!json_object_object_get_ex(root, "volumes", &vols) ||
	    !json_object_is_type(vols, json_type_array)) {
		st->api->log(st->ctx, CHORUS_LOG_ERR, "\"volumes\" must be an array");
		rc = -EINVAL;
		goto out;
	}
	n = json_object_array_length(vols);
	for (i = 0; i < n; i++) {
		rc = vol_parse(st, json_object_array_get_idx(vols, i), &v);
		if (rc < 0)
			goto out;
		for (w = head; w != NULL; w = w->next) {
			if (!strcmp(w->name, v->name)) {
				st->api->log(st->ctx, CHORUS_LOG_ERR, "volume %s listed twice", v->name);
				vol_free(v);
				rc = -EINVAL;
				goto out;
			}
		}
		*tail = v;
		tail = &v->next;
	}
	*out = head;
	head = NULL;
out:
	vol_list_free(head);
	json_object_put(root);
	return rc;
}

static int vol_schedule(struct state *st, struct vol *v)
{
	int id = st->api->schedule_check(st->ctx, v->scope, st->interval_ms, st->timeout_ms,
					 vol_probe, v);

	if (id < 0) {
		st->api->log(st->ctx, CHORUS_LOG_ERR, "volume %s: cannot schedule the check: %s",
			     v->name, strerror(-id));
		return id;
	}
	v->check_id = id;
	st->api->check_set_hysteresis(st->ctx, id, v->fail_after, v->recover_after);
	return 0;
}

/* The node id arrives once corosync is up: poll for it on the main loop. */
static void node_id_poll(struct chorus_plugin_ctx *ctx, void *arg)
{
	struct state *st = arg;
	uint32_t id = st->api->node_id(ctx);

	st->node_timer = 0;
	if (id != 0) {
		atomic_store(&st->node_id, id);
		return;
	}
	st->node_timer = st->api->add_timer(ctx, 500, node_id_poll, st);
}

static int gh_init(const struct chorus_host_api *api, struct chorus_plugin_ctx *ctx,
		   const char *config_json)
{
	struct state *st;
	struct vol *v;
	int rc;

	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return -ENOMEM;
	st->api = api;
	st->ctx = ctx;
	rc = conf_parse(st, config_json, &st->vols, &st->interval_ms, &st->timeout_ms);
	if (rc < 0) {
		free(st);
		return rc;
	}
	api->set_private(ctx, st);
	for (v = st->vols; v != NULL; v = v->next) {
		rc = vol_schedule(st, v);
		if (rc < 0)
			goto fail;
		api->log(ctx, CHORUS_LOG_INFO, "volume %s: %s probe every %" PRIu32 " ms via %s%s",
			 v->name, v->conf.rw ? "rw" : "ro", st->interval_ms, v->servers[0],
			 v->servers[1] ? ",..." : "");
	}
	node_id_poll(ctx, st);
	return 0;
fail:
	/* The host cancels the checks scheduled so far, but a run may already
	 * be using its volume: leak them rather than free them under it. */
	api->set_private(ctx, NULL);
	return rc;
}

static int gh_reconfigure(const struct chorus_host_api *api, struct chorus_plugin_ctx *ctx,
			  const char *config_json)
{
	struct state *st = api->get_private(ctx);
	struct vol *nv = NULL, *v, **pp, *keep = NULL, **ktail = &keep;
	uint32_t interval_ms, timeout_ms, old_timeout = st->timeout_ms;
	bool timing_changed;
	int rc;

	rc = conf_parse(st, config_json, &nv, &interval_ms, &timeout_ms);
	if (rc < 0) {
		st->timeout_ms = old_timeout;
		return rc;
	}
	timing_changed = interval_ms != st->interval_ms || timeout_ms != old_timeout;
	st->interval_ms = interval_ms;
	st->timeout_ms = timeout_ms;
	/* For each new entry: keep the old volume (and its handle) if it
	 * reaches the same target, with the new thresholds. */
	while (nv != NULL) {
		struct vol *n = nv, *old = NULL;

		nv = n->next;
		n->next = NULL;
		for (pp = &st->vols; *pp != NULL; pp = &(*pp)->next) {
			if (vol_same_target(*pp, n)) {
				old = *pp;
				*pp = old->next;
				old->next = NULL;
				break;
			}
		}
		if (old != NULL) {
			pthread_mutex_lock(&old->lock);
			old->conf = n->conf;
			pthread_mutex_unlock(&old->lock);
			if (timing_changed || old->fail_after != n->fail_after ||
			    old->recover_after != n->recover_after) {
				api->check_cancel(ctx, old->check_id);
				old->fail_after = n->fail_after;
				old->recover_after = n->recover_after;
				vol_schedule(st, old);
			}
			vol_free(n);
			*ktail = old;
		} else {
			vol_schedule(st, n);
			*ktail = n;
		}
		ktail = &(*ktail)->next;
	}
	/* What is left is gone from the configuration. */
	while ((v = st->vols) != NULL) {
		st->vols = v->next;
		api->check_cancel(ctx, v->check_id);
		v->next = st->retired;
		st->retired = v;
		api->log(ctx, CHORUS_LOG_INFO, "volume %s: no longer probed", v->name);
	}
	st->vols = keep;
	return 0;
}

static void gh_fini(const struct chorus_host_api *api, struct chorus_plugin_ctx *ctx)
{
	struct state *st = api->get_private(ctx);

	if (st == NULL)
		return;
	if (st->node_timer > 0)
		api->timer_del(ctx, st->node_timer);
	for (struct vol *v = st->vols; v != NULL; v = v->next)
		api->check_cancel(ctx, v->check_id);
	vol_list_free(st->vols);
	vol_list_free(st->retired);
	free(st);
	api->set_private(ctx, NULL);
}

CHORUS_PLUGIN_DEFINE(plugin,
	.name = "gfapi-health",
	.init = gh_init,
	.reconfigure = gh_reconfigure,
	.fini = gh_fini);
