/*
 * heap.c - the kernel heap: address-ordered first fit with boundary tags,
 * a tree of holes (holes.c) and a bitmap of block starts.
 *
 * Owns every byte of [start, end) of each struct heap: the block headers,
 * the tree nodes inside the holes, the bitmap past limit, and (HEAP_POISON)
 * the poison pattern inside holes.  Layout and costs are in heap.h.
 *
 * Invariants, all checked by heap_check():
 *   1. Blocks tile [base, top): each starts where the one below ends.
 *      Every header is sealed, and its prev_size is the size of the block
 *      just below it (0 for the first): a boundary tag.  top_prev is top's
 *      own tag: the size of the last block.
 *   2. The bitmap marks exactly the block starts, and of those exactly the
 *      used blocks.
 *   3. The tree holds every hole once, in address order (holes.c); no two
 *      holes touch (a free merges them at once).
 *   4. used + free == top - base, and nholes / nallocs count the blocks.
 *   5. limit - top < 32: too few bytes for a block after a used last block
 *      (they wait for the next heap_extend).
 *   6. HEAP_POISON: every byte of a hole past its header and node holds
 *      POISON_BYTE.
 *
 * Why a bitmap: a pointer into the middle of a live block points at bytes
 * the caller wrote, so no header, magic or seal found there can prove it
 * is a block start.  The first version of this heap (kept as
 * test/reference/list_heap.c) proved it by walking to the pointer from a
 * hole it knew, which cost O(holes).  This one asks the bitmap, which lives
 * past every payload where no caller writes, so the check is O(1).  The
 * neighbours a free merges with come from the boundary tags: the block
 * above starts where this one ends, the block below where prev_size says;
 * the bitmap tells whether each is a hole.
 */
#include "heap_impl.h"

#define POISON_BYTE 0xdf

/* How [base, end) is split: blocks up to limit, then the bitmap. */
struct layout {
	uintptr_t limit;
	struct heap_bits *bits;
	size_t nbits;
};

static uintptr_t addr(const void *p)
{
	return (uintptr_t)p;
}

