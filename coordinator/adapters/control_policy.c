/*
 * Control socket admission and time limits; the rules are in
 * control_policy.h.
 */
#include "adapters/control_policy.h"

#include <string.h>

enum control_class control_policy_class(uid_t uid, bool in_admin, bool in_read)
{
	if (uid == 0 || in_admin)
		return CONTROL_CLASS_ADMIN;
	return in_read ? CONTROL_CLASS_READ : CONTROL_CLASS_NONE;
}

enum control_verdict control_policy_admit(const struct control_limits *lim,
					  enum control_class cls, uid_t uid, uint32_t clients,
					  uint32_t readers, uint32_t same_uid)
{
	uint64_t all = (uint64_t)lim->max_clients + lim->reserved_clients;

	if (cls == CONTROL_CLASS_NONE)
		return CONTROL_REFUSE_PERMISSION;
	/* Per uid first: a user at its limit is told so, not "busy", which
	 * would send it looking for a daemon problem. */
	if (uid != 0 && same_uid >= lim->max_clients_per_uid)
		return CONTROL_REFUSE_UID;
	if (clients >= all)
		return CONTROL_REFUSE_BUSY;
	if (cls == CONTROL_CLASS_ADMIN)
		return clients < lim->max_clients ? CONTROL_ADMIT : CONTROL_ADMIT_RESERVED;
	/* Readers are counted apart: admins passing through do not take
	 * their slots, and however many readers there are, admins still
	 * have 'reserved_clients' slots. */
	return readers < lim->max_clients ? CONTROL_ADMIT : CONTROL_REFUSE_BUSY;
}

/* 0 stands for "none" in the trackers below; a clock reading of 0 (never
 * seen on a running system) is taken as 1. */
static uint64_t policy_stamp(uint64_t now_ms)
{
	return now_ms != 0 ? now_ms : 1;
}

uint64_t control_policy_partial(uint64_t partial_ms, const char *data, size_t size,
				uint64_t now_ms)
{
	const char *nl;

	if (size == 0)
		return partial_ms;
	nl = memrchr(data, '\n', size);
	if (nl == NULL)
		return partial_ms != 0 ? partial_ms : policy_stamp(now_ms);
	if ((size_t)(nl - data) + 1 < size)
		return policy_stamp(now_ms);
	return 0;
}

bool control_policy_request_late(uint64_t partial_ms, uint64_t now_ms, uint32_t timeout_ms)
{
	return partial_ms != 0 && now_ms >= partial_ms && now_ms - partial_ms >= timeout_ms;
}

void control_policy_observe(struct control_stall *s, size_t unread, uint64_t now_ms)
{
	if (unread == 0) {
		s->since_ms = 0;
		s->seen = 0;
		return;
	}
	if (s->since_ms == 0 || unread < s->seen)
		s->since_ms = policy_stamp(now_ms);
	s->seen = unread;
}

bool control_policy_stalled(const struct control_stall *s, uint64_t now_ms, uint32_t timeout_ms)
{
	return s->since_ms != 0 && now_ms >= s->since_ms && now_ms - s->since_ms >= timeout_ms;
}
