/*
 * test_heap_walk.c - host tests for heap_walk (heap/check.c): the blocks
 * of a heap, in address order, as a picture of the heap draws them.
 * Blocks in the pictures: [U32] a used block of 32 bytes, [F] a hole.
 */
#include <setjmp.h> /* cmocka.h needs these four first */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "heap.h"

#define REGION 65536
#define MAX_SEEN 64

/* What the walk handed over, block by block. */
struct seen {
	struct heap_block b[MAX_SEEN];
	int n;
	int stop_at; /* return 7 at this block (0-based); -1: never */
};

static int record(const struct heap_block *b, void *ctx)
{
	struct seen *s = ctx;

	assert_true(s->n < MAX_SEEN);
	s->b[s->n] = *b;
	return s->n++ == s->stop_at ? 7 : 0;
}

static unsigned char *new_heap(struct heap *h)
{
	unsigned char *mem = aligned_alloc(4096, REGION);

	assert_non_null(mem);
	assert_int_equal(heap_init(h, mem, REGION), 0);
	return mem;
}

/* Expect |U64+16|F|U64+16|F rest| (b freed) to be walked as four blocks
 * that tile [base, top) in address order, with their kinds, and their
 * sums to be heap_stats's used and free. */
static void heap_walk_tiles_in_address_order(void **state)
{
	struct heap h;
	unsigned char *mem = new_heap(&h);
	char *a = heap_alloc(&h, 64, 16), *b = heap_alloc(&h, 64, 16), *c = heap_alloc(&h, 64, 16);
	struct seen s = { .stop_at = -1 };
	struct heap_stats st;
	size_t used = 0, free_ = 0;
	uintptr_t at = h.base;

	(void)state;
	assert_int_equal(heap_free(&h, b), 0);
	assert_int_equal(heap_walk(&h, record, &s), 0);
	assert_int_equal(s.n, 4);
	for (int i = 0; i < s.n; i++) {
		assert_int_equal(s.b[i].addr, at); /* no gap, no overlap */
		at += s.b[i].size;
		*(s.b[i].used ? &used : &free_) += s.b[i].size;
	}
	assert_int_equal(at, h.top);
	assert_int_equal(s.b[0].addr + 16, (uintptr_t)a);
	assert_int_equal(s.b[2].addr + 16, (uintptr_t)c);
	assert_int_equal(s.b[0].used * 1000 + s.b[1].used * 100 + s.b[2].used * 10 + s.b[3].used, 1010);
	assert_int_equal(s.b[1].size, 80);
	heap_stats(&h, &st);
	assert_int_equal(used, st.used);
	assert_int_equal(free_, st.free);
	free(mem);
}

/* Expect a non-zero return from the callback to stop the walk there and
 * come back as heap_walk's return. */
static void heap_walk_stops_on_callback_return(void **state)
{
	struct heap h;
	unsigned char *mem = new_heap(&h);
	struct seen s = { .stop_at = 1 };

	(void)state;
	for (int i = 0; i < 5; i++)
		assert_non_null(heap_alloc(&h, 100, 16));
	assert_int_equal(heap_walk(&h, record, &s), 7);
	assert_int_equal(s.n, 2);
	free(mem);
}

/* Expect a heap never initialised to be refused, and a header damaged
 * by an overflow (|U a|U b'|F| with b's size word zeroed) to end the
 * walk with HEAP_ECORRUPT after the blocks below it, never past it. */
static void heap_walk_refuses_bad_heaps(void **state)
{
	struct heap h;
	unsigned char *mem;
	struct seen s = { .stop_at = -1 };
	char *a, *b;

	(void)state;
	memset(&h, 0, sizeof(h));
	assert_int_equal(heap_walk(&h, record, &s), HEAP_EINVAL);
	assert_int_equal(s.n, 0);
	mem = new_heap(&h);
	a = heap_alloc(&h, 64, 16);
	b = heap_alloc(&h, 64, 16);
	assert_non_null(a);
	assert_non_null(b);
	memset(a + 64 + 4, 0, 4); /* b's header: its size */
	assert_int_equal(heap_walk(&h, record, &s), HEAP_ECORRUPT);
	assert_int_equal(s.n, 1);
	free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(heap_walk_tiles_in_address_order),
		cmocka_unit_test(heap_walk_stops_on_callback_return),
		cmocka_unit_test(heap_walk_refuses_bad_heaps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
