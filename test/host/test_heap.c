/*
 * test_heap.c - host tests for heap/heap.c (cmocka, run under ASan/UBSan).
 *
 * Each test builds a fresh heap over a buffer from aligned_alloc, so ASan
 * sees any write outside it; tests about the region's edges add guard bytes
 * around the region and check them.  Blocks in the pictures:
 *   [U32] a used block of 32 bytes, [F64] a hole of 64 bytes, | = base/top.
 * Silent on success; cmocka prints file:line on failure.
 */
#include <setjmp.h> /* cmocka.h needs these four first */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "heap.h"

#define REGION 65536 /* bytes of the standard test region */
#define SIZE (REGION - INDEX(REGION)) /* what the blocks tile: 64304 */
#define GUARD 64     /* guard bytes on each side in edge tests */
#define GUARD_BYTE 0xab

/* The layout heap.h documents, replicated to forge and corrupt headers. */
#define HDR 16
#define MAGIC_USED 0x55534544u

struct hdr {
	uint32_t magic, size, prev_size, seal;
};

struct fix {
	struct heap h;
	unsigned char *mem; /* REGION bytes, 4096-aligned */
};

/* The bytes a region of span bytes (from a 16-aligned start) keeps for
 * the index at its end, as heap.h draws it: a 16-byte bitmap entry per
 * 1040 bytes, then the tree: one 2-byte entry per bitmap entry, and one
 * per 16 entries of each level above, up to a level of one, every level
 * rounded up to 16 entries; and 16 bytes to align it, if it has more than
 * one level. */
static size_t INDEX(size_t span)
{
	size_t entries = (span + 1039) / 1040, n = entries, tree = 0, levels = 0;

	for (;;) {
		tree += (n + 15) / 16 * 16;
		levels++;
		if (n <= 1)
			break;
		n = (n + 15) / 16;
	}
	return entries * 16 + tree * 2 + (levels > 1 ? 16 : 0);
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);

	assert_non_null(f);
	f->mem = aligned_alloc(4096, REGION);
	assert_non_null(f->mem);
	assert_int_equal(heap_init(&f->h, f->mem, REGION), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	free(f->mem);
	free(f);
	return 0;
}

static struct heap_stats stats_of(const struct heap *h)
{
	struct heap_stats s;

	heap_stats(h, &s);
	return s;
}

/* A copy of the heap struct and its region, to prove a call changed nothing. */
struct snap {
	struct heap h;
	unsigned char bytes[REGION];
};

static struct snap *take(const struct fix *f)
{
	struct snap *s = malloc(sizeof *s);

	assert_non_null(s);
	s->h = f->h;
	memcpy(s->bytes, f->mem, REGION);
	return s;
}

static void assert_unchanged(const struct fix *f, struct snap *s)
{
	assert_memory_equal(&s->h, &f->h, sizeof s->h);
	assert_memory_equal(s->bytes, f->mem, REGION);
	free(s);
}

static void fill(void *p, size_t n, unsigned char seed)
{
	for (size_t i = 0; i < n; i++)
		((unsigned char *)p)[i] = (unsigned char)(seed + i * 7);
}

static int filled(const void *p, size_t n, unsigned char seed)
{
	for (size_t i = 0; i < n; i++)
		if (((const unsigned char *)p)[i] != (unsigned char)(seed + i * 7))
			return 0;
	return 1;
}

static uint32_t seal_of(const struct hdr *b)
{
	return ~(b->magic ^ b->size ^ (uint32_t)((uintptr_t)b / 16));
}

/* ---- heap_init ---- */

/* Expect every region too small for a 32-byte block and the index (80
 * bytes in all) refused, every other accepted,
 * and not one byte outside [start, start + size) written, for sizes 0..96
 * at every misalignment 0..15. */
static void heap_init_tiny_unaligned_regions_stay_inside(void **state)
{
	unsigned char *buf = aligned_alloc(16, GUARD + 192 + GUARD);

	(void)state;
	assert_non_null(buf);
	for (size_t off = 0; off < 16; off++) {
		for (size_t size = 0; size <= 160; size++) {
			unsigned char *start = buf + GUARD + off;
			uintptr_t lo = ((uintptr_t)start + 15) & ~(uintptr_t)15;
			uintptr_t hi = ((uintptr_t)start + size) & ~(uintptr_t)15;
			int fits = hi >= lo && hi - lo >= 32 + INDEX(hi - lo);
			struct heap h;
			void *p;

			memset(buf, GUARD_BYTE, GUARD + 192 + GUARD);
			assert_int_equal(heap_init(&h, start, size) == 0, fits);
			if (fits) {
				assert_int_equal(heap_check(&h), 0);
				p = heap_alloc(&h, stats_of(&h).largest_free, 16);
				assert_non_null(p);
				memset(p, 0x11, stats_of(&h).largest_free);
				assert_int_equal(heap_free(&h, p), 0);
			}
			for (unsigned char *q = buf; q < start; q++)
				assert_int_equal(*q, GUARD_BYTE);
			for (unsigned char *q = start + size; q < buf + GUARD + 192 + GUARD; q++)
				assert_int_equal(*q, GUARD_BYTE);
		}
	}
	free(buf);
}

/* Expect size 0 refused, and the refused heap to refuse every later call
 * without touching memory. */
static void heap_init_zero_size_refused(void **state)
{
	struct fix *f = *state;
	struct heap_stats s;
	struct snap *snap;

	assert_true(heap_init(&f->h, f->mem, 0) < 0);
	snap = take(f);
	assert_null(heap_alloc(&f->h, 16, 16));
	assert_true(heap_free(&f->h, f->mem + 16) < 0);
	assert_int_equal(heap_free(&f->h, NULL), 0);
	assert_null(heap_realloc(&f->h, f->mem + 16, 32));
	assert_true(heap_extend(&f->h, 4096) < 0);
	assert_true(heap_check(&f->h) < 0);
	heap_stats(&f->h, &s);
	assert_int_equal(s.size + s.used + s.free + s.largest_free + s.holes + s.allocations, 0);
	assert_unchanged(f, snap);
}

/* Expect a NULL start, a region wrapping the address space and one over
 * HEAP_MAX_SIZE refused before any byte is written (the pointers are bogus
 * and would fault if touched). */
static void heap_init_bad_regions_refused(void **state)
{
	struct heap h;

	(void)state;
	assert_int_equal(heap_init(&h, NULL, 4096), HEAP_EINVAL);
	assert_int_equal(heap_init(&h, (void *)(UINTPTR_MAX - 100), 4096), HEAP_EINVAL);
	assert_int_equal(heap_init(&h, (void *)(UINTPTR_MAX - 20), 10), HEAP_EINVAL);
	assert_int_equal(heap_init(&h, (void *)0x10000, 2 * HEAP_MAX_SIZE), HEAP_ENOSPC);
	assert_true(heap_check(&h) < 0);
}

/* Expect an unaligned region to be used from its first 16-aligned byte to
 * its last 16-aligned byte, less one bitmap entry: |F(size rounded in)|bits|. */
static void heap_init_unaligned_region_rounded_in(void **state)
{
	struct fix *f = *state;
	struct heap_stats s;

	assert_int_equal(heap_init(&f->h, f->mem + 3, 1000), 0);
	s = stats_of(&f->h);
	assert_int_equal(s.size, 976 - INDEX(976)); /* from mem + 16; the index ends at 992 */
	assert_int_equal(s.index_bytes, INDEX(976));
	assert_int_equal(s.free, s.size);
	assert_int_equal(s.holes, 1);
	assert_int_equal(s.largest_free, s.size - HDR);
	assert_ptr_equal(heap_alloc(&f->h, 1, 1), f->mem + 32);
	assert_int_equal(heap_check(&f->h), 0);
}

/* ---- heap_alloc ---- */

/* Expect every power-of-two alignment 1..4096 honoured (below 16 means 16),
 * with the blocks writable and the heap sound throughout. */
