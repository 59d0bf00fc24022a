/*
 * trampoline.S - where an application processor begins: real mode, at
 * the start of the page the start-up IPI named, CS = page number << 8,
 * IP = 0.  It climbs 16 -> 32 -> 64 bit and calls the kernel's C code.
 *
 * smp.c copies [trampoline_start, trampoline_end) to the page and fills
 * the data block (trampoline.h) before each start-up.  The code refers
 * to nothing by absolute address: in real mode DS = CS reaches the data
 * block; from 32-bit mode on, EBX holds the page's physical address.
 *
 * Why each step (docs/smp.md):
 *   16 bit  load the start-up GDT, set CR0.PE, far jump into 32 bits;
 *   32 bit  flat segments, CR4.PAE, CR3 = page 1 (a PML4 that a 32-bit
 *           register can name), EFER.LME (and NXE: our tables use bit
 *           63), then CR0.PG|WP with caches on (INIT leaves CD and NW
 *           set): long mode, still in 32-bit code;
 *   64 bit  the far jump to a 64-bit code segment; the kernel's own
 *           PML4 in CR3 (it maps this page too, identity), its stack,
 *           and a jump to ap_main(cpu).  ap_main loads the real GDT.
 */
#include "trampoline.h"

#define CR0_PE   0x00000001
#define CR0_WP   0x00010000
#define CR0_NW   0x20000000
#define CR0_CD   0x40000000
#define CR0_PG   0x80000000
#define CR4_PAE  0x00000020
#define MSR_EFER 0xC0000080

	.section .rodata
	.balign 16
	.globl trampoline_start, trampoline_end, trampoline_pm32, trampoline_lm64
	.hidden trampoline_start, trampoline_end, trampoline_pm32, trampoline_lm64

	.code16
trampoline_start:
	cli
	cld
	xorl %ebx, %ebx
	movw %cs, %bx
	shll $4, %ebx                   /* EBX = this page's physical address */
	movw %cs, %ax
	movw %ax, %ds
	lgdtl TRAMP_DATA + TD_GDTR
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl *(TRAMP_DATA + TD_FAR32)

	.code32
trampoline_pm32:
	movw $TSEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl TRAMP_DATA + TD_CR3_LOW(%ebx), %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl TRAMP_DATA + TD_EFER(%ebx), %eax
	wrmsr
	movl %cr0, %eax
	andl $~(CR0_CD | CR0_NW), %eax
	orl $(CR0_PG | CR0_WP), %eax
	movl %eax, %cr0
	ljmpl *TRAMP_DATA + TD_FAR64(%ebx)

	.code64
trampoline_lm64:
	movl %ebx, %ebx                 /* the upper half is undefined after the switch */
	movq TRAMP_DATA + TD_CR3(%rbx), %rax
	movq %rax, %cr3
	movq TRAMP_DATA + TD_STACK(%rbx), %rsp
	movq TRAMP_DATA + TD_ARG(%rbx), %rdi
	movq TRAMP_DATA + TD_ENTRY(%rbx), %rax
	xorl %ebp, %ebp
	pushq $0                        /* no return address: as if called */
	jmp *%rax
trampoline_end:

	.section .note.GNU-stack,"",@progbits
