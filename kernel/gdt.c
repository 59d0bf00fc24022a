/*
 * gdt.c - our own GDT and TSS.
 *
 * OVMF's GDT lives in boot-services memory (which we will reuse) and its
 * code selector is 0x38, so we load a table of our own:
 *
 *   0x00 null   0x08 kernel code (64-bit)   0x10 kernel data   0x18 TSS
 *
 * The TSS matters for one thing in a kernel without user mode: the
 * interrupt stack table.  IST1 is the double-fault stack, so a kernel
 * stack overflow (a #PF on the guard page that cannot push its frame)
 * lands on a good stack and gets reported instead of triple-faulting.
 * Every CPU has its own GDT and TSS (struct cpu_gdt): the boot CPU's
 * is here, the others' in their struct cpu (smp.c).
 */
#include "kernel.h"
#include "cpu_tables.h"

static struct cpu_gdt boot_cpu; /* the boot CPU's; the others': smp.c */

#define SEG_PRESENT  (1ull << 47)
#define SEG_CODEDATA (1ull << 44) /* S: a code or data segment */
#define SEG_EXEC     (1ull << 43)
#define SEG_RW       (1ull << 41) /* readable code / writable data */
#define SEG_LONG     (1ull << 53) /* L: 64-bit code */
#define TSS_AVAIL64  (0x9ull << 40)

static void set_tss_descriptor(uint64_t *gdt, uint64_t base, uint32_t limit)
{
	gdt[3] = SEG_PRESENT | TSS_AVAIL64 | (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) |
		 (((uint64_t)limit >> 16 & 0xF) << 48) | ((base >> 24 & 0xFF) << 56);
	gdt[4] = base >> 32;
}

void gdt_init(uint64_t double_fault_stack_top)
{
	gdt_init_cpu(&boot_cpu, double_fault_stack_top);
}

void gdt_init_cpu(struct cpu_gdt *c, uint64_t double_fault_stack_top)
{
	uint64_t *gdt = c->gdt;
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) gdtr = { sizeof(c->gdt) - 1, (uint64_t)(uintptr_t)gdt };

	gdt[1] = SEG_PRESENT | SEG_CODEDATA | SEG_EXEC | SEG_RW | SEG_LONG;
	gdt[2] = SEG_PRESENT | SEG_CODEDATA | SEG_RW;
	c->tss.ist[IST_DOUBLE_FAULT - 1] = double_fault_stack_top;
	c->tss.iomap_base = sizeof(c->tss); /* no I/O permission bitmap */
	set_tss_descriptor(gdt, (uint64_t)(uintptr_t)&c->tss, sizeof(c->tss) - 1);

	__asm__ volatile("lgdt %0" : : "m"(gdtr));
	/* Reload CS with a far return, then the data segments. */
	__asm__ volatile("pushq %[cs]\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w[ds], %%ax\n\t"
			 "movw %%ax, %%ds\n\t"
			 "movw %%ax, %%es\n\t"
			 "movw %%ax, %%ss\n\t"
			 "movw %%ax, %%fs\n\t"
			 "movw %%ax, %%gs\n\t"
			 : : [cs] "i"(SEL_KERNEL_CODE), [ds] "i"(SEL_KERNEL_DATA) : "rax", "memory");
	__asm__ volatile("ltr %w0" : : "r"(SEL_TSS));
}

void gdt_set_ist(int ist, uint64_t stack_top)
{
	boot_cpu.tss.ist[ist - 1] = stack_top;
}

uint64_t gdt_ist_stack(int ist)
{
	return boot_cpu.tss.ist[ist - 1];
}