static void heap_alloc_every_power_of_two_align(void **state)
{
	struct fix *f = *state;
	void *p[13];

	for (int i = 0; i <= 12; i++) {
		size_t align = (size_t)1 << i;

		p[i] = heap_alloc(&f->h, 40, align);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % (align < 16 ? 16 : align), 0);
		fill(p[i], 40, (unsigned char)i);
		assert_int_equal(heap_check(&f->h), 0);
	}
	for (int i = 0; i <= 12; i++) {
		assert_true(filled(p[i], 40, (unsigned char)i));
		assert_int_equal(heap_free(&f->h, p[i]), 0);
	}
	assert_int_equal(stats_of(&f->h).holes, 1);
	assert_int_equal(stats_of(&f->h).free, SIZE);
}

/* Expect align 0, 3, 24, 48, 4097 and SIZE_MAX (not powers of two) to
 * give NULL and change nothing. */
static void heap_alloc_non_power_of_two_align_null(void **state)
{
	struct fix *f = *state;
	size_t bad[] = { 0, 3, 24, 48, 4097, SIZE_MAX };
	struct snap *snap = take(f);

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_null(heap_alloc(&f->h, 16, bad[i]));
	assert_unchanged(f, snap);
}

/* Expect sizes that cannot fit, including ones whose rounding would wrap
 * (SIZE_MAX, SIZE_MAX - 15), and huge alignments, to give NULL. */
static void heap_alloc_huge_size_or_align_null(void **state)
{
	struct fix *f = *state;
	size_t bad[] = { SIZE_MAX, SIZE_MAX - 15, SIZE_MAX - 16, SIZE_MAX / 2 + 1,
			 HEAP_MAX_SIZE, HEAP_MAX_SIZE - 16, SIZE - 15, SIZE };
	struct snap *snap = take(f);

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_null(heap_alloc(&f->h, bad[i], 16));
	assert_null(heap_alloc(&f->h, 16, (size_t)1 << 63));
	assert_null(heap_alloc(&f->h, 16, (size_t)1 << 47)); /* no such address in user space */
	assert_unchanged(f, snap);
	assert_non_null(heap_alloc(&f->h, SIZE - HDR, 16)); /* exactly the whole heap */
}

/* Expect size 0 to return distinct minimum (32-byte) blocks. */
static void heap_alloc_zero_size_minimum_block(void **state)
{
	struct fix *f = *state;
	void *a = heap_alloc(&f->h, 0, 16), *b = heap_alloc(&f->h, 0, 16);

	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	assert_int_equal(stats_of(&f->h).used, 64);
	assert_int_equal((char *)b - (char *)a, 32);
}

/* Expect the lowest-addressed hole that fits, not the best one:
 *   |U32 a|F96 b|U32 c|F64 d|U32 e|F rest|
 * alloc(40) (a 64-byte block) takes b although d fits exactly; b's 32-byte
 * tail is then too small for the next alloc(40), which takes d. */
static void heap_alloc_first_fit_lowest_address(void **state)
{
	struct fix *f = *state;
	char *a = heap_alloc(&f->h, 16, 16), *b = heap_alloc(&f->h, 80, 16);
	char *c = heap_alloc(&f->h, 16, 16), *d = heap_alloc(&f->h, 48, 16);
	char *e = heap_alloc(&f->h, 16, 16);

	assert_non_null(a);
	assert_non_null(e);
	assert_int_equal(heap_free(&f->h, b), 0);
	assert_int_equal(heap_free(&f->h, d), 0);
	assert_ptr_equal(heap_alloc(&f->h, 40, 16), b); /* lowest that fits */
	assert_ptr_equal(heap_alloc(&f->h, 40, 16), d); /* b's tail is too small */
	assert_ptr_equal(heap_alloc(&f->h, 16, 16), b + 64); /* b's 32-byte tail hole */
	assert_ptr_equal(heap_alloc(&f->h, 48, 16), e + 16 + HDR); /* the rest */
	(void)c;
	assert_int_equal(heap_check(&f->h), 0);
}

/* Expect a hole split when the remainder can be a hole (>= 32 bytes) and
 * the remainder given to the block when it cannot (16 bytes):
 *   |F64| alloc(32) -> |U48 + 16| = |U64|;  |F96| alloc(32) -> |U48|F48|. */
static void heap_alloc_splits_only_big_remainders(void **state)
{
	struct fix *f = *state;
	char *a = heap_alloc(&f->h, 48, 16), *guard = heap_alloc(&f->h, 16, 16);
	char *b = heap_alloc(&f->h, 80, 16), *guard2 = heap_alloc(&f->h, 16, 16);
	struct heap_stats s;

	assert_non_null(guard);
	assert_non_null(guard2);
	assert_int_equal(heap_free(&f->h, a), 0); /* |F64|U|U96|U|F rest| */
	assert_int_equal(heap_free(&f->h, b), 0); /* |F64|U|F96|U|F rest| */
	assert_int_equal(stats_of(&f->h).holes, 3);
	assert_ptr_equal(heap_alloc(&f->h, 32, 16), a); /* 48 of 64: takes all */
	s = stats_of(&f->h);
	assert_int_equal(s.holes, 2);
	assert_int_equal(s.used, 64 + 32 + 32);
	assert_ptr_equal(heap_alloc(&f->h, 32, 16), b); /* 48 of 96: splits */
	s = stats_of(&f->h);
	assert_int_equal(s.holes, 2);
	assert_int_equal(s.used, 64 + 32 + 48 + 32);
	assert_ptr_equal(heap_alloc(&f->h, 32, 16), b + 48); /* the 48-byte tail */
	assert_int_equal(heap_check(&f->h), 0);
}

/* Expect an aligned allocation to keep the front of the hole as a hole,
 * and never leave a 16-byte gap (it could be neither a hole nor part of one):
 *   |U32|F...|   alloc(16, 64): payload 64 would leave a 16-byte gap, so
 *   |U32|F80|U32 p|F...|       the payload goes to 128 (gap [32, 112))
 *   |U32|F80|U32 p|F32|U32 q|F...|   alloc(16, 64) again: q = 192. */
static void heap_alloc_align_front_gap_becomes_hole(void **state)
{
	struct fix *f = *state;
	char *base = (char *)f->mem;

	assert_ptr_equal(heap_alloc(&f->h, 16, 16), base + 16);
	assert_ptr_equal(heap_alloc(&f->h, 16, 64), base + 128);
	assert_int_equal(stats_of(&f->h).holes, 2);
	assert_ptr_equal(heap_alloc(&f->h, 16, 64), base + 192); /* [32,112) cannot */
	assert_int_equal(stats_of(&f->h).holes, 3);
	assert_ptr_equal(heap_alloc(&f->h, 16, 16), base + 48); /* the lowest hole... */
	assert_ptr_equal(heap_alloc(&f->h, 16, 16), base + 80); /* takes [64, 112) whole */
	assert_ptr_equal(heap_alloc(&f->h, 16, 16), base + 160); /* the 32-byte front hole */
	assert_int_equal(stats_of(&f->h).holes, 1);
	assert_int_equal(heap_check(&f->h), 0);
}

/* ---- heap_free ---- */

/* Expect every one of the 24 free orders of four blocks tiling the whole
 * heap to end in one hole, from which the whole heap can be allocated:
 *   |U A|U B|U C|U D(rest)|  ->  |F all|. */
static void heap_free_coalesces_every_order(void **state)
{
	struct fix *f = *state;
	int orders = 0;

	for (int n = 0; n < 256; n++) {
		int perm[4] = { n & 3, n >> 2 & 3, n >> 4 & 3, n >> 6 & 3 };
		int seen = 0;
		void *p[4];

		for (int i = 0; i < 4; i++)
			seen |= 1 << perm[i];
		if (seen != 15)
			continue; /* not a permutation */
		orders++;
		assert_int_equal(heap_init(&f->h, f->mem, 4096), 0);
		p[0] = heap_alloc(&f->h, 100, 16);
		p[1] = heap_alloc(&f->h, 200, 16);
		p[2] = heap_alloc(&f->h, 300, 16);
		p[3] = heap_alloc(&f->h, stats_of(&f->h).largest_free, 16);
		assert_non_null(p[3]);
		assert_int_equal(stats_of(&f->h).holes, 0);
		for (int i = 0; i < 4; i++) {
			assert_int_equal(heap_free(&f->h, p[perm[i]]), 0);
			assert_int_equal(heap_check(&f->h), 0);
		}
		assert_int_equal(stats_of(&f->h).holes, 1);
		assert_ptr_equal(heap_alloc(&f->h, 4096 - INDEX(4096) - HDR, 16), f->mem + HDR);
	}
	assert_int_equal(orders, 24);
}

