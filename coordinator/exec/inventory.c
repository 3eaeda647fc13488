/*
 * Parsing "gluster volume info --xml" (see inventory.h).
 *
 * The shape glusterd 10 prints (cli-xml-output.c):
 *   <cliOutput><opRet>0</opRet><opErrno/><opErrstr/>
 *     <volInfo><volumes>
 *       <volume><name/><id/><status/><statusStr/><brickCount/>
 *               <replicaCount/><disperseCount/><typeStr/>...
 *         <bricks><brick uuid="U">HOST:PATH<name>HOST:PATH</name>
 *                 <hostUuid>U</hostUuid><isArbiter>0</isArbiter></brick>...
 *         <options><option><name/><value/></option>...</options>
 *       </volume>...<count/>
 *   </volumes></volInfo></cliOutput>
 * Elements we do not know are skipped, so newer glusterd versions that add
 * fields still parse; elements we need and cannot validate reject the whole
 * answer, because a half-read inventory would look like deleted bricks.
 *
 * libxml2 is used without entity substitution, network or DTD loading, and
 * a document with a DTD at all is refused: glusterd never writes one.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "exec/inventory.h"

#define ERR(...) (err != NULL ? (void)snprintf(err, err_size, __VA_ARGS__) : (void)0)

static bool is_el(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static const xmlNode *child(const xmlNode *n, const char *name)
{
	for (const xmlNode *c = n->children; c != NULL; c = c->next)
		if (is_el(c, name))
			return c;
	return NULL;
}

/* The text of element 'name' under 'n' into 'buf' (bounded); false if
 * missing, too long, or not plain text. */
static bool child_text(const xmlNode *n, const char *name, char *buf, size_t size)
{
	const xmlNode *c = child(n, name);
	size_t len = 0;

	buf[0] = '\0';
	if (c == NULL)
		return false;
	for (const xmlNode *t = c->children; t != NULL; t = t->next) {
		size_t l;

		if (t->type != XML_TEXT_NODE && t->type != XML_CDATA_SECTION_NODE)
			return false;
		l = strlen((const char *)t->content);
		if (len + l >= size)
			return false;
		memcpy(buf + len, t->content, l);
		len += l;
	}
	buf[len] = '\0';
	return true;
}

static bool child_uint(const xmlNode *n, const char *name, uint32_t max, uint32_t *out)
{
	char buf[16], *end;
	unsigned long v;

	if (!child_text(n, name, buf, sizeof(buf)) || buf[0] < '0' || buf[0] > '9')
		return false;
	errno = 0;
	v = strtoul(buf, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool valid_chars(const char *s, const char *extra)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr(extra, c) != NULL))
			return false;
	}
	return true;
}

