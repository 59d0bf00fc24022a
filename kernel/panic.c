/*
 * panic.c - a broken invariant: say what happened and stop cleanly.
 *
 * Interrupts go off first so nothing runs behind the report; finish()
 * then ends the run with failure status as the exit= option says.  A
 * panic inside a panic (say, the console faults) must not loop: the
 * second one skips straight to finish.  With several CPUs online, the
 * others are stopped first (smp_stop_others), so the report is not
 * interleaved with theirs; if two panic at once, one reports.
 */
#include "kernel.h"
#include "cpu.h"
#include "smp.h"

static volatile int panicking;

void panic(const char *fmt, ...)
{
	__builtin_va_list args;

	cli();
	smp_stop_others();
	if (panicking++ == 0) {
		kputs("\n");
		console_alert();
		kputs("PANIC: ");
		__builtin_va_start(args, fmt);
		vkprintf(fmt, args);
		__builtin_va_end(args);
		kputs("\n");
	}
	finish(false);
}
