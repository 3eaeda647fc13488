/*
 * Absent nodes: resources still accounted to a node that is not a member.
 *
 * Two kinds, both replicated through the snapshots and merged at every
 * round so all members hold the same list:
 *
 *  GRACE  the daemon is gone but the node is still in the corosync ring
 *         (crashed or restarting chorusd).  Everything it held stays with
 *         it for the restart grace; then GRACE_EXPIRED frees its plain
 *         addresses.  Its exclusive resources (bricks) keep running without
 *         the daemon, so they stay until the node is fenced, leaves the
 *         ring, or the daemon comes back.
 *  FENCE  the node left the ring.  Plain addresses are free at once (its
 *         kernel lifetime removes them there); its exclusive resources stay
 *         with it until it is known down: a fence command succeeded
 *         (FENCED), the operator confirmed it (FENCED), or, in fence mode
 *         "grace", the self-fence grace ran out (GRACE_EXPIRED).  A node
 *         that loses quorum releases its bricks within that grace, and a
 *         watchdog resets one that cannot.
 *
 * Which addresses are exclusive is itself replicated: every STATE carries
 * the exclusive addresses its sender knows (its own bricks and the table's),
 * and a round takes the union.  Below protocol 3 the set is empty and no
 * member runs an exclusive resource at all, so older members compute the
 * same table.
 */
#include "core/state_private.h"
#include "core/state_absent.h"
#include "core/state_live.h"
#include "core/state_table.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#define FENCE_RETRY_MS 5000u

static int addr_cmp_void(const void *a, const void *b)
{
	return res_addr_cmp(a, b);
}

bool core_is_excl(const struct core *c, const struct res_addr *addr)
{
	return res_addr_search(c->excl, c->n_excl, sizeof(*c->excl), 0, addr) >= 0;
}

/* The exclusive set for a completed round: the union of what the members
 * said, empty below protocol 3. */
int core_excl_merge(struct core *c)
{
	size_t n = 0;
	long w;
	struct res_addr *v;

	free(c->excl);
	c->excl = NULL;
	c->n_excl = 0;
	if (c->proto < 3)
		return 0;
	for (size_t i = 0; i < c->n_members; i++)
		if (c->members[i].have_state)
			n += c->members[i].snap.n_excl;
	if (n == 0)
		return 0;
	v = malloc(n * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < c->n_members; i++) {
		const struct wire_state *s = &c->members[i].snap;

		if (!c->members[i].have_state || s->n_excl == 0)
			continue;
		memcpy(&v[n], s->excl, s->n_excl * sizeof(*v));
		n += s->n_excl;
	}
	w = res_addr_sort_unique(v, n, sizeof(*v), 0);
	if (w < 0) {
		free(v);
		return (int)w;
	}
	c->excl = v;
	c->n_excl = (size_t)w;
	return 0;
}

/* What our STATE says is exclusive: our own declarations and what the
 * table knows. */
int core_excl_build(const struct core *c, struct wire_state *st)
{
	size_t n = 0;

	for (size_t i = 0; i < c->cfg.n_vips; i++)
		n += core_vip_excl(c, i);
	for (size_t r = 0; r < c->n_res; r++)
		n += c->res[r].excl;
	if (n == 0)
		return 0;
	st->excl = calloc(n, sizeof(*st->excl));
	if (st->excl == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < c->cfg.n_vips; i++)
		if (core_vip_excl(c, i))
			st->excl[st->n_excl++] = c->vips[i].addr;
	for (size_t r = 0; r < c->n_res; r++)
		if (c->res[r].excl)
			st->excl[st->n_excl++] = c->res[r].addr;
	return 0;
}

/* ---- configured and seen nodes ---- */

