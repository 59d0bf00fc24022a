/*
 * test_kheap.c - host tests for kernel/kheap.c, the kernel's policy
 * around the heap: how it grows the window when an allocation fails, and
 * what it does when the heap finds itself damaged.
 *
 * kheap.c is included whole, so that each test can start it afresh (its
 * statics).  The window is a real mapping at HEAP_START, reserved here
 * and made writable by the fake kmap_fresh below; the frame count is
 * the test's to set; a panic jumps back to the test with its message.
 */
#define _GNU_SOURCE
#include <setjmp.h> /* cmocka.h needs these four first */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

/* kernel/cpu.h holds instructions a host process may not run (cli traps
 * outside ring 0).  The two kheap.c uses behave as in the kernel, which
 * never turns interrupts on: cli does nothing, and RFLAGS.IF reads 0. */
#define CPU_H
#define RFLAGS_IF (1u << 9)
static inline void cli(void) {}
static inline uint64_t read_rflags(void) { return 0; }

#include "../../kernel/kheap.c"

static uint64_t frames_left; /* what the frame allocator would have free */

uint64_t frames_free_count(void)
{
	return frames_left;
}

#define PT_SPAN (2ull << 20) /* what one page table maps */
#define PD_SPAN (1ull << 30) /* what one page directory maps */

/* Which 2 MiB and 1 GiB pieces of the window already have their page
 * table or page directory (it may span two of the latter), and whether
 * its directory-pointer table exists. */
static bool have_table[HEAP_MAX / PT_SPAN + 1], have_dir[2], have_pdpt;

/* Frames kmap_fresh takes for the tables of [va, va + size): one for each
 * table it needs that did not exist yet, as pt_map allocates them; with
 * take, they exist from now on. */
static uint64_t new_tables(uint64_t va, uint64_t size, bool take)
{
	bool dir[2] = { have_dir[0], have_dir[1] };
	uint64_t n = !have_pdpt;

	for (uint64_t at = va & ~(PT_SPAN - 1); at < va + size; at += PT_SPAN) {
		bool *t = &have_table[(at - (HEAP_START & ~(PT_SPAN - 1))) / PT_SPAN];
		bool *d = &dir[at / PD_SPAN - HEAP_START / PD_SPAN];

		n += !*t + !*d;
		*d = true;
		if (take)
			*t = true;
	}
	if (take) {
		have_dir[0] = dir[0];
		have_dir[1] = dir[1];
		have_pdpt = true;
	}
	return n;
}

/* kmap.c's contract: all of [va, va + size) backed with fresh frames, its
 * page tables included, or nothing. */
int kmap_fresh(uint64_t va, uint64_t size, bool shared)
{
	uint64_t need = size / PAGE_SIZE + new_tables(va, size, false);

	(void)shared;
	if (need > frames_left)
		return -1;
	if (mprotect((void *)(uintptr_t)va, size, PROT_READ | PROT_WRITE) != 0)
		return -1;
	new_tables(va, size, true);
	frames_left -= need;
	return 0;
}

static jmp_buf after_panic;
static char panic_msg[512];

void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(panic_msg, sizeof panic_msg, fmt, ap);
	va_end(ap);
	longjmp(after_panic, 1);
}

/* The window, reserved once for all tests: no access until "mapped". */
static int reserve_window(void **state)
{
	void *w = mmap((void *)(uintptr_t)HEAP_START, HEAP_MAX, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);

	(void)state;
	return w == (void *)(uintptr_t)HEAP_START ? 0 : -1;
}

/* kheap.c as at boot, its window unmapped again, with `frames` free. */
static void fresh_kheap(uint64_t frames)
{
	assert_int_equal(mprotect((void *)(uintptr_t)HEAP_START, HEAP_MAX, PROT_NONE), 0);
	assert_int_equal(madvise((void *)(uintptr_t)HEAP_START, HEAP_MAX, MADV_DONTNEED), 0);
	heap = (struct heap){ 0 };
	memset(have_table, 0, sizeof have_table);
	memset(have_dir, 0, sizeof have_dir);
	have_pdpt = false;
	heap_lock = (struct spinlock)SPINLOCK_INIT;
	mapped = initial = 0;
	frames_left = frames;
	panic_msg[0] = '\0';
}

/* Expect a growth in steps of GROW_MIN when frames are plenty, so that
 * small allocations do not grow the heap a page at a time. */
static void kheap_grows_in_steps(void **state)
{
	(void)state;
	fresh_kheap(1 << 20);
	assert_int_equal(kheap_init(64 << 10), 0);
	assert_non_null(kmalloc(100 << 10)); /* more than the heap holds */
	assert_int_equal(mapped, initial + GROW_MIN);
	assert_int_equal(kheap_check(), 0);
}

/* Expect a growth of just what the allocation needs when a step of
 * GROW_MIN would take more frames than are free. */
static void kheap_grows_by_need_when_frames_are_short(void **state)
{
	(void)state;
	fresh_kheap(1 << 20);
	assert_int_equal(kheap_init(64 << 10), 0);
	frames_left = 40; /* GROW_MIN is 64 pages, and 16 stay back */
	assert_non_null(kmalloc(100 << 10));
	assert_true(mapped > initial && mapped < initial + GROW_MIN);
	assert_true(frames_left >= TABLE_HEADROOM);
	assert_int_equal(kheap_check(), 0);
}

