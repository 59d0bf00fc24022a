/*
 * mem.c - memset and memcpy for the kernel, which links no C library.
 *
 * GCC may emit calls to these for struct copies, __builtin_memset of a
 * size it cannot see, and the like (a freestanding compiler still
 * assumes them, GCC manual "Standards").  Before this file the kernel got
 * them from gnu-efi's libefi; now kernel/, paging/ and heap/ link with
 * nothing of gnu-efi (boot/check-seam.sh checks it).  The string
 * instructions keep them short and stop GCC from recognising a loop here
 * as a memset and calling itself.  The loader keeps libefi's copies: the
 * Makefile makes ours local to build/kernel.o so the two never meet.
 */
#include <stddef.h>

/* Fill [s, s + n) with the byte c.  Returns s. */
void *memset(void *s, int c, size_t n)
{
	void *d = s;

	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return s;
}

/* Copy [src, src + n) to [dst, dst + n); the ranges must not overlap.
 * Returns dst. */
void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	void *d = dst;

	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	return dst;
}
