/*
 * tests_boot.c - self-tests of what the loader handed over and of the CPU
 * state the kernel set up.
 */
#include "selftest.h"
#include "cpu.h"
#include "cpu_tables.h"
#include "kheap.h"
#include "memmap.h"

/* Expect a sane map: descriptors at least 40 bytes, conventional memory. */
static void boot_info_memory_map(void)
{
	const struct boot_info *bi = kernel_boot_info();
	struct memmap_summary s;

	EXPECT(bi->desc_size >= sizeof(struct efi_mem_desc));
	EXPECT(bi->mmap_size % bi->desc_size == 0);
	EXPECT(memmap_summarize(bi, &s) == 0);
	EXPECT(s.conventional_bytes >= bi->opts.heap_size);
}

/* Expect interrupts off: we never set up interrupt controllers. */
static void boot_interrupts_off(void)
{
	EXPECT((read_rflags() & RFLAGS_IF) == 0);
}

/* Expect our selectors (OVMF's code selector was 0x38) and our TSS. */
static void boot_gdt_ours(void)
{
	uint16_t cs, tr;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	__asm__ volatile("str %0" : "=r"(tr));
	EXPECT(cs == SEL_KERNEL_CODE);
	EXPECT(tr == SEL_TSS);
	EXPECT(gdt_ist_stack(IST_DOUBLE_FAULT) != 0);
}

/* Expect the options the loader parsed to have reached us and been used:
 * the heap window was first mapped with exactly heap= bytes. */
static void boot_options_reached_kernel(void)
{
	const struct boot_info *bi = kernel_boot_info();
	struct kheap_usage u;

	kheap_usage(&u);
	EXPECT(u.initial == ((bi->opts.heap_size + 4095) & ~4095ull));
	EXPECT(bi->opts.exit <= EXIT_HALT);
	EXPECT(bi->opts.command == CMD_SELFTEST || bi->opts.command == CMD_DEFAULT);
}

const struct selftest boot_tests[] = {
	{ "boot_info_memory_map", boot_info_memory_map },
	{ "boot_interrupts_off", boot_interrupts_off },
	{ "boot_gdt_ours", boot_gdt_ours },
	{ "boot_options_reached_kernel", boot_options_reached_kernel },
	{ NULL, NULL },
};
