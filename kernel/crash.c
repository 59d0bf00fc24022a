/*
 * crash.c - `BOOTX64.EFI crash KIND`: break a protection on purpose and
 * let the exception handler report it.  Seeing the report is how one
 * learns what each protection of our page tables does.
 *
 *   null            read address 0: page 0 is never mapped
 *   write-code      write to our own code: text is mapped read+execute
 *   exec-heap       jump into the heap: it is mapped no-execute
 *   stack-overflow  recurse until the stack hits its unmapped guard page;
 *                   the #PF cannot push its frame, so a #DF follows on
 *                   its own IST stack
 *   double-free     kfree the same block twice: the heap refuses the
 *                   second free and kfree panics, naming the pointer
 *   ap-null         CPU 1 reads address 0 (needs a second CPU) while
 *                   CPU 0 sends it shootdown NMIs: the report names
 *                   CPU 1, the boot CPU is stopped first
 */
#include "kernel.h"
#include "kheap.h"
#include "mmu.h" /* PAGE_SIZE */
#include "smp.h"

static volatile uint64_t sink;
static volatile uint64_t never = ~0ull; /* a bound the compiler cannot see through */

static NORETURN void crash_null(void)
{
	sink = *(volatile uint64_t *)(uintptr_t)sink; /* sink is 0 */
	panic("crash: reading address 0 did not fault");
}

static NORETURN void crash_write_code(void)
{
	volatile uint8_t *code = (volatile uint8_t *)(uintptr_t)&kernel_main;

	*code = 0xCC;
	panic("crash: writing to kernel code did not fault");
}

static NORETURN void crash_exec_heap(void)
{
	uint8_t *buf = kmalloc(16);

	if (!buf)
		panic("crash: no heap");
	buf[0] = 0xC3; /* ret */
	((void (*)(void))(uintptr_t)buf)();
	panic("crash: executing the heap did not fault");
}

static NORETURN void crash_double_free(void)
{
	void *p = kmalloc(32);

	kfree(p);
	kfree(p);
	panic("crash: a double free went unnoticed");
}

/* CPU 1 faults; meanwhile CPU 0 keeps sending shootdown NMIs, as a busy
 * kernel would, so one may reach CPU 1 while it reports: the report must
 * still come out (a late NMI once halted the reporting CPU itself). */
static void read_null(void *arg, unsigned cpu)
{
	(void)arg;
	if (cpu == 1) {
		sink = *(volatile uint64_t *)(uintptr_t)sink; /* sink is 0 */
		return;
	}
	for (uint64_t end = timer_us() + 2000000; timer_us() < end;)
		tlb_shootdown(0, PAGE_SIZE); /* page 0 is never mapped: harmless */
}

static NORETURN void crash_ap_null(void)
{
	if (smp_cpus_online() < 2)
		panic("crash: ap-null needs a second CPU (QEMU -smp 2, smp= not 1)");
	smp_run(2, read_null, NULL);
	panic("crash: CPU 1 read address 0 without a fault");
}

/* Each frame holds 1 KiB the compiler cannot drop. */
static uint64_t recurse(uint64_t depth)
{
	volatile uint8_t pad[1024];

	pad[depth % sizeof(pad)] = (uint8_t)depth;
	if (depth == never)
		return 0;
	return recurse(depth + 1) + pad[0];
}

static NORETURN void crash_stack_overflow(void)
{
	sink = recurse(0);
	panic("crash: the stack overflowed without a fault");
}

void crash(enum crash_kind kind)
{
	static const char *const names[] = { "none", "null", "write-code", "exec-heap",
					     "stack-overflow", "double-free", "ap-null" };

	if ((unsigned)kind < sizeof(names) / sizeof(names[0]))
		kprintf("crash: provoking '%s'\n", names[kind]);
	switch (kind) {
	case CRASH_NULL: crash_null();
	case CRASH_WRITE_CODE: crash_write_code();
	case CRASH_EXEC_HEAP: crash_exec_heap();
	case CRASH_STACK_OVERFLOW: crash_stack_overflow();
	case CRASH_DOUBLE_FREE: crash_double_free();
	case CRASH_AP_NULL: crash_ap_null();
	case CRASH_NONE: break;
	}
	panic("crash: unknown kind %d", (int)kind);
}
