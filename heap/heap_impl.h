/*
 * heap_impl.h - what heap.c, check.c and index.c share: the block header,
 * the bitmap of block starts, small helpers, and the index's interface.
 * Not for callers of the heap: they include heap.h only.
 *
 * Granule numbers.  The heap counts in 16-byte granules from base, so a
 * block is named by a 32-bit granule number g at address base + 16 * g,
 * and granule g belongs to chunk g / 64 (1 KiB) of the bitmap and index.
 */
#ifndef HEAP_IMPL_H
#define HEAP_IMPL_H

#include "heap.h"

#include <stdbool.h>

#define G HEAP_ALIGN            /* the granule: 16 bytes */
#define MIN_BLOCK (2 * G)       /* the smallest block; a 16-byte piece could not even be a hole */
#define CHUNK 64                /* granules per bitmap entry and index leaf: 1 KiB */
#define FAN_SHIFT 4             /* log2 FAN: a level's entry covers FAN^k chunks */
#define FAN (1u << FAN_SHIFT)   /* entries per group of the index's tree: 32 bytes */
#define MAGIC_USED 0x55534544u  /* "USED" */
#define MAGIC_FREE 0x46524545u  /* "FREE" */
#define NIL UINT32_MAX          /* no block: granule numbers stay below it */

struct block {
	uint32_t magic;     /* MAGIC_USED or MAGIC_FREE */
	uint32_t size;      /* this block in granules, header included */
	uint32_t prev_size; /* the block just below, in granules; 0 for the first */
	uint32_t seal;      /* seal_of(): fails if magic, size or the address changed */
};

/* The bitmap, one entry per chunk of 64 granules (1 KiB) of [base, limit):
 * bit g % 64 of bits[g / 64] says whether a block starts at granule g, and
 * whether that block is used.  So start & ~used lists the holes that start
 * in a chunk, in address order.  It lives past limit, where no payload
 * reaches, so writing through a pointer the heap gave out cannot forge it. */
struct heap_bits {
	uint64_t start; /* a block (used or free) starts here */
	uint64_t used;  /* a used block starts here */
};

_Static_assert(sizeof(struct block) == G, "the header keeps payloads 16-aligned");
_Static_assert(sizeof(struct heap_bits) == G, "the bitmap stays 16-aligned");
_Static_assert(sizeof(size_t) >= 8, "sizes up to 64 GiB need a 64-bit size_t");

/* An entry of the index's tree: a hole size in granules, capped at CAP
 * (512 KiB - 16 bytes).  Two bytes instead of four halve the tree, and
 * SSE2 compares or takes the largest of 8 of them in one instruction,
 * where 32-bit lanes need four.  SSE2 knows only signed 16-bit lanes:
 * capped at INT16_MAX, entries are never negative, so no bit has to be
 * flipped before a compare.  A capped entry says only "a hole of CAP
 * granules or more may start here": a search for a bigger block looks
 * at the holes themselves (index.c). */
typedef uint16_t bound;
#define CAP INT16_MAX

#define GROUP_BYTES (FAN * sizeof(bound)) /* a group of the tree: 32 bytes */

static inline bound cap(uint32_t size)
{
	return size < CAP ? (bound)size : CAP;
}

/* The hot paths (heap.c: hole_ok and carve for heap_alloc, find_live,
 * its checks and release for heap_free; index.c: search) are small
 * functions to read, but one to the compiler: called one from another,
 * each call would cost more than the work it does. */
#define HOT static inline __attribute__((always_inline))

/* A refusal, or a heap found damaged: rare, so the compiler lays the
 * common path out straight and moves these out of its way. */
#define unlikely(x) __builtin_expect(!!(x), 0)

/* What starts at a granule, read from the bitmap (start bit | used bit << 1). */
enum kind { NOTHING = 0, HOLE = 1, BAD = 2, USED = 3 };

static inline uintptr_t addr_of(const struct heap *h, uint32_t g)
{
	return h->base + (uintptr_t)g * G;
}

static inline uint32_t granule(const struct heap *h, uintptr_t a)
{
	return (uint32_t)((a - h->base) / G);
}

static inline struct block *block_at(const struct heap *h, uint32_t g)
{
	return (struct block *)addr_of(h, g);
}

/* Granules the blocks tile now: [0, granules) is [base, top). */
static inline uint32_t granules(const struct heap *h)
{
	return h->ngran;
}

