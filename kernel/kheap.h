/*
 * kheap.h - the kernel heap: one global struct heap (heap/heap.c) in the
 * window [HEAP_START, HEAP_START + HEAP_MAX), grown on demand with frames
 * from the frame allocator, behind an interrupt-safe spinlock.
 *
 * Growth is all or nothing and keeps a few frames back for page tables.
 * The heap never shrinks: frames mapped into the window stay there, free
 * for later allocations but not returned to the frame allocator.
 *
 * Also provides the C names (malloc, calloc, realloc, free, aligned_alloc,
 * posix_memalign) so freestanding C libraries can link against us.
 */
#ifndef KHEAP_H
#define KHEAP_H

#include <stddef.h>
#include <stdint.h>
#include "heap.h"

/* Map `size` bytes (rounded up to pages) at HEAP_START and start the
 * heap there.  Returns 0, or < 0 when frames or mappings run out. */
int kheap_init(uint64_t size);

void *kmalloc(size_t size);                      /* 16-byte aligned, or NULL */
void *kzalloc(size_t size);                      /* kmalloc + zero-fill */
void *kmalloc_aligned(size_t size, size_t align); /* align: a power of two */
void *krealloc(void *ptr, size_t size);          /* C realloc semantics */
void kfree(void *ptr);                           /* bad pointer: panic */
/* krealloc of a pointer the heap did not hand out (or freed) panics too. */

struct kheap_usage {
	uint64_t allocations;  /* live blocks */
	uint64_t used;         /* bytes in live blocks, overhead included */
	uint64_t mapped;       /* bytes of the window backed by frames */
	uint64_t initial;      /* of which kheap_init mapped (heap=, page-rounded) */
};
void kheap_usage(struct kheap_usage *out);

/* Full statistics and the invariant walk, under the lock. */
void kheap_stats(struct heap_stats *out);
int kheap_check(void);

#endif
