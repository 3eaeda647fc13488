/*
 * Replica and disperse sets of exclusive resources (bricks), for placement
 * rule 8: the bricks of one set are spread over distinct nodes.
 *
 * A brick's set is declared by the nodes that can serve it: the daemon
 * learns it from glusterd's volume info (chorus.json's "set" overrides it),
 * and tells the core with CORE_EV_SETS whenever it changes, also long after
 * start-up.  Like the exclusive set it is replicated: every STATE carries
 * the sets its sender knows (its own bricks first, then the table's copy of
 * those no member declared at the last round), and a round merges them,
 * the lowest member's word winning when two disagree, so every member feeds
 * placement the same input.  Below protocol 5 the merged list is empty and
 * placement does not spread, so a mixed cluster still computes one table.
 *
 * A changed declaration only changes what our next STATE says: the merged
 * sets, like everything a round merges, change at a round and nowhere else,
 * so no member can place with sets another has not seen.  The merge itself
 * is untouched (older members compute it too); what changed is only what a
 * STATE carries, which is each sender's own business.
 */
#include "core/state_private.h"
#include "core/state_absent.h"

#include <qb/qblog.h>

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Sort by address, the first declarer of each address winning, and keep
 * what is left ('n' to 'v''s new length). */
static int sets_unique(struct wire_set *v, size_t *n)
{
	long w = res_addr_sort_unique(v, *n, sizeof(*v), offsetof(struct wire_set, addr));

	if (w < 0)
		return (int)w;
	*n = (size_t)w;
	return 0;
}

int core_sets_merge(struct core *c)
{
	struct wire_set *v;
	size_t n = 0;
	int rc;

	free(c->sets);
	c->sets = NULL;
	c->n_sets = 0;
	if (c->proto < 5)
		return 0;
	for (size_t i = 0; i < c->n_members; i++)
		if (c->members[i].have_state)
			n += c->members[i].snap.n_sets;
	if (n == 0)
		return 0;
	v = malloc(n * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	n = 0;
	/* members are in nodeid order: the lowest declarer ranks first */
	for (size_t i = 0; i < c->n_members; i++) {
		const struct wire_state *s = &c->members[i].snap;

		if (!c->members[i].have_state || s->n_sets == 0)
			continue;
		memcpy(&v[n], s->sets, s->n_sets * sizeof(*v));
		n += s->n_sets;
	}
	rc = sets_unique(v, &n);
	if (rc < 0) {
		free(v);
		return rc;
	}
	c->sets = v;
	c->n_sets = n;
	return 0;
}

/*
 * Whether our STATE repeats the table's set of resource 'r'.  Only for one
 * that no member declared at the last round (its declarers are gone): the
 * copy keeps its set known until one comes back.  A declared one is left to
 * its declarers, this node included, even when they now declare no set: a
 * copy would outlive a change of the set in glusterd, and being the lowest
 * member's word, win over the declarers' new one at every round.
 */
static bool table_copy(const struct core *c, size_t r)
{
	const struct rent *e = &c->res[r];

	if (e->set == 0)
		return false;
	for (size_t w = 0; w < PLACE_WORDS; w++)
		if (e->decl.w[w] != 0)
			return false;
	return true;
}

int core_sets_build(const struct core *c, struct wire_state *st)
{
	struct wire_set *v;
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < c->cfg.n_vips; i++)
		n += c->vips[i].set != 0 && core_vip_excl(c, i);
	for (size_t r = 0; r < c->n_res; r++)
		n += table_copy(c, r);
	if (n == 0)
		return 0;
	v = malloc(n * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < c->cfg.n_vips; i++)
		if (c->vips[i].set != 0 && core_vip_excl(c, i))
			v[n++] = (struct wire_set){c->vips[i].addr, c->vips[i].set};
	for (size_t r = 0; r < c->n_res; r++)
		if (table_copy(c, r))
			v[n++] = (struct wire_set){c->res[r].addr, c->res[r].set};
	rc = sets_unique(v, &n);
	if (rc < 0) {
		free(v);
		return rc;
	}
	st->sets = v;
	st->n_sets = (uint32_t)n;
	return 0;
}

uint32_t core_set_of(const struct core *c, const struct res_addr *addr)
{
	long k = RES_ADDR_SEARCH(c->sets, c->n_sets, addr, addr);

	return k >= 0 ? c->sets[k].set : 0;
}

void core_sets_declare(struct core *c, const uint32_t *set)
{
	size_t changed = 0;

	for (size_t i = 0; i < c->cfg.n_vips; i++) {
		changed += c->vips[i].set != set[i];
		c->vips[i].set = set[i];
	}
	if (changed)
		qb_log(LOG_INFO, "%zu of our sets changed: declared from the next round", changed);
}

uint32_t core_set_merged(const struct core *c, const struct res_addr *addr)
{
	return core_set_of(c, addr);
}

uint32_t core_set_declared(const struct core *c, size_t idx)
{
	return idx < c->cfg.n_vips ? c->vips[idx].set : 0;
}
