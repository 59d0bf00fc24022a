/*
 * main.c - kernel_main, the boot story after ExitBootServices.
 *
 * From here on we own the machine: interrupts are off, boot services are
 * gone, and everything we use is ours or recorded in struct boot_info
 * (boot/boot_info.h, the contract; docs/contract.md).
 */
#include "kernel.h"
#include "cpu_tables.h"
#include "kheap.h"
#include "memblock.h"
#include "selftest.h"
#include "smp.h"
#include "vm.h"
#include "vmerr.h"

static struct boot_info info; /* our copy: lives in the image, always mapped */
static struct memblock map;   /* info's map as a list, in the map's buffer */
static bool booted;

/* Until our own IST stack is mapped, #DF runs on this one. */
static uint8_t early_df_stack[8192] __attribute__((aligned(16)));

const struct boot_info *kernel_boot_info(void)
{
	return booted ? &info : NULL;
}

const struct memblock *kernel_memblock(void)
{
	return booted ? &map : NULL;
}

/* The one read of the firmware's map: into the list everything else
 * uses, built in the map's own buffer (paging/memblock.h).  The loader's
 * planner built the list of a map fetched a moment earlier, so neither
 * panic is expected. */
static void read_map(void)
{
	uint64_t size = info.mmap_size;
	int err = memblock_build(&info, &map);

	if (err == VM_ENOMEM)
		panic("memblock: the memory map's overlaps split more ranges than its buffer holds");
	if (err)
		panic("memmap: the firmware's map is malformed (desc_size %lu, size %lu)",
		      info.desc_size, size);
}

static void run_command(void)
{
	bool passed = true;

	switch (info.opts.command) {
	case CMD_CRASH:
		crash(info.opts.crash); /* reports an exception and ends the run */
		break;
	case CMD_DEFAULT:
		demo();
		passed = selftest_run("");
		break;
	case CMD_SELFTEST:
		passed = selftest_run(info.opts.test_name);
		break;
	case CMD_MEMMAP:
		break; /* kernel_main printed the rows, before the list replaced them */
	case CMD_HEAPMAP:
		passed = heapmap_run();
		break;
	case CMD_CPUS:
		smp_print_cpus();
		break;
	}
	finish(passed);
}

/* The second half, on our own page tables and stack. */
static void kernel_main_paged(void)
{
	vm_print_layout();                   /* what we mapped, and where */
	memsummary_print_frames(&map);       /* all free memory is ours */
	vm_reclaim_boot_services();          /* the firmware's boot-time memory too */
	if (kheap_init(info.opts.heap_size) != 0)   /* map the heap window */
		panic("kheap: cannot map a %lu KiB heap at 0x%lX", info.opts.heap_size >> 10,
		      (uint64_t)HEAP_START);
	kprintf("kheap: %lu KiB at 0x%lX\n", info.opts.heap_size >> 10, (uint64_t)HEAP_START);
	smp_start();                         /* the other CPUs, as smp= allows */
	run_command();
}

/* Called by the loader when ExitBootServices kept failing (boot_info.h). */
void kernel_handoff_failed(const struct boot_info *bi, int tries, uint64_t status)
{
	serial_init();
	fbcon_init(&bi->fb);
	panic("loader: ExitBootServices failed %d times: status 0x%lX", tries, status);
}

void kernel_main(const struct boot_info *bi)
{
	char why[120];

	serial_init();              /* COM1 first: every later step can report */
	if (handoff_check(bi, why, sizeof(why)) != 0)
		panic("kernel: refusing the handoff: %s", why); /* before reading more of *bi */
	info = *bi;
	booted = true;
	console_serial_color(info.opts.screen & BOOT_SCREEN_SERIAL_COLOR); /* color=on */
	fbcon_init(&info.fb);       /* the screen, when the firmware gave one */
	kputs("kernel: boot services exited; the machine is ours\n");
	gdt_init((uint64_t)(uintptr_t)(early_df_stack + sizeof(early_df_stack)));
	smp_init_boot_cpu();        /* GS: this CPU's struct cpu */
	idt_init();                 /* from here a fault is reported, not a reboot */
	if (info.opts.command == CMD_MEMMAP)
		memsummary_print_rows(&info); /* the raw descriptors, while they exist */
	read_map();                 /* the memory map, sorted and merged, once */
	memsummary_print(&info, &map); /* what the firmware handed over */
	smp_find_cpus(&info, &map); /* the MADT, while the firmware's map reaches it */
	vm_init_and_switch(&info, &map, kernel_main_paged); /* our PML4, our stack */
}
