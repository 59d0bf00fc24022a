/*
 * kernel.h - the kernel's public API at a glance, grouped by file
 * (the xv6 defs.h idea).  Everything here runs after ExitBootServices:
 * nothing in kernel/ calls a boot service.
 */
#ifndef KERNEL_H
#define KERNEL_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "boot_info.h" /* the contract: struct boot_info, kernel_main */

#define NORETURN __attribute__((noreturn))
/* printf-like: the compiler checks each call's arguments against fmt. */
#define PRINTF(fmt_arg, first_arg) __attribute__((format(printf, fmt_arg, first_arg)))

/* main.c (kernel_main and kernel_handoff_failed: see boot_info.h) */
const struct boot_info *kernel_boot_info(void);

/* handoff.c: 0 when the kernel can read *bi (this kernel's
 * BOOT_INFO_VERSION and size), else -1 with a one-line reason in
 * why[0..len).  Pure: the host tests build it. */
int handoff_check(const struct boot_info *bi, char *why, size_t len);

/* serial.c: COM1, 115200 8N1, polled; works with no framebuffer */
void serial_init(void);
void serial_putc(char c);
void serial_puts_raw(const char *s);

/* fbcon.c: text on the GOP framebuffer, if there is one */
void fbcon_init(const struct framebuffer *fb);
void fbcon_putc(char c);
void fbcon_relocate(uint64_t virt_base);

/* console.c: formatted output to serial and screen.  The format is C's
 * printf for integers, characters and strings (format.h): uint64_t is
 * unsigned long, so %lu and %lx (%lX for the upper-case hex we print). */
void kprintf(const char *fmt, ...) PRINTF(1, 2);
void vkprintf(const char *fmt, __builtin_va_list args) PRINTF(1, 0);
void kputs(const char *s);

/* panic.c: a broken invariant.  Prints the reason and ends the run with
 * a failure status (exit=qemu: QEMU exits 35). */
NORETURN void panic(const char *fmt, ...) PRINTF(1, 2);

/* finish.c: end the run as boot_options.exit says. */
NORETURN void finish(bool passed);

/* demo.c: the blog_os "Heap Allocation" demo, in C */
void demo(void);

/* crash.c: `crash KIND` provokes a CPU exception to show its report */
NORETURN void crash(enum crash_kind kind);

/* memsummary.c */
void memsummary_print(const struct boot_info *bi);
/* Every descriptor as FIX(type, start, pages, attribute): the row format
 * of the host tests' fixtures (test/host/fixtures/capture.py); then each
 * entry of the memory attributes table, if any, as MAT(...). */
void memsummary_print_rows(const struct boot_info *bi);
/* What the frame allocator took of the map's conventional memory: every
 * page is managed, bookkeeping, or counted as left out (page 0, pages
 * another descriptor also claims). */
void memsummary_print_frames(const struct boot_info *bi);

#endif
