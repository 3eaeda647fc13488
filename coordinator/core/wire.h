/*
 * The CPG wire format.
 *
 * Every message is a fixed 32-byte header followed by a type-specific body,
 * all fields little-endian and fixed width, every variable part preceded by
 * an explicit count that the decoder checks against both a hard limit and
 * the bytes actually left.  Nothing in a message is trusted: the decoder
 * never reads past the buffer, rejects counts above the limits, rejects
 * trailing garbage, and returns -EBADMSG for anything malformed so the caller
 * can log (rate-limited) and drop it.  Sender identity is never taken from
 * the payload: it comes from CPG's (nodeid, pid).
 *
 * The ordering and uniqueness rules below are the decoder's to enforce, not
 * hints: a list said to be ascending is strictly ascending (nothing named
 * twice), because the core keeps such lists in sorted structures that a
 * repeat or an inversion would corrupt (a pin listed out of order was left
 * in effect by the unpin meant to remove it).  A chorusd's encoders always
 * satisfy them; a message that breaks one was not written by a chorusd.
 *
 * Header:  magic u32 'CHRS' | version u16 | type u16 | body size u32 |
 *          reserved u32 (0) | token u64 | incarnation u64
 *
 * 'version' is the protocol version the sender speaks for this message; a
 * receiver accepts WIRE_VERSION_MIN..WIRE_VERSION_MAX and drops the rest.
 * 'token' identifies the view a round message belongs to (0 for messages
 * that are not bound to a view).  'incarnation' is the sender's random
 * per-process nonce, so a restarted daemon that got the same pid is still
 * told apart.
 */
#ifndef CHORUS_CORE_WIRE_H
#define CHORUS_CORE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/res.h"

#define WIRE_MAGIC 0x53524843u	/* "CHRS" read as little-endian bytes */
/*
 * Versions.  A message type's layout never changes once released; a later
 * version adds message types and STATE extensions (skipped by older
 * readers), and the header says the lowest version needed to read the
 * message.  What a cluster *uses* is the negotiated version: the minimum of
 * its members' maximum, agreed at every round (core_proto()).
 *   1  the base protocol
 *   2  per-address health: STATE extension 1 and HEALTH's address list are
 *      honoured (with a version-1 member, health is node-wide only);
 *      PING, so a node notices a hung corosync
 *   3  exclusive resources (bricks): STATE extensions 2 (which addresses are
 *      exclusive) and 3 (lost nodes whose exclusive resources wait for
 *      fencing), and FENCED.  Below 3 nobody runs an exclusive resource.
 *      CONNS: advisory per-VIP TCP connection lists for tickle ACKs.
 *   4  LOAD reports and load rebalances (REBALANCE with WIRE_REBALANCE_LOAD);
 *      sent only once every member advertises 4, and in version-4 headers,
 *      so an older member drops them as newer than it speaks
 *   5  sets: STATE extension 5 (which replica/disperse set each exclusive
 *      address belongs to); placement spreads sets (place.h rule 8) only
 *      once every member advertises 5, so all compute the same table
 *   6  peer liveness: STATE extensions 6 (the sender's failure timing, so
 *      peers know how long its addresses can outlive its silence) and 7
 *      (addresses a lost or unresponsive node may still hold, and for how
 *      long), and SUSPECT (a member silent while the ring delivers is
 *      excluded); SUSPECT is sent only once every member advertises 6
 *   7  placement version 2 (place.h): exact count balance, count and load
 *      rebalances kept apart, exact eligibility classes, and a HEALTH
 *      report that is not confirmed keeps what it lists and what was last
 *      confirmed from receiving (a recovery settles like a failure).  No
 *      new message: every member computes the table, so the new placement
 *      starts only once every member advertises 7; below, placement v1.
 *   8  leave-only changes are placed at once: when members only left a view
 *      whose round had completed, every survivor places from the table it
 *      already holds, at the change, and takes as quorum and hold-offs
 *      allow; the round confirms, counting those placements as held.  No
 *      new message: a survivor below 8 would only take after the round, and
 *      a round that counts a take nobody made merely waits for a RELEASED,
 *      but the survivors must agree on whether the round counts them, so
 *      only once every member advertises 8.
 *   9  start-up fencing records yield to history: a fence record whose
 *      carrying STATE's sender never saw the node (core_absent_unseen: a
 *      daemon that started alone records every node it has not seen) is
 *      not merged when another member has seen that node, which knows
 *      whether it left holding anything.  No new message, but every member
 *      must merge alike, so only once every member advertises 9.
 * STATE extension 8 (configuration digests, per configuration key, in the
 * order the daemon's table gives them) is informational: no version needed,
 * older readers skip it, and nothing but status and events reads it.
 */
