/*
 * lapic.c - the local APIC, each CPU's own interrupt controller, used
 * here for one thing: sending inter-processor interrupts (INIT, start-up,
 * NMI) and knowing who we are (the APIC id).
 *
 * Two ways to reach it (Intel SDM vol. 3, 11.4 and 11.12):
 *   xAPIC   registers in a 4 KiB MMIO page (0xFEE00000 unless moved);
 *           we map it uncached, identity, on the first CPU's call;
 *   x2APIC  the same registers as MSRs 0x800 + offset / 16, 32-bit
 *           APIC ids; used when CPUID.1:ECX.x2APIC says the CPU has it
 *           (or the firmware already turned it on).  Every CPU must then
 *           switch, since a CPU leaves INIT in xAPIC mode.
 */
#include "kernel.h"
#include "cpu.h"
#include "mmu.h"
#include "pagetable.h"
#include "smp.h"

#define MSR_APIC_BASE     0x1Bu
#define APIC_BASE_EXTD    (1ull << 10) /* x2APIC mode */
#define APIC_BASE_ENABLE  (1ull << 11)
#define APIC_BASE_ADDR    0xFFFFFF000ull
#define CPUID_ECX_X2APIC  (1u << 21)

#define REG_ID    0x020
#define REG_SVR   0x0F0
#define REG_ICR   0x300 /* low half; high half (xAPIC destination) at 0x310 */
#define REG_ICR_HI 0x310
#define SVR_ENABLE (1u << 8)
#define SPURIOUS_VECTOR 0xFF
#define ICR_BUSY  (1u << 12) /* xAPIC: delivery pending */
#define X2APIC_MSR(reg) (0x800u + (reg) / 16)

static bool x2apic;
static volatile uint32_t *mmio;

static uint32_t rd(uint32_t reg)
{
	return x2apic ? (uint32_t)rdmsr(X2APIC_MSR(reg)) : mmio[reg / 4];
}

static void wr(uint32_t reg, uint32_t v)
{
	if (x2apic)
		wrmsr(X2APIC_MSR(reg), v);
	else
		mmio[reg / 4] = v;
}

/* This CPU's APIC on, in the mode lapic_init chose. */
void lapic_enable_this_cpu(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE) | APIC_BASE_ENABLE;

	if (x2apic)
		base |= APIC_BASE_EXTD; /* xAPIC -> x2APIC is allowed; the reverse is not */
	wrmsr(MSR_APIC_BASE, base);
	wr(REG_SVR, SVR_ENABLE | SPURIOUS_VECTOR);
}

int lapic_init(void)
{
	uint32_t r[4];
	uint64_t base = rdmsr(MSR_APIC_BASE), pa = base & APIC_BASE_ADDR, got;

	cpuid(1, r);
	x2apic = (r[2] & CPUID_ECX_X2APIC) || (base & APIC_BASE_EXTD);
	if (!x2apic) {
		int err = pt_map(current_pml4(), pa, pa, PAGE_SIZE, VM_WRITE | VM_NOCACHE);
		if (err && !(pt_translate(current_pml4(), pa, &got, NULL) == 0 && got == pa))
			return err;
		mmio = (volatile uint32_t *)(uintptr_t)pa;
	}
	lapic_enable_this_cpu();
	return 0;
}

bool lapic_x2apic(void)
{
	return x2apic;
}

uint32_t lapic_id(void)
{
	return x2apic ? rd(REG_ID) : rd(REG_ID) >> 24;
}

/* Wait while the ICR says a send is pending, for at most ICR_WAIT_US
 * (a delivery takes microseconds): a stuck delivery status must not hang
 * the crash path, which sends the stop NMIs through here. */
#define ICR_WAIT_US 100000
static void wait_idle(void)
{
	uint64_t end = timer_us() + ICR_WAIT_US;

	while ((rd(REG_ICR) & ICR_BUSY) && timer_us() < end)
		cpu_relax();
}

/* Send an IPI: icr is the low half (vector, delivery mode, level). */
void lapic_send_ipi(uint32_t apic_id, uint32_t icr)
{
	if (x2apic) {
		/* WRMSR to the x2APIC is not serializing (Intel SDM 10.12.3):
		 * without the fence, the data this IPI announces (a shootdown's
		 * generation, a work sequence) may still sit in the store
		 * buffer when the target reads it, and it would do nothing. */
		__asm__ volatile("mfence; lfence" ::: "memory");
		wrmsr(X2APIC_MSR(REG_ICR), (uint64_t)apic_id << 32 | icr);
		return;
	}
	wait_idle();
	wr(REG_ICR_HI, apic_id << 24);
	wr(REG_ICR, icr); /* writing the low half sends it */
	wait_idle();
}
