/*
 * The scenario runner's text (scenario_trace.h).  Everything printed is a
 * function of the scenario alone: node ids, instance numbers, addresses and
 * the simulated clock; never a pointer, a pid or a token.
 */
#include "scenario_trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = b->cap - b->n;

		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->n : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			abort();
		if ((size_t)n < room) {
			b->n += (size_t)n;
			return;
		}
		b->cap = b->cap ? 2 * b->cap + (size_t)n : 4096 + (size_t)n;
		b->s = realloc(b->s, b->cap);
		if (b->s == NULL)
			abort();
	}
}

void sb_free(struct sbuf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

void *scn_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		abort();
	return p;
}


/* Time marks: a line "@T" whenever the clock moved since the last one. */
void scn_mark(struct scn_world *w)
{
	if (w->last_mark == w->now)
		return;
	w->last_mark = w->now;
	sb_printf(w->out, "  @%" PRIu64 "\n", w->now - SCN_T0);
}

void scn_line(struct scn_world *w, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	scn_mark(w);
	sb_printf(w->out, "  %s\n", buf);
}

const char *scn_vip_ip(const struct scn_world *w, unsigned v, char *buf, size_t n)
{
	res_addr_format_ip(&w->vips[v].addr, buf, n);
	return buf;
}

/* A process as the trace names it: "n2" for a node's first daemon, "n2#3"
 * for its third, "n2:PID" for one the runner never started. */
const char *scn_pname(const struct scn_world *w, uint32_t nodeid, uint32_t pid)
{
	static char bufs[16][32];
	static unsigned k;
	char *b = bufs[k++ % 16];

	for (size_t i = 0; i < w->nprocs; i++)
		if (w->procs[i].nodeid == nodeid && w->procs[i].pid == pid) {
			if (w->procs[i].instance == 1)
				snprintf(b, 32, "n%" PRIu32, nodeid);
			else
				snprintf(b, 32, "n%" PRIu32 "#%u", nodeid, w->procs[i].instance);
			return b;
		}
	snprintf(b, 32, "n%" PRIu32 ":%" PRIu32, nodeid, pid);
	return b;
}

void scn_proc_add(struct scn_world *w, uint32_t nodeid, uint32_t pid)
{
	unsigned inst = 1;

	for (size_t i = 0; i < w->nprocs; i++)
		if (w->procs[i].nodeid == nodeid)
			inst++;
	if (w->nprocs == w->capprocs) {
		w->capprocs = w->capprocs ? 2 * w->capprocs : 32;
		w->procs = scn_xrealloc(w->procs, w->capprocs * sizeof(*w->procs));
	}
	w->procs[w->nprocs++] = (struct proc_name){nodeid, pid, inst};
}

/* ---- steps ---- */

static const char *reason_name(uint32_t r)
{
	switch (r) {
	case SCN_REASON_JOIN: return "join";
	case SCN_REASON_LEAVE: return "leave";
	case SCN_REASON_NODEDOWN: return "nodedown";
	case SCN_REASON_NODEUP: return "nodeup";
	case SCN_REASON_PROCDOWN: return "procdown";
	default: return "?";
	}
}

const char *scn_errname(int err)
{
	static char b[16];

	switch (err) {
	case 0: return "ok";
	case -EAGAIN: return "EAGAIN";
	case -ENOENT: return "ENOENT";
	case -EPERM: return "EPERM";
	case -EINVAL: return "EINVAL";
	case -ESTALE: return "ESTALE";
	case -ENOSPC: return "ENOSPC";
	case -EIO: return "EIO";
	default:
		snprintf(b, sizeof(b), "%d", err);
		return b;
	}
}

static void cat(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cat(char *buf, size_t n, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + len, n - len, fmt, ap);
	va_end(ap);
}

const char *scn_local_ip(const struct scn_world *w, const struct scn_node *s, size_t idx,
			    char *buf, size_t n)
{
	if (idx >= s->n_local) {
		snprintf(buf, n, "#%zu", idx);
		return buf;
	}
	return scn_vip_ip(w, s->local[idx], buf, n);
}

static const char *admin_op_name(enum scn_admin_op op)
{
	switch (op) {
	case SCN_ADMIN_STANDBY: return "standby";
	case SCN_ADMIN_ACTIVE: return "active";
	case SCN_ADMIN_MOVE: return "move";
	case SCN_ADMIN_UNPIN: return "unpin";
	case SCN_ADMIN_MAINT_ON: return "maintenance on";
	case SCN_ADMIN_MAINT_OFF: return "maintenance off";
	case SCN_ADMIN_CLEANUP: return "cleanup";
	}
	return "?";
}

