/*
 * plan.h - will the kernel fit in this memory map?  The check the loader
 * makes before ExitBootServices, so that a map the kernel cannot use is
 * refused at the shell with a reason, not met by a panic after the exit.
 *
 * Plain C over the kernel's own code, in three steps the loader calls:
 * plan_read_map reads the map into the memory list (memblock_build, as
 * the kernel will after the exit) and refuses a map it cannot read or
 * whose list would not fit its buffer; plan_store_bytes says how much scratch the
 * check needs; plan_check first asks layout_check_map whether the
 * layout could map the list at all (RAM beyond the direct map, runtime
 * memory where it cannot be identity-mapped), then makes a dry run of
 * the frame allocator
 * (frames_init_dry) over the list, taking the contiguous runs
 * layout_build will take (layout_runs), in the same order, then counts
 * the single frames left against a bound on what the kernel needs.
 * Units: bytes.
 */
#ifndef PAGING_PLAN_H
#define PAGING_PLAN_H

#include <stdint.h>

#include "boot_info.h"
#include "layout.h"
#include "memblock.h"

/* Frames kept back for what the kernel takes after the layout: the
 * self-tests' scratch frames, a heap that grows, stray page tables. */
#define PLAN_KERNEL_SPARE (4ull << 20)

enum plan_verdict {
	PLAN_OK,
	PLAN_BAD_MAP,     /* memblock_build refuses the map; `what` says why */
	PLAN_NO_RUN,      /* no free run of `need` bytes for `what`; `have`: the longest */
	PLAN_TOO_LITTLE,  /* `need` bytes of free memory needed, `have` free */
	PLAN_UNMAPPABLE,  /* layout_check_map refuses the list: see `refusal` */
};

struct plan {
	enum plan_verdict verdict;
	const char *what;  /* PLAN_NO_RUN: "the kernel stack", ... */
	uint64_t need;
	uint64_t have;
	struct layout_refusal refusal; /* PLAN_UNMAPPABLE: the range and why */
};

/*
 * Build the memory list *mb of bi's map, in place (memblock_build: the
 * map's buffer then holds the list).  Fills *p and returns p->verdict:
 * PLAN_OK (need: the list's rows), or PLAN_BAD_MAP with `what` "bad
 * descriptors" (memmap_check) or "too many overlapping descriptors"
 * (the list does not fit the buffer).
 */
enum plan_verdict plan_read_map(struct boot_info *bi, struct memblock *mb, struct plan *p);

/* Bytes of scratch plan_check needs for this list (frames_meta_bytes). */
uint64_t plan_store_bytes(const struct memblock *mb);

/*
 * Check that the kernel can run on the list mb of bi's map (as read just
 * before the exit; bi->image_size and bi's MAT are used for the
 * page-table bound and the region table) with a heap of heap_bytes.
 * store: plan_store_bytes(mb) bytes the caller owns; nothing else is
 * written.  Fills *p and returns p->verdict: PLAN_UNMAPPABLE (`what`
 * and `refusal` from layout_check_map) when the layout could never map
 * the list; else PLAN_OK when every run was found and enough single
 * frames are left (then need and have are the free memory needed and
 * found).  Leaves the frame allocator in its dry
 * state: frames_init starts afresh.
 */
enum plan_verdict plan_check(const struct memblock *mb, const struct boot_info *bi,
			     uint64_t heap_bytes, void *store, struct plan *p);

#endif
