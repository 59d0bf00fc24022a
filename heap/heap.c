/*
 * heap.c - the kernel heap: address-ordered first fit with boundary tags,
 * a bitmap of block starts, and an index of the big holes (index.c).
 *
 * Owns every byte of [start, end) of each struct heap: the block headers,
 * the index and the bitmap past limit, and (HEAP_POISON) the poison
 * pattern inside holes.  Layout and costs are in heap.h.
 *
 * Invariants, all checked by heap_check():
 *   1. Blocks tile [base, top): each starts where the one below ends.
 *      Every header is sealed, and its prev_size is the size of the block
 *      just below it (0 for the first): a boundary tag.  top_prev is top's
 *      own tag: the size of the last block.  (Between two calls, the
 *      header of the tail the last allocation cut off may still be in
 *      h->late: heap_impl.h, the late header.)
 *   2. The bitmap marks exactly the block starts, and of those exactly the
 *      used blocks.
 *   3. No two holes touch (a free merges them at once), and the index
 *      never understates the largest hole that starts in a chunk; the
 *      hole that ends at top stays out of it (index.c).  Every entry is
 *      at most CAP, the padding of each level's last group is 0, and the
 *      levels lie where index.c's lay_out puts them.
 *   4. used counts the bytes of the used blocks (the rest of [base, top) is
 *      free: heap_stats says how much), and nholes / nallocs count the blocks.
 *   5. limit - top < 32: too few bytes for a block after a used last block
 *      (they wait for the next heap_extend).  limit, the tree and the
 *      bitmap are heap_plan's split of [base, end), or of an earlier end
 *      whose extends moved no limit.
 *   6. A late header (h->late), if any, names a hole start in the bitmap,
 *      just above a used block and just under a used block or top.
 *   7. HEAP_POISON: every byte of a hole past its header holds POISON_BYTE.
 *
 * Why a bitmap: a pointer into the middle of a live block points at bytes
 * the caller wrote, so no header, magic or seal found there can prove it
 * is a block start.  The first version of this heap (kept as
 * test/reference/list_heap.c) proved it by walking to the pointer from a
 * hole it knew, which cost O(holes).  This one asks the bitmap, which lives
 * past every payload where no caller writes, so the check is O(1).  The
 * neighbours a free merges with: the block above starts where this one
 * ends; the block below where prev_size says, and in a heap past 1 MiB
 * it must also be the nearest block start below in the bitmap.  The
 * bitmap tells whether each is a hole.
 */
#include "heap_impl.h"

static uintptr_t addr(const void *p)
{
	return (uintptr_t)p;
}

/* Round x up to a multiple of a (a power of two); false if that wraps. */
static bool align_up(uintptr_t x, size_t a, uintptr_t *out)
{
	if (x > UINTPTR_MAX - (a - 1))
		return false;
	*out = (x + (a - 1)) & ~(uintptr_t)(a - 1);
	return true;
}

/* a is a power of two (0 is not).  The usual a != 0 && !(a & (a - 1)),
 * next to other tests, becomes a population count in clang's hands, some
 * 20 instructions on baseline x86-64: this form stays three.  It holds
 * because a ^ (a - 1) is the lowest set bit of a and every bit below it,
 * which exceeds a - 1 only when no other bit is set. */
static bool power_of_two(size_t a)
{
	return (a ^ (a - 1)) > a - 1;
}

/* Granules a block needs for size payload bytes; false if it cannot exist.
 * The limit is checked before any rounding, so SIZE_MAX cannot wrap. */
static bool units_for(size_t size, uint32_t *units)
{
	size_t u;

	if (size > HEAP_MAX_SIZE - G)
		return false;
	u = (size + G - 1) / G + 1;
	*units = (uint32_t)(u < MIN_BLOCK / G ? MIN_BLOCK / G : u);
	return true;
}

/* Split [base, end) between blocks, the tree and the bitmap.  One bitmap
 * entry (16 bytes) covers a chunk of 1 KiB, so every 1040 bytes of region
 * need one; the tree takes index_space() bytes (index.c: about 2.1 per
 * KiB).  The caller has checked that end - base is at most
 * 2 * HEAP_MAX_SIZE, so the counts fit 32 bits. */
