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
 * The functions are listed in kernel.h; this header holds the types.
 */
#ifndef KHEAP_H
#define KHEAP_H

#include <stddef.h>
#include <stdint.h>
#include "heap.h"
#include "kernel.h"

struct kheap_usage {
	uint64_t allocations;  /* live blocks */
	uint64_t used;         /* bytes in live blocks, overhead included */
	uint64_t mapped;       /* bytes of the window backed by frames */
	uint64_t initial;      /* of which kheap_init mapped (heap=, page-rounded) */
};

#endif
