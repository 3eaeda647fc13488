/*
 * CONNS codec and bounded connection list tests.
 *
 * The codec sees bytes from other nodes: it must refuse truncation at every
 * length, counts that lie or pass the caps, duplicate VIPs, non-canonical
 * addresses and trailing bytes.  The list must never hold more than its
 * cap, drop the oldest connections first, and not churn when the same
 * over-cap snapshot comes again.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exec/connlist.h"
#include "core/wire.h"

static struct res_addr vip4(uint8_t last)
{
	struct res_addr a = {.family = 4, .prefix = 24, .bytes = {192, 0, 2, last}};

	return a;
}

static struct res_addr vip6(uint8_t last)
{
	struct res_addr a = {.family = 6, .prefix = 64,
			     .bytes = {0x20, 0x01, 0x0d, 0xb8, [15] = last}};

	return a;
}

static struct wire_conn conn4(uint8_t last, uint16_t cport)
{
	struct wire_conn c = {.client = {198, 51, 100, last}, .vport = 2049, .cport = cport};

	return c;
}

/* Two VIPs, IPv4 and IPv6, three connections. */
static void build(struct wire_buf *b)
{
	struct wire_conn c4[2] = {conn4(1, 40000), conn4(2, 40001)};
	struct wire_conn c6[1] = {{.client = {0x20, 0x01, 0x0d, 0xb8, [15] = 9}, .vport = 445,
				   .cport = 50000}};
	struct wire_conns_vip v[3] = {{vip4(10), 2, c4}, {vip6(11), 1, c6}, {vip4(12), 0, NULL}};
	struct wire_conns cs = {3, v};

	wire_buf_init(b);
	assert_int_equal(wire_encode_conns(b, 3, 77, &cs), 0);
}

static void test_roundtrip(void **unused)
{
	struct wire_conns cs;
	struct wire_hdr h;
	struct wire_buf b;

	(void)unused;
	build(&b);
	assert_int_equal(wire_decode_hdr(b.data, b.size, &h), 0);
	assert_int_equal(h.type, WIRE_CONNS);
	assert_int_equal(h.version, 3);
	assert_int_equal(h.token, 0);
	assert_int_equal(h.incarnation, 77);
	assert_int_equal(wire_decode_conns(b.data, b.size, &cs), 0);
	assert_int_equal(cs.n_vips, 3);
	assert_int_equal(cs.vips[0].n, 2);
	assert_int_equal(cs.vips[0].conns[1].cport, 40001);
	assert_int_equal(cs.vips[0].conns[1].vport, 2049);
	assert_int_equal(cs.vips[0].conns[1].client[3], 2);
	assert_int_equal(cs.vips[1].vip.family, 6);
	assert_int_equal(cs.vips[1].conns[0].client[15], 9);
	assert_int_equal(cs.vips[2].n, 0);
	assert_null(cs.vips[2].conns);
	assert_string_equal(wire_type_name(WIRE_CONNS), "CONNS");
	wire_conns_clear(&cs);
	wire_buf_release(&b);
}

static void test_truncation(void **unused)
{
	struct wire_conns cs;
	struct wire_buf b;

	(void)unused;
	build(&b);
	/* every shorter body, with the header's size patched to match */
	for (size_t n = WIRE_HDR_SIZE; n < b.size; n++) {
		uint8_t *copy = malloc(n);
		uint32_t body = (uint32_t)(n - WIRE_HDR_SIZE);

		memcpy(copy, b.data, n);
		for (int i = 0; i < 4; i++)
			copy[8 + i] = (uint8_t)(body >> (8 * i));
		assert_int_equal(wire_decode_conns(copy, n, &cs), -EBADMSG);
		assert_null(cs.vips);
		free(copy);
	}
	wire_buf_release(&b);
}

/* Offsets in the message built by build(): body starts at 32 with n_vips,
 * the first block's address at 36 (18 bytes), its count at 54, its first
 * connection at 58. */
static void expect_bad(struct wire_buf *b, size_t off, uint8_t val)
{
	struct wire_conns cs;
	uint8_t old = b->data[off];

	b->data[off] = val;
	assert_int_equal(wire_decode_conns(b->data, b->size, &cs), -EBADMSG);
	b->data[off] = old;
	assert_int_equal(wire_decode_conns(b->data, b->size, &cs), 0);
	wire_conns_clear(&cs);
}

