/*
 * console.c - kprintf: one formatter, two outputs (serial and screen).
 *
 * Formatting is our own (format.c): it needs no buffer, no allocation
 * and no boot service, so it works from the first line after
 * ExitBootServices to the last line of a panic.  Each character goes to
 * both consoles as it is formatted, so no line is ever cut short.
 *
 * Colour: the screen always shows it; serial carries ANSI colour codes
 * only when the user asked (color=on), so by default its bytes are plain
 * text that the test judge reads as it always did.
 */
#include "format.h"
#include "kernel.h"
#include "pixels.h"

static bool serial_color; /* color=on */
static bool alerted;      /* a report is on screen: its colours stay */

static const struct {
	uint32_t rgb;
	const char *ansi;
} colors[] = {
	[CON_NORMAL] = { RGB_TEXT, "\x1b[0m" },
	[CON_OK] = { RGB_OK, "\x1b[32m" },
	[CON_BAD] = { RGB_BAD, "\x1b[31m" },
	[CON_SKIP] = { RGB_SKIP, "\x1b[33m" },
};

static void put_both(char c)
{
	serial_putc(c);
	fbcon_putc(c);
}

static void emit_both(char c, void *unused)
{
	(void)unused;
	put_both(c);
}

void kputs(const char *s)
{
	while (*s)
		put_both(*s++);
}

void vkprintf(const char *fmt, va_list args)
{
	vformat_to(emit_both, NULL, fmt, args);
}

void kprintf(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vkprintf(fmt, args);
	va_end(args);
}

void console_serial_color(bool on)
{
	serial_color = on;
}

void console_color(enum con_color c)
{
	if (alerted)
		return;
	fbcon_set_colors(colors[c].rgb, RGB_BLACK);
	if (serial_color)
		serial_puts_raw(colors[c].ansi);
}

void console_alert(void)
{
	if (alerted)
		return;
	alerted = true;
	fbcon_alert();
	if (serial_color)
		serial_puts_raw("\x1b[1;37;41m");
}

/* "# screen: paused NAME\n" to one console.  The screen gets it first,
 * its scroll included: a test that reads the line on serial then finds
 * the screen finished. */
static void emit_marker(void (*put)(char), const char *name)
{
	for (const char *s = "# screen: paused "; *s; s++)
		put(*s);
	for (; *name; name++)
		put(*name);
	put('\n');
}

bool console_pausing(void)
{
	const struct boot_info *bi = kernel_boot_info();

	return bi && (bi->opts.screen & BOOT_SCREEN_PAUSE_KEY);
}

void console_pause(const char *name)
{
	if (!console_pausing())
		return;
	/* The framebuffer is mapped write-combining: drain the CPU's write
	 * buffers, so the picture is on the screen before we say it is.
	 * QEMU's screendump reads the framebuffer when serial shows the
	 * line, whatever the CPU is doing then. */
	__asm__ volatile("sfence" ::: "memory");
	emit_marker(fbcon_putc, name);
	__asm__ volatile("sfence" ::: "memory");
	emit_marker(serial_putc, name);
	serial_wait_key();
}
