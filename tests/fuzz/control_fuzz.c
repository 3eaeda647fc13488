/*
 * libFuzzer target for the control request parser (coordinator/adapters/control_proto.c),
 * the code that sees every byte a client sends.
 *
 * Each input is one line as the server would cut it.  Beyond "no crash, no
 * leak, no undefined behaviour" (the sanitizers' job) it checks what the
 * server relies on: a request that parses has a well-formed command and an
 * args object, an error always has a message, and every reply or error line
 * built from what was parsed is exactly one line.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/control_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_line(char *line, size_t size)
{
	assert(line != NULL);
	assert(size > 0 && line[size - 1] == '\n');
	assert(memchr(line, '\n', size - 1) == NULL);
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control_proto_req req;
	char msg[CONTROL_PROTO_MSG_SIZE];
	size_t n;
	int rc;

	msg[0] = '\0';
	rc = control_proto_parse((const char *)data, size, &req, msg, sizeof(msg));
	assert(req.id != NULL && strlen(req.id) <= CONTROL_PROTO_ID_MAX);
	if (rc == 0) {
		assert(req.cmd != NULL && control_proto_cmd_valid(req.cmd, strlen(req.cmd)));
		assert(json_object_is_type(req.args, json_type_object));
		/* Echo the args back, as a handler that returns its input would. */
		check_line(control_proto_reply(req.id, req.args, &n), n);
		check_line(control_proto_event(req.args, &n), n);
	} else {
		assert(rc == -EINVAL || rc == -ENOMEM);
		assert(msg[0] != '\0');
		check_line(control_proto_error(req.id, "bad_request", msg, &n), n);
	}
	control_proto_req_clear(&req);
	return 0;
}
