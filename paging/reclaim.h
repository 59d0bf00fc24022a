/*
 * reclaim.h - giving boot-services memory to the frame allocator.
 *
 * After ExitBootServices, EfiBootServicesCode and EfiBootServicesData
 * hold nothing the firmware needs any more (UEFI 2.10, 7.2: "the memory
 * is available for general use" after the exit), but they still hold
 * things the kernel itself uses until it switches away: the firmware's
 * page tables, its stack, GDT and IDT.  So the kernel reclaims them only
 * on its own tables, stack, GDT and IDT, and only what nothing of ours
 * lives in (the loader's buffers are EfiLoaderData).  docs/firmware.md
 * says why, and what Linux does.  Units: bytes and 4 KiB frames as named.
 */
#ifndef PAGING_RECLAIM_H
#define PAGING_RECLAIM_H

#include <stdint.h>

#include "memblock.h"

#define RECLAIM_POISON 0xBD /* fill byte of every reclaimed frame */

struct reclaim_stats {
	uint64_t boot_pages;     /* boot-services pages in the list */
	uint64_t frames_added;   /* frames given to the allocator */
	uint64_t frames_kept;    /* boot-services frames not given (below) */
	uint64_t ranges_refused; /* ranges frames_add refused */
};

/*
 * Give every frame of the list's MEMBLOCK_BOOT_SERVICES ranges to the
 * frame allocator (frames_add), filled with RECLAIM_POISON first so
 * that anything that still reads it shows at once.  Where another
 * descriptor overlaps boot-services memory, the list already gave the
 * overlap to the stronger claim (memblock.h): only free memory is
 * weaker, so what the list calls boot services nobody else claims.
 * Kept back: frame 0 (it means "no frame"), and every range that may
 * not be cached write-back (memblock_is_wb_ram: the direct map, through
 * which frames are used, leaves it out).  Call once, after frames_init
 * on the same list, and only when nothing uses boot-services memory any
 * more.  Fills *st; returns 0, or the first frames_add error
 * (VM_ENOMEM, VM_EEXIST) after doing the rest.
 */
int reclaim_boot_services(const struct memblock *mb, struct reclaim_stats *st);

#endif
