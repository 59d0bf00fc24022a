/*
 * heap_impl.h - what heap.c and holes.c share: the block header, the hole
 * and its tree node, the bitmap, and the index's interface.  Not for
 * callers of the heap: they include heap.h only.
 *
 * Granule numbers.  The heap counts in 16-byte granules from base, so a
 * block is named by a 32-bit granule number g at address base + 16 * g.
 * The tree links holes by granule number (not by pointer), which is what
 * lets a whole tree node fit in the 16 bytes a minimum hole has to spare.
 */
#ifndef HEAP_IMPL_H
#define HEAP_IMPL_H

#include "heap.h"

#include <stdbool.h>

#define G HEAP_ALIGN            /* the granule: 16 bytes */
#define MIN_BLOCK (2 * G)       /* header + room for a hole's tree node */
#define MAGIC_USED 0x55534544u  /* "USED" */
#define MAGIC_FREE 0x46524545u  /* "FREE" */
#define NIL UINT32_MAX          /* no hole: granule numbers stay below it */
#define TREE_DEPTH 64           /* an AVL tree of 2^32 holes is under 47 deep */

struct block {
	uint32_t magic;     /* MAGIC_USED or MAGIC_FREE */
	uint32_t size;      /* this block in granules, header included */
	uint32_t prev_size; /* the block just below, in granules; 0 for the first */
	uint32_t seal;      /* seal_of(): fails if any field or the address changed */
};

/* A free block: its header, then its node in the tree of holes (an AVL
 * tree ordered by address, see holes.c). */
struct hole {
	struct block hdr;
	uint32_t left;   /* the subtree of lower holes, or NIL */
	uint32_t right;  /* the subtree of higher holes, or NIL */
	uint32_t max;    /* the largest hole size in this subtree, in granules */
	uint32_t height; /* of this subtree: a leaf is 1 */
};

/* The bitmap, one entry per 64 granules (1 KiB) of [base, limit): bit
 * g % 64 of bits[g / 64] says whether a block starts at granule g, and
 * whether that block is used.  It lives past limit, where no payload
 * reaches, so writing through a pointer the heap gave out cannot forge it. */
struct heap_bits {
	uint64_t start; /* a block (used or free) starts here */
	uint64_t used;  /* a used block starts here */
};

_Static_assert(sizeof(struct block) == G, "the header keeps payloads 16-aligned");
_Static_assert(sizeof(struct hole) == MIN_BLOCK, "a hole fits a minimum block");
_Static_assert(sizeof(struct heap_bits) == G, "the bitmap stays 16-aligned");
_Static_assert(sizeof(size_t) >= 8, "sizes up to 64 GiB need a 64-bit size_t");

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

static inline struct hole *hole_at(const struct heap *h, uint32_t g)
{
	return (struct hole *)addr_of(h, g);
}

/* Granules that blocks may occupy now: [0, granules) is [base, top). */
static inline uint32_t granules(const struct heap *h)
{
	return granule(h, h->top);
}

static inline enum kind kind_at(const struct heap *h, uint32_t g)
{
	const struct heap_bits *b = &h->bits[g / 64];
	unsigned s = (unsigned)(b->start >> (g % 64)) & 1;
	unsigned u = (unsigned)(b->used >> (g % 64)) & 1;

	return (enum kind)(s | u << 1);
}

static inline void mark(struct heap *h, uint32_t g, enum kind k)
{
	struct heap_bits *b = &h->bits[g / 64];
	uint64_t bit = 1ull << (g % 64);

	b->start = (k & 1) ? b->start | bit : b->start & ~bit;
	b->used = (k & 2) ? b->used | bit : b->used & ~bit;
}

/* The seal mixes every field with the header's own address, so changing
 * any one field, or finding a copy of a header elsewhere, breaks it. */
static inline uint32_t seal_of(const struct block *b)
{
	return ~(b->magic ^ b->size ^ b->prev_size ^ (uint32_t)((uintptr_t)b / G));
}

static inline void set_header(struct block *b, uint32_t magic, uint32_t units, uint32_t prev)
{
	b->magic = magic;
	b->size = units;
	b->prev_size = prev;
	b->seal = seal_of(b);
}

/* ---- holes.c: the index of holes ---- */

/* The lowest hole of at least units granules, or NIL. */
uint32_t holes_first_fit(struct heap *h, uint32_t units);

/* The lowest hole above granule after with at least units granules, or NIL. */
uint32_t holes_next_fit(struct heap *h, uint32_t after, uint32_t units);

/* The hole header at g is written; add it to the index. */
void holes_insert(struct heap *h, uint32_t g);

/* Take the hole at g out of the index. */
void holes_remove(struct heap *h, uint32_t g);

/* The hole at g changed size (its address did not): update the index. */
void holes_resized(struct heap *h, uint32_t g);

/* The hole at g becomes the hole at `to`, of units granules with prev_size
 * prev, and keeps its place in the index: no other hole lies between g
 * and to.  Writes the new header itself (it may overlap the old node). */
void holes_move(struct heap *h, uint32_t g, uint32_t to, uint32_t units, uint32_t prev);

/* Check the whole tree: every node a hole, in address order, heights and
 * maxima right, balanced.  Counts the nodes into *count.  false if not. */
bool holes_check(const struct heap *h, size_t *count);

#endif /* HEAP_IMPL_H */
