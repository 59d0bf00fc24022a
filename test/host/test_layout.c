/*
 * test_layout.c - host tests for paging/layout.c: build the whole kernel
 * space for a synthetic q35-like machine with 6 GiB of RAM, with and
 * without 1 GiB pages, and over each real OVMF map captured in
 * fixtures/; check it against the recorded region table, by walking every
 * leaf of the tables, and that the direct map holds all RAM and nothing
 * else.
 */
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "fixtures/fixtures.h"
#include "frames.h"
#include "layout.h"
#include "memmap.h"
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
 * Its RAM merges into three ranges; the direct map must hold exactly
 * those, so legacy VGA, the PCI hole and the framebuffer stay unmapped:
 *
 *   0       0xA0000 0x100000      0x80000000   4 GiB            8 GiB
 *   | RAM   | VGA   | RAM ...     | PCI hole   | RAM ...        |
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
		.map = sim_list(&bi), .boot = &bi,
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

/* A machine with this map and sim bytes of simulated memory, frames
 * ready, no framebuffer, input as make_input(true, true). */
static void setup_map(const struct fix_row *rows, size_t n, uint64_t sim)
{
	sim_phys_init(sim);
	map_build(&bi, rows, n, 48);
	assert_int_equal(frames_init(sim_list(&bi)), 0);
	free0 = frames_free_count();
	make_input(true, true);
}

/* The first row of this type in the fixture; fails the test if none. */
static const struct fix_row *first_row(const struct fixture *fx, uint32_t type)
{
	for (size_t i = 0; i < fx->n; i++)
		if (fx->rows[i].type == type)
			return &fx->rows[i];
	fail();
	return NULL;
}

/* Input for a captured map: the image is its LoaderCode row (our
 * BOOTX64.EFI), cut into headers | text | rodata | data; the keep range
 * is its first LoaderData row. */
static void make_fixture_input(const struct fixture *fx, bool gb)
{
	const struct fix_row *img = first_row(fx, EFI_MEM_LOADER_CODE);
	const struct fix_row *ld = first_row(fx, EFI_MEM_LOADER_DATA);
	uint64_t s = img->start;
	make_input(gb, true);
	in.image = (struct layout_span){ s, s + img->pages * PAGE_SIZE };
	in.text = (struct layout_span){ s + 0x1000, s + 0x80000 };
	in.rodata = (struct layout_span){ s + 0x80000, s + 0xA0000 };
	in.data = (struct layout_span){ s + 0xA0000, in.image.end };
	in.keep[0] = (struct layout_keep){ "memory map", ld->start, ld->pages * PAGE_SIZE };
}

