/*
 * test_heap_diff.c - the fast heap against the reference list heap.
 *
 * heap/heap.c promises the policy of test/reference/list_heap.c exactly:
 * the lowest-addressed hole that fits, with the same alignment rule and
 * the same merging.  So both are driven by one long random sequence of
 * calls (alloc, aligned alloc, free, bad and double frees, realloc,
 * extend) and must agree after every step: the same offset from every
 * allocation, the same result from every free and realloc, the same
 * heap_stats (all but index_bytes, which only the fast heap has), and both
 * heap_check clean.  Payloads carry a pattern that must survive.
 *
 * The fast heap keeps its bitmap past limit, so the reference is given
 * exactly the bytes up to the fast heap's limit, and each extend grows it
 * by what the fast heap's limit grew.
 */
#include <setjmp.h> /* cmocka.h needs these four first */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "list_heap.h"

#define ROOM (4u << 20) /* bytes each heap may grow to */
#define SLOTS 512

struct pair {
	struct heap fast;
	struct list_heap ref;
	unsigned char *a, *b; /* the fast heap's region, the reference's */
	size_t size;          /* bytes given to the fast heap so far */
	uint64_t rng;
	struct { size_t off, len; unsigned char seed; } live[SLOTS]; /* len 0: empty */
};

static uint64_t next(struct pair *p)
{
	p->rng ^= p->rng << 13;
	p->rng ^= p->rng >> 7;
	p->rng ^= p->rng << 17;
	return p->rng;
}

/* Mostly small sizes, sometimes up to 64 KiB, log-spread. */
static size_t some_size(struct pair *p)
{
	unsigned bits = (unsigned)(next(p) % 17);

	return (size_t)(next(p) % ((size_t)1 << bits));
}

static void same_stats(struct pair *p)
{
	struct heap_stats f, r;

	heap_stats(&p->fast, &f);
	list_heap_stats(&p->ref, &r);
	assert_int_equal(f.size, r.size);
	assert_int_equal(f.used, r.used);
	assert_int_equal(f.free, r.free);
	assert_int_equal(f.largest_free, r.largest_free);
	assert_int_equal(f.holes, r.holes);
	assert_int_equal(f.allocations, r.allocations);
	assert_int_equal(heap_check(&p->fast), 0);
	assert_int_equal(list_heap_check(&p->ref), 0);
}

static void fill(unsigned char *q, size_t n, unsigned char seed)
{
	for (size_t i = 0; i < n; i++)
		q[i] = (unsigned char)(seed + i * 13);
}

static void check_fill(const unsigned char *q, size_t n, unsigned char seed)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(q[i], (unsigned char)(seed + i * 13));
}

/* The same result from both: NULL from both, or the same offset. */
static void same_pointer(struct pair *p, void *f, void *r)
{
	assert_int_equal(f == NULL, r == NULL);
	if (f)
		assert_int_equal((unsigned char *)f - p->a, (unsigned char *)r - p->b);
}

static void remember(struct pair *p, int slot, void *f, size_t len)
{
	p->live[slot].off = (size_t)((unsigned char *)f - p->a);
	p->live[slot].len = len ? len : 1;
	p->live[slot].seed = (unsigned char)next(p);
	fill(f, p->live[slot].len < 4096 ? p->live[slot].len : 4096, p->live[slot].seed);
}

static void do_alloc(struct pair *p, int slot, size_t align)
{
	size_t len = some_size(p);
	void *f = heap_alloc(&p->fast, len, align);
	void *r = list_heap_alloc(&p->ref, len, align);

	same_pointer(p, f, r);
	if (f)
		remember(p, slot, f, len);
}

static void do_free(struct pair *p, int slot)
{
	unsigned char *f = p->a + p->live[slot].off, *r = p->b + p->live[slot].off;

	check_fill(f, p->live[slot].len < 4096 ? p->live[slot].len : 4096, p->live[slot].seed);
	assert_int_equal(heap_free(&p->fast, f), 0);
	assert_int_equal(list_heap_free(&p->ref, r), 0);
	p->live[slot].len = 0;
}

/* A pointer no allocation handed out: both refuse it alike. */
static void do_bad_free(struct pair *p, size_t off)
{
	int f = heap_free(&p->fast, p->a + off);
	int r = list_heap_free(&p->ref, p->b + off);

	assert_true(f < 0);
	assert_true(r < 0);
}

