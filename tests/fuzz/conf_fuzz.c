/*
 * libFuzzer target for the config loader (coordinator/adapters/conf.c, conf_json.c):
 * operators' files are hostile input too.  The file is handed over through a
 * memfd, so the real loader path (open, fstat, read, parse) runs.  Every
 * refusal must be one line naming the file; every success must free cleanly.
 */
#include <assert.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "adapters/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Well-formed UTF-8 by Unicode's table 3-7, written as its byte ranges (a
 * different method from the loader's decode-and-compare, so that one's
 * mistake is not repeated here): what the loader accepts must pass.
 */
static bool utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned char lo = 0x80, hi = 0xbf;
		int n;

		if (p[0] < 0x80) {
			p++;
			continue;
		}
		if (p[0] >= 0xc2 && p[0] <= 0xdf)
			n = 1;
		else if (p[0] >= 0xe0 && p[0] <= 0xef)
			n = 2, lo = p[0] == 0xe0 ? 0xa0 : 0x80, hi = p[0] == 0xed ? 0x9f : 0xbf;
		else if (p[0] >= 0xf0 && p[0] <= 0xf4)
			n = 3, lo = p[0] == 0xf0 ? 0x90 : 0x80, hi = p[0] == 0xf4 ? 0x8f : 0xbf;
		else
			return false;
		if (p[1] < lo || p[1] > hi)
			return false;
		for (int i = 2; i <= n; i++)
			if (p[i] < 0x80 || p[i] > 0xbf)
				return false;
		p += n + 1;
	}
	return true;
}

/* Every text the loader hands on is strict UTF-8 (chorus.json(5)). */
static void check_text(const struct chorus_conf *c)
{
	assert(utf8_ok(c->group) && utf8_ok(c->state_dir) && utf8_ok(c->run_dir));
	assert(utf8_ok(c->log.file) && utf8_ok(c->plugin_dir));
	assert(utf8_ok(c->brick_script) && utf8_ok(c->glusterd_workdir) &&
	       utf8_ok(c->glusterd_vol));
	assert(utf8_ok(c->gluster_cli) && utf8_ok(c->watchdog_device));
	for (size_t i = 0; i < c->n_plugins; i++)
		assert(utf8_ok(c->plugins[i].name) && utf8_ok(c->plugins[i].config_json));
	for (size_t i = 0; i < c->n_hooks; i++) {
		assert(utf8_ok(c->hooks[i].script));
		for (size_t k = 0; k < c->hooks[i].n_args; k++)
			assert(utf8_ok(c->hooks[i].args[k]));
	}
	for (size_t i = 0; i < c->n_fence_args; i++)
		assert(utf8_ok(c->fence_args[i]));
	for (size_t i = 0; i < c->n_bricks; i++) {
		const struct conf_brick *b = &c->bricks[i];

		assert(utf8_ok(b->volume) && utf8_ok(b->host) && utf8_ok(b->path));
		assert(utf8_ok(b->device) && utf8_ok(b->fstype) && utf8_ok(b->mount_options));
	}
	for (size_t i = 0; i < c->n_vips; i++)
		assert(utf8_ok(c->vips[i].ifname) && utf8_ok(c->vips[i].pool));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[1024];
	struct chorus_conf *c = NULL;
	int fd = memfd_create("chorus-conf-fuzz", MFD_CLOEXEC), rc;

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	err[0] = '\0';
	rc = conf_load(path, &c, err, sizeof(err));
	if (rc == 0) {
		assert(c != NULL);
		check_text(c);
		conf_free(c);
	} else {
		assert(c == NULL);
		assert(strncmp(err, path, strlen(path)) == 0);
		assert(strchr(err, '\n') == NULL);
	}
	close(fd);
	return 0;
}
