/*
 * frames.h - the physical frame allocator: hands out whole 4 KiB frames,
 * drawn only from EFI_MEM_CONVENTIONAL memory (the only memory that is
 * free after ExitBootServices).  Frame 0 is never handed out, so physical
 * address 0 means "no frame".  One allocator per kernel (global state).
 *
 * How it stays O(1) without touching every frame at init:
 *   - a sorted table of free ranges, each with a bump cursor: frames at or
 *     above the cursor have never been handed out;
 *   - a LIFO stack of freed frames, linked through the first 8 bytes of
 *     each freed frame (reached with phys_to_virt);
 *   - a bitmap, one bit per frame (set = allocated), carved from the top
 *     of the largest range, so a double free is caught exactly.
 * Costs: init O(D * R) for D descriptors, R ranges, plus zeroing the
 * bitmap (RAM / 32768 bytes: 192 KiB for 6 GiB); alloc and free
 * O(log R) (a binary search to find the bitmap bit), independent of the
 * amount of memory.  Units: bytes for addresses and sizes, frames for
 * counts.
 */
#ifndef PAGING_FRAMES_H
#define PAGING_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot_info.h"

#define FRAME_SIZE 4096ull
#define FRAMES_MAX_RANGES 256 /* free ranges the table holds */

struct frames_stats {
	uint64_t total;         /* frames managed (bitmap frames excluded) */
	uint64_t free;          /* frames that frames_alloc() can return */
	uint64_t ranges;        /* entries in the range table */
	uint64_t bitmap_pa;     /* where the allocation bitmap lives */
	uint64_t bitmap_frames; /* frames the bitmap took */
	uint64_t dropped;       /* conventional frames lost: range table full */
};

/*
 * Forget all previous state and take every EFI_MEM_CONVENTIONAL page of
 * the map, minus page 0 and minus anything another descriptor also claims
 * (a firmware bug we refuse to trust).  Touches only the bitmap, not the
 * frames.  Returns 0, VM_EINVAL for a bad map (memmap_check), or
 * VM_ENOMEM if there is no conventional memory to hold the bitmap.
 */
int frames_init(const struct boot_info *bi);

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
 * has n never-used frames in a row.  Cost O(R + n).  Only never-used
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
 * Never hand out the frames that overlap [base, base + size) (rounded out
 * to whole frames), e.g. low memory kept for AP start-up code.  Only
 * never-used memory can be reserved: returns VM_EBUSY and changes nothing
 * if any frame of the range was ever handed out; VM_ENOMEM if the range
 * table cannot hold the split; VM_EINVAL for size 0 or a wrapping range.
 * Parts of the range that are not free conventional memory are ignored.
 */
int frames_reserve(uint64_t base, uint64_t size);

/*
 * Hand the frames of [base, base + size) to the allocator after init:
 * memory that was in use when frames_init ran and is free now
 * (boot-services code and data, once nothing points into it: see
 * paging/reclaim.h).  frames_init keeps one bitmap bit for every
 * boot-services page of the map for this.  The frames become free and
 * never-used; nothing in them is touched.  Returns 0, or: VM_EINVAL
 * (frame 0, size 0, not 4 KiB aligned, wrapping), VM_EEXIST (a frame of
 * the range is already managed, or holds the bitmap), VM_ENOMEM (more
 * frames than the bits kept for them, or the range table is full).  On
 * error nothing changes.
 */
int frames_add(uint64_t base, uint64_t size);

/* True when pa is a managed frame that is currently allocated. */
bool frames_is_allocated(uint64_t pa);

uint64_t frames_total(void);      /* frames managed */
uint64_t frames_free_count(void); /* frames available now */
void frames_get_stats(struct frames_stats *out);

#endif
