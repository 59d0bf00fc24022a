/*
 * list_heap.h - the reference heap: the first, list-based version of
 * heap/heap.c, kept under test/ to check the fast heap against.
 *
 * Same policy, same API and the same struct heap_stats as heap.h, with
 * every name prefixed list_: first fit over one address-ordered hole
 * list, O(holes) per allocation and per free.  Used only by tests and
 * benchmarks; nothing in the kernel links it.
 */
#ifndef LIST_HEAP_H
#define LIST_HEAP_H

#include "heap.h" /* struct heap_stats, HEAP_E*, HEAP_ALIGN, HEAP_MAX_SIZE */

struct list_hole;

struct list_heap {
	uintptr_t base;          /* start rounded up to 16: the first block */
	uintptr_t top;           /* end of the last block */
	uintptr_t end;           /* start + size of the region as given */
	struct list_hole *holes; /* free holes, lowest address first */
	size_t used;             /* bytes in used blocks, headers included */
	size_t free;             /* bytes in holes, headers included */
	size_t nholes;           /* number of holes */
	size_t nallocs;          /* number of used blocks */
	int ready;               /* list_heap_init succeeded */
};

int list_heap_init(struct list_heap *h, void *start, size_t size);
void *list_heap_alloc(struct list_heap *h, size_t size, size_t align);
int list_heap_free(struct list_heap *h, void *ptr);
void *list_heap_realloc(struct list_heap *h, void *ptr, size_t size);
int list_heap_extend(struct list_heap *h, size_t by);
void list_heap_stats(const struct list_heap *h, struct heap_stats *out);
int list_heap_check(const struct list_heap *h);
int list_heap_check_ptr(struct list_heap *h, const void *ptr);

#endif /* LIST_HEAP_H */
