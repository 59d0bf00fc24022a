/*
 * kheap.c - kernel heap policy around the pure allocator in heap/.
 *
 * heap.c only manages a byte range.  Here the kernel decides where that
 * range lives (HEAP_START), backs it with frames page by page, and grows
 * it when an allocation fails: map more frames at the top of the window,
 * heap_extend, retry.  Out of memory after that is NULL to the caller.
 *
 * One lock guards the heap (paging/spinlock.h, which says why it is not
 * a ticket lock); it counts how often a CPU had to wait.  It also
 * turns interrupts off while held, so an interrupt handler that
 * allocates can never spin on a lock its own CPU holds.
 */
#include "kernel.h"
#include "cpu.h"
#include "kheap.h"
#include "kmap.h"
#include "frames.h"
#include "layout.h"
#include "mmu.h"
#include "spinlock.h"

#define GROW_MIN (256ull << 10) /* grow in steps of at least 256 KiB */
#define TABLE_HEADROOM 16       /* frames left for page tables, ours and others' */

static struct heap heap;
static uint64_t mapped;            /* [HEAP_START, HEAP_START + mapped) is backed */
static uint64_t initial;           /* what kheap_init mapped */
static struct spinlock heap_lock = SPINLOCK_INIT;

/* Take the lock with interrupts off; returns the caller's RFLAGS.IF. */
static uint64_t lock(void)
{
	uint64_t flags = read_rflags();

	cli();
	spin_lock(&heap_lock);
	return flags;
}

static void unlock(uint64_t flags)
{
	spin_unlock(&heap_lock);
	if (flags & RFLAGS_IF)
		__asm__ volatile("sti");
}

void kheap_lock_counts(uint64_t *acquired, uint64_t *contended)
{
	uint64_t flags = lock();

	*acquired = heap_lock.acquired - 1; /* not counting this look */
	*contended = heap_lock.contended;
	unlock(flags);
}

/* Back [HEAP_START + mapped, + bytes) with fresh frames, all or nothing
 * (kmap.c), so one failed large request does not swallow the machine's
 * last frames; at least TABLE_HEADROOM frames stay free after the pages
 * and their tables.  Other CPUs allocate here, so an undo shoots its
 * pages down everywhere.  Returns 0, or -1 (window full, or not enough
 * frames). */
static int map_more(uint64_t bytes)
{
	if (bytes > HEAP_MAX - mapped ||
	    frames_free_count() < bytes / PAGE_SIZE + layout_heap_tables(bytes) + TABLE_HEADROOM)
		return -1;
	if (kmap_fresh(HEAP_START + mapped, bytes, true) != 0)
		return -1;
	mapped += bytes;
	return 0;
}

int kheap_init(uint64_t size)
{
	size = (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	if (map_more(size) != 0)
		return -1;
	initial = size;
	return heap_init(&heap, (void *)(uintptr_t)HEAP_START, size);
}

/* Map at least `need` bytes (page-rounded) more: GROW_MIN if it can be
 * had, so that a run of small allocations does not grow the heap page by
 * page, else only `need`, for near the window's end or when frames are
 * short a step of GROW_MIN fails where the allocation itself would fit.
 * Returns the bytes mapped, or 0. */
static uint64_t map_step(uint64_t need)
{
	uint64_t step = need < GROW_MIN ? GROW_MIN : need;

	if (map_more(step) == 0)
		return step;
	if (step > need && map_more(need) == 0)
		return need;
	return 0;
}

/* Grow the heap so that heap_alloc(size, align) can succeed: the heap
 * says how many bytes that takes (its index at the region's end takes a
 * share of every extension).  Returns 0, or -1 when no growth can help. */
static int grow_locked(size_t size, size_t align)
{
	uint64_t bytes = heap_extend_need(&heap, size, align);

	if (bytes == 0)
		return -1; /* it never will (too big, or a bad alignment) */
	bytes = map_step((bytes + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1));
	if (bytes == 0)
		return -1;
	if (heap_extend(&heap, bytes) != 0)
		panic("kheap: heap_extend refused %lu bytes at 0x%lX (%s)", bytes, (uint64_t)(HEAP_START + mapped - bytes),
		      heap_check(&heap) ? "the heap is corrupt" : "the heap is at its size limit");
	return 0;
}

/* The heap found a hole's header overwritten while allocating for `who`
 * and now refuses everything: a bug wrote past a block or into a freed
 * one.  Stop and say so, rather than hand out NULLs as if memory were
 * short (and later blame whichever block is freed next). */
static NORETURN void heap_damaged(const char *who, uint64_t size)
{
	panic("%s(%lu): the heap is corrupt: a free block's header was overwritten "
	      "(a write past the end of a block, or into freed memory)",
	      who, size);
}

void *kmalloc_aligned(size_t size, size_t align)
{
	uint64_t flags = lock();
	void *p = heap_alloc(&heap, size, align);

	if (!p && !heap_broken(&heap) && size < HEAP_MAX && grow_locked(size, align) == 0)
		p = heap_alloc(&heap, size, align);
	if (!p && heap_broken(&heap)) {
		unlock(flags);
		heap_damaged("kmalloc", size);
	}
	unlock(flags);
	return p;
}

void *kmalloc(size_t size)
{
	return kmalloc_aligned(size, 16);
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);

	if (p)
		__builtin_memset(p, 0, size);
	return p;
}

/* A pointer the heap refused: a bug in the caller, stop and say so. */
static NORETURN void bad_pointer(const char *who, void *ptr, int err)
{
	panic("%s(0x%lX): %s", who, (uint64_t)(uintptr_t)ptr,
	      err == HEAP_ECORRUPT ? "the heap is corrupt around this block"
				   : "not a live block of this heap (double free or bad pointer)");
}

void kfree(void *ptr)
{
	uint64_t flags = lock();
	int rc = heap_free(&heap, ptr);

	unlock(flags);
	if (rc != 0)
		bad_pointer("kfree", ptr, rc);
}

void *krealloc(void *ptr, size_t size)
{
	uint64_t flags = lock();
	void *p = heap_realloc(&heap, ptr, size);
	int bad = 0;

	/* NULL means a full heap or a bad pointer: grow only for the first. */
	if (!p && ptr)
		bad = heap_check_ptr(&heap, ptr);
	if (!p && !bad && size < HEAP_MAX && grow_locked(size, 16) == 0)
		p = heap_realloc(&heap, ptr, size);
	if (!p && heap_broken(&heap)) { /* broken by this call: ptr did nothing wrong */
		unlock(flags);
		heap_damaged("krealloc", size);
	}
	unlock(flags);
	if (bad)
		bad_pointer("krealloc", ptr, bad);
	return p;
}

void kheap_stats(struct heap_stats *out)
{
	uint64_t flags = lock();

	heap_stats(&heap, out);
	unlock(flags);
}

void kheap_usage(struct kheap_usage *out)
{
	struct heap_stats s;

	kheap_stats(&s);
	out->allocations = s.allocations;
	out->used = s.used;
	out->mapped = mapped;
	out->initial = initial;
}

int kheap_check(void)
{
	uint64_t flags = lock();
	int rc = heap_check(&heap);

	unlock(flags);
	return rc;
}

void kheap_view(void (*view)(const struct heap *h, void *ctx), void *ctx)
{
	uint64_t flags = lock();

	view(&heap, ctx);
	unlock(flags);
}
