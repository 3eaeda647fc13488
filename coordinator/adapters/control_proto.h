/*
 * The control protocol's pure half: one request line in, one validated
 * envelope out; results, errors and events encoded as one line each.  No
 * I/O, no clock, no logging, so the fuzz target and the unit tests link
 * exactly the code chorusd runs on bytes from the socket.
 */
#ifndef CHORUS_CONTROL_PROTO_H
#define CHORUS_CONTROL_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#define CONTROL_PROTO_ID_MAX 128	/* bytes of a request "id" */
#define CONTROL_PROTO_CMD_MAX 32	/* bytes of a "cmd": [a-z-] */
#define CONTROL_PROTO_DEPTH 16		/* JSON nesting of a request */
#define CONTROL_PROTO_MSG_SIZE 160	/* an error message from the parser */

struct control_proto_req {
	struct json_object *root;	/* owned; control_proto_req_clear() */
	const char *id;			/* borrowed from root, or "" */
	const char *cmd;		/* borrowed from root; NULL on error */
	struct json_object *args;	/* borrowed from root; always an object */
};

/* Parse and validate one request line of 'size' bytes (without its newline;
 * it need not be NUL-terminated and may hold any bytes).  On success returns
 * 0 and fills 'req', which the caller clears.  On a malformed request returns
 * -EINVAL, writes a one-line reason to 'msg' and leaves req->id pointing at
 * the request's id when one could be read, so that the error reply can carry
 * it; the caller still clears 'req'.  -ENOMEM when out of memory. */
int control_proto_parse(const char *line, size_t size, struct control_proto_req *req,
			char *msg, size_t msgsize);
void control_proto_req_clear(struct control_proto_req *req);

/* True if 'cmd' is a well-formed command word (1..32 of [a-z-]). */
bool control_proto_cmd_valid(const char *cmd, size_t len);

/* Encoders.  Each returns a malloc'ed line ending in '\n' (its size, with
 * the newline, in '*size'), or NULL when out of memory.  'result' and
 * 'event' are borrowed: the caller keeps its reference. */
char *control_proto_reply(const char *id, struct json_object *result, size_t *size);
char *control_proto_error(const char *id, const char *code, const char *message, size_t *size);
char *control_proto_event(struct json_object *event, size_t *size);

#endif
