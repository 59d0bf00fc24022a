/*
 * format.h - printf-style formatting with no C library (kernel/format.c).
 *
 * The language is C's printf, integers, characters and strings only:
 *
 *   conversions  %d %i %u %o %x %X %c %s %p %%
 *   flags        -  left-justify    +  sign always    space  sign or space
 *                0  pad with zeros  #  0 before octal, 0x/0X before hex
 *   width        digits or *  (a negative * means - and its absolute value)
 *   precision    .digits or .*  (minimum digits; maximum chars of a %s)
 *   lengths      hh h l ll z j t  (uint64_t is unsigned long: %lu %lx)
 *
 * The output is byte for byte what glibc's snprintf gives wherever C
 * defines the result; test/host/test_format.c and test/fuzz/fuzz_format.c
 * check that.  Where C leaves it open we chose: %p of NULL is "(nil)"
 * (as glibc), %s of NULL is "(null)", and a conversion we do not know
 * (floating point, %n, wide %lc and %ls) is copied to the output as
 * written, so the mistake shows.  The format attribute makes the compiler
 * check every call (-Wformat, part of -Wall), so none of that should
 * ever reach us.
 *
 * Freestanding: only the compiler's own headers.  The kernel uses it for
 * kprintf and panic, the host tests build it as it is.
 */
#ifndef FORMAT_H
#define FORMAT_H

#include <stdarg.h>
#include <stddef.h>

#define PRINTF_LIKE(fmt_arg, first_arg) __attribute__((format(printf, fmt_arg, first_arg)))

/* Where formatted characters go: called once per character, in order. */
typedef void format_emit_fn(char c, void *ctx);

/* Format fmt with ap, handing each character to emit(c, ctx).  No
 * buffer, so no length limit.  Returns the number of characters emitted,
 * or -1 if that count does not fit in an int. */
int vformat_to(format_emit_fn *emit, void *ctx, const char *fmt, va_list ap)
	PRINTF_LIKE(3, 0);

/* snprintf: write at most size - 1 characters of the result to buf and
 * a terminating NUL (nothing at all when size is 0).  Returns the length
 * the whole result has, so a return >= size means it was cut short; -1
 * if that length does not fit in an int. */
int vformat(char *buf, size_t size, const char *fmt, va_list ap) PRINTF_LIKE(3, 0);
int format(char *buf, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);

#endif
