/*
 * test_memblock.c - host tests for paging/memblock.c: the memory map read
 * once into a sorted, merged list of typed ranges, built in place.
 * Maps of every descriptor size, in any order, with overlaps, the
 * captured OVMF maps, a 900+-descriptor fragmented map, and the limit of
 * the buffer's spare room.
 */
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fixtures/fixtures.h"
#include "memblock.h"
#include "memmap.h"
#include "vmerr.h"

#define RT EFI_MEM_ATTR_RUNTIME
#define GiB (1ull << 30)
#define PG 4096ull

static struct boot_info bi;
static struct memblock mb;

/* Build the list of rows (desc_size apart) in bi's buffer; returns
 * memblock_build's result.  The teardown frees the buffer. */
static int list_of(const struct fix_row *rows, size_t n, size_t desc_size)
{
	map_free(&bi);
	map_build(&bi, rows, n, desc_size);
	return memblock_build(&bi, &mb);
}

static int teardown(void **state)
{
	(void)state;
	map_free(&bi);
	return 0;
}

/* Expect row i to be [start, end) of this type. */
static void expect_row(size_t i, uint64_t start, uint64_t end, uint32_t type)
{
	assert_true(i < mb.n);
	assert_int_equal(mb.r[i].start, start);
	assert_int_equal(mb.r[i].end, end);
	assert_int_equal(mb.r[i].type, type);
	assert_int_equal(mb.r[i].kind, memblock_kind_of(type, mb.r[i].attribute));
}

/* Expect the list's invariants: rows non-empty, 4 KiB aligned, sorted,
 * disjoint, and no two touching rows that merging should have joined. */
static void expect_well_formed(void)
{
	for (size_t i = 0; i < mb.n; i++) {
		const struct memblock_range *r = &mb.r[i];
		assert_true(r->start < r->end);
		assert_int_equal((r->start | r->end) % PG, 0);
		assert_int_equal(r->attribute & ~MEMBLOCK_ATTRS, 0);
		if (i == 0)
			continue;
		const struct memblock_range *p = &mb.r[i - 1];
		assert_true(p->end <= r->start);
		assert_false(p->end == r->start && p->type == r->type &&
			     p->attribute == r->attribute);
	}
}

/* Is every page of [lo, hi) inside a row of this type? */
static bool list_covers(uint64_t lo, uint64_t hi, uint32_t type)
{
	for (size_t i = 0; i < mb.n && lo < hi; i++)
		if (mb.r[i].start <= lo && lo < mb.r[i].end && mb.r[i].type == type)
			lo = mb.r[i].end;
	return lo >= hi;
}

/* A small q35-like map: low RAM, a hole, RAM above 4 GiB, MMIO high up. */
static const struct fix_row small[] = {
	{ EFI_MEM_BOOT_CODE, 0x0, 1, 0xF },
	{ EFI_MEM_CONVENTIONAL, 0x1000, 0x9F, 0xF },
	{ EFI_MEM_CONVENTIONAL, 0x100000, 0x700, 0xF },
	{ EFI_MEM_RUNTIME_CODE, 0x800000, 0x10, 0xF | RT },
	{ EFI_MEM_MMIO, 0xFFC00000, 0x400, 0x1 | RT },
	{ EFI_MEM_CONVENTIONAL, 0x100000000, 0x40000, 0xF }, /* 1 GiB above 4G */
	{ EFI_MEM_MMIO, 0x8000000000, 0x100, 0x1 },          /* a 64-bit BAR */
};

static void check_small(void)
{
	struct memblock_summary s;

	assert_int_equal(mb.descs, ROWS(small));
	assert_int_equal(mb.n, ROWS(small));
	expect_row(0, 0, 0x1000, EFI_MEM_BOOT_CODE);
	expect_row(1, 0x1000, 0xA0000, EFI_MEM_CONVENTIONAL);
	expect_row(5, 0x100000000, 0x140000000, EFI_MEM_CONVENTIONAL);
	expect_row(6, 0x8000000000, 0x8000100000, EFI_MEM_MMIO);
	memblock_summarize(&mb, &s);
	assert_int_equal(s.pages[EFI_MEM_CONVENTIONAL], 0x9F + 0x700 + 0x40000);
	assert_int_equal(s.pages[EFI_MEM_MMIO], 0x500);
	assert_int_equal(s.runtime_ranges, 2);
	assert_int_equal(s.ram_end, 0x140000000ull);
	expect_well_formed();
}

