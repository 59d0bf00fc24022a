/*
 * test_reclaim.c - host tests for paging/reclaim.c and frames_add():
 * boot-services memory given to the frame allocator after init, over
 * simulated physical memory and the captured OVMF maps.  After reclaim
 * every boot-services frame but page 0 counts as free, and no frame is
 * ever handed out twice or while still in use.
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
#include "frames.h"
#include "memmap.h"
#include "reclaim.h"
#include "vmerr.h"

#define MiB (1ull << 20)

/*
 *   0     4K        1M        2M      2M+64K   3M       3M+256K  4M
 *   [bc  ][conv    ][conv    ][bd    ][conv   ][ld     ][bd      ]
 *   page 0 is boot code; the boot data at 3M+256K has a loader-data row
 *   overlapping its first page (a firmware bug: that page must stay in
 *   use; the list gives it to the loader data, memblock.h).
 */
static const struct fix_row small[] = {
	{ EFI_MEM_BOOT_CODE, 0x0, 1, 0xF },
	{ EFI_MEM_CONVENTIONAL, 0x1000, 0x9F, 0xF },
	{ EFI_MEM_CONVENTIONAL, 1 * MiB, 0x100, 0xF },
	{ EFI_MEM_BOOT_DATA, 2 * MiB, 0x10, 0xF },
	{ EFI_MEM_CONVENTIONAL, 2 * MiB + 0x10000, 0xF0, 0xF },
	{ EFI_MEM_LOADER_DATA, 3 * MiB, 0x41, 0xF },
	{ EFI_MEM_BOOT_DATA, 3 * MiB + 0x40000, 0xC0, 0xF },
};

static struct boot_info bi;

/* The highest end of any row: how much memory to simulate. */
static uint64_t rows_end(const struct fix_row *rows, size_t n)
{
	uint64_t end = 0;
	for (size_t i = 0; i < n; i++)
		if (rows[i].start + rows[i].pages * PAGE_SIZE > end)
			end = rows[i].start + rows[i].pages * PAGE_SIZE;
	return end;
}

static void start(const struct fix_row *rows, size_t n)
{
	sim_phys_init(rows_end(rows, n) + MiB);
	map_build(&bi, rows, n, 48);
	assert_int_equal(frames_init(sim_list(&bi)), 0);
}

static void stop(void)
{
	map_free(&bi);
	sim_phys_fini();
}

/* Boot-services pages of the rows, page 0 left out. */
static uint64_t boot_pages(const struct fix_row *rows, size_t n)
{
	uint64_t pages = 0;
	for (size_t i = 0; i < n; i++)
		if (rows[i].type == EFI_MEM_BOOT_CODE || rows[i].type == EFI_MEM_BOOT_DATA)
			pages += rows[i].pages - (rows[i].start == 0);
	return pages;
}

/* Is [pa, pa + 4096) inside a row of this type? */
static bool in_type(const struct fix_row *rows, size_t n, uint64_t pa, uint32_t type)
{
	for (size_t i = 0; i < n; i++)
		if (rows[i].type == type && pa >= rows[i].start &&
		    pa + PAGE_SIZE <= rows[i].start + rows[i].pages * PAGE_SIZE)
			return true;
	return false;
}

/*
 * Take every frame there is.  Expect each to be new (not in used[], not
 * seen before: one host byte per frame marks it), never page 0, in
 * conventional or boot-services memory and never in loader data; a
 * boot-services frame to still hold the poison.  Returns how many there
 * were.
 */
static uint64_t take_all(const struct fix_row *rows, size_t n, const uint64_t *used,
			 size_t nused)
{
	uint64_t count = 0, limit = rows_end(rows, n) / PAGE_SIZE;
	unsigned char *seen = calloc(limit, 1);
	for (size_t i = 0; i < nused; i++)
		seen[used[i] / PAGE_SIZE] = 1;
	for (uint64_t pa; (pa = frames_alloc()) != 0; count++) {
		assert_true(pa / PAGE_SIZE < limit);
		assert_false(seen[pa / PAGE_SIZE]);
		seen[pa / PAGE_SIZE] = 1;
		bool boot = in_type(rows, n, pa, EFI_MEM_BOOT_CODE) ||
			    in_type(rows, n, pa, EFI_MEM_BOOT_DATA);
		assert_true(boot || in_conventional(rows, n, pa));
		assert_false(in_type(rows, n, pa, EFI_MEM_LOADER_DATA));
		if (boot)
			assert_int_equal(*(unsigned char *)phys_to_virt(pa + 123), RECLAIM_POISON);
	}
	free(seen);
	return count;
}