static void test_hostile(void **unused)
{
	struct wire_conns cs;
	struct wire_buf b;

	(void)unused;
	build(&b);
	expect_bad(&b, 32, 200);	/* n_vips lies: more blocks than bytes */
	expect_bad(&b, 35, 1);		/* n_vips far above WIRE_CONNS_MAX_VIPS */
	expect_bad(&b, 36, 5);		/* unknown address family */
	expect_bad(&b, 37, 33);		/* IPv4 prefix out of range */
	expect_bad(&b, 54, 3);		/* connection count lies */
	expect_bad(&b, 56, 1);		/* connection count above the per-VIP cap */
	expect_bad(&b, 58 + 5, 1);	/* IPv4 client not zero-padded */
	/* the second block names the first VIP again */
	{
		struct wire_conn c[1] = {conn4(1, 1)};
		struct wire_conns_vip v[2] = {{vip4(10), 1, c}, {vip4(10), 0, NULL}};
		struct wire_conns two = {2, v};
		struct wire_buf d;

		wire_buf_init(&d);
		assert_int_equal(wire_encode_conns(&d, 3, 1, &two), 0);
		assert_int_equal(wire_decode_conns(d.data, d.size, &cs), -EBADMSG);
		wire_buf_release(&d);
	}
	/* trailing garbage */
	{
		uint8_t *copy = malloc(b.size + 1);
		uint32_t body = (uint32_t)(b.size + 1 - WIRE_HDR_SIZE);

		memcpy(copy, b.data, b.size);
		copy[b.size] = 0;
		for (int i = 0; i < 4; i++)
			copy[8 + i] = (uint8_t)(body >> (8 * i));
		assert_int_equal(wire_decode_conns(copy, b.size + 1, &cs), -EBADMSG);
		free(copy);
	}
	wire_buf_release(&b);
}

/* The per-message total is enforced on decode too: blocks each under the
 * per-VIP cap that together pass WIRE_CONNS_MAX_MSG are refused. */
static void test_total_cap(void **unused)
{
	struct wire_conn *c = calloc(WIRE_CONNS_MAX_PER_VIP, sizeof(*c));
	struct wire_conns_vip v[3] = {{vip4(1), WIRE_CONNS_MAX_PER_VIP, c},
				      {vip4(2), WIRE_CONNS_MAX_PER_VIP, c},
				      {vip4(3), 1, c}};
	struct wire_conns cs = {2, v}, out;
	struct wire_buf b;
	uint8_t *big;
	size_t size;

	(void)unused;
	wire_buf_init(&b);
	assert_int_equal(wire_encode_conns(&b, 3, 1, &cs), 0);	/* exactly the cap */
	cs.n_vips = 3;
	assert_int_equal(wire_encode_conns(&b, 3, 1, &cs), -EMSGSIZE);
	v[2].n = 0;
	v[0].n = WIRE_CONNS_MAX_PER_VIP + 1;
	assert_int_equal(wire_encode_conns(&b, 3, 1, &cs), -EMSGSIZE);
	/* hand-made: a valid 2-block message plus a third block of one */
	v[0].n = WIRE_CONNS_MAX_PER_VIP;
	cs.n_vips = 2;
	assert_int_equal(wire_encode_conns(&b, 3, 1, &cs), 0);
	size = b.size + 18 + 4 + WIRE_CONN_SIZE;
	big = calloc(size, 1);
	memcpy(big, b.data, b.size);
	big[32] = 3;
	big[b.size] = 4;		/* family */
	big[b.size + 1] = 24;		/* prefix */
	big[b.size + 2] = 192;
	big[b.size + 5] = 3;
	big[b.size + 18] = 1;		/* count 1 */
	for (int i = 0; i < 4; i++)
		big[8 + i] = (uint8_t)((size - WIRE_HDR_SIZE) >> (8 * i));
	assert_int_equal(wire_decode_conns(big, size, &out), -EBADMSG);
	big[b.size + 18] = 0;		/* an empty third block is fine */
	size -= WIRE_CONN_SIZE;
	for (int i = 0; i < 4; i++)
		big[8 + i] = (uint8_t)((size - WIRE_HDR_SIZE) >> (8 * i));
	assert_int_equal(wire_decode_conns(big, size, &out), 0);
	assert_int_equal(out.n_vips, 3);
	wire_conns_clear(&out);
	free(big);
	free(c);
	wire_buf_release(&b);
}

