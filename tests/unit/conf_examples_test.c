/*
 * Every shipped example configuration (deploy/examples/chorus*.json) must
 * load: they are what operators copy.
 *
 * Examples name hook scripts by their installed path, HOOKS_INSTALLED/NAME,
 * which a build tree does not have, and the loader insists that a hook's
 * script exists when the file is loaded.  So each example is loaded from a
 * copy in which that directory is the source tree's deploy/hooks/: an example
 * naming a hook the tree does not ship still fails.
 *
 * Likewise a fence secrets file named by its installed path, SECRETS_INSTALLED,
 * is a temporary copy with a made-up password.  The loader wants it to be
 * root's: run as another user, that refusal (and only that) is accepted.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
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

#include "adapters/conf.h"

#ifndef CONF_TEST_SRCDIR
#define CONF_TEST_SRCDIR "."
#endif

#define HOOKS_INSTALLED "/usr/libexec/chorus/hooks/"
#define EXAMPLE_MAX (1024 * 1024)
#define SECRETS_INSTALLED "/etc/chorus/fence.secrets"

/* The source tree, absolute: the loader takes absolute script paths only. */
static void src_root(char *out)
{
	const char *s = getenv("srcdir");

	if (realpath(s != NULL ? s : CONF_TEST_SRCDIR, out) == NULL)
		fail_msg("srcdir: %s", strerror(errno));
}

/* Load 'path' through a copy with HOOKS_INSTALLED replaced by the tree's
 * deploy/hooks/.  Returns conf_load()'s result; 'c' and 'err' as there. */
static int load_example(const char *root, const char *path, struct chorus_conf **c,
			char *err, size_t errlen)
{
	char tmp[] = "/tmp/chorus-conf-example.XXXXXX";
	char secrets[] = "/tmp/chorus-conf-secrets.XXXXXX";
	char *buf, *p, *hit;
	FILE *in, *out;
	size_t n;
	int fd, rc;

	buf = malloc(EXAMPLE_MAX + 1);
	assert_non_null(buf);
	in = fopen(path, "r");
	if (in == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	n = fread(buf, 1, EXAMPLE_MAX + 1, in);
	fclose(in);
	if (n > EXAMPLE_MAX)
		fail_msg("%s: larger than %d bytes", path, EXAMPLE_MAX);
	buf[n] = '\0';

	fd = mkstemp(tmp);
	assert_true(fd >= 0);
	out = fdopen(fd, "w");
	assert_non_null(out);
	fd = mkstemp(secrets);	/* mode 0600 */
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "password=example\n", 17), 17);
	close(fd);
	for (p = buf; *p != '\0';) {
		char *h1 = strstr(p, HOOKS_INSTALLED), *h2 = strstr(p, SECRETS_INSTALLED);

		hit = h1 == NULL || (h2 != NULL && h2 < h1) ? h2 : h1;
		if (hit == NULL)
			break;
		fwrite(p, 1, (size_t)(hit - p), out);
		if (hit == h1) {
			fprintf(out, "%s/deploy/hooks/", root);
			p = hit + strlen(HOOKS_INSTALLED);
		} else {
			fputs(secrets, out);
			p = hit + strlen(SECRETS_INSTALLED);
		}
	}
	fputs(p, out);
	assert_int_equal(fclose(out), 0);
	free(buf);

	rc = conf_load(tmp, c, err, errlen);
	if (rc == -EINVAL && geteuid() != 0 && strstr(err, "fence.secrets") != NULL &&
	    strstr(err, "must be root's") != NULL) {
		print_message("%s: loads but for the secrets' owner (not run as root)\n", path);
		rc = 1;
	}
	unlink(secrets);
	unlink(tmp);
	return rc;
}

static void test_examples(void **state)
{
	char root[PATH_MAX], dir[PATH_MAX + 32], path[PATH_MAX + 300], err[1024];
	struct chorus_conf *c;
	struct dirent *de;
	size_t len, n = 0;
	DIR *d;
	int rc;

	(void)state;
	src_root(root);
	snprintf(dir, sizeof(dir), "%s/deploy/examples", root);
	d = opendir(dir);
	if (d == NULL)
		fail_msg("cannot open %s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		c = NULL;
		rc = load_example(root, path, &c, err, sizeof(err));
		if (rc < 0)
			fail_msg("example %s does not load: %s", de->d_name, err);
		if (rc == 0)
			assert_true(c->n_vips > 0);
		conf_free(c);
		n++;
	}
	closedir(d);
	assert_true(n >= 1);
}

/* The rewrite must not make a hook the tree does not ship load. */
static void test_unshipped_hook_fails(void **state)
{
	char root[PATH_MAX], path[] = "/tmp/chorus-conf-hook.XXXXXX", err[1024];
	struct chorus_conf *c = NULL;
	FILE *f;
	int fd;

	(void)state;
	src_root(root);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("{\"vips\": [{\"address\": \"192.0.2.1/24\", \"interface\": \"eth0\","
	      " \"pool\": \"nfs\"}],\n \"hooks\": [{\"pool\": \"nfs\", \"script\": \""
	      HOOKS_INSTALLED "no-such-hook\"}]}\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_not_equal(load_example(root, path, &c, err, sizeof(err)), 0);
	assert_null(c);
	assert_non_null(strstr(err, "no-such-hook"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_unshipped_hook_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
