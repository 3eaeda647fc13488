/*
 * Golden scenarios for the state machine, as Pacemaker has for its
 * scheduler (cts/scheduler) and chorus for placement (tests/scenarios/place):
 * each tests/scenarios/core/NNN-what.scn is a readable event trace in
 * (membership changes, messages, commands, timers), and NNN-what.out what
 * the cores did with it: every notable step with its actions, and at each
 * "show" the replicated table, node states and what each kernel holds.
 * tests/scenarios/core/README.md is the language reference.
 *
 * Usage:  scenario_run [-v] [--update] [PATH...]
 *           PATH is a .scn file or a directory of them (default:
 *           $srcdir/tests/scenarios/core).  Each output must equal its .out
 *           exactly; --update writes the .out files instead (read them
 *           before committing them).  A scenario fails whatever its .out
 *           says if it hits an invariant violation ("!! VIOLATION") or a
 *           step the world refused ("?? ").
 *         scenario_run -p FILE.scn   print the output for one scenario
 *
 * The simulator writes failing schedules in this language (sim -w FILE).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include "scenario_world.h"

#define MAXTOK 64

struct run {
	struct scn_world w;
	struct sbuf out;
	bool started;		/* the first command set the world up */
	unsigned errors;
	const char *path;
	int lineno;
};

static int bad(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct run *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sb_printf(&r->out, "?? %s\n", msg);
	fprintf(stderr, "%s:%d: %s\n", r->path, r->lineno, msg);
	r->errors++;
	return -1;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (s == NULL || *s == '\0')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0';
}

static struct scn_node *node_arg(struct run *r, const char *s)
{
	uint64_t id;
	struct scn_node *n;

	if (s != NULL && s[0] == 'n')
		s++;
	if (!parse_u64(s, &id) || id > UINT32_MAX || (n = w_node(&r->w, (uint32_t)id)) == NULL) {
		bad(r, "no such node: %s", s ? s : "(missing)");
		return NULL;
	}
	return n;
}

static long vip_arg(struct run *r, const char *s)
{
	long v = s ? w_vip(&r->w, s) : -1;

	if (v < 0)
		bad(r, "no such address: %s", s ? s : "(missing)");
	return v;
}

/* "1,3" -> bit per node index */
static int mask_arg(struct run *r, const char *s, uint32_t *mask)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", s);
	*mask = 0;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		struct scn_node *n = node_arg(r, t);

		if (n == NULL)
			return -1;
		*mask |= 1u << (n - r->w.nodes);
	}
	return 0;
}

/* ---- header ---- */

static int hdr_nodes(struct run *r, char **av, int ac)
{
	for (int i = 1; i < ac; i++) {
		uint64_t id;

		if (!parse_u64(av[i], &id) || id == 0 || id > UINT32_MAX || r->w.nn == SCN_MAXN ||
		    w_node(&r->w, (uint32_t)id) != NULL)
			return bad(r, "bad or repeated node id %s (at most %d)", av[i], SCN_MAXN);
		r->w.nodes[r->w.nn++].nodeid = (uint32_t)id;
	}
	return 0;
}

static int hdr_vip(struct run *r, char **av, int ac)
{
	struct vip_def d = {0};
	uint32_t on = 0;
	unsigned v = r->w.nv;

	if (ac < 2 || res_addr_parse(av[1], &d.addr) < 0)
		return bad(r, "vip ADDRESS/PREFIX [pool=NAME] [on=N,N] [brick] [set=N]");
	if (r->w.nv == SCN_MAXV || w_vip(&r->w, av[1]) >= 0)
		return bad(r, "too many or repeated addresses");
	snprintf(d.pool, sizeof(d.pool), "default");
	for (int i = 2; i < ac; i++) {
		uint64_t x;

		if (strncmp(av[i], "pool=", 5) == 0)
			snprintf(d.pool, sizeof(d.pool), "%s", av[i] + 5);
		else if (strncmp(av[i], "on=", 3) == 0) {
			if (mask_arg(r, av[i] + 3, &on) < 0)
				return -1;
		} else if (strcmp(av[i], "brick") == 0)
			d.flags |= VIP_F_EXCLUSIVE;
		else if (strncmp(av[i], "set=", 4) == 0 && parse_u64(av[i] + 4, &x) && x <= UINT32_MAX)
			d.set = (uint32_t)x;
		else
			return bad(r, "unknown vip option %s", av[i]);
	}
	if (on == 0)
		on = (1u << r->w.nn) - 1;
	r->w.vips[r->w.nv++] = d;
	for (unsigned i = 0; i < r->w.nn; i++)
		if ((on >> i) & 1) {
			struct scn_node *s = &r->w.nodes[i];

			s->decl[s->n_local] = d;
			s->local[s->n_local++] = v;
		}
	return 0;
}

