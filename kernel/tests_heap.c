/*
 * tests_heap.c - self-tests of the kernel heap: blog_os's four tests, then
 * alignment, coalescing, out of memory, realloc, bad frees, growth and a
 * randomized stress.  Tests that need an empty heap use a private struct
 * heap over a static buffer; the others use the kernel heap itself.
 */
#include "selftest.h"
#include "kheap.h"
#include "frames.h"
#include "layout.h"
#include "vec.h"
#include "cpu.h" /* rdtsc */

#define PRIVATE_SIZE (64u << 10)
static uint8_t private_buf[PRIVATE_SIZE] __attribute__((aligned(16)));
static struct heap ph;

/* blog_os loops HEAP_SIZE times in many_boxes.  Ours is heap= (1 MiB by
 * default, up to 1 GiB): capped at 1 Mi iterations, which already needs
 * 32 times the default heap if nothing were reused. */
#define MANY_BOXES_MAX (1u << 20)

static uint64_t heap_size(void)
{
	return kernel_boot_info()->opts.heap_size;
}

static uint64_t many_boxes_count(void)
{
	return heap_size() < MANY_BOXES_MAX ? heap_size() : MANY_BOXES_MAX;
}

/* Expect two boxes to hold their values (blog_os simple_allocation). */
static void simple_allocation(void)
{
	long *a = kmalloc(sizeof(long)), *b = kmalloc(sizeof(long));

	EXPECT(a && b);
	if (!a || !b)
		return;
	*a = 41;
	*b = 13;
	EXPECT(*a == 41 && *b == 13);
	kfree(a);
	kfree(b);
}

/* Expect a 1000-element vector to sum to 499500 (blog_os large_vec). */
static void large_vec(void)
{
	struct vec v = { 0 };
	long sum = 0;

	for (long i = 0; i < 1000; i++)
		EXPECT(vec_push(&v, i));
	for (size_t i = 0; i < v.len; i++)
		sum += v.data[i];
	EXPECT(sum == 999 * 1000 / 2);
	vec_free(&v);
}

/* Expect HEAP_SIZE short-lived boxes to fit in the heap: memory is
 * reused (blog_os many_boxes). */
static void many_boxes(void)
{
	struct kheap_usage before, after;

	kheap_usage(&before);
	for (uint64_t i = 0; i < many_boxes_count(); i++) {
		uint64_t *x = kmalloc(sizeof(*x));
		if (!x) {
			EXPECT(x != NULL);
			return;
		}
		*x = i;
		EXPECT(*x == i);
		kfree(x);
	}
	kheap_usage(&after);
	EXPECT(after.mapped == before.mapped); /* no growth was needed */
}

/* Expect reuse even with one long-lived box in the way
 * (blog_os many_boxes_long_lived). */
static void many_boxes_long_lived(void)
{
	uint64_t *long_lived = kmalloc(sizeof(*long_lived));
	struct kheap_usage before, after;

	EXPECT(long_lived != NULL);
	if (!long_lived)
		return;
	*long_lived = 1;
	kheap_usage(&before);
	for (uint64_t i = 0; i < many_boxes_count(); i++) {
		uint64_t *x = kmalloc(sizeof(*x));
		EXPECT(x != NULL);
		if (!x)
			break;
		*x = i;
		kfree(x);
	}
	kheap_usage(&after);
	EXPECT(*long_lived == 1);
	EXPECT(after.mapped == before.mapped);
	kfree(long_lived);
}

/* Expect every power-of-two alignment from 1 to 4096 to be honoured. */
static void heap_alignment(void)
{
	for (size_t align = 1; align <= 4096; align *= 2) {
		void *p[3] = { kmalloc_aligned(1, align), kmalloc_aligned(24, align),
			       kmalloc_aligned(1000, align) };
		for (int i = 0; i < 3; i++) {
			EXPECT(p[i] != NULL);
			EXPECT((uintptr_t)p[i] % (align < 16 ? 16 : align) == 0);
		}
		for (int i = 0; i < 3; i++)
			kfree(p[i]);
	}
	EXPECT(kmalloc_aligned(16, 48) == NULL); /* not a power of two */
}

/* Step a[] to its next permutation in lexicographic order; false after
 * the last one (3 2 1 0). */
