/*
 * Wire codec tests: round trips, and hostile input of every shape the
 * decoder promises to refuse (truncation at every length, bad header fields,
 * counts that lie, non-canonical addresses, trailing bytes, random flips).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/wire.h"

static struct res_addr addr4(uint8_t last)
{
	struct res_addr a = {.family = 4, .prefix = 24, .bytes = {192, 0, 2, last}};

	return a;
}

static void build_state(struct wire_buf *b)
{
	static char pools[2][CHORUS_NAME_MAX] = {"default", "nfs"};
	struct wire_decl decl[3] = {{addr4(1), 0}, {addr4(2), 1}, {addr4(3), 1}};
	struct wire_owned owned[2] = {{addr4(1), WIRE_OWN_HELD | WIRE_OWN_ASSIGNED},
				      {addr4(2), WIRE_OWN_RELEASING}};
	struct wire_decl ares[1] = {{addr4(9), 0}};
	struct wire_absent absent[1] = {{.nodeid = 7, .kind = WIRE_ABSENT_GRACE, .since = 44,
					 .n_res = 1, .res = ares}};
	uint32_t standby[2] = {3, 5};
	struct res_addr unserv[1] = {addr4(3)};
	struct wire_pin pins[1] = {{addr4(2), 3}};
	struct res_addr excl[2] = {addr4(2), addr4(9)};
	struct wire_decl fres[1] = {{addr4(2), 1}};
	struct wire_absent fence[1] = {{.nodeid = 8, .kind = WIRE_ABSENT_FENCE, .since = 45,
					.n_res = 1, .res = fres}};
	struct wire_node nodes[3] = {{1, WIRE_NODE_CONFIGURED | WIRE_NODE_SEEN},
				     {7, WIRE_NODE_SEEN}, {8, WIRE_NODE_CONFIGURED}};
	struct wire_set sets[2] = {{addr4(2), 0xdeadbeef}, {addr4(9), 7}};
	struct wire_state st = {
		.proto_max = 1, .node_flags = WIRE_NODE_LEAVING, .health = 0x10,
		.admin = {.generation = 12, .maintenance = 1, .n_standby = 2, .standby = standby,
			  .n_pins = 1, .pins = pins},
		.n_pools = 2, .pools = pools, .n_decl = 3, .decl = decl,
		.n_owned = 2, .owned = owned, .n_absent = 1, .absent = absent,
		.n_unserv = 1, .unserv = unserv,
		.n_excl = 2, .excl = excl, .n_fence = 1, .fence = fence,
		.n_nodes = 3, .nodes = nodes, .n_sets = 2, .sets = sets,
	};

	assert_int_equal(wire_encode_state(b, 1, 0xabcdef, 0x1234, &st), 0);
}

static void test_state_roundtrip(void **unused)
{
	struct wire_buf b;
	struct wire_hdr h;
	struct wire_state st;

	(void)unused;
	wire_buf_init(&b);
	build_state(&b);
	assert_int_equal(wire_decode_hdr(b.data, b.size, &h), 0);
	assert_int_equal(h.type, WIRE_STATE);
	assert_int_equal(h.token, 0xabcdef);
	assert_int_equal(h.incarnation, 0x1234);
	assert_int_equal(wire_decode_state(b.data, b.size, &st), 0);
	assert_int_equal(st.health, 0x10);
	assert_int_equal(st.node_flags, WIRE_NODE_LEAVING);
	assert_int_equal(st.admin.generation, 12);
	assert_int_equal(st.admin.maintenance, 1);
	assert_int_equal(st.admin.n_standby, 2);
	assert_int_equal(st.admin.standby[1], 5);
	assert_int_equal(st.admin.pins[0].nodeid, 3);
	assert_string_equal(st.pools[1], "nfs");
	assert_int_equal(st.n_decl, 3);
	assert_int_equal(st.decl[2].pool, 1);
	assert_int_equal(st.decl[2].addr.bytes[3], 3);
	assert_int_equal(st.owned[1].flags, WIRE_OWN_RELEASING);
	assert_int_equal(st.absent[0].nodeid, 7);
	assert_int_equal(st.absent[0].since, 44);
	assert_int_equal(st.absent[0].res[0].addr.bytes[3], 9);
	assert_int_equal(st.n_unserv, 1);
	assert_int_equal(st.unserv[0].bytes[3], 3);
	assert_int_equal(st.n_excl, 2);
	assert_int_equal(st.excl[1].bytes[3], 9);
	assert_int_equal(st.n_fence, 1);
	assert_int_equal(st.fence[0].nodeid, 8);
	assert_int_equal(st.fence[0].kind, WIRE_ABSENT_FENCE);
	assert_int_equal(st.fence[0].since, 45);
	assert_int_equal(st.fence[0].res[0].pool, 1);
	assert_int_equal(st.n_nodes, 3);
	assert_int_equal(st.nodes[2].nodeid, 8);
	assert_int_equal(st.nodes[0].flags, WIRE_NODE_CONFIGURED | WIRE_NODE_SEEN);
	assert_int_equal(st.n_sets, 2);
	assert_int_equal(st.sets[0].set, 0xdeadbeef);
	assert_int_equal(st.sets[1].addr.bytes[3], 9);
	assert_int_equal(st.sets[1].set, 7);
	wire_state_clear(&st);
	wire_buf_release(&b);
}

/* The node list of extension 4 must be strictly ascending with known
 * flags; a fence record's pool index must exist. */
