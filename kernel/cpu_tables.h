/*
 * cpu_tables.h - our GDT selectors, the IDT, and the CPU exception report.
 */
#ifndef CPU_TABLES_H
#define CPU_TABLES_H

#include <stdint.h>

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

/* gdt.c */
void gdt_init(uint64_t double_fault_stack_top);
void gdt_set_ist(int ist, uint64_t stack_top); /* IST1..7 */
uint64_t gdt_ist_stack(int ist);

/* idt.c */
void idt_init(void);

/* exceptions.c: called by isr.S; reports and ends the run */
void exception_handler(struct trap_frame *f);
/* A guard page to name in a #PF/#DF report (the kernel stack's). */
void exceptions_set_guard(uint64_t guard_va);

#endif
