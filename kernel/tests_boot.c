/*
 * tests_boot.c - self-tests of what the loader handed over and of the CPU
 * state the kernel set up.
 */
#include "selftest.h"
#include "cpu.h"
#include "cpu_tables.h"
#include "kheap.h"
#include "frames.h"
#include "memblock.h"
#include "pagetable.h"
#include "vm.h"

#define RUNTIME_SERVICES_SIGNATURE 0x56524553544e5552ull /* "RUNTSERV" (UEFI 4.5) */

/* Expect the frame allocator to manage conventional memory only (never
 * firmware, ACPI or runtime memory), and to have lost none of it to a
 * full range table.  Boot-services frames reclaimed after the switch
 * (vm_reclaim_boot_services, before any test) are managed too: they are
 * taken out of the count first.  The map's shape (descriptor size,
 * alignment) is not re-checked here: frames_init refused a bad map
 * before any test ran. */
static void boot_frames_only_conventional(void)
{
	struct memblock_summary s;
	struct frames_stats st;

	memblock_summarize(kernel_memblock(), &s);
	frames_get_stats(&st);
	uint64_t conventional = st.total - vm_info()->reclaim.frames_added;
	EXPECT(conventional + st.meta_frames <= s.pages[EFI_MEM_CONVENTIONAL]);
	/* Left out: page 0 at most, on a map whose rows do not overlap. */
	EXPECT(s.pages[EFI_MEM_CONVENTIONAL] - conventional - st.meta_frames <= 1);
}

/* Expect the runtime services table the loader saved to be mapped in our
 * tables and to carry its signature: exit=shutdown and exit=reboot call
 * ResetSystem through it. */
static void boot_runtime_services_mapped(void)
{
	const volatile uint64_t *signature =
		(const volatile uint64_t *)kernel_boot_info()->runtime_services;
	bool mapped = signature && pt_is_mapped(current_pml4(), (uint64_t)signature);

	EXPECT(mapped);
	if (mapped) /* reading it unmapped would fault, not fail a check */
		EXPECT(*signature == RUNTIME_SERVICES_SIGNATURE);
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
 * the heap window was first mapped with exactly heap= bytes.  (exit= is
 * proved from outside: the QEMU suite checks how each run ended.) */
static void boot_options_reached_kernel(void)
{
	const struct boot_info *bi = kernel_boot_info();
	struct kheap_usage u;

	kheap_usage(&u);
	EXPECT(u.initial == ((bi->opts.heap_size + 4095) & ~4095ull));
}

const struct selftest boot_tests[] = {
	{ "boot_frames_only_conventional", boot_frames_only_conventional },
	{ "boot_runtime_services_mapped", boot_runtime_services_mapped },
	{ "boot_interrupts_off", boot_interrupts_off },
	{ "boot_gdt_ours", boot_gdt_ours },
	{ "boot_options_reached_kernel", boot_options_reached_kernel },
	{ NULL, NULL },
};