static void test_brick_extensions_hostile(void **unused)
{
	static char pools[1][CHORUS_NAME_MAX] = {"default"};
	struct wire_node dup[2] = {{5, WIRE_NODE_SEEN}, {5, WIRE_NODE_SEEN}};
	struct wire_node badflag[1] = {{5, 0x80}};
	struct wire_set unsorted[2] = {{addr4(9), 1}, {addr4(2), 1}};
	struct wire_set zero[1] = {{addr4(2), 0}};
	struct wire_decl fres[1] = {{addr4(2), 3}};
	struct wire_absent fence[1] = {{.nodeid = 8, .kind = WIRE_ABSENT_FENCE, .since = 1,
					.n_res = 1, .res = fres}};
	struct wire_state st = {.proto_max = 3, .n_pools = 1, .pools = pools};
	struct wire_state out;
	struct wire_buf b;

	(void)unused;
	wire_buf_init(&b);
	st.n_nodes = 2;
	st.nodes = dup;
	assert_int_equal(wire_encode_state(&b, 1, 1, 1, &st), 0);
	assert_int_equal(wire_decode_state(b.data, b.size, &out), -EBADMSG);
	st.n_nodes = 1;
	st.nodes = badflag;
	assert_int_equal(wire_encode_state(&b, 1, 1, 1, &st), 0);
	assert_int_equal(wire_decode_state(b.data, b.size, &out), -EBADMSG);
	st.n_nodes = 0;
	/* extension 5: ascending addresses, no set 0 */
	st.n_sets = 2;
	st.sets = unsorted;
	assert_int_equal(wire_encode_state(&b, 1, 1, 1, &st), 0);
	assert_int_equal(wire_decode_state(b.data, b.size, &out), -EBADMSG);
	st.n_sets = 1;
	st.sets = zero;
	assert_int_equal(wire_encode_state(&b, 1, 1, 1, &st), 0);
	assert_int_equal(wire_decode_state(b.data, b.size, &out), -EBADMSG);
	st.n_sets = 0;
	st.n_nodes = 0;
	st.n_fence = 1;
	st.fence = fence;
	assert_int_equal(wire_encode_state(&b, 1, 1, 1, &st), 0);
	assert_int_equal(wire_decode_state(b.data, b.size, &out), -EBADMSG);
	fres[0].pool = 0;
	assert_int_equal(wire_encode_state(&b, 1, 1, 1, &st), 0);
	assert_int_equal(wire_decode_state(b.data, b.size, &out), 0);
	assert_int_equal(out.fence[0].kind, WIRE_ABSENT_FENCE);
	wire_state_clear(&out);
	wire_buf_release(&b);
}

static void test_small_roundtrip(void **unused)
{
	struct res_addr addrs[2] = {addr4(1), addr4(2)};
	uint32_t nodes[1] = {4};
	uint64_t inc[1] = {99};
	struct wire_small sm = {.value = 5, .n_addrs = 2, .addrs = addrs, .n_nodes = 1,
				.nodes = nodes, .incarnations = inc};
	struct wire_small out;
	struct wire_hdr h;
	struct wire_buf b;

	(void)unused;
	wire_buf_init(&b);
	assert_int_equal(wire_encode_small(&b, 1, WIRE_EXCLUDE, 7, 8, &sm), 0);
	assert_int_equal(wire_decode_hdr(b.data, b.size, &h), 0);
	assert_int_equal(h.type, WIRE_EXCLUDE);
	assert_int_equal(wire_decode_small(b.data, b.size, &out), 0);
	assert_int_equal(out.value, 5);
	assert_int_equal(out.n_addrs, 2);
	assert_int_equal(out.nodes[0], 4);
	assert_int_equal(out.incarnations[0], 99);
	wire_small_clear(&out);
	/* STATE cannot be sent as a small message */
	assert_int_equal(wire_encode_small(&b, 1, WIRE_STATE, 0, 0, &sm), -EINVAL);
	wire_buf_release(&b);
}

