/*
 * chorusctl output: what each result looks like to people.  Pure printing
 * to stdout from json-c trees, so it can be read (and changed) apart from
 * the socket handling in chorusctl.c.  Every accessor tolerates a missing
 * key or a value of the wrong type: a daemon's surprise is never a crash.
 */
#include "cli/chorusctl_print.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTL_CELL_SIZE 256

struct json_object *chorusctl_jget(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

const char *chorusctl_jstr(struct json_object *o, const char *key, const char *def)
{
	struct json_object *v = chorusctl_jget(o, key);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : def;
}

bool chorusctl_jint(struct json_object *o, const char *key, int64_t *out)
{
	struct json_object *v = chorusctl_jget(o, key);

	if (!json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

/* 1 true, 0 false, -1 absent or not a boolean. */
int chorusctl_jbool(struct json_object *o, const char *key)
{
	struct json_object *v = chorusctl_jget(o, key);

	if (!json_object_is_type(v, json_type_boolean))
		return -1;
	return json_object_get_boolean(v) ? 1 : 0;
}

struct json_object *chorusctl_jarray(struct json_object *o, const char *key)
{
	struct json_object *v = chorusctl_jget(o, key);

	return json_object_is_type(v, json_type_array) ? v : NULL;
}

/*
 * Tables: a header and rows of cells, printed with each column as wide as
 * its widest cell and two spaces between columns; the last column is not
 * padded, so a long reason runs on instead of widening every line.  Widths
 * are measured on the text alone and colour wraps only the text, so escape
 * codes never skew the columns.
 */
#define CTL_TABLE_COLS 6

struct ctl_cell {
	char text[CTL_CELL_SIZE];
	const char *color;	/* an escape sequence, or NULL */
};

struct ctl_table {
	int ncols;
	const char *head[CTL_TABLE_COLS];
	bool right[CTL_TABLE_COLS];	/* numbers align right */
	struct ctl_cell *cells;
	size_t nrows, cap;
};

#define CTL_RED "\033[31m"
#define CTL_GREEN "\033[32m"
#define CTL_YELLOW "\033[33m"
#define CTL_BOLD "\033[1m"
#define CTL_RESET "\033[0m"

bool chorusctl_color;

static const char *ctl_state_color(const char *state)
{
	static const struct {
		const char *state, *color;
	} map[] = {
		{"active", CTL_GREEN},	  {"up", CTL_GREEN},	     {"healthy", CTL_GREEN},
		{"standby", CTL_YELLOW},  {"moving", CTL_YELLOW},    {"leaving", CTL_YELLOW},
		{"starting", CTL_YELLOW},
		{"unhealthy", CTL_RED},	  {"left", CTL_RED},	     {"unplaced", CTL_RED},
		{"unresponsive", CTL_RED}, {"absent", CTL_RED}, {"pending", CTL_YELLOW},  {"lost", CTL_RED},
		{"offline", CTL_RED},
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(state, map[i].state) == 0)
			return map[i].color;
	return NULL;
}

/* A new row; returns its first cell, or NULL when out of memory. */
static struct ctl_cell *ctl_table_row(struct ctl_table *t)
{
	struct ctl_cell *p;
	size_t cap;

	if (t->nrows == t->cap) {
		cap = t->cap != 0 ? t->cap * 2 : 16;
		p = realloc(t->cells, cap * CTL_TABLE_COLS * sizeof(*p));
		if (p == NULL)
			return NULL;
		t->cells = p;
		t->cap = cap;
	}
	p = &t->cells[t->nrows++ * CTL_TABLE_COLS];
	memset(p, 0, CTL_TABLE_COLS * sizeof(*p));
	return p;
}

/* The daemon's strings are data: no control characters reach the terminal
 * (a node name carrying an escape sequence, say). */
static void ctl_sanitize(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

__attribute__((format(printf, 3, 4)))
static void ctl_cell_set(struct ctl_cell *c, const char *color, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->text, sizeof(c->text), fmt, ap);
	va_end(ap);
	ctl_sanitize(c->text);
	c->color = chorusctl_color ? color : NULL;
}

/* Display width of UTF-8 text: one column per character (good enough for
 * names and addresses; no wide characters are expected). */
static int ctl_width(const char *s)
{
	int w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* Append to a line being built; output is cut, never overrun. */
__attribute__((format(printf, 4, 5)))
static void ctl_put(char *line, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len + 1 >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len = *len + (size_t)n < size ? *len + (size_t)n : size - 1;
}

static void ctl_table_print(struct ctl_table *t, const char *indent)
{
	int width[CTL_TABLE_COLS] = {0};
	char line[CTL_TABLE_COLS * (CTL_CELL_SIZE + 16) + 64];
	size_t r, len;
	int i, pad;

	for (i = 0; i < t->ncols; i++)
		width[i] = ctl_width(t->head[i]);
	for (r = 0; r < t->nrows; r++)
		for (i = 0; i < t->ncols; i++)
			if (ctl_width(t->cells[r * CTL_TABLE_COLS + i].text) > width[i])
				width[i] = ctl_width(t->cells[r * CTL_TABLE_COLS + i].text);
	for (r = 0; r <= t->nrows; r++) {
		len = 0;
		ctl_put(line, sizeof(line), &len, "%s", indent);
		for (i = 0; i < t->ncols; i++) {
			const struct ctl_cell *c = r > 0 ? &t->cells[(r - 1) * CTL_TABLE_COLS + i]
							 : NULL;
			const char *text = c != NULL ? c->text : t->head[i];
			const char *color = c != NULL ? c->color
						      : (chorusctl_color ? CTL_BOLD : NULL);

			pad = width[i] - ctl_width(text);
			if (t->right[i])
				ctl_put(line, sizeof(line), &len, "%*s", pad, "");
			if (color != NULL && text[0] != '\0')
				ctl_put(line, sizeof(line), &len, "%s%s%s", color, text, CTL_RESET);
			else
				ctl_put(line, sizeof(line), &len, "%s", text);
			if (!t->right[i] && i < t->ncols - 1)
				ctl_put(line, sizeof(line), &len, "%*s", pad, "");
			if (i < t->ncols - 1)
				ctl_put(line, sizeof(line), &len, "  ");
		}
		/* An empty last column (no reason) leaves no trailing blanks. */
		while (len > 0 && line[len - 1] == ' ')
			len--;
		line[len] = '\0';
		puts(line);
	}
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}

/* "12s ago", "3m 20s ago", "5h 2m ago", "4d 1h ago". */
static void ctl_fmt_ago(char *buf, size_t size, int64_t ms)
{
	int64_t s = ms / 1000;

	if (ms < 0)
		snprintf(buf, size, "-");
	else if (s < 60)
		snprintf(buf, size, "%llds ago", (long long)s);
	else if (s < 3600)
		snprintf(buf, size, "%lldm %llds ago", (long long)(s / 60), (long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, size, "%lldh %lldm ago", (long long)(s / 3600),
			 (long long)(s % 3600 / 60));
	else
		snprintf(buf, size, "%lldd %lldh ago", (long long)(s / 86400),
			 (long long)(s % 86400 / 3600));
}

/* A node for people: its name, else "#id", else "-". */
static void ctl_fmt_node(char *buf, size_t size, struct json_object *o, const char *id_key,
			 const char *name_key)
{
	const char *name = chorusctl_jstr(o, name_key, "");
	int64_t id;

	if (name[0] != '\0')
		snprintf(buf, size, "%s", name);
	else if (chorusctl_jint(o, id_key, &id) && id > 0)
		snprintf(buf, size, "#%lld", (long long)id);
	else
		snprintf(buf, size, "-");
}

/* Load columns appear once some address carries load: a cluster without a
 * load plugin keeps the plain tables. */
static bool ctl_has_load(struct json_object *arr)
{
	size_t i, n = arr != NULL ? json_object_array_length(arr) : 0;
	int64_t v;

	for (i = 0; i < n; i++)
		if (chorusctl_jint(json_object_array_get_idx(arr, i), "load", &v) && v > 0)
			return true;
	return false;
}

static void ctl_cell_int(struct ctl_cell *c, struct json_object *o, const char *key)
{
	int64_t v;

	if (chorusctl_jint(o, key, &v))
		ctl_cell_set(c, NULL, "%lld", (long long)v);
	else
		ctl_cell_set(c, NULL, "-");
}

/* Members whose chorus.json differs from this node's, with the keys. */
static void ctl_print_drift(struct json_object *nodes)
{
	size_t n = nodes != NULL ? json_object_array_length(nodes) : 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *node = json_object_array_get_idx(nodes, i);
		struct json_object *keys = chorusctl_jarray(node, "config_differs");
		size_t k = keys != NULL ? json_object_array_length(keys) : 0;
		char name[CTL_CELL_SIZE], key[CTL_CELL_SIZE];

		if (k == 0)
			continue;
		snprintf(name, sizeof(name), "%s", chorusctl_jstr(node, "name", "?"));
		ctl_sanitize(name);
		printf("  %sConfiguration of %s differs from this node's in:%s", chorusctl_color ?
		       CTL_YELLOW : "", name, chorusctl_color ? CTL_RESET : "");
		for (size_t j = 0; j < k; j++) {
			struct json_object *x = json_object_array_get_idx(keys, j);

			snprintf(key, sizeof(key), "%s",
				 json_object_is_type(x, json_type_string) ? json_object_get_string(x)
									  : "?");
			ctl_sanitize(key);
			printf("%s %s", j ? "," : "", key);
		}
		printf("\n");
	}
}

void chorusctl_print_nodes(struct json_object *nodes, const char *indent)
{
	bool load = ctl_has_load(nodes);
	struct ctl_table t = {.ncols = load ? 6 : 5,
			      .head = {"ID", "NAME", "STATE", "VIPS", "REASON"},
			      .right = {true, false, false, true, false, true}};
	struct ctl_cell *c;
	size_t i, n = nodes != NULL ? json_object_array_length(nodes) : 0;
	int64_t v;

	if (n == 0) {
		printf("%sNo nodes.\n", indent);
		return;
	}
	for (i = 0; i < n; i++) {
		struct json_object *node = json_object_array_get_idx(nodes, i);
		const char *state = chorusctl_jstr(node, "state", "?");

		c = ctl_table_row(&t);
		if (c == NULL)
			break;
		if (chorusctl_jint(node, "id", &v))
			ctl_cell_set(&c[0], NULL, "%lld", (long long)v);
		else
			ctl_cell_set(&c[0], NULL, "-");
		ctl_cell_set(&c[1], NULL, "%s", chorusctl_jstr(node, "name", "-"));
		ctl_cell_set(&c[2], ctl_state_color(state), "%s", state);
		if (chorusctl_jint(node, "vips", &v))
			ctl_cell_set(&c[3], NULL, "%lld", (long long)v);
		else
			ctl_cell_set(&c[3], NULL, "-");
		ctl_cell_set(&c[4], NULL, "%s", chorusctl_jstr(node, "reason", ""));
		if (load)
			ctl_cell_int(&c[5], node, "load");
	}
	if (load)
		t.head[5] = "LOAD";
	ctl_table_print(&t, indent);
}

/* The name of node 'id' from a status's node list, for pins. */
static const char *ctl_node_name(struct json_object *nodes, int64_t id)
{
	size_t i, n = nodes != NULL ? json_object_array_length(nodes) : 0;
	int64_t v;

	for (i = 0; i < n; i++) {
		struct json_object *node = json_object_array_get_idx(nodes, i);

		if (chorusctl_jint(node, "id", &v) && v == id)
			return chorusctl_jstr(node, "name", NULL);
	}
	return NULL;
}

void chorusctl_print_vips(struct json_object *vips, struct json_object *nodes, const char *indent)
{
	bool load = ctl_has_load(vips);
	struct ctl_table t = {.ncols = load ? 6 : 4,
			      .head = {"ADDRESS", "POOL", "OWNER", "STATE", "LOAD", "CONNS"},
			      .right = {false, false, false, false, true, true}};
	struct ctl_cell *c;
	size_t i, n = vips != NULL ? json_object_array_length(vips) : 0;
	char owner[CTL_CELL_SIZE], pin[CTL_CELL_SIZE];
	int64_t pinned, own;

	if (n == 0) {
		printf("%sNo addresses.\n", indent);
		return;
	}
	for (i = 0; i < n; i++) {
		struct json_object *vip = json_object_array_get_idx(vips, i);
		const char *state = chorusctl_jstr(vip, "state", "?");
		const char *pname;

		c = ctl_table_row(&t);
		if (c == NULL)
			break;
		ctl_cell_set(&c[0], NULL, "%s", chorusctl_jstr(vip, "address", "?"));
		ctl_cell_set(&c[1], NULL, "%s", chorusctl_jstr(vip, "pool", "-"));
		ctl_fmt_node(owner, sizeof(owner), vip, "owner", "owner_name");
		ctl_cell_set(&c[2], NULL, "%s", owner);
		pin[0] = '\0';
		if (chorusctl_jint(vip, "pinned", &pinned)) {
			if (chorusctl_jint(vip, "owner", &own) && own == pinned) {
				snprintf(pin, sizeof(pin), " (pinned)");
			} else {
				pname = ctl_node_name(nodes, pinned);
				if (pname != NULL)
					snprintf(pin, sizeof(pin), " (pinned to %s)", pname);
				else
					snprintf(pin, sizeof(pin), " (pinned to #%lld)",
						 (long long)pinned);
			}
		}
		/* a taker waiting for a lost or frozen node's addresses to
		 * expire there: say for whom and how much longer */
		if (strcmp(state, "pending") == 0 && chorusctl_jint(vip, "holdoff_ms", &own)) {
			char who[CTL_CELL_SIZE];
			int64_t by = 0;

			(void)chorusctl_jint(vip, "held_by", &by);
			pname = ctl_node_name(nodes, by);
			if (pname != NULL)
				snprintf(who, sizeof(who), "%s", pname);
			else
				snprintf(who, sizeof(who), "#%lld", (long long)by);
			ctl_cell_set(&c[3], ctl_state_color(state), "%s (may be up on %s %.1f s)%s",
				     state, who, own / 1000.0, pin);
		} else {
			ctl_cell_set(&c[3], ctl_state_color(state), "%s%s", state, pin);
		}
		if (load) {
			ctl_cell_int(&c[4], vip, "load");
			ctl_cell_int(&c[5], vip, "conns");
		}
	}
	ctl_table_print(&t, indent);
}

/* The status summary.  Returns the exit status: healthy or not. */
/* This node's health checks: scope, verdict, for how long, why. */
static void ctl_print_checks(struct json_object *checks, const char *indent)
{
	struct ctl_table t = {.ncols = 4, .head = {"SCOPE", "HEALTH", "FOR", "REASON"}};
	size_t i, n = checks != NULL ? json_object_array_length(checks) : 0;
	char buf[64];
	int64_t v;

	for (i = 0; i < n; i++) {
		struct json_object *ck = json_object_array_get_idx(checks, i);
		const char *h = chorusctl_jstr(ck, "health", "?");
		struct ctl_cell *c = ctl_table_row(&t);

		if (c == NULL)
			break;
		ctl_cell_set(&c[0], NULL, "%s", chorusctl_jstr(ck, "scope", "-"));
		ctl_cell_set(&c[1], strcmp(h, "ok") == 0 ? CTL_GREEN
				    : strcmp(h, "degraded") == 0 ? CTL_YELLOW : CTL_RED, "%s", h);
		if (chorusctl_jint(ck, "age_ms", &v)) {
			ctl_fmt_ago(buf, sizeof(buf), v);
			ctl_cell_set(&c[2], NULL, "%s", buf);
		} else {
			ctl_cell_set(&c[2], NULL, "-");
		}
		ctl_cell_set(&c[3], NULL, "%s", chorusctl_jstr(ck, "reason", ""));
	}
	ctl_table_print(&t, indent);
}

/* The vip entry of 'address' in a status's address list, or NULL. */
static struct json_object *ctl_vip_find(struct json_object *vips, const char *address)
{
	size_t i, n = vips != NULL ? json_object_array_length(vips) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *vip = json_object_array_get_idx(vips, i);

		if (strcmp(chorusctl_jstr(vip, "address", ""), address) == 0)
			return vip;
	}
	return NULL;
}

/* A node id for people: its name from the status's node list, else "#id". */
static void ctl_fmt_id(char *buf, size_t size, struct json_object *nodes, int64_t id)
{
	const char *name = ctl_node_name(nodes, id);

	if (name != NULL && name[0] != '\0')
		snprintf(buf, size, "%s", name);
	else
		snprintf(buf, size, "#%lld", (long long)id);
}

/* Why the cluster is unhealthy, first cause first: the one to fix. */
static const char *ctl_unhealthy_cause(struct json_object *res, char *buf, size_t size)
{
	struct json_object *cl = chorusctl_jget(res, "cluster");
	struct json_object *nodes = chorusctl_jarray(res, "nodes");
	struct json_object *vips = chorusctl_jarray(res, "vips");
	size_t i, n, unplaced = 0, inactive = 0;

	if (chorusctl_jbool(cl, "connected") == 0)
		return "not connected to corosync";
	if (chorusctl_jbool(cl, "quorate") != 1)
		return "no quorum";
	if (chorusctl_jbool(cl, "round_complete") == 0)
		return "placement round in progress";
	n = vips != NULL ? json_object_array_length(vips) : 0;
	for (i = 0; i < n; i++)
		if (strcmp(chorusctl_jstr(json_object_array_get_idx(vips, i), "state", ""),
			   "unplaced") == 0)
			unplaced++;
	if (unplaced > 0) {
		snprintf(buf, size, "%zu address%s unplaced", unplaced, unplaced == 1 ? "" : "es");
		return buf;
	}
	n = nodes != NULL ? json_object_array_length(nodes) : 0;
	for (i = 0; i < n; i++)
		if (strcmp(chorusctl_jstr(json_object_array_get_idx(nodes, i), "state", ""),
			   "active") != 0)
			inactive++;
	if (inactive > 0) {
		snprintf(buf, size, "%zu node%s not active", inactive, inactive == 1 ? "" : "s");
		return buf;
	}
	return NULL;
}

/* A brick's set (issue 17): which, from where, and whether chorus.json's
 * override disagrees with glusterd or the table does not use it yet. */
static void ctl_print_set(struct ctl_cell *c, struct json_object *s, size_t *conflicts)
{
	const char *name = chorusctl_jstr(s, "set", NULL), *src = chorusctl_jstr(s, "source", "");

	if (s == NULL) {
		ctl_cell_set(c, NULL, "?");
	} else if (chorusctl_jbool(s, "conflict") == 1) {
		(*conflicts)++;
		ctl_cell_set(c, CTL_RED, "%s (gluster: %s)", name != NULL ? name : "-",
			     chorusctl_jstr(s, "gluster", "none"));
	} else if (name == NULL) {
		ctl_cell_set(c, NULL, "-");
	} else if (chorusctl_jbool(s, "in_effect") == 0) {
		ctl_cell_set(c, CTL_YELLOW, "%s (next round)", name);
	} else {
		ctl_cell_set(c, NULL, "%s%s", name, strcmp(src, "config") == 0 ? " (config)" : "");
	}
}

/* Bricks and what guards them: one line each, then fencing, the watchdog
 * and the inventory, each only when configured or when it has something
 * to say.  False (nothing printed) when no brick is configured. */
bool chorusctl_print_bricks(struct json_object *res, bool alone)
{
	struct json_object *b = chorusctl_jget(res, "bricks");
	struct json_object *list = chorusctl_jarray(b, "bricks");
	struct json_object *nodes = chorusctl_jarray(res, "nodes");
	struct json_object *vips = chorusctl_jarray(res, "vips");
	struct json_object *inv = chorusctl_jget(b, "inventory"), *last;
	struct ctl_table t = {.ncols = 5, .head = {"VOLUME", "BRICK", "SET", "OWNER", "STATE"}};
	size_t i, n = list != NULL ? json_object_array_length(list) : 0, conflicts = 0;
	char who[CTL_CELL_SIZE], waiting[CTL_CELL_SIZE * 2] = "", buf[64];
	const char *wd = chorusctl_jstr(b, "watchdog", NULL), *err;
	int64_t v, ok = 0, failed = 0;

	if (b == NULL)
		return false;
	printf("%sBricks:\n", alone ? "" : "\n");
	if (n == 0)
		printf("  No bricks.\n");
	for (i = 0; i < n; i++) {
		struct json_object *x = json_object_array_get_idx(list, i);
		struct json_object *vip = ctl_vip_find(vips, chorusctl_jstr(x, "address", ""));
		const char *state = vip != NULL ? chorusctl_jstr(vip, "state", "?") : "?";
		struct ctl_cell *c = ctl_table_row(&t);

		if (c == NULL)
			break;
		ctl_cell_set(&c[0], NULL, "%s", chorusctl_jstr(x, "volume", "-"));
		ctl_cell_set(&c[1], NULL, "%s:%s", chorusctl_jstr(x, "host", "?"),
			     chorusctl_jstr(x, "path", "?"));
		ctl_print_set(&c[2], chorusctl_jget(x, "set"), &conflicts);
		ctl_fmt_node(who, sizeof(who), vip, "owner", "owner_name");
		ctl_cell_set(&c[3], NULL, "%s", who);
		/* this node's view of its own copy first: it is what an
		 * operator on this node can act on */
		if (chorusctl_jbool(x, "failed") == 1) {
			ctl_cell_set(&c[4], CTL_RED, "failed here (held off)");
		} else if (strcmp(chorusctl_jstr(x, "doing", ""), "starting") == 0 ||
			   strcmp(chorusctl_jstr(x, "doing", ""), "stopping") == 0) {
			/* a routine check is no change: only a start or stop is */
			ctl_cell_set(&c[4], CTL_YELLOW, "%s here", chorusctl_jstr(x, "doing", ""));
		} else if (chorusctl_jint(vip, "waiting_for", &v)) {
			ctl_fmt_id(who, sizeof(who), nodes, v);
			ctl_cell_set(&c[4], CTL_YELLOW, "waiting for %s to be fenced", who);
		} else {
			ctl_cell_set(&c[4], ctl_state_color(state), "%s%s%s", state,
				     chorusctl_jbool(x, "running_here") == 1 ? ", running here" : "",
				     chorusctl_jbool(x, "in_gluster") == 0 ? ", not in gluster" : "");
		}
		if (chorusctl_jint(vip, "waiting_for", &v)) {
			ctl_fmt_id(who, sizeof(who), nodes, v);
			if (strstr(waiting, who) == NULL)
				snprintf(waiting + strlen(waiting), sizeof(waiting) - strlen(waiting),
					 "%s%s", waiting[0] != '\0' ? ", " : "", who);
		}
	}
	if (n > 0)
		ctl_table_print(&t, "  ");
	/* entries glusterd did not name: this node cannot serve them */
	{
		struct json_object *nd = chorusctl_jarray(b, "not_declared");
		size_t k, nn = nd != NULL ? json_object_array_length(nd) : 0;

		for (k = 0; k < nn; k++) {
			struct json_object *x = json_object_array_get_idx(nd, k);
			char e[CTL_CELL_SIZE * 2];

			snprintf(e, sizeof(e), "%s (%s): %s", chorusctl_jstr(x, "host", "?"),
				 chorusctl_jstr(x, "address", "?"), chorusctl_jstr(x, "reason", "?"));
			ctl_sanitize(e);
			printf("%-15s%s%s%s\n", k == 0 ? "Not declared:" : "",
			       chorusctl_color ? CTL_YELLOW : "", e, chorusctl_color ? CTL_RESET : "");
		}
	}
	if (conflicts > 0)
		printf("%-15s%s%zu brick%s: chorus.json's \"set\" disagrees with glusterd%s\n",
		       "Sets:", chorusctl_color ? CTL_RED : "",
		       conflicts, conflicts == 1 ? "" : "s", chorusctl_color ? CTL_RESET : "");
	(void)chorusctl_jint(b, "fences_ok", &ok);
	(void)chorusctl_jint(b, "fences_failed", &failed);
	printf("%-15s%s", "Fencing:", chorusctl_jstr(b, "fence", "?"));
	if (chorusctl_jint(b, "fencing", &v)) {
		ctl_fmt_id(who, sizeof(who), nodes, v);
		printf("; fencing %s now", who);
	}
	if (waiting[0] != '\0') {
		ctl_sanitize(waiting);
		printf("; bricks wait for %s", waiting);
	}
	putchar('\n');
	last = chorusctl_jget(b, "last_fence");
	if (last != NULL && chorusctl_jint(last, "node", &v)) {
		int64_t age = -1;
		bool done = chorusctl_jbool(last, "ok") == 1;

		ctl_fmt_id(who, sizeof(who), nodes, v);
		(void)chorusctl_jint(last, "age_ms", &age);
		ctl_fmt_ago(buf, sizeof(buf), age);
		printf("%-15s%s%s %s%s, %s (%lld ok, %lld failed)\n", "Last fence:",
		       chorusctl_color && !done ? CTL_RED : "", who,
		       done ? "fenced" : "NOT fenced", chorusctl_color && !done ? CTL_RESET : "",
		       buf, (long long)ok, (long long)failed);
	}
	if (wd != NULL && strcmp(wd, "none") != 0)
		printf("%-15s%s%s%s\n", "Watchdog:",
		       chorusctl_color && strcmp(wd, "fed") != 0 ? CTL_RED : "",
		       strcmp(wd, "fed") == 0 ? "fed" : "STARVING (this node will be reset)",
		       chorusctl_color && strcmp(wd, "fed") != 0 ? CTL_RESET : "");
	/* chorus-brick refuses to start bricks meanwhile (chorus-brick(7)) */
	if (chorusctl_jbool(inv, "brick_multiplex") == 1)
		printf("%-15s%sON (cluster.brick-multiplex): bricks are not started%s\n",
		       "Multiplexing:", chorusctl_color ? CTL_RED : "",
		       chorusctl_color ? CTL_RESET : "");
	err = chorusctl_jstr(inv, "error", "");
	if (err[0] != '\0') {
		char e[CTL_CELL_SIZE];

		snprintf(e, sizeof(e), "%s", err);
		ctl_sanitize(e);
		printf("%-15s%s%s%s\n", "Inventory:", chorusctl_color ? CTL_RED : "", e,
		       chorusctl_color ? CTL_RESET : "");
	}
	return true;
}

/* Service hooks, only once one has failed. */
static void ctl_print_hooks(struct json_object *res)
{
	struct json_object *h = chorusctl_jget(res, "hooks");
	int64_t failures = 0, runs = 0;
	char last[CTL_CELL_SIZE];

	if (!chorusctl_jint(h, "failures", &failures) || failures <= 0)
		return;
	(void)chorusctl_jint(h, "runs", &runs);
	snprintf(last, sizeof(last), "%s", chorusctl_jstr(h, "last_failure", ""));
	ctl_sanitize(last);
	printf("\n%-15s%s%lld of %lld runs failed%s%s%s\n", "Hooks:",
	       chorusctl_color ? CTL_RED : "", (long long)failures, (long long)runs,
	       chorusctl_color ? CTL_RESET : "", last[0] != '\0' ? "; last: " : "", last);
}

/* The cluster summary once corosync has answered: this node, the ring,
 * the replicated state and the last changes. */
static void ctl_print_summary(struct json_object *cl)
{
	int maint = chorusctl_jbool(cl, "maintenance");
	char buf[64];
	int64_t v;

	if (chorusctl_jint(cl, "node_id", &v) && v > 0)
		printf("%-15s%lld\n", "This node:", (long long)v);
	printf("%-15s%s\n", "Ring id:", chorusctl_jstr(cl, "ring", "-"));
	if (chorusctl_jint(cl, "proto", &v) && v > 0)
		printf("%-15s%lld\n", "Protocol:", (long long)v);
	if (chorusctl_jint(cl, "generation", &v))
		printf("%-15s%lld\n", "Generation:", (long long)v);
	if (chorusctl_jint(cl, "since_change_ms", &v)) {
		ctl_fmt_ago(buf, sizeof(buf), v);
		printf("%-15s%s\n", "Last change:", buf);
	}
	if (chorusctl_jint(cl, "last_failover_ms", &v))
		printf("%-15s%lld ms\n", "Last failover:", (long long)v);
	else
		printf("%-15s%s\n", "Last failover:", "none");
	printf("%-15s%s%s%s\n", "Maintenance:", chorusctl_color && maint == 1 ? CTL_YELLOW : "",
	       maint == 1 ? "ON (nothing moves)" : "off", chorusctl_color && maint == 1 ? CTL_RESET : "");
	/* only when it happened: a member flooded the group during a round */
	if (chorusctl_jint(cl, "messages_dropped_hold", &v) && v > 0)
		printf("%-15s%s%lld message%s from members over their round budget%s\n", "Dropped:",
		       chorusctl_color ? CTL_YELLOW : "", (long long)v, v == 1 ? "" : "s",
		       chorusctl_color ? CTL_RESET : "");
}

int chorusctl_print_status(struct json_object *res)
{
	struct json_object *cl = chorusctl_jget(res, "cluster");
	int healthy = chorusctl_jbool(cl, "healthy"), quorate = chorusctl_jbool(cl, "quorate");
	bool connected = chorusctl_jbool(cl, "connected") != 0;
	const char *cause = NULL;
	char why[64];
	int64_t members = 0;

	chorusctl_jint(cl, "members", &members);
	if (healthy != 1)
		cause = ctl_unhealthy_cause(res, why, sizeof(why));
	printf("%-15s%s%s%s%s%s\n", "Cluster:",
	       chorusctl_color ? (healthy == 1 ? CTL_GREEN : CTL_RED) : "",
	       healthy == 1 ? "healthy" : "UNHEALTHY", cause != NULL ? ": " : "",
	       cause != NULL ? cause : "", chorusctl_color ? CTL_RESET : "");
	if (!connected)
		printf("%-15s%sunknown (not connected to corosync)%s\n", "Quorum:",
		       chorusctl_color ? CTL_RED : "", chorusctl_color ? CTL_RESET : "");
	else
		printf("%-15s%s%s%s, %lld member%s\n", "Quorum:",
		       chorusctl_color && quorate != 1 ? CTL_RED : "",
		       quorate == 1 ? "quorate" : "NOT QUORATE",
		       chorusctl_color && quorate != 1 ? CTL_RESET : "", (long long)members,
		       members == 1 ? "" : "s");
	/* before corosync answers, none of these is known yet */
	if (connected) {
		ctl_print_summary(cl);
		printf("\nNodes:\n");
		chorusctl_print_nodes(chorusctl_jarray(res, "nodes"), "  ");
		ctl_print_drift(chorusctl_jarray(res, "nodes"));
	}
	/* without corosync nobody owns anything: the configured addresses
	 * still tell the operator what this node would serve */
	printf("\n%s\n", connected ? "Addresses:" : "Addresses (configured; owners unknown):");
	chorusctl_print_vips(chorusctl_jarray(res, "vips"), chorusctl_jarray(res, "nodes"), "  ");
	(void)chorusctl_print_bricks(res, false);
	ctl_print_hooks(res);
	if (chorusctl_jarray(res, "checks") != NULL &&
	    json_object_array_length(chorusctl_jarray(res, "checks")) > 0) {
		printf("\nHealth checks on this node:\n");
		ctl_print_checks(chorusctl_jarray(res, "checks"), "  ");
	}
	return healthy == 1 ? 0 : 1;
}

void chorusctl_print_event(struct json_object *ev, bool json)
{
	char time[64], type[32], text[1024];

	if (json) {
		puts(json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN |
							JSON_C_TO_STRING_NOSLASHESCAPE));
		return;
	}
	snprintf(time, sizeof(time), "%s", chorusctl_jstr(ev, "time", "-"));
	snprintf(type, sizeof(type), "%s", chorusctl_jstr(ev, "type", "-"));
	snprintf(text, sizeof(text), "%s", chorusctl_jstr(ev, "text", ""));
	ctl_sanitize(time);
	ctl_sanitize(type);
	ctl_sanitize(text);
	printf("%-24s  %-10s  %s\n", time, type, text);
}

void chorusctl_print_core_events(struct json_object *res)
{
	struct json_object *v = chorusctl_jarray(res, "core_events");
	size_t n = v != NULL ? json_object_array_length(v) : 0;
	int64_t now = 0;

	if (n == 0) {
		printf("No core events.\n");
		return;
	}
	(void)chorusctl_jint(res, "now_ms", &now);
	printf("%-14s  %9s  %-13s  %s\n", "MONOTONIC", "AGO", "EVENT", "DETAIL");
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		int64_t t = 0, rc = 0;
		char type[32], text[256], ans[32] = "";

		(void)chorusctl_jint(e, "mono_ms", &t);
		snprintf(type, sizeof(type), "%s", chorusctl_jstr(e, "type", "-"));
		snprintf(text, sizeof(text), "%s", chorusctl_jstr(e, "text", ""));
		ctl_sanitize(type);
		ctl_sanitize(text);
		/* a request's answer: a refusal is what an operator looks for */
		if (chorusctl_jint(e, "rc", &rc)) {
			if (rc == 0)
				snprintf(ans, sizeof(ans), " -> ok");
			else
				snprintf(ans, sizeof(ans), " -> refused (%" PRId64 ")", rc);
		}
		printf("%10" PRId64 ".%03" PRId64 "  %8.1fs  %-13s  %s%s\n", t / 1000, t % 1000,
		       now >= t ? (double)(now - t) / 1000.0 : 0.0, type, text, ans);
	}
}

void chorusctl_print_plan(struct json_object *res, const char *fail, const char *standby)
{
	struct ctl_table t = {.ncols = 4, .head = {"ADDRESS", "FROM", "TO", "WHY"}};
	struct json_object *moves = chorusctl_jarray(res, "moves");
	struct json_object *unplaced = chorusctl_jarray(res, "unplaced");
	size_t i, n = moves != NULL ? json_object_array_length(moves) : 0;
	char from[CTL_CELL_SIZE], to[CTL_CELL_SIZE], addr[CTL_CELL_SIZE];
	struct ctl_cell *c;

	if (fail != NULL)
		printf("If %s failed:\n", fail);
	else if (standby != NULL)
		printf("If %s were put in standby:\n", standby);
	else
		printf("With the cluster as it is:\n");
	if (n == 0)
		printf("  No address would move.\n");
	for (i = 0; i < n; i++) {
		struct json_object *mv = json_object_array_get_idx(moves, i);

		c = ctl_table_row(&t);
		if (c == NULL)
			break;
		ctl_fmt_node(from, sizeof(from), mv, "from", "from_name");
		ctl_fmt_node(to, sizeof(to), mv, "to", "to_name");
		ctl_cell_set(&c[0], NULL, "%s", chorusctl_jstr(mv, "vip", "?"));
		ctl_cell_set(&c[1], NULL, "%s", from);
		ctl_cell_set(&c[2], NULL, "%s", to);
		ctl_cell_set(&c[3], NULL, "%s", chorusctl_jstr(mv, "why", ""));
	}
	if (n > 0)
		ctl_table_print(&t, "  ");
	n = unplaced != NULL ? json_object_array_length(unplaced) : 0;
	if (n > 0) {
		printf("  %sUnplaced:%s", chorusctl_color ? CTL_RED : "", chorusctl_color ? CTL_RESET : "");
		for (i = 0; i < n; i++) {
			struct json_object *u = json_object_array_get_idx(unplaced, i);

			snprintf(addr, sizeof(addr), "%s",
				 json_object_is_type(u, json_type_string) ? json_object_get_string(u)
									  : "?");
			ctl_sanitize(addr);
			printf("%s %s", i > 0 ? "," : "", addr);
		}
		printf("\n");
	}
}


void chorusctl_print_change_moves(struct json_object *res, const char *asked)
{
	struct json_object *moves = chorusctl_jarray(res, "moves");
	size_t n = moves != NULL ? json_object_array_length(moves) : 0;
	size_t alen = asked != NULL ? strcspn(asked, "/") : 0;
	char from[CTL_CELL_SIZE], to[CTL_CELL_SIZE], addr[CTL_CELL_SIZE];

	for (size_t i = 0; i < n; i++) {
		struct json_object *mv = json_object_array_get_idx(moves, i);
		bool side;

		ctl_fmt_node(from, sizeof(from), mv, "from", "from_name");
		ctl_fmt_node(to, sizeof(to), mv, "to", "to_name");
		snprintf(addr, sizeof(addr), "%s", chorusctl_jstr(mv, "vip", "?"));
		ctl_sanitize(addr);
		side = asked != NULL && !(strlen(addr) == alen && strncmp(addr, asked, alen) == 0);
		printf("  moved %s: %s -> %s%s\n", addr, from, to,
		       side ? " (side move: placement keeps the spread)" : "");
	}
}
