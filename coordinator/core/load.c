/*
 * Load: from local measurements to replicated placement weights.
 *
 * A plugin (smallfile-balance) measures, per address this node holds, a
 * load figure and a connection count, and hands them to core_set_load().
 * They are local until multicast: at most once per LOAD_SEND_MIN_MS, when
 * something changed, and again after every round, this node sends LOAD
 * with what it measured for the addresses it holds.  Delivered LOAD
 * reports are applied in order into a table keyed by address, and only
 * from the address's current owner, so every member holds the same table
 * at the same point of the stream.  The table is emptied at every round
 * completion: a member that just joined never saw the earlier reports, and
 * emptying it everywhere keeps all members equal until fresh reports arrive
 * (a few seconds: with an empty table placement is plain count balancing).
 *
 * Load moves nothing by itself.  Only a REBALANCE carrying
 * WIRE_REBALANCE_LOAD does, sent by the lowest member every
 * load_interval_ms and applied in delivery order; placement then balances
 * load (place.h rule 7) with the configured margin and move budget.  Every
 * other placement (failover, health, joins) sees the weights with a budget
 * of zero, so the load table never delays nor adds a move to failover.
 *
 * Count and load are two steps (protocol 7, placement v2).  A load
 * rebalance is a placement like any other (counts rebalanced only as the
 * failback policy says) plus the load step, whose moves keep the counts
 * as even as they are; an explicit count rebalance (chorusctl rebalance,
 * failback delay, failback auto) evens counts whatever the load: the load
 * table only adds a step, it never replaces one.  Below protocol 7
 * (placement v1) a rebalance with any load known balanced load instead of
 * counts, and a load rebalance was a rebalance: kept for mixed clusters.
 *
 * Everything here is versioned: LOAD and load rebalances are protocol 4,
 * sent only when every member speaks it.
 */
#include "core/load.h"
#include "core/state_private.h"
#include "core/state_table.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

/* A node reports at most this often, however often its plugin measures. */
#define LOAD_SEND_MIN_MS 1000u

struct core_load {
	/* replicated */
	struct wire_load_ent *tab;	/* sorted by address */
	size_t n_tab;
	bool now;			/* a load rebalance is being applied */
	uint64_t rebalances, moves;	/* load rebalances applied, moves they made */
	/* local */
	uint32_t *lload, *lconns;	/* per cfg vip, as last measured */
	bool dirty;
	uint64_t send_at_ms;		/* earliest next LOAD */
	uint64_t trigger_at_ms;		/* lowest member: next load rebalance */
};

int core_load_new(struct core *c)
{
	struct core_load *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return -ENOMEM;
	l->lload = calloc(c->cfg.n_vips + 1, sizeof(*l->lload));
	l->lconns = calloc(c->cfg.n_vips + 1, sizeof(*l->lconns));
	if (l->lload == NULL || l->lconns == NULL) {
		free(l->lload);
		free(l->lconns);
		free(l);
		return -ENOMEM;
	}
	if (c->cfg.load_margin_pct == 0)
		c->cfg.load_margin_pct = 10;
	if (c->cfg.load_budget == 0)
		c->cfg.load_budget = 2;
	c->load = l;
	return 0;
}

void core_load_free(struct core *c)
{
	if (c->load == NULL)
		return;
	free(c->load->tab);
	free(c->load->lload);
	free(c->load->lconns);
	free(c->load);
	c->load = NULL;
}

static bool usable(const struct core *c)
{
	return c->proto >= 4 && c->in_view && c->round_done;
}

int core_set_load(struct core *c, size_t idx, uint32_t load, uint32_t conns)
{
	struct core_load *l = c->load;

	if (idx >= c->cfg.n_vips)
		return -EINVAL;
	if (l->lload[idx] != load || l->lconns[idx] != conns)
		l->dirty = true;
	l->lload[idx] = load;
	l->lconns[idx] = conns;
	return 0;
}

void core_load_round_reset(struct core *c)
{
	struct core_load *l = c->load;

	free(l->tab);
	l->tab = NULL;
	l->n_tab = 0;
	l->dirty = true;
	l->send_at_ms = c->now_ms;
	l->trigger_at_ms = c->now_ms + c->cfg.load_interval_ms;
}

