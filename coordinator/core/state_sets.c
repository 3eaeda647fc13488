/*
 * Replica and disperse sets of exclusive resources (bricks), for placement
 * rule 8: the bricks of one set are spread over distinct nodes.
 *
 * A brick's set comes from the config of the nodes that can serve it.  Like
 * the exclusive set it is replicated: every STATE carries the sets its
 * sender knows (its own bricks first, then the table's), and a round merges
 * them, the lowest member's word winning when two disagree, so every member
 * feeds placement the same input.  Below protocol 5 the merged list is empty
 * and placement does not spread, so a mixed cluster still computes one
 * table.
 */
#include "core/state_private.h"
#include "core/state_absent.h"

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

int core_sets_build(const struct core *c, struct wire_state *st)
{
	struct wire_set *v;
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < c->cfg.n_vips; i++)
		n += c->vips[i].set != 0 && core_vip_excl(c, i);
	for (size_t r = 0; r < c->n_res; r++)
		n += c->res[r].set != 0;
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
		if (c->res[r].set != 0)
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
