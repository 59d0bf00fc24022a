/*
 * smp_ipi.c - how CPUs tell each other things: work to run, TLB entries
 * to drop, stop.  All by NMI.
 *
 * This kernel never enables maskable interrupts, so an ordinary IPI
 * would wait forever; a non-maskable interrupt arrives whatever
 * RFLAGS.IF says, even to a CPU spinning on a lock with interrupts off
 * (which is what makes a TLB shootdown from inside the heap's lock
 * safe).  An NMI carries no message, so the handler looks at shared
 * state and does everything that is pending: stop, flush, wake.  NMIs
 * that arrive while one is being handled are merged into one, which the
 * "do everything pending" rule makes harmless.  The handler takes no
 * lock.
 */
#include "smp.h"
#include "cpu.h"
#include "mmu.h"
#include "spinlock.h"

#define FLUSH_ALL_PAGES 64 /* above this, flush the whole TLB instead */
#define STOP_WAIT_US 100000

/* isr.S: hlt unless *word != seen; the labels bound the window */
void smp_halt_unless(const volatile uint32_t *word, uint32_t seen);
extern const char smp_halt_hlt[], smp_halt_end[];

static struct spinlock shootdown_lock = SPINLOCK_INIT;
static volatile uint64_t sd_va, sd_size;
static volatile uint32_t sd_gen;
static volatile int stopper = -1;         /* index of the CPU that stops the rest */

static void flush_local(uint64_t va, uint64_t size)
{
	uint64_t cr4 = read_cr4();

	if (size / PAGE_SIZE <= FLUSH_ALL_PAGES) {
		for (uint64_t off = 0; off < size; off += PAGE_SIZE)
			invlpg(va + off);
	} else if (cr4 & CR4_PGE) {
		write_cr4(cr4 & ~CR4_PGE); /* global entries too */
		write_cr4(cr4);
	} else {
		write_cr3(read_cr3());
	}
}

void tlb_shootdown(uint64_t va, uint64_t size)
{
	struct cpu *me = smp_ready ? this_cpu() : NULL;
	uint32_t gen;

	flush_local(va, size);
	if (!me || smp_cpus_online() < 2)
		return;
	spin_lock(&shootdown_lock);
	sd_va = va;
	sd_size = size;
	gen = sd_gen + 1;
	__atomic_store_n(&sd_gen, gen, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < smp_cpus_online(); i++)
		if (smp_cpu(i) != me)
			lapic_send_ipi(smp_cpu(i)->apic_id, ICR_NMI);
	for (unsigned i = 0; i < smp_cpus_online(); i++) {
		struct cpu *c = smp_cpu(i);
		while (c != me && __atomic_load_n(&c->tlb_seen, __ATOMIC_ACQUIRE) != gen &&
		       !c->stopped)
			cpu_relax();
	}
	spin_unlock(&shootdown_lock);
}

void smp_nmi(struct trap_frame *f)
{
	struct cpu *c = this_cpu();
	uint32_t gen = __atomic_load_n(&sd_gen, __ATOMIC_ACQUIRE);

	int s = __atomic_load_n(&stopper, __ATOMIC_ACQUIRE);

	/* Every CPU but the one writing the report stops.  The reporter goes
	 * on: a shootdown or wake-up NMI sent before the others stopped may
	 * still reach it, and halting it here would lose the report. */
	if (s >= 0 && s != (int)c->index) {
		c->stopped = 1; /* NMIs stay blocked: no iret ever comes */
		for (;;)
			hlt();
	}
	if (c->tlb_seen != gen) {
		flush_local(sd_va, sd_size);
		__atomic_store_n(&c->tlb_seen, gen, __ATOMIC_RELEASE);
	}
	if (f->rip >= (uint64_t)(uintptr_t)smp_halt_unless &&
	    f->rip <= (uint64_t)(uintptr_t)smp_halt_hlt)
		f->rip = (uint64_t)(uintptr_t)smp_halt_end; /* woken before the hlt: skip it */
}

void smp_stop_others(void)
{
	int me = smp_ready ? (int)this_cpu()->index : 0, expected = -1;

	if (!__atomic_compare_exchange_n(&stopper, &expected, me, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		if (expected == me)
			return; /* a fault while reporting: we stopped them already */
		for (;;) /* another CPU is reporting; its NMI may be on the way */
			hlt();
	}
	for (unsigned i = 0; i < smp_cpus_online(); i++)
		if ((int)i != me)
			lapic_send_ipi(smp_cpu(i)->apic_id, ICR_NMI);
	uint64_t end = timer_us() + STOP_WAIT_US;
	for (unsigned i = 0; i < smp_cpus_online(); i++)
		while ((int)i != me && !smp_cpu(i)->stopped && timer_us() < end)
			cpu_relax();
}

NORETURN void smp_idle(struct cpu *c)
{
	for (;;) {
		uint32_t seq = __atomic_load_n(&c->work_seq, __ATOMIC_ACQUIRE);
		if (seq == c->done_seq) {
			smp_halt_unless(&c->work_seq, seq);
			continue;
		}
		c->work(c->work_arg, c->index);
		__atomic_store_n(&c->done_seq, seq, __ATOMIC_RELEASE);
	}
}

void smp_run(unsigned n, void (*fn)(void *arg, unsigned cpu), void *arg)
{
	if (n > smp_cpus_online())
		n = smp_cpus_online();
	for (unsigned i = 1; i < n; i++) {
		struct cpu *c = smp_cpu(i);
		c->work = fn;
		c->work_arg = arg;
		__atomic_store_n(&c->work_seq, c->work_seq + 1, __ATOMIC_RELEASE);
		lapic_send_ipi(c->apic_id, ICR_NMI); /* wake it */
	}
	fn(arg, 0);
	for (unsigned i = 1; i < n; i++) {
		struct cpu *c = smp_cpu(i);
		while (__atomic_load_n(&c->done_seq, __ATOMIC_ACQUIRE) != c->work_seq)
			cpu_relax();
	}
}
