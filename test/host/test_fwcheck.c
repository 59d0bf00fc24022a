/*
 * test_fwcheck.c - host tests of the loader's checks of what the
 * firmware hands over (efi/fwcheck.c): RSDPs good and bad, and
 * framebuffers whose size does or does not hold their mode's span.
 *
 * Each RSDP lives in a heap buffer of exactly its own size, so ASan
 * reports any byte the check reads past it.  Layout (ACPI 6.5, 5.2.5.3):
 *
 *   0 "RSD PTR "  8 checksum  9 OEM id  15 revision  16 RSDT address
 *  20 length     24 XSDT address  32 extended checksum  33 reserved[3]
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fwcheck.h"
#include "layout.h"

static const char *why;

/* Make bytes [0, n) of p sum to zero through the byte at p[at]. */
static void seal(uint8_t *p, uint32_t n, uint32_t at)
{
	uint8_t sum = 0;

	p[at] = 0;
	for (uint32_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + p[i]);
	p[at] = (uint8_t)-sum;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * A good RSDP of this revision in a buffer of size bytes (20 for ACPI
 * 1.0; at least 36 for 2.0, whose Length says size).  Free it.
 */
static uint8_t *rsdp(uint8_t revision, uint32_t size)
{
	uint8_t *p = calloc(1, size);

	assert_non_null(p);
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, "TESTID", 6);
	p[15] = revision;
	put32(p + 16, 0xE0200);
	if (revision >= 2) {
		put32(p + 20, size);
		put32(p + 24, 0xE0100);
	}
	seal(p, 20, 8);
	if (revision >= 2)
		seal(p, size, 32);
	return p;
}

static int check(uint8_t *p)
{
	int rev;

	why = NULL;
	rev = fwcheck_rsdp(p, &why);
	free(p);
	return rev;
}

/* Expect a good ACPI 1.0 RSDP (revision 0, 20 bytes) to be revision 1,
 * its 20 bytes all that is read. */
static void fwcheck_rsdp_good_v1(void **state)
{
	(void)state;
	assert_int_equal(check(rsdp(0, RSDP_V1_BYTES)), 1);
	assert_null(why);
}

/* Expect a good ACPI 2.0 RSDP to be revision 2, and a longer one (a
 * later revision may add fields) to be checked over its whole Length. */
static void fwcheck_rsdp_good_v2(void **state)
{
	(void)state;
	assert_int_equal(check(rsdp(2, RSDP_V2_BYTES)), 2);
	assert_int_equal(check(rsdp(6, 48)), 2);
	assert_null(why);
}

/* Expect a table that is no RSDP, even one whose bytes sum to zero, to
 * be refused. */
static void fwcheck_rsdp_bad_signature(void **state)
{
	uint8_t *p;

	(void)state;
	for (int at = 0; at < 8; at++) {
		p = rsdp(2, RSDP_V2_BYTES);
		p[at] ^= 0x20; /* "rSD PTR ", "RsD PTR ", ... */
		seal(p, 20, 8);
		seal(p, RSDP_V2_BYTES, 32);
		assert_int_equal(check(p), 0);
		assert_string_equal(why, "no \"RSD PTR \" signature");
	}
}

/* Expect a bad checksum over the first 20 bytes to be refused, in a 1.0
 * RSDP and in a 2.0 one whose extended checksum is good. */
static void fwcheck_rsdp_bad_v1_checksum(void **state)
{
	uint8_t *p;

	(void)state;
	p = rsdp(0, RSDP_V1_BYTES);
	p[10] ^= 1; /* in the OEM id */
	assert_int_equal(check(p), 0);
	assert_string_equal(why, "bad checksum");

	p = rsdp(2, RSDP_V2_BYTES);
	p[10] ^= 1;
	seal(p, RSDP_V2_BYTES, 32); /* the extended sum alone would pass */
	assert_int_equal(check(p), 0);
	assert_string_equal(why, "bad checksum");
}

/* Expect a 2.0 RSDP whose 1.0 part is good but whose extended
 * checksum is not (a byte past the first 20 changed, in 36 bytes or in
 * a longer Length) to be refused: the firmware bug this check is for. */
