/*
 * fbcon.c - a text console on the GOP framebuffer, in colour, and text
 * drawn anywhere on the screen.
 *
 * The glyphs come from a PSF1 console font (Debian's kbd package,
 * embedded by the Makefile as _binary_font_psf_*).  PSF1 stores glyphs
 * in the font's own order; its Unicode table says which glyph draws each
 * code point, so we build an ASCII-to-glyph map once.  The console
 * scrolls by copying pixel rows up.  fbcon_split gives the top of the
 * screen to a picture (heapview.c): the console then scrolls only the
 * text rows below it.  No framebuffer: every call returns.
 */
#include "kernel.h"
#include "pixels.h"

extern const uint8_t _binary_font_psf_start[], _binary_font_psf_end[];

#define PSF1_MAGIC0 0x36
#define PSF1_MAGIC1 0x04
#define PSF1_MODE512 0x01
#define PSF1_MODEHASTAB 0x02
#define PSF1_SEPARATOR 0xFFFF
#define PSF1_STARTSEQ 0xFFFE
#define ALERT_BAR 3     /* rows of red at the top and bottom in a report */
#define MIN_TEXT_ROWS 8 /* fbcon_split leaves at least this many */

static struct {
	volatile uint32_t *pixels;
	uint32_t width, height, stride, format;
	uint32_t fg, bg;       /* pixel values of the text's colours */
	bool alert;            /* a report: keep the red bars drawn */
	unsigned glyph_h, cols, rows, col, row;
	unsigned top;          /* the first text row; rows above belong to a picture */
	const uint8_t *glyphs;
	uint16_t ascii_glyph[128];
} con;

/* Map ASCII code points to glyph indexes from the PSF1 Unicode table. */
static void read_unicode_table(unsigned nglyphs, const uint8_t *table, const uint8_t *end)
{
	for (unsigned g = 0; g < nglyphs && table + 2 <= end; g++) {
		for (; table + 2 <= end; table += 2) {
			uint16_t u = (uint16_t)(table[0] | table[1] << 8);
			if (u == PSF1_SEPARATOR)
				break;
			if (u < 128 && u != PSF1_STARTSEQ)
				con.ascii_glyph[u] = (uint16_t)g;
		}
		table += 2;
	}
}

static bool load_font(void)
{
	const uint8_t *f = _binary_font_psf_start;
	unsigned nglyphs;

	if (_binary_font_psf_end - f < 4 || f[0] != PSF1_MAGIC0 || f[1] != PSF1_MAGIC1)
		return false;
	nglyphs = (f[2] & PSF1_MODE512) ? 512 : 256;
	con.glyph_h = f[3];
	con.glyphs = f + 4;
	for (unsigned c = 0; c < 128; c++)
		con.ascii_glyph[c] = (uint16_t)c; /* fonts without a table */
	if (f[2] & PSF1_MODEHASTAB)
		read_unicode_table(nglyphs, con.glyphs + nglyphs * con.glyph_h, _binary_font_psf_end);
	return con.glyph_h > 0;
}

void fbcon_init(const struct framebuffer *fb)
{
	con.pixels = NULL;
	if (fb->base == 0 || fb->format == FB_NONE || !load_font())
		return;
	/* Everything drawn lies in [base, base + framebuffer_bytes(fb)):
	 * rows below height, pixels of a row below stride.  The page tables
	 * map exactly that span (paging/layout.c uses the same function), so
	 * the two cannot disagree, whatever FrameBufferSize said. */
	con.width = fb->width;
	con.stride = fb->stride;
	con.height = fb->height;
	con.format = fb->format;
	con.fg = pixel_of(con.format, RGB_TEXT);
	con.bg = pixel_of(con.format, RGB_BLACK);
	con.alert = false;
	con.cols = con.width / FBCON_GLYPH_W;
	con.rows = con.height / con.glyph_h;
	con.col = con.row = con.top = 0;
	if (con.cols == 0 || con.rows == 0 || con.width > con.stride)
		return; /* nothing sensible to draw on */
	con.pixels = (volatile uint32_t *)(uintptr_t)fb->base;
	for (uint64_t i = 0; i < framebuffer_bytes(fb) / 4; i++)
		con.pixels[i] = con.bg;
}

/* After the switch to our page tables the framebuffer lives elsewhere. */
void fbcon_relocate(uint64_t virt_base)
{
	if (con.pixels)
		con.pixels = (volatile uint32_t *)(uintptr_t)virt_base;
}

/* Glyph c at p, rows stride pixels apart, in pixel values fg on bg. */
static void draw_glyph(volatile uint32_t *p, uint32_t stride, unsigned char c, uint32_t fg,
		       uint32_t bg)
{
	const uint8_t *g = con.glyphs + con.ascii_glyph[c & 0x7f] * con.glyph_h;

	for (unsigned y = 0; y < con.glyph_h; y++, p += stride)
		for (unsigned x = 0; x < FBCON_GLYPH_W; x++)
			p[x] = (g[y] & (0x80 >> x)) ? fg : bg;
}

