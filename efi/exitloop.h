/*
 * exitloop.h - the last two firmware calls, GetMemoryMap then
 * ExitBootServices, and their retries, as plain C over a table of
 * firmware calls.  efi/exit.c plugs in the real boot services; the host
 * tests plug in a fake firmware that answers with scripted statuses.
 *
 * Statuses are UEFI's EFI_STATUS values (UEFI 2.10, appendix D); the
 * few this loop looks at are named here, so no gnu-efi header is needed.
 */
#ifndef EXITLOOP_H
#define EXITLOOP_H

#include <stdint.h>
#include "boot_info.h"

#define EXIT_ST_SUCCESS           0ull
#define EXIT_ST_INVALID_PARAMETER (0x8000000000000000ull | 2)
#define EXIT_ST_UNSUPPORTED       (0x8000000000000000ull | 3)
#define EXIT_ST_BUFFER_TOO_SMALL  (0x8000000000000000ull | 5)

#define EXIT_SLACK_DESCS 32 /* the Linux EFI stub's padding; 8 broke real machines */
#define EXIT_ROUNDS      16 /* GetMemoryMap calls before we give up */

/* The firmware, as the loop sees it.  ctx is passed to every call. */
struct exit_fw {
	void *ctx;
	/* GetMemoryMap: *size in = buffer bytes, out = map bytes (or bytes
	 * needed, with EXIT_ST_BUFFER_TOO_SMALL). */
	uint64_t (*get_map)(void *ctx, uint64_t *size, void *buf, uint64_t *key,
			    uint64_t *desc_size, uint32_t *desc_version);
	uint64_t (*exit)(void *ctx, uint64_t key);           /* ExitBootServices */
	uint64_t (*alloc)(void *ctx, uint64_t size, void **buf); /* AllocatePool */
	void (*free)(void *ctx, void *buf);                  /* FreePool */
};

/*
 * Fetch the map into a buffer with EXIT_SLACK_DESCS descriptors of slack
 * and exit boot services with its key.  The map key goes stale whenever
 * anything allocates, so:
 *   - EXIT_ST_BUFFER_TOO_SMALL: the map grew past the buffer: free it,
 *     allocate a bigger one (allowed even after a refused exit: UEFI
 *     2.10, 7.4 keeps the memory allocation services and GetMemoryMap
 *     usable then) and fetch again;
 *   - EXIT_ST_INVALID_PARAMETER from ExitBootServices: the key went
 *     stale between the two calls: fetch again into the same buffer.
 * Up to EXIT_ROUNDS GetMemoryMap calls.  On success bi->mmap, mmap_size,
 * desc_size and desc_version describe the final map and 0 is returned.
 * Otherwise the last status (the buffer freed), and *exits says how
 * many times ExitBootServices was called: if 0, boot services are still
 * whole; if more, only allocation services may be used.
 */
uint64_t exit_loop_run(const struct exit_fw *fw, struct boot_info *bi, int *exits);

#endif
