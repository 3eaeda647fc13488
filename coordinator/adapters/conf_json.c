/*
 * Reading and parsing the config file: strict JSON, strict UTF-8, no
 * duplicate keys, error messages that name the file and show hostile text
 * escaped.
 */
#include "adapters/conf_private.h"

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

/*
 * Strict UTF-8, as RFC 3629 and Unicode's table 3-7 define it: the shortest
 * form only, no surrogates (U+D800..U+DFFF), nothing past U+10FFFF.
 * json-c's JSON_TOKENER_VALIDATE_UTF8 checks only the pattern of lead and
 * continuation bytes, so it passes "\xc0\xaf" (an overlong '/', the classic
 * way past a path check), "\xed\xa0\x80" (a surrogate) and "\xf4\x90\x80\x80"
 * (U+110000); and its parser turns a lone surrogate escape ("\ud800") into
 * U+FFFD without a word.  Text from this file reaches logs, plugins, hook
 * argv and paths, whose consumers may decode it less carefully than we
 * would like, so anything but strict UTF-8 is refused here.
 *
 * Returns NULL when 'p' (with 'left' bytes from there) starts with a valid
 * character, whose size goes to '*n'; otherwise why not, written into
 * 'why' (WHY_SIZE bytes).
 */
#define WHY_SIZE 96

