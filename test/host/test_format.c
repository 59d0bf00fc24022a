/*
 * test_format.c - host tests of the kernel's printf (kernel/format.c)
 * against the C library's: every check formats the same arguments with
 * vformat and with vsnprintf and expects the same bytes and the same
 * return value, at several buffer sizes (so truncation is checked too).
 *
 * Most tests are tables: formats of one argument type crossed with
 * values of that type, edge values included.  What C leaves open (the
 * NULL string, an unknown conversion) is checked against format.h's
 * promise instead.
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "format.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define BUF 512

/* Format fmt into a buffer of size (of BUF, filled with a marker first)
 * with ours and with libc; expect equal return values and all BUF bytes
 * equal, so a write past the NUL or past size shows too. */
static void compare_at_size(size_t size, const char *fmt, va_list ap)
{
	char ours[BUF], libc[BUF];
	va_list a, b;

	memset(ours, 0x5A, sizeof(ours));
	memset(libc, 0x5A, sizeof(libc));
	va_copy(a, ap);
	va_copy(b, ap);
	int n_ours = vformat(ours, size, fmt, a);
	int n_libc = vsnprintf(libc, size, fmt, b);
	va_end(a);
	va_end(b);
	if (n_ours != n_libc || memcmp(ours, libc, sizeof(ours)) != 0)
		fail_msg("format \"%s\", size %zu: ours \"%.*s\" (%d), libc \"%.*s\" (%d)", fmt, size,
			 (int)strnlen(ours, size), ours, n_ours, (int)strnlen(libc, size), libc, n_libc);
}

/* The whole output, then cut short: no room, room for the NUL only,
 * half of it, all but the last character. */
static void check(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void check(const char *fmt, ...)
{
	char full[BUF];
	va_list ap, len;

	va_start(ap, fmt);
	va_copy(len, ap);
	int n = vsnprintf(full, sizeof(full), fmt, len);
	va_end(len);
	assert_in_range(n, 0, BUF - 1); /* a test's output must fit */
	const size_t sizes[] = { BUF, (size_t)n + 1, (size_t)n, (size_t)n / 2, 1, 0 };
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		compare_at_size(sizes[i], fmt, ap);
	va_end(ap);
}

static const int int_values[] = { 0, 1, -1, 7, -7, 42, -42, 127, -128, 255, 256, 1000,
				  -65536, 65535, 123456789, INT_MAX, INT_MIN };

/* Expect %d and %i with every flag, width and precision C defines. */
static void format_signed_int_table(void **state)
{
	static const char *const formats[] = {
		"%d", "%i", "[%5d]", "[%-5d]", "[%05d]", "[%+d]", "[% d]", "[%+5d]", "[%-+5d]",
		"[%+05d]", "[% 05d]", "[%- 6d]", "[%+ d]", "[%.3d]", "[%.0d]", "[%.d]", "[%8.3d]",
		"[%-8.3d]", "[%08.3d]", "[%+.3d]", "[%1d]", "[%012i]", "[%-012i]", "[%hhd]",
		"[%hd]", "[%5hhi]", "[%+hd]", "[%.12d]", "[%20.15d]",
	};

	(void)state;
	for (size_t f = 0; f < ARRAY_SIZE(formats); f++)
		for (size_t v = 0; v < ARRAY_SIZE(int_values); v++)
			check(formats[f], int_values[v]);
}

/* Expect %u %o %x %X with their flags: # gives 0, 0x or 0X, but never
 * to a zero; a zero precision prints nothing for a zero value. */
static void format_unsigned_table(void **state)
{
	static const char *const formats[] = {
		"%u", "%o", "%x", "%X", "[%#o]", "[%#x]", "[%#X]", "[%8x]", "[%-8X]", "[%08x]",
		"[%#8x]", "[%#-8x]", "[%#08x]", "[%#08o]", "[%.0u]", "[%.0x]", "[%#.0x]", "[%#.0o]",
		"[%#.3o]", "[%#.8x]", "[%#12.8X]", "[%012.4o]", "[%hhx]", "[%hx]", "[%#hho]",
		"[%hhu]", "[%-#10.0o]",
	};

	(void)state;
	for (size_t f = 0; f < ARRAY_SIZE(formats); f++)
		for (size_t v = 0; v < ARRAY_SIZE(int_values); v++)
			check(formats[f], (unsigned)int_values[v]);
}

/* Expect every length modifier to take its own type, extremes included. */
static void format_length_modifiers_at_extremes(void **state)
{
	static const long long ll[] = { 0, 1, -1, LLONG_MAX, LLONG_MIN, 0x123456789abcdefLL };
	static const unsigned long long ull[] = { 0, 1, ULLONG_MAX, 0x8000000000000000ULL };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ll); i++) {
		check("%ld %li %+ld %-22ld|", (long)ll[i], (long)ll[i], (long)ll[i], (long)ll[i]);
		check("%lld %025lld %.20lli", ll[i], ll[i], ll[i]);
		check("%jd %zd %td", (intmax_t)ll[i], (ptrdiff_t)ll[i], (ptrdiff_t)ll[i]);
		check("%tu %tx %#to", (size_t)ll[i], (size_t)ll[i], (size_t)ll[i]);
		check("%hhd %hd %hhu %hu", (signed char)ll[i], (short)ll[i], (unsigned char)ll[i],
		      (unsigned short)ll[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(ull); i++) {
		check("%lu %lx %lX %#lo", (unsigned long)ull[i], (unsigned long)ull[i],
		      (unsigned long)ull[i], (unsigned long)ull[i]);
		check("%llu %#llx %016llX", ull[i], ull[i], ull[i]);
		check("%ju %zu %zx %#jX", (uintmax_t)ull[i], (size_t)ull[i], (size_t)ull[i],
		      (uintmax_t)ull[i]);
	}
}

/* Expect * to take width and precision from the arguments, in order; a
 * negative width means -, a negative precision means none. */
static void format_star_width_and_precision(void **state)
{
	static const int stars[] = { 0, 1, 5, 12, -1, -5, -12 };

	(void)state;
	for (size_t w = 0; w < ARRAY_SIZE(stars); w++) {
		check("[%*d]", stars[w], -42);
		check("[%0*x]", stars[w], 0xbeefu);
		check("[%*s]", stars[w], "abc");
		check("[%*c]", stars[w], 'z');
		for (size_t p = 0; p < ARRAY_SIZE(stars); p++) {
			check("[%*.*d]", stars[w], stars[p], 1234);
			check("[%-*.*s]", stars[w], stars[p], "kernel");
			check("[%0*.*u]", stars[w], stars[p], 77u);
		}
	}
}

/* Expect %s padded, cut at the precision, and never read past it (ASan
 * stops the test if it does: the array has no NUL). */
static void format_strings_and_chars(void **state)
{
	static const char no_nul[4] = { 'a', 'b', 'c', 'd' };
	static const char *const strings[] = { "", "x", "kernel", "double-fault stack" };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(strings); i++) {
		const char *s = strings[i];
		check("[%s] [%10s] [%-10s] [%.3s] [%-8.2s] [%.0s] [%3s]", s, s, s, s, s, s, s);
	}
	check("[%.4s] [%.2s] [%6.3s]", no_nul, no_nul, no_nul);
	check("[%c] [%3c] [%-3c] [%c%c]", 'a', 'b', 'c', '%', '\n');
	check("[%c]", 0); /* a NUL in the middle: sizes and bytes still agree */
	check("[%c]", 0xE9); /* any byte goes through as it is */
}