/* Expect the same list from 40-byte descriptors (the bare UEFI struct),
 * edk2's 48 (padding ignored) and a larger future size (64). */
static void memblock_desc_sizes(void **state)
{
	(void)state;
	const size_t sizes[] = { 40, 48, 64 };
	for (size_t i = 0; i < ROWS(sizes); i++) {
		assert_int_equal(list_of(small, ROWS(small), sizes[i]), 0);
		check_small();
	}
}

/* Expect the same list when the map comes in reverse order. */
static void memblock_sorts_unsorted(void **state)
{
	(void)state;
	struct fix_row rev[ROWS(small)];
	for (size_t i = 0; i < ROWS(small); i++)
		rev[i] = small[ROWS(small) - 1 - i];
	assert_int_equal(list_of(rev, ROWS(rev), 48), 0);
	check_small();
}

/* Expect zero-length entries counted as descriptors, never as rows. */
static void memblock_drops_zero_length(void **state)
{
	(void)state;
	const struct fix_row rows[] = {
		{ EFI_MEM_CONVENTIONAL, 0x1000, 0x10, 0xF },
		{ EFI_MEM_RESERVED, 0x700000000000, 0, 0 },
		{ EFI_MEM_LOADER_DATA, 0x5000, 0, 0xF },   /* inside the free row */
	};
	assert_int_equal(list_of(rows, ROWS(rows), 48), 0);
	assert_int_equal(mb.descs, 3);
	assert_int_equal(mb.n, 1);
	expect_row(0, 0x1000, 0x11000, EFI_MEM_CONVENTIONAL);
}

/*
 * Expect touching rows merged only with the same type and the same
 * attributes that matter (caching, RUNTIME; XP does not count):
 *
 *   0x1000 conv WB | 0x2000 conv WB|XP | 0x3000 conv UC | 0x4000 loader WB
 *   \_______ one row ________________/   its own row      its own row
 */
static void memblock_merges_same_type_and_attrs(void **state)
{
	(void)state;
	const struct fix_row rows[] = {
		{ EFI_MEM_LOADER_DATA, 0x4000, 1, 0xF },
		{ EFI_MEM_CONVENTIONAL, 0x2000, 1, 0xF | EFI_MEM_ATTR_XP },
		{ EFI_MEM_CONVENTIONAL, 0x3000, 1, EFI_MEM_ATTR_UC },
		{ EFI_MEM_CONVENTIONAL, 0x1000, 1, 0xF },
	};
	assert_int_equal(list_of(rows, ROWS(rows), 48), 0);
	assert_int_equal(mb.n, 3);
	expect_row(0, 0x1000, 0x3000, EFI_MEM_CONVENTIONAL);
	assert_int_equal(mb.r[0].attribute, 0xF);
	expect_row(1, 0x3000, 0x4000, EFI_MEM_CONVENTIONAL);
	expect_row(2, 0x4000, 0x5000, EFI_MEM_LOADER_DATA);
	expect_well_formed();
}

/*
 * Expect the overlap rule for every pair of types: b lies inside a,
 *
 *   a:  0x1000 [==========================) 0x5000
 *   b:            0x2000 [=====) 0x3000
 *
 * and the middle goes to the stronger kind (on a tie of kinds, the
 * larger type); a keeps what lies outside b.  Every page stays claimed
 * once.
 */
static void memblock_overlap_stronger_wins(void **state)
{
	(void)state;
	for (uint32_t ta = 0; ta < EFI_MEM_NTYPES; ta++) {
		for (uint32_t tb = 0; tb < EFI_MEM_NTYPES; tb++) {
			const struct fix_row rows[] = {
				{ tb, 0x2000, 1, 0xF }, { ta, 0x1000, 4, 0xF },
				{ EFI_MEM_RESERVED, 0x100000, 1, 0 }, /* room for the split */
			};
			assert_int_equal(list_of(rows, ROWS(rows), 48), 0);
			expect_well_formed();
			uint32_t ka = memblock_kind_of(ta, 0xF), kb = memblock_kind_of(tb, 0xF);
			bool b_wins = kb > ka || (kb == ka && tb > ta);
			assert_true(list_covers(0x1000, 0x2000, ta));
			assert_true(list_covers(0x2000, 0x3000, b_wins ? tb : ta));
			assert_true(list_covers(0x3000, 0x5000, ta));
			uint64_t pages = 0; /* below the filler: each page once */
			for (size_t i = 0; i < mb.n && mb.r[i].end <= 0x5000; i++)
				pages += memblock_pages(&mb.r[i]);
			assert_int_equal(pages, 4);
		}
	}
}

