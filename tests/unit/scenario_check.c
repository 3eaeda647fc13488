/*
 * The scenario runner's checks and its "show" (scenario_world.h).
 *
 * After every step, the simulator's invariants: a brick is never active on
 * two nodes (from the start of its acquire until its release completed or
 * its node went down), no plain address is in two kernels at once (unless
 * a version-1 daemon ran, or addresses are permanent: neither bounds the
 * time a lost node keeps them, as the README says), and members that
 * completed the round of one view agree on the table and the load.  A
 * violation is printed once, when it appears.
 */
#include "scenario_trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void viol_add(char ***v, size_t *n, const char *msg)
{
	*v = scn_xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[*n] = strdup(msg);
	if ((*v)[*n] == NULL)
		abort();
	(*n)++;
}

static bool pending_acquire(const struct scn_node *s, unsigned v)
{
	for (size_t k = 0; s->d_up && k < s->nex; k++)
		if (s->ex[k].type == SCN_ACT_ACQUIRE && s->ex[k].idx < s->n_local &&
		    s->local[s->ex[k].idx] == v)
			return true;
	return false;
}

static void check_collect(struct scn_world *w, char ***v, size_t *n)
{
	char msg[256], a[CHORUS_ADDR_STRLEN];

	/* a brick is never active on two nodes, from the start of its
	 * acquire until its release completed or its node went down */
	for (unsigned x = 0; x < w->nv; x++) {
		uint32_t who[SCN_MAXN];
		unsigned k = 0;

		for (unsigned i = 0; i < w->nn; i++)
			if (w_is_excl(w, x) ? w->nodes[i].held[x] || pending_acquire(&w->nodes[i], x)
					  : w->nodes[i].held[x] && !w->v1_seen && w->cfg.lifetime_ms)
				who[k++] = w->nodes[i].nodeid;
		if (k > 1) {
			snprintf(msg, sizeof(msg), "%s %s on n%" PRIu32 " and n%" PRIu32 " at once",
				 w_is_excl(w, x) ? "brick" : "address", scn_vip_ip(w, x, a, sizeof(a)),
				 who[0], who[1]);
			viol_add(v, n, msg);
		}
	}
	/* members that completed the round of one view agree */
	for (unsigned g = 0; g < SCN_MAXN; g++) {
		struct scn_node *ref = NULL;

		if (!w->parts[g].used)
			continue;
		for (unsigned i = 0; i < w->nn; i++) {
			struct scn_node *s = &w->nodes[i];

			if (!w_receives(w, s, &w->parts[g]) || !scn_core_round_complete(s->core))
				continue;
			if (ref == NULL) {
				ref = s;
				continue;
			}
			if (scn_core_token(s->core) != scn_core_token(ref->core))
				continue;
			if (scn_core_digest(s->core) != scn_core_digest(ref->core)) {
				snprintf(msg, sizeof(msg), "n%" PRIu32 " and n%" PRIu32 " disagree "
					 "on the table of one view", ref->nodeid, s->nodeid);
				viol_add(v, n, msg);
			}
			if (scn_core_load_hash(s->core) != scn_core_load_hash(ref->core)) {
				snprintf(msg, sizeof(msg), "n%" PRIu32 " and n%" PRIu32 " disagree "
					 "on load in one view", ref->nodeid, s->nodeid);
				viol_add(v, n, msg);
			}
		}
	}
}

void w_check_step(struct scn_world *w)
{
	char **v = NULL;
	size_t n = 0;

	check_collect(w, &v, &n);
	for (size_t i = 0; i < n; i++) {
		bool old = false;

		for (size_t k = 0; k < w->n_last_viol && !old; k++)
			old = strcmp(w->last_viol[k], v[i]) == 0;
		if (!old) {
			scn_line(w, "!! VIOLATION: %s", v[i]);
			w->violations++;
		}
	}
	for (size_t k = 0; k < w->n_last_viol; k++)
		free(w->last_viol[k]);
	free(w->last_viol);
	w->last_viol = v;
	w->n_last_viol = n;
}

