/*
 * reclaim.c - boot-services memory to the frame allocator (see
 * reclaim.h).  Units: bytes, frames as named.
 */
#include "reclaim.h"
#include "frames.h"
#include "memblock.h"
#include "phys.h"

/* Fill [base, end) with RECLAIM_POISON, 8 bytes a store.  Not memset:
 * gnu-efi's stores one byte at a time, slow for 40 MiB under QEMU's TCG;
 * volatile keeps the compiler from turning the loop back into a call. */
static void poison(uint64_t base, uint64_t end)
{
	volatile uint64_t *p = phys_to_virt(base);
	uint64_t pattern = 0x0101010101010101ull * RECLAIM_POISON;

	for (uint64_t i = 0; i < (end - base) / 8; i++)
		p[i] = pattern;
}

/* Add [base, end) and poison it; returns frames_add's result. */
static int add_range(uint64_t base, uint64_t end, struct reclaim_stats *st)
{
	int err = frames_add(base, end - base);

	if (err) {
		st->ranges_refused++;
		st->frames_kept += (end - base) / PAGE_SIZE;
		return err;
	}
	poison(base, end); /* free and never used now: no one holds it yet */
	st->frames_added += (end - base) / PAGE_SIZE;
	return 0;
}

int reclaim_boot_services(const struct memblock *mb, struct reclaim_stats *st)
{
	int first_err = 0;

	__builtin_memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < mb->n; i++) {
		const struct memblock_range *r = &mb->r[i];
		if (r->kind != MEMBLOCK_BOOT_SERVICES)
			continue;
		uint64_t base = r->start, end = r->end;
		st->boot_pages += memblock_pages(r);
		if (base == 0) { /* frame 0 means "no frame" */
			base = PAGE_SIZE;
			st->frames_kept++;
		}
		/* Not write-back: the direct map does not reach it, so it
		 * could be neither poisoned nor used. */
		if (!memblock_is_wb_ram(r)) {
			st->frames_kept += (end - base) / PAGE_SIZE;
			continue;
		}
		if (base < end) {
			int err = add_range(base, end, st);
			if (err && !first_err)
				first_err = err;
		}
	}
	return first_err;
}
