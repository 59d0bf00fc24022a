/*
 * fuzz_heap.c - libFuzzer target for heap/heap.c.
 *
 * The input is a program: two bytes choose the region (misalignment and
 * size, tiny ones included), then each op byte picks an operation and the
 * bytes after it its arguments.  A shadow model keeps every live block's
 * address, size and fill pattern; after every op the target checks:
 *   - each live block still holds its pattern, lies inside the region, is
 *     aligned as asked and overlaps no other;
 *   - heap_check() == 0 and the stats agree with the model;
 *   - largest_free is exact: an alloc of it succeeds, of it + 1 fails;
 *   - nothing outside the region was written (guard bytes around it);
 *   - a bad free or realloc (interior, outside, double) changes no byte.
 * Any failure calls abort(), which libFuzzer reports with the input.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Iheap \
 *            test/fuzz/fuzz_heap.c heap/heap.c -o /tmp/fuzz_heap
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "fuzz_check.h"

#define BUF_SIZE (1 << 17) /* room for the region and its extensions */
#define GUARD 64
#define GUARD_BYTE 0xab
#define SLOTS 128

enum op { OP_ALLOC, OP_ALLOC_ALIGNED, OP_FREE, OP_REALLOC, OP_EXTEND,
	  OP_BAD_FREE, OP_BAD_ALLOC, OP_COUNT };

struct slot {
	unsigned char *p; /* NULL: empty */
	size_t size;
	size_t align;
	unsigned char seed;
};

struct world {
	struct heap h;
	unsigned char *buf;   /* [buf, buf + BUF_SIZE): guard, region, guard */
	unsigned char *start; /* the region is [start, end) */
	unsigned char *end;
	struct slot slot[SLOTS];
	size_t nlive;
	unsigned char *freed; /* the last pointer freed, for double frees */
	const uint8_t *in, *in_end;
};

static unsigned char snapshot[BUF_SIZE];

static unsigned next8(struct world *w)
{
	return w->in < w->in_end ? *w->in++ : 0;
}

static unsigned next16(struct world *w)
{
	unsigned lo = next8(w);

	return lo | next8(w) << 8;
}

static void fill(struct slot *s)
{
	for (size_t i = 0; i < s->size; i++)
		s->p[i] = (unsigned char)(s->seed + i * 31);
}

static int intact(const struct slot *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s->p[i] != (unsigned char)(s->seed + i * 31))
			return 0;
	return 1;
}

static int by_address(const void *a, const void *b)
{
	const struct slot *x = *(struct slot *const *)a, *y = *(struct slot *const *)b;

	return (x->p > y->p) - (x->p < y->p);
}

/* Every live block intact, inside the region, aligned, and disjoint. */
static void check_blocks(struct world *w)
{
	struct slot *live[SLOTS];
	size_t n = 0;

	for (int i = 0; i < SLOTS; i++) {
		struct slot *s = &w->slot[i];

		if (!s->p)
			continue;
		CHECK(intact(s, s->size));
		CHECK(s->p >= w->start + 16 && s->p + s->size <= w->end);
		CHECK((uintptr_t)s->p % (s->align < 16 ? 16 : s->align) == 0);
		live[n++] = s;
	}
	CHECK(n == w->nlive);
	qsort(live, n, sizeof live[0], by_address);
	for (size_t i = 1; i < n; i++) /* 16 bytes of header between blocks */
		CHECK(live[i - 1]->p + live[i - 1]->size + 16 <= live[i]->p);
}

/* The heap agrees with itself and with the model; largest_free is exact. */
static void check_heap(struct world *w)
{
	struct heap_stats s;
	uintptr_t lo = ((uintptr_t)w->start + 15) & ~(uintptr_t)15;
	uintptr_t hi = (uintptr_t)w->end & ~(uintptr_t)15;
	void *p;

	CHECK(heap_check(&w->h) == 0);
	heap_stats(&w->h, &s);
	CHECK(s.allocations == w->nlive);
	CHECK(s.used + s.free == s.size);
	/* The blocks and the index fill the region but for the tail slack
	 * (< 32 bytes) and, after small extends, bytes waiting for the index
	 * to move (less than it grows by: twice its size at most). */
	CHECK(s.size + s.index_bytes <= hi - lo);
	CHECK(hi - lo - s.size - s.index_bytes < 48 + 2 * s.index_bytes);
	CHECK(s.holes <= s.allocations + 1);
	CHECK(s.largest_free + 16 <= s.free || (s.largest_free == 0 && s.holes == 0));
	CHECK(heap_alloc(&w->h, s.largest_free + 1, 16) == NULL);
	if (s.holes) {
		p = heap_alloc(&w->h, s.largest_free, 16);
		CHECK(p != NULL);
		CHECK(heap_free(&w->h, p) == 0);
	}
}

/* Nothing written outside [start, end). */
static void check_guards(const struct world *w)
{
	for (const unsigned char *q = w->buf; q < w->start; q++)
		CHECK(*q == GUARD_BYTE);
	for (const unsigned char *q = w->end; q < w->buf + BUF_SIZE; q++)
		CHECK(*q == GUARD_BYTE);
}

static struct slot *pick(struct world *w)
{
	return &w->slot[next8(w) % SLOTS];
}

