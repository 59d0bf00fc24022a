/*
 * vm.c - leave the firmware's page tables for our own.
 *
 * The firmware's tables are read-only and live in boot-services memory,
 * so we never edit them: layout_build (paging/) makes a complete new
 * space from free frames while the firmware's identity map still lets us
 * reach every frame by its physical address.  Then, in this order:
 * EFER.NXE (our tables use bit 63), CR0.WP (the kernel honours read-only
 * pages too), the PAT (our memory types, mmu.h), CR4.PGE off (flushes
 * every TLB entry, the firmware's global ones too: a CR3 load alone
 * keeps them; Intel SDM 3A, 4.10.4.1), CR3, and a jump onto the new
 * kernel stack, whose guard page is unmapped; there CR4.PGE goes on, so
 * the kernel's global pages (upper half) stay in the TLB across later
 * CR3 loads.  From then on physical memory is reached through the direct
 * map, and boot-services memory is given to the frame allocator.
 */
#include "vm.h"
#include "cpu.h"
#include "cpu_tables.h"
#include "frames.h"
#include "kheap.h"
#include "mmu.h"
#include "pagetable.h"
#include "phys.h"
#include "reclaim.h"
#include "smp.h"
#include "vmerr.h"

#define CPUID_FEATURES     0x1u
#define CPUID_EDX_PGE      (1u << 13)
#define CPUID_EDX_PAT      (1u << 16)
#define CPUID_EXT_FEATURES 0x80000001u
#define CPUID_EDX_NX       (1u << 20)
#define CPUID_EDX_1G_PAGES (1u << 26)

/* Section bounds from efi/bootx64.lds. */
extern const char ImageBase[], __image_end[];
extern const char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern const char __data_start[], __data_end[];

static struct vm_info vm;
static void (*after_switch)(void);

const struct vm_info *vm_info(void)
{
	return &vm;
}

static struct layout_span span(const char *start, const char *end)
{
	return (struct layout_span){ (uint64_t)(uintptr_t)start, (uint64_t)(uintptr_t)end };
}

static void detect_cpu(void)
{
	uint32_t r[4];

	cpuid(CPUID_FEATURES, r);
	vm.pge = r[3] & CPUID_EDX_PGE;
	vm.pat = r[3] & CPUID_EDX_PAT;
	cpuid(0x80000000u, r);
	if (r[0] < CPUID_EXT_FEATURES)
		return;
	cpuid(CPUID_EXT_FEATURES, r);
	vm.nx = r[3] & CPUID_EDX_NX;
	vm.gb_pages = r[3] & CPUID_EDX_1G_PAGES;
}

static void fill_input(const struct boot_info *bi, const struct memblock *mb,
		       struct layout_input *in)
{
	*in = (struct layout_input){ 0 };
	in->map = mb;
	in->boot = bi;
	/* The linker's end can pass what the firmware loaded (objcopy drops
	 * .dynstr): map only the pages the image really occupies. */
	in->image = span(ImageBase, __image_end);
	if (bi->image_size && in->image.end > in->image.start + bi->image_size)
		in->image.end = in->image.start + bi->image_size;
	in->text = span(__text_start, __text_end);
	in->rodata = span(__rodata_start, __rodata_end);
	in->data = span(__data_start, __data_end);
	in->kstack_size = LAYOUT_KSTACK_SIZE;
	in->ist_stack_size = LAYOUT_IST_STACK_SIZE;
	/* The memory list, in the map's buffer (EfiLoaderData), stays
	 * where boot_info says. */
	in->keep[in->nkeep++] = (struct layout_keep){ "memory list", (uint64_t)(uintptr_t)mb->r,
						      mb->n * sizeof(*mb->r) };
	if (bi->mat) /* the copied memory attributes table, also EfiLoaderData */
		in->keep[in->nkeep++] = (struct layout_keep){ "memory attributes",
							      (uint64_t)(uintptr_t)bi->mat,
							      bi->mat_size };
	in->nx = vm.nx;
	in->gb_pages = vm.gb_pages;
	in->pat = vm.pat;
	/* Without the attributes table, RX would fault: OVMF keeps writable
	 * globals in runtime code.  With it, the table decides. */
	in->rt_code_rx = false;
}

/* Load CR3 and continue on the new stack; the old one is gone with the
 * firmware's tables. */
static NORETURN void switch_to(uint64_t pml4, uint64_t stack_top, void (*next)(void))
{
	__asm__ volatile("mov %0, %%cr3\n\t"
			 "mov %1, %%rsp\n\t"
			 "xor %%ebp, %%ebp\n\t"
			 "call *%2\n\t"
			 "ud2"
			 : : "r"(pml4), "r"(stack_top), "r"(next) : "memory");
	__builtin_unreachable();
}

/* First code on our own tables and stack: global pages on, point
 * everything that held a physical or firmware address at its new home,
 * then go on. */
static NORETURN void on_new_stack(void)
{
	if (vm.pge)
		write_cr4(read_cr4() | CR4_PGE); /* 0 -> 1 flushes the TLB again */
	paging_set_phys_offset(DIRECT_MAP_BASE);
	fbcon_relocate(vm.out.fb_va);
	gdt_set_ist(IST_DOUBLE_FAULT, vm.out.ist_stack_top); /* has a guard page */
	exceptions_set_guard(vm.out.kstack_guard);
	after_switch();
	panic("vm: the kernel's main path returned");
}

