/*
 * Inventory tests: the parser on XML captured from a real glusterd 10.3
 * (tests/unit/data/volinfo-*.xml: a distribute volume with a brick on a
 * floating address, a 2x3 distributed-replicate and a 3-brick disperse
 * volume, made with tests/integration/lib-gluster.sh), hostile variants of
 * it, volumes written as glusterd 10 writes them (arbiter, disperse 4 + 2,
 * distribute, odd counts) for the sets placement keeps apart and
 * chorus.json's override of them, and the fetch path through the script
 * runner with a fake CLI.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <qb/qbdefs.h>
#include <qb/qbloop.h>

#include "exec/inventory.h"

#define P "/tmp/chorus-it.18665/"

static char *slurp(const char *name, size_t *size)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", INVENTORY_DATA_DIR, name);
	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*size = (size_t)n;
	return buf;
}

/* The fixture with the first occurrence of 'from' replaced by 'to'. */
static char *fixture_edit(const char *from, const char *to)
{
	size_t size;
	char *x = slurp("volinfo-all.xml", &size), *at, *out;

	at = strstr(x, from);
	assert_non_null(at);
	out = malloc(size + strlen(to) + 1);
	assert_non_null(out);
	memcpy(out, x, (size_t)(at - x));
	strcpy(out + (at - x), to);
	strcat(out, at + strlen(from));
	free(x);
	return out;
}

static int parse_str(const char *xml, struct inventory **inv, char *err)
{
	return inventory_parse(xml, strlen(xml), inv, err, 256);
}

static void test_real_sample(void **state)
{
	struct inventory *inv = NULL;
	const struct inventory_brick *b;
	char err[256] = "";
	size_t size;
	char *x = slurp("volinfo-all.xml", &size);

	assert_int_equal(inventory_parse(x, size, &inv, err, sizeof(err)), 0);
	free(x);
	assert_int_equal(inv->n_volumes, 3);
	assert_int_equal(inv->n, 11);
	assert_false(inv->brick_multiplex);

	/* disperse 3: one set; created, not started */
	b = &inv->bricks[0];
	assert_string_equal(b->volume, "dv");
	assert_int_equal(b->type, INVENTORY_DISPERSE);
	assert_false(b->started);
	for (int i = 0; i < 3; i++) {
		assert_true(inv->bricks[i].in_set);
		assert_int_equal(inv->bricks[i].set, 0);
	}

	/* the floating brick: host is the address, uuid the home node's */
	b = inventory_find(inv, "10.85.93.200", P "shared/b1");
	assert_non_null(b);
	assert_string_equal(b->volume, "gv");
	assert_int_equal(b->type, INVENTORY_DISTRIBUTE);
	assert_int_equal(b->index, 0);
	assert_false(b->in_set);
	assert_string_equal(b->uuid, "448b5b01-c9f3-41f8-a7ad-a46de6bc5512");
	b = inventory_find(inv, "10.85.93.3", P "n3/bricks/gv");
	assert_non_null(b);
	assert_false(b->in_set);	/* distribute: no set to spread */
	assert_int_equal(b->set, 0);

	/* 2 x 3 replicate: sets 0 0 0 1 1 1, started */
	for (int i = 0; i < 6; i++) {
		b = &inv->bricks[5 + i];
		assert_string_equal(b->volume, "rv");
		assert_int_equal(b->type, INVENTORY_REPLICATE);
		assert_true(b->started);
		assert_int_equal(b->index, i);
		assert_true(b->in_set);
		assert_int_equal(b->set, i / 3);
		assert_false(b->arbiter);
	}
	assert_string_equal(inv->bricks[8].path, P "n1/bricks/r2");
	assert_null(inventory_find(inv, "10.85.93.200", P "shared/b2"));
	inventory_free(inv);
}

static void test_cli_error(void **state)
{
	struct inventory *inv = NULL;
	char err[256] = "";
	size_t size;
	char *x = slurp("volinfo-missing.xml", &size);

	assert_int_equal(inventory_parse(x, size, &inv, err, sizeof(err)), -ENOENT);
	assert_null(inv);
	assert_non_null(strstr(err, "Volume does not exist"));
	free(x);
}