/* LOAD (version 4): round trip, every truncation refused, a count that
 * claims more entries than the bytes carry refused. */
static void test_load(void **unused)
{
	struct wire_load_ent ents[2] = {{addr4(1), 700, 12}, {addr4(2), 0, 0}};
	struct wire_load ld = {.n = 2, .ents = ents}, out;
	struct wire_hdr h;
	struct wire_buf b;

	(void)unused;
	wire_buf_init(&b);
	assert_int_equal(wire_encode_load(&b, 7, 8, &ld), 0);
	assert_int_equal(wire_decode_hdr(b.data, b.size, &h), 0);
	assert_int_equal(h.type, WIRE_LOAD);
	assert_int_equal(h.version, 4);
	assert_int_equal(wire_decode_load(b.data, b.size, &out), 0);
	assert_int_equal(out.n, 2);
	assert_int_equal(out.ents[0].load, 700);
	assert_int_equal(out.ents[0].conns, 12);
	assert_int_equal(res_addr_cmp(&out.ents[1].addr, &ents[1].addr), 0);
	wire_load_clear(&out);
	for (size_t n = WIRE_HDR_SIZE; n < b.size; n++)
		assert_int_equal(wire_decode_load(b.data, n, &out), -EBADMSG);
	b.data[WIRE_HDR_SIZE] = 200;	/* count 200, two entries present */
	assert_int_equal(wire_decode_load(b.data, b.size, &out), -EBADMSG);
	wire_buf_release(&b);
}

/* Every prefix of a valid message is refused: by the header check (size
 * mismatch) and, with a patched size, by the body decoder. */
static void test_truncation(void **unused)
{
	struct wire_buf b;

	(void)unused;
	wire_buf_init(&b);
	build_state(&b);
	for (size_t n = 0; n < b.size; n++) {
		struct wire_hdr h;
		uint8_t *copy = malloc(n ? n : 1);
		struct wire_state st;
		uint32_t body = n > WIRE_HDR_SIZE ? (uint32_t)(n - WIRE_HDR_SIZE) : 0;

		memcpy(copy, b.data, n);
		assert_int_equal(wire_decode_hdr(copy, n, &h), -EBADMSG);
		if (n >= WIRE_HDR_SIZE) {
			for (int i = 0; i < 4; i++)
				copy[8 + i] = (uint8_t)(body >> (8 * i));
			assert_int_equal(wire_decode_hdr(copy, n, &h), 0);
			assert_int_equal(wire_decode_state(copy, n, &st), -EBADMSG);
		}
		free(copy);
	}
	wire_buf_release(&b);
}

static void test_bad_header(void **unused)
{
	struct wire_buf b;
	struct wire_hdr h;

	(void)unused;
	wire_buf_init(&b);
	build_state(&b);
	b.data[0] ^= 1;		/* magic */
	assert_int_equal(wire_decode_hdr(b.data, b.size, &h), -EBADMSG);
	b.data[0] ^= 1;
	b.data[4] = WIRE_VERSION_MAX + 1;	/* version */
	assert_int_equal(wire_decode_hdr(b.data, b.size, &h), -EBADMSG);
	b.data[4] = 1;
	b.data[6] = 0;		/* type 0 */
	assert_int_equal(wire_decode_hdr(b.data, b.size, &h), -EBADMSG);
	b.data[6] = WIRE_TYPE_MAX + 1;
	assert_int_equal(wire_decode_hdr(b.data, b.size, &h), -EBADMSG);
	b.data[6] = WIRE_STATE;
	b.data[12] = 1;		/* reserved must be zero */
	assert_int_equal(wire_decode_hdr(b.data, b.size, &h), -EBADMSG);
	b.data[12] = 0;
	assert_int_equal(wire_decode_hdr(b.data, b.size, &h), 0);
	assert_int_equal(wire_decode_hdr(NULL, 0, &h), -EBADMSG);
	wire_buf_release(&b);
}

