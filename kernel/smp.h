/*
 * smp.h - every CPU of the machine: found in the ACPI MADT (acpi.c),
 * started with INIT-SIPI-SIPI (smp.c), given work and told things by
 * NMI (smp_ipi.c).  docs/smp.md tells the story for students.
 *
 * CPU 0 is the boot CPU; the others are numbered in MADT order as they
 * start.  Each has a struct cpu (its "per-CPU data"), reached through
 * the GS base: this_cpu() is one load from %gs:0.
 *
 * Where the application processors' stacks live (slot 510 of the PML4,
 * above the boot CPU's stacks at paging/layout.h's STACK_REGION_BASE):
 *
 *   AP_STACK_BASE + i * AP_STACK_SLOT   (CPU i, i >= 1)
 *     +0x00000 .. unmapped (guard)
 *     kernel stack, AP_KSTACK_SIZE, top at +AP_KSTACK_TOP
 *     .. unmapped (guard)
 *     double-fault stack, AP_IST_SIZE, top at +AP_IST_TOP
 */
#ifndef SMP_H
#define SMP_H

#include "kernel.h"
#include "cpu_tables.h"
#include "layout.h"

#define SMP_MAX_CPUS   BOOT_SMP_MAX
#define AP_STACK_BASE  (STACK_REGION_BASE + (16ull << 20))
#define AP_STACK_SLOT  (1ull << 20)
#define AP_KSTACK_SIZE (32ull << 10)
#define AP_KSTACK_TOP  (512ull << 10)
#define AP_IST_SIZE    (16ull << 10)
#define AP_IST_TOP     AP_STACK_SLOT

/* What became of a processor the MADT lists (`cpus` prints these). */
enum cpu_state {
	CPU_ONLINE,          /* running our code */
	CPU_NOT_STARTED,     /* enabled, but smp=N or SMP_MAX_CPUS left it out */
	CPU_NO_ANSWER,       /* INIT-SIPI-SIPI sent, never came online: left alone */
	CPU_NO_MEMORY,       /* no frames for its stacks */
	CPU_OFFLINE_CAPABLE, /* online-capable in the MADT: not started at boot */
	CPU_DISABLED,        /* disabled in the MADT: never started */
	CPU_NO_TRAMPOLINE,   /* the loader found no page below 1 MiB */
	CPU_NEEDS_X2APIC,    /* APIC id above 254: an xAPIC cannot name it */
	CPU_TO_START,        /* inside smp_start only: to be sent INIT-SIPI-SIPI */
};

struct cpu {
	struct cpu *self;        /* offset 0: this_cpu() reads %gs:0 */
	uint32_t index;          /* 0: the boot CPU */
	uint32_t apic_id;
	volatile uint32_t online;       /* set by the CPU itself, last thing */
	uint64_t kstack_top, kstack_guard;
	uint64_t ist_top;
	uint64_t frames;         /* frames held for its stacks */
	uint64_t online_us;      /* timer_us() when it came online */
	struct cpu_gdt gdt;      /* its own GDT and TSS */
	/* Work (smp_ipi.c): the boot CPU bumps work_seq, the CPU runs
	 * work(arg, index) and copies work_seq to done_seq. */
	void (*volatile work)(void *arg, unsigned cpu);
	void *volatile work_arg;
	volatile uint32_t work_seq, done_seq;
	volatile uint32_t tlb_seen;     /* the last TLB shootdown it did */
	volatile uint32_t stopped;      /* halted for a panic */
};

/* True once the boot CPU's GS base holds its struct cpu (smp.c). */
extern bool smp_ready;

static inline struct cpu *this_cpu(void)
{
	struct cpu *c;

	__asm__ volatile("movq %%gs:0, %0" : "=r"(c));
	return c;
}

/* smp.c */
/* The boot CPU's struct cpu and GS base; call once, right after gdt_init. */
void smp_init_boot_cpu(void);
/* Read the MADT (the RSDP in bi), while the firmware's identity map
 * still reaches every table; only ranges inside a row of mb are read.
 * Prints what it found, or why not. */
struct memblock;
void smp_find_cpus(const struct boot_info *bi, const struct memblock *mb);
/* Start every CPU the MADT and smp= allow; on our own tables, after the
 * heap.  A CPU that does not answer is reported and left alone. */
void smp_start(void);
unsigned smp_cpus_online(void);  /* the boot CPU included */
struct cpu *smp_cpu(unsigned index);
uint64_t smp_frames_held(void);  /* frames of the APs' stacks */
uint64_t smp_bringup_us(void);   /* first SIPI to last CPU online */
/* Processors smp_start tried and could not start (no answer, no
 * memory, no trampoline): 0 when every one it should start runs. */
unsigned smp_cpus_failed(void);
/* `cpus`: the summary line and one line per processor of the MADT. */
void smp_print_cpus(void);

/* smp_ipi.c */
/* Run fn(arg, i) on CPUs 0 .. n-1 at the same time (this CPU, the boot
 * CPU, as CPU 0) and return when all have finished.  n is capped at
 * smp_cpus_online(). */
void smp_run(unsigned n, void (*fn)(void *arg, unsigned cpu), void *arg);
/* What an AP does when it has nothing to do: sleep until an NMI. */
NORETURN void smp_idle(struct cpu *c);
/* An NMI arrived (exceptions.c): do what it asks.  Returns normally
 * (then the interrupted code resumes) unless the machine is stopping. */
void smp_nmi(struct trap_frame *f);
/* Stop every other online CPU (an NMI they do not return from) before
 * reporting a fault or a panic, so reports do not interleave.  Only the
 * first CPU to call it goes on; any later one halts for good. */
void smp_stop_others(void);

/* lapic.c */
int lapic_init(void);             /* boot CPU: choose the mode, map it */
void lapic_enable_this_cpu(void); /* every other CPU, once */
bool lapic_x2apic(void);
uint32_t lapic_id(void);
void lapic_send_ipi(uint32_t apic_id, uint32_t icr);
#define ICR_INIT    0x00004500u /* INIT, level assert */
#define ICR_STARTUP 0x00004600u /* start-up; | the page number */
#define ICR_NMI     0x00004400u

/* timer.c: the TSC, calibrated against the PIT */
void timer_init(void);
uint64_t timer_us(void);
void timer_delay_us(uint64_t us);

#endif