static bool next_permutation(int *a, int n)
{
	int i = n - 2, j = n - 1, t;

	while (i >= 0 && a[i] >= a[i + 1])
		i--;
	if (i < 0)
		return false;
	while (a[j] <= a[i])
		j--;
	t = a[i], a[i] = a[j], a[j] = t;
	for (int l = i + 1, r = n - 1; l < r; l++, r--)
		t = a[l], a[l] = a[r], a[r] = t;
	return true;
}

/* Expect freeing four neighbours in every one of the 24 orders to leave
 * a single hole, from which the whole heap can be allocated again:
 *
 *   | a | b | c | d | tail |   ->   |          one hole           |
 */
static void heap_coalescing_every_order(void)
{
	struct heap_stats fresh, s;
	int order[4] = { 0, 1, 2, 3 };

	EXPECT(heap_init(&ph, private_buf, PRIVATE_SIZE) == 0);
	heap_stats(&ph, &fresh);
	do {
		void *blk[4];
		for (int i = 0; i < 4; i++) {
			blk[i] = heap_alloc(&ph, 1000, 16);
			EXPECT(blk[i] != NULL); /* heap_free(NULL) is a no-op: it would hide this */
		}
		for (int i = 0; i < 4; i++)
			EXPECT(heap_free(&ph, blk[order[i]]) == 0);
		heap_stats(&ph, &s);
		EXPECT(s.holes == 1 && s.allocations == 0);
		EXPECT(heap_check(&ph) == 0);
	} while (next_permutation(order, 4));
	void *all = heap_alloc(&ph, fresh.largest_free, 16);
	EXPECT(all != NULL);
	EXPECT(heap_free(&ph, all) == 0);
}

/* Expect a request larger than the window to fail cleanly, and the heap
 * to work afterwards. */
static void heap_out_of_memory(void)
{
	void *p;

	EXPECT(kmalloc(HEAP_MAX + 1) == NULL);
	EXPECT(kmalloc((size_t)-1) == NULL);
	EXPECT(heap_init(&ph, private_buf, PRIVATE_SIZE) == 0);
	EXPECT(heap_alloc(&ph, PRIVATE_SIZE, 16) == NULL);
	EXPECT(heap_check(&ph) == 0);
	p = kmalloc(64);
	EXPECT(p != NULL);
	kfree(p);
	EXPECT(kheap_check() == 0);
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static bool same(const uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (uint8_t)(seed + i * 7))
			return false;
	return true;
}

/* Expect realloc to keep the prefix when it grows in place, when it must
 * move (a neighbour is in the way), and when it shrinks. */
static void heap_realloc_grow_shrink(void)
{
	uint8_t *a, *b, *fence;

	EXPECT(heap_init(&ph, private_buf, PRIVATE_SIZE) == 0);
	a = heap_alloc(&ph, 100, 16);
	EXPECT(a != NULL);
	if (!a)
		return;
	fill(a, 100, 1);
	b = heap_realloc(&ph, a, 400); /* the tail is free: grows in place */
	EXPECT(b == a && same(b, 100, 1));
	fence = heap_alloc(&ph, 16, 16); /* now a neighbour blocks growth */
	EXPECT(b != NULL && fence != NULL);
	if (!b || !fence)
		return;
	fill(b, 400, 2);
	a = heap_realloc(&ph, b, 2000);
	EXPECT(a != NULL && a != b && same(a, 400, 2));
	b = heap_realloc(&ph, a, 50);
	EXPECT(b == a && same(b, 50, 2));
	EXPECT(heap_realloc(&ph, b, PRIVATE_SIZE * 2) == NULL); /* fails... */
	EXPECT(same(b, 50, 2));                                  /* ...old kept */
	EXPECT(heap_free(&ph, b) == 0 && heap_free(&ph, fence) == 0);
	EXPECT(heap_check(&ph) == 0);
}

/* Expect frees of foreign, interior and already-free pointers to be
 * refused with the heap unchanged. */