static bool valid_uuid(const char *s)
{
	if (strlen(s) != INVENTORY_UUID_LEN)
		return false;
	for (int i = 0; i < INVENTORY_UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

/* Brick paths reach mount(8) and glusterfsd's argv: absolute, printable,
 * no "..", no trailing slash. */
static bool valid_path(const char *p)
{
	size_t len = strlen(p);

	return p[0] == '/' && len > 1 && p[len - 1] != '/' && strstr(p, "/../") == NULL &&
	       strstr(p, "//") == NULL && valid_chars(p, "/_.+-") &&
	       !(len >= 3 && strcmp(p + len - 3, "/..") == 0);
}

/* A gluster boolean option value that means on (gf_string2boolean). */
static bool gluster_on(const char *v)
{
	static const char *const on[] = {"on", "yes", "true", "enable", "1"};

	for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++)
		if (strcasecmp(v, on[i]) == 0)
			return true;
	return false;
}

/* The volume's options: only cluster.brick-multiplex matters to us.  An
 * option we cannot read is not ours to judge (it is skipped). */
static void parse_options(const xmlNode *vol, struct inventory *inv)
{
	const xmlNode *opts = child(vol, "options");

	for (const xmlNode *o = opts != NULL ? opts->children : NULL; o != NULL; o = o->next) {
		char name[64], value[16];

		if (is_el(o, "option") && child_text(o, "name", name, sizeof(name)) &&
		    strcmp(name, "cluster.brick-multiplex") == 0 &&
		    child_text(o, "value", value, sizeof(value)) && gluster_on(value))
			inv->brick_multiplex = true;
	}
}

static enum inventory_vol_type vol_type(const char *s)
{
	if (strcmp(s, "Distribute") == 0)
		return INVENTORY_DISTRIBUTE;
	if (strcmp(s, "Replicate") == 0 || strcmp(s, "Distributed-Replicate") == 0)
		return INVENTORY_REPLICATE;
	if (strcmp(s, "Disperse") == 0 || strcmp(s, "Distributed-Disperse") == 0)
		return INVENTORY_DISPERSE;
	return INVENTORY_OTHER;
}

static int add_brick(struct inventory *inv, size_t *cap, const struct inventory_brick *b)
{
	if (inv->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct inventory_brick *v = realloc(inv->bricks, ncap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		inv->bricks = v;
		*cap = ncap;
	}
	inv->bricks[inv->n++] = *b;
	return 0;
}

static int parse_volume(const xmlNode *vol, struct inventory *inv, size_t *cap, char *err,
			size_t err_size)
{
	struct inventory_brick b;
	char type[64], status[32];
	uint32_t set_size = 1, replica = 0, disperse = 0, count = 0, idx = 0;
	const xmlNode *bricks;
	int rc;

	memset(&b, 0, sizeof(b));
	if (!child_text(vol, "name", b.volume, sizeof(b.volume)) || b.volume[0] == '\0' ||
	    !valid_chars(b.volume, "_.-")) {
		ERR("volume without a valid name");
		return -EINVAL;
	}
	if (!child_text(vol, "typeStr", type, sizeof(type)) ||
	    !child_text(vol, "statusStr", status, sizeof(status)) ||
	    !child_uint(vol, "brickCount", INVENTORY_BRICKS_MAX, &count) ||
	    !child_uint(vol, "replicaCount", INVENTORY_BRICKS_MAX, &replica) ||
	    !child_uint(vol, "disperseCount", INVENTORY_BRICKS_MAX, &disperse)) {
		ERR("volume %s: missing or bad type, status or counts", b.volume);
		return -EINVAL;
	}
	b.type = vol_type(type);
	b.started = strcmp(status, "Started") == 0;
	if (b.type == INVENTORY_REPLICATE)
		set_size = replica;
	else if (b.type == INVENTORY_DISPERSE)
		set_size = disperse;
	if (set_size == 0) {
		ERR("volume %s: %s with a set size of 0", b.volume, type);
		return -EINVAL;
	}
	/* placement keeps a set's bricks apart: a set size that does not
	 * divide the bricks would make up a set glusterd does not have */
	if (b.type == INVENTORY_REPLICATE || b.type == INVENTORY_DISPERSE) {
		if (count % set_size != 0) {
			ERR("volume %s: %u bricks are not sets of %u", b.volume, count, set_size);
			return -EINVAL;
		}
		b.in_set = true;
	}
	bricks = child(vol, "bricks");
	if (bricks == NULL) {
		ERR("volume %s: no bricks element", b.volume);
		return -EINVAL;
	}
	for (const xmlNode *br = bricks->children; br != NULL; br = br->next) {
		char name[INVENTORY_HOST_MAX + INVENTORY_PATH_MAX], arb[8];
		char *sep;

		if (!is_el(br, "brick"))
			continue;
		if (inv->n >= INVENTORY_BRICKS_MAX) {
			ERR("more than %d bricks", INVENTORY_BRICKS_MAX);
			return -E2BIG;
		}
		if (!child_text(br, "name", name, sizeof(name)) ||
		    (sep = strstr(name, ":/")) == NULL ||
		    (size_t)(sep - name) >= sizeof(b.host) || sep == name ||
		    strlen(sep + 1) >= sizeof(b.path)) {
			ERR("volume %s: brick %u without a valid HOST:PATH", b.volume, idx);
			return -EINVAL;
		}
		/* both lengths checked above */
		memcpy(b.host, name, (size_t)(sep - name));
		b.host[sep - name] = '\0';
		memcpy(b.path, sep + 1, strlen(sep + 1) + 1);
		if (!valid_chars(b.host, "_.:-") || !valid_path(b.path)) {
			ERR("volume %s: brick %u: refusing host or path", b.volume, idx);
			return -EINVAL;
		}
		if (!child_text(br, "hostUuid", b.uuid, sizeof(b.uuid)) || !valid_uuid(b.uuid)) {
			ERR("volume %s: brick %s:%s without a valid hostUuid", b.volume, b.host,
			    b.path);
			return -EINVAL;
		}
		b.arbiter = child_text(br, "isArbiter", arb, sizeof(arb)) && strcmp(arb, "1") == 0;
		b.index = idx;
		b.set = b.in_set ? idx / set_size : 0;
		rc = add_brick(inv, cap, &b);
		if (rc < 0)
			return rc;
		idx++;
	}
	if (idx != count) {
		ERR("volume %s: brickCount %u but %u bricks listed", b.volume, count, idx);
		return -EINVAL;
	}
	parse_options(vol, inv);
	return 0;
}

int inventory_parse(const char *xml, size_t size, struct inventory **out, char *err,
		    size_t err_size)
{
	struct inventory *inv = NULL;
	const xmlNode *root, *vols, *n;
	xmlDoc *doc = NULL;
	char ret[16], errstr[256];
	size_t cap = 0;
	int rc = -EINVAL;

	if (size == 0 || size > INVENTORY_XML_MAX) {
		ERR(size ? "answer too large (%zu bytes)" : "empty answer", size);
		return size ? -E2BIG : -EINVAL;
	}
	doc = xmlReadMemory(xml, (int)size, "volinfo.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL) {
		ERR("not well-formed XML");
		goto out;
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		ERR("refusing a document with a DTD");
		goto out;
	}
	root = xmlDocGetRootElement(doc);
	if (root == NULL || !is_el(root, "cliOutput") ||
	    !child_text(root, "opRet", ret, sizeof(ret))) {
		ERR("not a gluster CLI answer");
		goto out;
	}
	if (strcmp(ret, "0") != 0) {
		if (!child_text(root, "opErrstr", errstr, sizeof(errstr)) || !valid_chars(errstr, " _.:,'-"))
			snprintf(errstr, sizeof(errstr), "(no reason given)");
		ERR("gluster: opRet %s: %s", ret, errstr);
		rc = -ENOENT;
		goto out;
	}
	vols = child(root, "volInfo");
	vols = vols != NULL ? child(vols, "volumes") : NULL;
	if (vols == NULL) {
		ERR("no volInfo/volumes");
		goto out;
	}
	inv = calloc(1, sizeof(*inv));
	if (inv == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (n = vols->children; n != NULL; n = n->next) {
		if (!is_el(n, "volume"))
			continue;
		rc = parse_volume(n, inv, &cap, err, err_size);
		if (rc < 0)
			goto out;
		inv->n_volumes++;
	}
	*out = inv;
	inv = NULL;
	rc = 0;
out:
	inventory_free(inv);
	xmlFreeDoc(doc);
	return rc;
}

void inventory_free(struct inventory *inv)
{
	if (inv == NULL)
		return;
	free(inv->bricks);
	free(inv);
}

const struct inventory_brick *inventory_find(const struct inventory *inv, const char *host,
					     const char *path)
{
	for (size_t i = 0; i < inv->n; i++)
		if (strcmp(inv->bricks[i].host, host) == 0 && strcmp(inv->bricks[i].path, path) == 0)
			return &inv->bricks[i];
	return NULL;
}

uint32_t inventory_set_id(const char *volume, const char *name)
{
	uint32_t h = 2166136261u;

	if (name[0] == '\0')
		return 0;
	for (const char *p = volume; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	h = (h ^ (uint8_t)'/') * 16777619u;
	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h ? h : 1;
}

void inventory_set_of(const struct inventory *inv, const char *volume, const char *host,
		      const char *path, const char *config_set, struct inventory_set *out)
{
	const struct inventory_brick *ib = inv != NULL ? inventory_find(inv, host, path) : NULL;
	char gl[16] = "";

	memset(out, 0, sizeof(*out));
	if (ib != NULL) {
		out->in_gluster = true;
		out->gluster_in_set = ib->in_set;
		out->gluster_set = ib->set;
		if (ib->in_set)
			snprintf(gl, sizeof(gl), "%" PRIu32, ib->set);
	}
	if (config_set[0] != '\0') {
		out->source = INVENTORY_SET_CONFIG;
		snprintf(out->volume, sizeof(out->volume), "%s", volume);
		snprintf(out->name, sizeof(out->name), "%s", config_set);
		out->conflict = ib != NULL && strcmp(gl, config_set) != 0;
		/* as chorusd always named an override: older members agree */
		out->id = inventory_set_id(volume, config_set);
	} else if (gl[0] != '\0') {
		out->source = INVENTORY_SET_GLUSTER;
		/* glusterd's volume: the set is its, whatever the config calls it */
		snprintf(out->volume, sizeof(out->volume), "%s", ib->volume);
		snprintf(out->name, sizeof(out->name), "%s", gl);
		out->id = inventory_set_id(ib->volume, gl);
	}
}

/* ---- running the CLI ---- */

struct inventory_fetch {
	inventory_done_fn done;
	void *data;
	struct script_run *run;
};

static void fetch_done(void *data, const struct script_result *r)
{
	struct inventory_fetch *f = data;
	struct inventory *inv = NULL;
	char reason[512], st[128];
	int rc;

	if (!script_result_ok(r)) {
		snprintf(reason, sizeof(reason), "gluster volume info: %s",
			 script_result_str(r, st, sizeof(st)));
		rc = r->status == SCRIPT_EXITED ? -EIO : -ETIMEDOUT;
		if (r->status == SCRIPT_EXEC_FAILED)
			rc = -r->code;
	} else if (r->output_truncated) {
		snprintf(reason, sizeof(reason), "gluster volume info: answer over %d bytes",
			 INVENTORY_XML_MAX);
		rc = -E2BIG;
	} else {
		reason[0] = '\0';
		rc = inventory_parse(r->output, r->output_size, &inv, reason, sizeof(reason));
	}
	f->done(f->data, rc, inv, rc < 0 ? reason : NULL);
	free(f);
}

int inventory_fetch(struct script_runner *sr, const struct inventory_fetch_cfg *cfg,
		    inventory_done_fn done, void *data, struct inventory_fetch **out)
{
	const char *argv[] = {cfg->gluster != NULL ? cfg->gluster : "/usr/sbin/gluster",
			      "--mode=script", "volume", "info", "all", "--xml", NULL};
	struct script_spec spec = {
		.argv = argv,
		.timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 30000,
		.kill_grace_ms = 2000,
		.output_max = INVENTORY_XML_MAX,
		.discard_stderr = true,
	};
	struct inventory_fetch *f = calloc(1, sizeof(*f));
	int rc;

	if (f == NULL)
		return -ENOMEM;
	f->done = done;
	f->data = data;
	rc = script_run(sr, &spec, fetch_done, f, &f->run);
	if (rc < 0) {
		free(f);
		return rc;
	}
	if (out != NULL)
		*out = f;
	return 0;
}

void inventory_fetch_cancel(struct inventory_fetch *f)
{
	if (f == NULL)
		return;
	script_run_cancel(f->run);
	free(f);
}