/* What a step was told, for its trace line; false when it is routine
 * (a delivery or tick or executor success) and only worth a line if it
 * made the core do something. */
bool scn_describe_input(struct scn_world *w, struct scn_node *s, const struct scn_in *in,
			   int rc, char *buf, size_t n)
{
	char a[CHORUS_ADDR_STRLEN];
	bool ping;

	buf[0] = '\0';
	switch (in->type) {
	case SCN_IN_CONFCHG: {
		bool mine = false;

		cat(buf, n, "confchg [");
		for (size_t i = 0; i < in->n_members; i++)
			cat(buf, n, "%s%s", i ? " " : "",
			    scn_pname(w, in->members[i].nodeid, in->members[i].pid));
		cat(buf, n, "]");
		for (size_t i = 0; i < in->n_left; i++)
			cat(buf, n, " -%s/%s", scn_pname(w, in->left[i].nodeid, in->left[i].pid),
			    reason_name(in->left[i].reason));
		for (size_t i = 0; i < in->n_joined; i++)
			cat(buf, n, " +%s/%s", scn_pname(w, in->joined[i].nodeid, in->joined[i].pid),
			    reason_name(in->joined[i].reason));
		/* a change from before this process's own join reaches it (the
		 * model delivers to a joiner at once); the core ignores it */
		for (size_t i = 0; i < in->n_members; i++)
			mine |= in->members[i].nodeid == s->nodeid && in->members[i].pid == s->pid;
		return mine;
	}
	case SCN_IN_TOTEM:
		cat(buf, n, "totem %" PRIu32 ".%" PRIu64 " [", in->ring.nodeid, in->ring.seq);
		for (size_t i = 0; i < in->n_nodeids; i++)
			cat(buf, n, "%s%" PRIu32, i ? " " : "", in->nodeids[i]);
		cat(buf, n, "]");
		return true;
	case SCN_IN_QUORUM:
		cat(buf, n, "quorum %s %" PRIu32 ".%" PRIu64, in->quorate ? "yes" : "no",
		    in->ring.nodeid, in->ring.seq);
		return true;
	case SCN_IN_DELIVER: {
		char d[512];

		scn_msg_describe(in->buf, in->size, d, sizeof(d), &ping);
		cat(buf, n, "<- %s %s", scn_pname(w, in->from_nodeid, in->from_pid), d);
		return false;
	}
	case SCN_IN_TICK:
		cat(buf, n, "tick");
		return false;
	case SCN_IN_ACQUIRED:
	case SCN_IN_RELEASED:
		cat(buf, n, "%s %s%s%s", in->type == SCN_IN_ACQUIRED ? "acquired" : "released",
		    scn_local_ip(w, s, in->idx, a, sizeof(a)), in->err ? " FAILED " : "",
		    in->err ? scn_errname(in->err) : "");
		return in->err != 0;
	case SCN_IN_ADOPT:
		cat(buf, n, "adopt %s", scn_local_ip(w, s, in->idx, a, sizeof(a)));
		return true;
	case SCN_IN_CLUSTER_LOST:
		cat(buf, n, "corosync lost");
		return true;
	case SCN_IN_SHUTDOWN:
		cat(buf, n, "SIGTERM");
		return true;
	case SCN_IN_FENCED:
		cat(buf, n, "fence of n%" PRIu32 " %s", in->node, in->err ? "FAILED" : "done");
		return true;
	case SCN_IN_PROBED:
		cat(buf, n, "probed %s: %s", scn_local_ip(w, s, in->idx, a, sizeof(a)),
		    in->answered ? "answered" : "nobody answers");
		return true;
	case SCN_IN_SETS:
		cat(buf, n, "sets");
		for (size_t i = 0; i < s->n_local; i++)
			if (in->sets[i])
				cat(buf, n, " %s=%" PRIu32, scn_local_ip(w, s, i, a, sizeof(a)),
				    in->sets[i]);
		break;
	case SCN_IN_ADMIN:
		cat(buf, n, "cmd %s", admin_op_name(in->op));
		if (in->op == SCN_ADMIN_MOVE || in->op == SCN_ADMIN_UNPIN ||
		    (in->op == SCN_ADMIN_CLEANUP && in->addr.family != 0)) {
			res_addr_format_ip(&in->addr, a, sizeof(a));
			cat(buf, n, " %s", a);
		}
		if (in->op == SCN_ADMIN_STANDBY || in->op == SCN_ADMIN_ACTIVE ||
		    in->op == SCN_ADMIN_MOVE || (in->op == SCN_ADMIN_CLEANUP && in->node))
			cat(buf, n, " n%" PRIu32, in->node);
		break;
	case SCN_IN_HEALTH: {
		bool any = false;

		cat(buf, n, "health");
		if (in->node_flags)
			cat(buf, n, " node-failed");
		for (size_t i = 0; in->unservable && i < s->n_local; i++)
			if (in->unservable[i]) {
				cat(buf, n, " %s", scn_local_ip(w, s, i, a, sizeof(a)));
				any = true;
			}
		if (!any && !in->node_flags)
			cat(buf, n, " ok");
		if (in->urgent)
			cat(buf, n, " urgent");
		break;
	}
	case SCN_IN_REBALANCE:
		cat(buf, n, "cmd rebalance");
		break;
	case SCN_IN_FENCE_CONFIRM:
		cat(buf, n, "cmd fence-confirm n%" PRIu32, in->node);
		break;
	case SCN_IN_LOAD:
		cat(buf, n, "load %s %" PRIu32 "/%" PRIu32, scn_local_ip(w, s, in->idx, a, sizeof(a)),
		    in->load, in->conns);
		break;
	}
	if (rc != 0)
		cat(buf, n, " -> %s", scn_errname(rc));
	return true;
}