/*
 * Expect over every captured OVMF map: reclaim adds every boot-services
 * page but page 0 (~10,300 frames on q35 with 128 MiB), the free count
 * grows by exactly that, and taking every frame afterwards never gives
 * page 0, a frame outside conventional and boot-services memory, a frame
 * twice, or one of the frames allocated before the reclaim (the page
 * tables and stacks of a real boot).
 */
static void reclaim_fixtures_every_frame_once(void **state)
{
	(void)state;
	for (size_t f = 0; f < ROWS(fixtures); f++) {
		const struct fixture *fx = &fixtures[f];
		struct reclaim_stats st;
		uint64_t used[64];
		start(fx->rows, fx->n);
		for (int i = 0; i < 64; i++)
			used[i] = frames_alloc();
		uint64_t free_before = frames_free_count(), total_before = frames_total();
		assert_int_equal(reclaim_boot_services(sim_list(&bi), &st), 0);
		uint64_t want = boot_pages(fx->rows, fx->n);
		assert_true(want > 8000); /* OVMF: ~37 MiB of boot-services memory */
		assert_int_equal(st.frames_added, want);
		assert_int_equal(st.frames_kept + st.frames_added, st.boot_pages);
		assert_int_equal(frames_free_count(), free_before + want);
		assert_int_equal(frames_total(), total_before + want);
		assert_int_equal(take_all(fx->rows, fx->n, used, 64), free_before + want);
		stop();
	}
}

/*
 * Expect on the small map, with every conventional frame taken first:
 * page 0 kept; of the boot data that a loader-data row overlaps, the
 * overlapped page not boot-services memory at all (the list gave it to
 * the loader) and the other 0xBF pages added; with the 0x10 pages at
 * 2M, poisoned and handed out next.  Before that, freeing one is
 * refused as a double free (it is managed and free), freeing the
 * loader's page as not managed.
 */
static void reclaim_keeps_page0_and_overlapped(void **state)
{
	(void)state;
	struct reclaim_stats st;
	start(small, ROWS(small));
	uint64_t n = frames_free_count(), *used = malloc(n * sizeof(*used));
	for (uint64_t i = 0; i < n; i++)
		used[i] = frames_alloc();
	assert_int_equal(frames_alloc(), 0); /* the allocator has seen it is empty */
	assert_int_equal(reclaim_boot_services(sim_list(&bi), &st), 0);
	assert_int_equal(st.boot_pages, 1 + 0x10 + 0xBF);
	assert_int_equal(st.frames_added, 0x10 + 0xBF);
	assert_int_equal(st.frames_kept, 1);
	assert_int_equal(frames_free_count(), 0x10 + 0xBF);
	assert_int_equal(frames_free(2 * MiB), VM_EEXIST);        /* managed, free */
	assert_int_equal(frames_free(3 * MiB + 0x41000), VM_EEXIST); /* reclaimed, free */
	assert_int_equal(frames_free(3 * MiB + 0x40000), VM_EINVAL); /* the loader's */
	assert_int_equal(frames_free(0), VM_EINVAL);
	assert_int_equal(take_all(small, ROWS(small), used, n), 0x10 + 0xBF);
	free(used);
	stop();
}

/*
 * Conventional memory and two boot-services rows, the second with
 * attributes `attr` that keep it from us.  Expect the first added and
 * the second kept (frames_kept: `kept` of its frames counted as such),
 * never managed.
 */