/* Expect free(NULL) to return 0 and change nothing. */
static void heap_free_null_noop(void **state)
{
	struct fix *f = *state;
	struct snap *snap;

	assert_non_null(heap_alloc(&f->h, 10, 16));
	snap = take(f);
	assert_int_equal(heap_free(&f->h, NULL), 0);
	assert_unchanged(f, snap);
}

/* Expect a second free of the same block refused with nothing changed,
 * both when the hole stands alone and after it merged with a neighbour. */
static void heap_free_double_refused_unchanged(void **state)
{
	struct fix *f = *state;
	void *a = heap_alloc(&f->h, 64, 16), *b = heap_alloc(&f->h, 64, 16);
	void *c = heap_alloc(&f->h, 64, 16);
	struct snap *snap;

	assert_non_null(c);
	assert_int_equal(heap_free(&f->h, b), 0);
	snap = take(f);
	assert_int_equal(heap_free(&f->h, b), HEAP_EINVAL);
	assert_unchanged(f, snap);
	assert_int_equal(heap_free(&f->h, a), 0); /* a and b merge: b is inside a hole */
	snap = take(f);
	assert_int_equal(heap_free(&f->h, b), HEAP_EINVAL);
	assert_int_equal(heap_free(&f->h, a), HEAP_EINVAL);
	assert_unchanged(f, snap);
	assert_int_equal(heap_check(&f->h), 0);
}

/* Expect heap_check_ptr to accept exactly the live block starts, say why
 * it refuses the others, and change nothing. */
static void heap_check_ptr_tells_live_from_bad(void **state)
{
	struct fix *f = *state;
	char *a = heap_alloc(&f->h, 100, 16), *b = heap_alloc(&f->h, 100, 16);
	static char foreign[64];
	struct snap *snap;

	assert_int_equal(heap_free(&f->h, a), 0);
	snap = take(f);
	assert_int_equal(heap_check_ptr(&f->h, b), 0);
	assert_int_equal(heap_check_ptr(&f->h, a), HEAP_EINVAL);      /* freed */
	assert_int_equal(heap_check_ptr(&f->h, b + 16), HEAP_EINVAL); /* interior */
	assert_int_equal(heap_check_ptr(&f->h, foreign), HEAP_EINVAL);
	assert_unchanged(f, snap);
	assert_int_equal(heap_free(&f->h, b), 0);
}

/* Expect every pointer into the middle of a live block refused with nothing
 * changed, even when the caller's data there holds a perfectly forged
 * header (right magic, sizes and seal for that address): the heap finds
 * block starts in its bitmap, never by trusting bytes at ptr - 16. */
static void heap_free_interior_pointer_refused(void **state)
{
	struct fix *f = *state;
	char *a = heap_alloc(&f->h, 256, 16), *b = heap_alloc(&f->h, 64, 16);
	struct hdr *forged = (struct hdr *)(a + 64);
	struct snap *snap;

	assert_non_null(b);
	*forged = (struct hdr){ MAGIC_USED, 4, 2, 0 };
	forged->seal = seal_of(forged);
	snap = take(f);
	for (size_t off = 1; off < 256 + HDR; off++)
		assert_int_equal(heap_free(&f->h, a + off), HEAP_EINVAL);
	assert_int_equal(heap_free(&f->h, a - 1), HEAP_EINVAL);
	assert_int_equal(heap_free(&f->h, a - 16), HEAP_EINVAL);
	assert_unchanged(f, snap);
	assert_int_equal(heap_free(&f->h, a), 0);
	assert_int_equal(heap_free(&f->h, b), 0);
	assert_int_equal(heap_check(&f->h), 0);
}

/* Expect pointers outside the heap (below base, at and past top, on the
 * stack) and pointers into a hole refused with nothing changed. */
static void heap_free_outside_pointer_refused(void **state)
{
	struct fix *f = *state;
	char *a = heap_alloc(&f->h, 64, 16);
	int local;
	struct snap *snap;

	assert_non_null(a);
	snap = take(f);
	assert_int_equal(heap_free(&f->h, f->mem), HEAP_EINVAL);
	assert_int_equal(heap_free(&f->h, f->mem - 16), HEAP_EINVAL);
	assert_int_equal(heap_free(&f->h, f->mem + REGION), HEAP_EINVAL);
	assert_int_equal(heap_free(&f->h, f->mem + REGION + 16), HEAP_EINVAL);
	assert_int_equal(heap_free(&f->h, &local), HEAP_EINVAL);
	assert_int_equal(heap_free(&f->h, (void *)16), HEAP_EINVAL);
	assert_int_equal(heap_free(&f->h, (void *)UINTPTR_MAX), HEAP_EINVAL);
	assert_int_equal(heap_free(&f->h, a + 96), HEAP_EINVAL);   /* hole interior */
	assert_int_equal(heap_free(&f->h, a + 80), HEAP_EINVAL);   /* hole "payload" */
	assert_int_equal(heap_free(&f->h, f->mem + REGION - 16), HEAP_EINVAL);
	assert_unchanged(f, snap);
}

/* ---- heap_realloc ---- */

/* Expect realloc(NULL, n) to act as heap_alloc(n, 16). */
static void heap_realloc_null_acts_as_alloc(void **state)
{
	struct fix *f = *state;
	void *p = heap_realloc(&f->h, NULL, 100);

	assert_ptr_equal(p, f->mem + HDR);
	assert_int_equal(stats_of(&f->h).allocations, 1);
}

/* Expect realloc(p, 0) to shrink p in place to a minimum block and return
 * p (our choice: NULL from realloc always means failure). */
static void heap_realloc_zero_keeps_minimum_block(void **state)
{
	struct fix *f = *state;
	char *p = heap_alloc(&f->h, 200, 16);

	fill(p, 16, 3);
	assert_ptr_equal(heap_realloc(&f->h, p, 0), p);
	assert_true(filled(p, 16, 3));
	assert_int_equal(stats_of(&f->h).used, 32);
	assert_int_equal(stats_of(&f->h).holes, 1); /* the tail merged with the rest */
	assert_int_equal(heap_check(&f->h), 0);
}

/* Expect a shrink to stay in place, keep the prefix and free the tail:
 *   |U256|U|F| -> |U64|F192|U|F|. */
static void heap_realloc_shrink_in_place(void **state)
{
	struct fix *f = *state;
	char *p = heap_alloc(&f->h, 240, 16), *q = heap_alloc(&f->h, 16, 16);

	assert_non_null(q);
	fill(p, 240, 9);
	assert_ptr_equal(heap_realloc(&f->h, p, 48), p);
	assert_true(filled(p, 48, 9));
	assert_int_equal(stats_of(&f->h).holes, 2);
	assert_ptr_equal(heap_alloc(&f->h, 100, 16), p + 48 + HDR);
	assert_ptr_equal(heap_realloc(&f->h, p, 40), p); /* same block size: no-op */
	assert_int_equal(heap_check(&f->h), 0);
}

/* Expect a grow into the touching hole above to stay in place:
 *   |U64|F...| -> |U1024|F...|, and |U64|F64|U| -> |U128|U| (takes it all). */
static void heap_realloc_grow_in_place(void **state)
{
	struct fix *f = *state;
	char *p = heap_alloc(&f->h, 48, 16), *q, *r;

	fill(p, 48, 5);
	assert_ptr_equal(heap_realloc(&f->h, p, 1000), p);
	assert_true(filled(p, 48, 5));
	assert_int_equal(stats_of(&f->h).used, 1024);
	q = heap_alloc(&f->h, 48, 16);
	r = heap_alloc(&f->h, 16, 16);
	assert_non_null(r);
	assert_int_equal(heap_free(&f->h, q), 0); /* |U1024 p|F64|U r|F| */
	assert_ptr_equal(heap_realloc(&f->h, p, 1000 + 56), p);
	assert_int_equal(stats_of(&f->h).holes, 1);
	assert_int_equal(stats_of(&f->h).used, 1024 + 64 + 32);
	assert_int_equal(heap_check(&f->h), 0);
}

/* Expect a grow that cannot stay in place to move, keep every byte and
 * free the old block: |U p|U q|F| -> |F|U q|U p'|F|. */
