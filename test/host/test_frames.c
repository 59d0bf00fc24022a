/*
 * test_frames.c - host tests for paging/frames.c over simulated physical
 * memory: only conventional memory is handed out, never twice, never
 * page 0; free, reuse, runs, reservations, and the fixtures.
 */
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixtures/fixtures.h"
#include "frames.h"
#include "fixtures/frames_reserve.h"
#include "frames_internal.h" /* FRAMES_SPARE_RANGES */
#include "vmerr.h"

#define GiB (1ull << 30)
#define MiB (1ull << 20)

/*
 * Interleaved types, a conventional region holding page 0, two regions
 * above 4 GiB, and a conventional row a reserved row overlaps (a firmware
 * bug: the overlapped part must never be handed out):
 *
 *   0        0xA0000  1M      2M   2M+64K     3M   4G   4G+1M  5G  5G+64K
 *   [conv   ]  ...    [conv  ][bd ][conv (rsv inside)]  [conv ]   [conv ]
 */
static const struct fix_row mixed[] = {
	{ EFI_MEM_CONVENTIONAL, 0x0, 0xA0, 0xF },
	{ EFI_MEM_CONVENTIONAL, 1 * MiB, 0x100, 0xF },
	{ EFI_MEM_BOOT_DATA, 2 * MiB, 0x10, 0xF },
	{ EFI_MEM_CONVENTIONAL, 2 * MiB + 0x10000, 0xF0, 0xF },
	{ EFI_MEM_RESERVED, 2 * MiB + 0x80000, 0x8, 0x0 },
	{ EFI_MEM_LOADER_CODE, 3 * MiB, 0x40, 0xF },
	{ EFI_MEM_CONVENTIONAL, 4 * GiB, 0x100, 0xF },
	{ EFI_MEM_ACPI_NVS, 4 * GiB + MiB, 0x10, 0xF },
	{ EFI_MEM_CONVENTIONAL, 5 * GiB, 0x10, 0xF },
};

static struct boot_info bi;
static const struct fix_row *cur_rows;
static size_t cur_n;

/* Simulate the memory the rows describe and initialise the allocator. */
static void start(const struct fix_row *rows, size_t n)
{
	cur_rows = rows;
	cur_n = n;
	sim_phys_init(rows_ram_end(rows, n) + MiB);
	map_build(&bi, rows, n, 48);
	assert_int_equal(frames_init(sim_list(&bi)), 0);
}

static int teardown(void **state)
{
	(void)state;
	map_free(&bi);
	sim_phys_fini();
	return 0;
}

static int setup_mixed(void **state)
{
	(void)state;
	start(mixed, ROWS(mixed));
	return 0;
}

/* Index of frame pa in a bitmap covering simulated memory. */
static uint64_t fidx(uint64_t pa) { return pa / PAGE_SIZE; }

/*
 * Allocate until frames_alloc returns 0; check each frame is aligned, not
 * page 0, inside a conventional row, not the bitmap, never seen before.
 * Returns the frames in a malloc'd array (count in *n).
 */
static uint64_t *alloc_all(size_t *n)
{
	struct frames_stats st;
	frames_get_stats(&st);
	size_t cap = frames_free_count();
	uint64_t *got = malloc((cap + 1) * sizeof(*got));
	uint8_t *seen = calloc(fidx(sim_size) / 8 + 1, 1);
	size_t k = 0;
	uint64_t pa;

	while ((pa = frames_alloc()) != 0) {
		assert_true(k < cap);
		assert_int_equal(pa % PAGE_SIZE, 0);
		assert_true(in_conventional(cur_rows, cur_n, pa));
		assert_false(pa >= st.meta_pa && pa < st.meta_pa + st.meta_frames * PAGE_SIZE);
		assert_false(seen[fidx(pa) / 8] & (1 << fidx(pa) % 8));
		seen[fidx(pa) / 8] |= 1 << fidx(pa) % 8;
		assert_true(frames_is_allocated(pa));
		got[k++] = pa;
	}
	free(seen);
	*n = k;
	return got;
}