static void expect_second_boot_range_kept(uint64_t attr, uint64_t kept)
{
	struct reclaim_stats st;
	const struct fix_row rows[] = {
		{ EFI_MEM_CONVENTIONAL, 0x1000, 0xFF, 0xF },
		{ EFI_MEM_BOOT_DATA, 1 * MiB, 0x10, 0xF },
		{ EFI_MEM_BOOT_DATA, 2 * MiB, 0x10, attr },
	};
	start(rows, ROWS(rows));
	uint64_t before = frames_free_count();
	assert_int_equal(reclaim_boot_services(sim_list(&bi), &st), 0);
	assert_int_equal(st.frames_added, 0x10);
	assert_int_equal(st.frames_kept, kept);
	assert_int_equal(frames_free_count(), before + 0x10);
	assert_int_equal(frames_free(1 * MiB), VM_EEXIST); /* managed, free */
	assert_int_equal(frames_free(2 * MiB), VM_EINVAL); /* kept */
	stop();
}

/* Expect boot-services memory that may not be cached write-back (no
 * EFI_MEM_ATTR_WB) kept: the kernel's direct map leaves it out, so it
 * could be neither poisoned nor handed out. */
static void reclaim_keeps_uncached(void **state)
{
	(void)state;
	expect_second_boot_range_kept(EFI_MEM_ATTR_UC, 0x10);
}

/* Expect specific-purpose boot-services memory (EFI_MEM_ATTR_SP) not
 * reclaimed: it is soft reserved, not ours, after the exit as before;
 * the list does not even call it boot-services memory (kept: 0). */
static void reclaim_keeps_soft_reserved(void **state)
{
	(void)state;
	expect_second_boot_range_kept(0xF | EFI_MEM_ATTR_SP, 0);
}

/*
 * Expect frames_add to refuse, changing nothing: frame 0, size 0,
 * misaligned or wrapping ranges (VM_EINVAL); a range that overlaps a
 * managed one, the same range twice, or the bookkeeping (VM_EEXIST); more
 * frames than init kept bitmap bits for (VM_ENOMEM).  Adjacent adds
 * merge into one range.
 */
static void frames_add_refusals(void **state)
{
	(void)state;
	struct frames_stats st;
	start(small, ROWS(small));
	uint64_t before = frames_free_count();
	frames_get_stats(&st);
	assert_int_equal(frames_add(0, PAGE_SIZE), VM_EINVAL);
	assert_int_equal(frames_add(2 * MiB, 0), VM_EINVAL);
	assert_int_equal(frames_add(2 * MiB + 8, PAGE_SIZE), VM_EINVAL);
	assert_int_equal(frames_add(UINT64_MAX - PAGE_SIZE + 1, 2 * PAGE_SIZE), VM_EINVAL);
	assert_int_equal(frames_add(1 * MiB, PAGE_SIZE), VM_EEXIST);
	assert_int_equal(frames_add(2 * MiB + 0xF000, 2 * PAGE_SIZE), VM_EEXIST);
	assert_int_equal(frames_add(st.meta_pa, PAGE_SIZE), VM_EEXIST);
	/* 1 + 0x10 + 0xC0 bits were kept: 0xD1 frames at most. */
	assert_int_equal(frames_add(3 * MiB + 0x40000, 0xD2 * PAGE_SIZE), VM_ENOMEM);
	assert_int_equal(frames_free_count(), before);
	assert_int_equal(frames_add(3 * MiB + 0x40000, 0x60 * PAGE_SIZE), 0);
	assert_int_equal(frames_add(3 * MiB + 0xA0000, 0x60 * PAGE_SIZE), 0);
	assert_int_equal(frames_add(3 * MiB + 0x40000, PAGE_SIZE), VM_EEXIST);
	frames_get_stats(&st);
	uint64_t ranges = st.ranges;
	assert_int_equal(frames_add(2 * MiB, 0x10 * PAGE_SIZE), 0); /* between two ranges */
	frames_get_stats(&st);
	assert_int_equal(st.ranges, ranges + 1);
	assert_int_equal(frames_add(0x100000000ull, 2 * PAGE_SIZE), VM_ENOMEM); /* 1 bit left */
	assert_int_equal(frames_free_count(), before + 0xD0);
	stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reclaim_fixtures_every_frame_once),
		cmocka_unit_test(reclaim_keeps_page0_and_overlapped),
		cmocka_unit_test(reclaim_keeps_uncached),
		cmocka_unit_test(reclaim_keeps_soft_reserved),
		cmocka_unit_test(frames_add_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