void heap_plan(uintptr_t base, uintptr_t end, struct layout *l)
{
	uintptr_t e = end & ~(uintptr_t)(G - 1);
	size_t span = e > base ? e - base : 0, per = CHUNK * G + sizeof(struct heap_bits);
	size_t nbits = span / per + (span % per != 0), index;

	l->nbits = (uint32_t)nbits;
	index = nbits * sizeof(struct heap_bits) + index_space(l->nbits);
	l->bits = (struct heap_bits *)(e - nbits * sizeof(struct heap_bits));
	l->tree = (bound *)(e - index);
	l->limit = span >= index ? e - index : base;
}

/* The block at g now has size granules (it changed size or is new): the
 * block above learns it as its boundary tag, or top does when g is the
 * last block. */
static void retag_above(struct heap *h, uint32_t g, uint32_t size)
{
	if (g + size >= granules(h))
		h->top_prev = size;
	else
		set_prev(block_at(h, g + size), size);
}

/* [g, g + units) is a new hole, its header written or left late: the
 * bitmap, the index and the count learn it. */
static void count_hole(struct heap *h, uint32_t g, uint32_t units)
{
	mark(h, g, HOLE);
	index_grew(h, g, units);
	h->nholes++;
}

/* Make [g, g + units) a new hole: header, bitmap, index.  prev is the size
 * of the block below.  The caller retags the block above. */
static void new_hole(struct heap *h, uint32_t g, uint32_t units, uint32_t prev)
{
	set_header(block_at(h, g), MAGIC_FREE, units, prev);
	count_hole(h, g, units);
}

/* The tail a carve cuts off: a new hole, whose header is left for the
 * next call to write (heap_impl.h: the late header).  HEAP_POISON
 * writes it now. */
static void new_tail(struct heap *h, uint32_t g, uint32_t units, uint32_t prev)
{
#ifdef HEAP_POISON
	set_header(block_at(h, g), MAGIC_FREE, units, prev);
#else
	leave_late(h, g, units, prev);
#endif
	count_hole(h, g, units);
}

/* Put the layout's pieces in place in h. */
static void adopt(struct heap *h, const struct layout *l)
{
	h->limit = l->limit;
	h->tree = l->tree;
	h->bits = l->bits;
	h->nbits = l->nbits;
}

int heap_init(struct heap *h, void *start, size_t size)
{
	uintptr_t s = addr(start), base;
	struct layout l;

	*h = (struct heap){ 0 };
	if (!start || size > UINTPTR_MAX - s || !align_up(s, G, &base))
		return HEAP_EINVAL;
	if (s + size < base + MIN_BLOCK)
		return HEAP_EINVAL;
	if (s + size - base > 2 * HEAP_MAX_SIZE)
		return HEAP_ENOSPC;
	heap_plan(base, s + size, &l);
	if (l.limit - base < MIN_BLOCK)
		return HEAP_EINVAL;
	if (l.limit - base > HEAP_MAX_SIZE)
		return HEAP_ENOSPC;
	for (size_t i = 0; i < l.nbits; i++)
		l.bits[i] = (struct heap_bits){ 0, 0 };
	h->base = base;
	h->end = s + size;
	adopt(h, &l);
	h->top = h->limit;
	h->ngran = granule(h, h->top);
	set_header(block_at(h, 0), MAGIC_FREE, granules(h), 0);
	mark(h, 0, HOLE);
	index_build(h);
	h->nholes = 1;
	retag_above(h, 0, granules(h));
	poison(inside(h, 0), h->top);
	h->ready = 1;
	return 0;
}

/* The front gap of a block whose payload is aligned to align, placed
 * as low as it can go in a hole starting at lo: what the payload's
 * address lacks to the next multiple of align, or align more when that
 * would leave 16 bytes (a 16-byte gap could be neither a hole nor part
 * of one; a gap of 0 or of MIN_BLOCK and more can). */
HOT uintptr_t front_gap(uintptr_t lo, size_t align)
{
	uintptr_t gap = (0 - (lo + G)) & (align - 1);

	return gap != 0 && gap < MIN_BLOCK ? gap + align : gap;
}

/* Where in a hole starting at lo that block starts; false if the place
 * is past the end of the address space (the sum wrapped). */