/* A count that claims more elements than bytes remain is refused before
 * anything is allocated for it. */
static void test_lying_counts(void **unused)
{
	struct wire_small sm = {0};
	struct wire_buf b;
	struct wire_small out;

	(void)unused;
	wire_buf_init(&b);
	assert_int_equal(wire_encode_small(&b, 1, WIRE_RELEASED, 0, 1, &sm), 0);
	/* n_addrs sits right after value */
	b.data[WIRE_HDR_SIZE + 4] = 0xff;
	b.data[WIRE_HDR_SIZE + 5] = 0xff;
	assert_int_equal(wire_decode_small(b.data, b.size, &out), -EBADMSG);
	b.data[WIRE_HDR_SIZE + 4] = 1;
	b.data[WIRE_HDR_SIZE + 5] = 0;
	assert_int_equal(wire_decode_small(b.data, b.size, &out), -EBADMSG);
	wire_buf_release(&b);
}

static void test_noncanonical_address(void **unused)
{
	struct res_addr a = addr4(1);
	struct wire_small sm = {.n_addrs = 1, .addrs = &a};
	struct wire_buf b;
	struct wire_small out;
	size_t off = WIRE_HDR_SIZE + 8;	/* value, n_addrs */

	(void)unused;
	wire_buf_init(&b);
	assert_int_equal(wire_encode_small(&b, 1, WIRE_RELEASED, 0, 1, &sm), 0);
	assert_int_equal(wire_decode_small(b.data, b.size, &out), 0);
	wire_small_clear(&out);
	b.data[off + 2 + 10] = 1;	/* junk in IPv4 padding */
	assert_int_equal(wire_decode_small(b.data, b.size, &out), -EBADMSG);
	b.data[off + 2 + 10] = 0;
	b.data[off + 1] = 33;		/* prefix */
	assert_int_equal(wire_decode_small(b.data, b.size, &out), -EBADMSG);
	b.data[off + 1] = 24;
	b.data[off] = 5;		/* family */
	assert_int_equal(wire_decode_small(b.data, b.size, &out), -EBADMSG);
	wire_buf_release(&b);
}

static void test_trailing_bytes(void **unused)
{
	struct wire_buf b;
	struct wire_state st;
	uint8_t *big;
	uint32_t body;

	(void)unused;
	wire_buf_init(&b);
	build_state(&b);
	big = calloc(1, b.size + 1);
	memcpy(big, b.data, b.size);
	body = (uint32_t)(b.size + 1 - WIRE_HDR_SIZE);
	for (int i = 0; i < 4; i++)
		big[8 + i] = (uint8_t)(body >> (8 * i));
	assert_int_equal(wire_decode_state(big, b.size + 1, &st), -EBADMSG);
	free(big);
	wire_buf_release(&b);
}

/* Random single-byte corruption of a valid STATE: the decoder either
 * accepts (the flip hit a free-valued field) or refuses; it never reads out
 * of bounds (ASan in CI) and never leaks. */
static void test_random_flips(void **unused)
{
	struct wire_buf b;
	uint64_t x = 0x9e3779b97f4a7c15ull;

	(void)unused;
	wire_buf_init(&b);
	build_state(&b);
	for (int k = 0; k < 20000; k++) {
		uint8_t *copy = malloc(b.size);
		struct wire_hdr h;
		struct wire_state st;
		size_t pos;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(copy, b.data, b.size);
		pos = (size_t)(x % b.size);
		copy[pos] ^= (uint8_t)(x >> 32) | 1;
		if (wire_decode_hdr(copy, b.size, &h) == 0 && h.type == WIRE_STATE &&
		    wire_decode_state(copy, b.size, &st) == 0)
			wire_state_clear(&st);
		free(copy);
	}
	wire_buf_release(&b);
}

/* A STATE from a newer version may carry extensions we do not know: they
 * are skipped by length; an extension whose length lies is refused. */
