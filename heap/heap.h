/*
 * heap.h - the kernel heap: first fit over one contiguous region.
 *
 * A heap hands out byte blocks from a region [start, start + size) that the
 * caller owns (the kernel gives it pages after paging is up; the host tests
 * give it a buffer).  The policy is the one of the Rust linked_list_allocator
 * crate and of K&R's malloc: an allocation takes the lowest-addressed hole
 * that fits, and a free merges the block with both neighbours at once.
 * What makes it fast is the bookkeeping, not the policy (heap.c, index.c):
 * a bitmap of block starts lets a free check its pointer in O(1), and a
 * tree of maxima over the heap's 1 KiB chunks, 16 entries to a node,
 * finds the lowest hole that fits in one descent of O(log chunks) steps.
 *
 * Every block, used or free, starts with a 16-byte header; a used block's
 * payload follows it:
 *
 *   block         block + 16                            block + size
 *   | magic | size | prev_size | seal | payload ...     |
 *     u32     u32    u32         u32
 *
 * The region is split at heap_init, and again at each heap_extend:
 *
 *   start  base                               top     limit  tree  bits  end
 *   |slack | block | hole | block ... | block |  tail  | index: tree, bitmap |
 *
 * Blocks tile [base, top).  The index at the end costs 16 bytes of bitmap
 * and about 2.1 bytes of tree per KiB of [base, limit): 1.74 % of a large
 * region, more of a small one (1.88 % of 64 KiB),
 * reported as heap_stats.index_bytes and not counted in heap_stats.size.
 * No payload reaches it, so bytes a caller writes cannot forge it.
 *
 * Sizes are counted in 16-byte granules, so one block (and one heap) is at
 * most 64 GiB - 16 bytes.  Costs, and why:
 *   overhead     16 bytes per block: the header keeps the payload 16-aligned.
 *   granularity  16 bytes: every block starts and ends on a 16-byte boundary.
 *   minimum      32 bytes: the smallest piece first fit may leave as a hole
 *                (a 16-byte piece could hold a header and nothing else).
 *                heap_alloc(h, 0, 16) and heap_alloc(h, 16, 16) both use 32.
 *
 * Errors: running out of memory returns NULL; a bad pointer, a double free
 * or a header that fails its check returns a negative HEAP_E* code and
 * changes nothing.  A heap whose index is found damaged refuses every later
 * call.  Compile heap.c with -DHEAP_POISON to fill freed memory with a
 * pattern that heap_alloc and heap_check verify (use after free).
 *
 * Not thread-safe: the caller holds a lock around every call.
 */
#ifndef HEAP_H
#define HEAP_H

#include <stddef.h>
#include <stdint.h>

/* Negative returns of heap_init, heap_free, heap_extend and heap_check. */
enum {
	HEAP_EINVAL = -1,   /* bad argument: not a live block, bad region */
	HEAP_ECORRUPT = -2, /* a header or the hole list fails its check */
	HEAP_ENOSPC = -3,   /* the heap would exceed HEAP_MAX_SIZE */
};

#define HEAP_ALIGN 16 /* every payload is at least this aligned */
#define HEAP_MAX_SIZE ((size_t)UINT32_MAX * HEAP_ALIGN) /* bytes per heap */
#define HEAP_LEVELS 8 /* the index's tree has at most this many levels (index.c) */

struct heap_bits; /* 64 granules' worth of the bitmap, defined in heap_impl.h */

/* A hole header the last allocation left for the next call to write
 * (heap_impl.h: the late header).  size 0: none. */
struct heap_late {
	uint32_t g;     /* where the hole starts, in 16-byte granules from base */
	uint32_t size;  /* its size in granules */
	uint32_t prev;  /* its boundary tag: the size of the block just under
			 * it, the one the allocation handed out */
};

/* One heap.  Blocks tile [base, top) exactly; [top, limit) is a tail too
 * short to be a block (< 32 bytes) that waits for heap_extend; the index
 * (tree, then bitmap) lies between limit and end.  Callers read these
 * fields, never write them. */