/* The actions worth a trace (timers, renewals and heartbeats only in a full
 * trace); true when any is. */
bool scn_describe_acts(struct scn_world *w, struct scn_node *s, const struct scn_acts *a,
			  char *buf, size_t n)
{
	bool any = false, all = w->trace == TRACE_ALL;
	char ad[CHORUS_ADDR_STRLEN];

	buf[0] = '\0';
	for (size_t i = 0; i < a->n; i++) {
		const struct scn_act *x = &a->v[i];
		char d[512];
		bool ping;

		d[0] = '\0';
		switch (x->type) {
		case SCN_ACT_SEND:
			scn_msg_describe(x->buf, x->size, d, sizeof(d), &ping);
			if (ping && !all)
				continue;
			cat(buf, n, "%ssend %s", any ? ", " : "", d);
			break;
		case SCN_ACT_ACQUIRE:
		case SCN_ACT_RELEASE:
		case SCN_ACT_PROBE:
			cat(buf, n, "%s%s %s", any ? ", " : "",
			    x->type == SCN_ACT_ACQUIRE   ? "acquire"
			    : x->type == SCN_ACT_RELEASE ? "release"
							 : "probe",
			    scn_local_ip(w, s, x->idx, ad, sizeof(ad)));
			break;
		case SCN_ACT_CLEANUP:
			cat(buf, n, "%scleanup %s", any ? ", " : "",
			    x->idx == SIZE_MAX ? "all" : scn_local_ip(w, s, x->idx, ad, sizeof(ad)));
			break;
		case SCN_ACT_TIMER:
			if (!all)
				continue;
			cat(buf, n, "%stimer @%" PRIu64, any ? ", " : "",
			    x->at_ms > SCN_T0 ? x->at_ms - SCN_T0 : 0);
			break;
		case SCN_ACT_RENEW:
			if (!all)
				continue;
			cat(buf, n, "%srenew", any ? ", " : "");
			break;
		case SCN_ACT_READY:
			cat(buf, n, "%sready", any ? ", " : "");
			break;
		case SCN_ACT_REJOIN:
			cat(buf, n, "%srejoin", any ? ", " : "");
			break;
		case SCN_ACT_LEAVE:
			cat(buf, n, "%sleave", any ? ", " : "");
			break;
		case SCN_ACT_EXIT:
			cat(buf, n, "%sexit", any ? ", " : "");
			break;
		case SCN_ACT_ADMIN_DONE:
			if (x->err)
				cat(buf, n, "%sdone %s", any ? ", " : "", scn_errname(x->err));
			else
				cat(buf, n, "%sdone gen %" PRIu64, any ? ", " : "", x->generation);
			break;
		case SCN_ACT_PERSIST:
			cat(buf, n, "%spersist", any ? ", " : "");
			break;
		case SCN_ACT_FENCE:
			cat(buf, n, "%sfence n%" PRIu32, any ? ", " : "", x->node);
			break;
		}
		any = true;
	}
	return any;
}
