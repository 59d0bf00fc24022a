/*
 * test_memmap.c - host tests for paging/memmap.c: checking a raw
 * descriptor table.  What is read from it (the memory list) is
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

/* Expect NULL info, NULL buffer, misaligned or wrapping entries rejected. */
static void memmap_check_nonsense_rejected(void **state)
{
	(void)state;
	struct boot_info bi;
	assert_int_equal(memmap_check(NULL), VM_EINVAL);

	const struct fix_row wrap[] = { { EFI_MEM_CONVENTIONAL, 0xFFFFFFFFFFFFF000ull, 2, 0 } };
	map_build(&bi, wrap, 1, 48);
	assert_int_equal(memmap_check(&bi), VM_EINVAL);
	map_free(&bi);

	const struct fix_row odd[] = { { EFI_MEM_CONVENTIONAL, 0x1800, 2, 0 } };
	map_build(&bi, odd, 1, 48);
	assert_int_equal(memmap_check(&bi), VM_EINVAL);
	void *buf = bi.mmap;
	bi.mmap = NULL;
	assert_int_equal(memmap_check(&bi), VM_EINVAL);
	bi.mmap = buf;
	map_free(&bi);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(memmap_type_names),
		cmocka_unit_test(memmap_check_desc_size_too_small),
		cmocka_unit_test(memmap_check_desc_size_unaligned),
		cmocka_unit_test(memmap_check_size_not_multiple),
		cmocka_unit_test(memmap_check_nonsense_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
