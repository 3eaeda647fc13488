/*
 * The replicated resource table and the glue to placement.
 *
 * The table is rebuilt at every round completion from the snapshots
 * (state_round.c) and re-placed in place after ordered events that change
 * eligibility.  Placement itself is a pure computation over it
 * (core_place_compute), so plan runs exactly the same code.
 */
#include "core/state_private.h"
#include "core/state_absent.h"
#include "core/state_table.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

static size_t addr_len(const struct res_addr *a)
{
	return a->family == 4 ? 4 : 16;
}

static uint64_t digest_compute(const struct core *c, uint64_t token)
{
	uint64_t h = core_fnv_u64(FNV_OFFSET, token);

	for (size_t r = 0; r < c->n_res; r++) {
		h = core_fnv(h, &c->res[r].addr.family, 1);
		h = core_fnv(h, c->res[r].addr.bytes, addr_len(&c->res[r].addr));
		h = core_fnv_u64(h, ((uint64_t)c->res[r].owner << 32) | c->res[r].from);
	}
	return h;
}

/*
 * The digest (token and every owner) is for comparing members from outside
 * (status, the simulator, the scenarios' recorded values), never for the
 * core's own decisions.  A byte-wise FNV over the table is about 0.2 ms at
 * 10,000 addresses, and every RELEASED recomputed it: 31 of them in a
 * failback at 32 nodes, with nobody asking in between.  So it is computed
 * when asked, from the token it was updated under (the token changes at a
 * round's start, before the table does), and kept until the table changes
 * again.  Every change of an owner or 'from' is followed, in the same step,
 * by core_update_digest() or core_table_clear(), so the value is the one
 * computed eagerly before.
 */
void core_update_digest(struct core *c)
{
	c->digest_stale = true;
	c->digest_token = c->token;
	c->table_gen++;
}

uint64_t core_digest_get(const struct core *c)
{
	if (c->digest_stale) {
		/* Not a const object (core_new() allocates every core): only
		 * the cache is written, which no decision reads. */
		struct core *w = (struct core *)c;

		w->digest = digest_compute(c, c->digest_token);
		w->digest_stale = false;
	}
	return c->digest;
}

long core_res_find(const struct core *c, const struct res_addr *addr)
{
	long k = RES_ADDR_SEARCH(c->res, c->n_res, addr, addr);

	return k >= 0 ? k : -1;
}

/* Lists in the sender's config order (usually the table's) are looked up
 * entry after entry: the entry after the previous hit is tried first, and
 * one further on is searched for from there, by doubling steps then
 * halving, so a sorted list of claims (a member's share, one table entry in
 * N) costs O(log N) compares each, not O(log table).  The table is sorted
 * and unique, so the answer is core_res_find()'s. */
long core_res_find_next(const struct core *c, const struct res_addr *addr, size_t *hint)
{
	size_t lo = *hint, hi, step = 1;
	long k;
	int d = lo < c->n_res ? res_addr_cmp(&c->res[lo].addr, addr) : 1;

	if (d == 0) {
		k = (long)lo;
	} else if (d > 0) {
		k = core_res_find(c, addr);
	} else {
		/* res[lo] < addr: find hi with res[hi] >= addr (or the end) */
		hi = lo + 1;
		while (hi < c->n_res && res_addr_cmp(&c->res[hi].addr, addr) < 0) {
			lo = hi;
			step *= 2;
			hi = lo + step;
		}
		if (hi > c->n_res)
			hi = c->n_res;
		/* res[lo] < addr <= res[hi] where hi < n_res */
		k = RES_ADDR_SEARCH(c->res + lo + 1, hi - lo - 1 + (hi < c->n_res), addr, addr);
		k = k >= 0 ? k + (long)lo + 1 : -1;
	}
	if (k >= 0)
		*hint = (size_t)k + 1;
	return k;
}