/* Expect total = conventional pages - page 0 - the reserved overlap -
 * bookkeeping (one frame: table rows for the list's 6 free ranges (the
 * reserved row splits one in two) + 2, 1 for the boot-data range's later
 * frames_add, 32 spare, and the bitmap), and free == total after init. */
static void frames_init_counts(void **state)
{
	(void)state;
	struct frames_stats st;
	frames_get_stats(&st);
	uint64_t conv = 0xA0 + 0x100 + 0xF0 + 0x100 + 0x10;
	assert_int_equal(st.table_cap, 6 + 2 + 1 + FRAMES_SPARE_RANGES);
	assert_int_equal(st.meta_frames, 1);
	assert_int_equal(frames_total(), conv - 1 - 8 - st.meta_frames);
	assert_int_equal(frames_free_count(), frames_total());
}

/* Expect every free frame handed out exactly once, all in conventional
 * memory, then 0 forever; the count drops to 0. */
static void frames_alloc_all_unique(void **state)
{
	(void)state;
	size_t n;
	uint64_t total = frames_total();
	uint64_t *got = alloc_all(&n);
	assert_int_equal(n, total);
	assert_int_equal(frames_free_count(), 0);
	assert_int_equal(frames_alloc(), 0);
	assert_int_equal(frames_alloc_contig(1), 0);
	free(got);
}

/* Expect page 0 never handed out though it lies in a conventional row,
 * and nothing from the reserved row inside conventional memory. */
static void frames_alloc_skips_page0_and_overlap(void **state)
{
	(void)state;
	size_t n;
	uint64_t *got = alloc_all(&n);
	for (size_t i = 0; i < n; i++) {
		assert_int_not_equal(got[i], 0);
		assert_false(got[i] >= 2 * MiB + 0x80000 && got[i] < 2 * MiB + 0x88000);
	}
	free(got);
}

/* Expect the regions above 4 GiB handed out too. */
static void frames_alloc_above_4g(void **state)
{
	(void)state;
	size_t n, high = 0;
	struct frames_stats st;
	frames_get_stats(&st);
	uint64_t *got = alloc_all(&n);
	for (size_t i = 0; i < n; i++)
		high += got[i] >= 4 * GiB;
	/* The bitmap frame may have come from the top of the 4 GiB range. */
	assert_int_equal(high, 0x100 + 0x10 - (st.meta_pa >= 4 * GiB));
	free(got);
}

/* Expect a freed frame to come back first (LIFO), counts to follow. */
static void frames_free_realloc(void **state)
{
	(void)state;
	uint64_t a = frames_alloc(), b = frames_alloc();
	uint64_t before = frames_free_count();
	assert_int_equal(frames_free(a), 0);
	assert_int_equal(frames_free(b), 0);
	assert_false(frames_is_allocated(a));
	assert_int_equal(frames_free_count(), before + 2);
	assert_int_equal(frames_alloc(), b);
	assert_int_equal(frames_alloc(), a);
	assert_int_equal(frames_free_count(), before);
}

/* Expect free everything after alloc-all to restore the count, and a
 * second alloc-all to return the same set. */