static int known_add(struct wire_node **v, size_t *n, uint32_t nodeid, uint8_t flags)
{
	size_t lo = 0, hi = *n;
	struct wire_node *nv;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((*v)[mid].nodeid == nodeid) {
			(*v)[mid].flags |= flags;
			return 0;
		}
		if ((*v)[mid].nodeid < nodeid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (*n >= WIRE_MAX_NODES)
		return 0;	/* beyond any real cluster; a hostile list stops here */
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (nv == NULL)
		return -ENOMEM;
	memmove(&nv[lo + 1], &nv[lo], (*n - lo) * sizeof(*nv));
	nv[lo] = (struct wire_node){nodeid, flags};
	*v = nv;
	(*n)++;
	return 0;
}

/* A node whose holdings are accounted for: a member now, or one whose
 * record was settled (fenced, grace over). */
static void known_seen(struct core *c, uint32_t nodeid)
{
	if (known_add(&c->known, &c->n_known, nodeid, WIRE_NODE_SEEN) < 0)
		c->err = -ENOMEM;
}

int core_known_build(const struct core *c, struct wire_state *st)
{
	struct wire_node *v = NULL;
	size_t n = 0;
	int err = 0;

	for (size_t i = 0; err == 0 && i < c->n_known; i++)
		err = known_add(&v, &n, c->known[i].nodeid, c->known[i].flags);
	for (size_t i = 0; err == 0 && i < c->cfg.n_nodes; i++)
		if (c->cfg.nodes[i] != 0)
			err = known_add(&v, &n, c->cfg.nodes[i], WIRE_NODE_CONFIGURED);
	for (size_t i = 0; err == 0 && i < c->n_members; i++)
		err = known_add(&v, &n, c->members[i].nodeid, WIRE_NODE_SEEN);
	if (err < 0) {
		free(v);
		return err;
	}
	st->nodes = v;
	st->n_nodes = (uint32_t)n;
	return 0;
}

int core_known_merge(struct core *c)
{
	for (size_t i = 0; i < c->n_members; i++) {
		const struct wire_state *s = &c->members[i].snap;

		for (uint32_t k = 0; c->members[i].have_state && k < s->n_nodes; k++)
			if (known_add(&c->known, &c->n_known, s->nodes[k].nodeid,
				      s->nodes[k].flags) < 0)
				return -ENOMEM;
		if (known_add(&c->known, &c->n_known, c->members[i].nodeid, WIRE_NODE_SEEN) < 0)
			return -ENOMEM;
	}
	return 0;
}

static uint64_t deadline_for(const struct core *c, uint8_t kind)
{
	return c->now_ms + (kind == WIRE_ABSENT_FENCE ? c->cfg.fence_grace_ms
						      : c->cfg.restart_grace_ms);
}

static int absent_insert(struct core *c, struct absent *a)
{
	struct absent *v = realloc(c->absent, (c->n_absent + 1) * sizeof(*v));
	size_t pos;

	if (v == NULL)
		return -ENOMEM;
	c->absent = v;
	pos = c->n_absent;
	while (pos > 0 && c->absent[pos - 1].nodeid > a->nodeid) {
		c->absent[pos] = c->absent[pos - 1];
		pos--;
	}
	c->absent[pos] = *a;
	c->n_absent++;
	return 0;
}

/*
 * Record an absent node.  With 'from_table', what it holds is taken from our
 * own table: only for records we put in our STATE, where local knowledge is
 * allowed.  An EXCLUDE must use the message's list alone, which every member
 * sees identically.  A FENCE record keeps exclusive resources only, and is
 * not made when there are none.
 */
int core_absent_record(struct core *c, uint32_t nodeid, uint8_t kind, bool from_table,
		       const struct res_addr *extra, size_t n_extra)
{
	struct absent a = {.nodeid = nodeid, .kind = kind, .since = c->ring.seq};
	size_t cap = n_extra;
	bool clean = false;	/* it said it stopped its bricks before leaving */

	for (size_t i = 0; i < c->n_absent; i++)
		if (c->absent[i].nodeid == nodeid)
			return 0;	/* already accounted (e.g. excluded, then left) */
	for (size_t r = 0; from_table && r < c->n_res; r++)
		if (c->res[r].owner == nodeid || c->res[r].from == nodeid)
			cap++;
	if (cap) {
		a.res = calloc(cap, sizeof(*a.res));
		if (a.res == NULL)
			return -ENOMEM;
	}
	for (size_t i = 0; i < c->n_clean; i++)
		if (c->clean[i] == nodeid)
			clean = true;
	for (size_t r = 0; from_table && r < c->n_res; r++) {
		if ((c->res[r].owner == nodeid || c->res[r].from == nodeid) &&
		    (kind != WIRE_ABSENT_FENCE || c->res[r].excl) && !(clean && c->res[r].excl)) {
			a.res[a.n_res].addr = c->res[r].addr;
			snprintf(a.res[a.n_res].pool, CHORUS_NAME_MAX, "%s", c->pools[c->res[r].pool]);
			a.n_res++;
		}
	}
	for (size_t k = 0; k < n_extra; k++) {
		bool dup = false;
		long r = core_res_find(c, &extra[k]);

		for (size_t j = 0; j < a.n_res; j++)
			if (res_addr_cmp(&a.res[j].addr, &extra[k]) == 0)
				dup = true;
		if (dup)
			continue;
		a.res[a.n_res].addr = extra[k];
		snprintf(a.res[a.n_res].pool, CHORUS_NAME_MAX, "%s",
			 r >= 0 ? c->pools[c->res[r].pool] : "default");
		a.n_res++;
	}
	/* canonical order: records are compared by content when merged */
	if (a.n_res > 1)
		qsort(a.res, a.n_res, sizeof(*a.res), addr_cmp_void);
	if (kind == WIRE_ABSENT_FENCE && a.n_res == 0) {
		free(a.res);
		return 0;
	}
	a.deadline_ms = deadline_for(c, kind);
	if (absent_insert(c, &a) < 0) {
		free(a.res);
		return -ENOMEM;
	}
	if (kind == WIRE_ABSENT_FENCE)
		qb_log(LOG_WARNING, "node %" PRIu32 " left the ring holding %zu exclusive "
		       "resource%s: they wait until it is known down", nodeid, a.n_res,
		       a.n_res == 1 ? "" : "s");
	else
		qb_log(LOG_NOTICE, "node %" PRIu32 ": daemon gone but node up, holding its %zu "
		       "resources for the restart grace", nodeid, a.n_res);
	return 0;
}

/* Keep only the exclusive resources of 'a'; false when none are left. */
static bool keep_excl_only(struct core *c, struct absent *a)
{
	size_t w = 0;

	for (size_t k = 0; k < a->n_res; k++)
		if (core_is_excl(c, &a->res[k].addr))
			a->res[w++] = a->res[k];
	a->n_res = w;
	return w > 0;
}

/*
 * Records of nodes that came back are dropped: their STATE says what they
 * hold.  A GRACE record whose node left the ring becomes a FENCE record
 * with its exclusive resources only, or goes when it has none.
 */
void core_absent_prune(struct core *c)
{
	size_t w = 0;

	for (size_t i = 0; i < c->n_absent; i++) {
		struct absent *a = &c->absent[i];
		uint32_t id = a->nodeid;

		if (core_is_member_nodeid(c, id)) {
			core_absent_free(a);
			continue;
		}
		if (a->kind == WIRE_ABSENT_GRACE && !core_in_totem(c, id)) {
			if (!keep_excl_only(c, a)) {
				qb_log(LOG_NOTICE, "node %" PRIu32 " left the ring: its resources "
				       "are free", id);
				core_absent_free(a);
				continue;
			}
			qb_log(LOG_WARNING, "node %" PRIu32 " left the ring: its %zu exclusive "
			       "resource%s wait until it is known down", id, a->n_res,
			       a->n_res == 1 ? "" : "s");
			a->kind = WIRE_ABSENT_FENCE;
			a->since = c->ring.seq;
			a->deadline_ms = deadline_for(c, a->kind);
			a->expiry_sent = false;
			a->fence_busy = false;
			a->fence_retry_ms = 0;
		}
		c->absent[w++] = *a;
	}
	c->n_absent = w;
}

/* A total order on records of one node, so every member keeps the same one
 * whatever it had itself: newest, then largest, then by content (two members
 * may have recorded the same departure from different tables). */
static int record_cmp(const struct absent *a, const struct wire_absent *w)
{
	if (a->since != w->since)
		return a->since < w->since ? -1 : 1;
	if (a->n_res != w->n_res)
		return a->n_res < w->n_res ? -1 : 1;
	if (a->kind != w->kind)
		return a->kind < w->kind ? -1 : 1;
	for (size_t k = 0; k < a->n_res; k++) {
		int d = res_addr_cmp(&a->res[k].addr, &w->res[k].addr);

		if (d)
			return d;
	}
	return 0;
}

/* Does snapshot 's' say its sender has seen 'nodeid' in a view? */
static bool snap_seen(const struct wire_state *s, uint32_t nodeid)
{
	for (uint32_t k = 0; k < s->n_nodes; k++)
		if (s->nodes[k].nodeid == nodeid)
			return (s->nodes[k].flags & WIRE_NODE_SEEN) != 0;
	return false;
}

/*
 * A fence record whose sender never saw the node is a start-up record
 * (core_absent_unseen): "nobody in my view has seen it, so it may run any
 * brick nobody claims".  A daemon that started alone (its node cut off at
 * boot, or its corosync restarted) makes one for every other node.  When
 * another member of this view has seen the node, that premise is false:
 * had the node left holding anything, that member would carry its own
 * record.  Merging it anyway powered off a node that held nothing (found by
 * the chaos suite with IPMI fencing; scenario 058).  Protocol 9: every
 * member merges alike.
 */
static bool stale_startup(const struct core *c, const struct wire_state *s,
			  const struct wire_absent *w)
{
	if (c->proto < 9 || w->kind != WIRE_ABSENT_FENCE || s->n_nodes == 0 ||
	    snap_seen(s, w->nodeid))
		return false;
	for (size_t i = 0; i < c->n_members; i++)
		if (c->members[i].have_state && snap_seen(&c->members[i].snap, w->nodeid))
			return true;
	return false;
}

static void merge_one(struct core *c, const struct wire_state *s, const struct wire_absent *w)
{
	struct absent *have = NULL;
	struct absent nv = {.nodeid = w->nodeid, .kind = w->kind, .since = w->since};

	if (core_is_member_nodeid(c, w->nodeid) || stale_startup(c, s, w))
		return;
	if (w->kind == WIRE_ABSENT_GRACE && !core_in_totem(c, w->nodeid))
		return;
	if (w->kind == WIRE_ABSENT_FENCE && c->proto < 3)
		return;
	for (size_t j = 0; j < c->n_absent; j++)
		if (c->absent[j].nodeid == w->nodeid)
			have = &c->absent[j];
	/* A record we put in our STATE counts only as the snapshot that
	 * carried it: the first snapshot's record replaces it. */
	if (have != NULL && !(have->in_state && !have->merged) && record_cmp(have, w) >= 0)
		return;
	if (w->n_res) {
		nv.res = calloc(w->n_res, sizeof(*nv.res));
		if (nv.res == NULL) {
			c->err = -ENOMEM;
			return;
		}
	}
	for (uint32_t r = 0; r < w->n_res; r++) {
		nv.res[r].addr = w->res[r].addr;
		snprintf(nv.res[r].pool, CHORUS_NAME_MAX, "%s", s->pools[w->res[r].pool]);
	}
	nv.n_res = w->n_res;
	if (have != NULL) {
		if (have->kind == nv.kind) {
			nv.deadline_ms = have->deadline_ms;
			nv.expiry_sent = have->expiry_sent;
			nv.fence_busy = have->fence_busy;
			nv.fence_retry_ms = have->fence_retry_ms;
		} else {
			nv.deadline_ms = deadline_for(c, nv.kind);
		}
		core_absent_free(have);
		nv.in_state = have->in_state;
		nv.merged = true;
		*have = nv;
	} else {
		nv.merged = true;
		nv.deadline_ms = deadline_for(c, nv.kind);
		if (absent_insert(c, &nv) < 0) {
			free(nv.res);
			c->err = -ENOMEM;
		}
	}
}

/* Union of every snapshot's absent records and ours made since our STATE
 * went out (members excluded in this round, the same on every member); per
 * node the record with the highest (since, size) wins, so all members end
 * with the same list.  The records our STATE carried count only through the
 * snapshot the round used, which may not be the one we sent: a STATE sent
 * for an earlier instance of the same view (same ring, same members: a
 * member that rejoined with its pid) can be delivered in a later one, and
 * counting our newer records too put one node's fence record against
 * another's restart-grace record for the same node (simulator seed 18910). */
void core_absent_merge(struct core *c)
{
	size_t w = 0;

	for (size_t i = 0; i < c->n_absent; i++)
		c->absent[i].merged = false;
	for (size_t i = 0; i < c->n_members && !c->err; i++) {
		const struct wire_state *s = &c->members[i].snap;

		if (!c->members[i].have_state)
			continue;
		for (uint32_t k = 0; k < s->n_absent && !c->err; k++)
			merge_one(c, s, &s->absent[k]);
		for (uint32_t k = 0; k < s->n_fence && !c->err; k++)
			merge_one(c, s, &s->fence[k]);
	}
	for (size_t i = 0; i < c->n_absent; i++) {
		struct absent *a = &c->absent[i];

		if (a->in_state && !a->merged && !c->err) {
			core_absent_free(a);	/* in no snapshot the round used */
			continue;
		}
		a->in_state = false;
		c->absent[w++] = *a;
	}
	c->n_absent = w;
	core_absent_prune(c);
}

static bool claimed(const struct core *c, const struct res_addr *addr)
{
	for (size_t i = 0; i < c->n_members; i++) {
		const struct wire_state *s = &c->members[i].snap;

		for (uint32_t k = 0; c->members[i].have_state && k < s->n_owned; k++)
			if ((s->owned[k].flags & (WIRE_OWN_HELD | WIRE_OWN_RELEASING)) &&
			    res_addr_cmp(&s->owned[k].addr, addr) == 0)
				return true;
	}
	return false;
}

static const char *decl_pool(const struct core *c, const struct res_addr *addr)
{
	for (size_t i = 0; i < c->n_members; i++) {
		const struct wire_state *s = &c->members[i].snap;

		for (uint32_t k = 0; c->members[i].have_state && k < s->n_decl; k++)
			if (res_addr_cmp(&s->decl[k].addr, addr) == 0)
				return s->pools[s->decl[k].pool];
	}
	return "default";
}

/*
 * Startup fencing: a configured node that nobody in this view has ever
 * seen (the cluster came up without it) may be running any brick that no
 * member claims.  Record it as lost with all of those, so they wait for
 * its fencing or grace exactly like a node that left the ring.  A fence
 * device is not used on it before the restart grace has passed: nodes of
 * a cluster booting together come up seconds apart, and a real BMC would
 * power off a node whose daemon was merely late (Pacemaker waits its
 * dc-deadtime for the same reason).  Joining in time ends the record.
 */
void core_absent_unseen(struct core *c)
{
	if (c->proto < 3 || c->n_excl == 0)
		return;
	for (size_t i = 0; i < c->n_known && !c->err; i++) {
		const struct wire_node *k = &c->known[i];
		struct absent a = {.nodeid = k->nodeid, .kind = WIRE_ABSENT_FENCE,
				   .since = c->ring.seq};
		bool have = false;

		if ((k->flags & WIRE_NODE_SEEN) || !(k->flags & WIRE_NODE_CONFIGURED) ||
		    core_is_member_nodeid(c, k->nodeid))
			continue;
		for (size_t j = 0; j < c->n_absent; j++)
			have |= c->absent[j].nodeid == k->nodeid;
		if (have)
			continue;
		a.res = calloc(c->n_excl, sizeof(*a.res));
		if (a.res == NULL) {
			c->err = -ENOMEM;
			return;
		}
		for (size_t r = 0; r < c->n_excl; r++) {
			if (claimed(c, &c->excl[r]))
				continue;
			a.res[a.n_res].addr = c->excl[r];
			snprintf(a.res[a.n_res].pool, CHORUS_NAME_MAX, "%s",
				 decl_pool(c, &c->excl[r]));
			a.n_res++;
		}
		if (a.n_res == 0) {
			free(a.res);
			continue;
		}
		a.deadline_ms = deadline_for(c, a.kind);
		a.fence_retry_ms = c->now_ms + c->cfg.restart_grace_ms;
		if (absent_insert(c, &a) < 0) {
			free(a.res);
			c->err = -ENOMEM;
			return;
		}
		qb_log(LOG_WARNING, "node %" PRIu32 " has not been seen since start-up: %zu "
		       "unclaimed exclusive resource%s wait until it is known down (a fence "
		       "device is used on it after %u ms unless it joins)", k->nodeid,
		       a.n_res, a.n_res == 1 ? "" : "s", c->cfg.restart_grace_ms);
	}
}

static void absent_drop(struct core *c, size_t i)
{
	known_seen(c, c->absent[i].nodeid);
	core_absent_free(&c->absent[i]);
	memmove(&c->absent[i], &c->absent[i + 1], (c->n_absent - i - 1) * sizeof(c->absent[0]));
	c->n_absent--;
}

static long absent_find(const struct core *c, uint32_t nodeid, uint64_t since)
{
	for (size_t i = 0; i < c->n_absent; i++)
		if (c->absent[i].nodeid == nodeid && c->absent[i].since == since)
			return (long)i;
	return -1;
}

void core_absent_apply_grace(struct core *c, struct core_actions *out,
			     const struct wire_small *sm)
{
	bool changed = false;

	for (uint32_t k = 0; k < sm->n_nodes; k++) {
		long i = absent_find(c, sm->nodes[k], sm->incarnations[k]);
		struct absent *a;

		if (i < 0)
			continue;
		a = &c->absent[i];
		if (a->kind == WIRE_ABSENT_FENCE) {
			qb_log(LOG_WARNING, "node %" PRIu32 ": self-fence grace over, taking over "
			       "its exclusive resources", a->nodeid);
			absent_drop(c, (size_t)i);
			changed = true;
			continue;
		}
		{
			size_t before = a->n_res;

			if (keep_excl_only(c, a)) {
				if (a->n_res == before)
					continue;	/* a repeat: nothing left to free */
				changed = true;
				qb_log(LOG_NOTICE, "node %" PRIu32 ": restart grace over, taking over "
				       "its addresses; its %zu exclusive resource%s stay%s until "
				       "it is known down", a->nodeid, a->n_res,
				       a->n_res == 1 ? "" : "s", a->n_res == 1 ? "s" : "");
				continue;
			}
		}
		qb_log(LOG_NOTICE, "node %" PRIu32 ": restart grace over, taking over "
		       "its resources", sm->nodes[k]);
		absent_drop(c, (size_t)i);
		changed = true;
	}
	if (changed)
		core_replace(c, out, false, CORE_WHY_LOST);
}

void core_absent_apply_fenced(struct core *c, struct core_actions *out, uint32_t sender,
			      const struct wire_small *sm)
{
	bool changed = false;

	for (uint32_t k = 0; k < sm->n_nodes; k++) {
		long i = absent_find(c, sm->nodes[k], sm->incarnations[k]);

		if (i < 0)
			continue;
		qb_log(LOG_WARNING, "node %" PRIu32 " is down (%s, reported by node %" PRIu32 "): "
		       "taking over its resources", sm->nodes[k],
		       sm->value == 2 ? "confirmed by the operator" : "fenced", sender);
		core_live_fenced(c, sm->nodes[k]);
		absent_drop(c, (size_t)i);
		changed = true;
	}
	if (changed)
		core_replace(c, out, false, CORE_WHY_LOST);
}

static void send_node_msg(struct core *c, struct core_actions *out, enum wire_type type,
			  uint32_t node, uint64_t since, uint32_t value)
{
	struct wire_small sm = {.value = value, .n_nodes = 1, .nodes = &node,
				.incarnations = &since};

	if (type == WIRE_FENCED) {
		if (wire_encode_small(&c->wb, 3, type, 0, c->cfg.incarnation, &sm) == 0)
			core_emit_send(c, out);
		return;
	}
	core_send_small(c, out, type, 0, &sm);
}

/* Does a record wait for fencing now?  FENCE records always; a GRACE record
 * once its restart grace is over and only exclusive resources are left. */
static bool wants_fence(const struct core *c, const struct absent *a)
{
	if (a->kind == WIRE_ABSENT_FENCE)
		return true;
	if (!a->expiry_sent || a->n_res == 0)
		return false;
	for (size_t k = 0; k < a->n_res; k++)
		if (!core_is_excl(c, &a->res[k].addr))
			return false;
	return true;
}

/* The lowest member not excluded runs fence commands, so a lost node is not
 * powered off by everyone at once.  Not simply the lowest: a member excluded
 * by SUSPECT (its daemon froze while its corosync runs on) stays in the
 * member list, and as the fencer it would fence nobody, least of all itself,
 * leaving its own bricks unmanaged.  'excluded' changes only on delivered
 * messages, so every member picks the same fencer. */
static bool fencer(const struct core *c)
{
	for (size_t i = 0; i < c->n_members; i++)
		if (!c->members[i].excluded)
			return c->members[i].nodeid == c->cfg.nodeid;
	return false;
}

void core_absent_tick(struct core *c, struct core_actions *out, bool quorate)
{
	for (size_t i = 0; c->in_view && c->round_done && i < c->n_absent; i++) {
		struct absent *a = &c->absent[i];

		if (a->kind == WIRE_ABSENT_GRACE) {
			if (!a->expiry_sent && c->now_ms >= a->deadline_ms) {
				a->expiry_sent = true;
				send_node_msg(c, out, WIRE_GRACE_EXPIRED, a->nodeid, a->since, 0);
			}
		} else if (c->cfg.fence == CORE_FENCE_GRACE && quorate && !a->expiry_sent &&
			   c->now_ms >= a->deadline_ms) {
			/* Only a quorate view may declare a node self-fenced:
			 * the node itself is in the minority and has released. */
			a->expiry_sent = true;
			send_node_msg(c, out, WIRE_GRACE_EXPIRED, a->nodeid, a->since, 0);
		}
		if (c->cfg.fence == CORE_FENCE_COMMAND && quorate && fencer(c) &&
		    wants_fence(c, a) && !a->fence_busy && c->now_ms >= a->fence_retry_ms) {
			struct core_action x = {.type = CORE_ACT_FENCE};

			a->fence_busy = true;
			x.u.node = a->nodeid;
			qb_log(LOG_WARNING, "fencing node %" PRIu32 " so its exclusive resources "
			       "can be taken over", a->nodeid);
			core_act(c, out, &x);
		}
	}
}

uint64_t core_absent_next(const struct core *c, bool quorate)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; c->in_view && c->round_done && i < c->n_absent; i++) {
		const struct absent *a = &c->absent[i];
		bool timed = a->kind == WIRE_ABSENT_GRACE ||
			     (c->cfg.fence == CORE_FENCE_GRACE && quorate);

		if (timed && !a->expiry_sent && a->deadline_ms < next)
			next = a->deadline_ms;
		if (c->cfg.fence == CORE_FENCE_COMMAND && quorate && fencer(c) && !a->fence_busy &&
		    wants_fence(c, a) && a->fence_retry_ms < next)
			next = a->fence_retry_ms > c->now_ms ? a->fence_retry_ms : c->now_ms;
	}
	return next;
}

