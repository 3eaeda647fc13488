/*
 * The core event log (coordinator/daemon/corelog.c) in front of a real core.
 *
 * chorusd steps its core only through corelog_step(), so a one-node
 * cluster driven the same way shows what `chorusctl events --core` will
 * hold: every event, in order, with a request's answer, an operator change
 * among them (refused without quorum, accepted with it, and the delivery
 * of the message it sent), and only the last CORELOG_MAX of them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <json-c/json.h>

#include "daemon/corelog.h"
#include "core/state.h"

#define NVIPS 2

static struct vip_def vips[NVIPS];
static const uint32_t ids[] = {1};
static const struct core_ring ring = {1, 4};
static uint64_t now = 1000;

struct fx {
	struct core *c;
	struct corelog *log;
	struct core_actions a;
};

static int step(struct fx *f, struct core_event *ev)
{
	ev->now_ms = now++;
	return corelog_step(f->log, f->c, ev, &f->a);
}

/* Deliver what the core multicast back to it, as CPG would, until it has
 * nothing more to say. */
static void loopback(struct fx *f)
{
	while (f->a.n > 0) {
		struct core_actions out = f->a;

		core_actions_init(&f->a);
		for (size_t i = 0; i < out.n; i++) {
			struct core_event ev = {.type = CORE_EV_DELIVER};

			if (out.v[i].type != CORE_ACT_SEND)
				continue;
			ev.u.deliver.nodeid = 1;
			ev.u.deliver.pid = 101;
			ev.u.deliver.buf = out.v[i].u.send.buf;
			ev.u.deliver.size = out.v[i].u.send.size;
			assert_int_equal(step(f, &ev), 0);
		}
		core_actions_release(&out);
	}
}

static int setup(void **state)
{
	struct core_config cfg = {
		.nodeid = 1,
		.pid = 101,
		.incarnation = 0x1001,
		.n_vips = NVIPS,
		.vips = vips,
		.round_timeout_ms = 1000,
		.restart_grace_ms = 5000,
		.shutdown_timeout_ms = 5000,
		.n_nodes = 1,
		.nodes = ids,
	};
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	for (unsigned v = 0; v < NVIPS; v++) {
		vips[v].addr.family = 4;
		vips[v].addr.prefix = 24;
		vips[v].addr.bytes[0] = 192;
		vips[v].addr.bytes[2] = 2;
		vips[v].addr.bytes[3] = (uint8_t)(10 + v);
		strcpy(vips[v].pool, "p");
	}
	assert_int_equal(core_new(&cfg, &f->c), 0);
	assert_int_equal(corelog_new(NVIPS, &f->log), 0);
	core_actions_init(&f->a);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	core_actions_release(&f->a);
	corelog_free(f->log);
	core_free(f->c);
	free(f);
	return 0;
}

static void admin_maint(struct fx *f, int want)
{
	struct core_event ev = {.type = CORE_EV_ADMIN};

	ev.u.admin.op = CORE_ADMIN_MAINT_ON;
	ev.u.admin.cookie = 7;
	assert_int_equal(step(f, &ev), want);
}

/* The view forms: confchg, totem, quorum, and the round's STATE. */
static void form(struct fx *f)
{
	static const struct core_member me = {1, 101, CORE_REASON_JOIN};
	struct core_event ev = {.type = CORE_EV_CONFCHG};

	ev.u.confchg.members = &me;
	ev.u.confchg.n_members = 1;
	ev.u.confchg.joined = &me;
	ev.u.confchg.n_joined = 1;
	assert_int_equal(step(f, &ev), 0);
	ev = (struct core_event){.type = CORE_EV_TOTEM};
	ev.u.totem.ring = ring;
	ev.u.totem.nodeids = ids;
	ev.u.totem.n_nodeids = 1;
	assert_int_equal(step(f, &ev), 0);
	ev = (struct core_event){.type = CORE_EV_QUORUM};
	ev.u.quorum.ring = ring;
	ev.u.quorum.quorate = true;
	assert_int_equal(step(f, &ev), 0);
	loopback(f);
	assert_true(core_round_complete(f->c));
}

static const struct corelog_entry *find(const struct corelog *l, enum core_ev_type t,
					const char *text, size_t from)
{
	for (size_t i = from; i < corelog_count(l); i++) {
		const struct corelog_entry *e = corelog_get(l, i);

		if (e->type == t && strstr(e->text, text) != NULL)
			return e;
	}
	return NULL;
}