static void frames_free_all_restores(void **state)
{
	(void)state;
	size_t n, m;
	uint64_t *got = alloc_all(&n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(frames_free(got[i]), 0);
	assert_int_equal(frames_free_count(), frames_total());
	uint64_t *again = alloc_all(&m);
	assert_int_equal(m, n);
	free(got);
	free(again);
}

/* Expect a double free, a never-allocated frame, frame 0, a misaligned
 * address, memory outside conventional ranges and the bitmap refused. */
static void frames_free_bad_rejected(void **state)
{
	(void)state;
	struct frames_stats st;
	frames_get_stats(&st);
	uint64_t a = frames_alloc();
	uint64_t before = frames_free_count();
	assert_int_equal(frames_free(a), 0);
	assert_int_equal(frames_free(a), VM_EEXIST);
	assert_int_equal(frames_free(5 * GiB + 0x8000), VM_EEXIST); /* never handed out */
	assert_int_equal(frames_free(0), VM_EINVAL);
	assert_int_equal(frames_free(a + 8), VM_EINVAL);
	assert_int_equal(frames_free(3 * MiB), VM_EINVAL);           /* loader code */
	assert_int_equal(frames_free(st.meta_pa), VM_EINVAL);
	assert_int_equal(frames_free_count(), before + 1);
}

/* Expect frames_alloc_zeroed to clear what a previous user left. */
static void frames_alloc_zeroed_clears(void **state)
{
	(void)state;
	uint64_t a = frames_alloc();
	memset(phys_to_virt(a), 0xEE, PAGE_SIZE);
	frames_free(a);
	uint64_t b = frames_alloc_zeroed();
	assert_int_equal(b, a);
	const uint8_t *p = phys_to_virt(b);
	for (int i = 0; i < (int)PAGE_SIZE; i++)
		assert_int_equal(p[i], 0);
}

/* Expect a run of n frames contiguous, inside one conventional row, each
 * frame marked allocated; a run larger than any range gives 0. */
static void frames_alloc_contig_run(void **state)
{
	(void)state;
	uint64_t before = frames_free_count();
	uint64_t pa = frames_alloc_contig(0x80);
	assert_int_not_equal(pa, 0);
	for (uint64_t k = 0; k < 0x80; k++) {
		assert_true(in_conventional(mixed, ROWS(mixed), pa + k * PAGE_SIZE));
		assert_true(frames_is_allocated(pa + k * PAGE_SIZE));
	}
	assert_true(in_conventional(mixed, ROWS(mixed), pa) &&
		    in_conventional(mixed, ROWS(mixed), pa + 0x7F * PAGE_SIZE));
	assert_int_equal(frames_free_count(), before - 0x80);
	assert_int_equal(frames_alloc_contig(0x1000), 0);
	assert_int_equal(frames_alloc_contig(0), 0);
	assert_int_equal(frames_free_contig(pa, 0x80), 0);
	assert_int_equal(frames_free_count(), before);
}

/* Expect frames_free_contig to change nothing if one frame is bad. */
static void frames_free_contig_all_or_nothing(void **state)
{
	(void)state;
	uint64_t pa = frames_alloc_contig(4);
	assert_int_equal(frames_free(pa + 2 * PAGE_SIZE), 0);
	uint64_t before = frames_free_count();
	assert_int_equal(frames_free_contig(pa, 4), VM_EEXIST);
	assert_int_equal(frames_free_count(), before);
	assert_true(frames_is_allocated(pa));
}

/* Expect reserved frames never handed out and the totals to drop. */
static void frames_reserve_excludes(void **state)
{
	(void)state;
	uint64_t total = frames_total();
	/* Middle of the 1 MiB row: splits it in two. */
	assert_int_equal(frames_reserve(1 * MiB + 0x10800, 0x2000), 0);
	assert_int_equal(frames_total(), total - 3); /* rounded out: 3 frames */
	size_t n;
	uint64_t *got = alloc_all(&n);
	for (size_t i = 0; i < n; i++)
		assert_false(got[i] >= 1 * MiB + 0x10000 && got[i] < 1 * MiB + 0x13000);
	assert_int_equal(n, total - 3);
	free(got);
}

/* Expect reserving frames already handed out refused, nothing changed;
 * a size of 0 refused; memory that is not free ignored. */
static void frames_reserve_busy(void **state)
{
	(void)state;
	uint64_t a = frames_alloc();
	uint64_t total = frames_total();
	assert_int_equal(frames_reserve(a, PAGE_SIZE), VM_EBUSY);
	assert_int_equal(frames_reserve(a, 0), VM_EINVAL);
	assert_int_equal(frames_total(), total);
	assert_int_equal(frames_reserve(3 * MiB, 0x40000), 0); /* loader code */
	assert_int_equal(frames_total(), total);
}

/*
 * A fragmented map of n free ranges: n one-page conventional rows, each
 * followed by a one-page reserved hole, in scrambled order, and (when
 * big_pages) one larger conventional row at the end:
 *
 *   64K  68K  72K  76K        64K+8n
 *   [c ][r ][c ][r ] ...      [c .... big_pages ....]
 */
static struct fix_row *fragmented(size_t n, uint64_t big_pages, size_t *rows)
{
	struct fix_row *r = calloc(2 * n + 1, sizeof(*r));
	for (size_t i = 0; i < n; i++) {
		size_t k = (i * 7919) % n; /* 7919 is prime: a permutation when n is not a multiple */
		uint64_t at = 0x10000 + 2 * k * PAGE_SIZE;
		r[2 * i] = (struct fix_row){ EFI_MEM_CONVENTIONAL, at, 1, 0xF };
		r[2 * i + 1] = (struct fix_row){ EFI_MEM_RESERVED, at + PAGE_SIZE, 1, 0 };
	}
	*rows = 2 * n;
	if (big_pages)
		r[(*rows)++] = (struct fix_row){ EFI_MEM_CONVENTIONAL, 0x10000 + 2 * n * PAGE_SIZE,
						 big_pages, 0xF };
	return r;
}

/*
 * Expect a map of 5000 separate free ranges (20 times the old fixed
 * table) managed whole: the table sized from the map, every conventional
 * frame but the bookkeeping's counted, and every one of them handed out
 * exactly once.
 */
static void frames_init_thousands_of_ranges(void **state)
{
	(void)state;
	enum { N = 5000, BIG = 256 };
	size_t n;
	struct fix_row *rows = fragmented(N, BIG, &n);
	start(rows, n);
	struct frames_stats st;
	frames_get_stats(&st);
	assert_int_equal(st.ranges, N + 1);
	assert_int_equal(st.table_cap, N + 1 + 2 + FRAMES_SPARE_RANGES); /* one row a free range */
	assert_int_equal(frames_total() + st.meta_frames, N + BIG);
	size_t got_n;
	uint64_t *got = alloc_all(&got_n);
	assert_int_equal(got_n, N + BIG - st.meta_frames);
	free(got);
	teardown(NULL);
	free(rows);
}

/*
 * Expect a map whose free memory is all one-page runs (no room for the
 * bookkeeping) refused with VM_ENOMEM and nothing managed: never a
 * partial allocator that silently lost memory.
 */
static void frames_init_only_small_runs(void **state)
{
	(void)state;
	size_t n;
	struct fix_row *rows = fragmented(300, 0, &n);
	sim_phys_init(MiB * 4);
	map_build(&bi, rows, n, 48);
	assert_int_equal(frames_init(sim_list(&bi)), VM_ENOMEM);
	assert_int_equal(frames_total(), 0);
	assert_int_equal(frames_alloc(), 0);
	teardown(NULL);
	free(rows);
}

/*
 * Expect a dry run to manage the same frames as the real init (same
 * totals, same runs handed out by frames_alloc_contig, same largest
 * run) while writing nothing into simulated memory: the bookkeeping's
 * place is cut but left alone, and the store holds the tables.
 */
static void frames_init_dry_matches(void **state)
{
	(void)state;
	struct frames_stats st;
	frames_get_stats(&st);
	uint64_t total = frames_total(), run = frames_largest_run();
	uint64_t a = frames_alloc_contig(0x10), b = frames_alloc_contig(4);
	memset(phys_to_virt(st.meta_pa), 0x5A, st.meta_frames * PAGE_SIZE);

	void *store = malloc(frames_meta_bytes(sim_list(&bi)));
	assert_int_equal(frames_init_dry(sim_list(&bi), store), 0);
	assert_int_equal(frames_total(), total);
	assert_int_equal(frames_largest_run(), run);
	assert_int_equal(frames_alloc_contig(0x10), a);
	assert_int_equal(frames_alloc_contig(4), b);
	assert_int_not_equal(frames_alloc(), 0);
	const uint8_t *p = phys_to_virt(st.meta_pa);
	for (uint64_t i = 0; i < st.meta_frames * PAGE_SIZE; i++)
		assert_int_equal(p[i], 0x5A);
	free(store);
	assert_int_equal(frames_init(sim_list(&bi)), 0); /* teardown expects a real one */
}

/* Expect the largest run to be the longest never-used stretch of one
 * range, and to shrink when a run is taken from it. */
static void frames_largest_run_shrinks(void **state)
{
	(void)state;
	/* mixed: [4G, 4G + 1M) is the longest; [1M, 2M) lost its top frame
	 * to the bookkeeping (the first of the two largest rows) */
	assert_int_equal(frames_largest_run(), 0x100);
	assert_int_equal(frames_alloc_contig(0x100), 4 * GiB);
	assert_int_equal(frames_largest_run(), 0x100 - 1);
}

/* Expect frames_reserve to split ranges until the spare rows are used,
 * then VM_ENOMEM with nothing changed. */
static void frames_reserve_until_table_full(void **state)
{
	(void)state;
	int err = 0;
	size_t splits = 0;
	uint64_t total;
	/* [4G, 4G + 1M) has room for 127 splits, more than the spare rows */
	for (uint64_t pa = 4 * GiB + 2 * PAGE_SIZE; !err && pa < 4 * GiB + MiB; pa += 2 * PAGE_SIZE) {
		total = frames_total();
		err = frames_reserve(pa, PAGE_SIZE);
		splits += !err;
	}
	assert_int_equal(err, VM_ENOMEM);
	assert_true(splits >= FRAMES_SPARE_RANGES);
	assert_int_equal(frames_total(), total);
}

/* Expect adjacent conventional rows (even unsorted) merged into one range,
 * and a run spanning them possible. */
static void frames_init_merges_adjacent(void **state)
{
	(void)state;
	const struct fix_row rows[] = {
		{ EFI_MEM_CONVENTIONAL, 0x30000, 0x10, 0xF },
		{ EFI_MEM_CONVENTIONAL, 0x10000, 0x10, 0xF },
		{ EFI_MEM_CONVENTIONAL, 0x20000, 0x10, 0xF },
	};
	start(rows, ROWS(rows));
	struct frames_stats st;
	frames_get_stats(&st);
	assert_int_equal(st.ranges, 1);
	assert_int_not_equal(frames_alloc_contig(0x2F), 0);
	teardown(NULL);
}

/*
 * Two conventional rows, the second the largest but with attributes
 * `attr` that keep it from us.  Expect it left alone: none of its frames
 * handed out, not even as a run, and the bookkeeping not put there.
 *
 *   64K        128K          1M                  5M
 *   [conv WB  ]  ...         [conv, attr        ]
 */
static void expect_second_row_unused(uint64_t attr)
{
	const struct fix_row rows[] = {
		{ EFI_MEM_CONVENTIONAL, 0x10000, 0x10, 0xF },
		{ EFI_MEM_CONVENTIONAL, MiB, 0x400, attr },
	};
	start(rows, ROWS(rows));
	struct frames_stats st;
	frames_get_stats(&st);
	assert_true(st.meta_pa >= 0x10000 && st.meta_pa < 0x20000);
	assert_int_equal(frames_total(), 0x10 - st.meta_frames);
	for (uint64_t pa; (pa = frames_alloc()) != 0;)
		assert_true(pa < 0x20000);
	assert_int_equal(frames_alloc_contig(1), 0);
	teardown(NULL);
}

/* Expect conventional memory the firmware says must not be cached
 * write-back (no EFI_MEM_ATTR_WB) left alone: the kernel reaches frames
 * and the bookkeeping through the write-back direct map. */
static void frames_init_write_back_only(void **state)
{
	(void)state;
	expect_second_row_unused(EFI_MEM_ATTR_UC);
}

/* Expect specific-purpose conventional memory (EFI_MEM_ATTR_SP: "soft
 * reserved", meant for a device or an application) left alone. */
static void frames_init_skips_soft_reserved(void **state)
{
	(void)state;
	expect_second_row_unused(0xF | EFI_MEM_ATTR_SP);
}

/* Expect a map without conventional memory to give VM_ENOMEM and an
 * allocator that hands out nothing.  (A malformed map never gets this
 * far: memblock_build refuses it, test_memblock.c.) */
static void frames_init_bad_maps(void **state)
{
	(void)state;
	struct boot_info b;
	const struct fix_row none[] = { { EFI_MEM_BOOT_DATA, 0x1000, 0x10, 0xF } };
	sim_phys_init(MiB);
	map_build(&b, none, 1, 48);
	assert_int_equal(frames_init(sim_list(&b)), VM_ENOMEM);
	assert_int_equal(frames_alloc(), 0);
	assert_int_equal(frames_total(), 0);
	map_free(&b);
	sim_phys_fini();
}

/* Count resident host pages of simulated memory. */
static size_t resident_pages(void)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), n = sim_size / pg, r = 0;
	unsigned char *vec = malloc(n);
	assert_int_equal(mincore(sim_base, sim_size, vec), 0);
	for (size_t i = 0; i < n; i++)
		r += vec[i] & 1;
	free(vec);
	return r;
}