static void test_unknown_extension(void **unused)
{
	struct wire_state st0 = {.proto_max = 3};
	struct wire_state st;
	struct wire_buf b;
	uint8_t *big;
	size_t n;
	uint32_t body;
	static const uint8_t ext[] = {0x63, 0x00, 3, 0, 0, 0, 'a', 'b', 'c'};

	(void)unused;
	wire_buf_init(&b);
	assert_int_equal(wire_encode_state(&b, 1, 1, 1, &st0), 0);
	/* the last 4 bytes are the extension count (0): make it 1 + append */
	n = b.size + sizeof(ext);
	big = malloc(n);
	memcpy(big, b.data, b.size);
	big[b.size - 4] = 1;
	memcpy(big + b.size, ext, sizeof(ext));
	body = (uint32_t)(n - WIRE_HDR_SIZE);
	for (int i = 0; i < 4; i++)
		big[8 + i] = (uint8_t)(body >> (8 * i));
	assert_int_equal(wire_decode_state(big, n, &st), 0);
	assert_int_equal(st.proto_max, 3);
	assert_int_equal(st.n_unserv, 0);
	wire_state_clear(&st);
	big[b.size + 2] = 200;	/* length beyond the message */
	assert_int_equal(wire_decode_state(big, n, &st), -EBADMSG);
	free(big);
	wire_buf_release(&b);
}

static struct res_addr a4(uint8_t last)
{
	struct res_addr a = {.family = 4, .prefix = 24, .bytes = {10, 0, 0, last}};

	return a;
}

/* Version 6: the sender's failure timing and its hold-offs round-trip;
 * hold-offs must be ascending and name a node; SUSPECT is a small body. */
static void test_liveness_extensions(void **unused)
{
	struct wire_holdoff ho[2] = {{a4(1), 3, 2500}, {a4(2), 3, UINT32_MAX}};
	struct wire_state st0 = {.proto_max = 6, .has_timing = true,
				 .timing = {2500, 100, 1000, 1300},
				 .n_holdoffs = 2, .holdoffs = ho};
	struct wire_state st;
	struct wire_small sm0 = {.value = 17, .n_nodes = 1}, sm;
	uint32_t node = 4;
	uint64_t pid = 4242;
	struct wire_hdr h;
	struct wire_buf b;

	(void)unused;
	wire_buf_init(&b);
	assert_int_equal(wire_encode_state(&b, 1, 9, 1, &st0), 0);
	assert_int_equal(wire_decode_state(b.data, b.size, &st), 0);
	assert_true(st.has_timing);
	assert_int_equal(st.timing.quiet_ms, 2500);
	assert_int_equal(st.timing.heartbeat_ms, 100);
	assert_int_equal(st.timing.lifetime_ms, 1000);
	assert_int_equal(st.timing.margin_ms, 1300);
	assert_int_equal(st.n_holdoffs, 2);
	assert_int_equal(st.holdoffs[1].remaining_ms, UINT32_MAX);
	assert_int_equal(res_addr_cmp(&st.holdoffs[0].addr, &ho[0].addr), 0);
	wire_state_clear(&st);

	/* out of order, repeated, or nobody's: refused */
	ho[1].addr = a4(1);
	assert_int_equal(wire_encode_state(&b, 1, 9, 1, &st0), 0);
	assert_int_equal(wire_decode_state(b.data, b.size, &st), -EBADMSG);
	ho[1].addr = a4(0);
	assert_int_equal(wire_encode_state(&b, 1, 9, 1, &st0), 0);
	assert_int_equal(wire_decode_state(b.data, b.size, &st), -EBADMSG);
	ho[1].addr = a4(2);
	ho[0].nodeid = 0;
	assert_int_equal(wire_encode_state(&b, 1, 9, 1, &st0), 0);
	assert_int_equal(wire_decode_state(b.data, b.size, &st), -EBADMSG);

	sm0.nodes = &node;
	sm0.incarnations = &pid;
	assert_int_equal(wire_encode_small(&b, 6, WIRE_SUSPECT, 77, 1, &sm0), 0);
	assert_int_equal(wire_decode_hdr(b.data, b.size, &h), 0);
	assert_int_equal(h.type, WIRE_SUSPECT);
	assert_int_equal(h.version, 6);
	assert_string_equal(wire_type_name(h.type), "SUSPECT");
	assert_int_equal(wire_decode_small(b.data, b.size, &sm), 0);
	assert_int_equal(sm.value, 17);
	assert_int_equal(sm.nodes[0], 4);
	assert_int_equal(sm.incarnations[0], 4242);
	wire_small_clear(&sm);
	wire_buf_release(&b);
}

/* A later version may add fields after the four of extension 6: a reader
 * takes the four it knows; fewer than four is a lie. */
