/*
 * index.c - where the big holes are: a tree of maxima over the heap's
 * 1 KiB chunks, so that first fit is one descent instead of a walk.
 *
 * The heap is cut into chunks of 64 granules, the same chunks as the
 * bitmap's entries.  Each leaf of the tree holds the size of the largest
 * hole that starts in its chunk (0 if none); each inner node holds the
 * larger of its two children (or more: see below).  The tree is an array, the classic heap
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
 * Three refinements, each for speed:
 *   - The hole that ends at top stays out of the tree (index_skips): a
 *     young heap, a stack-like pattern or a growing vector works there,
 *     and first fit tries it last anyway, as it is the highest hole.
 *   - The tree may overstate, never understate.  A hole that grows or
 *     appears raises its leaf and the nodes above until one is already
 *     big enough; a hole that shrinks or goes costs nothing (carve
 *     tightens the chunk it cut).  A search that meets a chunk whose leaf
 *     overstated recounts it (index_tighten) and carries on to the right,
 *     so each stale value is paid for once, and nothing that fits is
 *     ever skipped.
 *   - The levels are skewed by a cache line each (index_node), and the
 *     root is the smallest subtree that covers the chunks below top.
 *
 * Cost: a descent of log2(chunks) steps (20 for 1 GiB) that reads only
 * this array, plus a look at the holes of one chunk (at most 32: a block
 * has two granules or more).  Memory: twice as many entries as the power
 * of two at or above the chunk count, 4 bytes each, plus 64 bytes per
 * level: 8 to 16 bytes per KiB of heap.  It lives beside the bitmap at
 * the region's end, where no payload reaches.
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

/* The hot loops move one level at a time, so they keep the level and
 * its skew (index_node) themselves: 16 more entries per level down. */
static uint32_t level_of(uint32_t i)
{
	return 31 - (uint32_t)__builtin_clz(i);
}

/* From node i, go down to the leftmost leaf whose path says it may hold
 * a hole of units granules.  Arithmetic, not a branch: which way a random
 * heap goes is a coin toss the CPU cannot predict.  Returns the chunk. */
static uint32_t descend(const struct heap *h, uint32_t i, uint32_t units)
{
	const uint32_t *t = h->tree + 16 * level_of(i);

	while (i < h->leaves) {
		t += 16;
		i = 2 * i;
		i += t[i] < units;
	}
	return i - h->leaves;
}

/* Where a first-fit descent starts: every hole in the tree starts below
 * the last block (the top hole is not in it), so the smallest subtree on
 * the left edge that covers the chunks up to the last block's will do.
 * A heap given a large region at once then pays for the depth it uses. */
static uint32_t start_node(const struct heap *h)
{
	uint32_t last = (granules(h) - h->top_prev) / CHUNK;
	uint32_t span = last ? 2u << level_of(last) : 1; /* a power of two > last */

	return h->leaves / span > h->root ? h->leaves / span : h->root;
}

/* Leaf c is recomputed from its chunk; the nodes above it follow, up to
 * the first that comes out as it was.  Nodes elsewhere may still
 * overstate: that is allowed. */
void index_tighten(struct heap *h, uint32_t c)
{
	uint32_t i = h->leaves + c, *t = h->tree + 16 * level_of(i);

	t[i] = chunk_max(h, c);
	for (i /= 2, t -= 16; i >= h->root; i /= 2, t -= 16) {
		uint32_t max = larger(t[16 + 2 * i], t[16 + 2 * i + 1]);

		if (t[i] == max)
			return;
		t[i] = max;
	}
}

/* The leftmost chunk at or after chunk c whose leaf says it may hold a
 * hole of units granules, or NIL: climb from c's leaf until a right
 * sibling may hold one, then descend into it. */