static size_t bytes(const struct block *b)
{
	return (size_t)b->size * G;
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
static bool units_for(size_t size, uint32_t *units)
{
	size_t u;

	if (size > HEAP_MAX_SIZE - G)
		return false;
	u = (size + G - 1) / G + 1;
	*units = (uint32_t)(u < MIN_BLOCK / G ? MIN_BLOCK / G : u);
	return true;
}

/* Split [base, end) between blocks and the bitmap.  One 16-byte entry
 * covers 64 granules (1 KiB), so every 1040 bytes of region need one. */
static void plan(uintptr_t base, uintptr_t end, struct layout *l)
{
	uintptr_t e = end & ~(uintptr_t)(G - 1);
	size_t span = e > base ? e - base : 0;
	size_t per = 64 * G + sizeof(struct heap_bits);

	l->nbits = span / per + (span % per != 0);
	l->bits = (struct heap_bits *)(e - l->nbits * sizeof(struct heap_bits));
	l->limit = span >= l->nbits * G ? addr(l->bits) : base;
}

static bool sealed(const struct block *b)
{
	return (b->magic == MAGIC_USED || b->magic == MAGIC_FREE) &&
	       b->size >= MIN_BLOCK / G && b->seal == seal_of(b);
}

/* A header at granule g is sound: sealed, tagged with prev, inside the heap. */
static bool block_ok(const struct heap *h, uint32_t g, uint32_t prev)
{
	const struct block *b = block_at(h, g);

	return sealed(b) && b->prev_size == prev && b->size <= granules(h) - g;
}

/* The block at g changed size or is new: the block above learns its size
 * (its boundary tag), or top does when g is the last block. */
static void retag_above(struct heap *h, uint32_t g)
{
	const struct block *b = block_at(h, g);
	struct block *up;

	if (g + b->size >= granules(h)) {
		h->top_prev = b->size;
		return;
	}
	up = block_at(h, g + b->size);
	up->prev_size = b->size;
	up->seal = seal_of(up);
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

/* Where a hole's poison starts: past its header and tree node. */
static uintptr_t inside(const struct heap *h, uint32_t g)
{
	return addr_of(h, g) + sizeof(struct hole);
}

/* Make [g, g + units) a new hole: header, bitmap, tree.  prev is the size
 * of the block below.  The caller retags the block above. */
static void new_hole(struct heap *h, uint32_t g, uint32_t units, uint32_t prev)
{
	set_header(&hole_at(h, g)->hdr, MAGIC_FREE, units, prev);
	mark(h, g, HOLE);
	holes_insert(h, g);
	h->nholes++;
}

int heap_init(struct heap *h, void *start, size_t size)
{
	uintptr_t s = addr(start), base;
	struct layout l;

	*h = (struct heap){ .root = NIL };
	if (!start || size > UINTPTR_MAX - s || !align_up(s, G, &base))
		return HEAP_EINVAL;
	plan(base, s + size, &l);
	if (l.limit - base < MIN_BLOCK)
		return HEAP_EINVAL;
	if (l.limit - base > HEAP_MAX_SIZE)
		return HEAP_ENOSPC;
	for (size_t i = 0; i < l.nbits; i++)
		l.bits[i] = (struct heap_bits){ 0, 0 };
	h->base = base;
	h->top = h->limit = l.limit;
	h->end = s + size;
	h->bits = l.bits;
	h->nbits = l.nbits;
	new_hole(h, 0, granules(h), 0);
	retag_above(h, 0);
	poison(inside(h, 0), h->top);
	h->free = h->top - base;
	h->ready = 1;
	return 0;
}

/* Where in hole x a block for `units` granules, payload aligned to align,
 * would start: the lowest such place, with a front gap of 0 or at least
 * MIN_BLOCK (a 16-byte gap could be neither a hole nor part of one). */
static bool fit(const struct heap *h, uint32_t x, uint32_t units, size_t align, uintptr_t *blk)
{
	uintptr_t lo = addr_of(h, x), hi = lo + bytes(block_at(h, x)), pay;

	if (!align_up(lo + G, align, &pay))
		return false;
	if (pay - G != lo && pay - G - lo < MIN_BLOCK) {
		if (!align_up(lo + G + MIN_BLOCK, align, &pay))
			return false;
	}
	*blk = pay - G;
	return *blk < hi && (size_t)units * G <= hi - *blk;
}

/* The index may only lead to sound holes; a damaged one breaks the heap. */
static bool hole_ok(struct heap *h, uint32_t x)
{
	const struct block *b = block_at(h, x);

	if (sealed(b) && b->magic == MAGIC_FREE && b->size <= granules(h) - x)
		return true;
	h->broken = 1;
	return false;
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
static void *carve(struct heap *h, uint32_t x, uint32_t g, uint32_t units)
{
	struct hole *hole = hole_at(h, x);
	uint32_t hi = x + hole->hdr.size, prev = hole->hdr.prev_size, tail;

	if (hi - (g + units) < MIN_BLOCK / G)
		units = hi - g;
	tail = g + units;
	if (!poisoned(g > x ? addr_of(h, g) : inside(h, x), addr_of(h, tail)))
		return NULL;
	if (g > x) {            /* the front stays a hole */
		set_header(&hole->hdr, MAGIC_FREE, g - x, prev);
		holes_resized(h, x);
		prev = g - x;
		if (tail < hi)
			new_hole(h, tail, hi - tail, units);
	} else if (tail < hi) { /* the hole moves up to the tail */
		mark(h, tail, HOLE);
		holes_move(h, x, tail, hi - tail, units);
	} else {                /* the block takes the whole hole */
		holes_remove(h, x);
		h->nholes--;
	}
	set_header(block_at(h, g), MAGIC_USED, units, prev);
	mark(h, g, USED);
	retag_above(h, g);
	if (tail < hi)
		retag_above(h, tail);
	h->used += (size_t)units * G;
	h->free -= (size_t)units * G;
	h->nallocs++;
	return (void *)(addr_of(h, g) + G);
}

void *heap_alloc(struct heap *h, size_t size, size_t align)
{
	uint32_t units, x;
	uintptr_t blk;

	if (!h->ready || h->broken || !units_for(size, &units) || align == 0 ||
	    (align & (align - 1)))
		return NULL;
	if (align < G)
		align = G;
	/* With align 16 the first hole big enough fits; a larger align may
	 * need a later one, until one with room for any front gap. */
	for (x = holes_first_fit(h, units); x != NIL; x = holes_next_fit(h, x, units)) {
		if (!hole_ok(h, x))
			return NULL;
		if (fit(h, x, units, align, &blk)) {
			void *p = carve(h, x, granule(h, blk), units);
			return h->broken ? NULL : p; /* the tree was damaged on the way */
		}
	}
	return NULL;
}

/* The block below g agrees with g's boundary tag (or g is the first). */
static bool tag_below_ok(const struct heap *h, uint32_t g)
{
	uint32_t prev = block_at(h, g)->prev_size;

	if (g == 0)
		return prev == 0;
	return prev != 0 && prev <= g && (kind_at(h, g - prev) & 1) &&
	       sealed(block_at(h, g - prev)) && block_at(h, g - prev)->size == prev;
}

/* The block above g agrees that g is below it (or top does). */
static bool tag_above_ok(const struct heap *h, uint32_t g)
{
	uint32_t size = block_at(h, g)->size, up = g + size;

	if (up == granules(h))
		return h->top_prev == size;
	return (kind_at(h, up) & 1) && block_ok(h, up, size);
}

/* Is ptr the payload of a live block?  The bitmap says so or not (no
 * caller writes it); then its header and both tags must agree.  Sets *g to
 * the block's granule.  Writes nothing, so a refusal changes nothing. */
static int find_live(const struct heap *h, const void *ptr, uint32_t *g)
{
	uintptr_t p = addr(ptr);
	const struct block *b;

	if (!h->ready || p % G != 0 || p < h->base + G || p >= h->top)
		return HEAP_EINVAL;
	if (h->broken)
		return HEAP_ECORRUPT;
	*g = granule(h, p - G);
	if (kind_at(h, *g) != USED)
		return kind_at(h, *g) == BAD ? HEAP_ECORRUPT : HEAP_EINVAL;
	b = block_at(h, *g);
	if (!sealed(b) || b->magic != MAGIC_USED || b->size > granules(h) - *g)
		return HEAP_ECORRUPT;
	if (!tag_below_ok(h, *g) || !tag_above_ok(h, *g))
		return HEAP_ECORRUPT;
	return 0;
}

int heap_check_ptr(struct heap *h, const void *ptr)
{
	uint32_t g;

	return find_live(h, ptr, &g);
}

size_t heap_usable_size(struct heap *h, const void *ptr)
{
	uint32_t g;

	if (!ptr || find_live(h, ptr, &g))
		return 0;
	return bytes(block_at(h, g)) - G;
}

/*
 * Turn the live block at g into free space, merged at once with a hole on
 * either side (the bitmap says which neighbours are holes):
 *
 *   | used | g | used |   ->   | used | hole | used |    a new hole
 *   | hole | g | used |   ->   | hole ...... | used |    the hole below grows
 *   | used | g | hole |   ->   | used | hole ...... |    the hole above moves down to g
 *   | hole | g | hole |   ->   | hole ............. |    both, one hole fewer
 */
static void release(struct heap *h, uint32_t g)
{
	struct block *b = block_at(h, g);
	uint32_t size = b->size, below = g - b->prev_size, above = g + size, hole = g;
	bool down = g > 0 && kind_at(h, below) == HOLE;
	bool up = above < granules(h) && kind_at(h, above) == HOLE;
	uint32_t total = size + (up ? hole_at(h, above)->hdr.size : 0);

	h->used -= (size_t)size * G;
	h->free += (size_t)size * G;
	h->nallocs--;
	if (down) {
		hole = below;
		if (up) {
			holes_remove(h, above);
			h->nholes--;
		}
		set_header(block_at(h, below), MAGIC_FREE, block_at(h, below)->size + total,
			   block_at(h, below)->prev_size);
		holes_resized(h, below);
		mark(h, g, NOTHING);
	} else if (up) {
		mark(h, g, HOLE);
		holes_move(h, above, g, total, b->prev_size);
	} else {
		new_hole(h, g, size, b->prev_size);
	}
	if (up)
		mark(h, above, NOTHING);
	retag_above(h, hole);
	poison(hole == g ? inside(h, g) : addr_of(h, g), up ? inside(h, above) : addr_of(h, above));
}

int heap_free(struct heap *h, void *ptr)
{
	uint32_t g;
	int err;

	if (!ptr)
		return 0;
	err = find_live(h, ptr, &g);
	if (err)
		return err;
	release(h, g);
	return h->broken ? HEAP_ECORRUPT : 0;
}

/* Give the tail of the live block at g beyond `units` back as a hole, if
 * it is big enough to be one; it merges with a hole just above. */
static void shrink(struct heap *h, uint32_t g, uint32_t units)
{
	struct block *b = block_at(h, g);
	uint32_t rest = b->size - units, tail = g + units, above = g + b->size;

	if (rest < MIN_BLOCK / G)
		return;
	set_header(b, MAGIC_USED, units, b->prev_size);
	h->used -= (size_t)rest * G;
	h->free += (size_t)rest * G;
	if (above < granules(h) && kind_at(h, above) == HOLE) {
		mark(h, tail, HOLE);
		holes_move(h, above, tail, rest + hole_at(h, above)->hdr.size, units);
		mark(h, above, NOTHING);
		poison(inside(h, tail), inside(h, above));
	} else {
		new_hole(h, tail, rest, units);
		poison(inside(h, tail), addr_of(h, above));
	}
	retag_above(h, tail);
}

/* Grow the live block at g to `units` into the hole right above it, if
 * that hole touches it and is big enough.  What is left stays a hole. */
static bool grow(struct heap *h, uint32_t g, uint32_t units)
{
	struct block *b = block_at(h, g);
	uint32_t have = b->size, above = g + have, total;

	if (above >= granules(h) || kind_at(h, above) != HOLE || !hole_ok(h, above))
		return false;
	total = have + hole_at(h, above)->hdr.size;
	if (total < units)
		return false;
	if (total - units < MIN_BLOCK / G)
		units = total;
	if (!poisoned(inside(h, above), addr_of(h, g + units)))
		return false;
	if (units < total) {
		mark(h, g + units, HOLE);
		holes_move(h, above, g + units, total - units, units);
	} else {
		holes_remove(h, above);
		h->nholes--;
	}
	mark(h, above, NOTHING);
	set_header(b, MAGIC_USED, units, b->prev_size);
	retag_above(h, g);
	if (units < total)
		retag_above(h, g + units); /* the hole is smaller: tell the block above it */
	h->used += (size_t)(units - have) * G;
	h->free -= (size_t)(units - have) * G;
	return true;
}

void *heap_realloc(struct heap *h, void *ptr, size_t size)
{
	uint32_t g, units;
	size_t keep;
	void *to;

	if (!ptr)
		return heap_alloc(h, size, G);
	if (find_live(h, ptr, &g) || !units_for(size, &units))
		return NULL;
	if (units <= block_at(h, g)->size) {
		shrink(h, g, units);
		return ptr;
	}
	if (grow(h, g, units))
		return ptr;
	to = heap_alloc(h, size, G);
	if (!to)
		return NULL;
	keep = bytes(block_at(h, g)) - G; /* the whole old payload: size is larger */
	__builtin_memcpy(to, ptr, keep < size ? keep : size);
	release(h, g); /* ptr was checked and is still live */
	return to;
}

/* Move the bitmap to l's place at the new end of the region, entries in
 * the order that never overwrites one not yet copied; new ones start
 * clear.  Its old place lies below l's limit: it becomes heap. */
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
	h->bits = to;
	h->nbits = l->nbits;
	h->limit = l->limit;
}

/* limit moved up: the free last hole grows to it, or a new hole fills
 * [top, limit), or fewer than 32 bytes wait for the next extend. */
static void grow_top(struct heap *h)
{
	uint32_t top = granules(h), more = granule(h, h->limit) - top, last = top - h->top_prev;
	uintptr_t old = h->top;

	if (kind_at(h, last) == HOLE) {
		struct block *x = block_at(h, last);

		set_header(x, MAGIC_FREE, x->size + more, x->prev_size);
		h->top = h->limit;
		holes_resized(h, last);
		poison(old, h->top);
	} else if (more >= MIN_BLOCK / G) {
		h->top = h->limit;
		new_hole(h, top, more, h->top_prev);
		poison(inside(h, top), h->top);
		last = top;
	} else {
		return;
	}
	h->free += h->top - old;
	retag_above(h, last);
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
	plan(h->base, end, &l);
	if (l.limit - h->base > HEAP_MAX_SIZE)
		return HEAP_ENOSPC;
	h->end = end;
	if (l.limit <= h->limit)
		return 0; /* too few bytes to move the bitmap past: wait for more */
	move_bits(h, &l);
	grow_top(h);
	return h->broken ? HEAP_ECORRUPT : 0;
}

void heap_stats(const struct heap *h, struct heap_stats *out)
{
	*out = (struct heap_stats){ 0 };
	if (!h->ready)
		return;
	out->size = h->top - h->base;
	out->used = h->used;
	out->free = h->free;
	out->holes = h->nholes;
	out->allocations = h->nallocs;
	out->index_bytes = h->nbits * sizeof(struct heap_bits);
	/* With align 16 a hole's payload needs no front gap: it fits bytes - G. */
	if (h->root != NIL && !h->broken)
		out->largest_free = (size_t)hole_at(h, h->root)->max * G - G;
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
	uintptr_t bits = addr(h->bits);

	return h->base % G == 0 && h->top % G == 0 && h->limit % G == 0 &&
	       h->base < h->top && h->top <= h->limit && h->limit - h->top < MIN_BLOCK &&
	       bits % G == 0 && bits >= h->limit && h->nbits * sizeof(struct heap_bits) <= h->end - bits &&
	       h->nbits * 64 * G >= h->limit - h->base;
}

int heap_check(const struct heap *h)
{
	struct tally t = { 0 };
	size_t nodes;
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
	if (!holes_check(h, &nodes) || nodes != t.nholes)
		return HEAP_ECORRUPT;
	if (t.used != h->used || t.free != h->free || t.nholes != h->nholes ||
	    t.nallocs != h->nallocs || t.used + t.free != h->top - h->base)
		return HEAP_ECORRUPT;
	return 0;
}