static void fwcheck_rsdp_bad_extended_checksum(void **state)
{
	static const uint32_t changed[] = { 24, 32, 35 }; /* XSDT address, sum, reserved */
	uint8_t *p;

	(void)state;
	for (size_t i = 0; i < sizeof(changed) / sizeof(changed[0]); i++) {
		p = rsdp(2, RSDP_V2_BYTES);
		p[changed[i]] ^= 0x10;
		assert_int_equal(check(p), 0);
		assert_string_equal(why, "bad extended checksum");
	}
	p = rsdp(6, 48); /* the sum covers Length bytes, not just 36 */
	p[40] ^= 0x10;
	assert_int_equal(check(p), 0);
	assert_string_equal(why, "bad extended checksum");
}

/* Expect a Length below 36 or above RSDP_MAX_BYTES to be refused before
 * a byte past the 36 is read (ASan would report it), even when the
 * bytes that are there sum to zero. */
static void fwcheck_rsdp_absurd_length(void **state)
{
	static const uint32_t lengths[] = { 0, 20, 35, RSDP_MAX_BYTES + 1, 0xFFFFFFFFu };
	uint8_t *p;

	(void)state;
	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		p = rsdp(2, RSDP_V2_BYTES);
		put32(p + 20, lengths[i]);
		seal(p, 20, 8);
		seal(p, RSDP_V2_BYTES, 32);
		assert_int_equal(check(p), 0);
		assert_string_equal(why, "bad length");
	}
}

/* A framebuffer of this mode and FrameBufferSize. */
static struct framebuffer fb(uint32_t width, uint32_t height, uint32_t stride, uint64_t size)
{
	return (struct framebuffer){ .base = 0x80000000, .size = size, .width = width,
				     .height = height, .stride = stride, .format = FB_BGRX };
}

static uint32_t rows(struct framebuffer f)
{
	why = NULL;
	return fwcheck_framebuffer_rows(&f, &why);
}

/* Expect a framebuffer exactly the span, or larger (OVMF rounds up to
 * its BAR), to keep every row. */
static void fwcheck_framebuffer_span_fits(void **state)
{
	(void)state;
	assert_int_equal(rows(fb(800, 600, 800, 800 * 600 * 4)), 600);
	assert_int_equal(rows(fb(800, 600, 832, 832 * 600 * 4)), 600);
	assert_int_equal(rows(fb(1280, 800, 1280, 16u << 20)), 800);
	assert_null(why);
}

/* Expect a framebuffer smaller than the span to keep only the whole
 * scan lines it holds: here firmware that counted width, not stride
 * (800 * 600 * 4 bytes hold 576 lines of 832 pixels), and one a byte
 * short of the span. */
static void fwcheck_framebuffer_smaller_is_clamped(void **state)
{
	(void)state;
	assert_int_equal(rows(fb(800, 600, 832, 800 * 600 * 4)), 576);
	assert_int_equal(rows(fb(1024, 768, 1024, 1024 * 768 * 4 - 1)), 767);
	assert_int_equal(rows(fb(640, 480, 640, 640 * 4)), 1);
}

/* Expect a size of 0, or less than one scan line, to leave no row. */
static void fwcheck_framebuffer_zero_size(void **state)
{
	(void)state;
	assert_int_equal(rows(fb(800, 600, 800, 0)), 0);
	assert_string_equal(why, "smaller than one scan line");
	assert_int_equal(rows(fb(800, 600, 832, 800 * 4)), 0);
	assert_string_equal(why, "smaller than one scan line");
}

/* Expect a stride narrower than the width (each row would overwrite
 * the next), or a mode with no pixels, to be refused whatever the size. */
static void fwcheck_framebuffer_bad_shapes(void **state)
{
	(void)state;
	assert_int_equal(rows(fb(800, 600, 640, 16u << 20)), 0);
	assert_string_equal(why, "a stride narrower than the width");
	assert_int_equal(rows(fb(800, 600, 0, 16u << 20)), 0);
	assert_string_equal(why, "a stride narrower than the width");
	assert_int_equal(rows(fb(0, 600, 800, 16u << 20)), 0);
	assert_string_equal(why, "a mode with no pixels");
	assert_int_equal(rows(fb(800, 0, 800, 16u << 20)), 0);
	assert_string_equal(why, "a mode with no pixels");
}

/* A framebuffer at base, of rows scan lines of 16384 pixels (64 KiB
 * each), whose FrameBufferSize holds them all. */
static struct framebuffer tall(uint64_t base, uint32_t height)
{
	struct framebuffer f = fb(16384, height, 16384, (uint64_t)16384 * 4 * height);

	f.base = base;
	return f;
}

