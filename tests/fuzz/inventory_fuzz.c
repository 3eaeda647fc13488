/*
 * libFuzzer target for the inventory parser (coordinator/exec/inventory.c): the
 * bytes "gluster volume info --xml" prints, which end up, once accepted, in
 * brick scripts' environments.
 *
 * Beyond what the sanitizers catch it checks what acceptance promises: every
 * brick's strings are terminated, its path absolute without "..", its UUID
 * well formed, and its set index consistent with its position.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "exec/inventory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct inventory *inv = NULL;
	char err[256];

	if (inventory_parse((const char *)data, size, &inv, err, sizeof(err)) < 0) {
		assert(inv == NULL);
		assert(memchr(err, '\0', sizeof(err)) != NULL);
		return 0;
	}
	for (size_t i = 0; i < inv->n; i++) {
		const struct inventory_brick *b = &inv->bricks[i];

		assert(memchr(b->volume, '\0', sizeof(b->volume)) && b->volume[0]);
		assert(memchr(b->host, '\0', sizeof(b->host)) && b->host[0]);
		assert(b->path[0] == '/' && strstr(b->path, "/../") == NULL);
		assert(strlen(b->uuid) == INVENTORY_UUID_LEN);
		assert(b->set <= b->index);
		assert(b->in_set || b->set == 0);
		assert(inventory_find(inv, b->host, b->path) != NULL);
		/* the set placement gets: from glusterd, or overridden */
		{
			struct inventory_set st;

			inventory_set_of(inv, b->volume, b->host, b->path, "", &st);
			assert((st.id != 0) == st.gluster_in_set && !st.conflict);
			inventory_set_of(inv, b->volume, b->host, b->path, "x", &st);
			assert(st.id != 0 && st.source == INVENTORY_SET_CONFIG);
		}
	}
	inventory_free(inv);
	return 0;
}