static const char *utf8_char(const unsigned char *p, size_t left, size_t *n, char *why)
{
	unsigned char b = p[0];
	uint32_t cp, min;
	size_t len, i;

	if (b < 0x80) {
		*n = 1;
		return NULL;
	}
	if (b < 0xc0) {
		snprintf(why, WHY_SIZE,
			 "invalid UTF-8: continuation byte 0x%02x where a character starts", b);
		return why;
	}
	if (b < 0xe0) {
		len = 2, cp = b & 0x1fu, min = 0x80;
	} else if (b < 0xf0) {
		len = 3, cp = b & 0x0fu, min = 0x800;
	} else if (b < 0xf8) {
		len = 4, cp = b & 0x07u, min = 0x10000;
	} else {
		snprintf(why, WHY_SIZE, "invalid UTF-8: byte 0x%02x", b);
		return why;
	}
	for (i = 1; i < len; i++) {
		if (i >= left || (p[i] & 0xc0) != 0x80) {
			snprintf(why, WHY_SIZE, "invalid UTF-8: truncated %zu-byte sequence", len);
			return why;
		}
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	if (cp < min)
		snprintf(why, WHY_SIZE, "invalid UTF-8: overlong encoding of U+%04X in %zu bytes",
			 (unsigned)cp, len);
	else if (cp >= 0xd800 && cp <= 0xdfff)
		snprintf(why, WHY_SIZE, "invalid UTF-8: encoded surrogate U+%04X", (unsigned)cp);
	else if (cp > 0x10ffff)
		snprintf(why, WHY_SIZE, "invalid UTF-8: code point U+%X beyond U+10FFFF",
			 (unsigned)cp);
	else {
		*n = len;
		return NULL;
	}
	return why;
}

/* The value of the 4 hex digits at 'p' (with 'left' bytes), or -1. */
static long hex4(const char *p, size_t left)
{
	long v = 0;

	if (left < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char ch = p[i];

		v <<= 4;
		if (ch >= '0' && ch <= '9')
			v |= ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			v |= ch - 'a' + 10;
		else if (ch >= 'A' && ch <= 'F')
			v |= ch - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* Check one string of 'text' from its opening quote at 'i'; return the
 * offset of its closing quote, or of the first problem with the reason in
 * 'why' (WHY_SIZE bytes) and '*bad' set. */
static size_t text_string(const char *text, size_t len, size_t i, char *why, bool *bad)
{
	char q = text[i];

	for (i++; i < len && text[i] != q; i++) {
		unsigned char ch = (unsigned char)text[i];
		size_t n;

		if (ch == '\\') {
			long u, lo;

			if (i + 1 >= len)
				break;
			if (text[i + 1] != 'u') {
				i++;
				continue;
			}
			u = hex4(text + i + 2, len - i - 2);
			if (u >= 0xd800 && u <= 0xdbff) {
				lo = i + 7 < len && text[i + 6] == '\\' && text[i + 7] == 'u'
					? hex4(text + i + 8, len - i - 8) : -1;
				if (lo >= 0xdc00 && lo <= 0xdfff) {
					i += 11;	/* a pair: one character */
					continue;
				}
				snprintf(why, WHY_SIZE, "lone surrogate escape \\u%04lX "
					 "(no character; JSON pairs surrogates)", u);
				*bad = true;
				return i;
			}
			if (u == 0) {	/* every consumer is C: the text would end there */
				snprintf(why, WHY_SIZE, "NUL character (\\u0000) in a string");
				*bad = true;
				return i;
			}
			if (u >= 0xdc00 && u <= 0xdfff) {
				snprintf(why, WHY_SIZE, "lone surrogate escape \\u%04lX "
					 "(no character; JSON pairs surrogates)", u);
				*bad = true;
				return i;
			}
			i += u >= 0 ? 5 : 1;
			continue;
		}
		if (ch < 0x20) {
			snprintf(why, WHY_SIZE, "raw control character 0x%02x in a string "
				 "(JSON needs \\u%04x)", ch, ch);
			*bad = true;
			return i;
		}
		if (utf8_char((const unsigned char *)text + i, len - i, &n, why) != NULL) {
			*bad = true;
			return i;
		}
		i += n - 1;
	}
	return i;
}

struct text_frame {
	bool is_object;
	bool want_key;
	const char *key;	/* object: the current key as written */
	size_t klen;
	size_t index;		/* array: the current element */
};

/* "a.b[2].c" for the first 'n' frames into 'kp' (CONF_KP_SIZE bytes). */
static const char *text_path(const struct text_frame *st, size_t n, char *kp)
{
	char esc[CONF_ESC_SIZE];
	size_t o = 0;

	kp[0] = '\0';
	for (size_t k = 0; k < n && o < CONF_KP_SIZE; k++) {
		int w;

		if (!st[k].is_object)
			w = snprintf(kp + o, CONF_KP_SIZE - o, "[%zu]", st[k].index);
		else if (st[k].key != NULL)
			w = snprintf(kp + o, CONF_KP_SIZE - o, "%s%s", o ? "." : "",
				     conf_esc(st[k].key, st[k].klen, esc));
		else
			w = 0;
		if (w < 0)
			break;
		o += (size_t)w;
	}
	return kp[0] ? kp : "top level";
}

/*
 * Check every string of 'text' (keys too), which json-c has accepted as
 * JSON, against strict UTF-8 and JSON's own string rules that json-c lets
 * pass (no lone surrogate escapes, no raw control characters), and refuse
 * \u0000, which the schema refuses where it reads strings itself but which
 * would reach a plugin's config whole.  The error names the key the string
 * belongs to, as the schema errors do.
 */
static int conf_text_check(struct conf_ctx *cx, const char *text, size_t len)
{
	struct text_frame st[CONF_JSON_DEPTH + 1], *f = NULL;
	char why[WHY_SIZE], kp[CONF_KP_SIZE], esc[CONF_ESC_SIZE];
	size_t depth = 0, i, end = 0;
	unsigned line, col;
	bool bad = false, is_key = false;

	for (i = 0; i < len; i++) {
		char ch = text[i];

		if (ch == '{' || ch == '[') {
			if (depth == CONF_ARRAY_SIZE(st))	/* json-c's limit is lower */
				return conf_err(cx, NULL, "nesting too deep");
			f = &st[depth++];
			*f = (struct text_frame){.is_object = ch == '{', .want_key = ch == '{'};
		} else if ((ch == '}' || ch == ']') && depth > 0) {
			depth--;
			f = depth ? &st[depth - 1] : NULL;
		} else if (ch == ',' && f != NULL) {
			f->want_key = f->is_object;
			f->index += !f->is_object;
		} else if (ch == '"' || ch == '\'') {
			is_key = f != NULL && f->is_object && f->want_key;
			end = text_string(text, len, i, why, &bad);
			if (bad)
				break;
			if (is_key) {
				f->key = text + i + 1;
				f->klen = end - i - 1;
				f->want_key = false;
			}
			i = end;
		}
	}
	if (!bad)
		return 0;
	conf_linecol(text, end, &line, &col);
	if (is_key) {	/* named by the object it is in, and shown whole */
		size_t k = i + 1;

		while (k < len && text[k] != text[i])
			k += text[k] == '\\' ? 2 : 1;
		return conf_err(cx, text_path(st, depth - 1, kp),
				"line %u, column %u: key \"%s\": %s", line, col,
				conf_esc(text + i + 1, (k < len ? k : len) - i - 1, esc), why);
	}
	return conf_err(cx, text_path(st, depth, kp), "line %u, column %u: %s", line, col, why);
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
	rc = conf_text_check(cx, text, len);
	if (rc < 0)
		goto out;
	*out = root;
	root = NULL;
out:
	json_object_put(root);
	json_tokener_free(tok);
	return rc;
}
