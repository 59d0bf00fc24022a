/*
 * list_heap.c - the reference heap: the first version of heap/heap.c, kept
 * as it was (only renamed) so the fast heap can be tested against it.
 *
 * It is a plain address-ordered list: heap_alloc walks the holes from the
 * lowest address, heap_free walks to prove the pointer is a live block.
 * Slow (O(holes) per call) but simple enough to trust, so the
 * differential test (test/host/test_heap_diff.c) and the differential
 * fuzzer (test/fuzz/fuzz_heap_diff.c) require heap/heap.c to choose the
 * same address for every allocation and report the same heap_stats.
 *
 * Its original header comment follows.
 *
 * heap.c - the kernel heap: address-ordered first fit with boundary tags.
 *
 * Owns every byte in [base, top) of each struct list_heap: the block headers,
 * the hole list threaded through the free blocks, and (HEAP_POISON) the
 * poison pattern inside them.  Layout and costs are in heap.h.
 *
 * Invariants, all checked by list_heap_check():
 *   1. Blocks tile [base, top): each starts where the one below ends.
 *      Every header is sealed, and its prev_size is the size of the block
 *      just below it (0 for the first): a boundary tag.
 *   2. Every free block is on the hole list once, the list is in address
 *      order, and no two holes touch (a free merges them at once).
 *   3. used + free == top - base, and nholes / nallocs count the blocks.
 *   4. [top, end) is under 32 bytes: too few for a block after a used
 *      last block (they wait for the next list_heap_extend), or alignment slack.
 *   5. HEAP_POISON: every byte of a hole past its header and link holds
 *      POISON_BYTE.
 *
 * Why list_heap_free walks: a pointer into the middle of a live block points at
 * bytes the caller wrote, so no header, magic or footer found there can
 * prove it is a block start.  Only reaching it from something the heap
 * itself knows is reliable.  So free walks the hole list to the holes just
 * below and above the pointer (it needs them anyway, to insert in address
 * order), then steps block by block from the nearer one: up by sizes from
 * the hole below, or down by boundary tags (prev_size) from the hole above,
 * checking every header on the way.  The pointer is a block start exactly
 * when a step lands on it.  Cost: O(holes below) + O(used blocks between
 * the pointer and the nearer hole); both are short when holes are many
 * (the list walk dominates) and when they are few (LIFO and FIFO frees
 * find a hole right next to the block).  The seal and the tags are cheap
 * extra checks that catch a header overwritten by an overflow.
 */
#include "list_heap.h"

#include <stdbool.h>

#define G HEAP_ALIGN            /* the granule: 16 bytes */
#define MIN_BLOCK (2 * G)       /* header + room for a hole's link */
#define MAGIC_USED 0x55534544u  /* "USED" */
#define MAGIC_FREE 0x46524545u  /* "FREE" */
#define POISON_BYTE 0xdf

struct block {
	uint32_t magic;     /* MAGIC_USED or MAGIC_FREE */
	uint32_t size;      /* this block in granules, header included */
	uint32_t prev_size; /* the block just below, in granules; 0 for the first */
	uint32_t seal;      /* seal_of(): fails if any field or the address changed */
};

struct list_hole {
	struct block hdr;
	struct list_hole *next; /* next hole up, or NULL */
};

_Static_assert(sizeof(struct block) == G, "the header keeps payloads 16-aligned");
_Static_assert(sizeof(struct list_hole) <= MIN_BLOCK, "a hole fits a minimum block");
_Static_assert(sizeof(size_t) >= 8, "sizes up to 64 GiB need a 64-bit size_t");

/* Where an address sits among the holes and blocks (see find_holes()). */
struct spot {
	uintptr_t at;            /* a block start, or top */
	struct list_hole *below; /* the nearest hole under at, or NULL */
	struct list_hole **link; /* the link that holds the first hole at or above at */
	uint32_t prev;           /* size of the block just under at; 0 if none */
};

static uintptr_t addr(const void *p)
{
	return (uintptr_t)p;
}

