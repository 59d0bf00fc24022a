/*
 * fbcon.c - a text console on the GOP framebuffer.
 *
 * The glyphs come from a PSF1 console font (Debian's kbd package,
 * embedded by the Makefile as _binary_font_psf_*).  PSF1 stores glyphs
 * in the font's own order; its Unicode table says which glyph draws each
 * code point, so we build an ASCII-to-glyph map once.  The console
 * scrolls by copying pixel rows up.  No framebuffer: every call returns.
 */
#include "kernel.h"

extern const uint8_t _binary_font_psf_start[], _binary_font_psf_end[];

#define PSF1_MAGIC0 0x36
#define PSF1_MAGIC1 0x04
#define PSF1_MODE512 0x01
#define PSF1_MODEHASTAB 0x02
#define PSF1_SEPARATOR 0xFFFF
#define PSF1_STARTSEQ 0xFFFE
#define GLYPH_W 8
#define FG 0x00C0C0C0u /* light grey: the same in RGBX and BGRX */
#define BG 0x00000000u

static struct {
	volatile uint32_t *pixels;
	uint32_t width, height, stride;
	unsigned glyph_h, cols, rows, col, row;
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
	con.cols = con.width / GLYPH_W;
	con.rows = con.height / con.glyph_h;
	con.col = con.row = 0;
	if (con.cols == 0 || con.rows == 0 || con.width > con.stride)
		return; /* nothing sensible to draw on */
	con.pixels = (volatile uint32_t *)(uintptr_t)fb->base;
	for (uint64_t i = 0; i < framebuffer_bytes(fb) / 4; i++)
		con.pixels[i] = BG;
}

/* After the switch to our page tables the framebuffer lives elsewhere. */
void fbcon_relocate(uint64_t virt_base)
{
	if (con.pixels)
		con.pixels = (volatile uint32_t *)(uintptr_t)virt_base;
}

static void draw_glyph(unsigned char c, unsigned col, unsigned row)
{
	const uint8_t *g = con.glyphs + con.ascii_glyph[c & 0x7f] * con.glyph_h;
	volatile uint32_t *p = con.pixels + (uint64_t)row * con.glyph_h * con.stride + col * GLYPH_W;

	for (unsigned y = 0; y < con.glyph_h; y++, p += con.stride)
		for (unsigned x = 0; x < GLYPH_W; x++)
			p[x] = (g[y] & (0x80 >> x)) ? FG : BG;
}

static void scroll(void)
{
	uint64_t line = (uint64_t)con.glyph_h * con.stride;
	uint64_t keep = line * (con.rows - 1);

	for (uint64_t i = 0; i < keep; i++)
		con.pixels[i] = con.pixels[i + line];
	for (uint64_t i = keep; i < keep + line; i++)
		con.pixels[i] = BG;
	con.row = con.rows - 1;
}

void fbcon_putc(char c)
{
	if (!con.pixels)
		return;
	if (c == '\n' || con.col >= con.cols) {
		con.col = 0;
		if (++con.row >= con.rows)
			scroll();
		if (c == '\n')
			return;
	}
	if (c == '\r')
		return;
	draw_glyph((unsigned char)c, con.col++, con.row);
}
