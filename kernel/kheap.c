/*
 * kheap.c - kernel heap policy around the pure allocator in heap/.
 *
 * heap.c only manages a byte range.  Here the kernel decides where that
 * range lives (HEAP_START), backs it with frames page by page, and grows
 * it when an allocation fails: map more frames at the top of the window,
 * heap_extend, retry.  Out of memory after that is NULL to the caller.
 *
 * One lock guards the heap.  It also turns interrupts off while held, so
 * an interrupt handler that allocates can never spin on a lock its own
 * CPU holds.
 */
#include "kernel.h"
#include "cpu.h"
#include "kheap.h"
#include "frames.h"
#include "layout.h"
#include "pagetable.h"

#define PAGE 4096ull
#define GROW_MIN (256ull << 10) /* grow in steps of at least 256 KiB */

static struct heap heap;
static uint64_t mapped;            /* [HEAP_START, HEAP_START + mapped) is backed */
static volatile int lock_word;

/* Take the lock with interrupts off; returns the caller's RFLAGS.IF. */
static uint64_t lock(void)
{
	uint64_t flags = read_rflags();

	cli();
	while (__atomic_exchange_n(&lock_word, 1, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
	return flags;
}

static void unlock(uint64_t flags)
{
	__atomic_store_n(&lock_word, 0, __ATOMIC_RELEASE);
	if (flags & RFLAGS_IF)
		__asm__ volatile("sti");
}

/* Back [HEAP_START + mapped, + bytes) with fresh frames, page by page.
 * Returns the bytes actually mapped (less when frames run out). */
static uint64_t map_more(uint64_t bytes)
{
	uint64_t pml4 = read_cr3() & ~0xFFFull, done = 0;

	if (bytes > HEAP_MAX - mapped)
		bytes = HEAP_MAX - mapped;
	for (; done < bytes; done += PAGE) {
		uint64_t pa = frames_alloc();
		if (!pa)
			break;
		if (vm_map(pml4, HEAP_START + mapped + done, pa, PAGE, VM_WRITE) != 0) {
			frames_free(pa);
			break;
		}
	}
	mapped += done;
	return done;
}

int kheap_init(uint64_t size)
{
	size = (size + PAGE - 1) & ~(PAGE - 1);
	if (map_more(size) != size)
		return -1;
	return heap_init(&heap, (void *)(uintptr_t)HEAP_START, size);
}

static int grow_locked(uint64_t bytes)
{
	uint64_t got;

	bytes = (bytes + PAGE - 1) & ~(PAGE - 1);
	if (bytes < GROW_MIN)
		bytes = GROW_MIN;
	got = map_more(bytes);
	if (got && heap_extend(&heap, got) != 0)
		panic("kheap: heap_extend refused %ld bytes at 0x%lx", got, HEAP_START + mapped - got);
	return got >= bytes ? 0 : -1;
}

int kheap_grow(uint64_t bytes)
{
	uint64_t flags = lock();
	int rc = grow_locked(bytes);

	unlock(flags);
	return rc;
}

void *kmalloc_aligned(size_t size, size_t align)
{
	uint64_t flags = lock();
	void *p = heap_alloc(&heap, size, align);

	/* Room for the block, its alignment padding and a header or two;
	 * a bad alignment is refused by heap_alloc and is no reason to grow. */
	bool align_ok = align && !(align & (align - 1)) && align < HEAP_MAX;
	if (!p && align_ok && size < HEAP_MAX && grow_locked(size + align + 64) == 0)
		p = heap_alloc(&heap, size, align);
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

void kfree(void *ptr)
{
	uint64_t flags = lock();
	int rc = heap_free(&heap, ptr);

	unlock(flags);
	if (rc != 0)
		panic("kfree(0x%lx): %a", (uint64_t)(uintptr_t)ptr,
		      rc == HEAP_ECORRUPT ? "the heap is corrupt around this block"
					  : "not a live block of this heap (double free or bad pointer)");
}

void *krealloc(void *ptr, size_t size)
{
	uint64_t flags = lock();
	void *p = heap_realloc(&heap, ptr, size);

	if (!p && size && size < HEAP_MAX && grow_locked(size + 64) == 0)
		p = heap_realloc(&heap, ptr, size);
	unlock(flags);
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
}

int kheap_check(void)
{
	uint64_t flags = lock();
	int rc = heap_check(&heap);

	unlock(flags);
	return rc;
}
