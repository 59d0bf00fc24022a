/*
 * index.c - where the big holes are: a tree of maxima over the heap's
 * 1 KiB chunks, so that first fit is one short descent instead of a walk.
 *
 * The heap is cut into chunks of 64 granules, the same chunks as the
 * bitmap's entries.  Level 0 of the tree holds one entry per chunk: the
 * size of the largest hole that starts in it (0 if none).  Every level
 * above holds one entry per group of 16 entries below: the largest of
 * them (or more: see below).  So entry i of level k covers the chunks
 * [i * 16^k, (i + 1) * 16^k), and its children are entries 16i .. 16i + 15
 * of level k - 1.  The last level is a single entry, the largest of all.
 * Looking for a hole of 10 granules (groups of 4 here, to fit the page):
 *
 *   level 2                           40
 *   level 1            40             12              0          0
 *   level 0     4  0  40  2 | 8 12  0  0 | 0 0 0 0 | 0 0 0 0
 *   chunk       0  1   2  3   4  5  6  7
 *
 *   In each group on the way down take the first entry of 10 or more:
 *   40 at level 2, the first 40 at level 1, chunk 2.  Inside the chunk,
 *   the bitmap lists the holes that start there (start & ~used) in
 *   address order; the first one of 10 granules or more is the answer.
 *   Every hole in a chunk to its left is smaller, or its entry would be
 *   >= 10.
 *
 * Why groups of 16: a search reads one group per level it passes, 3 to
 * 5 in a 64 MiB heap, where a binary tree read a cache line per level
 * (16 for 64 MiB), one after the other.  An entry is 2 bytes, capped at
 * 512 KiB - 16 (heap_impl.h: bound), so a group is 32 bytes and never
 * straddles two cache lines.  Finding the first entry of a group that is
 * big enough is 16 compares; with SSE2 (the host; the kernel is built
 * without vector registers) it is two, as is taking the largest.  A
 * capped entry stands for any hole of 512 KiB or more: a search for a
 * bigger block goes down to the chunk and looks at its holes, and
 * passes on, leaving the entry as it is, when none is big enough.
 *
 * Three refinements, each for speed:
 *   - The hole that ends at top stays out of the tree (index_skips): a
 *     young heap, a stack-like pattern or a growing vector works there,
 *     and first fit tries it last anyway, as it is the highest hole.
 *   - The tree may overstate, never understate.  A hole that grows or
 *     appears raises its leaf and the entries above until one is already
 *     big enough; a hole that shrinks or goes costs nothing (carve
 *     tightens the chunk it cut).  A search that meets an entry that
 *     overstated (a chunk without the hole its leaf promised, a group
 *     without the entry its parent promised) recounts it and carries on
 *     to the right, so each stale value is paid for once, and nothing
 *     that fits is ever skipped.
 *   - A search starts near the lowest level whose first group covers
 *     every chunk below the last block (start_level): a small heap in a
 *     large region pays for the depth it uses.
 *
 * Memory: a 2-byte entry per chunk, rounded up to whole groups, plus a
 * sixteenth of that per level above: about 2.1 bytes per KiB of heap,
 * and 16 bytes to start a group on a 32-byte boundary (index_space).  It
 * lives beside the bitmap at the region's end, where no payload reaches.
 */
#include "heap_impl.h"

#if defined(__SSE2__) && !defined(HEAP_SCALAR)
#include <emmintrin.h>
#endif

