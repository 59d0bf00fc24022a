/*
 * smp.c - find the machine's CPUs in the ACPI MADT and start them.
 *
 * The boot story for the other CPUs (the "application processors"),
 * docs/smp.md in full:
 *   1. smp_find_cpus, still on the firmware's identity map: RSDP ->
 *      XSDT/RSDT -> MADT (acpi.c), every table checked.
 *   2. smp_start, on our own tables: the local APIC (lapic.c), the TSC
 *      against the PIT (timer.c), then the trampoline: its code copied
 *      into the two pages the loader kept below 1 MiB, the code page
 *      identity-mapped read+execute, our PML4 copied into page 1.
 *   3. For each enabled processor, one at a time: stacks with guard
 *      pages, the trampoline's data block pointed at them, then
 *      INIT, 10 ms, SIPI, 200 us, SIPI if it has not answered yet (the
 *      sequence of Intel SDM vol. 3, 9.4.4), and a bounded wait for it
 *      to say it is online.  One that does not answer gets INIT again
 *      (so it cannot wake later on a trampoline set up for another CPU)
 *      and is left alone.
 *   4. The trampoline's identity mapping is removed from every CPU's TLB.
 * Each AP then runs ap_main: our GDT with its own TSS, our IDT, the PAT,
 * global pages, GS = its struct cpu, its APIC on; then smp_idle.
 */
#include "smp.h"
#include "acpi.h"
#include "cpu.h"
#include "kmap.h"
#include "memblock.h"
#include "mmu.h"
#include "pagetable.h"
#include "phys.h"
#include "trampoline.h"
#include "vm.h"

#define INIT_WAIT_US    10000   /* INIT to first SIPI: 10 ms */
#define SIPI_WAIT_US    200     /* between the two SIPIs */
#define ONLINE_WAIT_US  2000000u/* then up to 2 s: TCG with 8 vCPUs on 2 cores is slow */

extern const char trampoline_start[], trampoline_end[], trampoline_pm32[], trampoline_lm64[];

static struct acpi_madt madt;
static const char *madt_problem = "not read yet";
static char madt_bad[5];
static enum cpu_state state[ACPI_MAX_CPUS];
static uint8_t index_of[ACPI_MAX_CPUS];      /* CPU index, when online */
static struct cpu cpus[SMP_MAX_CPUS];
static unsigned online = 1;
static uint64_t trampoline;                   /* physical; 0: none */
static uint64_t first_sipi_us, last_online_us;
bool smp_ready;                               /* GS base holds a struct cpu */

void smp_init_boot_cpu(void)
{
	cpus[0].self = &cpus[0];
	cpus[0].online = 1;
	wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)&cpus[0]);
	smp_ready = true;
}

unsigned smp_cpus_online(void) { return online; }
struct cpu *smp_cpu(unsigned index) { return index < online ? &cpus[index] : NULL; }
uint64_t smp_bringup_us(void) { return last_online_us - first_sipi_us; }

unsigned smp_cpus_failed(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < madt.ncpus; i++)
		n += state[i] == CPU_NO_ANSWER || state[i] == CPU_NO_MEMORY ||
		     state[i] == CPU_NO_TRAMPOLINE;
	return n;
}

uint64_t smp_frames_held(void)
{
	uint64_t n = 0;

	for (unsigned i = 1; i < SMP_MAX_CPUS; i++)
		n += cpus[i].frames;
	return n;
}

/* The firmware's identity map reaches any range inside one row of the
 * memory list (memblock.h); anything else is not read. */
static const void *firmware_map(uint64_t pa, uint64_t len, void *ctx)
{
	const struct memblock *mb = ctx;

	for (size_t i = 0; i < mb->n; i++) {
		const struct memblock_range *r = &mb->r[i];
		if (pa >= r->start && pa < r->end && len <= r->end - pa)
			return (const void *)(uintptr_t)pa;
	}
	return NULL;
}

