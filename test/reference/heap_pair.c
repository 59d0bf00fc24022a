/*
 * heap_pair.c - the fast heap and the reference list heap, call by call.
 * See heap_pair.h.
 */
#include "heap_pair.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "list_heap.h"

#define SLOTS 256            /* the slots a program picks from */
#define BALLAST_SLOT SLOTS   /* one more past them: pair_ballast's */
#define PATTERN_MAX 4096 /* bytes of each payload that carry the pattern */

struct slot {
	size_t off; /* payload offset from the buffer's start */
	size_t len; /* 0: empty */
	unsigned char seed;
};

struct pair {
	struct heap fast;
	struct list_heap ref;
	unsigned char *a, *b;  /* the two buffers */
	size_t off, size, room; /* the region is [off, size) of room bytes */
	size_t freed;          /* offset of the last payload freed, for double frees */
	int scramble;          /* pair_scramble() */
	struct slot live[SLOTS + 1];
};

static void pair_fail(const char *what, int line)
{
	fprintf(stderr, "heap_pair.c:%d: the heaps disagree: %s\n", line, what);
	abort();
}

#define AGREE(cond) \
	do { \
		if (!(cond)) \
			pair_fail(#cond, __LINE__); \
	} while (0)

static unsigned next8(struct program *prog)
{
	return prog->at < prog->end ? *prog->at++ : 0;
}

static unsigned next16(struct program *prog)
{
	unsigned lo = next8(prog);

	return lo | next8(prog) << 8;
}

/* Mostly small sizes, sometimes up to 64 KiB, log-spread. */
static size_t some_size(struct program *prog)
{
	unsigned bits = next8(prog) % 17;

	return next16(prog) % ((size_t)1 << bits);
}

static void same_stats(struct pair *p)
{
	struct heap_stats f, r;

	heap_stats(&p->fast, &f);
	list_heap_stats(&p->ref, &r);
	AGREE(f.size == r.size);
	AGREE(f.used == r.used);
	AGREE(f.free == r.free);
	AGREE(f.largest_free == r.largest_free);
	AGREE(f.holes == r.holes);
	AGREE(f.allocations == r.allocations);
	AGREE(heap_check(&p->fast) == 0);
	AGREE(list_heap_check(&p->ref) == 0);
}

static size_t pattern_len(const struct slot *s)
{
	return s->len < PATTERN_MAX ? s->len : PATTERN_MAX;
}

static void fill(unsigned char *q, const struct slot *s)
{
	for (size_t i = 0; i < pattern_len(s); i++)
		q[i] = (unsigned char)(s->seed + i * 13);
}

static void check_fill(const unsigned char *q, const struct slot *s, size_t n)
{
	n = n < pattern_len(s) ? n : pattern_len(s);
	for (size_t i = 0; i < n; i++)
		AGREE(q[i] == (unsigned char)(s->seed + i * 13));
}

/* Both returned NULL, or the same offset into their buffers. */
static void same_pointer(const struct pair *p, const void *f, const void *r)
{
	AGREE((f == NULL) == (r == NULL));
	if (f)
		AGREE((const unsigned char *)f - p->a == (const unsigned char *)r - p->b);
}

static void remember(struct pair *p, struct slot *s, unsigned char *f, size_t len)
{
	s->off = (size_t)(f - p->a);
	s->len = len ? len : 1;
	s->seed = (unsigned char)(s->off * 7 + len);
	fill(f, s);
}

static void do_alloc(struct pair *p, struct slot *s, size_t len, size_t align)
{
	unsigned char *f = heap_alloc(&p->fast, len, align);
	void *r = list_heap_alloc(&p->ref, len, align);

	same_pointer(p, f, r);
	if (f)
		remember(p, s, f, len);
}

static void do_free(struct pair *p, struct slot *s)
{
	check_fill(p->a + s->off, s, s->len);
	AGREE(heap_free(&p->fast, p->a + s->off) == 0);
	AGREE(list_heap_free(&p->ref, p->b + s->off) == 0);
	p->freed = s->off;
	s->len = 0;
}

static void do_realloc(struct pair *p, struct slot *s, size_t len)
{
	unsigned char *f = heap_realloc(&p->fast, p->a + s->off, len);
	void *r = list_heap_realloc(&p->ref, p->b + s->off, len);

	same_pointer(p, f, r);
	if (!f)
		return;
	check_fill(f, s, len);
	remember(p, s, f, len);
}

/* off, or 16 past it while a live payload starts there. */
static size_t not_live(const struct pair *p, size_t off)
{
	for (int i = 0; i <= BALLAST_SLOT; i++)
		if (p->live[i].len && p->live[i].off == off)
			return not_live(p, off + 16);
	return off;
}

/* A pointer no allocation handed out: both refuse it and change nothing. */
static void do_bad_free(struct pair *p, size_t off)
{
	struct heap_stats before, after;

	heap_stats(&p->fast, &before);
	AGREE(heap_free(&p->fast, p->a + off) < 0);
	AGREE(list_heap_free(&p->ref, p->b + off) < 0);
	heap_stats(&p->fast, &after);
	AGREE(before.used == after.used && before.holes == after.holes);
}

static void bad_free(struct pair *p, struct slot *s, struct program *prog)
{
	unsigned how = next8(prog) % 3;

	if (how == 0 && s->len > 16) /* inside a live block */
		do_bad_free(p, s->off + 16 * (1 + next16(prog) % ((s->len - 1) / 16)));
	else if (how == 1 && p->freed) /* a double free, unless reused since */
		do_bad_free(p, not_live(p, p->freed));
	else /* anywhere in or near the region, past any ballast */
		do_bad_free(p, not_live(p, (next16(prog) * 16u + p->off +
					    p->live[BALLAST_SLOT].len) % (p->room + 64)));
}

static void do_extend(struct pair *p, struct program *prog)
{
	size_t by = next8(prog) % 2 ? next8(prog) % 64 : next16(prog);
	uintptr_t limit = p->fast.limit;

	if (p->off + p->size + by > p->room)
		return;
	AGREE(heap_extend(&p->fast, by) == 0);
	AGREE(list_heap_extend(&p->ref, p->fast.limit - limit) == 0);
	p->size += by;
}

/* Junk where the fast heap's late header goes, if one is pending: bytes
 * of a hole that nothing may read before the heap writes them. */
static void scramble_late(struct pair *p, struct program *prog)
{
	const struct heap_late *l = &p->fast.late;

	if (l->size)
		memset((void *)(p->fast.base + (uintptr_t)l->g * HEAP_ALIGN), (int)next8(prog) ^ 0xA5,
		       HEAP_ALIGN);
}

void pair_scramble(struct pair *p)
{
	p->scramble = 1;
}

void pair_step(struct pair *p, struct program *prog)
{
	unsigned op, pick;
	struct slot *s;

	if (p->scramble)
		scramble_late(p, prog);
	op = next8(prog) % 8;
	pick = next8(prog) % SLOTS;
	s = &p->live[pick];

	if (op == 7)
		do_extend(p, prog);
	else if (s->len == 0 && op < 4) /* an empty slot: allocate */
		do_alloc(p, s, some_size(prog), op == 3 ? (size_t)1 << (next8(prog) % 13) : 16);
	else if (s->len && op == 4)
		do_free(p, s);
	else if (s->len && op == 5)
		do_realloc(p, s, some_size(prog));
	else if (op == 6)
		bad_free(p, s, prog);
	if (!p->scramble || next8(prog) % 8 == 0)
		same_stats(p);
}

struct pair *pair_new(size_t off, size_t size, size_t room)
{
	struct pair *p = calloc(1, sizeof *p);

	if (!p || off + size > room)
		abort();
	p->a = aligned_alloc(4096, (room + 4095) / 4096 * 4096);
	p->b = aligned_alloc(4096, (room + 4095) / 4096 * 4096);
	if (!p->a || !p->b)
		abort();
	p->off = off;
	p->size = size;
	p->room = room;
	if (heap_init(&p->fast, p->a + off, size) != 0) {
		pair_free(p);
		return NULL;
	}
	AGREE(list_heap_init(&p->ref, p->b + off, p->fast.limit - (uintptr_t)(p->a + off)) == 0);
	same_stats(p);
	return p;
}

void pair_ballast(struct pair *p, size_t len)
{
	do_alloc(p, &p->live[BALLAST_SLOT], len, 16);
	AGREE(p->live[BALLAST_SLOT].len == len);
	same_stats(p);
}

void pair_drain(struct pair *p)
{
	struct heap_stats s;

	for (int i = 0; i <= BALLAST_SLOT; i++) /* the ballast last */
		if (p->live[i].len)
			do_free(p, &p->live[i]);
	same_stats(p);
	heap_stats(&p->fast, &s);
	AGREE(s.holes == 1 && s.used == 0);
}

void pair_free(struct pair *p)
{
	free(p->a);
	free(p->b);
	free(p);
}