/* Every one of these must be refused whole, with a reason, and no leak
 * (run under ASan/valgrind in CI's sanitizer build). */
static void test_hostile(void **state)
{
	static const struct {
		const char *from, *to;
	} edits[] = {
		{"<name>dv</name>", "<name>d v;rm</name>"},
		{"<name>dv</name>", "<name></name>"},
		{"<name>dv</name>", ""},
		{"<typeStr>Disperse</typeStr>", ""},
		{"<brickCount>3</brickCount>", "<brickCount>4</brickCount>"},
		{"<brickCount>3</brickCount>", "<brickCount>-1</brickCount>"},
		{"<brickCount>3</brickCount>", "<brickCount>99999999999999</brickCount>"},
		{"<disperseCount>3</disperseCount>", "<disperseCount>0</disperseCount>"},
		{"<name>10.85.93.1:" P "n1/bricks/d1</name>", "<name>10.85.93.1</name>"},
		{"<name>10.85.93.1:" P "n1/bricks/d1</name>", "<name>:/x</name>"},
		{"<name>10.85.93.1:" P "n1/bricks/d1</name>", "<name>h:/a/../etc</name>"},
		{"<name>10.85.93.1:" P "n1/bricks/d1</name>", "<name>h:/a/$(x)</name>"},
		{"<name>10.85.93.1:" P "n1/bricks/d1</name>", "<name>h`x`:/a</name>"},
		{"<name>10.85.93.1:" P "n1/bricks/d1</name>", "<name>h:/a/</name>"},
		{"<name>10.85.93.1:" P "n1/bricks/d1</name>", "<name>h:/a<b>x</b></name>"},
		{"<hostUuid>448b5b01-c9f3-41f8-a7ad-a46de6bc5512</hostUuid>",
		 "<hostUuid>448b5b01-c9f3-41f8-a7ad-a46de6bc551</hostUuid>"},
		{"<hostUuid>448b5b01-c9f3-41f8-a7ad-a46de6bc5512</hostUuid>",
		 "<hostUuid>448B5B01-C9F3-41F8-A7AD-A46DE6BC5512</hostUuid>"},
		{"<bricks>", "<nobricks>"},
		{"<volInfo>", "<volinfo>"},
		{"<cliOutput>", "<other>"},
		{"<opRet>0</opRet>", ""},
		{"<opRet>0</opRet>", "<opRet>-1</opRet>"},
		{"</cliOutput>", ""},				/* truncated */
		{"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>",
		 "<?xml version=\"1.0\"?><!DOCTYPE cliOutput [<!ENTITY a \"aaaaaaaa\">"
		 "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>"},
		{"<name>dv</name>", "<name>&b;</name>"},	/* undefined entity */
	};
	char err[256];

	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		struct inventory *inv = NULL;
		char *x = fixture_edit(edits[i].from, edits[i].to);
		int rc;

		err[0] = '\0';
		rc = parse_str(x, &inv, err);
		if (rc >= 0)
			fail_msg("edit %zu (%s -> %s) was accepted", i, edits[i].from, edits[i].to);
		assert_null(inv);
		assert_true(err[0] != '\0');
		free(x);
	}
}