void smp_find_cpus(const struct boot_info *bi, const struct memblock *mb)
{
	int err = acpi_read_madt(bi->rsdp, firmware_map, (void *)mb, &madt, madt_bad);

	/* The SIPI vector is the page number in 8 bits: only a page-aligned
	 * address below 1 MiB can be started from.  The loader promises one;
	 * another loader might not. */
	trampoline = bi->trampoline < 0x100000 && !(bi->trampoline & (PAGE_SIZE - 1)) ?
		     bi->trampoline : 0;
	if (bi->trampoline && !trampoline)
		kprintf("smp: trampoline 0x%lX is not a page below 1 MiB: not used\n",
			bi->trampoline);
	if (err) {
		madt_problem = acpi_strerror(err);
		madt.ncpus = 0;
		kprintf("acpi: %s: %s; not trusted: running on one CPU\n", madt_bad, madt_problem);
		return;
	}
	madt_problem = NULL;
	kprintf("acpi: MADT at 0x%lX via the %s: %u processors, local APIC at 0x%lX\n",
		madt.madt_pa, madt.xsdt ? "XSDT" : "RSDT", madt.ncpus, madt.lapic_base);
}

/* A kernel stack and a double-fault stack, each with a guard page. */
static int give_stacks(struct cpu *c)
{
	uint64_t slot = AP_STACK_BASE + c->index * AP_STACK_SLOT;

	if (c->frames)
		return 0; /* kept from a CPU that did not answer */
	c->kstack_top = slot + AP_KSTACK_TOP;
	c->kstack_guard = c->kstack_top - AP_KSTACK_SIZE - PAGE_SIZE;
	c->ist_top = slot + AP_IST_TOP;
	/* Each stack is mapped below its top; the page under it stays
	 * unmapped: the guard.  No CPU has run on these pages yet, so an
	 * undo need not reach other CPUs' TLBs (not shared). */
	if (kmap_fresh(c->kstack_top - AP_KSTACK_SIZE, AP_KSTACK_SIZE, false) != 0)
		return -1;
	if (kmap_fresh(c->ist_top - AP_IST_SIZE, AP_IST_SIZE, false) != 0) {
		kmap_release(c->kstack_top - AP_KSTACK_SIZE, AP_KSTACK_SIZE, false);
		return -1;
	}
	c->frames = (AP_KSTACK_SIZE + AP_IST_SIZE) / PAGE_SIZE;
	return 0;
}

/* The first C an AP runs, on its own stack, on our page tables. */
static NORETURN void ap_main(struct cpu *c)
{
	gdt_init_cpu(&c->gdt, c->ist_top); /* reloading %gs zeroed the GS base */
	/* GS before the IDT: the exception handler's this_cpu() reads %gs:0,
	 * and with a zero base a fault would fault again, up to a triple
	 * fault that resets the whole machine without a word. */
	wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)c);
	idt_load();
	if (vm_info()->pat)
		wrmsr(MSR_PAT, PAT_KERNEL);
	if (vm_info()->pge)
		write_cr4(read_cr4() | CR4_PGE);
	lapic_enable_this_cpu();
	c->online_us = timer_us();
	__atomic_store_n(&c->online, 1, __ATOMIC_RELEASE);
	smp_idle(c);
}