/*
 * Expect partial overlaps settled too, whatever the map order:
 *
 *   0x1000 conv [=========) 0x4000
 *   0x3000            nvs [=======) 0x6000       nvs wins 0x3000..0x4000
 *   0x5000                  conv [======) 0x8000 nvs wins 0x5000..0x6000
 *   0x7000 loader [=) 0x8000 inside the last conv: the loader wins
 */
static void memblock_overlap_partial(void **state)
{
	(void)state;
	const struct fix_row rows[] = {
		{ EFI_MEM_CONVENTIONAL, 0x5000, 3, 0xF },
		{ EFI_MEM_ACPI_NVS, 0x3000, 3, 0xF },
		{ EFI_MEM_LOADER_DATA, 0x7000, 1, 0xF },
		{ EFI_MEM_CONVENTIONAL, 0x1000, 3, 0xF },
	};
	assert_int_equal(list_of(rows, ROWS(rows), 48), 0);
	assert_int_equal(mb.n, 4);
	expect_row(0, 0x1000, 0x3000, EFI_MEM_CONVENTIONAL);
	expect_row(1, 0x3000, 0x6000, EFI_MEM_ACPI_NVS);
	expect_row(2, 0x6000, 0x7000, EFI_MEM_CONVENTIONAL);
	expect_row(3, 0x7000, 0x8000, EFI_MEM_LOADER_DATA);
}

/* Expect two descriptors of one kind that overlap settled by their
 * contents, never by the order of the map: the larger type wins, then
 * the larger attribute word (a RUNTIME claim beats a plain one). */
static void memblock_overlap_same_kind(void **state)
{
	(void)state;
	struct fix_row rows[] = {
		{ EFI_MEM_BOOT_DATA, 0x2000, 2, 0xF },
		{ EFI_MEM_BOOT_CODE, 0x1000, 2, 0xF },
		{ EFI_MEM_RUNTIME_CODE, 0x10000, 2, 0xF | RT },
		{ EFI_MEM_RUNTIME_DATA, 0x10000, 1, 0xF | RT },
		{ EFI_MEM_CONVENTIONAL, 0x20000, 2, 0xF },
		{ EFI_MEM_CONVENTIONAL, 0x21000, 2, 0xF | RT },
	};
	for (int pass = 0; pass < 2; pass++) {
		assert_int_equal(list_of(rows, ROWS(rows), 48), 0);
		assert_int_equal(mb.n, 6);
		expect_row(0, 0x1000, 0x2000, EFI_MEM_BOOT_CODE);
		expect_row(1, 0x2000, 0x4000, EFI_MEM_BOOT_DATA);
		expect_row(2, 0x10000, 0x11000, EFI_MEM_RUNTIME_DATA);
		expect_row(3, 0x11000, 0x12000, EFI_MEM_RUNTIME_CODE);
		expect_row(4, 0x20000, 0x21000, EFI_MEM_CONVENTIONAL);
		expect_row(5, 0x21000, 0x23000, EFI_MEM_CONVENTIONAL);
		assert_int_equal(mb.r[5].attribute, 0xF | RT);
		for (size_t i = 0; i < ROWS(rows) / 2; i++) { /* the map reversed */
			struct fix_row t = rows[i];
			rows[i] = rows[ROWS(rows) - 1 - i];
			rows[ROWS(rows) - 1 - i] = t;
		}
	}
}

/* Expect exactly the ten RAM types to give RAM kinds, and OEM types
 * to be reserved. */