static void test_timing_extension_longer(void **unused)
{
	struct wire_state st0 = {.proto_max = 6};
	struct wire_state st;
	struct wire_buf b;
	uint8_t *big;
	size_t n;
	uint32_t body;
	static const uint8_t ext[] = {6, 0, 20, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0,
				      3, 0, 0, 0, 4, 0, 0, 0, 9, 9, 9, 9};

	(void)unused;
	wire_buf_init(&b);
	assert_int_equal(wire_encode_state(&b, 1, 1, 1, &st0), 0);
	n = b.size + sizeof(ext);
	big = malloc(n);
	memcpy(big, b.data, b.size);
	big[b.size - 4] = 1;
	memcpy(big + b.size, ext, sizeof(ext));
	body = (uint32_t)(n - WIRE_HDR_SIZE);
	for (int i = 0; i < 4; i++)
		big[8 + i] = (uint8_t)(body >> (8 * i));
	assert_int_equal(wire_decode_state(big, n, &st), 0);
	assert_true(st.has_timing);
	assert_int_equal(st.timing.margin_ms, 4);
	wire_state_clear(&st);
	big[b.size + 2] = 12;	/* three fields only */
	body = (uint32_t)(b.size + 6 + 12 - WIRE_HDR_SIZE);
	for (int i = 0; i < 4; i++)
		big[8 + i] = (uint8_t)(body >> (8 * i));
	assert_int_equal(wire_decode_state(big, b.size + 6 + 12, &st), -EBADMSG);
	free(big);
	wire_buf_release(&b);
}

/* Extension 8: configuration digests round-trip; more than WIRE_MAX_CONF,
 * a count the body does not hold, or the extension twice is refused; a
 * reader that predates it skips it (the type is unknown there: simulated
 * by checking that extension 8 is self-delimiting, with a known one after). */
static void test_config_extension(void **unused)
{
	struct wire_state st0 = {.proto_max = 7, .has_timing = true, .timing = {1, 2, 3, 4},
				 .n_conf = 3, .conf = {1, UINT64_MAX, 0x0123456789abcdefull}};
	struct wire_state st;
	struct wire_buf b;
	size_t off;

	(void)unused;
	wire_buf_init(&b);
	assert_int_equal(wire_encode_state(&b, 1, 9, 1, &st0), 0);
	assert_int_equal(wire_decode_state(b.data, b.size, &st), 0);
	assert_int_equal(st.n_conf, 3);
	assert_true(st.conf[1] == UINT64_MAX);
	assert_true(st.conf[2] == 0x0123456789abcdefull);
	assert_true(st.has_timing);
	wire_state_clear(&st);

	/* the extension is the last thing written: its count is the 4 bytes
	 * before the 3 digests; claim 4 digests, then 33 */
	off = b.size - 3 * 8 - 4;
	assert_int_equal(b.data[off], 3);
	b.data[off] = 4;
	assert_int_equal(wire_decode_state(b.data, b.size, &st), -EBADMSG);
	b.data[off] = 33;
	assert_int_equal(wire_decode_state(b.data, b.size, &st), -EBADMSG);
	b.data[off] = 3;
	assert_int_equal(wire_decode_state(b.data, b.size, &st), 0);
	wire_state_clear(&st);

	st0.n_conf = WIRE_MAX_CONF + 1;
	assert_int_equal(wire_encode_state(&b, 1, 9, 1, &st0), -EMSGSIZE);
	wire_buf_release(&b);
}

/* Encode 'st' and expect the decoder to refuse it. */
static void expect_state_bad(const struct wire_state *st)
{
	struct wire_state out;
	struct wire_buf b;

	wire_buf_init(&b);
	assert_int_equal(wire_encode_state(&b, 1, 1, 1, st), 0);
	assert_int_equal(wire_decode_state(b.data, b.size, &out), -EBADMSG);
	wire_buf_release(&b);
}

static void expect_state_ok(const struct wire_state *st)
{
	struct wire_state out;
	struct wire_buf b;

	wire_buf_init(&b);
	assert_int_equal(wire_encode_state(&b, 1, 1, 1, st), 0);
	assert_int_equal(wire_decode_state(b.data, b.size, &out), 0);
	wire_state_clear(&out);
	wire_buf_release(&b);
}

/*
 * Every ordering and uniqueness rule wire.h documents is the decoder's to
 * enforce: the core (admin.c's sorted insert and remove, the merges) relies
 * on them, and a sender that breaks one is not a chorusd.  Pins out of
 * order or one address pinned twice let a later unpin leave a stale pin in
 * effect (issue 15).
 */