static uint32_t next_chunk(const struct heap *h, uint32_t c, uint32_t units)
{
	uint32_t i = h->leaves + c;
	const uint32_t *t = h->tree + 16 * level_of(i);

	if (c >= h->leaves / h->root)
		return NIL; /* past the chunks below top */
	while (t[i] < units) {
		while (i % 2 == 1) { /* a right child: nothing to its right here */
			i /= 2;
			t -= 16;
			if (i <= h->root)
				return NIL;
		}
		i++; /* the right sibling */
	}
	return descend(h, i, units);
}

/* The first hole of units granules or more, in chunk c at bit `from` or
 * later, then in the chunks after it.  A chunk whose leaf overstated is
 * tightened on the way, so each stale value is paid for once. */
static uint32_t search(struct heap *h, uint32_t c, unsigned from, uint32_t units)
{
	uint32_t g = chunk_fit(h, c, from, units);

	if (g != NIL)
		return g;
	if (from == 0 && *index_node(h, h->leaves + c) >= units)
		index_tighten(h, c);
	while ((c = next_chunk(h, c + 1, units)) != NIL) {
		g = chunk_fit(h, c, 0, units);
		if (g != NIL)
			return g;
		index_tighten(h, c);
	}
	return NIL;
}

uint32_t index_first_fit(struct heap *h, uint32_t units)
{
	uint32_t i = start_node(h);

	if (*index_node(h, i) < units)
		return NIL; /* an upper bound: nothing in the tree fits */
	return search(h, descend(h, i, units), 0, units);
}

uint32_t index_next_fit(struct heap *h, uint32_t after, uint32_t units)
{
	return search(h, after / CHUNK, after % CHUNK + 1, units);
}

void index_raise(struct heap *h, uint32_t c, uint32_t size)
{
	uint32_t i = h->leaves + c, *t = h->tree + 16 * level_of(i);

	t[i] = size;
	for (i /= 2, t -= 16; i >= h->root && t[i] < size; i /= 2, t -= 16)
		t[i] = size;
}

/* The largest hole below node i, exactly, if it beats best: the bounds
 * prune every subtree that cannot. */
static uint32_t exact_max(const struct heap *h, uint32_t i, uint32_t best)
{
		uint32_t first;

	if (*index_node(h, i) <= best)
		return best;
	if (i >= h->leaves)
		return larger(best, chunk_max(h, i - h->leaves));
	first = *index_node(h, 2 * i + 1) > *index_node(h, 2 * i) ? 2 * i + 1 : 2 * i; /* the likelier first */
	best = exact_max(h, first, best);
	return exact_max(h, first ^ 1, best);
}

uint32_t index_largest(const struct heap *h)
{
	return exact_max(h, h->root, 0);
}

void index_build(struct heap *h)
{
	uint32_t span = 1;

	for (uint32_t c = 0; c < h->leaves; c++)
		*index_node(h, h->leaves + c) = c < h->nbits ? chunk_max(h, c) : 0;
	for (uint32_t i = h->leaves - 1; i >= 1; i--)
		*index_node(h, i) = larger(*index_node(h, 2 * i), *index_node(h, 2 * i + 1));
	/* Holes start only in the chunks below top: the smallest subtree on
	 * the left edge that covers them serves as the root, so a heap in a
	 * large region pays for the depth it uses, not for the region. */
	while (span * CHUNK < granules(h))
		span *= 2;
	h->root = h->leaves / span;
}

/* Node i and all below it hold at least the larger of their children. */
static bool inner_ok(const struct heap *h, uint32_t i)
{
	if (i >= h->leaves)
		return true;
	return *index_node(h, i) >= larger(*index_node(h, 2 * i), *index_node(h, 2 * i + 1)) &&
	       inner_ok(h, 2 * i) && inner_ok(h, 2 * i + 1);
}

bool index_check(const struct heap *h)
{
	
	for (uint32_t c = 0; c < h->leaves; c++)
		if (*index_node(h, h->leaves + c) < (c < h->nbits ? chunk_max(h, c) : 0))
			return false;
	return h->root >= 1 && h->root <= h->leaves && inner_ok(h, h->root);
}