static void memblock_kind_of_types(void **state)
{
	(void)state;
	const uint32_t ram[] = {
		EFI_MEM_CONVENTIONAL, EFI_MEM_LOADER_CODE, EFI_MEM_LOADER_DATA,
		EFI_MEM_BOOT_CODE, EFI_MEM_BOOT_DATA, EFI_MEM_RUNTIME_CODE,
		EFI_MEM_RUNTIME_DATA, EFI_MEM_ACPI_RECLAIM, EFI_MEM_ACPI_NVS,
		EFI_MEM_PERSISTENT,
	};
	size_t n = 0;
	for (uint32_t t = 0; t < EFI_MEM_NTYPES + 4; t++) {
		struct memblock_range r = { 0, PG, 0, t, memblock_kind_of(t, 0) };
		n += memblock_is_ram(&r);
	}
	assert_int_equal(n, ROWS(ram));
	for (size_t i = 0; i < ROWS(ram); i++)
		assert_true(memblock_kind_of(ram[i], 0) < MEMBLOCK_MMIO);
	assert_int_equal(memblock_kind_of(EFI_MEM_CONVENTIONAL, 0xF), MEMBLOCK_FREE);
	assert_int_equal(memblock_kind_of(EFI_MEM_MMIO_PORT, 0), MEMBLOCK_MMIO);
	assert_int_equal(memblock_kind_of(EFI_MEM_UNACCEPTED, 0), MEMBLOCK_RESERVED);
	assert_int_equal(memblock_kind_of(0x80000001u, 0), MEMBLOCK_RESERVED);
}

/* Expect RAM above 4 GiB to set ram_end; MMIO port and Reserved above
 * it not to (AMD reports its HyperTransport hole at 0xFD_0000_0000 as
 * Reserved: it must not size anything at 1 TiB); OEM types counted in
 * other_pages. */
static void memblock_summary_above_4g(void **state)
{
	(void)state;
	const struct fix_row rows[] = {
		{ EFI_MEM_CONVENTIONAL, 0x1000, 0x10, 0xF },
		{ EFI_MEM_CONVENTIONAL, 4 * GiB, 0x100000, 0xF },      /* 4..8 GiB */
		{ EFI_MEM_MMIO_PORT, 0x10000000000, 0x10, 0x1 },
		{ EFI_MEM_RESERVED, 0x1000000000, 0x10, 0x0 },         /* 64 GiB */
		{ EFI_MEM_RESERVED, 0xFD00000000, 0x300000, 0x0 },     /* HT hole */
		{ EFI_MEM_UNUSABLE, 0x1100000000, 0x10, 0xF },
		{ 0x80000001u, 0x20000000000, 0x10, 0xF },
	};
	struct memblock_summary s;
	assert_int_equal(list_of(rows, ROWS(rows), 48), 0);
	memblock_summarize(&mb, &s);
	assert_int_equal(s.ram_end, 8 * GiB);
	assert_int_equal(s.pages[EFI_MEM_MMIO_PORT], 0x10);
	assert_int_equal(s.pages[EFI_MEM_CONVENTIONAL], 0x10 + 0x100000);
	assert_int_equal(s.other_pages, 0x10);
}

/*
 * Expect a specific-purpose hint never to erase a real claim it
 * overlaps, and real free memory never to win over it:
 *
 *   0x1f0000 [conv SP .......................] 0x230000   loader data wins
 *             0x200000 [loader      ] 0x210000            its part
 *   0x400000 [conv SP ] 0x410000 + runtime data there:    runtime wins
 *   0x500000 [conv SP ] 0x510000 + boot data there:       SP wins (not reclaimed)
 *   0x600000 [conv SP ] 0x610000 + conventional there:    SP wins (not free)
 */
