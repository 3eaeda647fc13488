/*
 * The scenario runner's world (scenario_world.h says what it models).
 *
 * The delivery rules are the simulator's, which are corosync's promises and
 * no more: per partition one total order of messages and process joins and
 * leaves, delivered to every live member in that order; a ring change gives
 * each member its classic confchg and then the totem confchg (a joiner gets
 * its initial totem confchg right after its own join); quorum comes on its
 * own stream; a frozen daemon's deliveries wait in an inbox; a crashed
 * daemon may linger as a ghost member.  Every place where the simulator
 * draws a random number is a parameter of a step here.
 */
#include "scenario_world.h"
#include "scenario_trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int refuse(struct scn_world *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int refuse(struct scn_world *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- lookups ---- */

struct scn_node *w_node(struct scn_world *w, uint32_t nodeid)
{
	for (unsigned i = 0; i < w->nn; i++)
		if (w->nodes[i].nodeid == nodeid)
			return &w->nodes[i];
	return NULL;
}

long w_vip(const struct scn_world *w, const char *text)
{
	struct res_addr a;
	char full[CHORUS_ADDR_STRLEN + 8];

	if (strchr(text, '/') == NULL) {
		snprintf(full, sizeof(full), "%s/%s", text, strchr(text, ':') ? "128" : "32");
		text = full;
	}
	if (res_addr_parse(text, &a) < 0)
		return -1;
	for (unsigned v = 0; v < w->nv; v++)
		if (res_addr_cmp(&w->vips[v].addr, &a) == 0)
			return (long)v;
	return -1;
}

bool w_is_excl(const struct scn_world *w, unsigned v)
{
	return (w->vips[v].flags & VIP_F_EXCLUSIVE) != 0;
}

static long local_of(const struct scn_node *s, unsigned v)
{
	for (size_t i = 0; i < s->n_local; i++)
		if (s->local[i] == v)
			return (long)i;
	return -1;
}

static struct part *part_of(struct scn_world *w, struct scn_node *s)
{
	return s->part >= 0 && w->parts[s->part].used ? &w->parts[s->part] : NULL;
}

static bool has_member(const struct scn_member *v, size_t n, uint32_t nodeid, uint32_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].nodeid == nodeid && v[i].pid == pid)
			return true;
	return false;
}

