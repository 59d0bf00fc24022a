/*
 * test_layout.c - host tests for paging/layout.c: build the whole kernel
 * space for a synthetic q35-like machine with 6 GiB of RAM, with and
 * without 1 GiB pages, and check it against the recorded region table and
 * by walking every leaf of the tables.
 */
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "fixtures/sim.h"
#include "frames.h"
#include "layout.h"
#include "mmu.h"
#include "pagetable.h"
#include "vmerr.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define RT EFI_MEM_ATTR_RUNTIME

/*
 * 2 GiB low + 4 GiB above 4 GiB = 6 GiB of RAM; highest end 8 GiB.
 *   0x7C000000 image (LoaderCode), 0x7C040000 loader data (map buffer),
 *   0x7E000000.. runtime data/code/data, 0xB0000000 ECAM (reserved),
 *   0xFEC00000 IOAPIC (MMIO), 0xFFC00000 flash (runtime MMIO).
 */
static const struct fix_row q35_6g[] = {
	{ EFI_MEM_BOOT_CODE, 0x0, 1, 0xF },
	{ EFI_MEM_CONVENTIONAL, 0x1000, 0x9F, 0xF },
	{ EFI_MEM_CONVENTIONAL, 0x100000, 0x700, 0xF },
	{ EFI_MEM_ACPI_NVS, 0x800000, 0x100, 0xF },
	{ EFI_MEM_CONVENTIONAL, 0x900000, 0x7B700, 0xF },
	{ EFI_MEM_LOADER_CODE, 0x7C000000, 0x40, 0xF },
	{ EFI_MEM_LOADER_DATA, 0x7C040000, 0x1C0, 0xF },
	{ EFI_MEM_BOOT_DATA, 0x7C200000, 0x1E00, 0xF },
	{ EFI_MEM_RUNTIME_DATA, 0x7E000000, 0x100, 0xF | RT },
	{ EFI_MEM_RUNTIME_CODE, 0x7E100000, 0x100, 0xF | RT },
	{ EFI_MEM_RUNTIME_DATA, 0x7E200000, 0x80, 0xF | RT },
	{ EFI_MEM_ACPI_RECLAIM, 0x7E280000, 0x80, 0xF },
	{ EFI_MEM_ACPI_NVS, 0x7E300000, 0x1D00, 0xF },
	{ EFI_MEM_RESERVED, 0xB0000000, 0x10000, 0x0 },
	{ EFI_MEM_MMIO, 0xFEC00000, 0x1, 0x1 },
	{ EFI_MEM_MMIO, 0xFFC00000, 0x400, 0x1 | RT },
	{ EFI_MEM_CONVENTIONAL, 0x100000000, 0x100000, 0xF },
};

static struct boot_info bi;
static struct layout_input in;
static struct layout_out out;
static uint64_t free0;

static void make_input(bool gb, bool nx)
{
	in = (struct layout_input){
		.boot = &bi,
		.image = { 0x7C000000, 0x7C040000 },
		.text = { 0x7C001000, 0x7C010000 },
		.rodata = { 0x7C010000, 0x7C018000 },
		.data = { 0x7C018000, 0x7C03F800 },  /* bss ends mid-page */
		.kstack_size = 64 * 1024,
		.ist_stack_size = 16 * 1024,
		.keep = { { "memory map", 0x7C050100, 0x2F00 } },
		.nkeep = 1,
		.nx = nx,
		.gb_pages = gb,
	};
}

static int setup(void **state)
{
	(void)state;
	sim_phys_init(8 * GiB);
	map_build(&bi, q35_6g, ROWS(q35_6g), 48);
	bi.fb = (struct framebuffer){ 0x80000000, 1280 * 800 * 4, 1280, 800, 1280, FB_BGRX };
	assert_int_equal(frames_init(&bi), 0);
	free0 = frames_free_count();
	make_input(true, true);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (out.pml4) {
		vm_free_space(out.pml4);
		frames_free_contig(out.kstack_phys, in.kstack_size / PAGE_SIZE);
		if (out.ist_stack_phys)
			frames_free_contig(out.ist_stack_phys, in.ist_stack_size / PAGE_SIZE);
		out.pml4 = 0;
	}
	assert_int_equal(frames_free_count(), free0);
	map_free(&bi);
	sim_phys_fini();
	return 0;
}