struct cfg_key {
	const char *name;
	size_t off;	/* uint32_t in struct scn_daemon_cfg */
};

#define CFG(n, f) {n, offsetof(struct scn_daemon_cfg, f)}
static const struct cfg_key cfg_keys[] = {
	CFG("failback_delay", failback_delay_ms), CFG("round_timeout", round_timeout_ms),
	CFG("restart_grace", restart_grace_ms), CFG("shutdown_timeout", shutdown_timeout_ms),
	CFG("health_settle", health_settle_ms), CFG("fence_grace", fence_grace_ms),
	CFG("load_interval", load_interval_ms), CFG("load_margin", load_margin_pct),
	CFG("load_budget", load_budget), CFG("quiet_limit", quiet_limit_ms),
	CFG("heartbeat", heartbeat_ms), CFG("liveness", liveness_ms),
	CFG("unresponsive", unresponsive_ms),
	CFG("lifetime", lifetime_ms), CFG("expiry_margin", expiry_margin_ms),
	CFG("gap", gap_ms), CFG("skew", skew_ms), CFG("probe_wait", probe_wait_ms),
};

static int hdr_config(struct run *r, char **av, int ac)
{
	struct scn_daemon_cfg *c = &r->w.cfg;

	for (int i = 1; i < ac; i++) {
		char *eq = strchr(av[i], '=');
		const char *val;
		uint64_t x;
		bool num, done = false;

		if (eq == NULL)
			return bad(r, "config KEY=VALUE, not %s", av[i]);
		*eq = '\0';
		val = eq + 1;
		num = parse_u64(val, &x) && x <= UINT32_MAX;
		for (size_t k = 0; k < sizeof(cfg_keys) / sizeof(cfg_keys[0]) && !done; k++)
			if (strcmp(av[i], cfg_keys[k].name) == 0) {
				if (!num)
					return bad(r, "%s wants a number", av[i]);
				*(uint32_t *)((char *)c + cfg_keys[k].off) = (uint32_t)x;
				done = true;
			}
		if (done)
			continue;
		if (strcmp(av[i], "failback") == 0 && strcmp(val, "auto") == 0)
			c->failback = SCN_FAILBACK_AUTO;
		else if (strcmp(av[i], "failback") == 0 && strcmp(val, "manual") == 0)
			c->failback = SCN_FAILBACK_MANUAL;
		else if (strcmp(av[i], "failback") == 0 && strcmp(val, "delay") == 0)
			c->failback = SCN_FAILBACK_DELAY;
		else if (strcmp(av[i], "fence") == 0 && strcmp(val, "none") == 0)
			c->fence = SCN_FENCE_NONE;
		else if (strcmp(av[i], "fence") == 0 && strcmp(val, "grace") == 0)
			c->fence = SCN_FENCE_GRACE;
		else if (strcmp(av[i], "fence") == 0 && strcmp(val, "command") == 0)
			c->fence = SCN_FENCE_COMMAND;
		else if (strcmp(av[i], "fence_device") == 0 && strcmp(val, "ok") == 0)
			r->w.fence_dev = FENCE_DEV_OK;
		else if (strcmp(av[i], "fence_device") == 0 && strcmp(val, "fail") == 0)
			r->w.fence_dev = FENCE_DEV_FAIL;
		else if (strcmp(av[i], "fence_device") == 0 && strcmp(val, "manual") == 0)
			r->w.fence_dev = FENCE_DEV_MANUAL;
		else if (strcmp(av[i], "expiry_probe") == 0 && num && x <= 1)
			c->expiry_probe = x == 1;
		else if (strcmp(av[i], "kernel_late") == 0 && num)
			r->w.kernel_late_ms = (uint32_t)x;
		else if (strcmp(av[i], "votes") == 0 && num)
			r->w.votes_needed = (unsigned)x;
		else
			return bad(r, "unknown config %s=%s", av[i], val);
	}
	return 0;
}

/* ---- commands ---- */

static int opt_u64(struct run *r, char **av, int ac, int from, const char *key, uint64_t *out)
{
	size_t kl = strlen(key);

	for (int i = from; i < ac; i++)
		if (strncmp(av[i], key, kl) == 0 && av[i][kl] == '=') {
			if (!parse_u64(av[i] + kl + 1, out))
				return bad(r, "bad %s", av[i]);
			return 1;
		}
	return 0;
}