static volatile uint32_t *row_start(unsigned row)
{
	return con.pixels + (uint64_t)row * con.glyph_h * con.stride;
}

/* Copy n text rows from row `from` to row `to` (either direction). */
static void move_rows(unsigned to, unsigned from, unsigned n)
{
	volatile uint32_t *d = row_start(to), *s = row_start(from);
	uint64_t len = (uint64_t)n * con.glyph_h * con.stride;

	if (to < from)
		for (uint64_t i = 0; i < len; i++)
			d[i] = s[i];
	else
		for (uint64_t i = len; i-- > 0;)
			d[i] = s[i];
}

static void clear_rows(unsigned row, unsigned n)
{
	volatile uint32_t *p = row_start(row);

	for (uint64_t i = 0; i < (uint64_t)n * con.glyph_h * con.stride; i++)
		p[i] = con.bg;
}

static void scroll(void)
{
	move_rows(con.top, con.top + 1, con.rows - 1 - con.top);
	clear_rows(con.rows - 1, 1);
	con.row = con.rows - 1;
}

/* The red bars of a report, across the top and the bottom of the
 * screen, where no text goes: the panel's margin, the last row's
 * blank lower pixels. */
static void draw_alert_bars(void)
{
	struct pixbuf s = { (uint32_t *)(uintptr_t)con.pixels, con.width, con.height, con.stride,
			    con.format };

	pixbuf_fill(&s, 0, 0, con.width, ALERT_BAR, RGB_ALERT_BG);
	pixbuf_fill(&s, 0, con.height - ALERT_BAR, con.width, ALERT_BAR, RGB_ALERT_BG);
}

void fbcon_putc(char c)
{
	if (!con.pixels)
		return;
	if (c == '\n' || con.col >= con.cols) {
		con.col = 0;
		if (++con.row >= con.rows)
			scroll();
		if (con.alert) {
			clear_rows(con.row, 1); /* a report's rows are red edge to edge */
			draw_alert_bars();      /* a scroll moved the top one */
		}
		if (c == '\n')
			return;
	}
	if (c == '\r')
		return;
	if (con.row >= con.rows) /* another CPU mid-scroll: only if a stop NMI came late */
		scroll();
	draw_glyph(row_start(con.row) + con.col++ * FBCON_GLYPH_W, con.stride, (unsigned char)c, con.fg,
		   con.bg);
}

void fbcon_set_colors(uint32_t fg_rgb, uint32_t bg_rgb)
{
	con.fg = pixel_of(con.format, fg_rgb);
	con.bg = pixel_of(con.format, bg_rgb);
}

void fbcon_alert(void)
{
	if (!con.pixels)
		return;
	con.alert = true;
	fbcon_set_colors(RGB_WHITE, RGB_ALERT_BG);
	if (con.col == 0)
		clear_rows(con.row, 1);
	draw_alert_bars();
}

/* The last lines of text move down (or up) to start at text row top,
 * so what was just printed stays in view below the picture. */
int fbcon_split(uint32_t top_px, struct pixbuf *panel)
{
	unsigned top, keep;

	if (!con.pixels || con.glyph_h == 0)
		return -1;
	top = (top_px + con.glyph_h - 1) / con.glyph_h;
	if (top != con.top) {
		if (top + MIN_TEXT_ROWS > con.rows)
			return -1;
		keep = con.row + 1 - con.top;
		if (keep > con.rows - top)
			keep = con.rows - top;
		move_rows(top, con.row + 1 - keep, keep);
		con.row = top + keep - 1;
		if (con.row + 1 < con.rows)
			clear_rows(con.row + 1, con.rows - con.row - 1);
		con.top = top;
	}
	*panel = (struct pixbuf){ (uint32_t *)(uintptr_t)con.pixels, con.width,
				  top * con.glyph_h, con.stride, con.format };
	return 0;
}

void fbcon_text(const struct pixbuf *pb, uint32_t x, uint32_t y, const char *s, uint32_t fg_rgb,
		uint32_t bg_rgb)
{
	uint32_t fg = pixel_of(pb->format, fg_rgb), bg = pixel_of(pb->format, bg_rgb);

	if (!con.glyphs || y + con.glyph_h > pb->height)
		return;
	for (; *s && x + FBCON_GLYPH_W <= pb->width; s++, x += FBCON_GLYPH_W)
		draw_glyph(pb->px + (uint64_t)y * pb->stride + x, pb->stride, (unsigned char)*s, fg, bg);
}

unsigned fbcon_glyph_height(void)
{
	return con.glyphs ? con.glyph_h : 0;
}