static bool place(uintptr_t lo, size_t align, uintptr_t *blk)
{
	*blk = lo + front_gap(lo, align);
	return *blk >= lo;
}

/* Granules hole x must have for a block of `units` granules placed as
 * above, front gap included, and where the block starts (*blk).  It
 * reads only x's address, not its header.  A place that wrapped needs
 * no check here: a block past the address space fits in no hole, and
 * need says so. */
HOT uint64_t need_at(const struct heap *h, uint32_t x, uint32_t units, size_t align,
		     uintptr_t *blk)
{
	uintptr_t at = addr_of(h, x), gap = front_gap(at, align);

	*blk = at + gap;
	return gap / G + units;
}

/* The index may only lead to sound holes; a damaged one breaks the heap. */
HOT bool hole_ok(struct heap *h, uint32_t x)
{
	if (unlikely(!header_ok(h, x, MAGIC_FREE))) {
		h->broken = 1;
		return false;
	}
	return true;
}

/*
 * Cut a used block of `units` granules at granule g out of hole x:
 *
 *   before  | hole x ..........................................|
 *   after   | front hole | used block | tail hole              |
 *
 * The front stays hole x, smaller, when g is past x; the tail becomes a
 * hole when it has MIN_BLOCK bytes, else the block takes it.  Returns the
 * payload, or NULL (nothing changed) when freed memory there was written
 * after its free (HEAP_POISON).
 */
HOT void *carve(struct heap *h, uint32_t x, uint32_t g, uint32_t units)
{
	struct block *hole = block_at(h, x);
	uint32_t size, hi, prev, tail;

	/* The tail's header will be written at g + units: in a heap larger
	 * than the caches, a line no cache holds.  A store that misses waits
	 * for its line only when it reaches the head of the store queue,
	 * and every store after it waits too; asked for now, the line is on
	 * its way while the checks below run.  Above all for the top hole,
	 * where the next allocation reads that header back (lifo 0.82x,
	 * fifo 0.84x side by side). */
	__builtin_prefetch(block_at(h, g + units), 1);
	size = hole->size;
	hi = x + size;
	prev = hole->prev_size;

	if (hi - (g + units) < MIN_BLOCK / G)
		units = hi - g;
	tail = g + units;
	if (!poisoned(g > x ? addr_of(h, g) : inside(h, x), addr_of(h, tail)))
		return NULL;
	if (g > x) { /* the front stays a hole */
		set_header(hole, MAGIC_FREE, g - x, prev);
		prev = g - x;
	} else {
		h->nholes--;
	}
	set_header(block_at(h, g), MAGIC_USED, units, prev);
	mark(h, g, USED);
	/* Tightening first: the tail's new_hole may raise a leaf of the same
	 * group, and index_tighten reads the group whole (index.c:
	 * group_max_with says why that order matters). */
	if (!index_skips(h, x, size) && size >= index_leaf(h, x / CHUNK))
		index_tighten(h, x / CHUNK); /* x was its chunk's largest: say so now */
	if (tail < hi)
		new_tail(h, tail, hi - tail, units);
	if (g > x)
		index_grew(h, x, g - x); /* the front may have been the top hole */
	if (tail < hi)
		retag_above(h, tail, hi - tail);
	else if (g > x)
		retag_above(h, g, units);
	/* else the block is the whole hole: the tag above still holds its
	 * size, and that header, likely not in any cache, is left alone. */
	h->used += (size_t)units * G;
	h->nallocs++;
	return (void *)(addr_of(h, g) + G);
}

/* The lowest hole of units granules or more: from the index, and last
 * of all the top hole, which the index leaves out; NIL if none. */
static uint32_t first_fit(struct heap *h, uint32_t units)
{
	uint32_t x = index_first_fit(h, units);

	if (x != NIL || h->top_prev < units)
		return x;
	return top_hole(h);
}

/* Does an aligned allocation's walk end at hole x, whose block would
 * need `need` granules from x and start at blk (need_at)?  It does when
 * x has that many: *p is then the block (or NULL when x's header is
 * damaged, which breaks the heap, or freed memory there was written). */
static bool try_hole(struct heap *h, uint32_t x, uint32_t units, uint64_t need, uintptr_t blk,
		     void **p)
{
	if (need > block_at(h, x)->size)
		return false;
	*p = hole_ok(h, x) ? carve(h, x, granule(h, blk), units) : NULL;
	return true;
}

