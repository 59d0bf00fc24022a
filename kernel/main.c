/*
 * main.c - kernel_main, the boot story after ExitBootServices.
 *
 * From here on we own the machine: interrupts are off, boot services are
 * gone, and everything we use is ours or recorded in struct boot_info.
 */
#include "kernel.h"

static struct boot_info info; /* our own copy: the loader's may be reused */

const struct boot_info *kernel_boot_info(void)
{
	return info.desc_size ? &info : NULL;
}

void kernel_main(const struct boot_info *bi)
{
	info = *bi;
	serial_init();              /* COM1 first: every later step can report */
	fbcon_init(&info.fb);       /* the screen, when the firmware gave one */
	kputs("kernel: boot services exited; the machine is ours\n");
	memmap_print_summary(&info); /* what the firmware handed over */
	finish(true);
}
