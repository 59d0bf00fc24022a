/*
 * index.c - where the big holes are: a tree of maxima over the heap's
 * 1 KiB chunks, so that first fit is one descent instead of a walk.
 *
 * The heap is cut into chunks of 64 granules, the same chunks as the
 * bitmap's entries.  Each leaf of the tree holds the size of the largest
 * hole that starts in its chunk (0 if none); each inner node holds the
 * larger of its two children.  The tree is an array, the classic heap
 * layout: node i has children 2i and 2i + 1, the root is node 1 and leaf
 * c is node leaves + c.  Looking for a hole of 10 granules in 8 chunks:
 *
 *                               40
 *                  40                          12
 *          40              4            12             0
 *      40      0       4       0    8       12     0       0
 *    chunk 0   1       2       3    4       5      6       7
 *
 *   At each node go left if the left child says a hole there is big
 *   enough, else right: 40, 40, 40, chunk 0.  Inside the chunk, the
 *   bitmap lists the holes that start there (start & ~used) in address
 *   order; the first one of 10 granules or more is the answer.  Every
 *   hole in a chunk to its left is smaller, or its leaf would be >= 10.
 *
 * The hole that ends at top stays out of the tree (index_skips), and the
 * root is the smallest subtree that covers the chunks below top.
 *
 * Cost: a descent of log2(chunks) steps (20 for 1 GiB) that reads only
 * this array, plus a look at the holes of one chunk (at most 32: a block
 * has two granules or more).  An update changes one leaf and the nodes
 * above it up to the first that does not change.  Memory: the array has
 * twice as many entries as the power of two at or above the chunk count,
 * 4 bytes each: 8 to 16 bytes per KiB of heap.  It lives beside the
 * bitmap at the region's end, where no payload reaches.
 */
#include "heap_impl.h"

static uint32_t larger(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

/* The holes that start in chunk c at or above bit `from`, one bit each. */
static uint64_t holes_in(const struct heap *h, uint32_t c, unsigned from)
{
	uint64_t holes = h->bits[c].start & ~h->bits[c].used;

	return from < 64 ? holes & (~0ull << from) : 0;
}

/* The first of those holes with at least units granules, or NIL. */
static uint32_t chunk_fit(const struct heap *h, uint32_t c, unsigned from, uint32_t units)
{
	for (uint64_t holes = holes_in(h, c, from); holes; holes &= holes - 1) {
		uint32_t g = c * CHUNK + (uint32_t)__builtin_ctzll(holes);

		if (block_at(h, g)->size >= units)
			return g;
	}
	return NIL;
}

/* The largest hole that starts in chunk c: what its leaf must hold. */
static uint32_t chunk_max(const struct heap *h, uint32_t c)
{
	uint32_t max = 0;

	for (uint64_t holes = holes_in(h, c, 0); holes; holes &= holes - 1) {
		uint32_t g = c * CHUNK + (uint32_t)__builtin_ctzll(holes), size = block_at(h, g)->size;

		if (!index_skips(h, g, size))
			max = larger(max, size);
	}
	return max;
}

/* Leaf c changed: bring the nodes above it up to date, stopping at the
 * first that already holds the right value, or at the root. */
static void raise_from(struct heap *h, uint32_t c)
{
	uint32_t *t = h->tree;

	for (uint32_t i = (h->leaves + c) / 2; i >= h->root; i /= 2) {
		uint32_t max = larger(t[2 * i], t[2 * i + 1]);

		if (t[i] == max)
			return;
		t[i] = max;
	}
}

/* From node i, whose subtree holds a big enough hole, down to its
 * leftmost chunk that does, and into that chunk.  NIL means the index
 * disagrees with the bitmap or a header: the heap is damaged. */
static uint32_t descend(struct heap *h, uint32_t i, uint32_t units)
{
	uint32_t g;

	while (i < h->leaves)
		i = h->tree[2 * i] >= units ? 2 * i : 2 * i + 1;
	g = chunk_fit(h, i - h->leaves, 0, units);
	if (g == NIL)
		h->broken = 1;
	return g;
}

uint32_t index_first_fit(struct heap *h, uint32_t units)
{
	if (h->tree[h->root] < units)
		return NIL;
	return descend(h, h->root, units);
}

uint32_t index_next_fit(struct heap *h, uint32_t after, uint32_t units)
{
	uint32_t c = after / CHUNK, g = chunk_fit(h, c, after % CHUNK + 1, units);

	if (g != NIL)
		return g;
	/* Climb until a right sibling holds a fit, then descend into it. */
	for (uint32_t i = h->leaves + c; i > h->root; i /= 2)
		if (i % 2 == 0 && h->tree[i + 1] >= units)
			return descend(h, i + 1, units);
	return NIL;
}

void index_raise(struct heap *h, uint32_t c, uint32_t size)
{
	h->tree[h->leaves + c] = size;
	raise_from(h, c);
}

void index_recount(struct heap *h, uint32_t c)
{
	h->tree[h->leaves + c] = chunk_max(h, c);
	raise_from(h, c);
}

uint32_t index_largest(const struct heap *h)
{
	return h->tree[h->root];
}

void index_build(struct heap *h)
{
	uint32_t *t = h->tree, span = 1;

	for (uint32_t c = 0; c < h->leaves; c++)
		t[h->leaves + c] = c < h->nbits ? chunk_max(h, c) : 0;
	for (uint32_t i = h->leaves - 1; i >= 1; i--)
		t[i] = larger(t[2 * i], t[2 * i + 1]);
	t[0] = 0; /* unused */
	/* Holes start only in the chunks below top: the smallest subtree on
	 * the left edge that covers them serves as the root, so a heap in a
	 * large region pays for the depth it uses, not for the region. */
	while (span * CHUNK < granules(h))
		span *= 2;
	h->root = h->leaves / span;
}

/* Node i and all below it hold the larger of their children. */
static bool inner_ok(const uint32_t *t, uint32_t leaves, uint32_t i)
{
	if (i >= leaves)
		return true;
	return t[i] == larger(t[2 * i], t[2 * i + 1]) && inner_ok(t, leaves, 2 * i) &&
	       inner_ok(t, leaves, 2 * i + 1);
}

bool index_check(const struct heap *h)
{
	const uint32_t *t = h->tree;

	for (uint32_t c = 0; c < h->leaves; c++)
		if (t[h->leaves + c] != (c < h->nbits ? chunk_max(h, c) : 0))
			return false;
	return h->root >= 1 && h->root <= h->leaves && inner_ok(t, h->leaves, h->root);
}