static int c_start(struct run *r, char **av, int ac)
{
	uint64_t pid = 0, proto = 0;

	if (opt_u64(r, av, ac, 1, "pid", &pid) < 0 || opt_u64(r, av, ac, 1, "proto", &proto) < 0)
		return -1;
	for (int i = 1; i < ac; i++) {
		struct scn_node *s;

		if (strchr(av[i], '='))
			continue;
		if ((s = node_arg(r, av[i])) == NULL ||
		    w_start(&r->w, s, (uint32_t)pid, (uint16_t)proto) < 0)
			return -1;
	}
	return 0;
}

typedef int (*node_fn)(struct scn_world *, struct scn_node *);

/* Commands that take one or more nodes and nothing else. */
static int each_node(struct run *r, char **av, int ac, node_fn fn)
{
	if (ac < 2)
		return bad(r, "%s wants a node", av[0]);
	for (int i = 1; i < ac; i++) {
		struct scn_node *s = node_arg(r, av[i]);

		if (s == NULL || fn(&r->w, s) < 0)
			return -1;
	}
	return 0;
}

#define NODE_CMD(name, fn) \
	static int name(struct run *r, char **av, int ac) { return each_node(r, av, ac, fn); }
NODE_CMD(c_stop, w_stop)
NODE_CMD(c_thaw, w_thaw)
NODE_CMD(c_crash, w_crash)
NODE_CMD(c_down, w_down)
NODE_CMD(c_boot, w_boot)
NODE_CMD(c_cs_kill, w_cs_kill)
NODE_CMD(c_cs_start, w_cs_start)
NODE_CMD(c_cluster_lost, w_cluster_lost)
NODE_CMD(c_cs_hang, w_cs_hang)
NODE_CMD(c_cs_resume, w_cs_resume)
NODE_CMD(c_cs_stale, w_cs_stale)
NODE_CMD(c_cs_pause, w_cs_pause)
NODE_CMD(c_cs_unpause, w_cs_unpause)
NODE_CMD(c_drop, w_drop)
NODE_CMD(c_carry, w_carry)
NODE_CMD(c_tick, w_tick)
NODE_CMD(c_rejoin, w_rejoin)

static int c_kill(struct run *r, char **av, int ac)
{
	bool ghost = ac == 3 && strcmp(av[2], "ghost") == 0;
	struct scn_node *s;

	if (ac != 2 && !ghost)
		return bad(r, "kill NODE [ghost]");
	s = node_arg(r, av[1]);
	return s == NULL ? -1 : w_kill(&r->w, s, ghost);
}

static int c_freeze(struct run *r, char **av, int ac)
{
	uint64_t ms = 0;
	struct scn_node *s;

	if (ac < 2 || ac > 3 || (ac == 3 && !parse_u64(av[2], &ms)))
		return bad(r, "freeze NODE [MS]");
	s = node_arg(r, av[1]);
	return s == NULL ? -1 : w_freeze(&r->w, s, ms);
}

/* "partition 1 2 | 3": every node in exactly one group */
static int c_partition(struct run *r, char **av, int ac)
{
	int grp[SCN_MAXN], g = 0;

	for (unsigned i = 0; i < r->w.nn; i++)
		grp[i] = -1;
	for (int i = 1; i < ac; i++) {
		struct scn_node *s;

		if (strcmp(av[i], "|") == 0) {
			g++;
			continue;
		}
		if (strcmp(av[i], "-") == 0)
			continue;	/* an empty group keeps the numbering */
		if ((s = node_arg(r, av[i])) == NULL)
			return -1;
		if (grp[s - r->w.nodes] >= 0)
			return bad(r, "n%" PRIu32 " is in two groups", s->nodeid);
		grp[s - r->w.nodes] = g;
	}
	for (unsigned i = 0; i < r->w.nn; i++)
		if (grp[i] < 0)
			return bad(r, "n%" PRIu32 " is in no group", r->w.nodes[i].nodeid);
	return w_groups(&r->w, grp);
}

static int c_heal(struct run *r, char **av, int ac)
{
	int grp[SCN_MAXN] = {0};

	(void)av;
	if (ac != 1)
		return bad(r, "heal takes nothing");
	return w_groups(&r->w, grp);
}

static int c_ring(struct run *r, char **av, int ac)
{
	uint32_t qfirst = 0, split = 0;

	for (int i = 1; i < ac; i++) {
		if (strncmp(av[i], "qfirst=", 7) == 0) {
			if (mask_arg(r, av[i] + 7, &qfirst) < 0)
				return -1;
		} else if (strncmp(av[i], "split=", 6) == 0) {
			if (mask_arg(r, av[i] + 6, &split) < 0)
				return -1;
		} else {
			return bad(r, "ring [qfirst=N,N] [split=N,N]");
		}
	}
	return w_ring(&r->w, qfirst, split);
}

