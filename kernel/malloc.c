/*
 * malloc.c - the C library's allocation names over the kernel heap, so
 * freestanding C code (a parser, a compression library) links as is.
 */
#include "kheap.h"

/* a * b, or 0 with *overflow set: calloc must not wrap into a small block. */
static size_t mul_checked(size_t a, size_t b, int *overflow)
{
	size_t r;

	*overflow = __builtin_mul_overflow(a, b, &r);
	return r;
}

static int is_power_of_two(size_t x)
{
	return x && !(x & (x - 1));
}

void *malloc(size_t size)
{
	return kmalloc(size);
}

void *calloc(size_t n, size_t size)
{
	int overflow;
	size_t total = mul_checked(n, size, &overflow);

	return overflow ? NULL : kzalloc(total);
}

void *realloc(void *ptr, size_t size)
{
	return krealloc(ptr, size);
}

void free(void *ptr)
{
	kfree(ptr);
}

/* C11: align must be a supported alignment; we take any power of two. */
void *aligned_alloc(size_t align, size_t size)
{
	return is_power_of_two(align) ? kmalloc_aligned(size, align) : NULL;
}

/* POSIX: align a power of two and a multiple of sizeof(void *). */
int posix_memalign(void **out, size_t align, size_t size)
{
	void *p;

	if (!is_power_of_two(align) || align % sizeof(void *))
		return 22; /* EINVAL */
	p = kmalloc_aligned(size, align);
	if (!p)
		return 12; /* ENOMEM */
	*out = p;
	return 0;
}
