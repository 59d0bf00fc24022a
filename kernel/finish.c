/*
 * finish.c - the end of a run, as the exit= option says.
 *
 *   qemu      write to QEMU's isa-debug-exit port (0xf4): 0x10 when all
 *             passed, 0x11 on failure, so QEMU exits (v << 1) | 1 = 33 / 35
 *             (the blog_os test-runner convention).
 *   shutdown  the default: ResetSystem(EfiResetShutdown).  A run that has
 *             finished its work powers off, so `make run` ends by itself
 *             and a real PC does not sit with its fans on.  Use exit=halt
 *             to keep the result on screen.
 *   reboot    ResetSystem(EfiResetCold).
 *   halt      print the result and stop the CPU with interrupts off.
 *
 * Each way falls back to the halt: a missing device or a ResetSystem that
 * returns still ends in a visible, stopped machine, never a reboot loop.
 */
#include "kernel.h"
#include "cpu.h"

#define QEMU_EXIT_PORT 0xf4
#define QEMU_EXIT_PASS 0x10
#define QEMU_EXIT_FAIL 0x11

static NORETURN void halt_forever(void)
{
	for (;;) {
		cli();
		hlt();
	}
}

/* The one firmware call the kernel makes, through the contract's own
 * runtime-services type (boot_info.h): no gnu-efi here. */
static void reset(enum boot_reset_type type, bool passed)
{
	const struct boot_info *bi = kernel_boot_info();
	struct boot_runtime_services *rt = bi ? bi->runtime_services : NULL;

	if (rt)
		rt->reset_system(type, passed ? BOOT_STATUS_SUCCESS : BOOT_STATUS_ABORTED, 0, NULL);
	kputs("finish: ResetSystem returned; halting instead\n");
}

void finish(bool passed)
{
	const struct boot_info *bi = kernel_boot_info();
	enum exit_mode mode = bi ? bi->opts.exit : EXIT_HALT;

	console_color(passed ? CON_OK : CON_BAD);
	kprintf("kernel: run %s", passed ? "PASSED" : "FAILED");
	console_color(CON_NORMAL);
	kputs("\n");
	console_pause("verdict");
	switch (mode) {
	case EXIT_QEMU:
		outl(QEMU_EXIT_PORT, passed ? QEMU_EXIT_PASS : QEMU_EXIT_FAIL);
		kputs("finish: no QEMU isa-debug-exit device; halting\n");
		break;
	case EXIT_SHUTDOWN:
		reset(BOOT_RESET_SHUTDOWN, passed);
		break;
	case EXIT_REBOOT:
		reset(BOOT_RESET_COLD, passed);
		break;
	case EXIT_HALT:
		break;
	}
	kputs("kernel: halted; it is safe to power off\n");
	halt_forever();
}
