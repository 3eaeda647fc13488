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
#include <stdlib.h>
#include <string.h>

/* An entry with the position it was gathered at, so that sorting by
 * address keeps the first (most authoritative) word for each. */
struct ranked {
	struct wire_set s;
	size_t rank;
};

static int ranked_cmp(const void *pa, const void *pb)
{
	const struct ranked *a = pa, *b = pb;
	int d = res_addr_cmp(&a->s.addr, &b->s.addr);

	if (d != 0)
		return d;
	return a->rank < b->rank ? -1 : a->rank > b->rank;
}

/* Sort 'v' by address, keep each address's first-ranked entry, and copy the
 * result into a new array in '*out' / '*n_out'. */
static int dedupe(struct ranked *v, size_t n, struct wire_set **out, size_t *n_out)
{
	size_t w = 0;

	*out = NULL;
	*n_out = 0;
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), ranked_cmp);
	*out = malloc(n * sizeof(**out));
	if (*out == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (w == 0 || res_addr_cmp(&(*out)[w - 1].addr, &v[i].s.addr) != 0)
			(*out)[w++] = v[i].s;
	*n_out = w;
	return 0;
}

int core_sets_merge(struct core *c)
{
	struct ranked *v;
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

		for (size_t k = 0; c->members[i].have_state && k < s->n_sets; k++, n++)
			v[n] = (struct ranked){s->sets[k], n};
	}
	rc = dedupe(v, n, &c->sets, &c->n_sets);
	free(v);
	return rc;
}

int core_sets_build(const struct core *c, struct wire_state *st)
{
	struct ranked *v;
	struct wire_set *out;
	size_t n = 0, n_out;
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
		if (c->vips[i].set != 0 && core_vip_excl(c, i)) {
			v[n] = (struct ranked){{c->vips[i].addr, c->vips[i].set}, n};
			n++;
		}
	for (size_t r = 0; r < c->n_res; r++)
		if (c->res[r].set != 0) {
			v[n] = (struct ranked){{c->res[r].addr, c->res[r].set}, n};
			n++;
		}
	rc = dedupe(v, n, &out, &n_out);
	free(v);
	if (rc == 0) {
		st->sets = out;
		st->n_sets = (uint32_t)n_out;
	}
	return rc;
}

uint32_t core_set_of(const struct core *c, const struct res_addr *addr)
{
	long k = RES_ADDR_SEARCH(c->sets, c->n_sets, addr, addr);

	return k >= 0 ? c->sets[k].set : 0;
}
