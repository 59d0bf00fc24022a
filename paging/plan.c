/*
 * plan.c - the pre-exit check of a memory map (see plan.h).  Units:
 * bytes, frames where named.
 */
#include "plan.h"
#include "frames.h"
#include "layout.h"
#include "vmerr.h"
#include "mmu.h"

uint64_t plan_store_bytes(const struct memblock *mb)
{
	return frames_meta_bytes(mb);
}

/* The longest free range, in bytes: what the bookkeeping could have had. */
static uint64_t longest_free(const struct memblock *mb)
{
	uint64_t best = 0;

	for (size_t i = 0; i < mb->n; i++) {
		const struct memblock_range *r = &mb->r[i];
		if (memblock_is_free_wb(r) && r->end - r->start > best)
			best = r->end - r->start;
	}
	return best;
}

static enum plan_verdict verdict(struct plan *p, enum plan_verdict v, const char *what,
				 uint64_t need, uint64_t have)
{
	*p = (struct plan){ .verdict = v, .what = what, .need = need, .have = have };
	return v;
}

enum plan_verdict plan_read_map(struct boot_info *bi, struct memblock *mb, struct plan *p)
{
	int err = memblock_build(bi, mb);

	if (err == VM_EINVAL)
		return verdict(p, PLAN_BAD_MAP, "bad descriptors", 0, 0);
	if (err)
		return verdict(p, PLAN_BAD_MAP, "too many overlapping descriptors", 0, 0);
	return verdict(p, PLAN_OK, "the memory map", mb->n, 0);
}

/* Take layout_build's runs in its order; false (and *p filled) when one
 * is missing. */
static bool take_runs(const struct memblock *mb, const struct boot_info *bi, struct plan *p)
{
	struct layout_run runs[LAYOUT_NRUNS];

	layout_runs(mb, bi, LAYOUT_KSTACK_SIZE, LAYOUT_IST_STACK_SIZE, runs);
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

/* The layout's own check of the list and of the image the firmware
 * loaded (the same one layout_build makes after the exit); false (and
 * *p filled) when it refuses. */
static bool mappable(const struct memblock *mb, const struct boot_info *bi, struct plan *p)
{
	struct layout_span image = { bi->image_base, bi->image_base + bi->image_size };
	struct layout_refusal why;

	if (layout_check_map(mb, image, &why) == 0)
		return true;
	verdict(p, PLAN_UNMAPPABLE, why.what, 0, 0);
	p->refusal = why;
	return false;
}

enum plan_verdict plan_check(const struct memblock *mb, const struct boot_info *bi,
			     uint64_t heap_bytes, void *store, struct plan *p)
{
	uint64_t meta = frames_meta_bytes(mb);

	if (!mappable(mb, bi, p))
		return p->verdict;
	if (frames_init_dry(mb, store) != 0)
		return verdict(p, PLAN_NO_RUN, "the frame allocator's bookkeeping",
			       (meta + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1), longest_free(mb));
	if (!take_runs(mb, bi, p))
		return p->verdict;
	uint64_t heap_frames = (heap_bytes + PAGE_SIZE - 1) / PAGE_SIZE;
	uint64_t heap_tables = layout_heap_tables(heap_bytes);
	uint64_t need = (layout_tables_bound(mb, bi) + heap_frames + heap_tables) * PAGE_SIZE +
			PLAN_KERNEL_SPARE;
	uint64_t have = frames_free_count() * PAGE_SIZE;
	if (have < need)
		return verdict(p, PLAN_TOO_LITTLE, "the kernel", need, have);
	return verdict(p, PLAN_OK, "the kernel", need, have);
}
