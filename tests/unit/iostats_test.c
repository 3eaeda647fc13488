/*
 * The smallfile-balance plugin's io-stats dump parser: classification of a
 * dump as glusterfsd writes it, and refusal of what is not one (a file
 * caught half written, a value that is not a count, a file too large).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "iostats.h"

static char path[64];

static void put(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

#define P "\"gluster.brick.-bricks-gv"

static void test_classify(void **unused)
{
	struct sf_iostats st;

	(void)unused;
	put("{" P ".aggr.read_4kb\": 7," P ".aggr.write_1mb\": \"3\","
	    P ".aggr.write_64kb\": \"2\"," P ".aggr.fop.create.count\": \"11\","
	    P ".aggr.fop.lookup.count\": \"40\"," P ".aggr.fop.read.count\": \"7\","
	    P ".aggr.fop.write.count\": \"5\"," P ".aggr.fop.create.latency_ave_usec\": \"12.5\","
	    P ".inter.fop.create.count\": \"99\"," P ".aggr.bytes_read\": \"28672\","
	    P ".aggr.bytes_written\": \"3276800\"," P ".aggr.uptime\": \"30\"}");
	assert_int_equal(sf_iostats_read(path, 1 << 20, &st), 0);
	assert_int_equal(st.creates, 11);
	assert_int_equal(st.meta, 51);		/* create + lookup; read/write are data */
	assert_int_equal(st.small_io, 9);	/* 7 reads of 4 KiB, 2 writes of 64 KiB */
	assert_int_equal(st.bytes, 28672 + 3276800);
}

static void test_hostile(void **unused)
{
	struct sf_iostats st;

	(void)unused;
	put("{" P ".aggr.fop.create.count\": \"11\"," P ".aggr.fop.lo");	/* half written */
	assert_int_equal(sf_iostats_read(path, 1 << 20, &st), -EBADMSG);
	put("[1, 2]");
	assert_int_equal(sf_iostats_read(path, 1 << 20, &st), -EBADMSG);
	put("{" P ".aggr.fop.create.count\": \"-5\"," P ".aggr.fop.stat.count\": \"1x\","
	    P ".aggr.fop.open.count\": -4," P ".aggr.fop.stat.count\": 2.5," P ".aggr.read_Zkb\": \"9\"," P ".aggr.fop.count\": \"8\"}");
	assert_int_equal(sf_iostats_read(path, 1 << 20, &st), 0);
	assert_int_equal(st.meta + st.small_io + st.creates + st.bytes, 0);
	put("{" P ".aggr.fop.create.count\": \"11\"}");
	assert_int_equal(sf_iostats_read(path, 8, &st), -EFBIG);
	assert_int_equal(sf_iostats_read("/nonexistent/dump", 1 << 20, &st), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_hostile),
	};
	int fd, rc;

	snprintf(path, sizeof(path), "/tmp/iostats_test.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return 1;
	close(fd);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return rc;
}