static uint32_t larger(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

/* One bit per entry of the group at g: is it at least b?  Bit j is
 * entry j.  b is at least 1. */
#if defined(__SSE2__) && !defined(HEAP_SCALAR)
_Static_assert(FAN == 16, "a group is two vectors of eight entries");
_Static_assert(CAP == INT16_MAX, "SSE2 compares signed 16-bit lanes");

/* Half 0 or 1 of the group at g: eight entries.  No entry is above
 * INT16_MAX (heap_impl.h: CAP), so SSE2's signed compares and maxima
 * order them right. */
static __m128i half(const bound *g, int which)
{
	return _mm_loadu_si128((const __m128i *)g + which);
}

static uint32_t fits_mask(const bound *g, bound b)
{
	const __m128i below = _mm_set1_epi16((short)(b - 1));

	/* Each answer is all ones or all zeros, so packing them down to one
	 * byte per entry (entries 0..15 in order) keeps them, and one
	 * movemask reads all 16. */
	return (uint32_t)_mm_movemask_epi8(_mm_packs_epi16(_mm_cmpgt_epi16(half(g, 0), below),
							   _mm_cmpgt_epi16(half(g, 1), below)));
}
#else
static uint32_t fits_mask(const bound *g, bound b)
{
	uint32_t mask = 0;

	for (unsigned j = 0; j < FAN; j++)
		mask |= (uint32_t)(g[j] >= b) << j;
	return mask;
}
#endif

/* The entries at or after position `from` of the group at g that are
 * at least b, one bit each. */
static uint32_t fits_from(const bound *g, unsigned from, bound b)
{
	return fits_mask(g, b) & (~0u << from);
}

/* The first of them, or FAN when there is none. */
static unsigned first_fit_in(const bound *g, unsigned from, bound b)
{
	uint32_t mask = fits_from(g, from, b);

	return mask ? (unsigned)__builtin_ctz(mask) : FAN;
}

/* The largest entry of the group at g; and the same with entry j read
 * as v, a value not stored yet.  Storing v first and reading the group
 * back would stall: a 16-byte load cannot take its bytes from a 2-byte
 * store still on its way to the cache, so it waits for the store to land
 * (about half of index_tighten's time at 10,000 live, perf).  So the
 * entry is written after the group above it is recounted. */
#if defined(__SSE2__) && !defined(HEAP_SCALAR)
static bound largest_lane(__m128i a, __m128i b)
{
	__m128i m = _mm_max_epi16(a, b);

	/* Eight lanes to four, four to two, two to one. */
	m = _mm_max_epi16(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(1, 0, 3, 2)));
	m = _mm_max_epi16(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(2, 3, 0, 1)));
	m = _mm_max_epi16(m, _mm_srli_epi32(m, 16));
	return (bound)_mm_cvtsi128_si32(m);
}

static bound group_max(const bound *g)
{
	return largest_lane(half(g, 0), half(g, 1));
}

static bound group_max_with(const bound *g, unsigned j, bound v)
{
	const __m128i at = _mm_set1_epi16((short)j);
	const __m128i low = _mm_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7);
	const __m128i high = _mm_setr_epi16(8, 9, 10, 11, 12, 13, 14, 15);
	/* Entry j reads as 0, the smallest there is; v joins at the end. */
	bound rest = largest_lane(_mm_andnot_si128(_mm_cmpeq_epi16(low, at), half(g, 0)),
				  _mm_andnot_si128(_mm_cmpeq_epi16(high, at), half(g, 1)));

	return rest > v ? rest : v;
}
#else
static bound group_max(const bound *g)
{
	bound max = 0;

	for (unsigned j = 0; j < FAN; j++)
		max = g[j] > max ? g[j] : max;
	return max;
}

static bound group_max_with(const bound *g, unsigned j, bound v)
{
	bound max = v;

	for (unsigned i = 0; i < FAN; i++)
		max = i != j && g[i] > max ? g[i] : max;
	return max;
}
#endif

/* The group that entry i of level k belongs to. */
static bound *group_of(const struct heap *h, unsigned k, uint32_t i)
{
	return h->level[k] + (i & ~(FAN - 1u));
}