/* The holes that start in chunk c, in address order, until one ends the
 * walk (try_hole): true then, with *p.  Their chunk's leaf bounds them
 * all, so an alignment's front gap rules most small holes out before
 * their headers are read.  The top hole, which the index leaves out, is
 * left for last. */
static bool try_chunk(struct heap *h, uint32_t c, uint32_t units, size_t align, void **p)
{
	bound leaf = index_leaf(h, c);
	uint64_t most = leaf < CAP ? leaf : UINT64_MAX; /* a capped leaf bounds nothing */
	uint32_t top = granules(h) - h->top_prev;       /* the last block */

	for (uint64_t holes = chunk_holes(h, c); holes; holes &= holes - 1) {
		uint32_t x = c * CHUNK + (uint32_t)__builtin_ctzll(holes);
		uintptr_t blk;
		uint64_t need;

		if (x == top)
			continue;
		need = need_at(h, x, units, align, &blk);
		if (need > most)
			continue; /* the common case, decided without the header */
		if (try_hole(h, x, units, need, blk, p))
			return true;
	}
	return false;
}

/*
 * First fit for a payload aligned to align > 16.  A hole big enough may
 * still have no room for the block's front gap, so the holes are tried
 * in address order until one has: chunk by chunk where the index says a
 * hole of units granules or more may start (a group of 16 leaves at a
 * time), hole by hole inside a chunk (the bitmap), and the top hole
 * last.  A leaf found to overstate is left to the next plain search to
 * tighten: here a chunk's holes can be passed over unread, so no walk
 * proves it.
 */
static void *alloc_aligned(struct heap *h, uint32_t units, size_t align)
{
	uint32_t x;
	void *p;

	for (uint32_t c = index_next_chunk(h, 0, units); c != NIL;
	     c = index_next_chunk(h, c - c % FAN + FAN, units)) {
		for (uint32_t fits = index_fits_in_group(h, c, units); fits; fits &= fits - 1) {
			if (try_chunk(h, c - c % FAN + (uint32_t)__builtin_ctz(fits), units, align, &p))
				return p;
		}
	}
	x = top_hole(h);
	if (x != NIL && h->top_prev >= units) { /* top's tag is its size: none read for less */
		uintptr_t blk;
		uint64_t need = need_at(h, x, units, align, &blk);

		if (try_hole(h, x, units, need, blk, &p))
			return p;
	}
	return NULL;
}

/* May a hole of units granules exist?  The index's top entry and top's
 * tag say, without reading a header; when they say no, heap_alloc reads
 * none and fails. */
static bool may_fit(const struct heap *h, uint32_t units)
{
	return index_may_hold(h, units) || (h->top_prev >= units && top_hole(h) != NIL);
}

void *heap_alloc(struct heap *h, size_t size, size_t align)
{
	uint32_t units, x;

	if (unlikely(!h->ready || h->broken || !units_for(size, &units) || !power_of_two(align)))
		return NULL;
	if (h->late.size && may_fit(h, units))
		write_late(h); /* else no hole is big enough, and none is read */
	if (align > G)
		return alloc_aligned(h, units, align);
	/* With align 16 (or less) any hole big enough fits at its start:
	 * the first one is the answer. */
	x = first_fit(h, units);
	if (unlikely(x == NIL || !hole_ok(h, x)))
		return NULL;
	return carve(h, x, x, units);
}

/* A live block and what lies on either side of it, as find_live saw it. */
struct live {
	uint32_t g;      /* the block's granule */
	uint32_t size;   /* its size in granules */
	uint32_t below;  /* where the block under it starts: NIL until found */
	bool hole_below; /* a hole lies just under it: a free merges with it */
	bool hole_above; /* a hole starts where it ends */
};

/* The block just under g: the one the bitmap's scan found (l->below), or,
 * when the scan did not reach that far or did not run, the one g's
 * boundary tag names.  Either way the tag must name it and its header
 * must say it ends at g; note whether it is a hole.
 *
 * Found in the bitmap, its header can be loaded without waiting for g's
 * own (a cache miss in a large heap), and a tag that skips it is caught
 * even when the block the tag names was forged to match (docs/heap.md:
 * "When the heap is damaged").  The tag's bounds are checked only when
 * it alone says where the block is: a start the scan found lies below g. */