/* The frames map_more asks to have free before it maps bytes more. */
static uint64_t frames_wanted(uint64_t bytes)
{
	return bytes / PAGE_SIZE + layout_heap_tables(bytes) + TABLE_HEADROOM;
}

/* Expect a growth to go ahead only when TABLE_HEADROOM frames would stay
 * free after its pages and their page tables (a 64 MiB block takes 32
 * tables, twice the headroom, which counting its pages alone would have
 * eaten), and then to leave them free.  One frame short: NULL, and
 * nothing taken. */
static void kheap_keeps_headroom_for_tables(void **state)
{
	uint64_t block = 64 << 20, bytes;

	(void)state;
	fresh_kheap(1 << 20);
	assert_int_equal(kheap_init(64 << 10), 0);
	/* What the block and the index's share of it take, in whole pages. */
	bytes = (heap_extend_need(&heap, block, 16) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	frames_left = frames_wanted(bytes) - 1;
	assert_null(kmalloc(block));
	assert_int_equal(frames_left, frames_wanted(bytes) - 1);
	frames_left = frames_wanted(bytes);
	assert_non_null(kmalloc(block));
	assert_true(frames_left >= TABLE_HEADROOM);
	assert_int_equal(kheap_check(), 0);
}

/* Expect the bound on page tables to hold for the whole window: mapped
 * at once, it fits in the frames map_more asks for, headroom kept. */
static void kheap_tables_bound_covers_the_window(void **state)
{
	uint64_t bytes = HEAP_MAX - (64 << 10);

	(void)state;
	fresh_kheap(frames_wanted(bytes));
	assert_int_equal(kheap_init(bytes), 0);
	assert_true(frames_left >= TABLE_HEADROOM);
	assert_int_equal(kheap_check(), 0);
}

/* Expect the last bytes of the window to be usable: with less than
 * GROW_MIN left, an allocation that fits in what is left gets it. */
static void kheap_grows_to_the_window_end(void **state)
{
	struct heap_stats s;

	(void)state;
	fresh_kheap(1 << 20);
	assert_int_equal(kheap_init(HEAP_MAX - (64 << 10)), 0);
	kheap_stats(&s);
	assert_non_null(kmalloc(s.largest_free)); /* all of it */
	assert_non_null(kmalloc(16 << 10));
	assert_true(mapped <= HEAP_MAX);
	assert_null(kmalloc(GROW_MIN)); /* past the window: no growth can help */
	assert_int_equal(kheap_check(), 0);
}

/* A heap whose lowest hole, 256 bytes, has had its header overwritten;
 * above it, not touching it, *c: a 64-byte block that cannot grow in
 * place. */
static void damaged_hole(char **c)
{
	char *a;

	fresh_kheap(1 << 20);
	assert_int_equal(kheap_init(64 << 10), 0);
	a = kmalloc(256);
	assert_non_null(a);
	assert_non_null(kmalloc(16));
	*c = kmalloc(64);
	assert_non_null(*c);
	assert_non_null(kmalloc(16));
	kfree(a);
	a[-16] ^= 1; /* an underflow of the block below, or a write after free */
}

/* Expect an allocation that meets the damaged hole to stop the kernel,
 * saying the heap is corrupt, with the lock released: not a NULL, as if
 * memory were short, for the caller to carry on with. */
static void kmalloc_panics_on_damaged_heap(void **state)
{
	char *c;

	(void)state;
	damaged_hole(&c);
	if (setjmp(after_panic) == 0) {
		kmalloc(200);
		fail_msg("kmalloc returned on a damaged heap");
	}
	assert_non_null(strstr(panic_msg, "kmalloc(200): the heap is corrupt"));
	assert_int_equal(heap_lock.locked, 0);
}

/* Expect the same of a krealloc that has to move, and no blame on the
 * block it was given, which is sound. */
static void krealloc_panics_on_damaged_heap_not_on_its_block(void **state)
{
	char *c;

	(void)state;
	damaged_hole(&c);
	if (setjmp(after_panic) == 0) {
		krealloc(c, 200);
		fail_msg("krealloc returned on a damaged heap");
	}
	assert_non_null(strstr(panic_msg, "krealloc(200): the heap is corrupt"));
	assert_null(strstr(panic_msg, "around this block"));
	assert_int_equal(heap_lock.locked, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kheap_grows_in_steps),
		cmocka_unit_test(kheap_grows_by_need_when_frames_are_short),
		cmocka_unit_test(kheap_grows_to_the_window_end),
		cmocka_unit_test(kheap_keeps_headroom_for_tables),
		cmocka_unit_test(kheap_tables_bound_covers_the_window),
		cmocka_unit_test(kmalloc_panics_on_damaged_heap),
		cmocka_unit_test(krealloc_panics_on_damaged_heap_not_on_its_block),
	};

	return cmocka_run_group_tests(tests, reserve_window, NULL);
}