/* "deliver N [COUNT]": each event is a step of its own (checked after). */
static int c_deliver(struct run *r, char **av, int ac)
{
	uint64_t n = 1;
	struct scn_node *s;

	if (ac < 2 || ac > 3 || (ac == 3 && !parse_u64(av[2], &n)))
		return bad(r, "deliver NODE [COUNT]");
	if ((s = node_arg(r, av[1])) == NULL)
		return -1;
	for (uint64_t k = 0; k < n; k++) {
		if (w_deliver(&r->w, s) < 0)
			return -1;
		if (k + 1 < n)
			w_check_step(&r->w);
	}
	return 0;
}

static int c_block(struct run *r, char **av, int ac)
{
	struct scn_node *s;

	if (ac != 3 || (strcmp(av[2], "on") != 0 && strcmp(av[2], "off") != 0))
		return bad(r, "block NODE on|off");
	s = node_arg(r, av[1]);
	return s == NULL ? -1 : w_block(&r->w, s, strcmp(av[2], "on") == 0);
}

/* "flush NODE [COUNT|all]": the oldest deferred send(s) reach corosync. */
static int c_flush(struct run *r, char **av, int ac)
{
	uint64_t n = 1;
	struct scn_node *s;

	if (ac == 3 && strcmp(av[2], "all") == 0)
		n = 0;
	else if (ac < 2 || ac > 3 || (ac == 3 && (!parse_u64(av[2], &n) || n == 0)))
		return bad(r, "flush NODE [COUNT|all]");
	s = node_arg(r, av[1]);
	return s == NULL ? -1 : w_flush(&r->w, s, (size_t)n);
}

static int c_defer(struct run *r, char **av, int ac)
{
	uint64_t seq;
	struct scn_node *s;

	if (ac != 3 || !parse_u64(av[2], &seq))
		return bad(r, "defer NODE SEQ");
	s = node_arg(r, av[1]);
	return s == NULL ? -1 : w_defer(&r->w, s, seq);
}

static int c_drain(struct run *r, char **av, int ac)
{
	(void)av;
	(void)ac;
	w_drain(&r->w);
	return 0;
}

static int c_wait(struct run *r, char **av, int ac)
{
	uint64_t ms;

	if (ac != 2 || !parse_u64(av[1], &ms))
		return bad(r, "wait MS");
	return w_wait(&r->w, ms);
}

/* "exec NODE [ok|fail|answered] [COUNT]" */
static int c_exec(struct run *r, char **av, int ac)
{
	uint64_t n = 1;
	bool ok = true, answered = false;
	struct scn_node *s;

	for (int i = 2; i < ac; i++) {
		if (strcmp(av[i], "ok") == 0)
			ok = true;
		else if (strcmp(av[i], "fail") == 0)
			ok = false;
		else if (strcmp(av[i], "answered") == 0)
			answered = true;
		else if (!parse_u64(av[i], &n))
			return bad(r, "exec NODE [ok|fail|answered] [COUNT]");
	}
	if (ac < 2 || (s = node_arg(r, av[1])) == NULL)
		return -1;
	for (uint64_t k = 0; k < n; k++)
		if (w_exec(&r->w, s, ok, answered) < 0)
			return -1;
	return 0;
}

static int c_executor(struct run *r, char **av, int ac)
{
	struct scn_node *s;

	if (ac != 3 || (strcmp(av[2], "manual") != 0 && strcmp(av[2], "auto") != 0))
		return bad(r, "executor NODE manual|auto");
	if ((s = node_arg(r, av[1])) == NULL)
		return -1;
	s->exec_manual = strcmp(av[2], "manual") == 0;
	return 0;
}

static int c_quorum(struct run *r, char **av, int ac)
{
	int inject = -1;
	struct scn_node *s;

	if (ac == 3 && strcmp(av[2], "yes") == 0)
		inject = 1;
	else if (ac == 3 && strcmp(av[2], "no") == 0)
		inject = 0;
	else if (ac != 2)
		return bad(r, "quorum NODE [yes|no]");
	s = node_arg(r, av[1]);
	return s == NULL ? -1 : w_quorum(&r->w, s, inject);
}

static int c_expire(struct run *r, char **av, int ac)
{
	struct scn_node *s;
	long v;

	if (ac != 3)
		return bad(r, "expire NODE ADDRESS");
	if ((s = node_arg(r, av[1])) == NULL || (v = vip_arg(r, av[2])) < 0)
		return -1;
	return w_expire(&r->w, s, (unsigned)v);
}

