/*
 * isr.S - entry stubs for the 32 CPU exceptions.
 *
 * Each stub is 16 bytes (idt.c computes its address from isr_stubs), makes
 * the stack look the same whether or not the CPU pushed an error code,
 * pushes its vector and jumps to the common path, which saves the general
 * registers into a struct trap_frame and calls exception_handler.  That
 * returns only for an NMI it has handled (a message from another CPU,
 * kernel/smp_ipi.c): then the registers come back and iretq resumes the
 * interrupted code, which also unblocks NMIs again.
 */
	.text
	.code64

	/* Vectors 8, 10-14, 17, 21, 29 and 30 push an error code (Intel SDM
	 * vol. 3, 6.13); the others get a 0 so the frame is the same. */
	.macro stub v
	.balign 16
	.if !((\v == 8) || ((\v >= 10) && (\v <= 14)) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30))
	pushq $0
	.endif
	pushq $\v
	jmp isr_common
	.endm

	.balign 16
	.globl isr_stubs
	.hidden isr_stubs
isr_stubs:
	.altmacro
	.set vec, 0
	.rept 32
	stub %vec
	.set vec, vec + 1
	.endr

isr_common:
	cld
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	movq %rsp, %rbx            /* callee-saved: the frame, to come back to */
	andq $-16, %rsp            /* the C ABI wants a 16-byte aligned stack */
	call exception_handler
	movq %rbx, %rsp            /* an NMI was handled: resume */
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp             /* the vector and error code */
	iretq

	/* void smp_halt_unless(const volatile uint32_t *word, uint32_t seen):
	 * sleep until an NMI (interrupts stay off), unless *word != seen.
	 * An NMI that lands anywhere from the compare to the hlt is made
	 * to return to smp_halt_end instead (smp_nmi), so a wake-up sent
	 * after the word changed is never slept through. */
	.globl smp_halt_unless, smp_halt_hlt, smp_halt_end
	.hidden smp_halt_unless, smp_halt_hlt, smp_halt_end
smp_halt_unless:
	cmpl %esi, (%rdi)
	jne smp_halt_end
smp_halt_hlt:
	hlt
smp_halt_end:
	ret

	.section .note.GNU-stack,"",@progbits
