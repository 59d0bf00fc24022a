/*
 * memsummary.c - print what the firmware handed over: the framebuffer,
 * ACPI and runtime services, and the memory map as the memory list has
 * it (descriptors, ranges, MiB per type, total conventional memory), and
 * what the frame allocator made of it.  The `memmap` command's raw rows
 * are the one place the kernel prints descriptors as the firmware gave
 * them.
 */
#include "kernel.h"
#include "frames.h"
#include "memblock.h"
#include "memmap.h"

static void print_firmware(const struct boot_info *bi)
{
	const struct framebuffer *fb = &bi->fb;

	if (fb->base)
		kprintf("boot: framebuffer %ux%u (stride %u pixels, %s) at 0x%lX\n", fb->width,
			fb->height, fb->stride, fb->format == FB_RGBX ? "RGBX" : "BGRX", fb->base);
	else
		kputs("boot: no framebuffer we can draw on: serial only\n");
	if (bi->rsdp)
		kprintf("boot: ACPI RSDP at 0x%lX (ACPI %s)\n", bi->rsdp,
			bi->rsdp_revision >= 2 ? "2.0+" : "1.0");
	kprintf("boot: runtime services at 0x%lX, image at 0x%lX (%lu KiB)\n",
		(uint64_t)(uintptr_t)bi->runtime_services, bi->image_base, bi->image_size >> 10);
}

void memsummary_print(const struct boot_info *bi, const struct memblock *mb)
{
	struct memblock_summary s;

	print_firmware(bi);
	memblock_summarize(mb, &s);
	kprintf("memmap: %lu entries (descriptor size %lu): %lu ranges, %lu runtime\n",
		(uint64_t)mb->descs, bi->desc_size, (uint64_t)mb->n, (uint64_t)s.runtime_ranges);
	for (uint32_t t = 0; t < EFI_MEM_NTYPES; t++) {
		uint64_t tenths = s.pages[t] * 4096 * 10 >> 20; /* MiB, one decimal */
		if (s.pages[t])
			kprintf("memmap:   %s: %lu.%lu MiB\n", memmap_type_name(t), tenths / 10, tenths % 10);
	}
	if (s.soft_reserved_pages) /* EFI_MEM_ATTR_SP: not ours (memblock.c) */
		kprintf("memmap:   specific-purpose, kept back: %lu MiB\n",
			s.soft_reserved_pages >> 8);
	kprintf("memmap: conventional memory %lu MiB, highest RAM address 0x%lX\n",
		s.pages[EFI_MEM_CONVENTIONAL] >> 8, s.ram_end);
}

/* Each descriptor of a map-shaped table as "<tag>(type, start, pages, attribute)". */
static void print_rows(const char *tag, const struct boot_info *map)
{
	for (size_t i = 0; i < memmap_count(map); i++) {
		const struct efi_mem_desc *d = memmap_desc(map, i);
		kprintf("%s(%u, 0x%016lX, 0x%08lX, 0x%016lX)\n", tag, d->type, d->phys_start,
			d->num_pages, d->attribute);
	}
}

void memsummary_print_rows(const struct boot_info *bi)
{
	/* The memory attributes table, viewed as a map of its own. */
	struct boot_info mat = { .mmap = bi->mat, .mmap_size = bi->mat_size,
				 .desc_size = bi->mat_desc_size };

	print_rows("FIX", bi);
	if (bi->mat && memmap_check(&mat) == 0)
		print_rows("MAT", &mat);
}

void memsummary_print_frames(const struct memblock *mb)
{
	struct memblock_summary s;
	struct frames_stats st;

	memblock_summarize(mb, &s);
	frames_get_stats(&st);
	kprintf("frames: %lu managed in %lu ranges, %lu of bookkeeping, "
		"%lu conventional pages left out\n", st.total, st.ranges, st.meta_frames,
		s.pages[EFI_MEM_CONVENTIONAL] - st.total - st.meta_frames);
}