/* Expect init over 6 GiB to touch only the bookkeeping (49 frames: 48
 * of bitmap, 36 table rows), not the frames: that is what makes it
 * instant under QEMU TCG. */
static void frames_init_touches_only_bitmap(void **state)
{
	(void)state;
	const struct fix_row rows[] = {
		{ EFI_MEM_CONVENTIONAL, 0x1000, 0x7FFFF, 0xF },       /* to 2 GiB */
		{ EFI_MEM_CONVENTIONAL, 4 * GiB, 0x100000, 0xF },     /* 4..8 GiB */
	};
	start(rows, ROWS(rows));
	struct frames_stats st;
	frames_get_stats(&st);
	assert_int_equal(st.meta_frames, 49);
	assert_true(resident_pages() <= st.meta_frames);
	for (int i = 0; i < 1000; i++)
		assert_int_not_equal(frames_alloc(), 0);
	assert_true(resident_pages() <= st.meta_frames);
	teardown(NULL);
}

/*
 * Expect, for every captured OVMF map: all frames
 * unique and inside conventional rows, none in page 0; free everything
 * (when small enough to touch on the host) and the count comes back.
 */
static void frames_fixtures_alloc_free_all(void **state)
{
	(void)state;
	for (size_t f = 0; f < ROWS(fixtures); f++) {
		start(fixtures[f].rows, fixtures[f].n);
		size_t n;
		uint64_t total = frames_total();
		uint64_t *got = alloc_all(&n);
		assert_int_equal(n, total);
		size_t to_free = n < 262144 ? n : 10000; /* touching > 1 GiB is slow */
		for (size_t i = 0; i < to_free; i++)
			assert_int_equal(frames_free(got[i]), 0);
		assert_int_equal(frames_free_count(), to_free);
		free(got);
		teardown(NULL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(frames_init_counts, setup_mixed, teardown),
		cmocka_unit_test_setup_teardown(frames_alloc_all_unique, setup_mixed, teardown),
		cmocka_unit_test_setup_teardown(frames_alloc_skips_page0_and_overlap, setup_mixed, teardown),
		cmocka_unit_test_setup_teardown(frames_alloc_above_4g, setup_mixed, teardown),
		cmocka_unit_test_setup_teardown(frames_free_realloc, setup_mixed, teardown),
		cmocka_unit_test_setup_teardown(frames_free_all_restores, setup_mixed, teardown),
		cmocka_unit_test_setup_teardown(frames_free_bad_rejected, setup_mixed, teardown),
		cmocka_unit_test_setup_teardown(frames_alloc_zeroed_clears, setup_mixed, teardown),
		cmocka_unit_test_setup_teardown(frames_alloc_contig_run, setup_mixed, teardown),
		cmocka_unit_test_setup_teardown(frames_free_contig_all_or_nothing, setup_mixed, teardown),
		cmocka_unit_test_setup_teardown(frames_reserve_excludes, setup_mixed, teardown),
		cmocka_unit_test_setup_teardown(frames_reserve_busy, setup_mixed, teardown),
		cmocka_unit_test_setup_teardown(frames_init_dry_matches, setup_mixed, teardown),
		cmocka_unit_test_setup_teardown(frames_largest_run_shrinks, setup_mixed, teardown),
		cmocka_unit_test_setup_teardown(frames_reserve_until_table_full, setup_mixed, teardown),
		cmocka_unit_test(frames_init_thousands_of_ranges),
		cmocka_unit_test(frames_init_only_small_runs),
		cmocka_unit_test(frames_init_merges_adjacent),
		cmocka_unit_test(frames_init_write_back_only),
		cmocka_unit_test(frames_init_skips_soft_reserved),
		cmocka_unit_test(frames_init_bad_maps),
		cmocka_unit_test(frames_init_touches_only_bitmap),
		cmocka_unit_test(frames_fixtures_alloc_free_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
