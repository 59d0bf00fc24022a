/*
 * check.c - looking at a heap without changing it: heap_stats, and
 * heap_check, which walks every block and holds the bitmap, the index and
 * the counters against that walk (the invariants are listed in heap.c),
 * and heap_walk, the same walk handed to a caller (a picture of the heap).
 */
#include "heap_impl.h"

void heap_stats(const struct heap *h, struct heap_stats *out)
{
	*out = (struct heap_stats){ 0 };
	if (!h->ready)
		return;
	out->size = h->top - h->base;
	out->used = h->used;
	out->free = (h->top - h->base) - h->used;
	out->holes = h->nholes;
	out->allocations = h->nallocs;
	out->index_bytes = (uintptr_t)(h->bits + h->nbits) - (uintptr_t)h->tree;
	/* With align 16 a hole's payload needs no front gap: it fits bytes - G. */
	if (!h->broken) {
		size_t largest = index_largest(h);

		if (top_hole(h) != NIL && h->top_prev > largest)
			largest = h->top_prev;
		out->largest_free = largest ? largest * G - G : 0;
	}
}

/* Counts gathered by heap_check's walk, to compare with the heap's own. */
struct tally {
	size_t used, free, nholes, nallocs;
};

/* Check one block of the walk against its header, tag and bitmap bits. */
static bool check_block(const struct heap *h, uint32_t g, uint32_t prev, bool prev_free,
			struct tally *t)
{
	const struct block *b = block_at(h, g);

	if (!block_ok(h, g, prev))
		return false;
	if (b->magic == MAGIC_USED) {
		t->used += bytes(b);
		t->nallocs++;
		return kind_at(h, g) == USED;
	}
	t->free += bytes(b);
	t->nholes++;
	return kind_at(h, g) == HOLE && !prev_free &&
	       poisoned(inside(h, g), addr_of(h, g) + bytes(b));
}

static unsigned popcount(uint64_t x)
{
	unsigned n = 0;

	for (; x; x &= x - 1)
		n++;
	return n;
}

/* The bitmap holds no bit the walk did not account for: as many start
 * bits as blocks and as many used bits as used blocks, anywhere in it. */
static bool bits_counted(const struct heap *h, const struct tally *t)
{
	size_t starts = 0, used = 0;

	for (size_t i = 0; i < h->nbits; i++) {
		starts += popcount(h->bits[i].start);
		used += popcount(h->bits[i].used);
	}
	return starts == t->nholes + t->nallocs && used == t->nallocs;
}

/* base, top, limit, the bitmap and end lie as heap.h draws them. */
static bool layout_ok(const struct heap *h)
{
	uintptr_t bits = (uintptr_t)h->bits, tree = (uintptr_t)h->tree;

	return h->base % G == 0 && h->top % G == 0 && h->limit % G == 0 &&
	       h->ngran == (h->top - h->base) / G &&
	       h->base < h->top && h->top <= h->limit && h->limit - h->top < MIN_BLOCK &&
	       tree >= h->limit &&
	       tree + index_space(h->nbits) <= bits &&
	       bits % G == 0 && (size_t)h->nbits * sizeof(struct heap_bits) <= h->end - bits &&
	       (size_t)h->nbits * CHUNK * G >= h->limit - h->base;
}

int heap_check(const struct heap *h)
{
	struct tally t = { 0 };
	uint32_t g, prev = 0;
	bool prev_free = false;

	if (!h->ready)
		return HEAP_EINVAL;
	if (h->broken || !layout_ok(h))
		return HEAP_ECORRUPT;
	for (g = 0; g < granules(h); g += block_at(h, g)->size) {
		if (!check_block(h, g, prev, prev_free, &t))
			return HEAP_ECORRUPT;
		prev = block_at(h, g)->size;
		prev_free = block_at(h, g)->magic == MAGIC_FREE;
	}
	if (prev != h->top_prev || !bits_counted(h, &t))
		return HEAP_ECORRUPT;
	if (!index_check(h))
		return HEAP_ECORRUPT;
	if (t.used != h->used || t.nholes != h->nholes || t.nallocs != h->nallocs ||
	    t.used + t.free != h->top - h->base)
		return HEAP_ECORRUPT;
	return 0;
}

int heap_walk(const struct heap *h, heap_walk_fn *fn, void *ctx)
{
	uint32_t prev = 0;

	if (!h->ready)
		return HEAP_EINVAL;
	if (h->broken)
		return HEAP_ECORRUPT;
	for (uint32_t g = 0; g < granules(h); g += prev) {
		const struct block *b = block_at(h, g);
		struct heap_block out;
		int rc;

		/* block_ok bounds b->size by the heap: the walk stays inside. */
		if (!block_ok(h, g, prev))
			return HEAP_ECORRUPT;
		out = (struct heap_block){ addr_of(h, g), bytes(b), b->magic == MAGIC_USED };
		if ((rc = fn(&out, ctx)) != 0)
			return rc;
		prev = b->size;
	}
	return 0;
}
