/*
 * Control protocol: request validation and line encoding.
 *
 * A request is one line holding one JSON object:
 *
 *   {"v":1,"id":"<client token>","cmd":"<word>","args":{...}}
 *
 * "cmd" is required; "v" (the integer 1), "id" (a string of at most
 * CONTROL_PROTO_ID_MAX bytes, default "") and "args" (an object, default
 * {}) are optional; any other top-level key is an error, so that a typo
 * ("arg") or a client speaking a newer protocol fails loudly rather than
 * being half-understood.  The parser is json-c in strict mode with UTF-8
 * validation and a depth limit; a line must hold exactly one value, with
 * nothing but JSON whitespace after it.
 *
 * Replies and events are written in json-c's plain form, which escapes
 * control characters inside strings: an encoded line never contains a
 * newline but the one that ends it, whatever the handler put in a result.
 */
#include "adapters/control_proto.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/control.h"

#define CONTROL_PROTO_OUT_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static int proto_bad(char *msg, size_t msgsize, const char *what)
{
	if (msg != NULL && msgsize > 0)
		snprintf(msg, msgsize, "%s", what);
	return -EINVAL;
}

bool control_proto_cmd_valid(const char *cmd, size_t len)
{
	size_t i;

	if (len == 0 || len > CONTROL_PROTO_CMD_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!((cmd[i] >= 'a' && cmd[i] <= 'z') || cmd[i] == '-'))
			return false;
	return true;
}

static bool proto_is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Parse 'line' into one JSON value, or explain why not.  json-c's strict
 * mode refuses trailing characters outright, which would also refuse the
 * trailing whitespace (say a '\r' from a CRLF client) that RFC 8259 allows;
 * so trailing characters are allowed in the tokener and checked here. */