HOT bool check_below(const struct heap *h, const struct block *b, struct live *l)
{
	uint32_t prev = b->prev_size;
	const struct block *x;
	enum kind k;

	l->hole_below = false;
	if (l->below == NIL) {
		if (l->g == 0)
			return prev == 0;
		if (prev == 0 || prev > l->g)
			return false;
		l->below = l->g - prev;
	} else if (prev != l->g - l->below) {
		return false;
	}
	k = kind_at(h, l->below);
	x = block_at(h, l->below);
	l->hole_below = k == HOLE;
	return (k & 1) && sealed_as(x, magic_of(k)) && x->size == l->g - l->below;
}

/* The block where g ends knows g's size as its boundary tag (or top does). */
HOT bool check_above(const struct heap *h, struct live *l)
{
	uint32_t up = l->g + l->size;
	const struct block *x;
	enum kind k;

	l->hole_above = false;
	if (up == granules(h))
		return h->top_prev == l->size;
	if (is_late(h, up)) { /* the hole just cut off above g: h->late is its header */
		l->hole_above = true;
		return h->late.prev == l->size;
	}
	k = kind_at(h, up);
	x = block_at(h, up);
	l->hole_above = k == HOLE;
	return (k & 1) && header_ok(h, up, magic_of(k)) && x->prev_size == l->size;
}

/* The block starts that chunk c's bitmap entry lists; none when c is
 * past the bitmap at either end (c - 1 from chunk 0 wraps to a huge
 * number).  Chunk 0 is read instead, and its bits dropped: no branch. */
HOT uint64_t starts_in(const struct heap *h, uint32_t c)
{
	uint64_t in = c < h->nbits;

	return h->bits[c & (uint32_t)-in].start & -in;
}

/* The lowest and the highest start of w (bits of chunk c), or `none`
 * when w has none.  A select, not a branch, like everything below; the
 * bit or'ed in keeps the count defined when w is 0. */
HOT uint32_t lowest_in(uint64_t w, uint32_t c, uint32_t none)
{
	uint32_t at = c * CHUNK + (uint32_t)__builtin_ctzll(w | 1ull << 63);

	return w ? at : none;
}

HOT uint32_t highest_in(uint64_t w, uint32_t c, uint32_t none)
{
	uint32_t at = c * CHUNK + 63 - (uint32_t)__builtin_clzll(w | 1);

	return w ? at : none;
}

/* The nearest block start above g, from the bitmap, looking into g's
 * chunk and the next two; NIL if there is none so near.  All three words
 * are read, and the answer picked without a branch: whether the block
 * above starts in the same chunk is a coin toss, and a loop that stopped
 * at the first word with a start was mispredicted about every other free
 * (steady_10000 0.97x, steady_100000 0.98x). */
HOT uint32_t start_above(const struct heap *h, uint32_t g)
{
	uint32_t c = g / CHUNK;
	uint64_t here = h->bits[c].start & (~1ull << (g % CHUNK)); /* above g */

	return lowest_in(here, c, lowest_in(starts_in(h, c + 1), c + 1,
					     lowest_in(starts_in(h, c + 2), c + 2, NIL)));
}

/* The nearest block start below g, as above. */
HOT uint32_t start_below(const struct heap *h, uint32_t g)
{
	uint32_t c = g / CHUNK;
	uint64_t here = h->bits[c].start & ((1ull << (g % CHUNK)) - 1); /* below g */

	return highest_in(here, c, highest_in(starts_in(h, c - 1), c - 1,
					      highest_in(starts_in(h, c - 2), c - 2, NIL)));
}

/* A heap of this many granules (1 MiB, a typical L2 cache) or more no
 * longer stays in a CPU's caches. */
#define PREFETCH_FROM ((1u << 20) / G)

/* Start loading the headers of the blocks on either side of the block
 * at g, which find_live's checks read.  Their addresses come from the
 * size and tag in g's own header, which in a large heap is itself a
 * cache miss: found from the bitmap instead, the three misses overlap
 * rather than follow one another (steady_100000: 13 % faster).  A heap
 * that fits the caches would pay the instructions for nothing.  Returns
 * where the block above starts, as the bitmap says (NIL when that is out
 * of reach or the heap is small): find_live takes g's size from it.
 * *below gets where the block below starts, or NIL, for check_below. */