static void test_hostile_shapes(void **state)
{
	struct inventory *inv = NULL;
	char err[256];
	char *deep;
	size_t n = 0;

	assert_int_equal(inventory_parse("", 0, &inv, err, sizeof(err)), -EINVAL);
	assert_int_equal(inventory_parse("x", INVENTORY_XML_MAX + 1, &inv, err, sizeof(err)),
			 -E2BIG);
	assert_int_equal(parse_str("not xml at all", &inv, err), -EINVAL);
	assert_int_equal(parse_str("<cliOutput><opRet>0</opRet></cliOutput>", &inv, err), -EINVAL);
	/* an embedded NUL cuts the document short: malformed */
	assert_int_equal(inventory_parse("<cliOutput>\0<opRet>0</opRet></cliOutput>", 40, &inv, err,
					 sizeof(err)), -EINVAL);
	/* no volumes is a valid (empty) answer */
	assert_int_equal(parse_str("<cliOutput><opRet>0</opRet><volInfo><volumes><count>0</count>"
				   "</volumes></volInfo></cliOutput>", &inv, err), 0);
	assert_int_equal(inv->n, 0);
	inventory_free(inv);
	inv = NULL;
	/* nesting far beyond libxml2's limit */
	deep = malloc(20 * 100000 + 64);
	assert_non_null(deep);
	n += (size_t)sprintf(deep, "<cliOutput><opRet>0</opRet>");
	for (int i = 0; i < 100000; i++)
		n += (size_t)sprintf(deep + n, "<a>");
	assert_int_equal(inventory_parse(deep, n, &inv, err, sizeof(err)), -EINVAL);
	assert_null(inv);
	free(deep);
	/* the CLI's reason is passed on only when it is plain text */
	assert_int_equal(parse_str("<cliOutput><opRet>-1</opRet><opErrstr>bad\x1b[31m</opErrstr>"
				   "</cliOutput>", &inv, err), -EINVAL);	/* not XML text */
	assert_int_equal(parse_str("<cliOutput><opRet>-1</opRet><opErrstr>bad $(rm -rf /)</opErrstr>"
				   "</cliOutput>", &inv, err), -ENOENT);
	assert_null(strstr(err, "$("));
	assert_non_null(strstr(err, "no reason given"));
}

/* One volume as glusterd 10 writes it (cli-xml-output.c), 'nb' bricks on
 * hosts h0, h1, ...; 'arbiter' marks every third brick. */
static char *volume_xml(const char *name, const char *type, unsigned nb, unsigned replica,
			unsigned arbiter, unsigned disperse, unsigned redundancy)
{
	size_t cap = 4096 + nb * 256, n = 0;
	char *x = malloc(cap);

	assert_non_null(x);
	n += (size_t)snprintf(x + n, cap - n,
			      "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
			      "<cliOutput><opRet>0</opRet><opErrno>0</opErrno><opErrstr/><volInfo>"
			      "<volumes><volume><name>%s</name><id>c6ad0b4f-4d4e-4bd7-93b4-"
			      "a0e1b6f0e0a1</id><status>1</status><statusStr>Started</statusStr>"
			      "<snapshotCount>0</snapshotCount><brickCount>%u</brickCount>"
			      "<distCount>%u</distCount><replicaCount>%u</replicaCount>"
			      "<arbiterCount>%u</arbiterCount><disperseCount>%u</disperseCount>"
			      "<redundancyCount>%u</redundancyCount><type>2</type><typeStr>%s"
			      "</typeStr><transport>0</transport><bricks>",
			      name, nb, nb, replica, arbiter, disperse, redundancy, type);
	for (unsigned i = 0; i < nb; i++)
		n += (size_t)snprintf(x + n, cap - n,
				      "<brick uuid=\"448b5b01-c9f3-41f8-a7ad-a46de6bc5512\">h%u:/b/%u"
				      "<name>h%u:/b/%u</name><hostUuid>448b5b01-c9f3-41f8-a7ad-"
				      "a46de6bc5512</hostUuid><isArbiter>%d</isArbiter></brick>",
				      i, i, i, i, arbiter && i % 3 == 2);
	snprintf(x + n, cap - n, "</bricks><optCount>0</optCount><options/></volume>"
		 "<count>1</count></volumes></volInfo></cliOutput>");
	return x;
}

/* 'x' (from volume_xml) with its empty options replaced by 'opts'. */
static char *with_options(char *x, const char *opts)
{
	const char *empty = "<optCount>0</optCount><options/>";
	char *at = strstr(x, empty), *y;
	size_t len = strlen(x) + strlen(opts) + 64;

	assert_non_null(at);
	y = malloc(len);
	assert_non_null(y);
	snprintf(y, len, "%.*s<optCount>1</optCount><options>%s</options>%s", (int)(at - x), x,
		 opts, at + strlen(empty));
	free(x);
	return y;
}

