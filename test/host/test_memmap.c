/*
 * test_memmap.c - host tests for paging/memmap.c: walking and summarizing
 * UEFI memory maps of every descriptor size, in any order.
 */
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "fixtures/fixtures.h"
#include "memmap.h"
#include "vmerr.h"

#define RT EFI_MEM_ATTR_RUNTIME
#define GiB (1ull << 30)

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

static void summarize_rows(const struct fix_row *rows, size_t n, size_t desc_size,
			   struct memmap_summary *s)
{
	struct boot_info bi;
	map_build(&bi, rows, n, desc_size);
	assert_int_equal(memmap_summarize(&bi, s), 0);
	map_free(&bi);
}

static void check_small(const struct memmap_summary *s)
{
	assert_int_equal(s->entries, ROWS(small));
	assert_int_equal(s->pages[EFI_MEM_CONVENTIONAL], 0x9F + 0x700 + 0x40000);
	assert_int_equal(s->conventional_bytes, (0x9Full + 0x700 + 0x40000) * 4096);
	assert_int_equal(s->pages[EFI_MEM_MMIO], 0x500);
	assert_int_equal(s->runtime_entries, 2);
	assert_int_equal(s->highest_end, 0x140000000ull);
}

/* Expect a 40-byte-descriptor map (the bare UEFI struct) to be read right. */
static void memmap_summarize_desc40(void **state)
{
	(void)state;
	struct memmap_summary s;
	summarize_rows(small, ROWS(small), 40, &s);
	check_small(&s);
}

/* Expect edk2's 48-byte descriptors to be stepped over, padding ignored. */
static void memmap_summarize_desc48(void **state)
{
	(void)state;
	struct memmap_summary s;
	summarize_rows(small, ROWS(small), 48, &s);
	check_small(&s);
}

/* Expect a larger future descriptor (64 bytes) to work the same. */
static void memmap_summarize_desc64(void **state)
{
	(void)state;
	struct memmap_summary s;
	summarize_rows(small, ROWS(small), 64, &s);
	check_small(&s);
}

/* Expect the same summary when the map comes in reverse order. */
static void memmap_summarize_unsorted(void **state)
{
	(void)state;
	struct fix_row rev[ROWS(small)];
	struct memmap_summary s;
	for (size_t i = 0; i < ROWS(small); i++)
		rev[i] = small[ROWS(small) - 1 - i];
	summarize_rows(rev, ROWS(rev), 48, &s);
	check_small(&s);
}

/* Expect zero-length entries counted but not moving highest_end. */
static void memmap_summarize_zero_length(void **state)
{
	(void)state;
	const struct fix_row rows[] = {
		{ EFI_MEM_CONVENTIONAL, 0x1000, 0x10, 0xF },
		{ EFI_MEM_CONVENTIONAL, 0x700000000000, 0, 0xF },
		{ EFI_MEM_LOADER_DATA, 0x20000, 0, 0xF },
	};
	struct memmap_summary s;
	summarize_rows(rows, ROWS(rows), 48, &s);
	assert_int_equal(s.entries, 3);
	assert_int_equal(s.empty_entries, 2);
	assert_int_equal(s.highest_end, 0x11000);
	assert_int_equal(s.conventional_bytes, 0x10000);
}

/* Expect RAM above 4 GiB to set highest_end; MMIO, MMIO port and
 * Reserved above it not to (AMD reports its HyperTransport hole at
 * 0xFD_0000_0000 as Reserved: it must not size anything at 1 TiB). */
static void memmap_summarize_above_4g(void **state)
{
	(void)state;
	const struct fix_row rows[] = {
		{ EFI_MEM_CONVENTIONAL, 0x1000, 0x10, 0xF },
		{ EFI_MEM_CONVENTIONAL, 4 * GiB, 0x100000, 0xF },      /* 4..8 GiB */
		{ EFI_MEM_MMIO_PORT, 0x10000000000, 0x10, 0x1 },
		{ EFI_MEM_RESERVED, 0x1000000000, 0x10, 0x0 },         /* 64 GiB */
		{ EFI_MEM_RESERVED, 0xFD00000000, 0x300000, 0x0 },     /* HT hole */
		{ EFI_MEM_UNUSABLE, 0x1100000000, 0x10, 0xF },
	};
	struct memmap_summary s;
	summarize_rows(rows, ROWS(rows), 48, &s);
	assert_int_equal(s.highest_end, 8 * GiB);
	assert_int_equal(s.pages[EFI_MEM_MMIO_PORT], 0x10);
	assert_int_equal(s.conventional_bytes, 0x10000ull + 4 * GiB);
}

