/*
 * bench_alloc.h - the allocators bench_heap.c compares, behind one table.
 *
 * Every allocator is reached through the same function pointers, so each
 * pays the same call overhead.  Two kinds:
 *   region heaps  ours (heap/heap.c) and list (test/reference/list_heap.c)
 *                 manage one mmap'd region; base() gives its first block,
 *                 so the bench can record which offsets they hand out.
 *   C allocators  glibc, jemalloc and mimalloc; base is NULL.
 * How the three C allocators live in one process: see bench_alloc.c.
 */
#ifndef BENCH_ALLOC_H
#define BENCH_ALLOC_H

#include <stddef.h>
#include <stdint.h>

struct allocator {
	const char *name;
	const char *missing;                       /* why it cannot run here, or NULL */
	void (*reset)(void);                       /* start every run from an empty heap */
	void *(*alloc)(size_t size, size_t align); /* align: a power of two >= 16 */
	void (*release)(void *p);
	void *(*resize)(void *p, size_t size);     /* C realloc; p may be NULL */
	int (*check)(void);                        /* 0 if the heap is sound; NULL: none */
	uintptr_t (*base)(void);                   /* region heaps: the first block */
	size_t (*index_bytes)(void);               /* region heaps: side structures */
};

enum { OURS, LIST, GLIBC, JEMALLOC, MIMALLOC, NALLOC };

extern struct allocator allocators[NALLOC];

/* Load jemalloc and mimalloc and give both region heaps a region.  A
 * library that cannot be loaded gets a reason in ->missing; the bench
 * goes on without it.  May re-execute the program once (see the .c);
 * call it first thing in main, with main's argv. */
void allocators_init(char **argv);

/* The allocator with this name, or NULL. */
const struct allocator *allocator_named(const char *name);

#endif /* BENCH_ALLOC_H */