static size_t pick_size(struct world *w)
{
	unsigned kind = next8(w), v = next16(w);

	return kind & 0x80 ? v : kind & 0x40 ? v % 4096 : v % 256;
}

static void do_alloc(struct world *w, size_t align)
{
	struct slot *s = pick(w);
	size_t size = pick_size(w);
	struct heap_stats before;
	unsigned char *p;

	if (s->p)
		return;
	heap_stats(&w->h, &before);
	p = heap_alloc(&w->h, size, align);
	if (align <= 16 && before.holes && size <= before.largest_free)
		CHECK(p != NULL); /* largest_free promised it */
	if (!p)
		return;
	*s = (struct slot){ p, size, align, (unsigned char)next8(w) };
	fill(s);
	w->nlive++;
}

static void do_free(struct world *w)
{
	struct slot *s = pick(w);

	CHECK(heap_free(&w->h, s->p) == 0);
	if (!s->p)
		return;
	w->freed = s->p;
	s->p = NULL;
	w->nlive--;
}

static void do_realloc(struct world *w)
{
	struct slot *s = pick(w);
	size_t size = pick_size(w);
	unsigned char *p;

	if (!s->p)
		return;
	p = heap_realloc(&w->h, s->p, size);
	if (!p)
		return; /* check_blocks proves the old block intact */
	s->p = p;
	CHECK(intact(s, size < s->size ? size : s->size));
	s->size = size;
	s->align = 16;
	fill(s);
}

static void do_extend(struct world *w)
{
	size_t room = (size_t)(w->buf + BUF_SIZE - GUARD - w->end);
	size_t by = next8(w) & 1 ? next8(w) % 48 : next16(w);

	if (by > room)
		by = room;
	CHECK(heap_extend(&w->h, by) == 0);
	w->end += by;
}

/* A pointer that is not a live block start: interior, outside, or freed. */
static unsigned char *bad_pointer(struct world *w)
{
	struct slot *s = pick(w);
	unsigned kind = next8(w), off = next16(w);

	unsigned char *p;

	switch (kind % 4) {
	case 0: p = s->p ? s->p + 1 + off % (s->size + 15) : NULL; break;
	case 1: p = s->p ? s->p - 1 - off % 48 : NULL; break;
	case 2: p = kind & 4 ? w->start - off % GUARD : w->end + off % GUARD; break;
	default: p = w->freed; break;
	}
	/* Before a block may lie another live block's start (small blocks
	 * sit 32 bytes apart), and a freed pointer may be handed out again. */
	for (int i = 0; i < SLOTS; i++)
		if (w->slot[i].p == p)
			return NULL;
	return p;
}

static void do_bad_free(struct world *w)
{
	unsigned char *p = bad_pointer(w);
	struct heap h = w->h;

	if (!p)
		return;
	memcpy(snapshot, w->buf, BUF_SIZE);
	CHECK(next8(w) & 1 ? heap_free(&w->h, p) < 0 : heap_realloc(&w->h, p, 64) == NULL);
	CHECK(memcmp(&h, &w->h, sizeof h) == 0);
	CHECK(memcmp(snapshot, w->buf, BUF_SIZE) == 0);
}

/* Sizes and alignments that can never be met: NULL, nothing changes. */
static void do_bad_alloc(struct world *w)
{
	static const size_t size[] = { SIZE_MAX, SIZE_MAX - 15, SIZE_MAX / 2, HEAP_MAX_SIZE, BUF_SIZE };
	static const size_t align[] = { 0, 3, 24, 4095, SIZE_MAX, (size_t)1 << 63 };
	unsigned k = next8(w);

	if (k & 1)
		CHECK(heap_alloc(&w->h, size[k / 2 % 5], 16) == NULL);
	else
		CHECK(heap_alloc(&w->h, 16, align[k / 2 % 6]) == NULL);
}

static void run_op(struct world *w, unsigned op)
{
	switch (op % OP_COUNT) {
	case OP_ALLOC: do_alloc(w, 16); break;
	case OP_ALLOC_ALIGNED: do_alloc(w, (size_t)1 << next8(w) % 13); break;
	case OP_FREE: do_free(w); break;
	case OP_REALLOC: do_realloc(w); break;
	case OP_EXTEND: do_extend(w); break;
	case OP_BAD_FREE: do_bad_free(w); break;
	case OP_BAD_ALLOC: do_bad_alloc(w); break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct world w;

	if (!w.buf) {
		w.buf = aligned_alloc(4096, BUF_SIZE);
		CHECK(w.buf != NULL);
	}
	memset(w.buf, GUARD_BYTE, BUF_SIZE);
	memset(w.slot, 0, sizeof w.slot);
	w.nlive = 0;
	w.freed = NULL;
	w.in = data;
	w.in_end = data + len;
	w.start = w.buf + GUARD + next8(&w) % 16;
	w.end = w.start + next16(&w) % (BUF_SIZE / 2);
	if (heap_init(&w.h, w.start, (size_t)(w.end - w.start)) != 0) {
		/* only regions under 128 aligned bytes: a block and the index */
		CHECK(w.end - w.start < 128 + 30);
		CHECK(heap_alloc(&w.h, 1, 16) == NULL);
		check_guards(&w);
		return 0;
	}
	while (w.in < w.in_end) {
		run_op(&w, next8(&w));
		check_blocks(&w);
		check_heap(&w);
	}
	check_guards(&w);
	return 0;
}