struct heap {
	uintptr_t base;          /* start rounded up to 16: the first block */
	uintptr_t top;           /* end of the last block */
	uintptr_t limit;         /* blocks may reach this far: the bitmap covers [base, limit) */
	uintptr_t end;           /* start + size of the region as given */
	struct heap_bits *bits;  /* the bitmap of block starts, at the region's end */
	uint16_t *tree;          /* the index's space: largest holes, a tree over 1 KiB chunks */
	uint16_t *level[HEAP_LEVELS]; /* the tree's levels in that space, leaves first (index.c) */
	uint32_t nbits;          /* entries in bits[], one per chunk of 64 granules */
	uint32_t levels;         /* levels of the tree: the last is one entry, the largest */
	uint32_t ngran;          /* granules in [base, top): (top - base) / 16 */
	uint32_t top_prev;       /* granules in the block just under top (top's boundary tag) */
	size_t used;             /* bytes in used blocks, headers included */
	size_t nholes;           /* number of holes */
	size_t nallocs;          /* number of used blocks */
	int ready;               /* heap_init succeeded */
	int broken;              /* the index was found damaged: refuse everything */
	struct heap_late late;   /* a hole header not written yet (heap_impl.h) */
};

struct heap_stats {
	size_t size;         /* bytes the blocks tile: top - base */
	size_t used;         /* bytes in allocated blocks, their overhead included */
	size_t free;         /* bytes in free holes */
	size_t largest_free; /* the largest size for which heap_alloc(h, size, 16) succeeds now */
	size_t holes;        /* number of free holes */
	size_t allocations;  /* number of live allocations */
	size_t index_bytes;  /* side structures kept in the region, outside size */
};

/* Make [start, start + size) one free hole and its index.  Bytes outside
 * the region are never touched; up to 15 bytes at each end are lost to
 * alignment, and about 2 % of the rest to the index.  Returns 0, or
 * < 0 (and h refuses every later call) when start is NULL, the region
 * leaves under 32 bytes for blocks (it needs 80 in all) or over
 * HEAP_MAX_SIZE, or it wraps the address space.  O(size / 1024): the
 * index is cleared. */
int heap_init(struct heap *h, void *start, size_t size);

/* Return a block of at least size bytes whose address is a multiple of
 * align (a power of two; below 16 means 16), from the lowest-addressed hole
 * that fits.  size 0 gets a minimum block.  Returns NULL when no hole fits,
 * align is not a power of two, size is too large to represent, or (in
 * HEAP_POISON builds) the chosen memory was written after it was freed.
 * O(log chunks) for align <= 16.  A larger align costs a little more for
 * each lower hole that is big enough but cannot be aligned; the first hole
 * of size + align + 32 bytes always can.  Plus O(size) with HEAP_POISON. */
void *heap_alloc(struct heap *h, size_t size, size_t align);

/* Give back a block from heap_alloc or heap_realloc; NULL is a no-op.
 * Returns 0, HEAP_EINVAL for a pointer that is not the start of a live
 * block of this heap (outside it, inside a block, already freed), or
 * HEAP_ECORRUPT for a damaged header; on error nothing changes.
 * The pointer is checked against the bitmap, which no payload overlaps,
 * so bytes the caller wrote (a forged header) cannot pass.  O(log chunks)
 * at most, O(1) when the merged hole is the top one. */
int heap_free(struct heap *h, void *ptr);

/* C realloc: resize ptr's block to size bytes, keeping the first
 * min(old, new) bytes.  Grows or shrinks in place when it can, else moves
 * to a new 16-aligned block.  ptr NULL acts as heap_alloc(h, size, 16);
 * size 0 shrinks to a minimum block (never frees), so NULL always means
 * failure: bad ptr or no room (or, in HEAP_POISON builds, the hole it
 * would grow into was written after its free), and then the old block is
 * untouched.
 * O(log chunks) in place, plus the copy when it moves. */
void *heap_realloc(struct heap *h, void *ptr, size_t size);

