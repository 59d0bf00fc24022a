/*
 * heapview.c - the kernel heap, drawn live at the top of the screen.
 *
 *   +--------------------------------------------------------------+
 *   | heap 0x444444440000  size 1008 KiB  used ...  free ...       |  two lines of
 *   | largest hole ...  fragmentation ...  [] used [] free ...     |  heap_stats
 *   | ############======########=================#########:::::::: |  the bar: every
 *   | ...                                                          |  block to scale
 *   | caption (a heapmap step)                                     |
 *   +--------------------------------------------------------------+
 *   | the console's text rows, scrolling below                     |
 *
 * heapbar.c draws the bar (pure, host-tested); this file places it,
 * writes the statistics beside it, and counts the cycles it all takes,
 * so the stress test can report what the picture costs it.  Nothing
 * here writes to serial unless pause=key asked for it, or the screen is
 * too small for the picture.
 */
#include "kernel.h"
#include "cpu.h"
#include "format.h"
#include "heapbar.h"
#include "layout.h" /* HEAP_START */

#define MARGIN 8        /* pixels around the panel's parts */
#define BAR_H 96        /* rows of the bar */
#define MIN_WIDTH 320   /* narrower screens get no picture */
#define TEXT_MAX 128

static struct {
	bool tried, shown;
	struct pixbuf panel, bar;
	uint32_t bar_x, bar_y;       /* the bar's place on the screen */
	struct heapbar_counts last;  /* what the last drawing showed */
	char caption[TEXT_MAX];
	uint64_t cycles, draws;
} view;

static uint32_t glyph_h(void)
{
	return fbcon_glyph_height();
}

/* The bar: a rectangle inside the panel, below the two lines of text. */
static void place_bar(void)
{
	view.bar_x = MARGIN;
	view.bar_y = MARGIN + 2 * glyph_h() + MARGIN / 2;
	view.bar = view.panel;
	view.bar.px += (uint64_t)view.bar_y * view.panel.stride + view.bar_x;
	view.bar.width = view.panel.width - 2 * MARGIN;
	view.bar.height = BAR_H;
}

void heapview_start(void)
{
	const struct boot_info *bi = kernel_boot_info();
	uint32_t need = 2 * MARGIN + 3 * glyph_h() + MARGIN + BAR_H;

	if (view.tried || !bi || bi->fb.format == FB_NONE || glyph_h() == 0)
		return;
	view.tried = true;
	if (bi->fb.width < MIN_WIDTH || fbcon_split(need, &view.panel) != 0) {
		kprintf("heapview: the screen (%ux%u) is too small for the heap picture; skipped\n",
			bi->fb.width, bi->fb.height);
		return;
	}
	view.shown = true;
	pixbuf_fill(&view.panel, 0, 0, view.panel.width, view.panel.height, RGB_PANEL);
	place_bar();
	heapview_update();
}

/* "12345 B", "1008 KiB" or "64 MiB": short enough for one line. */
static const char *human(char *buf, size_t len, uint64_t n)
{
	if (n < (64u << 10))
		format(buf, len, "%lu B", n);
	else if (n < (64u << 20))
		format(buf, len, "%lu KiB", n >> 10);
	else
		format(buf, len, "%lu MiB", n >> 20);
	return buf;
}

static void text_line(uint32_t y, const char *s)
{
	pixbuf_fill(&view.panel, 0, y, view.panel.width, glyph_h(), RGB_PANEL);
	fbcon_text(&view.panel, MARGIN, y, s, RGB_TEXT, RGB_PANEL);
}

/* A legend entry after the text of line y: a square of rgb, then what. */
static uint32_t legend(uint32_t x, uint32_t y, uint32_t rgb, const char *what)
{
	pixbuf_fill(&view.panel, x, y + 3, glyph_h() - 6, glyph_h() - 6, rgb);
	fbcon_text(&view.panel, x + glyph_h(), y, what, RGB_TEXT, RGB_PANEL);
	for (; *what; what++)
		x += FBCON_GLYPH_W;
	return x + glyph_h() + 2 * FBCON_GLYPH_W;
}

/* Fragmentation as 1 - largest_free / free, in tenths of a percent. */
static uint64_t frag_permille(const struct heap_stats *s)
{
	return s->free ? 1000 - s->largest_free * 1000 / s->free : 0;
}

static void draw_stats(const struct heap_stats *s)
{
	char line[TEXT_MAX], a[24], b[24], c[24];
	uint32_t y = MARGIN, x;
	int n;

	format(line, sizeof(line), "heap 0x%lX  size %s  used %s in %lu allocations  free %s in %lu holes",
	       (uint64_t)HEAP_START,
	       human(a, sizeof(a), s->size), human(b, sizeof(b), s->used), (uint64_t)s->allocations,
	       human(c, sizeof(c), s->free), (uint64_t)s->holes);
	text_line(y, line);
	y += glyph_h();
	n = format(line, sizeof(line), "largest hole %s  fragmentation %lu.%lu%%  index %s   ",
		   human(a, sizeof(a), s->largest_free), frag_permille(s) / 10, frag_permille(s) % 10,
		   human(b, sizeof(b), s->index_bytes));
	text_line(y, line);
	x = MARGIN + (uint32_t)n * FBCON_GLYPH_W;
	x = legend(x, y, RGB_HEAP_USED, "used");
	x = legend(x, y, RGB_HEAP_UHDR, "header");
	x = legend(x, y, RGB_HEAP_FREE, "free");
	legend(x, y, RGB_HEAP_INDEX, "index");
}

static void draw_locked(const struct heap *h, void *unused)
{
	(void)unused;
	heapbar_draw(&view.bar, h, &view.last);
}

void heapview_update(void)
{
	uint64_t t0;

	if (!view.shown)
		return;
	t0 = rdtsc();
	kheap_view(draw_locked, NULL);
	draw_stats(&view.last.stats);
	text_line(view.bar_y + BAR_H + MARGIN / 2, view.caption);
	view.cycles += rdtsc() - t0;
	view.draws++;
}

void heapview_caption(const char *text)
{
	format(view.caption, sizeof(view.caption), "%s", text);
	heapview_update();
}

void heapview_pause(const char *name)
{
	const struct heap_stats *s = &view.last.stats;

	if (!console_pausing())
		return;
	if (view.shown)
		kprintf("# heapview: bar %u %u %u %u size %lu index %lu used %lu free %lu "
			"holes %lu used_px %lu free_px %lu\n",
			view.bar_x, view.bar_y, view.bar.width, view.bar.height, (uint64_t)s->size,
			(uint64_t)s->index_bytes, (uint64_t)s->used, (uint64_t)s->free,
			(uint64_t)s->holes, view.last.used_px, view.last.free_px);
	console_pause(name);
}

uint64_t heapview_cycles(void)
{
	return view.cycles;
}

uint64_t heapview_draws(void)
{
	return view.draws;
}
