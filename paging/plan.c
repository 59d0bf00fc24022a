/*
 * plan.c - the pre-exit check of a memory map (see plan.h).  Units:
 * bytes, frames where named.
 */
#include "plan.h"
#include "frames.h"
#include "layout.h"
#include "memmap.h"
#include "mmu.h"

uint64_t plan_store_bytes(const struct boot_info *bi)
{
	return frames_meta_bytes(bi);
}

/* The longest conventional descriptor, in bytes: what the bookkeeping
 * could have had. */
static uint64_t longest_descriptor(const struct boot_info *bi)
{
	uint64_t best = 0;

	for (size_t i = 0; i < memmap_count(bi); i++) {
		const struct efi_mem_desc *d = memmap_desc(bi, i);
		if (d->type == EFI_MEM_CONVENTIONAL && d->num_pages * PAGE_SIZE > best)
			best = d->num_pages * PAGE_SIZE;
	}
	return best;
}

static enum plan_verdict verdict(struct plan *p, enum plan_verdict v, const char *what,
				 uint64_t need, uint64_t have)
{
	*p = (struct plan){ v, what, need, have };
	return v;
}

/* Take layout_build's runs in its order; false (and *p filled) when one
 * is missing. */
static bool take_runs(const struct boot_info *bi, struct plan *p)
{
	struct layout_run runs[LAYOUT_NRUNS];

	layout_runs(bi, LAYOUT_KSTACK_SIZE, LAYOUT_IST_STACK_SIZE, runs);
	for (int i = 0; i < LAYOUT_NRUNS; i++) {
		uint64_t longest = frames_largest_run();
		if (runs[i].frames && !frames_alloc_contig(runs[i].frames)) {
			verdict(p, PLAN_NO_RUN, runs[i].what, runs[i].frames * PAGE_SIZE,
				longest * PAGE_SIZE);
			return false;
		}
	}
	return true;
}

enum plan_verdict plan_check(const struct boot_info *bi, uint64_t heap_bytes, void *store,
			     struct plan *p)
{
	uint64_t meta = frames_meta_bytes(bi);

	if (meta == 0)
		return verdict(p, PLAN_BAD_MAP, "the memory map", 0, 0);
	if (frames_init_dry(bi, store) != 0)
		return verdict(p, PLAN_NO_RUN, "the frame allocator's bookkeeping",
			       (meta + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1), longest_descriptor(bi));
	if (!take_runs(bi, p))
		return p->verdict;
	uint64_t heap_frames = (heap_bytes + PAGE_SIZE - 1) / PAGE_SIZE;
	uint64_t heap_tables = heap_bytes / PAGE_SIZE_2M + 3;
	uint64_t need = (layout_tables_bound(bi) + heap_frames + heap_tables) * PAGE_SIZE +
			PLAN_KERNEL_SPARE;
	uint64_t have = frames_free_count() * PAGE_SIZE;
	if (have < need)
		return verdict(p, PLAN_TOO_LITTLE, "the kernel", need, have);
	return verdict(p, PLAN_OK, "the kernel", need, have);
}