static void put(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Copy the trampoline down and fill what every AP shares.  Returns 0,
 * or -1 when its page cannot be identity-mapped. */
static int prepare_trampoline(void)
{
	uint8_t *page = phys_to_virt(trampoline), *d = page + TRAMP_DATA;
	uint64_t pm32 = (uint64_t)(trampoline_pm32 - trampoline_start);
	uint64_t lm64 = (uint64_t)(trampoline_lm64 - trampoline_start);
	static const uint64_t gdt[4] = { 0, 0x00CF9A000000FFFFull, 0x00CF92000000FFFFull,
					 0x00AF9A000000FFFFull }; /* null, code32, data, code64 */

	_Static_assert(TD_GDT + sizeof(gdt) <= TD_END, "trampoline.h: the GDT overruns");
	if ((uint64_t)(trampoline_end - trampoline_start) > TRAMP_DATA)
		panic("smp: the trampoline's code overruns its data block");
	__builtin_memcpy(page, trampoline_start, (size_t)(trampoline_end - trampoline_start));
	put(d + TD_GDTR, sizeof(gdt) - 1, 2);
	put(d + TD_GDTR + 2, trampoline + TRAMP_DATA + TD_GDT, 4);
	put(d + TD_FAR32, trampoline + pm32, 4);
	put(d + TD_FAR32 + 4, TSEL_CODE32, 2);
	put(d + TD_FAR64, trampoline + lm64, 4);
	put(d + TD_FAR64 + 4, TSEL_CODE64, 2);
	put(d + TD_CR3_LOW, trampoline + PAGE_SIZE, 4);
	put(d + TD_EFER, EFER_LME | (vm_info()->nx ? EFER_NXE : 0), 4);
	put(d + TD_CR3, current_pml4(), 8);
	put(d + TD_ENTRY, (uint64_t)(uintptr_t)ap_main, 8);
	__builtin_memcpy(d + TD_GDT, gdt, sizeof(gdt));
	if (pt_map(current_pml4(), trampoline, trampoline, PAGE_SIZE, VM_EXEC) != 0)
		return -1;
	/* Page 1: our PML4's entries, the identity mapping just made included. */
	__builtin_memcpy(phys_to_virt(trampoline + PAGE_SIZE), phys_to_virt(current_pml4()),
			 PAGE_SIZE);
	return 0;
}

static bool wait_online(struct cpu *c, uint64_t us)
{
	uint64_t end = timer_us() + us;

	while (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE))
		if (timer_us() > end)
			return false;
		else
			cpu_relax();
	return true;
}

/* INIT-SIPI-SIPI one processor as CPU `online`.  Returns its state. */
static enum cpu_state start_one(const struct acpi_cpu *a)
{
	struct cpu *c = &cpus[online];
	uint8_t *d = (uint8_t *)phys_to_virt(trampoline) + TRAMP_DATA;
	uint32_t sipi = ICR_STARTUP | (uint32_t)(trampoline >> 12);

	c->self = c;
	c->index = online;
	c->apic_id = a->apic_id;
	c->online = 0;
	if (give_stacks(c) != 0)
		return CPU_NO_MEMORY;
	put(d + TD_STACK, c->kstack_top, 8);
	put(d + TD_ARG, (uint64_t)(uintptr_t)c, 8);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	lapic_send_ipi(a->apic_id, ICR_INIT);
	timer_delay_us(INIT_WAIT_US);
	if (!first_sipi_us)
		first_sipi_us = timer_us();
	lapic_send_ipi(a->apic_id, sipi);
	timer_delay_us(SIPI_WAIT_US);
	if (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE))
		lapic_send_ipi(a->apic_id, sipi);
	if (!wait_online(c, ONLINE_WAIT_US)) {
		lapic_send_ipi(a->apic_id, ICR_INIT); /* park it: it may not wake later */
		kprintf("smp: APIC id %u did not come online in %u ms; left alone\n", a->apic_id,
			ONLINE_WAIT_US / 1000);
		return CPU_NO_ANSWER;
	}
	last_online_us = c->online_us;
	online++;
	return CPU_ONLINE;
}

/* What to do with MADT entry i, before any start. */
static enum cpu_state classify(unsigned i, unsigned limit)
{
	const struct acpi_cpu *a = &madt.cpu[i];

	if (a->state == ACPI_CPU_DISABLED)
		return CPU_DISABLED;
	if (a->state == ACPI_CPU_ONLINE_CAPABLE)
		return CPU_OFFLINE_CAPABLE;
	/* An xAPIC's ICR holds 8 bits of destination, and 0xFF is the
	 * broadcast: an INIT meant for CPU 255 would reset every AP. */
	if (a->apic_id > 254 && !lapic_x2apic())
		return CPU_NEEDS_X2APIC;
	if (online >= limit)
		return CPU_NOT_STARTED;
	return trampoline ? CPU_TO_START : CPU_NO_TRAMPOLINE;
}