/* Expect exactly the ten RAM types to count as RAM. */
static void memmap_is_ram_types(void **state)
{
	(void)state;
	const uint32_t ram[] = {
		EFI_MEM_CONVENTIONAL, EFI_MEM_LOADER_CODE, EFI_MEM_LOADER_DATA,
		EFI_MEM_BOOT_CODE, EFI_MEM_BOOT_DATA, EFI_MEM_RUNTIME_CODE,
		EFI_MEM_RUNTIME_DATA, EFI_MEM_ACPI_RECLAIM, EFI_MEM_ACPI_NVS,
		EFI_MEM_PERSISTENT,
	};
	size_t n = 0;
	for (uint32_t t = 0; t < EFI_MEM_NTYPES + 4; t++)
		n += memmap_is_ram(t);
	assert_int_equal(n, ROWS(ram));
	for (size_t i = 0; i < ROWS(ram); i++)
		assert_true(memmap_is_ram(ram[i]));
	assert_false(memmap_is_ram(EFI_MEM_RESERVED));
	assert_false(memmap_is_ram(EFI_MEM_MMIO));
	assert_false(memmap_is_ram(EFI_MEM_UNACCEPTED));
	assert_false(memmap_is_ram(0x80000001u));
}

/*
 * Expect RAM descriptors given in any order merged when they touch or
 * overlap, and split by anything that is not RAM; empty ones ignored:
 *
 *   0x1000        0x5000  0x6000     0x9000   0xA000  0xB000
 *   |conv|ldr|boot|  rsv  |nvs  conv |  mmio  | conv |        -> 3 ranges
 *                          [overlap]
 */
static void memmap_ram_ranges_merge(void **state)
{
	(void)state;
	const struct fix_row rows[] = {
		{ EFI_MEM_CONVENTIONAL, 0xA000, 1, 0xF },
		{ EFI_MEM_BOOT_DATA, 0x3000, 2, 0xF },
		{ EFI_MEM_MMIO, 0x9000, 1, 0x1 },
		{ EFI_MEM_CONVENTIONAL, 0x7000, 2, 0xF },
		{ EFI_MEM_LOADER_DATA, 0x2000, 1, 0xF },
		{ EFI_MEM_CONVENTIONAL, 0x50000, 0, 0xF },
		{ EFI_MEM_RESERVED, 0x5000, 1, 0 },
		{ EFI_MEM_ACPI_NVS, 0x6000, 2, 0xF },     /* overlaps the next-up conv */
		{ EFI_MEM_CONVENTIONAL, 0x1000, 1, 0xF },
	};
	struct boot_info bi;
	struct memmap_range r[4];
	size_t n;
	map_build(&bi, rows, ROWS(rows), 48);
	assert_int_equal(memmap_ram_ranges(&bi, r, 4, &n), 0);
	map_free(&bi);
	assert_int_equal(n, 3);
	assert_int_equal(r[0].start, 0x1000);
	assert_int_equal(r[0].end, 0x5000);
	assert_int_equal(r[1].start, 0x6000);
	assert_int_equal(r[1].end, 0x9000);
	assert_int_equal(r[2].start, 0xA000);
	assert_int_equal(r[2].end, 0xB000);
}

/* Expect more pieces than fit to give VM_ENOMEM with the first max
 * filled in; a bad map VM_EINVAL with none. */
