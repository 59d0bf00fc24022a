/*
 * kernel.h - the kernel's public API at a glance, grouped by file
 * (the xv6 defs.h idea).  Everything here runs after ExitBootServices:
 * nothing in kernel/ calls a boot service.  Types and hardware facts
 * live in their own headers: cpu.h (instructions), cpu_tables.h
 * (selectors, vectors, the trap frame), kheap.h, vm.h; format.h is the
 * printf engine console.c uses, selftest.h the self-test harness.
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

struct trap_frame;  /* cpu_tables.h */
struct kheap_usage; /* kheap.h */
struct heap_stats;  /* heap/heap.h */
struct heap;        /* heap/heap.h */
struct vm_info;     /* vm.h */
struct memblock;    /* paging/memblock.h */
struct pixbuf;      /* pixels.h */

/* main.c (kernel_main and kernel_handoff_failed: see boot_info.h) */
const struct boot_info *kernel_boot_info(void);
/* The memory map as the list of typed ranges kernel_main read it into
 * (paging/memblock.h): what every later user of the map reads. */
const struct memblock *kernel_memblock(void);

/* handoff.c: 0 when the kernel can read *bi (this kernel's
 * BOOT_INFO_VERSION and size), else -1 with a one-line reason in
 * why[0..len).  Pure: the host tests build it. */
int handoff_check(const struct boot_info *bi, char *why, size_t len);

/* serial.c: COM1, 115200 8N1, polled; works with no framebuffer */
void serial_init(void);
void serial_putc(char c);
void serial_puts_raw(const char *s);
/* Wait for one byte to arrive on COM1 and drop it; returns at once when
 * there is no UART. */
void serial_wait_key(void);

/* fbcon.c: text on the GOP framebuffer, if there is one */
void fbcon_init(const struct framebuffer *fb);
void fbcon_putc(char c);
void fbcon_relocate(uint64_t virt_base);
#define FBCON_GLYPH_W 8 /* PSF1 glyphs are 8 pixels wide */
/* Text colours from now on, 0xRRGGBB (pixels.h's palette). */
void fbcon_set_colors(uint32_t fg_rgb, uint32_t bg_rgb);
/* A panic or exception report follows: white on red text for the rest
 * of the run, and red bars across the top and bottom of the screen. */
void fbcon_alert(void);
/* Give the screen's top top_px pixels (rounded up to whole text rows) to
 * a picture: *panel describes them, and the console keeps its last lines
 * and scrolls only the rows below.  Returns 0, or -1 (nothing changes)
 * with no framebuffer or too little screen left for text. */
int fbcon_split(uint32_t top_px, struct pixbuf *panel);
/* Draw s at pixel (x, y) of pb in the console's font; clipped to pb. */
void fbcon_text(const struct pixbuf *pb, uint32_t x, uint32_t y, const char *s, uint32_t fg_rgb,
		uint32_t bg_rgb);
/* Pixels per text row, 0 without a font. */
unsigned fbcon_glyph_height(void);

/* gdt.c: our GDT and TSS (selectors: cpu_tables.h) */
struct cpu_gdt;     /* cpu_tables.h */
void gdt_init(uint64_t double_fault_stack_top); /* the boot CPU's */
/* Fill *c (this CPU's GDT and TSS, IST1 = double_fault_stack_top), load
 * it, reload every segment register, load the TSS. */
void gdt_init_cpu(struct cpu_gdt *c, uint64_t double_fault_stack_top);
void gdt_set_ist(int ist, uint64_t stack_top); /* IST1..7 */
uint64_t gdt_ist_stack(int ist);

/* idt.c */
void idt_init(void);
void idt_load(void); /* load the table idt_init filled: the other CPUs */

/* exceptions.c: called by isr.S; reports and ends the run */
void exception_handler(struct trap_frame *f);
/* A guard page to name in a #PF/#DF report (the kernel stack's). */
void exceptions_set_guard(uint64_t guard_va);

/* console.c: formatted output to serial and screen.  The format is C's
 * printf for integers, characters and strings (format.h): uint64_t is
 * unsigned long, so %lu and %lx (%lX for the upper-case hex we print). */
void kprintf(const char *fmt, ...) PRINTF(1, 2);
void vkprintf(const char *fmt, __builtin_va_list args) PRINTF(1, 0);
void kputs(const char *s);
/* What a line means, shown in colour: on screen always, on serial only
 * after console_serial_color(true) (the color=on option). */