#define WIRE_VERSION_MIN 1
#define WIRE_VERSION_MAX 9
#define WIRE_EXT_UNSERV 1	/* STATE extension: addresses not servable here */
#define WIRE_EXT_EXCL 2		/* STATE extension: exclusive addresses the sender knows */
#define WIRE_EXT_FENCE 3	/* STATE extension: lost nodes awaiting fencing */
#define WIRE_EXT_NODES 4	/* STATE extension: configured and seen node ids */
#define WIRE_EXT_SETS 5		/* STATE extension: set id of addresses (rule 8) */
#define WIRE_EXT_TIMING 6	/* STATE extension: the sender's failure timing */
#define WIRE_EXT_HOLDOFF 7	/* STATE extension: addresses a lost node may still hold */
#define WIRE_EXT_CONFIG 8	/* STATE extension: digests of the sender's configuration */
/* Each STATE extension type appears at most once in a message; a reader
 * skips types it does not know (newer), and refuses a known one twice. */
#define WIRE_HDR_SIZE 32
#define WIRE_MSG_MAX (1024u * 1024u - 4096u)	/* below libcpg's atomic limit */

/* Hard limits on counts inside messages: generous for real clusters, small
 * enough that a hostile count cannot make us allocate without bound. */
#define WIRE_MAX_RES 16384u
#define WIRE_MAX_POOLS 256u
#define WIRE_MAX_NODES CHORUS_MAX_NODES
#define WIRE_MAX_PINS 4096u
#define WIRE_MAX_CONF 32u

enum wire_type {
	WIRE_STATE = 1,		/* round: a member's snapshot for the current view */
	WIRE_RELEASED = 2,	/* the sender no longer holds these resources */
	WIRE_EXCLUDE = 3,	/* round timed out: exclude these silent members */
	WIRE_GRACE_EXPIRED = 4,	/* a lost daemon's restart grace has run out */
	WIRE_LEAVING = 5,	/* the sender is shutting down: move its resources */
	WIRE_REBALANCE = 6,	/* apply failback now (delay policy, operator) */
	WIRE_HEALTH = 7,	/* the sender's health flags changed */
	WIRE_ADMIN = 8,		/* an operator change, applied in delivery order */
	WIRE_PING = 9,		/* v2: proves corosync still delivers our messages */
	WIRE_FENCED = 10,	/* v3: these lost nodes are known down (fenced/confirmed) */
	WIRE_CONNS = 11,	/* v3: the sender's TCP connections per VIP (advisory) */
	WIRE_LOAD = 12,		/* v4: the sender's measured load per address it holds */
	WIRE_SUSPECT = 13,	/* v6: exclude a member silent while the ring delivers */
	WIRE_TYPE_MAX = 13,
};

/* REBALANCE value bit: balance load (place.h rule 7) rather than counts. */
#define WIRE_REBALANCE_LOAD 0x1u

struct wire_hdr {
	uint16_t version;
	uint16_t type;
	uint32_t body_size;
	uint64_t token;
	uint64_t incarnation;
};

/* Flags of one entry in STATE's owned list. */
#define WIRE_OWN_HELD 0x1u	   /* present on this node (or being acquired) */
#define WIRE_OWN_RELEASING 0x2u	   /* being released; others must wait for RELEASED */
#define WIRE_OWN_ASSIGNED 0x4u	   /* the last assignment gave it to this node */

/* Flags of a STATE sender; no other bit is ever set. */
#define WIRE_NODE_LEAVING 0x1u
#define WIRE_NODE_UNSERV_PENDING 0x2u	/* its unservable list is not confirmed yet */

/* LEAVING value: the sender stopped every exclusive resource and takes none
 * again (sent just before it leaves the group after a handover timeout). */
#define WIRE_LEAVING_CLEAN 1u

/* HEALTH value bit: the address list is confirmed (acted on), not pending. */
#define WIRE_HEALTH_CONFIRMED 0x80000000u

