/*
 * The control socket's admission and time limits as pure functions: who may
 * take a slot, when a request line has taken too long, when a client has
 * stopped reading.  No I/O and no clock (time comes in as an argument), so
 * that the rules are tested case by case and control.c only applies them.
 *
 * Classes.  A peer is an admin (uid 0, or the admin group as its primary or
 * a supplementary group when it connected), a reader (the read group), or
 * nobody we serve.  Admins run every command; readers run the read ones.
 *
 * Slots.  At most 'max_clients' readers are connected at once, and at most
 * 'max_clients' + 'reserved_clients' clients in all, admins included: so
 * however many readers connect, admins (root among them) still have
 * 'reserved_clients' slots, and admins passing through do not take the
 * readers' slots while the reserve lasts.  A uid other than 0 holds at most
 * 'max_clients_per_uid' slots, so one user (or one runaway monitoring
 * script) cannot take them all from the others.  Root is not limited per
 * uid: it is the one the reserve is for, and it can end any process anyway.
 *
 * Time.  A request line must be complete within 'request_timeout_ms' of
 * its first byte, however slowly the bytes come, so a client that trickles
 * one byte a second cannot hold a slot: the idle timeout alone would never
 * fire for it.  A client that leaves what it was sent unread (its socket's
 * send queue does not shrink) for 'idle_timeout_ms' is closed too: that is
 * a subscriber that never reads, which is otherwise never idle.
 */
#ifndef CHORUS_CONTROL_POLICY_H
#define CHORUS_CONTROL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum control_class {
	CONTROL_CLASS_NONE,		/* refused at connect */
	CONTROL_CLASS_READ,
	CONTROL_CLASS_ADMIN,
};

enum control_verdict {
	CONTROL_ADMIT,
	CONTROL_ADMIT_RESERVED,		/* into a slot only admins may take */
	CONTROL_REFUSE_PERMISSION,
	CONTROL_REFUSE_BUSY,
	CONTROL_REFUSE_UID,
};

struct control_limits {
	uint32_t max_clients;
	uint32_t reserved_clients;
	uint32_t max_clients_per_uid;
};

/* The class of a peer with 'uid' that is ('in_admin') or is not in the admin
 * group, and likewise for the read group. */
enum control_class control_policy_class(uid_t uid, bool in_admin, bool in_read);

/* May a peer of class 'cls' and 'uid' connect, while 'clients' are
 * connected, 'readers' of them readers and 'same_uid' of them with its
 * uid? */
enum control_verdict control_policy_admit(const struct control_limits *lim,
					  enum control_class cls, uid_t uid, uint32_t clients,
					  uint32_t readers, uint32_t same_uid);

/* Track when the unfinished request line began.  'partial_ms' is its start
 * (0 = there is none) before 'size' more bytes 'data' arrived at 'now_ms';
 * returns its start after them: the bytes after their last newline begin
 * a new line now, and without a newline an unfinished line goes on. */
uint64_t control_policy_partial(uint64_t partial_ms, const char *data, size_t size,
				uint64_t now_ms);

/* True once the unfinished line begun at 'partial_ms' is late. */
bool control_policy_request_late(uint64_t partial_ms, uint64_t now_ms, uint32_t timeout_ms);

/* A client's unread output: bytes queued for it (in our buffer and in its
 * socket's) as last seen, and since when none of it has been read (0 =
 * nothing waits). */
struct control_stall {
	uint64_t since_ms;
	size_t seen;
};

/* Record that 'unread' bytes wait for the client at 'now_ms'.  Fewer than
 * last seen means it read some (our own writes only ever add: a byte moved
 * from our buffer into the socket's costs the socket at least a byte), so
 * the clock restarts; none at all stops it.  Observe before and after each
 * write, and now and then, so that no read goes unseen. */
void control_policy_observe(struct control_stall *s, size_t unread, uint64_t now_ms);

/* True once output has waited 'timeout_ms' with none of it read. */
bool control_policy_stalled(const struct control_stall *s, uint64_t now_ms, uint32_t timeout_ms);

#endif