void vm_init_and_switch(const struct boot_info *bi, const struct memblock *mb,
			void (*next)(void))
{
	struct layout_input in;
	int err;

	detect_cpu();
	pt_set_nx_supported(vm.nx);
	pt_set_1g_supported(vm.gb_pages);
	if ((err = frames_init(mb)) != 0)
		panic("frames: cannot use the memory map: %s", vm_strerror(err));
	fill_input(bi, mb, &in);
	if ((err = layout_build(&in, &vm.out)) != 0)
		panic("vm: building the kernel address space failed: %s", vm_strerror(err));
	if (vm.nx)
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	write_cr0(read_cr0() | CR0_WP);
	/* Entries 0-3 keep their values, so the firmware's mappings, which
	 * normally use only PCD/PWT, mean the same until CR3 changes; the
	 * full flush below drops every entry cached with the old table. */
	if (vm.pat)
		wrmsr(MSR_PAT, PAT_KERNEL);
	vm.firmware_pge = read_cr4() & CR4_PGE;
	write_cr4(read_cr4() & ~CR4_PGE);
	vm.firmware_pml4 = current_pml4();
	after_switch = next;
	switch_to(vm.out.pml4, vm.out.kstack_top, on_new_stack);
}

void vm_reclaim_boot_services(void)
{
	uint64_t before = frames_free_count();
	int err = reclaim_boot_services(kernel_memblock(), &vm.reclaim);

	vm.reclaim_gain = frames_free_count() - before;
	kprintf("vm: boot-services memory reclaimed: %lu of %lu pages (%lu MiB), free frames "
		"%lu -> %lu\n", vm.reclaim.frames_added, vm.reclaim.boot_pages,
		vm.reclaim.frames_added >> 8, before, frames_free_count());
	if (err)
		kprintf("vm: %lu boot-services ranges kept: %s\n", vm.reclaim.ranges_refused,
			vm_strerror(err));
}

static const char *memory_type_name(unsigned flags)
{
	switch (flags & VM_CACHE_MASK) {
	case VM_NOCACHE: return "UC";
	case VM_WRITETHROUGH: return "WT";
	case VM_WRITECOMBINE: return "WC";
	default: return "WB";
	}
}

/* One line on how runtime code is mapped, and why. */
static void print_runtime_wx(void)
{
	const struct layout_out *o = &vm.out;

	if (o->mat_entries)
		kprintf("vm: runtime code W^X from the EFI memory attributes table (%lu entries): "
			"%lu RWX pages\n", (uint64_t)o->mat_entries, o->rwx_pages);
	else
		kprintf("vm: runtime code RWX, %lu pages: %s, so code and data pages of the "
			"firmware's runtime images cannot be told apart\n", o->rwx_pages,
			o->mat_invalid ? "the EFI memory attributes table is malformed"
				       : "no EFI memory attributes table");
}

void vm_print_layout(void)
{
	size_t n;
	const struct layout_region *r = layout_regions(&n);

	kprintf("vm: our page tables are live: CR3 0x%lX (firmware's was 0x%lX), %lu table frames\n",
		vm.out.pml4, vm.firmware_pml4, (uint64_t)vm.out.page_tables);
	kprintf("vm: NX %s, 1 GiB pages %s, direct map %lu MiB at 0x%lX\n",
		vm.nx ? "on" : "off", vm.gb_pages ? "on" : "off", vm.out.direct_map_size >> 20,
		(uint64_t)DIRECT_MAP_BASE);
	kprintf("vm: PAT %s, global pages %s (firmware left CR4.PGE %s)\n",
		vm.pat ? "WB WT UC- UC WC WT UC- UC" : "absent: framebuffer WT",
		vm.pge ? "on" : "absent", vm.firmware_pge ? "on" : "off");
	print_runtime_wx();
	for (size_t i = 0; i < n; i++)
		kprintf("vm:   %-20s 0x%016lX %10lu KiB  %s%s%s %s\n", r[i].name, r[i].va,
			r[i].size >> 10, r[i].flags & VM_WRITE ? "RW" : "R-",
			r[i].flags & VM_EXEC ? "X" : "-",
			r[i].flags & VM_PAGE_1G ? " 1G" : r[i].flags & VM_PAGE_2M ? " 2M" : " 4K",
			memory_type_name(r[i].flags));
}

int64_t vm_frames_unaccounted(void)
{
	struct kheap_usage u;
	const struct layout_out *o = &vm.out;
	uint64_t tables = pt_count_tables(current_pml4());
	uint64_t stacks = (o->kstack_top - o->kstack_guard) / 4096 - 1 +
			  (o->ist_stack_top - o->ist_stack_guard) / 4096 - 1;

	kheap_usage(&u);
	stacks += smp_frames_held(); /* the other CPUs' stacks */
	return (int64_t)frames_total() -
	       (int64_t)(frames_free_count() + u.mapped / 4096 + tables + stacks + o->table_frames);
}