static struct block *block_at(uintptr_t a)
{
	return (struct block *)a;
}

static size_t bytes(const struct block *b)
{
	return (size_t)b->size * G;
}

static uintptr_t end_of(const struct block *b)
{
	return addr(b) + bytes(b);
}

/* Round x up to a multiple of a (a power of two); false if that wraps. */
static bool align_up(uintptr_t x, size_t a, uintptr_t *out)
{
	if (x > UINTPTR_MAX - (a - 1))
		return false;
	*out = (x + (a - 1)) & ~(uintptr_t)(a - 1);
	return true;
}

/* Granules a block needs for size payload bytes; false if it cannot exist.
 * The limit is checked before any rounding, so SIZE_MAX cannot wrap. */
static bool units_for(size_t size, size_t *units)
{
	if (size > HEAP_MAX_SIZE - G)
		return false;
	*units = (size + G - 1) / G + 1;
	if (*units < MIN_BLOCK / G)
		*units = MIN_BLOCK / G;
	return true;
}

/* The seal mixes every field with the header's own address, so changing
 * any one field, or finding a copy of a header elsewhere, breaks it. */
static uint32_t seal_of(const struct block *b)
{
	return ~(b->magic ^ b->size ^ b->prev_size ^ (uint32_t)(addr(b) / G));
}

static bool sealed(const struct block *b)
{
	return (b->magic == MAGIC_USED || b->magic == MAGIC_FREE) &&
	       b->size >= MIN_BLOCK / G && b->seal == seal_of(b);
}

static void set_header(struct block *b, uint32_t magic, size_t units, uint32_t prev)
{
	b->magic = magic;
	b->size = (uint32_t)units;
	b->prev_size = prev;
	b->seal = seal_of(b);
}

/* b changed size: the block above it must learn it (its boundary tag). */
static void retag_above(struct list_heap *h, const struct block *b)
{
	struct block *up;

	if (end_of(b) >= h->top)
		return;
	up = block_at(end_of(b));
	up->prev_size = b->size;
	up->seal = seal_of(up);
}

/* A header at `at` is sound: sealed, tagged with prev, inside the heap.
 * The caller guarantees at < top and at is 16-aligned. */
static bool block_ok(const struct list_heap *h, uintptr_t at, uint32_t prev)
{
	const struct block *b = block_at(at);

	return sealed(b) && b->prev_size == prev && bytes(b) <= h->top - at;
}

/* A hole pointer is safe to follow: aligned, at or past floor (the end of
 * the hole before it, which keeps the list ordered and the walk finite),
 * inside the heap, and a sealed free header. */
static bool hole_ok(const struct list_heap *h, const struct list_hole *x, uintptr_t floor)
{
	uintptr_t a = addr(x);

	return a % G == 0 && a >= floor && a < h->top && sealed(&x->hdr) &&
	       x->hdr.magic == MAGIC_FREE && bytes(&x->hdr) <= h->top - a;
}

#ifdef HEAP_POISON
static void poison(uintptr_t from, uintptr_t to)
{
	for (; from < to; from++)
		*(volatile unsigned char *)from = POISON_BYTE;
}

static bool poisoned(uintptr_t from, uintptr_t to)
{
	for (; from < to; from++)
		if (*(const unsigned char *)from != POISON_BYTE)
			return false;
	return true;
}
#else
/* The default build pays nothing: these fold away. */
static void poison(uintptr_t from, uintptr_t to)
{
	(void)from;
	(void)to;
}

static bool poisoned(uintptr_t from, uintptr_t to)
{
	(void)from;
	(void)to;
	return true;
}
#endif

/* Write a hole header at `at` (not yet linked); the block above learns its size. */
static struct list_hole *make_hole(struct list_heap *h, uintptr_t at, size_t units,
				   uint32_t prev, struct list_hole *next)
{
	struct list_hole *x = (struct list_hole *)at;

	set_header(&x->hdr, MAGIC_FREE, units, prev);
	x->next = next;
	retag_above(h, &x->hdr);
	return x;
}

