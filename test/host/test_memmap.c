/*
 * test_memmap.c - host tests for paging/memmap.c: checking a raw
 * descriptor table, and what becomes of a bad descriptor in it.  What is read from it (the memory list) is
 * test_memblock.c's.
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

/* The map the checks below cut up: a captured OVMF one (q35, 128 MiB). */
#define MAP fixtures[0].rows
#define MAP_ROWS fixtures[0].n

/* Expect every type named, OEM-defined types as such. */
static void memmap_type_names(void **state)
{
	(void)state;
	assert_string_equal(memmap_type_name(0x80000001u), "OEM/OS-defined");
	assert_string_equal(memmap_type_name(EFI_MEM_CONVENTIONAL), "Conventional");
	for (uint32_t t = 0; t < EFI_MEM_NTYPES; t++)
		assert_non_null(memmap_type_name(t));
}

static int check_rows_with(size_t desc_size, uint64_t mmap_size)
{
	struct boot_info bi;
	map_build(&bi, MAP, MAP_ROWS, desc_size);
	bi.mmap_size = mmap_size;
	int err = memmap_check(&bi);
	map_free(&bi);
	return err;
}

/* Expect desc_size below 40 rejected. */
static void memmap_check_desc_size_too_small(void **state)
{
	(void)state;
	assert_int_equal(check_rows_with(32, 32 * MAP_ROWS), VM_EINVAL);
	assert_int_equal(check_rows_with(0, 0), VM_EINVAL);
}

/* Expect a desc_size that misaligns the 64-bit fields rejected. */
static void memmap_check_desc_size_unaligned(void **state)
{
	(void)state;
	assert_int_equal(check_rows_with(44, 44 * MAP_ROWS), VM_EINVAL);
}

/* Expect a map size that is not a whole number of descriptors rejected. */
static void memmap_check_size_not_multiple(void **state)
{
	(void)state;
	assert_int_equal(check_rows_with(48, 48 * MAP_ROWS - 8), VM_EINVAL);
	assert_int_equal(check_rows_with(48, 0), VM_EINVAL);
	assert_int_equal(check_rows_with(48, 48 * MAP_ROWS), 0);
}

/* Expect NULL info and a NULL buffer rejected. */
static void memmap_check_nonsense_rejected(void **state)
{
	(void)state;
	struct boot_info bi;
	assert_int_equal(memmap_check(NULL), VM_EINVAL);

	const struct fix_row one[] = { { EFI_MEM_CONVENTIONAL, 0x1000, 2, 0 } };
	map_build(&bi, one, 1, 48);
	void *buf = bi.mmap;
	bi.mmap = NULL;
	assert_int_equal(memmap_check(&bi), VM_EINVAL);
	bi.mmap = buf;
	map_free(&bi);
}

/* Expect a misaligned or a wrapping descriptor not to make the map
 * unreadable: memmap_check judges the table, memmap_fit each entry. */
static void memmap_check_bad_descriptors_pass(void **state)
{
	(void)state;
	struct boot_info bi;
	const struct fix_row rows[] = {
		{ EFI_MEM_CONVENTIONAL, 0xFFFFFFFFFFFFF000ull, 2, 0 }, /* wraps */
		{ EFI_MEM_CONVENTIONAL, 0x1800, 2, 0 },                /* misaligned */
	};
	map_build(&bi, rows, 2, 48);
	assert_int_equal(memmap_check(&bi), 0);
	map_free(&bi);
}

/* Expect memmap_fit of a Conventional descriptor (phys, pages) to give
 * fate and [start, end) (0, 0 when dropped). */
static void expect_fit(uint64_t phys, uint64_t pages, bool inward, enum memmap_fate fate,
		       uint64_t start, uint64_t end)
{
	struct efi_mem_desc d = { EFI_MEM_CONVENTIONAL, 0, phys, 0, pages, 0 };
	uint64_t s = 1, e = 1;

	assert_int_equal(memmap_fit(&d, inward, &s, &e), fate);
	assert_int_equal(s, start);
	assert_int_equal(e, end);
}

/* Expect a sound descriptor (and an empty one) taken as it is, either
 * way; the last page below 2^64 is still sound. */