static int member_cmp(const void *a, const void *b)
{
	const struct scn_member *x = a, *y = b;

	if (x->nodeid != y->nodeid)
		return x->nodeid < y->nodeid ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

unsigned w_votes_needed(const struct scn_world *w)
{
	return w->votes_needed ? w->votes_needed : w->nn / 2 + 1;
}

unsigned w_part_count(const struct scn_world *w, int part)
{
	unsigned n = 0;

	for (unsigned k = 0; part >= 0 && k < w->nn; k++)
		if (w->nodes[k].cs_up && w->nodes[k].part == part)
			n++;
	return n;
}

bool w_receives(struct scn_world *w, struct scn_node *s, struct part *p)
{
	return s->d_up && !s->frozen && s->joined && s->cs_up && s->part == (int)(p - w->parts);
}

static bool frozen_in(struct scn_world *w, struct scn_node *s, struct part *p)
{
	return s->d_up && s->frozen && s->joined && s->cs_up && s->part == (int)(p - w->parts);
}

static void part_push(struct part *p, struct pev ev)
{
	if (p->qn == p->qcap) {
		p->qcap = p->qcap ? 2 * p->qcap : 64;
		p->q = scn_xrealloc(p->q, p->qcap * sizeof(*p->q));
	}
	p->q[p->qn++] = ev;
}

static struct pev part_pop(struct part *p)
{
	struct pev ev = p->q[0];

	memmove(&p->q[0], &p->q[1], (p->qn - 1) * sizeof(p->q[0]));
	p->qn--;
	return ev;
}

/* ---- the kernel ---- */

/* An add or a renewal: a plain address lives for the daemon's lifetime
 * (removed kernel_late_ms late); a brick runs until it is stopped. */
static void kernel_renew(struct scn_world *w, struct scn_node *s, unsigned v)
{
	s->expire[v] = w_is_excl(w, v) || w->cfg.lifetime_ms == 0
			       ? 0
			       : w->now + w->cfg.lifetime_ms + w->kernel_late_ms;
}

/* ---- stepping a core ---- */

static void daemon_stop(struct scn_world *w, struct scn_node *s);
static void send_now(struct scn_world *w, struct scn_node *s, uint8_t *buf, size_t size);

static bool defer_marked(const struct scn_node *s, uint64_t seq)
{
	for (size_t i = 0; i < s->n_defer; i++)
		if (s->defer_seq[i] == seq)
			return true;
	return false;
}

/* Carry out what the core asked for, as the simulator's daemon does. */
static void run_actions(struct scn_world *w, struct scn_node *s, struct scn_acts *a)
{
	for (size_t i = 0; i < a->n; i++) {
		struct scn_act *x = &a->v[i];

		switch (x->type) {
		case SCN_ACT_SEND: {
			uint8_t *b = x->buf;
			uint64_t seq = ++s->sends;

			x->buf = NULL;
			/* TRY_AGAIN: the send waits, and so does every later one
			 * (FIFO per sender) */
			if ((s->ndef > 0 || s->blocked || defer_marked(s, seq)) &&
			    s->ndef < SCN_DEFMAX)
				s->def[s->ndef++] = (struct deferred){b, x->size};
			else
				send_now(w, s, b, x->size);
			break;
		}
		case SCN_ACT_ACQUIRE:
		case SCN_ACT_RELEASE:
		case SCN_ACT_PROBE:
			if (s->nex < sizeof(s->ex) / sizeof(s->ex[0])) {
				s->ex[s->nex].type = x->type;
				s->ex[s->nex].idx = x->idx;
				s->nex++;
			}
			break;
		case SCN_ACT_TIMER:
			s->timer_at = x->at_ms;
			break;
		case SCN_ACT_RENEW:
			/* only once corosync has every message: nothing deferred */
			for (unsigned v = 0; s->ndef == 0 && v < w->nv; v++)
				if (s->intended[v] && !w_is_excl(w, v)) {
					s->held[v] = true;	/* one that vanished comes back */
					kernel_renew(w, s, v);
				}
			break;
		case SCN_ACT_CLEANUP:
			/* failure holds live in the daemon: the trace shows it */
			break;
		case SCN_ACT_FENCE:
			if (s->nfq < SCN_MAXN)
				s->fq[s->nfq++] = x->node;
			break;
		case SCN_ACT_REJOIN:
			/* finalize (peers see PROCDOWN), then come back shortly */
			if (s->joined) {
				struct part *p = part_of(w, s);

				if (p)
					part_push(p, (struct pev){PEV_DOWN, s->nodeid, s->pid,
								  SCN_REASON_PROCDOWN, NULL, 0});
				s->joined = false;
			}
			s->rejoin_pending = true;
			s->rejoin_at = w->now + 100;
			break;
		case SCN_ACT_LEAVE:
			if (s->joined) {
				struct part *p = part_of(w, s);

				/* deferred sends go first, as the adapter flushes */
				for (size_t k = 0; k < s->ndef; k++)
					send_now(w, s, s->def[k].buf, s->def[k].size);
				s->ndef = 0;
				if (p)
					part_push(p, (struct pev){PEV_DOWN, s->nodeid, s->pid,
								  SCN_REASON_LEAVE, NULL, 0});
			}
			break;
		case SCN_ACT_EXIT:
			/* a process that exits while joined shows as PROCDOWN */
			if (s->joined && s->cs_up && part_of(w, s))
				part_push(part_of(w, s), (struct pev){PEV_DOWN, s->nodeid, s->pid,
								      SCN_REASON_PROCDOWN, NULL, 0});
			scn_line(w, "n%" PRIu32 " daemon exits", s->nodeid);
			daemon_stop(w, s);
			return;
		case SCN_ACT_READY:
		case SCN_ACT_ADMIN_DONE:
		case SCN_ACT_PERSIST:
			break;
		}
	}
}

/* One core step with its trace line.  Returns the entry point's rc. */
static int step_once(struct scn_world *w, struct scn_node *s, struct scn_in *in)
{
	struct scn_acts a = {0};
	char ib[1024], ab[2048];
	bool notable, acts, done = false;
	int rc = 0;

	if (!s->d_up || s->core == NULL || s->frozen)
		return -EAGAIN;
	in->now_ms = w->now;
	if (scn_core_feed(s->core, in, &a, &rc) < 0) {
		scn_line(w, "!! VIOLATION n%" PRIu32 ": the core ran out of memory", s->nodeid);
		w->violations++;
	}
	if (scn_core_round_complete(s->core)) {
		uint64_t tok = scn_core_token(s->core);

		done = !s->was_complete || tok != s->last_token;
		s->was_complete = true;
		s->last_token = tok;
	} else {
		s->was_complete = false;
	}
	notable = scn_describe_input(w, s, in, rc, ib, sizeof(ib));
	acts = scn_describe_acts(w, s, &a, ab, sizeof(ab));
	if (notable || acts || done || w->trace == TRACE_ALL)
		scn_line(w, "n%" PRIu32 " %s%s%s%s%s", s->nodeid, ib, acts || done ? ": " : "",
		     done ? "round done" : "", done && acts ? ", " : "", ab);
	run_actions(w, s, &a);
	scn_acts_release(&a);
	return rc;
}

/*
 * Complete the head of the executor queue; the kernel changes first.  An
 * expiry probe (ARP / neighbour solicitation) is answered by every kernel
 * that has the address in the prober's network group, as in the simulator;
 * 'answered' says it was answered anyway (a probe that could not be sent
 * reads as answered).
 */
static void exec_one(struct scn_world *w, struct scn_node *s, bool ok, bool more, bool answered)
{
	struct scn_in in = {.idx = s->ex[0].idx, .more = more, .err = ok ? 0 : -EIO};
	int type = s->ex[0].type;
	unsigned v = s->ex[0].idx < s->n_local ? s->local[s->ex[0].idx] : 0;

	memmove(&s->ex[0], &s->ex[1], (s->nex - 1) * sizeof(s->ex[0]));
	s->nex--;
	if (type == SCN_ACT_PROBE) {
		in.type = SCN_IN_PROBED;
		in.err = 0;
		in.answered = answered;
		for (unsigned k = 0; k < w->nn; k++)
			in.answered |= &w->nodes[k] != s && w->nodes[k].held[v] &&
				       w->nodes[k].grp == s->grp;
	} else if (type == SCN_ACT_ACQUIRE) {
		if (ok) {
			s->held[v] = true;
			s->intended[v] = true;
			kernel_renew(w, s, v);
		}
		in.type = SCN_IN_ACQUIRED;
	} else {
		if (ok) {
			s->held[v] = false;
			s->intended[v] = false;
		}
		in.type = SCN_IN_RELEASED;
	}
	step_once(w, s, &in);
}

static bool auto_exec(const struct scn_world *w, const struct scn_node *s)
{
	return w->autorun && !s->exec_manual;
}

/*
 * A step as chorusd's loop makes it: with an automatic executor, the
 * results of what the step asked for are fed right after it, as one batch
 * ('more' on all but the last, so RELEASED goes out once), and so on until
 * nothing is left (main.c daemon_step).
 */
static int step(struct scn_world *w, struct scn_node *s, struct scn_in *in)
{
	int rc = step_once(w, s, in);

	/* a core that releases and re-acquires forever (7125239) must fail
	 * the scenario, not hang it */
	for (int guard = 0; auto_exec(w, s) && s->d_up && !s->frozen && s->nex > 0; guard++) {
		size_t n = s->nex;

		if (guard == 1000) {
			scn_line(w, "!! VIOLATION: n%" PRIu32 "'s executor never runs out of work",
				 s->nodeid);
			w->violations++;
			s->nex = 0;
			break;
		}
		for (size_t i = 0; i < n && s->d_up && s->nex > 0; i++)
			exec_one(w, s, true, i + 1 < n, false);
	}
	return rc;
}

/* ---- sending and delivering ---- */

static void hq_clear(struct scn_node *s)
{
	for (size_t k = 0; k < s->nhq; k++)
		free(s->hq[k].buf);
	s->nhq = 0;
}

static void send_now(struct scn_world *w, struct scn_node *s, uint8_t *buf, size_t size)
{
	struct part *p = part_of(w, s);

	/* a hung corosync leaves what the daemon sends in its IPC queue */
	if (s->cs_hung && s->joined && s->nhq < SCN_HQMAX) {
		s->hq[s->nhq].buf = buf;
		s->hq[s->nhq++].size = size;
		return;
	}
	if (p == NULL || !s->cs_up || !s->joined) {
		free(buf);
		return;
	}
	part_push(p, (struct pev){PEV_MSG, s->nodeid, s->pid, 0, buf, size});
}

static struct inbox_ev *inbox_push(struct scn_world *w, struct scn_node *s)
{
	if (s->ninbox == s->capinbox) {
		s->capinbox = s->capinbox ? 2 * s->capinbox : 64;
		s->inbox = scn_xrealloc(s->inbox, s->capinbox * sizeof(*s->inbox));
	}
	(void)w;
	memset(&s->inbox[s->ninbox], 0, sizeof(s->inbox[0]));
	return &s->inbox[s->ninbox++];
}

/* A classic confchg with 'mem' for daemon s; left and joined are what
 * changed since the list it saw last. */
static void give_confchg(struct scn_world *w, struct scn_node *s, const struct scn_member *mem,
			 size_t nmem, uint32_t reason_left, uint32_t reason_joined)
{
	struct scn_member left[2 * SCN_MAXN], joined[2 * SCN_MAXN];
	size_t nl = 0, nj = 0;
	struct scn_in in = {.type = SCN_IN_CONFCHG};

	if (s->frozen) {
		struct inbox_ev *ie = inbox_push(w, s);

		ie->kind = IN_CONFCHG;
		memcpy(ie->mem, mem, nmem * sizeof(mem[0]));
		ie->nmem = nmem;
		ie->reason_left = reason_left;
		ie->reason_joined = reason_joined;
		return;
	}
	for (size_t i = 0; i < s->nseen; i++)
		if (!has_member(mem, nmem, s->seen[i].nodeid, s->seen[i].pid)) {
			left[nl] = s->seen[i];
			left[nl++].reason = reason_left;
		}
	for (size_t i = 0; i < nmem; i++)
		if (!has_member(s->seen, s->nseen, mem[i].nodeid, mem[i].pid)) {
			joined[nj] = mem[i];
			joined[nj++].reason = reason_joined;
		}
	memmove(s->seen, mem, nmem * sizeof(mem[0]));
	s->nseen = nmem;
	in.members = s->seen;
	in.n_members = nmem;
	in.left = left;
	in.n_left = nl;
	in.joined = joined;
	in.n_joined = nj;
	step(w, s, &in);
}

static void give_totem(struct scn_world *w, struct scn_node *s, struct part *p)
{
	uint32_t ids[SCN_MAXN];
	size_t n = 0;
	struct scn_in in = {.type = SCN_IN_TOTEM};

	for (unsigned i = 0; i < w->nn; i++)
		if (w->nodes[i].cs_up && w->nodes[i].part == (int)(p - w->parts))
			ids[n++] = w->nodes[i].nodeid;
	if (s->frozen) {
		struct inbox_ev *ie = inbox_push(w, s);

		ie->kind = IN_TOTEM;
		ie->ring = p->ring;
		memcpy(ie->ids, ids, n * sizeof(ids[0]));
		ie->nids = n;
		return;
	}
	in.ring = p->ring;
	in.nodeids = ids;
	in.n_nodeids = n;
	step(w, s, &in);
}

/* Deliver the head event of partition p. */
static void part_deliver_one(struct scn_world *w, struct part *p)
{
	struct pev ev = part_pop(p);

	if (ev.type == PEV_MSG) {
		struct scn_in in = {.type = SCN_IN_DELIVER};

		if (!has_member(p->mem, p->nmem, ev.nodeid, ev.pid)) {
			free(ev.buf);	/* corosync drops non-members' messages */
			return;
		}
		in.from_nodeid = ev.nodeid;
		in.from_pid = ev.pid;
		in.buf = ev.buf;
		in.size = ev.size;
		for (unsigned i = 0; i < w->nn; i++) {
			struct scn_node *s = &w->nodes[i];

			if (w_receives(w, s, p)) {
				step(w, s, &in);
			} else if (frozen_in(w, s, p)) {
				struct inbox_ev *ie = inbox_push(w, s);

				ie->kind = IN_MSG;
				ie->nodeid = ev.nodeid;
				ie->pid = ev.pid;
				ie->buf = scn_xrealloc(NULL, ev.size);
				memcpy(ie->buf, ev.buf, ev.size);
				ie->size = ev.size;
			}
		}
		free(ev.buf);
		return;
	}
	if (ev.type == PEV_JOIN) {
		if (has_member(p->mem, p->nmem, ev.nodeid, ev.pid))
			return;
		p->mem[p->nmem++] = (struct scn_member){ev.nodeid, ev.pid, 0};
		qsort(p->mem, p->nmem, sizeof(p->mem[0]), member_cmp);
	} else {
		size_t k = 0;

		for (size_t i = 0; i < p->nmem; i++)
			if (!(p->mem[i].nodeid == ev.nodeid && p->mem[i].pid == ev.pid))
				p->mem[k++] = p->mem[i];
		if (k == p->nmem)
			return;
		p->nmem = k;
	}
	for (unsigned i = 0; i < w->nn; i++) {
		struct scn_node *s = &w->nodes[i];
		struct scn_member mem[2 * SCN_MAXN];
		size_t nmem = p->nmem;

		/* a step below may change p (a LEAVE, a REJOIN): pass a copy */
		memcpy(mem, p->mem, nmem * sizeof(mem[0]));
		if (frozen_in(w, s, p)) {
			give_confchg(w, s, mem, nmem, ev.reason, SCN_REASON_JOIN);
			if (ev.type == PEV_JOIN && s->nodeid == ev.nodeid && s->pid == ev.pid)
				give_totem(w, s, p);
			continue;
		}
		if (!w_receives(w, s, p)) {
			/* the leaver gets its own leave confchg */
			if (ev.type == PEV_DOWN && s->d_up && !s->frozen && s->nodeid == ev.nodeid &&
			    s->pid == ev.pid && ev.reason == SCN_REASON_LEAVE) {
				s->joined = false;
				give_confchg(w, s, mem, nmem, ev.reason, SCN_REASON_JOIN);
			}
			continue;
		}
		give_confchg(w, s, mem, nmem, ev.reason, SCN_REASON_JOIN);
		/* CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF */
		if (ev.type == PEV_JOIN && s->nodeid == ev.nodeid && s->pid == ev.pid)
			give_totem(w, s, p);
	}
}

/* ---- quorum ---- */

static void queue_quorum(struct scn_node *s, struct scn_ring ring, bool quorate)
{
	if (s->nq == SCN_QMAX) {
		memmove(&s->qev[0], &s->qev[1], (SCN_QMAX - 1) * sizeof(s->qev[0]));
		s->nq--;
	}
	s->qev[s->nq].ring = ring;
	s->qev[s->nq].quorate = quorate;
	s->nq++;
}

/* quorum_trackstart(CS_TRACK_CURRENT): the current state on (re)connect */
static void queue_current_quorum(struct scn_world *w, struct scn_node *s)
{
	if (!s->cs_up || s->part < 0)
		return;
	queue_quorum(s, w->parts[s->part].ring, w_part_count(w, s->part) >= w_votes_needed(w));
}

/* ---- daemons ---- */

static void daemon_stop(struct scn_world *w, struct scn_node *s)
{
	(void)w;
	scn_core_free(s->core);
	s->core = NULL;
	s->d_up = false;
	s->joined = false;
	s->frozen = false;
	s->thaw_at = 0;
	for (size_t k = 0; k < s->ninbox; k++)
		free(s->inbox[k].buf);
	s->ninbox = 0;
	hq_clear(s);
	for (size_t k = 0; k < s->ndef; k++)
		free(s->def[k].buf);
	s->ndef = 0;
	s->nex = 0;
	s->nq = 0;
	s->nfq = 0;
	s->was_complete = false;
	memset(s->intended, 0, sizeof(s->intended));
	/* addresses expire with their last renewal; a brick runs on */
}

int w_start(struct scn_world *w, struct scn_node *s, uint32_t pid, uint16_t proto)
{
	struct scn_daemon_cfg cfg = w->cfg;
	struct scn_in adopt = {.type = SCN_IN_ADOPT};
	int rc;

	if (s->d_up)
		return refuse(w, "n%" PRIu32 "'s daemon is running", s->nodeid);
	cfg.nodeid = s->nodeid;
	cfg.pid = pid ? pid : ++w->next_pid;
	if (pid > w->next_pid)
		w->next_pid = pid;
	scn_proc_add(w, s->nodeid, cfg.pid);
	cfg.incarnation = ((uint64_t)s->nodeid << 32) | (uint64_t)w->nprocs;
	cfg.n_vips = s->n_local;
	cfg.vips = s->decl;
	cfg.n_nodes = w->nn;
	cfg.nodes = w->nodeids;
	cfg.proto_max = proto;
	rc = scn_core_new(&cfg, &s->core);
	if (rc < 0)
		return refuse(w, "core_new: %s", scn_errname(rc));
	w->v1_seen |= proto == 1;
	s->pid = cfg.pid;
	s->proto = proto;
	s->d_up = true;
	s->frozen = false;
	s->thaw_at = 0;
	s->ninbox = 0;
	s->shutting = false;
	s->nseen = 0;
	s->nex = 0;
	s->ndef = 0;
	s->timer_at = 0;
	s->rejoin_pending = false;
	s->was_complete = false;
	/* adopt what the kernel still has, before joining */
	for (unsigned v = 0; v < w->nv; v++) {
		long i = local_of(s, v);

		s->intended[v] = s->held[v];
		if (s->held[v] && i >= 0) {
			kernel_renew(w, s, v);	/* adopting renews the lifetime */
			adopt.idx = (size_t)i;
			step(w, s, &adopt);
		}
	}
	if (s->cs_up) {
		struct part *p = part_of(w, s);

		if (s->ghost && p) {
			part_push(p, (struct pev){PEV_DOWN, s->nodeid, s->ghost_pid,
						  SCN_REASON_PROCDOWN, NULL, 0});
			s->ghost = false;
		}
		if (p) {
			part_push(p, (struct pev){PEV_JOIN, s->nodeid, s->pid, SCN_REASON_JOIN,
						  NULL, 0});
			s->joined = true;
		}
	} else {
		/* no corosync: the adapter reports the loss and keeps retrying */
		struct scn_in lost = {.type = SCN_IN_CLUSTER_LOST};

		step(w, s, &lost);
		s->rejoin_pending = true;
		s->rejoin_at = w->now + 100;
	}
	queue_current_quorum(w, s);
	return 0;
}

int w_kill(struct scn_world *w, struct scn_node *s, bool ghost)
{
	if (!s->d_up)
		return refuse(w, "n%" PRIu32 "'s daemon is not running", s->nodeid);
	if (s->joined && s->cs_up) {
		if (ghost) {
			/* corosync 3.1.7: the dead process stays in the group */
			s->ghost = true;
			s->ghost_pid = s->pid;
		} else if (part_of(w, s)) {
			part_push(part_of(w, s), (struct pev){PEV_DOWN, s->nodeid, s->pid,
							      SCN_REASON_PROCDOWN, NULL, 0});
		}
	}
	daemon_stop(w, s);
	return 0;
}

int w_stop(struct scn_world *w, struct scn_node *s)
{
	struct scn_in in = {.type = SCN_IN_SHUTDOWN};

	if (!s->d_up || s->frozen)
		return refuse(w, "n%" PRIu32 "'s daemon is not running", s->nodeid);
	s->shutting = true;
	step(w, s, &in);
	return 0;
}

int w_freeze(struct scn_world *w, struct scn_node *s, uint64_t for_ms)
{
	if (!s->d_up || s->frozen)
		return refuse(w, "n%" PRIu32 "'s daemon is not running", s->nodeid);
	s->frozen = true;
	s->thaw_at = for_ms ? w->now + for_ms : 0;
	return 0;
}

/* SIGCONT: the daemon reads, in order, what corosync kept for it. */
int w_thaw(struct scn_world *w, struct scn_node *s)
{
	size_t n = s->ninbox;
	struct inbox_ev *box = s->inbox;

	if (!s->d_up || !s->frozen)
		return refuse(w, "n%" PRIu32 "'s daemon is not frozen", s->nodeid);
	scn_line(w, "n%" PRIu32 " wakes up, %zu event%s waiting", s->nodeid, n, n == 1 ? "" : "s");
	s->frozen = false;
	s->thaw_at = 0;
	/* the replay may freeze nothing new, but steps append to a fresh box */
	s->inbox = NULL;
	s->ninbox = 0;
	s->capinbox = 0;
	for (size_t k = 0; k < n; k++) {
		struct inbox_ev *ie = &box[k];

		if (!s->d_up) {
			free(ie->buf);
			continue;
		}
		if (ie->kind == IN_MSG) {
			struct scn_in in = {.type = SCN_IN_DELIVER};

			in.from_nodeid = ie->nodeid;
			in.from_pid = ie->pid;
			in.buf = ie->buf;
			in.size = ie->size;
			step(w, s, &in);
			free(ie->buf);
		} else if (ie->kind == IN_CONFCHG) {
			give_confchg(w, s, ie->mem, ie->nmem, ie->reason_left, ie->reason_joined);
		} else {
			struct scn_in in = {.type = SCN_IN_TOTEM};

			in.ring = ie->ring;
			in.nodeids = ie->ids;
			in.n_nodeids = ie->nids;
			step(w, s, &in);
		}
	}
	free(box);
	return 0;
}

/* ---- topology ---- */

static void topo_changed(struct scn_world *w)
{
	w->ring_pending = true;
	if (w->autorun)
		w_ring(w, 0, 0);
}

static void node_crash(struct scn_world *w, struct scn_node *s)
{
	if (s->d_up)
		daemon_stop(w, s);
	memset(s->held, 0, sizeof(s->held));
	memset(s->expire, 0, sizeof(s->expire));
	if (s->cs_up) {
		s->cs_up = false;
		s->ghost = false;
		topo_changed(w);
	}
}

int w_crash(struct scn_world *w, struct scn_node *s)
{
	node_crash(w, s);
	return 0;
}

int w_down(struct scn_world *w, struct scn_node *s)
{
	if (!s->cs_up)
		return refuse(w, "n%" PRIu32 "'s corosync is down", s->nodeid);
	if (s->d_up)
		daemon_stop(w, s);
	s->cs_up = false;
	s->ghost = false;
	topo_changed(w);
	return 0;
}

int w_boot(struct scn_world *w, struct scn_node *s)
{
	if (s->cs_up)
		return refuse(w, "n%" PRIu32 "'s corosync is up", s->nodeid);
	s->cs_up = true;
	topo_changed(w);
	return 0;
}

int w_cluster_lost(struct scn_world *w, struct scn_node *s)
{
	struct scn_in in = {.type = SCN_IN_CLUSTER_LOST};

	if (!s->d_up || s->frozen)
		return refuse(w, "n%" PRIu32 "'s daemon is not running", s->nodeid);
	step(w, s, &in);
	return 0;
}

int w_cs_kill(struct scn_world *w, struct scn_node *s)
{
	if (!s->cs_up || !s->d_up || s->frozen)
		return refuse(w, "n%" PRIu32 " needs corosync and a running daemon", s->nodeid);
	s->cs_up = false;
	s->joined = false;
	s->ghost = false;
	topo_changed(w);
	if (w->autorun)
		w_cluster_lost(w, s);
	return 0;
}

int w_cs_start(struct scn_world *w, struct scn_node *s)
{
	if (s->cs_up)
		return refuse(w, "n%" PRIu32 "'s corosync is up", s->nodeid);
	s->cs_up = true;
	topo_changed(w);
	if (s->d_up) {
		s->rejoin_pending = true;
		s->rejoin_at = w->now + 100;
	}
	return 0;
}

/*
 * corosync stopped (SIGSTOP, wedged) under a running daemon: the others
 * form a ring without the node, and the daemon hears nothing at all (no
 * confchg, no message, no quorum) while its own sends go nowhere; its
 * process stays in its corosync's group, so when corosync runs again the
 * rings merge with the same process in them.
 */
int w_cs_hang(struct scn_world *w, struct scn_node *s)
{
	if (!s->cs_up)
		return refuse(w, "n%" PRIu32 "'s corosync is down", s->nodeid);
	s->cs_up = false;
	s->cs_hung = true;
	topo_changed(w);
	return 0;
}

int w_cs_resume(struct scn_world *w, struct scn_node *s)
{
	if (s->cs_up)
		return refuse(w, "n%" PRIu32 "'s corosync is up", s->nodeid);
	s->cs_up = true;
	s->resumed = true;
	s->cs_hung = false;
	/* what was queued goes out after the merge: the world drops it,
	 * as it drops every send of a node outside a ring */
	hq_clear(s);
	topo_changed(w);
	return 0;
}

/*
 * Every corosync of a ring stops alike (a paused hypervisor, a storage
 * stall under all of them): nobody can notice a lost token, so the ring
 * survives.  Each daemon hears nothing; what it sends waits.  Pause every
 * node of the ring, or the world is not corosync.
 */
int w_cs_pause(struct scn_world *w, struct scn_node *s)
{
	if (!s->cs_up || s->part < 0)
		return refuse(w, "n%" PRIu32 "'s corosync is not in a ring", s->nodeid);
	s->cs_up = false;
	s->cs_hung = true;
	return 0;
}

/* It runs again in the ring it had: what its daemon queued goes out in
 * order, after what the ring carries already. */
int w_cs_unpause(struct scn_world *w, struct scn_node *s)
{
	struct part *p;

	if (!s->cs_hung || s->part < 0 || !w->parts[s->part].used)
		return refuse(w, "n%" PRIu32 "'s corosync is not paused in a ring", s->nodeid);
	p = &w->parts[s->part];
	s->cs_up = true;
	s->cs_hung = false;
	for (size_t k = 0; k < s->nhq; k++)
		part_push(p, (struct pev){PEV_MSG, s->nodeid, s->pid, 0, s->hq[k].buf,
					  s->hq[k].size});
	s->nhq = 0;
	return 0;
}

/*
 * A hung corosync runs again holding its old ring's token (it stopped
 * with the token in hand or in its socket buffer).  Before it notices
 * that the others have formed a ring without it, it stamps what its
 * daemon queued during the hang with old-ring sequence numbers and, the
 * ring delivering in agreed order, hands it straight back to its own
 * daemon: messages in the old view, with no confchg before them.  The
 * ring change follows with "cs-resume".
 */
int w_cs_stale(struct scn_world *w, struct scn_node *s)
{
	size_t n = s->nhq;

	if (!s->cs_hung)
		return refuse(w, "n%" PRIu32 "'s corosync is not hung", s->nodeid);
	if (n == 0)
		return refuse(w, "n%" PRIu32 "'s daemon sent nothing while its corosync hung",
			      s->nodeid);
	/* what the daemon sends in answer stays queued: the token is gone */
	for (size_t k = 0; k < n; k++) {
		struct scn_in in = {.type = SCN_IN_DELIVER};
		uint8_t *buf = s->hq[k].buf;

		s->hq[k].buf = NULL;
		in.from_nodeid = s->nodeid;
		in.from_pid = s->pid;
		in.buf = buf;
		in.size = s->hq[k].size;
		step(w, s, &in);
		free(buf);
	}
	memmove(s->hq, s->hq + n, (s->nhq - n) * sizeof(s->hq[0]));
	s->nhq -= n;
	return 0;
}

int w_groups(struct scn_world *w, const int *grp)
{
	for (unsigned i = 0; i < w->nn; i++)
		w->nodes[i].grp = grp[i];
	topo_changed(w);
	return 0;
}

/*
 * A ring change.  Whatever the old rings still carry is delivered first to
 * their old members (a simulator schedule says event by event what was
 * delivered, dropped or carried before it gets here); then the new rings
 * form, each node gets its quorum notification (queued, or before its CPG
 * events for the nodes in 'qfirst'), its classic confchg (preceded, for the
 * nodes in 'split', by one that only drops the members that left) and the
 * totem confchg; carried messages follow in their new ring.
 */
int w_ring(struct scn_world *w, uint32_t qfirst, uint32_t split)
{
	int newpart[SCN_MAXN];
	uint64_t maxseq = 0;

	w->ring_pending = false;
	for (unsigned g = 0; g < SCN_MAXN; g++)
		while (w->parts[g].used && w->parts[g].qn > 0)
			part_deliver_one(w, &w->parts[g]);
	for (unsigned i = 0; i < w->nn; i++)
		newpart[i] = w->nodes[i].cs_up ? w->nodes[i].grp : -1;
	for (unsigned g = 0; g < SCN_MAXN; g++)
		if (w->parts[g].used && w->parts[g].ring.seq > maxseq)
			maxseq = w->parts[g].ring.seq;
	for (unsigned g = 0; g < SCN_MAXN; g++) {
		struct part *p = &w->parts[g];
		struct pev *q = p->q;
		size_t qcap = p->qcap;
		unsigned cnt = 0;
		uint32_t low = UINT32_MAX;

		memset(p, 0, sizeof(*p));
		p->q = q;
		p->qcap = qcap;
		for (unsigned i = 0; i < w->nn; i++)
			if (newpart[i] == (int)g) {
				cnt++;
				if (w->nodes[i].nodeid < low)
					low = w->nodes[i].nodeid;
			}
		if (cnt == 0)
			continue;
		p->used = true;
		p->ring.nodeid = low;
		p->ring.seq = maxseq + 4;
		for (unsigned i = 0; i < w->nn; i++) {
			struct scn_node *s = &w->nodes[i];

			if (newpart[i] != (int)g)
				continue;
			s->part = (int)g;
			if ((s->d_up && s->joined) || s->ghost)
				p->mem[p->nmem++] = (struct scn_member){
					s->nodeid, s->ghost && !(s->d_up && s->joined) ? s->ghost_pid
										    : s->pid, 0};
		}
		qsort(p->mem, p->nmem, sizeof(p->mem[0]), member_cmp);
	}
	for (unsigned i = 0; i < w->nn; i++) {
		struct scn_node *s = &w->nodes[i];
		struct part *p;
		struct scn_member mem[2 * SCN_MAXN];
		bool quorate, resumed = s->resumed;

		if (!s->cs_up) {
			s->part = -1;
			continue;
		}
		s->resumed = false;
		p = &w->parts[s->part];
		quorate = w_part_count(w, s->part) >= w_votes_needed(w);
		if (s->d_up) {
			if ((qfirst >> i) & 1) {
				struct scn_in qe = {.type = SCN_IN_QUORUM};

				qe.ring = p->ring;
				qe.quorate = quorate;
				step(w, s, &qe);	/* before the CPG events */
			} else {
				queue_quorum(s, p->ring, quorate);
			}
		}
		memcpy(mem, p->mem, p->nmem * sizeof(mem[0]));
		if (frozen_in(w, s, p)) {
			give_confchg(w, s, mem, p->nmem, SCN_REASON_NODEDOWN, SCN_REASON_NODEUP);
			give_totem(w, s, p);
			continue;
		}
		if (!w_receives(w, s, p))
			continue;
		if (resumed) {
			/* its corosync found itself alone before it merged: the
			 * others left, then come back */
			struct scn_member own[2 * SCN_MAXN];
			size_t k = 0;

			for (size_t j = 0; j < p->nmem; j++)
				if (p->mem[j].nodeid == s->nodeid)
					own[k++] = p->mem[j];
			give_confchg(w, s, own, k, SCN_REASON_NODEDOWN, SCN_REASON_NODEUP);
		}
		if ((split >> i) & 1) {
			/* a change that loses and gains: left first, then joined */
			struct scn_member tmp[2 * SCN_MAXN];
			size_t k = 0;

			for (size_t j = 0; j < p->nmem; j++)
				if (has_member(s->seen, s->nseen, p->mem[j].nodeid, p->mem[j].pid))
					tmp[k++] = p->mem[j];
			if (k != s->nseen && k != p->nmem && has_member(tmp, k, s->nodeid, s->pid))
				give_confchg(w, s, tmp, k, SCN_REASON_NODEDOWN, SCN_REASON_NODEUP);
		}
		give_confchg(w, s, mem, p->nmem, SCN_REASON_NODEDOWN, SCN_REASON_NODEUP);
		give_totem(w, s, p);
	}
	/* carried messages come after the new confchgs, in their old order,
	 * in their sender's new ring */
	for (size_t k = 0; k < w->ncarry; k++) {
		struct scn_node *s = w_node(w, w->carry[k].nodeid);
		int np = s != NULL && s->cs_up ? s->grp : -1;

		if (np >= 0 && w->parts[np].used)
			part_push(&w->parts[np], w->carry[k]);
		else
			free(w->carry[k].buf);
	}
	w->ncarry = 0;
	return 0;
}

static int need_bus(struct scn_world *w, struct scn_node *s, struct part **pp)
{
	struct part *p = part_of(w, s);

	if (p == NULL || p->qn == 0)
		return refuse(w, "nothing to deliver in n%" PRIu32 "'s ring", s->nodeid);
	*pp = p;
	return 0;
}

int w_deliver(struct scn_world *w, struct scn_node *s)
{
	struct part *p = NULL;

	if (need_bus(w, s, &p) < 0)
		return -1;
	part_deliver_one(w, p);
	return 0;
}

int w_drop(struct scn_world *w, struct scn_node *s)
{
	struct part *p = NULL;
	struct pev ev;

	if (need_bus(w, s, &p) < 0)
		return -1;
	ev = part_pop(p);
	free(ev.buf);
	return 0;
}

int w_carry(struct scn_world *w, struct scn_node *s)
{
	struct part *p = NULL;

	if (need_bus(w, s, &p) < 0)
		return -1;
	if (p->q[0].type != PEV_MSG)
		return refuse(w, "only a message is carried into the next ring");
	if (w->ncarry == w->capcarry) {
		w->capcarry = w->capcarry ? 2 * w->capcarry : 64;
		w->carry = scn_xrealloc(w->carry, w->capcarry * sizeof(*w->carry));
	}
	w->carry[w->ncarry++] = part_pop(p);
	return 0;
}

/* ---- sends held back (TRY_AGAIN) ---- */

int w_block(struct scn_world *w, struct scn_node *s, bool on)
{
	(void)w;
	s->blocked = on;
	return 0;
}

int w_flush(struct scn_world *w, struct scn_node *s, size_t count)
{
	size_t n = count && count < s->ndef ? count : s->ndef;

	if (s->ndef == 0)
		return refuse(w, "n%" PRIu32 " has no deferred send", s->nodeid);
	for (size_t k = 0; k < n; k++)
		send_now(w, s, s->def[k].buf, s->def[k].size);
	memmove(&s->def[0], &s->def[n], (s->ndef - n) * sizeof(s->def[0]));
	s->ndef -= n;
	return 0;
}

int w_defer(struct scn_world *w, struct scn_node *s, uint64_t seq)
{
	if (s->n_defer == sizeof(s->defer_seq) / sizeof(s->defer_seq[0]))
		return refuse(w, "too many deferred sends for n%" PRIu32, s->nodeid);
	s->defer_seq[s->n_defer++] = seq;
	return 0;
}

/* ---- local events ---- */

int w_tick(struct scn_world *w, struct scn_node *s)
{
	struct scn_in in = {.type = SCN_IN_TICK};

	if (!s->d_up || s->frozen)
		return refuse(w, "n%" PRIu32 "'s daemon is not running", s->nodeid);
	s->timer_at = 0;
	step(w, s, &in);
	return 0;
}

int w_exec(struct scn_world *w, struct scn_node *s, bool ok, bool answered)
{
	if (!s->d_up || s->frozen || s->nex == 0)
		return refuse(w, "n%" PRIu32 " has no executor request pending", s->nodeid);
	exec_one(w, s, ok, false, answered);
	return 0;
}

int w_quorum(struct scn_world *w, struct scn_node *s, int inject)
{
	struct scn_in in = {.type = SCN_IN_QUORUM};

	if (!s->d_up || s->frozen)
		return refuse(w, "n%" PRIu32 "'s daemon is not running", s->nodeid);
	if (inject < 0) {
		if (s->nq == 0)
			return refuse(w, "n%" PRIu32 " has no quorum notification queued",
				      s->nodeid);
		in.ring = s->qev[0].ring;
		in.quorate = s->qev[0].quorate;
		memmove(&s->qev[0], &s->qev[1], (s->nq - 1) * sizeof(s->qev[0]));
		s->nq--;
	} else {
		if (s->part >= 0)
			in.ring = w->parts[s->part].ring;
		in.quorate = inject != 0;
	}
	step(w, s, &in);
	return 0;
}

int w_expire(struct scn_world *w, struct scn_node *s, unsigned v)
{
	char a[CHORUS_ADDR_STRLEN];

	if (!s->held[v])
		return refuse(w, "n%" PRIu32 "'s kernel does not have %s", s->nodeid,
			      scn_vip_ip(w, v, a, sizeof(a)));
	s->held[v] = false;
	s->expire[v] = 0;
	scn_line(w, "n%" PRIu32 " kernel drops %s (lifetime)", s->nodeid, scn_vip_ip(w, v, a, sizeof(a)));
	return 0;
}

int w_rejoin(struct scn_world *w, struct scn_node *s)
{
	struct part *p = part_of(w, s);

	if (!s->d_up || !s->cs_up || p == NULL)
		return refuse(w, "n%" PRIu32 " cannot join: no daemon or no corosync", s->nodeid);
	s->rejoin_pending = false;
	s->nseen = 0;
	if (s->ghost) {
		part_push(p, (struct pev){PEV_DOWN, s->nodeid, s->ghost_pid, SCN_REASON_PROCDOWN,
					  NULL, 0});
		s->ghost = false;
	}
	part_push(p, (struct pev){PEV_JOIN, s->nodeid, s->pid, SCN_REASON_JOIN, NULL, 0});
	s->joined = true;
	queue_current_quorum(w, s);
	return 0;
}

/* The fence device answers the head of s's fence requests.  Powering the
 * target off is a separate step ("crash"): the simulator writes it first. */
int w_fenced(struct scn_world *w, struct scn_node *s, bool ok)
{
	struct scn_in in = {.type = SCN_IN_FENCED};

	if (!s->d_up || s->frozen || s->nfq == 0)
		return refuse(w, "n%" PRIu32 " has no fence request pending", s->nodeid);
	in.node = s->fq[0];
	in.err = ok ? 0 : -EIO;
	memmove(&s->fq[0], &s->fq[1], (s->nfq - 1) * sizeof(s->fq[0]));
	s->nfq--;
	step(w, s, &in);
	return 0;
}

/* ---- operator and plugins ---- */

/* A command sent to a daemon that is not running finds no socket: like
 * chorusctl, say so; it is not a scenario error. */
static bool cmd_reachable(struct scn_world *w, struct scn_node *s)
{
	if (s->d_up && !s->frozen)
		return true;
	scn_line(w, "n%" PRIu32 " not running: command not delivered", s->nodeid);
	return false;
}

int w_admin(struct scn_world *w, struct scn_node *s, enum scn_admin_op op, uint32_t node, long v)
{
	struct scn_in in = {.type = SCN_IN_ADMIN, .op = op, .node = node,
			    .cookie = ++w->cookie};

	if (!cmd_reachable(w, s))
		return 0;
	if (v >= 0)
		in.addr = w->vips[v].addr;
	step(w, s, &in);
	return 0;
}

int w_rebalance(struct scn_world *w, struct scn_node *s)
{
	struct scn_in in = {.type = SCN_IN_REBALANCE};

	if (cmd_reachable(w, s))
		step(w, s, &in);
	return 0;
}

int w_fence_confirm(struct scn_world *w, struct scn_node *s, uint32_t node)
{
	struct scn_in in = {.type = SCN_IN_FENCE_CONFIRM, .node = node};

	if (cmd_reachable(w, s))
		step(w, s, &in);
	return 0;
}

int w_sets(struct scn_world *w, struct scn_node *s, const uint32_t *set)
{
	uint32_t local[SCN_MAXV] = {0};
	struct scn_in in = {.type = SCN_IN_SETS, .sets = local};

	for (size_t i = 0; i < s->n_local; i++) {
		local[i] = set[s->local[i]];
		s->decl[i].set = local[i];
	}
	if (cmd_reachable(w, s))
		step(w, s, &in);
	return 0;
}

int w_health(struct scn_world *w, struct scn_node *s, const bool *unserv, bool urgent,
	     uint32_t node_flags)
{
	bool local[SCN_MAXV] = {false};
	struct scn_in in = {.type = SCN_IN_HEALTH, .urgent = urgent, .node_flags = node_flags};

	if (!cmd_reachable(w, s))
		return 0;
	for (size_t i = 0; unserv && i < s->n_local; i++)
		local[i] = unserv[s->local[i]];
	in.unservable = unserv ? local : NULL;
	step(w, s, &in);
	return 0;
}

int w_load(struct scn_world *w, struct scn_node *s, unsigned v, uint32_t load, uint32_t conns)
{
	struct scn_in in = {.type = SCN_IN_LOAD, .load = load, .conns = conns};
	long i = local_of(s, v);

	if (i < 0)
		return refuse(w, "n%" PRIu32 " does not declare that address", s->nodeid);
	if (!cmd_reachable(w, s))
		return 0;
	in.idx = (size_t)i;
	w->load_seen |= load != 0;
	step(w, s, &in);
	return 0;
}

/* ---- automatic mode ---- */

static void kernel_expire(struct scn_world *w)
{
	for (unsigned i = 0; i < w->nn; i++) {
		struct scn_node *s = &w->nodes[i];

		for (unsigned v = 0; v < w->nv; v++)
			if (s->held[v] && s->expire[v] && s->expire[v] <= w->now)
				w_expire(w, s, v);
	}
}

/* The fence device powers the target off (unless it is the asker or
 * unknown, or configured to fail), then answers. */
static void fence_device(struct scn_world *w, struct scn_node *s)
{
	struct scn_node *t = w_node(w, s->fq[0]);
	bool ok = w->fence_dev == FENCE_DEV_OK && t != NULL && t != s;

	if (ok) {
		scn_line(w, "n%" PRIu32 " powered off by n%" PRIu32 "'s fence device", t->nodeid,
		     s->nodeid);
		node_crash(w, t);
	}
	w_fenced(w, s, ok);
}

static bool local_work(struct scn_world *w, struct scn_node *s)
{
	bool did = false;

	if (s->d_up && s->frozen && s->thaw_at && s->thaw_at <= w->now) {
		w_thaw(w, s);
		return true;
	}
	if (!s->d_up || s->frozen)
		return false;
	if (auto_exec(w, s) && s->nex > 0) {
		size_t n = s->nex;

		for (size_t i = 0; i < n && s->d_up && s->nex > 0; i++)
			exec_one(w, s, true, i + 1 < n, false);
		did = true;
	}
	if (s->d_up && s->nfq > 0 && w->fence_dev != FENCE_DEV_MANUAL) {
		fence_device(w, s);
		did = true;
	}
	while (s->d_up && !s->frozen && s->nq > 0) {
		w_quorum(w, s, -1);
		did = true;
	}
	if (s->d_up && s->ndef > 0 && !s->blocked) {
		w_flush(w, s, 0);
		did = true;
	}
	if (s->d_up && s->timer_at && s->timer_at <= w->now) {
		w_tick(w, s);
		did = true;
	}
	if (s->d_up && s->rejoin_pending && s->rejoin_at <= w->now && s->cs_up && s->part >= 0) {
		w_rejoin(w, s);
		did = true;
	}
	return did;
}

void w_drain(struct scn_world *w)
{
	for (int guard = 0; guard < 100000; guard++) {
		bool did = false;

		if (w->ring_pending)
			w_ring(w, 0, 0);
		for (unsigned g = 0; g < SCN_MAXN; g++)
			while (w->parts[g].used && w->parts[g].qn > 0) {
				part_deliver_one(w, &w->parts[g]);
				w_check_step(w);
				did = true;
			}
		for (unsigned i = 0; i < w->nn; i++)
			if (local_work(w, &w->nodes[i])) {
				w_check_step(w);
				did = true;
			}
		kernel_expire(w);
		if (!did)
			return;
	}
	scn_line(w, "!! VIOLATION: nothing settles (a loop of events at one instant)");
	w->violations++;
}

void w_settle_now(struct scn_world *w)
{
	if (w->autorun)
		w_drain(w);
}

static uint64_t next_due(struct scn_world *w)
{
	uint64_t next = UINT64_MAX;

	for (unsigned i = 0; i < w->nn; i++) {
		struct scn_node *s = &w->nodes[i];

		if (s->d_up && !s->frozen && s->timer_at && s->timer_at < next)
			next = s->timer_at;
		if (s->d_up && s->frozen && s->thaw_at && s->thaw_at < next)
			next = s->thaw_at;
		if (s->d_up && s->rejoin_pending && s->cs_up && s->rejoin_at < next)
			next = s->rejoin_at;
		for (unsigned v = 0; v < w->nv; v++)
			if (s->held[v] && s->expire[v] && s->expire[v] < next)
				next = s->expire[v];
	}
	return next;
}

int w_wait(struct scn_world *w, uint64_t ms)
{
	uint64_t target = w->now + ms;

	if (!w->autorun) {
		w->now = target;
		return 0;
	}
	for (int guard = 0; guard < 1000000; guard++) {
		uint64_t next = next_due(w);

		if (next > target)
			break;
		if (next > w->now)
			w->now = next;
		w_drain(w);
		if (next_due(w) <= w->now) {
			scn_line(w, "!! VIOLATION: a timer keeps firing at one instant");
			w->violations++;
			break;
		}
	}
	w->now = target;
	w_drain(w);
	return 0;
}
/* ---- setup ---- */

void w_init(struct scn_world *w)
{
	w->now = SCN_T0;
	w->last_mark = UINT64_MAX;
	w->next_pid = 1000;
	for (unsigned i = 0; i < w->nn; i++) {
		w->nodes[i].cs_up = true;
		w->nodes[i].part = -1;
		w->nodeids[i] = w->nodes[i].nodeid;
	}
	w_ring(w, 0, 0);
}

void w_free(struct scn_world *w)
{
	for (unsigned i = 0; i < w->nn; i++)
		if (w->nodes[i].d_up)
			daemon_stop(w, &w->nodes[i]);
	for (unsigned i = 0; i < w->nn; i++) {
		free(w->nodes[i].inbox);
		hq_clear(&w->nodes[i]);
	}
	for (unsigned g = 0; g < SCN_MAXN; g++) {
		for (size_t k = 0; k < w->parts[g].qn; k++)
			free(w->parts[g].q[k].buf);
		free(w->parts[g].q);
	}
	for (size_t k = 0; k < w->ncarry; k++)
		free(w->carry[k].buf);
	free(w->carry);
	free(w->procs);
	for (size_t k = 0; k < w->n_last_viol; k++)
		free(w->last_viol[k]);
	free(w->last_viol);
}
