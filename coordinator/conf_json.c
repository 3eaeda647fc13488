/*
 * Reading and parsing the config file: strict JSON, no duplicate keys, error
 * messages that name the file and show hostile text escaped.
 */
#include "conf_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Write "<path>: <kp>: <message>" (or "<path>: <message>" without 'kp') and
 * return -EINVAL, so that checks can end in "return conf_err(...)". */
int conf_err(struct conf_ctx *cx, const char *kp, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (cx->err == NULL || cx->errsize == 0)
		return -EINVAL;
	if (kp != NULL)
		n = snprintf(cx->err, cx->errsize, "%s: %s: ", cx->path, kp);
	else
		n = snprintf(cx->err, cx->errsize, "%s: ", cx->path);
	if (n < 0 || (size_t)n >= cx->errsize)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(cx->err + n, cx->errsize - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Report a failed system call ('rc' is -errno) and return 'rc'. */
int conf_syserr(struct conf_ctx *cx, const char *what, int rc)
{
	char buf[128];

	conf_err(cx, NULL, "cannot %s: %s", what,
		 strerror_r(-rc, buf, sizeof(buf)));
	return rc;
}

/* Escape 'len' bytes of 's' into 'buf' (CONF_ESC_SIZE bytes): printable ASCII
 * as is, '"' and '\' backslashed, anything else as \xNN, and "..." after
 * CONF_ESC_CHARS characters. */
const char *conf_esc(const char *s, size_t len, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < len && i < CONF_ESC_CHARS; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)ch;
		} else if (ch >= 0x20 && ch < 0x7f) {
			buf[o++] = (char)ch;
		} else {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[ch >> 4];
			buf[o++] = hex[ch & 15];
		}
	}
	if (i < len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/* Line and column (both from 1) of byte 'off' in 'text'. */
static void conf_linecol(const char *text, size_t off, unsigned *line,
			 unsigned *col)
{
	size_t i, start = 0;

	*line = 1;
	for (i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			start = i + 1;
		}
	}
	*col = (unsigned)(off - start + 1);
}

struct conf_scan_frame {
	bool is_object;
	bool want_key;
	size_t n_keys;
	const char *keys[CONF_SCAN_KEYS];
	size_t key_lens[CONF_SCAN_KEYS];
};

/*
 * Find repeated keys in 'text', which json-c has already accepted as strict
 * JSON (so brackets balance and strings end).  Keys are compared as written,
 * so a key spelled with escapes is refused outright: every valid key is plain
 * ASCII, and "gro\u0075p" (or "group\u0000x", which json-c cuts short) would
 * otherwise slip past as a second "group".  json-c's strict mode also lets
 * single-quoted keys through; they are not JSON, so they go too.
 */
int conf_dupkeys(struct conf_ctx *cx, const char *text, size_t len)
{
	struct conf_scan_frame st[CONF_JSON_DEPTH + 1], *f = NULL;
	char esc[CONF_ESC_SIZE];
	const char *what = NULL, *key = "";
	size_t i, j, k, klen = 0, depth = 0;
	unsigned line, col;

	for (i = 0; i < len && what == NULL; i++) {
		char ch = text[i];

		if (ch == '{' || ch == '[') {
			if (depth == CONF_ARRAY_SIZE(st))	/* json-c's limit is lower */
				return conf_err(cx, NULL, "nesting too deep");
			f = &st[depth++];
			f->is_object = ch == '{';
			f->want_key = true;
			f->n_keys = 0;
		} else if (ch == '}' || ch == ']') {
			depth--;
			f = depth ? &st[depth - 1] : NULL;
		} else if (ch == ',' && f != NULL) {
			f->want_key = true;
		} else if (ch == '"' || ch == '\'') {
			for (j = i + 1; j < len && text[j] != ch; j++)
				if (text[j] == '\\')
					j++;
			key = text + i + 1;
			klen = j - i - 1;
			if (f != NULL && f->is_object && f->want_key) {
				if (ch != '"' || memchr(key, '\\', klen) != NULL)
					what = "must be a plain double-quoted string";
				for (k = 0; what == NULL && k < f->n_keys; k++)
					if (f->key_lens[k] == klen &&
					    memcmp(f->keys[k], key, klen) == 0)
						what = "is a duplicate (JSON would silently keep only the last)";
				if (what == NULL && f->n_keys == CONF_SCAN_KEYS)
					what = "is one key too many";
				if (what != NULL)
					break;
				f->keys[f->n_keys] = key;
				f->key_lens[f->n_keys++] = klen;
				f->want_key = false;
			}
			i = j;
		}
	}
	if (what == NULL)
		return 0;
	conf_linecol(text, i, &line, &col);
	return conf_err(cx, NULL, "line %u, column %u: key \"%s\" %s", line, col,
			conf_esc(key, klen, esc), what);
}

/* Read the whole file into a new NUL-terminated buffer in '*buf'. */
int conf_read(struct conf_ctx *cx, char **buf, size_t *len)
{
	struct stat st;
	size_t n = 0;
	ssize_t r;
	char *b = NULL;
	int fd, rc = 0;

	fd = open(cx->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return conf_syserr(cx, "open", -errno);
	if (fstat(fd, &st) < 0) {
		rc = conf_syserr(cx, "stat", -errno);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = conf_err(cx, NULL, "not a regular file");
		goto out;
	}
	if (st.st_size > CONF_FILE_MAX) {
		rc = conf_err(cx, NULL, "file is %lld bytes, larger than the %d byte limit",
			      (long long)st.st_size, CONF_FILE_MAX);
		goto out;
	}
	/* Room for one byte beyond the limit catches a file that grew since
	 * fstat(), plus the NUL. */
	b = malloc(CONF_FILE_MAX + 2);
	if (b == NULL) {
		rc = conf_syserr(cx, "allocate", -ENOMEM);
		goto out;
	}
	while (n <= CONF_FILE_MAX) {
		r = read(fd, b + n, CONF_FILE_MAX + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = conf_syserr(cx, "read", -errno);
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > CONF_FILE_MAX) {
		rc = conf_err(cx, NULL, "file is larger than the %d byte limit",
			      CONF_FILE_MAX);
		goto out;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
out:
	free(b);
	close(fd);
	return rc;
}

int conf_parse(struct conf_ctx *cx, const char *text, size_t len,
		      struct json_object **out)
{
	struct json_tokener *tok;
	struct json_object *root;
	enum json_tokener_error jerr;
	unsigned line, col;
	size_t end;
	int rc = 0;

	if (strspn(text, " \t\r\n") == len)
		return conf_err(cx, NULL, "file is empty (expected a JSON object, e.g. {})");
	tok = json_tokener_new_ex(CONF_JSON_DEPTH);
	if (tok == NULL)
		return conf_syserr(cx, "allocate", -ENOMEM);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue) {
		/* A NUL ends a top-level number; anything else is truncated
		 * ("unexpected end of data"). */
		root = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		end = len;
	}
	conf_linecol(text, end, &line, &col);
	if (jerr != json_tokener_success) {
		rc = conf_err(cx, NULL, "line %u, column %u: JSON syntax error: %s",
			      line, col, json_tokener_error_desc(jerr));
		goto out;
	}
	/* json-c stops at a NUL byte and reports success. */
	if (end < len) {
		rc = conf_err(cx, NULL, "line %u, column %u: unexpected %s after the top-level value",
			      line, col, text[end] == '\0' ? "NUL byte" : "data");
		goto out;
	}
	*out = root;
	root = NULL;
out:
	json_object_put(root);
	json_tokener_free(tok);
	return rc;
}