static const struct layout_region *find_region(const char *name, size_t *count)
{
	size_t n, first = SIZE_MAX;
	const struct layout_region *r = layout_regions(&n);
	*count = 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(r[i].name, name) == 0) {
			if (first == SIZE_MAX)
				first = i;
			(*count)++;
		}
	}
	return first == SIZE_MAX ? NULL : &r[first];
}

static void expect_maps(uint64_t va, uint64_t pa, unsigned flags)
{
	uint64_t got;
	unsigned f;
	assert_int_equal(vm_translate(out.pml4, va, &got, &f), 0);
	assert_int_equal(got, pa);
	assert_int_equal(f, flags);
}

/*
 * Walk every leaf of the space.  Expect each to be W^X (unless inside a
 * wx_exempt row) and to lie inside some recorded row: nothing is mapped
 * that the table does not show.  Returns the number of leaves.
 */
static size_t check_leaves(uint64_t table, int level, uint64_t va_base, uint64_t nx_mask)
{
	size_t n = 0, nreg;
	const struct layout_region *r = layout_regions(&nreg);
	const uint64_t *t = phys_to_virt(table);
	for (uint64_t i = 0; i < PT_ENTRIES; i++) {
		if (!(t[i] & PTE_P))
			continue;
		uint64_t va = va_base + (i << PX_SHIFT(level));
		if (level == 4 && i >= 256)
			va |= 0xFFFF000000000000ull; /* sign-extend the upper half */
		if (level > 1 && !(level <= 3 && (t[i] & PTE_PS))) {
			n += check_leaves(PTE_ADDR(t[i]), level - 1, va, nx_mask);
			continue;
		}
		assert_int_equal(t[i] & ~nx_mask & PTE_NX, 0);
		bool wx = (t[i] & PTE_W) && !(t[i] & PTE_NX);
		bool covered = false, exempt = false;
		for (size_t k = 0; k < nreg; k++) {
			if (va >= r[k].va && va - r[k].va < r[k].size) {
				covered = true;
				exempt = r[k].wx_exempt;
			}
		}
		assert_true(covered);
		if (nx_mask)
			assert_true(!wx || exempt);
		n++;
	}
	return n;
}

/* Build; expect success and every region to verify. */
static void build_ok(void)
{
	size_t bad = 0;
	assert_int_equal(layout_build(&in, &out), 0);
	assert_true(layout_verify(out.pml4, &bad));
	assert_int_equal(out.page_tables, vm_count_tables(out.pml4));
}

/*
 * Expect with 1 GiB pages: the 8 GiB direct map as eight 1G pages, and
 * 15 page-table frames in all:
 *   PML4                                                      1
 *   direct map: PDPT (eight 1G leaves)                        1
 *   identity:   PDPT, PD 1-2G, PD 3-4G (flash on 2M pages),
 *               PT image+keep, PT runtime 0x7E0.., PT 0x7E2.. 6
 *   stacks:     PDPT, PD, one PT per stack                    4
 *   framebuffer: PDPT, PD (one 2M page), PT (the 4K tail)     3
 */
static void layout_build_6g_with_1g_pages(void **state)
{
	(void)state;
	build_ok();
	size_t n;
	const struct layout_region *dm = find_region("direct map", &n);
	assert_int_equal(n, 1);
	assert_int_equal(dm->size, 8 * GiB);
	assert_int_equal(dm->flags, VM_WRITE | VM_GLOBAL | VM_PAGE_1G);
	assert_int_equal(out.direct_map_size, 8 * GiB);
	assert_int_equal(out.page_tables, 15);
	assert_true(check_leaves(out.pml4, 4, 0, PTE_NX) > 0);
}

/* Expect without 1 GiB pages: 2M pages throughout the direct map, no 1G
 * page anywhere, and exactly one more table (a PD) per GiB: 15 + 8. */
static void layout_build_6g_without_1g_pages(void **state)
{
	(void)state;
	make_input(false, true);
	build_ok();
	size_t n, nreg;
	const struct layout_region *dm = find_region("direct map", &n);
	assert_int_equal(dm->flags, VM_WRITE | VM_GLOBAL | VM_PAGE_2M);
	assert_int_equal(dm->size, 8 * GiB);
	const struct layout_region *r = layout_regions(&nreg);
	for (size_t i = 0; i < nreg; i++)
		assert_false(r[i].flags & VM_PAGE_1G);
	assert_int_equal(out.page_tables, 23);
	check_leaves(out.pml4, 4, 0, PTE_NX);
}

/* Expect every row to translate page by page (at 4 KiB steps, not just
 * at its page size) to the recorded address with the recorded flags. */
