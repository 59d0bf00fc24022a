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

#endif