struct wire_owned {
	struct res_addr addr;
	uint8_t flags;
};

struct wire_decl {
	struct res_addr addr;
	uint16_t pool;		/* index into wire_state.pools */
};

/* A node known to be gone whose resources are still accounted to it. */
#define WIRE_ABSENT_GRACE 1	/* daemon gone, node up: wait for restart grace */
#define WIRE_ABSENT_FENCE 2	/* node left the ring: exclusive resources wait for
				 * fencing (carried in STATE extension 3 only) */

struct wire_absent {
	uint32_t nodeid;
	uint8_t kind;
	uint64_t since;		/* replicated ordering key: ring seq when marked */
	uint32_t n_res;
	struct wire_decl *res;	/* what it held, pool index into wire_state.pools */
};

/* Flags of an entry of STATE extension 4. */
#define WIRE_NODE_CONFIGURED 0x1u	/* in the sender's corosync nodelist */
#define WIRE_NODE_SEEN 0x2u		/* a member of a view in the sender's history */

struct wire_node {
	uint32_t nodeid;
	uint8_t flags;
};

/* An entry of STATE extension 5: 'addr' belongs to set 'set' (nonzero). */
struct wire_set {
	struct res_addr addr;
	uint32_t set;
};

/*
 * STATE extension 6: how long the sender's addresses can outlive the moment
 * the others stop hearing it, so they know when taking them over is safe
 * (a peer never waits less than it would for itself).  All in ms.
 *   quiet_ms     it releases everything once corosync has delivered nothing
 *                for this long (a node cut off from the others)
 *   heartbeat_ms it multicasts at least this often, and renews its
 *                addresses' kernel lifetime only right after such a send
 *   lifetime_ms  the kernel lifetime its addresses carry (0 = permanent)
 *   margin_ms    how late its kernel may remove an expired address
 */
struct wire_timing {
	uint32_t quiet_ms;
	uint32_t heartbeat_ms;
	uint32_t lifetime_ms;
	uint32_t margin_ms;
};

/* An entry of STATE extension 7: 'nodeid' may still hold 'addr' for
 * 'remaining_ms' after the message was sent; ascending by address, each
 * address once. */
struct wire_holdoff {
	struct res_addr addr;
	uint32_t nodeid;
	uint32_t remaining_ms;
};

struct wire_pin {
	struct res_addr addr;
	uint32_t nodeid;	/* nonzero */
};

struct wire_admin {
	uint64_t generation;
	uint8_t maintenance;
	uint32_t n_standby;
	uint32_t *standby;	/* nodeids, nonzero, strictly ascending */
	uint32_t n_pins;
	struct wire_pin *pins;	/* strictly ascending by address: each address once */
};

struct wire_state {
	uint16_t proto_max;
	uint16_t node_flags;
	uint32_t health;
	struct wire_admin admin;
	uint32_t n_pools;
	char (*pools)[CHORUS_NAME_MAX];
	uint32_t n_decl;
	struct wire_decl *decl;
	uint32_t n_owned;
	struct wire_owned *owned;
	uint32_t n_absent;
	struct wire_absent *absent;
	uint32_t n_unserv;
	struct res_addr *unserv;	/* declared but not servable here now (health) */
	uint32_t n_excl;
	struct res_addr *excl;		/* exclusive addresses (extension 2) */
	uint32_t n_fence;
	struct wire_absent *fence;	/* kind WIRE_ABSENT_FENCE (extension 3) */
	uint32_t n_nodes;
	struct wire_node *nodes;	/* strictly ascending nodeid (extension 4) */
	uint32_t n_sets;
	struct wire_set *sets;		/* strictly ascending address (extension 5) */
	bool has_timing;
	struct wire_timing timing;	/* extension 6 */
	uint32_t n_holdoffs;
	struct wire_holdoff *holdoffs;	/* extension 7: strictly ascending address */
	uint32_t n_conf;
	uint64_t conf[WIRE_MAX_CONF];	/* extension 8: configuration digests */
};

/* RELEASED, EXCLUDE, GRACE_EXPIRED, HEALTH, LEAVING, REBALANCE and SUSPECT
 * share one small body shape: a list of addresses and/or a list of nodeids
 * plus a value.  Unused parts are empty.  SUSPECT names one member (nodeid,
 * and its pid in 'incarnations') and carries in 'value' how many messages of
 * it the sender had seen delivered in this view: every member has seen the
 * same number at the same point, so a SUSPECT that crossed a message of the
 * suspect is void on all of them alike. */
