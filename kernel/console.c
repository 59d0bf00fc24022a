/*
 * console.c - kprintf: one formatter, two outputs (serial and screen).
 *
 * Formatting is our own (format.c): it needs no buffer, no allocation
 * and no boot service, so it works from the first line after
 * ExitBootServices to the last line of a panic.  Each character goes to
 * both consoles as it is formatted, so no line is ever cut short.
 */
#include "format.h"
#include "kernel.h"

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