static void heap_bad_frees_refused(void)
{
	struct heap_stats before, after;
	uint8_t *a, *b;
	static uint8_t outside[32];

	EXPECT(heap_init(&ph, private_buf, PRIVATE_SIZE) == 0);
	a = heap_alloc(&ph, 64, 16);
	b = heap_alloc(&ph, 64, 16);
	EXPECT(a != NULL && b != NULL);
	if (!a || !b)
		return;
	EXPECT(heap_free(&ph, a) == 0);
	heap_stats(&ph, &before);
	EXPECT(heap_free(&ph, a) < 0);          /* double free */
	EXPECT(heap_free(&ph, b + 16) < 0);     /* interior pointer */
	EXPECT(heap_free(&ph, outside) < 0);    /* not this heap's */
	EXPECT(heap_free(&ph, (void *)((uintptr_t)private_buf + PRIVATE_SIZE + 64)) < 0);
	heap_stats(&ph, &after);
	EXPECT(before.allocations == after.allocations && before.free == after.free);
	EXPECT(heap_check(&ph) == 0);
	EXPECT(heap_free(&ph, b) == 0);
}

/* Frames the growth test needs free: one growth step (256 KiB, kheap.c's
 * GROW_MIN), its page tables (layout_heap_tables: 5 at most) and the 16
 * frames kheap keeps free besides, doubled. */
#define GROWTH_FRAMES 170

/* Expect the kernel heap to grow past its initial size with new frames
 * once its holes are full, then every block to free cleanly.  The heap
 * is filled with 64 KiB chunks, chained through their first word (no
 * array: heap= may be up to 1 GiB), until the window has grown; so the
 * test needs one growth step of frames whatever heap= was. */
static void heap_growth_beyond_initial(void)
{
	enum { CHUNK = 64 << 10 };
	struct kheap_usage before, now;
	void **head = NULL;
	uint64_t n = 0, limit;

	if (frames_free_count() < GROWTH_FRAMES) {
		SKIP("too few free frames to grow the heap");
		return;
	}
	kheap_usage(&before);
	limit = before.mapped / CHUNK + 2; /* more than the holes can hold */
	for (now = before; now.mapped == before.mapped && n < limit; n++) {
		void **c = kmalloc(CHUNK);
		EXPECT(c != NULL);
		if (!c)
			break;
		*c = head;
		head = c;
		fill((uint8_t *)(c + 1), 64, (uint8_t)n);
		kheap_usage(&now);
	}
	EXPECT(now.mapped > before.mapped);
	for (; head; n--) {
		void **next = *head;
		EXPECT(same((uint8_t *)(head + 1), 64, (uint8_t)(n - 1)));
		kfree(head);
		head = next;
	}
	EXPECT(kheap_check() == 0);
}

/* Expect the heap to grow until the window's maximum or the machine's
 * frames run out, then kmalloc to return NULL, and everything to work
 * after the blocks are freed.  (The frames stay in the heap window.) */