/* If the next hole touches x, absorb it: x grows, the list loses one. */
static void merge_up(struct list_heap *h, struct list_hole *x)
{
	struct list_hole *y = x->next;

	if (!y || end_of(&x->hdr) != addr(y))
		return;
	x->next = y->next;
	set_header(&x->hdr, MAGIC_FREE, (size_t)x->hdr.size + y->hdr.size, x->hdr.prev_size);
	retag_above(h, &x->hdr);
	poison(addr(y), addr(y) + sizeof *y);
	h->nholes--;
}

/* Walk the hole list up to `at`: s->below is the last hole under it,
 * s->link the link holding the first hole at or above it.  Every hole
 * passed is checked before it is followed. */
static int find_holes(struct list_heap *h, uintptr_t at, struct spot *s)
{
	uintptr_t floor = h->base;

	s->at = at;
	s->below = NULL;
	for (s->link = &h->holes; *s->link; s->link = &(*s->link)->next) {
		if (!hole_ok(h, *s->link, floor))
			return HEAP_ECORRUPT;
		if (addr(*s->link) >= at)
			break;
		s->below = *s->link;
		floor = end_of(&s->below->hdr);
	}
	return 0;
}

/* b's boundary tag holds: the block under it is where prev_size says and
 * has that size (or b is the first block and prev_size is 0). */
static bool tag_below_ok(const struct list_heap *h, uintptr_t b)
{
	uint32_t prev = block_at(b)->prev_size;
	uintptr_t under = b - (uintptr_t)prev * G;

	if (b == h->base)
		return prev == 0;
	return prev != 0 && (uintptr_t)prev * G <= b - h->base &&
	       sealed(block_at(under)) && block_at(under)->size == prev;
}

/* Step up from the block at `from` by sizes until reaching `at`. */
static int walk_up(const struct list_heap *h, uintptr_t from, uintptr_t at, struct spot *s)
{
	s->prev = from == h->base ? 0 : block_at(from)->prev_size;
	while (from < at) {
		if (!block_ok(h, from, s->prev))
			return HEAP_ECORRUPT;
		s->prev = block_at(from)->size;
		from += bytes(block_at(from));
	}
	return from == at ? 0 : HEAP_EINVAL;
}

/* Step down from the block at `from` by boundary tags until reaching `at`. */
static int walk_down(const struct list_heap *h, uintptr_t from, uintptr_t at, struct spot *s)
{
	while (from > at) {
		if (!tag_below_ok(h, from))
			return HEAP_ECORRUPT;
		from -= (uintptr_t)block_at(from)->prev_size * G;
	}
	if (from != at)
		return HEAP_EINVAL;
	if (!tag_below_ok(h, at))
		return HEAP_ECORRUPT;
	s->prev = block_at(at)->prev_size;
	return 0;
}

/*
 * Prove that a block starts at s->at (or that it is top) by reaching it
 * from a hole, which the heap itself put on its list: up by sizes from the
 * hole below, or down by boundary tags from the hole above when that one
 * is nearer (counting the bytes of used blocks in between).  Needs s
 * filled by find_holes(); sets s->prev, the size of the block under s->at.
 * Returns 0, HEAP_EINVAL if no block starts at s->at, or HEAP_ECORRUPT.
 * Writes nothing.
 */
static int reach(const struct list_heap *h, struct spot *s)
{
	uintptr_t from = s->below ? addr(s->below) : h->base;
	uintptr_t up = s->below ? end_of(&s->below->hdr) : h->base; /* after one step */
	uintptr_t above = addr(*s->link);

	if (*s->link && above - s->at < s->at - up)
		return walk_down(h, above, s->at, s);
	return walk_up(h, from, s->at, s);
}

/* Find ptr's block and check it is live and its neighbours agree with it.
 * Writes nothing, so a refused pointer leaves the heap as it was. */