static void heap_realloc_grow_moves_keeps_contents(void **state)
{
	struct fix *f = *state;
	char *p = heap_alloc(&f->h, 300, 16), *q = heap_alloc(&f->h, 16, 16), *r;

	assert_non_null(q);
	fill(p, 300, 77);
	r = heap_realloc(&f->h, p, 5000);
	assert_non_null(r);
	assert_ptr_not_equal(r, p);
	assert_int_equal((uintptr_t)r % 16, 0);
	assert_true(filled(r, 300, 77));
	assert_int_equal(stats_of(&f->h).allocations, 2);
	assert_int_equal(heap_check(&f->h), 0);
	assert_ptr_equal(heap_alloc(&f->h, 300, 16), p); /* the old place is free */
}

/* Expect a realloc that cannot be met (too big, or a size that would
 * wrap) to return NULL and leave the block and the whole region as they
 * were. */
static void heap_realloc_failure_keeps_old(void **state)
{
	struct fix *f = *state;
	char *p = heap_alloc(&f->h, 100, 16);
	struct snap *snap;

	assert_non_null(heap_alloc(&f->h, 16, 16));
	fill(p, 100, 1);
	snap = take(f);
	assert_null(heap_realloc(&f->h, p, REGION));
	assert_null(heap_realloc(&f->h, p, SIZE_MAX));
	assert_null(heap_realloc(&f->h, p, SIZE_MAX - 15));
	assert_unchanged(f, snap);
	assert_true(filled(p, 100, 1));
}

/* Expect realloc of a pointer that is not a live block (interior, freed,
 * outside) to return NULL and change nothing. */
static void heap_realloc_bad_pointer_null(void **state)
{
	struct fix *f = *state;
	char *p = heap_alloc(&f->h, 100, 16), *q = heap_alloc(&f->h, 100, 16);
	struct snap *snap;

	assert_non_null(q);
	assert_int_equal(heap_free(&f->h, q), 0);
	snap = take(f);
	assert_null(heap_realloc(&f->h, p + 32, 10));
	assert_null(heap_realloc(&f->h, q, 10));
	assert_null(heap_realloc(&f->h, f->mem + REGION, 10));
	assert_unchanged(f, snap);
}

/* ---- heap_extend ---- */

/* Expect new bytes to join a free last hole: |U|F| + 1024 -> |U|F+1024|. */
static void heap_extend_merges_free_tail(void **state)
{
	struct fix *f = *state;
	size_t before;

	assert_int_equal(heap_init(&f->h, f->mem, 4096), 0);
	assert_non_null(heap_alloc(&f->h, 100, 16));
	before = stats_of(&f->h).largest_free;
	assert_int_equal(heap_extend(&f->h, 1024), 0);
	assert_int_equal(stats_of(&f->h).holes, 1);
	/* The index moved to the new end and grew by a bitmap entry. */
	assert_int_equal(stats_of(&f->h).size, 5120 - INDEX(5120));
	assert_int_equal(stats_of(&f->h).largest_free,
			 before + (5120 - INDEX(5120)) - (4096 - INDEX(4096)));
	assert_int_equal(heap_check(&f->h), 0);
}

/* Expect new bytes after a used last block to become a new hole:
 *   |U all| + 1024 -> |U all|F1024|. */
static void heap_extend_after_used_tail_new_hole(void **state)
{
	struct fix *f = *state;

	unsigned char *top;

	assert_int_equal(heap_init(&f->h, f->mem, 4096), 0);
	assert_non_null(heap_alloc(&f->h, 4096 - INDEX(4096) - HDR, 16));
	top = f->mem + stats_of(&f->h).size;
	assert_int_equal(heap_extend(&f->h, 1024), 0);
	assert_int_equal(stats_of(&f->h).holes, 1);
	assert_int_equal(heap_check(&f->h), 0);
	assert_int_equal(stats_of(&f->h).largest_free, 5120 - INDEX(5120) - (top - f->mem) - HDR);
	assert_ptr_equal(heap_alloc(&f->h, stats_of(&f->h).largest_free, 16), top + HDR);
}

/* Expect tiny and unaligned extensions never to write past the new end:
 * bytes wait until 32 of them can form a hole, then merge. */
static void heap_extend_small_steps_stay_inside(void **state)
{
	struct fix *f = *state;
	unsigned char *end;
	size_t steps[] = { 0, 1, 3, 8, 4, 15, 1, 13, 7, 16, 5, 2, 64, 9 };
	size_t total = 0;

	assert_int_equal(heap_init(&f->h, f->mem + 5, 200), 0); /* [16, 96), index [96, 192) */
	assert_non_null(heap_alloc(&f->h, stats_of(&f->h).largest_free, 16));
	memset(f->mem + 205, GUARD_BYTE, REGION - 205);
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		assert_int_equal(heap_extend(&f->h, steps[i]), 0);
		total += steps[i];
		assert_int_equal(heap_check(&f->h), 0);
		end = f->mem + 205 + total;
		for (unsigned char *q = end; q < f->mem + REGION; q++)
			assert_int_equal(*q, GUARD_BYTE);
	}
	/* end = mem + 205 + 148 = mem + 353: blocks tile [16, 256), index [256, 352) */
	assert_int_equal(stats_of(&f->h).size, 336 - INDEX(336));
	assert_int_equal(stats_of(&f->h).holes, 1);
}

/* Expect bytes that waited past a used last block (fewer than 32) to
 * join it once it is freed, at the next heap_extend, even one too small
 * to move the index, as the list version does: |U ... | 16 waiting |
 * -> free it -> |F ... + 16|.  (fuzz_heap_diff found the heaps' sizes
 * disagreeing: test/fuzz/corpus/fuzz_heap_diff/regress-extend-waiting.) */
static void heap_extend_waiting_bytes_join_freed_last_block(void **state)
{
	struct fix *f = *state;
	uintptr_t limit, top;
	void *p;

	assert_int_equal(heap_init(&f->h, f->mem, 1024), 0);
	p = heap_alloc(&f->h, stats_of(&f->h).largest_free, 16); /* one used block, all of it */
	assert_non_null(p);
	limit = f->h.limit;
	while (f->h.limit == limit) /* a byte at a time until the blocks may grow */
		assert_int_equal(heap_extend(&f->h, 1), 0);
	assert_int_equal(f->h.limit - limit, 16); /* too few for a hole: they wait */
	top = f->h.top;
	assert_int_equal(top, limit);
	assert_int_equal(heap_free(&f->h, p), 0);
	assert_int_equal(heap_extend(&f->h, 1), 0); /* moves no index */
	assert_int_equal(f->h.top, f->h.limit);
	assert_int_equal(stats_of(&f->h).size, f->h.limit - f->h.base);
	assert_int_equal(stats_of(&f->h).holes, 1);
	assert_int_equal(heap_check(&f->h), 0);
}

/* Expect heap_usable_size to be at least what was asked for and at most
 * 31 bytes more (32 for 0 bytes, which gets a 16-byte payload), also when
 * a block takes the end of its hole, too small to stay a hole. */
static void heap_usable_size_bounds(void **state)
{
	struct fix *f = *state;

	for (size_t size = 0; size <= 80; size++) {
		for (size_t extra = 0; extra <= 48; extra += 8) {
			char *x, *p;
			size_t u;

			assert_int_equal(heap_init(&f->h, f->mem, REGION), 0);
			x = heap_alloc(&f->h, size + extra, 16); /* a hole of this size, */
			assert_non_null(heap_alloc(&f->h, 16, 16)); /* off the top */
			assert_int_equal(heap_free(&f->h, x), 0);
			p = heap_alloc(&f->h, size, 16);
			assert_ptr_equal(p, x);
			u = heap_usable_size(&f->h, p);
			assert_true(u >= size);
			assert_true(u <= (size ? size + 31 : 32));
		}
	}
}

/* Expect heap_extend_need to count bytes that wait past a freed last
 * block: the block that needs them fails until an extend lets them join,
 * so the answer cannot be 0 ("it fits already"), which a caller takes as
 * "do not grow" (kernel/kheap.c, the preload library). */