/* cluster.brick-multiplex, a pool-wide option glusterd lists among every
 * volume's options once it is set (seen with glusterd 10.3 by
 * tests/integration/brick-ports.sh): on in any of gluster's spellings. */
static void test_multiplex(void **state)
{
	static const struct {
		const char *opts;
		bool on;
	} cases[] = {
		{"", false},
		{"<option><name>cluster.brick-multiplex</name><value>on</value></option>", true},
		{"<option><name>cluster.brick-multiplex</name><value>Enable</value></option>", true},
		{"<option><name>cluster.brick-multiplex</name><value>1</value></option>", true},
		{"<option><name>cluster.brick-multiplex</name><value>off</value></option>", false},
		{"<option><name>cluster.brick-multiplex</name><value>disable</value></option>", false},
		{"<option><name>cluster.max-bricks-per-process</name><value>on</value></option>",
		 false},
		/* shapes we cannot read are skipped, not taken for on */
		{"<option><name>cluster.brick-multiplex</name></option>", false},
		{"<option><name>cluster.brick-multiplex</name><value>on<b/></value></option>",
		 false},
		{"<option><value>on</value></option>", false},
		{"<opt><name>cluster.brick-multiplex</name><value>on</value></opt>", false},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct inventory *inv = NULL;
		char err[256] = "";
		char *x = with_options(volume_xml("d", "Distribute", 2, 1, 0, 0, 0), cases[i].opts);

		assert_int_equal(parse_str(x, &inv, err), 0);
		assert_int_equal(inv->n, 2);
		if (inv->brick_multiplex != cases[i].on)
			fail_msg("case %zu: brick_multiplex %d, want %d", i, inv->brick_multiplex,
				 cases[i].on);
		inventory_free(inv);
		free(x);
	}
}

/* Sets as placement needs them: glusterd's grouping, numbered in brick
 * order, and no set at all where there is nothing to keep apart. */
static void test_sets(void **state)
{
	struct inventory *inv = NULL;
	char err[256] = "";
	char *x;

	/* replica 3 arbiter 1, 2 x (2 + 1): the arbiter is in its set */
	x = volume_xml("ra", "Distributed-Replicate", 6, 3, 1, 0, 0);
	assert_int_equal(parse_str(x, &inv, err), 0);
	for (unsigned i = 0; i < 6; i++) {
		assert_true(inv->bricks[i].in_set);
		assert_int_equal(inv->bricks[i].set, i / 3);
		assert_int_equal(inv->bricks[i].arbiter, i % 3 == 2);
	}
	inventory_free(inv);
	free(x);

	/* disperse 4 + 2: disperseCount is data plus redundancy */
	x = volume_xml("ec", "Disperse", 6, 1, 0, 6, 2);
	assert_int_equal(parse_str(x, &inv, err), 0);
	for (unsigned i = 0; i < 6; i++)
		assert_true(inv->bricks[i].in_set && inv->bricks[i].set == 0);
	inventory_free(inv);
	free(x);
	/* 2 x (4 + 2) */
	x = volume_xml("ec2", "Distributed-Disperse", 12, 1, 0, 6, 2);
	assert_int_equal(parse_str(x, &inv, err), 0);
	assert_int_equal(inv->bricks[5].set, 0);
	assert_int_equal(inv->bricks[6].set, 1);
	assert_int_equal(inventory_find(inv, "h11", "/b/11")->set, 1);
	inventory_free(inv);
	free(x);

	/* distribute only: no set, whatever the counts say */
	x = volume_xml("d", "Distribute", 4, 1, 0, 0, 0);
	assert_int_equal(parse_str(x, &inv, err), 0);
	for (unsigned i = 0; i < 4; i++)
		assert_true(!inv->bricks[i].in_set && inv->bricks[i].set == 0);
	inventory_free(inv);
	free(x);
	/* a type we do not know (glusterd's old "Tier"): no set either */
	x = volume_xml("t", "Tier", 2, 2, 0, 0, 0);
	assert_int_equal(parse_str(x, &inv, err), 0);
	assert_false(inv->bricks[1].in_set);
	inventory_free(inv);
	free(x);

	/* odd counts are refused whole, not turned into made-up sets */
	x = volume_xml("r", "Replicate", 4, 3, 0, 0, 0);	/* 4 bricks in sets of 3 */
	inv = NULL;
	assert_int_equal(parse_str(x, &inv, err), -EINVAL);
	assert_null(inv);
	assert_non_null(strstr(err, "not sets of 3"));
	free(x);
	x = volume_xml("r", "Replicate", 4, 0, 0, 0, 0);	/* sets of none */
	assert_int_equal(parse_str(x, &inv, err), -EINVAL);
	free(x);
	x = volume_xml("e", "Disperse", 6, 1, 0, 0, 2);		/* disperse without a count */
	assert_int_equal(parse_str(x, &inv, err), -EINVAL);
	free(x);
	x = volume_xml("r", "Replicate", 3, 8193, 0, 0, 0);	/* over the limit */
	assert_int_equal(parse_str(x, &inv, err), -EINVAL);
	free(x);
	assert_null(inv);
}

