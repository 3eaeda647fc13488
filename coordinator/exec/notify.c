/*
 * The event notification hook (notify.h).
 */
#include "exec/notify.h"
#include "exec/script.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

struct nev {
	char type[NOTIFY_TYPE_LEN];
	char time[40];
	char text[200];
};

struct notify {
	struct script_runner *runner;
	struct script_run *run;		/* in progress, or NULL */
	size_t argc;
	char (*argv)[PATH_MAX];
	uint32_t timeout_ms;
	size_t n_types;
	char types[NOTIFY_TYPES_MAX][NOTIFY_TYPE_LEN];
	uint32_t nodeid;
	struct nev q[NOTIFY_QUEUE_MAX];
	size_t head, n;
	struct notify_counts ctr;
	bool failing;			/* logged; quiet until one succeeds */
};

int notify_new(qb_loop_t *loop, const struct notify_config *cfg, struct notify **out)
{
	struct notify *n;
	int rc;

	if (cfg->argc == 0 || cfg->argc + 4 > SCRIPT_ARGS_MAX || cfg->n_types > NOTIFY_TYPES_MAX)
		return -EINVAL;
	n = calloc(1, sizeof(*n));
	if (n == NULL || (n->argv = calloc(cfg->argc, sizeof(*n->argv))) == NULL) {
		free(n);
		return -ENOMEM;
	}
	memcpy(n->argv, cfg->argv, cfg->argc * sizeof(*n->argv));
	n->argc = cfg->argc;
	n->timeout_ms = cfg->timeout_ms;
	n->n_types = cfg->n_types;
	memcpy(n->types, cfg->types, cfg->n_types * sizeof(n->types[0]));
	n->nodeid = cfg->nodeid;
	rc = script_runner_new(loop, &n->runner);
	if (rc < 0) {
		free(n->argv);
		free(n);
		return rc;
	}
	*out = n;
	return 0;
}

void notify_free(struct notify *n)
{
	if (n == NULL)
		return;
	script_runner_free(n->runner);
	free(n->argv);
	free(n);
}

void notify_set_nodeid(struct notify *n, uint32_t nodeid)
{
	if (n != NULL)
		n->nodeid = nodeid;
}

static void start_next(struct notify *n);

static void run_done(void *data, const struct script_result *r)
{
	struct notify *n = data;
	char why[128];

	n->run = NULL;
	if (script_result_ok(r)) {
		if (n->failing)
			qb_log(LOG_NOTICE, "notify command %s works again", n->argv[0]);
		n->failing = false;
	} else {
		n->ctr.failed++;
		if (!n->failing)
			qb_log(LOG_WARNING, "notify command %s failed: %s%s%.200s (logged once until "
			       "it works again)", n->argv[0], script_result_str(r, why, sizeof(why)),
			       r->output_size ? ": " : "", r->output_size ? r->output : "");
		n->failing = true;
	}
	start_next(n);
}

static void start_next(struct notify *n)
{
	const char *argv[SCRIPT_ARGS_MAX + 1];
	char e_type[64], e_time[64], e_text[256], e_node[48];
	const char *envp[] = {e_type, e_time, e_text, e_node, NULL};
	struct script_spec spec = {.argv = argv, .envp = envp, .timeout_ms = n->timeout_ms,
				   .kill_grace_ms = 1000};
	struct nev *e;
	size_t k = 0;

	while (n->run == NULL && n->n > 0) {
		e = &n->q[n->head];
		k = 0;
		for (size_t i = 0; i < n->argc; i++)
			argv[k++] = n->argv[i];
		argv[k++] = e->type;
		argv[k++] = e->time;
		argv[k++] = e->text;
		argv[k] = NULL;
		snprintf(e_type, sizeof(e_type), "CHORUS_EVENT_TYPE=%s", e->type);
		snprintf(e_time, sizeof(e_time), "CHORUS_EVENT_TIME=%s", e->time);
		snprintf(e_text, sizeof(e_text), "CHORUS_EVENT_TEXT=%s", e->text);
		snprintf(e_node, sizeof(e_node), "CHORUS_NODE_ID=%" PRIu32, n->nodeid);
		envp[3] = n->nodeid ? e_node : NULL;	/* not known before corosync answers */
		n->head = (n->head + 1) % NOTIFY_QUEUE_MAX;
		n->n--;
		n->ctr.run++;
		if (script_run(n->runner, &spec, run_done, n, &n->run) < 0) {
			n->run = NULL;
			n->ctr.failed++;
			if (!n->failing)
				qb_log(LOG_WARNING, "notify command %s cannot be started", n->argv[0]);
			n->failing = true;
		}
	}
}

void notify_event(struct notify *n, const char *type, const char *time, const char *text)
{
	struct nev *e;
	bool want = n->n_types == 0;

	for (size_t i = 0; i < n->n_types && !want; i++)
		want = strcmp(n->types[i], type) == 0;
	if (!want)
		return;
	if (n->n == NOTIFY_QUEUE_MAX) {
		/* the oldest waiting goes: the newest say how things are now */
		n->head = (n->head + 1) % NOTIFY_QUEUE_MAX;
		n->n--;
		if (n->ctr.dropped++ == 0)
			qb_log(LOG_WARNING, "notify command %s cannot keep up: dropping the oldest "
			       "waiting events (chorus_notify_dropped_total counts them)", n->argv[0]);
	}
	e = &n->q[(n->head + n->n) % NOTIFY_QUEUE_MAX];
	snprintf(e->type, sizeof(e->type), "%s", type);
	snprintf(e->time, sizeof(e->time), "%s", time);
	snprintf(e->text, sizeof(e->text), "%s", text);
	n->n++;
	start_next(n);
}

void notify_counts_get(const struct notify *n, struct notify_counts *out)
{
	*out = n ? n->ctr : (struct notify_counts){0};
}