/* Expect a span larger than the kernel's 1 GiB framebuffer window
 * clamped to the scan lines the window holds, from the base's offset in
 * its page: the very framebuffers layout_build refuses whole
 * (test_layout's layout_framebuffer_too_big) keep 16384 and 16383 rows,
 * or none when one scan line alone is past the window, and what is kept
 * fits.  A span of exactly 1 GiB is kept whole. */
static void fwcheck_framebuffer_window_clamps(void **state)
{
	struct framebuffer f;

	(void)state;
	assert_int_equal(rows(tall(0x80000000, 16384)), 16384);
	assert_null(why);
	assert_int_equal(rows(tall(0x80000000, 16385)), 16384);
	assert_string_equal(why, "its span is larger than the kernel's 1 GiB framebuffer window");
	assert_int_equal(rows(tall(0x80000800, 16384)), 16383);
	assert_non_null(why);
	assert_int_equal(rows(fb(0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, UINT64_MAX)), 0);
	assert_string_equal(why, "beyond what the kernel can map"); /* one line is 16 GiB */
	f = tall(0x80000800, 16384);
	f.height = rows(f);
	assert_int_equal(layout_framebuffer_rows(&f), f.height);
	assert_true((f.base % PAGE_SIZE) + framebuffer_bytes(&f) <= FB_WINDOW_MAX);
}

/* Expect the smaller of the two bounds when both clamp: here
 * FrameBufferSize holds 10,000 lines, the window 16,384. */
static void fwcheck_framebuffer_both_bounds(void **state)
{
	struct framebuffer f = tall(0x80000000, 20000);

	(void)state;
	f.size = (uint64_t)16384 * 4 * 10000;
	assert_int_equal(rows(f), 10000);
	assert_string_equal(why, "FrameBufferSize is smaller than the mode's span");
	f.size = 4ull << 30;
	assert_int_equal(rows(f), 16384);
}

/* Expect a framebuffer that runs past the 52-bit physical address space
 * clamped to the lines below it, and one that starts there dropped. */
static void fwcheck_framebuffer_past_phys_limit(void **state)
{
	(void)state;
	assert_int_equal(rows(tall(PHYS_ADDR_LIMIT - 10 * 65536, 600)), 10);
	assert_string_equal(why, "its span runs past the 52-bit physical address limit");
	assert_int_equal(rows(tall(PHYS_ADDR_LIMIT, 600)), 0);
	assert_string_equal(why, "beyond what the kernel can map");
	assert_int_equal(rows(tall(UINT64_MAX - 4095, 600)), 0);
}

/* Expect "whole" only for a mode whose every row fits, and never for
 * a mode of no rows, which fwcheck_framebuffer_rows also answers 0. */
static void fwcheck_framebuffer_whole_needs_rows(void **state)
{
	struct framebuffer f = fb(800, 600, 800, 800 * 600 * 4);

	(void)state;
	assert_true(fwcheck_framebuffer_whole(&f));
	f.size--;
	assert_false(fwcheck_framebuffer_whole(&f));
	f = fb(800, 0, 800, 16u << 20);
	assert_false(fwcheck_framebuffer_whole(&f));
	assert_false(fwcheck_framebuffer_whole(&(struct framebuffer){ 0 }));
	f = tall(0x80000000, 16385);
	assert_false(fwcheck_framebuffer_whole(&f));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fwcheck_rsdp_good_v1),
		cmocka_unit_test(fwcheck_rsdp_good_v2),
		cmocka_unit_test(fwcheck_rsdp_bad_signature),
		cmocka_unit_test(fwcheck_rsdp_bad_v1_checksum),
		cmocka_unit_test(fwcheck_rsdp_bad_extended_checksum),
		cmocka_unit_test(fwcheck_rsdp_absurd_length),
		cmocka_unit_test(fwcheck_framebuffer_span_fits),
		cmocka_unit_test(fwcheck_framebuffer_smaller_is_clamped),
		cmocka_unit_test(fwcheck_framebuffer_zero_size),
		cmocka_unit_test(fwcheck_framebuffer_bad_shapes),
		cmocka_unit_test(fwcheck_framebuffer_window_clamps),
		cmocka_unit_test(fwcheck_framebuffer_both_bounds),
		cmocka_unit_test(fwcheck_framebuffer_past_phys_limit),
		cmocka_unit_test(fwcheck_framebuffer_whole_needs_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