static int setup(void **state)
{
	(void)state;
	setup_map(q35_6g, ROWS(q35_6g), 8 * GiB);
	bi.fb = (struct framebuffer){ 0x80000000, 1280 * 800 * 4, 1280, 800, 1280, FB_BGRX };
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (out.pml4)
		layout_release(&out);
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
	assert_int_equal(pt_translate(out.pml4, va, &got, &f), 0);
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

/* Build; expect success and W^X over the whole space. */
static void build_ok(void)
{
	size_t bad = 1;
	assert_int_equal(layout_build(&in, &out), 0);
	assert_true(layout_verify(out.pml4, &bad));
	assert_int_equal(bad, 0);
	assert_int_equal(out.page_tables, pt_count_tables(out.pml4));
}

/* Is this row RAM (memblock.h: a kind below MMIO)? */
static bool row_is_ram(const struct fix_row *r)
{
	return memblock_kind_of(r->type, r->attr) < MEMBLOCK_MMIO;
}

/* Does the direct map cover this row: RAM that allows write-back? */
static bool row_wb_ram(const struct fix_row *r)
{
	return row_is_ram(r) && (r->attr & EFI_MEM_ATTR_WB);
}

/* Is every byte of [lo, hi) inside some write-back RAM row?  Walks from row to row,
 * so touching rows of different RAM types continue each other. */
static bool rows_cover(const struct fix_row *rows, size_t n, uint64_t lo, uint64_t hi)
{
	for (bool moved = true; lo < hi && moved;) {
		moved = false;
		for (size_t i = 0; i < n; i++) {
			uint64_t end = rows[i].start + rows[i].pages * PAGE_SIZE;
			if (row_wb_ram(&rows[i]) && rows[i].start <= lo && lo < end) {
				lo = end;
				moved = true;
			}
		}
	}
	return lo >= hi;
}

struct dm_check {
	const struct fix_row *rows;
	size_t n;
	uint64_t bytes;    /* direct-map bytes seen */
	unsigned sizes;    /* page sizes seen: VM_PAGE_* bits, 1 for 4K */
};

/* pt_for_each_leaf callback: a direct-map leaf maps only RAM, RW NX. */
static void check_dm_leaf(const struct pt_leaf *l, void *ctx)
{
	struct dm_check *c = ctx;
	if (l->va < DIRECT_MAP_BASE || l->va >= DIRECT_MAP_BASE + DIRECT_MAP_MAX)
		return;
	assert_int_equal(l->pa, l->va - DIRECT_MAP_BASE);
	assert_int_equal(l->flags & ~VM_PAGE_MASK, VM_WRITE | VM_GLOBAL);
	assert_true(rows_cover(c->rows, c->n, l->pa, l->pa + l->size));
	c->bytes += l->size;
	c->sizes |= (l->flags & VM_PAGE_MASK) ? (l->flags & VM_PAGE_MASK) : 1;
}

/*
 * Expect the direct map to be exactly the RAM of the map: every leaf in
 * it lies in RAM rows, and the leaves add up to all RAM bytes (rows never
 * overlap, and leaves cannot), so every RAM byte is mapped and no other
 * byte is.  Spot-check both ends of each non-RAM row too.  Returns the
 * page sizes seen.
 */
static unsigned expect_direct_map_is_ram(const struct fix_row *rows, size_t n)
{
	struct dm_check c = { rows, n, 0, 0 };
	uint64_t ram = 0;
	pt_for_each_leaf(out.pml4, check_dm_leaf, &c);
	for (size_t i = 0; i < n; i++) {
		uint64_t start = rows[i].start, end = start + rows[i].pages * PAGE_SIZE;
		if (row_wb_ram(&rows[i])) {
			ram += end - start;
		} else if (rows[i].pages) {
			assert_false(pt_is_mapped(out.pml4, DIRECT_MAP_BASE + start));
			assert_false(pt_is_mapped(out.pml4, DIRECT_MAP_BASE + end - 1));
		}
	}
	assert_int_equal(c.bytes, ram);
	assert_int_equal(out.direct_map_size, ram);
	return c.sizes;
}

/* Expect no byte of physical [lo, hi) reachable through the direct map
 * (checked page by page). */
static void expect_direct_unmapped(uint64_t lo, uint64_t hi)
{
	for (uint64_t pa = lo; pa < hi; pa += PAGE_SIZE)
		assert_false(pt_is_mapped(out.pml4, DIRECT_MAP_BASE + pa));
}

/*
 * Expect with 1 GiB pages: the three RAM ranges mapped (6 GiB less the
 * 384 KiB VGA hole), 1 GiB pages wherever a range holds an aligned GiB,
 * and 17 page-table frames in all:
 *   PML4                                                      1
 *   direct map: PDPT, PD 0-1G, PT 0-2M (RAM up to 0xA0000 and
 *               from 0x100000: ragged edges get 4K pages);
 *               1-2G and 4-8G are whole 1G pages             3
 *   identity:   PDPT, PD 1-2G, PD 3-4G (flash on 2M pages),
 *               PT image+keep, PT runtime 0x7E0.., PT 0x7E2.. 6
 *   stacks:     PDPT, PD, one PT per stack                    4
 *   framebuffer: PDPT, PD (one 2M page), PT (the 4K tail)     3
 */
static void layout_build_6g_with_1g_pages(void **state)
{
	(void)state;
	build_ok();
	unsigned sizes = expect_direct_map_is_ram(q35_6g, ROWS(q35_6g));
	assert_int_equal(sizes, 1 | VM_PAGE_2M | VM_PAGE_1G);
	assert_int_equal(out.direct_map_size, 6 * GiB - 0x60000);
	expect_maps(DIRECT_MAP_BASE + 4 * GiB, 4 * GiB, VM_WRITE | VM_GLOBAL | VM_PAGE_1G);
	expect_maps(DIRECT_MAP_BASE + 8 * GiB - 1, 8 * GiB - 1, VM_WRITE | VM_GLOBAL | VM_PAGE_1G);
	expect_maps(DIRECT_MAP_BASE + GiB, GiB, VM_WRITE | VM_GLOBAL | VM_PAGE_1G);
	expect_maps(DIRECT_MAP_BASE + 0x9F000, 0x9F000, VM_WRITE | VM_GLOBAL);
	expect_maps(DIRECT_MAP_BASE + 0x100000, 0x100000, VM_WRITE | VM_GLOBAL);
	expect_maps(DIRECT_MAP_BASE + 0x200000, 0x200000, VM_WRITE | VM_GLOBAL | VM_PAGE_2M);
	assert_int_equal(out.page_tables, 17);
	assert_true(check_leaves(out.pml4, 4, 0, PTE_NX) > 0);
}

/* Expect without 1 GiB pages: 2M pages in the middle of each range, no
 * 1G page anywhere, and one PD per GiB of direct map instead (1-2G and
 * 4-8G: 5 more, and the 1G PDPT entries gone): 17 + 5 = 22. */
static void layout_build_6g_without_1g_pages(void **state)
{
	(void)state;
	make_input(false, true);
	build_ok();
	size_t nreg;
	unsigned sizes = expect_direct_map_is_ram(q35_6g, ROWS(q35_6g));
	assert_int_equal(sizes, 1 | VM_PAGE_2M);
	const struct layout_region *r = layout_regions(&nreg);
	for (size_t i = 0; i < nreg; i++)
		assert_false(r[i].flags & VM_PAGE_1G);
	expect_maps(DIRECT_MAP_BASE + 4 * GiB, 4 * GiB, VM_WRITE | VM_GLOBAL | VM_PAGE_2M);
	assert_int_equal(out.page_tables, 22);
	check_leaves(out.pml4, 4, 0, PTE_NX);
}

/*
 * Expect the holes of the q35 map out of the direct map, page by page:
 * legacy VGA, the PCI hole (framebuffer, ECAM, IOAPIC, flash), and
 * everything from the end of RAM; RAM above 4 GiB in, and the rows for
 * the direct map to be one per run of equal pages, all named so.
 *   [0, 0xA0000) 4K | [0x100000, 0x200000) 4K, [0x200000, 1G) 2M,
 *   [1G, 2G) 1G | [4G, 8G) 1G                              = 5 rows
 */
static void layout_direct_map_ram_only(void **state)
{
	(void)state;
	build_ok();
	expect_direct_unmapped(0xA0000, 0x100000);
	expect_direct_unmapped(0x80000000, 4 * GiB);
	expect_direct_unmapped(8 * GiB, 8 * GiB + 64 * MiB);
	for (uint64_t pa = 4 * GiB; pa < 8 * GiB; pa += 2 * MiB)
		assert_true(pt_is_mapped(out.pml4, DIRECT_MAP_BASE + pa));
	size_t n;
	const struct layout_region *dm = find_region("direct map", &n);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(dm[i].name, "direct map");
	assert_int_equal(dm[4].va, DIRECT_MAP_BASE + 4 * GiB);
	assert_int_equal(dm[4].size, 4 * GiB);
}

/*
 * Expect over every captured OVMF map, with and without 1 GiB pages:
 * the build succeeds, W^X holds, every leaf is in a recorded row, and
 * the direct map is every RAM byte and no other.  On q35 at 6 GiB: 19
 * page-table frames with 1 GiB pages, 23 without.  The image is the
 * map's LoaderCode (our BOOTX64.EFI), the keep range its first
 * LoaderData.
 */
static void layout_build_fixtures(void **state)
{
	(void)state;
	teardown(NULL);
	for (size_t f = 0; f < ROWS(fixtures); f++) {
		const struct fixture *fx = &fixtures[f];
		uint64_t ram_end = 0;
		for (size_t i = 0; i < fx->n; i++)
			if (row_is_ram(&fx->rows[i]) &&
			    fx->rows[i].start + fx->rows[i].pages * PAGE_SIZE > ram_end)
				ram_end = fx->rows[i].start + fx->rows[i].pages * PAGE_SIZE;
		for (int gb = 0; gb < 2; gb++) {
			setup_map(fx->rows, fx->n, ram_end);
			make_fixture_input(fx, gb);
			build_ok();
			expect_direct_map_is_ram(fx->rows, fx->n);
			check_leaves(out.pml4, 4, 0, PTE_NX);
			if (strcmp(fx->name, "ovmf_q35_6g") == 0) /* docs/paging.md figures */
				assert_int_equal(out.page_tables, gb ? 19 : 23);
			teardown(NULL);
		}
	}
	setup(NULL);
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
	assert_false(pt_is_mapped(out.pml4, 0));
	assert_false(pt_is_mapped(out.pml4, 0xFFF));
	assert_int_equal(out.kstack_guard, KSTACK_TOP - 64 * 1024 - PAGE_SIZE);
	assert_false(pt_is_mapped(out.pml4, out.kstack_guard));
	assert_true(pt_is_mapped(out.pml4, out.kstack_guard + PAGE_SIZE));
	assert_false(pt_is_mapped(out.pml4, out.ist_stack_guard));
	assert_true(pt_is_mapped(out.pml4, out.ist_stack_top - 1));
	assert_false(pt_is_mapped(out.pml4, HEAP_START));
	assert_false(pt_is_mapped(out.pml4, HEAP_END - 1));
	assert_false(pt_is_mapped(out.pml4, DIRECT_MAP_BASE + 8 * GiB));
	assert_true(pt_is_mapped(out.pml4, DIRECT_MAP_BASE + 8 * GiB - 1));
}

/* An identity-mapped address and the flags it must have. */
struct identity {
	uint64_t va;
	unsigned flags;
};

static void expect_identity(const struct identity *want, size_t n)
{
	for (size_t i = 0; i < n; i++)
		expect_maps(want[i].va, want[i].va, want[i].flags);
}

/* Expect the image W^X section by section: headers R, text RX, rodata R,
 * data RW (bss's last, partial page included), all at VA == PA. */
static void layout_image_sections(void **state)
{
	(void)state;
	const struct identity want[] = {
		{ 0x7C000000, VM_READ }, { 0x7C001000, VM_EXEC }, { 0x7C00F000, VM_EXEC },
		{ 0x7C010000, VM_READ }, { 0x7C018000, VM_WRITE }, { 0x7C03F000, VM_WRITE },
		{ 0x7C050000, VM_WRITE }, /* the kept map buffer */
		{ 0x7C052FFF, VM_WRITE },
	};
	build_ok();
	expect_identity(want, ROWS(want));
	assert_false(pt_is_mapped(out.pml4, 0x7C053000));
}

/* Expect runtime regions identity-mapped with no attributes table: data
 * RW NX, code RWX (flagged exempt, and counted: 256 pages) or RX when
 * asked, the flash uncached on 2M pages. */
static void layout_runtime_regions(void **state)
{
	(void)state;
	build_ok();
	size_t n;
	expect_maps(0x7E000000, 0x7E000000, VM_WRITE);
	expect_maps(0x7E100000, 0x7E100000, VM_WRITE | VM_EXEC);
	assert_true(find_region("runtime code RWX", &n)->wx_exempt);
	assert_int_equal(out.rwx_pages, 0x100);
	assert_int_equal(out.mat_entries, 0);
	assert_false(out.mat_invalid);
	expect_maps(0x7E27F000, 0x7E27F000, VM_WRITE);
	expect_maps(0xFFC00000, 0xFFC00000, VM_WRITE | VM_NOCACHE | VM_PAGE_2M);
	assert_false(pt_is_mapped(out.pml4, 0xFEC00000)); /* not runtime */
	assert_false(pt_is_mapped(out.pml4, 0xB0000000));
	teardown(NULL);

	setup(NULL);
	in.rt_code_rx = true;
	build_ok();
	expect_maps(0x7E100000, 0x7E100000, VM_EXEC);
	assert_false(find_region("runtime code", &n)->wx_exempt);
	assert_int_equal(out.rwx_pages, 0);
}

/* Expect each memory type picked from a descriptor's attribute bits:
 * WB when allowed, else UC (UC or UCE), else WT, else WC (UC without the
 * PAT), and UC when no bit is set. */
static void layout_memory_type_from_attributes(void **state)
{
	(void)state;
	const struct { uint64_t attr; unsigned pat, no_pat; } cases[] = {
		{ 0xF, 0, 0 },                      /* UC WC WT WB: RAM */
		{ EFI_MEM_ATTR_WB, 0, 0 },
		{ EFI_MEM_ATTR_UC, VM_NOCACHE, VM_NOCACHE },
		{ EFI_MEM_ATTR_UC | EFI_MEM_ATTR_WC, VM_NOCACHE, VM_NOCACHE },
		{ EFI_MEM_ATTR_UCE, VM_NOCACHE, VM_NOCACHE },
		{ EFI_MEM_ATTR_WT | EFI_MEM_ATTR_WC, VM_WRITETHROUGH, VM_WRITETHROUGH },
		{ EFI_MEM_ATTR_WT, VM_WRITETHROUGH, VM_WRITETHROUGH },
		{ EFI_MEM_ATTR_WC, VM_WRITECOMBINE, VM_NOCACHE },
		{ 0, VM_NOCACHE, VM_NOCACHE },
		{ RT | EFI_MEM_ATTR_XP, VM_NOCACHE, VM_NOCACHE },
	};
	for (size_t i = 0; i < ROWS(cases); i++) {
		assert_int_equal(layout_memory_type(cases[i].attr | RT, true), cases[i].pat);
		assert_int_equal(layout_memory_type(cases[i].attr, false), cases[i].no_pat);
	}
}

/*
 * Expect runtime rows mapped with their own memory type, as real PCs
 * have them, and the direct map to leave out RAM that allows no
 * write-back (one physical page, one memory type):
 *   0x7E200000 RT data, WT only       identity WT, not in the direct map
 *   0xC1000000 RT data, WC only       identity WC (UC without the PAT)
 *   0xFED00000 RT MMIO, UC and WC     identity UC
 *   0xFED10000 RT MMIO, UCE only      identity UC
 *   0xFED20000 RT reserved, no bits   identity UC
 */
static void layout_runtime_memory_types(void **state)
{
	(void)state;
	struct fix_row rows[ROWS(q35_6g) + 4];
	memcpy(rows, q35_6g, sizeof(q35_6g));
	rows[10].attr = RT | EFI_MEM_ATTR_WT;
	assert_int_equal(rows[10].start, 0x7E200000);
	rows[ROWS(q35_6g)] = (struct fix_row){ EFI_MEM_RUNTIME_DATA, 0xC1000000, 0x10,
					       RT | EFI_MEM_ATTR_WC };
	rows[ROWS(q35_6g) + 1] = (struct fix_row){ EFI_MEM_MMIO, 0xFED00000, 1,
						   RT | EFI_MEM_ATTR_UC | EFI_MEM_ATTR_WC };
	rows[ROWS(q35_6g) + 2] = (struct fix_row){ EFI_MEM_MMIO, 0xFED10000, 1,
						   RT | EFI_MEM_ATTR_UCE };
	rows[ROWS(q35_6g) + 3] = (struct fix_row){ EFI_MEM_RESERVED, 0xFED20000, 1, RT };
	teardown(NULL);
	for (int pat = 0; pat < 2; pat++) {
		setup_map(rows, ROWS(rows), 8 * GiB);
		in.pat = pat;
		build_ok();
		expect_maps(0x7E200000, 0x7E200000, VM_WRITE | VM_WRITETHROUGH);
		expect_direct_unmapped(0x7E200000, 0x7E280000);
		assert_true(pt_is_mapped(out.pml4, DIRECT_MAP_BASE + 0x7E1FF000));
		assert_true(pt_is_mapped(out.pml4, DIRECT_MAP_BASE + 0x7E280000));
		expect_direct_map_is_ram(rows, ROWS(rows));
		expect_maps(0xC1000000, 0xC1000000, VM_WRITE | (pat ? VM_WRITECOMBINE : VM_NOCACHE));
		expect_maps(0xFED00000, 0xFED00000, VM_WRITE | VM_NOCACHE);
		expect_maps(0xFED10000, 0xFED10000, VM_WRITE | VM_NOCACHE);
		expect_maps(0xFED20000, 0xFED20000, VM_WRITE | VM_NOCACHE);
		teardown(NULL);
	}
	setup(NULL);
}

/*
 * Expect with an attributes table over the runtime code region
 * [0x7E100000, +1 MiB): RO entries RX, XP entries RW NX, RO|XP R NX,
 * nothing exempt and no RWX page; an RT data region the table also
 * names keeps RW NX.
 *
 *   0x7E100000  +0x10000  +0x30000  +0x38000            +0x100000
 *   | RO: RX   | XP: RW NX| RO XP: R| RO: RX ...         |
 */
static void layout_mat_splits_runtime_code(void **state)
{
	(void)state;
	const struct fix_row mat[] = {
		{ EFI_MEM_RUNTIME_CODE, 0x7E100000, 0x10, RT | EFI_MEM_ATTR_RO },
		{ EFI_MEM_RUNTIME_DATA, 0x7E110000, 0x20, RT | EFI_MEM_ATTR_XP },
		{ EFI_MEM_RUNTIME_DATA, 0x7E130000, 0x8, RT | EFI_MEM_ATTR_XP | EFI_MEM_ATTR_RO },
		{ EFI_MEM_RUNTIME_CODE, 0x7E138000, 0xC8, RT | EFI_MEM_ATTR_RO },
		{ EFI_MEM_RUNTIME_DATA, 0x7E000000, 0x100, RT | EFI_MEM_ATTR_XP },
	};
	const struct identity want[] = {
		{ 0x7E100000, VM_EXEC }, { 0x7E10F000, VM_EXEC }, { 0x7E110000, VM_WRITE },
		{ 0x7E12F000, VM_WRITE }, { 0x7E130000, VM_READ }, { 0x7E138000, VM_EXEC },
		{ 0x7E1FF000, VM_EXEC }, { 0x7E000000, VM_WRITE },
	};
	map_attach_mat(&bi, mat, ROWS(mat));
	build_ok();
	size_t n;
	expect_identity(want, ROWS(want));
	assert_int_equal(out.mat_entries, ROWS(mat));
	assert_int_equal(out.rwx_pages, 0);
	assert_null(find_region("runtime code RWX", &n));
	assert_int_equal(find_region("runtime rodata", &n)->size, 0x8000);
	const struct layout_region *r = layout_regions(&n);
	for (size_t i = 0; i < n; i++)
		assert_false(r[i].wx_exempt);
}

/*
 * Expect what the table leaves RWX to count against W^X, since with a
 * table nothing is exempt: a gap no entry covers (code: RWX) and an
 * entry with neither RO nor XP.  layout_verify counts their leaves:
 * 0xD0 + 0x10 pages, one 4K leaf each.
 *
 *   0x7E100000 +0x10000 +0x20000            +0xF0000  +0x100000
 *   | RO: RX  | XP     | (no entry: RWX)    | RWX entry|
 */
static void layout_mat_leaves_rwx_counted(void **state)
{
	(void)state;
	const struct fix_row mat[] = {
		{ EFI_MEM_RUNTIME_CODE, 0x7E100000, 0x10, RT | EFI_MEM_ATTR_RO },
		{ EFI_MEM_RUNTIME_DATA, 0x7E110000, 0x10, RT | EFI_MEM_ATTR_XP },
		{ EFI_MEM_RUNTIME_CODE, 0x7E1F0000, 0x10, RT },
	};
	map_attach_mat(&bi, mat, ROWS(mat));
	size_t bad = 0, n;
	assert_int_equal(layout_build(&in, &out), 0);
	expect_maps(0x7E120000, 0x7E120000, VM_WRITE | VM_EXEC);
	expect_maps(0x7E1F0000, 0x7E1F0000, VM_WRITE | VM_EXEC);
	assert_int_equal(out.rwx_pages, 0xE0);
	assert_false(find_region("runtime code RWX", &n)->wx_exempt);
	assert_false(layout_verify(out.pml4, &bad));
	assert_int_equal(bad, 0xE0);
}

/* Expect a malformed table ignored, as if there were none (code RWX,
 * exempt) and reported: a version we do not know, an entry that is not
 * runtime code or data, a descriptor size that misaligns the fields. */
static void layout_mat_malformed_ignored(void **state)
{
	(void)state;
	const struct fix_row mat[] = {
		{ EFI_MEM_RUNTIME_CODE, 0x7E100000, 0x100, RT | EFI_MEM_ATTR_RO },
		{ EFI_MEM_CONVENTIONAL, 0x7E000000, 0x100, RT | EFI_MEM_ATTR_XP },
	};
	size_t n;
	for (int k = 0; k < 3; k++) {
		map_attach_mat(&bi, mat, k == 1 ? 2 : 1);
		if (k == 0)
			bi.mat_version = 3;
		if (k == 2)
			bi.mat_desc_size = 44, bi.mat_size = 44;
		build_ok();
		assert_true(out.mat_invalid);
		assert_int_equal(out.mat_entries, 0);
		assert_true(find_region("runtime code RWX", &n)->wx_exempt);
		assert_int_equal(out.rwx_pages, 0x100);
		teardown(NULL);
		setup(NULL);
	}
}

/*
 * Expect over every captured OVMF map with its own attributes table: the
 * table used whole, no RWX page and nothing exempt; without the table,
 * the 1 MiB RuntimeServicesCode region all RWX (256 pages, exempt).
 * These are the figures in docs/firmware.md.
 */
static void layout_fixtures_mat_no_rwx(void **state)
{
	(void)state;
	teardown(NULL);
	for (size_t f = 0; f < ROWS(fixtures); f++) {
		const struct fixture *fx = &fixtures[f];
		for (int with = 0; with < 2; with++) {
			size_t n;
			setup_map(fx->rows, fx->n, 8 * GiB);
			make_fixture_input(fx, true);
			if (with)
				map_attach_mat(&bi, fx->mat, fx->nmat);
			build_ok();
			assert_int_equal(out.mat_entries, with ? fx->nmat : 0);
			assert_int_equal(out.rwx_pages, with ? 0 : 256);
			assert_true(with ? !find_region("runtime code RWX", &n)
					 : find_region("runtime code RWX", &n)->wx_exempt);
			teardown(NULL);
		}
	}
	setup(NULL);
}

/* Expect the framebuffer in its window, write-combining with the PAT
 * loaded and write-through without, and fb_va to point at its first
 * byte. */
static void layout_framebuffer_window(void **state)
{
	(void)state;
	for (int pat = 0; pat < 2; pat++) {
		unsigned type = pat ? VM_WRITECOMBINE : VM_WRITETHROUGH;
		uint64_t last = FB_WINDOW_BASE + 1280 * 800 * 4 - 1;
		in.pat = pat;
		build_ok();
		assert_int_equal(out.fb_va, FB_WINDOW_BASE);
		expect_maps(FB_WINDOW_BASE, 0x80000000, VM_WRITE | type | VM_GLOBAL | VM_PAGE_2M);
		expect_maps(last, 0x80000000 + 1280 * 800 * 4 - 1, VM_WRITE | type | VM_GLOBAL);
		teardown(NULL);
		setup(NULL);
	}
}

/*
 * Expect the window to cover stride * height * 4 bytes when the firmware
 * reports a smaller FrameBufferSize (here width * height * 4 with a
 * wider stride, then 0), rounded out to pages from a base that is not
 * page aligned, and nothing past it.
 */
static void layout_framebuffer_stride_beyond_size(void **state)
{
	(void)state;
	unsigned f = VM_WRITE | VM_WRITETHROUGH | VM_GLOBAL;
	uint64_t need = 1344ull * 800 * 4; /* 0x41A000 */
	bi.fb = (struct framebuffer){ 0x80000800, 1280 * 800 * 4, 1280, 800, 1344, FB_BGRX };
	build_ok();
	assert_int_equal(out.fb_va, FB_WINDOW_BASE + 0x800);
	expect_maps(out.fb_va + need - 1, 0x80000800 + need - 1, f);
	assert_false(pt_is_mapped(out.pml4, FB_WINDOW_BASE + need + PAGE_SIZE));
	teardown(NULL);

	setup(NULL);
	bi.fb = (struct framebuffer){ 0x80000000, 0, 1280, 800, 1344, FB_BGRX };
	build_ok();
	expect_maps(FB_WINDOW_BASE + need - 1, 0x80000000 + need - 1, f);
	assert_false(pt_is_mapped(out.pml4, FB_WINDOW_BASE + need));
}

/* Expect a framebuffer larger than the 1 GiB window refused by stride *
 * height (also when that product would wrap 32 bits, or 64 once times
 * 4), with no frame kept.  A FrameBufferSize over the window does not
 * matter: only framebuffer_bytes() is mapped. */
static void layout_framebuffer_too_big(void **state)
{
	(void)state;
	bi.fb = (struct framebuffer){ 0x80000000, 0, 16384, 16385, 16384, FB_BGRX };
	assert_int_equal(layout_build(&in, &out), VM_EINVAL);
	bi.fb = (struct framebuffer){ 0x80000000, 0, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, FB_BGRX };
	assert_int_equal(layout_build(&in, &out), VM_EINVAL);
	bi.fb = (struct framebuffer){ 0x80000800, GiB, 16384, 16384, 16384, FB_BGRX };
	assert_int_equal(layout_build(&in, &out), VM_EINVAL); /* one page over */
	assert_int_equal(frames_free_count(), free0);
	assert_int_equal(out.pml4, 0);
	bi.fb = (struct framebuffer){ 0x80000000, 2 * GiB, 1280, 800, 1280, FB_BGRX };
	build_ok();
	assert_false(pt_is_mapped(out.pml4, FB_WINDOW_BASE + 1280 * 800 * 4 + PAGE_SIZE));
}

/* Expect layout_check_map to refuse an image it cannot identity-map
 * (page 0, the heap window), naming it, and layout_build to refuse the
 * same image with the same error, with no frame kept; an empty span is
 * no image (the loader's plan when it could not learn the image). */
static void layout_check_map_image(void **state)
{
	const struct layout_span page0 = { 0, 0x40000 }, heap = { HEAP_START - 0x1000, HEAP_START + 0x1000 };
	struct layout_refusal why;

	(void)state;
	assert_int_equal(layout_check_map(in.map, in.image, &why), 0);
	assert_int_equal(layout_check_map(in.map, (struct layout_span){ 0, 0 }, &why), 0);
	assert_int_equal(layout_check_map(in.map, page0, &why), VM_EINVAL);
	assert_string_equal(why.what, "the image");
	assert_int_equal(why.start, 0);
	assert_int_equal(why.end, 0x40000);
	assert_int_equal(layout_check_map(in.map, heap, &why), VM_EEXIST);
	assert_string_equal(why.what, "the image");
	in.image = page0;
	in.text = (struct layout_span){ 0x1000, 0x2000 };
	in.rodata = in.data = (struct layout_span){ 0, 0 };
	assert_int_equal(layout_build(&in, &out), VM_EINVAL);
	assert_int_equal(frames_free_count(), free0);
}

/*
 * Expect layout_verify to check every leaf, not just the table: a W+X
 * 4K page and a W+X 2M page mapped after the build count 1 each, and so
 * does an image data page remapped W+X (a recorded row, not exempt); a
 * heap page (RW NX) counts nothing; the exempt runtime code is not
 * counted; with the extra pages gone the space passes again.
 */
static void layout_verify_counts_late_wx(void **state)
{
	(void)state;
	const uint64_t scratch = 0xFFFFFD0000000000ull; /* unused by the layout */
	size_t bad = 0;
	build_ok();
	uint64_t pa = frames_alloc();
	assert_int_equal(pt_map(out.pml4, HEAP_START, pa, PAGE_SIZE, VM_WRITE), 0);
	assert_true(layout_verify(out.pml4, &bad));
	assert_int_equal(pt_map(out.pml4, scratch, pa, PAGE_SIZE, VM_WRITE | VM_EXEC), 0);
	assert_false(layout_verify(out.pml4, &bad));
	assert_int_equal(bad, 1);
	assert_int_equal(pt_map(out.pml4, scratch + 2 * MiB, 0x7C200000, 2 * MiB,
				VM_WRITE | VM_EXEC | VM_PAGE_2M), 0);
	assert_false(layout_verify(out.pml4, &bad));
	assert_int_equal(bad, 2);
	/* Inside a recorded row that is not exempt still counts. */
	assert_int_equal(pt_unmap(out.pml4, 0x7C018000, PAGE_SIZE), 0);
	assert_int_equal(pt_map(out.pml4, 0x7C018000, 0x7C018000, PAGE_SIZE, VM_WRITE | VM_EXEC), 0);
	assert_false(layout_verify(out.pml4, &bad));
	assert_int_equal(bad, 3);
	assert_int_equal(pt_unmap(out.pml4, 0x7C018000, PAGE_SIZE), 0);
	assert_int_equal(pt_map(out.pml4, 0x7C018000, 0x7C018000, PAGE_SIZE, VM_WRITE), 0);
	assert_int_equal(pt_unmap(out.pml4, scratch, PAGE_SIZE), 0);
	assert_int_equal(pt_unmap(out.pml4, scratch + 2 * MiB, 2 * MiB), 0);
	assert_int_equal(pt_unmap(out.pml4, HEAP_START, PAGE_SIZE), 0);
	assert_true(layout_verify(out.pml4, &bad));
	assert_int_equal(bad, 0);
	frames_free(pa);
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
	size_t bad = 1;
	assert_true(layout_verify(out.pml4, &bad)); /* every page is W+X: moot */
	assert_int_equal(bad, 0);
	pt_set_nx_supported(true);
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
	assert_int_equal(frames_init(sim_list(&bi)), 0);
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
			layout_release(&out);
			assert_true(k >= 17 + 16 + 4); /* tables + stacks */
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

/* A map of 64 MiB conventional from 1 MiB plus extra RAM descriptors
 * rows[2..] filled by the caller; returns the row count. */
static size_t small_map(struct fix_row *rows, size_t extra, uint32_t (*type)(size_t),
			uint64_t gap)
{
	rows[0] = (struct fix_row){ EFI_MEM_BOOT_CODE, 0, 0x100, 0xF };
	rows[1] = (struct fix_row){ EFI_MEM_CONVENTIONAL, MiB, 0x4000, 0xF };
	for (size_t i = 0; i < extra; i++) {
		uint32_t t = type(i);
		uint64_t attr = 0xF | (t == EFI_MEM_CONVENTIONAL ? 0 : RT);
		rows[2 + i] = (struct fix_row){ t, 128 * MiB + i * gap, 1, attr };
	}
	return 2 + extra;
}

static uint32_t always_conventional(size_t i)
{
	(void)i;
	return EFI_MEM_CONVENTIONAL;
}

static uint32_t code_or_data(size_t i)
{
	return i % 2 ? EFI_MEM_RUNTIME_CODE : EFI_MEM_RUNTIME_DATA;
}

/*
 * Expect RAM in 500 separate pieces (the old fixed limit was 64) mapped
 * exactly, the region table moved into frames because it outgrew the
 * static one, every leaf recorded, and all of it given back by
 * layout_release (teardown checks the free count).
 */
static void layout_build_500_ram_pieces(void **state)
{
	(void)state;
	static struct fix_row rows[2 + 500];
	size_t nreg;
	teardown(NULL);
	size_t n = small_map(rows, 500, always_conventional, 2 * PAGE_SIZE);
	setup_map(rows, n, 256 * MiB);
	assert_true(layout_table_rows(sim_list(&bi), &bi) > LAYOUT_STATIC_REGIONS);
	build_ok();
	expect_direct_map_is_ram(rows, n);
	check_leaves(out.pml4, 4, 0, PTE_NX);
	assert_true(out.table_frames > 0);
	assert_true(layout_regions(&nreg) && nreg > 500);
	assert_true(out.page_tables <= layout_tables_bound(sim_list(&bi), &bi));
}

/* Expect 600 runtime regions that cannot share rows (adjacent pages
 * alternating code RWX / data RW) mapped with a table sized for them. */
static void layout_build_many_runtime_regions(void **state)
{
	(void)state;
	static struct fix_row rows[2 + 600];
	size_t nreg;
	teardown(NULL);
	size_t n = small_map(rows, 600, code_or_data, PAGE_SIZE);
	setup_map(rows, n, 256 * MiB);
	build_ok();
	assert_true(layout_regions(&nreg) && nreg > 600);
	assert_true(nreg <= layout_table_rows(sim_list(&bi), &bi));
	expect_maps(128 * MiB + PAGE_SIZE, 128 * MiB + PAGE_SIZE, VM_WRITE | VM_EXEC);
	expect_maps(128 * MiB + 599 * PAGE_SIZE, 128 * MiB + 599 * PAGE_SIZE, VM_WRITE | VM_EXEC);
}

/*
 * Expect a memory attributes table that cuts one runtime code region
 * into 600 pieces (300 one-page RX entries; the pages between them no
 * entry covers, so RWX, and counted) mapped with a region table sized
 * for them: the static table holds 512 rows, so layout_table_rows must
 * count the table's pieces, not one per runtime descriptor.
 *
 *   128M   +4K    +8K    +12K          +2392K +2396K
 *   [RX   ][RWX  ][RX   ][RWX  ] ...   [RX   ][RWX  ]
 */
static void layout_build_mat_many_pieces(void **state)
{
	(void)state;
	static struct fix_row mat[300];
	struct fix_row rows[3];
	size_t nreg;
	teardown(NULL);
	small_map(rows, 0, code_or_data, 0);
	rows[2] = (struct fix_row){ EFI_MEM_RUNTIME_CODE, 128 * MiB, 600, 0xF | RT };
	setup_map(rows, ROWS(rows), 256 * MiB);
	for (size_t i = 0; i < ROWS(mat); i++)
		mat[i] = (struct fix_row){ EFI_MEM_RUNTIME_CODE, 128 * MiB + 2 * i * PAGE_SIZE, 1,
					   RT | EFI_MEM_ATTR_RO };
	map_attach_mat(&bi, mat, ROWS(mat));
	assert_int_equal(layout_build(&in, &out), 0); /* not build_ok: W^X fails here */
	assert_int_equal(out.rwx_pages, 300);
	assert_true(layout_regions(&nreg) && nreg > LAYOUT_STATIC_REGIONS);
	assert_true(nreg <= layout_table_rows(sim_list(&bi), &bi));
	expect_maps(128 * MiB, 128 * MiB, VM_EXEC);
	expect_maps(128 * MiB + 599 * PAGE_SIZE, 128 * MiB + 599 * PAGE_SIZE, VM_WRITE | VM_EXEC);
}

/*
 * Expect the stacks' runs taken before any page-table frame: the only
 * 64 KiB run is the lowest range, where single frames are taken first,
 * and the rest is 4 KiB runs and one run the bookkeeping (two frames:
 * table rows for 52 free ranges and, for frames_add, 101 boot-services
 * ranges) leaves 60 KiB of.  Then, with that run in use, VM_ENOMEM and
 * nothing kept.
 *
 *   1M        1M+64K   2M ... 2M+400K           16M                       32M
 *   [conv 16p]         [c][r][c][r]... 50 each  [conv 15p + bookkeeping] [bc][bd]... 100
 */
static void layout_build_stack_runs_first(void **state)
{
	(void)state;
	static struct fix_row rows[3 + 100 + 100];
	size_t n = 0;
	teardown(NULL);
	rows[n++] = (struct fix_row){ EFI_MEM_BOOT_CODE, 0, 0x100, 0xF };
	rows[n++] = (struct fix_row){ EFI_MEM_CONVENTIONAL, MiB, 16, 0xF };
	for (size_t i = 0; i < 100; i++)
		rows[n++] = (struct fix_row){ i % 2 ? EFI_MEM_BOOT_DATA : EFI_MEM_BOOT_CODE,
					      32 * MiB + i * PAGE_SIZE, 1, 0xF };
	for (size_t i = 0; i < 50; i++) {
		rows[n++] = (struct fix_row){ EFI_MEM_CONVENTIONAL, 2 * MiB + 2 * i * PAGE_SIZE, 1, 0xF };
		rows[n++] = (struct fix_row){ EFI_MEM_RESERVED, 2 * MiB + (2 * i + 1) * PAGE_SIZE, 1, 0 };
	}
	rows[n++] = (struct fix_row){ EFI_MEM_CONVENTIONAL, 16 * MiB, 15 + 2, 0xF };
	setup_map(rows, n, 64 * MiB);
	assert_int_equal((frames_meta_bytes(sim_list(&bi)) + PAGE_SIZE - 1) / PAGE_SIZE, 2);
	build_ok();
	assert_int_equal(out.kstack_phys, MiB);
	teardown(NULL);

	setup_map(rows, n, 64 * MiB);
	uint64_t low = frames_alloc();
	assert_int_equal(low, MiB);
	free0 = frames_free_count();
	assert_int_equal(layout_build(&in, &out), VM_ENOMEM);
	assert_int_equal(out.pml4, 0);
	frames_free(low);
	free0 = frames_free_count();
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
		T(layout_direct_map_ram_only),
		T(layout_build_fixtures),
		T(layout_regions_translate),
		T(layout_holes_unmapped),
		T(layout_image_sections),
		T(layout_runtime_regions),
		T(layout_memory_type_from_attributes),
		T(layout_runtime_memory_types),
		T(layout_mat_splits_runtime_code),
		T(layout_mat_leaves_rwx_counted),
		T(layout_mat_malformed_ignored),
		T(layout_fixtures_mat_no_rwx),
		T(layout_framebuffer_window),
		T(layout_framebuffer_stride_beyond_size),
		T(layout_framebuffer_too_big),
		T(layout_check_map_image),
		T(layout_verify_counts_late_wx),
		T(layout_build_nx_off),
		T(layout_build_oom_frees_everything),
		T(layout_build_bad_input),
		T(layout_build_500_ram_pieces),
		T(layout_build_many_runtime_regions),
		T(layout_build_mat_many_pieces),
		T(layout_build_stack_runs_first),
		T(layout_build_identity_conflicts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
