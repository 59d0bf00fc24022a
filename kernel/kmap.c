/*
 * kmap.c - fresh frames behind kernel virtual addresses, page by page,
 * and back to the frame allocator (kmap.h).
 *
 * All or nothing, because a growth that cannot be finished should not
 * swallow the machine's last frames: one failed large heap request, or
 * one CPU whose stacks do not fit, leaves memory as it found it.
 */
#include "kmap.h"
#include "kernel.h"
#include "cpu.h"
#include "frames.h"
#include "mmu.h"
#include "pagetable.h"

uint64_t kmap_release(uint64_t va, uint64_t size, bool shared)
{
	uint64_t pml4 = current_pml4(), freed = 0;
	struct pt_gather tables = PT_GATHER_INIT;

	for (uint64_t at = va; at < va + size; at += PAGE_SIZE) {
		uint64_t pa;

		if (pt_translate(pml4, at, &pa, NULL) != 0 ||
		    pt_unmap_gather(pml4, at, PAGE_SIZE, &tables) != 0)
			continue;
		/* Before another owner gets the frame: pt_unmap leaves the
		 * TLB to us, and a stale entry would still reach it. */
		if (shared)
			tlb_shootdown(at, PAGE_SIZE);
		else
			invlpg(at);
		frames_free(pa);
		freed++;
	}
	/* Every page under the emptied tables has been flushed, and with it
	 * every cached walk through them (invlpg drops those too): on every
	 * CPU when shared, else on this one, the only one that used them. */
	pt_gather_free(&tables);
	return freed;
}

int kmap_fresh(uint64_t va, uint64_t size, bool shared)
{
	uint64_t pml4 = current_pml4();

	for (uint64_t at = va; at < va + size; at += PAGE_SIZE) {
		uint64_t pa = frames_alloc();

		if (pa && pt_map(pml4, at, pa, PAGE_SIZE, VM_WRITE) == 0)
			continue;
		if (pa)
			frames_free(pa);
		kmap_release(va, at - va, shared);
		return -1;
	}
	return 0;
}