void core_absent_fence_done(struct core *c, struct core_actions *out, uint32_t node, int err)
{
	for (size_t i = 0; i < c->n_absent; i++) {
		struct absent *a = &c->absent[i];

		if (a->nodeid != node || !a->fence_busy)
			continue;
		a->fence_busy = false;
		if (err < 0) {
			qb_log(LOG_ERR, "fencing node %" PRIu32 " failed, its exclusive resources "
			       "stay down; retrying in %u s " QB_XS " rc=%d", node,
			       FENCE_RETRY_MS / 1000, err);
			a->fence_retry_ms = c->now_ms + FENCE_RETRY_MS;
			return;
		}
		/* The record goes when our FENCED comes back through CPG; the
		 * tick in between would otherwise fence the node a second time
		 * (seen: "Already OFF", one more agent run).  Only if FENCED
		 * never takes effect is it fenced again, after the retry time. */
		a->fence_retry_ms = c->now_ms + FENCE_RETRY_MS;
		send_node_msg(c, out, WIRE_FENCED, a->nodeid, a->since, 1);
		return;
	}
}

int core_absent_confirm(struct core *c, uint32_t nodeid, struct core_actions *out)
{
	c->err = 0;
	if (!c->in_view || !c->round_done || !core_quorate(c) || c->proto < 3)
		return -EAGAIN;
	for (size_t i = 0; i < c->n_absent; i++) {
		struct absent *a = &c->absent[i];

		if (a->nodeid != nodeid)
			continue;
		qb_log(LOG_WARNING, "operator confirms node %" PRIu32 " is down", nodeid);
		send_node_msg(c, out, WIRE_FENCED, a->nodeid, a->since, 2);
		return c->err;
	}
	return -ENOENT;
}