static void test_order_rules(void **unused)
{
	struct wire_pin asc[2] = {{addr4(2), 3}, {addr4(7), 3}};
	struct wire_pin desc[2] = {{addr4(7), 3}, {addr4(2), 3}};
	struct wire_pin twice[2] = {{addr4(2), 3}, {addr4(2), 4}};
	struct wire_pin node0[1] = {{addr4(2), 0}};
	struct res_addr a2_32 = addr4(2);
	struct wire_pin twice_prefix[2] = {{addr4(2), 3}, {a2_32, 4}};
	uint32_t sb_desc[2] = {5, 3}, sb_dup[2] = {3, 3}, sb_zero[1] = {0}, sb_ok[2] = {3, 5};
	struct wire_state st = {.proto_max = 5};

	(void)unused;
	a2_32.prefix = 32;
	twice_prefix[1].addr = a2_32;	/* the prefix is not part of an identity */
	st.admin.n_pins = 2;
	st.admin.pins = asc;
	expect_state_ok(&st);
	st.admin.pins = desc;
	expect_state_bad(&st);
	st.admin.pins = twice;
	expect_state_bad(&st);
	st.admin.pins = twice_prefix;
	expect_state_bad(&st);
	st.admin.n_pins = 1;
	st.admin.pins = node0;
	expect_state_bad(&st);
	st.admin.n_pins = 0;

	st.admin.n_standby = 2;
	st.admin.standby = sb_ok;
	expect_state_ok(&st);
	st.admin.standby = sb_desc;
	expect_state_bad(&st);
	st.admin.standby = sb_dup;
	expect_state_bad(&st);
	st.admin.n_standby = 1;
	st.admin.standby = sb_zero;
	expect_state_bad(&st);
	st.admin.n_standby = 0;

	/* sender flags: only those wire.h defines (a layout never changes) */
	st.node_flags = WIRE_NODE_LEAVING | WIRE_NODE_UNSERV_PENDING;
	expect_state_ok(&st);
	st.node_flags = 0x4;
	expect_state_bad(&st);
}

/* An extension wire.h defines appears at most once: a second copy would be
 * read by nobody (first wins) and is not something a chorusd writes. */
static void test_repeated_extension(void **unused)
{
	struct res_addr unserv[1] = {addr4(3)};
	struct wire_state st = {.proto_max = 3, .n_unserv = 1, .unserv = unserv}, out;
	struct wire_buf b;
	uint8_t *big;
	size_t ext, n;
	uint32_t body;

	(void)unused;
	wire_buf_init(&b);
	assert_int_equal(wire_encode_state(&b, 1, 1, 1, &st), 0);
	/* the message ends with: count (1) | type u16 | len u32 | 4 + 18 bytes */
	ext = 2 + 4 + 4 + 18;
	n = b.size + ext;
	big = malloc(n);
	assert_non_null(big);
	memcpy(big, b.data, b.size);
	memcpy(big + b.size, b.data + b.size - ext, ext);
	assert_int_equal(big[b.size - ext - 4], 1);
	big[b.size - ext - 4] = 2;
	body = (uint32_t)(n - WIRE_HDR_SIZE);
	for (int i = 0; i < 4; i++)
		big[8 + i] = (uint8_t)(body >> (8 * i));
	assert_int_equal(wire_decode_state(big, n, &out), -EBADMSG);
	/* the same bytes as an unknown (newer) type twice are skipped */
	big[b.size - ext] = 0x63;
	big[b.size] = 0x63;
	assert_int_equal(wire_decode_state(big, n, &out), 0);
	assert_int_equal(out.n_unserv, 0);
	wire_state_clear(&out);
	free(big);
	wire_buf_release(&b);
}

/* LOAD: "one entry per address": in any order, but each address once. */
/* The search every address-keyed table of the core uses: found, every
 * insertion point (before, between, after), IPv4 before IPv6, and the empty
 * table, against a linear scan. */
