#include "fakecpg.h"

#include <stdlib.h>
#include <string.h>

int fcpg_member_cmp(const void *a, const void *b)
{
	const struct core_member *x = a, *y = b;

	if (x->nodeid != y->nodeid)
		return x->nodeid < y->nodeid ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

bool fcpg_has_member(const struct core_member *v, size_t n, uint32_t nodeid, uint32_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].nodeid == nodeid && v[i].pid == pid)
			return true;
	return false;
}

bool fcpg_group_join(struct core_member *mem, size_t *n, uint32_t nodeid, uint32_t pid)
{
	if (fcpg_has_member(mem, *n, nodeid, pid))
		return false;
	mem[(*n)++] = (struct core_member){nodeid, pid, 0};
	qsort(mem, *n, sizeof(mem[0]), fcpg_member_cmp);
	return true;
}

bool fcpg_group_leave(struct core_member *mem, size_t *n, uint32_t nodeid, uint32_t pid)
{
	size_t w = 0;

	for (size_t i = 0; i < *n; i++)
		if (!(mem[i].nodeid == nodeid && mem[i].pid == pid))
			mem[w++] = mem[i];
	if (w == *n)
		return false;
	*n = w;
	return true;
}

void fcpg_confchg(struct core_event *ev, struct core_member *seen, size_t *nseen,
		  const struct core_member *mem, size_t nmem, uint32_t reason_left,
		  uint32_t reason_joined, struct core_member *left, struct core_member *joined)
{
	size_t nl = 0, nj = 0;

	for (size_t i = 0; i < *nseen; i++)
		if (!fcpg_has_member(mem, nmem, seen[i].nodeid, seen[i].pid)) {
			left[nl] = seen[i];
			left[nl++].reason = reason_left;
		}
	for (size_t i = 0; i < nmem; i++)
		if (!fcpg_has_member(seen, *nseen, mem[i].nodeid, mem[i].pid)) {
			joined[nj] = mem[i];
			joined[nj++].reason = reason_joined;
		}
	memmove(seen, mem, nmem * sizeof(mem[0]));
	*nseen = nmem;
	memset(ev, 0, sizeof(*ev));
	ev->type = CORE_EV_CONFCHG;
	ev->u.confchg.members = mem;
	ev->u.confchg.n_members = nmem;
	ev->u.confchg.left = left;
	ev->u.confchg.n_left = nl;
	ev->u.confchg.joined = joined;
	ev->u.confchg.n_joined = nj;
}