static int find_live(struct list_heap *h, const void *ptr, struct spot *s)
{
	uintptr_t p = addr(ptr), b = p - G;
	int err;

	if (!h->ready || p % G != 0 || p < h->base + G || p >= h->top)
		return HEAP_EINVAL;
	err = find_holes(h, b, s);
	if (err)
		return err;
	if (addr(*s->link) == b)
		return HEAP_EINVAL; /* already free */
	err = reach(h, s);
	if (err)
		return err;
	if (!block_ok(h, b, s->prev) || block_at(b)->magic != MAGIC_USED)
		return HEAP_ECORRUPT;
	if (*s->link && addr(*s->link) < end_of(block_at(b)))
		return HEAP_ECORRUPT; /* a hole overlaps the block */
	if (end_of(block_at(b)) < h->top &&
	    !block_ok(h, end_of(block_at(b)), block_at(b)->size))
		return HEAP_ECORRUPT;
	return 0;
}

int list_heap_init(struct list_heap *h, void *start, size_t size)
{
	uintptr_t s = addr(start), base, top;

	*h = (struct list_heap){ 0 };
	if (!start || size > UINTPTR_MAX - s || !align_up(s, G, &base))
		return HEAP_EINVAL;
	top = (s + size) & ~(uintptr_t)(G - 1);
	if (top < base || top - base < MIN_BLOCK)
		return HEAP_EINVAL;
	if (top - base > HEAP_MAX_SIZE)
		return HEAP_ENOSPC;
	h->base = base;
	h->top = top;
	h->end = s + size;
	h->holes = make_hole(h, base, (top - base) / G, 0, NULL);
	poison(base + sizeof(struct list_hole), top);
	h->nholes = 1;
	h->free = top - base;
	h->ready = 1;
	return 0;
}

/* Where in hole x a block for `units` granules, payload aligned to align,
 * would start: the lowest such place, with a front gap of 0 or at least
 * MIN_BLOCK (a 16-byte gap could be neither a hole nor part of one). */
static bool fit(const struct list_hole *x, size_t units, size_t align, uintptr_t *blk)
{
	uintptr_t lo = addr(x), hi = end_of(&x->hdr), pay;

	if (!align_up(lo + G, align, &pay))
		return false;
	if (pay - G != lo && pay - G - lo < MIN_BLOCK) {
		if (!align_up(lo + G + MIN_BLOCK, align, &pay))
			return false;
	}
	*blk = pay - G;
	return *blk < hi && units * G <= hi - *blk;
}

/*
 * Cut a used block of `units` granules at blk out of the hole *link:
 *
 *   before  | hole ...........................................|
 *   after   | front hole | used block | tail hole             |
 *
 * The front is kept (as the same hole) when blk is past the hole's start;
 * the tail becomes a hole when it has MIN_BLOCK bytes, else the block
 * takes it.  Returns the payload, or NULL (nothing changed) when freed
 * memory there was written after its free (HEAP_POISON).
 */
static void *carve(struct list_heap *h, struct list_hole **link, uintptr_t blk, size_t units)
{
	struct list_hole *x = *link, *next = x->next;
	uintptr_t lo = addr(x), hi = end_of(&x->hdr);
	uint32_t prev = x->hdr.prev_size;

	if (hi - (blk + units * G) < MIN_BLOCK)
		units = (hi - blk) / G;
	if (!poisoned(blk > lo ? blk : lo + sizeof *x, blk + units * G))
		return NULL;
	if (blk + units * G < hi) {
		next = make_hole(h, blk + units * G, (hi - blk) / G - units, (uint32_t)units, next);
		h->nholes++;
	}
	if (blk > lo) {
		set_header(&x->hdr, MAGIC_FREE, (blk - lo) / G, prev);
		x->next = next;
		prev = x->hdr.size;
	} else {
		*link = next;
		h->nholes--;
	}
	set_header(block_at(blk), MAGIC_USED, units, prev);
	retag_above(h, block_at(blk));
	h->used += units * G;
	h->free -= units * G;
	h->nallocs++;
	return (void *)(blk + G);
}