long core_slot_in(const uint32_t *slots, size_t n, uint32_t nodeid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (slots[mid] == nodeid)
			return (long)mid;
		if (slots[mid] < nodeid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

long core_slot_of(const struct core *c, uint32_t nodeid)
{
	return core_slot_in(c->slots, c->n_slots, nodeid);
}

void core_table_clear(struct core *c)
{
	free(c->res);
	c->res = NULL;
	c->n_res = 0;
	free(c->pools);
	c->pools = NULL;
	c->n_pools = 0;
	free(c->slots);
	c->slots = NULL;
	c->n_slots = 0;
	for (size_t i = 0; c->lres != NULL && i < c->cfg.n_vips; i++)
		c->lres[i] = UINT32_MAX;
	c->digest = 0;
	c->digest_stale = false;
	c->table_gen++;
}

/* ---- round completion ---- */

struct tentry {
	struct res_addr addr;
	uint32_t nodeid;	/* declarer, or the absent holder */
	const char *pool;
	struct place_bits decl;	/* slots of the members that declared it */
};

static int tentry_cmp(const void *a, const void *b)
{
	const struct tentry *x = a, *y = b;
	int k = res_addr_cmp(&x->addr, &y->addr);

	if (k)
		return k;
	return x->nodeid < y->nodeid ? -1 : x->nodeid > y->nodeid;
}

/*
 * The entries of every declaring source (a member's STATE, an absent
 * record), reduced to one per address, ascending, the lowest declarer's
 * (an earlier source's among equals): what sorting them all by tentry_cmp,
 * stably, and keeping the first of each address gives.  A merge pass per
 * source instead: the sort was of nodes x addresses entries, 320,000 at
 * 32 x 10,000 (13 MB, most of it page faults), on every member in every
 * round.  A source's entries are sorted first unless they are in order
 * already (senders list their config's order).  Each entry also collects
 * the slots of the members that declared it (the table's 'decl'), which
 * were otherwise looked up again, one search per declaration.
 */
struct tmerge {
	struct tentry *acc, *tmp;	/* merged so far; the next merge's output */
	size_t n, cap;
};

static int tmerge_add(struct tmerge *m, struct tentry *s, size_t ns)
{
	size_t i = 0, j = 0, nb = 0;
	struct tentry *w;

	if (m->n + ns > m->cap) {
		size_t cap = m->n + ns;

		w = realloc(m->acc, cap * sizeof(*w));
		if (w == NULL)
			return -ENOMEM;
		m->acc = w;
		w = realloc(m->tmp, cap * sizeof(*w));
		if (w == NULL)
			return -ENOMEM;
		m->tmp = w;
		m->cap = cap;
	}
	for (size_t k = 1; k < ns; k++)
		if (res_addr_cmp(&s[k - 1].addr, &s[k].addr) > 0) {
			qsort(s, ns, sizeof(*s), tentry_cmp);
			break;
		}
	while (i < m->n || j < ns) {
		int k = i == m->n ? 1 : j == ns ? -1 : res_addr_cmp(&m->acc[i].addr, &s[j].addr);
		struct place_bits decl;

		if (k < 0) {
			w = &m->acc[i++];
			decl = w->decl;
		} else if (k > 0) {
			w = &s[j++];
			decl = w->decl;
		} else {
			for (size_t b = 0; b < PLACE_WORDS; b++)
				decl.w[b] = s[j].decl.w[b] | m->acc[i].decl.w[b];
			w = s[j].nodeid < m->acc[i].nodeid ? &s[j] : &m->acc[i];
			i++;
			j++;
		}
		m->tmp[nb] = *w;
		m->tmp[nb++].decl = decl;
		/* a source naming an address twice: its first stands (the
		 * others carry the same declarer) */
		while (j < ns && res_addr_cmp(&s[j].addr, &m->tmp[nb - 1].addr) == 0)
			j++;
	}
	w = m->acc;
	m->acc = m->tmp;
	m->tmp = w;
	m->n = nb;
	return 0;
}

/*
 * The common case: a member declares exactly the addresses merged so far,
 * in order (every node configured alike).  Then the merge changes no entry
 * but for a lower declarer (never, members come in nodeid order, but
 * absent records could) and the slot bit, and needs no copy.  False, and
 * nothing changed, when the lists differ anywhere.
 */
static bool tmerge_same(struct tmerge *m, const struct wire_state *st, uint32_t nodeid,
			long slot)
{
	if (st->n_decl != m->n || m->n == 0)
		return false;
	for (size_t k = 0; k < m->n; k++)
		if (res_addr_cmp(&m->acc[k].addr, &st->decl[k].addr) != 0)
			return false;
	for (size_t k = 0; k < m->n; k++) {
		struct tentry *e = &m->acc[k];

		if (nodeid < e->nodeid) {
			e->nodeid = nodeid;
			e->pool = st->pools[st->decl[k].pool];
		}
		if (slot >= 0)
			place_bits_set(&e->decl, (uint32_t)slot);
	}
	return true;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

uint32_t core_pool_intern(struct core *c, const char *name)
{
	size_t lo = 0, hi = c->n_pools;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int k = strcmp(c->pools[mid], name);

		if (k == 0)
			return (uint32_t)mid;
		if (k < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;	/* every name was collected before the table was built */
}

bool core_member_eligible(const struct core *c, const struct member *m)
{
	if (m->excluded || m->leaving || m->health != 0)
		return false;
	for (size_t i = 0; i < c->admin.n_standby; i++)
		if (c->admin.standby[i] == m->nodeid)
			return false;
	return true;
}

/* Slots: eligible-or-not members (one per nodeid) plus absent holders,
 * ascending, into 'slots' (room for members + absent). */
static size_t build_slots(const struct core *c, uint32_t *slots)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_members; i++)
		if (!c->members[i].excluded &&
		    (n == 0 || slots[n - 1] != c->members[i].nodeid))
			slots[n++] = c->members[i].nodeid;
	for (size_t i = 0; i < c->n_absent; i++) {
		size_t pos = n;

		while (pos > 0 && slots[pos - 1] > c->absent[i].nodeid) {
			slots[pos] = slots[pos - 1];
			pos--;
		}
		slots[pos] = c->absent[i].nodeid;
		n++;
	}
	return n;
}

/* Rebuild pools, slots and the resource table (with each entry's
 * declaring slots) from the snapshots. */
int core_build_table(struct core *c)
{
	struct tentry *t = NULL;
	struct tmerge m = {0};
	size_t cap = 0, ncap = 0;
	char (*names)[CHORUS_NAME_MAX] = NULL;
	size_t nn = 0;
	uint32_t *slots;
	size_t n_slots;
	int err = 0;

	for (size_t i = 0; i < c->n_members; i++) {
		const struct wire_state *s = &c->members[i].snap;

		if (!c->members[i].have_state)
			continue;
		if (s->n_decl > cap)
			cap = s->n_decl;
		ncap += s->n_pools;
	}
	for (size_t i = 0; i < c->n_absent; i++) {
		if (c->absent[i].n_res > cap)
			cap = c->absent[i].n_res;
		ncap += c->absent[i].n_res;
	}
	/* 't' holds one source at a time, 'names' the pool names only */
	t = calloc(cap ? cap : 1, sizeof(*t));
	names = calloc(ncap ? ncap : 1, sizeof(*names));
	slots = calloc(c->n_members + c->n_absent + 1, sizeof(uint32_t));
	if (t == NULL || names == NULL || slots == NULL) {
		err = -ENOMEM;
		goto out;
	}
	n_slots = build_slots(c, slots);
	for (size_t i = 0; i < c->n_members && err == 0; i++) {
		const struct wire_state *s = &c->members[i].snap;
		uint32_t nodeid = c->members[i].nodeid;
		long slot;

		if (!c->members[i].have_state)
			continue;
		for (uint32_t k = 0; k < s->n_pools; k++)
			memcpy(names[nn++], s->pools[k], CHORUS_NAME_MAX);
		/* the slot core_slot_of() will give once 'slots' is the table's
		 * (an excluded member has none: its declarations count, its
		 * bit does not) */
		slot = core_slot_in(slots, n_slots, nodeid);
		if (tmerge_same(&m, s, nodeid, slot))
			continue;
		for (uint32_t k = 0; k < s->n_decl; k++) {
			t[k] = (struct tentry){.addr = s->decl[k].addr, .nodeid = nodeid,
					       .pool = s->pools[s->decl[k].pool]};
			if (slot >= 0)
				place_bits_set(&t[k].decl, (uint32_t)slot);
		}
		err = tmerge_add(&m, t, s->n_decl);
	}
	for (size_t i = 0; i < c->n_absent && err == 0; i++) {
		for (size_t k = 0; k < c->absent[i].n_res; k++) {
			t[k] = (struct tentry){.addr = c->absent[i].res[k].addr,
					       .nodeid = c->absent[i].nodeid,
					       .pool = c->absent[i].res[k].pool};
			memcpy(names[nn++], c->absent[i].res[k].pool, CHORUS_NAME_MAX);
		}
		err = tmerge_add(&m, t, c->absent[i].n_res);
	}
	if (err)
		goto out;

	core_table_clear(c);
	c->slots = slots;
	c->n_slots = n_slots;
	slots = NULL;
	qsort(names, nn, sizeof(*names), str_cmp);
	c->pools = calloc(nn ? nn : 1, sizeof(*c->pools));
	if (c->pools == NULL) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nn; i++)
		if (c->n_pools == 0 || strcmp(c->pools[c->n_pools - 1], names[i]) != 0)
			memcpy(c->pools[c->n_pools++], names[i], CHORUS_NAME_MAX);

	/* Resources: sorted, deduplicated; the pool of the lowest declarer
	 * wins when declarations disagree. */
	c->res = calloc(m.n ? m.n : 1, sizeof(*c->res));
	if (c->res == NULL) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < m.n; i++) {
		struct rent *e = &c->res[c->n_res++];

		e->addr = m.acc[i].addr;
		e->pool = core_pool_intern(c, m.acc[i].pool);
		e->local = UINT32_MAX;
		e->decl = m.acc[i].decl;
		e->excl = core_is_excl(c, &e->addr);
		e->set = e->excl ? core_set_of(c, &e->addr) : 0;
	}
out:
	free(t);
	free(m.acc);
	free(m.tmp);
	free(names);
	free(slots);
	return err;
}