/* FNV-1a of "volume/name", as chorusd computed an override's id before:
 * members of both ages must name a configured set alike. */
static uint32_t fnv(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

/* A brick's set: glusterd's unless overridden; a disagreement flagged. */
static void test_set_of(void **state)
{
	struct inventory *inv = NULL;
	struct inventory_set st;
	char err[256] = "";
	char *x = volume_xml("ra", "Distributed-Replicate", 6, 3, 1, 0, 0);

	assert_int_equal(parse_str(x, &inv, err), 0);
	free(x);

	/* from glusterd, no override: its volume and number */
	inventory_set_of(inv, "ra", "h4", "/b/4", "", &st);
	assert_int_equal(st.source, INVENTORY_SET_GLUSTER);
	assert_string_equal(st.volume, "ra");
	assert_string_equal(st.name, "1");
	assert_int_equal(st.id, fnv("ra/1"));
	assert_true(st.in_gluster && st.gluster_in_set && st.gluster_set == 1);
	assert_false(st.conflict);
	/* the arbiter's set is its replicas' */
	inventory_set_of(inv, "ra", "h5", "/b/5", "", &st);
	assert_int_equal(st.id, fnv("ra/1"));
	/* an override that says the same: no conflict, same id */
	inventory_set_of(inv, "ra", "h4", "/b/4", "1", &st);
	assert_int_equal(st.source, INVENTORY_SET_CONFIG);
	assert_int_equal(st.id, fnv("ra/1"));
	assert_false(st.conflict);
	/* one that does not: it wins, and says so */
	inventory_set_of(inv, "ra", "h4", "/b/4", "0", &st);
	assert_int_equal(st.source, INVENTORY_SET_CONFIG);
	assert_int_equal(st.id, fnv("ra/0"));
	assert_true(st.conflict);
	assert_int_equal(st.gluster_set, 1);
	inventory_set_of(inv, "ra", "h4", "/b/4", "a", &st);
	assert_true(st.conflict);
	/* not in gluster: the config's, or none, and nothing to disagree with */
	inventory_set_of(inv, "ra", "h9", "/b/9", "a", &st);
	assert_int_equal(st.source, INVENTORY_SET_CONFIG);
	assert_int_equal(st.id, fnv("ra/a"));
	assert_false(st.in_gluster || st.conflict);
	inventory_set_of(inv, "ra", "h9", "/b/9", "", &st);
	assert_int_equal(st.source, INVENTORY_SET_NONE);
	assert_int_equal(st.id, 0);
	/* no inventory yet: the same */
	inventory_set_of(NULL, "ra", "h4", "/b/4", "", &st);
	assert_int_equal(st.source, INVENTORY_SET_NONE);
	assert_int_equal(st.id, 0);
	inventory_free(inv);

	/* distribute: no set; an override there is a disagreement */
	x = volume_xml("d", "Distribute", 2, 1, 0, 0, 0);
	assert_int_equal(parse_str(x, &inv, err), 0);
	free(x);
	inventory_set_of(inv, "d", "h1", "/b/1", "", &st);
	assert_int_equal(st.source, INVENTORY_SET_NONE);
	assert_int_equal(st.id, 0);
	assert_true(st.in_gluster && !st.gluster_in_set && !st.conflict);
	inventory_set_of(inv, "d", "h1", "/b/1", "x", &st);
	assert_int_equal(st.source, INVENTORY_SET_CONFIG);
	assert_true(st.conflict);
	inventory_free(inv);

	/* sets of different volumes never meet, whatever their numbers */
	assert_int_not_equal(inventory_set_id("a", "0"), inventory_set_id("b", "0"));
	assert_int_equal(inventory_set_id("a", ""), 0);
}

/* ---- the fetch path, with a fake gluster CLI ---- */

static qb_loop_t *loop;

struct fetched {
	int calls, rc;
	struct inventory *inv;
	char reason[512];
};

static void on_fetched(void *data, int rc, struct inventory *inv, const char *reason)
{
	struct fetched *f = data;

	f->calls++;
	f->rc = rc;
	f->inv = inv;
	snprintf(f->reason, sizeof(f->reason), "%s", reason ? reason : "");
	qb_loop_stop(loop);
}

static void stop_cb(void *data)
{
	qb_loop_stop(loop);
}

static void fetch_with(const char *body, uint32_t timeout_ms, struct fetched *f)
{
	char path[] = "/tmp/chorus-fake-gluster-XXXXXX";
	struct script_runner *sr;
	struct inventory_fetch_cfg cfg = {.gluster = path, .timeout_ms = timeout_ms};
	qb_loop_timer_handle t;
	FILE *fp;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	fprintf(fp, "#!/bin/sh\n[ \"$*\" = '--mode=script volume info all --xml' ] || exit 9\n%s\n",
		body);
	fclose(fp);
	chmod(path, 0700);
	loop = qb_loop_create();
	assert_int_equal(script_runner_new(loop, &sr), 0);
	memset(f, 0, sizeof(*f));
	assert_int_equal(inventory_fetch(sr, &cfg, on_fetched, f, NULL), 0);
	qb_loop_timer_add(loop, QB_LOOP_LOW, 10000ULL * QB_TIME_NS_IN_MSEC, NULL, stop_cb, &t);
	qb_loop_run(loop);
	assert_int_equal(f->calls, 1);
	qb_loop_timer_del(loop, t);
	script_runner_free(sr);
	qb_loop_destroy(loop);
	unlink(path);
}

static void test_fetch(void **state)
{
	struct fetched f;
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "echo 'warning: noise' >&2; cat '%s/volinfo-all.xml'",
		 INVENTORY_DATA_DIR);
	fetch_with(cmd, 5000, &f);
	assert_int_equal(f.rc, 0);
	assert_non_null(f.inv);
	assert_int_equal(f.inv->n, 11);
	inventory_free(f.inv);

	snprintf(cmd, sizeof(cmd), "cat '%s/volinfo-missing.xml'", INVENTORY_DATA_DIR);
	fetch_with(cmd, 5000, &f);
	assert_int_equal(f.rc, -ENOENT);
	assert_null(f.inv);

	fetch_with("echo 'Connection failed. Please check if gluster daemon is operational.'; exit 1",
		   5000, &f);
	assert_int_equal(f.rc, -EIO);
	assert_non_null(strstr(f.reason, "exit 1"));

	fetch_with("sleep 30", 200, &f);
	assert_int_equal(f.rc, -ETIMEDOUT);

	fetch_with("head -c 5000000 /dev/zero | tr '\\0' x", 10000, &f);
	assert_int_equal(f.rc, -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_sample),
		cmocka_unit_test(test_cli_error),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_hostile_shapes),
		cmocka_unit_test(test_sets),
		cmocka_unit_test(test_multiplex),
		cmocka_unit_test(test_set_of),
		cmocka_unit_test(test_fetch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
