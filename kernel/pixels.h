/*
 * pixels.h - colours and rectangles of 32-bit pixels, for everything
 * that draws (fbcon.c, heapview.c).
 *
 * A colour is written 0xRRGGBB.  The framebuffer stores a pixel as four
 * bytes in memory order R,G,B,X (FB_RGBX) or B,G,R,X (FB_BGRX); read as a
 * little-endian uint32_t, BGRX is 0x00RRGGBB, our own notation, and RGBX
 * has red and blue swapped.  pixel_of() is the one place that knows.
 *
 * A struct pixbuf is any rectangle of such pixels: the screen, a part of
 * it, or a buffer of the host tests.  Drawing code takes one, so it never
 * needs to know where the pixels live.
 */
#ifndef PIXELS_H
#define PIXELS_H

#include <stdint.h>
#include "boot_info.h" /* enum fb_format */

/* The palette: what each colour means, not what it looks like. */
#define RGB_TEXT       0xC0C0C0u /* the console's light grey */
#define RGB_BLACK      0x000000u
#define RGB_WHITE      0xFFFFFFu
#define RGB_OK         0x33DD33u /* "ok", "run PASSED" */
#define RGB_BAD        0xFF4040u /* "not ok", "run FAILED" */
#define RGB_SKIP       0xE0C040u /* "# SKIP" */
#define RGB_ALERT_BG   0xB00000u /* behind a panic or exception report */
#define RGB_HEAP_USED  0xE08020u /* an allocated block */
#define RGB_HEAP_UHDR  0x804010u /* its header, where a block is wide enough to show one */
#define RGB_HEAP_FREE  0x205080u /* a hole */
#define RGB_HEAP_FHDR  0x4080C0u /* a hole's header */
#define RGB_HEAP_INDEX 0x8040A0u /* the heap's index: bitmap and tree */
#define RGB_PANEL      0x101018u /* the heap picture's background */

struct pixbuf {
	uint32_t *px;    /* pixel (0, 0) */
	uint32_t width;  /* pixels drawn per row */
	uint32_t height; /* rows */
	uint32_t stride; /* pixels from one row to the next: >= width */
	uint32_t format; /* enum fb_format: how a colour becomes a pixel */
};

/* The pixel value that shows colour rgb (0xRRGGBB) in this format. */
static inline uint32_t pixel_of(uint32_t format, uint32_t rgb)
{
	if (format == FB_RGBX)
		return (rgb >> 16 & 0xFF) | (rgb & 0xFF00) | (rgb & 0xFF) << 16;
	return rgb & 0xFFFFFF;
}

/* Fill the rectangle [x, x + w) x [y, y + h) of pb, clipped to it. */
static inline void pixbuf_fill(const struct pixbuf *pb, uint32_t x, uint32_t y, uint32_t w,
			       uint32_t h, uint32_t rgb)
{
	uint32_t v = pixel_of(pb->format, rgb);

	if (x >= pb->width || y >= pb->height)
		return;
	if (w > pb->width - x)
		w = pb->width - x;
	if (h > pb->height - y)
		h = pb->height - y;
	for (uint32_t r = y; r < y + h; r++)
		for (uint32_t c = x; c < x + w; c++)
			pb->px[(uint64_t)r * pb->stride + c] = v;
}

#endif