void core_map_local(struct core *c)
{
	size_t hint = 0;

	for (size_t i = 0; i < c->cfg.n_vips; i++) {
		long r = core_res_find_next(c, &c->vips[i].addr, &hint);

		c->lres[i] = r >= 0 ? (uint32_t)r : UINT32_MAX;
		if (r >= 0)
			c->res[r].local = (uint32_t)i;
	}
}

/*
 * Placement over the table as a pure computation.  'prev' (slot per
 * resource, PLACE_NONE) and 'fixed' (must stay with its absent holder)
 * describe the starting point.  In maintenance nothing moves: every held
 * resource stays, orphans stay unplaced.
 *
 * Health.  A member's last HEALTH lists the addresses it cannot serve
 * ('unserv'), and its last confirmed one those it could not serve when it
 * last confirmed ('conf'); a report is confirmed once it has held for
 * health_settle_ms.  From protocol 7 an address in either list is no target
 * on that node, and the node loses what it holds only when both list it: a
 * failure and a recovery alike move nothing until they are confirmed, so a
 * change that every node sees a little apart (a shared volume hanging, then
 * coming back) moves nothing at all.  Below 7 (placement v1) a recovery
 * takes effect when reported: the pending list alone says what is no target.
 */
int core_place_compute(struct core *c, const uint32_t *prev, const bool *fixed, bool rebalance,
		       uint32_t exclude, uint32_t *owner_nodeid, uint32_t *moves)
{
	bool v2 = c->proto >= 7;
	struct place_in in;
	struct place_res *pr = NULL;
	struct place_bits *classes = NULL, *unserv = NULL, *conf = NULL, *bits = NULL;
	bool *hold = NULL;
	struct place_bits elig = {{0}};
	uint32_t *owner = NULL, *cls = NULL;
	struct place_stats st;
	size_t ncls = 0;
	int rc = -ENOMEM;

	for (size_t i = 0; i < c->n_members; i++) {
		const struct member *m = &c->members[i];
		long s = core_slot_of(c, m->nodeid);

		if (s >= 0 && core_member_eligible(c, m) && m->nodeid != exclude)
			place_bits_set(&elig, (uint32_t)s);
	}
	pr = calloc(c->n_res ? c->n_res : 1, sizeof(*pr));
	owner = calloc(c->n_res ? c->n_res : 1, sizeof(*owner));
	cls = calloc(c->n_res + 1, sizeof(*cls));
	classes = calloc(c->n_res + 1, sizeof(*classes));
	hold = calloc(c->n_res + 1, sizeof(*hold));
	unserv = calloc(3 * (c->n_res + 1), sizeof(*unserv));
	if (pr == NULL || owner == NULL || cls == NULL || classes == NULL || hold == NULL ||
	    unserv == NULL)
		goto out;
	/* unserv[r]: any report (pending or confirmed); conf[r]: confirmed */
	conf = unserv + c->n_res + 1;
	bits = conf + c->n_res + 1;
	for (size_t i = 0; c->proto >= 2 && i < c->n_members; i++) {
		const struct member *m = &c->members[i];
		long s = core_slot_of(c, m->nodeid);

		/* per-address health is version 2: with a version-1 member in the
		 * view every node ignores it, so all still agree */
		for (size_t k = 0; s >= 0 && k < m->n_unserv; k++) {
			long r = core_res_find(c, &m->unserv[k]);

			if (r >= 0)
				place_bits_set(&unserv[r], (uint32_t)s);
		}
		for (size_t k = 0; s >= 0 && k < m->n_unserv_conf; k++) {
			long r = core_res_find(c, &m->unserv_conf[k]);

			if (r >= 0)
				place_bits_set(&conf[r], (uint32_t)s);
		}
	}
	for (size_t r = 0; r < c->n_res; r++) {
		struct place_bits *b = &bits[r], notarget, loses;
		bool any = false;

		for (size_t w = 0; w < PLACE_WORDS; w++) {
			notarget.w[w] = v2 ? unserv[r].w[w] | conf[r].w[w] : unserv[r].w[w];
			loses.w[w] = v2 ? unserv[r].w[w] & conf[r].w[w] : conf[r].w[w];
		}
		/* Nodes that report they cannot serve it are not targets, unless
		 * no declaring node can: then moving would not help, so health is
		 * ignored and nothing moves for it.  A holder whose report is
		 * not confirmed keeps it for now (fixed); a confirmed one loses it. */
		for (size_t w = 0; w < PLACE_WORDS; w++) {
			b->w[w] = c->res[r].decl.w[w] & elig.w[w] & ~notarget.w[w];
			any |= b->w[w] != 0;
		}
		if (any && prev[r] != PLACE_NONE && place_bits_test(&notarget, prev[r]) &&
		    !place_bits_test(&loses, prev[r]) && !fixed[r])
			hold[r] = true;
		if (!any)
			for (size_t w = 0; w < PLACE_WORDS; w++)
				b->w[w] = c->res[r].decl.w[w] & elig.w[w];
	}
	if (v2) {
		/* exact classes: equal eligibility, one class, whatever the order */
		long k = place_classes(bits, (uint32_t)c->n_res, cls, classes);

		if (k < 0)
			goto out;
		ncls = (size_t)k;
	} else {
		/* Placement v1's classes, as every v1 member computes them: a
		 * match among the last eight classes only (a miss costs a
		 * redundant class, which v1 balances apart). */
		for (size_t r = 0; r < c->n_res; r++) {
			size_t k;

			for (k = ncls; k > 0 && k + 8 > ncls; k--)
				if (memcmp(&classes[k - 1], &bits[r], sizeof(bits[r])) == 0)
					break;
			if (k > 0 && k + 8 > ncls) {
				cls[r] = (uint32_t)(k - 1);
			} else {
				classes[ncls] = bits[r];
				cls[r] = (uint32_t)ncls++;
			}
		}
	}
	for (size_t r = 0; r < c->n_res; r++) {
		pr[r].elig_class = cls[r];
		pr[r].pool = c->res[r].pool;
		pr[r].set = c->res[r].set;
		pr[r].prev = prev[r];
		pr[r].pin = PLACE_NONE;
		pr[r].flags = fixed[r] || hold[r] || (c->admin.maintenance && prev[r] != PLACE_NONE)
				      ? PLACE_F_FIXED : 0;
	}
	for (size_t p = 0; p < c->admin.n_pins; p++) {
		long r = core_res_find(c, &c->admin.pins[p].addr);
		long s = core_slot_of(c, c->admin.pins[p].nodeid);

		if (r >= 0 && s >= 0)
			pr[r].pin = (uint32_t)s;
	}
	in = (struct place_in){
		.n_nodes = (uint32_t)c->n_slots,
		.n_pools = (uint32_t)(c->n_pools ? c->n_pools : 1),
		.n_classes = (uint32_t)ncls,
		.classes = classes,
		.n_res = (uint32_t)c->n_res,
		.res = pr,
		.rebalance = rebalance && !c->admin.maintenance,
		.version = v2 ? PLACE_V2 : PLACE_V1,
	};
	core_load_fill(c, pr, &in.load_margin_pct, &in.load_budget);
	rc = place_run(&in, owner, &st);
	if (rc < 0) {
		qb_log(LOG_ERR, "placement failed " QB_XS " rc=%d", rc);
		goto out;
	}
	for (size_t r = 0; r < c->n_res; r++) {
		owner_nodeid[r] = owner[r] == PLACE_NONE ? 0 : c->slots[owner[r]];
		if (c->admin.maintenance && prev[r] == PLACE_NONE)
			owner_nodeid[r] = 0;
	}
	if (moves)
		*moves = st.moves;
out:
	free(pr);
	free(owner);
	free(cls);
	free(classes);
	free(unserv);
	free(hold);
	return rc;
}