static int c_fenced(struct run *r, char **av, int ac)
{
	struct scn_node *s;

	if (ac != 3 || (strcmp(av[2], "ok") != 0 && strcmp(av[2], "fail") != 0))
		return bad(r, "fenced NODE ok|fail");
	s = node_arg(r, av[1]);
	return s == NULL ? -1 : w_fenced(&r->w, s, strcmp(av[2], "ok") == 0);
}

/* "cmd NODE ..." : what chorusctl on NODE asks its daemon. */
static int c_cmd(struct run *r, char **av, int ac)
{
	struct scn_node *s, *t;
	long v;

	if (ac < 3 || (s = node_arg(r, av[1])) == NULL)
		return ac < 3 ? bad(r, "cmd NODE WHAT ...") : -1;
	if (strcmp(av[2], "standby") == 0 || strcmp(av[2], "active") == 0) {
		if (ac != 4 || (t = node_arg(r, av[3])) == NULL)
			return -1;
		return w_admin(&r->w, s, av[2][0] == 's' ? SCN_ADMIN_STANDBY : SCN_ADMIN_ACTIVE,
			       t->nodeid, -1);
	}
	if (strcmp(av[2], "move") == 0) {
		if (ac != 5 || (v = vip_arg(r, av[3])) < 0 || (t = node_arg(r, av[4])) == NULL)
			return ac != 5 ? bad(r, "cmd NODE move ADDRESS NODE") : -1;
		return w_admin(&r->w, s, SCN_ADMIN_MOVE, t->nodeid, v);
	}
	if (strcmp(av[2], "unpin") == 0) {
		if (ac != 4 || (v = vip_arg(r, av[3])) < 0)
			return -1;
		return w_admin(&r->w, s, SCN_ADMIN_UNPIN, 0, v);
	}
	if (strcmp(av[2], "maintenance") == 0 && ac == 4 &&
	    (strcmp(av[3], "on") == 0 || strcmp(av[3], "off") == 0))
		return w_admin(&r->w, s,
			       strcmp(av[3], "on") == 0 ? SCN_ADMIN_MAINT_ON : SCN_ADMIN_MAINT_OFF, 0,
			       -1);
	if (strcmp(av[2], "cleanup") == 0) {
		/* cmd NODE cleanup [ADDRESS] [NODE]: what chorusctl cleanup sends */
		int i = 3;

		v = -1;
		t = NULL;
		if (i < ac && strchr(av[i], '.') != NULL && (v = vip_arg(r, av[i++])) < 0)
			return -1;
		if (i < ac && (t = node_arg(r, av[i++])) == NULL)
			return -1;
		if (i != ac)
			return bad(r, "cmd NODE cleanup [ADDRESS] [NODE]");
		return w_admin(&r->w, s, SCN_ADMIN_CLEANUP, t ? t->nodeid : 0, v);
	}
	if (strcmp(av[2], "rebalance") == 0 && ac == 3)
		return w_rebalance(&r->w, s);
	if (strcmp(av[2], "fence-confirm") == 0 && ac == 4) {
		uint64_t id;

		/* any node id: the operator may name one nothing waits for */
		if (!parse_u64(av[3][0] == 'n' ? av[3] + 1 : av[3], &id) || id > UINT32_MAX)
			return bad(r, "bad node %s", av[3]);
		return w_fence_confirm(&r->w, s, (uint32_t)id);
	}
	return bad(r, "unknown command %s", av[2]);
}

/* "health NODE ok|ADDRESS... [urgent] [node-failed]" */
static int c_health(struct run *r, char **av, int ac)
{
	bool unserv[SCN_MAXV] = {false}, urgent = false, any = false;
	uint32_t flags = 0;
	struct scn_node *s;

	if (ac < 3 || (s = node_arg(r, av[1])) == NULL)
		return ac < 3 ? bad(r, "health NODE ok|ADDRESS... [urgent] [node-failed]") : -1;
	for (int i = 2; i < ac; i++) {
		long v;

		if (strcmp(av[i], "ok") == 0)
			continue;
		if (strcmp(av[i], "urgent") == 0) {
			urgent = true;
			continue;
		}
		if (strcmp(av[i], "node-failed") == 0) {
			flags = 1;
			continue;
		}
		if ((v = vip_arg(r, av[i])) < 0)
			return -1;
		unserv[v] = true;
		any = true;
	}
	return w_health(&r->w, s, any ? unserv : NULL, urgent, flags);
}