static void heap_extend_need_counts_waiting_bytes(void **state)
{
	struct fix *f = *state;
	uintptr_t limit;
	size_t ask, need;
	void *p;

	assert_int_equal(heap_init(&f->h, f->mem, 1024), 0);
	p = heap_alloc(&f->h, stats_of(&f->h).largest_free, 16);
	assert_non_null(p);
	limit = f->h.limit;
	while (f->h.limit == limit)
		assert_int_equal(heap_extend(&f->h, 1), 0);
	assert_int_equal(f->h.limit - f->h.top, 16); /* waiting */
	assert_int_equal(heap_free(&f->h, p), 0);
	ask = stats_of(&f->h).largest_free + 16; /* the last hole and the 16 bytes */
	assert_null(heap_alloc(&f->h, ask, 16));
	need = heap_extend_need(&f->h, ask, 16);
	assert_true(need > 0);
	assert_int_equal(heap_extend(&f->h, need), 0);
	assert_non_null(heap_alloc(&f->h, ask, 16));
	assert_int_equal(heap_check(&f->h), 0);
}

/* Expect heap_extend_need to be enough: after extending by what it says,
 * the allocation succeeds, with a used or a free last block, for sizes
 * small and large (past a doubling of the index's tree) and alignments up
 * to a page; and 0 when the allocation fits already or never can. */
static void heap_extend_need_is_enough(void **state)
{
	static const size_t sizes[] = { 1, 100, 1000, 5000, 70000, 300000, 1 << 20 };
	static const size_t aligns[] = { 16, 64, 4096 };
	size_t room = 16 << 20;
	unsigned char *mem = aligned_alloc(4096, room);
	struct heap h;

	(void)state;
	assert_non_null(mem);
	for (int last_free = 0; last_free < 2; last_free++) {
		assert_int_equal(heap_init(&h, mem, 4096), 0);
		for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
			for (size_t j = 0; j < sizeof aligns / sizeof aligns[0]; j++) {
				size_t big = stats_of(&h).largest_free, need;

				/* Fill all, or all but a 96-byte last hole. */
				if (big > 16)
					heap_alloc(&h, last_free && big > 96 ? big - 96 : big, 16);
				need = heap_extend_need(&h, sizes[i], aligns[j]);
				if (need == 0) { /* the last hole holds it */
					assert_non_null(heap_alloc(&h, sizes[i], aligns[j]));
					continue;
				}
				assert_null(heap_alloc(&h, sizes[i], aligns[j]));
				assert_true(h.end + need <= (uintptr_t)mem + room);
				assert_int_equal(heap_extend(&h, need), 0);
				assert_non_null(heap_alloc(&h, sizes[i], aligns[j]));
				assert_int_equal(heap_check(&h), 0);
			}
		}
	}
	assert_int_equal(heap_init(&h, mem, 4096), 0);
	assert_int_equal(heap_extend_need(&h, 1000, 64), 0);          /* fits already */
	assert_int_equal(heap_extend_need(&h, 16, 3), 0);             /* a bad alignment */
	assert_int_equal(heap_extend_need(&h, HEAP_MAX_SIZE, 16), 0); /* never fits */
	free(mem);
}

/* Expect extend by 0 to do nothing, and an end that would wrap the address
 * space or a heap over HEAP_MAX_SIZE to be refused with nothing changed. */
static void heap_extend_zero_and_overflow(void **state)
{
	struct fix *f = *state;
	struct snap *snap = take(f);

	assert_int_equal(heap_extend(&f->h, 0), 0);
	assert_int_equal(heap_extend(&f->h, SIZE_MAX), HEAP_EINVAL);
	assert_int_equal(heap_extend(&f->h, 2 * HEAP_MAX_SIZE), HEAP_ENOSPC);
	assert_unchanged(f, snap);
}

/* ---- heap_stats ---- */

/* Expect every counter to follow a sequence of operations exactly. */
static void heap_stats_track_every_operation(void **state)
{
	struct fix *f = *state;
	struct heap_stats s;
	char *a, *b, *c;

	a = heap_alloc(&f->h, 100, 16); /* 128 */
	b = heap_alloc(&f->h, 1, 16);   /* 32 */
	c = heap_alloc(&f->h, 500, 16); /* 528 */
	assert_int_equal(heap_free(&f->h, b), 0);
	s = stats_of(&f->h);
	assert_int_equal(s.size, SIZE);
	assert_int_equal(s.index_bytes, INDEX(REGION));
	assert_int_equal(s.used, 128 + 528);
	assert_int_equal(s.free, SIZE - 128 - 528);
	assert_int_equal(s.holes, 2);
	assert_int_equal(s.allocations, 2);
	assert_int_equal(s.largest_free, SIZE - 128 - 32 - 528 - HDR);
	assert_int_equal(heap_free(&f->h, a), 0);
	assert_int_equal(heap_free(&f->h, c), 0);
	s = stats_of(&f->h);
	assert_int_equal(s.used + s.allocations, 0);
	assert_int_equal(s.holes, 1);
	assert_int_equal(s.free, SIZE);
}

/* Expect largest_free to be exact: an allocation of it succeeds and one of
 * it + 1 fails, in a heap fragmented into holes of many sizes. */
static void heap_stats_largest_free_exact(void **state)
{
	struct fix *f = *state;
	void *p[64];
	size_t big;

	for (int i = 0; i < 64; i++)
		p[i] = heap_alloc(&f->h, (size_t)(i * 37 % 500), 16);
	assert_non_null(heap_alloc(&f->h, stats_of(&f->h).largest_free, 16)); /* the tail */
	for (int i = 0; i < 64; i += 2)
		assert_int_equal(heap_free(&f->h, p[i]), 0);
	big = stats_of(&f->h).largest_free;
	assert_true(big > 0);
	assert_null(heap_alloc(&f->h, big + 1, 16));
	assert_non_null(heap_alloc(&f->h, big, 16));
	assert_int_equal(heap_check(&f->h), 0);
}

/* ---- heap_check ---- */

/* Expect a damaged header (size, magic, boundary tag, a hole's link) to be
 * reported by heap_check and to make free refuse with HEAP_ECORRUPT
 * without writing; repairing it makes the heap sound again. */
/* heap_walk's visitor where only the walk's verdict matters. */
static int count_block(const struct heap_block *blk, void *ctx)
{
	(void)blk;
	(void)ctx;
	return 0;
}

/* The first entry of level k of the index past those in use (padding to
 * the end of its group), or -1 when that level fills its groups. */
static long index_padding(const struct heap *h, unsigned *k)
{
	for (*k = 0; *k < h->levels; (*k)++) {
		uint64_t used = h->nbits, span = 1;

		for (unsigned j = 0; j < *k; j++)
			span *= 16;
		used = (used + span - 1) / span;
		if (used % 16)
			return (long)used;
	}
	return -1;
}

/* Expect heap_check to catch damage to the index and to the struct that
 * would mislead later calls without upsetting any header (a review found
 * each passing): an entry past CAP (SSE2 reads it as negative and passes
 * its holes over), a padding entry no longer 0 (a search would look past
 * the bitmap), the levels moved or one too many (it read through a null
 * pointer), an end past the region's (the next extend would have moved
 * the bitmap past it), a late header said to lie inside a payload
 * (heap_check would have written it there); heap_walk refuses the last
 * too. */
static void heap_check_catches_damaged_index_and_struct(void **state)
{
	struct fix *f = *state;
	char *a = heap_alloc(&f->h, 100, 16), *b = heap_alloc(&f->h, 1000, 16);
	struct heap saved;
	unsigned k;
	long pad;
	uint16_t keep;

	assert_non_null(heap_alloc(&f->h, 100, 16));
	assert_int_equal(heap_free(&f->h, b), 0);
	assert_int_equal(heap_check(&f->h), 0);
	saved = f->h;

	keep = f->h.level[0][0];
	f->h.level[0][0] |= 0x8000;
	assert_int_equal(heap_check(&f->h), HEAP_ECORRUPT);
	f->h.level[0][0] = keep;

	pad = index_padding(&f->h, &k);
	assert_true(pad > 0);
	f->h.level[k][pad] = 1;
	assert_int_equal(heap_check(&f->h), HEAP_ECORRUPT);
	f->h.level[k][pad] = 0;
	assert_int_equal(heap_check(&f->h), 0);

	f->h.levels++;
	assert_int_equal(heap_check(&f->h), HEAP_ECORRUPT);
	f->h = saved;
	f->h.level[1] += 16;
	assert_int_equal(heap_check(&f->h), HEAP_ECORRUPT);
	f->h = saved;
	f->h.end += 4096; /* the next extend would put the bitmap past the region */
	assert_int_equal(heap_check(&f->h), HEAP_ECORRUPT);
	f->h = saved;

	memset(a, 'a', 100);
	f->h.late = (struct heap_late){ (uint32_t)((uintptr_t)a - f->h.base) / 16 + 1, 2, 2 };
	assert_int_equal(heap_check(&f->h), HEAP_ECORRUPT);
	assert_int_equal(heap_walk(&f->h, count_block, NULL), HEAP_ECORRUPT);
	for (int i = 0; i < 100; i++)
		assert_int_equal(a[i], 'a'); /* nothing written into the payload */
	f->h = saved;
	assert_int_equal(heap_check(&f->h), 0);
}

