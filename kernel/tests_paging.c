/*
 * tests_paging.c - self-tests of our page tables, on the live machine.
 */
#include "selftest.h"
#include "cpu.h"
#include "frames.h"
#include "kheap.h"
#include "kmap.h"
#include "layout.h"
#include "mmu.h"
#include "pagetable.h"
#include "phys.h"
#include "vm.h"

#define SCRATCH_VA 0xFFFFFD0000000000ull /* unused by the layout */

/* Expect CR3 to hold our PML4, not the firmware's. */
static void paging_firmware_cr3_unloaded(void)
{
	EXPECT(current_pml4() == vm_info()->out.pml4);
	EXPECT(current_pml4() != vm_info()->firmware_pml4);
}

static void check_region_at(const struct layout_region *r, uint64_t off)
{
	uint64_t pa;
	unsigned flags, want = VM_WRITE | VM_EXEC | VM_PAGE_MASK;

	EXPECT(pt_translate(current_pml4(), r->va + off, &pa, &flags) == 0);
	EXPECT(pa == r->pa + off);
	EXPECT((flags & want) == (r->flags & want));
}

/* Expect translate() to agree with every region of the layout table, at
 * its first, middle and last byte, flags and page size included. */
static void paging_layout_translates(void)
{
	size_t n;
	const struct layout_region *r = layout_regions(&n);

	EXPECT(n > 0);
	for (size_t i = 0; i < n; i++) {
		check_region_at(&r[i], 0);
		check_region_at(&r[i], (r[i].size / 2) & ~(PAGE_SIZE - 1));
		check_region_at(&r[i], r[i].size - 1);
	}
}

/* Expect W^X everywhere, checked on the tables, and EFER.NXE on so the
 * CPU enforces it.  Only the runtime code of firmware that published no
 * memory attributes table is exempt; with a table (OVMF has one) nothing
 * is.  Without NX every page is executable: W^X cannot hold, and
 * layout_verify() would count nothing, so the test is skipped rather
 * than passed. */
static void paging_write_xor_execute(void)
{
	size_t bad = 0;

	if (!vm_info()->nx) {
		SKIP("the CPU has no NX bit: every page is executable");
		return;
	}
	EXPECT(rdmsr(MSR_EFER) & EFER_NXE);
	EXPECT(layout_verify(current_pml4(), &bad));
	EXPECT(bad == 0);
}

/* Expect page 0 and the stack's guard page to be unmapped. */
static void paging_null_and_guard_unmapped(void)
{
	EXPECT(!pt_is_mapped(current_pml4(), 0));
	EXPECT(!pt_is_mapped(current_pml4(), vm_info()->out.kstack_guard));
	EXPECT(pt_is_mapped(current_pml4(), vm_info()->out.kstack_top - PAGE_SIZE));
}

/* Expect a page mapped at a new address to show the frame's bytes, and
 * unmap to return every frame it took. */
static void paging_map_unmap_live(void)
{
	uint64_t before = frames_free_count(), pa = frames_alloc_zeroed();
	volatile uint64_t *via_map = (volatile uint64_t *)SCRATCH_VA;

	EXPECT(pa != 0);
	if (!pa)
		return; /* mapping frame 0 would scribble on real memory */
	EXPECT(pt_map(current_pml4(), SCRATCH_VA, pa, PAGE_SIZE, VM_WRITE) == 0);
	*via_map = 0x5EED;
	EXPECT(*(volatile uint64_t *)phys_to_virt(pa) == 0x5EED);
	EXPECT(pt_map(current_pml4(), SCRATCH_VA, pa, PAGE_SIZE, VM_WRITE) != 0); /* no overwrite */
	EXPECT(pt_unmap(current_pml4(), SCRATCH_VA, PAGE_SIZE) == 0);
	invlpg(SCRATCH_VA);
	EXPECT(!pt_is_mapped(current_pml4(), SCRATCH_VA));
	EXPECT(frames_free(pa) == 0);
	EXPECT(frames_free_count() == before);
}

/* Expect every frame to be somewhere: free, behind the heap window, a
 * page table, or a stack of the layout.  (The runner checks this after
 * every test too; this test shows the sum.) */
static void paging_frames_accounted(void)
{
	struct kheap_usage u;

	kheap_usage(&u);
	kprintf("# frames: total %lu, free %lu, heap window %lu, page tables %lu\n",
		frames_total(), frames_free_count(), (uint64_t)(u.mapped / PAGE_SIZE), (uint64_t)pt_count_tables(current_pml4()));
	EXPECT(vm_frames_unaccounted() == 0);
}