/* The region now ends at end + by: the caller made those bytes usable.
 * The index moves to the new end and is rebuilt (O(size / 1024), so grow
 * in large steps; heap_extend_need says how much an allocation needs);
 * the bytes it leaves join a free last hole, or become a new hole, or wait
 * for more when fewer than 32 (and join the last block at a later call,
 * if it has been freed by then).  Returns 0, or < 0 (nothing changes) when
 * the end would wrap the address space or the heap exceed HEAP_MAX_SIZE. */
int heap_extend(struct heap *h, size_t by);

/* How many bytes heap_extend needs so that heap_alloc(h, size, align)
 * then succeeds: the block goes into the top hole or after the last
 * block, and the index takes its share of the new bytes.  1 when only
 * bytes waiting past the last block (heap_extend above) are missing: any
 * extend lets them join.  0 when the heap can already hold it there, or
 * when no extension can (bad align, or past HEAP_MAX_SIZE).  O(1): a few
 * steps, each a little arithmetic. */
size_t heap_extend_need(const struct heap *h, size_t size, size_t align);

/* Fill *out from counters kept on every call, O(1): the tree's root
 * knows the largest hole but the top one, which the heap keeps aside.
 * An uninitialised heap reports all zeroes. */
void heap_stats(const struct heap *h, struct heap_stats *out);

/* Walk every block and check every invariant against that walk: headers
 * sealed, blocks tile [base, top), holes never adjacent, the bitmap marks
 * exactly the block starts and the used ones, no entry of the tree
 * understates (a leaf its chunk's largest hole, an entry above the largest
 * of its group of 16 below) or exceeds its cap, its padding is 0 and its
 * levels lie where heap_init put them, the region's split agrees with
 * end, a pending late header names a hole, and the counters match.
 * HEAP_POISON builds also check freed memory.
 * Returns 0 or HEAP_ECORRUPT.  O(blocks + size / 1024), O(size) with
 * HEAP_POISON. */
int heap_check(const struct heap *h);

/* One block as heap_walk sees it: [addr, addr + size), header included. */
struct heap_block {
	uintptr_t addr;  /* the block's header; its payload starts 16 bytes on */
	size_t size;     /* bytes, header included: a multiple of 16, >= 32 */
	int used;        /* 1: allocated, 0: a hole */
};

/* Called once per block, in address order; a non-zero return stops the
 * walk and becomes heap_walk's return value. */
typedef int heap_walk_fn(const struct heap_block *b, void *ctx);

/* Call fn(block, ctx) for every block of [base, top), lowest address
 * first, without changing the heap (beyond writing the header the last
 * allocation left for later: docs/heap.md, the late header): what a
 * picture of the heap draws.
 * fn must not call into h.  Returns 0 after the last block, fn's first
 * non-zero return, HEAP_EINVAL for a heap that is not initialised, or
 * HEAP_ECORRUPT (after the blocks before it) at the first header that
 * fails its check, so a damaged heap never sends the walk astray.
 * O(blocks). */
int heap_walk(const struct heap *h, heap_walk_fn *fn, void *ctx);

/* Is ptr a live block of h?  The same check heap_free and heap_realloc
 * make before they touch anything, with nothing changed (a header the
 * last allocation left for later may be written): 0, HEAP_EINVAL
 * (not a live block: foreign, interior or already free) or HEAP_ECORRUPT.
 * Lets a caller tell a bad pointer from a full heap when heap_realloc
 * returns NULL.  O(1). */
int heap_check_ptr(struct heap *h, const void *ptr);

/* Has the heap found itself damaged (an allocation met a hole whose
 * header was overwritten)?  From then on it refuses every call, so a
 * NULL from heap_alloc or heap_realloc means that, not a full heap.
 * O(1). */
int heap_broken(const struct heap *h);

/* The payload bytes ptr's block really has (at least what was asked for,
 * up to 31 more, or 32 for a request of 0): what C's malloc_usable_size
 * reports.  0 when ptr is NULL or not a live block of h.  O(1). */
size_t heap_usable_size(struct heap *h, const void *ptr);

#endif /* HEAP_H */