void w_check_settled(struct scn_world *w)
{
	unsigned holders[SCN_MAXV] = {0};
	int qpart = -1;
	char a[CHORUS_ADDR_STRLEN];
	unsigned v0 = w->violations;

	for (unsigned g = 0; g < SCN_MAXN; g++)
		if (w->parts[g].used && w_part_count(w, (int)g) >= w_votes_needed(w))
			qpart = (int)g;
	for (unsigned i = 0; i < w->nn; i++)
		for (unsigned v = 0; v < w->nv; v++)
			holders[v] += w->nodes[i].held[v];
	for (unsigned v = 0; v < w->nv; v++)
		if (holders[v] > 1) {
			scn_line(w, "!! VIOLATION: %s held by %u nodes after settling",
			     scn_vip_ip(w, v, a, sizeof(a)), holders[v]);
			w->violations++;
		}
	for (unsigned i = 0; i < w->nn; i++) {
		struct scn_node *s = &w->nodes[i];

		for (unsigned v = 0; s->cs_up && s->part != qpart && v < w->nv; v++)
			if (s->held[v] && s->d_up) {
				scn_line(w, "!! VIOLATION: inquorate n%" PRIu32 " holds %s", s->nodeid,
				     scn_vip_ip(w, v, a, sizeof(a)));
				w->violations++;
			}
	}
	if (qpart >= 0) {
		struct part *p = &w->parts[qpart];
		struct scn_node *ref = NULL;
		unsigned live = 0;

		for (unsigned i = 0; i < w->nn; i++) {
			struct scn_node *s = &w->nodes[i];

			if (!w_receives(w, s, p) || s->shutting)
				continue;
			live++;
			if (!scn_core_round_complete(s->core)) {
				scn_line(w, "!! VIOLATION: n%" PRIu32 " has no completed round after "
				     "settling", s->nodeid);
				w->violations++;
			} else {
				ref = s;
			}
		}
		for (unsigned v = 0; live > 0 && ref != NULL && v < w->nv; v++)
			if (holders[v] != 1) {
				scn_line(w, "!! VIOLATION: %s held by %u nodes; a quorate partition can "
				     "host it", scn_vip_ip(w, v, a, sizeof(a)), holders[v]);
				w->violations++;
			}
		if (live > 0 && ref != NULL && !w->load_seen) {
			struct scn_view view;
			unsigned cnt[SCN_MAXN] = {0}, lo = UINT32_MAX, hi = 0;

			if (scn_core_view(ref->core, &view) == 0) {
				for (size_t r = 0; r < view.n_res; r++)
					for (unsigned i = 0; i < w->nn; i++)
						cnt[i] += view.res[r].owner == w->nodes[i].nodeid;
				scn_view_clear(&view);
			}
			for (unsigned i = 0; i < w->nn; i++) {
				if (!w_receives(w, &w->nodes[i], p) || w->nodes[i].shutting)
					continue;
				lo = cnt[i] < lo ? cnt[i] : lo;
				hi = cnt[i] > hi ? cnt[i] : hi;
			}
			if (hi > lo + 1) {
				scn_line(w, "!! VIOLATION: unbalanced after settling: min %u max %u", lo,
				     hi);
				w->violations++;
			}
		}
	}
	if (w->violations == v0)
		scn_line(w, "settled: ok");
}

/* ---- show ---- */

static const char *state_name(enum scn_node_state s)
{
	switch (s) {
	case SCN_NODE_ACTIVE: return "active";
	case SCN_NODE_STANDBY: return "standby";
	case SCN_NODE_UNHEALTHY: return "unhealthy";
	case SCN_NODE_LEAVING: return "leaving";
	case SCN_NODE_EXCLUDED: return "excluded";
	case SCN_NODE_ABSENT: return "absent";
	case SCN_NODE_UNFENCED: return "unfenced";
	case SCN_NODE_UNRESPONSIVE: return "unresponsive";
	}
	return "?";
}

/* The replicated part of a daemon's view, as text (local clocks show only
 * in hold-offs, which each node keeps for itself). */