static void layout_regions_translate(void **state)
{
	(void)state;
	build_ok();
	size_t nreg;
	const struct layout_region *r = layout_regions(&nreg);
	assert_true(nreg >= 10);
	for (size_t i = 0; i < nreg; i++) {
		uint64_t step = r[i].size > 64 * MiB ? 64 * MiB : PAGE_SIZE;
		for (uint64_t off = 0; off < r[i].size; off += step)
			expect_maps(r[i].va + off, r[i].pa + off, r[i].flags);
		expect_maps(r[i].va + r[i].size - 1, r[i].pa + r[i].size - 1, r[i].flags);
	}
}

/* Expect page 0, both guard pages, the heap window and the address just
 * past the direct map unmapped. */
static void layout_holes_unmapped(void **state)
{
	(void)state;
	build_ok();
	assert_false(vm_is_mapped(out.pml4, 0));
	assert_false(vm_is_mapped(out.pml4, 0xFFF));
	assert_int_equal(out.kstack_guard, KSTACK_TOP - 64 * 1024 - PAGE_SIZE);
	assert_false(vm_is_mapped(out.pml4, out.kstack_guard));
	assert_true(vm_is_mapped(out.pml4, out.kstack_guard + PAGE_SIZE));
	assert_false(vm_is_mapped(out.pml4, out.ist_stack_guard));
	assert_true(vm_is_mapped(out.pml4, out.ist_stack_top - 1));
	assert_false(vm_is_mapped(out.pml4, HEAP_START));
	assert_false(vm_is_mapped(out.pml4, HEAP_END - 1));
	assert_false(vm_is_mapped(out.pml4, DIRECT_MAP_BASE + 8 * GiB));
	assert_true(vm_is_mapped(out.pml4, DIRECT_MAP_BASE + 8 * GiB - 1));
}

/* Expect the image W^X section by section: headers R, text RX, rodata R,
 * data RW (bss's last, partial page included), all at VA == PA. */
static void layout_image_sections(void **state)
{
	(void)state;
	build_ok();
	expect_maps(0x7C000000, 0x7C000000, VM_READ);
	expect_maps(0x7C001000, 0x7C001000, VM_EXEC);
	expect_maps(0x7C00F000, 0x7C00F000, VM_EXEC);
	expect_maps(0x7C010000, 0x7C010000, VM_READ);
	expect_maps(0x7C018000, 0x7C018000, VM_WRITE);
	expect_maps(0x7C03F000, 0x7C03F000, VM_WRITE);
	expect_maps(0x7C050000, 0x7C050000, VM_WRITE); /* the kept map buffer */
	expect_maps(0x7C052FFF, 0x7C052FFF, VM_WRITE);
	assert_false(vm_is_mapped(out.pml4, 0x7C053000));
}

/* Expect runtime regions identity-mapped: data RW NX, code RWX (flagged
 * exempt) or RX when asked, the flash uncached on 2M pages. */
static void layout_runtime_regions(void **state)
{
	(void)state;
	build_ok();
	size_t n;
	expect_maps(0x7E000000, 0x7E000000, VM_WRITE);
	expect_maps(0x7E100000, 0x7E100000, VM_WRITE | VM_EXEC);
	assert_true(find_region("runtime code", &n)->wx_exempt);
	expect_maps(0x7E27F000, 0x7E27F000, VM_WRITE);
	expect_maps(0xFFC00000, 0xFFC00000, VM_WRITE | VM_NOCACHE | VM_PAGE_2M);
	assert_false(vm_is_mapped(out.pml4, 0xFEC00000)); /* not runtime */
	assert_false(vm_is_mapped(out.pml4, 0xB0000000));
	teardown(NULL);

	setup(NULL);
	in.rt_code_rx = true;
	build_ok();
	expect_maps(0x7E100000, 0x7E100000, VM_EXEC);
	assert_false(find_region("runtime code", &n)->wx_exempt);
}

/* Expect the framebuffer in its window, write-through, and fb_va to
 * point at its first byte. */
static void layout_framebuffer_window(void **state)
{
	(void)state;
	build_ok();
	assert_int_equal(out.fb_va, FB_WINDOW_BASE);
	expect_maps(FB_WINDOW_BASE, 0x80000000, VM_WRITE | VM_WRITETHROUGH | VM_GLOBAL | VM_PAGE_2M);
	uint64_t last = FB_WINDOW_BASE + 1280 * 800 * 4 - 1;
	expect_maps(last, 0x80000000 + 1280 * 800 * 4 - 1, VM_WRITE | VM_WRITETHROUGH | VM_GLOBAL);
}