static struct json_object *proto_tokenize(const char *line, size_t size, char *msg,
					  size_t msgsize, int *rc)
{
	struct json_tokener *tok;
	struct json_object *root;
	enum json_tokener_error jerr;
	size_t off;

	*rc = -EINVAL;
	if (size > CONTROL_REQ_MAX || size > INT32_MAX) {
		proto_bad(msg, msgsize, "request too large");
		return NULL;
	}
	/* json-c stops at a NUL as if the text ended there; refuse it rather
	 * than parse a prefix of what the client sent. */
	if (memchr(line, '\0', size) != NULL) {
		proto_bad(msg, msgsize, "request contains a NUL byte");
		return NULL;
	}
	for (off = 0; off < size && proto_is_ws(line[off]); off++)
		;
	if (off == size) {
		proto_bad(msg, msgsize, "empty request");
		return NULL;
	}
	tok = json_tokener_new_ex(CONTROL_PROTO_DEPTH);
	if (tok == NULL) {
		*rc = -ENOMEM;
		proto_bad(msg, msgsize, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
					    JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, line, (int)size);
	jerr = json_tokener_get_error(tok);
	if (root == NULL) {
		if (jerr == json_tokener_continue)
			proto_bad(msg, msgsize, "invalid JSON: unexpected end of line");
		else if (msg != NULL && msgsize > 0)
			snprintf(msg, msgsize, "invalid JSON at byte %zu: %s",
				 json_tokener_get_parse_end(tok), json_tokener_error_desc(jerr));
		json_tokener_free(tok);
		return NULL;
	}
	for (off = json_tokener_get_parse_end(tok); off < size; off++) {
		if (!proto_is_ws(line[off])) {
			if (msg != NULL && msgsize > 0)
				snprintf(msg, msgsize,
					 "invalid JSON at byte %zu: text after the request", off);
			json_object_put(root);
			json_tokener_free(tok);
			return NULL;
		}
	}
	json_tokener_free(tok);
	*rc = 0;
	return root;
}

/* Pick up the request's "id" for an error reply, if it is usable. */
static void proto_take_id(struct json_object *root, struct control_proto_req *req)
{
	struct json_object *id;

	if (json_object_object_get_ex(root, "id", &id) && json_object_is_type(id, json_type_string) &&
	    json_object_get_string_len(id) <= CONTROL_PROTO_ID_MAX)
		req->id = json_object_get_string(id);
}

int control_proto_parse(const char *line, size_t size, struct control_proto_req *req,
			char *msg, size_t msgsize)
{
	struct json_object *root, *v, *id, *cmd, *args;
	int rc;

	memset(req, 0, sizeof(*req));
	req->id = "";
	root = proto_tokenize(line, size, msg, msgsize, &rc);
	if (root == NULL)
		return rc;
	req->root = root;
	if (!json_object_is_type(root, json_type_object))
		return proto_bad(msg, msgsize, "request is not a JSON object");
	proto_take_id(root, req);

	/* Top-level keys first: an unknown key says more about what went
	 * wrong ("arg" for "args") than a complaint about a missing one. */
	json_object_object_foreach(root, key, val)
	{
		(void)val;
		if (strcmp(key, "v") != 0 && strcmp(key, "id") != 0 && strcmp(key, "cmd") != 0 &&
		    strcmp(key, "args") != 0) {
			if (msg != NULL && msgsize > 0)
				snprintf(msg, msgsize, "unknown key \"%.32s\"%s", key,
					 strlen(key) > 32 ? "..." : "");
			return -EINVAL;
		}
	}
	if (json_object_object_get_ex(root, "v", &v)) {
		if (!json_object_is_type(v, json_type_int))
			return proto_bad(msg, msgsize, "\"v\" must be an integer");
		if (json_object_get_int64(v) != CONTROL_PROTO_VERSION)
			return proto_bad(msg, msgsize, "unsupported protocol version (this is 1)");
	}
	if (json_object_object_get_ex(root, "id", &id)) {
		if (!json_object_is_type(id, json_type_string))
			return proto_bad(msg, msgsize, "\"id\" must be a string");
		if (json_object_get_string_len(id) > CONTROL_PROTO_ID_MAX)
			return proto_bad(msg, msgsize, "\"id\" longer than 128 bytes");
	}
	if (!json_object_object_get_ex(root, "cmd", &cmd))
		return proto_bad(msg, msgsize, "\"cmd\" missing");
	if (!json_object_is_type(cmd, json_type_string))
		return proto_bad(msg, msgsize, "\"cmd\" must be a string");
	if (!control_proto_cmd_valid(json_object_get_string(cmd),
				     (size_t)json_object_get_string_len(cmd)))
		return proto_bad(msg, msgsize, "\"cmd\" must be 1 to 32 of a-z and -");
	if (json_object_object_get_ex(root, "args", &args)) {
		if (!json_object_is_type(args, json_type_object))
			return proto_bad(msg, msgsize, "\"args\" must be an object");
	} else {
		/* Handlers always get an object; it lives in the root so that
		 * one put frees everything. */
		args = json_object_new_object();
		if (args == NULL || json_object_object_add(root, "args", args) != 0) {
			json_object_put(args);
			proto_bad(msg, msgsize, "out of memory");
			return -ENOMEM;
		}
	}
	req->cmd = json_object_get_string(cmd);
	req->args = args;
	return 0;
}

void control_proto_req_clear(struct control_proto_req *req)
{
	json_object_put(req->root);
	memset(req, 0, sizeof(*req));
	req->id = "";
}

/* Serialise 'env' (consumed) as one line. */
static char *proto_line(struct json_object *env, size_t *size)
{
	const char *s;
	size_t len;
	char *line = NULL;

	if (env == NULL)
		return NULL;
	s = json_object_to_json_string_length(env, CONTROL_PROTO_OUT_FLAGS, &len);
	if (s != NULL) {
		line = malloc(len + 1);
		if (line != NULL) {
			memcpy(line, s, len);
			line[len] = '\n';
			*size = len + 1;
		}
	}
	json_object_put(env);
	return line;
}

/* A new envelope {"v":1,"id":'id'}; without 'id' (events) just {"v":1}. */
static struct json_object *proto_envelope(const char *id)
{
	struct json_object *env = json_object_new_object();

	if (env == NULL)
		return NULL;
	json_object_object_add(env, "v", json_object_new_int(CONTROL_PROTO_VERSION));
	if (id != NULL)
		json_object_object_add(env, "id", json_object_new_string(id));
	return env;
}

char *control_proto_reply(const char *id, struct json_object *result, size_t *size)
{
	struct json_object *env = proto_envelope(id != NULL ? id : "");

	if (env == NULL)
		return NULL;
	json_object_object_add(env, "ok", json_object_new_boolean(1));
	json_object_object_add(env, "result", result != NULL ? json_object_get(result)
							      : json_object_new_object());
	return proto_line(env, size);
}

char *control_proto_error(const char *id, const char *code, const char *message, size_t *size)
{
	struct json_object *env = proto_envelope(id != NULL ? id : "");
	struct json_object *err = json_object_new_object();

	if (env == NULL || err == NULL) {
		json_object_put(env);
		json_object_put(err);
		return NULL;
	}
	json_object_object_add(err, "code", json_object_new_string(code));
	json_object_object_add(err, "message", json_object_new_string(message != NULL ? message
										      : ""));
	json_object_object_add(env, "ok", json_object_new_boolean(0));
	json_object_object_add(env, "error", err);
	return proto_line(env, size);
}

char *control_proto_event(struct json_object *event, size_t *size)
{
	struct json_object *env = proto_envelope(NULL);

	if (env == NULL)
		return NULL;
	json_object_object_add(env, "event", event != NULL ? json_object_get(event)
							    : json_object_new_object());
	return proto_line(env, size);
}