/* The first hole in chunk c with at least units granules, or NIL. */
static uint32_t chunk_fit(const struct heap *h, uint32_t c, uint32_t units)
{
	for (uint64_t holes = chunk_holes(h, c); holes; holes &= holes - 1) {
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

	for (uint64_t holes = chunk_holes(h, c); holes; holes &= holes - 1) {
		uint32_t g = c * CHUNK + (uint32_t)__builtin_ctzll(holes), size = block_at(h, g)->size;

		if (!index_skips(h, g, size))
			max = larger(max, size);
	}
	return max;
}

/* The chunk of the last block: every hole in the tree starts at or
 * below it (the top hole is not in the tree). */
static uint32_t last_chunk(const struct heap *h)
{
	return (granules(h) - h->top_prev) / CHUNK;
}

/* The lowest level whose first group covers every chunk up to last:
 * 16^(level + 1) > last.  A search starts there or one level lower. */
static unsigned start_level(uint32_t last)
{
	return last ? (31u - (unsigned)__builtin_clz(last)) / FAN_SHIFT : 0;
}

/* Entry i of level k becomes max; returns the largest of its group with
 * max in place, which the entry above must now hold.  The group is read
 * before max is stored, never after (group_max_with says why). */
static bound settle(struct heap *h, unsigned k, uint32_t i, bound max)
{
	bound above = group_max_with(group_of(h, k, i), i % FAN, max);

	h->level[k][i] = max;
	return above;
}

/* Entry i of level k, and the entries above it, are recounted from the
 * level below, up to the first that comes out as it was.  Entries
 * elsewhere may still overstate: that is allowed. */
static void recount(struct heap *h, unsigned k, uint32_t i)
{
	bound max = group_max(h->level[k - 1] + FAN * i);

	for (; k + 1 < h->levels && h->level[k][i] != max; k++, i /= FAN)
		max = settle(h, k, i, max);
	h->level[k][i] = max;
}

/* Levels above the leaves that index_tighten keeps exact.  An entry
 * higher up covers 4096 chunks (4 MiB) or more: recounting it on nearly
 * every allocation cost more than the few searches that later meet it
 * overstated and recount it then (callgrind, steady_1000 to 100,000). */
#define TIGHT_LEVELS 2

/* Each of those entries is recounted, not only one that held exactly
 * the old value of the entry below (the only kind that can have been
 * it): that test was a coin toss the CPU mispredicted about every other
 * time, and cost more than the recount it saved (steady_1000 0.96x,
 * steady_10000 0.96x).  A recount can only lower an entry to what its
 * group holds, so nothing ever understates. */
void index_tighten(struct heap *h, uint32_t c)
{
	bound max = cap(chunk_max(h, c));
	unsigned k = 0;

	for (; k < TIGHT_LEVELS && k + 1 < h->levels; k++, c /= FAN)
		max = settle(h, k, c, max);
	h->level[k][c] = max;
}

/* The leftmost chunk whose leaf says it may hold a hole of units
 * granules, among those under entry i of level k or under the entries
 * to its right; NIL if none up to the last block.
 *
 * Up: the first entry at or right of i in its group that is big enough;
 * if none, the parent's right neighbour, one level up.  Down: in each
 * group, the first entry big enough.  A group in which none is (its
 * parent overstated) gets its parent recounted, and the search goes on
 * right of that parent. */
static uint32_t next_chunk(struct heap *h, unsigned k, uint32_t i, uint32_t units)
{
	uint32_t last = last_chunk(h);
	bound b = cap(units);
	unsigned j;

	for (;;) {
		for (;;) { /* up */
			if (((uint64_t)i << (FAN_SHIFT * k)) > last)
				return NIL; /* right of every hole in the tree */
			j = first_fit_in(group_of(h, k, i), i % FAN, b);
			if (j < FAN)
				break;
			i = i / FAN + 1;
			k++;
		}
		i = (i & ~(FAN - 1u)) + j;
		for (; k > 0; k--, i = FAN * i + j) { /* down */
			j = first_fit_in(h->level[k - 1] + FAN * i, 0, b);
			if (j == FAN)
				break;
		}
		if (k == 0)
			return i;
		recount(h, k, i); /* entry i of level k promised too much */
		i++;
	}
}

/* The first hole of units granules or more, in chunk c (which its leaf
 * says may hold one) or in the chunks after it.  A chunk whose leaf
 * overstated is tightened on the way, so each stale value is paid for
 * once. */
HOT uint32_t search(struct heap *h, uint32_t c, uint32_t units)
{
	uint32_t g;

	for (; c != NIL; c = next_chunk(h, 0, c + 1, units)) {
		g = chunk_fit(h, c, units);
		if (g != NIL)
			return g;
		index_tighten(h, c);
	}
	return NIL;
}

uint32_t index_descend(struct heap *h, uint32_t units)
{
	/* One level below the one whose first group covers every chunk:
	 * first fit's answer lies low in the heap more often than not, and
	 * is then found with one group fewer; when it is not, the search
	 * climbs a level, one group more.  (Measured: fewer instructions at
	 * 100 to 10,000 live, a few more at 100,000.) */
	unsigned k = start_level(last_chunk(h));

	return search(h, next_chunk(h, k ? k - 1 : 0, 0, units), units);
}

uint32_t index_fits_in_group(const struct heap *h, uint32_t c, uint32_t units)
{
	return fits_from(group_of(h, 0, c), c % FAN, cap(units));
}

uint32_t index_next_chunk(struct heap *h, uint32_t c, uint32_t units)
{
	return index_may_hold(h, units) ? next_chunk(h, 0, c, units) : NIL;
}

/* The largest hole under entry i of level k, exactly, if it beats best:
 * the bounds prune every entry that cannot. */
static uint32_t exact_max(const struct heap *h, unsigned k, uint32_t i, uint32_t best)
{
	if (h->level[k][i] < CAP && h->level[k][i] <= best)
		return best; /* a capped entry may hide any size: look inside */
	if (k == 0)
		return larger(best, chunk_max(h, i));
	for (uint32_t j = FAN * i; j < FAN * i + FAN; j++)
		best = exact_max(h, k - 1, j, best);
	return best;
}

uint32_t index_largest(const struct heap *h)
{
	return exact_max(h, h->levels - 1, 0, 0);
}

/* Entries level k of the tree over nbits chunks uses: one per group of
 * the level below (per chunk at level 0). */
static uint32_t entries_at(uint32_t nbits, unsigned k)
{
	for (; k > 0; k--)
		nbits = (nbits + FAN - 1) / FAN;
	return nbits;
}

static uint32_t used_at(const struct heap *h, unsigned k)
{
	return entries_at(h->nbits, k);
}

static uint32_t whole_groups(uint32_t n)
{
	return (n + FAN - 1) / FAN * FAN;
}

/* Entries the tree over nbits chunks has, every level whole groups, and
 * how many levels. */
static uint32_t tree_entries(uint32_t nbits, unsigned *levels)
{
	uint32_t total = 0;

	*levels = 0;
	do
		total += whole_groups(entries_at(nbits, (*levels)++));
	while (entries_at(nbits, *levels - 1) > 1);
	return total;
}

size_t index_space(uint32_t nbits)
{
	unsigned levels;
	size_t entries = tree_entries(nbits, &levels);

	/* A tree of one group is read whole anyway; a taller one gets the
	 * 16 bytes that bring a 16-aligned start to a 32-byte boundary, so no
	 * group straddles two cache lines. */
	return entries * sizeof(bound) + (levels > 1 ? GROUP_BYTES - G : 0);
}

/* Where the levels go in the index_space() bytes plan() set aside at
 * tree: one after the other, leaves first, up to the single entry at the
 * top, each a whole number of groups; a tree of more than one group
 * starts on a 32-byte boundary, so no group straddles two cache lines.
 * Returns how many levels (more than HEAP_LEVELS, with level[] filled
 * only that far, for an nbits no heap can have). */
static unsigned place_levels(bound *tree, uint32_t nbits, bound *level[HEAP_LEVELS])
{
	bound *at = tree;
	unsigned levels;

	tree_entries(nbits, &levels);
	if (levels > 1)
		at = (bound *)(((uintptr_t)tree + GROUP_BYTES - 1) & ~(uintptr_t)(GROUP_BYTES - 1));
	for (unsigned k = 0; k < levels && k < HEAP_LEVELS; k++) {
		level[k] = at;
		at += whole_groups(entries_at(nbits, k));
	}
	return levels;
}

static void lay_out(struct heap *h)
{
	h->levels = place_levels(h->tree, h->nbits, h->level);
}

void index_build(struct heap *h)
{
	lay_out(h);
	for (uint32_t c = 0; c < whole_groups(h->nbits); c++)
		h->level[0][c] = c < h->nbits ? cap(chunk_max(h, c)) : 0;
	for (unsigned k = 1; k < h->levels; k++) {
		uint32_t n = used_at(h, k);

		for (uint32_t i = 0; i < whole_groups(n); i++)
			h->level[k][i] = i < n ? group_max(h->level[k - 1] + FAN * i) : 0;
	}
}

/* The levels lie where lay_out puts them, inside the tree's space. */
static bool levels_ok(const struct heap *h)
{
	bound *want[HEAP_LEVELS];

	if (place_levels(h->tree, h->nbits, want) != h->levels || h->levels > HEAP_LEVELS)
		return false;
	for (unsigned k = 0; k < h->levels; k++)
		if (h->level[k] != want[k])
			return false;
	return h->level[h->levels - 1] + FAN <= (bound *)h->bits;
}

/* Every entry of level k is at most CAP (an entry above it would read
 * as negative to SSE2's signed compares, and its holes be passed over),
 * and the padding after the used ones, to the end of their group, is 0
 * (no chunk is there; a search that believed one would read past the
 * bitmap). */
static bool entries_ok(const struct heap *h, unsigned k)
{
	uint32_t used = used_at(h, k);

	for (uint32_t i = 0; i < whole_groups(used); i++)
		if (h->level[k][i] > CAP || (i >= used && h->level[k][i] != 0))
			return false;
	return true;
}

bool index_check(const struct heap *h)
{
	uint32_t n = h->nbits;

	if (!levels_ok(h))
		return false;
	for (unsigned k = 0; k < h->levels; k++)
		if (!entries_ok(h, k))
			return false;
	for (uint32_t c = 0; c < n; c++)
		if (h->level[0][c] < cap(chunk_max(h, c)))
			return false;
	for (unsigned k = 1; k < h->levels; k++) {
		n = used_at(h, k);
		for (uint32_t i = 0; i < n; i++)
			if (h->level[k][i] < group_max(h->level[k - 1] + FAN * i))
				return false;
	}
	return true;
}