static void heap_exhaustion_returns_null(void)
{
	enum { CHUNK = 4 << 20, MAX_CHUNKS = HEAP_MAX / CHUNK + 1 };
	static void *chunks[MAX_CHUNKS];
	size_t n = 0;
	void *p;

	struct kheap_usage u;

	while (n < MAX_CHUNKS && (chunks[n] = kmalloc(CHUNK)) != NULL)
		n++;
	/* NULL is only right when the window is full or frames are short
	 * (a 4 MiB growth needs 1025 frames plus kheap's headroom). */
	kheap_usage(&u);
	EXPECT(u.mapped + 2 * CHUNK > HEAP_MAX || frames_free_count() < 2 * CHUNK / 4096);
	EXPECT(kheap_check() == 0);
	p = kmalloc(64);        /* small blocks may still fit in the last hole */
	for (size_t i = 0; i < n; i++)
		kfree(chunks[i]);
	kfree(p);
	p = kmalloc(CHUNK);     /* and now a big one fits again */
	EXPECT(p != NULL);
	kfree(p);
	kprintf("# exhaustion: %lu chunks of 4 MiB before NULL\n", (uint64_t)n);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

#define STRESS_SLOTS 256
#define STRESS_OPS 1000000
#define STRESS_CHECK_EVERY 10000
/* The heap picture is redrawn every STRESS_DRAW_EVERY operations: often
 * enough to watch, rarely enough that drawing stays under 10 % of the
 * test's time (it prints the share it measured). */
#define STRESS_DRAW_EVERY 10000

struct slot {
	uint8_t *p;
	size_t n;
	uint8_t seed;
};

/* Allocations the stress saw refused: it holds at most 256 blocks of 4 KiB,
 * so the heap can always grow for them and none may fail. */
static uint64_t stress_refusals;

static void stress_step(struct slot *s)
{
	uint64_t r = rng();

	if (s->p && !same(s->p, s->n, s->seed)) {
		EXPECT(!"a live block's contents changed");
		s->p = NULL; /* leaked on purpose: it is corrupt */
		return;
	}
	if (s->p && (r & 3) == 0) {
		size_t n = 1 + (r >> 8) % 2048;
		uint8_t *q = krealloc(s->p, n);
		if (q) {
			s->p = q;
			s->n = n < s->n ? n : s->n;
		} else {
			stress_refusals++;
		}
		return;
	}
	if (s->p) {
		kfree(s->p);
		s->p = NULL;
		return;
	}
	s->n = 1 + (r >> 8) % ((r & 0x10) ? 4096 : 128);
	s->p = kmalloc_aligned(s->n, (size_t)16 << ((r >> 32) % 4));
	s->seed = (uint8_t)(r >> 40);
	if (s->p)
		fill(s->p, s->n, s->seed);
	else
		stress_refusals++;
}

/* What the picture cost the stress test: the share of its cycles spent
 * drawing, and the ratio of its time to the time it would take without. */
static void report_drawing(uint64_t total, uint64_t drawing)
{
	if (drawing == 0 || drawing >= total) {
		kputs("# stress: no heap picture on this screen\n");
		return;
	}
	kprintf("# stress: heap picture every %d operations: %lu of %lu Mcycles drawing (%lu.%lu%%), "
		"with/without %lu.%03lu (rdtsc, emulated under QEMU TCG)\n",
		STRESS_DRAW_EVERY, drawing / 1000000, total / 1000000, drawing * 100 / total,
		drawing * 1000 / total % 10, total / (total - drawing),
		total * 1000 / (total - drawing) % 1000);
}

/* Expect a million random allocs, frees and reallocs (mixed sizes and
 * alignments) to keep every live block's bytes and every invariant. */
static void heap_random_stress(void)
{
	static struct slot slots[STRESS_SLOTS];

	uint64_t drawn = heapview_cycles(), t0 = rdtsc();

	stress_refusals = 0;
	for (uint64_t op = 1; op <= STRESS_OPS; op++) {
		stress_step(&slots[rng() % STRESS_SLOTS]);
		if (op % STRESS_CHECK_EVERY == 0)
			EXPECT(kheap_check() == 0);
		if (op % STRESS_DRAW_EVERY == 0)
			heapview_update();
		if (op == STRESS_OPS / 2)
			heapview_pause("stress");
	}
	report_drawing(rdtsc() - t0, heapview_cycles() - drawn);
	for (int i = 0; i < STRESS_SLOTS; i++) {
		if (slots[i].p) {
			EXPECT(same(slots[i].p, slots[i].n, slots[i].seed));
			kfree(slots[i].p);
		}
		slots[i].p = NULL;
	}
	EXPECT(stress_refusals == 0);
	kprintf("# stress: %d operations, heap_check every %d\n", STRESS_OPS, STRESS_CHECK_EVERY);
}

const struct selftest heap_tests[] = {
	{ "simple_allocation", simple_allocation },
	{ "large_vec", large_vec },
	{ "many_boxes", many_boxes },
	{ "many_boxes_long_lived", many_boxes_long_lived },
	{ "heap_alignment", heap_alignment },
	{ "heap_coalescing_every_order", heap_coalescing_every_order },
	{ "heap_out_of_memory", heap_out_of_memory },
	{ "heap_realloc_grow_shrink", heap_realloc_grow_shrink },
	{ "heap_bad_frees_refused", heap_bad_frees_refused },
	{ "heap_growth_beyond_initial", heap_growth_beyond_initial },
	{ "heap_random_stress", heap_random_stress },
	{ NULL, NULL },
};

/* Run after every other table (selftest.c).  It leaves nearly every free
 * frame in the heap window, which never shrinks: a later test that takes
 * frames itself (smp_frames_and_tables_all_cpus) would get only what the
 * last 4 MiB step could not use, an amount that moves with the memory
 * size and the heap's own layout. */
const struct selftest heap_exhaustion_tests[] = {
	{ "heap_exhaustion_returns_null", heap_exhaustion_returns_null },
	{ NULL, NULL },
};
