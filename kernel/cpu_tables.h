/*
 * cpu_tables.h - the hardware facts behind our GDT, IDT and exception
 * report: selectors, vectors, and the frame isr.S pushes.  The functions
 * (gdt.c, idt.c, exceptions.c) are listed in kernel.h.
 */
#ifndef CPU_TABLES_H
#define CPU_TABLES_H

#include <stdint.h>
#include "kernel.h"

#define SEL_KERNEL_CODE 0x08
#define SEL_KERNEL_DATA 0x10
#define SEL_TSS         0x18
#define IST_DOUBLE_FAULT 1

#define VEC_NMI          2
#define VEC_DOUBLE_FAULT 8
#define VEC_PAGE_FAULT   14
#define NUM_EXCEPTIONS   32

/* What isr.S pushes, lowest address first: the frame a handler sees. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;           /* error_code 0 when none */
	uint64_t rip, cs, rflags, rsp, ss;     /* pushed by the CPU */
};

/* The 64-bit task-state segment: in a kernel without user mode it holds
 * only the interrupt stack table (IST1: the double-fault stack). */
struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

/* One CPU's GDT and TSS: every CPU needs its own TSS (loading one marks
 * its descriptor busy, and each CPU has its own double-fault stack), so
 * every CPU has its own GDT to point at it (gdt.c). */
struct cpu_gdt {
	uint64_t gdt[5]; /* null, code, data, TSS (two slots) */
	struct tss tss;
};

#endif