static void start_all(unsigned limit)
{
	bool ready = false;
	struct pt_gather tables = PT_GATHER_INIT;

	for (unsigned i = 0; i < madt.ncpus; i++) {
		if (madt.cpu[i].apic_id == cpus[0].apic_id) {
			state[i] = CPU_ONLINE; /* ourselves */
			continue;
		}
		state[i] = classify(i, limit);
		if (state[i] != CPU_TO_START)
			continue;
		if (!ready && !(ready = prepare_trampoline() == 0)) {
			kprintf("smp: cannot map the trampoline at 0x%lX\n", trampoline);
			trampoline = 0;
			state[i] = CPU_NO_TRAMPOLINE;
			continue;
		}
		index_of[i] = (uint8_t)online;
		state[i] = start_one(&madt.cpu[i]);
	}
	if (ready && pt_unmap_gather(current_pml4(), trampoline, PAGE_SIZE, &tables) == 0)
		tlb_shootdown(trampoline, PAGE_SIZE); /* every AP ran there */
	pt_gather_free(&tables); /* after the shootdown: no AP walks them now */
}

void smp_start(void)
{
	const struct boot_info *bi = kernel_boot_info();
	unsigned limit = bi->opts.smp_max ? bi->opts.smp_max : SMP_MAX_CPUS;

	timer_init();
	if (lapic_init() != 0) {
		kprintf("smp: cannot map the local APIC; running on one CPU\n");
		madt.ncpus = 0;
		return;
	}
	cpus[0].apic_id = lapic_id();
	if (madt_problem)
		return;
	start_all(limit < SMP_MAX_CPUS ? limit : SMP_MAX_CPUS);
	kprintf("smp: %u of %u CPUs online (%s), first SIPI to last online %lu us\n", online,
		madt.ncpus, lapic_x2apic() ? "x2APIC" : "xAPIC", smp_bringup_us());
}

static const char *state_name(enum cpu_state s)
{
	switch (s) {
	case CPU_ONLINE: return "online";
	case CPU_NOT_STARTED: return "not started (smp= limit)";
	case CPU_NO_ANSWER: return "no answer to INIT-SIPI-SIPI: left alone";
	case CPU_NO_MEMORY: return "not started: no memory for its stacks";
	case CPU_OFFLINE_CAPABLE: return "online-capable: not started at boot";
	case CPU_DISABLED: return "disabled in the MADT: never started";
	case CPU_NEEDS_X2APIC: return "not started: APIC id above 254 needs x2APIC mode";
	case CPU_NO_TRAMPOLINE: return "not started: no trampoline page below 1 MiB";
	case CPU_TO_START: break;
	}
	return "not started yet"; /* smp_start has not reached it */
}

void smp_print_cpus(void)
{
	kprintf("cpus: %u found, %u started\n", madt_problem ? 1 : madt.ncpus, online);
	if (madt_problem) {
		kprintf("cpu: APIC id %u: online as CPU 0 (no usable MADT: %s: %s)\n",
			cpus[0].apic_id, madt_bad, madt_problem);
		return;
	}
	for (unsigned i = 0; i < madt.ncpus; i++) {
		const struct acpi_cpu *a = &madt.cpu[i];
		kprintf("cpu: APIC id %u, ACPI uid %u, %s entry: %s", a->apic_id, a->uid,
			a->x2apic ? "x2APIC" : "local APIC", state_name(state[i]));
		if (state[i] == CPU_ONLINE)
			kprintf(" as CPU %u%s", index_of[i],
				a->apic_id == cpus[0].apic_id ? " (the boot CPU)" : "");
		kputs("\n");
	}
	if (madt.dropped || madt.duplicates)
		kprintf("cpu: %u more entries not kept, %u repeated ids\n", madt.dropped,
			madt.duplicates);
}
