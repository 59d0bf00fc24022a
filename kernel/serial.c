/*
 * serial.c - COM1 (I/O port 0x3F8), 115200 baud 8N1, polled.
 *
 * The first thing the kernel sets up: it needs no memory, no interrupts
 * and no framebuffer, so every later step can report.  Polling (wait for
 * "transmit holding register empty" before each byte) keeps it usable
 * from panic and exception handlers.
 */
#include "kernel.h"
#include "cpu.h"

#define COM1 0x3F8
#define REG_DATA 0    /* with DLAB=1: divisor low byte */
#define REG_IER  1    /* with DLAB=1: divisor high byte */
#define REG_FCR  2
#define REG_LCR  3
#define REG_MCR  4
#define REG_LSR  5
#define REG_SCR  7
#define LSR_THR_EMPTY 0x20
#define LSR_DATA_READY 0x01
#define SPIN_LIMIT 100000 /* a missing or stuck UART must not hang us */

static bool present;

void serial_init(void)
{
	/* A UART has a scratch register; an absent one reads back 0xFF. */
	outb(COM1 + REG_SCR, 0x5A);
	present = inb(COM1 + REG_SCR) == 0x5A;
	if (!present)
		return;
	outb(COM1 + REG_IER, 0x00);  /* no interrupts: we poll */
	outb(COM1 + REG_LCR, 0x80);  /* DLAB on to set the divisor */
	outb(COM1 + REG_DATA, 0x01); /* 115200 / 1 */
	outb(COM1 + REG_IER, 0x00);
	outb(COM1 + REG_LCR, 0x03);  /* 8 data bits, no parity, 1 stop bit */
	outb(COM1 + REG_FCR, 0xC7);  /* FIFOs on and cleared */
	outb(COM1 + REG_MCR, 0x0B);  /* DTR, RTS, OUT2 */
}

static void put_raw(char c)
{
	for (int i = 0; i < SPIN_LIMIT && !(inb(COM1 + REG_LSR) & LSR_THR_EMPTY); i++)
		;
	outb(COM1 + REG_DATA, (uint8_t)c);
}

void serial_putc(char c)
{
	if (!present)
		return;
	if (c == '\n')
		put_raw('\r');
	put_raw(c);
}

/* No formatting, no screen: safe from a fault inside the report itself. */
void serial_puts_raw(const char *s)
{
	while (*s)
		serial_putc(*s++);
}

void serial_wait_key(void)
{
	while (present && !(inb(COM1 + REG_LSR) & LSR_DATA_READY))
		__builtin_ia32_pause();
	if (present)
		(void)inb(COM1 + REG_DATA);
}