static void heap_check_catches_corrupted_header(void **state)
{
	struct fix *f = *state;
	char *a = heap_alloc(&f->h, 64, 16), *b = heap_alloc(&f->h, 64, 16);
	char *c = heap_alloc(&f->h, 64, 16);
	struct hdr *hb = (struct hdr *)(b - HDR);
	uint32_t *words[] = { &hb->magic, &hb->size, &hb->prev_size, &hb->seal };
	struct snap *snap;

	assert_int_equal(heap_free(&f->h, c), 0);
	for (int i = 0; i < 4; i++) {
		*words[i] ^= 0x10;
		assert_int_equal(heap_check(&f->h), HEAP_ECORRUPT);
		snap = take(f);
		assert_int_equal(heap_free(&f->h, b), HEAP_ECORRUPT);
		assert_int_not_equal(heap_free(&f->h, a), 0); /* its neighbour above is bad */
		assert_unchanged(f, snap);
		*words[i] ^= 0x10;
		assert_int_equal(heap_check(&f->h), 0);
	}
	memset(a + 64, 0, 16); /* an overflow off the end of a onto b's header */
	assert_int_equal(heap_check(&f->h), HEAP_ECORRUPT);
	assert_int_equal(heap_init(&f->h, f->mem, REGION), 0);
	a = heap_alloc(&f->h, 64, 16);
	b = heap_alloc(&f->h, 64, 16);
	assert_int_equal(heap_free(&f->h, a), 0);
	/* An overflow off the end of b onto the header of the hole above it:
	 * |F a|U b|F rest| with rest's header zeroed.  The index still says a
	 * big hole starts there; the allocation that goes to take it finds the
	 * header wrong, and from then on the heap refuses every call. */
	memset(b + 64, 0, 8);
	assert_int_equal(heap_check(&f->h), HEAP_ECORRUPT);
	assert_null(heap_alloc(&f->h, 4096, 16));
	assert_null(heap_alloc(&f->h, 16, 16));
	assert_int_equal(heap_free(&f->h, b), HEAP_ECORRUPT);
	assert_int_equal(heap_extend(&f->h, 4096), HEAP_ECORRUPT);
}

/* Expect a write through a freed pointer to land in the hole's bytes, past
 * its header: the index lives outside the holes, so the heap cannot be
 * misled; the checked build (HEAP_POISON) sees the write. */
static void heap_write_after_free_cannot_mislead(void **state)
{
	struct fix *f = *state;
	unsigned char *a = heap_alloc(&f->h, 64, 16), *b = heap_alloc(&f->h, 64, 16);

	assert_int_equal(heap_free(&f->h, a), 0);
	memset(a, 0x5a, 64);
#ifdef HEAP_POISON
	assert_int_equal(heap_check(&f->h), HEAP_ECORRUPT);
	assert_null(heap_alloc(&f->h, 16, 16)); /* the hole first fit picks was written */
#else
	assert_int_equal(heap_check(&f->h), 0);
	assert_ptr_equal(heap_alloc(&f->h, 16, 16), a);
	assert_int_equal(heap_check(&f->h), 0);
#endif
	assert_int_equal(heap_free(&f->h, b), 0);
}

/* Expect free to refuse, writing nothing, when a header it steps over on
 * its way to the block is damaged: walking up from the base (b is nearer
 * to it) and walking down from the hole above (d is nearer to that):
 *   |U a|U b|U c|U d|U e|F rest|. */
static void heap_free_refuses_corrupt_walk(void **state)
{
	struct fix *f = *state;
	char *p[5];
	struct snap *snap;

	for (int i = 0; i < 5; i++)
		p[i] = heap_alloc(&f->h, 48, 16);
	((struct hdr *)(p[0] - HDR))->size++;
	snap = take(f);
	assert_int_equal(heap_free(&f->h, p[1]), HEAP_ECORRUPT); /* up over a */
	assert_unchanged(f, snap);
	((struct hdr *)(p[0] - HDR))->size--;
	((struct hdr *)(p[4] - HDR))->magic = 0;
	snap = take(f);
	assert_int_equal(heap_free(&f->h, p[3]), HEAP_ECORRUPT); /* down over e */
	assert_unchanged(f, snap);
	((struct hdr *)(p[4] - HDR))->magic = MAGIC_USED;
	for (int i = 4; i >= 0; i--)
		assert_int_equal(heap_free(&f->h, p[i]), 0);
	assert_int_equal(heap_check(&f->h), 0);
}

/* Expect free to refuse, writing nothing, when the freed block's own
 * boundary tag is rewritten by a caller's overflow (the seal leaves the
 * tag out) so that it skips the block below and lands on a real hole's
 * start further down:
 *   |F a|U b|U c|F rest|, c's prev_size = a + b.
 * The bitmap does say a hole starts there, and its header is sound; only
 * the hole's size, which is not what c's tag says, shows the lie.  Taken,
 * the merge would make one hole of a, b and c, with b still live in it. */
static void heap_free_refuses_tag_past_block_below(void **state)
{
	struct fix *f = *state;
	char *a = heap_alloc(&f->h, 64, 16), *b = heap_alloc(&f->h, 64, 16);
	char *c = heap_alloc(&f->h, 64, 16);
	struct hdr *hc = (struct hdr *)(c - HDR), saved;
	struct snap *snap;

	assert_non_null(c);
	assert_int_equal(heap_free(&f->h, a), 0);
	saved = *hc;
	hc->prev_size = (uint32_t)((c - a) / HDR);
	snap = take(f);
	assert_int_equal(heap_free(&f->h, c), HEAP_ECORRUPT);
	assert_unchanged(f, snap);
	*hc = saved;
	assert_int_equal(heap_free(&f->h, c), 0);
	assert_int_equal(heap_free(&f->h, b), 0);
	assert_int_equal(heap_check(&f->h), 0);
}

/* A hole an allocation cuts off between two used blocks:
 *   |U80 b|F192 tail|U80 c|F rest|
 * b is the block just handed out, so the tail's header is still late
 * (heap_impl.h: the late header) when this returns. */
static void cut_middle(struct fix *f, char **b, char **c)
{
	char *a;

	assert_int_equal(heap_init(&f->h, f->mem, REGION), 0);
	a = heap_alloc(&f->h, 256, 16);
	*c = heap_alloc(&f->h, 64, 16);
	assert_int_equal(heap_free(&f->h, a), 0);
	*b = heap_alloc(&f->h, 64, 16);
	assert_ptr_equal(*b, a);
}

/* Expect the tail an allocation cuts off to look, to every later call,
 * as if its header had been written at once: however the next call
 * reaches it, and with nothing written by a refused call. */
