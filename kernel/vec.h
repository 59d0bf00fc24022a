/*
 * vec.h - a growable array of longs on the kernel heap: the C stand-in
 * for Rust's Vec<T> in the blog_os demo and the heap self-tests.
 */
#ifndef VEC_H
#define VEC_H

#include <stdbool.h>
#include <stddef.h>
#include "kheap.h"

struct vec {
	long *data;
	size_t len, cap;
};

/* Append x, doubling the capacity when full (amortized O(1), as Vec). */
static inline bool vec_push(struct vec *v, long x)
{
	if (v->len == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 4;
		long *d = krealloc(v->data, cap * sizeof(long));
		if (!d)
			return false;
		v->data = d;
		v->cap = cap;
	}
	v->data[v->len++] = x;
	return true;
}

static inline void vec_free(struct vec *v)
{
	kfree(v->data);
	*v = (struct vec){ 0 };
}

#endif