static void memblock_soft_reserved_overlaps(void **state)
{
	(void)state;
	const uint64_t sp = 0xF | EFI_MEM_ATTR_SP;
	const struct fix_row rows[] = {
		{ EFI_MEM_CONVENTIONAL, 0x1f0000, 0x40, sp },
		{ EFI_MEM_LOADER_DATA, 0x200000, 0x10, 0xF },
		{ EFI_MEM_CONVENTIONAL, 0x400000, 0x10, sp },
		{ EFI_MEM_RUNTIME_DATA, 0x400000, 0x10, 0xF | EFI_MEM_ATTR_RUNTIME },
		{ EFI_MEM_CONVENTIONAL, 0x500000, 0x10, sp },
		{ EFI_MEM_BOOT_DATA, 0x500000, 0x10, 0xF },
		{ EFI_MEM_CONVENTIONAL, 0x600000, 0x10, sp },
		{ EFI_MEM_CONVENTIONAL, 0x600000, 0x10, 0xF },
	};
	assert_int_equal(list_of(rows, ROWS(rows), 48), 0);
	assert_int_equal(mb.n, 6);
	expect_row(0, 0x1f0000, 0x200000, EFI_MEM_CONVENTIONAL);
	expect_row(1, 0x200000, 0x210000, EFI_MEM_LOADER_DATA);
	expect_row(2, 0x210000, 0x230000, EFI_MEM_CONVENTIONAL);
	expect_row(3, 0x400000, 0x410000, EFI_MEM_RUNTIME_DATA);
	assert_true(mb.r[3].attribute & EFI_MEM_ATTR_RUNTIME);
	expect_row(4, 0x500000, 0x510000, EFI_MEM_CONVENTIONAL);
	expect_row(5, 0x600000, 0x610000, EFI_MEM_CONVENTIONAL);
	for (size_t i = 0; i < mb.n; i++) {
		bool soft = i != 1 && i != 3;
		assert_int_equal(mb.r[i].kind == MEMBLOCK_SOFT_RESERVED, soft);
		assert_int_equal(memblock_is_ram(&mb.r[i]), !soft);
	}
}

/*
 * Expect specific-purpose memory (EFI_MEM_ATTR_SP) that would be free
 * reserved: a row of its own (not merged with the plain conventional
 * row it touches), not RAM, so neither free nor in the direct map, and
 * counted apart in the summary.  Specific-purpose loader data stays
 * loader data.
 *
 *   0x1000        0x11000         0x21000       0x31000
 *   [conv        ][conv SP       ][bd SP       ][ld SP   ]
 */
static void memblock_soft_reserved(void **state)
{
	(void)state;
	const uint64_t sp = 0xF | EFI_MEM_ATTR_SP;
	const struct fix_row rows[] = {
		{ EFI_MEM_CONVENTIONAL, 0x1000, 0x10, 0xF },
		{ EFI_MEM_CONVENTIONAL, 0x11000, 0x10, sp },
		{ EFI_MEM_BOOT_DATA, 0x21000, 0x10, sp },
		{ EFI_MEM_LOADER_DATA, 0x31000, 0x10, sp },
	};
	struct memblock_summary s;
	assert_int_equal(list_of(rows, ROWS(rows), 48), 0);
	assert_int_equal(mb.n, 4);
	expect_row(1, 0x11000, 0x21000, EFI_MEM_CONVENTIONAL);
	for (size_t i = 1; i < 3; i++) {
		assert_int_equal(mb.r[i].kind, MEMBLOCK_SOFT_RESERVED);
		assert_false(memblock_is_ram(&mb.r[i]) || memblock_is_free_wb(&mb.r[i]));
	}
	assert_int_equal(mb.r[3].kind, MEMBLOCK_LOADER);
	memblock_summarize(&mb, &s);
	assert_int_equal(s.pages[EFI_MEM_CONVENTIONAL], 0x10);
	assert_int_equal(s.pages[EFI_MEM_BOOT_DATA], 0);
	assert_int_equal(s.soft_reserved_pages, 0x20);
}

/*
 * Expect the pieces of write-back RAM joined across types, split by
 * holes, by anything not RAM and by RAM that may not be cached
 * write-back:
 *
 *   0x1000      0x4000 0x5000    0x7000  0x8000   0x9000
 *   |conv|ldr|boot| rsv |nvs|conv| conv UC | conv |        -> 3 pieces
 */
