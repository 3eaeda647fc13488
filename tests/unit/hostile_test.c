/*
 * Hostile CPG members against the real core.
 *
 * The hold-back budget (core/state_msg.c): while a round is open, a member
 * that floods the group is cut at the same message on every member, old
 * members and a joiner alike, honest members are never cut, what stays
 * held is bounded, and the budget starts afresh once a round completes.
 *
 * A STATE that breaks wire.h's rules (pins out of order) is refused, so
 * its operator state is never adopted (issue 15: it left a pin that no
 * unpin removed).
 *
 * Real cores behind a tiny in-order bus: every multicast is delivered to
 * every joined core before the next, which is the order CPG guarantees.
 * The hostile members are not cores, only senders of crafted messages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/state_private.h"
#include "core/state_msg.h"

#define NVIPS 4
#define ROUND_MS 1000u

struct tnode {
	struct core *c;
	uint32_t nodeid, pid;
	bool in;			/* receives deliveries */
	struct core_member seen[8];
	size_t nseen;
};

struct bmsg {
	uint32_t nodeid, pid;
	uint8_t *buf;
	size_t size;
};

static struct tnode nodes[3];	/* A, B, and C (a joiner in some tests) */
static struct bmsg *bus;
static size_t nbus, capbus;
static uint64_t now = 1000;
static struct vip_def vips[NVIPS];
static const uint32_t all_ids[] = {1, 2, 3, 4, 5, 6};
static struct core_ring ring = {1, 8};

static void bus_push(uint32_t nodeid, uint32_t pid, const void *buf, size_t size)
{
	if (nbus == capbus) {
		capbus = capbus ? capbus * 2 : 64;
		bus = realloc(bus, capbus * sizeof(*bus));
		assert_non_null(bus);
	}
	bus[nbus].buf = malloc(size);
	assert_non_null(bus[nbus].buf);
	memcpy(bus[nbus].buf, buf, size);
	bus[nbus].size = size;
	bus[nbus].nodeid = nodeid;
	bus[nbus].pid = pid;
	nbus++;
}

static void step(struct tnode *n, struct core_event *ev)
{
	struct core_actions a;

	core_actions_init(&a);
	ev->now_ms = now;
	assert_int_equal(core_step(n->c, ev, &a), 0);
	for (size_t i = 0; i < a.n; i++)
		if (a.v[i].type == CORE_ACT_SEND)
			bus_push(n->nodeid, n->pid, a.v[i].u.send.buf, a.v[i].u.send.size);
	core_actions_release(&a);
}

/* Deliver everything on the bus, in order, to every joined core. */
static void bus_run(void)
{
	for (size_t k = 0; k < nbus; k++) {
		for (size_t i = 0; i < 3; i++) {
			struct core_event ev = {.type = CORE_EV_DELIVER};

			if (!nodes[i].in)
				continue;
			ev.u.deliver.nodeid = bus[k].nodeid;
			ev.u.deliver.pid = bus[k].pid;
			ev.u.deliver.buf = bus[k].buf;
			ev.u.deliver.size = bus[k].size;
			step(&nodes[i], &ev);
		}
		free(bus[k].buf);
	}
	nbus = 0;
}

static bool has(const struct core_member *v, size_t n, uint32_t nodeid, uint32_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].nodeid == nodeid && v[i].pid == pid)
			return true;
	return false;
}

/* A classic confchg to every core in 'mem' (which must be joined ones or
 * become joined now). */
static void confchg(const struct core_member *mem, size_t n)
{
	for (size_t i = 0; i < 3; i++) {
		struct tnode *t = &nodes[i];
		struct core_member left[8], joined[8];
		size_t nl = 0, nj = 0;
		struct core_event ev = {.type = CORE_EV_CONFCHG};

		if (!has(mem, n, t->nodeid, t->pid))
			continue;
		for (size_t k = 0; k < t->nseen; k++)
			if (!has(mem, n, t->seen[k].nodeid, t->seen[k].pid)) {
				left[nl] = t->seen[k];
				left[nl++].reason = CORE_REASON_LEAVE;
			}
		for (size_t k = 0; k < n; k++)
			if (!has(t->seen, t->nseen, mem[k].nodeid, mem[k].pid)) {
				joined[nj] = mem[k];
				joined[nj++].reason = CORE_REASON_JOIN;
			}
		memcpy(t->seen, mem, n * sizeof(*mem));
		t->nseen = n;
		ev.u.confchg.members = mem;
		ev.u.confchg.n_members = n;
		ev.u.confchg.left = left;
		ev.u.confchg.n_left = nl;
		ev.u.confchg.joined = joined;
		ev.u.confchg.n_joined = nj;
		t->in = true;
		step(t, &ev);
	}
}