static void memmap_ram_ranges_full(void **state)
{
	(void)state;
	const struct fix_row rows[] = {
		{ EFI_MEM_CONVENTIONAL, 0x5000, 1, 0xF },
		{ EFI_MEM_CONVENTIONAL, 0x1000, 1, 0xF },
		{ EFI_MEM_CONVENTIONAL, 0x3000, 1, 0xF },
	};
	struct boot_info bi;
	struct memmap_range r[2];
	size_t n;
	map_build(&bi, rows, ROWS(rows), 48);
	assert_int_equal(memmap_ram_ranges(&bi, r, 2, &n), VM_ENOMEM);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].start, 0x1000);
	assert_int_equal(r[1].start, 0x3000);
	bi.desc_size = 44;
	assert_int_equal(memmap_ram_ranges(&bi, r, 2, &n), VM_EINVAL);
	assert_int_equal(n, 0);
	map_free(&bi);
}

/* Is every byte of [lo, hi) inside some RAM row?  (Walks from row to
 * row; touching rows of any RAM type continue each other.) */
static bool rows_cover(const struct fix_row *rows, size_t n, uint64_t lo, uint64_t hi)
{
	for (bool moved = true; lo < hi && moved;) {
		moved = false;
		for (size_t i = 0; i < n; i++) {
			uint64_t end = rows[i].start + rows[i].pages * 4096;
			if (memmap_is_ram(rows[i].type) && rows[i].start <= lo && lo < end) {
				lo = end;
				moved = true;
			}
		}
	}
	return lo >= hi;
}

/* Expect each captured map's RAM as a few sorted ranges, separated by
 * real gaps, each wholly RAM, adding up to every RAM page of the map. */
static void memmap_ram_ranges_fixtures(void **state)
{
	(void)state;
	for (size_t f = 0; f < ROWS(fixtures); f++) {
		const struct fix_row *rows = fixtures[f].rows;
		struct boot_info bi;
		struct memmap_range r[16];
		size_t n;
		uint64_t ram = 0, got = 0;
		map_build(&bi, rows, fixtures[f].n, 48);
		assert_int_equal(memmap_ram_ranges(&bi, r, 16, &n), 0);
		map_free(&bi);
		assert_true(n >= 2 && n <= 6);
		for (size_t i = 0; i < n; i++) {
			assert_true(r[i].start < r[i].end);
			if (i > 0)
				assert_true(r[i - 1].end < r[i].start);
			assert_true(rows_cover(rows, fixtures[f].n, r[i].start, r[i].end));
			got += r[i].end - r[i].start;
		}
		for (size_t i = 0; i < fixtures[f].n; i++)
			if (memmap_is_ram(rows[i].type))
				ram += rows[i].pages * 4096;
		assert_int_equal(got, ram); /* captured maps never overlap */
	}
}

/* Expect OEM-defined types counted in other_pages and named as such. */
static void memmap_summarize_oem_type(void **state)
{
	(void)state;
	const struct fix_row rows[] = {
		{ 0x80000001u, 0x1000, 0x10, 0xF },
		{ EFI_MEM_CONVENTIONAL, 0x100000, 0x10, 0xF },
	};
	struct memmap_summary s;
	summarize_rows(rows, ROWS(rows), 48, &s);
	assert_int_equal(s.other_pages, 0x10);
	assert_string_equal(memmap_type_name(0x80000001u), "OEM/OS-defined");
	assert_string_equal(memmap_type_name(EFI_MEM_CONVENTIONAL), "Conventional");
	for (uint32_t t = 0; t < EFI_MEM_NTYPES; t++)
		assert_non_null(memmap_type_name(t));
}

static int check_rows_with(size_t desc_size, uint64_t mmap_size)
{
	struct boot_info bi;
	map_build(&bi, small, ROWS(small), desc_size);
	bi.mmap_size = mmap_size;
	int err = memmap_check(&bi);
	map_free(&bi);
	return err;
}

/* Expect desc_size below 40 rejected. */
static void memmap_check_desc_size_too_small(void **state)
{
	(void)state;
	assert_int_equal(check_rows_with(32, 32 * ROWS(small)), VM_EINVAL);
	assert_int_equal(check_rows_with(0, 0), VM_EINVAL);
}