static void memblock_next_ram_pieces(void **state)
{
	(void)state;
	const struct fix_row rows[] = {
		{ EFI_MEM_CONVENTIONAL, 0x8000, 1, 0xF },
		{ EFI_MEM_BOOT_DATA, 0x3000, 1, 0xF },
		{ EFI_MEM_CONVENTIONAL, 0x7000, 1, EFI_MEM_ATTR_UC },
		{ EFI_MEM_CONVENTIONAL, 0x6000, 1, 0xF },
		{ EFI_MEM_LOADER_DATA, 0x2000, 1, 0xF },
		{ EFI_MEM_RESERVED, 0x4000, 1, 0 },
		{ EFI_MEM_ACPI_NVS, 0x5000, 1, 0xF },
		{ EFI_MEM_CONVENTIONAL, 0x1000, 1, 0xF },
	};
	struct memblock_span want[] = { { 0x1000, 0x4000 }, { 0x5000, 0x7000 }, { 0x8000, 0x9000 } };
	struct memblock_span got;
	size_t k = 0;
	assert_int_equal(list_of(rows, ROWS(rows), 48), 0);
	for (size_t i = 0; memblock_next_ram(&mb, &i, &got); k++) {
		assert_true(k < ROWS(want));
		assert_int_equal(got.start, want[k].start);
		assert_int_equal(got.end, want[k].end);
	}
	assert_int_equal(k, ROWS(want));
}

/* Expect each captured OVMF map as a well-formed list in which every
 * descriptor's pages keep their type, and the pages per type add up to
 * the map's (captured maps never overlap). */
static void memblock_fixtures(void **state)
{
	(void)state;
	for (size_t f = 0; f < ROWS(fixtures); f++) {
		const struct fixture *fx = &fixtures[f];
		uint64_t pages[EFI_MEM_NTYPES] = { 0 };
		struct memblock_summary s;
		assert_int_equal(list_of(fx->rows, fx->n, 48), 0);
		expect_well_formed();
		assert_int_equal(mb.descs, fx->n);
		assert_true(mb.n > 0 && mb.n <= fx->n);
		memblock_summarize(&mb, &s);
		for (size_t i = 0; i < fx->n; i++) {
			const struct fix_row *r = &fx->rows[i];
			assert_true(list_covers(r->start, r->start + r->pages * PG, r->type));
			pages[r->type] += r->pages;
		}
		for (int t = 0; t < EFI_MEM_NTYPES; t++)
			assert_int_equal(s.pages[t], pages[t]);
	}
}

/*
 * Expect a map fragmented as the QEMU case frag_holes_400 leaves it,
 * bigger still: 460 one-page Reserved holes, one every second page of a
 * free run, then the run's tail, and our image below; the 922
 * descriptors shuffled.  Expect 922 rows in address order.
 */
static void memblock_fragmented_922(void **state)
{
	(void)state;
	enum { HOLES = 460, N = 2 * HOLES + 2 };
	static struct fix_row rows[N];
	uint64_t base = 16ull << 20;
	size_t n = 0;
	for (size_t i = 0; i < HOLES; i++) {
		rows[n++] = (struct fix_row){ EFI_MEM_CONVENTIONAL, base + 2 * i * PG, 1, 0xF };
		rows[n++] = (struct fix_row){ EFI_MEM_RESERVED, base + (2 * i + 1) * PG, 1, 0 };
	}
	rows[n++] = (struct fix_row){ EFI_MEM_CONVENTIONAL, base + 2 * HOLES * PG, 0x1000, 0xF };
	rows[n++] = (struct fix_row){ EFI_MEM_LOADER_CODE, 1ull << 20, 0x100, 0xF };
	uint32_t seed = 12345;
	for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates with a fixed LCG */
		seed = seed * 1103515245u + 12345u;
		size_t j = (seed >> 8) % (i + 1);
		struct fix_row t = rows[i];
		rows[i] = rows[j];
		rows[j] = t;
	}
	assert_int_equal(list_of(rows, n, 48), 0);
	expect_well_formed();
	assert_int_equal(mb.descs, 922);
	assert_int_equal(mb.n, 922);
	expect_row(0, 1ull << 20, (1ull << 20) + 0x100 * PG, EFI_MEM_LOADER_CODE);
	for (size_t i = 0; i < HOLES; i++) {
		expect_row(1 + 2 * i, base + 2 * i * PG, base + (2 * i + 1) * PG,
			   EFI_MEM_CONVENTIONAL);
		expect_row(2 + 2 * i, base + (2 * i + 1) * PG, base + (2 * i + 2) * PG,
			   EFI_MEM_RESERVED);
	}
	expect_row(921, base + 2 * HOLES * PG, base + (2 * HOLES + 0x1000) * PG,
		   EFI_MEM_CONVENTIONAL);
}