static void totem(struct tnode *t)
{
	struct core_event ev = {.type = CORE_EV_TOTEM};

	ev.u.totem.ring = ring;
	ev.u.totem.nodeids = all_ids;
	ev.u.totem.n_nodeids = 6;
	step(t, &ev);
}

static void tick(struct tnode *t)
{
	struct core_event ev = {.type = CORE_EV_TICK};

	step(t, &ev);
}

static int setup(void **state)
{
	(void)state;
	for (unsigned v = 0; v < NVIPS; v++) {
		memset(&vips[v], 0, sizeof(vips[v]));
		vips[v].addr.family = 4;
		vips[v].addr.prefix = 24;
		vips[v].addr.bytes[0] = 192;
		vips[v].addr.bytes[1] = 0;
		vips[v].addr.bytes[2] = 2;
		vips[v].addr.bytes[3] = (uint8_t)(10 + v);
		strcpy(vips[v].pool, "p");
	}
	for (uint32_t i = 0; i < 3; i++) {
		struct core_config cfg = {
			.nodeid = i + 1,
			.pid = 100 + i + 1,
			.incarnation = 0x1000 + i,
			.n_vips = NVIPS,
			.vips = vips,
			.failback = CORE_FAILBACK_AUTO,
			.round_timeout_ms = ROUND_MS,
			.restart_grace_ms = 5000,
			.shutdown_timeout_ms = 5000,
			.n_nodes = 6,
			.nodes = all_ids,
		};

		memset(&nodes[i], 0, sizeof(nodes[i]));
		nodes[i].nodeid = cfg.nodeid;
		nodes[i].pid = cfg.pid;
		assert_int_equal(core_new(&cfg, &nodes[i].c), 0);
	}
	now = 1000;
	ring.seq = 8;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t k = 0; k < nbus; k++)
		free(bus[k].buf);
	nbus = 0;
	free(bus);
	bus = NULL;
	capbus = 0;
	for (size_t i = 0; i < 3; i++)
		core_free(nodes[i].c);
	return 0;
}

/* A and B form a view and complete its round. */
static void form_ab(void)
{
	struct core_member m[2] = {{1, 101, 0}, {2, 102, 0}};

	confchg(m, 2);
	totem(&nodes[0]);
	totem(&nodes[1]);
	bus_run();
	assert_true(core_round_complete(nodes[0].c));
	assert_true(core_round_complete(nodes[1].c));
}

/* Let A's round timeout fire: its EXCLUDEs for the silent members complete
 * the round everywhere. */
static void time_out_round(void)
{
	now += ROUND_MS + 1;
	tick(&nodes[0]);
	bus_run();
}

static size_t held_bytes(const struct core *c)
{
	size_t sum = 0;

	for (size_t i = 0; i < c->n_queue; i++)
		sum += c->queue[i].size + CORE_HOLD_MSG_COST;
	return sum;
}

/* A message a hostile member crafts: a valid header, 'body' bytes of junk. */
static void send_junk_type(uint32_t nodeid, uint32_t pid, enum wire_type type, size_t body)
{
	struct wire_buf b;
	struct wire_small sm = {0};

	wire_buf_init(&b);
	assert_int_equal(wire_encode_small(&b, 1, WIRE_RELEASED, 0, 7, &sm), 0);
	b.data[6] = (uint8_t)type;
	b.data = realloc(b.data, WIRE_HDR_SIZE + body);
	assert_non_null(b.data);
	memset(b.data + WIRE_HDR_SIZE, 0xa5, body);
	for (int i = 0; i < 4; i++)
		b.data[8 + i] = (uint8_t)(body >> (8 * i));
	bus_push(nodeid, pid, b.data, WIRE_HDR_SIZE + body);
	wire_buf_release(&b);
}