HOT uint32_t prefetch_neighbours(const struct heap *h, uint32_t g, uint32_t *below)
{
	uint32_t up, down;

	*below = NIL;
	if (granules(h) - h->top_prev < PREFETCH_FROM)
		return NIL; /* the blocks below the last one fit the caches */
	up = start_above(h, g);
	down = start_below(h, g);
	*below = down;
	if (up < granules(h)) /* NIL is larger */
		__builtin_prefetch(block_at(h, up));
	if (down != NIL)
		__builtin_prefetch(block_at(h, down));
	return up;
}

/* Is ptr the payload of a live block?  The bitmap says so or not (no
 * caller writes it); then its header and both boundary tags must agree.
 * Fills *l.  Writes nothing, so a refusal changes nothing. */
HOT int find_live(const struct heap *h, const void *ptr, struct live *l)
{
	uintptr_t p = addr(ptr);
	const struct block *b = (const struct block *)(p - G);
	uint32_t up;
	enum kind k;

	if (unlikely(!h->ready || p % G != 0 || p < h->base + G || p >= h->top))
		return HEAP_EINVAL;
	if (unlikely(h->broken))
		return HEAP_ECORRUPT;
	l->g = granule(h, p - G);
	__builtin_prefetch(b); /* the miss starts now, not some 40 instructions on */
	up = prefetch_neighbours(h, l->g, &l->below);
	k = kind_at(h, l->g);
	if (unlikely(k != USED))
		return k == BAD ? HEAP_ECORRUPT : HEAP_EINVAL;
	/* The size, from the bitmap when it told us where the block above
	 * starts: then the checks above, the merge and the index need not
	 * wait for the header, a cache miss in a large heap, and the header
	 * must agree (steady_100000: 0.93x).  A branch, not a select: a
	 * select would wait for both. */
	if (__builtin_expect(up < granules(h), 1))
		l->size = up - l->g;
	else
		l->size = b->size;
	if (unlikely(!header_ok(h, l->g, MAGIC_USED) || b->size != l->size))
		return HEAP_ECORRUPT;
	if (unlikely(!check_below(h, b, l) || !check_above(h, l)))
		return HEAP_ECORRUPT;
	return 0;
}

int heap_check_ptr(struct heap *h, const void *ptr)
{
	struct live l;

	if (above_late(h, ptr))
		write_late(h); /* check_below reads it */
	return find_live(h, ptr, &l);
}

int heap_broken(const struct heap *h)
{
	return h->broken;
}

size_t heap_usable_size(struct heap *h, const void *ptr)
{
	struct live l;

	if (!ptr)
		return 0;
	if (above_late(h, ptr))
		write_late(h);
	if (find_live(h, ptr, &l))
		return 0;
	return (size_t)l.size * G - G;
}

/*
 * Turn the live block l into free space, merged at once with a hole on
 * either side:
 *
 *   | used | l | used |   ->   | used | hole | used |    a new hole
 *   | hole | l | used |   ->   | hole ...... | used |    the hole below grows
 *   | used | l | hole |   ->   | used | hole ...... |    the hole above moves down to l
 *   | hole | l | hole |   ->   | hole ............. |    both, one hole fewer
 */
HOT void release(struct heap *h, const struct live *l)
{
	uint32_t g = l->g, above = g + l->size, hole = g, total = l->size;
	uint32_t prev = block_at(h, g)->prev_size;
	struct block *x;

	h->used -= (size_t)l->size * G;
	h->nallocs--;
	if (l->hole_above) {
		total += is_late(h, above) ? merge_late(h) : block_at(h, above)->size;
		mark(h, above, NOTHING);
		h->nholes--;
	}
	if (l->hole_below) {
		hole = l->below;
		x = block_at(h, hole);
		total += x->size;
		prev = x->prev_size;
		mark(h, g, NOTHING);
	} else {
		mark(h, g, HOLE);
		h->nholes++;
	}
	set_header(block_at(h, hole), MAGIC_FREE, total, prev);
	index_grew(h, hole, total);
	if (total != l->size) /* merged: the block above has a new neighbour */
		retag_above(h, hole, total);
	poison(hole == g ? inside(h, g) : addr_of(h, g),
	       l->hole_above ? inside(h, above) : addr_of(h, above));
}