static void memmap_fit_sound(void **state)
{
	(void)state;
	const uint64_t last = 0xFFFFFFFFFFFFE000ull;
	for (int inward = 0; inward < 2; inward++) {
		expect_fit(0x100000, 3, inward, MEMMAP_SOUND, 0x100000, 0x103000);
		expect_fit(last, 1, inward, MEMMAP_SOUND, last, last + 0x1000);
		expect_fit(0x1800, 0, inward, MEMMAP_SOUND, 0x1800, 0x1800);
	}
}

/*
 * Expect a descriptor whose end passes 2^64 dropped, either way: one
 * that wraps, one that ends exactly at 2^64 (its end cannot be written),
 * and absurd page counts (2^52 pages span 2^64 bytes).
 */
static void memmap_fit_wrap_dropped(void **state)
{
	(void)state;
	for (int inward = 0; inward < 2; inward++) {
		expect_fit(0xFFFFFFFFFFFFF000ull, 2, inward, MEMMAP_DROPPED, 0, 0);
		expect_fit(0xFFFFFFFFFFFFF000ull, 1, inward, MEMMAP_DROPPED, 0, 0);
		expect_fit(0, 1ull << 52, inward, MEMMAP_DROPPED, 0, 0);
		expect_fit(0x1000, UINT64_MAX, inward, MEMMAP_DROPPED, 0, 0);
	}
}

/*
 * Expect a misaligned free descriptor rounded inward, to the whole pages
 * inside it, and dropped when not one whole page is inside:
 *
 *     0x1000    0x2000    0x3000    0x4000    0x5000
 *       |    [====|=========|=========|====]    |    3 pages from 0x1800
 *                 [  kept   |  kept   )              2 whole pages inside
 */
static void memmap_fit_misaligned_inward(void **state)
{
	(void)state;
	expect_fit(0x1800, 3, true, MEMMAP_ROUNDED, 0x2000, 0x4000);
	expect_fit(0x1001, 1, true, MEMMAP_DROPPED, 0, 0);
}

/*
 * Expect a misaligned descriptor of any other kind rounded outward, to
 * every page it touches, and dropped when that would end at 2^64.
 */
static void memmap_fit_misaligned_outward(void **state)
{
	(void)state;
	expect_fit(0x1800, 3, false, MEMMAP_ROUNDED, 0x1000, 0x5000);
	expect_fit(0x1001, 1, false, MEMMAP_ROUNDED, 0x1000, 0x3000);
	expect_fit(0xFFFFFFFFFFFFD800ull, 1, false, MEMMAP_ROUNDED, 0xFFFFFFFFFFFFD000ull,
		   0xFFFFFFFFFFFFF000ull);
	expect_fit(0xFFFFFFFFFFFFE800ull, 1, false, MEMMAP_DROPPED, 0, 0);
}

/* Expect memmap_bad_note to count the bad fates and keep the first bad
 * descriptor; a sound one changes nothing. */
static void memmap_bad_note_counts(void **state)
{
	(void)state;
	struct memmap_bad bad = { 0 };
	struct efi_mem_desc a = { EFI_MEM_RESERVED, 0, 0x1800, 0, 3, 0 };
	struct efi_mem_desc b = { EFI_MEM_CONVENTIONAL, 0, 0x7000, 0, 1, 0 };
	memmap_bad_note(&bad, &b, MEMMAP_SOUND);
	assert_int_equal(bad.dropped + bad.rounded, 0);
	memmap_bad_note(&bad, &a, MEMMAP_ROUNDED);
	memmap_bad_note(&bad, &b, MEMMAP_DROPPED);
	memmap_bad_note(&bad, &b, MEMMAP_DROPPED);
	assert_int_equal(bad.rounded, 1);
	assert_int_equal(bad.dropped, 2);
	assert_int_equal(bad.first.type, EFI_MEM_RESERVED);
	assert_int_equal(bad.first.phys_start, 0x1800);
	assert_int_equal(bad.first.num_pages, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(memmap_type_names),
		cmocka_unit_test(memmap_check_desc_size_too_small),
		cmocka_unit_test(memmap_check_desc_size_unaligned),
		cmocka_unit_test(memmap_check_size_not_multiple),
		cmocka_unit_test(memmap_check_nonsense_rejected),
		cmocka_unit_test(memmap_check_bad_descriptors_pass),
		cmocka_unit_test(memmap_fit_sound),
		cmocka_unit_test(memmap_fit_wrap_dropped),
		cmocka_unit_test(memmap_fit_misaligned_inward),
		cmocka_unit_test(memmap_fit_misaligned_outward),
		cmocka_unit_test(memmap_bad_note_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