static inline enum kind kind_at(const struct heap *h, uint32_t g)
{
	const struct heap_bits *b = &h->bits[g / CHUNK];
	unsigned s = (unsigned)(b->start >> (g % CHUNK)) & 1;
	unsigned u = (unsigned)(b->used >> (g % CHUNK)) & 1;

	return (enum kind)(s | u << 1);
}

/* The holes that start in chunk c, one bit each, in address order. */
static inline uint64_t chunk_holes(const struct heap *h, uint32_t c)
{
	return h->bits[c].start & ~h->bits[c].used;
}

static inline void mark(struct heap *h, uint32_t g, enum kind k)
{
	struct heap_bits *b = &h->bits[g / CHUNK];
	uint64_t bit = 1ull << (g % CHUNK);

	b->start = (b->start & ~bit) | ((k & 1) ? bit : 0);
	b->used = (b->used & ~bit) | ((k & 2) ? bit : 0);
}

/* The seal mixes magic and size with the header's own address, so
 * changing either, or finding a copy of a header elsewhere, breaks it.
 * The tag (prev_size) is left out: every reader checks it against the
 * block it names (that block must start there and have that size), a
 * stronger test than a seal, and an overflow from below reaches it only
 * through magic and size.  Left out, a tag can be rewritten without
 * reading the header first (set_prev). */
static inline uint32_t seal_of(const struct block *b)
{
	return ~(b->magic ^ b->size ^ (uint32_t)((uintptr_t)b / G));
}

static inline void set_header(struct block *b, uint32_t magic, uint32_t units, uint32_t prev)
{
	b->magic = magic;
	b->size = units;
	b->prev_size = prev;
	b->seal = seal_of(b);
}

/* b's boundary tag becomes prev: one store, no load.  In a heap larger
 * than the caches that header is a miss; nothing waits for it now. */
static inline void set_prev(struct block *b, uint32_t prev)
{
	b->prev_size = prev;
}

/* ---- helpers of heap.c and check.c ---- */

/* How [base, end) is split: blocks up to limit, then the index's tree,
 * then the bitmap at the very end. */
struct layout {
	uintptr_t limit;
	bound *tree;
	struct heap_bits *bits;
	uint32_t nbits;
};

/* heap.c: the split heap_init makes, and heap_extend when the bitmap
 * moves; end - base at most 2 * HEAP_MAX_SIZE. */
void heap_plan(uintptr_t base, uintptr_t end, struct layout *l);

#define POISON_BYTE 0xdf

static inline size_t bytes(const struct block *b)
{
	return (size_t)b->size * G;
}

static inline bool sealed(const struct block *b)
{
	return (b->magic == MAGIC_USED || b->magic == MAGIC_FREE) &&
	       b->size >= MIN_BLOCK / G && b->seal == seal_of(b);
}

/* b is sealed and has this magic: what the bitmap says it must be.  The
 * same test as sealed() and a look at the magic, in fewer steps. */
static inline bool sealed_as(const struct block *b, uint32_t magic)
{
	return b->magic == magic && b->size >= MIN_BLOCK / G && b->seal == seal_of(b);
}

/* The magic a header must have where the bitmap says a block of kind k
 * starts (HOLE or USED). */
static inline uint32_t magic_of(enum kind k)
{
	return k == HOLE ? MAGIC_FREE : MAGIC_USED;
}

/* The header at granule g is sealed, has this magic, and its block ends
 * inside the heap: what a reader checks before it trusts the size. */
static inline bool header_ok(const struct heap *h, uint32_t g, uint32_t magic)
{
	const struct block *b = block_at(h, g);

	return sealed_as(b, magic) && b->size <= granules(h) - g;
}

/* A header at granule g is sound: sealed, tagged with prev, inside the heap. */
static inline bool block_ok(const struct heap *h, uint32_t g, uint32_t prev)
{
	const struct block *b = block_at(h, g);

	return sealed(b) && b->prev_size == prev && b->size <= granules(h) - g;
}

#ifdef HEAP_POISON
static inline void poison(uintptr_t from, uintptr_t to)
{
	for (; from < to; from++)
		*(volatile unsigned char *)from = POISON_BYTE;
}

static inline bool poisoned(uintptr_t from, uintptr_t to)
{
	for (; from < to; from++)
		if (*(const unsigned char *)from != POISON_BYTE)
			return false;
	return true;
}
#else
/* The default build pays nothing: these fold away. */
static inline void poison(uintptr_t from, uintptr_t to)
{
	(void)from;
	(void)to;
}

