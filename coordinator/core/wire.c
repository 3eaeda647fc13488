/*
 * Wire codec.  See wire.h for the format and the trust rules.
 *
 * Writing goes through a sticky-error buffer so encoders read straight
 * through; reading goes through a cursor whose getters return zero once the
 * cursor has run out and remember that, so a decoder checks the cursor once
 * per variable part instead of after every field, and can never read past
 * the end.
 */
#include "core/wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ADDR_WIRE_SIZE 18	/* family, prefix, 16 address bytes */

void wire_buf_init(struct wire_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void wire_buf_release(struct wire_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static void buf_reserve(struct wire_buf *b, size_t more)
{
	size_t need, cap;
	uint8_t *p;

	if (b->err)
		return;
	need = b->size + more;
	if (need > WIRE_MSG_MAX) {
		b->err = -EMSGSIZE;
		return;
	}
	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (p == NULL) {
		b->err = -ENOMEM;
		return;
	}
	b->data = p;
	b->cap = cap;
}

static void put_bytes(struct wire_buf *b, const void *src, size_t n)
{
	buf_reserve(b, n);
	if (b->err)
		return;
	memcpy(b->data + b->size, src, n);
	b->size += n;
}

static void put_u8(struct wire_buf *b, uint8_t v)
{
	put_bytes(b, &v, 1);
}

static void put_u16(struct wire_buf *b, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

	put_bytes(b, x, 2);
}

static void put_u32(struct wire_buf *b, uint32_t v)
{
	uint8_t x[4];

	for (int i = 0; i < 4; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	put_bytes(b, x, 4);
}

static void put_u64(struct wire_buf *b, uint64_t v)
{
	uint8_t x[8];

	for (int i = 0; i < 8; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	put_bytes(b, x, 8);
}

static void put_addr(struct wire_buf *b, const struct res_addr *a)
{
	put_u8(b, a->family);
	put_u8(b, a->prefix);
	put_bytes(b, a->bytes, 16);
}

static void put_hdr(struct wire_buf *b, uint16_t version, uint16_t type,
		    uint64_t token, uint64_t incarnation)
{
	b->size = 0;
	b->err = 0;
	put_u32(b, WIRE_MAGIC);
	put_u16(b, version);
	put_u16(b, type);
	put_u32(b, 0);		/* body size, patched by finish_hdr */
	put_u32(b, 0);
	put_u64(b, token);
	put_u64(b, incarnation);
}

static int finish_hdr(struct wire_buf *b)
{
	uint32_t body;

	if (b->err)
		return b->err;
	body = (uint32_t)(b->size - WIRE_HDR_SIZE);
	for (int i = 0; i < 4; i++)
		b->data[8 + i] = (uint8_t)(body >> (8 * i));
	return 0;
}

/* ---- reading ---- */

struct rd {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static const uint8_t *take(struct rd *r, size_t n)
{
	const uint8_t *p;

	if (r->bad || r->left < n) {
		r->bad = true;
		return NULL;
	}
	p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

static uint8_t get_u8(struct rd *r)
{
	const uint8_t *p = take(r, 1);

	return p ? p[0] : 0;
}

static uint16_t get_u16(struct rd *r)
{
	const uint8_t *p = take(r, 2);

	return p ? (uint16_t)(p[0] | (p[1] << 8)) : 0;
}

static uint32_t get_u32(struct rd *r)
{
	const uint8_t *p = take(r, 4);
	uint32_t v = 0;

	if (p == NULL)
		return 0;
	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t get_u64(struct rd *r)
{
	const uint8_t *p = take(r, 8);
	uint64_t v = 0;

	if (p == NULL)
		return 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* An address is only accepted in canonical form: a known family, a prefix
 * in range, and for IPv4 zero padding, so two encodings of one address can
 * never compare different.  'p' has ADDR_WIRE_SIZE bytes; false: not
 * canonical. */
static bool addr_at(const uint8_t *p, struct res_addr *a)
{
	uint64_t pad8;
	uint32_t pad4;

	a->family = p[0];
	a->prefix = p[1];
	memcpy(a->bytes, p + 2, 16);
	if (a->family == 4) {
		memcpy(&pad4, p + 6, 4);
		memcpy(&pad8, p + 10, 8);
		return a->prefix <= 32 && (pad4 | pad8) == 0;
	}
	return a->family == 6 && a->prefix <= 128;
}

static void get_addr(struct rd *r, struct res_addr *a)
{
	const uint8_t *p = take(r, ADDR_WIRE_SIZE);

	if (p == NULL) {
		memset(a, 0, sizeof(*a));
		return;
	}
	if (!addr_at(p, a))
		r->bad = true;
}

/* Read a count and check it against 'max' and against the bytes left, given
 * that each element takes at least 'min_elem' bytes.  The second check stops
 * a small message from making us allocate for a huge claimed count. */
static uint32_t get_count(struct rd *r, uint32_t max, size_t min_elem)
{
	uint32_t n = get_u32(r);

	if (r->bad)
		return 0;
	if (n > max || (min_elem && (size_t)n > r->left / min_elem)) {
		r->bad = true;
		return 0;
	}
	return n;
}

static void *alloc_n(struct rd *r, uint32_t n, size_t elem, bool *oom)
{
	void *p;

	if (r->bad || n == 0)
		return NULL;
	p = calloc(n, elem);
	if (p == NULL)
		*oom = true;
	return p;
}

/* The same, not zeroed, for lists whose decoder writes every byte of every
 * element before anyone reads it (a failed decode frees it unread): the
 * declarations are 200 KB a STATE at 10,000 addresses, and a round decodes
 * one per member. */
static void *alloc_n_raw(struct rd *r, uint32_t n, size_t elem, bool *oom)
{
	void *p;

	if (r->bad || n == 0)
		return NULL;
	p = malloc((size_t)n * elem);
	if (p == NULL)
		*oom = true;
	return p;
}

int wire_decode_hdr(const void *buf, size_t size, struct wire_hdr *hdr)
{
	struct rd r = {buf, size, false};
	uint32_t magic, reserved;

	if (buf == NULL || size < WIRE_HDR_SIZE || size > WIRE_MSG_MAX)
		return -EBADMSG;
	magic = get_u32(&r);
	hdr->version = get_u16(&r);
	hdr->type = get_u16(&r);
	hdr->body_size = get_u32(&r);
	reserved = get_u32(&r);
	hdr->token = get_u64(&r);
	hdr->incarnation = get_u64(&r);
	if (r.bad || magic != WIRE_MAGIC || reserved != 0)
		return -EBADMSG;
	if (hdr->version < WIRE_VERSION_MIN || hdr->version > WIRE_VERSION_MAX)
		return -EBADMSG;
	if (hdr->type < 1 || hdr->type > WIRE_TYPE_MAX)
		return -EBADMSG;
	if ((size_t)hdr->body_size != size - WIRE_HDR_SIZE)
		return -EBADMSG;
	return 0;
}

/* ---- STATE ---- */

static void put_decl_list(struct wire_buf *b, uint32_t n, const struct wire_decl *d)
{
	put_u32(b, n);
	for (uint32_t i = 0; i < n; i++) {
		put_addr(b, &d[i].addr);
		put_u16(b, d[i].pool);
	}
}

static void put_addr_ext(struct wire_buf *b, uint16_t type, uint32_t n,
			 const struct res_addr *v)
{
	put_u16(b, type);
	put_u32(b, 4 + n * ADDR_WIRE_SIZE);
	put_u32(b, n);
	for (uint32_t i = 0; i < n; i++)
		put_addr(b, &v[i]);
}

int wire_encode_state(struct wire_buf *b, uint16_t version, uint64_t token,
		      uint64_t incarnation, const struct wire_state *st)
{
	const struct wire_admin *ad = &st->admin;

	if (st->n_pools > WIRE_MAX_POOLS || st->n_decl > WIRE_MAX_RES ||
	    st->n_owned > WIRE_MAX_RES || st->n_absent > WIRE_MAX_NODES ||
	    ad->n_standby > WIRE_MAX_NODES || ad->n_pins > WIRE_MAX_PINS)
		return -EMSGSIZE;
	put_hdr(b, version, WIRE_STATE, token, incarnation);
	put_u16(b, st->proto_max);
	put_u16(b, st->node_flags);
	put_u32(b, st->health);

	put_u64(b, ad->generation);
	put_u8(b, ad->maintenance);
	put_u32(b, ad->n_standby);
	for (uint32_t i = 0; i < ad->n_standby; i++)
		put_u32(b, ad->standby[i]);
	put_u32(b, ad->n_pins);
	for (uint32_t i = 0; i < ad->n_pins; i++) {
		put_addr(b, &ad->pins[i].addr);
		put_u32(b, ad->pins[i].nodeid);
	}

	put_u32(b, st->n_pools);
	for (uint32_t i = 0; i < st->n_pools; i++) {
		size_t len = strnlen(st->pools[i], CHORUS_NAME_MAX - 1);

		put_u8(b, (uint8_t)len);
		put_bytes(b, st->pools[i], len);
	}
	put_decl_list(b, st->n_decl, st->decl);
	put_u32(b, st->n_owned);
	for (uint32_t i = 0; i < st->n_owned; i++) {
		put_addr(b, &st->owned[i].addr);
		put_u8(b, st->owned[i].flags);
	}
	put_u32(b, st->n_absent);
	for (uint32_t i = 0; i < st->n_absent; i++) {
		const struct wire_absent *a = &st->absent[i];

		if (a->n_res > WIRE_MAX_RES)
			return -EMSGSIZE;
		put_u32(b, a->nodeid);
		put_u8(b, a->kind);
		put_u64(b, a->since);
		put_decl_list(b, a->n_res, a->res);
	}
	/* Extensions: count, then (type u16, length u32, body) each; a reader
	 * skips the types it does not know. */
	if (st->n_unserv > WIRE_MAX_RES || st->n_excl > WIRE_MAX_RES ||
	    st->n_fence > WIRE_MAX_NODES || st->n_nodes > WIRE_MAX_NODES ||
	    st->n_sets > WIRE_MAX_RES || st->n_holdoffs > WIRE_MAX_RES || st->n_conf > WIRE_MAX_CONF)
		return -EMSGSIZE;
	put_u32(b, (st->n_unserv ? 1u : 0u) + (st->n_excl ? 1u : 0u) + (st->n_fence ? 1u : 0u) +
		       (st->n_nodes ? 1u : 0u) + (st->n_sets ? 1u : 0u) + (st->has_timing ? 1u : 0u) +
		       (st->n_holdoffs ? 1u : 0u) + (st->n_conf ? 1u : 0u));
	if (st->n_unserv)
		put_addr_ext(b, WIRE_EXT_UNSERV, st->n_unserv, st->unserv);
	if (st->n_excl)
		put_addr_ext(b, WIRE_EXT_EXCL, st->n_excl, st->excl);
	if (st->n_fence) {
		size_t len = 4;

		for (uint32_t i = 0; i < st->n_fence; i++) {
			if (st->fence[i].n_res > WIRE_MAX_RES)
				return -EMSGSIZE;
			len += 4 + 8 + 4 + (size_t)st->fence[i].n_res * (ADDR_WIRE_SIZE + 2);
		}
		if (len > WIRE_MSG_MAX)
			return -EMSGSIZE;
		put_u16(b, WIRE_EXT_FENCE);
		put_u32(b, (uint32_t)len);
		put_u32(b, st->n_fence);
		for (uint32_t i = 0; i < st->n_fence; i++) {
			put_u32(b, st->fence[i].nodeid);
			put_u64(b, st->fence[i].since);
			put_decl_list(b, st->fence[i].n_res, st->fence[i].res);
		}
	}
	if (st->n_nodes) {
		put_u16(b, WIRE_EXT_NODES);
		put_u32(b, 4 + st->n_nodes * 5);
		put_u32(b, st->n_nodes);
		for (uint32_t i = 0; i < st->n_nodes; i++) {
			put_u32(b, st->nodes[i].nodeid);
			put_u8(b, st->nodes[i].flags);
		}
	}
	if (st->n_sets) {
		put_u16(b, WIRE_EXT_SETS);
		put_u32(b, 4 + st->n_sets * (ADDR_WIRE_SIZE + 4));
		put_u32(b, st->n_sets);
		for (uint32_t i = 0; i < st->n_sets; i++) {
			put_addr(b, &st->sets[i].addr);
			put_u32(b, st->sets[i].set);
		}
	}
	if (st->has_timing) {
		put_u16(b, WIRE_EXT_TIMING);
		put_u32(b, 16);
		put_u32(b, st->timing.quiet_ms);
		put_u32(b, st->timing.heartbeat_ms);
		put_u32(b, st->timing.lifetime_ms);
		put_u32(b, st->timing.margin_ms);
	}
	if (st->n_holdoffs) {
		put_u16(b, WIRE_EXT_HOLDOFF);
		put_u32(b, 4 + st->n_holdoffs * (ADDR_WIRE_SIZE + 8));
		put_u32(b, st->n_holdoffs);
		for (uint32_t i = 0; i < st->n_holdoffs; i++) {
			put_addr(b, &st->holdoffs[i].addr);
			put_u32(b, st->holdoffs[i].nodeid);
			put_u32(b, st->holdoffs[i].remaining_ms);
		}
	}
	if (st->n_conf) {
		put_u16(b, WIRE_EXT_CONFIG);
		put_u32(b, 4 + st->n_conf * 8);
		put_u32(b, st->n_conf);
		for (uint32_t i = 0; i < st->n_conf; i++)
			put_u64(b, st->conf[i]);
	}
	return finish_hdr(b);
}

/* The declarations, decoded from one span: get_count() has checked that
 * the count's elements fit in what is left, so the span is taken once
 * instead of a bounds check per field (a round decodes nodes x addresses
 * of them).  Every field of every element is written (alloc_n_raw). */
#define DECL_WIRE_SIZE (ADDR_WIRE_SIZE + 2)
static struct wire_decl *get_decl_list(struct rd *r, uint32_t n_pools, uint32_t *n,
				       bool *oom)
{
	struct wire_decl *d;
	const uint8_t *p;

	*n = get_count(r, WIRE_MAX_RES, DECL_WIRE_SIZE);
	d = alloc_n_raw(r, *n, sizeof(*d), oom);
	p = d != NULL ? take(r, (size_t)*n * DECL_WIRE_SIZE) : NULL;
	for (uint32_t i = 0; p != NULL && i < *n; i++, p += DECL_WIRE_SIZE) {
		d[i].pool = (uint16_t)(p[ADDR_WIRE_SIZE] | p[ADDR_WIRE_SIZE + 1] << 8);
		if (!addr_at(p, &d[i].addr) || d[i].pool >= n_pools) {
			r->bad = true;
			break;
		}
	}
	return d;
}

static struct res_addr *get_addr_list(struct rd *r, uint32_t *n, bool *oom)
{
	struct res_addr *v;
	const uint8_t *p;

	*n = get_count(r, WIRE_MAX_RES, ADDR_WIRE_SIZE);
	v = alloc_n_raw(r, *n, sizeof(*v), oom);
	p = v != NULL ? take(r, (size_t)*n * ADDR_WIRE_SIZE) : NULL;
	for (uint32_t i = 0; p != NULL && i < *n; i++, p += ADDR_WIRE_SIZE)
		if (!addr_at(p, &v[i])) {
			r->bad = true;
			break;
		}
	return v;
}

static struct wire_node *get_node_list(struct rd *r, uint32_t *n, bool *oom)
{
	struct wire_node *v;

	*n = get_count(r, WIRE_MAX_NODES, 5);
	v = alloc_n(r, *n, sizeof(*v), oom);
	for (uint32_t i = 0; v != NULL && i < *n && !r->bad; i++) {
		v[i].nodeid = get_u32(r);
		v[i].flags = get_u8(r);
		if (v[i].nodeid == 0 || (v[i].flags & ~3u) ||
		    (i > 0 && v[i].nodeid <= v[i - 1].nodeid))
			r->bad = true;	/* strictly ascending, known flags */
	}
	return v;
}

static struct wire_set *get_set_list(struct rd *r, uint32_t *n, bool *oom)
{
	struct wire_set *v;

	*n = get_count(r, WIRE_MAX_RES, ADDR_WIRE_SIZE + 4);
	v = alloc_n(r, *n, sizeof(*v), oom);
	for (uint32_t i = 0; v != NULL && i < *n && !r->bad; i++) {
		get_addr(r, &v[i].addr);
		v[i].set = get_u32(r);
		if (v[i].set == 0 || (i > 0 && res_addr_cmp(&v[i - 1].addr, &v[i].addr) >= 0))
			r->bad = true;	/* strictly ascending, no empty set */
	}
	return v;
}

static struct wire_absent *get_fence_list(struct rd *r, uint32_t n_pools, uint32_t *n,
					  bool *oom)
{
	struct wire_absent *v;

	*n = get_count(r, WIRE_MAX_NODES, 4 + 8 + 4);
	v = alloc_n(r, *n, sizeof(*v), oom);
	for (uint32_t i = 0; v != NULL && i < *n && !r->bad && !*oom; i++) {
		v[i].nodeid = get_u32(r);
		v[i].kind = WIRE_ABSENT_FENCE;
		v[i].since = get_u64(r);
		v[i].res = get_decl_list(r, n_pools, &v[i].n_res, oom);
	}
	return v;
}

static struct wire_holdoff *get_holdoff_list(struct rd *r, uint32_t *n, bool *oom)
{
	struct wire_holdoff *v;

	*n = get_count(r, WIRE_MAX_RES, ADDR_WIRE_SIZE + 8);
	v = alloc_n(r, *n, sizeof(*v), oom);
	for (uint32_t i = 0; v != NULL && i < *n && !r->bad; i++) {
		get_addr(r, &v[i].addr);
		v[i].nodeid = get_u32(r);
		v[i].remaining_ms = get_u32(r);
		if (v[i].nodeid == 0 || (i > 0 && res_addr_cmp(&v[i - 1].addr, &v[i].addr) >= 0))
			r->bad = true;	/* strictly ascending, a real node */
	}
	return v;
}

void wire_state_clear(struct wire_state *st)
{
	free(st->admin.standby);
	free(st->admin.pins);
	free(st->pools);
	free(st->decl);
	free(st->owned);
	for (uint32_t i = 0; st->absent != NULL && i < st->n_absent; i++)
		free(st->absent[i].res);
	free(st->absent);
	free(st->unserv);
	free(st->excl);
	for (uint32_t i = 0; st->fence != NULL && i < st->n_fence; i++)
		free(st->fence[i].res);
	free(st->fence);
	free(st->nodes);
	free(st->sets);
	free(st->holdoffs);
	memset(st, 0, sizeof(*st));
}

static bool pool_name_ok(const uint8_t *p, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

int wire_decode_state(const void *buf, size_t size, struct wire_state *st)
{
	struct rd r = {(const uint8_t *)buf + WIRE_HDR_SIZE, size - WIRE_HDR_SIZE, false};
	struct wire_admin *ad = &st->admin;
	bool oom = false;

	memset(st, 0, sizeof(*st));
	if (size < WIRE_HDR_SIZE)
		return -EBADMSG;
	st->proto_max = get_u16(&r);
	st->node_flags = get_u16(&r);
	st->health = get_u32(&r);
	if (st->node_flags & ~(WIRE_NODE_LEAVING | WIRE_NODE_UNSERV_PENDING))
		r.bad = true;	/* a layout never changes: no flag beyond these */

	ad->generation = get_u64(&r);
	ad->maintenance = get_u8(&r);
	if (ad->maintenance > 1)
		r.bad = true;
	ad->n_standby = get_count(&r, WIRE_MAX_NODES, 4);
	ad->standby = alloc_n(&r, ad->n_standby, sizeof(uint32_t), &oom);
	for (uint32_t i = 0; ad->standby != NULL && i < ad->n_standby; i++) {
		ad->standby[i] = get_u32(&r);
		if (ad->standby[i] == 0 || (i > 0 && ad->standby[i] <= ad->standby[i - 1]))
			r.bad = true;	/* node ids, strictly ascending */
	}
	/* admin.c inserts and removes pins by a sorted walk, and merge_admin()
	 * adopts a snapshot's list whole: a list out of order or naming one
	 * address twice would leave a pin that no unpin finds. */
	ad->n_pins = get_count(&r, WIRE_MAX_PINS, ADDR_WIRE_SIZE + 4);
	ad->pins = alloc_n(&r, ad->n_pins, sizeof(*ad->pins), &oom);
	for (uint32_t i = 0; ad->pins != NULL && i < ad->n_pins && !r.bad; i++) {
		get_addr(&r, &ad->pins[i].addr);
		ad->pins[i].nodeid = get_u32(&r);
		if (ad->pins[i].nodeid == 0 ||
		    (i > 0 && res_addr_cmp(&ad->pins[i - 1].addr, &ad->pins[i].addr) >= 0))
			r.bad = true;	/* strictly ascending addresses, each to a node */
	}

	st->n_pools = get_count(&r, WIRE_MAX_POOLS, 2);
	st->pools = alloc_n(&r, st->n_pools, sizeof(*st->pools), &oom);
	for (uint32_t i = 0; st->pools != NULL && i < st->n_pools && !r.bad; i++) {
		uint8_t len = get_u8(&r);
		const uint8_t *p;

		if (len >= CHORUS_NAME_MAX) {
			r.bad = true;
			break;
		}
		p = take(&r, len);
		if (p == NULL || !pool_name_ok(p, len)) {
			r.bad = true;
			break;
		}
		memcpy(st->pools[i], p, len);
		st->pools[i][len] = '\0';
	}
	if (!oom)
		st->decl = get_decl_list(&r, st->n_pools, &st->n_decl, &oom);
	if (!oom) {
		/* one span, as get_decl_list() */
		const uint8_t *p;

		st->n_owned = get_count(&r, WIRE_MAX_RES, ADDR_WIRE_SIZE + 1);
		st->owned = alloc_n_raw(&r, st->n_owned, sizeof(*st->owned), &oom);
		p = st->owned != NULL ? take(&r, (size_t)st->n_owned * (ADDR_WIRE_SIZE + 1)) : NULL;
		for (uint32_t i = 0; p != NULL && i < st->n_owned; i++, p += ADDR_WIRE_SIZE + 1) {
			st->owned[i].flags = p[ADDR_WIRE_SIZE];
			if (!addr_at(p, &st->owned[i].addr) || (st->owned[i].flags & ~7u)) {
				r.bad = true;
				break;
			}
		}
	}
	if (!oom) {
		st->n_absent = get_count(&r, WIRE_MAX_NODES, 4 + 1 + 8 + 4);
		st->absent = alloc_n(&r, st->n_absent, sizeof(*st->absent), &oom);
		for (uint32_t i = 0; st->absent != NULL && i < st->n_absent && !r.bad && !oom;
		     i++) {
			struct wire_absent *a = &st->absent[i];

			a->nodeid = get_u32(&r);
			a->kind = get_u8(&r);
			if (a->kind != WIRE_ABSENT_GRACE)
				r.bad = true;
			a->since = get_u64(&r);
			a->res = get_decl_list(&r, st->n_pools, &a->n_res, &oom);
		}
	}
	if (!oom) {
		uint32_t n_ext = get_count(&r, 64, 6), seen = 0;

		for (uint32_t e = 0; e < n_ext && !r.bad && !oom; e++) {
			uint16_t type = get_u16(&r);
			uint32_t len = get_u32(&r);
			struct rd sub;
			const uint8_t *body = take(&r, len);

			if (body == NULL)
				break;
			sub = (struct rd){body, len, false};
			/* a type we know, at most once (an empty list decodes
			 * to NULL, so the pointers cannot tell) */
			if (type >= WIRE_EXT_UNSERV && type <= WIRE_EXT_CONFIG) {
				if (seen & (1u << type))
					r.bad = true;
				seen |= 1u << type;
			}
			switch (r.bad ? 0 : type) {
			case WIRE_EXT_UNSERV:
				st->unserv = get_addr_list(&sub, &st->n_unserv, &oom);
				break;
			case WIRE_EXT_EXCL:
				st->excl = get_addr_list(&sub, &st->n_excl, &oom);
				break;
			case WIRE_EXT_FENCE:
				st->fence = get_fence_list(&sub, st->n_pools, &st->n_fence, &oom);
				break;
			case WIRE_EXT_NODES:
				st->nodes = get_node_list(&sub, &st->n_nodes, &oom);
				break;
			case WIRE_EXT_SETS:
				st->sets = get_set_list(&sub, &st->n_sets, &oom);
				break;
			case WIRE_EXT_TIMING:
				st->timing.quiet_ms = get_u32(&sub);
				st->timing.heartbeat_ms = get_u32(&sub);
				st->timing.lifetime_ms = get_u32(&sub);
				st->timing.margin_ms = get_u32(&sub);
				st->has_timing = !sub.bad;
				if (!sub.bad)
					sub.left = 0;	/* later fields go after these */
				break;
			case WIRE_EXT_HOLDOFF:
				st->holdoffs = get_holdoff_list(&sub, &st->n_holdoffs, &oom);
				break;
			case WIRE_EXT_CONFIG:
				st->n_conf = get_count(&sub, WIRE_MAX_CONF, 8);
				for (uint32_t i = 0; i < st->n_conf && !sub.bad; i++)
					st->conf[i] = get_u64(&sub);
				break;
			default:
				sub.left = 0;	/* unknown (newer): skip */
				break;
			}
			if (sub.bad || sub.left != 0)
				r.bad = true;
		}
	}
	if (r.left != 0)
		r.bad = true;	/* trailing bytes: not a message we wrote */
	if (oom || r.bad) {
		wire_state_clear(st);
		return oom ? -ENOMEM : -EBADMSG;
	}
	return 0;
}

/* ---- the small messages ---- */

int wire_encode_small(struct wire_buf *b, uint16_t version, enum wire_type type,
		      uint64_t token, uint64_t incarnation, const struct wire_small *sm)
{
	if (type == WIRE_STATE || sm->n_addrs > WIRE_MAX_RES || sm->n_nodes > WIRE_MAX_NODES)
		return -EINVAL;
	put_hdr(b, version, (uint16_t)type, token, incarnation);
	put_u32(b, sm->value);
	put_u32(b, sm->n_addrs);
	for (uint32_t i = 0; i < sm->n_addrs; i++)
		put_addr(b, &sm->addrs[i]);
	put_u32(b, sm->n_nodes);
	for (uint32_t i = 0; i < sm->n_nodes; i++) {
		put_u32(b, sm->nodes[i]);
		put_u64(b, sm->incarnations ? sm->incarnations[i] : 0);
	}
	return finish_hdr(b);
}

void wire_small_clear(struct wire_small *sm)
{
	free(sm->addrs);
	free(sm->nodes);
	free(sm->incarnations);
	memset(sm, 0, sizeof(*sm));
}

int wire_decode_small(const void *buf, size_t size, struct wire_small *sm)
{
	struct rd r = {(const uint8_t *)buf + WIRE_HDR_SIZE, size - WIRE_HDR_SIZE, false};
	bool oom = false;

	memset(sm, 0, sizeof(*sm));
	if (size < WIRE_HDR_SIZE)
		return -EBADMSG;
	sm->value = get_u32(&r);
	sm->n_addrs = get_count(&r, WIRE_MAX_RES, ADDR_WIRE_SIZE);
	sm->addrs = alloc_n(&r, sm->n_addrs, sizeof(*sm->addrs), &oom);
	for (uint32_t i = 0; sm->addrs != NULL && i < sm->n_addrs && !r.bad; i++)
		get_addr(&r, &sm->addrs[i]);
	if (!oom) {
		sm->n_nodes = get_count(&r, WIRE_MAX_NODES, 12);
		sm->nodes = alloc_n(&r, sm->n_nodes, sizeof(uint32_t), &oom);
		if (!oom)
			sm->incarnations = alloc_n(&r, sm->n_nodes, sizeof(uint64_t), &oom);
		for (uint32_t i = 0; sm->nodes != NULL && sm->incarnations != NULL &&
				     i < sm->n_nodes && !r.bad;
		     i++) {
			sm->nodes[i] = get_u32(&r);
			sm->incarnations[i] = get_u64(&r);
		}
	}
	if (r.left != 0)
		r.bad = true;
	if (oom || r.bad) {
		wire_small_clear(sm);
		return oom ? -ENOMEM : -EBADMSG;
	}
	return 0;
}

/* ---- CONNS ---- */

int wire_encode_conns(struct wire_buf *b, uint16_t version, uint64_t incarnation,
		      const struct wire_conns *cs)
{
	uint32_t total = 0;

	if (cs->n_vips > WIRE_CONNS_MAX_VIPS)
		return -EMSGSIZE;
	for (uint32_t i = 0; i < cs->n_vips; i++) {
		if (cs->vips[i].n > WIRE_CONNS_MAX_PER_VIP)
			return -EMSGSIZE;
		total += cs->vips[i].n;
	}
	if (total > WIRE_CONNS_MAX_MSG)
		return -EMSGSIZE;
	put_hdr(b, version, WIRE_CONNS, 0, incarnation);
	put_u32(b, cs->n_vips);
	for (uint32_t i = 0; i < cs->n_vips; i++) {
		const struct wire_conns_vip *v = &cs->vips[i];

		put_addr(b, &v->vip);
		put_u32(b, v->n);
		for (uint32_t k = 0; k < v->n; k++) {
			uint8_t c[16] = {0};

			/* canonical form: IPv4 clients are zero-padded */
			memcpy(c, v->conns[k].client, v->vip.family == 4 ? 4 : 16);
			put_bytes(b, c, 16);
			put_u16(b, v->conns[k].vport);
			put_u16(b, v->conns[k].cport);
		}
	}
	return finish_hdr(b);
}

void wire_conns_clear(struct wire_conns *cs)
{
	for (uint32_t i = 0; cs->vips != NULL && i < cs->n_vips; i++)
		free(cs->vips[i].conns);
	free(cs->vips);
	memset(cs, 0, sizeof(*cs));
}

/* Beyond the per-field checks, a list must not name one VIP twice (the
 * second block would silently win) and must respect the per-message total,
 * so a hostile sender cannot make a receiver hold more than the caps say. */
int wire_decode_conns(const void *buf, size_t size, struct wire_conns *cs)
{
	struct rd r = {(const uint8_t *)buf + WIRE_HDR_SIZE, size - WIRE_HDR_SIZE, false};
	uint32_t total = 0;
	bool oom = false;

	memset(cs, 0, sizeof(*cs));
	if (size < WIRE_HDR_SIZE)
		return -EBADMSG;
	cs->n_vips = get_count(&r, WIRE_CONNS_MAX_VIPS, ADDR_WIRE_SIZE + 4);
	cs->vips = alloc_n(&r, cs->n_vips, sizeof(*cs->vips), &oom);
	for (uint32_t i = 0; cs->vips != NULL && i < cs->n_vips && !r.bad && !oom; i++) {
		struct wire_conns_vip *v = &cs->vips[i];

		get_addr(&r, &v->vip);
		for (uint32_t j = 0; j < i && !r.bad; j++)
			if (res_addr_cmp(&cs->vips[j].vip, &v->vip) == 0)
				r.bad = true;
		v->n = get_count(&r, WIRE_CONNS_MAX_PER_VIP, WIRE_CONN_SIZE);
		total += v->n;
		if (total > WIRE_CONNS_MAX_MSG)
			r.bad = true;
		v->conns = alloc_n(&r, v->n, sizeof(*v->conns), &oom);
		for (uint32_t k = 0; v->conns != NULL && k < v->n && !r.bad; k++) {
			const uint8_t *p = take(&r, 16);

			if (p == NULL)
				break;
			memcpy(v->conns[k].client, p, 16);
			if (v->vip.family == 4)
				for (int z = 4; z < 16; z++)
					if (p[z] != 0)
						r.bad = true;
			v->conns[k].vport = get_u16(&r);
			v->conns[k].cport = get_u16(&r);
		}
	}
	if (r.left != 0)
		r.bad = true;
	if (oom || r.bad) {
		wire_conns_clear(cs);
		return oom ? -ENOMEM : -EBADMSG;
	}
	return 0;
}

/* ---- LOAD ---- */

#define LOAD_ENT_WIRE_SIZE (ADDR_WIRE_SIZE + 8)

int wire_encode_load(struct wire_buf *b, uint64_t token, uint64_t incarnation,
		     const struct wire_load *ld)
{
	if (ld->n > WIRE_MAX_RES)
		return -EMSGSIZE;
	put_hdr(b, 4, WIRE_LOAD, token, incarnation);
	put_u32(b, ld->n);
	for (uint32_t i = 0; i < ld->n; i++) {
		put_addr(b, &ld->ents[i].addr);
		put_u32(b, ld->ents[i].load);
		put_u32(b, ld->ents[i].conns);
	}
	return finish_hdr(b);
}

void wire_load_clear(struct wire_load *ld)
{
	free(ld->ents);
	memset(ld, 0, sizeof(*ld));
}

static int addr_cmp_void(const void *a, const void *b)
{
	return res_addr_cmp(a, b);
}

/* "One entry per address": the entries may come in any order (a sender
 * lists them in its config's), so look for a repeat in a sorted copy. */
static bool load_unique(const struct wire_load *ld, bool *oom)
{
	struct res_addr *v;
	bool ok = true;

	if (ld->n < 2)
		return true;
	v = malloc(ld->n * sizeof(*v));
	if (v == NULL) {
		*oom = true;
		return true;
	}
	for (uint32_t i = 0; i < ld->n; i++)
		v[i] = ld->ents[i].addr;
	qsort(v, ld->n, sizeof(*v), addr_cmp_void);
	for (uint32_t i = 1; i < ld->n && ok; i++)
		ok = res_addr_cmp(&v[i - 1], &v[i]) != 0;
	free(v);
	return ok;
}

int wire_decode_load(const void *buf, size_t size, struct wire_load *ld)
{
	struct rd r = {(const uint8_t *)buf + WIRE_HDR_SIZE, size - WIRE_HDR_SIZE, false};
	bool oom = false;

	memset(ld, 0, sizeof(*ld));
	if (size < WIRE_HDR_SIZE)
		return -EBADMSG;
	ld->n = get_count(&r, WIRE_MAX_RES, LOAD_ENT_WIRE_SIZE);
	ld->ents = alloc_n(&r, ld->n, sizeof(*ld->ents), &oom);
	for (uint32_t i = 0; ld->ents != NULL && i < ld->n && !r.bad; i++) {
		get_addr(&r, &ld->ents[i].addr);
		ld->ents[i].load = get_u32(&r);
		ld->ents[i].conns = get_u32(&r);
	}
	if (r.left != 0)
		r.bad = true;
	if (!r.bad && !oom && !load_unique(ld, &oom))
		r.bad = true;
	if (oom || r.bad) {
		wire_load_clear(ld);
		return oom ? -ENOMEM : -EBADMSG;
	}
	return 0;
}

const char *wire_type_name(uint16_t type)
{
	switch (type) {
	case WIRE_STATE: return "STATE";
	case WIRE_RELEASED: return "RELEASED";
	case WIRE_EXCLUDE: return "EXCLUDE";
	case WIRE_GRACE_EXPIRED: return "GRACE_EXPIRED";
	case WIRE_LEAVING: return "LEAVING";
	case WIRE_REBALANCE: return "REBALANCE";
	case WIRE_HEALTH: return "HEALTH";
	case WIRE_ADMIN: return "ADMIN";
	case WIRE_PING: return "PING";
	case WIRE_LOAD: return "LOAD";
	case WIRE_FENCED: return "FENCED";
	case WIRE_CONNS: return "CONNS";
	case WIRE_SUSPECT: return "SUSPECT";
	default: return "?";
	}
}