/* Expect %p as glibc prints it: 0x and lowercase hex, "(nil)" for NULL. */
static void format_pointers(void **state)
{
	int x;
	void *ptrs[] = { &x, (void *)0x1, (void *)UINTPTR_MAX, NULL };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ptrs); i++)
		check("[%p] [%20p] [%-20p]", ptrs[i], ptrs[i], ptrs[i]);
}

/* Expect %% and plain text untouched, and several conversions in one
 * format each with its own flags. */
static void format_text_and_several_conversions(void **state)
{
	(void)state;
	check("%s", "");
	check("plain text, no conversion");
	check("100%% sure, %d%%", 99);
	check("%-20s 0x%016lX %10lu KiB  %s%s%s %s", "framebuffer", 0xFFFFFE0000000000ul, 3072ul,
	      "RW", "-", " 4K", "WC");
	check("%s(%u, 0x%016lX, 0x%08lX, 0x%016lX)", "FIX", 7u, 0x100000ul, 0x9Ful, 0xFul);
	check("%+d %x %-4s|%05d|%c|%#o", 5, 255u, "ab", -3, 'q', 8u);
}

/* Expect the layout report's name column left-aligned: the name, then
 * spaces to 20 columns.  (The loader's old formatter right-aligned it.) */
static void format_left_justifies_columns(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(format(buf, sizeof(buf), "[%-20s|%6lu]", "kernel stack", 64ul), 29);
	assert_string_equal(buf, "[kernel stack        |    64]");
}

/* Expect a NULL buffer of size 0 to be left alone and the full length
 * returned, as C's snprintf does: the way to measure first. */
static void format_measures_with_null_buffer(void **state)
{
	(void)state;
	assert_int_equal(format(NULL, 0, "%s=%d", "answer", 42), 9);
}

/* Expect the choices format.h makes where C does not: "(null)" for a
 * NULL %s, and an unknown conversion copied as it was written (the
 * formats go through a variable: the compiler would refuse them). */
static void format_undefined_cases_as_promised(void **state)
{
	const char *null = NULL;
	const char *unknown = "a%qb %5.2lc %";
	const char *wide = "%ls|";
	char buf[64];

	(void)state;
	format(buf, sizeof(buf), "[%s] [%8s]", null, null);
	assert_string_equal(buf, "[(null)] [  (null)]");
	assert_int_equal(format(buf, sizeof(buf), unknown, 1), 13);
	assert_string_equal(buf, "a%qb %5.2lc %");
	format(buf, sizeof(buf), wide, "x");
	assert_string_equal(buf, "%ls|");
}

struct counter {
	size_t calls;
	char last;
};

static void count_char(char c, void *ctx)
{
	struct counter *k = ctx;

	k->calls++;
	k->last = c;
}

static int count_output(struct counter *k, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int count_output(struct counter *k, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vformat_to(count_char, k, fmt, ap);
	va_end(ap);
	return n;
}

/* Expect vformat_to to hand every character to the callback, with no
 * buffer limit: 5000 characters arrive and are counted. */
static void vformat_to_emits_every_character(void **state)
{
	struct counter k = { 0, 0 };

	(void)state;
	assert_int_equal(count_output(&k, "%-4999d!", 1), 5000);
	assert_int_equal(k.calls, 5000);
	assert_int_equal(k.last, '!');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(format_signed_int_table),
		cmocka_unit_test(format_unsigned_table),
		cmocka_unit_test(format_length_modifiers_at_extremes),
		cmocka_unit_test(format_star_width_and_precision),
		cmocka_unit_test(format_strings_and_chars),
		cmocka_unit_test(format_pointers),
		cmocka_unit_test(format_text_and_several_conversions),
		cmocka_unit_test(format_left_justifies_columns),
		cmocka_unit_test(format_measures_with_null_buffer),
		cmocka_unit_test(format_undefined_cases_as_promised),
		cmocka_unit_test(vformat_to_emits_every_character),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