/* "sets NODE ADDRESS=SET..." (0 = none; an address not named keeps its set) */
static int c_sets(struct run *r, char **av, int ac)
{
	uint32_t set[SCN_MAXV];
	struct scn_node *s;

	if (ac < 3 || (s = node_arg(r, av[1])) == NULL)
		return ac < 3 ? bad(r, "sets NODE ADDRESS=SET...") : -1;
	for (unsigned v = 0; v < SCN_MAXV; v++)
		set[v] = 0;
	for (size_t i = 0; i < s->n_local; i++)
		set[s->local[i]] = s->decl[i].set;
	for (int i = 2; i < ac; i++) {
		char *eq = strchr(av[i], '=');
		uint64_t x;
		long v;

		if (eq == NULL || !parse_u64(eq + 1, &x) || x > UINT32_MAX)
			return bad(r, "sets NODE ADDRESS=SET...");
		*eq = '\0';
		if ((v = vip_arg(r, av[i])) < 0)
			return -1;
		set[v] = (uint32_t)x;
	}
	return w_sets(&r->w, s, set);
}

static int c_load(struct run *r, char **av, int ac)
{
	uint64_t l, c;
	struct scn_node *s;
	long v;

	if (ac != 5 || !parse_u64(av[3], &l) || !parse_u64(av[4], &c) || l > UINT32_MAX ||
	    c > UINT32_MAX)
		return bad(r, "load NODE ADDRESS LOAD CONNS");
	if ((s = node_arg(r, av[1])) == NULL || (v = vip_arg(r, av[2])) < 0)
		return -1;
	return w_load(&r->w, s, (unsigned)v, (uint32_t)l, (uint32_t)c);
}

static int c_show(struct run *r, char **av, int ac)
{
	(void)av;
	(void)ac;
	w_show(&r->w);
	return 0;
}

static int c_check(struct run *r, char **av, int ac)
{
	if (ac != 2 || strcmp(av[1], "settled") != 0)
		return bad(r, "check settled");
	w_check_settled(&r->w);
	return 0;
}

/* "digest NODE HEX": a simulator schedule says what table the node has
 * here; a replay that differs has left the simulator's path. */
static int c_digest(struct run *r, char **av, int ac)
{
	struct scn_node *s;
	unsigned long long want;
	uint64_t got;
	char *end;

	if (ac != 3 || (s = node_arg(r, av[1])) == NULL)
		return ac != 3 ? bad(r, "digest NODE HEX") : -1;
	want = strtoull(av[2], &end, 16);
	if (*end != '\0')
		return bad(r, "bad digest %s", av[2]);
	got = s->d_up && s->core ? scn_core_digest(s->core) : 0;
	if (got != want)
		return bad(r, "n%" PRIu32 "'s table is not the simulator's here (digest %016" PRIx64
			   ", simulator %016llx)", s->nodeid, got, want);
	return 0;
}

static int c_trace(struct run *r, char **av, int ac)
{
	if (ac == 2 && strcmp(av[1], "all") == 0)
		r->w.trace = TRACE_ALL;
	else if (ac == 2 && strcmp(av[1], "normal") == 0)
		r->w.trace = TRACE_NORMAL;
	else
		return bad(r, "trace all|normal");
	return 0;
}

static int c_auto(struct run *r, char **av, int ac)
{
	if (ac == 2 && strcmp(av[1], "on") == 0)
		r->w.autorun = true;
	else if (ac == 2 && strcmp(av[1], "off") == 0)
		r->w.autorun = false;
	else
		return bad(r, "auto on|off");
	return 0;
}

struct command {
	const char *name;
	int (*fn)(struct run *r, char **av, int ac);
	bool header;	/* configures the world: before the first step only */
};