/* Random single-byte flips never crash and never leak (ASan). */
static void test_random_flips(void **unused)
{
	struct wire_conns cs;
	struct wire_buf b;
	unsigned int seed = 12345;

	(void)unused;
	build(&b);
	for (int k = 0; k < 20000; k++) {
		size_t off = WIRE_HDR_SIZE + (size_t)rand_r(&seed) % (b.size - WIRE_HDR_SIZE);
		uint8_t old = b.data[off];

		b.data[off] = (uint8_t)rand_r(&seed);
		if (wire_decode_conns(b.data, b.size, &cs) == 0)
			wire_conns_clear(&cs);
		b.data[off] = old;
	}
	wire_buf_release(&b);
}

/* ---- the bounded list ---- */

static void test_list_cap_oldest_first(void **unused)
{
	struct wire_conn s[10];
	struct connlist l;
	size_t dropped;

	(void)unused;
	for (int i = 0; i < 10; i++)
		s[i] = conn4((uint8_t)i, (uint16_t)(1000 + i));
	connlist_init(&l, 4);
	/* first snapshot: 0..2, under the cap */
	assert_int_equal(connlist_update(&l, s, 3, &dropped), 1);
	assert_int_equal(connlist_count(&l), 3);
	assert_int_equal(dropped, 0);
	/* the same again: nothing changes */
	assert_int_equal(connlist_update(&l, s, 3, &dropped), 0);
	/* 0..5: the oldest (0, 1) are dropped, 2..5 listed, oldest first */
	assert_int_equal(connlist_update(&l, s, 6, &dropped), 1);
	assert_int_equal(connlist_count(&l), 4);
	assert_int_equal(dropped, 2);
	for (int i = 0; i < 4; i++)
		assert_int_equal(connlist_listed(&l)[i].c.cport, 1002 + i);
	/* the same over-cap snapshot in another order: the dropped ones keep
	 * their age and do not push the younger ones out (no churn) */
	{
		struct wire_conn r[6] = {s[5], s[0], s[3], s[1], s[4], s[2]};

		assert_int_equal(connlist_update(&l, r, 6, &dropped), 0);
		assert_int_equal(dropped, 2);
	}
	/* 2 and 3 close, 6..9 open: 6..9 are the newest four */
	assert_int_equal(connlist_update(&l, s, 2, NULL), 1);	/* only 0, 1 left */
	assert_int_equal(connlist_count(&l), 2);
	assert_int_equal(connlist_update(&l, s, 10, &dropped), 1);
	assert_int_equal(connlist_count(&l), 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(connlist_listed(&l)[i].c.cport, 1006 + i);
	assert_int_equal(dropped, 6);
	/* everything closes */
	assert_int_equal(connlist_update(&l, NULL, 0, &dropped), 1);
	assert_int_equal(connlist_count(&l), 0);
	connlist_clear(&l);
}

static void test_list_duplicates_and_bound(void **unused)
{
	enum { N = 5000 };
	struct wire_conn *s = calloc(N * 2, sizeof(*s));
	struct connlist l;

	(void)unused;
	for (int i = 0; i < N; i++) {
		s[i] = conn4((uint8_t)(i % 250), (uint16_t)i);
		s[N + i] = s[i];	/* each twice */
	}
	connlist_init(&l, 256);
	assert_int_equal(connlist_update(&l, s, N * 2, NULL), 1);
	assert_int_equal(connlist_count(&l), 256);
	assert_int_equal(l.n, N);	/* tracked once each */
	for (size_t i = 1; i < connlist_count(&l); i++)
		assert_true(connlist_listed(&l)[i - 1].seen < connlist_listed(&l)[i].seen);
	/* the listed ones are the last first-seen: ports N-256 .. N-1 */
	assert_int_equal(connlist_listed(&l)[0].c.cport, N - 256);
	connlist_clear(&l);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_total_cap),
		cmocka_unit_test(test_random_flips),
		cmocka_unit_test(test_list_cap_oldest_first),
		cmocka_unit_test(test_list_duplicates_and_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