/* Compute and apply: owners into the table, and 'from' where a live holder
 * ('holder', nodeid per resource, 0 = none) must release first. */
int core_run_placement(struct core *c, const uint32_t *prev, const bool *fixed,
			 const uint32_t *holder, bool rebalance, uint32_t *moves_out)
{
	uint32_t *owner = calloc(c->n_res ? c->n_res : 1, sizeof(*owner));
	uint32_t moves = 0;
	int rc;

	if (owner == NULL)
		return -ENOMEM;
	rc = core_place_compute(c, prev, fixed, rebalance, 0, owner, &moves);
	if (rc < 0) {
		free(owner);
		return rc;
	}
	c->place_rebalance = rebalance;
	c->epoch++;
	for (size_t r = 0; r < c->n_res; r++) {
		struct rent *e = &c->res[r];
		uint32_t nid = owner[r];
		uint32_t was_owner = e->owner, was_from = e->from;

		e->prev = prev[r] == PLACE_NONE ? 0 : c->slots[prev[r]];
		e->continuing = e->from != 0 && e->prev == e->from && nid == e->owner;
		if (fixed[r]) {
			e->owner = prev[r] == PLACE_NONE ? 0 : c->slots[prev[r]];
			e->fixed = e->owner;
			/* A live member may still run it: a handover to the node
			 * now absent was cut before its release.  It still owes
			 * that release, and if it too is lost later, its record
			 * must name this resource (else a brick runs twice). */
			e->from = holder[r] != 0 && holder[r] != e->owner ? holder[r] : 0;
			if (e->owner != was_owner || was_from != 0)
				e->changed_at = c->epoch;
			continue;
		}
		e->fixed = 0;
		/* A live holder other than the new owner must release first
		 * (CTDB's order); a node taking back what it is still
		 * releasing waits only for its own executor. */
		{
			uint32_t from = (holder[r] != 0 && holder[r] != nid) ? holder[r] : 0;

			if (e->owner != nid || e->from != from)
				e->announced = false;
			e->from = from;
		}
		e->owner = nid;
		if (e->owner != was_owner || e->from != was_from)
			e->changed_at = c->epoch;
	}
	c->ctr.placements++;
	c->ctr.moves += moves;
	if (moves_out)
		*moves_out = moves;
	free(owner);
	return 0;
}

