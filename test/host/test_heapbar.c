/*
 * test_heapbar.c - host tests for kernel/heapbar.c: the heap picture,
 * drawn into a host buffer and read back pixel by pixel, as a person
 * (or the QEMU screendump test) would read the screen.
 */
#include <setjmp.h> /* cmocka.h needs these four first */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "heapbar.h"

#define REGION 65536
#define SENTINEL 0xDEADBEEFu

struct canvas {
	uint32_t *mem;
	struct pixbuf pb;
};

static struct canvas canvas(uint32_t w, uint32_t h, uint32_t stride, uint32_t format)
{
	struct canvas c = { malloc((size_t)stride * h * 4), { NULL, w, h, stride, format } };

	assert_non_null(c.mem);
	for (size_t i = 0; i < (size_t)stride * h; i++)
		c.mem[i] = SENTINEL;
	c.pb.px = c.mem;
	return c;
}

/* Pixels of the width x height picture in colour rgb. */
static uint64_t count(const struct canvas *c, uint32_t rgb)
{
	uint64_t n = 0;

	for (uint32_t y = 0; y < c->pb.height; y++)
		for (uint32_t x = 0; x < c->pb.width; x++)
			n += c->mem[(size_t)y * c->pb.stride + x] == pixel_of(c->pb.format, rgb);
	return n;
}

static uint32_t at(const struct canvas *c, uint64_t p)
{
	return c->mem[(size_t)(p / c->pb.width) * c->pb.stride + p % c->pb.width];
}

/* A heap of 24 blocks of mixed sizes with every third one freed. */
static unsigned char *busy_heap(struct heap *h)
{
	unsigned char *mem = aligned_alloc(4096, REGION);
	void *p[24];

	assert_non_null(mem);
	assert_int_equal(heap_init(h, mem, REGION), 0);
	for (int i = 0; i < 24; i++)
		assert_non_null(p[i] = heap_alloc(h, 100 + 90 * (size_t)(i % 7), 16));
	for (int i = 0; i < 24; i += 3)
		assert_int_equal(heap_free(h, p[i]), 0);
	return mem;
}

static int64_t diff(uint64_t a, uint64_t b)
{
	return a > b ? (int64_t)(a - b) : (int64_t)(b - a);
}

/* Expect every pixel drawn, the colours counted as heapbar says, and
 * used and free pixels within one pixel per run of their kind of what
 * heap_stats says at that scale (heapbar.c: "Scale"). */
static void heapbar_counts_agree_with_stats(void **state)
{
	struct heap h;
	unsigned char *mem = busy_heap(&h);
	struct canvas c = canvas(120, 9, 128, FB_BGRX);
	struct heapbar_counts n;
	uint64_t npx = 120 * 9, span;

	(void)state;
	assert_int_equal(heapbar_draw(&c.pb, &h, &n), 0);
	span = n.stats.size + n.stats.index_bytes;
	assert_int_equal(count(&c, RGB_HEAP_USED) + count(&c, RGB_HEAP_UHDR), n.used_px);
	assert_int_equal(count(&c, RGB_HEAP_FREE) + count(&c, RGB_HEAP_FHDR), n.free_px);
	assert_int_equal(count(&c, RGB_HEAP_INDEX), n.index_px);
	assert_int_equal(n.used_px + n.free_px + n.index_px, npx);
	assert_true(count(&c, RGB_HEAP_UHDR) > 0 && count(&c, RGB_HEAP_FHDR) > 0);
	assert_true(diff(n.used_px, n.stats.used * npx / span) <= (int64_t)n.stats.holes + 1);
	assert_true(diff(n.free_px, n.stats.free * npx / span) <= (int64_t)n.stats.holes);
	for (uint32_t y = 0; y < 9; y++) /* the stride's extra pixels are not ours */
		for (uint32_t x = 120; x < 128; x++)
			assert_int_equal(c.mem[y * 128 + x], SENTINEL);
	free(c.mem);
	free(mem);
}

/* Expect the same picture in both pixel formats, red and blue swapped:
 * a used pixel is bytes 20 80 E0 in BGRX memory order, E0 80 20 in RGBX. */
static void heapbar_both_pixel_formats(void **state)
{
	struct heap h;
	unsigned char *mem = busy_heap(&h);
	struct canvas bgr = canvas(64, 4, 64, FB_BGRX), rgb = canvas(64, 4, 64, FB_RGBX);
	struct heapbar_counts n;
	const uint8_t *b = (const uint8_t *)bgr.mem, *r = (const uint8_t *)rgb.mem;

	(void)state;
	assert_int_equal(heapbar_draw(&bgr.pb, &h, &n), 0);
	assert_int_equal(heapbar_draw(&rgb.pb, &h, &n), 0);
	for (size_t i = 0; i < 64 * 4; i++) {
		assert_int_equal(b[4 * i], r[4 * i + 2]);
		assert_int_equal(b[4 * i + 1], r[4 * i + 1]);
		assert_int_equal(b[4 * i + 2], r[4 * i]);
	}
	for (size_t i = 0; i < 64 * 4; i++)
		if (bgr.mem[i] == 0xE08020u) {
			assert_memory_equal(&b[4 * i], "\x20\x80\xE0", 3);
			assert_memory_equal(&r[4 * i], "\xE0\x80\x20", 3);
			break;
		}
	free(bgr.mem);
	free(rgb.mem);
	free(mem);
}

/* Expect |U a quarter|F the rest|index| to be drawn in address order:
 * a header pixel, used pixels to a quarter, then a hole's header and
 * free pixels, and the index at the end. */
static void heapbar_draws_in_address_order(void **state)
{
	struct heap h;
	unsigned char *mem = aligned_alloc(4096, REGION);
	struct canvas c = canvas(100, 10, 100, FB_BGRX);
	struct heapbar_counts n;
	struct heap_stats st;

	(void)state;
	assert_int_equal(heap_init(&h, mem, REGION), 0);
	heap_stats(&h, &st);
	assert_non_null(heap_alloc(&h, (st.size + st.index_bytes) / 4 - 16, 16));
	assert_int_equal(heapbar_draw(&c.pb, &h, &n), 0);
	assert_int_equal(at(&c, 0), RGB_HEAP_UHDR);
	assert_int_equal(at(&c, 1), RGB_HEAP_USED);
	assert_int_equal(at(&c, 249), RGB_HEAP_USED);
	assert_int_equal(at(&c, 250), RGB_HEAP_FHDR);
	assert_int_equal(at(&c, 251), RGB_HEAP_FREE);
	assert_int_equal(at(&c, 999), RGB_HEAP_INDEX);
	free(c.mem);
	free(mem);
}

/* Expect an uninitialised heap or an empty rectangle to be refused. */
static void heapbar_refuses_nothing_to_draw(void **state)
{
	struct heap h;
	struct canvas c = canvas(0, 0, 1, FB_BGRX);
	struct heapbar_counts n;
	unsigned char *mem = busy_heap(&h);

	(void)state;
	assert_int_equal(heapbar_draw(&c.pb, &h, &n), HEAP_EINVAL);
	memset(&h, 0, sizeof(h));
	c.pb.width = c.pb.height = 1;
	assert_int_equal(heapbar_draw(&c.pb, &h, &n), HEAP_EINVAL);
	free(c.mem);
	free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(heapbar_counts_agree_with_stats),
		cmocka_unit_test(heapbar_both_pixel_formats),
		cmocka_unit_test(heapbar_draws_in_address_order),
		cmocka_unit_test(heapbar_refuses_nothing_to_draw),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
