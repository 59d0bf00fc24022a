/*
 * frames.h - the physical frame allocator: hands out whole 4 KiB frames,
 * drawn from the write-back MEMBLOCK_FREE ranges of the memory list
 * (memblock.h: EFI_MEM_CONVENTIONAL not marked specific-purpose, the
 * only memory that is free after ExitBootServices) and, once reclaimed
 * (frames_add), boot-services memory.  Frame 0 is never handed out, so
 * physical address 0 means "no frame".  One allocator per kernel (global state).
 *
 * How it stays O(1) without touching every frame at init:
 *   - a sorted table of free ranges, each with a bump cursor: frames at or
 *     above the cursor have never been handed out;
 *   - a LIFO stack of freed frames, linked through the first 8 bytes of
 *     each freed frame (reached with phys_to_virt);
 *   - a bitmap, one bit per frame (set = allocated), so a double free is
 *     caught exactly.
 * Nothing is of fixed size: the range table (one row per free range,
 * one more per boot-services range for frames_add, plus
 * FRAMES_SPARE_RANGES for later cuts, see frames_internal.h) and the
 * bitmap (one bit per free and per boot-services page) are sized from
 * the list and live together in "the bookkeeping", frames cut from the
 * top of the largest free write-back range.  So no map is too
 * fragmented: every free write-back page is either managed or init
 * fails and says so.
 * Costs: init O(R) for R ranges of the list (already sorted and
 * disjoint), plus zeroing the bitmap (RAM / 32768 bytes: 192 KiB for
 * 6 GiB) and 32 bytes a range; alloc and free O(log R) (a binary search
 * to find the bitmap bit), independent of the amount of memory.  Units: bytes for
 * addresses and sizes, frames for counts.
 */
#ifndef PAGING_FRAMES_H
#define PAGING_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memblock.h"
#include "mmu.h" /* a frame is one PAGE_SIZE page */


struct frames_stats {
	uint64_t total;         /* frames managed (bookkeeping excluded) */
	uint64_t free;          /* frames that frames_alloc() can return */
	uint64_t ranges;        /* entries in the range table */
	uint64_t table_cap;     /* entries it has room for */
	uint64_t meta_pa;       /* where the bookkeeping (table, bitmap) lives */
	uint64_t meta_frames;   /* frames it took */
};

/*
 * Forget all previous state and take every page of the list's
 * MEMBLOCK_FREE ranges that may be cached write-back
 * (memblock_is_wb_ram), minus page 0, minus frames_meta_bytes(mb) for
 * the bookkeeping, cut from the top of the largest such range.  What
 * another descriptor also claims is not free in the list (memblock.h's
 * overlap rule), so it is never taken.  The bookkeeping keeps room (bits
 * and table rows) for the list's boot-services memory, for frames_add.
 * Touches only the bookkeeping, not the frames.  Returns 0, or VM_ENOMEM
 * if no free range can hold the bookkeeping (then nothing is managed).
 */
int frames_init(const struct memblock *mb);

/* Bytes of bookkeeping frames_init takes for this list (the range
 * table, then the bitmap). */
uint64_t frames_meta_bytes(const struct memblock *mb);

/*
 * A dry run of frames_init, for checks made before ExitBootServices,
 * while free memory still belongs to the firmware: the same frames are
 * managed and the same place is cut for the bookkeeping, but the
 * bookkeeping is kept in store (frames_meta_bytes(mb) bytes the caller
 * owns, reachable as phys_to_virt(store - offset)).  Afterwards only
 * frames_alloc, frames_alloc_contig and the queries may be used: they
 * touch the bookkeeping alone, never a frame.  Returns as frames_init.
 */
int frames_init_dry(const struct memblock *mb, void *store);

/*
 * One frame: its physical address (4 KiB aligned, never 0), or 0 when
 * none is left.  The contents are whatever was there before.
 */
uint64_t frames_alloc(void);

/* As frames_alloc(), but the frame is filled with zeros. */
uint64_t frames_alloc_zeroed(void);

/*
 * Give back the frame at pa.  Returns 0; VM_EINVAL if pa is 0, not 4 KiB
 * aligned or not a frame this allocator manages; VM_EEXIST if the frame
 * is not currently allocated (a double free).  Writes 8 bytes into it.
 */
int frames_free(uint64_t pa);

/*
 * n physically contiguous frames [pa, pa + n * 4096), or 0 if no range
 * has n never-used frames in a row (first fit, in address order).  Cost O(R + n).  Only never-used
 * memory serves runs (freed frames are not merged), so after a lot of
 * alloc/free churn this can fail while enough scattered frames are free.
 */
uint64_t frames_alloc_contig(size_t n);

/*
 * Free the n frames of [pa, pa + n * 4096).  All or nothing: checks every
 * frame first, returns the error frames_free() would give and changes
 * nothing if one fails.
 */
int frames_free_contig(uint64_t pa, size_t n);

/*
 * Hand the frames of [base, base + size) to the allocator after init:
 * memory that was in use when frames_init ran and is free now
 * (boot-services code and data, once nothing points into it: see
 * paging/reclaim.h).  frames_init keeps one bitmap bit for every
 * boot-services page of the list, and one table row for every
 * boot-services range, for this.  The frames become free and
 * never-used; nothing in them is touched.  Returns 0, or: VM_EINVAL
 * (frame 0, size 0, not 4 KiB aligned, wrapping), VM_EEXIST (a frame of
 * the range is already managed, or is part of the bookkeeping),
 * VM_ENOMEM (more frames than the bits kept for them, or the range table
 * is full).  On error nothing changes.
 */
int frames_add(uint64_t base, uint64_t size);

/* True when pa is a managed frame that is currently allocated. */
bool frames_is_allocated(uint64_t pa);

uint64_t frames_total(void);      /* frames managed */
uint64_t frames_free_count(void); /* frames available now */

/* The longest run frames_alloc_contig could return now, in frames. */
uint64_t frames_largest_run(void);
void frames_get_stats(struct frames_stats *out);

#endif