int heap_free(struct heap *h, void *ptr)
{
	struct live l;
	int err;

	if (!ptr)
		return 0;
	if (unlikely(above_late(h, ptr)))
		write_late(h); /* check_below and the merge read it */
	err = find_live(h, ptr, &l);
	if (unlikely(err))
		return err;
	release(h, &l);
	write_late(h); /* if the block was not its neighbour: the line has come by now */
	return 0; /* release trusts what find_live checked: it cannot fail */
}

/* Give the tail of live block l beyond `units` back as a hole, if it is
 * big enough to be one; it merges with the hole just above, if any (which
 * find_live already found and checked). */
static void shrink(struct heap *h, const struct live *l, uint32_t units)
{
	struct block *b = block_at(h, l->g);
	uint32_t rest = l->size - units, tail = l->g + units, above = l->g + l->size, up;

	if (rest < MIN_BLOCK / G)
		return;
	set_header(b, MAGIC_USED, units, b->prev_size);
	h->used -= (size_t)rest * G;
	if (l->hole_above) { /* the hole above moves down */
		up = block_at(h, above)->size;
		mark(h, above, NOTHING);
		mark(h, tail, HOLE);
		set_header(block_at(h, tail), MAGIC_FREE, rest + up, units);
		index_grew(h, tail, rest + up);
		retag_above(h, tail, rest + up);
		poison(inside(h, tail), inside(h, above));
	} else {
		new_hole(h, tail, rest, units);
		retag_above(h, tail, rest);
		poison(inside(h, tail), addr_of(h, above));
	}
}

/* What grow did: the block grew, the hole above is too small (or not
 * there), or it holds bytes written after their free (HEAP_POISON). */
enum growth { GREW, NO_ROOM, DAMAGED };

/* Grow live block l to `units` into the hole right above it (which
 * find_live already found and checked), if that hole is big enough.
 * What is left of the hole stays a hole. */
static enum growth grow(struct heap *h, const struct live *l, uint32_t units)
{
	struct block *b = block_at(h, l->g);
	uint32_t g = l->g, above = g + l->size, total;

	if (!l->hole_above)
		return NO_ROOM;
	total = l->size + block_at(h, above)->size;
	if (total < units)
		return NO_ROOM;
	if (total - units < MIN_BLOCK / G)
		units = total;
	if (!poisoned(inside(h, above), addr_of(h, g + units)))
		return DAMAGED; /* refused, as heap_alloc refuses such a hole */
	mark(h, above, NOTHING);
	set_header(b, MAGIC_USED, units, b->prev_size);
	if (units < total) { /* the hole above moves up, smaller */
		mark(h, g + units, HOLE);
		set_header(block_at(h, g + units), MAGIC_FREE, total - units, units);
		index_grew(h, g + units, total - units);
		retag_above(h, g + units, total - units);
	} else {
		h->nholes--;
		retag_above(h, g, units);
	}
	h->used += (size_t)(units - l->size) * G;
	return GREW;
}

void *heap_realloc(struct heap *h, void *ptr, size_t size)
{
	uint32_t units;
	struct live l;
	size_t keep;
	void *to;

	if (!ptr)
		return heap_alloc(h, size, G);
	if (!units_for(size, &units))
		return NULL;
	if (above_late(h, ptr) || below_late(h, ptr))
		write_late(h); /* shrink and grow read the hole above ptr */
	if (find_live(h, ptr, &l))
		return NULL;
	if (units <= l.size) {
		shrink(h, &l, units);
		return ptr;
	}
	switch (grow(h, &l, units)) {
	case GREW:
		return ptr;
	case DAMAGED:
		return NULL;
	case NO_ROOM:
		break;
	}
	to = heap_alloc(h, size, G);
	if (!to)
		return NULL;
	keep = (size_t)l.size * G - G; /* the whole old payload: size is larger */
	__builtin_memcpy(to, ptr, keep < size ? keep : size);
	if (above_late(h, ptr))
		write_late(h); /* the move's tail may lie just under ptr */
	find_live(h, ptr, &l); /* still live, but its neighbours may have changed */
	release(h, &l);
	return to;
}

