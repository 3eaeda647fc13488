/*
 * Reading a brick's io-stats dump (iostats.c says what and how).
 */
#ifndef CHORUS_SF_IOSTATS_H
#define CHORUS_SF_IOSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Cumulative counts since the brick process started. */
struct sf_iostats {
	uint64_t meta;		/* FOPs other than READ and WRITE */
	uint64_t small_io;	/* reads and writes of at most 64 KiB */
	uint64_t creates;	/* of 'meta': CREATE */
	uint64_t bytes;		/* read + written */
};

/* Parse the dump at 'path' (at most 'max_size' bytes) into 'st'.  Returns
 * 0, -errno from open, -EFBIG, -EBADMSG (not a JSON object: a dump caught
 * half written reads as this; try again next time) or -ENOMEM. */
int sf_iostats_read(const char *path, size_t max_size, struct sf_iostats *st);

#endif
