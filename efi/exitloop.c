/*
 * exitloop.c - GetMemoryMap and ExitBootServices with their retries (see
 * exitloop.h).  Plain C: the host tests drive it with a fake firmware.
 */
#include <stdbool.h>
#include "exitloop.h"
#include "memmap.h"

/* The map buffer and what the last GetMemoryMap said about it. */
struct map_buf {
	void *buf;
	uint64_t cap;
	uint64_t size, key, desc_size;
	uint32_t desc_version;
};

/* Replace the buffer by one of need bytes plus slack. */
static uint64_t grow(const struct exit_fw *fw, struct map_buf *m, uint64_t need)
{
	/* desc_size can be 0 on this error path: pad with edk2's 48. */
	uint64_t dsize = m->desc_size >= MEMMAP_DESC_MIN ? m->desc_size : 48;

	if (m->buf)
		fw->free(fw->ctx, m->buf);
	m->buf = 0;
	m->cap = need + EXIT_SLACK_DESCS * dsize;
	uint64_t st = fw->alloc(fw->ctx, m->cap, &m->buf);
	if (st != EXIT_ST_SUCCESS)
		m->buf = 0;
	return st;
}

/* One round: fetch the map (growing the buffer if asked), then exit.
 * *again: worth another round (the buffer grew, or the key was stale). */
static uint64_t round_once(const struct exit_fw *fw, struct map_buf *m, int *exits, bool *again)
{
	*again = false;
	m->size = m->cap;
	uint64_t st = fw->get_map(fw->ctx, &m->size, m->buf, &m->key, &m->desc_size,
				  &m->desc_version);
	if (st == EXIT_ST_BUFFER_TOO_SMALL) {
		uint64_t err = grow(fw, m, m->size);
		*again = err == EXIT_ST_SUCCESS;
		return *again ? st : err;
	}
	if (st != EXIT_ST_SUCCESS)
		return st;
	if (m->desc_size < MEMMAP_DESC_MIN)
		return EXIT_ST_UNSUPPORTED; /* we could not read its descriptors */
	(*exits)++;
	st = fw->exit(fw->ctx, m->key);
	*again = st == EXIT_ST_INVALID_PARAMETER;
	return st;
}

uint64_t exit_loop_run(const struct exit_fw *fw, struct boot_info *bi, int *exits)
{
	struct map_buf m = { 0 };
	uint64_t st = EXIT_ST_BUFFER_TOO_SMALL;
	bool again = true;

	*exits = 0;
	for (int r = 0; r < EXIT_ROUNDS && again; r++) {
		st = round_once(fw, &m, exits, &again);
		if (st == EXIT_ST_SUCCESS) {
			bi->mmap = m.buf;
			bi->mmap_size = m.size;
			bi->desc_size = m.desc_size;
			bi->desc_version = m.desc_version;
			return st;
		}
	}
	if (m.buf)
		fw->free(fw->ctx, m.buf);
	return st;
}