static inline bool poisoned(uintptr_t from, uintptr_t to)
{
	(void)from;
	(void)to;
	return true;
}
#endif

/* Where a hole's poison starts: past its header. */
static inline uintptr_t inside(const struct heap *h, uint32_t g)
{
	return addr_of(h, g) + sizeof(struct block);
}

/* The last block, if it is a hole (the top hole, which the index leaves
 * out), else NIL. */
static inline uint32_t top_hole(const struct heap *h)
{
	uint32_t last = granules(h) - h->top_prev;

	return kind_at(h, last) == HOLE ? last : NIL;
}

/* ---- the late header ----
 *
 * An allocation that leaves a tail hole does not write that hole's
 * header itself: the next call to the heap does, or never has to.  In a
 * heap larger than the caches the header's line is a miss, and a store
 * that misses holds up every store behind it (a CPU commits its stores
 * to the cache in order): the call that came next could not even push
 * its registers until the line arrived (perf: the largest single stall
 * of heap_alloc at 10,000 live was on its first instructions).  So
 * carve asks for the line (a prefetch) and leaves the header in h->late,
 * and by the time a later call writes it the line is there.
 *
 * The bitmap and the index know the hole at once; only its 16 header
 * bytes wait, and no call reads them from memory before they are there:
 *   - heap_free writes them at its end, its own stores done; but first,
 *     if it frees the block above the hole (whose checks read the hole
 *     as their block below);
 *   - a free of the block just allocated, the hole's neighbour below,
 *     takes the hole from h->late instead and merges with it: those
 *     bytes are then never written (an allocation freed at once, as in
 *     many_boxes, costs no tail header at all);
 *   - heap_alloc writes them first, unless neither the index nor the top
 *     hole has room for it (then it reads no header at all, and fails);
 *   - heap_check_ptr and heap_usable_size write them first for the block
 *     above the hole, heap_realloc for either neighbour (its in-place
 *     paths read the hole above);
 *   - heap_extend before it moves the index; heap_stats, heap_check and
 *     heap_walk first (after their own checks of the struct).
 * Writing them is no change a caller can see: the heap already says the
 * hole is there.  That is why the three functions that take a const
 * heap write them too, through a cast: the struct is the caller's,
 * never const itself, and the kernel calls them under the heap's lock.
 * A call that fails may have written them only if it was given a live
 * neighbour of the hole (a free or check of a block then found damaged,
 * a realloc that then finds no room), or is an allocation the index
 * said might fit (which may also have tightened the index). 
 *
 * The cost: until the next call, an overflow off the end of the new
 * block onto the hole's header is written over instead of caught.
 * HEAP_POISON builds, made to catch such writes, write the header at
 * once. */

/* The tail hole [g, g + size), whose block just under it has prev
 * granules: its header is left for later.  None is pending then: carve
 * runs only after heap_alloc wrote any. */
static inline void leave_late(struct heap *h, uint32_t g, uint32_t size, uint32_t prev)
{
	h->late = (struct heap_late){ g, size, prev };
}

/* Write the late header, if there is one. */
static inline void write_late(const struct heap *ch)
{
	struct heap *h = (struct heap *)ch; /* see above: no visible change */

	if (h->late.size) {
		set_header(block_at(h, h->late.g), MAGIC_FREE, h->late.size, h->late.prev);
		h->late.size = 0;
	}
}

/* Is the hole at g the one whose header is late? */
static inline bool is_late(const struct heap *h, uint32_t g)
{
	return h->late.size && g == h->late.g;
}

/* The late hole merges into the block below it, which is being freed:
 * its header will never be needed.  Returns its size. */
static inline uint32_t merge_late(struct heap *h)
{
	uint32_t size = h->late.size;

	h->late.size = 0;
	return size;
}

/* Is ptr the payload of the used block just above the late hole (whose
 * checks read the hole as their block below)?  Or of the block just
 * below it, the one the allocation handed out? */
static inline bool above_late(const struct heap *h, const void *ptr)
{
	uintptr_t p = (uintptr_t)ptr;

	return h->late.size && p == addr_of(h, h->late.g + h->late.size) + G && p < h->top;
}

static inline bool below_late(const struct heap *h, const void *ptr)
{
	return h->late.size && (uintptr_t)ptr == addr_of(h, h->late.g - h->late.prev) + G;
}

