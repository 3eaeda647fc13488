/*
 * Fencing a lost node for its bricks (bricks.h, bricks_fence()): fence mode
 * "command" (an argv) or "agent" (a Pacemaker fence agent, its options on
 * stdin), run off the loop through script.c with a timeout; the result goes
 * to the core as CORE_EV_FENCED, and a failure is never taken for success.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include "adapters/cluster.h"
#include "adapters/conf.h"
#include "daemon/bricks_private.h"

/* ---- fence ---- */

/* The agent's last line of output, the one that says why ("Failed: Unable
 * to obtain correct plug status or plug is not available"), with any secret
 * blotted out: a verbose agent may echo its password. */
static void fence_reason(const struct chorus_conf *c, const struct script_result *r, char *out,
			 size_t size)
{
	char *text = strndup(r->output ? r->output : "", r->output_size), *line = NULL;

	out[0] = '\0';
	if (text == NULL)
		return;
	conf_fence_redact(c, text);
	for (char *save = NULL, *t = strtok_r(text, "\r\n", &save); t != NULL;
	     t = strtok_r(NULL, "\r\n", &save))
		if (t[strspn(t, " \t")] != '\0')
			line = t;
	if (line != NULL)
		snprintf(out, size, "%s", line);
	explicit_bzero(text, r->output_size);
	free(text);
}

/* Every fence that ended, or could not start, counts the same way. */
static void fence_record(struct bricks *bs, uint32_t node, bool ok)
{
	bs->last_fence_node = node;
	bs->last_fence_ok = ok;
	bs->last_fence_ms = daemon_mono_ms();
	if (ok)
		bs->fences_ok++;
	else
		bs->fences_failed++;
}

static void fence_done(void *data, const struct script_result *r)
{
	struct bricks *bs = data;
	const struct chorus_conf *c = bs->d->conf;
	struct core_event ev = {.type = CORE_EV_FENCED};
	const char *what = c->fence_mode == CONF_FENCE_AGENT ? "fence agent" : "fence command";
	char why[128], line[160];

	bs->fence_run = NULL;
	ev.u.fence.node = bs->fence_node;
	ev.u.fence.err = script_result_ok(r) ? 0 : -EIO;
	fence_record(bs, bs->fence_node, ev.u.fence.err == 0);
	fence_reason(c, r, line, sizeof(line));
	if (ev.u.fence.err == 0) {
		bs->last_fence_error[0] = '\0';
		qb_log(LOG_WARNING, "%s: node %" PRIu32 " is down after %" PRIu64 " ms%s%s", what,
		       bs->fence_node, r->elapsed_ms, line[0] ? ": " : "", line);
		ctl_event(bs->d, "fence", "node %" PRIu32 " fenced: it is down", bs->fence_node);
	} else {
		script_result_str(r, why, sizeof(why));
		snprintf(bs->last_fence_error, sizeof(bs->last_fence_error), "%s%s%s", why,
			 line[0] ? ": " : "", line);
		qb_log(LOG_ERR, "%s for node %" PRIu32 " failed: %s", what, bs->fence_node,
		       bs->last_fence_error);
		ctl_event(bs->d, "fence", "fencing node %" PRIu32 " failed: %s", bs->fence_node,
			  bs->last_fence_error);
	}
	daemon_step(bs->d, &ev);
}

/* Options go to the agent's stdin as Pacemaker's fencer passes them, so the
 * password is in neither its argv nor its environment (both readable in
 * /proc by any local user). */
static int fence_agent_run(struct bricks *bs, uint32_t node, const char *name)
{
	const struct chorus_conf *c = bs->d->conf;
	char in[CONF_FENCE_STDIN_MAX];
	const char *argv[2] = {c->fence_agent, NULL};
	struct script_spec spec = {.argv = argv, .timeout_ms = c->fence_timeout_ms,
				   .stdin_data = in};
	int n, rc;

	_Static_assert(CONF_FENCE_STDIN_MAX <= SCRIPT_STDIN_MAX, "agent stdin must fit the pipe");
	n = conf_fence_stdin(c, name ? name : "", "off", in, sizeof(in));
	if (n < 0) {
		snprintf(bs->last_fence_error, sizeof(bs->last_fence_error), "%s",
			 n == -ENOENT ? "fence.nodes has no entry for this node" : "options too long");
		qb_log(LOG_ERR, "cannot fence node %" PRIu32 " (%s): %s", node, name ? name : "?",
		       bs->last_fence_error);
		return n;
	}
	spec.stdin_size = (size_t)n;
	rc = script_run(bs->runner, &spec, fence_done, bs, &bs->fence_run);
	explicit_bzero(in, sizeof(in));
	if (rc < 0)
		snprintf(bs->last_fence_error, sizeof(bs->last_fence_error),
			 "cannot start the fence agent: %s", strerror(-rc));
	return rc;
}

void bricks_fence(struct chorusd *d, uint32_t node)
{
	struct bricks *bs = B(d);
	const struct chorus_conf *c = d->conf;
	const char *argv[CONF_FENCE_ARGS + 1];
	char e_id[48], e_name[CHORUS_NAME_MAX + 32];
	const char *envp[3] = {e_id, e_name, NULL};
	const char *name = d->cl ? cluster_node_name(d->cl, node) : NULL;
	struct script_spec spec = {.argv = argv, .envp = envp, .timeout_ms = c->fence_timeout_ms};
	struct core_event ev = {.type = CORE_EV_FENCED};
	int rc;

	ev.u.fence.node = node;
	ev.u.fence.err = -ENOSYS;
	if (bs == NULL || (c->fence_mode != CONF_FENCE_COMMAND && c->fence_mode != CONF_FENCE_AGENT) ||
	    bs->fence_run != NULL) {
		if (bs && bs->fence_run)
			ev.u.fence.err = -EBUSY;
		daemon_step(d, &ev);
		return;
	}
	ctl_event(d, "fence", "fencing node %" PRIu32 " (%s): its bricks wait until it is down",
		  node, name ? name : "?");
	bs->fence_node = node;
	if (c->fence_mode == CONF_FENCE_AGENT) {
		rc = fence_agent_run(bs, node, name);
	} else {
		for (size_t i = 0; i < c->n_fence_args; i++)
			argv[i] = c->fence_args[i];
		argv[c->n_fence_args] = NULL;
		snprintf(e_id, sizeof(e_id), "CHORUS_FENCE_NODEID=%" PRIu32, node);
		snprintf(e_name, sizeof(e_name), "CHORUS_FENCE_NODE=%s", name ? name : "");
		rc = script_run(bs->runner, &spec, fence_done, bs, &bs->fence_run);
		if (rc < 0)
			snprintf(bs->last_fence_error, sizeof(bs->last_fence_error),
				 "cannot start the fence command: %s", strerror(-rc));
	}
	if (rc < 0) {
		/* a failure like any other: counted, shown, retried by the core */
		bs->fence_run = NULL;
		fence_record(bs, node, false);
		ev.u.fence.err = -EIO;
		daemon_step(d, &ev);
	}
}

void bricks_fence_counts(const struct chorusd *d, uint64_t *ok, uint64_t *failed)
{
	const struct bricks *bs = d->bricks;

	*ok = bs ? bs->fences_ok : 0;
	*failed = bs ? bs->fences_failed : 0;
}
