/*
 * check.c - looking at a heap without changing it (but for the late
 * header, heap_impl.h, which these write first): heap_stats, and
 * heap_check, which walks every block and holds the bitmap, the index and
 * the counters against that walk (the invariants are listed in heap.c),
 * and heap_walk, the same walk handed to a caller (a picture of the heap).
 */
#include "heap_impl.h"

/* Every block from the lowest, in address order: visit(h, g, ctx) is
 * called for each whose header is sound (block_ok: sealed, tagged with
 * the size of the block below, inside the heap, so its size keeps the
 * walk inside too).  HEAP_ECORRUPT at the first that is not; a visit's
 * nonzero return ends the walk with it.  *last: the last block's size. */
static int walk(const struct heap *h, int (*visit)(const struct heap *h, uint32_t g, void *ctx),
		void *ctx, uint32_t *last)
{
	uint32_t prev = 0;
	int rc;

	for (uint32_t g = 0; g < granules(h); g += prev) {
		if (!block_ok(h, g, prev))
			return HEAP_ECORRUPT;
		if ((rc = visit(h, g, ctx)) != 0)
			return rc;
		prev = block_at(h, g)->size;
	}
	*last = prev;
	return 0;
}

/* Counts gathered by heap_check's walk, to compare with the heap's own. */
struct tally {
	size_t used, free, nholes, nallocs;
	bool prev_free; /* the block just visited was a hole */
};

/* One block of heap_check's walk against its bitmap bits, and a hole
 * against its neighbour below (two holes never touch) and its poison. */
static int check_block(const struct heap *h, uint32_t g, void *ctx)
{
	const struct block *b = block_at(h, g);
	struct tally *t = ctx;
	bool was_free = t->prev_free;

	t->prev_free = b->magic == MAGIC_FREE;
	if (b->magic == MAGIC_USED) {
		t->used += bytes(b);
		t->nallocs++;
		return kind_at(h, g) == USED ? 0 : HEAP_ECORRUPT;
	}
	t->free += bytes(b);
	t->nholes++;
	return kind_at(h, g) == HOLE && !was_free &&
	       poisoned(inside(h, g), addr_of(h, g) + bytes(b)) ? 0 : HEAP_ECORRUPT;
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

/* The split of [base, end) is heap_plan's for end, or for an earlier
 * end when the extends since moved no limit (heap_extend: their bytes
 * wait): either way heap_plan's limit for end is no higher than limit.
 * An end raised by damage would move the bitmap past the region at the
 * next extend; caught here when it would also have moved the limit.
 * Needs end - base within what heap_plan takes. */
static bool split_ok(const struct heap *h)
{
	struct layout l;

	if (h->end < h->base || h->end - h->base > 2 * (uintptr_t)HEAP_MAX_SIZE)
		return false;
	heap_plan(h->base, h->end, &l);
	return l.limit <= h->limit;
}

/* base, top, limit, the bitmap and end lie as heap.h draws them. */
static bool layout_ok(const struct heap *h)
{
	uintptr_t bits = (uintptr_t)h->bits, tree = (uintptr_t)h->tree;

	return split_ok(h) && h->base % G == 0 && h->top % G == 0 && h->limit % G == 0 &&
	       h->ngran == (h->top - h->base) / G &&
	       h->base < h->top && h->top <= h->limit && h->limit - h->top < MIN_BLOCK &&
	       tree >= h->limit &&
	       tree + index_space(h->nbits) <= bits &&
	       bits % G == 0 && (size_t)h->nbits * sizeof(struct heap_bits) <= h->end - bits &&
	       (size_t)h->nbits * CHUNK * G >= h->limit - h->base;
}

/* A late header, if any, is where the bitmap says a hole starts, just
 * above a used block of prev granules and just under a used block or
 * top: writing it cannot stray into a payload, even from a struct heap
 * that was itself overwritten.  (A wrong size or prev is then written
 * into the hole's own header, where the walk finds it.)  Needs
 * layout_ok: the bitmap covers every granule below ngran. */
static bool late_ok(const struct heap *h)
{
	const struct heap_late *l = &h->late;

	if (!l->size)
		return true;
	return l->g > 0 && l->g < h->ngran && l->size <= h->ngran - l->g && l->prev <= l->g &&
	       kind_at(h, l->g) == HOLE && kind_at(h, l->g - l->prev) == USED &&
	       (l->g + l->size == h->ngran || kind_at(h, l->g + l->size) == USED);
}

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
	if (!h->broken && layout_ok(h) && late_ok(h)) {
		size_t largest;

		write_late(h); /* index_largest reads hole headers (heap_impl.h) */
		largest = index_largest(h);

		if (top_hole(h) != NIL && h->top_prev > largest)
			largest = h->top_prev;
		out->largest_free = largest ? largest * G - G : 0;
	}
}

int heap_check(const struct heap *h)
{
	struct tally t = { 0 };
	uint32_t last;

	if (!h->ready)
		return HEAP_EINVAL;
	if (h->broken || !layout_ok(h) || !late_ok(h))
		return HEAP_ECORRUPT;
	write_late(h); /* the walk reads every header (heap_impl.h) */
	if (walk(h, check_block, &t, &last) != 0)
		return HEAP_ECORRUPT;
	if (last != h->top_prev || !bits_counted(h, &t))
		return HEAP_ECORRUPT;
	if (!index_check(h))
		return HEAP_ECORRUPT;
	if (t.used != h->used || t.nholes != h->nholes || t.nallocs != h->nallocs ||
	    t.used + t.free != h->top - h->base)
		return HEAP_ECORRUPT;
	return 0;
}

/* What heap_walk hands each block to: the caller's function. */
struct walk_call {
	heap_walk_fn *fn;
	void *ctx;
};

static int call_back(const struct heap *h, uint32_t g, void *ctx)
{
	const struct block *b = block_at(h, g);
	struct walk_call *c = ctx;
	struct heap_block out = { addr_of(h, g), bytes(b), b->magic == MAGIC_USED };

	return c->fn(&out, c->ctx);
}

int heap_walk(const struct heap *h, heap_walk_fn *fn, void *ctx)
{
	struct walk_call c = { fn, ctx };
	uint32_t last;

	if (!h->ready)
		return HEAP_EINVAL;
	if (h->broken || !layout_ok(h) || !late_ok(h))
		return HEAP_ECORRUPT;
	write_late(h); /* the walk reads every header (heap_impl.h) */
	return walk(h, call_back, &c, &last);
}