enum con_color { CON_NORMAL, CON_OK, CON_BAD, CON_SKIP };
void console_color(enum con_color c);
void console_serial_color(bool on);
/* A panic or exception report follows: white on red from now on (and
 * red bars on the screen), whatever console_color says later. */
void console_alert(void);
/* With pause=key: print "# screen: paused NAME" once the screen shows
 * everything drawn so far, and wait for a key on serial, so a test can
 * take a screendump of exactly this moment.  Otherwise does nothing. */
void console_pause(const char *name);
/* True when pause=key is on: console_pause will wait. */
bool console_pausing(void);

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
/* The framebuffer, ACPI, runtime services, and the map as mb lists it. */
void memsummary_print(const struct boot_info *bi, const struct memblock *mb);
/* Every descriptor as FIX(type, start, pages, attribute): the row format
 * of the host tests' fixtures (test/host/fixtures/capture.py); then each
 * entry of the memory attributes table, if any, as MAT(...).  Only while
 * the map is still raw: before memblock_build turns it into the list. */
void memsummary_print_rows(const struct boot_info *bi);
/* What the frame allocator took of the list's free memory: every page
 * is managed, bookkeeping, or counted as left out (page 0). */
void memsummary_print_frames(const struct memblock *mb);

/* vm.c: our page tables (paging/), and the switch to them */
/* Build our page tables and switch to them: CR3, a fresh stack with a
 * guard page, then call next() on it.  Never returns.  Panics on
 * failure: without our tables the kernel cannot go on. */
NORETURN void vm_init_and_switch(const struct boot_info *bi, const struct memblock *mb,
				 void (*next)(void));
const struct vm_info *vm_info(void);
/* Give boot-services memory to the frame allocator (paging/reclaim.h)
 * and print what it gained.  Call once, on our own tables and stack:
 * from then on nothing of the firmware's boot-time state exists. */
void vm_reclaim_boot_services(void);
/* Frames that are neither free, behind the heap window, a page table nor
 * a stack of the layout: 0 when every frame is accounted for. */
int64_t vm_frames_unaccounted(void);
/* Print the table of regions layout_build mapped. */
void vm_print_layout(void);

/* smp_ipi.c: drop [va, va + size) from this CPU's TLB and every other
 * online CPU's, and return when all have.  Call after changing or
 * removing a mapping others may have used (pagetable.h leaves it to
 * the caller).  Safe with any lock held: it interrupts by NMI. */
void tlb_shootdown(uint64_t va, uint64_t size);

/* kheap.c: the kernel heap (design: kheap.h) */
/* Map `size` bytes (rounded up to pages) at HEAP_START and start the
 * heap there.  Returns 0, or < 0 when frames or mappings run out. */
int kheap_init(uint64_t size);
void *kmalloc(size_t size);                      /* 16-byte aligned, or NULL */
void *kzalloc(size_t size);                      /* kmalloc + zero-fill */
void *kmalloc_aligned(size_t size, size_t align); /* align: a power of two */
void *krealloc(void *ptr, size_t size);          /* C realloc semantics */
void kfree(void *ptr);                           /* bad pointer: panic */
/* krealloc of a pointer the heap did not hand out (or freed) panics too. */
void kheap_usage(struct kheap_usage *out);
/* Full statistics and the invariant walk, under the lock. */
void kheap_stats(struct heap_stats *out);
int kheap_check(void);
/* Call view(heap, ctx) with the lock held: a consistent look at the whole
 * heap (heap_stats, heap_walk).  view must not allocate or free. */
void kheap_view(void (*view)(const struct heap *h, void *ctx), void *ctx);

/* heapmap.c: `heapmap`, a scripted heap session drawn step by step, as
 * KTAP; true when every step passed. */
bool heapmap_run(void);

/* heapview.c: the heap picture at the top of the screen (heapbar.c) */
/* Give the top of the screen to the picture and draw it; once per run.
 * A screen too small for it gets one line saying so, and no picture. */
void heapview_start(void);
/* Redraw the picture and the statistics beside it, if it is shown. */
void heapview_update(void);
/* The line under the picture (a heapmap step), then a redraw. */
void heapview_caption(const char *text);
/* With pause=key: print the statistics and geometry the picture was last
 * drawn from ("# heapview: ...", if there is a picture), then
 * console_pause(name). */
void heapview_pause(const char *name);
/* Cycles spent drawing so far, and pictures drawn (for the figures). */
uint64_t heapview_cycles(void);
uint64_t heapview_draws(void);
/* How often the heap's lock was taken, and how often the taker had to
 * wait for another CPU (since boot). */
void kheap_lock_counts(uint64_t *acquired, uint64_t *contended);

#endif