static void send_junk(uint32_t nodeid, uint32_t pid, size_t body)
{
	send_junk_type(nodeid, pid, WIRE_RELEASED, body);
}

/* A valid operator change (maintenance on/off) for the current ring: each
 * one applied bumps the generation, which makes what was applied visible. */
static size_t send_admin(const struct core *c, uint32_t nodeid, uint32_t pid, uint64_t inc,
			 bool on)
{
	struct wire_buf b;
	uint32_t node = 0;
	uint64_t cookie = 0;
	struct wire_small sm = {.value = on ? CORE_ADMIN_MAINT_ON : CORE_ADMIN_MAINT_OFF,
				.n_nodes = 1, .nodes = &node, .incarnations = &cookie};
	size_t size;

	wire_buf_init(&b);
	assert_int_equal(wire_encode_small(&b, 1, WIRE_ADMIN, core_ring_token(c), inc, &sm), 0);
	bus_push(nodeid, pid, b.data, b.size);
	size = b.size;
	wire_buf_release(&b);
	return size;
}

static uint64_t generation(const struct core *c)
{
	struct core_admin_view v;

	core_admin_get(c, &v);
	return v.generation;
}

static uint64_t dropped(const struct core *c)
{
	struct core_counters k;

	core_counters_get(c, &k);
	return k.dropped_hold;
}

/*
 * A and B are members; a hostile process H and an honest daemon C join
 * together.  H never sends a valid STATE, so the round stays open, and
 * floods it: three maximal junk messages, then operator changes.  Every member, the
 * joiner C included (it queues from its own classic confchg until its
 * first totem confchg), must cut H at the same message: the generation
 * after the round shows exactly which changes were applied.
 */
static void test_flood_cut_same_everywhere(void **state)
{
	struct core_member m[4] = {{1, 101, 0}, {2, 102, 0}, {3, 103, 0}, {5, 500, 0}};
	const size_t big = WIRE_MSG_MAX - WIRE_HDR_SIZE;
	size_t charged = 0, admin_size = 0, expect = 0;
	uint64_t gen0;

	(void)state;
	form_ab();
	gen0 = generation(nodes[0].c);
	confchg(m, 4);		/* C (3, 103) joins with H (5, 500) */
	/* Before C's first totem confchg (corosync sends none in between, but
	 * the core must not depend on it): A and B apply round messages at
	 * once, C holds everything back, and the charges must still agree. */
	send_junk_type(5, 500, WIRE_STATE, big);
	send_junk_type(5, 500, WIRE_EXCLUDE, big);
	charged += 2 * (big + WIRE_HDR_SIZE + CORE_HOLD_MSG_COST);
	bus_run();		/* A's and B's STATEs, then H's */
	assert_true(nodes[2].c->n_queue >= 4);
	totem(&nodes[2]);	/* C's initial totem confchg: its round starts */
	bus_run();		/* C's STATE */
	assert_false(core_round_complete(nodes[0].c));
	assert_false(core_round_complete(nodes[2].c));

	send_junk(5, 500, big);
	charged += big + WIRE_HDR_SIZE + CORE_HOLD_MSG_COST;
	for (int i = 0; i < 20000; i++) {
		admin_size = send_admin(nodes[0].c, 5, 500, 7, i % 2 == 0);
		if (charged + admin_size + CORE_HOLD_MSG_COST <= CORE_HOLD_SENDER_MAX) {
			charged += admin_size + CORE_HOLD_MSG_COST;
			expect++;
		}
	}
	bus_run();
	assert_true(expect > 1000 && expect < 20000);
	for (size_t i = 0; i < 3; i++) {
		/* what is held: H's budget at most (on A and B without
		 * H's round-typed junk, dropped as stale at once) */
		assert_true(held_bytes(nodes[i].c) <= CORE_HOLD_SENDER_MAX);
		assert_true(held_bytes(nodes[i].c) >= charged - 2 * (big + WIRE_HDR_SIZE + CORE_HOLD_MSG_COST));
		assert_int_equal(dropped(nodes[i].c), 20000 - expect);
	}

	time_out_round();
	for (size_t i = 0; i < 3; i++) {
		assert_true(core_round_complete(nodes[i].c));
		assert_int_equal(generation(nodes[i].c), gen0 + expect);
		assert_int_equal(core_digest(nodes[i].c), core_digest(nodes[0].c));
		assert_int_equal(nodes[i].c->n_queue, 0);
	}
}

