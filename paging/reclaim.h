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

#include "boot_info.h"

#define RECLAIM_POISON 0xBD /* fill byte of every reclaimed frame */

struct reclaim_stats {
	uint64_t boot_pages;     /* boot-services pages in the map */
	uint64_t frames_added;   /* frames given to the allocator */
	uint64_t frames_kept;    /* boot-services frames not given (below) */
	uint64_t ranges_refused; /* descriptors frames_add refused */
};

/*
 * Give every EfiBootServicesCode/Data frame of the map to the frame
 * allocator (frames_add), filled with RECLAIM_POISON first so that
 * anything that still reads it shows at once.  Kept back: frame 0 (it
 * means "no frame"), every descriptor that another, non-boot-services
 * descriptor overlaps (a firmware bug; we trust the other claim), and
 * every descriptor that may not be cached write-back (memmap_is_wb_ram:
 * the direct map, through which frames are used, leaves it out).  Call
 * once, after frames_init on the same map, and only when nothing uses
 * boot-services memory any more.  Fills *st; returns 0, or the first
 * frames_add error (VM_ENOMEM, VM_EEXIST) after doing the rest.
 */
int reclaim_boot_services(const struct boot_info *bi, struct reclaim_stats *st);

#endif
