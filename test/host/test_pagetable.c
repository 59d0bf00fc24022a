/*
 * test_pagetable.c - host tests for paging/pagetable.c: map, unmap and
 * translate at 4 KiB, 2 MiB and 1 GiB; every error case; no frame leaks,
 * even when a map runs out of frames half-way.
 *
 * Simulated machine: 64 MiB of RAM, conventional from 1 MiB.  Mapped
 * physical addresses need not exist: only the tables are touched.
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
#include "mmu.h"
#include "pagetable.h"
#include "vmerr.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define K4 PAGE_SIZE
#define M2 PAGE_SIZE_2M
#define G1 PAGE_SIZE_1G

static const struct fix_row ram64[] = {
	{ EFI_MEM_BOOT_DATA, 0, 0x100, 0xF },
	{ EFI_MEM_CONVENTIONAL, MiB, 0x3F00, 0xF },
};

static struct boot_info bi;
static uint64_t pml4;
static uint64_t free0; /* free frames before the space was made */

static int setup(void **state)
{
	(void)state;
	sim_phys_init(64 * MiB);
	map_build(&bi, ram64, ROWS(ram64), 48);
	assert_int_equal(frames_init(sim_list(&bi)), 0);
	pt_set_nx_supported(true);
	pt_set_1g_supported(true);
	free0 = frames_free_count();
	pml4 = pt_new_space();
	assert_int_not_equal(pml4, 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pt_free_space(pml4);
	assert_int_equal(frames_free_count(), free0); /* no test leaks a table */
	map_free(&bi);
	sim_phys_fini();
	return 0;
}

/* The raw entry at level for va, or 0 if the walk stops above it. */
static uint64_t raw_entry(uint64_t va, int level)
{
	uint64_t t = pml4;
	for (int l = 4; l >= level; l--) {
		uint64_t e = ((uint64_t *)phys_to_virt(t))[PX(l, va)];
		if (l == level)
			return e;
		if (!(e & PTE_P) || (e & PTE_PS))
			return 0;
		t = PTE_ADDR(e);
	}
	return 0;
}

static void expect_maps(uint64_t va, uint64_t pa, unsigned flags)
{
	uint64_t got;
	unsigned f;
	assert_int_equal(pt_translate(pml4, va, &got, &f), 0);
	assert_int_equal(got, pa);
	assert_int_equal(f, flags);
}

/* Expect a 4K page to translate at both ends, its neighbours unmapped,
 * and unmap to give back all three new tables. */
static void pt_map_4k_translate(void **state)
{
	(void)state;
	assert_int_equal(pt_map(pml4, 0x400000, 0x2000000, K4, VM_WRITE), 0);
	expect_maps(0x400000, 0x2000000, VM_WRITE);
	expect_maps(0x400FFF, 0x2000FFF, VM_WRITE);
	assert_int_equal(pt_translate(pml4, 0x401000, NULL, NULL), VM_ENOENT);
	assert_int_equal(pt_translate(pml4, 0x3FF000, NULL, NULL), VM_ENOENT);
	assert_int_equal(pt_count_tables(pml4), 4);
	assert_int_equal(pt_unmap(pml4, 0x400000, K4), 0);
	assert_int_equal(pt_count_tables(pml4), 1);
	assert_int_equal(frames_free_count(), free0 - 1);
}

/* Expect a 2M page reported as VM_PAGE_2M with offsets inside it. */
static void pt_map_2m_translate(void **state)
{
	(void)state;
	unsigned f = VM_WRITE | VM_PAGE_2M;
	assert_int_equal(pt_map(pml4, 0xFFFF800000200000, 0x40000000, 2 * M2, f), 0);
	expect_maps(0xFFFF800000200000, 0x40000000, f);
	expect_maps(0xFFFF8000005FFFFF, 0x403FFFFF, f);
	assert_int_equal(pt_count_tables(pml4), 3);
	assert_int_equal(pt_unmap(pml4, 0xFFFF800000200000, 2 * M2), 0);
	assert_int_equal(frames_free_count(), free0 - 1);
}

/* Expect a 1G page reported as VM_PAGE_1G; only two tables needed. */
static void pt_map_1g_translate(void **state)
{
	(void)state;
	unsigned f = VM_EXEC | VM_PAGE_1G | VM_GLOBAL;
	assert_int_equal(pt_map(pml4, 0x40000000, 0x80000000, G1, f), 0);
	expect_maps(0x40000000 + 0x12345678, 0x80000000 + 0x12345678, f);
	assert_int_equal(pt_count_tables(pml4), 2);
	assert_int_equal(pt_unmap(pml4, 0x40000000, G1), 0);
	assert_int_equal(frames_free_count(), free0 - 1);
}

/* Expect every allowed flag combination to read back exactly, memory
 * types included (at most one of VM_CACHE_MASK). */
static void pt_map_flags_roundtrip(void **state)
{
	(void)state;
	uint64_t va = 0x10000000;
	for (unsigned f = 0; f < 64; f++) {
		for (unsigned wc = 0; wc <= VM_WRITECOMBINE; wc += VM_WRITECOMBINE) {
			unsigned cache = (f | wc) & VM_CACHE_MASK;
			if (cache & (cache - 1))
				continue;
			assert_int_equal(pt_map(pml4, va, 0x1000000, K4, f | wc), 0);
			expect_maps(va, 0x1000000, f | wc);
			va += K4;
		}
	}
	assert_int_equal(pt_unmap(pml4, 0x10000000, va - 0x10000000), 0);
}

/*
 * Expect each memory type to select its PAT index (mmu.h) with the PAT
 * bit where the page size puts it: bit 7 in a 4K leaf, bit 12 in 2M and
 * 1G leaves (bit 7 is PS there), and the large page's address intact.
 *   WB 0: none   WT 1: PWT   UC 3: PCD PWT   WC 4: PAT
 */
static void pt_map_memory_types_pat_index(void **state)
{
	(void)state;
	const unsigned types[] = { 0, VM_WRITETHROUGH, VM_NOCACHE, VM_WRITECOMBINE };
	const uint64_t idx[] = { 0, 1, 3, 4 };
	const unsigned sizes[] = { 0, VM_PAGE_2M, VM_PAGE_1G };
	for (int s = 0; s < 3; s++) {
		uint64_t ps = pt_page_size(sizes[s]), pat = s ? PTE_PAT_LARGE : PTE_PAT_4K;
		for (int t = 0; t < 4; t++) {
			uint64_t va = 0x8000000000ull * (t + 1);
			assert_int_equal(pt_map(pml4, va, G1, ps, types[t] | sizes[s]), 0);
			uint64_t e = raw_entry(va, s + 1);
			uint64_t got = (e & pat ? 4 : 0) | (e & PTE_PCD ? 2 : 0) | (e & PTE_PWT ? 1 : 0);
			assert_int_equal(got, idx[t]);
			assert_int_equal(e & (s ? PTE_PAT_4K : PTE_PAT_LARGE), s ? PTE_PS : 0);
			expect_maps(va + ps - 1, G1 + ps - 1, types[t] | sizes[s]);
			assert_int_equal(pt_unmap(pml4, va, ps), 0);
		}
	}
	/* PAT_KERNEL: the power-on table with entry 4 made WC. */
	assert_int_equal(PAT_KERNEL & ~(0xFFull << 32), PAT_POWER_ON & ~(0xFFull << 32));
	assert_int_equal((PAT_KERNEL >> 32) & 0xFF, PAT_WC);
}

/* Expect two 4K pages in one 2M range to share one PT:
 *   PML4 -> PDPT -> PD -> PT [ page a, page b ]   = 4 tables. */
static void pt_map_table_reuse(void **state)
{
	(void)state;
	assert_int_equal(pt_map(pml4, 0x200000, 0x300000, K4, 0), 0);
	assert_int_equal(pt_map(pml4, 0x3FF000, 0x301000, K4, 0), 0);
	assert_int_equal(pt_count_tables(pml4), 4);
	assert_int_equal(frames_free_count(), free0 - 4);
	assert_int_equal(pt_map(pml4, 0x400000, 0x302000, K4, 0), 0); /* next 2M: new PT */
	assert_int_equal(pt_count_tables(pml4), 5);
	assert_int_equal(pt_unmap(pml4, 0x200000, K4), 0);
	assert_int_equal(pt_count_tables(pml4), 5); /* PT still holds b */
	assert_int_equal(pt_unmap(pml4, 0x3FF000, 2 * K4), 0);
	assert_int_equal(pt_count_tables(pml4), 1);
}

/* Expect misaligned va, pa or size (for the page size) and size 0 to be
 * VM_EINVAL, with nothing mapped and no frame taken. */
static void pt_map_misaligned(void **state)
{
	(void)state;
	const unsigned sizes[] = { 0, VM_PAGE_2M, VM_PAGE_1G };
	for (int i = 0; i < 3; i++) {
		uint64_t ps = pt_page_size(sizes[i]);
		assert_int_equal(pt_map(pml4, ps + K4 * (ps > K4) + 8 * (ps == K4), 0, ps, sizes[i]), VM_EINVAL);
		assert_int_equal(pt_map(pml4, ps, ps / 2, ps, sizes[i]), VM_EINVAL);
		assert_int_equal(pt_map(pml4, ps, 0, ps + ps / 2, sizes[i]), VM_EINVAL);
		assert_int_equal(pt_map(pml4, ps, 0, 0, sizes[i]), VM_EINVAL);
	}
	assert_int_equal(pt_count_tables(pml4), 1);
	assert_int_equal(frames_free_count(), free0 - 1);
}

/* Expect non-canonical addresses, ranges across the hole and ranges
 * wrapping past 2^64 to be VM_ENONCANON; the last page of the upper half
 * and of the lower half to map fine. */
static void pt_map_noncanonical(void **state)
{
	(void)state;
	assert_int_equal(pt_map(pml4, 0x0000800000000000, 0, K4, 0), VM_ENONCANON);
	assert_int_equal(pt_map(pml4, 0xFFFF7FFFFFFFF000, 0, K4, 0), VM_ENONCANON);
	assert_int_equal(pt_map(pml4, 0x00007FFFFFFFF000, 0, 2 * K4, 0), VM_ENONCANON);
	assert_int_equal(pt_map(pml4, 0xFFFFFFFFFFFFF000, 0, 2 * K4, 0), VM_ENONCANON);
	assert_int_equal(pt_translate(pml4, 0x0000900000000000, NULL, NULL), VM_ENONCANON);
	assert_int_equal(pt_unmap(pml4, 0x0000800000000000, K4), VM_ENONCANON);
	assert_int_equal(pt_map(pml4, 0xFFFFFFFFFFFFF000, 0x5000, K4, 0), 0);
	assert_int_equal(pt_map(pml4, 0x00007FFFFFFFF000, 0x6000, K4, 0), 0);
	expect_maps(0xFFFFFFFFFFFFFFFF, 0x5FFF, 0);
	assert_int_equal(pt_unmap(pml4, 0xFFFFFFFFFFFFF000, K4), 0);
	assert_int_equal(pt_unmap(pml4, 0x00007FFFFFFFF000, K4), 0);
	assert_int_equal(pt_count_tables(pml4), 1);
}

/* Expect bad pml4, unknown flags, both page sizes, two memory types
 * and physical ranges past 2^52 to be VM_EINVAL; 1G pages without the
 * CPU feature VM_ENOTSUP. */
static void pt_map_bad_args(void **state)
{
	(void)state;
	assert_int_equal(pt_map(0, 0x1000, 0, K4, 0), VM_EINVAL);
	assert_int_equal(pt_map(pml4 + 8, 0x1000, 0, K4, 0), VM_EINVAL);
	assert_int_equal(pt_map(pml4, 0x1000, 0, K4, 1u << 20), VM_EINVAL);
	assert_int_equal(pt_map(pml4, 0, 0, G1, VM_PAGE_1G | VM_PAGE_2M), VM_EINVAL);
	assert_int_equal(pt_map(pml4, 0x1000, 0, K4, VM_NOCACHE | VM_WRITETHROUGH), VM_EINVAL);
	assert_int_equal(pt_map(pml4, 0x1000, 0, K4, VM_WRITECOMBINE | VM_WRITETHROUGH), VM_EINVAL);
	assert_int_equal(pt_map(pml4, 0x1000, 0, K4, VM_WRITECOMBINE | VM_NOCACHE), VM_EINVAL);
	assert_int_equal(pt_map(pml4, 0x1000, PHYS_ADDR_LIMIT - K4, 2 * K4, 0), VM_EINVAL);
	assert_int_equal(pt_unmap(0, 0x1000, K4), VM_EINVAL);
	pt_set_1g_supported(false);
	assert_int_equal(pt_map(pml4, 0, 0, G1, VM_PAGE_1G), VM_ENOTSUP);
	assert_int_equal(pt_count_tables(pml4), 1);
}

/* Expect an overlap at every level refused with VM_EEXIST and the
 * existing mapping left as it was:
 *   4K on 4K, 4K inside 2M, 4K inside 1G, 2M over a PT of 4K pages,
 *   2M inside 1G, 1G over a PD. */
static void pt_map_overlap_every_level(void **state)
{
	(void)state;
	assert_int_equal(pt_map(pml4, 0x1000, 0x1000, K4, 0), 0);
	assert_int_equal(pt_map(pml4, 0x1000, 0x9000, K4, VM_WRITE), VM_EEXIST);
	assert_int_equal(pt_map(pml4, 0, 0, M2, VM_PAGE_2M), VM_EEXIST);
	assert_int_equal(pt_map(pml4, 0, 0, G1, VM_PAGE_1G), VM_EEXIST);
	expect_maps(0x1000, 0x1000, 0);

	assert_int_equal(pt_map(pml4, 0x40000000 + M2, 0, M2, VM_PAGE_2M), 0);
	assert_int_equal(pt_map(pml4, 0x40000000 + M2 + K4, 0, K4, 0), VM_EEXIST);
	assert_int_equal(pt_map(pml4, 0x40000000, 0, G1, VM_PAGE_1G), VM_EEXIST);

	assert_int_equal(pt_map(pml4, 0x80000000, 0, G1, VM_PAGE_1G), 0);
	assert_int_equal(pt_map(pml4, 0x80000000 + M2, 0, M2, VM_PAGE_2M), VM_EEXIST);
	assert_int_equal(pt_map(pml4, 0xBFFFF000, 0, K4, 0), VM_EEXIST);
	expect_maps(0xBFFFF000, 0x3FFFF000, VM_PAGE_1G);

	assert_int_equal(pt_unmap(pml4, 0x1000, K4), 0);
	assert_int_equal(pt_unmap(pml4, 0x40000000 + M2, M2), 0);
	assert_int_equal(pt_unmap(pml4, 0x80000000, G1), 0);
	assert_int_equal(pt_count_tables(pml4), 1);
}

/* Expect a range that overlaps only at its end to fail and leave none of
 * its own pages or tables behind:
 *   existing:       [2][3]
 *   new:      [0][1][2]...      -> VM_EEXIST, 0 and 1 unmapped again. */
static void pt_map_overlap_partial_undone(void **state)
{
	(void)state;
	assert_int_equal(pt_map(pml4, 0x7000000 + 2 * K4, 0, 2 * K4, 0), 0);
	uint64_t before = frames_free_count();
	assert_int_equal(pt_map(pml4, 0x7000000, 0x100000, 5 * K4, 0), VM_EEXIST);
	assert_false(pt_is_mapped(pml4, 0x7000000));
	assert_false(pt_is_mapped(pml4, 0x7000000 + K4));
	assert_true(pt_is_mapped(pml4, 0x7000000 + 2 * K4));
	assert_int_equal(frames_free_count(), before);
	assert_int_equal(pt_unmap(pml4, 0x7000000 + 2 * K4, 2 * K4), 0);
}

/* Expect unmapping part of a 2M or 1G page to be VM_ESPLIT, leaving it
 * mapped; a range starting inside one too. */
static void pt_unmap_part_of_large_page(void **state)
{
	(void)state;
	assert_int_equal(pt_map(pml4, 0x40000000, 0, M2, VM_PAGE_2M), 0);
	assert_int_equal(pt_unmap(pml4, 0x40000000, K4), VM_ESPLIT);
	assert_int_equal(pt_unmap(pml4, 0x40000000 + K4, M2 - K4), VM_ESPLIT);
	assert_int_equal(pt_map(pml4, 0x80000000, 0, G1, VM_PAGE_1G), 0);
	assert_int_equal(pt_unmap(pml4, 0x80000000, M2), VM_ESPLIT);
	assert_true(pt_is_mapped(pml4, 0x40000000));
	assert_true(pt_is_mapped(pml4, 0x80000000));
	assert_int_equal(pt_unmap(pml4, 0x40000000, M2), 0);
	assert_int_equal(pt_unmap(pml4, 0x80000000, G1), 0);
}

/* Expect unmapping a hole to be VM_ENOENT and to unmap nothing at all,
 * even the mapped pages before the hole. */
static void pt_unmap_unmapped(void **state)
{
	(void)state;
	assert_int_equal(pt_unmap(pml4, 0x1000, K4), VM_ENOENT);
	assert_int_equal(pt_map(pml4, 0x1000, 0, K4, 0), 0);
	assert_int_equal(pt_unmap(pml4, 0x1000, 2 * K4), VM_ENOENT);
	assert_true(pt_is_mapped(pml4, 0x1000));
	assert_int_equal(pt_unmap(pml4, 0x1000, K4), 0);
	assert_int_equal(pt_translate(pml4, 0x1000, NULL, NULL), VM_ENOENT);
}

/* Expect one unmap to clear a range of mixed page sizes:
 *   [ 4K x 511 ][ 2M ][ 4K ] crossing a PT and PD boundary, and every
 *   table to come back. */
static void pt_unmap_mixed_sizes(void **state)
{
	(void)state;
	uint64_t base = 0x3FC01000;
	assert_int_equal(pt_map(pml4, base, 0x100000, M2 - K4, 0), 0);
	assert_int_equal(pt_map(pml4, 0x3FE00000, 0x800000, M2, VM_PAGE_2M), 0);
	assert_int_equal(pt_map(pml4, 0x40000000, 0x900000, K4, 0), 0);
	assert_int_equal(pt_unmap(pml4, base, 0x40001000 - base), 0);
	assert_int_equal(pt_count_tables(pml4), 1);
	assert_int_equal(frames_free_count(), free0 - 1);
}

/* Expect pt_unmap_gather to unlink the tables it empties but keep them
 * from the frame allocator, every entry still absent to a CPU that may
 * walk them, until pt_gather_free. */
static void pt_unmap_gather_holds_tables(void **state)
{
	(void)state;
	struct pt_gather g = PT_GATHER_INIT;
	uint64_t va = 0x8000400000;
	assert_int_equal(pt_map(pml4, va, 0x2000000, K4, VM_WRITE), 0);
	uint64_t tables[3] = { PTE_ADDR(raw_entry(va, 4)), PTE_ADDR(raw_entry(va, 3)),
			       PTE_ADDR(raw_entry(va, 2)) };
	assert_int_equal(frames_free_count(), free0 - 4); /* the PML4 and 3 tables */
	assert_int_equal(pt_unmap_gather(pml4, va, K4, &g), 0);
	assert_int_equal(raw_entry(va, 4), 0); /* unlinked from the PML4 */
	assert_int_equal(pt_count_tables(pml4), 1);
	assert_int_equal(g.count, 3);
	assert_int_equal(frames_free_count(), free0 - 4); /* but not freed */
	for (int t = 0; t < 3; t++) {
		const uint64_t *e = phys_to_virt(tables[t]);
		for (int i = 0; i < PT_ENTRIES; i++)
			assert_false(e[i] & PTE_P);
	}
	pt_gather_free(&g);
	assert_int_equal(g.count, 0);
	assert_int_equal(frames_free_count(), free0 - 1);
}

/* Take all free frames but k; return them in a malloc'd array. */
static uint64_t *hog_all_but(uint64_t k, size_t *n)
{
	size_t cap = frames_free_count();
	uint64_t *got = malloc(cap * sizeof(*got));
	*n = 0;
	while (frames_free_count() > k)
		got[(*n)++] = frames_alloc();
	return got;
}

/* Expect a map needing 5 tables ([1G - 4K, 1G + 4K) crosses a PDPT
 * entry: PDPT, PD x2, PT x2) to fail with VM_ENOMEM for every shortage,
 * giving back every frame it took and mapping nothing. */
static void pt_map_oom_rolls_back(void **state)
{
	(void)state;
	for (uint64_t k = 0; k <= 5; k++) {
		size_t n;
		uint64_t *hog = hog_all_but(k, &n);
		int err = pt_map(pml4, G1 - K4, 0x100000, 2 * K4, VM_WRITE);
		if (k < 5) {
			assert_int_equal(err, VM_ENOMEM);
			assert_int_equal(frames_free_count(), k);
			assert_false(pt_is_mapped(pml4, G1 - K4));
			assert_int_equal(pt_count_tables(pml4), 1);
		} else {
			assert_int_equal(err, 0);
			assert_int_equal(frames_free_count(), 0);
			assert_int_equal(pt_unmap(pml4, G1 - K4, 2 * K4), 0);
		}
		for (size_t i = 0; i < n; i++)
			frames_free(hog[i]);
		free(hog);
	}
}

/* Expect no bit 63 anywhere when NX is off, and translate to report the
 * page as executable, as the CPU would. */
static void pt_map_nx_off_no_bit63(void **state)
{
	(void)state;
	pt_set_nx_supported(false);
	assert_int_equal(pt_map(pml4, 0x1000, 0x1000, K4, VM_WRITE), 0);
	assert_int_equal(pt_map(pml4, 0x200000, 0, M2, VM_PAGE_2M), 0);
	assert_int_equal(raw_entry(0x1000, 1) & PTE_NX, 0);
	assert_int_equal(raw_entry(0x200000, 2) & PTE_NX, 0);
	expect_maps(0x1000, 0x1000, VM_WRITE | VM_EXEC);
	pt_set_nx_supported(true);
	assert_int_equal(pt_map(pml4, 0x2000, 0x2000, K4, VM_WRITE), 0);
	assert_int_not_equal(raw_entry(0x2000, 1) & PTE_NX, 0);
	assert_int_equal(pt_unmap(pml4, 0x1000, 2 * K4), 0);
	assert_int_equal(pt_unmap(pml4, 0x200000, M2), 0);
}

/* Expect intermediate entries present+writable with no NX even above a
 * read-only NX leaf, +user only when a user page lives below. */
static void pt_map_intermediate_bits(void **state)
{
	(void)state;
	assert_int_equal(pt_map(pml4, 0x1000, 0x1000, K4, VM_READ), 0);
	for (int l = 4; l >= 2; l--) {
		uint64_t e = raw_entry(0x1000, l);
		assert_int_equal(e & (PTE_P | PTE_W | PTE_U | PTE_NX), PTE_P | PTE_W);
	}
	assert_int_equal(pt_map(pml4, 0x2000, 0x2000, K4, VM_USER), 0);
	assert_int_not_equal(raw_entry(0x2000, 2) & PTE_U, 0);
	expect_maps(0x1000, 0x1000, VM_READ); /* leaf decides: still kernel */
	expect_maps(0x2000, 0x2000, VM_USER);
	assert_int_equal(pt_unmap(pml4, 0x1000, 2 * K4), 0);
}

/* Expect pt_free_space to give back every table of a busy space. */
static void pt_free_space_returns_all(void **state)
{
	(void)state;
	uint64_t other = pt_new_space();
	assert_int_equal(pt_map(other, 0x1000, 0, 64 * K4, 0), 0);
	assert_int_equal(pt_map(other, 0xFFFF800000000000, 0, 4 * M2, VM_PAGE_2M), 0);
	assert_int_equal(pt_map(other, 0x8000000000, 0, G1, VM_PAGE_1G), 0);
	assert_int_equal(pt_count_tables(other), 1 + 3 + 2 + 1);
	pt_free_space(other);
	assert_int_equal(frames_free_count(), free0 - 1);
}

/* pt_for_each_leaf callback: append the leaf to a small array. */
struct leaves {
	struct pt_leaf l[8];
	size_t n;
};

static void collect_leaf(const struct pt_leaf *leaf, void *ctx)
{
	struct leaves *c = ctx;
	assert_true(c->n < 8);
	c->l[c->n++] = *leaf;
}

static void expect_leaf(const struct pt_leaf *l, uint64_t va, uint64_t pa, uint64_t size,
			unsigned flags)
{
	assert_int_equal(l->va, va);
	assert_int_equal(l->pa, pa);
	assert_int_equal(l->size, size);
	assert_int_equal(l->flags, flags);
}

/*
 * Expect every leaf, of every size and in both halves, reported once in
 * address order, upper-half addresses sign-extended, with the flags
 * translate gives; an empty space reports nothing.
 */
static void pt_for_each_leaf_every_size(void **state)
{
	(void)state;
	struct leaves c = { .n = 0 };
	pt_for_each_leaf(pml4, collect_leaf, &c);
	assert_int_equal(c.n, 0);
	assert_int_equal(pt_map(pml4, 0xFFFF800040000000, 0, G1, VM_WRITE | VM_PAGE_1G), 0);
	assert_int_equal(pt_map(pml4, 0x1000, 0x5000, 2 * K4, VM_WRITE | VM_EXEC), 0);
	assert_int_equal(pt_map(pml4, 0x40200000, 0x600000, M2, VM_USER | VM_PAGE_2M), 0);
	pt_for_each_leaf(pml4, collect_leaf, &c);
	assert_int_equal(c.n, 4);
	expect_leaf(&c.l[0], 0x1000, 0x5000, K4, VM_WRITE | VM_EXEC);
	expect_leaf(&c.l[1], 0x2000, 0x6000, K4, VM_WRITE | VM_EXEC);
	expect_leaf(&c.l[2], 0x40200000, 0x600000, M2, VM_USER | VM_PAGE_2M);
	expect_leaf(&c.l[3], 0xFFFF800040000000, 0, G1, VM_WRITE | VM_PAGE_1G);
	assert_int_equal(pt_unmap(pml4, 0x1000, 2 * K4), 0);
	assert_int_equal(pt_unmap(pml4, 0x40200000, M2), 0);
	assert_int_equal(pt_unmap(pml4, 0xFFFF800040000000, G1), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(pt_map_4k_translate),
		T(pt_map_2m_translate),
		T(pt_map_1g_translate),
		T(pt_map_flags_roundtrip),
		T(pt_map_memory_types_pat_index),
		T(pt_map_table_reuse),
		T(pt_map_misaligned),
		T(pt_map_noncanonical),
		T(pt_map_bad_args),
		T(pt_map_overlap_every_level),
		T(pt_map_overlap_partial_undone),
		T(pt_unmap_part_of_large_page),
		T(pt_unmap_unmapped),
		T(pt_unmap_mixed_sizes),
		T(pt_unmap_gather_holds_tables),
		T(pt_map_oom_rolls_back),
		T(pt_map_nx_off_no_bit63),
		T(pt_map_intermediate_bits),
		T(pt_free_space_returns_all),
		T(pt_for_each_leaf_every_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
