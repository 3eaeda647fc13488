/*
 * The control socket: newline-delimited JSON over a Unix stream socket, on
 * the daemon's qb_loop, never blocking it.
 *
 * Request (one line, at most CONTROL_REQ_MAX bytes):
 *   {"v":1,"id":"<client token>","cmd":"status","args":{...}}
 * Response (one line):
 *   {"v":1,"id":"<same>","ok":true,"result":{...}}
 *   {"v":1,"id":"<same>","ok":false,"error":{"code":"not_quorate","message":"..."}}
 * A client that subscribed (events --follow) then receives
 *   {"v":1,"event":{...}} lines until it disconnects.
 *
 * This module owns the socket, framing, limits and credentials: request size,
 * number of clients, idle time, and output buffered per client (a client
 * that stops reading is dropped, never buffered without bound).  It parses
 * and validates the envelope (v, id, cmd, args) and answers malformed input
 * itself with an error; well-formed requests go to the handler, which
 * answers now or later with control_reply().
 *
 * Who may connect is decided once, at accept, from the peer's credentials
 * (control_policy.h): root and the admin group may run everything, the read
 * group only reads, anyone else is refused before taking a slot.  Slots are
 * bounded overall and per uid, and a few are kept for root and the admin
 * group alone, so that no crowd of readers can lock root out.
 */
#ifndef CHORUS_CONTROL_H
#define CHORUS_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>
#include <qb/qbloop.h>

#define CONTROL_PROTO_VERSION 1
#define CONTROL_REQ_MAX (64 * 1024)

struct control_config {
	char path[108];			/* socket path (sun_path) */
	gid_t group;			/* socket file's group; (gid_t)-1 = keep */
	gid_t admin_group;		/* may change state; (gid_t)-1 = root only */
	gid_t read_group;		/* may read; (gid_t)-1 = root and admins only */
	uint32_t max_clients;		/* default 64 readers at once */
	uint32_t reserved_clients;	/* default 8: more, for root and admins only */
	uint32_t max_clients_per_uid;	/* default 16; root is not limited */
	uint32_t idle_timeout_ms;	/* default 60000; subscribers exempt */
	uint32_t request_timeout_ms;	/* default 10000: first byte to newline */
	size_t max_output;		/* per client, default 4 MiB */
};

/* What the server has done since control_new(), for metrics. */
struct control_stats {
	uint32_t clients_admin, clients_read;	/* connected now */
	uint64_t accepted;
	uint64_t refused_permission;	/* neither root nor in a permitted group */
	uint64_t refused_busy;		/* no slot left for its class */
	uint64_t refused_uid;		/* its uid holds max_clients_per_uid */
	uint64_t closed_request_timeout;/* a request line not finished in time */
	uint64_t closed_idle;
	uint64_t closed_not_reading;	/* output unread too long, or too much of it */
	uint64_t closed_bad_requests;	/* too many malformed lines in a row */
	uint64_t closed_oversized;	/* a line longer than CONTROL_REQ_MAX */
};

struct control_request {
	uint64_t client;		/* opaque id for control_reply() */
	const char *id;			/* the request's "id" (may be "") */
	const char *cmd;
	struct json_object *args;	/* borrowed; an object, possibly empty */
	bool privileged;		/* uid 0 or member of admin_group */
	uid_t uid;
	gid_t gid;
	pid_t pid;
};

struct control;

/* Called for each well-formed request.  The handler must eventually call
 * control_reply() or control_error() for it (now or later), unless the
 * client has gone by then (calls for a gone client are ignored). */
typedef void (*control_handler_fn)(void *ud, const struct control_request *req);

int control_new(qb_loop_t *loop, const struct control_config *cfg, control_handler_fn fn,
		void *ud, struct control **out);
void control_free(struct control *ctl);	/* closes every client, unlinks the socket */

/* Answer request 'id' of 'client' with 'result' (reference taken; may be
 * NULL for an empty object).  Returns 0, or -ENOENT if the client is gone. */
int control_reply(struct control *ctl, uint64_t client, const char *id,
		  struct json_object *result);
/* Answer with an error: 'code' is a stable machine-readable word
 * (bad_request, unknown_command, permission_denied, not_quorate,
 * unknown_node, not_eligible, timeout, busy, internal). */
int control_error(struct control *ctl, uint64_t client, const char *id, const char *code,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Mark 'client' as a subscriber of the event stream (after its reply). */
int control_subscribe(struct control *ctl, uint64_t client);
/* Send 'event' (reference taken) to every subscriber. */
void control_publish(struct control *ctl, struct json_object *event);

uint32_t control_client_count(const struct control *ctl);
void control_stats_get(const struct control *ctl, struct control_stats *out);

#endif
