/*
 * plan.h - will the kernel fit in this memory map?  The check the loader
 * makes before ExitBootServices, so that a map the kernel cannot use is
 * refused at the shell with a reason, not met by a panic after the exit.
 *
 * Plain C over the kernel's own code: a dry run of the frame allocator
 * (frames_init_dry) over the map, taking the contiguous runs layout_build
 * will take (layout_runs), in the same order, then counting the single
 * frames left against a bound on what the kernel needs.  Units: bytes.
 */
#ifndef PAGING_PLAN_H
#define PAGING_PLAN_H

#include <stdint.h>

#include "boot_info.h"

/* Frames kept back for what the kernel takes after the layout: the
 * self-tests' scratch frames, a heap that grows, stray page tables. */
#define PLAN_KERNEL_SPARE (4ull << 20)

enum plan_verdict {
	PLAN_OK,
	PLAN_BAD_MAP,     /* memmap_check refuses the map */
	PLAN_NO_RUN,      /* no free run of `need` bytes for `what`; `have`: the longest */
	PLAN_TOO_LITTLE,  /* `need` bytes of free memory needed, `have` free */
};

struct plan {
	enum plan_verdict verdict;
	const char *what;  /* PLAN_NO_RUN: "the kernel stack", ... */
	uint64_t need;
	uint64_t have;
};

/* Bytes of scratch plan_check needs for this map (frames_meta_bytes);
 * 0 for a bad map. */
uint64_t plan_store_bytes(const struct boot_info *bi);

/*
 * Check that the kernel can run on bi's map (as read just before the
 * exit; bi->image_size is used for the page-table bound) with a heap of
 * heap_bytes.  store: plan_store_bytes(bi) bytes the caller owns;
 * nothing else is written.  Fills *p and returns p->verdict: PLAN_OK
 * when every run was found and enough single frames are left (then
 * need and have are the free memory needed and found).  Leaves the
 * frame allocator in its dry state: frames_init starts afresh.
 */
enum plan_verdict plan_check(const struct boot_info *bi, uint64_t heap_bytes, void *store,
			     struct plan *p);

#endif