static void test_every_event_and_admin(void **state)
{
	struct fx *f = *state;
	const struct corelog_entry *e;
	struct core_event ev = {.type = CORE_EV_HEALTH};
	const bool unserv[NVIPS] = {false, true};
	size_t before;

	admin_maint(f, -EAGAIN);	/* no view yet */
	assert_int_equal(corelog_count(f->log), 1);
	e = corelog_get(f->log, 0);
	assert_int_equal(e->type, CORE_EV_ADMIN);
	assert_string_equal(e->text, "maintenance on cookie 7");
	assert_int_equal(e->rc, -EAGAIN);

	form(f);
	assert_non_null(find(f->log, CORE_EV_CONFCHG, "members n1 joined n1", 0));
	assert_non_null(find(f->log, CORE_EV_TOTEM, "ring n1.4 nodes n1", 0));
	assert_non_null(find(f->log, CORE_EV_QUORUM, "quorate", 0));
	assert_non_null(find(f->log, CORE_EV_DELIVER, "STATE from n1", 0));

	before = corelog_count(f->log);
	admin_maint(f, 0);
	e = corelog_get(f->log, before);
	assert_int_equal(e->type, CORE_EV_ADMIN);
	assert_int_equal(e->rc, 0);
	loopback(f);	/* the change is applied when its message comes back */
	assert_non_null(find(f->log, CORE_EV_DELIVER, "ADMIN from n1", before));

	ev.u.health.unservable = unserv;
	ev.u.health.urgent = true;
	assert_int_equal(step(f, &ev), 0);
	assert_non_null(find(f->log, CORE_EV_HEALTH, "flags 0x0 unservable vip 1 urgent", 0));

	/* entries are in the order stepped, stamped with the events' time */
	for (size_t i = 1; i < corelog_count(f->log); i++)
		assert_true(corelog_get(f->log, i)->mono_ms > corelog_get(f->log, i - 1)->mono_ms);
}

static void test_json(void **state)
{
	struct fx *f = *state;
	struct json_object *r, *v, *x;
	size_t n;

	admin_maint(f, -EAGAIN);
	form(f);
	admin_maint(f, 0);
	r = corelog_json(f->log, 0, now);
	assert_true(json_object_object_get_ex(r, "core_events", &v));
	n = json_object_array_length(v);
	assert_int_equal(n, corelog_count(f->log));
	assert_true(json_object_object_get_ex(r, "now_ms", &x));
	assert_int_equal(json_object_get_uint64(x), now);
	/* the last is the accepted request, with its answer */
	x = json_object_array_get_idx(v, n - 1);
	assert_string_equal(json_object_get_string(json_object_object_get(x, "type")), "admin");
	assert_string_equal(json_object_get_string(json_object_object_get(x, "text")),
			    "maintenance on cookie 7");
	assert_int_equal(json_object_get_int(json_object_object_get(x, "rc")), 0);
	/* events that are not requests carry no answer */
	x = json_object_array_get_idx(v, 1);
	assert_string_equal(json_object_get_string(json_object_object_get(x, "type")), "confchg");
	assert_null(json_object_object_get(x, "rc"));
	json_object_put(r);

	r = corelog_json(f->log, 2, now);
	assert_true(json_object_object_get_ex(r, "core_events", &v));
	assert_int_equal(json_object_array_length(v), 2);
	json_object_put(r);
}

/* A full ring keeps the newest CORELOG_MAX, oldest first. */
static void test_ring(void **state)
{
	struct fx *f = *state;
	uint64_t first;

	admin_maint(f, -EAGAIN);
	first = now;
	for (unsigned i = 0; i < CORELOG_MAX + 99; i++) {
		struct core_event ev = {.type = CORE_EV_TICK};

		assert_int_equal(step(f, &ev), 0);
	}
	assert_int_equal(corelog_count(f->log), CORELOG_MAX);
	assert_int_equal(corelog_get(f->log, 0)->type, CORE_EV_TICK);
	assert_int_equal(corelog_get(f->log, 0)->mono_ms, first + 99);
	assert_int_equal(corelog_get(f->log, CORELOG_MAX - 1)->mono_ms, now - 1);
	assert_null(find(f->log, CORE_EV_ADMIN, "", 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_event_and_admin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
