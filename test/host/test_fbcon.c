/*
 * test_fbcon.c - host tests for kernel/fbcon.c with Debian's console
 * font (build/obj/font.o): the console and the page-table layout agree
 * on the framebuffer's size.  The console draws into a host buffer of
 * exactly framebuffer_bytes() (ASan reports any byte past it), and
 * layout_build maps exactly that span (rounded out to pages) for the
 * same geometry, also when a scan line is wider than the screen.
 */
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fixtures/fixtures.h"
#include "frames.h"
#include "kernel.h"
#include "layout.h"
#include "mmu.h"
#include "pagetable.h"
#include "pixels.h"

#define FB_PA 0x80000000ull /* in the PCI hole of the map below */
#define MiB (1ull << 20)

/* width, height, stride: equal, wider scan lines, odd sizes. */
static const struct framebuffer geometries[] = {
	{ 0, 0, 1280, 800, 1280, FB_BGRX },
	{ 0, 0, 1280, 800, 1344, FB_BGRX },
	{ 0, 0, 1366, 768, 1376, FB_RGBX },
	{ 0, 0, 800, 600, 832, FB_BGRX },
	{ 0, 0, 1023, 767, 1024, FB_BGRX },
};

/* Expect every byte of [0, bytes) written (the console clears the whole
 * span at init) and some pixel of the last text row but one drawn (the
 * last newline scrolled the last one blank). */
static void draw_and_check(const struct framebuffer *geom)
{
	struct framebuffer fb = *geom;
	uint64_t bytes = framebuffer_bytes(&fb);
	uint8_t *buf = malloc(bytes); /* exactly: ASan guards the next byte */
	memset(buf, 0xAA, bytes);
	fb.base = (uint64_t)(uintptr_t)buf;
	fb.size = (uint64_t)fb.width * fb.height * 4; /* too small, as some firmware says */
	fbcon_init(&fb);
	for (int line = 0; line < 200; line++) {
		for (int c = 0; c < 300; c++) /* wraps, then scrolls */
			fbcon_putc((char)('!' + (line + c) % 90));
		fbcon_putc('\n');
	}
	for (uint64_t i = 0; i < bytes; i++)
		if (buf[i] == 0xAA)
			fail_msg("byte %lu of %lu never written", (unsigned long)i, (unsigned long)bytes);
	uint32_t *last_row = (uint32_t *)buf + (uint64_t)(fb.height / 16 - 2) * 16 * fb.stride;
	bool drawn = false;
	for (uint64_t i = 0; i < 16ull * fb.stride; i++)
		drawn |= last_row[i] != 0;
	assert_true(drawn);
	free(buf);
}

/* Expect the console to stay inside framebuffer_bytes() for every
 * geometry, stride > width included, and to reach its last byte. */
static void fbcon_draws_inside_framebuffer_bytes(void **state)
{
	(void)state;
	for (size_t g = 0; g < ROWS(geometries); g++)
		draw_and_check(&geometries[g]);
}

static const struct fix_row machine[] = {
	{ EFI_MEM_CONVENTIONAL, 0x1000, 0x9F, 0xF },
	{ EFI_MEM_CONVENTIONAL, MiB, 0x3F00, 0xF },
	{ EFI_MEM_LOADER_CODE, 64 * MiB, 0x40, 0xF },
};

/* Expect layout_build to map, for the same geometries, every byte of
 * [base, base + framebuffer_bytes) at fb_va onwards, and nothing from
 * the page after the last one. */