static void heap_late_tail_header_seen_by_every_call(void **state)
{
	struct fix *f = *state;
	const struct hdr *tail;
	struct snap *snap;
	char *b, *c;

	cut_middle(f, &b, &c); /* refused calls write nothing, the tail's header included */
	snap = take(f);
	assert_int_equal(heap_free(&f->h, b + 16), HEAP_EINVAL);
	assert_int_equal(heap_free(&f->h, b + 80), HEAP_EINVAL); /* the tail's "payload" */
	assert_null(heap_realloc(&f->h, c + 32, 10));
	assert_null(heap_realloc(&f->h, b, SIZE_MAX));
	assert_null(heap_alloc(&f->h, REGION, 16));
	assert_null(heap_alloc(&f->h, REGION, 64));
	assert_unchanged(f, snap);
	assert_int_equal(heap_check(&f->h), 0); /* the next call writes it */
	tail = (const struct hdr *)(b + 64);
	assert_int_equal(tail->magic, 0x46524545u); /* "FREE" */
	assert_int_equal(tail->size, 192 / HDR);
	assert_int_equal(tail->prev_size, 80 / HDR);
	assert_int_equal(tail->seal, seal_of(tail));

	cut_middle(f, &b, &c); /* freeing the block just handed out merges with it */
	assert_int_equal(heap_free(&f->h, b), 0);
	assert_int_equal(stats_of(&f->h).holes, 2);
	assert_int_equal(heap_check(&f->h), 0);
	assert_ptr_equal(heap_alloc(&f->h, 256, 16), b); /* the merged hole, whole */

	cut_middle(f, &b, &c); /* so does freeing the block above it */
	assert_int_equal(heap_free(&f->h, c), 0);
	assert_int_equal(stats_of(&f->h).holes, 1);
	assert_int_equal(heap_check(&f->h), 0);

	cut_middle(f, &b, &c); /* the checks of both neighbours see it */
	assert_int_equal(heap_check_ptr(&f->h, b), 0);
	assert_int_equal(heap_usable_size(&f->h, b), 64);
	assert_int_equal(heap_check_ptr(&f->h, c), 0);
	assert_int_equal(heap_usable_size(&f->h, c), 64);
	assert_int_equal(heap_check(&f->h), 0);

	cut_middle(f, &b, &c); /* a realloc grows into it */
	fill(b, 64, 3);
	assert_ptr_equal(heap_realloc(&f->h, b, 200), b);
	assert_true(filled(b, 64, 3));
	assert_int_equal(stats_of(&f->h).holes, 2);
	assert_int_equal(heap_check(&f->h), 0);

	/* A late top hole over bytes that look like a huge size: an aligned
	 * allocation too big for any hole reads no header, so it fails
	 * without taking those bytes for a damaged header. */
	memset(f->mem, 0xbe, REGION);
	assert_int_equal(heap_init(&f->h, f->mem, REGION), 0);
	assert_non_null(heap_alloc(&f->h, 16, 16));
	assert_null(heap_alloc(&f->h, REGION, 64));
	assert_int_equal(heap_check(&f->h), 0);
	assert_non_null(heap_alloc(&f->h, 16, 64));

	cut_middle(f, &b, &c); /* the next allocation takes it */
	assert_ptr_equal(heap_alloc(&f->h, 176, 16), b + 80);
	assert_int_equal(stats_of(&f->h).holes, 1);
	assert_int_equal(heap_check(&f->h), 0);
#ifdef HEAP_POISON
	cut_middle(f, &b, &c); /* checked builds write it at once: an overflow shows */
	memset(b + 64, 0, 8);
	assert_int_equal(heap_check(&f->h), HEAP_ECORRUPT);
#endif
}

#ifdef HEAP_POISON
/* Expect a write into freed memory to be caught (checked builds): by
 * heap_check, and by heap_alloc refusing to hand the damaged bytes out. */
static void heap_check_catches_use_after_free(void **state)
{
	struct fix *f = *state;
	char *a = heap_alloc(&f->h, 256, 16), *b = heap_alloc(&f->h, 16, 16);

	assert_non_null(b);
	assert_int_equal(heap_free(&f->h, a), 0);
	assert_int_equal(heap_check(&f->h), 0);
	a[100] = 1;
	assert_int_equal(heap_check(&f->h), HEAP_ECORRUPT);
	assert_null(heap_alloc(&f->h, 256, 16));
	a[100] = (char)0xdf;
	assert_ptr_equal(heap_alloc(&f->h, 256, 16), a);
}

/* Expect heap_realloc to refuse to grow into a hole written after its
 * free (checked builds), as heap_alloc refuses to hand it out: NULL, the
 * block where it was, not a quiet move to a sound hole below; and to grow
 * in place once the bytes are restored. */
static void heap_realloc_refuses_written_hole(void **state)
{
	struct fix *f = *state;
	char *low = heap_alloc(&f->h, 256, 16), *a = heap_alloc(&f->h, 64, 16),
	     *b = heap_alloc(&f->h, 256, 16);

	assert_non_null(heap_alloc(&f->h, 16, 16)); /* keeps b's hole off the top */
	memset(a, 'a', 64);
	assert_int_equal(heap_free(&f->h, low), 0); /* a sound hole a move could take */
	assert_int_equal(heap_free(&f->h, b), 0);
	b[20] = 1; /* inside what a 200-byte a would take */
	assert_null(heap_realloc(&f->h, a, 200));
	assert_int_equal(heap_usable_size(&f->h, a), 64);
	assert_int_equal(a[63], 'a');
	b[20] = (char)0xdf;
	assert_ptr_equal(heap_realloc(&f->h, a, 200), a);
	assert_int_equal(heap_check(&f->h), 0);
}
#endif

/* ---- all together ---- */

#define SLOTS 1000
#define STRESS_OPS 200000
#define CHECK_EVERY 1000
#define STRESS_REGION (1 << 20)

struct live {
	unsigned char *p;
	size_t size;
	unsigned char seed;
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t random_size(void)
{
	switch (next_rand() % 8) {
	case 0: return next_rand() % 16;
	case 1: return 4096 + next_rand() % 12288;
	default: return next_rand() % 1024;
	}
}

static void stress_step(struct heap *h, struct live *slot, size_t *nlive)
{
	struct live *s = &slot[next_rand() % SLOTS];
	unsigned op = next_rand() % 10;

	if (s->p)
		assert_true(filled(s->p, s->size, s->seed));
	if (!s->p) {
		size_t align = (size_t)1 << (next_rand() % 13);

		s->size = random_size();
		s->p = heap_alloc(h, s->size, next_rand() % 4 ? 16 : align);
		if (s->p) {
			assert_int_equal((uintptr_t)s->p % 16, 0);
			s->seed = (unsigned char)next_rand();
			fill(s->p, s->size, s->seed);
			++*nlive;
		}
	} else if (op < 6) {
		assert_int_equal(heap_free(h, s->p), 0);
		s->p = NULL;
		--*nlive;
	} else {
		size_t n = random_size();
		unsigned char *q = heap_realloc(h, s->p, n);

		if (q) {
			assert_true(filled(q, n < s->size ? n : s->size, s->seed));
			s->p = q;
			s->size = n;
			fill(q, n, s->seed);
		}
	}
}

/* Expect first fit to stay exact for blocks past the index's 512 KiB cap,
 * where the tree only says "512 KiB or more" (heap_impl.h: cap):
 *   |F a 1.5M|U|F c 2M|U|U e rest|
 * 1.8 MiB skips a for c, 1.2 MiB then takes a, 2.5 MiB finds nothing,
 * and largest_free looks inside the capped entries for the exact 2 MiB. */
static void heap_first_fit_past_the_tree_cap(void **state)
{
	size_t region = 8 << 20;
	unsigned char *mem = aligned_alloc(4096, region);
	char *a, *c, *e;
	struct heap h;

	(void)state;
	assert_non_null(mem);
	assert_int_equal(heap_init(&h, mem, region), 0);
	a = heap_alloc(&h, 1536 << 10, 16);
	assert_non_null(heap_alloc(&h, 16, 16));
	c = heap_alloc(&h, 2 << 20, 16);
	assert_non_null(heap_alloc(&h, 16, 16));
	e = heap_alloc(&h, stats_of(&h).largest_free, 16);
	assert_non_null(e);
	assert_int_equal(heap_free(&h, a), 0);
	assert_int_equal(heap_free(&h, c), 0);
	assert_int_equal(stats_of(&h).largest_free, 2 << 20);
	assert_null(heap_alloc(&h, 2560 << 10, 16));
	assert_ptr_equal(heap_alloc(&h, 1800 << 10, 16), c);
	assert_int_equal(stats_of(&h).largest_free, 1536 << 10);
	assert_ptr_equal(heap_alloc(&h, 1200 << 10, 16), a);
	assert_int_equal(heap_check(&h), 0);
	free(mem);
}

/* A heap past 1 MiB, where a free finds its block's size and both
 * neighbours in the bitmap (heap.c: prefetch_neighbours): BIG_BLOCKS
 * used blocks of 1000 bytes (1024 with the header) in a 4 MiB region. */
#define BIG_REGION (4 << 20)
#define BIG_BLOCKS 3000

struct big {
	struct heap h, hcopy;
	unsigned char *mem, *copy;
	char *p[BIG_BLOCKS];
};

static struct big *big_heap(void)
{
	struct big *b = calloc(1, sizeof *b);