/*
 * Several flooders fill the total; an honest member under its fair share
 * still gets through, a late flooder gets only its share, and the total
 * held stays under twice CORE_HOLD_TOTAL_MAX.
 */
static void test_fair_share_keeps_honest(void **state)
{
	struct core_member m[5] = {{1, 101, 0}, {2, 102, 0}, {4, 401, 0}, {4, 402, 0},
				   {4, 403, 0}};
	const size_t big = WIRE_MSG_MAX - WIRE_HDR_SIZE;
	uint64_t gen0;

	(void)state;
	form_ab();
	gen0 = generation(nodes[0].c);
	confchg(m, 5);
	bus_run();
	assert_false(core_round_complete(nodes[0].c));
	/* two flooders reach their own limit: together the total */
	for (int i = 0; i < 6; i++) {
		send_junk(4, 401, big);
		send_junk(4, 402, big);
	}
	bus_run();
	assert_true(held_bytes(nodes[0].c) > CORE_HOLD_TOTAL_MAX - 2 * (big + 32 + 64));
	/* a third gets its fair share (total / 5 members), no more */
	for (int i = 0; i < 6; i++)
		send_junk(4, 403, big);
	/* and an honest member's change still passes */
	send_admin(nodes[0].c, 1, 101, 0x1000, true);
	bus_run();
	for (size_t i = 0; i < 2; i++) {
		size_t q403 = 0;

		for (size_t k = 0; k < nodes[i].c->n_queue; k++)
			if (nodes[i].c->queue[k].pid == 403)
				q403 += nodes[i].c->queue[k].size + CORE_HOLD_MSG_COST;
		assert_true(q403 <= CORE_HOLD_TOTAL_MAX / 5);
		assert_true(q403 > 0);
		assert_true(held_bytes(nodes[i].c) < 2 * CORE_HOLD_TOTAL_MAX);
	}
	assert_int_equal(dropped(nodes[0].c), dropped(nodes[1].c));
	time_out_round();
	assert_true(core_round_complete(nodes[0].c));
	assert_int_equal(generation(nodes[0].c), gen0 + 1);
	assert_int_equal(generation(nodes[1].c), gen0 + 1);
	assert_int_equal(core_digest(nodes[0].c), core_digest(nodes[1].c));
}

/*
 * The budget is about what a round makes us hold: traffic outside rounds is
 * applied at once and never charged, and a completed round gives every
 * sender a fresh budget for the next one (here a ring change that starts a
 * new round without a classic confchg).
 */
