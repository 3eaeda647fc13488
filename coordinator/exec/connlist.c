/*
 * Bounded connection list: see connlist.h.
 *
 * An update sorts a copy of the snapshot and of the current list by
 * connection identity and merges them (O((n + m) log(n + m))), rather than
 * comparing every pair, because a snapshot may hold thousands of entries.
 */
#include "exec/connlist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void connlist_init(struct connlist *l, uint32_t max)
{
	memset(l, 0, sizeof(*l));
	l->max = max ? max : 1;
}

void connlist_clear(struct connlist *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int connlist_conn_cmp(const struct wire_conn *a, const struct wire_conn *b)
{
	int r = memcmp(a->client, b->client, sizeof(a->client));

	if (r)
		return r;
	if (a->vport != b->vport)
		return a->vport < b->vport ? -1 : 1;
	if (a->cport != b->cport)
		return a->cport < b->cport ? -1 : 1;
	return 0;
}

static int entry_cmp_conn(const void *a, const void *b)
{
	const struct connlist_entry *x = a, *y = b;
	int r = connlist_conn_cmp(&x->c, &y->c);

	if (r)
		return r;
	/* equal connections: the older first, so it is the one kept */
	return x->seen < y->seen ? -1 : x->seen > y->seen;
}

static int entry_cmp_seen(const void *a, const void *b)
{
	const struct connlist_entry *x = a, *y = b;

	return x->seen < y->seen ? -1 : x->seen > y->seen;
}

int connlist_update(struct connlist *l, const struct wire_conn *seen, size_t n,
		    size_t *dropped)
{
	struct connlist_entry *all, *out;
	size_t n_all = 0, n_out = 0, i, j;
	uint64_t base = l->next_seen;
	bool changed;

	if (dropped)
		*dropped = 0;
	if (n > SIZE_MAX / sizeof(*all) - l->n - 1)
		return -ENOMEM;
	all = calloc(l->n + n + 1, sizeof(*all));
	if (all == NULL)
		return -ENOMEM;
	/* current entries, marked old by their own 'seen'; snapshot entries
	 * get fresh ages above every current one */
	for (i = 0; i < n; i++)
		all[n_all++] = (struct connlist_entry){seen[i], base + i};
	qsort(all, n_all, sizeof(*all), entry_cmp_conn);
	out = calloc(n_all + 1, sizeof(*out));
	if (out == NULL) {
		free(all);
		return -ENOMEM;
	}
	/* current list, sorted by identity, to find which survive */
	{
		struct connlist_entry *cur = NULL;

		if (l->n) {
			cur = malloc(l->n * sizeof(*cur));
			if (cur == NULL) {
				free(all);
				free(out);
				return -ENOMEM;
			}
			memcpy(cur, l->v, l->n * sizeof(*cur));
			qsort(cur, l->n, sizeof(*cur), entry_cmp_conn);
		}
		for (i = 0, j = 0; i < n_all; i++) {
			int r = 1;

			if (n_out && connlist_conn_cmp(&out[n_out - 1].c, &all[i].c) == 0)
				continue;	/* duplicate in the snapshot */
			while (j < l->n && (r = connlist_conn_cmp(&cur[j].c, &all[i].c)) < 0)
				j++;
			out[n_out] = all[i];
			if (j < l->n && r == 0)
				out[n_out].seen = cur[j].seen;	/* still there: keep its age */
			n_out++;
		}
		free(cur);
	}
	free(all);
	qsort(out, n_out, sizeof(*out), entry_cmp_seen);
	if (n_out > CONNLIST_TRACK_MAX) {
		size_t drop = n_out - CONNLIST_TRACK_MAX;

		memmove(out, out + drop, CONNLIST_TRACK_MAX * sizeof(*out));
		n_out = CONNLIST_TRACK_MAX;
	}
	{
		size_t k_new = n_out < l->max ? n_out : l->max;
		const struct connlist_entry *a = out + (n_out - k_new), *b = connlist_listed(l);

		changed = k_new != connlist_count(l);
		for (i = 0; !changed && i < k_new; i++)
			changed = connlist_conn_cmp(&a[i].c, &b[i].c) != 0;
	}
	if (dropped)
		*dropped = n_out > l->max ? n_out - l->max : 0;
	free(l->v);
	l->v = out;
	l->n = n_out;
	l->next_seen = base + n;
	return changed ? 1 : 0;
}
