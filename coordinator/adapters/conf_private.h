/*
 * Shared between conf.c (the schema: keys, types, ranges) and conf_json.c
 * (reading the file, strict parsing, duplicate keys, error messages).
 */
#ifndef CHORUS_CONF_PRIVATE_H
#define CHORUS_CONF_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json.h>

#include "adapters/conf.h"

#define CONF_JSON_DEPTH 16	/* the schema needs 3 */
#define CONF_ESC_CHARS 48	/* user characters shown in a message */
#define CONF_ESC_SIZE (CONF_ESC_CHARS * 4 + 4)
#define CONF_KP_SIZE 256	/* key path buffer */
#define CONF_SCAN_KEYS 24	/* distinct keys per object the dup scan holds */
#define CONF_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
#define CONF_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct conf_ctx {
	const char *path;
	char *err;
	size_t errsize;
};

/* Write "<path>: <kp>: <message>" and return -EINVAL. */
__attribute__((format(printf, 3, 4)))
int conf_err(struct conf_ctx *cx, const char *kp, const char *fmt, ...);
/* Report a failed system call ('rc' is -errno) and return 'rc'. */
int conf_syserr(struct conf_ctx *cx, const char *what, int rc);
/* Escape user text for a message into 'buf' (CONF_ESC_SIZE bytes). */
const char *conf_esc(const char *s, size_t len, char *buf);
/* Read the file (regular, at most CONF_FILE_MAX bytes) into a NUL-ended buffer. */
int conf_read(struct conf_ctx *cx, char **buf, size_t *len);
/* Strict JSON parse with duplicate-key refusal; '*out' is a new reference. */
int conf_parse(struct conf_ctx *cx, const char *text, size_t len, struct json_object **out);

/* Refuse repeated keys (json-c keeps the last one silently). */
int conf_dupkeys(struct conf_ctx *cx, const char *text, size_t len);

/* Schema helpers (conf.c), shared with conf_bricks.c.  Each checks one
 * value and reports the key path on error. */
const char *conf_kp(char *kp, const char *parent, const char *key);
const char *conf_kind(struct json_object *v);
int conf_object(struct conf_ctx *cx, const char *kp, struct json_object *v,
		const char *const *known);
int conf_u32(struct conf_ctx *cx, const char *kp, struct json_object *v, uint32_t min,
	     uint32_t max, uint32_t *out);
int conf_bool(struct conf_ctx *cx, const char *kp, struct json_object *v, bool *out);
int conf_string(struct conf_ctx *cx, const char *kp, struct json_object *v, const char **s,
		size_t *len, char *esc);
int conf_enum(struct conf_ctx *cx, const char *kp, struct json_object *v,
	      const char *const *names, int *out);
int conf_name(struct conf_ctx *cx, const char *kp, struct json_object *v, char *out);
int conf_ifname(struct conf_ctx *cx, const char *kp, struct json_object *v, char *out);
int conf_path(struct conf_ctx *cx, const char *kp, struct json_object *v, size_t maxlen,
	      char *out);
int conf_address(struct conf_ctx *cx, const char *kp, struct json_object *v,
		 struct res_addr *out);
int conf_vip_cmp(const void *pa, const void *pb);

/* conf_bricks.c: "bricks", "fence" and "watchdog"; the bricks' addresses
 * join c->vips (after conf_vips). */
int conf_bricks(struct conf_ctx *cx, struct json_object *root, struct chorus_conf *c);

/* conf_hooks.c: the "hooks" array (after conf_vips and conf_bricks). */
int conf_hooks(struct conf_ctx *cx, struct json_object *v, struct chorus_conf *c);

/* conf_balance.c: the "balance" object (load balancing). */
int conf_balance(struct conf_ctx *cx, struct json_object *o, struct chorus_conf *c);

/* conf_control.c: the "control" object (the control socket's access). */
int conf_control(struct conf_ctx *cx, struct json_object *o, struct chorus_conf *c);
/* conf_bricks.c: an argv array at 'key' (argv[0] an absolute path). */
int conf_argv(struct conf_ctx *cx, const char *key, struct json_object *v, char (*out)[PATH_MAX],
	      size_t max, size_t *n);
/* conf_hooks.c: "notify" (the event notification hook) */
int conf_notify(struct conf_ctx *cx, struct json_object *o, struct chorus_conf *c);
/* conf_control.c: "metrics" (the scrape endpoint) */
int conf_metrics(struct conf_ctx *cx, struct json_object *o, struct chorus_conf *c);

/* conf_digest.c: the drift check's digests of 'root' (0 on success). */
int conf_digest(struct json_object *root, uint64_t out[CONF_DIGEST_N]);

#endif
