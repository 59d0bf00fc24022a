/*
 * test_heap_diff.c - the fast heap against the reference list heap.
 *
 * heap/heap.c promises the policy of test/reference/list_heap.c exactly:
 * the lowest-addressed hole that fits, with the same alignment rule and
 * the same merging.  Each test runs long random programs through both
 * heaps with test/reference/heap_pair.c, which checks after every call
 * that they chose the same address, returned the same result and report
 * the same heap_stats, and that both pass heap_check.  A disagreement
 * aborts with the line of the check that failed.  The libFuzzer target
 * test/fuzz/fuzz_heap_diff.c runs the same engine on the fuzzer's input.
 */
#include <setjmp.h> /* cmocka.h needs these four first */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "heap_pair.h"

#define PROGRAM 4096 /* random bytes per program, refilled as it runs */

static uint64_t next(uint64_t *rng)
{
	*rng ^= *rng << 13;
	*rng ^= *rng >> 7;
	*rng ^= *rng << 17;
	return *rng;
}

/* Run `steps` calls of random programs on a fresh pair, seed by seed,
 * with junk in the late header before every call if scramble. */
static void run_pairs(size_t off, size_t size, size_t room, int seeds, int steps, int scramble)
{
	static uint8_t bytes[PROGRAM];

	for (int seed = 1; seed <= seeds; seed++) {
		uint64_t rng = (uint64_t)seed * 0x9E3779B97F4A7C15ull + 1;
		struct pair *p = pair_new(off, size, room);
		struct program prog = { bytes, bytes };

		assert_non_null(p);
		if (scramble)
			pair_scramble(p);
		for (int i = 0; i < steps; i++) {
			if (prog.end - prog.at < 16) { /* refill */
				for (size_t j = 0; j < PROGRAM; j++)
					bytes[j] = (uint8_t)next(&rng);
				prog = (struct program){ bytes, bytes + PROGRAM };
			}
			pair_step(p, &prog);
		}
		pair_drain(p);
		pair_free(p);
	}
}

static void run(size_t off, size_t size, size_t room, int seeds, int steps)
{
	run_pairs(off, size, room, seeds, steps, 0);
}

/* Expect the same choices in a heap that is often full (64 KiB). */
static void heap_diff_small_heap_often_full(void **state)
{
	(void)state;
	run(0, 64 << 10, 1 << 20, 20, 3000);
}

/* Expect the same choices with many holes (1 MiB, hundreds of live blocks). */
static void heap_diff_many_holes(void **state)
{
	(void)state;
	run(0, 1 << 20, 4 << 20, 4, 20000);
}

/* Expect the same choices in a heap past 1 MiB: a five-level tree, whose
 * top levels only this run reaches (it went red with index_raise
 * stopping below level 4), and frees that prefetch their neighbours'
 * headers from the bitmap (heap.c), run under ASan. */
static void heap_diff_large_heap(void **state)
{
	(void)state;
	run(0, 6 << 20, 8 << 20, 2, 20000);
}

/* Expect the same choices from a region that starts and ends unaligned. */
static void heap_diff_unaligned_region(void **state)
{
	(void)state;
	run(7, (200 << 10) + 9, 2 << 20, 10, 4000);
}

/* Expect the same choices in regions barely big enough to start. */
static void heap_diff_tiny_regions(void **state)
{
	(void)state;
	for (size_t size = 128; size < 500; size += 37)
		run(size % 16, size, 64 << 10, 3, 500);
}

/* Expect the same choices with junk in the late header before every
 * call (heap_pair.h: pair_scramble), small heaps and one past 1 MiB: a
 * call that read the header before writing it would see the junk (a
 * mutant without heap_free's first write_late fails here at once). */
static void heap_diff_late_header_scrambled(void **state)
{
	(void)state;
	run_pairs(0, 64 << 10, 1 << 20, 10, 3000, 1);
	run_pairs(0, 2 << 20, 4 << 20, 2, 20000, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(heap_diff_small_heap_often_full),
		cmocka_unit_test(heap_diff_many_holes),
		cmocka_unit_test(heap_diff_large_heap),
		cmocka_unit_test(heap_diff_unaligned_region),
		cmocka_unit_test(heap_diff_tiny_regions),
		cmocka_unit_test(heap_diff_late_header_scrambled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
