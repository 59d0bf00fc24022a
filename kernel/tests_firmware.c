/*
 * tests_firmware.c - self-tests of how the kernel meets the firmware:
 * global pages and the TLB flush at the switch, the PAT and memory types,
 * runtime code W^X from the EFI memory attributes table, and
 * boot-services memory given back to the frame allocator.
 */
#include "selftest.h"
#include "cpu.h"
#include "frames.h"
#include "memblock.h"
#include "mmu.h"
#include "pagetable.h"
#include "vm.h"
#include "vmerr.h"

static unsigned flags_at(uint64_t va)
{
	unsigned f = 0;

	EXPECT(pt_translate(current_pml4(), va, NULL, &f) == 0);
	return f;
}

/* Expect CR4.PGE on, and the kernel's own upper-half mappings (stack,
 * direct map) global while the identity-mapped image is not (the lower
 * half belongs to an address space, not to the kernel). */
static void firmware_global_pages(void)
{
	const struct vm_info *vm = vm_info();

	if (!vm->pge) {
		SKIP("CPUID says this CPU has no global pages");
		return;
	}
	EXPECT(read_cr4() & CR4_PGE);
	EXPECT(flags_at(vm->out.kstack_top - 8) & VM_GLOBAL);
	EXPECT(flags_at(DIRECT_MAP_BASE + vm->out.pml4) & VM_GLOBAL);
	EXPECT(!(flags_at((uint64_t)(uintptr_t)&firmware_global_pages) & VM_GLOBAL));
}

/* Expect our PAT loaded (mmu.h: the power-on table, entry 4 WC) and the
 * framebuffer window mapped write-combining through it. */
static void firmware_pat_memory_types(void)
{
	const struct vm_info *vm = vm_info();

	if (!vm->pat) {
		SKIP("CPUID says this CPU has no PAT");
		return;
	}
	EXPECT(rdmsr(MSR_PAT) == PAT_KERNEL);
	if (vm->out.fb_va)
		EXPECT((flags_at(vm->out.fb_va) & VM_CACHE_MASK) == VM_WRITECOMBINE);
	EXPECT((flags_at(DIRECT_MAP_BASE + vm->out.pml4) & VM_CACHE_MASK) == 0);
}

/* Expect, when the firmware published a memory attributes table, every
 * entry of it used, no runtime page writable and executable, and no row
 * exempt from W^X.  OVMF publishes one. */
static void firmware_runtime_code_wx(void)
{
	const struct boot_info *bi = kernel_boot_info();
	const struct layout_out *o = &vm_info()->out;
	size_t n;
	const struct layout_region *r = layout_regions(&n);

	if (!bi->mat) {
		SKIP("the firmware published no memory attributes table");
		return;
	}
	EXPECT(o->mat_entries == bi->mat_size / bi->mat_desc_size);
	EXPECT(o->rwx_pages == 0);
	for (size_t i = 0; i < n; i++)
		EXPECT(!r[i].wx_exempt);
}

/* Write-back boot-services pages of the list, page 0 left out (it is
 * never a frame); reclaim keeps the rest (paging/reclaim.h). */
static uint64_t boot_services_pages(const struct memblock *mb)
{
	uint64_t pages = 0;

	for (size_t i = 0; i < mb->n; i++) {
		const struct memblock_range *r = &mb->r[i];
		if (r->kind == MEMBLOCK_BOOT_SERVICES && memblock_is_wb_ram(r))
			pages += memblock_pages(r) - (r->start == 0);
	}
	return pages;
}

/* Expect every write-back boot-services page but page 0 given to the frame
 * allocator, the free count to have grown by exactly that, and the
 * firmware's old PML4 (boot-services data) to be a managed frame now. */
static void firmware_boot_services_reclaimed(void)
{
	const struct vm_info *vm = vm_info();
	uint64_t want = boot_services_pages(kernel_memblock());
	uint64_t old = vm->firmware_pml4;

	kprintf("# boot services: %lu pages, %lu frames added, free count +%lu\n", want,
		vm->reclaim.frames_added, vm->reclaim_gain);
	EXPECT(want > 0);
	EXPECT(vm->reclaim.frames_added == want);
	EXPECT(vm->reclaim_gain == want);
	EXPECT(frames_is_allocated(old) || frames_free(old) == VM_EEXIST); /* not VM_EINVAL */
}

const struct selftest firmware_tests[] = {
	{ "firmware_global_pages", firmware_global_pages },
	{ "firmware_pat_memory_types", firmware_pat_memory_types },
	{ "firmware_runtime_code_wx", firmware_runtime_code_wx },
	{ "firmware_boot_services_reclaimed", firmware_boot_services_reclaimed },
	{ NULL, NULL },
};
