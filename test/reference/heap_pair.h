/*
 * heap_pair.h - drive heap/heap.c and the reference list heap side by side.
 *
 * A pair is the fast heap and the reference heap (test/reference/list_heap.c)
 * over two buffers of the same shape.  Each step reads a few bytes of a
 * program and makes one call on both heaps: alloc (plain or aligned), free,
 * a bad free (interior, double, anywhere), realloc or extend.  After every
 * step both must agree exactly: the same offset from every allocation, the
 * same result from every call, the same heap_stats (all but index_bytes,
 * which only the fast heap has), both heap_check clean, and every payload
 * still holding its pattern.  Any disagreement calls pair_fail(), which
 * prints what and where and aborts.
 *
 * The same engine serves the cmocka test (test/host/test_heap_diff.c, fed
 * from a seeded generator) and the libFuzzer target (test/fuzz/
 * fuzz_heap_diff.c, fed by the fuzzer).
 */
#ifndef HEAP_PAIR_H
#define HEAP_PAIR_H

#include <stddef.h>
#include <stdint.h>

struct pair;

/* The program being run: bytes in [at, end); past the end every read is 0. */
struct program {
	const uint8_t *at, *end;
};

/* Both heaps over size bytes at offset off of buffers of room bytes
 * (extends stop there).  NULL if the fast heap refuses the region (too
 * small); the reference then gets exactly the fast heap's block area. */
struct pair *pair_new(size_t off, size_t size, size_t room);

/* One call on both heaps, read from prog, and every check after it. */
void pair_step(struct pair *p, struct program *prog);

/* From now on, before every call, fill the 16 bytes of the fast heap's
 * late header (heap_impl.h: a tail's header an allocation left for a
 * later call to write) with junk, and compare heap_stats only after one
 * step in 8, as the program says (heap_stats writes that header): no
 * call may read it from memory before the heap has written it. */
void pair_scramble(struct pair *p);

/* Allocate len bytes on both, before any step, and keep them until
 * pair_drain: every block the program then allocates lies above them.
 * With len of 1 MiB or more, that is where the fast heap's free finds
 * its block's neighbours in the bitmap (heap.c: prefetch_neighbours). */
void pair_ballast(struct pair *p, size_t len);

/* Free every live block on both; both must end as one hole. */
void pair_drain(struct pair *p);

void pair_free(struct pair *p);

#endif /* HEAP_PAIR_H */