long core_place_recheck(struct core *c)
{
	uint32_t *prev = malloc((c->n_res + 1) * sizeof(*prev));
	uint32_t *owner = malloc((c->n_res + 1) * sizeof(*owner));
	bool *fixed = calloc(c->n_res + 1, sizeof(*fixed));
	long rc = -ENOMEM;

	if (!c->round_done)
		rc = -EAGAIN;
	if (!c->round_done || prev == NULL || owner == NULL || fixed == NULL)
		goto out;
	for (size_t r = 0; r < c->n_res; r++) {
		long s = c->res[r].owner ? core_slot_of(c, c->res[r].owner) : -1;

		prev[r] = s >= 0 ? (uint32_t)s : PLACE_NONE;
		fixed[r] = c->res[r].fixed != 0 && s >= 0;
	}
	rc = core_place_compute(c, prev, fixed, c->place_rebalance, 0, owner, NULL);
	if (rc == 0) {
		long moved = 0;

		for (size_t r = 0; r < c->n_res; r++)
			moved += owner[r] != c->res[r].owner;
		rc = moved;
	}
out:
	free(prev);
	free(owner);
	free(fixed);
	return rc;
}

int core_replace_input(struct core *c, uint32_t *prev, bool *fixed, uint32_t *holder)
{
	for (size_t r = 0; r < c->n_res; r++) {
		struct rent *e = &c->res[r];
		/* Start from whoever physically holds it: during a handover
		 * that is the releasing node, so a handover whose reason went
		 * away before it happened is undone rather than completed
		 * (the target never took it, so exclusivity is kept). */
		uint32_t phys = e->from ? e->from : e->owner;
		long s = phys ? core_slot_of(c, phys) : -1;
		uint32_t absent_holder = 0;

		/* Still waiting for an absent holder?  Any record may hold it
		 * (a brick nobody claims is held by every unseen node), and a
		 * record may have shed it (a grace that freed the addresses
		 * but kept the bricks), or be new (a member just excluded for
		 * silence: its bricks wait for fencing from now on). */
		for (size_t i = 0; i < c->n_absent && !absent_holder; i++)
			for (size_t k = 0; k < c->absent[i].n_res; k++)
				if (res_addr_cmp(&c->absent[i].res[k].addr, &e->addr) == 0)
					absent_holder = c->absent[i].nodeid;
		if (absent_holder)
			s = core_slot_of(c, absent_holder);
		prev[r] = s >= 0 ? (uint32_t)s : PLACE_NONE;
		fixed[r] = absent_holder != 0 && s >= 0;
		if (e->fixed && !absent_holder)
			prev[r] = PLACE_NONE;	/* its holder's grace ran out: an orphan */
		/* The physical holder is whoever must still release; if none is
		 * pending, the current owner (when it is a live member). */
		holder[r] = 0;
		if (e->from)
			holder[r] = e->from;
		else if (e->owner && core_is_member_nodeid(c, e->owner))
			holder[r] = e->owner;
	}
	return 0;
}

/* Re-place from the table as it stands (the caller knows every member holds
 * the same one). */
void core_replace_table(struct core *c, bool rebalance, enum core_why why)
{
	uint32_t *prev, *holder;
	bool *fixed;

	c->table_why = why;
	prev = malloc((c->n_res + 1) * sizeof(*prev));
	holder = calloc(c->n_res + 1, sizeof(*holder));
	fixed = calloc(c->n_res + 1, sizeof(*fixed));
	if (prev == NULL || holder == NULL || fixed == NULL) {
		c->err = -ENOMEM;
		goto out;
	}
	core_replace_input(c, prev, fixed, holder);
	for (size_t r = 0; r < c->n_res; r++)
		if (c->res[r].fixed && !fixed[r])
			c->res[r].fixed = 0;
	core_run_placement(c, prev, fixed, holder,
		      rebalance || c->cfg.failback == CORE_FAILBACK_AUTO, NULL);
	core_update_digest(c);
out:
	free(prev);
	free(holder);
	free(fixed);
}

/* Re-place outside a round after an ordered event changed eligibility. */
void core_replace(struct core *c, struct core_actions *out, bool rebalance, enum core_why why)
{
	(void)out;
	if (c->round_done)
		core_replace_table(c, rebalance, why);
}