/* Expect a desc_size that misaligns the 64-bit fields rejected. */
static void memmap_check_desc_size_unaligned(void **state)
{
	(void)state;
	assert_int_equal(check_rows_with(44, 44 * ROWS(small)), VM_EINVAL);
}

/* Expect a map size that is not a whole number of descriptors rejected. */
static void memmap_check_size_not_multiple(void **state)
{
	(void)state;
	assert_int_equal(check_rows_with(48, 48 * ROWS(small) - 8), VM_EINVAL);
	assert_int_equal(check_rows_with(48, 0), VM_EINVAL);
	assert_int_equal(check_rows_with(48, 48 * ROWS(small)), 0);
}

/* Expect NULL info, NULL buffer, misaligned or wrapping entries rejected,
 * and the summary zeroed on error. */
static void memmap_check_nonsense_rejected(void **state)
{
	(void)state;
	struct boot_info bi;
	struct memmap_summary s;
	assert_int_equal(memmap_check(NULL), VM_EINVAL);

	const struct fix_row wrap[] = { { EFI_MEM_CONVENTIONAL, 0xFFFFFFFFFFFFF000ull, 2, 0 } };
	map_build(&bi, wrap, 1, 48);
	assert_int_equal(memmap_check(&bi), VM_EINVAL);
	map_free(&bi);

	const struct fix_row odd[] = { { EFI_MEM_CONVENTIONAL, 0x1800, 2, 0 } };
	map_build(&bi, odd, 1, 48);
	memset(&s, 0x5A, sizeof(s));
	assert_int_equal(memmap_summarize(&bi, &s), VM_EINVAL);
	assert_int_equal(s.entries, 0);
	void *buf = bi.mmap;
	bi.mmap = NULL;
	assert_int_equal(memmap_check(&bi), VM_EINVAL);
	bi.mmap = buf;
	map_free(&bi);
}

/* Expect every fixture to pass the check and add up: pages per type sum
 * to the pages of all entries; highest_end is the end of the highest RAM
 * row (on q35 the ECAM and flash above it do not count). */
static void memmap_summarize_fixtures(void **state)
{
	(void)state;
	for (size_t f = 0; f < ROWS(fixtures); f++) {
		struct memmap_summary s;
		uint64_t all = 0, conv = 0, ram_end = 0;
		summarize_rows(fixtures[f].rows, fixtures[f].n, 48, &s);
		for (size_t i = 0; i < fixtures[f].n; i++) {
			const struct fix_row *r = &fixtures[f].rows[i];
			all += r->pages;
			if (r->type == EFI_MEM_CONVENTIONAL)
				conv += r->pages;
			if (memmap_is_ram(r->type) && r->start + r->pages * 4096 > ram_end)
				ram_end = r->start + r->pages * 4096;
		}
		uint64_t sum = s.other_pages;
		for (int t = 0; t < EFI_MEM_NTYPES; t++)
			sum += s.pages[t];
		assert_int_equal(sum, all);
		assert_int_equal(s.conventional_bytes, conv * 4096);
		assert_int_equal(s.highest_end, ram_end);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(memmap_summarize_desc40),
		cmocka_unit_test(memmap_summarize_desc48),
		cmocka_unit_test(memmap_summarize_desc64),
		cmocka_unit_test(memmap_summarize_unsorted),
		cmocka_unit_test(memmap_summarize_zero_length),
		cmocka_unit_test(memmap_summarize_above_4g),
		cmocka_unit_test(memmap_summarize_oem_type),
		cmocka_unit_test(memmap_is_ram_types),
		cmocka_unit_test(memmap_ram_ranges_merge),
		cmocka_unit_test(memmap_ram_ranges_full),
		cmocka_unit_test(memmap_ram_ranges_fixtures),
		cmocka_unit_test(memmap_check_desc_size_too_small),
		cmocka_unit_test(memmap_check_desc_size_unaligned),
		cmocka_unit_test(memmap_check_size_not_multiple),
		cmocka_unit_test(memmap_check_nonsense_rejected),
		cmocka_unit_test(memmap_summarize_fixtures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
