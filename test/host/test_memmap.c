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

#define RT EFI_MEM_ATTR_RUNTIME

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