static void fbcon_and_layout_agree(void **state)
{
	(void)state;
	struct boot_info bi;
	for (size_t g = 0; g < ROWS(geometries); g++) {
		sim_phys_init(128 * MiB);
		map_build(&bi, machine, ROWS(machine), 48);
		assert_int_equal(frames_init(sim_list(&bi)), 0);
		bi.fb = geometries[g];
		bi.fb.base = FB_PA + 0x800 * (g % 2); /* page-aligned or not */
		struct layout_input in = { .map = sim_list(&bi), .boot = &bi, .text = { 64 * MiB, 64 * MiB + 0x1000 },
					   .kstack_size = 0x4000, .nx = true, .pat = true };
		struct layout_out out;
		assert_int_equal(layout_build(&in, &out), 0);
		uint64_t bytes = framebuffer_bytes(&bi.fb), pa;
		for (uint64_t off = 0; off < bytes; off += PAGE_SIZE) {
			assert_int_equal(pt_translate(out.pml4, out.fb_va + off, &pa, NULL), 0);
			assert_int_equal(pa, bi.fb.base + off);
		}
		assert_int_equal(pt_translate(out.pml4, out.fb_va + bytes - 1, &pa, NULL), 0);
		assert_int_equal(pa, bi.fb.base + bytes - 1);
		uint64_t end = (out.fb_va + bytes + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
		assert_false(pt_is_mapped(out.pml4, end));
		pt_free_space(out.pml4);
		frames_free_contig(out.kstack_phys, in.kstack_size / PAGE_SIZE);
		map_free(&bi);
		sim_phys_fini();
	}
}

/* A 640x480 console over a host buffer (stride 648), cleared. */
static uint32_t *small_console(uint32_t format)
{
	static const struct framebuffer geom = { 0, 0, 640, 480, 648, 0 };
	struct framebuffer fb = geom;
	uint32_t *buf = malloc(framebuffer_bytes(&fb));

	assert_non_null(buf);
	fb.base = (uint64_t)(uintptr_t)buf;
	fb.format = format;
	fbcon_init(&fb);
	return buf;
}

static uint64_t count_px(const uint32_t *buf, uint64_t from, uint64_t to, uint32_t v)
{
	uint64_t n = 0;

	for (uint64_t i = from; i < to; i++)
		n += buf[i] == v;
	return n;
}

/* Expect text after fbcon_set_colors in that colour, in both pixel
 * formats (red and blue swapped in RGBX), and nothing in the old one. */
static void fbcon_colours_in_both_formats(void **state)
{
	(void)state;
	for (uint32_t format = FB_RGBX; format <= FB_BGRX; format++) {
		uint32_t *buf = small_console(format);
		fbcon_set_colors(RGB_OK, RGB_BLACK);
		fbcon_putc('#');
		assert_true(count_px(buf, 0, 16 * 648, pixel_of(format, RGB_OK)) > 10);
		assert_int_equal(count_px(buf, 0, 16 * 648, pixel_of(format, RGB_TEXT)), 0);
		assert_int_equal(pixel_of(format, 0x112233), format == FB_RGBX ? 0x332211u : 0x112233u);
		fbcon_set_colors(RGB_TEXT, RGB_BLACK);
		free(buf);
	}
}

/* Expect fbcon_split to hand the top rows to a picture: the panel is
 * whole text rows, the last line printed moves below it, and 100 lines
 * of scrolling later not one panel pixel has changed. */
static void fbcon_split_keeps_text_below_the_panel(void **state)
{
	uint32_t *buf = small_console(FB_BGRX);
	struct pixbuf panel;
	uint32_t mark = 0x00123456;

	(void)state;
	fbcon_putc('#');
	assert_int_equal(fbcon_split(40, &panel), 0);
	assert_int_equal(panel.height, 48); /* 40 rounded up to three 16-pixel rows */
	assert_int_equal(panel.stride, 648);
	assert_ptr_equal(panel.px, buf);
	assert_true(count_px(buf, 48 * 648, 64 * 648, pixel_of(FB_BGRX, RGB_TEXT)) > 10);
	pixbuf_fill(&panel, 0, 0, panel.width, panel.height, mark);
	for (int line = 0; line < 100; line++)
		fbcon_putc('#'), fbcon_putc('\n');
	assert_int_equal(count_px(buf, 0, 48 * 648, mark), 640 * 48);
	assert_int_equal(fbcon_split(470, &panel), -1); /* no room left for text */
	free(buf);
}

/* Expect fbcon_text to draw inside its pixbuf only, clipped at its edge. */
static void fbcon_text_stays_inside_its_pixbuf(void **state)
{
	uint32_t *buf = small_console(FB_BGRX);
	struct pixbuf part = { buf + 648 * 100 + 100, 20, 16, 648, FB_BGRX };

	(void)state;
	fbcon_text(&part, 0, 0, "####", RGB_OK, RGB_PANEL);
	assert_true(count_px(buf, 0, 648 * 480, pixel_of(FB_BGRX, RGB_OK)) > 10);
	for (uint32_t y = 0; y < 480; y++)
		for (uint32_t x = 0; x < 648; x++)
			if (y < 100 || y >= 116 || x < 100 || x >= 116) /* two whole glyphs fit */
				assert_int_equal(buf[y * 648 + x] == pixel_of(FB_BGRX, RGB_OK), 0);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fbcon_draws_inside_framebuffer_bytes),
		cmocka_unit_test(fbcon_and_layout_agree),
		cmocka_unit_test(fbcon_colours_in_both_formats),
		cmocka_unit_test(fbcon_split_keeps_text_below_the_panel),
		cmocka_unit_test(fbcon_text_stays_inside_its_pixbuf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
