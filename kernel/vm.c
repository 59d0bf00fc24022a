/*
 * vm.c - leave the firmware's page tables for our own.
 *
 * The firmware's tables are read-only and live in boot-services memory,
 * so we never edit them: layout_build (paging/) makes a complete new
 * space from free frames while the firmware's identity map still lets us
 * reach every frame by its physical address.  Then, in this order:
 * EFER.NXE (our tables use bit 63), CR0.WP (the kernel honours read-only
 * pages too), CR3, and a jump onto the new kernel stack, whose guard page
 * is unmapped.  From then on physical memory is reached through the
 * direct map.
 */
#include "vm.h"
#include "cpu.h"
#include "cpu_tables.h"
#include "frames.h"
#include "kheap.h"
#include "pagetable.h"
#include "phys.h"
#include "vmerr.h"

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

	cpuid(0x80000000u, r);
	if (r[0] < CPUID_EXT_FEATURES)
		return;
	cpuid(CPUID_EXT_FEATURES, r);
	vm.nx = r[3] & CPUID_EDX_NX;
	vm.gb_pages = r[3] & CPUID_EDX_1G_PAGES;
}

static void fill_input(const struct boot_info *bi, struct layout_input *in)
{
	*in = (struct layout_input){ 0 };
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
	/* The memory map buffer (EfiLoaderData) stays where boot_info says. */
	in->keep[in->nkeep++] = (struct layout_keep){ "memory map", (uint64_t)(uintptr_t)bi->mmap,
						      bi->mmap_size };
	in->nx = vm.nx;
	in->gb_pages = vm.gb_pages;
	in->rt_code_rx = false; /* OVMF keeps writable globals in runtime code */
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

/* First code on our own tables and stack: point everything that held a
 * physical or firmware address at its new home, then go on. */
static NORETURN void on_new_stack(void)
{
	paging_set_phys_offset(DIRECT_MAP_BASE);
	fbcon_relocate(vm.out.fb_va);
	gdt_set_ist(IST_DOUBLE_FAULT, vm.out.ist_stack_top); /* has a guard page */
	exceptions_set_guard(vm.out.kstack_guard);
	after_switch();
	panic("vm: the kernel's main path returned");
}

void vm_init_and_switch(const struct boot_info *bi, void (*next)(void))
{
	struct layout_input in;
	int err;

	detect_cpu();
	vm_set_nx_supported(vm.nx);
	vm_set_1g_supported(vm.gb_pages);
	if ((err = frames_init(bi)) != 0)
		panic("frames: cannot use the memory map: %a", vm_strerror(err));
	fill_input(bi, &in);
	if ((err = layout_build(&in, &vm.out)) != 0)
		panic("vm: building the kernel address space failed: %a", vm_strerror(err));
	if (vm.nx)
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	write_cr0(read_cr0() | CR0_WP);
	vm.firmware_cr3 = read_cr3();
	after_switch = next;
	switch_to(vm.out.pml4, vm.out.kstack_top, on_new_stack);
}

void vm_print_layout(void)
{
	size_t n;
	const struct layout_region *r = layout_regions(&n);

	kprintf("vm: our page tables are live: CR3 0x%lx (firmware's was 0x%lx), %ld table frames\n",
		vm.out.pml4, vm.firmware_cr3, (uint64_t)vm.out.page_tables);
	kprintf("vm: NX %a, 1 GiB pages %a, direct map %ld MiB at 0x%lx\n",
		vm.nx ? "on" : "off", vm.gb_pages ? "on" : "off", vm.out.direct_map_size >> 20,
		DIRECT_MAP_BASE);
	for (size_t i = 0; i < n; i++)
		kprintf("vm:   %-20a 0x%016lx %10ld KiB  %a%a%a\n", r[i].name, r[i].va, r[i].size >> 10,
			r[i].flags & VM_WRITE ? "RW" : "R-", r[i].flags & VM_EXEC ? "X" : "-",
			r[i].flags & VM_PAGE_1G ? " 1G" : r[i].flags & VM_PAGE_2M ? " 2M" : " 4K");
}

int64_t vm_frames_unaccounted(void)
{
	struct kheap_usage u;
	const struct layout_out *o = &vm.out;
	uint64_t tables = vm_count_tables(read_cr3() & ~0xFFFull);
	uint64_t stacks = (o->kstack_top - o->kstack_guard) / 4096 - 1 +
			  (o->ist_stack_top - o->ist_stack_guard) / 4096 - 1;

	kheap_usage(&u);
	return (int64_t)frames_total() -
	       (int64_t)(frames_free_count() + u.mapped / 4096 + tables + stacks + o->table_frames);
}