/* ---- index.c: where the big holes are ---- */

/* The lowest hole of at least units granules, or NIL: index_first_fit
 * without its first step. */
uint32_t index_descend(struct heap *h, uint32_t units);

/* May a hole of units granules be in the tree at all?  Its top entry
 * bounds every hole in it, so most searches in a young or stack-like
 * heap (where the holes are at top) end here, with no call. */
static inline bool index_may_hold(const struct heap *h, uint32_t units)
{
	return h->level[h->levels - 1][0] >= cap(units);
}

/* The lowest hole of at least units granules, or NIL. */
static inline uint32_t index_first_fit(struct heap *h, uint32_t units)
{
	return index_may_hold(h, units) ? index_descend(h, units) : NIL;
}

/* The first chunk at or after c whose leaf says a hole of units granules
 * or more may start in it, or NIL past the last block: how an aligned
 * allocation walks the chunks that can hold its candidates. */
uint32_t index_next_chunk(struct heap *h, uint32_t c, uint32_t units);

/* Of the chunks from c to the end of its group of FAN leaves, those whose
 * leaves say so too, one bit each: bit j is chunk c - c % FAN + j.  One
 * compare of the group instead of one index step per chunk.  (A chunk
 * past the last block's may show up with a leaf that overstates; no hole
 * starts there, so a walk of its holes finds none.) */
uint32_t index_fits_in_group(const struct heap *h, uint32_t c, uint32_t units);

/* Leaf c of the tree: at least the largest hole that starts in chunk c. */
static inline bound index_leaf(const struct heap *h, uint32_t c)
{
	return h->level[0][c];
}

/* Leaf c, and the entries above it, learn a hole of b granules.  The
 * leaf's parent takes the larger of the two without a test: whether a
 * hole is the largest of its 16 chunks is a coin toss, and the branch
 * that asked was mispredicted about every other time, which cost more
 * than the store it saved (steady_1000: 0.97x).  Higher up the entries
 * are nearly always big enough already, and the climb stops at the
 * first that is.  Here, inline: nearly every free calls it. */
static inline void index_raise(struct heap *h, uint32_t c, bound b)
{
	uint32_t i = c / FAN;

	h->level[0][c] = b;
	if (h->levels < 2)
		return;
	h->level[1][i] = h->level[1][i] > b ? h->level[1][i] : b;
	for (unsigned k = 2; k < h->levels; k++) {
		i /= FAN;
		if (h->level[k][i] >= b)
			return;
		h->level[k][i] = b;
	}
}

/* Leaf c is recounted from its chunk, and the entries up to two levels
 * above it from their groups (index.c: TIGHT_LEVELS): for a chunk whose
 * largest hole just shrank, while it is still in cache. */
void index_tighten(struct heap *h, uint32_t c);

/* The hole that ends at top stays out of the index: most allocations and
 * frees of a young or stack-like heap happen there, and first fit tries
 * it last anyway, as it is the highest hole. */
static inline bool index_skips(const struct heap *h, uint32_t g, uint32_t size)
{
	return g + size == h->ngran;
}

/* A hole of size granules now starts at g: it is new, or grew.  Only a
 * new largest hole of its chunk changes the tree.  (A hole that shrinks
 * or goes needs no call: the tree may overstate, and the search tightens
 * what it finds overstated.)  The top hole is ruled out first: that test
 * reads no memory, and a stack-like heap, whose frees all grow the top
 * hole, then never loads the leaf's line (lifo: 0.03 D1 misses per op). */
static inline void index_grew(struct heap *h, uint32_t g, uint32_t size)
{
	if (!index_skips(h, g, size) && size > index_leaf(h, g / CHUNK))
		index_raise(h, g / CHUNK, cap(size));
}

/* The largest hole the index knows, exactly: all but the top hole.
 * O(chunks) at worst; the tree's bounds prune most of them. */
uint32_t index_largest(const struct heap *h);

/* Bytes the tree over nbits chunks needs, a multiple of 16: what plan()
 * in heap.c sets aside for it. */
size_t index_space(uint32_t nbits);

/* Fill the whole index from the bitmap and the hole headers; again
 * whenever top moves. */
void index_build(struct heap *h);

/* No entry understates: every leaf is at least the (capped) largest hole
 * starting in its chunk, every entry above at least the largest of its
 * group of FAN below. */
bool index_check(const struct heap *h);

#endif /* HEAP_IMPL_H */