/* Expect with NX off: no bit 63 in any entry, every page executable,
 * and verify still to pass (W^X needs NX). */
static void layout_build_nx_off(void **state)
{
	(void)state;
	make_input(true, false);
	build_ok();
	check_leaves(out.pml4, 4, 0, 0);
	expect_maps(0x7C018000, 0x7C018000, VM_WRITE | VM_EXEC);
	vm_set_nx_supported(true);
}

/* Expect running out of frames at any point of the build to return
 * VM_ENOMEM and give back every frame it took.  Same machine, but only
 * 16 MiB of it free (the rest in use), so hogging frames stays cheap. */
static void layout_build_oom_frees_everything(void **state)
{
	(void)state;
	struct fix_row rows[ROWS(q35_6g)];
	memcpy(rows, q35_6g, sizeof(rows));
	rows[4].pages = 0x1000;                  /* 16 MiB conventional ... */
	rows[ROWS(rows) - 1].type = EFI_MEM_BOOT_DATA; /* ... high RAM in use */
	map_free(&bi);
	map_build(&bi, rows, ROWS(rows), 48);
	assert_int_equal(frames_init(&bi), 0);
	free0 = frames_free_count();
	for (uint64_t k = 0; k < 40; k++) {
		uint64_t *hog = malloc(free0 * sizeof(*hog));
		size_t n = 0;
		while (frames_free_count() > k)
			hog[n++] = frames_alloc();
		int err = layout_build(&in, &out);
		if (err) {
			assert_int_equal(err, VM_ENOMEM);
			assert_int_equal(frames_free_count(), k);
			assert_int_equal(out.pml4, 0);
		} else {
			vm_free_space(out.pml4);
			frames_free_contig(out.kstack_phys, in.kstack_size / PAGE_SIZE);
			frames_free_contig(out.ist_stack_phys, in.ist_stack_size / PAGE_SIZE);
			out.pml4 = 0;
			assert_true(k >= 15 + 16 + 4); /* tables + stacks */
		}
		for (size_t i = 0; i < n; i++)
			frames_free(hog[i]);
		free(hog);
	}
}

/* Expect bad input refused with VM_EINVAL: no stack, a misaligned or
 * oversized stack, no text, a page both text and data. */
static void layout_build_bad_input(void **state)
{
	(void)state;
	in.kstack_size = 0;
	assert_int_equal(layout_build(&in, &out), VM_EINVAL);
	in.kstack_size = 1000;
	assert_int_equal(layout_build(&in, &out), VM_EINVAL);
	in.kstack_size = 2 * KSTACK_MAX;
	assert_int_equal(layout_build(&in, &out), VM_EINVAL);
	make_input(true, true);
	in.text = (struct layout_span){ 0, 0 };
	assert_int_equal(layout_build(&in, &out), VM_EINVAL);
	make_input(true, true);
	in.data.start = 0x7C00F800; /* shares a page with text */
	assert_int_equal(layout_build(&in, &out), VM_EINVAL);
	assert_int_equal(frames_free_count(), free0);
}

/* Expect an identity range touching page 0 refused (NULL must fault),
 * and one reaching into the heap window refused. */
static void layout_build_identity_conflicts(void **state)
{
	(void)state;
	in.keep[0] = (struct layout_keep){ "low", 0x800, 0x1000 };
	assert_int_equal(layout_build(&in, &out), VM_EINVAL);
	in.keep[0] = (struct layout_keep){ "heap", HEAP_START + 0x1000, 0x1000 };
	assert_int_equal(layout_build(&in, &out), VM_EEXIST);
	in.keep[0] = (struct layout_keep){ "text", 0x7C002000, 0x10 };
	assert_int_equal(layout_build(&in, &out), VM_EEXIST); /* RX page, not RW */
	in.keep[0] = (struct layout_keep){ "in data", 0x7C020000, 0x10 };
	assert_int_equal(layout_build(&in, &out), 0); /* already RW NX: fine */
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(layout_build_6g_with_1g_pages),
		T(layout_build_6g_without_1g_pages),
		T(layout_regions_translate),
		T(layout_holes_unmapped),
		T(layout_image_sections),
		T(layout_runtime_regions),
		T(layout_framebuffer_window),
		T(layout_build_nx_off),
		T(layout_build_oom_frees_everything),
		T(layout_build_bad_input),
		T(layout_build_identity_conflicts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