static const struct command commands[] = {
	{"nodes", hdr_nodes, true},
	{"vip", hdr_vip, true},
	{"config", hdr_config, true},
	{"start", c_start, false},
	{"kill", c_kill, false},
	{"stop", c_stop, false},
	{"freeze", c_freeze, false},
	{"thaw", c_thaw, false},
	{"crash", c_crash, false},
	{"down", c_down, false},
	{"boot", c_boot, false},
	{"cs-kill", c_cs_kill, false},
	{"cs-start", c_cs_start, false},
	{"cluster-lost", c_cluster_lost, false},
	{"cs-hang", c_cs_hang, false},
	{"cs-resume", c_cs_resume, false},
	{"cs-stale", c_cs_stale, false},
	{"cs-pause", c_cs_pause, false},
	{"cs-unpause", c_cs_unpause, false},
	{"partition", c_partition, false},
	{"heal", c_heal, false},
	{"ring", c_ring, false},
	{"deliver", c_deliver, false},
	{"drop", c_drop, false},
	{"carry", c_carry, false},
	{"block", c_block, false},
	{"flush", c_flush, false},
	{"defer", c_defer, false},
	{"drain", c_drain, false},
	{"wait", c_wait, false},
	{"tick", c_tick, false},
	{"exec", c_exec, false},
	{"executor", c_executor, false},
	{"quorum", c_quorum, false},
	{"expire", c_expire, false},
	{"rejoin", c_rejoin, false},
	{"fenced", c_fenced, false},
	{"cmd", c_cmd, false},
	{"health", c_health, false},
	{"sets", c_sets, false},
	{"load", c_load, false},
	{"show", c_show, false},
	{"check", c_check, false},
	{"digest", c_digest, false},
	{"trace", c_trace, false},
	{"auto", c_auto, false},
};

/* The sim's constants: short, consistent timing (sim.c says why each). */
static void defaults(struct run *r)
{
	r->w.cfg = (struct scn_daemon_cfg){
		.failback = SCN_FAILBACK_AUTO,
		.round_timeout_ms = 3000,
		.restart_grace_ms = 8000,
		.shutdown_timeout_ms = 5000,
		.fence = SCN_FENCE_GRACE,
		.fence_grace_ms = 12000,
		.quiet_limit_ms = 2500,
		.heartbeat_ms = 200,
		.liveness_ms = 1000,
		.unresponsive_ms = 600,
		.lifetime_ms = 1000,
		.expiry_margin_ms = 500,
		.gap_ms = 600,
	};
	r->w.autorun = true;
}

static int run_line(struct run *r, char *text)
{
	char *av[MAXTOK], *save = NULL;
	int ac = 0;
	const struct command *cmd = NULL;

	for (char *t = strtok_r(text, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (ac == MAXTOK)
			return bad(r, "too many words");
		av[ac++] = t;
	}
	if (ac == 0)
		return 0;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]) && !cmd; i++)
		if (strcmp(commands[i].name, av[0]) == 0)
			cmd = &commands[i];
	sb_printf(&r->out, ">");
	for (int i = 0; i < ac; i++)
		sb_printf(&r->out, " %s", av[i]);
	sb_printf(&r->out, "\n");
	if (cmd == NULL)
		return bad(r, "unknown command %s", av[0]);
	if (cmd->header) {
		if (r->started)
			return bad(r, "%s belongs before the first step", av[0]);
		return cmd->fn(r, av, ac);
	}
	if (!r->started) {
		if (r->w.nn == 0 || r->w.nv == 0)
			return bad(r, "a scenario needs nodes and addresses before its first step");
		r->started = true;
		w_init(&r->w);
	}
	r->w.err[0] = '\0';
	if (cmd->fn(r, av, ac) < 0) {
		if (r->w.err[0])
			bad(r, "%s", r->w.err);
		return -1;
	}
	w_settle_now(&r->w);
	w_check_step(&r->w);
	return 0;
}

/* Run one scenario; its output goes to 'out'.  Returns the number of
 * errors and violations. */
static unsigned run_file(const char *path, struct sbuf *out)
{
	struct run *r = calloc(1, sizeof(*r));
	FILE *f = fopen(path, "r");
	char buf[4096];
	unsigned bad_count;

	if (r == NULL)
		abort();
	r->path = path;
	r->w.out = &r->out;
	defaults(r);
	if (f == NULL) {
		bad(r, "cannot open %s", path);
	} else {
		while (fgets(buf, sizeof(buf), f)) {
			char *hash = strchr(buf, '#');

			r->lineno++;
			if (hash)
				*hash = '\0';
			buf[strcspn(buf, "\r\n")] = '\0';
			if (run_line(r, buf) < 0 && r->errors > 20)
				break;
		}
		fclose(f);
	}
	if (r->started && r->w.violations == 0 && r->errors == 0)
		sb_printf(&r->out, "end: no violation\n");
	else
		sb_printf(&r->out, "end: %u violation%s, %u error%s\n", r->w.violations,
			  r->w.violations == 1 ? "" : "s", r->errors, r->errors == 1 ? "" : "s");
	bad_count = r->w.violations + r->errors;
	w_free(&r->w);
	*out = r->out;
	free(r);
	return bad_count;
}

static char *read_all(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	char *s = NULL;
	size_t cap = 0;

	*n = 0;
	if (f == NULL)
		return NULL;
	for (;;) {
		if (*n + 4096 > cap) {
			cap = cap ? 2 * cap : 65536;
			s = realloc(s, cap);
			if (s == NULL)
				abort();
		}
		size_t k = fread(s + *n, 1, cap - *n, f);

		if (k == 0)
			break;
		*n += k;
	}
	fclose(f);
	return s;
}