static long tab_find(const struct core_load *l, const struct res_addr *a)
{
	return RES_ADDR_SEARCH(l->tab, l->n_tab, addr, a);
}

static int tab_set(struct core_load *l, const struct wire_load_ent *e)
{
	long k = tab_find(l, &e->addr);
	struct wire_load_ent *v;
	size_t at;

	if (k >= 0) {
		l->tab[k] = *e;
		return 0;
	}
	at = (size_t)(-k - 1);
	v = realloc(l->tab, (l->n_tab + 1) * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	l->tab = v;
	memmove(&v[at + 1], &v[at], (l->n_tab - at) * sizeof(*v));
	v[at] = *e;
	l->n_tab++;
	return 0;
}

void core_load_apply(struct core *c, uint32_t nodeid, const struct wire_hdr *h, const void *buf,
		     size_t size)
{
	struct wire_load ld;
	int rc;

	if (h->token != c->token || !c->round_done)
		return;	/* sent for an earlier view: its table was emptied */
	rc = wire_decode_load(buf, size, &ld);
	if (rc < 0) {
		if (rc == -ENOMEM)
			c->err = rc;
		else
			qb_log(LOG_WARNING, "dropped malformed LOAD from node %" PRIu32, nodeid);
		return;
	}
	for (uint32_t i = 0; i < ld.n; i++) {
		long r = core_res_find(c, &ld.ents[i].addr);

		/* only the owner knows its clients; anything else is stale */
		if (r < 0 || c->res[r].owner != nodeid)
			continue;
		if (tab_set(c->load, &ld.ents[i]) < 0)
			c->err = -ENOMEM;
	}
	wire_load_clear(&ld);
}

/* Any nonzero load in the table?  Without one a load rebalance has nothing
 * to do (and placement v1 would read it as a count rebalance, which is the
 * failback policy's call). */
static bool any_load(const struct core_load *l)
{
	for (size_t i = 0; i < l->n_tab; i++)
		if (l->tab[i].load != 0)
			return true;
	return false;
}

void core_load_rebalance(struct core *c, struct core_actions *out)
{
	uint32_t *before;
	uint32_t moved = 0;

	if (!any_load(c->load))
		return;
	before = malloc((c->n_res + 1) * sizeof(*before));
	if (before == NULL) {
		c->err = -ENOMEM;
		return;
	}
	for (size_t r = 0; r < c->n_res; r++)
		before[r] = c->res[r].owner;
	c->load->now = true;
	/* v2: counts as the failback policy says (core_replace adds auto) */
	core_replace(c, out, c->proto < 7, CORE_WHY_LOAD);
	c->load->now = false;
	for (size_t r = 0; r < c->n_res; r++)
		moved += before[r] != c->res[r].owner;
	c->load->rebalances++;
	c->load->moves += moved;
	if (moved)
		qb_log(LOG_NOTICE, "load rebalance moved %" PRIu32 " address%s", moved,
		       moved == 1 ? "" : "es");
	free(before);
}

void core_load_fill(const struct core *c, struct place_res *pr, uint32_t *margin_pct,
		    uint32_t *budget)
{
	const struct core_load *l = c->load;

	for (size_t r = 0; r < c->n_res; r++) {
		long k = l->n_tab ? tab_find(l, &c->res[r].addr) : -1;

		pr[r].weight = k >= 0 ? l->tab[k].load : 0;
		pr[r].conns = k >= 0 ? l->tab[k].conns : 0;
		if (c->res[r].excl)
			pr[r].flags |= PLACE_F_NO_LOAD_MOVE;
	}
	*margin_pct = c->cfg.load_margin_pct;
	*budget = l->now ? c->cfg.load_budget : 0;
}

static void send_report(struct core *c, struct core_actions *out)
{
	struct core_load *l = c->load;
	struct wire_load ld = {0};
	int rc;

	ld.ents = calloc(c->cfg.n_vips + 1, sizeof(*ld.ents));
	if (ld.ents == NULL) {
		c->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < c->cfg.n_vips; i++) {
		uint32_t r = c->lres[i];

		if (r == UINT32_MAX || c->res[r].owner != c->cfg.nodeid)
			continue;
		ld.ents[ld.n++] = (struct wire_load_ent){c->vips[i].addr, l->lload[i], l->lconns[i]};
	}
	rc = wire_encode_load(&c->wb, c->token, c->cfg.incarnation, &ld);
	free(ld.ents);
	if (rc < 0) {
		qb_log(LOG_ERR, "cannot encode LOAD " QB_XS " rc=%d", rc);
		return;
	}
	core_emit_send(c, out);
	l->dirty = false;
	l->send_at_ms = c->now_ms + LOAD_SEND_MIN_MS;
}

void core_load_tick(struct core *c, struct core_actions *out)
{
	struct core_load *l = c->load;

	if (!usable(c))
		return;
	if (l->dirty && c->now_ms >= l->send_at_ms)
		send_report(c, out);
	if (c->cfg.load_interval_ms == 0 || c->n_members == 0 ||
	    c->members[0].nodeid != c->cfg.nodeid || c->now_ms < l->trigger_at_ms)
		return;
	l->trigger_at_ms = c->now_ms + c->cfg.load_interval_ms;
	if (any_load(l) && core_quorate(c)) {
		struct wire_small sm = {.value = WIRE_REBALANCE_LOAD};

		if (wire_encode_small(&c->wb, 4, WIRE_REBALANCE, c->token, c->cfg.incarnation,
				      &sm) == 0)
			core_emit_send(c, out);
	}
}

uint64_t core_load_next(const struct core *c, uint64_t next)
{
	const struct core_load *l = c->load;

	if (!usable(c))
		return next;
	/* never 0: a timer at 0 means "none" to the adapter */
	if (l->dirty && l->send_at_ms < next)
		next = l->send_at_ms > c->now_ms ? l->send_at_ms : c->now_ms + 1;
	if (c->cfg.load_interval_ms && c->n_members && c->members[0].nodeid == c->cfg.nodeid &&
	    l->trigger_at_ms < next)
		next = l->trigger_at_ms;
	return next;
}

int core_load_plan(struct core *c, struct core_plan_move **moves, size_t *n)
{
	uint32_t *prev = malloc((c->n_res + 1) * sizeof(*prev));
	uint32_t *holder = calloc(c->n_res + 1, sizeof(*holder));
	uint32_t *owner = calloc(c->n_res + 1, sizeof(*owner));
	bool *fixed = calloc(c->n_res + 1, sizeof(*fixed));
	struct core_plan_move *v = calloc(c->n_res + 1, sizeof(*v));
	int rc = -ENOMEM;

	*moves = NULL;
	*n = 0;
	if (!c->round_done)
		rc = -EAGAIN;
	if (!c->round_done || !prev || !holder || !owner || !fixed || !v)
		goto out;
	core_replace_input(c, prev, fixed, holder);
	c->load->now = true;
	rc = core_place_compute(c, prev, fixed,
				c->proto < 7 || c->cfg.failback == CORE_FAILBACK_AUTO, 0, owner, NULL);
	c->load->now = false;
	for (size_t r = 0; rc == 0 && r < c->n_res; r++) {
		if (owner[r] == c->res[r].owner)
			continue;
		v[*n] = (struct core_plan_move){c->res[r].addr, c->res[r].owner, owner[r]};
		(*n)++;
	}
	if (rc == 0) {
		*moves = v;
		v = NULL;
	}
out:
	free(prev);
	free(holder);
	free(owner);
	free(fixed);
	free(v);
	return rc;
}

void core_load_get(const struct core *c, const struct res_addr *addr, uint32_t *load,
		   uint32_t *conns)
{
	const struct core_load *l = c->load;
	long k = l->n_tab ? tab_find(l, addr) : -1;

	*load = k >= 0 ? l->tab[k].load : 0;
	*conns = k >= 0 ? l->tab[k].conns : 0;
}

void core_load_stats(const struct core *c, uint64_t *rebalances, uint64_t *moves)
{
	*rebalances = c->load->rebalances;
	*moves = c->load->moves;
}