	assert_non_null(b);
	b->mem = aligned_alloc(4096, BIG_REGION);
	b->copy = malloc(BIG_REGION);
	assert_non_null(b->mem);
	assert_non_null(b->copy);
	assert_int_equal(heap_init(&b->h, b->mem, BIG_REGION), 0);
	for (int i = 0; i < BIG_BLOCKS; i++) /* 3000 * 1 KiB: past the 1 MiB */
		assert_non_null(b->p[i] = heap_alloc(&b->h, 1000, 16));
	return b;
}

/* Expect a free of p to be refused as damage, with the heap and the
 * whole region left as they were. */
static void big_refuses(struct big *b, char *p)
{
	memcpy(b->copy, b->mem, BIG_REGION);
	b->hcopy = b->h;
	assert_int_equal(heap_free(&b->h, p), HEAP_ECORRUPT);
	assert_memory_equal(&b->hcopy, &b->h, sizeof b->h);
	assert_memory_equal(b->copy, b->mem, BIG_REGION);
}

static void big_done(struct big *b)
{
	assert_int_equal(heap_check(&b->h), 0);
	free(b->copy);
	free(b->mem);
	free(b);
}

/* Expect free to refuse, writing nothing, a block whose header was
 * rewritten and resealed with a size one granule larger, in a heap past
 * 1 MiB: there a free takes the block's size from the bitmap (where the
 * next block starts), and the header must agree with it.  Taken, the
 * bitmap's size would hide the forgery instead of reporting it. */
static void heap_free_refuses_resealed_size(void **state)
{
	struct big *b = big_heap();
	struct hdr *hb = (struct hdr *)(b->p[1500] - HDR), saved = *hb;

	(void)state;
	hb->size++;
	hb->seal = seal_of(hb);
	big_refuses(b, b->p[1500]);
	*hb = saved;
	assert_int_equal(heap_free(&b->h, b->p[1500]), 0);
	big_done(b);
}

/* Expect the checks of the block below to hold in a heap past 1 MiB,
 * where a free finds that block in the bitmap (the nearest start below)
 * rather than through its own tag.  With |F a|U b|U c|, 1 KiB each, a
 * free of c is refused, writing nothing, when
 *   - c's tag skips b to name the hole a, whose header is resealed to
 *     claim 2 KiB, so that the two agree (found through the tag alone,
 *     as in a heap under 1 MiB, this passes: the merge would make one
 *     hole of a, b and c with b still live in it; see docs/heap.md);
 *   - c's tag is one granule off;
 *   - b's header, resealed, claims one granule more;
 *   - b's header and c's tag both claim 2 KiB;
 *   - b's magic is damaged (an overflow from a onto it).
 * Then sound frees of c and b merge all three.  The seal leaves the tag
 * out (heap_impl.h), so a tag is rewritten without resealing. */
static void heap_free_checks_below_in_big_heap(void **state)
{
	struct big *b = big_heap();
	char *a = b->p[1500], *bb = b->p[1501], *c = b->p[1502];
	struct hdr *ha = (struct hdr *)(a - HDR), *hb = (struct hdr *)(bb - HDR);
	struct hdr *hc = (struct hdr *)(c - HDR), saved_a, saved_b = *hb, saved_c = *hc;
	uint32_t two = (uint32_t)((c - a) / HDR); /* 2 KiB in granules */

	(void)state;
	assert_int_equal(heap_free(&b->h, a), 0);
	saved_a = *ha;
	ha->size = two;
	ha->seal = seal_of(ha);
	hc->prev_size = two;
	big_refuses(b, c);
	*ha = saved_a;
	hc->prev_size = saved_c.prev_size + 1;
	big_refuses(b, c);
	*hc = saved_c;
	hb->size++;
	hb->seal = seal_of(hb);
	big_refuses(b, c);
	hb->size = two;
	hb->seal = seal_of(hb);
	hc->prev_size = two;
	big_refuses(b, c);
	*hc = saved_c;
	*hb = saved_b;
	hb->magic ^= 0x10;
	big_refuses(b, c);
	*hb = saved_b;
	assert_int_equal(heap_free(&b->h, c), 0);
	assert_int_equal(heap_free(&b->h, bb), 0);
	assert_int_equal(heap_check(&b->h), 0);
	assert_ptr_equal(heap_alloc(&b->h, 3 * 1024 - HDR, 16), a); /* one hole of a, b and c */
	big_done(b);
}

/* Expect 200k random allocs, frees and reallocs (fixed seed) to keep every
 * block's contents, the stats and every invariant; freeing all at the end
 * leaves one hole the size of the heap. */
static void heap_stress_random_ops(void **state)
{
	struct live *slot = calloc(SLOTS, sizeof *slot);
	unsigned char *mem = aligned_alloc(4096, STRESS_REGION);
	struct heap h;
	size_t nlive = 0;

	(void)state;
	assert_non_null(slot);
	assert_non_null(mem);
	assert_int_equal(heap_init(&h, mem, STRESS_REGION), 0);
	for (int op = 1; op <= STRESS_OPS; op++) {
		stress_step(&h, slot, &nlive);
		if (op % CHECK_EVERY == 0) {
			assert_int_equal(heap_check(&h), 0);
			assert_int_equal(stats_of(&h).allocations, nlive);
		}
	}
	for (int i = 0; i < SLOTS; i++)
		assert_int_equal(heap_free(&h, slot[i].p), 0);
	assert_int_equal(stats_of(&h).holes, 1);
	assert_int_equal(stats_of(&h).free, STRESS_REGION - INDEX(STRESS_REGION));
	free(mem);
	free(slot);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(heap_init_tiny_unaligned_regions_stay_inside),
		T(heap_init_zero_size_refused),
		T(heap_init_bad_regions_refused),
		T(heap_init_unaligned_region_rounded_in),
		T(heap_alloc_every_power_of_two_align),
		T(heap_alloc_non_power_of_two_align_null),
		T(heap_alloc_huge_size_or_align_null),
		T(heap_alloc_zero_size_minimum_block),
		T(heap_alloc_first_fit_lowest_address),
		T(heap_alloc_splits_only_big_remainders),
		T(heap_alloc_align_front_gap_becomes_hole),
		T(heap_free_coalesces_every_order),
		T(heap_free_null_noop),
		T(heap_free_double_refused_unchanged),
		T(heap_free_interior_pointer_refused),
		T(heap_free_outside_pointer_refused),
		T(heap_check_ptr_tells_live_from_bad),
		T(heap_realloc_null_acts_as_alloc),
		T(heap_realloc_zero_keeps_minimum_block),
		T(heap_realloc_shrink_in_place),
		T(heap_realloc_grow_in_place),
		T(heap_realloc_grow_moves_keeps_contents),
		T(heap_realloc_failure_keeps_old),
		T(heap_realloc_bad_pointer_null),
		T(heap_extend_merges_free_tail),
		T(heap_extend_after_used_tail_new_hole),
		T(heap_extend_small_steps_stay_inside),
		T(heap_extend_waiting_bytes_join_freed_last_block),
		T(heap_extend_zero_and_overflow),
		T(heap_stats_track_every_operation),
		T(heap_stats_largest_free_exact),
		T(heap_check_catches_corrupted_header),
		T(heap_check_catches_damaged_index_and_struct),
		T(heap_write_after_free_cannot_mislead),
		cmocka_unit_test(heap_extend_need_is_enough),
		T(heap_extend_need_counts_waiting_bytes),
		T(heap_usable_size_bounds),
		T(heap_free_refuses_corrupt_walk),
		T(heap_free_refuses_tag_past_block_below),
		T(heap_free_checks_below_in_big_heap),
		T(heap_late_tail_header_seen_by_every_call),
#ifdef HEAP_POISON
		T(heap_check_catches_use_after_free),
		T(heap_realloc_refuses_written_hole),
#endif
		T(heap_first_fit_past_the_tree_cap),
		T(heap_free_refuses_resealed_size),
		T(heap_stress_random_ops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