static void test_budget_per_period(void **state)
{
	struct core_member m[3] = {{1, 101, 0}, {2, 102, 0}, {4, 400, 0}};
	const size_t big = WIRE_MSG_MAX - WIRE_HDR_SIZE;
	uint64_t gen0;

	(void)state;
	form_ab();
	confchg(m, 3);
	bus_run();
	for (int i = 0; i < 5; i++)
		send_junk(4, 400, big);		/* past its budget: cut */
	send_admin(nodes[0].c, 4, 400, 7, true);	/* dropped with the rest */
	bus_run();
	assert_int_equal(dropped(nodes[0].c), 2);
	time_out_round();
	assert_true(core_round_complete(nodes[0].c));
	gen0 = generation(nodes[0].c);

	/* no round open: nothing is held, nothing charged, nothing dropped */
	for (int i = 0; i < 10; i++)
		send_junk(4, 400, big);
	send_admin(nodes[0].c, 4, 400, 7, true);
	bus_run();
	assert_int_equal(dropped(nodes[0].c), 2);
	assert_int_equal(generation(nodes[0].c), gen0 + 1);
	assert_int_equal(nodes[0].c->n_queue, 0);

	/* a new ring, same members: a new round, a fresh budget */
	ring.seq += 4;
	now += 10;
	totem(&nodes[0]);
	totem(&nodes[1]);
	assert_false(core_round_complete(nodes[0].c));
	send_junk(4, 400, big);
	send_admin(nodes[0].c, 4, 400, 7, false);
	bus_run();
	assert_int_equal(dropped(nodes[0].c), 2);
	time_out_round();
	assert_true(core_round_complete(nodes[1].c));
	assert_int_equal(generation(nodes[0].c), gen0 + 2);
	assert_int_equal(generation(nodes[1].c), gen0 + 2);
	assert_int_equal(core_digest(nodes[0].c), core_digest(nodes[1].c));
}

/* An unpin of 'addr' from member (nodeid, pid) with incarnation 'inc'. */
static void send_unpin(const struct core *c, uint32_t nodeid, uint32_t pid, uint64_t inc,
		       const struct res_addr *addr)
{
	struct wire_buf b;
	uint32_t node = 0;
	uint64_t cookie = 0;
	struct res_addr a = *addr;
	struct wire_small sm = {.value = CORE_ADMIN_UNPIN, .n_addrs = 1, .addrs = &a,
				.n_nodes = 1, .nodes = &node, .incarnations = &cookie};

	wire_buf_init(&b);
	assert_int_equal(wire_encode_small(&b, 1, WIRE_ADMIN, core_ring_token(c), inc, &sm), 0);
	bus_push(nodeid, pid, b.data, b.size);
	wire_buf_release(&b);
}

/*
 * A member X joins and sends a STATE for the right view whose operator
 * state is newer than everyone's, with its pins in descending order.
 * merge_admin() would adopt that list whole, and admin.c's sorted walk
 * would then miss the pin an unpin names.  The decoder refuses the STATE:
 * X is excluded like a silent member, nothing of its state is adopted, and
 * the unpins leave no pin anywhere.
 */
static void test_unsorted_pins_refused(void **state)
{
	struct core_member m[3] = {{1, 101, 0}, {2, 102, 0}, {6, 600, 0}};
	struct wire_pin pins[2] = {{vips[3].addr, 1}, {vips[1].addr, 2}};
	struct wire_state st = {.proto_max = 1,
				.admin = {.generation = 1000, .n_pins = 2, .pins = pins}};
	struct wire_buf b;
	struct core_counters k0, k1;

	(void)state;
	form_ab();
	core_counters_get(nodes[0].c, &k0);
	confchg(m, 3);
	wire_buf_init(&b);
	assert_int_equal(wire_encode_state(&b, 1, core_token(nodes[0].c), 0x66, &st), 0);
	bus_push(6, 600, b.data, b.size);
	wire_buf_release(&b);
	bus_run();
	core_counters_get(nodes[0].c, &k1);
	assert_int_equal(k1.dropped_bad, k0.dropped_bad + 1);
	assert_false(core_round_complete(nodes[0].c));
	time_out_round();
	for (size_t i = 0; i < 2; i++) {
		struct core_admin_view v;

		assert_true(core_round_complete(nodes[i].c));
		core_admin_get(nodes[i].c, &v);
		assert_true(v.generation < 1000);
		assert_int_equal(v.n_pins, 0);
	}
	send_unpin(nodes[0].c, 1, 101, 0x1000, &vips[1].addr);
	send_unpin(nodes[0].c, 1, 101, 0x1000, &vips[3].addr);
	bus_run();
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(core_pin_of(nodes[i].c, &vips[1].addr), 0);
		assert_int_equal(core_pin_of(nodes[i].c, &vips[3].addr), 0);
	}
	assert_int_equal(core_digest(nodes[0].c), core_digest(nodes[1].c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_flood_cut_same_everywhere, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fair_share_keeps_honest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget_per_period, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsorted_pins_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
