/*
 * idt.c - the interrupt descriptor table: a gate for each CPU exception.
 *
 * Every gate is an interrupt gate (interrupts stay off in the handler)
 * into a stub in isr.S.  The double fault switches to IST1 (see gdt.c).
 * Hardware interrupts stay masked: we never execute sti.
 */
#include "kernel.h"
#include "cpu_tables.h"

struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} __attribute__((packed));

#define GATE_INTERRUPT 0x8E /* present, ring 0, 64-bit interrupt gate */
#define STUB_SIZE 16

extern const char isr_stubs[];
static struct idt_gate idt[256];

static void set_gate(int vector, uint64_t handler, uint8_t ist)
{
	struct idt_gate *g = &idt[vector];

	g->offset_low = handler & 0xFFFF;
	g->selector = SEL_KERNEL_CODE;
	g->ist = ist;
	g->type_attr = GATE_INTERRUPT;
	g->offset_mid = (handler >> 16) & 0xFFFF;
	g->offset_high = handler >> 32;
	g->reserved = 0;
}

void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };

	__asm__ volatile("lidt %0" : : "m"(idtr));
}

void idt_init(void)
{
	for (int v = 0; v < NUM_EXCEPTIONS; v++) {
		uint8_t ist = v == VEC_DOUBLE_FAULT ? IST_DOUBLE_FAULT : 0;
		set_gate(v, (uint64_t)(uintptr_t)(isr_stubs + v * STUB_SIZE), ist);
	}
	idt_load();
}
