/*
 * test_fuzz_regressions.c - one host test per bug the paging fuzzers
 * (test/fuzz/) found, written small enough to read.  The fuzzer's own
 * reproducer stays in test/fuzz/corpus/<target>/regress-*, replayed by
 * `make fuzz-smoke`; this file says in C what went wrong.
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
#include "fixtures/frames_reserve.h"
#include "vmerr.h"

/*
 * fuzz_memmap, regress-reserve-straddle: reserving a range that starts
 * below a fresh range of free frames and reaches into it was refused
 * with VM_EBUSY, though nothing had been handed out.  OVMF's first
 * conventional row starts at 0x1000 (page 0 is boot-services code), so
 * "keep [0, 32 KiB) for the AP trampoline" failed on every boot:
 *
 *   0      0x1000                        0x8000              0xA0000
 *   [ bc  ][ conventional, never used ...                          )
 *   [------ frames_reserve(0, 0x8000) ----)
 *
 * Expect: 0, seven frames fewer, and none of them ever handed out.
 */
static void frames_reserve_straddling_fresh_range(void **state)
{
	static const struct fix_row rows[] = {
		{ EFI_MEM_BOOT_CODE, 0x0, 1, 0xF },
		{ EFI_MEM_CONVENTIONAL, 0x1000, 0x9F, 0xF },
	};
	struct boot_info bi;
	uint64_t pa;

	(void)state;
	sim_phys_init(0x100000);
	map_build(&bi, rows, ROWS(rows), 48);
	assert_int_equal(frames_init(sim_list(&bi)), 0);
	uint64_t total = frames_total();
	assert_int_equal(frames_reserve(0, 0x8000), 0);
	assert_int_equal(frames_total(), total - 7);
	while ((pa = frames_alloc()) != 0)
		assert_true(pa >= 0x8000);
	map_free(&bi);
	sim_phys_fini();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frames_reserve_straddling_fresh_range),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
