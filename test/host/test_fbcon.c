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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fbcon_draws_inside_framebuffer_bytes),
		cmocka_unit_test(fbcon_and_layout_agree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
