/*
 * exceptions.c - what a CPU exception report says, and the end of the run.
 *
 * Every exception is fatal here: there is no user mode to kill and
 * nothing to retry.  The report names the vector, decodes the error code
 * (for #PF: present/write/user/instruction fetch), gives RIP and CR2, and
 * how the faulting address is mapped, so a student can see which
 * protection fired.  Then the run ends with failure status.  With
 * several CPUs, the others are stopped first and the report names the
 * CPU that faulted.  The one exception that is not fatal is the NMI:
 * the CPUs' own messages (smp_ipi.c), after which the handler returns.
 */
#include "kernel.h"
#include "cpu.h"
#include "cpu_tables.h"
#include "pagetable.h"
#include "smp.h"

static const char *const names[NUM_EXCEPTIONS] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor segment overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault", "#GP general protection",
	"#PF page fault", "reserved 15", "#MF x87 error", "#AC alignment check",
	"#MC machine check", "#XM SIMD error", "#VE virtualization",
	"#CP control protection", "reserved 22", "reserved 23", "reserved 24",
	"reserved 25", "reserved 26", "reserved 27", "#HV hypervisor injection",
	"#VC VMM communication", "#SX security", "reserved 31",
};

#define PF_PRESENT (1u << 0)
#define PF_WRITE   (1u << 1)
#define PF_USER    (1u << 2)
#define PF_FETCH   (1u << 4)

static uint64_t guard_page; /* the kernel stack's guard page, if any */

void exceptions_set_guard(uint64_t guard_va)
{
	guard_page = guard_va;
}

static void report_mapping(uint64_t va)
{
	uint64_t pa;
	unsigned flags;

	if (pt_translate(current_pml4(), va, &pa, &flags) != 0) {
		kprintf("  mapping: 0x%lX is not mapped\n", va);
		return;
	}
	kprintf("  mapping: 0x%lX -> phys 0x%lX, %s%s%s\n", va, pa,
		flags & VM_WRITE ? "writable" : "read-only",
		flags & VM_EXEC ? ", executable" : ", no-execute",
		flags & VM_USER ? ", user" : "");
}

static void report_page_fault(uint64_t err, uint64_t cr2)
{
	kprintf("  error code 0x%lX: %s, %s, %s%s\n", err,
		err & PF_PRESENT ? "protection violation" : "page not present",
		err & PF_FETCH ? "instruction fetch" : (err & PF_WRITE ? "write" : "read"),
		err & PF_USER ? "user mode" : "kernel mode",
		cr2 < 4096 ? " (NULL pointer dereference)" : "");
	kprintf("  CR2 = 0x%lX\n", cr2);
	report_mapping(cr2);
}

static bool in_page(uint64_t page, uint64_t va)
{
	return page && va >= page && va < page + 4096;
}

/* The boot CPU's kernel stack guard, or this AP's own. */
static bool in_guard_page(uint64_t va)
{
	return in_page(guard_page, va) || (smp_ready && in_page(this_cpu()->kstack_guard, va));
}

/* A fault while reporting a fault (the screen is unmapped, ResetSystem
 * faults) must not loop: the second time, say it on serial alone and
 * stop the CPU, without the consoles or the firmware. */
static NORETURN void nested_fault(void)
{
	serial_puts_raw("\nEXCEPTION while handling an exception; halting\n");
	for (;;)
		__asm__ volatile("cli; hlt");
}

static volatile int depth;

void exception_handler(struct trap_frame *f)
{
	uint64_t cr2 = read_cr2();
	const char *name = f->vector < NUM_EXCEPTIONS ? names[f->vector] : "unknown";

	if (f->vector == VEC_NMI && smp_ready) {
		smp_nmi(f); /* another CPU's message: handled, resume */
		return;
	}
	smp_stop_others(); /* one report at a time; a second faulting CPU halts here */
	if (depth++ > 0)
		nested_fault();
	kputs("\n");
	console_alert();
	kprintf("EXCEPTION: vector %lu, %s\n", f->vector, name);
	if (smp_ready)
		kprintf("  on CPU %u (APIC id %u) of %u online\n", this_cpu()->index,
			this_cpu()->apic_id, smp_cpus_online());
	kprintf("  RIP = 0x%lX  CS = 0x%lX  RFLAGS = 0x%lX\n", f->rip, f->cs, f->rflags);
	kprintf("  RSP = 0x%lX  error code = 0x%lX\n", f->rsp, f->error_code);
	if (f->vector == VEC_PAGE_FAULT)
		report_page_fault(f->error_code, cr2);
	if (f->vector == VEC_DOUBLE_FAULT) {
		kprintf("  CR2 = 0x%lX (the fault that could not be delivered)\n", cr2);
		if (in_guard_page(cr2) || in_guard_page(f->rsp))
			kputs("  kernel stack overflow: the stack ran into its guard page\n");
	}
	finish(false);
}
