/*
 * Resource identities shared by the core, the wire codec and the executors.
 *
 * A VIP is identified cluster-wide by its address alone (as CTDB does with
 * public addresses): the prefix travels with it and must agree, while the
 * interface is a per-node detail that never leaves the node.  Pools are
 * short names; the core maps them to dense indices for placement.
 */
#ifndef CHORUS_CORE_RES_H
#define CHORUS_CORE_RES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHORUS_MAX_NODES 128	/* CPG_MEMBERS_MAX: libcpg cannot report more */
#define CHORUS_NAME_MAX 64	/* pool names, interface names, node names (incl. NUL) */
#define CHORUS_ADDR_STRLEN 64	/* "ffff:...:ffff/128" with room to spare */

struct res_addr {
	uint8_t family;		/* 4 or 6 */
	uint8_t prefix;		/* 0..32 or 0..128 */
	uint8_t bytes[16];	/* IPv4 uses the first 4 */
};

/* An exclusive resource (a brick behind its floating address) must never be
 * active on two nodes: it moves release-before-take only, and a lost node's
 * are taken over only once that node is known down (fenced or its
 * self-fence grace passed).  Plain VIPs move at once. */
#define VIP_F_EXCLUSIVE 0x1u

struct vip_def {
	struct res_addr addr;
	char pool[CHORUS_NAME_MAX];
	uint32_t flags;		/* VIP_F_* */
	uint32_t set;		/* exclusive only: its replica/disperse set, spread
				 * apart by placement (place.h rule 8); 0 = none */
};

/* Parse "A.B.C.D/P" or "x:y::z/P" into 'out'.  Returns 0 or -EINVAL.  The
 * prefix is mandatory: a floating address without one is a config error, not
 * something to guess. */
int res_addr_parse(const char *text, struct res_addr *out);

/* Format 'a' as "addr/prefix" into 'buf' of 'size' bytes (>= CHORUS_ADDR_STRLEN). */
void res_addr_format(const struct res_addr *a, char *buf, size_t size);

/* Format only the address part, without "/prefix". */
void res_addr_format_ip(const struct res_addr *a, char *buf, size_t size);

static inline uint32_t res_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t res_be64(const uint8_t *p)
{
	return (uint64_t)res_be32(p) << 32 | res_be32(p + 4);
}

/* Total order on addresses (family, bytes); the prefix is not part of the
 * identity.  Used for every sorted structure so iteration is deterministic.
 * The order is memcmp's over 4 (IPv4) or 16 bytes, read as big-endian words
 * instead: a round compares every member's declarations, millions of calls
 * at 32 nodes x 10,000 addresses, and a libc memcmp call per compare was a
 * third of a round's CPU.  Only the sign is defined. */
static inline int res_addr_cmp(const struct res_addr *a, const struct res_addr *b)
{
	uint64_t x, y;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->family == 4) {
		x = res_be32(a->bytes);
		y = res_be32(b->bytes);
	} else {
		x = res_be64(a->bytes);
		y = res_be64(b->bytes);
		if (x == y) {
			x = res_be64(a->bytes + 8);
			y = res_be64(b->bytes + 8);
		}
	}
	return (x > y) - (x < y);
}

/* Binary search of 'n' elements of 'size' bytes, sorted by res_addr_cmp on
 * the res_addr at byte 'off' of each: the index of the one equal to 'key',
 * or -(insertion point) - 1.  Every sorted table keyed by address uses it,
 * through RES_ADDR_SEARCH(array, n, member, key). */
long res_addr_search(const void *base, size_t n, size_t size, size_t off,
		     const struct res_addr *key);
/* Sort 'n' elements of 'size' bytes by the res_addr at byte 'off' of each,
 * keeping only the first of each address in the given order (so whoever
 * ranks first wins), in place.  Returns how many are left, or -ENOMEM.
 * The merge of every address set that members replicate. */
long res_addr_sort_unique(void *base, size_t n, size_t size, size_t off);

#define RES_ADDR_SEARCH(arr, n, member, key)                                                       \
	res_addr_search((arr), (n), sizeof(*(arr)), offsetof(__typeof__(*(arr)), member), (key))

#endif
