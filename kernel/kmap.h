/*
 * kmap.h - back a range of kernel virtual addresses with fresh frames,
 * and give them back: what the heap window (kheap.c) and the APs' stacks
 * (smp.c) both need.  The pages are writable and never executable
 * (VM_WRITE), on the current page tables.
 */
#ifndef KMAP_H
#define KMAP_H

#include <stdbool.h>
#include <stdint.h>

/* Map [va, va + size) page by page to frames from the frame allocator;
 * va and size are page multiples.  All or nothing: when frames or page
 * tables run out, what was mapped is given back (kmap_release, with the
 * same `shared`) and -1 is returned; else 0. */
int kmap_fresh(uint64_t va, uint64_t size, bool shared);

/* Unmap every mapped page of [va, va + size) and free its frame; pages
 * not mapped are skipped.  `shared`: other CPUs may hold these
 * translations (the range lies where they run), so each page is shot
 * down on every CPU before its frame goes back; else only from this
 * CPU's TLB (invlpg; pt_unmap leaves the TLB to its caller).  Returns
 * the frames freed. */
uint64_t kmap_release(uint64_t va, uint64_t size, bool shared);

#endif