/*
 * Expect the buffer's spare room to be the limit.  One free descriptor
 * with four Reserved pages inside it makes 9 rows out of 5 descriptors.
 * With 3 more descriptors elsewhere: 12 rows, and 8 48-byte descriptors
 * make room for 8 * 48 / 32 = 12: it fits.  With 2 more: 11 rows, room
 * for 7 * 48 / 32 = 10: VM_ENOMEM.
 */
static void memblock_capacity_limit(void **state)
{
	(void)state;
	struct fix_row rows[8] = {
		{ EFI_MEM_CONVENTIONAL, 0x100000, 0x100, 0xF },
		{ EFI_MEM_RESERVED, 0x110000, 1, 0 },
		{ EFI_MEM_RESERVED, 0x120000, 1, 0 },
		{ EFI_MEM_RESERVED, 0x130000, 1, 0 },
		{ EFI_MEM_RESERVED, 0x140000, 1, 0 },
		{ EFI_MEM_LOADER_DATA, 0x1000000, 1, 0xF },
		{ EFI_MEM_BOOT_DATA, 0x2000000, 1, 0xF },
		{ EFI_MEM_RUNTIME_DATA, 0x3000000, 1, 0xF },
	};
	assert_int_equal(list_of(rows, 8, 48), 0);
	assert_int_equal(mb.n, 12);
	expect_well_formed();
	assert_int_equal(list_of(rows, 7, 48), VM_ENOMEM);
}

/* Expect a malformed map (or a misaligned buffer) refused and left as it
 * was; a good one used up: its buffer holds rows, and memmap_check says
 * it is no map any more. */
static void memblock_bad_map_and_used_map(void **state)
{
	(void)state;
	const struct fix_row rows[] = { { EFI_MEM_CONVENTIONAL, 0x1000, 0x10, 0xF } };
	map_build(&bi, rows, 1, 48);
	bi.desc_size = 36;
	assert_int_equal(memblock_build(&bi, &mb), VM_EINVAL);
	assert_int_equal(mb.n, 0);
	assert_int_equal(bi.mmap_size, 48); /* untouched */
	bi.desc_size = 48;
	assert_int_equal(memblock_build(&bi, &mb), 0);
	assert_ptr_equal(mb.r, bi.mmap);
	assert_int_equal(bi.mmap_size, 0);
	assert_int_equal(memmap_check(&bi), VM_EINVAL);
	assert_int_equal(memblock_build(NULL, &mb), VM_EINVAL);

	/* A buffer that is not 8-byte aligned (memmap_check) cannot hold rows. */
	char *odd = malloc(48 + 4);
	map_free(&bi);
	map_build(&bi, rows, 1, 48);
	memcpy(odd + 4, bi.mmap, 48);
	void *mine = bi.mmap;
	bi.mmap = odd + 4;
	assert_int_equal(memblock_build(&bi, &mb), VM_EINVAL);
	bi.mmap = mine;
	free(odd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(memblock_desc_sizes, teardown),
		cmocka_unit_test_teardown(memblock_sorts_unsorted, teardown),
		cmocka_unit_test_teardown(memblock_drops_zero_length, teardown),
		cmocka_unit_test_teardown(memblock_merges_same_type_and_attrs, teardown),
		cmocka_unit_test_teardown(memblock_overlap_stronger_wins, teardown),
		cmocka_unit_test_teardown(memblock_overlap_partial, teardown),
		cmocka_unit_test_teardown(memblock_overlap_same_kind, teardown),
		cmocka_unit_test(memblock_kind_of_types),
		cmocka_unit_test_teardown(memblock_summary_above_4g, teardown),
		cmocka_unit_test_teardown(memblock_soft_reserved, teardown),
		cmocka_unit_test_teardown(memblock_soft_reserved_overlaps, teardown),
		cmocka_unit_test_teardown(memblock_next_ram_pieces, teardown),
		cmocka_unit_test_teardown(memblock_fixtures, teardown),
		cmocka_unit_test_teardown(memblock_fragmented_922, teardown),
		cmocka_unit_test_teardown(memblock_capacity_limit, teardown),
		cmocka_unit_test_teardown(memblock_bad_map_and_used_map, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
