/*
 * libFuzzer target for the CPG wire decoder (coordinator/core/wire.c), the
 * code that sees every byte another node sends.
 *
 * Beyond what the sanitizers catch, it checks a round trip: whatever decodes
 * must encode again to bytes that decode to the same thing, so the decoder
 * cannot accept a message the encoder would never produce differently; and
 * that what decodes keeps wire.h's ordering and uniqueness rules.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What wire.h promises about a decoded STATE, checked on every one the
 * decoder accepts: ordered lists strictly ascending, nothing twice. */
static void check_state_rules(const struct wire_state *st)
{
	const struct wire_admin *ad = &st->admin;

	assert((st->node_flags & ~(WIRE_NODE_LEAVING | WIRE_NODE_UNSERV_PENDING)) == 0);
	for (uint32_t i = 0; i < ad->n_standby; i++)
		assert(ad->standby[i] != 0 && (i == 0 || ad->standby[i - 1] < ad->standby[i]));
	for (uint32_t i = 0; i < ad->n_pins; i++)
		assert(ad->pins[i].nodeid != 0 &&
		       (i == 0 || res_addr_cmp(&ad->pins[i - 1].addr, &ad->pins[i].addr) < 0));
	for (uint32_t i = 1; i < st->n_nodes; i++)
		assert(st->nodes[i - 1].nodeid < st->nodes[i].nodeid);
	for (uint32_t i = 1; i < st->n_sets; i++)
		assert(res_addr_cmp(&st->sets[i - 1].addr, &st->sets[i].addr) < 0);
}

static void check_load_rules(const struct wire_load *ld)
{
	for (uint32_t i = 0; i < ld->n; i++)
		for (uint32_t k = 0; k < i; k++)
			assert(res_addr_cmp(&ld->ents[k].addr, &ld->ents[i].addr) != 0);
}

static void roundtrip_state(const struct wire_hdr *h, const struct wire_state *st)
{
	struct wire_buf b;
	struct wire_state again;

	wire_buf_init(&b);
	assert(wire_encode_state(&b, h->version, h->token, h->incarnation, st) == 0);
	assert(wire_decode_state(b.data, b.size, &again) == 0);
	assert(again.n_decl == st->n_decl && again.n_owned == st->n_owned);
	assert(again.n_absent == st->n_absent && again.n_unserv == st->n_unserv);
	assert(again.admin.generation == st->admin.generation);
	for (uint32_t i = 0; i < st->n_decl; i++)
		assert(res_addr_cmp(&again.decl[i].addr, &st->decl[i].addr) == 0);
	wire_state_clear(&again);
	wire_buf_release(&b);
}

/* CONNS bodies are canonical too; the header's token is not part of them
 * (the encoder writes 0), so only the body is compared. */
static void roundtrip_conns(const struct wire_hdr *h, const uint8_t *data, size_t size)
{
	struct wire_conns cs, again;
	struct wire_buf b;

	if (wire_decode_conns(data, size, &cs) < 0)
		return;
	wire_buf_init(&b);
	assert(wire_encode_conns(&b, h->version, h->incarnation, &cs) == 0);
	assert(b.size == size && memcmp(b.data + WIRE_HDR_SIZE, data + WIRE_HDR_SIZE,
					size - WIRE_HDR_SIZE) == 0);
	assert(wire_decode_conns(b.data, b.size, &again) == 0);
	assert(again.n_vips == cs.n_vips);
	wire_conns_clear(&again);
	wire_conns_clear(&cs);
	wire_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_hdr h;

	if (wire_decode_hdr(data, size, &h) < 0)
		return 0;
	if (h.type == WIRE_CONNS)
		roundtrip_conns(&h, data, size);
	if (h.type == WIRE_LOAD) {
		struct wire_load ld, again;
		struct wire_buf b;

		if (wire_decode_load(data, size, &ld) == 0) {
			check_load_rules(&ld);
			wire_buf_init(&b);
			assert(wire_encode_load(&b, h.token, h.incarnation, &ld) == 0);
			/* canonical too, but the encoder always writes version 4 */
			assert(b.size == size);
			memcpy(b.data + 4, data + 4, 2);
			assert(memcmp(b.data, data, size) == 0);
			assert(wire_decode_load(b.data, b.size, &again) == 0);
			wire_load_clear(&again);
			wire_buf_release(&b);
			wire_load_clear(&ld);
		}
	} else if (h.type == WIRE_STATE) {
		struct wire_state st;

		if (wire_decode_state(data, size, &st) == 0) {
			check_state_rules(&st);
			roundtrip_state(&h, &st);
			wire_state_clear(&st);
		}
	} else {
		struct wire_small sm, again;
		struct wire_buf b;

		if (wire_decode_small(data, size, &sm) == 0) {
			wire_buf_init(&b);
			assert(wire_encode_small(&b, h.version, (enum wire_type)h.type, h.token,
						 h.incarnation, &sm) == 0);
			/* small messages are canonical: the same bytes come back */
			assert(b.size == size && memcmp(b.data, data, size) == 0);
			assert(wire_decode_small(b.data, b.size, &again) == 0);
			wire_small_clear(&again);
			wire_buf_release(&b);
			wire_small_clear(&sm);
		}
	}
	return 0;
}