/* Expect 100 frames to be distinct, page-aligned, and all to come back. */
static void paging_frames_alloc_free(void)
{
	uint64_t got[100], before = frames_free_count();

	for (int i = 0; i < 100; i++) {
		got[i] = frames_alloc();
		EXPECT(got[i] != 0 && got[i] % PAGE_SIZE == 0);
		for (int j = 0; j < i; j++)
			EXPECT(got[j] != got[i]);
	}
	for (int i = 0; i < 100; i++)
		EXPECT(frames_free(got[i]) == 0);
	EXPECT(frames_free_count() == before);
}

/* Frames free or holding page tables: mapping makes tables and
 * unmapping may drop them again, which is not what kmap's test is about. */
static uint64_t free_or_tables(uint64_t pml4)
{
	return frames_free_count() + pt_count_tables(pml4);
}

/* Expect kmap_fresh to be all or nothing: asked for more pages than
 * there are free frames, it maps none and every frame it took is free
 * again; asked for three, it maps three that hold what is written, and
 * kmap_release gives the three frames back. */
static void paging_kmap_all_or_nothing(void)
{
	uint64_t pml4 = current_pml4(), before = free_or_tables(pml4);
	volatile uint64_t *p = (volatile uint64_t *)SCRATCH_VA;
	const size_t page3 = 2 * PAGE_SIZE / sizeof *p; /* the third page's first word */

	EXPECT(kmap_fresh(SCRATCH_VA, (frames_free_count() + 16) * PAGE_SIZE, false) != 0);
	EXPECT(!pt_is_mapped(pml4, SCRATCH_VA));
	EXPECT(free_or_tables(pml4) == before);
	EXPECT(kmap_fresh(SCRATCH_VA, 3 * PAGE_SIZE, false) == 0);
	EXPECT(free_or_tables(pml4) == before - 3);
	p[0] = 0x1111;
	p[page3] = 0x3333;
	EXPECT(p[0] == 0x1111 && p[page3] == 0x3333);
	EXPECT(kmap_release(SCRATCH_VA, 3 * PAGE_SIZE, false) == 3);
	EXPECT(!pt_is_mapped(pml4, SCRATCH_VA) && free_or_tables(pml4) == before);
}

/* Expect a page kmap_release gave back to be gone from this CPU's TLB:
 * mapped again at once, to another frame, the address must reach the
 * new frame, not the old one through a stale translation (QEMU's TCG
 * keeps translations until invlpg, as a CPU may). */
static void paging_kmap_release_flushes_tlb(void)
{
	volatile uint64_t *p = (volatile uint64_t *)SCRATCH_VA;
	uint64_t pml4 = current_pml4(), other = frames_alloc(), old = 0;

	EXPECT(other != 0);
	if (!other)
		return;
	*(volatile uint64_t *)phys_to_virt(other) = 0xCCCC;
	EXPECT(kmap_fresh(SCRATCH_VA, PAGE_SIZE, false) == 0);
	*p = 0xAAAA; /* the translation is cached now */
	EXPECT(pt_translate(pml4, SCRATCH_VA, &old, NULL) == 0 && old != other);
	EXPECT(kmap_release(SCRATCH_VA, PAGE_SIZE, false) == 1);
	EXPECT(pt_map(pml4, SCRATCH_VA, other, PAGE_SIZE, VM_WRITE) == 0);
	EXPECT(*p == 0xCCCC); /* 0xAAAA: the old frame, through the TLB */
	EXPECT(pt_unmap(pml4, SCRATCH_VA, PAGE_SIZE) == 0);
	invlpg(SCRATCH_VA);
	EXPECT(frames_free(other) == 0);
}

const struct selftest paging_tests[] = {
	{ "paging_firmware_cr3_unloaded", paging_firmware_cr3_unloaded },
	{ "paging_layout_translates", paging_layout_translates },
	{ "paging_write_xor_execute", paging_write_xor_execute },
	{ "paging_null_and_guard_unmapped", paging_null_and_guard_unmapped },
	{ "paging_map_unmap_live", paging_map_unmap_live },
	{ "paging_frames_alloc_free", paging_frames_alloc_free },
	{ "paging_kmap_all_or_nothing", paging_kmap_all_or_nothing },
	{ "paging_kmap_release_flushes_tlb", paging_kmap_release_flushes_tlb },
	{ "paging_frames_accounted", paging_frames_accounted },
	{ NULL, NULL },
};