struct wire_small {
	uint32_t value;
	uint32_t n_addrs;
	struct res_addr *addrs;
	uint32_t n_nodes;
	uint32_t *nodes;
	uint64_t *incarnations;	/* parallel to nodes; may be NULL when n_nodes == 0 */
};

/*
 * CONNS: the established TCP connections the sender sees on VIPs it holds,
 * so whoever takes a VIP over can send tickle ACKs to its clients.  It is
 * advisory: the daemon reads it beside the core, never as replicated state.
 * Each block replaces what the receiver kept for (sender, vip), so a message
 * names a VIP at most once; an empty block says the sender no longer has
 * any.  Several messages may be needed
 * for one snapshot; a block never spans two messages.
 *   u32 n_vips | per vip: addr | u32 n | n x (client 16 bytes | u16 vip port
 *   | u16 client port)
 * The client address has the VIP's family (IPv4 zero-padded); ports are
 * host-order numbers in the little-endian encoding of every other field.
 */
#define WIRE_CONNS_MAX_VIPS 256u	/* blocks per message */
#define WIRE_CONNS_MAX_PER_VIP 1024u	/* hard cap of one list */
#define WIRE_CONNS_MAX_MSG 2048u	/* connections per message: ~41 KB */
#define WIRE_CONN_SIZE 20

struct wire_conn {
	uint8_t client[16];
	uint16_t vport;
	uint16_t cport;
};

struct wire_conns_vip {
	struct res_addr vip;
	uint32_t n;
	struct wire_conn *conns;
};

struct wire_conns {
	uint32_t n_vips;
	struct wire_conns_vip *vips;
};

/* LOAD: one entry per address the sender measured (each address once, in
 * any order: senders list them in their config's order). */
struct wire_load_ent {
	struct res_addr addr;
	uint32_t load;		/* the plugin's figure, smoothed; see smallfile-balance */
	uint32_t conns;		/* client connections now */
};

struct wire_load {
	uint32_t n;
	struct wire_load_ent *ents;
};

/* A growable output buffer. */
struct wire_buf {
	uint8_t *data;
	size_t size;
	size_t cap;
	int err;		/* sticky: first -errno seen while writing */
};

void wire_buf_init(struct wire_buf *b);
void wire_buf_release(struct wire_buf *b);	/* frees data */

/* Encoders: write a complete message (header + body) into 'b', which is reset
 * first.  Return 0, -ENOMEM, or -EMSGSIZE if the message would exceed
 * WIRE_MSG_MAX or a count limit. */
int wire_encode_state(struct wire_buf *b, uint16_t version, uint64_t token,
		      uint64_t incarnation, const struct wire_state *st);
int wire_encode_small(struct wire_buf *b, uint16_t version, enum wire_type type,
		      uint64_t token, uint64_t incarnation, const struct wire_small *sm);

/* CONNS (token 0: not bound to a view).  -EMSGSIZE beyond the limits above. */
int wire_encode_conns(struct wire_buf *b, uint16_t version, uint64_t incarnation,
		      const struct wire_conns *cs);

/* Check and decode the header of 'buf'/'size'.  Returns 0 or -EBADMSG
 * (short, bad magic, unknown version or type, size mismatch). */
int wire_decode_hdr(const void *buf, size_t size, struct wire_hdr *hdr);

/* Decode a body (after wire_decode_hdr succeeded).  On success the output
 * owns allocations released with the matching _clear().  On failure nothing
 * is left allocated.  Returns 0, -EBADMSG or -ENOMEM. */
int wire_decode_state(const void *buf, size_t size, struct wire_state *st);
int wire_decode_small(const void *buf, size_t size, struct wire_small *sm);
int wire_decode_conns(const void *buf, size_t size, struct wire_conns *cs);

int wire_encode_load(struct wire_buf *b, uint64_t token, uint64_t incarnation,
		     const struct wire_load *ld);
int wire_decode_load(const void *buf, size_t size, struct wire_load *ld);
void wire_load_clear(struct wire_load *ld);

void wire_state_clear(struct wire_state *st);
void wire_small_clear(struct wire_small *sm);
void wire_conns_clear(struct wire_conns *cs);

const char *wire_type_name(uint16_t type);

#endif