static void test_addr_search(void **state)
{
	struct ent {
		uint32_t pad;
		struct res_addr addr;
	} v[5];
	const char *in[] = {"10.0.0.2/24", "10.0.0.9/24", "10.1.0.0/16", "2001:db8::1/64",
			    "2001:db8::9/64"};
	const char *probe[] = {"10.0.0.1/32", "10.0.0.2/32", "10.0.0.5/32", "10.0.0.9/32",
			       "10.1.0.0/32", "192.168.0.1/32", "::1/128", "2001:db8::1/128",
			       "2001:db8::5/128", "2001:db8::9/128", "fe80::1/128"};

	(void)state;
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(res_addr_parse(in[i], &v[i].addr), 0);
	for (size_t p = 0; p < sizeof(probe) / sizeof(probe[0]); p++) {
		struct res_addr k;
		long want = -1, got;
		size_t ins = 0;

		assert_int_equal(res_addr_parse(probe[p], &k), 0);
		for (size_t i = 0; i < 5; i++) {
			if (res_addr_cmp(&v[i].addr, &k) == 0)
				want = (long)i;
			if (res_addr_cmp(&v[i].addr, &k) < 0)
				ins = i + 1;
		}
		if (want < 0)
			want = -(long)ins - 1;
		got = RES_ADDR_SEARCH(v, 5, addr, &k);
		assert_int_equal(got, want);
		assert_int_equal(RES_ADDR_SEARCH(v, 0, addr, &k), -1);
	}
}

/* The merge of replicated address sets: sorted, one per address, and the
 * first in input order wins (a set's lowest declarer). */
static void test_addr_sort_unique(void **state)
{
	struct ent {
		uint32_t tag;
		struct res_addr addr;
	} v[6];
	const char *in[] = {"10.0.0.9/24", "2001:db8::1/64", "10.0.0.2/24", "10.0.0.9/24",
			    "10.0.0.2/24", "10.0.0.9/24"};
	const char *want[] = {"10.0.0.2/24", "10.0.0.9/24", "2001:db8::1/64"};
	const uint32_t want_tag[] = {2, 0, 1};

	(void)state;
	for (size_t i = 0; i < 6; i++) {
		v[i].tag = (uint32_t)i;
		assert_int_equal(res_addr_parse(in[i], &v[i].addr), 0);
	}
	assert_int_equal(res_addr_sort_unique(v, 6, sizeof(*v), offsetof(struct ent, addr)), 3);
	for (size_t i = 0; i < 3; i++) {
		struct res_addr w;

		assert_int_equal(res_addr_parse(want[i], &w), 0);
		assert_int_equal(res_addr_cmp(&v[i].addr, &w), 0);
		assert_int_equal(v[i].tag, want_tag[i]);
	}
	assert_int_equal(res_addr_sort_unique(v, 1, sizeof(*v), offsetof(struct ent, addr)), 1);
	assert_int_equal(res_addr_sort_unique(v, 0, sizeof(*v), offsetof(struct ent, addr)), 0);
}

static void test_load_unique(void **unused)
{
	struct wire_load_ent ents[3] = {{addr4(5), 1, 1}, {addr4(1), 2, 2}, {addr4(9), 3, 3}};
	struct wire_load ld = {.n = 3, .ents = ents}, out;
	struct wire_buf b;

	(void)unused;
	wire_buf_init(&b);
	assert_int_equal(wire_encode_load(&b, 7, 8, &ld), 0);
	assert_int_equal(wire_decode_load(b.data, b.size, &out), 0);
	wire_load_clear(&out);
	ents[2].addr = addr4(5);
	ents[2].addr.prefix = 32;
	assert_int_equal(wire_encode_load(&b, 7, 8, &ld), 0);
	assert_int_equal(wire_decode_load(b.data, b.size, &out), -EBADMSG);
	wire_buf_release(&b);
}

static void test_encode_limits(void **unused)
{
	struct wire_state st = {0};
	struct wire_buf b;

	(void)unused;
	wire_buf_init(&b);
	st.n_decl = WIRE_MAX_RES + 1;
	assert_int_equal(wire_encode_state(&b, 1, 1, 1, &st), -EMSGSIZE);
	wire_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_roundtrip),
		cmocka_unit_test(test_small_roundtrip),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_lying_counts),
		cmocka_unit_test(test_noncanonical_address),
		cmocka_unit_test(test_trailing_bytes),
		cmocka_unit_test(test_random_flips),
		cmocka_unit_test(test_unknown_extension),
		cmocka_unit_test(test_encode_limits),
		cmocka_unit_test(test_liveness_extensions),
		cmocka_unit_test(test_timing_extension_longer),
		cmocka_unit_test(test_config_extension),
		cmocka_unit_test(test_brick_extensions_hostile),
		cmocka_unit_test(test_order_rules),
		cmocka_unit_test(test_repeated_extension),
		cmocka_unit_test(test_load_unique),
		cmocka_unit_test(test_addr_search),
		cmocka_unit_test(test_addr_sort_unique),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