/* The first line where 'got' and the golden output part, with context. */
static void show_diff(const char *name, const char *got, size_t ng, const char *want, size_t nw)
{
	size_t i = 0, line_no = 1, start = 0;

	while (i < ng && i < nw && got[i] == want[i]) {
		if (got[i] == '\n') {
			line_no++;
			start = i + 1;
		}
		i++;
	}
	fprintf(stderr, "%s: output differs from the golden file at line %zu\n", name, line_no);
	fprintf(stderr, "  expected: %.*s\n", (int)strcspn(want + start, "\n"),
		start < nw ? want + start : "(end)");
	fprintf(stderr, "  got:      %.*s\n", (int)strcspn(got + start, "\n"),
		start < ng ? got + start : "(end)");
}

static int one(const char *scn, bool update, bool print)
{
	struct sbuf out = {0};
	unsigned nbad = run_file(scn, &out);
	char golden[4096];
	size_t len = strlen(scn), nw;
	char *want;
	int rc = 0;

	if (print) {
		fwrite(out.s, 1, out.n, stdout);
		sb_free(&out);
		return nbad ? 1 : 0;
	}
	if (len < 4 || strcmp(scn + len - 4, ".scn") != 0) {
		fprintf(stderr, "%s: not a .scn file\n", scn);
		sb_free(&out);
		return 1;
	}
	snprintf(golden, sizeof(golden), "%.*s.out", (int)(len - 4), scn);
	if (update) {
		FILE *f = fopen(golden, "w");

		if (f == NULL || fwrite(out.s, 1, out.n, f) != out.n || fclose(f) != 0) {
			fprintf(stderr, "%s: cannot write\n", golden);
			rc = 1;
		}
	} else {
		want = read_all(golden, &nw);
		if (want == NULL) {
			fprintf(stderr, "%s: no golden output (scenario_run --update writes it)\n",
				golden);
			rc = 1;
		} else if (nw != out.n || memcmp(want, out.s, nw) != 0) {
			show_diff(scn, out.s, out.n, want, nw);
			rc = 1;
		}
		free(want);
	}
	if (nbad) {
		fprintf(stderr, "%s: %u violation(s) or error(s)\n", scn, nbad);
		rc = 1;
	}
	printf("%s %s\n", rc ? "FAIL" : "PASS", strrchr(scn, '/') ? strrchr(scn, '/') + 1 : scn);
	sb_free(&out);
	return rc;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every .scn of 'dir', in name order. */
static int dir_run(const char *dir, bool update, unsigned *count)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int rc = 0;

	if (d == NULL) {
		fprintf(stderr, "scenario_run: cannot open %s\n", dir);
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len < 5 || strcmp(de->d_name + len - 4, ".scn") != 0)
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		if (names == NULL || asprintf(&names[n], "%s/%s", dir, de->d_name) < 0)
			abort();
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		rc |= one(names[i], update, false);
		free(names[i]);
	}
	free(names);
	*count += (unsigned)n;
	return rc;
}

int main(int argc, char **argv)
{
	const char *srcdir = getenv("srcdir");
	bool update = false, verbose = false, any = false;
	unsigned count = 0;
	char dir[4096];
	int rc = 0;

	qb_log_init("scenario_run", LOG_USER, LOG_INFO);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0) {
			verbose = true;
			qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*",
					  LOG_INFO);
			qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, QB_TRUE);
		}
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0)
			continue;
		if (strcmp(argv[i], "--update") == 0) {
			update = true;
			continue;
		}
		if (strcmp(argv[i], "-p") == 0 && i + 1 < argc) {
			rc = one(argv[++i], false, true);
			qb_log_fini();
			return rc;
		}
		any = true;
		{
			DIR *d = opendir(argv[i]);

			if (d != NULL) {
				closedir(d);
				rc |= dir_run(argv[i], update, &count);
			} else {
				rc |= one(argv[i], update, false);
				count++;
			}
		}
	}
	if (!any) {
		snprintf(dir, sizeof(dir), "%s/tests/scenarios/core", srcdir ? srcdir : ".");
		rc |= dir_run(dir, update, &count);
	}
	/* an empty directory means the runner looked in the wrong place */
	if (count == 0) {
		fprintf(stderr, "scenario_run: no scenarios\n");
		rc = 1;
	}
	(void)verbose;
	qb_log_fini();
	return rc;
}