void *list_heap_alloc(struct list_heap *h, size_t size, size_t align)
{
	struct list_hole **link;
	uintptr_t floor = h->base, blk;
	size_t units;

	if (!h->ready || !units_for(size, &units) || align == 0 || (align & (align - 1)))
		return NULL;
	if (align < G)
		align = G;
	for (link = &h->holes; *link; link = &(*link)->next) {
		if (!hole_ok(h, *link, floor))
			return NULL;
		if (fit(*link, units, align, &blk))
			return carve(h, link, blk, units);
		floor = end_of(&(*link)->hdr);
	}
	return NULL;
}

int list_heap_check_ptr(struct list_heap *h, const void *ptr)
{
	struct spot s;

	return find_live(h, ptr, &s);
}

int list_heap_free(struct list_heap *h, void *ptr)
{
	struct spot s;
	struct list_hole *x;
	struct block *b;
	int err;

	if (!ptr)
		return 0;
	err = find_live(h, ptr, &s);
	if (err)
		return err;
	b = block_at(s.at);
	h->used -= bytes(b);
	h->free += bytes(b);
	h->nallocs--;
	poison(s.at + sizeof *x, end_of(b));
	x = make_hole(h, s.at, b->size, b->prev_size, *s.link);
	*s.link = x;
	h->nholes++;
	merge_up(h, x);         /* with the hole above, if it touches */
	if (s.below)
		merge_up(h, s.below); /* and with the hole below */
	return 0;
}

/* Give the tail of a live block beyond `units` back as a hole, if it is
 * big enough to be one; the new hole merges with a hole just above. */
static void shrink(struct list_heap *h, struct spot *s, size_t units)
{
	struct block *b = block_at(s->at);
	size_t rest = b->size - units;
	uintptr_t tail = s->at + units * G;
	struct list_hole *x;

	if (rest * G < MIN_BLOCK)
		return;
	poison(tail + sizeof *x, end_of(b));
	set_header(b, MAGIC_USED, units, b->prev_size);
	x = make_hole(h, tail, rest, (uint32_t)units, *s->link);
	*s->link = x;
	h->nholes++;
	h->used -= rest * G;
	h->free += rest * G;
	merge_up(h, x);
}

/* Grow a live block to `units` into the hole right above it, if that hole
 * touches it and is big enough.  What is left of the hole stays a hole. */
static bool grow(struct list_heap *h, struct spot *s, size_t units)
{
	struct block *b = block_at(s->at);
	struct list_hole *up = *s->link, *next;
	size_t total, have = b->size;

	if (!up || addr(up) != end_of(b) || have + up->hdr.size < units)
		return false;
	total = have + up->hdr.size;
	next = up->next;
	if ((total - units) * G < MIN_BLOCK)
		units = total;
	if (!poisoned(addr(up) + sizeof *up, s->at + units * G))
		return false;
	if (units < total)
		next = make_hole(h, s->at + units * G, total - units, (uint32_t)units, next);
	else
		h->nholes--;
	*s->link = next;
	set_header(b, MAGIC_USED, units, b->prev_size);
	retag_above(h, b);
	h->used += (units - have) * G;
	h->free -= (units - have) * G;
	return true;
}

void *list_heap_realloc(struct list_heap *h, void *ptr, size_t size)
{
	struct spot s;
	size_t units, keep;
	void *to;

	if (!ptr)
		return list_heap_alloc(h, size, G);
	if (find_live(h, ptr, &s) || !units_for(size, &units))
		return NULL;
	if (units <= block_at(s.at)->size) {
		shrink(h, &s, units);
		return ptr;
	}
	if (grow(h, &s, units))
		return ptr;
	to = list_heap_alloc(h, size, G);
	if (!to)
		return NULL;
	keep = bytes(block_at(s.at)) - G; /* the whole old payload: size is larger */
	__builtin_memcpy(to, ptr, keep < size ? keep : size);
	list_heap_free(h, ptr); /* cannot fail: ptr was checked and is still live */
	return to;
}

