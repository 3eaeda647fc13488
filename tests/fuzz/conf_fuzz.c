/*
 * libFuzzer target for the config loader (coordinator/conf.c, conf_json.c):
 * operators' files are hostile input too.  The file is handed over through a
 * memfd, so the real loader path (open, fstat, read, parse) runs.  Every
 * refusal must be one line naming the file; every success must free cleanly.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
		conf_free(c);
	} else {
		assert(c == NULL);
		assert(strncmp(err, path, strlen(path)) == 0);
		assert(strchr(err, '\n') == NULL);
	}
	close(fd);
	return 0;
}
