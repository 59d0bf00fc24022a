/*
 * console.c - kprintf: one formatter, two outputs (serial and screen).
 *
 * Formatting is gnu-efi's UnicodeVSPrint: it writes into a caller's
 * buffer and neither allocates nor touches boot services, so it is safe
 * after ExitBootServices.  (AsciiVSPrint is not: it allocates.)  We widen
 * our ASCII format to UCS-2, format, and narrow the result again.
 */
#include <efi.h>
#include <efilib.h>
#include "kernel.h"

#define LINE_MAX 512

static void put_both(char c)
{
	serial_putc(c);
	fbcon_putc(c);
}

void kputs(const char *s)
{
	while (*s)
		put_both(*s++);
}

void vkprintf(const char *fmt, va_list args)
{
	CHAR16 wfmt[LINE_MAX], out[LINE_MAX];
	size_t n = 0;

	for (; fmt[n] && n + 1 < LINE_MAX; n++)
		wfmt[n] = (unsigned char)fmt[n];
	wfmt[n] = 0;
	UnicodeVSPrint(out, sizeof(out), wfmt, args);
	for (size_t i = 0; out[i]; i++)
		put_both(out[i] < 0x80 ? (char)out[i] : '?');
}

void kprintf(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vkprintf(fmt, args);
	va_end(args);
}