int list_heap_extend(struct list_heap *h, size_t by)
{
	struct spot s;
	uintptr_t end, top;
	int err;

	if (!h->ready || by > UINTPTR_MAX - h->end)
		return HEAP_EINVAL;
	end = h->end + by;
	top = end & ~(uintptr_t)(G - 1);
	if (top - h->base > HEAP_MAX_SIZE)
		return HEAP_ENOSPC;
	err = find_holes(h, h->top, &s); /* s.below: the last hole */
	if (!err)
		err = reach(h, &s); /* s.prev: the size of the last block */
	if (err)
		return err;
	if (s.below && end_of(&s.below->hdr) == h->top) {
		poison(h->top, top); /* the free last hole grows */
		set_header(&s.below->hdr, MAGIC_FREE, s.below->hdr.size + (top - h->top) / G,
			   s.below->hdr.prev_size);
	} else if (top - h->top >= MIN_BLOCK) {
		*s.link = make_hole(h, h->top, (top - h->top) / G, s.prev, NULL);
		poison(h->top + sizeof(struct list_hole), top);
		h->nholes++;
	} else {
		h->end = end; /* too few bytes for a block: wait for more */
		return 0;
	}
	h->free += top - h->top;
	h->top = top;
	h->end = end;
	return 0;
}

void list_heap_stats(const struct list_heap *h, struct heap_stats *out)
{
	const struct list_hole *x;
	uintptr_t floor = h->base;

	*out = (struct heap_stats){ 0 };
	if (!h->ready)
		return;
	out->size = h->top - h->base;
	out->used = h->used;
	out->free = h->free;
	out->holes = h->nholes;
	out->allocations = h->nallocs;
	/* With align 16 a hole's payload needs no front gap: it fits bytes - G. */
	for (x = h->holes; x && hole_ok(h, x, floor); x = x->next) {
		if (bytes(&x->hdr) - G > out->largest_free)
			out->largest_free = bytes(&x->hdr) - G;
		floor = end_of(&x->hdr);
	}
}

/* Counts gathered by list_heap_check's walk, to compare with the heap's own. */
struct tally {
	size_t used, free, nholes, nallocs;
};

/* Check one block of the walk; a free one must be the next hole on the list. */
static bool check_block(const struct list_heap *h, uintptr_t at, uint32_t prev, bool prev_free,
			const struct list_hole **hole, struct tally *t)
{
	const struct block *b = block_at(at);

	if (!block_ok(h, at, prev))
		return false;
	if (b->magic == MAGIC_USED) {
		t->used += bytes(b);
		t->nallocs++;
		return true;
	}
	if (prev_free || addr(*hole) != at ||
	    !poisoned(at + sizeof **hole, end_of(b)))
		return false;
	*hole = (*hole)->next;
	t->free += bytes(b);
	t->nholes++;
	return true;
}

int list_heap_check(const struct list_heap *h)
{
	const struct list_hole *hole = h->holes;
	struct tally t = { 0 };
	uintptr_t at;
	uint32_t prev = 0;
	bool prev_free = false;

	if (!h->ready)
		return HEAP_EINVAL;
	if (h->base % G || h->top % G || h->top < h->base || h->end < h->top ||
	    h->end - h->top >= MIN_BLOCK)
		return HEAP_ECORRUPT;
	for (at = h->base; at < h->top; at += bytes(block_at(at))) {
		if (!check_block(h, at, prev, prev_free, &hole, &t))
			return HEAP_ECORRUPT;
		prev = block_at(at)->size;
		prev_free = block_at(at)->magic == MAGIC_FREE;
	}
	if (hole)
		return HEAP_ECORRUPT; /* the list holds a hole the walk never met */
	if (t.used != h->used || t.free != h->free || t.nholes != h->nholes ||
	    t.nallocs != h->nallocs || t.used + t.free != h->top - h->base)
		return HEAP_ECORRUPT;
	return 0;
}