/* off, or 16 past it if a live block's payload starts there. */
static size_t not_live(const struct pair *p, size_t off)
{
	for (int i = 0; i < SLOTS; i++)
		if (p->live[i].len && p->live[i].off == off)
			return off + 16;
	return off;
}

static void do_realloc(struct pair *p, int slot)
{
	size_t len = some_size(p), keep = p->live[slot].len;
	unsigned char *f = heap_realloc(&p->fast, p->a + p->live[slot].off, len);
	unsigned char *r = list_heap_realloc(&p->ref, p->b + p->live[slot].off, len);

	same_pointer(p, f, r);
	if (!f)
		return;
	keep = keep < len ? keep : len;
	check_fill(f, keep < 4096 ? keep : 4096, p->live[slot].seed);
	remember(p, slot, f, len);
}

static void do_extend(struct pair *p)
{
	size_t by = next(p) % 2 ? next(p) % 64 : next(p) % 65536;
	uintptr_t limit = p->fast.limit;

	if (p->size + by > ROOM)
		return;
	assert_int_equal(heap_extend(&p->fast, by), 0);
	assert_int_equal(list_heap_extend(&p->ref, p->fast.limit - limit), 0);
	p->size += by;
}

static void step(struct pair *p)
{
	int slot = (int)(next(p) % SLOTS);
	unsigned op = (unsigned)(next(p) % 100);

	if (p->live[slot].len == 0 && op < 60)
		do_alloc(p, slot, op < 50 ? 16 : (size_t)16 << (next(p) % 9));
	else if (p->live[slot].len && op < 70)
		do_free(p, slot);
	else if (p->live[slot].len && op < 80)
		do_realloc(p, slot);
	else if (p->live[slot].len > 16 && op < 85)
		do_bad_free(p, p->live[slot].off + 16 * (1 + next(p) % ((p->live[slot].len - 1) / 16)));
	else if (op < 88)
		do_extend(p);
	else if (op < 90)
		do_bad_free(p, not_live(p, (size_t)(next(p) % p->size) & ~(size_t)15));
	same_stats(p);
}

/* Start both heaps over size bytes at offset off of their buffers. */
static struct pair *pair_new(size_t off, size_t size, uint64_t seed)
{
	struct pair *p = calloc(1, sizeof *p);

	assert_non_null(p);
	p->a = aligned_alloc(4096, ROOM + 4096);
	p->b = aligned_alloc(4096, ROOM + 4096);
	assert_non_null(p->a);
	assert_non_null(p->b);
	p->a += off;
	p->b += off;
	p->size = size;
	p->rng = seed * 0x9E3779B97F4A7C15ull + 1;
	assert_int_equal(heap_init(&p->fast, p->a, size), 0);
	assert_int_equal(list_heap_init(&p->ref, p->b, p->fast.limit - (uintptr_t)p->a), 0);
	same_stats(p);
	return p;
}

static void pair_free(struct pair *p, size_t off)
{
	free(p->a - off);
	free(p->b - off);
	free(p);
}

/* Free every live slot, then both heaps must be one hole again. */
static void drain(struct pair *p)
{
	struct heap_stats s;

	for (int i = 0; i < SLOTS; i++)
		if (p->live[i].len)
			do_free(p, i);
	same_stats(p);
	heap_stats(&p->fast, &s);
	assert_int_equal(s.holes, 1);
	assert_int_equal(s.used, 0);
}

static void run(size_t off, size_t size, int seeds, int steps)
{
	for (int seed = 1; seed <= seeds; seed++) {
		struct pair *p = pair_new(off, size, (uint64_t)seed);

		for (int i = 0; i < steps; i++)
			step(p);
		drain(p);
		pair_free(p, off);
	}
}

/* Expect the same choices in a heap that is often full (64 KiB). */
static void heap_diff_small_heap_often_full(void **state)
{
	(void)state;
	run(0, 64 << 10, 20, 3000);
}

/* Expect the same choices with many holes (1 MiB, hundreds of live blocks). */
static void heap_diff_many_holes(void **state)
{
	(void)state;
	run(0, 1 << 20, 6, 20000);
}

/* Expect the same choices from a region that starts and ends unaligned. */
static void heap_diff_unaligned_region(void **state)
{
	(void)state;
	run(7, (200 << 10) + 9, 10, 4000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(heap_diff_small_heap_often_full),
		cmocka_unit_test(heap_diff_many_holes),
		cmocka_unit_test(heap_diff_unaligned_region),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
