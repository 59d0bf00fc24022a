/*
 * heapbar.c - a picture of a heap, to scale: every block of [base, top)
 * and then the heap's index, laid out along the pixels of a rectangle
 * like text along lines (left to right, then the next row down).
 *
 * Pure: it reads the heap through heap_stats and heap_walk and writes
 * only the pixels it is given, so the host tests draw into a buffer and
 * count the colours (test/host/test_heapbar.c).
 *
 * Scale.  The rectangle has npx = width * height pixels for span = size
 * + index_bytes bytes; byte offset o falls on pixel o * npx / span.  A
 * block [a, b) gets the pixels [px(a), px(b)): the blocks tile the bar
 * with no gap and no overlap, and a block smaller than a pixel may get
 * none.  Each block's ends are rounded down to a pixel, so the pixels of
 * all holes differ from free * npx / span by less than one per hole, and
 * those of used blocks from used * npx / span by less than one per run
 * of used blocks (at most holes + 1 runs).
 */
#include "heapbar.h"

/* Where one drawing is: the pixels, the scale, the tally. */
struct bar {
	const struct pixbuf *pb;
	uintptr_t base;
	uint64_t npx, span;
	struct heapbar_counts *out;
};

static uint64_t px_of(const struct bar *b, uint64_t offset)
{
	return offset * b->npx / b->span; /* offset < 2^36, npx < 2^26: no overflow */
}

/* Pixels [p0, p1) of the bar in colour rgb, row by row. */
static void fill_run(const struct bar *b, uint64_t p0, uint64_t p1, uint32_t rgb)
{
	uint32_t w = b->pb->width;

	while (p0 < p1) {
		uint32_t x = (uint32_t)(p0 % w), y = (uint32_t)(p0 / w);
		uint64_t n = p1 - p0 < w - x ? p1 - p0 : w - x;

		pixbuf_fill(b->pb, x, y, (uint32_t)n, 1, rgb);
		p0 += n;
	}
}

/* heap_walk's callback: one block.  A block of three pixels or more
 * shows its header as its first pixel, in a darker shade of its kind. */
static int draw_block(const struct heap_block *blk, void *ctx)
{
	struct bar *b = ctx;
	uint64_t p0 = px_of(b, blk->addr - b->base), p1 = px_of(b, blk->addr - b->base + blk->size);

	if (p1 - p0 >= 3) {
		fill_run(b, p0, p0 + 1, blk->used ? RGB_HEAP_UHDR : RGB_HEAP_FHDR);
		fill_run(b, p0 + 1, p1, blk->used ? RGB_HEAP_USED : RGB_HEAP_FREE);
	} else {
		fill_run(b, p0, p1, blk->used ? RGB_HEAP_USED : RGB_HEAP_FREE);
	}
	*(blk->used ? &b->out->used_px : &b->out->free_px) += p1 - p0;
	return 0;
}

int heapbar_draw(const struct pixbuf *pb, const struct heap *h, struct heapbar_counts *out)
{
	struct heap_stats st;
	struct bar b = { pb, h->base, (uint64_t)pb->width * pb->height, 0, out };
	uint64_t index_px;

	*out = (struct heapbar_counts){ 0 };
	heap_stats(h, &st);
	b.span = st.size + st.index_bytes;
	if (b.npx == 0 || b.span == 0)
		return HEAP_EINVAL;
	index_px = px_of(&b, st.size);
	fill_run(&b, index_px, b.npx, RGB_HEAP_INDEX);
	out->index_px = b.npx - index_px;
	out->stats = st;
	return heap_walk(h, draw_block, &b);
}