/* Move the bitmap to l's place at the new end of the region, entries in
 * the order that never overwrites one not yet copied; new ones start
 * clear.  The index is built afresh at its new place afterwards.  The old
 * places lie below l's limit: they become heap. */
static void move_bits(struct heap *h, const struct layout *l)
{
	struct heap_bits *from = h->bits, *to = l->bits;
	size_t i;

	if (to > from) {
		for (i = h->nbits; i-- > 0;)
			to[i] = from[i];
	} else {
		for (i = 0; i < h->nbits; i++)
			to[i] = from[i];
	}
	for (i = h->nbits; i < l->nbits; i++)
		to[i] = (struct heap_bits){ 0, 0 };
	adopt(h, l);
}

/* The bytes [top, limit), if any (limit moved up now, or they waited
 * since an earlier extend): the free last hole grows over them, or they
 * become a new hole, or, fewer than 32, wait for the next extend. */
static void grow_top(struct heap *h)
{
	uint32_t top = granules(h), more = granule(h, h->limit) - top, last = top - h->top_prev;
	uintptr_t old = h->top;

	if (more == 0)
		return; /* no bytes wait past top */
	if (kind_at(h, last) == HOLE) {
		struct block *x = block_at(h, last);

		set_header(x, MAGIC_FREE, x->size + more, x->prev_size);
		h->top = h->limit;
		h->ngran = granule(h, h->top);
		index_grew(h, last, x->size);
		poison(old, h->top);
	} else if (more >= MIN_BLOCK / G) {
		h->top = h->limit;
		h->ngran = granule(h, h->top);
		new_hole(h, top, more, h->top_prev);
		poison(inside(h, top), h->top);
		last = top;
	} else {
		return;
	}
	retag_above(h, last, block_at(h, last)->size);
}

int heap_extend(struct heap *h, size_t by)
{
	struct layout l;
	uintptr_t end;

	if (!h->ready || by > UINTPTR_MAX - h->end)
		return HEAP_EINVAL;
	if (h->broken)
		return HEAP_ECORRUPT;
	end = h->end + by;
	if (end - h->base > 2 * HEAP_MAX_SIZE)
		return HEAP_ENOSPC;
	heap_plan(h->base, end, &l);
	if (l.limit - h->base > HEAP_MAX_SIZE)
		return HEAP_ENOSPC;
	h->end = end;
	write_late(h); /* grow_top may read the last hole's header */
	if (l.limit <= h->limit) {
		/* Too few bytes to move the bitmap past: they wait.  But bytes
		 * that waited past a used last block join it now if it has
		 * since been freed, as the list version's do. */
		grow_top(h);
		return 0;
	}
	move_bits(h, &l);
	grow_top(h);
	index_build(h); /* the tree moved, and top did: the top hole may have changed */
	return 0;
}

size_t heap_extend_need(const struct heap *h, size_t size, size_t align)
{
	uint32_t units, top;
	uintptr_t from, blk, want;
	struct layout l;
	size_t by = 0;

	if (!h->ready || !units_for(size, &units) || !power_of_two(align) ||
	    align > HEAP_MAX_SIZE)
		return 0;
	/* The block goes into the top hole, or at top, placed as first fit
	 * would place it there. */
	top = top_hole(h);
	from = top != NIL ? addr_of(h, top) : h->top;
	if (!place(from, align, &blk) || blk - h->base > HEAP_MAX_SIZE ||
	    (size_t)units * G > HEAP_MAX_SIZE - (blk - h->base))
		return 0;
	want = blk + (size_t)units * G;
	/* The index grows with the region and takes its share of the new
	 * bytes: ask for the shortfall again until the blocks reach want. */
	for (heap_plan(h->base, h->end, &l); l.limit < want; heap_plan(h->base, h->end + by, &l))
		by += want - l.limit;
	/* Bytes an earlier extend left waiting past top join the last hole
	 * only at the next extend (grow_top), never at a free.  A block that
	 * needs them needs that call, if not one byte more: never answer 0,
	 * which says "it fits already". */
	return by == 0 && want > h->top ? 1 : by;
}