static void render_view(struct scn_world *w, struct scn_node *s, struct sbuf *b)
{
	struct scn_view v;
	char a[CHORUS_ADDR_STRLEN];

	if (scn_core_view(s->core, &v) < 0) {
		sb_printf(b, "(out of memory)\n");
		return;
	}
	if (!v.in_view) {
		sb_printf(b, "no view\n");
		scn_view_clear(&v);
		return;
	}
	if (v.have_ring)
		sb_printf(b, "ring %" PRIu32 ".%" PRIu64, v.ring.nodeid, v.ring.seq);
	else
		sb_printf(b, "no ring");
	sb_printf(b, " [");
	for (size_t i = 0; i < v.n_members; i++)
		sb_printf(b, "%sn%" PRIu32, i ? " " : "", v.members[i]);
	sb_printf(b, "] %s", v.round_complete ? "round done" : "round open");
	sb_printf(b, ", proto %u, gen %" PRIu64, v.proto, v.generation);
	if (v.maintenance)
		sb_printf(b, ", maintenance");
	for (size_t i = 0; i < v.n_standby; i++)
		sb_printf(b, "%s n%" PRIu32, i ? "" : ", standby", v.standby[i]);
	sb_printf(b, "\n      nodes:");
	for (size_t i = 0; i < v.n_nodes; i++)
		sb_printf(b, "%s n%" PRIu32 " %s %zu%s", i ? "," : "", v.nodes[i].nodeid,
			  state_name(v.nodes[i].state), v.nodes[i].owned,
			  v.nodes[i].health ? " health-failed" : "");
	sb_printf(b, "\n");
	for (size_t r = 0; r < v.n_res; r++) {
		const struct scn_view_res *e = &v.res[r];

		res_addr_format_ip(&e->addr, a, sizeof(a));
		sb_printf(b, "      %-12s", a);
		if (e->owner)
			sb_printf(b, " n%" PRIu32, e->owner);
		else
			sb_printf(b, " -");
		if (e->exclusive)
			sb_printf(b, " brick");
		if (strcmp(e->pool, "default") != 0)
			sb_printf(b, " pool %s", e->pool);
		if (e->from)
			sb_printf(b, " from n%" PRIu32, e->from);
		if (e->fixed)
			sb_printf(b, " fixed n%" PRIu32, e->fixed);
		if (e->pin)
			sb_printf(b, " pin n%" PRIu32, e->pin);
		if (e->held_by)
			sb_printf(b, " held-by n%" PRIu32 " %" PRIu64 "ms", e->held_by, e->holdoff_ms);
		if (e->owner_silent)
			sb_printf(b, " owner-silent");
		if (e->owner_absent)
			sb_printf(b, " owner-absent");
		if (e->owner_starting)
			sb_printf(b, " owner-starting");
		if (e->load || e->conns)
			sb_printf(b, " load %" PRIu32 "/%" PRIu32, e->load, e->conns);
		sb_printf(b, "\n");
	}
	scn_view_clear(&v);
}

void w_show(struct scn_world *w)
{
	struct sbuf blocks[SCN_MAXN];
	bool shown[SCN_MAXN] = {false};
	char a[CHORUS_ADDR_STRLEN];

	memset(blocks, 0, sizeof(blocks));
	scn_mark(w);
	for (unsigned i = 0; i < w->nn; i++)
		if (w->nodes[i].d_up && w->nodes[i].core)
			render_view(w, &w->nodes[i], &blocks[i]);
	/* nodes that see the same replicated state share one block */
	for (unsigned i = 0; i < w->nn; i++) {
		if (blocks[i].n == 0 || shown[i])
			continue;
		sb_printf(w->out, "    view of");
		for (unsigned k = i; k < w->nn; k++)
			if (blocks[k].n && !shown[k] && blocks[k].n == blocks[i].n &&
			    memcmp(blocks[k].s, blocks[i].s, blocks[i].n) == 0) {
				shown[k] = true;
				sb_printf(w->out, " n%" PRIu32, w->nodes[k].nodeid);
			}
		sb_printf(w->out, ": %.*s", (int)blocks[i].n, blocks[i].s);
	}
	for (unsigned i = 0; i < w->nn; i++) {
		struct scn_node *s = &w->nodes[i];
		bool any = false, differs = false;

		sb_printf(w->out, "    n%" PRIu32 ":", s->nodeid);
		if (!s->cs_up)
			sb_printf(w->out, " corosync down,");
		if (!s->d_up)
			sb_printf(w->out, " no daemon,");
		else if (s->frozen)
			sb_printf(w->out, " frozen,");
		else if (s->core && scn_core_quorate(s->core))
			sb_printf(w->out, " quorate,");
		else
			sb_printf(w->out, " not quorate,");
		sb_printf(w->out, " kernel");
		for (unsigned v = 0; v < w->nv; v++)
			if (s->held[v]) {
				sb_printf(w->out, " %s", scn_vip_ip(w, v, a, sizeof(a)));
				any = true;
			}
		if (!any)
			sb_printf(w->out, " -");
		for (size_t k = 0; s->d_up && s->core && k < s->n_local; k++)
			differs |= scn_core_local_held(s->core, k) != s->held[s->local[k]];
		if (differs) {
			sb_printf(w->out, "; core holds");
			any = false;
			for (size_t k = 0; k < s->n_local; k++)
				if (scn_core_local_held(s->core, k)) {
					sb_printf(w->out, " %s", scn_local_ip(w, s, k, a, sizeof(a)));
					any = true;
				}
			if (!any)
				sb_printf(w->out, " -");
		}
		sb_printf(w->out, "\n");
	}
	for (unsigned i = 0; i < w->nn; i++)
		sb_free(&blocks[i]);
}
